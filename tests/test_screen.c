/*
 * The norm screen and the checked outer step (src/optim/screen.c,
 * src/optim/outer.c): a worker whose contribution is far outside the
 * others' (a faulty accelerator, or a worker that holds the secret and
 * means harm) is dropped, counted and logged, in the simulator and on the
 * wire alike and bit for bit the same, and no outer step makes theta
 * non-finite.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/async.h"
#include "loco/checkpoint.h"
#include "loco/outer.h"
#include "test.h"
#include "proc.h"
#include "util.h"

#define SCREEN_TINY "--layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --eval-every 0 --log-every 1000 " \
                    "--eval-batches 1 --threads 1 --lr 3e-3"
#define SECRET "screen-test-secret-0123456789abcdef"

LOCO_TEST(screen_rule) {
    unsigned char keep[8];
    /* Peers: the lower median of {1, 1.2, 0.9, 5e40} is 1; 5e40 goes. */
    double a[] = {1.0, 1.2, 0.9, 5e40};
    CHECK(loco_outer_screen(a, 4, 10, 0, NULL, keep) == 1 && keep[0] && keep[1] && keep[2] && !keep[3],
          "one outlier of four");
    /* Two workers: the smaller is the reference, so one honest pair stays
     * and a pair ten times apart loses the larger. */
    double b[] = {2.0, 3.0}, c[] = {2.0, 21.0}, d[] = {NAN, 1.0}, e[] = {INFINITY, 1.0};
    CHECK(loco_outer_screen(b, 2, 10, 0, NULL, keep) == 0 && keep[0] && keep[1], "honest pair");
    CHECK(loco_outer_screen(c, 2, 10, 0, NULL, keep) == 1 && keep[0] && !keep[1], "pair 10x apart");
    CHECK(loco_outer_screen(d, 2, 10, 0, NULL, keep) == 1 && !keep[0] && keep[1], "NaN norm");
    CHECK(loco_outer_screen(e, 2, 0, 0, NULL, keep) == 1 && !keep[0] && keep[1], "k = 0 still drops Inf");
    CHECK(loco_outer_screen(c, 2, 0, 0, NULL, keep) == 0, "k = 0 keeps every finite norm");
    /* A lone contribution: against |theta| until three are known, then
     * against the median of the recent accepted ones. */
    loco_screen_recent r = {{0}, 0, 0};
    double x = 50;
    CHECK(loco_outer_screen(&x, 1, 10, 4.0, &r, keep) == 1 && r.n == 0, "50 > 10 |theta| = 40");
    for (int i = 0; i < 3; i++) {
        x = 1 + i;
        CHECK(loco_outer_screen(&x, 1, 10, 4.0, &r, keep) == 0, "push %d", i);
    }
    CHECK(r.n == 3, "three accepted norms recorded (%d)", r.n);
    x = 25;   /* under 10 |theta| but over 10 x the median 2 */
    CHECK(loco_outer_screen(&x, 1, 10, 4.0, &r, keep) == 1, "against the recent median");
    x = 15;
    CHECK(loco_outer_screen(&x, 1, 10, 4.0, &r, keep) == 0 && r.n == 4, "15 < 10 x 2");
    /* A dropped push: nothing under NAIVE; a push of zeros under BUFFER,
     * which keeps its count of N arrivals. */
    float theta[4] = {1, 2, 3, 4}, g[4] = {9, 9, 9, 9}, block[8] = {0};
    loco_async_config ac;
    loco_async_config_default(&ac, 2);
    ac.rule = LOCO_ASYNC_NAIVE;
    loco_async_state st;
    loco_async_state_init(&st, block, 4);
    CHECK(loco_async_push_dropped(&ac, &st, theta, g, 4) == 0 && st.arrivals == 0 && theta[0] == 1,
          "NAIVE counted a dropped push");
    ac.rule = LOCO_ASYNC_BUFFER;
    CHECK(loco_async_push_dropped(&ac, &st, theta, g, 4) == 0 && st.pending == 1 && g[0] == 0,
          "BUFFER did not count a dropped push as zeros");
    for (int i = 0; i < 40; i++) loco_outer_screen(&x, 1, 10, 4.0, &r, keep);
    CHECK(r.n == LOCO_SCREEN_RECENT, "the ring holds %d", r.n);
}

/* loco_outer_step_checked: the step of loco_outer_step bit for bit when it
 * stays finite; nothing changed and LOCO_ENONFINITE when it would not. */
LOCO_TEST(outer_step_checked_never_non_finite) {
    enum { N = 1000 };
    static float theta[N], theta2[N], target[N], st[2 * N], st2[2 * N];
    for (loco_outer_kind kind = LOCO_OUTER_NESTEROV; kind <= LOCO_OUTER_ADAM; kind++) {
        loco_outer_config c;
        loco_outer_config_default(&c);
        c.kind = kind;
        for (int i = 0; i < N; i++) {
            theta[i] = theta2[i] = sinf((float)i);
            target[i] = theta[i] - 0.01f * cosf((float)i);
        }
        memset(st, 0, sizeof st);
        memset(st2, 0, sizeof st2);
        CHECK(loco_outer_step_checked(&c, theta, target, st, N, 1) == LOCO_OK, "%s: a sane step",
              loco_outer_name(kind));
        loco_outer_step(&c, theta2, target, st2, N, 1);
        CHECK(!memcmp(theta, theta2, sizeof theta) && !memcmp(st, st2, sizeof st), "%s: not loco_outer_step's",
              loco_outer_name(kind));
        /* The mean of one worker that sent 3e38 (or -3e38), with an outer
         * learning rate of 3: the step overflows (Adam's delta^2 at once). */
        for (int i = 0; i < N; i++) target[i] = i % 2 ? 3e38f : -3e38f;
        c.lr = 3;
        CHECK(loco_outer_step_checked(&c, theta, target, st, N, 2) == LOCO_ENONFINITE, "%s: overflow allowed",
              loco_outer_name(kind));
        CHECK(!memcmp(theta, theta2, sizeof theta) && !memcmp(st, st2, sizeof st), "%s: a refused step changed "
              "theta or the state", loco_outer_name(kind));
    }
    loco_outer_config c;
    loco_outer_config_default(&c);
    c.lr = 1e9f;   /* --outer-lr 1e9 */
    for (int i = 0; i < N; i++) target[i] = theta[i] - 1e30f;
    CHECK(loco_outer_step_checked(&c, theta, target, st, N, 3) == LOCO_ENONFINITE, "lr 1e9 overflow allowed");
}

/* Waits for the coordinator to write its endpoint file. */
static int endpoint_of(const char *path, char *ep, size_t n) {
    for (int i = 0; i < 200; i++) {
        if (loco_test_slurp(path, ep, n) > 0) return 0;
        usleep(50000);
    }
    return -1;
}

/* 1 if the two checkpoints hold the same parameters, bit for bit, all
 * finite. */
static int same_finite_params(const char *a, const char *b) {
    loco_gpt *ma = NULL, *mb = NULL;
    int same = loco_checkpoint_load(a, &ma, 1, 16, NULL, NULL, 0) == LOCO_OK &&
               loco_checkpoint_load(b, &mb, 1, 16, NULL, NULL, 0) == LOCO_OK &&
               loco_gpt_num_params(ma) == loco_gpt_num_params(mb) &&
               !memcmp(loco_gpt_params(ma), loco_gpt_params(mb), loco_gpt_num_params(ma) * sizeof(float));
    for (size_t i = 0; same && i < loco_gpt_num_params(ma); i++) same = isfinite(loco_gpt_params(ma)[i]);
    loco_gpt_free(ma);
    loco_gpt_free(mb);
    return same;
}

/* 1 if the file holds the text. */
static int file_has(const char *path, const char *text) {
    static char buf[1 << 16];
    return loco_test_slurp(path, buf, sizeof buf) > 0 && strstr(buf, text) != NULL;
}

/* A worker sending parameters of 3e38 (well formed, finite, authenticated)
 * among honest ones: the simulator and the coordinator drop it in every
 * round, log it, and end with the same finite model; with the screen off
 * the poisoned mean breaks the run, which is what the screen prevents. */
LOCO_TEST(screen_poisoned_worker_sim_and_wire) {
    char d[64], cmd[2048], err[4096], ep[256], path[256], a[256], b[256];
    if (loco_test_net_scratch(d, "/tmp/loco_screen_XXXXXX", SECRET)) { FAIL("setup"); return; }
    const char *run = "--algo diloco --workers 3 --inner-steps 3 --steps 9";
    snprintf(cmd, sizeof cmd, "train " SCREEN_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin %s "
             "--fault-worker 2 --fault-value 3e38 --out %s/sim", d, d, run, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0 && strstr(err, "round 3: dropped 1 contribution"),
          "simulator: %s", err);
    snprintf(path, sizeof path, "%s/sim/metrics.jsonl", d);
    CHECK(file_has(path, "\"screened\":3"), "the simulator's log does not count 3 screened contributions");
    snprintf(cmd, sizeof cmd, "train " SCREEN_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin %s "
             "--fault-worker 2 --fault-value 3e38 --screen-k 0 --out %s/off", d, d, run, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 1 && strstr(err, "not finite"), "screen off: %s", err);

    snprintf(cmd, sizeof cmd, "coordinator " SCREEN_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin "
             "%s --listen ipc://%s/c.sock --endpoint-file %s/c.ep --secret-file %s/secret --out %s/net", d, d, run,
             d, d, d, d);
    snprintf(path, sizeof path, "%s/c.log", d);
    pid_t c = loco_test_start(cmd, path);
    snprintf(path, sizeof path, "%s/c.ep", d);
    CHECK(endpoint_of(path, ep, sizeof ep) == 0, "no endpoint from the coordinator");
    pid_t w[3];
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "worker --connect %s --secret-file %s/secret --train-shard %s/s.train.bin "
                 "--threads 1 --timeout 60 --id %d %s", ep, d, d, i, i == 2 ? "--fault-value 3e38" : "");
        snprintf(path, sizeof path, "%s/w%d.log", d, i);
        w[i] = loco_test_start(cmd, path);
    }
    CHECK(loco_test_finish(c, 60) == 0, "the coordinator failed");
    for (int i = 0; i < 3; i++) CHECK(loco_test_finish(w[i], 10) == 0, "worker %d failed", i);
    snprintf(path, sizeof path, "%s/c.log", d);
    CHECK(file_has(path, "round 3: dropped 1 contribution"), "the coordinator did not log the drops");
    snprintf(path, sizeof path, "%s/net/metrics.jsonl", d);
    CHECK(file_has(path, "\"screened\":3"), "the coordinator's log does not count 3 screened contributions");
    snprintf(a, sizeof a, "%s/sim/model.safetensors", d);
    snprintf(b, sizeof b, "%s/net/model.safetensors", d);
    CHECK(same_finite_params(a, b), "the network's model differs from the simulator's, or is not finite");
    loco_test_rmdir(d);
}

/* Asynchronous pushes: one worker whose every push is 3e38.  Each is
 * measured against |theta| (no accepted push to take a median of), dropped
 * and logged, by the simulator and the coordinator alike. */
LOCO_TEST(screen_poisoned_async_push_sim_and_wire) {
    char d[64], cmd[2048], err[4096], ep[256], path[256], a[256], b[256];
    if (loco_test_net_scratch(d, "/tmp/loco_screen_XXXXXX", SECRET)) { FAIL("setup"); return; }
    const char *run = "--algo async --workers 1 --inner-steps 3 --steps 9";
    snprintf(cmd, sizeof cmd, "train " SCREEN_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin %s "
             "--fault-worker 0 --fault-value 3e38 --out %s/sim", d, d, run, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0 && strstr(err, "push 3 (worker 0): dropped"), "simulator: %s",
          err);
    /* Under the sync rule the others wait for a round of M pushes: a dropped
     * one must not stall them. */
    snprintf(cmd, sizeof cmd, "train " SCREEN_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin "
             "--algo async --rule sync --workers 3 --inner-steps 3 --steps 9 --fault-worker 1 --fault-value 3e38", d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0 && strstr(err, "(worker 1): dropped"), "sync rule: %s", err);
    snprintf(cmd, sizeof cmd, "coordinator " SCREEN_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin "
             "%s --listen ipc://%s/c.sock --endpoint-file %s/c.ep --secret-file %s/secret --out %s/net", d, d, run,
             d, d, d, d);
    snprintf(path, sizeof path, "%s/c.log", d);
    pid_t c = loco_test_start(cmd, path);
    snprintf(path, sizeof path, "%s/c.ep", d);
    CHECK(endpoint_of(path, ep, sizeof ep) == 0, "no endpoint from the coordinator");
    snprintf(cmd, sizeof cmd, "worker --connect %s --secret-file %s/secret --train-shard %s/s.train.bin "
             "--threads 1 --timeout 60 --fault-value 3e38", ep, d, d);
    snprintf(path, sizeof path, "%s/w0.log", d);
    pid_t w = loco_test_start(cmd, path);
    CHECK(loco_test_finish(c, 60) == 0, "the coordinator failed");
    CHECK(loco_test_finish(w, 10) == 0, "the worker failed");
    snprintf(path, sizeof path, "%s/c.log", d);
    CHECK(file_has(path, "push 3 (worker 0): dropped"), "the coordinator did not log the drops");
    snprintf(a, sizeof a, "%s/sim/model.safetensors", d);
    snprintf(b, sizeof b, "%s/net/model.safetensors", d);
    CHECK(same_finite_params(a, b), "the network's model differs from the simulator's, or is not finite");
    loco_test_rmdir(d);
}
