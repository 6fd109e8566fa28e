/* ATASK, the asynchronous engine's task message (include/loco/net.h).
 * The bytes come from the network, so the decoder checks the length and
 * every field it can before trusting any. */
#include <math.h>
#include "loco/net.h"
#include "net/wire.h"

size_t loco_net_encode_atask(const loco_net_atask *x, uint8_t *out, size_t cap) {
    if (!x || !out || cap < LOCO_NET_ATASK_BYTES) return 0;
    loco__put64(out, x->task);
    loco__put64(out + 8, x->version);
    loco__put32(out + 16, x->shard);
    loco__put32(out + 20, x->inner_steps);
    loco__put64(out + 24, x->first_step);
    for (int i = 0; i < 4; i++) loco__put64(out + 32 + 8 * i, x->rng.s[i]);
    return LOCO_NET_ATASK_BYTES;
}

int loco_net_decode_atask(const uint8_t *p, size_t n, loco_net_atask *x) {
    if (!p || !x || n != LOCO_NET_ATASK_BYTES) return LOCO_EINVAL;
    x->task = loco__get64(p);
    x->version = loco__get64(p + 8);
    x->shard = loco__get32(p + 16);
    x->inner_steps = loco__get32(p + 20);
    x->first_step = loco__get64(p + 24);
    uint64_t any = 0;
    for (int i = 0; i < 4; i++) any |= x->rng.s[i] = loco__get64(p + 32 + 8 * i);
    return x->inner_steps >= 1 && any ? LOCO_OK : LOCO_EINVAL;
}

size_t loco_net_encode_osync_head(const loco_net_osync *x, uint8_t *out, size_t cap) {
    if (!x || !out || cap < LOCO_NET_OSYNC_FIXED) return 0;
    loco__put64(out, x->version);
    loco__put32(out + 8, x->kind);
    loco__putf(out + 12, x->lr);
    loco__putf(out + 16, x->momentum);
    loco__putf(out + 20, x->beta2);
    loco__putf(out + 24, x->eps);
    loco__put32(out + 28, 0);
    loco__put64(out + 32, x->n_state);
    return LOCO_NET_OSYNC_FIXED;
}

int loco_net_decode_osync(const uint8_t *p, size_t n, loco_net_osync *x) {
    if (!p || !x || n < LOCO_NET_OSYNC_FIXED) return LOCO_EINVAL;
    x->version = loco__get64(p);
    x->kind = loco__get32(p + 8);
    x->lr = loco__getf(p + 12);
    x->momentum = loco__getf(p + 16);
    x->beta2 = loco__getf(p + 20);
    x->eps = loco__getf(p + 24);
    x->n_state = loco__get64(p + 32);
    x->state = p + LOCO_NET_OSYNC_FIXED;
    if (x->kind > 2 || loco__get32(p + 28) != 0 || !isfinite(x->lr) || !isfinite(x->momentum) ||
        !isfinite(x->beta2) || !isfinite(x->eps))
        return LOCO_EINVAL;
    /* The state's length, without overflow: n_state <= (n - fixed) / 4. */
    if (x->n_state > (n - LOCO_NET_OSYNC_FIXED) / 4 || LOCO_NET_OSYNC_FIXED + 4 * x->n_state != n) return LOCO_EINVAL;
    return LOCO_OK;
}

size_t loco_net_encode_down_head(const loco_net_down *x, uint8_t *out, size_t cap) {
    if (!x || !out || cap < LOCO_NET_DOWN_FIXED) return 0;
    loco__put64(out, x->version);
    loco__put64(out + 8, x->base);
    loco__put64(out + 16, x->bytes);
    return LOCO_NET_DOWN_FIXED;
}

int loco_net_decode_down(const uint8_t *p, size_t n, loco_net_down *x) {
    if (!p || !x || n < LOCO_NET_DOWN_FIXED) return LOCO_EINVAL;
    x->version = loco__get64(p);
    x->base = loco__get64(p + 8);
    x->bytes = loco__get64(p + 16);
    x->wire = p + LOCO_NET_DOWN_FIXED;
    if (x->base + 1 != x->version || x->bytes != n - LOCO_NET_DOWN_FIXED) return LOCO_EINVAL;
    return LOCO_OK;
}
