/*
 * The one message that asynchronous DiLoCo over the wire adds to the
 * protocol of include/loco/net.h (docs/protocol.md, "ATASK").
 *
 * ATASK (type 9, coordinator -> worker, 64 bytes) follows a THETA and asks
 * the worker to train on a shard the coordinator chose, from the shard's
 * own data stream, because in the asynchronous engine (as in the
 * simulator, src/sim/async_sim.c) a data shard and its stream belong to
 * the task queue, not to a worker:
 *    0  task         u64, the coordinator's task counter (echoed as PUSH's round)
 *    8  version      u64, the version of the THETA it starts from (echoed as PUSH's base_version)
 *   16  shard        u32, the data shard, < the run's workers (= shards)
 *   20  inner_steps  u32, h >= 1 (Dynamic Local Updates may make it less than H)
 *   24  first_step   u64, the schedule step of the first of them (the shard's step count)
 *   32  rng          4 x u64, the shard's xoshiro256** state at the task's start
 * The PUSH that answers it carries the pseudo-gradient theta - theta_local
 * as fp32 (4P bytes), not the worker's parameters, since the coordinator's
 * theta has moved on by the time it arrives.
 */
/*
 * Two more carry the compressed download of synchronous DiLoCo with a lossy
 * codec (fp16, bf16, int8, pruning): instead of theta in fp32, a worker
 * that holds the previous theta and the outer optimizer's state receives
 * the round's mean pseudo-gradient in the upload's encoding and takes the
 * same outer step itself (the simulator's "target, re-encoded download",
 * src/algo/diloco_msg.c), reaching the coordinator's theta bit for bit:
 *
 * OSYNC (type 10, coordinator -> worker) follows a THETA of the same
 * version: the outer optimizer and its state, so that the worker can apply
 * later DOWNs.
 *    0  version      u64, theta's version (= outer steps taken)
 *    8  kind         u32, loco_outer_kind (0 nesterov, 1 sgd, 2 adam)
 *   12  lr, momentum, beta2, eps   4 x f32
 *   28  reserved     u32, 0
 *   32  n_state      u64, loco_outer_state_floats() of the model
 *   40  state        n_state fp32
 *
 * DOWN (type 11, coordinator -> worker) replaces THETA for a worker that
 * holds version base = version - 1:
 *    0  version      u64, the new version (the outer step's count t)
 *    8  base         u64, version - 1
 *   16  bytes        u64, the encoded mean pseudo-gradient's length
 *   24  wire         the mean pseudo-gradient, encoded tensor by tensor
 *                    with the run's codec (diloco_msg.h's layout)
 */
#ifndef LOCO_NET_PAYLOAD_ASYNC_H
#define LOCO_NET_PAYLOAD_ASYNC_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"
#include "loco/net.h"   /* the message types */

#define LOCO_NET_ATASK_BYTES 64

typedef struct {
    uint64_t task, version;
    uint32_t shard, inner_steps;
    uint64_t first_step;
    loco_rng rng;
} loco_net_atask;

/* Writes the 64 bytes of x into out (cap bytes); returns 64, or 0 if cap is
 * too small or an argument is NULL. */
size_t loco_net_encode_atask(const loco_net_atask *x, uint8_t *out, size_t cap);

/* Parses exactly n bytes; returns LOCO_EINVAL for a wrong length, zero inner
 * steps, or an all-zero rng state (which xoshiro never leaves). */
int loco_net_decode_atask(const uint8_t *p, size_t n, loco_net_atask *x);

#define LOCO_NET_OSYNC_FIXED 40
#define LOCO_NET_DOWN_FIXED 24

typedef struct {
    uint64_t version;
    uint32_t kind;
    float lr, momentum, beta2, eps;
    uint64_t n_state;
    const uint8_t *state;     /* n_state fp32, little-endian; borrowed */
} loco_net_osync;

typedef struct {
    uint64_t version, base, bytes;
    const uint8_t *wire;      /* borrowed */
} loco_net_down;

/* Fixed parts only (the state or wire follows as a second buffer); return
 * the bytes written, or 0 if cap is too small or an argument is NULL. */
size_t loco_net_encode_osync_head(const loco_net_osync *x, uint8_t *out, size_t cap);
size_t loco_net_encode_down_head(const loco_net_down *x, uint8_t *out, size_t cap);
/* Exactly n bytes; LOCO_EINVAL for a wrong length, an unknown optimizer
 * kind, a non-zero reserved field or non-finite hyper-parameters (OSYNC),
 * or base + 1 != version (DOWN). */
int loco_net_decode_osync(const uint8_t *p, size_t n, loco_net_osync *x);
int loco_net_decode_down(const uint8_t *p, size_t n, loco_net_down *x);

#endif
