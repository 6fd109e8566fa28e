/*
 * DiPaCo: a modular GPT whose parameters are split into modules, trained as
 * paths through them with DiLoCo, one path at inference.
 *
 * The L transformer blocks are grouped into levels: level l holds n_l
 * consecutive blocks (sum n_l = L) and has K_l interchangeable modules, each a
 * full copy of those blocks.  A path takes one module per level, so there are
 * P = prod K_l paths, numbered in mixed radix with level 0 the most
 * significant digit:
 *     p = ((k_0 K_1 + k_1) K_2 + k_2) ...,   k_l in [0, K_l).
 * The token and position embeddings and the final LayerNorm (the LM head is
 * tied to the token embedding) form the "base", shared by every path (one
 * base module) or private to each path (P base modules).  A path is then an
 * ordinary loco_gpt with L layers, assembled from its modules.
 *
 * Training (one round): every path p starts from the current modules, runs H
 * inner AdamW steps on its shard of documents like a DiLoCo worker, and ends
 * at theta_p.  Module m's outer step averages the paths that contain it,
 * weighted by the size w_p of their shards:
 *     target_m = sum_{p ∋ m} w_p theta_p|m / sum_{p ∋ m} w_p
 *     theta_m  = OuterOpt_m(theta_m, target_m)      (loco_outer_step)
 * with theta_p|m the slice of theta_p that belongs to m, and each module's
 * own outer state and step count.  With one level of one module there is one
 * path and this is DiLoCo with one worker, bit for bit.
 *
 * The arithmetic here is pure functions over arrays, shared by the simulator
 * (src/sim/dipaco_sim.c) and any driver.  See docs/dipaco.md.
 */
#ifndef LOCO_DIPACO_H
#define LOCO_DIPACO_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"
#include "loco/outer.h"
#include "loco/split.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCO_DIPACO_MAX_LEVELS 8
#define LOCO_DIPACO_MAX_PATHS 4096

typedef struct {
    int n_levels;
    int layers[LOCO_DIPACO_MAX_LEVELS];   /* n_l: blocks per level, summing to the model's L */
    int modules[LOCO_DIPACO_MAX_LEVELS];  /* K_l: modules per level */
    int shared_base;                      /* 1: one base for all paths; 0: one per path */
} loco_dipaco_config;

/* A contiguous run of floats that a path and a module have in common. */
typedef struct {
    size_t path_off;   /* offset in the path's parameter block (loco_gpt_params order) */
    size_t mod_off;    /* offset within the module */
    size_t len;
} loco_dipaco_segment;

#define LOCO_DIPACO_MAX_SEGMENTS LOCO_NUM_PARAM_TENSORS

/* Where every module lies in the block of all modules, and how a path's
 * parameters map onto them.  Modules are numbered base first (1 or P), then
 * level 0's K_0 modules, level 1's, and so on. */
typedef struct {
    loco_dipaco_config d;
    loco_gpt_config g;
    int n_paths;                                   /* P */
    int n_modules;
    int first[LOCO_DIPACO_MAX_LEVELS + 1];         /* module index of level l's first module; [n_levels]: total */
    size_t path_params;                            /* floats in one path (loco_gpt_num_params) */
    size_t base_size, level_size[LOCO_DIPACO_MAX_LEVELS];
    size_t total;                                  /* floats in all modules */
    int n_seg[LOCO_DIPACO_MAX_LEVELS + 1];         /* segments of the base ([0]) and of level l ([l + 1]) */
    loco_dipaco_segment seg[LOCO_DIPACO_MAX_LEVELS + 1][LOCO_DIPACO_MAX_SEGMENTS];
} loco_dipaco_layout;

/* Parses "2x4" style structure: levels separated by commas, each "LAYERSxMODULES"
 * (e.g. "1x4,1x4": two levels of one block and four modules each).  Returns
 * LOCO_EINVAL (reason in msg) for malformed text or more than
 * LOCO_DIPACO_MAX_LEVELS levels. */
int loco_dipaco_parse(const char *text, loco_dipaco_config *out, char *msg, size_t msglen);

/* Fills l for GPT g split as d.  Returns LOCO_ECONFIG (reason in msg) when the
 * levels' blocks do not sum to g's n_layer, a level has no block or no
 * module, or there are more than LOCO_DIPACO_MAX_PATHS paths. */
int loco_dipaco_layout_init(loco_dipaco_layout *l, const loco_gpt_config *g, const loco_dipaco_config *d,
                            char *msg, size_t msglen);

/* Module index of path p's module at level l (level -1: its base). */
int loco_dipaco_module(const loco_dipaco_layout *l, int p, int level);
/* Offset and size (in floats) of module m in the block of all modules. */
size_t loco_dipaco_module_offset(const loco_dipaco_layout *l, int m);
size_t loco_dipaco_module_size(const loco_dipaco_layout *l, int m);
/* Level of module m (-1 for a base module). */
int loco_dipaco_module_level(const loco_dipaco_layout *l, int m);
/* Number of paths that contain module m: P for a shared base, 1 for a
 * private base, P / K_l for a module of level l. */
int loco_dipaco_module_paths(const loco_dipaco_layout *l, int m);

/* Assembles path p's parameters (l->path_params floats, loco_gpt_params
 * order) from the modules (l->total floats). */
void loco_dipaco_gather(const loco_dipaco_layout *l, const float *modules, int p, float *path);

/* Copies one dense model's parameters (l->path_params floats) into every
 * module: each module receives the slice of the layers it stands for. */
void loco_dipaco_scatter(const loco_dipaco_layout *l, const float *path, float *modules);

/* Adds path p's parameters, weighted by w > 0, to the reduction of the
 * modules it contains: sum[j] += w * path[j'] over its segments (sum:
 * l->total doubles) and wsum[m] += w (wsum: l->n_modules doubles).  The
 * products are exact in double for integer weights below 2^29; callers add
 * paths in path order so that the sums do not depend on arrival order. */
void loco_dipaco_accumulate(const loco_dipaco_layout *l, int p, double w, const float *path, double *sum,
                            double *wsum);

/* The outer step of every module that received a contribution: target_m =
 * (float)(sum_m / wsum_m), then loco_outer_step on module m with its own
 * slice of state (loco_outer_state_floats(c, size_m) floats, laid out module
 * after module) and its own step count t[m], incremented here.  Modules with
 * wsum 0 are left alone.  target is l->total floats of scratch.  Returns the
 * number of modules stepped, or LOCO_ENONFINITE if a target is not finite
 * (modules before the bad one have then been stepped). */
int loco_dipaco_merge(const loco_dipaco_layout *l, const loco_outer_config *c, float *modules, float *state,
                      long *t, const double *sum, const double *wsum, float *target);

/* Floats of outer state for all modules. */
size_t loco_dipaco_state_floats(const loco_dipaco_layout *l, const loco_outer_config *c);

/* ------------------------------------------------------------ simulator */

typedef struct {
    loco_dipaco_config d;
    int inner_steps;          /* H */
    long steps;               /* inner steps per path over the run */
    int batch, seq_len;       /* each path's B and T */
    loco_adamw_config inner;  /* the inner AdamW; its schedule runs over `steps` */
    loco_outer_config outer;
    int reset_inner;          /* 1: every task starts with fresh AdamW moments and a data stream of its own */
    uint64_t seed;
    int cuda;                 /* 1: the paths take their inner steps on the GPU (loco/cuda.h) */
} loco_dipaco_sim_config;

typedef struct {
    long round, n_rounds;
    long inner_step;
    float train_loss;         /* mean training loss of the last round, over paths */
    double bytes_up, bytes_down;  /* every path's download of its modules and upload of its parameters */
} loco_dipaco_sim_stats;

typedef struct loco_dipaco_sim loco_dipaco_sim;

/* Creates a simulator of the P paths of c->d over a split with P shards
 * (shard p trains path p; its token count is the path's weight).  init
 * (may be NULL) is one dense model's parameters (l->path_params floats, e.g.
 * from a checkpoint), copied into every module (loco_dipaco_scatter); NULL
 * takes loco_gpt_create(seed)'s, so all modules of a level start equal.
 * Returns LOCO_EINVAL or LOCO_ECONFIG (reason in msg), LOCO_ENOMEM; with
 * cuda, also the device's errors (LOCO_ENOTSUP, LOCO_EDEVICE, LOCO_ENOMEM,
 * reason in msg). */
int loco_dipaco_sim_create(loco_dipaco_sim **out, const loco_dipaco_sim_config *c, const loco_gpt_config *g,
                           const float *init, const loco_split *split, char *msg, size_t msglen);
void loco_dipaco_sim_free(loco_dipaco_sim *s);
/* One round: H inner steps of every path, in path order, then the module
 * merge.  Allocates nothing.  Returns LOCO_ERANGE when the run is over,
 * LOCO_ENONFINITE (reason in msg), LOCO_EDEVICE (reason in msg) if the GPU
 * fails. */
int loco_dipaco_sim_round(loco_dipaco_sim *s, char *msg, size_t msglen);
/* Replaces the split (P shards, e.g. after re-routing the documents); the
 * weights become the new shards' token counts.  The split is borrowed.
 * Returns LOCO_EINVAL (reason in msg), changing nothing, if it does not have
 * P shards of at least seq_len + 1 tokens. */
int loco_dipaco_sim_set_split(loco_dipaco_sim *s, const loco_split *split, char *msg, size_t msglen);
const loco_dipaco_sim_stats *loco_dipaco_sim_get_stats(const loco_dipaco_sim *s);
const loco_dipaco_layout *loco_dipaco_sim_layout(const loco_dipaco_sim *s);
/* The modules (l->total floats), their outer state and step counts. */
float *loco_dipaco_sim_modules(loco_dipaco_sim *s);
/* A model holding path p's current parameters (assembled on each call). */
loco_gpt *loco_dipaco_sim_path(loco_dipaco_sim *s, int p);
/* The data seed of path p's task in round r (reset_inner) or of path p's
 * stream (r < 0); path 0's stream equals the plain trainer's. */
uint64_t loco_dipaco_task_seed(uint64_t seed, int p, long r);

/* ------------------------------------------------------------ module files */

/* Saves the modules as DIR/dipaco.json (the structure and GPT configuration)
 * and one file per module, DIR/<name>.safetensors, each written atomically.
 * tokenizer (may be "") and router (may be "") are recorded for eval and
 * sample.  Returns LOCO_EIO (reason naming the file) if a file cannot be
 * written; earlier files stay intact. */
int loco_dipaco_save(const char *dir, const loco_dipaco_layout *l, const float *modules, const char *tokenizer,
                     const char *router, char *msg, size_t msglen);
/* Reads DIR/dipaco.json into l (and tokenizer/router, each 256 bytes, may be
 * NULL).  Returns LOCO_EIO or LOCO_EINVAL (reason naming the file). */
int loco_dipaco_load_layout(const char *dir, loco_dipaco_layout *l, char *tokenizer, char *router,
                            char *msg, size_t msglen);
/* Fills path p's parameters (l->path_params floats) by reading only the
 * files of its modules.  Returns LOCO_EIO or LOCO_EINVAL (reason naming the
 * file) for a missing, truncated or mismatched module file. */
int loco_dipaco_load_path(const char *dir, const loco_dipaco_layout *l, int p, float *path, char *msg,
                          size_t msglen);
/* The file name of module m (e.g. "level1_module3"), into buf. */
void loco_dipaco_module_name(const loco_dipaco_layout *l, int m, char *buf, size_t buflen);

#ifdef __cplusplus
}
#endif
#endif
