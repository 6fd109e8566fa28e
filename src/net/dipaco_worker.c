/*
 * A worker of DiPaCo over ZeroMQ (include/loco/net_engine.h, loco_dpw_serve):
 * asks for work, trains the (path, round) task it is leased exactly as the
 * simulator trains it with reset_inner = 1, pushes the path's parameters,
 * and asks again.
 *
 * It holds nothing between tasks that the result depends on: the task
 * brings the path's parameters, AdamW starts at zero, and the data stream
 * is seeded by (seed, path, round).  So any worker can take any task, a
 * task can be given again after its worker died, and the result is the
 * same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/worker.h"
#include "loco/net_engine.h"
#include "net/session.h"
#include "net/wire.h"

/* The worker: everything it allocates once (the model, and one block for
 * the rest), its session, and the task leased and not yet trained. */
typedef struct {
    loco_gpt *m;
    loco_cuda_gpt *dev;         /* with cuda: the device model the tasks train */
    size_t S;                   /* parameters of a path */
    void *block;
    float *losses;              /* (H) */
    int *tok, *tgt;             /* (B T) a batch */
    uint8_t *head, *wire;       /* DPPUSH's fixed part and losses; the parameters as fp32 */
    /* The session and the task waiting to be trained. */
    loco_netw *w;
    const loco_split *split;
    loco_net_dptask task;
    int have_task;
} kit;

/* Says the worker is idle and wants a task. */
static void ask(loco_netw *w) {
    uint8_t buf[LOCO_NET_DPASK_BYTES];
    loco_net_encode_dpask((uint64_t)w->tasks, buf, sizeof buf);
    loco__worker_send(w, LOCO_NET_DPASK, buf, sizeof buf, NULL, 0);
}

/* Trains task t (its parameters already in the model) as the simulator's
 * round trains path t->path with reset_inner, and pushes.  Returns
 * LOCO_ENONFINITE (reason in msg) if training diverges, or with cuda the
 * device's error. */
static int run_task(loco_netw *w, kit *k, const loco_net_dptask *t, const loco_split *split, char *msg,
                    size_t msglen) {
    const int p = (int)t->path;
    /* Fresh AdamW where the steps run, then the task's parameters there. */
    int e = loco__worker_adamw_reset(k->m, k->dev, p, msg, msglen);
    if (!e) e = loco__worker_begin(k->m, k->dev, p, msg, msglen);
    if (e) return e;
    loco_rng rng;
    loco_rng_seed(&rng, loco_dipaco_task_seed(w->w.seed, p, (long)t->round));
    for (uint32_t i = 0; i < t->inner_steps; i++) {
        double ls = 0;
        e = loco__worker_step(k->m, k->dev, split, p, &rng, w->w.batch, w->w.seq_len, &w->w.inner,
                              (long)(t->first_step + i), k->tok, k->tgt, p, &ls, msg, msglen);
        if (e) return e;
        k->losses[i] = (float)ls;
        w->steps_done++;
        loco__worker_slow(w);
        loco__worker_beat(w, t->round, i + 1);
    }
    /* The push is encoded from the parameters on the host. */
    if ((e = loco__worker_end(k->m, k->dev, p, msg, msglen)) != LOCO_OK) return e;
    uint8_t *lb = k->wire;   /* the losses as little-endian fp32, whatever the host */
    for (uint32_t i = 0; i < t->inner_steps; i++) loco__putf(lb + 4 * (size_t)i, k->losses[i]);
    loco_net_dppush x = {t->lease, t->round, t->path, t->inner_steps, k->S, lb, NULL};
    size_t n = loco_net_encode_dppush_head(&x, k->head, LOCO_NET_DPPUSH_FIXED + 4 * (size_t)t->inner_steps);
    loco_codec_encode(LOCO_CODEC_FP32, 1.0f, loco_gpt_params(k->m), 1, k->S, k->wire, NULL);
    /* A lost push is the coordinator's to notice: the lease expires, or
     * the next DPASK takes it back. */
    loco__worker_send(w, LOCO_NET_DPPUSH, k->head, n, k->wire, 4 * k->S);
    w->tasks++;
    ask(w);
    return LOCO_OK;
}

/* The session layer's callbacks (src/net/session.h). */
static int ready(void *ctx) { return ((kit *)ctx)->have_task; }

static int work(void *ctx, char *msg, size_t msglen) {
    kit *k = ctx;
    k->have_task = 0;
    return run_task(k->w, k, &k->task, k->split, msg, msglen);
}

/* A DPTASK: its parameters go into the model at once (the frame is about
 * to go); a later one replaces it. */
static int message(void *ctx, const loco__msg *m) {
    kit *k = ctx;
    loco_net_dptask t;
    if (m->h.type != LOCO_NET_DPTASK) return 1;
    if (loco_net_decode_dptask(m->data, m->n, &t) || t.n_params != k->S || t.path >= k->w->w.workers ||
        t.inner_steps > (uint32_t)k->w->w.inner_steps ||
        loco_codec_decode(LOCO_CODEC_FP32, 1.0f, t.params, 4 * k->S, 1, k->S, loco_gpt_params(k->m)))
        return 1;
    k->task = t;
    k->task.params = NULL;
    k->have_task = 1;
    return 0;
}

/* A new session holds no lease: whatever was waiting is the old one's. */
static int rejoined(void *ctx, uint32_t old_id, char *msg, size_t msglen) {
    (void)old_id;
    (void)msg;
    (void)msglen;
    kit *k = ctx;
    k->have_task = 0;
    ask(k->w);
    return LOCO_OK;
}

static const loco__worker_ops dpw_ops = {ready, work, message, rejoined};

int loco_dpw_serve(loco_netw *w, const loco_split *split, long *tasks, char *msg, size_t msglen) {
    const loco_net_welcome *r = &w->w;
    kit k;
    memset(&k, 0, sizeof k);
    k.w = w;
    k.split = split;
    int e = r->run_kind == LOCO_NET_RUN_DIPACO ? LOCO_OK : LOCO_EINVAL;
    if (e) snprintf(msg, msglen, "the coordinator does not run DiPaCo");
    if (!e) e = loco_gpt_create(&k.m, &r->model, r->batch, r->seq_len, r->seed, msg, msglen);
    /* Made once: every task resets its AdamW state and uploads its
     * parameters, so nothing is allocated per task. */
    if (!e && w->c.cuda)
        e = loco__worker_dev_create(&k.dev, k.m, r->batch, r->seq_len, (int)r->worker_id, msg, msglen);
    if (!e) {
        /* 4-byte units: H losses, 2 B T tokens, the head and the wire. */
        const size_t H = (size_t)r->inner_steps, BT = (size_t)r->batch * r->seq_len;
        k.S = loco_gpt_num_params(k.m);
        const size_t head = LOCO_NET_DPPUSH_FIXED / 4 + H, wire = k.S > H ? k.S : H;
        float *b = k.block = calloc(H + 2 * BT + head + wire, 4);
        if (!b) {
            snprintf(msg, msglen, "out of memory for a worker of %zu parameters", k.S);
            e = LOCO_ENOMEM;
        } else {
            k.losses = b;
            k.tok = (int *)(b + H);
            k.tgt = k.tok + BT;
            k.head = (uint8_t *)(b + H + 2 * BT);
            k.wire = k.head + 4 * head;
        }
    }
    if (!e) {
        ask(w);
        e = loco__worker_run(w, &dpw_ops, &k, msg, msglen);
    }
    if (tasks) *tasks = w->tasks;
    loco_cuda_gpt_free(k.dev);
    loco_gpt_free(k.m);
    free(k.block);
    return e;
}
