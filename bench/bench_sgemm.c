/*
 * bench_sgemm: single-precision GEMM throughput of the BLAS that loco links
 * (OpenBLAS, OpenMP build), for the peak that `make bench` divides by to get
 * model FLOP utilisation.
 *
 *   build/bench_sgemm [--threads N] [--reps R] [--quick] [--peak-only]
 *
 * Measures square row-major NN products (the peak is the largest median over
 * them) and then the shapes that dominate a GPT-2 124M training step with
 * B*T = 2048 (row-major, as loco lays them out: out = inp @ W^T forward, and
 * the two backward products).  Each shape: one untimed warm-up call, then R
 * timed calls; the median is reported.  A GPT shape is then timed again as
 * loco computes it (tiles fixed by the shapes, src/nn/gemm.c).  Output lines:
 *
 *   sgemm shape=<name> trans=<AB> M=.. N=.. K=.. gflops=<median> best_gflops=<max> reps=R
 *         [loco_tiled_gflops=<median> tiled/blas=<ratio>]
 *   sgemm threads=N peak_gflops=<max of square medians>
 *
 * --quick measures only the two smallest squares and no GPT shapes;
 * --peak-only measures all squares but no GPT shapes.
 * The last line is the one bench/run.sh reads.
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "nn/gemm.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static float *alloc_fill(size_t n, unsigned seed) {
    float *p = NULL;
    if (posix_memalign((void **)&p, 64, n * sizeof(float)) != 0) return NULL;
    unsigned s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

/* Times C(M,N) = op(A) op(B) in row-major storage; returns the median GFLOP/s
 * (and the best in *best), or a negative value if memory is short. */
static double bench_shape(const char *name, int ta, int tb, int M, int N, int K,
                          int reps, int with_tiled, double *best) {
    size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
    float *A = alloc_fill(na, 1u), *B = alloc_fill(nb, 2u), *C = alloc_fill(nc, 3u);
    if (!A || !B || !C) {
        free(A); free(B); free(C);
        fprintf(stderr, "bench_sgemm: out of memory for shape %s\n", name);
        return -1.0;
    }
    int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
    enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE TB = tb ? CblasTrans : CblasNoTrans;
    double flops = 2.0 * M * N * K;
    double *g = malloc((size_t)reps * sizeof *g);
    if (!g) { free(A); free(B); free(C); return -1.0; }

    cblas_sgemm(CblasRowMajor, TA, TB, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
    *best = 0.0;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, TA, TB, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
        double dt = now_s() - t0;
        g[r] = flops / dt * 1e-9;
        if (g[r] > *best) *best = g[r];
    }
    double med = median(g, reps);
    /* The same product as loco computes it: tiles fixed by the shapes, one
     * single-threaded sgemm each (src/nn/gemm.c), timed in turn with BLAS's
     * own threading above so that both see the same machine. */
    double tiled = 0.0;
    if (with_tiled) {
        loco__gemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
        for (int r = 0; r < reps; r++) {
            double t0 = now_s();
            loco__gemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
            g[r] = flops / (now_s() - t0) * 1e-9;
        }
        tiled = median(g, reps);
    }
    printf("sgemm shape=%s trans=%c%c M=%d N=%d K=%d gflops=%.1f best_gflops=%.1f reps=%d", name,
           ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, med, *best, reps);
    if (with_tiled) printf(" loco_tiled_gflops=%.1f tiled/blas=%.3f", tiled, tiled / med);
    printf("\n");
    fflush(stdout);
    free(g); free(A); free(B); free(C);
    return med;
}

static int parse_int(const char *flag, const char *s, int lo, int hi, int *out) {
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) {
        fprintf(stderr, "bench_sgemm: %s needs an integer in [%d, %d], got '%s'\n",
                flag, lo, hi, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv) {
    int threads = 2, reps = 5, quick = 0, peak_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) { quick = 1; continue; }
        if (!strcmp(argv[i], "--peak-only")) { peak_only = 1; continue; }
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: bench_sgemm [--threads N] [--reps R] [--quick] [--peak-only]\n");
            return 0;
        }
        int *dst = !strcmp(argv[i], "--threads") ? &threads
                 : !strcmp(argv[i], "--reps")    ? &reps : NULL;
        if (!dst) {
            fprintf(stderr, "bench_sgemm: unknown flag '%s'\n", argv[i]);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_sgemm: flag %s needs a value\n", argv[i]);
            return 2;
        }
        if (parse_int(argv[i], argv[i + 1], 1, dst == &threads ? 1024 : 1000, dst)) return 2;
        i++;
    }
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    printf("sgemm config threads=%d openblas_threads=%d core=%s\n", threads,
           openblas_get_num_threads(), openblas_get_corename());

    static const int square[] = {1024, 2048, 3072, 4096};
    int nsq = quick ? 2 : 4;
    double peak = 0.0, best;
    for (int i = 0; i < nsq; i++) {
        char name[32];
        snprintf(name, sizeof name, "square%d", square[i]);
        double g = bench_shape(name, 0, 0, square[i], square[i], square[i], reps, 0, &best);
        if (g > peak) peak = g;
    }

    /* GPT-2 124M, B*T = 2048 (row-major; W is (OC, C) as in loco_gpt). */
    if (!quick && !peak_only) {
        int gr = reps < 3 ? reps : 3;   /* the vocabulary-sized ones are slow */
        bench_shape("qkv_fwd", 0, 1, 2048, 2304, 768, reps, 1, &best);
        bench_shape("fc_fwd", 0, 1, 2048, 3072, 768, reps, 1, &best);
        bench_shape("fcproj_fwd", 0, 1, 2048, 768, 3072, reps, 1, &best);
        bench_shape("fc_dinp", 0, 0, 2048, 768, 3072, reps, 1, &best);
        bench_shape("fc_dw", 1, 0, 3072, 768, 2048, reps, 1, &best);
        bench_shape("lmhead_fwd", 0, 1, 2048, 50257, 768, gr, 1, &best);
        bench_shape("lmhead_dinp", 0, 0, 2048, 768, 50257, gr, 1, &best);
        bench_shape("lmhead_dw", 1, 0, 50257, 768, 2048, gr, 1, &best);
    }
    if (peak <= 0.0) {
        fprintf(stderr, "bench_sgemm: no square shape could be measured\n");
        return 1;
    }
    printf("sgemm threads=%d peak_gflops=%.1f\n", threads, peak);
    return 0;
}
