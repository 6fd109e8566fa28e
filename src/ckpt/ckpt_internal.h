/* Shared by the checkpoint writer and reader: the tensor table, metadata
 * encoding, and error formatting.  Not part of the public API. */
#ifndef LOCO_CKPT_INTERNAL_H
#define LOCO_CKPT_INTERNAL_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "loco/checkpoint.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoints are written by copying floats; a big-endian host needs byte swapping here"
#endif

/* Tensors in file order: the 16 parameter tensors, then (with optimizer
 * state) AdamW's m for each, then v for each. */
enum { LOCO__CKPT_GROUP_PARAM, LOCO__CKPT_GROUP_M, LOCO__CKPT_GROUP_V };
#define LOCO__CKPT_MAX_TENSORS (3 * LOCO_NUM_PARAM_TENSORS)

typedef struct {
    char name[32];        /* e.g. "wte", "h.qkvw", "adam.m.h.qkvw" */
    int group;            /* LOCO__CKPT_GROUP_* */
    int param;            /* LOCO_P_* index */
    int ndim;
    uint64_t shape[3];
    uint64_t numel;       /* product of shape; < 2^59 for any checked config */
} loco__ckpt_tensor;

/* Fills t with tensor k's name and shape under cfg (cfg must pass
 * loco_gpt_config_check).  Returns 0, or -1 for k out of range. */
int loco__ckpt_tensor_spec(const loco_gpt_config *cfg, int k, loco__ckpt_tensor *t);

/* Where tensor t's floats live in model m: its parameter block or its AdamW
 * state (m, then v), at the tensor's offset. */
float *loco__ckpt_data(const loco_gpt *m, const loco__ckpt_tensor *t);

/* Builds the __metadata__ object (all values strings).  Returns NULL when
 * memory runs out. */
cJSON *loco__ckpt_meta_encode(const loco_gpt_config *cfg, const loco_checkpoint_meta *meta,
                              int with_optimizer, long adam_t);

/* Decodes the __metadata__ object into cfg, meta (has_optimizer included)
 * and adam_t.  Returns LOCO_EINVAL naming the missing or malformed key, or
 * LOCO_ECONFIG if the configuration describes no model. */
int loco__ckpt_meta_decode(const cJSON *md, const char *path, loco_gpt_config *cfg,
                           loco_checkpoint_meta *meta, long *adam_t, char *msg, size_t msglen);

/* Writes "path: <reason>" into msg (if not NULL), with control characters
 * replaced so that it stays one line, and returns err. */
int loco__ckpt_fail(char *msg, size_t msglen, int err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Test hook: when >= 0, the writer fails with ENOSPC once this many bytes of
 * the temporary file have been written (a disk filling up mid-save). */
extern long long loco__ckpt_fail_after_bytes;

#endif
