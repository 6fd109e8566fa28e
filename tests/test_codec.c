/*
 * Tests of the pseudo-gradient codecs (src/algo/codec.c): names, exact byte
 * counts, round trips within the documented error bounds (and near them, so
 * the bounds are not vacuous), the half-precision rounding at every rounding
 * boundary, top-k pruning against a brute-force selection, and the decoder's
 * refusal of malformed input, and the same bytes for any thread count.
 */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "loco/codec.h"
#include "loco/loco.h"
#include "test.h"

static const loco_codec all_codecs[] = {LOCO_CODEC_FP32, LOCO_CODEC_FP16, LOCO_CODEC_BF16,
                                        LOCO_CODEC_INT8_TENSOR, LOCO_CODEC_INT8_ROW};
#define N_CODECS 5

static uint32_t bits_of(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

LOCO_TEST(codec_names) {
    for (int k = 0; k < N_CODECS; k++) {
        loco_codec c = (loco_codec)-1;
        const char *name = loco_codec_name(all_codecs[k]);
        CHECK(loco_codec_parse(name, &c) == LOCO_OK && c == all_codecs[k], "%s does not round-trip",
              name);
    }
    loco_codec c = LOCO_CODEC_FP32;
    CHECK(loco_codec_parse("int8", &c) == LOCO_OK && c == LOCO_CODEC_INT8_ROW, "int8 is not int8-row");
    const char *bad[] = {"", "FP16", "int8_row", "int4", "fp32 ", "bf16x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = LOCO_CODEC_FP16;
        CHECK(loco_codec_parse(bad[i], &c) == LOCO_EINVAL && c == LOCO_CODEC_FP16,
              "\"%s\" accepted or *out touched", bad[i]);
    }
    CHECK(loco_codec_parse(NULL, &c) == LOCO_EINVAL, "NULL name accepted");
    CHECK(strcmp(loco_codec_name((loco_codec)17), "unknown") == 0, "name of a bad codec");
}

LOCO_TEST(codec_bytes) {
    /* Dense 3 x 5: 15 values, plus scales for int8. */
    CHECK(loco_codec_bytes(LOCO_CODEC_FP32, 3, 5, 1.0f) == 60, "fp32 3x5");
    CHECK(loco_codec_bytes(LOCO_CODEC_FP16, 3, 5, 1.0f) == 30, "fp16 3x5");
    CHECK(loco_codec_bytes(LOCO_CODEC_BF16, 3, 5, 1.0f) == 30, "bf16 3x5");
    CHECK(loco_codec_bytes(LOCO_CODEC_INT8_TENSOR, 3, 5, 1.0f) == 4 + 15, "int8-tensor 3x5");
    CHECK(loco_codec_bytes(LOCO_CODEC_INT8_ROW, 3, 5, 1.0f) == 3 * 4 + 15, "int8-row 3x5");
    /* Pruned 3 x 5 to half: llround(7.5) = 8 values and a 2-byte mask. */
    CHECK(loco_codec_kept(15, 0.5f) == 8, "kept(15, 0.5) = %zu", loco_codec_kept(15, 0.5f));
    CHECK(loco_codec_bytes(LOCO_CODEC_FP32, 3, 5, 0.5f) == 2 + 32, "fp32 3x5 keep 0.5");
    CHECK(loco_codec_bytes(LOCO_CODEC_INT8_ROW, 3, 5, 0.5f) == 2 + 12 + 8, "int8-row 3x5 keep .5");
    CHECK(loco_codec_bytes(LOCO_CODEC_INT8_TENSOR, 1, 16, 0.25f) == 2 + 4 + 4, "int8-t 16 k .25");
    /* kept(): at least one, at most n, n for keep >= 1, 0 for nonsense. */
    CHECK(loco_codec_kept(1000, 1e-6f) == 1, "kept(1000, 1e-6)");
    CHECK(loco_codec_kept(1000, 0.001f) == 1, "kept(1000, 0.001)");
    CHECK(loco_codec_kept(1000, 0.9999f) == 1000, "kept(1000, 0.9999)");
    CHECK(loco_codec_kept(1000, 1.0f) == 1000 && loco_codec_kept(1000, 3.0f) == 1000, "kept >= 1");
    CHECK(loco_codec_kept(1000, 0.0f) == 0 && loco_codec_kept(1000, NAN) == 0
          && loco_codec_kept(0, 0.5f) == 0, "kept of nonsense");
    /* Invalid arguments give 0 bytes. */
    CHECK(loco_codec_bytes(LOCO_CODEC_FP32, 0, 5, 1.0f) == 0, "rows 0");
    CHECK(loco_codec_bytes(LOCO_CODEC_FP32, 5, 0, 1.0f) == 0, "cols 0");
    CHECK(loco_codec_bytes(LOCO_CODEC_FP32, 5, 5, 0.0f) == 0, "keep 0");
    CHECK(loco_codec_bytes(LOCO_CODEC_FP32, 5, 5, 1.5f) == 0, "keep 1.5");
    CHECK(loco_codec_bytes(LOCO_CODEC_FP32, 5, 5, NAN) == 0, "keep NaN");
    CHECK(loco_codec_bytes((loco_codec)9, 5, 5, 1.0f) == 0, "bad codec");
    CHECK(loco_codec_bytes(LOCO_CODEC_FP32, SIZE_MAX / 2, 4, 1.0f) == 0, "overflowing size");
    /* The compression ratio of int8-tensor over fp32 is exactly 4n/(n+4). */
    const size_t ns[] = {1, 4, 1000, 124439808};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        size_t n = ns[i];
        size_t b32 = loco_codec_bytes(LOCO_CODEC_FP32, 1, n, 1.0f);
        size_t b8 = loco_codec_bytes(LOCO_CODEC_INT8_TENSOR, 1, n, 1.0f);
        CHECK(b32 == 4 * n && b8 == n + 4 && b32 * (n + 4) == 4 * n * b8,
              "n %zu: fp32 %zu bytes, int8-tensor %zu", n, b32, b8);
    }
}

/* Fills x (rows x cols) with N(0, 1) * mag, about one value in ten exactly
 * zero (half of those -0); with mag < 0 each row gets its own magnitude
 * 10^(-6 .. 2), so that int8-row and int8-tensor differ. */
static void fill(float *x, size_t rows, size_t cols, float mag, loco_rng *rng) {
    for (size_t r = 0; r < rows; r++) {
        float m = mag > 0 ? mag : powf(10.0f, -6.0f + 8.0f * (float)r / (float)(rows - 1));
        for (size_t j = 0; j < cols; j++) {
            float u = loco_rng_uniform(rng);
            x[r * cols + j] = u < 0.05f ? 0.0f : u < 0.1f ? -0.0f : loco_rng_normal(rng) * m;
        }
    }
}

LOCO_TEST(codec_round_trip) {
    const size_t rows = 7, cols = 129, n = rows * cols;
    /* 1e-6 and 1e-7 are in fp16's subnormal range (below 6.1e-5). */
    const float mags[] = {1e-7f, 1e-6f, 1e-4f, 1e-2f, 1.0f, 1e2f, -1.0f};
    const size_t n_mags = sizeof mags / sizeof mags[0];
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    double *bound = malloc(n * sizeof(double));
    uint8_t *buf = malloc(4 * n + 64);
    if (!x || !y || !bound || !buf) { FAIL("out of memory"); goto done; }
    loco_rng rng;
    loco_rng_seed(&rng, 42);
    for (int k = 0; k < N_CODECS; k++) {
        const loco_codec c = all_codecs[k];
        double worst = 0.0, worst_abs = 0.0;   /* max err/bound, and max err at that */
        int over = 0;
        for (size_t t = 0; t < n_mags; t++) {
            fill(x, rows, cols, mags[t], &rng);
            size_t len = loco_codec_bytes(c, rows, cols, 1.0f);
            int e1 = loco_codec_encode(c, 1.0f, x, rows, cols, buf, NULL);
            int e2 = loco_codec_decode(c, 1.0f, buf, len, rows, cols, y);
            int e3 = loco_codec_error_bound(c, x, rows, cols, bound);
            if (e1 || e2 || e3) {
                FAIL("%s mag %g: encode %d, decode %d, bound %d", loco_codec_name(c), mags[t],
                     e1, e2, e3);
                continue;
            }
            for (size_t i = 0; i < n; i++) {
                double err = fabs((double)x[i] - (double)y[i]);
                if (err > bound[i]) {
                    if (over++ < 5)
                        FAIL("%s: x %.9g decoded %.9g, error %.3g > bound %.3g",
                             loco_codec_name(c), x[i], y[i], err, bound[i]);
                } else if (bound[i] > 0 && err / bound[i] > worst) {
                    worst = err / bound[i];
                    worst_abs = err;
                }
            }
            if (c == LOCO_CODEC_FP32)
                CHECK(memcmp(x, y, n * sizeof(float)) == 0, "fp32 round trip not bitwise");
        }
        /* The bound must also be nearly reached: random data comes within a
         * factor of 1/4 of it (in practice within a few percent), so a bound
         * that is loose by more than 4x would fail here. */
        if (c != LOCO_CODEC_FP32)
            CHECK(worst > 0.25, "%s: worst error only %.3g of the bound", loco_codec_name(c), worst);
        fprintf(stderr, "  %-11s worst error %.4f of the bound (%.3g absolute)\n",
                loco_codec_name(c), worst, worst_abs);
    }
done:
    free(x); free(y); free(bound); free(buf);
}

/* Encodes n floats as one row with codec c (fp16 or bf16) and returns the
 * i-th 16-bit pattern via codes[]. */
static int encode_halves(loco_codec c, const float *x, size_t n, uint8_t *buf, uint16_t *codes) {
    int err = loco_codec_encode(c, 1.0f, x, 1, n, buf, NULL);
    for (size_t i = 0; i < n; i++) codes[i] = le16(buf + 2 * i);
    return err;
}

LOCO_TEST(codec_half_rounding) {
    /* For every pair of adjacent positive finite 16-bit values h, h+1 (for
     * fp16 through the subnormals into the normals; for bf16 likewise), the
     * float exactly half-way between them must go to the even one, and the
     * floats one ulp either side of the midpoint to the nearer one.  This
     * covers every rounding boundary of both conversions.  Every finite
     * pattern, negative ones included, must also decode and re-encode to
     * itself. */
    const size_t n = 0x7F80;
    float *mid = malloc(3 * n * sizeof(float)), *back = malloc(n * sizeof(float));
    uint8_t *buf = malloc(6 * n);
    uint16_t *codes = malloc(3 * n * sizeof(uint16_t));
    if (!mid || !back || !buf || !codes) { FAIL("out of memory"); goto done; }
    for (int which = 0; which < 2; which++) {
        const loco_codec c = which ? LOCO_CODEC_BF16 : LOCO_CODEC_FP16;
        const uint16_t top = which ? 0x7F7F : 0x7BFF;   /* the largest finite pattern */
        /* Decode every pattern 0 .. top, then take midpoints between them. */
        uint8_t *pat = buf;
        size_t m = (size_t)top + 1;
        for (size_t h = 0; h < m; h++) { pat[2 * h] = (uint8_t)h; pat[2 * h + 1] = (uint8_t)(h >> 8); }
        if (loco_codec_decode(c, 1.0f, pat, 2 * m, 1, m, back) != LOCO_OK) {
            FAIL("%s: decoding all finite patterns failed", loco_codec_name(c));
            continue;
        }
        size_t bad_mid = 0, bad_side = 0;
        for (size_t h = 0; h + 1 < m; h++) {
            /* Two adjacent 16-bit values differ in at most 12 significant
             * bits' worth, so the midpoint is exact in binary32. */
            float a = back[h], b = back[h + 1], md = (float)(((double)a + (double)b) / 2);
            mid[3 * h] = md;
            mid[3 * h + 1] = nextafterf(md, 0.0f);
            mid[3 * h + 2] = nextafterf(md, INFINITY);
        }
        if (encode_halves(c, mid, 3 * (m - 1), buf, codes) != LOCO_OK) {
            FAIL("%s: encoding the midpoints failed", loco_codec_name(c));
            continue;
        }
        for (size_t h = 0; h + 1 < m; h++) {
            uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
            if (codes[3 * h] != even && bad_mid++ < 3)
                FAIL("%s: midpoint %.9g of %#zx and %#zx gave %#x", loco_codec_name(c),
                     mid[3 * h], h, h + 1, codes[3 * h]);
            if ((codes[3 * h + 1] != h || codes[3 * h + 2] != h + 1) && bad_side++ < 3)
                FAIL("%s: neighbours of midpoint %#zx|%#zx gave %#x, %#x", loco_codec_name(c), h,
                     h + 1, codes[3 * h + 1], codes[3 * h + 2]);
        }
        /* Round trips of every finite pattern, both signs. */
        size_t bad_rt = 0;
        for (int neg = 0; neg < 2; neg++) {
            for (size_t h = 0; h < m; h++) {
                uint16_t p = (uint16_t)(h | (neg ? 0x8000u : 0u));
                pat[2 * h] = (uint8_t)p;
                pat[2 * h + 1] = (uint8_t)(p >> 8);
            }
            if (loco_codec_decode(c, 1.0f, pat, 2 * m, 1, m, back) != LOCO_OK
                || encode_halves(c, back, m, buf + 2 * m, codes) != LOCO_OK) {
                FAIL("%s: pattern round trip failed", loco_codec_name(c));
                break;
            }
            for (size_t h = 0; h < m; h++)
                bad_rt += codes[h] != (uint16_t)(h | (neg ? 0x8000u : 0u));
        }
        CHECK(bad_rt == 0, "%s: %zu finite patterns do not survive decode + encode",
              loco_codec_name(c), bad_rt);
    }

    /* Saturation instead of Inf, and known values. */
    const float big[] = {65504.0f, 65505.0f, 65519.99f, 65520.0f, 1e5f, FLT_MAX, -1e9f,
                         0x1p-24f, 0x1p-25f, 0x1.000002p-25f, 0x1.8p-24f, 1.0f, -2.0f, 0.1f};
    const uint16_t f16_want[] = {0x7BFF, 0x7BFF, 0x7BFF, 0x7BFF, 0x7BFF, 0x7BFF, 0xFBFF,
                                 0x0001, 0x0000, 0x0001, 0x0002, 0x3C00, 0xC000, 0x2E66};
    const size_t nb = sizeof big / sizeof big[0];
    uint16_t got[sizeof big / sizeof big[0]];
    uint8_t small[64];
    if (encode_halves(LOCO_CODEC_FP16, big, nb, small, got) == LOCO_OK) {
        for (size_t i = 0; i < nb; i++)
            CHECK(got[i] == f16_want[i], "fp16(%.9g) = %#x, want %#x", big[i], got[i], f16_want[i]);
    } else {
        FAIL("fp16 encode of large values failed");
    }
    const float bbig[] = {FLT_MAX, -FLT_MAX, 0x1.fep127f, 0x1.fefffep127f, 1.0f, 0x1.01p0f,
                          0x1.03p0f, 0x1p-149f, 0x1.ff8p-127f};
    const uint16_t bf16_want[] = {0x7F7F, 0xFF7F, 0x7F7F, 0x7F7F, 0x3F80, 0x3F80, 0x3F82,
                                  0x0000, 0x0080};
    const size_t nbb = sizeof bbig / sizeof bbig[0];
    if (encode_halves(LOCO_CODEC_BF16, bbig, nbb, small, got) == LOCO_OK) {
        for (size_t i = 0; i < nbb; i++)
            CHECK(got[i] == bf16_want[i], "bf16(%a) = %#x, want %#x", bbig[i], got[i],
                  bf16_want[i]);
    } else {
        FAIL("bf16 encode of large values failed");
    }
done:
    free(mid); free(back); free(buf); free(codes);
}

/* The brute-force selection: indices sorted by |x| descending, then index. */
static const float *sort_x;
static int by_magnitude(const void *pa, const void *pb) {
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    float ma = fabsf(sort_x[a]), mb = fabsf(sort_x[b]);
    if (ma != mb) return ma > mb ? -1 : 1;
    return a < b ? -1 : a > b;
}

LOCO_TEST(codec_pruning) {
    const size_t rows = 9, cols = 37, n = rows * cols;
    const float keeps[] = {0.001f, 0.05f, 0.1f, 0.3333f, 0.5f, 0.9f, 0.999f};
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    size_t *idx = malloc(n * sizeof(size_t));
    uint8_t *buf = malloc(5 * n + 64), *want = malloc(n);
    if (!x || !y || !idx || !buf || !want) { FAIL("out of memory"); goto done; }
    loco_rng rng;
    loco_rng_seed(&rng, 5);
    for (int trial = 0; trial < 3; trial++) {
        /* Trial 0: few distinct magnitudes, so ties are everywhere (+0 and -0
         * included); 1: continuous values; 2: all equal magnitude. */
        for (size_t i = 0; i < n; i++) {
            float u = loco_rng_uniform(&rng), s = loco_rng_uniform(&rng) < 0.5f ? -1.0f : 1.0f;
            x[i] = trial == 0 ? s * (float)(int)(u * 4.0f)
                 : trial == 1 ? loco_rng_normal(&rng) * 1e-3f : s * 0.5f;
        }
        for (size_t kk = 0; kk < sizeof keeps / sizeof keeps[0]; kk++) {
            const float keep = keeps[kk];
            const size_t k = loco_codec_kept(n, keep);
            for (size_t i = 0; i < n; i++) idx[i] = i;
            sort_x = x;
            qsort(idx, n, sizeof idx[0], by_magnitude);
            memset(want, 0, n);
            for (size_t j = 0; j < k; j++) want[idx[j]] = 1;
            for (int ci = 0; ci < N_CODECS; ci++) {
                const loco_codec c = all_codecs[ci];
                size_t len = loco_codec_bytes(c, rows, cols, keep);
                if (loco_codec_encode(c, keep, x, rows, cols, buf, NULL) != LOCO_OK
                    || loco_codec_decode(c, keep, buf, len, rows, cols, y) != LOCO_OK) {
                    FAIL("trial %d keep %g %s: encode or decode failed", trial, keep,
                         loco_codec_name(c));
                    continue;
                }
                size_t wrong = 0, set = 0;
                for (size_t i = 0; i < n; i++) {
                    int bit = (buf[i >> 3] >> (i & 7)) & 1;
                    set += (size_t)bit;
                    wrong += bit != want[i];
                    /* Dropped entries decode to exactly +0. */
                    if (!bit) wrong += bits_of(y[i]) != 0;
                    /* fp32 keeps the kept values exactly. */
                    if (bit && c == LOCO_CODEC_FP32) wrong += bits_of(y[i]) != bits_of(x[i]);
                }
                CHECK(set == k && wrong == 0,
                      "trial %d keep %g %s: %zu of %zu bits set, %zu entries wrong", trial, keep,
                      loco_codec_name(c), set, k, wrong);
                if (c != LOCO_CODEC_INT8_ROW) continue;
                /* int8-row with pruning: each row's scale is max|x|/127 over
                 * its kept values, 0 for a row that keeps none. */
                const uint8_t *scales = buf + (n + 7) / 8;
                for (size_t r = 0; r < rows; r++) {
                    float m = 0.0f;
                    for (size_t j = 0; j < cols; j++)
                        if (want[r * cols + j]) m = fmaxf(m, fabsf(x[r * cols + j]));
                    float s = from_bits(le32(scales + 4 * r));
                    CHECK(s == m / 127.0f, "trial %d keep %g row %zu: scale %g, want %g", trial,
                          keep, r, s, m / 127.0f);
                }
            }
        }
    }
done:
    free(x); free(y); free(idx); free(buf); free(want);
}

LOCO_TEST(codec_int8_edges) {
    /* All zeros: scale 0, codes 0, decoded zeros. */
    float x[12] = {0}, y[12];
    uint8_t buf[64];
    for (int ci = 3; ci < 5; ci++) {
        loco_codec c = all_codecs[ci];
        size_t len = loco_codec_bytes(c, 3, 4, 1.0f);
        memset(buf, 0xAA, sizeof buf);
        int ok = loco_codec_encode(c, 1.0f, x, 3, 4, buf, NULL) == LOCO_OK
              && loco_codec_decode(c, 1.0f, buf, len, 3, 4, y) == LOCO_OK;
        size_t nz = 0;
        for (size_t b = 0; b < len; b++) nz += buf[b] != 0;
        for (int i = 0; i < 12; i++) nz += y[i] != 0.0f;
        CHECK(ok && nz == 0, "%s of zeros: ok %d, %zu nonzero bytes or values", loco_codec_name(c),
              ok, nz);
    }
    /* Extremes: values at FLT_MAX (127*scale must not overflow), and values
     * so small that the scale is subnormal or underflows to 0. */
    const float tops[] = {FLT_MAX, 3e38f, 1e-38f, 1e-43f, 0x1p-149f};
    double bound[12];
    for (size_t t = 0; t < sizeof tops / sizeof tops[0]; t++) {
        for (int i = 0; i < 12; i++) x[i] = tops[t] / 7.0f * (float)(i - 5);
        x[3] = tops[t];
        x[7] = -tops[t];
        for (int ci = 0; ci < N_CODECS; ci++) {
            loco_codec c = all_codecs[ci];
            size_t len = loco_codec_bytes(c, 3, 4, 1.0f);
            int e1 = loco_codec_encode(c, 1.0f, x, 3, 4, buf, NULL);
            int e2 = loco_codec_decode(c, 1.0f, buf, len, 3, 4, y);
            int e3 = loco_codec_error_bound(c, x, 3, 4, bound);
            CHECK(!e1 && !e2 && !e3, "%s at %g: encode %d, decode %d, bound %d",
                  loco_codec_name(c), tops[t], e1, e2, e3);
            for (int i = 0; i < 12 && !e1 && !e2 && !e3; i++)
                CHECK(isfinite(y[i]) && fabs((double)x[i] - (double)y[i]) <= bound[i],
                      "%s: %g decoded %g, bound %g", loco_codec_name(c), x[i], y[i], bound[i]);
        }
    }
}

LOCO_TEST(codec_rejects) {
    enum { R = 4, C = 6, N = R * C };
    float x[N], y[N];
    uint8_t buf[256], bad[256];
    loco_rng rng;
    loco_rng_seed(&rng, 3);
    for (int i = 0; i < N; i++) x[i] = loco_rng_normal(&rng);

    /* Encode: NaN and Inf anywhere, bad keep, sizes, codec, NULLs. */
    for (int ci = 0; ci < N_CODECS; ci++) {
        loco_codec c = all_codecs[ci];
        const float nonfinite[] = {NAN, INFINITY, -INFINITY};
        for (int v = 0; v < 3; v++) {
            float z[N];
            memcpy(z, x, sizeof z);
            z[(7 * v + 5) % N] = nonfinite[v];
            CHECK(loco_codec_encode(c, 1.0f, z, R, C, buf, NULL) == LOCO_ENONFINITE
                  && loco_codec_encode(c, 0.5f, z, R, C, buf, NULL) == LOCO_ENONFINITE,
                  "%s: %g accepted", loco_codec_name(c), nonfinite[v]);
        }
        CHECK(loco_codec_encode(c, 0.0f, x, R, C, buf, NULL) == LOCO_EINVAL
              && loco_codec_encode(c, -0.5f, x, R, C, buf, NULL) == LOCO_EINVAL
              && loco_codec_encode(c, 1.01f, x, R, C, buf, NULL) == LOCO_EINVAL
              && loco_codec_encode(c, NAN, x, R, C, buf, NULL) == LOCO_EINVAL
              && loco_codec_encode(c, 1.0f, x, 0, C, buf, NULL) == LOCO_EINVAL
              && loco_codec_encode(c, 1.0f, NULL, R, C, buf, NULL) == LOCO_EINVAL
              && loco_codec_encode(c, 1.0f, x, R, C, NULL, NULL) == LOCO_EINVAL,
              "%s: bad encode arguments accepted", loco_codec_name(c));
    }
    CHECK(loco_codec_encode((loco_codec)5, 1.0f, x, R, C, buf, NULL) == LOCO_EINVAL,
          "bad codec accepted");

    /* Decode: every codec, dense and pruned. */
    const float keeps[] = {1.0f, 0.5f};
    for (int ci = 0; ci < N_CODECS; ci++) {
        for (int kk = 0; kk < 2; kk++) {
            const loco_codec c = all_codecs[ci];
            const float keep = keeps[kk];
            const char *name = loco_codec_name(c);
            const size_t len = loco_codec_bytes(c, R, C, keep);
            const size_t mask = keep < 1.0f ? (N + 7) / 8 : 0;
            const size_t nscales = c == LOCO_CODEC_INT8_ROW ? R : c == LOCO_CODEC_INT8_TENSOR;
            const size_t vals = mask + 4 * nscales;
            if (loco_codec_encode(c, keep, x, R, C, buf, NULL) != LOCO_OK
                || loco_codec_decode(c, keep, buf, len, R, C, y) != LOCO_OK) {
                FAIL("%s keep %g: the valid encoding does not round-trip", name, keep);
                continue;
            }
            /* Lengths one short and one long, and other shapes or keeps. */
            CHECK(loco_codec_decode(c, keep, buf, len - 1, R, C, y) == LOCO_EINVAL
                  && loco_codec_decode(c, keep, buf, len + 1, R, C, y) == LOCO_EINVAL
                  && loco_codec_decode(c, keep, buf, 0, R, C, y) == LOCO_EINVAL,
                  "%s keep %g: wrong length accepted", name, keep);
            CHECK(loco_codec_decode(c, keep, buf, len, R, 0, y) == LOCO_EINVAL
                  && loco_codec_decode(c, 0.0f, buf, len, R, C, y) == LOCO_EINVAL
                  && loco_codec_decode(c, NAN, buf, len, R, C, y) == LOCO_EINVAL
                  && loco_codec_decode(c, keep, NULL, len, R, C, y) == LOCO_EINVAL
                  && loco_codec_decode((loco_codec)-1, keep, buf, len, R, C, y) == LOCO_EINVAL,
                  "%s keep %g: bad arguments accepted", name, keep);
            if (mask) {
                /* One bit too many, one too few, and a set padding bit (N =
                 * 24 has none, so a 5 x 5 tensor for that one). */
                memcpy(bad, buf, len);
                int first_clear = 0;
                while ((bad[first_clear >> 3] >> (first_clear & 7)) & 1) first_clear++;
                bad[first_clear >> 3] |= (uint8_t)(1u << (first_clear & 7));
                CHECK(loco_codec_decode(c, keep, bad, len, R, C, y) == LOCO_EINVAL,
                      "%s: a mask with an extra bit accepted", name);
                memcpy(bad, buf, len);
                for (int b = 0; b < N; b++)
                    if ((bad[b >> 3] >> (b & 7)) & 1) { bad[b >> 3] &= (uint8_t)~(1u << (b & 7)); break; }
                CHECK(loco_codec_decode(c, keep, bad, len, R, C, y) == LOCO_EINVAL,
                      "%s: a mask with a missing bit accepted", name);
                float z[25];
                for (int i = 0; i < 25; i++) z[i] = (float)(i + 1);
                size_t len5 = loco_codec_bytes(c, 5, 5, keep);
                if (loco_codec_encode(c, keep, z, 5, 5, bad, NULL) == LOCO_OK) {
                    /* Clear one real bit, set padding bit 25: popcount kept. */
                    for (int b = 0; b < 25; b++)
                        if ((bad[b >> 3] >> (b & 7)) & 1) { bad[b >> 3] &= (uint8_t)~(1u << (b & 7)); break; }
                    bad[25 >> 3] |= (uint8_t)(1u << (25 & 7));
                    CHECK(loco_codec_decode(c, keep, bad, len5, 5, 5, y) == LOCO_EINVAL,
                          "%s: a set padding bit accepted", name);
                }
            }
            if (nscales) {
                const float bad_scales[] = {NAN, INFINITY, -1.0f, -0.0f};
                for (int s = 0; s < 4; s++) {
                    memcpy(bad, buf, len);
                    uint32_t u = bits_of(bad_scales[s]);
                    size_t at = mask + 4 * (nscales - 1);
                    for (int b = 0; b < 4; b++) bad[at + b] = (uint8_t)(u >> (8 * b));
                    CHECK(loco_codec_decode(c, keep, bad, len, R, C, y) == LOCO_EINVAL,
                          "%s keep %g: scale %g accepted", name, keep, bad_scales[s]);
                }
                /* Scales so large that 127 * scale overflows. */
                memcpy(bad, buf, len);
                for (size_t g = 0; g < nscales; g++)
                    for (int b = 0; b < 4; b++)
                        bad[mask + 4 * g + b] = (uint8_t)(bits_of(FLT_MAX) >> (8 * b));
                for (size_t v = vals; v < len; v++) bad[v] = 127;
                CHECK(loco_codec_decode(c, keep, bad, len, R, C, y) == LOCO_EINVAL,
                      "%s keep %g: overflowing q*scale accepted", name, keep);
                memcpy(bad, buf, len);
                bad[len - 1] = 0x80;
                CHECK(loco_codec_decode(c, keep, bad, len, R, C, y) == LOCO_EINVAL,
                      "%s keep %g: code -128 accepted", name, keep);
            } else {
                /* A non-finite value pattern in the last value. */
                memcpy(bad, buf, len);
                if (c == LOCO_CODEC_FP32) {
                    bad[len - 2] |= 0x80; bad[len - 1] |= 0x7F;   /* exponent all ones */
                } else if (c == LOCO_CODEC_FP16) {
                    bad[len - 1] |= 0x7C;
                } else {
                    bad[len - 2] |= 0x80; bad[len - 1] |= 0x7F;
                }
                CHECK(loco_codec_decode(c, keep, bad, len, R, C, y) == LOCO_EINVAL,
                      "%s keep %g: a non-finite value accepted", name, keep);
            }
        }
    }
}

LOCO_TEST(codec_same_bytes_for_any_thread_count) {
    /* Large enough for the parallel paths: a 300 x 300 tensor (parallel
     * over rows for int8-row) and a single 1 x 200000 row (parallel inside
     * the row), dense and pruned. */
    const size_t shapes[2][2] = {{300, 300}, {1, 200000}};
    const float keeps[2] = {1.0f, 0.3f};
    const int threads = omp_get_max_threads();
    loco_rng rng;
    loco_rng_seed(&rng, 7);
    for (int s = 0; s < 2; s++) {
        const size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
        float *x = malloc(n * sizeof(float)), *d1 = malloc(n * sizeof(float)), *d2 = malloc(n * sizeof(float));
        const size_t cap = loco_codec_bytes(LOCO_CODEC_FP32, rows, cols, 1.0f);
        uint8_t *b1 = malloc(cap), *b2 = malloc(cap);
        CHECK(x && d1 && d2 && b1 && b2, "out of memory");
        if (x && d1 && d2 && b1 && b2) {
            fill(x, rows, cols, s ? 3.0f : 0.0f, &rng);
            for (int c = 0; c < N_CODECS; c++)
                for (int kk = 0; kk < 2; kk++) {
                    const loco_codec cd = all_codecs[c];
                    const size_t len = loco_codec_bytes(cd, rows, cols, keeps[kk]);
                    omp_set_num_threads(1);
                    int e1 = loco_codec_encode(cd, keeps[kk], x, rows, cols, b1, NULL);
                    e1 |= loco_codec_decode(cd, keeps[kk], b1, len, rows, cols, d1);
                    omp_set_num_threads(2);
                    int e2 = loco_codec_encode(cd, keeps[kk], x, rows, cols, b2, NULL);
                    e2 |= loco_codec_decode(cd, keeps[kk], b1, len, rows, cols, d2);
                    CHECK(e1 == LOCO_OK && e2 == LOCO_OK, "%s keep %g: %d %d", loco_codec_name(cd), keeps[kk], e1, e2);
                    CHECK(memcmp(b1, b2, len) == 0, "%s keep %g %zux%zu: bytes differ with 1 and 2 threads",
                          loco_codec_name(cd), keeps[kk], rows, cols);
                    CHECK(memcmp(d1, d2, n * sizeof(float)) == 0, "%s keep %g %zux%zu: decoded values differ",
                          loco_codec_name(cd), keeps[kk], rows, cols);
                }
            /* A bad value in the second half, where another thread works,
             * is still found. */
            x[n - 5] = NAN;
            CHECK(loco_codec_encode(LOCO_CODEC_FP32, 1.0f, x, rows, cols, b1, NULL) == LOCO_ENONFINITE, "NaN missed");
            x[n - 5] = 0.0f;
            loco_codec_encode(LOCO_CODEC_INT8_ROW, 1.0f, x, rows, cols, b1, NULL);
            const size_t len = loco_codec_bytes(LOCO_CODEC_INT8_ROW, rows, cols, 1.0f);
            b1[len - 3] = 0x80;
            CHECK(loco_codec_decode(LOCO_CODEC_INT8_ROW, 1.0f, b1, len, rows, cols, d1) == LOCO_EINVAL,
                  "a -128 code in the last row was accepted");
        }
        omp_set_num_threads(threads);
        free(x);
        free(d1);
        free(d2);
        free(b1);
        free(b2);
    }
}
