/*
 * DiLoCo's outer optimizer: Nesterov momentum, heavy-ball SGD and Adam over
 * the pseudo-gradient delta = theta - target (see include/loco/outer.h).
 *
 * The exact form.  torch's SGD step is theta_new = theta - lr*g, with
 * g = delta + mu*b for Nesterov and g = b for heavy ball, b = mu*b_old + delta.
 * Evaluated that way in float it does not return target when lr = 1 and
 * mu = 0, although then g = delta and theta - delta = target in exact
 * arithmetic: delta = fl(theta - target) is rounded whenever theta and target
 * differ in sign or in magnitude, and theta - delta then misses target by that
 * rounding.  For instance theta = 1, target = -2^-30: delta = fl(1 + 2^-30) = 1
 * and theta - delta = 0, not -2^-30.
 *
 * So we write the step around target instead of around theta.  Since
 * theta = target + delta,
 *     theta_new = theta - lr*g = target + delta - lr*g = target - (lr*g - delta),
 * and we evaluate u = lr*g - delta and theta_new = target - u.  In exact
 * arithmetic this is the same step (for Nesterov, u = lr*mu*b - (1 - lr)*delta,
 * the form DiLoCo papers write).  In float, when lr = 1 and mu = 0 every
 * rounded quantity is exact:
 *   - b = 0*b_old + delta is delta itself (0*b_old is a zero, and adding a
 *     zero to a nonzero float is exact; for delta = +0 the sum is +0);
 *   - g = delta + 0*b (Nesterov) or g = b (SGD) is then delta, and 1*g = g;
 *   - u = g - delta = delta - delta = +0 (x - x is +0 under round to nearest,
 *     and when delta is a zero, g is +0 or the same zero, so u is still +0);
 *   - target - (+0) = target for every float, -0 included.
 * Hence theta_new == target bit for bit, whatever theta, target and the old
 * state were.  (Writing target + ((1 - lr)*delta - lr*mu*b) instead is exact
 * too except for the sign of zero: a -0 target plus a +0 correction gives
 * +0.)  All of this holds as well when the multiply-adds are fused (below),
 * since every product involved is then exact (a zero, or g times 1).
 *
 * For other lr and mu the form costs at most one rounding more than torch's:
 * u = fl(lr*g - delta) (one fused rounding) and target - u (another), where
 * torch rounds theta - lr*g once; each is half an ulp of a number of the
 * parameters' scale.  tests/test_outer.c measures both against float64: for
 * Nesterov they are equally far from it, for heavy ball about one ulp of the
 * scale further.
 *
 * Adam is torch's Adam, which is AdamW with weight decay 0 (torch 1.13 runs
 * the same operations, and AdamW's decay factor is then exactly 1), so it
 * reuses loco_adamw_update on delta, computed a block at a time.
 */
#include <limits.h>
#include <math.h>
#include <string.h>
#include "loco/outer.h"

/* Where the target has a hardware FMA, torch's AVX2 kernels fuse the two
 * multiply-adds that involve a learning rate or a momentum times a tensor
 * (add(buf, alpha=mu) and add_(d_p, alpha=-lr)); fusing ours in the same
 * places removes a rounding from each, and keeps the exact identity above,
 * since with lr = 1 and mu = 0 both products are exact anyway. */
#if defined(FP_FAST_FMAF)
#define LOCO__FMA(a, b, c) fmaf((a), (b), (c))
#else
#define LOCO__FMA(a, b, c) ((a) * (b) + (c))
#endif

/* Below this size a parallel region costs more than it saves; the results do
 * not depend on whether it is taken, since every element is independent. */
#define LOCO__OUTER_PAR_MIN 32768

/* Adam computes delta into a stack buffer of this many floats at a time. */
#define LOCO__OUTER_BLOCK 2048

/* Fills c with DiLoCo's defaults; does nothing if c is NULL. */
void loco_outer_config_default(loco_outer_config *c) {
    if (!c) return;
    c->kind = LOCO_OUTER_NESTEROV;
    c->lr = 0.7f;
    c->momentum = 0.9f;
    c->beta2 = 0.999f;
    c->eps = 1e-8f;
}

static const char *const outer_names[] = {"nesterov", "sgd", "adam"};
#define LOCO__OUTER_KINDS ((int)(sizeof outer_names / sizeof outer_names[0]))

/* Returns LOCO_EINVAL for an unknown name or a NULL argument. */
int loco_outer_parse(const char *name, loco_outer_kind *out) {
    if (!name || !out) return LOCO_EINVAL;
    for (int k = 0; k < LOCO__OUTER_KINDS; k++)
        if (strcmp(name, outer_names[k]) == 0) {
            *out = (loco_outer_kind)k;
            return LOCO_OK;
        }
    return LOCO_EINVAL;
}

/* Returns "unknown" for a value outside the enum. */
const char *loco_outer_name(loco_outer_kind k) {
    return (int)k >= 0 && (int)k < LOCO__OUTER_KINDS ? outer_names[k] : "unknown";
}

/* Returns 0 for a NULL config or an unknown kind. */
size_t loco_outer_state_floats(const loco_outer_config *c, size_t n) {
    if (!c) return 0;
    switch (c->kind) {
    case LOCO_OUTER_NESTEROV:
    case LOCO_OUTER_SGD: return n;
    case LOCO_OUTER_ADAM: return 2 * n;
    }
    return 0;
}

/* One element of Nesterov: b = mu*b + delta, g = delta + mu*b,
 * theta = target - (lr*g - delta); the new b in *b_out. */
static inline float nesterov_elem(float theta, float target, float b, float lr, float mu, float *b_out) {
    const float delta = theta - target;
    const float bi = mu * b + delta;
    const float g = LOCO__FMA(mu, bi, delta);
    *b_out = bi;
    return target - LOCO__FMA(lr, g, -delta);
}

/* One element of heavy ball: b = mu*b + delta, g = b,
 * theta = target - (lr*g - delta). */
static inline float sgd_elem(float theta, float target, float b, float lr, float mu, float *b_out) {
    const float delta = theta - target;
    const float bi = mu * b + delta;
    *b_out = bi;
    return target - LOCO__FMA(lr, bi, -delta);
}

static void step_nesterov(float *theta, const float *target, float *b, size_t n, float lr,
                          float mu) {
    #pragma omp parallel for simd schedule(static) if (n >= LOCO__OUTER_PAR_MIN)
    for (size_t i = 0; i < n; i++) theta[i] = nesterov_elem(theta[i], target[i], b[i], lr, mu, &b[i]);
}

static void step_sgd(float *theta, const float *target, float *b, size_t n, float lr, float mu) {
    #pragma omp parallel for simd schedule(static) if (n >= LOCO__OUTER_PAR_MIN)
    for (size_t i = 0; i < n; i++) theta[i] = sgd_elem(theta[i], target[i], b[i], lr, mu, &b[i]);
}

/* 1 if the step of kind (Nesterov or SGD) keeps every theta and b finite:
 * the very element functions, evaluated without storing. */
static int momentum_step_finite(int nesterov, const float *theta, const float *target, const float *b,
                                size_t n, float lr, float mu) {
    int bad = 0;
    #pragma omp parallel for schedule(static) reduction(|:bad) if (n >= LOCO__OUTER_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float bi;
        const float t = nesterov ? nesterov_elem(theta[i], target[i], b[i], lr, mu, &bi)
                                 : sgd_elem(theta[i], target[i], b[i], lr, mu, &bi);
        bad |= !isfinite(t) || !isfinite(bi);
    }
    return !bad;
}

/* 1 if Adam's step keeps its state finite: delta and delta^2 finite (then
 * m and v are, and each step moves theta by a bounded multiple of lr), and
 * so is theta moved by that bound. */
static int adam_step_finite(const loco_outer_config *c, const float *theta, const float *target, size_t n) {
    const float reach = c->lr / sqrtf(1.0f - c->beta2) + c->lr;
    int bad = !isfinite(reach);
    #pragma omp parallel for schedule(static) reduction(|:bad) if (n >= LOCO__OUTER_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        const float d = theta[i] - target[i];
        bad |= !isfinite(d * d) || !isfinite(fabsf(theta[i]) + reach);
    }
    return !bad;
}

/* Adam on delta, one block at a time: each block's delta is computed from the
 * theta it is about to update, so the blocks are independent and may run in
 * parallel.  loco_adamw_update takes an int step; a step count beyond INT_MAX
 * has bias corrections of exactly 1 either way. */
static void step_adam(const loco_outer_config *c, float *theta, const float *target, float *m,
                      float *v, size_t n, long t) {
    const int step = t < 1 ? 1 : t > INT_MAX ? INT_MAX : (int)t;
    const long blocks = (long)((n + LOCO__OUTER_BLOCK - 1) / LOCO__OUTER_BLOCK);
    #pragma omp parallel for schedule(static) if (n >= LOCO__OUTER_PAR_MIN)
    for (long k = 0; k < blocks; k++) {
        float delta[LOCO__OUTER_BLOCK];
        const size_t lo = (size_t)k * LOCO__OUTER_BLOCK;
        const size_t len = n - lo < LOCO__OUTER_BLOCK ? n - lo : LOCO__OUTER_BLOCK;
        for (size_t i = 0; i < len; i++) delta[i] = theta[lo + i] - target[lo + i];
        loco_adamw_update(theta + lo, delta, m + lo, v + lo, len, c->lr, c->momentum, c->beta2,
                          c->eps, 0.0f, 1.0f, step);
    }
}

/* Applies one outer step in place; a NULL argument or an unknown kind leaves
 * everything unchanged (there is no error to return). */
void loco_outer_step(const loco_outer_config *c, float *theta, const float *target, float *state,
                     size_t n, long t) {
    if (!c || !theta || !target || !state || n == 0) return;
    switch (c->kind) {
    case LOCO_OUTER_NESTEROV: step_nesterov(theta, target, state, n, c->lr, c->momentum); break;
    case LOCO_OUTER_SGD: step_sgd(theta, target, state, n, c->lr, c->momentum); break;
    case LOCO_OUTER_ADAM: step_adam(c, theta, target, state, state + n, n, t); break;
    }
}

/* Returns LOCO_ENONFINITE (nothing changed) for a step that would leave a
 * non-finite value, LOCO_EINVAL for a bad argument. */
int loco_outer_step_checked(const loco_outer_config *c, float *theta, const float *target, float *state,
                            size_t n, long t) {
    if (!c || !theta || !target || !state || (int)c->kind < 0 || (int)c->kind >= LOCO__OUTER_KINDS)
        return LOCO_EINVAL;
    int ok = c->kind == LOCO_OUTER_ADAM ? adam_step_finite(c, theta, target, n)
                                        : momentum_step_finite(c->kind == LOCO_OUTER_NESTEROV, theta, target, state,
                                                               n, c->lr, c->momentum);
    if (!ok) return LOCO_ENONFINITE;
    loco_outer_step(c, theta, target, state, n, t);
    return LOCO_OK;
}
