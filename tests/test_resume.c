/* `loco train --resume` with nothing but the checkpoint and --out: the
 * flags that shaped the run (batch, sequence length, cadences, data) come
 * back from the checkpoint, and the resumed run is the straight one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/checkpoint.h"
#include "test.h"
#include "proc.h"
#include "util.h"

LOCO_TEST(resume_restores_run_flags) {
    char d[64], cmd[2048], err[2048], a[128], b[128];
    strcpy(d, "/tmp/loco_resume_XXXXXX");
    if (!mkdtemp(d)) { FAIL("mkdtemp"); return; }
    snprintf(cmd, sizeof cmd, "for i in $(seq 1 400); do echo \"line $i: the quick brown fox $i\"; done > %s/c.txt", d);
    CHECK(system(cmd) == 0, "setup");
    const char *shape = "--layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --eval-every 0 --log-every 1000 "
                        "--eval-batches 1 --ckpt-every 5 --seed 7 --steps 20";
    snprintf(cmd, sizeof cmd, "train %s --threads 2 --data %s/c.txt --out %s/a", shape, d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "straight run: %s", err);
    snprintf(cmd, sizeof cmd, "train %s --threads 2 --data %s/c.txt --stop-after 10 --out %s/b", shape, d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "first half: %s", err);
    snprintf(b, sizeof b, "%s/b/model.safetensors", d);
    /* A different batch would make another run: refused. */
    snprintf(cmd, sizeof cmd, "train --resume %s --batch 8 --out %s/b", b, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2 && strstr(err, "--batch 8 differs") && strchr(err, '\n') &&
          !strchr(err, '\n')[1],
          "a conflicting --batch: '%s'", err);
    /* As the README says: the checkpoint and the output directory. */
    snprintf(cmd, sizeof cmd, "train --resume %s --threads 2 --out %s/b", b, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "resume with no other flag: %s", err);
    snprintf(a, sizeof a, "%s/a/model.safetensors", d);
    CHECK(loco_test_same_file(a, b), "10 + resume + 10 differs from 20 straight");
    loco_checkpoint_meta m;
    char msg[512];
    CHECK(loco_checkpoint_read_meta(b, NULL, &m, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(m.run.batch == 4 && m.run.seq_len == 16 && m.run.ckpt_every == 5 && m.run.eval_every == 0 &&
          strstr(m.run.data, "c.txt"), "the resumed run's checkpoint records batch %d, seq_len %d, ckpt_every %d, "
          "eval_every %d, data '%s'", m.run.batch, m.run.seq_len, m.run.ckpt_every, m.run.eval_every, m.run.data);
    loco_test_rmdir(d);
}
