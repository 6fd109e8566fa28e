/* CURVE on a link's socket (include/loco/net_security.h): the coordinator's
 * ZAP handler, which admits only allow-listed worker keys, and a worker's
 * monitor, which tells a refusal from silence.  Internal to src/net. */
#ifndef LOCO_NET_CURVE_H
#define LOCO_NET_CURVE_H

#include <stddef.h>
#include "loco/net_security.h"

/* memcmp order of two loco_net_curve_key (qsort, bsearch). */
int loco__curve_key_cmp(const void *a, const void *b);

typedef struct loco__zap loco__zap;

/* Makes sock (a ROUTER of ctx, not yet bound) a CURVE server with s's key
 * pair and starts the ZAP handler of ctx: a thread answering
 * inproc://zeromq.zap.01, which ZeroMQ asks about every connection's
 * client key before the connection may carry a message.  It accepts the
 * keys of s->allow (sorted, borrowed for the handler's life) and refuses
 * any other, with one line prefixed by who (rate-limited) kept for
 * loco__zap_lines.
 * Returns LOCO_OK with *zap, or LOCO_EIO/LOCO_ENOMEM with a reason. */
int loco__curve_server(void *ctx, void *sock, const loco_net_security *s, const char *who, loco__zap **zap,
                       char *msg, size_t msglen);

/* Stops the handler: call after zmq_ctx_shutdown(ctx) (which wakes it) and
 * before zmq_ctx_term.  NULL is a no-op. */
void loco__zap_stop(loco__zap *z);

/* Hands the refusal lines kept since the last call to say, on the
 * caller's thread (at most 8 between two calls; the count in each line
 * tells of any left out). */
void loco__zap_lines(loco__zap *z, void (*say)(void *ctx, const char *line), void *ctx);

/* Makes sock (a DEALER of ctx, not yet connected) a CURVE client with s's
 * key pair and server key, and opens *monitor: a PAIR socket of ctx that
 * receives sock's handshake failures.  Returns LOCO_OK, or LOCO_EIO with a
 * reason. */
int loco__curve_client(void *ctx, void *sock, const loco_net_security *s, void **monitor, char *msg,
                       size_t msglen);

/* Reads the monitor's pending events.  Returns 1 with why filled if one of
 * them is fatal for a worker: the coordinator refused its key (ZAP), or the
 * two ends do not speak the same security (mechanism mismatch, a
 * cryptographic failure of the handshake); 0 otherwise. */
int loco__curve_failed(void *monitor, char *why, size_t whylen);

#endif
