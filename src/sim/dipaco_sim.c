/*
 * The DiPaCo simulator (include/loco/dipaco.h): the P paths run in turn, in
 * path order, each as a DiLoCo worker on its own shard, then every module
 * takes its outer step from the paths that contain it.
 *
 * Each path keeps its own model, and with it its AdamW moments, across
 * rounds (as DiLoCo's workers do), unless reset_inner asks every task to
 * start afresh: then a round's work on path p depends only on the modules
 * and on (seed, p, round), so any worker of a task queue can take it and
 * reproduce it exactly.
 *
 * Communication per round, as a deployment with one worker per path would
 * see it: path p downloads its modules (4 S bytes, S = the path's
 * parameters) and uploads its parameters (4 S bytes), which the server
 * reduces into the modules.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/dipaco.h"
#include "loco/sim.h"
#include "train/worker.h"

struct loco_dipaco_sim {
    loco_dipaco_sim_config c;
    loco_dipaco_layout lay;
    const loco_split *split;
    loco_gpt **paths;           /* (P) one model per path */
    loco_cuda_gpt **devs;       /* (P) with cuda: each path's device model, else NULL */
    loco_rng *rng;              /* (P) data streams */
    double *weight;             /* (P) shard tokens */
    float *block;               /* modules (total) | outer state | target (total) */
    float *modules, *ostate, *target;
    double *sum, *wsum;         /* (total), (n_modules) */
    long *t;                    /* (n_modules) outer steps per module */
    int *tok, *tgt;             /* (B, T) each */
    loco_dipaco_sim_stats st;
};

uint64_t loco_dipaco_task_seed(uint64_t seed, int p, long r) {
    uint64_t s = loco_sim_worker_seed(seed, p);
    /* A task's stream: the path's stream seed mixed with the round by an odd
     * multiplier, so that (p, r) pairs do not collide for any practical P. */
    return r < 0 ? s : s ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(r + 1));
}

void loco_dipaco_sim_free(loco_dipaco_sim *s) {
    if (!s) return;
    for (int p = 0; p < s->lay.n_paths && s->paths; p++) {
        if (s->devs) loco_cuda_gpt_free(s->devs[p]);
        loco_gpt_free(s->paths[p]);
    }
    free(s->devs);
    free(s->paths);
    free(s->rng);
    free(s->weight);
    free(s->block);
    free(s->sum);
    free(s->wsum);
    free(s->t);
    free(s->tok);
    free(s->tgt);
    free(s);
}

/* Returns LOCO_EINVAL / LOCO_ECONFIG / LOCO_ENOMEM with a reason in msg. */
int loco_dipaco_sim_create(loco_dipaco_sim **out, const loco_dipaco_sim_config *c, const loco_gpt_config *g,
                           const float *init, const loco_split *split, char *msg, size_t msglen) {
    *out = NULL;
    loco_dipaco_layout lay;
    int e = loco_dipaco_layout_init(&lay, g, &c->d, msg, msglen);
    if (e) return e;
    const int P = lay.n_paths;
    const char *why = NULL;
    if (c->inner_steps < 1) why = "inner_steps must be at least 1";
    else if (c->steps < 1) why = "steps must be at least 1";
    else if (c->batch < 1 || c->seq_len < 1) why = "batch and seq_len must be positive";
    else if (!(c->outer.lr > 0) || !isfinite(c->outer.lr)) why = "the outer learning rate must be positive";
    else if (!(c->outer.momentum >= 0 && c->outer.momentum < 1)) why = "the outer momentum must be in [0, 1)";
    else if (!split || loco_split_workers(split) != P) why = "the data split does not have one shard per path";
    if (why) {
        snprintf(msg, msglen, "%s", why);
        return LOCO_EINVAL;
    }
    for (int p = 0; p < P; p++)
        if (loco_split_worker_tokens(split, p) < (uint64_t)c->seq_len + 1) {
            snprintf(msg, msglen, "path %d's shard holds %llu tokens, fewer than seq_len + 1 = %d", p,
                     (unsigned long long)loco_split_worker_tokens(split, p), c->seq_len + 1);
            return LOCO_EINVAL;
        }
    loco_dipaco_sim *s = calloc(1, sizeof *s);
    if (!s) return LOCO_ENOMEM;
    s->c = *c;
    s->lay = lay;
    s->split = split;
    size_t state_n = loco_dipaco_state_floats(&lay, &c->outer);
    s->paths = calloc((size_t)P, sizeof *s->paths);
    s->rng = calloc((size_t)P, sizeof *s->rng);
    s->weight = calloc((size_t)P, sizeof *s->weight);
    s->block = calloc(2 * lay.total + state_n, sizeof(float));
    s->sum = malloc(lay.total * sizeof(double));
    s->wsum = malloc((size_t)lay.n_modules * sizeof(double));
    s->t = calloc((size_t)lay.n_modules, sizeof *s->t);
    s->tok = malloc(sizeof(int) * (size_t)c->batch * c->seq_len);
    s->tgt = malloc(sizeof(int) * (size_t)c->batch * c->seq_len);
    e = (!s->paths || !s->rng || !s->weight || !s->block || !s->sum || !s->wsum || !s->t || !s->tok || !s->tgt)
            ? LOCO_ENOMEM : LOCO_OK;
    if (!e && c->cuda && !(s->devs = calloc((size_t)P, sizeof *s->devs))) e = LOCO_ENOMEM;
    for (int p = 0; p < P && !e; p++)
        e = loco_gpt_create(&s->paths[p], g, c->batch, c->seq_len, c->seed, msg, msglen);
    /* Each path's device model is made once, from its fresh host model: its
     * AdamW state then lives on the device for the whole run. */
    int said = 0;
    for (int p = 0; p < P && !e && c->cuda; p++)
        said = (e = loco__worker_dev_create(&s->devs[p], s->paths[p], c->batch, c->seq_len, p, msg, msglen)) != 0;
    if (e) {
        if (e == LOCO_ENOMEM && !said) snprintf(msg, msglen, "out of memory for %d paths", P);
        loco_dipaco_sim_free(s);
        return e;
    }
    s->modules = s->block;
    s->ostate = s->modules + lay.total;
    s->target = s->ostate + state_n;
    loco_dipaco_scatter(&lay, init ? init : loco_gpt_params(s->paths[0]), s->modules);
    for (int p = 0; p < P; p++) {
        loco_rng_seed(&s->rng[p], loco_dipaco_task_seed(c->seed, p, -1));
        /* Shard sizes in tokens are the weights; below 2^29 they keep every
         * product w * x exact in double (dipaco.h). */
        s->weight[p] = (double)loco_split_worker_tokens(split, p);
    }
    s->st.n_rounds = loco_round_count(c->steps, c->inner_steps);
    *out = s;
    return LOCO_OK;
}

/* Returns LOCO_ERANGE when over, LOCO_ENONFINITE from a path. */
int loco_dipaco_sim_round(loco_dipaco_sim *s, char *msg, size_t msglen) {
    const loco_dipaco_layout *l = &s->lay;
    const int P = l->n_paths;
    const long H = s->c.inner_steps, r = s->st.round;
    if (r >= s->st.n_rounds) {
        snprintf(msg, msglen, "the run is over (%ld rounds)", s->st.n_rounds);
        return LOCO_ERANGE;
    }
    long first;
    const long h = loco_round_steps(s->c.steps, H, r, &first);
    double loss_sum = 0;
    memset(s->sum, 0, l->total * sizeof(double));
    memset(s->wsum, 0, (size_t)l->n_modules * sizeof(double));
    for (int p = 0; p < P; p++) {
        loco_gpt *m = s->paths[p];
        loco_cuda_gpt *dev = s->devs ? s->devs[p] : NULL;
        loco_dipaco_gather(l, s->modules, p, loco_gpt_params(m));
        int e = LOCO_OK;
        if (s->c.reset_inner) {
            /* On the device too: that is where the path's moments are. */
            e = loco__worker_adamw_reset(m, dev, p, msg, msglen);
            loco_rng_seed(&s->rng[p], loco_dipaco_task_seed(s->c.seed, p, r));
        }
        if (!e) e = loco__worker_begin(m, dev, p, msg, msglen);
        for (long i = 0; i < h && !e; i++)
            e = loco__worker_step(m, dev, s->split, p, &s->rng[p], s->c.batch, s->c.seq_len, &s->c.inner,
                                  first + i, s->tok, s->tgt, p, &loss_sum, msg, msglen);
        /* The modules are reduced from the path's parameters on the host. */
        if (!e) e = loco__worker_end(m, dev, p, msg, msglen);
        if (e) return e;
        loco_dipaco_accumulate(l, p, s->weight[p], loco_gpt_params(m), s->sum, s->wsum);
        s->st.bytes_down += (double)l->path_params * sizeof(float);
        s->st.bytes_up += (double)l->path_params * sizeof(float);
    }
    if (loco_dipaco_merge(l, &s->c.outer, s->modules, s->ostate, s->t, s->sum, s->wsum, s->target) < 0) {
        snprintf(msg, msglen, "round %ld: a module's mean is not finite", r);
        return LOCO_ENONFINITE;
    }
    s->st.train_loss = (float)(loss_sum / ((double)P * h));
    s->st.inner_step += h;
    s->st.round++;
    return LOCO_OK;
}

int loco_dipaco_sim_set_split(loco_dipaco_sim *s, const loco_split *split, char *msg, size_t msglen) {
    const int P = s->lay.n_paths;
    if (!split || loco_split_workers(split) != P) {
        snprintf(msg, msglen, "the data split does not have one shard per path");
        return LOCO_EINVAL;
    }
    for (int p = 0; p < P; p++)
        if (loco_split_worker_tokens(split, p) < (uint64_t)s->c.seq_len + 1) {
            snprintf(msg, msglen, "path %d's new shard holds %llu tokens, fewer than seq_len + 1 = %d", p,
                     (unsigned long long)loco_split_worker_tokens(split, p), s->c.seq_len + 1);
            return LOCO_EINVAL;
        }
    s->split = split;
    for (int p = 0; p < P; p++) s->weight[p] = (double)loco_split_worker_tokens(split, p);
    return LOCO_OK;
}

const loco_dipaco_sim_stats *loco_dipaco_sim_get_stats(const loco_dipaco_sim *s) { return &s->st; }
const loco_dipaco_layout *loco_dipaco_sim_layout(const loco_dipaco_sim *s) { return &s->lay; }
float *loco_dipaco_sim_modules(loco_dipaco_sim *s) { return s->modules; }

loco_gpt *loco_dipaco_sim_path(loco_dipaco_sim *s, int p) {
    if (p < 0 || p >= s->lay.n_paths) return NULL;
    loco_dipaco_gather(&s->lay, s->modules, p, loco_gpt_params(s->paths[p]));
    return s->paths[p];
}
