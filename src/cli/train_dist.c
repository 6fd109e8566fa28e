/*
 * `loco train --algo ddp|diloco`: M simulated workers (include/loco/sim.h)
 * on shards of the training data, with the global model evaluated, logged
 * and saved like a plain run's.  The metrics log adds the bytes communicated
 * and the simulated time to every event, so runs can be compared by either.
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
#include "loco/checkpoint.h"
#include "loco/file.h"
#include "loco/metrics.h"
#include "loco/sim.h"
#include "loco/split.h"

/* Parameters of a configuration: V C + T_max C, then per block 12 C^2 + 13 C
 * (qkv 3C^2+3C, projection C^2+C, MLP 8C^2+5C, two LayerNorms 4C), then the
 * final LayerNorm 2 C. */
static double param_count(const loco_gpt_config *g) {
    double C = g->channels;
    return (double)g->vocab_size * C + (double)g->max_seq_len * C + g->n_layer * (12 * C * C + 13 * C) + 2 * C;
}

/* Parses the names into a simulator configuration; returns 0 or 2 (bad
 * usage) with a reason in msg. */
static int make_config(const train_dist_args *d, const train_common *c, loco_sim_config *sc,
                       char *msg, size_t msglen) {
    loco_sim_config_default(sc);
    sc->algo = !strcmp(d->algo, "ddp") ? LOCO_ALGO_DDP : LOCO_ALGO_DILOCO;
    /* The names are the run spec's choices (src/cli/run_spec.c), checked
     * when parsed. */
    if (loco_outer_parse(d->outer_opt, &sc->outer.kind) || loco_codec_parse(d->compress, &sc->codec) ||
        loco_schedule_parse(d->schedule, &sc->schedule)) {
        snprintf(msg, msglen, "unknown --outer-opt, --compress or --schedule");
        return 2;
    }
    sc->workers = d->workers;
    sc->inner_steps = d->inner_steps;
    sc->steps = c->steps;
    sc->batch = c->B;
    sc->seq_len = c->T;
    sc->inner = c->oc;
    sc->outer.lr = d->outer_lr;
    sc->outer.momentum = d->outer_momentum;
    sc->outer.beta2 = d->outer_beta2;
    sc->keep = d->prune;
    sc->error_feedback = d->error_feedback;
    sc->drop_prob = d->drop;
    sc->screen_k = d->screen_k;
    sc->fault_worker = d->fault_worker;
    sc->fault_value = d->fault_value;
    sc->step_seconds = d->sim_step_time > 0 ? d->sim_step_time
                                            : 6.0 * param_count(&c->cfg) * c->B * c->T / d->sim_flops;
    sc->bandwidth = d->net_gbps * 1e9 / 8;
    sc->latency = d->net_latency_ms * 1e-3;
    sc->seed = c->seed;
    sc->cuda = c->cuda;
    return loco_sim_config_check(sc, sc->workers, msg, msglen) ? 2 : 0;
}

/* What the simulator's lines print beside the driver's metrics. */
typedef struct {
    loco_sim *sim;
    int steps;
} sim_view;

static void sim_progress(void *ctx, const loco_engine_metrics *m, int tty, double tps, double eta) {
    loco_progress_print(stdout, tty, m->step, ((sim_view *)ctx)->steps, m->train_loss, tps, eta);
}

static void sim_eval(void *ctx, const loco_engine_metrics *m, float vl) {
    const sim_view *v = ctx;
    const loco_sim_stats *st = loco_sim_get_stats(v->sim);
    char b[32];
    printf("step %5ld/%d  val_loss %.4f  val_ppl %.3f  sent %s  simulated %.1f s\n", m->step, v->steps, vl, exp(vl),
           train_fmt_bytes(st->bytes_up + st->bytes_down, b, sizeof b), st->sim_seconds);
}

int train_dist_run(const train_dist_args *d, train_common *c, loco_source *src) {
    char msg[512], b1[32], b2[32];
    loco_sim_config sc;
    int status = make_config(d, c, &sc, msg, sizeof msg);
    if (status) {
        fprintf(stderr, "loco train: %s\n", msg);
        return status;
    }
    train_shards ts = {0};
    float *init = NULL;
    loco_sim *sim = NULL;
    loco_engine *eng = NULL;
    if ((status = train_shards_open(&ts, d, d->workers, src, c->seed, msg, sizeof msg)) != 0) {
        fprintf(stderr, "loco train: %s\n", msg);
        goto done;
    }
    if (d->init && (status = train_load_init(d->init, c, &init, msg, sizeof msg)) != 0) {
        fprintf(stderr, "loco train: %s\n", msg);
        goto done;
    }
    int e = loco_sim_create(&sim, &sc, &c->cfg, init, ts.split, msg, sizeof msg);
    if (e) {
        /* A device's shortage of memory comes with its own reason. */
        fprintf(stderr, "loco train: %s\n", e == LOCO_ENOMEM && !c->cuda ? "out of memory" : msg);
        status = e == LOCO_EINVAL ? 2 : 1;
        goto done;
    }
    const loco_sim_stats *st = loco_sim_get_stats(sim);
    loco_gpt *m = loco_sim_model(sim);
    const int M = sc.workers;
    const int diloco = sc.algo == LOCO_ALGO_DILOCO;

    printf("loco train: data=%s (%d documents; %llu train / %llu val tokens, vocabulary %d)\n", c->data_name,
           ts.docs.n_docs, (unsigned long long)loco_source_tokens(src, 0),
           (unsigned long long)loco_source_tokens(src, 1), src->vocab_size);
    printf("  model  L=%d C=%d NH=%d V=%d max_seq_len=%d params=%zu (%.2f M)%s%s\n", c->cfg.n_layer,
           c->cfg.channels, c->cfg.n_head, c->cfg.vocab_size, c->cfg.max_seq_len, loco_gpt_num_params(m),
           loco_gpt_num_params(m) / 1e6, d->init ? " warm start from " : "", d->init ? d->init : "");
    printf("  algo   %s M=%d%s", d->algo, M, diloco ? "" : "\n");
    if (diloco)
        printf(" H=%d rounds=%ld outer=%s(lr %g, momentum %g) compress=%s prune=%g error_feedback=%d "
               "drop=%g schedule=%s\n", sc.inner_steps, st->n_rounds, loco_outer_name(sc.outer.kind),
               sc.outer.lr, sc.outer.momentum, loco_codec_name(sc.codec), sc.keep, sc.error_feedback,
               sc.drop_prob, loco_schedule_name(sc.schedule));
    printf("  split  %s:", d->split);
    for (int w = 0; w < M; w++) printf(" %ld", loco_split_worker_docs(ts.split, w));
    printf(" docs;");
    for (int w = 0; w < M; w++) printf(" %llu", (unsigned long long)loco_split_worker_tokens(ts.split, w));
    printf(" tokens\n");
    printf("  train  B=%d T=%d per worker, steps=%d per worker, seed=%llu threads=%d\n", c->B, c->T, c->steps,
           (unsigned long long)c->seed, c->threads);
    printf("  adamw  lr=%g min_lr=%g warmup=%d betas=(%g, %g) weight_decay=%g grad_clip=%g\n", c->oc.lr,
           c->oc.min_lr, c->oc.warmup_steps, c->oc.beta1, c->oc.beta2, c->oc.weight_decay, c->oc.grad_clip);
    printf("  wire   per worker and sync: up %s, down %s; simulated step %.3g s, links %g Gbit/s, %g ms\n",
           train_fmt_bytes((double)loco_sim_message_bytes(sim, 0), b1, sizeof b1),
           train_fmt_bytes((double)loco_sim_message_bytes(sim, 1), b2, sizeof b2), sc.step_seconds, d->net_gbps,
           d->net_latency_ms);
    if (c->out) printf("  output %s/{model.safetensors,metrics.jsonl,loss.svg}\n", c->out);
    fflush(stdout);

    if ((e = loco_sim_engine(&eng, sim)) != LOCO_OK) {
        fprintf(stderr, "loco train: out of memory\n");
        status = 1;
        goto done;
    }
    sim_view v = {sim, c->steps};
    drive_config dc = {.who = "loco train", .engine = eng, .src = src, .B = c->B, .T = c->T,
                       .eval_batches = c->eval_batches, .log_every = c->log_every, .eval_every = c->eval_every,
                       .screen_k = d->screen_k, .out = c->out, .inner = &c->oc, .seed = c->seed,
                       .tokenizer = c->tokenizer, .progress = sim_progress, .eval = sim_eval, .ctx = &v};
    drive_result res;
    if ((status = drive(&dc, &res)) != 0) goto done;
    printf("done: %s M=%d, %ld rounds, %ld steps per worker in %.1f s (simulated %.1f s); val_loss %.4f, "
           "val_ppl %.3f; sent %s up + %s down (%ld contributions dropped, %ld screened out)%s%s\n",
           d->algo, M, st->round, st->inner_step, res.seconds, st->sim_seconds, res.val_loss, exp(res.val_loss),
           train_fmt_bytes(st->bytes_up, b1, sizeof b1), train_fmt_bytes(st->bytes_down, b2, sizeof b2), st->dropped_total,
           st->screened_total, c->out ? "; wrote " : "", c->out ? c->out : "");
    printf("  per worker, sent / received:");
    for (int w = 0; w < M; w++)
        printf(" %s / %s", train_fmt_bytes(loco_sim_worker_bytes(sim, w, 0), b1, sizeof b1),
               train_fmt_bytes(loco_sim_worker_bytes(sim, w, 1), b2, sizeof b2));
    printf("\n");
done:
    loco_engine_free(eng);
    loco_sim_free(sim);
    train_shards_close(&ts);
    free(init);
    return status;
}
