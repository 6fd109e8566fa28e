/*
 * Pseudo-gradient codecs: fp32, fp16, bf16 and int8 (one scale per tensor or
 * per row), optionally after top-k magnitude pruning.  The byte layout and the
 * error bounds are documented in include/loco/codec.h and docs/compression.md.
 *
 * Portability.  The wire is little-endian: every multi-byte number is written
 * and read byte by byte with shifts, never by copying host memory.  The
 * half-precision conversions are integer manipulations of the binary32 bits
 * (no _Float16, no intrinsics), rounding to nearest with ties to even as the
 * hardware would, so the bytes are the same on every host and compiler.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "loco/codec.h"

/* ---------------------------------------------------------------- bits */

static uint32_t f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static void put_u32(uint8_t *p, uint32_t u) {
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
    p[3] = (uint8_t)(u >> 24);
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u16(uint8_t *p, uint16_t u) {
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
}

static uint16_t get_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

/* ---------------------------------------------------------------- halves */

#define F16_MAX 65504.0f                 /* 0x7BFF */
#define BF16_MAX 0x1.fep127f             /* 0x7F7F */

/* binary32 -> binary16, round to nearest even; finite values above 65504
 * saturate to +-65504 rather than becoming Inf (NaN -> a quiet NaN). */
static uint16_t f32_to_f16(float x) {
    const uint32_t u = f32_bits(x);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    const uint32_t a = u & 0x7FFFFFFF;
    if (a > 0x7F800000) return sign | 0x7E00;
    if (a > 0x477FE000) return sign | 0x7BFF;        /* beyond 65504 (Inf included) */
    if (a >= 0x38800000) {
        /* Normal in binary16 (|x| >= 2^-14): rebias the exponent from 127 to
         * 15 (subtract 112 << 23) and drop 13 mantissa bits, rounding to
         * nearest even: adding 0xFFF plus the lowest kept bit carries into
         * the kept bits exactly when the dropped part exceeds one half, or
         * equals it and the kept part is odd.  A carry out of the mantissa
         * correctly bumps the exponent. */
        return sign | (uint16_t)((a - 0x38000000 + 0x0FFF + ((a >> 13) & 1)) >> 13);
    }
    /* Subnormal in binary16: the result counts units of 2^-24.  With e the
     * biased binary32 exponent and mant the 24-bit significand (implicit 1
     * included), |x| = mant * 2^(e-150) = (mant >> (126 - e)) units.  Below
     * e = 102 the shift is 25 or more and |x| < 2^-25 (or is exactly 2^-25,
     * a tie that goes to the even 0), so the result is a zero; binary32
     * subnormals (e = 0) land there too. */
    const uint32_t e = a >> 23;
    if (e < 102) return sign;
    const uint32_t mant = (a & 0x7FFFFF) | 0x800000;
    const uint32_t shift = 126 - e;                   /* 14 .. 24 */
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    q += rem > half || (rem == half && (q & 1));      /* 0x400 is the smallest normal */
    return sign | (uint16_t)q;
}

/* binary16 -> binary32, exact (Inf and NaN patterns map to Inf and NaN). */
static float f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t e = (h >> 10) & 0x1F, m = h & 0x3FF;
    if (e == 0) {
        /* Zero or subnormal: m units of 2^-24, exact in binary32. */
        const float mag = (float)m * 0x1p-24f;
        return (h & 0x8000) ? -mag : mag;
    }
    if (e == 31) return f32_from_bits(sign | 0x7F800000 | m << 13);
    return f32_from_bits(sign | (e + 112) << 23 | m << 13);
}

/* binary32 -> bfloat16 (its top 16 bits), round to nearest even; finite
 * values that would round to Inf saturate to +-BF16_MAX.  Subnormals need no
 * special case: they share binary32's exponent field. */
static uint16_t f32_to_bf16(float x) {
    const uint32_t u = f32_bits(x);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    const uint32_t a = u & 0x7FFFFFFF;
    if (a > 0x7F800000) return sign | 0x7FC0;
    if (a == 0x7F800000) return sign | 0x7F80;
    const uint32_t r = (a + 0x7FFF + ((a >> 16) & 1)) >> 16;   /* no overflow: a < 0x7F800000 */
    return sign | (uint16_t)(r >= 0x7F80 ? 0x7F7F : r);
}

static float bf16_to_f32(uint16_t h) {
    return f32_from_bits((uint32_t)h << 16);
}

/* ---------------------------------------------------------------- layout */

/* The largest tensor accepted: every byte count below then fits in a size_t
 * (at most n/8 + 1 + 4*rows + 4*n <= 9n + 1 bytes). */
#define LOCO__CODEC_MAX_N (SIZE_MAX / 16)

typedef struct {
    size_t n;          /* rows * cols */
    size_t kept;       /* values stored */
    size_t mask;       /* bitmask bytes (0 when dense) */
    size_t scales;     /* number of fp32 scales */
    size_t width;      /* bytes per stored value */
    size_t total;      /* encoded bytes */
} codec_layout;

static int valid_codec(loco_codec c) {
    return (int)c >= (int)LOCO_CODEC_FP32 && (int)c <= (int)LOCO_CODEC_INT8_ROW;
}

static int is_int8(loco_codec c) {
    return c == LOCO_CODEC_INT8_TENSOR || c == LOCO_CODEC_INT8_ROW;
}

/* Fills L for a tensor; returns LOCO_EINVAL for an unknown codec, rows or
 * cols 0, a tensor larger than LOCO__CODEC_MAX_N, or keep outside (0, 1]. */
static int layout_of(loco_codec c, size_t rows, size_t cols, float keep, codec_layout *L) {
    if (!valid_codec(c) || rows == 0 || cols == 0 || rows > LOCO__CODEC_MAX_N / cols)
        return LOCO_EINVAL;
    if (!(keep > 0.0f && keep <= 1.0f)) return LOCO_EINVAL;   /* NaN fails too */
    L->n = rows * cols;
    L->kept = loco_codec_kept(L->n, keep);
    L->mask = keep < 1.0f ? (L->n + 7) / 8 : 0;
    L->scales = c == LOCO_CODEC_INT8_TENSOR ? 1 : c == LOCO_CODEC_INT8_ROW ? rows : 0;
    L->width = c == LOCO_CODEC_FP32 ? 4 : c == LOCO_CODEC_FP16 || c == LOCO_CODEC_BF16 ? 2 : 1;
    L->total = L->mask + 4 * L->scales + L->kept * L->width;
    return LOCO_OK;
}

static const char *const codec_names[] = {"fp32", "fp16", "bf16", "int8-tensor", "int8-row"};

/* Returns LOCO_EINVAL for an unknown string or a NULL argument. */
int loco_codec_parse(const char *s, loco_codec *out) {
    if (!s || !out) return LOCO_EINVAL;
    if (strcmp(s, "int8") == 0) {
        *out = LOCO_CODEC_INT8_ROW;
        return LOCO_OK;
    }
    for (int k = 0; k <= (int)LOCO_CODEC_INT8_ROW; k++)
        if (strcmp(s, codec_names[k]) == 0) {
            *out = (loco_codec)k;
            return LOCO_OK;
        }
    return LOCO_EINVAL;
}

/* Returns "unknown" for a value outside the enum. */
const char *loco_codec_name(loco_codec c) {
    return valid_codec(c) ? codec_names[c] : "unknown";
}

/* Returns 0 for n == 0 or a keep that is not positive. */
size_t loco_codec_kept(size_t n, float keep) {
    if (n == 0 || !(keep > 0.0f)) return 0;
    if (keep >= 1.0f) return n;
    const long long k = llround((double)keep * (double)n);   /* < n, so it fits */
    if (k < 1) return 1;
    return (size_t)k > n ? n : (size_t)k;
}

/* Returns 0 for invalid arguments (see the header). */
size_t loco_codec_bytes(loco_codec c, size_t rows, size_t cols, float keep) {
    codec_layout L;
    return layout_of(c, rows, cols, keep, &L) == LOCO_OK ? L.total : 0;
}

/* ---------------------------------------------------------------- pruning */

/* Below this many values a loop runs on one thread: a parallel region costs
 * microseconds, more than converting a small tensor.  Every parallel loop
 * here either writes each output element from its own input element alone,
 * or reduces with an operation that does not depend on the order (integer
 * max, bitwise or), so the bytes are the same for any thread count. */
#define LOCO__CODEC_PAR_MIN ((size_t)1 << 16)

static int mask_bit(const uint8_t *mask, size_t i) {
    return (mask[i >> 3] >> (i & 7)) & 1;
}

/* Bits set in mask over elements [lo, hi). */
static size_t mask_count(const uint8_t *mask, size_t lo, size_t hi) {
    size_t k = 0;
    for (size_t i = lo; i < hi; i++) k += (size_t)mask_bit(mask, i);
    return k;
}

/* The magnitude of a finite float as an integer whose order is the order of
 * the magnitudes: clearing the sign bit of a binary32 leaves a number that
 * increases with |x| (exponent above mantissa), and makes -0 equal to +0. */
static uint32_t magnitude_key(float x) {
    return f32_bits(x) & 0x7FFFFFFF;
}

/* Sets in mask (zeroed here, (n+7)/8 bytes) the k elements of x with the
 * largest |x|, ties going to the lower index.  A radix select finds the
 * threshold: the k-th largest key T, one byte at a time from the top, in four
 * counting passes with no memory beyond a histogram.  Every key above T is
 * then kept, and so are the first `need` keys equal to T in index order,
 * where need = k - #(keys > T) is what the select leaves over. */
static void select_top_k(const float *x, size_t n, size_t k, uint8_t *mask) {
    uint32_t prefix = 0, prefix_mask = 0;
    size_t need = k;   /* rank of the wanted key among those matching prefix */
    for (int shift = 24; shift >= 0; shift -= 8) {
        size_t hist[256] = {0};
        /* Integer counts: the sum does not depend on how the threads split
         * the elements. */
        #pragma omp parallel for reduction(+ : hist[:256]) schedule(static) if (n >= LOCO__CODEC_PAR_MIN)
        for (size_t i = 0; i < n; i++) {
            const uint32_t key = magnitude_key(x[i]);
            if ((key & prefix_mask) == prefix) hist[(key >> shift) & 0xFF]++;
        }
        /* The digit of T is the one where the count from the top reaches
         * need; the keys in higher digits are all kept. */
        int d = 255;
        while (d > 0 && hist[d] < need) need -= hist[d--];
        prefix |= (uint32_t)d << shift;
        prefix_mask |= 0xFFu << shift;
    }
    memset(mask, 0, (n + 7) / 8);
    for (size_t i = 0; i < n; i++) {
        const uint32_t key = magnitude_key(x[i]);
        int take = key > prefix;
        if (key == prefix && need > 0) {
            take = 1;
            need--;
        }
        if (take) mask[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
}

/* ---------------------------------------------------------------- values */

/* The int8 scale of a group of values: max|v|/127, 0 for an empty or all-zero
 * group.  If 127*scale would overflow to Inf (max|v| within rounding of
 * FLT_MAX), the scale is lowered by an ulp so that every code decodes to a
 * finite value; the quantization step only shrinks. */
static float int8_scale(const float *v, size_t count) {
    /* The largest magnitude, found as the largest magnitude key (an integer
     * maximum, which vectorizes where a float one would not). */
    uint32_t key = 0;
    #pragma omp parallel for simd reduction(max : key) schedule(static) if (count >= LOCO__CODEC_PAR_MIN)
    for (size_t j = 0; j < count; j++) {
        const uint32_t k = magnitude_key(v[j]);
        key = k > key ? k : key;
    }
    float s = f32_from_bits(key) / 127.0f;
    while (isinf(127.0f * s)) s = nextafterf(s, 0.0f);
    return s;
}

/* Writes count values of one group (one scale for the int8 codecs). */
static void encode_values(loco_codec c, const float *v, size_t count, float scale, uint8_t *out) {
    switch (c) {
    case LOCO_CODEC_FP32:
        #pragma omp parallel for schedule(static) if (count >= LOCO__CODEC_PAR_MIN)
        for (size_t j = 0; j < count; j++) put_u32(out + 4 * j, f32_bits(v[j]));
        break;
    case LOCO_CODEC_FP16:
        #pragma omp parallel for schedule(static) if (count >= LOCO__CODEC_PAR_MIN)
        for (size_t j = 0; j < count; j++) put_u16(out + 2 * j, f32_to_f16(v[j]));
        break;
    case LOCO_CODEC_BF16:
        #pragma omp parallel for schedule(static) if (count >= LOCO__CODEC_PAR_MIN)
        for (size_t j = 0; j < count; j++) put_u16(out + 2 * j, f32_to_bf16(v[j]));
        break;
    case LOCO_CODEC_INT8_TENSOR:
    case LOCO_CODEC_INT8_ROW:
        /* q = round(v/scale) to nearest (even on ties), clamped to [-127, 127]
         * (v/scale can exceed 127 by a rounding).  A zero scale means the
         * group is all zeros, or so small that max|v|/127 underflowed. */
        if (scale == 0.0f) {
            memset(out, 0, count);
            break;
        }
        #pragma omp parallel for schedule(static) if (count >= LOCO__CODEC_PAR_MIN)
        for (size_t j = 0; j < count; j++) {
            float r = v[j] / scale;
            r = r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r;
            out[j] = (uint8_t)(int8_t)rintf(r);
        }
        break;
    }
}

/* Reads count values of one group into v; returns nonzero if any is invalid
 * (a non-finite fp32/fp16/bf16 pattern, an int8 code of -128, or q*scale not
 * finite).  The checks accumulate rather than branch, so the loops stay
 * simple. */
static int decode_values(loco_codec c, const uint8_t *in, size_t count, float scale, float *v) {
    int bad = 0;
    switch (c) {
    case LOCO_CODEC_FP32:
        #pragma omp parallel for reduction(| : bad) schedule(static) if (count >= LOCO__CODEC_PAR_MIN)
        for (size_t j = 0; j < count; j++) {
            const uint32_t u = get_u32(in + 4 * j);
            bad |= (u & 0x7F800000) == 0x7F800000;
            v[j] = f32_from_bits(u);
        }
        break;
    case LOCO_CODEC_FP16:
        #pragma omp parallel for reduction(| : bad) schedule(static) if (count >= LOCO__CODEC_PAR_MIN)
        for (size_t j = 0; j < count; j++) {
            const uint16_t h = get_u16(in + 2 * j);
            bad |= (h & 0x7C00) == 0x7C00;
            v[j] = f16_to_f32(h);
        }
        break;
    case LOCO_CODEC_BF16:
        #pragma omp parallel for reduction(| : bad) schedule(static) if (count >= LOCO__CODEC_PAR_MIN)
        for (size_t j = 0; j < count; j++) {
            const uint16_t h = get_u16(in + 2 * j);
            bad |= (h & 0x7F80) == 0x7F80;
            v[j] = bf16_to_f32(h);
        }
        break;
    case LOCO_CODEC_INT8_TENSOR:
    case LOCO_CODEC_INT8_ROW:
        #pragma omp parallel for reduction(| : bad) schedule(static) if (count >= LOCO__CODEC_PAR_MIN)
        for (size_t j = 0; j < count; j++) {
            bad |= in[j] == 0x80;
            v[j] = (float)(int8_t)in[j] * scale;
            bad |= !isfinite(v[j]);
        }
        break;
    }
    return bad;
}

/* Returns nonzero if s is not a valid scale: negative (-0 included), NaN or
 * infinite. */
static int bad_scale(uint32_t bits) {
    return (bits >> 31) != 0 || (bits & 0x7F800000) == 0x7F800000;
}

/* ---------------------------------------------------------------- encode */

/* Returns LOCO_EINVAL or LOCO_ENONFINITE as documented in the header. */
int loco_codec_encode(loco_codec c, float keep, const float *x, size_t rows, size_t cols,
                      uint8_t *out, void *scratch) {
    codec_layout L;
    if (!x || !out || layout_of(c, rows, cols, keep, &L) != LOCO_OK) return LOCO_EINVAL;
    (void)scratch;
    int nonfinite = 0;
    #pragma omp parallel for simd reduction(| : nonfinite) schedule(static) if (L.n >= LOCO__CODEC_PAR_MIN)
    for (size_t i = 0; i < L.n; i++) nonfinite |= (f32_bits(x[i]) & 0x7F800000) == 0x7F800000;
    if (nonfinite) return LOCO_ENONFINITE;

    uint8_t *mask = out, *scales = out + L.mask, *values = scales + 4 * L.scales;
    if (L.mask) select_top_k(x, L.n, L.kept, mask);

    /* One group at a time: the whole tensor, or one row for int8-row.  A
     * pruned group's kept values are written in index order, converted one
     * by one; a dense group goes through the straight loops. */
    const size_t groups = c == LOCO_CODEC_INT8_ROW ? rows : 1, glen = L.n / groups;
    if (!L.mask) {
        /* Dense: group g's values start at g * glen * width, so the groups
         * (the rows of int8-row) are encoded in parallel; a single large
         * group is parallel inside encode_values instead (nested regions
         * run on one thread). */
        #pragma omp parallel for schedule(static) if (groups > 1 && L.n >= LOCO__CODEC_PAR_MIN)
        for (size_t g = 0; g < groups; g++) {
            const float *v = x + g * glen;
            const float s = is_int8(c) ? int8_scale(v, glen) : 0.0f;
            if (is_int8(c)) put_u32(scales + 4 * g, f32_bits(s));
            encode_values(c, v, glen, s, values + g * glen * L.width);
        }
        return LOCO_OK;
    }
    for (size_t g = 0; g < groups; g++) {
        const float *v = x + g * glen;
        float s = 0.0f;
        if (is_int8(c)) {
            float m = 0.0f;
            for (size_t j = 0; j < glen; j++)
                if (mask_bit(mask, g * glen + j)) m = fmaxf(m, fabsf(v[j]));
            s = int8_scale(&m, 1);
            put_u32(scales + 4 * g, f32_bits(s));
        }
        for (size_t j = 0; j < glen; j++) {
            if (!mask_bit(mask, g * glen + j)) continue;
            encode_values(c, v + j, 1, s, values);
            values += L.width;
        }
    }
    return LOCO_OK;
}

/* ---------------------------------------------------------------- decode */

/* Returns LOCO_EINVAL for any input that encode could not have produced in
 * the ways the header lists. */
int loco_codec_decode(loco_codec c, float keep, const uint8_t *in, size_t len, size_t rows,
                      size_t cols, float *out) {
    codec_layout L;
    if (!in || !out || layout_of(c, rows, cols, keep, &L) != LOCO_OK || len != L.total)
        return LOCO_EINVAL;
    const uint8_t *mask = in, *scales = in + L.mask, *values = scales + 4 * L.scales;

    if (L.mask) {
        /* Exactly kept bits, none of them in the padding of the last byte. */
        size_t bits = 0;
        for (size_t b = 0; b < L.mask; b++)
            for (unsigned v = mask[b]; v; v &= v - 1) bits++;
        if (bits != L.kept || mask_count(mask, 0, L.n) != L.kept) return LOCO_EINVAL;
    }
    for (size_t g = 0; g < L.scales; g++)
        if (bad_scale(get_u32(scales + 4 * g))) return LOCO_EINVAL;

    /* The kept values are decoded compactly into out[0 .. kept), one group
     * after the other, and then (if pruned) spread to their places. */
    const size_t groups = c == LOCO_CODEC_INT8_ROW ? rows : 1, glen = L.n / groups;
    size_t at = 0;
    int bad = 0;
    if (!L.mask) {
        /* Dense: group g's values are at g * glen; the groups are decoded in
         * parallel (see encode). */
        #pragma omp parallel for reduction(| : bad) schedule(static) if (groups > 1 && L.n >= LOCO__CODEC_PAR_MIN)
        for (size_t g = 0; g < groups; g++) {
            const float s = L.scales ? f32_from_bits(get_u32(scales + 4 * g)) : 0.0f;
            bad |= decode_values(c, values + g * glen * L.width, glen, s, out + g * glen);
        }
        return bad ? LOCO_EINVAL : LOCO_OK;
    }
    for (size_t g = 0; g < groups; g++) {
        const size_t count = L.mask ? mask_count(mask, g * glen, (g + 1) * glen) : glen;
        const float s = L.scales ? f32_from_bits(get_u32(scales + 4 * g)) : 0.0f;
        bad |= decode_values(c, values + at * L.width, count, s, out + at);
        at += count;
    }
    if (bad) return LOCO_EINVAL;
    if (L.mask) {
        /* In place, from the end: the j-th kept value (j counted from 0)
         * belongs at an index i >= j, so reading out[j] before writing out[i]
         * never reads a slot already overwritten. */
        size_t j = L.kept;
        for (size_t i = L.n; i-- > 0;) out[i] = mask_bit(mask, i) ? out[--j] : 0.0f;
    }
    return LOCO_OK;
}

/* ---------------------------------------------------------------- bounds */

/* Returns LOCO_EINVAL or LOCO_ENONFINITE as documented in the header. */
int loco_codec_error_bound(loco_codec c, const float *x, size_t rows, size_t cols,
                           double *bound) {
    codec_layout L;
    if (!x || !bound || layout_of(c, rows, cols, 1.0f, &L) != LOCO_OK) return LOCO_EINVAL;
    for (size_t i = 0; i < L.n; i++)
        if (!isfinite(x[i])) return LOCO_ENONFINITE;
    const size_t groups = c == LOCO_CODEC_INT8_ROW ? rows : 1, glen = L.n / groups;
    for (size_t g = 0; g < groups; g++) {
        double m = 0.0;
        for (size_t j = 0; j < glen; j++) m = fmax(m, fabs((double)x[g * glen + j]));
        for (size_t j = 0; j < glen; j++) {
            const double a = fabs((double)x[g * glen + j]);
            double b = 0.0;
            switch (c) {
            case LOCO_CODEC_FP32: b = 0.0; break;
            case LOCO_CODEC_FP16:
                b = a <= F16_MAX ? fmax(0x1p-11 * a, 0x1p-25) : a - F16_MAX;
                break;
            case LOCO_CODEC_BF16:
                b = a <= BF16_MAX ? fmax(0x1p-8 * a, 0x1p-134) : a - BF16_MAX;
                break;
            case LOCO_CODEC_INT8_TENSOR:
            case LOCO_CODEC_INT8_ROW: b = m / 254.0 * (1.0 + 0x1p-14) + 0x1p-142; break;
            }
            bound[g * glen + j] = b;
        }
    }
    return LOCO_OK;
}
