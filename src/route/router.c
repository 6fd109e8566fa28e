/*
 * Routers: construction of the random router, accessors, and routing a
 * document to its k best paths (docs/routing.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "route/route_internal.h"
#include "core/fail.h"

loco_router *loco__router_new(loco_router_kind kind, int n_paths, int d, uint64_t seed) {
    loco_router *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->feature_model = calloc(1, 1);
    if (!r->feature_model) {
        free(r);
        return NULL;
    }
    r->kind = kind;
    r->n_paths = n_paths;
    r->d = d;
    r->seed = seed;
    r->prefix = LOCO_ROUTER_DEFAULT_PREFIX;
    return r;
}

void loco__router_chunks(int d, int n_levels, int *off, int *len) {
    int o = 0;
    for (int l = 0; l < n_levels; l++) {
        len[l] = d / n_levels + (l < d % n_levels);
        off[l] = o;
        o += len[l];
    }
}

size_t loco__router_centroid_floats(const loco_router *r) {
    size_t s = 0;
    for (int l = 0; l < r->n_levels; l++) s += (size_t)r->K[l] * (size_t)r->len[l];
    return s;
}

size_t loco__router_K_total(const loco_router *r) {
    size_t s = 0;
    for (int l = 0; l < r->n_levels; l++) s += (size_t)r->K[l];
    return s;
}

void loco_router_free(loco_router *r) {
    if (!r) return;
    free(r->feature_model);
    free(r->centroids);
    free(r->W);
    free(r->b);
    free(r->mean);
    free(r->std);
    free(r);
}

/* Returns LOCO_EINVAL for n_paths out of range, LOCO_ENOMEM. */
int loco_router_random(loco_router **out, int n_paths, uint64_t seed, char *msg, size_t msglen) {
    if (!out) return loco__fail(msg, msglen, LOCO_EINVAL, "router: NULL output");
    *out = NULL;
    if (n_paths < 1 || n_paths > LOCO_ROUTER_MAX_PATHS)
        return loco__fail(msg, msglen, LOCO_EINVAL, "router: %d paths (must be in [1, %d])", n_paths,
                          LOCO_ROUTER_MAX_PATHS);
    *out = loco__router_new(LOCO_ROUTER_RANDOM, n_paths, 0, seed);
    return *out ? LOCO_OK : loco__fail(msg, msglen, LOCO_ENOMEM, "router: out of memory");
}

int loco_router_paths(const loco_router *r) { return r ? r->n_paths : 0; }
int loco_router_dim(const loco_router *r) { return r ? r->d : 0; }
int loco_router_prefix(const loco_router *r) { return r ? r->prefix : 0; }
void loco_router_set_prefix(loco_router *r, int prefix) {
    if (r && prefix >= 1 && prefix <= LOCO_MAX_SEQ_LEN) r->prefix = prefix;
}
loco_router_kind loco_router_kind_of(const loco_router *r) { return r->kind; }
uint64_t loco_router_seed(const loco_router *r) { return r ? r->seed : 0; }

const char *loco_router_kind_name(loco_router_kind kind) {
    switch (kind) {
    case LOCO_ROUTER_RANDOM: return "random";
    case LOCO_ROUTER_KMEANS: return "kmeans";
    case LOCO_ROUTER_PRODUCT: return "product";
    case LOCO_ROUTER_LINEAR: return "linear";
    }
    return "unknown";
}

int loco_router_levels(const loco_router *r, int *K) {
    if (!r) return 0;
    for (int l = 0; K && l < r->n_levels; l++) K[l] = r->K[l];
    return r->n_levels;
}

/* Returns LOCO_EINVAL for a NULL router, LOCO_ENOMEM. */
int loco_router_set_feature_model(loco_router *r, const char *checkpoint_path) {
    if (!r) return LOCO_EINVAL;
    char *s = strdup(checkpoint_path ? checkpoint_path : "");
    if (!s) return LOCO_ENOMEM;
    free(r->feature_model);
    r->feature_model = s;
    return LOCO_OK;
}

const char *loco_router_feature_model(const loco_router *r) {
    return r && r->feature_model ? r->feature_model : "";
}

/* splitmix64's finaliser, a bijection of 64-bit words. */
static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The random router's hash: h_0 = mix(seed ^ c), h_{i+1} = mix(h_i + (t_i + 1)
 * * golden), over the first min(n, prefix) ids; mix is bijective, so two
 * prefixes collide only through the final reduction modulo P (with chance
 * about 1/P, which is what a uniform router should have). */
static uint64_t prefix_hash(uint64_t seed, const int *tok, int n) {
    uint64_t h = mix(seed ^ 0x6c6f636f726f7574ULL);   /* "locorout" */
    for (int i = 0; i < n; i++) h = mix(h + ((uint64_t)(uint32_t)tok[i] + 1) * 0x9e3779b97f4a7c15ULL);
    return mix(h ^ (uint64_t)n);
}

/* Inserts (p, s) into the k best so far (scores descending; a later path
 * replaces an equal score never, so ties stay with the lower path). */
static void keep_best(int k, int *have, int *paths, double *best, int p, double s) {
    if (*have == k && !(s > best[k - 1])) return;
    int i = *have < k ? (*have)++ : k - 1;
    while (i > 0 && s > best[i - 1]) {
        best[i] = best[i - 1];
        paths[i] = paths[i - 1];
        i--;
    }
    best[i] = s;
    paths[i] = p;
}

/* Returns LOCO_EINVAL for NULL arguments or k out of range; LOCO_ENOMEM for
 * the score scratch (P + k doubles). */
int loco_router_route(const loco_router *r, const float *x, const int *prefix_tokens, int n_prefix, int k,
                      int *paths, float *scores) {
    if (!r || !paths || k < 1 || k > r->n_paths) return LOCO_EINVAL;
    const int P = r->n_paths;
    if (r->kind == LOCO_ROUTER_RANDOM) {
        if (n_prefix < 0 || (n_prefix > 0 && !prefix_tokens)) return LOCO_EINVAL;
        int n = n_prefix < r->prefix ? n_prefix : r->prefix;
        int p0 = (int)(prefix_hash(r->seed, prefix_tokens, n) % (uint64_t)P);
        for (int i = 0; i < k; i++) {
            paths[i] = (p0 + i) % P;
            if (scores) scores[i] = 0.0f;
        }
        return LOCO_OK;
    }
    if (!x) return LOCO_EINVAL;
    size_t dist_n = r->kind == LOCO_ROUTER_LINEAR ? 0 : loco__router_K_total(r);
    double *tmp = malloc(sizeof(double) * (dist_n + (size_t)k + 1));
    if (!tmp) return LOCO_ENOMEM;
    double *best = tmp + dist_n;
    int have = 0;
    if (r->kind == LOCO_ROUTER_LINEAR) {
        /* logit_p = b_p + sum_j W_pj (x_j - mean_j) / std_j */
        for (int p = 0; p < P; p++) {
            const float *w = r->W + (size_t)p * r->d;
            double s = r->b[p];
            for (int j = 0; j < r->d; j++) s += (double)w[j] * (((double)x[j] - r->mean[j]) / r->std[j]);
            keep_best(k, &have, paths, best, p, s);
        }
    } else {
        /* dist[l][c] = |x_chunk(l) - centroid_l,c|^2; a path's score is minus
         * the sum over levels of its digits' distances, which is minus the
         * squared distance to the concatenated centroid. */
        const float *c = r->centroids;
        double *dist = tmp;
        size_t o = 0;
        for (int l = 0; l < r->n_levels; l++) {
            for (int q = 0; q < r->K[l]; q++, c += r->len[l]) {
                double s = 0;
                for (int j = 0; j < r->len[l]; j++) {
                    double v = (double)x[r->off[l] + j] - c[j];
                    s += v * v;
                }
                dist[o + (size_t)q] = s;
            }
            o += (size_t)r->K[l];
        }
        for (int p = 0; p < P; p++) {
            /* Digits of p, least significant (the last level) first. */
            int rest = p;
            double s = 0;
            size_t base = o;
            for (int l = r->n_levels - 1; l >= 0; l--) {
                base -= (size_t)r->K[l];
                s += dist[base + (size_t)(rest % r->K[l])];
                rest /= r->K[l];
            }
            keep_best(k, &have, paths, best, p, -s);
        }
    }
    if (scores)
        for (int i = 0; i < k; i++) scores[i] = (float)best[i];
    free(tmp);
    return LOCO_OK;
}

/* Returns LOCO_EINVAL (reason in msg) for bad arguments or documents,
 * LOCO_ENOMEM. */
int loco_router_assign_docs(const loco_router *r, loco_gpt *feature_model, const loco_docs *docs, int k,
                            int *paths, char *msg, size_t msglen) {
    if (!r || !paths) return loco__fail(msg, msglen, LOCO_EINVAL, "router: NULL argument");
    int err = loco_docs_check(docs, msg, msglen);
    if (err) return err;
    if (k < 1 || k > r->n_paths)
        return loco__fail(msg, msglen, LOCO_EINVAL, "router: top-k %d outside [1, %d]", k, r->n_paths);
    const int n = docs->n_docs;
    if (r->kind == LOCO_ROUTER_RANDOM) {
        int *tok = malloc(sizeof(int) * (size_t)r->prefix);
        if (!tok) return loco__fail(msg, msglen, LOCO_ENOMEM, "router: out of memory");
        for (int i = 0; i < n; i++) {
            uint64_t lo = docs->offsets[i], len = docs->offsets[i + 1] - lo;
            int m = len < (uint64_t)r->prefix ? (int)len : r->prefix;
            for (int t = 0; t < m; t++) tok[t] = (int)loco_docs_token(docs, lo + (uint64_t)t);
            loco_router_route(r, NULL, tok, m, k, paths + (size_t)i * k, NULL);
        }
        free(tok);
        return LOCO_OK;
    }
    if (!feature_model)
        return loco__fail(msg, msglen, LOCO_EINVAL, "router: a %s router needs a feature model",
                          loco_router_kind_name(r->kind));
    if (loco_gpt_get_config(feature_model)->channels != r->d)
        return loco__fail(msg, msglen, LOCO_EINVAL, "router: feature model has %d channels, the router "
                          "expects d = %d", loco_gpt_get_config(feature_model)->channels, r->d);
    float *X = malloc(sizeof(float) * (size_t)n * (size_t)r->d);
    if (!X) return loco__fail(msg, msglen, LOCO_ENOMEM, "router: out of memory for %d x %d features", n, r->d);
    err = loco_route_doc_features(feature_model, docs, NULL, n, r->prefix, X, msg, msglen);
    for (int i = 0; !err && i < n; i++) {
        err = loco_router_route(r, X + (size_t)i * r->d, NULL, 0, k, paths + (size_t)i * k, NULL);
        if (err) loco__fail(msg, msglen, err, "router: routing document %d failed", i);
    }
    free(X);
    return err;
}
