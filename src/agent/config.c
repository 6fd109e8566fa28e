/*
 * The agent's configurations: the paper's sizes, a small one for CPU
 * training, the check of a configuration, and the sizes derived from it.
 */
#include <stdio.h>
#include "agent/ccnet_internal.h"
#include "agent/layers.h"

/* CC-Net as the reference describes it (agents.md 1.3), on MiniWoB's 160x210
 * task area: 4 stride-2 stages give a 14x10 grid of 140 pixel tokens. */
void loco_agent_config_paper(loco_agent_config *c) {
    *c = (loco_agent_config){
        .frame_h = 210, .frame_w = 160, .conv_ch = {32, 128, 256, 512},
        .d_model = 512, .mmt_layers = 8, .mmt_heads = 8,
        .vocab_words = 370, .hash_buckets = 1000, .word_dim = 64, .str_heads = 4, .max_words = 16,
        .max_dom = 64, .max_fields = 20, .geom_dim = 8,
        .lstm_hidden = 512, .x_bins = 51, .y_bins = 51, .n_keys = 104, .xemb_dim = 64,
        .obs = LOCO_OBS_BOTH,
    };
}

void loco_agent_config_small(loco_agent_config *c) {
    *c = (loco_agent_config){
        .frame_h = 210, .frame_w = 160, .conv_ch = {8, 16, 32, 32},
        .d_model = 128, .mmt_layers = 2, .mmt_heads = 4,
        .vocab_words = 370, .hash_buckets = 1000, .word_dim = 32, .str_heads = 4, .max_words = 12,
        .max_dom = 32, .max_fields = 8, .geom_dim = 8,
        .lstm_hidden = 128, .x_bins = 51, .y_bins = 51, .n_keys = 104, .xemb_dim = 32,
        .obs = LOCO_OBS_BOTH,
    };
}

int loco_agent_config_check(const loco_agent_config *c, char *msg, size_t n) {
#define BAD(...) do { if (msg && n) snprintf(msg, n, __VA_ARGS__); return LOCO_ECONFIG; } while (0)
#define RANGE(f, lo, hi) if (c->f < (lo) || c->f > (hi)) BAD(#f " must be in [%d, %d], got %d", lo, hi, c->f)
    if (!c) BAD("no configuration");
    RANGE(obs, 1, 3);
    RANGE(frame_h, 1, 4096);
    RANGE(frame_w, 1, 4096);
    for (int s = 0; s < 4; s++) RANGE(conv_ch[s], 1, 4096);
    RANGE(d_model, 1, 8192);
    RANGE(mmt_layers, 1, LOCO__AG_MAX_LAYERS);
    RANGE(mmt_heads, 1, 256);
    if (c->d_model % c->mmt_heads) BAD("d_model (%d) must be a multiple of mmt_heads (%d)", c->d_model, c->mmt_heads);
    RANGE(vocab_words, 1, 1 << 24);
    RANGE(hash_buckets, 0, 1 << 24);
    RANGE(word_dim, 1, 4096);
    RANGE(str_heads, 1, 256);
    if (c->word_dim % c->str_heads) BAD("word_dim (%d) must be a multiple of str_heads (%d)", c->word_dim, c->str_heads);
    RANGE(max_words, 1, 1024);
    RANGE(max_dom, 1, 4096);
    RANGE(max_fields, 1, 256);
    RANGE(geom_dim, 1, 256);
    RANGE(lstm_hidden, 1, 8192);
    RANGE(x_bins, 1, 4096);
    RANGE(y_bins, 1, 4096);
    RANGE(n_keys, 1, 4096);
    RANGE(xemb_dim, 1, 4096);
    return LOCO_OK;
#undef RANGE
#undef BAD
}

int loco_agent_num_strings(const loco_agent_config *c) {
    return 1 + c->max_fields + ((c->obs & LOCO_OBS_DOM) ? c->max_dom : 0);
}

/* Sizes for B sequences of T steps. */
void loco__ag_dims_compute(loco__ag_dims *d, const loco_agent_config *c, int B, int T) {
    d->B = B;
    d->T = T;
    d->BT = B * T;
    d->hs[0] = c->frame_h;
    d->ws[0] = c->frame_w;
    for (int s = 0; s < 4; s++) {
        d->hs[s + 1] = loco__ag_conv_out(d->hs[s], 3, 2, 1);
        d->ws[s + 1] = loco__ag_conv_out(d->ws[s], 3, 2, 1);
    }
    int pix = (c->obs & LOCO_OBS_PIXELS) != 0;
    d->P = pix ? d->hs[4] * d->ws[4] : 0;
    d->ND = (c->obs & LOCO_OBS_DOM) ? c->max_dom : 0;
    d->NS = loco_agent_num_strings(c);
    d->S = c->max_words;
    d->NSTR = d->BT * d->NS;
    d->NDT = d->ND;
    d->NP = d->NSTR;
    d->NTOK = 2 + d->P + 1 + d->NDT;
    d->D = c->d_model;
    d->E = c->word_dim;
    d->H = c->lstm_hidden;
    d->DX = c->xemb_dim;
    d->F = c->max_fields;
    d->stage_max = d->col_max = 0;
    for (int s = 0; pix && s < 4; s++) {
        size_t px = (size_t)d->hs[s + 1] * d->ws[s + 1];
        size_t st = (size_t)d->BT * px * c->conv_ch[s];
        size_t cin = s ? c->conv_ch[s - 1] : 3;
        size_t c1 = px * 9 * cin, c2 = px * 9 * c->conv_ch[s];
        if (st > d->stage_max) d->stage_max = st;
        if (c1 > d->col_max) d->col_max = c1;
        if (c2 > d->col_max) d->col_max = c2;
    }
}
