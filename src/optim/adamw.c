/*
 * AdamW, its learning-rate schedule and the global gradient norm.
 *
 * The update reproduces torch.optim.AdamW (torch 1.13, the default
 * single-tensor path) operation by operation, so that a run of loco can be
 * checked against PyTorch to the last bit rather than to a loose tolerance.
 * Three details of PyTorch matter for that:
 *   - Python scalars are doubles.  Everything torch computes from scalars
 *     alone (1 - lr*wd, the bias corrections, the step size) is computed in
 *     double and rounded to float only when it meets a tensor; we do the same.
 *   - Its AVX2 kernels fuse two of the element-wise operations: add_(g, alpha)
 *     is a single fused multiply-add, and so is the final multiply-add of
 *     addcmul_.  Where the target has a hardware FMA we fuse the same two;
 *     where it has none, torch runs its unfused DEFAULT kernels, and so do we.
 *   - Everything else is separately rounded, so this file relies on the
 *     compiler not contracting a*b+c on its own; -std=c11 (as the Makefile
 *     sets it) makes GCC's default -ffp-contract=off.
 * The schedule is nanoGPT's get_lr, and the norm is what
 * torch.nn.utils.clip_grad_norm_ clips against, accumulated in double.
 */
#include <math.h>
#include "loco/loco.h"

/* Hardware FMA is what torch's AVX2 kernels use.  Without one, fmaf would be a
 * slow software emulation, and torch itself would run unfused kernels.  (A
 * portable build, ARCH=, run on an FMA machine therefore differs from torch in
 * the last bit of some moments, well within the tests' tolerances.) */
#if defined(FP_FAST_FMAF)
#define LOCO__FMA(a, b, c) fmaf((a), (b), (c))
#else
#define LOCO__FMA(a, b, c) ((a) * (b) + (c))
#endif

/* The norm is reduced in this many chunks whatever the thread count, so that
 * the order of the additions, and hence the result, never depends on it. */
#define LOCO__NORM_CHUNKS 64

/* Below these sizes a parallel region costs more than it saves; the results
 * do not depend on whether it is taken. */
#define LOCO__PAR_MIN_UPDATE 32768
#define LOCO__PAR_MIN_NORM   65536

/* Fills cfg with nanoGPT's defaults for the given max_steps; does nothing if
 * cfg is NULL. */
void loco_adamw_config_default(loco_adamw_config *cfg, int max_steps) {
    if (!cfg) return;
    cfg->lr = 6e-4f;
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.95f;
    cfg->eps = 1e-8f;
    cfg->weight_decay = 0.1f;
    cfg->grad_clip = 1.0f;
    cfg->warmup_steps = 0;
    cfg->max_steps = max_steps;
    cfg->min_lr = cfg->lr / 10.0f;
}

/* Returns the learning rate for 0-based `step`; a negative step counts as
 * step 0, a NULL cfg gives 0, and a schedule with max_steps <= warmup_steps
 * stays at lr once warm-up is over instead of dividing by zero. */
float loco_lr_schedule(const loco_adamw_config *cfg, int step) {
    if (!cfg) return 0.0f;
    if (step < 0) step = 0;
    const double lr = cfg->lr, min_lr = cfg->min_lr;
    const int warm = cfg->warmup_steps > 0 ? cfg->warmup_steps : 0;
    /* Linear warm-up reaches the full lr on the last warm-up step (step + 1
     * rather than step), so that the first step does not waste itself at 0. */
    if (step < warm) return (float)(lr * (double)(step + 1) / (double)warm);
    if (cfg->max_steps <= warm) return (float)lr;
    if (step >= cfg->max_steps) return (float)min_lr;
    /* Half a cosine period carries the rate from lr at the end of warm-up
     * down to min_lr at max_steps; coeff runs from 1 to 0. */
    const double ratio = (double)(step - warm) / (double)(cfg->max_steps - warm);
    const double coeff = 0.5 * (1.0 + cos(M_PI * ratio));
    return (float)(min_lr + coeff * (lr - min_lr));
}

/* Returns the L2 norm of the n floats in grads (0 when n is 0 or grads is
 * NULL); a NaN or Inf among them makes the result non-finite, which callers
 * are expected to check. */
float loco_grad_norm(const float *grads, size_t n) {
    if (!grads || n == 0) return 0.0f;
    /* Squares of floats cannot overflow a double, and summing them in double
     * bounds the rounding error by about n * 2^-53 relative, which stays below
     * float precision for any n up to 10^8 (and is far smaller in practice). */
    double partial[LOCO__NORM_CHUNKS];
    const size_t chunk = (n + LOCO__NORM_CHUNKS - 1) / LOCO__NORM_CHUNKS;
    #pragma omp parallel for schedule(static) if (n >= LOCO__PAR_MIN_NORM)
    for (int c = 0; c < LOCO__NORM_CHUNKS; c++) {
        size_t lo = (size_t)c * chunk, hi = lo + chunk;
        if (lo > n) lo = n;
        if (hi > n) hi = n;
        double s = 0.0;
        /* The vector order within a chunk is fixed when this file is
         * compiled, so it too is independent of the thread count. */
        #pragma omp simd reduction(+:s)
        for (size_t i = lo; i < hi; i++) s += (double)grads[i] * (double)grads[i];
        partial[c] = s;
    }
    double total = 0.0;
    for (int c = 0; c < LOCO__NORM_CHUNKS; c++) total += partial[c];
    return (float)sqrt(total);
}

/* Applies one AdamW step in place to p, m and v (n elements each); n == 0
 * does nothing, and t < 1 is treated as the first step so that the bias
 * corrections never divide by zero. */
void loco_adamw_update(float *p, const float *g, float *m, float *v, size_t n,
                       float lr, float beta1, float beta2, float eps,
                       float weight_decay, float gscale, int t) {
    if (n == 0) return;
    if (t < 1) t = 1;
    /* The moments start at zero, so after t steps they are biased towards
     * zero by the factors 1 - beta^t; dividing by them removes that bias.
     * torch folds 1/bc1 into the step size and divides sqrt(v) by sqrt(bc2). */
    const double bc1 = 1.0 - pow((double)beta1, (double)t);
    const double bc2 = 1.0 - pow((double)beta2, (double)t);
    const float decay = (float)(1.0 - (double)lr * (double)weight_decay);
    const float b1 = beta1, one_minus_b1 = (float)(1.0 - (double)beta1);
    const float b2 = beta2, one_minus_b2 = (float)(1.0 - (double)beta2);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float neg_step = (float)(-(double)lr / bc1);
    #pragma omp parallel for simd schedule(static) if (n >= LOCO__PAR_MIN_UPDATE)
    for (size_t i = 0; i < n; i++) {
        /* Clipping scales the gradient before either moment sees it. */
        const float gi = g[i] * gscale;
        /* Decoupled weight decay shrinks the weights before the Adam step,
         * independently of the gradient. */
        const float pi = p[i] * decay;
        const float mi = LOCO__FMA(gi, one_minus_b1, m[i] * b1);
        const float vi = LOCO__FMA(one_minus_b2 * gi, gi, v[i] * b2);
        m[i] = mi;
        v[i] = vi;
        /* eps is added after the bias correction of sqrt(v), as torch does;
         * the quotient is (step * m) / denom, in that order. */
        const float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = pi + (neg_step * mi) / denom;
    }
}
