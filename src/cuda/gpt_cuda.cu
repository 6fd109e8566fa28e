/*
 * The GPT on the device: the same model as src/nn/gpt.c, step for step.
 *
 *   x0 = wte[tokens] + wpe[0..T)
 *   x' = x + attproj(attention(qkv(ln1(x))))
 *   x'' = x' + fcproj(gelu(fc(ln2(x'))))
 *   logits = lnf(x_L) @ wte^T,  loss = mean cross-entropy
 *
 * Parameters, gradients and AdamW moments use the host model's layout (the
 * offsets are copied from it), so whole blocks move between host and device
 * with one copy each.  The activations mirror the CPU's (one block, per-layer
 * tensors at the stride of the capacity B*T so that any smaller batch fits),
 * plus the device's scratch: head-major copies for the batched attention
 * products, column-sum and norm partials, the token groups of the embedding
 * backward, and cuBLAS's workspace.  Four cudaMalloc calls in all, at
 * creation; forward, backward and the optimizer step allocate nothing.
 *
 * Each public call ends with a synchronisation of the stream, so that a
 * fault in any kernel is reported by the call that launched it.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cuda/check.h"
#include "cuda/kernels.cuh"
#include "loco/cuda.h"
extern "C" {
#include "nn/gpt_internal.h"
}

/* cuBLAS's workspace: 32 MiB, what NVIDIA recommends for Hopper. */
#define LOCO__CUDA_WS_BYTES ((size_t)32 << 20)

/* The CPU model's activations (the same tensors, laid out by
 * loco__gpt_layout_acts), then the device's own scratch. */
typedef struct {
    loco__gpt_acts c;
    /* Device scratch, reused by every layer. */
    float *qkvr;       // (3, B, NH, T, hs) q, k, v head-major
    float *yr;         // (B, NH, T, hs) attention output (forward) / its gradient (backward), head-major
    float *dqkvr;      // (3, B, NH, T, hs) dq, dk, dv head-major
    float *partial;    // (R, 4C) column-sum partials, R = loco__colsum_chunks(B T)
    double *norm_part; // (LOCO__NORM_BLOCKS + 1) gradient-norm partials and total
    int *order;        // (B T) positions grouped by token (embedding backward)
    int *seg;          // (B T + 1) start of each token's group in order
    void *workspace;   // (LOCO__CUDA_WS_BYTES) cuBLAS
} loco__cuda_acts;

struct loco_cuda_gpt {
    loco_gpt_config cfg;
    int B, T;                        /* capacity, from the host model */
    int cur_B, cur_T;                /* sizes of the last forward */
    int have_targets;                /* the last forward computed a loss */
    int n_groups;                    /* distinct tokens of the last forward with targets */
    float loss;
    size_t num_params;
    size_t offsets[LOCO_NUM_PARAM_TENSORS];
    size_t sizes[LOCO_NUM_PARAM_TENSORS];
    long adam_t;                     /* AdamW updates taken so far */
    float *params;                   /* device (num_params) */
    float *grads;                    /* device (num_params) */
    float *opt;                      /* device (2 num_params): AdamW m then v */
    float *act;                      /* device, every activation and scratch */
    size_t act_floats;
    loco__cuda_acts a;
    loco__cuda_ctx ctx;
    /* Host scratch, one block: the per-position losses (B T) summed here in
     * the CPU's order, and the token grouping: count (V), order (B T), seg
     * (B T + 1). */
    void *host;
    float *h_losses;
    int *h_count, *h_order, *h_seg;
    char err[320];
};

/* Lays out the device activations in one block; with base NULL it only
 * counts.  Every tensor starts at a multiple of 256 bytes (cuBLAS's
 * workspace needs it, the doubles need 8, and loads like it). */
static size_t layout_acts(loco_cuda_gpt *d, float *base) {
    const size_t B = d->B, T = d->T, C = d->cfg.channels, BT = B * T;
    const size_t R = (size_t)loco__colsum_chunks((int)BT);
    loco__cuda_acts *a = &d->a;
    /* 64 floats: 256 bytes. */
    size_t off = loco__gpt_layout_acts(&a->c, &d->cfg, B, T, 64, base);
#define TAKE(ptr, type, n)                                                       \
    do {                                                                         \
        size_t k_ = ((size_t)(n) * sizeof(type) + 255) / 256 * 64;              \
        if (base) (ptr) = (type *)(void *)(base + off);                          \
        off += k_;                                                               \
    } while (0)
    TAKE(a->qkvr, float, 3 * BT * C);
    TAKE(a->yr, float, BT * C);
    TAKE(a->dqkvr, float, 3 * BT * C);
    TAKE(a->partial, float, R * 4 * C);
    TAKE(a->norm_part, double, LOCO__NORM_BLOCKS + 1);
    TAKE(a->order, int, BT);
    TAKE(a->seg, int, BT + 1);
    TAKE(a->workspace, char, LOCO__CUDA_WS_BYTES);
#undef TAKE
    return off;
}

/* Pointer to tensor i of layer l within a device block laid out like the
 * parameters (loco__gpt_tensor's rule). */
static float *tensor(const loco_cuda_gpt *d, float *block, int i, int l) {
    const int stacked = i >= LOCO_P_LN1W && i <= LOCO_P_FCPROJB;
    return block + d->offsets[i] + (size_t)l * (d->sizes[i] / (stacked ? d->cfg.n_layer : 1));
}

static int fail(loco_cuda_gpt *d, int code, const char *what) {
    snprintf(d->err, sizeof d->err, "%s", what);
    return code;
}

/* The last step of every public call: wait for the stream, so that a fault
 * inside any kernel it launched is reported here. */
static int sync_stream(loco_cuda_gpt *d, const char *what) {
    LOCO__TRY(loco__cuda_check_launch(&d->ctx, what));
    LOCO__CUDA(&d->ctx, what, cudaStreamSynchronize(d->ctx.stream));
    return LOCO_OK;
}

extern "C" void loco_cuda_gpt_free(loco_cuda_gpt *d) {
    if (!d) return;
    loco__cuda_ctx_destroy(&d->ctx);
    cudaFree(d->params);
    cudaFree(d->grads);
    cudaFree(d->opt);
    cudaFree(d->act);
    free(d->host);
    free(d);
}

extern "C" int loco_cuda_gpt_create(loco_cuda_gpt **out, const loco_gpt *m, int B, int T, char *msg,
                                    size_t msglen) {
    *out = NULL;
    int e = loco_cuda_available(msg, msglen);
    if (e != LOCO_OK) return e;
    if (!m) {
        if (msg && msglen) snprintf(msg, msglen, "no host model to copy to the device");
        return LOCO_EINVAL;
    }
    if (B <= 0 || T <= 0 || T > m->cfg.max_seq_len) {
        if (msg && msglen) {
            if (B <= 0) snprintf(msg, msglen, "batch size must be positive (got %d)", B);
            else snprintf(msg, msglen, "sequence length T must be in [1, max_seq_len=%d] (got %d)",
                          m->cfg.max_seq_len, T);
        }
        return LOCO_ECONFIG;
    }
    const size_t capN = (size_t)B * T;
    /* The kernels index rows and heads with int, as the CPU does, and the
     * column sums take one grid row per 128 rows (at most 65535). */
    if (capN > (size_t)LOCO__COLSUM_ROWS * 65535 || (size_t)B * m->cfg.n_head * T > INT_MAX) {
        if (msg && msglen) snprintf(msg, msglen, "micro-batch B=%d T=%d is too large for the CUDA kernels", B, T);
        return LOCO_ECONFIG;
    }
    loco_cuda_gpt *d = (loco_cuda_gpt *)calloc(1, sizeof *d);
    if (!d) return LOCO_ENOMEM;
    d->cfg = m->cfg;
    d->B = B;
    d->T = T;
    d->num_params = m->num_params;
    memcpy(d->offsets, m->offsets, sizeof d->offsets);
    memcpy(d->sizes, m->sizes, sizeof d->sizes);
    d->adam_t = m->adam_t;
    d->act_floats = layout_acts(d, NULL);
    const size_t np = d->num_params, V = (size_t)d->cfg.vocab_size;
    d->ctx.err = d->err;
    d->ctx.errlen = sizeof d->err;

    /* Host scratch first: a failure there should not cost a device allocation. */
    const size_t host_bytes = capN * sizeof(float) + (V + 2 * capN + 1) * sizeof(int);
    d->host = malloc(host_bytes);
    if (!d->host) {
        if (msg && msglen) snprintf(msg, msglen, "cannot allocate %.1f MiB of host scratch for the device model",
                                    host_bytes / 1048576.0);
        loco_cuda_gpt_free(d);
        return LOCO_ENOMEM;
    }
    d->h_losses = (float *)d->host;
    d->h_count = (int *)(d->h_losses + capN);
    d->h_order = d->h_count + V;
    d->h_seg = d->h_order + capN;

    const double mib = (4.0 * np + d->act_floats) * sizeof(float) / 1048576.0;
    cudaError_t ce = cudaMalloc((void **)&d->params, np * sizeof(float));
    if (ce == cudaSuccess) ce = cudaMalloc((void **)&d->grads, np * sizeof(float));
    if (ce == cudaSuccess) ce = cudaMalloc((void **)&d->opt, 2 * np * sizeof(float));
    if (ce == cudaSuccess) ce = cudaMalloc((void **)&d->act, d->act_floats * sizeof(float));
    if (ce != cudaSuccess) {
        if (msg && msglen)
            snprintf(msg, msglen, "cannot allocate %.1f MiB on the device for B=%d T=%d: %s", mib, d->B, d->T,
                     cudaGetErrorString(ce));
        cudaGetLastError();
        loco_cuda_gpt_free(d);
        return ce == cudaErrorMemoryAllocation ? LOCO_ENOMEM : LOCO_EDEVICE;
    }
    layout_acts(d, d->act);
    e = loco__cuda_ctx_init(&d->ctx, 0, d->a.workspace, LOCO__CUDA_WS_BYTES, d->err, sizeof d->err);
    if (e == LOCO_OK) {
        /* Everything the host model has that the device needs; the
         * activations start at zero as the CPU's do. */
        cudaStream_t s = d->ctx.stream;
        ce = cudaMemcpyAsync(d->params, m->params, np * sizeof(float), cudaMemcpyHostToDevice, s);
        if (ce == cudaSuccess) ce = cudaMemcpyAsync(d->grads, m->grads, np * sizeof(float), cudaMemcpyHostToDevice, s);
        if (ce == cudaSuccess)
            ce = cudaMemcpyAsync(d->opt, m->opt_state, 2 * np * sizeof(float), cudaMemcpyHostToDevice, s);
        if (ce == cudaSuccess) ce = cudaMemsetAsync(d->act, 0, d->act_floats * sizeof(float), s);
        if (ce == cudaSuccess) ce = cudaStreamSynchronize(s);
        if (ce != cudaSuccess) e = loco__cuda_fail_rt(&d->ctx, "copying the model to the device", ce);
    }
    if (e != LOCO_OK) {
        if (msg && msglen) snprintf(msg, msglen, "%s", d->err);
        loco_cuda_gpt_free(d);
        return e;
    }
    d->err[0] = 0;
    *out = d;
    return LOCO_OK;
}

#define P(i, l) tensor(d, d->params, (i), (l))
#define G(i, l) tensor(d, d->grads, (i), (l))

static int forward(loco_cuda_gpt *d, const int *tokens, const int *targets, int B, int T) {
    const int L = d->cfg.n_layer, C = d->cfg.channels, NH = d->cfg.n_head, V = d->cfg.vocab_size;
    const int N = B * T;
    loco__cuda_ctx *x = &d->ctx;
    loco__cuda_acts *a = &d->a;
    LOCO__CUDA(x, "copying tokens to the device",
               cudaMemcpyAsync(a->c.tokens, tokens, (size_t)N * sizeof(int), cudaMemcpyHostToDevice, x->stream));
    if (targets) {
        LOCO__CUDA(x, "copying targets to the device",
                   cudaMemcpyAsync(a->c.targets, targets, (size_t)N * sizeof(int), cudaMemcpyHostToDevice, x->stream));
        /* The embedding backward's token groups, while the tokens are here. */
        d->n_groups = loco__cuda_encoder_buckets(tokens, N, V, d->h_count, d->h_order, d->h_seg);
        LOCO__CUDA(x, "copying token groups to the device",
                   cudaMemcpyAsync(a->order, d->h_order, (size_t)N * sizeof(int), cudaMemcpyHostToDevice, x->stream));
        LOCO__CUDA(x, "copying token groups to the device",
                   cudaMemcpyAsync(a->seg, d->h_seg, (size_t)(d->n_groups + 1) * sizeof(int), cudaMemcpyHostToDevice,
                                   x->stream));
    }

    /* Layer l's tensors sit at stride (capacity B*T) so that any (B, T) fits. */
    const size_t cap = (size_t)d->B * d->T;
    LOCO__TRY(loco__cuda_encoder_forward(x, a->c.encoded, a->c.tokens, P(LOCO_P_WTE, 0), P(LOCO_P_WPE, 0), B, T, C));
    float *residual = a->c.encoded;                                    // (B, T, C)
    for (int l = 0; l < L; l++) {
        float *ln1 = a->c.ln1 + l * cap * C;                           // (B, T, C)
        float *ln1_mean = a->c.ln1_mean + l * cap;                     // (B, T)
        float *ln1_rstd = a->c.ln1_rstd + l * cap;                     // (B, T)
        float *qkv = a->c.qkv + l * cap * 3 * C;                       // (B, T, 3C)
        float *atty = a->c.atty + l * cap * C;                         // (B, T, C)
        float *att = a->c.att + l * (size_t)d->B * NH * d->T * d->T;   // (B, NH, T, T)
        float *residual2 = a->c.residual2 + l * cap * C;               // (B, T, C)
        float *ln2 = a->c.ln2 + l * cap * C;                           // (B, T, C)
        float *ln2_mean = a->c.ln2_mean + l * cap;                     // (B, T)
        float *ln2_rstd = a->c.ln2_rstd + l * cap;                     // (B, T)
        float *fch = a->c.fch + l * cap * 4 * C;                       // (B, T, 4C)
        float *fch_gelu = a->c.fch_gelu + l * cap * 4 * C;             // (B, T, 4C)
        float *residual3 = a->c.residual3 + l * cap * C;               // (B, T, C)

        LOCO__TRY(loco__cuda_layernorm_forward(x, ln1, ln1_mean, ln1_rstd, residual, P(LOCO_P_LN1W, l),
                                               P(LOCO_P_LN1B, l), N, C));
        LOCO__TRY(loco__cuda_matmul_forward(x, qkv, ln1, P(LOCO_P_QKVW, l), P(LOCO_P_QKVB, l), N, C, 3 * C));
        LOCO__TRY(loco__cuda_attention_forward(x, atty, att, qkv, a->qkvr, a->yr, B, T, C, NH));
        LOCO__TRY(loco__cuda_matmul_forward(x, a->c.proj, atty, P(LOCO_P_ATTPROJW, l), P(LOCO_P_ATTPROJB, l), N, C, C));
        LOCO__TRY(loco__cuda_residual_forward(x, residual2, residual, a->c.proj, (size_t)N * C));
        LOCO__TRY(loco__cuda_layernorm_forward(x, ln2, ln2_mean, ln2_rstd, residual2, P(LOCO_P_LN2W, l),
                                               P(LOCO_P_LN2B, l), N, C));
        LOCO__TRY(loco__cuda_matmul_forward(x, fch, ln2, P(LOCO_P_FCW, l), P(LOCO_P_FCB, l), N, C, 4 * C));
        LOCO__TRY(loco__cuda_gelu_forward(x, fch_gelu, fch, (size_t)N * 4 * C));
        LOCO__TRY(loco__cuda_matmul_forward(x, a->c.proj, fch_gelu, P(LOCO_P_FCPROJW, l), P(LOCO_P_FCPROJB, l), N,
                                            4 * C, C));
        LOCO__TRY(loco__cuda_residual_forward(x, residual3, residual2, a->c.proj, (size_t)N * C));
        residual = residual3;
    }
    LOCO__TRY(loco__cuda_layernorm_forward(x, a->c.lnf, a->c.lnf_mean, a->c.lnf_rstd, residual, P(LOCO_P_LNFW, 0),
                                           P(LOCO_P_LNFB, 0), N, C));
    LOCO__TRY(loco__cuda_matmul_forward(x, a->c.logits, a->c.lnf, P(LOCO_P_WTE, 0), NULL, N, C, V));   // (B, T, V)

    d->loss = 0;
    if (targets) {
        LOCO__TRY(loco__cuda_crossentropy_forward(x, a->c.losses, a->c.lse, a->c.logits, a->c.targets, N, V));
        LOCO__CUDA(x, "copying the losses to the host",
                   cudaMemcpyAsync(d->h_losses, a->c.losses, (size_t)N * sizeof(float), cudaMemcpyDeviceToHost,
                                   x->stream));
        LOCO__TRY(sync_stream(d, "forward"));
        double s = 0;   /* in order, in double: the CPU's sum of the same terms */
        for (int i = 0; i < N; i++) s += d->h_losses[i];
        d->loss = (float)(s / N);
        return LOCO_OK;
    }
    return sync_stream(d, "forward");
}

extern "C" int loco_cuda_gpt_forward(loco_cuda_gpt *d, const int *tokens, const int *targets, int B, int T) {
    const int V = d->cfg.vocab_size;
    if (B <= 0 || B > d->B || T <= 0 || T > d->T) return fail(d, LOCO_EINVAL, "forward: batch size out of range");
    const int N = B * T;
    for (int i = 0; i < N; i++) {
        if (tokens[i] < 0 || tokens[i] >= V) return fail(d, LOCO_EINVAL, "forward: token out of range");
        if (targets && (targets[i] < 0 || targets[i] >= V))
            return fail(d, LOCO_EINVAL, "forward: target out of range");
    }
    d->cur_B = B;
    d->cur_T = T;
    d->have_targets = 0;
    int e = forward(d, tokens, targets, B, T);
    d->have_targets = e == LOCO_OK && targets != NULL;
    return e;
}

extern "C" float loco_cuda_gpt_loss(const loco_cuda_gpt *d) { return d->loss; }

extern "C" int loco_cuda_gpt_zero_grad(loco_cuda_gpt *d) {
    LOCO__CUDA(&d->ctx, "zero_grad",
               cudaMemsetAsync(d->grads, 0, d->num_params * sizeof(float), d->ctx.stream));
    return sync_stream(d, "zero_grad");
}

static int backward(loco_cuda_gpt *d) {
    const int L = d->cfg.n_layer, C = d->cfg.channels, NH = d->cfg.n_head, V = d->cfg.vocab_size;
    const int B = d->cur_B, T = d->cur_T, N = B * T;
    const size_t cap = (size_t)d->B * d->T;
    loco__cuda_ctx *x = &d->ctx;
    loco__cuda_acts *a = &d->a;

    /* The loss is a mean over N positions, so each row's loss has weight 1/N. */
    float *dlogits = a->c.logits;                                      // (B, T, V)
    LOCO__TRY(loco__cuda_crossentropy_backward(x, dlogits, a->c.logits, a->c.lse, a->c.targets, 1.0f / N, N, V));
    float *dlnf = a->c.dbuf;                                           // (B, T, C)
    LOCO__TRY(loco__cuda_matmul_backward(x, dlnf, G(LOCO_P_WTE, 0), NULL, dlogits, a->c.lnf, P(LOCO_P_WTE, 0),
                                         a->partial, N, C, V));
    float *dres = a->c.dresidual;                                      // (B, T, C)
    LOCO__CUDA(x, "backward (clear the residual gradient)",
               cudaMemsetAsync(dres, 0, (size_t)N * C * sizeof(float), x->stream));
    const float *last = L > 0 ? a->c.residual3 + (L - 1) * cap * C : a->c.encoded;
    LOCO__TRY(loco__cuda_layernorm_backward(x, dres, G(LOCO_P_LNFW, 0), G(LOCO_P_LNFB, 0), dlnf, last,
                                            P(LOCO_P_LNFW, 0), a->c.lnf_mean, a->c.lnf_rstd, a->partial, N, C));

    for (int l = L - 1; l >= 0; l--) {
        const float *residual = l == 0 ? a->c.encoded : a->c.residual3 + (l - 1) * cap * C;   // (B, T, C)
        float *ln1 = a->c.ln1 + l * cap * C;                           // (B, T, C)
        float *ln1_mean = a->c.ln1_mean + l * cap;                     // (B, T)
        float *ln1_rstd = a->c.ln1_rstd + l * cap;                     // (B, T)
        float *qkv = a->c.qkv + l * cap * 3 * C;                       // (B, T, 3C)
        float *atty = a->c.atty + l * cap * C;                         // (B, T, C)
        float *att = a->c.att + l * (size_t)d->B * NH * d->T * d->T;   // (B, NH, T, T)
        float *residual2 = a->c.residual2 + l * cap * C;               // (B, T, C)
        float *ln2 = a->c.ln2 + l * cap * C;                           // (B, T, C)
        float *ln2_mean = a->c.ln2_mean + l * cap;                     // (B, T)
        float *ln2_rstd = a->c.ln2_rstd + l * cap;                     // (B, T)
        float *fch = a->c.fch + l * cap * 4 * C;                       // (B, T, 4C)
        float *fch_gelu = a->c.fch_gelu + l * cap * 4 * C;             // (B, T, 4C)

        /* residual3 = residual2 + fcproj: dres is both d(residual2) and d(fcproj). */
        LOCO__TRY(loco__cuda_matmul_backward(x, a->c.dfch, G(LOCO_P_FCPROJW, l), G(LOCO_P_FCPROJB, l), dres, fch_gelu,
                                             P(LOCO_P_FCPROJW, l), a->partial, N, 4 * C, C));
        LOCO__TRY(loco__cuda_gelu_backward(x, a->c.dfch, fch, a->c.dfch, (size_t)N * 4 * C));
        LOCO__TRY(loco__cuda_matmul_backward(x, a->c.dbuf, G(LOCO_P_FCW, l), G(LOCO_P_FCB, l), a->c.dfch, ln2,
                                             P(LOCO_P_FCW, l), a->partial, N, C, 4 * C));
        LOCO__TRY(loco__cuda_layernorm_backward(x, dres, G(LOCO_P_LN2W, l), G(LOCO_P_LN2B, l), a->c.dbuf, residual2,
                                                P(LOCO_P_LN2W, l), ln2_mean, ln2_rstd, a->partial, N, C));
        /* residual2 = residual + attproj: the same holds one level down. */
        LOCO__TRY(loco__cuda_matmul_backward(x, a->c.dbuf, G(LOCO_P_ATTPROJW, l), G(LOCO_P_ATTPROJB, l), dres, atty,
                                             P(LOCO_P_ATTPROJW, l), a->partial, N, C, C));
        LOCO__TRY(loco__cuda_attention_backward(x, a->c.dqkv, a->c.datt, a->c.dbuf, qkv, att, a->qkvr, a->yr, a->dqkvr,
                                                B, T, C, NH));
        LOCO__TRY(loco__cuda_matmul_backward(x, a->c.dbuf, G(LOCO_P_QKVW, l), G(LOCO_P_QKVB, l), a->c.dqkv, ln1,
                                             P(LOCO_P_QKVW, l), a->partial, N, C, 3 * C));
        LOCO__TRY(loco__cuda_layernorm_backward(x, dres, G(LOCO_P_LN1W, l), G(LOCO_P_LN1B, l), a->c.dbuf, residual,
                                                P(LOCO_P_LN1W, l), ln1_mean, ln1_rstd, a->partial, N, C));
    }
    LOCO__TRY(loco__cuda_encoder_backward(x, G(LOCO_P_WTE, 0), G(LOCO_P_WPE, 0), dres, a->c.tokens, a->order, a->seg,
                                          d->n_groups, B, T, C));
    return sync_stream(d, "backward");
}

extern "C" int loco_cuda_gpt_backward(loco_cuda_gpt *d) {
    if (!d->have_targets) return fail(d, LOCO_EINVAL, "backward: the last forward had no targets");
    d->have_targets = 0;   /* the logits are about to become their gradient */
    return backward(d);
}

extern "C" int loco_cuda_gpt_adamw_step(loco_cuda_gpt *d, const loco_adamw_config *cfg, int step, float *norm_out) {
    float norm;
    LOCO__TRY(loco__cuda_grad_norm(&d->ctx, &norm, d->grads, d->num_params, d->a.norm_part));
    if (norm_out) *norm_out = norm;
    if (!isfinite(norm)) return fail(d, LOCO_ENONFINITE, "adamw_step: the gradient norm is not finite");
    /* torch.nn.utils.clip_grad_norm_: scale = min(1, max_norm / (norm + 1e-6)). */
    float gscale = 1.0f;
    if (cfg->grad_clip > 0) {
        float c = cfg->grad_clip / (norm + 1e-6f);
        gscale = c < 1.0f ? c : 1.0f;
    }
    const float lr = loco_lr_schedule(cfg, step);
    const int t = (int)++d->adam_t;
    float *mom = d->opt, *vel = d->opt + d->num_params;
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        const size_t o = d->offsets[i];
        const float wd = loco__gpt_param_is_matrix(i) ? cfg->weight_decay : 0.0f;
        LOCO__TRY(loco__cuda_adamw_update(&d->ctx, d->params + o, d->grads + o, mom + o, vel + o, d->sizes[i], lr,
                                          cfg->beta1, cfg->beta2, cfg->eps, wd, gscale, t));
    }
    return sync_stream(d, "adamw_step");
}

static int same_model(loco_cuda_gpt *d, const loco_gpt *m) {
    if (m && memcmp(&m->cfg, &d->cfg, sizeof d->cfg) == 0 && m->num_params == d->num_params) return 1;
    fail(d, LOCO_EINVAL, "the host model's configuration differs from the device model's");
    return 0;
}

extern "C" int loco_cuda_gpt_to_host(loco_cuda_gpt *d, loco_gpt *m) {
    if (!same_model(d, m)) return LOCO_EINVAL;
    const size_t np = d->num_params;
    LOCO__CUDA(&d->ctx, "copying parameters to the host",
               cudaMemcpyAsync(m->params, d->params, np * sizeof(float), cudaMemcpyDeviceToHost, d->ctx.stream));
    LOCO__CUDA(&d->ctx, "copying AdamW state to the host",
               cudaMemcpyAsync(m->opt_state, d->opt, 2 * np * sizeof(float), cudaMemcpyDeviceToHost, d->ctx.stream));
    LOCO__TRY(sync_stream(d, "copying the model to the host"));
    m->adam_t = d->adam_t;
    return LOCO_OK;
}

extern "C" int loco_cuda_gpt_from_host(loco_cuda_gpt *d, const loco_gpt *m) {
    if (!same_model(d, m)) return LOCO_EINVAL;
    const size_t np = d->num_params;
    LOCO__CUDA(&d->ctx, "copying parameters to the device",
               cudaMemcpyAsync(d->params, m->params, np * sizeof(float), cudaMemcpyHostToDevice, d->ctx.stream));
    LOCO__CUDA(&d->ctx, "copying AdamW state to the device",
               cudaMemcpyAsync(d->opt, m->opt_state, 2 * np * sizeof(float), cudaMemcpyHostToDevice, d->ctx.stream));
    LOCO__TRY(sync_stream(d, "copying the model to the device"));
    d->adam_t = m->adam_t;
    return LOCO_OK;
}

/* The parameters alone, for a worker's task boundaries: its AdamW state
 * lives on the device from task to task, so only theta has to move. */
extern "C" int loco_cuda_gpt_params_to_host(loco_cuda_gpt *d, loco_gpt *m) {
    if (!same_model(d, m)) return LOCO_EINVAL;
    LOCO__CUDA(&d->ctx, "copying parameters to the host",
               cudaMemcpyAsync(m->params, d->params, d->num_params * sizeof(float), cudaMemcpyDeviceToHost,
                               d->ctx.stream));
    return sync_stream(d, "copying parameters to the host");
}

extern "C" int loco_cuda_gpt_params_from_host(loco_cuda_gpt *d, const loco_gpt *m) {
    if (!same_model(d, m)) return LOCO_EINVAL;
    LOCO__CUDA(&d->ctx, "copying parameters to the device",
               cudaMemcpyAsync(d->params, m->params, d->num_params * sizeof(float), cudaMemcpyHostToDevice,
                               d->ctx.stream));
    return sync_stream(d, "copying parameters to the device");
}

extern "C" int loco_cuda_gpt_adamw_reset(loco_cuda_gpt *d) {
    /* All-zero bytes are +0.0f, as loco_gpt_adamw_reset's memset leaves them. */
    LOCO__CUDA(&d->ctx, "resetting AdamW state",
               cudaMemsetAsync(d->opt, 0, 2 * d->num_params * sizeof(float), d->ctx.stream));
    LOCO__TRY(sync_stream(d, "resetting AdamW state"));
    d->adam_t = 0;
    return LOCO_OK;
}

extern "C" int loco_cuda_gpt_copy_grads(loco_cuda_gpt *d, float *dst) {
    LOCO__CUDA(&d->ctx, "copying gradients to the host",
               cudaMemcpyAsync(dst, d->grads, d->num_params * sizeof(float), cudaMemcpyDeviceToHost, d->ctx.stream));
    return sync_stream(d, "copying gradients to the host");
}

extern "C" int loco__cuda_test_gpt_set_grads(loco_cuda_gpt *d, const float *g) {
    LOCO__CUDA(&d->ctx, "copying gradients to the device",
               cudaMemcpyAsync(d->grads, g, d->num_params * sizeof(float), cudaMemcpyHostToDevice, d->ctx.stream));
    return sync_stream(d, "copying gradients to the device");
}

extern "C" int loco_cuda_gpt_copy_logits(loco_cuda_gpt *d, float *dst) {
    if (d->cur_B <= 0) return fail(d, LOCO_EINVAL, "copy_logits: no forward pass yet");
    const size_t n = (size_t)d->cur_B * d->cur_T * d->cfg.vocab_size;
    LOCO__CUDA(&d->ctx, "copying logits to the host",
               cudaMemcpyAsync(dst, d->a.c.logits, n * sizeof(float), cudaMemcpyDeviceToHost, d->ctx.stream));
    return sync_stream(d, "copying logits to the host");
}

extern "C" size_t loco_cuda_gpt_memory_bytes(const loco_cuda_gpt *d) {
    return (4 * d->num_params + d->act_floats) * sizeof(float);
}

extern "C" void loco_cuda_gpt_set_tf32(loco_cuda_gpt *d, int on) {
    d->ctx.compute = on ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
}

extern "C" const char *loco_cuda_gpt_error(const loco_cuda_gpt *d) {
    return !d ? "no device model" : d->err[0] ? d->err : "no error";
}
