/*
 * The coordinator of DiPaCo over ZeroMQ: a task queue of leases
 * (include/loco/net_engine.h, docs/dipaco.md "Over the wire").
 *
 * One thread, one ROUTER socket, an event loop: the session layer
 * (src/net/session.c) admits workers into slots, checks every message
 * against its sender's session and sequence, and reaps the silent, as it
 * does for DiLoCo; this file plugs in as its callbacks (DPASK, DPPUSH, a
 * slot lost, the lease timers).
 *
 * A round is P tasks, one per path.  A task is QUEUED, LEASED (to one
 * worker slot, with a lease id and a deadline) or DONE (its push is held,
 * as the ZeroMQ frame it came in, until the round closes).  Transitions:
 *   QUEUED -> LEASED   a worker that asked for work (DPASK) is idle
 *   LEASED -> QUEUED   its worker is declared dead, leaves, joins again,
 *                      asks for work again (it never got the DPTASK), the
 *                      DPTASK cannot be sent, or the deadline passes
 *   LEASED/QUEUED -> DONE   a push of a lease given for this task: the
 *                      current one, or an earlier one taken back from a
 *                      worker that was only slow (the task is a pure
 *                      function of the modules and (seed, p, r), so either
 *                      result is the same bytes)
 *   DONE               later pushes for it are duplicates, dropped
 * Pushes for an earlier round are stale, dropped.  The round closes when
 * all P are DONE: the uploads are added in path order, so that the double
 * sums, and the modules, do not depend on who pushed when.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/net_engine.h"
#include "loco/shard.h"
#include "loco/sim.h"
#include "net/session.h"
#include "net/wire.h"

enum { T_QUEUED = 0, T_LEASED, T_DONE, T_CLOSED };   /* T_CLOSED: between rounds */

/* What the queue keeps for one worker slot; who holds it is the session
 * layer's (c->ss.peer[s]). */
typedef struct {
    int wants;                  /* it asked for work and has not been given any */
    /* The last lease given to it, kept after it is taken back so that a
     * slow worker's push of it can still be recognised. */
    uint64_t lease;
    long lease_round;
    int lease_path, lease_live;
} dslot;

/* One path's task in the current round. */
typedef struct {
    int state;
    uint64_t lease;             /* the current lease (LEASED) */
    int slot;
    double deadline;
    zmq_msg_t held;             /* DONE: the push's payload */
    loco_net_dppush push;       /* decoded view into held */
} dtask;

struct loco_dpc {
    loco_dpc_config c;
    loco__session ss;           /* the workers' slots and sessions */
    loco_dipaco_layout lay;
    int P, H, n_slots;
    void *block;                /* everything below, allocated once */
    double *weight;             /* (P) */
    float *modules, *ostate, *target, *path;   /* total, state_n, total, path_params */
    double *sum, *wsum;
    long *t;
    size_t state_n;
    uint8_t *wire;              /* a DPTASK (head and parameters) */
    uint64_t fingerprint, next_lease;
    dslot *slots;
    dtask *tasks;
    long h, first;
    double loss_sum;
    loco_dpc_stats st;
};

void loco_dpc_free(loco_dpc *c) {
    if (!c) return;
    for (int p = 0; c->tasks && p < c->P; p++)
        if (c->tasks[p].state == T_DONE) zmq_msg_close(&c->tasks[p].held);
    loco__session_close(&c->ss);
    free(c->block);
    free(c);
}

/* The fingerprint of the run a state file belongs to: the run's identity
 * (src/net/session.c), the outer optimizer and the levels. */
static uint64_t run_fingerprint(const loco_dpc *c) {
    uint8_t q[4 * (2 * LOCO_DIPACO_MAX_LEVELS + 2)];
    loco__put32(q, (uint32_t)c->lay.d.n_levels);
    loco__put32(q + 4, (uint32_t)c->lay.d.shared_base);
    for (int l = 0; l < LOCO_DIPACO_MAX_LEVELS; l++) {
        loco__put32(q + 8 + 8 * l, (uint32_t)(l < c->lay.d.n_levels ? c->lay.d.layers[l] : 0));
        loco__put32(q + 12 + 8 * l, (uint32_t)(l < c->lay.d.n_levels ? c->lay.d.modules[l] : 0));
    }
    return loco_fnv1a64(loco__outer_fingerprint(c->ss.identity, &c->c.outer), q, sizeof q);
}

static const loco__session_ops dipaco_ops;

/* Returns LOCO_EINVAL, LOCO_ECONFIG, LOCO_EIO or LOCO_ENOMEM with a reason in msg. */
int loco_dpc_create(loco_dpc **out, const loco_dpc_config *cfg, const float *init, char *msg, size_t msglen) {
    *out = NULL;
    const loco_net_welcome *r = &cfg->run;
    loco_dipaco_layout lay;
    int e = loco_dipaco_layout_init(&lay, &r->model, &cfg->d, msg, msglen);
    if (e) return e;
    const char *why = NULL;
    if (!cfg->listen || !*cfg->listen) why = "no endpoint to listen on";
    else if (r->run_kind != LOCO_NET_RUN_DIPACO || r->workers != (uint32_t)lay.n_paths)
        why = "the WELCOME must describe a DiPaCo run of P paths";
    else if (r->inner_steps < 1 || r->steps < 1 || r->batch < 1 || r->seq_len < 1)
        why = "inner_steps, steps, batch and seq_len must be positive";
    else if (!(cfg->lease_timeout > 0) || !(cfg->worker_timeout > 0) || r->heartbeat_ms < 1)
        why = "timeouts must be positive";
    else if (cfg->max_workers < 1) why = "no worker slots";
    else if (!cfg->weights || !r->assign || r->n_assign < r->workers) why = "no data split";
    if (why) {
        snprintf(msg, msglen, "%s", why);
        return LOCO_EINVAL;
    }
    loco_dpc *c = calloc(1, sizeof *c);
    if (!c) return LOCO_ENOMEM;
    c->c = *cfg;
    c->lay = lay;
    c->P = lay.n_paths;
    c->H = r->inner_steps;
    c->n_slots = cfg->max_workers;
    c->state_n = loco_dipaco_state_floats(&lay, &cfg->outer);
    /* One block, the widest alignment first: the tasks (P) and slots; each
     * path's weight (P), the sums (total) and the modules' weights
     * (n_modules); the modules' step counts; the modules (total), their
     * outer state, the target (total) and a path's parameters; a DPTASK. */
    const size_t n_tasks = (size_t)c->P * sizeof(dtask) + (size_t)c->n_slots * sizeof(dslot);
    const size_t n_dbl = (size_t)c->P + lay.total + (size_t)lay.n_modules, n_long = (size_t)lay.n_modules;
    const size_t n_flt = 2 * lay.total + c->state_n + lay.path_params;
    c->block = calloc(1, n_tasks + 8 * n_dbl + 8 * n_long + 4 * n_flt + loco_net_dptask_bytes(lay.path_params));
    loco_gpt *m = NULL;
    if (!c->block) {
        e = LOCO_ENOMEM;
        snprintf(msg, msglen, "out of memory for the coordinator of %d paths", c->P);
        goto fail;
    }
    c->tasks = c->block;
    c->slots = (dslot *)(c->tasks + c->P);
    c->weight = (double *)((char *)c->block + n_tasks);
    c->sum = c->weight + c->P;
    c->wsum = c->sum + lay.total;
    c->t = (long *)(c->wsum + lay.n_modules);
    c->modules = (float *)(c->t + n_long);
    c->wire = (uint8_t *)(c->modules + n_flt);
    memcpy(c->weight, cfg->weights, (size_t)c->P * sizeof(double));
    c->ostate = c->modules + lay.total;
    c->target = c->ostate + c->state_n;
    c->path = c->target + lay.total;
    /* The simulator's start: one dense model (init, or the seed's) copied
     * into every module. */
    if (!init && (e = loco_gpt_create(&m, &r->model, r->batch, r->seq_len, r->seed, msg, msglen)) != LOCO_OK)
        goto fail;
    loco_dipaco_scatter(&lay, init ? init : loco_gpt_params(m), c->modules);
    loco_gpt_free(m);
    for (int s = 0; s < c->n_slots; s++) c->slots[s].lease_path = -1;
    /* The largest message a worker may send is a DPPUSH of a path. */
    const loco__session_config sc = {cfg->listen, &cfg->key, &cfg->security, r, c->n_slots,
                                     loco_net_dppush_bytes((uint32_t)c->H, lay.path_params), cfg->worker_timeout,
                                     cfg->max_skew_ms, cfg->verbose, cfg->log, &c->st.round, &c->st.inner_step};
    if ((e = loco__session_open(&c->ss, &sc, &dipaco_ops, c, msg, msglen)) != LOCO_OK) goto fail;
    c->fingerprint = run_fingerprint(c);
    c->st.n_rounds = loco_round_count((long)r->steps, c->H);
    c->st.resumed_round = -1;
    for (int p = 0; p < c->P; p++) c->tasks[p].state = T_CLOSED;   /* no round open: nothing to lease */
    *out = c;
    return LOCO_OK;
fail:
    loco_dpc_free(c);
    return e;
}

const char *loco_dpc_endpoint(const loco_dpc *c) { return c->ss.endpoint; }
const loco_dipaco_layout *loco_dpc_layout(const loco_dpc *c) { return &c->lay; }
const float *loco_dpc_modules(const loco_dpc *c) { return c->modules; }
const loco_dpc_stats *loco_dpc_get_stats(const loco_dpc *c) { return &c->st; }

static void refresh(loco_dpc *c) {
    int leased = 0;
    for (int p = 0; p < c->P; p++) leased += c->tasks[p].state == T_LEASED;
    c->st.alive = loco__session_count(&c->ss);
    c->st.leased = leased;
    c->st.joins = c->ss.joins;
    c->st.deaths = c->ss.deaths;
    c->st.rejected = c->ss.link.rejected;
    c->st.bytes_in = c->ss.link.bytes_in;
    c->st.bytes_out = c->ss.link.bytes_out;
}

/* Puts task p back in the queue if it is leased; its worker's lease is no
 * longer live.  why is for the verbose line. */
static void requeue(loco_dpc *c, int p, const char *why) {
    dtask *t = &c->tasks[p];
    if (t->state != T_LEASED) return;
    dslot *sl = &c->slots[t->slot];
    if (sl->lease == t->lease) sl->lease_live = 0;
    t->state = T_QUEUED;
    c->st.requeued++;
    loco__log(c->c.verbose ? &c->ss.link.log : NULL,
              "loco coordinator: path %d's lease %llu taken back from worker %d (%s): requeued", p,
              (unsigned long long)t->lease, t->slot, why);
}

/* Takes back slot s's live lease, if it has one. */
static void revoke(loco_dpc *c, int s, const char *why) {
    dslot *sl = &c->slots[s];
    if (!sl->lease_live) return;
    sl->lease_live = 0;
    if (sl->lease_round == c->st.round && c->tasks[sl->lease_path].lease == sl->lease)
        requeue(c, sl->lease_path, why);
}

/* Leases queued tasks to the idle workers that asked for work. */
static void dispatch(loco_dpc *c) {
    const double now = loco__now();
    for (int s = 0; s < c->n_slots; s++) {
        dslot *sl = &c->slots[s];
        if (c->ss.peer[s].state != LOCO__PEER_ALIVE || !sl->wants || sl->lease_live) continue;
        int p = 0;
        while (p < c->P && c->tasks[p].state != T_QUEUED) p++;
        if (p == c->P) return;
        dtask *t = &c->tasks[p];
        loco_net_dptask x = {++c->next_lease, (uint64_t)c->st.round, (uint32_t)p, (uint32_t)c->h,
                             (uint64_t)c->first, (uint32_t)fmin(c->c.lease_timeout * 1000, 4e9),
                             c->lay.path_params, NULL};
        size_t n = loco_net_encode_dptask_head(&x, c->wire, LOCO_NET_DPTASK_FIXED);
        loco_dipaco_gather(&c->lay, c->modules, p, c->path);
        loco_codec_encode(LOCO_CODEC_FP32, 1.0f, c->path, 1, c->lay.path_params, c->wire + n, NULL);
        int e = loco__session_send(&c->ss, s, LOCO_NET_DPTASK, c->wire, n, c->wire + n, 4 * c->lay.path_params);
        if (e) {
            /* A worker that cannot take a message is as good as gone; the
             * task stays in the queue for the next one. */
            loco__session_drop(&c->ss, s, "cannot be reached");
            continue;
        }
        sl->wants = 0;
        sl->lease = x.lease;
        sl->lease_round = c->st.round;
        sl->lease_path = p;
        sl->lease_live = 1;
        t->state = T_LEASED;
        t->lease = x.lease;
        t->slot = s;
        t->deadline = now + c->c.lease_timeout;
        c->st.leases++;
    }
}

static void on_push(loco_dpc *c, int s, loco__msg *m) {
    dslot *sl = &c->slots[s];
    loco_net_dppush x;
    if (loco_net_decode_dppush(m->data, m->n, &x) != LOCO_OK || x.n_params != c->lay.path_params ||
        x.path >= (uint32_t)c->P || x.round > (uint64_t)c->st.round || x.lease > c->next_lease) {
        loco__link_reject(&c->ss.link, "malformed DPPUSH");
        return;
    }
    const int ours = sl->lease == x.lease && sl->lease_path == (int)x.path && sl->lease_round == (long)x.round;
    if (ours) sl->lease_live = 0;   /* the worker is done with it, whatever becomes of the push */
    dtask *t = &c->tasks[x.path];
    if (x.round < (uint64_t)c->st.round || t->state == T_CLOSED) {
        c->st.stale++;
        return;
    }
    if (t->state == T_DONE) {
        c->st.duplicates++;
        return;
    }
    /* The current lease, or this worker's own earlier lease of this very
     * task (taken back because it was slow, not wrong). */
    if (!ours || x.n_losses != (uint32_t)c->h) {
        c->st.stale++;
        return;
    }
    if (!(t->state == T_LEASED && t->lease == x.lease)) c->st.late_accepted++;
    zmq_msg_init(&t->held);
    zmq_msg_move(&t->held, &m->payload);
    loco_net_decode_dppush(zmq_msg_data(&t->held), zmq_msg_size(&t->held), &t->push);
    t->state = T_DONE;
    for (uint32_t i = 0; i < x.n_losses; i++) c->loss_sum += (double)loco__getf(t->push.losses + 4 * (size_t)i);
    c->st.done++;
    c->st.tasks_done++;
}

static void on_ask(loco_dpc *c, int s, loco__msg *m) {
    uint64_t done;
    if (loco_net_decode_dpask(m->data, m->n, &done) != LOCO_OK) {
        loco__link_reject(&c->ss.link, "malformed DPASK");
        return;
    }
    /* An idle worker holding a live lease never got its DPTASK. */
    revoke(c, s, "it asked for work while holding it");
    c->slots[s].wants = 1;
}

/* The session layer's callbacks (src/net/session.h). */

/* Slot s goes to a newcomer: the lease of its earlier holder goes back. */
static void on_joined(void *ctx, int s) {
    loco_dpc *c = ctx;
    revoke(c, s, "its slot was given again");
    memset(&c->slots[s], 0, sizeof c->slots[s]);
    c->slots[s].lease_path = -1;
}

/* Dead, unreachable or gone: its lease goes back to the queue (its push of
 * it still counts if it comes before the task is done). */
static void on_lost(void *ctx, int s, const char *why) {
    loco_dpc *c = ctx;
    c->slots[s].wants = 0;
    revoke(c, s, why);
}

static int on_message(void *ctx, int s, loco__msg *m) {
    loco_dpc *c = ctx;
    if (m->h.type == LOCO_NET_DPASK) on_ask(c, s, m);
    else if (m->h.type == LOCO_NET_DPPUSH) on_push(c, s, m);
    else return -1;
    return 0;
}

/* Takes back expired leases, and leases what it can. */
static void tick(void *ctx) {
    loco_dpc *c = ctx;
    const double now = loco__now();
    for (int p = 0; p < c->P; p++) {
        dtask *t = &c->tasks[p];
        if (t->state == T_LEASED && now > t->deadline) {
            c->st.expired++;
            requeue(c, p, "its deadline passed");
        }
    }
    dispatch(c);
    refresh(c);
}

static const loco__session_ops dipaco_ops = {on_joined, on_lost, on_message, tick};

int loco_dpc_wait_workers(loco_dpc *c, int n, double timeout, char *msg, size_t msglen) {
    int e = loco__session_wait(&c->ss, n, timeout, msg, msglen);
    refresh(c);
    return e;
}

/* Returns LOCO_ERANGE (run over), LOCO_ENONFINITE, LOCO_EIO. */
int loco_dpc_round(loco_dpc *c, char *msg, size_t msglen) {
    int e = loco__round_open(c->st.round, c->st.n_rounds, (long)c->c.run.steps, c->H, &c->h, &c->first, msg, msglen);
    if (e) return e;
    const double t0 = loco__now();
    c->loss_sum = 0;
    c->st.done = 0;
    for (int p = 0; p < c->P; p++) c->tasks[p].state = T_QUEUED;
    dispatch(c);
    while (c->st.done < c->P)
        if (loco__session_serve(&c->ss, 200, msg, msglen) != LOCO_OK) return LOCO_EIO;
    /* Path order, whatever the order of arrival: the sums are the
     * simulator's to the bit. */
    memset(c->sum, 0, c->lay.total * sizeof(double));
    memset(c->wsum, 0, (size_t)c->lay.n_modules * sizeof(double));
    int bad = -1;
    for (int p = 0; p < c->P; p++) {
        dtask *t = &c->tasks[p];
        if (loco_codec_decode(LOCO_CODEC_FP32, 1.0f, t->push.params, 4 * c->lay.path_params, 1, c->lay.path_params,
                              c->path) != LOCO_OK && bad < 0)
            bad = p;
        else loco_dipaco_accumulate(&c->lay, p, c->weight[p], c->path, c->sum, c->wsum);
        zmq_msg_close(&t->held);
        t->state = T_CLOSED;   /* later pushes for it are stale */
    }
    if (bad >= 0) {
        snprintf(msg, msglen, "round %ld: path %d's parameters are not finite", c->st.round, bad);
        return LOCO_ENONFINITE;
    }
    if (loco_dipaco_merge(&c->lay, &c->c.outer, c->modules, c->ostate, c->t, c->sum, c->wsum, c->target) < 0) {
        snprintf(msg, msglen, "round %ld: a module's mean is not finite", c->st.round);
        return LOCO_ENONFINITE;
    }
    c->st.train_loss = (float)(c->loss_sum / ((double)c->P * c->h));
    loco__round_close(&c->st.round, &c->st.inner_step, &c->st.round_seconds, c->h, loco__now() - t0);
    refresh(c);
    return LOCO_OK;
}

/* The state file's view of c: the modules stand in for theta.  Every
 * module takes an outer step every round (every path trains every round),
 * so the step counts are the round and need no room of their own. */
static loco__coord_state state_of(loco_dpc *c, double time_s) {
    loco__coord_state s = {c->fingerprint, c->lay.total, c->state_n, c->st.round, c->st.inner_step, c->st.round,
                           0, 0, c->st.requeued, c->st.duplicates, 0, 0, 0, time_s, c->st.train_loss, c->modules,
                           c->ostate, 0, NULL};
    loco__session_save(&c->ss, &s);
    return s;
}

int loco_dpc_save(loco_dpc *c, const char *path, double time_s, char *msg, size_t msglen) {
    loco__coord_state s = state_of(c, time_s);
    int e = loco__state_save(path, &s, msg, msglen);
    if (!e) c->st.saves++;
    return e;
}

int loco_dpc_resume(loco_dpc *c, const char *path, double *time_s, char *msg, size_t msglen) {
    loco__coord_state s = state_of(c, 0);
    int e = loco__state_load(path, &s, msg, msglen);
    if (e) return e;
    if ((e = loco__state_fits(&s, c->st.n_rounds, c->H, (long)c->c.run.steps, path, msg, msglen)) != LOCO_OK)
        return e;
    c->st.resumed_round = c->st.round = (long)s.round;
    c->st.inner_step = (long)s.inner_step;
    for (int m = 0; m < c->lay.n_modules; m++) c->t[m] = c->st.round;
    c->st.requeued = (long)s.missing;
    c->st.duplicates = (long)s.late;
    c->st.train_loss = s.train_loss;
    loco__session_restore(&c->ss, &s, time_s);
    refresh(c);
    return LOCO_OK;
}

void loco_dpc_finish(loco_dpc *c, double linger) {
    loco__session_finish(&c->ss, linger);
    refresh(c);
}
