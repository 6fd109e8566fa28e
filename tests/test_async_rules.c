/*
 * Tests of the asynchronous server's update rules (src/algo/async_rules.c):
 * names and configuration checks, staleness weights, Dynamic Local Updates,
 * the least-visited task queue, a step worked by hand, the two exact
 * properties (DN with N = 1 is NAIVE bit for bit; DN over a period is
 * BUFFER's step), and every rule against a numpy reference.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/async.h"
#include "loco/loco.h"
#include "test.h"
#include "util.h"

#define REF_SCRIPT "tests/ref_async.py"

LOCO_TEST(async_rules_config) {
    loco_async_config c;
    loco_async_config_default(&c, 8);
    CHECK(c.rule == LOCO_ASYNC_DN && c.lr == 0.7f && c.momentum == 0.9f && c.period == 8
          && c.stale == LOCO_STALE_CONSTANT && c.stale_power == 0.5f, "defaults for 8 workers");
    loco_async_config_default(&c, 0);
    CHECK(c.period == 1, "period for 0 workers is %d, not 1", c.period);
    loco_async_config_default(NULL, 4);   /* must not crash */

    const loco_async_rule rules[] = {LOCO_ASYNC_SYNC, LOCO_ASYNC_NAIVE, LOCO_ASYNC_BUFFER, LOCO_ASYNC_DN};
    const char *rule_names[] = {"sync", "naive", "buffer", "dn"};
    for (int i = 0; i < 4; i++) {
        loco_async_rule got = (loco_async_rule)-1;
        CHECK(strcmp(loco_async_rule_name(rules[i]), rule_names[i]) == 0, "name of rule %d", i);
        CHECK(loco_async_rule_parse(rule_names[i], &got) == LOCO_OK && got == rules[i],
              "%s does not parse", rule_names[i]);
    }
    const loco_stale_kind kinds[] = {LOCO_STALE_CONSTANT, LOCO_STALE_POLY};
    const char *kind_names[] = {"constant", "poly"};
    for (int i = 0; i < 2; i++) {
        loco_stale_kind got = (loco_stale_kind)-1;
        CHECK(strcmp(loco_stale_name(kinds[i]), kind_names[i]) == 0, "name of kind %d", i);
        CHECK(loco_stale_parse(kind_names[i], &got) == LOCO_OK && got == kinds[i],
              "%s does not parse", kind_names[i]);
    }
    loco_async_rule r = LOCO_ASYNC_BUFFER;
    CHECK(loco_async_rule_parse("DN", &r) == LOCO_EINVAL && loco_async_rule_parse("", &r) == LOCO_EINVAL
          && loco_async_rule_parse(NULL, &r) == LOCO_EINVAL && loco_async_rule_parse("dn", NULL) == LOCO_EINVAL
          && r == LOCO_ASYNC_BUFFER, "bad rule names accepted or *out touched");
    loco_stale_kind k = LOCO_STALE_POLY;
    CHECK(loco_stale_parse("polynomial", &k) == LOCO_EINVAL && loco_stale_parse(NULL, &k) == LOCO_EINVAL
          && k == LOCO_STALE_POLY, "bad staleness names accepted or *out touched");
    CHECK(strcmp(loco_async_rule_name((loco_async_rule)9), "unknown") == 0
          && strcmp(loco_stale_name((loco_stale_kind)-1), "unknown") == 0, "names of bad values");

    /* config_check: the defaults pass; each bad field fails with a reason. */
    char msg[128];
    loco_async_config_default(&c, 4);
    CHECK(loco_async_config_check(&c, msg, sizeof msg) == LOCO_OK, "defaults rejected");
    c.momentum = 0.0f;
    c.stale_power = 0.0f;
    c.period = 1;
    CHECK(loco_async_config_check(&c, msg, sizeof msg) == LOCO_OK, "momentum 0, power 0, N 1 rejected");
    struct { const char *what; loco_async_config c; } bad[16];
    int nb = 0;
    for (int i = 0; i < 16; i++) loco_async_config_default(&bad[i].c, 4);
    bad[nb].what = "lr 0";          bad[nb++].c.lr = 0.0f;
    bad[nb].what = "lr -1";         bad[nb++].c.lr = -1.0f;
    bad[nb].what = "lr NaN";        bad[nb++].c.lr = NAN;
    bad[nb].what = "lr inf";        bad[nb++].c.lr = INFINITY;
    bad[nb].what = "momentum -0.1"; bad[nb++].c.momentum = -0.1f;
    bad[nb].what = "momentum 1";    bad[nb++].c.momentum = 1.0f;
    bad[nb].what = "momentum NaN";  bad[nb++].c.momentum = NAN;
    bad[nb].what = "period 0";      bad[nb++].c.period = 0;
    bad[nb].what = "period -3";     bad[nb++].c.period = -3;
    bad[nb].what = "power -0.5";    bad[nb++].c.stale_power = -0.5f;
    bad[nb].what = "power NaN";     bad[nb++].c.stale_power = NAN;
    bad[nb].what = "power inf";     bad[nb++].c.stale_power = INFINITY;
    bad[nb].what = "rule 9";        bad[nb++].c.rule = (loco_async_rule)9;
    bad[nb].what = "stale kind 5";  bad[nb++].c.stale = (loco_stale_kind)5;
    for (int i = 0; i < nb; i++) {
        msg[0] = '\0';
        int e = loco_async_config_check(&bad[i].c, msg, sizeof msg);
        CHECK(e == LOCO_EINVAL && msg[0] != '\0' && !strchr(msg, '\n'),
              "%s: returned %d with message \"%s\"", bad[i].what, e, msg);
        /* A push under a bad config changes nothing. */
        float theta = 1.0f, g = 1.0f, block[2];
        loco_async_state st;
        loco_async_state_init(&st, block, 1);
        CHECK(loco_async_push(&bad[i].c, &st, &theta, &g, 1) == LOCO_EINVAL && theta == 1.0f
              && st.arrivals == 0, "%s: push accepted", bad[i].what);
    }
    CHECK(loco_async_config_check(NULL, msg, sizeof msg) == LOCO_EINVAL
          && loco_async_config_check(&bad[0].c, NULL, 0) == LOCO_EINVAL, "NULL config or message");
}

LOCO_TEST(async_rules_stale_weight) {
    loco_async_config c;
    loco_async_config_default(&c, 4);
    /* Constant: 1 whatever the age. */
    CHECK(loco_async_stale_weight(&c, 0) == 1.0f && loco_async_stale_weight(&c, 3) == 1.0f
          && loco_async_stale_weight(&c, 1000000) == 1.0f, "constant weight is not 1");
    /* Poly, power 0.5: (1 + s)^-0.5, exactly 1 at s = 0 and 0.5 at s = 3. */
    c.stale = LOCO_STALE_POLY;
    c.stale_power = 0.5f;
    float w0 = loco_async_stale_weight(&c, 0), w3 = loco_async_stale_weight(&c, 3);
    CHECK(w0 == 1.0f && w3 == 0.5f, "poly 0.5: s=0 gives %a, s=3 gives %a", w0, w3);
    CHECK(loco_async_stale_weight(&c, -2) == 1.0f, "a negative age is not 0");
    float w8 = loco_async_stale_weight(&c, 8);
    CHECK(w8 == (float)(1.0 / 3.0), "poly 0.5, s=8: %a, not 1/3", w8);
    /* Power 1: 1/(1 + s); power 0: always 1. */
    c.stale_power = 1.0f;
    CHECK(loco_async_stale_weight(&c, 3) == 0.25f && loco_async_stale_weight(&c, 9) == 0.1f,
          "poly 1: s=3 gives %g, s=9 gives %g", loco_async_stale_weight(&c, 3),
          loco_async_stale_weight(&c, 9));
    c.stale_power = 0.0f;
    CHECK(loco_async_stale_weight(&c, 7) == 1.0f, "poly 0 is not 1");
    /* Older is never heavier. */
    c.stale_power = 0.5f;
    for (long s = 0; s < 50; s++)
        CHECK(loco_async_stale_weight(&c, s + 1) < loco_async_stale_weight(&c, s), "not decreasing at s=%ld", s);
    CHECK(loco_async_stale_weight(NULL, 5) == 1.0f, "NULL config");
}

LOCO_TEST(async_rules_dylu) {
    /* max(min_steps, floor(H * speed / max_speed)) */
    CHECK(loco_dylu_steps(100, 3.0, 3.0, 5) == 100, "fastest worker");
    CHECK(loco_dylu_steps(100, 1.5, 3.0, 5) == 50, "half speed: %d", loco_dylu_steps(100, 1.5, 3.0, 5));
    CHECK(loco_dylu_steps(100, 1.0, 3.0, 5) == 33, "a third: %d", loco_dylu_steps(100, 1.0, 3.0, 5));
    CHECK(loco_dylu_steps(100, 2.0, 3.0, 5) == 66, "two thirds: %d", loco_dylu_steps(100, 2.0, 3.0, 5));
    CHECK(loco_dylu_steps(10, 3.0, 10.0, 0) == 3, "exact quotient: %d", loco_dylu_steps(10, 3.0, 10.0, 0));
    /* The floor of min_steps. */
    CHECK(loco_dylu_steps(100, 0.01, 1.0, 5) == 5, "min 5: %d", loco_dylu_steps(100, 0.01, 1.0, 5));
    CHECK(loco_dylu_steps(100, 0.04, 1.0, 5) == 5, "min 5 above 4: %d", loco_dylu_steps(100, 0.04, 1.0, 5));
    CHECK(loco_dylu_steps(100, 0.4, 1.0, 5) == 40, "40 above min 5: %d", loco_dylu_steps(100, 0.4, 1.0, 5));
    /* The clamps: at least 1, at most H. */
    CHECK(loco_dylu_steps(100, 1e-9, 1.0, 0) == 1, "never 0 steps");
    CHECK(loco_dylu_steps(10, 1.0, 2.0, 50) == 10, "min_steps above H");
    CHECK(loco_dylu_steps(10, 5.0, 2.0, 1) == 10, "faster than the fastest");
    /* Speeds that are not positive and finite leave H alone. */
    CHECK(loco_dylu_steps(30, 0.0, 2.0, 1) == 30 && loco_dylu_steps(30, -1.0, 2.0, 1) == 30
          && loco_dylu_steps(30, 1.0, 0.0, 1) == 30 && loco_dylu_steps(30, NAN, 2.0, 1) == 30
          && loco_dylu_steps(30, 1.0, INFINITY, 1) == 30 && loco_dylu_steps(30, INFINITY, 2.0, 1) == 30,
          "bad speeds");
    CHECK(loco_dylu_steps(0, 1.0, 2.0, 1) == 0, "H = 0");
}

LOCO_TEST(async_rules_least_visited) {
    const long a[] = {3, 1, 1, 2};
    CHECK(loco_least_visited(a, 4) == 1, "tie between 1 and 2: %d", loco_least_visited(a, 4));
    const long b[] = {5, 5, 5};
    CHECK(loco_least_visited(b, 3) == 0, "all equal: %d", loco_least_visited(b, 3));
    const long c[] = {4, 3, 2, 1, 0};
    CHECK(loco_least_visited(c, 5) == 4, "last: %d", loco_least_visited(c, 5));
    CHECK(loco_least_visited(c, 3) == 2, "only the first 3: %d", loco_least_visited(c, 3));
    const long d[] = {0, -1, 7, -1};
    CHECK(loco_least_visited(d, 4) == 1, "negative counts: %d", loco_least_visited(d, 4));
    CHECK(loco_least_visited(a, 1) == 0, "one shard");
    CHECK(loco_least_visited(a, 0) == -1 && loco_least_visited(a, -2) == -1
          && loco_least_visited(NULL, 3) == -1, "no shards");
}

/* One push of g to a single parameter; checks the return value. */
static int push1(const loco_async_config *c, loco_async_state *st, float *theta, float g) {
    return loco_async_push(c, st, theta, &g, 1);
}

LOCO_TEST(async_rules_by_hand) {
    /* eps = beta = 0.5, N = 2, theta0 = 0, pushes 2 then 4: every value is a
     * short binary fraction, so the float results are exact.
     *   NAIVE:  m = 2,  theta = -0.5*(2 + 1)          = -1.5
     *           m = 5,  theta = -1.5 - 0.5*(4 + 2.5)  = -4.75
     *   BUFFER: buffered; then a = 3, m = 3, theta = -0.5*(3 + 1.5) = -2.25
     *   DN:     theta = -0.5*(2/2) = -0.5, buf = 2;
     *           m = 0.5*0 + 6/2 = 3, theta = -0.5 - 0.5*(4/2 + 1.5) = -2.25
     * DN lands where BUFFER does at the end of the period. */
    loco_async_config c;
    loco_async_config_default(&c, 2);
    c.lr = 0.5f;
    c.momentum = 0.5f;
    float block[2], theta;
    loco_async_state st;

    c.rule = LOCO_ASYNC_NAIVE;
    theta = 0.0f;
    loco_async_state_init(&st, block, 1);
    int r1 = push1(&c, &st, &theta, 2.0f);
    CHECK(r1 == 1 && theta == -1.5f && st.m[0] == 2.0f, "naive push 1: %d, theta %g, m %g", r1, theta, st.m[0]);
    int r2 = push1(&c, &st, &theta, 4.0f);
    CHECK(r2 == 1 && theta == -4.75f && st.m[0] == 5.0f, "naive push 2: %d, theta %g, m %g", r2, theta, st.m[0]);
    CHECK(st.arrivals == 2 && st.updates == 2 && st.pending == 0 && st.buf[0] == 0.0f, "naive counters");

    const loco_async_rule buffered[2] = {LOCO_ASYNC_BUFFER, LOCO_ASYNC_SYNC};
    for (int k = 0; k < 2; k++) {
        c.rule = buffered[k];
        theta = 0.0f;
        loco_async_state_init(&st, block, 1);
        r1 = push1(&c, &st, &theta, 2.0f);
        CHECK(r1 == 0 && theta == 0.0f && st.buf[0] == 2.0f && st.pending == 1 && st.updates == 0
              && st.arrivals == 1, "%s push 1: %d, theta %g", loco_async_rule_name(c.rule), r1, theta);
        r2 = push1(&c, &st, &theta, 4.0f);
        CHECK(r2 == 1 && theta == -2.25f && st.m[0] == 3.0f && st.buf[0] == 0.0f && st.pending == 0
              && st.updates == 1 && st.arrivals == 2, "%s push 2: %d, theta %g, m %g",
              loco_async_rule_name(c.rule), r2, theta, st.m[0]);
    }

    c.rule = LOCO_ASYNC_DN;
    theta = 0.0f;
    loco_async_state_init(&st, block, 1);
    r1 = push1(&c, &st, &theta, 2.0f);
    CHECK(r1 == 1 && theta == -0.5f && st.m[0] == 0.0f && st.buf[0] == 2.0f && st.pending == 1
          && st.updates == 1, "dn push 1: %d, theta %g, m %g, buf %g", r1, theta, st.m[0], st.buf[0]);
    r2 = push1(&c, &st, &theta, 4.0f);
    CHECK(r2 == 1 && theta == -2.25f && st.m[0] == 3.0f && st.buf[0] == 0.0f && st.pending == 0
          && st.updates == 2 && st.arrivals == 2, "dn push 2: %d, theta %g, m %g, buf %g", r2, theta,
          st.m[0], st.buf[0]);

    /* Bad arguments change nothing. */
    CHECK(loco_async_push(&c, NULL, &theta, block, 1) == LOCO_EINVAL
          && loco_async_push(NULL, &st, &theta, block, 1) == LOCO_EINVAL
          && loco_async_push(&c, &st, NULL, block, 1) == LOCO_EINVAL
          && loco_async_push(&c, &st, &theta, NULL, 1) == LOCO_EINVAL && st.arrivals == 2,
          "NULL arguments accepted");
    CHECK(loco_async_state_floats(10) == 20 && loco_async_state_floats(SIZE_MAX) == 0, "state floats");
}

/* theta0 ~ N(0, 1) and pushes g ~ N(0, gs^2) scaled by a random staleness
 * weight (poly, power 0.5, s in 0..7): what a driver would hand the server. */
static void random_problem(loco_rng *rng, float *theta0, float *g, size_t n, int pushes, float gs) {
    loco_async_config w;
    loco_async_config_default(&w, 1);
    w.stale = LOCO_STALE_POLY;
    for (size_t i = 0; i < n; i++) theta0[i] = loco_rng_normal(rng);
    for (int p = 0; p < pushes; p++) {
        float wt = loco_async_stale_weight(&w, (long)(loco_rng_u64(rng) % 8));
        for (size_t i = 0; i < n; i++) g[(size_t)p * n + i] = wt * gs * loco_rng_normal(rng);
    }
}

LOCO_TEST(async_rules_dn1_equals_naive) {
    /* DN with N = 1 must be NAIVE bit for bit: theta, m, buf and the
     * counters, over 50 pushes on 3000 values, with momentum 0.9 and 0.  The
     * first values of theta and of every push are chosen by hand: signed
     * zeros, subnormals, and large and tiny magnitudes.  Momentum 0 is there
     * for the signed zeros: 0*m is -0 whenever m is negative, which is what
     * makes DN's textbook form, m = beta*m + (0 + g)/1, end in +0 where
     * NAIVE's m = beta*m + g ends in -0 (g = -0).  With 0.9 that never
     * happens (m starts at +0, and 0.9 times a subnormal does not round to
     * zero).  As a control, DN with N = 2 must differ, or the comparison
     * would prove nothing. */
    enum { N = 3000, PUSHES = 50 };
    static const float special[] = {-0.0f, 0.0f, -0.0f, 0x1p-149f, -1e-40f, 3e30f, -1e-30f, 1.0f};
    static const float momenta[2] = {0.9f, 0.0f};
    const int n_special = (int)(sizeof special / sizeof special[0]);
    float *theta0 = malloc(N * sizeof(float)), *g = malloc((size_t)PUSHES * N * sizeof(float));
    float *th[3], *blk[3];
    for (int k = 0; k < 3; k++) {
        th[k] = malloc(N * sizeof(float));
        blk[k] = malloc(loco_async_state_floats(N) * sizeof(float));
    }
    if (!theta0 || !g || !th[0] || !th[1] || !th[2] || !blk[0] || !blk[1] || !blk[2]) {
        FAIL("out of memory");
        goto done;
    }
    loco_rng rng;
    loco_rng_seed(&rng, 51);
    random_problem(&rng, theta0, g, N, PUSHES, 0.3f);
    for (int i = 0; i < n_special; i++) {
        theta0[i] = special[(i + 3) % n_special];
        for (int p = 0; p < PUSHES; p++)
            g[(size_t)p * N + i] = (p % 3 == 0 ? -1.0f : 1.0f) * special[(i + p) % n_special];
    }
    for (int b = 0; b < 2; b++) {
        /* 0: NAIVE, 1: DN with N = 1, 2: DN with N = 2. */
        loco_async_config c[3];
        loco_async_state st[3];
        for (int k = 0; k < 3; k++) {
            loco_async_config_default(&c[k], k == 2 ? 2 : 1);
            c[k].rule = k == 0 ? LOCO_ASYNC_NAIVE : LOCO_ASYNC_DN;
            c[k].momentum = momenta[b];
            memcpy(th[k], theta0, N * sizeof(float));
            loco_async_state_init(&st[k], blk[k], N);
        }
        for (int p = 0; p < PUSHES; p++)
            for (int k = 0; k < 3; k++) {
                int r = loco_async_push(&c[k], &st[k], th[k], g + (size_t)p * N, N);
                CHECK(r == 1, "%s N=%d push %d returned %d", loco_async_rule_name(c[k].rule),
                      c[k].period, p, r);
            }
        CHECK(memcmp(th[0], th[1], N * sizeof(float)) == 0,
              "momentum %g: theta of DN with N = 1 differs from NAIVE", momenta[b]);
        CHECK(memcmp(blk[0], blk[1], 2 * N * sizeof(float)) == 0,
              "momentum %g: m or buf of DN with N = 1 differs from NAIVE", momenta[b]);
        CHECK(st[0].arrivals == st[1].arrivals && st[0].updates == st[1].updates
              && st[0].pending == st[1].pending && st[1].arrivals == PUSHES
              && st[1].updates == PUSHES && st[1].pending == 0,
              "counters: naive %ld/%ld/%d, dn %ld/%ld/%d", st[0].arrivals, st[0].updates,
              st[0].pending, st[1].arrivals, st[1].updates, st[1].pending);
        size_t diff = 0, neg_zero_m = 0;
        for (int i = 0; i < N; i++) {
            diff += memcmp(&th[0][i], &th[2][i], sizeof(float)) != 0;
            neg_zero_m += st[0].m[i] == 0.0f && signbit(st[0].m[i]);
        }
        CHECK(diff > N / 2, "momentum %g: the control (DN with N = 2) differs from NAIVE in only "
              "%zu of %d values", momenta[b], diff, N);
        /* With momentum 0 the final m is the last push, so the hand-made -0
         * pushes must leave some -0 in m: the corner is really exercised. */
        if (momenta[b] == 0.0f)
            CHECK(neg_zero_m > 0, "momentum 0: no -0 left in m; the signed-zero corner went untested");
        const int same = memcmp(th[0], th[1], N * sizeof(float)) == 0
                      && memcmp(blk[0], blk[1], 2 * N * sizeof(float)) == 0;
        fprintf(stderr, "  momentum %g: DN N=1 vs NAIVE over %d pushes x %d values: %s (%zu values "
                "of m are -0); DN N=2 differs in %zu values\n", momenta[b], PUSHES, N,
                same ? "bit-identical" : "DIFFERENT", neg_zero_m, diff);
    }
done:
    free(theta0); free(g);
    for (int k = 0; k < 3; k++) { free(th[k]); free(blk[k]); }
}

/* max |a - b| and max |b| over n values; b in float or double. */
static double max_diff(const float *a, const float *bf, const double *bd, size_t n, double *scale) {
    double e = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double b = bf ? (double)bf[i] : bd[i];
        e = fmax(e, fabs((double)a[i] - b));
        s = fmax(s, fabs(b));
    }
    *scale = s;
    return e;
}

LOCO_TEST(async_rules_dn_period_equals_buffer) {
    /* Over each full period of N pushes DN moves theta by what BUFFER's one
     * step moves it (docs/async.md): eps*sum_j g_j/N applied as the pushes
     * arrive, plus eps*beta*m at the period's end, against eps*(a + beta*m)
     * at once.  The momentum is built by the same float operations on the
     * same values (buf = ((0 + g1) + g2) + ..., then m = beta*m + buf/N), so
     * m must agree to the bit; theta differs only by the rounding of N - 1
     * more subtractions per period, a few ulps of its scale, so 1e-6 of the
     * scale bounds it while a wrong DN (buf/N applied at the period's end
     * instead of g/N, which applies eps*(g_1 + ... + g_{N-1})/N twice) misses
     * by 1e-2 or more. */
    enum { N = 1000, PER = 4, PERIODS = 5 };
    float *theta0 = malloc(N * sizeof(float)), *g = malloc((size_t)PER * PERIODS * N * sizeof(float));
    float *thd = malloc(N * sizeof(float)), *thb = malloc(N * sizeof(float));
    float *bd = malloc(2 * N * sizeof(float)), *bb = malloc(2 * N * sizeof(float));
    if (!theta0 || !g || !thd || !thb || !bd || !bb) { FAIL("out of memory"); goto done; }
    loco_rng rng;
    loco_rng_seed(&rng, 4);
    random_problem(&rng, theta0, g, N, PER * PERIODS, 0.3f);
    loco_async_config cd, cb;
    loco_async_config_default(&cd, PER);
    cb = cd;
    cb.rule = LOCO_ASYNC_BUFFER;
    loco_async_state sd, sb;
    loco_async_state_init(&sd, bd, N);
    loco_async_state_init(&sb, bb, N);
    memcpy(thd, theta0, N * sizeof(float));
    memcpy(thb, theta0, N * sizeof(float));
    double worst = 0.0;
    for (int p = 0; p < PER * PERIODS; p++) {
        loco_async_push(&cd, &sd, thd, g + (size_t)p * N, N);
        loco_async_push(&cb, &sb, thb, g + (size_t)p * N, N);
        if ((p + 1) % PER) continue;
        double scale, e = max_diff(thd, thb, NULL, N, &scale), moved, s0;
        moved = max_diff(thb, theta0, NULL, N, &s0);
        CHECK(memcmp(sd.m, sb.m, N * sizeof(float)) == 0, "period %d: m differs", (p + 1) / PER);
        CHECK(e <= 1e-6 * scale, "period %d: theta off by %.3g > 1e-6 * %.3g", (p + 1) / PER, e, scale);
        CHECK(moved >= 1e-2 * scale, "period %d: theta barely moved (%.3g)", (p + 1) / PER, moved);
        worst = fmax(worst, e / scale);
    }
    CHECK(sd.updates == PER * PERIODS && sb.updates == PERIODS && sd.pending == 0 && sb.pending == 0,
          "counters: dn %ld updates, buffer %ld", sd.updates, sb.updates);
    fprintf(stderr, "  DN vs BUFFER at the ends of %d periods of %d: m bitwise equal, theta within "
            "%.2g of scale\n", PERIODS, PER, worst);
done:
    free(theta0); free(g); free(thd); free(thb); free(bd); free(bb);
}

/* ------------------------------------------------------- against numpy */

#define CMP_N 777
#define CMP_PUSHES 22
#define CMP_CASES 5

static loco_async_config cmp_config(int i) {
    loco_async_config c;
    loco_async_config_default(&c, 1);
    switch (i) {
    case 0: c.rule = LOCO_ASYNC_NAIVE; c.stale = LOCO_STALE_POLY; break;
    case 1: c.rule = LOCO_ASYNC_BUFFER; c.period = 3; break;
    case 2: c.rule = LOCO_ASYNC_SYNC; c.period = 4; c.stale = LOCO_STALE_POLY; c.stale_power = 1.0f;
            c.lr = 0.5f; c.momentum = 0.8f; break;
    case 3: c.rule = LOCO_ASYNC_DN; c.period = 4; c.stale = LOCO_STALE_POLY; break;
    default: c.rule = LOCO_ASYNC_DN; c.period = 1; break;
    }
    return c;
}

/* The counters after CMP_PUSHES = 22 pushes: updates, pending. */
static const long cmp_updates[CMP_CASES] = {22, 7, 5, 22, 22};
static const int cmp_pending[CMP_CASES] = {0, 1, 2, 2, 0};

LOCO_TEST(async_rules_match_numpy) {
    if (access(LOCO_TEST_PYTHON, X_OK) != 0) {
        FAIL("%s not found; the reference needs it with numpy (apt-get install python3-numpy)",
             LOCO_TEST_PYTHON);
        return;
    }
    if (access(REF_SCRIPT, R_OK) != 0) {
        FAIL("%s not found; run the tests from the repository root", REF_SCRIPT);
        return;
    }
    const size_t n = CMP_N;
    float *theta0 = malloc(n * sizeof(float)), *g = malloc((size_t)CMP_PUSHES * n * sizeof(float));
    float *mine = malloc((size_t)CMP_CASES * 3 * n * sizeof(float));
    float *ref = malloc((size_t)CMP_CASES * 3 * n * sizeof(float));
    double *ref64 = malloc((size_t)CMP_CASES * n * sizeof(double));
    float *wg = malloc(n * sizeof(float));
    if (!theta0 || !g || !mine || !ref || !ref64 || !wg) { FAIL("out of memory"); goto done; }

    /* theta0 ~ N(0, 1), raw pushes ~ N(0, 0.3^2), ages s uniform in 0..7;
     * each case weights the pushes by its own staleness rule. */
    loco_rng rng;
    loco_rng_seed(&rng, 2025);
    int32_t ages[CMP_PUSHES];
    for (size_t i = 0; i < n; i++) theta0[i] = loco_rng_normal(&rng);
    for (size_t i = 0; i < (size_t)CMP_PUSHES * n; i++) g[i] = 0.3f * loco_rng_normal(&rng);
    for (int p = 0; p < CMP_PUSHES; p++) ages[p] = (int32_t)(loco_rng_u64(&rng) % 8);

    float weights[CMP_CASES][CMP_PUSHES];
    loco_async_state st[CMP_CASES];
    for (int k = 0; k < CMP_CASES; k++) {
        loco_async_config c = cmp_config(k);
        float *th = mine + (size_t)k * 3 * n;
        memcpy(th, theta0, n * sizeof(float));
        /* The state block is m then buf: exactly the two arrays after theta. */
        loco_async_state_init(&st[k], th + n, n);
        for (int p = 0; p < CMP_PUSHES; p++) {
            weights[k][p] = loco_async_stale_weight(&c, ages[p]);
            for (size_t i = 0; i < n; i++) wg[i] = g[(size_t)p * n + i] * weights[k][p];
            if (loco_async_push(&c, &st[k], th, wg, n) < 0) FAIL("case %d: push %d refused", k, p);
        }
    }

    char in_path[] = "/tmp/loco-async-in-XXXXXX";
    char out_path[] = "/tmp/loco-async-out-XXXXXX";
    int in_fd = mkstemp(in_path);
    int out_fd = mkstemp(out_path);
    if (in_fd < 0 || out_fd < 0) {
        FAIL("mkstemp under /tmp failed");
        if (in_fd >= 0) { close(in_fd); unlink(in_path); }
        if (out_fd >= 0) { close(out_fd); unlink(out_path); }
        goto done;
    }
    close(out_fd);
    FILE *f = fdopen(in_fd, "wb");
    int werr = !f;
    if (f) {
        int32_t ints[3] = {CMP_CASES, CMP_PUSHES, (int32_t)n};
        werr |= loco_test_put(f, "LOCOASY1", 8) | loco_test_put(f, ints, sizeof ints)
              | loco_test_put(f, theta0, n * sizeof(float))
              | loco_test_put(f, g, (size_t)CMP_PUSHES * n * sizeof(float))
              | loco_test_put(f, ages, sizeof ages);
        for (int k = 0; k < CMP_CASES; k++) {
            loco_async_config c = cmp_config(k);
            int32_t head[3] = {(int32_t)c.rule, c.period, (int32_t)c.stale};
            float hyper[3] = {c.lr, c.momentum, c.stale_power};
            werr |= loco_test_put(f, head, sizeof head) | loco_test_put(f, hyper, sizeof hyper);
        }
        werr |= fclose(f) != 0;
    } else {
        close(in_fd);
    }
    if (werr) {
        FAIL("could not write %s", in_path);
        goto cleanup;
    }
    char why[256];
    if (loco_test_reference(REF_SCRIPT, in_path, out_path, "numpy", why, sizeof why) != 0) {
        FAIL("%s", why);
        goto cleanup;
    }
    f = fopen(out_path, "rb");
    char magic[8];
    float ref_w[CMP_CASES][CMP_PUSHES];
    int32_t ref_counters[CMP_CASES][3];
    int rerr = !f || fread(magic, 1, 8, f) != 8 || memcmp(magic, "LOCOASYR", 8) != 0;
    for (int k = 0; k < CMP_CASES && !rerr; k++)
        rerr = fread(ref_w[k], sizeof(float), CMP_PUSHES, f) != CMP_PUSHES
            || fread(ref + (size_t)k * 3 * n, sizeof(float), 3 * n, f) != 3 * n
            || fread(ref64 + (size_t)k * n, sizeof(double), n, f) != n
            || fread(ref_counters[k], sizeof(int32_t), 3, f) != 3;
    rerr = rerr || fgetc(f) != EOF;
    if (f) fclose(f);
    if (rerr) {
        FAIL("%s: missing, short or malformed reference output", out_path);
        goto cleanup;
    }

    /* The tolerance: 1e-6 of each array's largest magnitude, for theta, m
     * and buf.  Each push rounds about five float operations per element on
     * numbers no larger than the array's scale (theta about 1, the pushes
     * 0.3, m at most 1/(1 - beta) = 10 pushes' worth); both sides round each
     * one correctly and, without fused multiply-adds, in the same order, so
     * they agree to the bit.  A compiler that contracts beta*m + a or
     * theta - eps*(...) into an FMA skips one rounding there: half an ulp of
     * the scale, 6e-8 of it.  m forgets such differences by the factor beta
     * per update (at most 10 rounding's worth), and theta adds them up over
     * 22 pushes, a few 1e-7 at most; 1e-6 admits that and nothing more,
     * since theta moves by about its own scale and a wrong rule (a missing
     * look-ahead, the average applied twice, a buffer not cleared) misses by
     * 1e-2 or more.  As calibration, both fp32 runs are measured against the
     * float64 run: ours may be no further from it than twice numpy's own
     * distance plus 1e-7 of the scale. */
    const double tol = 1e-6;
    for (int k = 0; k < CMP_CASES; k++) {
        loco_async_config c = cmp_config(k);
        const char *name = loco_async_rule_name(c.rule);
        const float *th = mine + (size_t)k * 3 * n, *rth = ref + (size_t)k * 3 * n;
        double worst = 0.0;
        const char *what[3] = {"theta", "m", "buf"};
        for (int a = 0; a < 3; a++) {
            double scale, e = max_diff(th + (size_t)a * n, rth + (size_t)a * n, NULL, n, &scale);
            CHECK(e <= tol * scale, "%s N=%d: %s off by %.3g > %.0e * %.3g", name, c.period, what[a], e,
                  tol, scale);
            if (scale > 0) worst = fmax(worst, e / scale);
        }
        double s64, st64, s0;
        double e64 = max_diff(th, NULL, ref64 + (size_t)k * n, n, &s64);
        double et64 = max_diff(rth, NULL, ref64 + (size_t)k * n, n, &st64);
        CHECK(e64 <= 2 * et64 + 1e-7 * s64, "%s N=%d: %.3g from float64, numpy fp32 only %.3g", name,
              c.period, e64, et64);
        double moved = max_diff(rth, theta0, NULL, n, &s0);
        CHECK(moved >= 1e-2 * s0, "%s N=%d: theta barely moved (%.3g)", name, c.period, moved);
        int bitwise = memcmp(th, rth, 3 * n * sizeof(float)) == 0;
        /* The staleness weights: ours against (1 + s)^-power in numpy, within
         * one float rounding (both take the power in double and round once). */
        for (int p = 0; p < CMP_PUSHES; p++)
            CHECK(fabsf(weights[k][p] - ref_w[k][p]) <= 0x1p-23f * ref_w[k][p],
                  "%s: weight at s=%d is %a, numpy %a", name, (int)ages[p], weights[k][p], ref_w[k][p]);
        /* The counters, against the reference and against the arithmetic
         * (22 pushes: BUFFER N=3 applies 7 times with 1 left, SYNC N=4 5
         * times with 2 left, DN N=4 moves theta on every push with 2 in buf). */
        CHECK(st[k].arrivals == CMP_PUSHES && st[k].arrivals == ref_counters[k][0]
              && st[k].updates == ref_counters[k][1] && st[k].pending == ref_counters[k][2]
              && st[k].updates == cmp_updates[k] && st[k].pending == cmp_pending[k],
              "%s N=%d: counters %ld/%ld/%d, numpy %d/%d/%d", name, c.period, st[k].arrivals,
              st[k].updates, st[k].pending, ref_counters[k][0], ref_counters[k][1], ref_counters[k][2]);
        fprintf(stderr, "  %-6s N=%d %-8s: vs numpy fp32 %.2g of scale%s; vs float64: ours %.2g, "
                "numpy fp32 %.2g\n", name, c.period, loco_stale_name(c.stale), worst,
                bitwise ? " (bit-identical)" : "", e64 / s64, et64 / st64);
    }
cleanup:
    unlink(in_path);
    unlink(out_path);
done:
    free(theta0); free(g); free(mine); free(ref); free(ref64); free(wg);
}
