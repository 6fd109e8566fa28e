/*
 * Host-array entry points to the individual device kernels, for the tests
 * (tests/test_cuda.c) that compare each one with its CPU twin in
 * src/nn/layers.h.  Each call copies its inputs (and the arrays it
 * accumulates into) to freshly allocated device memory, runs the kernel,
 * copies the results back and frees everything: they allocate, unlike the
 * model's training step, and are not for training.
 *
 * Arguments, shapes and conventions are those of the CPU kernel of the same
 * name; V (for the embedding) is the number of rows of wte.  Each returns
 * LOCO_OK, LOCO_ENOTSUP in a build without CUDA, or LOCO_EDEVICE (no device,
 * or a CUDA failure); loco__cuda_test_error() then gives the reason.
 */
#ifndef LOCO_CUDA_CHECK_H
#define LOCO_CUDA_CHECK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

int loco__cuda_test_encoder_forward(float *out, const int *inp, const float *wte, const float *wpe, int B, int T,
                                    int C, int V);
int loco__cuda_test_encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp, int B, int T,
                                     int C, int V);
int loco__cuda_test_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                                      const float *b, int N, int C);
int loco__cuda_test_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                                       const float *w, const float *mean, const float *rstd, int N, int C);
int loco__cuda_test_matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N, int C,
                                   int OC);
int loco__cuda_test_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                                    const float *w, int N, int C, int OC);
int loco__cuda_test_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int NH);
int loco__cuda_test_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                                       const float *att, int B, int T, int C, int NH);
int loco__cuda_test_gelu_forward(float *out, const float *inp, long n);
int loco__cuda_test_gelu_backward(float *dinp, const float *inp, const float *dout, long n);
int loco__cuda_test_residual_forward(float *out, const float *a, const float *b, long n);
int loco__cuda_test_crossentropy_forward(float *losses, float *lse, const float *logits, const int *targets, int N,
                                         int V);
int loco__cuda_test_crossentropy_backward(float *dlogits, const float *logits, const float *lse, const int *targets,
                                          float dloss, int N, int V);
/* loco_grad_norm and loco_adamw_update on the device. */
int loco__cuda_test_grad_norm(float *norm, const float *g, size_t n);
int loco__cuda_test_adamw_update(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                                 float beta2, float eps, float weight_decay, float gscale, int t);
/* Overwrites the device model's gradient block with g (num_params floats,
 * host), so that a test can give the device and the CPU the same gradients
 * and compare their optimizer steps exactly. */
struct loco_cuda_gpt;
int loco__cuda_test_gpt_set_grads(struct loco_cuda_gpt *d, const float *g);
/* Free device memory in bytes (cudaMemGetInfo). */
int loco__cuda_test_mem_free(size_t *free_bytes);
/* The reason for the last failure of a loco__cuda_test_* call; never NULL. */
const char *loco__cuda_test_error(void);

#ifdef __cplusplus
}
#endif
#endif
