/*
 * The coordinator of DiPaCo over ZeroMQ: a task queue of leases
 * (include/loco/net_engine.h, docs/dipaco.md "Over the wire").
 *
 * One thread, one ROUTER socket, an event loop, as src/net/coord.c; every
 * message has passed src/net/link.c's checks (MAC, lengths) before it gets
 * here, and is then checked against its sender's session and sequence.
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
#include "net/dipaco_wire.h"
#include "net/link.h"
#include "net/state.h"
#include "net/wire.h"

enum { DS_FREE = 0, DS_ALIVE, DS_DEAD };
enum { T_QUEUED = 0, T_LEASED, T_DONE, T_CLOSED };   /* T_CLOSED: between rounds */

/* A connected worker. */
typedef struct {
    int state;
    uint8_t ident[LOCO__IDENT_MAX];
    size_t ident_len;
    uint64_t session, last_seq;
    double last_heard;
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
    loco__link link;
    char endpoint[256];
    loco_dipaco_layout lay;
    int P, H, n_slots;
    double *weight;             /* (P) */
    float *modules, *ostate, *target, *path;   /* total, state_n, total, path_params */
    double *sum, *wsum;
    long *t;
    size_t state_n;
    uint8_t *welcome, *wire;    /* the WELCOME payload; a DPTASK (head and parameters) */
    size_t welcome_len;
    uint64_t fingerprint, next_lease;
    dslot *slots;
    dtask *tasks;
    loco_net_nonces nonces;
    long h, first;
    double loss_sum, last_beat;
    loco_dpc_stats st;
};

/* A line about worker slot s on stderr, when verbose. */
static void say(const loco_dpc *c, long s, const char *what) {
    if (c->c.verbose) fprintf(stderr, "loco coordinator: worker %ld %s\n", s, what);
}

void loco_dpc_free(loco_dpc *c) {
    if (!c) return;
    for (int p = 0; c->tasks && p < c->P; p++)
        if (c->tasks[p].state == T_DONE) zmq_msg_close(&c->tasks[p].held);
    loco__link_close(&c->link);
    free(c->weight);
    free(c->modules);
    free(c->sum);
    free(c->wsum);
    free(c->t);
    free(c->welcome);
    free(c->wire);
    free(c->slots);
    free(c->tasks);
    free(c);
}

/* The fingerprint of the run a state file belongs to: the WELCOME less the
 * per-worker fields, the outer optimizer and the levels. */
static uint64_t run_fingerprint(const loco_dpc *c) {
    uint64_t h = loco_fnv1a64(LOCO_FNV1A_INIT, c->welcome + 4, 4);
    h = loco_fnv1a64(h, c->welcome + 8 + LOCO_NET_NONCE_BYTES, c->welcome_len - 8 - LOCO_NET_NONCE_BYTES);
    uint8_t o[20 + 4 * (2 * LOCO_DIPACO_MAX_LEVELS + 2)];
    const loco_outer_config *oc = &c->c.outer;
    loco__put32(o, (uint32_t)oc->kind);
    loco__putf(o + 4, oc->lr);
    loco__putf(o + 8, oc->momentum);
    loco__putf(o + 12, oc->beta2);
    loco__putf(o + 16, oc->eps);
    uint8_t *q = o + 20;
    loco__put32(q, (uint32_t)c->lay.d.n_levels);
    loco__put32(q + 4, (uint32_t)c->lay.d.shared_base);
    for (int l = 0; l < LOCO_DIPACO_MAX_LEVELS; l++) {
        loco__put32(q + 8 + 8 * l, (uint32_t)(l < c->lay.d.n_levels ? c->lay.d.layers[l] : 0));
        loco__put32(q + 12 + 8 * l, (uint32_t)(l < c->lay.d.n_levels ? c->lay.d.modules[l] : 0));
    }
    return loco_fnv1a64(h, o, sizeof o);
}

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
        why = "--inner-steps, --steps, --batch and --seq-len must be positive";
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
    c->weight = malloc((size_t)c->P * sizeof(double));
    c->modules = calloc(2 * lay.total + c->state_n + lay.path_params, sizeof(float));
    c->sum = malloc(lay.total * sizeof(double));
    c->wsum = malloc((size_t)lay.n_modules * sizeof(double));
    c->t = calloc((size_t)lay.n_modules, sizeof(long));
    c->welcome_len = loco_net_welcome_bytes(r->n_assign);
    c->welcome = malloc(c->welcome_len);
    c->wire = malloc(loco_net_dptask_bytes(lay.path_params));
    c->slots = calloc((size_t)c->n_slots, sizeof *c->slots);
    c->tasks = calloc((size_t)c->P, sizeof *c->tasks);
    loco_gpt *m = NULL;
    if (!c->weight || !c->modules || !c->sum || !c->wsum || !c->t || !c->welcome || !c->wire || !c->slots ||
        !c->tasks) {
        e = LOCO_ENOMEM;
        snprintf(msg, msglen, "out of memory for the coordinator of %d paths", c->P);
        goto fail;
    }
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
    if (loco_net_encode_welcome(r, c->welcome, c->welcome_len) != c->welcome_len) {
        e = LOCO_EINVAL;
        snprintf(msg, msglen, "cannot encode the run configuration");
        goto fail;
    }
    c->fingerprint = run_fingerprint(c);
    size_t max_in = loco_net_dppush_bytes((uint32_t)c->H, lay.path_params);
    if ((e = loco__link_open(&c->link, 1, cfg->listen, &cfg->key, &cfg->security, max_in, msg, msglen)) != LOCO_OK) goto fail;
    c->link.self = LOCO_NET_COORDINATOR;
    c->link.who = "loco coordinator";
    if (loco_net_random(&c->link.run_id, sizeof c->link.run_id)) {
        e = LOCO_EIO;
        snprintf(msg, msglen, "no random numbers");
        goto fail;
    }
    c->link.run_id |= 1;
    loco__link_endpoint(&c->link, c->endpoint, sizeof c->endpoint);
    c->st.n_rounds = loco_round_count((long)r->steps, c->H);
    c->st.resumed_round = -1;
    for (int p = 0; p < c->P; p++) c->tasks[p].state = T_CLOSED;   /* no round open: nothing to lease */
    *out = c;
    return LOCO_OK;
fail:
    loco_dpc_free(c);
    return e;
}

const char *loco_dpc_endpoint(const loco_dpc *c) { return c->endpoint; }
const loco_dipaco_layout *loco_dpc_layout(const loco_dpc *c) { return &c->lay; }
const float *loco_dpc_modules(const loco_dpc *c) { return c->modules; }
const loco_dpc_stats *loco_dpc_get_stats(const loco_dpc *c) { return &c->st; }

static void refresh(loco_dpc *c) {
    int alive = 0, leased = 0;
    for (int s = 0; s < c->n_slots; s++) alive += c->slots[s].state == DS_ALIVE;
    for (int p = 0; p < c->P; p++) leased += c->tasks[p].state == T_LEASED;
    c->st.alive = alive;
    c->st.leased = leased;
    c->st.rejected = c->link.rejected;
    c->st.bytes_in = c->link.bytes_in;
    c->st.bytes_out = c->link.bytes_out;
}

static void send_error(loco_dpc *c, const uint8_t *ident, size_t ident_len, uint64_t session, int code,
                       const char *text) {
    uint8_t buf[8 + LOCO_NET_MAX_TEXT];
    size_t n = loco_net_encode_error((uint32_t)code, text, buf, sizeof buf);
    loco__link_send(&c->link, ident, ident_len, LOCO_NET_ERROR, session, buf, n, NULL, 0);
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
    if (c->c.verbose)
        fprintf(stderr, "loco coordinator: path %d's lease %llu taken back from worker %d (%s): requeued\n", p,
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
        if (sl->state != DS_ALIVE || !sl->wants || sl->lease_live) continue;
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
        int e = loco__link_send(&c->link, sl->ident, sl->ident_len, LOCO_NET_DPTASK, sl->session, c->wire, n,
                                c->wire + n, 4 * c->lay.path_params);
        if (e) {
            /* A worker that cannot take a message is as good as gone; the
             * task stays in the queue for the next one. */
            sl->state = DS_DEAD;
            c->st.deaths++;
            say(c, s, "cannot be reached");
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

/* Admits a worker into a free or dead slot; -1 if none.  The id it asked
 * for is ignored: a DiPaCo worker holds no shard, so any slot will do. */
static int admit(loco_dpc *c, const loco__msg *m, const loco_net_hello *hello) {
    int s = -1;
    /* The same connection asking again keeps its slot, with a new session;
     * a lease it had is taken back, since it starts afresh. */
    for (int i = 0; i < c->n_slots && s < 0; i++)
        if (c->slots[i].state == DS_ALIVE && c->slots[i].ident_len == m->ident_len &&
            memcmp(c->slots[i].ident, m->ident, m->ident_len) == 0)
            s = i;
    for (int i = 0; i < c->n_slots && s < 0; i++)
        if (c->slots[i].state == DS_FREE) s = i;
    for (int i = 0; i < c->n_slots && s < 0; i++)
        if (c->slots[i].state == DS_DEAD) s = i;
    if (s < 0) return -1;
    revoke(c, s, "it joined again");
    dslot *sl = &c->slots[s];
    memset(sl, 0, sizeof *sl);
    sl->state = DS_ALIVE;
    sl->lease_path = -1;
    memcpy(sl->ident, m->ident, m->ident_len);
    sl->ident_len = m->ident_len;
    loco_net_random(&sl->session, sizeof sl->session);
    sl->session |= 1;
    sl->last_seq = m->h.seq;
    sl->last_heard = loco__now();
    loco__put32(c->welcome, (uint32_t)s);
    memcpy(c->welcome + 8, hello->nonce, LOCO_NET_NONCE_BYTES);
    if (loco__link_send(&c->link, sl->ident, sl->ident_len, LOCO_NET_WELCOME, sl->session, c->welcome,
                        c->welcome_len, NULL, 0) != LOCO_OK) {
        sl->state = DS_FREE;
        return -1;
    }
    c->st.joins++;
    say(c, s, "joined");
    return s;
}

static void on_hello(loco_dpc *c, loco__msg *m) {
    loco_net_hello hello;
    if (m->h.sender != LOCO_NET_ANON || m->h.session != 0 || m->h.run_id != 0 ||
        loco_net_decode_hello(m->data, m->n, &hello) != LOCO_OK) {
        loco__link_reject(&c->link, "malformed HELLO");
        return;
    }
    int e = loco_net_hello_accept(&c->nonces, &hello, loco_net_wall_ms(), c->c.max_skew_ms);
    if (e) {
        loco__link_reject(&c->link, e == LOCO_ERANGE ? "HELLO with a timestamp outside the allowed skew"
                                                     : "replayed HELLO (nonce seen before)");
        return;
    }
    if (admit(c, m, &hello) < 0) send_error(c, m->ident, m->ident_len, 0, -LOCO_ERANGE, "the run is full");
}

static void on_push(loco_dpc *c, int s, loco__msg *m) {
    dslot *sl = &c->slots[s];
    loco_net_dppush x;
    if (loco_net_decode_dppush(m->data, m->n, &x) != LOCO_OK || x.n_params != c->lay.path_params ||
        x.path >= (uint32_t)c->P || x.round > (uint64_t)c->st.round || x.lease > c->next_lease) {
        loco__link_reject(&c->link, "malformed DPPUSH");
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
        loco__link_reject(&c->link, "malformed DPASK");
        return;
    }
    /* An idle worker holding a live lease never got its DPTASK. */
    revoke(c, s, "it asked for work while holding it");
    c->slots[s].wants = 1;
}

static void handle(loco_dpc *c, loco__msg *m) {
    if (m->h.type == LOCO_NET_HELLO) {
        on_hello(c, m);
        return;
    }
    const uint32_t s = m->h.sender;
    dslot *sl = s < (uint32_t)c->n_slots ? &c->slots[s] : NULL;
    if (!sl || sl->state == DS_FREE || m->h.session != sl->session || m->h.run_id != c->link.run_id) {
        loco__link_reject(&c->link, "message from an unknown session");
        if (m->h.type != LOCO_NET_ERROR && m->h.type != LOCO_NET_BYE)
            send_error(c, m->ident, m->ident_len, m->h.session, -LOCO_EINVAL, "unknown session: join again");
        return;
    }
    if (m->h.seq <= sl->last_seq) {
        loco__link_reject(&c->link, "replayed message (old sequence number)");
        return;
    }
    sl->last_seq = m->h.seq;
    sl->last_heard = loco__now();
    memcpy(sl->ident, m->ident, m->ident_len);
    sl->ident_len = m->ident_len;
    if (sl->state == DS_DEAD) {
        /* Declared dead but only slow: it is back, without its lease (its
         * push of it still counts if the task is not done). */
        sl->state = DS_ALIVE;
        say(c, s, "is back");
    }
    switch (m->h.type) {
    case LOCO_NET_HEARTBEAT: {
        loco_net_heartbeat hb;
        if (loco_net_decode_heartbeat(m->data, m->n, &hb)) loco__link_reject(&c->link, "malformed HEARTBEAT");
        break;
    }
    case LOCO_NET_DPASK:
        on_ask(c, (int)s, m);
        break;
    case LOCO_NET_DPPUSH:
        on_push(c, (int)s, m);
        break;
    case LOCO_NET_BYE:
    case LOCO_NET_ERROR:
        revoke(c, (int)s, "it left");
        sl->state = DS_FREE;
        say(c, s, "left");
        break;
    default:
        loco__link_reject_type(&c->link, "unexpected message type from a DiPaCo worker", m->h.type);
    }
}

/* Declares silent workers dead, takes back expired leases, and sends live
 * workers a heartbeat every heartbeat interval. */
static void housekeeping(loco_dpc *c) {
    const double now = loco__now();
    for (int s = 0; s < c->n_slots; s++) {
        dslot *sl = &c->slots[s];
        if (sl->state == DS_ALIVE && now - sl->last_heard > c->c.worker_timeout) {
            sl->state = DS_DEAD;
            sl->wants = 0;
            c->st.deaths++;
            say(c, s, "is silent: declared dead");
            revoke(c, s, "declared dead");
        }
    }
    for (int p = 0; p < c->P; p++) {
        dtask *t = &c->tasks[p];
        if (t->state == T_LEASED && now > t->deadline) {
            c->st.expired++;
            requeue(c, p, "its deadline passed");
        }
    }
    if (now - c->last_beat >= c->c.run.heartbeat_ms / 1000.0) {
        c->last_beat = now;
        loco_net_heartbeat hb = {(uint64_t)c->st.round, (uint64_t)c->st.inner_step};
        uint8_t buf[LOCO_NET_HEARTBEAT_BYTES];
        loco_net_encode_heartbeat(&hb, buf, sizeof buf);
        for (int s = 0; s < c->n_slots; s++) {
            dslot *sl = &c->slots[s];
            if (sl->state == DS_ALIVE)
                loco__link_send(&c->link, sl->ident, sl->ident_len, LOCO_NET_HEARTBEAT, sl->session, buf,
                                sizeof buf, NULL, 0);
        }
    }
    refresh(c);
}

/* Waits up to timeout_ms for one message, handles it, keeps house and
 * leases what it can.  Returns LOCO_EIO if the socket fails. */
static int serve(loco_dpc *c, int timeout_ms) {
    loco__msg m;
    int e = loco__link_recv(&c->link, timeout_ms, &m);
    if (e == LOCO_OK) {
        handle(c, &m);
        loco__msg_close(&m);
    }
    housekeeping(c);
    dispatch(c);
    refresh(c);
    return e == LOCO_EIO ? LOCO_EIO : LOCO_OK;
}

int loco_dpc_wait_workers(loco_dpc *c, int n, double timeout, char *msg, size_t msglen) {
    const double t0 = loco__now();
    for (;;) {
        refresh(c);
        if (c->st.alive >= n) return LOCO_OK;
        if (timeout > 0 && loco__now() - t0 > timeout) {
            snprintf(msg, msglen, "%d of %d workers joined in %g s", c->st.alive, n, timeout);
            return LOCO_ERANGE;
        }
        if (serve(c, 200)) {
            snprintf(msg, msglen, "the socket failed: %s", zmq_strerror(zmq_errno()));
            return LOCO_EIO;
        }
    }
}

/* Returns LOCO_ERANGE (run over), LOCO_ENONFINITE, LOCO_EIO. */
int loco_dpc_round(loco_dpc *c, char *msg, size_t msglen) {
    if (c->st.round >= c->st.n_rounds) {
        snprintf(msg, msglen, "the run is over (%ld rounds)", c->st.n_rounds);
        return LOCO_ERANGE;
    }
    const double t0 = loco__now();
    c->h = loco_round_steps((long)c->c.run.steps, c->H, c->st.round, &c->first);
    c->loss_sum = 0;
    c->st.done = 0;
    for (int p = 0; p < c->P; p++) c->tasks[p].state = T_QUEUED;
    dispatch(c);
    while (c->st.done < c->P)
        if (serve(c, 200) != LOCO_OK) {
            snprintf(msg, msglen, "the socket failed: %s", zmq_strerror(zmq_errno()));
            return LOCO_EIO;
        }
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
    c->st.round++;
    c->st.inner_step += c->h;
    c->st.round_seconds = loco__now() - t0;
    refresh(c);
    return LOCO_OK;
}

/* The state file's view of c: the modules stand in for theta.  Every
 * module takes an outer step every round (every path trains every round),
 * so the step counts are the round and need no room of their own. */
static loco__coord_state state_of(loco_dpc *c) {
    loco__coord_state s = {c->fingerprint, c->lay.total, c->state_n, c->st.round, c->st.inner_step, c->st.round,
                           c->st.joins, c->st.deaths, c->st.requeued, c->st.duplicates, c->link.rejected,
                           c->link.bytes_in, c->link.bytes_out, 0, c->st.train_loss, c->modules, c->ostate, 0, NULL};
    return s;
}

int loco_dpc_save(loco_dpc *c, const char *path, double time_s, char *msg, size_t msglen) {
    loco__coord_state s = state_of(c);
    s.time_s = time_s;
    int e = loco__state_save(path, &s, msg, msglen);
    if (!e) c->st.saves++;
    return e;
}

int loco_dpc_resume(loco_dpc *c, const char *path, double *time_s, char *msg, size_t msglen) {
    loco__coord_state s = state_of(c);
    int e = loco__state_load(path, &s, msg, msglen);
    if (e) return e;
    if (s.round > c->st.n_rounds || s.inner_step != (s.round < c->st.n_rounds ? s.round * c->H : c->c.run.steps)) {
        snprintf(msg, msglen, "%s: round %lld does not fit this run of %ld rounds", path, (long long)s.round,
                 c->st.n_rounds);
        return LOCO_EINVAL;
    }
    c->st.round = (long)s.round;
    c->st.inner_step = (long)s.inner_step;
    for (int m = 0; m < c->lay.n_modules; m++) c->t[m] = c->st.round;
    c->st.joins = (long)s.joins;
    c->st.deaths = (long)s.deaths;
    c->st.requeued = (long)s.missing;
    c->st.duplicates = (long)s.late;
    c->st.train_loss = s.train_loss;
    c->link.rejected = (long)s.rejected;
    c->link.bytes_in = s.bytes_in;
    c->link.bytes_out = s.bytes_out;
    c->st.resumed_round = c->st.round;
    if (time_s) *time_s = s.time_s;
    refresh(c);
    return LOCO_OK;
}

void loco_dpc_finish(loco_dpc *c, double linger) {
    for (int s = 0; s < c->n_slots; s++) {
        dslot *sl = &c->slots[s];
        if (sl->state == DS_ALIVE)
            loco__link_send(&c->link, sl->ident, sl->ident_len, LOCO_NET_BYE, sl->session, NULL, 0, NULL, 0);
    }
    int ms = (int)(linger * 1000);
    zmq_setsockopt(c->link.sock, ZMQ_LINGER, &ms, sizeof ms);
    refresh(c);
}
