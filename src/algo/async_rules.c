/*
 * The server's update rules of asynchronous Local-SGD / DiLoCo (see
 * include/loco/async.h and docs/async.md), plus two small helpers of the
 * asynchronous drivers: Dynamic Local Updates and the least-visited task
 * queue.
 *
 * Every rule ends in the same Nesterov step on one element,
 *     m = beta*m + a;   theta = theta - eps*(d + beta*m),
 * evaluated by nesterov_elem() in exactly this order of float operations:
 *   - NAIVE:              a = d = g;
 *   - BUFFER and SYNC:    a = d = (buf + g)/N, the average of the period;
 *   - DN, period's end:   a = (buf + g)/N,  d = g/N.
 * The order is the one a reader of the formulas expects and the one the
 * numpy reference (tests/ref_async.py) uses, so that without fused
 * multiply-adds the two agree to the bit.  The library is compiled in ISO C
 * mode, where GCC does not contract a*b + c into an FMA; a compiler that
 * does contract changes each result by at most one rounding of a product,
 * which the tests' tolerance admits.
 *
 * DN with N = 1 is NAIVE bit for bit.  With N = 1 every arrival ends a
 * period, so DN's step is m = beta*m + (0 + g)/1;  theta -= eps*(g/1 + beta*m)
 * with buf back to 0.  In exact arithmetic that is NAIVE's step; in float it
 * is too, except for one corner: 0 + g is g for every g but -0 (0 + -0 = +0),
 * and if beta*m is also -0 then beta*m + (+0) = +0 where NAIVE's
 * beta*m + (-0) = -0.  (g/1 is g exactly, NaNs aside.)  Rather than argue
 * that the corner cannot matter, DN with N = 1 skips the buffer and the
 * divisions and calls the very loop NAIVE calls, step_nesterov(): the same
 * instructions on the same inputs, so the results agree to the bit whatever
 * the compiler contracts, and the state (buf stays 0, the counters advance
 * alike) agrees too.  The corner is real: with momentum 0, beta*m = 0*m is
 * -0 whenever m is negative, and the textbook form then leaves +0 in m where
 * NAIVE leaves -0 (tests/test_async_rules.c catches it if the shortcut is
 * removed).  The test checks the equality with memcmp, and checks that
 * N = 2 does differ.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "loco/async.h"

/* Below this size a parallel region costs more than it saves; the results do
 * not depend on whether it is taken, since every element is independent. */
#define LOCO__ASYNC_PAR_MIN 32768

/* Fills c with the defaults; does nothing if c is NULL. */
void loco_async_config_default(loco_async_config *c, int workers) {
    if (!c) return;
    c->rule = LOCO_ASYNC_DN;
    c->lr = 0.7f;
    c->momentum = 0.9f;
    c->period = workers < 1 ? 1 : workers;
    c->stale = LOCO_STALE_CONSTANT;
    c->stale_power = 0.5f;
}

static const char *const rule_names[] = {"sync", "naive", "buffer", "dn"};
static const char *const stale_names[] = {"constant", "poly"};
#define LOCO__N_RULES ((int)(sizeof rule_names / sizeof rule_names[0]))
#define LOCO__N_STALE ((int)(sizeof stale_names / sizeof stale_names[0]))

/* Returns the index of name in names, or -1 if it is absent or NULL. */
static int find_name(const char *name, const char *const *names, int count) {
    if (!name) return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

/* Returns LOCO_EINVAL for an unknown name or a NULL argument. */
int loco_async_rule_parse(const char *name, loco_async_rule *out) {
    int i = find_name(name, rule_names, LOCO__N_RULES);
    if (i < 0 || !out) return LOCO_EINVAL;
    *out = (loco_async_rule)i;
    return LOCO_OK;
}

/* Returns "unknown" for a value outside the enum. */
const char *loco_async_rule_name(loco_async_rule r) {
    return (int)r >= 0 && (int)r < LOCO__N_RULES ? rule_names[r] : "unknown";
}

/* Returns LOCO_EINVAL for an unknown name or a NULL argument. */
int loco_stale_parse(const char *name, loco_stale_kind *out) {
    int i = find_name(name, stale_names, LOCO__N_STALE);
    if (i < 0 || !out) return LOCO_EINVAL;
    *out = (loco_stale_kind)i;
    return LOCO_OK;
}

/* Returns "unknown" for a value outside the enum. */
const char *loco_stale_name(loco_stale_kind k) {
    return (int)k >= 0 && (int)k < LOCO__N_STALE ? stale_names[k] : "unknown";
}

/* Why c is unusable, as one line, or NULL if it is fine.  The comparisons
 * are written so that a NaN fails them (every comparison with NaN is false). */
static const char *config_problem(const loco_async_config *c) {
    if (!c) return "no asynchronous configuration";
    if ((int)c->rule < 0 || (int)c->rule >= LOCO__N_RULES)
        return "unknown asynchronous rule (use sync, naive, buffer or dn)";
    if (!(c->lr > 0.0f) || !isfinite(c->lr)) return "the outer learning rate must be positive and finite";
    if (!(c->momentum >= 0.0f && c->momentum < 1.0f)) return "the outer momentum must be in [0, 1)";
    if (c->period < 1) return "the period N must be at least 1";
    if ((int)c->stale < 0 || (int)c->stale >= LOCO__N_STALE)
        return "unknown staleness weighting (use constant or poly)";
    if (!(c->stale_power >= 0.0f) || !isfinite(c->stale_power))
        return "the staleness power must be non-negative and finite";
    return NULL;
}

/* Returns LOCO_EINVAL, with the reason in msg, for an unusable config. */
int loco_async_config_check(const loco_async_config *c, char *msg, size_t msglen) {
    const char *why = config_problem(c);
    if (!why) return LOCO_OK;
    if (msg && msglen) snprintf(msg, msglen, "%s", why);
    return LOCO_EINVAL;
}

/* Returns 1 for a NULL config or an unknown kind.  The power is taken in
 * double and the result rounded once to float, so that exact cases are
 * exact: (1 + 0)^-p = 1 and (1 + 3)^-0.5 = 0.5. */
float loco_async_stale_weight(const loco_async_config *c, long s) {
    if (!c || c->stale != LOCO_STALE_POLY) return 1.0f;
    const double age = s < 0 ? 0.0 : (double)s;
    return (float)pow(1.0 + age, -(double)c->stale_power);
}

/* Returns 0 if 2n does not fit in a size_t. */
size_t loco_async_state_floats(size_t n) {
    return n > SIZE_MAX / 2 ? 0 : 2 * n;
}

/* Does nothing if st is NULL. */
void loco_async_state_init(loco_async_state *st, float *block, size_t n) {
    if (!st) return;
    st->m = block;
    st->buf = block ? block + n : NULL;
    if (block && n) memset(block, 0, 2 * n * sizeof(float));
    st->arrivals = 0;
    st->pending = 0;
    st->updates = 0;
}

/* The Nesterov step on one element: m = beta*m + a, theta -= eps*(d + beta*m),
 * in this order of operations (see the top of the file). */
static inline void nesterov_elem(float *theta, float *m, float a, float d, float beta, float eps) {
    const float mi = beta * *m + a;
    *m = mi;
    *theta = *theta - eps * (d + beta * mi);
}

/* NAIVE, and DN with N = 1: a Nesterov step on g itself. */
static void step_nesterov(float *theta, float *m, const float *g, size_t n, float beta, float eps) {
    #pragma omp parallel for simd schedule(static) if (n >= LOCO__ASYNC_PAR_MIN)
    for (size_t i = 0; i < n; i++) nesterov_elem(&theta[i], &m[i], g[i], g[i], beta, eps);
}

/* BUFFER and SYNC, a push that does not complete the period: buf += g. */
static void accumulate(float *buf, const float *g, size_t n) {
    #pragma omp parallel for simd schedule(static) if (n >= LOCO__ASYNC_PAR_MIN)
    for (size_t i = 0; i < n; i++) buf[i] = buf[i] + g[i];
}

/* BUFFER and SYNC, the push that completes the period: a = (buf + g)/N, a
 * Nesterov step on a, and buf = 0.  The last accumulation and the division
 * share one pass; the values are those of buf += g followed by a = buf/N. */
static void step_buffer(float *theta, float *m, float *buf, const float *g, size_t n, float beta,
                        float eps, float N) {
    #pragma omp parallel for simd schedule(static) if (n >= LOCO__ASYNC_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        const float a = (buf[i] + g[i]) / N;
        nesterov_elem(&theta[i], &m[i], a, a, beta, eps);
        buf[i] = 0.0f;
    }
}

/* DN, a push that does not end the period: buf += g, theta -= eps*(g/N). */
static void step_dn_plain(float *theta, float *buf, const float *g, size_t n, float eps, float N) {
    #pragma omp parallel for simd schedule(static) if (n >= LOCO__ASYNC_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        buf[i] = buf[i] + g[i];
        theta[i] = theta[i] - eps * (g[i] / N);
    }
}

/* DN, the push that ends the period:
 *     buf += g;  m = beta*m + buf/N;  theta -= eps*(g/N + beta*m);  buf = 0.
 * Only this push's own share g/N is applied directly, not the period's
 * average buf/N: the earlier pushes of the period were each applied, as
 * eps*(g_j/N), when they arrived, so adding buf/N again would count them
 * twice.  What the earlier pushes have not had yet is momentum, and that
 * comes now through beta*m, with m already holding the whole period's
 * average.  Over the period theta therefore moves by
 *     eps*(sum_j g_j/N) + eps*beta*m = eps*(a + beta*m),   a = buf/N,
 * which is BUFFER's one step on the same pushes: DN spends it as the pushes
 * arrive instead of all at the end. */
static void step_dn_momentum(float *theta, float *m, float *buf, const float *g, size_t n,
                             float beta, float eps, float N) {
    #pragma omp parallel for simd schedule(static) if (n >= LOCO__ASYNC_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        const float a = (buf[i] + g[i]) / N;
        nesterov_elem(&theta[i], &m[i], a, g[i] / N, beta, eps);
        buf[i] = 0.0f;
    }
}

/* Returns LOCO_EINVAL, changing nothing, for a NULL argument or a config
 * that loco_async_config_check rejects; else 1 if theta changed, 0 if the
 * push was only buffered. */
int loco_async_push(const loco_async_config *c, loco_async_state *st, float *theta, const float *g,
                    size_t n) {
    if (!st || config_problem(c)) return LOCO_EINVAL;
    if (n && (!theta || !g || !st->m || !st->buf)) return LOCO_EINVAL;
    const float beta = c->momentum, eps = c->lr;
    /* N is an int >= 1; as a float it is exact up to 2^24, far beyond any
     * number of workers. */
    const float N = (float)c->period;
    st->arrivals++;
    switch (c->rule) {
    case LOCO_ASYNC_NAIVE:
        step_nesterov(theta, st->m, g, n, beta, eps);
        break;
    case LOCO_ASYNC_SYNC:
    case LOCO_ASYNC_BUFFER:
        /* pending counts the pushes in buf; it reaches N exactly when
         * t % N == 0 (>= only guards a caller that lowered N mid-run). */
        if (++st->pending < c->period) {
            accumulate(st->buf, g, n);
            return 0;
        }
        step_buffer(theta, st->m, st->buf, g, n, beta, eps, N);
        st->pending = 0;
        break;
    case LOCO_ASYNC_DN:
        if (c->period == 1) {
            /* The very loop NAIVE runs (see the top of the file). */
            step_nesterov(theta, st->m, g, n, beta, eps);
        } else if (++st->pending < c->period) {
            step_dn_plain(theta, st->buf, g, n, eps, N);
        } else {
            step_dn_momentum(theta, st->m, st->buf, g, n, beta, eps, N);
            st->pending = 0;
        }
        break;
    }
    st->updates++;
    return 1;
}

/* A zero push keeps a buffering rule's count of N arrivals: the average
 * then holds the dropped worker's share as zero, as if it had not moved. */
int loco_async_push_dropped(const loco_async_config *c, loco_async_state *st, float *theta, float *g, size_t n) {
    if (!c || (c->rule != LOCO_ASYNC_SYNC && c->rule != LOCO_ASYNC_BUFFER)) return 0;
    if (g) memset(g, 0, n * sizeof *g);
    return loco_async_push(c, st, theta, g, n);
}

/* Returns H unchanged if H < 1 or a speed is not positive and finite.  The
 * product H*speed is formed before the division: when it and max_speed are
 * exact (speeds in whole steps per second, say) and the quotient is a whole
 * number, the division is exact too and floor() does not drop to the number
 * below, as it could after rounding speed/max_speed first. */
int loco_dylu_steps(int H, double speed, double max_speed, int min_steps) {
    if (H < 1 || !(speed > 0.0) || !isfinite(speed) || !(max_speed > 0.0) || !isfinite(max_speed))
        return H;
    if (speed >= max_speed) return H;
    /* In [0, H] in exact arithmetic, since speed < max_speed; the clamp
     * below keeps it there whatever the rounding does. */
    int steps = (int)floor((double)H * speed / max_speed);
    if (steps < min_steps) steps = min_steps;
    if (steps > H) steps = H;
    return steps < 1 ? 1 : steps;
}

/* Returns -1 if n_shards < 1 or visits is NULL. */
int loco_least_visited(const long *visits, int n_shards) {
    if (!visits || n_shards < 1) return -1;
    int best = 0;
    for (int i = 1; i < n_shards; i++)
        if (visits[i] < visits[best]) best = i;   /* strict: ties keep the lower index */
    return best;
}
