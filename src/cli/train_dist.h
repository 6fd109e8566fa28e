/* `loco train --algo ddp|diloco`: the flags of the many-worker simulator and
 * the entry point that train.c hands a validated run to. */
#ifndef LOCO_CLI_TRAIN_DIST_H
#define LOCO_CLI_TRAIN_DIST_H

#include <stdint.h>
#include "cli/args.h"
#include "cli/common.h"
#include "loco/loco.h"
#include "loco/metrics.h"
#include "loco/source.h"
#include "loco/split.h"

typedef struct {
    const char *algo;          /* NULL or "single": plain training */
    int workers, inner_steps, error_feedback;
    const char *outer_opt, *split, *labels, *compress, *schedule, *init;
    float outer_lr, outer_momentum, outer_beta2, prune, drop;
    float screen_k;            /* the norm screen's k (loco_outer_screen) */
    int fault_worker;          /* testing aid: the simulated worker that plays a faulty accelerator */
    float fault_value;
    float sim_step_time, sim_flops, net_gbps, net_latency_ms;
    /* --algo async */
    const char *rule, *stale, *speeds, *hetero;
    int period, dylu, shards;
    float stale_power, grace, jitter, preempt_prob, preempt_seconds;
    /* --algo dipaco */
    const char *modules, *router;
    int private_base, reset_inner, em_round;
    int route_topk;            /* paths per document (overlapping shards); 1: one path each */
} train_dist_args;

/* What train.c has already parsed and checked. */
typedef struct {
    loco_gpt_config cfg;       /* vocab_size and max_seq_len filled in */
    int B, T, steps, eval_every, eval_batches, log_every, threads;
    uint64_t seed;
    loco_adamw_config oc;      /* max_steps and min_lr filled in */
    const char *out, *tokenizer, *data_name;
    int cuda;                  /* --device cuda: the workers' inner steps run on the GPU */
} train_common;

void train_dist_defaults(train_dist_args *d);
/* Appends the simulator's flags to specs; returns how many. */
int train_dist_specs(train_dist_args *d, arg_spec *specs);
/* 1 if any simulator flag other than --algo was changed from its default. */
int train_dist_requested(const train_dist_args *d);
/* Runs the simulated run; returns the process exit status (1 run-time
 * failure, 2 bad usage). */
int train_dist_run(const train_dist_args *d, train_common *c, loco_source *src);

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
/* `--algo async` (src/cli/train_async.c); same contract as train_dist_run. */
int train_async_run(const train_dist_args *d, train_common *c, loco_source *src);

/* `--algo dipaco` (src/cli/train_dipaco.c); same contract as train_dist_run. */
int train_dipaco_run(const train_dist_args *d, train_common *c, loco_source *src);

/* Mean validation loss over n_batches batches drawn with a fixed seed (the
 * plain trainer's evaluation). */
float loco_cli_eval_loss(loco_gpt *m, const loco_source *src, int B, int T, int n_batches,
                         int *tok, int *tgt);

#endif
