/*
 * Matrix products, row-major, C (M, N) = alpha op(A) op(B) + beta C with
 * op(A) (M, K) and op(B) (K, N), transposed when ta / tb is nonzero (the
 * arguments of cblas_?gemm in row-major order).  See gemm.c for why loco cuts
 * products into tiles itself.
 *
 *   loco__gemm         tiles fixed by (M, N, K), one single-threaded BLAS call
 *                      per tile, OpenMP over tiles: the same bits for any
 *                      number of threads.
 *   loco__gemm_serial  one single-threaded BLAS call, for small products made
 *                      inside a parallel loop (attention's per-head products).
 *
 * Each exists in float and, with the suffix _f64, in double.
 */
#ifndef LOCO_NN_GEMM_H
#define LOCO_NN_GEMM_H

#define LOCO__GEMM_DECLARE(real, sfx)                                                        \
    void loco__gemm##sfx(int ta, int tb, int M, int N, int K, real alpha, const real *A,      \
                         int lda, const real *B, int ldb, real beta, real *C, int ldc);       \
    void loco__gemm_serial##sfx(int ta, int tb, int M, int N, int K, real alpha,              \
                                const real *A, int lda, const real *B, int ldb, real beta,    \
                                real *C, int ldc);                                            \
    void loco__gemm_init##sfx(void);

LOCO__GEMM_DECLARE(float, )
LOCO__GEMM_DECLARE(double, _f64)

#endif
