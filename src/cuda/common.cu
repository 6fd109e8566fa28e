/* Error reporting, the cuBLAS context, and whether a usable device exists. */
#include <stdio.h>
#include <string.h>
#include "cuda/common.cuh"
#include "loco/cuda.h"

int loco__cuda_fail_rt(loco__cuda_ctx *ctx, const char *what, cudaError_t e) {
    if (ctx && ctx->err && ctx->errlen) snprintf(ctx->err, ctx->errlen, "%s: %s", what, cudaGetErrorString(e));
    return e == cudaErrorMemoryAllocation ? LOCO_ENOMEM : LOCO_EDEVICE;
}

int loco__cuda_fail_blas(loco__cuda_ctx *ctx, const char *what, cublasStatus_t s) {
    if (ctx && ctx->err && ctx->errlen) snprintf(ctx->err, ctx->errlen, "%s: %s", what, cublasGetStatusString(s));
    return s == CUBLAS_STATUS_ALLOC_FAILED ? LOCO_ENOMEM : LOCO_EDEVICE;
}

int loco__cuda_check_launch(loco__cuda_ctx *ctx, const char *what) {
    cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? LOCO_OK : loco__cuda_fail_rt(ctx, what, e);
}

int loco__cuda_ctx_init(loco__cuda_ctx *ctx, cudaStream_t stream, void *workspace, size_t ws_bytes,
                        char *err, size_t errlen) {
    memset(ctx, 0, sizeof *ctx);
    ctx->err = err;
    ctx->errlen = errlen;
    ctx->stream = stream;
    /* Plain fp32 products: each output is a sum of fp32 products with fp32
     * accumulation, as OpenBLAS computes it on the CPU (only the order of the
     * sums differs).  TF32 is an explicit opt-in (loco_cuda_gpt_set_tf32). */
    ctx->compute = CUBLAS_COMPUTE_32F;
    cublasHandle_t h;
    LOCO__BLAS(ctx, "cublasCreate", cublasCreate(&h));
    cublasStatus_t s = cublasSetStream(h, stream);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
    /* Our own workspace, allocated once with the activations, so that no
     * product ever asks for memory during a step. */
    if (s == CUBLAS_STATUS_SUCCESS && workspace) s = cublasSetWorkspace(h, workspace, ws_bytes);
    if (s != CUBLAS_STATUS_SUCCESS) {
        cublasDestroy(h);
        return loco__cuda_fail_blas(ctx, "cuBLAS set-up", s);
    }
    ctx->blas = h;
    return LOCO_OK;
}

void loco__cuda_ctx_destroy(loco__cuda_ctx *ctx) {
    if (ctx->blas) cublasDestroy(ctx->blas);
    ctx->blas = NULL;
}

/* A kernel whose attributes tell whether this binary has code the device
 * can run (sm_90 SASS, or compute_90 PTX for the driver to compile). */
__global__ void loco__cuda_probe_kernel(int *x) {
    if (x) *x = 0;
}

extern "C" int loco_cuda_available(char *msg, size_t msglen) {
    char buf[512];
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n < 1) {
        snprintf(buf, sizeof buf, "no CUDA device: %.400s",
                 e != cudaSuccess ? cudaGetErrorString(e) : "cudaGetDeviceCount found none");
        cudaGetLastError();
        if (msg && msglen) snprintf(msg, msglen, "%s", buf);
        return LOCO_EDEVICE;
    }
    int dev = 0;
    cudaDeviceProp p;
    e = cudaGetDevice(&dev);
    if (e == cudaSuccess) e = cudaGetDeviceProperties(&p, dev);
    if (e != cudaSuccess) {
        snprintf(buf, sizeof buf, "no CUDA device: %.400s", cudaGetErrorString(e));
        cudaGetLastError();
        if (msg && msglen) snprintf(msg, msglen, "%s", buf);
        return LOCO_EDEVICE;
    }
    cudaFuncAttributes fa;
    e = cudaFuncGetAttributes(&fa, loco__cuda_probe_kernel);
    if (e != cudaSuccess) {
        snprintf(buf, sizeof buf, "no CUDA device: %.200s (compute capability %d.%d) cannot run this build: %.200s "
                 "(rebuild with a matching CUDA_ARCH)", p.name, p.major, p.minor, cudaGetErrorString(e));
        cudaGetLastError();
        if (msg && msglen) snprintf(msg, msglen, "%s", buf);
        return LOCO_EDEVICE;
    }
    if (msg && msglen)
        snprintf(msg, msglen, "%s, compute capability %d.%d, %.1f GiB", p.name, p.major, p.minor,
                 p.totalGlobalMem / 1073741824.0);
    return LOCO_OK;
}
