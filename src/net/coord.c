/*
 * The coordinator of synchronous DiLoCo over ZeroMQ (include/loco/net_engine.h).
 *
 * One thread, one ROUTER socket, an event loop.  Every message is checked by
 * src/net/link.c (size, frames, header, checksum, MAC) before this file sees
 * it, and then against the sender's session and sequence number.  The
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
#include "net/link.h"
#include "net/net_coord.h"
#include "net/state.h"
#include "net/wire.h"

/* A line about worker w on stderr, when verbose. */
void loco__coord_say(const loco_coord *c, long w, const char *what) {
    if (c->c.verbose) fprintf(stderr, "loco coordinator: worker %ld %s\n", w, what);
}

void loco_coord_free(loco_coord *c) {
    if (!c) return;
    for (int w = 0; c->slots && w < c->M; w++)
        if (c->slots[w].holding) zmq_msg_close(&c->slots[w].held);
    loco__link_close(&c->link);
    loco_gpt_free(c->model);
    free(c->block);
    free(c->sum);
    free(c->norms);
    free(c->wire);
    free(c->obuf);
    free(c->welcome);
    free(c->slots);
    loco__async_free(c);
    free(c);
}

/* Returns LOCO_EINVAL (reason in msg) for a configuration that cannot run. */
static int check_config(const loco_coord_config *c, char *msg, size_t msglen) {
    const loco_net_welcome *r = &c->run;
    const char *why = NULL;
    if (!c->listen || !*c->listen) why = "no endpoint to listen on";
    else if (r->workers < 1) why = "--workers must be at least 1";
    else if (r->inner_steps < 1) why = "--inner-steps must be at least 1";
    else if (r->steps < 1) why = "--steps must be at least 1";
    else if (r->batch < 1 || r->seq_len < 1) why = "--batch and --seq-len must be positive";
    else if (c->quorum < 1 || c->quorum > (int)r->workers) why = "--quorum must be in [1, --workers]";
    else if (!(c->round_timeout >= 0) || !(c->worker_timeout > 0)) why = "timeouts must be positive";
    else if (r->heartbeat_ms < 1) why = "--heartbeat must be positive";
    else if (!r->assign || r->n_assign < r->workers) why = "no data split";
    if (why) snprintf(msg, msglen, "%s", why);
    return why ? LOCO_EINVAL : LOCO_OK;
}

/* The fingerprint of the run a state file belongs to: the WELCOME payload
 * less the per-worker fields (worker id, nonce), and the outer optimizer. */
static uint64_t run_fingerprint(const loco_coord *c) {
    uint64_t h = loco_fnv1a64(LOCO_FNV1A_INIT, c->welcome + 4, 4);
    h = loco_fnv1a64(h, c->welcome + 8 + LOCO_NET_NONCE_BYTES, c->welcome_len - 8 - LOCO_NET_NONCE_BYTES);
    uint8_t o[20];
    const loco_outer_config *oc = &c->c.outer;
    loco__put32(o, (uint32_t)oc->kind);
    loco__putf(o + 4, oc->lr);
    loco__putf(o + 8, oc->momentum);
    loco__putf(o + 12, oc->beta2);
    loco__putf(o + 16, oc->eps);
    h = loco_fnv1a64(h, o, sizeof o);
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
    c->sum = malloc(c->P * sizeof(double));
    c->norms = malloc((size_t)c->M * (sizeof(double) + 1));
    c->keep = c->norms ? (unsigned char *)(c->norms + c->M) : NULL;
    c->wire = malloc(c->lay.msg_bytes);
    c->obuf = malloc(4 * state_n + 1);
    c->down_version = -1;
    c->welcome_len = loco_net_welcome_bytes(cfg->run.n_assign);
    c->welcome = c->welcome_len ? malloc(c->welcome_len) : NULL;
    if (!c->block || !c->sum || !c->norms || !c->wire || !c->welcome || !c->obuf) {
        e = LOCO_ENOMEM;
        snprintf(msg, msglen, "out of memory for the coordinator's buffers");
        goto fail;
    }
    c->ostate = c->block;
    c->state_n = state_n;
    c->dec = c->ostate + state_n;
    c->avg = c->dec + c->P;
    if (loco_net_encode_welcome(&cfg->run, c->welcome, c->welcome_len) != c->welcome_len) {
        e = LOCO_EINVAL;
        snprintf(msg, msglen, "cannot encode the run configuration");
        goto fail;
    }
    c->fingerprint = run_fingerprint(c);
    /* The largest message a worker may send is a PUSH of a full round; a
     * HELLO, HEARTBEAT or ERROR is far smaller. */
    size_t max_push = loco_net_push_bytes((uint32_t)c->H, c->lay.msg_bytes);
    e = loco__link_open(&c->link, 1, cfg->listen, &cfg->key, &cfg->security, max_push, msg, msglen);
    if (e) goto fail;
    c->link.self = LOCO_NET_COORDINATOR;
    if (loco_net_random(&c->link.run_id, sizeof c->link.run_id)) {
        e = LOCO_EIO;
        snprintf(msg, msglen, "no random numbers");
        goto fail;
    }
    c->link.run_id |= 1;   /* never 0, which HELLO uses */
    loco__link_endpoint(&c->link, c->endpoint, sizeof c->endpoint);
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

const char *loco_coord_endpoint(const loco_coord *c) { return c->endpoint; }
loco_gpt *loco_coord_model(loco_coord *c) { return c->model; }
const loco_coord_stats *loco_coord_get_stats(const loco_coord *c) { return &c->st; }

void loco__coord_refresh(loco_coord *c) {
    int alive = 0;
    for (int w = 0; w < c->M; w++) alive += c->slots[w].state == SLOT_ALIVE;
    c->st.alive = alive;
    c->st.rejected = c->link.rejected;
    c->st.bytes_in = c->link.bytes_in;
    c->st.bytes_out = c->link.bytes_out;
}

static void send_error(loco_coord *c, const uint8_t *ident, size_t ident_len, uint64_t session, int code,
                       const char *text) {
    uint8_t buf[8 + LOCO_NET_MAX_TEXT];
    size_t n = loco_net_encode_error((uint32_t)code, text, buf, sizeof buf);
    loco__link_send(&c->link, ident, ident_len, LOCO_NET_ERROR, session, buf, n, NULL, 0);
}

/* Sends theta (version outer_steps) and the current round's task to slot w;
 * marks it dead if it cannot take them. */
static void send_task(loco_coord *c, int w, const loco_net_sealer *s, zmq_msg_t *theta) {
    slot *sl = &c->slots[w];
    loco_net_task t = {(uint64_t)c->st.round, (uint64_t)c->st.outer_steps, (uint32_t)w, (uint32_t)c->h,
                       (uint64_t)c->first};
    uint8_t buf[LOCO_NET_TASK_BYTES];
    loco_net_encode_task(&t, buf, sizeof buf);
    int e = loco__coord_send_theta(c, w, s, theta);
    if (!e) e = loco__link_send(&c->link, sl->ident, sl->ident_len, LOCO_NET_TASK, sl->session, buf, sizeof buf,
                                NULL, 0);
    sl->tasked = e == LOCO_OK;
    if (e) {
        sl->state = SLOT_DEAD;
        c->st.deaths++;
        loco__coord_say(c, w, "cannot be reached; its shard is free");
    }
}

/* Admits a worker: returns the slot it gets, or -1 if the run is full. */
static int admit(loco_coord *c, const loco__msg *m, const loco_net_hello *hello) {
    int w = -1;
    /* The same connection asking again (its WELCOME was late, so it sent
     * another HELLO) keeps its slot, with a new session. */
    for (int i = 0; i < c->M && w < 0; i++)
        if (c->slots[i].state == SLOT_ALIVE && c->slots[i].ident_len == m->ident_len &&
            memcmp(c->slots[i].ident, m->ident, m->ident_len) == 0)
            w = i;
    if (w < 0 && hello->want_id < (uint32_t)c->M && c->slots[hello->want_id].state != SLOT_ALIVE)
        w = (int)hello->want_id;
    for (int i = 0; i < c->M && w < 0; i++)
        if (c->slots[i].state != SLOT_ALIVE) w = i;
    if (w < 0) return -1;
    slot *s = &c->slots[w];
    if (s->holding) zmq_msg_close(&s->held);
    loco__async_forget(c, w);
    memset(s, 0, sizeof *s);
    s->holds = -1;
    s->state = SLOT_ALIVE;
    memcpy(s->ident, m->ident, m->ident_len);
    s->ident_len = m->ident_len;
    loco_net_random(&s->session, sizeof s->session);
    s->session |= 1;
    s->last_seq = m->h.seq;
    s->last_heard = loco__now();
    loco__put32(c->welcome, (uint32_t)w);
    memcpy(c->welcome + 8, hello->nonce, LOCO_NET_NONCE_BYTES);
    if (loco__link_send(&c->link, s->ident, s->ident_len, LOCO_NET_WELCOME, s->session, c->welcome,
                        c->welcome_len, NULL, 0) != LOCO_OK) {
        s->state = SLOT_FREE;
        return -1;
    }
    c->st.joins++;
    loco__coord_say(c, w, "joined");
    return w;
}

static void on_hello(loco_coord *c, loco__msg *m) {
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
            snprintf(why, sizeof why, "pushed a pseudo-gradient of norm %.3g, outside the others' (--screen-k %g): "
                     "dropped", s->norm, (double)c->c.screen_k);
            loco__coord_say(c, w, why);
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
        loco__link_reject(&c->link, "malformed PUSH");
        return;
    }
    if (!c->in_round || p.round < (uint64_t)c->st.round) {
        c->st.late_total++;
        loco__coord_say(c, w, "pushed after its round closed: dropped");
        return;
    }
    if (p.round != (uint64_t)c->st.round || !s->tasked || s->pushed || p.shard != (uint32_t)w ||
        p.base_version != (uint64_t)c->st.outer_steps || p.n_losses != (uint32_t)c->h ||
        p.contrib_len != c->lay.msg_bytes) {
        loco__link_reject(&c->link, "PUSH that does not match the round's task");
        return;
    }
    /* Decoded now, for its norm (the screen at the round's close). */
    if (loco_diloco_decode(&c->lay, p.contrib, (size_t)p.contrib_len, c->dec) != LOCO_OK) {
        loco__link_reject(&c->link, "a contribution that does not decode");
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

/* Handles one authenticated message. */
static void handle(loco_coord *c, loco__msg *m) {
    if (m->h.type == LOCO_NET_HELLO) {
        on_hello(c, m);
        return;
    }
    const uint32_t w = m->h.sender;
    slot *s = w < (uint32_t)c->M ? &c->slots[w] : NULL;
    if (!s || s->state == SLOT_FREE || m->h.session != s->session || m->h.run_id != c->link.run_id) {
        loco__link_reject(&c->link, "message from an unknown session");
        /* It holds the secret: tell it to join again. */
        if (m->h.type != LOCO_NET_ERROR && m->h.type != LOCO_NET_BYE)
            send_error(c, m->ident, m->ident_len, m->h.session, -LOCO_EINVAL, "unknown session: join again");
        return;
    }
    if (m->h.seq <= s->last_seq) {
        loco__link_reject(&c->link, "replayed message (old sequence number)");
        return;
    }
    s->last_seq = m->h.seq;
    s->last_heard = loco__now();
    /* ZeroMQ gives a reconnected peer a new identity. */
    memcpy(s->ident, m->ident, m->ident_len);
    s->ident_len = m->ident_len;
    if (s->state == SLOT_DEAD) {
        s->state = SLOT_ALIVE;
        loco__coord_say(c, w, "is back");
    }
    switch (m->h.type) {
    case LOCO_NET_HEARTBEAT: {
        loco_net_heartbeat hb;
        if (loco_net_decode_heartbeat(m->data, m->n, &hb)) loco__link_reject(&c->link, "malformed HEARTBEAT");
        break;
    }
    case LOCO_NET_PUSH:
        if (c->c.async) loco__async_on_push(c, (int)w, m);
        else on_push(c, (int)w, m);
        break;
    case LOCO_NET_BYE:
    case LOCO_NET_ERROR: {
        loco_net_error er;
        if (m->h.type == LOCO_NET_ERROR && loco_net_decode_error(m->data, m->n, &er) == LOCO_OK)
            fprintf(stderr, "loco coordinator: worker %u: %s\n", w, er.text);
        s->state = SLOT_FREE;
        loco__coord_say(c, w, "left");
        break;
    }
    default:
        loco__link_reject_type(&c->link, "unexpected message type from a worker", m->h.type);
    }
}

/* Declares dead the workers silent for longer than worker_timeout, and
 * sends live ones a heartbeat every heartbeat interval. */
static void housekeeping(loco_coord *c) {
    double now = loco__now();
    for (int w = 0; w < c->M; w++) {
        slot *s = &c->slots[w];
        if (s->state == SLOT_ALIVE && now - s->last_heard > c->c.worker_timeout) {
            s->state = SLOT_DEAD;
            c->st.deaths++;
            loco__coord_say(c, w, "is silent: declared dead");
        }
    }
    if (now - c->last_beat >= c->c.run.heartbeat_ms / 1000.0) {
        c->last_beat = now;
        loco_net_heartbeat hb = {(uint64_t)c->st.round, (uint64_t)c->st.inner_step};
        uint8_t buf[LOCO_NET_HEARTBEAT_BYTES];
        loco_net_encode_heartbeat(&hb, buf, sizeof buf);
        for (int w = 0; w < c->M; w++) {
            slot *s = &c->slots[w];
            if (s->state == SLOT_ALIVE)
                loco__link_send(&c->link, s->ident, s->ident_len, LOCO_NET_HEARTBEAT, s->session, buf, sizeof buf,
                                NULL, 0);
        }
    }
    loco__coord_refresh(c);
}

/* Waits up to timeout_ms for one message and handles it.  Returns LOCO_EIO
 * if the socket fails. */
int loco__coord_serve(loco_coord *c, int timeout_ms) {
    loco__msg m;
    int e = loco__link_recv(&c->link, timeout_ms, &m);
    if (e == LOCO_OK) {
        handle(c, &m);
        loco__msg_close(&m);
    }
    housekeeping(c);
    return e == LOCO_EIO ? LOCO_EIO : LOCO_OK;
}

/* Returns LOCO_ERANGE on the timeout, LOCO_EIO. */
int loco_coord_wait_workers(loco_coord *c, int min_workers, double timeout, char *msg, size_t msglen) {
    const double t0 = loco__now();
    for (;;) {
        loco__coord_refresh(c);
        if (c->st.alive >= min_workers) return LOCO_OK;
        if (timeout > 0 && loco__now() - t0 > timeout) {
            snprintf(msg, msglen, "%d of %d workers joined in %g s", c->st.alive, min_workers, timeout);
            return LOCO_ERANGE;
        }
        if (loco__coord_serve(c, 200)) {
            snprintf(msg, msglen, "the socket failed: %s", zmq_strerror(zmq_errno()));
            return LOCO_EIO;
        }
    }
}

/* Sends theta and the round's task to every live worker. */
static int start_round(loco_coord *c, char *msg, size_t msglen) {
    zmq_msg_t theta;
    size_t n = loco_net_theta_bytes(c->P);
    if (zmq_msg_init_size(&theta, n)) {
        snprintf(msg, msglen, "out of memory for theta's message");
        return LOCO_ENOMEM;
    }
    uint8_t *d = zmq_msg_data(&theta);
    loco_net_encode_theta_head((uint64_t)c->st.outer_steps, c->P, d, LOCO_NET_THETA_FIXED);
    loco_codec_encode(LOCO_CODEC_FP32, 1.0f, c->theta, 1, c->P, d + LOCO_NET_THETA_FIXED, NULL);
    loco_net_sealer s;
    int e = loco_net_seal_begin(&s, &c->link.key, d, n);
    c->st.tasked = 0;
    for (int w = 0; w < c->M && !e; w++) {
        slot *sl = &c->slots[w];
        if (sl->holding) zmq_msg_close(&sl->held);
        sl->holding = sl->pushed = sl->tasked = 0;
        if (sl->state == SLOT_ALIVE) send_task(c, w, &s, &theta);
        c->st.tasked += sl->tasked;
    }
    zmq_msg_close(&theta);
    if (e) snprintf(msg, msglen, "libsodium cannot start");
    return e;
}

/* Returns LOCO_ERANGE (run over), LOCO_ENONFINITE, LOCO_EIO, LOCO_ENOMEM. */
int loco_coord_round(loco_coord *c, char *msg, size_t msglen) {
    if (c->st.round >= c->st.n_rounds) {
        snprintf(msg, msglen, "the run is over (%ld rounds)", c->st.n_rounds);
        return LOCO_ERANGE;
    }
    const double t0 = loco__now();
    c->h = loco_round_steps((long)c->c.run.steps, c->H, c->st.round, &c->first);
    memset(c->sum, 0, c->P * sizeof(double));
    c->loss_sum = 0;
    c->st.received = 0;
    c->next_acc = c->reduced = 0;
    c->in_round = 1;
    for (int w = 0; w < c->M; w++) c->slots[w].tasked = c->slots[w].pushed = 0;
    int e = LOCO_OK;
    double deadline = 0;
    /* (Re)start the round whenever nobody is working on it: at first, and
     * if every worker it was sent to died before pushing. */
    for (;;) {
        int working = 0;
        for (int w = 0; w < c->M; w++)
            working += c->slots[w].tasked && c->slots[w].state == SLOT_ALIVE && !c->slots[w].pushed;
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
        if (loco__coord_serve(c, wait) != LOCO_OK) {
            snprintf(msg, msglen, "the socket failed: %s", zmq_strerror(zmq_errno()));
            e = LOCO_EIO;
            break;
        }
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
            snprintf(msg, msglen, "round %ld: the outer step would make the parameters non-finite; "
                     "try a lower --outer-lr", c->st.round);
            return LOCO_ENONFINITE;
        }
        c->st.outer_steps++;
        /* c->wire now holds the download that leads from the last version
         * to this one (lossy codecs). */
        c->down_version = loco_diloco_dense(&c->lay) ? -1 : c->st.outer_steps;
        c->st.train_loss = (float)(c->loss_sum / ((double)c->reduced * c->h));
    }
    c->st.round++;
    c->st.inner_step += c->h;
    c->st.round_seconds = loco__now() - t0;
    loco__coord_refresh(c);
    return LOCO_OK;
}

/* The state file's view of c (theta and the outer state borrowed). */
static loco__coord_state state_of(loco_coord *c) {
    loco__coord_state s = {c->fingerprint, c->P, c->state_n, c->st.round, c->st.inner_step, c->st.outer_steps,
                           c->st.joins, c->st.deaths, c->st.missing_total, c->st.late_total, c->link.rejected,
                           c->link.bytes_in, c->link.bytes_out, 0, c->st.train_loss, c->theta, c->ostate, 0, NULL};
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
        if (s.round > c->st.n_rounds ||
            s.inner_step != (s.round < c->st.n_rounds ? s.round * c->H : c->c.run.steps)) {
            snprintf(msg, msglen, "%s: round %lld does not fit this run of %ld rounds", path, (long long)s.round,
                     c->st.n_rounds);
            return LOCO_EINVAL;
        }
        c->st.round = (long)s.round;
        c->st.inner_step = (long)s.inner_step;
        c->st.outer_steps = (long)s.outer_steps;
        c->st.missing_total = (long)s.missing;
    }
    c->st.joins = (long)s.joins;
    c->st.deaths = (long)s.deaths;
    c->st.late_total = (long)s.late;
    c->st.train_loss = s.train_loss;
    c->link.rejected = (long)s.rejected;
    c->link.bytes_in = s.bytes_in;
    c->link.bytes_out = s.bytes_out;
    c->st.resumed_round = c->c.async ? c->st.pushes : c->st.round;
    if (time_s) *time_s = s.time_s;
    loco__coord_refresh(c);
    return LOCO_OK;
}

void loco_coord_finish(loco_coord *c, double linger) {
    for (int w = 0; w < c->M; w++) {
        slot *s = &c->slots[w];
        if (s->state == SLOT_ALIVE)
            loco__link_send(&c->link, s->ident, s->ident_len, LOCO_NET_BYE, s->session, NULL, 0, NULL, 0);
    }
    int ms = (int)(linger * 1000);
    zmq_setsockopt(c->link.sock, ZMQ_LINGER, &ms, sizeof ms);
    loco__coord_refresh(c);
}
