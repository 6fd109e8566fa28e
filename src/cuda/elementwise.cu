/*
 * Element-wise layers on the device, twins of loco__gelu_forward /
 * _backward and loco__residual_forward (src/nn/layers.c), written with the
 * same operations in the same order and the CPU's own tanh (common.cuh), so
 * that they give the CPU's floats exactly.
 *
 *   gelu(x)  = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
 *   gelu'(x) = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
 */
#include "cuda/kernels.cuh"

/* The CPU's constants, converted from the same double literals. */
#define GELU_K ((float)0.7978845608028654)   /* sqrt(2/pi) */
#define GELU_A ((float)0.044715)

__global__ void loco__k_gelu_forward(float *out, const float *inp, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float x = inp[i];
        float u = GELU_K * (x + GELU_A * x * x * x);
        out[i] = (float)0.5 * x * (1 + loco__dtanhf(u));
    }
}

/* dinp may alias dout: each element is read, then written, by one thread. */
__global__ void loco__k_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float x = inp[i];
        float u = GELU_K * (x + GELU_A * x * x * x);
        float th = loco__dtanhf(u);
        float du = GELU_K * (1 + 3 * GELU_A * x * x);
        float g = (float)0.5 * (1 + th) + (float)0.5 * x * (1 - th * th) * du;
        dinp[i] = g * dout[i];
    }
}

__global__ void loco__k_residual_forward(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = a[i] + b[i];
}

int loco__cuda_gelu_forward(loco__cuda_ctx *ctx, float *out, const float *inp, size_t n) {
    loco__k_gelu_forward<<<loco__blocks_for(n), LOCO__THREADS, 0, ctx->stream>>>(out, inp, n);
    return loco__cuda_check_launch(ctx, "gelu_forward");
}

int loco__cuda_gelu_backward(loco__cuda_ctx *ctx, float *dinp, const float *inp, const float *dout, size_t n) {
    loco__k_gelu_backward<<<loco__blocks_for(n), LOCO__THREADS, 0, ctx->stream>>>(dinp, inp, dout, n);
    return loco__cuda_check_launch(ctx, "gelu_backward");
}

int loco__cuda_residual_forward(loco__cuda_ctx *ctx, float *out, const float *a, const float *b, size_t n) {
    loco__k_residual_forward<<<loco__blocks_for(n), LOCO__THREADS, 0, ctx->stream>>>(out, a, b, n);
    return loco__cuda_check_launch(ctx, "residual_forward");
}
