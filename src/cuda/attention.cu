/*
 * Causal multi-head self-attention on the device, twin of
 * loco__attention_forward / _backward (src/nn/layers.c).  Per (batch b,
 * head h), with q, k, v the (T, hs) slices of qkv, hs = C / NH:
 *
 *   S = q k^T / sqrt(hs)       (T, T)   batched cuBLAS product, alpha = 1/sqrt(hs)
 *   P = causal softmax_rows(S)          entries s > t are exactly 0; kept in att
 *   y = P v                    (T, hs)  batched cuBLAS product
 *
 * and backward, with dy the (T, hs) slice of the output gradient:
 *
 *   dP = dy v^T,  dv = P^T dy
 *   dS[t,s] = P[t,s] (dP[t,s] - sum_s' P[t,s'] dP[t,s'])    (0 where s > t)
 *   dq = dS k / sqrt(hs),  dk = dS^T q / sqrt(hs)
 *
 * A strided batched product needs each operand at a constant stride per
 * (b, h), which the (B, T, 3C) layout of qkv does not have (b and h step by
 * different amounts), so q, k, v are first copied into head-major
 * (B, NH, T, hs) scratch, and the result copied back (llm.c's CUDA trainer
 * does the same).  att keeps the CPU's layout (B, NH, T, T), and so does
 * datt, which holds dS after the backward.
 */
#include "cuda/kernels.cuh"

/* dst (P, B, NH, T, hs) <- src (B, T, P, C) with C = NH * hs: part p of
 * row (b, t), head h, is dst[p][b][h][t]. */
__global__ void loco__k_split_heads(float *dst, const float *src, int B, int T, int P, int C, int NH) {
    const int hs = C / NH;
    const size_t n = (size_t)P * B * T * C;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        size_t j = i;
        const int d = (int)(j % hs); j /= hs;
        const int t = (int)(j % T); j /= T;
        const int h = (int)(j % NH); j /= NH;
        const int b = (int)(j % B);
        const int p = (int)(j / B);
        dst[i] = src[(((size_t)b * T + t) * P + p) * C + (size_t)h * hs + d];
    }
}

/* The inverse: dst (B, T, P, C) <- src (P, B, NH, T, hs). */
__global__ void loco__k_merge_heads(float *dst, const float *src, int B, int T, int P, int C, int NH) {
    const int hs = C / NH;
    const size_t n = (size_t)P * B * T * C;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        size_t j = i;
        const int c = (int)(j % C); j /= C;
        const int p = (int)(j % P); j /= P;
        const int t = (int)(j % T);
        const int b = (int)(j / T);
        const int h = c / hs, d = c % hs;
        dst[i] = src[((((size_t)p * B + b) * NH + h) * T + t) * hs + d];
    }
}

/* In place over rows of att (B*NH*T rows of T), one warp per row; row r is
 * query position t = r % T.  As the CPU: the max over s <= t, numerators
 * exp(S - max) stored, times 1 / their sum; s > t set to 0. */
__global__ void loco__k_causal_softmax_forward(float *att, int rows, int T) {
    const int row = blockIdx.x * LOCO__WARPS_PER_BLOCK + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const int t = row % T;
    float *x = att + (size_t)row * T;                // (T)
    float mx = -INFINITY;
    for (int s = lane; s <= t; s += 32) mx = fmaxf(mx, x[s]);
    mx = loco__warp_max(mx);
    float sum = 0.0f;
    for (int s = lane; s <= t; s += 32) {
        float e = loco__dexpf(x[s] - mx);
        x[s] = e;
        sum += e;
    }
    sum = loco__warp_sum(sum);
    const float inv = 1.0f / sum;
    for (int s = lane; s <= t; s += 32) x[s] *= inv;
    for (int s = t + 1 + lane; s < T; s += 32) x[s] = 0.0f;
}

/* In place: d holds dP (rows as above) and becomes dS, from P in att. */
__global__ void loco__k_causal_softmax_backward(float *datt, const float *att, int rows, int T) {
    const int row = blockIdx.x * LOCO__WARPS_PER_BLOCK + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const int t = row % T;
    const float *p = att + (size_t)row * T;          // (T)
    float *d = datt + (size_t)row * T;               // (T)
    float dot = 0.0f;
    for (int s = lane; s <= t; s += 32) dot += p[s] * d[s];
    dot = loco__warp_sum(dot);
    for (int s = lane; s <= t; s += 32) d[s] = p[s] * (d[s] - dot);
    for (int s = t + 1 + lane; s < T; s += 32) d[s] = 0.0f;
}

static int split_heads(loco__cuda_ctx *ctx, float *dst, const float *src, int B, int T, int P, int C, int NH) {
    const size_t n = (size_t)P * B * T * C;
    loco__k_split_heads<<<loco__blocks_for(n), LOCO__THREADS, 0, ctx->stream>>>(dst, src, B, T, P, C, NH);
    return loco__cuda_check_launch(ctx, "attention (split heads)");
}

static int merge_heads(loco__cuda_ctx *ctx, float *dst, const float *src, int B, int T, int P, int C, int NH) {
    const size_t n = (size_t)P * B * T * C;
    loco__k_merge_heads<<<loco__blocks_for(n), LOCO__THREADS, 0, ctx->stream>>>(dst, src, B, T, P, C, NH);
    return loco__cuda_check_launch(ctx, "attention (merge heads)");
}

int loco__cuda_attention_forward(loco__cuda_ctx *ctx, float *out, float *att, const float *qkv, float *qkvr,
                                 float *yr, int B, int T, int C, int NH) {
    const int hs = C / NH, BH = B * NH;
    const size_t BTC = (size_t)B * T * C;
    const float scale = 1.0f / sqrtf((float)hs);     /* the CPU's 1 / SQRT((real)hs) */
    const long long sQ = (long long)T * hs, sP = (long long)T * T;
    LOCO__TRY(split_heads(ctx, qkvr, qkv, B, T, 3, C, NH));
    const float *q = qkvr, *k = qkvr + BTC, *v = qkvr + 2 * BTC;   // (B, NH, T, hs) each
    // S (B, NH, T, T) = scale * q (T, hs) @ k^T (hs, T)
    LOCO__TRY(loco__cuda_gemm_batched(ctx, 0, 1, T, T, hs, scale, q, hs, sQ, k, hs, sQ, 0.0f, att, T, sP, BH));
    const int rows = BH * T;
    loco__k_causal_softmax_forward<<<loco__blocks_for_rows(rows), LOCO__THREADS, 0, ctx->stream>>>(att, rows, T);
    LOCO__TRY(loco__cuda_check_launch(ctx, "attention (softmax)"));
    // y (B, NH, T, hs) = P (T, T) @ v (T, hs)
    LOCO__TRY(loco__cuda_gemm_batched(ctx, 0, 0, T, hs, T, 1.0f, att, T, sP, v, hs, sQ, 0.0f, yr, hs, sQ, BH));
    return merge_heads(ctx, out, yr, B, T, 1, C, NH);   // out (B, T, C)
}

int loco__cuda_attention_backward(loco__cuda_ctx *ctx, float *dqkv, float *datt, const float *dout,
                                  const float *qkv, const float *att, float *qkvr, float *dyr, float *dqkvr,
                                  int B, int T, int C, int NH) {
    const int hs = C / NH, BH = B * NH;
    const size_t BTC = (size_t)B * T * C;
    const float scale = 1.0f / sqrtf((float)hs);
    const long long sQ = (long long)T * hs, sP = (long long)T * T;
    LOCO__TRY(split_heads(ctx, qkvr, qkv, B, T, 3, C, NH));    // q, k, v (B, NH, T, hs)
    LOCO__TRY(split_heads(ctx, dyr, dout, B, T, 1, C, NH));    // dy (B, NH, T, hs)
    const float *q = qkvr, *k = qkvr + BTC, *v = qkvr + 2 * BTC;
    float *dq = dqkvr, *dk = dqkvr + BTC, *dv = dqkvr + 2 * BTC;
    // dP (B, NH, T, T) = dy (T, hs) @ v^T (hs, T)
    LOCO__TRY(loco__cuda_gemm_batched(ctx, 0, 1, T, T, hs, 1.0f, dyr, hs, sQ, v, hs, sQ, 0.0f, datt, T, sP, BH));
    // dv (T, hs) = P^T (T, T) @ dy (T, hs)
    LOCO__TRY(loco__cuda_gemm_batched(ctx, 1, 0, T, hs, T, 1.0f, att, T, sP, dyr, hs, sQ, 0.0f, dv, hs, sQ, BH));
    const int rows = BH * T;
    loco__k_causal_softmax_backward<<<loco__blocks_for_rows(rows), LOCO__THREADS, 0, ctx->stream>>>(datt, att,
                                                                                                   rows, T);
    LOCO__TRY(loco__cuda_check_launch(ctx, "attention (softmax backward)"));
    // dq (T, hs) = scale * dS (T, T) @ k (T, hs)
    LOCO__TRY(loco__cuda_gemm_batched(ctx, 0, 0, T, hs, T, scale, datt, T, sP, k, hs, sQ, 0.0f, dq, hs, sQ, BH));
    // dk (T, hs) = scale * dS^T (T, T) @ q (T, hs)
    LOCO__TRY(loco__cuda_gemm_batched(ctx, 1, 0, T, hs, T, scale, datt, T, sP, q, hs, sQ, 0.0f, dk, hs, sQ, BH));
    return merge_heads(ctx, dqkv, dqkvr, B, T, 3, C, NH);     // dqkv (B, T, 3C)
}
