/*
 * Models that leave loco, and models that come in: a GPT-2 as llama.cpp runs
 * it (GGUF) and as Hugging Face stores it (a folder with config.json and
 * model.safetensors).  docs/checkpoints.md describes both layouts.
 *
 * Every writer is a pure function of the model and the tokenizer: it prints
 * nothing and writes each file atomically (a temporary file beside it, fsync,
 * rename), refusing a path that holds something other than a regular file.
 * Errors: LOCO_EIO for the file system (reason naming the path), LOCO_EINVAL
 * for a model or folder loco cannot express (reason in msg), LOCO_ENOMEM.
 */
#ifndef LOCO_EXPORT_H
#define LOCO_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"
#include "loco/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The element type of the exported weight matrices.  Vectors (biases and
 * LayerNorm parameters) stay float32 in both, as llama.cpp's converter
 * writes them. */
typedef enum { LOCO_EXPORT_F32, LOCO_EXPORT_F16 } loco_export_dtype;

/* Writes model and tok as one GGUF file (version 3) for llama.cpp's "gpt2"
 * architecture: tensors token_embd, position_embd, blk.N.attn_norm,
 * attn_qkv, attn_output, ffn_norm, ffn_up, ffn_down, output_norm and output
 * (the tied LM head, written out as llama.cpp's converter does), the
 * hyperparameters under "gpt2.*", and the tokenizer as tokenizer.ggml.model
 * "gpt2", pre "gpt-2", tokens, token types and merges.  name goes into
 * general.name (may be NULL).  tok's vocabulary must have the model's size. */
int loco_export_gguf(const char *path, loco_gpt *model, const loco_tokenizer *tok, loco_export_dtype dtype,
                     const char *name, char *msg, size_t msglen);

/* Writes DIR/config.json, DIR/model.safetensors (Hugging Face GPT-2 names,
 * Conv1D weights stored (in, out)), DIR/generation_config.json,
 * DIR/tokenizer.json and DIR/tokenizer_config.json; DIR must exist. */
int loco_export_hf(const char *dir, loco_gpt *model, const loco_tokenizer *tok, loco_export_dtype dtype,
                   char *msg, size_t msglen);

/* The float -> IEEE half conversion of the f16 exports: round to nearest,
 * ties to even, overflow to infinity, subnormals kept. */
uint16_t loco_f32_to_f16(float x);
float loco_f16_to_f32(uint16_t h);

/* Is dir a Hugging Face GPT-2 folder (a directory holding config.json and
 * model.safetensors)?  1 or 0; never fails. */
int loco_hf_is_folder(const char *dir);

/* Reads DIR/config.json into cfg.  The model must be a GPT-2 loco can run:
 * tanh GELU ("gelu_new"), LayerNorm epsilon 1e-5, tied embeddings, inner
 * size 4C.  Returns LOCO_EINVAL naming the key otherwise. */
int loco_hf_read_config(const char *dir, loco_gpt_config *cfg, char *msg, size_t msglen);

/* Creates a model from DIR (config.json, model.safetensors with F32, F16 or
 * BF16 tensors, names with or without a "transformer." prefix) with room
 * for micro-batches of B x T.  Returns a loco_err with a reason naming the
 * file, *out NULL then. */
int loco_hf_load(const char *dir, loco_gpt **out, int B, int T, char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif
#endif
