/*
 * Where training tokens come from: the byte-level corpus (a text file, or the
 * embedded addition corpus) or a pair of token shards (train and validation)
 * written by `loco data prepare`.  Both are sampled the same way, so training
 * and evaluation code does not care which one it has.
 */
#ifndef LOCO_SOURCE_H
#define LOCO_SOURCE_H

#include "loco/data.h"
#include "loco/loco.h"
#include "loco/shard.h"

typedef struct {
    int is_shards;
    loco_bytes_dataset bytes;     /* when !is_shards */
    loco_shard train, val;        /* when is_shards */
    int vocab_size;
} loco_source;

/* Opens a train/validation pair of shards (same vocabulary) with checksums
 * verified.  Returns a loco_err with a reason naming the file; either split
 * must hold at least min_tokens tokens. */
int loco_source_open_shards(loco_source *s, const char *train_path, const char *val_path,
                            uint64_t min_tokens, char *msg, size_t msglen);

/* Takes ownership of a byte-level dataset (vocabulary 256). */
void loco_source_from_bytes(loco_source *s, loco_bytes_dataset *d);

void loco_source_close(loco_source *s);

/* Tokens in a split (0 train, 1 validation). */
uint64_t loco_source_tokens(const loco_source *s, int split);

/* Copies n tokens of a split starting at position start (start + n must not
 * exceed loco_source_tokens). */
void loco_source_read(const loco_source *s, int split, uint64_t start, size_t n, int *out);

/* B windows of T + 1 tokens drawn uniformly from a split: tokens (B, T) and
 * targets (B, T), the same tokens shifted by one. */
void loco_source_batch(const loco_source *s, int split, loco_rng *rng, int B, int T,
                       int *tokens, int *targets);

#endif
