/* A worker's inner step (src/train/worker.h): the plain trainer's step, batch
 * by batch and operation by operation, so that one simulated worker
 * reproduces `loco train` bit for bit, on the CPU or on the device. */
#include <math.h>
#include <stdio.h>
#include "loco/train.h"
#include "train/worker.h"

/* Reports a device failure of worker w with the device's own reason. */
static int device_error(int e, loco_cuda_gpt *dev, int w, const char *what, char *msg, size_t msglen) {
    snprintf(msg, msglen, "worker %d: %s on the GPU: %s", w, what, loco_cuda_gpt_error(dev));
    return e;
}

/* The same step on the device: the batch goes up, the loss and the norm come
 * back.  Returns LOCO_ENONFINITE as the CPU's, or the device's error with
 * the phase that failed in *what. */
static int step_device(loco_cuda_gpt *dev, const int *tok, const int *tgt, int B, int T,
                       const loco_adamw_config *inner, long step, float *loss, float *norm, const char **what) {
    *what = "forward";
    int e = loco_cuda_gpt_forward(dev, tok, tgt, B, T);
    if (e) return e;
    *loss = loco_cuda_gpt_loss(dev);
    *what = "backward";
    if ((e = loco_cuda_gpt_zero_grad(dev)) != LOCO_OK || (e = loco_cuda_gpt_backward(dev)) != LOCO_OK) return e;
    *what = "AdamW step";
    return loco_cuda_gpt_adamw_step(dev, inner, (int)step, norm);
}

int loco_train_step(loco_gpt *m, loco_cuda_gpt *dev, const int *tok, const int *tgt, int B, int T,
                    const loco_adamw_config *oc, long step, float *loss, float *norm, char *msg, size_t msglen) {
    *loss = *norm = NAN;
    int bad;
    if (dev) {
        const char *what = "";
        int e = step_device(dev, tok, tgt, B, T, oc, step, loss, norm, &what);
        if (e && e != LOCO_ENONFINITE) {
            snprintf(msg, msglen, "%s on the GPU: %s", what, loco_cuda_gpt_error(dev));
            return e;
        }
        bad = e == LOCO_ENONFINITE;
    } else {
        loco_gpt_forward(m, tok, tgt, B, T);
        *loss = loco_gpt_loss(m);
        loco_gpt_zero_grad(m);
        loco_gpt_backward(m);
        bad = loco_gpt_adamw_step(m, oc, (int)step, norm) != LOCO_OK;
    }
    return bad || !isfinite(*loss) ? LOCO_ENONFINITE : LOCO_OK;
}

int loco__worker_step(loco_gpt *m, loco_cuda_gpt *dev, const loco_split *split, int shard, loco_rng *rng, int B,
                      int T, const loco_adamw_config *inner, long step, int *tok, int *tgt, int w,
                      double *loss_sum, char *msg, size_t msglen) {
    loco_worker_batch(split, shard, rng, B, T, tok, tgt);
    float loss, norm;
    char why[400];
    int e = loco_train_step(m, dev, tok, tgt, B, T, inner, step, &loss, &norm, why, sizeof why);
    if (e == LOCO_ENONFINITE) {
        /* A worker starts each task from theta, which the outer steps moved:
         * an outer learning rate too high shows up here too. */
        snprintf(msg, msglen, "worker %d, step %ld: loss or gradient is not finite (loss %g, norm %g)",
                 w, step, loss, norm);
        return LOCO_ENONFINITE;
    }
    if (e) {
        snprintf(msg, msglen, "worker %d: %s", w, why);
        return e;
    }
    *loss_sum += loss;
    return LOCO_OK;
}

int loco__worker_dev_create(loco_cuda_gpt **dev, const loco_gpt *m, int B, int T, int w, char *msg, size_t msglen) {
    char why[400];
    int e = loco_cuda_gpt_create(dev, m, B, T, why, sizeof why);
    if (e) snprintf(msg, msglen, "worker %d: the GPU: %s", w, why);
    return e;
}

int loco__worker_begin(loco_gpt *m, loco_cuda_gpt *dev, int w, char *msg, size_t msglen) {
    int e = dev ? loco_cuda_gpt_params_from_host(dev, m) : LOCO_OK;
    return e ? device_error(e, dev, w, "parameters to the device", msg, msglen) : LOCO_OK;
}

int loco__worker_end(loco_gpt *m, loco_cuda_gpt *dev, int w, char *msg, size_t msglen) {
    int e = dev ? loco_cuda_gpt_params_to_host(dev, m) : LOCO_OK;
    return e ? device_error(e, dev, w, "parameters to the host", msg, msglen) : LOCO_OK;
}

int loco__worker_adamw_reset(loco_gpt *m, loco_cuda_gpt *dev, int w, char *msg, size_t msglen) {
    /* The host copy is reset too, so that m never holds stale moments that
     * a later pull or push could mistake for the worker's. */
    loco_gpt_adamw_reset(m);
    int e = dev ? loco_cuda_gpt_adamw_reset(dev) : LOCO_OK;
    return e ? device_error(e, dev, w, "AdamW reset", msg, msglen) : LOCO_OK;
}

int loco__worker_pull_state(loco_gpt *m, loco_cuda_gpt *dev, int w, char *msg, size_t msglen) {
    int e = dev ? loco_cuda_gpt_to_host(dev, m) : LOCO_OK;
    return e ? device_error(e, dev, w, "state to the host", msg, msglen) : LOCO_OK;
}

int loco__worker_push_state(loco_gpt *m, loco_cuda_gpt *dev, int w, char *msg, size_t msglen) {
    int e = dev ? loco_cuda_gpt_from_host(dev, m) : LOCO_OK;
    return e ? device_error(e, dev, w, "state to the device", msg, msglen) : LOCO_OK;
}

void loco__worker_fault(float *p, size_t n, float value) {
    if (value == 0) return;
    for (size_t j = 0; j < n; j++) p[j] = value;
}
