/* ZeroMQ sockets speaking the protocol (src/net/link.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "net/frames.h"
#include "net/link.h"

double loco__now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int loco_net_endpoint_check(const char *ep, int bind, char *msg, size_t msglen) {
    if (!ep) return snprintf(msg, msglen, "no endpoint given"), LOCO_EINVAL;
    if (!strncmp(ep, "ipc://", 6)) {
        /* sockaddr_un.sun_path holds 108 bytes with its NUL. */
        size_t n = strlen(ep + 6);
        if (n == 0 || n > 107) {
            snprintf(msg, msglen, "%.200s: an ipc:// path must have 1 to 107 bytes (it has %zu)", ep, n);
            return LOCO_EINVAL;
        }
        return LOCO_OK;
    }
    if (strncmp(ep, "tcp://", 6) != 0) {
        snprintf(msg, msglen, "%.200s: an endpoint is tcp://HOST:PORT or ipc://PATH", ep);
        return LOCO_EINVAL;
    }
    const char *colon = strrchr(ep + 6, ':');
    if (!colon || colon == ep + 6) {
        snprintf(msg, msglen, "%.200s: a tcp:// endpoint needs HOST:PORT", ep);
        return LOCO_EINVAL;
    }
    const char *p = colon + 1;
    if (bind && !strcmp(p, "*")) return LOCO_OK;
    long port = 0;
    for (const char *q = p; *q && port <= 65535; q++) port = *q >= '0' && *q <= '9' ? port * 10 + (*q - '0') : 99999;
    if (!*p || port < 1 || port > 65535) {
        snprintf(msg, msglen, "%.200s: the port must be a number in 1..65535%s", ep, bind ? " (or *: any free port)" : "");
        return LOCO_EINVAL;
    }
    return LOCO_OK;
}

/* The keys a mode needs are there: a key pair for CURVE, and the
 * coordinator's public key (a worker) or a non-empty allow-list (the
 * coordinator).  Returns LOCO_OK, LOCO_ENOTSUP (no CURVE in this libzmq)
 * or LOCO_EINVAL. */
static int check_security(int mode, int router, const loco_net_security *s, char *msg, size_t msglen) {
    static const loco_net_curve_key zero;
    if (mode < LOCO_NET_SEC_MAC || mode > LOCO_NET_SEC_BOTH)
        return snprintf(msg, msglen, "unknown security mode %d", mode), LOCO_EINVAL;
    if (!(mode & LOCO_NET_SEC_CURVE)) return LOCO_OK;
    if (!loco_net_curve_available())
        return snprintf(msg, msglen, "this libzmq has no CURVE (it was built without libsodium)"), LOCO_ENOTSUP;
    const char *why = NULL;
    if (!memcmp(s->sec.k, zero.k, sizeof zero.k)) why = "CURVE needs this end's key pair";
    else if (!router && !memcmp(s->server.k, zero.k, sizeof zero.k)) why = "CURVE needs the coordinator's public key";
    else if (router && (!s->allow || !s->n_allow)) why = "CURVE needs an allow-list of the workers' public keys";
    if (why) return snprintf(msg, msglen, "%s", why), LOCO_EINVAL;
    return LOCO_OK;
}

/* The MAC key of CURVE alone: from the coordinator's public key, under a
 * prefix that no secret file's derivation shares. */
static void curve_only_key(loco_net_key *key, const loco_net_curve_key *server) {
    uint8_t s[16 + LOCO_NET_CURVE_BYTES];
    memcpy(s, "loco-curve-only:", 16);
    memcpy(s + 16, server->k, LOCO_NET_CURVE_BYTES);
    loco_net_key_from_secret(key, s, sizeof s, NULL, 0);
}

/* Returns LOCO_EIO with ZeroMQ's reason, LOCO_EINVAL for a malformed
 * endpoint. */
int loco__link_open(loco__link *l, int router, const char *endpoint, const loco_net_key *key,
                    const loco_net_security *sec, size_t payload_max, char *msg, size_t msglen) {
    memset(l, 0, sizeof *l);
    int ee = loco_net_endpoint_check(endpoint, router, msg, msglen);
    if (ee) return ee;
    const loco_net_security none = {0};
    if (!sec) sec = &none;
    l->mode = loco_net_sec_resolve(sec->mode, endpoint);
    if ((ee = check_security(l->mode, router, sec, msg, msglen)) != LOCO_OK) return ee;
    l->router = router;
    l->key = *key;
    /* With CURVE alone the envelope's MAC is keyed by the coordinator's
     * public key, which both ends hold: it still catches a message mangled
     * between the socket and us, and CURVE authenticates. */
    if (l->mode == LOCO_NET_SEC_CURVE) curve_only_key(&l->key, router ? &sec->pub : &sec->server);
    l->payload_max = payload_max;
    l->who = router ? "loco coordinator" : "loco worker";
    l->ctx = zmq_ctx_new();
    l->sock = l->ctx ? zmq_socket(l->ctx, router ? ZMQ_ROUTER : ZMQ_DEALER) : NULL;
    if (!l->sock) {
        snprintf(msg, msglen, "cannot create a ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
        loco__link_close(l);
        return LOCO_EIO;
    }
    /* ZeroMQ refuses any frame longer than the largest valid one before it
     * allocates it, and drops the connection of the peer that sent it. */
    int64_t maxmsg = (int64_t)(payload_max > LOCO_NET_HEADER_BYTES ? payload_max : LOCO_NET_HEADER_BYTES);
    /* ZeroMQ applies the limit to the frame as it travels: with CURVE, a
     * MESSAGE command of 33 bytes of header, nonce and tag wrapping the
     * frame and its flags byte. */
    if (l->mode & LOCO_NET_SEC_CURVE) maxmsg += 64;
    int zero = 0, one = 1, hwm = 1000;
    int e = zmq_setsockopt(l->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (!e) e = zmq_setsockopt(l->sock, ZMQ_LINGER, &zero, sizeof zero);
    if (!e) e = zmq_setsockopt(l->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (!e) e = zmq_setsockopt(l->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    /* A ROUTER reports a send to a peer that is gone instead of dropping it
     * silently, so that the coordinator learns of it. */
    if (!e && router) e = zmq_setsockopt(l->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (!e && !router) {
        /* Reconnect quickly at first, backing off to 5 s. */
        int ivl = 100, ivl_max = 5000;
        e = zmq_setsockopt(l->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
        if (!e) e = zmq_setsockopt(l->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
    }
    if (e) {
        snprintf(msg, msglen, "cannot set up a ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
        loco__link_close(l);
        return LOCO_EIO;
    }
    /* CURVE is set up before the socket binds or connects, so that no
     * connection is ever made without it. */
    if (l->mode & LOCO_NET_SEC_CURVE) {
        e = router ? loco__curve_server(l->ctx, l->sock, sec, l->who, &l->zap, msg, msglen)
                   : loco__curve_client(l->ctx, l->sock, sec, &l->monitor, msg, msglen);
        if (e) {
            loco__link_close(l);
            return e;
        }
    }
    e = router ? zmq_bind(l->sock, endpoint) : zmq_connect(l->sock, endpoint);
    if (e) {
        snprintf(msg, msglen, "%s %s: %s", router ? "cannot listen on" : "cannot connect to", endpoint,
                 zmq_strerror(zmq_errno()));
        loco__link_close(l);
        return LOCO_EIO;
    }
    return LOCO_OK;
}

void loco__link_close(loco__link *l) {
    if (l->monitor) zmq_close(l->monitor);
    if (l->sock) zmq_close(l->sock);
    /* The ZAP handler blocks in its socket until the context shuts down. */
    if (l->zap) {
        zmq_ctx_shutdown(l->ctx);
        loco__zap_stop(l->zap);
    }
    if (l->ctx) zmq_ctx_term(l->ctx);
    l->sock = l->ctx = l->monitor = NULL;
    l->zap = NULL;
}

const char *loco__link_error(loco__link *l) {
    if (!l->failed) snprintf(l->why, sizeof l->why, "the socket failed: %s", zmq_strerror(zmq_errno()));
    return l->why;
}

const char *loco__link_silence_hint(const loco__link *l) {
    switch (l->mode) {
    case LOCO_NET_SEC_MAC: return "does it share this worker's secret (and use the MAC alone, not CURVE)?";
    case LOCO_NET_SEC_CURVE: return "is its public key the one this worker was given (and does it use CURVE)?";
    default: return "does it share this worker's secret, is its public key the one this worker was given, and "
                    "does it use both CURVE and the MAC?";
    }
}

void loco__link_endpoint(const loco__link *l, char *out, size_t n) {
    size_t len = n;
    if (!l->sock || zmq_getsockopt(l->sock, ZMQ_LAST_ENDPOINT, out, &len) != 0) out[0] = 0;
}

/* Sends one frame; more != 0 if others follow.  Returns LOCO_ERANGE when
 * the peer cannot take it now (full queue, or gone), LOCO_EIO otherwise. */
static int send_frame(loco__link *l, zmq_msg_t *m, int more) {
    size_t n = zmq_msg_size(m);
    if (zmq_msg_send(m, l->sock, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) < 0) {
        int err = zmq_errno();
        zmq_msg_close(m);
        return err == EAGAIN || err == EHOSTUNREACH ? LOCO_ERANGE : LOCO_EIO;
    }
    l->bytes_out += (double)n;
    return LOCO_OK;
}

/* Sends the identity (ROUTER) and the header; returns as send_frame. */
static int send_envelope(loco__link *l, const uint8_t *ident, size_t ident_len, int type, uint64_t session,
                         const loco_net_sealer *s) {
    zmq_msg_t f;
    if (l->router) {
        if (zmq_msg_init_size(&f, ident_len)) return LOCO_EIO;
        memcpy(zmq_msg_data(&f), ident, ident_len);
        int e = send_frame(l, &f, 1);
        if (e) return e;
    }
    loco_net_header h = {0};
    h.type = (uint16_t)type;
    h.sender = l->self;
    h.seq = ++l->seq;
    h.run_id = l->run_id;
    h.session = session;
    if (zmq_msg_init_size(&f, LOCO_NET_HEADER_BYTES)) return LOCO_EIO;
    loco_net_seal_header(s, &h, zmq_msg_data(&f));
    return send_frame(l, &f, 1);
}

int loco__link_send_sealed(loco__link *l, const uint8_t *ident, size_t ident_len, int type, uint64_t session,
                           const loco_net_sealer *s, zmq_msg_t *payload) {
    int e = send_envelope(l, ident, ident_len, type, session, s);
    if (e) return e;
    zmq_msg_t f;
    /* A copy shares the payload's buffer by reference count. */
    if (zmq_msg_init(&f) || zmq_msg_copy(&f, payload)) return LOCO_EIO;
    return send_frame(l, &f, 0);
}

int loco__link_send(loco__link *l, const uint8_t *ident, size_t ident_len, int type, uint64_t session,
                    const void *head, size_t n_head, const void *body, size_t n_body) {
    zmq_msg_t p;
    if (zmq_msg_init_size(&p, n_head + n_body)) return LOCO_EIO;
    uint8_t *d = zmq_msg_data(&p);
    if (n_head) memcpy(d, head, n_head);
    if (n_body) memcpy(d + n_head, body, n_body);
    loco_net_sealer s;
    int e = loco_net_seal_begin(&s, &l->key, d, n_head + n_body);
    if (!e) e = loco__link_send_sealed(l, ident, ident_len, type, session, &s, &p);
    zmq_msg_close(&p);
    return e;
}

void loco__log(const loco_net_log *log, const char *fmt, ...) {
    if (!log || !log->fn) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log->fn(log->ctx, line);
}

void loco__link_reject(loco__link *l, const char *reason) {
    l->rejected++;
    if (l->rejected <= 20 || l->rejected % 1000 == 0) {
        l->logged++;
        loco__log(&l->log, "%s: dropped a message: %s (%ld dropped so far)", l->who, reason, l->rejected);
    }
}

void loco__link_reject_type(loco__link *l, const char *reason, int type) {
    char line[160];
    snprintf(line, sizeof line, "%s (type %d, %s)", reason, type, loco_net_type_name(type));
    loco__link_reject(l, line);
}

void loco__msg_close(loco__msg *m) {
    zmq_msg_close(&m->payload);
    m->data = NULL;
    m->n = 0;
}

/* A line the ZAP handler kept, to the link's log. */
static void zap_say(void *ctx, const char *line) {
    loco__log(ctx, "%s", line);
}

/* Returns LOCO_OK, LOCO_ERANGE (nothing valid in time) or LOCO_EIO. */
int loco__link_recv(loco__link *l, int timeout_ms, loco__msg *m) {
    if (l->zap) loco__zap_lines(l->zap, zap_say, &l->log);
    const double t_end = loco__now() + timeout_ms / 1000.0;
    for (;;) {
        if (l->failed) return LOCO_EIO;
        zmq_pollitem_t it[2] = {{l->sock, 0, ZMQ_POLLIN, 0}, {l->monitor, 0, ZMQ_POLLIN, 0}};
        int wait = timeout_ms < 0 ? -1 : (int)((t_end - loco__now()) * 1000 + 0.999);
        if (wait < 0 && timeout_ms >= 0) wait = 0;
        int r = zmq_poll(it, l->monitor ? 2 : 1, wait);
        if (r < 0) return LOCO_EIO;
        if (r == 0) return LOCO_ERANGE;
        if (l->monitor && (it[1].revents & ZMQ_POLLIN) && loco__curve_failed(l->monitor, l->why, sizeof l->why)) {
            l->failed = 1;
            return LOCO_EIO;
        }
        if (!(it[0].revents & ZMQ_POLLIN)) {
            if (timeout_ms >= 0 && loco__now() >= t_end) return LOCO_ERANGE;
            continue;
        }
        enum { MAXF = 4 };
        zmq_msg_t f[MAXF];
        int n = loco__recv_frames(l->sock, f, MAXF, ZMQ_DONTWAIT, &l->bytes_in);
        if (n < 0) {
            if (zmq_errno() == EAGAIN) continue;
            return LOCO_EIO;
        }
        const int want = l->router ? 3 : 2, kept = n < MAXF ? n : MAXF;
        const char *why = NULL;
        char reason[160];
        if (n != want) {
            snprintf(reason, sizeof reason, "%d frames instead of %d", l->router ? n - 1 : n, 2);
            why = reason;
        } else {
            const int o = l->router ? 1 : 0;
            if (l->router) {
                m->ident_len = zmq_msg_size(&f[0]);
                if (m->ident_len > LOCO__IDENT_MAX) m->ident_len = LOCO__IDENT_MAX;
                memcpy(m->ident, zmq_msg_data(&f[0]), m->ident_len);
            } else {
                m->ident_len = 0;
            }
            char r2[128];
            if (loco_net_open(&l->key, zmq_msg_data(&f[o]), zmq_msg_size(&f[o]), zmq_msg_data(&f[o + 1]),
                              zmq_msg_size(&f[o + 1]), l->payload_max, &m->h, r2, sizeof r2) != LOCO_OK) {
                snprintf(reason, sizeof reason, "%s", r2);
                why = reason;
            } else {
                zmq_msg_init(&m->payload);
                zmq_msg_move(&m->payload, &f[o + 1]);
                m->data = zmq_msg_data(&m->payload);
                m->n = zmq_msg_size(&m->payload);
            }
        }
        for (int i = 0; i < kept; i++) zmq_msg_close(&f[i]);
        if (!why) return LOCO_OK;
        loco__link_reject(l, why);
        if (timeout_ms >= 0 && loco__now() >= t_end) return LOCO_ERANGE;
    }
}
