/* Internal to src/export: the one table that names loco's parameter tensors
 * in llama.cpp's and Hugging Face's GPT-2 layouts, shared by the GGUF and
 * safetensors writers and the Hugging Face reader, and a growable byte
 * buffer the writers build their headers in. */
#ifndef LOCO_EXPORT_INTERNAL_H
#define LOCO_EXPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "loco/export.h"

/* One parameter tensor under its outside names.  Per-layer tensors (layer
 * 1) take the block index in place of %d.  Matrices are stored (out, in) by
 * loco and GGUF, (in, out) by Hugging Face's Conv1D (conv1d 1): its four
 * projection weights are the transposes of loco's per-layer slices. */
typedef struct {
    int param;          /* LOCO_P_* */
    int layer;          /* 1: stacked over layers in loco, one tensor per block outside */
    int conv1d;         /* 1: Hugging Face stores the transpose */
    const char *gguf;   /* e.g. "blk.%d.attn_qkv.weight" */
    const char *hf;     /* e.g. "h.%d.attn.c_attn.weight" */
} loco__export_tensor;

extern const loco__export_tensor loco__export_tensors[LOCO_NUM_PARAM_TENSORS];

/* A growable byte buffer; a failed append sets oom and is otherwise ignored,
 * so that a writer checks once at the end. */
typedef struct {
    uint8_t *p;
    size_t n, cap;
    int oom;
} loco__buf;

void loco__buf_put(loco__buf *b, const void *data, size_t n);
void loco__buf_printf(loco__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends the JSON string literal of n bytes (quotes included). */
void loco__buf_json_str(loco__buf *b, const uint8_t *s, size_t n);
void loco__buf_free(loco__buf *b);

/* Appends token id of tok as its vocabulary text: special tokens as they
 * are, the others in GPT-2's byte-to-unicode alphabet (as vocab.json and
 * tokenizer.json write them). */
void loco__buf_token_text(loco__buf *b, const loco_tokenizer *tok, int id);

/* Checks that tok fits model (same vocabulary size); LOCO_EINVAL with a
 * reason otherwise. */
int loco__export_check(const loco_gpt *model, const loco_tokenizer *tok, char *msg, size_t msglen);

#endif
