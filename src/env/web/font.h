/* The glyph cache's layout, shared by font.c (which fills it) and raster.c. */
#ifndef LOCO_ENV_FONT_H
#define LOCO_ENV_FONT_H

#include <stdint.h>
#include "env/web/raster.h"

#define LOCO__FONT_SIZES 4   /* 10, 13, 16 and 20 px */

typedef struct {
    int16_t w, h, left, top;  /* bitmap size and its offset from the pen on the baseline */
    uint32_t off;             /* into loco__font.pix */
} loco__glyph;

struct loco__font {
    loco__glyph g[2][LOCO__FONT_SIZES][95];   /* [bold][size][char - 32] */
    uint8_t *pix;                             /* every coverage bitmap, one block */
};

/* The cached size nearest to px. */
int loco__font_size_index(int px);

#endif
