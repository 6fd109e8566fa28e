/*
 * The DOM: a fixed pool of nodes with parent/child/sibling links, the
 * builders tasks use (buttons, inputs, checkboxes, words of text), and the
 * observation writer, which walks the tree in document order and reports
 * every shown element as MiniWoB++'s core.getDOMInfo() would.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "env/web/web.h"

/* Copies src into dst[cap], NUL-padding the tail so that observations are
 * byte-for-byte determined by their contents (digests hash whole strings). */
void loco__strcpy(char *dst, const char *src, int cap) {
    int i = 0;
    if (src)
        for (; i < cap - 1 && src[i]; i++) dst[i] = src[i];
    memset(dst + i, 0, (size_t)(cap - i));
}

static void rgba(uint8_t *c, uint32_t rgb, uint8_t a) {
    c[0] = (uint8_t)(rgb >> 16); c[1] = (uint8_t)(rgb >> 8); c[2] = (uint8_t)rgb; c[3] = a;
}

/* The page skeleton of MiniWoB++'s core.css: #wrap (160x210, white) holding
 * #query (44px + 3px padding, yellow, 10px text) and #area (2px padding). */
void loco__page_clear(loco__page *p) {
    int task = p->task;
    uint64_t seed = p->seed;
    loco_rng rng = p->rng;
    memset(p, 0, sizeof *p);
    p->task = task; p->seed = seed; p->rng = rng;
    p->max_ms = loco__tasks[task]->max_ms > 0 ? (float)loco__tasks[task]->max_ms : (float)LOCO_ENV_EPISODE_MS;
    p->next_ref = 1; p->next_text_ref = -1;
    p->focus = p->hover = p->target = p->down_node = p->drag_node = p->open_select = -1;
    p->mx = LOCO_ENV_W / 2; p->my = LOCO_ENV_H / 2;
    p->root = loco__add(p, -1, K_BOX, "DIV", NULL);
    loco__set_id(p, p->root, "wrap");
    p->n[p->root].w = LOCO_ENV_W; p->n[p->root].h = LOCO_ENV_H;
    loco__set_bg(p, p->root, 0xFFFFFF);
    p->query = loco__add(p, p->root, K_BOX, "DIV", NULL);
    loco__set_id(p, p->query, "query");
    loco__set_bg(p, p->query, 0xFFFF00);
    p->n[p->query].h = 50;
    for (int k = 0; k < 4; k++) p->n[p->query].pad[k] = 3;
    p->area = loco__add(p, p->root, K_BOX, "DIV", NULL);
    loco__set_id(p, p->area, "area");
    for (int k = 0; k < 4; k++) p->n[p->area].pad[k] = 2;
    p->dirty = 1;
}

int loco__add(loco__page *p, int parent, int kind, const char *tag, const char *text) {
    if (p->n_nodes >= LOCO__MAX_NODES) return p->n_nodes - 1;  /* tasks stay far below */
    int i = p->n_nodes++;
    loco__node *n = &p->n[i];
    memset(n, 0, sizeof *n);
    n->parent = (int16_t)parent; n->first = n->last = n->next = -1;
    n->kind = (uint8_t)kind;
    n->e.ref = kind == K_TEXT ? p->next_text_ref-- : p->next_ref++;
    loco__strcpy(n->e.tag, tag, sizeof n->e.tag);
    loco__strcpy(n->e.text, text, LOCO_ENV_STR);
    n->font_px = parent >= 0 ? p->n[parent].font_px : 10;
    n->bold = parent >= 0 ? p->n[parent].bold : 0;
    if (parent >= 0) memcpy(n->e.fg, p->n[parent].e.fg, 4);
    else rgba(n->e.fg, 0x000000, 255);
    n->display = kind == K_TEXT || kind == K_LINK || kind == K_LABEL ? D_INLINE
               : kind == K_BOX ? D_BLOCK : D_INLINE_BLOCK;
    n->group = -1;
    if (parent >= 0) {
        n->e.parent = p->n[parent].e.ref;
        loco__node *pa = &p->n[parent];
        if (pa->last >= 0) p->n[pa->last].next = (int16_t)i; else pa->first = (int16_t)i;
        pa->last = (int16_t)i;
    }
    p->dirty = 1;
    return i;
}

void loco__set_text(loco__page *p, int i, const char *s) { loco__strcpy(p->n[i].e.text, s, LOCO_ENV_STR); p->dirty = 1; }
void loco__set_value(loco__page *p, int i, const char *s) {
    loco__strcpy(p->n[i].e.value, s, LOCO_ENV_STR);
    int len = (int)strlen(p->n[i].e.value);
    p->n[i].caret = p->n[i].sel_a = p->n[i].sel_b = (int16_t)len;
}
void loco__set_id(loco__page *p, int i, const char *id) { loco__strcpy(p->n[i].e.id, id, sizeof p->n[i].e.id); }
void loco__set_class(loco__page *p, int i, const char *c) { loco__strcpy(p->n[i].e.classes, c, sizeof p->n[i].e.classes); }
void loco__set_bg(loco__page *p, int i, uint32_t rgb) { rgba(p->n[i].e.bg, rgb, 255); }
void loco__set_fg(loco__page *p, int i, uint32_t rgb) { rgba(p->n[i].e.fg, rgb, 255); }
void loco__hide(loco__page *p, int i, int hidden) {
    uint8_t d = hidden ? D_NONE : (p->n[i].kind == K_BOX ? D_BLOCK : p->n[i].kind == K_TEXT ? D_INLINE : D_INLINE_BLOCK);
    if (!hidden && p->n[i].display != D_NONE) return;
    p->n[i].display = d;
    p->dirty = 1;
}
int loco__visible(const loco__page *p, int i) { return p->n[i].vis; }
int loco__within(const loco__page *p, int i, int anc) {
    for (; i >= 0; i = p->n[i].parent)
        if (i == anc) return 1;
    return 0;
}

/* Chrome's user-agent styles, approximately: 13.33px controls with a 1px
 * padding and a 2px border; text inputs are 120px wide in core.css. */
int loco__button(loco__page *p, int parent, const char *label) {
    int b = loco__add(p, parent, K_BUTTON, "BUTTON", label);
    loco__node *n = &p->n[b];
    n->font_px = 13; n->bold = 0; n->center = 1; n->border = 2;
    n->pad[0] = n->pad[2] = 1; n->pad[1] = n->pad[3] = 6;
    loco__set_bg(p, b, 0xEFEFEF); loco__set_fg(p, b, 0x000000);
    rgba(n->bcolor, 0x767676, 255);
    return b;
}

int loco__input(loco__page *p, int parent, int type, int width) {
    static const char *tags[] = {"INPUT_text", "INPUT_password", "INPUT_date", "INPUT_time", "INPUT_number"};
    int i = loco__add(p, parent, K_INPUT, tags[type], NULL);
    loco__node *n = &p->n[i];
    n->input_type = (uint8_t)type; n->font_px = 13; n->bold = 0; n->border = 2;
    n->pad[0] = n->pad[2] = 1; n->pad[1] = n->pad[3] = 2;
    n->w = (int16_t)(width + 8);
    loco__set_bg(p, i, 0xFFFFFF); loco__set_fg(p, i, 0x000000);
    rgba(n->bcolor, 0x767676, 255);
    return i;
}

/* <label><input type=checkbox>text</label>: the text is a "t" pseudo-element
 * because it has an element sibling. */
int loco__checkbox(loco__page *p, int parent, const char *label, int *label_node) {
    int l = loco__add(p, parent, K_LABEL, "LABEL", NULL);
    int c = loco__add(p, l, K_CHECK, "INPUT_checkbox", NULL);
    loco__node *n = &p->n[c];
    n->w = n->h = 13; n->margin[0] = n->margin[2] = 3; n->margin[1] = 3; n->margin[3] = 4;
    n->border = 1; rgba(n->bcolor, 0x767676, 255);
    loco__set_bg(p, c, 0xFFFFFF);
    loco__strcpy(n->e.value, "false", LOCO_ENV_STR);
    if (label) loco__add(p, l, K_TEXT, "t", label);
    if (label_node) *label_node = l;
    return c;
}

void loco__br(loco__page *p, int parent) {
    int b = loco__add(p, parent, K_BOX, "BR", NULL);
    p->n[b].h = 0;
    p->n[b].user = -1;   /* a line break: zero-size, never reported */
}

/* Splits s at spaces into inline nodes of the given kind and tag, so that
 * each word (a link, say) has its own box and lines wrap between words. */
void loco__words(loco__page *p, int parent, const char *s, int kind, const char *tag) {
    char w[LOCO_ENV_STR];
    float space = loco__text_width(" ", 1, p->n[parent].font_px, p->n[parent].bold);
    while (*s) {
        while (*s == ' ') s++;
        int k = 0;
        while (s[k] && s[k] != ' ' && k < LOCO_ENV_STR - 1) k++;
        if (!k) break;
        memcpy(w, s, (size_t)k); w[k] = 0;
        int i = loco__add(p, parent, kind, tag, w);
        p->n[i].display = D_INLINE;
        p->n[i].margin[1] = (int16_t)(space + 0.5f);
        s += k;
    }
}

void loco__set_field(loco__page *p, const char *key, const char *value) {
    if (p->n_fields >= LOCO_ENV_MAX_FIELDS) return;
    loco__strcpy(p->fkey[p->n_fields], key, LOCO_ENV_STR);
    loco__strcpy(p->fval[p->n_fields], value, LOCO_ENV_STR);
    p->n_fields++;
}

void loco__set_utterance(loco__page *p, const char *fmt, ...) {
    char buf[LOCO_ENV_UTTERANCE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    loco__strcpy(p->utterance, buf, LOCO_ENV_UTTERANCE);
    loco__set_text(p, p->query, buf);
}

/* core.endEpisode(reward, time_proportional): only the first call counts;
 * a time-proportional reward is scaled by max(0, 1 - t / T), T the task's
 * time limit (10 s; 15 s for a few tasks, as upstream). */
void loco__end(loco__page *p, float reward, int time_prop, int success) {
    if (p->done) return;
    p->done = 1;
    p->raw = reward;
    float f = 1.0f - p->time_ms / p->max_ms;
    p->discounted = time_prop ? reward * (f > 0 ? f : 0) : reward;
    p->success = success;
}

/* Writes every shown element with a non-zero box, except #query, in
 * document order (p->order, computed by the layout). */
void loco__write_obs(loco__page *p, loco_env_obs *o) {
    if (p->dirty) loco__layout(p);
    memcpy(o->utterance, p->utterance, sizeof o->utterance);
    o->n_fields = p->n_fields;
    memcpy(o->field_key, p->fkey, sizeof o->field_key);
    memcpy(o->field_value, p->fval, sizeof o->field_value);
    int n = 0;
    for (int k = 0; k < p->n_order && n < LOCO_ENV_MAX_ELEMS; k++) {
        int i = p->order[k];
        loco__node *nd = &p->n[i];
        if (loco__within(p, i, p->query) || (nd->user == -1 && nd->kind == K_BOX && nd->h == 0)) continue;
        if (nd->e.width <= 0 || nd->e.height <= 0) continue;
        loco_env_elem *e = &o->elems[n++];
        *e = nd->e;
        uint32_t f = nd->e.flags & LOCO_ENV_TAMPERED;
        if (p->focus == i) f |= LOCO_ENV_FOCUSED;
        if (p->target == i) f |= LOCO_ENV_TARGETED;
        int leaf = 1;
        for (int c = nd->first; c >= 0; c = p->n[c].next)
            if (p->n[c].vis) { leaf = 0; break; }
        if (leaf) f |= LOCO_ENV_LEAF;
        e->flags = f;
    }
    o->n_elems = n;
    o->prev_action = p->prev;
    o->task = p->task;
    o->step = p->steps;
    o->time_ms = p->time_ms;
    o->cursor_x = p->mx; o->cursor_y = p->my;
    o->seed = p->seed;
}
