/*
 * `loco coordinator --algo async`: its lines around the one driver loop
 * (src/cli/drive.c).  Its log and its evaluation schedule are `loco train
 * --algo async`'s (src/cli/train_async.c), so that the two runs' metrics
 * line up push for push; its log adds what only a real network has
 * (src/net/coord_engine.c): workers alive, bytes in and out, and the inner
 * steps DyLU gave the pushing worker's next task.
 */
#include <math.h>
#include <stdio.h>
#include "cli/net_cmd.h"
#include "cli/train_dist.h"

/* The one-line live status. */
static void status_line(void *ctx, const loco_engine_metrics *m, int tty, double tps, double eta) {
    (void)m, (void)tps, (void)eta;
    const async_wire_view *v = ctx;
    const loco_coord_stats *st = loco_coord_get_stats(v->co);
    char b1[32], b2[32];
    printf("%spush %ld/%ld  version %ld  loss %.4f  workers %d alive  staleness %ld (mean %.2f max %.0f)"
           "  worker %d did %d steps, next %ld  in %s out %s  lost %ld late %ld%s", tty ? "\r" : "",
           st->pushes, v->total, st->version, st->train_loss, st->alive, st->last_staleness,
           st->mean_staleness, st->max_staleness, st->last_worker, st->last_steps, st->last_assigned,
           train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2),
           st->tasks_lost, st->late_total, tty ? "   " : "\n");
    fflush(stdout);
}

static void eval_line(void *ctx, const loco_engine_metrics *m, float vl) {
    const async_wire_view *v = ctx;
    const loco_coord_stats *st = loco_coord_get_stats(v->co);
    printf("push %5ld/%ld  version %ld  val_loss %.4f  val_ppl %.3f  staleness mean %.2f max %.0f\n", m->step,
           v->total, st->version, vl, exp(vl), st->mean_staleness, st->max_staleness);
}

void async_wire_setup(drive_config *run, async_wire_view *v, int eval_every, int log_every) {
    /* --eval-every and --log-every count inner steps of one synchronous
     * worker: that many steps are worth M steps / H pushes. */
    long eval_pushes = eval_every ? (long)v->M * eval_every / v->H : 0;
    if (eval_every && eval_pushes < 1) eval_pushes = 1;
    long log_pushes = (long)v->M * log_every / v->H;
    if (log_pushes < 1) log_pushes = 1;
    run->eval_every = eval_pushes;
    run->log_every = log_pushes;
    run->log_all = 1;
    run->progress = status_line;
    run->eval = eval_line;
    run->ctx = v;
}

void async_wire_done(const async_wire_view *v, const drive_result *res, const char *out) {
    const loco_coord_stats *st = loco_coord_get_stats(v->co);
    char b1[32], b2[32];
    printf("done: async over the network, M=%d, %ld pushes, %ld updates, %ld inner steps in %.1f s; "
           "val_loss %.4f, val_ppl %.3f; %s in, %s out; staleness mean %.2f max %.0f; %ld joins, %ld deaths, "
           "%ld tasks lost, %ld late, %ld messages rejected%s%s\n",
           v->M, st->pushes, st->version, st->async_inner_steps, res->seconds, res->val_loss, exp(res->val_loss),
           train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2),
           st->mean_staleness, st->max_staleness, st->joins, st->deaths, st->tasks_lost, st->late_total,
           st->rejected, out ? "; wrote " : "", out ? out : "");
}
