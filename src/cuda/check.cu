/*
 * Host-array wrappers of the device kernels for the tests (cuda/check.h).
 * Each call: check for a device, make a cuBLAS context, copy the inputs up,
 * run the launcher of kernels.cuh, copy the results down, free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cuda/check.h"
#include "cuda/kernels.cuh"
#include "loco/cuda.h"

static char last_error[320] = "no error";

const char *loco__cuda_test_error(void) { return last_error; }

/* One call's device buffers and context. */
typedef struct {
    loco__cuda_ctx ctx;
    void *buf[16];
    int n;
    int e;           /* the first failure, LOCO_OK while none */
} shim;

static int shim_begin(shim *s) {
    memset(s, 0, sizeof *s);
    s->e = loco_cuda_available(last_error, sizeof last_error);
    if (s->e == LOCO_OK) s->e = loco__cuda_ctx_init(&s->ctx, 0, NULL, 0, last_error, sizeof last_error);
    return s->e;
}

/* A device buffer of `bytes`, holding a copy of host (zeros if host is
 * NULL); NULL after a failure (which later steps then skip). */
static void *shim_in(shim *s, const void *host, size_t bytes) {
    if (s->e != LOCO_OK) return NULL;
    void *p = NULL;
    cudaError_t ce = cudaMalloc(&p, bytes ? bytes : 1);
    if (ce == cudaSuccess) {
        s->buf[s->n++] = p;
        ce = host ? cudaMemcpy(p, host, bytes, cudaMemcpyHostToDevice) : cudaMemset(p, 0, bytes);
    }
    if (ce != cudaSuccess) s->e = loco__cuda_fail_rt(&s->ctx, "test buffer", ce);
    return ce == cudaSuccess ? p : NULL;
}

static void shim_out(shim *s, void *host, const void *dev, size_t bytes) {
    if (s->e != LOCO_OK) return;
    cudaError_t ce = cudaDeviceSynchronize();
    if (ce == cudaSuccess) ce = cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost);
    if (ce != cudaSuccess) s->e = loco__cuda_fail_rt(&s->ctx, "test result", ce);
}

static int shim_end(shim *s) {
    for (int i = 0; i < s->n; i++) cudaFree(s->buf[i]);
    loco__cuda_ctx_destroy(&s->ctx);
    return s->e;
}

/* Runs one launcher unless an earlier step failed. */
#define RUN(s, call) do { if ((s).e == LOCO_OK) (s).e = (call); } while (0)

#define F(n) ((size_t)(n) * sizeof(float))
#define I(n) ((size_t)(n) * sizeof(int))

extern "C" int loco__cuda_test_encoder_forward(float *out, const int *inp, const float *wte, const float *wpe, int B,
                                               int T, int C, int V) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    const size_t N = (size_t)B * T;
    float *d_out = (float *)shim_in(&s, NULL, F(N * C));
    int *d_inp = (int *)shim_in(&s, inp, I(N));
    float *d_wte = (float *)shim_in(&s, wte, F((size_t)V * C));
    float *d_wpe = (float *)shim_in(&s, wpe, F((size_t)T * C));
    RUN(s, loco__cuda_encoder_forward(&s.ctx, d_out, d_inp, d_wte, d_wpe, B, T, C));
    shim_out(&s, out, d_out, F(N * C));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp, int B,
                                                int T, int C, int V) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    const int N = B * T;
    int *h = (int *)malloc(I((size_t)V + 2 * N + 1));
    if (!h) {
        snprintf(last_error, sizeof last_error, "out of host memory");
        s.e = LOCO_ENOMEM;
        return shim_end(&s);
    }
    int *order = h + V, *seg = order + N;
    const int U = loco__cuda_encoder_buckets(inp, N, V, h, order, seg);
    float *d_dwte = (float *)shim_in(&s, dwte, F((size_t)V * C));
    float *d_dwpe = (float *)shim_in(&s, dwpe, F((size_t)T * C));
    float *d_dout = (float *)shim_in(&s, dout, F((size_t)N * C));
    int *d_inp = (int *)shim_in(&s, inp, I(N));
    int *d_order = (int *)shim_in(&s, order, I(N));
    int *d_seg = (int *)shim_in(&s, seg, I(U + 1));
    free(h);
    RUN(s, loco__cuda_encoder_backward(&s.ctx, d_dwte, d_dwpe, d_dout, d_inp, d_order, d_seg, U, B, T, C));
    shim_out(&s, dwte, d_dwte, F((size_t)V * C));
    shim_out(&s, dwpe, d_dwpe, F((size_t)T * C));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                                                 const float *w, const float *b, int N, int C) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    const size_t NC = (size_t)N * C;
    float *d_out = (float *)shim_in(&s, NULL, F(NC));
    float *d_mean = (float *)shim_in(&s, NULL, F(N));
    float *d_rstd = (float *)shim_in(&s, NULL, F(N));
    float *d_inp = (float *)shim_in(&s, inp, F(NC));
    float *d_w = (float *)shim_in(&s, w, F(C));
    float *d_b = (float *)shim_in(&s, b, F(C));
    RUN(s, loco__cuda_layernorm_forward(&s.ctx, d_out, d_mean, d_rstd, d_inp, d_w, d_b, N, C));
    shim_out(&s, out, d_out, F(NC));
    shim_out(&s, mean, d_mean, F(N));
    shim_out(&s, rstd, d_rstd, F(N));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                                                  const float *inp, const float *w, const float *mean,
                                                  const float *rstd, int N, int C) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    const size_t NC = (size_t)N * C;
    float *d_dinp = (float *)shim_in(&s, dinp, F(NC));   /* accumulated */
    float *d_dw = (float *)shim_in(&s, dw, F(C));
    float *d_db = (float *)shim_in(&s, db, F(C));
    float *d_dout = (float *)shim_in(&s, dout, F(NC));
    float *d_inp = (float *)shim_in(&s, inp, F(NC));
    float *d_w = (float *)shim_in(&s, w, F(C));
    float *d_mean = (float *)shim_in(&s, mean, F(N));
    float *d_rstd = (float *)shim_in(&s, rstd, F(N));
    float *d_part = (float *)shim_in(&s, NULL, F(2 * (size_t)loco__colsum_chunks(N) * C));
    RUN(s, loco__cuda_layernorm_backward(&s.ctx, d_dinp, d_dw, d_db, d_dout, d_inp, d_w, d_mean, d_rstd, d_part, N,
                                         C));
    shim_out(&s, dinp, d_dinp, F(NC));
    shim_out(&s, dw, d_dw, F(C));
    shim_out(&s, db, d_db, F(C));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N,
                                              int C, int OC) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    float *d_out = (float *)shim_in(&s, NULL, F((size_t)N * OC));
    float *d_inp = (float *)shim_in(&s, inp, F((size_t)N * C));
    float *d_w = (float *)shim_in(&s, w, F((size_t)OC * C));
    float *d_bias = bias ? (float *)shim_in(&s, bias, F(OC)) : NULL;
    RUN(s, loco__cuda_matmul_forward(&s.ctx, d_out, d_inp, d_w, d_bias, N, C, OC));
    shim_out(&s, out, d_out, F((size_t)N * OC));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                                               const float *inp, const float *w, int N, int C, int OC) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    float *d_dinp = (float *)shim_in(&s, NULL, F((size_t)N * C));
    float *d_dw = (float *)shim_in(&s, dw, F((size_t)OC * C));   /* accumulated */
    float *d_dbias = dbias ? (float *)shim_in(&s, dbias, F(OC)) : NULL;
    float *d_dout = (float *)shim_in(&s, dout, F((size_t)N * OC));
    float *d_inp = (float *)shim_in(&s, inp, F((size_t)N * C));
    float *d_w = (float *)shim_in(&s, w, F((size_t)OC * C));
    float *d_part = (float *)shim_in(&s, NULL, F((size_t)loco__colsum_chunks(N) * OC));
    RUN(s, loco__cuda_matmul_backward(&s.ctx, d_dinp, d_dw, d_dbias, d_dout, d_inp, d_w, d_part, N, C, OC));
    shim_out(&s, dinp, d_dinp, F((size_t)N * C));
    shim_out(&s, dw, d_dw, F((size_t)OC * C));
    if (dbias) shim_out(&s, dbias, d_dbias, F(OC));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C,
                                                 int NH) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    const size_t BTC = (size_t)B * T * C, BHTT = (size_t)B * NH * T * T;
    float *d_out = (float *)shim_in(&s, NULL, F(BTC));
    float *d_att = (float *)shim_in(&s, NULL, F(BHTT));
    float *d_qkv = (float *)shim_in(&s, qkv, F(3 * BTC));
    float *d_qkvr = (float *)shim_in(&s, NULL, F(3 * BTC));
    float *d_yr = (float *)shim_in(&s, NULL, F(BTC));
    RUN(s, loco__cuda_attention_forward(&s.ctx, d_out, d_att, d_qkv, d_qkvr, d_yr, B, T, C, NH));
    shim_out(&s, out, d_out, F(BTC));
    shim_out(&s, att, d_att, F(BHTT));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                                                  const float *att, int B, int T, int C, int NH) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    const size_t BTC = (size_t)B * T * C, BHTT = (size_t)B * NH * T * T;
    float *d_dqkv = (float *)shim_in(&s, NULL, F(3 * BTC));
    float *d_datt = (float *)shim_in(&s, NULL, F(BHTT));
    float *d_dout = (float *)shim_in(&s, dout, F(BTC));
    float *d_qkv = (float *)shim_in(&s, qkv, F(3 * BTC));
    float *d_att = (float *)shim_in(&s, att, F(BHTT));
    float *d_qkvr = (float *)shim_in(&s, NULL, F(3 * BTC));
    float *d_dyr = (float *)shim_in(&s, NULL, F(BTC));
    float *d_dqkvr = (float *)shim_in(&s, NULL, F(3 * BTC));
    RUN(s, loco__cuda_attention_backward(&s.ctx, d_dqkv, d_datt, d_dout, d_qkv, d_att, d_qkvr, d_dyr, d_dqkvr, B, T,
                                         C, NH));
    shim_out(&s, dqkv, d_dqkv, F(3 * BTC));
    shim_out(&s, datt, d_datt, F(BHTT));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_gelu_forward(float *out, const float *inp, long n) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    float *d_out = (float *)shim_in(&s, NULL, F(n));
    float *d_inp = (float *)shim_in(&s, inp, F(n));
    RUN(s, loco__cuda_gelu_forward(&s.ctx, d_out, d_inp, (size_t)n));
    shim_out(&s, out, d_out, F(n));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_gelu_backward(float *dinp, const float *inp, const float *dout, long n) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    float *d_dinp = (float *)shim_in(&s, NULL, F(n));
    float *d_inp = (float *)shim_in(&s, inp, F(n));
    float *d_dout = (float *)shim_in(&s, dout, F(n));
    RUN(s, loco__cuda_gelu_backward(&s.ctx, d_dinp, d_inp, d_dout, (size_t)n));
    shim_out(&s, dinp, d_dinp, F(n));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_residual_forward(float *out, const float *a, const float *b, long n) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    float *d_out = (float *)shim_in(&s, NULL, F(n));
    float *d_a = (float *)shim_in(&s, a, F(n));
    float *d_b = (float *)shim_in(&s, b, F(n));
    RUN(s, loco__cuda_residual_forward(&s.ctx, d_out, d_a, d_b, (size_t)n));
    shim_out(&s, out, d_out, F(n));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_crossentropy_forward(float *losses, float *lse, const float *logits,
                                                    const int *targets, int N, int V) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    float *d_losses = (float *)shim_in(&s, NULL, F(N));
    float *d_lse = (float *)shim_in(&s, NULL, F(N));
    float *d_logits = (float *)shim_in(&s, logits, F((size_t)N * V));
    int *d_targets = (int *)shim_in(&s, targets, I(N));
    RUN(s, loco__cuda_crossentropy_forward(&s.ctx, d_losses, d_lse, d_logits, d_targets, N, V));
    shim_out(&s, losses, d_losses, F(N));
    shim_out(&s, lse, d_lse, F(N));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_crossentropy_backward(float *dlogits, const float *logits, const float *lse,
                                                     const int *targets, float dloss, int N, int V) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    /* In place, as the model runs it: dlogits overwrites the logits. */
    float *d_logits = (float *)shim_in(&s, logits, F((size_t)N * V));
    float *d_lse = (float *)shim_in(&s, lse, F(N));
    int *d_targets = (int *)shim_in(&s, targets, I(N));
    RUN(s, loco__cuda_crossentropy_backward(&s.ctx, d_logits, d_logits, d_lse, d_targets, dloss, N, V));
    shim_out(&s, dlogits, d_logits, F((size_t)N * V));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_grad_norm(float *norm, const float *g, size_t n) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    float *d_g = (float *)shim_in(&s, g, F(n));
    double *d_part = (double *)shim_in(&s, NULL, (LOCO__NORM_BLOCKS + 1) * sizeof(double));
    RUN(s, loco__cuda_grad_norm(&s.ctx, norm, d_g, n, d_part));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_adamw_update(float *p, const float *g, float *m, float *v, size_t n, float lr,
                                            float beta1, float beta2, float eps, float weight_decay, float gscale,
                                            int t) {
    shim s;
    if (shim_begin(&s) != LOCO_OK) return shim_end(&s);
    float *d_p = (float *)shim_in(&s, p, F(n));
    float *d_g = (float *)shim_in(&s, g, F(n));
    float *d_m = (float *)shim_in(&s, m, F(n));
    float *d_v = (float *)shim_in(&s, v, F(n));
    RUN(s, loco__cuda_adamw_update(&s.ctx, d_p, d_g, d_m, d_v, n, lr, beta1, beta2, eps, weight_decay, gscale, t));
    shim_out(&s, p, d_p, F(n));
    shim_out(&s, m, d_m, F(n));
    shim_out(&s, v, d_v, F(n));
    return shim_end(&s);
}

extern "C" int loco__cuda_test_mem_free(size_t *free_bytes) {
    int e = loco_cuda_available(last_error, sizeof last_error);
    if (e != LOCO_OK) return e;
    size_t total = 0;
    cudaError_t ce = cudaMemGetInfo(free_bytes, &total);
    if (ce != cudaSuccess) {
        snprintf(last_error, sizeof last_error, "cudaMemGetInfo: %s", cudaGetErrorString(ce));
        return LOCO_EDEVICE;
    }
    return LOCO_OK;
}
