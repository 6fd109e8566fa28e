/*
 * Pointer tasks: drag-and-drop (drag-box) and a slider (use-slider).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env/web/web.h"

/* ---------------------------------------------------------------- drag-box */
/* MiniWoB++'s boxes: 20 px and 50 px, both draggable, in a 154x100 area;
 * Submit wins when the small box lies strictly inside the large one. */
static void drag_box_gen(loco__page *p) {
    loco__set_utterance(p, "Drag the smaller box so that it is completely inside the larger box.");
    int area = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, area, "draggable");
    p->n[area].h = 100;
    static const char *const ids[2] = {"draggableSmall", "draggableLarge"};
    for (int k = 0; k < 2; k++) {
        int side = k ? 50 : 20;
        int b = loco__add(p, area, K_BOX, "DIV", k ? "L" : "s");
        loco__set_id(p, b, ids[k]);
        p->n[b].w = p->n[b].h = (int16_t)side; p->n[b].border = 1; p->n[b].draggable = 1;
        memcpy(p->n[b].bcolor, (uint8_t[4]){0, 0, 0, 255}, 4);
        loco__set_bg(p, b, k ? 0xB0C4DE : 0xF4A460);
        p->n[b].absolute = 1;
        p->n[b].y = (float)loco__randi(p, 0, 100 - side - 5);
        p->n[b].x = (float)loco__randi(p, 0, 154 - side - 5);
        p->ti[2 + k] = b;
    }
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
}
static void drag_box_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    float dy = p->n[p->ti[2]].y - p->n[p->ti[3]].y, dx = p->n[p->ti[2]].x - p->n[p->ti[3]].x;
    if (dy > 0 && dy < 30 && dx > 0 && dx < 30) loco__win(p); else loco__lose(p);
}
/* Drag the small box's centre onto the large box's centre (when the small
 * box is hidden under the large one, move the large one away first). */
static void drag_box_plan(loco__demo *d, const loco_env_obs *o) {
    const loco_env_elem *s = loco__obs_ref(o, loco__obs_find_id(o, "draggableSmall"));
    const loco_env_elem *l = loco__obs_ref(o, loco__obs_find_id(o, "draggableLarge"));
    if (!s || !l) return;
    float sx = s->left - l->left, sy = s->top - l->top;
    if (d->m[0] == 0 && sx > 3 && sx < 27 && sy > 3 && sy < 27) {   /* already inside, with a margin */
        loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
        return;
    }
    /* less than 6 px of the small box showing: too little to grab */
    if (s->left > l->left - 6 && s->top > l->top - 6 && s->left + s->width < l->left + l->width + 6 &&
        s->top + s->height < l->top + l->height + 6) {
        loco__demo_push(d, I_DRAG, l->ref, NULL);   /* uncover the small box */
        d->q[(d->tail - 1) % 48].x = s->left > 70 ? 30 : 130;
        d->q[(d->tail - 1) % 48].y = 100;
        return;
    }
    loco__demo_push(d, I_DRAG, s->ref, NULL);
    d->q[(d->tail - 1) % 48].x = l->left + l->width / 2;
    d->q[(d->tail - 1) % 48].y = l->top + l->height / 2;
}
const loco__task loco__task_drag_box = {"drag-box", drag_box_gen, drag_box_event, drag_box_plan, NULL, 0};

/* ---------------------------------------------------------------- use-slider */
/* jQuery UI's slider: a track and a handle, values vmin..vmax by 1 (vmin in
 * {-100, 0, 10, 100}, the span in {5, 10, 50, 100}), horizontal or vertical,
 * 50-115 px long.  A click on the track (or the handle) or a drag of the
 * handle sets the value at that point, arrow keys on the focused handle
 * step it, and #val shows it.  ti[0] track, ti[1] Submit, ti[2] handle,
 * ti[3] label, ti[4] vmin, ti[5] vmax, ti[6] vertical, ti[7] length, ti[8]
 * value, ti[9] target. */
static void slider_set(loco__page *p, int v) {
    if (v < p->ti[4]) v = p->ti[4];
    if (v > p->ti[5]) v = p->ti[5];
    p->ti[8] = v;
    float f = (float)(v - p->ti[4]) / (float)(p->ti[5] - p->ti[4]);
    loco__node *h = &p->n[p->ti[2]];
    if (p->ti[6]) { h->x = -4; h->y = (1 - f) * (float)p->ti[7] - 6; }
    else { h->x = f * (float)p->ti[7] - 6; h->y = -4; }
    char s[16];
    snprintf(s, sizeof s, "%d", v);
    loco__set_text(p, p->ti[3], s);
    p->dirty = 1;
}
/* The value at page point (x, y) of the track. */
static int slider_at(loco__page *p, float x, float y) {
    if (p->dirty) loco__layout(p);
    loco__node *t = &p->n[p->ti[0]];
    float f = p->ti[6] ? 1 - (y - t->e.top) / t->e.height : (x - t->e.left) / t->e.width;
    float v = (float)p->ti[4] + f * (float)(p->ti[5] - p->ti[4]);
    return (int)(v < 0 ? v - 0.5f : v + 0.5f);
}
static void use_slider_gen(loco__page *p) {
    static const int mins[4] = {-100, 0, 10, 100}, spans[4] = {5, 10, 50, 100};
    int vmin = mins[loco__randi(p, 0, 3)], vmax = vmin + spans[loco__randi(p, 0, 3)];
    int vertical = loco__randi(p, 0, 1), len = loco__randi(p, 50, 115);
    p->ti[4] = vmin; p->ti[5] = vmax; p->ti[6] = vertical; p->ti[7] = len;
    int wrap = loco__add(p, p->area, K_BOX, "DIV", NULL);
    p->n[wrap].pad[0] = 10; p->n[wrap].pad[3] = 10; p->n[wrap].pad[2] = 10;
    int t = loco__add(p, wrap, K_BOX, "DIV", NULL);
    loco__set_id(p, t, "slider");
    loco__set_class(p, t, vertical ? "ui-slider ui-slider-vertical" : "ui-slider ui-slider-horizontal");
    p->n[t].w = (int16_t)(vertical ? 8 : len); p->n[t].h = (int16_t)(vertical ? len : 8); p->n[t].border = 1;
    memcpy(p->n[t].bcolor, (uint8_t[4]){0xC5, 0xC5, 0xC5, 255}, 4);
    loco__set_bg(p, t, 0xFFFFFF);
    int h = loco__add(p, t, K_LINK, "SPAN", NULL);
    loco__set_class(p, h, "ui-slider-handle");
    p->n[h].absolute = 1; p->n[h].w = p->n[h].h = 14; p->n[h].border = 1; p->n[h].draggable = 1;
    p->n[h].display = D_INLINE_BLOCK;
    memcpy(p->n[h].bcolor, (uint8_t[4]){0xC5, 0xC5, 0xC5, 255}, 4);
    loco__set_bg(p, h, 0xF6F6F6);
    int lab = loco__add(p, p->area, K_BOX, "DIV", "");
    loco__set_id(p, lab, "val");
    p->n[lab].margin[0] = 4;
    p->ti[0] = t; p->ti[2] = h; p->ti[3] = lab;
    slider_set(p, loco__randi(p, vmin, vmax));
    p->ti[9] = loco__randi(p, vmin, vmax);
    char s[16];
    snprintf(s, sizeof s, "%d", p->ti[9]);
    loco__set_utterance(p, "Select %s with the slider and hit Submit.", s);
    loco__set_field(p, "target", s);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
}
static void use_slider_event(loco__page *p, int ev, int i) {
    if (ev == EV_DROP && i == p->ti[2]) {   /* the handle lands on the value under the pointer */
        slider_set(p, slider_at(p, p->mx, p->my));
        return;
    }
    if (ev == EV_CLICK && (i == p->ti[0] || i == p->ti[2])) { slider_set(p, slider_at(p, p->mx, p->my)); return; }
    if (i == p->ti[2] && ev >= EV_KEY) {
        int k = ev - EV_KEY;   /* arrows: up/right +1, down/left -1 */
        if (k == 7 || k == 8) slider_set(p, p->ti[8] + 1);
        if (k == 9 || k == 10) slider_set(p, p->ti[8] - 1);
        return;
    }
    if (ev == EV_CLICK && loco__within(p, i, p->ti[1])) { if (p->ti[8] == p->ti[9]) loco__win(p); else loco__lose(p); }
}
/* The centre of the first (dir > 0: last) bin whose centre lies inside
 * [a, b] along one axis. */
static float inner_bin(float a, float b, int dir, int horizontal) {
    float best = (a + b) / 2;
    for (int k = 0; k < LOCO_ENV_BINS; k++) {
        float c = horizontal ? loco_env_bin_x(k) : loco_env_bin_y(k);
        if (c < a + 0.5f || c > b - 0.5f) continue;
        best = c;
        if (dir < 0) break;
    }
    return best;
}

/* Read the scale from clicks at the track's two ends (bin centres inside
 * it), click where the target should be, then step with the arrow keys on
 * the handle (a click on the handle also sets the value under the pointer).  m[0] phase, m[1] and m[2] the values read at the ends. */
static void use_slider_plan(loco__demo *d, const loco_env_obs *o) {
    const loco_env_elem *t = loco__obs_ref(o, loco__obs_find_id(o, "slider"));
    const loco_env_elem *v = loco__obs_ref(o, loco__obs_find_id(o, "val"));
    if (!t || !v) return;
    int vertical = strstr(t->classes, "vertical") != NULL, val = atoi(v->text), want = atoi(loco__obs_field(o, "target"));
    float lo[2], hi[2];   /* (x, y) of the low and high ends */
    if (vertical) {
        lo[0] = hi[0] = inner_bin(t->left, t->left + t->width, -1, 1);
        lo[1] = inner_bin(t->top, t->top + t->height, +1, 0);
        hi[1] = inner_bin(t->top, t->top + t->height, -1, 0);
    } else {
        lo[1] = hi[1] = inner_bin(t->top, t->top + t->height, -1, 0);
        lo[0] = inner_bin(t->left, t->left + t->width, -1, 1);
        hi[0] = inner_bin(t->left, t->left + t->width, +1, 1);
    }
    loco__intent *it;
    switch (d->m[0]) {
    case 0: case 1:
        if (d->m[0] == 1) d->m[1] = val;
        loco__demo_push(d, I_CLICK_XY, 0, NULL);
        it = &d->q[(d->tail - 1) % 48];
        it->x = d->m[0] ? hi[0] : lo[0]; it->y = d->m[0] ? hi[1] : lo[1];
        d->m[0]++;
        return;
    case 2: {
        d->m[2] = val;
        float f = d->m[2] > d->m[1] ? (float)(want - d->m[1]) / (float)(d->m[2] - d->m[1]) : 0;
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        loco__demo_push(d, I_CLICK_XY, 0, NULL);
        it = &d->q[(d->tail - 1) % 48];
        it->x = lo[0] + (hi[0] - lo[0]) * f; it->y = lo[1] + (hi[1] - lo[1]) * f;
        d->m[0] = 3;
        return;
    }
    default:
        d->m[0] = 4;
        for (int k = 0; k < o->n_elems; k++)   /* the keys need the handle focused */
            if (!strcmp(o->elems[k].classes, "ui-slider-handle") && !(o->elems[k].flags & LOCO_ENV_FOCUSED) && val != want) {
                loco__demo_click(d, o->elems[k].ref);
                return;
            }
        if (val < want) loco__demo_key(d, vertical ? "<ArrowUp>" : "<ArrowRight>");
        else if (val > want) loco__demo_key(d, vertical ? "<ArrowDown>" : "<ArrowLeft>");
        else loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
    }
}
const loco__task loco__task_use_slider = {"use-slider", use_slider_gen, use_slider_event, use_slider_plan, NULL, 0};
