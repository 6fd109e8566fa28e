/*
 * Routing features: the mean over a document's prefix of the feature model's
 * final hidden states (docs/routing.md).
 *
 * The model is causal: the hidden state at position t depends on tokens
 * 0..t only.  So documents shorter than the batch's length are padded (with
 * token 0) and averaged over their own positions; the padding cannot reach
 * them.
 */
#include <stdlib.h>
#include <string.h>
#include "route/route_internal.h"
#include "core/fail.h"

/* Returns LOCO_EINVAL for NULL arguments, sizes outside the capacity or a
 * token outside the vocabulary. */
int loco_route_features(loco_gpt *m, const int *tokens, int B, int T, float *out) {
    if (!m || !tokens || !out) return LOCO_EINVAL;
    int err = loco_gpt_forward(m, tokens, NULL, B, T);
    if (err) return err;
    const int C = loco_gpt_get_config(m)->channels;
    const float *h = loco_gpt_hidden(m);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int t = 0; t < T; t++) s += h[((size_t)b * T + t) * C + c];
            out[(size_t)b * C + c] = (float)(s / T);
        }
    return LOCO_OK;
}

/* Returns LOCO_EINVAL (reason in msg) or LOCO_ENOMEM. */
int loco_route_doc_features(loco_gpt *m, const loco_docs *docs, const int *doc_ids, int n, int prefix,
                            float *out, char *msg, size_t msglen) {
    if (!m || !out || n < 0) return loco__fail(msg, msglen, LOCO_EINVAL, "route features: bad arguments");
    int err = loco_docs_check(docs, msg, msglen);
    if (err) return err;
    int Bcap, Tcap;
    loco_gpt_capacity(m, &Bcap, &Tcap);
    if (prefix < 1 || prefix > Tcap)
        return loco__fail(msg, msglen, LOCO_EINVAL, "route features: prefix %d outside [1, %d] (the feature "
                          "model's sequence length)", prefix, Tcap);
    const int C = loco_gpt_get_config(m)->channels, V = loco_gpt_get_config(m)->vocab_size;
    for (int i = 0; i < n; i++) {
        int id = doc_ids ? doc_ids[i] : i;
        if (id < 0 || id >= docs->n_docs)
            return loco__fail(msg, msglen, LOCO_EINVAL, "route features: document id %d outside [0, %d)", id,
                              docs->n_docs);
    }
    int *tok = malloc(sizeof(int) * (size_t)Bcap * prefix);
    int *len = malloc(sizeof(int) * (size_t)Bcap);
    int *slot = malloc(sizeof(int) * (size_t)Bcap);
    if (!tok || !len || !slot) {
        free(tok); free(len); free(slot);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "route features: out of memory");
    }
    /* Documents in order; empty ones get zeros and take no batch slot. */
    int i = 0;
    while (i < n && !err) {
        int b = 0, T = 0;
        for (; i < n && b < Bcap; i++) {
            int id = doc_ids ? doc_ids[i] : i;
            uint64_t lo = docs->offsets[id], dl = docs->offsets[id + 1] - lo;
            if (dl == 0) {
                memset(out + (size_t)i * C, 0, sizeof(float) * (size_t)C);
                continue;
            }
            int l = dl < (uint64_t)prefix ? (int)dl : prefix;
            for (int t = 0; t < l; t++) {
                uint32_t v = loco_docs_token(docs, lo + (uint64_t)t);
                if (v >= (uint32_t)V) {
                    err = loco__fail(msg, msglen, LOCO_EINVAL, "route features: document %d holds token %u, "
                                     "outside the feature model's vocabulary %d", id, v, V);
                    break;
                }
                tok[(size_t)b * prefix + t] = (int)v;
            }
            if (err) break;
            len[b] = l;
            slot[b] = i;
            if (l > T) T = l;
            b++;
        }
        if (err || b == 0) break;
        /* Repack the rows to stride T (they were written at stride prefix),
         * padding each with token 0 after its own length. */
        for (int r = 0; r < b; r++) {
            memmove(tok + (size_t)r * T, tok + (size_t)r * prefix, sizeof(int) * (size_t)len[r]);
            for (int t = len[r]; t < T; t++) tok[(size_t)r * T + t] = 0;
        }
        if (loco_gpt_forward(m, tok, NULL, b, T) != LOCO_OK) {
            err = loco__fail(msg, msglen, LOCO_EINVAL, "route features: the forward pass refused a batch");
            break;
        }
        const float *h = loco_gpt_hidden(m);
        for (int r = 0; r < b; r++) {
            float *o = out + (size_t)slot[r] * C;
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int t = 0; t < len[r]; t++) s += h[((size_t)r * T + t) * C + c];
                o[c] = (float)(s / len[r]);
            }
        }
    }
    free(tok); free(len); free(slot);
    return err;
}
