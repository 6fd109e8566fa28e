/* CURVE on a link's socket (src/net/curve.h).
 *
 * The coordinator's ZAP handler.  ZeroMQ authenticates a CURVE client in
 * its I/O thread: once the client has proven it holds the secret key of
 * the public key it presents (the INITIATE box), ZeroMQ asks the context's
 * ZAP handler, a REP socket bound to inproc://zeromq.zap.01, whether that
 * key may connect (rfc.zeromq.org/spec/27).  Until the handler answers
 * "200", the connection carries no message; on "400" ZeroMQ sends the
 * client an ERROR and closes it.  The handler here is one thread owning
 * that REP socket, started before the ROUTER binds (so no connection is
 * ever admitted unasked) and woken for good by zmq_ctx_shutdown.
 *
 * A worker's monitor.  A refused client only sees its connection closed
 * and ZeroMQ reconnecting, which would look like a coordinator that is not
 * there.  ZeroMQ's socket monitor reports the handshake's failure with its
 * reason, so the worker can say which it is and stop at once. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "net/curve.h"
#include "net/frames.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MONITOR_ENDPOINT "inproc://loco-curve-monitor"

#define ZAP_LINES 8

struct loco__zap {
    pthread_t thread;
    void *rep;                       /* owned by the thread once it runs */
    const loco_net_curve_key *allow; /* sorted */
    size_t n_allow;
    const char *who;
    atomic_long refused;
    /* The refusal lines the thread has to say, until the link's thread
     * takes them (loco__zap_lines): the library prints nothing, and the
     * caller's log function is called on the caller's thread only. */
    pthread_mutex_t lock;
    char lines[ZAP_LINES][320];
    int n_lines;
};

static int frame_is(zmq_msg_t *f, const char *s) {
    return zmq_msg_size(f) == strlen(s) && !memcmp(zmq_msg_data(f), s, strlen(s));
}

/* The reply: version, request id (echoed), status code, status text, user
 * id, metadata (empty). */
static void zap_reply(void *rep, zmq_msg_t *request_id, const char *code, const char *text, const char *user) {
    zmq_send(rep, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(rep, request_id ? zmq_msg_data(request_id) : "", request_id ? zmq_msg_size(request_id) : 0,
             ZMQ_SNDMORE);
    zmq_send(rep, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(rep, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(rep, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(rep, "", 0, 0);
}

/* Request frames: version "1.0", request id, domain, address, identity,
 * mechanism "CURVE", the client's 32-byte public key. */
static void *zap_main(void *arg) {
    loco__zap *z = arg;
    enum { FRAMES = 7 };
    for (;;) {
        zmq_msg_t f[FRAMES];
        /* Fails only once the context is shut down: the end. */
        int count = loco__recv_frames(z->rep, f, FRAMES, 0, NULL);
        if (count < 0) break;
        const int n = count < FRAMES ? count : FRAMES;
        const char *code = "400", *text = "malformed ZAP request";
        char user[LOCO_NET_Z85_BYTES + 1] = "";
        if (count == FRAMES && frame_is(&f[0], "1.0") && frame_is(&f[5], "CURVE") &&
            zmq_msg_size(&f[6]) == LOCO_NET_CURVE_BYTES) {
            loco_net_curve_key k;
            memcpy(k.k, zmq_msg_data(&f[6]), sizeof k.k);
            loco_net_curve_z85(&k, user);
            if (bsearch(&k, z->allow, z->n_allow, sizeof k, loco__curve_key_cmp)) {
                code = "200";
                text = "OK";
            } else {
                text = "public key not in the allow-list";
                long r = atomic_fetch_add(&z->refused, 1) + 1;
                if (r <= 20 || r % 1000 == 0) {
                    char addr[64] = "?";
                    size_t al = zmq_msg_size(&f[3]) < sizeof addr - 1 ? zmq_msg_size(&f[3]) : sizeof addr - 1;
                    memcpy(addr, zmq_msg_data(&f[3]), al);
                    addr[al] = 0;
                    for (size_t i = 0; i < al; i++)
                        if (addr[i] < 32 || addr[i] > 126) addr[i] = '?';
                    pthread_mutex_lock(&z->lock);
                    if (z->n_lines < ZAP_LINES)
                        snprintf(z->lines[z->n_lines++], sizeof z->lines[0], "%s: refused a connection from %s: "
                                 "its CURVE public key %s is not in the allow-list (%ld refused so far)", z->who,
                                 addr, user, r);
                    pthread_mutex_unlock(&z->lock);
                }
                user[0] = 0;
            }
        }
        zap_reply(z->rep, n >= 2 ? &f[1] : NULL, code, text, user);
        for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
    }
    zmq_close(z->rep);
    return NULL;
}

int loco__curve_server(void *ctx, void *sock, const loco_net_security *s, const char *who, loco__zap **zap,
                       char *msg, size_t msglen) {
    *zap = NULL;
    int one = 1, zero = 0;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->sec.k, LOCO_NET_CURVE_BYTES) ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "loco", 4)) {
        snprintf(msg, msglen, "cannot make a CURVE server: %s", zmq_strerror(zmq_errno()));
        return LOCO_EIO;
    }
    loco__zap *z = calloc(1, sizeof *z);
    if (!z) return LOCO_ENOMEM;
    z->allow = s->allow;
    z->n_allow = s->n_allow;
    z->who = who;
    atomic_init(&z->refused, 0);
    pthread_mutex_init(&z->lock, NULL);
    z->rep = zmq_socket(ctx, ZMQ_REP);
    if (!z->rep || zmq_setsockopt(z->rep, ZMQ_LINGER, &zero, sizeof zero) || zmq_bind(z->rep, ZAP_ENDPOINT)) {
        snprintf(msg, msglen, "cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
        if (z->rep) zmq_close(z->rep);
        free(z);
        return LOCO_EIO;
    }
    /* pthread_create orders the socket's set-up before the thread's use of
     * it, as ZeroMQ asks of a socket that changes threads. */
    if (pthread_create(&z->thread, NULL, zap_main, z) != 0) {
        snprintf(msg, msglen, "cannot start the ZAP handler's thread");
        zmq_close(z->rep);
        free(z);
        return LOCO_EIO;
    }
    *zap = z;
    return LOCO_OK;
}

void loco__zap_stop(loco__zap *z) {
    if (!z) return;
    pthread_join(z->thread, NULL);
    pthread_mutex_destroy(&z->lock);
    free(z);
}

void loco__zap_lines(loco__zap *z, void (*say)(void *ctx, const char *line), void *ctx) {
    if (!z) return;
    char lines[ZAP_LINES][320];
    pthread_mutex_lock(&z->lock);
    const int n = z->n_lines;
    memcpy(lines, z->lines, sizeof lines);
    z->n_lines = 0;
    pthread_mutex_unlock(&z->lock);
    for (int i = 0; i < n; i++) say(ctx, lines[i]);
}

int loco__curve_client(void *ctx, void *sock, const loco_net_security *s, void **monitor, char *msg,
                       size_t msglen) {
    *monitor = NULL;
    int zero = 0;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, s->server.k, LOCO_NET_CURVE_BYTES) ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, s->pub.k, LOCO_NET_CURVE_BYTES) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->sec.k, LOCO_NET_CURVE_BYTES)) {
        snprintf(msg, msglen, "cannot make a CURVE client: %s", zmq_strerror(zmq_errno()));
        return LOCO_EIO;
    }
    void *m = NULL;
    if (zmq_socket_monitor(sock, MONITOR_ENDPOINT,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) ||
        !(m = zmq_socket(ctx, ZMQ_PAIR)) || zmq_setsockopt(m, ZMQ_LINGER, &zero, sizeof zero) ||
        zmq_connect(m, MONITOR_ENDPOINT)) {
        snprintf(msg, msglen, "cannot monitor the CURVE handshake: %s", zmq_strerror(zmq_errno()));
        if (m) zmq_close(m);
        return LOCO_EIO;
    }
    *monitor = m;
    return LOCO_OK;
}

int loco__curve_failed(void *monitor, char *why, size_t whylen) {
    if (!monitor) return 0;
    for (;;) {
        /* An event is two frames: 16-bit event and 32-bit value, then the
         * endpoint. */
        uint8_t ev[6];
        char ep[256];
        int n = zmq_recv(monitor, ev, sizeof ev, ZMQ_DONTWAIT);
        if (n < 0) return 0;
        int k = zmq_recv(monitor, ep, sizeof ep - 1, 0);
        ep[k < 0 ? 0 : k < (int)sizeof ep ? k : (int)sizeof ep - 1] = 0;
        if (n != 6) continue;
        uint16_t event;
        uint32_t value;
        memcpy(&event, ev, 2);
        memcpy(&value, ev + 2, 4);
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            snprintf(why, whylen, "the coordinator at %.200s refused this worker's CURVE public key (status %u): "
                     "it is not in the coordinator's allow-list", ep, value);
            return 1;
        }
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
            (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH || value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)) {
            snprintf(why, whylen, "the security handshake with %.200s failed (%s): does the coordinator use CURVE "
                     "too, and is its public key the one this worker was given?", ep,
                     value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ? "the two ends use different security"
                                                                         : "a cryptographic failure");
            return 1;
        }
    }
}

/* ------------------------------------------------------------ modes */

int loco_net_curve_available(void) {
    return zmq_has("curve");
}

int loco_net_sec_resolve(int mode, const char *endpoint) {
    if (mode != LOCO_NET_SEC_DEFAULT) return mode;
    /* An ipc:// socket is a file of this host that its permissions guard;
     * tcp:// crosses a network. */
    return endpoint && !strncmp(endpoint, "ipc://", 6) ? LOCO_NET_SEC_MAC : LOCO_NET_SEC_CURVE;
}

static const char *const mode_names[] = {"default", "mac", "curve", "both"};

const char *loco_net_sec_name(int mode) {
    return mode >= 0 && mode <= LOCO_NET_SEC_BOTH ? mode_names[mode] : "unknown";
}

int loco_net_sec_parse(const char *s) {
    for (int m = LOCO_NET_SEC_MAC; s && m <= LOCO_NET_SEC_BOTH; m++)
        if (!strcmp(s, mode_names[m])) return m;
    return -1;
}
