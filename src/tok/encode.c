/*
 * Encoding: pre-tokenize, then BPE each pre-token.  Natural text repeats a
 * small set of words, so a long input keeps a cache of word -> ids for the
 * length of the call (the tokenizer itself stays immutable and shareable).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "tok/tok_internal.h"

/* Inputs shorter than this are encoded without a cache: building one would
 * cost more than it saves. */
#define CACHE_MIN_INPUT 4096
/* Only short words are cached; long ones are rare and would bloat the cache. */
#define CACHE_MAX_WORD 32
/* The cache stops growing at this many words, bounding its memory. */
#define CACHE_MAX_WORDS (1 << 20)

typedef struct {
    const loco_tokenizer *t;
    int *ids;
    size_t cap, count;
    int *scratch;            /* room for the ids of the longest word so far */
    size_t scratch_len;
    int use_cache;
    loco__strmap cache;      /* word -> index into starts */
    int *cached;             /* the ids of every cached word, back to back */
    size_t n_cached, cap_cached;
    uint32_t *starts;        /* word w's ids are cached[starts[w] .. starts[w + 1]) */
    size_t n_words, cap_starts;
} enc;

/* Returns LOCO_ENOMEM if the cache cannot grow; the cache is optional, so the
 * caller then simply stops caching. */
static int cache_add(enc *e, const uint8_t *p, size_t len, const int *ids, long n) {
    if (e->n_words + 2 > CACHE_MAX_WORDS) return LOCO_ENOMEM;
    if (e->n_cached + (size_t)n > e->cap_cached) {
        size_t c = e->cap_cached ? 2 * e->cap_cached : 4096;
        int *nc = realloc(e->cached, c * sizeof *nc);
        if (!nc) return LOCO_ENOMEM;
        e->cached = nc;
        e->cap_cached = c;
    }
    if (e->n_words + 2 > e->cap_starts) {
        size_t c = e->cap_starts ? 2 * e->cap_starts : 1024;
        uint32_t *ns = realloc(e->starts, c * sizeof *ns);
        if (!ns) return LOCO_ENOMEM;
        if (!e->starts) ns[0] = 0;
        e->starts = ns;
        e->cap_starts = c;
    }
    if (loco__strmap_put(&e->cache, p, len, (int)e->n_words, NULL) != LOCO_OK) return LOCO_ENOMEM;
    memcpy(e->cached + e->n_cached, ids, (size_t)n * sizeof *ids);
    e->n_cached += (size_t)n;
    e->starts[++e->n_words] = (uint32_t)e->n_cached;
    return LOCO_OK;
}

/* Appends ids to the output (as far as cap allows) and counts them; never fails. */
static inline void emit(enc *e, const int *ids, size_t n) {
    if (e->count < e->cap) {
        size_t room = e->cap - e->count;
        memcpy(e->ids + e->count, ids, (n < room ? n : room) * sizeof *ids);
    }
    e->count += n;
}

/* Returns LOCO_ENOMEM if a long word's scratch memory cannot be allocated. */
static int on_word(const uint8_t *p, size_t len, void *ctx) {
    enc *e = ctx;
    if (len == 1) {
        emit(e, &e->t->byte_id[p[0]], 1);
        return 0;
    }
    int cacheable = e->use_cache && len <= CACHE_MAX_WORD;
    if (cacheable) {
        int w = loco__strmap_get(&e->cache, p, len);
        if (w >= 0) {
            emit(e, e->cached + e->starts[w], e->starts[w + 1] - e->starts[w]);
            return 0;
        }
    }
    if (len > e->scratch_len) {
        int *ns = realloc(e->scratch, len * sizeof *ns);
        if (!ns) return LOCO_ENOMEM;
        e->scratch = ns;
        e->scratch_len = len;
    }
    long n = loco__bpe_word(e->t, p, len, e->scratch);
    if (n < 0) return (int)n;
    emit(e, e->scratch, (size_t)n);
    if (cacheable && cache_add(e, p, len, e->scratch, n) != LOCO_OK) e->use_cache = 0;
    return 0;
}

/* Returns LOCO_ENOMEM if scratch memory runs out, LOCO_EINVAL on NULL input. */
long loco_tokenizer_encode(const loco_tokenizer *t, const uint8_t *text, size_t n,
                           int *ids, size_t cap) {
    if (!t || (n && !text) || (cap && !ids)) return LOCO_EINVAL;
    enc e = {.t = t, .ids = ids, .cap = cap};
    e.use_cache = n >= CACHE_MIN_INPUT && loco__strmap_init(&e.cache, 1024) == LOCO_OK;
    int rc = loco__pretok_each(t->re, text, n, on_word, &e);
    free(e.scratch);
    free(e.cached);
    free(e.starts);
    if (e.cache.keys) loco__strmap_free(&e.cache);
    if (rc) return rc;
    return e.count > (size_t)LONG_MAX ? LOCO_ERANGE : (long)e.count;
}
