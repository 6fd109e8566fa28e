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
 * of a checked and prepared spec.  Returns the exit status. */
#include "cli/run_spec.h"
#include "loco/source.h"
int coord_dipaco_run(run_spec *a, loco_source *src);

/* What `loco coordinator --algo async` needs for its loop. */
#include "loco/metrics.h"
#include "loco/net_engine.h"
#include "loco/source.h"
typedef struct {
    int M, H, steps, B, T, eval_every, log_every, eval_batches;
    int ckpt_every;             /* pushes between state files in out (0: none) */
    unsigned long long seed;
    double elapsed;             /* seconds the run had taken when its state was saved (0: a fresh start) */
    const char *out, *tokenizer;
    const loco_adamw_config *inner;
} async_wire_run;

/* The coordinator's loop for --algo async (src/cli/async_wire_cmd.c):
 * applies pushes until the run has had them, logging each one (JSON Lines
 * "train" events) and a live status line, evaluating as `loco train --algo
 * async` does, and saving the global model.  *log is closed by the caller.
 * Returns the exit status, after one line on stderr for an error. */
int async_wire_loop(const async_wire_run *r, loco_coord *co, loco_source *src, loco_metrics **log, int *tok,
                    int *tgt);

#endif
