/*
 * A worker of synchronous DiLoCo over ZeroMQ (include/loco/net_engine.h):
 * joins, then trains whatever task the coordinator sends, on its shard, with
 * the simulator's inner step (src/train/worker.c) and the simulator's message
 * encoding (src/algo/diloco_msg.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/worker.h"
#include "loco/diloco_msg.h"
#include "loco/net_engine.h"
#include "loco/sim.h"
#include "nn/gpt_internal.h"
#include "net/session.h"
#include "net/wire.h"

/* The worker: its session and what the coordinator sent (theta, version
 * theta_version, and the task waiting to be trained, if any), and
 * everything it allocates once (the model, and one block for the rest). */
typedef struct {
    loco_netw *w;
    const loco_split *split;
    uint64_t theta_version;
    int have_theta, have_task, have_atask;
    loco_net_task task;
    loco_net_atask atask;
    loco_gpt *m;
    loco_cuda_gpt *dev;         /* with cuda: the device model, which holds the AdamW state */
    loco_diloco_layout lay;
    float *block, *theta, *ef, *dec, *losses;
    uint8_t *head, *contrib;
    int *tok, *tgt;
    loco_rng rng;
    /* With checkpoints: the inner state (AdamW m and v, then the residual)
     * as of the start of round snap_round, to redo that round exactly. */
    float *snap;
    long snap_t, snap_round;
    loco_rng snap_rng;
    /* Lossy codecs: the outer optimizer and its state (OSYNC), to apply the
     * compressed download (DOWN) as the coordinator applies it. */
    loco_outer_config outer;
    float *ostate;
    size_t ostate_n;
    int have_ostate;
} kit;

static void kit_free(kit *k) {
    loco_cuda_gpt_free(k->dev);
    loco_gpt_free(k->m);
    free(k->block);
    free(k->ostate);
}

/* Starts worker id's inner state afresh: AdamW at zero (on the device too,
 * where it lives with cuda), no residual, and the simulator's worker id's
 * data stream from its start.  Returns the device's error, reason in msg. */
static int kit_reset(kit *k, const loco_net_welcome *w, char *msg, size_t msglen) {
    int e = loco__worker_adamw_reset(k->m, k->dev, (int)w->worker_id, msg, msglen);
    if (k->ef) memset(k->ef, 0, k->lay.P * sizeof(float));
    loco_rng_seed(&k->rng, loco_sim_worker_seed(w->seed, (int)w->worker_id));
    k->snap_round = -1;
    return e;
}

/* Returns LOCO_ECONFIG / LOCO_EINVAL / LOCO_ENOMEM, with cuda the device's
 * errors, with a reason in msg. */
static int kit_make(kit *k, const loco_net_welcome *w, int cuda, char *msg, size_t msglen) {
    memset(k, 0, sizeof *k);
    int e = loco_gpt_create(&k->m, &w->model, w->batch, w->seq_len, w->seed, msg, msglen);
    if (!e) e = loco_diloco_layout_init(&k->lay, k->m, w->codec, w->keep, msg, msglen);
    if (e) return e;
    /* One block, in 4-byte units: theta, dec, the losses, the residual
     * (error feedback), the state kept for a redo (checkpoints), a batch's
     * tokens and targets, PUSH's head and the contribution. */
    const size_t P = k->lay.P, H = (size_t)w->inner_steps, BT = (size_t)w->batch * w->seq_len;
    const size_t ef = w->error_feedback ? P : 0, snap = w->ckpt_every ? 2 * P + ef : 0;
    const size_t head = LOCO_NET_PUSH_FIXED / 4 + H, contrib = (k->lay.msg_bytes + 3) / 4;
    k->block = calloc(2 * P + H + ef + snap + 2 * BT + head + contrib, 4);
    if (!k->block) {
        snprintf(msg, msglen, "out of memory for a worker of %zu parameters", P);
        return LOCO_ENOMEM;
    }
    k->theta = k->block;
    k->dec = k->theta + P;
    k->losses = k->dec + P;
    k->ef = ef ? k->losses + H : NULL;
    k->snap = snap ? k->losses + H + ef : NULL;
    k->tok = (int *)(k->losses + H + ef + snap);
    k->tgt = k->tok + BT;
    k->head = (uint8_t *)(k->tgt + BT);
    k->contrib = k->head + 4 * head;
    /* The simulator's worker w draws from this stream, round after round. */
    if ((e = kit_reset(k, w, msg, msglen)) != LOCO_OK) return e;
    /* The device model is made once, from the fresh host model, and keeps
     * the AdamW state from task to task. */
    return cuda ? loco__worker_dev_create(&k->dev, k->m, w->batch, w->seq_len, (int)w->worker_id, msg, msglen)
                : LOCO_OK;
}

/* With checkpoints every K rounds, before training round r: a round seen
 * before is being redone by a restarted coordinator, so the state saved at
 * its start comes back; otherwise the state is saved when r is a multiple
 * of K (the coordinator's state files hold theta after such rounds).  With
 * cuda the AdamW state is the device's, so it is pulled before it is saved
 * and pushed after it is restored.  Returns the device's error, reason in
 * msg. */
static int snapshot(loco_netw *w, kit *k, uint64_t round, char *msg, size_t msglen) {
    const size_t P = k->lay.P;
    const uint32_t K = w->w.ckpt_every;
    const int id = (int)w->w.worker_id;
    if (!K) return LOCO_OK;
    if ((long)round == k->snap_round) {
        memcpy(k->m->opt_state, k->snap, 2 * P * sizeof(float));
        if (k->ef) memcpy(k->ef, k->snap + 2 * P, P * sizeof(float));
        k->m->adam_t = k->snap_t;
        k->rng = k->snap_rng;
        loco__log(w->c.verbose ? &w->link.log : NULL, "loco worker: redoing round %llu from the state kept at its "
                  "start", (unsigned long long)round);
        return loco__worker_push_state(k->m, k->dev, id, msg, msglen);
    } else if (round % K == 0) {
        int e = loco__worker_pull_state(k->m, k->dev, id, msg, msglen);
        if (e) return e;
        memcpy(k->snap, k->m->opt_state, 2 * P * sizeof(float));
        if (k->ef) memcpy(k->snap + 2 * P, k->ef, P * sizeof(float));
        k->snap_t = k->m->adam_t;
        k->snap_rng = k->rng;
        k->snap_round = (long)round;
    }
    return LOCO_OK;
}

/* Trains task t from theta and pushes the contribution.  Returns
 * LOCO_ENONFINITE (reason in msg) if training diverges, or with cuda the
 * device's error. */
static int run_task(loco_netw *w, kit *k, const loco_net_task *t, const loco_split *split, char *msg,
                    size_t msglen) {
    const int id = (int)w->w.worker_id;
    float *p = loco_gpt_params(k->m);
    int e = snapshot(w, k, t->round, msg, msglen);
    if (e) return e;
    memcpy(p, k->theta, k->lay.P * sizeof(float));
    if ((e = loco__worker_begin(k->m, k->dev, id, msg, msglen)) != LOCO_OK) return e;
    for (uint32_t i = 0; i < t->inner_steps; i++) {
        double ls = 0;
        e = loco__worker_step(k->m, k->dev, split, id, &k->rng, w->w.batch, w->w.seq_len, &w->w.inner,
                              (long)(t->first_step + i), k->tok, k->tgt, id, &ls, msg, msglen);
        if (e) return e;
        k->losses[i] = (float)ls;   /* exact: ls is one float loss */
        w->steps_done++;
        loco__worker_slow(w);
        loco__worker_beat(w, t->round, (uint64_t)w->steps_done);
    }
    /* The contribution is encoded from the parameters on the host. */
    if ((e = loco__worker_end(k->m, k->dev, id, msg, msglen)) != LOCO_OK) return e;
    loco__worker_fault(p, k->lay.P, w->c.fault_value);
    if (loco_diloco_encode(&k->lay, k->theta, p, k->ef, k->dec, k->contrib) != LOCO_OK) {
        snprintf(msg, msglen, "worker %d, round %llu: pseudo-gradient is not finite", id,
                 (unsigned long long)t->round);
        return LOCO_ENONFINITE;
    }
    loco_net_push push = {t->round, t->version, t->shard, t->inner_steps, (const uint8_t *)k->losses,
                          k->lay.msg_bytes, NULL};
    /* Losses go out as little-endian fp32, whatever the host. */
    uint8_t *lb = k->head + LOCO_NET_PUSH_FIXED;
    for (uint32_t i = 0; i < t->inner_steps; i++) loco__putf(lb + 4 * (size_t)i, k->losses[i]);
    push.losses = lb;
    size_t n = loco_net_encode_push_head(&push, k->head, LOCO_NET_PUSH_FIXED + 4 * (size_t)t->inner_steps);
    /* A full queue or a vanished coordinator loses this push, as a network
     * would; the coordinator counts it missing. */
    loco__worker_send(w, LOCO_NET_PUSH, k->head, n, k->contrib, k->lay.msg_bytes);
    w->tasks++;
    return LOCO_OK;
}

/* Trains asynchronous task t (ATASK) from theta: the shard, its data
 * stream and its schedule step come with the task, as the simulator's
 * start_task takes them from its queue, and the push carries the
 * pseudo-gradient theta - params in fp32, the simulator's g, or with a
 * codec its encoding (loco_diloco_encode, with the worker's residual).  Returns
 * LOCO_ENONFINITE (reason in msg) if training diverges, or with cuda the
 * device's error. */
static int run_atask(loco_netw *w, kit *k, const loco_net_atask *t, const loco_split *split, char *msg,
                     size_t msglen) {
    const int id = (int)w->w.worker_id;
    const size_t P = k->lay.P;
    float *p = loco_gpt_params(k->m);
    memcpy(p, k->theta, P * sizeof(float));
    loco_rng rng = t->rng;
    int e = loco__worker_begin(k->m, k->dev, id, msg, msglen);
    if (e) return e;
    for (uint32_t i = 0; i < t->inner_steps; i++) {
        double ls = 0;
        e = loco__worker_step(k->m, k->dev, split, (int)t->shard, &rng, w->w.batch, w->w.seq_len, &w->w.inner,
                              (long)(t->first_step + i), k->tok, k->tgt, id, &ls, msg, msglen);
        if (e) return e;
        k->losses[i] = (float)ls;
        w->steps_done++;
        loco__worker_slow(w);
        loco__worker_beat(w, t->task, (uint64_t)w->steps_done);
    }
    /* The pseudo-gradient is taken from the parameters on the host. */
    if ((e = loco__worker_end(k->m, k->dev, id, msg, msglen)) != LOCO_OK) return e;
    loco__worker_fault(p, P, w->c.fault_value);
    if (loco_diloco_dense(&k->lay)) {
        for (size_t j = 0; j < P; j++) k->dec[j] = k->theta[j] - p[j];
        loco_codec_encode(LOCO_CODEC_FP32, 1.0f, k->dec, 1, P, k->contrib, NULL);
    } else if (loco_diloco_encode(&k->lay, k->theta, p, k->ef, k->dec, k->contrib) != LOCO_OK) {
        /* The pseudo-gradient through the codec, with the residual kept for
         * the next task: the bytes the simulator decodes. */
        snprintf(msg, msglen, "the pseudo-gradient is not finite");
        return LOCO_ENONFINITE;
    }
    uint8_t *lb = k->head + LOCO_NET_PUSH_FIXED;
    for (uint32_t i = 0; i < t->inner_steps; i++) loco__putf(lb + 4 * (size_t)i, k->losses[i]);
    loco_net_push push = {t->task, t->version, t->shard, t->inner_steps, lb, (uint64_t)k->lay.msg_bytes, NULL};
    size_t n = loco_net_encode_push_head(&push, k->head, LOCO_NET_PUSH_FIXED + 4 * (size_t)t->inner_steps);
    loco__worker_send(w, LOCO_NET_PUSH, k->head, n, k->contrib, k->lay.msg_bytes);
    w->tasks++;
    return LOCO_OK;
}

/* Adopts OSYNC: the outer optimizer and its state at theta's version.
 * Returns 1 if the message is bad or cannot be held. */
static int on_osync(kit *k, const loco__msg *m, int have_theta, uint64_t theta_version) {
    loco_net_osync x;
    if (loco_net_decode_osync(m->data, m->n, &x) || !have_theta || x.version != theta_version) return 1;
    loco_outer_config o = {(loco_outer_kind)x.kind, x.lr, x.momentum, x.beta2, x.eps};
    if (x.n_state != loco_outer_state_floats(&o, k->lay.P)) return 1;
    if (k->ostate_n != x.n_state) {
        /* Once per run in practice: the state's size is the run's. */
        free(k->ostate);
        k->ostate = malloc(4 * (size_t)x.n_state + 1);
        k->ostate_n = k->ostate ? (size_t)x.n_state : 0;
        if (!k->ostate) return 1;
    }
    if (x.n_state && loco_codec_decode(LOCO_CODEC_FP32, 1.0f, x.state, 4 * (size_t)x.n_state, 1,
                                       (size_t)x.n_state, k->ostate))
        return 1;
    k->outer = o;
    k->have_ostate = 1;
    return 0;
}

/* Applies DOWN: target = theta - dec(the mean pseudo-gradient), then the
 * outer step, exactly as loco_diloco_target and loco_outer_step run on the
 * coordinator.  Returns 1 if the message is bad or does not follow the
 * version held (theta is then unchanged). */
static int on_down(kit *k, const loco__msg *m, int have_theta, uint64_t *theta_version) {
    loco_net_down x;
    if (loco_net_decode_down(m->data, m->n, &x) || !have_theta || !k->have_ostate || x.base != *theta_version ||
        x.bytes != k->lay.msg_bytes)
        return 1;
    const loco_diloco_layout *l = &k->lay;
    const uint8_t *o = x.wire;
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        if (loco_codec_decode(l->codec, l->keep, o, l->bytes[i], l->rows[i], l->cols[i], k->dec + l->off[i]))
            return 1;
        o += l->bytes[i];
    }
    for (size_t j = 0; j < l->P; j++) k->dec[j] = k->theta[j] - k->dec[j];
    loco_outer_step(&k->outer, k->theta, k->dec, k->ostate, l->P, (long)x.version);
    *theta_version = x.version;
    return 0;
}

/* The session layer's callbacks (src/net/session.h). */
static int ready(void *ctx) {
    const kit *k = ctx;
    return k->have_task || k->have_atask;
}

static int work(void *ctx, char *msg, size_t msglen) {
    kit *k = ctx;
    if (k->have_atask) {
        k->have_atask = 0;
        return run_atask(k->w, k, &k->atask, k->split, msg, msglen);
    }
    k->have_task = 0;
    return run_task(k->w, k, &k->task, k->split, msg, msglen);
}

/* THETA, OSYNC, DOWN, TASK or ATASK.  Returns 1 if it is none of them, is
 * malformed, or does not follow what the worker holds. */
static int message(void *ctx, const loco__msg *m) {
    kit *k = ctx;
    const loco_net_welcome *r = &k->w->w;
    int bad = 0;
    switch (m->h.type) {
    case LOCO_NET_THETA: {
        loco_net_theta th = {0};
        bad = loco_net_decode_theta(m->data, m->n, &th) || th.n_params != k->lay.P ||
              loco_codec_decode(LOCO_CODEC_FP32, 1.0f, th.params, 4 * (size_t)th.n_params, 1, k->lay.P, k->theta);
        k->have_theta = !bad;
        k->theta_version = th.version;
        k->have_task = k->have_atask = 0;   /* a task follows its theta */
        k->have_ostate = 0;                 /* and an OSYNC, if any, follows it too */
        break;
    }
    case LOCO_NET_OSYNC:
        bad = on_osync(k, m, k->have_theta, k->theta_version);
        break;
    case LOCO_NET_DOWN:
        bad = on_down(k, m, k->have_theta, &k->theta_version);
        k->have_task = 0;
        break;
    case LOCO_NET_TASK: {
        loco_net_task t;
        bad = loco_net_decode_task(m->data, m->n, &t) || t.shard != r->worker_id || !k->have_theta ||
              t.version != k->theta_version || t.inner_steps > (uint32_t)r->inner_steps;
        if (!bad) {
            k->task = t;
            k->have_task = 1;
        }
        break;
    }
    case LOCO_NET_ATASK: {
        loco_net_atask t;
        bad = loco_net_decode_atask(m->data, m->n, &t) || t.shard >= r->workers || !k->have_theta ||
              t.version != k->theta_version || t.inner_steps > (uint32_t)r->inner_steps;
        if (!bad) {
            k->atask = t;
            k->have_atask = 1;
        }
        break;
    }
    default:
        bad = 1;
    }
    return bad;
}

/* Joined again: theta and any task are the old session's.  With another
 * id than before (another worker holds ours, and its shard, now) the
 * worker starts afresh as a new one would. */
static int rejoined(void *ctx, uint32_t old_id, char *msg, size_t msglen) {
    kit *k = ctx;
    loco_netw *w = k->w;
    k->have_theta = k->have_task = k->have_atask = 0;
    if (w->w.worker_id == old_id) return LOCO_OK;
    int e = kit_reset(k, &w->w, msg, msglen);
    if (!e) loco__log(w->c.verbose ? &w->link.log : NULL, "loco worker: worker %u is now worker %u", old_id,
                      w->w.worker_id);
    return e;
}

static const loco__worker_ops netw_ops = {ready, work, message, rejoined};

/* Returns LOCO_OK on BYE, or the error that ended the run (reason in msg). */
int loco_netw_serve(loco_netw *w, const loco_split *split, char *msg, size_t msglen) {
    kit k;
    int e = w->w.run_kind == LOCO_NET_RUN_DILOCO ? kit_make(&k, &w->w, w->c.cuda, msg, msglen) : LOCO_EINVAL;
    if (w->w.run_kind != LOCO_NET_RUN_DILOCO) {
        memset(&k, 0, sizeof k);
        snprintf(msg, msglen, "the coordinator does not run DiLoCo");
    }
    if (!e) {
        k.w = w;
        k.split = split;
        e = loco__worker_run(w, &netw_ops, &k, msg, msglen);
    }
    kit_free(&k);
    return e;
}
