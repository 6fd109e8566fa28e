/*
 * Tests of the layer kernels (src/nn/layers.h):
 *
 *  - layer_*_fd: every backward pass of the double build (loco__*_f64, the
 *    same source as the float training path) against central finite
 *    differences of a scalar objective L = sum(out * R) with a fixed random R,
 *    for EVERY element of every input and parameter; every forward against a
 *    direct double computation written here; the accumulate (+=) / overwrite
 *    (=) / aliasing conventions of layers.h; guard words after every buffer.
 *  - layer_attention_causal: outputs at t do not depend on inputs at t' > t.
 *  - layer_*_f32: the float kernels against the double ones on the same
 *    (float-representable) inputs, at small shapes and at larger ones where
 *    blocked / BLAS / parallel fast paths may kick in; at the larger shapes
 *    the double kernels are also checked against the direct forward and
 *    against directional finite differences.
 *
 * Set LOCO_TEST_VERBOSE=1 to print every measured error.
 *
 * Tolerances.
 *  FD_TOL = 1e-6 on max|analytic - numeric| / max(max|numeric|, 1e-6), with
 *  central differences of step FD_EPS = 1e-6 in double.  Inputs, weights and
 *  R are O(1), so gradients are O(1) and |L| <= ~1e2.  The truncation error of
 *  a central difference is eps^2 |L'''| / 6 ~ 1e-12 * O(1); the round-off is
 *  ~ |L| * 1e-16 / eps ~ 1e-8 at worst.  The measured errors are 5e-11 to
 *  1.3e-9 (1e-8 for the directional ones), so 1e-6 leaves a 100x margin while
 *  any real bug (a wrong index, a missing term or factor, a dropped
 *  1/sqrt(hs), "=" instead of "+=") shows up as an O(1e-2..1) relative error.
 *  DIR_TOL = 1e-6 on |<g,u> - (L(x+eps u) - L(x-eps u)) / 2eps| / |g|_2 for
 *  unit random directions u (same error budget as above).
 *  REF_TOL = 1e-12: double forward vs a direct double computation; both are
 *  exact up to a few ulps of reordered sums (~1e-15 relative).
 *  F32_TOL = 1e-4 on max|f - d| / max|d|: the inputs are rounded to float once
 *  and given to both builds, so only the arithmetic differs.  Float's unit
 *  round-off is 6e-8; a dot product of length K <= 256 errs by at most K*u
 *  (1.5e-5) of its absolute sum and typically sqrt(K)*u; the chains here
 *  (layernorm's 1/std, attention's softmax and two matmuls, backward passes
 *  that reuse forward results) multiply that by a small factor.  Measured
 *  errors are 6e-7 and below; a wrong result in the float path is O(1).
 *  F32_ELEM_TOL = 1e-5 for elementwise kernels (gelu, crossentropy, encoder
 *  forward), whose errors are a few ulps of each element, except gelu' where
 *  1 - tanh^2 near saturation loses ~20 ulps (measured 1.2e-6).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loco/loco.h"
#include "nn/layers.h"
#include "test.h"

#define FD_EPS 1e-6
#define FD_TOL 1e-6
#define DIR_TOL 1e-6
#define REF_TOL 1e-12
#define F32_TOL 1e-4
#define F32_ELEM_TOL 1e-5

/* ------------------------------------------------------------ buffers */

/* Every buffer is allocated with GUARD trailing words holding a sentinel,
 * checked when the test releases its buffers, and its body starts as NaN, so
 * that an output or "=" gradient a kernel forgets to write poisons the
 * comparison, as does a "=" gradient implemented as "+=". */
#define GUARD 16
#define SENTINEL (-12345.625) /* exact in float too */
#define MAX_BUFS 256

typedef struct { void *p; long n; int isf; } buf_rec;
static buf_rec bufs[MAX_BUFS];
static int n_bufs;

static void *buf_alloc(long n, int isf) {
    size_t es = isf ? sizeof(float) : sizeof(double);
    void *p = malloc((size_t)(n + GUARD) * es);
    if (!p || n_bufs == MAX_BUFS) abort();
    for (long i = 0; i < n + GUARD; i++) {
        double v = i < n ? NAN : SENTINEL;
        if (isf) ((float *)p)[i] = (float)v; else ((double *)p)[i] = v;
    }
    bufs[n_bufs++] = (buf_rec){p, n, isf};
    return p;
}
static double *dnew(long n) { return buf_alloc(n, 0); }
static float *fnew(long n) { return buf_alloc(n, 1); }

/* Checks the guards of every buffer of the test and frees them all. */
static void release(int *loco_test_failed_) {
    for (int i = 0; i < n_bufs; i++) {
        buf_rec *b = &bufs[i];
        int ok = 1;
        for (long j = b->n; j < b->n + GUARD; j++) {
            double v = b->isf ? ((float *)b->p)[j] : ((double *)b->p)[j];
            ok &= v == SENTINEL;
        }
        CHECK(ok, "buffer #%d (%ld %s) was written past its end", i, b->n,
              b->isf ? "floats" : "doubles");
        free(b->p);
    }
    n_bufs = 0;
}

/* ------------------------------------------------------------ helpers */

static int verbose(void) { return getenv("LOCO_TEST_VERBOSE") != NULL; }

static void note(const char *what, double err, double tol) {
    if (verbose()) fprintf(stderr, "    %-44s err %.3e  (tol %.0e)\n", what, err, tol);
}

#define CHECK_ERR(err, tol, ...)                                              \
    do {                                                                      \
        char what_[128];                                                      \
        snprintf(what_, sizeof what_, __VA_ARGS__);                           \
        double e_ = (err);                                                    \
        note(what_, e_, (tol));                                               \
        CHECK(e_ <= (tol), "%s: error %.3e > tol %.1e", what_, e_, (double)(tol)); \
    } while (0)

/* The larger of m and d, where a NaN (in either) wins and sticks. */
static double worse(double m, double d) { return (isnan(m) || d <= m) ? m : d; }

static void fill_normal(loco_rng *rng, double *x, long n, double scale, double offset) {
    for (long i = 0; i < n; i++) x[i] = offset + scale * loco_rng_normal(rng);
}
static void round_to_float(double *x, long n) {
    for (long i = 0; i < n; i++) x[i] = (double)(float)x[i];
}
static float *to_f(const double *x, long n) {
    float *p = fnew(n);
    for (long i = 0; i < n; i++) p[i] = (float)x[i];
    return p;
}
static double *dup_d(const double *x, long n) {
    double *p = dnew(n);
    memcpy(p, x, (size_t)n * sizeof *p);
    return p;
}
static double dot(const double *a, const double *b, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}
static double max_abs(const double *x, long n) {
    double m = 0;
    for (long i = 0; i < n; i++) m = worse(m, fabs(x[i]));
    return m;
}
/* max|a - ref| / max(max|ref|, 1e-30) */
static double err_dd(const double *a, const double *ref, long n) {
    double m = 0;
    for (long i = 0; i < n; i++) m = worse(m, fabs(a[i] - ref[i]));
    return m / fmax(max_abs(ref, n), 1e-30);
}
static double err_fd(const float *a, const double *ref, long n) {
    double m = 0;
    for (long i = 0; i < n; i++) m = worse(m, fabs((double)a[i] - ref[i]));
    return m / fmax(max_abs(ref, n), 1e-30);
}
/* a - b elementwise into a new buffer (the part a kernel added to a prefill). */
static double *minus_dd(const double *a, const double *b, long n) {
    double *p = dnew(n);
    for (long i = 0; i < n; i++) p[i] = a[i] - b[i];
    return p;
}
static double *minus_fd(const float *a, const double *b, long n) {
    double *p = dnew(n);
    for (long i = 0; i < n; i++) p[i] = (double)a[i] - b[i];
    return p;
}
static int same_d(const double *a, const double *b, long n) {
    return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

/* ------------------------------------------------------ finite differences */

typedef double (*obj_fn)(void *ctx);

/* Central differences of f (which reads x through ctx) wrt each of the n
 * elements of x, against the analytic gradient ana.  Returns
 * max|ana - num| / max(max|num|, 1e-6). */
static double fd_err(obj_fn f, void *ctx, double *x, long n, const double *ana) {
    double md = 0, mn = 0;
    for (long i = 0; i < n; i++) {
        double x0 = x[i];
        volatile double xp = x0 + FD_EPS, xm = x0 - FD_EPS;
        x[i] = xp;
        double lp = f(ctx);
        x[i] = xm;
        double lm = f(ctx);
        x[i] = x0;
        double num = (lp - lm) / (xp - xm);
        md = worse(md, fabs(num - ana[i]));
        mn = worse(mn, fabs(num));
    }
    return md / fmax(mn, 1e-6);
}

/* Directional derivatives along ndir random unit vectors u:
 * max |<g,u> - (L(x+eps u) - L(x-eps u)) / 2eps| / max(|g|_2, 1e-6). */
static double dir_fd_err(obj_fn f, void *ctx, double *x, long n, const double *g,
                         loco_rng *rng, int ndir) {
    double *x0 = malloc((size_t)n * sizeof *x0), *u = malloc((size_t)n * sizeof *u);
    if (!x0 || !u) abort();
    memcpy(x0, x, (size_t)n * sizeof *x);
    double gn = sqrt(dot(g, g, n)), worst = 0;
    for (int d = 0; d < ndir; d++) {
        fill_normal(rng, u, n, 1.0, 0.0);
        double un = sqrt(dot(u, u, n));
        for (long i = 0; i < n; i++) u[i] /= un;
        for (long i = 0; i < n; i++) x[i] = x0[i] + FD_EPS * u[i];
        double lp = f(ctx);
        for (long i = 0; i < n; i++) x[i] = x0[i] - FD_EPS * u[i];
        double lm = f(ctx);
        memcpy(x, x0, (size_t)n * sizeof *x);
        double num = (lp - lm) / (2 * FD_EPS);
        worst = worse(worst, fabs(num - dot(g, u, n)) / fmax(gn, 1e-6));
    }
    free(x0);
    free(u);
    return worst;
}

/* ================================================================ encoder */

typedef struct { double *out, *wte, *wpe, *R; const int *inp; int B, T, C; } enc_ctx;

static double enc_obj(void *p) {
    enc_ctx *c = p;
    loco__encoder_forward_f64(c->out, c->inp, c->wte, c->wpe, c->B, c->T, c->C);
    return dot(c->out, c->R, (long)c->B * c->T * c->C);
}

/* Direct encoder forward/backward in double, in the obvious order. */
static void enc_ref(double *out, double *dwte, double *dwpe, const double *dout,
                    const int *inp, const double *wte, const double *wpe,
                    int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            long r = (long)b * T + t;
            for (int c = 0; c < C; c++) {
                if (out) out[r * C + c] = wte[(long)inp[r] * C + c] + wpe[(long)t * C + c];
                if (dwte) dwte[(long)inp[r] * C + c] += dout[r * C + c];
                if (dwpe) dwpe[(long)t * C + c] += dout[r * C + c];
            }
        }
}

LOCO_TEST(layer_encoder_fd) {
    const int B = 2, T = 5, C = 8, V = 11, USED = 4;
    const long N = (long)B * T, NC = N * C;
    loco_rng rng;
    loco_rng_seed(&rng, 101);
    int *inp = malloc((size_t)N * sizeof *inp);
    /* 10 tokens drawn from 4 values: repeated tokens are certain (their
     * gradients must add up); tokens 4..10 never occur. */
    for (long i = 0; i < N; i++) inp[i] = (int)(loco_rng_u64(&rng) % USED);
    double *wte = dnew((long)V * C), *wpe = dnew((long)T * C), *R = dnew(NC);
    fill_normal(&rng, wte, (long)V * C, 1, 0);
    fill_normal(&rng, wpe, (long)T * C, 1, 0);
    fill_normal(&rng, R, NC, 1, 0);

    double *out = dnew(NC), *ref = dnew(NC);
    loco__encoder_forward_f64(out, inp, wte, wpe, B, T, C);
    enc_ref(ref, NULL, NULL, NULL, inp, wte, wpe, B, T, C);
    /* One addition per element: must be exact. */
    CHECK_ERR(err_dd(out, ref, NC), 0.0, "encoder forward (exact)");

    /* Parameter gradients accumulate onto a nonzero prefill. */
    double *pwte = dnew((long)V * C), *pwpe = dnew((long)T * C);
    fill_normal(&rng, pwte, (long)V * C, 1, 0);
    fill_normal(&rng, pwpe, (long)T * C, 1, 0);
    double *dwte = dup_d(pwte, (long)V * C), *dwpe = dup_d(pwpe, (long)T * C);
    double *Rc = dup_d(R, NC);
    loco__encoder_backward_f64(dwte, dwpe, R, inp, B, T, C);
    CHECK(same_d(R, Rc, NC), "encoder_backward modified dout");
    double *gwte = minus_dd(dwte, pwte, (long)V * C), *gwpe = minus_dd(dwpe, pwpe, (long)T * C);

    enc_ctx ctx = {dnew(NC), wte, wpe, R, inp, B, T, C};
    CHECK_ERR(fd_err(enc_obj, &ctx, wte, (long)V * C, gwte), FD_TOL, "encoder dwte (+=) vs FD");
    CHECK_ERR(fd_err(enc_obj, &ctx, wpe, (long)T * C, gwpe), FD_TOL, "encoder dwpe (+=) vs FD");
    /* Rows of tokens that never occur are left exactly as they were. */
    CHECK(same_d(dwte + (long)USED * C, pwte + (long)USED * C, (long)(V - USED) * C),
          "encoder_backward touched dwte rows of absent tokens");
    free(inp);
    release(loco_test_failed_);
}

/* Large shapes with heavy token collisions: a parallel backward that races
 * on dwte rows of repeated tokens shows up here. */
LOCO_TEST(layer_encoder_f32) {
    const int shapes[3][4] = {{2, 5, 8, 11}, {8, 128, 64, 5}, {16, 256, 32, 1}}; /* B, T, C, V */
    loco_rng rng;
    loco_rng_seed(&rng, 102);
    for (int s = 0; s < 3; s++) {
        const int B = shapes[s][0], T = shapes[s][1], C = shapes[s][2], V = shapes[s][3];
        const long N = (long)B * T, NC = N * C, VC = (long)V * C, TC = (long)T * C;
        int *inp = malloc((size_t)N * sizeof *inp);
        for (long i = 0; i < N; i++) inp[i] = (int)(loco_rng_u64(&rng) % V);
        double *wte = dnew(VC), *wpe = dnew(TC), *dout = dnew(NC);
        double *pwte = dnew(VC), *pwpe = dnew(TC);
        fill_normal(&rng, wte, VC, 1, 0);
        fill_normal(&rng, wpe, TC, 1, 0);
        fill_normal(&rng, dout, NC, 1, 0);
        fill_normal(&rng, pwte, VC, 1, 0);
        fill_normal(&rng, pwpe, TC, 1, 0);
        round_to_float(wte, VC); round_to_float(wpe, TC); round_to_float(dout, NC);
        round_to_float(pwte, VC); round_to_float(pwpe, TC);

        /* double kernels vs the direct computation */
        double *out = dnew(NC), *ref = dnew(NC);
        double *dwte = dup_d(pwte, VC), *dwpe = dup_d(pwpe, TC);
        double *rwte = dup_d(pwte, VC), *rwpe = dup_d(pwpe, TC);
        loco__encoder_forward_f64(out, inp, wte, wpe, B, T, C);
        loco__encoder_backward_f64(dwte, dwpe, dout, inp, B, T, C);
        enc_ref(ref, rwte, rwpe, dout, inp, wte, wpe, B, T, C);
        CHECK_ERR(err_dd(out, ref, NC), REF_TOL, "encoder f64 fwd vs ref, shape %d", s);
        CHECK_ERR(err_dd(dwte, rwte, VC), REF_TOL, "encoder f64 dwte vs ref, shape %d", s);
        CHECK_ERR(err_dd(dwpe, rwpe, TC), REF_TOL, "encoder f64 dwpe vs ref, shape %d", s);

        /* float vs double */
        float *fout = fnew(NC), *fwte = to_f(wte, VC), *fwpe = to_f(wpe, TC), *fdout = to_f(dout, NC);
        float *fdwte = to_f(pwte, VC), *fdwpe = to_f(pwpe, TC);
        loco__encoder_forward(fout, inp, fwte, fwpe, B, T, C);
        loco__encoder_backward(fdwte, fdwpe, fdout, inp, B, T, C);
        CHECK_ERR(err_fd(fout, out, NC), F32_ELEM_TOL, "encoder f32 fwd, shape %d", s);
        double *gd = minus_dd(dwte, pwte, VC), *gf = minus_fd(fdwte, pwte, VC);
        CHECK_ERR(err_dd(gf, gd, VC), F32_TOL, "encoder f32 dwte (+=), shape %d", s);
        gd = minus_dd(dwpe, pwpe, TC); gf = minus_fd(fdwpe, pwpe, TC);
        CHECK_ERR(err_dd(gf, gd, TC), F32_TOL, "encoder f32 dwpe (+=), shape %d", s);
        free(inp);
    }
    release(loco_test_failed_);
}

/* ============================================================== layernorm */

#define LN_EPS 1e-5 /* GPT-2's (and torch's default) LayerNorm epsilon */

typedef struct { double *out, *mean, *rstd, *inp, *w, *b, *R; int N, C; } ln_ctx;

static double ln_obj(void *p) {
    ln_ctx *c = p;
    loco__layernorm_forward_f64(c->out, c->mean, c->rstd, c->inp, c->w, c->b, c->N, c->C);
    return dot(c->out, c->R, (long)c->N * c->C);
}

static void ln_ref(double *out, double *mean, double *rstd, const double *inp,
                   const double *w, const double *b, int N, int C) {
    for (int i = 0; i < N; i++) {
        const double *x = inp + (long)i * C;
        double m = 0, v = 0;
        for (int c = 0; c < C; c++) m += x[c];
        m /= C;
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        v /= C;
        double r = 1.0 / sqrt(v + LN_EPS);
        for (int c = 0; c < C; c++) out[(long)i * C + c] = (x[c] - m) * r * w[c] + b[c];
        mean[i] = m;
        rstd[i] = r;
    }
}

/* Inputs with a per-row offset and spread, so that the mean and the scale
 * both matter. */
static void ln_inputs(loco_rng *rng, double *inp, double *w, double *b, int N, int C) {
    for (int i = 0; i < N; i++)
        fill_normal(rng, inp + (long)i * C, C, 0.5 + 0.25 * (i % 5), 0.3 * (i % 7) - 1.0);
    fill_normal(rng, w, C, 1, 0.5);
    fill_normal(rng, b, C, 1, 0);
}

LOCO_TEST(layer_layernorm_fd) {
    const int N = 10, C = 8;
    const long NC = (long)N * C;
    loco_rng rng;
    loco_rng_seed(&rng, 201);
    double *inp = dnew(NC), *w = dnew(C), *b = dnew(C), *R = dnew(NC);
    ln_inputs(&rng, inp, w, b, N, C);
    fill_normal(&rng, R, NC, 1, 0);

    double *out = dnew(NC), *mean = dnew(N), *rstd = dnew(N);
    double *rout = dnew(NC), *rmean = dnew(N), *rrstd = dnew(N);
    loco__layernorm_forward_f64(out, mean, rstd, inp, w, b, N, C);
    ln_ref(rout, rmean, rrstd, inp, w, b, N, C);
    CHECK_ERR(err_dd(out, rout, NC), REF_TOL, "layernorm fwd out vs ref");
    CHECK_ERR(err_dd(mean, rmean, N), REF_TOL, "layernorm fwd mean vs ref");
    CHECK_ERR(err_dd(rstd, rrstd, N), REF_TOL, "layernorm fwd rstd vs ref (eps 1e-5)");

    /* All three gradients accumulate: dw, db as parameters, dinp because it
     * feeds the residual stream. */
    double *pinp = dnew(NC), *pw = dnew(C), *pb = dnew(C);
    fill_normal(&rng, pinp, NC, 1, 0);
    fill_normal(&rng, pw, C, 1, 0);
    fill_normal(&rng, pb, C, 1, 0);
    double *dinp = dup_d(pinp, NC), *dw = dup_d(pw, C), *db = dup_d(pb, C);
    double *Rc = dup_d(R, NC), *inpc = dup_d(inp, NC);
    loco__layernorm_backward_f64(dinp, dw, db, R, inp, w, mean, rstd, N, C);
    CHECK(same_d(R, Rc, NC) && same_d(inp, inpc, NC), "layernorm_backward modified dout or inp");

    ln_ctx ctx = {dnew(NC), dnew(N), dnew(N), inp, w, b, R, N, C};
    CHECK_ERR(fd_err(ln_obj, &ctx, inp, NC, minus_dd(dinp, pinp, NC)), FD_TOL,
              "layernorm dinp (+=) vs FD");
    CHECK_ERR(fd_err(ln_obj, &ctx, w, C, minus_dd(dw, pw, C)), FD_TOL, "layernorm dw (+=) vs FD");
    CHECK_ERR(fd_err(ln_obj, &ctx, b, C, minus_dd(db, pb, C)), FD_TOL, "layernorm db (+=) vs FD");
    release(loco_test_failed_);
}

LOCO_TEST(layer_layernorm_f32) {
    const int shapes[2][2] = {{10, 8}, {64, 768}};
    loco_rng rng;
    loco_rng_seed(&rng, 202);
    for (int s = 0; s < 2; s++) {
        const int N = shapes[s][0], C = shapes[s][1];
        const long NC = (long)N * C;
        double *inp = dnew(NC), *w = dnew(C), *b = dnew(C), *dout = dnew(NC);
        ln_inputs(&rng, inp, w, b, N, C);
        fill_normal(&rng, dout, NC, 1, 0);
        double *pinp = dnew(NC), *pw = dnew(C), *pb = dnew(C);
        fill_normal(&rng, pinp, NC, 1, 0);
        fill_normal(&rng, pw, C, 1, 0);
        fill_normal(&rng, pb, C, 1, 0);
        round_to_float(inp, NC); round_to_float(w, C); round_to_float(b, C);
        round_to_float(dout, NC); round_to_float(pinp, NC);
        round_to_float(pw, C); round_to_float(pb, C);

        double *out = dnew(NC), *mean = dnew(N), *rstd = dnew(N);
        double *dinp = dup_d(pinp, NC), *dw = dup_d(pw, C), *db = dup_d(pb, C);
        loco__layernorm_forward_f64(out, mean, rstd, inp, w, b, N, C);
        loco__layernorm_backward_f64(dinp, dw, db, dout, inp, w, mean, rstd, N, C);
        if (s == 1) {
            /* the larger shape in double: direct forward and directional FD */
            double *rout = dnew(NC), *rmean = dnew(N), *rrstd = dnew(N);
            ln_ref(rout, rmean, rrstd, inp, w, b, N, C);
            CHECK_ERR(err_dd(out, rout, NC), REF_TOL, "layernorm f64 fwd vs ref (64x768)");
            CHECK_ERR(err_dd(rstd, rrstd, N), REF_TOL, "layernorm f64 rstd vs ref (64x768)");
            ln_ctx ctx = {dnew(NC), dnew(N), dnew(N), inp, w, b, dout, N, C};
            CHECK_ERR(dir_fd_err(ln_obj, &ctx, inp, NC, minus_dd(dinp, pinp, NC), &rng, 3),
                      DIR_TOL, "layernorm f64 dinp dir-FD (64x768)");
            CHECK_ERR(dir_fd_err(ln_obj, &ctx, w, C, minus_dd(dw, pw, C), &rng, 3),
                      DIR_TOL, "layernorm f64 dw dir-FD (64x768)");
            CHECK_ERR(dir_fd_err(ln_obj, &ctx, b, C, minus_dd(db, pb, C), &rng, 3),
                      DIR_TOL, "layernorm f64 db dir-FD (64x768)");
        }

        float *fout = fnew(NC), *fmean = fnew(N), *frstd = fnew(N);
        float *finp = to_f(inp, NC), *fw = to_f(w, C), *fb = to_f(b, C), *fdout = to_f(dout, NC);
        float *fdinp = to_f(pinp, NC), *fdw = to_f(pw, C), *fdb = to_f(pb, C);
        loco__layernorm_forward(fout, fmean, frstd, finp, fw, fb, N, C);
        loco__layernorm_backward(fdinp, fdw, fdb, fdout, finp, fw, fmean, frstd, N, C);
        CHECK_ERR(err_fd(fout, out, NC), F32_TOL, "layernorm f32 out, %dx%d", N, C);
        CHECK_ERR(err_fd(fmean, mean, N), F32_TOL, "layernorm f32 mean, %dx%d", N, C);
        CHECK_ERR(err_fd(frstd, rstd, N), F32_TOL, "layernorm f32 rstd, %dx%d", N, C);
        CHECK_ERR(err_dd(minus_fd(fdinp, pinp, NC), minus_dd(dinp, pinp, NC), NC), F32_TOL,
                  "layernorm f32 dinp (+=), %dx%d", N, C);
        CHECK_ERR(err_dd(minus_fd(fdw, pw, C), minus_dd(dw, pw, C), C), F32_TOL,
                  "layernorm f32 dw (+=), %dx%d", N, C);
        CHECK_ERR(err_dd(minus_fd(fdb, pb, C), minus_dd(db, pb, C), C), F32_TOL,
                  "layernorm f32 db (+=), %dx%d", N, C);
    }
    release(loco_test_failed_);
}

/* ================================================================= matmul */

typedef struct { double *out, *inp, *w, *bias, *R; int N, C, OC; } mm_ctx;

static double mm_obj(void *p) {
    mm_ctx *c = p;
    loco__matmul_forward_f64(c->out, c->inp, c->w, c->bias, c->N, c->C, c->OC);
    return dot(c->out, c->R, (long)c->N * c->OC);
}

static void mm_ref(double *out, const double *inp, const double *w, const double *bias,
                   int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int c = 0; c < C; c++) s += inp[(long)n * C + c] * w[(long)o * C + c];
            out[(long)n * OC + o] = s;
        }
}

static void matmul_fd_case(int *loco_test_failed_, int N, int C, int OC, int has_bias,
                           uint64_t seed) {
    const long NC = (long)N * C, OCC = (long)OC * C, NO = (long)N * OC;
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    double *inp = dnew(NC), *w = dnew(OCC), *bias = has_bias ? dnew(OC) : NULL, *R = dnew(NO);
    fill_normal(&rng, inp, NC, 1, 0);
    fill_normal(&rng, w, OCC, 1, 0);
    if (bias) fill_normal(&rng, bias, OC, 1, 0);
    fill_normal(&rng, R, NO, 1, 0);

    double *out = dnew(NO), *ref = dnew(NO);
    loco__matmul_forward_f64(out, inp, w, bias, N, C, OC);
    mm_ref(ref, inp, w, bias, N, C, OC);
    CHECK_ERR(err_dd(out, ref, NO), REF_TOL, "matmul fwd vs ref %dx%d->%d%s", N, C, OC,
              bias ? "" : " nobias");

    /* dinp is written (starts as NaN garbage); dw, dbias accumulate. */
    double *dinp = dnew(NC), *pw = dnew(OCC), *pb = has_bias ? dnew(OC) : NULL;
    fill_normal(&rng, pw, OCC, 1, 0);
    if (pb) fill_normal(&rng, pb, OC, 1, 0);
    double *dw = dup_d(pw, OCC), *dbias = pb ? dup_d(pb, OC) : NULL;
    double *Rc = dup_d(R, NO), *inpc = dup_d(inp, NC), *wc = dup_d(w, OCC);
    loco__matmul_backward_f64(dinp, dw, dbias, R, inp, w, N, C, OC);
    CHECK(same_d(R, Rc, NO) && same_d(inp, inpc, NC) && same_d(w, wc, OCC),
          "matmul_backward modified dout, inp or w");

    mm_ctx ctx = {dnew(NO), inp, w, bias, R, N, C, OC};
    CHECK_ERR(fd_err(mm_obj, &ctx, inp, NC, dinp), FD_TOL, "matmul dinp (=) vs FD %dx%d->%d%s",
              N, C, OC, bias ? "" : " nobias");
    CHECK_ERR(fd_err(mm_obj, &ctx, w, OCC, minus_dd(dw, pw, OCC)), FD_TOL,
              "matmul dw (+=) vs FD %dx%d->%d%s", N, C, OC, bias ? "" : " nobias");
    if (bias)
        CHECK_ERR(fd_err(mm_obj, &ctx, bias, OC, minus_dd(dbias, pb, OC)), FD_TOL,
                  "matmul dbias (+=) vs FD %dx%d->%d", N, C, OC);
}

LOCO_TEST(layer_matmul_fd) {
    matmul_fd_case(loco_test_failed_, 10, 8, 12, 1, 301);
    matmul_fd_case(loco_test_failed_, 10, 8, 12, 0, 302);
    matmul_fd_case(loco_test_failed_, 7, 5, 3, 1, 303);   /* odd sizes: vector tails */
    matmul_fd_case(loco_test_failed_, 1, 1, 1, 1, 304);
    release(loco_test_failed_);
}

static void matmul_f32_case(int *loco_test_failed_, int N, int C, int OC, int has_bias,
                            uint64_t seed) {
    const long NC = (long)N * C, OCC = (long)OC * C, NO = (long)N * OC;
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    double *inp = dnew(NC), *w = dnew(OCC), *bias = has_bias ? dnew(OC) : NULL, *dout = dnew(NO);
    double *pw = dnew(OCC), *pb = dnew(OC);
    fill_normal(&rng, inp, NC, 1, 0);
    fill_normal(&rng, w, OCC, 1.0 / sqrt(C), 0);
    if (bias) fill_normal(&rng, bias, OC, 1, 0);
    fill_normal(&rng, dout, NO, 1, 0);
    fill_normal(&rng, pw, OCC, 1, 0);
    fill_normal(&rng, pb, OC, 1, 0);
    round_to_float(inp, NC); round_to_float(w, OCC); if (bias) round_to_float(bias, OC);
    round_to_float(dout, NO); round_to_float(pw, OCC); round_to_float(pb, OC);

    double *out = dnew(NO), *ref = dnew(NO), *dinp = dnew(NC);
    double *dw = dup_d(pw, OCC), *dbias = bias ? dup_d(pb, OC) : NULL;
    loco__matmul_forward_f64(out, inp, w, bias, N, C, OC);
    loco__matmul_backward_f64(dinp, dw, dbias, dout, inp, w, N, C, OC);
    mm_ref(ref, inp, w, bias, N, C, OC);
    CHECK_ERR(err_dd(out, ref, NO), REF_TOL, "matmul f64 fwd vs ref %dx%d->%d", N, C, OC);
    mm_ctx ctx = {dnew(NO), inp, w, bias, dout, N, C, OC};
    CHECK_ERR(dir_fd_err(mm_obj, &ctx, inp, NC, dinp, &rng, 3), DIR_TOL,
              "matmul f64 dinp dir-FD %dx%d->%d", N, C, OC);
    CHECK_ERR(dir_fd_err(mm_obj, &ctx, w, OCC, minus_dd(dw, pw, OCC), &rng, 3), DIR_TOL,
              "matmul f64 dw dir-FD %dx%d->%d", N, C, OC);
    if (bias)
        CHECK_ERR(dir_fd_err(mm_obj, &ctx, bias, OC, minus_dd(dbias, pb, OC), &rng, 3),
                  DIR_TOL, "matmul f64 dbias dir-FD %dx%d->%d", N, C, OC);

    float *fout = fnew(NO), *fdinp = fnew(NC), *finp = to_f(inp, NC), *fw = to_f(w, OCC);
    float *fbias = bias ? to_f(bias, OC) : NULL, *fdout = to_f(dout, NO);
    float *fdw = to_f(pw, OCC), *fdb = bias ? to_f(pb, OC) : NULL;
    loco__matmul_forward(fout, finp, fw, fbias, N, C, OC);
    loco__matmul_backward(fdinp, fdw, fdb, fdout, finp, fw, N, C, OC);
    CHECK_ERR(err_fd(fout, out, NO), F32_TOL, "matmul f32 out %dx%d->%d%s", N, C, OC,
              bias ? "" : " nobias");
    CHECK_ERR(err_fd(fdinp, dinp, NC), F32_TOL, "matmul f32 dinp (=) %dx%d->%d", N, C, OC);
    CHECK_ERR(err_dd(minus_fd(fdw, pw, OCC), minus_dd(dw, pw, OCC), OCC), F32_TOL,
              "matmul f32 dw (+=) %dx%d->%d", N, C, OC);
    if (bias)
        CHECK_ERR(err_dd(minus_fd(fdb, pb, OC), minus_dd(dbias, pb, OC), OC), F32_TOL,
                  "matmul f32 dbias (+=) %dx%d->%d", N, C, OC);
}

LOCO_TEST(layer_matmul_f32) {
    matmul_f32_case(loco_test_failed_, 10, 8, 12, 1, 311);
    matmul_f32_case(loco_test_failed_, 128, 64, 192, 1, 312);  /* qkv: C -> 3C */
    matmul_f32_case(loco_test_failed_, 128, 256, 64, 1, 313);  /* fcproj: 4C -> C */
    matmul_f32_case(loco_test_failed_, 128, 64, 256, 0, 314);  /* no bias */
    matmul_f32_case(loco_test_failed_, 130, 67, 101, 1, 315);  /* odd: block tails */
    release(loco_test_failed_);
}

/* ============================================================== attention */

typedef struct { double *out, *att, *qkv, *R; int B, T, C, NH; } at_ctx;

static double at_obj(void *p) {
    at_ctx *c = p;
    loco__attention_forward_f64(c->out, c->att, c->qkv, c->B, c->T, c->C, c->NH);
    return dot(c->out, c->R, (long)c->B * c->T * c->C);
}

/* Direct causal multi-head attention in double; att (B,NH,T,T), zero above
 * the diagonal. */
static void at_ref(double *out, double *att, const double *qkv, int B, int T, int C, int NH) {
    const int hs = C / NH;
    const double scale = 1.0 / sqrt((double)hs);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++) {
                const double *q = qkv + ((long)b * T + t) * 3 * C + (long)h * hs;
                double *a = att + (((long)b * NH + h) * T + t) * T;
                double m = -INFINITY, sum = 0;
                for (int t2 = 0; t2 <= t; t2++) {
                    const double *k = qkv + ((long)b * T + t2) * 3 * C + C + (long)h * hs;
                    double s = 0;
                    for (int i = 0; i < hs; i++) s += q[i] * k[i];
                    a[t2] = s * scale;
                    m = fmax(m, a[t2]);
                }
                for (int t2 = 0; t2 <= t; t2++) sum += (a[t2] = exp(a[t2] - m));
                for (int t2 = 0; t2 < T; t2++) a[t2] = t2 <= t ? a[t2] / sum : 0.0;
                double *o = out + ((long)b * T + t) * C + (long)h * hs;
                for (int i = 0; i < hs; i++) {
                    double s = 0;
                    for (int t2 = 0; t2 <= t; t2++)
                        s += a[t2] * qkv[((long)b * T + t2) * 3 * C + 2 * C + (long)h * hs + i];
                    o[i] = s;
                }
            }
}

/* The causal (t2 <= t) part of att, packed; the masked part is not
 * specified by layers.h. */
static double *pack_causal_d(const double *att, int B, int NH, int T) {
    double *p = dnew((long)B * NH * T * (T + 1) / 2);
    long k = 0;
    for (long bh = 0; bh < (long)B * NH; bh++)
        for (int t = 0; t < T; t++)
            for (int t2 = 0; t2 <= t; t2++) p[k++] = att[(bh * T + t) * T + t2];
    return p;
}
static double *pack_causal_f(const float *att, int B, int NH, int T) {
    double *p = dnew((long)B * NH * T * (T + 1) / 2);
    long k = 0;
    for (long bh = 0; bh < (long)B * NH; bh++)
        for (int t = 0; t < T; t++)
            for (int t2 = 0; t2 <= t; t2++) p[k++] = att[(bh * T + t) * T + t2];
    return p;
}

static void attention_fd_case(int *loco_test_failed_, int B, int T, int C, int NH,
                              uint64_t seed) {
    const long N3 = (long)B * T * 3 * C, NC = (long)B * T * C, AT = (long)B * NH * T * T;
    const long AP = (long)B * NH * T * (T + 1) / 2;
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    double *qkv = dnew(N3), *R = dnew(NC);
    fill_normal(&rng, qkv, N3, 1, 0);
    fill_normal(&rng, R, NC, 1, 0);

    double *out = dnew(NC), *att = dnew(AT), *rout = dnew(NC), *ratt = dnew(AT);
    loco__attention_forward_f64(out, att, qkv, B, T, C, NH);
    at_ref(rout, ratt, qkv, B, T, C, NH);
    CHECK_ERR(err_dd(out, rout, NC), REF_TOL, "attention fwd out vs ref B%d T%d C%d NH%d",
              B, T, C, NH);
    CHECK_ERR(err_dd(pack_causal_d(att, B, NH, T), pack_causal_d(ratt, B, NH, T), AP), REF_TOL,
              "attention fwd att vs ref B%d T%d C%d NH%d", B, T, C, NH);

    /* dqkv is written and datt is scratch: both start as NaN garbage. */
    double *dqkv = dnew(N3), *datt = dnew(AT);
    double *Rc = dup_d(R, NC), *qkvc = dup_d(qkv, N3), *attc = dup_d(att, AT);
    loco__attention_backward_f64(dqkv, datt, R, qkv, att, B, T, C, NH);
    CHECK(same_d(R, Rc, NC) && same_d(qkv, qkvc, N3) && same_d(att, attc, AT),
          "attention_backward modified dout, qkv or att");

    at_ctx ctx = {dnew(NC), dnew(AT), qkv, R, B, T, C, NH};
    CHECK_ERR(fd_err(at_obj, &ctx, qkv, N3, dqkv), FD_TOL,
              "attention dqkv (=) vs FD B%d T%d C%d NH%d", B, T, C, NH);
}

LOCO_TEST(layer_attention_fd) {
    attention_fd_case(loco_test_failed_, 2, 5, 12, 3, 401);
    attention_fd_case(loco_test_failed_, 2, 7, 8, 2, 402);
    attention_fd_case(loco_test_failed_, 1, 4, 6, 1, 403);
    attention_fd_case(loco_test_failed_, 2, 1, 8, 2, 404); /* T = 1: out = v */
    release(loco_test_failed_);
}

LOCO_TEST(layer_attention_causal) {
    const int B = 2, T = 6, C = 8, NH = 2;
    const long N3 = (long)B * T * 3 * C, NC = (long)B * T * C, AT = (long)B * NH * T * T;
    loco_rng rng;
    loco_rng_seed(&rng, 411);
    double *qkv = dnew(N3), *qkv2 = dnew(N3), *R = dnew(NC), *Rm = dnew(NC);
    double *out = dnew(NC), *att = dnew(AT), *out2 = dnew(NC), *att2 = dnew(AT);
    double *dqkv = dnew(N3), *datt = dnew(AT);
    fill_normal(&rng, qkv, N3, 1, 0);
    fill_normal(&rng, R, NC, 1, 0);
    loco__attention_forward_f64(out, att, qkv, B, T, C, NH);
    const double scale = max_abs(out, NC);
    at_ctx ctx = {dnew(NC), dnew(AT), qkv, Rm, B, T, C, NH};
    for (int t0 = 0; t0 < T - 1; t0++) {
        /* Forward: replace q, k, v at every t' > t0; outputs at t <= t0 must
         * not move (up to rounding, should an implementation's softmax
         * subtract a max over the whole row), those after t0 must. */
        memcpy(qkv2, qkv, (size_t)N3 * sizeof *qkv);
        for (int b = 0; b < B; b++)
            fill_normal(&rng, qkv2 + ((long)b * T + t0 + 1) * 3 * C, (long)(T - t0 - 1) * 3 * C, 1, 0);
        loco__attention_forward_f64(out2, att2, qkv2, B, T, C, NH);
        double past = 0, future = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int c = 0; c < C; c++) {
                    long i = ((long)b * T + t) * C + c;
                    if (t <= t0) past = worse(past, fabs(out2[i] - out[i]));
                    else future = worse(future, fabs(out2[i] - out[i]));
                }
        CHECK(past <= 1e-14 * scale, "t0=%d: outputs at t <= t0 moved by %.3e when inputs "
              "after t0 changed", t0, past);
        CHECK(future > 1e-3 * scale, "t0=%d: outputs after t0 did not move (%.3e)", t0, future);

        /* Backward: with dout zero after t0, the gradient wrt q, k and v at
         * every t' > t0 is exactly zero; and it matches FD everywhere. */
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int c = 0; c < C; c++) {
                    long i = ((long)b * T + t) * C + c;
                    Rm[i] = t <= t0 ? R[i] : 0.0;
                }
        loco__attention_backward_f64(dqkv, datt, Rm, qkv, att, B, T, C, NH);
        int nonzero = 0;
        for (int b = 0; b < B; b++)
            for (long i = ((long)b * T + t0 + 1) * 3 * C; i < ((long)b + 1) * T * 3 * C; i++)
                nonzero += dqkv[i] != 0.0;
        CHECK(nonzero == 0, "t0=%d: %d gradient entries at t' > t0 are not exactly 0", t0, nonzero);
        CHECK_ERR(fd_err(at_obj, &ctx, qkv, N3, dqkv), FD_TOL,
                  "attention causal dqkv vs FD, dout zero after t0=%d", t0);
    }
    release(loco_test_failed_);
}

static void attention_f32_case(int *loco_test_failed_, int B, int T, int C, int NH,
                               int dir_fd, uint64_t seed) {
    const long N3 = (long)B * T * 3 * C, NC = (long)B * T * C, AT = (long)B * NH * T * T;
    const long AP = (long)B * NH * T * (T + 1) / 2;
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    double *qkv = dnew(N3), *dout = dnew(NC);
    fill_normal(&rng, qkv, N3, 1, 0);
    fill_normal(&rng, dout, NC, 1, 0);
    round_to_float(qkv, N3);
    round_to_float(dout, NC);

    double *out = dnew(NC), *att = dnew(AT), *dqkv = dnew(N3), *datt = dnew(AT);
    loco__attention_forward_f64(out, att, qkv, B, T, C, NH);
    loco__attention_backward_f64(dqkv, datt, dout, qkv, att, B, T, C, NH);
    if (dir_fd) {
        double *rout = dnew(NC), *ratt = dnew(AT);
        at_ref(rout, ratt, qkv, B, T, C, NH);
        CHECK_ERR(err_dd(out, rout, NC), REF_TOL, "attention f64 fwd vs ref B%d T%d C%d NH%d",
                  B, T, C, NH);
        CHECK_ERR(err_dd(pack_causal_d(att, B, NH, T), pack_causal_d(ratt, B, NH, T), AP),
                  REF_TOL, "attention f64 att vs ref B%d T%d C%d NH%d", B, T, C, NH);
        at_ctx ctx = {dnew(NC), dnew(AT), qkv, dout, B, T, C, NH};
        CHECK_ERR(dir_fd_err(at_obj, &ctx, qkv, N3, dqkv, &rng, 4), DIR_TOL,
                  "attention f64 dqkv dir-FD B%d T%d C%d NH%d", B, T, C, NH);
    }

    float *fqkv = to_f(qkv, N3), *fdout = to_f(dout, NC);
    float *fout = fnew(NC), *fatt = fnew(AT), *fdqkv = fnew(N3), *fdatt = fnew(AT);
    loco__attention_forward(fout, fatt, fqkv, B, T, C, NH);
    loco__attention_backward(fdqkv, fdatt, fdout, fqkv, fatt, B, T, C, NH);
    CHECK_ERR(err_fd(fout, out, NC), F32_TOL, "attention f32 out B%d T%d C%d NH%d", B, T, C, NH);
    CHECK_ERR(err_dd(pack_causal_f(fatt, B, NH, T), pack_causal_d(att, B, NH, T), AP), F32_TOL,
              "attention f32 att B%d T%d C%d NH%d", B, T, C, NH);
    CHECK_ERR(err_fd(fdqkv, dqkv, N3), F32_TOL, "attention f32 dqkv B%d T%d C%d NH%d",
              B, T, C, NH);
}

LOCO_TEST(layer_attention_f32) {
    attention_f32_case(loco_test_failed_, 2, 5, 12, 3, 0, 421);
    attention_f32_case(loco_test_failed_, 2, 64, 64, 4, 1, 422);
    attention_f32_case(loco_test_failed_, 1, 67, 48, 3, 1, 423);  /* odd T, hs = 16 */
    attention_f32_case(loco_test_failed_, 1, 128, 128, 2, 1, 424); /* hs = 64 like GPT-2 */
    release(loco_test_failed_);
}

/* =================================================================== gelu */

typedef struct { double *out, *inp, *R; long N; } ge_ctx;

static double ge_obj(void *p) {
    ge_ctx *c = p;
    loco__gelu_forward_f64(c->out, c->inp, c->N);
    return dot(c->out, c->R, c->N);
}

static double gelu_ref(double x) {
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

static void gelu_inputs(loco_rng *rng, double *x, long n) {
    fill_normal(rng, x, n, 2, 0);
    const double special[] = {0.0, 5.0, -5.0, 10.0, -10.0, 1e-3, -1e-3};
    for (long i = 0; i < 7 && i < n; i++) x[i * (n / 7)] = special[i];
}

LOCO_TEST(layer_gelu_fd) {
    const long N = 41;
    loco_rng rng;
    loco_rng_seed(&rng, 501);
    double *inp = dnew(N), *R = dnew(N), *out = dnew(N), *ref = dnew(N);
    gelu_inputs(&rng, inp, N);
    fill_normal(&rng, R, N, 1, 0);
    loco__gelu_forward_f64(out, inp, N);
    for (long i = 0; i < N; i++) ref[i] = gelu_ref(inp[i]);
    CHECK_ERR(err_dd(out, ref, N), REF_TOL, "gelu fwd vs tanh formula");

    /* separate buffers: dinp written over NaN garbage, dout left alone */
    double *dinp = dnew(N), *Rc = dup_d(R, N);
    loco__gelu_backward_f64(dinp, inp, R, N);
    CHECK(same_d(R, Rc, N), "gelu_backward modified dout");
    ge_ctx ctx = {dnew(N), inp, R, N};
    CHECK_ERR(fd_err(ge_obj, &ctx, inp, N, dinp), FD_TOL, "gelu dinp (=) vs FD");

    /* aliased: dinp == dout */
    double *buf = dup_d(R, N);
    loco__gelu_backward_f64(buf, inp, buf, N);
    CHECK_ERR(err_dd(buf, dinp, N), 1e-15, "gelu aliased dinp vs separate");
    CHECK_ERR(fd_err(ge_obj, &ctx, inp, N, buf), FD_TOL, "gelu aliased dinp vs FD");
    release(loco_test_failed_);
}

LOCO_TEST(layer_gelu_f32) {
    const long sizes[2] = {41, 100003};
    loco_rng rng;
    loco_rng_seed(&rng, 502);
    for (int s = 0; s < 2; s++) {
        const long N = sizes[s];
        double *inp = dnew(N), *dout = dnew(N), *out = dnew(N), *dinp = dnew(N);
        gelu_inputs(&rng, inp, N);
        fill_normal(&rng, dout, N, 1, 0);
        round_to_float(inp, N);
        round_to_float(dout, N);
        loco__gelu_forward_f64(out, inp, N);
        loco__gelu_backward_f64(dinp, inp, dout, N);
        float *finp = to_f(inp, N), *fdout = to_f(dout, N), *fout = fnew(N), *fdinp = fnew(N);
        loco__gelu_forward(fout, finp, N);
        loco__gelu_backward(fdinp, finp, fdout, N);
        CHECK_ERR(err_fd(fout, out, N), F32_ELEM_TOL, "gelu f32 out N=%ld", N);
        CHECK_ERR(err_fd(fdinp, dinp, N), F32_ELEM_TOL, "gelu f32 dinp N=%ld", N);
        loco__gelu_backward(fdout, finp, fdout, N); /* aliased */
        CHECK_ERR(err_fd(fdout, dinp, N), F32_ELEM_TOL, "gelu f32 aliased dinp N=%ld", N);
    }
    release(loco_test_failed_);
}

/* gelu'(x) is in [-0.17, 1.13] for every x, so the float backward must agree
 * with the double one to an ABSOLUTE error of a few float ulps of 1 at any x,
 * large pre-activations included (the tails are where tanh saturates and
 * 1 - tanh^2 is multiplied by x * du/dx ~ 0.1 x^3).  With dout = 1 the
 * worst error is ~6e-7 with libm's tanhf and 1.7e-6 with layers.c's own
 * tanh (both near |x| = 5, from the rounding of tanh close to +-1), hence
 * the 1e-5 tolerance.  A tanh that returns 1 - 2^-24 instead of 1 in the
 * tail (as a clamp at |u| = 9 did) gives errors of 6.4e-9 x^3: 1.2e-5 at
 * x = 12, 6e-3 at x = 100, 6.4 at x = 1000. */
LOCO_TEST(layer_gelu_f32_tails) {
    enum { M = 400 };
    double *inp = dnew(2 * M), *ones = dnew(2 * M), *d = dnew(2 * M);
    for (int i = 0; i < M; i++) {
        double x = pow(10.0, -1.0 + 4.0 * i / (M - 1)); /* 0.1 .. 1000 */
        inp[2 * i] = (double)(float)x;
        inp[2 * i + 1] = -(double)(float)x;
    }
    for (int i = 0; i < 2 * M; i++) ones[i] = 1.0;
    loco__gelu_backward_f64(d, inp, ones, 2 * M);
    float *finp = to_f(inp, 2 * M), *fones = to_f(ones, 2 * M), *fd = fnew(2 * M);
    loco__gelu_backward(fd, finp, fones, 2 * M);
    double worst = 0, wx = 0;
    for (int i = 0; i < 2 * M; i++) {
        double e = fabs((double)fd[i] - d[i]);
        if (!(e <= worst)) { worst = e; wx = inp[i]; }
    }
    CHECK_ERR(worst, 1e-5, "gelu f32 gelu'(x) abs error, |x| in [0.1, 1000] (worst at x = %g)", wx);
    release(loco_test_failed_);
}

/* =============================================================== residual */

LOCO_TEST(layer_residual) {
    const long sizes[2] = {1001, 100003};
    loco_rng rng;
    loco_rng_seed(&rng, 601);
    for (int s = 0; s < 2; s++) {
        const long N = sizes[s];
        double *a = dnew(N), *b = dnew(N), *out = dnew(N);
        fill_normal(&rng, a, N, 1, 0);
        fill_normal(&rng, b, N, 1, 0);
        loco__residual_forward_f64(out, a, b, N);
        long bad = 0;
        for (long i = 0; i < N; i++) bad += out[i] != a[i] + b[i];
        CHECK(bad == 0, "residual f64 N=%ld: %ld elements differ from a + b", N, bad);
        float *fa = to_f(a, N), *fb = to_f(b, N), *fout = fnew(N);
        loco__residual_forward(fout, fa, fb, N);
        bad = 0;
        for (long i = 0; i < N; i++) bad += fout[i] != fa[i] + fb[i];
        CHECK(bad == 0, "residual f32 N=%ld: %ld elements differ from a + b", N, bad);
    }
    release(loco_test_failed_);
}

/* =========================================================== crossentropy */

typedef struct { double *losses, *lse, *logits; const int *targets; int N, V; double dloss; } ce_ctx;

static double ce_obj(void *p) {
    ce_ctx *c = p;
    loco__crossentropy_forward_f64(c->losses, c->lse, c->logits, c->targets, c->N, c->V);
    double s = 0;
    for (int i = 0; i < c->N; i++) s += c->losses[i];
    return c->dloss * s;
}

static void ce_ref(double *losses, double *lse, const double *logits, const int *targets,
                   int N, int V) {
    for (int i = 0; i < N; i++) {
        const double *x = logits + (long)i * V;
        double m = -INFINITY, s = 0;
        for (int v = 0; v < V; v++) m = fmax(m, x[v]);
        for (int v = 0; v < V; v++) s += exp(x[v] - m);
        lse[i] = m + log(s);
        losses[i] = lse[i] - x[targets[i]];
    }
}

LOCO_TEST(layer_crossentropy_fd) {
    const int N = 10, V = 11;
    const long NV = (long)N * V;
    const double dloss = 0.37; /* not 1: a dropped factor must show */
    loco_rng rng;
    loco_rng_seed(&rng, 701);
    int *targets = malloc((size_t)N * sizeof *targets);
    for (int i = 0; i < N; i++) targets[i] = (int)(loco_rng_u64(&rng) % V);
    targets[0] = 0;
    targets[1] = V - 1;
    double *logits = dnew(NV);
    fill_normal(&rng, logits, NV, 2, 0);

    double *losses = dnew(N), *lse = dnew(N), *rl = dnew(N), *rlse = dnew(N);
    loco__crossentropy_forward_f64(losses, lse, logits, targets, N, V);
    ce_ref(rl, rlse, logits, targets, N, V);
    CHECK_ERR(err_dd(losses, rl, N), REF_TOL, "crossentropy fwd losses vs logsumexp - x[t]");
    CHECK_ERR(err_dd(lse, rlse, N), REF_TOL, "crossentropy fwd lse vs ref");

    /* separate buffers: dlogits written over NaN garbage, logits left alone */
    double *dlogits = dnew(NV), *lc = dup_d(logits, NV);
    loco__crossentropy_backward_f64(dlogits, logits, lse, targets, dloss, N, V);
    CHECK(same_d(logits, lc, NV), "crossentropy_backward modified logits (not aliased)");
    ce_ctx ctx = {dnew(N), dnew(N), logits, targets, N, V, dloss};
    CHECK_ERR(fd_err(ce_obj, &ctx, logits, NV, dlogits), FD_TOL, "crossentropy dlogits (=) vs FD");

    /* aliased: dlogits == logits */
    double *buf = dup_d(logits, NV);
    loco__crossentropy_backward_f64(buf, buf, lse, targets, dloss, N, V);
    CHECK_ERR(err_dd(buf, dlogits, NV), 1e-15, "crossentropy aliased dlogits vs separate");
    CHECK_ERR(fd_err(ce_obj, &ctx, logits, NV, buf), FD_TOL, "crossentropy aliased dlogits vs FD");
    free(targets);
    release(loco_test_failed_);
}

/* Logits shifted far beyond exp's range (double: 800 > log(DBL_MAX) = 709;
 * float: 100 > log(FLT_MAX) = 88.7) must give the same, finite, results. */
LOCO_TEST(layer_crossentropy_stable) {
    const int N = 6, V = 13;
    const long NV = (long)N * V;
    loco_rng rng;
    loco_rng_seed(&rng, 711);
    int targets[6];
    for (int i = 0; i < N; i++) targets[i] = (int)(loco_rng_u64(&rng) % V);
    double *logits = dnew(NV), *shifted = dnew(NV);
    fill_normal(&rng, logits, NV, 2, 0);
    for (long i = 0; i < NV; i++) shifted[i] = logits[i] + 800.0;
    double *l0 = dnew(N), *s0 = dnew(N), *l1 = dnew(N), *s1 = dnew(N);
    double *d0 = dnew(NV), *d1 = dnew(NV);
    loco__crossentropy_forward_f64(l0, s0, logits, targets, N, V);
    loco__crossentropy_forward_f64(l1, s1, shifted, targets, N, V);
    loco__crossentropy_backward_f64(d0, logits, s0, targets, 1.0, N, V);
    loco__crossentropy_backward_f64(d1, shifted, s1, targets, 1.0, N, V);
    /* the shift costs ~ulp(800) = 1e-13 absolute in the logits */
    CHECK_ERR(err_dd(l1, l0, N), 1e-11, "crossentropy f64 losses, logits + 800");
    CHECK_ERR(err_dd(d1, d0, NV), 1e-11, "crossentropy f64 dlogits, logits + 800");

    for (long i = 0; i < NV; i++) shifted[i] = (double)(float)(logits[i] + 100.0);
    loco__crossentropy_forward_f64(l1, s1, shifted, targets, N, V);
    loco__crossentropy_backward_f64(d1, shifted, s1, targets, 1.0, N, V);
    float *fl = to_f(shifted, NV), *flos = fnew(N), *flse = fnew(N), *fd = fnew(NV);
    loco__crossentropy_forward(flos, flse, fl, targets, N, V);
    loco__crossentropy_backward(fd, fl, flse, targets, 1.0f, N, V);
    /* ulp(100) in float is 7.6e-6 absolute on O(1..10) losses */
    CHECK_ERR(err_fd(flos, l1, N), F32_TOL, "crossentropy f32 losses, logits + 100");
    CHECK_ERR(err_fd(flse, s1, N), F32_TOL, "crossentropy f32 lse, logits + 100");
    CHECK_ERR(err_fd(fd, d1, NV), F32_TOL, "crossentropy f32 dlogits, logits + 100");
    release(loco_test_failed_);
}

LOCO_TEST(layer_crossentropy_f32) {
    const int shapes[3][2] = {{10, 11}, {64, 1000}, {4, 50257}};
    loco_rng rng;
    loco_rng_seed(&rng, 721);
    for (int s = 0; s < 3; s++) {
        const int N = shapes[s][0], V = shapes[s][1];
        const long NV = (long)N * V;
        const double dloss = 1.0 / N;
        int *targets = malloc((size_t)N * sizeof *targets);
        for (int i = 0; i < N; i++) targets[i] = (int)(loco_rng_u64(&rng) % V);
        double *logits = dnew(NV);
        fill_normal(&rng, logits, NV, 2, 0);
        round_to_float(logits, NV);
        double *losses = dnew(N), *lse = dnew(N), *dl = dnew(NV);
        loco__crossentropy_forward_f64(losses, lse, logits, targets, N, V);
        loco__crossentropy_backward_f64(dl, logits, lse, targets, dloss, N, V);
        if (s > 0) {
            double *rl = dnew(N), *rlse = dnew(N);
            ce_ref(rl, rlse, logits, targets, N, V);
            CHECK_ERR(err_dd(losses, rl, N), REF_TOL, "crossentropy f64 losses vs ref %dx%d", N, V);
        }
        float *fl = to_f(logits, NV), *flos = fnew(N), *flse = fnew(N), *fdl = fnew(NV);
        loco__crossentropy_forward(flos, flse, fl, targets, N, V);
        loco__crossentropy_backward(fdl, fl, flse, targets, (float)dloss, N, V);
        CHECK_ERR(err_fd(flos, losses, N), F32_ELEM_TOL, "crossentropy f32 losses %dx%d", N, V);
        CHECK_ERR(err_fd(flse, lse, N), F32_ELEM_TOL, "crossentropy f32 lse %dx%d", N, V);
        CHECK_ERR(err_fd(fdl, dl, NV), F32_ELEM_TOL, "crossentropy f32 dlogits %dx%d", N, V);
        /* aliased, in float */
        loco__crossentropy_backward(fl, fl, flse, targets, (float)dloss, N, V);
        CHECK_ERR(err_fd(fl, dl, NV), F32_ELEM_TOL, "crossentropy f32 aliased dlogits %dx%d", N, V);
        free(targets);
    }
    release(loco_test_failed_);
}
