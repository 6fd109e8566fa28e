/* The model's optimizer step: global-norm clipping, the learning-rate
 * schedule, and AdamW with weight decay on matrices only (as nanoGPT does:
 * embeddings and linear weights decay; biases and LayerNorm gains do not). */
#include <math.h>
#include <string.h>
#include "nn/gpt_internal.h"

/* Returns LOCO_ENONFINITE, leaving the parameters untouched, when the
 * gradient norm is NaN or infinite. */
int loco_gpt_adamw_step(loco_gpt *m, const loco_adamw_config *cfg, int step, float *norm_out) {
    float norm = loco_grad_norm(m->grads, m->num_params);
    if (norm_out) *norm_out = norm;
    if (!isfinite(norm)) return LOCO_ENONFINITE;
    /* torch.nn.utils.clip_grad_norm_: scale = min(1, max_norm / (norm + 1e-6)). */
    float gscale = 1.0f;
    if (cfg->grad_clip > 0) {
        float c = cfg->grad_clip / (norm + 1e-6f);
        gscale = c < 1.0f ? c : 1.0f;
    }
    float lr = loco_lr_schedule(cfg, step);
    int t = (int)++m->adam_t;
    float *mom = m->opt_state, *vel = m->opt_state + m->num_params;
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        size_t o = m->offsets[i];
        float wd = loco__gpt_param_is_matrix(i) ? cfg->weight_decay : 0.0f;
        loco_adamw_update(m->params + o, m->grads + o, mom + o, vel + o, m->sizes[i],
                          lr, cfg->beta1, cfg->beta2, cfg->eps, wd, gscale, t);
    }
    return LOCO_OK;
}

void loco_gpt_adamw_reset(loco_gpt *m) {
    memset(m->opt_state, 0, 2 * m->num_params * sizeof(float));
    m->adam_t = 0;
}
