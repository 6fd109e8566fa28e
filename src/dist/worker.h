/* What every driver's worker does: one inner step, exactly as the plain
 * trainer takes it.  Internal to src/dist. */
#ifndef LOCO_DIST_WORKER_H
#define LOCO_DIST_WORKER_H

#include "loco/loco.h"
#include "loco/split.h"

/* One inner step of model m on shard `shard` of split, at schedule step
 * `step`: a (B, T) batch from rng, forward, backward, AdamW; the loss is added
 * to *loss_sum.  tok and tgt hold B T ints each.  Returns LOCO_ENONFINITE
 * (reason in msg, naming worker w) if the loss or the gradient is not finite. */
int loco__worker_step(loco_gpt *m, const loco_split *split, int shard, loco_rng *rng, int B, int T,
                      const loco_adamw_config *inner, long step, int *tok, int *tgt, int w,
                      double *loss_sum, char *msg, size_t msglen);

#endif
