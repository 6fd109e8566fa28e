/*
 * The glyph cache: FreeType renders the printable ASCII glyphs of DejaVu
 * Sans (regular and bold) once per process, at each size the pages use, into
 * one block of 8-bit coverage bitmaps, shared read-only by every loco_env
 * (rendering them takes tens of milliseconds); frames then only blend.
 */
#include <ft2build.h>
#include FT_FREETYPE_H
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/fail.h"
#include "env/web/font.h"

static const int sizes[LOCO__FONT_SIZES] = {10, 13, 16, 20};

static const char *const font_dirs[] = {
    "/usr/share/fonts/truetype/dejavu/",
    "/usr/local/share/fonts/truetype/dejavu/",
};

int loco__font_size_index(int px) {
    int best = 0;
    for (int k = 1; k < LOCO__FONT_SIZES; k++)
        if (abs(sizes[k] - px) < abs(sizes[best] - px)) best = k;
    return best;
}

static int find_font(const char *name, char *path, size_t cap) {
    const char *env = getenv("LOCO_FONT_DIR");
    struct stat st;
    if (env) {
        snprintf(path, cap, "%s/%s", env, name);
        if (!stat(path, &st) && S_ISREG(st.st_mode)) return 0;
    }
    for (size_t k = 0; k < sizeof font_dirs / sizeof *font_dirs; k++) {
        snprintf(path, cap, "%s%s", font_dirs[k], name);
        if (!stat(path, &st) && S_ISREG(st.st_mode)) return 0;
    }
    return -1;
}

static void font_destroy(loco__font *f);

static int font_build(loco__font **out, char *msg, size_t msglen) {
    *out = NULL;
    static const char *files[2] = {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"};
    loco__font *f = calloc(1, sizeof *f);
    if (!f) return loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory for the glyph cache");
    FT_Library lib;
    if (FT_Init_FreeType(&lib)) { free(f); return loco__fail(msg, msglen, LOCO_EIO, "FreeType failed to start"); }
    int err = LOCO_OK;
    /* two passes: measure the bitmaps, then copy them into one block */
    for (int pass = 0; pass < 2 && !err; pass++) {
        size_t used = 0;
        for (int b = 0; b < 2 && !err; b++) {
            char path[512];
            FT_Face face;
            if (find_font(files[b], path, sizeof path)) {
                err = loco__fail(msg, msglen, LOCO_EIO, "font %s not found (install fonts-dejavu-core or set LOCO_FONT_DIR)", files[b]);
                break;
            }
            if (FT_New_Face(lib, path, 0, &face)) {
                err = loco__fail(msg, msglen, LOCO_EIO, "cannot load font %s", path);
                break;
            }
            for (int s = 0; s < LOCO__FONT_SIZES && !err; s++) {
                FT_Set_Pixel_Sizes(face, 0, (FT_UInt)sizes[s]);
                for (int c = 0; c < 95; c++) {
                    if (FT_Load_Char(face, (FT_ULong)(c + 32), FT_LOAD_RENDER)) continue;
                    FT_Bitmap *bm = &face->glyph->bitmap;
                    loco__glyph *g = &f->g[b][s][c];
                    g->w = (int16_t)bm->width; g->h = (int16_t)bm->rows;
                    g->left = (int16_t)face->glyph->bitmap_left; g->top = (int16_t)face->glyph->bitmap_top;
                    g->off = (uint32_t)used;
                    if (pass == 1)
                        for (unsigned r = 0; r < bm->rows; r++)
                            memcpy(f->pix + used + r * bm->width, bm->buffer + (long)r * bm->pitch, bm->width);
                    used += (size_t)bm->width * bm->rows;
                }
            }
            FT_Done_Face(face);
        }
        if (!err && pass == 0) {
            f->pix = malloc(used ? used : 1);
            if (!f->pix) err = loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory for glyphs");
        }
    }
    FT_Done_FreeType(lib);
    if (err) { font_destroy(f); return err; }
    *out = f;
    return LOCO_OK;
}

static void font_destroy(loco__font *f) {
    if (!f) return;
    free(f->pix);
    free(f);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static loco__font *shared;

/* Builds the shared cache on first use (a failure is retried next time). */
int loco__font_load(loco__font **out, char *msg, size_t msglen) {
    pthread_mutex_lock(&lock);
    int err = shared ? LOCO_OK : font_build(&shared, msg, msglen);
    pthread_mutex_unlock(&lock);
    *out = shared;
    return err;
}

/* The cache lives until the process ends: envs only drop their reference. */
void loco__font_free(loco__font *f) { (void)f; }
