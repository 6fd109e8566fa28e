/*
 * `loco playroom render --out FILE.gif`: one episode as an animated GIF
 * (giflib), each frame the room from above beside the solver's egocentric
 * view, 2x, 150 ms a step, looping.  The palette is the room's own (under 32
 * colours), so frames are written as they are rendered, with no quantising.
 * The chat is not drawn; the HTML replay shows it.
 */
#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>
#include "cli/playroom_cmd.h"
#include "loco/file.h"
#include "loco/playroom.h"

#define SCALE 2
#define GAP 4
#define W ((LOCO_PLAYROOM_MAP_W + GAP + LOCO_PLAYROOM_VIEW_W) * SCALE)
#define H (LOCO_PLAYROOM_MAP_H * SCALE)

typedef struct { uint8_t *p; size_t n, cap; int oom; } mem;

static int put(GifFileType *g, const GifByteType *d, int n) {
    mem *m = g->UserData;
    if (m->n + (size_t)n > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1 << 16;
        while (cap < m->n + (size_t)n) cap *= 2;
        uint8_t *p = realloc(m->p, cap);
        if (!p) { m->oom = 1; return 0; }
        m->p = p, m->cap = cap;
    }
    memcpy(m->p + m->n, d, (size_t)n);
    m->n += (size_t)n;
    return n;
}

static int frame(GifFileType *g, const loco_playroom_env *e) {
    static uint8_t map[LOCO_PLAYROOM_MAP_W * LOCO_PLAYROOM_MAP_H], view[LOCO_PLAYROOM_VIEW_W * LOCO_PLAYROOM_VIEW_H];
    static GifPixelType row[W];
    loco_playroom_env_render(e, LOCO_PLAYROOM_NOBODY, map);
    loco_playroom_env_render(e, LOCO_PLAYROOM_SOLVER, view);
    GraphicsControlBlock gcb = {DISPOSAL_UNSPECIFIED, false, 15, NO_TRANSPARENT_COLOR};   /* 15 cs a step */
    GifByteType ext[4];
    EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, 4, ext) != GIF_OK) return -1;
    if (EGifPutImageDesc(g, 0, 0, W, H, false, NULL) != GIF_OK) return -1;
    for (int y = 0; y < H; y++) {
        int sy = y / SCALE;
        for (int x = 0; x < W; x++) {
            int sx = x / SCALE;
            if (sx < LOCO_PLAYROOM_MAP_W) row[x] = map[sy * LOCO_PLAYROOM_MAP_W + sx];
            else if (sx >= LOCO_PLAYROOM_MAP_W + GAP && sy < LOCO_PLAYROOM_VIEW_H)
                row[x] = view[sy * LOCO_PLAYROOM_VIEW_W + sx - LOCO_PLAYROOM_MAP_W - GAP];
            else row[x] = 0;
        }
        if (EGifPutLine(g, row, W) != GIF_OK) return -1;
    }
    return 0;
}

int loco__playroom_gif(loco_playroom_env *e, const loco_playroom_episode *ep, const char *path, char *msg,
                       size_t msglen) {
    int family = ep->family_filter == 255 ? -1 : ep->family_filter, err = 0, np;
    loco_playroom_env_reset(e, ep->seed, ep->split, family, ep->max_steps);
    mem m = {0};
    GifFileType *g = EGifOpen(&m, put, &err);
    if (!g) { snprintf(msg, msglen, "giflib: %s", GifErrorString(err)); return -1; }
    EGifSetGifVersion(g, true);   /* GIF89a: the extensions need it */
    const uint8_t *pal = loco_playroom_palette(&np);
    GifColorType colours[32] = {{0, 0, 0}};
    for (int i = 0; i < np && i < 32; i++) colours[i] = (GifColorType){pal[3 * i], pal[3 * i + 1], pal[3 * i + 2]};
    ColorMapObject *cm = GifMakeMapObject(32, colours);
    int ok = cm && EGifPutScreenDesc(g, W, H, 5, 0, cm) == GIF_OK;
    /* NETSCAPE2.0: loop forever. */
    static const GifByteType loop[3] = {1, 0, 0};
    ok = ok && EGifPutExtensionLeader(g, APPLICATION_EXT_FUNC_CODE) == GIF_OK &&
         EGifPutExtensionBlock(g, 11, "NETSCAPE2.0") == GIF_OK && EGifPutExtensionBlock(g, 3, loop) == GIF_OK &&
         EGifPutExtensionTrailer(g) == GIF_OK;
    ok = ok && frame(g, e) == 0;
    for (int t = 0; ok && t < ep->n_steps; t++) {
        const uint8_t *a = ep->acts[t];
        const int32_t acts[2][2] = {{a[0], a[1]}, {a[2], a[3]}};
        int term, trunc;
        loco_playroom_env_step(e, acts, &term, &trunc);
        ok = frame(g, e) == 0;
    }
    if (!ok) err = g->Error;
    if (EGifCloseFile(g, &err) != GIF_OK) ok = 0;
    GifFreeMapObject(cm);
    int rc = 0;
    if (!ok || m.oom) {
        snprintf(msg, msglen, "giflib: %s", m.oom ? "out of memory" : GifErrorString(err));
        rc = -1;
    } else if (loco_file_write(path, m.p, m.n, msg, msglen)) {
        rc = -1;
    }
    free(m.p);
    return rc;
}
