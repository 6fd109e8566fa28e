/*
 * `loco train --algo async`: asynchronous DiLoCo in the discrete-event
 * simulator (include/loco/async_sim.h), with workers of different speeds.
 * The run has as many pushes as synchronous DiLoCo with the same --steps and
 * --inner-steps would receive (M per round), so methods compare at equal
 * numbers of pseudo-gradients.  Its log adds "rounds" (pushes / M, the
 * synchronous rounds those pushes are worth), "updates", "sim_s",
 * "staleness" and the pushing worker to every event.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/drive.h"
#include "cli/train_dist.h"
#include "loco/async_sim.h"
#include "loco/checkpoint.h"
#include "loco/metrics.h"
#include "loco/sim.h"

/* Seconds per inner step of 4 workers at each heterogeneity level; more
 * workers repeat the pattern.  "very" is the spread of the Async Local-SGD
 * paper's toy setting. */
static const struct { const char *name; double t[4]; } levels[] = {
    {"none", {1.0, 1.0, 1.0, 1.0}},
    {"slight", {1.0, 1.1, 1.2, 1.3}},
    {"moderate", {1.0, 1.4, 2.0, 3.0}},
    {"very", {0.58, 0.75, 1.51, 3.33}},
};

/* Fills the step times from --speeds or --hetero; returns 0, or 2 with a
 * reason in msg. */
static int step_times(const train_dist_args *d, loco_async_sim_config *c, char *msg, size_t msglen) {
    if (d->speeds) {
        char buf[4096];
        snprintf(buf, sizeof buf, "%s", d->speeds);
        int n = 0;
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","), n++) {
            char *end;
            double v = strtod(tok, &end);
            if (end == tok || *end || !(v > 0) || !isfinite(v) || n >= c->workers) {
                snprintf(msg, msglen, "--speeds needs %d positive numbers, comma-separated (got '%s')", c->workers,
                         d->speeds);
                return 2;
            }
            c->step_seconds[n] = v;
        }
        if (n != c->workers) {
            snprintf(msg, msglen, "--speeds has %d values for %d workers", n, c->workers);
            return 2;
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (!strcmp(d->hetero, levels[i].name)) {
            for (int w = 0; w < c->workers; w++) c->step_seconds[w] = levels[i].t[w % 4];
            return 0;
        }
    snprintf(msg, msglen, "--hetero must be none, slight, moderate or very (got '%s')", d->hetero);
    return 2;
}

/* The simulator's configuration from the flags; returns 0, or 2 with a
 * reason in msg. */
static int make_config(const train_dist_args *d, const train_common *c, int shards, loco_async_sim_config *ac,
                       char *msg, size_t msglen) {
    loco_async_sim_config_default(ac);
    ac->cuda = c->cuda;
    if (d->workers < 1 || d->workers > LOCO_ASYNC_MAX_WORKERS) {
        snprintf(msg, msglen, "--workers must be in [1, %d]", LOCO_ASYNC_MAX_WORKERS);
        return 2;
    }
    ac->workers = d->workers;
    ac->inner_steps = d->inner_steps;
    ac->pushes = (long)d->workers * loco_round_count(c->steps, d->inner_steps);
    ac->batch = c->B;
    ac->seq_len = c->T;
    ac->inner = c->oc;
    /* Each shard's schedule spans the inner steps it is expected to see. */
    ac->inner.max_steps = (int)(ac->pushes * d->inner_steps / shards);
    loco_async_config_default(&ac->rule, d->workers);
    /* The names are the run spec's choices, checked when parsed. */
    if (loco_async_rule_parse(d->rule, &ac->rule.rule) || loco_stale_parse(d->stale, &ac->rule.stale) ||
        loco_codec_parse(d->compress, &ac->codec)) {
        snprintf(msg, msglen, "unknown --rule, --stale or --compress");
        return 2;
    }
    ac->rule.lr = d->outer_lr;
    ac->rule.momentum = d->outer_momentum;
    ac->rule.period = d->period ? d->period : d->workers;
    ac->rule.stale_power = d->stale_power;
    ac->dylu = d->dylu;
    ac->grace = d->grace;
    ac->jitter = d->jitter;
    ac->preempt_prob = d->preempt_prob;
    ac->preempt_seconds = d->preempt_seconds;
    ac->bandwidth = d->net_gbps * 1e9 / 8;
    ac->latency = d->net_latency_ms * 1e-3;
    ac->seed = c->seed;
    ac->keep = d->prune;
    ac->error_feedback = d->error_feedback;
    ac->screen_k = d->screen_k;
    ac->fault_worker = d->fault_worker;
    ac->fault_value = d->fault_value;
    if (step_times(d, ac, msg, msglen)) return 2;
    return loco_async_sim_config_check(ac, shards, msg, msglen) ? 2 : 0;
}

/* The evaluation line: the pushes, the synchronous rounds they are worth,
 * the server's updates, the simulated clock and the staleness so far. */
static void async_eval(void *ctx, const loco_engine_metrics *m, float vl) {
    loco_async_sim *sim = ctx;
    const loco_async_sim_stats *st = loco_async_sim_get_stats(sim);
    const loco_async_sim_config *ac = loco_async_sim_get_config(sim);
    printf("push %5ld/%ld  rounds %.2f  updates %ld  simulated %.1f s  val_loss %.4f  val_ppl %.3f  "
           "staleness mean %.2f max %.0f\n", m->step, ac->pushes, (double)st->pushes / ac->workers, st->updates,
           st->sim_seconds, vl, exp(vl), st->mean_staleness, st->max_staleness);
}

int train_async_run(const train_dist_args *d, train_common *c, loco_source *src) {
    char msg[512], b1[32];
    const int shards = d->shards ? d->shards : d->workers;
    loco_async_sim_config ac;
    int status = make_config(d, c, shards, &ac, msg, sizeof msg);
    if (status) {
        fprintf(stderr, "loco train: %s\n", msg);
        return status;
    }
    train_shards ts = {0};
    float *init = NULL;
    loco_async_sim *sim = NULL;
    loco_engine *eng = NULL;
    if ((status = train_shards_open(&ts, d, shards, src, c->seed, msg, sizeof msg)) != 0) {
        fprintf(stderr, "loco train: %s\n", msg);
        goto done;
    }
    if (d->init && (status = train_load_init(d->init, c, &init, msg, sizeof msg)) != 0) {
        fprintf(stderr, "loco train: %s\n", msg);
        goto done;
    }
    const int M = ac.workers;
    printf("loco train: data=%s (%d documents; %llu train / %llu val tokens, vocabulary %d)\n", c->data_name,
           ts.docs.n_docs, (unsigned long long)loco_source_tokens(src, 0),
           (unsigned long long)loco_source_tokens(src, 1), src->vocab_size);
    printf("  model  L=%d C=%d NH=%d V=%d max_seq_len=%d%s%s\n", c->cfg.n_layer, c->cfg.channels, c->cfg.n_head,
           c->cfg.vocab_size, c->cfg.max_seq_len, d->init ? " warm start from " : "", d->init ? d->init : "");
    printf("  algo   async M=%d H=%d pushes=%ld rule=%s(lr %g, momentum %g, period %d) stale=%s dylu=%d grace=%g "
           "compress=%s prune=%g error_feedback=%d\n",
           M, ac.inner_steps, ac.pushes, loco_async_rule_name(ac.rule.rule), ac.rule.lr, ac.rule.momentum,
           ac.rule.period, loco_stale_name(ac.rule.stale), ac.dylu, ac.grace, loco_codec_name(ac.codec), ac.keep,
           ac.error_feedback);
    printf("  speeds");
    for (int w = 0; w < M; w++) printf(" %g", ac.step_seconds[w]);
    printf(" s/step; jitter %g, preemption %g x %g s; %d shards\n", ac.jitter, ac.preempt_prob, ac.preempt_seconds,
           shards);
    printf("  train  B=%d T=%d per worker, seed=%llu threads=%d\n", c->B, c->T, (unsigned long long)c->seed,
           c->threads);
    if (c->out) printf("  output %s/{model.safetensors,metrics.jsonl,loss.svg}\n", c->out);
    fflush(stdout);
    int e = loco_async_sim_create(&sim, &ac, &c->cfg, init, ts.split, msg, sizeof msg);
    if (e) {
        /* A device's shortage of memory comes with its own reason. */
        fprintf(stderr, "loco train: %s\n", e == LOCO_ENOMEM && !c->cuda ? "out of memory" : msg);
        status = e == LOCO_EINVAL ? 2 : 1;
        goto done;
    }
    const loco_async_sim_stats *st = loco_async_sim_get_stats(sim);
    if ((e = loco_async_sim_engine(&eng, sim)) != LOCO_OK) {
        fprintf(stderr, "loco train: out of memory\n");
        status = 1;
        goto done;
    }
    /* --eval-every counts inner steps of one synchronous worker: that many
     * steps are worth M eval_every / H pushes. */
    long eval_pushes = c->eval_every ? (long)M * c->eval_every / ac.inner_steps : 0;
    if (c->eval_every && eval_pushes < 1) eval_pushes = 1;
    drive_config dc = {.who = "loco train", .engine = eng, .src = src, .B = c->B, .T = c->T,
                       .eval_batches = c->eval_batches, .log_every = 1, .eval_every = eval_pushes, .log_all = 1,
                       .screen_k = d->screen_k, .out = c->out, .inner = &ac.inner, .seed = c->seed,
                       .tokenizer = c->tokenizer, .eval = async_eval, .ctx = sim};
    drive_result res;
    if ((status = drive(&dc, &res)) != 0) goto done;
    printf("done: async %s M=%d, %ld pushes, %ld updates, %ld inner steps in %.1f s (simulated %.1f s); "
           "val_loss %.4f, val_ppl %.3f; sent %s; staleness mean %.2f max %.0f%s%s\n",
           loco_async_rule_name(ac.rule.rule), M, st->pushes, st->updates, st->inner_steps, res.seconds,
           st->sim_seconds, res.val_loss, exp(res.val_loss), train_fmt_bytes(st->bytes_up + st->bytes_down, b1, sizeof b1),
           st->mean_staleness, st->max_staleness, c->out ? "; wrote " : "", c->out ? c->out : "");
done:
    loco_engine_free(eng);
    loco_async_sim_free(sim);
    train_shards_close(&ts);
    free(init);
    return status;
}
