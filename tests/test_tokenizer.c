/*
 * Tokenizer tests: exact round trips of any bytes, training, save/load,
 * hand-written GPT-2 and Hugging Face files, bad files, and a comparison of
 * every id against tests/ref_tokenizer.py, an independent pure-Python
 * implementation of GPT-2's BPE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/tokenizer.h"
#include "test.h"

#define SHAKESPEARE "../shared/data/tinyshakespeare/input.txt"

/* Appends pseudo-English to buf: Zipf-like words from syllables, with
 * punctuation, contractions, digits, newlines and a little non-ASCII text.
 * Returns the new length. */
static size_t gen_text(char *buf, size_t n, loco_rng *rng) {
    static const char *syl[] = {"the", "an", "ing", "er", "o", "ka", "li", "st", "re", "mo",
                                "pa", "qu", "e", "th", "ou", "sh", "ay", "ne", "vi", "do"};
    static const char *extra[] = {"é", "über", "中文", "Ωμέγα", "’s", "'ll", "'re", "—", "…", "°C"};
    size_t k = 0;
    while (k + 64 < n) {
        /* A word's syllable count and first syllable favour small indices, so
         * some words are frequent and BPE has something to learn. */
        int ns = 1 + (int)(loco_rng_u64(rng) % 3);
        for (int s = 0; s < ns; s++) {
            float u = loco_rng_uniform(rng);
            const char *x = syl[(int)(u * u * u * 20)];
            memcpy(buf + k, x, strlen(x));
            k += strlen(x);
        }
        uint64_t r = loco_rng_u64(rng) % 100;
        if (r < 5) k += (size_t)sprintf(buf + k, "%s", extra[loco_rng_u64(rng) % 10]);
        else if (r < 8) k += (size_t)sprintf(buf + k, " %d", (int)(loco_rng_u64(rng) % 5000));
        else if (r < 14) buf[k++] = ',';
        else if (r < 17) { buf[k++] = '.'; buf[k++] = '\n'; }
        else if (r < 18) { memcpy(buf + k, "   ", 3); k += 3; }
        buf[k++] = ' ';
    }
    return k;
}

/* Returns a malloc'd generated text of n bytes (NUL-terminated). */
static char *gen_corpus(size_t n, uint64_t seed, size_t *len) {
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    char *buf = malloc(n + 1);
    if (!buf) return NULL;
    *len = gen_text(buf, n, &rng);
    buf[*len] = 0;
    return buf;
}

/* Returns a training text: the start of tiny Shakespeare when ../shared/data
 * has it, else generated text (so the tests pass without that folder). */
static uint8_t *corpus(size_t want, size_t *len) {
    FILE *f = fopen(SHAKESPEARE, "rb");
    if (f) {
        uint8_t *buf = malloc(want);
        *len = buf ? fread(buf, 1, want, f) : 0;
        fclose(f);
        if (buf && *len == want) return buf;
        free(buf);
    }
    return (uint8_t *)gen_corpus(want, 7, len);
}

/* Returns a tokenizer trained on `want` bytes of corpus at vocab V, or NULL. */
static loco_tokenizer *trained(size_t want, int V) {
    size_t n = 0;
    uint8_t *text = corpus(want, &n);
    loco_tokenizer *t = NULL;
    char msg[256] = "";
    if (text && loco_tokenizer_train(&t, text, n, V, msg, sizeof msg) != LOCO_OK)
        fprintf(stderr, "  train: %s\n", msg);
    free(text);
    return t;
}

/* Encodes and decodes p; returns 1 if the bytes come back exactly and the
 * counting call agrees with the writing one. */
static int round_trips(const loco_tokenizer *t, const uint8_t *p, size_t n) {
    int *ids = malloc((n + 1) * sizeof *ids);
    uint8_t *back = malloc(n + 1);
    long k = loco_tokenizer_encode(t, p, n, ids, n + 1);
    long count = loco_tokenizer_encode(t, p, n, NULL, 0);
    long m = k >= 0 ? loco_tokenizer_decode(t, ids, (size_t)k, back, n + 1) : -1;
    int ok = k >= 0 && k <= (long)n && count == k && m == (long)n && !memcmp(back, p, n);
    for (long i = 0; ok && i < k; i++) ok = ids[i] >= 0 && ids[i] < loco_tokenizer_vocab_size(t);
    free(ids);
    free(back);
    return ok;
}

LOCO_TEST(tok_roundtrip_random_bytes) {
    loco_tokenizer *t = trained(200000, 600);
    if (!t) { FAIL("training failed"); return; }
    loco_rng rng;
    loco_rng_seed(&rng, 3);
    uint8_t *buf = malloc(20000);
    int bad = 0;
    for (int trial = 0; trial < 400 && !bad; trial++) {
        size_t n = (size_t)(loco_rng_u64(&rng) % (trial < 390 ? 300 : 20000));
        int mode = trial % 4;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = loco_rng_u64(&rng);
            /* Uniform bytes (mostly invalid UTF-8, NULs included), text-like
             * bytes, UTF-8 lead/continuation soup, and spaces with letters. */
            if (mode == 0) buf[i] = (uint8_t)r;
            else if (mode == 1) buf[i] = r % 4 ? (uint8_t)"ab 'st\n.1\0"[r % 11] : (uint8_t)(r >> 8);
            else if (mode == 2) buf[i] = (uint8_t)(0x80 + (r % 0x80));
            else buf[i] = (uint8_t)(" \t\xc3\xa9x"[r % 5]);
        }
        if (!round_trips(t, buf, n)) {
            bad = 1;
            FAIL("round trip failed: trial %d, %zu bytes, mode %d", trial, n, mode);
        }
    }
    /* Empty input, a lone NUL, long words (the heap path of BPE) and a run of
     * spaces longer than the word cache keeps. */
    CHECK(loco_tokenizer_encode(t, (const uint8_t *)"", 0, NULL, 0) == 0, "empty input");
    CHECK(round_trips(t, (const uint8_t *)"\0", 1), "a NUL byte");
    memset(buf, 'e', 20000);
    CHECK(round_trips(t, buf, 20000), "20000 x 'e'");
    memset(buf, ' ', 5000);
    CHECK(round_trips(t, buf, 5000), "5000 spaces");
    free(buf);
    loco_tokenizer_free(t);
}

LOCO_TEST(tok_train_vocab_size_and_compresses) {
    size_t n;
    uint8_t *text = corpus(300000, &n);
    char msg[256] = "";
    for (int V = 257; V <= 2000; V += 1743) {
        loco_tokenizer *t = NULL;
        int rc = loco_tokenizer_train(&t, text, n, V, msg, sizeof msg);
        CHECK(rc == LOCO_OK, "train V=%d: %s", V, msg);
        if (rc) continue;
        CHECK(loco_tokenizer_vocab_size(t) == V, "vocab %d, want %d", loco_tokenizer_vocab_size(t), V);
        CHECK(loco_tokenizer_eot(t) == V - 1, "eot %d", loco_tokenizer_eot(t));
        size_t len;
        const uint8_t *eot = loco_tokenizer_token(t, V - 1, &len);
        CHECK(eot && len == 13 && !memcmp(eot, "<|endoftext|>", 13), "eot text");
        long k = loco_tokenizer_encode(t, text, n, NULL, 0);
        double ratio = (double)n / (double)k;
        /* Bytes per token: exactly 1 without merges; a 2000-token vocabulary
         * must compress English well beyond 2x. */
        if (V == 257) CHECK(k == (long)n, "no merges must give one id per byte");
        else CHECK(ratio > 2.5, "V=%d compresses only %.2f bytes/token", V, ratio);
        CHECK(round_trips(t, text, n), "training text round trip (V=%d)", V);
        loco_tokenizer_free(t);
    }
    loco_tokenizer *t = NULL;
    CHECK(loco_tokenizer_train(&t, text, n, 256, msg, sizeof msg) == LOCO_EINVAL && !t,
          "vocab 256 must be refused");
    CHECK(strstr(msg, "257") != NULL, "message: %s", msg);
    CHECK(loco_tokenizer_train(&t, (const uint8_t *)"abab", 4, 300, msg, sizeof msg) == LOCO_EINVAL,
          "a 4-byte text cannot give 300 tokens");
    CHECK(strstr(msg, "allows only") != NULL, "message: %s", msg);
    free(text);
}

LOCO_TEST(tok_train_is_deterministic) {
    size_t n;
    uint8_t *text = corpus(100000, &n);
    loco_tokenizer *a = NULL, *b = NULL;
    char msg[256];
    int ok = !loco_tokenizer_train(&a, text, n, 800, msg, sizeof msg) &&
             !loco_tokenizer_train(&b, text, n, 800, msg, sizeof msg);
    CHECK(ok, "train: %s", msg);
    for (int id = 0; ok && id < 800; id++) {
        size_t la, lb;
        const uint8_t *pa = loco_tokenizer_token(a, id, &la), *pb = loco_tokenizer_token(b, id, &lb);
        if (la != lb || memcmp(pa, pb, la)) { FAIL("token %d differs", id); break; }
    }
    loco_tokenizer_free(a);
    loco_tokenizer_free(b);
    free(text);
}

/* Makes a fresh directory under /tmp; returns 0 on failure. */
static int tmpdir(char *buf) {
    strcpy(buf, "/tmp/loco_tok_XXXXXX");
    return mkdtemp(buf) != NULL;
}

/* Removes a test directory and its files. */
static void rmdir_all(const char *dir) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "  cannot remove %s\n", dir);
}

/* Writes n bytes to dir/name, path in out; returns 0 on failure. */
static int write_file(char *out, const char *dir, const char *name, const void *p, size_t n) {
    sprintf(out, "%s/%s", dir, name);
    FILE *f = fopen(out, "wb");
    if (!f) return 0;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

LOCO_TEST(tok_save_load_identical) {
    loco_tokenizer *t = trained(200000, 1000), *u = NULL;
    char dir[64], path[128], msg[256] = "";
    if (!t || !tmpdir(dir)) { FAIL("setup"); loco_tokenizer_free(t); return; }
    sprintf(path, "%s/tokenizer.json", dir);
    CHECK(loco_tokenizer_save(t, path, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    CHECK(loco_tokenizer_load(&u, path, msg, sizeof msg) == LOCO_OK, "load: %s", msg);
    if (u) {
        CHECK(loco_tokenizer_vocab_size(u) == 1000 && loco_tokenizer_eot(u) == 999, "sizes");
        CHECK(loco_tokenizer_num_merges(u) == loco_tokenizer_num_merges(t), "merges");
        size_t n = 0;
        uint8_t *text = (uint8_t *)gen_corpus(100000, 11, &n);
        int *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        long ka = loco_tokenizer_encode(t, text, n, a, n), kb = loco_tokenizer_encode(u, text, n, b, n);
        CHECK(ka > 0 && ka == kb && !memcmp(a, b, (size_t)ka * sizeof *a), "encodings differ");
        free(a); free(b); free(text);
        /* Saving again over the file replaces it and leaves no temporary. */
        CHECK(loco_tokenizer_save(u, path, msg, sizeof msg) == LOCO_OK, "resave: %s", msg);
        char cmd[200];
        snprintf(cmd, sizeof cmd, "test \"$(ls '%s')\" = \"$(printf 'tokenizer.json\\ntokenizer_config.json')\"", dir);
        CHECK(system(cmd) == 0, "a temporary file was left in %s", dir);
    }
    char bad[160];
    sprintf(bad, "%s/no/such/dir/tok.json", dir);
    CHECK(loco_tokenizer_save(t, bad, msg, sizeof msg) == LOCO_EIO && strstr(msg, bad),
          "save to %s: %s", bad, msg);
    loco_tokenizer_free(t);
    loco_tokenizer_free(u);
    rmdir_all(dir);
}

/* GPT-2's byte alphabet, computed here from its rule (independently of the
 * library's table): printable bytes stand for themselves, the others take
 * code points 256, 257, ... in byte order.  Writes byte b's UTF-8 to out. */
static int alphabet_utf8(int b, char *out) {
    int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    int cp = b, shift = 0;
    if (!printable) {
        for (int c = 0; c < b; c++)
            shift += !((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255));
        cp = 256 + shift;
    }
    if (cp < 0x80) { out[0] = (char)cp; out[1] = 0; return 1; }
    out[0] = (char)(0xc0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3f));
    out[2] = 0;
    return 2;
}

/* Writes the JSON object of a tiny GPT-2 vocabulary: the 256 bytes in GPT-2's
 * id order (printable bytes first), then "Ġt" 256, "he" 257, "Ġthe" 258 and,
 * if eot, <|endoftext|> 259.  Returns the length; id_of[b] gets byte b's id. */
static size_t tiny_vocab(char *buf, int eot, int *id_of) {
    size_t k = (size_t)sprintf(buf, "{");
    int id = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int b = 0; b < 256; b++) {
            int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            if (printable != (pass == 0)) continue;
            char u[4];
            alphabet_utf8(b, u);
            const char *esc = (b == '"' || b == '\\') ? "\\" : "";
            k += (size_t)sprintf(buf + k, "\"%s%s\": %d, ", esc, u, id);
            id_of[b] = id++;
        }
    }
    k += (size_t)sprintf(buf + k, "\"\xc4\xa0t\": 256, \"he\": 257, \"\xc4\xa0the\": 258");
    if (eot) k += (size_t)sprintf(buf + k, ", \"<|endoftext|>\": 259");
    k += (size_t)sprintf(buf + k, "}");
    return k;
}

/* Checks the tiny vocabulary's encodings: "the the" is "t" + "he", then "Ġthe". */
static void check_tiny(const loco_tokenizer *t, const int *id_of, int *loco_test_failed_) {
    int ids[16];
    long k = loco_tokenizer_encode(t, (const uint8_t *)"the the\n", 8, ids, 16);
    CHECK(k == 4 && ids[0] == id_of['t'] && ids[1] == 257 && ids[2] == 258 && ids[3] == id_of['\n'],
          "\"the the\\n\" gave %ld ids: %d %d %d %d", k, ids[0], ids[1], ids[2], ids[3]);
    CHECK(loco_tokenizer_vocab_size(t) == 260 && loco_tokenizer_eot(t) == 259, "vocab %d eot %d",
          loco_tokenizer_vocab_size(t), loco_tokenizer_eot(t));
    uint8_t out[32];
    int e = 259;
    CHECK(loco_tokenizer_decode(t, &e, 1, out, sizeof out) == 13 && !memcmp(out, "<|endoftext|>", 13),
          "decode eot");
    e = 260;
    CHECK(loco_tokenizer_decode(t, &e, 1, out, sizeof out) == LOCO_EINVAL, "id 260 must be invalid");
    CHECK(round_trips(t, (const uint8_t *)"\x01\xff the\xc4\xa0", 9), "round trip");
}

LOCO_TEST(tok_load_gpt2_pair) {
    char dir[64], vpath[128], mpath[128], msg[256] = "";
    static char buf[16384];
    int id_of[256];
    if (!tmpdir(dir)) { FAIL("mkdtemp"); return; }
    const char merges[] = "#version: 0.2\n\xc4\xa0 t\nh e\n\xc4\xa0t he\n";
    for (int eot = 1; eot >= 0; eot--) {
        size_t n = tiny_vocab(buf, eot, id_of);
        loco_tokenizer *t = NULL;
        if (!write_file(vpath, dir, "vocab.json", buf, n) ||
            !write_file(mpath, dir, "merges.txt", merges, sizeof merges - 1)) { FAIL("write"); break; }
        int rc = loco_tokenizer_load_gpt2(&t, vpath, mpath, msg, sizeof msg);
        CHECK(rc == LOCO_OK, "load (eot in vocab: %d): %s", eot, msg);
        /* Without <|endoftext|> in the file it is appended as id 259. */
        if (t) check_tiny(t, id_of, loco_test_failed_);
        CHECK(t && loco_tokenizer_num_merges(t) == 3, "3 merges");
        loco_tokenizer_free(t);
    }
    rmdir_all(dir);
}

LOCO_TEST(tok_load_hf_json) {
    char dir[64], path[128], path2[128], msg[256] = "";
    static char buf[20000];
    int id_of[256];
    if (!tmpdir(dir)) { FAIL("mkdtemp"); return; }
    size_t k = (size_t)sprintf(buf, "{\"version\": \"1.0\", \"added_tokens\": [{\"id\": 259, "
                               "\"content\": \"<|endoftext|>\", \"special\": true}], \"normalizer\": null, "
                               "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                               "\"use_regex\": true}, \"decoder\": {\"type\": \"ByteLevel\"}, "
                               "\"model\": {\"type\": \"BPE\", \"vocab\": ");
    k += tiny_vocab(buf + k, 0, id_of);
    /* Newer `tokenizers` write merges as pairs, older ones as "a b". */
    k += (size_t)sprintf(buf + k, ", \"merges\": [[\"\xc4\xa0\", \"t\"], \"h e\", [\"\xc4\xa0t\", \"he\"]]}}");
    loco_tokenizer *t = NULL, *u = NULL;
    if (!write_file(path, dir, "tokenizer.json", buf, k)) { FAIL("write"); rmdir_all(dir); return; }
    CHECK(loco_tokenizer_load_hf(&t, path, msg, sizeof msg) == LOCO_OK, "load: %s", msg);
    if (t) {
        check_tiny(t, id_of, loco_test_failed_);
        /* loco's own save of it loads back to the same tokenizer. */
        sprintf(path2, "%s/saved.json", dir);
        CHECK(loco_tokenizer_save(t, path2, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
        CHECK(loco_tokenizer_load(&u, path2, msg, sizeof msg) == LOCO_OK, "reload: %s", msg);
        if (u) check_tiny(u, id_of, loco_test_failed_);
    }
    loco_tokenizer_free(t);
    loco_tokenizer_free(u);
    rmdir_all(dir);
}

/* Expects loading the HF file with content s to fail with rc, the message
 * naming the file and containing `why`. */
static void bad_hf(const char *dir, const char *s, size_t n, int rc, const char *why,
                   int *loco_test_failed_) {
    char path[128], msg[256] = "";
    loco_tokenizer *t = NULL;
    static int count;
    char name[32];
    sprintf(name, "bad%d.json", count++);
    if (!write_file(path, dir, name, s, n)) { FAIL("write"); return; }
    int got = loco_tokenizer_load_hf(&t, path, msg, sizeof msg);
    CHECK(got == rc && !t, "%s: rc %d, want %d (%s)", name, got, rc, msg);
    CHECK(strstr(msg, path) && strstr(msg, why) && !strchr(msg, '\n'),
          "%s: message \"%s\" lacks \"%s\"", name, msg, why);
    loco_tokenizer_free(t);
}

LOCO_TEST(tok_bad_files) {
    char dir[64], path[128], vpath[128], mpath[128], msg[256] = "";
    static char buf[20000];
    int id_of[256];
    if (!tmpdir(dir)) { FAIL("mkdtemp"); return; }
    loco_tokenizer *t = trained(50000, 400);
    if (!t) { FAIL("train"); rmdir_all(dir); return; }
    sprintf(path, "%s/good.json", dir);
    CHECK(loco_tokenizer_save(t, path, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    loco_tokenizer_free(t);
    t = NULL;
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    CHECK(n > 1000 && n < sizeof buf - 1, "saved file size %zu", n);

    sprintf(vpath, "%s/missing.json", dir);
    CHECK(loco_tokenizer_load(&t, vpath, msg, sizeof msg) == LOCO_EIO && strstr(msg, vpath),
          "missing file: %s", msg);
    bad_hf(dir, "", 0, LOCO_EIO, "empty", loco_test_failed_);
    bad_hf(dir, buf, n / 2, LOCO_EINVAL, "not valid JSON", loco_test_failed_);
    bad_hf(dir, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe", 18, LOCO_EINVAL, "JSON", loco_test_failed_);
    bad_hf(dir, "[1, 2, 3]", 9, LOCO_EINVAL, "model", loco_test_failed_);
    const char *av = "{\"model\": {\"type\": \"BPE\", \"vocab\": [], \"merges\": []}}";
    bad_hf(dir, av, strlen(av), LOCO_EINVAL, "model.vocab", loco_test_failed_);
    const char *wp = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}, \"merges\": []}}";
    bad_hf(dir, wp, strlen(wp), LOCO_EINVAL, "WordPiece", loco_test_failed_);
    /* Edits of the good file: a string id, an unknown merge token, a missing
     * byte token, a non-byte-level pre-tokenizer. */
    char *e = malloc(n + 64);
    const char *edits[][3] = {
        {"\"!\": 33", "\"!\": \"33\"", "not an integer"},
        {"\"merges\": [\n", "\"merges\": [\"zzzzz q\",\n", "not in the vocabulary"},
        {"\"!\": 33", "\"!~!~!~!\": 33", "no token for byte 0x21"},
        {"\"!\": 33", "\"\u20ac\": 33", "outside GPT-2's byte alphabet"},
        {"\"type\": \"ByteLevel\", \"add_prefix_space\": false", "\"type\": \"Metaspace\", \"x\": 0",
         "not ByteLevel"},
        {"\"$\": 36", "\"$\": 35", "given to two tokens"},
        /* A quoted newline must not break the message's single line. */
        {"\"!\": 33", "\"!\\n\": \"x\"", "not an integer"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        buf[n] = 0;
        char *at = strstr(buf, edits[i][0]);
        if (!at) { FAIL("edit %zu: \"%s\" not found in the saved file", i, edits[i][0]); continue; }
        size_t pre = (size_t)(at - buf), la = strlen(edits[i][0]), lb = strlen(edits[i][1]);
        memcpy(e, buf, pre);
        memcpy(e + pre, edits[i][1], lb);
        memcpy(e + pre + lb, at + la, n - pre - la);
        bad_hf(dir, e, n - la + lb, LOCO_EINVAL, edits[i][2], loco_test_failed_);
    }
    free(e);

    /* GPT-2 pair: a merges line without a space, an unknown token, a vocab
     * that is not an object, a missing merges file. */
    size_t vn = tiny_vocab(buf, 1, id_of);
    write_file(vpath, dir, "vocab.json", buf, vn);
    const char *bad_merges[][2] = {{"#version: 0.2\nab\n", "line 2"},
                                   {"\xc4\xa0 t\nq zz\n", "\"zz\" is not in the vocabulary"},
                                   {"h e\nhe e\n", "merge 2's result"}};
    for (int i = 0; i < 3; i++) {
        write_file(mpath, dir, "merges.txt", bad_merges[i][0], strlen(bad_merges[i][0]));
        int rc = loco_tokenizer_load_gpt2(&t, vpath, mpath, msg, sizeof msg);
        CHECK(rc == LOCO_EINVAL && !t && strstr(msg, mpath) && strstr(msg, bad_merges[i][1]),
              "merges %d: rc %d, %s", i, rc, msg);
    }
    write_file(vpath, dir, "vocab.json", "[\"a\"]", 5);
    CHECK(loco_tokenizer_load_gpt2(&t, vpath, mpath, msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, vpath), "array vocab: %s", msg);
    sprintf(mpath, "%s/none.txt", dir);
    CHECK(loco_tokenizer_load_gpt2(&t, vpath, mpath, msg, sizeof msg) == LOCO_EIO &&
          strstr(msg, mpath), "missing merges: %s", msg);
    rmdir_all(dir);
}

LOCO_TEST(tok_encode_cap) {
    loco_tokenizer *t = trained(50000, 400);
    if (!t) { FAIL("train"); return; }
    const uint8_t *s = (const uint8_t *)"To be, or not to be: that is the question.";
    size_t n = strlen((const char *)s);
    int all[64], part[64];
    long k = loco_tokenizer_encode(t, s, n, all, 64);
    for (int i = 0; i < 64; i++) part[i] = -7;
    long k2 = loco_tokenizer_encode(t, s, n, part, 3);
    /* A short buffer gets the first ids and the full count, nothing beyond. */
    CHECK(k > 3 && k2 == k && !memcmp(part, all, 3 * sizeof(int)) && part[3] == -7,
          "k %ld k2 %ld", k, k2);
    uint8_t out[8];
    long m = loco_tokenizer_decode(t, all, (size_t)k, out, 5);
    CHECK(m == (long)n && !memcmp(out, s, 5), "decode with a short buffer: %ld", m);
    loco_tokenizer_free(t);
}

/* Appends n random code points (UTF-8) from several scripts to buf. */
static size_t random_unicode(char *buf, size_t n, loco_rng *rng) {
    static const uint32_t ranges[][2] = {{0x20, 0x7e}, {0x00, 0x20}, {0xa0, 0x24f}, {0x370, 0x3ff},
                                         {0x400, 0x4ff}, {0x4e00, 0x4fff}, {0x2000, 0x206f},
                                         {0x3000, 0x303f}, {0x1f600, 0x1f64f}, {0x660, 0x669},
                                         {0x2150, 0x218f}, {0x85, 0x85}};
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *r = ranges[loco_rng_u64(rng) % 12];
        uint32_t c = r[0] + (uint32_t)(loco_rng_u64(rng) % (r[1] - r[0] + 1));
        /* One in eight is any code point but a surrogate: every Unicode
         * category, as both sides see them (Unicode 14 in PCRE2 10.42 and
         * Python 3.11). */
        if (loco_rng_u64(rng) % 8 == 0) {
            c = (uint32_t)(loco_rng_u64(rng) % 0x10f800);
            if (c >= 0xd800) c += 0x800;
        }
        if (c < 0x80) buf[k++] = (char)c;
        else if (c < 0x800) { buf[k++] = (char)(0xc0 | c >> 6); buf[k++] = (char)(0x80 | (c & 63)); }
        else if (c < 0x10000) {
            buf[k++] = (char)(0xe0 | c >> 12); buf[k++] = (char)(0x80 | ((c >> 6) & 63));
            buf[k++] = (char)(0x80 | (c & 63));
        } else {
            buf[k++] = (char)(0xf0 | c >> 18); buf[k++] = (char)(0x80 | ((c >> 12) & 63));
            buf[k++] = (char)(0x80 | ((c >> 6) & 63)); buf[k++] = (char)(0x80 | (c & 63));
        }
    }
    return k;
}

LOCO_TEST(tok_matches_reference) {
    char dir[64], tpath[128], spath[128], cmd[512], msg[256] = "";
    if (!tmpdir(dir)) { FAIL("mkdtemp"); return; }
    loco_tokenizer *t = trained(300000, 2000);
    sprintf(tpath, "%s/tokenizer.json", dir);
    if (!t || loco_tokenizer_save(t, tpath, msg, sizeof msg)) { FAIL("train/save: %s", msg); goto out; }
    /* The sample: held-out corpus text, generated text, random Unicode from
     * several scripts and whitespace kinds, invalid UTF-8, NULs, contractions
     * and long runs (the long-word path of the encoder). */
    size_t cap = 1 << 20, k = 0, n;
    char *s = malloc(cap);
    uint8_t *c = corpus(400000, &n);
    memcpy(s, c + 300000, n - 300000);
    k = n - 300000;
    free(c);
    loco_rng rng;
    loco_rng_seed(&rng, 5);
    k += gen_text(s + k, 100000, &rng);
    for (int i = 0; i < 200; i++) {
        k += random_unicode(s + k, 40, &rng);
        int r = (int)(loco_rng_u64(&rng) % 6);
        if (r == 0) { s[k++] = (char)(0x80 | loco_rng_u64(&rng)); }
        else if (r == 1) { memcpy(s + k, "\xf0\x9f\x98", 3); k += 3; }
        else if (r == 2) { memcpy(s + k, "\xed\xa0\x80 \xc0\xaf\0", 7); k += 7; }
        else if (r == 3) k += (size_t)sprintf(s + k, " I'm they're we've 'S 'll'd   \n\n ");
    }
    memset(s + k, 'a', 3000); k += 3000;
    memset(s + k, ' ', 2000); k += 2000;
    memcpy(s + k, "x\xff\xfe", 3); k += 3;
    if (!write_file(spath, dir, "sample.txt", s, k)) { FAIL("write"); free(s); goto out; }
    snprintf(cmd, sizeof cmd, "%s tests/ref_tokenizer.py %s %s", LOCO_TEST_PYTHON, tpath, spath);
    FILE *p = popen(cmd, "r");
    int *ref = malloc(k * sizeof *ref), *ids = malloc(k * sizeof *ids);
    long nref = 0;
    while (p && nref < (long)k && fscanf(p, "%d", &ref[nref]) == 1) nref++;
    int st = p ? pclose(p) : -1;
    CHECK(st == 0 && nref > 0, "%s failed (status %d): is %s installed?", cmd, st, LOCO_TEST_PYTHON);
    long nids = loco_tokenizer_encode(t, (uint8_t *)s, k, ids, k);
    long first = -1;
    for (long i = 0; i < nids && i < nref && first < 0; i++) if (ids[i] != ref[i]) first = i;
    if (first < 0 && nids != nref) first = nids < nref ? nids : nref;
    CHECK(st != 0 || first < 0, "%ld ids vs reference %ld; first difference at id %ld (%d vs %d)",
          nids, nref, first, first >= 0 && first < nids ? ids[first] : -1,
          first >= 0 && first < nref ? ref[first] : -1);
    printf("  %zu bytes, %ld ids, all equal to ref_tokenizer.py: %s\n", k, nids, first < 0 ? "yes" : "no");
    free(ref); free(ids); free(s);
out:
    loco_tokenizer_free(t);
    rmdir_all(dir);
}
