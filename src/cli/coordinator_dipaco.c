/*
 * `loco coordinator --algo dipaco`: DiPaCo over ZeroMQ, a task queue of
 * leases (include/loco/net_engine.h, docs/dipaco.md "Over the wire").
 *
 * It takes `loco train --algo dipaco`'s flags (model, data, optimizers,
 * --modules, --router) plus the network's, routes the documents to paths
 * as the simulator does, and serves (path, round) tasks to whichever
 * `loco worker`s join.  With the same flags and --reset-inner 1 its module
 * files are the simulator's byte for byte, however many workers come, go
 * or die on the way.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/net_security.h"
#include "cli/train_dipaco.h"
#include "cli/train_dist.h"
#include "loco/checkpoint.h"
#include "loco/file.h"
#include "loco/data.h"
#include "loco/dipaco.h"
#include "loco/metrics.h"
#include "loco/net_engine.h"
#include "loco/source.h"

typedef struct {
    loco_gpt_config cfg;
    int B, T, steps, threads, log_every, ckpt_every, min_workers, verbose, eval_every, eval_batches;
    uint64_t seed;
    const char *data, *train_shard, *val_shard, *out, *tokenizer;
    loco_adamw_config oc;
    float min_lr_frac;
    train_dist_args dist;
    const char *listen, *endpoint_file;
    net_security_args sec;     /* --security, --secret-file, --key-file, --allow-file */
    float heartbeat, worker_timeout, join_timeout, max_skew, lease_timeout;
} dpc_args;

static void defaults(dpc_args *a) {
    memset(a, 0, sizeof *a);
    a->cfg = (loco_gpt_config){.max_seq_len = 0, .vocab_size = 256, .n_layer = 4, .n_head = 4, .channels = 128};
    a->B = 16;
    a->T = 64;
    a->log_every = 100;
    a->eval_every = 500;
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
    a->lease_timeout = 3600.0f;
}

/* The flags: `loco train`'s that DiPaCo uses (others are accepted so that
 * `loco train --launch local` can pass its command line on), then the
 * network's. */
static int specs_of(dpc_args *a, arg_spec *s) {
    const arg_spec t[] = {
        {"data", ARG_STR, &a->data, 0, 0, "text file to train on, byte level (default: embedded addition corpus)"},
        {"train-shard", ARG_STR, &a->train_shard, 0, 0, "token shard to train on (from loco data prepare)"},
        {"val-shard", ARG_STR, &a->val_shard, 0, 0, "token shard to validate on (accepted; eval with loco eval --dipaco)"},
        {"tokenizer", ARG_STR, &a->tokenizer, 0, 0, "tokenizer of the shards, recorded in dipaco.json"},
        {"out", ARG_STR, &a->out, 0, 0, "directory for dipaco.json, the module files and metrics.jsonl"},
        {"ckpt-every", ARG_INT, &a->ckpt_every, 0, 1e9, "rounds between saves of the modules and the outer state "
         "in --out (0: at the end only); resumes by itself from --out's"},
        {"layers", ARG_INT, &a->cfg.n_layer, -1e9, 1e9, "number of transformer blocks L"},
        {"channels", ARG_INT, &a->cfg.channels, -1e9, 1e9, "embedding width C"},
        {"heads", ARG_INT, &a->cfg.n_head, -1e9, 1e9, "attention heads NH (must divide C)"},
        {"seq-len", ARG_INT, &a->T, -1e9, 1e9, "sequence length T"},
        {"max-seq-len", ARG_INT, &a->cfg.max_seq_len, -1e9, 1e9, "position embeddings (0: = seq-len)"},
        {"batch", ARG_INT, &a->B, -1e9, 1e9, "sequences per step B, per path"},
        {"steps", ARG_INT, &a->steps, 1, 1e9, "inner steps per path (default 3000)"},
        {"lr", ARG_FLOAT, &a->oc.lr, 0, 10, "peak learning rate"},
        {"min-lr-frac", ARG_FLOAT, &a->min_lr_frac, 0, 1, "final learning rate as a fraction of --lr"},
        {"warmup", ARG_INT, &a->oc.warmup_steps, 0, 1e9, "linear warm-up steps"},
        {"weight-decay", ARG_FLOAT, &a->oc.weight_decay, 0, 10, "AdamW decoupled weight decay (matrices only)"},
        {"beta1", ARG_FLOAT, &a->oc.beta1, 0, 0.999999, "AdamW beta1"},
        {"beta2", ARG_FLOAT, &a->oc.beta2, 0, 0.999999, "AdamW beta2"},
        {"grad-clip", ARG_FLOAT, &a->oc.grad_clip, 0, 1e9, "max global gradient norm (0: off)"},
        {"seed", ARG_U64, &a->seed, 0, 1.8e19, "seed for initialisation and data order"},
        {"threads", ARG_INT, &a->threads, 0, 1024, "threads (0: OMP_NUM_THREADS or all cores)"},
        {"eval-every", ARG_INT, &a->eval_every, 0, 1e9, "(accepted; DiPaCo is evaluated by loco eval --dipaco)"},
        {"eval-batches", ARG_INT, &a->eval_batches, 1, 1e6, "(accepted; see --eval-every)"},
        {"log-every", ARG_INT, &a->log_every, 1, 1e9, "steps between progress lines"},
        {"listen", ARG_STR, &a->listen, 0, 0, "ZeroMQ endpoint to bind: tcp://0.0.0.0:PORT, tcp://127.0.0.1:*, ipc://PATH"},
        {"endpoint-file", ARG_STR, &a->endpoint_file, 0, 0, "write the bound endpoint (with its port) here"},
        {"min-workers", ARG_INT, &a->min_workers, 0, 1e6, "workers that must join before round 1 (0: none)"},
        {"join-timeout", ARG_FLOAT, &a->join_timeout, 0, 1e9, "seconds to wait for them (0: forever)"},
        {"heartbeat", ARG_FLOAT, &a->heartbeat, 0.001, 3600, "seconds between heartbeats"},
        {"worker-timeout", ARG_FLOAT, &a->worker_timeout, 0.01, 1e9, "seconds of silence after which a worker is "
         "dead and its lease goes back to the queue"},
        {"lease-timeout", ARG_FLOAT, &a->lease_timeout, 0.01, 1e9, "seconds a lease lasts before its task goes back "
         "to the queue"},
        {"max-skew", ARG_FLOAT, &a->max_skew, 1, 1e9, "seconds a HELLO's timestamp may differ from this clock"},
        {"verbose", ARG_INT, &a->verbose, 0, 1, "1: a line per worker joining, leaving or dying, and per requeue"},
    };
    memcpy(s, t, sizeof t);
    int n = (int)(sizeof t / sizeof t[0]);
    n += net_security_specs(&a->sec, 1, s + n);
    return n + train_dist_specs(&a->dist, s + n);
}

/* Returns 0, or 2 with a reason in msg. */
static int check_usage(const dpc_args *a, char *msg, size_t msglen) {
    train_dist_args z;
    train_dist_defaults(&z);
    const train_dist_args *d = &a->dist;
    const char *why = NULL;
    char ep[320], sec[320];
    if (!a->listen) why = "--listen ENDPOINT is required (e.g. tcp://0.0.0.0:5555)";
    else if (loco_net_endpoint_check(a->listen, 1, ep, sizeof ep)) why = ep;
    else if (net_security_check(&a->sec, 1, a->listen, sec, sizeof sec)) why = sec;
    else if (!d->modules) why = "--algo dipaco needs --modules, e.g. 1x4,1x4";
    else if (d->reset_inner != 1)
        why = "--algo dipaco over the network needs --reset-inner 1: a task must be a function of the modules "
              "and (seed, path, round), so that any worker can take it";
    else if (d->em_round) why = "--em-round is not supported over the network yet";
    else if (d->route_topk != 1)
        why = "--route-topk is not supported over the network (WELCOME gives each document one path)";
    else if (strcmp(d->compress, "fp32") || d->prune != 1.0f || d->error_feedback || d->drop ||
             strcmp(d->schedule, "constant") || strcmp(d->rule, z.rule) || d->dylu || d->shards ||
             strcmp(d->hetero, "none") || d->speeds)
        why = "--algo dipaco sends fp32 parameters; --compress, --prune, --error-feedback, --drop, --schedule and "
              "the async flags do not apply";
    else if (d->workers < 1) why = "--workers must be at least 1";
    else if (a->ckpt_every && !a->out) why = "--ckpt-every needs --out DIR, where the state is written";
    else if ((a->train_shard != NULL) != (a->val_shard != NULL)) why = "--train-shard and --val-shard go together";
    else if (a->data && a->train_shard) why = "give either --data or --train-shard/--val-shard, not both";
    else if (a->T <= 0 || a->B <= 0) why = "--seq-len and --batch must be positive";
    if (why) snprintf(msg, msglen, "%s", why);
    return why ? 2 : 0;
}

/* Opens the data as `loco train` does.  Returns 0, or 1 with a reason. */
static int open_data(const dpc_args *a, loco_source *src, char *msg, size_t msglen) {
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

static void log_round(loco_metrics *log, const loco_dpc_stats *st, double t) {
    if (!log) return;
    const char *k[] = {"loss", "ppl", "round", "tasks_done", "leased", "leases", "requeued", "expired",
                       "late_accepted", "duplicates", "stale", "alive", "joins", "deaths", "rejected", "bytes",
                       "bytes_in", "bytes_out", "round_s", "time_s", "saves", "resumed_round"};
    double v[] = {st->train_loss, exp(st->train_loss), st->round, st->tasks_done, st->leased, st->leases,
                  st->requeued, st->expired, st->late_accepted, st->duplicates, st->stale, st->alive, st->joins,
                  st->deaths, st->rejected, st->bytes_in + st->bytes_out, st->bytes_in, st->bytes_out,
                  st->round_seconds, t, st->saves, st->resumed_round};
    loco_metrics_log(log, "train", st->inner_step, k, v, (int)(sizeof v / sizeof v[0]));
}

/* Continues from OUT/dipaco_coord.state when --ckpt-every is given and it
 * exists (a supervisor restarts the same command line), and opens the
 * metrics log.  Returns 0, or the exit status after one line on stderr. */
static int resume(const dpc_args *a, loco_dpc *co, const char *state, double *elapsed, loco_metrics **log) {
    char msg[4400], logp[4200];
    if (!a->ckpt_every || access(state, F_OK) != 0) {
        if (train_open_log(a->out, log, msg, sizeof msg) == 0) return 0;
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 1;
    }
    if (loco_dpc_resume(co, state, elapsed, msg, sizeof msg) != LOCO_OK) {
        fprintf(stderr, "loco coordinator: cannot resume: %s\n", msg);
        return 1;
    }
    const loco_dpc_stats *st = loco_dpc_get_stats(co);
    printf("loco coordinator: resuming at round %ld of %ld from %s\n", st->round, st->n_rounds, state);
    snprintf(logp, sizeof logp, "%s/metrics.jsonl", a->out);
    if (access(logp, F_OK) == 0 && loco_metrics_truncate_after(logp, st->inner_step, msg, sizeof msg) != LOCO_OK) {
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
static int run(dpc_args *a, loco_source *src) {
    char msg[512], b1[32], b2[32];
    loco_dpc_config cc;
    memset(&cc, 0, sizeof cc);
    loco_net_welcome *r = &cc.run;
    if (loco_dipaco_parse(a->dist.modules, &cc.d, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 2;
    }
    cc.d.shared_base = !a->dist.private_base;
    loco_dipaco_layout lay;
    if (loco_dipaco_layout_init(&lay, &a->cfg, &cc.d, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 2;
    }
    const int P = lay.n_paths;
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
    if (!(cc.outer.lr > 0) || !(cc.outer.momentum >= 0 && cc.outer.momentum < 1) || a->dist.inner_steps < 1) {
        fprintf(stderr, "loco coordinator: --outer-lr must be positive, --outer-momentum in [0, 1) and "
                "--inner-steps at least 1\n");
        return 2;
    }
    r->run_kind = LOCO_NET_RUN_DIPACO;
    r->workers = (uint32_t)P;
    r->model = a->cfg;
    r->batch = a->B;
    r->seq_len = a->T;
    r->inner_steps = a->dist.inner_steps;
    r->steps = a->steps;
    r->inner = a->oc;
    r->inner.max_steps = a->steps;
    r->inner.min_lr = a->oc.lr * a->min_lr_frac;
    r->keep = 1.0f;
    r->codec = LOCO_CODEC_FP32;
    r->seed = a->seed;
    r->heartbeat_ms = (uint32_t)(a->heartbeat * 1000 + 0.5);
    if (r->heartbeat_ms < 1) r->heartbeat_ms = 1;
    r->data_kind = a->train_shard ? LOCO_NET_DATA_SHARDS : a->data ? LOCO_NET_DATA_BYTES : LOCO_NET_DATA_EMBEDDED;
    cc.listen = a->listen;
    cc.lease_timeout = a->lease_timeout;
    cc.worker_timeout = a->worker_timeout;
    cc.max_skew_ms = (uint64_t)(a->max_skew * 1000);
    /* Room for restarted workers to join before the killed ones they
     * replace are declared dead. */
    cc.max_workers = 2 * a->dist.workers + 8;
    cc.verbose = a->verbose;

    train_shards ts = {0};
    float *init = NULL;
    uint8_t *assign = NULL;
    double *weights = NULL;
    loco_dpc *co = NULL;
    loco_metrics *log = NULL;
    train_common tc = {a->cfg, a->B, a->T, a->steps, 0, a->eval_batches, a->log_every, a->threads,
                       a->seed, r->inner, a->out, a->tokenizer, "coordinator", 0};
    int status = a->dist.router ? train_dipaco_route_shards(&ts, a->dist.router, P, 1, src, msg, sizeof msg)
                                : train_shards_open(&ts, &a->dist, P, src, a->seed, msg, sizeof msg);
    if (status) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        goto done;
    }
    assign = malloc(4 * (size_t)ts.docs.n_docs);
    weights = malloc(sizeof(double) * (size_t)P);
    if (!assign || !weights) {
        fprintf(stderr, "loco coordinator: out of memory for the split\n");
        status = 1;
        goto done;
    }
    for (int p = 0; p < P; p++) {
        if (loco_split_worker_tokens(ts.split, p) < (uint64_t)a->T + 1) {
            fprintf(stderr, "loco coordinator: path %d's shard holds %llu tokens, fewer than --seq-len + 1 = %d\n",
                    p, (unsigned long long)loco_split_worker_tokens(ts.split, p), a->T + 1);
            status = 2;
            goto done;
        }
        /* The simulator's weights: the shard's tokens. */
        weights[p] = (double)loco_split_worker_tokens(ts.split, p);
        const int *list = loco_split_worker_doc_list(ts.split, p);
        for (long i = 0; i < loco_split_worker_docs(ts.split, p); i++)
            for (int b = 0; b < 4; b++) assign[4 * (size_t)list[i] + b] = (uint8_t)((unsigned)p >> (8 * b));
    }
    r->data_docs = r->n_assign = (uint64_t)ts.docs.n_docs;
    r->data_tokens = ts.docs.offsets[ts.docs.n_docs];
    r->data_fingerprint = loco_net_docs_fingerprint(&ts.docs);
    r->assign = assign;
    cc.weights = weights;
    if (a->dist.init && (status = train_load_init(a->dist.init, &tc, &init, msg, sizeof msg)) != 0) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        goto done;
    }
    int e = loco_dpc_create(&co, &cc, init, msg, sizeof msg);
    if (e) {
        fprintf(stderr, "loco coordinator: %s\n", e == LOCO_ENOMEM ? "out of memory" : msg);
        status = e == LOCO_EINVAL || e == LOCO_ECONFIG ? 2 : 1;
        goto done;
    }
    const loco_dpc_stats *st = loco_dpc_get_stats(co);
    printf("loco coordinator: dipaco, listening on %s (%d paths, %d modules, %ld rounds of H=%d, %zu parameters "
           "per path, lease %g s)\n", loco_dpc_endpoint(co), P, lay.n_modules, st->n_rounds, a->dist.inner_steps,
           lay.path_params, a->lease_timeout);
    fflush(stdout);
    if (a->endpoint_file) {
        /* Atomically: a reader never sees half an endpoint. */
        const char *ep = loco_dpc_endpoint(co);
        if (loco_file_write(a->endpoint_file, ep, strlen(ep), msg, sizeof msg) != LOCO_OK) {
            fprintf(stderr, "loco coordinator: %s\n", msg);
            status = 1;
            goto done;
        }
    }
    char state[4200];
    snprintf(state, sizeof state, "%s/dipaco_coord.state", a->out ? a->out : ".");
    double elapsed = 0;
    if ((status = resume(a, co, state, &elapsed, &log)) != 0) goto done;
    if (a->min_workers && (e = loco_dpc_wait_workers(co, a->min_workers, a->join_timeout, msg, sizeof msg))) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        status = 1;
        goto done;
    }
    const int tty = isatty(STDOUT_FILENO);
    const char *router = a->dist.router ? a->dist.router : "", *tok = a->tokenizer ? a->tokenizer : "";
    double t0 = loco_cli_now() - elapsed;
    long next_log = a->log_every;
    while (next_log <= st->inner_step) next_log += a->log_every;
    while (st->round < st->n_rounds) {
        if ((e = loco_dpc_round(co, msg, sizeof msg)) != LOCO_OK) {
            fprintf(stderr, "loco coordinator: %s\n", msg);
            status = 1;
            goto done;
        }
        double t = loco_cli_now();
        if (st->inner_step >= next_log || st->round == st->n_rounds || st->round == 1) {
            printf("%sround %ld/%ld  step %ld  loss %.4f  workers %d alive  tasks: %ld done, %ld leased, "
                   "%ld requeued, %ld duplicates, %ld stale  %.2f s/round  in %s out %s%s", tty ? "\r" : "",
                   st->round, st->n_rounds, st->inner_step, st->train_loss, st->alive, st->tasks_done, st->leases,
                   st->requeued, st->duplicates, st->stale, st->round_seconds,
                   train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2),
                   tty ? "   " : "\n");
            fflush(stdout);
            while (next_log <= st->inner_step) next_log += a->log_every;
        }
        log_round(log, st, t - t0);
        /* The module files first, then the state that says which round
         * they hold: a crash between the two redoes the round. */
        if (a->ckpt_every && st->round % a->ckpt_every == 0 && st->round < st->n_rounds &&
            (loco_dipaco_save(a->out, &lay, loco_dpc_modules(co), tok, router, msg, sizeof msg) ||
             loco_dpc_save(co, state, loco_cli_now() - t0, msg, sizeof msg))) {
            fprintf(stderr, "loco coordinator: %s\n", msg);
            status = 1;
            goto done;
        }
    }
    if (tty) printf("\n");
    if (a->out && (loco_dipaco_save(a->out, &lay, loco_dpc_modules(co), tok, router, msg, sizeof msg) ||
                   (a->ckpt_every && loco_dpc_save(co, state, loco_cli_now() - t0, msg, sizeof msg)))) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        status = 1;
        goto done;
    }
    loco_dpc_finish(co, 2.0);
    printf("done: dipaco over the network, %d paths, %ld rounds in %.1f s; last train loss %.4f; %s in, %s out; "
           "%ld tasks done, %ld leases, %ld requeued (%ld expired), %ld late accepted, %ld duplicates, %ld stale; "
           "%ld joins, %ld deaths, %ld messages rejected%s%s\n", P, st->round, loco_cli_now() - t0, st->train_loss,
           train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2),
           st->tasks_done, st->leases, st->requeued, st->expired, st->late_accepted, st->duplicates, st->stale,
           st->joins, st->deaths, st->rejected, a->out ? "; wrote " : "", a->out ? a->out : "");
done:
    loco_metrics_close(log);
    loco_dpc_free(co);
    train_shards_close(&ts);
    free(assign);
    free(weights);
    free(init);
    return status;
}

int loco_cmd_coordinator_dipaco(int argc, char **argv) {
    dpc_args a;
    defaults(&a);
    arg_spec specs[96];
    const int ns = specs_of(&a, specs);
    char err[512];
    int r = args_parse(specs, ns, argc, argv,
                       "usage: loco coordinator --algo dipaco --modules 1x4,1x4 --reset-inner 1 --listen ENDPOINT "
                       "[security flags] [loco train flags]\n\n"
                       "Holds the modules of a DiPaCo run and leases (path, round) tasks to `loco worker`\n"
                       "processes (docs/dipaco.md, \"Over the wire\").",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0 || check_usage(&a, err, sizeof err)) {
        fprintf(stderr, "loco coordinator: %s\n", err);
        return 2;
    }
    if (!a.steps) a.steps = 3000;
    char msg[512];
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
    loco_dipaco_config dc;
    if (loco_dipaco_parse(a.dist.modules, &dc, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 2;
    }
    a.threads = loco_threads_set(a.threads);
    loco_source src;
    if (open_data(&a, &src, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 1;
    }
    if (!a.dist.init) a.cfg.vocab_size = src.vocab_size;
    int status;
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

int loco_cli_wants_dipaco(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if ((!strcmp(argv[i], "--algo") && i + 1 < argc && !strcmp(argv[i + 1], "dipaco")) ||
            !strcmp(argv[i], "--algo=dipaco"))
            return 1;
    return 0;
}
