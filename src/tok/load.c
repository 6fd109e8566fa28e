/*
 * Loaders: GPT-2's vocab.json + merges.txt and Hugging Face's tokenizer.json.
 * Both store a vocabulary {token text: id} and a ranked list of merges "a b",
 * with tokens written in GPT-2's byte alphabet (tok/alphabet.c).  Every
 * problem is reported as "<file>: <problem>" and nothing in a file can make
 * the loader crash: JSON nesting is bounded by cJSON, ids and sizes are
 * range-checked before use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "tok/load_internal.h"
#include "core/file.h"

/* Token files above this size are rejected rather than read into memory. */
#define MAX_FILE_BYTES ((size_t)1 << 30)

/* Reads a whole file into a NUL-terminated buffer.  Returns LOCO_EIO if it
 * cannot be read or is empty, LOCO_ENOMEM if memory runs out. */
int loco__read_file(const char *path, char **out, size_t *len, char *msg, size_t msglen) {
    *out = NULL;
    FILE *f = loco_file_open_input(path, msg, msglen);
    if (!f) return LOCO_EIO;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    int rc = LOCO_OK;
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= MAX_FILE_BYTES) { rc = LOCO_EIO; break; }
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    if (!buf) rc = LOCO_ENOMEM;
    else if (rc == LOCO_OK && ferror(f)) rc = LOCO_EIO;
    fclose(f);
    if (rc == LOCO_ENOMEM) loco__tok_msg(msg, msglen, path, "out of memory");
    else if (rc == LOCO_EIO && n >= cap) loco__tok_msg(msg, msglen, path, "larger than 1 GiB");
    else if (rc == LOCO_EIO) loco__tok_msg(msg, msglen, path, "read error");
    else if (n == 0) { loco__tok_msg(msg, msglen, path, "empty file"); rc = LOCO_EIO; }
    if (rc) { free(buf); return rc; }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return LOCO_OK;
}

/* Returns the offset of the first NUL character of JSON text, raw or
 * escaped as \u0000, or -1 if there is none.  An escape's backslash is one
 * preceded by an even number of backslashes. */
static long find_nul(const char *text, size_t len) {
    const char *z = memchr(text, 0, len);
    long raw = z ? (long)(z - text) : -1;
    for (const char *p = text; (p = memchr(p, '\\', (size_t)(text + len - p))) != NULL;) {
        const char *q = p;
        while (q < text + len && *q == '\\') q++;
        /* A run of k backslashes: escapes pair up; an odd run escapes the next character. */
        if ((q - p) % 2 && text + len - q >= 5 && q[0] == 'u' && !memcmp(q + 1, "0000", 4) &&
            (raw < 0 || q - 1 - text < raw))
            return (long)(q - 1 - text);
        p = q;
    }
    return raw;
}

/* Parses JSON text; returns NULL and writes the byte offset of the error.
 * A NUL character is refused: cJSON reads strings as C strings, so a NUL
 * would silently cut a token or a merge short ("\u0120c ar\0" read as
 * "\u0120c ar"), where other readers refuse the file or keep the NUL. */
cJSON *loco__parse_json(const char *text, size_t len, const char *path, char *msg, size_t msglen) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    long nul;
    if (!j) {
        size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        loco__tok_msg(msg, msglen, path, "not valid JSON (error near byte %zu)", at);
    } else if ((nul = find_nul(text, len)) >= 0) {
        loco__tok_msg(msg, msglen, path, "holds a NUL character at byte %ld (raw or \\u0000), which no "
                      "token text may contain", nul);
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}


/* Returns LOCO_EINVAL if id is not an integer in [0, LOCO__MAX_VOCAB) or is taken
 * by a different token; writes the reason naming `where`. */
int loco__vocab_set(loco__vocab *v, const cJSON *idj, const char *text, int special,
                     const char *path, const char *where, char *msg, size_t msglen) {
    double d = cJSON_IsNumber(idj) ? idj->valuedouble : -1;
    if (!(d >= 0 && d < LOCO__MAX_VOCAB && d == (int)d)) {
        loco__tok_msg(msg, msglen, path, "%s: id of token \"%.40s\" is not an integer in [0, %d)",
                      where, text, LOCO__MAX_VOCAB);
        return LOCO_EINVAL;
    }
    int id = (int)d;
    if (id >= v->n) {
        loco__tok_msg(msg, msglen, path, "%s: id %d out of range", where, id);
        return LOCO_EINVAL;
    }
    if (v->text[id] && strcmp(v->text[id], text)) {
        loco__tok_msg(msg, msglen, path, "%s: id %d is given to two tokens", where, id);
        return LOCO_EINVAL;
    }
    v->text[id] = text;
    v->special[id] |= (uint8_t)special;
    return LOCO_OK;
}

/* Returns the largest integer id among the object's values (or the array's
 * "id" fields), -1 if none. */
int loco__max_id(const cJSON *items, int in_objects) {
    int m = -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, items) {
        const cJSON *idj = in_objects ? cJSON_GetObjectItemCaseSensitive(it, "id") : it;
        if (cJSON_IsNumber(idj) && idj->valuedouble >= 0 && idj->valuedouble < LOCO__MAX_VOCAB &&
            (int)idj->valuedouble > m)
            m = (int)idj->valuedouble;
    }
    return m;
}

/* Turns the vocabulary texts into token bytes (specials as written, others
 * through the byte alphabet) in a new tokenizer with room for max_merges.
 * Returns LOCO_EINVAL on a missing id or a character outside the alphabet,
 * LOCO_ENOMEM if memory runs out. */
int loco__vocab_build(loco_tokenizer **out, const loco__vocab *v, int max_merges,
                       const char *path, char *msg, size_t msglen) {
    size_t total = 0;
    for (int id = 0; id < v->n; id++) {
        if (!v->text[id]) {
            loco__tok_msg(msg, msglen, path, "vocabulary ids are not contiguous: id %d is missing", id);
            return LOCO_EINVAL;
        }
        total += strlen(v->text[id]);
    }
    loco_tokenizer *t = loco__tok_alloc(v->n, total, max_merges);
    if (!t) {
        loco__tok_msg(msg, msglen, path, "out of memory");
        return LOCO_ENOMEM;
    }
    for (int id = 0; id < v->n; id++) {
        const char *s = v->text[id];
        size_t len = strlen(s);
        uint8_t *dst = t->tok_bytes + t->tok_off[id];
        long k = -1;
        if (!v->special[id]) k = loco__alphabet_decode(s, len, dst);
        if (k < 0) {
            if (!v->special[id]) {
                loco__tok_msg(msg, msglen, path,
                              "token \"%.40s\" (id %d) has a character outside GPT-2's byte alphabet",
                              s, id);
                loco_tokenizer_free(t);
                return LOCO_EINVAL;
            }
            memcpy(dst, s, len);
            k = (long)len;
            t->special[id] = 1;
        }
        t->tok_off[id + 1] = t->tok_off[id] + (uint32_t)k;
    }
    *out = t;
    return LOCO_OK;
}

/* Resolves one merge "a b" (given as two texts) to ids, appending it to t's
 * merge list.  Returns LOCO_EINVAL naming the merge's line if a side is not a
 * token. */
int loco__add_merge(loco_tokenizer *t, loco__strmap *m, const char *a, size_t la,
                     const char *b, size_t lb, long line, const char *path, char *msg, size_t msglen) {
    uint8_t buf[256];
    const char *side[2] = {a, b};
    size_t len[2] = {la, lb};
    int id[2];
    for (int s = 0; s < 2; s++) {
        /* The alphabet encodes a byte in at most two UTF-8 bytes, so a token
         * of 256 bytes' text decodes into at most 256 bytes. */
        long k = len[s] <= sizeof buf ? loco__alphabet_decode(side[s], len[s], buf) : -1;
        uint8_t *big = NULL;
        if (k < 0 && len[s] > sizeof buf) {
            big = malloc(len[s]);
            if (!big) {
                loco__tok_msg(msg, msglen, path, "out of memory");
                return LOCO_ENOMEM;
            }
            k = loco__alphabet_decode(side[s], len[s], big);
        }
        id[s] = k < 0 ? -1 : loco__strmap_get(m, big ? big : buf, (size_t)k);
        free(big);
        if (id[s] < 0) {
            loco__tok_msg(msg, msglen, path, "merge %ld: \"%.*s\" is not in the vocabulary", line,
                          (int)(len[s] > 40 ? 40 : len[s]), side[s]);
            return LOCO_EINVAL;
        }
    }
    t->merge_a[t->n_merges] = id[0];
    t->merge_b[t->n_merges++] = id[1];
    return LOCO_OK;
}

/* Fills a map of the non-special tokens' bytes for resolving merges.
 * Returns LOCO_EINVAL naming path if two tokens have the same bytes or a byte
 * has no token, LOCO_ENOMEM if memory runs out. */
int loco__token_map(const loco_tokenizer *t, loco__strmap *m, const char *path,
                    char *msg, size_t msglen) {
    if (loco__strmap_init(m, (size_t)t->n_vocab) != LOCO_OK) goto oom;
    for (int id = 0; id < t->n_vocab; id++) {
        size_t len;
        const uint8_t *p = loco_tokenizer_token(t, id, &len);
        int prev;
        if (t->special[id]) continue;
        if (!len) {
            loco__tok_msg(msg, msglen, path, "token id %d is empty", id);
            return LOCO_EINVAL;
        }
        if (loco__strmap_put(m, p, len, id, &prev) != LOCO_OK) goto oom;
        if (prev >= 0) {
            loco__tok_msg(msg, msglen, path, "token ids %d and %d have the same bytes", prev, id);
            return LOCO_EINVAL;
        }
    }
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        if (loco__strmap_get(m, &c, 1) < 0) {
            loco__tok_msg(msg, msglen, path, "vocabulary has no token for byte 0x%02x", b);
            return LOCO_EINVAL;
        }
    }
    return LOCO_OK;
oom:
    loco__tok_msg(msg, msglen, path, "out of memory");
    return LOCO_ENOMEM;
}

/* Splits "a b" at its single space; returns 0, or -1 if it has not exactly one
 * space with text on both sides. */
int loco__split_merge(const char *s, size_t len, size_t *sp) {
    const char *c = memchr(s, ' ', len);
    if (!c || c == s || (size_t)(c - s) + 1 >= len || memchr(c + 1, ' ', len - (size_t)(c - s) - 1))
        return -1;
    *sp = (size_t)(c - s);
    return 0;
}

/* Returns LOCO_EIO, LOCO_EINVAL or LOCO_ENOMEM with the reason in msg. */
int loco_tokenizer_load_gpt2(loco_tokenizer **out, const char *vocab_json,
                             const char *merges_txt, char *msg, size_t msglen) {
    if (!out || !vocab_json || !merges_txt) return LOCO_EINVAL;
    *out = NULL;
    char *vtext = NULL, *mtext = NULL;
    size_t vlen, mlen;
    cJSON *j = NULL;
    loco__vocab v = {0};
    loco_tokenizer *t = NULL;
    loco__strmap m = {0};
    int rc = loco__read_file(vocab_json, &vtext, &vlen, msg, msglen);
    if (!rc) rc = loco__read_file(merges_txt, &mtext, &mlen, msg, msglen);
    if (rc) goto done;
    rc = LOCO_EINVAL;
    if (!(j = loco__parse_json(vtext, vlen, vocab_json, msg, msglen))) goto done;
    if (!cJSON_IsObject(j) || !j->child) {
        loco__tok_msg(msg, msglen, vocab_json, "expected a non-empty JSON object {token: id}");
        goto done;
    }
    v.n = loco__max_id(j, 0) + 1;
    v.text = calloc((size_t)v.n + 1, sizeof *v.text);
    v.special = calloc((size_t)v.n + 1, 1);
    if (!v.text || !v.special) { rc = LOCO_ENOMEM; goto oom; }
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        rc = loco__vocab_set(&v, it, it->string ? it->string : "", 0, vocab_json, "vocabulary",
                             msg, msglen);
        if (rc) goto done;
    }
    /* Each line of merges.txt holds at most one merge. */
    int max_merges = 0;
    for (size_t i = 0; i < mlen; i++) max_merges += mtext[i] == '\n';
    if ((rc = loco__vocab_build(&t, &v, max_merges + 1, vocab_json, msg, msglen))) goto done;
    if ((rc = loco__token_map(t, &m, vocab_json, msg, msglen))) goto done;
    long line = 0;
    for (char *s = mtext; s < mtext + mlen;) {
        char *e = memchr(s, '\n', (size_t)(mtext + mlen - s));
        if (!e) e = mtext + mlen;
        size_t len = (size_t)(e - s), sp;
        line++;
        if (len && s[len - 1] == '\r') len--;
        /* GPT-2's file starts with a "#version: 0.2" line; blank lines are skipped. */
        int skip = !len || (line == 1 && len >= 8 && !memcmp(s, "#version", 8));
        if (!skip && loco__split_merge(s, len, &sp)) {
            loco__tok_msg(msg, msglen, merges_txt, "line %ld is not \"<token> <token>\"", line);
            rc = LOCO_EINVAL;
            goto done;
        }
        if (!skip && (rc = loco__add_merge(t, &m, s, sp, s + sp + 1, len - sp - 1, line, merges_txt,
                                     msg, msglen)))
            goto done;
        s = e + 1;
    }
    rc = loco__tok_finish(out, t, merges_txt, msg, msglen);
    t = NULL;
    goto done;
oom:
    loco__tok_msg(msg, msglen, vocab_json, "out of memory");
done:
    loco_tokenizer_free(t);
    loco__strmap_free(&m);
    free(v.text); free(v.special);
    cJSON_Delete(j);
    free(vtext); free(mtext);
    return rc;
}
