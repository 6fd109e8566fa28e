/*
 * Tokenizer benchmark driver, used by bench/tokenizer.sh:
 *
 *   bench_tokenizer train  CORPUS VOCAB OUT.json   train and save; prints seconds
 *   bench_tokenizer encode TOKENIZER.json FILE     ids of FILE to stdout as text,
 *                                                  one line per input line (as spm_encode)
 *   bench_tokenizer time   TOKENIZER.json FILE RUNS  in-memory encode, median MB/s
 *   bench_tokenizer gen    BYTES                  pseudo-English text to stdout (the
 *                                                  corpus when ../shared/data is absent)
 *
 * Encoding is single-threaded; the script pins the process to one core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "loco/tokenizer.h"

/* Returns the monotonic clock in seconds. */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Returns the file's bytes (NULL on failure, with a message on stderr). */
static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "bench_tokenizer: %s: cannot open\n", path); return NULL; }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
    if (!p || fread(p, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "bench_tokenizer: %s: read error\n", path);
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return p;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Writes ids as decimal text to stdout, line by line like spm_encode. */
static int encode_lines(const loco_tokenizer *t, const uint8_t *p, size_t n) {
    size_t cap = n + 16;
    int *ids = malloc(cap * sizeof *ids);
    char *buf = malloc(1 << 16);
    if (!ids || !buf) return 1;
    size_t used = 0;
    for (size_t s = 0; s < n;) {
        const uint8_t *e = memchr(p + s, '\n', n - s);
        size_t len = e ? (size_t)(e - (p + s)) : n - s;
        long k = loco_tokenizer_encode(t, p + s, len, ids, cap);
        if (k < 0) return 1;
        for (long i = 0; i < k; i++) {
            if (used > (1 << 16) - 16) { fwrite(buf, 1, used, stdout); used = 0; }
            used += (size_t)sprintf(buf + used, i ? " %d" : "%d", ids[i]);
        }
        buf[used++] = '\n';
        s += len + 1;
    }
    fwrite(buf, 1, used, stdout);
    free(ids);
    free(buf);
    return 0;
}

/* Writes about n bytes of pseudo-English (Zipf-like words from syllables,
 * punctuation, line breaks) to stdout. */
static void gen(size_t n) {
    static const char *syl[] = {"the", "an", "ing", "er", "o", "ka", "li", "st", "re", "mo",
                                "pa", "qu", "e", "th", "ou", "sh", "ay", "ne", "vi", "do"};
    loco_rng rng;
    loco_rng_seed(&rng, 1);
    size_t k = 0;
    while (k < n) {
        int ns = 1 + (int)(loco_rng_u64(&rng) % 3);
        for (int s = 0; s < ns; s++) {
            float u = loco_rng_uniform(&rng);
            k += (size_t)printf("%s", syl[(int)(u * u * u * 20)]);
        }
        uint64_t r = loco_rng_u64(&rng) % 100;
        k += (size_t)printf("%s", r < 6 ? ", " : r < 10 ? ".\n" : r < 12 ? " 1984 " : " ");
    }
}

int main(int argc, char **argv) {
    char msg[512] = "";
    if (argc == 3 && !strcmp(argv[1], "gen")) {
        gen((size_t)atol(argv[2]));
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "train")) {
        size_t n;
        uint8_t *text = slurp(argv[2], &n);
        if (!text) return 1;
        loco_tokenizer *t;
        double t0 = now();
        int rc = loco_tokenizer_train(&t, text, n, atoi(argv[3]), msg, sizeof msg);
        double dt = now() - t0;
        if (rc) { fprintf(stderr, "bench_tokenizer: %s\n", msg); return 1; }
        if (loco_tokenizer_save(t, argv[4], msg, sizeof msg)) {
            fprintf(stderr, "bench_tokenizer: %s\n", msg);
            return 1;
        }
        printf("%.3f\n", dt);
        loco_tokenizer_free(t);
        free(text);
        return 0;
    }
    if (argc >= 4 && (!strcmp(argv[1], "encode") || !strcmp(argv[1], "time"))) {
        loco_tokenizer *t;
        if (loco_tokenizer_load(&t, argv[2], msg, sizeof msg)) {
            fprintf(stderr, "bench_tokenizer: %s\n", msg);
            return 1;
        }
        size_t n;
        uint8_t *text = slurp(argv[3], &n);
        if (!text) return 1;
        if (!strcmp(argv[1], "encode")) return encode_lines(t, text, n);
        int runs = argc > 4 ? atoi(argv[4]) : 5;
        if (runs < 1) runs = 1;
        int *ids = malloc((n + 1) * sizeof *ids);
        double *mbs = malloc((size_t)runs * sizeof *mbs);
        long k = 0;
        for (int r = 0; r < runs; r++) {
            double t0 = now();
            k = loco_tokenizer_encode(t, text, n, ids, n + 1);
            mbs[r] = n / 1e6 / (now() - t0);
        }
        qsort(mbs, (size_t)runs, sizeof *mbs, cmp_double);
        printf("%.2f %ld\n", mbs[runs / 2], k);
        free(ids); free(mbs); free(text);
        loco_tokenizer_free(t);
        return 0;
    }
    fprintf(stderr, "usage: bench_tokenizer train CORPUS VOCAB OUT.json | encode TOK FILE | "
                    "time TOK FILE RUNS | gen BYTES\n");
    return 2;
}
