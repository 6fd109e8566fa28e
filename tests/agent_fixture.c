#include <stdlib.h>
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
