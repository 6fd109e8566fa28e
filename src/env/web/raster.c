/*
 * The rasteriser: draws a laid-out page into a 210x160 RGB frame in
 * document order (later elements on top, an open drop-down last, then the
 * pointer), clipping every element to its scroll containers.  Boxes are
 * filled with their background colour and outlined with their border;
 * controls get Chromium-like looks (checkbox ticks, radio dots, a caret and
 * a selection in the focused field); text is blended from the glyph cache at
 * the pen positions the layout's advance widths give, so that the pixels and
 * the DOM boxes agree.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "env/web/font.h"

typedef struct { int x0, y0, x1, y1; } rect;

static rect clip_of(const loco__node *n) {
    rect r = {(int)ceilf(n->clip[0]), (int)ceilf(n->clip[1]), (int)floorf(n->clip[2]), (int)floorf(n->clip[3])};
    if (r.x0 < 0) r.x0 = 0;
    if (r.y0 < 0) r.y0 = 0;
    if (r.x1 > LOCO_ENV_W) r.x1 = LOCO_ENV_W;
    if (r.y1 > LOCO_ENV_H) r.y1 = LOCO_ENV_H;
    return r;
}

/* Fills a rectangle: the first row pixel by pixel (or with memset for a
 * grey), the others copied from it. */
static void fill(uint8_t *rgb, rect c, float fx0, float fy0, float fx1, float fy1, const uint8_t *col) {
    int x0 = (int)floorf(fx0 + 0.5f), y0 = (int)floorf(fy0 + 0.5f);
    int x1 = (int)floorf(fx1 + 0.5f), y1 = (int)floorf(fy1 + 0.5f);
    if (x0 < c.x0) x0 = c.x0;
    if (y0 < c.y0) y0 = c.y0;
    if (x1 > c.x1) x1 = c.x1;
    if (y1 > c.y1) y1 = c.y1;
    if (x1 <= x0 || y1 <= y0) return;
    size_t w = (size_t)(x1 - x0) * 3;
    uint8_t *first = rgb + ((size_t)y0 * LOCO_ENV_W + x0) * 3;
    if (col[0] == col[1] && col[1] == col[2]) memset(first, col[0], w);
    else
        for (size_t x = 0; x < w; x += 3) { first[x] = col[0]; first[x + 1] = col[1]; first[x + 2] = col[2]; }
    for (int y = y0 + 1; y < y1; y++) memcpy(rgb + ((size_t)y * LOCO_ENV_W + x0) * 3, first, w);
}

static void outline(uint8_t *rgb, rect c, float x, float y, float w, float h, int bw, const uint8_t *col) {
    fill(rgb, c, x, y, x + w, y + bw, col);
    fill(rgb, c, x, y + h - bw, x + w, y + h, col);
    fill(rgb, c, x, y, x + bw, y + h, col);
    fill(rgb, c, x + w - bw, y, x + w, y + h, col);
}

/* Blends one line of text with its top-left at (x, y). */
static void text(const loco__font *f, uint8_t *rgb, rect c, float x, float y, const char *s, int n,
                 int px, int bold, const uint8_t *col) {
    int si = loco__font_size_index(px);
    float base = y + floorf((float)px * 0.928f + 0.5f);   /* ascent 1901/2048 */
    float pen = x;
    for (int k = 0; k < n && s[k]; k++) {
        unsigned char ch = (unsigned char)s[k];
        int gi = (ch >= 32 && ch < 127) ? ch - 32 : '?' - 32;
        const loco__glyph *g = &f->g[bold ? 1 : 0][si][gi];
        int gx = (int)floorf(pen + 0.5f) + g->left, gy = (int)base - g->top;
        const uint8_t *src = f->pix + g->off;
        for (int r = 0; r < g->h; r++) {
            int yy = gy + r;
            if (yy < c.y0 || yy >= c.y1) continue;
            for (int q = 0; q < g->w; q++) {
                int xx = gx + q;
                unsigned a = src[r * g->w + q];
                if (!a || xx < c.x0 || xx >= c.x1) continue;
                uint8_t *d = rgb + ((size_t)yy * LOCO_ENV_W + xx) * 3;
                for (int ch3 = 0; ch3 < 3; ch3++)
                    d[ch3] = (uint8_t)((d[ch3] * (255 - a) + col[ch3] * a + 127) / 255);
            }
        }
        pen += loco__text_width(s + k, 1, px, bold);
    }
}

static void disc(uint8_t *rgb, rect c, float cx, float cy, float r, const uint8_t *col) {
    for (int y = (int)(cy - r); y <= (int)(cy + r); y++)
        for (int x = (int)(cx - r); x <= (int)(cx + r); x++) {
            float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
            if (dx * dx + dy * dy <= r * r && x >= c.x0 && x < c.x1 && y >= c.y0 && y < c.y1) {
                uint8_t *d = rgb + ((size_t)y * LOCO_ENV_W + x) * 3;
                d[0] = col[0]; d[1] = col[1]; d[2] = col[2];
            }
        }
}

static void triangle(uint8_t *rgb, rect c, float x, float y, float w, float h, const uint8_t *col) {
    for (int yy = (int)y; yy < (int)(y + h); yy++) {
        float t = (yy + 0.5f - y) / h, half = t * w / 2;
        fill(rgb, c, x + w / 2 - half, (float)yy, x + w / 2 + half, (float)yy + 1, col);
    }
}

static const uint8_t BLACK[3] = {0, 0, 0}, WHITE[3] = {255, 255, 255}, BLUE[3] = {0, 117, 255},
                     SEL[3] = {172, 206, 247}, GREY[3] = {118, 118, 118};

static void draw_node(const loco__font *f, loco__page *p, int i, uint8_t *rgb) {
    loco__node *n = &p->n[i];
    rect c = clip_of(n);
    float x = n->e.left, y = n->e.top, w = n->e.width, h = n->e.height;
    if (w <= 0 || h <= 0) return;
    if (n->kind == K_SHAPE) {
        const uint8_t *col = n->e.bg;
        if (n->shape == SHAPE_CIRCLE) disc(rgb, c, x + w / 2, y + h / 2, w / 2, col);
        else if (n->shape == SHAPE_TRIANGLE) triangle(rgb, c, x, y, w, h, col);
        else if (n->shape == SHAPE_RECT) fill(rgb, c, x, y, x + w, y + h, col);
        else text(f, rgb, c, x, y, n->e.text, LOCO_ENV_STR, n->font_px, n->bold, n->e.fg);
        return;
    }
    if (n->e.bg[3]) fill(rgb, c, x, y, x + w, y + h, n->e.bg);
    if (n->border) outline(rgb, c, x, y, w, h, n->kind == K_CHECK || n->kind == K_INPUT ? 1 : n->border,
                           p->focus == i && n->kind == K_INPUT ? BLUE : n->bcolor);
    float tx = x + n->border + n->pad[3], ty = y + n->border + n->pad[0];
    float cw = w - 2 * n->border - n->pad[1] - n->pad[3];
    switch (n->kind) {
    case K_CHECK:
        if (n->checked) {
            fill(rgb, c, x, y, x + w, y + h, BLUE);
            for (int k = 0; k < 4; k++) fill(rgb, c, x + 3 + k, y + 6 + k, x + 5 + k, y + 8 + k, WHITE);
            for (int k = 0; k < 5; k++) fill(rgb, c, x + 6 + k, y + 8 - k, x + 8 + k, y + 10 - k, WHITE);
        }
        return;
    case K_RADIO:
        disc(rgb, c, x + w / 2, y + h / 2, w / 2, GREY);
        disc(rgb, c, x + w / 2, y + h / 2, w / 2 - 1, WHITE);
        if (n->checked) disc(rgb, c, x + w / 2, y + h / 2, w / 2 - 3, BLUE);
        return;
    case K_INPUT: case K_TEXTAREA: {
        rect inner = c;
        if (inner.x0 < (int)tx) inner.x0 = (int)tx;
        if (inner.x1 > (int)(tx + cw)) inner.x1 = (int)(tx + cw);
        char shown[LOCO_ENV_STR];
        int len = (int)strlen(n->e.value);
        for (int k = 0; k <= len; k++) shown[k] = n->input_type == INPUT_PASSWORD && k < len ? '*' : n->e.value[k];
        if (n->input_type == INPUT_DATE || n->input_type == INPUT_TIME) {   /* the segments as typed */
            const char *r = n->raw[0] ? n->raw : "-------- ";
            if (n->input_type == INPUT_DATE)
                snprintf(shown, sizeof shown, "%.2s/%.2s/%.4s", r, r + 2, r + 4);
            else
                snprintf(shown, sizeof shown, "%.2s:%.2s %s", r, r + 2, r[4] == 'A' ? "AM" : r[4] == 'P' ? "PM" : "--");
            if (n->input_type == INPUT_DATE)   /* unset digits show the placeholder mm/dd/yyyy */
                for (int k = 0; shown[k]; k++) if (shown[k] == '-') shown[k] = "mm/dd/yyyy"[k];
            len = (int)strlen(shown);
        }
        int starts[16], lines = 1;
        starts[0] = 0;
        if (n->kind == K_TEXTAREA) lines = loco__wrap(shown, n->font_px, n->bold, cw, starts, 16);
        float lh = loco__line_height(n->font_px);
        for (int l = 0; l < lines; l++) {
            int a = starts[l], b = l + 1 < lines ? starts[l + 1] : len;
            float ly = ty + l * lh - n->scroll_y;
            if (p->focus == i && n->sel_a < n->sel_b && n->sel_b > a && n->sel_a < b) {
                int s0 = n->sel_a > a ? n->sel_a : a, s1 = n->sel_b < b ? n->sel_b : b;
                float sx = tx + loco__text_width(shown + a, s0 - a, n->font_px, n->bold);
                fill(rgb, inner, sx, ly, sx + loco__text_width(shown + s0, s1 - s0, n->font_px, n->bold), ly + lh, SEL);
            }
            text(f, rgb, inner, tx, ly, shown + a, b - a, n->font_px, n->bold, n->e.fg);
            if (p->focus == i && n->sel_a == n->sel_b && n->caret >= a && (n->caret < b || l == lines - 1)) {
                float cx = tx + loco__text_width(shown + a, n->caret - a, n->font_px, n->bold);
                fill(rgb, inner, cx, ly + 1, cx + 1, ly + lh - 1, BLACK);
            }
        }
        return;
    }
    case K_SELECT:
        text(f, rgb, c, tx, ty, n->e.value, LOCO_ENV_STR, n->font_px, n->bold, n->e.fg);
        triangle(rgb, c, x + w - 12, y + h / 2 - 2, 7, 4, BLACK);   /* the drop-down arrow, pointing down */
        return;
    default: break;
    }
    /* #query shows the whole instruction (a node's text holds 63 bytes) */
    const char *str = i == p->query ? p->utterance : n->e.text;
    if (!str[0] || n->first >= 0) return;
    if (n->kind == K_OPTION) {
        if (p->hover == i) fill(rgb, c, x, y, x + w, y + h, SEL);
        text(f, rgb, c, x + 2, y + 1, n->e.text, LOCO_ENV_STR, n->font_px, n->bold, n->e.fg);
        return;
    }
    int starts[16], lines = 1, len = (int)strlen(str);
    starts[0] = 0;
    if (n->display == D_BLOCK) lines = loco__wrap(str, n->font_px, n->bold, cw, starts, 16);
    float lh = loco__line_height(n->font_px);
    if (n->center) ty = y + (h - lines * lh) / 2;
    for (int l = 0; l < lines; l++) {
        int a = starts[l], b = l + 1 < lines ? starts[l + 1] : len;
        float lx = tx;
        if (n->center) lx = x + (w - loco__text_width(str + a, b - a, n->font_px, n->bold)) / 2;
        text(f, rgb, c, lx, ty + l * lh, str + a, b - a, n->font_px, n->bold, n->e.fg);
        if (n->kind == K_LINK)
            fill(rgb, c, lx, ty + (l + 1) * lh - 1, lx + loco__text_width(str + a, b - a, n->font_px, n->bold),
                 ty + (l + 1) * lh, n->e.fg);
    }
}

/* A 1-px black arrow with a white edge, its tip at the pointer. */
static void pointer(uint8_t *rgb, float mx, float my) {
    rect all = {0, 0, LOCO_ENV_W, LOCO_ENV_H};
    int x = (int)mx, y = (int)my;
    for (int r = 0; r < 10; r++) {
        int wdt = r < 7 ? r + 1 : 10 - r;
        fill(rgb, all, (float)x - 0.5f, (float)(y + r) - 0.5f, (float)(x + wdt + 1) - 0.5f, (float)(y + r) + 0.5f, WHITE);
        if (wdt > 1) fill(rgb, all, (float)x + 0.5f, (float)(y + r) - 0.5f, (float)(x + wdt) - 0.5f, (float)(y + r) + 0.5f, BLACK);
    }
}

/* A 64-bit digest of everything a frame shows except the pointer: every
 * shown node's whole struct (nodes are zeroed when made, so padding is 0),
 * the order, the focus, the hovered option, the open drop-down and the
 * instruction. */
static uint64_t visual_key(const loco__page *p) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)p->n_order;
    const uint64_t m = 0xFF51AFD7ED558CCDull;
    h = (h ^ (uint64_t)(uint32_t)p->focus) * m;
    h = (h ^ (uint64_t)(uint32_t)p->hover) * m;
    h = (h ^ (uint64_t)(uint32_t)p->open_select) * m;
    uint64_t u[LOCO_ENV_UTTERANCE / 8];   /* #query draws the whole instruction */
    memcpy(u, p->utterance, sizeof u);
    for (size_t q = 0; q < sizeof u / 8; q++) h = (h ^ u[q]) * m, h ^= h >> 29;
    for (int k = 0; k < p->n_order; k++) {
        const loco__node *n = &p->n[p->order[k]];
        uint64_t w[(sizeof(loco__node) + 7) / 8] = {0};
        memcpy(w, n, sizeof *n);
        h = (h ^ (uint64_t)p->order[k]) * m;
        for (size_t q = 0; q < sizeof w / 8; q++) h = (h ^ w[q]) * m, h ^= h >> 29;
    }
    return h;
}

static void draw_page(const loco__font *f, loco__page *p, uint8_t *rgb) {
    /* #wrap, the first node, is white and covers the frame */
    for (int k = 0; k < p->n_order; k++)
        if (p->n[p->order[k]].kind != K_OPTION) draw_node(f, p, p->order[k], rgb);
    if (p->open_select >= 0)
        for (int c = p->n[p->open_select].first; c >= 0; c = p->n[c].next)
            if (p->n[c].vis) {
                loco__node *o = &p->n[c];
                rect cl = clip_of(o);
                fill(rgb, cl, o->e.left, o->e.top, o->e.left + o->e.width, o->e.top + o->e.height, WHITE);
                draw_node(f, p, c, rgb);
                outline(rgb, cl, o->e.left, o->e.top, o->e.width, o->e.height, 1, GREY);
            }
}

void loco__render(const loco__font *f, loco__page *p, uint8_t *rgb, loco__frame *cache) {
    if (p->dirty) loco__layout(p);
    if (!cache) {
        draw_page(f, p, rgb);
    } else {
        /* most steps change nothing but the pointer: redraw only on a change */
        uint64_t key = visual_key(p);
        if (!cache->valid || cache->key != key) {
            draw_page(f, p, cache->rgb);
            cache->key = key;
            cache->valid = 1;
        }
        memcpy(rgb, cache->rgb, sizeof cache->rgb);
    }
    pointer(rgb, p->mx, p->my);
}
