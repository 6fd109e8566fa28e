/*
 * The optimizer on the device: the global gradient norm and the AdamW
 * update, twins of loco_grad_norm and loco_adamw_update (src/optim/adamw.c).
 *
 * Norm: sum of g^2 in double (each square exact in double, as on the CPU),
 * in LOCO__NORM_BLOCKS fixed partial sums and then one fixed tree, so the
 * result depends on n alone; the host takes (float)sqrt(total).
 *
 * Update, per element, with the scalars computed on the host exactly as the
 * CPU computes them (in double, rounded to float when they meet a tensor):
 *   g' = g * gscale;  p' = p * (1 - lr wd)
 *   m = fma(g', 1 - b1, m b1);  v = fma((1 - b2) g', g', v b2)
 *   p = p' + (-(lr / (1 - b1^t)) m) / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * The two fused multiply-adds are the ones the CPU build fuses where the
 * hardware has FMA (FP_FAST_FMAF, as in torch's AVX2 kernels); every other
 * operation is rounded on its own (--fmad=false).  Same inputs, same floats.
 */
#include <math.h>
#include "cuda/kernels.cuh"

/* partial[blockIdx.x] = sum of g[i]^2 over this block's grid-stride share. */
__global__ void loco__k_sumsq_partial(double *partial, const float *g, size_t n) {
    double s = 0.0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        s += (double)g[i] * (double)g[i];
    s = loco__block_sum_d(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

/* *total = sum of the LOCO__NORM_BLOCKS partials (one block). */
__global__ void loco__k_sumsq_finish(double *total, const double *partial) {
    double s = 0.0;
    for (int i = threadIdx.x; i < LOCO__NORM_BLOCKS; i += blockDim.x) s += partial[i];
    s = loco__block_sum_d(s);
    if (threadIdx.x == 0) *total = s;
}

__global__ void loco__k_adamw(float *p, const float *g, float *m, float *v, size_t n, float gscale, float decay,
                              float b1, float one_minus_b1, float b2, float one_minus_b2, float bc2_sqrt,
                              float neg_step, float eps) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float gi = g[i] * gscale;
        const float pi = p[i] * decay;
        const float mi = __fmaf_rn(gi, one_minus_b1, m[i] * b1);
        const float vi = __fmaf_rn(one_minus_b2 * gi, gi, v[i] * b2);
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = pi + (neg_step * mi) / denom;
    }
}

int loco__cuda_grad_norm(loco__cuda_ctx *ctx, float *norm, const float *g, size_t n, double *partial) {
    double total = 0.0;
    if (n > 0) {
        loco__k_sumsq_partial<<<LOCO__NORM_BLOCKS, LOCO__THREADS, 0, ctx->stream>>>(partial, g, n);
        LOCO__TRY(loco__cuda_check_launch(ctx, "grad_norm (partial sums)"));
        loco__k_sumsq_finish<<<1, LOCO__THREADS, 0, ctx->stream>>>(partial + LOCO__NORM_BLOCKS, partial);
        LOCO__TRY(loco__cuda_check_launch(ctx, "grad_norm (total)"));
        LOCO__CUDA(ctx, "grad_norm (copy to host)",
                   cudaMemcpyAsync(&total, partial + LOCO__NORM_BLOCKS, sizeof total, cudaMemcpyDeviceToHost,
                                   ctx->stream));
        LOCO__CUDA(ctx, "grad_norm", cudaStreamSynchronize(ctx->stream));
    }
    *norm = (float)sqrt(total);
    return LOCO_OK;
}

int loco__cuda_adamw_update(loco__cuda_ctx *ctx, float *p, const float *g, float *m, float *v, size_t n, float lr,
                            float beta1, float beta2, float eps, float weight_decay, float gscale, int t) {
    if (n == 0) return LOCO_OK;
    if (t < 1) t = 1;
    /* The scalars of loco_adamw_update, computed the same way. */
    const double bc1 = 1.0 - pow((double)beta1, (double)t);
    const double bc2 = 1.0 - pow((double)beta2, (double)t);
    const float decay = (float)(1.0 - (double)lr * (double)weight_decay);
    const float one_minus_b1 = (float)(1.0 - (double)beta1);
    const float one_minus_b2 = (float)(1.0 - (double)beta2);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float neg_step = (float)(-(double)lr / bc1);
    loco__k_adamw<<<loco__blocks_for(n), LOCO__THREADS, 0, ctx->stream>>>(p, g, m, v, n, gscale, decay, beta1,
                                                                         one_minus_b1, beta2, one_minus_b2,
                                                                         bc2_sqrt, neg_step, eps);
    return loco__cuda_check_launch(ctx, "adamw_update");
}
