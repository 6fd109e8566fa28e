/*
 * The agent and the web-task environment (include/loco/env.h): observations
 * encoded as the network's inputs, actions chosen from its heads, and the
 * behavioural-cloning data set built by replaying demonstration files.
 */
#ifndef LOCO_AGENT_ENV_H
#define LOCO_AGENT_ENV_H

#include "loco/agent.h"
#include "loco/env.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caller-owned batch arrays for B x T steps (one allocation, see
 * loco_agent_batch_buf_alloc); `view` is the batch the model reads. */
typedef struct {
    int B, T;
    uint8_t *frames;            /* (B,T,H,W,3), NULL without pixel observations */
    int32_t *words, *nwords;    /* (B,T,NS,S), (B,T,NS) */
    float *geom;                /* (B,T,max_dom,geom_dim) */
    int32_t *n_dom, *n_fields;  /* (B,T) */
    uint8_t *first, *valid;     /* (B,T) */
    loco_agent_action *prev, *target;  /* (B,T) */
    loco_agent_batch view;
    void *block;
} loco_agent_batch_buf;

int  loco_agent_batch_buf_alloc(loco_agent_batch_buf *bb, const loco_agent_config *c, int B, int T);
void loco_agent_batch_buf_free(loco_agent_batch_buf *bb);
/* Copies step j of src into step i of dst (same configuration). */
void loco_agent_batch_buf_copy_step(loco_agent_batch_buf *dst, int i, const loco_agent_batch_buf *src, int j,
                                    const loco_agent_config *c);

/* Word id of one token: the built-in vocabulary (case-insensitive), else a
 * hashed bucket after it (case-sensitive FNV-1a). */
int loco_agent_word_id(const loco_agent_config *c, const char *tok, size_t len);

/* Writes observation obs (and its 210x160 frame when the configuration uses
 * pixels) into step i of bb: the instruction, each field "key value" and
 * each element "tag text value id" as words (a string-start word first, cut
 * at max_words), element geometry (box / page size, then the focused,
 * tampered, targeted and leaf flags), counts, and the previous action.  The
 * configuration must have LOCO_ENV_BINS bins, LOCO_ENV_NUM_KEYS keys and
 * geom_dim 8 (loco_agent_env_check). */
void loco_agent_encode_obs(const loco_agent_config *c, const loco_env_obs *obs, const uint8_t *frame,
                           loco_agent_batch_buf *bb, int i);

/* LOCO_OK if configuration c can drive the environment, else LOCO_ECONFIG
 * with a reason. */
int loco_agent_env_check(const loco_agent_config *c, char *msg, size_t msglen);

/* The agent's action for an environment action (arguments the type does not
 * use become -1); -1 for the element actions, which the agent has no head for. */
int  loco_agent_action_from_env(const loco_env_action *a, int n_fields, loco_agent_action *out);
void loco_agent_action_to_env(const loco_agent_action *a, loco_env_action *out);

/* Chooses an action for every sequence b from the logits of step t of the
 * last forward: the type, then only the arguments it uses, y given the chosen
 * x (its head is re-evaluated); argmax when rng is NULL, else sampled.  The
 * field head chooses among the step's fields. */
void loco_agent_choose(loco_agent *m, int t, loco_rng *rng, loco_agent_action *out);

/* ------------------------------------------------------------- acting */

/* N environments driven by the policy m (whose batch capacity must hold N
 * sequences of one step): each step encodes every observation, runs one
 * forward pass, carries the recurrent state (restarted wherever an episode
 * starts), chooses an action per environment and steps them.  The
 * environment's configuration is taken from ec (its pixels flag from m's
 * observations).  Used by evaluation and by the acting benchmark. */
typedef struct loco_agent_rollout loco_agent_rollout;

int  loco_agent_rollout_create(loco_agent_rollout **out, loco_agent *m, const loco_env_config *ec, char *msg,
                               size_t msglen);
void loco_agent_rollout_free(loco_agent_rollout *r);
/* Resets every environment (seeds as loco_env_reset) and the recurrent state. */
void loco_agent_rollout_reset(loco_agent_rollout *r, const uint64_t *seeds);
/* The policy's half of a step: writes the chosen actions into the
 * environment's action buffer (argmax when rng is NULL, else sampled). */
int  loco_agent_rollout_act(loco_agent_rollout *r, loco_rng *rng, char *msg, size_t msglen);
/* loco_agent_rollout_act, then one step of every environment. */
int  loco_agent_rollout_step(loco_agent_rollout *r, loco_rng *rng, char *msg, size_t msglen);
/* The environment's buffers (observations, rewards, terminated, truncated,
 * success) and the environment itself. */
const loco_env_buffers *loco_agent_rollout_buffers(const loco_agent_rollout *r);
loco_env *loco_agent_rollout_env(loco_agent_rollout *r);

/* ---------------------------------------------------- demonstrations (BC) */

typedef struct loco_agent_demos loco_agent_demos;

typedef struct {
    int files, episodes, kept, failed, unsupported, mismatched;
    long steps, noops_cut;
    int tasks;                  /* tasks with at least one kept episode */
} loco_agent_demos_stats;

/* Reads every regular file in dir that starts with the demonstration
 * magic "LOCODEMO" (others are skipped), keeps the successful
 * episodes (at most max_per_task per task, in file order; <= 0: all),
 * shortens every run of no-ops to at most max_noops steps, and replays each
 * episode through the environment to encode its observations for
 * configuration c.  A replay whose observation digests differ from the
 * file's is dropped (counted as mismatched).  LOCO_EIO / LOCO_EINVAL /
 * LOCO_ENOMEM with a reason. */
int  loco_agent_demos_load(loco_agent_demos **out, const char *dir, const loco_agent_config *c,
                           int max_per_task, int max_noops, loco_agent_demos_stats *st, char *msg, size_t msglen);
void loco_agent_demos_free(loco_agent_demos *d);
/* Episodes kept for environment task `task` (0 if none). */
int  loco_agent_demos_count(const loco_agent_demos *d, int task);

/* Fills bb (B x T) with demonstration steps: each row draws a task uniformly
 * among those with episodes, then an episode of it uniformly, and packs
 * whole episodes one after another (first set at each start) until the row
 * is full; a last episode that does not fit is cut. */
void loco_agent_demos_sample(const loco_agent_demos *d, loco_rng *rng, loco_agent_batch_buf *bb);

#ifdef __cplusplus
}
#endif
#endif
