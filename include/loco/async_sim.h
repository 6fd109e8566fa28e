/*
 * The discrete-event simulator of asynchronous DiLoCo (Async Local-SGD):
 * workers of different speeds train on tasks and push their pseudo-gradients
 * when they finish; the server applies a rule from include/loco/async.h to
 * each push in simulated-time order, and the pushing worker starts its next
 * task from the newest global parameters at once (or, under the sync rule,
 * when the round's update has been applied).
 *
 * A task: the worker fetches theta, takes the least-visited data shard, and
 * runs H inner AdamW steps on it (with Dynamic Local Updates, H scaled by the
 * worker's measured speed over the fastest's); the inner learning rate
 * follows that shard's own step count.  Its duration is H times the worker's
 * seconds per step (times a jitter factor), plus a preemption pause if one
 * is drawn, plus the transfers.  The training itself is computed when the
 * task starts (its inputs are all known then) and its pseudo-gradient is
 * held until the push event.
 *
 * Event order: the next event is the earliest push; equal times go to the
 * lowest worker index.  With equal speeds and no jitter, workers therefore
 * push in index order, round after round.  See docs/async.md.
 */
#ifndef LOCO_ASYNC_SIM_H
#define LOCO_ASYNC_SIM_H

#include <stddef.h>
#include <stdint.h>
#include "loco/async.h"
#include "loco/diloco_msg.h"
#include "loco/loco.h"
#include "loco/split.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCO_ASYNC_MAX_WORKERS 1024

typedef struct {
    int workers;              /* M */
    int inner_steps;          /* H */
    long pushes;              /* the run ends after this many pushes */
    int batch, seq_len;
    loco_adamw_config inner;  /* the inner AdamW; its schedule runs over each shard's step count */
    loco_async_config rule;
    int dylu;                 /* 1: Dynamic Local Updates */
    int dylu_min;             /* DyLU's floor on H_w (5) */
    double grace;             /* > 0: pushes within this many seconds of a first one are averaged into one */
    double step_seconds[LOCO_ASYNC_MAX_WORKERS];  /* simulated seconds per inner step, per worker */
    double jitter;            /* each task's duration times exp(jitter * N(0, 1)) */
    double preempt_prob;      /* chance that a task starts with a preemption pause */
    double preempt_seconds;   /* the pause */
    double bandwidth, latency;  /* simulated links, bytes/s and seconds */
    uint64_t seed;
    /* Compressed pushes (include/loco/diloco_msg.h): each pseudo-gradient is
     * encoded with codec keeping the fraction keep (after adding the
     * worker's residual if error_feedback), and the server applies what
     * decodes.  Default fp32, keep 1, no feedback: the exact pseudo-gradient. */
    loco_codec codec;
    float keep;
    int error_feedback;
    int cuda;                 /* 1: the workers take their inner steps on the GPU (loco/cuda.h) */
    float screen_k;           /* drop a push whose norm exceeds screen_k times the median of recent
                                 accepted ones (loco_outer_screen); 0: only non-finite ones */
    int fault_worker;         /* a testing aid: this worker (-1: none) pushes from parameters all */
    float fault_value;        /* equal to fault_value, as a faulty accelerator would */
} loco_async_sim_config;

typedef struct {
    long pushes;              /* pushes handled so far */
    long updates;             /* times theta changed */
    int last_worker;          /* the worker of the last push */
    long last_staleness;      /* server updates between its fetch and its push */
    int last_steps;           /* inner steps of its task */
    float last_loss;          /* mean training loss of its task */
    double max_staleness, mean_staleness;
    long inner_steps;         /* inner steps of all workers so far */
    double bytes_up, bytes_down;
    double sim_seconds;       /* simulated time of the last event */
    long screened;            /* pushes the norm screen dropped so far */
} loco_async_sim_stats;

typedef struct loco_async_sim loco_async_sim;

/* Defaults: M = 4, H = 50, rule DN (period M), no DyLU (floor 5), no grace,
 * every worker 1 s per step, no jitter or preemption, 1 Gbit/s and 50 ms. */
void loco_async_sim_config_default(loco_async_sim_config *c);

/* Returns LOCO_EINVAL with a one-line reason. */
int loco_async_sim_config_check(const loco_async_sim_config *c, int shards, char *msg, size_t msglen);

/* Creates the simulator over a split of K >= 1 shards (borrowed); init (may
 * be NULL) is the starting theta.  Every buffer is allocated here, and the
 * first task of every worker is started (trained) at time 0.  Returns
 * LOCO_EINVAL / LOCO_ECONFIG (reason in msg), LOCO_ENOMEM, or a worker's
 * LOCO_ENONFINITE; with cuda, also the device's errors (LOCO_ENOTSUP,
 * LOCO_EDEVICE, LOCO_ENOMEM, reason in msg). */
int loco_async_sim_create(loco_async_sim **out, const loco_async_sim_config *c, const loco_gpt_config *g,
                          const float *init, const loco_split *split, char *msg, size_t msglen);
void loco_async_sim_free(loco_async_sim *s);

/* Handles the next push (or, with a grace period, the group of pushes that
 * land within it) and restarts the workers that pushed.  Returns LOCO_ERANGE
 * once the run has had its pushes, LOCO_ENONFINITE (reason in msg),
 * LOCO_EDEVICE (reason in msg) if the GPU fails. */
int loco_async_sim_next(loco_async_sim *s, char *msg, size_t msglen);

int loco_async_sim_done(const loco_async_sim *s);
const loco_async_sim_stats *loco_async_sim_get_stats(const loco_async_sim *s);
/* The configuration it was created with. */
const loco_async_sim_config *loco_async_sim_get_config(const loco_async_sim *s);
/* A model holding the current global theta (for evaluation); its parameters
 * are refreshed by this call. */
loco_gpt *loco_async_sim_model(loco_async_sim *s);

#ifdef __cplusplus
}
#endif
#endif
