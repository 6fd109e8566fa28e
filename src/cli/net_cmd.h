/* `loco coordinator`, `loco worker` and `loco train --launch local`: the
 * networked engine's commands (docs/distributed.md). */
#ifndef LOCO_CLI_NET_CMD_H
#define LOCO_CLI_NET_CMD_H

int loco_cmd_coordinator(int argc, char **argv);
int loco_cmd_worker(int argc, char **argv);

/* 1 if argv (loco train's flags) asks for --launch. */
int loco_cli_wants_launch(int argc, char **argv);

/* `loco train --launch local --workers M ...`: starts `loco coordinator`
 * with the same flags (less --launch) on a private ipc:// endpoint and a
 * freshly generated secret, and M `loco worker`s with the data flags, all
 * on this host; waits for the coordinator and then the workers.  Returns
 * the coordinator's exit status (2 for bad usage of --launch itself). */
int loco_cli_launch(int argc, char **argv);

#endif
