/*
 * Two open-addressing hash maps with linear probing, kept at most half full so
 * that probes stay short: uint64 -> uint64 (merge pairs) and bytes -> int
 * (token strings).
 */
#include <stdlib.h>
#include <string.h>
#include "tok/tok_internal.h"

#define EMPTY UINT64_MAX

/* A 64-bit finaliser (splitmix64's) spreads the packed pair ids over all bits. */
static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Returns the smallest power of two >= 2 * expected (at least 16). */
static size_t cap_for(size_t expected) {
    size_t c = 16;
    while (c < 2 * expected) c *= 2;
    return c;
}

/* Returns LOCO_ENOMEM if the tables cannot be allocated. */
int loco__u64map_init(loco__u64map *m, size_t expected) {
    m->cap = cap_for(expected);
    m->n = 0;
    m->keys = malloc(m->cap * sizeof *m->keys);
    m->vals = malloc(m->cap * sizeof *m->vals);
    if (!m->keys || !m->vals) {
        free(m->keys); free(m->vals);
        m->keys = m->vals = NULL;
        return LOCO_ENOMEM;
    }
    memset(m->keys, 0xff, m->cap * sizeof *m->keys);
    return LOCO_OK;
}

/* Cannot fail. */
void loco__u64map_free(loco__u64map *m) {
    free(m->keys); free(m->vals);
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
}

/* Returns NULL if key is absent. */
uint64_t *loco__u64map_get(const loco__u64map *m, uint64_t key) {
    size_t mask = m->cap - 1, i = mix64(key) & mask;
    for (;;) {
        if (m->keys[i] == key) return &m->vals[i];
        if (m->keys[i] == EMPTY) return NULL;
        i = (i + 1) & mask;
    }
}

/* Returns LOCO_ENOMEM if growing fails (the map is then unchanged). */
static int u64map_grow(loco__u64map *m) {
    loco__u64map g;
    if (loco__u64map_init(&g, m->cap) != LOCO_OK) return LOCO_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == EMPTY) continue;
        size_t j = mix64(m->keys[i]) & (g.cap - 1);
        while (g.keys[j] != EMPTY) j = (j + 1) & (g.cap - 1);
        g.keys[j] = m->keys[i];
        g.vals[j] = m->vals[i];
    }
    g.n = m->n;
    loco__u64map_free(m);
    *m = g;
    return LOCO_OK;
}

/* Returns LOCO_ENOMEM if growing fails. */
int loco__u64map_put(loco__u64map *m, uint64_t key, uint64_t val) {
    if (2 * (m->n + 1) > m->cap && u64map_grow(m) != LOCO_OK) return LOCO_ENOMEM;
    size_t mask = m->cap - 1, i = mix64(key) & mask;
    while (m->keys[i] != EMPTY && m->keys[i] != key) i = (i + 1) & mask;
    if (m->keys[i] == EMPTY) m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
    return LOCO_OK;
}

/* FNV-1a over the bytes, then the finaliser; never fails. */
uint64_t loco__hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i = 0;
    /* Eight bytes at a time keeps hashing cheap for the encoder's word cache. */
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return mix64(h ^ n);
}

/* Returns LOCO_ENOMEM if the tables cannot be allocated. */
int loco__strmap_init(loco__strmap *m, size_t expected) {
    m->cap = cap_for(expected);
    m->n = 0;
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->lens = malloc(m->cap * sizeof *m->lens);
    m->vals = malloc(m->cap * sizeof *m->vals);
    m->hashes = malloc(m->cap * sizeof *m->hashes);
    if (!m->keys || !m->lens || !m->vals || !m->hashes) {
        loco__strmap_free(m);
        return LOCO_ENOMEM;
    }
    return LOCO_OK;
}

/* Cannot fail. */
void loco__strmap_free(loco__strmap *m) {
    free(m->keys); free(m->lens); free(m->vals); free(m->hashes);
    m->keys = NULL; m->lens = NULL; m->vals = NULL; m->hashes = NULL;
    m->cap = m->n = 0;
}

/* Returns the slot holding key, or the empty slot where it would go. */
static size_t strmap_slot(const loco__strmap *m, const uint8_t *key, size_t len, uint64_t h) {
    size_t mask = m->cap - 1, i = h & mask;
    while (m->keys[i]) {
        if (m->hashes[i] == h && m->lens[i] == len && !memcmp(m->keys[i], key, len)) break;
        i = (i + 1) & mask;
    }
    return i;
}

/* Returns -1 if key is absent. */
int loco__strmap_get(const loco__strmap *m, const uint8_t *key, size_t len) {
    size_t i = strmap_slot(m, key, len, loco__hash_bytes(key, len));
    return m->keys[i] ? m->vals[i] : -1;
}

/* Returns LOCO_ENOMEM if growing fails (the map is then unchanged). */
static int strmap_grow(loco__strmap *m) {
    loco__strmap g;
    if (loco__strmap_init(&g, m->cap) != LOCO_OK) return LOCO_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = m->hashes[i] & (g.cap - 1);
        while (g.keys[j]) j = (j + 1) & (g.cap - 1);
        g.keys[j] = m->keys[i];
        g.lens[j] = m->lens[i];
        g.vals[j] = m->vals[i];
        g.hashes[j] = m->hashes[i];
    }
    g.n = m->n;
    loco__strmap_free(m);
    *m = g;
    return LOCO_OK;
}

/* Returns LOCO_ENOMEM if growing fails.  A zero-length key is stored through
 * a non-NULL dummy pointer, since NULL marks empty slots. */
int loco__strmap_put(loco__strmap *m, const uint8_t *key, size_t len, int val, int *existing) {
    static const uint8_t dummy = 0;
    if (!len) key = &dummy;
    if (2 * (m->n + 1) > m->cap && strmap_grow(m) != LOCO_OK) return LOCO_ENOMEM;
    uint64_t h = loco__hash_bytes(key, len);
    size_t i = strmap_slot(m, key, len, h);
    if (m->keys[i]) {
        if (existing) *existing = m->vals[i];
        return LOCO_OK;
    }
    if (existing) *existing = -1;
    m->keys[i] = key;
    m->lens[i] = (uint32_t)len;
    m->vals[i] = val;
    m->hashes[i] = h;
    m->n++;
    return LOCO_OK;
}
