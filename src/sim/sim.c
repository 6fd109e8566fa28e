/*
 * The many-worker simulator (include/loco/sim.h): M workers in one process,
 * run in turn in a fixed order, with byte accounting and a simulated clock.
 *
 * Communication model (a parameter server, as the ZeroMQ engine will be):
 *   DDP, every step:  each worker sends its gradient (4P bytes) and receives
 *                     the averaged gradient (4P bytes).
 *   DiLoCo, every H:  each active worker sends one message: its parameters
 *                     theta_i when the codec is fp32 and dense (4P bytes, the
 *                     same size as the pseudo-gradient, and exact), otherwise
 *                     its encoded pseudo-gradient theta - theta_i.  It
 *                     receives the averaged pseudo-gradient in the same
 *                     encoding, and every replica applies the same outer step
 *                     to it, so workers and server hold the same theta bit
 *                     for bit.  A worker returning after sitting out rounds
 *                     pulls the full theta (4P bytes) first.
 * Simulated time of a round: the slowest active worker's compute plus its
 * upload (latency + bytes / bandwidth), then the download; the server's own
 * arithmetic is taken as free.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/diloco_msg.h"
#include "loco/sim.h"
#include "train/worker.h"

struct loco_sim {
    loco_sim_config c;
    const loco_split *split;
    int n_models;               /* DDP: 1 replica; DiLoCo: one per worker */
    loco_gpt **models;
    loco_cuda_gpt **devs;       /* (n_models) with cuda: each worker's device model, else NULL */
    loco_rng *rng;              /* M data streams */
    loco_rng drop_rng;
    size_t P;
    float *block;               /* theta (P) | outer state | decoded (P) | error feedback (M P) */
    float *theta, *ostate, *dec, *ef;
    double *sum;                /* (P) the reduction, accumulated in double in worker order */
    uint8_t *wire;              /* one encoded message (loco_diloco_layout.msg_bytes) */
    int *tok, *tgt;             /* (B, T) each */
    int *was_active;            /* (M) took part in the previous round */
    double *bytes;              /* (2, M) sent and received per worker */
    loco_diloco_layout lay;     /* the tensors and their encoding (src/algo/diloco_msg.c) */
    size_t msg[2];              /* bytes of one worker's message per sync: up, down */
    long outer_t;               /* outer steps applied */
    double *norms;              /* (M) this round's contribution norms */
    unsigned char *delivered, *keep;   /* (M) each */
    loco_screen_recent recent;  /* norms of recent accepted lone contributions */
    loco_sim_stats st;
};

void loco_sim_config_default(loco_sim_config *c) {
    memset(c, 0, sizeof *c);
    c->algo = LOCO_ALGO_DILOCO;
    c->workers = 8;
    c->inner_steps = 100;
    c->steps = 1000;
    c->batch = 8;
    c->seq_len = 64;
    loco_adamw_config_default(&c->inner, (int)c->steps);
    loco_outer_config_default(&c->outer);
    c->codec = LOCO_CODEC_FP32;
    c->keep = 1.0f;
    c->schedule = LOCO_SCHED_CONSTANT;
    c->step_seconds = 0;
    c->bandwidth = 1e9 / 8;
    c->latency = 0.05;
    c->screen_k = LOCO_SCREEN_K_DEFAULT;
    c->fault_worker = -1;
}

uint64_t loco_sim_worker_seed(uint64_t seed, int w) { return loco_stream_seed(seed, w); }

/* Returns LOCO_EINVAL with the first problem found. */
int loco_sim_config_check(const loco_sim_config *c, int split_workers, char *msg, size_t msglen) {
    const char *why = NULL;
    int diloco = c->algo == LOCO_ALGO_DILOCO;
    if (c->algo != LOCO_ALGO_DDP && !diloco) why = "unknown algorithm";
    else if (c->workers < 1) why = "workers must be at least 1";
    else if (diloco && c->inner_steps < 1) why = "inner_steps must be at least 1";
    else if (c->steps < 1) why = "steps must be at least 1";
    else if (c->batch < 1 || c->seq_len < 1) why = "batch and seq_len must be positive";
    else if (!(c->drop_prob >= 0 && c->drop_prob <= 1)) why = "drop_prob must be a probability in [0, 1]";
    else if (!(c->keep > 0 && c->keep <= 1)) why = "keep is a fraction in (0, 1]";
    else if (!(c->outer.lr > 0) || !isfinite(c->outer.lr)) why = "the outer learning rate must be positive";
    else if (!(c->screen_k >= 0) || !isfinite(c->screen_k)) why = "screen_k must be >= 0 (0: keep every finite contribution)";
    else if (!(c->outer.momentum >= 0 && c->outer.momentum < 1)) why = "the outer momentum must be in [0, 1)";
    else if (!diloco && (c->codec != LOCO_CODEC_FP32 || c->keep < 1 || c->error_feedback ||
                         c->drop_prob > 0 || c->schedule != LOCO_SCHED_CONSTANT))
        why = "compression, pruning, error feedback, drops and compute schedules apply to DiLoCo's "
              "pseudo-gradients; DDP averages fp32 gradients every step";
    else if (c->error_feedback && c->codec == LOCO_CODEC_FP32 && c->keep >= 1)
        why = "error feedback needs a lossy codec or keep < 1";
    else if (!(c->bandwidth > 0) || !(c->latency >= 0) || !(c->step_seconds >= 0))
        why = "the simulated network needs bandwidth > 0, latency >= 0 and step time >= 0";
    else if (split_workers != c->workers) why = "the data split does not have one shard per worker";
    else if (c->cuda && !diloco)
        why = "the GPU runs DiLoCo's workers; DDP runs on the CPU only";
    if (why) {
        if (msg) snprintf(msg, msglen, "%s", why);
        return LOCO_EINVAL;
    }
    return LOCO_OK;
}

void loco_sim_free(loco_sim *s) {
    if (!s) return;
    for (int i = 0; i < s->n_models; i++) {
        if (s->devs) loco_cuda_gpt_free(s->devs[i]);
        loco_gpt_free(s->models[i]);
    }
    free(s->devs);
    free(s->models);
    free(s->rng);
    free(s->block);
    free(s->sum);
    free(s->wire);
    free(s->tok);
    free(s->tgt);
    free(s->was_active);
    free(s->norms);
    free(s->delivered);
    free(s->bytes);
    free(s);
}

/* Returns LOCO_ECONFIG / LOCO_EINVAL / LOCO_ENOMEM with a reason in msg. */
int loco_sim_create(loco_sim **out, const loco_sim_config *c, const loco_gpt_config *g,
                    const float *init, const loco_split *split, char *msg, size_t msglen) {
    *out = NULL;
    int e = loco_sim_config_check(c, split ? loco_split_workers(split) : 0, msg, msglen);
    if (e) return e;
    const int M = c->workers;
    for (int w = 0; w < M; w++)
        if (loco_split_worker_tokens(split, w) < (uint64_t)c->seq_len + 1) {
            snprintf(msg, msglen, "worker %d's shard holds %llu tokens, fewer than seq_len + 1 = %d",
                     w, (unsigned long long)loco_split_worker_tokens(split, w), c->seq_len + 1);
            return LOCO_EINVAL;
        }
    loco_sim *s = calloc(1, sizeof *s);
    if (!s) return LOCO_ENOMEM;
    s->c = *c;
    s->split = split;
    s->n_models = c->algo == LOCO_ALGO_DILOCO ? M : 1;
    s->models = calloc((size_t)s->n_models, sizeof *s->models);
    s->rng = calloc((size_t)M, sizeof *s->rng);
    s->was_active = calloc((size_t)M, sizeof *s->was_active);
    s->bytes = calloc(2 * (size_t)M, sizeof *s->bytes);
    s->norms = calloc((size_t)M, sizeof *s->norms);
    s->delivered = calloc(2 * (size_t)M, 1);
    s->keep = s->delivered ? s->delivered + M : NULL;
    s->tok = malloc(sizeof(int) * (size_t)c->batch * c->seq_len);
    s->tgt = malloc(sizeof(int) * (size_t)c->batch * c->seq_len);
    e = (!s->models || !s->rng || !s->was_active || !s->bytes || !s->norms || !s->delivered || !s->tok || !s->tgt)
            ? LOCO_ENOMEM : LOCO_OK;
    for (int i = 0; i < s->n_models && !e; i++)
        e = loco_gpt_create(&s->models[i], g, c->batch, c->seq_len, c->seed, msg, msglen);
    if (e) goto fail;

    loco_gpt *m0 = s->models[0];
    s->P = loco_gpt_num_params(m0);
    if ((e = loco_diloco_layout_init(&s->lay, m0, c->codec, c->keep, msg, msglen)) != LOCO_OK) goto fail;
    s->msg[0] = s->msg[1] = s->lay.msg_bytes;
    if (c->algo == LOCO_ALGO_DDP) s->msg[0] = s->msg[1] = s->P * sizeof(float);

    size_t state_n = loco_outer_state_floats(&c->outer, s->P);
    size_t ef_n = c->error_feedback ? (size_t)M * s->P : 0;
    s->block = calloc(2 * s->P + state_n + ef_n, sizeof(float));
    s->sum = malloc(s->P * sizeof(double));
    s->wire = malloc(s->lay.msg_bytes);
    if (!s->block || !s->sum || !s->wire) {
        e = LOCO_ENOMEM;
        goto fail;
    }
    s->theta = s->block;
    s->ostate = s->theta + s->P;
    s->dec = s->ostate + state_n;
    s->ef = c->error_feedback ? s->dec + s->P : NULL;
    memcpy(s->theta, init ? init : loco_gpt_params(m0), s->P * sizeof(float));
    for (int i = 0; i < s->n_models; i++) memcpy(loco_gpt_params(s->models[i]), s->theta, s->P * sizeof(float));
    for (int w = 0; w < M; w++) {
        loco_rng_seed(&s->rng[w], loco_sim_worker_seed(c->seed, w));
        s->was_active[w] = 1;   /* every worker starts with theta */
    }
    loco_rng_seed(&s->drop_rng, c->seed ^ 0xd40bULL);
    s->st.n_rounds = c->algo == LOCO_ALGO_DILOCO ? loco_round_count(c->steps, c->inner_steps) : c->steps;
    /* Each worker's device model is made once, from its fresh host model:
     * its AdamW state then lives on the device for the whole run. */
    if (c->cuda && !(s->devs = calloc((size_t)s->n_models, sizeof *s->devs))) {
        e = LOCO_ENOMEM;
        goto fail;
    }
    for (int i = 0; c->cuda && i < s->n_models; i++)
        if ((e = loco__worker_dev_create(&s->devs[i], s->models[i], c->batch, c->seq_len, i, msg, msglen)) != LOCO_OK)
            goto fail_said;
    *out = s;
    return LOCO_OK;
fail:
    if (e == LOCO_ENOMEM) snprintf(msg, msglen, "out of memory for %d workers", M);
fail_said:   /* msg already holds the reason (the device's own) */
    loco_sim_free(s);
    return e;
}

static double transfer(const loco_sim *s, size_t bytes) {
    return s->c.latency + (double)bytes / s->c.bandwidth;
}

/* DDP: the gradients of the M batches are summed into one replica in worker
 * order and scaled by 1/M, which is the gradient of the mean loss over all
 * M B sequences; then one AdamW step.  Returns LOCO_ENONFINITE. */
static int ddp_round(loco_sim *s, char *msg, size_t msglen) {
    const int M = s->c.workers, B = s->c.batch, T = s->c.seq_len;
    loco_gpt *m = s->models[0];
    long step = s->st.round;
    double loss_sum = 0;
    loco_gpt_zero_grad(m);
    for (int w = 0; w < M; w++) {
        loco_worker_batch(s->split, w, &s->rng[w], B, T, s->tok, s->tgt);
        loco_gpt_forward(m, s->tok, s->tgt, B, T);
        loss_sum += loco_gpt_loss(m);
        loco_gpt_backward(m);
    }
    float *g = loco_gpt_grads(m), inv = 1.0f / (float)M;
    for (size_t i = 0; i < s->P; i++) g[i] *= inv;
    float norm;
    float loss = (float)(loss_sum / M);
    if (loco_gpt_adamw_step(m, &s->c.inner, (int)step, &norm) != LOCO_OK || !isfinite(loss)) {
        snprintf(msg, msglen, "step %ld: loss or gradient is not finite (loss %g, norm %g)",
                 step, loss, norm);
        return LOCO_ENONFINITE;
    }
    memcpy(s->theta, loco_gpt_params(m), s->P * sizeof(float));
    for (int w = 0; w < M; w++) {
        s->bytes[w] += (double)s->msg[0];
        s->bytes[M + w] += (double)s->msg[1];
    }
    s->st.active = s->st.received = M;
    s->st.train_loss = loss;
    s->st.inner_step++;
    s->st.sim_seconds += s->c.step_seconds + transfer(s, s->msg[0]) + transfer(s, s->msg[1]);
    return LOCO_OK;
}

/* Worker w's contribution, encoded into real bytes as the worker would send
 * it (its parameters when dense fp32, else its pseudo-gradient, with error
 * feedback if on), then, if delivered, decoded and added to s->sum as the
 * server would.  Both halves are src/algo/diloco_msg.c, which the networked
 * engine calls too.  Returns LOCO_ENONFINITE for a value that cannot be
 * sent. */
static int contribute(loco_sim *s, int w, int delivered) {
    float *e = s->ef ? s->ef + (size_t)w * s->P : NULL;
    /* The worker's parameters are not needed after this message: its next
     * round starts from theta, so the pseudo-gradient is built in place,
     * and the server's decoding of the message is kept there until the
     * screen has seen every norm (loco_diloco_norm, as the coordinator). */
    float *params = loco_gpt_params(s->models[w]);
    if (w == s->c.fault_worker) loco__worker_fault(params, s->P, s->c.fault_value);
    int err = loco_diloco_encode(&s->lay, s->theta, params, e, s->dec, s->wire);
    if (!err && delivered) {
        err = loco_diloco_decode(&s->lay, s->wire, s->lay.msg_bytes, params);
        s->norms[w] = loco_diloco_norm(&s->lay, s->theta, params);
    }
    return err;
}

/* One DiLoCo round; returns LOCO_ENONFINITE from a worker or the codec. */
static int diloco_round(loco_sim *s, char *msg, size_t msglen) {
    const int M = s->c.workers;
    const long H = s->c.inner_steps, r = s->st.round;
    long first;
    const long h = loco_round_steps(s->c.steps, H, r, &first);
    const int k = loco_schedule_active(s->c.schedule, M, r, s->st.n_rounds);
    const size_t P = s->P, full = P * sizeof(float);
    double loss_sum = 0, slowest = 0;
    for (int w = 0; w < k; w++) {
        loco_gpt *m = s->models[w];
        loco_cuda_gpt *dev = s->devs ? s->devs[w] : NULL;
        double t = 0;
        if (!s->was_active[w]) {   /* back after sitting out: pull theta */
            s->bytes[M + w] += (double)full;
            t += transfer(s, full);
        }
        memcpy(loco_gpt_params(m), s->theta, full);
        int e = loco__worker_begin(m, dev, w, msg, msglen);
        for (long i = 0; i < h && !e; i++)
            e = loco__worker_step(m, dev, s->split, w, &s->rng[w], s->c.batch, s->c.seq_len, &s->c.inner,
                                  first + i, s->tok, s->tgt, w, &loss_sum, msg, msglen);
        /* The reduction below reads the worker's parameters on the host. */
        if (!e) e = loco__worker_end(m, dev, w, msg, msglen);
        if (e) return e;
        t += (double)h * s->c.step_seconds + transfer(s, s->msg[0]);
        if (t > slowest) slowest = t;
    }
    /* The messages, in worker order.  Every active worker's drop is drawn,
     * delivered or not, so the drop stream does not depend on the outcome. */
    int arrived = 0;
    for (int w = 0; w < k; w++) {
        int delivered = !(s->c.drop_prob > 0 && loco_rng_uniform(&s->drop_rng) < s->c.drop_prob);
        if (contribute(s, w, delivered) != LOCO_OK) {
            snprintf(msg, msglen, "worker %d: pseudo-gradient is not finite", w);
            return LOCO_ENONFINITE;
        }
        s->bytes[w] += (double)s->msg[0];
        s->delivered[w] = (unsigned char)delivered;
        if (delivered) s->norms[arrived++] = s->norms[w];
    }
    /* The screen (src/optim/screen.c), then the reduction of what it kept,
     * in worker order. */
    const double tn = arrived == 1 && s->recent.n < 3 ? loco_outer_norm(s->theta, NULL, P) : 0;
    const int screened = loco_outer_screen(s->norms, arrived, s->c.screen_k, tn, &s->recent, s->keep);
    memset(s->sum, 0, P * sizeof(double));
    int received = 0;
    for (int w = 0, i = 0; w < k; w++) {
        if (!s->delivered[w] || !s->keep[i++]) continue;
        const float *c = loco_gpt_params(s->models[w]);
        for (size_t j = 0; j < P; j++) s->sum[j] += (double)c[j];
        received++;
    }
    s->st.screened = screened;
    s->st.screened_total += screened;
    if (received > 0) {
        /* target = where the received workers went: their mean parameters,
         * or theta minus their mean pseudo-gradient as the download carries
         * it (encoded like the uploads). */
        float *target = s->dec;
        float *avg = loco_gpt_params(s->models[0]);   /* free until the copy below */
        if (loco_diloco_target(&s->lay, s->sum, received, s->theta, avg, s->wire, target) != LOCO_OK) {
            snprintf(msg, msglen, "round %ld: mean pseudo-gradient is not finite", r);
            return LOCO_ENONFINITE;
        }
        if (loco_outer_step_checked(&s->c.outer, s->theta, target, s->ostate, P, s->outer_t + 1) != LOCO_OK) {
            snprintf(msg, msglen, "round %ld: the outer step would make the parameters non-finite", r);
            return LOCO_ENONFINITE;
        }
        s->outer_t++;
        for (int w = 0; w < k; w++) s->bytes[M + w] += (double)s->msg[1];
        slowest += transfer(s, s->msg[1]);
    }
    for (int w = 0; w < M; w++) {
        if (w < k) memcpy(loco_gpt_params(s->models[w]), s->theta, full);
        s->was_active[w] = w < k;
    }
    s->st.active = k;
    s->st.received = received;
    s->st.dropped_total += k - arrived;
    s->st.train_loss = (float)(loss_sum / ((double)k * h));
    s->st.inner_step += h;
    s->st.sim_seconds += slowest;
    return LOCO_OK;
}

int loco_sim_round(loco_sim *s, char *msg, size_t msglen) {
    if (s->st.round >= s->st.n_rounds) {
        snprintf(msg, msglen, "the run is over (%ld rounds)", s->st.n_rounds);
        return LOCO_ERANGE;
    }
    int e = s->c.algo == LOCO_ALGO_DDP ? ddp_round(s, msg, msglen) : diloco_round(s, msg, msglen);
    if (e) return e;
    s->st.round++;
    s->st.bytes_up = s->st.bytes_down = 0;
    for (int w = 0; w < s->c.workers; w++) {
        s->st.bytes_up += s->bytes[w];
        s->st.bytes_down += s->bytes[s->c.workers + w];
    }
    return LOCO_OK;
}

const loco_sim_stats *loco_sim_get_stats(const loco_sim *s) { return &s->st; }

double loco_sim_worker_bytes(const loco_sim *s, int w, int dir) {
    if (w < 0 || w >= s->c.workers || dir < 0 || dir > 1) return 0;
    return s->bytes[dir * s->c.workers + w];
}

size_t loco_sim_message_bytes(const loco_sim *s, int dir) { return s->msg[dir ? 1 : 0]; }

loco_gpt *loco_sim_model(loco_sim *s) { return s->models[0]; }
