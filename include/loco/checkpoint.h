/*
 * Checkpoints: a model, optionally its AdamW state, and everything a run
 * needs to resume exactly (step, data RNG state, optimizer configuration),
 * in one safetensors file (the Hugging Face format; see docs/checkpoints.md
 * for the layout, tensor names and metadata keys).
 *
 * Saving is atomic: the file is written to "<path>.tmp.<pid>" in the same
 * directory, flushed and fsync'd, renamed over path, and the directory is
 * fsync'd.  A failed save removes its temporary file and leaves any earlier
 * checkpoint at path as it was.
 *
 * Loading validates the whole header before reading a byte of tensor data:
 * header length, JSON, every metadata key, and every tensor's name, dtype,
 * shape (against the stored configuration) and byte range (the ranges must
 * tile the data section exactly).  Every failure writes a one-line reason
 * that starts with the file's path.
 *
 * Error codes: LOCO_EIO when the file cannot be opened, read, written, synced
 * or renamed; LOCO_EINVAL for a malformed file (or a NULL argument);
 * LOCO_ECONFIG for a stored configuration that describes no model, or a B, T
 * that do not fit it; LOCO_ENONFINITE when a loaded tensor holds a NaN or
 * Inf (or AdamW's v a negative value), which training never stores; LOCO_ENOMEM
 * when memory runs out.
 */
#ifndef LOCO_CHECKPOINT_H
#define LOCO_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"
#include "loco/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCO_CHECKPOINT_FORMAT "loco-1"   /* __metadata__["loco_format"] */

/* How the run that wrote a checkpoint was shaped, so that `loco train
 * --resume` continues it as it was (metadata keys "run.*"): batch 0 where
 * not known (a checkpoint written before these keys, or by a simulated
 * many-worker run), "" for a path not used or not known. */
typedef struct {
    int batch, seq_len;       /* B and T */
    int ckpt_every, eval_every, eval_batches, log_every;
    char data[256];           /* --data, or "" */
    char train_shard[256], val_shard[256];   /* --train-shard, --val-shard, or "" */
} loco_checkpoint_run;

/* The training state stored beside the tensors. */
typedef struct {
    long step;                /* optimizer steps taken: the next step's 0-based index */
    uint64_t rng_state[4];    /* the data loader's loco_rng state (loco_rng.s) */
    loco_adamw_config opt;    /* the optimizer configuration and schedule */
    uint64_t seed;            /* the run's initialisation seed (informational) */
    char tokenizer[256];      /* tokenizer path or id; "" for none (bytes) */
    const char *tokenizer_json;  /* save: the tokenizer.json text to embed, or NULL;
                                    load: always NULL (see loco_checkpoint_load_tokenizer) */
    int has_optimizer;        /* set by load: the file held AdamW m, v and adam_t
                                 (ignored by save, which takes with_optimizer) */
    loco_checkpoint_run run;  /* the run's shape (save: zeros and "" write no keys) */
} loco_checkpoint_meta;

/* Writes model (and, if with_optimizer, its AdamW moments and step count) and
 * meta to path atomically.  Returns LOCO_EIO (reason naming path) if the file
 * cannot be written, leaving an earlier file at path intact; LOCO_EINVAL for
 * a NULL argument or a tokenizer string that is not NUL-terminated. */
int loco_checkpoint_save(const char *path, loco_gpt *model, const loco_checkpoint_meta *meta,
                         int with_optimizer, char *msg, size_t msglen);

/* Creates a model from the configuration stored in path, with capacity for
 * micro-batches of B sequences of length T, and fills its parameters (and
 * AdamW state, if stored; otherwise it starts at zero) from the file.
 * meta_out may be NULL.  Returns a loco_err (see above) with *model_out NULL
 * and a reason naming path on any failure. */
int loco_checkpoint_load(const char *path, loco_gpt **model_out, int B, int T,
                         loco_checkpoint_meta *meta_out, char *msg, size_t msglen);

/* The tokenizer of checkpoint path: the one embedded in it (saved with
 * meta.tokenizer_json) if any, else the file meta.tokenizer names, looked
 * for as given and then beside the checkpoint (loco_tokenizer_load_beside),
 * so that a checkpoint copied with its tokenizer still finds it.  *out is
 * NULL for a byte-level model (meta.tokenizer ""), which is not an error.
 * Returns a loco_err with a reason naming the file. */
int loco_checkpoint_load_tokenizer(const char *path, loco_tokenizer **out, char *msg, size_t msglen);

/* Reads and validates only the header of path (every check above except
 * reading the tensor data) and returns the stored model configuration.
 * Returns a loco_err (see above) with a reason naming path on failure. */
int loco_checkpoint_read_config(const char *path, loco_gpt_config *cfg, char *msg, size_t msglen);

/* loco_checkpoint_read_config, and the stored training state in *meta as
 * loco_checkpoint_load gives it (either pointer may be NULL). */
int loco_checkpoint_read_meta(const char *path, loco_gpt_config *cfg, loco_checkpoint_meta *meta, char *msg,
                              size_t msglen);

#ifdef __cplusplus
}
#endif
#endif
