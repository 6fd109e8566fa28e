/*
 * The layers of the GPT, forward and backward, written by hand.
 *
 * Every kernel exists twice: in float (the training path, names loco__*) and
 * in double (names loco__*_f64), compiled from the same source, layers.c, so
 * that the finite-difference tests check the very code that trains.
 *
 * Conventions for every backward: gradients of parameters are ACCUMULATED
 * (+=), so that micro-batches can add up; gradients of inputs are WRITTEN (=),
 * except layernorm_backward, whose dinp is accumulated because it feeds the
 * residual stream, which already holds the gradient that flows around it.
 * Shapes: N = B*T rows of C channels; tensors are row-major.
 */
#ifndef LOCO_NN_LAYERS_H
#define LOCO_NN_LAYERS_H

#define LOCO__LAYERS_DECLARE(real, sfx)                                          \
    /* out (B,T,C) = wte[inp] (V,C) + wpe[t] (T,C) */                            \
    void loco__encoder_forward##sfx(real *out, const int *inp, const real *wte,  \
                                    const real *wpe, int B, int T, int C);       \
    void loco__encoder_backward##sfx(real *dwte, real *dwpe, const real *dout,   \
                                     const int *inp, int B, int T, int C);       \
    /* out (N,C), mean (N), rstd (N) = LayerNorm(inp (N,C); w (C), b (C)) */     \
    void loco__layernorm_forward##sfx(real *out, real *mean, real *rstd,         \
                                      const real *inp, const real *w,            \
                                      const real *b, int N, int C);              \
    void loco__layernorm_backward##sfx(real *dinp, real *dw, real *db,           \
                                       const real *dout, const real *inp,        \
                                       const real *w, const real *mean,          \
                                       const real *rstd, int N, int C);          \
    /* out (N,OC) = inp (N,C) @ w^T (w is (OC,C)) + bias (OC); bias may be NULL */ \
    void loco__matmul_forward##sfx(real *out, const real *inp, const real *w,    \
                                   const real *bias, int N, int C, int OC);      \
    /* dinp (N,C) =; dw (OC,C) +=; dbias (OC) += (skipped when NULL) */          \
    void loco__matmul_backward##sfx(real *dinp, real *dw, real *dbias,           \
                                    const real *dout, const real *inp,           \
                                    const real *w, int N, int C, int OC);        \
    /* out (B,T,C) = causal softmax(q k^T / sqrt(hs)) v per head;                \
     * qkv (B,T,3C) holds q, k, v; att (B,NH,T,T) keeps the probabilities. */    \
    void loco__attention_forward##sfx(real *out, real *att, const real *qkv,     \
                                      int B, int T, int C, int NH);              \
    /* dqkv (B,T,3C) =; datt (B,NH,T,T) is scratch. */                           \
    void loco__attention_backward##sfx(real *dqkv, real *datt, const real *dout, \
                                       const real *qkv, const real *att,         \
                                       int B, int T, int C, int NH);             \
    /* out (N) = x * 0.5 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */          \
    void loco__gelu_forward##sfx(real *out, const real *inp, long N);            \
    /* dinp (N) = gelu'(inp) * dout; dinp may alias dout */                      \
    void loco__gelu_backward##sfx(real *dinp, const real *inp, const real *dout, \
                                  long N);                                       \
    /* out (N) = a + b */                                                        \
    void loco__residual_forward##sfx(real *out, const real *a, const real *b,    \
                                     long N);                                    \
    /* losses (N) = logsumexp(logits[i]) - logits[i, targets[i]];               \
     * lse (N) keeps the log-sum-exp for the backward pass. */                   \
    void loco__crossentropy_forward##sfx(real *losses, real *lse,                \
                                         const real *logits, const int *targets, \
                                         int N, int V);                          \
    /* dlogits (N,V) = (softmax(logits) - onehot(targets)) * dloss;              \
     * dlogits may alias logits (the LM head's largest buffer is reused). */     \
    void loco__crossentropy_backward##sfx(real *dlogits, const real *logits,     \
                                          const real *lse, const int *targets,   \
                                          real dloss, int N, int V);

LOCO__LAYERS_DECLARE(float, )
LOCO__LAYERS_DECLARE(double, _f64)

#endif
