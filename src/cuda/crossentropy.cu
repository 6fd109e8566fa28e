/*
 * Softmax cross-entropy over the tied LM head's logits on the device, twin
 * of loco__crossentropy_forward / _backward (src/nn/layers.c).  One block per
 * row of V logits:
 *
 *   lse = max + log(sum_j exp(z_j - max)),   loss = lse - z[target]
 *   dz_j = exp(z_j - lse) * dloss - [j == target] dloss   (dloss = 1/N: mean)
 *
 * The backward writes in place over the logits (the largest buffer, as on
 * the CPU).  Its element-wise part uses the CPU's exp and the same two
 * roundings, so for a given lse it gives the CPU's floats exactly.
 */
#include "cuda/kernels.cuh"

/* losses (N), lse (N) from logits (N, V), targets (N); grid.x = row. */
__global__ void loco__k_crossentropy_forward(float *losses, float *lse, const float *logits, const int *targets,
                                             int V) {
    const size_t row = blockIdx.x;
    const float *z = logits + row * V;               // (V)
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, z[j]);
    mx = loco__block_max(mx);
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += loco__dexpf(z[j] - mx);
    s = loco__block_sum(s);
    if (threadIdx.x == 0) {
        float l = mx + logf(s);
        lse[row] = l;
        losses[row] = l - z[targets[row]];
    }
}

/* dlogits (N, V), which may alias logits. */
__global__ void loco__k_crossentropy_backward(float *dlogits, const float *logits, const float *lse,
                                              const int *targets, float dloss, int V) {
    const size_t row = blockIdx.x;
    const float *z = logits + row * V;               // (V)
    float *dz = dlogits + row * V;                   // (V)
    const float l = lse[row];
    const int tgt = targets[row];
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        float g = loco__dexpf(z[j] - l) * dloss;
        if (j == tgt) g -= dloss;
        dz[j] = g;
    }
}

int loco__cuda_crossentropy_forward(loco__cuda_ctx *ctx, float *losses, float *lse, const float *logits,
                                    const int *targets, int N, int V) {
    loco__k_crossentropy_forward<<<(unsigned)N, LOCO__THREADS, 0, ctx->stream>>>(losses, lse, logits, targets, V);
    return loco__cuda_check_launch(ctx, "crossentropy_forward");
}

int loco__cuda_crossentropy_backward(loco__cuda_ctx *ctx, float *dlogits, const float *logits, const float *lse,
                                     const int *targets, float dloss, int N, int V) {
    loco__k_crossentropy_backward<<<(unsigned)N, LOCO__THREADS, 0, ctx->stream>>>(dlogits, logits, lse, targets,
                                                                                 dloss, V);
    return loco__cuda_check_launch(ctx, "crossentropy_backward");
}
