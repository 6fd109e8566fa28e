/*
 * Euclidean k-means for routing (docs/routing.md): Lloyd's algorithm with an
 * optional capacity per cluster, k-means++ restarts, and the flat and product
 * routers built on it.
 *
 * Determinism: a row's distances and nearest centroid are computed by one
 * thread from that row alone; every sum over rows (centroid means, the
 * objective, the k-means++ potential) runs serially in row order, and the
 * balanced assignment sorts a total order.  So the result depends on the data
 * and the seed only, never on the number of OpenMP threads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "route/route_internal.h"
#include "core/fail.h"

/* k-means++ initialisations per fit; the lowest objective wins. */
#define RESTARTS 4

/* Rows of X have stride ld (a chunk of columns of a wider matrix). */
typedef struct {
    const float *X;
    int n, d, ld, k;
} dataset;

/* |x_i - c|^2 summed in double in dimension order. */
static double sqdist(const dataset *ds, int i, const float *c) {
    const float *x = ds->X + (size_t)i * ds->ld;
    double s = 0;
    for (int j = 0; j < ds->d; j++) {
        double v = (double)x[j] - (double)c[j];
        s += v * v;
    }
    return s;
}

typedef struct { double dist; int row, cluster; } pair;

/* Total order: distance, then row, then cluster. */
static int pair_cmp(const void *a, const void *b) {
    const pair *p = a, *q = b;
    if (p->dist != q->dist) return p->dist < q->dist ? -1 : 1;
    if (p->row != q->row) return p->row < q->row ? -1 : 1;
    return (p->cluster > q->cluster) - (p->cluster < q->cluster);
}

typedef struct {
    double *dist;     /* n: squared distance of each row to its own centroid */
    double *acc;      /* k * d sums */
    long *sizes;      /* k */
    pair *pairs;      /* n * k, balanced assignment only */
    char *taken;      /* n, balanced assignment only */
} workspace;

/* Nearest centroid of every row (ties: the lower index); returns the number
 * of changed labels. */
static long assign_nearest(const dataset *ds, const float *C, int *assign, double *dist) {
    long changed = 0;
#pragma omp parallel for schedule(static) reduction(+ : changed)
    for (int i = 0; i < ds->n; i++) {
        int arg = 0;
        double best = INFINITY;
        for (int c = 0; c < ds->k; c++) {
            double s = sqdist(ds, i, C + (size_t)c * ds->d);
            if (s < best) { best = s; arg = c; }
        }
        dist[i] = best;
        changed += assign[i] != arg;
        assign[i] = arg;
    }
    return changed;
}

/* Capacity-constrained assignment: every (row, cluster) pair in increasing
 * distance (ties: row, then cluster); a pair is taken when its row is still
 * free and its cluster holds fewer than cap rows.  Greedy, not optimal (an
 * optimal one is a transportation problem), but it never leaves a row
 * unplaced while cap * k >= n.  Returns the number of changed labels. */
static long assign_balanced(const dataset *ds, const float *C, long cap, int *assign, workspace *w) {
    const int n = ds->n, k = ds->k;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++)
        for (int c = 0; c < k; c++)
            w->pairs[(size_t)i * k + c] = (pair){sqdist(ds, i, C + (size_t)c * ds->d), i, c};
    qsort(w->pairs, (size_t)n * k, sizeof(pair), pair_cmp);
    memset(w->taken, 0, (size_t)n);
    memset(w->sizes, 0, sizeof(long) * (size_t)k);
    long changed = 0, placed = 0;
    for (size_t t = 0; t < (size_t)n * k && placed < n; t++) {
        const pair *p = &w->pairs[t];
        if (w->taken[p->row] || w->sizes[p->cluster] >= cap) continue;
        w->taken[p->row] = 1;
        w->sizes[p->cluster]++;
        placed++;
        changed += assign[p->row] != p->cluster;
        assign[p->row] = p->cluster;
        w->dist[p->row] = p->dist;
    }
    return changed;
}

/* Gives each empty cluster the row farthest from its own centroid (ties: the
 * lower row), from clusters that keep at least one row; a deterministic
 * reseed with no randomness.  Returns the number of rows moved. */
static long reseed_empty(const dataset *ds, int *assign, workspace *w) {
    long moved = 0;
    for (int c = 0; c < ds->k; c++) {
        if (w->sizes[c] > 0) continue;
        int far = -1;
        for (int i = 0; i < ds->n; i++)
            if (w->sizes[assign[i]] > 1 && (far < 0 || w->dist[i] > w->dist[far])) far = i;
        if (far < 0) break;   /* impossible while k <= n */
        w->sizes[assign[far]]--;
        assign[far] = c;
        w->sizes[c] = 1;
        w->dist[far] = -1.0;  /* never moved twice in one round */
        moved++;
    }
    return moved;
}

/* Moves each centroid to the mean of its rows (summed in row order). */
static void update_centroids(const dataset *ds, const int *assign, float *C, workspace *w) {
    const int d = ds->d;
    memset(w->acc, 0, sizeof(double) * (size_t)ds->k * d);
    for (int i = 0; i < ds->n; i++) {
        const float *x = ds->X + (size_t)i * ds->ld;
        double *a = w->acc + (size_t)assign[i] * d;
        for (int j = 0; j < d; j++) a[j] += x[j];
    }
    for (int c = 0; c < ds->k; c++)
        if (w->sizes[c] > 0)
            for (int j = 0; j < d; j++)
                C[(size_t)c * d + j] = (float)(w->acc[(size_t)c * d + j] / (double)w->sizes[c]);
}

/* sum_i |x_i - C[assign_i]|^2 in row order. */
static double objective(const dataset *ds, const int *assign, const float *C) {
    double s = 0;
    for (int i = 0; i < ds->n; i++) s += sqdist(ds, i, C + (size_t)assign[i] * ds->d);
    return s;
}

/* Lloyd's iterations from the centroids in C (updated in place). */
static double lloyd(const dataset *ds, float *C, int max_iter, long cap, int *assign, workspace *w,
                    int *iters) {
    for (int i = 0; i < ds->n; i++) assign[i] = -1;
    int it;
    for (it = 0; it < max_iter; it++) {
        long changed;
        if (cap > 0) {
            changed = assign_balanced(ds, C, cap, assign, w);
        } else {
            changed = assign_nearest(ds, C, assign, w->dist);
            memset(w->sizes, 0, sizeof(long) * (size_t)ds->k);
            for (int i = 0; i < ds->n; i++) w->sizes[assign[i]]++;
        }
        changed += reseed_empty(ds, assign, w);
        if (changed == 0 && it > 0) {   /* the centroids are already these labels' means */
            it++;
            break;
        }
        update_centroids(ds, assign, C, w);
    }
    if (iters) *iters = it;
    return objective(ds, assign, C);
}

static int ws_alloc(workspace *w, int n, int d, int k, int balanced) {
    memset(w, 0, sizeof *w);
    w->dist = malloc(sizeof(double) * (size_t)n);
    w->acc = malloc(sizeof(double) * (size_t)k * (size_t)d);
    w->sizes = malloc(sizeof(long) * (size_t)k);
    if (balanced) {
        w->pairs = malloc(sizeof(pair) * (size_t)n * (size_t)k);
        w->taken = malloc((size_t)n);
    }
    return w->dist && w->acc && w->sizes && (!balanced || (w->pairs && w->taken)) ? 0 : -1;
}

static void ws_free(workspace *w) {
    free(w->dist); free(w->acc); free(w->sizes); free(w->pairs); free(w->taken);
}

/* Checks sizes, balance and finiteness; computes the capacity (0: none). */
static int check_args(const float *X, int n, int d, int ld, int k, int max_iter, float balance, long *cap,
                      char *msg, size_t msglen) {
    if (!X) return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: NULL features");
    if (n < 1 || d < 1 || d > LOCO_ROUTER_MAX_DIM)
        return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: %d rows of dimension %d (need n >= 1, "
                          "d in [1, %d])", n, d, LOCO_ROUTER_MAX_DIM);
    if (k < 1 || k > n)
        return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: %d clusters for %d rows (need 1 <= k <= n)", k, n);
    if ((size_t)k * (size_t)d > LOCO_ROUTER_MAX_FLOATS)
        return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: %d centroids of dimension %d is too many", k, d);
    if (max_iter < 1) return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: max_iter = %d (must be >= 1)", max_iter);
    if (!(balance == 0.0f || (balance >= 1.0f && isfinite(balance))))
        return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: balance = %g (0 for none, or >= 1: a capacity "
                          "below n/k cannot place every row)", (double)balance);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            if (!isfinite(X[(size_t)i * ld + j]))
                return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: feature (%d, %d) is not finite", i, j);
    *cap = balance > 0 ? (long)ceil((double)balance * n / k) : 0;
    return LOCO_OK;
}

/* Returns LOCO_EINVAL (reason in msg) or LOCO_ENOMEM. */
int loco_route_lloyd(const float *X, int n, int d, int k, const float *init, int max_iter, float balance,
                     float *centroids, int *assign, double *obj, int *iters, char *msg, size_t msglen) {
    long cap = 0;
    int err = check_args(X, n, d, d, k, max_iter, balance, &cap, msg, msglen);
    if (err) return err;
    if (!init || !centroids || !assign) return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: NULL argument");
    workspace w;
    if (ws_alloc(&w, n, d, k, cap > 0)) {
        ws_free(&w);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "k-means: out of memory for %d rows x %d clusters", n, k);
    }
    dataset ds = {X, n, d, d, k};
    memmove(centroids, init, sizeof(float) * (size_t)k * d);
    double o = lloyd(&ds, centroids, max_iter, cap, assign, &w, iters);
    if (obj) *obj = o;
    ws_free(&w);
    return LOCO_OK;
}

/* Uniform in [0, 1) with 53 bits. */
static double uniform53(loco_rng *rng) { return (double)(loco_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0); }

/* k-means++: the first centre a uniform row, each further one a row drawn
 * with probability D(x)^2 / sum D^2 (D: distance to the nearest chosen
 * centre; uniform when every D is 0).  mind is n scratch. */
static void init_plusplus(const dataset *ds, loco_rng *rng, float *C, double *mind) {
    const int n = ds->n, d = ds->d;
    int first = (int)(loco_rng_u64(rng) % (uint64_t)n);
    for (int j = 0; j < d; j++) C[j] = ds->X[(size_t)first * ds->ld + j];
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) mind[i] = sqdist(ds, i, C);
    for (int c = 1; c < ds->k; c++) {
        double total = 0;
        for (int i = 0; i < n; i++) total += mind[i];
        int pick = n - 1;
        if (total > 0) {
            double r = uniform53(rng) * total, run = 0;
            for (int i = 0; i < n; i++) {
                run += mind[i];
                if (run > r) { pick = i; break; }
            }
        } else {
            pick = (int)(loco_rng_u64(rng) % (uint64_t)n);
        }
        float *cc = C + (size_t)c * d;
        for (int j = 0; j < d; j++) cc[j] = ds->X[(size_t)pick * ds->ld + j];
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            double s = sqdist(ds, i, cc);
            if (s < mind[i]) mind[i] = s;
        }
    }
}

/* The best of RESTARTS k-means++ + Lloyd runs into C (k, d); assign (n) gets
 * its labels.  Returns LOCO_ENOMEM or LOCO_OK. */
static int fit(const dataset *ds, uint64_t seed, int max_iter, long cap, float *C, int *assign) {
    workspace w;
    float *trialC = malloc(sizeof(float) * (size_t)ds->k * ds->d);
    int *trial = malloc(sizeof(int) * (size_t)ds->n);
    double *mind = malloc(sizeof(double) * (size_t)ds->n);
    int err = LOCO_OK;
    if (ws_alloc(&w, ds->n, ds->d, ds->k, cap > 0) || !trialC || !trial || !mind) {
        err = LOCO_ENOMEM;
        goto done;
    }
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    double best = INFINITY;
    for (int r = 0; r < RESTARTS; r++) {
        init_plusplus(ds, &rng, trialC, mind);
        double o = lloyd(ds, trialC, max_iter, cap, trial, &w, NULL);
        if (r == 0 || o < best) {
            best = o;
            memcpy(C, trialC, sizeof(float) * (size_t)ds->k * ds->d);
            memcpy(assign, trial, sizeof(int) * (size_t)ds->n);
        }
    }
done:
    ws_free(&w);
    free(trialC); free(trial); free(mind);
    return err;
}

/* Returns LOCO_EINVAL (reason in msg) or LOCO_ENOMEM. */
int loco_router_fit_product(loco_router **out, const float *X, int n, int d, int n_levels, const int *K,
                            uint64_t seed, int max_iter, float balance, char *msg, size_t msglen) {
    if (!out) return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: NULL output");
    *out = NULL;
    if (n_levels < 1 || n_levels > LOCO_ROUTER_MAX_LEVELS || !K)
        return loco__fail(msg, msglen, LOCO_EINVAL, "product k-means: %d levels (must be in [1, %d])", n_levels,
                          LOCO_ROUTER_MAX_LEVELS);
    if (d < n_levels)
        return loco__fail(msg, msglen, LOCO_EINVAL, "product k-means: %d levels for %d dimensions", n_levels, d);
    long P = 1;
    for (int l = 0; l < n_levels; l++) {
        if (K[l] < 1 || K[l] > LOCO_ROUTER_MAX_PATHS)
            return loco__fail(msg, msglen, LOCO_EINVAL, "product k-means: level %d has K = %d", l, K[l]);
        P *= K[l];
        if (P > LOCO_ROUTER_MAX_PATHS)
            return loco__fail(msg, msglen, LOCO_EINVAL, "product k-means: more than %d paths", LOCO_ROUTER_MAX_PATHS);
    }
    long cap = 0;
    int err = check_args(X, n, d, d, 1, max_iter, balance, &cap, msg, msglen);
    if (err) return err;
    loco_router *r = loco__router_new(n_levels > 1 ? LOCO_ROUTER_PRODUCT : LOCO_ROUTER_KMEANS, (int)P, d, seed);
    if (!r) return loco__fail(msg, msglen, LOCO_ENOMEM, "k-means: out of memory");
    r->n_levels = n_levels;
    memcpy(r->K, K, sizeof(int) * (size_t)n_levels);
    loco__router_chunks(d, n_levels, r->off, r->len);
    int *assign = malloc(sizeof(int) * (size_t)n);
    r->centroids = malloc(sizeof(float) * loco__router_centroid_floats(r));
    if (!assign || !r->centroids) {
        free(assign);
        loco_router_free(r);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "k-means: out of memory");
    }
    float *C = r->centroids;
    for (int l = 0; l < n_levels && !err; l++) {
        dataset ds = {X + r->off[l], n, r->len[l], d, K[l]};
        long lcap = 0;
        err = check_args(ds.X, n, ds.d, d, K[l], max_iter, balance, &lcap, msg, msglen);
        if (!err && fit(&ds, seed + (uint64_t)l, max_iter, lcap, C, assign))
            err = loco__fail(msg, msglen, LOCO_ENOMEM, "k-means: out of memory for %d rows x %d clusters", n, K[l]);
        C += (size_t)K[l] * r->len[l];
    }
    free(assign);
    if (err) {
        loco_router_free(r);
        return err;
    }
    *out = r;
    return LOCO_OK;
}

/* Returns LOCO_EINVAL (reason in msg) or LOCO_ENOMEM. */
int loco_router_fit_kmeans(loco_router **out, const float *X, int n, int d, int n_paths, uint64_t seed,
                           int max_iter, float balance, char *msg, size_t msglen) {
    return loco_router_fit_product(out, X, n, d, 1, &n_paths, seed, max_iter, balance, msg, msglen);
}
