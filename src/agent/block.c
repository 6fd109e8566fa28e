/*
 * A pre-LayerNorm transformer block without a causal mask, shared by the
 * string encoder (one group per string) and the multimodal transformer (one
 * group per step).  The same sequence of src/nn kernels as the GPT's block,
 * with the agent's masked attention in place of the causal one:
 *   res2 = x + proj(attn(LN1 x)),   out = res2 + fcproj(gelu(fc(LN2 res2))).
 */
#include "agent/ccnet_internal.h"
#include "agent/layers.h"
#include "nn/layers.h"

void loco__ag_block_forward(const loco__ag_block_p *p, loco__ag_block_a *a, const float *x,
                            const unsigned char *kmask, float *proj, int G, int T, int C, int NH) {
    const int N = G * T;
    loco__layernorm_forward(a->ln1, a->ln1m, a->ln1r, x, p->ln1w, p->ln1b, N, C);
    loco__matmul_forward(a->qkv, a->ln1, p->qkvw, p->qkvb, N, C, 3 * C);          // (N, 3C)
    loco__ag_attention_forward(a->atty, a->att, a->qkv, a->qkv + C, a->qkv + 2 * C, kmask, G, T,
                               T, C, NH, 3 * C, 3 * C);                             // (N, C)
    loco__matmul_forward(proj, a->atty, p->projw, p->projb, N, C, C);
    loco__residual_forward(a->res2, x, proj, (long)N * C);
    loco__layernorm_forward(a->ln2, a->ln2m, a->ln2r, a->res2, p->ln2w, p->ln2b, N, C);
    loco__matmul_forward(a->fch, a->ln2, p->fcw, p->fcb, N, C, 4 * C);             // (N, 4C)
    loco__gelu_forward(a->fchg, a->fch, (long)N * 4 * C);
    loco__matmul_forward(proj, a->fchg, p->fcprojw, p->fcprojb, N, 4 * C, C);
    loco__residual_forward(a->out, a->res2, proj, (long)N * C);
}

/* The residual adds pass dres through unchanged; each LayerNorm backward
 * accumulates its input gradient into dres, turning the gradient of out into
 * that of res2 and then of x. */
void loco__ag_block_backward(const loco__ag_block_p *p, const loco__ag_block_p *g,
                             const loco__ag_block_a *a, const float *x, float *dres, float *dbuf,
                             float *dqkv, float *dfch, float *datt, int G, int T, int C, int NH) {
    const int N = G * T;
    loco__matmul_backward(dfch, g->fcprojw, g->fcprojb, dres, a->fchg, p->fcprojw, N, 4 * C, C);
    loco__gelu_backward(dfch, a->fch, dfch, (long)N * 4 * C);
    loco__matmul_backward(dbuf, g->fcw, g->fcb, dfch, a->ln2, p->fcw, N, C, 4 * C);
    loco__layernorm_backward(dres, g->ln2w, g->ln2b, dbuf, a->res2, p->ln2w, a->ln2m, a->ln2r, N, C);
    loco__matmul_backward(dbuf, g->projw, g->projb, dres, a->atty, p->projw, N, C, C);
    loco__ag_attention_backward(dqkv, dqkv + C, dqkv + 2 * C, datt, dbuf, a->qkv, a->qkv + C,
                                a->qkv + 2 * C, a->att, G, T, T, C, NH, 3 * C, 3 * C);
    loco__matmul_backward(dbuf, g->qkvw, g->qkvb, dqkv, a->ln1, p->qkvw, N, C, 3 * C);
    loco__layernorm_backward(dres, g->ln1w, g->ln1b, dbuf, x, p->ln1w, a->ln1m, a->ln1r, N, C);
}
