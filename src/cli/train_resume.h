/* `loco train --resume`: the flags that shape a run are stored in its
 * checkpoint (loco_checkpoint_run) and come back from it, so that resuming
 * with nothing but --resume and --out continues the run that stopped. */
#ifndef LOCO_CLI_TRAIN_RESUME_H
#define LOCO_CLI_TRAIN_RESUME_H

#include <stddef.h>
#include "loco/checkpoint.h"

/* The plain trainer's flags that a checkpoint records (borrowed). */
typedef struct {
    int *batch, *seq_len, *ckpt_every, *eval_every, *eval_batches, *log_every;
    const char **data, **train_shard, **val_shard;
} train_run_flags;

/* Before a resume: every flag the user did not give takes the value stored
 * in run (when stored).  B and T must not change in a resumed run: an
 * explicit value that differs from the stored one is refused (returns 2,
 * with one line in msg).  The cadences (--ckpt-every, --eval-every,
 * --eval-batches, --log-every) may be changed explicitly; the data paths
 * come back only when none of --data, --train-shard, --val-shard is given.
 * String flags point into run, which must outlive them.  Returns 0. */
int train_resume_restore(const char *resume, const loco_checkpoint_run *run, const train_run_flags *f, char *msg,
                         size_t msglen);

/* After --init gave cfg its shape: an explicit --layers, --channels,
 * --heads or --max-seq-len (asked holds the values before) that differs
 * from the starting model's is refused with one line (returns 2); it used
 * to be overridden without a word.  Returns 0. */
int train_init_check_shape(const char *init, const loco_gpt_config *cfg, const loco_gpt_config *asked, char *msg,
                           size_t msglen);

/* What a checkpoint of this run records (a path too long to store is left
 * out, and a resume then needs it given again). */
void train_resume_record(loco_checkpoint_run *run, const train_run_flags *f);

#endif
