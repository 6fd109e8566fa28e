/*
 * libFuzzer target for tokenizer.json read from memory (the text a
 * checkpoint embeds, loco_tokenizer_load_json).  Promises checked:
 *   - text holding a NUL byte never loads (cJSON would cut strings at it);
 *   - a failure of any kind gives a one-line message naming the file;
 *   - whatever loads is written back (loco_tokenizer_to_json) and read
 *     again into a tokenizer that writes the same bytes and encodes the
 *     input, and a fixed text, to the same ids, which decode back exactly.
 */
#include <stdlib.h>
#include <string.h>
#include "loco/tokenizer.h"

/* Aborts unless t and u encode p to the same ids, which decode to p. */
static void same_encoding(const loco_tokenizer *t, const loco_tokenizer *u, const uint8_t *p, size_t n) {
    int *a = malloc((n + 1) * sizeof *a), *b = malloc((n + 1) * sizeof *b);
    uint8_t *back = malloc(n + 1);
    if (!a || !b || !back) abort();
    long ka = loco_tokenizer_encode(t, p, n, a, n + 1), kb = loco_tokenizer_encode(u, p, n, b, n + 1);
    if (ka < 0 || ka != kb || memcmp(a, b, (size_t)ka * sizeof *a)) abort();
    if (loco_tokenizer_decode(t, a, (size_t)ka, back, n + 1) != (long)n || memcmp(back, p, n)) abort();
    free(a);
    free(b);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char name[] = "fuzz.json";
    static const char text[] = "It's the dog's day; they'll see 123 caf\xc3\xa9 \xe4\xb8\xad and \xff bytes.\n";
    char msg[256] = "";
    loco_tokenizer *t = NULL, *u = NULL;
    int rc = loco_tokenizer_load_json(&t, (const char *)data, size, name, msg, sizeof msg);
    if (rc != LOCO_OK) {
        if (!strstr(msg, name) || strchr(msg, '\n') || t) abort();
        return 0;
    }
    if (memchr(data, 0, size)) abort();   /* a NUL must never load */
    size_t n1 = 0, n2 = 0;
    char *j1 = loco_tokenizer_to_json(t, &n1);
    if (!j1 || loco_tokenizer_load_json(&u, j1, n1, name, msg, sizeof msg) != LOCO_OK) abort();
    char *j2 = loco_tokenizer_to_json(u, &n2);
    if (!j2 || n1 != n2 || memcmp(j1, j2, n1)) abort();
    same_encoding(t, u, data, size);
    same_encoding(t, u, (const uint8_t *)text, sizeof text - 1);
    free(j1);
    free(j2);
    loco_tokenizer_free(t);
    loco_tokenizer_free(u);
    return 0;
}
