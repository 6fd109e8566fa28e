/*
 * Splitting a corpus of documents across M workers, and sampling each
 * worker's training windows.
 *
 * DiLoCo-style experiments train M workers on either i.i.d. slices of the
 * data or on deliberately different slices (non-i.i.d.).  Three splits:
 *   - loco_split_iid:      a seeded shuffle cut into M disjoint slices;
 *   - loco_split_kmeans:   spherical k-means over hashed unigram + bigram
 *                          TF-IDF features of the documents' token ids;
 *   - loco_split_by_label: one or more labels (e.g. Brown's genres) per worker.
 * Each returns assign[d] in [0, M) for every document d.  loco_split_create
 * then gathers each worker's documents, and loco_worker_batch draws (B, T+1)
 * windows from a worker's token stream (its documents concatenated).
 *
 * The documents are described independently of any file format by
 * loco_docs: a token array (uint16 or uint32 ids, as token shards store them)
 * and n_docs + 1 offsets into it.  See docs/data_splits.md for the math.
 */
#ifndef LOCO_SPLIT_H
#define LOCO_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Documents: document d is tokens[offsets[d] .. offsets[d + 1]).  Borrowed:
 * nothing here copies or frees the arrays. */
typedef struct {
    const void *tokens;        /* token ids, token_bytes wide each */
    int token_bytes;           /* 2 (uint16_t ids) or 4 (uint32_t ids) */
    const uint64_t *offsets;   /* n_docs + 1 non-decreasing entries */
    int n_docs;
} loco_docs;

/* Token i of the array (not of a document). */
static inline uint32_t loco_docs_token(const loco_docs *d, uint64_t i) {
    return d->token_bytes == 2 ? ((const uint16_t *)d->tokens)[i]
                               : ((const uint32_t *)d->tokens)[i];
}

/* Checks a loco_docs; returns LOCO_EINVAL (reason in msg) for a NULL array,
 * a token width other than 2 or 4, n_docs <= 0, or decreasing offsets. */
int loco_docs_check(const loco_docs *docs, char *msg, size_t msglen);

/* I.i.d. split balanced by document count: the documents are shuffled by a
 * Fisher-Yates permutation seeded by `seed`, and the permutation is cut into
 * M contiguous slices whose sizes differ by at most one.  Returns LOCO_EINVAL
 * (reason in msg) if M <= 0 or M > n_docs ("more workers than documents"). */
int loco_split_iid(int n_docs, int M, uint64_t seed, int *assign,
                   char *msg, size_t msglen);

/* I.i.d. split balanced by token count: the same seeded shuffle, cut where the
 * running token count crosses k/M of the total (k = 1..M-1), every worker
 * keeping at least one document.  Returns LOCO_EINVAL (reason in msg) for bad
 * docs, M <= 0 or M > n_docs. */
int loco_split_iid_tokens(const loco_docs *docs, int M, uint64_t seed, int *assign,
                          char *msg, size_t msglen);

/* Non-i.i.d. split by spherical k-means into M clusters.  Features: hashed
 * unigram and bigram counts of the token ids into n_features buckets,
 * sublinear TF times smoothed IDF, L2-normalised.  Greedy k-means++
 * initialisation from `seed`, at most max_iter Lloyd iterations (stops early
 * when no assignment changes), empty clusters re-seeded deterministically; the
 * best of 8 such runs (by the objective) is returned.  The result depends on
 * the seed only, never on the thread count.  About 10 s for 10k documents of
 * 1k tokens on 2 cores (M = 16, n_features = 2^16).  cluster_sizes (M
 * entries, may be NULL) receives the documents per cluster.  Returns
 * LOCO_EINVAL (reason in msg) for bad docs, M <= 0, M > n_docs, n_features <
 * 1 or max_iter < 1; LOCO_ENOMEM if the feature matrix cannot be allocated. */
int loco_split_kmeans(const loco_docs *docs, int M, uint64_t seed, int n_features,
                      int max_iter, int *assign, long *cluster_sizes,
                      char *msg, size_t msglen);

/* Split by a label per document.  The distinct labels, sorted by strcmp, are
 * numbered 0..K-1.  If M == K, label k goes to worker k.  If M < K, labels are
 * dealt largest first (ties: label order) to the worker holding the fewest
 * documents so far (ties: lowest worker), a greedy balance.  *n_labels_out
 * (may be NULL) receives K.  Returns LOCO_EINVAL (reason in msg) for a NULL
 * label, M <= 0, or M > K ("M workers but only K labels"); LOCO_ENOMEM. */
int loco_split_by_label(const char *const *labels, int n_docs, int M, int *assign,
                        int *n_labels_out, char *msg, size_t msglen);

/* Counts the documents per worker: sizes[w] = #{d : assign[d] == w} for w in
 * [0, M); entries of assign outside [0, M) are ignored. */
void loco_split_count(const int *assign, int n_docs, int M, long *sizes);

/* Formats "<what> sizes (<unit>): n0 n1 ... n{M-1}" into buf (e.g. what =
 * "cluster", unit = "docs"), truncated to buflen.  Returns the length the
 * full line would have (like snprintf). */
int loco_split_sizes_format(char *buf, size_t buflen, const char *what,
                            const char *unit, const long *sizes, int M);

/* ------------------------------------------------------- worker windows */

/* The documents of each worker, gathered once so that drawing a batch
 * allocates nothing.  Borrows the loco_docs arrays. */
typedef struct loco_split loco_split;

/* Gathers each worker's documents (in document order) from assign.  Returns
 * LOCO_EINVAL (reason in msg) for bad docs, M <= 0 or an assignment outside
 * [0, M); LOCO_ENOMEM. */
int loco_split_create(loco_split **out, const loco_docs *docs, const int *assign,
                      int M, char *msg, size_t msglen);
/* The same with k workers per document: assign is (n_docs, k), row d the
 * k distinct workers that hold document d (overlapping shards, as DiPaCo's
 * top-k routing gives).  k = 1 is loco_split_create.  Returns LOCO_EINVAL
 * also for k outside [1, M] or a worker named twice in a row. */
int loco_split_create_topk(loco_split **out, const loco_docs *docs, const int *assign, int k,
                           int M, char *msg, size_t msglen);
void loco_split_free(loco_split *s);

int loco_split_workers(const loco_split *s);
/* Documents and tokens held by worker w (0 for w out of range). */
long loco_split_worker_docs(const loco_split *s, int w);
uint64_t loco_split_worker_tokens(const loco_split *s, int w);
/* The documents of worker w, in document order (NULL for w out of range). */
const int *loco_split_worker_doc_list(const loco_split *s, int w);

/* Fills tokens (B, T) and targets (B, T) with B windows of T + 1 consecutive
 * tokens of worker w's stream (its documents concatenated in document order),
 * each start drawn uniformly from rng; targets are the tokens shifted by one.
 * Windows may span a document boundary but never leave the worker's stream.
 * Allocates nothing.  Returns LOCO_EINVAL if w is out of range, B or T < 1, or
 * the worker holds fewer than T + 1 tokens. */
int loco_worker_batch(const loco_split *s, int w, loco_rng *rng, int B, int T,
                      int *tokens, int *targets);

#ifdef __cplusplus
}
#endif
#endif
