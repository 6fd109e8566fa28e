/*
 * The CUDA API (loco/cuda.h, cuda/check.h) in a build without CUDA (plain
 * `make`): every call fails with LOCO_ENOTSUP and says how to get a CUDA
 * build, so the rest of loco links and runs unchanged.  `make CUDA=1`
 * compiles the .cu files of src/cuda instead of this file.
 */
#include <math.h>
#include <stdio.h>
#include "cuda/check.h"
#include "loco/cuda.h"

#define NOT_BUILT "loco was built without CUDA (build with make CUDA=1)"

int loco_cuda_available(char *msg, size_t msglen) {
    if (msg && msglen) snprintf(msg, msglen, "%s", NOT_BUILT);
    return LOCO_ENOTSUP;
}

int loco_cuda_gpt_create(loco_cuda_gpt **out, const loco_gpt *host, int B, int T, char *msg, size_t msglen) {
    if (out) *out = NULL;
    return loco_cuda_available(msg, msglen);
}

void loco_cuda_gpt_free(loco_cuda_gpt *d) { (void)d; }
int loco_cuda_gpt_forward(loco_cuda_gpt *d, const int *tokens, const int *targets, int B, int T_used) {
    return LOCO_ENOTSUP;
}
float loco_cuda_gpt_loss(const loco_cuda_gpt *d) { return NAN; }
int loco_cuda_gpt_zero_grad(loco_cuda_gpt *d) { return LOCO_ENOTSUP; }
int loco_cuda_gpt_backward(loco_cuda_gpt *d) { return LOCO_ENOTSUP; }
int loco_cuda_gpt_adamw_step(loco_cuda_gpt *d, const loco_adamw_config *cfg, int step, float *norm_out) {
    return LOCO_ENOTSUP;
}
int loco_cuda_gpt_to_host(loco_cuda_gpt *d, loco_gpt *host) { return LOCO_ENOTSUP; }
int loco_cuda_gpt_from_host(loco_cuda_gpt *d, const loco_gpt *host) { return LOCO_ENOTSUP; }
int loco_cuda_gpt_params_to_host(loco_cuda_gpt *d, loco_gpt *host) { return LOCO_ENOTSUP; }
int loco_cuda_gpt_params_from_host(loco_cuda_gpt *d, const loco_gpt *host) { return LOCO_ENOTSUP; }
int loco_cuda_gpt_adamw_reset(loco_cuda_gpt *d) { return LOCO_ENOTSUP; }
int loco_cuda_gpt_copy_grads(loco_cuda_gpt *d, float *dst) { return LOCO_ENOTSUP; }
int loco_cuda_gpt_copy_logits(loco_cuda_gpt *d, float *dst) { return LOCO_ENOTSUP; }
size_t loco_cuda_gpt_memory_bytes(const loco_cuda_gpt *d) { return 0; }
void loco_cuda_gpt_set_tf32(loco_cuda_gpt *d, int on) { (void)d; }
const char *loco_cuda_gpt_error(const loco_cuda_gpt *d) { return NOT_BUILT; }

/* ------------------------------------------------------------ cuda/check.h */

const char *loco__cuda_test_error(void) { return NOT_BUILT; }
int loco__cuda_test_encoder_forward(float *out, const int *inp, const float *wte, const float *wpe, int B, int T,
                                    int C, int V) { return LOCO_ENOTSUP; }
int loco__cuda_test_encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp, int B, int T,
                                     int C, int V) { return LOCO_ENOTSUP; }
int loco__cuda_test_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                                      const float *b, int N, int C) { return LOCO_ENOTSUP; }
int loco__cuda_test_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                                       const float *w, const float *mean, const float *rstd, int N, int C) {
    return LOCO_ENOTSUP;
}
int loco__cuda_test_matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N, int C,
                                   int OC) { return LOCO_ENOTSUP; }
int loco__cuda_test_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                                    const float *w, int N, int C, int OC) { return LOCO_ENOTSUP; }
int loco__cuda_test_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int NH) {
    return LOCO_ENOTSUP;
}
int loco__cuda_test_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                                       const float *att, int B, int T, int C, int NH) { return LOCO_ENOTSUP; }
int loco__cuda_test_gelu_forward(float *out, const float *inp, long n) { return LOCO_ENOTSUP; }
int loco__cuda_test_gelu_backward(float *dinp, const float *inp, const float *dout, long n) { return LOCO_ENOTSUP; }
int loco__cuda_test_residual_forward(float *out, const float *a, const float *b, long n) { return LOCO_ENOTSUP; }
int loco__cuda_test_crossentropy_forward(float *losses, float *lse, const float *logits, const int *targets, int N,
                                         int V) { return LOCO_ENOTSUP; }
int loco__cuda_test_crossentropy_backward(float *dlogits, const float *logits, const float *lse, const int *targets,
                                          float dloss, int N, int V) { return LOCO_ENOTSUP; }
int loco__cuda_test_grad_norm(float *norm, const float *g, size_t n) { return LOCO_ENOTSUP; }
int loco__cuda_test_adamw_update(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                                 float beta2, float eps, float weight_decay, float gscale, int t) {
    return LOCO_ENOTSUP;
}
int loco__cuda_test_gpt_set_grads(struct loco_cuda_gpt *d, const float *g) { return LOCO_ENOTSUP; }
int loco__cuda_test_mem_free(size_t *free_bytes) { return LOCO_ENOTSUP; }
