/*
 * Tests of the DiPaCo document router (src/route/): k-means against a
 * PyTorch Lloyd run and across thread counts, product k-means as mixed radix,
 * the linear router against torch, routing features against the model's
 * hidden states, save/load, and `loco route` end to end.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "loco/checkpoint.h"
#include "loco/route.h"
#include "loco/shard.h"
#include "test.h"
#include "util.h"

#define REF_SCRIPT "tests/ref_route.py"

static char *read_file(const char *path, size_t *n);

/* n rows of dimension d around `groups` centres spaced `sep` apart (the
 * centre of group g is sep * (a random unit-ish vector)), noise N(0, 1);
 * rows are shuffled, truth[i] is the group of row i. */
static void blobs(loco_rng *rng, int n, int d, int groups, float sep, float *X, int *truth) {
    float *centre = malloc(sizeof(float) * (size_t)groups * d);
    for (int g = 0; g < groups * d; g++) centre[g] = sep * loco_rng_normal(rng);
    for (int i = 0; i < n; i++) {
        int g = i % groups;
        truth[i] = g;
        for (int j = 0; j < d; j++) X[(size_t)i * d + j] = centre[g * d + j] + loco_rng_normal(rng);
    }
    for (int i = n - 1; i > 0; i--) {   /* Fisher-Yates over rows */
        int r = (int)(loco_rng_u64(rng) % (uint64_t)(i + 1));
        int t = truth[i]; truth[i] = truth[r]; truth[r] = t;
        for (int j = 0; j < d; j++) {
            float v = X[(size_t)i * d + j];
            X[(size_t)i * d + j] = X[(size_t)r * d + j];
            X[(size_t)r * d + j] = v;
        }
    }
    free(centre);
}

/* The router's k-means objective: sum over rows of the squared distance to
 * the best path's centroid (minus its top score). */
static double router_objective(const loco_router *r, const float *X, int n) {
    double s = 0;
    int d = loco_router_dim(r);
    for (int i = 0; i < n; i++) {
        int p;
        float sc;
        loco_router_route(r, X + (size_t)i * d, NULL, 0, 1, &p, &sc);
        s -= sc;
    }
    return s;
}

/* 1 if labels a and b are the same partition up to a renaming of b's. */
static int same_partition(const int *a, const int *b, int n, int k) {
    int map[64], back[64];
    for (int c = 0; c < k; c++) map[c] = back[c] = -1;
    for (int i = 0; i < n; i++) {
        if (a[i] < 0 || a[i] >= k || b[i] < 0 || b[i] >= k) return 0;
        if (map[a[i]] < 0 && back[b[i]] < 0) { map[a[i]] = b[i]; back[b[i]] = a[i]; }
        if (map[a[i]] != b[i] || back[b[i]] != a[i]) return 0;
    }
    return 1;
}

LOCO_TEST(route_kmeans_recovers_clusters) {
    enum { N = 300, D = 8, K = 5 };
    static float X[N * D];
    int truth[N], got[N];
    loco_rng rng;
    loco_rng_seed(&rng, 5);
    blobs(&rng, N, D, K, 10.0f, X, truth);
    char msg[256];
    for (int bal = 0; bal < 2; bal++) {
        loco_router *r = NULL;
        int e = loco_router_fit_kmeans(&r, X, N, D, K, 1, 50, bal ? 1.0f : 0.0f, msg, sizeof msg);
        CHECK(e == LOCO_OK && r, "fit: %s", msg);
        if (!r) continue;
        CHECK(loco_router_kind_of(r) == LOCO_ROUTER_KMEANS && loco_router_paths(r) == K && loco_router_dim(r) == D
              && loco_router_prefix(r) == 32, "accessors");
        for (int i = 0; i < N; i++) {
            int p[K];
            float s[K];
            CHECK(loco_router_route(r, X + i * D, NULL, 0, K, p, s) == LOCO_OK, "route");
            got[i] = p[0];
            int sorted = 1;
            for (int j = 1; j < K; j++) sorted &= s[j] <= s[j - 1] && p[j] != p[0];
            if (!sorted) { FAIL("row %d: scores not best first", i); break; }
        }
        CHECK(same_partition(truth, got, N, K), "balance %d: clusters not recovered", bal);
        loco_router_free(r);
    }
    /* Bad arguments. */
    loco_router *r = NULL;
    CHECK(loco_router_fit_kmeans(&r, X, N, D, N + 1, 1, 50, 0, msg, sizeof msg) == LOCO_EINVAL && !r, "k > n");
    CHECK(loco_router_fit_kmeans(&r, X, N, D, K, 1, 50, 0.5f, msg, sizeof msg) == LOCO_EINVAL && !r, "balance 0.5");
    CHECK(loco_router_fit_kmeans(&r, X, N, D, K, 1, 0, 0, msg, sizeof msg) == LOCO_EINVAL && !r, "max_iter 0");
    float bad = X[7];
    X[7] = NAN;
    CHECK(loco_router_fit_kmeans(&r, X, N, D, K, 1, 50, 0, msg, sizeof msg) == LOCO_EINVAL && !r, "NaN feature");
    X[7] = bad;
}

LOCO_TEST(route_kmeans_balanced_capacity) {
    /* Two groups of 150 and 50 rows; with balance 1 and 4 paths each path
     * holds at most 50 rows while fitting, so Lloyd's labels are 50 each. */
    enum { N = 200, D = 4, K = 4 };
    static float X[N * D];
    int assign[N];
    loco_rng rng;
    loco_rng_seed(&rng, 9);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) X[i * D + j] = (i < 150 ? 0.0f : 20.0f) + loco_rng_normal(&rng);
    float init[K * D], C[K * D];
    memcpy(init, X, sizeof init);   /* all four from the big group */
    char msg[256];
    double obj;
    int it;
    CHECK(loco_route_lloyd(X, N, D, K, init, 30, 1.0f, C, assign, &obj, &it, msg, sizeof msg) == LOCO_OK, "%s", msg);
    long sizes[K] = {0};
    for (int i = 0; i < N; i++) sizes[assign[i]]++;
    for (int c = 0; c < K; c++) CHECK(sizes[c] == 50, "cluster %d holds %ld rows, capacity 50", c, sizes[c]);
    CHECK(loco_route_lloyd(X, N, D, K, init, 30, 0.0f, C, assign, &obj, &it, msg, sizeof msg) == LOCO_OK, "%s", msg);
    memset(sizes, 0, sizeof sizes);
    for (int i = 0; i < N; i++) sizes[assign[i]]++;
    long mx = 0;
    for (int c = 0; c < K; c++) mx = sizes[c] > mx ? sizes[c] : mx;
    CHECK(mx > 50, "unbalanced run is balanced too (largest %ld): the test proves nothing", mx);
}

/* Same seed, 1 and 2 threads: the saved routers must be byte-identical. */
LOCO_TEST(route_kmeans_threads_bitwise) {
    enum { N = 400, D = 16, K = 7 };
    static float X[N * D];
    int truth[N];
    loco_rng rng;
    loco_rng_seed(&rng, 11);
    blobs(&rng, N, D, 10, 1.5f, X, truth);   /* overlapping: many Lloyd rounds */
    int before = omp_get_max_threads();
    char msg[256], path[2][64];
    for (int bal = 0; bal < 3; bal++) {   /* plain, balanced, and the linear router */
        for (int t = 0; t < 2; t++) {
            loco_threads_set(t + 1);
            snprintf(path[t], sizeof path[t], "/tmp/loco_route_thr_%d_%d.json", (int)getpid(), t);
            loco_router *r = NULL;
            if (bal < 2)
                CHECK(loco_router_fit_kmeans(&r, X, N, D, K, 3, 100, bal ? 1.2f : 0.0f, msg, sizeof msg) == LOCO_OK,
                      "%s", msg);
            else
                CHECK(loco_router_fit_linear(&r, X, truth, N, D, 10, 1e-3f, 10, 0.5f, msg, sizeof msg) == LOCO_OK,
                      "%s", msg);
            CHECK(loco_router_save(r, path[t], msg, sizeof msg) == LOCO_OK, "%s", msg);
            loco_router_free(r);
        }
        CHECK(loco_test_same_file(path[0], path[1]), "case %d: 1 and 2 threads give different routers", bal);
        unlink(path[0]);
        unlink(path[1]);
    }
    loco_threads_set(before);
}

LOCO_TEST(route_kmeans_matches_torch) {
    enum { N = 240, D = 6, K = 5, ITERS = 40 };
    static float X[N * D], C[K * D], Cref[K * D];
    int truth[N], assign[N], aref[N];
    loco_rng rng;
    loco_rng_seed(&rng, 21);
    blobs(&rng, N, D, 6, 2.0f, X, truth);
    const float *init = X;   /* the first K rows */
    char msg[256], in[64], out[64], why[256];
    double obj;
    int iters;
    CHECK(loco_route_lloyd(X, N, D, K, init, ITERS, 0.0f, C, assign, &obj, &iters, msg, sizeof msg) == LOCO_OK,
          "%s", msg);
    snprintf(in, sizeof in, "/tmp/loco_route_k_%d.in", (int)getpid());
    snprintf(out, sizeof out, "/tmp/loco_route_k_%d.out", (int)getpid());
    FILE *f = fopen(in, "wb");
    int hdr[4] = {N, D, K, ITERS};
    int ok = f && !loco_test_put(f, "LOCORTK1", 8) && !loco_test_put(f, hdr, sizeof hdr) &&
             !loco_test_put(f, X, sizeof X) && !loco_test_put(f, init, sizeof(float) * K * D);
    if (f) fclose(f);
    CHECK(ok, "cannot write %s", in);
    if (loco_test_reference(REF_SCRIPT, in, out, "torch", why, sizeof why) != 0) {
        FAIL("%s", why);
        unlink(in);
        return;
    }
    f = fopen(out, "rb");
    char magic[8];
    double oref = 0;
    int iref = 0;
    ok = f && fread(magic, 1, 8, f) == 8 && !memcmp(magic, "LOCORTKR", 8) && fread(Cref, sizeof Cref, 1, f) == 1 &&
         fread(aref, sizeof aref, 1, f) == 1 && fread(&oref, sizeof oref, 1, f) == 1 && fread(&iref, sizeof iref, 1, f) == 1;
    if (f) fclose(f);
    unlink(in);
    unlink(out);
    CHECK(ok, "bad reference output");
    if (!ok) return;
    CHECK(iters == iref, "rounds: %d, torch %d", iters, iref);
    CHECK(iters > 2, "converged in %d rounds: too easy to test", iters);
    CHECK(!memcmp(assign, aref, sizeof aref), "labels differ from torch's Lloyd run");
    double e = loco_test_rel_err(C, Cref, K * D);
    CHECK(e <= 1e-6, "centroids: relative error %.3g > 1e-6", e);
    CHECK(fabs(obj - oref) <= 1e-9 * oref, "objective %.17g, torch %.17g", obj, oref);
    /* The fitted router (k-means++, 4 restarts) does at least as well as
     * Lloyd from the first K rows. */
    loco_router *r = NULL;
    CHECK(loco_router_fit_kmeans(&r, X, N, D, K, 1, ITERS, 0, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (r) {
        double fo = router_objective(r, X, N);
        CHECK(fo <= oref * (1 + 1e-6), "fit objective %.6g > torch Lloyd's %.6g", fo, oref);
        fprintf(stderr, "  Lloyd vs torch: %d rounds, labels equal, centroid rel err %.2g; fit objective %.6g <= %.6g\n",
                iters, e, fo, oref);
    }
    loco_router_free(r);
}

LOCO_TEST(route_product_mixed_radix) {
    /* d = 7: chunk 0 is dims 0..3 (4), chunk 1 dims 4..6 (3).  Chunk 0 holds
     * 3 groups, chunk 1 two, independently: 6 combinations. */
    enum { N = 360, D = 7 };
    static float X[N * D], X0[N * 4], X1[N * 3];
    int t0[N], t1[N], truth[N];
    loco_rng rng;
    loco_rng_seed(&rng, 31);
    blobs(&rng, N, 4, 3, 10.0f, X0, t0);
    blobs(&rng, N, 3, 2, 10.0f, X1, t1);
    for (int i = 0; i < N; i++) {
        memcpy(X + i * D, X0 + i * 4, sizeof(float) * 4);
        memcpy(X + i * D + 4, X1 + i * 3, sizeof(float) * 3);
        truth[i] = t0[i] * 2 + t1[i];
    }
    const int K[2] = {3, 2};
    char msg[256];
    loco_router *r = NULL, *r0 = NULL, *r1 = NULL;
    CHECK(loco_router_fit_product(&r, X, N, D, 2, K, 7, 50, 0, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(loco_router_fit_kmeans(&r0, X0, N, 4, 3, 7, 50, 0, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(loco_router_fit_kmeans(&r1, X1, N, 3, 2, 8, 50, 0, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (!r || !r0 || !r1) goto done;
    int Kg[8];
    CHECK(loco_router_kind_of(r) == LOCO_ROUTER_PRODUCT && loco_router_paths(r) == 6 &&
          loco_router_levels(r, Kg) == 2 && Kg[0] == 3 && Kg[1] == 2, "product accessors");
    int got[N], bad = 0;
    for (int i = 0; i < N; i++) {
        int p[6], a, b;
        float s[6], sa[3], sb[2];
        int pa[3], pb[2];
        loco_router_route(r, X + i * D, NULL, 0, 6, p, s);
        loco_router_route(r0, X0 + i * 4, NULL, 0, 3, pa, sa);
        loco_router_route(r1, X1 + i * 3, NULL, 0, 2, pb, sb);
        a = pa[0];
        b = pb[0];
        got[i] = p[0];
        if (p[0] != a * 2 + b && bad++ < 3) FAIL("row %d: path %d, per-chunk clusters (%d, %d)", i, p[0], a, b);
        /* Every path's score is minus the sum of its digits' distances. */
        for (int j = 0; j < 6; j++) {
            int da = -1, db = -1;
            for (int q = 0; q < 3; q++) if (pa[q] == p[j] / 2) da = q;
            for (int q = 0; q < 2; q++) if (pb[q] == p[j] % 2) db = q;
            float want = sa[da] + sb[db];
            if (fabsf(s[j] - want) > 1e-4f * fabsf(want) && bad++ < 3)
                FAIL("row %d path %d: score %g, sum of levels %g", i, p[j], s[j], want);
        }
    }
    CHECK(same_partition(truth, got, N, 6), "the 6 combinations are not recovered");
done:
    loco_router_free(r); loco_router_free(r0); loco_router_free(r1);
    const int Kbad[2] = {3, 0};
    r = NULL;
    CHECK(loco_router_fit_product(&r, X, N, D, 2, Kbad, 7, 50, 0, msg, sizeof msg) == LOCO_EINVAL && !r, "K = 0");
    CHECK(loco_router_fit_product(&r, X, N, D, 9, K, 7, 50, 0, msg, sizeof msg) == LOCO_EINVAL && !r, "9 levels");
}

LOCO_TEST(route_linear_matches_torch) {
    enum { N = 150, D = 5, P = 3, EPOCHS = 60 };
    static float X[N * D], W[P * D], b[P];
    static double W64[P * D], b64[P];
    int y[N];
    loco_rng rng;
    loco_rng_seed(&rng, 41);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) X[i * D + j] = 3.0f + 2.0f * (j + 1) * loco_rng_normal(&rng);
        float s = X[i * D] - 0.5f * X[i * D + 1] + loco_rng_normal(&rng);
        y[i] = s < 0 ? 0 : s < 4 ? 1 : 2;
    }
    const float l2 = 1e-2f, lr = 0.5f;
    char msg[256], in[64], out[64], why[256];
    loco_router *r = NULL;
    CHECK(loco_router_fit_linear(&r, X, y, N, D, P, l2, EPOCHS, lr, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (!r) return;
    snprintf(in, sizeof in, "/tmp/loco_route_l_%d.in", (int)getpid());
    snprintf(out, sizeof out, "/tmp/loco_route_l_%d.out", (int)getpid());
    FILE *f = fopen(in, "wb");
    int hdr[4] = {N, D, P, EPOCHS};
    float hp[2] = {l2, lr};
    int ok = f && !loco_test_put(f, "LOCORTL1", 8) && !loco_test_put(f, hdr, sizeof hdr) &&
             !loco_test_put(f, hp, sizeof hp) && !loco_test_put(f, X, sizeof X) && !loco_test_put(f, y, sizeof y);
    if (f) fclose(f);
    CHECK(ok, "cannot write %s", in);
    if (loco_test_reference(REF_SCRIPT, in, out, "torch", why, sizeof why) != 0) {
        FAIL("%s", why);
        unlink(in);
        loco_router_free(r);
        return;
    }
    f = fopen(out, "rb");
    char magic[8];
    ok = f && fread(magic, 1, 8, f) == 8 && !memcmp(magic, "LOCORTLR", 8) && fread(W, sizeof W, 1, f) == 1 &&
         fread(b, sizeof b, 1, f) == 1 && fread(W64, sizeof W64, 1, f) == 1 && fread(b64, sizeof b64, 1, f) == 1;
    if (f) fclose(f);
    unlink(in);
    unlink(out);
    CHECK(ok, "bad reference output");
    /* The router's weights, read back through its JSON file. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/loco_route_l_%d.json", (int)getpid());
    CHECK(loco_router_save(r, path, msg, sizeof msg) == LOCO_OK, "%s", msg);
    /* The exact stored weights, from the file's "weights" and "bias" arrays. */
    float Wc[P * D], bc[P], Wd[P * D], bd[P];
    size_t flen = 0;
    char *text = read_file(path, &flen);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    const cJSON *wj = cJSON_GetObjectItem(root, "weights"), *bj = cJSON_GetObjectItem(root, "bias");
    CHECK(cJSON_GetArraySize(wj) == P * D && cJSON_GetArraySize(bj) == P, "weights not in %s", path);
    for (int i = 0; i < P * D; i++) {
        const cJSON *v = cJSON_GetArrayItem(wj, i);
        Wc[i] = v ? (float)v->valuedouble : NAN;
        Wd[i] = (float)W64[i];
    }
    for (int i = 0; i < P; i++) {
        const cJSON *v = cJSON_GetArrayItem(bj, i);
        bc[i] = v ? (float)v->valuedouble : NAN;
        bd[i] = (float)b64[i];
    }
    cJSON_Delete(root);
    free(text);
    /* Tolerances: against float64 torch, 1e-5 of the largest weight (the C
     * code sums in double and rounds W to float each step); against float32
     * torch, 1e-4 (torch's own float32 rounding over 60 steps). */
    double eW64 = loco_test_rel_err(Wc, Wd, P * D), eb64 = loco_test_rel_err(bc, bd, P);
    double eW32 = loco_test_rel_err(Wc, W, P * D), eb32 = loco_test_rel_err(bc, b, P);
    CHECK(eW64 <= 1e-5 && eb64 <= 1e-5, "vs torch float64: W rel err %.3g, b %.3g (> 1e-5)", eW64, eb64);
    CHECK(eW32 <= 1e-4 && eb32 <= 1e-4, "vs torch float32: W rel err %.3g, b %.3g (> 1e-4)", eW32, eb32);
    /* The weights moved: a run that never stepped would not be compared. */
    double wmax = 0;
    for (int i = 0; i < P * D; i++) wmax = fmax(wmax, fabs(Wd[i]));
    CHECK(wmax > 0.1, "torch's weights stayed near zero (%g)", wmax);
    /* And routing uses them: the best path's score is its logit. */
    int p0;
    float s0;
    loco_router_route(r, X, NULL, 0, 1, &p0, &s0);
    double logit = bc[p0];
    {
        double mean[D], sd[D];
        for (int j = 0; j < D; j++) {
            double s = 0, ss = 0;
            for (int i = 0; i < N; i++) s += X[i * D + j];
            mean[j] = s / N;
            for (int i = 0; i < N; i++) ss += (X[i * D + j] - mean[j]) * (X[i * D + j] - mean[j]);
            sd[j] = sqrt(ss / N);
            logit += Wc[p0 * D + j] * ((X[j] - mean[j]) / sd[j]);
        }
    }
    CHECK(fabs(s0 - logit) <= 1e-4 * fmax(1.0, fabs(logit)), "route score %g, logit %g", s0, logit);
    fprintf(stderr, "  linear router vs torch after %d GD epochs: W rel err %.2g (float64), %.2g (float32); "
            "b %.2g, %.2g\n", EPOCHS, eW64, eW32, eb64, eb32);
    unlink(path);
    loco_router_free(r);
}

LOCO_TEST(route_linear_separates) {
    enum { N = 300, D = 6, P = 4 };
    static float X[N * D];
    int truth[N];
    loco_rng rng;
    loco_rng_seed(&rng, 51);
    blobs(&rng, N, D, P, 8.0f, X, truth);
    char msg[256];
    loco_router *r = NULL;
    CHECK(loco_router_fit_linear(&r, X, truth, N, D, P, 1e-4f, 200, 1.0f, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (!r) return;
    int right = 0;
    for (int i = 0; i < N; i++) {
        int p;
        loco_router_route(r, X + i * D, NULL, 0, 1, &p, NULL);
        right += p == truth[i];
    }
    CHECK(right == N, "training accuracy %d / %d on separable data", right, N);
    loco_router_free(r);
    truth[3] = P;
    CHECK(loco_router_fit_linear(&r, X, truth, N, D, P, 0, 10, 0.1f, msg, sizeof msg) == LOCO_EINVAL && !r,
          "label out of range accepted");
    truth[3] = 0;
    CHECK(loco_router_fit_linear(&r, X, truth, N, D, P, 0, 10, 0.0f, msg, sizeof msg) == LOCO_EINVAL && !r, "lr 0");
}

static loco_gpt *tiny_model(int B, int T) {
    loco_gpt_config cfg = {.max_seq_len = 16, .vocab_size = 50, .n_layer = 2, .n_head = 2, .channels = 16};
    loco_gpt *m = NULL;
    char msg[256];
    if (loco_gpt_create(&m, &cfg, B, T, 3, msg, sizeof msg)) return NULL;
    return m;
}

LOCO_TEST(route_features) {
    enum { B = 4, T = 16, C = 16, PREFIX = 10 };
    loco_gpt *m = tiny_model(B, T);
    CHECK(m != NULL, "model");
    if (!m) return;
    int tok[B * T];
    loco_rng rng;
    loco_rng_seed(&rng, 61);
    for (int i = 0; i < B * T; i++) tok[i] = (int)(loco_rng_u64(&rng) % 50);
    float f[B * C], want[B * C];
    CHECK(loco_route_features(m, tok, 3, 12, f) == LOCO_OK, "features");
    /* Independently: forward, then the mean of the hidden states in float. */
    CHECK(loco_gpt_forward(m, tok, NULL, 3, 12) == LOCO_OK, "forward");
    const float *h = loco_gpt_hidden(m);
    for (int b = 0; b < 3; b++)
        for (int c = 0; c < C; c++) {
            float s = 0;
            for (int t = 0; t < 12; t++) s += h[(b * 12 + t) * C + c];
            want[b * C + c] = s / 12;
        }
    double e = loco_test_rel_err(f, want, 3 * C);
    CHECK(e <= 1e-6, "features vs mean hidden: rel err %.3g", e);
    CHECK(loco_route_features(m, tok, B + 1, 12, f) == LOCO_EINVAL, "B above capacity accepted");
    tok[5] = 50;
    CHECK(loco_route_features(m, tok, 1, 12, f) == LOCO_EINVAL, "token outside vocabulary accepted");
    tok[5] = 1;

    /* Documents of lengths 0, 1, 5, 20 (cut to the prefix), 7, 3, 12, 0, 9. */
    const int lens[] = {0, 1, 5, 20, 7, 3, 12, 0, 9};
    const int nd = (int)(sizeof lens / sizeof lens[0]);
    uint64_t off[16] = {0};
    int all[128];
    for (int d = 0; d < nd; d++) off[d + 1] = off[d] + (uint64_t)lens[d];
    for (uint64_t i = 0; i < off[nd]; i++) all[i] = (int)(loco_rng_u64(&rng) % 50);
    uint32_t all32[128];
    for (uint64_t i = 0; i < off[nd]; i++) all32[i] = (uint32_t)all[i];
    loco_docs docs = {all32, 4, off, nd};
    float df[16 * C], one[C];
    char msg[256];
    CHECK(loco_route_doc_features(m, &docs, NULL, nd, PREFIX, df, msg, sizeof msg) == LOCO_OK, "%s", msg);
    for (int d = 0; d < nd; d++) {
        int l = lens[d] < PREFIX ? lens[d] : PREFIX;
        if (l == 0) {
            float z = 0;
            for (int c = 0; c < C; c++) z = fmaxf(z, fabsf(df[d * C + c]));
            CHECK(z == 0, "empty document %d: nonzero features", d);
            continue;
        }
        CHECK(loco_route_features(m, all + off[d], 1, l, one) == LOCO_OK, "alone");
        double de = loco_test_rel_err(df + d * C, one, C);
        CHECK(de <= 1e-5, "document %d (length %d) batched with padding vs alone: rel err %.3g", d, lens[d], de);
    }
    /* A subset, in a given order. */
    const int ids[3] = {6, 2, 6};
    float sf[3 * C];
    CHECK(loco_route_doc_features(m, &docs, ids, 3, PREFIX, sf, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(loco_test_rel_err(sf + C, df + 2 * C, C) <= 1e-5, "subset order");
    /* The same document in two slots of one batch agrees to rounding, not
     * always bit for bit: a BLAS kernel may compute a row by another order of
     * operations depending on where the row sits in its register block
     * (OpenBLAS's Haswell sgemm treats rows 6-11 of every 12 apart from rows
     * 0-5), so a row's bits may depend on its position.  What is guaranteed,
     * and checked bit for bit, is that they never depend on the other rows'
     * values: a batch of the same shape (document 8 has length 9, so the
     * batch is still padded to 12) gives document 6 the same bits in both
     * slots, and the same call gives the same bits twice. */
    CHECK(loco_test_rel_err(sf, sf + 2 * C, C) <= 1e-6, "the same document twice: rel err %.3g",
          loco_test_rel_err(sf, sf + 2 * C, C));
    const int ids2[3] = {6, 8, 6};
    float sf2[3 * C], sf3[3 * C];
    CHECK(loco_route_doc_features(m, &docs, ids2, 3, PREFIX, sf2, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(loco_route_doc_features(m, &docs, ids2, 3, PREFIX, sf3, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(!memcmp(sf, sf2, sizeof(float) * C) && !memcmp(sf + 2 * C, sf2 + 2 * C, sizeof(float) * C),
          "a document's features depend on another document's tokens");
    CHECK(!memcmp(sf2, sf3, sizeof sf2), "the same call twice differs");
    CHECK(loco_route_doc_features(m, &docs, NULL, nd, T + 1, df, msg, sizeof msg) == LOCO_EINVAL, "prefix > T");
    const int badid[1] = {nd};
    CHECK(loco_route_doc_features(m, &docs, badid, 1, PREFIX, df, msg, sizeof msg) == LOCO_EINVAL, "bad id");
    loco_gpt_free(m);
}

LOCO_TEST(route_random) {
    char msg[256];
    loco_router *r = NULL, *r2 = NULL;
    CHECK(loco_router_random(&r, 4, 1, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(loco_router_random(&r2, 4, 2, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(loco_router_random(&(loco_router *){NULL}, 0, 1, msg, sizeof msg) == LOCO_EINVAL, "0 paths accepted");
    if (!r || !r2) return;
    loco_router_set_prefix(r, 8);
    loco_rng rng;
    loco_rng_seed(&rng, 71);
    long count[4] = {0};
    int differ = 0;
    for (int i = 0; i < 2000; i++) {
        int tok[12], p, q, p2[2];
        for (int t = 0; t < 12; t++) tok[t] = (int)(loco_rng_u64(&rng) % 1000);
        loco_router_route(r, NULL, tok, 12, 1, &p, NULL);
        tok[10] = 1001;   /* beyond the prefix: ignored */
        loco_router_route(r, NULL, tok, 12, 1, &q, NULL);
        if (p != q) { FAIL("a token beyond the prefix changed the path"); break; }
        loco_router_route(r, NULL, tok, 12, 2, p2, NULL);
        CHECK(p2[0] == p && p2[1] == (p + 1) % 4, "top-2 of the random router");
        loco_router_route(r2, NULL, tok, 12, 1, &q, NULL);
        differ += p != q;
        count[p]++;
    }
    for (int p = 0; p < 4; p++) CHECK(count[p] > 420 && count[p] < 580, "path %d got %ld of 2000", p, count[p]);
    CHECK(differ > 1200, "seeds 1 and 2 agree on %d of 2000", 2000 - differ);
    loco_router_free(r);
    loco_router_free(r2);
}

/* Writes text to path. */
static void put_file(const char *path, const char *text, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(text, 1, n, f);
        fclose(f);
    }
}

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    *n = fread(buf, 1, (1 << 20) - 1, f);
    buf[*n] = 0;
    fclose(f);
    return buf;
}

/* Replaces the first `from` in src by `to` into dst. */
static int mutate(char *dst, size_t cap, const char *src, const char *from, const char *to) {
    const char *p = strstr(src, from);
    if (!p) return -1;
    snprintf(dst, cap, "%.*s%s%s", (int)(p - src), src, to, p + strlen(from));
    return 0;
}

LOCO_TEST(route_save_load) {
    enum { N = 60, D = 6 };
    static float X[N * D];
    int truth[N];
    loco_rng rng;
    loco_rng_seed(&rng, 81);
    blobs(&rng, N, D, 3, 3.0f, X, truth);
    char msg[256], p1[64], p2[64];
    snprintf(p1, sizeof p1, "/tmp/loco_route_sl_%d_a.json", (int)getpid());
    snprintf(p2, sizeof p2, "/tmp/loco_route_sl_%d_b.json", (int)getpid());
    loco_router *rs[4] = {NULL};
    const int K[2] = {2, 3};
    loco_router_random(&rs[0], 5, 0xfedcba9876543210ULL, msg, sizeof msg);
    loco_router_fit_kmeans(&rs[1], X, N, D, 4, 2, 20, 0, msg, sizeof msg);
    loco_router_fit_product(&rs[2], X, N, D, 2, K, 2, 20, 1.5f, msg, sizeof msg);
    loco_router_fit_linear(&rs[3], X, truth, N, D, 3, 1e-3f, 20, 0.3f, msg, sizeof msg);
    for (int k = 0; k < 4; k++) {
        CHECK(rs[k] != NULL, "router %d not built", k);
        if (!rs[k]) continue;
        loco_router_set_prefix(rs[k], 17 + k);
        loco_router_set_feature_model(rs[k], k ? "run/feat \"x\".safetensors" : "");
        CHECK(loco_router_save(rs[k], p1, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
        loco_router *back = NULL;
        CHECK(loco_router_load(&back, p1, msg, sizeof msg) == LOCO_OK, "load %s: %s", loco_router_kind_name(k), msg);
        if (!back) continue;
        CHECK(loco_router_kind_of(back) == loco_router_kind_of(rs[k]) && loco_router_paths(back) == loco_router_paths(rs[k])
              && loco_router_dim(back) == loco_router_dim(rs[k]) && loco_router_prefix(back) == 17 + k
              && loco_router_seed(back) == loco_router_seed(rs[k])
              && !strcmp(loco_router_feature_model(back), loco_router_feature_model(rs[k])), "%s: fields differ",
              loco_router_kind_name(k));
        CHECK(loco_router_save(back, p2, msg, sizeof msg) == LOCO_OK && loco_test_same_file(p1, p2),
              "%s: save(load(save(r))) differs from save(r)", loco_router_kind_name(k));
        int P = loco_router_paths(back), mism = 0;
        for (int i = 0; i < N; i++) {
            int a[8], b[8], tok[3] = {i, i * 7, 3};
            float sa[8], sb[8];
            loco_router_route(rs[k], X + i * D, tok, 3, P, a, sa);
            loco_router_route(back, X + i * D, tok, 3, P, b, sb);
            mism += memcmp(a, b, sizeof(int) * P) || memcmp(sa, sb, sizeof(float) * P);
        }
        CHECK(mism == 0, "%s: %d rows route differently after load", loco_router_kind_name(k), mism);
        loco_router_free(back);
    }
    /* Malformed files: truncations, garbage, and one wrong field at a time. */
    size_t n = 0;
    CHECK(rs[2] && loco_router_save(rs[2], p1, msg, sizeof msg) == LOCO_OK, "save product");
    char *good = read_file(p1, &n);
    if (!good) { FAIL("cannot read %s", p1); goto done; }
    int bad_ok = 0, tried = 0;
    for (size_t cut = 0; cut < n - 2; cut += n / 37 + 1, tried++) {
        put_file(p2, good, cut);
        loco_router *r = NULL;
        int e = loco_router_load(&r, p2, msg, sizeof msg);
        bad_ok += e == LOCO_EINVAL && !r && !strchr(msg, '\n') && strstr(msg, p2);
        loco_router_free(r);
    }
    CHECK(bad_ok == tried, "%d of %d truncations gave LOCO_EINVAL with a one-line reason", bad_ok, tried);
    static const char *const muts[][2] = {
        {"\"product\"", "\"kmeanz\""}, {"\"product\"", "\"kmeans\""}, {"\"n_paths\": 6", "\"n_paths\": 7"},
        {"\"n_paths\": 6", "\"n_paths\": 0"}, {"\"n_paths\": 6", "\"n_paths\": 6.5"}, {"\"d\": 6", "\"d\": 5"},
        {"\"d\": 6", "\"d\": 0"}, {"\"prefix\": 19", "\"prefix\": -1"}, {"\"prefix\": 19", "\"prefix\": \"19\""},
        {"\"seed\": \"2\"", "\"seed\": \"-2\""}, {"\"seed\": \"2\"", "\"seed\": 2"},
        {"\"seed\": \"2\"", "\"seed\": \"99999999999999999999\""}, {"\"levels\": [2, 3]", "\"levels\": [3, 2, 1]"},
        {"\"levels\": [2, 3]", "\"levels\": [6]"}, {"\"levels\": [2, 3]", "\"levels\": [2, 0]"},
        {"\"centroids\": [", "\"centroids\": [1e39, "}, {"\"centroids\": [", "\"centroids\": [\"x\", "},
        {"\"centroids\": [", "\"centroids\": [1, "}, {"\"centroids\"", "\"centroidz\""},
        {"\"format\": \"loco-router-1\"", "\"format\": \"loco-router-2\""},
        {"\"feature_model\"", "\"weights\": [], \"feature_model\""}, {"{", "{\"d\": 6, "}, {"{", "["},
        {"\n}\n", "\n} x"}, {"\"feature_model\": ", "\"feature_model\": 3, \"x\": "},
    };
    char *buf = malloc(n + 256);
    for (size_t t = 0; t < sizeof muts / sizeof muts[0]; t++) {
        if (mutate(buf, n + 256, good, muts[t][0], muts[t][1])) { FAIL("mutation %zu does not apply", t); continue; }
        put_file(p2, buf, strlen(buf));
        loco_router *r = NULL;
        msg[0] = 0;
        int e = loco_router_load(&r, p2, msg, sizeof msg);
        CHECK(e == LOCO_EINVAL && !r && msg[0] && !strchr(msg, '\n'), "mutation %s -> %s: error %d (%s)",
              muts[t][0], muts[t][1], e, msg);
        loco_router_free(r);
    }
    free(buf);
    put_file(p2, "\x89PNG\r\n\x1a\n\0\0garbage", 19);
    loco_router *r = NULL;
    CHECK(loco_router_load(&r, p2, msg, sizeof msg) == LOCO_EINVAL && !r, "garbage accepted");
    CHECK(loco_router_load(&r, "/nonexistent/router.json", msg, sizeof msg) == LOCO_EIO && !r, "missing file");
    CHECK(loco_router_save(rs[2], "/nonexistent/dir/r.json", msg, sizeof msg) == LOCO_EIO, "unwritable path");
    free(good);
done:
    unlink(p1);
    unlink(p2);
    for (int k = 0; k < 4; k++) loco_router_free(rs[k]);
}

/* ------------------------------------------------------------------ CLI */

LOCO_TEST(route_cli) {
    char dir[] = "/tmp/loco_route_cli_XXXXXX", path[256], ckpt[256], shard[256], rj[256], at[256], cmd[2048];
    char err[4096], msg[256];
    if (!mkdtemp(dir)) { FAIL("mkdtemp"); return; }
    snprintf(ckpt, sizeof ckpt, "%s/feat.safetensors", dir);
    snprintf(shard, sizeof shard, "%s/x.train.bin", dir);
    snprintf(rj, sizeof rj, "%s/router.json", dir);
    snprintf(at, sizeof at, "%s/assign.txt", dir);
    loco_gpt *m = tiny_model(1, 16);
    loco_checkpoint_meta meta = {0};
    loco_adamw_config_default(&meta.opt, 10);
    CHECK(m && loco_checkpoint_save(ckpt, m, &meta, 0, msg, sizeof msg) == LOCO_OK, "checkpoint: %s", msg);
    loco_gpt_free(m);
    /* 40 documents of 0 to 39 tokens; three "topics" of token ranges. */
    loco_shard_writer *w;
    loco_rng rng;
    loco_rng_seed(&rng, 91);
    CHECK(loco_shard_writer_open(&w, shard, 50, msg, sizeof msg) == LOCO_OK, "%s", msg);
    for (int d = 0; d < 40; d++) {
        int ids[40], len = (d * 7) % 40;
        for (int t = 0; t < len; t++) ids[t] = (d % 3) * 16 + (int)(loco_rng_u64(&rng) % 16);
        loco_shard_writer_add_doc(w, ids, (size_t)len, msg, sizeof msg);
    }
    CHECK(loco_shard_writer_close(w, msg, sizeof msg) == LOCO_OK, "%s", msg);

    snprintf(cmd, sizeof cmd, "route fit --feature-model %s --train-shard %s --method kmeans --paths 3 --prefix 12 "
             "--threads 1 --out %s", ckpt, shard, rj);
    int rc = loco_test_run(cmd, err, sizeof err);
    CHECK(rc == 0, "route fit: exit %d: %s", rc, err);
    loco_router *r = NULL;
    CHECK(loco_router_load(&r, rj, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (r) {
        CHECK(loco_router_paths(r) == 3 && loco_router_prefix(r) == 12 && !strcmp(loco_router_feature_model(r), ckpt),
              "router fields");
        snprintf(cmd, sizeof cmd, "route assign --router %s --train-shard %s --topk 2 --out %s", rj, shard, at);
        rc = loco_test_run(cmd, err, sizeof err);
        CHECK(rc == 0, "route assign: exit %d: %s", rc, err);
        /* The file must equal the library's routing. */
        loco_shard sh;
        loco_gpt *fm = NULL;
        int want[80];
        CHECK(loco_shard_open(&sh, shard, 0, 1, msg, sizeof msg) == LOCO_OK, "%s", msg);
        CHECK(loco_checkpoint_load(ckpt, &fm, 8, 12, NULL, msg, sizeof msg) == LOCO_OK, "%s", msg);
        loco_docs docs = {sh.tokens, sh.token_bytes, sh.doc_offsets, (int)sh.n_docs};
        CHECK(loco_router_assign_docs(r, fm, &docs, 2, want, msg, sizeof msg) == LOCO_OK, "%s", msg);
        FILE *f = fopen(at, "r");
        int lines = 0, same = 1, a, b;
        while (f && fscanf(f, "%d %d", &a, &b) == 2) {
            if (lines < 40) same &= a == want[2 * lines] && b == want[2 * lines + 1] && a != b && a >= 0 && a < 3;
            lines++;
        }
        if (f) fclose(f);
        CHECK(lines == 40 && same, "assign.txt: %d lines, %s the library's routing", lines, same ? "equal to" : "unlike");
        loco_gpt_free(fm);
        loco_shard_close(&sh);
        loco_router_free(r);
    }
    snprintf(cmd, sizeof cmd, "route fit --feature-model %s --train-shard %s --method product --levels 2,2 "
             "--balance 1 --prefix 16 --out %s", ckpt, shard, rj);
    rc = loco_test_run(cmd, err, sizeof err);
    CHECK(rc == 0, "route fit product: exit %d: %s", rc, err);
    snprintf(cmd, sizeof cmd, "route fit --train-shard %s --method random --paths 4 --out %s", shard, rj);
    rc = loco_test_run(cmd, err, sizeof err);
    CHECK(rc == 0, "route fit random: exit %d: %s", rc, err);
    snprintf(cmd, sizeof cmd, "route assign --router %s --train-shard %s --out %s", rj, shard, at);
    rc = loco_test_run(cmd, err, sizeof err);
    CHECK(rc == 0, "route assign random: exit %d: %s", rc, err);

    /* Bad usage: exit 2 with one line; bad files: exit 1 with one line. */
    struct { const char *args; int status; } bad[] = {
        {"route fit --train-shard %s --method spectral --paths 3 --out R", 2},
        {"route fit --train-shard %s --method kmeans --paths 3", 2},
        {"route fit --train-shard %s --method kmeans --paths 3 --out R", 2},            /* no --feature-model */
        {"route fit --train-shard %s --method product --paths 3 --out R", 2},
        {"route fit --train-shard %s --method product --levels 2,x --out R", 2},
        {"route fit --train-shard %s --method random --paths 0 --out R", 2},
        {"route fit --train-shard %s --method random --paths 3 --balance 0.5 --out R", 2},
        {"route fit --train-shard %s --method random --paths 3 --bogus 1 --out R", 2},
        {"route fit --train-shard %s --feature-model /nonexistent.safetensors --paths 3 --out R", 1},
        {"route fit --train-shard %s.missing --method random --paths 3 --out R", 1},
        {"route assign --router /nonexistent.json --train-shard %s --out R", 1},
        {"route frobnicate %s", 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[1024];
        snprintf(args, sizeof args, bad[i].args, shard);
        snprintf(cmd, sizeof cmd, "%s", args);
        rc = loco_test_run(cmd, err, sizeof err);
        size_t len = strlen(err);
        int one_line = len > 0 && err[len - 1] == '\n' && !memchr(err, '\n', len - 1);
        CHECK(rc == bad[i].status && one_line, "'%s': exit %d (want %d), stderr '%s'", args, rc, bad[i].status, err);
    }
    snprintf(cmd, sizeof cmd, "route fit --feature-model %s --train-shard %s --paths 3 --prefix 17 --out %s", ckpt,
             shard, rj);
    rc = loco_test_run(cmd, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "context"), "--prefix above the model's context: exit %d, %s", rc, err);
    CHECK(loco_test_run("route fit --help", err, sizeof err) == 0, "--help");
    snprintf(path, sizeof path, "rm -rf %s", dir);
    if (system(path) != 0) fprintf(stderr, "  could not remove %s\n", dir);
}
