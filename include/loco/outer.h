/*
 * DiLoCo's outer optimizer.
 *
 * Every H inner steps the workers' parameters are averaged into `target`, and
 * the global parameters theta take one step of an ordinary optimizer whose
 * "gradient" is the pseudo-gradient delta = theta - target: how far the
 * workers moved, reversed.  The kinds reproduce PyTorch with grad = delta:
 *   - LOCO_OUTER_NESTEROV: torch.optim.SGD(lr, momentum=mu, nesterov=True)
 *       b = mu*b + delta;   theta -= lr*(delta + mu*b)
 *   - LOCO_OUTER_SGD:      torch.optim.SGD(lr, momentum=mu) (heavy ball)
 *       b = mu*b + delta;   theta -= lr*b           (mu = 0: plain SGD)
 *   - LOCO_OUTER_ADAM:     torch.optim.Adam(lr, betas=(mu, beta2), eps),
 *                          no weight decay
 * Nesterov and SGD are evaluated in a form that is algebraically the same but
 * gives theta == target bit for bit when lr = 1 and mu = 0, so that DiLoCo
 * with one worker reproduces plain training exactly (src/optim/outer.c and
 * docs/compression.md say why).  Pure functions over arrays: nothing here
 * allocates.
 */
#ifndef LOCO_OUTER_H
#define LOCO_OUTER_H

#include <stddef.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LOCO_OUTER_NESTEROV = 0, LOCO_OUTER_SGD = 1, LOCO_OUTER_ADAM = 2 } loco_outer_kind;

typedef struct {
    loco_outer_kind kind;
    float lr;        /* default 0.7 */
    float momentum;  /* Nesterov / SGD momentum mu; Adam's beta1.  default 0.9 */
    float beta2;     /* Adam only, default 0.999 */
    float eps;       /* Adam only, default 1e-8 */
} loco_outer_config;

/* Fills c with DiLoCo's defaults: Nesterov, lr 0.7, momentum 0.9 (and Adam's
 * beta2 0.999, eps 1e-8); does nothing if c is NULL. */
void loco_outer_config_default(loco_outer_config *c);

/* Parses "nesterov", "sgd" or "adam" into *out; returns LOCO_EINVAL (and
 * leaves *out alone) for any other name or a NULL argument. */
int loco_outer_parse(const char *name, loco_outer_kind *out);

/* The name loco_outer_parse accepts for k; "unknown" for a value outside the
 * enum, never NULL. */
const char *loco_outer_name(loco_outer_kind k);

/* Floats of optimizer state for n parameters: n for Nesterov and SGD (the
 * momentum buffer b), 2n for Adam (first n: m, next n: v); 0 for a NULL
 * config or an unknown kind. */
size_t loco_outer_state_floats(const loco_outer_config *c, size_t n);

/* One outer step.  target[i] is where the workers went (the average of their
 * parameters); the pseudo-gradient is delta = theta - target.  state holds
 * loco_outer_state_floats() floats, zeroed by the caller before the first
 * step; t is the 1-based outer step count (Adam's bias correction; t < 1
 * counts as 1).  theta and state are updated in place.  Cannot fail: a NULL
 * config or array, or an unknown kind, leaves everything unchanged.  The
 * result does not depend on the thread count. */
void loco_outer_step(const loco_outer_config *c, float *theta, const float *target, float *state,
                     size_t n, long t);

/* One outer step that never makes theta or the state non-finite: if the
 * step would put an Inf or NaN into either (a huge pseudo-gradient, an
 * absurd learning rate), nothing is changed and LOCO_ENONFINITE is returned;
 * else the step is loco_outer_step's, bit for bit, and LOCO_OK.  Returns
 * LOCO_EINVAL for a NULL config or array or an unknown kind. */
int loco_outer_step_checked(const loco_outer_config *c, float *theta, const float *target, float *state,
                            size_t n, long t);

/* Contributions screened by their norm (src/optim/screen.c).  A worker with
 * a faulty accelerator, or one that holds the run's secret and means harm,
 * can send a well-formed pseudo-gradient of any size; averaged in, one such
 * value moves theta as far as it likes.  The screen drops a contribution
 * whose norm is non-finite or more than k times a robust reference:
 *   - several contributions at once (a DiLoCo round): the lower median of
 *     their finite norms, which a minority of outliers cannot move (with two,
 *     the smaller: of two honest workers neither is dropped unless one moved
 *     k times as far as the other);
 *   - one contribution (a round with one worker, an asynchronous push): the
 *     lower median of the last LOCO_SCREEN_RECENT accepted norms once at
 *     least 3 are known, else the norm of theta itself (a pseudo-gradient k
 *     times longer than the parameters is not a training step).
 * k = 0 keeps every finite contribution.  Accepted norms enter recent. */
#define LOCO_SCREEN_RECENT 16
#define LOCO_SCREEN_K_DEFAULT 10.0f
typedef struct {
    double norm[LOCO_SCREEN_RECENT];   /* ring of accepted norms */
    int n;                             /* how many are valid (<= LOCO_SCREEN_RECENT) */
    int next;                          /* where the next one goes */
} loco_screen_recent;

/* Screens n contributions with the given norms: keep[i] = 1 or 0 by the
 * rule above (theta_norm is used for a lone contribution with too little
 * history; recent may be NULL: no history).  Returns the number dropped;
 * 0 for n < 1 or a NULL array. */
int loco_outer_screen(const double *norms, int n, float k, double theta_norm, loco_screen_recent *recent,
                      unsigned char *keep);

/* The Euclidean norm of x (n floats), summed in double; Inf or NaN if a
 * value is.  With theta (may be NULL), the norm of theta - x instead. */
double loco_outer_norm(const float *x, const float *theta, size_t n);

#ifdef __cplusplus
}
#endif

#endif
