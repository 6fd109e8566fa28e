/* loco agent train|eval (src/cli/agent_cmd.c). */
#ifndef LOCO_CLI_AGENT_CMD_H
#define LOCO_CLI_AGENT_CMD_H
int loco_cmd_agent(int argc, char **argv);
/* agent_act.c: a policy over stdin/stdout (docs/browser.md). */
int loco__agent_act(int argc, char **argv);
#endif
