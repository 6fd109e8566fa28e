/*
 * The heads, over the core's output y2 (R, H), R = T*B time-major rows:
 *   type  = y2 Wt + bt                  (R, 10)
 *   x     = y2 Wx + bx                  (R, NX)
 *   y     = [y2 | xemb[x]] Wy + by      (R, NY)   x: the demonstrated bin
 *   key   = y2 Wk + bk                  (R, NK)
 *   field = q . k_i / sqrt(D)           (R, F)    q = y2 Wq + bq,
 *           k_i = v_i Wf for the step's field vectors v_i; fields past
 *           n_fields are masked
 *   value = y2 Wv + bv                  (R)       (trained by RL, not here)
 * The loss is the mean over counted steps of the cross-entropies of the type
 * head and of the argument heads the demonstrated type uses (targets -1
 * elsewhere), i.e. -log p(action) with log p summed over the heads used.
 */
#include <math.h>
#include <string.h>
#include "agent/ccnet_internal.h"
#include "agent/layers.h"
#include "nn/layers.h"

void loco__ag_heads_forward(loco_agent *m) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const loco__ag_params *p = &m->p;
    const int B = d->B, T = d->T, R = d->BT, H = d->H, D = d->D, DX = d->DX, F = d->F;
    const int nv[5] = {LOCO_ACT_NUM_TYPES, c->x_bins, c->y_bins, c->n_keys, F};
    loco__matmul_forward(a->lg[0], a->y2, p->type_w, p->type_b, R, H, LOCO_ACT_NUM_TYPES);
    loco__matmul_forward(a->lg[1], a->y2, p->x_w, p->x_b, R, H, c->x_bins);
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++) {
        float *o = a->yin + (size_t)r * (H + DX);
        memcpy(o, a->y2 + (size_t)r * H, H * sizeof(float));
        memcpy(o + H, p->xemb + (size_t)a->ximg[r] * DX, DX * sizeof(float));
    }
    loco__matmul_forward(a->lg[2], a->yin, p->y_w, p->y_b, R, H + DX, c->y_bins);
    loco__matmul_forward(a->lg[3], a->y2, p->key_w, p->key_b, R, H, c->n_keys);
    loco__matmul_forward(a->fq, a->y2, p->fq_w, p->fq_b, R, H, D);                       // (R, D)
    for (int bt = 0; bt < d->BT; bt++)                                                    // (F, D) per step
        loco__matmul_forward(a->fk + (size_t)bt * F * D, a->sv + ((size_t)bt * d->NS + 1) * D, p->fk_w, NULL,
                             F, D, D);
    const float scale = 1.0f / sqrtf((float)D);
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++) {
        int bt = (r % B) * T + r / B;
        const float *q = a->fq + (size_t)r * D;
        float *o = a->lg[4] + (size_t)r * F;
        for (int f = 0; f < F; f++) {
            const float *k = a->fk + ((size_t)bt * F + f) * D;
            float s = 0;
            for (int j = 0; j < D; j++) s += q[j] * k[j];
            o[f] = f < a->nfield[r] ? s * scale : -INFINITY;
        }
    }
    loco__matmul_forward(a->value, a->y2, p->value_w, p->value_b, R, H, 1);
    double total = 0;
    for (int h = 0; h < 5; h++) {
        loco__ag_xent_forward(a->losses[h], a->lse[h], a->lg[h], a->tgt[h], h == 4 ? a->nfield : NULL, R, nv[h]);
        for (int r = 0; r < R; r++) total += a->losses[h][r];
    }
    m->loss = m->n_valid > 0 ? (float)(total / m->n_valid) : 0.0f;
}

void loco__ag_heads_backward(loco_agent *m) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const loco__ag_params *p = &m->p;
    const loco__ag_params *g = &m->g;
    const int B = d->B, T = d->T, R = d->BT, H = d->H, D = d->D, DX = d->DX, F = d->F;
    const int nv[5] = {LOCO_ACT_NUM_TYPES, c->x_bins, c->y_bins, c->n_keys, F};
    const float dloss = m->n_valid > 0 ? 1.0f / m->n_valid : 0.0f;
    for (int h = 0; h < 5; h++)
        loco__ag_xent_backward(a->d_lg[h], a->lg[h], a->lse[h], a->tgt[h], h == 4 ? a->nfield : NULL, dloss, R,
                               nv[h]);
    float *tmp = a->d_y1;   /* free until the core's backward */
    const long RH = (long)R * H;
    loco__matmul_backward(a->d_y2, g->type_w, g->type_b, a->d_lg[0], a->y2, p->type_w, R, H, LOCO_ACT_NUM_TYPES);
    loco__matmul_backward(tmp, g->x_w, g->x_b, a->d_lg[1], a->y2, p->x_w, R, H, c->x_bins);
    loco__residual_forward(a->d_y2, a->d_y2, tmp, RH);
    loco__matmul_backward(a->d_yin, g->y_w, g->y_b, a->d_lg[2], a->yin, p->y_w, R, H + DX, c->y_bins);
    for (int r = 0; r < R; r++)
        for (int j = 0; j < H; j++) a->d_y2[(size_t)r * H + j] += a->d_yin[(size_t)r * (H + DX) + j];
    loco__ag_embed_backward(g->xemb, a->d_yin + H, a->ximg, R, DX, H + DX);
    loco__matmul_backward(tmp, g->key_w, g->key_b, a->d_lg[3], a->y2, p->key_w, R, H, c->n_keys);
    loco__residual_forward(a->d_y2, a->d_y2, tmp, RH);
    /* field: d q = sum_i dl_i k_i / sqrt(D), d k_i = dl_i q / sqrt(D) */
    const float scale = 1.0f / sqrtf((float)D);
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++) {
        int bt = (r % B) * T + r / B;
        const float *dl = a->d_lg[4] + (size_t)r * F, *q = a->fq + (size_t)r * D;
        float *dq = a->d_fq + (size_t)r * D;
        memset(dq, 0, D * sizeof(float));
        for (int f = 0; f < F; f++) {
            const float *k = a->fk + ((size_t)bt * F + f) * D;
            float *dk = a->d_fk + ((size_t)bt * F + f) * D;
            for (int j = 0; j < D; j++) {
                dq[j] += dl[f] * scale * k[j];
                dk[j] = dl[f] * scale * q[j];
            }
        }
    }
    loco__matmul_backward(tmp, g->fq_w, g->fq_b, a->d_fq, a->y2, p->fq_w, R, H, D);
    loco__residual_forward(a->d_y2, a->d_y2, tmp, RH);
    for (int bt = 0; bt < d->BT; bt++)
        loco__matmul_backward(a->d_sv + ((size_t)bt * d->NS + 1) * D, g->fk_w, NULL, a->d_fk + (size_t)bt * F * D,
                              a->sv + ((size_t)bt * d->NS + 1) * D, p->fk_w, F, D, D);
}
