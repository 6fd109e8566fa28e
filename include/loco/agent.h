/*
 * The CC-Net agent (Humphreys et al. 2022): a policy that sees the screen's
 * pixels, the DOM, the instruction, the task fields and its previous action,
 * and acts with mouse and keyboard.  Forward and backward are written by hand
 * (src/agent/); docs/agent.md describes the network.
 *
 *   pixels (H,W,3) -> 4 ResNet stages (stride 2) -> grid of visual tokens
 *   strings (instruction, task fields, DOM elements) -> word + hashed OOV
 *       embeddings -> 1 transformer layer -> a learned query cross-attends
 *       -> one vector per string (+ the element's box geometry for the DOM)
 *   multimodal transformer (non-causal) over [2 summary tokens | pixels |
 *       instruction | DOM elements]
 *   core: [summary0 | summary1 | mean of the rest | previous action] ->
 *       linear -> LSTM with residual -> LSTM with residual
 *   heads: action type, cursor x, cursor y given x, key, task field
 *       (attention over the field vectors), value
 *
 * A model is created for a capacity of B sequences of T steps; parameters,
 * gradients, optimizer moments and activations are four allocations made at
 * creation, and nothing is allocated by a forward, backward or update.
 */
#ifndef LOCO_AGENT_H
#define LOCO_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ten action types of CC-Net (MiniWoB++'s humphreys22 preset). */
typedef enum {
    LOCO_ACT_NONE, LOCO_ACT_MOVE, LOCO_ACT_CLICK, LOCO_ACT_DBLCLICK, LOCO_ACT_MOUSEDOWN,
    LOCO_ACT_MOUSEUP, LOCO_ACT_SCROLL_UP, LOCO_ACT_SCROLL_DOWN, LOCO_ACT_PRESS_KEY,
    LOCO_ACT_TYPE_FIELD, LOCO_ACT_NUM_TYPES
} loco_act_type;

/* Which heads an action type uses besides the type head itself. */
static inline int loco_act_uses_xy(int type) { return type >= LOCO_ACT_MOVE && type <= LOCO_ACT_SCROLL_DOWN; }
static inline int loco_act_uses_key(int type) { return type == LOCO_ACT_PRESS_KEY; }
static inline int loco_act_uses_field(int type) { return type == LOCO_ACT_TYPE_FIELD; }

/* An action; arguments the type does not use are -1.  As a previous action,
 * type -1 means "none" (the first step of an episode). */
typedef struct {
    int32_t type, x, y, key, field;
} loco_agent_action;

/* Observation channels (--obs). */
enum { LOCO_OBS_DOM = 1, LOCO_OBS_PIXELS = 2, LOCO_OBS_BOTH = 3 };

typedef struct {
    int frame_h, frame_w;     /* pixels per frame (210 x 160 for MiniWoB) */
    int conv_ch[4];           /* channels of the 4 ResNet stages */
    int d_model;              /* width of the string vectors and the multimodal transformer */
    int mmt_layers, mmt_heads;
    int vocab_words;          /* words in the vocabulary (id 0 is the string start) */
    int hash_buckets;         /* hashed out-of-vocabulary buckets, after the words */
    int word_dim, str_heads;  /* string encoder width and heads */
    int max_words;            /* words per string, start included */
    int max_dom, max_fields;  /* DOM elements and task fields per step */
    int geom_dim;             /* box geometry and flags per DOM element */
    int lstm_hidden;
    int x_bins, y_bins, n_keys;
    int xemb_dim;             /* embedding of x that conditions the y head */
    int obs;                  /* LOCO_OBS_* */
} loco_agent_config;

/* The configuration of the paper (d 512, 8 layers, channels 32..512). */
void loco_agent_config_paper(loco_agent_config *cfg);
/* A small configuration for CPU training (d 128, 2 layers). */
void loco_agent_config_small(loco_agent_config *cfg);
/* LOCO_OK, or LOCO_ECONFIG with a one-line reason in msg. */
int loco_agent_config_check(const loco_agent_config *cfg, char *msg, size_t msglen);

/* Strings per step: the instruction, max_fields fields, then (with DOM
 * observations) max_dom elements. */
int loco_agent_num_strings(const loco_agent_config *cfg);

/*
 * A batch of B sequences of T steps, caller-owned, (b, t) row-major.  With
 * NS = loco_agent_num_strings and S = max_words:
 *   frames  (B,T,H,W,3) uint8 RGB (ignored without pixel observations)
 *   words   (B,T,NS,S) word ids in [0, vocab_words + hash_buckets)
 *   nwords  (B,T,NS) words of each string, 1..S for present strings (the
 *           string-start word 0 first); strings past n_fields / n_dom are
 *           ignored
 *   geom    (B,T,max_dom,geom_dim) element geometry (ignored without DOM)
 *   n_dom, n_fields (B,T)
 *   first   (B,T) 1 where an episode starts: the LSTM state is reset there
 *   prev    (B,T) the previous action (type -1 at an episode's start)
 *   target  (B,T) the demonstrated action, or NULL for no loss
 *   valid   (B,T) steps that count in the loss, or NULL for all
 */
typedef struct {
    int B, T;
    const uint8_t *frames;
    const int32_t *words;
    const int32_t *nwords;
    const float *geom;
    const int32_t *n_dom, *n_fields;
    const uint8_t *first;
    const loco_agent_action *prev;
    const loco_agent_action *target;
    const uint8_t *valid;
} loco_agent_batch;

typedef struct loco_agent loco_agent;

/* Creates a model for batches of up to B x T steps, initialised from seed.
 * LOCO_ECONFIG (reason in msg) or LOCO_ENOMEM on failure. */
int loco_agent_create(loco_agent **out, const loco_agent_config *cfg, int B, int T, uint64_t seed,
                      char *msg, size_t msglen);
void loco_agent_free(loco_agent *m);
const loco_agent_config *loco_agent_get_config(const loco_agent *m);

/* Forward pass over a batch; with targets, the behavioural-cloning loss:
 * the mean over valid steps of -log p(action), where log p sums the type
 * head and only the argument heads the demonstrated type uses.  The LSTMs
 * start from the model's state (see loco_agent_reset_state) and the state
 * after the last step is kept for loco_agent_carry_state.  LOCO_EINVAL (with
 * a reason in msg) for a batch that does not fit. */
int loco_agent_forward(loco_agent *m, const loco_agent_batch *batch, char *msg, size_t msglen);
float loco_agent_loss(const loco_agent *m);

/* Zeroes the gradients; backward accumulates d(loss) into them (BPTT over
 * the whole sequence; no gradient flows into the initial state). */
void loco_agent_zero_grad(loco_agent *m);
int loco_agent_backward(loco_agent *m);

/* Zeroes the LSTM state of every sequence; copies the state after the last
 * forward's final step into the initial state of the next forward. */
void loco_agent_reset_state(loco_agent *m);
void loco_agent_carry_state(loco_agent *m);

/* Logits of the last forward for step (b, t): type (10), x (x_bins),
 * y (y_bins, given the target's x; without targets, given no x: see
 * loco_agent_choose, which re-evaluates it for the chosen x),
 * key (n_keys), field (max_fields, -inf past n_fields), value (1). */
typedef struct {
    const float *type, *x, *y, *key, *field, *value;
} loco_agent_logits;
void loco_agent_get_logits(const loco_agent *m, int b, int t, loco_agent_logits *out);

/* Parameters and gradients: one block each, in the order of the tensor
 * table (loco_agent_tensor). */
size_t loco_agent_num_params(const loco_agent *m);
float *loco_agent_params(loco_agent *m);
float *loco_agent_grads(loco_agent *m);
int loco_agent_num_tensors(const loco_agent *m);
/* Name, shape (up to 4 dims) and offset of tensor i; returns 0, or -1 out of range. */
int loco_agent_tensor(const loco_agent *m, int i, const char **name, int *ndim, int shape[4],
                      size_t *offset);

/* One AdamW step (decay on matrices only), global-norm clipping, the
 * scheduled learning rate for step; the pre-clip norm in *norm_out.
 * LOCO_ENONFINITE (parameters unchanged) if the norm is not finite. */
int loco_agent_adamw_step(loco_agent *m, const loco_adamw_config *cfg, int step, float *norm_out);

/* ------------------------------------------------------------ checkpoints */

/* What a training run stores beside the tensors to resume exactly. */
typedef struct {
    long step;                /* optimizer steps taken */
    uint64_t rng_state[4];    /* the sampler's loco_rng state */
    loco_adamw_config opt;    /* optimizer configuration and schedule */
    uint64_t seed;            /* the run's initialisation seed (informational) */
    int has_optimizer;        /* set by load: the file held AdamW's moments */
} loco_agent_ckpt_meta;

/* Writes the configuration, the parameters (and with with_optimizer AdamW's
 * m, v and step count) and meta to path as safetensors (docs/agent.md),
 * atomically.  LOCO_EIO with a reason naming path on failure, leaving any
 * earlier file at path as it was. */
int loco_agent_save(const char *path, const loco_agent *m, const loco_agent_ckpt_meta *meta,
                    int with_optimizer, char *msg, size_t msglen);

/* Creates a model of the stored configuration with capacity B x T and
 * fills it from path; meta may be NULL.  LOCO_EIO (unreadable), LOCO_EINVAL
 * (malformed: any header, name, shape or range that is not what this
 * configuration writes), LOCO_ECONFIG, LOCO_ENONFINITE or LOCO_ENOMEM, with
 * *out NULL and a reason naming path. */
int loco_agent_load(const char *path, loco_agent **out, int B, int T, loco_agent_ckpt_meta *meta,
                    char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif
#endif
