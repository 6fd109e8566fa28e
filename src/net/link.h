/* One ZeroMQ socket speaking the protocol of include/loco/net.h: sealed
 * sends, and receives that check every frame before anything else sees it.
 * The coordinator holds a ROUTER (frames: peer identity, header, payload),
 * a worker a DEALER (header, payload).  Internal to src/net. */
#ifndef LOCO_NET_LINK_H
#define LOCO_NET_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>
#include "loco/net.h"
#include "loco/net_security.h"
#include "net/curve.h"

#define LOCO__IDENT_MAX 256

typedef struct {
    void *ctx, *sock;
    int router;                 /* 1: ROUTER (coordinator), 0: DEALER (worker) */
    loco_net_key key;           /* the MAC's (with CURVE alone: the coordinator's public key's) */
    int mode;                   /* loco_net_sec_mode in effect (never DEFAULT) */
    loco__zap *zap;             /* a CURVE ROUTER's ZAP handler */
    void *monitor;              /* a CURVE DEALER's handshake monitor */
    int failed;                 /* 1: the monitor reported a fatal handshake failure, in why */
    char why[400];              /* loco__link_error's text */
    size_t payload_max;         /* longest payload accepted */
    uint32_t self;              /* our sender id */
    uint64_t seq;               /* the last sequence number we sent */
    uint64_t run_id;            /* stamped on what we send */
    double bytes_in, bytes_out; /* every frame, accepted or not */
    long rejected;              /* messages dropped by loco__link_recv */
    long logged;                /* of which a line was printed */
    const char *who;            /* prefix of log lines: "loco coordinator" */
    loco_net_log log;           /* where its lines go (include/loco/net.h) */
} loco__link;

/* A message that passed loco_net_open.  payload stays valid until
 * zmq_msg_close(&m->payload) (loco__msg_close). */
typedef struct {
    uint8_t ident[LOCO__IDENT_MAX];
    size_t ident_len;
    loco_net_header h;
    zmq_msg_t payload;
    const uint8_t *data;        /* zmq_msg_data(&payload) */
    size_t n;
} loco__msg;

/* Opens the socket: a ROUTER bound to endpoint, or a DEALER connected to
 * it, with the security of sec (NULL: DEFAULT with no keys) resolved for
 * endpoint (loco_net_sec_resolve): key is the MAC's unless CURVE alone,
 * and with CURVE a ROUTER serves sec's key pair to its allow-list, a
 * DEALER presents its key pair to sec->server.  Returns LOCO_EINVAL for a
 * bad endpoint or missing keys, LOCO_EIO with a reason (ZeroMQ's) in msg. */
int loco__link_open(loco__link *l, int router, const char *endpoint, const loco_net_key *key,
                    const loco_net_security *sec, size_t payload_max, char *msg, size_t msglen);
void loco__link_close(loco__link *l);

/* The endpoint a ROUTER is bound to, with the port the system chose for
 * "tcp://host:*" or ":0"; "" if unknown. */
void loco__link_endpoint(const loco__link *l, char *out, size_t n);

/* Sends one message of type `type` to ident (ROUTER; NULL for a DEALER)
 * whose payload is head (n_head bytes) followed by body (n_body bytes); the
 * two are sent as one payload frame.  Never blocks: returns LOCO_ERANGE if
 * the peer's queue is full or it is gone (ROUTER), LOCO_EIO for any other
 * ZeroMQ error. */
int loco__link_send(loco__link *l, const uint8_t *ident, size_t ident_len, int type, uint64_t session,
                    const void *head, size_t n_head, const void *body, size_t n_body);

/* Sends a prepared payload frame (shared by reference: a broadcast copies
 * no bytes) sealed by s.  Returns as loco__link_send. */
int loco__link_send_sealed(loco__link *l, const uint8_t *ident, size_t ident_len, int type, uint64_t session,
                           const loco_net_sealer *s, zmq_msg_t *payload);

/* Waits up to timeout_ms (-1: forever, 0: no wait) for a message and checks
 * its frames and envelope.  Returns LOCO_OK with *m filled, LOCO_ERANGE if
 * nothing valid arrived in time (invalid messages are dropped, counted and
 * logged, rate-limited), LOCO_EIO if the socket failed (or was interrupted
 * by a signal: EINTR) or, on a CURVE DEALER, the coordinator refused its
 * key or the handshake cannot succeed (loco__link_error says which). */
int loco__link_recv(loco__link *l, int timeout_ms, loco__msg *m);
void loco__msg_close(loco__msg *m);

/* Logs "<who>: dropped a message: <reason>" for the first 20 rejections
 * and every 1000th after, and counts it. */
void loco__link_reject(loco__link *l, const char *reason);
/* The same, naming the message's type from the protocol's table
 * ("... (a DPTASK)"), for a message that is not wanted where it came. */
void loco__link_reject_type(loco__link *l, const char *reason, int type);

/* One line on why loco__link_recv or a send returned LOCO_EIO: the
 * handshake's failure, or ZeroMQ's errno.  Valid until the next call. */
const char *loco__link_error(loco__link *l);

/* What silence from the coordinator may mean under the link's security, to
 * end a "no answer from ...: is a coordinator listening there, and ..."
 * line: "does it share this worker's secret?", ... */
const char *loco__link_silence_hint(const loco__link *l);

/* Formats one line and hands it to log's function, if any. */
void loco__log(const loco_net_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Seconds on a monotonic clock. */
double loco__now(void);

#endif
