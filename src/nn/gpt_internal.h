/* The GPT's internal layout, shared by the model, its optimizer step and
 * (later) checkpoints.  Not part of the public API. */
#ifndef LOCO_NN_GPT_INTERNAL_H
#define LOCO_NN_GPT_INTERNAL_H

#include "loco/loco.h"

/* Activations kept by the forward pass for the backward pass.  Per-layer
 * tensors are stacked over layers; B and T are the sizes given at creation. */
typedef struct {
    float *encoded;    // (B, T, C)
    float *ln1;        // (L, B, T, C)
    float *ln1_mean;   // (L, B, T)
    float *ln1_rstd;   // (L, B, T)
    float *qkv;        // (L, B, T, 3C)
    float *atty;       // (L, B, T, C)
    float *att;        // (L, B, NH, T, T)
    float *residual2;  // (L, B, T, C)
    float *ln2;        // (L, B, T, C)
    float *ln2_mean;   // (L, B, T)
    float *ln2_rstd;   // (L, B, T)
    float *fch;        // (L, B, T, 4C)
    float *fch_gelu;   // (L, B, T, 4C)
    float *residual3;  // (L, B, T, C)
    float *lnf;        // (B, T, C)
    float *lnf_mean;   // (B, T)
    float *lnf_rstd;   // (B, T)
    float *logits;     // (B, T, V); overwritten by dlogits in backward
    float *losses;     // (B, T)
    float *lse;        // (B, T)   log-sum-exp of each row of logits
    float *proj;       // (B, T, C) scratch for attention/MLP projections
    /* Backward scratch, reused by every layer. */
    float *dresidual;  // (B, T, C) gradient of the residual stream
    float *dbuf;       // (B, T, C)
    float *dqkv;       // (B, T, 3C)
    float *dfch;       // (B, T, 4C)
    float *datt;       // (B, NH, T, T)
    int   *tokens;     // (B, T)
    int   *targets;    // (B, T)
} loco__gpt_acts;

struct loco_gpt {
    loco_gpt_config cfg;
    int B, T;                        /* capacity given at creation */
    int cur_B, cur_T;                /* sizes of the last forward */
    int have_targets;                /* the last forward computed a loss */
    float loss;
    size_t num_params;
    size_t offsets[LOCO_NUM_PARAM_TENSORS];
    size_t sizes[LOCO_NUM_PARAM_TENSORS];
    float *params;                   /* (num_params), one block */
    float *grads;                    /* (num_params), one block */
    float *opt_state;                /* (2 * num_params): AdamW m then v */
    long  adam_t;                    /* AdamW updates taken so far */
    float *act_block;                /* every activation, one block */
    size_t act_floats;
    loco__gpt_acts a;
};

/* Lays out the activations of a model of configuration cfg with capacity
 * (B, T) in one block of floats at base, each tensor starting at a multiple
 * of align floats; with base NULL it only counts.  Returns the floats the
 * block needs.  The CPU model and the CUDA one (which appends its own
 * scratch) share it, so their tensors are the same. */
size_t loco__gpt_layout_acts(loco__gpt_acts *a, const loco_gpt_config *cfg, size_t B, size_t T, size_t align,
                             float *base);

/* Pointer to parameter (or gradient) tensor i of layer l within a block laid
 * out like the parameters; for non-stacked tensors l must be 0. */
float *loco__gpt_tensor(const loco_gpt *m, float *block, int i, int l);

/* Whether tensor i is a matrix (a weight that AdamW decays) rather than a
 * vector (bias or LayerNorm gain), per layer. */
int loco__gpt_param_is_matrix(int i);

#endif
