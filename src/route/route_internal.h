/* Internal: the router's layout, shared by the fits, routing and the JSON
 * reader and writer.  Not part of the public API. */
#ifndef LOCO_ROUTE_INTERNAL_H
#define LOCO_ROUTE_INTERNAL_H

#include "loco/route.h"

struct loco_router {
    loco_router_kind kind;
    int n_paths;          /* P */
    int d;                /* feature dimension (0 for random) */
    int prefix;           /* routing prefix length */
    uint64_t seed;
    char *feature_model;  /* checkpoint path, never NULL */
    /* kmeans (n_levels 1, K[0] = P) and product: level l clusters dims
     * [off[l], off[l] + len[l]) into K[l] centroids, stored one level after
     * another, each (K[l], len[l]), in centroids. */
    int n_levels;
    int K[LOCO_ROUTER_MAX_LEVELS];
    int off[LOCO_ROUTER_MAX_LEVELS], len[LOCO_ROUTER_MAX_LEVELS];
    float *centroids;
    /* linear: W (P, d), b (P), standardisation mean (d), std (d). */
    float *W, *b, *mean, *std;
};

/* Allocates a zeroed router of the given kind with prefix 32 and an empty
 * feature-model path; NULL when out of memory. */
loco_router *loco__router_new(loco_router_kind kind, int n_paths, int d, uint64_t seed);

/* Fills n_levels contiguous chunks of d dimensions into off/len (the first
 * d % n_levels chunks one longer). */
void loco__router_chunks(int d, int n_levels, int *off, int *len);

/* Floats in the centroid table (sum over levels of K[l] * len[l]). */
size_t loco__router_centroid_floats(const loco_router *r);
/* Centroids over all levels (sum of K[l]). */
size_t loco__router_K_total(const loco_router *r);

#endif
