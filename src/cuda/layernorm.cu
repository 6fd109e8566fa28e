/*
 * LayerNorm on the device, twin of loco__layernorm_forward / _backward
 * (src/nn/layers.c), one warp per row of C channels:
 *
 *   mean = sum(x) / C,  var = sum((x - mean)^2) / C   (two passes, as the CPU)
 *   rstd = 1 / sqrt(var + 1e-5),  y = (x - mean) * rstd * w + b
 *
 * Backward, with xhat = (x - mean) * rstd and g = dy * w:
 *   dx += rstd * (g - mean(g) - xhat * mean(g * xhat))      (accumulated)
 *   dw += sum_rows dy * xhat,  db += sum_rows dy              (accumulated)
 * The column sums run in two deterministic stages: per chunk of rows, then
 * over the chunks (loco__cuda_colsum_finish), never with atomics.
 */
#include "cuda/kernels.cuh"

/* out (N, C), mean (N), rstd (N) from inp (N, C), w (C), b (C). */
__global__ void loco__k_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                                          const float *b, int N, int C) {
    const int row = blockIdx.x * LOCO__WARPS_PER_BLOCK + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= N) return;   /* whole warps leave together */
    const float *x = inp + (size_t)row * C;          // (C)
    float *o = out + (size_t)row * C;                // (C)
    float s = 0.0f;
    for (int c = lane; c < C; c += 32) s += x[c];
    s = loco__warp_sum(s);
    const float m = s / C;
    float v = 0.0f;
    for (int c = lane; c < C; c += 32) {
        float d = x[c] - m;
        v += d * d;
    }
    v = loco__warp_sum(v);
    const float r = 1.0f / sqrtf(v / C + 1e-5f);
    for (int c = lane; c < C; c += 32) o[c] = (x[c] - m) * r * w[c] + b[c];
    if (lane == 0) {
        mean[row] = m;
        rstd[row] = r;
    }
}

/* dinp (N, C) += the input gradient, per row. */
__global__ void loco__k_layernorm_backward_dx(float *dinp, const float *dout, const float *inp, const float *w,
                                              const float *mean, const float *rstd, int N, int C) {
    const int row = blockIdx.x * LOCO__WARPS_PER_BLOCK + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= N) return;
    const float *x = inp + (size_t)row * C;          // (C)
    const float *dy = dout + (size_t)row * C;        // (C)
    float *dx = dinp + (size_t)row * C;              // (C)
    const float m = mean[row], r = rstd[row];
    float sg = 0.0f, sgx = 0.0f;
    for (int c = lane; c < C; c += 32) {
        float g = dy[c] * w[c];
        sg += g;
        sgx += g * (x[c] - m) * r;
    }
    sg = loco__warp_sum(sg) / C;
    sgx = loco__warp_sum(sgx) / C;
    for (int c = lane; c < C; c += 32) {
        float xhat = (x[c] - m) * r;
        dx[c] += r * (dy[c] * w[c] - sg - xhat * sgx);
    }
}

/* Stage 1 of dw and db: partial sums over chunk blockIdx.y of
 * LOCO__COLSUM_ROWS rows; pw, pb (R, C).  Block (32, 8): 32 columns,
 * 8 row stripes combined in shared memory in a fixed order. */
__global__ void loco__k_layernorm_dwdb_partial(float *pw, float *pb, const float *dout, const float *inp,
                                               const float *mean, const float *rstd, int N, int C) {
    __shared__ float sw[8][33], sb[8][33];
    const int c = blockIdx.x * 32 + threadIdx.x;
    const int r0 = blockIdx.y * LOCO__COLSUM_ROWS;
    const int r1 = min(r0 + LOCO__COLSUM_ROWS, N);
    float aw = 0.0f, ab = 0.0f;
    if (c < C) {
        for (int i = r0 + threadIdx.y; i < r1; i += 8) {
            float dy = dout[(size_t)i * C + c];
            aw += dy * (inp[(size_t)i * C + c] - mean[i]) * rstd[i];
            ab += dy;
        }
    }
    sw[threadIdx.y][threadIdx.x] = aw;
    sb[threadIdx.y][threadIdx.x] = ab;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float tw = 0.0f, tb = 0.0f;
        for (int k = 0; k < 8; k++) {
            tw += sw[k][threadIdx.x];
            tb += sb[k][threadIdx.x];
        }
        pw[(size_t)blockIdx.y * C + c] = tw;
        pb[(size_t)blockIdx.y * C + c] = tb;
    }
}

int loco__cuda_layernorm_forward(loco__cuda_ctx *ctx, float *out, float *mean, float *rstd, const float *inp,
                                 const float *w, const float *b, int N, int C) {
    loco__k_layernorm_forward<<<loco__blocks_for_rows(N), LOCO__THREADS, 0, ctx->stream>>>(out, mean, rstd, inp,
                                                                                          w, b, N, C);
    return loco__cuda_check_launch(ctx, "layernorm_forward");
}

int loco__cuda_layernorm_backward(loco__cuda_ctx *ctx, float *dinp, float *dw, float *db, const float *dout,
                                  const float *inp, const float *w, const float *mean, const float *rstd,
                                  float *partial, int N, int C) {
    loco__k_layernorm_backward_dx<<<loco__blocks_for_rows(N), LOCO__THREADS, 0, ctx->stream>>>(
        dinp, dout, inp, w, mean, rstd, N, C);
    LOCO__TRY(loco__cuda_check_launch(ctx, "layernorm_backward (dx)"));
    const int R = loco__colsum_chunks(N);
    float *pw = partial, *pb = partial + (size_t)R * C;   // (R, C) each
    dim3 grid((unsigned)((C + 31) / 32), (unsigned)R), block(32, 8);
    loco__k_layernorm_dwdb_partial<<<grid, block, 0, ctx->stream>>>(pw, pb, dout, inp, mean, rstd, N, C);
    LOCO__TRY(loco__cuda_check_launch(ctx, "layernorm_backward (dw, db)"));
    LOCO__TRY(loco__cuda_colsum_finish(ctx, dw, pw, R, C));
    return loco__cuda_colsum_finish(ctx, db, pb, R, C);
}
