/*
 * The coordinator's side of the session layer (src/net/session.h): slots,
 * HELLO and WELCOME, sessions and sequence numbers, heartbeats, the
 * reaping of silent workers, BYE.  One thread, one ROUTER socket; every
 * message has passed src/net/link.c's checks (frames, lengths, MAC) before
 * it gets here, and is then checked against its sender's session.
 *
 * Who gets which slot, for every algorithm alike: the same connection
 * asking again (its WELCOME was late) keeps its slot with a new session;
 * otherwise the slot it asks for if that one is not alive (a restarted
 * worker asks for its old id, DiLoCo's shard); otherwise the first free
 * slot, and only then the first dead one, so that a worker declared dead
 * while only slow finds its slot, and its state, when it comes back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/shard.h"
#include "net/session.h"
#include "net/wire.h"

void loco__session_say(const loco__session *s, long p, const char *what) {
    if (s->verbose) loco__log(&s->link.log, "loco coordinator: worker %ld %s", p, what);
}

int loco__session_open(loco__session *s, const loco__session_config *c, const loco__session_ops *ops, void *ctx,
                       char *msg, size_t msglen) {
    memset(s, 0, sizeof *s);
    s->ops = ops;
    s->ctx = ctx;
    s->n = c->peers;
    s->worker_timeout = c->worker_timeout;
    s->heartbeat_s = c->run->heartbeat_ms / 1000.0;
    s->max_skew_ms = c->max_skew_ms;
    s->verbose = c->verbose;
    s->round = c->round;
    s->steps = c->steps;
    s->peer = calloc((size_t)(c->peers > 0 ? c->peers : 1), sizeof *s->peer);
    s->welcome_len = loco_net_welcome_bytes(c->run->n_assign);
    s->welcome = s->welcome_len ? malloc(s->welcome_len) : NULL;
    if (!s->peer || !s->welcome) {
        snprintf(msg, msglen, "out of memory for %d worker slots", c->peers);
        loco__session_close(s);
        return LOCO_ENOMEM;
    }
    if (loco_net_encode_welcome(c->run, s->welcome, s->welcome_len) != s->welcome_len) {
        snprintf(msg, msglen, "cannot encode the run configuration");
        loco__session_close(s);
        return LOCO_EINVAL;
    }
    s->identity = loco_net_welcome_identity(LOCO_FNV1A_INIT, s->welcome, s->welcome_len);
    int e = loco__link_open(&s->link, 1, c->listen, c->key, c->security, c->payload_max, msg, msglen);
    if (e) {
        loco__session_close(s);
        return e;
    }
    s->link.self = LOCO_NET_COORDINATOR;
    s->link.log = c->log;
    if (loco_net_random(&s->link.run_id, sizeof s->link.run_id)) {
        snprintf(msg, msglen, "no random numbers");
        loco__session_close(s);
        return LOCO_EIO;
    }
    s->link.run_id |= 1;   /* never 0, which HELLO uses */
    loco__link_endpoint(&s->link, s->endpoint, sizeof s->endpoint);
    return LOCO_OK;
}

void loco__session_close(loco__session *s) {
    loco__link_close(&s->link);
    free(s->peer);
    free(s->welcome);
    s->peer = NULL;
    s->welcome = NULL;
}

int loco__session_count(loco__session *s) {
    int alive = 0;
    for (int p = 0; p < s->n; p++) alive += s->peer[p].state == LOCO__PEER_ALIVE;
    return s->alive = alive;
}

int loco__session_send(loco__session *s, int p, int type, const void *head, size_t n_head, const void *body,
                       size_t n_body) {
    const loco__peer *q = &s->peer[p];
    return loco__link_send(&s->link, q->ident, q->ident_len, type, q->session, head, n_head, body, n_body);
}

int loco__session_send_sealed(loco__session *s, int p, int type, const loco_net_sealer *sealer, zmq_msg_t *payload) {
    const loco__peer *q = &s->peer[p];
    return loco__link_send_sealed(&s->link, q->ident, q->ident_len, type, q->session, sealer, payload);
}

/* Marks slot p dead and lets the algorithm take back its work. */
static void bury(loco__session *s, int p, const char *what, const char *why) {
    s->peer[p].state = LOCO__PEER_DEAD;
    s->deaths++;
    loco__session_say(s, p, what);
    if (s->ops->lost) s->ops->lost(s->ctx, p, why);
}

void loco__session_drop(loco__session *s, int p, const char *why) {
    bury(s, p, why, "it cannot be reached");
}

static void send_error(loco__session *s, const uint8_t *ident, size_t ident_len, uint64_t session, int code,
                       const char *text) {
    uint8_t buf[LOCO_NET_ERROR_FIXED + LOCO_NET_MAX_TEXT];
    size_t n = loco_net_encode_error((uint32_t)code, text, buf, sizeof buf);
    loco__link_send(&s->link, ident, ident_len, LOCO_NET_ERROR, session, buf, n, NULL, 0);
}

/* The slot a joining worker gets (the rule at the top of this file), or -1
 * if every slot is alive. */
static int pick(const loco__session *s, const loco__msg *m, uint32_t want) {
    for (int p = 0; p < s->n; p++)
        if (s->peer[p].state == LOCO__PEER_ALIVE && s->peer[p].ident_len == m->ident_len &&
            memcmp(s->peer[p].ident, m->ident, m->ident_len) == 0)
            return p;
    if (want < (uint32_t)s->n && s->peer[want].state != LOCO__PEER_ALIVE) return (int)want;
    for (int p = 0; p < s->n; p++)
        if (s->peer[p].state == LOCO__PEER_FREE) return p;
    for (int p = 0; p < s->n; p++)
        if (s->peer[p].state == LOCO__PEER_DEAD) return p;
    return -1;
}

/* Admits a worker: a slot, a new session, WELCOME.  Returns the slot, or -1
 * if the run is full or the WELCOME cannot be sent. */
static int admit(loco__session *s, const loco__msg *m, const loco_net_hello *hello) {
    const int p = pick(s, m, hello->want_id);
    if (p < 0) return -1;
    if (s->ops->joined) s->ops->joined(s->ctx, p);
    loco__peer *q = &s->peer[p];
    memset(q, 0, sizeof *q);
    q->state = LOCO__PEER_ALIVE;
    memcpy(q->ident, m->ident, m->ident_len);
    q->ident_len = m->ident_len;
    loco_net_random(&q->session, sizeof q->session);
    q->session |= 1;   /* never 0, which HELLO and refusals use */
    q->last_seq = m->h.seq;
    q->last_heard = loco__now();
    uint8_t *wel = s->welcome;
    loco__put32(wel + LOCO_NET_WELCOME_AT_ID, (uint32_t)p);
    memcpy(wel + LOCO_NET_WELCOME_AT_NONCE, hello->nonce, LOCO_NET_NONCE_BYTES);
    if (loco__session_send(s, p, LOCO_NET_WELCOME, wel, s->welcome_len, NULL, 0) != LOCO_OK) {
        q->state = LOCO__PEER_FREE;
        return -1;
    }
    s->joins++;
    loco__session_say(s, p, "joined");
    return p;
}

static void on_hello(loco__session *s, const loco__msg *m) {
    loco_net_hello hello;
    if (m->h.sender != LOCO_NET_ANON || m->h.session != 0 || m->h.run_id != 0 ||
        loco_net_decode_hello(m->data, m->n, &hello) != LOCO_OK) {
        loco__link_reject(&s->link, "malformed HELLO");
        return;
    }
    int e = loco_net_hello_accept(&s->nonces, &hello, loco_net_wall_ms(), s->max_skew_ms);
    if (e) {
        loco__link_reject(&s->link, e == LOCO_ERANGE ? "HELLO with a timestamp outside the allowed skew"
                                                     : "replayed HELLO (nonce seen before)");
        return;
    }
    /* The one refusal a coordinator gives, and the one a worker waits out
     * (src/net/session_worker.c). */
    if (admit(s, m, &hello) < 0) send_error(s, m->ident, m->ident_len, 0, -LOCO_ERANGE, "the run is full");
}

/* Handles one authenticated message. */
static void handle(loco__session *s, loco__msg *m) {
    if (m->h.type == LOCO_NET_HELLO) {
        on_hello(s, m);
        return;
    }
    const uint32_t p = m->h.sender;
    loco__peer *q = p < (uint32_t)s->n ? &s->peer[p] : NULL;
    if (!q || q->state == LOCO__PEER_FREE || m->h.session != q->session || m->h.run_id != s->link.run_id) {
        loco__link_reject(&s->link, "message from an unknown session");
        /* It holds the secret: tell it to join again. */
        if (m->h.type != LOCO_NET_ERROR && m->h.type != LOCO_NET_BYE)
            send_error(s, m->ident, m->ident_len, m->h.session, -LOCO_EINVAL, "unknown session: join again");
        return;
    }
    if (m->h.seq <= q->last_seq) {
        loco__link_reject(&s->link, "replayed message (old sequence number)");
        return;
    }
    q->last_seq = m->h.seq;
    q->last_heard = loco__now();
    /* ZeroMQ gives a reconnected peer a new identity. */
    memcpy(q->ident, m->ident, m->ident_len);
    q->ident_len = m->ident_len;
    if (q->state == LOCO__PEER_DEAD) {
        /* Declared dead but only slow: back, without the work taken back
         * from it (whatever it pushes of that work may still count). */
        q->state = LOCO__PEER_ALIVE;
        loco__session_say(s, p, "is back");
    }
    switch (m->h.type) {
    case LOCO_NET_HEARTBEAT: {
        loco_net_heartbeat hb;
        if (loco_net_decode_heartbeat(m->data, m->n, &hb)) loco__link_reject(&s->link, "malformed HEARTBEAT");
        break;
    }
    case LOCO_NET_BYE:
    case LOCO_NET_ERROR: {
        loco_net_error er;
        if (m->h.type == LOCO_NET_ERROR && loco_net_decode_error(m->data, m->n, &er) == LOCO_OK)
            loco__log(&s->link.log, "loco coordinator: worker %u: %s", p, er.text);
        if (s->ops->lost) s->ops->lost(s->ctx, (int)p, "it left");
        q->state = LOCO__PEER_FREE;
        loco__session_say(s, p, "left");
        break;
    }
    default:
        if (!s->ops->message || s->ops->message(s->ctx, (int)p, m) != 0)
            loco__link_reject_type(&s->link, "unexpected message type from a worker", m->h.type);
    }
}

/* Declares dead the workers silent for longer than worker_timeout, and
 * sends live ones a heartbeat every heartbeat interval. */
static void housekeeping(loco__session *s) {
    const double now = loco__now();
    for (int p = 0; p < s->n; p++)
        if (s->peer[p].state == LOCO__PEER_ALIVE && now - s->peer[p].last_heard > s->worker_timeout)
            bury(s, p, "is silent: declared dead", "declared dead");
    if (now - s->last_beat >= s->heartbeat_s) {
        s->last_beat = now;
        loco_net_heartbeat hb = {s->round ? (uint64_t)*s->round : 0, s->steps ? (uint64_t)*s->steps : 0};
        uint8_t buf[LOCO_NET_HEARTBEAT_BYTES];
        loco_net_encode_heartbeat(&hb, buf, sizeof buf);
        for (int p = 0; p < s->n; p++)
            if (s->peer[p].state == LOCO__PEER_ALIVE)
                loco__session_send(s, p, LOCO_NET_HEARTBEAT, buf, sizeof buf, NULL, 0);
    }
    if (s->ops->tick) s->ops->tick(s->ctx);
    loco__session_count(s);
}

int loco__session_serve(loco__session *s, int timeout_ms, char *msg, size_t msglen) {
    loco__msg m;
    int e = loco__link_recv(&s->link, timeout_ms, &m);
    if (e == LOCO_OK) {
        handle(s, &m);
        loco__msg_close(&m);
    }
    housekeeping(s);
    if (e == LOCO_EIO) {
        snprintf(msg, msglen, "%s", loco__link_error(&s->link));
        return LOCO_EIO;
    }
    return LOCO_OK;
}

int loco__session_wait(loco__session *s, int n, double timeout, char *msg, size_t msglen) {
    const double t0 = loco__now();
    for (;;) {
        if (loco__session_count(s) >= n) return LOCO_OK;
        if (timeout > 0 && loco__now() - t0 > timeout) {
            snprintf(msg, msglen, "%d of %d workers joined in %g s", s->alive, n, timeout);
            return LOCO_ERANGE;
        }
        if (loco__session_serve(s, 200, msg, msglen)) return LOCO_EIO;
    }
}

void loco__session_save(const loco__session *s, loco__coord_state *st) {
    st->joins = s->joins;
    st->deaths = s->deaths;
    st->rejected = s->link.rejected;
    st->bytes_in = s->link.bytes_in;
    st->bytes_out = s->link.bytes_out;
}

void loco__session_restore(loco__session *s, const loco__coord_state *st, double *time_s) {
    if (time_s) *time_s = st->time_s;
    s->joins = (long)st->joins;
    s->deaths = (long)st->deaths;
    s->link.rejected = (long)st->rejected;
    s->link.bytes_in = st->bytes_in;
    s->link.bytes_out = st->bytes_out;
}

void loco__session_finish(loco__session *s, double linger) {
    for (int p = 0; p < s->n; p++)
        if (s->peer[p].state == LOCO__PEER_ALIVE) loco__session_send(s, p, LOCO_NET_BYE, NULL, 0, NULL, 0);
    int ms = (int)(linger * 1000);
    zmq_setsockopt(s->link.sock, ZMQ_LINGER, &ms, sizeof ms);
    loco__session_count(s);
}
