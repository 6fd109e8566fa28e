/*
 * DiLoCo's messages as bytes: what a worker sends at the end of a round, how
 * the server adds it into the reduction, and how the server turns the
 * reduction into the target of the outer step.  Pure functions over arrays
 * and byte buffers, shared by the simulator (src/sim/sim.c) and the
 * networked engine (src/net), so that both run the same arithmetic in the
 * same order and give the same parameters bit for bit.
 *
 * A contribution is the concatenation, in the model's canonical tensor order
 * (loco.h), of one encoded tensor per parameter tensor (include/loco/codec.h;
 * matrices use one row per output feature, vectors are 1 x n):
 *   - dense fp32 (codec fp32, keep 1): the worker's parameters theta_i,
 *     exactly (4P bytes, the same size as the pseudo-gradient, and it lets
 *     the server form the mean of the theta_i without a rounding);
 *   - any other codec or pruning: the pseudo-gradient c = theta - theta_i,
 *     plus, with error feedback, the worker's residual e, which then becomes
 *     e = c - dec(enc(c)): what this message fails to carry, sent later.
 * The server decodes each contribution it receives and adds it, in double,
 * to a sum of P doubles, in worker order.  With k contributions received:
 *   - dense fp32: target = (float)(sum / k), the mean of the theta_i;
 *   - otherwise: the mean pseudo-gradient (float)(sum / k) is encoded once
 *     more with the same codec (the download every worker would receive), and
 *     target = theta - dec(that), so that every replica that applies the
 *     download reaches the same theta.
 * loco_outer_step(theta, target) then takes the outer step.  See
 * docs/diloco.md and docs/compression.md.
 */
#ifndef LOCO_DILOCO_MSG_H
#define LOCO_DILOCO_MSG_H

#include <stddef.h>
#include <stdint.h>
#include "loco/codec.h"
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where each parameter tensor lies and how it is encoded. */
typedef struct {
    size_t P;                                   /* parameters */
    loco_codec codec;
    float keep;                                 /* fraction kept, (0, 1] */
    size_t off[LOCO_NUM_PARAM_TENSORS];         /* offset of tensor i in the parameter block */
    size_t rows[LOCO_NUM_PARAM_TENSORS], cols[LOCO_NUM_PARAM_TENSORS];
    size_t bytes[LOCO_NUM_PARAM_TENSORS];       /* encoded bytes of tensor i */
    size_t msg_bytes;                           /* bytes of one contribution (the sum) */
} loco_diloco_layout;

/* Fills l with the tensors of model m sent with codec c keeping the fraction
 * keep.  Returns LOCO_EINVAL (reason in msg) for a NULL argument, an unknown
 * codec or keep outside (0, 1]. */
int loco_diloco_layout_init(loco_diloco_layout *l, const loco_gpt *m, loco_codec c, float keep, char *msg,
                            size_t msglen);

/* 1 if contributions carry the parameters themselves (fp32, dense). */
int loco_diloco_dense(const loco_diloco_layout *l);

/* Worker side: encodes the contribution of a worker that started the round
 * at theta and is now at params into out (l->msg_bytes bytes).  Dense fp32
 * encodes params and leaves it alone.  Otherwise params is overwritten with
 * c = theta - params + ef (the worker restarts from theta next round anyway),
 * and, if ef is not NULL, ef becomes c - dec(enc(c)), for which dec (P
 * floats of scratch) receives dec(enc(c)); dec may be NULL without error
 * feedback.  Returns LOCO_ENONFINITE if a value to send is NaN or infinite,
 * LOCO_EINVAL for a NULL array. */
int loco_diloco_encode(const loco_diloco_layout *l, const float *theta, float *params, float *ef, float *dec,
                       uint8_t *out);

/* The norm of the pseudo-gradient that a decoded contribution dec carries
 * (theta - dec for dense fp32, dec itself otherwise), in double; what the
 * norm screen (loco_outer_screen) judges, in both engines. */
double loco_diloco_norm(const loco_diloco_layout *l, const float *theta, const float *dec);

/* Decodes a contribution of len bytes into dec (P floats): the worker's
 * parameters (dense fp32) or its pseudo-gradient as the codec carried it.
 * Returns LOCO_EINVAL if len is not l->msg_bytes or any tensor fails to
 * decode (see loco_codec_decode); dec is then unspecified. */
int loco_diloco_decode(const loco_diloco_layout *l, const uint8_t *in, size_t len, float *dec);

/* Server side: decodes a contribution of len bytes into dec (P floats of
 * scratch) and adds it to sum (P doubles): sum[j] += (double)dec[j].  Callers
 * add contributions in worker order so that the sum does not depend on
 * arrival order.  Returns LOCO_EINVAL, with sum untouched, if len is not
 * l->msg_bytes or any tensor fails to decode (see loco_codec_decode): the
 * bytes may come from the network. */
int loco_diloco_accumulate(const loco_diloco_layout *l, const uint8_t *in, size_t len, double *sum, float *dec);

/* Server side, once the k >= 1 contributions of a round are in sum: writes
 * the target of loco_outer_step to target (P floats).  Dense fp32: the mean
 * of the contributions.  Otherwise: the mean pseudo-gradient is written to
 * avg (P floats of scratch), encoded into wire (l->msg_bytes: the download),
 * and target = theta - dec(wire).  avg and wire are unused when dense (and
 * may then be NULL).  Returns LOCO_ENONFINITE if the mean is not finite,
 * LOCO_EINVAL for k < 1 or a NULL array. */
int loco_diloco_target(const loco_diloco_layout *l, const double *sum, int k, const float *theta, float *avg,
                       uint8_t *wire, float *target);

#ifdef __cplusplus
}
#endif
#endif
