/* What the coordinator and its workers must agree on about the training
 * data (include/loco/net_engine.h). */
#include <stdio.h>
#include <stdlib.h>
#include "loco/net_engine.h"
#include "loco/shard.h"
#include "net/wire.h"

uint64_t loco_net_docs_fingerprint(const loco_docs *d) {
    /* FNV-1a over the token width, the document count, the tokens' bytes
     * and the offsets: two copies of the data agree on this iff they hold
     * the same documents (up to a 64-bit hash collision). */
    uint8_t head[12];
    loco__put32(head, (uint32_t)d->token_bytes);
    loco__put64(head + 4, (uint64_t)d->n_docs);
    uint64_t h = loco_fnv1a64(LOCO_FNV1A_INIT, head, sizeof head);
    uint64_t n_tokens = d->offsets[d->n_docs];
    h = loco_fnv1a64(h, d->tokens, (size_t)n_tokens * (size_t)d->token_bytes);
    for (int i = 0; i <= d->n_docs; i++) {
        uint8_t b[8];
        loco__put64(b, d->offsets[i]);
        h = loco_fnv1a64(h, b, sizeof b);
    }
    return h;
}

/* Returns LOCO_EINVAL (reason in msg) or LOCO_ENOMEM. */
int loco_net_split_from_assign(loco_split **out, const loco_docs *docs, const uint8_t *assign, uint64_t n_assign,
                               int M, char *msg, size_t msglen) {
    *out = NULL;
    if (n_assign != (uint64_t)docs->n_docs) {
        snprintf(msg, msglen, "the run's split has %llu documents, the data %d", (unsigned long long)n_assign,
                 docs->n_docs);
        return LOCO_EINVAL;
    }
    int *a = malloc(sizeof(int) * (size_t)docs->n_docs);
    if (!a) return LOCO_ENOMEM;
    for (int d = 0; d < docs->n_docs; d++) a[d] = (int)loco__get32(assign + 4 * (size_t)d);
    int e = loco_split_create(out, docs, a, M, msg, msglen);
    free(a);
    return e;
}
