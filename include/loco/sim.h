/*
 * The many-worker simulator: M workers in one process, each with its own
 * parameters, AdamW state, data shard and random stream, trained by
 * synchronous data parallel (DDP) or by DiLoCo, with every byte a real
 * deployment would send counted and a simulated wall clock kept beside the
 * real one.
 *
 * DiLoCo (one round = one outer step t):
 *     each active worker i: theta_i = theta; H inner AdamW steps on its shard
 *     delta = (1/k) sum_i (theta - theta_i)   over the k contributions received
 *     theta = OuterOpt(theta, delta)           (loco_outer_step)
 * DDP (one round = one optimizer step): every worker computes the gradient of
 * its own batch, the gradients are averaged, and one AdamW step is applied to
 * the shared parameters.
 *
 * The simulator only moves numbers and time; the algorithms it calls (the
 * outer optimizer, the codecs, the compute schedule) are plain functions over
 * arrays in src/optim and src/algo, which the networked engine calls too.
 * Workers run in turn, each with all threads, in a fixed order, so a run is a
 * deterministic function of its configuration and seed.  See docs/diloco.md.
 */
#ifndef LOCO_SIM_H
#define LOCO_SIM_H

#include <stddef.h>
#include <stdint.h>
#include "loco/codec.h"
#include "loco/loco.h"
#include "loco/outer.h"
#include "loco/split.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LOCO_ALGO_DDP = 0, LOCO_ALGO_DILOCO = 1 } loco_algo;

/* Adaptive compute: how many of the M workers take part in each round. */
typedef enum {
    LOCO_SCHED_CONSTANT = 0,  /* M throughout */
    LOCO_SCHED_DOUBLING,      /* max(1, M/2) in the first half of the rounds, M after */
    LOCO_SCHED_HALVING,       /* M in the first half, max(1, M/2) after */
    LOCO_SCHED_RAMP_UP,       /* linear from 1 at the first round to M at the last */
    LOCO_SCHED_RAMP_DOWN      /* linear from M at the first round to 1 at the last */
} loco_schedule;

/* Parses "constant", "doubling", "halving", "ramp-up" or "ramp-down";
 * returns LOCO_EINVAL for anything else. */
int loco_schedule_parse(const char *name, loco_schedule *out);
const char *loco_schedule_name(loco_schedule s);
/* Active workers in round r (0-based) of n_rounds; always in [1, M]. */
int loco_schedule_active(loco_schedule s, int M, long r, long n_rounds);

/* Rounds of H inner steps that cover `steps` inner steps: ceil(steps / H)
 * (0 if steps < 1 or H < 1).  Every driver of a round-based run (the
 * simulators, the coordinators, the CLI's push counts) sizes its run here. */
long loco_round_count(long steps, long H);
/* Inner steps of round r: min(H, steps - r H), the last round taking what is
 * left; *first (if not NULL) gets r H, the schedule step of its first inner
 * step.  0 for a round past the end. */
long loco_round_steps(long steps, long H, long r, long *first);

/* The seed of data stream k (worker k's in the synchronous simulator, shard
 * k's in the asynchronous engines): (seed ^ 0x5eedda7a) + k.  Stream 0 is
 * the plain trainer's, so one worker sees the batches `loco train` would
 * draw; splitmix64 inside loco_rng_seed decorrelates the neighbours. */
uint64_t loco_stream_seed(uint64_t seed, int k);

typedef struct {
    loco_algo algo;
    int workers;              /* M */
    int inner_steps;          /* H (DiLoCo; DDP ignores it) */
    long steps;               /* inner steps per worker over the run (DDP: optimizer steps) */
    int batch, seq_len;       /* each worker's B and T */
    loco_adamw_config inner;  /* the inner AdamW; its schedule runs over `steps` */
    loco_outer_config outer;
    loco_codec codec;         /* pseudo-gradient encoding (DiLoCo) */
    float keep;               /* fraction of each tensor's pseudo-gradient kept, (0, 1] */
    int error_feedback;       /* 1: each worker adds back what its codec lost last time */
    float drop_prob;          /* each contribution lost with this probability */
    loco_schedule schedule;
    double step_seconds;      /* simulated compute time of one inner step of one worker */
    double bandwidth;         /* simulated bytes per second, per worker link and direction */
    double latency;           /* simulated one-way latency, seconds */
    uint64_t seed;            /* model initialisation (when no init), data and drops */
    int cuda;                 /* 1: DiLoCo's workers take their inner steps on the GPU (loco/cuda.h) */
    float screen_k;           /* drop a contribution whose norm exceeds screen_k times the robust
                                 reference (loco_outer_screen); 0: only non-finite ones */
    int fault_worker;         /* a testing aid: this worker (-1: none) sends parameters all equal to */
    float fault_value;        /* fault_value, as a faulty accelerator would */
} loco_sim_config;

typedef struct {
    long round, n_rounds;     /* rounds completed so far, and in all */
    long inner_step;          /* inner steps completed by an always-active worker */
    int active;               /* workers in the last round */
    int received;             /* contributions that arrived in the last round */
    long dropped_total;       /* contributions lost so far */
    int screened;             /* contributions the norm screen dropped in the last round */
    long screened_total;      /* and so far */
    float train_loss;         /* mean training loss of the last round */
    double bytes_up, bytes_down;  /* bytes sent so far, all workers */
    double sim_seconds;       /* simulated wall clock so far */
} loco_sim_stats;

typedef struct loco_sim loco_sim;

/* Fills the defaults: DiLoCo, M = 8, H = 100, outer Nesterov (0.7, 0.9),
 * fp32, keep 1, no error feedback, no drops, constant schedule, simulated
 * links of 1 Gbit/s with 50 ms latency, step time from 100 TFLOP/s. */
void loco_sim_config_default(loco_sim_config *c);

/* Checks a configuration against a split of `split_workers` shards; returns
 * LOCO_EINVAL with a one-line reason (H = 0, M = 0, p outside [0, 1], ...). */
int loco_sim_config_check(const loco_sim_config *c, int split_workers, char *msg, size_t msglen);

/* Creates a simulator.  init (num_params floats, may be NULL) is the starting
 * theta, e.g. from a checkpoint; NULL initialises from c->seed as
 * loco_gpt_create does.  The split is borrowed and must have M workers.
 * Every buffer of the run is allocated here.  Returns LOCO_EINVAL or
 * LOCO_ECONFIG (reason in msg), LOCO_ENOMEM; with cuda, also the device's
 * errors (LOCO_ENOTSUP, LOCO_EDEVICE, LOCO_ENOMEM, reason in msg), since
 * every worker's device model is made here. */
int loco_sim_create(loco_sim **out, const loco_sim_config *c, const loco_gpt_config *g,
                    const float *init, const loco_split *split, char *msg, size_t msglen);
void loco_sim_free(loco_sim *s);

/* Runs one round (DiLoCo: H inner steps per active worker and one outer
 * step; DDP: one step).  Allocates nothing.  Returns LOCO_ERANGE when the run
 * is already over, LOCO_ENONFINITE (reason in msg) when a worker's loss or
 * gradient is not finite, LOCO_EDEVICE (reason in msg) if the GPU fails. */
int loco_sim_round(loco_sim *s, char *msg, size_t msglen);

const loco_sim_stats *loco_sim_get_stats(const loco_sim *s);
/* Bytes worker w has sent (dir 0) or received (dir 1) so far. */
double loco_sim_worker_bytes(const loco_sim *s, int w, int dir);
/* Bytes of one worker's message per sync, up (dir 0) or down (dir 1). */
size_t loco_sim_message_bytes(const loco_sim *s, int dir);
/* A model whose parameters are the global theta between rounds (for
 * evaluation and checkpoints; its gradients and optimizer state belong to
 * worker 0). */
loco_gpt *loco_sim_model(loco_sim *s);

/* The seed of worker w's data stream: loco_stream_seed(seed, w). */
uint64_t loco_sim_worker_seed(uint64_t seed, int w);

#ifdef __cplusplus
}
#endif
#endif
