/*
 * The networked engine: synchronous DiLoCo between a coordinator process and
 * worker processes over ZeroMQ, speaking the protocol of include/loco/net.h.
 *
 * The coordinator holds theta and the outer optimizer's state.  Each round
 * t it sends every live worker THETA (theta, version t) and TASK (round,
 * shard = the worker's id, h inner steps, first schedule step); each worker
 * sets its parameters to theta, takes h inner AdamW steps on its shard, and
 * PUSHes its contribution (include/loco/diloco_msg.h) with the h losses.  The
 * coordinator adds the contributions to a double sum in worker order (not
 * arrival order), forms the target, and applies loco_outer_step.  Workers
 * keep their AdamW state, data stream and error-feedback residual across
 * rounds, exactly as the simulator's workers do, so a fault-free run with
 * the same configuration and seed gives the simulator's theta bit for bit.
 *
 * Faults: workers send HEARTBEATs; one silent for worker_timeout seconds is
 * dead, and its id (and shard) goes to the next worker that joins.  The
 * coordinator can save its state every K rounds and resume from it
 * (loco_coord_save, loco_coord_resume); workers join a restarted
 * coordinator again by themselves and, with K > 0, redo the rounds since
 * its state exactly (loco_netw_serve).  A round
 * closes when every worker it was sent to has pushed or died, or, with a
 * round timeout, at the deadline once `quorum` contributions are in.  A
 * contribution that arrives after its round closed is dropped and counted.
 * With a lossy codec, a worker holding the previous theta receives the
 * round's mean pseudo-gradient in the upload's encoding (DOWN) instead of
 * theta, and takes the outer step itself (src/net/net_down.c).
 *
 * Asynchronous DiLoCo (config.async, loco_coord_async_next) has no rounds:
 * each push is applied when it arrives and its worker gets its next task at
 * once (src/net/async_wire.c).  See docs/distributed.md.
 */
#ifndef LOCO_NET_ENGINE_H
#define LOCO_NET_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "loco/async.h"
#include "loco/net.h"
#include "loco/net_security.h"
#include "loco/outer.h"
#include "loco/split.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *listen;        /* ZeroMQ endpoint to bind: "tcp://0.0.0.0:5555", "ipc:///tmp/x" */
    loco_net_key key;          /* from the run's secret (MAC) */
    loco_net_security security;/* MAC, CURVE or both (include/loco/net_security.h); zero: the default */
    loco_net_welcome run;      /* the run configuration sent to every worker (worker_id and nonce unused) */
    loco_outer_config outer;
    double round_timeout;      /* seconds from a round's start to its deadline; 0: no deadline */
    int quorum;                /* contributions that close a round at the deadline, in [1, M] */
    double worker_timeout;     /* seconds of silence after which a worker is dead */
    uint64_t max_skew_ms;      /* HELLO timestamps accepted within this of the coordinator's clock */
    int verbose;               /* 1: a log line per join and death */
    loco_net_log log;          /* where the event lines go (include/loco/net.h); the engine prints nothing */
    float screen_k;            /* drop a contribution whose norm exceeds screen_k times the robust
                                  reference (loco_outer_screen); 0: only non-finite ones */
    /* Asynchronous DiLoCo (loco_coord_async_next): 0 for the synchronous rounds. */
    int async;
    loco_async_config rule;    /* the server rule, as the simulator's (include/loco/async.h) */
    int dylu, dylu_min;        /* Dynamic Local Updates from measured speeds, and its floor */
    long pushes;               /* the run ends after this many pushes */
    const loco_split *split;   /* the run's split (borrowed): the coordinator draws each shard's
                                  stream forward as its tasks consume it */
} loco_coord_config;

typedef struct {
    long round, n_rounds;      /* rounds completed, and in all */
    long inner_step;           /* inner steps of the rounds completed */
    long outer_steps;          /* outer steps applied (rounds in which something arrived) */
    int alive;                 /* workers alive now */
    int tasked, received;      /* workers sent the last round, contributions it reduced */
    long joins, deaths;        /* workers admitted, and declared dead, so far */
    long missing_total;        /* contributions that did not arrive before their round closed */
    long late_total;           /* contributions that arrived after their round closed (dropped) */
    long rejected;             /* messages dropped: malformed, unauthenticated, replayed, unexpected */
    int screened;              /* contributions (or pushes) the norm screen dropped in the last round (push) */
    long screened_total;       /* and so far */
    float train_loss;          /* mean inner loss of the last round's contributions */
    double bytes_in, bytes_out;
    double round_seconds;      /* wall time of the last round */
    long saves;                /* state files written by this process */
    long resumed_round;        /* the round this process resumed at (-1: started afresh) */
    long downloads_full;       /* THETAs sent (with OSYNC for lossy codecs) */
    long downloads_delta;      /* DOWNs sent: lossy codecs' compressed downloads */
    /* the asynchronous engine */
    long pushes, version;      /* pushes applied; theta's version (the rule's updates) */
    int last_worker;           /* the worker of the last push */
    long last_staleness;       /* its staleness: version now minus the version its task started from */
    int last_steps;            /* the inner steps of its task */
    long last_assigned;        /* the inner steps of that worker's next task (-1: none; DyLU's choice) */
    double last_speed;         /* that worker's measured inner steps per second (its last task) */
    double speed_max;          /* the fastest live worker's, when its next task was sized (0: no DyLU) */
    double mean_staleness, max_staleness;
    long async_inner_steps;    /* inner steps of all pushes applied */
    long tasks_lost;           /* tasks given up because their worker died or left */
} loco_coord_stats;

typedef struct loco_coord loco_coord;

/* Creates a coordinator listening on c->listen, with theta from init (P
 * floats) or, if init is NULL, the model's initialisation from c->run.seed.
 * Every buffer of the run is allocated here.  Returns LOCO_EINVAL (reason in
 * msg) for a bad configuration, LOCO_EIO if the endpoint cannot be bound,
 * LOCO_ENOMEM. */
int loco_coord_create(loco_coord **out, const loco_coord_config *c, const float *init, char *msg, size_t msglen);
void loco_coord_free(loco_coord *c);

/* The endpoint actually bound ("tcp://0.0.0.0:41234" for "tcp://0.0.0.0:0"
 * listen address). */
const char *loco_coord_endpoint(const loco_coord *c);

/* Serves joins until min_workers workers are alive, or timeout seconds pass
 * (0: no limit).  Returns LOCO_ERANGE (reason in msg) on the timeout,
 * LOCO_EIO if the socket fails. */
int loco_coord_wait_workers(loco_coord *c, int min_workers, double timeout, char *msg, size_t msglen);

/* Runs one round (see above).  Returns LOCO_ERANGE when the run is over,
 * LOCO_ENONFINITE if the mean contribution is not finite, LOCO_EIO if the
 * socket fails (reason in msg). */
int loco_coord_round(loco_coord *c, char *msg, size_t msglen);

/* Asynchronous DiLoCo (config.async): serves until one push has been
 * applied, sending every live worker without a task a new one (the current
 * theta, then ATASK) as long as tasks remain.  A push is applied the moment
 * it arrives with the simulator's pure rule (loco_async_push), after the
 * staleness weight of (version now - the version its task started from);
 * no worker ever waits for another.  The task takes the least-visited shard
 * and that shard's data stream and schedule step, and, with DyLU,
 * loco_dylu_steps of the worker's measured inner-step rate (steps over the
 * wall seconds between sending its last task and its push) over the
 * fastest live worker's.  A worker that dies with a task in flight gives
 * the task back to the queue; if it comes back and pushes it after all,
 * the push is applied with its staleness.  Returns LOCO_ERANGE once the
 * run has had its pushes, LOCO_ENONFINITE, LOCO_EIO (reason in msg). */
int loco_coord_async_next(loco_coord *c, char *msg, size_t msglen);
int loco_coord_async_done(const loco_coord *c);

/* Writes theta, the outer optimizer's state and the counters (rounds,
 * outer steps, the metrics' totals) to path atomically (src/net/state.c),
 * with time_s, the run's elapsed seconds.  Call between rounds.  Returns
 * LOCO_EIO (reason in msg) if the file cannot be written; an earlier one at
 * path is then intact. */
int loco_coord_save(loco_coord *c, const char *path, double time_s, char *msg, size_t msglen);

/* Continues the run saved in path by loco_coord_save: theta, the outer
 * state and the counters are replaced by the saved ones, and *time_s (if
 * not NULL) receives the saved elapsed time.  Call before the first round.
 * Returns LOCO_EIO if path cannot be read, LOCO_EINVAL (reason in msg) if it
 * is corrupt or belongs to another run (any difference in the model, data,
 * split, optimizers, codec, H, steps, seed, heartbeat or --ckpt-every). */
int loco_coord_resume(loco_coord *c, const char *path, double *time_s, char *msg, size_t msglen);

/* Tells every live worker the run is over (BYE) and gives the messages a
 * moment (up to linger seconds) to leave. */
void loco_coord_finish(loco_coord *c, double linger);

/* The model whose parameters are theta (between rounds): for evaluation and
 * checkpoints. */
loco_gpt *loco_coord_model(loco_coord *c);
const loco_coord_stats *loco_coord_get_stats(const loco_coord *c);

/* ---------------------------------------------------------------- data */

/* A 64-bit FNV-1a fingerprint of documents (token width, count, tokens and
 * offsets), which WELCOME carries so that a worker can check it opened the
 * coordinator's data. */
uint64_t loco_net_docs_fingerprint(const loco_docs *docs);

/* Builds a split from WELCOME's assignment (n_assign little-endian u32, the
 * shard of each document).  Returns LOCO_EINVAL (reason in msg) if the
 * count differs from docs->n_docs or loco_split_create refuses it,
 * LOCO_ENOMEM. */
int loco_net_split_from_assign(loco_split **out, const loco_docs *docs, const uint8_t *assign, uint64_t n_assign,
                               int M, char *msg, size_t msglen);

/* ---------------------------------------------------------------- worker */

typedef struct {
    const char *connect;       /* the coordinator's endpoint */
    loco_net_key key;          /* from the run's secret (MAC) */
    loco_net_security security;/* MAC, CURVE or both; zero: the default */
    uint32_t want_id;          /* the id asked for, LOCO_NET_ANON for any */
    double join_timeout;       /* seconds to keep asking to join (HELLO again every 0.5 s); 0: forever */
    double coordinator_timeout;/* seconds of silence from the coordinator before joining it again; 0: never */
    double give_up_after;      /* seconds of silence from any coordinator before giving up; 0: never */
    int threads;               /* informational */
    int verbose;               /* 1: a log line when rejoining */
    loco_net_log log;          /* where the event lines go; the worker prints nothing */
    double step_sleep;         /* a testing aid: seconds to sleep after each inner step (slows the worker) */
    float fault_value;         /* a testing aid: != 0 makes every contribution start from parameters all
                                  equal to it (loco__worker_fault), as a faulty accelerator would */
    int cuda;                  /* 1: inner steps on the GPU (loco/cuda.h; DiLoCo, async and DiPaCo tasks) */
} loco_netw_config;

typedef struct loco_netw loco_netw;

/* Connects and joins, whatever the run (DiLoCo, asynchronous DiLoCo or
 * DiPaCo: welcome->run_kind says which, and loco_netw_serve or
 * loco_dpw_serve then serves it): sends HELLO every 0.5 s until a WELCOME
 * arrives.  "The run is full" is waited out (a spare worker takes the next
 * free slot); any other refusal is final, joining first or again
 * (src/net/session_worker.c).  *welcome is the run configuration; its
 * assignment points into memory the worker owns until it joins again or
 * loco_netw_free.  Returns LOCO_ERANGE on the join timeout (msg says
 * whether the coordinator was silent or the run full), LOCO_EIO if the
 * socket fails, LOCO_EINVAL if the coordinator refused (its ERROR's text
 * in msg). */
int loco_netw_join(loco_netw **out, const loco_netw_config *c, loco_net_welcome *welcome, char *msg,
                   size_t msglen);

/* Trains the tasks the coordinator sends, on shard welcome.worker_id of
 * split, until BYE.  Allocates the model and buffers once, nothing per
 * step.  When the coordinator answers "unknown session" (it restarted, or
 * gave this worker's id away), or is silent for coordinator_timeout
 * seconds, the worker joins again, asking for its id, with HELLOs 0.25 s
 * apart at first and backing off exponentially to 8 s; it keeps its AdamW
 * state, data stream and residual if it gets its id back, and starts them
 * afresh otherwise.  With checkpoints (welcome.ckpt_every = K > 0) it also
 * keeps its state as of the start of the last round that is a multiple of
 * K, and restores it when a restarted coordinator sends that round again,
 * so that the restarted run is the uninterrupted one bit for bit.  Returns
 * LOCO_OK on BYE; LOCO_ERANGE if no coordinator is heard for give_up_after
 * seconds, LOCO_ENONFINITE if training diverges, LOCO_EINVAL if the
 * coordinator sends something inconsistent or restarts with another
 * configuration, LOCO_EIO, or with cuda the device's error (reasons in
 * msg). */
int loco_netw_serve(loco_netw *w, const loco_split *split, char *msg, size_t msglen);

/* Tells the coordinator this worker cannot go on (ERROR with text), so that
 * its id is free at once rather than after worker_timeout. */
void loco_netw_leave(loco_netw *w, const char *text);

/* Rounds (DiLoCo) or tasks (DiPaCo) this worker trained and pushed so far. */
long loco_netw_rounds(const loco_netw *w);
void loco_netw_free(loco_netw *w);

/* ================================================================ DiPaCo */
/*
 * DiPaCo over the wire (src/net/dipaco_coord.c, src/net/dipaco_worker.c;
 * docs/dipaco.md, "Over the wire").  The coordinator holds the modules,
 * their outer state and the round; each round is a queue of P tasks, one
 * per path.  Idle workers ask for work (DPASK) and are leased a task
 * (DPTASK: the lease, the path, the round and the path's parameters);
 * they train it as the simulator does with reset_inner = 1 (fresh AdamW,
 * the data stream of loco_dipaco_task_seed(seed, p, r)) and push the path's
 * parameters (DPPUSH).  A lease whose worker dies, leaves or lets its
 * deadline pass goes back to the queue.  A push is accepted once per task;
 * duplicates and pushes for a closed round are counted and dropped.  When
 * all P are in, they are reduced in path order (loco_dipaco_accumulate)
 * and every module takes its outer step (loco_dipaco_merge), so that the
 * modules are the simulator's bit for bit whoever trained what, and
 * however often workers died.
 */
#include "loco/dipaco.h"

typedef struct {
    const char *listen;        /* ZeroMQ endpoint to bind */
    loco_net_key key;          /* from the run's secret (MAC) */
    loco_net_security security;/* MAC, CURVE or both; zero: the default */
    loco_net_welcome run;      /* run_kind LOCO_NET_RUN_DIPACO, workers = P, assign: document -> path */
    loco_dipaco_config d;      /* the levels and the base */
    loco_outer_config outer;
    const double *weights;     /* (P) each path's weight: its shard's tokens (borrowed, copied) */
    double lease_timeout;      /* seconds a lease lasts before its task goes back to the queue */
    double worker_timeout;     /* seconds of silence after which a worker is dead */
    uint64_t max_skew_ms;
    int max_workers;           /* slots: workers connected at once, the dead not yet reaped included */
    int verbose;               /* 1: a log line per join, death, requeue */
    loco_net_log log;          /* where the event lines go; the engine prints nothing */
} loco_dpc_config;

typedef struct {
    long round, n_rounds;      /* rounds completed, and in all */
    long inner_step;           /* inner steps per path of the rounds completed */
    int done, leased;          /* tasks of the current round pushed, and leased now */
    long tasks_done;           /* tasks accepted over the run */
    long leases;               /* leases given */
    long requeued;             /* leases taken back (worker dead or left, lease expired, DPTASK lost) */
    long expired;              /* of which: the lease's deadline passed */
    long late_accepted;        /* pushes of a lease already taken back, accepted since the task was not done */
    long duplicates;           /* pushes for a task already done in this round (dropped) */
    long stale;                /* pushes for a closed round or an unknown lease (dropped) */
    long rejected;             /* messages dropped: malformed, unauthenticated, replayed, unexpected */
    int alive;                 /* workers alive now */
    long joins, deaths;
    float train_loss;          /* mean inner loss of the last round, over paths and steps */
    double bytes_in, bytes_out;
    double round_seconds;
    long saves, resumed_round;
} loco_dpc_stats;

typedef struct loco_dpc loco_dpc;

/* Creates the coordinator: the modules from init (one dense model's
 * parameters, scattered into every module) or, if init is NULL, from
 * loco_gpt_create(run.seed), as the simulator starts.  Returns LOCO_EINVAL
 * or LOCO_ECONFIG (reason in msg), LOCO_EIO if the endpoint cannot be
 * bound, LOCO_ENOMEM. */
int loco_dpc_create(loco_dpc **out, const loco_dpc_config *c, const float *init, char *msg, size_t msglen);
void loco_dpc_free(loco_dpc *c);
const char *loco_dpc_endpoint(const loco_dpc *c);
/* Serves until the round's P tasks are in (however many workers come and
 * go), then reduces and merges.  Returns LOCO_ERANGE when the run is over,
 * LOCO_ENONFINITE, LOCO_EIO (reason in msg). */
int loco_dpc_round(loco_dpc *c, char *msg, size_t msglen);
/* Serves joins until n workers are alive or timeout seconds pass (0: no
 * limit); LOCO_ERANGE on the timeout. */
int loco_dpc_wait_workers(loco_dpc *c, int n, double timeout, char *msg, size_t msglen);
/* The state (modules, outer state, counters) to path atomically, between
 * rounds; and back (call before the first round).  As loco_coord_save /
 * loco_coord_resume. */
int loco_dpc_save(loco_dpc *c, const char *path, double time_s, char *msg, size_t msglen);
int loco_dpc_resume(loco_dpc *c, const char *path, double *time_s, char *msg, size_t msglen);
/* BYE to every live worker, lingering up to linger seconds. */
void loco_dpc_finish(loco_dpc *c, double linger);
const loco_dipaco_layout *loco_dpc_layout(const loco_dpc *c);
const float *loco_dpc_modules(const loco_dpc *c);
const loco_dpc_stats *loco_dpc_get_stats(const loco_dpc *c);

/* A DiPaCo worker: w has joined (loco_netw_join) a coordinator whose
 * WELCOME describes a DiPaCo run; it asks for work, trains every task
 * leased to it on shard `path` of split (P shards, from the WELCOME's
 * assignment) and pushes, until BYE.  It joins again, in the same session
 * layer as loco_netw_serve, when the coordinator forgets it or is silent
 * for coordinator_timeout; the new WELCOME must describe the same run.
 * *tasks (may be NULL) receives the tasks pushed.  Returns LOCO_OK on BYE,
 * LOCO_ERANGE (no coordinator for give_up_after), LOCO_ENONFINITE,
 * LOCO_EINVAL, LOCO_EIO, LOCO_ENOMEM, or with cuda the device's error
 * (reason in msg). */
int loco_dpw_serve(loco_netw *w, const loco_split *split, long *tasks, char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif
#endif
