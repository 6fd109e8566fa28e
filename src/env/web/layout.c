/*
 * Layout: a small subset of CSS 2 flow layout over the node pool.
 *
 * Block children stack vertically and take their container's width; inline
 * and inline-block children flow left to right and wrap onto a new line when
 * they do not fit (each word of a paragraph is its own node, see
 * loco__words).  Absolutely positioned children sit at (x, y) from their
 * parent's padding box.  A scroll container lays its children out shifted by
 * -scroll_y and clips them.  An element's own text wraps inside its content
 * box.  Margins do not collapse and lines align at the top, which is where
 * this differs most from Chromium.
 *
 * Text is measured with the advance widths of DejaVu Sans (what Chromium on
 * Debian draws for core.css's "font-family: Arial" when Liberation is not
 * installed), read once from the font with FreeType and kept here as a
 * table, so that layout never needs the font file: DOM-only agents pay
 * nothing for text rendering and boxes are the same on every machine.
 */
#include <math.h>
#include <string.h>
#include "env/web/web.h"

/* Advance widths of ASCII 32..126 in font units (2048 per em). */
static const short adv_regular[95] = {
    651,821,942,1716,1303,1946,1597,563,799,799,1024,1716,651,739,651,690,
    1303,1303,1303,1303,1303,1303,1303,1303,1303,1303,690,690,1716,1716,1716,1087,
    2048,1401,1405,1430,1577,1294,1178,1587,1540,604,604,1343,1141,1767,1532,1612,
    1235,1612,1423,1300,1251,1499,1401,2025,1403,1251,1403,799,690,799,1716,1024,
    1024,1255,1300,1126,1300,1260,721,1300,1298,569,569,1186,569,1995,1298,1253,
    1300,1300,842,1067,803,1298,1212,1675,1212,1212,1075,1303,690,1303,1716};
static const short adv_bold[95] = {
    713,934,1067,1716,1425,2052,1786,627,936,936,1071,1716,778,850,778,748,
    1425,1425,1425,1425,1425,1425,1425,1425,1425,1425,819,819,1716,1716,1716,1188,
    2048,1585,1561,1503,1700,1399,1399,1681,1714,762,762,1587,1305,2038,1714,1741,
    1501,1741,1577,1475,1397,1663,1585,2259,1579,1483,1485,936,748,936,1716,1024,
    1024,1382,1466,1214,1466,1389,891,1466,1458,702,702,1362,702,2134,1458,1407,
    1466,1466,1010,1219,979,1458,1335,1892,1321,1335,1192,1458,748,1458,1716};

float loco__text_width(const char *s, int n, int px, int bold) {
    const short *t = bold ? adv_bold : adv_regular;
    int units = 0;
    for (int i = 0; i < n && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        units += t[(c >= 32 && c < 127) ? c - 32 : '?' - 32];
    }
    return (float)units * (float)px / 2048.0f;
}

/* CSS "line-height: normal" for DejaVu Sans: (ascent + descent) / em =
 * (1901 + 483) / 2048 = 1.164 of the font size, rounded to whole pixels. */
float loco__line_height(int px) { return floorf((float)px * 1.164f + 0.5f); }

int loco__wrap(const char *s, int px, int bold, float width, int *starts, int max) {
    int n = 0, len = (int)strlen(s), i = 0;
    if (max < 1) return 0;
    starts[n++] = 0;
    while (i < len && n < max) {
        /* take words while they fit; a word longer than the line breaks anywhere */
        int end = i, last_space = -1;
        float w = 0;
        while (end < len) {
            float cw = loco__text_width(s + end, 1, px, bold);
            if (s[end] == '\n') break;
            if (w + cw > width && end > i) break;
            if (s[end] == ' ') last_space = end;
            w += cw;
            end++;
        }
        if (end >= len) break;
        int next = s[end] == '\n' ? end + 1 : (last_space > i ? last_space + 1 : end);
        starts[n++] = next;
        i = next;
    }
    return n;
}

static int shown(const loco__node *n) { return n->display != D_NONE; }

/* Width of an inline-level node that has no fixed width: its text, or its
 * inline children side by side (shrink-to-fit on one line). */
static float intrinsic_width(loco__page *p, int i) {
    loco__node *n = &p->n[i];
    if (n->w) return n->w;
    float w = 0;
    if (n->first < 0) {
        w = loco__text_width(n->e.text, LOCO_ENV_STR, n->font_px, n->bold);
        if (n->kind == K_SELECT) w += 24;
    } else {
        for (int c = n->first; c >= 0; c = p->n[c].next) {
            loco__node *cn = &p->n[c];
            if (!shown(cn) || cn->absolute || cn->kind == K_OPTION) continue;
            w += intrinsic_width(p, c) + cn->margin[1] + cn->margin[3];
        }
        if (n->kind == K_SELECT) {
            float m = 0;
            for (int c = n->first; c >= 0; c = p->n[c].next) {
                float t = loco__text_width(p->n[c].e.text, LOCO_ENV_STR, n->font_px, n->bold);
                if (t > m) m = t;
            }
            w = m + 24;
        }
    }
    return w + n->pad[1] + n->pad[3] + 2 * n->border;
}

static float layout_box(loco__page *p, int i, float x, float y, float w, const float *clip);

/* Lays out the children of i inside its content box at (cx, cy), width cw;
 * returns the content height. */
static float layout_children(loco__page *p, int i, float cx, float cy, float cw, const float *clip) {
    loco__node *n = &p->n[i];
    float cur = 0, lx = 0, lh = 0;
    for (int c = n->first; c >= 0; c = p->n[c].next) {
        loco__node *cn = &p->n[c];
        if (!shown(cn)) continue;
        if (cn->kind == K_OPTION) {
            /* an open drop-down draws its options as a list under the select */
            if (p->open_select != i) { cn->vis = 0; continue; }
            continue;
        }
        if (cn->absolute) {
            float w = cn->w ? cn->w : intrinsic_width(p, c);
            layout_box(p, c, cx - n->pad[3] + cn->x, cy - n->pad[0] + cn->y, w, clip);
            continue;
        }
        if (cn->user == -1 && cn->kind == K_BOX && cn->h == 0) {   /* <br> */
            layout_box(p, c, cx + lx, cy + cur, 0, clip);
            cur += lh > 0 ? lh : loco__line_height(n->font_px);
            lx = lh = 0;
            continue;
        }
        if (cn->display == D_BLOCK) {
            if (lx > 0) { cur += lh; lx = lh = 0; }
            float w = cn->w ? cn->w : cw - cn->margin[1] - cn->margin[3];
            float h = layout_box(p, c, cx + cn->margin[3], cy + cur + cn->margin[0], w, clip);
            cur += cn->margin[0] + h + cn->margin[2];
        } else {
            float w = intrinsic_width(p, c);
            float mw = w + cn->margin[1] + cn->margin[3];
            if (lx > 0 && lx + mw > cw + 0.01f) { cur += lh; lx = lh = 0; }
            float h = layout_box(p, c, cx + lx + cn->margin[3], cy + cur + cn->margin[0], w, clip);
            lx += mw;
            if (cn->margin[0] + h + cn->margin[2] > lh) lh = cn->margin[0] + h + cn->margin[2];
        }
    }
    return cur + lh;
}

/* Places node i's border box at (x, y) with width w, lays out its contents
 * and returns its height. */
static float layout_box(loco__page *p, int i, float x, float y, float w, const float *clip) {
    loco__node *n = &p->n[i];
    n->vis = 1;
    /* an open drop-down's options go last in the order (on top), see loco__layout */
    if (p->n_order < LOCO__MAX_NODES && n->kind != K_OPTION) p->order[p->n_order++] = (int16_t)i;
    memcpy(n->clip, clip, sizeof n->clip);
    n->e.left = x; n->e.top = y; n->e.width = w;
    float inset_l = n->border + n->pad[3], inset_t = n->border + n->pad[0];
    float cw = w - 2 * n->border - n->pad[1] - n->pad[3];
    float ch;
    if (n->first >= 0 && n->kind != K_SELECT) {
        float inner[4] = {clip[0], clip[1], clip[2], clip[3]};
        if (n->scroll) {
            inner[0] = fmaxf(inner[0], x); inner[1] = fmaxf(inner[1], y);
            inner[2] = fminf(inner[2], x + w); inner[3] = fminf(inner[3], y + n->h);
        }
        ch = layout_children(p, i, x + inset_l, y + inset_t - n->scroll_y, cw, inner);
    } else if (n->kind == K_INPUT || n->kind == K_SELECT || n->kind == K_CHECK || n->kind == K_RADIO) {
        ch = loco__line_height(n->font_px);
    } else if (n->kind == K_TEXTAREA) {   /* its value wraps; the box scrolls over it */
        int starts[16];
        ch = loco__wrap(n->e.value, n->font_px, n->bold, cw, starts, 16) * loco__line_height(n->font_px);
    } else if (n->e.text[0]) {
        int starts[16];
        int lines = n->display == D_BLOCK || n->kind == K_TEXTAREA
                  ? loco__wrap(n->e.text, n->font_px, n->bold, cw, starts, 16) : 1;
        ch = lines * loco__line_height(n->font_px);
    } else {
        ch = 0;
    }
    n->content_h = ch;
    float h = n->h ? n->h : ch + 2 * n->border + n->pad[0] + n->pad[2];
    n->e.height = h;
    if (n->kind == K_SELECT) {
        /* the open list: one option per line, under the select, on top */
        float oy = y + h, lh = loco__line_height(n->font_px) + 2;
        for (int c = n->first; c >= 0; c = p->n[c].next) {
            loco__node *o = &p->n[c];
            if (p->open_select != i) { o->vis = 0; continue; }
            float full[4] = {0, 0, LOCO_ENV_W, LOCO_ENV_H};
            layout_box(p, c, x, oy, w, full);
            o->e.height = lh;
            oy += lh;
        }
    }
    return h;
}

static void clear_vis(loco__page *p) {
    for (int i = 0; i < p->n_nodes; i++) p->n[i].vis = 0;
}

void loco__layout(loco__page *p) {
    clear_vis(p);
    p->n_order = 0;
    float full[4] = {0, 0, LOCO_ENV_W, LOCO_ENV_H};
    layout_box(p, p->root, 0, 0, LOCO_ENV_W, full);
    /* a scroll container cannot scroll past its content */
    for (int i = 0; i < p->n_nodes; i++) {
        loco__node *n = &p->n[i];
        if (!n->scroll || !n->vis) continue;
        float max = n->content_h + n->pad[0] + n->pad[2] + 2 * n->border - n->h;
        if (max < 0) max = 0;
        if (n->scroll_y > max) { n->scroll_y = max; p->dirty = 2; }
    }
    if (p->dirty == 2) { p->dirty = 0; clear_vis(p); p->n_order = 0; layout_box(p, p->root, 0, 0, LOCO_ENV_W, full); }
    if (p->open_select >= 0)
        for (int c = p->n[p->open_select].first; c >= 0; c = p->n[c].next)
            if (p->n[c].vis && p->n_order < LOCO__MAX_NODES) p->order[p->n_order++] = (int16_t)c;
    p->dirty = 0;
}

void loco__clip_box(const loco__page *p, int i, float *x0, float *y0, float *x1, float *y1) {
    const loco__node *n = &p->n[i];
    *x0 = fmaxf(n->e.left, n->clip[0]);
    *y0 = fmaxf(n->e.top, n->clip[1]);
    *x1 = fminf(n->e.left + n->e.width, n->clip[2]);
    *y1 = fminf(n->e.top + n->e.height, n->clip[3]);
}

static int contains(const loco__page *p, int i, float x, float y) {
    float x0, y0, x1, y1;
    loco__clip_box(p, i, &x0, &y0, &x1, &y1);
    return x >= x0 && x < x1 && y >= y0 && y < y1;
}

/* The topmost shown node under (x, y): an open drop-down's options first,
 * then the last node in document order whose clipped box holds the point. */
int loco__hit(loco__page *p, float x, float y) {
    if (p->dirty) loco__layout(p);
    if (p->open_select >= 0)
        for (int c = p->n[p->open_select].first; c >= 0; c = p->n[c].next)
            if (p->n[c].vis && contains(p, c, x, y)) return c;
    for (int k = p->n_order - 1; k >= 0; k--) {
        int i = p->order[k];
        if (p->n[i].kind == K_OPTION) continue;
        if (contains(p, i, x, y)) return i;
    }
    return p->root;
}
