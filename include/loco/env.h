/*
 * loco env: MiniWoB++-style computer-control tasks, simulated in C.
 *
 * A small web engine (DOM, layout, mouse/keyboard/focus events, a software
 * rasteriser) runs re-creations of MiniWoB++ tasks (docs/env.md).  The API is
 * vectorised in the style of fast RL environments: one loco_env holds N
 * environments that write into caller-owned buffers; a step runs all N (over
 * OpenMP threads), keeps `terminated` and `truncated` apart, and resets an
 * environment on the step after it ended (Gymnasium's NEXT_STEP auto-reset).
 * Nothing is allocated after loco_env_create.
 *
 * Coordinates are CSS pixels of MiniWoB++'s 160x210 page: the instruction bar
 * is y in [0, 50), the task area y in [50, 210).
 */
#ifndef LOCO_LOCO_ENV_H
#define LOCO_LOCO_ENV_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCO_ENV_W          160   /* page width in pixels */
#define LOCO_ENV_H          210   /* page height in pixels (instruction bar included) */
#define LOCO_ENV_BINS        51   /* cursor bins per axis (CC-Net) */
#define LOCO_ENV_NUM_KEYS   104   /* MiniWoB++'s DEFAULT_ALLOWED_KEYS */
#define LOCO_ENV_MAX_FIELDS  20   /* task fields (MiniWoB++'s limit) */
#define LOCO_ENV_MAX_ELEMS  128   /* DOM elements in one observation */
#define LOCO_ENV_STR         64   /* bytes of a text/value/field string, NUL included */
#define LOCO_ENV_UTTERANCE  256   /* bytes of the instruction, NUL included */
#define LOCO_ENV_EPISODE_MS 10000 /* MiniWoB++'s core.EPISODE_MAX_TIME (a few tasks: 15 s) */

/* Action types: the first ten are CC-Net's (MiniWoB++'s humphreys22 preset),
 * the last two MiniWoB++'s element actions for DOM agents. */
typedef enum {
    LOCO_ENV_NONE = 0,
    LOCO_ENV_MOVE_COORDS,
    LOCO_ENV_CLICK_COORDS,
    LOCO_ENV_DBLCLICK_COORDS,
    LOCO_ENV_MOUSEDOWN_COORDS,
    LOCO_ENV_MOUSEUP_COORDS,
    LOCO_ENV_SCROLL_UP_COORDS,
    LOCO_ENV_SCROLL_DOWN_COORDS,
    LOCO_ENV_PRESS_KEY,
    LOCO_ENV_TYPE_FIELD,
    LOCO_ENV_CLICK_ELEMENT,                /* click the centre of element `ref` */
    LOCO_ENV_FOCUS_ELEMENT_AND_TYPE_FIELD, /* click element `ref`, then type field `field` */
    LOCO_ENV_NUM_ACTION_TYPES
} loco_env_action_type;
#define LOCO_ENV_NUM_CCNET_TYPES 10

/* One action.  x, y are bins in [0, 51): pixel x = (x + 0.5) * 160/51,
 * y = (y + 0.5) * 210/51 (MiniWoB++'s compute_raw_coords).  key indexes
 * loco_env_key_name(); field indexes the observation's fields (an index at or
 * past n_fields types "", as in MiniWoB++).  Unused members are ignored. */
typedef struct {
    int32_t type;   /* loco_env_action_type */
    int32_t x, y;   /* cursor bins */
    int32_t key;    /* [0, LOCO_ENV_NUM_KEYS) */
    int32_t field;  /* [0, LOCO_ENV_MAX_FIELDS) */
    int32_t ref;    /* element ref for the element actions */
} loco_env_action;

/* Element flags (MiniWoB++'s [focused, tampered, targeted, is_leaf]). */
enum {
    LOCO_ENV_FOCUSED  = 1,  /* has the keyboard focus */
    LOCO_ENV_TAMPERED = 2,  /* the user has clicked or edited it this episode */
    LOCO_ENV_TARGETED = 4,  /* target of the latest mouse or keyboard event */
    LOCO_ENV_LEAF     = 8,  /* has no element children */
};

/* One visible DOM element, as MiniWoB++'s core.getDOMInfo() reports it.  Refs
 * count up from 1 for elements and down from -1 for text pseudo-elements
 * (tag "t"), and are stable within an episode.  Strings are NUL-padded. */
typedef struct {
    int32_t ref;
    int32_t parent;                 /* ref of the parent element, 0 for the root */
    char    tag[16];                /* "DIV", "BUTTON", "INPUT_text", "t", ... */
    char    id[24];
    char    classes[40];
    char    text[LOCO_ENV_STR];     /* own text when the element has no element children */
    char    value[LOCO_ENV_STR];    /* inputs: the value; checkboxes/radios: "true"/"false" */
    float   left, top, width, height;  /* border box in page pixels */
    uint8_t fg[4], bg[4];           /* RGBA colours */
    uint32_t flags;                 /* LOCO_ENV_FOCUSED | ... */
} loco_env_elem;

/* One environment's observation, written by reset and step. */
typedef struct {
    char          utterance[LOCO_ENV_UTTERANCE];
    int32_t       n_fields;
    char          field_key[LOCO_ENV_MAX_FIELDS][LOCO_ENV_STR];
    char          field_value[LOCO_ENV_MAX_FIELDS][LOCO_ENV_STR];
    int32_t       n_elems;
    loco_env_elem elems[LOCO_ENV_MAX_ELEMS];  /* [0, n_elems) in document order */
    loco_env_action prev_action;              /* type NONE after a reset */
    int32_t       task;        /* task index (loco_env_task_name) */
    int32_t       step;        /* steps taken in this episode */
    float         time_ms;     /* simulated time since the episode started */
    float         cursor_x, cursor_y;  /* pointer position in page pixels */
    uint64_t      seed;        /* the instance seed: (task, seed) regenerates it */
} loco_env_obs;

/* Reward as MiniWoB++ processes it (miniwob/reward.py). */
typedef enum {
    LOCO_ENV_REWARD_DISCOUNTED = 0,  /* the page's reward: positive ones scaled by 1 - t/T (T: the time limit) */
    LOCO_ENV_REWARD_RAW,             /* without the time factor */
    LOCO_ENV_REWARD_BINARY,          /* 1 if the raw reward is 1, else -1 */
} loco_env_reward_kind;

typedef struct {
    int      num_envs;    /* N >= 1 */
    int      task;        /* task index for every env (ignored when task_ids is set) */
    const int *task_ids;  /* optional (N): one task per env, for multi-task training */
    uint64_t seed;        /* base seed: env i's k-th auto-reset instance is derived from it */
    int      threads;     /* OpenMP threads over envs; <= 0: one */
    int      pixels;      /* 1: render a 210x160 RGB frame per step into buffers.pixels */
    int      reward;      /* loco_env_reward_kind */
    float    step_ms;     /* simulated milliseconds per step; <= 0: 100 */
    int      max_steps;   /* also truncate after this many steps; <= 0: the task's clock only */
} loco_env_config;

/* Caller-owned buffers, N entries each (pixels: N x 210 x 160 x 3, row-major
 * (H, W, C) as MiniWoB++'s screenshot; needed only when config.pixels). */
typedef struct {
    loco_env_obs    *obs;
    uint8_t         *pixels;
    loco_env_action *actions;     /* read by loco_env_step */
    float           *rewards;
    uint8_t         *terminated;  /* the task ended the episode */
    uint8_t         *truncated;   /* the clock (or max_steps) ended it */
    uint8_t         *success;     /* on an ending step: the task's exact success predicate */
    int32_t         *errors;      /* 0, or the loco_err of an invalid action (not executed) */
} loco_env_buffers;

/* Float-only episode statistics, summed over finished episodes (PufferLib's Log). */
typedef struct {
    float episode_return;
    float episode_length;
    float success;
    float timeout;
    float n;
} loco_env_log;

typedef struct loco_env loco_env;

/* Tasks. */
int         loco_env_task_count(void);
const char *loco_env_task_name(int task);
int         loco_env_task_find(const char *name);   /* index, or -1 */

/* The 104 key names ("<Enter>", "a", "C-c", ...), index order of MiniWoB++. */
const char *loco_env_key_name(int key);
int         loco_env_key_find(const char *name);     /* index, or -1 */

/* Creates N environments bound to `buf` (all pointers must stay valid until
 * loco_env_free).  Everything is allocated here; steps allocate nothing.
 * Returns LOCO_EINVAL (reason in msg) or LOCO_ENOMEM, or LOCO_EIO when pixels
 * are asked for and the font cannot be loaded. */
int  loco_env_create(loco_env **out, const loco_env_config *cfg, const loco_env_buffers *buf,
                     char *msg, size_t msglen);
void loco_env_free(loco_env *env);

/* Resets every env: env i gets instance seeds[i] (seeds NULL: derived from
 * config.seed).  Writes observations (and pixels). */
void loco_env_reset(loco_env *env, const uint64_t *seeds);
/* Resets env i alone to instance `seed`. */
void loco_env_reset_one(loco_env *env, int i, uint64_t seed);

/* Applies buf.actions[i] to each env i and writes obs, pixels, rewards,
 * terminated, truncated, success and errors.  An env that ended on the
 * previous step is reset instead (its action is ignored; reward 0).  Returns
 * LOCO_OK, or the first error code among invalid actions. */
int  loco_env_step(loco_env *env);

/* Validates an action without running it: LOCO_OK, LOCO_EINVAL (unknown
 * type) or LOCO_ERANGE (bins, key, field or ref out of range; ref is checked
 * against obs when obs is not NULL). */
int  loco_env_action_check(const loco_env_action *a, const loco_env_obs *obs);

/* Copies the summed episode log into *out and clears it. */
void loco_env_log_take(loco_env *env, loco_env_log *out);

/* Renders env i's current page into a 210x160x3 frame (needs config.pixels). */
int  loco_env_render(loco_env *env, int i, uint8_t *rgb);

/* The binary layout, for bindings that mirror the structs (python/loco_env.py):
 * out = {sizeof(loco_env_obs), sizeof(loco_env_elem), sizeof(loco_env_action),
 * offsetof(loco_env_obs, elems), offsetof(loco_env_obs, seed)}. */
void loco_env_layout(size_t out[5]);

/* Pixel coordinates of a bin's centre, and the bin holding a pixel. */
float loco_env_bin_x(int bx);
float loco_env_bin_y(int by);
int   loco_env_x_bin(float x);
int   loco_env_y_bin(float y);

/* ---------------------------------------------------------- demonstrator */

/* A scripted demonstrator per task.  It reads only what an agent sees (the
 * utterance, fields and DOM elements of the observation) and answers with
 * low-level mouse and keyboard actions, with human-like variation (cursor
 * jitter, pauses, corrected slips) drawn from its own seed. */
typedef struct loco_env_demo loco_env_demo;

int  loco_env_demo_create(loco_env_demo **out, int n);
void loco_env_demo_free(loco_env_demo *d);
/* Starts demonstrator i on a new episode with variation seed `seed`. */
void loco_env_demo_reset(loco_env_demo *d, int i, uint64_t seed);
/* Writes demonstrator i's next action for observation obs. */
void loco_env_demo_act(loco_env_demo *d, int i, const loco_env_obs *obs, loco_env_action *out);

/* ---------------------------------------------------------- demonstrations */

/* A recorded episode: the task, the instance seed, the simulated step length
 * and the actions, with a 64-bit digest of the observation after every step
 * so that a replay can be checked bit for bit (docs/env.md, file format). */
typedef struct {
    char     task[32];
    uint64_t seed;
    float    step_ms;
    float    ret;       /* episode return (discounted reward) */
    int32_t  success;
    int32_t  n_steps;
    loco_env_action *actions;  /* (n_steps) */
    uint64_t *digests;         /* (n_steps) */
} loco_env_episode;

/* The digest of an observation (FNV-1a over its meaningful bytes). */
uint64_t loco_env_obs_digest(const loco_env_obs *obs);

/* Writes episodes to path atomically (tmp + rename).  LOCO_EIO on failure. */
int  loco_env_demos_write(const char *path, const loco_env_episode *eps, int n,
                          char *msg, size_t msglen);
/* Parses a demonstration file held in memory; on success *eps (one
 * allocation, free with free()) holds *n episodes whose arrays point into it.
 * LOCO_EIO with a reason on any malformed byte, bad checksum or bad value. */
int  loco_env_demos_parse(const uint8_t *data, size_t len, loco_env_episode **eps, int *n,
                          char *msg, size_t msglen);
/* Reads a demonstration file (a regular file of at most 1 GiB). */
int  loco_env_demos_read(const char *path, loco_env_episode **eps, int *n,
                         char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif
#endif
