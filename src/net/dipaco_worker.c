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
#include <time.h>
#include "train/worker.h"
#include "loco/net_engine.h"
#include "net/dipaco_wire.h"
#include "net/link.h"
#include "net/wire.h"

typedef struct {
    loco_netw_config c;
    loco__link link;
    uint8_t *welcome_buf;       /* the WELCOME payload, which w.assign points into */
    size_t welcome_len;
    loco_net_welcome w;
    uint64_t session, coord_seq;
    double last_heard, last_beat;
    long tasks;
} dpw;

/* 1 if a and b describe the same run (everything but the worker id and
 * the nonce).  Encodes both: the bytes are the configuration. */
static int same_run(const loco_net_welcome *a, const loco_net_welcome *b) {
    size_t n = loco_net_welcome_bytes(a->n_assign);
    if (a->n_assign != b->n_assign || !n) return 0;
    loco_net_welcome x = *a, y = *b;
    x.worker_id = y.worker_id = 0;
    memset(x.nonce, 0, sizeof x.nonce);
    memset(y.nonce, 0, sizeof y.nonce);
    uint8_t *bx = malloc(n), *by = malloc(n);
    int same = bx && by && loco_net_encode_welcome(&x, bx, n) == n && loco_net_encode_welcome(&y, by, n) == n &&
               memcmp(bx, by, n) == 0;
    free(bx);
    free(by);
    return same;
}

/* Sends HELLOs (the first at once, then every `every` seconds, doubling up
 * to every_max) until a DiPaCo WELCOME echoing the latest nonce arrives,
 * and adopts it.  Returns LOCO_ERANGE after deadline (loco__now() time; 0:
 * none), LOCO_EINVAL if the coordinator refuses for good or runs another
 * configuration than `first`, LOCO_EIO, LOCO_ENOMEM (reason in msg). */
static int handshake(dpw *w, const loco_net_welcome *first, double deadline, double every, double every_max,
                     char *msg, size_t msglen) {
    uint8_t nonce[LOCO_NET_NONCE_BYTES];
    double next_hello = 0;
    for (;;) {
        double now = loco__now();
        if (deadline > 0 && now > deadline) {
            snprintf(msg, msglen, "no coordinator at %s: giving up", w->c.connect);
            return LOCO_ERANGE;
        }
        if (now >= next_hello) {
            loco_net_hello h;
            if (loco_net_random(h.nonce, sizeof h.nonce)) {
                snprintf(msg, msglen, "no random numbers");
                return LOCO_EIO;
            }
            memcpy(nonce, h.nonce, sizeof nonce);
            h.time_ms = loco_net_wall_ms();
            h.want_id = LOCO_NET_ANON;
            w->link.self = LOCO_NET_ANON;
            w->link.run_id = 0;
            uint8_t buf[LOCO_NET_HELLO_BYTES];
            loco_net_encode_hello(&h, buf, sizeof buf);
            if (loco__link_send(&w->link, NULL, 0, LOCO_NET_HELLO, 0, buf, sizeof buf, NULL, 0) == LOCO_EIO) {
                snprintf(msg, msglen, "cannot send to %s", w->c.connect);
                return LOCO_EIO;
            }
            next_hello = now + every;
            every = every * 2 < every_max ? every * 2 : every_max;
        }
        loco__msg m;
        int e = loco__link_recv(&w->link, 200, &m);
        if (e == LOCO_ERANGE) continue;
        if (e) {
            snprintf(msg, msglen, "%s", loco__link_error(&w->link));
            return e;
        }
        loco_net_welcome wel;
        int ok = m.h.sender == LOCO_NET_COORDINATOR && m.h.type == LOCO_NET_WELCOME && m.h.session != 0 &&
                 m.h.run_id != 0 && loco_net_decode_welcome(m.data, m.n, &wel) == LOCO_OK &&
                 memcmp(wel.nonce, nonce, sizeof nonce) == 0;
        if (!ok) {
            /* "The run is full" and other refusals are waited out: slots
             * free up as dead workers are reaped. */
            loco__msg_close(&m);
            continue;
        }
        if (!same_run(&wel, first)) {
            loco__msg_close(&m);
            snprintf(msg, msglen, "the coordinator at %s runs another configuration", w->c.connect);
            return LOCO_EINVAL;
        }
        uint8_t *buf = malloc(m.n);
        if (!buf) {
            loco__msg_close(&m);
            snprintf(msg, msglen, "out of memory for the run configuration");
            return LOCO_ENOMEM;
        }
        memcpy(buf, m.data, m.n);
        free(w->welcome_buf);
        w->welcome_buf = buf;
        w->welcome_len = m.n;
        loco_net_decode_welcome(buf, m.n, &w->w);
        w->session = m.h.session;
        w->link.run_id = m.h.run_id;
        w->link.self = w->w.worker_id;
        w->coord_seq = m.h.seq;
        w->last_heard = loco__now();
        loco__msg_close(&m);
        return LOCO_OK;
    }
}

static void send_small(dpw *w, int type, const uint8_t *buf, size_t n) {
    loco__link_send(&w->link, NULL, 0, type, w->session, buf, n, NULL, 0);
}

static void ask(dpw *w) {
    uint8_t buf[LOCO_NET_DPASK_BYTES];
    loco_net_encode_dpask((uint64_t)w->tasks, buf, sizeof buf);
    send_small(w, LOCO_NET_DPASK, buf, sizeof buf);
}

static void beat(dpw *w, uint64_t round, uint64_t steps) {
    double now = loco__now();
    if (now - w->last_beat < w->w.heartbeat_ms / 1000.0) return;
    w->last_beat = now;
    loco_net_heartbeat hb = {round, steps};
    uint8_t buf[LOCO_NET_HEARTBEAT_BYTES];
    loco_net_encode_heartbeat(&hb, buf, sizeof buf);
    send_small(w, LOCO_NET_HEARTBEAT, buf, sizeof buf);
}

/* 1 if m comes from the coordinator of our session, in order. */
static int from_coordinator(dpw *w, const loco__msg *m) {
    if (m->h.sender != LOCO_NET_COORDINATOR || m->h.session != w->session || m->h.run_id != w->link.run_id ||
        m->h.seq <= w->coord_seq) {
        loco__link_reject(&w->link, "message from another session or run, or replayed");
        return 0;
    }
    w->coord_seq = m->h.seq;
    w->last_heard = loco__now();
    return 1;
}

/* 1 if m is the coordinator's "unknown session" answer to our session. */
static int forgotten(const dpw *w, const loco__msg *m) {
    loco_net_error er;
    return m->h.sender == LOCO_NET_COORDINATOR && m->h.type == LOCO_NET_ERROR && m->h.session == w->session &&
           loco_net_decode_error(m->data, m->n, &er) == LOCO_OK && !strncmp(er.text, "unknown session", 15);
}

/* Everything the worker allocates once. */
typedef struct {
    loco_gpt *m;
    loco_cuda_gpt *dev;         /* with cuda: the device model the tasks train */
    size_t S;                   /* parameters of a path */
    float *losses;              /* (H) */
    uint8_t *head, *wire;       /* DPPUSH's fixed part and losses; the parameters as fp32 */
    int *tok, *tgt;
} kit;

static void kit_free(kit *k) {
    loco_cuda_gpt_free(k->dev);
    loco_gpt_free(k->m);
    free(k->losses);
    free(k->head);
    free(k->wire);
    free(k->tok);
    free(k->tgt);
}

/* Trains task t (its parameters already in the model) as the simulator's
 * round trains path t->path with reset_inner, and pushes.  Returns
 * LOCO_ENONFINITE (reason in msg) if training diverges, or with cuda the
 * device's error. */
static int run_task(dpw *w, kit *k, const loco_net_dptask *t, const loco_split *split, char *msg, size_t msglen) {
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
        if (w->c.step_sleep > 0) {
            /* The testing aid (loco worker --slowdown): a slow worker. */
            double sl = w->c.step_sleep;
            struct timespec ts = {(time_t)sl, (long)((sl - (double)(time_t)sl) * 1e9)};
            nanosleep(&ts, NULL);
        }
        beat(w, t->round, i + 1);
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
    loco__link_send(&w->link, NULL, 0, LOCO_NET_DPPUSH, w->session, k->head, n, k->wire, 4 * k->S);
    w->tasks++;
    ask(w);
    return LOCO_OK;
}

/* Joins again (the coordinator forgot us or went silent).  Returns as
 * handshake; LOCO_ERANGE once give_up_after has passed. */
static int rejoin(dpw *w, const loco_net_welcome *first, const char *why, char *msg, size_t msglen) {
    if (w->c.verbose) fprintf(stderr, "loco worker: %s: joining again\n", why);
    double deadline = w->c.give_up_after > 0 ? w->last_heard + w->c.give_up_after : 0;
    int e = handshake(w, first, deadline, 0.25, 8.0, msg, msglen);
    if (!e) ask(w);
    return e;
}

int loco_dpw_serve(const loco_netw_config *c, const loco_net_welcome *first, const loco_split *split, long *tasks,
                   char *msg, size_t msglen) {
    dpw w;
    memset(&w, 0, sizeof w);
    w.c = *c;
    kit k;
    memset(&k, 0, sizeof k);
    int e = loco__link_open(&w.link, 0, c->connect, &c->key, &c->security, (size_t)1 << 40, msg, msglen);
    if (e) return e;
    w.link.self = LOCO_NET_ANON;
    w.link.who = "loco worker";
    e = handshake(&w, first, c->join_timeout > 0 ? loco__now() + c->join_timeout : 0, 0.5, 0.5, msg, msglen);
    if (!e) e = loco_gpt_create(&k.m, &first->model, first->batch, first->seq_len, first->seed, msg, msglen);
    /* Made once: every task resets its AdamW state and uploads its
     * parameters, so nothing is allocated per task. */
    if (!e && c->cuda)
        e = loco__worker_dev_create(&k.dev, k.m, first->batch, first->seq_len, (int)w.w.worker_id, msg, msglen);
    if (!e) {
        const size_t H = (size_t)first->inner_steps, BT = (size_t)first->batch * first->seq_len;
        k.S = loco_gpt_num_params(k.m);
        k.losses = malloc(H * sizeof(float));
        k.head = malloc(LOCO_NET_DPPUSH_FIXED + 4 * H);
        k.wire = malloc(4 * (k.S > H ? k.S : H));
        k.tok = malloc(BT * sizeof(int));
        k.tgt = malloc(BT * sizeof(int));
        if (!k.losses || !k.head || !k.wire || !k.tok || !k.tgt) {
            snprintf(msg, msglen, "out of memory for a worker of %zu parameters", k.S);
            e = LOCO_ENOMEM;
        }
    }
    if (e) goto done;
    if (c->verbose) fprintf(stderr, "loco worker: joined the DiPaCo run at %s as worker %u\n", c->connect,
                            w.w.worker_id);
    ask(&w);
    loco_net_dptask task = {0};
    int have_task = 0;
    for (;;) {
        /* Take every message already queued before training, so that the
         * task trained is the newest one given. */
        loco__msg m;
        e = loco__link_recv(&w.link, have_task ? 0 : (int)w.w.heartbeat_ms, &m);
        if (e == LOCO_ERANGE) {
            if (have_task) {
                have_task = 0;
                if ((e = run_task(&w, &k, &task, split, msg, msglen)) != LOCO_OK) break;
                continue;
            }
            beat(&w, (uint64_t)-1, 0);
            if (c->coordinator_timeout > 0 && loco__now() - w.last_heard > c->coordinator_timeout &&
                (e = rejoin(&w, first, "the coordinator is silent", msg, msglen)) != LOCO_OK)
                break;
            continue;
        }
        if (e) {
            snprintf(msg, msglen, "%s", loco__link_error(&w.link));
            break;
        }
        if (forgotten(&w, &m)) {
            loco__msg_close(&m);
            have_task = 0;
            if ((e = rejoin(&w, first, "the coordinator does not know this session", msg, msglen)) != LOCO_OK)
                break;
            continue;
        }
        if (!from_coordinator(&w, &m)) {
            loco__msg_close(&m);
            continue;
        }
        int bad = 0;
        if (m.h.type == LOCO_NET_DPTASK) {
            loco_net_dptask t;
            bad = loco_net_decode_dptask(m.data, m.n, &t) || t.n_params != k.S || t.path >= w.w.workers ||
                  t.inner_steps > (uint32_t)w.w.inner_steps ||
                  loco_codec_decode(LOCO_CODEC_FP32, 1.0f, t.params, 4 * k.S, 1, k.S, loco_gpt_params(k.m));
            if (!bad) {
                task = t;
                task.params = NULL;   /* they are in the model now; the frame is about to go */
                have_task = 1;
            }
        } else if (m.h.type == LOCO_NET_BYE) {
            loco__msg_close(&m);
            e = LOCO_OK;
            break;
        } else if (m.h.type == LOCO_NET_ERROR) {
            loco_net_error er;
            if (loco_net_decode_error(m.data, m.n, &er) == LOCO_OK) {
                snprintf(msg, msglen, "the coordinator says: %s", er.text);
                loco__msg_close(&m);
                e = LOCO_EINVAL;
                break;
            }
            bad = 1;
        } else if (m.h.type != LOCO_NET_HEARTBEAT) {
            bad = 1;
        }
        if (bad) loco__link_reject_type(&w.link, "unexpected or malformed message from the coordinator", m.h.type);
        loco__msg_close(&m);
    }
    if (e == LOCO_OK) {
        send_small(&w, LOCO_NET_BYE, NULL, 0);
        int ms = 1000;
        zmq_setsockopt(w.link.sock, ZMQ_LINGER, &ms, sizeof ms);
    }
done:
    if (tasks) *tasks = w.tasks;
    kit_free(&k);
    loco__link_close(&w.link);
    free(w.welcome_buf);
    return e;
}
