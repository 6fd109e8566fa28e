/*
 * Tests of the optimizer module: AdamW against torch.optim.AdamW, the
 * learning-rate schedule against its definition, and the determinism of the
 * norm and of the update across thread counts.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "loco/loco.h"
#include "test.h"
#include "util.h"

#define REF_SCRIPT "tests/ref_adamw.py"

/* The test problem for the comparison with torch: a few tensors of different
 * sizes (none a multiple of the vector width but one, so that loop tails are
 * exercised), with and without weight decay as nanoGPT groups them, and with
 * gradient scales down to 1e-8, where sqrt(v) is comparable to eps and the
 * place where eps enters the denominator matters. */
#define CMP_TENSORS 4
#define CMP_STEPS 10
static const int cmp_size[CMP_TENSORS] = {600, 333, 64, 3};
static const float cmp_wd[CMP_TENSORS] = {0.1f, 0.0f, 0.1f, 0.0f};
static const float cmp_gscale[CMP_TENSORS] = {1.0f, 1.0f, 1e-3f, 1e-8f};

/* The clipping factor exactly as torch.nn.utils.clip_grad_norm_ computes it
 * in float: max_norm / (norm + 1e-6), which Python evaluates as the reciprocal
 * times max_norm, clamped to at most 1. */
static float clip_scale(float norm, float clip) {
    if (clip <= 0.0f) return 1.0f;
    float s = (1.0f / (norm + 1e-6f)) * clip;
    return s < 1.0f ? s : 1.0f;
}

/* Runs the C side of the comparison: CMP_STEPS AdamW steps from p0 over all
 * tensors, with the given learning rate and clipping factor at each step. */
static void run_adamw(float *p, float *m, float *v, const float *p0, const float *grads,
                      size_t total, const loco_adamw_config *cfg, const float *lr,
                      const float *gscale) {
    memcpy(p, p0, total * sizeof(float));
    memset(m, 0, total * sizeof(float));
    memset(v, 0, total * sizeof(float));
    for (int s = 0; s < CMP_STEPS; s++) {
        size_t off = 0;
        for (int k = 0; k < CMP_TENSORS; k++) {
            loco_adamw_update(p + off, grads + (size_t)s * total + off, m + off, v + off,
                              (size_t)cmp_size[k], lr[s], cfg->beta1, cfg->beta2, cfg->eps,
                              cmp_wd[k], gscale[s], s + 1);
            off += (size_t)cmp_size[k];
        }
    }
}



/* Largest |a - b| over n floats. */
static double max_abs_diff(const float *a, const float *b, size_t n) {
    double e = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > e) e = d;
    }
    return e;
}

static double max_abs(const float *a, size_t n) {
    double e = 0.0;
    for (size_t i = 0; i < n; i++) if (fabs((double)a[i]) > e) e = fabs((double)a[i]);
    return e;
}

static size_t count_equal(const float *a, const float *b, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += memcmp(&a[i], &b[i], sizeof(float)) == 0;
    return k;
}

LOCO_TEST(adamw_matches_torch) {
    if (access(LOCO_TEST_PYTHON, X_OK) != 0) {
        FAIL("%s not found; the AdamW reference needs it with torch "
             "(apt-get install python3-torch)", LOCO_TEST_PYTHON);
        return;
    }
    if (access(REF_SCRIPT, R_OK) != 0) {
        FAIL("%s not found; run the tests from the repository root", REF_SCRIPT);
        return;
    }

    /* A schedule whose ten steps cover all three of its phases: warm-up
     * (steps 0-2), cosine decay (3-7) and the floor at min_lr (8-9).  The peak
     * rate is larger than nanoGPT's so that the ten updates stand well above
     * the rounding of the parameters themselves; with lr 6e-4 a wrong update
     * could hide inside the tolerance. */
    loco_adamw_config cfg;
    loco_adamw_config_default(&cfg, 8);
    cfg.lr = 1e-2f;
    cfg.min_lr = 1e-3f;
    cfg.warmup_steps = 3;

    size_t total = 0;
    for (int k = 0; k < CMP_TENSORS; k++) total += (size_t)cmp_size[k];
    float *p0 = malloc(total * sizeof(float));
    float *p = malloc(total * sizeof(float));
    float *m = malloc(total * sizeof(float));
    float *v = malloc(total * sizeof(float));
    float *grads = malloc(CMP_STEPS * total * sizeof(float));
    float *ref = malloc((3 * total + 2 * CMP_STEPS) * sizeof(float));
    float *q = malloc(3 * total * sizeof(float));
    float lr[CMP_STEPS], norm[CMP_STEPS], gscale[CMP_STEPS], tgscale[CMP_STEPS];
    if (!p0 || !p || !m || !v || !grads || !ref || !q) {
        FAIL("out of memory");
        goto done;
    }

    loco_rng rng;
    loco_rng_seed(&rng, 1234);
    for (size_t i = 0; i < total; i++) p0[i] = loco_rng_normal(&rng);
    /* Even steps have a global norm near 3 and are clipped; odd ones near
     * 0.3 and are not, so both branches of the clipping meet torch. */
    int n_clipped = 0;
    for (int s = 0; s < CMP_STEPS; s++) {
        float *g = grads + (size_t)s * total;
        float step_scale = s % 2 == 0 ? 0.1f : 0.01f;
        size_t off = 0;
        for (int k = 0; k < CMP_TENSORS; k++)
            for (int i = 0; i < cmp_size[k]; i++, off++)
                g[off] = loco_rng_normal(&rng) * step_scale * cmp_gscale[k];
        lr[s] = loco_lr_schedule(&cfg, s);
        norm[s] = loco_grad_norm(g, total);
        gscale[s] = clip_scale(norm[s], cfg.grad_clip);
        n_clipped += gscale[s] < 1.0f;
    }
    CHECK(n_clipped == CMP_STEPS / 2, "%d of %d steps clipped, expected %d",
          n_clipped, CMP_STEPS, CMP_STEPS / 2);

    run_adamw(p, m, v, p0, grads, total, &cfg, lr, gscale);

    char in_path[] = "/tmp/loco-adamw-in-XXXXXX";
    char out_path[] = "/tmp/loco-adamw-out-XXXXXX";
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
    int32_t ints[4] = {CMP_TENSORS, CMP_STEPS, cfg.warmup_steps, cfg.max_steps};
    float hyper[6] = {cfg.beta1, cfg.beta2, cfg.eps, cfg.grad_clip, cfg.lr, cfg.min_lr};
    int32_t sizes[CMP_TENSORS];
    for (int k = 0; k < CMP_TENSORS; k++) sizes[k] = cmp_size[k];
    int werr = !f;
    if (f) {
        werr |= loco_test_put(f, "LOCOADW1", 8) | loco_test_put(f, ints, sizeof ints) | loco_test_put(f, hyper, sizeof hyper)
              | loco_test_put(f, sizes, sizeof sizes) | loco_test_put(f, cmp_wd, sizeof cmp_wd)
              | loco_test_put(f, lr, sizeof lr) | loco_test_put(f, p0, total * sizeof(float))
              | loco_test_put(f, grads, CMP_STEPS * total * sizeof(float));
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
    size_t want = 3 * total + 2 * CMP_STEPS;
    int rerr = !f || fread(magic, 1, 8, f) != 8 || memcmp(magic, "LOCOADWR", 8) != 0
            || fread(&torch_fuses, sizeof torch_fuses, 1, f) != 1
            || fread(ref, sizeof(float), want, f) != want || fgetc(f) != EOF;
    if (f) fclose(f);
    if (rerr) {
        FAIL("%s: missing, short or malformed reference output", out_path);
        goto cleanup;
    }
    const float *tp = ref, *tm = ref + total, *tv = ref + 2 * total;
    const float *tnorm = ref + 3 * total, *tlr = tnorm + CMP_STEPS;

    /* The schedule and the norm first, since the update depends on both.  Both
     * sides evaluate the schedule in double from the same floats with the same
     * libm, so they round to the same float; two ulps of slack keep the check
     * about the formula, not the last bit.  torch sums the norm in its own
     * order (per tensor, then over tensors), so it may differ from ours by an
     * ulp or so; 1e-6 relative is ten float ulps. */
    for (int s = 0; s < CMP_STEPS; s++) {
        CHECK(fabsf(lr[s] - tlr[s]) <= 2.4e-7f * tlr[s],
              "step %d: lr %.9g, nanoGPT's get_lr %.9g", s, lr[s], tlr[s]);
        CHECK(fabsf(norm[s] - tnorm[s]) <= 1e-6f * tnorm[s],
              "step %d: grad norm %.9g, torch %.9g", s, norm[s], tnorm[s]);
    }

    /* The tolerance.  Were every operation identical to torch's, the results
     * would be bit-identical.  What may legitimately differ is the last bits of
     * the clipping factor (from the norm's summation order) and, on a build
     * without FMA, the last bit of the moments at each step.  Such a relative
     * perturbation of about 1e-7 in an update of size lr adds at most about
     * 1e-7 * lr per step, and the rounding of p itself (half an ulp, 6e-8 of
     * |p|) can then fall the other way at each of the ten steps: at most about
     * 10 * 6e-8 ~ 6e-7 of max|p|.  So 1e-6 of max|p| admits rounding but not a
     * wrong formula: with lr 1e-2 the ten updates move p by up to ~0.1, so any
     * error in the update larger than about 3e-5 of it (a misplaced eps, a
     * missing bias correction, weight decay applied after the step) exceeds
     * it.  The moments are checked to the same 1e-6 of their largest
     * magnitude. */
    const double tol = 1e-6;
    double ep = max_abs_diff(p, tp, total), sp = max_abs(tp, total);
    double em = max_abs_diff(m, tm, total), sm = max_abs(tm, total);
    double ev = max_abs_diff(v, tv, total), sv = max_abs(tv, total);
    double moved = 0.0;
    for (size_t i = 0; i < total; i++) {
        double d = fabs((double)tp[i] - (double)p0[i]);
        if (d > moved) moved = d;
    }
    CHECK(moved > 1e-2, "the parameters barely moved (%g); the test would not see a wrong update",
          moved);
    CHECK(ep <= tol * sp, "params: max abs error %.3g > %.1g * max|p| (%.3g)", ep, tol, sp);
    CHECK(em <= tol * sm, "exp_avg: max abs error %.3g > %.1g * max|m| (%.3g)", em, tol, sm);
    CHECK(ev <= tol * sv, "exp_avg_sq: max abs error %.3g > %.1g * max|v| (%.3g)", ev, tol, sv);

    /* The strict check.  Given torch's own clipping factors, the update
     * performs the very operations torch performs, in the same order and
     * precision, so it must agree to the bit, provided that both sides fuse
     * the same multiply-adds: this build where the target has a hardware FMA,
     * torch where it runs its AVX2 or AVX512 kernels (see src/optim/adamw.c). */
#if defined(FP_FAST_FMAF)
    const int we_fuse = 1;
#else
    const int we_fuse = 0;
#endif
    size_t same_p = 0, same_m = 0, same_v = 0;
    if (we_fuse == (torch_fuses != 0)) {
        for (int s = 0; s < CMP_STEPS; s++) tgscale[s] = clip_scale(tnorm[s], cfg.grad_clip);
        run_adamw(q, q + total, q + 2 * total, p0, grads, total, &cfg, lr, tgscale);
        same_p = count_equal(q, tp, total);
        same_m = count_equal(q + total, tm, total);
        same_v = count_equal(q + 2 * total, tv, total);
        CHECK(same_p == total && same_m == total && same_v == total,
              "with torch's clipping factors, only %zu/%zu params, %zu/%zu exp_avg and "
              "%zu/%zu exp_avg_sq are bit-identical to torch's", same_p, total, same_m,
              total, same_v, total);
    }
    fprintf(stderr, "  adamw vs torch, %d steps: max abs error p %.3g (%.3g of max|p|), "
            "m %.3g (%.3g), v %.3g (%.3g); with torch's clip factors bit-identical: %s\n",
            CMP_STEPS, ep, ep / sp, em, em / sm, ev, ev / sv,
            we_fuse != (torch_fuses != 0) ? "not checked (FMA use differs)"
            : same_p + same_m + same_v == 3 * total ? "all" : "NOT all");

cleanup:
    unlink(in_path);
    unlink(out_path);
done:
    free(p0); free(p); free(m); free(v); free(grads); free(ref); free(q);
}

LOCO_TEST(lr_schedule) {
    loco_adamw_config cfg;
    loco_adamw_config_default(&cfg, 1000);
    CHECK(cfg.lr == 6e-4f && cfg.beta1 == 0.9f && cfg.beta2 == 0.95f && cfg.eps == 1e-8f
          && cfg.weight_decay == 0.1f && cfg.grad_clip == 1.0f && cfg.warmup_steps == 0
          && cfg.max_steps == 1000 && fabsf(cfg.min_lr - 6e-5f) <= 2.4e-7f * 6e-5f,
          "defaults differ from nanoGPT's");
    /* Without warm-up the first step already runs at the peak rate. */
    CHECK(loco_lr_schedule(&cfg, 0) == cfg.lr, "lr(0) = %g without warm-up",
          loco_lr_schedule(&cfg, 0));

    cfg.lr = 1e-3f;
    cfg.min_lr = 1e-4f;
    cfg.warmup_steps = 10;
    cfg.max_steps = 110;
    const float rel = 2.4e-7f;   /* two float ulps */
    /* Warm-up is linear and reaches lr on its last step. */
    for (int s = 0; s < cfg.warmup_steps; s++) {
        float want = (float)(1e-3 * (s + 1) / 10.0);
        float got = loco_lr_schedule(&cfg, s);
        CHECK(fabsf(got - want) <= rel * want, "warm-up step %d: %.9g, want %.9g", s, got, want);
    }
    CHECK(loco_lr_schedule(&cfg, 9) == cfg.lr, "last warm-up step %.9g, want lr",
          loco_lr_schedule(&cfg, 9));
    CHECK(loco_lr_schedule(&cfg, 10) == cfg.lr, "first decay step %.9g, want lr (cos 0 = 1)",
          loco_lr_schedule(&cfg, 10));
    /* Half-way through the decay the cosine is 0: the mean of lr and min_lr. */
    float mid = loco_lr_schedule(&cfg, 60), want_mid = (1e-3f + 1e-4f) / 2;
    CHECK(fabsf(mid - want_mid) <= rel * want_mid, "midpoint %.9g, want %.9g", mid, want_mid);
    /* The decay is monotone, strictly inside the range, and ends at min_lr. */
    for (int s = 11; s < cfg.max_steps; s++) {
        float a = loco_lr_schedule(&cfg, s - 1), b = loco_lr_schedule(&cfg, s);
        CHECK(b < a && b > cfg.min_lr, "step %d: %.9g after %.9g (min_lr %.9g)", s, b, a,
              cfg.min_lr);
    }
    CHECK(loco_lr_schedule(&cfg, 110) == cfg.min_lr, "at max_steps %.9g",
          loco_lr_schedule(&cfg, 110));
    CHECK(loco_lr_schedule(&cfg, 100000) == cfg.min_lr, "after max_steps %.9g",
          loco_lr_schedule(&cfg, 100000));

    /* Degenerate schedules: no decay span stays at lr after warm-up, and
     * never produces a NaN or a division by zero. */
    cfg.max_steps = 10;
    for (int s = 0; s < 20; s++) {
        float x = loco_lr_schedule(&cfg, s);
        CHECK(isfinite(x) && x > 0.0f && x <= cfg.lr, "max_steps == warmup, step %d: %g", s, x);
    }
    CHECK(loco_lr_schedule(&cfg, 15) == cfg.lr, "max_steps == warmup, after warm-up: %g",
          loco_lr_schedule(&cfg, 15));
    cfg.max_steps = 0;
    cfg.warmup_steps = 0;
    CHECK(loco_lr_schedule(&cfg, 0) == cfg.lr && loco_lr_schedule(&cfg, 5) == cfg.lr,
          "max_steps 0, no warm-up: %g, %g", loco_lr_schedule(&cfg, 0),
          loco_lr_schedule(&cfg, 5));
    cfg.max_steps = 3;
    cfg.warmup_steps = 5;
    CHECK(isfinite(loco_lr_schedule(&cfg, 4)) && loco_lr_schedule(&cfg, 7) == cfg.lr,
          "max_steps < warmup: %g, %g", loco_lr_schedule(&cfg, 4), loco_lr_schedule(&cfg, 7));
}

LOCO_TEST(grad_norm) {
    const size_t n = 1000007;
    float *g = malloc(n * sizeof(float));
    if (!g) { FAIL("out of memory"); return; }
    loco_rng rng;
    loco_rng_seed(&rng, 99);
    for (size_t i = 0; i < n; i++) g[i] = loco_rng_normal(&rng) * 1e-3f;

    /* The norm must agree with a plain double sum to the rounding of the
     * result (two float ulps). */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)g[i] * (double)g[i];
    float want = (float)sqrt(sum);
    /* The contract is a result independent of the thread count.  Note that a
     * double accumulator makes a thread-dependent order almost invisible in
     * the float result, so this check mainly guards against races and
     * against per-thread float partial sums, not against every reordering. */
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    float one = loco_grad_norm(g, n);
    omp_set_num_threads(2);
    float two = loco_grad_norm(g, n);
    omp_set_num_threads(saved);
    CHECK(fabsf(one - want) <= 2.4e-7f * want, "norm %.9g, double sum gives %.9g", one, want);
    CHECK(memcmp(&one, &two, sizeof one) == 0, "norm with 1 thread %.9g, with 2 threads %.9g",
          one, two);

    /* Equal elements make the rounding errors of a float accumulator add up
     * in one direction (about 1e-5 relative here, even split into chunks and
     * vector lanes), while the exact answer is known in closed form. */
    for (size_t i = 0; i < n; i++) g[i] = 0.1f;
    float flat = loco_grad_norm(g, n), want_flat = (float)((double)0.1f * sqrt((double)n));
    CHECK(fabsf(flat - want_flat) <= 2.4e-7f * want_flat, "norm of %zu x 0.1: %.9g, want %.9g",
          n, flat, want_flat);

    /* Sizes below the chunk count, and the empty case. */
    float small[3] = {3.0f, 4.0f, 12.0f};
    CHECK(loco_grad_norm(small, 3) == 13.0f, "norm of (3,4,12) = %g", loco_grad_norm(small, 3));
    CHECK(loco_grad_norm(small, 0) == 0.0f, "norm of nothing = %g", loco_grad_norm(small, 0));
    free(g);
}

LOCO_TEST(adamw_deterministic_threads) {
    /* Large enough that the update runs as a parallel region, and odd so that
     * the two threads' halves split a vector. */
    const size_t n = 1000007;
    float *buf = malloc(8 * n * sizeof(float));
    if (!buf) { FAIL("out of memory"); return; }
    float *g = buf, *p0 = buf + n;
    float *p[2] = {buf + 2 * n, buf + 3 * n};
    float *m[2] = {buf + 4 * n, buf + 5 * n};
    float *v[2] = {buf + 6 * n, buf + 7 * n};
    loco_rng rng;
    loco_rng_seed(&rng, 7);
    for (size_t i = 0; i < n; i++) p0[i] = loco_rng_normal(&rng) * 0.02f;
    int saved = omp_get_max_threads();
    for (int r = 0; r < 2; r++) {
        omp_set_num_threads(r + 1);
        memcpy(p[r], p0, n * sizeof(float));
        memset(m[r], 0, n * sizeof(float));
        memset(v[r], 0, n * sizeof(float));
        loco_rng_seed(&rng, 8);
        for (int t = 1; t <= 3; t++) {
            for (size_t i = 0; i < n; i++) g[i] = loco_rng_normal(&rng) * 0.01f;
            loco_adamw_update(p[r], g, m[r], v[r], n, 6e-4f, 0.9f, 0.95f, 1e-8f, 0.1f,
                              0.5f, t);
        }
    }
    omp_set_num_threads(saved);
    CHECK(memcmp(p[0], p[1], n * sizeof(float)) == 0, "params differ between 1 and 2 threads");
    CHECK(memcmp(m[0], m[1], n * sizeof(float)) == 0, "exp_avg differs between 1 and 2 threads");
    CHECK(memcmp(v[0], v[1], n * sizeof(float)) == 0, "exp_avg_sq differs between 1 and 2 threads");
    CHECK(memcmp(p[0], p0, n * sizeof(float)) != 0, "the update left the parameters unchanged");
    free(buf);
}
