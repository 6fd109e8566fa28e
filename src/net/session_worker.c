/*
 * The worker's side of the session layer (src/net/session.h): joining,
 * refusals, the coordinator's heartbeats and sequence, joining again with
 * backoff, BYE.  DiLoCo's worker (src/net/netw.c) and DiPaCo's
 * (src/net/dipaco_worker.c) serve through loco__worker_run with their own
 * callbacks; a worker joins once, and learns from the WELCOME which of the
 * two it serves.
 *
 * Refusals, for every algorithm alike.  A coordinator refuses a HELLO with
 * an ERROR outside any session.  "The run is full" (code -LOCO_ERANGE) is
 * waited out, joining first or again: a slot frees up as soon as a worker
 * leaves or is declared dead, and a spare worker is how a run replaces
 * the workers it loses.  Any other refusal is final (the coordinator will
 * not change its mind by being asked again): the join ends with
 * LOCO_EINVAL and the coordinator's words.  A join that outlives its
 * deadline says whether it was met with silence (no coordinator, or one
 * with another secret or key, since a coordinator answers nothing it
 * cannot authenticate) or with "full".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "net/session.h"

void loco_netw_free(loco_netw *w) {
    if (!w) return;
    loco__link_close(&w->link);
    free(w->welcome_buf);
    free(w);
}

long loco_netw_rounds(const loco_netw *w) { return w->tasks; }

void loco_netw_leave(loco_netw *w, const char *text) {
    uint8_t buf[LOCO_NET_ERROR_FIXED + LOCO_NET_MAX_TEXT];
    size_t n = loco_net_encode_error((uint32_t)-LOCO_EINVAL, text, buf, sizeof buf);
    loco__worker_send(w, LOCO_NET_ERROR, buf, n, NULL, 0);
    int ms = 1000;   /* let it leave before the socket closes */
    zmq_setsockopt(w->link.sock, ZMQ_LINGER, &ms, sizeof ms);
}

int loco__worker_send(loco_netw *w, int type, const void *head, size_t n_head, const void *body, size_t n_body) {
    return loco__link_send(&w->link, NULL, 0, type, w->session, head, n_head, body, n_body);
}

void loco__worker_beat(loco_netw *w, uint64_t round, uint64_t steps) {
    double now = loco__now();
    if (now - w->last_beat < w->w.heartbeat_ms / 1000.0) return;
    w->last_beat = now;
    loco_net_heartbeat hb = {round, steps};
    uint8_t buf[LOCO_NET_HEARTBEAT_BYTES];
    loco_net_encode_heartbeat(&hb, buf, sizeof buf);
    loco__worker_send(w, LOCO_NET_HEARTBEAT, buf, sizeof buf, NULL, 0);
}

void loco__worker_slow(const loco_netw *w) {
    const double s = w->c.step_sleep;
    if (!(s > 0)) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Sends a HELLO with a fresh nonce (kept in nonce), asking for want_id. */
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

/* Adopts WELCOME m (its nonce checked): its payload goes to w->welcome_buf
 * (the old one is freed), the session, run id and worker id to w. */
static int adopt(loco_netw *w, const loco__msg *m) {
    uint8_t *buf = malloc(m->n);
    if (!buf) return LOCO_ENOMEM;
    memcpy(buf, m->data, m->n);
    free(w->welcome_buf);
    w->welcome_buf = buf;
    w->welcome_len = m->n;
    loco_net_decode_welcome(buf, m->n, &w->w);
    w->session = m->h.session;
    w->link.run_id = m->h.run_id;
    w->link.self = w->w.worker_id;
    w->coord_seq = m->h.seq;
    w->last_heard = loco__now();
    return LOCO_OK;
}

/* Sends HELLOs (the first at once, then every `every` seconds, doubling up
 * to every_max) until a WELCOME that echoes the latest HELLO's nonce
 * arrives, and adopts it.  Refusals as at the top of this file: *full is
 * set if the run said it was full.  Returns LOCO_ERANGE once deadline
 * (loco__now() time; 0: none) passes, LOCO_EINVAL on a final refusal (its
 * text in msg), LOCO_EIO, LOCO_ENOMEM. */
static int handshake(loco_netw *w, double deadline, double every, double every_max, int *full, char *msg,
                     size_t msglen) {
    uint8_t nonce[LOCO_NET_NONCE_BYTES];
    double next_hello = 0;
    *full = 0;
    for (;;) {
        double now = loco__now();
        if (deadline > 0 && now > deadline) return LOCO_ERANGE;
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
        const int coord = m.h.sender == LOCO_NET_COORDINATOR;
        if (coord && m.h.type == LOCO_NET_ERROR && m.h.session == 0 &&
            loco_net_decode_error(m.data, m.n, &er) == LOCO_OK) {
            loco__msg_close(&m);
            if (er.code == (uint32_t)-LOCO_ERANGE) {
                *full = 1;
                continue;
            }
            snprintf(msg, msglen, "the coordinator refused: %s", er.text);
            return LOCO_EINVAL;
        }
        int ok = coord && m.h.type == LOCO_NET_WELCOME && m.h.session != 0 && m.h.run_id != 0 &&
                 loco_net_decode_welcome(m.data, m.n, &wel) == LOCO_OK;
        /* A WELCOME for an earlier HELLO is superseded by the one to come;
         * anything else is from the session being replaced. */
        if (ok && memcmp(wel.nonce, nonce, sizeof nonce) == 0) {
            e = adopt(w, &m);
            loco__msg_close(&m);
            if (e) snprintf(msg, msglen, "out of memory for the run configuration");
            return e;
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
    /* The coordinator's largest message is THETA, DPTASK or WELCOME, whose
     * sizes come with the run; it is authenticated, so the limit is
     * generous. */
    int e = loco__link_open(&w->link, 0, c->connect, &c->key, &c->security, (size_t)1 << 40, msg, msglen);
    if (e) {
        loco_netw_free(w);
        return e;
    }
    w->link.self = LOCO_NET_ANON;
    w->link.log = c->log;
    /* Every 0.5 s: a spare worker waiting for a dead one's slot then takes
     * it within half a second of the death being declared. */
    int full = 0;
    e = handshake(w, c->join_timeout > 0 ? loco__now() + c->join_timeout : 0, 0.5, 0.5, &full, msg, msglen);
    if (e == LOCO_ERANGE && full)
        snprintf(msg, msglen, "the run at %.200s is full: no slot freed up in %g s", c->connect, c->join_timeout);
    else if (e == LOCO_ERANGE)
        /* A coordinator answers no message it cannot authenticate (so as
         * to tell an attacker nothing): silence is also what a wrong
         * secret looks like. */
        snprintf(msg, msglen, "no answer from %.200s in %g s: is a coordinator listening there, and %s",
                 c->connect, c->join_timeout, loco__link_silence_hint(&w->link));
    if (e) {
        loco_netw_free(w);
        return e;
    }
    *welcome = w->w;
    *out = w;
    return LOCO_OK;
}

/* Joins again after the coordinator restarted or forgot this worker,
 * asking for the same id, and hands over to ops->rejoined.  Returns
 * LOCO_ERANGE once give_up_after seconds have passed since the
 * coordinator was last heard, LOCO_EINVAL if it refuses or the new WELCOME
 * describes another run, LOCO_EIO, LOCO_ENOMEM, or the callback's error
 * (reason in msg). */
static int rejoin(loco_netw *w, const loco__worker_ops *ops, void *ctx, const char *why, char *msg,
                  size_t msglen) {
    const uint32_t id = w->w.worker_id;
    uint8_t *old = w->welcome_buf;
    const size_t old_len = w->welcome_len;
    loco__log(w->c.verbose ? &w->link.log : NULL, "loco worker: %s: joining again as worker %u", why, id);
    w->c.want_id = id;
    w->welcome_buf = NULL;   /* kept in old until the new one is checked */
    double deadline = w->c.give_up_after > 0 ? w->last_heard + w->c.give_up_after : 0;
    int full = 0;
    int e = handshake(w, deadline, 0.25, 8.0, &full, msg, msglen);
    if (e == LOCO_ERANGE)
        snprintf(msg, msglen, full ? "the run at %s is full: no slot freed up in %g s" :
                                     "no coordinator at %s for %g s: giving up", w->c.connect, w->c.give_up_after);
    /* The worker's model, data and state are those of the run it joined. */
    if (!e && !loco_net_welcome_same_run(w->welcome_buf, w->welcome_len, old, old_len)) {
        snprintf(msg, msglen, "the coordinator at %s now runs another configuration", w->c.connect);
        e = LOCO_EINVAL;
    }
    if (!w->welcome_buf) {
        w->welcome_buf = old;
        old = NULL;
    }
    free(old);
    if (e) return e;
    return ops->rejoined ? ops->rejoined(ctx, id, msg, msglen) : LOCO_OK;
}

/* 1 if m is the coordinator's "unknown session" answer to this worker's
 * session, whatever the run: the coordinator restarted or gave our slot
 * away. */
static int forgotten(const loco_netw *w, const loco__msg *m) {
    loco_net_error er;
    return m->h.sender == LOCO_NET_COORDINATOR && m->h.type == LOCO_NET_ERROR && m->h.session == w->session &&
           loco_net_decode_error(m->data, m->n, &er) == LOCO_OK && !strncmp(er.text, "unknown session", 15);
}

/* 1 if m comes from the coordinator of our session, in order (and records
 * its sequence number). */
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

int loco__worker_run(loco_netw *w, const loco__worker_ops *ops, void *ctx, char *msg, size_t msglen) {
    int e;
    for (;;) {
        /* Take every message already queued before training, so that a
         * worker that fell behind trains the newest task. */
        const int ready = ops->ready && ops->ready(ctx);
        loco__msg m;
        e = loco__link_recv(&w->link, ready ? 0 : (int)w->w.heartbeat_ms, &m);
        if (e == LOCO_ERANGE) {
            if (ready) {
                if ((e = ops->work(ctx, msg, msglen)) != LOCO_OK) break;
                continue;
            }
            loco__worker_beat(w, (uint64_t)-1, (uint64_t)w->steps_done);
            if (w->c.coordinator_timeout > 0 && loco__now() - w->last_heard > w->c.coordinator_timeout &&
                (e = rejoin(w, ops, ctx, "the coordinator is silent", msg, msglen)) != LOCO_OK)
                break;
            continue;
        }
        if (e) {
            snprintf(msg, msglen, "%s", loco__link_error(&w->link));
            break;
        }
        if (forgotten(w, &m)) {
            loco__msg_close(&m);
            if ((e = rejoin(w, ops, ctx, "the coordinator does not know this session", msg, msglen)) != LOCO_OK)
                break;
            continue;
        }
        if (!from_coordinator(w, &m)) {
            loco__msg_close(&m);
            continue;
        }
        const int type = m.h.type;
        int bad = 0;
        if (type == LOCO_NET_BYE) {
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
            bad = !ops->message || ops->message(ctx, &m);
        }
        if (bad) loco__link_reject_type(&w->link, "unexpected or malformed message from the coordinator", type);
        loco__msg_close(&m);
    }
    if (e == LOCO_OK) {
        loco__worker_send(w, LOCO_NET_BYE, NULL, 0, NULL, 0);
        int ms = 1000;
        zmq_setsockopt(w->link.sock, ZMQ_LINGER, &ms, sizeof ms);
    }
    return e;
}
