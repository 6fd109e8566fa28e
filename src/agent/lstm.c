/*
 * The core, over time-major rows r = t*B + b:
 *   in  = [summary0 | summary1 | pool | prev-action embedding]    (R, 4D)
 *   x0  = in Wc + bc                                              (R, H)
 *   y1  = x0 + LSTM1(x0),   y2 = y1 + LSTM2(y1)
 * The prev-action embedding is the sum of the type's, x's, y's, key's and
 * field's embeddings ("none" rows for unused arguments).  Each LSTM starts
 * from the model's state and is reset to zero at steps marked first.  The
 * input products of all steps are one matrix product; only the recurrent
 * product h_{t-1} Whh^T is taken step by step.
 */
#include <string.h>
#include "agent/ccnet_internal.h"
#include "agent/layers.h"
#include "nn/gemm.h"
#include "nn/layers.h"

void loco__ag_core_forward(loco_agent *m) {
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const loco__ag_params *p = &m->p;
    const int B = d->B, T = d->T, R = d->BT, D = d->D, H = d->H, NT = d->NTOK;
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++) {
        int bt = (r % B) * T + r / B;
        float *o = a->cin + (size_t)r * 4 * D;
        memcpy(o, a->lnf + (size_t)bt * NT * D, 2 * D * sizeof(float));
        memcpy(o + 2 * D, a->pool + (size_t)bt * D, D * sizeof(float));
    }
    const float *tab[5] = {p->pa_type, p->pa_x, p->pa_y, p->pa_key, p->pa_field};
    for (int k = 0; k < 5; k++) loco__ag_embed_forward(a->cin + 3 * D, a->pa[k], tab[k], R, D, 4 * D, k > 0);
    loco__matmul_forward(a->x0, a->cin, p->core_w, p->core_b, R, 4 * D, H);            // (R, H)
    for (int l = 0; l < 2; l++) {
        const float *u = l ? a->y1 : a->x0;
        loco__matmul_forward(a->pre[l], u, p->lstm_wih[l], p->lstm_b[l], R, H, 4 * H);  // (R, 4H)
        for (int t = 0; t < T; t++) {
            size_t r0 = (size_t)t * B;
            float *hp = a->hprev[l] + r0 * H, *cp = a->cprev[l] + r0 * H;               // (B, H)
            memcpy(hp, t ? a->h[l] + (r0 - B) * H : a->state[l][0], (size_t)B * H * sizeof(float));
            memcpy(cp, t ? a->c[l] + (r0 - B) * H : a->state[l][1], (size_t)B * H * sizeof(float));
            for (int b = 0; b < B; b++)
                if (a->first[r0 + b]) {
                    memset(hp + (size_t)b * H, 0, H * sizeof(float));
                    memset(cp + (size_t)b * H, 0, H * sizeof(float));
                }
            // pre_t (B, 4H) += h_{t-1} (B, H) @ Whh^T (H, 4H)
            loco__gemm(0, 1, B, 4 * H, H, 1, hp, H, p->lstm_whh[l], H, 1,
                        a->pre[l] + r0 * 4 * H, 4 * H);
            loco__ag_lstm_cell_forward(a->h[l] + r0 * H, a->c[l] + r0 * H, a->gact[l] + r0 * 4 * H,
                                       a->tc[l] + r0 * H, a->pre[l] + r0 * 4 * H, cp, B, H);
        }
        loco__residual_forward(l ? a->y2 : a->y1, u, a->h[l], (long)R * H);
        memcpy(a->state_next[l][0], a->h[l] + (size_t)(T - 1) * B * H, (size_t)B * H * sizeof(float));
        memcpy(a->state_next[l][1], a->c[l] + (size_t)(T - 1) * B * H, (size_t)B * H * sizeof(float));
    }
}

/* d_y2 (R, H) holds the heads' gradient on entry; writes d_cin (R, 4D). */
void loco__ag_core_backward(loco_agent *m) {
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const loco__ag_params *p = &m->p;
    const loco__ag_params *g = &m->g;
    const int B = d->B, T = d->T, R = d->BT, D = d->D, H = d->H;
    for (int l = 1; l >= 0; l--) {
        const float *u = l ? a->y1 : a->x0;
        const float *dy = l ? a->d_y2 : a->d_y1;
        float *du = l ? a->d_y1 : a->d_x0;
        memset(a->d_h, 0, (size_t)B * H * sizeof(float));
        memset(a->d_c, 0, (size_t)B * H * sizeof(float));
        for (int t = T - 1; t >= 0; t--) {
            size_t r0 = (size_t)t * B;
            for (size_t j = 0; j < (size_t)B * H; j++) a->d_h[j] += dy[r0 * H + j];
            loco__ag_lstm_cell_backward(a->d_pre + r0 * 4 * H, a->d_cn, a->d_h, a->d_c, a->gact[l] + r0 * 4 * H,
                                        a->tc[l] + r0 * H, a->cprev[l] + r0 * H, B, H);
            // dh_{t-1} (B, H) = dpre_t (B, 4H) @ Whh (4H, H)
            loco__gemm(0, 0, B, H, 4 * H, 1, a->d_pre + r0 * 4 * H, 4 * H,
                        p->lstm_whh[l], H, 0, a->d_h, H);
            memcpy(a->d_c, a->d_cn, (size_t)B * H * sizeof(float));
            for (int b = 0; b < B; b++)
                if (a->first[r0 + b]) {   /* a reset state passes no gradient back */
                    memset(a->d_h + (size_t)b * H, 0, H * sizeof(float));
                    memset(a->d_c + (size_t)b * H, 0, H * sizeof(float));
                }
        }
        // dWhh (4H, H) += dpre^T (4H, R) @ hprev (R, H), all steps at once
        loco__gemm(1, 0, 4 * H, H, R, 1, a->d_pre, 4 * H, a->hprev[l], H, 1,
                    g->lstm_whh[l], H);
        loco__matmul_backward(du, g->lstm_wih[l], g->lstm_b[l], a->d_pre, u, p->lstm_wih[l], R, H, 4 * H);
        loco__residual_forward(du, du, dy, (long)R * H);
    }
    loco__matmul_backward(a->d_cin, g->core_w, g->core_b, a->d_x0, a->cin, p->core_w, R, 4 * D, H);
    float *tab[5] = {g->pa_type, g->pa_x, g->pa_y, g->pa_key, g->pa_field};
    for (int k = 0; k < 5; k++) loco__ag_embed_backward(tab[k], a->d_cin + 3 * D, a->pa[k], R, D, 4 * D);
}
