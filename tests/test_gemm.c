/* The tiled matrix product (src/nn/gemm.c): correct for every transpose and
 * stride, and the same bits for any number of threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "loco/loco.h"
#include "nn/gemm.h"
#include "test.h"

static float *filled(size_t n, unsigned seed) {
    float *p = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

/* C (M, N) = alpha op(A) op(B) + beta C0 in double, element by element. */
static void reference(int ta, int tb, int M, int N, int K, double alpha, const float *A, int lda,
                      const float *B, int ldb, double beta, const float *C0, int ldc, double *out) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            out[(size_t)i * N + j] = alpha * s + beta * C0[(size_t)i * ldc + j];
        }
}

LOCO_TEST(gemm_tiles_exact_for_any_thread_count) {
    /* Shapes that give one tile, many tiles with ragged edges, and a long
     * summed dimension; leading dimensions wider than the operands, as the
     * attention's (T, hs) slices of (T, 3C) rows are. */
    const int shapes[][3] = {{7, 5, 3}, {517, 1100, 300}, {64, 96, 4000}, {300, 40, 700}};
    int saved = loco_threads_set(0);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
                const size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
                const size_t nc = (size_t)M * ldc;
                float *A = filled(na, 1), *B = filled(nb, 2), *C0 = filled(nc, 3);
                float *C[3];
                double *want = malloc(sizeof(double) * (size_t)M * N);
                reference(ta, tb, M, N, K, 0.5, A, lda, B, ldb, 1.0, C0, ldc, want);
                for (int t = 0; t < 3; t++) {
                    loco_threads_set(t + 1);
                    C[t] = malloc(sizeof(float) * nc);
                    memcpy(C[t], C0, sizeof(float) * nc);
                    loco__gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1.0f, C[t], ldc);
                }
                double err = 0, scale = 0;
                int pad_ok = 1;
                for (int i = 0; i < M; i++) {
                    for (int j = 0; j < N; j++) {
                        double w = want[(size_t)i * N + j];
                        err = fmax(err, fabs(C[0][(size_t)i * ldc + j] - w));
                        scale = fmax(scale, fabs(w));
                    }
                    for (int j = N; j < ldc; j++) pad_ok &= C[0][(size_t)i * ldc + j] == C0[(size_t)i * ldc + j];
                }
                /* fp32 products summed over K terms of size <= 1/4: the error
                 * grows at most like K * 2^-24 of the scale. */
                CHECK(err <= 1e-7 * K * fmax(scale, 1), "M%d N%d K%d ta%d tb%d: max error %.3g (scale %.3g)", M,
                      N, K, ta, tb, err, scale);
                CHECK(pad_ok, "M%d N%d K%d ta%d tb%d: wrote outside the (M, N) block", M, N, K, ta, tb);
                CHECK(!memcmp(C[0], C[1], sizeof(float) * nc), "M%d N%d K%d ta%d tb%d: 1 and 2 threads differ",
                      M, N, K, ta, tb);
                CHECK(!memcmp(C[0], C[2], sizeof(float) * nc), "M%d N%d K%d ta%d tb%d: 1 and 3 threads differ",
                      M, N, K, ta, tb);
                for (int t = 0; t < 3; t++) free(C[t]);
                free(A); free(B); free(C0); free(want);
            }
    }
    loco_threads_set(saved);
}

/* The single-call product gives the same bits inside and outside a parallel
 * region, and on 1 or 2 threads (it must never let BLAS split it). */
LOCO_TEST(gemm_serial_single_call) {
    const int M = 300, N = 200, K = 500;
    float *A = filled((size_t)M * K, 4), *B = filled((size_t)N * K, 5);
    float *C1 = calloc((size_t)M * N, sizeof(float)), *C2 = calloc((size_t)M * N, sizeof(float));
    float *C3 = calloc((size_t)M * N, sizeof(float));
    int saved = loco_threads_set(0);
    loco_threads_set(1);
    loco__gemm_serial(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C1, N);
    loco_threads_set(2);
    loco__gemm_serial(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C2, N);
    #pragma omp parallel num_threads(2)
    {
        #pragma omp single
        loco__gemm_serial(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C3, N);
    }
    CHECK(!memcmp(C1, C2, sizeof(float) * M * N), "1 and 2 threads differ");
    CHECK(!memcmp(C1, C3, sizeof(float) * M * N), "inside and outside a parallel region differ");
    loco_threads_set(saved);
    free(A); free(B); free(C1); free(C2); free(C3);
}
