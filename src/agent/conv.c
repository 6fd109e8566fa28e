/*
 * The pixel trunk: four ResNet stages over the frame (channel-last), each
 *   a  = conv3x3/2(x)                 (the stage's downsampling)
 *   o  = a + conv3x3(relu(conv3x3(relu(a))))
 * then relu and a linear map of each grid cell to d_model: the visual tokens
 * (BT, P, D) (their positional embeddings are added by the transformer).
 */
#include <string.h>
#include "agent/ccnet_internal.h"
#include "agent/layers.h"
#include "nn/layers.h"

void loco__ag_trunk_forward(loco_agent *m) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const loco__ag_params *p = &m->p;
    const float *x = a->img;
    int cin = 3;
    for (int s = 0; s < 4; s++) {
        int h = d->hs[s], w = d->ws[s], oh = d->hs[s + 1], ow = d->ws[s + 1], co = c->conv_ch[s];
        long n = (long)d->BT * oh * ow * co;
        loco__ag_conv_forward(a->st_a[s], x, p->conv_w[s], p->conv_b[s], a->col, d->BT, h, w, cin, co, 3, 2, 1);
        loco__ag_relu_forward(a->st_r1[s], a->st_a[s], n);
        loco__ag_conv_forward(a->st_c1[s], a->st_r1[s], p->resa_w[s], p->resa_b[s], a->col, d->BT, oh, ow, co, co, 3, 1, 1);
        loco__ag_relu_forward(a->st_r2[s], a->st_c1[s], n);
        loco__ag_conv_forward(a->st_o[s], a->st_r2[s], p->resb_w[s], p->resb_b[s], a->col, d->BT, oh, ow, co, co, 3, 1, 1);
        loco__residual_forward(a->st_o[s], a->st_o[s], a->st_a[s], n);
        x = a->st_o[s];
        cin = co;
    }
    loco__ag_relu_forward(a->pix_r, x, (long)d->BT * d->P * cin);
    loco__matmul_forward(a->pix_tok, a->pix_r, p->pix_w, p->pix_b, d->BT * d->P, cin, d->D);   // (BT*P, D)
}

/* d_pix (BT, P, D) holds the tokens' gradient on entry.  Four scratch
 * tensors: do (the stage output's gradient), its predecessor's, and two for
 * the residual branch. */
void loco__ag_trunk_backward(loco_agent *m) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const loco__ag_params *p = &m->p;
    const loco__ag_params *g = &m->g;
    int c3 = c->conv_ch[3];
    float *dO = a->d_st[0], *dPrev = a->d_st[1], *dY = a->d_st[2], *dZ = a->d_st[3];
    loco__matmul_backward(dO, g->pix_w, g->pix_b, a->d_pix, a->pix_r, p->pix_w, d->BT * d->P, c3, d->D);
    loco__ag_relu_backward(dO, a->pix_r, dO, (long)d->BT * d->P * c3);
    for (int s = 3; s >= 0; s--) {
        int h = d->hs[s], w = d->ws[s], oh = d->hs[s + 1], ow = d->ws[s + 1], co = c->conv_ch[s];
        int cin = s ? c->conv_ch[s - 1] : 3;
        long n = (long)d->BT * oh * ow * co;
        loco__ag_conv_backward(dY, g->resb_w[s], g->resb_b[s], dO, a->st_r2[s], p->resb_w[s], a->col, a->dcol,
                               d->BT, oh, ow, co, co, 3, 1, 1);
        loco__ag_relu_backward(dY, a->st_r2[s], dY, n);
        loco__ag_conv_backward(dZ, g->resa_w[s], g->resa_b[s], dY, a->st_r1[s], p->resa_w[s], a->col, a->dcol,
                               d->BT, oh, ow, co, co, 3, 1, 1);
        loco__ag_relu_backward(dZ, a->st_r1[s], dZ, n);
        loco__residual_forward(dO, dO, dZ, n);                 // d a = d o + the branch's
        loco__ag_conv_backward(s ? dPrev : NULL, g->conv_w[s], g->conv_b[s], dO, s ? a->st_o[s - 1] : a->img,
                               p->conv_w[s], a->col, a->dcol, d->BT, h, w, cin, co, 3, 2, 1);
        float *t = dO; dO = dPrev; dPrev = t;
    }
}
