/* The drivers of `loco train`: one per algorithm, each handed a checked
 * and prepared run (src/cli/run_spec.h, src/cli/run_setup.h) by train.c.
 * Each returns the process exit status (1 run-time failure, 2 bad usage). */
#ifndef LOCO_CLI_TRAIN_DIST_H
#define LOCO_CLI_TRAIN_DIST_H

#include "cli/common.h"
#include "cli/run_setup.h"
#include "cli/run_spec.h"
#include "loco/checkpoint.h"
#include "loco/loco.h"
#include "loco/source.h"

/* `--algo ddp|diloco` (src/cli/train_dist.c). */
int train_dist_run(const train_dist_args *d, train_common *c, loco_source *src);
/* `--algo async` (src/cli/train_async.c). */
int train_async_run(const train_dist_args *d, train_common *c, loco_source *src);
/* `--algo dipaco` (src/cli/train_dipaco.c). */
int train_dipaco_run(const train_dist_args *d, train_common *c, loco_source *src);

/* A plain run's --resume (src/cli/train_plain.c): the checkpoint's model
 * and metadata. */
typedef struct {
    loco_gpt *m;
    loco_checkpoint_meta meta;
    loco_checkpoint_meta stored;   /* read first: the restored flags' strings point into it */
} train_resumed;
/* Reads --resume's checkpoint: its shape into s->cfg, the flags it records
 * that the command line left out, its schedule and seed, and its model
 * into r.  Returns 0, or 1/2 with one line in msg (r is then empty). */
int train_plain_resume(run_spec *s, train_resumed *r, char *msg, size_t msglen);
/* `--algo single` (the default): trains r->m (a fresh model when NULL);
 * frees it. */
int train_plain_run(const run_spec *s, train_resumed *r, loco_source *src);  /* closes src */

#endif
