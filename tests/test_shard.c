/* Token shards: round trips, every kind of corruption, atomic writes, prepare. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loco/shard.h"
#include "test.h"

/* A fresh empty directory under /tmp, in buf. */
static const char *tmp_dir(char *buf, size_t cap) {
    snprintf(buf, cap, "/tmp/loco_shard_XXXXXX");
    if (!mkdtemp(buf)) buf[0] = '\0';
    return buf;
}

/* Removes every file in dir, then dir. */
static void rm_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (remove(p) != 0) rmdir(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

/* Number of entries in dir. */
static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

/* Reads a whole file into a malloc'd buffer; *n its length. */
static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    unsigned char *b = malloc(1 << 20);
    if (b) *n = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(data, 1, n, f); fclose(f); }
}

/* Writes docs (lengths len[d], ids drawn below vocab from seed) and checks
 * that reading them back gives the same ids, counts and file size. */
static void roundtrip(int *loco_test_failed_, int vocab, int expect_bytes) {
    char dir[64], path[128], msg[512];
    tmp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/rt.bin", dir);
    const size_t len[] = {5, 0, 1, 1000, 3};
    const int nd = 5;
    int *ids[5];
    loco_rng rng;
    loco_rng_seed(&rng, (uint64_t)vocab);
    loco_shard_writer *w;
    CHECK(loco_shard_writer_open(&w, path, vocab, msg, sizeof msg) == 0, "%s", msg);
    uint64_t total = 0;
    for (int d = 0; d < nd; d++) {
        ids[d] = malloc((len[d] + 1) * sizeof(int));
        for (size_t i = 0; i < len[d]; i++) ids[d][i] = (int)(loco_rng_u64(&rng) % (uint64_t)vocab);
        if (len[d] > 0) ids[d][0] = vocab - 1;   /* the largest id fits */
        CHECK(loco_shard_writer_add_doc(w, ids[d], len[d], msg, sizeof msg) == 0, "%s", msg);
        total += len[d];
    }
    CHECK(loco_shard_writer_close(w, msg, sizeof msg) == 0, "%s", msg);
    CHECK(count_entries(dir) == 1, "temporary file left behind");
    struct stat st;
    stat(path, &st);
    uint64_t want = 64 + (total * expect_bytes + 7) / 8 * 8 + (nd + 1) * 8;
    CHECK((uint64_t)st.st_size == want, "file is %lld bytes, want %llu", (long long)st.st_size,
          (unsigned long long)want);
    loco_shard s;
    CHECK(loco_shard_open(&s, path, vocab, 1, msg, sizeof msg) == 0, "%s", msg);
    CHECK(s.vocab_size == vocab && s.token_bytes == expect_bytes, "vocab %d width %d",
          s.vocab_size, s.token_bytes);
    CHECK(s.n_tokens == total && s.n_docs == (uint64_t)nd, "%llu tokens %llu docs",
          (unsigned long long)s.n_tokens, (unsigned long long)s.n_docs);
    int bad = 0;
    int buf[1000];
    for (int d = 0; d < nd && s.doc_offsets; d++) {
        uint64_t a = s.doc_offsets[d], b = s.doc_offsets[d + 1];
        bad += b - a != len[d];
        for (uint64_t i = a; i < b && b - a == len[d]; i++)
            bad += loco_shard_token(&s, i) != (uint32_t)ids[d][i - a];
        if (b - a == len[d]) {
            loco_shard_read(&s, a, len[d], buf);
            bad += len[d] && memcmp(buf, ids[d], len[d] * sizeof(int)) != 0;
        }
    }
    CHECK(bad == 0, "%d mismatches", bad);
    loco_shard_close(&s);
    for (int d = 0; d < nd; d++) free(ids[d]);
    rm_dir(dir);
}

LOCO_TEST(shard_roundtrip_u16) { roundtrip(loco_test_failed_, 50257, 2); }
LOCO_TEST(shard_roundtrip_u16_max_vocab) { roundtrip(loco_test_failed_, 65536, 2); }
LOCO_TEST(shard_roundtrip_u32) { roundtrip(loco_test_failed_, 70000, 4); }

LOCO_TEST(shard_empty) {
    char dir[64], path[128], msg[512];
    tmp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/empty.bin", dir);
    loco_shard_writer *w;
    CHECK(loco_shard_writer_open(&w, path, 256, msg, sizeof msg) == 0, "%s", msg);
    CHECK(loco_shard_writer_close(w, msg, sizeof msg) == 0, "%s", msg);
    loco_shard s;
    CHECK(loco_shard_open(&s, path, 0, 1, msg, sizeof msg) == 0, "%s", msg);
    CHECK(s.n_tokens == 0 && s.n_docs == 0 && s.doc_offsets && s.doc_offsets[0] == 0, "empty");
    loco_shard_close(&s);
    rm_dir(dir);
}

/* Stores v little-endian at p. */
static void le(unsigned char *p, uint64_t v, int nb) {
    for (int i = 0; i < nb; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Expects opening the n bytes (as a file) to fail with err, a one-line
 * message naming the file and containing needle, and a zeroed shard. */
static void expect_bad(int *loco_test_failed_, const char *path, const unsigned char *b,
                       size_t n, int vocab, int verify, int err, const char *needle) {
    spit(path, b, n);
    loco_shard s;
    char msg[512] = "";
    int r = loco_shard_open(&s, path, vocab, verify, msg, sizeof msg);
    CHECK(r == err, "'%s': got %d want %d (%s)", needle, r, err, msg);
    CHECK(strstr(msg, path) && strstr(msg, needle) && !strchr(msg, '\n'),
          "message should name the file and say '%s': %s", needle, msg);
    CHECK(s.map_ == NULL && s.tokens == NULL, "shard not zeroed after a failure");
    if (r == 0) loco_shard_close(&s);
}

/* Recomputes the checksum of a shard image after an edit to its body. */
static void reseal(unsigned char *b, size_t n) {
    le(b + 40, loco_fnv1a64(LOCO_FNV1A_INIT, b + 64, n - 64), 8);
}

LOCO_TEST(shard_corrupt_inputs_fail_cleanly) {
    char dir[64], good[128], bad[128], msg[512];
    tmp_dir(dir, sizeof dir);
    snprintf(good, sizeof good, "%s/good.bin", dir);
    snprintf(bad, sizeof bad, "%s/bad.bin", dir);
    loco_shard_writer *w;
    int ids[7] = {1, 2, 3, 4, 5, 6, 7};
    CHECK(loco_shard_writer_open(&w, good, 100, msg, sizeof msg) == 0, "%s", msg);
    CHECK(loco_shard_writer_add_doc(w, ids, 4, msg, sizeof msg) == 0, "%s", msg);
    CHECK(loco_shard_writer_add_doc(w, ids + 4, 3, msg, sizeof msg) == 0, "%s", msg);
    CHECK(loco_shard_writer_close(w, msg, sizeof msg) == 0, "%s", msg);
    size_t n;
    unsigned char *g = slurp(good, &n), b[1024];
    CHECK(g && n == 64 + 16 + 24, "good shard is %zu bytes", n);
    if (!g || n != 104) { free(g); rm_dir(dir); return; }
#define FRESH() memcpy(b, g, n)
    FRESH(); memcpy(b, "LOCOTOX", 8);
    expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "wrong magic");
    FRESH(); le(b + 8, 2, 4);
    expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "version 2");
    FRESH(); le(b + 16, 3, 4);
    expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "token width");
    FRESH(); le(b + 12, 70000, 4);   /* uint16 tokens cannot hold this vocabulary */
    expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "token width");
    FRESH(); le(b + 12, 0, 4);
    expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "vocabulary size 0");
    FRESH(); b[50] = 1;
    expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "reserved");
    const size_t cuts[] = {0, 1, 8, 63};
    for (int i = 0; i < 4; i++)
        expect_bad(loco_test_failed_, bad, g, cuts[i], 0, 0, LOCO_EINVAL, "truncated");
    const size_t cuts2[] = {64, 80, 96, 103};
    for (int i = 0; i < 4; i++)
        expect_bad(loco_test_failed_, bad, g, cuts2[i], 0, 0, LOCO_EINVAL, "truncated");
    memcpy(b, g, n); b[n] = 0;   /* one byte too many */
    expect_bad(loco_test_failed_, bad, b, n + 1, 0, 0, LOCO_EINVAL, "does not match");
    /* Counts beyond the file, and counts whose byte sizes overflow 64 bits. */
    const uint64_t huge[] = {9, 1000, 1ULL << 62, (1ULL << 63) + 1, UINT64_MAX};
    for (int i = 0; i < 5; i++) {
        FRESH(); le(b + 24, huge[i], 8);
        expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL,
                   i == 0 ? "does not match" : "header claims");
        FRESH(); le(b + 32, huge[i], 8);
        expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "does not match");
    }
    /* Offsets out of order, or not ending at n_tokens (checksum made valid). */
    FRESH(); le(b + 80 + 8, 9, 8); reseal(b, n);
    expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "document offset 1");
    FRESH(); le(b + 80, 1, 8); reseal(b, n);
    expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "document offset 0");
    FRESH(); le(b + 80 + 16, 6, 8); reseal(b, n);
    expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "document offset 2");
    FRESH(); b[64 + 14] = 1; reseal(b, n);   /* padding after 7 uint16 tokens */
    expect_bad(loco_test_failed_, bad, b, n, 0, 0, LOCO_EINVAL, "padding");
    /* A flipped token: only checksum verification sees it. */
    FRESH(); b[64 + 2] ^= 1;
    expect_bad(loco_test_failed_, bad, b, n, 0, 1, LOCO_EINVAL, "checksum mismatch");
    spit(bad, b, n);
    loco_shard s;
    CHECK(loco_shard_open(&s, bad, 0, 0, msg, sizeof msg) == 0, "without verify: %s", msg);
    loco_shard_close(&s);
    /* A token outside the vocabulary behind a valid checksum. */
    FRESH(); le(b + 64 + 6, 100, 2); reseal(b, n);
    expect_bad(loco_test_failed_, bad, b, n, 0, 1, LOCO_EINVAL, "token 3 is 100, outside");
    /* The model's vocabulary differs from the shard's. */
    expect_bad(loco_test_failed_, bad, g, n, 50257, 1, LOCO_EINVAL,
               "vocabulary size 100 does not match the expected 50257");
    /* Missing files and directories. */
    CHECK(loco_shard_open(&s, "/nonexistent/x.bin", 0, 1, msg, sizeof msg) == LOCO_EIO &&
          strstr(msg, "/nonexistent/x.bin"), "missing file: %s", msg);
    CHECK(loco_shard_open(&s, dir, 0, 1, msg, sizeof msg) == LOCO_EIO && strstr(msg, dir),
          "directory: %s", msg);
#undef FRESH
    free(g);
    rm_dir(dir);
}

LOCO_TEST(shard_unwritable_path_keeps_existing_file) {
    char dir[64], path[128], msg[512] = "";
    loco_shard_writer *w = NULL;
    int r = loco_shard_writer_open(&w, "/nonexistent/dir/out.bin", 256, msg, sizeof msg);
    CHECK(r == LOCO_EIO && w == NULL && strstr(msg, "/nonexistent/dir/out.bin"),
          "unwritable: %d %s", r, msg);
    tmp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/keep.bin", dir);
    spit(path, "precious", 8);
    /* A failed write (an id outside the vocabulary) leaves the old file. */
    int ids[3] = {1, 256, 2};
    CHECK(loco_shard_writer_open(&w, path, 256, msg, sizeof msg) == 0, "%s", msg);
    r = loco_shard_writer_add_doc(w, ids, 3, msg, sizeof msg);
    CHECK(r == LOCO_EINVAL && strstr(msg, "id 256 is outside the vocabulary [0, 256)") &&
          strstr(msg, path), "%d %s", r, msg);
    CHECK(loco_shard_writer_add_doc(w, ids, 1, msg, sizeof msg) != 0, "writer stays failed");
    CHECK(loco_shard_writer_close(w, msg, sizeof msg) == LOCO_EINVAL, "close reports it");
    size_t n;
    unsigned char *b = slurp(path, &n);
    CHECK(b && n == 8 && memcmp(b, "precious", 8) == 0, "existing file damaged");
    free(b);
    CHECK(count_entries(dir) == 1, "temporary file left behind");
    /* An abort leaves it too. */
    CHECK(loco_shard_writer_open(&w, path, 256, msg, sizeof msg) == 0, "%s", msg);
    CHECK(loco_shard_writer_add_doc(w, ids, 1, msg, sizeof msg) == 0, "%s", msg);
    loco_shard_writer_abort(w);
    b = slurp(path, &n);
    CHECK(b && n == 8 && memcmp(b, "precious", 8) == 0, "existing file damaged by abort");
    free(b);
    CHECK(count_entries(dir) == 1, "temporary file left behind by abort");
    /* The final rename fails (a directory appeared in the way while the
     * shard was written): no partial file.  One there already is refused
     * at once. */
    char sub[160];
    snprintf(sub, sizeof sub, "%s/adir", dir);
    CHECK(loco_shard_writer_open(&w, sub, 256, msg, sizeof msg) == 0, "%s", msg);
    mkdir(sub, 0755);
    CHECK(loco_shard_writer_add_doc(w, ids, 1, msg, sizeof msg) == 0, "%s", msg);
    r = loco_shard_writer_close(w, msg, sizeof msg);
    CHECK(r == LOCO_EIO && strstr(msg, sub), "rename onto a directory: %d %s", r, msg);
    CHECK(count_entries(dir) == 2 && count_entries(sub) == 0, "leftovers after a failed rename");
    r = loco_shard_writer_open(&w, sub, 256, msg, sizeof msg);
    CHECK(r == LOCO_EIO && strstr(msg, "not a regular file"), "a directory at the path: %d %s", r, msg);
    CHECK(count_entries(dir) == 2, "leftovers after a refused open");
    rmdir(sub);
    rm_dir(dir);
}

/* A byte-level tokenizer for the tests: ids are the bytes. */
static long byte_encoder(void *ctx, const uint8_t *text, size_t n, int *ids, size_t cap) {
    for (size_t i = 0; i < n && i < cap; i++) ids[i] = text[i];
    return (long)n;
}

/* Checks that the shard's documents decode (ids as bytes, eot 256 dropped)
 * to the given texts, in order. */
static void expect_docs(int *loco_test_failed_, const char *path, const char *const *texts,
                        int n) {
    loco_shard s;
    char msg[512];
    CHECK(loco_shard_open(&s, path, 257, 1, msg, sizeof msg) == 0, "%s", msg);
    CHECK(s.n_docs == (uint64_t)n, "%s: %llu documents, want %d", path,
          (unsigned long long)s.n_docs, n);
    for (int d = 0; d < n && (uint64_t)d < s.n_docs; d++) {
        uint64_t a = s.doc_offsets[d], b = s.doc_offsets[d + 1];
        size_t len = strlen(texts[d]);
        int ok = b - a == len + 1 && loco_shard_token(&s, b - 1) == 256;
        for (size_t i = 0; ok && i < len; i++) ok = loco_shard_token(&s, a + i) == (uint8_t)texts[d][i];
        CHECK(ok, "%s: document %d does not decode to '%s'", path, d, texts[d]);
    }
    loco_shard_close(&s);
}

LOCO_TEST(shard_prepare_decodes_back) {
    char dir[64], in1[128], in2[128], prefix[128], tp[160], vp[160], msg[512];
    tmp_dir(dir, sizeof dir);
    snprintf(in1, sizeof in1, "%s/a.jsonl", dir);
    snprintf(in2, sizeof in2, "%s/b.txt", dir);
    snprintf(prefix, sizeof prefix, "%s/out", dir);
    snprintf(tp, sizeof tp, "%s.train.bin", prefix);
    snprintf(vp, sizeof vp, "%s.val.bin", prefix);
    const char *jl = "{\"text\": \"one\"}\n{\"text\": \"\"}\n{\"text\": \"two \\u00e9\"}\n"
                     "{\"text\": \"three\"}\n";
    spit(in1, jl, strlen(jl));
    spit(in2, "four\n", 5);
    const char *inputs[2] = {in1, in2};
    int r = loco_data_prepare(inputs, 2, NULL, byte_encoder, NULL, 257, 256, 0.25, prefix, msg,
                              sizeof msg);
    CHECK(r == 0, "%s", msg);
    /* Four non-empty documents, round(0.25 * 4) = 1 for validation. */
    const char *train[] = {"one", "two \xc3\xa9", "three"}, *val[] = {"four\n"};
    expect_docs(loco_test_failed_, tp, train, 3);
    expect_docs(loco_test_failed_, vp, val, 1);
    /* One document: cut inside it, the last 40% of its tokens validate. */
    r = loco_data_prepare(inputs + 1, 1, NULL, byte_encoder, NULL, 257, 256, 0.4, prefix, msg,
                          sizeof msg);
    CHECK(r == 0, "%s", msg);
    loco_shard s;
    CHECK(loco_shard_open(&s, tp, 257, 1, msg, sizeof msg) == 0 && s.n_tokens == 4 &&
          loco_shard_token(&s, 3) == 'r', "single-doc train split");
    loco_shard_close(&s);
    CHECK(loco_shard_open(&s, vp, 257, 1, msg, sizeof msg) == 0 && s.n_tokens == 2 &&
          loco_shard_token(&s, 0) == '\n' && loco_shard_token(&s, 1) == 256,
          "single-doc validation split");
    loco_shard_close(&s);
    /* A fraction of 0 writes the train shard alone and 1 the validation shard
     * alone, every document in it; neither touches the other split's file. */
    const char *all[] = {"one", "two \xc3\xa9", "three", "four\n"};
    remove(tp);
    remove(vp);
    r = loco_data_prepare(inputs, 2, NULL, byte_encoder, NULL, 257, 256, 0, prefix, msg, sizeof msg);
    CHECK(r == 0, "%s", msg);
    expect_docs(loco_test_failed_, tp, all, 4);
    CHECK(access(vp, F_OK) != 0, "--val-frac 0 wrote a validation shard");
    r = loco_data_prepare(inputs, 2, NULL, byte_encoder, NULL, 257, 256, 1, prefix, msg, sizeof msg);
    CHECK(r == 0, "%s", msg);
    expect_docs(loco_test_failed_, vp, all, 4);
    expect_docs(loco_test_failed_, tp, all, 4);
    rm_dir(dir);
}

LOCO_TEST(shard_prepare_errors) {
    char dir[64], empty[128], badj[128], good[128], prefix[128], tp[160], msg[512];
    tmp_dir(dir, sizeof dir);
    snprintf(empty, sizeof empty, "%s/empty.txt", dir);
    snprintf(badj, sizeof badj, "%s/bad.jsonl", dir);
    snprintf(good, sizeof good, "%s/good.txt", dir);
    snprintf(prefix, sizeof prefix, "%s/out", dir);
    snprintf(tp, sizeof tp, "%s.train.bin", prefix);
    spit(empty, "", 0);
    spit(badj, "{\"text\": \"ok\"}\nnot json\n", 24);
    spit(good, "hello", 5);
    spit(tp, "old", 3);
    const char *in[1];
    int r;
    in[0] = empty;
    r = loco_data_prepare(in, 1, NULL, byte_encoder, NULL, 257, 256, 0.1, prefix, msg, sizeof msg);
    CHECK(r == LOCO_EINVAL && strstr(msg, empty) && strstr(msg, "no documents"), "%d %s", r, msg);
    in[0] = badj;
    r = loco_data_prepare(in, 1, NULL, byte_encoder, NULL, 257, 256, 0.1, prefix, msg, sizeof msg);
    CHECK(r == LOCO_EINVAL && strstr(msg, ":2: not a JSON object"), "%d %s", r, msg);
    in[0] = good;
    r = loco_data_prepare(in, 1, NULL, byte_encoder, NULL, 100, -1, 0.1, prefix, msg, sizeof msg);
    CHECK(r == LOCO_EINVAL && strstr(msg, "outside the vocabulary"), "%d %s", r, msg);
    r = loco_data_prepare(in, 1, NULL, byte_encoder, NULL, 257, 256, 1.5, prefix, msg, sizeof msg);
    CHECK(r == LOCO_EINVAL && strstr(msg, "fraction"), "%d %s", r, msg);
    r = loco_data_prepare(in, 1, NULL, byte_encoder, NULL, 257, 256, 0.1, "/nonexistent/d/out",
                          msg, sizeof msg);
    CHECK(r == LOCO_EIO && strstr(msg, "/nonexistent/d/out.train.bin"), "%d %s", r, msg);
    size_t n;
    unsigned char *b = slurp(tp, &n);
    CHECK(b && n == 3 && memcmp(b, "old", 3) == 0, "an earlier output was damaged");
    free(b);
    CHECK(count_entries(dir) == 4, "%d files: leftovers after failures", count_entries(dir));
    rm_dir(dir);
}

LOCO_TEST(shard_prepare_c4_sample) {
    const char *path = "../shared/data/c4/c4_en_train00000_first1000.jsonl";
    if (access(path, R_OK) != 0) return;   /* the shared data folder is optional */
    char dir[64], prefix[128], tp[160], vp[160], msg[512];
    tmp_dir(dir, sizeof dir);
    snprintf(prefix, sizeof prefix, "%s/c4", dir);
    snprintf(tp, sizeof tp, "%s.train.bin", prefix);
    snprintf(vp, sizeof vp, "%s.val.bin", prefix);
    const char *in[1] = {path};
    int r = loco_data_prepare(in, 1, "text", byte_encoder, NULL, 257, 256, 0.01, prefix, msg,
                              sizeof msg);
    CHECK(r == 0, "%s", msg);
    loco_shard t, v;
    CHECK(loco_shard_open(&t, tp, 257, 1, msg, sizeof msg) == 0, "%s", msg);
    CHECK(loco_shard_open(&v, vp, 257, 1, msg, sizeof msg) == 0, "%s", msg);
    CHECK(t.n_docs == 990 && v.n_docs == 10, "%llu + %llu documents",
          (unsigned long long)t.n_docs, (unsigned long long)v.n_docs);
    CHECK(t.n_tokens + v.n_tokens > 2000000, "%llu tokens", (unsigned long long)t.n_tokens);
    loco_shard_close(&t);
    loco_shard_close(&v);
    rm_dir(dir);
}
