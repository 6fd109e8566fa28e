/* The agent's internal layout: parameter and activation tensors, shared by
 * the modules of src/agent.  Not part of the public API. */
#ifndef LOCO_AGENT_CCNET_INTERNAL_H
#define LOCO_AGENT_CCNET_INTERNAL_H

#include "loco/agent.h"

#define LOCO__AG_MAX_TENSORS 256
#define LOCO__AG_MAX_LAYERS 16

/* One entry of the parameter table (checkpoints and the optimizer read it). */
typedef struct {
    char name[40];
    int ndim, shape[4];
    size_t offset, numel;
    int init;       /* LOCO__AG_INIT_* */
    float std;      /* for LOCO__AG_INIT_NORMAL */
} loco__ag_tensor;
enum { LOCO__AG_INIT_ZERO, LOCO__AG_INIT_ONE, LOCO__AG_INIT_NORMAL };

/* A pre-LayerNorm transformer block's parameters (C channels). */
typedef struct {
    float *ln1w, *ln1b;      // (C)
    float *qkvw, *qkvb;      // (3C, C), (3C)
    float *projw, *projb;    // (C, C), (C)
    float *ln2w, *ln2b;      // (C)
    float *fcw, *fcb;        // (4C, C), (4C)
    float *fcprojw, *fcprojb;// (C, 4C), (C)
} loco__ag_block_p;

/* Its activations for N = G*T rows (G groups of T tokens). */
typedef struct {
    float *ln1, *ln1m, *ln1r;   // (N, C), (N), (N)
    float *qkv;                 // (N, 3C)
    float *atty;                // (N, C)
    float *att;                 // (G, NH, T, T)
    float *res2;                // (N, C)
    float *ln2, *ln2m, *ln2r;   // (N, C), (N), (N)
    float *fch, *fchg;          // (N, 4C)
    float *out;                 // (N, C)
} loco__ag_block_a;

/* Every parameter tensor; the same struct points into the gradients. */
typedef struct {
    /* pixel trunk: stage s = conv (stride 2) then a residual pair of convs */
    float *conv_w[4], *conv_b[4];   // (C_s, 3, 3, C_{s-1}), (C_s)
    float *resa_w[4], *resa_b[4];   // (C_s, 3, 3, C_s), (C_s)
    float *resb_w[4], *resb_b[4];
    float *pix_w, *pix_b;           // (D, C_3), (D)
    float *pix_pos;                 // (P, D)
    /* string encoder */
    float *word_emb;                // (Vw + Hb, E)
    float *word_pos;                // (S, E)
    float *str_kind;                // (3, E): instruction, field, element
    loco__ag_block_p str;
    float *str_lnw, *str_lnb;       // (E)
    float *str_query;               // (E)
    float *str_kvw, *str_kvb;       // (2E, E), (2E)
    float *str_outw, *str_outb;     // (D, E), (D)
    float *geom_w, *geom_b;         // (D, G), (D)
    /* multimodal transformer */
    float *summary;                 // (2, D)
    loco__ag_block_p mmt[LOCO__AG_MAX_LAYERS];
    float *mmt_lnw, *mmt_lnb;       // (D)
    /* core */
    float *pa_type, *pa_x, *pa_y, *pa_key, *pa_field;  // (n + 1, D) each; row n = none
    float *core_w, *core_b;         // (H, 4D), (H)
    float *lstm_wih[2], *lstm_whh[2], *lstm_b[2];  // (4H, H), (4H, H), (4H)
    /* heads */
    float *type_w, *type_b;         // (10, H)
    float *x_w, *x_b;               // (NX, H)
    float *xemb;                    // (NX + 1, DX)
    float *y_w, *y_b;               // (NY, H + DX)
    float *key_w, *key_b;           // (NK, H)
    float *fq_w, *fq_b;             // (D, H)
    float *fk_w;                    // (D, D), no bias (softmax-invariant)
    float *value_w, *value_b;       // (1, H)
} loco__ag_params;

/* Derived sizes. */
typedef struct {
    int B, T, BT;               /* capacity */
    int hs[5], ws[5];           /* frame sizes: stage input s = 0..3, and the grid (4) */
    int P;                      /* pixel tokens (0 without pixels) */
    int ND;                     /* DOM strings per step (0 without DOM) */
    int NS, S, NSTR;            /* strings per step, words per string, strings in all */
    int NTOK;                   /* tokens of the multimodal transformer per step */
    int NDT;                    /* DOM tokens per step: the batch's largest n_dom (capacity: ND) */
    int NP;                     /* strings present in the batch (capacity: NSTR) */
    int D, E, H, DX, F;
    size_t stage_max;           /* floats of the largest trunk stage tensor */
    size_t col_max;             /* floats of the largest im2col matrix */
} loco__ag_dims;

typedef struct {
    /* inputs as the model sees them */
    float *img;                 // (BT, H0, W0, 3) in [0, 1]
    int *ids;                   // (NP, S) present strings, packed
    int *kinds;                 // (NP)
    unsigned char *smask;       // (NP, S) words present
    int *spos;                  // (NP) each packed string's row among the NSTR strings
    unsigned char *kmask;       // (BT, NTOK) tokens present
    unsigned char *pmask;       // (BT, NTOK) tokens pooled
    int *nfield;                // (T*B) time-major
    int *tgt[5];                // (T*B) time-major; -1 where a head is unused
    int *pa[5];                 // (T*B) previous action rows
    unsigned char *first;       // (T*B)
    int *ximg;                  // (T*B) x bin that conditions the y head
    float *geom;                // (BT*ND, G) element geometry
    float *gproj;               // (BT*ND, D) its projection
    float *dgeom;               // (BT*ND, G) scratch for the geometry's gradient
    /* pixel trunk, per stage */
    float *st_a[4], *st_r1[4], *st_c1[4], *st_r2[4], *st_o[4];  // (BT, hs, ws, C_s)
    float *pix_r;               // (BT, P, C_3) relu of the last stage
    float *pix_tok;             // (BT, P, D)
    float *col, *dcol;          // (col_max) scratch
    /* string encoder */
    float *sx0;                 // (NSTR*S, E)
    loco__ag_block_a sb;
    float *sln, *slnm, *slnr;   // (NSTR*S, E), (NSTR*S) x2
    float *skv;                 // (NSTR*S, 2E)
    float *sq;                  // (NSTR, E) the query, broadcast
    float *satt;                // (NSTR, NH_s, 1, S)
    float *sy;                  // (NSTR, E)
    float *sv;                  // (NSTR, D) string vectors (+ geometry for elements)
    float *svp;                 // (NP, D) the present strings' vectors, packed
    float *sproj;               // (NSTR*S, E) scratch
    /* multimodal transformer */
    float *tok;                 // (BT, NTOK, D)
    loco__ag_block_a mb[LOCO__AG_MAX_LAYERS];
    float *lnf, *lnfm, *lnfr;   // (BT*NTOK, D), (BT*NTOK) x2
    float *pool;                // (BT, D)
    float *mproj;               // (BT*NTOK, D) scratch
    /* core, time-major rows r = t*B + b */
    float *cin;                 // (T*B, 4D)
    float *x0;                  // (T*B, H)
    float *pre[2], *gact[2];    // (T*B, 4H)
    float *c[2], *tc[2], *h[2]; // (T*B, H)
    float *hprev[2], *cprev[2]; // (T*B, H) the state each step starts from
    float *y1, *y2;             // (T*B, H)
    float *state[2][2];         // [layer][h, c] (B, H) initial state
    float *state_next[2][2];    // [layer][h, c] (B, H) state after the last step
    /* heads */
    float *lg[5];               // type (R,10), x (R,NX), y (R,NY), key (R,NK), field (R,F)
    float *yin;                 // (R, H + DX)
    float *fq;                  // (R, D)
    float *fk;                  // (BT*F, D) keys of the fields, (b, t) order
    float *value;               // (R)
    float *lse[5], *losses[5];  // (R)
    /* backward scratch */
    float *d_lg[5];             // like lg
    float *d_yin, *d_fq, *d_fk; // like yin, fq, fk
    float *d_y2, *d_y1, *d_x0;  // (R, H)
    float *d_h, *d_c, *d_cn;    // (B, H)
    float *d_pre;               // (R, 4H)
    float *d_cin;               // (R, 4D)
    float *d_tok;               // (BT*NTOK, D) residual stream
    float *d_buf, *d_qkv, *d_fch, *d_att;  // max over both transformers
    float *d_pool;              // (BT, D)
    float *d_sv;                // (NSTR, D)
    float *d_svp;               // (NP, D)
    float *d_sy, *d_sq;         // (NSTR, E)
    float *d_skv;               // (NSTR*S, 2E)
    float *d_sx;                // (NSTR*S, E) residual stream
    float *d_satt;              // (NSTR, NH_s, 1, S)
    float *d_pix;               // (BT, P, D)
    float *d_st[4];             // (stage_max) x4 trunk scratch
} loco__ag_acts;

struct loco_agent {
    loco_agent_config cfg;
    loco__ag_dims d;            /* sizes of the current batch (capacity at creation) */
    int cap_B, cap_T;
    int cur_B, cur_T, have_targets;
    float loss;
    float n_valid;               /* steps in the loss */
    loco__ag_tensor tab[LOCO__AG_MAX_TENSORS];
    int n_tensors;
    size_t num_params;
    float *params, *grads, *opt_m, *opt_v;
    long adam_t;
    loco__ag_params p, g;
    float *act_block;
    size_t act_floats;
    loco__ag_acts a;
};

/* Parameters of a configuration (it must pass loco_agent_config_check),
 * without allocating them; 0 when memory runs out (ccnet.c). */
size_t loco__ag_count_params(const loco_agent_config *cfg);

/* Sizes for B sequences of T steps (config.c). */
void loco__ag_dims_compute(loco__ag_dims *d, const loco_agent_config *c, int B, int T);

/* Module entry points (each in its own file). */
void loco__ag_trunk_forward(loco_agent *m);
void loco__ag_trunk_backward(loco_agent *m);
void loco__ag_strenc_forward(loco_agent *m);
void loco__ag_strenc_backward(loco_agent *m);
void loco__ag_mmt_forward(loco_agent *m);
void loco__ag_mmt_backward(loco_agent *m);
void loco__ag_core_forward(loco_agent *m);
void loco__ag_core_backward(loco_agent *m);
void loco__ag_heads_forward(loco_agent *m);
void loco__ag_heads_backward(loco_agent *m);

/* A transformer block (block.c): out = x + attn(LN1 x), then + MLP(LN2 .),
 * over G groups of T tokens with key mask kmask (G, T); proj (N, C) scratch. */
void loco__ag_block_forward(const loco__ag_block_p *p, loco__ag_block_a *a, const float *x,
                            const unsigned char *kmask, float *proj, int G, int T, int C, int NH);
/* dres (N, C): on entry the gradient of the block's output, on return that of
 * its input x.  dbuf (N, C), dqkv (N, 3C), dfch (N, 4C), datt scratch. */
void loco__ag_block_backward(const loco__ag_block_p *p, const loco__ag_block_p *g,
                             const loco__ag_block_a *a, const float *x, float *dres, float *dbuf,
                             float *dqkv, float *dfch, float *datt, int G, int T, int C, int NH);

#endif
