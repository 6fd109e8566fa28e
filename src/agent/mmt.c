/*
 * The multimodal transformer: per step, the tokens
 *   [summary 0 | summary 1 | P pixel tokens (+ grid position) | instruction |
 *    DOM elements]                                             (NTOK, D)
 * go through mmt_layers non-causal blocks (absent elements masked as keys;
 * only as many element tokens as the batch's fullest step has)
 * and a final LayerNorm.  The core reads the two summary outputs and the
 * mean of the other present outputs.
 */
#include <string.h>
#include "agent/ccnet_internal.h"
#include "agent/layers.h"
#include "nn/layers.h"

void loco__ag_mmt_forward(loco_agent *m) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const loco__ag_params *p = &m->p;
    const int D = d->D, NT = d->NTOK, P = d->P;
    const size_t row = (size_t)D * sizeof(float);
    #pragma omp parallel for schedule(static)
    for (int bt = 0; bt < d->BT; bt++) {
        float *t = a->tok + (size_t)bt * NT * D;                 // (NTOK, D)
        memcpy(t, p->summary, 2 * row);
        for (int k = 0; k < P; k++) {
            const float *x = a->pix_tok + ((size_t)bt * P + k) * D, *ps = p->pix_pos + (size_t)k * D;
            float *o = t + (size_t)(2 + k) * D;
            for (int j = 0; j < D; j++) o[j] = x[j] + ps[j];
        }
        const float *sv = a->sv + (size_t)bt * d->NS * D;        // (NS, D) this step's strings
        memcpy(t + (size_t)(2 + P) * D, sv, row);
        memcpy(t + (size_t)(3 + P) * D, sv + (size_t)(1 + d->F) * D, (size_t)d->NDT * row);
    }
    const float *x = a->tok;
    for (int l = 0; l < c->mmt_layers; l++) {
        loco__ag_block_forward(&p->mmt[l], &a->mb[l], x, a->kmask, a->mproj, d->BT, NT, D, c->mmt_heads);
        x = a->mb[l].out;
    }
    loco__layernorm_forward(a->lnf, a->lnfm, a->lnfr, x, p->mmt_lnw, p->mmt_lnb, d->BT * NT, D);
    loco__ag_pool_forward(a->pool, a->lnf, a->pmask, d->BT, NT, D);
}

/* d_cin (T*B, 4D) holds the core input's gradient on entry; the tokens'
 * gradient goes to d_pix and (added) to d_sv. */
void loco__ag_mmt_backward(loco_agent *m) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const loco__ag_params *p = &m->p;
    const loco__ag_params *g = &m->g;
    const int D = d->D, NT = d->NTOK, P = d->P, L = c->mmt_layers;
    for (int bt = 0; bt < d->BT; bt++) {
        int r = (bt % d->T) * d->B + bt / d->T;
        memcpy(a->d_pool + (size_t)bt * D, a->d_cin + (size_t)r * 4 * D + 2 * D, D * sizeof(float));
    }
    loco__ag_pool_backward(a->d_buf, a->d_pool, a->pmask, d->BT, NT, D);                   // d lnf
    for (int bt = 0; bt < d->BT; bt++) {
        int r = (bt % d->T) * d->B + bt / d->T;
        float *dl = a->d_buf + (size_t)bt * NT * D;
        const float *dc = a->d_cin + (size_t)r * 4 * D;
        for (int j = 0; j < 2 * D; j++) dl[j] += dc[j];
    }
    memset(a->d_tok, 0, (size_t)d->BT * NT * D * sizeof(float));
    loco__layernorm_backward(a->d_tok, g->mmt_lnw, g->mmt_lnb, a->d_buf, a->mb[L - 1].out, p->mmt_lnw, a->lnfm,
                             a->lnfr, d->BT * NT, D);
    for (int l = L - 1; l >= 0; l--)
        loco__ag_block_backward(&p->mmt[l], &g->mmt[l], &a->mb[l], l ? a->mb[l - 1].out : a->tok, a->d_tok,
                                a->d_buf, a->d_qkv, a->d_fch, a->d_att, d->BT, NT, D, c->mmt_heads);
    /* Scatter the tokens' gradient; sums over steps run in step order. */
    for (int bt = 0; bt < d->BT; bt++) {
        const float *t = a->d_tok + (size_t)bt * NT * D;
        for (int j = 0; j < 2 * D; j++) g->summary[j] += t[j];
        for (int k = 0; k < P; k++) {
            const float *x = t + (size_t)(2 + k) * D;
            memcpy(a->d_pix + ((size_t)bt * P + k) * D, x, D * sizeof(float));
            float *gp = g->pix_pos + (size_t)k * D;
            for (int j = 0; j < D; j++) gp[j] += x[j];
        }
        float *sv = a->d_sv + (size_t)bt * d->NS * D;
        const float *ti = t + (size_t)(2 + P) * D;
        for (int j = 0; j < D; j++) sv[j] += ti[j];
        const float *te = t + (size_t)(3 + P) * D;
        float *se = sv + (size_t)(1 + d->F) * D;
        for (int j = 0; j < d->NDT * D; j++) se[j] += te[j];
    }
}
