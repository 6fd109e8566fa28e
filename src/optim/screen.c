/*
 * Screening contributions by norm before the outer step (include/loco/outer.h
 * states the rule).  Why the lower median: it is the middle of the sorted
 * finite norms, rounded down for an even count, so with n contributions of
 * which fewer than half are outliers it lies among the honest norms whatever
 * values the outliers take; the mean (or a median that averages the two
 * middle values, with two workers) would be dragged up by one huge norm and
 * let it through.  A lone contribution has no peers, so it is measured
 * against the recent accepted ones, or, before there are three, against
 * |theta|: DiLoCo's pseudo-gradient is H inner steps of a small learning
 * rate, a small fraction of the parameters' norm, so k = 10 times that norm
 * is far outside anything training produces.
 *
 * Pure functions over arrays: nothing here allocates, so both engines (the
 * simulator, src/sim, and the coordinator, src/net) call the same code and
 * make the same decisions bit for bit.
 */
#include <math.h>
#include "loco/outer.h"

/* The lower median of v[0..n) (n >= 1), by insertion sort into w. */
static double lower_median(const double *v, int n, double *w) {
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && w[j - 1] > v[i]; j--) w[j] = w[j - 1];
        w[j] = v[i];
    }
    return w[(n - 1) / 2];
}

/* The screen works on at most this many contributions at once; any more
 * (more workers than that) are measured against the median of the first. */
#define LOCO__SCREEN_MAX 1024

int loco_outer_screen(const double *norms, int n, float k, double theta_norm, loco_screen_recent *recent,
                      unsigned char *keep) {
    if (n < 1 || !norms || !keep) return 0;
    double fin[LOCO__SCREEN_MAX], sorted[LOCO__SCREEN_MAX];
    int nf = 0;
    for (int i = 0; i < n && nf < LOCO__SCREEN_MAX; i++)
        if (isfinite(norms[i])) fin[nf++] = norms[i];
    /* The reference: peers when there are any, else history, else |theta|. */
    double ref = -1;
    if (nf >= 2) ref = lower_median(fin, nf, sorted);
    else if (recent && recent->n >= 3) ref = lower_median(recent->norm, recent->n, sorted);
    else if (isfinite(theta_norm) && theta_norm > 0) ref = theta_norm;
    int dropped = 0;
    for (int i = 0; i < n; i++) {
        /* !(x <= y) rather than x > y: NaN is dropped too. */
        keep[i] = isfinite(norms[i]) && !(k > 0 && ref > 0 && !(norms[i] <= (double)k * ref));
        dropped += !keep[i];
        if (keep[i] && recent) {
            recent->norm[recent->next] = norms[i];
            recent->next = (recent->next + 1) % LOCO_SCREEN_RECENT;
            if (recent->n < LOCO_SCREEN_RECENT) recent->n++;
        }
    }
    return dropped;
}

double loco_outer_norm(const float *x, const float *theta, size_t n) {
    double s = 0;
    if (!x) return 0;
    for (size_t i = 0; i < n; i++) {
        const double d = theta ? (double)theta[i] - (double)x[i] : (double)x[i];
        s += d * d;
    }
    return sqrt(s);
}
