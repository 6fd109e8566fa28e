/* The loco command's subcommands; each returns the process exit status. */
#ifndef LOCO_CLI_CLI_H
#define LOCO_CLI_CLI_H

int loco_cmd_train(int argc, char **argv);

#endif
