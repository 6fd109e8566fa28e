/*
 * GPT-2: token and learned position embeddings, L pre-LayerNorm blocks of
 * causal multi-head self-attention and a 4x GELU MLP with residual
 * connections, a final LayerNorm, and an LM head tied to the token embedding.
 *
 *   x0 = wte[tokens] + wpe[0..T)
 *   x' = x + attproj(attention(qkv(ln1(x))))
 *   x'' = x' + fcproj(gelu(fc(ln2(x'))))
 *   logits = lnf(x_L) @ wte^T,  loss = mean cross-entropy
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nn/gpt_internal.h"
#include "nn/layers.h"

static const char *param_names[LOCO_NUM_PARAM_TENSORS] = {
    "wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
    "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb",
};

const char *loco_gpt_param_name(int i) {
    return (i >= 0 && i < LOCO_NUM_PARAM_TENSORS) ? param_names[i] : NULL;
}

/* Per-layer shape of each tensor (rows, cols; cols = 0 for a vector) and
 * whether it is stacked over layers. */
static void param_shape(const loco_gpt_config *c, int i, long *rows, long *cols,
                        int *stacked) {
    long C = c->channels, V = c->vocab_size, Tm = c->max_seq_len;
    static const int stack[LOCO_NUM_PARAM_TENSORS] = {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    long r[LOCO_NUM_PARAM_TENSORS] = {V, Tm, C, C, 3 * C, 3 * C, C, C, C, C, 4 * C, 4 * C, C, C, C, C};
    long k[LOCO_NUM_PARAM_TENSORS] = {C, C, 0, 0, C, 0, C, 0, 0, 0, C, 0, 4 * C, 0, 0, 0};
    *rows = r[i];
    *cols = k[i];
    *stacked = stack[i];
}

int loco__gpt_param_is_matrix(int i) {
    loco_gpt_config one = {1, 1, 1, 1, 1};
    long r, k;
    int s;
    param_shape(&one, i, &r, &k, &s);
    return k != 0;
}

float *loco__gpt_tensor(const loco_gpt *m, float *block, int i, int l) {
    return block + m->offsets[i] + (size_t)l * (m->sizes[i] / (i >= LOCO_P_LN1W && i <= LOCO_P_FCPROJB ? m->cfg.n_layer : 1));
}

/* Returns LOCO_ECONFIG with a reason naming the field when the configuration
 * cannot describe a model; LOCO_OK otherwise. */
int loco_gpt_config_check(const loco_gpt_config *c, char *msg, size_t msglen) {
    char buf[160];
    buf[0] = 0;
    if (c->n_layer <= 0) snprintf(buf, sizeof buf, "n_layer must be positive (got %d)", c->n_layer);
    else if (c->n_head <= 0) snprintf(buf, sizeof buf, "n_head must be positive (got %d)", c->n_head);
    else if (c->channels <= 0) snprintf(buf, sizeof buf, "channels must be positive (got %d)", c->channels);
    else if (c->vocab_size <= 0) snprintf(buf, sizeof buf, "vocab_size must be positive (got %d)", c->vocab_size);
    else if (c->max_seq_len <= 0) snprintf(buf, sizeof buf, "max_seq_len must be positive (got %d)", c->max_seq_len);
    else if (c->max_seq_len > LOCO_MAX_SEQ_LEN)
        snprintf(buf, sizeof buf, "max_seq_len %d exceeds the maximum %d", c->max_seq_len, LOCO_MAX_SEQ_LEN);
    else if (c->channels % c->n_head != 0)
        snprintf(buf, sizeof buf, "channels (%d) must be divisible by n_head (%d)", c->channels, c->n_head);
    else if (c->channels > (1 << 20) || c->n_layer > (1 << 16) || c->vocab_size > (1 << 26))
        snprintf(buf, sizeof buf, "model too large (channels <= 2^20, n_layer <= 2^16, vocab_size <= 2^26)");
    if (!buf[0]) return LOCO_OK;
    if (msg && msglen) snprintf(msg, msglen, "%s", buf);
    return LOCO_ECONFIG;
}

/* Allocates n floats aligned to 64 bytes, or returns NULL. */
static float *alloc_floats(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) != 0) return NULL;
    return p;
}

size_t loco__gpt_layout_acts(loco__gpt_acts *a, const loco_gpt_config *cfg, size_t B, size_t T, size_t align,
                             float *base) {
    size_t L = cfg->n_layer, C = cfg->channels, NH = cfg->n_head, V = cfg->vocab_size, BT = B * T;
    size_t off = 0;
#define TAKE(ptr, n) do { if (base) (ptr) = base + off; off += ((n) + align - 1) / align * align; } while (0)
    TAKE(a->encoded, BT * C);
    TAKE(a->ln1, L * BT * C);
    TAKE(a->ln1_mean, L * BT);
    TAKE(a->ln1_rstd, L * BT);
    TAKE(a->qkv, L * BT * 3 * C);
    TAKE(a->atty, L * BT * C);
    TAKE(a->att, L * B * NH * T * T);
    TAKE(a->residual2, L * BT * C);
    TAKE(a->ln2, L * BT * C);
    TAKE(a->ln2_mean, L * BT);
    TAKE(a->ln2_rstd, L * BT);
    TAKE(a->fch, L * BT * 4 * C);
    TAKE(a->fch_gelu, L * BT * 4 * C);
    TAKE(a->residual3, L * BT * C);
    TAKE(a->lnf, BT * C);
    TAKE(a->lnf_mean, BT);
    TAKE(a->lnf_rstd, BT);
    TAKE(a->logits, BT * V);
    TAKE(a->losses, BT);
    TAKE(a->lse, BT);
    TAKE(a->proj, BT * C);
    TAKE(a->dresidual, BT * C);
    TAKE(a->dbuf, BT * C);
    TAKE(a->dqkv, BT * 3 * C);
    TAKE(a->dfch, BT * 4 * C);
    TAKE(a->datt, B * NH * T * T);
    /* ints share the float block: same size and alignment */
    float *ip = NULL;
    TAKE(ip, BT);
    if (base) a->tokens = (int *)ip;
    TAKE(ip, BT);
    if (base) a->targets = (int *)ip;
#undef TAKE
    return off;
}

/* The CPU model's block: every tensor at a multiple of 16 floats (64 bytes). */
static size_t layout_acts(loco_gpt *m, float *base) {
    return loco__gpt_layout_acts(&m->a, &m->cfg, (size_t)m->B, (size_t)m->T, 16, base);
}

/* GPT-2 initialisation: every weight matrix and embedding ~ N(0, 0.02),
 * except the two projections back into the residual stream (attproj, fcproj),
 * whose std is 0.02 / sqrt(2L) so that the residual stream's variance does not
 * grow with depth; biases 0; LayerNorm gains 1. */
static void init_params(loco_gpt *m, uint64_t seed) {
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    float resid_std = 0.02f / sqrtf(2.0f * m->cfg.n_layer);
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        float *p = m->params + m->offsets[i];
        size_t n = m->sizes[i];
        if (loco__gpt_param_is_matrix(i)) {
            float std = (i == LOCO_P_ATTPROJW || i == LOCO_P_FCPROJW) ? resid_std : 0.02f;
            for (size_t j = 0; j < n; j++) p[j] = std * loco_rng_normal(&rng);
        } else {
            float v = (i == LOCO_P_LN1W || i == LOCO_P_LN2W || i == LOCO_P_LNFW) ? 1.0f : 0.0f;
            for (size_t j = 0; j < n; j++) p[j] = v;
        }
    }
}

int loco_gpt_create(loco_gpt **out, const loco_gpt_config *cfg, int B, int T,
                    uint64_t seed, char *msg, size_t msglen) {
    *out = NULL;
    int err = loco_gpt_config_check(cfg, msg, msglen);
    if (err) return err;
    if (B <= 0 || T <= 0 || T > cfg->max_seq_len) {
        if (msg && msglen) {
            if (B <= 0) snprintf(msg, msglen, "batch size must be positive (got %d)", B);
            else snprintf(msg, msglen, "sequence length T must be in [1, max_seq_len=%d] (got %d)",
                          cfg->max_seq_len, T);
        }
        return LOCO_ECONFIG;
    }
    loco_gpt *m = calloc(1, sizeof *m);
    if (!m) return LOCO_ENOMEM;
    m->cfg = *cfg;
    m->B = B;
    m->T = T;
    size_t off = 0;
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        long r, k;
        int s;
        param_shape(cfg, i, &r, &k, &s);
        m->offsets[i] = off;
        m->sizes[i] = (size_t)r * (k ? (size_t)k : 1) * (s ? (size_t)cfg->n_layer : 1);
        off += m->sizes[i];
    }
    m->num_params = off;
    m->act_floats = layout_acts(m, NULL);
    m->params = alloc_floats(m->num_params);
    m->grads = alloc_floats(m->num_params);
    m->opt_state = alloc_floats(2 * m->num_params);
    m->act_block = alloc_floats(m->act_floats);
    if (!m->params || !m->grads || !m->opt_state || !m->act_block) {
        if (msg && msglen)
            snprintf(msg, msglen, "cannot allocate %.1f MiB for the model",
                     (4.0 * m->num_params + m->act_floats) * sizeof(float) / 1048576.0);
        loco_gpt_free(m);
        return LOCO_ENOMEM;
    }
    layout_acts(m, m->act_block);
    memset(m->grads, 0, m->num_params * sizeof(float));
    memset(m->opt_state, 0, 2 * m->num_params * sizeof(float));
    memset(m->act_block, 0, m->act_floats * sizeof(float));
    init_params(m, seed);
    *out = m;
    return LOCO_OK;
}

void loco_gpt_free(loco_gpt *m) {
    if (!m) return;
    free(m->params);
    free(m->grads);
    free(m->opt_state);
    free(m->act_block);
    free(m);
}

const loco_gpt_config *loco_gpt_get_config(const loco_gpt *m) { return &m->cfg; }
size_t loco_gpt_num_params(const loco_gpt *m) { return m->num_params; }
void loco_gpt_capacity(const loco_gpt *m, int *B, int *T) {
    if (B) *B = m->B;
    if (T) *T = m->T;
}
float *loco_gpt_params(loco_gpt *m) { return m->params; }
float *loco_gpt_grads(loco_gpt *m) { return m->grads; }
float loco_gpt_loss(const loco_gpt *m) { return m->loss; }
const float *loco_gpt_logits(const loco_gpt *m) { return m->a.logits; }
const float *loco_gpt_losses(const loco_gpt *m) { return m->have_targets ? m->a.losses : NULL; }
const float *loco_gpt_hidden(const loco_gpt *m) { return m->a.lnf; }

size_t loco_gpt_memory_bytes(const loco_gpt *m) {
    return (4 * m->num_params + m->act_floats) * sizeof(float);
}

/* Returns the number of dimensions, or 0 for an unknown tensor index. */
int loco_gpt_param_info(const loco_gpt *m, int i, size_t *offset, size_t *size, int shape[3]) {
    if (i < 0 || i >= LOCO_NUM_PARAM_TENSORS) return 0;
    long r, k;
    int s;
    param_shape(&m->cfg, i, &r, &k, &s);
    if (offset) *offset = m->offsets[i];
    if (size) *size = m->sizes[i];
    int d = 0, sh[3] = {1, 1, 1};
    if (s) sh[d++] = m->cfg.n_layer;
    sh[d++] = (int)r;
    if (k) sh[d++] = (int)k;
    if (shape) memcpy(shape, sh, sizeof sh);
    return d;
}

void loco_gpt_zero_grad(loco_gpt *m) {
    memset(m->grads, 0, m->num_params * sizeof(float));
}

#define P(i, l) loco__gpt_tensor(m, m->params, (i), (l))
#define G(i, l) loco__gpt_tensor(m, m->grads, (i), (l))

/* Returns LOCO_EINVAL, changing nothing, if a size or token is out of range. */
int loco_gpt_forward(loco_gpt *m, const int *tokens, const int *targets, int B, int T) {
    const int L = m->cfg.n_layer, C = m->cfg.channels, NH = m->cfg.n_head, V = m->cfg.vocab_size;
    if (B <= 0 || B > m->B || T <= 0 || T > m->T) return LOCO_EINVAL;
    const int N = B * T;
    for (int i = 0; i < N; i++) {
        if (tokens[i] < 0 || tokens[i] >= V) return LOCO_EINVAL;
        if (targets && (targets[i] < 0 || targets[i] >= V)) return LOCO_EINVAL;
    }
    loco__gpt_acts *a = &m->a;
    m->cur_B = B;
    m->cur_T = T;
    m->have_targets = targets != NULL;
    memcpy(a->tokens, tokens, (size_t)N * sizeof(int));
    if (targets) memcpy(a->targets, targets, (size_t)N * sizeof(int));

    /* Layer l's tensors sit at stride (capacity B*T) so that any (B, T) fits. */
    const size_t cap = (size_t)m->B * m->T;
    loco__encoder_forward(a->encoded, a->tokens, P(LOCO_P_WTE, 0), P(LOCO_P_WPE, 0), B, T, C);
    float *residual = a->encoded;                                    // (B, T, C)
    for (int l = 0; l < L; l++) {
        float *ln1 = a->ln1 + l * cap * C;                           // (B, T, C)
        float *ln1_mean = a->ln1_mean + l * cap;                     // (B, T)
        float *ln1_rstd = a->ln1_rstd + l * cap;                     // (B, T)
        float *qkv = a->qkv + l * cap * 3 * C;                       // (B, T, 3C)
        float *atty = a->atty + l * cap * C;                         // (B, T, C)
        float *att = a->att + l * (size_t)m->B * NH * m->T * m->T;   // (B, NH, T, T)
        float *residual2 = a->residual2 + l * cap * C;               // (B, T, C)
        float *ln2 = a->ln2 + l * cap * C;                           // (B, T, C)
        float *ln2_mean = a->ln2_mean + l * cap;                     // (B, T)
        float *ln2_rstd = a->ln2_rstd + l * cap;                     // (B, T)
        float *fch = a->fch + l * cap * 4 * C;                       // (B, T, 4C)
        float *fch_gelu = a->fch_gelu + l * cap * 4 * C;             // (B, T, 4C)
        float *residual3 = a->residual3 + l * cap * C;               // (B, T, C)

        loco__layernorm_forward(ln1, ln1_mean, ln1_rstd, residual, P(LOCO_P_LN1W, l), P(LOCO_P_LN1B, l), N, C);
        loco__matmul_forward(qkv, ln1, P(LOCO_P_QKVW, l), P(LOCO_P_QKVB, l), N, C, 3 * C);
        loco__attention_forward(atty, att, qkv, B, T, C, NH);
        loco__matmul_forward(a->proj, atty, P(LOCO_P_ATTPROJW, l), P(LOCO_P_ATTPROJB, l), N, C, C);
        loco__residual_forward(residual2, residual, a->proj, (long)N * C);
        loco__layernorm_forward(ln2, ln2_mean, ln2_rstd, residual2, P(LOCO_P_LN2W, l), P(LOCO_P_LN2B, l), N, C);
        loco__matmul_forward(fch, ln2, P(LOCO_P_FCW, l), P(LOCO_P_FCB, l), N, C, 4 * C);
        loco__gelu_forward(fch_gelu, fch, (long)N * 4 * C);
        loco__matmul_forward(a->proj, fch_gelu, P(LOCO_P_FCPROJW, l), P(LOCO_P_FCPROJB, l), N, 4 * C, C);
        loco__residual_forward(residual3, residual2, a->proj, (long)N * C);
        residual = residual3;
    }
    loco__layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, residual, P(LOCO_P_LNFW, 0), P(LOCO_P_LNFB, 0), N, C);
    loco__matmul_forward(a->logits, a->lnf, P(LOCO_P_WTE, 0), NULL, N, C, V);   // (B, T, V)

    m->loss = 0;
    if (targets) {
        loco__crossentropy_forward(a->losses, a->lse, a->logits, a->targets, N, V);
        double s = 0;   /* in order, in double: the same sum for any thread count */
        for (int i = 0; i < N; i++) s += a->losses[i];
        m->loss = (float)(s / N);
    }
    return LOCO_OK;
}

/* Returns LOCO_EINVAL if the last forward had no targets. */
int loco_gpt_backward(loco_gpt *m) {
    if (!m->have_targets) return LOCO_EINVAL;
    m->have_targets = 0;   /* the logits are about to become their gradient */
    const int L = m->cfg.n_layer, C = m->cfg.channels, NH = m->cfg.n_head, V = m->cfg.vocab_size;
    const int B = m->cur_B, T = m->cur_T, N = B * T;
    const size_t cap = (size_t)m->B * m->T;
    loco__gpt_acts *a = &m->a;

    /* The loss is a mean over N positions, so each row's loss has weight 1/N. */
    float *dlogits = a->logits;                                      // (B, T, V)
    loco__crossentropy_backward(dlogits, a->logits, a->lse, a->targets, 1.0f / N, N, V);
    float *dlnf = a->dbuf;                                           // (B, T, C)
    loco__matmul_backward(dlnf, G(LOCO_P_WTE, 0), NULL, dlogits, a->lnf, P(LOCO_P_WTE, 0), N, C, V);
    float *dres = a->dresidual;                                      // (B, T, C)
    memset(dres, 0, (size_t)N * C * sizeof(float));
    const float *last = L > 0 ? a->residual3 + (L - 1) * cap * C : a->encoded;
    loco__layernorm_backward(dres, G(LOCO_P_LNFW, 0), G(LOCO_P_LNFB, 0), dlnf, last,
                             P(LOCO_P_LNFW, 0), a->lnf_mean, a->lnf_rstd, N, C);

    for (int l = L - 1; l >= 0; l--) {
        const float *residual = l == 0 ? a->encoded : a->residual3 + (l - 1) * cap * C;
        float *ln1 = a->ln1 + l * cap * C;
        float *ln1_mean = a->ln1_mean + l * cap;
        float *ln1_rstd = a->ln1_rstd + l * cap;
        float *qkv = a->qkv + l * cap * 3 * C;
        float *atty = a->atty + l * cap * C;
        float *att = a->att + l * (size_t)m->B * NH * m->T * m->T;
        float *residual2 = a->residual2 + l * cap * C;
        float *ln2 = a->ln2 + l * cap * C;
        float *ln2_mean = a->ln2_mean + l * cap;
        float *ln2_rstd = a->ln2_rstd + l * cap;
        float *fch = a->fch + l * cap * 4 * C;
        float *fch_gelu = a->fch_gelu + l * cap * 4 * C;

        /* residual3 = residual2 + fcproj: dres is both d(residual2) and d(fcproj). */
        loco__matmul_backward(a->dfch, G(LOCO_P_FCPROJW, l), G(LOCO_P_FCPROJB, l), dres, fch_gelu,
                              P(LOCO_P_FCPROJW, l), N, 4 * C, C);
        loco__gelu_backward(a->dfch, fch, a->dfch, (long)N * 4 * C);
        loco__matmul_backward(a->dbuf, G(LOCO_P_FCW, l), G(LOCO_P_FCB, l), a->dfch, ln2,
                              P(LOCO_P_FCW, l), N, C, 4 * C);
        loco__layernorm_backward(dres, G(LOCO_P_LN2W, l), G(LOCO_P_LN2B, l), a->dbuf, residual2,
                                 P(LOCO_P_LN2W, l), ln2_mean, ln2_rstd, N, C);
        /* residual2 = residual + attproj: the same holds one level down. */
        loco__matmul_backward(a->dbuf, G(LOCO_P_ATTPROJW, l), G(LOCO_P_ATTPROJB, l), dres, atty,
                              P(LOCO_P_ATTPROJW, l), N, C, C);
        loco__attention_backward(a->dqkv, a->datt, a->dbuf, qkv, att, B, T, C, NH);
        loco__matmul_backward(a->dbuf, G(LOCO_P_QKVW, l), G(LOCO_P_QKVB, l), a->dqkv, ln1,
                              P(LOCO_P_QKVW, l), N, C, 3 * C);
        loco__layernorm_backward(dres, G(LOCO_P_LN1W, l), G(LOCO_P_LN1B, l), a->dbuf, residual,
                                 P(LOCO_P_LN1W, l), ln1_mean, ln1_rstd, N, C);
    }
    loco__encoder_backward(G(LOCO_P_WTE, 0), G(LOCO_P_WPE, 0), dres, a->tokens, B, T, C);
    return LOCO_OK;
}
