/*
 * The scripted demonstrator.  A task's planner reads the observation (the
 * utterance, the fields and the DOM element list: never the page's hidden
 * state) and queues intents such as "click element 7" or "type the string
 * 42"; this file turns intents into CC-Net's low-level actions one step at a
 * time, resolving every element to its current box when the action is sent.
 *
 * Variation, drawn from the demonstrator's own seed: clicks land anywhere in
 * the middle 60% of a box (then snapped to a bin whose centre lies inside);
 * the pointer sometimes travels to the target first; there are short pauses;
 * the pointer sometimes strays to a wrong spot before going on; typing
 * sometimes hits a wrong letter, which the next step erases with Backspace.
 * None of these can change the outcome, so a correct planner wins always.
 */
#include <stdlib.h>
#include <string.h>
#include "env/web/web.h"

#define P_PAUSE 0.05f    /* a no-op before an intent */
#define P_STRAY 0.04f    /* a move to a random spot before an intent */
#define P_APPROACH 0.3f  /* a move onto the target before clicking it */
#define P_TYPO 0.03f     /* a wrong letter (then Backspace) per typed character */

struct loco_env_demo {
    int n;
    loco__demo d[];
};

int loco_env_demo_create(loco_env_demo **out, int n) {
    *out = NULL;
    if (n < 1) return LOCO_EINVAL;
    loco_env_demo *dm = calloc(1, sizeof *dm + (size_t)n * sizeof(loco__demo));
    if (!dm) return LOCO_ENOMEM;
    dm->n = n;
    for (int i = 0; i < n; i++) loco_env_demo_reset(dm, i, (uint64_t)i);
    *out = dm;
    return LOCO_OK;
}

void loco_env_demo_free(loco_env_demo *d) { free(d); }

void loco_env_demo_reset(loco_env_demo *dm, int i, uint64_t seed) {
    if (i < 0 || i >= dm->n) return;
    loco__demo *d = &dm->d[i];
    memset(d, 0, sizeof *d);
    loco_rng_seed(&d->rng, seed);
    d->task = -1;
}

void loco__demo_push(loco__demo *d, int type, int ref, const char *str) {
    if (d->tail - d->head >= 48) return;
    loco__intent *it = &d->q[d->tail++ % 48];
    memset(it, 0, sizeof *it);
    it->type = type; it->ref = ref;
    if (str) loco__strcpy(it->str, str, LOCO_ENV_STR);
}
void loco__demo_click(loco__demo *d, int ref) { loco__demo_push(d, I_CLICK, ref, NULL); }
void loco__demo_type(loco__demo *d, const char *s) { loco__demo_push(d, I_TYPE_STR, 0, s); }
void loco__demo_field(loco__demo *d, int field) {
    loco__demo_push(d, I_TYPE_FIELD, 0, NULL);
    d->q[(d->tail - 1) % 48].field = field;
}
void loco__demo_key(loco__demo *d, const char *name) {
    loco__demo_push(d, I_KEY, 0, NULL);
    d->q[(d->tail - 1) % 48].key = loco_env_key_find(name);
}

/* ------------------------------------------------------------ lookups */

const loco_env_elem *loco__obs_ref(const loco_env_obs *o, int ref) {
    for (int k = 0; k < o->n_elems; k++)
        if (o->elems[k].ref == ref) return &o->elems[k];
    return NULL;
}
int loco__obs_find_text(const loco_env_obs *o, const char *tag, const char *text) {
    for (int k = 0; k < o->n_elems; k++)
        if ((!tag || !strcmp(o->elems[k].tag, tag)) && !strcmp(o->elems[k].text, text)) return o->elems[k].ref;
    return 0;
}
int loco__obs_find_id(const loco_env_obs *o, const char *id) {
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].id, id)) return o->elems[k].ref;
    return 0;
}
int loco__obs_find_tag(const loco_env_obs *o, const char *tag, int nth) {
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].tag, tag) && nth-- == 0) return o->elems[k].ref;
    return 0;
}
int loco__obs_field_index(const loco_env_obs *o, const char *key) {
    for (int k = 0; k < o->n_fields; k++)
        if (!strcmp(o->field_key[k], key)) return k;
    return -1;
}
const char *loco__obs_field(const loco_env_obs *o, const char *key) {
    int k = loco__obs_field_index(o, key);
    return k >= 0 ? o->field_value[k] : "";
}

/* ------------------------------------------------------------ execution */

static float uni(loco__demo *d) { return loco_rng_uniform(&d->rng); }

/* Whether element k lies inside element ref (its ancestor chain meets ref). */
static int descends(const loco_env_obs *o, int k, int ref) {
    for (int depth = 0; k >= 0 && depth < LOCO_ENV_MAX_ELEMS; depth++) {
        if (o->elems[k].ref == ref) return 1;
        int par = o->elems[k].parent, next = -1;
        for (int j = 0; j < o->n_elems; j++)
            if (o->elems[j].ref == par) { next = j; break; }
        k = next;
    }
    return 0;
}

/* Whether page point (x, y) shows element t: no element later in document
 * order (drawn on top) that is not inside t covers it. */
static int uncovered(const loco_env_obs *o, int t, float x, float y) {
    for (int k = t + 1; k < o->n_elems; k++) {
        const loco_env_elem *e = &o->elems[k];
        if (x >= e->left && x < e->left + e->width && y >= e->top && y < e->top + e->height &&
            !descends(o, k, o->elems[t].ref))
            return 0;
    }
    return 1;
}

/* A bin pair whose centre lies inside element t's box (within the page) and
 * shows t, nearest to a jittered point of the middle 60%; 0 when none. */
static int aim(loco__demo *d, const loco_env_obs *o, int t, int *bx, int *by) {
    const loco_env_elem *e = &o->elems[t];
    float x0 = e->left, y0 = e->top, x1 = e->left + e->width, y1 = e->top + e->height;
    if (x0 < 0) x0 = 0;
    if (y0 < 50) y0 = 50;   /* the task area: #query is never a target */
    if (x1 > LOCO_ENV_W) x1 = LOCO_ENV_W;
    if (y1 > LOCO_ENV_H) y1 = LOCO_ENV_H;
    if (x1 <= x0 || y1 <= y0) return 0;
    float px = x0 + (x1 - x0) * (0.2f + 0.6f * uni(d)), py = y0 + (y1 - y0) * (0.2f + 0.6f * uni(d));
    int found = 0;
    float bestd = 1e30f;
    for (int x = loco_env_x_bin(x0); x <= loco_env_x_bin(x1); x++)
        for (int y = loco_env_y_bin(y0); y <= loco_env_y_bin(y1); y++) {
            float cx = loco_env_bin_x(x), cy = loco_env_bin_y(y);
            if (cx < x0 + 0.5f || cx > x1 - 0.5f || cy < y0 + 0.5f || cy > y1 - 0.5f) continue;
            float dd = (cx - px) * (cx - px) + (cy - py) * (cy - py);
            if (dd < bestd && uncovered(o, t, cx, cy)) { bestd = dd; found = 1; *bx = x; *by = y; }
        }
    return found;
}

static int aim_ref(loco__demo *d, const loco_env_obs *o, int ref, int *bx, int *by) {
    for (int k = 0; k < o->n_elems; k++)
        if (o->elems[k].ref == ref) return aim(d, o, k, bx, by);
    return 0;
}

static void set(loco_env_action *a, int type, int x, int y) {
    memset(a, 0, sizeof *a);
    a->type = type; a->x = x; a->y = y;
}

static void pop(loco__demo *d) { d->head++; d->sub = 0; }

void loco_env_demo_act(loco_env_demo *dm, int i, const loco_env_obs *o, loco_env_action *a) {
    loco__demo *d = &dm->d[i];
    set(a, LOCO_ENV_NONE, 0, 0);
    if (d->task != o->task || o->step == 0) {   /* a new episode: forget the plan */
        loco_rng rng = d->rng;
        memset(d, 0, sizeof *d);
        d->rng = rng;
        d->task = o->task;
    }
    if (d->head == d->tail) {
        d->head = d->tail = 0;
        const loco__task *t = loco__tasks[o->task];
        if (t->plan) t->plan(d, o);
        if (d->head == d->tail) return;   /* nothing to do: wait */
    }
    loco__intent *it = &d->q[d->head % 48];
    int bx, by;
    if (d->sub == 0 && it->type != I_TYPE_STR && it->type != I_WAIT && it->type != I_SCROLL) {
        float u = uni(d);
        if (u < P_PAUSE) return;
        if (u < P_PAUSE + P_STRAY) {
            set(a, LOCO_ENV_MOVE_COORDS, (int)(uni(d) * LOCO_ENV_BINS), 13 + (int)(uni(d) * 37));
            return;
        }
    }
    switch (it->type) {
    case I_CLICK: case I_DBLCLICK:
        if (!aim_ref(d, o, it->ref, &bx, &by)) { pop(d); return; }
        if (d->sub == 0 && it->type == I_CLICK && uni(d) < P_APPROACH) {
            set(a, LOCO_ENV_MOVE_COORDS, bx, by);
            d->sub = 1;
            return;
        }
        set(a, it->type == I_CLICK ? LOCO_ENV_CLICK_COORDS : LOCO_ENV_DBLCLICK_COORDS, bx, by);
        pop(d);
        return;
    case I_CLICK_XY:
        set(a, LOCO_ENV_CLICK_COORDS, loco_env_x_bin(it->x), loco_env_y_bin(it->y));
        pop(d);
        return;
    case I_MOVE:
        if (aim_ref(d, o, it->ref, &bx, &by)) set(a, LOCO_ENV_MOVE_COORDS, bx, by);
        pop(d);
        return;
    case I_TYPE_FIELD:
        a->type = LOCO_ENV_TYPE_FIELD; a->field = it->field;
        pop(d);
        return;
    case I_KEY:
        a->type = LOCO_ENV_PRESS_KEY; a->key = it->key;
        pop(d);
        return;
    case I_TYPE_STR: {
        int len = (int)strlen(it->str);
        if (d->sub >= len) { pop(d); return; }
        a->type = LOCO_ENV_PRESS_KEY;
        if (it->n == 1) {   /* erase the typo */
            a->key = loco_env_key_find("<Backspace>");
            it->n = 2;
            return;
        }
        if (it->n == 0 && uni(d) < P_TYPO) {
            a->key = loco_env_key_find("a") + (int)(uni(d) * 26);
            it->n = 1;
            return;
        }
        char ch[2] = {it->str[d->sub], 0};
        a->key = ch[0] == ' ' ? loco_env_key_find("<Space>") : ch[0] == '\n' ? loco_env_key_find("<Enter>")
               : loco_env_key_find(ch);
        if (a->key < 0) a->type = LOCO_ENV_NONE;   /* a planner bug: not typable */
        it->n = 0;
        if (++d->sub >= len) pop(d);
        return;
    }
    case I_DRAG:
        /* move element ref so that its centre lands on (x, y): press on it,
         * move in two hops, release where the grab point must go */
        if (d->sub == 0) {
            const loco_env_elem *e = loco__obs_ref(o, it->ref);
            if (!e || !aim_ref(d, o, it->ref, &bx, &by)) { pop(d); return; }
            it->x += loco_env_bin_x(bx) - (e->left + e->width / 2);
            it->y += loco_env_bin_y(by) - (e->top + e->height / 2);
            set(a, LOCO_ENV_MOUSEDOWN_COORDS, bx, by);
            it->field = bx; it->key = by;
            d->sub = 1;
            return;
        }
        if (d->sub < 3) {
            float t = d->sub / 3.0f;
            float sx = loco_env_bin_x(it->field), sy = loco_env_bin_y(it->key);
            set(a, LOCO_ENV_MOVE_COORDS, loco_env_x_bin(sx + (it->x - sx) * t), loco_env_y_bin(sy + (it->y - sy) * t));
            d->sub++;
            return;
        }
        set(a, LOCO_ENV_MOUSEUP_COORDS, loco_env_x_bin(it->x), loco_env_y_bin(it->y));
        pop(d);
        return;
    case I_SCROLL:
        if (!aim_ref(d, o, it->ref, &bx, &by) || it->n == 0) { pop(d); return; }
        set(a, it->n > 0 ? LOCO_ENV_SCROLL_DOWN_COORDS : LOCO_ENV_SCROLL_UP_COORDS, bx, by);
        it->n += it->n > 0 ? -1 : 1;
        if (it->n == 0) pop(d);
        return;
    case I_WAIT:
        if (--it->n <= 0) pop(d);
        return;
    default:
        pop(d);
    }
}
