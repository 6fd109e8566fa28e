/* A worker's inner step (src/dist/worker.h): the plain trainer's step, batch
 * by batch and operation by operation, so that one simulated worker
 * reproduces `loco train` bit for bit. */
#include <math.h>
#include <stdio.h>
#include "dist/worker.h"

int loco__worker_step(loco_gpt *m, const loco_split *split, int shard, loco_rng *rng, int B, int T,
                      const loco_adamw_config *inner, long step, int *tok, int *tgt, int w,
                      double *loss_sum, char *msg, size_t msglen) {
    loco_worker_batch(split, shard, rng, B, T, tok, tgt);
    loco_gpt_forward(m, tok, tgt, B, T);
    float loss = loco_gpt_loss(m);
    loco_gpt_zero_grad(m);
    loco_gpt_backward(m);
    float norm;
    if (loco_gpt_adamw_step(m, inner, (int)step, &norm) != LOCO_OK || !isfinite(loss)) {
        snprintf(msg, msglen, "worker %d, step %ld: loss or gradient is not finite (loss %g, norm %g); "
                 "try a lower --lr", w, step, loss, norm);
        return LOCO_ENONFINITE;
    }
    *loss_sum += loss;
    return LOCO_OK;
}
