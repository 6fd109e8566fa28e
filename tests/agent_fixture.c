#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent_fixture.h"

void agent_fixture_config(loco_agent_config *c, int obs) {
    *c = (loco_agent_config){
        .frame_h = 20, .frame_w = 16, .conv_ch = {3, 4, 5, 6},
        .d_model = 16, .mmt_layers = 2, .mmt_heads = 2,
        .vocab_words = 20, .hash_buckets = 7, .word_dim = 8, .str_heads = 2, .max_words = 5,
        .max_dom = 3, .max_fields = 2, .geom_dim = 4,
        .lstm_hidden = 12, .x_bins = 6, .y_bins = 5, .n_keys = 7, .xemb_dim = 4, .obs = obs,
    };
}

static int rnd(loco_rng *r, int n) { return (int)(loco_rng_u64(r) % (uint64_t)n); }

void agent_fixture_batch(agent_fixture *f, const loco_agent_config *c, int B, int T, uint64_t seed) {
    loco_rng r;
    loco_rng_seed(&r, seed);
    const int BT = B * T, NS = loco_agent_num_strings(c), S = c->max_words;
    f->frames = malloc((size_t)BT * c->frame_h * c->frame_w * 3);
    f->words = malloc((size_t)BT * NS * S * sizeof(int32_t));
    f->nwords = malloc((size_t)BT * NS * sizeof(int32_t));
    f->geom = malloc((size_t)BT * c->max_dom * c->geom_dim * sizeof(float));
    f->n_dom = malloc(BT * sizeof(int32_t));
    f->n_fields = malloc(BT * sizeof(int32_t));
    f->first = malloc(BT);
    f->valid = malloc(BT);
    f->prev = malloc(BT * sizeof(loco_agent_action));
    f->target = malloc(BT * sizeof(loco_agent_action));
    for (size_t i = 0; i < (size_t)BT * c->frame_h * c->frame_w * 3; i++) f->frames[i] = (uint8_t)rnd(&r, 256);
    for (size_t i = 0; i < (size_t)BT * NS * S; i++) f->words[i] = rnd(&r, c->vocab_words + c->hash_buckets);
    for (size_t i = 0; i < (size_t)BT * NS; i++) f->nwords[i] = 1 + rnd(&r, S);
    for (size_t i = 0; i < (size_t)BT * c->max_dom * c->geom_dim; i++) f->geom[i] = loco_rng_uniform(&r);
    for (int i = 0; i < BT; i++) {
        int t = i % T;
        f->n_dom[i] = rnd(&r, c->max_dom + 1);             /* 0 .. max_dom */
        f->n_fields[i] = rnd(&r, c->max_fields + 1);       /* 0 .. max_fields */
        f->first[i] = t == 0 || rnd(&r, 4) == 0;
        f->valid[i] = i != 1;                               /* step (0, 1) is left out */
        loco_agent_action *p = &f->prev[i], *g = &f->target[i];
        /* cycle through every type so that each head is trained */
        int type = (i * 7 + 3) % LOCO_ACT_NUM_TYPES;
        /* with one field the field head is certain and learns nothing */
        if (type == LOCO_ACT_TYPE_FIELD) f->n_fields[i] = c->max_fields;
        *g = (loco_agent_action){type, -1, -1, -1, -1};
        if (loco_act_uses_xy(type)) { g->x = rnd(&r, c->x_bins); g->y = rnd(&r, c->y_bins); }
        if (loco_act_uses_key(type)) g->key = rnd(&r, c->n_keys);
        if (loco_act_uses_field(type)) g->field = rnd(&r, f->n_fields[i]);
        if (f->first[i]) *p = (loco_agent_action){-1, -1, -1, -1, -1};
        else *p = (loco_agent_action){rnd(&r, LOCO_ACT_NUM_TYPES), rnd(&r, c->x_bins + 1) - 1, rnd(&r, c->y_bins + 1) - 1,
                                      rnd(&r, c->n_keys + 1) - 1, rnd(&r, c->max_fields + 1) - 1};
    }
    f->b = (loco_agent_batch){B, T, f->frames, f->words, f->nwords, f->geom, f->n_dom, f->n_fields,
                              f->first, f->prev, f->target, f->valid};
}

void agent_fixture_free(agent_fixture *f) {
    free(f->frames); free(f->words); free(f->nwords); free(f->geom); free(f->n_dom);
    free(f->n_fields); free(f->first); free(f->valid); free(f->prev); free(f->target);
}

/* The model and batch as tests/ref_agent.py reads them (its docstring has the layout). */
static void put_i32(FILE *f, const int32_t *v, long n) {
    int32_t k = (int32_t)n;
    fwrite(&k, 4, 1, f);
    fwrite(v, 4, n, f);
}

int agent_fixture_write(const char *path, loco_agent *m, const agent_fixture *fx) {
    const loco_agent_config *c = loco_agent_get_config(m);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int32_t cfg[25] = {c->frame_h, c->frame_w, c->conv_ch[0], c->conv_ch[1], c->conv_ch[2], c->conv_ch[3],
                       c->d_model, c->mmt_layers, c->mmt_heads, c->vocab_words, c->hash_buckets, c->word_dim,
                       c->str_heads, c->max_words, c->max_dom, c->max_fields, c->geom_dim, c->lstm_hidden,
                       c->x_bins, c->y_bins, c->n_keys, c->xemb_dim, c->obs, fx->b.B, fx->b.T};
    put_i32(f, cfg, 25);
    int32_t nt = loco_agent_num_tensors(m);
    fwrite(&nt, 4, 1, f);
    const float *p = loco_agent_params(m);
    for (int i = 0; i < nt; i++) {
        const char *name;
        int nd, sh[4];
        size_t off;
        loco_agent_tensor(m, i, &name, &nd, sh, &off);
        int32_t ln = (int32_t)strlen(name), hdr[5] = {nd, sh[0], sh[1], sh[2], sh[3]};
        fwrite(&ln, 4, 1, f);
        fwrite(name, 1, ln, f);
        fwrite(hdr, 4, 5, f);
        long n = (long)sh[0] * sh[1] * sh[2] * sh[3];
        fwrite(p + off, 4, n, f);
    }
    const int BT = fx->b.B * fx->b.T, NS = loco_agent_num_strings(c);
    long nfr = (long)BT * c->frame_h * c->frame_w * 3;
    int32_t *tmp = malloc(nfr * sizeof(int32_t));
    for (long i = 0; i < nfr; i++) tmp[i] = fx->frames[i];
    put_i32(f, tmp, nfr);
    put_i32(f, fx->words, (long)BT * NS * c->max_words);
    put_i32(f, fx->nwords, (long)BT * NS);
    int32_t ng = BT * c->max_dom * c->geom_dim;
    fwrite(&ng, 4, 1, f);
    fwrite(fx->geom, 4, ng, f);
    put_i32(f, fx->n_dom, BT);
    put_i32(f, fx->n_fields, BT);
    for (int i = 0; i < BT; i++) tmp[i] = fx->first[i];
    put_i32(f, tmp, BT);
    put_i32(f, (const int32_t *)fx->prev, 5L * BT);
    put_i32(f, (const int32_t *)fx->target, 5L * BT);
    for (int i = 0; i < BT; i++) tmp[i] = fx->valid[i];
    put_i32(f, tmp, BT);
    free(tmp);
    return fclose(f);
}

