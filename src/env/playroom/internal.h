/* Internal: the Playroom's state, shared by its modules (world, actions,
 * prompts, setter, solver, view, record, vec).  Everything is fixed-size, so
 * that a room is one plain struct and a step never allocates. */
#ifndef LOCO_ENV_PLAYROOM_INTERNAL_H
#define LOCO_ENV_PLAYROOM_INTERNAL_H

#include <stdint.h>
#include "loco/loco.h"
#include "loco/playroom.h"

#define PR_W LOCO_PLAYROOM_W
#define PR_H LOCO_PLAYROOM_H
#define PR_MAX_FURN 6
#define PR_MAX_OBJ 15
#define PR_NONE 255
#define PR_CHAT_MSGS 16   /* messages kept in the chat ring */

/* Terrain codes (the first byte of a cell in the symbolic grid). */
enum { PR_FLOOR = 0, PR_WALL = 1, PR_FURN0 = 2 };
/* Furniture kinds: the first three hold things on them, the last two in them. */
enum { PR_SHELF, PR_TABLE, PR_BED, PR_BOX, PR_BASKET };
/* Where an object is. */
enum { PR_ON_FLOOR, PR_ON_FURN, PR_HELD };
/* Thing codes for players in the grid's third byte. */
#define PR_THING_SETTER 11
#define PR_THING_SOLVER 12

typedef struct { uint8_t kind, colour, x, y, w, h; } pr_furn;
typedef struct {
    uint8_t cat, colour;
    uint8_t where;       /* PR_ON_FLOOR, PR_ON_FURN, PR_HELD */
    uint8_t holder;      /* furniture index or player index */
    uint8_t x, y;        /* its cell (a holder player's cell while held) */
} pr_obj;
typedef struct { uint8_t x, y, dir, held; } pr_player;   /* dir 0 N, 1 E, 2 S, 3 W; held object or PR_NONE */

typedef struct {
    uint8_t g[PR_H][PR_W][4];     /* the symbolic grid, kept in step with everything below */
    uint8_t furn_at[PR_H][PR_W];  /* furniture index + 1, or 0 */
    uint8_t obj_at[PR_H][PR_W];   /* object index + 1, or 0 (not held ones) */
    uint8_t who_at[PR_H][PR_W];   /* player index + 1, or 0 */
    pr_furn furn[PR_MAX_FURN];
    pr_obj obj[PR_MAX_OBJ];
    pr_player pl[2];
    uint8_t n_furn, n_obj;
} pr_world;

typedef struct {
    uint8_t speaker;                     /* 0 setter, 1 solver */
    uint8_t len;
    uint8_t tok[LOCO_PLAYROOM_MSG_MAX];
} pr_msg;

typedef struct {
    pr_msg msg[PR_CHAT_MSGS];            /* ring: message k is msg[k % PR_CHAT_MSGS] */
    uint32_t n_msg;                      /* messages ever committed */
    pr_msg pending[2];                   /* each player's message being typed */
    uint8_t last[32], last_who[32];      /* the last 32 tokens, oldest first (observation) */
} pr_chat;

/* The scripted setter: says the prompt once, answers "which one ?". */
typedef struct {
    uint8_t out[LOCO_PLAYROOM_MSG_MAX + 1];  /* queued tokens, EOM last */
    uint8_t n_out, pos;
    uint8_t said;                            /* the prompt has been said */
    uint32_t seen;                           /* chat messages read */
    uint8_t delay;                           /* steps before speaking */
    uint8_t vague;                           /* the colour of X was left out */
} pr_setter;

/* What the solver understood. */
typedef struct {
    int8_t family;
    int8_t x, y;          /* object indices, -1 unknown */
    int8_t f;             /* furniture index, -1 unknown */
    int8_t relation;      /* POSITION: 0 next, 1 left; PUT: 0 on, 1 in */
    int8_t cat;           /* COUNT / EXISTS category, -1 */
    int8_t colour;        /* EXISTS colour, -1 */
    uint8_t ambiguous;    /* X's category matched several objects and no colour was said */
    int8_t x_cat;         /* the category said for X (for a clarification) */
} pr_intent;

/* The scripted solver's plan. */
typedef struct {
    uint8_t out[LOCO_PLAYROOM_MSG_MAX + 1];
    uint8_t n_out, pos;
    uint32_t seen;
    uint8_t phase;        /* see solver.c */
    uint8_t wait;         /* hesitation steps left */
    uint8_t asked;        /* asked "which one ?" */
    uint8_t detour_x, detour_y, detour;  /* a waypoint before the real goal */
    int8_t target;        /* the object it is going for (maybe the wrong one) */
    uint8_t notice;       /* steps after grabbing the wrong object until it notices */
    uint8_t gave_up;
    uint8_t answer_err;   /* this episode's answer will be wrong */
    pr_intent in;
} pr_solver;

struct loco_playroom_env {
    pr_world w;
    pr_chat chat;
    pr_setter setter;
    pr_solver solver;
    loco_playroom_prompt prompt;
    loco_rng rng[2];      /* the scripted setter's and solver's own streams */
    uint64_t seed;
    int split, family_filter, max_steps;
    int steps;
    int done, success, terminated, truncated;
    uint32_t asked_at;    /* chat index of the setter's first message + 1, 0 before */
};

/* A uniform draw in [0, n) (the modulo bias, below 2^-56 for n <= 256, is
 * immaterial here), and a yes with the given percent chance. */
static inline unsigned loco__pr_below(loco_rng *rng, unsigned n) { return (unsigned)(loco_rng_u64(rng) % n); }
static inline int loco__pr_chance(loco_rng *rng, int percent) { return (int)loco__pr_below(rng, 100) < percent; }

/* ---- world.c */
/* Builds the room for seed (furniture, players, objects; connected floor). */
void loco__pr_world_build(pr_world *w, loco_rng *rng, int split);
int loco__pr_in(int x, int y);
/* The cell in front of player p. */
void loco__pr_front(const pr_world *w, int p, int *x, int *y);
/* 1 if a player may stand on (x, y): floor, no object, no player. */
int loco__pr_walkable(const pr_world *w, int x, int y);
/* 1 if an object can be put down at (x, y): a free floor cell or a
 * furniture cell with nothing on it. */
int loco__pr_placeable(const pr_world *w, int x, int y);
/* 1 if an object put down at (x, y) keeps the room usable (every walkable
 * cell reachable from the solver, every object reachable). */
int loco__pr_can_drop(const pr_world *w, int x, int y);
void loco__pr_move_player(pr_world *w, int p, int x, int y, int dir);
int loco__pr_grab(pr_world *w, int p);
int loco__pr_release(pr_world *w, int p);
/* The object whose colour and category match, or -1. */
int loco__pr_find(const pr_world *w, int cat, int colour);
int loco__pr_count(const pr_world *w, int cat);
extern const int8_t loco__pr_dx[4], loco__pr_dy[4];

/* ---- prompts.c */
/* Draws a feasible prompt of the family for the room; 0 if it has none. */
int loco__pr_prompt_draw(const pr_world *w, loco_rng *rng, int split, int family, loco_playroom_prompt *p);
/* 1 if the instruction's predicate holds now. */
int loco__pr_achieved(const pr_world *w, const loco_playroom_prompt *p);
/* 1 if the answer (tokens) to the question p is right. */
int loco__pr_judge(const pr_world *w, const loco_playroom_prompt *p, const uint8_t *tok, int n);
int loco__pr_is_question(int family);
/* The object / furniture a prompt names, or -1. */
int loco__pr_prompt_x(const pr_world *w, const loco_playroom_prompt *p);
int loco__pr_prompt_y(const pr_world *w, const loco_playroom_prompt *p);
int loco__pr_prompt_f(const pr_world *w, const loco_playroom_prompt *p);
/* POSITION left-of: the cell where X must go, given Y at (yx, yy). */
void loco__pr_left_cell(const pr_world *w, int yx, int yy, int *x, int *y);

/* ---- vocab.c (token ids are the T_* constants of vocab.h) */
/* Word classes: the category / colour / furniture / number a token names, or -1. */
int loco__pr_tok_category(int t, int *plural);
int loco__pr_tok_colour(int t);
int loco__pr_tok_furniture(int t);
int loco__pr_tok_number(int t);
int loco__pr_tok_category_word(int cat, int plural, int synonym);
int loco__pr_tok_colour_word(int colour);
int loco__pr_tok_furniture_word(int kind, int synonym);
int loco__pr_tok_number_word(int n);

/* ---- actions.c */
void loco__pr_apply_motor(pr_world *w, int p, int motor);
/* Adds a token to player p's message; returns 1 when a message was committed. */
int loco__pr_say(pr_chat *c, int p, int token);
const pr_msg *loco__pr_chat_msg(const pr_chat *c, uint32_t k);

/* ---- setter.c, solver.c */
void loco__pr_setter_reset(loco_playroom_env *e);
void loco__pr_setter_act(loco_playroom_env *e, int32_t act[2]);
void loco__pr_solver_reset(loco_playroom_env *e);
void loco__pr_solver_act(loco_playroom_env *e, int32_t act[2]);
/* Parses a setter's message into what the solver should do. */
void loco__pr_parse(const pr_world *w, const uint8_t *tok, int n, pr_intent *in);

/* ---- nav.c */
/* Goals for the planner: stand on a cell of `stand` (any heading), or face a
 * cell of `face` from a walkable cell.  Returns the first motor action of a
 * shortest plan (FORWARD / TURN_*), NOOP if already there, -1 if no plan. */
typedef struct { uint8_t stand[PR_H][PR_W], face[PR_H][PR_W]; } pr_goal;
int loco__pr_plan(const pr_world *w, int p, const pr_goal *goal);

#endif
