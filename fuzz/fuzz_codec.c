/*
 * libFuzzer target for the pseudo-gradient codecs, whose bytes will arrive
 * from the network.  The first three bytes choose a shape (up to 8 x 40) and
 * a keep fraction; the rest is fed to loco_codec_decode for every codec, both
 * whole (almost always the wrong length) and cut to the exact encoded length
 * (so that the mask, scale and value checks are reached).  Whatever decodes
 * must be finite and must survive a re-encode; for the dense fp32, fp16 and
 * bf16 codecs the re-encoded bytes must be the very input.  The same bytes,
 * read as floats, also go through encode and decode, and the round trip must
 * stay within loco_codec_error_bound().  Any broken promise aborts.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "loco/codec.h"

#define MAX_ROWS 8
#define MAX_COLS 40
#define MAX_N (MAX_ROWS * MAX_COLS)
#define MAX_BYTES (MAX_N / 8 + 1 + 4 * MAX_ROWS + 4 * MAX_N)

static const float keeps[8] = {1.0f, 0.5f, 0.1f, 0.01f, 0.9f, 0.3333f, 0.999f, 0.0625f};

/* Checks what a successful decode of in promises, and that it re-encodes. */
static void check_decoded(loco_codec c, float keep, const uint8_t *in, size_t len, size_t rows,
                          size_t cols, const float *y) {
    const size_t n = rows * cols;
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) abort();
        nonzero += y[i] != 0.0f;
    }
    if (nonzero > loco_codec_kept(n, keep)) abort();
    uint8_t again[MAX_BYTES];
    float z[MAX_N];
    if (loco_codec_encode(c, keep, y, rows, cols, again, NULL) != LOCO_OK) abort();
    if (loco_codec_decode(c, keep, again, len, rows, cols, z) != LOCO_OK) abort();
    const int exact = c == LOCO_CODEC_FP32 || c == LOCO_CODEC_FP16 || c == LOCO_CODEC_BF16;
    if (exact && keep >= 1.0f && memcmp(again, in, len) != 0) abort();
}

/* Encodes n floats taken from the input and checks the round trip. */
static void check_encode(loco_codec c, float keep, const float *x, size_t rows, size_t cols) {
    const size_t n = rows * cols, len = loco_codec_bytes(c, rows, cols, keep);
    uint8_t buf[MAX_BYTES];
    float y[MAX_N];
    double bound[MAX_N];
    int err = loco_codec_encode(c, keep, x, rows, cols, buf, NULL);
    int finite = 1;
    for (size_t i = 0; i < n; i++) finite &= isfinite(x[i]) != 0;
    if (err != (finite ? LOCO_OK : LOCO_ENONFINITE)) abort();
    if (err) return;
    if (loco_codec_decode(c, keep, buf, len, rows, cols, y) != LOCO_OK) abort();
    if (keep < 1.0f) {
        /* Kept entries carry their value's encoding, the others are +0. */
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            int bit = (buf[i >> 3] >> (i & 7)) & 1;
            kept += (size_t)bit;
            if (!bit && y[i] != 0.0f) abort();
            if (bit && c == LOCO_CODEC_FP32 && memcmp(&x[i], &y[i], sizeof(float)) != 0) abort();
        }
        if (kept != loco_codec_kept(n, keep)) abort();
        return;
    }
    if (loco_codec_error_bound(c, x, rows, cols, bound) != LOCO_OK) abort();
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)x[i] - (double)y[i]) <= bound[i])) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    const size_t rows = 1 + data[0] % MAX_ROWS, cols = 1 + data[1] % MAX_COLS;
    const float keep = keeps[data[2] & 7];
    const uint8_t *in = data + 3;
    const size_t len = size - 3;
    float y[MAX_N], x[MAX_N];
    for (int k = 0; k <= (int)LOCO_CODEC_INT8_ROW; k++) {
        const loco_codec c = (loco_codec)k;
        const size_t need = loco_codec_bytes(c, rows, cols, keep);
        if (need == 0 || need > MAX_BYTES) abort();
        if (loco_codec_decode(c, keep, in, len, rows, cols, y) == LOCO_OK) {
            if (len != need) abort();
            check_decoded(c, keep, in, len, rows, cols, y);
        }
        if (len > need && loco_codec_decode(c, keep, in, need, rows, cols, y) == LOCO_OK)
            check_decoded(c, keep, in, need, rows, cols, y);
        /* The payload as little-endian-agnostic host floats (only the values
         * matter here, not their byte order). */
        if (len >= 4 * rows * cols) {
            memcpy(x, in, 4 * rows * cols);
            check_encode(c, keep, x, rows, cols);
        }
    }
    /* Unknown codecs and bad keeps are refused, never read. */
    if (loco_codec_decode((loco_codec)(5 + data[0] % 7), 1.0f, in, len, rows, cols, y) != LOCO_EINVAL)
        abort();
    if (loco_codec_decode(LOCO_CODEC_FP32, -keeps[data[2] & 7], in, len, rows, cols, y) != LOCO_EINVAL)
        abort();
    return 0;
}
