/*
 * The agent's forward and backward passes over a batch: checking and
 * staging the caller's batch into the activation block, then running the
 * modules in order (and in reverse for the gradient).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "agent/ccnet_internal.h"

#define BAD(...) do { if (msg && msglen) snprintf(msg, msglen, __VA_ARGS__); return LOCO_EINVAL; } while (0)

/* Index of an argument as an embedding row: -1 ("none") maps to row n. */
static int arg_row(int v, int n) { return v < 0 ? n : v; }

static int check_action(const loco_agent_config *c, const loco_agent_action *a, int nf, int prev) {
    if (prev && a->type == -1) return 1;
    if (a->type < 0 || a->type >= LOCO_ACT_NUM_TYPES) return 0;
    int xy = loco_act_uses_xy(a->type);
    if (prev) {
        /* A previous action: every argument is -1 or in range. */
        return a->x >= -1 && a->x < c->x_bins && a->y >= -1 && a->y < c->y_bins && a->key >= -1 &&
               a->key < c->n_keys && a->field >= -1 && a->field < c->max_fields;
    }
    if (xy && (a->x < 0 || a->x >= c->x_bins || a->y < 0 || a->y >= c->y_bins)) return 0;
    if (loco_act_uses_key(a->type) && (a->key < 0 || a->key >= c->n_keys)) return 0;
    if (loco_act_uses_field(a->type) && (a->field < 0 || a->field >= nf)) return 0;
    return 1;
}

/* Copies the batch into the model's own layout: strings padded with word 0
 * and masked, time-major rows for the core and heads, head targets with -1
 * where a head is unused. */
static int stage(loco_agent *m, const loco_agent_batch *bt, char *msg, size_t msglen) {
    const loco_agent_config *c = &m->cfg;
    loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const int B = d->B, T = d->T, NS = d->NS, S = d->S, F = d->F, ND = d->ND;
    const int V = c->vocab_words + c->hash_buckets;
    if (!bt->words || !bt->nwords || !bt->n_fields || !bt->first || !bt->prev) BAD("batch lacks a required array");
    if (ND && (!bt->n_dom || !bt->geom)) BAD("batch lacks DOM arrays (n_dom, geom)");
    if (d->P && !bt->frames) BAD("batch lacks frames");
    /* The transformer sees as many DOM tokens as the fullest step has, and the
     * string encoder only the strings present: padding costs nothing. */
    d->NDT = 0;
    for (int i = 0; ND && i < B * T; i++) {
        int nd = bt->n_dom[i];
        if (nd < 0 || nd > ND) BAD("step (%d,%d): n_dom %d outside [0, %d]", i / T, i % T, nd, ND);
        if (nd > d->NDT) d->NDT = nd;
    }
    d->NTOK = 3 + d->P + d->NDT;
    int np = 0;
    float nvalid = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int i = b * T + t, r = t * B + b;
            int nf = bt->n_fields[i], nd = ND ? bt->n_dom[i] : 0;
            if (nf < 0 || nf > F) BAD("step (%d,%d): n_fields %d outside [0, %d]", b, t, nf, F);
            if (nd < 0 || nd > ND) BAD("step (%d,%d): n_dom %d outside [0, %d]", b, t, nd, ND);
            for (int s = 0; s < NS; s++) {
                int str = i * NS + s;
                int present = s == 0 || (s <= F ? s - 1 < nf : s - 1 - F < nd);
                if (!present) continue;
                int nw = bt->nwords[str];
                if (nw < 1 || nw > S) BAD("step (%d,%d) string %d: %d words outside [1, %d]", b, t, s, nw, S);
                a->kinds[np] = s == 0 ? 0 : (s <= F ? 1 : 2);
                a->spos[np] = str;
                for (int w = 0; w < S; w++) {
                    int id = w < nw ? bt->words[(size_t)str * S + w] : 0;
                    if (id < 0 || id >= V) BAD("step (%d,%d) string %d: word id %d outside [0, %d)", b, t, s, id, V);
                    a->ids[(size_t)np * S + w] = id;
                    a->smask[(size_t)np * S + w] = w < nw;
                }
                np++;
            }
            unsigned char *km = a->kmask + (size_t)i * d->NTOK, *pm = a->pmask + (size_t)i * d->NTOK;
            for (int k = 0; k < d->NTOK; k++) {
                int dom = k - 3 - d->P;
                km[k] = dom < 0 || dom < nd;
                pm[k] = k >= 2 && km[k];
            }
            a->nfield[r] = nf;
            a->first[r] = bt->first[i] != 0;
            const loco_agent_action *p = &bt->prev[i];
            if (!check_action(c, p, nf, 1)) BAD("step (%d,%d): previous action out of range", b, t);
            a->pa[0][r] = arg_row(p->type, LOCO_ACT_NUM_TYPES);
            a->pa[1][r] = p->type < 0 ? c->x_bins : arg_row(p->x, c->x_bins);
            a->pa[2][r] = p->type < 0 ? c->y_bins : arg_row(p->y, c->y_bins);
            a->pa[3][r] = p->type < 0 ? c->n_keys : arg_row(p->key, c->n_keys);
            a->pa[4][r] = p->type < 0 ? F : arg_row(p->field, F);
            int use = bt->target && (!bt->valid || bt->valid[i]);
            for (int h = 0; h < 5; h++) a->tgt[h][r] = -1;
            a->ximg[r] = c->x_bins;
            if (use) {
                const loco_agent_action *g = &bt->target[i];
                if (!check_action(c, g, nf, 0)) BAD("step (%d,%d): target action out of range", b, t);
                a->tgt[0][r] = g->type;
                if (loco_act_uses_xy(g->type)) { a->tgt[1][r] = g->x; a->tgt[2][r] = g->y; a->ximg[r] = g->x; }
                if (loco_act_uses_key(g->type)) a->tgt[3][r] = g->key;
                if (loco_act_uses_field(g->type)) a->tgt[4][r] = g->field;
                nvalid += 1;
            }
        }
    d->NP = np;
    if (ND) memcpy(a->geom, bt->geom, (size_t)B * T * ND * c->geom_dim * sizeof(float));
    if (d->P) {
        size_t n = (size_t)B * T * d->hs[0] * d->ws[0] * 3;
        for (size_t j = 0; j < n; j++) a->img[j] = bt->frames[j] * (1.0f / 255.0f);
    }
    m->n_valid = nvalid;
    return LOCO_OK;
}

int loco_agent_forward(loco_agent *m, const loco_agent_batch *bt, char *msg, size_t msglen) {
    if (!m || !bt) return LOCO_EINVAL;
    if (bt->B < 1 || bt->T < 1 || bt->B > m->cap_B || bt->T > m->cap_T)
        BAD("batch of B=%d T=%d exceeds the model's capacity B=%d T=%d", bt->B, bt->T, m->cap_B, m->cap_T);
    loco__ag_dims_compute(&m->d, &m->cfg, bt->B, bt->T);
    int err = stage(m, bt, msg, msglen);
    if (err) return err;
    m->cur_B = bt->B;
    m->cur_T = bt->T;
    m->have_targets = bt->target != NULL;
    if (m->d.P) loco__ag_trunk_forward(m);
    loco__ag_strenc_forward(m);
    loco__ag_mmt_forward(m);
    loco__ag_core_forward(m);
    loco__ag_heads_forward(m);
    return LOCO_OK;
}

int loco_agent_backward(loco_agent *m) {
    if (!m || !m->have_targets || !m->cur_B) return LOCO_EINVAL;
    memset(m->a.d_sv, 0, (size_t)m->d.NSTR * m->d.D * sizeof(float));
    loco__ag_heads_backward(m);
    loco__ag_core_backward(m);
    loco__ag_mmt_backward(m);
    loco__ag_strenc_backward(m);
    if (m->d.P) loco__ag_trunk_backward(m);
    return LOCO_OK;
}

void loco_agent_get_logits(const loco_agent *m, int b, int t, loco_agent_logits *out) {
    const loco_agent_config *c = &m->cfg;
    size_t r = (size_t)t * m->cur_B + b;
    out->type = m->a.lg[0] + r * LOCO_ACT_NUM_TYPES;
    out->x = m->a.lg[1] + r * c->x_bins;
    out->y = m->a.lg[2] + r * c->y_bins;
    out->key = m->a.lg[3] + r * c->n_keys;
    out->field = m->a.lg[4] + r * c->max_fields;
    out->value = m->a.value + r;
}
