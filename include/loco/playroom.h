/*
 * The Playroom: a seeded 2D room where a setter and a solver talk and act
 * (after "Imitating Interactive Intelligence", arXiv 2012.05672).  A setter
 * is given a prompt (LIFT the red duck, how many cars are there, ...) and
 * says it in words; a solver acts or answers.  Both seats can be taken by
 * the scripted people that ship with the world, by a learned agent through
 * the vectorised API, or replayed from a recorded file.  docs/playroom.md
 * describes the world, the prompts and the file format.
 *
 * Two APIs:
 *   - loco_playroom_env: one room, both players' actions given per step
 *     (used by recording, replay and rendering);
 *   - loco_playroom_vec: N rooms writing into caller-owned buffers, one seat
 *     per room played by the caller, auto-reset on the step after a done
 *     (PufferLib / EnvPool style; nothing is allocated inside a step).
 */
#ifndef LOCO_PLAYROOM_API_H
#define LOCO_PLAYROOM_API_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"   /* error codes, loco_rng */

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- world */

#define LOCO_PLAYROOM_W 16          /* room width in cells, walls included */
#define LOCO_PLAYROOM_H 12          /* room height in cells, walls included */
#define LOCO_PLAYROOM_VIEW_W 96     /* egocentric view, pixels */
#define LOCO_PLAYROOM_VIEW_H 72
#define LOCO_PLAYROOM_MAP_W (LOCO_PLAYROOM_W * 8)   /* whole-room map, pixels */
#define LOCO_PLAYROOM_MAP_H (LOCO_PLAYROOM_H * 8)
#define LOCO_PLAYROOM_MAX_STEPS 512 /* the longest episode any config allows */

/* Players: index 0 is the setter, 1 the solver. */
enum { LOCO_PLAYROOM_SETTER = 0, LOCO_PLAYROOM_SOLVER = 1, LOCO_PLAYROOM_NOBODY = 2 };

/* Motor actions (one per player per step).  "Look" is the heading: both the
 * egocentric view and what GRAB/RELEASE reach are the cell in front. */
enum {
    LOCO_PLAYROOM_NOOP,
    LOCO_PLAYROOM_FORWARD,
    LOCO_PLAYROOM_BACKWARD,
    LOCO_PLAYROOM_TURN_LEFT,
    LOCO_PLAYROOM_TURN_RIGHT,
    LOCO_PLAYROOM_GRAB,     /* pick up the object in the cell in front */
    LOCO_PLAYROOM_RELEASE,  /* put the held object on the floor or on/in the furniture in front */
    LOCO_PLAYROOM_N_MOTOR
};

/* Prompt families. */
enum {
    LOCO_PLAYROOM_LIFT,      /* solver holds X */
    LOCO_PLAYROOM_PUT,       /* X on/in furniture F */
    LOCO_PLAYROOM_GO,        /* solver stands next to furniture F */
    LOCO_PLAYROOM_BRING,     /* solver holds X and stands next to the setter */
    LOCO_PLAYROOM_POSITION,  /* X next to Y, or X left of Y as the setter sees it */
    LOCO_PLAYROOM_COLOUR,    /* answer: X's colour */
    LOCO_PLAYROOM_COUNT,     /* answer: the number of objects of a category */
    LOCO_PLAYROOM_EXISTS,    /* answer: yes or no */
    LOCO_PLAYROOM_WHERE,     /* answer: where X is */
    LOCO_PLAYROOM_N_FAMILY
};

/* Data splits: TRAIN never contains a held-out combination, TEST always
 * does, ALL is unrestricted (docs/playroom.md lists the held-out set). */
enum { LOCO_PLAYROOM_SPLIT_ALL, LOCO_PLAYROOM_SPLIT_TRAIN, LOCO_PLAYROOM_SPLIT_TEST };

#define LOCO_PLAYROOM_N_CATEGORY 10
#define LOCO_PLAYROOM_N_COLOUR 10
#define LOCO_PLAYROOM_N_FURNITURE 5

const char *loco_playroom_family_name(int family);   /* "lift", ...; NULL if out of range */
int loco_playroom_family_parse(const char *name);    /* the family, or -1 */
const char *loco_playroom_category_name(int cat);
const char *loco_playroom_colour_name(int colour);
const char *loco_playroom_furniture_name(int kind);
/* 1 if (colour, category) objects are held out of the TRAIN split. */
int loco_playroom_heldout_object(int colour, int cat);
/* 1 if prompts of family about category are held out of the TRAIN split. */
int loco_playroom_heldout_prompt(int family, int cat);

/* ---------------------------------------------------------------- text */

/* Text is a stream of tokens from a fixed vocabulary, one token per player per
 * step; token 0 says nothing this step and LOCO_PLAYROOM_EOM ends a message,
 * which then enters the chat that both players see. */
#define LOCO_PLAYROOM_SILENT 0
#define LOCO_PLAYROOM_EOM 1
#define LOCO_PLAYROOM_MSG_MAX 24    /* tokens in one message; a longer one is cut */
int loco_playroom_vocab_size(void);
const char *loco_playroom_token_name(int token);   /* NULL if out of range */
int loco_playroom_token_id(const char *word);      /* the token, or -1 */

/* ---------------------------------------------------------------- observations */

/* The symbolic observation of one seat (uint8, LOCO_PLAYROOM_OBS_BYTES):
 *   [0, 768)    the room, (H, W, 4): terrain (0 floor, 1 wall, 2 + furniture
 *               kind), furniture colour + 1, thing (object category + 1, or
 *               11 setter, 12 solver), object colour + 1 or player heading
 *   [768, 784)  self x, y, heading, held category + 1, held colour + 1; the
 *               other player's five; seat; family + 1 (setter only); steps
 *               taken (low, high byte); 2 reserved
 *   [784, 792)  the prompt (setter only, else zero): family + 1, X category
 *               + 1, X colour + 1, relation + 1, furniture kind + 1,
 *               furniture colour + 1, Y category + 1, Y colour + 1
 *   [792, 824)  the last 32 chat tokens, oldest first, left-padded with 0
 *   [824, 856)  who said each: 0 none, 1 setter, 2 solver */
#define LOCO_PLAYROOM_OBS_GRID 0
#define LOCO_PLAYROOM_OBS_SELF 768
#define LOCO_PLAYROOM_OBS_PROMPT 784
#define LOCO_PLAYROOM_OBS_CHAT 792
#define LOCO_PLAYROOM_OBS_SPEAKER 824
#define LOCO_PLAYROOM_OBS_BYTES 856
#define LOCO_PLAYROOM_PIXEL_BYTES (LOCO_PLAYROOM_VIEW_H * LOCO_PLAYROOM_VIEW_W * 3)

/* ---------------------------------------------------------------- one room */

/* A prompt: the task the setter is given. */
typedef struct {
    uint8_t family;
    uint8_t x_cat, x_colour;     /* X (LIFT PUT BRING POSITION COLOUR EXISTS WHERE), COUNT's category */
    uint8_t relation;            /* POSITION: 0 next to, 1 left of; PUT: 0 on, 1 in */
    uint8_t f_kind, f_colour;    /* F (PUT GO) */
    uint8_t y_cat, y_colour;     /* Y (POSITION) */
} loco_playroom_prompt;

typedef struct loco_playroom_env loco_playroom_env;

/* One allocation for the room's lifetime. */
int loco_playroom_env_create(loco_playroom_env **out);
void loco_playroom_env_free(loco_playroom_env *e);
/* Builds the room and the prompt from seed alone.  family is -1 for any; split
 * as above; max_steps in [1, LOCO_PLAYROOM_MAX_STEPS].  Returns LOCO_EINVAL on
 * a bad argument. */
int loco_playroom_env_reset(loco_playroom_env *e, uint64_t seed, int split, int family, int max_steps);
/* The scripted players' next actions (motor, token) for seat; they read the
 * room and the chat, and keep their own seeded state. */
void loco_playroom_env_scripted(loco_playroom_env *e, int seat, int32_t act[2]);
/* Applies both players' actions, acts[seat][0] motor and [1] token (out-of-
 * range values act as NOOP / SILENT).  Returns the reward (1 on success, else
 * 0) and sets *terminated (the task succeeded, or a question was answered) and
 * *truncated (max_steps reached).  Stepping a finished episode does nothing. */
float loco_playroom_env_step(loco_playroom_env *e, const int32_t acts[2][2], int *terminated, int *truncated);
const loco_playroom_prompt *loco_playroom_env_prompt(const loco_playroom_env *e);
int loco_playroom_env_steps(const loco_playroom_env *e);
int loco_playroom_env_success(const loco_playroom_env *e);
/* A hash of everything in the room and the chat (FNV-1a over a fixed
 * serialisation): two replays agree bit for bit if and only if (up to
 * collisions) their hashes do. */
uint64_t loco_playroom_env_hash(const loco_playroom_env *e);
/* The symbolic observation of seat (LOCO_PLAYROOM_OBS_BYTES). */
void loco_playroom_env_observe(const loco_playroom_env *e, int seat, uint8_t *obs);
/* Renders seat's egocentric view (LOCO_PLAYROOM_VIEW_H x _W) or, with seat
 * LOCO_PLAYROOM_NOBODY, the whole room (LOCO_PLAYROOM_MAP_H x _W), as palette
 * indices; loco_playroom_palette gives the colours (RGB, n entries). */
void loco_playroom_env_render(const loco_playroom_env *e, int seat, uint8_t *idx);
const uint8_t *loco_playroom_palette(int *n);
/* The same view as RGB bytes. */
void loco_playroom_env_render_rgb(const loco_playroom_env *e, int seat, uint8_t *rgb);
/* The chat as text, one message per line "setter: ...", at most n bytes. */
void loco_playroom_env_chat(const loco_playroom_env *e, char *out, size_t n);
/* The prompt in words, e.g. "put(red duck, in, blue box)". */
void loco_playroom_prompt_text(const loco_playroom_prompt *p, char *out, size_t n);

/* ---------------------------------------------------------------- episodes and files */

/* A recorded episode: its seed and settings rebuild the room and prompt, the
 * actions replay it, and the outcome and final hash check the replay. */
typedef struct {
    uint64_t seed;
    uint8_t split, family_filter, family;   /* family_filter: the requested family, 255 for any */
    uint8_t success, terminated;
    uint16_t max_steps, n_steps;
    uint64_t hash;                           /* loco_playroom_env_hash after the last step */
    loco_playroom_prompt prompt;
    uint8_t acts[LOCO_PLAYROOM_MAX_STEPS][4]; /* setter motor, setter token, solver motor, solver token */
} loco_playroom_episode;

/* Plays one episode with both seats scripted into ep (e is the room to use). */
int loco_playroom_play(loco_playroom_env *e, loco_playroom_episode *ep, uint64_t seed, int split, int family,
                       int max_steps);
/* Replays ep in e; returns LOCO_OK if every step, the outcome and the final
 * hash agree, else LOCO_ERANGE with the reason in msg. */
int loco_playroom_replay(loco_playroom_env *e, const loco_playroom_episode *ep, char *msg, size_t msglen);
/* The file: bytes needed for n episodes, and the encoder (returns the bytes
 * written, 0 if cap is too small). */
size_t loco_playroom_file_size(const loco_playroom_episode *eps, int n);
size_t loco_playroom_file_encode(const loco_playroom_episode *eps, int n, uint8_t *buf, size_t cap);
/* Parses a file held in memory into at most max episodes (*n the number
 * read, also when max is too small: then LOCO_ERANGE); checks the magic,
 * version, every field's range and the CRC-32.  Never reads past len. */
int loco_playroom_file_decode(const uint8_t *buf, size_t len, loco_playroom_episode *eps, int max, int *n,
                              char *msg, size_t msglen);
/* Writes a file atomically (a temporary file, then rename); path must be a
 * regular file or absent. */
int loco_playroom_file_write(const char *path, const loco_playroom_episode *eps, int n, char *msg,
                             size_t msglen);
/* Reads a whole file: *eps is one malloc'd array of *n episodes (free()). */
int loco_playroom_file_read(const char *path, loco_playroom_episode **eps, int *n, char *msg, size_t msglen);

/* ---------------------------------------------------------------- vectorised */

typedef struct {
    int n_envs;          /* N >= 1 */
    int agent;           /* the seat the caller plays: SETTER, SOLVER or NOBODY (both scripted) */
    int max_steps;       /* truncation, in [1, LOCO_PLAYROOM_MAX_STEPS] */
    int split;           /* LOCO_PLAYROOM_SPLIT_* */
    int family;          /* -1 for any, else every episode is this family */
    int threads;         /* OpenMP threads over the envs; <= 0 for one */
    uint64_t seed;
} loco_playroom_config;

void loco_playroom_config_default(loco_playroom_config *cfg);

/* Caller-owned buffers, row i for env i.  obs and pixels may be NULL (then
 * that observation is not produced; pixels cost about 20x the symbolic). */
typedef struct {
    uint8_t *obs;          /* (N, LOCO_PLAYROOM_OBS_BYTES) */
    uint8_t *pixels;       /* (N, VIEW_H, VIEW_W, 3) the agent's egocentric view */
    int32_t *actions;      /* (N, 2): motor, token; read by step */
    float *rewards;        /* (N) */
    uint8_t *terminals;    /* (N) */
    uint8_t *truncations;  /* (N) */
} loco_playroom_buffers;

/* The episode log: floats only, sums over finished episodes, count last. */
typedef struct {
    float episode_return;
    float episode_length;
    float score;                                  /* 1 for a success */
    float perf;                                   /* the same, in [0, 1] */
    float family_success[LOCO_PLAYROOM_N_FAMILY]; /* successes per family */
    float family_n[LOCO_PLAYROOM_N_FAMILY];       /* episodes per family */
    float n;                                      /* episodes */
} loco_playroom_log;

typedef struct loco_playroom_vec loco_playroom_vec;

/* Allocates every room in one block.  Returns LOCO_EINVAL (reason in msg) on
 * a bad config or missing buffer, LOCO_ENOMEM if the block cannot be had. */
int loco_playroom_vec_create(loco_playroom_vec **out, const loco_playroom_config *cfg,
                             const loco_playroom_buffers *buf, char *msg, size_t msglen);
void loco_playroom_vec_free(loco_playroom_vec *v);
/* Resets every env (env i from a seed derived from seed and i) and writes
 * the first observations; rewards and flags are zeroed. */
void loco_playroom_vec_reset(loco_playroom_vec *v, uint64_t seed);
/* One step of every env: an env that finished on the previous step resets
 * instead (its action is ignored) and returns its first observation with
 * reward 0 and both flags 0 (Gymnasium's NEXT_STEP auto-reset). */
void loco_playroom_vec_step(loco_playroom_vec *v);
/* The log since the last call, averaged (return, length, score, perf over n;
 * family_success as a rate over family_n), then cleared. */
void loco_playroom_vec_log_take(loco_playroom_vec *v, loco_playroom_log *out);
/* Env i's room (to render on request, read its prompt or chat). */
loco_playroom_env *loco_playroom_vec_env(loco_playroom_vec *v, int i);

#ifdef __cplusplus
}
#endif
#endif
