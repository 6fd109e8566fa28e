/*
 * The coordinator of synchronous DiLoCo over ZeroMQ (include/loco/net_engine.h).
 *
 * One thread, one ROUTER socket, an event loop: the session layer
 * (src/net/session.c) admits workers, checks every message against its
 * sender's session and sequence number, and reaps the silent; this file
 * plugs in as its callbacks (PUSH, a slot taken or lost).  The
 * reduction is the simulator's (src/algo/diloco_msg.c): contributions are
 * added to a double sum in worker order.  A push that arrives before those of
 * lower workers is held (its ZeroMQ frame, no copy) until they are in or the
 * round closes, so the sum never depends on arrival order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/diloco_msg.h"
#include "loco/net_engine.h"
#include "loco/shard.h"
#include "loco/sim.h"
#include "net/net_coord.h"
#include "net/state.h"
#include "net/wire.h"

void loco_coord_free(loco_coord *c) {
    if (!c) return;
    for (int w = 0; c->slots && w < c->M; w++)
        if (c->slots[w].holding) zmq_msg_close(&c->slots[w].held);
    loco__session_close(&c->ss);
    loco_gpt_free(c->model);
    free(c->block);
    free(c->sum);
    free(c->wire);
    free(c->slots);
    loco__async_free(c);
    free(c);
}

/* Returns LOCO_EINVAL (reason in msg) for a configuration that cannot run. */
static int check_config(const loco_coord_config *c, char *msg, size_t msglen) {
    const loco_net_welcome *r = &c->run;
    const char *why = NULL;
    if (!c->listen || !*c->listen) why = "no endpoint to listen on";
    else if (r->workers < 1) why = "workers must be at least 1";
    else if (r->inner_steps < 1) why = "inner_steps must be at least 1";
    else if (r->steps < 1) why = "steps must be at least 1";
    else if (r->batch < 1 || r->seq_len < 1) why = "batch and seq_len must be positive";
    else if (c->quorum < 1 || c->quorum > (int)r->workers) why = "quorum must be in [1, workers]";
    else if (!(c->round_timeout >= 0) || !(c->worker_timeout > 0)) why = "timeouts must be positive";
    else if (r->heartbeat_ms < 1) why = "the heartbeat must be positive";
    else if (!r->assign || r->n_assign < r->workers) why = "no data split";
    if (why) snprintf(msg, msglen, "%s", why);
    return why ? LOCO_EINVAL : LOCO_OK;
}

/* The fingerprint of the run a state file belongs to: the run's identity
 * (its WELCOME less the per-worker fields, src/net/session.c), and the
 * outer optimizer. */
static uint64_t run_fingerprint(const loco_coord *c) {
    uint64_t h = loco__outer_fingerprint(c->ss.identity, &c->c.outer);
    if (!c->c.async) return h;
    /* An asynchronous run's state belongs to its rule and length too. */
    const loco_async_config *r = &c->c.rule;
    uint8_t a[40];
    loco__put32(a, (uint32_t)r->rule);
    loco__putf(a + 4, r->lr);
    loco__putf(a + 8, r->momentum);
    loco__put32(a + 12, (uint32_t)r->period);
    loco__put32(a + 16, (uint32_t)r->stale);
    loco__putf(a + 20, r->stale_power);
    loco__put32(a + 24, (uint32_t)c->c.dylu);
    loco__put32(a + 28, (uint32_t)c->c.dylu_min);
    loco__put64(a + 32, (uint64_t)c->c.pushes);
    return loco_fnv1a64(h, a, sizeof a);
}

static const loco__session_ops diloco_ops;

/* Returns LOCO_EINVAL, LOCO_EIO or LOCO_ENOMEM with a reason in msg. */
int loco_coord_create(loco_coord **out, const loco_coord_config *cfg, const float *init, char *msg, size_t msglen) {
    *out = NULL;
    int e = check_config(cfg, msg, msglen);
    if (e) return e;
    loco_coord *c = calloc(1, sizeof *c);
    if (!c) return LOCO_ENOMEM;
    c->c = *cfg;
    c->M = (int)cfg->run.workers;
    c->H = cfg->run.inner_steps;
    c->slots = calloc((size_t)c->M, sizeof *c->slots);
    e = c->slots ? loco_gpt_create(&c->model, &cfg->run.model, cfg->run.batch, cfg->run.seq_len, cfg->run.seed,
                                   msg, msglen)
                 : LOCO_ENOMEM;
    if (!e) e = loco_diloco_layout_init(&c->lay, c->model, cfg->run.codec, cfg->run.keep, msg, msglen);
    if (e) goto fail;
    c->P = c->lay.P;
    c->theta = loco_gpt_params(c->model);
    if (init) memcpy(c->theta, init, c->P * sizeof(float));
    size_t state_n = loco_outer_state_floats(&cfg->outer, c->P);
    c->block = calloc(state_n + 2 * c->P, sizeof(float));
    /* The sum (P) and the held contributions' norms (M), then the
     * screen's verdicts (M bytes); the download, then the outer state as
     * OSYNC carries it. */
    c->sum = malloc((c->P + (size_t)c->M) * sizeof(double) + (size_t)c->M);
    c->norms = c->sum ? c->sum + c->P : NULL;
    c->keep = c->norms ? (unsigned char *)(c->norms + c->M) : NULL;
    c->wire = malloc(c->lay.msg_bytes + 4 * state_n + 1);
    c->obuf = c->wire ? c->wire + c->lay.msg_bytes : NULL;
    c->down_version = -1;
    if (!c->block || !c->sum || !c->norms || !c->wire || !c->obuf) {
        e = LOCO_ENOMEM;
        snprintf(msg, msglen, "out of memory for the coordinator's buffers");
        goto fail;
    }
    c->ostate = c->block;
    c->state_n = state_n;
    c->dec = c->ostate + state_n;
    c->avg = c->dec + c->P;
    for (int w = 0; w < c->M; w++) c->slots[w].holds = -1;
    /* The largest message a worker may send is a PUSH of a full round; a
     * HELLO, HEARTBEAT or ERROR is far smaller. */
    const loco__session_config sc = {cfg->listen, &cfg->key, &cfg->security, &cfg->run, c->M,
                                     loco_net_push_bytes((uint32_t)c->H, c->lay.msg_bytes), cfg->worker_timeout,
                                     cfg->max_skew_ms, cfg->verbose, cfg->log, &c->st.round, &c->st.inner_step};
    if ((e = loco__session_open(&c->ss, &sc, &diloco_ops, c, msg, msglen)) != LOCO_OK) goto fail;
    c->fingerprint = run_fingerprint(c);
    if (cfg->async && (e = loco__async_create(c, msg, msglen)) != LOCO_OK) goto fail;
    c->st.n_rounds = loco_round_count((long)cfg->run.steps, c->H);
    c->st.resumed_round = -1;
    *out = c;
    return LOCO_OK;
fail:
    if (e == LOCO_ENOMEM && !msg[0]) snprintf(msg, msglen, "out of memory");
    loco_coord_free(c);
    return e;
}

const char *loco_coord_endpoint(const loco_coord *c) { return c->ss.endpoint; }
loco_gpt *loco_coord_model(loco_coord *c) { return c->model; }
const loco_coord_stats *loco_coord_get_stats(const loco_coord *c) { return &c->st; }

/* Sends theta (version outer_steps) and the current round's task to slot w;
 * marks it dead if it cannot take them. */
static void send_task(loco_coord *c, int w, const loco_net_sealer *s, zmq_msg_t *theta) {
    slot *sl = &c->slots[w];
    loco_net_task t = {(uint64_t)c->st.round, (uint64_t)c->st.outer_steps, (uint32_t)w, (uint32_t)c->h,
                       (uint64_t)c->first};
    uint8_t buf[LOCO_NET_TASK_BYTES];
    loco_net_encode_task(&t, buf, sizeof buf);
    int e = loco__coord_send_theta(c, w, s, theta);
    if (!e) e = loco__session_send(&c->ss, w, LOCO_NET_TASK, buf, sizeof buf, NULL, 0);
    sl->tasked = e == LOCO_OK;
    if (e) loco__session_drop(&c->ss, w, "cannot be reached; its shard is free");
}

/* Closes the round's reduction: the held contributions are screened by
 * their norms (loco_outer_screen, as the simulator does), and those kept
 * are added to the sum in worker order, so that neither the sum nor the
 * screen depends on arrival order.  The screen needs every norm first, so
 * the pushes are held until the round closes. */
static void reduce_held(loco_coord *c) {
    int n = 0;
    for (int w = 0; w < c->M; w++)
        if (c->slots[w].holding) c->norms[n++] = c->slots[w].norm;
    const double tn = n == 1 && c->recent.n < 3 ? loco_outer_norm(c->theta, NULL, c->P) : 0;
    c->st.screened = loco_outer_screen(c->norms, n, c->c.screen_k, tn, &c->recent, c->keep);
    c->st.screened_total += c->st.screened;
    for (int w = 0, i = 0; w < c->M; w++) {
        slot *s = &c->slots[w];
        if (!s->holding) continue;
        if (!c->keep[i++]) {
            char why[160];
            snprintf(why, sizeof why, "pushed a pseudo-gradient of norm %.3g, outside the others' (screen k %g): "
                     "dropped", s->norm, (double)c->c.screen_k);
            loco__session_say(&c->ss, w, why);
        } else if (loco_diloco_accumulate(&c->lay, s->push.contrib, (size_t)s->push.contrib_len, c->sum, c->dec) ==
                   LOCO_OK) {
            for (uint32_t i = 0; i < s->push.n_losses; i++)
                c->loss_sum += (double)loco__getf(s->push.losses + 4 * (size_t)i);
            c->reduced++;
        }
        zmq_msg_close(&s->held);
        s->holding = 0;
    }
}

static void on_push(loco_coord *c, int w, loco__msg *m) {
    slot *s = &c->slots[w];
    loco_net_push p;
    if (loco_net_decode_push(m->data, m->n, &p) != LOCO_OK) {
        loco__link_reject(&c->ss.link, "malformed PUSH");
        return;
    }
    if (!c->in_round || p.round < (uint64_t)c->st.round) {
        c->st.late_total++;
        loco__session_say(&c->ss, w, "pushed after its round closed: dropped");
        return;
    }
    if (p.round != (uint64_t)c->st.round || !s->tasked || s->pushed || p.shard != (uint32_t)w ||
        p.base_version != (uint64_t)c->st.outer_steps || p.n_losses != (uint32_t)c->h ||
        p.contrib_len != c->lay.msg_bytes) {
        loco__link_reject(&c->ss.link, "PUSH that does not match the round's task");
        return;
    }
    /* Decoded now, for its norm (the screen at the round's close). */
    if (loco_diloco_decode(&c->lay, p.contrib, (size_t)p.contrib_len, c->dec) != LOCO_OK) {
        loco__link_reject(&c->ss.link, "a contribution that does not decode");
        return;
    }
    s->norm = loco_diloco_norm(&c->lay, c->theta, c->dec);
    zmq_msg_init(&s->held);
    zmq_msg_move(&s->held, &m->payload);
    s->holding = 1;
    s->pushed = 1;
    /* The decoded pointers moved with the frame's buffer (zmq_msg_move
     * keeps the data where it is). */
    loco_net_decode_push(zmq_msg_data(&s->held), zmq_msg_size(&s->held), &s->push);
    c->st.received++;
}

/* The session layer's callbacks (src/net/session.h). */

/* Worker id w goes to a newcomer: what its earlier holder left goes. */
static void on_joined(void *ctx, int w) {
    loco_coord *c = ctx;
    slot *s = &c->slots[w];
    if (s->holding) zmq_msg_close(&s->held);
    loco__async_forget(c, w, 0);
    memset(s, 0, sizeof *s);
    s->holds = -1;
}

/* A round's push that came stays held; an asynchronous task goes back. */
static void on_lost(void *ctx, int w, const char *why) {
    (void)why;
    loco_coord *c = ctx;
    loco__async_forget(c, w, 1);
}

static int on_message(void *ctx, int w, loco__msg *m) {
    loco_coord *c = ctx;
    if (m->h.type != LOCO_NET_PUSH) return -1;
    if (c->c.async) loco__async_on_push(c, w, m);
    else on_push(c, w, m);
    return 0;
}

static const loco__session_ops diloco_ops = {on_joined, on_lost, on_message, NULL};

/* Returns LOCO_ERANGE on the timeout, LOCO_EIO. */
int loco_coord_wait_workers(loco_coord *c, int min_workers, double timeout, char *msg, size_t msglen) {
    int e = loco__session_wait(&c->ss, min_workers, timeout, msg, msglen);
    loco__coord_refresh(c);
    return e;
}

/* Sends theta and the round's task to every live worker. */
static int start_round(loco_coord *c, char *msg, size_t msglen) {
    zmq_msg_t theta;
    loco_net_sealer s;
    int e = loco__coord_theta(c, (uint64_t)c->st.outer_steps, &theta, &s, msg, msglen);
    if (e) return e;
    c->st.tasked = 0;
    for (int w = 0; w < c->M; w++) {
        slot *sl = &c->slots[w];
        if (sl->holding) zmq_msg_close(&sl->held);
        sl->holding = sl->pushed = sl->tasked = 0;
        if (loco__coord_alive(c, w)) send_task(c, w, &s, &theta);
        c->st.tasked += sl->tasked;
    }
    zmq_msg_close(&theta);
    return LOCO_OK;
}

/* Returns LOCO_ERANGE (run over), LOCO_ENONFINITE, LOCO_EIO, LOCO_ENOMEM. */
int loco_coord_round(loco_coord *c, char *msg, size_t msglen) {
    int e = loco__round_open(c->st.round, c->st.n_rounds, (long)c->c.run.steps, c->H, &c->h, &c->first, msg, msglen);
    if (e) return e;
    const double t0 = loco__now();
    memset(c->sum, 0, c->P * sizeof(double));
    c->loss_sum = 0;
    c->st.received = 0;
    c->next_acc = c->reduced = 0;
    c->in_round = 1;
    for (int w = 0; w < c->M; w++) c->slots[w].tasked = c->slots[w].pushed = 0;
    double deadline = 0;
    /* (Re)start the round whenever nobody is working on it: at first, and
     * if every worker it was sent to died before pushing. */
    for (;;) {
        int working = 0;
        for (int w = 0; w < c->M; w++)
            working += c->slots[w].tasked && loco__coord_alive(c, w) && !c->slots[w].pushed;
        if (c->st.received == 0 && working == 0) {
            loco__coord_refresh(c);
            if (c->st.alive > 0) {
                if ((e = start_round(c, msg, msglen)) != LOCO_OK) break;
                deadline = loco__now() + c->c.round_timeout;
                continue;
            }
        } else if (working == 0) {
            break;   /* everyone it was sent to pushed or died */
        } else if (c->c.round_timeout > 0 && loco__now() >= deadline && c->st.received >= c->c.quorum) {
            break;   /* the deadline, with a quorum */
        }
        int wait = 200;
        if (c->c.round_timeout > 0) {
            double left = deadline - loco__now();
            if (left > 0 && left * 1000 < wait) wait = (int)(left * 1000) + 1;
        }
        if ((e = loco__session_serve(&c->ss, wait, msg, msglen)) != LOCO_OK) break;
    }
    c->in_round = 0;
    if (e) return e;
    reduce_held(c);
    for (int w = 0; w < c->M; w++) {
        slot *s = &c->slots[w];
        if (s->holding) zmq_msg_close(&s->held);
        s->holding = 0;
    }
    c->st.missing_total += c->st.tasked - c->reduced;
    c->st.received = c->reduced;
    if (c->reduced > 0) {
        float *target = c->dec;
        if (loco_diloco_target(&c->lay, c->sum, c->reduced, c->theta, c->avg, c->wire, target) != LOCO_OK) {
            snprintf(msg, msglen, "round %ld: mean pseudo-gradient is not finite", c->st.round);
            return LOCO_ENONFINITE;
        }
        if (loco_outer_step_checked(&c->c.outer, c->theta, target, c->ostate, c->P, c->st.outer_steps + 1) !=
            LOCO_OK) {
            snprintf(msg, msglen, "round %ld: the outer step would make the parameters non-finite",
                     c->st.round);
            return LOCO_ENONFINITE;
        }
        c->st.outer_steps++;
        /* c->wire now holds the download that leads from the last version
         * to this one (lossy codecs). */
        c->down_version = loco_diloco_dense(&c->lay) ? -1 : c->st.outer_steps;
        c->st.train_loss = (float)(c->loss_sum / ((double)c->reduced * c->h));
    }
    loco__round_close(&c->st.round, &c->st.inner_step, &c->st.round_seconds, c->h, loco__now() - t0);
    loco__coord_refresh(c);
    return LOCO_OK;
}

/* The state file's view of c (theta and the outer state borrowed). */
static loco__coord_state state_of(loco_coord *c) {
    loco__coord_state s = {c->fingerprint, c->P, c->state_n, c->st.round, c->st.inner_step, c->st.outer_steps,
                           0, 0, c->st.missing_total, c->st.late_total, 0, 0, 0, 0, c->st.train_loss, c->theta,
                           c->ostate, 0, NULL};
    loco__session_save(&c->ss, &s);
    if (c->c.async) {
        /* The rule's state (m, buf) in place of the outer optimizer's, and
         * the engine's counters and data streams as extras; "round" is the
         * pushes applied, "outer steps" theta's version. */
        s.state_n = loco_async_state_floats(c->P);
        s.ostate = c->ablock;
        s.extra_n = loco__async_extra_n(c);
        s.extra = c->aextra;
        s.round = c->st.pushes;
        s.inner_step = c->st.async_inner_steps;
        s.outer_steps = c->ast.updates;
    }
    return s;
}

/* Returns LOCO_EIO (reason in msg) if the state cannot be written. */
int loco_coord_save(loco_coord *c, const char *path, double time_s, char *msg, size_t msglen) {
    if (c->c.async) loco__async_pack(c);
    loco__coord_state s = state_of(c);
    s.time_s = time_s;
    int e = loco__state_save(path, &s, msg, msglen);
    if (!e) c->st.saves++;
    return e;
}

/* Returns LOCO_EIO or LOCO_EINVAL (reason in msg); c is unchanged then,
 * except theta and the outer state, which must not be used. */
int loco_coord_resume(loco_coord *c, const char *path, double *time_s, char *msg, size_t msglen) {
    loco__coord_state s = state_of(c);
    int e = loco__state_load(path, &s, msg, msglen);
    if (!e && c->c.async) e = loco__async_unpack(c, path, msg, msglen);
    if (e) return e;
    if (!c->c.async) {
        if ((e = loco__state_fits(&s, c->st.n_rounds, c->H, (long)c->c.run.steps, path, msg, msglen)) != LOCO_OK)
            return e;
        c->st.round = (long)s.round;
        c->st.inner_step = (long)s.inner_step;
        c->st.outer_steps = (long)s.outer_steps;
        c->st.missing_total = (long)s.missing;
    }
    loco__session_restore(&c->ss, &s, time_s);
    c->st.late_total = (long)s.late;
    c->st.train_loss = s.train_loss;
    c->st.resumed_round = c->c.async ? c->st.pushes : c->st.round;
    loco__coord_refresh(c);
    return LOCO_OK;
}

void loco_coord_finish(loco_coord *c, double linger) {
    loco__session_finish(&c->ss, linger);
    loco__coord_refresh(c);
}
