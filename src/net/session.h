/*
 * The session layer that every networked algorithm shares: DiLoCo's
 * synchronous rounds (src/net/coord.c), its asynchronous engine
 * (src/net/async_wire.c) and DiPaCo's lease queue (src/net/dipaco_coord.c)
 * on the coordinator's side, in src/net/session.c; DiLoCo's and DiPaCo's
 * workers (src/net/netw.c, src/net/dipaco_worker.c) on the worker's side,
 * in src/net/session_worker.c.  Internal to src/net.
 *
 * A session is one worker's stay in one run.  The layer owns everything
 * about it that does not depend on the algorithm:
 *   - the slots (peers) and who holds them, HELLO and WELCOME, the HELLO
 *     replay cache and clock skew;
 *   - the run's identity: a WELCOME less its worker id and nonce
 *     (loco_net_welcome_same_run, loco_net_welcome_identity);
 *   - sequence numbers and sessions on every message (the link stamps
 *     ours; the layer checks theirs);
 *   - heartbeats both ways, declaring silent workers dead, BYE;
 *   - on the worker's side: joining, the one refusal rule, and joining
 *     again with backoff when the coordinator forgets us or goes silent.
 * An algorithm plugs in as a table of callbacks (as libuv's stream types
 * share stream.c): it is told when a slot is taken or lost, handed the
 * messages of its own types in order, and woken after every wait.  Every line the layer has to say goes to the caller's
 * log function (include/loco/net.h, loco_net_log): it prints nothing.
 */
#ifndef LOCO_NET_SESSION_H
#define LOCO_NET_SESSION_H

#include "loco/net_engine.h"
#include "net/link.h"
#include "net/state.h"

/* ------------------------------------------------------------ coordinator */

enum { LOCO__PEER_FREE = 0, LOCO__PEER_ALIVE, LOCO__PEER_DEAD };

/* One slot and whoever holds it. */
typedef struct {
    int state;                  /* LOCO__PEER_* */
    uint8_t ident[LOCO__IDENT_MAX];
    size_t ident_len;           /* its ZeroMQ identity (a reconnected peer gets a new one) */
    uint64_t session, last_seq; /* its session (WELCOME), and the last sequence number accepted */
    double last_heard;          /* loco__now() of its last accepted message */
} loco__peer;

/* What an algorithm plugs into the coordinator's session layer.  ctx is
 * the algorithm's own state; any callback may be NULL. */
typedef struct {
    /* Slot p is about to be given to a newcomer (before its WELCOME):
     * whatever the algorithm kept for the slot's earlier holder goes. */
    void (*joined)(void *ctx, int p);
    /* Slot p's worker is gone (declared dead, unreachable or left; why
     * says which): take back the work it held. */
    void (*lost)(void *ctx, int p, const char *why);
    /* A message of the algorithm's own types from slot p's session, in
     * order (HELLO, HEARTBEAT, BYE and ERROR are the layer's).  Returns 0
     * if the type is one the algorithm takes, -1 if not (the layer drops
     * the message, naming the type). */
    int (*message)(void *ctx, int p, loco__msg *m);
    /* After every wait for a message: the algorithm's own timers (leases). */
    void (*tick)(void *ctx);
} loco__session_ops;

typedef struct {
    const char *listen;         /* the endpoint to bind */
    const loco_net_key *key;    /* the MAC's */
    const loco_net_security *security;   /* MAC, CURVE or both (include/loco/net_security.h) */
    const loco_net_welcome *run;/* the run as every WELCOME describes it (worker id and nonce per join) */
    int peers;                  /* slots */
    size_t payload_max;         /* the longest payload a worker may send */
    double worker_timeout;      /* seconds of silence after which a worker is dead */
    uint64_t max_skew_ms;       /* HELLO timestamps accepted within this of our clock */
    int verbose;                /* 1: a line per join, death, return and departure */
    loco_net_log log;
    const long *round, *steps;  /* the engine's round and inner steps, which the heartbeats carry */
} loco__session_config;

typedef struct {
    loco__link link;
    char endpoint[256];         /* the endpoint bound (with the port chosen for ":*") */
    loco__peer *peer;           /* (n) */
    int n, alive;               /* slots, and those alive (loco__session_count) */
    uint8_t *welcome;           /* the WELCOME payload; worker id and nonce patched per join */
    size_t welcome_len;
    uint64_t identity;          /* loco_net_welcome_identity of the run */
    loco_net_nonces nonces;
    double worker_timeout, heartbeat_s, last_beat;
    uint64_t max_skew_ms;
    int verbose;
    long joins, deaths;         /* workers admitted, and declared dead, so far */
    const long *round, *steps;  /* loco__session_config's */
    const loco__session_ops *ops;
    void *ctx;
} loco__session;

/* Binds c->listen and prepares the WELCOME of c->run.  Returns LOCO_EINVAL
 * (endpoint or run), LOCO_EIO (socket, random numbers), LOCO_ENOMEM, with
 * a reason in msg; s is then closed. */
int loco__session_open(loco__session *s, const loco__session_config *c, const loco__session_ops *ops, void *ctx,
                       char *msg, size_t msglen);
void loco__session_close(loco__session *s);

/* Waits up to timeout_ms for one message and handles it: HELLO (a join),
 * a message outside any session (answered "unknown session: join again"),
 * replays, HEARTBEAT, BYE and ERROR here, the rest by ops->message.  Then
 * keeps house: silent workers are declared dead, live ones get a
 * heartbeat when one is due, and ops->tick runs.  Returns LOCO_EIO if the
 * socket fails (reason in msg). */
int loco__session_serve(loco__session *s, int timeout_ms, char *msg, size_t msglen);
/* Serves until n workers are alive, or timeout seconds pass (0: no
 * limit): LOCO_ERANGE then, LOCO_EIO (reasons in msg). */
int loco__session_wait(loco__session *s, int n, double timeout, char *msg, size_t msglen);
/* Recounts s->alive and returns it. */
int loco__session_count(loco__session *s);
/* Declares slot p dead (it cannot be reached; why for the log) and calls
 * ops->lost. */
void loco__session_drop(loco__session *s, int p, const char *why);

/* Sends slot p a message (as loco__link_send / loco__link_send_sealed). */
int loco__session_send(loco__session *s, int p, int type, const void *head, size_t n_head, const void *body,
                       size_t n_body);
int loco__session_send_sealed(loco__session *s, int p, int type, const loco_net_sealer *sealer, zmq_msg_t *payload);

/* "loco coordinator: worker P <what>", when verbose. */
void loco__session_say(const loco__session *s, long p, const char *what);

/* The session's share of a state file (src/net/state.h): joins, deaths,
 * and the link's rejections and bytes, put in st or taken back from it
 * (with the run's elapsed seconds into *time_s, if not NULL). */
void loco__session_save(const loco__session *s, loco__coord_state *st);
void loco__session_restore(loco__session *s, const loco__coord_state *st, double *time_s);

/* BYE to every live worker, lingering up to linger seconds. */
void loco__session_finish(loco__session *s, double linger);

/* ---------------------------------------------------------------- worker */

/* A worker's session: the link, the WELCOME it holds, and the
 * coordinator's sequence.  netw.c and dipaco_worker.c serve with it. */
struct loco_netw {
    loco_netw_config c;
    loco__link link;
    uint8_t *welcome_buf;       /* the WELCOME payload, which w.assign points into */
    size_t welcome_len;
    loco_net_welcome w;
    uint64_t session, coord_seq;
    double last_heard, last_beat;
    long steps_done;            /* inner steps trained, for the heartbeats */
    long tasks;                 /* rounds (DiLoCo) or tasks (DiPaCo) trained and pushed */
};

/* What an algorithm plugs into the worker's session loop (any may be NULL). */
typedef struct {
    /* 1 if a task waits to be trained: the loop then takes every message
     * already queued first (a worker that fell behind trains the newest),
     * and calls work. */
    int (*ready)(void *ctx);
    /* Trains the task waiting and pushes.  Returns an error to end the run
     * (reason in msg). */
    int (*work)(void *ctx, char *msg, size_t msglen);
    /* A message of the algorithm's types from our coordinator, in order.
     * Returns 0, or 1 if it is malformed or unexpected (it is dropped). */
    int (*message)(void *ctx, const loco__msg *m);
    /* Joined the same run again (the coordinator restarted or forgot us),
     * as worker w->w.worker_id, formerly old_id: what was waiting is
     * stale.  Returns an error to end the run (reason in msg). */
    int (*rejoined)(void *ctx, uint32_t old_id, char *msg, size_t msglen);
} loco__worker_ops;

/* Serves the run: waits for messages, checks them against our session
 * (sender, session, run, sequence), takes HEARTBEAT, BYE (the end: LOCO_OK
 * after our own BYE) and ERROR (LOCO_EINVAL, its text in msg), hands the
 * rest to ops->message, trains what is ready, beats, and joins again when
 * the coordinator answers "unknown session" or is silent for
 * coordinator_timeout (HELLOs 0.25 s apart, backing off to 8 s; LOCO_ERANGE
 * after give_up_after without a coordinator, LOCO_EINVAL if it runs
 * another configuration now).  Returns what ended it, reason in msg. */
int loco__worker_run(loco_netw *w, const loco__worker_ops *ops, void *ctx, char *msg, size_t msglen);

/* Sends a message in our session. */
int loco__worker_send(loco_netw *w, int type, const void *head, size_t n_head, const void *body, size_t n_body);
/* Sends a heartbeat (round, steps) if one is due. */
void loco__worker_beat(loco_netw *w, uint64_t round, uint64_t steps);
/* Sleeps the testing aid's seconds after an inner step (--slowdown), if any. */
void loco__worker_slow(const loco_netw *w);

#endif
