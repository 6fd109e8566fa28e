/*
 * The discrete-event simulator of asynchronous DiLoCo: its documented event
 * order, staleness, Dynamic Local Updates, the sync rule against the
 * synchronous simulator, grace periods, determinism, and bad flags.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/async_sim.h"
#include "loco/sim.h"
#include "test.h"
#include "util.h"

enum { N_DOCS = 24, DOC_LEN = 90, V = 50 };

static uint16_t toks[N_DOCS * DOC_LEN];
static uint64_t offs[N_DOCS + 1];
static const loco_gpt_config tiny = {.max_seq_len = 16, .vocab_size = V, .n_layer = 1, .n_head = 2, .channels = 16};

/* K i.i.d. shards of a small patterned corpus (tests/util.c). */
static loco_split *shards(int K) {
    return loco_test_patterned_shards(K, 9, N_DOCS, DOC_LEN, V, toks, offs);
}

static void config(loco_async_sim_config *c, int M, int H, long pushes, loco_async_rule rule) {
    loco_async_sim_config_default(c);
    c->workers = M;
    c->inner_steps = H;
    c->pushes = pushes;
    c->batch = 2;
    c->seq_len = 16;
    loco_adamw_config_default(&c->inner, (int)(pushes * H / M));
    c->inner.lr = 3e-3f;
    loco_async_config_default(&c->rule, M);
    c->rule.rule = rule;
    c->latency = 0.01;
    c->seed = 42;
}

/* Runs to the end, recording each push's worker, staleness and steps. */
static int run(loco_async_sim *s, int *who, long *stale, int *steps, int cap) {
    char msg[256];
    int n = 0;
    while (!loco_async_sim_done(s)) {
        int e = loco_async_sim_next(s, msg, sizeof msg);
        if (e) return -1;
        const loco_async_sim_stats *st = loco_async_sim_get_stats(s);
        if (n < cap) {
            if (who) who[n] = st->last_worker;
            if (stale) stale[n] = st->last_staleness;
            if (steps) steps[n] = st->last_steps;
        }
        n++;
    }
    return n;
}

LOCO_TEST(async_equal_speeds_push_in_index_order) {
    loco_split *sp = shards(3);
    loco_async_sim_config c;
    config(&c, 3, 2, 9, LOCO_ASYNC_NAIVE);
    loco_async_sim *s = NULL;
    char msg[256];
    CHECK(sp && loco_async_sim_create(&s, &c, &tiny, NULL, sp, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    if (!s) { loco_split_free(sp); return; }
    int who[9];
    long stale[9];
    CHECK(run(s, who, stale, NULL, 9) == 9, "9 pushes");
    /* Equal finish times go to the lowest index, and a worker that pushes
     * restarts at that time, so it finishes its next task after the others'
     * current ones: 0 1 2 0 1 2 ...  Each push has seen the other two since
     * its fetch (except in the first round: 0, 1, 2). */
    for (int i = 0; i < 9; i++) {
        CHECK(who[i] == i % 3, "push %d from worker %d, want %d", i, who[i], i % 3);
        long want = i < 3 ? i : 2;
        CHECK(stale[i] == want, "push %d staleness %ld, want %ld", i, stale[i], want);
    }
    CHECK(loco_async_sim_get_stats(s)->updates == 9, "naive applies every push");
    loco_async_sim_free(s);
    loco_split_free(sp);
}

LOCO_TEST(async_heterogeneous_and_dylu) {
    /* Two workers at 1 and 4 s per step, H = 20: without DyLU the fast one
     * pushes four times per slow push; with DyLU, once the slow worker's
     * speed is known its tasks shrink to max(5, floor(20 * 0.25)) = 5 steps. */
    loco_split *sp = shards(2);
    loco_async_sim_config c;
    config(&c, 2, 20, 12, LOCO_ASYNC_DN);
    c.step_seconds[0] = 1.0;
    c.step_seconds[1] = 4.0;
    int who[12], steps[12];
    long stale[12];
    loco_async_sim *s = NULL;
    char msg[256];
    CHECK(sp && loco_async_sim_create(&s, &c, &tiny, NULL, sp, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    if (!s) { loco_split_free(sp); return; }
    CHECK(run(s, who, stale, steps, 12) == 12, "12 pushes");
    int fast = 0;
    for (int i = 0; i < 5; i++) fast += who[i] == 0;
    CHECK(fast == 4 && who[3] == 1, "first five pushes: %d %d %d %d %d", who[0], who[1], who[2], who[3], who[4]);
    CHECK(stale[3] == 3, "the slow worker's first push is 3 updates stale (got %ld)", stale[3]);
    double t_plain = loco_async_sim_get_stats(s)->sim_seconds;
    loco_async_sim_free(s);

    c.dylu = 1;
    CHECK(loco_async_sim_create(&s, &c, &tiny, NULL, sp, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    CHECK(run(s, who, stale, steps, 12) == 12, "12 pushes");
    int slow_short = 0, fast_full = 1, slow_pushes = 0;
    for (int i = 0; i < 12; i++) {
        if (who[i] == 1) slow_pushes++;
        if (who[i] == 1 && slow_pushes > 1) slow_short += steps[i] == 5;
        if (who[i] == 0) fast_full &= steps[i] == 20;
    }
    CHECK(slow_pushes >= 3 && slow_short == slow_pushes - 1, "slow worker: %d pushes, %d of 5 steps", slow_pushes,
          slow_short);
    CHECK(fast_full, "the fast worker keeps H = 20");
    CHECK(loco_async_sim_get_stats(s)->sim_seconds < t_plain, "DyLU should finish the pushes sooner (%g vs %g s)",
          loco_async_sim_get_stats(s)->sim_seconds, t_plain);
    loco_async_sim_free(s);
    loco_split_free(sp);
}

LOCO_TEST(async_sync_rule_is_diloco) {
    /* The sync rule with one shard per worker is synchronous DiLoCo: worker w
     * takes shard w every round (least visited, lowest index first), shard w
     * draws worker w's stream, and the schedule follows the shard's steps.
     * The simulator averages in double and evaluates the outer step around
     * the target; the rule averages in float: a few float roundings apart
     * after round 1.  Rounds 2 and 3 then start from thetas a few ulps apart,
     * and AdamW, which divides by sqrt(v), turns a relative difference in a
     * near-zero gradient into a difference of the update (of size lr, not of
     * the parameter's scale): hence 2e-6 of scale for three rounds, where a
     * wrong rule (one worker's push, or no momentum) is off by 1e-3. */
    loco_split *sp = shards(3);
    loco_async_sim_config c;
    config(&c, 3, 2, 9, LOCO_ASYNC_SYNC);
    c.step_seconds[1] = 2.5;   /* speeds do not change sync's numbers */
    loco_async_sim *as = NULL;
    char msg[256];
    CHECK(sp && loco_async_sim_create(&as, &c, &tiny, NULL, sp, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    if (!as) { loco_split_free(sp); return; }
    CHECK(run(as, NULL, NULL, NULL, 0) == 9, "9 pushes");
    const loco_async_sim_stats *st = loco_async_sim_get_stats(as);
    CHECK(st->updates == 3 && st->max_staleness == 0, "sync: %ld updates, max staleness %g", st->updates,
          st->max_staleness);
    /* Each round waits for the slowest: 2 steps of 2.5 s and two transfers. */
    double xfer = c.latency + loco_gpt_num_params(loco_async_sim_model(as)) * 4.0 / c.bandwidth;
    CHECK(fabs(st->sim_seconds - 3 * (5.0 + 2 * xfer)) < 1e-9, "simulated %.9g s, want %.9g", st->sim_seconds,
          3 * (5.0 + 2 * xfer));

    loco_sim_config sc;
    loco_sim_config_default(&sc);
    sc.workers = 3;
    sc.inner_steps = 2;
    sc.steps = 6;
    sc.batch = 2;
    sc.seq_len = 16;
    sc.inner = c.inner;
    sc.seed = 42;
    loco_sim *ss = NULL;
    CHECK(loco_sim_create(&ss, &sc, &tiny, NULL, sp, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    while (ss && loco_sim_get_stats(ss)->round < loco_sim_get_stats(ss)->n_rounds)
        CHECK(loco_sim_round(ss, msg, sizeof msg) == LOCO_OK, "round: %s", msg);
    if (ss) {
        const float *a = loco_gpt_params(loco_async_sim_model(as)), *b = loco_gpt_params(loco_sim_model(ss));
        size_t P = loco_gpt_num_params(loco_sim_model(ss));
        double err = loco_test_rel_err(a, b, P);
        CHECK(err < 2e-6, "sync rule vs DiLoCo simulator: relative %.3g", err);
        printf("    sync rule vs the DiLoCo simulator: %.3g of scale\n", err);
    }
    loco_sim_free(ss);
    loco_async_sim_free(as);
    loco_split_free(sp);
}

LOCO_TEST(async_grace_and_determinism) {
    loco_split *sp = shards(4);
    loco_async_sim_config c;
    config(&c, 4, 2, 12, LOCO_ASYNC_NAIVE);
    /* Equal speeds: all four pushes of a round land together, so a grace
     * period of 1 s applies them as one update. */
    c.grace = 1.0;
    loco_async_sim *s = NULL;
    char msg[256];
    CHECK(sp && loco_async_sim_create(&s, &c, &tiny, NULL, sp, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    if (!s) { loco_split_free(sp); return; }
    CHECK(run(s, NULL, NULL, NULL, 0) > 0, "run");
    CHECK(loco_async_sim_get_stats(s)->updates == 3 && loco_async_sim_get_stats(s)->pushes == 12,
          "grace: %ld updates for %ld pushes", loco_async_sim_get_stats(s)->updates,
          loco_async_sim_get_stats(s)->pushes);
    loco_async_sim_free(s);

    /* Jitter and preemption, twice: the same pushes, times and parameters. */
    config(&c, 4, 2, 12, LOCO_ASYNC_DN);
    c.jitter = 0.3;
    c.preempt_prob = 0.3;
    c.preempt_seconds = 5;
    c.dylu = 1;
    c.rule.stale = LOCO_STALE_POLY;
    size_t P = 0;
    float *p[2] = {NULL, NULL};
    int who[2][12];
    double t[2] = {0, 0};
    for (int r = 0; r < 2; r++) {
        CHECK(loco_async_sim_create(&s, &c, &tiny, NULL, sp, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
        if (!s) break;
        CHECK(run(s, who[r], NULL, NULL, 12) == 12, "run");
        P = loco_gpt_num_params(loco_async_sim_model(s));
        p[r] = malloc(P * sizeof(float));
        memcpy(p[r], loco_gpt_params(loco_async_sim_model(s)), P * sizeof(float));
        t[r] = loco_async_sim_get_stats(s)->sim_seconds;
        loco_async_sim_free(s);
    }
    if (p[0] && p[1]) {
        CHECK(memcmp(p[0], p[1], P * sizeof(float)) == 0, "same seed, different parameters");
        CHECK(memcmp(who[0], who[1], sizeof who[0]) == 0 && t[0] == t[1], "same seed, different events");
    }
    free(p[0]);
    free(p[1]);
    loco_split_free(sp);
}

LOCO_TEST(async_cli_bad_flags) {
    static const struct { const char *flags, *want; } bad[] = {
        {"--algo async --workers 2 --rule fast", "--rule"},
        {"--algo async --workers 2 --stale linear", "--stale"},
        {"--algo async --workers 2 --hetero extreme", "--hetero"},
        {"--algo async --workers 2 --speeds 1,2,3", "--speeds"},
        {"--algo async --workers 2 --speeds 1,-2", "--speeds"},
        {"--algo async --workers 2 --rule sync --grace 1", "--grace"},
        {"--algo async --workers 2 --period -1", "period"},
        {"--algo async --workers 2 --jitter -1", "--jitter"},
        {"--algo async --workers 2 --preempt-prob 2", "--preempt-prob"},
        {"--algo async --workers 2 --inner-steps 0", "--inner-steps"},
        {"--algo async --workers 0", "--workers"},
        {"--algo async --workers 2 --compress int9", "--compress"},
        {"--algo async --workers 2 --prune 1.5", "--prune"},
        {"--algo async --workers 2 --outer-opt adam", "--outer-opt"},
        {"--algo async --workers 2 --drop 0.1", "--drop"},
        {"--rule naive", "--algo"},
        {"--dylu 1", "--algo"},
    };
    char cmd[1024], err[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "train --layers 1 --channels 16 --heads 2 --seq-len 8 --batch 2 --steps 4 %s",
                 bad[i].flags);
        int rc = loco_test_run(cmd, err, sizeof err);
        CHECK(rc == 2 && strstr(err, bad[i].want) && strchr(err, '\n') == strrchr(err, '\n'),
              "'%s': exit %d, '%s'", bad[i].flags, rc, err);
    }
    /* And a small run of the embedded corpus goes through. */
    snprintf(cmd, sizeof cmd, "train --layers 1 --channels 16 --heads 2 --seq-len 8 --batch 2 --steps 8 "
             "--algo async --workers 3 --inner-steps 2 --hetero very --dylu 1 --eval-every 4 --threads 1");
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "async run: %s", err);
}

/* Runs config c to its end and copies theta into out (P floats); returns
 * the bytes uploaded, or -1. */
static double run_theta(const loco_async_sim_config *c, loco_split *sp, float *out, size_t P) {
    loco_async_sim *s = NULL;
    char msg[256];
    if (loco_async_sim_create(&s, c, &tiny, NULL, sp, msg, sizeof msg) != LOCO_OK || run(s, NULL, NULL, NULL, 0) < 0) {
        loco_async_sim_free(s);
        return -1;
    }
    memcpy(out, loco_gpt_params(loco_async_sim_model(s)), P * sizeof(float));
    double up = loco_async_sim_get_stats(s)->bytes_up;
    loco_async_sim_free(s);
    return up;
}

LOCO_TEST(async_compressed_pushes) {
    /* Pushes through a codec: the bytes uploaded are the layout's message
     * size per push; fp16 moves theta less from the exact run than int8
     * does, and neither leaves it unchanged; a run with error feedback
     * differs from one without and is bitwise repeatable. */
    loco_split *sp = shards(2);
    loco_gpt *m = NULL;
    CHECK(sp && loco_gpt_create(&m, &tiny, 2, 16, 42, NULL, 0) == LOCO_OK, "setup");
    if (!m) { loco_split_free(sp); return; }
    const size_t P = loco_gpt_num_params(m);
    float *exact = malloc(P * sizeof(float)), *x = malloc(P * sizeof(float)), *y = malloc(P * sizeof(float));
    loco_async_sim_config c;
    config(&c, 2, 3, 12, LOCO_ASYNC_DN);
    double up = run_theta(&c, sp, exact, P);
    CHECK(up == 12.0 * 4 * P, "fp32 uploads %g bytes, want 12 x 4P", up);
    double dev[2];
    const loco_codec codecs[2] = {LOCO_CODEC_FP16, LOCO_CODEC_INT8_ROW};
    for (int i = 0; i < 2; i++) {
        c.codec = codecs[i];
        loco_diloco_layout lay;
        CHECK(loco_diloco_layout_init(&lay, m, c.codec, 1.0f, NULL, 0) == LOCO_OK, "layout");
        up = run_theta(&c, sp, x, P);
        CHECK(up == 12.0 * lay.msg_bytes, "%s uploads %g bytes, want 12 x %zu", loco_codec_name(c.codec), up,
              lay.msg_bytes);
        double d2 = 0;
        for (size_t j = 0; j < P; j++) d2 += ((double)x[j] - exact[j]) * ((double)x[j] - exact[j]);
        dev[i] = sqrt(d2);
    }
    CHECK(dev[0] > 0 && dev[1] > dev[0], "distance from the exact run: fp16 %g, int8 %g", dev[0], dev[1]);
    c.error_feedback = 1;
    run_theta(&c, sp, x, P);
    run_theta(&c, sp, y, P);
    CHECK(memcmp(x, y, P * sizeof(float)) == 0, "int8 with error feedback is not repeatable");
    c.error_feedback = 0;
    run_theta(&c, sp, y, P);
    CHECK(memcmp(x, y, P * sizeof(float)) != 0, "error feedback changed nothing");
    printf("    distance of theta from the exact run after 12 pushes: fp16 %.3g, int8 %.3g\n", dev[0], dev[1]);
    free(exact);
    free(x);
    free(y);
    loco_gpt_free(m);
    loco_split_free(sp);
}
