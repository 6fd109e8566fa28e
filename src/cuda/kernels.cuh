/*
 * The device layers, host side: each loco__cuda_X launches the kernels (and
 * cuBLAS products) of the CPU layer loco__X of src/nn/layers.h, on device
 * pointers, with the same shapes, the same conventions (parameter gradients
 * accumulate, input gradients are written, except LayerNorm's, which
 * accumulates into the residual stream) and the same results up to the
 * order of floating-point sums.  Every launcher returns LOCO_OK, or an error
 * with its reason in ctx->err.  Launches are asynchronous on ctx->stream;
 * faults inside a kernel surface at the next synchronisation.
 */
#ifndef LOCO_CUDA_KERNELS_CUH
#define LOCO_CUDA_KERNELS_CUH

#include "cuda/common.cuh"

/* Column sums reduce LOCO__COLSUM_ROWS rows per partial (stage 1) and then
 * the partials in order (stage 2): partial needs loco__colsum_chunks(N) * C
 * floats for a sum over (N, C) (LayerNorm needs twice that, for dw and db). */
#define LOCO__COLSUM_ROWS 128
static inline int loco__colsum_chunks(int N) { return (N + LOCO__COLSUM_ROWS - 1) / LOCO__COLSUM_ROWS; }

/* The gradient norm reduces through LOCO__NORM_BLOCKS partial sums; its
 * scratch is LOCO__NORM_BLOCKS + 1 doubles. */
#define LOCO__NORM_BLOCKS 256

/* Row-major C (M, N) = alpha op(A) (M, K) op(B) (K, N) + beta C, with
 * op(X) = X^T when tX; lda, ldb, ldc are the row strides of A, B, C as
 * stored.  The batched form repeats it `batch` times at strides sA, sB, sC. */
int loco__cuda_gemm(loco__cuda_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                    int lda, const float *B, int ldb, float beta, float *C, int ldc);
int loco__cuda_gemm_batched(loco__cuda_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha,
                            const float *A, int lda, long long sA, const float *B, int ldb, long long sB,
                            float beta, float *C, int ldc, long long sC, int batch);

/* dst (C) += column sums of x (N, C); partial: loco__colsum_chunks(N) * C. */
int loco__cuda_colsum(loco__cuda_ctx *ctx, float *dst, const float *x, float *partial, int N, int C);
/* dst (C) += sum over r < R of partial (R, C). */
int loco__cuda_colsum_finish(loco__cuda_ctx *ctx, float *dst, const float *partial, int R, int C);

/* out (B, T, C) = wte[inp] + wpe[t]. */
int loco__cuda_encoder_forward(loco__cuda_ctx *ctx, float *out, const int *inp, const float *wte,
                               const float *wpe, int B, int T, int C);
/* Host: groups the N positions of inp by token for the backward.  order (N)
 * lists positions by token, increasing within a token; seg (U + 1) gives
 * each group's start in order, seg[U] = N; count (V) is scratch.  Returns U,
 * the number of distinct tokens. */
int loco__cuda_encoder_buckets(const int *inp, int N, int V, int *count, int *order, int *seg);
/* dwte (V, C) +=, dwpe (T, C) += the scattered dout (B, T, C); order and seg
 * (device) from loco__cuda_encoder_buckets over inp (device). */
int loco__cuda_encoder_backward(loco__cuda_ctx *ctx, float *dwte, float *dwpe, const float *dout, const int *inp,
                                const int *order, const int *seg, int U, int B, int T, int C);

int loco__cuda_layernorm_forward(loco__cuda_ctx *ctx, float *out, float *mean, float *rstd, const float *inp,
                                 const float *w, const float *b, int N, int C);
/* partial: 2 * loco__colsum_chunks(N) * C floats. */
int loco__cuda_layernorm_backward(loco__cuda_ctx *ctx, float *dinp, float *dw, float *db, const float *dout,
                                  const float *inp, const float *w, const float *mean, const float *rstd,
                                  float *partial, int N, int C);

/* out (N, OC) = inp (N, C) @ w^T + bias (OC; may be NULL). */
int loco__cuda_matmul_forward(loco__cuda_ctx *ctx, float *out, const float *inp, const float *w, const float *bias,
                              int N, int C, int OC);
/* dinp (N, C) =; dw (OC, C) +=; dbias (OC) += (skipped when NULL);
 * partial: loco__colsum_chunks(N) * OC floats. */
int loco__cuda_matmul_backward(loco__cuda_ctx *ctx, float *dinp, float *dw, float *dbias, const float *dout,
                               const float *inp, const float *w, float *partial, int N, int C, int OC);

/* out (B, T, C), att (B, NH, T, T) from qkv (B, T, 3C); scratch qkvr
 * (3 B T C floats) and yr (B T C floats). */
int loco__cuda_attention_forward(loco__cuda_ctx *ctx, float *out, float *att, const float *qkv, float *qkvr,
                                 float *yr, int B, int T, int C, int NH);
/* dqkv (B, T, 3C) =; datt (B, NH, T, T) ends holding dS; scratch qkvr
 * (3 B T C), dyr (B T C), dqkvr (3 B T C). */
int loco__cuda_attention_backward(loco__cuda_ctx *ctx, float *dqkv, float *datt, const float *dout,
                                  const float *qkv, const float *att, float *qkvr, float *dyr, float *dqkvr,
                                  int B, int T, int C, int NH);

int loco__cuda_gelu_forward(loco__cuda_ctx *ctx, float *out, const float *inp, size_t n);
/* dinp may alias dout. */
int loco__cuda_gelu_backward(loco__cuda_ctx *ctx, float *dinp, const float *inp, const float *dout, size_t n);
int loco__cuda_residual_forward(loco__cuda_ctx *ctx, float *out, const float *a, const float *b, size_t n);

int loco__cuda_crossentropy_forward(loco__cuda_ctx *ctx, float *losses, float *lse, const float *logits,
                                    const int *targets, int N, int V);
/* dlogits may alias logits. */
int loco__cuda_crossentropy_backward(loco__cuda_ctx *ctx, float *dlogits, const float *logits, const float *lse,
                                     const int *targets, float dloss, int N, int V);

/* *norm (host) = the L2 norm of g (n, device); partial: LOCO__NORM_BLOCKS + 1
 * doubles on the device.  Synchronises (the caller needs the value). */
int loco__cuda_grad_norm(loco__cuda_ctx *ctx, float *norm, const float *g, size_t n, double *partial);
/* loco_adamw_update on device arrays (same arguments, same results). */
int loco__cuda_adamw_update(loco__cuda_ctx *ctx, float *p, const float *g, float *m, float *v, size_t n, float lr,
                            float beta1, float beta2, float eps, float weight_decay, float gscale, int t);

#endif
