/* What every run of `loco train` and `loco coordinator` shares between its
 * checked spec (src/cli/run_spec.h) and its loop: the data, the model's
 * shape, the shards of many workers, the warm start, the metrics log and
 * the saved global model (src/cli/run_setup.c). */
#ifndef LOCO_CLI_RUN_SETUP_H
#define LOCO_CLI_RUN_SETUP_H

#include <stddef.h>
#include <stdint.h>
#include "cli/run_spec.h"
#include "loco/loco.h"
#include "loco/metrics.h"
#include "loco/source.h"
#include "loco/split.h"

/* What a driver reads of the spec, once checked and prepared. */
typedef struct {
    loco_gpt_config cfg;       /* vocab_size and max_seq_len filled in */
    int B, T, steps, eval_every, eval_batches, log_every, threads;
    uint64_t seed;
    loco_adamw_config oc;      /* max_steps and min_lr filled in */
    const char *out, *tokenizer, *data_name;
    int cuda;                  /* --device cuda: the workers' inner steps run on the GPU */
} train_common;

/* The train_common of a prepared spec. */
train_common run_common(const run_spec *s);

/* Between run_spec_check and the loop: --steps' default, the model's shape
 * (from --init when given; an explicit shape flag that differs is refused),
 * the data and its vocabulary, the tokenizer, --threads and --out.  With
 * resumed, s->cfg, s->steps and the flags already come from the checkpoint.
 * Returns 0 with src open, or 1 (run time) or 2 (usage) with one line in
 * msg. */
int run_prepare(run_spec *s, int resumed, loco_source *src, char *msg, size_t msglen);

/* The training documents and their M shards.  Token shards keep their
 * documents; a byte corpus is cut into documents of 1 KiB, held here as
 * uint16 ids. */
typedef struct {
    loco_docs docs;
    loco_split *split;
    uint16_t *ids;        /* a byte corpus's tokens (NULL for token shards) */
    uint64_t *offsets;    /* its documents' offsets (NULL for token shards) */
} train_shards;

/* Opens the documents of src and splits them into M shards by d->split.
 * Returns 0, 2 (bad usage, e.g. more workers than documents) or 1, with a
 * reason in msg; ts is then safe to close. */
int train_shards_open(train_shards *ts, const train_dist_args *d, int M, const loco_source *src, uint64_t seed,
                      char *msg, size_t msglen);
void train_shards_close(train_shards *ts);
/* Human-readable bytes: "1.23 MB" (powers of 1000) into buf. */
const char *train_fmt_bytes(double b, char *buf, size_t n);
/* Reads the parameters of checkpoint path (--init) into a malloc'd array;
 * returns 0, or 1 with a reason in msg. */
int train_load_init(const char *path, const train_common *c, float **out, char *msg, size_t msglen);

/* Loads the run's tokenizer (spec, else the one the checkpoint resume
 * carries; neither: bytes) and checks that it has the data's vocab tokens.
 * Returns 0, or 1 (cannot load) or 2 (another vocabulary) with one line in
 * msg (src/cli/train_tokenizer.c). */
int train_check_tokenizer(const char *spec, const char *resume, int vocab, char *msg, size_t msglen);
/* Opens out/metrics.jsonl (nothing when out is NULL); returns 0, or 1 with a
 * reason in msg. */
int train_open_log(const char *out, loco_metrics **log, char *msg, size_t msglen);
/* At the end of a run with --out: saves the global model m (without
 * optimizer state) to out/model.safetensors atomically, closes *log and plots
 * it to out/loss.svg (a plot failure is only a warning, prefixed by who).
 * Returns 0, or 1 with a reason in msg if the checkpoint cannot be written. */
int train_save_global(const char *out, const char *who, loco_gpt *m, long step, const loco_adamw_config *oc,
                      uint64_t seed, const char *tokenizer, loco_metrics **log, char *msg, size_t msglen);

/* The seed of every evaluation's windows, on the CPU and on the device alike,
 * so that evaluations of one run compare the same text. */
#define LOCO_CLI_EVAL_SEED 12345

/* Mean validation loss over n_batches batches drawn with a fixed seed (the
 * plain trainer's evaluation). */
float loco_cli_eval_loss(loco_gpt *m, const loco_source *src, int B, int T, int n_batches,
                         int *tok, int *tgt);

#endif
