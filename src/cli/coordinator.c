/*
 * `loco coordinator`: synchronous DiLoCo over ZeroMQ (include/loco/net_engine.h).
 * It takes `loco train`'s flags for the model, the data, the inner and outer
 * optimizers and the codec, plus the network's: it holds theta, sends tasks
 * to the workers that join, reduces their contributions, evaluates, logs and
 * saves the global model as `loco train --algo diloco` does.  With the same
 * flags and seed, a fault-free run saves the simulator's model bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/net_security.h"
#include "cli/net_cmd.h"
#include "cli/train_dipaco.h"
#include "cli/train_dist.h"
#include "loco/checkpoint.h"
#include "loco/file.h"
#include "loco/data.h"
#include "loco/metrics.h"
#include "loco/net_engine.h"
#include "loco/sim.h"
#include "loco/source.h"

/* Every flag of the command. */
typedef struct {
    loco_gpt_config cfg;
    int B, T, steps, threads, eval_every, log_every, eval_batches, ckpt_every, stop_after;
    uint64_t seed;
    const char *data, *train_shard, *val_shard, *out, *resume, *tokenizer;
    loco_adamw_config oc;
    float min_lr_frac;
    train_dist_args dist;
    /* the network */
    const char *listen, *endpoint_file;
    net_security_args sec;     /* --security, --secret-file, --key-file, --allow-file */
    float round_timeout, heartbeat, worker_timeout, join_timeout, max_skew;
    int quorum, min_workers, verbose;
} coord_args;

static void defaults(coord_args *a) {
    memset(a, 0, sizeof *a);
    a->cfg = (loco_gpt_config){.max_seq_len = 0, .vocab_size = 256, .n_layer = 4, .n_head = 4, .channels = 128};
    a->B = 16;
    a->T = 64;
    a->eval_every = 500;
    a->log_every = 100;
    a->eval_batches = 8;
    a->seed = 1337;
    loco_adamw_config_default(&a->oc, 0);
    a->oc.lr = 2e-3f;
    a->oc.warmup_steps = 50;
    a->min_lr_frac = 0.1f;
    train_dist_defaults(&a->dist);
    a->heartbeat = 1.0f;
    a->worker_timeout = 30.0f;
    a->max_skew = 300.0f;
}

/* Fills specs; returns how many.  The first block is `loco train`'s, so
 * that `loco train --launch local` can pass its flags on unchanged. */
static int specs_of(coord_args *a, arg_spec *s) {
    const arg_spec t[] = {
        {"data", ARG_STR, &a->data, 0, 0, "text file to train on, byte level (default: embedded addition corpus)"},
        {"train-shard", ARG_STR, &a->train_shard, 0, 0, "token shard to train on (from loco data prepare)"},
        {"val-shard", ARG_STR, &a->val_shard, 0, 0, "token shard to validate on (with --train-shard)"},
        {"tokenizer", ARG_STR, &a->tokenizer, 0, 0, "tokenizer of the shards, recorded in the checkpoint"},
        {"out", ARG_STR, &a->out, 0, 0, "directory for model.safetensors, metrics.jsonl, loss.svg"},
        {"resume", ARG_STR, &a->resume, 0, 0, "directory whose coord.state to continue (same flags)"},
        {"ckpt-every", ARG_INT, &a->ckpt_every, 0, 1e9, "rounds (--algo async: pushes) between state files in "
         "--out (0: none); resumes by itself from --out's"},
        {"stop-after", ARG_INT, &a->stop_after, 0, 1e9, "(not supported by the coordinator yet)"},
        {"layers", ARG_INT, &a->cfg.n_layer, -1e9, 1e9, "number of transformer blocks L"},
        {"channels", ARG_INT, &a->cfg.channels, -1e9, 1e9, "embedding width C"},
        {"heads", ARG_INT, &a->cfg.n_head, -1e9, 1e9, "attention heads NH (must divide C)"},
        {"seq-len", ARG_INT, &a->T, -1e9, 1e9, "sequence length T"},
        {"max-seq-len", ARG_INT, &a->cfg.max_seq_len, -1e9, 1e9, "position embeddings (0: = seq-len)"},
        {"batch", ARG_INT, &a->B, -1e9, 1e9, "sequences per step B, per worker"},
        {"steps", ARG_INT, &a->steps, 1, 1e9, "inner steps per worker (default 3000)"},
        {"lr", ARG_FLOAT, &a->oc.lr, 0, 10, "peak learning rate"},
        {"min-lr-frac", ARG_FLOAT, &a->min_lr_frac, 0, 1, "final learning rate as a fraction of --lr"},
        {"warmup", ARG_INT, &a->oc.warmup_steps, 0, 1e9, "linear warm-up steps"},
        {"weight-decay", ARG_FLOAT, &a->oc.weight_decay, 0, 10, "AdamW decoupled weight decay (matrices only)"},
        {"beta1", ARG_FLOAT, &a->oc.beta1, 0, 0.999999, "AdamW beta1"},
        {"beta2", ARG_FLOAT, &a->oc.beta2, 0, 0.999999, "AdamW beta2"},
        {"grad-clip", ARG_FLOAT, &a->oc.grad_clip, 0, 1e9, "max global gradient norm (0: off)"},
        {"seed", ARG_U64, &a->seed, 0, 1.8e19, "seed for initialisation and data order"},
        {"threads", ARG_INT, &a->threads, 0, 1024, "threads for evaluation (0: OMP_NUM_THREADS or all cores)"},
        {"eval-every", ARG_INT, &a->eval_every, 0, 1e9, "steps between validation evaluations (0: end only)"},
        {"eval-batches", ARG_INT, &a->eval_batches, 1, 1e6, "batches per validation evaluation"},
        {"log-every", ARG_INT, &a->log_every, 1, 1e9, "steps between progress lines"},
        {"listen", ARG_STR, &a->listen, 0, 0, "ZeroMQ endpoint to bind: tcp://0.0.0.0:PORT, tcp://127.0.0.1:*, ipc://PATH"},
        {"endpoint-file", ARG_STR, &a->endpoint_file, 0, 0, "write the bound endpoint (with its port) here"},
        {"min-workers", ARG_INT, &a->min_workers, 0, 1e6, "workers that must join before round 1 (0: --workers)"},
        {"join-timeout", ARG_FLOAT, &a->join_timeout, 0, 1e9, "seconds to wait for them (0: forever)"},
        {"round-timeout", ARG_FLOAT, &a->round_timeout, 0, 1e9, "seconds after which a round closes with a quorum (0: never)"},
        {"quorum", ARG_INT, &a->quorum, 0, 1e6, "contributions that close a round at its deadline (0: --workers)"},
        {"heartbeat", ARG_FLOAT, &a->heartbeat, 0.001, 3600, "seconds between heartbeats"},
        {"worker-timeout", ARG_FLOAT, &a->worker_timeout, 0.01, 1e9, "seconds of silence after which a worker is dead"},
        {"max-skew", ARG_FLOAT, &a->max_skew, 1, 1e9, "seconds a HELLO's timestamp may differ from this clock"},
        {"verbose", ARG_INT, &a->verbose, 0, 1, "1: a line per worker joining, leaving or dying"},
    };
    memcpy(s, t, sizeof t);
    int n = (int)(sizeof t / sizeof t[0]);
    n += net_security_specs(&a->sec, 1, s + n);
    return n + train_dist_specs(&a->dist, s + n);
}

/* 1 for --algo async. */
static int is_async(const coord_args *a) {
    return a->dist.algo && !strcmp(a->dist.algo, "async");
}

/* Returns 0, or 2 with a reason in msg for flags the coordinator cannot run. */
static int check_usage(const coord_args *a, char *msg, size_t msglen) {
    train_dist_args z;
    train_dist_defaults(&z);
    const train_dist_args *d = &a->dist;
    const char *why = NULL;
    char ep[320], sec[320];
    if (!a->listen) why = "--listen ENDPOINT is required (e.g. tcp://0.0.0.0:5555)";
    else if (loco_net_endpoint_check(a->listen, 1, ep, sizeof ep)) why = ep;
    else if (net_security_check(&a->sec, 1, a->listen, sec, sizeof sec)) why = sec;
    else if (d->algo && strcmp(d->algo, "diloco") && strcmp(d->algo, "async"))
        why = "--algo must be diloco or async for the coordinator";
    else if (a->stop_after) why = "--stop-after is not supported by the coordinator";
    else if (a->ckpt_every && !a->out) why = "--ckpt-every needs --out DIR, where the state is written";
    else if (d->drop != z.drop || strcmp(d->schedule, z.schedule))
        why = "--drop and --schedule are simulator flags; real workers drop and come and go on their own";
    else if (d->grace || strcmp(d->hetero, z.hetero) || d->speeds || d->jitter || d->preempt_prob ||
             d->preempt_seconds)
        why = "--grace, --hetero, --speeds, --jitter and --preempt-* are simulator flags; real workers have "
              "their own speeds (loco worker --slowdown makes one slow)";
    else if (!is_async(a) && (strcmp(d->rule, z.rule) || d->period || strcmp(d->stale, z.stale) ||
                              d->stale_power != z.stale_power || d->dylu || d->shards))
        why = "--rule, --period, --stale*, --dylu and --shards need --algo async";
    else if (is_async(a) && d->shards && d->shards != d->workers)
        why = "over the network, --algo async has one shard per worker (--shards = --workers)";
    else if (is_async(a) && strcmp(d->outer_opt, "nesterov"))
        why = "--outer-opt does not apply to --algo async (its rules are Nesterov-based)";
    else if (d->workers < 1) why = "--workers must be at least 1";
    else if (a->quorum > d->workers || a->min_workers > d->workers) why = "--quorum and --min-workers cannot exceed --workers";
    else if ((a->train_shard != NULL) != (a->val_shard != NULL)) why = "--train-shard and --val-shard go together";
    else if (a->data && a->train_shard) why = "give either --data or --train-shard/--val-shard, not both";
    else if (a->T <= 0 || a->B <= 0) why = "--seq-len and --batch must be positive";
    if (why) snprintf(msg, msglen, "%s", why);
    return why ? 2 : 0;
}

/* Opens the data as `loco train` does.  Returns 0, or 1 with a reason. */
static int open_data(const coord_args *a, loco_source *src, char *msg, size_t msglen) {
    if (a->train_shard)
        return loco_source_open_shards(src, a->train_shard, a->val_shard, (uint64_t)a->T + 1, msg, msglen) ? 1 : 0;
    loco_bytes_dataset d;
    if (a->data) {
        if (loco_dataset_load(&d, a->data, 0.1, (size_t)a->T + 1, msg, msglen) != LOCO_OK) return 1;
    } else if (loco_dataset_synthetic(&d, 1 << 20, a->seed, 0.1) != LOCO_OK) {
        snprintf(msg, msglen, "cannot build the default corpus");
        return 1;
    }
    loco_source_from_bytes(src, &d);
    return 0;
}

/* Writes text to path atomically (a temporary file renamed over it). */
static int write_atomic(const char *path, const char *text) {
    char msg[512];
    return loco_file_write(path, text, strlen(text), msg, sizeof msg) == LOCO_OK ? 0 : -1;
}

static void log_event(loco_metrics *log, const char *kind, long step, float loss, const loco_coord_stats *st,
                      double t) {
    if (!log) return;
    const char *k[] = {"loss", "ppl", "bytes", "bytes_in", "bytes_out", "time_s", "round", "alive", "tasked",
                       "received", "missing", "late", "rejected", "deaths", "round_s", "joins", "saves",
                       "resumed_round", "down_full", "down_delta", "screened"};
    double v[] = {loss, exp(loss), st->bytes_in + st->bytes_out, st->bytes_in, st->bytes_out, t, st->round,
                  st->alive, st->tasked, st->received, st->missing_total, st->late_total, st->rejected,
                  st->deaths, st->round_seconds, st->joins, st->saves, st->resumed_round, st->downloads_full,
                  st->downloads_delta, st->screened_total};
    loco_metrics_log(log, kind, step, k, v, (int)(sizeof v / sizeof v[0]));
}

/* 1 if path exists. */
static int exists(const char *path) {
    return access(path, F_OK) == 0;
}

/* Continues from --resume DIR's state, or from --out's when --ckpt-every is
 * given and it holds one (a supervisor restarts the same command line), and
 * opens the metrics log: appended to after the resumed step, or afresh.
 * Returns 0, or the exit status after one line on stderr. */
static int resume(const coord_args *a, loco_coord *co, double *elapsed, loco_metrics **log) {
    char path[4200] = "", logp[4200], msg[4400];
    if (a->resume) snprintf(path, sizeof path, "%s/coord.state", a->resume);
    else if (a->ckpt_every) snprintf(path, sizeof path, "%s/coord.state", a->out);
    if (!a->resume && !(a->ckpt_every && exists(path))) {
        if (train_open_log(a->out, log, msg, sizeof msg) == 0) return 0;
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 1;
    }
    if (loco_coord_resume(co, path, elapsed, msg, sizeof msg) != LOCO_OK) {
        fprintf(stderr, "loco coordinator: cannot resume: %s\n", msg);
        return 1;
    }
    const loco_coord_stats *st = loco_coord_get_stats(co);
    if (is_async(a))
        printf("loco coordinator: resuming at push %ld of %ld (version %ld) from %s\n", st->pushes,
               (long)a->dist.workers * loco_round_count(a->steps, a->dist.inner_steps), st->version,
               path);
    else
        printf("loco coordinator: resuming at round %ld of %ld (step %ld) from %s\n", st->round, st->n_rounds,
               st->inner_step, path);
    fflush(stdout);
    if (!a->out) return 0;
    snprintf(logp, sizeof logp, "%s/metrics.jsonl", a->out);
    /* Lines logged after the state was saved are logged again by the
     * rounds redone (an asynchronous run's lines are numbered by push); a
     * missing log (resuming into a new --out) is begun. */
    if (exists(logp) &&
        loco_metrics_truncate_after(logp, is_async(a) ? st->pushes : st->inner_step, msg, sizeof msg) != LOCO_OK) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 1;
    }
    if (loco_metrics_open_append(log, logp, msg, sizeof msg) != LOCO_OK) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 1;
    }
    return 0;
}

/* The run, once the flags are checked.  Returns the exit status. */
static int run(coord_args *a, loco_source *src) {
    char msg[512], b1[32], b2[32];
    const int M = a->dist.workers;
    loco_coord_config cc;
    memset(&cc, 0, sizeof cc);
    loco_net_welcome *r = &cc.run;
    if (net_security_load(&a->sec, 1, a->listen, &cc.key, &cc.security, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 1;
    }
    loco_outer_config_default(&cc.outer);
    if (loco_outer_parse(a->dist.outer_opt, &cc.outer.kind)) {
        fprintf(stderr, "loco coordinator: --outer-opt must be nesterov, sgd or adam (got '%s')\n", a->dist.outer_opt);
        return 2;
    }
    cc.outer.lr = a->dist.outer_lr;
    cc.outer.momentum = a->dist.outer_momentum;
    cc.outer.beta2 = a->dist.outer_beta2;
    if (loco_codec_parse(a->dist.compress, &r->codec)) {
        fprintf(stderr, "loco coordinator: --compress must be fp32, fp16, bf16, int8, int8-row or int8-tensor "
                "(got '%s')\n", a->dist.compress);
        return 2;
    }
    /* The simulator's checks, so that the two refuse the same runs. */
    loco_sim_config sc;
    loco_sim_config_default(&sc);
    sc.workers = M;
    sc.inner_steps = a->dist.inner_steps;
    sc.steps = a->steps;
    sc.batch = a->B;
    sc.seq_len = a->T;
    sc.outer = cc.outer;
    sc.codec = r->codec;
    sc.keep = a->dist.prune;
    sc.error_feedback = a->dist.error_feedback;
    if (loco_sim_config_check(&sc, M, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 2;
    }
    r->workers = (uint32_t)M;
    r->model = a->cfg;
    r->batch = a->B;
    r->seq_len = a->T;
    r->inner_steps = a->dist.inner_steps;
    r->steps = a->steps;
    r->inner = a->oc;
    r->inner.max_steps = a->steps;
    r->inner.min_lr = a->oc.lr * a->min_lr_frac;
    r->keep = a->dist.prune;
    r->error_feedback = a->dist.error_feedback;
    r->seed = a->seed;
    r->heartbeat_ms = (uint32_t)(a->heartbeat * 1000 + 0.5);
    if (r->heartbeat_ms < 1) r->heartbeat_ms = 1;
    /* Asynchronous workers keep no state for redoing pushes (see
     * src/net/async_wire.c, "state"): they need not know. */
    r->ckpt_every = is_async(a) ? 0 : (uint32_t)a->ckpt_every;
    r->data_kind = a->train_shard ? LOCO_NET_DATA_SHARDS : a->data ? LOCO_NET_DATA_BYTES : LOCO_NET_DATA_EMBEDDED;
    cc.listen = a->listen;
    cc.round_timeout = a->round_timeout;
    cc.quorum = a->quorum ? a->quorum : M;
    cc.worker_timeout = a->worker_timeout;
    cc.max_skew_ms = (uint64_t)(a->max_skew * 1000);
    cc.verbose = a->verbose;
    cc.screen_k = a->dist.screen_k;
    if (is_async(a)) {
        /* `loco train --algo async`'s configuration (src/cli/train_async.c):
         * as many pushes as synchronous DiLoCo would receive, and each
         * shard's schedule over the inner steps it is expected to see. */
        cc.async = 1;
        cc.pushes = (long)M * loco_round_count(a->steps, a->dist.inner_steps);
        r->inner.max_steps = (int)(cc.pushes * a->dist.inner_steps / M);
        loco_async_config_default(&cc.rule, M);
        if (loco_async_rule_parse(a->dist.rule, &cc.rule.rule) || cc.rule.rule == LOCO_ASYNC_SYNC) {
            fprintf(stderr, "loco coordinator: --rule must be naive, buffer or dn over the network (got '%s'; "
                    "sync is --algo diloco)\n", a->dist.rule);
            return 2;
        }
        if (loco_stale_parse(a->dist.stale, &cc.rule.stale)) {
            fprintf(stderr, "loco coordinator: --stale must be constant or poly (got '%s')\n", a->dist.stale);
            return 2;
        }
        cc.rule.lr = a->dist.outer_lr;
        cc.rule.momentum = a->dist.outer_momentum;
        cc.rule.period = a->dist.period ? a->dist.period : M;
        cc.rule.stale_power = a->dist.stale_power;
        if (loco_async_config_check(&cc.rule, msg, sizeof msg)) {
            fprintf(stderr, "loco coordinator: %s\n", msg);
            return 2;
        }
        cc.dylu = a->dist.dylu;
        cc.dylu_min = 5;   /* the simulator's floor */
    }

    train_shards ts = {0};
    float *init = NULL;
    uint8_t *assign = NULL;
    loco_coord *co = NULL;
    loco_metrics *log = NULL;
    int *tok = malloc(sizeof(int) * a->B * a->T), *tgt = malloc(sizeof(int) * a->B * a->T);
    train_common tc = {a->cfg, a->B, a->T, a->steps, a->eval_every, a->eval_batches, a->log_every, a->threads,
                       a->seed, r->inner, a->out, a->tokenizer, "coordinator", 0};
    int status = tok && tgt ? train_shards_open(&ts, &a->dist, M, src, a->seed, msg, sizeof msg) : 1;
    if (status) {
        fprintf(stderr, "loco coordinator: %s\n", tok && tgt ? msg : "out of memory");
        goto done;
    }
    for (int w = 0; w < M; w++)
        if (loco_split_worker_tokens(ts.split, w) < (uint64_t)a->T + 1) {
            fprintf(stderr, "loco coordinator: worker %d's shard holds %llu tokens, fewer than --seq-len + 1 = %d\n",
                    w, (unsigned long long)loco_split_worker_tokens(ts.split, w), a->T + 1);
            status = 2;
            goto done;
        }
    assign = malloc(4 * (size_t)ts.docs.n_docs);
    if (!assign) {
        fprintf(stderr, "loco coordinator: out of memory for the split\n");
        status = 1;
        goto done;
    }
    for (int w = 0; w < M; w++) {
        const int *list = loco_split_worker_doc_list(ts.split, w);
        for (long i = 0; i < loco_split_worker_docs(ts.split, w); i++)
            for (int b = 0; b < 4; b++) assign[4 * (size_t)list[i] + b] = (uint8_t)((unsigned)w >> (8 * b));
    }
    r->data_docs = r->n_assign = (uint64_t)ts.docs.n_docs;
    r->data_tokens = ts.docs.offsets[ts.docs.n_docs];
    r->data_fingerprint = loco_net_docs_fingerprint(&ts.docs);
    r->assign = assign;
    cc.split = ts.split;
    if (a->dist.init && (status = train_load_init(a->dist.init, &tc, &init, msg, sizeof msg)) != 0) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        goto done;
    }
    int e = loco_coord_create(&co, &cc, init, msg, sizeof msg);
    if (e) {
        fprintf(stderr, "loco coordinator: %s\n", e == LOCO_ENOMEM ? "out of memory" : msg);
        status = e == LOCO_EINVAL ? 2 : 1;
        goto done;
    }
    const loco_coord_stats *st = loco_coord_get_stats(co);
    loco_gpt *m = loco_coord_model(co);
    printf("loco coordinator: listening on %s for %d workers (run of %ld rounds, H=%d, %s, %zu parameters)\n",
           loco_coord_endpoint(co), M, st->n_rounds, a->dist.inner_steps, loco_codec_name(r->codec),
           loco_gpt_num_params(m));
    fflush(stdout);
    if (a->endpoint_file && write_atomic(a->endpoint_file, loco_coord_endpoint(co)) != 0) {
        fprintf(stderr, "loco coordinator: %s: cannot write the endpoint\n", a->endpoint_file);
        status = 1;
        goto done;
    }
    double elapsed = 0;
    if ((status = resume(a, co, &elapsed, &log)) != 0) goto done;
    int want = a->min_workers ? a->min_workers : M;
    const int over = cc.async ? loco_coord_async_done(co) : st->round >= st->n_rounds;
    if (!over && (e = loco_coord_wait_workers(co, want, a->join_timeout, msg, sizeof msg)) != LOCO_OK) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        status = 1;
        goto done;
    }
    if (cc.async) {
        async_wire_run ar = {M, a->dist.inner_steps, a->steps, a->B, a->T, a->eval_every, a->log_every,
                             a->eval_batches, a->ckpt_every, a->seed, elapsed, a->out, a->tokenizer, &r->inner};
        status = async_wire_loop(&ar, co, src, &log, tok, tgt);
        goto done;
    }
    const int tty = isatty(STDOUT_FILENO);
    double t0 = loco_cli_now() - elapsed;
    float vl = NAN;
    long next_log = a->log_every, next_eval = a->eval_every;
    while (next_log <= st->inner_step) next_log += a->log_every;
    while (a->eval_every && next_eval <= st->inner_step) next_eval += a->eval_every;
    char state[4200];
    snprintf(state, sizeof state, "%s/coord.state", a->out ? a->out : ".");
    while (st->round < st->n_rounds) {
        if ((e = loco_coord_round(co, msg, sizeof msg)) != LOCO_OK) {
            fprintf(stderr, "loco coordinator: %s\n", msg);
            status = 1;
            goto done;
        }
        if (st->screened)
            fprintf(stderr, "loco coordinator: round %ld: dropped %d contribution%s whose norm was far outside the "
                    "others' (--screen-k %g)\n", st->round, st->screened, st->screened > 1 ? "s" : "",
                    (double)a->dist.screen_k);
        long step = st->inner_step;
        int last = st->round == st->n_rounds;
        double t = loco_cli_now();
        if (step >= next_log || last || st->round == 1) {
            /* The one-line live status. */
            printf("%sround %ld/%ld  step %ld  loss %.4f  workers %d alive  %d/%d in  %.2f s/round  "
                   "in %s out %s  missing %ld late %ld rejected %ld%s", tty ? "\r" : "", st->round, st->n_rounds,
                   step, st->train_loss, st->alive, st->received, st->tasked, st->round_seconds,
                   train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2),
                   st->missing_total, st->late_total, st->rejected, tty ? "   " : "\n");
            fflush(stdout);
            log_event(log, "train", step, st->train_loss, st, t - t0);
            while (next_log <= step) next_log += a->log_every;
        }
        if ((a->eval_every && step >= next_eval) || last) {
            vl = loco_cli_eval_loss(m, src, a->B, a->T, a->eval_batches, tok, tgt);
            if (tty) printf("\n");
            printf("step %5ld/%d  val_loss %.4f  val_ppl %.3f\n", step, a->steps, vl, exp(vl));
            fflush(stdout);
            log_event(log, "eval", step, vl, st, loco_cli_now() - t0);
            while (a->eval_every && next_eval <= step) next_eval += a->eval_every;
        }
        /* After the round's log lines, so that a resumed run's log keeps
         * them and drops only what follows the state. */
        if (a->ckpt_every && st->round % a->ckpt_every == 0 &&
            loco_coord_save(co, state, loco_cli_now() - t0, msg, sizeof msg) != LOCO_OK) {
            fprintf(stderr, "loco coordinator: %s\n", msg);
            status = 1;
            goto done;
        }
    }
    if (isnan(vl)) {   /* resumed from the state of a run that had ended */
        vl = loco_cli_eval_loss(m, src, a->B, a->T, a->eval_batches, tok, tgt);
        log_event(log, "eval", st->inner_step, vl, st, loco_cli_now() - t0);
    }
    if (train_save_global(a->out, "loco coordinator", m, st->inner_step, &r->inner, a->seed,
                          a->tokenizer, &log, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        status = 1;
        goto done;
    }
    loco_coord_finish(co, 2.0);
    printf("done: diloco over the network, M=%d, %ld rounds (%ld outer steps) in %.1f s; val_loss %.4f, "
           "val_ppl %.3f; %s in, %s out; %ld joins, %ld deaths, %ld contributions missing, %ld late, "
           "%ld messages rejected; downloads: %ld full, %ld compressed%s%s\n",
           M, st->round, st->outer_steps, loco_cli_now() - t0, vl, exp(vl),
           train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2), st->joins,
           st->deaths, st->missing_total, st->late_total, st->rejected, st->downloads_full, st->downloads_delta,
           a->out ? "; wrote " : "",
           a->out ? a->out : "");
done:
    loco_metrics_close(log);
    loco_coord_free(co);
    train_shards_close(&ts);
    free(assign);
    free(init);
    free(tok);
    free(tgt);
    return status;
}

int loco_cmd_coordinator(int argc, char **argv) {
    if (loco_cli_wants_dipaco(argc, argv)) return loco_cmd_coordinator_dipaco(argc, argv);
    coord_args a;
    defaults(&a);
    arg_spec specs[96];
    const int ns = specs_of(&a, specs);
    char err[512];
    int r = args_parse(specs, ns, argc, argv,
                       "usage: loco coordinator --listen ENDPOINT --workers M [security flags] [loco train flags]\n\n"
                       "Holds theta and the outer optimizer of a DiLoCo run whose workers are `loco worker`\n"
                       "processes on this or other hosts (docs/distributed.md).  With --algo dipaco it holds\n"
                       "a DiPaCo run's modules instead (see `loco coordinator --algo dipaco --help`).\n"
                       "On tcp:// the connections are encrypted with CURVE: --key-file (this coordinator's\n"
                       "key pair) and --allow-file (the workers' public keys), from `loco keygen`; on ipc://\n"
                       "every message carries a MAC keyed by --secret-file.  --security changes either.",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) {
        fprintf(stderr, "loco coordinator: %s\n", err);
        return 2;
    }
    if (check_usage(&a, err, sizeof err)) {
        fprintf(stderr, "loco coordinator: %s\n", err);
        return 2;
    }
    if (!a.steps) a.steps = 3000;
    char msg[512];
    /* A warm start takes its model shape from the checkpoint. */
    if (a.dist.init && loco_cli_init_config(a.dist.init, &a.cfg, msg, sizeof msg) != LOCO_OK) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 1;
    }
    if (a.cfg.max_seq_len == 0) a.cfg.max_seq_len = a.T;
    if (a.T > LOCO_MAX_SEQ_LEN || a.T > a.cfg.max_seq_len) {
        fprintf(stderr, "loco coordinator: --seq-len %d exceeds the maximum %d\n", a.T,
                a.T > LOCO_MAX_SEQ_LEN ? LOCO_MAX_SEQ_LEN : a.cfg.max_seq_len);
        return 2;
    }
    if (a.tokenizer && strlen(a.tokenizer) >= 256) {
        fprintf(stderr, "loco coordinator: --tokenizer path is longer than 255 bytes\n");
        return 2;
    }
    a.threads = loco_threads_set(a.threads);
    loco_source src;
    if (open_data(&a, &src, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 1;
    }
    if (!a.dist.init) a.cfg.vocab_size = src.vocab_size;
    int status = 0;
    if (a.cfg.vocab_size != src.vocab_size) {
        fprintf(stderr, "loco coordinator: %s has vocabulary %d but the data has %d\n", a.dist.init,
                a.cfg.vocab_size, src.vocab_size);
        status = 1;
    } else if (loco_gpt_config_check(&a.cfg, msg, sizeof msg) != LOCO_OK) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        status = 2;
    } else if (a.out && loco_cli_mkdir(a.out, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        status = 1;
    } else {
        status = run(&a, &src);
        net_security_free(&a.sec);
    }
    loco_source_close(&src);
    args_free_config();
    return status;
}
