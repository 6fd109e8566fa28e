/*
 * The GPT's layers, forward and backward (declarations and conventions in
 * layers.h).  This file is compiled twice: as float for training and, with
 * LOCO_REAL_DOUBLE, as double for the finite-difference tests.
 *
 * Matrix products go to BLAS through gemm.c, which cuts them into tiles fixed
 * by the shapes.  Everything else is a loop over rows, parallel with OpenMP
 * under a static schedule.  Every reduction runs in an order fixed by the
 * shapes alone, never by the thread count, so a run is bitwise reproducible
 * for any number of threads.
 */
#include <math.h>
#include <string.h>
#include "nn/gemm.h"
#include "nn/layers.h"

#ifdef LOCO_REAL_DOUBLE
typedef double real;
#define FN(name) loco__##name##_f64
#define EXP exp
#define LOG log
#define SQRT sqrt
#define TANH tanh
#else
typedef float real;
#define FN(name) loco__##name
#define EXP loco__expf
#define LOG logf
#define SQRT sqrtf
#define TANH loco__tanhf

/*
 * exp(x) for float that the compiler can vectorise: write x = n ln2 + r with
 * n = round(x / ln2) and |r| <= ln2/2, so exp(x) = 2^n exp(r).  exp(r) is the
 * degree-6 Taylor polynomial (truncation error below 2e-8 relative on that
 * interval) and 2^n is built in the exponent bits.  Rounding uses the 1.5*2^23
 * trick, which is exact in round-to-nearest for |x/ln2| < 2^22.  Accuracy is
 * within 2 ulp of expf; inputs are clamped to [-87.3, 88.7] (no inf/denormals).
 * A NaN input gives NaN (converting NaN to int would be undefined behaviour,
 * so it is replaced by 0 for the arithmetic and restored by the final select).
 */
static inline float loco__expf(float x) {
    const float in = x;
    x = x != x ? 0.0f : x;
    x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
    const float shifter = 12582912.0f; /* 1.5 * 2^23 */
    float t = x * 1.44269504088896341f + shifter;
    float n = t - shifter;
    /* ln2 split in two so that n * LN2_HI is exact for |n| < 2^8. */
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    union { int i; float f; } scale;
    scale.i = ((int)n + 127) << 23;
    return in != in ? in : p * scale.f;
}

/* tanh(u) = 1 - 2 / (exp(2u) + 1).  The clamp at |u| = 10 makes the tails
 * exactly +-1 (2 / (e^20 + 1) = 4e-9 is below half an ulp of 1), which GELU's
 * backward needs: x (1 - tanh^2) du/dx grows like x^3 and must see 1 - tanh^2
 * = 0, not 1.2e-7.  Near 0 the absolute error is about 1e-7, which is what
 * GELU needs: it uses 1 + tanh, never tanh's relative precision. */
static inline float loco__tanhf(float u) {
    u = u < -10.0f ? -10.0f : (u > 10.0f ? 10.0f : u);
    return 1.0f - 2.0f / (loco__expf(2.0f * u) + 1.0f);
}
#endif

/* ------------------------------------------------------------- encoder */

void FN(encoder_forward)(real *out, const int *inp, const real *wte,
                         const real *wpe, int B, int T, int C) {
    #pragma omp parallel for schedule(static)
    for (int bt = 0; bt < B * T; bt++) {
        real *o = out + (size_t)bt * C;                      // (C)
        const real *e = wte + (size_t)inp[bt] * C;           // (C)
        const real *p = wpe + (size_t)(bt % T) * C;          // (C)
        #pragma omp simd
        for (int c = 0; c < C; c++) o[c] = e[c] + p[c];
    }
}

/* Tokens repeat, so rows of dwte collide; splitting the work by channel
 * instead of by position gives each thread its own columns, and every column
 * sums positions in the same order. */
void FN(encoder_backward)(real *dwte, real *dwpe, const real *dout,
                          const int *inp, int B, int T, int C) {
    #pragma omp parallel
    {
        #pragma omp for schedule(static) nowait
        for (int c = 0; c < C; c++) {
            for (int bt = 0; bt < B * T; bt++) {
                real d = dout[(size_t)bt * C + c];
                dwte[(size_t)inp[bt] * C + c] += d;
                dwpe[(size_t)(bt % T) * C + c] += d;
            }
        }
    }
}

/* ------------------------------------------------------------- layernorm */

void FN(layernorm_forward)(real *out, real *mean, real *rstd, const real *inp,
                           const real *w, const real *b, int N, int C) {
    const real eps = (real)1e-5;
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const real *x = inp + (size_t)i * C;                 // (C)
        real *o = out + (size_t)i * C;                       // (C)
        real s = 0;
        #pragma omp simd reduction(+:s)
        for (int c = 0; c < C; c++) s += x[c];
        real m = s / C;
        real v = 0;
        #pragma omp simd reduction(+:v)
        for (int c = 0; c < C; c++) { real d = x[c] - m; v += d * d; }
        real r = 1 / SQRT(v / C + eps);
        #pragma omp simd
        for (int c = 0; c < C; c++) o[c] = (x[c] - m) * r * w[c] + b[c];
        mean[i] = m;
        rstd[i] = r;
    }
}

/*
 * With xhat = (x - mean) * rstd and y = xhat * w + b, the input gradient is
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),   g = dy * w,
 * computed per row; dw = sum_rows dy * xhat and db = sum_rows dy are summed by
 * column, each thread owning whole columns so the sum order is fixed.
 */
void FN(layernorm_backward)(real *dinp, real *dw, real *db, const real *dout,
                            const real *inp, const real *w, const real *mean,
                            const real *rstd, int N, int C) {
    #pragma omp parallel
    {
        #pragma omp for schedule(static)
        for (int i = 0; i < N; i++) {
            const real *x = inp + (size_t)i * C;             // (C)
            const real *dy = dout + (size_t)i * C;           // (C)
            real *dx = dinp + (size_t)i * C;                 // (C)
            real m = mean[i], r = rstd[i];
            real sg = 0, sgx = 0;
            #pragma omp simd reduction(+:sg, sgx)
            for (int c = 0; c < C; c++) {
                real g = dy[c] * w[c];
                sg += g;
                sgx += g * (x[c] - m) * r;
            }
            sg /= C;
            sgx /= C;
            #pragma omp simd
            for (int c = 0; c < C; c++) {
                real xhat = (x[c] - m) * r;
                dx[c] += r * (dy[c] * w[c] - sg - xhat * sgx);
            }
        }
        /* Column sums in blocks of 16 channels: contiguous within a row, and
         * each block belongs to exactly one thread. */
        #pragma omp for schedule(static)
        for (int c0 = 0; c0 < C; c0 += 16) {
            int c1 = c0 + 16 < C ? c0 + 16 : C;
            real sw[16] = {0}, sb[16] = {0};
            for (int i = 0; i < N; i++) {
                const real *x = inp + (size_t)i * C;
                const real *dy = dout + (size_t)i * C;
                real m = mean[i], r = rstd[i];
                for (int c = c0; c < c1; c++) {
                    sw[c - c0] += dy[c] * (x[c] - m) * r;
                    sb[c - c0] += dy[c];
                }
            }
            for (int c = c0; c < c1; c++) { dw[c] += sw[c - c0]; db[c] += sb[c - c0]; }
        }
    }
}

/* ------------------------------------------------------------- matmul */

void FN(matmul_forward)(real *out, const real *inp, const real *w,
                        const real *bias, int N, int C, int OC) {
    // out (N,OC) = inp (N,C) @ w^T (C,OC)
    FN(gemm)(0, 1, N, OC, C,
         1, inp, C, w, C, 0, out, OC);
    if (bias) {
        #pragma omp parallel for schedule(static)
        for (int i = 0; i < N; i++) {
            real *o = out + (size_t)i * OC;
            #pragma omp simd
            for (int j = 0; j < OC; j++) o[j] += bias[j];
        }
    }
}

void FN(matmul_backward)(real *dinp, real *dw, real *dbias, const real *dout,
                         const real *inp, const real *w, int N, int C, int OC) {
    // dinp (N,C) = dout (N,OC) @ w (OC,C)
    FN(gemm)(0, 0, N, C, OC,
         1, dout, OC, w, C, 0, dinp, C);
    // dw (OC,C) += dout^T (OC,N) @ inp (N,C)
    FN(gemm)(1, 0, OC, C, N,
         1, dout, OC, inp, C, 1, dw, C);
    if (dbias) {
        /* Column sums of dout, by blocks of 64 output channels per thread. */
        #pragma omp parallel for schedule(static)
        for (int j0 = 0; j0 < OC; j0 += 64) {
            int j1 = j0 + 64 < OC ? j0 + 64 : OC;
            real s[64] = {0};
            for (int i = 0; i < N; i++) {
                const real *d = dout + (size_t)i * OC;
                #pragma omp simd
                for (int j = j0; j < j1; j++) s[j - j0] += d[j];
            }
            for (int j = j0; j < j1; j++) dbias[j] += s[j - j0];
        }
    }
}

/* ------------------------------------------------------------- attention */

/*
 * Per (batch, head), with q, k, v the (T, hs) slices of qkv (row stride 3C):
 *   S = q k^T / sqrt(hs)            (T, T), only s <= t is used (causal)
 *   P = softmax_rows(S)             kept in att for the backward pass
 *   y = P v                         (T, hs), written into out (row stride C)
 * The (batch, head) pairs run in parallel, each product one single-threaded
 * BLAS call (gemm_serial), so no product is split among threads.
 */
void FN(attention_forward)(real *out, real *att, const real *qkv,
                           int B, int T, int C, int NH) {
    const int hs = C / NH;
    const real scale = 1 / SQRT((real)hs);
    #pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        const real *q = qkv + (size_t)b * T * 3 * C + h * hs;   // (T, hs), ld 3C
        const real *k = q + C;                                   // (T, hs), ld 3C
        const real *v = q + 2 * C;                               // (T, hs), ld 3C
        real *P = att + (size_t)bh * T * T;                      // (T, T)
        FN(gemm_serial)(0, 1, T, T, hs,
             scale, q, 3 * C, k, 3 * C, 0, P, T);
        for (int t = 0; t < T; t++) {
            real *row = P + (size_t)t * T;
            real mx = row[0];
            for (int s = 1; s <= t; s++) mx = row[s] > mx ? row[s] : mx;
            real sum = 0;
            #pragma omp simd reduction(+:sum)
            for (int s = 0; s <= t; s++) { row[s] = EXP(row[s] - mx); sum += row[s]; }
            real inv = 1 / sum;
            #pragma omp simd
            for (int s = 0; s <= t; s++) row[s] *= inv;
            for (int s = t + 1; s < T; s++) row[s] = 0;
        }
        FN(gemm_serial)(0, 0, T, hs, T,
             1, P, T, v, 3 * C, 0, out + (size_t)b * T * C + h * hs, C);
    }
}

/*
 * With dy the (T, hs) slice of dout:
 *   dP = dy v^T,  dv = P^T dy,
 *   dS[t,s] = P[t,s] (dP[t,s] - sum_s' P[t,s'] dP[t,s'])   (softmax backward)
 *   dq = dS k / sqrt(hs),  dk = dS^T q / sqrt(hs).
 * Masked entries have P = 0, so they contribute nothing to dv, and dS is set
 * to exactly 0 there.
 */
void FN(attention_backward)(real *dqkv, real *datt, const real *dout,
                            const real *qkv, const real *att,
                            int B, int T, int C, int NH) {
    const int hs = C / NH;
    const real scale = 1 / SQRT((real)hs);
    #pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        const real *q = qkv + (size_t)b * T * 3 * C + h * hs;   // (T, hs), ld 3C
        const real *k = q + C;
        const real *v = q + 2 * C;
        real *dq = dqkv + (size_t)b * T * 3 * C + h * hs;        // (T, hs), ld 3C
        real *dk = dq + C;
        real *dv = dq + 2 * C;
        const real *dy = dout + (size_t)b * T * C + h * hs;      // (T, hs), ld C
        const real *P = att + (size_t)bh * T * T;                // (T, T)
        real *dS = datt + (size_t)bh * T * T;                    // (T, T)
        FN(gemm_serial)(0, 1, T, T, hs,
             1, dy, C, v, 3 * C, 0, dS, T);
        FN(gemm_serial)(1, 0, T, hs, T,
             1, P, T, dy, C, 0, dv, 3 * C);
        for (int t = 0; t < T; t++) {
            const real *p = P + (size_t)t * T;
            real *d = dS + (size_t)t * T;
            real dot = 0;
            #pragma omp simd reduction(+:dot)
            for (int s = 0; s <= t; s++) dot += p[s] * d[s];
            #pragma omp simd
            for (int s = 0; s <= t; s++) d[s] = p[s] * (d[s] - dot);
            for (int s = t + 1; s < T; s++) d[s] = 0;
        }
        FN(gemm_serial)(0, 0, T, hs, T,
             scale, dS, T, k, 3 * C, 0, dq, 3 * C);
        FN(gemm_serial)(1, 0, T, hs, T,
             scale, dS, T, q, 3 * C, 0, dk, 3 * C);
    }
}

/* ------------------------------------------------------------- gelu */

#define GELU_K ((real)0.7978845608028654)   /* sqrt(2/pi) */
#define GELU_A ((real)0.044715)

void FN(gelu_forward)(real *out, const real *inp, long N) {
    #pragma omp parallel for simd schedule(static)
    for (long i = 0; i < N; i++) {
        real x = inp[i];
        real u = GELU_K * (x + GELU_A * x * x * x);
        out[i] = (real)0.5 * x * (1 + TANH(u));
    }
}

/* d/dx [x/2 (1 + tanh u)] = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) du/dx,
 * with du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2). */
void FN(gelu_backward)(real *dinp, const real *inp, const real *dout, long N) {
    #pragma omp parallel for simd schedule(static)
    for (long i = 0; i < N; i++) {
        real x = inp[i];
        real u = GELU_K * (x + GELU_A * x * x * x);
        real th = TANH(u);
        real du = GELU_K * (1 + 3 * GELU_A * x * x);
        real g = (real)0.5 * (1 + th) + (real)0.5 * x * (1 - th * th) * du;
        dinp[i] = g * dout[i];
    }
}

/* ------------------------------------------------------------- residual */

void FN(residual_forward)(real *out, const real *a, const real *b, long N) {
    #pragma omp parallel for simd schedule(static)
    for (long i = 0; i < N; i++) out[i] = a[i] + b[i];
}

/* ------------------------------------------------------------- loss */

void FN(crossentropy_forward)(real *losses, real *lse, const real *logits,
                              const int *targets, int N, int V) {
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const real *z = logits + (size_t)i * V;              // (V)
        real mx = z[0];
        #pragma omp simd reduction(max:mx)
        for (int j = 1; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        real sum = 0;
        #pragma omp simd reduction(+:sum)
        for (int j = 0; j < V; j++) sum += EXP(z[j] - mx);
        lse[i] = mx + LOG(sum);
        losses[i] = lse[i] - z[targets[i]];
    }
}

void FN(crossentropy_backward)(real *dlogits, const real *logits,
                               const real *lse, const int *targets,
                               real dloss, int N, int V) {
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const real *z = logits + (size_t)i * V;              // (V)
        real *dz = dlogits + (size_t)i * V;                  // (V)
        real l = lse[i];
        #pragma omp simd
        for (int j = 0; j < V; j++) dz[j] = EXP(z[j] - l) * dloss;
        dz[targets[i]] -= dloss;
    }
}
