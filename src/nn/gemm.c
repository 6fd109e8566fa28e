/*
 * Matrix products whose every output element is computed the same way
 * whatever the number of threads (declarations in gemm.h).
 *
 * Why loco cuts the products itself.  A multi-threaded BLAS splits a product
 * among its threads, and where a row or column lands inside a call changes
 * how it is computed: OpenBLAS's Haswell sgemm kernel, for one, computes rows
 * 6-11 of every 12 in another order of operations than rows 0-5, and its edge
 * kernels handle the last few rows differently again.  So the same product on
 * one thread and on two gives different bits, and which rows differ depends
 * on the CPU, on OPENBLAS_CORETYPE and on OpenBLAS's threading thresholds.
 *
 * What loco does instead.  The output C (M, N) is cut into tiles whose edges
 * are a function of (M, N) alone (gemm_tiles below), never of the thread
 * count.  Each tile is one single-threaded BLAS call over the whole summed
 * dimension K, and OpenMP hands the tiles to threads.  A tile's result depends
 * only on its call, so every element of C is computed by the same call with the
 * same operands on 1 thread or 64: the product is bitwise reproducible for any
 * thread count on a given machine and BLAS core type.  (Across CPUs, or across
 * core types, results still differ in the last bits: the kernels differ.)
 *
 * BLAS runs single-threaded inside a tile because the call is made inside an
 * active OpenMP region (the OpenMP build of OpenBLAS checks omp_in_parallel()),
 * or, in a team of one, because OpenMP allows one thread; for a pthreads build
 * of OpenBLAS, loco__gemm_init sets its thread count to 1 once.
 *
 * This file is compiled twice, as layers.c is: float for training, double
 * (LOCO_REAL_DOUBLE) for the finite-difference tests.
 */
#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include "nn/gemm.h"

#ifdef LOCO_REAL_DOUBLE
typedef double real;
#define FN(name) loco__##name##_f64
#define BLAS_GEMM cblas_dgemm
#else
typedef float real;
#define FN(name) loco__##name
#define BLAS_GEMM cblas_sgemm
#endif

/*
 * Tiling.  Each tile costs BLAS one more packing of its operands: a tile of
 * tm x tn re-reads about K (tm + tn) values for its tm tn K multiply-adds, so
 * tiles should be large.  But the tiles are also the unit of parallel work,
 * and their count may not depend on the thread count, so a product is cut
 * into at least TILE_COUNT tiles where its sides allow: the longer tile side
 * is halved while there are fewer, as long as it stays at least TILE_MIN.
 * Sides start at most TILE_M x TILE_N.  Tile edges are multiples of
 * TILE_ALIGN except the last, so that BLAS's register blocks stay whole.
 * The constants were measured on the GPT's shapes (docs/benchmarks.md);
 * changing them changes results in the last bits, never their correctness.
 */
#define TILE_M     2048
#define TILE_N     16384
#define TILE_MIN   128
#define TILE_COUNT 8
#define TILE_ALIGN 16

static int cdiv(long a, long b) { return (int)((a + b - 1) / b); }

/* The length of the pieces when n is cut into k: ceil(n / k) rounded up to a
 * multiple of TILE_ALIGN (the last piece takes what remains). */
static int piece(int n, int k) {
    int p = cdiv(n, k);
    return cdiv(p, TILE_ALIGN) * TILE_ALIGN;
}

/* Tile sizes (*tm, *tn) for C (M, N); a pure function of the shapes. */
static void gemm_tiles(int M, int N, int *tm, int *tn) {
    int km = cdiv(M, TILE_M), kn = cdiv(N, TILE_N);
    while (cdiv(M, piece(M, km)) * cdiv(N, piece(N, kn)) < TILE_COUNT) {
        int pm = piece(M, km), pn = piece(N, kn);
        int can_m = pm >= 2 * TILE_MIN, can_n = pn >= 2 * TILE_MIN;
        if (can_m && (pm >= pn || !can_n)) km *= 2;
        else if (can_n) kn *= 2;
        else break;
    }
    *tm = piece(M, km);
    *tn = piece(N, kn);
}

void FN(gemm_init)(void) {
#ifndef LOCO_REAL_DOUBLE
    /* openblas_get_parallel(): 0 sequential, 1 pthreads, 2 OpenMP.  Only a
     * pthreads build needs telling; in the OpenMP build the same call would
     * also set OpenMP's thread count, which is not ours to change here. */
    if (openblas_get_parallel() == 1) openblas_set_num_threads(1);
#endif
}

static pthread_once_t gemm_once = PTHREAD_ONCE_INIT;

void FN(gemm)(int ta, int tb, int M, int N, int K, real alpha, const real *A, int lda,
              const real *B, int ldb, real beta, real *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    pthread_once(&gemm_once, FN(gemm_init));
    int tm, tn;
    gemm_tiles(M, N, &tm, &tn);
    const int mt = cdiv(M, tm), nt = cdiv(N, tn);
    const enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans;
    const enum CBLAS_TRANSPOSE TB = tb ? CblasTrans : CblasNoTrans;
    /* Tiles in row-major order, so that consecutive tiles share A's rows.
     * The schedule decides only which thread computes a tile, never how. */
    #pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < mt * nt; t++) {
        const int i0 = (t / nt) * tm, j0 = (t % nt) * tn;
        const int m = M - i0 < tm ? M - i0 : tm, n = N - j0 < tn ? N - j0 : tn;
        // op(A) rows i0..i0+m: A is (M, K) untransposed, (K, M) transposed
        const real *a = ta ? A + i0 : A + (size_t)i0 * lda;
        // op(B) columns j0..j0+n: B is (K, N) untransposed, (N, K) transposed
        const real *b = tb ? B + (size_t)j0 * ldb : B + j0;
        BLAS_GEMM(CblasRowMajor, TA, TB, m, n, K, alpha, a, lda, b, ldb, beta,
                  C + (size_t)i0 * ldc + j0, ldc);
    }
}

/* One BLAS call, always single-threaded: inside an active OpenMP region (the
 * usual caller, a loop over heads) it already is; outside one, a team of two
 * makes the region active and one of its threads makes the call. */
void FN(gemm_serial)(int ta, int tb, int M, int N, int K, real alpha, const real *A, int lda,
                     const real *B, int ldb, real beta, real *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    pthread_once(&gemm_once, FN(gemm_init));
    const enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans;
    const enum CBLAS_TRANSPOSE TB = tb ? CblasTrans : CblasNoTrans;
    if (omp_in_parallel() || omp_get_max_threads() == 1) {
        BLAS_GEMM(CblasRowMajor, TA, TB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    #pragma omp parallel num_threads(2)
    #pragma omp single
    BLAS_GEMM(CblasRowMajor, TA, TB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
