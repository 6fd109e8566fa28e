/*
 * BPE of one pre-token, with exactly GPT-2's semantics: repeatedly take the
 * adjacent pair of lowest merge rank and merge all its occurrences in one
 * left-to-right, non-overlapping pass; stop when no pair has a rank.
 *
 * The symbols form a linked list over the byte positions and a min-heap holds
 * (rank, position) for every pair, so a word of k bytes costs O(k log k) even
 * when it is long (a run of spaces, a megabyte of one letter).  Popping all
 * heap entries of the lowest rank r in position order and merging those still
 * valid is GPT-2's pass: a merge creates pairs (x, ab) and (ab, y), and
 * neither is (a, b) again since ab's bytes are longer than b's, so no entry of
 * rank r appears during the pass, while lower ranks it creates wait for the
 * next one.
 */
#include <stdint.h>
#include <stdlib.h>
#include "tok/tok_internal.h"

#define NO_RANK UINT32_MAX
#define STACK_SYMS 64

typedef struct {
    uint64_t *h;   /* entries rank << 32 | position, a binary min-heap */
    size_t n;
} heap;

static inline void heap_push(heap *hp, uint64_t e) {
    size_t i = hp->n++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (hp->h[p] <= e) break;
        hp->h[i] = hp->h[p];
        i = p;
    }
    hp->h[i] = e;
}

static inline uint64_t heap_pop(heap *hp) {
    uint64_t top = hp->h[0], e = hp->h[--hp->n];
    size_t i = 0, n = hp->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && hp->h[c + 1] < hp->h[c]) c++;
        if (hp->h[c] >= e) break;
        hp->h[i] = hp->h[c];
        i = c;
    }
    if (n) hp->h[i] = e;
    return top;
}

/* Looks up the pair (a, b); returns its rank (NO_RANK if it is not a merge)
 * and stores the merged id in *m. */
static inline uint32_t pair_rank(const loco_tokenizer *t, int a, int b, int *m) {
    const uint64_t *v = loco__u64map_get(&t->merges, (uint64_t)a << 32 | (uint32_t)b);
    if (!v) return NO_RANK;
    *m = (int)(uint32_t)*v;
    return (uint32_t)(*v >> 32);
}

/* Returns the number of ids written (at most len), or LOCO_ENOMEM if the
 * scratch arrays for a long word cannot be allocated. */
long loco__bpe_word(const loco_tokenizer *t, const uint8_t *p, size_t len, int *ids) {
    if (len == 1) {
        ids[0] = t->byte_id[p[0]];
        return 1;
    }
    if (len > INT32_MAX) return LOCO_ENOMEM;
    /* Per position: its symbol (-1 once merged into its left neighbour), the
     * next and previous live positions, and the rank and result of the pair
     * that starts there. */
    int s_sym[STACK_SYMS], s_nxt[STACK_SYMS], s_prv[STACK_SYMS], s_mid[STACK_SYMS];
    int s_batch[STACK_SYMS];
    uint32_t s_rank[STACK_SYMS];
    uint64_t s_heap[2 * STACK_SYMS];
    int *sym = s_sym, *nxt = s_nxt, *prv = s_prv, *mid = s_mid, *batch = s_batch;
    uint32_t *rank = s_rank;
    heap hp = {s_heap, 0};
    void *blk = NULL;
    if (len > STACK_SYMS) {
        blk = malloc(len * (5 * sizeof(int) + sizeof(uint32_t) + 2 * sizeof(uint64_t)));
        if (!blk) return LOCO_ENOMEM;
        hp.h = blk;
        sym = (int *)(hp.h + 2 * len);
        nxt = sym + len; prv = nxt + len; mid = prv + len; batch = mid + len;
        rank = (uint32_t *)(batch + len);
    }
    /* The heap never holds more than 2 * len entries: at most len - 1 at the
     * start, and each merge pops the entry it merges and pushes at most two. */
    int k = (int)len;
    for (int i = 0; i < k; i++) {
        sym[i] = t->byte_id[p[i]];
        nxt[i] = i + 1 < k ? i + 1 : -1;
        prv[i] = i - 1;
    }
    for (int i = 0; i + 1 < k; i++) {
        rank[i] = pair_rank(t, sym[i], sym[i + 1], &mid[i]);
        if (rank[i] != NO_RANK) heap_push(&hp, (uint64_t)rank[i] << 32 | (uint32_t)i);
    }
    rank[k - 1] = NO_RANK;
    while (hp.n) {
        /* Take every entry of the lowest rank r first (in position order):
         * the lower ranks this pass creates must wait for the next one.  A
         * (rank, position) entry is never pushed twice, since symbols only
         * grow, so the batch holds at most len positions. */
        uint32_t r = (uint32_t)(hp.h[0] >> 32);
        int nb = 0;
        while (hp.n && (uint32_t)(hp.h[0] >> 32) == r) batch[nb++] = (int)(uint32_t)heap_pop(&hp);
        for (int b = 0; b < nb; b++) {
            int i = batch[b];
            if (sym[i] < 0 || rank[i] != r) continue;   /* stale: merged or changed */
            int j = nxt[i];
            sym[i] = mid[i];
            sym[j] = -1;
            nxt[i] = nxt[j];
            if (nxt[j] >= 0) prv[nxt[j]] = i;
            rank[i] = nxt[i] >= 0 ? pair_rank(t, sym[i], sym[nxt[i]], &mid[i]) : NO_RANK;
            if (rank[i] != NO_RANK) heap_push(&hp, (uint64_t)rank[i] << 32 | (uint32_t)i);
            int h = prv[i];
            if (h >= 0) {
                rank[h] = pair_rank(t, sym[h], sym[i], &mid[h]);
                if (rank[h] != NO_RANK) heap_push(&hp, (uint64_t)rank[h] << 32 | (uint32_t)h);
            }
        }
    }
    long n = 0;
    for (int i = 0; i >= 0; i = nxt[i]) ids[n++] = sym[i];
    free(blk);
    return n;
}
