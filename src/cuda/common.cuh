/*
 * What every CUDA source of loco shares: the context a kernel launcher gets
 * (cuBLAS handle, stream, where to write an error), error helpers, launch
 * sizes, warp and block reductions, and device twins of the CPU's own exp
 * and tanh (src/nn/layers.c), so that element-wise kernels compute the very
 * same floats as the CPU.
 *
 * The .cu files are compiled with --fmad=false (see the Makefile): nvcc then
 * rounds every product and every sum separately, as the CPU build does
 * (-std=c11 turns GCC's contraction off), instead of fusing a*b+c.  The few
 * fused multiply-adds that the CPU does on purpose (AdamW) are written as
 * __fmaf_rn.  Divisions and square roots are IEEE (nvcc's defaults,
 * -prec-div=true -prec-sqrt=true, no fast math), denormals are kept.
 */
#ifndef LOCO_CUDA_COMMON_CUH
#define LOCO_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <stddef.h>
#include "loco/loco.h"

/* What a launcher needs: the cuBLAS handle (already bound to stream), the
 * stream, the compute type of the matrix products, and a buffer for the
 * one-line reason of a failure. */
typedef struct {
    cublasHandle_t blas;
    cudaStream_t stream;
    cublasComputeType_t compute;   /* CUBLAS_COMPUTE_32F (default) or _32F_FAST_TF32 */
    char *err;
    size_t errlen;
} loco__cuda_ctx;

/* Write "what: reason" into ctx->err and return LOCO_EDEVICE (or LOCO_ENOMEM
 * for cudaErrorMemoryAllocation / CUBLAS_STATUS_ALLOC_FAILED). */
int loco__cuda_fail_rt(loco__cuda_ctx *ctx, const char *what, cudaError_t e);
int loco__cuda_fail_blas(loco__cuda_ctx *ctx, const char *what, cublasStatus_t s);
/* The error of the last kernel launch (a bad configuration shows up here;
 * faults inside kernels show up at the next synchronisation). */
int loco__cuda_check_launch(loco__cuda_ctx *ctx, const char *what);

/* Creates / destroys a cuBLAS handle on stream with fp32 math (no TF32) and
 * the given workspace (NULL: cuBLAS's own); a failure is written to ctx. */
int loco__cuda_ctx_init(loco__cuda_ctx *ctx, cudaStream_t stream, void *workspace, size_t ws_bytes,
                        char *err, size_t errlen);
void loco__cuda_ctx_destroy(loco__cuda_ctx *ctx);

/* Returns from the enclosing function with the code of a failed step. */
#define LOCO__TRY(expr) do { int e__ = (expr); if (e__ != LOCO_OK) return e__; } while (0)
#define LOCO__CUDA(ctx, what, call)                                                     \
    do {                                                                                \
        cudaError_t ce__ = (call);                                                      \
        if (ce__ != cudaSuccess) return loco__cuda_fail_rt((ctx), (what), ce__);        \
    } while (0)
#define LOCO__BLAS(ctx, what, call)                                                     \
    do {                                                                                \
        cublasStatus_t bs__ = (call);                                                   \
        if (bs__ != CUBLAS_STATUS_SUCCESS) return loco__cuda_fail_blas((ctx), (what), bs__); \
    } while (0)

/* Threads per block of every kernel: a multiple of 32 (the warp reductions
 * and the warp-per-row kernels rely on full warps). */
#define LOCO__THREADS 256
#define LOCO__WARPS_PER_BLOCK (LOCO__THREADS / 32)

/* Blocks for a grid-stride loop over n elements: enough to fill any GPU,
 * never more than needed; the loops use 64-bit indices. */
static inline unsigned loco__blocks_for(size_t n) {
    size_t b = (n + LOCO__THREADS - 1) / LOCO__THREADS;
    if (b < 1) b = 1;
    if (b > 65536) b = 65536;
    return (unsigned)b;
}

/* Blocks for a kernel that gives one warp to each of `rows` rows. */
static inline unsigned loco__blocks_for_rows(size_t rows) {
    size_t b = (rows + LOCO__WARPS_PER_BLOCK - 1) / LOCO__WARPS_PER_BLOCK;
    return (unsigned)(b < 1 ? 1 : b);
}

/* ------------------------------------------------------------ reductions */

/* The butterfly leaves every lane with the same total, summed in the same
 * fixed tree whatever the data: deterministic. */
__device__ __forceinline__ float loco__warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ double loco__warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float loco__warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Block-wide sum / max for blockDim.x a multiple of 32 (<= 1024); every
 * thread of the block must call it, and every thread gets the result.  The
 * shared array is static (one per kernel), so the leading barrier keeps a
 * second call from overwriting it while a slow warp still reads the first
 * result. */
__device__ __forceinline__ float loco__block_sum(float v) {
    __shared__ float sh[32];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = loco__warp_sum(v);
    __syncthreads();
    if (lane == 0) sh[w] = v;
    __syncthreads();
    if (w == 0) {
        v = lane < nw ? sh[lane] : 0.0f;
        v = loco__warp_sum(v);
        if (lane == 0) sh[0] = v;
    }
    __syncthreads();
    return sh[0];
}
__device__ __forceinline__ float loco__block_max(float v) {
    __shared__ float sh[32];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = loco__warp_max(v);
    __syncthreads();
    if (lane == 0) sh[w] = v;
    __syncthreads();
    if (w == 0) {
        v = lane < nw ? sh[lane] : -INFINITY;
        v = loco__warp_max(v);
        if (lane == 0) sh[0] = v;
    }
    __syncthreads();
    return sh[0];
}
__device__ __forceinline__ double loco__block_sum_d(double v) {
    __shared__ double sh[32];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = loco__warp_sum_d(v);
    __syncthreads();
    if (lane == 0) sh[w] = v;
    __syncthreads();
    if (w == 0) {
        v = lane < nw ? sh[lane] : 0.0;
        v = loco__warp_sum_d(v);
        if (lane == 0) sh[0] = v;
    }
    __syncthreads();
    return sh[0];
}

/* ------------------------------------------------------------ exp, tanh */

/*
 * The CPU's loco__expf (src/nn/layers.c), operation for operation: x = n ln2
 * + r with n = round(x / ln2) by the 1.5 * 2^23 trick, exp(r) by its degree-6
 * Taylor polynomial, 2^n built in the exponent bits; inputs clamped to
 * [-87.3, 88.7], NaN passed through.  With every operation rounded on its own
 * (--fmad=false) this gives the CPU's float bit for bit, which makes the
 * element-wise kernels (GELU, the softmax numerators, the cross-entropy
 * gradient) exact twins of theirs.
 */
__device__ __forceinline__ float loco__dexpf(float x) {
    const float in = x;
    x = x != x ? 0.0f : x;
    x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
    const float shifter = 12582912.0f; /* 1.5 * 2^23 */
    float t = x * 1.44269504088896341f + shifter;
    float n = t - shifter;
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const float scale = __int_as_float(((int)n + 127) << 23);
    return in != in ? in : p * scale;
}

/* The CPU's loco__tanhf: 1 - 2 / (exp(2u) + 1) with |u| clamped to 10, so
 * that the tails are exactly +-1 (GELU's backward needs 1 - tanh^2 = 0 there). */
__device__ __forceinline__ float loco__dtanhf(float u) {
    u = u < -10.0f ? -10.0f : (u > 10.0f ? 10.0f : u);
    return 1.0f - 2.0f / (loco__dexpf(2.0f * u) + 1.0f);
}

#endif
