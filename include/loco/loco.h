/*
 * loco: a C system for large-scale, less synchronous, more modular learning.
 *
 * This is the public API.  Every function that can fail returns a loco_err
 * (0 on success, a negative code otherwise); loco_strerror() names the code.
 * Library code never exits the process: the caller decides what a failure means.
 */
#ifndef LOCO_LOCO_H
#define LOCO_LOCO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

/* One table of error codes; see src/core/error.c for their messages. */
#define LOCO_ERRNO_MAP(X)                                                 \
    X(OK,       0,  "success")                                            \
    X(EINVAL,  -1,  "invalid argument")                                   \
    X(ENOMEM,  -2,  "out of memory")                                      \
    X(ECONFIG, -3,  "invalid model configuration")                        \
    X(EIO,     -4,  "input/output error")                                 \
    X(ERANGE,  -5,  "value out of range")                                 \
    X(ENONFINITE, -6, "non-finite value (NaN or Inf)")                    \
    X(ENOTSUP, -7,  "not supported by this build")                        \
    X(EDEVICE, -8,  "device (GPU) error")

typedef enum {
#define LOCO__ERR_ENUM(name, code, msg) LOCO_##name = code,
    LOCO_ERRNO_MAP(LOCO__ERR_ENUM)
#undef LOCO__ERR_ENUM
} loco_err;

/* Returns a static, human-readable message for an error code; never NULL. */
const char *loco_strerror(int err);

/* ---------------------------------------------------------------- threads */

/* Sets the number of threads used by OpenMP regions and by BLAS.  n <= 0
 * keeps the default (OMP_NUM_THREADS, else the number of cores).  Returns
 * the thread count now in effect. */
int loco_threads_set(int n);

/* ---------------------------------------------------------------- rng */

/* A small, explicit random number generator (xoshiro256**).  State is passed
 * by pointer so that every consumer of randomness is visible and seedable. */
typedef struct { uint64_t s[4]; } loco_rng;

void     loco_rng_seed(loco_rng *rng, uint64_t seed);
uint64_t loco_rng_u64(loco_rng *rng);
/* Uniform in [0, 1). */
float    loco_rng_uniform(loco_rng *rng);
/* Standard normal (Box-Muller on two uniforms). */
float    loco_rng_normal(loco_rng *rng);

/* ---------------------------------------------------------------- model */

#define LOCO_MAX_SEQ_LEN 65536   /* the largest T (max_seq_len) accepted */

/* A GPT-2 style decoder-only transformer. */
typedef struct {
    int max_seq_len;   /* T_max: number of learned position embeddings */
    int vocab_size;    /* V */
    int n_layer;       /* L */
    int n_head;        /* NH; channels must be divisible by it */
    int channels;      /* C */
} loco_gpt_config;

/* Number of parameter tensors and their canonical order (also the order of
 * the single parameter block): wte, wpe, then per-layer tensors stacked over
 * layers (each of shape (L, ...)), then the final LayerNorm. */
enum {
    LOCO_P_WTE,      /* (V, C)            token embedding, tied LM head */
    LOCO_P_WPE,      /* (T_max, C)        position embedding */
    LOCO_P_LN1W,     /* (L, C) */
    LOCO_P_LN1B,     /* (L, C) */
    LOCO_P_QKVW,     /* (L, 3C, C) */
    LOCO_P_QKVB,     /* (L, 3C) */
    LOCO_P_ATTPROJW, /* (L, C, C) */
    LOCO_P_ATTPROJB, /* (L, C) */
    LOCO_P_LN2W,     /* (L, C) */
    LOCO_P_LN2B,     /* (L, C) */
    LOCO_P_FCW,      /* (L, 4C, C) */
    LOCO_P_FCB,      /* (L, 4C) */
    LOCO_P_FCPROJW,  /* (L, C, 4C) */
    LOCO_P_FCPROJB,  /* (L, C) */
    LOCO_P_LNFW,     /* (C) */
    LOCO_P_LNFB,     /* (C) */
    LOCO_NUM_PARAM_TENSORS
};

typedef struct loco_gpt loco_gpt;

/* Checks a configuration; returns LOCO_OK or LOCO_ECONFIG and, if msg is not
 * NULL, writes a one-line reason naming the offending field. */
int loco_gpt_config_check(const loco_gpt_config *cfg, char *msg, size_t msglen);

/* Creates a model for micro-batches of B sequences of length T (T <= max_seq_len).
 * Parameters, gradients, optimizer state and activations are each allocated in
 * one block here, once; training steps allocate nothing.  Parameters are set
 * by the GPT-2 initialisation from `seed`.  Returns LOCO_ECONFIG on a bad
 * configuration (reason in msg), LOCO_ENOMEM if the blocks cannot be allocated. */
int loco_gpt_create(loco_gpt **out, const loco_gpt_config *cfg, int B, int T,
                    uint64_t seed, char *msg, size_t msglen);
void loco_gpt_free(loco_gpt *model);

const loco_gpt_config *loco_gpt_get_config(const loco_gpt *model);
size_t loco_gpt_num_params(const loco_gpt *model);
/* The largest micro-batch (B sequences of length T) the model was created
 * for; either pointer may be NULL. */
void loco_gpt_capacity(const loco_gpt *model, int *B, int *T);
/* The single parameter / gradient block, num_params floats each. */
float *loco_gpt_params(loco_gpt *model);
float *loco_gpt_grads(loco_gpt *model);
/* Size (in floats) and offset of parameter tensor i within the block, and its
 * shape (up to 3 dimensions; unused dimensions are 1).  Returns its ndim. */
int loco_gpt_param_info(const loco_gpt *model, int i, size_t *offset, size_t *size,
                        int shape[3]);
const char *loco_gpt_param_name(int i);

/* Forward pass over tokens (B, T) of values in [0, V).  If targets is not NULL
 * the mean cross-entropy loss is stored and returned by loco_gpt_loss().
 * T_used <= T may be shorter than the T given at creation.
 * Returns LOCO_EINVAL for out-of-range tokens or sizes. */
int loco_gpt_forward(loco_gpt *model, const int *tokens, const int *targets,
                     int B, int T_used);
float loco_gpt_loss(const loco_gpt *model);
/* The logits of the last forward pass, (B, T, V); valid until backward runs
 * (backward overwrites them with their gradient). */
const float *loco_gpt_logits(const loco_gpt *model);
/* The per-position cross-entropy losses of the last forward pass, (B, T), or
 * NULL if it had no targets.  Valid until the next forward. */
const float *loco_gpt_losses(const loco_gpt *model);
/* The final hidden states of the last forward pass (the output of the final
 * LayerNorm, the input of the LM head), (B, T, C).  Valid until the next
 * forward or backward. */
const float *loco_gpt_hidden(const loco_gpt *model);

/* Sets all parameter gradients to zero. */
void loco_gpt_zero_grad(loco_gpt *model);
/* Backward pass of the last forward (which must have had targets); gradients
 * are accumulated into the gradient block. Returns LOCO_EINVAL otherwise. */
int loco_gpt_backward(loco_gpt *model);

/* Bytes in the parameter, gradient, optimizer-state and activation blocks. */
size_t loco_gpt_memory_bytes(const loco_gpt *model);

/* ---------------------------------------------------------------- optim */

typedef struct {
    float lr;            /* peak learning rate */
    float beta1, beta2;
    float eps;
    float weight_decay;  /* decoupled; applied to 2-D weights only */
    float grad_clip;     /* max global L2 norm; <= 0 disables clipping */
    int   warmup_steps;  /* linear warm-up from lr/warmup_steps to lr */
    int   max_steps;     /* cosine decay from lr at warm-up end to min_lr at max_steps */
    float min_lr;
} loco_adamw_config;

/* Fills the nanoGPT defaults: lr 6e-4, betas (0.9, 0.95), eps 1e-8, weight
 * decay 0.1, clip 1.0, no warm-up, cosine to min_lr = lr/10 over max_steps. */
void loco_adamw_config_default(loco_adamw_config *cfg, int max_steps);

/* Learning rate at `step` (0-based) under the warm-up + cosine schedule. */
float loco_lr_schedule(const loco_adamw_config *cfg, int step);

/* Global L2 norm of n floats, reduced in a fixed order (deterministic). */
float loco_grad_norm(const float *grads, size_t n);

/* One AdamW step over n parameters, as torch.optim.AdamW computes it:
 *   p <- p * (1 - lr * wd)
 *   m <- b1 m + (1 - b1) g';  v <- b2 v + (1 - b2) g'^2,   with g' = g * gscale
 *   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * t is the 1-based step count.  A pure function over arrays: the caller owns
 * all buffers, so DiLoCo's workers and any driver can call it directly. */
void loco_adamw_update(float *p, const float *g, float *m, float *v, size_t n,
                       float lr, float beta1, float beta2, float eps,
                       float weight_decay, float gscale, int t);

/* One AdamW update of the model's parameters from its gradients, with
 * global-norm clipping and the scheduled learning rate for `step` (0-based).
 * The moment buffers live in the model's optimizer-state block.  Returns the
 * pre-clipping gradient norm in *norm_out (if not NULL); LOCO_ENONFINITE if
 * that norm is not finite (parameters are then left unchanged). */
int loco_gpt_adamw_step(loco_gpt *model, const loco_adamw_config *cfg, int step,
                        float *norm_out);

/* Zeroes the AdamW moments and the update count, as a fresh model has them
 * (the next step's bias correction starts again at t = 1). */
void loco_gpt_adamw_reset(loco_gpt *model);

#ifdef __cplusplus
}
#endif
#endif
