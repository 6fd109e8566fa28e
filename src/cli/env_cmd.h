/* `loco env`: the web tasks from the command line (docs/env.md). */
#ifndef LOCO_CLI_ENV_CMD_H
#define LOCO_CLI_ENV_CMD_H

#include "loco/env.h"

int loco_cmd_env(int argc, char **argv);

/* Subcommands in their own files. */
int loco__env_render(int argc, char **argv);
int loco__env_bench(int argc, char **argv);
/* env_browser.c: run --backend native|browser|both (docs/browser.md). */
int loco__env_wants_backend(int argc, char **argv);
int loco__env_run_backend(int argc, char **argv);
/* env_serve.c: a person at a task in their browser. */
int loco__env_serve(int argc, char **argv);

/* A uniformly random valid CC-Net action (10 types, any bin, key or field
 * index up to the number of fields). */
void loco__env_random_action(loco_rng *rng, const loco_env_obs *obs, loco_env_action *a);

/* "all" -> every task (returns the count and fills ids), else one task; -1
 * (message printed) for an unknown name. */
int loco__env_tasks_arg(const char *cmd, const char *s, int *ids);

/* Parses flags: 0 go on, 1 --help was printed, 2 bad usage (printed). */
int loco__env_parse(const void *specs, int n, int argc, char **argv, const char *head);

#endif
