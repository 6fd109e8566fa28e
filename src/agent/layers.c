/*
 * The agent's layers (declarations and conventions in layers.h).  Compiled
 * twice: as float, and as double with LOCO_REAL_DOUBLE (layers_f64.o).
 *
 * Matrix products go through src/nn (its matmul, or gemm_serial for the
 * per-head products made inside a parallel loop), whose tiles are fixed by
 * the shapes; every other loop runs over rows (or column blocks) under a
 * static OpenMP schedule, and every reduction has an order fixed by the
 * shapes alone, so the results do not depend on the thread count.
 */
#include <math.h>
#include <string.h>
#include "agent/layers.h"
#include "nn/gemm.h"
#include "nn/layers.h"

#ifdef LOCO_REAL_DOUBLE
typedef double real;
#define FN(name) loco__ag_##name##_f64
#define NN(name) loco__##name##_f64
#define GEMM loco__gemm_serial_f64
#define EXP exp
#define LOG log
#define SQRT sqrt
#define TANH tanh
#else
typedef float real;
#define FN(name) loco__ag_##name
#define NN(name) loco__##name
#define GEMM loco__gemm_serial
#define EXP expf
#define LOG logf
#define SQRT sqrtf
#define TANH tanhf
#endif

static inline real sigm(real x) { return 1 / (1 + EXP(-x)); }

/* ------------------------------------------------------------- convolution */

/* col (OH*OW, K*K*C): row (oy, ox) holds the K x K x C patch under output
 * pixel (oy, ox), ordered (ky, kx, c) as the weight rows are, zero where the
 * patch hangs over the padded border. */
static void im2col(real *col, const real *img, int H, int W, int C, int K, int S, int P, int OH,
                   int OW) {
    const int KKC = K * K * C;
    #pragma omp parallel for schedule(static)
    for (int oy = 0; oy < OH; oy++) {
        for (int ox = 0; ox < OW; ox++) {
            real *row = col + ((size_t)oy * OW + ox) * KKC;      // (K*K*C)
            for (int ky = 0; ky < K; ky++) {
                int iy = oy * S - P + ky;
                for (int kx = 0; kx < K; kx++) {
                    int ix = ox * S - P + kx;
                    real *dst = row + (ky * K + kx) * C;         // (C)
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                        memset(dst, 0, (size_t)C * sizeof(real));
                    else
                        memcpy(dst, img + ((size_t)iy * W + ix) * C, (size_t)C * sizeof(real));
                }
            }
        }
    }
}

/* The adjoint of im2col: dimg (H,W,C) = sum over patches of dcol.  A pixel
 * collects from several patches, so the work is split by input row, each
 * visiting the output rows that can touch it in a fixed order. */
static void col2im(real *dimg, const real *dcol, int H, int W, int C, int K, int S, int P, int OH,
                   int OW) {
    const int KKC = K * K * C;
    #pragma omp parallel for schedule(static)
    for (int iy = 0; iy < H; iy++) {
        real *drow = dimg + (size_t)iy * W * C;                  // (W, C)
        memset(drow, 0, (size_t)W * C * sizeof(real));
        for (int ky = 0; ky < K; ky++) {
            int t = iy + P - ky;                                 // = oy * S
            if (t < 0 || t % S) continue;
            int oy = t / S;
            if (oy >= OH) continue;
            for (int ox = 0; ox < OW; ox++)
                for (int kx = 0; kx < K; kx++) {
                    int ix = ox * S - P + kx;
                    if (ix < 0 || ix >= W) continue;
                    const real *src = dcol + ((size_t)oy * OW + ox) * KKC + (ky * K + kx) * C;
                    real *dst = drow + (size_t)ix * C;
                    for (int c = 0; c < C; c++) dst[c] += src[c];
                }
        }
    }
}

void FN(conv_forward)(real *out, const real *inp, const real *w, const real *bias, real *col, int N,
                      int H, int W, int C, int OC, int K, int S, int P) {
    const int OH = loco__ag_conv_out(H, K, S, P), OW = loco__ag_conv_out(W, K, S, P);
    for (int n = 0; n < N; n++) {
        im2col(col, inp + (size_t)n * H * W * C, H, W, C, K, S, P, OH, OW);
        // out_n (OH*OW, OC) = col (OH*OW, KKC) @ w^T (KKC, OC) + bias
        NN(matmul_forward)(out + (size_t)n * OH * OW * OC, col, w, bias, OH * OW, K * K * C, OC);
    }
}

/* Images are taken one after the other, so dw and dbias sum them in order. */
void FN(conv_backward)(real *dinp, real *dw, real *dbias, const real *dout, const real *inp,
                       const real *w, real *col, real *dcol, int N, int H, int W, int C, int OC,
                       int K, int S, int P) {
    const int OH = loco__ag_conv_out(H, K, S, P), OW = loco__ag_conv_out(W, K, S, P);
    for (int n = 0; n < N; n++) {
        im2col(col, inp + (size_t)n * H * W * C, H, W, C, K, S, P, OH, OW);
        NN(matmul_backward)(dcol, dw, dbias, dout + (size_t)n * OH * OW * OC, col, w, OH * OW,
                            K * K * C, OC);
        if (dinp) col2im(dinp + (size_t)n * H * W * C, dcol, H, W, C, K, S, P, OH, OW);
    }
}

/* ------------------------------------------------------------- relu */

void FN(relu_forward)(real *out, const real *inp, long n) {
    #pragma omp parallel for simd schedule(static)
    for (long i = 0; i < n; i++) out[i] = inp[i] > 0 ? inp[i] : 0;
}

void FN(relu_backward)(real *dinp, const real *out, const real *dout, long n) {
    #pragma omp parallel for simd schedule(static)
    for (long i = 0; i < n; i++) dinp[i] = out[i] > 0 ? dout[i] : 0;
}

/* ------------------------------------------------------------- attention */

/*
 * Per (group b, head h), with hs = C / NH and q, k, v the head's slices:
 *   S = q k^T / sqrt(hs)                     (Tq, Tk)
 *   P = softmax over the unmasked keys       masked entries are exactly 0
 *   y = P v                                  (Tq, hs) into out (row stride C)
 */
void FN(attention_forward)(real *out, real *att, const real *q, const real *k, const real *v,
                           const unsigned char *kmask, int B, int Tq, int Tk, int C, int NH, int ldq,
                           int ldk) {
    const int hs = C / NH;
    const real scale = 1 / SQRT((real)hs);
    #pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        const real *qb = q + (size_t)b * Tq * ldq + h * hs;        // (Tq, hs), ld ldq
        const real *kb = k + (size_t)b * Tk * ldk + h * hs;        // (Tk, hs), ld ldk
        const real *vb = v + (size_t)b * Tk * ldk + h * hs;        // (Tk, hs), ld ldk
        const unsigned char *mb = kmask ? kmask + (size_t)b * Tk : NULL;
        real *P = att + (size_t)bh * Tq * Tk;                      // (Tq, Tk)
        GEMM(0, 1, Tq, Tk, hs, scale, qb, ldq, kb, ldk, 0, P, Tk);
        for (int t = 0; t < Tq; t++) {
            real *row = P + (size_t)t * Tk;
            real mx = -INFINITY;
            for (int s = 0; s < Tk; s++)
                if ((!mb || mb[s]) && row[s] > mx) mx = row[s];
            real sum = 0;
            for (int s = 0; s < Tk; s++) {
                row[s] = (!mb || mb[s]) ? EXP(row[s] - mx) : 0;
                sum += row[s];
            }
            real inv = sum > 0 ? 1 / sum : 0;
            for (int s = 0; s < Tk; s++) row[s] *= inv;
        }
        GEMM(0, 0, Tq, hs, Tk, 1, P, Tk, vb, ldk, 0,
             out + (size_t)b * Tq * C + h * hs, C);
    }
}

/*
 * dP = dy v^T, dv = P^T dy, dS = P * (dP - rowsum(P * dP)) (softmax
 * backward; masked entries have P = 0 and so dS = 0), dq = dS k / sqrt(hs),
 * dk = dS^T q / sqrt(hs).  Heads own disjoint columns and groups disjoint
 * rows, so the (b, h) pairs run in parallel and write with "=".
 */
void FN(attention_backward)(real *dq, real *dk, real *dv, real *datt, const real *dout,
                            const real *q, const real *k, const real *v, const real *att, int B,
                            int Tq, int Tk, int C, int NH, int ldq, int ldk) {
    const int hs = C / NH;
    const real scale = 1 / SQRT((real)hs);
    #pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        size_t oq = (size_t)b * Tq * ldq + h * hs, ok = (size_t)b * Tk * ldk + h * hs;
        const real *dy = dout + (size_t)b * Tq * C + h * hs;       // (Tq, hs), ld C
        const real *P = att + (size_t)bh * Tq * Tk;                // (Tq, Tk)
        real *dS = datt + (size_t)bh * Tq * Tk;                    // (Tq, Tk)
        GEMM(0, 1, Tq, Tk, hs, 1, dy, C, v + ok, ldk, 0, dS, Tk);
        GEMM(1, 0, Tk, hs, Tq, 1, P, Tk, dy, C, 0, dv + ok, ldk);
        for (int t = 0; t < Tq; t++) {
            const real *p = P + (size_t)t * Tk;
            real *d = dS + (size_t)t * Tk;
            real dot = 0;
            for (int s = 0; s < Tk; s++) dot += p[s] * d[s];
            for (int s = 0; s < Tk; s++) d[s] = p[s] * (d[s] - dot);
        }
        GEMM(0, 0, Tq, hs, Tk, scale, dS, Tk, k + ok, ldk, 0,
             dq + oq, ldq);
        GEMM(1, 0, Tk, hs, Tq, scale, dS, Tk, q + oq, ldq, 0,
             dk + ok, ldk);
    }
}

/* ------------------------------------------------------------- lstm cell */

void FN(lstm_cell_forward)(real *h, real *c, real *act, real *tc, const real *pre,
                           const real *c_prev, int B, int H) {
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        const real *p = pre + (size_t)b * 4 * H;                   // (4H)
        real *a = act + (size_t)b * 4 * H;                         // (4H): i f g o
        for (int j = 0; j < H; j++) {
            real i = sigm(p[j]), f = sigm(p[H + j]), g = TANH(p[2 * H + j]), o = sigm(p[3 * H + j]);
            a[j] = i; a[H + j] = f; a[2 * H + j] = g; a[3 * H + j] = o;
            real cp = c_prev ? c_prev[(size_t)b * H + j] : 0;
            real cn = f * cp + i * g;
            real t = TANH(cn);
            c[(size_t)b * H + j] = cn;
            tc[(size_t)b * H + j] = t;
            h[(size_t)b * H + j] = o * t;
        }
    }
}

/* With dc' = dc + dh * o * (1 - tc^2), the total gradient reaching c:
 *   d(o) = dh tc,  d(i) = dc' g,  d(g) = dc' i,  d(f) = dc' c_prev,
 *   dc_prev = dc' f, and each gate's pre-activation gradient is its output
 *   gradient times sigmoid' = s (1 - s) or tanh' = 1 - t^2. */
void FN(lstm_cell_backward)(real *dpre, real *dc_prev, const real *dh, const real *dc,
                            const real *act, const real *tc, const real *c_prev, int B, int H) {
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        const real *a = act + (size_t)b * 4 * H;
        real *d = dpre + (size_t)b * 4 * H;
        for (int j = 0; j < H; j++) {
            size_t bj = (size_t)b * H + j;
            real i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j], t = tc[bj];
            real dct = dc[bj] + dh[bj] * o * (1 - t * t);
            real cp = c_prev ? c_prev[bj] : 0;
            d[j] = dct * g * i * (1 - i);
            d[H + j] = dct * cp * f * (1 - f);
            d[2 * H + j] = dct * i * (1 - g * g);
            d[3 * H + j] = dh[bj] * t * o * (1 - o);
            if (dc_prev) dc_prev[bj] = dct * f;
        }
    }
}

/* ------------------------------------------------------------- embedding */

void FN(embed_forward)(real *out, const int *idx, const real *table, int N, int C, int ld, int acc) {
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const real *e = table + (size_t)idx[i] * C;
        real *o = out + (size_t)i * ld;
        if (acc)
            for (int c = 0; c < C; c++) o[c] += e[c];
        else
            memcpy(o, e, (size_t)C * sizeof(real));
    }
}

/* Indices repeat, so rows of dtable collide: each thread owns a block of 16
 * columns and adds the rows in order. */
void FN(embed_backward)(real *dtable, const real *dout, const int *idx, int N, int C, int ld) {
    #pragma omp parallel for schedule(static)
    for (int c0 = 0; c0 < C; c0 += 16) {
        int c1 = c0 + 16 < C ? c0 + 16 : C;
        for (int i = 0; i < N; i++) {
            real *t = dtable + (size_t)idx[i] * C;
            const real *d = dout + (size_t)i * ld;
            for (int c = c0; c < c1; c++) t[c] += d[c];
        }
    }
}

/* ------------------------------------------------------------- mean pool */

void FN(pool_forward)(real *out, const real *x, const unsigned char *mask, int B, int T, int C) {
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        real *o = out + (size_t)b * C;                             // (C)
        memset(o, 0, (size_t)C * sizeof(real));
        int n = 0;
        for (int t = 0; t < T; t++) {
            if (!mask[(size_t)b * T + t]) continue;
            const real *r = x + ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++) o[c] += r[c];
            n++;
        }
        real inv = n ? (real)1 / n : 0;
        for (int c = 0; c < C; c++) o[c] *= inv;
    }
}

void FN(pool_backward)(real *dx, const real *dout, const unsigned char *mask, int B, int T, int C) {
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        int n = 0;
        for (int t = 0; t < T; t++) n += mask[(size_t)b * T + t] != 0;
        real inv = n ? (real)1 / n : 0;
        for (int t = 0; t < T; t++) {
            real *d = dx + ((size_t)b * T + t) * C;
            real s = mask[(size_t)b * T + t] ? inv : 0;
            for (int c = 0; c < C; c++) d[c] = s * dout[(size_t)b * C + c];
        }
    }
}

/* ------------------------------------------------------------- loss */

void FN(xent_forward)(real *losses, real *lse, const real *logits, const int *targets, const int *nv,
                      int N, int V) {
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const real *z = logits + (size_t)i * V;
        int n = nv ? nv[i] : V;
        if (targets[i] < 0 || n <= 0) { losses[i] = 0; lse[i] = 0; continue; }
        real mx = z[0];
        for (int j = 1; j < n; j++) mx = z[j] > mx ? z[j] : mx;
        real sum = 0;
        for (int j = 0; j < n; j++) sum += EXP(z[j] - mx);
        lse[i] = mx + LOG(sum);
        losses[i] = lse[i] - z[targets[i]];
    }
}

void FN(xent_backward)(real *dlogits, const real *logits, const real *lse, const int *targets,
                       const int *nv, real dloss, int N, int V) {
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const real *z = logits + (size_t)i * V;
        real *dz = dlogits + (size_t)i * V;
        int n = nv ? nv[i] : V;
        if (targets[i] < 0 || n <= 0) { memset(dz, 0, (size_t)V * sizeof(real)); continue; }
        for (int j = 0; j < n; j++) dz[j] = EXP(z[j] - lse[i]) * dloss;
        for (int j = n; j < V; j++) dz[j] = 0;
        dz[targets[i]] -= dloss;
    }
}
