/* ATASK, OSYNC and DOWN, the asynchronous engine's messages
 * (include/loco/net.h), each head one table of fields (net/heads.c).  The
 * bytes come from the network, so the decoder checks the length and every
 * field it can before trusting any. */
#include <math.h>
#include "loco/net.h"
#include "net/wire.h"

size_t loco_net_encode_atask(const loco_net_atask *x, uint8_t *out, size_t cap) {
    if (!x || !out || cap < LOCO_NET_ATASK_BYTES) return 0;
    return loco__pack(loco__atask_head, LOCO__ATASK_HEAD_FIELDS, x, out);
}

int loco_net_decode_atask(const uint8_t *p, size_t n, loco_net_atask *x) {
    if (!p || !x || n != LOCO_NET_ATASK_BYTES) return LOCO_EINVAL;
    loco__unpack(loco__atask_head, LOCO__ATASK_HEAD_FIELDS, p, x);
    /* xoshiro never leaves the all-zero state. */
    const uint64_t any = x->rng.s[0] | x->rng.s[1] | x->rng.s[2] | x->rng.s[3];
    return x->inner_steps >= 1 && any ? LOCO_OK : LOCO_EINVAL;
}

size_t loco_net_encode_osync_head(const loco_net_osync *x, uint8_t *out, size_t cap) {
    if (!x || !out || cap < LOCO_NET_OSYNC_FIXED) return 0;
    return loco__pack(loco__osync_head, LOCO__OSYNC_HEAD_FIELDS, x, out);
}

int loco_net_decode_osync(const uint8_t *p, size_t n, loco_net_osync *x) {
    if (!p || !x || n < LOCO_NET_OSYNC_FIXED) return LOCO_EINVAL;
    const int reserved_zero = loco__unpack(loco__osync_head, LOCO__OSYNC_HEAD_FIELDS, p, x);
    x->state = p + LOCO_NET_OSYNC_FIXED;
    if (x->kind > 2 || !reserved_zero || !isfinite(x->lr) || !isfinite(x->momentum) || !isfinite(x->beta2) ||
        !isfinite(x->eps))
        return LOCO_EINVAL;
    /* The state's length, without overflow: n_state <= (n - fixed) / 4. */
    if (x->n_state > (n - LOCO_NET_OSYNC_FIXED) / 4 || LOCO_NET_OSYNC_FIXED + 4 * x->n_state != n) return LOCO_EINVAL;
    return LOCO_OK;
}

size_t loco_net_encode_down_head(const loco_net_down *x, uint8_t *out, size_t cap) {
    if (!x || !out || cap < LOCO_NET_DOWN_FIXED) return 0;
    return loco__pack(loco__down_head, LOCO__DOWN_HEAD_FIELDS, x, out);
}

int loco_net_decode_down(const uint8_t *p, size_t n, loco_net_down *x) {
    if (!p || !x || n < LOCO_NET_DOWN_FIXED) return LOCO_EINVAL;
    loco__unpack(loco__down_head, LOCO__DOWN_HEAD_FIELDS, p, x);
    x->wire = p + LOCO_NET_DOWN_FIXED;
    if (x->base + 1 != x->version || x->bytes != n - LOCO_NET_DOWN_FIXED) return LOCO_EINVAL;
    return LOCO_OK;
}
