/*
 * Tests of DiLoCo's outer optimizer (src/optim/outer.c): Nesterov, SGD and
 * Adam against torch.optim over ten outer steps, and the exactness that lets
 * one-worker DiLoCo reproduce plain training bit for bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "loco/loco.h"
#include "loco/outer.h"
#include "test.h"
#include "util.h"

#define REF_SCRIPT "tests/ref_outer.py"

LOCO_TEST(outer_config) {
    loco_outer_config c;
    loco_outer_config_default(&c);
    CHECK(c.kind == LOCO_OUTER_NESTEROV && c.lr == 0.7f && c.momentum == 0.9f
          && c.beta2 == 0.999f && c.eps == 1e-8f, "defaults differ from DiLoCo's");
    const loco_outer_kind kinds[] = {LOCO_OUTER_NESTEROV, LOCO_OUTER_SGD, LOCO_OUTER_ADAM};
    for (int k = 0; k < 3; k++) {
        loco_outer_kind got = (loco_outer_kind)-1;
        CHECK(loco_outer_parse(loco_outer_name(kinds[k]), &got) == LOCO_OK && got == kinds[k],
              "%s does not round-trip", loco_outer_name(kinds[k]));
        c.kind = kinds[k];
        CHECK(loco_outer_state_floats(&c, 10) == (kinds[k] == LOCO_OUTER_ADAM ? 20u : 10u),
              "%s: state floats %zu", loco_outer_name(kinds[k]), loco_outer_state_floats(&c, 10));
    }
    loco_outer_kind k = LOCO_OUTER_SGD;
    CHECK(loco_outer_parse("Nesterov", &k) == LOCO_EINVAL && loco_outer_parse("", &k) == LOCO_EINVAL
          && loco_outer_parse(NULL, &k) == LOCO_EINVAL && k == LOCO_OUTER_SGD,
          "bad names accepted or *out touched");
    CHECK(strcmp(loco_outer_name((loco_outer_kind)7), "unknown") == 0, "name of a bad kind");
    c.kind = (loco_outer_kind)7;
    CHECK(loco_outer_state_floats(&c, 10) == 0 && loco_outer_state_floats(NULL, 10) == 0,
          "state floats of a bad config");
    /* An unknown kind changes nothing. */
    float theta[2] = {1.0f, 2.0f}, target[2] = {0.0f, 0.0f}, state[4] = {0};
    loco_outer_step(&c, theta, target, state, 2, 1);
    CHECK(theta[0] == 1.0f && theta[1] == 2.0f, "an unknown kind moved theta");
}

/* A random float of either sign with magnitude 10^U(lo, hi). */
static float random_magnitude(loco_rng *rng, float lo, float hi) {
    float m = powf(10.0f, lo + (hi - lo) * loco_rng_uniform(rng));
    return loco_rng_uniform(rng) < 0.5f ? -m : m;
}

LOCO_TEST(outer_exact_identity) {
    /* With lr = 1 and momentum 0, Nesterov and SGD must land exactly on the
     * target, bit for bit, whatever theta, the target and the old momentum
     * buffer are: that is what makes one-worker, one-inner-step DiLoCo equal
     * plain training.  The pairs cover sign flips, magnitude gaps up to 24
     * orders, signed zeros, equal values and subnormals; the first ones are
     * chosen by hand. */
    enum { N = 20000, STEPS = 3 };
    static const float special[][2] = {
        {1e-6f, -1e-3f}, {1.0f, -0x1p-30f}, {-0.0f, -0.0f}, {0.0f, -0.0f}, {-0.0f, 0.0f},
        {0.0f, 0.0f}, {3.0f, 3.0f}, {0x1p-149f, 1.0f}, {1e30f, -1e-30f}, {65504.0f, -1e-8f},
        {-1e-38f, 1e38f}, {0.1f, 0.2f}, {-0.0f, 1e-45f}, {1e-45f, -0.0f},
    };
    const int n_special = (int)(sizeof special / sizeof special[0]);
    float *theta = malloc(N * sizeof(float)), *target = malloc(N * sizeof(float));
    float *state = malloc(N * sizeof(float)), *naive = malloc(N * sizeof(float));
    if (!theta || !target || !state || !naive) { FAIL("out of memory"); goto done; }
    loco_rng rng;
    loco_rng_seed(&rng, 77);
    const loco_outer_kind kinds[2] = {LOCO_OUTER_NESTEROV, LOCO_OUTER_SGD};
    size_t naive_wrong = 0, naive_wrong_special = 0;
    for (int kk = 0; kk < 2; kk++) {
        loco_outer_config c;
        loco_outer_config_default(&c);
        c.kind = kinds[kk];
        c.lr = 1.0f;
        c.momentum = 0.0f;
        for (int i = 0; i < N; i++) {
            theta[i] = random_magnitude(&rng, -8.0f, 4.0f);
            state[i] = random_magnitude(&rng, -8.0f, 4.0f);   /* an old momentum buffer */
        }
        for (int s = 0; s < STEPS; s++) {
            for (int i = 0; i < N; i++) target[i] = random_magnitude(&rng, -8.0f, 4.0f);
            for (int i = 0; i < n_special; i++) {
                theta[i] = special[i][0];
                target[i] = special[i][1];
            }
            /* What theta - lr*(theta - target) gives in float. */
            for (int i = 0; i < N; i++) naive[i] = theta[i] - c.lr * (theta[i] - target[i]);
            loco_outer_step(&c, theta, target, state, N, s + 1);
            size_t wrong = 0;
            for (int i = 0; i < N; i++) {
                if (memcmp(&theta[i], &target[i], sizeof(float)) != 0 && wrong++ < 5)
                    FAIL("%s step %d, element %d: theta %a, target %a", loco_outer_name(c.kind), s,
                         i, theta[i], target[i]);
                if (memcmp(&naive[i], &target[i], sizeof(float)) != 0) {
                    naive_wrong++;
                    naive_wrong_special += i < n_special;
                }
            }
            /* The hand-made counterexample: delta = fl(1 + 2^-30) = 1, so the
             * naive form returns 1 - 1 = 0 instead of -2^-30. */
            CHECK(naive[1] == 0.0f, "naive form at theta 1, target -2^-30 gave %a", naive[1]);
        }
    }
    /* The naive form must really fail here, or the test would prove nothing. */
    CHECK(naive_wrong > 0, "the naive form never missed the target");
    fprintf(stderr, "  theta == target bitwise in %d steps x %d values x 2 kinds; the naive "
            "theta - lr*(theta - target) missed %zu times (%zu of them hand-made pairs)\n",
            STEPS, N, naive_wrong, naive_wrong_special);
done:
    free(theta); free(target); free(state); free(naive);
}

/* ------------------------------------------------------ against PyTorch */

/* The comparison problem: three tensors of different scales (the optimizer is
 * element-wise, so torch sees them as one; the checks are per tensor, each
 * relative to its own scale), sizes not multiples of the vector width. */
#define CMP_TENSORS 3
#define CMP_STEPS 10
#define CMP_CONFIGS 4
static const int cmp_size[CMP_TENSORS] = {600, 333, 7};
static const float cmp_scale[CMP_TENSORS] = {1.0f, 1e-3f, 1e3f};

static loco_outer_config cmp_config(int i) {
    loco_outer_config c;
    loco_outer_config_default(&c);
    switch (i) {
    case 0: c.kind = LOCO_OUTER_NESTEROV; c.lr = 0.7f; c.momentum = 0.9f; break;
    case 1: c.kind = LOCO_OUTER_SGD; c.lr = 0.7f; c.momentum = 0.9f; break;
    case 2: c.kind = LOCO_OUTER_SGD; c.lr = 0.5f; c.momentum = 0.0f; break;
    default: c.kind = LOCO_OUTER_ADAM; c.lr = 1e-3f; c.momentum = 0.9f; c.beta2 = 0.95f;
             c.eps = 1e-8f; break;
    }
    return c;
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

LOCO_TEST(outer_matches_torch) {
    if (access(LOCO_TEST_PYTHON, X_OK) != 0) {
        FAIL("%s not found; the outer optimizer reference needs it with torch "
             "(apt-get install python3-torch)", LOCO_TEST_PYTHON);
        return;
    }
    if (access(REF_SCRIPT, R_OK) != 0) {
        FAIL("%s not found; run the tests from the repository root", REF_SCRIPT);
        return;
    }
    size_t total = 0;
    for (int k = 0; k < CMP_TENSORS; k++) total += (size_t)cmp_size[k];
    float *theta0 = malloc(total * sizeof(float));
    float *targets = malloc((size_t)CMP_CONFIGS * CMP_STEPS * total * sizeof(float));
    float *mine = malloc((size_t)CMP_CONFIGS * 3 * total * sizeof(float));
    float *ref = malloc((size_t)CMP_CONFIGS * 3 * total * sizeof(float));
    double *ref64 = malloc((size_t)CMP_CONFIGS * total * sizeof(double));
    if (!theta0 || !targets || !mine || !ref || !ref64) { FAIL("out of memory"); goto done; }

    /* theta0 ~ N(0, scale^2) per tensor, and at every step a fresh target
     * around it, theta0 + N(0, (scale/2)^2): pseudo-gradients of the size of
     * the parameters, so that ten steps move them by about their own scale
     * and a wrong update cannot hide in the tolerance. */
    loco_rng rng;
    loco_rng_seed(&rng, 2024);
    size_t off = 0;
    for (int k = 0; k < CMP_TENSORS; k++)
        for (int i = 0; i < cmp_size[k]; i++, off++) theta0[off] = loco_rng_normal(&rng) * cmp_scale[k];
    for (int c = 0; c < CMP_CONFIGS; c++)
        for (int s = 0; s < CMP_STEPS; s++) {
            float *t = targets + ((size_t)c * CMP_STEPS + s) * total;
            off = 0;
            for (int k = 0; k < CMP_TENSORS; k++)
                for (int i = 0; i < cmp_size[k]; i++, off++)
                    t[off] = theta0[off] + 0.5f * cmp_scale[k] * loco_rng_normal(&rng);
        }

    /* The C side: theta, then the state padded to 2 * total floats. */
    for (int c = 0; c < CMP_CONFIGS; c++) {
        loco_outer_config cfg = cmp_config(c);
        float *th = mine + (size_t)c * 3 * total, *st = th + total;
        memcpy(th, theta0, total * sizeof(float));
        memset(st, 0, 2 * total * sizeof(float));
        for (int s = 0; s < CMP_STEPS; s++)
            loco_outer_step(&cfg, th, targets + ((size_t)c * CMP_STEPS + s) * total, st, total, s + 1);
    }

    char in_path[] = "/tmp/loco-outer-in-XXXXXX";
    char out_path[] = "/tmp/loco-outer-out-XXXXXX";
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
        int32_t ints[3] = {CMP_CONFIGS, CMP_STEPS, (int32_t)total};
        werr |= loco_test_put(f, "LOCOOUT1", 8) | loco_test_put(f, ints, sizeof ints);
        for (int c = 0; c < CMP_CONFIGS; c++) {
            loco_outer_config cfg = cmp_config(c);
            int32_t kind = cfg.kind;
            float hyper[4] = {cfg.lr, cfg.momentum, cfg.beta2, cfg.eps};
            werr |= loco_test_put(f, &kind, sizeof kind) | loco_test_put(f, hyper, sizeof hyper)
                  | loco_test_put(f, theta0, total * sizeof(float))
                  | loco_test_put(f, targets + (size_t)c * CMP_STEPS * total, CMP_STEPS * total * sizeof(float));
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
    if (loco_test_reference(REF_SCRIPT, in_path, out_path, "torch", why, sizeof why) != 0) {
        FAIL("%s", why);
        goto cleanup;
    }
    f = fopen(out_path, "rb");
    char magic[8];
    int32_t torch_fuses = 0;
    int rerr = !f || fread(magic, 1, 8, f) != 8 || memcmp(magic, "LOCOOUTR", 8) != 0
            || fread(&torch_fuses, sizeof torch_fuses, 1, f) != 1;
    for (int c = 0; c < CMP_CONFIGS && !rerr; c++)
        rerr = fread(ref + (size_t)c * 3 * total, sizeof(float), 3 * total, f) != 3 * total
            || fread(ref64 + (size_t)c * total, sizeof(double), total, f) != total;
    rerr = rerr || fgetc(f) != EOF;
    if (f) fclose(f);
    if (rerr) {
        FAIL("%s: missing, short or malformed reference output", out_path);
        goto cleanup;
    }

    /* The tolerance: 1e-6 of each tensor's largest magnitude, for the
     * parameters and every state tensor.  Each step rounds a handful of
     * float operations on numbers of the tensor's scale, each by at most
     * half an ulp (6e-8 relative), on both sides and in different orders (we
     * evaluate target - (lr*g - delta) where torch evaluates theta - lr*g, and
     * torch fuses some multiply-adds).  Over ten steps, with momentum carrying
     * earlier errors forward (the buffer sums them with weights mu^j), this
     * stays a few 1e-7 of the scale; 1e-6 admits that and nothing more: the
     * parameters move by about their own scale, so a wrong formula (dampening,
     * a missing momentum term, Nesterov's look-ahead dropped, a bias
     * correction off by a step) misses by 1e-2 or more.  As calibration the
     * test also measures both fp32 runs against torch float64, and requires
     * ours to be no further from it than twice torch's own distance plus 1e-7
     * (about one ulp of the scale): the rewritten form must not cost
     * accuracy. */
    const double tol = 1e-6;
#if defined(FP_FAST_FMAF)
    const int we_fuse = 1;
#else
    const int we_fuse = 0;
#endif
    for (int c = 0; c < CMP_CONFIGS; c++) {
        loco_outer_config cfg = cmp_config(c);
        const char *name = loco_outer_name(cfg.kind);
        const float *th = mine + (size_t)c * 3 * total, *tth = ref + (size_t)c * 3 * total;
        const double *th64 = ref64 + (size_t)c * total;
        const int has_s1 = cfg.momentum != 0.0f || cfg.kind == LOCO_OUTER_ADAM;
        const int has_s2 = cfg.kind == LOCO_OUTER_ADAM;
        double worst = 0.0, worst64 = 0.0, worst_t64 = 0.0;
        int still = 0;
        off = 0;
        for (int k = 0; k < CMP_TENSORS; k++) {
            const size_t n = (size_t)cmp_size[k];
            double sp, ss1, ss2, s64, st64, sm;
            double ep = max_diff(th + off, tth + off, NULL, n, &sp);
            double es1 = max_diff(th + total + off, tth + total + off, NULL, n, &ss1);
            double es2 = max_diff(th + 2 * total + off, tth + 2 * total + off, NULL, n, &ss2);
            double e64 = max_diff(th + off, NULL, th64 + off, n, &s64);
            double et64 = max_diff(tth + off, NULL, th64 + off, n, &st64);
            double moved = max_diff(tth + off, theta0 + off, NULL, n, &sm);
            CHECK(ep <= tol * sp, "%s mu %g, tensor %d: theta off by %.3g > %.0e * %.3g", name,
                  cfg.momentum, k, ep, tol, sp);
            if (has_s1)
                CHECK(es1 <= tol * ss1, "%s mu %g, tensor %d: state 1 off by %.3g > %.0e * %.3g",
                      name, cfg.momentum, k, es1, tol, ss1);
            if (has_s2)
                CHECK(es2 <= tol * ss2, "%s, tensor %d: state 2 off by %.3g > %.0e * %.3g", name,
                      k, es2, tol, ss2);
            CHECK(e64 <= 2 * et64 + 1e-7 * s64,
                  "%s mu %g, tensor %d: %.3g from float64, torch fp32 only %.3g", name,
                  cfg.momentum, k, e64, et64);
            worst = fmax(worst, ep / sp);
            worst64 = fmax(worst64, e64 / s64);
            worst_t64 = fmax(worst_t64, et64 / s64);
            /* The parameters must move enough for a wrong update to show:
             * SGD by at least 1e-2 of their scale (in practice about 1);
             * Adam, whose steps are about lr whatever the scale, by lr.  (On
             * the 1e3 tensor Adam's ten steps are then below the tolerance;
             * the other two tensors and the bitwise check below cover it.) */
            const double need = cfg.kind == LOCO_OUTER_ADAM ? (double)cfg.lr : 1e-2 * sp;
            if (moved < need && still++ == 0)
                FAIL("%s, tensor %d: the parameters barely moved (%.3g < %.3g)", name, k, moved,
                     need);
            off += n;
        }
        /* Adam reuses loco_adamw_update, which performs torch's operations
         * in torch's order: with the same fused multiply-adds on both sides
         * it must agree to the bit. */
        int bitwise = -1;
        if (cfg.kind == LOCO_OUTER_ADAM && we_fuse == (torch_fuses != 0)) {
            bitwise = memcmp(th, tth, 3 * total * sizeof(float)) == 0;
            CHECK(bitwise, "adam: not bit-identical to torch although both fuse alike");
        }
        fprintf(stderr, "  %-8s lr %-6g mu %-4g: vs torch fp32 %.2g of scale; vs float64: ours "
                "%.2g, torch fp32 %.2g%s\n", name, cfg.lr, cfg.momentum, worst, worst64,
                worst_t64, bitwise == 1 ? "; bit-identical to torch" : "");
    }
cleanup:
    unlink(in_path);
    unlink(out_path);
done:
    free(theta0); free(targets); free(mine); free(ref); free(ref64);
}
