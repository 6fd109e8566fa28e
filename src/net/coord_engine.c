/*
 * The network coordinators as engines (include/loco/engine.h): DiLoCo's
 * (synchronous rounds or asynchronous pushes) and DiPaCo's.  Thin adapters
 * over the public entry points of net_engine.h: a step waits for the first
 * workers once, then takes a round or a push; the log lines keep the keys
 * and the order the commands have always written.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "loco/dipaco.h"
#include "loco/engine.h"
#include "loco/net_engine.h"

/* Seconds a finished coordinator keeps answering, so that the workers
 * hear that the run is over. */
#define LINGER_S 2.0

/* dir/file into buf. */
static const char *state_path(char *buf, size_t n, const char *dir, const char *file) {
    snprintf(buf, n, "%s/%s", dir, file);
    return buf;
}

/* ------------------------------------------------------------ DiLoCo */

typedef struct {
    loco_engine base;
    loco_coord *c;
    int workers;               /* M */
    long pushes;               /* the asynchronous run's pushes */
    int min_workers;
    double join_timeout;
    int waited;                /* 1 once the first workers have joined */
} coord_engine;

/* The first step waits for the workers the run starts with. */
static int coord_wait(coord_engine *k, char *msg, size_t msglen) {
    if (k->waited) return LOCO_OK;
    k->waited = 1;
    return loco_coord_wait_workers(k->c, k->min_workers, k->join_timeout, msg, msglen);
}

static int sync_step(loco_engine *e, char *msg, size_t msglen) {
    coord_engine *k = (coord_engine *)e;
    int r = coord_wait(k, msg, msglen);
    return r ? r : loco_coord_round(k->c, msg, msglen);
}

static int sync_done(const loco_engine *e) {
    const loco_coord_stats *st = loco_coord_get_stats(((const coord_engine *)e)->c);
    return st->round >= st->n_rounds;
}

static int async_step(loco_engine *e, char *msg, size_t msglen) {
    coord_engine *k = (coord_engine *)e;
    int r = coord_wait(k, msg, msglen);
    return r ? r : loco_coord_async_next(k->c, msg, msglen);
}

static int async_done(const loco_engine *e) { return loco_coord_async_done(((const coord_engine *)e)->c); }

static loco_gpt *coord_model(loco_engine *e) { return loco_coord_model(((coord_engine *)e)->c); }

static void sync_metrics(const loco_engine *e, double time_s, loco_engine_metrics *m) {
    static const char *const keys[] = {"loss", "ppl", "bytes", "bytes_in", "bytes_out", "time_s", "round", "alive",
                                       "tasked", "received", "missing", "late", "rejected", "deaths", "round_s",
                                       "joins", "saves", "resumed_round", "down_full", "down_delta", "screened"};
    const loco_coord_stats *st = loco_coord_get_stats(((const coord_engine *)e)->c);
    *m = (loco_engine_metrics){.unit = "round", .event = st->round, .n_events = st->n_rounds,
                               .step = st->inner_step, .inner_steps = st->inner_step, .active = st->received,
                               .train_loss = st->train_loss, .screened = st->screened, .worker = -1, .n = 21,
                               .keys = keys};
    const double v[] = {st->train_loss, exp(st->train_loss), st->bytes_in + st->bytes_out, st->bytes_in,
                        st->bytes_out, time_s, st->round, st->alive, st->tasked, st->received, st->missing_total,
                        st->late_total, st->rejected, st->deaths, st->round_seconds, st->joins, st->saves,
                        st->resumed_round, st->downloads_full, st->downloads_delta, st->screened_total};
    for (int i = 0; i < m->n; i++) m->values[i] = v[i];
}

/* "rounds" are the pushes over M, as the simulator's log has them. */
static void async_metrics(const loco_engine *e, double time_s, loco_engine_metrics *m) {
    static const char *const keys[] = {"loss", "ppl", "rounds", "pushes", "version", "staleness",
                                       "staleness_mean", "staleness_max", "worker", "inner_steps", "assigned",
                                       "speed", "speed_max", "alive", "bytes", "bytes_in", "bytes_out", "deaths",
                                       "lost", "late", "rejected", "time_s", "screened"};
    const coord_engine *k = (const coord_engine *)e;
    const loco_coord_stats *st = loco_coord_get_stats(k->c);
    *m = (loco_engine_metrics){.unit = "push", .event = st->pushes, .n_events = k->pushes, .step = st->pushes,
                               .inner_steps = st->async_inner_steps, .active = 1, .train_loss = st->train_loss,
                               .screened = st->screened, .worker = st->last_worker, .n = 23, .keys = keys};
    const double v[] = {st->train_loss, exp(st->train_loss), (double)st->pushes / k->workers, st->pushes,
                        st->version, st->last_staleness, st->mean_staleness, st->max_staleness, st->last_worker,
                        st->last_steps, st->last_assigned, st->last_speed, st->speed_max, st->alive,
                        st->bytes_in + st->bytes_out, st->bytes_in, st->bytes_out, st->deaths, st->tasks_lost,
                        st->late_total, st->rejected, time_s, st->screened_total};
    for (int i = 0; i < m->n; i++) m->values[i] = v[i];
}

static int coord_save(loco_engine *e, const char *dir, double time_s, char *msg, size_t msglen) {
    char path[4200];
    return loco_coord_save(((coord_engine *)e)->c, state_path(path, sizeof path, dir, e->type->state_file), time_s,
                           msg, msglen);
}

static int coord_resume(loco_engine *e, const char *dir, double *time_s, char *msg, size_t msglen) {
    char path[4200];
    return loco_coord_resume(((coord_engine *)e)->c, state_path(path, sizeof path, dir, e->type->state_file),
                             time_s, msg, msglen);
}

static void coord_finish(loco_engine *e) { loco_coord_finish(((coord_engine *)e)->c, LINGER_S); }

static void adapter_free(loco_engine *e) { free(e); }

static const loco_engine_type sync_type = {
    .state_file = "coord.state", .step = sync_step, .done = sync_done, .model = coord_model,
    .metrics = sync_metrics, .save = coord_save, .resume = coord_resume, .finish = coord_finish,
    .free = adapter_free,
};

static const loco_engine_type async_type = {
    .state_file = "coord.state", .step = async_step, .done = async_done, .model = coord_model,
    .metrics = async_metrics, .save = coord_save, .resume = coord_resume, .finish = coord_finish,
    .free = adapter_free,
};

int loco_coord_engine(loco_engine **out, loco_coord *c, const loco_coord_config *cfg, int min_workers,
                      double join_timeout) {
    coord_engine *k = calloc(1, sizeof *k);
    if (!k) return LOCO_ENOMEM;
    k->base = cfg->async ? (loco_engine){&async_type} : (loco_engine){&sync_type};
    k->c = c;
    k->workers = (int)cfg->run.workers;
    k->pushes = cfg->pushes;
    k->min_workers = min_workers;
    k->join_timeout = join_timeout;
    *out = &k->base;
    return LOCO_OK;
}

/* ------------------------------------------------------------ DiPaCo */

typedef struct {
    loco_engine base;
    loco_dpc *c;
    int min_workers;
    double join_timeout;
    int waited;
    const char *tokenizer, *router;
} dpc_engine;

static int dpc_step(loco_engine *e, char *msg, size_t msglen) {
    dpc_engine *k = (dpc_engine *)e;
    if (!k->waited) {
        k->waited = 1;
        int r = k->min_workers ? loco_dpc_wait_workers(k->c, k->min_workers, k->join_timeout, msg, msglen) : 0;
        if (r) return r;
    }
    return loco_dpc_round(k->c, msg, msglen);
}

static int dpc_done(const loco_engine *e) {
    const loco_dpc_stats *st = loco_dpc_get_stats(((const dpc_engine *)e)->c);
    return st->round >= st->n_rounds;
}

static void dpc_metrics(const loco_engine *e, double time_s, loco_engine_metrics *m) {
    static const char *const keys[] = {"loss", "ppl", "round", "tasks_done", "leased", "leases", "requeued",
                                       "expired", "late_accepted", "duplicates", "stale", "alive", "joins",
                                       "deaths", "rejected", "bytes", "bytes_in", "bytes_out", "round_s", "time_s",
                                       "saves", "resumed_round"};
    const dpc_engine *k = (const dpc_engine *)e;
    const loco_dpc_stats *st = loco_dpc_get_stats(k->c);
    *m = (loco_engine_metrics){.unit = "round", .event = st->round, .n_events = st->n_rounds,
                               .step = st->inner_step, .inner_steps = st->inner_step,
                               .active = loco_dpc_layout(k->c)->n_paths, .train_loss = st->train_loss, .worker = -1,
                               .n = 22, .keys = keys};
    const double v[] = {st->train_loss, exp(st->train_loss), st->round, st->tasks_done, st->leased, st->leases,
                        st->requeued, st->expired, st->late_accepted, st->duplicates, st->stale, st->alive,
                        st->joins, st->deaths, st->rejected, st->bytes_in + st->bytes_out, st->bytes_in,
                        st->bytes_out, st->round_seconds, time_s, st->saves, st->resumed_round};
    for (int i = 0; i < m->n; i++) m->values[i] = v[i];
}

static int dpc_result(loco_engine *e, const char *dir, char *msg, size_t msglen) {
    dpc_engine *k = (dpc_engine *)e;
    return loco_dipaco_save(dir, loco_dpc_layout(k->c), loco_dpc_modules(k->c), k->tokenizer, k->router, msg,
                            msglen);
}

/* The module files first, then the state that says which round they hold:
 * a crash between the two redoes the round. */
static int dpc_save(loco_engine *e, const char *dir, double time_s, char *msg, size_t msglen) {
    char path[4200];
    int r = dpc_result(e, dir, msg, msglen);
    return r ? r : loco_dpc_save(((dpc_engine *)e)->c, state_path(path, sizeof path, dir, e->type->state_file),
                                 time_s, msg, msglen);
}

static int dpc_resume(loco_engine *e, const char *dir, double *time_s, char *msg, size_t msglen) {
    char path[4200];
    return loco_dpc_resume(((dpc_engine *)e)->c, state_path(path, sizeof path, dir, e->type->state_file), time_s,
                           msg, msglen);
}

static void dpc_finish(loco_engine *e) { loco_dpc_finish(((dpc_engine *)e)->c, LINGER_S); }

static const loco_engine_type dpc_type = {
    .state_file = "dipaco_coord.state", .step = dpc_step, .done = dpc_done, .metrics = dpc_metrics,
    .save = dpc_save, .resume = dpc_resume, .result = dpc_result, .finish = dpc_finish, .free = adapter_free,
};

int loco_dpc_engine(loco_engine **out, loco_dpc *c, int min_workers, double join_timeout, const char *tokenizer,
                    const char *router) {
    dpc_engine *k = calloc(1, sizeof *k);
    if (!k) return LOCO_ENOMEM;
    k->base = (loco_engine){&dpc_type};
    k->c = c;
    k->min_workers = min_workers;
    k->join_timeout = join_timeout;
    k->tokenizer = tokenizer ? tokenizer : "";
    k->router = router ? router : "";
    *out = &k->base;
    return LOCO_OK;
}
