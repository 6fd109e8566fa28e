/*
 * The learned router: multinomial logistic regression on standardised
 * features, fit by full-batch gradient descent (docs/routing.md).
 *
 *   z_i = (x_i - mean) / std                     (population std; 1 where 0)
 *   logits_i = W z_i + b,  p_i = softmax(logits_i)
 *   loss = (1/n) sum_i -log p_i[y_i] + (l2/2) |W|_F^2
 *   dW = (1/n) sum_i (p_i - e_{y_i}) z_i^T + l2 W,  db = (1/n) sum_i (p_i - e_{y_i})
 *   W -= lr dW,  b -= lr db                       (W, b start at 0)
 *
 * Everything is computed in double and W, b are kept in float between steps.
 * Per-row probabilities are computed in parallel (one thread per row); every
 * sum over rows runs in row order, so the fit is the same for any thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "route/route_internal.h"
#include "core/fail.h"

/* Returns LOCO_EINVAL (reason in msg) or LOCO_ENOMEM. */
int loco_router_fit_linear(loco_router **out, const float *X, const int *labels, int n, int d, int n_paths,
                           float l2, int epochs, float lr, char *msg, size_t msglen) {
    if (!out) return loco__fail(msg, msglen, LOCO_EINVAL, "linear router: NULL output");
    *out = NULL;
    if (!X || !labels) return loco__fail(msg, msglen, LOCO_EINVAL, "linear router: NULL features or labels");
    if (n < 1 || d < 1 || d > LOCO_ROUTER_MAX_DIM)
        return loco__fail(msg, msglen, LOCO_EINVAL, "linear router: %d rows of dimension %d", n, d);
    if (n_paths < 1 || n_paths > LOCO_ROUTER_MAX_PATHS || (size_t)n_paths * (size_t)d > LOCO_ROUTER_MAX_FLOATS)
        return loco__fail(msg, msglen, LOCO_EINVAL, "linear router: %d paths of dimension %d", n_paths, d);
    if (!(l2 >= 0.0f) || !isfinite(l2)) return loco__fail(msg, msglen, LOCO_EINVAL, "linear router: l2 = %g", (double)l2);
    if (!(lr > 0.0f) || !isfinite(lr)) return loco__fail(msg, msglen, LOCO_EINVAL, "linear router: lr = %g", (double)lr);
    if (epochs < 0) return loco__fail(msg, msglen, LOCO_EINVAL, "linear router: epochs = %d", epochs);
    for (int i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= n_paths)
            return loco__fail(msg, msglen, LOCO_EINVAL, "linear router: label %d of row %d outside [0, %d)",
                              labels[i], i, n_paths);
        for (int j = 0; j < d; j++)
            if (!isfinite(X[(size_t)i * d + j]))
                return loco__fail(msg, msglen, LOCO_EINVAL, "linear router: feature (%d, %d) is not finite", i, j);
    }
    const int P = n_paths;
    loco_router *r = loco__router_new(LOCO_ROUTER_LINEAR, P, d, 0);
    double *Z = malloc(sizeof(double) * (size_t)n * d);
    double *G = malloc(sizeof(double) * (size_t)n * P);   /* p_i - e_{y_i} */
    double *A = malloc(sizeof(double) * (size_t)P * d);   /* gradient sums */
    if (r) {
        r->W = calloc((size_t)P * d, sizeof(float));
        r->b = calloc((size_t)P, sizeof(float));
        r->mean = malloc(sizeof(float) * (size_t)d);
        r->std = malloc(sizeof(float) * (size_t)d);
    }
    if (!r || !Z || !G || !A || !r->W || !r->b || !r->mean || !r->std) {
        loco_router_free(r);
        free(Z); free(G); free(A);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "linear router: out of memory for %d x %d", n, d);
    }
    /* Standardisation: mean and population std in double, stored as floats;
     * z uses the stored floats, so routing later computes the same z. */
    for (int j = 0; j < d; j++) {
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++) s += X[(size_t)i * d + j];
        double m = s / n;
        for (int i = 0; i < n; i++) {
            double v = X[(size_t)i * d + j] - m;
            ss += v * v;
        }
        double sd = sqrt(ss / n);
        r->mean[j] = (float)m;
        r->std[j] = sd > 0 && (float)sd > 0 ? (float)sd : 1.0f;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            Z[(size_t)i * d + j] = ((double)X[(size_t)i * d + j] - r->mean[j]) / r->std[j];

    for (int e = 0; e < epochs; e++) {
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            double *g = G + (size_t)i * P;
            const double *z = Z + (size_t)i * d;
            double mx = -INFINITY;
            for (int p = 0; p < P; p++) {
                const float *w = r->W + (size_t)p * d;
                double s = r->b[p];
                for (int j = 0; j < d; j++) s += (double)w[j] * z[j];
                g[p] = s;
                if (s > mx) mx = s;
            }
            double se = 0;
            for (int p = 0; p < P; p++) se += (g[p] = exp(g[p] - mx));
            for (int p = 0; p < P; p++) g[p] /= se;
            g[labels[i]] -= 1.0;
        }
        /* One thread per output row p; each sums the rows i in order. */
        int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
        for (int p = 0; p < P; p++) {
            float *w = r->W + (size_t)p * d;
            double db = 0;
            for (int i = 0; i < n; i++) db += G[(size_t)i * P + p];
            double *acc = A + (size_t)p * d;   /* sum_i g_ip z_i, rows in order, z read contiguously */
            memset(acc, 0, sizeof(double) * (size_t)d);
            for (int i = 0; i < n; i++) {
                const double g = G[(size_t)i * P + p], *z = Z + (size_t)i * d;
                for (int j = 0; j < d; j++) acc[j] += g * z[j];
            }
            for (int j = 0; j < d; j++) {
                double grad = acc[j] / n + (double)l2 * w[j];
                w[j] = (float)((double)w[j] - (double)lr * grad);
                bad |= !isfinite(w[j]);
            }
            r->b[p] = (float)((double)r->b[p] - (double)lr * (db / n));
            bad |= !isfinite(r->b[p]);
        }
        if (bad) {
            loco_router_free(r);
            free(Z); free(G); free(A);
            return loco__fail(msg, msglen, LOCO_EINVAL, "linear router: weights diverged at epoch %d "
                              "(lower lr = %g)", e, (double)lr);
        }
    }
    free(Z); free(G); free(A);
    *out = r;
    return LOCO_OK;
}
