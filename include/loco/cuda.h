/*
 * loco's CUDA backend: the GPT core of loco.h (forward, backward, AdamW with
 * global-norm clipping and the warm-up + cosine schedule) on one NVIDIA GPU,
 * in fp32 with fp32 master weights.  The CPU model is its reference: the
 * device model has the same parameter layout, the same activations, the same
 * formulas (tanh GELU, LayerNorm eps 1e-5, causal attention scaled by
 * 1/sqrt(head size), mean cross-entropy over the tied LM head, AdamW as
 * loco_adamw_update computes it, weight decay on matrices only), and
 * tests/test_cuda.c checks every kernel and a full training step against the
 * CPU within stated tolerances.  See docs/cuda.md.
 *
 * A device model is made from a host model (loco_gpt_create or a checkpoint):
 * its configuration, parameters, gradients, AdamW moments and update count
 * are copied to the device, where parameters,
 * gradients, optimizer state and activations are each ONE allocation, made
 * at creation; forward, backward and the optimizer step allocate nothing.
 * loco_cuda_gpt_to_host copies the parameters and the optimizer state back, so
 * that checkpoints, evaluation and sampling go through the host model as
 * before.
 *
 * Matrix products run in cuBLAS in plain fp32 (no TF32 unless
 * loco_cuda_gpt_set_tf32 asks for it); everything else is loco's own kernels.
 * Every reduction runs in an order fixed by the shapes, and nothing uses
 * atomics, so a run repeats bit for bit on the same GPU and CUDA version.
 *
 * In a build without CUDA (plain `make`) every function exists and returns
 * LOCO_ENOTSUP with the reason "loco was built without CUDA (build with make
 * CUDA=1)".  Device failures return LOCO_EDEVICE; the one-line reason is in
 * msg (create, available) or loco_cuda_gpt_error() (everything else).
 * Library code never exits the process.
 */
#ifndef LOCO_CUDA_H
#define LOCO_CUDA_H

#include <stddef.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

/* LOCO_OK if loco was built with CUDA and a usable device exists; msg then
 * names it ("NVIDIA H200, compute capability 9.0, 139.8 GiB").  Otherwise
 * LOCO_ENOTSUP ("loco was built without CUDA (build with make CUDA=1)") or
 * LOCO_EDEVICE ("no CUDA device: <cudaGetErrorString>"), with that one-line
 * reason in msg (if msg is not NULL). */
int loco_cuda_available(char *msg, size_t msglen);

typedef struct loco_cuda_gpt loco_cuda_gpt;

/* Creates a device copy of host (configuration, parameters, gradients, AdamW
 * moments and update count) for micro-batches of up to B sequences of length
 * T <= max_seq_len.  The capacity is the device's own: the host model's may
 * be as small as (1, 1), since it only holds the parameters.  The host model
 * is not changed and not kept.  Returns LOCO_ENOTSUP / LOCO_EDEVICE as
 * loco_cuda_available does, LOCO_ECONFIG for a bad B or T, LOCO_ENOMEM if
 * the device memory is not enough (reason in msg). */
int loco_cuda_gpt_create(loco_cuda_gpt **out, const loco_gpt *host, int B, int T, char *msg, size_t msglen);
void loco_cuda_gpt_free(loco_cuda_gpt *d);

/* As loco_gpt_forward: tokens and targets (B, T_used) are host arrays;
 * LOCO_EINVAL for out-of-range sizes or tokens, changing nothing.  With
 * targets the mean loss is summed on the host from the device's per-position
 * losses, in the CPU's order, and returned by loco_cuda_gpt_loss(). */
int loco_cuda_gpt_forward(loco_cuda_gpt *d, const int *tokens, const int *targets, int B, int T_used);
float loco_cuda_gpt_loss(const loco_cuda_gpt *d);
/* As loco_gpt_zero_grad and loco_gpt_backward (LOCO_EINVAL if the last
 * forward had no targets; gradients accumulate). */
int loco_cuda_gpt_zero_grad(loco_cuda_gpt *d);
int loco_cuda_gpt_backward(loco_cuda_gpt *d);
/* As loco_gpt_adamw_step, with the same config: global-norm clipping (the
 * norm is computed on the device in double and returned in *norm_out), the
 * scheduled learning rate, AdamW on the device.  LOCO_ENONFINITE if the norm
 * is not finite (parameters are then left unchanged). */
int loco_cuda_gpt_adamw_step(loco_cuda_gpt *d, const loco_adamw_config *cfg, int step, float *norm_out);

/* Copies the parameters, the AdamW moments and update count to (from) a host
 * model of the same configuration (LOCO_EINVAL otherwise).  Gradients and
 * activations stay where they are. */
int loco_cuda_gpt_to_host(loco_cuda_gpt *d, loco_gpt *host);
int loco_cuda_gpt_from_host(loco_cuda_gpt *d, const loco_gpt *host);
/* Copies the parameters alone, leaving the AdamW state where it is: what a
 * distributed worker moves at its task boundaries (src/train/worker.c), since
 * its moments stay on the device from one task to the next. */
int loco_cuda_gpt_params_to_host(loco_cuda_gpt *d, loco_gpt *host);
int loco_cuda_gpt_params_from_host(loco_cuda_gpt *d, const loco_gpt *host);
/* As loco_gpt_adamw_reset: the AdamW moments to zero, the update count to 0. */
int loco_cuda_gpt_adamw_reset(loco_cuda_gpt *d);
/* Copies the gradient block (num_params floats) or the logits of the last
 * forward ((B, T_used, V) floats; their gradient after backward) to dst. */
int loco_cuda_gpt_copy_grads(loco_cuda_gpt *d, float *dst);
int loco_cuda_gpt_copy_logits(loco_cuda_gpt *d, float *dst);

/* Bytes of device memory held (parameters, gradients, AdamW state,
 * activations and scratch); 0 without CUDA. */
size_t loco_cuda_gpt_memory_bytes(const loco_cuda_gpt *d);
/* on = 1 lets cuBLAS use TF32 tensor cores for the matrix products (faster,
 * about 1e-3 relative error instead of fp32's 1e-7; off by default). */
void loco_cuda_gpt_set_tf32(loco_cuda_gpt *d, int on);
/* The one-line reason for the last LOCO_EDEVICE (or other failure) of d;
 * never NULL. */
const char *loco_cuda_gpt_error(const loco_cuda_gpt *d);

#ifdef __cplusplus
}
#endif
#endif
