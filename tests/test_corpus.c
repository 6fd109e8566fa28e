/* Corpus readers: plain text, JSON Lines, gzip, and every kind of bad input. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "loco/corpus.h"
#include "test.h"

/* Writes n bytes to a fresh file under /tmp whose name ends in suffix;
 * returns its path in buf (or "" on failure). */
static const char *tmp_file(char *buf, size_t cap, const char *suffix, const void *data,
                            size_t n) {
    static unsigned counter;
    snprintf(buf, cap, "/tmp/loco_corpus_%ld_%u%s", (long)getpid(), counter++, suffix);
    FILE *f = fopen(buf, "wb");
    if (!f || fwrite(data, 1, n, f) != n) buf[0] = '\0';
    if (f) fclose(f);
    return buf;
}

/* Writes n bytes gzip-compressed, as tmp_file does. */
static const char *tmp_gz(char *buf, size_t cap, const char *suffix, const void *data, size_t n) {
    static unsigned counter;
    snprintf(buf, cap, "/tmp/loco_corpus_gz_%ld_%u%s", (long)getpid(), counter++, suffix);
    gzFile g = gzopen(buf, "wb");
    if (!g || gzwrite(g, data, (unsigned)n) != (int)n) buf[0] = '\0';
    if (g) gzclose(g);
    return buf;
}

/* Reads every document of path (field as for loco_corpus_open) and returns
 * the count, or the first error; the last document's text is copied to last. */
static int read_all(const char *path, const char *field, char *last, size_t lastcap, char *msg,
                    size_t msglen) {
    loco_corpus *c;
    int err = loco_corpus_open(&c, path, field, msg, msglen);
    if (err) return err;
    const uint8_t *t;
    size_t n;
    int r, count = 0;
    while ((r = loco_corpus_next(c, &t, &n, msg, msglen)) == 1) {
        count++;
        if (last) snprintf(last, lastcap, "%.*s", (int)n, (const char *)t);
    }
    loco_corpus_close(c);
    return r < 0 ? r : count;
}

LOCO_TEST(corpus_plain_text) {
    char p[256], msg[512], last[256];
    const char *text = "First line.\n\nSecond paragraph, caf\xc3\xa9.\n";
    tmp_file(p, sizeof p, ".txt", text, strlen(text));
    int n = read_all(p, NULL, last, sizeof last, msg, sizeof msg);
    CHECK(n == 1, "%d documents (%s)", n, msg);
    CHECK(strcmp(last, text) == 0, "text '%s'", last);
    unlink(p);
}

LOCO_TEST(corpus_jsonl_fields_and_labels) {
    char p[256], msg[512];
    /* A byte order mark, blank lines, CRLF, a number label, no final newline. */
    const char *text = "\xef\xbb\xbf{\"text\": \"one\", \"body\": \"uno\", \"cat\": \"news\"}\n"
                       "\n   \n"
                       "{\"text\": \"two\\nlines \\u00e9\", \"body\": \"dos\", \"cat\": 1961}\r\n"
                       "{\"body\": \"tres\", \"text\": \"three\"}";   /* no final newline */
    tmp_file(p, sizeof p, ".jsonl", text, strlen(text));
    loco_corpus *c;
    CHECK(loco_corpus_open_fields(&c, p, NULL, "cat", msg, sizeof msg) == 0, "%s", msg);
    const uint8_t *t;
    size_t n;
    CHECK(loco_corpus_next(c, &t, &n, msg, sizeof msg) == 1, "%s", msg);
    CHECK(n == 3 && memcmp(t, "one", 3) == 0, "doc 1");
    CHECK(loco_corpus_label(c) && strcmp(loco_corpus_label(c), "news") == 0, "label 1");
    CHECK(loco_corpus_next(c, &t, &n, msg, sizeof msg) == 1, "%s", msg);
    CHECK(n == 12 && memcmp(t, "two\nlines \xc3\xa9", 12) == 0, "doc 2: %.*s", (int)n, t);
    CHECK(loco_corpus_label(c) && strcmp(loco_corpus_label(c), "1961") == 0, "number label");
    CHECK(loco_corpus_line(c) == 4, "line %llu", (unsigned long long)loco_corpus_line(c));
    CHECK(loco_corpus_next(c, &t, &n, msg, sizeof msg) == 1, "%s", msg);
    CHECK(n == 5 && memcmp(t, "three", 5) == 0, "doc 3");
    CHECK(loco_corpus_label(c) == NULL, "a missing label is NULL");
    CHECK(loco_corpus_next(c, &t, &n, msg, sizeof msg) == 0, "end");
    loco_corpus_close(c);
    char last[64];
    CHECK(read_all(p, "body", last, sizeof last, msg, sizeof msg) == 3, "%s", msg);
    CHECK(strcmp(last, "tres") == 0, "field body: %s", last);
    unlink(p);
}

/* Expects reading path to fail with err and a message holding both needles. */
static void expect_error(int *loco_test_failed_, const char *path, const char *field, int err,
                         const char *needle) {
    char msg[512] = "";
    int r = read_all(path, field, NULL, 0, msg, sizeof msg);
    CHECK(r == err, "%s: got %d, want %d (%s)", path, r, err, msg);
    CHECK(strstr(msg, path) != NULL, "message does not name the file: %s", msg);
    CHECK(strstr(msg, needle) != NULL, "message lacks '%s': %s", needle, msg);
    CHECK(strchr(msg, '\n') == NULL, "message is not one line: %s", msg);
}

LOCO_TEST(corpus_jsonl_missing_field) {
    char p[256];
    const char *text = "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"url\": \"c\"}\n";
    tmp_file(p, sizeof p, ".jsonl", text, strlen(text));
    char want[300];
    snprintf(want, sizeof want, "%s:3: no field \"text\"", p);
    expect_error(loco_test_failed_, p, NULL, LOCO_EINVAL, want);
    unlink(p);
}

LOCO_TEST(corpus_jsonl_invalid_lines) {
    char p[256], want[300];
    const char *bad[] = {"{\"text\": \"a\"}\n{\"text\": \"b\"\n",   /* unterminated object */
                         "{\"text\": \"a\"}\n[1, 2]\n",             /* not an object */
                         "{\"text\": \"a\"}\n{\"text\": \"b\"} trailing\n",
                         "{\"text\": \"a\"}\n\"just a string\"\n"};
    for (int i = 0; i < 4; i++) {
        tmp_file(p, sizeof p, ".jsonl", bad[i], strlen(bad[i]));
        snprintf(want, sizeof want, "%s:2: not a JSON object", p);
        expect_error(loco_test_failed_, p, NULL, LOCO_EINVAL, want);
        unlink(p);
    }
    const char *num = "{\"text\": 42}\n";
    tmp_file(p, sizeof p, ".jsonl", num, strlen(num));
    expect_error(loco_test_failed_, p, NULL, LOCO_EINVAL, "is not a string");
    unlink(p);
}

LOCO_TEST(corpus_gzip) {
    char p[256], msg[512], last[64];
    const char *jl = "{\"text\": \"alpha\"}\n{\"text\": \"beta\"}\n";
    tmp_gz(p, sizeof p, ".jsonl.gz", jl, strlen(jl));
    CHECK(read_all(p, NULL, last, sizeof last, msg, sizeof msg) == 2, "%s", msg);
    CHECK(strcmp(last, "beta") == 0, "last %s", last);
    unlink(p);
    /* Gzip is found by its magic bytes, whatever the name. */
    const char *txt = "plain words, compressed";
    tmp_gz(p, sizeof p, ".txt", txt, strlen(txt));
    CHECK(read_all(p, NULL, last, sizeof last, msg, sizeof msg) == 1, "%s", msg);
    CHECK(strcmp(last, txt) == 0, "last %s", last);
    unlink(p);
    /* A truncated gzip stream and a corrupted one are errors, not short reads. */
    char big[20000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = "abcdefgh ijk\n"[(i * 7 + i / 13) % 13];
    tmp_gz(p, sizeof p, ".txt.gz", big, sizeof big);
    FILE *f = fopen(p, "rb");
    unsigned char gz[30000];
    size_t ng = f ? fread(gz, 1, sizeof gz, f) : 0;
    if (f) fclose(f);
    CHECK(ng > 100, "gzip file of %zu bytes", ng);
    unlink(p);
    tmp_file(p, sizeof p, ".txt.gz", gz, ng / 2);
    expect_error(loco_test_failed_, p, NULL, LOCO_EIO, "truncated gzip");
    unlink(p);
    for (size_t i = 20; i < 60 && i < ng; i++) gz[i] ^= 0x5a;
    tmp_file(p, sizeof p, ".txt.gz", gz, ng);
    expect_error(loco_test_failed_, p, NULL, LOCO_EIO, "read error");
    unlink(p);
}

LOCO_TEST(corpus_empty_and_missing) {
    char p[256], msg[512];
    tmp_file(p, sizeof p, ".txt", "", 0);
    CHECK(read_all(p, NULL, NULL, 0, msg, sizeof msg) == 0, "empty plain file: no documents");
    unlink(p);
    tmp_file(p, sizeof p, ".jsonl", "\n\n", 2);
    CHECK(read_all(p, NULL, NULL, 0, msg, sizeof msg) == 0, "blank JSONL file: no documents");
    unlink(p);
    expect_error(loco_test_failed_, "/nonexistent/dir/corpus.txt", NULL, LOCO_EIO,
                 "cannot open");
}

LOCO_TEST(corpus_binary_garbage) {
    char p[256];
    unsigned char junk[4096];
    loco_rng rng;
    loco_rng_seed(&rng, 7);
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)loco_rng_u64(&rng);
    junk[0] = 'x';   /* not the gzip magic */
    tmp_file(p, sizeof p, ".txt", junk, sizeof junk);
    expect_error(loco_test_failed_, p, NULL, LOCO_EINVAL, "not text");
    unlink(p);
    tmp_file(p, sizeof p, ".jsonl", junk, sizeof junk);
    expect_error(loco_test_failed_, p, NULL, LOCO_EINVAL, ":1: ");
    unlink(p);
    /* Latin-1 text has no NUL byte, but is not UTF-8. */
    const char *latin1 = "caf\xe9 au lait";
    tmp_file(p, sizeof p, ".txt", latin1, strlen(latin1));
    expect_error(loco_test_failed_, p, NULL, LOCO_EINVAL, "invalid UTF-8 at byte offset 3");
    unlink(p);
}

/* Writes one JSONL line whose text is n copies of 'a' (plus a short second
 * line) and returns the path. */
static const char *long_line_file(char *p, size_t cap, size_t n) {
    char *s = malloc(n + 64);
    if (!s) return "";
    memcpy(s, "{\"text\": \"", 10);
    memset(s + 10, 'a', n);
    size_t k = 10 + n;
    k += (size_t)sprintf(s + k, "\"}\n{\"text\": \"b\"}\n");
    tmp_file(p, cap, ".jsonl", s, k);
    free(s);
    return p;
}

LOCO_TEST(corpus_long_lines) {
    char p[256], msg[512];
    /* 10 MiB on one line is fine under the default limit... */
    long_line_file(p, sizeof p, (size_t)10 << 20);
    loco_corpus *c;
    CHECK(loco_corpus_open(&c, p, NULL, msg, sizeof msg) == 0, "%s", msg);
    const uint8_t *t;
    size_t n;
    CHECK(loco_corpus_next(c, &t, &n, msg, sizeof msg) == 1 && n == (size_t)10 << 20,
          "long line: %zu bytes (%s)", n, msg);
    CHECK(loco_corpus_next(c, &t, &n, msg, sizeof msg) == 1 && n == 1, "line after it");
    loco_corpus_close(c);
    /* ...and too long under a 1 MiB limit: an error naming the line. */
    CHECK(loco_corpus_open(&c, p, NULL, msg, sizeof msg) == 0, "%s", msg);
    loco_corpus_set_limit(c, (size_t)1 << 20);
    int r = loco_corpus_next(c, &t, &n, msg, sizeof msg);
    CHECK(r == LOCO_EINVAL && strstr(msg, ":1: line longer than the limit"), "%d %s", r, msg);
    CHECK(loco_corpus_next(c, &t, &n, msg, sizeof msg) == LOCO_EINVAL, "stays failed");
    loco_corpus_close(c);
    unlink(p);
    /* The real default limit, just crossed. */
    long_line_file(p, sizeof p, LOCO_CORPUS_MAX_LINE);
    expect_error(loco_test_failed_, p, NULL, LOCO_EINVAL, ":1: line longer than the limit");
    unlink(p);
    /* A plain-text file over its limit. */
    const char *txt = "0123456789abcdef";
    tmp_file(p, sizeof p, ".txt", txt, strlen(txt));
    CHECK(loco_corpus_open(&c, p, NULL, msg, sizeof msg) == 0, "%s", msg);
    loco_corpus_set_limit(c, 8);
    r = loco_corpus_next(c, &t, &n, msg, sizeof msg);
    CHECK(r == LOCO_EINVAL && strstr(msg, "longer than the limit"), "%d %s", r, msg);
    loco_corpus_close(c);
    unlink(p);
}

LOCO_TEST(corpus_c4_sample) {
    const char *path = "../shared/data/c4/c4_en_train00000_first1000.jsonl";
    if (access(path, R_OK) != 0) return;   /* the shared data folder is optional */
    loco_corpus *c;
    char msg[512];
    CHECK(loco_corpus_open_fields(&c, path, NULL, "url", msg, sizeof msg) == 0, "%s", msg);
    const uint8_t *t;
    size_t n, bytes = 0;
    int r, docs = 0, labelled = 0;
    while ((r = loco_corpus_next(c, &t, &n, msg, sizeof msg)) == 1) {
        docs++;
        bytes += n;
        labelled += loco_corpus_label(c) && strncmp(loco_corpus_label(c), "http", 4) == 0;
    }
    loco_corpus_close(c);
    CHECK(r == 0, "%s", msg);
    CHECK(docs == 1000 && labelled == 1000, "%d documents, %d with a url", docs, labelled);
    CHECK(bytes > 2000000, "%zu bytes of text", bytes);
}
