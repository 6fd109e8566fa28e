/*
 * The tokenizer object: construction shared by the trainer and the loaders,
 * its checks, accessors and decoding.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "tok/tok_internal.h"

/* Cannot fail; msg may be NULL.  Messages quote pieces of bad files, so
 * control characters are replaced by '?' to keep the message on one line. */
void loco__tok_msg(char *msg, size_t msglen, const char *name, const char *fmt, ...) {
    if (!msg || !msglen) return;
    int k = snprintf(msg, msglen, "%s: ", name ? name : "tokenizer");
    if (k >= 0 && (size_t)k < msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + k, msglen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
}

/* Returns NULL if memory runs out. */
loco_tokenizer *loco__tok_alloc(int n_vocab, size_t total_bytes, int max_merges) {
    loco_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->n_vocab = n_vocab;
    t->eot = -1;
    t->tok_off = calloc((size_t)n_vocab + 1, sizeof *t->tok_off);
    t->tok_bytes = malloc(total_bytes ? total_bytes : 1);
    t->special = calloc((size_t)n_vocab + 1, 1);
    t->merge_a = malloc(((size_t)max_merges + 1) * sizeof(int));
    t->merge_b = malloc(((size_t)max_merges + 1) * sizeof(int));
    if (!t->tok_off || !t->tok_bytes || !t->special || !t->merge_a || !t->merge_b) {
        loco_tokenizer_free(t);
        return NULL;
    }
    return t;
}

/* Cannot fail; t may be NULL. */
void loco_tokenizer_free(loco_tokenizer *t) {
    if (!t) return;
    free(t->tok_off); free(t->tok_bytes); free(t->special);
    free(t->merge_a); free(t->merge_b);
    loco__u64map_free(&t->merges);
    loco__strmap_free(&t->tok_map);
    if (t->re) pcre2_code_free(t->re);
    free(t);
}

/* Returns LOCO_ENOMEM if growing the arrays fails; appends <|endoftext|> as a
 * special token with the next id. */
static int append_eot(loco_tokenizer *t) {
    size_t len = strlen(LOCO_TOKENIZER_EOT), used = t->tok_off[t->n_vocab];
    uint32_t *off = realloc(t->tok_off, ((size_t)t->n_vocab + 2) * sizeof *off);
    if (!off) return LOCO_ENOMEM;
    t->tok_off = off;
    uint8_t *b = realloc(t->tok_bytes, used + len);
    if (!b) return LOCO_ENOMEM;
    t->tok_bytes = b;
    uint8_t *sp = realloc(t->special, (size_t)t->n_vocab + 2);
    if (!sp) return LOCO_ENOMEM;
    t->special = sp;
    memcpy(t->tok_bytes + used, LOCO_TOKENIZER_EOT, len);
    t->special[t->n_vocab] = 1;
    t->eot = t->n_vocab++;
    t->tok_off[t->n_vocab] = (uint32_t)(used + len);
    return LOCO_OK;
}

/* Returns LOCO_EINVAL (reason in msg) or LOCO_ENOMEM, freeing t on failure. */
int loco__tok_finish(loco_tokenizer **out, loco_tokenizer *t, const char *name,
                     char *msg, size_t msglen) {
    int rc = LOCO_ENOMEM;
    *out = NULL;
    if (loco__strmap_init(&t->tok_map, (size_t)t->n_vocab) != LOCO_OK) goto fail;
    /* The special token named <|endoftext|> is the document boundary; a
     * vocabulary that lacks one gets it appended below. */
    for (int id = 0; id < t->n_vocab; id++) {
        size_t len;
        const uint8_t *p = loco_tokenizer_token(t, id, &len);
        if (len == strlen(LOCO_TOKENIZER_EOT) && !memcmp(p, LOCO_TOKENIZER_EOT, len)) {
            t->special[id] = 1;
            if (t->eot < 0) t->eot = id;
        }
        if (t->special[id]) continue;
        if (!len) {
            rc = LOCO_EINVAL;
            loco__tok_msg(msg, msglen, name, "token id %d is empty", id);
            goto fail;
        }
        int prev;
        if (loco__strmap_put(&t->tok_map, p, len, id, &prev) != LOCO_OK) goto fail;
        if (prev >= 0) {
            rc = LOCO_EINVAL;
            loco__tok_msg(msg, msglen, name, "token ids %d and %d have the same bytes", prev, id);
            goto fail;
        }
    }
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        t->byte_id[b] = loco__strmap_get(&t->tok_map, &c, 1);
        if (t->byte_id[b] < 0) {
            rc = LOCO_EINVAL;
            loco__tok_msg(msg, msglen, name, "vocabulary has no token for byte 0x%02x", b);
            goto fail;
        }
    }
    if (loco__u64map_init(&t->merges, (size_t)t->n_merges) != LOCO_OK) goto fail;
    uint8_t *buf = NULL;
    size_t bufcap = 0;
    for (int r = 0; r < t->n_merges; r++) {
        int a = t->merge_a[r], b = t->merge_b[r];
        if (a < 0 || b < 0 || a >= t->n_vocab || b >= t->n_vocab || t->special[a] || t->special[b]) {
            rc = LOCO_EINVAL;
            loco__tok_msg(msg, msglen, name, "merge %d uses an invalid token", r + 1);
            free(buf);
            goto fail;
        }
        size_t la, lb;
        const uint8_t *pa = loco_tokenizer_token(t, a, &la), *pb = loco_tokenizer_token(t, b, &lb);
        if (la + lb > bufcap) {
            bufcap = 2 * (la + lb);
            uint8_t *nb = realloc(buf, bufcap);
            if (!nb) { free(buf); goto fail; }
            buf = nb;
        }
        memcpy(buf, pa, la);
        memcpy(buf + la, pb, lb);
        int m = loco__strmap_get(&t->tok_map, buf, la + lb);
        if (m < 0) {
            rc = LOCO_EINVAL;
            loco__tok_msg(msg, msglen, name, "merge %d's result is not in the vocabulary", r + 1);
            free(buf);
            goto fail;
        }
        uint64_t key = (uint64_t)a << 32 | (uint32_t)b;
        /* A repeated pair keeps its last rank, as GPT-2's dict(zip(merges,
         * range(...))) and Hugging Face's map both do. */
        if (loco__u64map_put(&t->merges, key, (uint64_t)r << 32 | (uint32_t)m) != LOCO_OK) {
            free(buf);
            goto fail;
        }
    }
    free(buf);
    if (t->eot < 0 && append_eot(t) != LOCO_OK) goto fail;
    t->re = loco__pretok_compile();
    if (!t->re) {
        rc = LOCO_EINVAL;
        loco__tok_msg(msg, msglen, name, "PCRE2 cannot compile the GPT-2 pattern (needs >= 10.34)");
        goto fail;
    }
    *out = t;
    return LOCO_OK;
fail:
    if (rc == LOCO_ENOMEM) loco__tok_msg(msg, msglen, name, "out of memory");
    loco_tokenizer_free(t);
    return rc;
}

/* Returns 0 for NULL. */
int loco_tokenizer_vocab_size(const loco_tokenizer *t) { return t ? t->n_vocab : 0; }

/* Returns -1 for NULL. */
int loco_tokenizer_eot(const loco_tokenizer *t) { return t ? t->eot : -1; }

/* Returns 0 for NULL. */
int loco_tokenizer_num_merges(const loco_tokenizer *t) { return t ? t->n_merges : 0; }

/* Returns NULL if id is out of range. */
const uint8_t *loco_tokenizer_token(const loco_tokenizer *t, int id, size_t *len) {
    if (!t || id < 0 || id >= t->n_vocab) return NULL;
    *len = t->tok_off[id + 1] - t->tok_off[id];
    return t->tok_bytes + t->tok_off[id];
}

/* Returns LOCO_EINVAL on an out-of-range id (nothing meaningful is then in out). */
long loco_tokenizer_decode(const loco_tokenizer *t, const int *ids, size_t n,
                           uint8_t *out, size_t cap) {
    if (!t || (n && !ids)) return LOCO_EINVAL;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const uint8_t *p = loco_tokenizer_token(t, ids[i], &len);
        if (!p) return LOCO_EINVAL;
        if (total < cap) memcpy(out + total, p, len < cap - total ? len : cap - total);
        total += len;
    }
    return (long)total;
}
