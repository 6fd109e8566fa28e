/*
 * Non-i.i.d. worker split: spherical k-means over hashed unigram + bigram
 * TF-IDF features of each document's token ids (docs/data_splits.md).
 *
 * Determinism: every per-document quantity (features, similarities, the
 * nearest centroid) is computed by one thread from that document alone, and
 * every sum over documents or features runs in index order, so the result
 * depends on the seed only, never on the number of OpenMP threads.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/split.h"
#include "core/fail.h"

/* Independent k-means++ initialisations (the best objective wins), and the
 * candidates greedy k-means++ weighs per centre.  Measured on the test's
 * synthetic corpus (5 groups), one run with scikit-learn's 2 + ln M = 3
 * candidates merged two groups 42% of the time, with 8 candidates 10%; eight
 * restarts make a merge vanishingly rare (0.1^8). */
#define LOCO__KMEANS_RESTARTS 8
#define LOCO__KMEANS_CANDIDATES 8

/* The sparse feature matrix in CSR form: document i's features are
 * idx/val[row[i] .. row[i + 1]), L2-normalised (or all zero). */
typedef struct {
    int n, F;
    uint64_t *row;
    uint32_t *idx;
    float *val;
} features;


/* splitmix64's finaliser: a bijective mix, so distinct n-grams collide only
 * through the final reduction modulo F. */
static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Unigram keys are the token id (below 2^32); bigram keys are (a, b) packed
 * into 64 bits and XORed with a salt whose top half is nonzero, so the two
 * key spaces stay disjoint for any token id below 0xa0761d64. */
static uint32_t hash_uni(uint32_t a, int F) { return (uint32_t)(mix(a) % (uint64_t)F); }
static uint32_t hash_bi(uint32_t a, uint32_t b, int F) {
    uint64_t key = ((uint64_t)a << 32 | b) ^ 0xa0761d6478bd642fULL;
    return (uint32_t)(mix(key) % (uint64_t)F);
}

/* Counts document d's hashed n-grams into cnt (all zero on entry), listing
 * each bucket once in `touched` in order of first occurrence; returns how
 * many buckets it touched.  The caller resets cnt over `touched`. */
static long count_ngrams(const loco_docs *docs, int d, int F, uint32_t *cnt, uint32_t *touched) {
    long nt = 0;
    uint64_t lo = docs->offsets[d], hi = docs->offsets[d + 1];
    for (uint64_t i = lo; i < hi; i++) {
        uint32_t a = loco_docs_token(docs, i);
        uint32_t h = hash_uni(a, F);
        if (cnt[h]++ == 0) touched[nt++] = h;
        if (i + 1 < hi) {
            h = hash_bi(a, loco_docs_token(docs, i + 1), F);
            if (cnt[h]++ == 0) touched[nt++] = h;
        }
    }
    return nt;
}

static void features_free(features *f) {
    free(f->row); free(f->idx); free(f->val);
    memset(f, 0, sizeof *f);
}

/* Builds the TF-IDF matrix: tf = 1 + ln(count) (sublinear, so that long
 * documents and very common tokens do not swamp the rest), idf =
 * ln((1 + N) / (1 + df)) + 1 (smoothed: never zero, never infinite), each row
 * scaled to unit L2 norm.  Returns LOCO_ENOMEM on allocation failure. */
static int features_build(features *f, const loco_docs *docs, int F) {
    int n = docs->n_docs;
    memset(f, 0, sizeof *f);
    f->n = n;
    f->F = F;
    f->row = calloc((size_t)n + 1, sizeof(uint64_t));
    double *idf = calloc((size_t)F, sizeof(double));
    uint64_t max_len = 0;
    for (int d = 0; d < n; d++) {
        uint64_t len = docs->offsets[d + 1] - docs->offsets[d];
        if (len > max_len) max_len = len;
    }
    int err = LOCO_OK;
    if (!f->row || !idf) { err = LOCO_ENOMEM; goto done; }

    /* Pass 1: distinct buckets per document, to size the CSR arrays. */
#pragma omp parallel
    {
        uint32_t *cnt = calloc((size_t)F, sizeof(uint32_t));
        uint32_t *touched = malloc(sizeof(uint32_t) * (2 * max_len + 1));
        if (!cnt || !touched) {
#pragma omp atomic write
            err = LOCO_ENOMEM;
        } else {
#pragma omp for schedule(dynamic, 16)
            for (int d = 0; d < n; d++) {
                long nt = count_ngrams(docs, d, F, cnt, touched);
                for (long k = 0; k < nt; k++) cnt[touched[k]] = 0;
                f->row[d + 1] = (uint64_t)nt;
            }
        }
        free(cnt); free(touched);
    }
    if (err) goto done;
    for (int d = 0; d < n; d++) f->row[d + 1] += f->row[d];
    f->idx = malloc(sizeof(uint32_t) * (f->row[n] + 1));
    f->val = malloc(sizeof(float) * (f->row[n] + 1));
    if (!f->idx || !f->val) { err = LOCO_ENOMEM; goto done; }

    /* Pass 2: the buckets and their counts, stored in place. */
#pragma omp parallel
    {
        uint32_t *cnt = calloc((size_t)F, sizeof(uint32_t));
        if (!cnt) {
#pragma omp atomic write
            err = LOCO_ENOMEM;
        } else {
#pragma omp for schedule(dynamic, 16)
            for (int d = 0; d < n; d++) {
                uint32_t *touched = f->idx + f->row[d];
                long nt = count_ngrams(docs, d, F, cnt, touched);
                for (long k = 0; k < nt; k++) {
                    f->val[f->row[d] + k] = 1.0f + logf((float)cnt[touched[k]]);
                    cnt[touched[k]] = 0;
                }
            }
        }
        free(cnt);
    }
    if (err) goto done;

    /* Document frequencies (integer counts: order does not matter), then IDF. */
    for (uint64_t k = 0; k < f->row[n]; k++) idf[f->idx[k]] += 1.0;
    for (int j = 0; j < F; j++) idf[j] = log((1.0 + n) / (1.0 + idf[j])) + 1.0;
#pragma omp parallel for schedule(dynamic, 16)
    for (int d = 0; d < n; d++) {
        double ss = 0;
        for (uint64_t k = f->row[d]; k < f->row[d + 1]; k++) {
            double v = f->val[k] * idf[f->idx[k]];
            f->val[k] = (float)v;
            ss += v * v;
        }
        float scale = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (uint64_t k = f->row[d]; k < f->row[d + 1]; k++) f->val[k] *= scale;
    }
done:
    free(idf);
    if (err) features_free(f);
    return err;
}

/* Cosine similarity of unit document d with a unit dense centroid. */
static double dot(const features *f, int d, const float *c) {
    double s = 0;
    for (uint64_t k = f->row[d]; k < f->row[d + 1]; k++) s += (double)f->val[k] * c[f->idx[k]];
    return s;
}

/* Sets column c of the feature-major centroid matrix C (F x M) to document
 * d's vector; the column must be zero on entry. */
static void set_column(const features *f, int d, float *C, int M, int c) {
    for (uint64_t k = f->row[d]; k < f->row[d + 1]; k++) C[(size_t)f->idx[k] * M + c] = f->val[k];
}

/* Zeroes what set_column wrote. */
static void clear_column(const features *f, int d, float *C, int M, int c) {
    for (uint64_t k = f->row[d]; k < f->row[d + 1]; k++) C[(size_t)f->idx[k] * M + c] = 0;
}

/* Uniform in [0, 1) with 53 bits. */
static double uniform53(loco_rng *rng) {
    return (double)(loco_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* Draws a document with probability proportional to its squared distance
 * 2 - 2 best[d] to the nearest chosen centre (uniformly if all are zero). */
static int draw_d2(const double *best, int n, double total, loco_rng *rng) {
    if (!(total > 0)) return (int)(loco_rng_u64(rng) % (uint64_t)n);
    double r = uniform53(rng) * total, run = 0;
    for (int d = 0; d < n; d++) {
        run += fmax(0.0, 2.0 - 2.0 * best[d]);
        if (run > r) return d;
    }
    return n - 1;
}

/* Greedy k-means++ for unit vectors (as scikit-learn does it): the first
 * centre is a uniformly drawn document; for each further one, L =
 * LOCO__KMEANS_CANDIDATES candidates are drawn with probability proportional
 * to their squared Euclidean distance to the nearest chosen centre (2 - 2 cos
 * for unit vectors), and the candidate that most lowers the total of those
 * distances is kept (ties: the earlier draw).  Plain k-means++ too often
 * spends a centre on one outlying short document.  The L candidates are
 * scored in one pass over the features, through the feature-major F x L
 * matrix tmp (zero on entry and exit).  best[] receives each document's
 * highest similarity to a centre; cand[] is L x n scratch. */
static void init_plusplus(const features *f, int M, loco_rng *rng, float *C, float *tmp,
                          double *best, double *cand) {
    enum { L = LOCO__KMEANS_CANDIDATES };
    int n = f->n;
    memset(C, 0, sizeof(float) * (size_t)M * (size_t)f->F);
    int first = (int)(loco_rng_u64(rng) % (uint64_t)n);
    set_column(f, first, tmp, 1, 0);
#pragma omp parallel for schedule(dynamic, 64)
    for (int d = 0; d < n; d++) best[d] = dot(f, d, tmp);
    clear_column(f, first, tmp, 1, 0);
    set_column(f, first, C, M, 0);
    for (int c = 1; c < M; c++) {
        double total = 0;
        for (int d = 0; d < n; d++) total += fmax(0.0, 2.0 - 2.0 * best[d]);
        int pick[L];
        for (int l = 0; l < L; l++) {
            pick[l] = draw_d2(best, n, total, rng);
            set_column(f, pick[l], tmp, L, l);
        }
#pragma omp parallel for schedule(dynamic, 64)
        for (int d = 0; d < n; d++) {
            double s[L] = {0};
            for (uint64_t k = f->row[d]; k < f->row[d + 1]; k++) {
                const float *row = tmp + (size_t)f->idx[k] * L;
                double v = f->val[k];
                for (int l = 0; l < L; l++) s[l] += v * row[l];
            }
            for (int l = 0; l < L; l++) cand[(size_t)l * n + d] = fmax(best[d], s[l]);
        }
        int chosen = 0;
        double chosen_pot = INFINITY;
        for (int l = 0; l < L; l++) {
            double pot = 0;
            for (int d = 0; d < n; d++) pot += fmax(0.0, 2.0 - 2.0 * cand[(size_t)l * n + d]);
            if (pot < chosen_pot) { chosen_pot = pot; chosen = l; }
        }
        for (int l = 0; l < L; l++) clear_column(f, pick[l], tmp, L, l);
        set_column(f, pick[chosen], C, M, c);
        memcpy(best, cand + (size_t)chosen * n, sizeof(double) * (size_t)n);
    }
}

/* Assigns each document to its most similar centroid (ties: lowest index),
 * storing that similarity in sim[]; returns the number of changed labels.
 * C is feature-major (F x M), so one pass over a document's features reads,
 * for each feature, the M centroid values side by side; each similarity is
 * still summed in the document's feature order. */
static long assign_step(const features *f, int M, const float *C, int *assign, double *sim) {
    enum { BLOCK = 64 };
    long changed = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : changed)
    for (int d = 0; d < f->n; d++) {
        int arg = 0;
        double bs = -INFINITY;
        for (int c0 = 0; c0 < M; c0 += BLOCK) {
            int nb = M - c0 < BLOCK ? M - c0 : BLOCK;
            double s[BLOCK] = {0};
            for (uint64_t k = f->row[d]; k < f->row[d + 1]; k++) {
                const float *row = C + (size_t)f->idx[k] * M + c0;
                double v = f->val[k];
                for (int c = 0; c < nb; c++) s[c] += v * row[c];
            }
            for (int c = 0; c < nb; c++)
                if (s[c] > bs) { bs = s[c]; arg = c0 + c; }
        }
        sim[d] = bs;
        if (assign[d] != arg) changed++;
        assign[d] = arg;
    }
    return changed;
}

/* Gives every empty cluster the document least similar to its own centroid
 * (ties: lowest index), taken only from clusters that keep at least one
 * document: a deterministic re-seed that needs no randomness.  Returns the
 * number of clusters re-seeded. */
static int reseed_empty(const features *f, int M, int *assign, double *sim, long *sizes) {
    int moved = 0;
    for (int c = 0; c < M; c++) {
        if (sizes[c] > 0) continue;
        int far = -1;
        for (int d = 0; d < f->n; d++)
            if (sizes[assign[d]] > 1 && (far < 0 || sim[d] < sim[far])) far = d;
        if (far < 0) break;   /* cannot happen while M <= n */
        sizes[assign[far]]--;
        assign[far] = c;
        sizes[c] = 1;
        sim[far] = INFINITY;  /* a new centre is never moved again this round */
        moved++;
    }
    return moved;
}

/* Recomputes each centroid as the normalised sum of its documents, summed in
 * document order (members[] lists them cluster by cluster).  A cluster whose
 * sum is zero (all its documents empty) keeps its old centroid.  Returns the
 * spherical k-means objective of this assignment, sum over clusters of
 * |sum of members| = sum over documents of cos(x_d, own centroid), summed
 * in cluster order. */
static double update_step(const features *f, int M, const int *assign, const long *sizes,
                          int *members, long *first, double *acc_all, double *norms, float *C) {
    first[0] = 0;
    for (int c = 0; c < M; c++) first[c + 1] = first[c] + sizes[c];
    for (int c = 0; c < M; c++) first[M + 1 + c] = first[c];   /* fill cursors */
    for (int d = 0; d < f->n; d++) members[first[M + 1 + assign[d]]++] = d;
#pragma omp parallel for schedule(dynamic, 1)
    for (int c = 0; c < M; c++) {
        double *acc = acc_all + (size_t)c * f->F;
        memset(acc, 0, sizeof(double) * (size_t)f->F);
        for (long i = first[c]; i < first[c + 1]; i++) {
            int d = members[i];
            for (uint64_t k = f->row[d]; k < f->row[d + 1]; k++) acc[f->idx[k]] += f->val[k];
        }
        double ss = 0;
        for (int j = 0; j < f->F; j++) ss += acc[j] * acc[j];
        norms[c] = sqrt(ss);
    }
#pragma omp parallel for schedule(static)
    for (int j = 0; j < f->F; j++)
        for (int c = 0; c < M; c++)
            if (norms[c] > 0) C[(size_t)j * M + c] = (float)(acc_all[(size_t)c * f->F + j] / norms[c]);
    double obj = 0;
    for (int c = 0; c < M; c++) obj += norms[c];
    return obj;
}

/* Buffers of one clustering, allocated once for all restarts. */
typedef struct {
    float *C;          /* F x M centroids (feature-major) */
    float *tmp;        /* F x LOCO__KMEANS_CANDIDATES candidate centres, zero between uses */
    double *acc;       /* M x F sums */
    double *sim, *scratch, *norms;
    int *members;
    long *first, *sizes;
} workspace;

/* One k-means++ initialisation and Lloyd's iterations; leaves the labels in
 * assign and returns the objective (see update_step). */
static double run_once(const features *f, int M, int max_iter, loco_rng *rng, workspace *w,
                       int *assign) {
    int n = f->n;
    init_plusplus(f, M, rng, w->C, w->tmp, w->sim, w->scratch);
    for (int d = 0; d < n; d++) assign[d] = -1;
    for (int it = 0; it < max_iter; it++) {
        long changed = assign_step(f, M, w->C, assign, w->sim);
        loco_split_count(assign, n, M, w->sizes);
        changed += reseed_empty(f, M, assign, w->sim, w->sizes);
        if (changed == 0 && it > 0) break;   /* centroids already match the labels */
        double obj = update_step(f, M, assign, w->sizes, w->members, w->first, w->acc, w->norms, w->C);
        if (it == max_iter - 1) return obj;
    }
    return update_step(f, M, assign, w->sizes, w->members, w->first, w->acc, w->norms, w->C);
}

/* Returns LOCO_EINVAL (bad arguments, reason in msg) or LOCO_ENOMEM. */
int loco_split_kmeans(const loco_docs *docs, int M, uint64_t seed, int n_features,
                      int max_iter, int *assign, long *cluster_sizes,
                      char *msg, size_t msglen) {
    int err = loco_docs_check(docs, msg, msglen);
    if (err) return err;
    int n = docs->n_docs;
    if (M <= 0) return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: M = %d workers (must be >= 1)", M);
    if (M > n)
        return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: more workers than documents (%d > %d)", M, n);
    if (n_features < 1)
        return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: n_features = %d (must be >= 1)", n_features);
    if (max_iter < 1)
        return loco__fail(msg, msglen, LOCO_EINVAL, "k-means: max_iter = %d (must be >= 1)", max_iter);
    features f;
    if (features_build(&f, docs, n_features) != LOCO_OK)
        return loco__fail(msg, msglen, LOCO_ENOMEM, "k-means: out of memory building %d x %d features",
                    n, n_features);
    size_t MF = (size_t)M * (size_t)n_features;
    workspace w = {
        .C = malloc(sizeof(float) * MF), .tmp = calloc((size_t)n_features * LOCO__KMEANS_CANDIDATES, sizeof(float)), .acc = malloc(sizeof(double) * MF),
        .sim = malloc(sizeof(double) * (size_t)n), .scratch = malloc(sizeof(double) * LOCO__KMEANS_CANDIDATES * (size_t)n),
        .norms = malloc(sizeof(double) * (size_t)M), .members = malloc(sizeof(int) * (size_t)n),
        .first = malloc(sizeof(long) * (2 * (size_t)M + 1)), .sizes = malloc(sizeof(long) * (size_t)M)};
    int *trial = malloc(sizeof(int) * (size_t)n);
    if (!w.C || !w.tmp || !w.acc || !w.sim || !w.scratch || !w.norms || !w.members || !w.first || !w.sizes ||
        !trial) {
        err = loco__fail(msg, msglen, LOCO_ENOMEM, "k-means: out of memory for %d centroids of %d features",
                   M, n_features);
        goto done;
    }
    /* Lloyd's iterations only reach a local optimum: a bad initialisation can
     * merge two real groups and split off a handful of outliers.  The best of
     * a few restarts (by the objective; ties keep the earlier one), all drawn
     * from one rng stream, is far less likely to. */
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    double best = -INFINITY;
    for (int r = 0; r < LOCO__KMEANS_RESTARTS; r++) {
        double obj = run_once(&f, M, max_iter, &rng, &w, trial);
        if (obj > best) {
            best = obj;
            memcpy(assign, trial, sizeof(int) * (size_t)n);
        }
    }
    if (cluster_sizes) loco_split_count(assign, n, M, cluster_sizes);
done:
    features_free(&f);
    free(w.C); free(w.tmp); free(w.acc); free(w.sim); free(w.scratch); free(w.norms); free(w.members);
    free(w.first); free(w.sizes); free(trial);
    return err;
}
