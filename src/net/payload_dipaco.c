/* DPASK, DPTASK and DPPUSH, the messages of DiPaCo's task queue
 * (include/loco/net.h), each head one table of fields (net/heads.c).  The
 * bytes come from the network, so every reader checks the exact length and
 * every field it can before trusting any. */
#include <math.h>
#include "loco/net.h"
#include "net/wire.h"

size_t loco_net_dptask_bytes(uint64_t n_params) {
    return n_params > (SIZE_MAX - LOCO_NET_DPTASK_FIXED) / 4 ? 0 : LOCO_NET_DPTASK_FIXED + 4 * (size_t)n_params;
}

size_t loco_net_dppush_bytes(uint32_t n_losses, uint64_t n_params) {
    size_t fixed = LOCO_NET_DPPUSH_FIXED + 4 * (size_t)n_losses;
    return n_params > (SIZE_MAX - fixed) / 4 ? 0 : fixed + 4 * (size_t)n_params;
}

size_t loco_net_encode_dpask(uint64_t done, uint8_t *out, size_t cap) {
    if (!out || cap < LOCO_NET_DPASK_BYTES) return 0;
    loco__put64(out, done);
    return LOCO_NET_DPASK_BYTES;
}

int loco_net_decode_dpask(const uint8_t *p, size_t n, uint64_t *done) {
    if (!p || !done || n != LOCO_NET_DPASK_BYTES) return LOCO_EINVAL;
    *done = loco__get64(p);
    return LOCO_OK;
}

size_t loco_net_encode_dptask_head(const loco_net_dptask *x, uint8_t *out, size_t cap) {
    if (!x || !out || cap < LOCO_NET_DPTASK_FIXED) return 0;
    return loco__pack(loco__dptask_head, LOCO__DPTASK_HEAD_FIELDS, x, out);
}

int loco_net_decode_dptask(const uint8_t *p, size_t n, loco_net_dptask *x) {
    if (!p || !x || n < LOCO_NET_DPTASK_FIXED) return LOCO_EINVAL;
    const int reserved_zero = loco__unpack(loco__dptask_head, LOCO__DPTASK_HEAD_FIELDS, p, x);
    x->params = p + LOCO_NET_DPTASK_FIXED;
    if (x->lease == 0 || !reserved_zero || x->inner_steps < 1 || x->inner_steps > (1u << 30) || x->n_params == 0 ||
        x->n_params != (n - LOCO_NET_DPTASK_FIXED) / 4 || (n - LOCO_NET_DPTASK_FIXED) % 4)
        return LOCO_EINVAL;
    return LOCO_OK;
}

size_t loco_net_encode_dppush_head(const loco_net_dppush *x, uint8_t *out, size_t cap) {
    if (!x || !out || (!x->losses && x->n_losses)) return 0;
    size_t k = LOCO_NET_DPPUSH_FIXED + 4 * (size_t)x->n_losses;
    if (cap < k) return 0;
    loco__pack(loco__dppush_head, LOCO__DPPUSH_HEAD_FIELDS, x, out);
    if (x->n_losses) memcpy(out + LOCO_NET_DPPUSH_FIXED, x->losses, 4 * (size_t)x->n_losses);
    return k;
}

int loco_net_decode_dppush(const uint8_t *p, size_t n, loco_net_dppush *x) {
    if (!p || !x || n < LOCO_NET_DPPUSH_FIXED) return LOCO_EINVAL;
    loco__unpack(loco__dppush_head, LOCO__DPPUSH_HEAD_FIELDS, p, x);
    if (x->lease == 0 || x->n_losses == 0 || x->n_params == 0 || x->n_losses > (n - LOCO_NET_DPPUSH_FIXED) / 4)
        return LOCO_EINVAL;
    size_t rest = n - LOCO_NET_DPPUSH_FIXED - 4 * (size_t)x->n_losses;
    if (rest % 4 || x->n_params != rest / 4) return LOCO_EINVAL;
    x->losses = p + LOCO_NET_DPPUSH_FIXED;
    x->params = x->losses + 4 * (size_t)x->n_losses;
    for (uint32_t i = 0; i < x->n_losses; i++)
        if (!isfinite(loco__getf(x->losses + 4 * (size_t)i))) return LOCO_EINVAL;
    return LOCO_OK;
}
