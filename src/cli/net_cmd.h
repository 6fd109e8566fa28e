/* `loco coordinator`, `loco worker` and `loco train --launch local`: the
 * networked engine's commands (docs/distributed.md). */
#ifndef LOCO_CLI_NET_CMD_H
#define LOCO_CLI_NET_CMD_H

int loco_cmd_coordinator(int argc, char **argv);
int loco_cmd_worker(int argc, char **argv);
/* `loco keygen --out FILE`: a CURVE key pair, FILE (secret) and FILE.pub. */
int loco_cmd_keygen(int argc, char **argv);

/* 1 if argv (loco train's flags) asks for --launch. */
int loco_cli_wants_launch(int argc, char **argv);

/* `loco train --launch local --workers M ...`: starts `loco coordinator`
 * with the same flags (less --launch) on a private ipc:// endpoint and a
 * freshly generated secret, and M `loco worker`s with the data flags, all
 * on this host; waits for the coordinator and then the workers.  Returns
 * the coordinator's exit status (2 for bad usage of --launch itself). */
int loco_cli_launch(int argc, char **argv);

/* `loco coordinator --algo dipaco` (src/cli/coordinator_dipaco.c): the run
 * of a checked and prepared spec, from init (--init; NULL: a fresh model).
 * Returns the exit status. */
#include "cli/run_spec.h"
#include "loco/source.h"
int coord_dipaco_run(run_spec *a, loco_source *src, const float *init);

/* `loco coordinator --algo async`'s lines (src/cli/async_wire_cmd.c). */
#include "cli/drive.h"
#include "loco/net_engine.h"
typedef struct {
    loco_coord *co;
    int M, H;
    long total;                 /* pushes in the run */
} async_wire_view;

/* Sets run's schedule, counted in pushes as `loco train --algo async`
 * counts them (eval_every and log_every in inner steps of one synchronous
 * worker), and its status and evaluation lines, for view v (whose co, M, H
 * and total the caller fills). */
void async_wire_setup(drive_config *run, async_wire_view *v, int eval_every, int log_every);
/* The line at the end of the run. */
void async_wire_done(const async_wire_view *v, const drive_result *res, const char *out);

#endif
