/*
 * The CUDA backend (include/loco/cuda.h, src/cuda/) against the CPU, its
 * reference.
 *
 * Everywhere (no GPU needed):
 *  - cuda_available_says_why: without a usable device every entry point
 *    fails cleanly, with LOCO_ENOTSUP ("built without CUDA", plain make) or
 *    LOCO_EDEVICE ("no CUDA device: ...", a CUDA build on a machine without
 *    one), and a one-line reason; nothing crashes.
 *  - cuda_cli_device_flag: `loco train --device bogus` exits 2 with one
 *    line; `--device cuda` exits 2 (not built) or 1 (no device) with one
 *    line naming CUDA, before any training; with a device it trains.
 *  - cuda_cli_dist_device: the same for `--algo diloco|async|dipaco|ddp
 *    --device cuda` and for `loco worker --device cuda`; with a device, ddp
 *    is refused with one line (exit 2) and the others train.
 *
 * With a device (SKIP otherwise, counted as neither pass nor fail):
 *  - cuda_kernel_*: each device kernel against its CPU twin of
 *    src/nn/layers.h on the same random inputs, forward and backward, at
 *    shapes that are not multiples of the block sizes (partial warps, several
 *    column-sum chunks, rows longer than a block).
 *  - cuda_gpt_step_matches_cpu: a tiny GPT (L=2, C=64, NH=4, V=97, T=32,
 *    B=3), the CPU model and its device copy side by side for 4 training
 *    steps (the last two at B=2, T=20 < capacity): logits, loss, every
 *    gradient tensor; then both optimizers take the CPU's gradients and the
 *    gradient norm, every parameter tensor and both AdamW moments must agree
 *    after each step.
 *  - cuda_gpt_training_follows_cpu: 8 free-running steps (each side on its
 *    own gradients): the losses agree.
 *  - cuda_gpt_allocates_nothing_and_repeats: training steps make no host
 *    allocation (the malloc wrapper of alloc_count.c) and leave the device's
 *    free memory unchanged; two device models given the same batches end
 *    with the same bits.
 *  - cuda_sim_diloco_matches_cpu, cuda_async_sim_matches_cpu,
 *    cuda_dipaco_sim_matches_cpu: the simulators with their workers on the
 *    device (2 DiLoCo workers over 3 rounds; 2 async workers of unequal
 *    speeds over 6 pushes; 2 DiPaCo paths over 3 rounds, with and without
 *    reset_inner) against the same simulators on the CPU: every round's
 *    (push's) training loss and the final model's loss within 1e-4, as the
 *    free-running steps; a device DiLoCo round allocates nothing on the host.
 *
 * Tolerances (max |gpu - cpu| / max |cpu| over a tensor, loco_test_rel_err):
 *  EXACT_TOL = 1e-6 for the kernels written to give the CPU's floats
 *    exactly: the embedding forward and backward (the same additions in the
 *    same order), GELU forward and backward and the residual (the same
 *    operations, the CPU's own exp/tanh, no FMA contraction), the
 *    cross-entropy gradient for a given lse, and the AdamW update (the same
 *    scalars, the same two FMAs).  The measured error is expected to be 0;
 *    the tolerance only allows for a platform whose libm or FMA differs.
 *  SUM_TOL = 1e-5 for the kernels with reductions, whose order differs
 *    (warp trees and cuBLAS's blocking against OpenBLAS and OpenMP SIMD):
 *    fp32's unit round-off is 6e-8 and sums of K <= 1000 terms err by about
 *    sqrt(K) ulps of their magnitude (~2e-6 worst here); LayerNorm's 1/std
 *    and softmax's exp can double that.  A wrong index or a missing term is
 *    an O(1e-2..1) error.
 *  NORM_TOL = 1e-6 for the gradient norm: both sides sum squares in double,
 *    so only the final rounding to float can differ.
 *  Full step: logits and loss 1e-5; gradients 2e-5 (they go through the
 *    whole backward chain, and fp32 implementations differ by ~6e-7 there,
 *    see docs/correctness.md); the norm NORM_TOL and parameters and moments
 *    EXACT_TOL after each step, both optimizers being given the same
 *    gradients (with each its own, Adam turns gradients that are rounding
 *    noise, such as the key bias's, into full-size steps of random sign);
 *    free-running losses 1e-4.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alloc_count.h"
#include "cuda/check.h"
#include "loco/async_sim.h"
#include "loco/cuda.h"
#include "loco/dipaco.h"
#include "loco/loco.h"
#include "loco/sim.h"
#include "loco/split.h"
#include "nn/gpt_internal.h"
#include "nn/layers.h"
#include "test.h"
#include "util.h"

#define EXACT_TOL 1e-6
#define SUM_TOL 1e-5
#define NORM_TOL 1e-6
#define LOGIT_TOL 1e-5
#define GRAD_TOL 2e-5

/* Ends the test as skipped unless a CUDA device can run this build. */
#define NEED_DEVICE()                                                         \
    do {                                                                      \
        char why_[512];                                                       \
        if (loco_cuda_available(why_, sizeof why_) != LOCO_OK) SKIP("%s", why_); \
    } while (0)

/* Ends the test as failed if a device call did not succeed. */
#define DEV_OK(call)                                                          \
    do {                                                                      \
        int e_ = (call);                                                      \
        if (e_ != LOCO_OK) {                                                  \
            FAIL("%s: %s (%s)", #call, loco_strerror(e_), loco__cuda_test_error()); \
            goto done;                                                        \
        }                                                                     \
    } while (0)

/* ------------------------------------------------------------ helpers */

static float *fvec(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* n uniform floats in [lo, hi). */
static float *frand(loco_rng *r, size_t n, float lo, float hi) {
    float *x = fvec(n);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * loco_rng_uniform(r);
    return x;
}

static float *fcopy(const float *a, size_t n) {
    float *x = fvec(n);
    memcpy(x, a, n * sizeof(float));
    return x;
}

static int *irand(loco_rng *r, size_t n, int V) {
    int *x = calloc(n ? n : 1, sizeof(int));
    for (size_t i = 0; i < n; i++) x[i] = (int)(loco_rng_u64(r) % (uint64_t)V);
    return x;
}

/* Compares a device result with the CPU's, prints the measured error, and
 * fails the test above tol. */
static void cmp(int *loco_test_failed_, const char *what, const float *gpu, const float *cpu, size_t n,
                double tol) {
    double e = loco_test_rel_err(gpu, cpu, n);
    int bitwise = memcmp(gpu, cpu, n * sizeof(float)) == 0;
    printf("  %-34s rel err %.2e (tol %.0e)%s\n", what, e, tol, bitwise ? "  bitwise equal" : "");
    CHECK(e <= tol, "%s: device vs CPU relative error %.3e > %.0e", what, e, tol);
}

/* Exactly one line (one newline, at the end) on stderr. */
static int one_line(const char *s) {
    size_t n = strlen(s);
    return n > 1 && s[n - 1] == '\n' && strchr(s, '\n') == s + n - 1;
}

/* ------------------------------------------------------------ everywhere */

LOCO_TEST(cuda_available_says_why) {
    char msg[512] = "";
    int e = loco_cuda_available(msg, sizeof msg);
    CHECK(msg[0] && !strchr(msg, '\n'), "loco_cuda_available gives no one-line message: '%s'", msg);
    CHECK(loco_cuda_available(NULL, 0) == e, "a NULL message buffer changes the answer");
    if (e == LOCO_OK) {
        printf("  device: %s\n", msg);
        return;
    }
    CHECK(e == LOCO_ENOTSUP || e == LOCO_EDEVICE, "unexpected code %d (%s)", e, loco_strerror(e));
    if (e == LOCO_ENOTSUP)
        CHECK(strcmp(msg, "loco was built without CUDA (build with make CUDA=1)") == 0, "message '%s'", msg);
    else
        CHECK(strncmp(msg, "no CUDA device: ", 16) == 0 && msg[16], "message '%s'", msg);
    printf("  %s: %s\n", loco_strerror(e), msg);

    /* Every entry point fails with the same code, and nothing crashes. */
    loco_gpt_config cfg = {.max_seq_len = 8, .vocab_size = 11, .n_layer = 1, .n_head = 2, .channels = 8};
    loco_gpt *m = NULL;
    char cmsg[200];
    CHECK(loco_gpt_create(&m, &cfg, 2, 8, 1, cmsg, sizeof cmsg) == LOCO_OK, "%s", cmsg);
    if (!m) return;
    loco_cuda_gpt *d = (loco_cuda_gpt *)&d;   /* must be overwritten with NULL */
    char dmsg[512] = "";
    CHECK(loco_cuda_gpt_create(&d, m, 2, 8, dmsg, sizeof dmsg) == e && d == NULL && strcmp(dmsg, msg) == 0,
          "device model creation without a device: '%s'", dmsg);
    loco_cuda_gpt_free(NULL);
    float x[4] = {1, 2, 3, 4}, y[4], norm = 0;
    CHECK(loco__cuda_test_residual_forward(y, x, x, 4) == e, "a kernel call without a device");
    CHECK(loco__cuda_test_grad_norm(&norm, x, 4) == e, "the norm without a device");
    CHECK(loco__cuda_test_error()[0] != 0, "no reason for the failed kernel call");
    loco_gpt_free(m);
}

#define TINY "--layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --eval-every 0 --log-every 1000 " \
             "--eval-batches 1 --threads 2"

LOCO_TEST(cuda_cli_device_flag) {
    char err[2048], why[512];
    int st = loco_test_run("train " TINY " --steps 2 --device bogus", err, sizeof err);
    CHECK(st == 2 && one_line(err) && strstr(err, "--device"), "--device bogus: exit %d, stderr '%s'", st, err);

    const int e = loco_cuda_available(why, sizeof why);
    st = loco_test_run("train " TINY " --steps 2 --device cuda", err, sizeof err);
    /* Which build is LOCO_BIN?  Its message says; it must be this test
     * binary's build (make CUDA=1 test sets LOCO_BIN=build-cuda/loco). */
    const int bin_not_built = strstr(err, "built without CUDA") != NULL;
    if (bin_not_built != (e == LOCO_ENOTSUP) && e != LOCO_OK) {
        FAIL("%s and this test binary come from different builds (stderr '%s'); run `make CUDA=1 test` or set "
             "LOCO_BIN=build-cuda/loco", loco_test_bin(), err);
        return;
    }
    if (e == LOCO_ENOTSUP)
        CHECK(st == 2 && one_line(err) && strstr(err, "CUDA") && strstr(err, "make CUDA=1"),
              "--device cuda without CUDA: exit %d, stderr '%s'", st, err);
    else if (e == LOCO_EDEVICE)
        CHECK(st == 1 && one_line(err) && strstr(err, "no CUDA device"),
              "--device cuda without a device: exit %d, stderr '%s'", st, err);
    else
        CHECK(st == 0, "--device cuda with a device: exit %d, stderr '%s'", st, err);
    printf("  --device cuda: exit %d: %s", st, err[0] ? err : "(trained)\n");
}

/* ------------------------------------------------------------ kernels */

LOCO_TEST(cuda_kernel_encoder) {
    NEED_DEVICE();
    const int B = 3, T = 17, C = 40, V = 11;   /* few tokens: many positions share a row of dwte */
    loco_rng r;
    loco_rng_seed(&r, 1);
    int *inp = irand(&r, (size_t)B * T, V);
    float *wte = frand(&r, (size_t)V * C, -1, 1), *wpe = frand(&r, (size_t)T * C, -1, 1);
    float *out_c = fvec((size_t)B * T * C), *out_g = fvec((size_t)B * T * C);
    float *dout = frand(&r, (size_t)B * T * C, -1, 1);
    float *dwte_c = frand(&r, (size_t)V * C, -1, 1), *dwpe_c = frand(&r, (size_t)T * C, -1, 1);
    float *dwte_g = fcopy(dwte_c, (size_t)V * C), *dwpe_g = fcopy(dwpe_c, (size_t)T * C);
    loco__encoder_forward(out_c, inp, wte, wpe, B, T, C);
    DEV_OK(loco__cuda_test_encoder_forward(out_g, inp, wte, wpe, B, T, C, V));
    cmp(loco_test_failed_, "encoder forward", out_g, out_c, (size_t)B * T * C, EXACT_TOL);
    /* dwte and dwpe start non-zero: the backward must accumulate. */
    loco__encoder_backward(dwte_c, dwpe_c, dout, inp, B, T, C);
    DEV_OK(loco__cuda_test_encoder_backward(dwte_g, dwpe_g, dout, inp, B, T, C, V));
    cmp(loco_test_failed_, "encoder backward dwte", dwte_g, dwte_c, (size_t)V * C, EXACT_TOL);
    cmp(loco_test_failed_, "encoder backward dwpe", dwpe_g, dwpe_c, (size_t)T * C, EXACT_TOL);
done:
    free(inp); free(wte); free(wpe); free(out_c); free(out_g); free(dout);
    free(dwte_c); free(dwpe_c); free(dwte_g); free(dwpe_g);
}

LOCO_TEST(cuda_kernel_layernorm) {
    NEED_DEVICE();
    const int N = 300, C = 200;   /* 3 column-sum chunks; C not a multiple of 32 */
    const size_t NC = (size_t)N * C;
    loco_rng r;
    loco_rng_seed(&r, 2);
    float *x = frand(&r, NC, -2, 3), *w = frand(&r, C, 0.5f, 1.5f), *b = frand(&r, C, -0.5f, 0.5f);
    float *out_c = fvec(NC), *mean_c = fvec(N), *rstd_c = fvec(N);
    float *out_g = fvec(NC), *mean_g = fvec(N), *rstd_g = fvec(N);
    float *dout = frand(&r, NC, -1, 1);
    float *dx_c = frand(&r, NC, -1, 1), *dw_c = frand(&r, C, -1, 1), *db_c = frand(&r, C, -1, 1);
    float *dx_g = fcopy(dx_c, NC), *dw_g = fcopy(dw_c, C), *db_g = fcopy(db_c, C);
    loco__layernorm_forward(out_c, mean_c, rstd_c, x, w, b, N, C);
    DEV_OK(loco__cuda_test_layernorm_forward(out_g, mean_g, rstd_g, x, w, b, N, C));
    cmp(loco_test_failed_, "layernorm forward out", out_g, out_c, NC, SUM_TOL);
    cmp(loco_test_failed_, "layernorm forward mean", mean_g, mean_c, N, SUM_TOL);
    cmp(loco_test_failed_, "layernorm forward rstd", rstd_g, rstd_c, N, SUM_TOL);
    /* Both sides get the CPU's mean and rstd; dx, dw, db accumulate. */
    loco__layernorm_backward(dx_c, dw_c, db_c, dout, x, w, mean_c, rstd_c, N, C);
    DEV_OK(loco__cuda_test_layernorm_backward(dx_g, dw_g, db_g, dout, x, w, mean_c, rstd_c, N, C));
    cmp(loco_test_failed_, "layernorm backward dinp", dx_g, dx_c, NC, SUM_TOL);
    cmp(loco_test_failed_, "layernorm backward dw", dw_g, dw_c, C, SUM_TOL);
    cmp(loco_test_failed_, "layernorm backward db", db_g, db_c, C, SUM_TOL);
done:
    free(x); free(w); free(b); free(out_c); free(mean_c); free(rstd_c); free(out_g); free(mean_g); free(rstd_g);
    free(dout); free(dx_c); free(dw_c); free(db_c); free(dx_g); free(dw_g); free(db_g);
}

LOCO_TEST(cuda_kernel_matmul) {
    NEED_DEVICE();
    const int N = 150, C = 72, OC = 200;   /* 2 column-sum chunks for dbias */
    loco_rng r;
    loco_rng_seed(&r, 3);
    float *inp = frand(&r, (size_t)N * C, -1, 1), *w = frand(&r, (size_t)OC * C, -1, 1);
    float *bias = frand(&r, OC, -1, 1), *dout = frand(&r, (size_t)N * OC, -1, 1);
    float *out_c = fvec((size_t)N * OC), *out_g = fvec((size_t)N * OC);
    float *dinp_c = fvec((size_t)N * C), *dinp_g = fvec((size_t)N * C);
    float *dw_c = frand(&r, (size_t)OC * C, -1, 1), *db_c = frand(&r, OC, -1, 1);
    float *dw_g = fcopy(dw_c, (size_t)OC * C), *db_g = fcopy(db_c, OC);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        loco__matmul_forward(out_c, inp, w, with_bias ? bias : NULL, N, C, OC);
        DEV_OK(loco__cuda_test_matmul_forward(out_g, inp, w, with_bias ? bias : NULL, N, C, OC));
        cmp(loco_test_failed_, with_bias ? "matmul forward (bias)" : "matmul forward (no bias)", out_g, out_c,
            (size_t)N * OC, SUM_TOL);
    }
    loco__matmul_backward(dinp_c, dw_c, db_c, dout, inp, w, N, C, OC);
    DEV_OK(loco__cuda_test_matmul_backward(dinp_g, dw_g, db_g, dout, inp, w, N, C, OC));
    cmp(loco_test_failed_, "matmul backward dinp", dinp_g, dinp_c, (size_t)N * C, SUM_TOL);
    cmp(loco_test_failed_, "matmul backward dw", dw_g, dw_c, (size_t)OC * C, SUM_TOL);
    cmp(loco_test_failed_, "matmul backward dbias", db_g, db_c, OC, SUM_TOL);
done:
    free(inp); free(w); free(bias); free(dout); free(out_c); free(out_g); free(dinp_c); free(dinp_g);
    free(dw_c); free(db_c); free(dw_g); free(db_g);
}

LOCO_TEST(cuda_kernel_attention) {
    NEED_DEVICE();
    const int B = 2, T = 33, C = 48, NH = 3;   /* T > 32: rows span more than one pass of a warp */
    const size_t BTC = (size_t)B * T * C, BHTT = (size_t)B * NH * T * T;
    loco_rng r;
    loco_rng_seed(&r, 4);
    float *qkv = frand(&r, 3 * BTC, -2, 2), *dout = frand(&r, BTC, -1, 1);
    float *out_c = fvec(BTC), *att_c = fvec(BHTT), *out_g = fvec(BTC), *att_g = fvec(BHTT);
    float *dqkv_c = fvec(3 * BTC), *datt_c = fvec(BHTT), *dqkv_g = fvec(3 * BTC), *datt_g = fvec(BHTT);
    loco__attention_forward(out_c, att_c, qkv, B, T, C, NH);
    DEV_OK(loco__cuda_test_attention_forward(out_g, att_g, qkv, B, T, C, NH));
    cmp(loco_test_failed_, "attention forward out", out_g, out_c, BTC, SUM_TOL);
    cmp(loco_test_failed_, "attention forward att", att_g, att_c, BHTT, SUM_TOL);
    int masked_zero = 1;   /* above the diagonal: exactly 0 */
    for (size_t bh = 0; bh < (size_t)B * NH; bh++)
        for (int t = 0; t < T; t++)
            for (int s = t + 1; s < T; s++) masked_zero &= att_g[(bh * T + t) * T + s] == 0.0f;
    CHECK(masked_zero, "the device's attention has non-zero probabilities above the diagonal");
    /* Both backward passes get the CPU's probabilities. */
    loco__attention_backward(dqkv_c, datt_c, dout, qkv, att_c, B, T, C, NH);
    DEV_OK(loco__cuda_test_attention_backward(dqkv_g, datt_g, dout, qkv, att_c, B, T, C, NH));
    cmp(loco_test_failed_, "attention backward dqkv", dqkv_g, dqkv_c, 3 * BTC, SUM_TOL);
    cmp(loco_test_failed_, "attention backward dS (datt)", datt_g, datt_c, BHTT, SUM_TOL);
done:
    free(qkv); free(dout); free(out_c); free(att_c); free(out_g); free(att_g);
    free(dqkv_c); free(datt_c); free(dqkv_g); free(datt_g);
}

LOCO_TEST(cuda_kernel_gelu_residual) {
    NEED_DEVICE();
    const long n = 20011;
    loco_rng r;
    loco_rng_seed(&r, 5);
    float *x = frand(&r, n, -6, 6), *y = frand(&r, n, -1, 1), *dout = frand(&r, n, -1, 1);
    for (long i = 0; i < n; i += 97) x[i] *= 3;   /* saturated tails, where tanh is clamped */
    float *c = fvec(n), *g = fvec(n);
    loco__gelu_forward(c, x, n);
    DEV_OK(loco__cuda_test_gelu_forward(g, x, n));
    cmp(loco_test_failed_, "gelu forward", g, c, n, EXACT_TOL);
    loco__gelu_backward(c, x, dout, n);
    DEV_OK(loco__cuda_test_gelu_backward(g, x, dout, n));
    cmp(loco_test_failed_, "gelu backward", g, c, n, EXACT_TOL);
    loco__residual_forward(c, x, y, n);
    DEV_OK(loco__cuda_test_residual_forward(g, x, y, n));
    cmp(loco_test_failed_, "residual forward", g, c, n, EXACT_TOL);
done:
    free(x); free(y); free(dout); free(c); free(g);
}

LOCO_TEST(cuda_kernel_crossentropy) {
    NEED_DEVICE();
    const int N = 37, V = 1000;   /* V > the block's 256 threads and not a multiple of it */
    const size_t NV = (size_t)N * V;
    loco_rng r;
    loco_rng_seed(&r, 6);
    float *z = frand(&r, NV, -4, 4);
    int *tgt = irand(&r, N, V);
    float *loss_c = fvec(N), *lse_c = fvec(N), *loss_g = fvec(N), *lse_g = fvec(N);
    float *dz_c = fvec(NV), *dz_g = fvec(NV);
    loco__crossentropy_forward(loss_c, lse_c, z, tgt, N, V);
    DEV_OK(loco__cuda_test_crossentropy_forward(loss_g, lse_g, z, tgt, N, V));
    cmp(loco_test_failed_, "crossentropy forward losses", loss_g, loss_c, N, SUM_TOL);
    cmp(loco_test_failed_, "crossentropy forward lse", lse_g, lse_c, N, SUM_TOL);
    /* For the same lse the gradient is element-wise: exact. */
    loco__crossentropy_backward(dz_c, z, lse_c, tgt, 1.0f / N, N, V);
    DEV_OK(loco__cuda_test_crossentropy_backward(dz_g, z, lse_c, tgt, 1.0f / N, N, V));
    cmp(loco_test_failed_, "crossentropy backward (given lse)", dz_g, dz_c, NV, EXACT_TOL);
done:
    free(z); free(tgt); free(loss_c); free(lse_c); free(loss_g); free(lse_g); free(dz_c); free(dz_g);
}

LOCO_TEST(cuda_kernel_adamw) {
    NEED_DEVICE();
    const size_t n = 100003;
    loco_rng r;
    loco_rng_seed(&r, 7);
    float *g = frand(&r, n, -1e-2f, 1e-2f), *p_c = frand(&r, n, -0.1f, 0.1f), *m_c = frand(&r, n, -1e-3f, 1e-3f);
    float *v_c = frand(&r, n, 0, 1e-5f);
    float *p_g = fcopy(p_c, n), *m_g = fcopy(m_c, n), *v_g = fcopy(v_c, n);
    float norm_g = 0, norm_c = loco_grad_norm(g, n);
    DEV_OK(loco__cuda_test_grad_norm(&norm_g, g, n));
    cmp(loco_test_failed_, "grad norm", &norm_g, &norm_c, 1, NORM_TOL);
    loco_adamw_update(p_c, g, m_c, v_c, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.7f, 3);
    DEV_OK(loco__cuda_test_adamw_update(p_g, g, m_g, v_g, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.7f, 3));
    cmp(loco_test_failed_, "adamw params", p_g, p_c, n, EXACT_TOL);
    cmp(loco_test_failed_, "adamw m", m_g, m_c, n, EXACT_TOL);
    cmp(loco_test_failed_, "adamw v", v_g, v_c, n, EXACT_TOL);
done:
    free(g); free(p_c); free(m_c); free(v_c); free(p_g); free(m_g); free(v_g);
}

/* ------------------------------------------------------------ the model */

enum { SB = 3, ST = 32, SV = 97, SSTEPS = 4 };

/* Compares every tensor of a block laid out like the parameters. */
static void cmp_tensors(int *loco_test_failed_, const loco_gpt *m, const char *what, const float *gpu,
                        const float *cpu, double tol) {
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        size_t off, n;
        loco_gpt_param_info(m, i, &off, &n, NULL);
        char name[64];
        snprintf(name, sizeof name, "%s %s", what, loco_gpt_param_name(i));
        cmp(loco_test_failed_, name, gpu + off, cpu + off, n, tol);
    }
}

/* Random tokens (B, T) and targets that are a fixed function of them, so
 * that there is something to learn. */
static void batch(loco_rng *r, int *tok, int *tgt, int N) {
    for (int i = 0; i < N; i++) {
        tok[i] = (int)(loco_rng_u64(r) % SV);
        tgt[i] = (tok[i] * 5 + 3) % SV;
    }
}

static void step_config(loco_adamw_config *oc) {
    loco_adamw_config_default(oc, SSTEPS);
    oc->lr = 1e-3f;
    oc->warmup_steps = 2;
    oc->grad_clip = 0.5f;   /* small enough that clipping is active */
}

LOCO_TEST(cuda_gpt_step_matches_cpu) {
    NEED_DEVICE();
    loco_gpt_config cfg = {.max_seq_len = ST, .vocab_size = SV, .n_layer = 2, .n_head = 4, .channels = 64};
    loco_gpt *m = NULL, *h = NULL;
    loco_cuda_gpt *d = NULL;
    char msg[512];
    float *grads = NULL, *logits = NULL;
    int *tok = NULL;
    if (loco_gpt_create(&m, &cfg, SB, ST, 42, msg, sizeof msg) != LOCO_OK ||
        loco_gpt_create(&h, &cfg, 1, 1, 1, msg, sizeof msg) != LOCO_OK) {
        FAIL("cannot create the host models: %s", msg);
        goto done;
    }
    if (loco_cuda_gpt_create(&d, m, SB, ST, msg, sizeof msg) != LOCO_OK) {
        FAIL("cannot create the device model: %s", msg);
        goto done;
    }
    const size_t np = loco_gpt_num_params(m);
    grads = fvec(np);
    logits = fvec((size_t)SB * ST * SV);
    tok = malloc(sizeof(int) * 2 * SB * ST);
    loco_adamw_config oc;
    step_config(&oc);
    loco_rng r;
    loco_rng_seed(&r, 8);
    for (int step = 0; step < SSTEPS; step++) {
        /* The last two steps use a smaller batch than the capacity. */
        const int B = step < 2 ? SB : 2, T = step < 2 ? ST : 20, N = B * T;
        int *tgt = tok + N;
        batch(&r, tok, tgt, N);
        printf("  step %d (B=%d T=%d)\n", step, B, T);
        CHECK(loco_gpt_forward(m, tok, tgt, B, T) == LOCO_OK, "CPU forward");
        if (loco_cuda_gpt_forward(d, tok, tgt, B, T) != LOCO_OK ||
            loco_cuda_gpt_copy_logits(d, logits) != LOCO_OK) {
            FAIL("device forward: %s", loco_cuda_gpt_error(d));
            goto done;
        }
        cmp(loco_test_failed_, "logits", logits, loco_gpt_logits(m), (size_t)N * SV, LOGIT_TOL);
        float lc = loco_gpt_loss(m), lg = loco_cuda_gpt_loss(d);
        cmp(loco_test_failed_, "loss", &lg, &lc, 1, LOGIT_TOL);
        loco_gpt_zero_grad(m);
        CHECK(loco_gpt_backward(m) == LOCO_OK, "CPU backward");
        if (loco_cuda_gpt_zero_grad(d) != LOCO_OK || loco_cuda_gpt_backward(d) != LOCO_OK ||
            loco_cuda_gpt_copy_grads(d, grads) != LOCO_OK) {
            FAIL("device backward: %s", loco_cuda_gpt_error(d));
            goto done;
        }
        cmp_tensors(loco_test_failed_, m, "grad", grads, loco_gpt_grads(m), GRAD_TOL);
        /* Both optimizers now take the CPU's gradients, so that the steps can
         * be compared exactly: Adam divides by sqrt(v), and a gradient that is
         * rounding noise on both sides (the key bias's is exactly 0 in exact
         * arithmetic: softmax ignores a per-query constant) would otherwise
         * take full-size steps of either sign.  The models then stay equal,
         * and every step's forward and backward start from the same weights. */
        DEV_OK(loco__cuda_test_gpt_set_grads(d, loco_gpt_grads(m)));
        float nc = 0, ng = 0;
        CHECK(loco_gpt_adamw_step(m, &oc, step, &nc) == LOCO_OK, "CPU AdamW step");
        if (loco_cuda_gpt_adamw_step(d, &oc, step, &ng) != LOCO_OK || loco_cuda_gpt_to_host(d, h) != LOCO_OK) {
            FAIL("device AdamW step: %s", loco_cuda_gpt_error(d));
            goto done;
        }
        cmp(loco_test_failed_, "grad norm", &ng, &nc, 1, NORM_TOL);
        cmp_tensors(loco_test_failed_, m, "param", h->params, m->params, EXACT_TOL);
        cmp(loco_test_failed_, "adamw m (all)", h->opt_state, m->opt_state, np, EXACT_TOL);
        cmp(loco_test_failed_, "adamw v (all)", h->opt_state + np, m->opt_state + np, np, EXACT_TOL);
        CHECK(h->adam_t == m->adam_t, "AdamW step count %ld on the device, %ld on the CPU", h->adam_t, m->adam_t);
    }
    /* A forward without targets has nothing to go backward from. */
    CHECK(loco_cuda_gpt_forward(d, tok, NULL, 1, 4) == LOCO_OK && loco_cuda_gpt_backward(d) == LOCO_EINVAL,
          "backward after a forward without targets");
    tok[0] = SV;
    CHECK(loco_cuda_gpt_forward(d, tok, NULL, 1, 4) == LOCO_EINVAL, "an out-of-range token is accepted");
    CHECK(loco_cuda_gpt_forward(d, tok + 1, NULL, SB + 1, 4) == LOCO_EINVAL, "a batch above capacity is accepted");
done:
    loco_cuda_gpt_free(d);
    loco_gpt_free(m);
    loco_gpt_free(h);
    free(grads);
    free(logits);
    free(tok);
}

/* Free-running: the device trains on its own gradients.  The parameters
 * then drift apart in the noise-driven entries (see above), but the losses,
 * which average over everything, must stay together: 1e-4 relative over 8
 * steps (measured under the emulator: see docs/cuda.md). */
LOCO_TEST(cuda_gpt_training_follows_cpu) {
    NEED_DEVICE();
    enum { STEPS = 8 };
    loco_gpt_config cfg = {.max_seq_len = ST, .vocab_size = SV, .n_layer = 2, .n_head = 4, .channels = 64};
    loco_gpt *m = NULL;
    loco_cuda_gpt *d = NULL;
    char msg[512];
    int tok[2 * SB * ST];
    if (loco_gpt_create(&m, &cfg, SB, ST, 42, msg, sizeof msg) != LOCO_OK ||
        loco_cuda_gpt_create(&d, m, SB, ST, msg, sizeof msg) != LOCO_OK) {
        FAIL("set-up: %s", msg);
        goto done;
    }
    loco_adamw_config oc;
    step_config(&oc);
    oc.max_steps = STEPS;
    loco_rng r;
    loco_rng_seed(&r, 10);
    double worst = 0;
    for (int step = 0; step < STEPS; step++) {
        batch(&r, tok, tok + SB * ST, SB * ST);
        float nc, ng;
        loco_gpt_forward(m, tok, tok + SB * ST, SB, ST);
        float lc = loco_gpt_loss(m);
        loco_gpt_zero_grad(m);
        loco_gpt_backward(m);
        CHECK(loco_gpt_adamw_step(m, &oc, step, &nc) == LOCO_OK, "CPU step");
        int e = loco_cuda_gpt_forward(d, tok, tok + SB * ST, SB, ST);
        float lg = loco_cuda_gpt_loss(d);
        if (e == LOCO_OK) e = loco_cuda_gpt_zero_grad(d);
        if (e == LOCO_OK) e = loco_cuda_gpt_backward(d);
        if (e == LOCO_OK) e = loco_cuda_gpt_adamw_step(d, &oc, step, &ng);
        if (e != LOCO_OK) {
            FAIL("device step %d: %s", step, loco_cuda_gpt_error(d));
            goto done;
        }
        double rel = fabs((double)lg - lc) / fabs((double)lc);
        worst = rel > worst ? rel : worst;
        CHECK(rel <= 1e-4, "step %d: loss %.7f on the device, %.7f on the CPU", step, lg, lc);
    }
    printf("  8 free-running steps: worst loss rel diff %.2e (tol 1e-04)\n", worst);
done:
    loco_cuda_gpt_free(d);
    loco_gpt_free(m);
}

LOCO_TEST(cuda_gpt_allocates_nothing_and_repeats) {
    NEED_DEVICE();
    loco_gpt_config cfg = {.max_seq_len = ST, .vocab_size = SV, .n_layer = 2, .n_head = 4, .channels = 64};
    loco_gpt *m = NULL, *h1 = NULL, *h2 = NULL;
    loco_cuda_gpt *d1 = NULL, *d2 = NULL;
    char msg[512];
    int tok[2 * SB * ST];
    if (loco_gpt_create(&m, &cfg, SB, ST, 42, msg, sizeof msg) != LOCO_OK ||
        loco_gpt_create(&h1, &cfg, SB, ST, 1, msg, sizeof msg) != LOCO_OK ||
        loco_gpt_create(&h2, &cfg, SB, ST, 2, msg, sizeof msg) != LOCO_OK ||
        loco_cuda_gpt_create(&d1, m, SB, ST, msg, sizeof msg) != LOCO_OK ||
        loco_cuda_gpt_create(&d2, m, SB, ST, msg, sizeof msg) != LOCO_OK) {
        FAIL("set-up: %s", msg);
        goto done;
    }
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, 6);
    for (int k = 0; k < 2; k++) {
        loco_cuda_gpt *d = k ? d2 : d1;
        loco_rng r;
        loco_rng_seed(&r, 9);
        size_t free0 = 0, free1 = 0;
        long allocs = 0;
        for (int step = 0; step < 6; step++) {
            for (int i = 0; i < 2 * SB * ST; i++) tok[i] = (int)(loco_rng_u64(&r) % SV);
            if (step == 1) {   /* step 0 may warm up cuBLAS; count from step 1 */
                DEV_OK(loco__cuda_test_mem_free(&free0));
                allocs = loco_test_allocs;
            }
            float loss, norm;
            int e = loco_cuda_gpt_forward(d, tok, tok + SB * ST, SB, ST);
            loss = loco_cuda_gpt_loss(d);
            if (e == LOCO_OK) e = loco_cuda_gpt_zero_grad(d);
            if (e == LOCO_OK) e = loco_cuda_gpt_backward(d);
            if (e == LOCO_OK) e = loco_cuda_gpt_adamw_step(d, &oc, step, &norm);
            if (e != LOCO_OK || !isfinite(loss)) {
                FAIL("device step %d: %s", step, loco_cuda_gpt_error(d));
                goto done;
            }
        }
        allocs = loco_test_allocs - allocs;
        DEV_OK(loco__cuda_test_mem_free(&free1));
        printf("  model %d: %ld host allocations, device free memory %+lld bytes over 5 steps\n", k + 1, allocs,
               (long long)free1 - (long long)free0);
        CHECK(allocs == 0, "training steps made %ld host allocations", allocs);
        CHECK(free1 == free0, "device free memory changed by %lld bytes", (long long)free1 - (long long)free0);
    }
    if (loco_cuda_gpt_to_host(d1, h1) != LOCO_OK || loco_cuda_gpt_to_host(d2, h2) != LOCO_OK) {
        FAIL("to_host: %s / %s", loco_cuda_gpt_error(d1), loco_cuda_gpt_error(d2));
        goto done;
    }
    const size_t np = loco_gpt_num_params(m);
    CHECK(memcmp(h1->params, h2->params, np * sizeof(float)) == 0 &&
              memcmp(h1->opt_state, h2->opt_state, 2 * np * sizeof(float)) == 0,
          "two device runs of the same steps differ");
done:
    loco_cuda_gpt_free(d1);
    loco_cuda_gpt_free(d2);
    loco_gpt_free(m);
    loco_gpt_free(h1);
    loco_gpt_free(h2);
}

LOCO_TEST(cuda_cli_train_resume) {
    NEED_DEVICE();
    char d[64] = "/tmp/loco_cuda_XXXXXX", cmd[1024], err[2048], a[128], b[128];
    if (!mkdtemp(d)) { FAIL("mkdtemp"); return; }
    snprintf(cmd, sizeof cmd, "train " TINY " --device cuda --seed 7 --steps 10 --eval-every 5 --out %s/a", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "straight run: %s", err);
    snprintf(cmd, sizeof cmd, "train " TINY " --device cuda --seed 7 --steps 10 --stop-after 5 --out %s/b", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "first half: %s", err);
    snprintf(a, sizeof a, "%s/a/model.safetensors", d);
    snprintf(b, sizeof b, "%s/b/model.safetensors", d);
    snprintf(cmd, sizeof cmd, "cp %s %s/b5.safetensors", b, d);
    CHECK(system(cmd) == 0, "copy the step-5 checkpoint");
    snprintf(cmd, sizeof cmd, "train " TINY " --device cuda --resume %s --out %s/b", b, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "resumed run: %s", err);
    /* The device is deterministic and the checkpoint holds all of its state. */
    CHECK(loco_test_same_file(a, b), "10 device steps straight differ from 5 + resume + 5");
    /* A device checkpoint is an ordinary checkpoint: the CPU continues it. */
    snprintf(cmd, sizeof cmd, "train " TINY " --resume %s/b5.safetensors --out %s/c", d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "CPU resume of a device checkpoint: %s", err);
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    CHECK(system(cmd) == 0, "cleanup");
}

/* ------------------------------------------------------------ distributed workers on the device */

/* The simulators with their workers on the device against the same
 * simulators on the CPU.  Each side trains on its own gradients, so the
 * comparison is the free-running one (docs/cuda.md): the losses, not the
 * parameters, whose rounding-noise entries drift apart under Adam. */
#define DIST_LOSS_TOL 1e-4

enum { DN_DOCS = 24, DDOC_LEN = 90, DV = 50 };
static uint16_t dist_toks[DN_DOCS * DDOC_LEN];
static uint64_t dist_offs[DN_DOCS + 1];
static const loco_gpt_config dist_tiny = {.max_seq_len = 16, .vocab_size = DV, .n_layer = 2, .n_head = 2,
                                          .channels = 32};

/* K i.i.d. shards of a noisy counting pattern (tests/test_sim.c's kind). */
static loco_split *dist_split(int K) {
    loco_rng r;
    loco_rng_seed(&r, 3);
    for (int i = 0; i < DN_DOCS * DDOC_LEN; i++)
        dist_toks[i] = (uint16_t)((i % 7 + (loco_rng_u64(&r) % 4 == 0 ? loco_rng_u64(&r) % DV : 0)) % DV);
    for (int d = 0; d <= DN_DOCS; d++) dist_offs[d] = (uint64_t)d * DDOC_LEN;
    loco_docs docs = {dist_toks, 2, dist_offs, DN_DOCS};
    int assign[DN_DOCS];
    loco_split *s = NULL;
    if (loco_split_iid(DN_DOCS, K, 7, assign, NULL, 0) || loco_split_create(&s, &docs, assign, K, NULL, 0))
        return NULL;
    return s;
}

/* The CPU loss of parameters p on a fixed batch: how far apart two runs'
 * final models are, in the one unit that does not amplify rounding noise. */
static float dist_eval(const float *p) {
    loco_gpt *m = NULL;
    float loss = NAN;
    int tok[2 * 16], tgt[2 * 16];
    for (int i = 0; i < 2 * 16; i++) {
        tok[i] = dist_toks[i];
        tgt[i] = dist_toks[i + 1];
    }
    if (loco_gpt_create(&m, &dist_tiny, 2, 16, 1, NULL, 0) != LOCO_OK) return NAN;
    memcpy(loco_gpt_params(m), p, loco_gpt_num_params(m) * sizeof(float));
    loco_gpt_forward(m, tok, tgt, 2, 16);
    loss = loco_gpt_loss(m);
    loco_gpt_free(m);
    return loss;
}

static void cmp_loss(int *loco_test_failed_, const char *what, int i, float gpu, float cpu) {
    double e = fabs((double)gpu - cpu) / fabs((double)cpu);
    printf("  %s %d: loss %.6f on the device, %.6f on the CPU, rel err %.2e (tol %.0e)\n", what, i, gpu, cpu, e,
           DIST_LOSS_TOL);
    CHECK(e <= DIST_LOSS_TOL, "%s %d: device loss %.7f vs CPU %.7f", what, i, gpu, cpu);
}

LOCO_TEST(cuda_sim_diloco_matches_cpu) {
    NEED_DEVICE();
    loco_split *split = dist_split(2);
    loco_sim *s[2] = {NULL, NULL};
    float loss[2][3], final[2];
    long allocs = -1;
    char msg[512];
    CHECK(split != NULL, "split");
    for (int k = 0; k < 2 && split; k++) {   /* k = 0: CPU, 1: device */
        loco_sim_config sc;
        loco_sim_config_default(&sc);
        sc.workers = 2;
        sc.inner_steps = 4;
        sc.steps = 12;
        sc.batch = 2;
        sc.seq_len = 16;
        loco_adamw_config_default(&sc.inner, 12);
        sc.inner.lr = 3e-3f;
        sc.inner.warmup_steps = 2;
        sc.seed = 42;
        sc.cuda = k;
        if (loco_sim_create(&s[k], &sc, &dist_tiny, NULL, split, msg, sizeof msg) != LOCO_OK) {
            FAIL("create (%s): %s", k ? "device" : "CPU", msg);
            goto done;
        }
        for (int r = 0; r < 3; r++) {
            long a0 = loco_test_allocs;
            if (loco_sim_round(s[k], msg, sizeof msg) != LOCO_OK) {
                FAIL("round %d (%s): %s", r, k ? "device" : "CPU", msg);
                goto done;
            }
            if (k && r == 2) allocs = loco_test_allocs - a0;
            loss[k][r] = loco_sim_get_stats(s[k])->train_loss;
        }
        final[k] = dist_eval(loco_gpt_params(loco_sim_model(s[k])));
    }
    for (int r = 0; r < 3; r++) cmp_loss(loco_test_failed_, "round", r, loss[1][r], loss[0][r]);
    cmp_loss(loco_test_failed_, "final theta", 0, final[1], final[0]);
    printf("  host allocations in a device round: %ld\n", allocs);
    CHECK(allocs == 0, "a device round made %ld host allocations", allocs);
done:
    loco_sim_free(s[0]);
    loco_sim_free(s[1]);
    loco_split_free(split);
}

LOCO_TEST(cuda_async_sim_matches_cpu) {
    NEED_DEVICE();
    loco_split *split = dist_split(2);
    loco_async_sim *s[2] = {NULL, NULL};
    float loss[2][6], final[2];
    char msg[512];
    CHECK(split != NULL, "split");
    for (int k = 0; k < 2 && split; k++) {
        loco_async_sim_config c;
        loco_async_sim_config_default(&c);
        c.workers = 2;
        c.inner_steps = 3;
        c.pushes = 6;
        c.batch = 2;
        c.seq_len = 16;
        loco_adamw_config_default(&c.inner, 9);
        c.inner.lr = 3e-3f;
        loco_async_config_default(&c.rule, 2);
        c.step_seconds[1] = 1.7;   /* unequal speeds: stale pushes, the DN rule's buffer */
        c.latency = 0.01;
        c.seed = 42;
        c.cuda = k;
        if (loco_async_sim_create(&s[k], &c, &dist_tiny, NULL, split, msg, sizeof msg) != LOCO_OK) {
            FAIL("create (%s): %s", k ? "device" : "CPU", msg);
            goto done;
        }
        for (int i = 0; i < 6; i++) {
            if (loco_async_sim_next(s[k], msg, sizeof msg) != LOCO_OK) {
                FAIL("push %d (%s): %s", i, k ? "device" : "CPU", msg);
                goto done;
            }
            loss[k][i] = loco_async_sim_get_stats(s[k])->last_loss;
        }
        final[k] = dist_eval(loco_gpt_params(loco_async_sim_model(s[k])));
    }
    for (int i = 0; i < 6; i++) cmp_loss(loco_test_failed_, "push", i, loss[1][i], loss[0][i]);
    cmp_loss(loco_test_failed_, "final theta", 0, final[1], final[0]);
done:
    loco_async_sim_free(s[0]);
    loco_async_sim_free(s[1]);
    loco_split_free(split);
}

LOCO_TEST(cuda_dipaco_sim_matches_cpu) {
    NEED_DEVICE();
    loco_split *split = dist_split(2);
    char msg[512];
    CHECK(split != NULL, "split");
    /* reset_inner 0 keeps each path's AdamW state on the device from round
     * to round; 1 resets it there at every task. */
    for (int reset = 0; reset < 2 && split; reset++) {
        loco_dipaco_sim *s[2] = {NULL, NULL};
        float loss[2][3], final[2];
        for (int k = 0; k < 2; k++) {
            loco_dipaco_sim_config c;
            memset(&c, 0, sizeof c);
            loco_dipaco_parse("2x2", &c.d, NULL, 0);
            c.inner_steps = 3;
            c.steps = 9;
            c.batch = 2;
            c.seq_len = 16;
            loco_adamw_config_default(&c.inner, 9);
            c.inner.lr = 3e-3f;
            c.inner.warmup_steps = 2;
            loco_outer_config_default(&c.outer);
            c.reset_inner = reset;
            c.seed = 42;
            c.cuda = k;
            if (loco_dipaco_sim_create(&s[k], &c, &dist_tiny, NULL, split, msg, sizeof msg) != LOCO_OK) {
                FAIL("create (%s): %s", k ? "device" : "CPU", msg);
                break;
            }
            for (int r = 0; r < 3; r++) {
                if (loco_dipaco_sim_round(s[k], msg, sizeof msg) != LOCO_OK) {
                    FAIL("round %d (%s): %s", r, k ? "device" : "CPU", msg);
                    break;
                }
                loss[k][r] = loco_dipaco_sim_get_stats(s[k])->train_loss;
            }
            final[k] = dist_eval(loco_gpt_params(loco_dipaco_sim_path(s[k], 1)));
        }
        if (!*loco_test_failed_) {
            printf("  reset_inner %d\n", reset);
            for (int r = 0; r < 3; r++) cmp_loss(loco_test_failed_, "round", r, loss[1][r], loss[0][r]);
            cmp_loss(loco_test_failed_, "final path 1", 0, final[1], final[0]);
        }
        loco_dipaco_sim_free(s[0]);
        loco_dipaco_sim_free(s[1]);
    }
    loco_split_free(split);
}

/* The new --device paths of the simulators and of the networked worker,
 * where there is no device: one line and exit 2 (built without CUDA) or 1
 * (no device), before anything is loaded; with a device, DDP alone is
 * refused with one line (exit 2) and the others train. */
LOCO_TEST(cuda_cli_dist_device) {
    char err[2048], why[512];
    const int e = loco_cuda_available(why, sizeof why);
    const char *algos[] = {"diloco --workers 2 --inner-steps 1", "async --workers 2 --inner-steps 1",
                           "dipaco --modules 2x2 --inner-steps 1", "ddp --workers 2"};
    for (int i = 0; i < 4; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "train " TINY " --steps 2 --device cuda --algo %s", algos[i]);
        int st = loco_test_run(cmd, err, sizeof err);
        printf("  --algo %s: exit %d: %s", algos[i], st, err[0] ? err : "(trained)\n");
        if (e == LOCO_ENOTSUP)
            CHECK(st == 2 && one_line(err) && strstr(err, "loco was built without CUDA (build with make CUDA=1)"),
                  "--algo %s --device cuda without CUDA: exit %d, stderr '%s'", algos[i], st, err);
        else if (e == LOCO_EDEVICE)
            CHECK(st == 1 && one_line(err) && strstr(err, "no CUDA device"),
                  "--algo %s --device cuda without a device: exit %d, stderr '%s'", algos[i], st, err);
        else if (i == 3)
            CHECK(st == 2 && one_line(err) && strstr(err, "ddp"), "--algo ddp --device cuda: exit %d, '%s'", st, err);
        else
            CHECK(st == 0, "--algo %s --device cuda with a device: exit %d, stderr '%s'", algos[i], st, err);
    }
    /* The worker checks --device before it reads the secret or joins. */
    const char *wk = "worker --connect ipc:///nonexistent/loco.sock --secret-file /nonexistent/secret";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --device bogus", wk);
    int st = loco_test_run(cmd, err, sizeof err);
    CHECK(st == 2 && one_line(err) && strstr(err, "--device"), "worker --device bogus: exit %d, '%s'", st, err);
    snprintf(cmd, sizeof cmd, "%s --device cuda", wk);
    st = loco_test_run(cmd, err, sizeof err);
    printf("  worker --device cuda: exit %d: %s", st, err);
    if (e == LOCO_ENOTSUP)
        CHECK(st == 2 && one_line(err) && strstr(err, "loco worker: --device cuda: loco was built without CUDA"),
              "worker --device cuda without CUDA: exit %d, stderr '%s'", st, err);
    else if (e == LOCO_EDEVICE)
        CHECK(st == 1 && one_line(err) && strstr(err, "no CUDA device"),
              "worker --device cuda without a device: exit %d, stderr '%s'", st, err);
    else   /* past the device: the missing secret is next */
        CHECK(st == 1 && one_line(err) && strstr(err, "secret"), "worker --device cuda: exit %d, '%s'", st, err);
}
