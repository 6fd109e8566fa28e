/*
 * Matrix products on the device with cuBLAS, twin of loco__matmul_forward /
 * _backward (src/nn/layers.c), and the deterministic column sums that the
 * bias and LayerNorm gradients need.
 *
 * Every tensor in loco is row-major; cuBLAS is column-major.  A row-major
 * (M, N) matrix is, read column-major, its transpose, so the row-major
 * product C = op(A) op(B) is computed as the column-major C^T = op(B)^T
 * op(A)^T: swap the operands and M with N, keep each operand's transpose
 * flag and leading dimension (loco__cuda_gemm).
 */
#include "cuda/kernels.cuh"

int loco__cuda_gemm(loco__cuda_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                    int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    LOCO__BLAS(ctx, "cublasGemmEx",
               cublasGemmEx(ctx->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K,
                            &alpha, B, CUDA_R_32F, ldb, A, CUDA_R_32F, lda, &beta, C, CUDA_R_32F, ldc,
                            ctx->compute, CUBLAS_GEMM_DEFAULT));
    return LOCO_OK;
}

int loco__cuda_gemm_batched(loco__cuda_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha,
                            const float *A, int lda, long long sA, const float *B, int ldb, long long sB,
                            float beta, float *C, int ldc, long long sC, int batch) {
    LOCO__BLAS(ctx, "cublasGemmStridedBatchedEx",
               cublasGemmStridedBatchedEx(ctx->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                          N, M, K, &alpha, B, CUDA_R_32F, ldb, sB, A, CUDA_R_32F, lda, sA, &beta,
                                          C, CUDA_R_32F, ldc, sC, batch, ctx->compute, CUBLAS_GEMM_DEFAULT));
    return LOCO_OK;
}

/* out (N, OC) += bias (OC) broadcast over rows. */
__global__ void loco__k_add_bias(float *out, const float *bias, int OC, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] += bias[i % OC];
}

/* Stage 1 of a column sum of x (N, C): partial (R, C), chunk blockIdx.y of
 * LOCO__COLSUM_ROWS rows; block (32, 8) as in layernorm.cu. */
__global__ void loco__k_colsum_partial(float *partial, const float *x, int N, int C) {
    __shared__ float sh[8][33];
    const int c = blockIdx.x * 32 + threadIdx.x;
    const int r0 = blockIdx.y * LOCO__COLSUM_ROWS;
    const int r1 = min(r0 + LOCO__COLSUM_ROWS, N);
    float a = 0.0f;
    if (c < C)
        for (int i = r0 + threadIdx.y; i < r1; i += 8) a += x[(size_t)i * C + c];
    sh[threadIdx.y][threadIdx.x] = a;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float t = 0.0f;
        for (int k = 0; k < 8; k++) t += sh[k][threadIdx.x];
        partial[(size_t)blockIdx.y * C + c] = t;
    }
}

/* Stage 2: dst (C) += sum over the R chunks of partial (R, C), in order. */
__global__ void loco__k_colsum_finish(float *dst, const float *partial, int R, int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float t = 0.0f;
    for (int r = 0; r < R; r++) t += partial[(size_t)r * C + c];
    dst[c] += t;
}

int loco__cuda_colsum_finish(loco__cuda_ctx *ctx, float *dst, const float *partial, int R, int C) {
    loco__k_colsum_finish<<<(unsigned)((C + LOCO__THREADS - 1) / LOCO__THREADS), LOCO__THREADS, 0, ctx->stream>>>(
        dst, partial, R, C);
    return loco__cuda_check_launch(ctx, "colsum_finish");
}

int loco__cuda_colsum(loco__cuda_ctx *ctx, float *dst, const float *x, float *partial, int N, int C) {
    const int R = loco__colsum_chunks(N);
    dim3 grid((unsigned)((C + 31) / 32), (unsigned)R), block(32, 8);
    loco__k_colsum_partial<<<grid, block, 0, ctx->stream>>>(partial, x, N, C);
    LOCO__TRY(loco__cuda_check_launch(ctx, "colsum_partial"));
    return loco__cuda_colsum_finish(ctx, dst, partial, R, C);
}

int loco__cuda_matmul_forward(loco__cuda_ctx *ctx, float *out, const float *inp, const float *w, const float *bias,
                              int N, int C, int OC) {
    // out (N, OC) = inp (N, C) @ w^T (C, OC)
    LOCO__TRY(loco__cuda_gemm(ctx, 0, 1, N, OC, C, 1.0f, inp, C, w, C, 0.0f, out, OC));
    if (!bias) return LOCO_OK;
    /* Added after the product, as the CPU does (not folded in with beta). */
    const size_t n = (size_t)N * OC;
    loco__k_add_bias<<<loco__blocks_for(n), LOCO__THREADS, 0, ctx->stream>>>(out, bias, OC, n);
    return loco__cuda_check_launch(ctx, "matmul_forward (bias)");
}

int loco__cuda_matmul_backward(loco__cuda_ctx *ctx, float *dinp, float *dw, float *dbias, const float *dout,
                               const float *inp, const float *w, float *partial, int N, int C, int OC) {
    // dinp (N, C) = dout (N, OC) @ w (OC, C)
    LOCO__TRY(loco__cuda_gemm(ctx, 0, 0, N, C, OC, 1.0f, dout, OC, w, C, 0.0f, dinp, C));
    // dw (OC, C) += dout^T (OC, N) @ inp (N, C)
    LOCO__TRY(loco__cuda_gemm(ctx, 1, 0, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw, C));
    // dbias (OC) += column sums of dout (N, OC)
    if (dbias) LOCO__TRY(loco__cuda_colsum(ctx, dbias, dout, partial, N, OC));
    return LOCO_OK;
}
