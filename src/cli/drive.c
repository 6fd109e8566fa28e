/*
 * The one loop over an engine's steps (src/cli/drive.h), for the simulators
 * and the network coordinators alike:
 *
 *     resume or start afresh; open the metrics log
 *     until the engine is done:
 *         step (a round or a push)
 *         a line on stderr if the norm screen dropped something
 *         progress line and "train" log line on the log schedule
 *         evaluation and "eval" log line on the evaluation schedule, and last
 *         the caller's hook; the engine's state on the checkpoint schedule
 *     the global model (or the engine's result files), the plot
 *
 * A state is saved after the step's log lines, so that a resumed run's log
 * keeps them and drops only what follows the state.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/drive.h"
#include "cli/run_setup.h"
#include "loco/metrics.h"

int drive_has_state(const loco_engine *e, const char *dir) {
    if (!dir || !e->type->state_file) return 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, e->type->state_file);
    return access(path, F_OK) == 0;
}

/* Continues from c->resume's state, if any, and opens the metrics log:
 * appended to after the resumed step, or afresh.  Returns 0 or 1 with a
 * reason in msg. */
static int open_run(const drive_config *c, double *elapsed, loco_metrics **log, char *msg, size_t msglen) {
    loco_engine *e = c->engine;
    *elapsed = 0;
    if (!c->resume) return train_open_log(c->out, log, msg, msglen);
    char path[4200], why[4096];
    snprintf(path, sizeof path, "%s/%s", c->resume, e->type->state_file ? e->type->state_file : "");
    if (!e->type->resume) {
        snprintf(msg, msglen, "this run cannot be resumed");
        return 1;
    }
    if (e->type->resume(e, c->resume, elapsed, why, sizeof why) != LOCO_OK) {
        snprintf(msg, msglen, "cannot resume: %s", why);
        return 1;
    }
    loco_engine_metrics m;
    loco_engine_get_metrics(e, *elapsed, &m);
    if (m.step != m.event)   /* rounds: the inner steps they hold */
        printf("%s: resuming at %s %ld of %ld (step %ld) from %s\n", c->who, m.unit, m.event, m.n_events, m.step,
               path);
    else
        printf("%s: resuming at %s %ld of %ld from %s\n", c->who, m.unit, m.event, m.n_events, path);
    fflush(stdout);
    if (!c->out) return 0;
    snprintf(path, sizeof path, "%s/metrics.jsonl", c->out);
    /* The lines logged after the state was saved are logged again by the
     * steps redone; a missing log (resuming into a new directory) is begun. */
    if (access(path, F_OK) == 0 && loco_metrics_truncate_after(path, m.step, msg, msglen) != LOCO_OK) return 1;
    return loco_metrics_open_append(log, path, msg, msglen) == LOCO_OK ? 0 : 1;
}

/* Evaluates the model, prints and logs it; returns the loss.  The model is
 * asked for again, as an engine may refresh it on each call. */
static float evaluate(const drive_config *c, loco_metrics *log, loco_engine_metrics *m, double t0, int tty,
                      int print, int *tok, int *tgt) {
    float vl = loco_cli_eval_loss(loco_engine_model(c->engine), c->src, c->B, c->T, c->eval_batches, tok, tgt);
    if (print && c->eval) {
        if (tty && c->progress) printf("\n");
        c->eval(c->ctx, m, vl);
        fflush(stdout);
    }
    loco_engine_get_metrics(c->engine, loco_cli_now() - t0, m);
    m->values[0] = vl;
    m->values[1] = exp(vl);
    if (log) loco_metrics_log(log, "eval", m->step, m->keys, m->values, m->n);
    return vl;
}

/* The end: the global model or the engine's result (and, with ckpt_last,
 * its state).  Returns 0 or 1 with a reason in msg. */
static int save_end(const drive_config *c, int model, const loco_engine_metrics *m, double time_s,
                    loco_metrics **log, char *msg, size_t msglen) {
    loco_engine *e = c->engine;
    if (model)
        return train_save_global(c->out, c->who, loco_engine_model(e), m->inner_steps, c->inner, c->seed,
                                 c->tokenizer, log, msg, msglen);
    if (!c->out) return 0;
    /* An engine's state is saved with its result files (DiPaCo's modules). */
    if (c->ckpt_every && c->ckpt_last && e->type->save) return e->type->save(e, c->out, time_s, msg, msglen) != LOCO_OK;
    return e->type->result && e->type->result(e, c->out, msg, msglen) != LOCO_OK;
}

int drive(const drive_config *c, drive_result *r) {
    loco_engine *e = c->engine;
    const int model = loco_engine_model(e) != NULL;
    int evaluated = 0;
    loco_metrics *log = NULL;
    char msg[4608];
    int status = 1;
    int *tok = NULL, *tgt = NULL;
    r->val_loss = NAN;
    r->seconds = 0;
    if (model && (!(tok = malloc(sizeof(int) * c->B * c->T)) || !(tgt = malloc(sizeof(int) * c->B * c->T)))) {
        snprintf(msg, sizeof msg, "out of memory for the evaluation batches");
        goto fail;
    }
    double elapsed;
    if (open_run(c, &elapsed, &log, msg, sizeof msg)) goto fail;
    const int tty = isatty(STDOUT_FILENO);
    const double t0 = loco_cli_now() - elapsed;
    double tlog = loco_cli_now(), tokens_since = 0;
    loco_engine_metrics m;
    loco_engine_get_metrics(e, elapsed, &m);
    long next_log = c->log_every, next_eval = c->eval_every, prev_step = m.step;
    while (next_log <= m.step) next_log += c->log_every;
    while (c->eval_every && next_eval <= m.step) next_eval += c->eval_every;
    while (!loco_engine_done(e)) {
        const int se = loco_engine_step(e, msg, sizeof msg);
        if (se != LOCO_OK) {
            loco_cli_hint(se, msg, sizeof msg);
            goto fail;
        }
        const double t = loco_cli_now();
        loco_engine_get_metrics(e, t - t0, &m);
        const int last = loco_engine_done(e);
        if (m.screened && m.worker < 0)
            fprintf(stderr, "%s: round %ld: dropped %d contribution%s whose norm was far outside the others' "
                    "(--screen-k %g)\n", c->who, m.event, m.screened, m.screened > 1 ? "s" : "", (double)c->screen_k);
        else if (m.screened)
            fprintf(stderr, "%s: push %ld (worker %d): dropped, its norm was far outside the recent pushes' "
                    "(--screen-k %g)\n", c->who, m.event, m.worker, (double)c->screen_k);
        tokens_since += (double)c->B * c->T * (double)(m.step - prev_step) * m.active;
        prev_step = m.step;
        const int due = m.step >= next_log || last || m.event == 1;
        if (due) {
            if (c->progress)
                c->progress(c->ctx, &m, tty, tokens_since / (t - tlog),
                            (t - t0) / m.event * (double)(m.n_events - m.event));
            tlog = t;
            tokens_since = 0;
            while (next_log <= m.step) next_log += c->log_every;
        }
        if (log && (due || c->log_all)) loco_metrics_log(log, "train", m.step, m.keys, m.values, m.n);
        if (model && ((c->eval_every && m.step >= next_eval) || last)) {
            r->val_loss = evaluate(c, log, &m, t0, tty, 1, tok, tgt);
            evaluated = 1;
            while (c->eval_every && next_eval <= m.step) next_eval += c->eval_every;
        }
        if (c->after_step && (status = c->after_step(c->ctx, &m, tty)) != 0) goto out;
        if (c->ckpt_every && e->type->save && m.event % c->ckpt_every == 0 && !(last && c->ckpt_last) &&
            e->type->save(e, c->out, loco_cli_now() - t0, msg, sizeof msg) != LOCO_OK)
            goto fail;
    }
    if (tty && !model && c->progress) printf("\n");
    /* A run resumed from the state of a run that had ended takes no step. */
    if (model && !evaluated) r->val_loss = evaluate(c, log, &m, t0, tty, 0, tok, tgt);
    if (save_end(c, model, &m, loco_cli_now() - t0, &log, msg, sizeof msg)) goto fail;
    if (e->type->finish) e->type->finish(e);
    r->seconds = loco_cli_now() - t0;
    status = 0;
    goto out;
fail:
    fprintf(stderr, "%s: %s\n", c->who, msg);
    status = 1;
out:
    loco_metrics_close(log);
    free(tok);
    free(tgt);
    return status;
}
