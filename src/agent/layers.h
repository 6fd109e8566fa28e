/*
 * The agent's own layers, forward and backward, written by hand: the pieces
 * the GPT core (src/nn/layers.h) does not have.  Matrix products, LayerNorm,
 * GELU and the residual add are taken from src/nn.
 *
 * As in src/nn, every kernel exists in float (loco__ag_*, the training path)
 * and in double (loco__ag_*_f64, for the finite-difference tests), compiled
 * from one source, layers.c, compiled twice (the Makefile adds
 * -DLOCO_REAL_DOUBLE for layers_f64.o).
 *
 * Conventions: parameter gradients are ACCUMULATED (+=); input gradients are
 * WRITTEN (=) unless a comment says otherwise.  Tensors are row-major; images
 * are channel-last (N, H, W, C), so that a 3x3 convolution is one matrix
 * product over im2col patches.
 */
#ifndef LOCO_AGENT_LAYERS_H
#define LOCO_AGENT_LAYERS_H

#define LOCO__AG_LAYERS_DECLARE(real, sfx)                                                            \
    /* Output size of a convolution along one axis. */                                               \
    /* out (N,OH,OW,OC) = conv(inp (N,H,W,C); w (OC,K,K,C), bias (OC)), stride S, zero padding P;   \
     * col (OH*OW, K*K*C) is scratch (im2col of one image). */                                        \
    void loco__ag_conv_forward##sfx(real *out, const real *inp, const real *w, const real *bias,      \
                                    real *col, int N, int H, int W, int C, int OC, int K, int S,      \
                                    int P);                                                           \
    /* dinp (N,H,W,C) = (skipped when NULL); dw, dbias +=; col and dcol (OH*OW, K*K*C) scratch. */   \
    void loco__ag_conv_backward##sfx(real *dinp, real *dw, real *dbias, const real *dout,             \
                                     const real *inp, const real *w, real *col, real *dcol, int N,    \
                                     int H, int W, int C, int OC, int K, int S, int P);               \
    /* out (n) = max(inp, 0) */                                                                       \
    void loco__ag_relu_forward##sfx(real *out, const real *inp, long n);                              \
    /* dinp (n) = dout * (out > 0); dinp may alias dout */                                           \
    void loco__ag_relu_backward##sfx(real *dinp, const real *out, const real *dout, long n);          \
    /* Non-causal multi-head attention with a key mask.  For each of B groups:                      \
     * q (Tq, C) rows ldq apart, k and v (Tk, C) rows ldk apart (group strides Tq*ldq and Tk*ldk);  \
     * out (B,Tq,C) = softmax(q k^T / sqrt(C/NH) + mask) v per head, where keys with               \
     * kmask[b*Tk + s] == 0 get probability 0 (kmask NULL: all keys valid); a query whose keys      \
     * are all masked gets 0.  att (B,NH,Tq,Tk) keeps the probabilities. */                          \
    void loco__ag_attention_forward##sfx(real *out, real *att, const real *q, const real *k,          \
                                         const real *v, const unsigned char *kmask, int B, int Tq,    \
                                         int Tk, int C, int NH, int ldq, int ldk);                    \
    /* dq, dk, dv = (same layouts as q, k, v); datt (B,NH,Tq,Tk) scratch. */                          \
    void loco__ag_attention_backward##sfx(real *dq, real *dk, real *dv, real *datt,                   \
                                          const real *dout, const real *q, const real *k,             \
                                          const real *v, const real *att, int B, int Tq, int Tk,      \
                                          int C, int NH, int ldq, int ldk);                           \
    /* One LSTM step's pointwise part.  pre (B,4H) holds the pre-activations of the gates i, f,    \
     * g, o (torch's order); act (B,4H) = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o);              \
     * c (B,H) = f * c_prev + i * g (c_prev NULL: zeros); tc = tanh(c); h = o * tc. */              \
    void loco__ag_lstm_cell_forward##sfx(real *h, real *c, real *act, real *tc, const real *pre,      \
                                         const real *c_prev, int B, int H);                           \
    /* Given dh and dc (B,H), the gradients reaching h and c of this step, writes dpre (B,4H) and  \
     * dc_prev (B,H) (skipped when NULL; c_prev NULL means zeros). */                                 \
    void loco__ag_lstm_cell_backward##sfx(real *dpre, real *dc_prev, const real *dh, const real *dc, \
                                          const real *act, const real *tc, const real *c_prev,        \
                                          int B, int H);                                              \
    /* out (N,C), rows ld apart, = table[idx[i]] (rows of table (V,C)); with acc, += instead. */     \
    void loco__ag_embed_forward##sfx(real *out, const int *idx, const real *table, int N, int C,      \
                                     int ld, int acc);                                                \
    /* dtable (V,C) += scatter of dout (N,C), rows ld apart, by idx. */                               \
    void loco__ag_embed_backward##sfx(real *dtable, const real *dout, const int *idx, int N, int C,   \
                                      int ld);                                                        \
    /* out (B,C) = mean of the rows x[b,t] (x (B,T,C)) with mask[b*T+t] != 0; 0 if none. */            \
    void loco__ag_pool_forward##sfx(real *out, const real *x, const unsigned char *mask, int B,       \
                                    int T, int C);                                                    \
    /* dx (B,T,C) = dout / count on the masked-in rows, 0 elsewhere. */                               \
    void loco__ag_pool_backward##sfx(real *dx, const real *dout, const unsigned char *mask, int B,    \
                                     int T, int C);                                                   \
    /* Cross-entropy over the first nv[i] of V logits (nv NULL: all V):                              \
     * losses[i] = lse_i - z[i, t_i], lse kept; a row with target < 0 gets loss 0. */                 \
    void loco__ag_xent_forward##sfx(real *losses, real *lse, const real *logits, const int *targets, \
                                    const int *nv, int N, int V);                                     \
    /* dlogits (N,V) = dloss (softmax - onehot) on valid entries of rows with a target, 0 else. */    \
    void loco__ag_xent_backward##sfx(real *dlogits, const real *logits, const real *lse,              \
                                     const int *targets, const int *nv, real dloss, int N, int V);

LOCO__AG_LAYERS_DECLARE(float, )
LOCO__AG_LAYERS_DECLARE(double, _f64)

/* Output size of a convolution of kernel K, stride S, padding P over n. */
static inline int loco__ag_conv_out(int n, int K, int S, int P) { return (n + 2 * P - K) / S + 1; }

#endif
