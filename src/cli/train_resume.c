/* Restoring a run's shape on --resume (src/cli/train_resume.h).  Before
 * this, a resumed run took the flags' defaults for whatever the user left
 * out: a run made with --seq-len 16 failed to resume ("--seq-len 64 exceeds
 * the maximum 16"), one with --batch 4 resumed with batch 16 and diverged
 * from the straight run, and --ckpt-every fell back to 0. */
#include <stdio.h>
#include <string.h>
#include "cli/args.h"
#include "cli/train_resume.h"

int train_resume_restore(const char *resume, const loco_checkpoint_run *run, const train_run_flags *f, char *msg,
                         size_t msglen) {
    const struct { const char *name; int *v; int stored, fixed; } ints[] = {
        {"batch", f->batch, run->batch, 1},           {"seq-len", f->seq_len, run->seq_len, 1},
        {"ckpt-every", f->ckpt_every, run->ckpt_every, 0}, {"eval-every", f->eval_every, run->eval_every, 0},
        {"eval-batches", f->eval_batches, run->eval_batches, 0}, {"log-every", f->log_every, run->log_every, 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0] && run->batch > 0; i++) {
        if (!args_given(ints[i].v)) {
            *ints[i].v = ints[i].stored;
        } else if (ints[i].fixed && *ints[i].v != ints[i].stored) {
            snprintf(msg, msglen, "--%s %d differs from the run in %.300s (%s %d); leave --%s out to continue "
                     "that run", ints[i].name, *ints[i].v, resume, ints[i].name, ints[i].stored, ints[i].name);
            return 2;
        }
    }
    if (!*f->data && !*f->train_shard && !*f->val_shard) {
        if (run->data[0]) *f->data = run->data;
        if (run->train_shard[0] && run->val_shard[0]) {
            *f->train_shard = run->train_shard;
            *f->val_shard = run->val_shard;
        }
    }
    return 0;
}

int train_init_check_shape(const char *init, const loco_gpt_config *cfg, const loco_gpt_config *asked, char *msg,
                           size_t msglen) {
    const struct { const char *name; const int *v; int want; } f[] = {
        {"layers", &cfg->n_layer, asked->n_layer},       {"channels", &cfg->channels, asked->channels},
        {"heads", &cfg->n_head, asked->n_head},          {"max-seq-len", &cfg->max_seq_len, asked->max_seq_len},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (args_given(f[i].v) && *f[i].v != f[i].want) {
            snprintf(msg, msglen, "--%s %d differs from the model of --init %.300s (%d); leave the model's shape "
                     "flags out with --init", f[i].name, f[i].want, init, *f[i].v);
            return 2;
        }
    return 0;
}

/* Copies s into a field of n bytes if it fits, else leaves it empty. */
static void put(char *dst, size_t n, const char *s) {
    dst[0] = 0;
    if (s && strlen(s) < n) strcpy(dst, s);
}

void train_resume_record(loco_checkpoint_run *run, const train_run_flags *f) {
    memset(run, 0, sizeof *run);
    run->batch = *f->batch;
    run->seq_len = *f->seq_len;
    run->ckpt_every = *f->ckpt_every;
    run->eval_every = *f->eval_every;
    run->eval_batches = *f->eval_batches;
    run->log_every = *f->log_every;
    put(run->data, sizeof run->data, *f->data);
    put(run->train_shard, sizeof run->train_shard, *f->train_shard);
    put(run->val_shard, sizeof run->val_shard, *f->val_shard);
}
