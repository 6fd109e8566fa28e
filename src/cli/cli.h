/* The loco command's subcommands; each returns the process exit status
 * (0 success, 1 a failure at run time, 2 bad usage). */
#ifndef LOCO_CLI_CLI_H
#define LOCO_CLI_CLI_H

#include <stddef.h>

int loco_cmd_train(int argc, char **argv);
int loco_cmd_eval(int argc, char **argv);
int loco_cmd_sample(int argc, char **argv);
int loco_cmd_tokenizer(int argc, char **argv);
int loco_cmd_data(int argc, char **argv);
int loco_cmd_plot(int argc, char **argv);
int loco_cmd_route(int argc, char **argv);
int loco_cmd_export(int argc, char **argv);

/* Seconds on a monotonic clock. */
double loco_cli_now(void);
/* Creates a directory and its missing parents; returns 0, or -1 with a
 * reason in msg. */
int loco_cli_mkdir(const char *dir, char *msg, size_t msglen);

#endif
