/*
 * The three messages that DiPaCo's task queue adds to the protocol of
 * include/loco/net.h (docs/protocol.md, "DiPaCo").  Internal to src/net.
 *
 * A DiPaCo run's WELCOME says run_kind = LOCO_NET_RUN_DIPACO; its `workers`
 * is the number of paths P and its assignment maps documents to paths.
 * From then on a worker holds no shard: it asks for work, and trains the
 * (path, round) task it is leased.
 *
 * DPASK (type 20, worker -> coordinator, 8 bytes): the worker is idle and
 * wants a task.
 *    0  done         u64, tasks this worker pushed so far (informational)
 * The coordinator remembers the request and answers it with a DPTASK when a
 * task is in the queue (at once, or when one is given back or the next
 * round begins).  A DPASK from a worker that holds a lease says the worker
 * does not have it (it never arrived): the lease goes back to the queue.
 *
 * DPTASK (type 21, coordinator -> worker): a lease and the path's
 * parameters, gathered from the modules at the start of the round.
 *    0  lease        u64, the lease's id, unique in the coordinator's run, > 0
 *    8  round        u64, the round r
 *   16  path         u32, the path p, < P
 *   20  inner_steps  u32, h >= 1
 *   24  first_step   u64, the schedule step of the first of them, r H
 *   32  timeout_ms   u32, the lease's duration (informational: the
 *                    coordinator's clock decides)
 *   36  reserved     u32, 0
 *   40  n_params     u64, the path's parameters, > 0
 *   48  params       n_params fp32, little-endian
 *
 * DPPUSH (type 22, worker -> coordinator): the task's result.
 *    0  lease        u64, echoed
 *    8  round        u64, echoed
 *   16  path         u32, echoed
 *   20  n_losses     u32, = h, the inner steps' losses
 *   24  n_params     u64, the path's parameters
 *   32  losses       n_losses fp32, finite
 *   ...  params      n_params fp32, the path's parameters after h steps
 */
#ifndef LOCO_NET_DIPACO_WIRE_H
#define LOCO_NET_DIPACO_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"
#include "loco/net.h"   /* the message types */

#define LOCO_NET_DPASK_BYTES 8
#define LOCO_NET_DPTASK_FIXED 48
#define LOCO_NET_DPPUSH_FIXED 32

typedef struct {
    uint64_t lease, round;
    uint32_t path, inner_steps;
    uint64_t first_step;
    uint32_t timeout_ms;
    uint64_t n_params;
    const uint8_t *params;    /* n_params fp32; borrowed */
} loco_net_dptask;

typedef struct {
    uint64_t lease, round;
    uint32_t path, n_losses;
    uint64_t n_params;
    const uint8_t *losses;    /* n_losses fp32; borrowed */
    const uint8_t *params;    /* n_params fp32; borrowed */
} loco_net_dppush;

/* Bytes of a whole DPTASK / DPPUSH payload (0 if it would overflow). */
size_t loco_net_dptask_bytes(uint64_t n_params);
size_t loco_net_dppush_bytes(uint32_t n_losses, uint64_t n_params);

/* Writers: return the bytes written, or 0 if cap is too small or an
 * argument is NULL.  The _head writers write the fixed part only (DPPUSH's
 * with its losses), the parameters following as a second buffer. */
size_t loco_net_encode_dpask(uint64_t done, uint8_t *out, size_t cap);
size_t loco_net_encode_dptask_head(const loco_net_dptask *x, uint8_t *out, size_t cap);
size_t loco_net_encode_dppush_head(const loco_net_dppush *x, uint8_t *out, size_t cap);

/* Readers: parse exactly n bytes.  LOCO_EINVAL for a wrong length, a zero
 * lease, no inner steps or losses, no parameters, a non-zero reserved field
 * or a loss that is not finite.  The parameters are checked by whoever
 * decodes them (loco_codec_decode fp32 refuses non-finite values). */
int loco_net_decode_dpask(const uint8_t *p, size_t n, uint64_t *done);
int loco_net_decode_dptask(const uint8_t *p, size_t n, loco_net_dptask *x);
int loco_net_decode_dppush(const uint8_t *p, size_t n, loco_net_dppush *x);

#endif
