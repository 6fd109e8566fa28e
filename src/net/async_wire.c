/*
 * Asynchronous DiLoCo over the wire: the coordinator's side
 * (loco_coord_async_next in include/loco/net_engine.h).
 *
 * It is the discrete-event simulator (src/sim/async_sim.c) with real time
 * in place of simulated time: the same task queue (least-visited shard,
 * each shard's own data stream and schedule step), the same pure server
 * rules and staleness weights (src/algo/async_rules.c), and Dynamic Local
 * Updates from speeds measured on the wall clock.  The joins, heartbeats,
 * deaths and message checks are the session layer's (src/net/session.c);
 * this file only decides what to send and applies what arrives, and
 * src/net/coord.c calls it, never the other way.  A worker's pushes are applied in arrival order, so with one
 * worker the order is the simulator's and the run is the simulator's bit
 * for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/sim.h"
#include "loco/split.h"
#include "net/net_coord.h"
#include "net/state.h"
#include "net/wire.h"

void loco__async_free(loco_coord *c) {
    free(c->ablock);
    free(c->shard_rng);
    free(c->visits);
    free(c->shard_steps);
    free(c->aspeed);
    free(c->alive);
    free(c->atok);
    free(c->atgt);
    free(c->aextra);
}

/* Returns LOCO_EINVAL or LOCO_ENOMEM with a reason in msg. */
int loco__async_create(loco_coord *c, char *msg, size_t msglen) {
    const loco_coord_config *cf = &c->c;
    int e = loco_async_config_check(&cf->rule, msg, msglen);
    if (e) return e;
    const char *why = NULL;
    if (!cf->split) why = "no data split";
    else if (loco_split_workers(cf->split) != c->M) why = "the split must have one shard per worker";
    else if (cf->rule.rule == LOCO_ASYNC_SYNC) why = "the sync rule is synchronous DiLoCo over the network";
    else if (cf->pushes < 1) why = "the run needs at least one push";
    else if (cf->dylu && cf->dylu_min < 1) why = "DyLU's minimum inner steps must be at least 1";
    if (why) {
        snprintf(msg, msglen, "%s", why);
        return LOCO_EINVAL;
    }
    const int K = c->M;
    const size_t BT = (size_t)cf->run.batch * cf->run.seq_len;
    c->ablock = calloc(loco_async_state_floats(c->P) + c->P, sizeof(float));
    c->shard_rng = calloc((size_t)K, sizeof *c->shard_rng);
    c->visits = calloc((size_t)K, sizeof *c->visits);
    c->shard_steps = calloc((size_t)K, sizeof *c->shard_steps);
    c->aspeed = calloc((size_t)c->M, sizeof *c->aspeed);
    c->alive = calloc((size_t)c->M, 1);
    c->atok = malloc(BT * sizeof(int));
    c->atgt = malloc(BT * sizeof(int));
    c->aextra = calloc(ASYNC_EXTRA_FIXED + ASYNC_EXTRA_PER_SHARD * (size_t)K, sizeof(uint64_t));
    if (!c->ablock || !c->shard_rng || !c->visits || !c->shard_steps || !c->aspeed || !c->alive || !c->atok ||
        !c->atgt || !c->aextra) {
        snprintf(msg, msglen, "out of memory for the asynchronous engine");
        return LOCO_ENOMEM;
    }
    loco_async_state_init(&c->ast, c->ablock, c->P);
    c->g = c->ablock + loco_async_state_floats(c->P);
    /* The simulator's streams (src/algo/schedule.c). */
    for (int k = 0; k < K; k++) loco_rng_seed(&c->shard_rng[k], loco_stream_seed(cf->run.seed, k));
    c->st.last_worker = -1;
    c->st.last_assigned = -1;
    return LOCO_OK;
}

int loco_coord_async_done(const loco_coord *c) { return c->st.pushes >= c->c.pushes; }

/* The task of slot w is given back to the queue (the worker died or its
 * slot goes to a newcomer); its push is still applied if it comes. */
static void give_up_task(loco_coord *c, int w) {
    slot *s = &c->slots[w];
    if (!s->in_flight || s->lost) return;
    s->lost = 1;
    c->started--;
    c->st.tasks_lost++;
}

void loco__async_forget(loco_coord *c, int w, int say) {
    const slot *s = &c->slots[w];
    if (!c->c.async || !s->in_flight || s->lost) return;
    give_up_task(c, w);
    if (say) loco__session_say(&c->ss, w, "died with a task in flight: the task goes back to the queue");
}

/* Sends the current theta (already in msg theta, sealed by s) and the next
 * task to slot w, and advances the task's shard past it. */
static void send_atask(loco_coord *c, int w, const loco_net_sealer *sealer, zmq_msg_t *theta) {
    slot *sl = &c->slots[w];
    /* The simulator's task rule (src/algo/schedule.c), over the live slots;
     * the shard's visits and schedule step are taken back below if the task
     * cannot be sent. */
    for (int i = 0; i < c->M; i++) {
        c->aspeed[i] = c->slots[i].speed;
        c->alive[i] = (unsigned char)loco__coord_alive(c, i);
    }
    loco_async_queue q = {c->M, c->visits, c->shard_steps, c->M, c->aspeed, c->alive, c->H, c->c.dylu,
                          c->c.dylu_min};
    loco_async_task task;
    if (loco_async_task_take(&q, w, &task) != LOCO_OK) return;   /* M >= 1 and w < M: cannot happen */
    const int shard = task.shard, H = task.steps;
    loco_net_atask t = {c->next_task, (uint64_t)c->ast.updates, (uint32_t)shard, (uint32_t)H,
                        (uint64_t)task.first_step, c->shard_rng[shard]};
    uint8_t buf[LOCO_NET_ATASK_BYTES];
    loco_net_encode_atask(&t, buf, sizeof buf);
    int e = loco__session_send_sealed(&c->ss, w, LOCO_NET_THETA, sealer, theta);
    if (!e) e = loco__session_send(&c->ss, w, LOCO_NET_ATASK, buf, sizeof buf, NULL, 0);
    if (e) {
        c->visits[shard]--;
        c->shard_steps[shard] -= H;
        loco__session_drop(&c->ss, w, "cannot be reached; its shard is free");
        return;
    }
    /* The worker draws exactly these batches from the stream; the next
     * task on this shard continues after them, as in the simulator. */
    for (int i = 0; i < H; i++)
        loco_worker_batch(c->c.split, shard, &c->shard_rng[shard], c->c.run.batch, c->c.run.seq_len, c->atok,
                          c->atgt);
    sl->in_flight = 1;
    sl->lost = 0;
    sl->task = c->next_task++;
    sl->version = (uint64_t)c->ast.updates;
    sl->shard = shard;
    sl->steps = H;
    sl->sent_at = loco__now();
    sl->assigned = H;
    sl->vmax = task.vmax;
    c->started++;
}

/* Gives every live worker without a task a new one while tasks remain.
 * Returns LOCO_ENOMEM or LOCO_EIO (reason in msg). */
static int assign(loco_coord *c, char *msg, size_t msglen) {
    int idle = 0;
    for (int w = 0; w < c->M; w++) idle += loco__coord_alive(c, w) && !c->slots[w].in_flight;
    if (!idle || c->started >= c->c.pushes || loco_coord_async_done(c)) return LOCO_OK;
    zmq_msg_t theta;
    loco_net_sealer s;
    int e = loco__coord_theta(c, (uint64_t)c->ast.updates, &theta, &s, msg, msglen);
    if (e) return e;
    for (int w = 0; w < c->M && c->started < c->c.pushes; w++)
        if (loco__coord_alive(c, w) && !c->slots[w].in_flight) send_atask(c, w, &s, &theta);
    zmq_msg_close(&theta);
    return LOCO_OK;
}

void loco__async_on_push(loco_coord *c, int w, loco__msg *m) {
    slot *s = &c->slots[w];
    loco_net_push p;
    if (loco_net_decode_push(m->data, m->n, &p) != LOCO_OK) {
        loco__link_reject(&c->ss.link, "malformed PUSH");
        return;
    }
    if (!s->in_flight || loco_coord_async_done(c)) {
        c->st.late_total++;
        loco__session_say(&c->ss, w, "pushed a task that is no longer wanted: dropped");
        return;
    }
    const size_t P = c->P;
    if (p.round != s->task || p.base_version != s->version || p.shard != (uint32_t)s->shard ||
        p.n_losses != (uint32_t)s->steps || p.contrib_len != (uint64_t)c->lay.msg_bytes ||
        (loco_diloco_dense(&c->lay)
             ? loco_codec_decode(LOCO_CODEC_FP32, 1.0f, p.contrib, (size_t)p.contrib_len, 1, P, c->g)
             : loco_diloco_decode(&c->lay, p.contrib, (size_t)p.contrib_len, c->g)) != LOCO_OK) {
        loco__link_reject(&c->ss.link, "PUSH that does not match the worker's task");
        return;
    }
    for (size_t j = 0; j < P; j++)
        if (!isfinite(c->g[j])) {
            loco__link_reject(&c->ss.link, "PUSH with a pseudo-gradient that is not finite");
            return;
        }
    /* Staleness: the server updates since the task's theta, exactly the
     * simulator's s->st.updates - s->fetched_at[w]. */
    const long stale = c->ast.updates - (long)s->version;
    const float weight = loco_async_stale_weight(&c->c.rule, stale);
    if (weight != 1.0f)
        for (size_t j = 0; j < P; j++) c->g[j] *= weight;
    /* The norm screen (src/optim/screen.c), as the simulator applies it. */
    unsigned char keep;
    const double norm = loco_outer_norm(c->g, NULL, P);
    const double tn = c->recent.n < 3 ? loco_outer_norm(c->theta, NULL, P) : 0;
    c->st.screened = loco_outer_screen(&norm, 1, c->c.screen_k, tn, &c->recent, &keep);
    c->st.screened_total += c->st.screened;
    if (keep) {
        loco_async_push(&c->c.rule, &c->ast, c->theta, c->g, P);
    } else {
        loco_async_push_dropped(&c->c.rule, &c->ast, c->theta, c->g, P);
        char why[160];
        snprintf(why, sizeof why, "pushed a pseudo-gradient of norm %.3g, outside the recent ones (screen k %g): "
                 "dropped", norm, (double)c->c.screen_k);
        loco__session_say(&c->ss, w, why);
    }
    double secs = loco__now() - s->sent_at;
    s->speed = secs > 0 ? s->steps / secs : 0;
    double loss = 0;
    for (uint32_t i = 0; i < p.n_losses; i++) loss += (double)loco__getf(p.losses + 4 * (size_t)i);
    if (s->lost) {
        /* It was given up when the worker died; it counts after all. */
        s->lost = 0;
        c->st.tasks_lost--;
        c->started++;
    }
    s->in_flight = 0;
    c->st.pushes++;
    c->st.version = c->ast.updates;
    c->st.outer_steps = c->ast.updates;
    c->st.last_worker = w;
    c->st.last_staleness = stale;
    c->st.last_steps = s->steps;
    c->st.train_loss = (float)(loss / p.n_losses);
    c->st.max_staleness = stale > c->st.max_staleness ? stale : c->st.max_staleness;
    c->stale_sum += stale;
    c->st.mean_staleness = c->stale_sum / c->st.pushes;
    c->st.async_inner_steps += s->steps;
    c->applied = 1;
    if (stale > 0 && c->c.verbose) {
        char line[96];
        snprintf(line, sizeof line, "pushed a task %ld updates old (staleness %ld)", stale, stale);
        loco__session_say(&c->ss, w, line);
    }
}

/* Returns LOCO_ERANGE when the run is over, LOCO_EIO, LOCO_ENOMEM. */
int loco_coord_async_next(loco_coord *c, char *msg, size_t msglen) {
    if (loco_coord_async_done(c)) {
        snprintf(msg, msglen, "the run is over (%ld pushes)", c->c.pushes);
        return LOCO_ERANGE;
    }
    c->applied = 0;
    for (;;) {
        int e = assign(c, msg, msglen);
        if (e) return e;
        if (c->applied) {
            const slot *s = &c->slots[c->st.last_worker];
            c->st.last_assigned = s->in_flight && !s->lost ? s->assigned : -1;
            c->st.last_speed = s->speed;
            c->st.speed_max = s->in_flight && !s->lost ? s->vmax : 0;
            loco__coord_refresh(c);
            return LOCO_OK;
        }
        if ((e = loco__session_serve(&c->ss, 200, msg, msglen)) != LOCO_OK) return e;
    }
}

/* ---------------------------------------------------------------- state */
/*
 * What a restarted coordinator needs to go on with an asynchronous run, as
 * the state file's extras (src/net/state.h), after theta and the rule's
 * state (m, buf): the rule's counters, the run's totals, and every shard's
 * data stream, visits and schedule step.  Tasks in flight when the state
 * was written are not in it: after a restart they are lost, as if their
 * workers had died (their batches are skipped, their shards' visits keep
 * them), and the workers that held them are given new tasks from the saved
 * theta.  So every push counted in the state is applied exactly once, and
 * no push from before the restart can be applied after it (its session is
 * gone).  Workers keep their AdamW state across the restart, so a resumed
 * run is a valid run of the same configuration but not the uninterrupted
 * run bit for bit.
 */
static uint64_t dbits(double x) {
    uint64_t u;
    memcpy(&u, &x, 8);
    return u;
}

static double bitsd(uint64_t u) {
    double x;
    memcpy(&x, &u, 8);
    return x;
}

uint32_t loco__async_extra_n(const loco_coord *c) {
    return (uint32_t)(ASYNC_EXTRA_FIXED + ASYNC_EXTRA_PER_SHARD * (size_t)c->M);
}

void loco__async_pack(loco_coord *c) {
    uint64_t *x = c->aextra;
    const loco_coord_stats *st = &c->st;
    const uint64_t fixed[ASYNC_EXTRA_FIXED] = {
        (uint64_t)c->ast.arrivals, (uint64_t)c->ast.pending, (uint64_t)c->ast.updates, (uint64_t)st->pushes,
        (uint64_t)st->async_inner_steps, (uint64_t)st->tasks_lost, c->next_task, dbits(c->stale_sum),
        dbits(st->max_staleness)};
    memcpy(x, fixed, sizeof fixed);
    for (int k = 0; k < c->M; k++) {
        uint64_t *y = x + ASYNC_EXTRA_FIXED + ASYNC_EXTRA_PER_SHARD * (size_t)k;
        y[0] = (uint64_t)c->visits[k];
        y[1] = (uint64_t)c->shard_steps[k];
        memcpy(y + 2, c->shard_rng[k].s, sizeof c->shard_rng[k].s);
    }
}

int loco__async_unpack(loco_coord *c, const char *path, char *msg, size_t msglen) {
    const uint64_t *x = c->aextra;
    const int64_t arrivals = (int64_t)x[0], pending = (int64_t)x[1], updates = (int64_t)x[2],
                  pushes = (int64_t)x[3], inner = (int64_t)x[4], lost = (int64_t)x[5];
    const double stale_sum = bitsd(x[7]), stale_max = bitsd(x[8]);
    int bad = arrivals != pushes || pushes < 0 || pushes > c->c.pushes || updates < 0 || updates > pushes ||
              pending < 0 || pending >= c->c.rule.period || inner < pushes || lost < 0 || x[6] < (uint64_t)pushes ||
              !(stale_sum >= 0) || !(stale_max >= 0) || !isfinite(stale_sum) || !isfinite(stale_max);
    int64_t visits = 0;
    for (int k = 0; k < c->M && !bad; k++) {
        const uint64_t *y = x + ASYNC_EXTRA_FIXED + ASYNC_EXTRA_PER_SHARD * (size_t)k;
        bad = (int64_t)y[0] < 0 || (int64_t)y[1] < 0 || !(y[2] | y[3] | y[4] | y[5]);
        visits += (int64_t)y[0];
    }
    if (bad || visits < pushes + lost) {
        snprintf(msg, msglen, "%s: the asynchronous engine's counters are out of range for this run", path);
        return LOCO_EINVAL;
    }
    c->ast.arrivals = (long)arrivals;
    c->ast.pending = (int)pending;
    c->ast.updates = (long)updates;
    c->st.pushes = (long)pushes;
    c->st.version = c->st.outer_steps = (long)updates;
    c->st.async_inner_steps = (long)inner;
    /* Every task sent and not applied is lost now, those in flight at the
     * save included. */
    c->st.tasks_lost = (long)(visits - pushes);
    c->next_task = x[6];
    c->stale_sum = stale_sum;
    c->st.max_staleness = stale_max;
    c->st.mean_staleness = pushes ? stale_sum / (double)pushes : 0;
    /* Nothing is in flight after a restart: the tasks sent are the pushes. */
    c->started = (long)pushes;
    for (int k = 0; k < c->M; k++) {
        const uint64_t *y = x + ASYNC_EXTRA_FIXED + ASYNC_EXTRA_PER_SHARD * (size_t)k;
        c->visits[k] = (long)y[0];
        c->shard_steps[k] = (long)y[1];
        memcpy(c->shard_rng[k].s, y + 2, sizeof c->shard_rng[k].s);
    }
    return LOCO_OK;
}
