/* What every driver's worker does: one inner step, exactly as the plain
 * trainer takes it, on the CPU or on the GPU.  Internal to the simulators
 * (src/sim) and the network engines (src/net).
 *
 * A worker has a host model m.  With a device model dev (--device cuda) its
 * inner steps run on the GPU instead, and dev keeps the worker's AdamW state
 * (moments and update count) from task to task; m then holds the parameters
 * at the task boundaries only, where the algorithms read and write them.  A
 * task on the device therefore reads
 *
 *     loco__worker_begin   (m's parameters to the device)
 *     loco__worker_step    (H times; batches drawn on the host, as the CPU's)
 *     loco__worker_end     (the parameters back to m)
 *
 * and every call below is the CPU's plain code when dev is NULL. */
#ifndef LOCO_TRAIN_WORKER_H
#define LOCO_TRAIN_WORKER_H

#include "loco/cuda.h"
#include "loco/loco.h"
#include "loco/split.h"

/* A testing aid that plays a faulty accelerator (or a hostile worker): the
 * n parameters p all become value, which passes every check a message
 * gets on the wire (finite, well formed) and must be caught by the norm
 * screen (loco_outer_screen).  value 0 leaves p alone. */
void loco__worker_fault(float *p, size_t n, float value);

/* One inner step of model m (or of dev, if not NULL) on shard `shard` of
 * split, at schedule step `step`: a (B, T) batch from rng, forward, backward,
 * AdamW; the loss is added to *loss_sum.  tok and tgt hold B T ints each.
 * Returns LOCO_ENONFINITE (reason in msg, naming worker w) if the loss or the
 * gradient is not finite, or the device's error (LOCO_EDEVICE, ...). */
int loco__worker_step(loco_gpt *m, loco_cuda_gpt *dev, const loco_split *split, int shard, loco_rng *rng, int B,
                      int T, const loco_adamw_config *inner, long step, int *tok, int *tgt, int w,
                      double *loss_sum, char *msg, size_t msglen);

/* Creates worker w's device model from m (parameters, AdamW state and update
 * count, so m should be freshly made or reset) with capacity (B, T); once
 * per worker, never inside a task.  Returns loco_cuda_gpt_create's error with
 * the reason, naming the worker, in msg. */
int loco__worker_dev_create(loco_cuda_gpt **dev, const loco_gpt *m, int B, int T, int w, char *msg, size_t msglen);

/* A task's boundaries: the parameters of m to dev, and back.  No-ops when dev
 * is NULL.  Return the device's error, reason in msg. */
int loco__worker_begin(loco_gpt *m, loco_cuda_gpt *dev, int w, char *msg, size_t msglen);
int loco__worker_end(loco_gpt *m, loco_cuda_gpt *dev, int w, char *msg, size_t msglen);

/* loco_gpt_adamw_reset on m, and on dev where the state really is. */
int loco__worker_adamw_reset(loco_gpt *m, loco_cuda_gpt *dev, int w, char *msg, size_t msglen);

/* For host code that reads or writes the AdamW state itself (the networked
 * worker's snapshots): pull copies dev's parameters and AdamW state into m,
 * push copies m's into dev.  No-ops when dev is NULL. */
int loco__worker_pull_state(loco_gpt *m, loco_cuda_gpt *dev, int w, char *msg, size_t msglen);
int loco__worker_push_state(loco_gpt *m, loco_cuda_gpt *dev, int w, char *msg, size_t msglen);

#endif
