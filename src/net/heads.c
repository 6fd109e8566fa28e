/* The fixed heads of the asynchronous engine's and DiPaCo's messages
 * (include/loco/net.h gives their byte offsets), each a table of fields in
 * wire order that loco__pack and loco__unpack (net/wire.h) read.  One file
 * holds them all, so that a message's layout is written once, here. */
#include "loco/net.h"
#include "net/wire.h"

const loco__field loco__atask_head[] = {
    LOCO__U64(loco_net_atask, task),       LOCO__U64(loco_net_atask, version),
    LOCO__U32(loco_net_atask, shard),      LOCO__U32(loco_net_atask, inner_steps),
    LOCO__U64(loco_net_atask, first_step), LOCO__U64(loco_net_atask, rng.s[0]),
    LOCO__U64(loco_net_atask, rng.s[1]),   LOCO__U64(loco_net_atask, rng.s[2]),
    LOCO__U64(loco_net_atask, rng.s[3]),
};

const loco__field loco__osync_head[] = {
    LOCO__U64(loco_net_osync, version), LOCO__U32(loco_net_osync, kind),
    LOCO__F32(loco_net_osync, lr),      LOCO__F32(loco_net_osync, momentum),
    LOCO__F32(loco_net_osync, beta2),   LOCO__F32(loco_net_osync, eps),
    LOCO__ZERO,                         LOCO__U64(loco_net_osync, n_state),
};

const loco__field loco__down_head[] = {
    LOCO__U64(loco_net_down, version), LOCO__U64(loco_net_down, base), LOCO__U64(loco_net_down, bytes),
};

const loco__field loco__dptask_head[] = {
    LOCO__U64(loco_net_dptask, lease),       LOCO__U64(loco_net_dptask, round),
    LOCO__U32(loco_net_dptask, path),        LOCO__U32(loco_net_dptask, inner_steps),
    LOCO__U64(loco_net_dptask, first_step),  LOCO__U32(loco_net_dptask, timeout_ms),
    LOCO__ZERO,                              LOCO__U64(loco_net_dptask, n_params),
};

const loco__field loco__dppush_head[] = {
    LOCO__U64(loco_net_dppush, lease), LOCO__U64(loco_net_dppush, round), LOCO__U32(loco_net_dppush, path),
    LOCO__U32(loco_net_dppush, n_losses), LOCO__U64(loco_net_dppush, n_params),
};
