/* loco agent train|eval (src/cli/agent_cmd.c). */
#ifndef LOCO_CLI_AGENT_CMD_H
#define LOCO_CLI_AGENT_CMD_H
#include "loco/agent.h"
#include "loco/agent_env.h"
int loco_cmd_agent(int argc, char **argv);
/* agent_act.c: a policy over stdin/stdout (docs/browser.md). */
int loco__agent_act(int argc, char **argv);
/* One step of a trained agent (batch of one, T = 1): its recurrent state
 * reset when obs->step is 0 and carried otherwise; the most likely action,
 * or a sample with rng.  LOCO_OK or the forward's error with msg. */
int loco__agent_step(loco_agent *m, loco_agent_batch_buf *bb, const loco_env_obs *o, const uint8_t *frame,
                     loco_rng *rng, loco_env_action *a, char *msg, size_t n);
#endif
