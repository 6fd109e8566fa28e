/* The software rasteriser: a page drawn into a 210x160 RGB frame, text
 * through a glyph cache that FreeType fills once per loco_env. */
#ifndef LOCO_ENV_RASTER_H
#define LOCO_ENV_RASTER_H

#include <stddef.h>
#include <stdint.h>
#include "env/web/web.h"

typedef struct loco__font loco__font;

/* The process-wide glyph cache of DejaVu Sans (regular and bold) at the
 * sizes the pages use, built on first use.  LOCO_EIO with a reason when the
 * font is missing. */
int  loco__font_load(loco__font **out, char *msg, size_t msglen);
void loco__font_free(loco__font *f);

/* One env's last frame without the pointer, and the digest of what it shows. */
typedef struct {
    uint8_t  rgb[LOCO_ENV_H * LOCO_ENV_W * 3];
    uint64_t key;
    int      valid;
} loco__frame;

/* Draws page p into rgb (210 x 160 x 3), pointer included.  With a cache,
 * the page is redrawn only when something it shows has changed. */
void loco__render(const loco__font *f, loco__page *p, uint8_t *rgb, loco__frame *cache);

#endif
