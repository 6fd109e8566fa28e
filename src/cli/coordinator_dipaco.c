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
#include "cli/common.h"
#include "cli/cli.h"
#include "cli/coord_welcome.h"
#include "cli/drive.h"
#include "cli/net_cmd.h"
#include "cli/run_setup.h"
#include "cli/train_dipaco.h"
#include "loco/checkpoint.h"
#include "loco/file.h"
#include "loco/data.h"
#include "loco/dipaco.h"
#include "loco/metrics.h"
#include "loco/net_engine.h"
#include "loco/source.h"

typedef run_spec dpc_args;

/* The one-line live status. */
static void status_line(void *ctx, const loco_engine_metrics *m, int tty, double tps, double eta) {
    (void)m, (void)tps, (void)eta;
    const loco_dpc_stats *st = loco_dpc_get_stats(ctx);
    char b1[32], b2[32];
    printf("%sround %ld/%ld  step %ld  loss %.4f  workers %d alive  tasks: %ld done, %ld leased, "
           "%ld requeued, %ld duplicates, %ld stale  %.2f s/round  in %s out %s%s", tty ? "\r" : "",
           st->round, st->n_rounds, st->inner_step, st->train_loss, st->alive, st->tasks_done, st->leases,
           st->requeued, st->duplicates, st->stale, st->round_seconds,
           train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2),
           tty ? "   " : "\n");
    fflush(stdout);
}

/* The run, once the flags are checked (src/cli/net_cmd.h). */
int coord_dipaco_run(dpc_args *a, loco_source *src, const float *init) {
    char msg[512], b1[32], b2[32];
    loco_dpc_config cc;
    memset(&cc, 0, sizeof cc);
    loco_net_welcome *r = &cc.run;
    if (loco_dipaco_parse(a->dist.modules, &cc.d, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: --modules %s\n", msg);
        return 2;
    }
    cc.d.shared_base = !a->dist.private_base;
    loco_dipaco_layout lay;
    if (loco_dipaco_layout_init(&lay, &a->cfg, &cc.d, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s (--modules against --layers)\n", msg);
        return 2;
    }
    const int P = lay.n_paths;
    int status = coord_key_outer(a, &cc.key, &cc.security, &cc.outer, msg, sizeof msg);
    if (status) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return status;
    }
    coord_welcome_fill(r, a);
    r->run_kind = LOCO_NET_RUN_DIPACO;
    r->workers = (uint32_t)P;
    r->keep = 1.0f;
    r->codec = LOCO_CODEC_FP32;
    cc.listen = a->listen;
    cc.lease_timeout = a->lease_timeout;
    cc.worker_timeout = a->worker_timeout;
    cc.max_skew_ms = (uint64_t)(a->max_skew * 1000);
    /* Room for restarted workers to join before the killed ones they
     * replace are declared dead. */
    cc.max_workers = 2 * a->dist.workers + 8;
    cc.verbose = a->verbose;
    cc.log.fn = loco_cli_net_log;

    train_shards ts = {0};
    uint8_t *assign = NULL;
    double *weights = NULL;
    loco_dpc *co = NULL;
    loco_engine *eng = NULL;
    status = a->dist.router ? train_dipaco_route_shards(&ts, a->dist.router, P, 1, src, msg, sizeof msg)
                            : train_shards_open(&ts, &a->dist, P, src, a->seed, msg, sizeof msg);
    if (!status) status = coord_welcome_assign(r, &ts, P, a->T, "path", &assign, msg, sizeof msg);
    weights = status ? NULL : malloc(sizeof(double) * (size_t)P);
    if (!status && !weights) {
        snprintf(msg, sizeof msg, "out of memory for the split");
        status = 1;
    }
    if (status) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        goto done;
    }
    /* The simulator's weights: the shards' tokens. */
    for (int p = 0; p < P; p++) weights[p] = (double)loco_split_worker_tokens(ts.split, p);
    cc.weights = weights;
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
    if (loco_dpc_engine(&eng, co, a->min_workers, a->join_timeout, a->tokenizer, a->dist.router) != LOCO_OK) {
        fprintf(stderr, "loco coordinator: out of memory\n");
        status = 1;
        goto done;
    }
    /* With --ckpt-every, --out's own state when it holds one (a supervisor
     * restarts the same command line). */
    drive_config run = {.who = "loco coordinator", .engine = eng, .log_every = a->log_every, .log_all = 1,
                        .out = a->out, .resume = a->ckpt_every && drive_has_state(eng, a->out) ? a->out : NULL,
                        .ckpt_every = a->ckpt_every, .ckpt_last = 1, .progress = status_line, .ctx = co};
    drive_result res;
    if ((status = drive(&run, &res)) != 0) goto done;
    printf("done: dipaco over the network, %d paths, %ld rounds in %.1f s; last train loss %.4f; %s in, %s out; "
           "%ld tasks done, %ld leases, %ld requeued (%ld expired), %ld late accepted, %ld duplicates, %ld stale; "
           "%ld joins, %ld deaths, %ld messages rejected%s%s\n", P, st->round, res.seconds, st->train_loss,
           train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2),
           st->tasks_done, st->leases, st->requeued, st->expired, st->late_accepted, st->duplicates, st->stale,
           st->joins, st->deaths, st->rejected, a->out ? "; wrote " : "", a->out ? a->out : "");
done:
    loco_engine_free(eng);
    loco_dpc_free(co);
    train_shards_close(&ts);
    free(assign);
    free(weights);
    return status;
}
