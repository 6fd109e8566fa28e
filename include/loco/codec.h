/*
 * Compression of DiLoCo's pseudo-gradients: pure functions between float
 * arrays and byte buffers.
 *
 * A tensor of rows x cols floats (row-major) is encoded as
 *     [bitmask, if pruned] [scales, int8 codecs only] [kept values]
 * with everything little-endian whatever the host:
 *   - bitmask: present iff keep < 1; ceil(rows*cols/8) bytes, bit i%8 (least
 *     significant first) of byte i/8 set iff element i is kept; padding bits
 *     of the last byte are 0.  Exactly loco_codec_kept() bits are set.
 *   - scales: int8-tensor: one fp32; int8-row: one fp32 per row.  A scale is
 *     max|x|/127 over the (kept) values it covers, 0 if there are none or all
 *     are zero.
 *   - values, in index order, kept ones only:
 *       fp32         4 bytes, IEEE binary32, exact;
 *       fp16         2 bytes, IEEE binary16, round to nearest even;
 *                    |x| > 65504 saturates to +-65504;
 *       bf16         2 bytes, the top half of the binary32, round to nearest
 *                    even; |x| above the largest bf16 (0x1.fep127, about
 *                    3.39e38) saturates to it;
 *       int8-tensor  1 byte, q = round(x/scale) in [-127, 127], decoded q*scale;
 *       int8-row     the same with one scale per row.
 * The bytes are meant for the wire, so decoding validates everything and
 * fails cleanly on any input.  See docs/compression.md.
 *
 * Threads.  Tensors of 65 536 values or more are encoded and decoded with
 * OpenMP threads (over rows for int8-row, over values otherwise; the
 * selection's histograms of pruning too).  Each output comes from its own
 * input alone, and the only reductions (the int8 scale's maximum, the
 * validity flags, the histograms' integer counts) do not depend on the
 * order, so the bytes and the decoded values are the same for any thread
 * count (tests/test_codec.c checks 1 against 2 threads).
 *
 * Worst-case absolute error of a dense round trip (keep = 1) for element x,
 * as loco_codec_error_bound() computes it (M: max|x| over the tensor, or over
 * x's row for int8-row):
 *   fp32         0
 *   fp16         max(2^-11 |x|, 2^-25) for |x| <= 65504; |x| - 65504 above
 *   bf16         max(2^-8 |x|, 2^-134) for |x| up to the largest bf16
 *                (2^-134: half the spacing of bf16's subnormals); saturation
 *                error above
 *   int8-*       M/254 * (1 + 2^-14) + 2^-142: half a quantization step,
 *                widened by the fp32 rounding of the scale, of x/scale and of
 *                q*scale (a few 2^-24 relative), and by an absolute 2^-142 for
 *                scales so small they are subnormal
 * With pruning, a dropped element decodes to 0 (error |x|) and a kept one has
 * the bound above, with M taken over the kept values.
 */
#ifndef LOCO_CODEC_H
#define LOCO_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LOCO_CODEC_FP32 = 0,
    LOCO_CODEC_FP16,
    LOCO_CODEC_BF16,
    LOCO_CODEC_INT8_TENSOR,
    LOCO_CODEC_INT8_ROW
} loco_codec;

/* Parses "fp32", "fp16", "bf16", "int8" (= int8-row), "int8-tensor" or
 * "int8-row" into *out; returns LOCO_EINVAL (and leaves *out alone) for any
 * other string or a NULL argument. */
int loco_codec_parse(const char *s, loco_codec *out);

/* The canonical name of c ("int8-row" for LOCO_CODEC_INT8_ROW); "unknown" for
 * a value outside the enum, never NULL. */
const char *loco_codec_name(loco_codec c);

/* Values kept when pruning n values to the fraction keep: n if keep >= 1,
 * else max(1, llround(keep*n)), and never more than n.  Returns 0 when n is 0
 * or keep is not positive (or NaN). */
size_t loco_codec_kept(size_t n, float keep);

/* Bytes of one encoded tensor of rows x cols values keeping the fraction keep
 * (1: dense, no bitmask).  Returns 0 for an unknown codec, rows or cols 0,
 * keep outside (0, 1] or NaN, or a size too large to count in a size_t. */
size_t loco_codec_bytes(loco_codec c, size_t rows, size_t cols, float keep);

/* Encodes x (rows x cols, row-major) into out, which must hold
 * loco_codec_bytes() bytes.  With keep < 1 only the loco_codec_kept() values
 * of largest |x| survive, ties broken by the lower index (so the count is
 * exact); -0 and +0 count as equal magnitudes.  scratch is not needed by this
 * implementation (the selection is a radix select over the magnitudes' bits,
 * working in place) and may be NULL.  Returns LOCO_EINVAL for a NULL array,
 * an unknown codec, bad sizes or keep outside (0, 1], and LOCO_ENONFINITE if
 * x holds a NaN or an Inf (there is nothing sensible to send); out is then
 * unspecified. */
int loco_codec_encode(loco_codec c, float keep, const float *x, size_t rows, size_t cols,
                      uint8_t *out, void *scratch);

/* Decodes len bytes of in into out (rows x cols; pruned entries are +0).
 * Returns LOCO_EINVAL for a NULL array, an unknown codec, bad sizes or keep,
 * a len other than loco_codec_bytes(), a bitmask without exactly
 * loco_codec_kept() bits set (padding bits included), a scale that is
 * negative, NaN or infinite, an int8 code of -128, or a decoded value that is
 * not finite (fp32/fp16/bf16 Inf or NaN patterns, or q*scale overflowing).
 * out is unspecified after a failure. */
int loco_codec_decode(loco_codec c, float keep, const uint8_t *in, size_t len, size_t rows,
                      size_t cols, float *out);

/* Writes to bound[i] the documented worst-case |x[i] - decoded[i]| of the
 * dense round trip of x (see the table above), for tests and for callers that
 * budget error.  Returns LOCO_EINVAL for a NULL array, an unknown codec or
 * rows or cols 0, and LOCO_ENONFINITE if x holds a NaN or an Inf. */
int loco_codec_error_bound(loco_codec c, const float *x, size_t rows, size_t cols,
                           double *bound);

#ifdef __cplusplus
}
#endif

#endif
