/* ATASK, OSYNC and DOWN, the asynchronous engine's messages
 * (include/loco/net.h), each head one table of fields (net/wire.h).  The
 * bytes come from the network, so the decoder checks the length and every
 * field it can before trusting any. */
#include <math.h>
#include "loco/net.h"
#include "net/wire.h"

#define COUNT(t) ((int)(sizeof t / sizeof t[0]))

static const loco__field atask_head[] = {
    LOCO__U64(loco_net_atask, task),       LOCO__U64(loco_net_atask, version),
    LOCO__U32(loco_net_atask, shard),      LOCO__U32(loco_net_atask, inner_steps),
    LOCO__U64(loco_net_atask, first_step), LOCO__U64(loco_net_atask, rng.s[0]),
    LOCO__U64(loco_net_atask, rng.s[1]),   LOCO__U64(loco_net_atask, rng.s[2]),
    LOCO__U64(loco_net_atask, rng.s[3]),
};

static const loco__field osync_head[] = {
    LOCO__U64(loco_net_osync, version), LOCO__U32(loco_net_osync, kind),
    LOCO__F32(loco_net_osync, lr),      LOCO__F32(loco_net_osync, momentum),
    LOCO__F32(loco_net_osync, beta2),   LOCO__F32(loco_net_osync, eps),
    LOCO__ZERO,                         LOCO__U64(loco_net_osync, n_state),
};

static const loco__field down_head[] = {
    LOCO__U64(loco_net_down, version), LOCO__U64(loco_net_down, base), LOCO__U64(loco_net_down, bytes),
};

size_t loco_net_encode_atask(const loco_net_atask *x, uint8_t *out, size_t cap) {
    if (!x || !out || cap < LOCO_NET_ATASK_BYTES) return 0;
    return loco__pack(atask_head, COUNT(atask_head), x, out);
}

int loco_net_decode_atask(const uint8_t *p, size_t n, loco_net_atask *x) {
    if (!p || !x || n != LOCO_NET_ATASK_BYTES) return LOCO_EINVAL;
    loco__unpack(atask_head, COUNT(atask_head), p, x);
    /* xoshiro never leaves the all-zero state. */
    const uint64_t any = x->rng.s[0] | x->rng.s[1] | x->rng.s[2] | x->rng.s[3];
    return x->inner_steps >= 1 && any ? LOCO_OK : LOCO_EINVAL;
}

size_t loco_net_encode_osync_head(const loco_net_osync *x, uint8_t *out, size_t cap) {
    if (!x || !out || cap < LOCO_NET_OSYNC_FIXED) return 0;
    return loco__pack(osync_head, COUNT(osync_head), x, out);
}

int loco_net_decode_osync(const uint8_t *p, size_t n, loco_net_osync *x) {
    if (!p || !x || n < LOCO_NET_OSYNC_FIXED) return LOCO_EINVAL;
    const int reserved_zero = loco__unpack(osync_head, COUNT(osync_head), p, x);
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
    return loco__pack(down_head, COUNT(down_head), x, out);
}

int loco_net_decode_down(const uint8_t *p, size_t n, loco_net_down *x) {
    if (!p || !x || n < LOCO_NET_DOWN_FIXED) return LOCO_EINVAL;
    loco__unpack(down_head, COUNT(down_head), p, x);
    x->wire = p + LOCO_NET_DOWN_FIXED;
    if (x->base + 1 != x->version || x->bytes != n - LOCO_NET_DOWN_FIXED) return LOCO_EINVAL;
    return LOCO_OK;
}
