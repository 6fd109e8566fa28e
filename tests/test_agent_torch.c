/*
 * The whole agent against a PyTorch re-implementation (tests/ref_agent.py):
 * a tiny model (tests/agent_fixture.c) with every parameter perturbed away
 * from its initial value, one batch of B=3 sequences of T=5 steps (resets
 * mid-sequence, absent fields and elements, every action type, a step left
 * out), the unrolled forward pass with BPTT through both LSTMs, the loss, the
 * logits of every head and the gradient of every parameter tensor.
 *
 * Torch runs in float64 (the exact answer for loco's float parameters) and in
 * float32 (how far an independent float implementation lands from it).  The
 * check: loco's error against float64 is at most ERR_FACTOR times torch
 * float32's own error, or below the float floor, per tensor, relative to the
 * tensor's scale.  Both are float computations of the same function, so both
 * err by float round-off amplified by the same conditioning; a factor 10
 * covers the different summation orders (BLAS vs torch's kernels, loops vs
 * fused ops), while a wrong term or index is an error of order 1.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/agent.h"
#include "test.h"
#include "util.h"
#include "agent_fixture.h"

#define ERR_FACTOR 10.0
#define FLOOR 1e-5   /* 100x float's unit round-off: a float result cannot be asked for better */

static double *reference(const char *in, const char *dtype, long n, char *why, size_t wn) {
    char out[] = "/tmp/loco_agent_ref_XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0) return NULL;
    close(fd);
    char script[64];
    snprintf(script, sizeof script, "tests/ref_agent.py");
    /* loco_test_reference runs "python script in out"; the dtype rides on the out path's twin */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s %s %s %s %s", LOCO_TEST_PYTHON, script, in, out, dtype);
    int rc = system(cmd);
    double *buf = NULL;
    if (rc == 0) {
        FILE *f = fopen(out, "rb");
        buf = malloc(n * sizeof(double));
        if (!f || fread(buf, sizeof(double), n, f) != (size_t)n || fgetc(f) != EOF) {
            free(buf);
            buf = NULL;
            snprintf(why, wn, "ref_agent.py wrote a file of the wrong size");
        }
        if (f) fclose(f);
    } else {
        snprintf(why, wn, "%s %s failed (status %d; exit 3 means no torch: apt-get install python3-torch)",
                 LOCO_TEST_PYTHON, script, rc);
    }
    unlink(out);
    return buf;
}

static double err_vs(const float *a, const double *ref, long n, int skip_inf) {
    double m = 0, s = 0;
    for (long i = 0; i < n; i++) {
        if (skip_inf && isinf(ref[i])) continue;
        s = fmax(s, fabs(ref[i]));
    }
    for (long i = 0; i < n; i++) {
        if (skip_inf && isinf(ref[i])) {
            if (!isinf(a[i])) return INFINITY;
            continue;
        }
        double d = fabs((double)a[i] - ref[i]);
        if (isnan(d)) return NAN;
        m = fmax(m, d);
    }
    return m / fmax(s, 1e-30);
}
static double err_dd(const double *a, const double *ref, long n, int skip_inf) {
    float *t = malloc(n * sizeof(float));
    for (long i = 0; i < n; i++) t[i] = (float)a[i];   /* float32 torch values are exact in float */
    double e = err_vs(t, ref, n, skip_inf);
    free(t);
    return e;
}

static void check_obs(int *loco_test_failed_, int obs) {
    loco_agent_config c;
    agent_fixture_config(&c, obs);
    const int B = 3, T = 5;
    loco_agent *m;
    char msg[256];
    if (loco_agent_create(&m, &c, B, T, 11, msg, sizeof msg) != LOCO_OK) {
        FAIL("create: %s", msg);
        return;
    }
    loco_rng r;
    loco_rng_seed(&r, 5);
    float *p = loco_agent_params(m);
    for (size_t i = 0; i < loco_agent_num_params(m); i++) p[i] += 0.1f * loco_rng_normal(&r);
    agent_fixture fx;
    agent_fixture_batch(&fx, &c, B, T, 99);
    CHECK(loco_agent_forward(m, &fx.b, msg, sizeof msg) == LOCO_OK, "forward: %s", msg);
    loco_agent_zero_grad(m);
    CHECK(loco_agent_backward(m) == LOCO_OK, "backward");

    char in[] = "/tmp/loco_agent_in_XXXXXX";
    int fd = mkstemp(in);
    close(fd);
    agent_fixture_write(in, m, &fx);
    const int R = B * T;
    const long nlg[5] = {R * LOCO_ACT_NUM_TYPES, R * c.x_bins, R * c.y_bins, R * c.n_keys, R * c.max_fields};
    long n = 1 + nlg[0] + nlg[1] + nlg[2] + nlg[3] + nlg[4] + (long)loco_agent_num_params(m);
    char why[300] = "";
    double *r64 = reference(in, "float64", n, why, sizeof why);
    double *r32 = r64 ? reference(in, "float32", n, why, sizeof why) : NULL;
    unlink(in);
    if (!r64 || !r32) {
        FAIL("PyTorch reference: %s", why);
    } else {
        int verbose = getenv("LOCO_TEST_VERBOSE") != NULL;
        float loss = loco_agent_loss(m);
        double el = fabs(loss - r64[0]) / fabs(r64[0]), el32 = fabs(r32[0] - r64[0]) / fabs(r64[0]);
        if (verbose) fprintf(stderr, "    obs %d loss %.7f torch64 %.7f: err %.2e (torch32 %.2e)\n", obs, loss, r64[0], el, el32);
        CHECK(el <= fmax(FLOOR, ERR_FACTOR * el32), "loss %.8f vs torch %.8f", loss, r64[0]);
        /* logits, time-major rows as loco keeps them */
        const char *hn[5] = {"type", "x", "y", "key", "field"};
        long k = 1;
        for (int h = 0; h < 5; h++) {
            float *mine = malloc(nlg[h] * sizeof(float));
            long w = nlg[h] / R;
            for (int t = 0; t < T; t++)
                for (int b = 0; b < B; b++) {
                    loco_agent_logits lg;
                    loco_agent_get_logits(m, b, t, &lg);
                    const float *src = h == 0 ? lg.type : h == 1 ? lg.x : h == 2 ? lg.y : h == 3 ? lg.key : lg.field;
                    memcpy(mine + ((long)t * B + b) * w, src, w * sizeof(float));
                }
            double e = err_vs(mine, r64 + k, nlg[h], 1), e32 = err_dd(r32 + k, r64 + k, nlg[h], 1);
            if (verbose) fprintf(stderr, "    obs %d logits %-6s err %.2e (torch32 %.2e)\n", obs, hn[h], e, e32);
            CHECK(e <= fmax(FLOOR, ERR_FACTOR * e32), "obs %d: %s logits err %.3e (torch float32 %.3e)", obs, hn[h], e, e32);
            k += nlg[h];
            free(mine);
        }
        const float *g = loco_agent_grads(m);
        double worst = 0, worst32 = 0;
        const char *wname = "";
        for (int i = 0; i < loco_agent_num_tensors(m); i++) {
            const char *name;
            int nd, sh[4];
            size_t off;
            loco_agent_tensor(m, i, &name, &nd, sh, &off);
            long nn = (long)sh[0] * sh[1] * sh[2] * sh[3];
            double e = err_vs(g + off, r64 + k + off, nn, 0), e32 = err_dd(r32 + k + off, r64 + k + off, nn, 0);
            if (verbose) fprintf(stderr, "    obs %d grad %-22s err %.2e (torch32 %.2e)\n", obs, name, e, e32);
            CHECK(e <= fmax(FLOOR, ERR_FACTOR * e32), "obs %d: gradient of %s: err %.3e (torch float32 %.3e)", obs,
                  name, e, e32);
            double zero = 0;
            for (long j = 0; j < nn; j++) zero = fmax(zero, fabs(r64[k + off + j]));
            if (strcmp(name, "head.value.w") && strcmp(name, "head.value.b"))
                CHECK(zero > 0, "obs %d: gradient of %s is zero in torch: the batch does not reach it", obs, name);
            if (e > worst) { worst = e; wname = name; }
            worst32 = fmax(worst32, e32);
        }
        if (verbose) fprintf(stderr, "    obs %d worst gradient err %.2e (%s); torch float32's worst %.2e\n", obs, worst, wname, worst32);
    }
    free(r64);
    free(r32);
    agent_fixture_free(&fx);
    loco_agent_free(m);
}

LOCO_TEST(agent_step_vs_torch) {
    check_obs(loco_test_failed_, LOCO_OBS_BOTH);
    check_obs(loco_test_failed_, LOCO_OBS_DOM);
    check_obs(loco_test_failed_, LOCO_OBS_PIXELS);
}
