/*
 * A worker of synchronous DiLoCo over ZeroMQ (include/loco/net_engine.h):
 * joins, then trains whatever task the coordinator sends, on its shard, with
 * the simulator's inner step (src/train/worker.c) and the simulator's message
 * encoding (src/algo/diloco_msg.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "train/worker.h"
#include "loco/diloco_msg.h"
#include "loco/net_engine.h"
#include "loco/sim.h"
#include "nn/gpt_internal.h"
#include "net/link.h"
#include "net/payload_async.h"
#include "net/wire.h"

struct loco_netw {
    loco_netw_config c;
    loco__link link;
    uint8_t *welcome_buf;       /* the WELCOME payload, which w.assign points into */
    size_t welcome_len;
    loco_net_welcome w;
    uint64_t session, coord_seq;
    double last_heard, last_beat;
    long rounds, steps_done;
};

void loco_netw_free(loco_netw *w) {
    if (!w) return;
    loco__link_close(&w->link);
    free(w->welcome_buf);
    free(w);
}

long loco_netw_rounds(const loco_netw *w) { return w->rounds; }

void loco_netw_leave(loco_netw *w, const char *text) {
    uint8_t buf[8 + LOCO_NET_MAX_TEXT];
    size_t n = loco_net_encode_error((uint32_t)-LOCO_EINVAL, text, buf, sizeof buf);
    loco__link_send(&w->link, NULL, 0, LOCO_NET_ERROR, w->session, buf, n, NULL, 0);
    int ms = 1000;   /* let it leave before the socket closes */
    zmq_setsockopt(w->link.sock, ZMQ_LINGER, &ms, sizeof ms);
}

/* Checks that m comes from the coordinator of our session, in order.
 * Returns 1 if so (and records its sequence number). */
static int from_coordinator(loco_netw *w, const loco__msg *m) {
    if (m->h.sender != LOCO_NET_COORDINATOR || m->h.session != w->session || m->h.run_id != w->link.run_id) {
        loco__link_reject(&w->link, "message from another session or run");
        return 0;
    }
    if (m->h.seq <= w->coord_seq) {
        loco__link_reject(&w->link, "replayed message (old sequence number)");
        return 0;
    }
    w->coord_seq = m->h.seq;
    w->last_heard = loco__now();
    return 1;
}

/* Sends a HELLO with a fresh nonce (kept in nonce). */
static int hello(loco_netw *w, uint8_t *nonce) {
    loco_net_hello h;
    if (loco_net_random(h.nonce, sizeof h.nonce)) return LOCO_EIO;
    memcpy(nonce, h.nonce, sizeof h.nonce);
    h.time_ms = loco_net_wall_ms();
    h.want_id = w->c.want_id;
    /* A HELLO comes from no session of no run, even when joining again. */
    w->link.self = LOCO_NET_ANON;
    w->link.run_id = 0;
    uint8_t buf[LOCO_NET_HELLO_BYTES];
    loco_net_encode_hello(&h, buf, sizeof buf);
    return loco__link_send(&w->link, NULL, 0, LOCO_NET_HELLO, 0, buf, sizeof buf, NULL, 0) == LOCO_EIO ? LOCO_EIO
                                                                                                    : LOCO_OK;
}

/* Sends HELLOs (the first at once, then every `every` seconds, doubling up
 * to every_max) until a WELCOME that echoes the latest HELLO's nonce
 * arrives, and adopts it: its payload goes to w->welcome_buf (the old one
 * is freed), the session, run id, worker id and the coordinator's sequence
 * number to w.  A refusal (ERROR answering a HELLO) ends it if fatal, and
 * is retried otherwise, or if it says the run is full.  Returns
 * LOCO_ERANGE once `deadline` (loco__now() time; 0: none) passes,
 * LOCO_EINVAL on a fatal refusal (its text in msg), LOCO_EIO, LOCO_ENOMEM. */
static int handshake(loco_netw *w, double deadline, double every, double every_max, int fatal, char *msg,
                     size_t msglen) {
    uint8_t nonce[LOCO_NET_NONCE_BYTES];
    double next_hello = 0;
    for (;;) {
        double now = loco__now();
        if (deadline > 0 && now > deadline) {
            /* A coordinator answers no message it cannot authenticate (so as
             * to tell an attacker nothing): silence is also what a wrong
             * secret looks like. */
            snprintf(msg, msglen, "no answer from %.200s: is a coordinator listening there, and %s", w->c.connect,
                     loco__link_silence_hint(&w->link));
            return LOCO_ERANGE;
        }
        if (now >= next_hello) {
            if (hello(w, nonce) != LOCO_OK) {
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
        loco_net_error er;
        loco_net_welcome wel;
        if (m.h.sender == LOCO_NET_COORDINATOR && m.h.type == LOCO_NET_ERROR && m.h.session == 0 &&
            loco_net_decode_error(m.data, m.n, &er) == LOCO_OK) {
            loco__msg_close(&m);
            /* A full run is waited out: a spare worker takes the id of the
             * next one to die or leave. */
            if (fatal && er.code != (uint32_t)-LOCO_ERANGE) {
                snprintf(msg, msglen, "the coordinator refused: %s", er.text);
                return LOCO_EINVAL;
            }
            continue;
        }
        int ok = m.h.sender == LOCO_NET_COORDINATOR && m.h.type == LOCO_NET_WELCOME && m.h.session != 0 &&
                 m.h.run_id != 0 && loco_net_decode_welcome(m.data, m.n, &wel) == LOCO_OK;
        /* A WELCOME for an earlier HELLO is superseded by the one to come;
         * anything else is from the session being replaced. */
        if (ok && memcmp(wel.nonce, nonce, sizeof nonce) == 0) {
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
        if (!ok) loco__link_reject_type(&w->link, "unexpected message while joining", m.h.type);
        loco__msg_close(&m);
    }
}

/* Returns LOCO_ERANGE (join timeout), LOCO_EINVAL (refused), LOCO_EIO. */
int loco_netw_join(loco_netw **out, const loco_netw_config *c, loco_net_welcome *welcome, char *msg,
                   size_t msglen) {
    *out = NULL;
    loco_netw *w = calloc(1, sizeof *w);
    if (!w) return LOCO_ENOMEM;
    w->c = *c;
    /* The coordinator's largest message is THETA or WELCOME, whose sizes
     * come with the run; it is authenticated, so the limit is generous. */
    int e = loco__link_open(&w->link, 0, c->connect, &c->key, &c->security, (size_t)1 << 40, msg, msglen);
    if (e) {
        loco_netw_free(w);
        return e;
    }
    w->link.self = LOCO_NET_ANON;
    /* Every 0.5 s: a spare worker waiting for a dead one's id then takes it
     * within half a second of the death being declared. */
    e = handshake(w, c->join_timeout > 0 ? loco__now() + c->join_timeout : 0, 0.5, 0.5, 1, msg, msglen);
    if (e) {
        if (e == LOCO_ERANGE)
            snprintf(msg, msglen, "no answer from %.200s in %g s: is a coordinator listening there, and %s",
                     c->connect, c->join_timeout, loco__link_silence_hint(&w->link));
        loco_netw_free(w);
        return e;
    }
    *welcome = w->w;
    *out = w;
    return LOCO_OK;
}

/* Sends a heartbeat if one is due. */
static void beat(loco_netw *w, uint64_t round) {
    double now = loco__now();
    if (now - w->last_beat < w->w.heartbeat_ms / 1000.0) return;
    w->last_beat = now;
    loco_net_heartbeat hb = {round, (uint64_t)w->steps_done};
    uint8_t buf[LOCO_NET_HEARTBEAT_BYTES];
    loco_net_encode_heartbeat(&hb, buf, sizeof buf);
    loco__link_send(&w->link, NULL, 0, LOCO_NET_HEARTBEAT, w->session, buf, sizeof buf, NULL, 0);
}

/* Sleeps the testing aid's seconds (--slowdown), if any. */
static void slow_down(const loco_netw *w) {
    if (!(w->c.step_sleep > 0)) return;
    struct timespec ts = {(time_t)w->c.step_sleep, (long)((w->c.step_sleep - (double)(time_t)w->c.step_sleep) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Everything a worker allocates once. */
typedef struct {
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
    free(k->head);
    free(k->contrib);
    free(k->tok);
    free(k->tgt);
    free(k->snap);
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
    const size_t P = k->lay.P, H = (size_t)w->inner_steps, BT = (size_t)w->batch * w->seq_len;
    k->block = calloc((w->error_feedback ? 3 : 2) * P + H, sizeof(float));
    k->head = malloc(LOCO_NET_PUSH_FIXED + 4 * H);
    k->contrib = malloc(k->lay.msg_bytes);
    k->tok = malloc(BT * sizeof(int));
    k->tgt = malloc(BT * sizeof(int));
    if (w->ckpt_every) k->snap = malloc((w->error_feedback ? 3 : 2) * P * sizeof(float));
    if (!k->block || !k->head || !k->contrib || !k->tok || !k->tgt || (w->ckpt_every && !k->snap)) {
        snprintf(msg, msglen, "out of memory for a worker of %zu parameters", P);
        return LOCO_ENOMEM;
    }
    k->theta = k->block;
    k->dec = k->theta + P;
    k->losses = k->dec + P;
    k->ef = w->error_feedback ? k->losses + H : NULL;
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
        if (w->c.verbose)
            fprintf(stderr, "loco worker: redoing round %llu from the state kept at its start\n",
                    (unsigned long long)round);
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
        slow_down(w);
        beat(w, t->round);
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
    loco__link_send(&w->link, NULL, 0, LOCO_NET_PUSH, w->session, k->head, n, k->contrib, k->lay.msg_bytes);
    w->rounds++;
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
        slow_down(w);
        beat(w, t->task);
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
    loco__link_send(&w->link, NULL, 0, LOCO_NET_PUSH, w->session, k->head, n, k->contrib, k->lay.msg_bytes);
    w->rounds++;
    return LOCO_OK;
}

/* Joins again after the coordinator restarted or forgot this worker,
 * asking for the same id.  Returns LOCO_ERANGE once give_up_after seconds
 * have passed since the coordinator was last heard, LOCO_EINVAL if the new
 * WELCOME describes another run, LOCO_EIO, LOCO_ENOMEM, or the device's
 * error (reason in msg). */
static int rejoin(loco_netw *w, kit *k, const char *why, char *msg, size_t msglen) {
    const uint32_t id = w->w.worker_id;
    uint8_t *old = w->welcome_buf;
    const size_t old_len = w->welcome_len;
    if (w->c.verbose) fprintf(stderr, "loco worker: %s: joining again as worker %u\n", why, id);
    w->c.want_id = id;
    w->welcome_buf = NULL;
    double deadline = w->c.give_up_after > 0 ? w->last_heard + w->c.give_up_after : 0;
    int e = handshake(w, deadline, 0.25, 8.0, 0, msg, msglen);
    if (e == LOCO_ERANGE)
        snprintf(msg, msglen, "no coordinator at %s for %g s: giving up", w->c.connect, w->c.give_up_after);
    /* Everything but the worker id and the nonce must be as before: the
     * worker's model, data and state are those of that configuration. */
    if (!e && (w->welcome_len != old_len || memcmp(w->welcome_buf + 4, old + 4, 4) ||
               memcmp(w->welcome_buf + 24, old + 24, old_len - 24))) {
        snprintf(msg, msglen, "the coordinator at %s now runs another configuration", w->c.connect);
        e = LOCO_EINVAL;
    }
    if (e) {
        if (!w->welcome_buf) {
            w->welcome_buf = old;
            old = NULL;
        }
        free(old);
        return e;
    }
    free(old);
    if (w->w.worker_id != id) {
        /* Another worker holds our id (and shard) now: this one takes the
         * id it was given as a fresh worker would. */
        if ((e = kit_reset(k, &w->w, msg, msglen)) != LOCO_OK) return e;
        if (w->c.verbose) fprintf(stderr, "loco worker: worker %u is now worker %u\n", id, w->w.worker_id);
    }
    return LOCO_OK;
}

/* 1 if m is the coordinator's "unknown session" answer to this worker's
 * session, whatever the run: the coordinator restarted or gave our id away. */
static int forgotten(const loco_netw *w, const loco__msg *m) {
    loco_net_error er;
    return m->h.sender == LOCO_NET_COORDINATOR && m->h.type == LOCO_NET_ERROR && m->h.session == w->session &&
           loco_net_decode_error(m->data, m->n, &er) == LOCO_OK && !strncmp(er.text, "unknown session", 15);
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

/* Returns LOCO_OK on BYE, or the error that ended the run (reason in msg). */
int loco_netw_serve(loco_netw *w, const loco_split *split, char *msg, size_t msglen) {
    kit k;
    int e = kit_make(&k, &w->w, w->c.cuda, msg, msglen);
    if (e) {
        kit_free(&k);
        return e;
    }
    uint64_t theta_version = 0;
    int have_theta = 0, have_task = 0, have_atask = 0;
    loco_net_task task = {0};
    loco_net_atask atask = {0};
    for (;;) {
        /* Take every message already queued before training, so that a
         * worker that fell behind starts from the newest theta and task. */
        loco__msg m;
        int wait = have_task || have_atask ? 0 : (int)w->w.heartbeat_ms;
        e = loco__link_recv(&w->link, wait, &m);
        if (e == LOCO_ERANGE) {
            if (have_atask) {
                have_atask = 0;
                if ((e = run_atask(w, &k, &atask, split, msg, msglen)) != LOCO_OK) break;
                continue;
            }
            if (have_task) {
                have_task = 0;
                if ((e = run_task(w, &k, &task, split, msg, msglen)) != LOCO_OK) break;
                continue;
            }
            beat(w, (uint64_t)-1);
            if (w->c.coordinator_timeout > 0 && loco__now() - w->last_heard > w->c.coordinator_timeout) {
                if ((e = rejoin(w, &k, "the coordinator is silent", msg, msglen)) != LOCO_OK) break;
                have_theta = 0;
            }
            continue;
        }
        if (e) {
            snprintf(msg, msglen, "%s", loco__link_error(&w->link));
            break;
        }
        if (forgotten(w, &m)) {
            loco__msg_close(&m);
            if ((e = rejoin(w, &k, "the coordinator does not know this session", msg, msglen)) != LOCO_OK) break;
            have_theta = have_task = have_atask = 0;
            continue;
        }
        if (!from_coordinator(w, &m)) {
            loco__msg_close(&m);
            continue;
        }
        int type = m.h.type, bad = 0;
        if (type == LOCO_NET_THETA) {
            loco_net_theta th = {0};
            bad = loco_net_decode_theta(m.data, m.n, &th) || th.n_params != k.lay.P ||
                  loco_codec_decode(LOCO_CODEC_FP32, 1.0f, th.params, 4 * (size_t)th.n_params, 1, k.lay.P, k.theta);
            have_theta = !bad;
            theta_version = th.version;
            have_task = have_atask = 0;   /* a task follows its theta */
            k.have_ostate = 0;            /* and an OSYNC, if any, follows it too */
        } else if (type == LOCO_NET_OSYNC) {
            bad = on_osync(&k, &m, have_theta, theta_version);
        } else if (type == LOCO_NET_DOWN) {
            bad = on_down(&k, &m, have_theta, &theta_version);
            have_task = 0;
        } else if (type == LOCO_NET_TASK) {
            loco_net_task t;
            bad = loco_net_decode_task(m.data, m.n, &t) || t.shard != w->w.worker_id || !have_theta ||
                  t.version != theta_version || t.inner_steps > (uint32_t)w->w.inner_steps;
            if (!bad) {
                task = t;
                have_task = 1;
            }
        } else if (type == LOCO_NET_ATASK) {
            loco_net_atask t;
            bad = loco_net_decode_atask(m.data, m.n, &t) || t.shard >= w->w.workers || !have_theta ||
                  t.version != theta_version || t.inner_steps > (uint32_t)w->w.inner_steps;
            if (!bad) {
                atask = t;
                have_atask = 1;
            }
        } else if (type == LOCO_NET_BYE) {
            loco__msg_close(&m);
            e = LOCO_OK;
            break;
        } else if (type == LOCO_NET_ERROR) {
            loco_net_error er;
            if (loco_net_decode_error(m.data, m.n, &er) == LOCO_OK) {
                snprintf(msg, msglen, "the coordinator says: %s", er.text);
                loco__msg_close(&m);
                e = LOCO_EINVAL;
                break;
            }
            bad = 1;
        } else if (type != LOCO_NET_HEARTBEAT) {
            bad = 1;
        }
        if (bad) loco__link_reject_type(&w->link, "unexpected or malformed message from the coordinator", type);
        loco__msg_close(&m);
    }
    if (e == LOCO_OK) {
        loco__link_send(&w->link, NULL, 0, LOCO_NET_BYE, w->session, NULL, 0, NULL, 0);
        int ms = 1000;
        zmq_setsockopt(w->link.sock, ZMQ_LINGER, &ms, sizeof ms);
    }
    kit_free(&k);
    return e;
}
