/*
 * Visual tasks: colours, shades, shapes in an SVG, a coordinate grid.  The
 * DOM reports an SVG shape's fill as its background colour, its digit or
 * letter as its text and its kind as its tag (circle, rect, polygon, text):
 * MiniWoB++ reports SVG fills as transparent, so there these tasks need the
 * pixels (docs/env.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env/web/web.h"

static uint32_t rgb_of(const uint8_t *c) { return (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2]; }

/* ---------------------------------------------------------------- click-color */
static const struct { const char *name; uint32_t rgb; } colors[] = {
    {"red", 0xFF0000}, {"green", 0x008000}, {"blue", 0x0000FF}, {"yellow", 0xFFFF00}, {"black", 0x000000},
    {"white", 0xFFFFFF}, {"orange", 0xFFA500}, {"purple", 0x800080}, {"pink", 0xFFC0CB}, {"grey", 0x808080},
    {"brown", 0xA52A2A}, {"cyan", 0x00FFFF}, {"magenta", 0xFF00FF}, {"lime", 0x00FF00}, {"navy", 0x000080}};
#define N_COLORS ((int)(sizeof colors / sizeof *colors))

static void click_color_gen(loco__page *p) {
    int idx[N_COLORS], n = loco__randi(p, 3, 8);
    for (int k = 0; k < N_COLORS; k++) idx[k] = k;
    loco__shuffle(p, idx, N_COLORS);
    int grid = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, grid, "area_div");
    for (int k = 0; k < n; k++) {
        int b = loco__add(p, grid, K_BOX, "DIV", NULL);
        loco__set_class(p, b, "color");
        p->n[b].display = D_INLINE_BLOCK; p->n[b].w = p->n[b].h = 30; p->n[b].margin[1] = p->n[b].margin[2] = 6;
        p->n[b].border = 1;
        memcpy(p->n[b].bcolor, (uint8_t[4]){0x99, 0x99, 0x99, 255}, 4);
        loco__set_bg(p, b, colors[idx[k]].rgb);
        p->ti[10 + k] = b;
    }
    int t = loco__randi(p, 0, n - 1);
    p->ti[0] = n; p->ti[1] = t;
    loco__set_utterance(p, "Click on the %s colored box.", colors[idx[t]].name);
    loco__set_field(p, "target", colors[idx[t]].name);
}
static void click_color_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < p->ti[0]; k++)
        if (i == p->ti[10 + k]) { if (k == p->ti[1]) loco__win(p); else loco__lose(p); }
}
/* The box whose colour is the named one (CSS colour names). */
static void click_color_plan(loco__demo *d, const loco_env_obs *o) {
    const char *t = loco__obs_field(o, "target");
    uint32_t want = 0xFFFFFFFFu;
    for (int k = 0; k < N_COLORS; k++) if (!strcmp(colors[k].name, t)) want = colors[k].rgb;
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].classes, "color") && rgb_of(o->elems[k].bg) == want) { loco__demo_click(d, o->elems[k].ref); return; }
}
const loco__task loco__task_click_color = {"click-color", click_color_gen, click_color_event, click_color_plan, NULL, 0};

/* ---------------------------------------------------------------- click-shades */
/* Twelve squares, each a shade of red, green or blue (its channel 150-255,
 * the others 0-100); a click toggles a square's selection. */
static const char *const shade_names[3] = {"red", "green", "blue"};

static void click_shades_gen(loco__page *p) {
    int tgt = loco__randi(p, 0, 2), any = 0;
    int grid = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, grid, "tiles");
    for (int k = 0; k < 12; k++) {
        int ch = loco__randi(p, 0, 2);
        if (k == 11 && !any) ch = tgt;
        any |= ch == tgt;
        uint32_t c = 0;
        for (int q = 0; q < 3; q++) {
            int v = q == ch ? loco__randi(p, 150, 255) : loco__randi(p, 0, 100);
            c |= (uint32_t)v << (16 - 8 * q);
        }
        int b = loco__add(p, grid, K_BOX, "SPAN", NULL);
        loco__set_class(p, b, "tile");
        p->n[b].display = D_INLINE_BLOCK; p->n[b].w = p->n[b].h = 30; p->n[b].margin[1] = p->n[b].margin[2] = 6;
        p->n[b].border = 2;
        memcpy(p->n[b].bcolor, (uint8_t[4]){255, 255, 255, 255}, 4);
        loco__set_bg(p, b, c);
        p->ti[10 + k] = b; p->ti[30 + k] = ch == tgt;
    }
    loco__set_utterance(p, "Select all the shades of %s and press Submit.", shade_names[tgt]);
    loco__set_field(p, "target", shade_names[tgt]);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
}
static void click_shades_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < 12; k++)
        if (i == p->ti[10 + k]) {   /* toggle: the selected class and a black border */
            loco__node *n = &p->n[i];
            int on = !strcmp(n->e.classes, "tile");
            loco__set_class(p, i, on ? "tile selected" : "tile");
            memcpy(n->bcolor, on ? (uint8_t[4]){0, 0, 0, 255} : (uint8_t[4]){255, 255, 255, 255}, 4);
            return;
        }
    if (!loco__within(p, i, p->ti[1])) return;
    int ok = 1;
    for (int k = 0; k < 12; k++) ok &= (strcmp(p->n[p->ti[10 + k]].e.classes, "tile selected") == 0) == p->ti[30 + k];
    if (ok) loco__win(p); else loco__lose(p);
}
static void click_shades_plan(loco__demo *d, const loco_env_obs *o) {
    const char *t = loco__obs_field(o, "target");
    int ch = !strcmp(t, "red") ? 0 : !strcmp(t, "green") ? 1 : 2;
    for (int k = 0; k < o->n_elems; k++) {
        const loco_env_elem *e = &o->elems[k];
        if (strncmp(e->classes, "tile", 4)) continue;
        int dom = e->bg[ch] > e->bg[(ch + 1) % 3] && e->bg[ch] > e->bg[(ch + 2) % 3];
        if (dom != !strcmp(e->classes, "tile selected")) loco__demo_click(d, e->ref);
    }
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_click_shades = {"click-shades", click_shades_gen, click_shades_event, click_shades_plan, NULL, 0};

/* ---------------------------------------------------------------- shapes */
static const struct { const char *name; uint32_t rgb; } shape_colors[] = {
    {"red", 0xFF0000}, {"green", 0x00AA00}, {"blue", 0x0000FF}, {"aqua", 0x00FFFF}, {"black", 0x000000},
    {"magenta", 0xFF00FF}, {"yellow", 0xFFD700}};
#define N_SC 7
static const char *const shape_kinds[3] = {"circle", "rectangle", "triangle"};
static const char *const shape_tags[3] = {"circle", "rect", "polygon"};

/* Item k: ti[10+k] node; ti[20+k] kind (0-2 shapes, 3 digit, 4 letter);
 * ti[30+k] colour; ti[40+k] large; ts[1][k] its character. */
static void shapes(loco__page *p, int n, int allow_text) {
    int svg = loco__add(p, p->area, K_BOX, "svg", NULL);
    loco__set_id(p, svg, "area_svg");
    p->n[svg].w = 156; p->n[svg].h = 120;
    int cells[12];
    for (int k = 0; k < 12; k++) cells[k] = k;
    loco__shuffle(p, cells, 12);
    for (int k = 0; k < n; k++) {
        int kind = loco__randi(p, 0, allow_text ? 4 : 2), col = loco__randi(p, 0, N_SC - 1), large = loco__randi(p, 0, 1);
        int size = large ? 30 : 16;
        int cx = (cells[k] % 4) * 39 + 19, cy = (cells[k] / 4) * 40 + 20;
        char ch[2] = {0, 0};
        if (kind == 3) ch[0] = (char)('0' + loco__randi(p, 1, 9));
        if (kind == 4) ch[0] = (char)('a' + loco__randi(p, 0, 25));
        int s = loco__add(p, svg, K_SHAPE, kind < 3 ? shape_tags[kind] : "text", ch);
        loco__node *nd = &p->n[s];
        nd->shape = kind == 0 ? SHAPE_CIRCLE : kind == 1 ? SHAPE_RECT : kind == 2 ? SHAPE_TRIANGLE : SHAPE_TEXT;
        nd->absolute = 1; nd->w = nd->h = (int16_t)size;
        nd->x = (float)(cx - size / 2); nd->y = (float)(cy - size / 2);
        if (kind >= 3) { nd->font_px = large ? 20 : 13; nd->bold = 1; loco__set_fg(p, s, shape_colors[col].rgb); }
        loco__set_bg(p, s, shape_colors[col].rgb);
        p->ti[10 + k] = s; p->ti[20 + k] = kind; p->ti[30 + k] = col; p->ti[40 + k] = large;
        p->ts[1][k] = ch[0] ? ch[0] : '.';
    }
    p->ti[0] = n;
}

/* Whether item k fits the description (-1 = any). */
static int fits(loco__page *p, int k, int size, int col, int kind, char ch) {
    if (size >= 0 && p->ti[40 + k] != size) return 0;
    if (col >= 0 && p->ti[30 + k] != col) return 0;
    if (kind >= 0 && p->ti[20 + k] != kind) return 0;
    if (ch && p->ts[1][k] != ch) return 0;
    return 1;
}

/* "a large red circle", "a small 5", "a blue item", "a letter" ... over the
 * attributes of item t, with fields size, color, type, target. */
static void describe(loco__page *p, int t, char *out, size_t cap, int *size, int *col, int *kind, char *ch) {
    *size = loco__randf(p) < 0.5f ? p->ti[40 + t] : -1;
    *col = loco__randf(p) < 0.6f ? p->ti[30 + t] : -1;
    int named = loco__randf(p) < 0.7f, k = p->ti[20 + t];
    *kind = -1; *ch = 0;
    char noun[16];
    if (k < 3) { if (named) { *kind = k; snprintf(noun, sizeof noun, "%s", shape_kinds[k]); } else snprintf(noun, sizeof noun, "%s", "shape"); }
    else if (named) { *ch = p->ts[1][t]; snprintf(noun, sizeof noun, "%c", *ch); }
    else { *kind = k; snprintf(noun, sizeof noun, "%s", k == 3 ? "digit" : "letter"); }
    if (!named && k < 3) *kind = -2;   /* any of the three shapes */
    if (!named && k < 3 && *size < 0 && *col < 0 && loco__randf(p) < 0.5f) { snprintf(noun, sizeof noun, "item"); *kind = -1; }
    snprintf(out, cap, "%s%s%s%s%s", *size >= 0 ? (*size ? "large " : "small ") : "",
             *col >= 0 ? shape_colors[*col].name : "", *col >= 0 ? " " : "", noun, "");
    if (*size >= 0) loco__set_field(p, "size", *size ? "large" : "small");
    if (*col >= 0) loco__set_field(p, "color", shape_colors[*col].name);
    if (!named) loco__set_field(p, "type", !strcmp(noun, "item") ? "item" : noun);
    else loco__set_field(p, "target", noun);
}
static int fits_desc(loco__page *p, int k) {
    int kind = p->ti[4];
    if (kind == -2) return p->ti[20 + k] < 3 && fits(p, k, p->ti[2], p->ti[3], -1, 0);
    return fits(p, k, p->ti[2], p->ti[3], kind, (char)p->ti[5]);
}

/* Demonstrator side: the same description read from the fields. */
static int obs_fits(const loco_env_obs *o, const loco_env_elem *e) {
    const char *size = loco__obs_field(o, "size"), *col = loco__obs_field(o, "color");
    const char *type = loco__obs_field(o, "type"), *tgt = loco__obs_field(o, "target");
    if (size[0] && (e->width >= 24) != !strcmp(size, "large")) return 0;
    if (col[0]) {
        uint32_t want = 0;
        for (int k = 0; k < N_SC; k++) if (!strcmp(shape_colors[k].name, col)) want = shape_colors[k].rgb;
        if (rgb_of(e->bg) != want) return 0;
    }
    int is_text = !strcmp(e->tag, "text");
    if (!strcmp(type, "shape") && is_text) return 0;
    if (!strcmp(type, "digit") && !(is_text && e->text[0] >= '0' && e->text[0] <= '9')) return 0;
    if (!strcmp(type, "letter") && !(is_text && e->text[0] >= 'a' && e->text[0] <= 'z')) return 0;
    if (tgt[0]) {
        int k = 0;
        for (; k < 3; k++) if (!strcmp(tgt, shape_kinds[k])) break;
        if (k < 3 ? strcmp(e->tag, shape_tags[k]) : (!is_text || strcmp(e->text, tgt))) return 0;
    }
    return 1;
}
static int is_shape(const loco_env_elem *e) {
    return !strcmp(e->tag, "circle") || !strcmp(e->tag, "rect") || !strcmp(e->tag, "polygon") || !strcmp(e->tag, "text");
}

static void click_shape_gen(loco__page *p) {
    shapes(p, loco__randi(p, 3, 9), 1);
    int t = loco__randi(p, 0, p->ti[0] - 1), size, col, kind;
    char ch, desc[64];
    describe(p, t, desc, sizeof desc, &size, &col, &kind, &ch);
    p->ti[2] = size; p->ti[3] = col; p->ti[4] = kind; p->ti[5] = ch;
    loco__set_utterance(p, "Click on a %s", desc);
}
static void click_shape_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < p->ti[0]; k++)
        if (i == p->ti[10 + k]) { if (fits_desc(p, k)) loco__win(p); else loco__lose(p); }
}
static void click_shape_plan(loco__demo *d, const loco_env_obs *o) {
    for (int k = 0; k < o->n_elems; k++)
        if (is_shape(&o->elems[k]) && obs_fits(o, &o->elems[k])) { loco__demo_click(d, o->elems[k].ref); return; }
}
const loco__task loco__task_click_shape = {"click-shape", click_shape_gen, click_shape_event, click_shape_plan, NULL, 0};

/* count-shape: "How many <desc>s are there?" and answer buttons 0..n. */
static void count_shape_gen(loco__page *p) {
    shapes(p, loco__randi(p, 3, 8), 1);
    int t = loco__randi(p, 0, p->ti[0] - 1), size, col, kind, cnt = 0;
    char ch, desc[64];
    describe(p, t, desc, sizeof desc, &size, &col, &kind, &ch);
    p->ti[2] = size; p->ti[3] = col; p->ti[4] = kind; p->ti[5] = ch;
    for (int k = 0; k < p->ti[0]; k++) cnt += fits_desc(p, k);
    p->ti[6] = cnt;
    loco__set_utterance(p, "How many %ss are there?", desc);
    p->n[p->n[p->ti[10]].parent].h = 120;
    int row = loco__add(p, p->area, K_BOX, "DIV", NULL);
    int lo = cnt - loco__randi(p, 0, 2);
    if (lo < 0) lo = 0;
    for (int k = 0; k < 4; k++) {
        char s[16];
        snprintf(s, sizeof s, "%d", lo + k);
        p->ti[50 + k] = loco__button(p, row, s);
        p->n[p->ti[50 + k]].margin[1] = 4;
    }
    p->ti[7] = lo;
}
static void count_shape_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < 4; k++)
        if (loco__within(p, i, p->ti[50 + k])) { if (p->ti[7] + k == p->ti[6]) loco__win(p); else loco__lose(p); }
}
static void count_shape_plan(loco__demo *d, const loco_env_obs *o) {
    int cnt = 0;
    for (int k = 0; k < o->n_elems; k++) cnt += is_shape(&o->elems[k]) && obs_fits(o, &o->elems[k]);
    char s[16];
    snprintf(s, sizeof s, "%d", cnt);
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", s));
}
const loco__task loco__task_count_shape = {"count-shape", count_shape_gen, count_shape_event, count_shape_plan, NULL, 0};

/* identify-shape: one shape; buttons name the shapes. */
static void identify_shape_gen(loco__page *p) {
    loco__set_utterance(p, "Click the button that best describes the figure below.");
    int row = loco__add(p, p->area, K_BOX, "DIV", NULL);
    static const char *const labels[3] = {"Circle", "Rectangle", "Triangle"};
    for (int k = 0; k < 3; k++) {
        p->ti[50 + k] = loco__button(p, row, labels[k]);
        p->n[p->ti[50 + k]].margin[1] = 2; p->n[p->ti[50 + k]].font_px = 10;
        p->n[p->ti[50 + k]].pad[1] = p->n[p->ti[50 + k]].pad[3] = 3;
    }
    shapes(p, 1, 0);
    loco__node *s = &p->n[p->ti[10]];
    s->w = s->h = 50; s->x = 50; s->y = 30;
}
static void identify_shape_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < 3; k++)
        if (loco__within(p, i, p->ti[50 + k])) { if (k == p->ti[20]) loco__win(p); else loco__lose(p); }
}
static void identify_shape_plan(loco__demo *d, const loco_env_obs *o) {
    static const char *const labels[3] = {"Circle", "Rectangle", "Triangle"};
    for (int k = 0; k < 3; k++)
        if (loco__obs_find_tag(o, shape_tags[k], 0)) loco__demo_click(d, loco__obs_find_text(o, "BUTTON", labels[k]));
}
const loco__task loco__task_identify_shape = {"identify-shape", identify_shape_gen, identify_shape_event, identify_shape_plan, NULL, 0};

/* ---------------------------------------------------------------- grid-coordinate */
/* A 5x5 grid from -2 to 2 with 25 px spacing, axis labels as SVG text; a
 * click counts at the nearest intersection. */
static void grid_coordinate_gen(loco__page *p) {
    int x = loco__randi(p, -2, 2), y = loco__randi(p, -2, 2);
    char sx[8], sy[8];
    snprintf(sx, sizeof sx, "%d", x); snprintf(sy, sizeof sy, "%d", y);
    loco__set_utterance(p, "Click on the grid coordinate (%d,%d).", x, y);
    loco__set_field(p, "x", sx);
    loco__set_field(p, "y", sy);
    int svg = loco__add(p, p->area, K_BOX, "svg", NULL);
    loco__set_id(p, svg, "grid");
    p->n[svg].w = 150; p->n[svg].h = 150;
    for (int k = -2; k <= 2; k++) {
        int v = loco__add(p, svg, K_SHAPE, "line", NULL);   /* vertical line at x = k */
        p->n[v].shape = SHAPE_RECT; p->n[v].absolute = 1; p->n[v].w = 1; p->n[v].h = 110;
        p->n[v].x = (float)(75 + 25 * k); p->n[v].y = 20;
        loco__set_bg(p, v, k ? 0xCCCCCC : 0x000000);
        int h = loco__add(p, svg, K_SHAPE, "line", NULL);
        p->n[h].shape = SHAPE_RECT; p->n[h].absolute = 1; p->n[h].w = 110; p->n[h].h = 1;
        p->n[h].x = 20; p->n[h].y = (float)(75 - 25 * k);
        loco__set_bg(p, h, k ? 0xCCCCCC : 0x000000);
    }
    for (int k = -2; k <= 2; k++) {
        char s[8];
        snprintf(s, sizeof s, "%d", k);
        int lx = loco__add(p, svg, K_SHAPE, "text", s);   /* x labels under the grid */
        p->n[lx].shape = SHAPE_TEXT; p->n[lx].absolute = 1; p->n[lx].w = 12; p->n[lx].h = 12;
        p->n[lx].x = (float)(75 + 25 * k - 6); p->n[lx].y = 134;
        loco__set_class(p, lx, "x-label");
        int ly = loco__add(p, svg, K_SHAPE, "text", s);   /* y labels left of it */
        p->n[ly].shape = SHAPE_TEXT; p->n[ly].absolute = 1; p->n[ly].w = 12; p->n[ly].h = 12;
        p->n[ly].x = 2; p->n[ly].y = (float)(75 - 25 * k - 6);
        loco__set_class(p, ly, "y-label");
    }
    p->ti[0] = svg; p->ti[1] = x; p->ti[2] = y;
}
static void grid_coordinate_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[0])) return;
    loco__node *g = &p->n[p->ti[0]];
    float gx = (p->mx - g->e.left - 75) / 25.0f, gy = -(p->my - g->e.top - 75) / 25.0f;
    int cx = (int)(gx < 0 ? gx - 0.5f : gx + 0.5f), cy = (int)(gy < 0 ? gy - 0.5f : gy + 0.5f);
    if (cx < -2 || cx > 2 || cy < -2 || cy > 2) return;   /* outside the grid */
    if (cx == p->ti[1] && cy == p->ti[2]) loco__win(p); else loco__lose(p);
}
/* The intersection is above the x label and level with the y label. */
static void grid_coordinate_plan(loco__demo *d, const loco_env_obs *o) {
    const loco_env_elem *lx = NULL, *ly = NULL;
    for (int k = 0; k < o->n_elems; k++) {
        const loco_env_elem *e = &o->elems[k];
        if (!strcmp(e->classes, "x-label") && !strcmp(e->text, loco__obs_field(o, "x"))) lx = e;
        if (!strcmp(e->classes, "y-label") && !strcmp(e->text, loco__obs_field(o, "y"))) ly = e;
    }
    if (!lx || !ly) return;
    loco__demo_push(d, I_CLICK_XY, 0, NULL);
    d->q[(d->tail - 1) % 48].x = lx->left + lx->width / 2;
    d->q[(d->tail - 1) % 48].y = ly->top + ly->height / 2;
}
const loco__task loco__task_grid_coordinate = {"grid-coordinate", grid_coordinate_gen, grid_coordinate_event,
    grid_coordinate_plan, NULL, 0};
