/*
 * The engine interface (include/loco/engine.h): each simulator stepped
 * through its engine is the simulator stepped by hand, bit for bit, and the
 * metrics the driver logs say what the simulator's statistics say, step by
 * step.  (The network coordinators' engines are checked end to end by the
 * net_ tests, whose runs match the simulators' files bit for bit.)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/async_sim.h"
#include "loco/dipaco.h"
#include "loco/engine.h"
#include "loco/sim.h"
#include "test.h"
#include "util.h"

enum { N_DOCS = 24, DOC_LEN = 90, V = 50 };

static uint16_t toks[N_DOCS * DOC_LEN];
static uint64_t offs[N_DOCS + 1];
static const loco_gpt_config tiny = {.max_seq_len = 16, .vocab_size = V, .n_layer = 1, .n_head = 2, .channels = 16};

/* K i.i.d. shards of a small patterned corpus (tests/util.c). */
static loco_split *shards(int K) {
    return loco_test_patterned_shards(K, 3, N_DOCS, DOC_LEN, V, toks, offs);
}

/* The value of key k in m, or NAN. */
static double value(const loco_engine_metrics *m, const char *k) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->keys[i], k)) return m->values[i];
    return NAN;
}

/* What every engine's metrics hold: "loss" and "ppl" first, the loss of the
 * step, the wall clock given, at most LOCO_ENGINE_MAX_VALUES pairs. */
static int metrics_ok(const loco_engine_metrics *m, float loss, double t) {
    return m->n >= 3 && m->n <= LOCO_ENGINE_MAX_VALUES && !strcmp(m->keys[0], "loss") &&
           !strcmp(m->keys[1], "ppl") && m->values[0] == loss && m->values[1] == exp(loss) &&
           m->train_loss == loss && value(m, "time_s") == t;
}

LOCO_TEST(engine_sim_is_the_simulator) {
    loco_split *split = shards(2);
    loco_sim_config sc;
    loco_sim_config_default(&sc);
    sc.workers = 2;
    sc.inner_steps = 3;
    sc.steps = 10;   /* 4 rounds, the last of one step */
    sc.batch = 2;
    sc.seq_len = 16;
    loco_adamw_config_default(&sc.inner, 10);
    sc.inner.lr = 3e-3f;
    sc.seed = 5;
    loco_sim *a = NULL, *b = NULL;
    loco_engine *e = NULL;
    char msg[256];
    CHECK(split && loco_sim_create(&a, &sc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK &&
          loco_sim_create(&b, &sc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK &&
          loco_sim_engine(&e, b) == LOCO_OK, "setup: %s", msg);
    if (!e) goto out;
    CHECK(!e->type->state_file && !e->type->save && !e->type->resume && loco_engine_model(e) == loco_sim_model(b),
          "a simulator has one model and no state to save");
    const loco_sim_stats *st = loco_sim_get_stats(b);
    int steps = 0;
    while (!loco_engine_done(e) && steps < 10) {
        CHECK(loco_sim_round(a, msg, sizeof msg) == LOCO_OK && loco_engine_step(e, msg, sizeof msg) == LOCO_OK,
              "step: %s", msg);
        steps++;
        loco_engine_metrics m;
        loco_engine_get_metrics(e, 1.5 * steps, &m);
        CHECK(metrics_ok(&m, st->train_loss, 1.5 * steps) && !strcmp(m.unit, "round") && m.event == steps &&
              m.n_events == 4 && m.step == st->inner_step && m.inner_steps == st->inner_step && m.worker == -1 &&
              m.active == 2 && value(&m, "bytes") == st->bytes_up + st->bytes_down,
              "round %d: metrics disagree with the statistics", steps);
    }
    CHECK(steps == 4 && st->inner_step == 10, "%d steps to %ld inner steps, want 4 to 10", steps, st->inner_step);
    CHECK(!memcmp(loco_gpt_params(loco_sim_model(a)), loco_gpt_params(loco_sim_model(b)),
                  loco_gpt_num_params(loco_sim_model(a)) * sizeof(float)),
          "theta stepped through the engine differs from the simulator's");
out:
    loco_engine_free(e);
    loco_sim_free(a);
    loco_sim_free(b);
    loco_split_free(split);
}

LOCO_TEST(engine_async_sim_is_the_simulator) {
    /* Worker 1 plays a faulty accelerator, so that the screen drops pushes:
     * the engine reports each step's drops, which sum to the simulator's. */
    loco_split *split = shards(2);
    loco_async_sim_config ac;
    loco_async_sim_config_default(&ac);
    ac.workers = 2;
    ac.inner_steps = 3;
    ac.pushes = 12;
    ac.batch = 2;
    ac.seq_len = 16;
    loco_adamw_config_default(&ac.inner, 18);
    ac.inner.lr = 3e-3f;
    loco_async_config_default(&ac.rule, 2);
    ac.step_seconds[0] = 1.0;
    ac.step_seconds[1] = 1.7;
    ac.fault_worker = 1;
    ac.fault_value = 1e3f;
    ac.seed = 5;
    loco_async_sim *a = NULL, *b = NULL;
    loco_engine *e = NULL;
    char msg[256];
    CHECK(split && loco_async_sim_create(&a, &ac, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK &&
          loco_async_sim_create(&b, &ac, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK &&
          loco_async_sim_engine(&e, b) == LOCO_OK, "setup: %s", msg);
    if (!e) goto out;
    const loco_async_sim_stats *st = loco_async_sim_get_stats(b);
    long screened = 0;
    int steps = 0;
    while (!loco_engine_done(e) && steps < 20) {
        CHECK(loco_async_sim_next(a, msg, sizeof msg) == LOCO_OK && loco_engine_step(e, msg, sizeof msg) == LOCO_OK,
              "push: %s", msg);
        steps++;
        loco_engine_metrics m;
        loco_engine_get_metrics(e, 0.25, &m);
        screened += m.screened;
        CHECK(metrics_ok(&m, st->last_loss, 0.25) && !strcmp(m.unit, "push") && m.event == steps &&
              m.step == steps && m.n_events == 12 && m.worker == st->last_worker &&
              m.inner_steps == st->inner_steps && value(&m, "rounds") == steps / 2.0,
              "push %d: metrics disagree with the statistics", steps);
    }
    CHECK(steps == 12 && loco_async_sim_done(b), "%d pushes, want 12", steps);
    CHECK(screened == st->screened && screened > 0, "the steps report %ld screened pushes, the simulator %ld",
          screened, st->screened);
    loco_gpt *ma = loco_async_sim_model(a), *mb = loco_engine_model(e);
    CHECK(!memcmp(loco_gpt_params(ma), loco_gpt_params(mb), loco_gpt_num_params(ma) * sizeof(float)),
          "theta stepped through the engine differs from the simulator's");
out:
    loco_engine_free(e);
    loco_async_sim_free(a);
    loco_async_sim_free(b);
    loco_split_free(split);
}

LOCO_TEST(engine_dipaco_sim_is_the_simulator) {
    loco_split *split = shards(2);
    loco_dipaco_sim_config dc;
    memset(&dc, 0, sizeof dc);
    loco_dipaco_parse("1x2", &dc.d, NULL, 0);
    dc.inner_steps = 2;
    dc.steps = 6;
    dc.batch = 2;
    dc.seq_len = 16;
    loco_adamw_config_default(&dc.inner, 6);
    dc.inner.lr = 3e-3f;
    loco_outer_config_default(&dc.outer);
    dc.seed = 5;
    loco_dipaco_sim *a = NULL, *b = NULL;
    loco_engine *e = NULL;
    char msg[512], dir[] = "/tmp/loco_engine_XXXXXX", path[600];
    CHECK(split && mkdtemp(dir) && loco_dipaco_sim_create(&a, &dc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK &&
          loco_dipaco_sim_create(&b, &dc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK &&
          loco_dipaco_sim_engine(&e, b, "tok.json", "") == LOCO_OK, "setup: %s", msg);
    if (!e) goto out;
    CHECK(loco_engine_model(e) == NULL && e->type->result, "DiPaCo has no single model but result files");
    const loco_dipaco_sim_stats *st = loco_dipaco_sim_get_stats(b);
    int steps = 0;
    while (!loco_engine_done(e) && steps < 10) {
        CHECK(loco_dipaco_sim_round(a, msg, sizeof msg) == LOCO_OK && loco_engine_step(e, msg, sizeof msg) == LOCO_OK,
              "round: %s", msg);
        steps++;
        loco_engine_metrics m;
        loco_engine_get_metrics(e, 2.0, &m);
        CHECK(metrics_ok(&m, st->train_loss, 2.0) && m.event == steps && m.n_events == 3 && m.step == 2 * steps &&
              m.active == 2 && value(&m, "round") == steps, "round %d: metrics disagree with the statistics", steps);
    }
    const loco_dipaco_layout *lay = loco_dipaco_sim_layout(a);
    CHECK(steps == 3 && !memcmp(loco_dipaco_sim_modules(a), loco_dipaco_sim_modules(b), lay->total * sizeof(float)),
          "the modules stepped through the engine differ from the simulator's (%d rounds)", steps);
    CHECK(e->type->result(e, dir, msg, sizeof msg) == LOCO_OK, "result: %s", msg);
    loco_dipaco_layout back;
    char tok[256];
    snprintf(path, sizeof path, "%s", dir);
    CHECK(loco_dipaco_load_layout(path, &back, tok, NULL, msg, sizeof msg) == LOCO_OK && back.n_paths == 2 &&
          !strcmp(tok, "tok.json"), "the result files: %s", msg);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
out:
    loco_engine_free(e);
    loco_dipaco_sim_free(a);
    loco_dipaco_sim_free(b);
    loco_split_free(split);
}
