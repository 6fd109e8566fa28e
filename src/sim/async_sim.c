/*
 * The discrete-event simulator of asynchronous DiLoCo (include/loco/async_sim.h).
 *
 * State per worker: its model (parameters and AdamW state, which persist
 * across tasks), the pseudo-gradient of its task in flight, the time of its
 * next push, and the server-update count when it fetched.  The next event is
 * found by a scan over the M finish times (M is small; the scan also makes
 * the tie rule, lowest index first, plain to see).
 *
 * Communication: a task starts with a download of theta (4P bytes) and ends
 * with an upload of the pseudo-gradient (4P bytes in fp32, the layout's
 * message size with a codec), each taking latency + bytes / bandwidth of
 * simulated time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/worker.h"
#include "loco/async_sim.h"
#include "loco/outer.h"
#include "loco/sim.h"

struct loco_async_sim {
    loco_async_sim_config c;
    const loco_split *split;
    int K;                      /* data shards */
    loco_gpt **models;          /* (M) */
    loco_cuda_gpt **devs;       /* (M) with cuda: each worker's device model, else NULL */
    loco_gpt *eval;             /* holds theta for evaluation */
    loco_rng *shard_rng;        /* (K) each shard's data stream */
    loco_rng rng;               /* jitter and preemption */
    size_t P;
    float *block;               /* theta (P) | rule state (2P) | pseudo-gradients (M P) | group (P) */
    float *theta, *g, *group;
    loco_diloco_layout lay;     /* how a push is encoded */
    float *ef, *dec;            /* (M P) residuals with error feedback; (P) scratch */
    uint8_t *wire;              /* (lay.msg_bytes) one encoded push */
    loco_async_state st;
    long *visits, *shard_steps; /* (K) tasks taken and inner steps taken per shard */
    double *finish;             /* (M) time of the next push; INFINITY while idle */
    double *compute;            /* (M) compute seconds of the task in flight */
    double *speed;              /* (M) steps per second measured at the last push; 0: unknown */
    long *fetched_at;           /* (M) server updates when the task's theta was fetched */
    int *task_steps;            /* (M) */
    float *task_loss;           /* (M) */
    int *in_group;              /* (M) scratch: pushes handled together */
    int *tok, *tgt;
    long started;               /* tasks started */
    double stale_sum;
    loco_screen_recent recent;  /* norms of recent accepted pushes (the norm screen) */
    loco_async_sim_stats stats;
};

void loco_async_sim_config_default(loco_async_sim_config *c) {
    memset(c, 0, sizeof *c);
    c->workers = 4;
    c->inner_steps = 50;
    c->pushes = 80;
    c->batch = 8;
    c->seq_len = 64;
    loco_adamw_config_default(&c->inner, 1000);
    loco_async_config_default(&c->rule, c->workers);
    c->dylu_min = 5;
    for (int w = 0; w < LOCO_ASYNC_MAX_WORKERS; w++) c->step_seconds[w] = 1.0;
    c->bandwidth = 1e9 / 8;
    c->latency = 0.05;
    c->codec = LOCO_CODEC_FP32;
    c->keep = 1.0f;
    c->screen_k = LOCO_SCREEN_K_DEFAULT;
    c->fault_worker = -1;
}

/* Returns LOCO_EINVAL with the first problem found. */
int loco_async_sim_config_check(const loco_async_sim_config *c, int shards, char *msg, size_t msglen) {
    const char *why = NULL;
    if (c->workers < 1 || c->workers > LOCO_ASYNC_MAX_WORKERS) why = "workers must be in [1, 1024]";
    else if (c->inner_steps < 1) why = "inner_steps must be at least 1";
    else if (c->pushes < 1) why = "the run needs at least one push";
    else if (c->batch < 1 || c->seq_len < 1) why = "batch and seq_len must be positive";
    else if (c->dylu && c->dylu_min < 1) why = "DyLU's minimum inner steps must be at least 1";
    else if (!(c->grace >= 0) || !isfinite(c->grace)) why = "grace must be >= 0 seconds";
    else if (c->grace > 0 && c->rule.rule == LOCO_ASYNC_SYNC) why = "grace applies to asynchronous rules";
    else if (c->rule.rule == LOCO_ASYNC_SYNC && c->rule.period != c->workers)
        why = "the sync rule averages one push per worker (period = workers)";
    /* A task's time is multiplied by exp(jitter z), z ~ N(0, 1): beyond 10
     * the product overflows to Inf for a few-sigma z and no task ends. */
    else if (!(c->jitter >= 0 && c->jitter <= 10)) why = "jitter must be in [0, 10] (a task's time is multiplied "
                                                          "by exp(jitter z), z ~ N(0, 1))";
    else if (!(c->preempt_prob >= 0 && c->preempt_prob <= 1)) why = "preempt_prob must be in [0, 1]";
    else if (!(c->preempt_seconds >= 0) || !isfinite(c->preempt_seconds)) why = "preempt_seconds must be >= 0";
    else if (!(c->bandwidth > 0) || !(c->latency >= 0)) why = "the network needs bandwidth > 0 and latency >= 0";
    else if (shards < 1) why = "no data shards";
    for (int w = 0; !why && w < c->workers; w++)
        if (!(c->step_seconds[w] > 0) || !isfinite(c->step_seconds[w]))
            why = "every worker needs a positive, finite step time";
    if (why) {
        if (msg) snprintf(msg, msglen, "%s", why);
        return LOCO_EINVAL;
    }
    return loco_async_config_check(&c->rule, msg, msglen);
}

void loco_async_sim_free(loco_async_sim *s) {
    if (!s) return;
    for (int w = 0; s->models && w < s->c.workers; w++) {
        if (s->devs) loco_cuda_gpt_free(s->devs[w]);
        loco_gpt_free(s->models[w]);
    }
    free(s->devs);
    free(s->models);
    loco_gpt_free(s->eval);
    free(s->shard_rng);
    free(s->block);
    free(s->ef);
    free(s->dec);
    free(s->wire);
    free(s->visits);
    free(s->shard_steps);
    free(s->finish);
    free(s->compute);
    free(s->speed);
    free(s->fetched_at);
    free(s->task_steps);
    free(s->task_loss);
    free(s->in_group);
    free(s->tok);
    free(s->tgt);
    free(s);
}

static double transfer(const loco_async_sim *s, double bytes) {
    return s->c.latency + bytes / s->c.bandwidth;
}

/* 1 if pushes carry the exact fp32 pseudo-gradient (dense fp32: nothing is
 * lost, so there is nothing for error feedback to carry). */
static int exact(const loco_async_sim *s) {
    return loco_diloco_dense(&s->lay);
}

/* Starts worker w's next task at time t: fetch theta, take the least-visited
 * shard, train H_w steps on it now, and schedule the push.  Returns
 * LOCO_ENONFINITE from the worker. */
static int start_task(loco_async_sim *s, int w, double t, char *msg, size_t msglen) {
    const size_t P = s->P;
    loco_gpt *m = s->models[w];
    loco_cuda_gpt *dev = s->devs ? s->devs[w] : NULL;
    float *p = loco_gpt_params(m), *g = s->g + (size_t)w * P;
    memcpy(p, s->theta, P * sizeof(float));
    s->fetched_at[w] = s->st.updates;
    /* No simulated worker dies: every one is live (src/algo/schedule.c). */
    loco_async_queue q = {s->K, s->visits, s->shard_steps, s->c.workers, s->speed, NULL,
                          s->c.inner_steps, s->c.dylu, s->c.dylu_min};
    loco_async_task task;
    int e = loco_async_task_take(&q, w, &task);
    if (e) {
        snprintf(msg, msglen, "no shard to train on");
        return e;
    }
    const int shard = task.shard, H = task.steps;
    double loss = 0;
    e = loco__worker_begin(m, dev, w, msg, msglen);
    for (int i = 0; i < H && !e; i++)
        e = loco__worker_step(m, dev, s->split, shard, &s->shard_rng[shard], s->c.batch, s->c.seq_len,
                              &s->c.inner, task.first_step + i, s->tok, s->tgt, w, &loss, msg, msglen);
    /* The pseudo-gradient below is taken on the host. */
    if (!e) e = loco__worker_end(m, dev, w, msg, msglen);
    if (e) return e;
    if (w == s->c.fault_worker) loco__worker_fault(p, P, s->c.fault_value);
    if (exact(s)) {
        for (size_t j = 0; j < P; j++) g[j] = s->theta[j] - p[j];
    } else {
        /* What the server receives: the pseudo-gradient (plus the residual)
         * through the codec, decoded; the networked worker sends these
         * bytes (src/net/netw.c). */
        e = loco_diloco_encode(&s->lay, s->theta, p, s->ef ? s->ef + (size_t)w * P : NULL, s->dec, s->wire);
        if (!e) e = loco_diloco_decode(&s->lay, s->wire, s->lay.msg_bytes, g);
        if (e) {
            snprintf(msg, msglen, "worker %d: its pseudo-gradient is not finite", w);
            return LOCO_ENONFINITE;
        }
    }
    double factor = s->c.jitter > 0 ? exp(s->c.jitter * loco_rng_normal(&s->rng)) : 1.0;
    double pause = s->c.preempt_prob > 0 && loco_rng_uniform(&s->rng) < s->c.preempt_prob ? s->c.preempt_seconds : 0;
    s->compute[w] = H * s->c.step_seconds[w] * factor;
    s->finish[w] = t + transfer(s, (double)(P * sizeof(float))) + pause + s->compute[w] +
                   transfer(s, (double)s->lay.msg_bytes);
    s->task_steps[w] = H;
    s->task_loss[w] = (float)(loss / H);
    s->stats.bytes_down += (double)(P * sizeof(float));
    s->stats.inner_steps += H;
    s->started++;
    return LOCO_OK;
}

/* Returns LOCO_EINVAL / LOCO_ECONFIG / LOCO_ENOMEM / LOCO_ENONFINITE, reason in msg. */
int loco_async_sim_create(loco_async_sim **out, const loco_async_sim_config *c, const loco_gpt_config *g,
                          const float *init, const loco_split *split, char *msg, size_t msglen) {
    *out = NULL;
    const int K = split ? loco_split_workers(split) : 0;
    int e = loco_async_sim_config_check(c, K, msg, msglen);
    if (e) return e;
    for (int k = 0; k < K; k++)
        if (loco_split_worker_tokens(split, k) < (uint64_t)c->seq_len + 1) {
            snprintf(msg, msglen, "shard %d holds %llu tokens, fewer than seq_len + 1 = %d", k,
                     (unsigned long long)loco_split_worker_tokens(split, k), c->seq_len + 1);
            return LOCO_EINVAL;
        }
    const int M = c->workers;
    loco_async_sim *s = calloc(1, sizeof *s);
    if (!s) return LOCO_ENOMEM;
    s->c = *c;
    s->split = split;
    s->K = K;
    s->models = calloc((size_t)M, sizeof *s->models);
    s->shard_rng = calloc((size_t)K, sizeof *s->shard_rng);
    s->visits = calloc((size_t)K, sizeof *s->visits);
    s->shard_steps = calloc((size_t)K, sizeof *s->shard_steps);
    s->finish = calloc((size_t)M, sizeof *s->finish);
    s->compute = calloc((size_t)M, sizeof *s->compute);
    s->speed = calloc((size_t)M, sizeof *s->speed);
    s->fetched_at = calloc((size_t)M, sizeof *s->fetched_at);
    s->task_steps = calloc((size_t)M, sizeof *s->task_steps);
    s->task_loss = calloc((size_t)M, sizeof *s->task_loss);
    s->in_group = calloc((size_t)M, sizeof *s->in_group);
    s->tok = malloc(sizeof(int) * (size_t)c->batch * c->seq_len);
    s->tgt = malloc(sizeof(int) * (size_t)c->batch * c->seq_len);
    e = (!s->models || !s->shard_rng || !s->visits || !s->shard_steps || !s->finish || !s->compute ||
         !s->speed || !s->fetched_at || !s->task_steps || !s->task_loss || !s->in_group || !s->tok || !s->tgt)
            ? LOCO_ENOMEM : LOCO_OK;
    for (int w = 0; w < M && !e; w++) e = loco_gpt_create(&s->models[w], g, c->batch, c->seq_len, c->seed, msg, msglen);
    if (!e) e = loco_gpt_create(&s->eval, g, c->batch, c->seq_len, c->seed, msg, msglen);
    if (e) goto fail;
    s->P = loco_gpt_num_params(s->models[0]);
    if ((e = loco_diloco_layout_init(&s->lay, s->models[0], c->codec, c->keep, msg, msglen)) != LOCO_OK) goto fail;
    s->block = calloc((3 + (size_t)M + 1) * s->P, sizeof(float));
    s->dec = malloc(s->P * sizeof(float));
    s->wire = malloc(s->lay.msg_bytes);
    const int feedback = c->error_feedback && !exact(s);
    if (feedback) s->ef = calloc((size_t)M * s->P, sizeof(float));
    if (!s->block || !s->dec || !s->wire || (feedback && !s->ef)) {
        e = LOCO_ENOMEM;
        goto fail;
    }
    s->theta = s->block;
    loco_async_state_init(&s->st, s->theta + s->P, s->P);
    s->g = s->theta + 3 * s->P;
    s->group = s->g + (size_t)M * s->P;
    memcpy(s->theta, init ? init : loco_gpt_params(s->models[0]), s->P * sizeof(float));
    /* Shard k draws from the stream worker k would have in the synchronous
     * simulator, so the sync rule with K = M shards sees the same batches. */
    for (int k = 0; k < K; k++) loco_rng_seed(&s->shard_rng[k], loco_stream_seed(c->seed, k));
    loco_rng_seed(&s->rng, c->seed ^ 0xa5c1ULL);
    /* Each worker's device model is made once, from its fresh host model:
     * its AdamW state then lives on the device for the whole run. */
    if (c->cuda && !(s->devs = calloc((size_t)M, sizeof *s->devs))) {
        e = LOCO_ENOMEM;
        goto fail;
    }
    for (int w = 0; c->cuda && w < M; w++)
        if ((e = loco__worker_dev_create(&s->devs[w], s->models[w], c->batch, c->seq_len, w, msg, msglen)) != LOCO_OK)
            goto fail_said;
    for (int w = 0; w < M && !e; w++)
        e = s->started < c->pushes ? start_task(s, w, 0.0, msg, msglen) : LOCO_OK;
    if (e) goto fail;
    for (int w = 0; w < M; w++)
        if (w >= s->started) s->finish[w] = INFINITY;
    *out = s;
    return LOCO_OK;
fail:
    if (e == LOCO_ENOMEM) snprintf(msg, msglen, "out of memory for %d workers", M);
fail_said:   /* msg already holds the reason (the device's own) */
    loco_async_sim_free(s);
    return e;
}

int loco_async_sim_done(const loco_async_sim *s) { return s->stats.pushes >= s->c.pushes; }

/* Returns LOCO_ERANGE after the last push, LOCO_ENONFINITE from a worker. */
int loco_async_sim_next(loco_async_sim *s, char *msg, size_t msglen) {
    if (loco_async_sim_done(s)) {
        snprintf(msg, msglen, "the run is over (%ld pushes)", s->c.pushes);
        return LOCO_ERANGE;
    }
    const int M = s->c.workers;
    const size_t P = s->P;
    int first = -1;
    for (int w = 0; w < M; w++)
        if (s->finish[w] < INFINITY && (first < 0 || s->finish[w] < s->finish[first])) first = w;
    if (first < 0) {
        snprintf(msg, msglen, "no simulated task can finish (its simulated time is not finite; lower the jitter, "
                 "the preemption time or the step times)");
        return LOCO_ERANGE;
    }
    /* The pushes handled now: the first, and with a grace period every push
     * that lands within it; they are applied together at the last one's
     * arrival, as their mean. */
    double t = s->finish[first];
    int k = 0;
    for (int w = 0; w < M; w++) {
        s->in_group[w] = w == first || (s->c.grace > 0 && s->finish[w] <= s->finish[first] + s->c.grace);
        if (s->in_group[w]) {
            k++;
            t = s->finish[w] > t ? s->finish[w] : t;
        }
    }
    float *push = s->g + (size_t)first * P;
    if (k > 1) memset(s->group, 0, P * sizeof(float));
    for (int w = 0; w < M; w++) {
        if (!s->in_group[w]) continue;
        long stale = s->st.updates - s->fetched_at[w];
        float weight = loco_async_stale_weight(&s->c.rule, stale) / (float)k;
        float *g = s->g + (size_t)w * P;
        if (k > 1)
            for (size_t j = 0; j < P; j++) s->group[j] += weight * g[j];
        else if (weight != 1.0f)
            for (size_t j = 0; j < P; j++) g[j] *= weight;
        s->speed[w] = s->task_steps[w] / s->compute[w];
        s->stats.last_worker = w;
        s->stats.last_staleness = stale;
        s->stats.last_steps = s->task_steps[w];
        s->stats.last_loss = s->task_loss[w];
        s->stats.max_staleness = stale > s->stats.max_staleness ? stale : s->stats.max_staleness;
        s->stale_sum += stale;
        s->stats.bytes_up += (double)s->lay.msg_bytes;
        s->stats.pushes++;
        s->finish[w] = INFINITY;
    }
    if (k > 1) push = s->group;
    /* The norm screen (src/optim/screen.c), as the coordinator applies it. */
    unsigned char keep;
    const double norm = loco_outer_norm(push, NULL, P);
    const double tn = s->recent.n < 3 ? loco_outer_norm(s->theta, NULL, P) : 0;
    s->stats.screened += loco_outer_screen(&norm, 1, s->c.screen_k, tn, &s->recent, &keep);
    int changed = keep ? loco_async_push(&s->c.rule, &s->st, s->theta, push, P)
                       : loco_async_push_dropped(&s->c.rule, &s->st, s->theta, push, P);
    if (changed < 0) {   /* the configuration was checked at creation; this is a bug */
        snprintf(msg, msglen, "server rule rejected its configuration");
        return changed;
    }
    s->stats.updates = s->st.updates;
    s->stats.mean_staleness = s->stale_sum / s->stats.pushes;
    s->stats.sim_seconds = t;
    /* Restarts: under the sync rule every worker waits for the round's
     * update and then all start together; otherwise the pushers start at
     * once from the newest theta. */
    for (int w = 0; w < M; w++) {
        int restart = s->c.rule.rule == LOCO_ASYNC_SYNC ? changed && s->finish[w] == INFINITY : s->in_group[w];
        if (!restart || s->started >= s->c.pushes) continue;
        int e = start_task(s, w, t, msg, msglen);
        if (e) return e;
    }
    return LOCO_OK;
}

const loco_async_sim_stats *loco_async_sim_get_stats(const loco_async_sim *s) { return &s->stats; }

const loco_async_sim_config *loco_async_sim_get_config(const loco_async_sim *s) { return &s->c; }

loco_gpt *loco_async_sim_model(loco_async_sim *s) {
    memcpy(loco_gpt_params(s->eval), s->theta, s->P * sizeof(float));
    return s->eval;
}
