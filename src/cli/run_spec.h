/* The run spec: every option of `loco train`, `loco coordinator` and `loco
 * worker`, declared once in one table (src/cli/run_spec.c) with its type,
 * default, range, help, and the commands and algorithms it applies to.  The
 * table gives the parser, --help, docs/cli.md and the refusal of options
 * that do not apply; the three commands share the struct it fills. */
#ifndef LOCO_CLI_RUN_SPEC_H
#define LOCO_CLI_RUN_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "cli/net_security.h"
#include "loco/loco.h"

/* The commands that read a run spec (bits, so that a row names several). */
typedef enum { RUN_TRAIN = 1, RUN_COORD = 2, RUN_WORKER = 4 } run_cmd;

/* The algorithms (bits).  A worker has none: it runs what its coordinator
 * sends. */
enum { ALGO_SINGLE = 1, ALGO_DDP = 2, ALGO_DILOCO = 4, ALGO_ASYNC = 8, ALGO_DIPACO = 16 };
/* Groups of them. */
enum {
    ALGO_ANY = ALGO_SINGLE | ALGO_DDP | ALGO_DILOCO | ALGO_ASYNC | ALGO_DIPACO,
    ALGO_MANY = ALGO_DDP | ALGO_DILOCO | ALGO_ASYNC | ALGO_DIPACO,   /* many workers */
    ALGO_NET = ALGO_DILOCO | ALGO_ASYNC | ALGO_DIPACO,              /* those that run over the network */
    ALGO_OUTER = ALGO_DILOCO | ALGO_ASYNC | ALGO_DIPACO,            /* those with an outer step */
    ALGO_PSEUDO = ALGO_DILOCO | ALGO_ASYNC,                         /* compressible pseudo-gradients */
};

/* The options of the simulated and networked algorithms (the part of the
 * spec that src/cli/train_dist.c, train_async.c and train_dipaco.c read). */
typedef struct {
    const char *algo;          /* single, ddp, diloco, async or dipaco */
    int workers, inner_steps, error_feedback;
    const char *outer_opt, *split, *labels, *compress, *schedule, *init;
    float outer_lr, outer_momentum, outer_beta2, prune, drop;
    float screen_k;            /* the norm screen's k (loco_outer_screen) */
    int fault_worker;          /* testing aid: the simulated worker that plays a faulty accelerator */
    float fault_value;         /* (loco worker: the value its own contributions take) */
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

/* Every option of the three commands. */
typedef struct {
    loco_gpt_config cfg;
    int B, T, steps, threads, eval_every, log_every, eval_batches, ckpt_every, stop_after;
    uint64_t seed;
    const char *data, *train_shard, *val_shard, *out, *resume, *tokenizer, *device, *launch;
    loco_adamw_config oc;
    float min_lr_frac;
    train_dist_args dist;
    /* the network */
    const char *listen, *endpoint_file;
    net_security_args sec;     /* --security, --secret-file, --key-file, --allow-file, --server-key */
    float round_timeout, heartbeat, worker_timeout, join_timeout, max_skew, lease_timeout;
    int quorum, min_workers, verbose;
    /* the worker's */
    const char *connect;
    int id;
    float timeout, give_up_after, slowdown;
    /* Not options: filled by run_spec_check from --device. */
    int cuda;
    char device_name[256];
} run_spec;

/* The spec's defaults for cmd. */
void run_spec_defaults(run_spec *s, run_cmd cmd);

/* Parses cmd's command line (and any --config FILE) into s: types, ranges
 * and choices from the table, then the refusal of an option set (to other
 * than its default) where it does not apply to cmd and the chosen --algo.
 * Returns 0, 2 with one line in msg, or -1 after printing --help. */
int run_spec_parse(run_spec *s, run_cmd cmd, int argc, char **argv, char *msg, size_t msglen);

/* The rules between options that a row cannot state (--train-shard goes
 * with --val-shard, --quorum <= --workers, ...), and --device cuda's
 * availability.  Returns 0, or 2 (bad usage) or 1 (no device) with one line
 * in msg. */
int run_spec_check(run_spec *s, run_cmd cmd, char *msg, size_t msglen);

/* The ALGO_ bit of s->dist.algo (0 for a worker). */
int run_spec_algo(const run_spec *s, run_cmd cmd);

/* cmd's --help, from the table. */
void run_spec_usage(FILE *f, run_cmd cmd);
/* The reference of the three commands as Markdown (docs/cli.md's run
 * sections). */
void run_spec_markdown(FILE *f);

#endif
