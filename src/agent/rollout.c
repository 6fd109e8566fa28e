/*
 * A vectorised environment driven by the policy: N environments (one task
 * each), one recurrent state per environment, and at every step the
 * observations encoded as one batch of N sequences of one step, one forward
 * pass, an action chosen per environment and one environment step.  The
 * evaluation and the acting benchmark both run this loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/agent_env.h"

struct loco_agent_rollout {
    loco_agent *m;
    int N;
    loco_env *env;
    loco_env_buffers buf;
    loco_agent_action *chosen;   /* (N) */
    loco_agent_batch_buf bb;     /* N sequences of one step */
};

void loco_agent_rollout_free(loco_agent_rollout *r) {
    if (!r) return;
    loco_env_free(r->env);
    loco_agent_batch_buf_free(&r->bb);
    free(r->buf.obs); free(r->buf.pixels); free(r->buf.actions); free(r->buf.rewards); free(r->buf.terminated);
    free(r->buf.truncated); free(r->buf.success); free(r->buf.errors);
    free(r->chosen);
    free(r);
}

int loco_agent_rollout_create(loco_agent_rollout **out, loco_agent *m, const loco_env_config *ec, char *msg,
                              size_t msglen) {
    *out = NULL;
    const loco_agent_config *c = loco_agent_get_config(m);
    int err = loco_agent_env_check(c, msg, msglen);
    if (err) return err;
    loco_agent_rollout *r = calloc(1, sizeof *r);
    if (!r) return LOCO_ENOMEM;
    const int N = ec->num_envs > 0 ? ec->num_envs : 1, pixels = (c->obs & LOCO_OBS_PIXELS) != 0;
    r->m = m;
    r->N = N;
    r->buf = (loco_env_buffers){calloc(N, sizeof(loco_env_obs)),
                                pixels ? malloc((size_t)N * LOCO_ENV_H * LOCO_ENV_W * 3) : NULL,
                                calloc(N, sizeof(loco_env_action)), calloc(N, sizeof(float)), calloc(N, 1),
                                calloc(N, 1), calloc(N, 1), calloc(N, sizeof(int32_t))};
    r->chosen = calloc(N, sizeof *r->chosen);
    if (!r->buf.obs || (pixels && !r->buf.pixels) || !r->buf.actions || !r->buf.rewards || !r->buf.terminated ||
        !r->buf.truncated || !r->buf.success || !r->buf.errors || !r->chosen ||
        loco_agent_batch_buf_alloc(&r->bb, c, N, 1)) {
        loco_agent_rollout_free(r);
        if (msg && msglen) snprintf(msg, msglen, "out of memory");
        return LOCO_ENOMEM;
    }
    loco_env_config e = *ec;
    e.num_envs = N;
    e.pixels = pixels;
    err = loco_env_create(&r->env, &e, &r->buf, msg, msglen);
    if (err) { loco_agent_rollout_free(r); return err; }
    *out = r;
    return LOCO_OK;
}

const loco_env_buffers *loco_agent_rollout_buffers(const loco_agent_rollout *r) { return &r->buf; }
loco_env *loco_agent_rollout_env(loco_agent_rollout *r) { return r->env; }

void loco_agent_rollout_reset(loco_agent_rollout *r, const uint64_t *seeds) {
    loco_env_reset(r->env, seeds);
    loco_agent_reset_state(r->m);
}

/* The recurrent state restarts wherever an environment's episode does (its
 * observation's step is 0 after a reset or an auto-reset), as in training. */
int loco_agent_rollout_act(loco_agent_rollout *r, loco_rng *rng, char *msg, size_t msglen) {
    const loco_agent_config *c = loco_agent_get_config(r->m);
    const size_t frame = (size_t)LOCO_ENV_H * LOCO_ENV_W * 3;
    for (int i = 0; i < r->N; i++) {
        const loco_env_obs *o = &r->buf.obs[i];
        loco_agent_encode_obs(c, o, r->buf.pixels ? r->buf.pixels + i * frame : NULL, &r->bb, i);
        r->bb.first[i] = o->step == 0;
        r->bb.valid[i] = 1;
    }
    r->bb.view.target = NULL;
    int err = loco_agent_forward(r->m, &r->bb.view, msg, msglen);
    if (err) return err;
    loco_agent_carry_state(r->m);
    loco_agent_choose(r->m, 0, rng, r->chosen);
    for (int i = 0; i < r->N; i++) loco_agent_action_to_env(&r->chosen[i], &r->buf.actions[i]);
    return LOCO_OK;
}

int loco_agent_rollout_step(loco_agent_rollout *r, loco_rng *rng, char *msg, size_t msglen) {
    int err = loco_agent_rollout_act(r, rng, msg, msglen);
    if (err) return err;
    loco_env_step(r->env);   /* the chosen actions are valid by construction; errors are the env's verdict */
    return LOCO_OK;
}
