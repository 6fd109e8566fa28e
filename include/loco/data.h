/*
 * Byte-level text data for the training demo: a corpus held in memory, split
 * into a training head and a validation tail, sampled into (B, T+1) windows.
 * Tokens are bytes (vocabulary 256).  Tokenizers and token shards build on
 * this in src/data.
 */
#ifndef LOCO_DATA_H
#define LOCO_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"

typedef struct {
    uint8_t *bytes;    /* the whole corpus */
    size_t n;          /* its length */
    size_t n_train;    /* bytes [0, n_train) train, [n_train, n) validate */
} loco_bytes_dataset;

/* Reads a whole file.  Returns LOCO_EIO (reason in msg, naming the file) if it
 * cannot be read, LOCO_EINVAL if either split would hold fewer than
 * min_split bytes. */
int loco_dataset_load(loco_bytes_dataset *d, const char *path, double val_frac,
                      size_t min_split, char *msg, size_t msglen);

/* Builds the embedded default corpus: n_bytes of lines "a+b=c" with random
 * two-digit a and b, a task a small model visibly learns.  Returns LOCO_ENOMEM
 * or LOCO_EINVAL (val_frac outside (0, 1)). */
int loco_dataset_synthetic(loco_bytes_dataset *d, size_t n_bytes, uint64_t seed,
                           double val_frac);

void loco_dataset_free(loco_bytes_dataset *d);

/* Fills tokens (B, T) and targets (B, T) with B windows drawn uniformly from
 * the chosen split (0 train, 1 validation); targets are the tokens shifted by
 * one.  The split must hold at least T + 1 bytes. */
void loco_dataset_batch(const loco_bytes_dataset *d, int split, loco_rng *rng,
                        int B, int T, int *tokens, int *targets);

#endif
