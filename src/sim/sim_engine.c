/*
 * The three simulators as engines (include/loco/engine.h): thin adapters
 * that step the simulator and turn its statistics into the log line each
 * has always written (the keys and their order are the metrics.jsonl that
 * tools and tests read).
 */
#include <math.h>
#include <stdlib.h>
#include "loco/async_sim.h"
#include "loco/dipaco.h"
#include "loco/engine.h"
#include "loco/sim.h"

/* ------------------------------------------------ synchronous DDP / DiLoCo */

typedef struct {
    loco_engine base;
    loco_sim *s;
} sim_engine;

static int sim_step(loco_engine *e, char *msg, size_t msglen) {
    return loco_sim_round(((sim_engine *)e)->s, msg, msglen);
}

static int sim_done(const loco_engine *e) {
    const loco_sim_stats *st = loco_sim_get_stats(((const sim_engine *)e)->s);
    return st->round >= st->n_rounds;
}

static loco_gpt *sim_model(loco_engine *e) { return loco_sim_model(((sim_engine *)e)->s); }

static void sim_metrics(const loco_engine *e, double time_s, loco_engine_metrics *m) {
    static const char *const keys[] = {"loss", "ppl", "bytes", "bytes_up", "bytes_down", "sim_s", "time_s",
                                       "active", "received", "screened"};
    const loco_sim_stats *st = loco_sim_get_stats(((const sim_engine *)e)->s);
    *m = (loco_engine_metrics){.unit = "round", .event = st->round, .n_events = st->n_rounds,
                               .step = st->inner_step, .inner_steps = st->inner_step, .active = st->active,
                               .train_loss = st->train_loss, .screened = st->screened, .worker = -1,
                               .n = 10, .keys = keys};
    const double v[] = {st->train_loss, exp(st->train_loss), st->bytes_up + st->bytes_down, st->bytes_up,
                        st->bytes_down, st->sim_seconds, time_s, st->active, st->received, st->screened_total};
    for (int i = 0; i < m->n; i++) m->values[i] = v[i];
}

static void adapter_free(loco_engine *e) { free(e); }

static const loco_engine_type sim_type = {
    .step = sim_step, .done = sim_done, .model = sim_model, .metrics = sim_metrics, .free = adapter_free,
};

int loco_sim_engine(loco_engine **out, loco_sim *s) {
    sim_engine *e = calloc(1, sizeof *e);
    if (!e) return LOCO_ENOMEM;
    e->base = (loco_engine){&sim_type};
    e->s = s;
    *out = &e->base;
    return LOCO_OK;
}

/* ------------------------------------------------------ asynchronous DiLoCo */

typedef struct {
    loco_engine base;
    loco_async_sim *s;
    long screened_before;      /* the simulator counts screened pushes over the run; a step's are the change */
} async_engine;

static int async_step(loco_engine *e, char *msg, size_t msglen) {
    async_engine *a = (async_engine *)e;
    a->screened_before = loco_async_sim_get_stats(a->s)->screened;
    return loco_async_sim_next(a->s, msg, msglen);
}

static int async_done(const loco_engine *e) { return loco_async_sim_done(((const async_engine *)e)->s); }

static loco_gpt *async_model(loco_engine *e) { return loco_async_sim_model(((async_engine *)e)->s); }

/* "rounds" are the pushes over M: the synchronous rounds they are worth. */
static void async_metrics(const loco_engine *e, double time_s, loco_engine_metrics *m) {
    static const char *const keys[] = {"loss", "ppl", "rounds", "pushes", "updates", "sim_s", "bytes",
                                       "staleness", "worker", "inner_steps", "time_s", "screened"};
    const async_engine *a = (const async_engine *)e;
    const loco_async_sim_stats *st = loco_async_sim_get_stats(a->s);
    const loco_async_sim_config *c = loco_async_sim_get_config(a->s);
    const int M = c->workers;
    *m = (loco_engine_metrics){.unit = "push", .event = st->pushes, .n_events = c->pushes, .step = st->pushes,
                               .inner_steps = st->inner_steps, .active = 1, .train_loss = st->last_loss,
                               .screened = (int)(st->screened - a->screened_before), .worker = st->last_worker,
                               .n = 12, .keys = keys};
    const double v[] = {st->last_loss, exp(st->last_loss), (double)st->pushes / M, st->pushes, st->updates,
                        st->sim_seconds, st->bytes_up + st->bytes_down, st->last_staleness, st->last_worker,
                        st->last_steps, time_s, st->screened};
    for (int i = 0; i < m->n; i++) m->values[i] = v[i];
}

static const loco_engine_type async_type = {
    .step = async_step, .done = async_done, .model = async_model, .metrics = async_metrics,
    .free = adapter_free,
};

int loco_async_sim_engine(loco_engine **out, loco_async_sim *s) {
    async_engine *e = calloc(1, sizeof *e);
    if (!e) return LOCO_ENOMEM;
    e->base = (loco_engine){&async_type};
    e->s = s;
    e->screened_before = loco_async_sim_get_stats(s)->screened;
    *out = &e->base;
    return LOCO_OK;
}

/* ------------------------------------------------------------------ DiPaCo */

typedef struct {
    loco_engine base;
    loco_dipaco_sim *s;
    const char *tokenizer, *router;
} dipaco_engine;

static int dipaco_step(loco_engine *e, char *msg, size_t msglen) {
    return loco_dipaco_sim_round(((dipaco_engine *)e)->s, msg, msglen);
}

static int dipaco_done(const loco_engine *e) {
    const loco_dipaco_sim_stats *st = loco_dipaco_sim_get_stats(((const dipaco_engine *)e)->s);
    return st->round >= st->n_rounds;
}

static void dipaco_metrics(const loco_engine *e, double time_s, loco_engine_metrics *m) {
    static const char *const keys[] = {"loss", "ppl", "bytes", "bytes_up", "bytes_down", "time_s", "round"};
    const loco_dipaco_sim *s = ((const dipaco_engine *)e)->s;
    const loco_dipaco_sim_stats *st = loco_dipaco_sim_get_stats(s);
    *m = (loco_engine_metrics){.unit = "round", .event = st->round, .n_events = st->n_rounds,
                               .step = st->inner_step, .inner_steps = st->inner_step,
                               .active = loco_dipaco_sim_layout(s)->n_paths, .train_loss = st->train_loss,
                               .worker = -1, .n = 7, .keys = keys};
    const double v[] = {st->train_loss, exp(st->train_loss), st->bytes_up + st->bytes_down, st->bytes_up,
                        st->bytes_down, time_s, (double)st->round};
    for (int i = 0; i < m->n; i++) m->values[i] = v[i];
}

static int dipaco_result(loco_engine *e, const char *dir, char *msg, size_t msglen) {
    dipaco_engine *d = (dipaco_engine *)e;
    return loco_dipaco_save(dir, loco_dipaco_sim_layout(d->s), loco_dipaco_sim_modules(d->s), d->tokenizer,
                            d->router, msg, msglen);
}

static const loco_engine_type dipaco_type = {
    .step = dipaco_step, .done = dipaco_done, .metrics = dipaco_metrics, .result = dipaco_result,
    .free = adapter_free,
};

int loco_dipaco_sim_engine(loco_engine **out, loco_dipaco_sim *s, const char *tokenizer, const char *router) {
    dipaco_engine *e = calloc(1, sizeof *e);
    if (!e) return LOCO_ENOMEM;
    e->base = (loco_engine){&dipaco_type};
    e->s = s;
    e->tokenizer = tokenizer ? tokenizer : "";
    e->router = router ? router : "";
    *out = &e->base;
    return LOCO_OK;
}
