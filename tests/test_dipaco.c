/*
 * DiPaCo: with one module per level it is DiLoCo with one worker, bit for
 * bit; the module layout and the module merge match an independent numpy
 * reference; module files round-trip and refuse damage; the CLI trains,
 * saves, routes and scores.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/dipaco.h"
#include "loco/sim.h"
#include "loco/split.h"
#include "test.h"
#include "util.h"

enum { N_DOCS = 24, DOC_LEN = 90, V = 50 };

typedef struct {
    uint16_t tok[N_DOCS * DOC_LEN];
    uint64_t off[N_DOCS + 1];
    loco_docs docs;
} corpus;

/* A noisy counting pattern, so that there is something to learn. */
static void corpus_make(corpus *c, uint64_t seed) {
    loco_rng r;
    loco_rng_seed(&r, seed);
    for (int i = 0; i < N_DOCS * DOC_LEN; i++)
        c->tok[i] = (uint16_t)((i % 7 + (loco_rng_u64(&r) % 4 == 0 ? loco_rng_u64(&r) % V : 0)) % V);
    for (int d = 0; d <= N_DOCS; d++) c->off[d] = (uint64_t)d * DOC_LEN;
    c->docs = (loco_docs){c->tok, 2, c->off, N_DOCS};
}

static const loco_gpt_config tiny = {.max_seq_len = 16, .vocab_size = V, .n_layer = 2, .n_head = 2, .channels = 16};

static loco_split *split_iid(const corpus *c, int M) {
    int assign[N_DOCS];
    loco_split *s = NULL;
    if (loco_split_iid(N_DOCS, M, 7, assign, NULL, 0) || loco_split_create(&s, &c->docs, assign, M, NULL, 0))
        return NULL;
    return s;
}

static void dipaco_config(loco_dipaco_sim_config *c, const char *modules, int H, long steps) {
    memset(c, 0, sizeof *c);
    loco_dipaco_parse(modules, &c->d, NULL, 0);
    c->inner_steps = H;
    c->steps = steps;
    c->batch = 2;
    c->seq_len = 16;
    loco_adamw_config_default(&c->inner, (int)steps);
    c->inner.lr = 3e-3f;
    c->inner.warmup_steps = 2;
    loco_outer_config_default(&c->outer);
    c->seed = 42;
}

LOCO_TEST(dipaco_one_module_per_level_is_diloco) {
    /* One path through one module per level is one DiLoCo worker: the same
     * inner steps on the same data stream, and a merge whose weighted mean
     * of a single path is that path exactly (w x / w is exact in double).
     * Checked for one level of two blocks and for two levels of one, with
     * DiLoCo's Nesterov (0.7, 0.9), bit for bit. */
    corpus c;
    corpus_make(&c, 3);
    loco_split *split = split_iid(&c, 1);
    const char *shapes[] = {"2x1", "1x1,1x1"};
    for (int k = 0; k < 2; k++) {
        loco_sim_config sc;
        loco_sim_config_default(&sc);
        sc.workers = 1;
        sc.inner_steps = 3;
        sc.steps = 12;
        sc.batch = 2;
        sc.seq_len = 16;
        loco_adamw_config_default(&sc.inner, 12);
        sc.inner.lr = 3e-3f;
        sc.inner.warmup_steps = 2;
        sc.seed = 42;
        loco_dipaco_sim_config dc;
        dipaco_config(&dc, shapes[k], 3, 12);
        loco_sim *s = NULL;
        loco_dipaco_sim *d = NULL;
        char msg[256];
        CHECK(loco_sim_create(&s, &sc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK, "%s", msg);
        CHECK(loco_dipaco_sim_create(&d, &dc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK, "%s", msg);
        if (!s || !d) {
            loco_sim_free(s);
            loco_dipaco_sim_free(d);
            break;
        }
        while (loco_sim_get_stats(s)->round < loco_sim_get_stats(s)->n_rounds) {
            CHECK(loco_sim_round(s, msg, sizeof msg) == LOCO_OK, "%s", "");
            CHECK(loco_dipaco_sim_round(d, msg, sizeof msg) == LOCO_OK, "%s", "");
        }
        CHECK(loco_dipaco_sim_get_stats(d)->round == 4, "%s", "");
        loco_gpt *a = loco_sim_model(s), *b = loco_dipaco_sim_path(d, 0);
        size_t P = loco_gpt_num_params(a);
        CHECK(memcmp(loco_gpt_params(a), loco_gpt_params(b), P * sizeof(float)) == 0, "%s", "");
        /* And it moved: the check above compares trained models. */
        loco_gpt *fresh = NULL;
        loco_gpt_create(&fresh, &tiny, 1, 16, 42, NULL, 0);
        CHECK(memcmp(loco_gpt_params(fresh), loco_gpt_params(b), P * sizeof(float)) != 0, "%s", "");
        loco_gpt_free(fresh);
        loco_sim_free(s);
        loco_dipaco_sim_free(d);
    }
    loco_split_free(split);
}

LOCO_TEST(dipaco_layout) {
    loco_gpt_config g = {.max_seq_len = 8, .vocab_size = 11, .n_layer = 3, .n_head = 2, .channels = 4};
    loco_dipaco_config d;
    char msg[256];
    CHECK(loco_dipaco_parse("1x2,2x3", &d, msg, sizeof msg) == LOCO_OK, "%s", "");
    loco_dipaco_layout l;
    CHECK(loco_dipaco_layout_init(&l, &g, &d, msg, sizeof msg) == LOCO_OK, "%s", "");
    CHECK(l.n_paths == 6 && l.n_modules == 1 + 2 + 3, "%s", "");
    /* Mixed radix, level 0 most significant: path 4 = (1, 1). */
    CHECK(loco_dipaco_module(&l, 4, -1) == 0, "%s", "");
    CHECK(loco_dipaco_module(&l, 4, 0) == 2 && loco_dipaco_module(&l, 4, 1) == 4, "%s", "");
    CHECK(loco_dipaco_module_paths(&l, 0) == 6 && loco_dipaco_module_paths(&l, 1) == 3 &&
          loco_dipaco_module_paths(&l, 5) == 2, "%s", "");
    /* Every float of a path belongs to exactly one of its modules. */
    size_t sum = l.base_size;
    for (int v = 0; v < 2; v++) sum += l.level_size[v];
    CHECK(sum == l.path_params, "%s", "");
    CHECK(l.total == l.base_size + 2 * l.level_size[0] + 3 * l.level_size[1], "%s", "");
    /* Gather after scatter gives the dense model back, for every path. */
    float *dense = malloc(l.path_params * sizeof(float)), *mods = malloc(l.total * sizeof(float));
    float *path = malloc(l.path_params * sizeof(float));
    for (size_t i = 0; i < l.path_params; i++) dense[i] = (float)i;
    loco_dipaco_scatter(&l, dense, mods);
    for (int p = 0; p < l.n_paths; p++) {
        memset(path, 0xff, l.path_params * sizeof(float));
        loco_dipaco_gather(&l, mods, p, path);
        CHECK(memcmp(path, dense, l.path_params * sizeof(float)) == 0, "%s", "");
    }
    /* Private bases: one per path. */
    d.shared_base = 0;
    CHECK(loco_dipaco_layout_init(&l, &g, &d, msg, sizeof msg) == LOCO_OK, "%s", "");
    CHECK(l.n_modules == 6 + 5 && loco_dipaco_module(&l, 4, -1) == 4 && loco_dipaco_module_paths(&l, 4) == 1, "%s", "");
    /* Bad structures. */
    CHECK(loco_dipaco_parse("1x4,", &d, msg, sizeof msg) == LOCO_EINVAL, "%s", "");
    CHECK(loco_dipaco_parse("0x4", &d, msg, sizeof msg) == LOCO_EINVAL, "%s", "");
    CHECK(loco_dipaco_parse("2", &d, msg, sizeof msg) == LOCO_EINVAL, "%s", "");
    CHECK(loco_dipaco_parse("1x4,1x4", &d, msg, sizeof msg) == LOCO_OK, "%s", "");
    CHECK(loco_dipaco_layout_init(&l, &g, &d, msg, sizeof msg) == LOCO_ECONFIG, "%s", "");
    CHECK(strstr(msg, "has 3 layers") != NULL, "%s", "");
    free(dense);
    free(mods);
    free(path);
}

#define REF_SCRIPT "tests/ref_dipaco.py"

LOCO_TEST(dipaco_merge_matches_numpy) {
    /* Random modules and random "trained" paths over 2 levels (1 block x 2
     * modules, 1 block x 3 modules), weights of different sizes, one merge
     * with Nesterov from a non-zero momentum buffer; the reference rebuilds
     * the layout itself and also checks what loco_dipaco_gather produced. */
    loco_gpt_config g = {.max_seq_len = 8, .vocab_size = 13, .n_layer = 2, .n_head = 2, .channels = 8};
    loco_dipaco_config d;
    loco_dipaco_layout l;
    char msg[256];
    loco_dipaco_parse("1x2,1x3", &d, msg, sizeof msg);
    CHECK(loco_dipaco_layout_init(&l, &g, &d, msg, sizeof msg) == LOCO_OK, "%s", "");
    const int P = l.n_paths;
    const size_t S = l.path_params, N = l.total;
    float *mods = malloc(N * sizeof(float)), *state = malloc(N * sizeof(float)), *target = malloc(N * sizeof(float));
    float *gathered = malloc((size_t)P * S * sizeof(float)), *trained = malloc((size_t)P * S * sizeof(float));
    double *sum = calloc(N, sizeof(double)), *wsum = calloc((size_t)l.n_modules, sizeof(double));
    double w[6] = {120, 7, 3000, 45, 1, 999}, *ref = malloc(2 * N * sizeof(double));
    long t[16] = {0};
    loco_rng r;
    loco_rng_seed(&r, 9);
    for (size_t i = 0; i < N; i++) {
        mods[i] = loco_rng_normal(&r);
        state[i] = 0.1f * loco_rng_normal(&r);
    }
    for (int p = 0; p < P; p++) {
        loco_dipaco_gather(&l, mods, p, gathered + (size_t)p * S);
        for (size_t i = 0; i < S; i++) trained[(size_t)p * S + i] = gathered[(size_t)p * S + i] + 0.05f * loco_rng_normal(&r);
    }
    char in_path[] = "/tmp/loco_dpc_in_XXXXXX", out_path[] = "/tmp/loco_dpc_out_XXXXXX";
    int fi = mkstemp(in_path), fo = mkstemp(out_path);
    if (fo >= 0) close(fo);
    FILE *f = fi >= 0 ? fdopen(fi, "wb") : NULL;
    int32_t ints[9] = {g.vocab_size, g.max_seq_len, g.n_layer, g.channels, 2, 1, P, (int32_t)N, (int32_t)S};
    int32_t lv[4] = {1, 1, 2, 3};
    float hyper[2] = {0.7f, 0.9f};
    int werr = !f || loco_test_put(f, "LOCODPC1", 8) || loco_test_put(f, ints, sizeof ints) ||
               loco_test_put(f, lv, sizeof lv) || loco_test_put(f, hyper, sizeof hyper) ||
               loco_test_put(f, w, sizeof w) || loco_test_put(f, mods, N * sizeof(float)) ||
               loco_test_put(f, state, N * sizeof(float)) ||
               loco_test_put(f, gathered, (size_t)P * S * sizeof(float)) ||
               loco_test_put(f, trained, (size_t)P * S * sizeof(float));
    if (f) werr |= fclose(f) != 0;
    CHECK(!werr, "%s", "");
    char why[256];
    int rs = loco_test_reference(REF_SCRIPT, in_path, out_path, "numpy", why, sizeof why);
    if (rs != 0) FAIL("%s", why);
    FILE *g2 = rs == 0 ? fopen(out_path, "rb") : NULL;
    char magic[8];
    int rerr = !g2 || fread(magic, 1, 8, g2) != 8 || memcmp(magic, "LOCODPCR", 8) != 0 ||
               fread(ref, sizeof(double), 2 * N, g2) != 2 * N || fgetc(g2) != EOF;
    if (g2) fclose(g2);
    if (rs == 0) CHECK(!rerr, "%s", "");
    if (rs == 0 && !rerr) {
        for (int p = 0; p < P; p++)
            loco_dipaco_accumulate(&l, p, w[p], trained + (size_t)p * S, sum, wsum);
        loco_outer_config oc;
        loco_outer_config_default(&oc);
        CHECK(loco_dipaco_merge(&l, &oc, mods, state, t, sum, wsum, target) == l.n_modules, "%s", "");
        CHECK(t[0] == 1 && t[l.n_modules - 1] == 1, "%s", "");
        /* Error relative to the scale of each array: the float32 Nesterov
         * step rounds a few operations of magnitude ~1 (6e-8 each). */
        double em = 0, es = 0, sm = 0, ss = 0;
        for (size_t i = 0; i < N; i++) {
            em = fmax(em, fabs(mods[i] - ref[i]));
            es = fmax(es, fabs(state[i] - ref[N + i]));
            sm = fmax(sm, fabs(ref[i]));
            ss = fmax(ss, fabs(ref[N + i]));
        }
        printf("    modules %.2e, momentum %.2e of scale\n", em / sm, es / ss);
        CHECK(em / sm < 1e-6 && es / ss < 1e-6, "%s", "");
        /* A module with no contribution is left alone. */
        float before = mods[0];
        memset(wsum, 0, (size_t)l.n_modules * sizeof(double));
        CHECK(loco_dipaco_merge(&l, &oc, mods, state, t, sum, wsum, target) == 0, "%s", "");
        CHECK(mods[0] == before && t[0] == 1, "%s", "");
    }
    unlink(in_path);
    unlink(out_path);
    free(mods);
    free(state);
    free(target);
    free(gathered);
    free(trained);
    free(sum);
    free(wsum);
    free(ref);
}

LOCO_TEST(dipaco_module_files) {
    loco_gpt_config g = {.max_seq_len = 8, .vocab_size = 13, .n_layer = 2, .n_head = 2, .channels = 8};
    loco_dipaco_config d;
    loco_dipaco_layout l, l2;
    char msg[512], dir[] = "/tmp/loco_dpf_XXXXXX", tok[256], router[256], path[600];
    loco_dipaco_parse("1x2,1x2", &d, msg, sizeof msg);
    CHECK(loco_dipaco_layout_init(&l, &g, &d, msg, sizeof msg) == LOCO_OK, "%s", "");
    CHECK(mkdtemp(dir) != NULL, "%s", "");
    float *mods = malloc(l.total * sizeof(float)), *a = malloc(l.path_params * sizeof(float));
    float *b = malloc(l.path_params * sizeof(float));
    for (size_t i = 0; i < l.total; i++) mods[i] = (float)i * 0.25f - 3;
    CHECK(loco_dipaco_save(dir, &l, mods, "tok.json", "router.json", msg, sizeof msg) == LOCO_OK, "%s", "");
    CHECK(loco_dipaco_load_layout(dir, &l2, tok, router, msg, sizeof msg) == LOCO_OK, "%s", "");
    CHECK(memcmp(&l, &l2, sizeof l) == 0 && !strcmp(tok, "tok.json") && !strcmp(router, "router.json"), "%s", "");
    for (int p = 0; p < l.n_paths; p++) {
        loco_dipaco_gather(&l, mods, p, a);
        CHECK(loco_dipaco_load_path(dir, &l2, p, b, msg, sizeof msg) == LOCO_OK, "%s", "");
        CHECK(memcmp(a, b, l.path_params * sizeof(float)) == 0, "%s", "");
    }
    /* Path 0 needs only base, level0_module0 and level1_module0: it loads
     * without the other modules' files. */
    snprintf(path, sizeof path, "%s/level0_module1.safetensors", dir);
    CHECK(unlink(path) == 0, "%s", "");
    CHECK(loco_dipaco_load_path(dir, &l2, 0, b, msg, sizeof msg) == LOCO_OK, "%s", "");
    CHECK(loco_dipaco_load_path(dir, &l2, 3, b, msg, sizeof msg) == LOCO_EIO, "%s", "");
    CHECK(strstr(msg, "level0_module1") != NULL, "%s", "");
    /* A truncated module, a module under another's name, a damaged layout. */
    snprintf(path, sizeof path, "%s/level1_module0.safetensors", dir);
    CHECK(truncate(path, 100) == 0, "%s", "");
    CHECK(loco_dipaco_load_path(dir, &l2, 0, b, msg, sizeof msg) == LOCO_EINVAL, "%s", "");
    char src[600];
    snprintf(src, sizeof src, "%s/level1_module1.safetensors", dir);
    CHECK(rename(src, path) == 0, "%s", "");
    CHECK(loco_dipaco_load_path(dir, &l2, 0, b, msg, sizeof msg) == LOCO_EINVAL, "%s", "");
    CHECK(strstr(msg, "another module") != NULL, "%s", "");
    snprintf(path, sizeof path, "%s/dipaco.json", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("{\"format\":\"loco-dipaco-1\",\"config\":{}}", f);
        fclose(f);
    }
    CHECK(loco_dipaco_load_layout(dir, &l2, NULL, NULL, msg, sizeof msg) == LOCO_EINVAL, "%s", "");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", "");
    free(mods);
    free(a);
    free(b);
}

LOCO_TEST(dipaco_reset_inner_is_a_function_of_the_task) {
    /* With reset_inner, round r of path p depends on the modules and on
     * (seed, p, r) only: two runs agree bit for bit, and a run differs from
     * one that keeps the inner state (so the flag does something). */
    corpus c;
    corpus_make(&c, 5);
    loco_split *split = split_iid(&c, 4);
    float *out[3] = {0};
    size_t n = 0;
    for (int k = 0; k < 3; k++) {
        loco_dipaco_sim_config dc;
        dipaco_config(&dc, "1x2,1x2", 2, 6);
        dc.reset_inner = k < 2;
        loco_dipaco_sim *d = NULL;
        char msg[256];
        CHECK(loco_dipaco_sim_create(&d, &dc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK, "%s", msg);
        if (!d) break;
        while (loco_dipaco_sim_get_stats(d)->round < loco_dipaco_sim_get_stats(d)->n_rounds)
            CHECK(loco_dipaco_sim_round(d, msg, sizeof msg) == LOCO_OK, "%s", "");
        n = loco_dipaco_sim_layout(d)->total;
        out[k] = malloc(n * sizeof(float));
        memcpy(out[k], loco_dipaco_sim_modules(d), n * sizeof(float));
        loco_dipaco_sim_free(d);
    }
    if (out[2]) {
        CHECK(memcmp(out[0], out[1], n * sizeof(float)) == 0, "%s", "");
        CHECK(memcmp(out[0], out[2], n * sizeof(float)) != 0, "%s", "");
    }
    for (int k = 0; k < 3; k++) free(out[k]);
    loco_split_free(split);
}

LOCO_TEST(dipaco_cli) {
    /* Train 4 paths on 40 byte-level documents split iid, score with a random router,
     * and refuse bad flags with one line and exit 2. */
    char dir[] = "/tmp/loco_dpcli_XXXXXX", cmd[2048], err[512];
    CHECK(mkdtemp(dir) != NULL, "%s", "");
    snprintf(cmd, sizeof cmd, "%s/docs.jsonl", dir);
    FILE *f = fopen(cmd, "w");
    for (int i = 0; f && i < 40; i++)
        fprintf(f, "{\"text\": \"document %d: the quick brown fox jumps over the lazy dog %d times, "
                "then the dog sleeps.\"}\n", i, i % 7);
    if (f) fclose(f);
    snprintf(cmd, sizeof cmd, "data prepare --input %s/docs.jsonl --bytes 1 --val-frac 0 --out %s/d", dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "train --train-shard %s/d.train.bin --val-shard %s/d.train.bin --layers 2 --channels 16 --heads 2 --seq-len 16 "
             "--batch 2 --steps 6 --inner-steps 3 --algo dipaco --modules 1x2,1x2 --out %s/m", dir, dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "route fit --train-shard %s/d.train.bin --method random --paths 4 --out %s/r.json",
             dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "eval --dipaco %s/m --router %s/r.json --val-shard %s/d.train.bin --prefix 32", dir,
             dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "sample --dipaco %s/m --router %s/r.json --prompt 'document 3: the' --tokens 5", dir,
             dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "%s: %s", cmd, err);
    CHECK(strstr(err, "random router chose path") != NULL, "%s", err);
    /* Top-2 routing: overlapping shards hold every document twice. */
    snprintf(cmd, sizeof cmd, "%s train --train-shard %s/d.train.bin --val-shard %s/d.train.bin --layers 2 "
             "--channels 16 --heads 2 --seq-len 16 --batch 2 --steps 6 --inner-steps 3 --algo dipaco --modules 1x2,1x2 "
             "--router %s/r.json --route-topk 2 --out %s/m2 > %s/top2.txt 2>&1", loco_test_bin(), dir, dir, dir, dir,
             dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "%s/top2.txt", dir);
    long docs_in_shards = 0;
    FILE *t2 = fopen(cmd, "r");
    char line[1024];
    while (t2 && fgets(line, sizeof line, t2))
        if (strstr(line, "shards (") && strstr(line, "): ")) {
            /* "  shards (R): 21 19 22 18 docs": each path's documents. */
            char *p = strstr(line, "): ") + 3, *e;
            for (long v = strtol(p, &e, 10); e != p; v = strtol(p, &e, 10)) {
                docs_in_shards += v;
                p = e;
            }
        }
    if (t2) fclose(t2);
    CHECK(docs_in_shards == 80, "top-2 shards hold %ld documents, want 2 x 40", docs_in_shards);
    /* Discriminative routing after round 1, from a k-means router on the
     * features of a small dense model: every path keeps documents (the
     * balanced capacity), the linear router is saved and named in
     * dipaco.json, and evaluation routes with it. */
    snprintf(cmd, sizeof cmd, "train --train-shard %s/d.train.bin --val-shard %s/d.train.bin --layers 1 --channels 16 "
             "--heads 2 --seq-len 32 --batch 2 --steps 4 --out %s/feat", dir, dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "route fit --feature-model %s/feat/model.safetensors --train-shard %s/d.train.bin "
             "--method kmeans --paths 4 --out %s/k.json", dir, dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "%s train --train-shard %s/d.train.bin --val-shard %s/d.train.bin --layers 2 "
             "--channels 16 --heads 2 --seq-len 16 --batch 2 --steps 6 --inner-steps 3 --algo dipaco --modules 1x2,1x2 "
             "--router %s/k.json --em-round 1 --out %s/em > %s/em.txt 2>&1", loco_test_bin(), dir, dir, dir, dir, dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "%s/em.txt", dir);
    FILE *em = fopen(cmd, "r");
    int em_line = 0, em_empty = 0;
    long em_docs = 0;
    while (em && fgets(line, sizeof line, em)) {
        char *sh = strstr(line, "  em ") == line ? strstr(line, "shards:") : NULL;
        if (!sh) continue;
        em_line = 1;
        char *p = sh + 7, *e;
        for (long v = strtol(p, &e, 10); e != p; v = strtol(p, &e, 10)) {
            em_docs += v;
            em_empty += v == 0;
            p = e;
        }
    }
    if (em) fclose(em);
    CHECK(em_line && em_docs == 40 && !em_empty, "EM step: line %d, %ld documents, %d empty paths", em_line, em_docs,
          em_empty);
    snprintf(cmd, sizeof cmd, "grep -q router_disc.json %s/em/dipaco.json", dir);
    CHECK(system(cmd) == 0, "dipaco.json does not name the discriminative router");
    snprintf(cmd, sizeof cmd, "eval --dipaco %s/em --val-shard %s/d.train.bin", dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "eval --dipaco %s/m --val-shard %s/d.train.bin", dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2, "%s", "");
    CHECK(strstr(err, "no router") != NULL, "%s", "");
    const char *bad[] = {"--modules 1x4", "--modules 1x2,1x2 --workers 3", "--modules 1x2,1x2 --compress int8",
                         "--modules banana", "--modules 1x2,1x2 --router /nonexistent.json",
                         "--modules 1x2,1x2 --route-topk 2"};
    for (int k = 0; k < 6; k++) {
        snprintf(cmd, sizeof cmd, "train --train-shard %s/d.train.bin --val-shard %s/d.train.bin --layers 2 --channels 16 --heads 2 "
                 "--seq-len 16 --batch 2 --steps 6 --algo dipaco %s", dir, dir, bad[k]);
        int st = loco_test_run(cmd, err, sizeof err);
        CHECK(st == 2 || (k == 4 && st == 1), "%s", "");
        CHECK(strchr(err, '\n') == strrchr(err, '\n'), "%s", "");
    }
    snprintf(cmd, sizeof cmd, "train --train-shard %s/d.train.bin --val-shard %s/d.train.bin --steps 6 --modules 1x2", dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2, "%s", "");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", "");
}
