/*
 * Acting: an action from the heads of one step of the last forward, in
 * CC-Net's order: the type first, then only the arguments that type uses;
 * the y head is evaluated again with the embedding of the chosen x, since
 * during training it saw the demonstrated one.
 */
#include <math.h>
#include <string.h>
#include "agent/ccnet_internal.h"
#include "loco/agent_env.h"
#include "nn/layers.h"

/* argmax of z[0..n), or a sample of softmax(z) when rng is set. */
static int pick(const float *z, int n, loco_rng *rng) {
    int best = 0;
    for (int j = 1; j < n; j++)
        if (z[j] > z[best]) best = j;
    if (!rng) return best;
    double sum = 0;
    for (int j = 0; j < n; j++) sum += exp((double)z[j] - z[best]);
    double u = loco_rng_uniform(rng) * sum, acc = 0;
    for (int j = 0; j < n; j++) {
        acc += exp((double)z[j] - z[best]);
        if (u < acc) return j;
    }
    return best;
}

void loco_agent_choose(loco_agent *m, int t, loco_rng *rng, loco_agent_action *out) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const int B = d->B, H = d->H, DX = d->DX, F = d->F;
    const size_t r0 = (size_t)t * B;
    for (int b = 0; b < B; b++) {
        size_t r = r0 + b;
        loco_agent_action *o = &out[b];
        *o = (loco_agent_action){pick(a->lg[0] + r * LOCO_ACT_NUM_TYPES, LOCO_ACT_NUM_TYPES, rng), -1, -1, -1, -1};
        if (loco_act_uses_xy(o->type)) o->x = pick(a->lg[1] + r * c->x_bins, c->x_bins, rng);
        a->ximg[r] = o->x >= 0 ? o->x : c->x_bins;
        memcpy(a->yin + r * (H + DX) + H, m->p.xemb + (size_t)a->ximg[r] * DX, DX * sizeof(float));
    }
    // y logits (B, NY) of step t again, given the chosen x
    loco__matmul_forward(a->lg[2] + r0 * c->y_bins, a->yin + r0 * (H + DX), m->p.y_w, m->p.y_b, B, H + DX,
                         c->y_bins);
    for (int b = 0; b < B; b++) {
        size_t r = r0 + b;
        loco_agent_action *o = &out[b];
        if (loco_act_uses_xy(o->type)) o->y = pick(a->lg[2] + r * c->y_bins, c->y_bins, rng);
        if (loco_act_uses_key(o->type)) o->key = pick(a->lg[3] + r * c->n_keys, c->n_keys, rng);
        if (loco_act_uses_field(o->type) && a->nfield[r] > 0) o->field = pick(a->lg[4] + r * F, a->nfield[r], rng);
    }
}
