/*
 * Worker splits (i.i.d. and by label) and the per-worker window sampler.
 * k-means lives in kmeans.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/split.h"
#include "core/fail.h"

struct loco_split {
    loco_docs docs;
    int M;
    int *doc_list;    /* worker w's documents: doc_list[first[w] .. first[w + 1]) */
    long *first;      /* M + 1 entries */
    /* cum[first[w] + w + k] = tokens in worker w's first k documents, k = 0..n_w;
     * each worker's run has one entry more than its documents. */
    uint64_t *cum;
};


/* Returns LOCO_EINVAL (reason in msg) for a malformed loco_docs. */
int loco_docs_check(const loco_docs *d, char *msg, size_t msglen) {
    if (!d || !d->offsets) return loco__fail(msg, msglen, LOCO_EINVAL, "documents: NULL offset array");
    if (d->n_docs <= 0) return loco__fail(msg, msglen, LOCO_EINVAL, "documents: no documents");
    if (d->token_bytes != 2 && d->token_bytes != 4)
        return loco__fail(msg, msglen, LOCO_EINVAL, "documents: token width %d bytes (must be 2 or 4)",
                    d->token_bytes);
    for (int i = 0; i < d->n_docs; i++)
        if (d->offsets[i + 1] < d->offsets[i])
            return loco__fail(msg, msglen, LOCO_EINVAL, "documents: offsets decrease at document %d", i);
    if (!d->tokens && d->offsets[d->n_docs] > d->offsets[0])
        return loco__fail(msg, msglen, LOCO_EINVAL, "documents: NULL token array");
    return LOCO_OK;
}

/* Returns LOCO_EINVAL (reason in msg) unless 0 < M <= n_docs. */
static int check_m(int n_docs, int M, char *msg, size_t msglen) {
    if (n_docs <= 0) return loco__fail(msg, msglen, LOCO_EINVAL, "split: no documents");
    if (M <= 0) return loco__fail(msg, msglen, LOCO_EINVAL, "split: M = %d workers (must be >= 1)", M);
    if (M > n_docs)
        return loco__fail(msg, msglen, LOCO_EINVAL, "split: more workers than documents (%d > %d)",
                    M, n_docs);
    return LOCO_OK;
}

/* Fisher-Yates: perm becomes a uniformly random permutation of 0..n-1 drawn
 * from `seed` (modulo bias is below 2^-32 for any n < 2^31). */
static void shuffle(int *perm, int n, uint64_t seed) {
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(loco_rng_u64(&rng) % (uint64_t)(i + 1));
        int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
}

/* Returns LOCO_EINVAL for bad M, LOCO_ENOMEM if the permutation cannot be allocated. */
int loco_split_iid(int n_docs, int M, uint64_t seed, int *assign, char *msg, size_t msglen) {
    int err = check_m(n_docs, M, msg, msglen);
    if (err) return err;
    int *perm = malloc(sizeof(int) * (size_t)n_docs);
    if (!perm) return loco__fail(msg, msglen, LOCO_ENOMEM, "split: out of memory");
    shuffle(perm, n_docs, seed);
    /* Slice w is positions [w n / M, (w + 1) n / M): sizes floor or ceil of n / M. */
    for (int w = 0; w < M; w++) {
        long lo = (long)w * n_docs / M, hi = (long)(w + 1) * n_docs / M;
        for (long i = lo; i < hi; i++) assign[perm[i]] = w;
    }
    free(perm);
    return LOCO_OK;
}

/* Returns LOCO_EINVAL for bad docs or M, LOCO_ENOMEM. */
int loco_split_iid_tokens(const loco_docs *docs, int M, uint64_t seed, int *assign,
                          char *msg, size_t msglen) {
    int err = loco_docs_check(docs, msg, msglen);
    if (!err) err = check_m(docs->n_docs, M, msg, msglen);
    if (err) return err;
    int n = docs->n_docs;
    int *perm = malloc(sizeof(int) * (size_t)n);
    if (!perm) return loco__fail(msg, msglen, LOCO_ENOMEM, "split: out of memory");
    shuffle(perm, n, seed);
    uint64_t total = docs->offsets[n] - docs->offsets[0], run = 0;
    int w = 0;
    for (int i = 0; i < n; i++) {
        /* Move to the next worker once the running count has reached its share
         * w+1 of M -- but only while the documents left can still give every
         * later worker one, and never before this worker has one. */
        int have_one = i > 0 && assign[perm[i - 1]] == w;
        while (w < M - 1 && have_one &&
               (run * (uint64_t)M >= total * (uint64_t)(w + 1) || n - i <= M - 1 - w)) {
            w++;
            have_one = 0;
        }
        assign[perm[i]] = w;
        run += docs->offsets[perm[i] + 1] - docs->offsets[perm[i]];
    }
    free(perm);
    return LOCO_OK;
}

void loco_split_count(const int *assign, int n_docs, int M, long *sizes) {
    for (int w = 0; w < M; w++) sizes[w] = 0;
    for (int d = 0; d < n_docs; d++)
        if (assign[d] >= 0 && assign[d] < M) sizes[assign[d]]++;
}

/* Returns the untruncated length of the line, like snprintf. */
int loco_split_sizes_format(char *buf, size_t buflen, const char *what, const char *unit,
                            const long *sizes, int M) {
    int n = snprintf(buf, buflen, "%s sizes (%s):", what, unit);
    for (int w = 0; w < M; w++) {
        char num[32];
        int k = snprintf(num, sizeof num, " %ld", sizes[w]);
        if (buf && (size_t)n + 1 < buflen) {   /* room for part of it and the NUL */
            size_t room = buflen - (size_t)n - 1, take = (size_t)k < room ? (size_t)k : room;
            memcpy(buf + n, num, take);
            buf[(size_t)n + take] = 0;
        }
        n += k;
    }
    return n;
}

/* -------------------------------------------------------------- labels */

typedef struct { const char *label; long count; int id; } label_entry;
typedef struct { const char *label; int doc; } doc_label;

static int by_label(const void *a, const void *b) {
    return strcmp(((const doc_label *)a)->label, ((const doc_label *)b)->label);
}

/* Largest first; ties in label order (id ascending). */
static int by_count_desc(const void *a, const void *b) {
    const label_entry *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return x->id - y->id;
}

/* Returns LOCO_EINVAL (NULL label, bad M, M above the label count) or LOCO_ENOMEM. */
int loco_split_by_label(const char *const *labels, int n_docs, int M, int *assign,
                        int *n_labels_out, char *msg, size_t msglen) {
    if (!labels || n_docs <= 0) return loco__fail(msg, msglen, LOCO_EINVAL, "split: no documents");
    if (M <= 0) return loco__fail(msg, msglen, LOCO_EINVAL, "split: M = %d workers (must be >= 1)", M);
    for (int d = 0; d < n_docs; d++)
        if (!labels[d]) return loco__fail(msg, msglen, LOCO_EINVAL, "split: document %d has no label", d);
    doc_label *order = malloc(sizeof(doc_label) * (size_t)n_docs);
    int *label_of = malloc(sizeof(int) * (size_t)n_docs);
    label_entry *ent = malloc(sizeof(label_entry) * (size_t)n_docs);
    int *worker_of = malloc(sizeof(int) * (size_t)n_docs);
    long *load = malloc(sizeof(long) * (size_t)M);
    int err = LOCO_OK;
    if (!order || !label_of || !ent || !worker_of || !load) {
        err = loco__fail(msg, msglen, LOCO_ENOMEM, "split: out of memory");
        goto done;
    }
    /* Sort document indices by label (a stable tie order is not needed: only
     * the distinct labels and their counts are used). */
    for (int d = 0; d < n_docs; d++) order[d] = (doc_label){labels[d], d};
    qsort(order, (size_t)n_docs, sizeof *order, by_label);
    int K = 0;
    for (int i = 0; i < n_docs; i++) {
        const char *l = order[i].label;
        if (i == 0 || strcmp(l, ent[K - 1].label) != 0) {
            ent[K] = (label_entry){l, 0, K};
            K++;
        }
        ent[K - 1].count++;
        label_of[order[i].doc] = K - 1;
    }
    if (n_labels_out) *n_labels_out = K;
    if (M > K) {
        err = loco__fail(msg, msglen, LOCO_EINVAL, "split: %d workers but only %d labels", M, K);
        goto done;
    }
    if (M == K) {
        for (int k = 0; k < K; k++) worker_of[k] = k;
    } else {
        qsort(ent, (size_t)K, sizeof *ent, by_count_desc);
        for (int w = 0; w < M; w++) load[w] = 0;
        for (int i = 0; i < K; i++) {
            int best = 0;
            for (int w = 1; w < M; w++)
                if (load[w] < load[best]) best = w;
            worker_of[ent[i].id] = best;
            load[best] += ent[i].count;
        }
    }
    for (int d = 0; d < n_docs; d++) assign[d] = worker_of[label_of[d]];
done:
    free(order); free(label_of); free(ent); free(worker_of); free(load);
    return err;
}

/* -------------------------------------------------------------- windows */

/* Returns LOCO_EINVAL (bad docs, M, or assignment) or LOCO_ENOMEM. */
int loco_split_create(loco_split **out, const loco_docs *docs, const int *assign, int M,
                      char *msg, size_t msglen) {
    return loco_split_create_topk(out, docs, assign, 1, M, msg, msglen);
}

/* Returns LOCO_EINVAL (reason in msg) or LOCO_ENOMEM. */
int loco_split_create_topk(loco_split **out, const loco_docs *docs, const int *assign, int k, int M,
                           char *msg, size_t msglen) {
    *out = NULL;
    int err = loco_docs_check(docs, msg, msglen);
    if (err) return err;
    if (M <= 0) return loco__fail(msg, msglen, LOCO_EINVAL, "split: M = %d workers (must be >= 1)", M);
    if (k < 1 || k > M) return loco__fail(msg, msglen, LOCO_EINVAL, "split: %d workers per document "
                                          "(must be in [1, %d])", k, M);
    const int n = docs->n_docs;
    for (int d = 0; d < n; d++)
        for (int j = 0; j < k; j++) {
            const int w = assign[(size_t)d * k + j];
            if (w < 0 || w >= M)
                return loco__fail(msg, msglen, LOCO_EINVAL, "split: document %d assigned to worker %d "
                                  "(must be in [0, %d))", d, w, M);
            for (int i = 0; i < j; i++)
                if (assign[(size_t)d * k + i] == w)
                    return loco__fail(msg, msglen, LOCO_EINVAL, "split: document %d assigned to worker %d "
                                      "twice", d, w);
        }
    const size_t nk = (size_t)n * (size_t)k;
    loco_split *s = calloc(1, sizeof *s);
    if (s) {
        s->doc_list = malloc(sizeof(int) * nk);
        s->first = calloc((size_t)M + 1, sizeof(long));
        s->cum = malloc(sizeof(uint64_t) * (nk + (size_t)M));
    }
    if (!s || !s->doc_list || !s->first || !s->cum) {
        loco_split_free(s);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "split: out of memory");
    }
    s->docs = *docs;
    s->M = M;
    /* Counting sort by worker keeps each worker's documents in document
     * order; with k > 1 a document is in k workers' lists (overlapping
     * shards). */
    for (size_t i = 0; i < nk; i++) s->first[assign[i] + 1]++;
    for (int w = 0; w < M; w++) s->first[w + 1] += s->first[w];
    long *fill = malloc(sizeof(long) * (size_t)M);
    if (!fill) {
        loco_split_free(s);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "split: out of memory");
    }
    memcpy(fill, s->first, sizeof(long) * (size_t)M);
    for (int d = 0; d < n; d++)
        for (int j = 0; j < k; j++) s->doc_list[fill[assign[(size_t)d * k + j]]++] = d;
    free(fill);
    for (int w = 0; w < M; w++) {
        uint64_t *c = s->cum + s->first[w] + w;
        c[0] = 0;
        for (long i = 0; i < s->first[w + 1] - s->first[w]; i++) {
            int d = s->doc_list[s->first[w] + i];
            c[i + 1] = c[i] + (docs->offsets[d + 1] - docs->offsets[d]);
        }
    }
    *out = s;
    return LOCO_OK;
}

void loco_split_free(loco_split *s) {
    if (!s) return;
    free(s->doc_list);
    free(s->first);
    free(s->cum);
    free(s);
}

int loco_split_workers(const loco_split *s) { return s->M; }

long loco_split_worker_docs(const loco_split *s, int w) {
    return w < 0 || w >= s->M ? 0 : s->first[w + 1] - s->first[w];
}

uint64_t loco_split_worker_tokens(const loco_split *s, int w) {
    if (w < 0 || w >= s->M) return 0;
    return s->cum[s->first[w + 1] + w];   /* the last entry of worker w's run */
}

const int *loco_split_worker_doc_list(const loco_split *s, int w) {
    return w < 0 || w >= s->M ? NULL : s->doc_list + s->first[w];
}

/* Returns LOCO_EINVAL for a bad worker, B, T, or a worker with < T + 1 tokens. */
int loco_worker_batch(const loco_split *s, int w, loco_rng *rng, int B, int T,
                      int *tokens, int *targets) {
    if (w < 0 || w >= s->M || B < 1 || T < 1) return LOCO_EINVAL;
    long nd = s->first[w + 1] - s->first[w];
    const int *list = s->doc_list + s->first[w];
    const uint64_t *cum = s->cum + s->first[w] + w;
    const uint64_t *off = s->docs.offsets;
    uint64_t n_tok = cum[nd];
    if (n_tok < (uint64_t)T + 1) return LOCO_EINVAL;
    uint64_t span = n_tok - (uint64_t)T;   /* number of valid window starts */
    for (int b = 0; b < B; b++) {
        uint64_t start = loco_rng_u64(rng) % span;
        /* The document holding stream position `start`: the last k with
         * cum[k] <= start.  Among empty documents (equal cum) this picks the
         * last, which is the non-empty one that holds the position. */
        long lo = 0, hi = nd;                 /* cum[lo] <= start < cum[hi] */
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (cum[mid] <= start) lo = mid; else hi = mid;
        }
        long k = lo;
        uint64_t pos = off[list[k]] + (start - cum[k]);
        for (int t = 0; t <= T; t++) {
            while (pos == off[list[k] + 1]) {   /* end of this document: next one */
                k++;
                pos = off[list[k]];
            }
            int v = (int)loco_docs_token(&s->docs, pos++);
            if (t < T) tokens[b * T + t] = v;
            if (t > 0) targets[b * T + t - 1] = v;
        }
    }
    return LOCO_OK;
}
