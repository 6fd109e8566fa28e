/*
 * BPE training.  The text is pre-tokenized once and reduced to its distinct
 * words with their counts.  A table holds, for every adjacent pair of
 * symbols, its count over the corpus (sum of the counts of the words it
 * occurs in, once per occurrence) and the words where it occurs.  Each step
 * takes the most frequent pair (ties: the smaller pair of ids, so training is
 * deterministic), merges it in the words that hold it, and updates only the
 * counts of the pairs around each merged occurrence.  A max-heap with lazy
 * deletion finds the most frequent pair: an entry whose count is stale is
 * re-pushed with the current count when it surfaces.
 */
#include <stdlib.h>
#include <string.h>
#include "tok/tok_internal.h"

typedef struct { int *v; int n, cap; } ivec;
typedef struct { int64_t count; uint64_t key; int idx; } hentry;

typedef struct {
    /* distinct words */
    loco__strmap word_map;
    const uint8_t **wp; uint32_t *wlen; int64_t *wfreq; size_t nw, capw;
    int **wsym; int *wk;          /* each word's current symbols and their count */
    /* pairs */
    loco__u64map pair_map;        /* (a << 32 | b) -> pair index */
    int64_t *pcount; uint64_t *pkey; ivec *pwhere; int *pstamp; size_t np, capp;
    int *dirty; size_t ndirty, capdirty;
    hentry *heap; size_t nh, caph;
    /* tokens */
    uint8_t **tok; uint32_t *toklen; int ntok;
    loco__strmap tok_map;
    int *ma, *mb; int nm, capm;
    int step, oom;
} trainer;

/* Doubles an array's capacity when it is full; returns 0 on success, -1 if
 * memory runs out. */
static int grow(void **p, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return 0;
    size_t c = *cap ? 2 * *cap : 1024;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Counts one pre-token; returns LOCO_ENOMEM if memory runs out. */
static int count_word(const uint8_t *p, size_t len, void *ctx) {
    trainer *tr = ctx;
    int prev;
    if (len > UINT32_MAX) return LOCO_ENOMEM;
    if (tr->nw == tr->capw) {
        size_t c = tr->capw ? 2 * tr->capw : 4096;
        const uint8_t **wp = realloc(tr->wp, c * sizeof *wp);
        if (wp) tr->wp = wp;
        uint32_t *wl = realloc(tr->wlen, c * sizeof *wl);
        if (wl) tr->wlen = wl;
        int64_t *wf = realloc(tr->wfreq, c * sizeof *wf);
        if (wf) tr->wfreq = wf;
        if (!wp || !wl || !wf) return LOCO_ENOMEM;
        tr->capw = c;
    }
    if (loco__strmap_put(&tr->word_map, p, len, (int)tr->nw, &prev) != LOCO_OK) return LOCO_ENOMEM;
    if (prev >= 0) {
        tr->wfreq[prev]++;
        return 0;
    }
    tr->wp[tr->nw] = p;
    tr->wlen[tr->nw] = (uint32_t)len;
    tr->wfreq[tr->nw] = 1;
    tr->nw++;
    return 0;
}

/* Pushes onto the max-heap ordered by count, then by smaller pair key;
 * returns -1 if memory runs out. */
static int hpush(trainer *tr, hentry e) {
    if (grow((void **)&tr->heap, &tr->caph, tr->nh, sizeof e)) return -1;
    size_t i = tr->nh++;
    while (i) {
        size_t p = (i - 1) / 2;
        hentry q = tr->heap[p];
        if (q.count > e.count || (q.count == e.count && q.key < e.key)) break;
        tr->heap[i] = q;
        i = p;
    }
    tr->heap[i] = e;
    return 0;
}

/* Pops the heap's top; the heap must not be empty. */
static hentry hpop(trainer *tr) {
    hentry top = tr->heap[0], e = tr->heap[--tr->nh];
    size_t i = 0, n = tr->nh;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n) {
            hentry x = tr->heap[c], y = tr->heap[c + 1];
            if (y.count > x.count || (y.count == x.count && y.key < x.key)) c++;
        }
        hentry q = tr->heap[c];
        if (e.count > q.count || (e.count == q.count && e.key <= q.key)) break;
        tr->heap[i] = q;
        i = c;
    }
    if (n) tr->heap[i] = e;
    return top;
}

/* Adds delta to pair (a, b)'s count, recording word w as a place where it
 * occurs when delta is positive; sets tr->oom if memory runs out. */
static void add_pair(trainer *tr, int a, int b, int64_t delta, int w) {
    uint64_t key = (uint64_t)a << 32 | (uint32_t)b;
    uint64_t *v = loco__u64map_get(&tr->pair_map, key);
    size_t idx;
    if (v) {
        idx = *v;
    } else {
        if (delta <= 0) return;
        size_t c = tr->capp;
        if (tr->np == c) {
            size_t nc = c ? 2 * c : 4096;
            int64_t *pc = realloc(tr->pcount, nc * sizeof *pc);
            if (pc) tr->pcount = pc;
            uint64_t *pk = realloc(tr->pkey, nc * sizeof *pk);
            if (pk) tr->pkey = pk;
            ivec *pw = realloc(tr->pwhere, nc * sizeof *pw);
            if (pw) tr->pwhere = pw;
            int *ps = realloc(tr->pstamp, nc * sizeof *ps);
            if (ps) tr->pstamp = ps;
            if (!pc || !pk || !pw || !ps) { tr->oom = 1; return; }
            tr->capp = nc;
        }
        idx = tr->np++;
        tr->pcount[idx] = 0;
        tr->pkey[idx] = key;
        tr->pwhere[idx] = (ivec){0};
        tr->pstamp[idx] = -1;
        if (loco__u64map_put(&tr->pair_map, key, idx) != LOCO_OK) { tr->oom = 1; return; }
    }
    tr->pcount[idx] += delta;
    if (delta <= 0) return;
    ivec *wv = &tr->pwhere[idx];
    if (!wv->n || wv->v[wv->n - 1] != w) {
        if (wv->n == wv->cap) {
            int nc = wv->cap ? 2 * wv->cap : 4;
            int *nv = realloc(wv->v, (size_t)nc * sizeof *nv);
            if (!nv) { tr->oom = 1; return; }
            wv->v = nv;
            wv->cap = nc;
        }
        wv->v[wv->n++] = w;
    }
    if (tr->pstamp[idx] != tr->step) {
        tr->pstamp[idx] = tr->step;
        if (grow((void **)&tr->dirty, &tr->capdirty, tr->ndirty, sizeof *tr->dirty)) { tr->oom = 1; return; }
        tr->dirty[tr->ndirty++] = (int)idx;
    }
}

/* Merges every occurrence of (a, b) into m in word w, left to right and
 * without overlap, and updates the counts of the neighbouring pairs: an
 * occurrence between x and y turns the pairs (x, a), (b, y) into (x, m),
 * (m, y).  The left neighbour is read from the already merged output, so two
 * adjacent occurrences correctly give (m, m).  The count of (a, b) itself is
 * zeroed by the caller. */
static void merge_word(trainer *tr, int w, int a, int b, int m) {
    int *s = tr->wsym[w], k = tr->wk[w], out = 0;
    int64_t f = tr->wfreq[w];
    for (int i = 0; i < k;) {
        if (i + 1 < k && s[i] == a && s[i + 1] == b) {
            if (out > 0) {
                add_pair(tr, s[out - 1], a, -f, w);
                add_pair(tr, s[out - 1], m, f, w);
            }
            if (i + 2 < k) {
                add_pair(tr, b, s[i + 2], -f, w);
                add_pair(tr, m, s[i + 2], f, w);
            }
            s[out++] = m;
            i += 2;
        } else {
            s[out++] = s[i++];
        }
    }
    tr->wk[w] = out;
}

/* Adds the token a + b (or finds it, when another merge already made the same
 * bytes); returns its id, or -1 if memory runs out. */
static int new_token(trainer *tr, int a, int b) {
    size_t la = tr->toklen[a], lb = tr->toklen[b];
    uint8_t *p = malloc(la + lb);
    if (!p) return -1;
    memcpy(p, tr->tok[a], la);
    memcpy(p + la, tr->tok[b], lb);
    int prev;
    if (loco__strmap_put(&tr->tok_map, p, la + lb, tr->ntok, &prev) != LOCO_OK) {
        free(p);
        return -1;
    }
    if (prev >= 0) {
        free(p);
        return prev;
    }
    tr->tok[tr->ntok] = p;
    tr->toklen[tr->ntok] = (uint32_t)(la + lb);
    return tr->ntok++;
}

/* Returns LOCO_ENOMEM if memory runs out. */
static int setup(trainer *tr, int vocab_size) {
    tr->tok = calloc((size_t)vocab_size, sizeof *tr->tok);
    tr->toklen = calloc((size_t)vocab_size, sizeof *tr->toklen);
    if (!tr->tok || !tr->toklen || loco__strmap_init(&tr->tok_map, (size_t)vocab_size) != LOCO_OK)
        return LOCO_ENOMEM;
    for (int c = 0; c < 256; c++) {
        tr->tok[c] = malloc(1);
        if (!tr->tok[c]) return LOCO_ENOMEM;
        tr->tok[c][0] = (uint8_t)c;
        tr->toklen[c] = 1;
        if (loco__strmap_put(&tr->tok_map, tr->tok[c], 1, c, NULL) != LOCO_OK) return LOCO_ENOMEM;
    }
    tr->ntok = 256;
    /* Every word starts as its bytes, and byte c is token c. */
    tr->wsym = calloc(tr->nw ? tr->nw : 1, sizeof *tr->wsym);
    tr->wk = malloc((tr->nw ? tr->nw : 1) * sizeof *tr->wk);
    if (!tr->wsym || !tr->wk || loco__u64map_init(&tr->pair_map, 1 << 16) != LOCO_OK)
        return LOCO_ENOMEM;
    for (size_t w = 0; w < tr->nw; w++) {
        tr->wsym[w] = malloc(tr->wlen[w] * sizeof(int));
        if (!tr->wsym[w]) return LOCO_ENOMEM;
        tr->wk[w] = (int)tr->wlen[w];
        for (uint32_t i = 0; i < tr->wlen[w]; i++) tr->wsym[w][i] = tr->wp[w][i];
        for (uint32_t i = 0; i + 1 < tr->wlen[w]; i++)
            add_pair(tr, tr->wsym[w][i], tr->wsym[w][i + 1], tr->wfreq[w], (int)w);
        if (tr->oom) return LOCO_ENOMEM;
    }
    tr->step = 0;
    for (size_t d = 0; d < tr->ndirty; d++) {
        int idx = tr->dirty[d];
        if (hpush(tr, (hentry){tr->pcount[idx], tr->pkey[idx], idx})) return LOCO_ENOMEM;
    }
    tr->ndirty = 0;
    return LOCO_OK;
}

/* Runs merges until the vocabulary holds target tokens; returns LOCO_EINVAL
 * if the pairs run out first, LOCO_ENOMEM if memory does. */
static int learn(trainer *tr, int target) {
    while (tr->ntok < target) {
        if (!tr->nh) return LOCO_EINVAL;
        hentry e = hpop(tr);
        int64_t cur = tr->pcount[e.idx];
        if (cur != e.count) {
            if (cur > 0 && hpush(tr, (hentry){cur, e.key, e.idx})) return LOCO_ENOMEM;
            continue;
        }
        if (cur <= 0) continue;
        int a = (int)(e.key >> 32), b = (int)(uint32_t)e.key;
        int m = new_token(tr, a, b);
        if (m < 0) return LOCO_ENOMEM;
        if (tr->nm == tr->capm) {
            int nc = tr->capm ? 2 * tr->capm : 1024;
            int *na = realloc(tr->ma, (size_t)nc * sizeof *na);
            if (na) tr->ma = na;
            int *nb = realloc(tr->mb, (size_t)nc * sizeof *nb);
            if (nb) tr->mb = nb;
            if (!na || !nb) return LOCO_ENOMEM;
            tr->capm = nc;
        }
        tr->ma[tr->nm] = a;
        tr->mb[tr->nm++] = b;
        tr->step++;
        /* add_pair may move the pair arrays, so take the word list first. */
        ivec where = tr->pwhere[e.idx];
        tr->pwhere[e.idx] = (ivec){0};
        for (int i = 0; i < where.n; i++) merge_word(tr, where.v[i], a, b, m);
        free(where.v);
        tr->pcount[e.idx] = 0;
        if (tr->oom) return LOCO_ENOMEM;
        for (size_t d = 0; d < tr->ndirty; d++) {
            int idx = tr->dirty[d];
            if (tr->pcount[idx] > 0 && hpush(tr, (hentry){tr->pcount[idx], tr->pkey[idx], idx}))
                return LOCO_ENOMEM;
        }
        tr->ndirty = 0;
    }
    return LOCO_OK;
}

/* Packs the learned tokens and merges into a tokenizer; returns LOCO_ENOMEM
 * if memory runs out. */
static int build(trainer *tr, loco_tokenizer **out, char *msg, size_t msglen) {
    size_t total = 0;
    for (int i = 0; i < tr->ntok; i++) total += tr->toklen[i];
    loco_tokenizer *t = loco__tok_alloc(tr->ntok, total, tr->nm);
    if (!t) return LOCO_ENOMEM;
    for (int i = 0; i < tr->ntok; i++) {
        if (tr->toklen[i]) memcpy(t->tok_bytes + t->tok_off[i], tr->tok[i], tr->toklen[i]);
        t->tok_off[i + 1] = t->tok_off[i] + tr->toklen[i];
    }
    /* With no merges learned (a vocabulary of the bytes and the end-of-text
     * token alone) the merge arrays may be NULL, which memcpy must not get
     * even for zero bytes. */
    if (tr->nm) {
        memcpy(t->merge_a, tr->ma, (size_t)tr->nm * sizeof(int));
        memcpy(t->merge_b, tr->mb, (size_t)tr->nm * sizeof(int));
    }
    t->n_merges = tr->nm;
    return loco__tok_finish(out, t, "tokenizer train", msg, msglen);
}

/* Frees everything the trainer holds; cannot fail. */
static void trainer_free(trainer *tr) {
    loco__strmap_free(&tr->word_map);
    free(tr->wp); free(tr->wlen); free(tr->wfreq);
    if (tr->wsym) for (size_t w = 0; w < tr->nw; w++) free(tr->wsym[w]);
    free(tr->wsym); free(tr->wk);
    loco__u64map_free(&tr->pair_map);
    if (tr->pwhere) for (size_t i = 0; i < tr->np; i++) free(tr->pwhere[i].v);
    free(tr->pcount); free(tr->pkey); free(tr->pwhere); free(tr->pstamp);
    free(tr->dirty); free(tr->heap);
    if (tr->tok) for (int i = 0; i < tr->ntok; i++) free(tr->tok[i]);
    free(tr->tok); free(tr->toklen);
    loco__strmap_free(&tr->tok_map);
    free(tr->ma); free(tr->mb);
}

/* Returns LOCO_EINVAL (vocab_size < 257, or too few pairs in the text; reason
 * in msg) or LOCO_ENOMEM. */
int loco_tokenizer_train(loco_tokenizer **out, const uint8_t *text, size_t n,
                         int vocab_size, char *msg, size_t msglen) {
    const char *name = "tokenizer train";
    if (!out) return LOCO_EINVAL;
    *out = NULL;
    if (vocab_size < 257 || (n && !text)) {
        loco__tok_msg(msg, msglen, name, "vocab_size %d is below 257 (256 bytes + <|endoftext|>)",
                      vocab_size);
        return LOCO_EINVAL;
    }
    trainer tr = {0};
    int rc = LOCO_ENOMEM;
    if (loco__strmap_init(&tr.word_map, 1 << 14) != LOCO_OK) goto done;
    pcre2_code *re = loco__pretok_compile();
    if (!re) {
        rc = LOCO_EINVAL;
        loco__tok_msg(msg, msglen, name, "PCRE2 cannot compile the GPT-2 pattern (needs >= 10.34)");
        goto done;
    }
    rc = loco__pretok_each(re, text, n, count_word, &tr);
    pcre2_code_free(re);
    if (rc) goto done;
    rc = setup(&tr, vocab_size);
    if (rc) goto done;
    rc = learn(&tr, vocab_size - 1);
    if (rc == LOCO_EINVAL) {
        loco__tok_msg(msg, msglen, name,
                      "the text (%zu bytes) allows only %d tokens, fewer than vocab_size %d",
                      n, tr.ntok + 1, vocab_size);
        goto done;
    }
    if (rc) goto done;
    rc = build(&tr, out, msg, msglen);
done:
    if (rc == LOCO_ENOMEM) loco__tok_msg(msg, msglen, name, "out of memory");
    trainer_free(&tr);
    return rc;
}
