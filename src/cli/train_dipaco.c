/*
 * `loco train --algo dipaco`: DiPaCo in the simulator (include/loco/dipaco.h).
 * The documents are routed to the P paths by --router (loco route fit), or,
 * without one, split by --split like DiLoCo's workers (then `loco eval
 * --dipaco` needs a router to score the model).  Every path trains --steps
 * inner steps; the modules are written to --out as DiPaCo module files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/drive.h"
#include "cli/train_dipaco.h"
#include "cli/train_dist.h"
#include "loco/checkpoint.h"
#include "loco/dipaco.h"
#include "loco/metrics.h"
#include "loco/route.h"

/* Routes every training document with the router at path; fills ts like
 * train_shards_open.  Returns 0, 2 (bad usage) or 1 with a reason in msg.
 * (Shared with `loco coordinator --algo dipaco`, train_dipaco.h.) */
int train_dipaco_route_shards(train_shards *ts, const char *path, int P, int topk, const loco_source *src,
                              char *msg, size_t msglen) {
    memset(ts, 0, sizeof *ts);
    if (!src->is_shards) {
        snprintf(msg, msglen, "--router needs token shards (--train-shard), whose documents it routes");
        return 2;
    }
    ts->docs = (loco_docs){src->train.tokens, src->train.token_bytes, src->train.doc_offsets,
                           (int)src->train.n_docs};
    loco_router *r = NULL;
    loco_gpt *fm = NULL;
    int *assign = malloc(sizeof(int) * (size_t)ts->docs.n_docs * (size_t)topk);
    int e = assign ? loco_router_load(&r, path, msg, msglen) : LOCO_ENOMEM;
    if (!e && loco_router_paths(r) != P) {
        snprintf(msg, msglen, "router %s has %d paths but --modules makes %d", path, loco_router_paths(r), P);
        e = LOCO_EINVAL;
    }
    if (!e && loco_router_kind_of(r) != LOCO_ROUTER_RANDOM)
        e = loco_checkpoint_load(loco_router_feature_model(r), &fm, 64, loco_router_prefix(r), NULL, msg, msglen);
    if (!e && (topk < 1 || topk > P)) {
        snprintf(msg, msglen, "--route-topk %d must be in [1, %d], the paths", topk, P);
        e = LOCO_EINVAL;
    }
    if (!e) e = loco_router_assign_docs(r, fm, &ts->docs, topk, assign, msg, msglen);
    if (!e) e = loco_split_create_topk(&ts->split, &ts->docs, assign, topk, P, msg, msglen);
    if (e == LOCO_ENOMEM) snprintf(msg, msglen, "out of memory routing the documents");
    loco_gpt_free(fm);
    loco_router_free(r);
    free(assign);
    return e == LOCO_OK ? 0 : e == LOCO_EINVAL ? 2 : 1;
}

/* What the DiPaCo lines need beside the driver's metrics. */
typedef struct {
    loco_dipaco_sim *sim;
    train_shards *ts;
    const train_dist_args *d;
    const train_common *c;
    char *router_used;         /* the router dipaco.json names: --router, then the one EM fits */
    size_t router_len;
} dipaco_view;

static void dipaco_progress(void *ctx, const loco_engine_metrics *m, int tty, double tps, double eta) {
    loco_progress_print(stdout, tty, m->step, ((dipaco_view *)ctx)->c->steps, m->train_loss, tps, eta);
}

/* Discriminative routing after round --em-round (src/cli/train_dipaco_em.c). */
static int dipaco_after_step(void *ctx, const loco_engine_metrics *m, int tty) {
    dipaco_view *v = ctx;
    if (!v->d->em_round || m->event != v->d->em_round || m->event >= m->n_events) return 0;
    if (tty) printf("\n");
    char msg[512];
    int status = train_dipaco_em(v->sim, v->ts, v->d->router, v->c->out, v->router_used, v->router_len, msg,
                                 sizeof msg);
    if (status) fprintf(stderr, "loco train: %s\n", msg);
    return status;
}

int train_dipaco_run(const train_dist_args *d, train_common *c, loco_source *src) {
    char msg[512], b1[32], b2[32];
    loco_dipaco_sim_config dc;
    memset(&dc, 0, sizeof dc);
    if (loco_dipaco_parse(d->modules, &dc.d, msg, sizeof msg)) {
        fprintf(stderr, "loco train: --modules %s\n", msg);
        return 2;
    }
    dc.d.shared_base = !d->private_base;
    dc.inner_steps = d->inner_steps;
    dc.steps = c->steps;
    dc.batch = c->B;
    dc.seq_len = c->T;
    dc.inner = c->oc;
    loco_outer_config_default(&dc.outer);
    if (loco_outer_parse(d->outer_opt, &dc.outer.kind)) {   /* a run spec choice, checked when parsed */
        fprintf(stderr, "loco train: unknown --outer-opt\n");
        return 2;
    }
    dc.outer.lr = d->outer_lr;
    dc.outer.momentum = d->outer_momentum;
    dc.outer.beta2 = d->outer_beta2;
    dc.reset_inner = d->reset_inner;
    dc.seed = c->seed;
    dc.cuda = c->cuda;
    loco_dipaco_layout lay;
    if (loco_dipaco_layout_init(&lay, &c->cfg, &dc.d, msg, sizeof msg)) {
        fprintf(stderr, "loco train: %s (--modules against --layers)\n", msg);
        return 2;
    }
    const int P = lay.n_paths;
    char router_used[4200];
    snprintf(router_used, sizeof router_used, "%s", d->router ? d->router : "");

    int status;
    train_shards ts = {0};
    float *init = NULL;
    loco_dipaco_sim *sim = NULL;
    loco_engine *eng = NULL;
    status = d->router ? train_dipaco_route_shards(&ts, d->router, P, d->route_topk, src, msg, sizeof msg)
                       : train_shards_open(&ts, d, P, src, c->seed, msg, sizeof msg);
    if (status) {
        fprintf(stderr, "loco train: %s\n", msg);
        goto done;
    }
    if (d->init && (status = train_load_init(d->init, c, &init, msg, sizeof msg)) != 0) {
        fprintf(stderr, "loco train: %s\n", msg);
        goto done;
    }
    int e = loco_dipaco_sim_create(&sim, &dc, &c->cfg, init, ts.split, msg, sizeof msg);
    if (e) {
        /* A device's shortage of memory comes with its own reason. */
        fprintf(stderr, "loco train: %s\n", e == LOCO_ENOMEM && !c->cuda ? "out of memory" : msg);
        status = e == LOCO_EINVAL || e == LOCO_ECONFIG ? 2 : 1;
        goto done;
    }
    const loco_dipaco_sim_stats *st = loco_dipaco_sim_get_stats(sim);

    printf("loco train: data=%s (%d documents; %llu train tokens, vocabulary %d)\n", c->data_name,
           ts.docs.n_docs, (unsigned long long)loco_source_tokens(src, 0), src->vocab_size);
    printf("  model  L=%d C=%d NH=%d V=%d max_seq_len=%d; one path %zu params (%.2f M), all modules %zu "
           "(%.2f M)%s%s\n", c->cfg.n_layer, c->cfg.channels, c->cfg.n_head, c->cfg.vocab_size,
           c->cfg.max_seq_len, lay.path_params, lay.path_params / 1e6, lay.total, lay.total / 1e6,
           d->init ? "; warm start from " : "", d->init ? d->init : "");
    printf("  dipaco levels");
    for (int v = 0; v < lay.d.n_levels; v++) printf(" %dx%d", lay.d.layers[v], lay.d.modules[v]);
    printf(" (blocks x modules), %d paths, %s base, H=%d rounds=%ld outer=%s(lr %g, momentum %g)%s\n", P,
           lay.d.shared_base ? "shared" : "private", dc.inner_steps, st->n_rounds, loco_outer_name(dc.outer.kind),
           dc.outer.lr, dc.outer.momentum, dc.reset_inner ? ", inner state reset every task" : "");
    printf("  shards (%s):", d->router ? d->router : d->split);
    for (int p = 0; p < P; p++) printf(" %ld", loco_split_worker_docs(ts.split, p));
    printf(" docs\n");
    printf("  train  B=%d T=%d per path, steps=%d per path, seed=%llu threads=%d\n", c->B, c->T, c->steps,
           (unsigned long long)c->seed, c->threads);
    if (c->out) printf("  output %s/{dipaco.json,<module>.safetensors,metrics.jsonl}\n", c->out);
    fflush(stdout);
    if ((e = loco_dipaco_sim_engine(&eng, sim, c->tokenizer, router_used)) != LOCO_OK) {
        fprintf(stderr, "loco train: out of memory\n");
        status = 1;
        goto done;
    }
    dipaco_view view = {sim, &ts, d, c, router_used, sizeof router_used};
    drive_config run = {.who = "loco train", .engine = eng, .B = c->B, .T = c->T, .log_every = c->log_every,
                        .out = c->out, .progress = dipaco_progress, .after_step = dipaco_after_step, .ctx = &view};
    drive_result res;
    if ((status = drive(&run, &res)) != 0) goto done;
    printf("done: dipaco %d paths, %ld rounds, %ld steps per path in %.1f s; last train loss %.4f; sent %s up + "
           "%s down%s%s\n", P, st->round, st->inner_step, res.seconds, st->train_loss,
           train_fmt_bytes(st->bytes_up, b1, sizeof b1), train_fmt_bytes(st->bytes_down, b2, sizeof b2),
           c->out ? "; wrote " : "", c->out ? c->out : "");
done:
    loco_engine_free(eng);
    loco_dipaco_sim_free(sim);
    train_shards_close(&ts);
    free(init);
    return status;
}
