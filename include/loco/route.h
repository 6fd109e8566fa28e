/*
 * Document routing for DiPaCo (modular paths): every document goes to one of
 * P paths, chosen from features of its first `prefix` tokens (32 by default),
 * so that training and inference route a document the same way from its
 * beginning alone.  See docs/routing.md for the math.
 *
 * Features: the mean over the prefix positions of the final hidden state
 * (the output of the final LayerNorm) of a small "feature model", a loco GPT
 * checkpoint.  Routers:
 *   - random:  a seeded hash of the prefix token ids, modulo P (no features);
 *   - kmeans:  P Euclidean k-means centroids, nearest centroid wins;
 *   - product: the d feature dimensions cut into n_levels contiguous chunks,
 *              chunk l clustered into K[l] centroids; the path is the mixed
 *              radix number (k_0, ..., k_{n-1}), level 0 most significant;
 *   - linear:  a softmax classifier on standardised features, trained on
 *              given labels (e.g. which path's expert has the lowest loss).
 * Every fit depends on its inputs and seed only, never on the thread count.
 */
#ifndef LOCO_ROUTE_H
#define LOCO_ROUTE_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"
#include "loco/split.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCO_ROUTER_FORMAT "loco-router-1"  /* the "format" field of a saved router */
#define LOCO_ROUTER_DEFAULT_PREFIX 32
#define LOCO_ROUTER_MAX_PATHS (1 << 20)     /* P */
#define LOCO_ROUTER_MAX_LEVELS 8            /* product k-means levels */
#define LOCO_ROUTER_MAX_DIM (1 << 20)       /* d */
#define LOCO_ROUTER_MAX_FLOATS (1 << 28)    /* P * d, the largest parameter table */

/* ------------------------------------------------------------ features */

/* Mean over positions [0, T) of the final hidden state (loco_gpt_hidden(),
 * (B, T, C)) of feature_model for token prefixes tokens (B, T); out is (B, C).
 * Runs loco_gpt_forward with targets NULL (summed in position order in double).
 * Returns LOCO_EINVAL (out left unspecified) for NULL arguments, B or T
 * outside the model's capacity, or a token outside its vocabulary. */
int loco_route_features(loco_gpt *feature_model, const int *tokens, int B, int T, float *out);

/* Features of documents doc_ids[0..n) of docs into out (n, C): each
 * document's first `prefix` tokens (fewer for a shorter document, whose mean
 * then runs over its own tokens only: the model is causal, so the padding
 * after them changes nothing); a document with no token gets zeros.
 * Documents go through the model in order, in batches of the model's
 * capacity B; allocates only a B x prefix token scratch.  The result does not
 * depend on the thread count (as the forward pass does not).  doc_ids may be
 * NULL for documents 0..n-1.  Returns LOCO_EINVAL (reason in msg) for bad
 * docs, a document id out of range, prefix < 1 or above the model's capacity
 * T, or a token outside the vocabulary; LOCO_ENOMEM for the scratch. */
int loco_route_doc_features(loco_gpt *feature_model, const loco_docs *docs, const int *doc_ids, int n,
                            int prefix, float *out, char *msg, size_t msglen);

/* ------------------------------------------------------------ k-means */

/* Lloyd's algorithm from the given initial centroids init (k, d): at most
 * max_iter rounds of (assign every row of X (n, d) to its nearest centroid
 * by squared Euclidean distance summed in double, ties to the lower index;
 * give each empty cluster the row farthest from its own centroid, taken from
 * a cluster that keeps a row; stop if no label changed; move each centroid to
 * the mean of its rows, summed in row order in double).  With balance > 0
 * each cluster holds at most ceil(balance * n / k) rows and the assignment is
 * greedy by distance (all (row, cluster) pairs in increasing distance, ties
 * by row then cluster; a pair is taken if its row is free and its cluster not
 * full).  Writes the final centroids (k, d), the labels assign (n) and, if
 * not NULL, the objective (sum of squared distances of rows to the centroid
 * of their label, after the last update) and the rounds run.  Returns
 * LOCO_EINVAL (reason in msg) for bad sizes, k > n, max_iter < 1, balance in
 * (0, 1) or non-finite input; LOCO_ENOMEM. */
int loco_route_lloyd(const float *X, int n, int d, int k, const float *init, int max_iter, float balance,
                     float *centroids, int *assign, double *objective, int *iters, char *msg,
                     size_t msglen);

/* ------------------------------------------------------------ routers */

typedef enum { LOCO_ROUTER_RANDOM, LOCO_ROUTER_KMEANS, LOCO_ROUTER_PRODUCT, LOCO_ROUTER_LINEAR } loco_router_kind;
typedef struct loco_router loco_router;

/* A router that sends a document to a seeded hash of its prefix token ids
 * modulo n_paths (its k best are that path and the next k-1 modulo n_paths).
 * Returns LOCO_EINVAL (reason in msg) for n_paths outside [1, 2^20];
 * LOCO_ENOMEM. */
int loco_router_random(loco_router **out, int n_paths, uint64_t seed, char *msg, size_t msglen);

/* Flat Euclidean k-means of the rows of X (n, d) into n_paths clusters:
 * k-means++ initialisation from seed (first centre uniform, then each drawn
 * with probability proportional to the squared distance to the nearest
 * centre), loco_route_lloyd (max_iter rounds, optional balance), the best of
 * 4 restarts by objective (ties: the earlier).  Returns LOCO_EINVAL (reason
 * in msg) for bad sizes, n_paths > n, max_iter < 1, balance in (0, 1) or
 * non-finite features; LOCO_ENOMEM. */
int loco_router_fit_kmeans(loco_router **out, const float *X, int n, int d, int n_paths, uint64_t seed,
                           int max_iter, float balance, char *msg, size_t msglen);

/* Product k-means: dimensions [off_l, off_l + len_l) of X form chunk l
 * (len_l = d / n_levels, plus one for the first d % n_levels chunks), each
 * clustered as loco_router_fit_kmeans does with seed + l into K[l] clusters;
 * path = mixed radix (k_0, ..., k_{n-1}), level 0 the most significant digit.
 * Returns LOCO_EINVAL (reason in msg) for n_levels outside [1, 8] or above d,
 * a K[l] < 1 or above n, a product of K above 2^20, or what fit_kmeans
 * refuses; LOCO_ENOMEM. */
int loco_router_fit_product(loco_router **out, const float *X, int n, int d, int n_levels, const int *K,
                            uint64_t seed, int max_iter, float balance, char *msg, size_t msglen);

/* Multinomial logistic regression on standardised features z = (x - mean) /
 * std (population std per dimension; 1 where it is 0): logits = W z + b,
 * loss = mean cross-entropy + (l2 / 2) |W|^2, W and b start at zero and take
 * `epochs` full-batch gradient-descent steps of size lr.  Returns LOCO_EINVAL
 * (reason in msg) for bad sizes, a label outside [0, n_paths), l2 < 0, lr <= 0,
 * epochs < 0 or non-finite features (or a fit that diverges to non-finite
 * weights); LOCO_ENOMEM. */
int loco_router_fit_linear(loco_router **out, const float *X, const int *labels, int n, int d, int n_paths,
                           float l2, int epochs, float lr, char *msg, size_t msglen);

/* The k best paths for one document, best first, from its features x (d
 * floats; ignored, may be NULL, for random) and its prefix token ids (only
 * the first loco_router_prefix() are used; ignored for the others).  scores
 * (k, may be NULL): the negative squared distance (kmeans; product: summed
 * over the levels), the logit (linear), 0 (random); ties go to the lower
 * path.  Returns LOCO_EINVAL for NULL arguments or k outside [1, n_paths]. */
int loco_router_route(const loco_router *r, const float *x, const int *prefix_tokens, int n_prefix, int k,
                      int *paths, float *scores);

/* Routes every document of docs: features from feature_model (NULL for a
 * random router) over each document's first loco_router_prefix() tokens, then
 * the k best paths of document i into paths[i * k .. i * k + k).  Returns
 * LOCO_EINVAL (reason in msg) for bad docs, a missing feature model, a model
 * whose width is not loco_router_dim(), or what loco_route_doc_features
 * refuses; LOCO_ENOMEM. */
int loco_router_assign_docs(const loco_router *r, loco_gpt *feature_model, const loco_docs *docs, int k,
                            int *paths, char *msg, size_t msglen);

int loco_router_paths(const loco_router *r);
int loco_router_dim(const loco_router *r);     /* d (0 for random) */
int loco_router_prefix(const loco_router *r);  /* routing prefix length, default 32 */
/* Sets the prefix length (values below 1 are ignored). */
void loco_router_set_prefix(loco_router *r, int prefix);
loco_router_kind loco_router_kind_of(const loco_router *r);
/* "random", "kmeans", "product", "linear" ("unknown" otherwise). */
const char *loco_router_kind_name(loco_router_kind kind);
/* Product levels: writes K[0..n_levels) (at most LOCO_ROUTER_MAX_LEVELS) and
 * returns n_levels (1 with K[0] = P for kmeans, 0 for random and linear). */
int loco_router_levels(const loco_router *r, int *K);
uint64_t loco_router_seed(const loco_router *r);

/* Records the feature model's checkpoint path (copied; NULL means "").
 * Returns LOCO_EINVAL for a NULL router, LOCO_ENOMEM. */
int loco_router_set_feature_model(loco_router *r, const char *checkpoint_path);
/* The recorded path; "" if none, never NULL. */
const char *loco_router_feature_model(const loco_router *r);

/* Writes r as JSON (floats printed %.9g, which round-trips every float) to
 * "<path>.tmp.<pid>", fsyncs it, renames it onto path and fsyncs the
 * directory.  Returns LOCO_EIO (reason naming path; an earlier file at path
 * is left as it was) or LOCO_EINVAL for NULL arguments; LOCO_ENOMEM. */
int loco_router_save(const loco_router *r, const char *path, char *msg, size_t msglen);

/* Reads a router saved by loco_router_save, validating every field (types,
 * ranges, array lengths, finite floats, no unknown keys).  Returns LOCO_EIO
 * (unreadable file) or LOCO_EINVAL (malformed file), with a one-line reason
 * naming path and the field, and *out NULL; LOCO_ENOMEM. */
int loco_router_load(loco_router **out, const char *path, char *msg, size_t msglen);

/* The same validation over a JSON text of n bytes (need not end in NUL);
 * `name` labels the reasons.  For loco_router_load and fuzzing. */
int loco_router_parse(loco_router **out, const char *json, size_t n, const char *name, char *msg,
                      size_t msglen);

void loco_router_free(loco_router *r);

#ifdef __cplusplus
}
#endif
#endif
