/*
 * xoshiro256** seeded through splitmix64, as recommended by its authors: the
 * splitmix64 stream decorrelates nearby seeds (0, 1, 2, ...) before they reach
 * the xoshiro state, which must not be all zero.
 */
#include <math.h>
#include "loco/loco.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void loco_rng_seed(loco_rng *rng, uint64_t seed) {
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t loco_rng_u64(loco_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* The top 24 bits give every float in [0, 1) on a grid of 2^-24. */
float loco_rng_uniform(loco_rng *rng) {
    return (float)(loco_rng_u64(rng) >> 40) * (1.0f / 16777216.0f);
}

/* Box-Muller on (0, 1] x [0, 1): one normal per call, the pair's sine half is
 * discarded so that the stream position depends only on the number of calls. */
float loco_rng_normal(loco_rng *rng) {
    double u1 = 1.0 - (double)(loco_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
    double u2 = (double)(loco_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}
