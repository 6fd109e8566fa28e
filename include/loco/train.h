/*
 * The one training step every trainer takes: the plain trainer (`loco
 * train`), each simulated worker (src/sim) and each networked worker
 * (src/net) call it (src/train/worker.c), so that one worker of a
 * distributed run reproduces a plain run bit for bit.
 */
#ifndef LOCO_TRAIN_H
#define LOCO_TRAIN_H

#include <stddef.h>
#include "loco/cuda.h"
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One step of model m on the batch (tok, tgt) of B sequences of T tokens:
 * forward, zero the gradients, backward, AdamW at schedule step `step`.
 * With a device model dev (not NULL) the step runs on the GPU instead and
 * m is not touched.  *loss gets the batch's mean loss, *norm the gradient
 * norm (NAN where not reached).  Returns LOCO_OK, LOCO_ENONFINITE (no reason
 * in msg: the caller words it with *loss and *norm) if the loss or the
 * gradient is not finite, or the device's error with the failing phase and
 * the device's reason in msg. */
int loco_train_step(loco_gpt *m, loco_cuda_gpt *dev, const int *tok, const int *tgt, int B, int T,
                    const loco_adamw_config *oc, long step, float *loss, float *norm, char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif
#endif
