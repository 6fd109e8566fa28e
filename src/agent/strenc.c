/*
 * The string encoder: every string of a step (the instruction, each task
 * field, each DOM element) becomes one d_model vector.
 *   x   = word[id] + pos[w] + kind[string kind]          (NSTR, S, E)
 *   x   = transformer block(x) over the string's words (masked by length)
 *   y   = attention(query, LN(x) Wk, LN(x) Wv)             one learned query
 *   out = y Wo + bo  (+ geometry Wg + bg for DOM elements) (NSTR, D)
 * Only the NP strings present in the batch are encoded, packed (spos maps
 * them back); an absent string (past n_fields or n_dom) gets y = 0, i.e. the
 * vector bo (+ its geometry), which nothing downstream reads: the
 * transformer masks it as a key and pools without it, the field head masks
 * it, so its gradient is exactly zero.
 */
#include <string.h>
#include "agent/ccnet_internal.h"
#include "agent/layers.h"
#include "nn/layers.h"

/* Row of element e of step bt among the strings. */
static size_t elem_row(const loco__ag_dims *d, int bt, int e) { return (size_t)bt * d->NS + 1 + d->F + e; }

void loco__ag_strenc_forward(loco_agent *m) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const loco__ag_params *p = &m->p;
    const int E = d->E, S = d->S, NP = d->NP, NW = NP * S, D = d->D;
    loco__ag_embed_forward(a->sx0, a->ids, p->word_emb, NW, E, E, 0);
    #pragma omp parallel for schedule(static)
    for (int str = 0; str < NP; str++)
        for (int w = 0; w < S; w++) {
            float *x = a->sx0 + ((size_t)str * S + w) * E;
            const float *ps = p->word_pos + (size_t)w * E, *k = p->str_kind + (size_t)a->kinds[str] * E;
            for (int j = 0; j < E; j++) x[j] += ps[j] + k[j];
        }
    loco__ag_block_forward(&p->str, &a->sb, a->sx0, a->smask, a->sproj, NP, S, E, c->str_heads);
    loco__layernorm_forward(a->sln, a->slnm, a->slnr, a->sb.out, p->str_lnw, p->str_lnb, NW, E);
    loco__matmul_forward(a->skv, a->sln, p->str_kvw, p->str_kvb, NW, E, 2 * E);           // (NW, 2E)
    for (int str = 0; str < NP; str++) memcpy(a->sq + (size_t)str * E, p->str_query, E * sizeof(float));
    loco__ag_attention_forward(a->sy, a->satt, a->sq, a->skv, a->skv + E, a->smask, NP, 1, S, E,
                               c->str_heads, E, 2 * E);                                     // (NP, E)
    loco__matmul_forward(a->svp, a->sy, p->str_outw, p->str_outb, NP, E, D);               // (NP, D)
    for (int str = 0; str < d->NSTR; str++) memcpy(a->sv + (size_t)str * D, p->str_outb, D * sizeof(float));
    for (int i = 0; i < NP; i++) memcpy(a->sv + (size_t)a->spos[i] * D, a->svp + (size_t)i * D, D * sizeof(float));
    if (d->ND) {
        loco__matmul_forward(a->gproj, a->geom, p->geom_w, p->geom_b, d->BT * d->ND, c->geom_dim, D);
        #pragma omp parallel for schedule(static)
        for (int i = 0; i < d->BT * d->ND; i++) {
            float *o = a->sv + elem_row(d, i / d->ND, i % d->ND) * D;
            const float *gp = a->gproj + (size_t)i * D;
            for (int j = 0; j < D; j++) o[j] += gp[j];
        }
    }
}

/* d_sv (NSTR, D) holds the string vectors' gradient on entry. */
void loco__ag_strenc_backward(loco_agent *m) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    loco__ag_acts *a = &m->a;
    const loco__ag_params *p = &m->p;
    const loco__ag_params *g = &m->g;
    const int E = d->E, S = d->S, NP = d->NP, NW = NP * S, D = d->D;
    if (d->ND) {
        /* gproj is free now: it holds the element rows of d_sv. */
        for (int i = 0; i < d->BT * d->ND; i++)
            memcpy(a->gproj + (size_t)i * D, a->d_sv + elem_row(d, i / d->ND, i % d->ND) * D, D * sizeof(float));
        loco__matmul_backward(a->dgeom, g->geom_w, g->geom_b, a->gproj, a->geom, p->geom_w, d->BT * d->ND,
                              c->geom_dim, D);
    }
    for (int i = 0; i < NP; i++) memcpy(a->d_svp + (size_t)i * D, a->d_sv + (size_t)a->spos[i] * D, D * sizeof(float));
    loco__matmul_backward(a->d_sy, g->str_outw, g->str_outb, a->d_svp, a->sy, p->str_outw, NP, E, D);
    loco__ag_attention_backward(a->d_sq, a->d_skv, a->d_skv + E, a->d_satt, a->d_sy, a->sq, a->skv,
                                a->skv + E, a->satt, NP, 1, S, E, c->str_heads, E, 2 * E);
    for (int str = 0; str < NP; str++)
        for (int j = 0; j < E; j++) g->str_query[j] += a->d_sq[(size_t)str * E + j];
    loco__matmul_backward(a->d_buf, g->str_kvw, g->str_kvb, a->d_skv, a->sln, p->str_kvw, NW, E, 2 * E);
    memset(a->d_sx, 0, (size_t)NW * E * sizeof(float));
    loco__layernorm_backward(a->d_sx, g->str_lnw, g->str_lnb, a->d_buf, a->sb.out, p->str_lnw, a->slnm,
                             a->slnr, NW, E);
    loco__ag_block_backward(&p->str, &g->str, &a->sb, a->sx0, a->d_sx, a->d_buf, a->d_qkv, a->d_fch, a->d_att,
                            NP, S, E, c->str_heads);
    loco__ag_embed_backward(g->word_emb, a->d_sx, a->ids, NW, E, E);
    /* Position and kind: sums over strings in string order, one thread per
     * position (kinds are few, so they are summed serially). */
    #pragma omp parallel for schedule(static)
    for (int w = 0; w < S; w++)
        for (int str = 0; str < NP; str++) {
            const float *dx = a->d_sx + ((size_t)str * S + w) * E;
            for (int j = 0; j < E; j++) g->word_pos[(size_t)w * E + j] += dx[j];
        }
    for (int str = 0; str < NP; str++)
        for (int w = 0; w < S; w++) {
            const float *dx = a->d_sx + ((size_t)str * S + w) * E;
            float *dk = g->str_kind + (size_t)a->kinds[str] * E;
            for (int j = 0; j < E; j++) dk[j] += dx[j];
        }
}
