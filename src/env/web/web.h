/*
 * The web engine's internals: a page is a fixed pool of nodes (one per DOM
 * element or text run) laid out by a small subset of CSS flow layout, driven
 * by mouse and keyboard events, and watched by a task that builds the page
 * from a seed and ends the episode with a reward.
 */
#ifndef LOCO_ENV_WEB_H
#define LOCO_ENV_WEB_H

#include <stdint.h>
#include "loco/env.h"

#define LOCO__MAX_NODES 200

/* Behaviour classes; the tag string the agent sees is separate. */
enum {
    K_BOX = 0,   /* any element without built-in behaviour (DIV, SPAN, P, LI, ...) */
    K_TEXT,      /* a text run with element siblings (tag "t") */
    K_BUTTON,
    K_INPUT,     /* single-line text input (text, password, date, time, number) */
    K_TEXTAREA,
    K_CHECK,
    K_RADIO,
    K_SELECT,    /* a drop-down list: its K_OPTION children show while it is open */
    K_OPTION,
    K_LABEL,     /* a click on a label acts on the checkbox or radio inside it */
    K_LINK,
    K_SHAPE,     /* an SVG shape: see shape below */
};

enum { D_BLOCK = 0, D_INLINE, D_INLINE_BLOCK, D_NONE };
enum { SHAPE_RECT = 0, SHAPE_CIRCLE, SHAPE_TRIANGLE, SHAPE_TEXT };
enum { INPUT_TEXT = 0, INPUT_PASSWORD, INPUT_DATE, INPUT_TIME, INPUT_NUMBER };

typedef struct {
    loco_env_elem e;          /* the agent's view; box in page pixels after layout */
    int16_t parent, first, last, next;   /* tree links (indices; -1 none) */
    uint8_t kind, display, absolute, scroll;   /* scroll: overflow-y auto, clips children */
    uint8_t font_px, bold, center, shape;      /* text and SVG shape */
    uint8_t input_type, draggable, checked, border;  /* border width in px */
    uint8_t bcolor[4];        /* border colour */
    int16_t margin[4];        /* top right bottom left */
    int16_t pad[4];
    int16_t w, h;             /* fixed border-box size; 0 = auto */
    float   x, y;             /* absolute offset from the parent's padding box */
    float   scroll_y, content_h;
    int16_t caret, sel_a, sel_b;   /* text editing: caret and selection [a, b) */
    int16_t group;            /* radio group */
    int32_t user;             /* the task's own tag for the node */
    uint8_t vis;              /* shown: neither it nor an ancestor is display:none */
    int8_t  seg, cnt;         /* date/time inputs: the segment being typed, digits in it */
    char    raw[12];          /* date: "mmddyyyy", time: "hhmmA" (A or P); '-' unset */
    float   clip[4];          /* x0 y0 x1 y1: the visible part (scroll ancestors clip) */
} loco__node;

/* Events a task hears. */
enum { EV_CLICK = 1, EV_DBLCLICK, EV_ENTER, EV_INPUT, EV_CHANGE, EV_DROP, EV_HOVER, EV_FOCUS, EV_SCROLL, EV_DOWN,
       EV_KEY = 100 };   /* EV_KEY + k: key k pressed on a focused element that is not a text field */

typedef struct loco__page {
    loco__node n[LOCO__MAX_NODES];
    int   n_nodes;
    int   next_ref, next_text_ref;
    int   root, query, area;    /* #wrap, #query, #area */
    char  utterance[LOCO_ENV_UTTERANCE];
    int   n_fields;
    char  fkey[LOCO_ENV_MAX_FIELDS][LOCO_ENV_STR];
    char  fval[LOCO_ENV_MAX_FIELDS][LOCO_ENV_STR];
    /* input state */
    float mx, my;
    int   focus, hover, target;
    int   down, down_node, drag_node, open_select;
    float drag_dx, drag_dy;
    char  clipboard[LOCO_ENV_STR];
    int   dirty;                /* layout needed */
    int16_t order[LOCO__MAX_NODES];   /* shown nodes in document order (layout) */
    int   n_order;
    /* episode */
    int   task;
    uint64_t seed;
    loco_rng rng;               /* the task's randomness (instance and dynamics) */
    float time_ms, max_ms;      /* the clock and the task's time limit */
    int   steps;
    int   done, success;
    float raw, discounted;
    loco_env_action prev;
    /* task state */
    int   ti[64];
    float tf[8];
    char  ts[8][LOCO_ENV_STR];
} loco__page;

/* The demonstrator's intents, executed as low-level actions. */
enum { I_CLICK = 1, I_DBLCLICK, I_MOVE, I_TYPE_FIELD, I_TYPE_STR, I_KEY, I_DRAG, I_SCROLL, I_WAIT, I_CLICK_XY };
typedef struct {
    int  type, ref, field, key, n;
    float x, y;                 /* I_CLICK_XY, I_DRAG* targets */
    char str[LOCO_ENV_STR];
} loco__intent;

typedef struct loco__demo {
    loco_rng rng;
    loco__intent q[48];
    int   head, tail;
    int   sub;                  /* progress inside the head intent */
    int   m[16];                /* the planner's memory */
    char  ms[4][LOCO_ENV_STR];
    int   task;
} loco__demo;

typedef struct {
    const char *name;
    void (*gen)(loco__page *p);                       /* build the page from p->rng */
    void (*event)(loco__page *p, int ev, int node);   /* react to an event */
    void (*plan)(loco__demo *d, const loco_env_obs *o);  /* demonstrator: push intents */
    void (*tick)(loco__page *p);                      /* optional: per step (timers) */
    int max_ms;                                       /* the episode's time limit; 0: 10 s */
} loco__task;

extern const loco__task *const loco__tasks[];
extern const int loco__n_tasks;

/* dom.c */
void  loco__page_clear(loco__page *p);
int   loco__add(loco__page *p, int parent, int kind, const char *tag, const char *text);
void  loco__set_text(loco__page *p, int i, const char *s);
void  loco__set_value(loco__page *p, int i, const char *s);
void  loco__set_id(loco__page *p, int i, const char *id);
void  loco__set_class(loco__page *p, int i, const char *c);
void  loco__set_bg(loco__page *p, int i, uint32_t rgb);
void  loco__set_fg(loco__page *p, int i, uint32_t rgb);
void  loco__hide(loco__page *p, int i, int hidden);
int   loco__visible(const loco__page *p, int i);
int   loco__within(const loco__page *p, int i, int anc);
int   loco__button(loco__page *p, int parent, const char *label);
int   loco__input(loco__page *p, int parent, int type, int width);
int   loco__checkbox(loco__page *p, int parent, const char *label, int *label_node);
void  loco__br(loco__page *p, int parent);
void  loco__words(loco__page *p, int parent, const char *s, int kind_words, const char *word_tag);
void  loco__set_field(loco__page *p, const char *key, const char *value);
void  loco__set_utterance(loco__page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void  loco__end(loco__page *p, float reward, int time_prop, int success);
void  loco__write_obs(loco__page *p, loco_env_obs *o);
void  loco__strcpy(char *dst, const char *src, int cap);

/* layout.c */
float loco__text_width(const char *s, int n, int px, int bold);
float loco__line_height(int px);
/* Breaks text into lines of at most `width` px; writes line start offsets
 * (starts[0] = 0) and returns the number of lines (<= max). */
int   loco__wrap(const char *s, int px, int bold, float width, int *starts, int max);
void  loco__layout(loco__page *p);
int   loco__hit(loco__page *p, float x, float y);
void  loco__clip_box(const loco__page *p, int i, float *x0, float *y0, float *x1, float *y1);

/* events.c */
int   loco__apply(loco__page *p, const loco_env_action *a);
void  loco__focus(loco__page *p, int i);
int   loco__key_char(int key);

/* demo.c */
void  loco__demo_push(loco__demo *d, int type, int ref, const char *str);
void  loco__demo_click(loco__demo *d, int ref);
void  loco__demo_type(loco__demo *d, const char *s);
void  loco__demo_field(loco__demo *d, int field);
void  loco__demo_key(loco__demo *d, const char *keyname);
int   loco__obs_find_text(const loco_env_obs *o, const char *tag, const char *text);
int   loco__obs_find_id(const loco_env_obs *o, const char *id);
int   loco__obs_find_tag(const loco_env_obs *o, const char *tag, int nth);
const char *loco__obs_field(const loco_env_obs *o, const char *key);
int   loco__obs_field_index(const loco_env_obs *o, const char *key);
const loco_env_elem *loco__obs_ref(const loco_env_obs *o, int ref);

/* shared helpers for tasks */
int   loco__randi(loco__page *p, int lo, int hi);   /* uniform in [lo, hi] */
float loco__randf(loco__page *p);
void  loco__shuffle(loco__page *p, int *a, int n);
const char *loco__pick(loco__page *p, const char *const *list, int n);
void  loco__rand_string(loco__page *p, char *out, int lo, int hi);
/* A task's end: won (reward 1, discounted by time) or lost (reward -1). */
void  loco__win(loco__page *p);
void  loco__lose(loco__page *p);
/* The page's submit button (id "subbtn", class "secondary-action") with
 * label and pad_y / pad_x pixels of padding above-below / left-right. */
int   loco__submit(loco__page *p, int parent, const char *label, int pad_y, int pad_x);

extern const char *const loco__names[];   extern const int loco__n_names;
extern const char *const loco__words_list[];   extern const int loco__n_words;

#endif
