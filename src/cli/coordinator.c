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
#include "cli/common.h"
#include "cli/cli.h"
#include "cli/coord_welcome.h"
#include "cli/drive.h"
#include "cli/net_cmd.h"
#include "cli/run_setup.h"
#include "cli/run_spec.h"
#include "cli/train_dipaco.h"
#include "loco/checkpoint.h"
#include "loco/file.h"
#include "loco/data.h"
#include "loco/metrics.h"
#include "loco/net_engine.h"
#include "loco/sim.h"
#include "loco/source.h"

typedef run_spec coord_args;

/* 1 for --algo async. */
static int is_async(const coord_args *a) {
    return run_spec_algo(a, RUN_COORD) == ALGO_ASYNC;
}

/* Writes text to path atomically (a temporary file renamed over it). */
static int write_atomic(const char *path, const char *text) {
    char msg[512];
    return loco_file_write(path, text, strlen(text), msg, sizeof msg) == LOCO_OK ? 0 : -1;
}

/* What the synchronous rounds' lines print beside the driver's metrics. */
typedef struct {
    loco_coord *co;
    int steps;
} sync_view;

/* The one-line live status of the synchronous rounds. */
static void status_line(void *ctx, const loco_engine_metrics *m, int tty, double tps, double eta) {
    (void)tps, (void)eta;
    const loco_coord_stats *st = loco_coord_get_stats(((sync_view *)ctx)->co);
    char b1[32], b2[32];
    printf("%sround %ld/%ld  step %ld  loss %.4f  workers %d alive  %d/%d in  %.2f s/round  "
           "in %s out %s  missing %ld late %ld rejected %ld%s", tty ? "\r" : "", st->round, st->n_rounds,
           m->step, st->train_loss, st->alive, st->received, st->tasked, st->round_seconds,
           train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2),
           st->missing_total, st->late_total, st->rejected, tty ? "   " : "\n");
    fflush(stdout);
}

static void eval_line(void *ctx, const loco_engine_metrics *m, float vl) {
    printf("step %5ld/%d  val_loss %.4f  val_ppl %.3f\n", m->step, ((sync_view *)ctx)->steps, vl, exp(vl));
}

/* The run, once the flags are checked.  Returns the exit status. */
static int run(coord_args *a, loco_source *src, const float *init) {
    char msg[512], b1[32], b2[32];
    const int M = a->dist.workers;
    loco_coord_config cc;
    memset(&cc, 0, sizeof cc);
    loco_net_welcome *r = &cc.run;
    int status = coord_key_outer(a, &cc.key, &cc.security, &cc.outer, msg, sizeof msg);
    if (!status && loco_codec_parse(a->dist.compress, &r->codec)) {   /* a run spec choice, checked when parsed */
        snprintf(msg, sizeof msg, "unknown --compress '%s'", a->dist.compress);
        status = 2;
    }
    if (status) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return status;
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
    coord_welcome_fill(r, a);
    r->workers = (uint32_t)M;
    r->keep = a->dist.prune;
    r->error_feedback = a->dist.error_feedback;
    /* Asynchronous workers keep no state for redoing pushes (see
     * src/net/async_wire.c, "state"): they need not know. */
    r->ckpt_every = is_async(a) ? 0 : (uint32_t)a->ckpt_every;
    cc.listen = a->listen;
    cc.round_timeout = a->round_timeout;
    cc.quorum = a->quorum ? a->quorum : M;
    cc.worker_timeout = a->worker_timeout;
    cc.max_skew_ms = (uint64_t)(a->max_skew * 1000);
    cc.verbose = a->verbose;
    cc.log.fn = loco_cli_net_log;
    cc.screen_k = a->dist.screen_k;
    if (is_async(a)) {
        /* `loco train --algo async`'s configuration (src/cli/train_async.c):
         * as many pushes as synchronous DiLoCo would receive, and each
         * shard's schedule over the inner steps it is expected to see. */
        cc.async = 1;
        cc.pushes = (long)M * loco_round_count(a->steps, a->dist.inner_steps);
        r->inner.max_steps = (int)(cc.pushes * a->dist.inner_steps / M);
        loco_async_config_default(&cc.rule, M);
        if (loco_async_rule_parse(a->dist.rule, &cc.rule.rule) || loco_stale_parse(a->dist.stale, &cc.rule.stale)) {
            fprintf(stderr, "loco coordinator: unknown --rule or --stale\n");
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
    uint8_t *assign = NULL;
    loco_coord *co = NULL;
    loco_engine *eng = NULL;
    status = train_shards_open(&ts, &a->dist, M, src, a->seed, msg, sizeof msg);
    if (!status) status = coord_welcome_assign(r, &ts, M, a->T, "worker", &assign, msg, sizeof msg);
    if (status) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        goto done;
    }
    cc.split = ts.split;
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
    if (loco_coord_engine(&eng, co, &cc, a->min_workers ? a->min_workers : M, a->join_timeout) != LOCO_OK) {
        fprintf(stderr, "loco coordinator: out of memory\n");
        status = 1;
        goto done;
    }
    /* --resume DIR, or --out's own state when --ckpt-every is given and it
     * holds one (a supervisor restarts the same command line). */
    const char *from = a->resume ? a->resume : a->ckpt_every && drive_has_state(eng, a->out) ? a->out : NULL;
    sync_view sv = {co, a->steps};
    drive_config run = {.who = "loco coordinator", .engine = eng, .src = src, .B = a->B, .T = a->T,
                        .eval_batches = a->eval_batches, .log_every = a->log_every, .eval_every = a->eval_every,
                        .screen_k = a->dist.screen_k, .out = a->out, .resume = from, .ckpt_every = a->ckpt_every,
                        .inner = &r->inner, .seed = a->seed, .tokenizer = a->tokenizer,
                        .progress = status_line, .eval = eval_line, .ctx = &sv};
    async_wire_view av = {co, M, a->dist.inner_steps, cc.pushes};
    if (cc.async) async_wire_setup(&run, &av, a->eval_every, a->log_every);
    drive_result res;
    if ((status = drive(&run, &res)) != 0) goto done;
    if (cc.async) {
        async_wire_done(&av, &res, a->out);
        goto done;
    }
    printf("done: diloco over the network, M=%d, %ld rounds (%ld outer steps) in %.1f s; val_loss %.4f, "
           "val_ppl %.3f; %s in, %s out; %ld joins, %ld deaths, %ld contributions missing, %ld late, "
           "%ld messages rejected; downloads: %ld full, %ld compressed%s%s\n",
           M, st->round, st->outer_steps, res.seconds, res.val_loss, exp(res.val_loss),
           train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2), st->joins,
           st->deaths, st->missing_total, st->late_total, st->rejected, st->downloads_full, st->downloads_delta,
           a->out ? "; wrote " : "",
           a->out ? a->out : "");
done:
    loco_engine_free(eng);
    loco_coord_free(co);
    train_shards_close(&ts);
    free(assign);
    return status;
}

int loco_cmd_coordinator(int argc, char **argv) {
    run_spec s;
    loco_source src;
    char msg[512];
    int st = run_spec_parse(&s, RUN_COORD, argc, argv, msg, sizeof msg);
    if (st < 0) return 0;   /* --help */
    if (!st) st = run_spec_check(&s, RUN_COORD, msg, sizeof msg);
    if (!st) st = run_prepare(&s, 0, &src, msg, sizeof msg);
    if (st) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        args_free_config();
        return st;
    }
    /* --init: the starting parameters, for either algorithm. */
    float *init = NULL;
    if (s.dist.init) {
        train_common c = run_common(&s);
        st = train_load_init(s.dist.init, &c, &init, msg, sizeof msg);
    }
    if (st) fprintf(stderr, "loco coordinator: %s\n", msg);
    else st = run_spec_algo(&s, RUN_COORD) == ALGO_DIPACO ? coord_dipaco_run(&s, &src, init) : run(&s, &src, init);
    free(init);
    net_security_free(&s.sec);
    loco_source_close(&src);
    args_free_config();
    return st;
}
