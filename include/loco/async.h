/*
 * Asynchronous Local-SGD / DiLoCo: the server's update rules (Liu et al.,
 * "Asynchronous Local-SGD Training for Language Modeling").
 *
 * A worker fetches theta, trains on its own, and when it finishes pushes the
 * pseudo-gradient g = theta_fetched - theta_local to the server, which applies
 * one of these rules the moment g arrives (float32 throughout; eps is the
 * outer learning rate, beta the momentum, N the period):
 *   - LOCO_ASYNC_NAIVE: outer Nesterov on every arrival,
 *         m = beta*m + g;   theta -= eps*(g + beta*m)
 *   - LOCO_ASYNC_BUFFER: buffer N arrivals, then one Nesterov step on their
 *     average a = buf/N,
 *         buf += g;  when N are buffered:  m = beta*m + a;  theta -= eps*(a + beta*m);  buf = 0
 *   - LOCO_ASYNC_SYNC: the same arithmetic as BUFFER with N = the number of
 *     workers; the driver makes every worker wait for the update (this is
 *     synchronous DiLoCo).
 *   - LOCO_ASYNC_DN, Delayed Nesterov: every arrival is applied at once
 *     without momentum, and the momentum is updated (and its look-ahead
 *     applied) only every N arrivals:
 *         t += 1;  buf += g
 *         if t % N == 0:  m = beta*m + buf/N;  theta -= eps*(g/N + beta*m);  buf = 0
 *         else:           theta -= eps*(g/N)
 * Over one period of N arrivals DN moves theta by exactly what BUFFER moves
 * it by in its one step (in exact arithmetic), and with N = 1 DN is NAIVE bit
 * for bit.  A stale pseudo-gradient (computed from a theta that is s server
 * updates old) is multiplied by loco_async_stale_weight() before the push.
 * See docs/async.md.
 *
 * Pure functions over arrays, shared by the discrete-event simulator and the
 * networked engine: nothing here allocates, and the results do not depend on
 * the thread count (every element is independent).
 */
#ifndef LOCO_ASYNC_H
#define LOCO_ASYNC_H

#include <stddef.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LOCO_ASYNC_SYNC = 0, LOCO_ASYNC_NAIVE, LOCO_ASYNC_BUFFER, LOCO_ASYNC_DN } loco_async_rule;
typedef enum { LOCO_STALE_CONSTANT = 0, LOCO_STALE_POLY } loco_stale_kind;

typedef struct {
    loco_async_rule rule;
    float lr;            /* outer learning rate eps, default 0.7 */
    float momentum;      /* beta, default 0.9 */
    int period;          /* N: buffer size (BUFFER, SYNC) or DN's momentum period; >= 1 */
    loco_stale_kind stale;
    float stale_power;   /* POLY: weight (1 + s)^-power, default 0.5 */
} loco_async_config;

/* Fills c with the defaults: DN, lr 0.7, momentum 0.9, period = workers
 * (1 if workers < 1), constant staleness weight, power 0.5.  Does nothing if
 * c is NULL. */
void loco_async_config_default(loco_async_config *c, int workers);

/* Parses "sync", "naive", "buffer" or "dn" into *out; returns LOCO_EINVAL
 * (and leaves *out alone) for any other name or a NULL argument. */
int loco_async_rule_parse(const char *name, loco_async_rule *out);

/* The name loco_async_rule_parse accepts for r; "unknown" for a value outside
 * the enum, never NULL. */
const char *loco_async_rule_name(loco_async_rule r);

/* Parses "constant" or "poly" into *out; returns LOCO_EINVAL (and leaves
 * *out alone) for any other name or a NULL argument. */
int loco_stale_parse(const char *name, loco_stale_kind *out);

/* The name loco_stale_parse accepts for k; "unknown" for a value outside the
 * enum, never NULL. */
const char *loco_stale_name(loco_stale_kind k);

/* Returns LOCO_OK, or LOCO_EINVAL with a one-line reason in msg (if msg is
 * not NULL) for a NULL config, an unknown rule or staleness kind, lr <= 0 or
 * not finite, momentum outside [0, 1), period < 1, or a staleness power that
 * is negative or not finite. */
int loco_async_config_check(const loco_async_config *c, char *msg, size_t msglen);

/* Staleness weight of a pseudo-gradient computed from a theta that is s
 * server updates old: 1 (constant) or (1 + s)^-power (poly), rounded to
 * float.  Cannot fail: s < 0 counts as 0, and a NULL config or an unknown
 * kind gives 1 (no weighting). */
float loco_async_stale_weight(const loco_async_config *c, long s);

typedef struct {
    float *m;          /* (n) momentum */
    float *buf;        /* (n) accumulated pseudo-gradients */
    long arrivals;     /* pushes received: t */
    int pending;       /* pushes in buf not yet applied (BUFFER / SYNC) or not yet folded
                          into the momentum (DN: t mod N); always 0 for NAIVE */
    long updates;      /* times theta changed: every push for NAIVE and DN, every N-th
                          for BUFFER and SYNC */
} loco_async_state;

/* Floats of state for n parameters: 2n (m, then buf); 0 if 2n overflows. */
size_t loco_async_state_floats(size_t n);

/* Points the state at block (2n floats: m is the first n, buf the next n),
 * zeroes it and the counters.  Cannot fail: does nothing if st is NULL, and
 * leaves m and buf NULL if block is. */
void loco_async_state_init(loco_async_state *st, float *block, size_t n);

/* One arriving pseudo-gradient g of n floats (the caller has already
 * multiplied in any staleness weight); theta and the state are updated in
 * place by the config's rule.  Returns 1 if theta changed, 0 if the push was
 * only buffered, and LOCO_EINVAL, changing nothing, for a NULL argument or a
 * config that loco_async_config_check rejects. */
int loco_async_push(const loco_async_config *c, loco_async_state *st, float *theta, const float *g,
                    size_t n);

/* A push the norm screen dropped (loco_outer_screen): NAIVE and DN leave
 * theta and the state alone (returns 0); SYNC and BUFFER count it as a push
 * of zeros (g is zeroed in place), so that a round of N pushes still
 * completes and the workers waiting on it go on.  Returns as
 * loco_async_push. */
int loco_async_push_dropped(const loco_async_config *c, loco_async_state *st, float *theta, float *g, size_t n);

/* Dynamic Local Updates: the inner steps a worker of `speed` (steps per
 * second) runs so that it finishes when the fastest worker (max_speed)
 * finishes H steps:  max(min_steps, floor(H * speed / max_speed)), clamped
 * to [1, H] (a worker never runs more steps than the fastest, nor none).
 * Returns H unchanged if H < 1 or either speed is not positive and finite. */
int loco_dylu_steps(int H, double speed, double max_speed, int min_steps);

/* The task queue: the index of the shard with the fewest visits, ties going
 * to the lowest index.  Returns -1 if n_shards < 1 or visits is NULL. */
int loco_least_visited(const long *visits, int n_shards);

/* The task queue and the workers' measured speeds, as views on the driver's
 * arrays (the simulator's and the networked coordinator's alike). */
typedef struct {
    int n_shards;              /* K */
    long *visits;              /* (K) tasks taken per shard */
    long *shard_steps;         /* (K) inner steps taken per shard: its schedule step */
    int n_workers;             /* M */
    const double *speed;       /* (M) inner steps per second of each worker's last task; 0: unknown */
    const unsigned char *live; /* (M) 1 for a worker that takes part now; NULL: all do */
    int H;                     /* inner steps of a full task */
    int dylu, dylu_min;        /* Dynamic Local Updates on, and its least task */
} loco_async_queue;

typedef struct {
    int shard;                 /* the least-visited shard */
    int steps;                 /* H, or DyLU's share of it */
    long first_step;           /* the shard's schedule step of the first of them */
    double vmax;               /* the fastest live speed the steps were sized by (0: not sized) */
} loco_async_task;

/* The fastest known speed among the live workers (0 if none is known). */
double loco_async_vmax(const loco_async_queue *q);

/* Worker w's next task: the least-visited shard, and with DyLU (once w's
 * speed is known) loco_dylu_steps against the fastest *live* worker, so that
 * a dead worker's speed never shrinks the tasks of those left (in a
 * simulator no worker dies and live is NULL).  Takes the task: the shard's
 * visits grow by one and its schedule step by the task's steps.  Returns
 * LOCO_EINVAL for an empty queue or w out of range. */
int loco_async_task_take(loco_async_queue *q, int w, loco_async_task *t);

#ifdef __cplusplus
}
#endif

#endif
