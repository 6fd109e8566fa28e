/*
 * Views, rendered only on request: a player's egocentric view (a top-down
 * crop of 12 x 9 cells of 8 x 8 pixels, rotated so that the player looks up
 * the image from the middle of its bottom row: 96 x 72, the size the
 * Playroom agents saw) and the whole room from above (for replays).  Both are
 * palette images (loco_playroom_palette); cells are drawn from 8 x 8 one-bit
 * glyphs: a pattern per terrain, a shape per object category, a body with a
 * nose for players (turned to show their heading relative to the viewer).
 */
#include <string.h>
#include "env/playroom/internal.h"

enum { C_VOID, C_FLOOR, C_FLOOR_LINE, C_WALL, C_WALL_LINE, C_OBJ0 = 5, C_FURN0 = 15, C_OUTLINE = 25, C_SETTER,
       C_SOLVER, N_COLOURS };

static const uint8_t palette[N_COLOURS][3] = {
    {0, 0, 0}, {214, 200, 170}, {196, 182, 152}, {110, 110, 120}, {80, 80, 90},
    /* objects: red orange yellow green blue purple pink white black brown */
    {220, 40, 40}, {245, 140, 30}, {245, 220, 40}, {50, 180, 60}, {40, 90, 230},
    {140, 60, 200}, {250, 130, 190}, {245, 245, 245}, {30, 30, 30}, {140, 85, 40},
    /* furniture: the same hues, muted (0.55 c + 40) */
    {161, 62, 62}, {175, 117, 56}, {175, 161, 62}, {67, 139, 73}, {62, 89, 166},
    {117, 73, 150}, {177, 111, 144}, {175, 175, 175}, {56, 56, 56}, {117, 86, 62},
    {12, 12, 12}, {0, 150, 150}, {170, 0, 90},
};

const uint8_t *loco_playroom_palette(int *n) {
    if (n) *n = N_COLOURS;
    return &palette[0][0];
}

/* One-bit 8 x 8 glyphs, row by row, bit 7 the leftmost pixel. */
static const uint8_t terrain_glyph[2 + LOCO_PLAYROOM_N_FURNITURE][8] = {
    {0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xFF},   /* floor: a faint grid */
    {0xFF, 0x10, 0x10, 0xFF, 0x01, 0x01, 0xFF, 0x10},   /* wall: bricks */
    {0xFF, 0x81, 0x81, 0xFF, 0x81, 0x81, 0xFF, 0x00},   /* shelf */
    {0xFF, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0xFF},   /* table */
    {0xFF, 0xC3, 0xC3, 0xFF, 0x81, 0x81, 0x81, 0xFF},   /* bed */
    {0xFF, 0xC3, 0xA5, 0x99, 0x99, 0xA5, 0xC3, 0xFF},   /* box */
    {0xFF, 0xAB, 0xD5, 0xAB, 0xD5, 0xAB, 0xD5, 0xFF},   /* basket */
};
static const uint8_t object_glyph[LOCO_PLAYROOM_N_CATEGORY][8] = {
    {0x00, 0x18, 0x1C, 0x18, 0x7E, 0x7E, 0x3C, 0x00},   /* duck */
    {0x00, 0x00, 0x3C, 0x7E, 0xFF, 0xFF, 0x66, 0x00},   /* car */
    {0x18, 0x3C, 0x5A, 0x7E, 0x3C, 0x7E, 0x24, 0x24},   /* robot */
    {0x00, 0x3C, 0x7E, 0x7E, 0x7E, 0x7E, 0x3C, 0x00},   /* ball */
    {0x00, 0x7C, 0x7E, 0x7E, 0x7E, 0x7E, 0x3E, 0x00},   /* book */
    {0x00, 0x7C, 0x7E, 0x7D, 0x7D, 0x7E, 0x7C, 0x38},   /* cup */
    {0x00, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x00},   /* block */
    {0x00, 0x0C, 0x6C, 0xFE, 0xFE, 0xFE, 0x54, 0x00},   /* train */
    {0x18, 0x18, 0x7E, 0xFF, 0x18, 0x18, 0x3C, 0x00},   /* plane */
    {0x66, 0x7E, 0x5A, 0x7E, 0x3C, 0x7E, 0x7E, 0x24},   /* teddy */
};
static const uint8_t player_glyph[8] = {0x18, 0x18, 0x3C, 0x7E, 0x7E, 0x7E, 0x3C, 0x00};   /* nose up */

/* Turns a glyph a quarter clockwise, q times: pixel (r, c) goes to (c, 7 - r). */
static void rotate(const uint8_t *in, uint8_t *out, int q) {
    uint8_t a[8], b[8];
    memcpy(a, in, 8);
    for (; q > 0; q--) {
        memset(b, 0, 8);
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++)
                if (a[r] & (0x80 >> c)) b[c] |= (uint8_t)(0x80 >> (7 - r));
        memcpy(a, b, 8);
    }
    memcpy(out, a, 8);
}

/* Bits to bytes: byte k of spread(b) is 0xFF if bit 7 - k of b is set (bit
 * 7 is the leftmost pixel, byte 0 the first in memory on a little-endian
 * machine), so a glyph row becomes a mask over 8 pixels at once. */
#define PR_SPREAD(b)                                                                                        \
    (((b) & 0x80 ? 0xFFull : 0) | ((b) & 0x40 ? 0xFF00ull : 0) | ((b) & 0x20 ? 0xFF0000ull : 0) |           \
     ((b) & 0x10 ? 0xFF000000ull : 0) | ((b) & 0x08 ? 0xFF00000000ull : 0) | ((b) & 0x04 ? 0xFF0000000000ull : 0) | \
     ((b) & 0x02 ? 0xFF000000000000ull : 0) | ((b) & 0x01 ? 0xFF00000000000000ull : 0))
#define PR_S4(f, b) f(b), f((b) + 1), f((b) + 2), f((b) + 3)
#define PR_S16(f, b) PR_S4(f, b), PR_S4(f, (b) + 4), PR_S4(f, (b) + 8), PR_S4(f, (b) + 12)
#define PR_S64(f, b) PR_S16(f, b), PR_S16(f, (b) + 16), PR_S16(f, (b) + 32), PR_S16(f, (b) + 48)
#define PR_S256(f) PR_S64(f, 0), PR_S64(f, 64), PR_S64(f, 128), PR_S64(f, 192)
static const uint64_t spread[256] = {PR_S256(PR_SPREAD)};

/* The same for RGB: 8 pixels are 24 bytes, three words; pixel k's three
 * bytes are 3k .. 3k + 2, so pixels 2 and 5 straddle words. */
#define PR_W0(b) (((b) & 0x80 ? 0xFFFFFFull : 0) | ((b) & 0x40 ? 0xFFFFFFull << 24 : 0) | ((b) & 0x20 ? 0xFFFFull << 48 : 0))
#define PR_W1(b)                                                                                             \
    (((b) & 0x20 ? 0xFFull : 0) | ((b) & 0x10 ? 0xFFFFFFull << 8 : 0) | ((b) & 0x08 ? 0xFFFFFFull << 32 : 0) | \
     ((b) & 0x04 ? 0xFFull << 56 : 0))
#define PR_W2(b) (((b) & 0x04 ? 0xFFFFull : 0) | ((b) & 0x02 ? 0xFFFFFFull << 16 : 0) | ((b) & 0x01 ? 0xFFFFFFull << 40 : 0))
#define PR_SPREAD3(b) {PR_W0(b), PR_W1(b), PR_W2(b)}
static const uint64_t spread3[256][3] = {PR_S256(PR_SPREAD3)};

/* A cell as masks: per row, the pixels of the shape, of its outline and of
 * the terrain pattern (the rest is ground), and those four colours. */
typedef struct {
    uint8_t colour[4];    /* shape, outline, pattern, ground */
    uint8_t mask[8][3];   /* shape, outline, pattern; disjoint */
} cell_masks;

/* The masks of world cell (x, y) as seen by a viewer facing vdir. */
static void masks(const pr_world *w, int x, int y, int vdir, cell_masks *m) {
    memset(m, 0, sizeof *m);
    if (!loco__pr_in(x, y)) {
        memset(m->colour, C_VOID, 4);
        return;
    }
    const uint8_t *c = w->g[y][x];
    const uint8_t *pat = terrain_glyph[c[0]];
    uint8_t bg = C_FLOOR, line = C_FLOOR_LINE;
    if (c[0] == PR_WALL) bg = C_WALL, line = C_WALL_LINE;
    else if (c[0] >= PR_FURN0) bg = (uint8_t)(C_FURN0 + c[1] - 1), line = C_OUTLINE;
    uint8_t thing[8] = {0}, fg = 0;
    if (c[2] >= PR_THING_SETTER) {
        rotate(player_glyph, thing, (c[3] - vdir) & 3);
        fg = c[2] == PR_THING_SETTER ? C_SETTER : C_SOLVER;
    } else if (c[2]) {
        memcpy(thing, object_glyph[c[2] - 1], 8);
        fg = (uint8_t)(C_OBJ0 + c[3] - 1);
    }
    m->colour[0] = fg, m->colour[1] = C_OUTLINE, m->colour[2] = line, m->colour[3] = bg;
    for (int r = 0; r < 8; r++) {
        /* The outline: pixels beside the shape (4-neighbours) but not in it. */
        unsigned sh = thing[r], up = r ? thing[r - 1] : 0, down = r < 7 ? thing[r + 1] : 0;
        unsigned edge = (up | down | (sh << 1) | (sh >> 1)) & ~sh & 0xFF;
        m->mask[r][0] = (uint8_t)sh, m->mask[r][1] = (uint8_t)edge, m->mask[r][2] = (uint8_t)(pat[r] & ~(sh | edge));
    }
}

/* Draws the cell as palette indices, a row of 8 pixels at a time. */
static void cell_idx(const cell_masks *m, uint8_t *px, int stride) {
    const uint64_t ones = 0x0101010101010101ull;
    for (int r = 0; r < 8; r++) {
        uint64_t a = spread[m->mask[r][0]], b = spread[m->mask[r][1]], c = spread[m->mask[r][2]];
        uint64_t row = (m->colour[0] * ones & a) | (m->colour[1] * ones & b) | (m->colour[2] * ones & c) |
                       (m->colour[3] * ones & ~(a | b | c));
        memcpy(px + r * stride, &row, 8);
    }
}

/* Draws the cell as RGB, 24 bytes a row; fill[k] is palette colour k
 * repeated over 8 pixels (three words). */
static void cell_rgb(const cell_masks *m, const uint64_t (*fill)[3], uint8_t *px, int stride) {
    const uint64_t *f0 = fill[m->colour[0]], *f1 = fill[m->colour[1]], *f2 = fill[m->colour[2]], *f3 = fill[m->colour[3]];
    for (int r = 0; r < 8; r++) {
        const uint64_t *a = spread3[m->mask[r][0]], *b = spread3[m->mask[r][1]], *c = spread3[m->mask[r][2]];
        uint64_t row[3];
        for (int k = 0; k < 3; k++)
            row[k] = (f0[k] & a[k]) | (f1[k] & b[k]) | (f2[k] & c[k]) | (f3[k] & ~(a[k] | b[k] | c[k]));
        memcpy(px + r * stride, row, 24);
    }
}

/* Draws a seat's view (or, for NOBODY, the whole room) as indices (rgb 0)
 * or RGB (rgb 1): one cell at a time, through the same masks. */
static void render(const loco_playroom_env *e, int seat, uint8_t *out, int rgb) {
    const pr_world *w = &e->w;
    uint64_t fill[N_COLOURS][3];
    if (rgb)
        for (int k = 0; k < N_COLOURS; k++) {
            uint8_t b[24];
            for (int i = 0; i < 24; i++) b[i] = palette[k][i % 3];
            memcpy(fill[k], b, 24);
        }
    int bpp = rgb ? 3 : 1;
    cell_masks m;
    if (seat != LOCO_PLAYROOM_SETTER && seat != LOCO_PLAYROOM_SOLVER) {
        int stride = LOCO_PLAYROOM_MAP_W * bpp;
        for (int y = 0; y < PR_H; y++)
            for (int x = 0; x < PR_W; x++) {
                masks(w, x, y, 0, &m);
                uint8_t *px = out + (y * 8) * stride + x * 8 * bpp;
                if (rgb) cell_rgb(&m, (const uint64_t (*)[3])fill, px, stride);
                else cell_idx(&m, px, stride);
            }
        return;
    }
    /* View cell (col c, row r): f = 8 - r cells ahead, l = c - 6 to the right. */
    const pr_player *p = &w->pl[seat];
    int d = p->dir, rt = (d + 1) & 3, stride = LOCO_PLAYROOM_VIEW_W * bpp;
    for (int r = 0; r < LOCO_PLAYROOM_VIEW_H / 8; r++)
        for (int c = 0; c < LOCO_PLAYROOM_VIEW_W / 8; c++) {
            int f = LOCO_PLAYROOM_VIEW_H / 8 - 1 - r, l = c - LOCO_PLAYROOM_VIEW_W / 16;
            int x = p->x + f * loco__pr_dx[d] + l * loco__pr_dx[rt], y = p->y + f * loco__pr_dy[d] + l * loco__pr_dy[rt];
            masks(w, x, y, d, &m);
            uint8_t *px = out + (r * 8) * stride + c * 8 * bpp;
            if (rgb) cell_rgb(&m, (const uint64_t (*)[3])fill, px, stride);
            else cell_idx(&m, px, stride);
        }
}

void loco_playroom_env_render(const loco_playroom_env *e, int seat, uint8_t *idx) { render(e, seat, idx, 0); }

void loco_playroom_env_render_rgb(const loco_playroom_env *e, int seat, uint8_t *rgb) { render(e, seat, rgb, 1); }
