/*
 * `loco coordinator --algo async`: the loop over pushes
 * (loco_coord_async_next, include/loco/net_engine.h).  Its log and its
 * evaluation schedule are `loco train --algo async`'s (src/cli/train_async.c),
 * so that the two runs' metrics line up push for push; it adds what only a
 * real network has: workers alive, bytes in and out, and the inner steps
 * DyLU gave the pushing worker's next task.
 */
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/net_cmd.h"
#include "cli/train_dist.h"

static void log_push(loco_metrics *log, const char *kind, float loss, const loco_coord_stats *st, int M, double t) {
    if (!log) return;
    const char *k[] = {"loss", "ppl", "rounds", "pushes", "version", "staleness", "staleness_mean",
                       "staleness_max", "worker", "inner_steps", "assigned", "speed", "speed_max", "alive", "bytes", "bytes_in",
                       "bytes_out", "deaths", "lost", "late", "rejected", "time_s", "screened"};
    double v[] = {loss, exp(loss), (double)st->pushes / M, st->pushes, st->version, st->last_staleness,
                  st->mean_staleness, st->max_staleness, st->last_worker, st->last_steps, st->last_assigned,
                  st->last_speed, st->speed_max, st->alive, st->bytes_in + st->bytes_out, st->bytes_in, st->bytes_out, st->deaths,
                  st->tasks_lost, st->late_total, st->rejected, t, st->screened_total};
    loco_metrics_log(log, kind, st->pushes, k, v, (int)(sizeof v / sizeof v[0]));
}

int async_wire_loop(const async_wire_run *r, loco_coord *co, loco_source *src, loco_metrics **log, int *tok,
                    int *tgt) {
    char msg[512], b1[32], b2[32];
    const loco_coord_stats *st = loco_coord_get_stats(co);
    loco_gpt *m = loco_coord_model(co);
    const long total = (long)r->M * ((r->steps + r->H - 1) / r->H);
    /* --eval-every and --log-every count inner steps of one synchronous
     * worker: that many steps are worth M steps / H pushes. */
    long eval_pushes = r->eval_every ? (long)r->M * r->eval_every / r->H : 0;
    if (r->eval_every && eval_pushes < 1) eval_pushes = 1;
    long log_pushes = (long)r->M * r->log_every / r->H;
    if (log_pushes < 1) log_pushes = 1;
    long next_eval = eval_pushes;
    while (eval_pushes && next_eval <= st->pushes) next_eval += eval_pushes;
    const int tty = isatty(STDOUT_FILENO);
    const double t0 = loco_cli_now() - r->elapsed;
    float vl = NAN;
    char state[4200];
    snprintf(state, sizeof state, "%s/coord.state", r->out ? r->out : ".");
    while (!loco_coord_async_done(co)) {
        if (loco_coord_async_next(co, msg, sizeof msg) != LOCO_OK) {
            fprintf(stderr, "loco coordinator: %s\n", msg);
            return 1;
        }
        const int last = loco_coord_async_done(co);
        if (st->screened)
            fprintf(stderr, "loco coordinator: push %ld (worker %d): dropped, its norm was far outside the recent "
                    "pushes' (--screen-k)\n", st->pushes, st->last_worker);
        log_push(*log, "train", st->train_loss, st, r->M, loco_cli_now() - t0);
        if (st->pushes % log_pushes == 0 || last || st->pushes == 1) {
            /* The one-line live status. */
            printf("%spush %ld/%ld  version %ld  loss %.4f  workers %d alive  staleness %ld (mean %.2f max %.0f)"
                   "  worker %d did %d steps, next %ld  in %s out %s  lost %ld late %ld%s", tty ? "\r" : "",
                   st->pushes, total, st->version, st->train_loss, st->alive, st->last_staleness,
                   st->mean_staleness, st->max_staleness, st->last_worker, st->last_steps, st->last_assigned,
                   train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2),
                   st->tasks_lost, st->late_total, tty ? "   " : "\n");
            fflush(stdout);
        }
        if ((eval_pushes && st->pushes >= next_eval) || last) {
            vl = loco_cli_eval_loss(m, src, r->B, r->T, r->eval_batches, tok, tgt);
            if (tty) printf("\n");
            printf("push %5ld/%ld  version %ld  val_loss %.4f  val_ppl %.3f  staleness mean %.2f max %.0f\n",
                   st->pushes, total, st->version, vl, exp(vl), st->mean_staleness, st->max_staleness);
            fflush(stdout);
            log_push(*log, "eval", vl, st, r->M, loco_cli_now() - t0);
            while (eval_pushes && next_eval <= st->pushes) next_eval += eval_pushes;
        }
        /* After the push's log lines, so that a resumed run's log keeps
         * them and drops only what follows the state. */
        if (r->ckpt_every && st->pushes % r->ckpt_every == 0 &&
            loco_coord_save(co, state, loco_cli_now() - t0, msg, sizeof msg) != LOCO_OK) {
            fprintf(stderr, "loco coordinator: %s\n", msg);
            return 1;
        }
    }
    if (isnan(vl)) {   /* resumed from the state of a run that had ended */
        vl = loco_cli_eval_loss(m, src, r->B, r->T, r->eval_batches, tok, tgt);
        log_push(*log, "eval", vl, st, r->M, loco_cli_now() - t0);
    }
    if (train_save_global(r->out, "loco coordinator", m, st->async_inner_steps, r->inner, r->seed, r->tokenizer,
                          log, msg, sizeof msg)) {
        fprintf(stderr, "loco coordinator: %s\n", msg);
        return 1;
    }
    loco_coord_finish(co, 2.0);
    printf("done: async over the network, M=%d, %ld pushes, %ld updates, %ld inner steps in %.1f s; "
           "val_loss %.4f, val_ppl %.3f; %s in, %s out; staleness mean %.2f max %.0f; %ld joins, %ld deaths, "
           "%ld tasks lost, %ld late, %ld messages rejected%s%s\n",
           r->M, st->pushes, st->version, st->async_inner_steps, loco_cli_now() - t0, vl, exp(vl),
           train_fmt_bytes(st->bytes_in, b1, sizeof b1), train_fmt_bytes(st->bytes_out, b2, sizeof b2),
           st->mean_staleness, st->max_staleness, st->joins, st->deaths, st->tasks_lost, st->late_total,
           st->rejected, r->out ? "; wrote " : "", r->out ? r->out : "");
    return 0;
}
