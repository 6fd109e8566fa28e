/* The one loop that drives every distributed engine (include/loco/engine.h)
 * for the commands: `loco train --algo ddp|diloco|async|dipaco` and `loco
 * coordinator` (src/cli/drive.c). */
#ifndef LOCO_CLI_DRIVE_H
#define LOCO_CLI_DRIVE_H

#include <stdint.h>
#include "loco/engine.h"
#include "loco/loco.h"
#include "loco/source.h"

typedef struct {
    const char *who;                /* the prefix of every line on stderr: "loco train" */
    loco_engine *engine;
    /* evaluation of the engine's model (none without one) */
    const loco_source *src;
    int B, T, eval_batches;
    /* the schedule, in the metrics' step (inner steps, or pushes) */
    long log_every;                 /* steps between progress lines (and "train" log lines) */
    long eval_every;                /* steps between evaluations; 0: at the end only */
    int log_all;                    /* 1: a "train" log line after every step, not only at progress lines */
    float screen_k;                 /* named when the norm screen drops a contribution */
    /* files */
    const char *out;                /* metrics.jsonl, the model or the result, the state (NULL: none) */
    const char *resume;             /* a directory whose engine state to continue from (NULL: afresh) */
    int ckpt_every;                 /* steps between engine states saved in out (0: none) */
    int ckpt_last;                  /* 1: the state (not only the result) is saved at the end as well */
    /* the final checkpoint of the global model */
    const loco_adamw_config *inner;
    uint64_t seed;
    const char *tokenizer;
    /* printing on stdout, all optional: the progress line (tokens per second
     * and the time left estimated), the evaluation line, and a hook after
     * every step's log lines (DiPaCo's re-routing), which returns 0 or an
     * exit status that stops the run */
    void (*progress)(void *ctx, const loco_engine_metrics *m, int tty, double tok_per_s, double eta_s);
    void (*eval)(void *ctx, const loco_engine_metrics *m, float val_loss);
    int (*after_step)(void *ctx, const loco_engine_metrics *m, int tty);
    void *ctx;
} drive_config;

typedef struct {
    float val_loss;                 /* the last evaluation's (NAN without a model) */
    double seconds;                 /* the run's wall time, a resumed run's earlier time included */
} drive_result;

/* Resumes (c->resume), opens OUT/metrics.jsonl, steps the engine to its end
 * with logs, evaluations, progress and checkpoints, and saves the result:
 * OUT/model.safetensors and its plot, or the engine's own result files.
 * Returns the exit status (0, or 1 after one line on stderr). */
int drive(const drive_config *c, drive_result *r);

/* 1 if dir holds the engine's state (dir may be NULL). */
int drive_has_state(const loco_engine *e, const char *dir);

#endif
