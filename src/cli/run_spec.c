/*
 * The run spec (src/cli/run_spec.h): one table of every option of `loco
 * train`, `loco coordinator` and `loco worker`, as redis declares its
 * configuration in one static_configs[] table.  A row gives the option's
 * name, type, field of run_spec, default, range (or accepted values), the
 * commands and algorithms it applies to, and its help.  From the table
 * come the parser (through src/cli/args.c, so --config FILE reads the same
 * names), each command's --help, the refusal of an option that does not
 * apply, and docs/cli.md (`loco help --markdown`).
 *
 * Adding an option is one row here and the field it fills in run_spec.h;
 * docs/architecture.md ("Adding an option") shows a worked example.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cli/args.h"
#include "cli/run_spec.h"
#include "loco/outer.h"

/* One option (or, with name NULL, a heading of --help and the docs). */
typedef struct {
    const char *name;     /* without the leading "--" */
    arg_kind kind;
    size_t off;           /* its field in run_spec */
    double def;           /* numbers; LIB: the library's default, set by run_spec_defaults */
    const char *sdef;     /* strings (NULL: none) */
    double lo, hi;        /* numbers: the accepted range, inclusive */
    const char *choices;  /* strings: "a|b|c", the accepted values (NULL: any) */
    unsigned cmds;        /* RUN_ bits */
    unsigned algos;       /* ALGO_ bits (not read for a worker) */
    const char *help;
} run_opt;

#define LIB NAN
#define F(field) offsetof(run_spec, field)
#define INT(n, field, def, lo, hi, cmds, algos, help) {n, ARG_INT, F(field), def, NULL, lo, hi, NULL, cmds, algos, help}
#define U64(n, field, def, lo, hi, cmds, algos, help) {n, ARG_U64, F(field), def, NULL, lo, hi, NULL, cmds, algos, help}
#define FLT(n, field, def, lo, hi, cmds, algos, help) {n, ARG_FLOAT, F(field), def, NULL, lo, hi, NULL, cmds, algos, help}
#define STR(n, field, def, cmds, algos, help) {n, ARG_STR, F(field), 0, def, 0, 0, NULL, cmds, algos, help}
#define ONE_OF(n, field, def, choices, cmds, algos, help) {n, ARG_STR, F(field), 0, def, 0, 0, choices, cmds, algos, help}
#define SECTION(title) {NULL, ARG_STR, 0, 0, NULL, 0, 0, NULL, 0, 0, title}

enum {
    T = RUN_TRAIN, C = RUN_COORD, W = RUN_WORKER, TC = T | C, TW = T | W, CW = C | W, TCW = T | C | W,
    SINGLE = ALGO_SINGLE, DDP = ALGO_DDP, DILOCO = ALGO_DILOCO, ASYNC = ALGO_ASYNC, DIPACO = ALGO_DIPACO,
    ANY = ALGO_ANY, MANY = ALGO_MANY, NET = ALGO_NET, OUTER = ALGO_OUTER, PSEUDO = ALGO_PSEUDO,
};

/* Options that differ between commands (--resume, --algo, --workers, ...)
 * have a row per command: the parser reads the row of the command at
 * hand, and --help shows it. */
static const run_opt opts[] = {
    SECTION("Data and output"),
    STR("data", data, NULL, TC, ANY, "text file to train on, byte level (default: embedded addition corpus)"),
    STR("data", data, NULL, W, ANY, "this host's copy of the run's text file (byte level)"),
    STR("train-shard", train_shard, NULL, TC, ANY, "token shard to train on (from loco data prepare)"),
    STR("train-shard", train_shard, NULL, W, ANY, "this host's copy of the run's training shard"),
    STR("val-shard", val_shard, NULL, TC, ANY, "token shard to validate on (with --train-shard)"),
    STR("val-shard", val_shard, NULL, W, ANY, "accepted and ignored (the coordinator validates)"),
    STR("tokenizer", tokenizer, NULL, TC, ANY, "tokenizer of the shards, recorded in the checkpoint"),
    STR("out", out, NULL, TC, ANY, "directory for model.safetensors (--algo dipaco: dipaco.json and a file per "
        "module), metrics.jsonl, loss.svg"),
    STR("resume", resume, NULL, T, SINGLE, "checkpoint to continue from (model, optimizer, data order)"),
    STR("resume", resume, NULL, C, DILOCO | ASYNC, "directory whose coord.state to continue (same flags)"),
    INT("ckpt-every", ckpt_every, 0, 0, 1e9, T, SINGLE, "steps between checkpoints (0: at the end only)"),
    INT("ckpt-every", ckpt_every, 0, 0, 1e9, C, NET, "rounds (--algo async: pushes) between state files in --out "
        "(0: none); resumes by itself from --out's"),
    INT("stop-after", stop_after, 0, 0, 1e9, T, SINGLE, "stop (and checkpoint) after this step (0: run to --steps)"),
    STR("init", dist.init, NULL, TC, ANY, "warm start: parameters (and model shape) from this checkpoint or Hugging "
        "Face GPT-2 folder"),

    SECTION("Model"),
    INT("layers", cfg.n_layer, 4, -1e9, 1e9, TC, ANY, "number of transformer blocks L"),
    INT("channels", cfg.channels, 128, -1e9, 1e9, TC, ANY, "embedding width C"),
    INT("heads", cfg.n_head, 4, -1e9, 1e9, TC, ANY, "attention heads NH (must divide C)"),
    INT("seq-len", T, 64, 1, 1e9, TC, ANY, "sequence length T"),
    INT("max-seq-len", cfg.max_seq_len, 0, -1e9, 1e9, TC, ANY, "position embeddings (0: = seq-len)"),
    INT("batch", B, 16, 1, 1e9, TC, ANY, "sequences per step B (per worker, or per path)"),

    SECTION("Optimizer and schedule"),
    INT("steps", steps, 0, 1, 1e9, TC, ANY, "training steps, per worker or path (0: 3000; on --resume, the "
        "checkpoint's)"),
    FLT("lr", oc.lr, 2e-3, 0, 10, TC, ANY, "peak learning rate"),
    FLT("min-lr-frac", min_lr_frac, 0.1, 0, 1, TC, ANY, "final learning rate as a fraction of --lr"),
    INT("warmup", oc.warmup_steps, 50, 0, 1e9, TC, ANY, "linear warm-up steps"),
    FLT("weight-decay", oc.weight_decay, LIB, 0, 10, TC, ANY, "AdamW decoupled weight decay (matrices only)"),
    FLT("beta1", oc.beta1, LIB, 0, 0.999999, TC, ANY, "AdamW beta1"),
    FLT("beta2", oc.beta2, LIB, 0, 0.999999, TC, ANY, "AdamW beta2"),
    FLT("grad-clip", oc.grad_clip, LIB, 0, 1e9, TC, ANY, "max global gradient norm (0: off)"),
    U64("seed", seed, 1337, 0, 1.8e19, TC, ANY, "seed for initialisation and data order"),
    INT("threads", threads, 0, 0, 1024, TCW, ANY, "threads (0: OMP_NUM_THREADS or all cores)"),
    ONE_OF("device", device, "cpu", "cpu|cuda", TW, ANY, "cuda: train on the GPU, alone or the inner steps of "
           "the workers of diloco, async and dipaco (a make CUDA=1 build; docs/cuda.md)"),

    SECTION("Evaluation and logging"),
    INT("eval-every", eval_every, 500, 0, 1e9, TC, ANY, "steps between validation evaluations (0: end only; "
        "--algo dipaco is evaluated by loco eval --dipaco)"),
    INT("eval-batches", eval_batches, 8, 1, 1e6, TC, ANY, "batches per validation evaluation"),
    INT("log-every", log_every, 100, 1, 1e9, TC, ANY, "steps between progress lines"),

    SECTION("Many workers (--algo)"),
    ONE_OF("algo", dist.algo, "single", "single|ddp|diloco|async|dipaco", T, ANY, "single: plain training; the others: "
           "simulated workers"),
    ONE_OF("algo", dist.algo, "diloco", "diloco|async|dipaco", C, NET, "the algorithm the workers run"),
    ONE_OF("launch", launch, NULL, "local", T, NET, "run as a coordinator and --workers worker processes on "
           "this host (docs/distributed.md)"),
    INT("workers", dist.workers, 1, 1, 1e6, T, DDP | DILOCO | ASYNC, "simulated workers M"),
    INT("workers", dist.workers, 1, 1, 1e6, C, NET, "workers M (--algo dipaco: the workers expected; any number "
        "may take tasks)"),
    INT("inner-steps", dist.inner_steps, 100, 1, 1e9, TC, OUTER, "inner steps H between outer steps"),
    ONE_OF("split", dist.split, "iid", "iid|kmeans|label", TC, MANY, "data across workers (or paths without "
           "--router; label: with --labels)"),
    STR("labels", dist.labels, NULL, TC, MANY, "file with one label per training document (--split label)"),
    ONE_OF("outer-opt", dist.outer_opt, "nesterov", "nesterov|sgd|adam", TC, DILOCO | DIPACO, "outer optimizer"),
    FLT("outer-lr", dist.outer_lr, LIB, 0, 1e9, TC, OUTER, "outer learning rate"),
    FLT("outer-momentum", dist.outer_momentum, LIB, 0, 0.999999, TC, OUTER, "outer momentum (Adam: beta1)"),
    FLT("outer-beta2", dist.outer_beta2, LIB, 0, 0.999999, TC, DILOCO | DIPACO, "outer Adam beta2"),
    ONE_OF("compress", dist.compress, "fp32", "fp32|fp16|bf16|int8|int8-row|int8-tensor", TC, PSEUDO,
           "pseudo-gradients' encoding (int8: per row)"),
    FLT("prune", dist.prune, 1, 0, 1, TC, PSEUDO, "keep this fraction (0, 1] of each pseudo-gradient tensor (top |x|)"),
    INT("error-feedback", dist.error_feedback, 0, 0, 1, TC, PSEUDO, "1: carry what compression lost into the next "
        "round"),
    FLT("screen-k", dist.screen_k, LOCO_SCREEN_K_DEFAULT, 0, 1e30, TC, PSEUDO, "drop a contribution whose norm is "
        "over this many times the others' median (0: only non-finite ones; docs/diloco.md)"),
    FLT("drop", dist.drop, 0, 0, 1, T, DILOCO, "probability that a worker's pseudo-gradient is lost"),
    ONE_OF("schedule", dist.schedule, "constant", "constant|doubling|halving|ramp-up|ramp-down", T, DILOCO,
           "active workers over the run"),
    INT("fault-worker", dist.fault_worker, -1, -1, 1e6, T, PSEUDO, "testing aid: this simulated worker (-1: none) "
        "sends parameters all equal to --fault-value, as a faulty accelerator would"),
    FLT("fault-value", dist.fault_value, 0, -3.4e38, 3.4e38, T, PSEUDO, "testing aid: see --fault-worker"),
    FLT("sim-step-time", dist.sim_step_time, 0, 0, 1e9, T, DDP | PSEUDO, "simulated seconds per inner step (0: from "
        "--sim-flops)"),
    FLT("sim-flops", dist.sim_flops, 100e12, 1, 1e30, T, DDP | PSEUDO, "simulated FLOP/s of a worker (step time = "
        "6 P B T / this)"),
    FLT("net-gbps", dist.net_gbps, 1, 1e-9, 1e9, T, DDP | PSEUDO, "simulated link bandwidth per worker and "
        "direction, Gbit/s"),
    FLT("net-latency-ms", dist.net_latency_ms, 50, 0, 1e9, T, DDP | PSEUDO, "simulated one-way latency, "
        "milliseconds"),

    SECTION("Asynchronous DiLoCo (--algo async)"),
    ONE_OF("rule", dist.rule, "dn", "sync|naive|buffer|dn", TC, ASYNC, "server rule (dn: Delayed Nesterov; over "
           "the network: not sync)"),
    INT("period", dist.period, 0, 0, 1e6, TC, ASYNC, "buffer size / DN momentum period N (0: --workers)"),
    ONE_OF("stale", dist.stale, "constant", "constant|poly", TC, ASYNC, "staleness weighting (poly: (1+s)^-power)"),
    FLT("stale-power", dist.stale_power, 0.5, -1e9, 1e9, TC, ASYNC, "the power of --stale poly"),
    INT("dylu", dist.dylu, 0, 0, 1, TC, ASYNC, "1: Dynamic Local Updates (H scaled by measured speed)"),
    INT("shards", dist.shards, 0, 0, 1e6, TC, ASYNC, "data shards, tasks take the least visited (0: --workers; "
        "over the network: --workers)"),
    FLT("grace", dist.grace, 0, 0, 1e9, T, ASYNC, "pushes within this many simulated seconds apply together"),
    ONE_OF("hetero", dist.hetero, "none", "none|slight|moderate|very", T, ASYNC, "worker speeds (docs/async.md)"),
    STR("speeds", dist.speeds, NULL, T, ASYNC, "seconds per inner step per worker, e.g. 0.58,0.75,1.51,3.33"),
    FLT("jitter", dist.jitter, 0, 0, 10, T, ASYNC, "task time times exp(jitter N(0,1))"),
    FLT("preempt-prob", dist.preempt_prob, 0, 0, 1, T, ASYNC, "chance a task starts with a preemption"),
    FLT("preempt-seconds", dist.preempt_seconds, 0, 0, 1e9, T, ASYNC, "length of a preemption"),

    SECTION("DiPaCo (--algo dipaco)"),
    STR("modules", dist.modules, NULL, TC, DIPACO, "levels as BLOCKSxMODULES, e.g. 1x4,1x4 (16 paths)"),
    STR("router", dist.router, NULL, TC, DIPACO, "router file (loco route fit) giving each document a path"),
    INT("private-base", dist.private_base, 0, 0, 1, TC, DIPACO, "1: embeddings and final norm per path"),
    INT("reset-inner", dist.reset_inner, 0, 0, 1, TC, DIPACO, "1: every (path, round) task starts afresh (over the "
        "network: required)"),
    INT("em-round", dist.em_round, 0, 0, 1e9, T, DIPACO, "after this round, re-route by the paths' losses (0: never)"),
    INT("route-topk", dist.route_topk, 1, 1, 256, T, DIPACO, "give each document to its K best paths (overlapping "
        "shards)"),

    SECTION("Network"),
    STR("listen", listen, NULL, C, NET, "ZeroMQ endpoint to bind: tcp://0.0.0.0:PORT, tcp://127.0.0.1:*, ipc://PATH"),
    STR("connect", connect, NULL, W, ANY, "the coordinator's endpoint: tcp://HOST:PORT or ipc://PATH (default: "
        "LOCO_COORDINATOR, or under srun the allocation's first node, port LOCO_COORDINATOR_PORT or 5555)"),
    ONE_OF("security", sec.security, NULL, "mac|curve|both", CW, ANY, "mac: the run's secret authenticates every "
           "message; curve: CURVE encrypts and authenticates the connection (none: curve on tcp://, mac on ipc://)"),
    STR("secret-file", sec.secret_file, NULL, CW, ANY, "file holding the run's secret, at least 16 bytes (--security "
        "mac or both)"),
    STR("key-file", sec.key_file, NULL, C, NET, "this coordinator's CURVE key pair, from loco keygen (--security "
        "curve or both)"),
    STR("key-file", sec.key_file, NULL, W, ANY, "this worker's CURVE key pair, from loco keygen (--security curve or "
        "both)"),
    STR("allow-file", sec.allow_file, NULL, C, NET, "the workers' CURVE public keys that may connect: their .pub "
        "files, concatenated"),
    STR("server-key", sec.server_key, NULL, W, ANY, "the coordinator's CURVE public key: its .pub file (--security "
        "curve or both)"),
    STR("endpoint-file", endpoint_file, NULL, C, NET, "write the bound endpoint (with its port) here"),
    INT("min-workers", min_workers, 0, 0, 1e6, C, NET, "workers that must join before round 1 (0: --workers; "
        "--algo dipaco: none)"),
    FLT("join-timeout", join_timeout, 0, 0, 1e9, CW, ANY, "seconds to wait for --min-workers (a worker: to keep "
        "trying to join); 0: forever"),
    FLT("round-timeout", round_timeout, 0, 0, 1e9, C, DILOCO | ASYNC, "seconds after which a round closes with a "
        "quorum (0: never)"),
    INT("quorum", quorum, 0, 0, 1e6, C, DILOCO | ASYNC, "contributions that close a round at its deadline (0: "
        "--workers)"),
    FLT("heartbeat", heartbeat, 1, 0.001, 3600, C, NET, "seconds between heartbeats"),
    FLT("worker-timeout", worker_timeout, 30, 0.01, 1e9, C, NET, "seconds of silence after which a worker is dead "
        "(--algo dipaco: and its lease goes back to the queue)"),
    FLT("lease-timeout", lease_timeout, 3600, 0.01, 1e9, C, DIPACO, "seconds a lease lasts before its task goes "
        "back to the queue"),
    FLT("max-skew", max_skew, 300, 1, 1e9, C, NET, "seconds a HELLO's timestamp may differ from this clock"),
    INT("id", id, -1, -1, 1e6, W, ANY, "worker id (= shard) to ask for (default: the launcher's rank, SLURM_PROCID, "
        "OMPI_COMM_WORLD_RANK or JOB_COMPLETION_INDEX; else -1, any free one)"),
    FLT("timeout", timeout, 30, 0, 1e9, W, ANY, "seconds of silence from the coordinator before joining again (0: "
        "never)"),
    FLT("give-up-after", give_up_after, 600, 0, 1e9, W, ANY, "seconds without any coordinator before exiting (0: "
        "never)"),
    INT("verbose", verbose, 0, 0, 1, CW, ANY, "1: a line per worker joining, leaving or dying (a worker: its own "
        "joins and leaves)"),
    FLT("slowdown", slowdown, 0, 0, 60, W, ANY, "testing aid: seconds to sleep after each inner step, to make a "
        "slow worker (DyLU, stragglers)"),
    FLT("fault-value", dist.fault_value, 0, -3.4e38, 3.4e38, W, ANY, "testing aid: send parameters all equal to "
        "this value (0: off), as a faulty accelerator or a hostile worker would; the coordinator's screen drops them"),
};
enum { N_OPTS = (int)(sizeof opts / sizeof opts[0]) };

static const char *const cmd_names[] = {"", "loco train", "loco coordinator", "", "loco worker"};
static const char *const algo_names[] = {"single", "ddp", "diloco", "async", "dipaco"};

static void *field(run_spec *s, const run_opt *o) { return (char *)s + o->off; }
static const void *cfield(const run_spec *s, const run_opt *o) { return (const char *)s + o->off; }

/* The row of name that cmd reads: its own, else the first (for a refusal). */
static const run_opt *row_of(const char *name, run_cmd cmd) {
    const run_opt *first = NULL;
    for (int i = 0; i < N_OPTS; i++) {
        if (!opts[i].name || strcmp(opts[i].name, name)) continue;
        if (opts[i].cmds & cmd) return &opts[i];
        if (!first) first = &opts[i];
    }
    return first;
}

/* 1 for the first row of each name, in the table's order (the others
 * share its field). */
static int first_of_name(int i) {
    for (int k = 0; k < i; k++)
        if (opts[k].name && opts[i].name && !strcmp(opts[k].name, opts[i].name)) return 0;
    return opts[i].name != NULL;
}

void run_spec_defaults(run_spec *s, run_cmd cmd) {
    memset(s, 0, sizeof *s);
    loco_adamw_config_default(&s->oc, 0);
    loco_outer_config ou;
    loco_outer_config_default(&ou);
    s->dist.outer_lr = ou.lr;
    s->dist.outer_momentum = ou.momentum;
    s->dist.outer_beta2 = ou.beta2;
    s->cfg.vocab_size = 256;
    for (int i = 0; i < N_OPTS; i++) {
        const run_opt *o = &opts[i];
        if (!o->name || row_of(o->name, cmd) != o || (o->kind != ARG_STR && isnan(o->def))) continue;
        switch (o->kind) {
        case ARG_INT: *(int *)field(s, o) = (int)o->def; break;
        case ARG_U64: *(uint64_t *)field(s, o) = (uint64_t)o->def; break;
        case ARG_FLOAT: *(float *)field(s, o) = (float)o->def; break;
        case ARG_STR: *(const char **)field(s, o) = o->sdef; break;
        }
    }
}

int run_spec_algo(const run_spec *s, run_cmd cmd) {
    if (cmd == RUN_WORKER || !s->dist.algo) return 0;
    for (int k = 0; k < 5; k++)
        if (!strcmp(s->dist.algo, algo_names[k])) return 1 << k;
    return 0;
}

/* 1 if the option of row o holds the same value in a and b. */
static int same_value(const run_opt *o, const run_spec *a, const run_spec *b) {
    const void *x = cfield(a, o), *y = cfield(b, o);
    switch (o->kind) {
    case ARG_INT: return *(const int *)x == *(const int *)y;
    case ARG_U64: return *(const uint64_t *)x == *(const uint64_t *)y;
    case ARG_FLOAT: return *(const float *)x == *(const float *)y;
    case ARG_STR: break;
    }
    const char *p = *(const char *const *)x, *q = *(const char *const *)y;
    return p == q || (p && q && !strcmp(p, q));
}

/* "diloco, async or dipaco" for the ALGO_ bits of mask. */
static const char *algo_list(unsigned mask, char *buf, size_t n) {
    char bars[128] = "";
    for (int k = 0; k < 5; k++)
        if (mask & (1u << k)) snprintf(bars + strlen(bars), sizeof bars - strlen(bars), "%s%s", *bars ? "|" : "",
                                       algo_names[k]);
    return args_choices_text(bars, buf, n);
}

/* Why option name, set in s, does not apply to cmd with algorithm algo
 * (NULL: it does). */
static const char *why_not(const char *name, run_cmd cmd, int algo, char *buf, size_t n) {
    unsigned cmds = 0, algos = 0;
    for (int i = 0; i < N_OPTS; i++) {
        if (!opts[i].name || strcmp(opts[i].name, name)) continue;
        cmds |= opts[i].cmds;
        if (opts[i].cmds & cmd) algos |= opts[i].algos;
    }
    char list[128], mine[64];
    if (!(cmds & cmd)) {
        char bars[96] = "";
        for (int k = RUN_TRAIN; k <= RUN_WORKER; k <<= 1)
            if (cmds & (unsigned)k)
                snprintf(bars + strlen(bars), sizeof bars - strlen(bars), "%s%s", *bars ? "|" : "", cmd_names[k]);
        snprintf(buf, n, "--%s applies to %s, not %s", name, args_choices_text(bars, list, sizeof list),
                 cmd_names[cmd]);
        return buf;
    }
    if (cmd == RUN_WORKER || (algos & (unsigned)algo)) return NULL;
    snprintf(buf, n, "--%s applies to --algo %s, not %s", name, algo_list(algos, list, sizeof list),
             algo_list((unsigned)algo, mine, sizeof mine));
    return buf;
}

int run_spec_parse(run_spec *s, run_cmd cmd, int argc, char **argv, char *msg, size_t msglen) {
    run_spec_defaults(s, cmd);
    arg_spec specs[N_OPTS];
    const char *choices[N_OPTS];
    int n = 0;
    for (int i = 0; i < N_OPTS; i++) {
        if (!first_of_name(i)) continue;
        const run_opt *o = row_of(opts[i].name, cmd);
        choices[n] = o->choices;
        specs[n++] = (arg_spec){o->name, o->kind, field(s, o), o->lo, o->hi, o->help};
    }
    int r = args_parse_choices(specs, choices, n, argc, argv, NULL, msg, msglen);
    if (r == 1) {
        run_spec_usage(stdout, cmd);
        return -1;
    }
    if (r < 0) return 2;
    /* An option that does not apply is refused when it is set to anything
     * but its default, so that one --config file (or the command line
     * that `loco train --launch local` hands on) may serve several. */
    run_spec z;
    run_spec_defaults(&z, cmd);
    const int algo = run_spec_algo(s, cmd);
    for (int i = 0; i < N_OPTS; i++) {
        if (!first_of_name(i)) continue;
        const run_opt *o = row_of(opts[i].name, cmd);
        if (!same_value(o, s, &z) && why_not(o->name, cmd, algo, msg, msglen)) return 2;
    }
    return 0;
}

/* The default of row o in s, as --help and the docs show it. */
static const char *default_text(const run_opt *o, const run_spec *s, char *buf, size_t n) {
    const void *v = cfield(s, o);
    switch (o->kind) {
    case ARG_INT: snprintf(buf, n, "%d", *(const int *)v); break;
    case ARG_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)v); break;
    case ARG_FLOAT: snprintf(buf, n, "%g", *(const float *)v); break;
    case ARG_STR: snprintf(buf, n, "%s", *(const char *const *)v ? *(const char *const *)v : "none"); break;
    }
    return buf;
}

static const char *heads[] = {
    "",
    "usage: loco train [flags]\n\nTrains a GPT-2 style model on bytes or token shards, alone or as\n"
    "M simulated workers (--algo ddp|diloco|async|dipaco; docs/diloco.md, docs/async.md, docs/dipaco.md).\n"
    "With --launch local --workers M, as a coordinator and M worker processes\non this host (docs/distributed.md).",
    "usage: loco coordinator --listen ENDPOINT --workers M [security flags] [loco train flags]\n\n"
    "Holds theta and the outer optimizer of a DiLoCo run whose workers are `loco worker`\n"
    "processes on this or other hosts (docs/distributed.md).  With --algo dipaco it holds\n"
    "a DiPaCo run's modules and leases (path, round) tasks (docs/dipaco.md, \"Over the wire\").\n"
    "On tcp:// the connections are encrypted with CURVE: --key-file (this coordinator's\n"
    "key pair) and --allow-file (the workers' public keys), from `loco keygen`; on ipc://\n"
    "every message carries a MAC keyed by --secret-file.  --security changes either.",
    "",
    "usage: loco worker --connect ENDPOINT [security flags] [--train-shard F | --data F]\n\n"
    "Joins a `loco coordinator` and trains the tasks it sends (docs/distributed.md);\n"
    "with --device cuda, their inner steps on the GPU (docs/cuda.md).  On tcp:// the\n"
    "connection is encrypted with CURVE: --key-file (this worker's key pair) and\n"
    "--server-key (the coordinator's public key), from `loco keygen`; on ipc:// every\n"
    "message carries a MAC keyed by --secret-file.  --security changes either.",
};

/* The algorithms of row o for --help: "" when all of the command's. */
static const char *algos_text(const run_opt *o, run_cmd cmd, char *buf, size_t n) {
    unsigned all = cmd == RUN_COORD ? NET : ANY;
    if (cmd == RUN_WORKER || (o->algos & all) == all) return "";
    char list[96];
    snprintf(buf, n, "--algo %s", algo_list(o->algos & all, list, sizeof list));
    return buf;
}

void run_spec_usage(FILE *f, run_cmd cmd) {
    run_spec s;
    run_spec_defaults(&s, cmd);
    fprintf(f, "%s\n\nFlags (default in brackets; an option set where it does not apply is refused):\n", heads[cmd]);
    fprintf(f, "  --%-16s %s\n", "config FILE", "read flags from FILE, one 'name = value' per line; the command line wins");
    const char *section = NULL;
    for (int i = 0; i < N_OPTS; i++) {
        const run_opt *o = &opts[i];
        if (!o->name) { section = o->help; continue; }
        if (!(o->cmds & cmd)) continue;
        if (section) fprintf(f, "\n%s:\n", section);
        section = NULL;
        char def[64], alg[128], choice[160] = "";
        if (o->choices) snprintf(choice, sizeof choice, "%s: ", o->choices);
        const char *a = algos_text(o, cmd, alg, sizeof alg);
        fprintf(f, "  --%-16s %s%s [%s]%s%s%s\n", o->name, choice, o->help, default_text(o, &s, def, sizeof def),
                *a ? " (" : "", a, *a ? ")" : "");
    }
}

/* A table cell: '|' escaped. */
static void cell(FILE *f, const char *t) {
    for (; *t; t++) fputs(*t == '|' ? "\\|" : (char[]){*t, 0}, f);
}

void run_spec_markdown(FILE *f) {
    const run_cmd cmds[] = {RUN_TRAIN, RUN_COORD, RUN_WORKER};
    for (int c = 0; c < 3; c++) {
        run_cmd cmd = cmds[c];
        run_spec s;
        run_spec_defaults(&s, cmd);
        fprintf(f, "## %s\n\n```\n%s\n```\n\n`--config FILE` reads options from FILE, one `name = value` per line "
                "(`#` starts a comment); the command line wins.\n", cmd_names[cmd], heads[cmd]);
        const char *section = NULL;
        for (int i = 0; i < N_OPTS; i++) {
            const run_opt *o = &opts[i];
            if (!o->name) { section = o->help; continue; }
            if (!(o->cmds & cmd)) continue;
            if (section)
                fprintf(f, "\n### %s\n\n| option | default | accepts | %shelp |\n| --- | --- | --- | %s--- |\n",
                        section, cmd == RUN_WORKER ? "" : "algorithms | ", cmd == RUN_WORKER ? "" : "--- | ");
            section = NULL;
            char def[64], alg[128], range[160];
            if (o->choices) snprintf(range, sizeof range, "%s", o->choices);
            else if (o->kind == ARG_STR) snprintf(range, sizeof range, "text");
            else if (o->lo <= -1e9 && o->hi >= 1e9) snprintf(range, sizeof range, "any number");
            else if (o->hi >= 1e9) snprintf(range, sizeof range, "at least %g", o->lo);
            else snprintf(range, sizeof range, "%g to %g", o->lo, o->hi);
            fprintf(f, "| `--%s` | `%s` | ", o->name, default_text(o, &s, def, sizeof def));
            cell(f, range);
            fputs(" | ", f);
            if (cmd != RUN_WORKER) {
                const char *a = algos_text(o, cmd, alg, sizeof alg);
                fputs(*a ? a + strlen("--algo ") : "all", f);
                fputs(" | ", f);
            }
            cell(f, o->help);
            fputs(" |\n", f);
        }
        fputs("\n", f);
    }
}
