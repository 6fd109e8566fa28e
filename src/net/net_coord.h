/*
 * DiLoCo's coordinator, shared by src/net/coord.c (the configuration, the
 * synchronous rounds, the state files), src/net/async_wire.c (the
 * asynchronous engine) and src/net/net_down.c (compressed downloads).
 * coord.c calls into async_wire.c, never the other way: both stand on the
 * session layer (src/net/session.h), which owns the workers' slots,
 * sessions, heartbeats and deaths.  Internal to src/net.
 */
#ifndef LOCO_NET_COORD_H
#define LOCO_NET_COORD_H

#include "loco/async.h"
#include "loco/diloco_msg.h"
#include "loco/net_engine.h"
#include "net/session.h"

/* What the algorithm keeps for one worker id (= one data shard); who
 * holds it is the session layer's (c->ss.peer[w]). */
typedef struct {
    int tasked, pushed;         /* this round: sent the task; its push is held or reduced */
    zmq_msg_t held;             /* the push's payload, until reduced */
    int holding;
    loco_net_push push;         /* decoded view into held */
    double norm;                /* its pseudo-gradient's norm (loco_diloco_norm) */
    /* the asynchronous engine: the task in flight */
    int in_flight, lost;         /* a task was sent and not pushed; it was given up when the worker died */
    uint64_t task, version;     /* its task id and the theta version it started from */
    int shard, steps;           /* its shard and inner steps */
    double sent_at;             /* when it was sent (loco__now) */
    double speed;               /* inner steps per second of its last task (0: unknown) */
    long assigned;              /* inner steps of the task it was sent last */
    double vmax;                /* the fastest live worker's speed when that task was sized (DyLU) */
    long holds;                 /* lossy codecs: the theta version (and outer state) it holds; -1: none */
} slot;

struct loco_coord {
    loco_coord_config c;
    loco__session ss;           /* the workers' slots and sessions */
    int M, H;
    loco_gpt *model;            /* its parameters are theta */
    loco_diloco_layout lay;
    size_t P;
    float *theta, *block, *ostate, *dec, *avg;
    double *sum;
    uint8_t *wire;              /* the download, for lossy codecs */
    uint64_t fingerprint;       /* of the run's configuration, for the state file */
    size_t state_n;             /* floats of outer optimizer state */
    slot *slots;
    /* the round in progress */
    int in_round;
    long h, first;
    int next_acc, reduced;
    double loss_sum;
    double *norms;              /* (M) the held contributions' norms, for the screen */
    unsigned char *keep;        /* (M) the screen's verdicts */
    loco_screen_recent recent;  /* norms of recent accepted lone contributions and pushes */
    loco_coord_stats st;
    /* the compressed download (src/net/net_down.c) */
    long down_version;          /* the version c->wire's download leads to; -1: none */
    uint8_t *obuf;              /* the outer state as OSYNC carries it */
    /* the asynchronous engine (src/net/async_wire.c) */
    loco_async_state ast;
    float *ablock, *g;          /* rule state (2P), a decoded pseudo-gradient (P) */
    loco_rng *shard_rng;        /* (K) each shard's data stream, as the simulator's */
    long *visits, *shard_steps; /* (K) */
    double *aspeed;             /* (M) scratch: the slots' speeds, for the shared task rule */
    unsigned char *alive;       /* (M) scratch: which slots are live */
    int *atok, *atgt;           /* scratch to advance a shard's stream */
    long started;               /* tasks sent and not given up */
    uint64_t next_task;
    int applied;                /* a push was applied in this call */
    double stale_sum;
    uint64_t *aextra;           /* the state file's extras (loco__async_pack) */
};

/* 1 if worker id w is held by a live worker. */
static inline int loco__coord_alive(const loco_coord *c, int w) {
    return c->ss.peer[w].state == LOCO__PEER_ALIVE;
}

/* The statistics the session layer and the link keep, into c->st. */
static inline void loco__coord_refresh(loco_coord *c) {
    c->st.alive = loco__session_count(&c->ss);
    c->st.joins = c->ss.joins;
    c->st.deaths = c->ss.deaths;
    c->st.rejected = c->ss.link.rejected;
    c->st.bytes_in = c->ss.link.bytes_in;
    c->st.bytes_out = c->ss.link.bytes_out;
}

/* Builds THETA (theta at version, fp32) in *theta, sealed once by *s for
 * every worker it goes to.  Returns LOCO_ENOMEM or LOCO_EIO (libsodium),
 * reason in msg; *theta is then not open. */
int loco__coord_theta(loco_coord *c, uint64_t version, zmq_msg_t *theta, loco_net_sealer *s, char *msg,
                      size_t msglen);

/* Sends slot w what it needs to hold theta at the current version: THETA
 * (the fp32 theta in msg theta, sealed by s) for dense fp32 runs; for lossy
 * codecs nothing if it holds it already, DOWN if it holds the version
 * before and the last round's download leads here, else THETA and OSYNC.
 * Returns the link's error. */
int loco__coord_send_theta(loco_coord *c, int w, const loco_net_sealer *s, zmq_msg_t *theta);

/* The asynchronous engine's parts that coord.c calls. */
int loco__async_create(loco_coord *c, char *msg, size_t msglen);
void loco__async_free(loco_coord *c);
void loco__async_on_push(loco_coord *c, int w, loco__msg *m);
/* Slot w's worker is gone (died or left; say: 1 to log it) or its slot is
 * about to go to a newcomer (say 0): its task in flight goes back to the
 * queue. */
void loco__async_forget(loco_coord *c, int w, int say);

/* The asynchronous engine's part of the state file (src/net/state.h): the
 * rule's counters, the totals, and each shard's visits, schedule step and
 * data stream, as u64 values in c->aextra.  loco__async_pack fills it from
 * c; loco__async_unpack checks what a state file put there (LOCO_EINVAL,
 * naming path in msg, if it cannot belong to this run) and adopts it. */
#define ASYNC_EXTRA_FIXED 9
#define ASYNC_EXTRA_PER_SHARD 6   /* visits, schedule step, the stream's 4 words */
uint32_t loco__async_extra_n(const loco_coord *c);
void loco__async_pack(loco_coord *c);
int loco__async_unpack(loco_coord *c, const char *path, char *msg, size_t msglen);

#endif
