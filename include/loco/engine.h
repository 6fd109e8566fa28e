/*
 * One interface for every distributed driver: the three simulators
 * (synchronous DDP/DiLoCo, asynchronous DiLoCo, DiPaCo) and the three
 * network coordinators (synchronous DiLoCo, asynchronous DiLoCo, DiPaCo).
 *
 * An engine is stepped until it is done; a step is one round (synchronous
 * algorithms, DiPaCo) or one push (asynchronous ones).  Between steps the
 * caller reads what it needs for its log line (metrics), evaluates the
 * current global model (model), and may save the engine's state and later
 * resume from it.  One loop (src/cli/drive.c) drives them all, so that
 * logging, evaluation, checkpoints and progress are written once.
 *
 * As libuv's handles share a base, every engine is a struct that begins
 * with loco_engine, whose type holds the operations.  The engines here are
 * thin adapters over each driver's own API (src/sim/sim_engine.c and
 * src/net/coord_engine.c), which they borrow: freeing an engine frees the
 * adapter, not the simulator or coordinator under it.
 */
#ifndef LOCO_ENGINE_H
#define LOCO_ENGINE_H

#include <stddef.h>
#include "loco/async_sim.h"
#include "loco/dipaco.h"
#include "loco/loco.h"
#include "loco/net_engine.h"
#include "loco/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCO_ENGINE_MAX_VALUES 32

/* What the log line and the progress report of the last step need. */
typedef struct {
    const char *unit;          /* what one step is: "round" or "push" */
    long event, n_events;      /* steps taken, and in the whole run */
    long step;                 /* the log's x axis: inner steps of one worker (rounds) or pushes */
    long inner_steps;          /* the inner steps a checkpoint of the global model records */
    int active;                /* workers that trained in the last step (for tokens per second) */
    float train_loss;          /* the training loss of the last step */
    int screened;              /* contributions the norm screen dropped in the last step */
    int worker;                /* the pushing worker (pushes), -1 for rounds */
    int n;                     /* the log line: n pairs (keys[i], values[i]), "loss" and "ppl" first */
    const char *const *keys;
    double values[LOCO_ENGINE_MAX_VALUES];
} loco_engine_metrics;

typedef struct loco_engine loco_engine;

typedef struct {
    /* The file save writes in its directory ("coord.state"); NULL when the
     * engine cannot be resumed (the simulators). */
    const char *state_file;
    /* One round or one push.  Returns LOCO_OK, or an error with a reason in
     * msg (the driver's own: LOCO_ENONFINITE, LOCO_EDEVICE, LOCO_EIO, ...). */
    int (*step)(loco_engine *e, char *msg, size_t msglen);
    /* 1 once the run has taken all its steps. */
    int (*done)(const loco_engine *e);
    /* The global model between steps, for evaluation and the final
     * checkpoint; NULL when the run has no single model (DiPaCo). */
    loco_gpt *(*model)(loco_engine *e);
    /* The last step's metrics; time_s (the run's wall clock) goes into the
     * log line where the engine logs it. */
    void (*metrics)(const loco_engine *e, double time_s, loco_engine_metrics *m);
    /* Writes the state a restart resumes from into dir/state_file (NULL
     * with state_file). */
    int (*save)(loco_engine *e, const char *dir, double time_s, char *msg, size_t msglen);
    /* Continues from the state save wrote into dir; *time_s gets the wall
     * clock it recorded.  NULL with state_file. */
    int (*resume)(loco_engine *e, const char *dir, double *time_s, char *msg, size_t msglen);
    /* Writes the run's result into dir when it is not one global model
     * (DiPaCo's module files); NULL otherwise. */
    int (*result)(loco_engine *e, const char *dir, char *msg, size_t msglen);
    /* Tells the workers the run is over (network engines; may be NULL). */
    void (*finish)(loco_engine *e);
    void (*free)(loco_engine *e);
} loco_engine_type;

/* The base every engine begins with. */
struct loco_engine {
    const loco_engine_type *type;
};

static inline int loco_engine_step(loco_engine *e, char *msg, size_t msglen) {
    return e->type->step(e, msg, msglen);
}
static inline int loco_engine_done(const loco_engine *e) { return e->type->done(e); }
static inline loco_gpt *loco_engine_model(loco_engine *e) { return e->type->model ? e->type->model(e) : NULL; }
static inline void loco_engine_get_metrics(const loco_engine *e, double time_s, loco_engine_metrics *m) {
    e->type->metrics(e, time_s, m);
}
static inline void loco_engine_free(loco_engine *e) {
    if (e) e->type->free(e);
}

/* The adapters.  Each borrows its driver, which must outlive the engine;
 * each returns LOCO_OK or LOCO_ENOMEM. */

/* The synchronous simulator (include/loco/sim.h): a step is a round. */
int loco_sim_engine(loco_engine **out, loco_sim *s);
/* The asynchronous simulator (include/loco/async_sim.h): a step is a push. */
int loco_async_sim_engine(loco_engine **out, loco_async_sim *s);
/* The DiPaCo simulator (include/loco/dipaco.h); result writes the module
 * files with the tokenizer and the router named in them (both borrowed; the
 * router's text may change during the run, as discriminative routing
 * rewrites it). */
int loco_dipaco_sim_engine(loco_engine **out, loco_dipaco_sim *s, const char *tokenizer,
                           const char *router);
/* The network coordinator (include/loco/net_engine.h), synchronous rounds
 * or asynchronous pushes as cfg (the configuration c was created with) says.
 * The first step waits up to join_timeout seconds (0: forever) for
 * min_workers workers to join. */
int loco_coord_engine(loco_engine **out, loco_coord *c, const loco_coord_config *cfg,
                      int min_workers, double join_timeout);
/* DiPaCo's coordinator; min_workers 0 waits for none.  save writes the
 * module files then the state (so that a crash between the two redoes the
 * round); result the module files. */
int loco_dpc_engine(loco_engine **out, loco_dpc *c, int min_workers, double join_timeout,
                    const char *tokenizer, const char *router);

#ifdef __cplusplus
}
#endif
#endif
