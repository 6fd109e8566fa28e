/*
 * The whole agent: its parameter table and blocks, the activation block,
 * the forward pass (staging a batch, then trunk -> string encoder ->
 * multimodal transformer -> core -> heads), the backward pass in reverse,
 * and the optimizer step.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent/ccnet_internal.h"

/* ------------------------------------------------------------ parameters */

/* Lays out the parameter tensors at base (NULL: count only), recording the
 * table in m when record is set.  Returns the floats needed. */
typedef struct {
    loco_agent *m;
    float *base;
    size_t off;
    int record;
} pbuild;

static float *ten(pbuild *b, int init, float std, int nd, int d0, int d1, int d2, int d3, const char *fmt, ...) {
    int dims[4] = {d0, d1, d2, d3};
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)dims[i];
    if (b->record) {
        loco__ag_tensor *t = &b->m->tab[b->m->n_tensors++];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->name, sizeof t->name, fmt, ap);
        va_end(ap);
        t->ndim = nd;
        for (int i = 0; i < 4; i++) t->shape[i] = i < nd ? dims[i] : 1;
        t->offset = b->off;
        t->numel = n;
        t->init = init;
        t->std = std;
    }
    float *p = b->base ? b->base + b->off : NULL;
    b->off += n;
    return p;
}

/* A weight matrix (rows, cols) initialised N(0, 1/cols), its bias zero. */
#define MAT(dst, r, c, ...) dst = ten(b, LOCO__AG_INIT_NORMAL, 1.0f / sqrtf((float)(c)), 2, r, c, 0, 0, __VA_ARGS__)
#define VEC0(dst, n, ...) dst = ten(b, LOCO__AG_INIT_ZERO, 0, 1, n, 0, 0, 0, __VA_ARGS__)
#define VEC1(dst, n, ...) dst = ten(b, LOCO__AG_INIT_ONE, 0, 1, n, 0, 0, 0, __VA_ARGS__)
#define EMB(dst, r, c, ...) dst = ten(b, LOCO__AG_INIT_NORMAL, 0.02f, 2, r, c, 0, 0, __VA_ARGS__)

static void block_params(pbuild *b, loco__ag_block_p *p, int C, const char *pre) {
    VEC1(p->ln1w, C, "%s.ln1w", pre);
    VEC0(p->ln1b, C, "%s.ln1b", pre);
    MAT(p->qkvw, 3 * C, C, "%s.qkvw", pre);
    VEC0(p->qkvb, 3 * C, "%s.qkvb", pre);
    MAT(p->projw, C, C, "%s.projw", pre);
    VEC0(p->projb, C, "%s.projb", pre);
    VEC1(p->ln2w, C, "%s.ln2w", pre);
    VEC0(p->ln2b, C, "%s.ln2b", pre);
    MAT(p->fcw, 4 * C, C, "%s.fcw", pre);
    VEC0(p->fcb, 4 * C, "%s.fcb", pre);
    MAT(p->fcprojw, C, 4 * C, "%s.fcprojw", pre);
    VEC0(p->fcprojb, C, "%s.fcprojb", pre);
}

static size_t layout_params(loco_agent *m, loco__ag_params *p, float *base, int record) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    pbuild bb = {m, base, 0, record}, *b = &bb;
    memset(p, 0, sizeof *p);
    if (record) m->n_tensors = 0;
    const int D = d->D, E = d->E, H = d->H;
    if (c->obs & LOCO_OBS_PIXELS) {
        for (int s = 0; s < 4; s++) {
            int ci = s ? c->conv_ch[s - 1] : 3, co = c->conv_ch[s];
            p->conv_w[s] = ten(b, LOCO__AG_INIT_NORMAL, 1.0f / sqrtf(9.0f * ci), 4, co, 3, 3, ci, "trunk.%d.conv.w", s);
            VEC0(p->conv_b[s], co, "trunk.%d.conv.b", s);
            p->resa_w[s] = ten(b, LOCO__AG_INIT_NORMAL, 1.0f / sqrtf(9.0f * co), 4, co, 3, 3, co, "trunk.%d.resa.w", s);
            VEC0(p->resa_b[s], co, "trunk.%d.resa.b", s);
            p->resb_w[s] = ten(b, LOCO__AG_INIT_NORMAL, 1.0f / sqrtf(9.0f * co), 4, co, 3, 3, co, "trunk.%d.resb.w", s);
            VEC0(p->resb_b[s], co, "trunk.%d.resb.b", s);
        }
        MAT(p->pix_w, D, c->conv_ch[3], "trunk.proj.w");
        VEC0(p->pix_b, D, "trunk.proj.b");
        EMB(p->pix_pos, d->P, D, "trunk.pos");
    }
    EMB(p->word_emb, c->vocab_words + c->hash_buckets, E, "str.word");
    EMB(p->word_pos, d->S, E, "str.pos");
    EMB(p->str_kind, 3, E, "str.kind");
    block_params(b, &p->str, E, "str.block");
    VEC1(p->str_lnw, E, "str.lnw");
    VEC0(p->str_lnb, E, "str.lnb");
    p->str_query = ten(b, LOCO__AG_INIT_NORMAL, 1.0f, 1, E, 0, 0, 0, "str.query");
    MAT(p->str_kvw, 2 * E, E, "str.kvw");
    VEC0(p->str_kvb, 2 * E, "str.kvb");
    MAT(p->str_outw, D, E, "str.outw");
    VEC0(p->str_outb, D, "str.outb");
    if (c->obs & LOCO_OBS_DOM) {
        MAT(p->geom_w, D, c->geom_dim, "str.geom.w");
        VEC0(p->geom_b, D, "str.geom.b");
    }
    EMB(p->summary, 2, D, "mmt.summary");
    for (int l = 0; l < c->mmt_layers; l++) {
        char pre[16];
        snprintf(pre, sizeof pre, "mmt.%d", l);
        block_params(b, &p->mmt[l], D, pre);
    }
    VEC1(p->mmt_lnw, D, "mmt.lnw");
    VEC0(p->mmt_lnb, D, "mmt.lnb");
    EMB(p->pa_type, LOCO_ACT_NUM_TYPES + 1, D, "core.prev.type");
    EMB(p->pa_x, c->x_bins + 1, D, "core.prev.x");
    EMB(p->pa_y, c->y_bins + 1, D, "core.prev.y");
    EMB(p->pa_key, c->n_keys + 1, D, "core.prev.key");
    EMB(p->pa_field, c->max_fields + 1, D, "core.prev.field");
    MAT(p->core_w, H, 4 * D, "core.in.w");
    VEC0(p->core_b, H, "core.in.b");
    for (int l = 0; l < 2; l++) {
        MAT(p->lstm_wih[l], 4 * H, H, "core.lstm.%d.wih", l);
        MAT(p->lstm_whh[l], 4 * H, H, "core.lstm.%d.whh", l);
        VEC0(p->lstm_b[l], 4 * H, "core.lstm.%d.b", l);
    }
    MAT(p->type_w, LOCO_ACT_NUM_TYPES, H, "head.type.w");
    VEC0(p->type_b, LOCO_ACT_NUM_TYPES, "head.type.b");
    MAT(p->x_w, c->x_bins, H, "head.x.w");
    VEC0(p->x_b, c->x_bins, "head.x.b");
    EMB(p->xemb, c->x_bins + 1, d->DX, "head.xemb");
    MAT(p->y_w, c->y_bins, H + d->DX, "head.y.w");
    VEC0(p->y_b, c->y_bins, "head.y.b");
    MAT(p->key_w, c->n_keys, H, "head.key.w");
    VEC0(p->key_b, c->n_keys, "head.key.b");
    MAT(p->fq_w, D, H, "head.field.q.w");
    VEC0(p->fq_b, D, "head.field.q.b");
    /* No bias for the keys: a vector added to every key moves every field's
     * logit by the same q . b, which the softmax ignores. */
    MAT(p->fk_w, D, D, "head.field.k.w");
    MAT(p->value_w, 1, H, "head.value.w");
    VEC0(p->value_b, 1, "head.value.b");
    return b->off;
}

/* ----------------------------------------------------------- activations */

typedef struct {
    char *base;
    size_t off;   /* in floats */
} abuild;

/* n floats (or ints, or 4 bytes of chars), each tensor 64-byte aligned. */
static void *take(abuild *b, size_t n) {
    void *p = b->base ? b->base + b->off * 4 : NULL;
    b->off += (n + 15) & ~(size_t)15;
    return p;
}
#define TF(n) ((float *)take(b, (n)))
#define TI(n) ((int *)take(b, (n)))
#define TB(n) ((unsigned char *)take(b, ((n) + 3) / 4))

static void block_acts(abuild *b, loco__ag_block_a *a, size_t G, size_t T, size_t C, size_t NH) {
    size_t N = G * T;
    a->ln1 = TF(N * C); a->ln1m = TF(N); a->ln1r = TF(N);
    a->qkv = TF(N * 3 * C);
    a->atty = TF(N * C);
    a->att = TF(G * NH * T * T);
    a->res2 = TF(N * C);
    a->ln2 = TF(N * C); a->ln2m = TF(N); a->ln2r = TF(N);
    a->fch = TF(N * 4 * C); a->fchg = TF(N * 4 * C);
    a->out = TF(N * C);
}

static size_t max3(size_t a, size_t b, size_t c) { size_t m = a > b ? a : b; return m > c ? m : c; }

static size_t layout_acts(const loco_agent *m, loco__ag_acts *a, void *base) {
    const loco_agent_config *c = &m->cfg;
    const loco__ag_dims *d = &m->d;
    abuild bb = {base, 0}, *b = &bb;
    memset(a, 0, sizeof *a);
    const size_t BT = d->BT, R = BT, NSTR = d->NSTR, S = d->S, D = d->D, E = d->E, H = d->H;
    const size_t NT = BT * d->NTOK, NW = NSTR * S, F = d->F;
    a->img = TF(BT * d->hs[0] * d->ws[0] * 3);
    a->ids = TI(NW);
    a->kinds = TI(NSTR);
    a->spos = TI(NSTR);
    a->smask = TB(NW);
    a->kmask = TB(NT);
    a->pmask = TB(NT);
    a->nfield = TI(R);
    for (int h = 0; h < 5; h++) { a->tgt[h] = TI(R); a->pa[h] = TI(R); }
    a->first = TB(R);
    a->ximg = TI(R);
    a->geom = TF(BT * d->ND * c->geom_dim);
    a->gproj = TF(BT * d->ND * D);
    a->dgeom = TF(BT * d->ND * c->geom_dim);
    if (d->P) {
        for (int s = 0; s < 4; s++) {
            size_t n = BT * d->hs[s + 1] * d->ws[s + 1] * c->conv_ch[s];
            a->st_a[s] = TF(n); a->st_r1[s] = TF(n); a->st_c1[s] = TF(n);
            a->st_r2[s] = TF(n); a->st_o[s] = TF(n);
            a->d_st[s] = TF(d->stage_max);
        }
        a->pix_r = TF(BT * d->P * c->conv_ch[3]);
        a->pix_tok = TF(BT * d->P * D);
        a->col = TF(d->col_max);
        a->dcol = TF(d->col_max);
        a->d_pix = TF(BT * d->P * D);
    }
    a->sx0 = TF(NW * E);
    block_acts(b, &a->sb, NSTR, S, E, c->str_heads);
    a->sln = TF(NW * E); a->slnm = TF(NW); a->slnr = TF(NW);
    a->skv = TF(NW * 2 * E);
    a->sq = TF(NSTR * E);
    a->satt = TF(NSTR * c->str_heads * S);
    a->sy = TF(NSTR * E);
    a->sv = TF(NSTR * D);
    a->svp = TF(NSTR * D);
    a->sproj = TF(NW * E);
    a->tok = TF(NT * D);
    for (int l = 0; l < c->mmt_layers; l++) block_acts(b, &a->mb[l], BT, d->NTOK, D, c->mmt_heads);
    a->lnf = TF(NT * D); a->lnfm = TF(NT); a->lnfr = TF(NT);
    a->pool = TF(BT * D);
    a->mproj = TF(NT * D);
    a->cin = TF(R * 4 * D);
    a->x0 = TF(R * H);
    for (int l = 0; l < 2; l++) {
        a->pre[l] = TF(R * 4 * H); a->gact[l] = TF(R * 4 * H);
        a->c[l] = TF(R * H); a->tc[l] = TF(R * H); a->h[l] = TF(R * H);
        a->hprev[l] = TF(R * H); a->cprev[l] = TF(R * H);
        for (int k = 0; k < 2; k++) { a->state[l][k] = TF(d->B * H); a->state_next[l][k] = TF(d->B * H); }
    }
    a->y1 = TF(R * H); a->y2 = TF(R * H);
    size_t nv[5] = {LOCO_ACT_NUM_TYPES, c->x_bins, c->y_bins, c->n_keys, F};
    for (int h = 0; h < 5; h++) {
        a->lg[h] = TF(R * nv[h]); a->d_lg[h] = TF(R * nv[h]);
        a->lse[h] = TF(R); a->losses[h] = TF(R);
    }
    a->yin = TF(R * (H + d->DX)); a->d_yin = TF(R * (H + d->DX));
    a->fq = TF(R * D); a->d_fq = TF(R * D);
    a->fk = TF(BT * F * D); a->d_fk = TF(BT * F * D);
    a->value = TF(R);
    a->d_y2 = TF(R * H); a->d_y1 = TF(R * H); a->d_x0 = TF(R * H);
    a->d_h = TF(d->B * H); a->d_c = TF(d->B * H); a->d_cn = TF(d->B * H);
    a->d_pre = TF(R * 4 * H);
    a->d_cin = TF(R * 4 * D);
    a->d_tok = TF(NT * D);
    size_t rows = NW > NT ? NW : NT, wide = (NW * E > NT * D ? NW * E : NT * D);
    a->d_buf = TF(wide);
    a->d_qkv = TF(3 * wide);
    a->d_fch = TF(4 * wide);
    a->d_att = TF(max3(NSTR * c->str_heads * S * S, BT * c->mmt_heads * d->NTOK * d->NTOK, 1));
    (void)rows;
    a->d_pool = TF(BT * D);
    a->d_sv = TF(NSTR * D);
    a->d_svp = TF(NSTR * D);
    a->d_sy = TF(NSTR * E); a->d_sq = TF(NSTR * E);
    a->d_skv = TF(NW * 2 * E);
    a->d_sx = TF(NW * E);
    a->d_satt = TF(NSTR * c->str_heads * S);
    return b->off;
}

/* ---------------------------------------------------------------- create */

static void init_params(loco_agent *m, uint64_t seed) {
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    for (int i = 0; i < m->n_tensors; i++) {
        const loco__ag_tensor *t = &m->tab[i];
        float *p = m->params + t->offset;
        for (size_t j = 0; j < t->numel; j++)
            p[j] = t->init == LOCO__AG_INIT_ONE ? 1.0f
                 : t->init == LOCO__AG_INIT_ZERO ? 0.0f : t->std * loco_rng_normal(&rng);
    }
}

/* The activations of one step (B = T = 1) are capped, so that a
 * configuration read from a file cannot ask for terabytes. */
#define MAX_STEP_ACT_FLOATS ((size_t)1 << 28)   /* 1 GiB */

size_t loco__ag_count_params(const loco_agent_config *cfg) {
    loco_agent *m = calloc(1, sizeof *m);
    if (!m) return 0;
    m->cfg = *cfg;
    loco__ag_dims_compute(&m->d, cfg, 1, 1);
    size_t n = layout_params(m, &m->p, NULL, 1);
    free(m);
    return n;
}

int loco_agent_create(loco_agent **out, const loco_agent_config *cfg, int B, int T, uint64_t seed,
                      char *msg, size_t msglen) {
    if (!out) return LOCO_EINVAL;
    *out = NULL;
    int err = loco_agent_config_check(cfg, msg, msglen);
    if (err) return err;
    if (B < 1 || T < 1 || (long)B * T > (1L << 20)) {
        if (msg && msglen) snprintf(msg, msglen, "batch capacity B=%d T=%d out of range", B, T);
        return LOCO_ECONFIG;
    }
    loco_agent *m = calloc(1, sizeof *m);
    if (!m) return LOCO_ENOMEM;
    m->cfg = *cfg;
    m->cap_B = B;
    m->cap_T = T;
    loco__ag_dims_compute(&m->d, cfg, 1, 1);
    size_t one = layout_acts(m, &m->a, NULL);
    if (one > MAX_STEP_ACT_FLOATS) {
        if (msg && msglen) snprintf(msg, msglen, "the activations of one step would take %zu MiB (at most %zu)",
                                    one >> 18, MAX_STEP_ACT_FLOATS >> 18);
        free(m);
        return LOCO_ECONFIG;
    }
    loco__ag_dims_compute(&m->d, cfg, B, T);
    size_t np = layout_params(m, &m->p, NULL, 1);
    m->num_params = np;
    m->act_floats = layout_acts(m, &m->a, NULL);
    m->params = malloc(np * sizeof(float));
    m->grads = calloc(np, sizeof(float));
    m->opt_m = calloc(np, sizeof(float));
    m->opt_v = calloc(np, sizeof(float));
    m->act_block = calloc(m->act_floats, sizeof(float));
    if (!m->params || !m->grads || !m->opt_m || !m->opt_v || !m->act_block) {
        if (msg && msglen) snprintf(msg, msglen, "cannot allocate the model (%zu parameters, %zu activation floats)",
                                    np, m->act_floats);
        loco_agent_free(m);
        return LOCO_ENOMEM;
    }
    layout_params(m, &m->p, m->params, 0);
    layout_params(m, &m->g, m->grads, 0);
    layout_acts(m, &m->a, m->act_block);
    init_params(m, seed);
    *out = m;
    return LOCO_OK;
}

void loco_agent_free(loco_agent *m) {
    if (!m) return;
    free(m->params);
    free(m->grads);
    free(m->opt_m);
    free(m->opt_v);
    free(m->act_block);
    free(m);
}

const loco_agent_config *loco_agent_get_config(const loco_agent *m) { return &m->cfg; }
size_t loco_agent_num_params(const loco_agent *m) { return m->num_params; }
float *loco_agent_params(loco_agent *m) { return m->params; }
float *loco_agent_grads(loco_agent *m) { return m->grads; }
int loco_agent_num_tensors(const loco_agent *m) { return m->n_tensors; }
float loco_agent_loss(const loco_agent *m) { return m->loss; }

int loco_agent_tensor(const loco_agent *m, int i, const char **name, int *ndim, int shape[4], size_t *offset) {
    if (i < 0 || i >= m->n_tensors) return -1;
    const loco__ag_tensor *t = &m->tab[i];
    if (name) *name = t->name;
    if (ndim) *ndim = t->ndim;
    if (shape) memcpy(shape, t->shape, sizeof t->shape);
    if (offset) *offset = t->offset;
    return 0;
}

void loco_agent_zero_grad(loco_agent *m) { memset(m->grads, 0, m->num_params * sizeof(float)); }

void loco_agent_reset_state(loco_agent *m) {
    for (int l = 0; l < 2; l++)
        for (int k = 0; k < 2; k++) memset(m->a.state[l][k], 0, (size_t)m->cap_B * m->d.H * sizeof(float));
}

void loco_agent_carry_state(loco_agent *m) {
    for (int l = 0; l < 2; l++)
        for (int k = 0; k < 2; k++)
            memcpy(m->a.state[l][k], m->a.state_next[l][k], (size_t)m->cur_B * m->d.H * sizeof(float));
}

/* ------------------------------------------------------------- optimizer */

int loco_agent_adamw_step(loco_agent *m, const loco_adamw_config *cfg, int step, float *norm_out) {
    float norm = loco_grad_norm(m->grads, m->num_params);
    if (norm_out) *norm_out = norm;
    if (!isfinite(norm)) return LOCO_ENONFINITE;
    float gscale = (cfg->grad_clip > 0 && norm > cfg->grad_clip) ? cfg->grad_clip / norm : 1.0f;
    float lr = loco_lr_schedule(cfg, step);
    m->adam_t++;
    for (int i = 0; i < m->n_tensors; i++) {
        const loco__ag_tensor *t = &m->tab[i];
        size_t o = t->offset;
        loco_adamw_update(m->params + o, m->grads + o, m->opt_m + o, m->opt_v + o, t->numel, lr, cfg->beta1,
                          cfg->beta2, cfg->eps, t->ndim >= 2 ? cfg->weight_decay : 0.0f, gscale, (int)m->adam_t);
    }
    return LOCO_OK;
}
