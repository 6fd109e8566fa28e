/*
 * The agent's layers (src/agent/layers.h), each checked three ways on a
 * small case:
 *  - the double build's backward against central finite differences of
 *    L = sum(out * R) for EVERY element of every differentiable input;
 *  - the double build's forward and gradients against PyTorch in float64
 *    (tests/ref_agent_layers.py: torch's conv2d, softmax attention, LSTM
 *    cell arithmetic, indexing, mean and logsumexp, differentiated by
 *    autograd);
 *  - the float build (the training path) against the double build on the
 *    same float-representable inputs.
 * The conventions of layers.h are checked on the way: gradients the layer
 * accumulates are pre-filled with 1 (and the 1 removed before comparing), the
 * ones it writes with NaN, so "=" for "+=" or a gradient left unwritten fails.
 *
 * Tolerances.  FD: central differences of step 1e-6 in double give errors of
 * ~eps^2 L''' + |L| 1e-16 / eps ~ 1e-10 relative for O(1) inputs; the bound
 * is 1e-6 (measured: see LOCO_TEST_VERBOSE=1), while a wrong index or a
 * missing term is an O(1e-2..1) error.  Torch, float64 both sides: the same
 * sums in another order, 1e-10 relative to the tensor's scale.  Float vs
 * double: float's 6e-8 unit round-off over sums of at most ~100 terms and a
 * few chained kernels, 1e-4 relative to the tensor's scale (measured ~1e-6).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/loco.h"
#include "agent/layers.h"
#include "test.h"
#include "util.h"

#define FD_EPS 1e-6
#define FD_TOL 1e-6
#define TORCH_TOL 1e-10
#define F32_TOL 1e-4
#define MAXIN 6

typedef struct lcase lcase;
/* Runs the layer on in[] (doubles, or floats for f32), writing out and, with
 * R given, the gradients of the differentiable inputs into g[] (pre-filled by
 * the driver as described above). */
typedef void (*run64_fn)(const lcase *c, double **in, double *out, const double *R, double **g);
typedef void (*run32_fn)(const lcase *c, float **in, float *out, const float *R, float **g);

struct lcase {
    const char *name;
    int layer, np, p[8];
    int nin;
    double *in[MAXIN];
    long n[MAXIN];
    int diff[MAXIN];    /* differentiable */
    int acc[MAXIN];     /* its gradient is accumulated (+=) */
    long nout;
    double *R;
    run64_fn f64;
    run32_fn f32;
};

static int verbose(void) { return getenv("LOCO_TEST_VERBOSE") != NULL; }

static double scale_of(const double *x, long n) {
    double m = 0;
    for (long i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return fmax(m, 1e-30);
}
/* max|a - b| / max|b|; NaN anywhere gives NaN. */
static double rel(const double *a, const double *b, long n) {
    double m = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (isnan(d)) return NAN;
        m = fmax(m, d);
    }
    return m / scale_of(b, n);
}
static double rel_f(const float *a, const double *b, long n) {
    double m = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (isnan(d)) return NAN;
        m = fmax(m, d);
    }
    return m / scale_of(b, n);
}

static double loss_of(const lcase *c, double *out) {
    c->f64(c, (double **)c->in, out, NULL, NULL);
    double s = 0;
    for (long i = 0; i < c->nout; i++) s += out[i] * c->R[i];
    return s;
}

/* Runs the torch reference; returns a malloc'd flat array of total floats
 * *ntot (outputs then gradients), or NULL with a reason. */
static double *torch_run(const lcase *c, long *ntot, char *why, size_t wn) {
    char in[] = "/tmp/loco_agl_in_XXXXXX", out[] = "/tmp/loco_agl_out_XXXXXX";
    int fi = mkstemp(in), fo = mkstemp(out);
    if (fi < 0 || fo < 0) { snprintf(why, wn, "mkstemp failed"); return NULL; }
    close(fo);
    FILE *f = fdopen(fi, "wb");
    int hdr[2] = {c->layer, c->np};
    fwrite(hdr, 4, 2, f);
    fwrite(c->p, 4, c->np, f);
    int m = c->nin + 1;
    fwrite(&m, 4, 1, f);
    for (int i = 0; i <= c->nin; i++) {
        int n = i < c->nin ? (int)c->n[i] : (int)c->nout;
        fwrite(&n, 4, 1, f);
        fwrite(i < c->nin ? c->in[i] : c->R, 8, n, f);
    }
    fclose(f);
    double *res = NULL;
    if (loco_test_reference("tests/ref_agent_layers.py", in, out, "torch", why, wn) == 0) {
        FILE *g = fopen(out, "rb");
        long cap = 1 << 20, k = 0;
        res = malloc(cap * sizeof(double));
        int n;
        while (g && fread(&n, 4, 1, g) == 1 && k + n <= cap) {
            if (fread(res + k, 8, n, g) != (size_t)n) break;
            k += n;
        }
        if (g) fclose(g);
        *ntot = k;
    }
    unlink(in);
    unlink(out);
    return res;
}

static void run_case(int *loco_test_failed_, lcase *c) {
    double *out = malloc(c->nout * sizeof(double));
    double *g[MAXIN] = {0};
    float *fin[MAXIN] = {0}, *fg[MAXIN] = {0};
    for (int i = 0; i < c->nin; i++) {
        for (long j = 0; j < c->n[i]; j++) c->in[i][j] = (double)(float)c->in[i][j];
        fin[i] = malloc(c->n[i] * sizeof(float));
        for (long j = 0; j < c->n[i]; j++) fin[i][j] = (float)c->in[i][j];
        if (!c->diff[i]) continue;
        g[i] = malloc(c->n[i] * sizeof(double));
        fg[i] = malloc(c->n[i] * sizeof(float));
        for (long j = 0; j < c->n[i]; j++) { g[i][j] = c->acc[i] ? 1.0 : NAN; fg[i][j] = c->acc[i] ? 1.0f : NAN; }
    }
    for (long j = 0; j < c->nout; j++) c->R[j] = (double)(float)c->R[j];
    c->f64(c, c->in, out, c->R, g);
    for (int i = 0; i < c->nin; i++)
        if (c->diff[i] && c->acc[i])
            for (long j = 0; j < c->n[i]; j++) g[i][j] -= 1.0;

    /* finite differences */
    double *tmp = malloc(c->nout * sizeof(double));
    for (int i = 0; i < c->nin; i++) {
        if (!c->diff[i]) continue;
        double md = 0, mn = 0;
        for (long j = 0; j < c->n[i]; j++) {
            double x0 = c->in[i][j];
            c->in[i][j] = x0 + FD_EPS;
            double lp = loss_of(c, tmp);
            c->in[i][j] = x0 - FD_EPS;
            double lm = loss_of(c, tmp);
            c->in[i][j] = x0;
            double num = (lp - lm) / (2 * FD_EPS);
            double dd = fabs(num - g[i][j]);
            md = isnan(dd) ? NAN : fmax(md, dd);
            mn = fmax(mn, fabs(num));
        }
        double e = md / fmax(mn, 1e-6);
        if (verbose()) fprintf(stderr, "    %-12s input %d  fd      err %.3e\n", c->name, i, e);
        CHECK(e <= FD_TOL, "%s: input %d gradient vs finite differences: %.3e > %.0e", c->name, i, e, FD_TOL);
    }
    c->f64(c, c->in, out, NULL, NULL);

    /* float build */
    float *fout = malloc(c->nout * sizeof(float)), *fR = malloc(c->nout * sizeof(float));
    for (long j = 0; j < c->nout; j++) fR[j] = (float)c->R[j];
    c->f32(c, fin, fout, fR, fg);
    double e = rel_f(fout, out, c->nout);
    if (verbose()) fprintf(stderr, "    %-12s out      f32     err %.3e\n", c->name, e);
    CHECK(e <= F32_TOL, "%s: float output vs double: %.3e", c->name, e);
    for (int i = 0; i < c->nin; i++) {
        if (!c->diff[i]) continue;
        if (c->acc[i]) for (long j = 0; j < c->n[i]; j++) fg[i][j] -= 1.0f;
        e = rel_f(fg[i], g[i], c->n[i]);
        if (verbose()) fprintf(stderr, "    %-12s input %d  f32     err %.3e\n", c->name, i, e);
        CHECK(e <= F32_TOL, "%s: float gradient of input %d vs double: %.3e", c->name, i, e);
    }

    /* torch */
    char why[256] = "";
    long nt = 0;
    double *ref = torch_run(c, &nt, why, sizeof why);
    if (!ref) {
        FAIL("%s: PyTorch reference: %s", c->name, why);
    } else {
        long want = c->nout;
        for (int i = 0; i < c->nin; i++) want += c->diff[i] ? c->n[i] : 0;
        CHECK(nt == want, "%s: torch returned %ld numbers, expected %ld", c->name, nt, want);
        if (nt == want) {
            e = rel(out, ref, c->nout);
            if (verbose()) fprintf(stderr, "    %-12s out      torch   err %.3e\n", c->name, e);
            CHECK(e <= TORCH_TOL, "%s: output vs torch: %.3e", c->name, e);
            long k = c->nout;
            for (int i = 0; i < c->nin; i++) {
                if (!c->diff[i]) continue;
                e = rel(g[i], ref + k, c->n[i]);
                if (verbose()) fprintf(stderr, "    %-12s input %d  torch   err %.3e\n", c->name, i, e);
                CHECK(e <= TORCH_TOL, "%s: gradient of input %d vs torch: %.3e", c->name, i, e);
                k += c->n[i];
            }
        }
        free(ref);
    }
    free(out); free(tmp); free(fout); free(fR);
    for (int i = 0; i < c->nin; i++) { free(g[i]); free(fin[i]); free(fg[i]); }
}

/* Allocates input i of n doubles, N(0, s) + o. */
static double *input(lcase *c, int i, long n, double s, double o, int diff, int acc, loco_rng *rng) {
    c->in[i] = malloc(n * sizeof(double));
    c->n[i] = n;
    c->diff[i] = diff;
    c->acc[i] = acc;
    for (long j = 0; j < n; j++) c->in[i][j] = o + s * loco_rng_normal(rng);
    if (i + 1 > c->nin) c->nin = i + 1;
    return c->in[i];
}
static void outputs(lcase *c, long n, loco_rng *rng) {
    c->nout = n;
    c->R = malloc(n * sizeof(double));
    for (long j = 0; j < n; j++) c->R[j] = loco_rng_normal(rng);
}
static void free_case(lcase *c) {
    for (int i = 0; i < c->nin; i++) free(c->in[i]);
    free(c->R);
}

/* The same body for both precisions: T is the element type, SFX the suffix. */
#define CONV_RUN(T, SFX)                                                                          \
    static void conv_##T(const lcase *c, T **in, T *out, const T *R, T **g) {                     \
        const int *p = c->p;                                                                      \
        int N = p[0], H = p[1], W = p[2], C = p[3], OC = p[4], K = p[5], S = p[6], P = p[7];      \
        int OH = loco__ag_conv_out(H, K, S, P), OW = loco__ag_conv_out(W, K, S, P);               \
        T *col = malloc((size_t)OH * OW * K * K * C * sizeof(T));                                 \
        T *dcol = malloc((size_t)OH * OW * K * K * C * sizeof(T));                                \
        loco__ag_conv_forward##SFX(out, in[0], in[1], in[2], col, N, H, W, C, OC, K, S, P);       \
        if (R) loco__ag_conv_backward##SFX(g[0], g[1], g[2], R, in[0], in[1], col, dcol, N, H, W, \
                                           C, OC, K, S, P);                                       \
        free(col); free(dcol);                                                                    \
    }
CONV_RUN(double, _f64)
CONV_RUN(float, )

static void conv_case(int *loco_test_failed_, int S, int P, uint64_t seed) {
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    lcase c = {.name = S == 2 ? "conv s2" : "conv s1", .layer = 0, .np = 8, .p = {2, 7, 6, 3, 4, 3, S, P},
               .f64 = conv_double, .f32 = conv_float};
    int OH = loco__ag_conv_out(7, 3, S, P), OW = loco__ag_conv_out(6, 3, S, P);
    input(&c, 0, 2 * 7 * 6 * 3, 1, 0, 1, 0, &rng);
    input(&c, 1, 4 * 3 * 3 * 3, 0.5, 0, 1, 1, &rng);
    input(&c, 2, 4, 0.5, 0, 1, 1, &rng);
    outputs(&c, 2L * OH * OW * 4, &rng);
    run_case(loco_test_failed_, &c);
    free_case(&c);
}

LOCO_TEST(agent_layer_conv) {
    conv_case(loco_test_failed_, 2, 1, 1);
    conv_case(loco_test_failed_, 1, 1, 2);
}

#define ATT_RUN(T, SFX)                                                                           \
    static void att_##T(const lcase *c, T **in, T *out, const T *R, T **g) {                      \
        const int *p = c->p;                                                                      \
        int B = p[0], Tq = p[1], Tk = p[2], C = p[3], NH = p[4], ldq = p[5], ldk = p[6];          \
        unsigned char *mask = malloc((size_t)B * Tk);                                             \
        for (int i = 0; i < B * Tk; i++) mask[i] = in[2][i] != 0;                                 \
        T *att = malloc((size_t)B * NH * Tq * Tk * sizeof(T));                                    \
        T *datt = malloc((size_t)B * NH * Tq * Tk * sizeof(T));                                   \
        const T *q = in[0], *kv = in[1];                                                          \
        loco__ag_attention_forward##SFX(out, att, q, kv, kv + C, mask, B, Tq, Tk, C, NH, ldq, ldk); \
        if (R) loco__ag_attention_backward##SFX(g[0], g[1], g[1] + C, datt, R, q, kv, kv + C, att, \
                                                B, Tq, Tk, C, NH, ldq, ldk);                      \
        free(mask); free(att); free(datt);                                                        \
    }
ATT_RUN(double, _f64)
ATT_RUN(float, )

/* Three groups: some keys masked, none masked, all masked (output 0). */
LOCO_TEST(agent_layer_attention) {
    loco_rng rng;
    loco_rng_seed(&rng, 3);
    const int B = 3, Tq = 3, Tk = 5, C = 8, NH = 2;
    for (int cross = 0; cross < 2; cross++) {
        int tq = cross ? 1 : Tq;
        lcase c = {.name = cross ? "attn cross" : "attn", .layer = 1, .np = 7, .p = {B, tq, Tk, C, NH, C, 2 * C},
                   .f64 = att_double, .f32 = att_float};
        input(&c, 0, (long)B * tq * C, 1, 0, 1, 0, &rng);
        input(&c, 1, (long)B * Tk * 2 * C, 1, 0, 1, 0, &rng);
        double *mask = input(&c, 2, B * Tk, 0, 1, 0, 0, &rng);
        mask[1] = mask[3] = 0;
        for (int s = 0; s < Tk; s++) mask[2 * Tk + s] = 0;
        outputs(&c, (long)B * tq * C, &rng);
        run_case(loco_test_failed_, &c);
        free_case(&c);
    }
}

#define LSTM_RUN(T, SFX)                                                                          \
    static void lstm_##T(const lcase *c, T **in, T *out, const T *R, T **g) {                     \
        int B = c->p[0], H = c->p[1];                                                             \
        T *act = malloc((size_t)B * 4 * H * sizeof(T)), *tc = malloc((size_t)B * H * sizeof(T));  \
        loco__ag_lstm_cell_forward##SFX(out, out + B * H, act, tc, in[0], in[1], B, H);           \
        if (R) loco__ag_lstm_cell_backward##SFX(g[0], g[1], R, R + B * H, act, tc, in[1], B, H);  \
        free(act); free(tc);                                                                      \
    }
LSTM_RUN(double, _f64)
LSTM_RUN(float, )

LOCO_TEST(agent_layer_lstm_cell) {
    loco_rng rng;
    loco_rng_seed(&rng, 4);
    const int B = 3, H = 5;
    lcase c = {.name = "lstm cell", .layer = 2, .np = 2, .p = {B, H}, .f64 = lstm_double, .f32 = lstm_float};
    input(&c, 0, B * 4 * H, 1.5, 0, 1, 0, &rng);
    input(&c, 1, B * H, 1, 0, 1, 0, &rng);
    outputs(&c, 2 * B * H, &rng);
    run_case(loco_test_failed_, &c);
    /* c_prev NULL is a zero state. */
    double h0[2 * 15], h1[2 * 15], act[60], tc[15], zero[15] = {0};
    loco__ag_lstm_cell_forward_f64(h0, h0 + 15, act, tc, c.in[0], NULL, B, H);
    loco__ag_lstm_cell_forward_f64(h1, h1 + 15, act, tc, c.in[0], zero, B, H);
    CHECK(memcmp(h0, h1, sizeof h0) == 0, "c_prev NULL differs from a zero state");
    free_case(&c);
}

#define EMB_RUN(T, SFX)                                                                           \
    static void emb_##T(const lcase *c, T **in, T *out, const T *R, T **g) {                      \
        int N = c->p[0], C = c->p[2];                                                             \
        int idx[64] = {0};                                                                            \
        for (int i = 0; i < N; i++) idx[i] = (int)in[0][i];                                       \
        /* written with ld C + 1 and acc, so the stride and the += path are both taken */        \
        T *wide = calloc((size_t)N * (C + 1), sizeof(T));                                         \
        T *dw = calloc((size_t)N * (C + 1), sizeof(T));                                           \
        loco__ag_embed_forward##SFX(wide, idx, in[1], N, C, C + 1, 1);                            \
        for (int i = 0; i < N; i++) memcpy(out + i * C, wide + i * (C + 1), C * sizeof(T));       \
        if (R) {                                                                                  \
            for (int i = 0; i < N; i++) memcpy(dw + i * (C + 1), R + i * C, C * sizeof(T));       \
            loco__ag_embed_backward##SFX(g[1], dw, idx, N, C, C + 1);                             \
        }                                                                                         \
        free(wide); free(dw);                                                                     \
    }
EMB_RUN(double, _f64)
EMB_RUN(float, )

LOCO_TEST(agent_layer_embed) {
    loco_rng rng;
    loco_rng_seed(&rng, 5);
    const int N = 9, V = 5, C = 20;   /* C > 16: two column blocks */
    lcase c = {.name = "embed", .layer = 3, .np = 3, .p = {N, V, C}, .f64 = emb_double, .f32 = emb_float};
    double *idx = input(&c, 0, N, 0, 0, 0, 0, &rng);
    for (int i = 0; i < N; i++) idx[i] = (i * 3) % V;   /* every row, some twice */
    input(&c, 1, V * C, 1, 0, 1, 1, &rng);
    outputs(&c, N * C, &rng);
    run_case(loco_test_failed_, &c);
    free_case(&c);
}

#define POOL_RUN(T, SFX)                                                                          \
    static void pool_##T(const lcase *c, T **in, T *out, const T *R, T **g) {                     \
        int B = c->p[0], Tn = c->p[1], C = c->p[2];                                               \
        unsigned char m[64];                                                                      \
        for (int i = 0; i < B * Tn; i++) m[i] = in[1][i] != 0;                                    \
        loco__ag_pool_forward##SFX(out, in[0], m, B, Tn, C);                                      \
        if (R) loco__ag_pool_backward##SFX(g[0], R, m, B, Tn, C);                                 \
    }
POOL_RUN(double, _f64)
POOL_RUN(float, )

LOCO_TEST(agent_layer_pool) {
    loco_rng rng;
    loco_rng_seed(&rng, 6);
    const int B = 3, T = 4, C = 5;
    lcase c = {.name = "pool", .layer = 4, .np = 3, .p = {B, T, C}, .f64 = pool_double, .f32 = pool_float};
    input(&c, 0, B * T * C, 1, 0, 1, 0, &rng);
    double *m = input(&c, 1, B * T, 0, 1, 0, 0, &rng);
    m[1] = 0;
    for (int t = 0; t < T; t++) m[2 * T + t] = 0;
    outputs(&c, B * C, &rng);
    run_case(loco_test_failed_, &c);
    free_case(&c);
}

#define XENT_RUN(T, SFX)                                                                          \
    static void xent_##T(const lcase *c, T **in, T *out, const T *R, T **g) {                     \
        int N = c->p[0], V = c->p[1];                                                             \
        int tg[16], nv[16];                                                                       \
        T *lse = malloc(N * sizeof(T));                                                           \
        for (int i = 0; i < N; i++) { tg[i] = (int)in[1][i]; nv[i] = (int)in[2][i]; }             \
        loco__ag_xent_forward##SFX(out, lse, in[0], tg, nv, N, V);                                \
        if (R) loco__ag_xent_backward##SFX(g[0], in[0], lse, tg, nv, R[0], N, V);                 \
        free(lse);                                                                                \
    }
XENT_RUN(double, _f64)
XENT_RUN(float, )

LOCO_TEST(agent_layer_xent) {
    loco_rng rng;
    loco_rng_seed(&rng, 7);
    const int N = 5, V = 6;
    lcase c = {.name = "xent", .layer = 5, .np = 2, .p = {N, V}, .f64 = xent_double, .f32 = xent_float};
    input(&c, 0, N * V, 2, 0, 1, 0, &rng);
    double *tg = input(&c, 1, N, 0, 0, 0, 0, &rng), *nv = input(&c, 2, N, 0, 0, 0, 0, &rng);
    const int t_[5] = {2, -1, 0, 5, 3}, n_[5] = {6, 6, 3, 6, 4};
    for (int i = 0; i < N; i++) { tg[i] = t_[i]; nv[i] = n_[i]; }
    outputs(&c, N, &rng);
    for (int i = 0; i < N; i++) c.R[i] = 0.7;   /* the kernel takes one dloss for every row */
    run_case(loco_test_failed_, &c);
    free_case(&c);
}
