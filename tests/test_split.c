/* Worker splits (i.i.d., k-means, by label), their size report, and the
 * per-worker window sampler. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_count.h"
#include "loco/split.h"
#include "test.h"

LOCO_TEST(split_iid_covers_every_doc_once) {
    enum { N = 1003, M = 7 };
    static int a[N], b[N], c[N];
    char msg[200];
    CHECK(loco_split_iid(N, M, 42, a, msg, sizeof msg) == LOCO_OK, "%s", msg);
    long sizes[M];
    loco_split_count(a, N, M, sizes);
    long total = 0;
    for (int w = 0; w < M; w++) {
        /* N / M = 143.3: every slice holds 143 or 144 documents. */
        CHECK(sizes[w] == N / M || sizes[w] == N / M + 1, "worker %d holds %ld docs", w, sizes[w]);
        total += sizes[w];
    }
    int in_range = 1;
    for (int d = 0; d < N; d++) in_range &= a[d] >= 0 && a[d] < M;
    CHECK(in_range && total == N, "every document assigned exactly once (total %ld)", total);
    CHECK(loco_split_iid(N, M, 42, b, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(memcmp(a, b, sizeof a) == 0, "same seed gave a different split");
    CHECK(loco_split_iid(N, M, 43, c, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(memcmp(a, c, sizeof a) != 0, "another seed gave the same split");
    /* A shuffle, not blocks of consecutive documents. */
    int runs = 0;
    for (int d = 1; d < N; d++) runs += a[d] == a[d - 1];
    CHECK(runs < N / 2, "%d of %d neighbours share a worker: not shuffled", runs, N);

    CHECK(loco_split_iid(N, 0, 1, a, msg, sizeof msg) == LOCO_EINVAL, "M = 0 accepted");
    CHECK(loco_split_iid(5, 6, 1, a, msg, sizeof msg) == LOCO_EINVAL, "M > n_docs accepted");
    CHECK(strstr(msg, "more workers than documents") != NULL, "message: %s", msg);
}

LOCO_TEST(split_iid_tokens_balances_tokens) {
    enum { N = 500, M = 6 };
    static uint64_t off[N + 1];
    loco_rng rng;
    loco_rng_seed(&rng, 9);
    uint64_t max_len = 0;
    for (int d = 0; d < N; d++) {
        uint64_t len = loco_rng_u64(&rng) % 400;    /* includes empty documents */
        off[d + 1] = off[d] + len;
        if (len > max_len) max_len = len;
    }
    uint32_t *tok = calloc(off[N], sizeof(uint32_t));
    loco_docs docs = {tok, 4, off, N};
    static int a[N];
    char msg[200];
    CHECK(loco_split_iid_tokens(&docs, M, 5, a, msg, sizeof msg) == LOCO_OK, "%s", msg);
    uint64_t per[M] = {0};
    long sizes[M];
    loco_split_count(a, N, M, sizes);
    for (int d = 0; d < N; d++) per[a[d]] += off[d + 1] - off[d];
    for (int w = 0; w < M; w++) {
        double share = (double)off[N] / M;
        CHECK(sizes[w] >= 1, "worker %d has no document", w);
        CHECK(per[w] + max_len >= share && per[w] <= share + 2 * max_len,
              "worker %d holds %llu tokens, share %.0f", w, (unsigned long long)per[w], share);
    }
    /* Every worker keeps a document even when M is close to n_docs. */
    static int b[N];
    CHECK(loco_split_iid_tokens(&docs, N, 5, b, msg, sizeof msg) == LOCO_OK, "%s", msg);
    static long one[N];
    loco_split_count(b, N, N, one);
    int all_one = 1;
    for (int w = 0; w < N; w++) all_one &= one[w] == 1;
    CHECK(all_one, "M = n_docs must give one document per worker");
    free(tok);
}

/* Synthetic corpus of G groups: each document mixes tokens from a pool shared
 * by all groups with tokens from its own group's pool. */
typedef struct { uint64_t off[601]; uint16_t tok[600 * 300]; int group[600]; } synth;

static void make_synth(synth *s, int n, int G, uint64_t seed) {
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    s->off[0] = 0;
    for (int d = 0; d < n; d++) {
        int g = d % G;   /* interleaved, so the groups are not contiguous */
        int len = 20 + (int)(loco_rng_u64(&rng) % 280);
        for (int i = 0; i < len; i++) {
            uint64_t r = loco_rng_u64(&rng);
            /* 60% common tokens 0..99, 40% from group g's own 200 tokens;
             * squaring the uniform skews both pools towards low ids. */
            double u = loco_rng_uniform(&rng);
            int k = (int)(u * u * (r % 10 < 6 ? 100 : 200));
            s->tok[s->off[d] + i] = (uint16_t)(r % 10 < 6 ? k : 100 + 200 * g + k);
        }
        s->off[d + 1] = s->off[d] + (uint64_t)len;
        s->group[d] = g;
    }
}

/* Fraction of documents whose cluster's majority group is their own group. */
static double purity(const int *assign, const int *group, int n, int M, int G) {
    static long table[64][64];
    memset(table, 0, sizeof table);
    for (int d = 0; d < n; d++) table[assign[d]][group[d]]++;
    long hit = 0;
    for (int c = 0; c < M; c++) {
        long best = 0;
        for (int g = 0; g < G; g++) if (table[c][g] > best) best = table[c][g];
        hit += best;
    }
    return (double)hit / n;
}

LOCO_TEST(kmeans_recovers_groups_deterministically) {
    enum { N = 600, G = 5 };
    static synth s;
    make_synth(&s, N, G, 17);
    loco_docs docs = {s.tok, 2, s.off, N};
    static int a[N], b[N], c[N];
    long sizes[G];
    char msg[200];
    loco_threads_set(2);
    CHECK(loco_split_kmeans(&docs, G, 1, 1 << 14, 50, a, sizes, msg, sizeof msg) == LOCO_OK, "%s", msg);
    double p = purity(a, s.group, N, G, G);
    char line[200];
    loco_split_sizes_format(line, sizeof line, "cluster", "docs", sizes, G);
    printf("  k-means on %d synthetic docs of %d groups: purity %.3f, %s\n", N, G, p, line);
    CHECK(p > 0.95, "purity %.3f", p);
    long total = 0;
    for (int g = 0; g < G; g++) total += sizes[g];
    CHECK(total == N, "cluster sizes sum to %ld", total);
    CHECK(loco_split_kmeans(&docs, G, 1, 1 << 14, 50, b, NULL, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(memcmp(a, b, sizeof a) == 0, "same seed gave a different clustering");
    /* Per-document work is per-thread and every sum runs in index order: one
     * thread gives the same labels as two. */
    loco_threads_set(1);
    CHECK(loco_split_kmeans(&docs, G, 1, 1 << 14, 50, c, NULL, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(memcmp(a, c, sizeof a) == 0, "1 thread and 2 threads differ");
    loco_threads_set(2);

    /* The same corpus as uint32 ids clusters identically. */
    static uint32_t wide[600 * 300];
    for (uint64_t i = 0; i < s.off[N]; i++) wide[i] = s.tok[i];
    loco_docs docs32 = {wide, 4, s.off, N};
    CHECK(loco_split_kmeans(&docs32, G, 1, 1 << 14, 50, c, NULL, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(memcmp(a, c, sizeof a) == 0, "uint16 and uint32 tokens differ");
}

/* Two groups with the same unigram distribution (uniform over 0..49) that
 * differ only in which token follows which: pairs (x, x + 1) against pairs
 * (x, x + 7), mod 50.  Only the bigram features can tell them apart. */
LOCO_TEST(kmeans_uses_bigrams) {
    enum { N = 120, LEN = 200 };
    static uint64_t off[N + 1];
    static uint32_t tok[N * LEN];
    static int group[N], a[N];
    loco_rng rng;
    loco_rng_seed(&rng, 5);
    for (int d = 0; d < N; d++) {
        group[d] = d % 2;
        off[d + 1] = off[d] + LEN;
        for (int i = 0; i < LEN; i += 2) {
            uint32_t x = (uint32_t)(loco_rng_u64(&rng) % 50);
            tok[off[d] + i] = x;
            tok[off[d] + i + 1] = (x + (group[d] ? 7 : 1)) % 50;
        }
    }
    loco_docs docs = {tok, 4, off, N};
    char msg[200];
    CHECK(loco_split_kmeans(&docs, 2, 1, 1 << 14, 50, a, NULL, msg, sizeof msg) == LOCO_OK, "%s", msg);
    double p = purity(a, group, N, 2, 2);
    CHECK(p > 0.95, "purity %.3f: bigrams ignored?", p);
}

LOCO_TEST(kmeans_reseeds_and_rejects_bad_input) {
    /* Ten identical documents and one different one, three clusters: k-means++
     * runs out of distinct centres, so a cluster starts empty and must be
     * re-seeded; every cluster still ends non-empty. */
    enum { N = 11 };
    uint64_t off[N + 1];
    uint32_t tok[N * 4];
    for (int d = 0; d <= N; d++) off[d] = 4 * (uint64_t)d;
    for (int i = 0; i < N * 4; i++) tok[i] = i < 40 ? (uint32_t)(i % 4) : 7;
    loco_docs docs = {tok, 4, off, N};
    int a[N];
    long sizes[3];
    char msg[200];
    CHECK(loco_split_kmeans(&docs, 3, 3, 256, 10, a, sizes, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(sizes[0] > 0 && sizes[1] > 0 && sizes[2] > 0, "sizes %ld %ld %ld", sizes[0], sizes[1], sizes[2]);
    CHECK(a[10] != a[0], "the odd document shares a cluster with the others");

    CHECK(loco_split_kmeans(&docs, 12, 3, 256, 10, a, NULL, msg, sizeof msg) == LOCO_EINVAL, "M > n");
    CHECK(strstr(msg, "more workers than documents") != NULL, "message: %s", msg);
    CHECK(loco_split_kmeans(&docs, 0, 3, 256, 10, a, NULL, msg, sizeof msg) == LOCO_EINVAL, "M = 0");
    CHECK(loco_split_kmeans(&docs, 2, 3, 0, 10, a, NULL, msg, sizeof msg) == LOCO_EINVAL, "F = 0");
    CHECK(loco_split_kmeans(&docs, 2, 3, 256, 0, a, NULL, msg, sizeof msg) == LOCO_EINVAL, "0 iterations");
    loco_docs bad = {tok, 3, off, N};
    CHECK(loco_split_kmeans(&bad, 2, 3, 256, 10, a, NULL, msg, sizeof msg) == LOCO_EINVAL, "width 3");
    uint64_t dec[3] = {0, 8, 4};
    loco_docs bad2 = {tok, 4, dec, 2};
    CHECK(loco_split_kmeans(&bad2, 2, 3, 256, 10, a, NULL, msg, sizeof msg) == LOCO_EINVAL, "offsets");
    CHECK(strstr(msg, "decrease") != NULL, "message: %s", msg);
}

static const char *const genres[15] = {
    "adventure", "belles_lettres", "editorial", "fiction", "government", "hobbies", "humor",
    "learned", "lore", "mystery", "news", "religion", "reviews", "romance", "science_fiction"};

LOCO_TEST(split_by_label_15_genres) {
    enum { N = 500 };
    static const char *labels[N];
    static int a[N];
    long count[15] = {0};
    /* Uneven genre sizes, in scrambled order: genre (7 d) mod 15 with a skew. */
    for (int d = 0; d < N; d++) {
        int g = (d * 7 + d / 50) % 15;
        if (d % 3 == 0) g = d % 4;   /* genres 0-3 get extra documents */
        labels[d] = genres[g];
        count[g]++;
    }
    char msg[200];
    int K = 0;
    CHECK(loco_split_by_label(labels, N, 15, a, &K, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(K == 15, "K = %d", K);
    int ok = 1;
    for (int d = 0; d < N; d++) ok &= strcmp(labels[d], genres[a[d]]) == 0;
    CHECK(ok, "M == K must give sorted label k to worker k");

    CHECK(loco_split_by_label(labels, N, 4, a, &K, msg, sizeof msg) == LOCO_OK, "%s", msg);
    int worker_of[15];
    for (int g = 0; g < 15; g++) worker_of[g] = -1;
    int whole = 1;
    for (int d = 0; d < N; d++) {
        int g = 0;
        while (strcmp(genres[g], labels[d])) g++;
        if (worker_of[g] >= 0 && worker_of[g] != a[d]) whole = 0;
        worker_of[g] = a[d];
    }
    CHECK(whole, "a label was split across workers");
    long sizes[4];
    loco_split_count(a, N, 4, sizes);
    long mx = 0, mn = N, biggest = 0;
    for (int w = 0; w < 4; w++) { if (sizes[w] > mx) mx = sizes[w]; if (sizes[w] < mn) mn = sizes[w]; }
    for (int g = 0; g < 15; g++) if (count[g] > biggest) biggest = count[g];
    /* Greedy largest-first keeps the spread within the largest label. */
    CHECK(mn > 0 && mx - mn <= biggest, "sizes %ld %ld %ld %ld", sizes[0], sizes[1], sizes[2], sizes[3]);

    /* Largest first to the least-loaded worker: a(5) -> 0, b(4) -> 1, c(3) -> 1,
     * d(2) -> 0, e(1) -> 0 (a 7-7 tie goes to the lower worker). */
    const char *small[15] = {"c", "a", "b", "a", "e", "d", "a", "b", "c", "a", "d", "b", "a", "c", "b"};
    int sa[15], want[15];
    for (int d = 0; d < 15; d++) want[d] = small[d][0] == 'b' || small[d][0] == 'c';
    CHECK(loco_split_by_label(small, 15, 2, sa, &K, msg, sizeof msg) == LOCO_OK && K == 5, "%s", msg);
    CHECK(memcmp(sa, want, sizeof sa) == 0, "greedy balance: a, d, e on worker 0; b, c on worker 1");

    CHECK(loco_split_by_label(labels, N, 20, a, &K, msg, sizeof msg) == LOCO_EINVAL, "M > K accepted");
    CHECK(strstr(msg, "20 workers but only 15 labels") != NULL, "message: %s", msg);
    labels[3] = NULL;
    CHECK(loco_split_by_label(labels, N, 4, a, &K, msg, sizeof msg) == LOCO_EINVAL, "NULL label");
}

LOCO_TEST(split_sizes_format_line) {
    long sizes[3] = {412, 233, 7};
    char buf[64];
    int n = loco_split_sizes_format(buf, sizeof buf, "cluster", "docs", sizes, 3);
    CHECK(strcmp(buf, "cluster sizes (docs): 412 233 7") == 0, "got '%s'", buf);
    CHECK(n == (int)strlen("cluster sizes (docs): 412 233 7"), "length %d", n);
    char small[16];
    int m = loco_split_sizes_format(small, sizeof small, "cluster", "docs", sizes, 3);
    CHECK(m == n && strlen(small) == 15 && strncmp(small, buf, 15) == 0, "truncated to '%s'", small);
}

/* Checks every window of a batch against worker w's stream, built here
 * independently; returns the number of bad windows. */
static int check_windows(const loco_docs *docs, const int *assign, int w, int B, int T,
                         const int *tok, const int *tgt) {
    static uint32_t stream[1 << 16];
    long n = 0;
    for (int d = 0; d < docs->n_docs; d++)
        if (assign[d] == w)
            for (uint64_t i = docs->offsets[d]; i < docs->offsets[d + 1]; i++)
                stream[n++] = loco_docs_token(docs, i);
    int bad = 0;
    for (int b = 0; b < B; b++) {
        long at = -1;   /* token values are unique, so the start is unique */
        for (long i = 0; i + T < n && at < 0; i++) if (stream[i] == (uint32_t)tok[b * T]) at = i;
        if (at < 0) { bad++; continue; }
        for (int t = 0; t < T; t++)
            if (tok[b * T + t] != (int)stream[at + t] || tgt[b * T + t] != (int)stream[at + t + 1]) {
                bad++;
                break;
            }
    }
    return bad;
}

LOCO_TEST(split_worker_batch_windows) {
    enum { N = 60, M = 3, B = 16, T = 24 };
    static uint64_t off[N + 1];
    static uint32_t tok32[1 << 15];
    static uint16_t tok16[1 << 15];
    loco_rng g;
    loco_rng_seed(&g, 4);
    for (int d = 0; d < N; d++)
        off[d + 1] = off[d] + (d % 7 == 0 ? 0 : loco_rng_u64(&g) % 40);  /* some empty, many short */
    for (uint64_t i = 0; i < off[N]; i++) tok32[i] = tok16[i] = (uint16_t)i;  /* unique values */
    int assign[N];
    char msg[200];
    CHECK(loco_split_iid(N, M, 8, assign, msg, sizeof msg) == LOCO_OK, "%s", msg);
    for (int width = 2; width <= 4; width += 2) {
        loco_docs docs = {width == 2 ? (const void *)tok16 : (const void *)tok32, width, off, N};
        loco_split *s;
        CHECK(loco_split_create(&s, &docs, assign, M, msg, sizeof msg) == LOCO_OK, "%s", msg);
        if (!s) return;
        long nd = 0;
        for (int w = 0; w < M; w++) {
            nd += loco_split_worker_docs(s, w);
            const int *list = loco_split_worker_doc_list(s, w);
            int sorted = 1;
            for (long k = 0; k < loco_split_worker_docs(s, w); k++)
                sorted &= assign[list[k]] == w && (k == 0 || list[k] > list[k - 1]);
            CHECK(sorted, "worker %d's document list", w);
        }
        CHECK(nd == N, "workers hold %ld documents", nd);
        int tok[B * T], tgt[B * T], tok2[B * T], tgt2[B * T];
        for (int w = 0; w < M; w++) {
            loco_rng r1, r2;
            loco_rng_seed(&r1, 100 + w);
            loco_rng_seed(&r2, 100 + w);
            for (int rep = 0; rep < 20; rep++) {
                long before = loco_test_allocs;
                CHECK(loco_worker_batch(s, w, &r1, B, T, tok, tgt) == LOCO_OK, "worker %d", w);
                CHECK(loco_test_allocs == before, "a batch allocated");
                CHECK(check_windows(&docs, assign, w, B, T, tok, tgt) == 0,
                      "worker %d: a window leaves its stream or targets are not shifted", w);
                loco_worker_batch(s, w, &r2, B, T, tok2, tgt2);
                CHECK(memcmp(tok, tok2, sizeof tok) == 0 && memcmp(tgt, tgt2, sizeof tgt) == 0,
                      "same rng state gave another batch");
            }
        }
        /* Windows reach the very last token of a worker's stream. */
        uint64_t nt = loco_split_worker_tokens(s, 0);
        CHECK(nt > 1, "worker 0 has %llu tokens", (unsigned long long)nt);
        loco_rng r;
        loco_rng_seed(&r, 1);
        int Tfull = (int)nt - 1, *big = malloc(sizeof(int) * nt * 2);
        CHECK(loco_worker_batch(s, 0, &r, 1, Tfull, big, big + nt) == LOCO_OK, "window of the whole stream");
        CHECK(check_windows(&docs, assign, 0, 1, Tfull, big, big + nt) == 0, "whole-stream window");
        CHECK(loco_worker_batch(s, 0, &r, 1, Tfull + 1, big, big + nt) == LOCO_EINVAL,
              "a window longer than the stream accepted");
        free(big);
        CHECK(loco_worker_batch(s, M, &r, 1, 4, tok, tgt) == LOCO_EINVAL, "worker M accepted");
        loco_split_free(s);
    }
    int bad_assign[N];
    memcpy(bad_assign, assign, sizeof bad_assign);
    bad_assign[5] = M;
    loco_docs docs = {tok32, 4, off, N};
    loco_split *s;
    CHECK(loco_split_create(&s, &docs, bad_assign, M, msg, sizeof msg) == LOCO_EINVAL, "bad assignment");
}

/* Byte-level k-means of the Brown corpus into its 15 genres, when the shared
 * data folder is present: reports sizes and purity; checks only that it runs. */
LOCO_TEST(kmeans_brown_report) {
    FILE *f = fopen("../shared/data/brown/brown_untagged.jsonl", "rb");
    if (!f) {
        printf("  (no ../shared/data/brown: skipped)\n");
        return;
    }
    enum { MAXD = 1000 };
    static uint64_t off[MAXD + 1];
    static int group[MAXD];
    static char *cats[MAXD];
    static char line[1 << 20];
    uint8_t *bytes = NULL;
    size_t cap = 0;
    int n = 0;
    while (n < MAXD && fgets(line, sizeof line, f)) {
        cJSON *j = cJSON_Parse(line);
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(j, "text"));
        const char *cat = cJSON_GetStringValue(cJSON_GetObjectItem(j, "category"));
        if (text && cat) {
            size_t len = strlen(text);
            if (off[n] + len > cap) {
                cap = (off[n] + len) * 2;
                bytes = realloc(bytes, cap);
            }
            memcpy(bytes + off[n], text, len);
            off[n + 1] = off[n] + len;
            cats[n] = strdup(cat);
            n++;
        }
        cJSON_Delete(j);
    }
    fclose(f);
    CHECK(n > 15, "read %d documents", n);
    if (n <= 15) return;
    /* Bytes as uint16 ids. */
    uint16_t *tok = malloc(sizeof(uint16_t) * off[n]);
    for (uint64_t i = 0; i < off[n]; i++) tok[i] = bytes[i];
    loco_docs docs = {tok, 2, off, n};
    int *a = malloc(sizeof(int) * n), K = 0;
    char msg[200];
    CHECK(loco_split_by_label((const char *const *)cats, n, 15, group, &K, msg, sizeof msg) == LOCO_OK, "%s", msg);
    long sizes[15], gsizes[15];
    CHECK(loco_split_kmeans(&docs, 15, 1, 1 << 16, 50, a, sizes, msg, sizeof msg) == LOCO_OK, "%s", msg);
    loco_split_count(group, n, 15, gsizes);
    char l1[300], l2[300];
    loco_split_sizes_format(l1, sizeof l1, "cluster", "docs", sizes, 15);
    loco_split_sizes_format(l2, sizeof l2, "genre", "docs", gsizes, 15);
    printf("  Brown, %d docs, byte-level k-means (M = 15): purity vs genre %.3f\n  %s\n  %s\n",
           n, purity(a, group, n, 15, 15), l1, l2);
    for (int c = 0; c < 15; c++) CHECK(sizes[c] > 0, "cluster %d empty", c);
    for (int d = 0; d < n; d++) free(cats[d]);
    free(a); free(tok); free(bytes);
}

LOCO_TEST(split_topk_overlapping_shards) {
    /* Five documents of 3, 5, 7, 11 and 13 tokens, each given to 2 of 3
     * workers: each worker's list is its documents in document order, its
     * tokens their sum, and a batch stays inside its own stream; k = 1 is
     * loco_split_create; a worker named twice for one document, k > M and
     * k < 1 are refused. */
    static uint16_t tok[39];
    for (int i = 0; i < 39; i++) tok[i] = (uint16_t)i;
    static uint64_t off[6] = {0, 3, 8, 15, 26, 39};
    loco_docs docs = {tok, 2, off, 5};
    const int assign[10] = {0, 1, 2, 0, 1, 2, 0, 2, 1, 0};
    loco_split *s = NULL;
    char msg[256];
    CHECK(loco_split_create_topk(&s, &docs, assign, 2, 3, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (!s) return;
    const int want0[] = {0, 1, 3, 4}, want1[] = {0, 2, 4}, want2[] = {1, 2, 3};
    const int *want[3] = {want0, want1, want2}, nwant[3] = {4, 3, 3};
    const uint64_t tokens[3] = {3 + 5 + 11 + 13, 3 + 7 + 13, 5 + 7 + 11};
    for (int w = 0; w < 3; w++) {
        CHECK(loco_split_worker_docs(s, w) == nwant[w], "worker %d holds %ld docs", w, loco_split_worker_docs(s, w));
        const int *list = loco_split_worker_doc_list(s, w);
        for (int i = 0; i < nwant[w] && list; i++) CHECK(list[i] == want[w][i], "worker %d doc %d", w, i);
        CHECK(loco_split_worker_tokens(s, w) == tokens[w], "worker %d: %llu tokens", w,
              (unsigned long long)loco_split_worker_tokens(s, w));
    }
    /* Worker 2's stream is documents 1, 2, 3: tokens 3 ... 25. */
    loco_rng r;
    loco_rng_seed(&r, 3);
    int t[4 * 6], g[4 * 6], inside = 1;
    CHECK(loco_worker_batch(s, 2, &r, 4, 6, t, g) == LOCO_OK, "batch");
    for (int i = 0; i < 24; i++) inside &= t[i] >= 3 && t[i] <= 25 && g[i] == t[i] + 1;
    CHECK(inside, "a batch of worker 2 left its documents");
    loco_split_free(s);
    const int one[5] = {2, 0, 1, 1, 0};
    loco_split *a = NULL, *b = NULL;
    CHECK(loco_split_create_topk(&a, &docs, one, 1, 3, msg, sizeof msg) == LOCO_OK &&
          loco_split_create(&b, &docs, one, 3, msg, sizeof msg) == LOCO_OK, "k = 1");
    for (int w = 0; a && b && w < 3; w++)
        CHECK(loco_split_worker_docs(a, w) == loco_split_worker_docs(b, w) &&
              !memcmp(loco_split_worker_doc_list(a, w), loco_split_worker_doc_list(b, w),
                      sizeof(int) * (size_t)loco_split_worker_docs(a, w)), "k = 1 differs at worker %d", w);
    loco_split_free(a);
    loco_split_free(b);
    const int twice[10] = {0, 0, 1, 2, 0, 1, 2, 0, 1, 2};
    CHECK(loco_split_create_topk(&s, &docs, twice, 2, 3, msg, sizeof msg) == LOCO_EINVAL && strstr(msg, "twice"),
          "a repeated worker: %s", msg);
    CHECK(loco_split_create_topk(&s, &docs, assign, 4, 3, msg, sizeof msg) == LOCO_EINVAL, "k > M accepted");
    CHECK(loco_split_create_topk(&s, &docs, assign, 0, 3, msg, sizeof msg) == LOCO_EINVAL, "k = 0 accepted");
}
