/*
 * libFuzzer target for the tokenizer.  Each input is:
 *   - written to a file and loaded as a Hugging Face tokenizer.json;
 *   - split at the first "\n===\n" (else in the middle) into a GPT-2
 *     vocab.json and merges.txt pair, and loaded;
 *   - encoded and decoded by a small trained tokenizer and by any tokenizer
 *     that loaded, which must give the bytes back exactly;
 *   - read as ids (any ints, out-of-range ones included) and decoded;
 *   - used as a training text for a few merges.
 * A failed load must give a one-line message naming the file; anything else
 * that breaks a promise aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/tokenizer.h"
#include "hostile_paths.h"

static int load_tok(const char *path, char *msg, size_t msglen) {
    loco_tokenizer *t = NULL;
    int e = loco_tokenizer_load_hf(&t, path, msg, msglen);
    loco_tokenizer_free(t);
    return e;
}

/* Writes n bytes to path; returns 0 on failure. */
static int put(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n;
}

/* Aborts unless encoding then decoding p gives p back. */
static void round_trip(const loco_tokenizer *t, const uint8_t *p, size_t n) {
    int *ids = malloc((n + 1) * sizeof *ids);
    uint8_t *back = malloc(n + 1);
    if (!ids || !back) abort();
    long k = loco_tokenizer_encode(t, p, n, ids, n + 1);
    if (k < 0 || k > (long)n) abort();
    long m = loco_tokenizer_decode(t, ids, (size_t)k, back, n + 1);
    if (m != (long)n || memcmp(back, p, n)) abort();
    free(ids);
    free(back);
}

/* Aborts if a load's failure message does not name the file on one line. */
static void check_msg(int rc, const char *msg, const char *path) {
    if (rc != LOCO_OK && (!strstr(msg, path) || strchr(msg, '\n'))) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    loco_fuzz_hostile_paths(load_tok);
    static char hf[64], vj[64], mt[64];
    static loco_tokenizer *small;
    char msg[256];
    if (!small) {
        snprintf(hf, sizeof hf, "/tmp/loco_fuzz_tok_%ld.json", (long)getpid());
        snprintf(vj, sizeof vj, "/tmp/loco_fuzz_tok_%ld_vocab.json", (long)getpid());
        snprintf(mt, sizeof mt, "/tmp/loco_fuzz_tok_%ld_merges.txt", (long)getpid());
        static const char text[] =
            "The quick brown fox jumps over the lazy dog. It's the dog's day; they'll see.\n"
            "  Numbers 123 456, unicode caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 and \xff\xfe bytes.\n";
        if (loco_tokenizer_train(&small, (const uint8_t *)text, sizeof text - 1, 300, msg,
                                 sizeof msg) != LOCO_OK)
            abort();
    }
    round_trip(small, data, size);

    loco_tokenizer *t = NULL;
    if (put(hf, data, size)) {
        int rc = loco_tokenizer_load_hf(&t, hf, msg, sizeof msg);
        check_msg(rc, msg, hf);
        if (t) round_trip(t, data, size);
        loco_tokenizer_free(t);
        t = NULL;
    }

    const uint8_t *sep = NULL;
    for (size_t i = 0; i + 5 <= size && !sep; i++)
        if (!memcmp(data + i, "\n===\n", 5)) sep = data + i;
    size_t nv = sep ? (size_t)(sep - data) : size / 2, skip = sep ? 5 : 0;
    if (put(vj, data, nv) && put(mt, data + nv + skip, size - nv - skip)) {
        int rc = loco_tokenizer_load_gpt2(&t, vj, mt, msg, sizeof msg);
        if (rc != LOCO_OK && (!(strstr(msg, vj) || strstr(msg, mt)) || strchr(msg, '\n'))) abort();
        if (t) round_trip(t, data, size);
        loco_tokenizer_free(t);
        t = NULL;
    }

    /* Any ints as ids: valid ones decode, an invalid one is refused. */
    size_t nid = size / sizeof(int);
    int *ids = malloc((nid + 1) * sizeof *ids);
    if (!ids) abort();
    memcpy(ids, data, nid * sizeof *ids);
    uint8_t out[64];
    long m = loco_tokenizer_decode(small, ids, nid, out, sizeof out);
    int valid = 1;
    for (size_t i = 0; i < nid; i++) valid &= ids[i] >= 0 && ids[i] < loco_tokenizer_vocab_size(small);
    if ((m < 0) == valid) abort();
    free(ids);

    /* Training on the input: it either gives the vocabulary asked for or
     * says the text is too small.  257 is the bytes and the end-of-text
     * token with no merge at all. */
    if (size < 4096) {
        const int vocab = 257 + (size ? data[0] % 4 : 0);
        int rc = loco_tokenizer_train(&t, data, size, vocab, msg, sizeof msg);
        if (rc == LOCO_OK) {
            if (loco_tokenizer_vocab_size(t) != vocab) abort();
            round_trip(t, data, size);
        } else if (rc != LOCO_EINVAL) {
            abort();
        }
        loco_tokenizer_free(t);
    }
    return 0;
}
