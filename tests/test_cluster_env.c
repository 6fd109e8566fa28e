/*
 * `loco worker` under a cluster launcher (src/cli/cluster_env.c): with
 * Slurm's, Open MPI's or a Kubernetes indexed Job's variables faked on one
 * host, workers take their rank as their id and find the coordinator, and
 * the run is the simulator's bit for bit; explicit flags win; garbage and
 * disagreeing variables are refused with one line and exit status 2.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "loco/checkpoint.h"
#include "test.h"
#include "proc.h"
#include "util.h"

#define TINY "--layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --eval-every 0 --log-every 1000 " \
             "--eval-batches 1 --threads 1 --lr 3e-3"
#define RUN "--algo diloco --workers 3 --inner-steps 3 --steps 6"

/* The launcher variables every test clears first (the test may itself run
 * under one of these launchers). */
static const char *const launcher_vars[] = {"SLURM_PROCID", "SLURM_JOB_NODELIST", "OMPI_COMM_WORLD_RANK",
                                            "JOB_COMPLETION_INDEX", "LOCO_COORDINATOR", "LOCO_COORDINATOR_PORT"};

/* Starts "$LOCO_BIN args" with the environment changed by env ("NAME=VALUE"
 * strings, NULL-terminated), output to log. */
static pid_t start_env(const char *const *env, const char *args, const char *log) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "exec %s %s > %s 2>&1", loco_test_bin(), args, log);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        for (size_t i = 0; i < sizeof launcher_vars / sizeof launcher_vars[0]; i++) unsetenv(launcher_vars[i]);
        for (int i = 0; env && env[i]; i++) putenv((char *)env[i]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Runs a worker that must stop before training; returns its exit status and
 * its output in out. */
static int worker_env(const char *d, const char *const *env, const char *flags, char *out, size_t n) {
    char args[1024], log[256];
    /* The MAC, whichever endpoint the variables give. */
    snprintf(args, sizeof args, "worker --security mac --secret-file %s/secret --threads 1 --join-timeout 0.3 %s", d,
             flags);
    snprintf(log, sizeof log, "%s/probe.log", d);
    int rc = loco_test_finish(start_env(env, args, log), 20);
    if (loco_test_slurp(log, out, n) < 0) out[0] = 0;
    return rc;
}

static int lines(const char *s) {
    int k = 0;
    for (; *s; s++) k += *s == '\n';
    return k;
}

LOCO_TEST(cluster_env_refusals) {
    char d[64], out[4096];
    if (loco_test_net_scratch(d, "/tmp/loco_clu_XXXXXX", "cluster-test-secret-0123456789")) { FAIL("setup"); return; }
    static const struct { const char *env[3]; const char *says; } bad[] = {
        {{"SLURM_PROCID=1x", "LOCO_COORDINATOR=127.0.0.1:5555"}, "SLURM_PROCID='1x' is not a rank"},
        {{"OMPI_COMM_WORLD_RANK=-1", "LOCO_COORDINATOR=127.0.0.1:5555"}, "OMPI_COMM_WORLD_RANK='-1' is not a rank"},
        {{"JOB_COMPLETION_INDEX=", "LOCO_COORDINATOR=127.0.0.1:5555"}, "JOB_COMPLETION_INDEX='' is not a rank"},
        {{"SLURM_PROCID=1", "OMPI_COMM_WORLD_RANK=2"}, "disagree on this worker's rank"},
        {{"SLURM_PROCID=0", "SLURM_JOB_NODELIST=[01-02]"}, "has no first host"},
        {{"JOB_COMPLETION_INDEX=0", "LOCO_COORDINATOR=tcp://h:99999"}, "LOCO_COORDINATOR: "},
        {{"JOB_COMPLETION_INDEX=0", "LOCO_COORDINATOR_PORT=0"}, "LOCO_COORDINATOR_PORT='0' is not a port"},
        {{"JOB_COMPLETION_INDEX=0"}, "--connect ENDPOINT (or LOCO_COORDINATOR)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = worker_env(d, bad[i].env, "--train-shard x", out, sizeof out);
        CHECK(rc == 2 && strstr(out, bad[i].says) && lines(out) == 1, "%s %s: exit %d, said: %s", bad[i].env[0],
              bad[i].env[1] ? bad[i].env[1] : "", rc, out);
    }
    /* Explicit flags win: with --id and --connect the variables are not read. */
    const char *junk[] = {"SLURM_PROCID=junk", "OMPI_COMM_WORLD_RANK=7", NULL};
    int rc = worker_env(d, junk, "--id 0 --connect tcp://127.0.0.1:1", out, sizeof out);
    CHECK(rc == 1 && !strstr(out, "SLURM_PROCID") && strstr(out, "loco worker:"),
          "flags given: exit %d, said: %s", rc, out);
    /* What each launcher's variables become (the join then times out). */
    static const struct { const char *env[4]; const char *id, *ep; } good[] = {
        {{"SLURM_PROCID=2", "SLURM_JOB_NODELIST=gpu[07-09,12],cpu1"}, "--id 2 from SLURM_PROCID",
         "--connect tcp://gpu07:5555 from SLURM_JOB_NODELIST"},
        {{"SLURM_PROCID=0", "SLURM_JOB_NODELIST=n1,n2", "LOCO_COORDINATOR_PORT=6000"}, "--id 0 from SLURM_PROCID",
         "--connect tcp://n1:6000 from SLURM_JOB_NODELIST"},
        {{"OMPI_COMM_WORLD_RANK=5", "LOCO_COORDINATOR=10.0.0.1:7000"}, "--id 5 from OMPI_COMM_WORLD_RANK",
         "--connect tcp://10.0.0.1:7000 from LOCO_COORDINATOR"},
        {{"JOB_COMPLETION_INDEX=3", "LOCO_COORDINATOR=loco-coordinator"}, "--id 3 from JOB_COMPLETION_INDEX",
         "--connect tcp://loco-coordinator:5555 from LOCO_COORDINATOR"},
        {{"SLURM_PROCID=1", "OMPI_COMM_WORLD_RANK=1", "LOCO_COORDINATOR=ipc:///tmp/none.sock"},
         "--id 1 from SLURM_PROCID", "--connect ipc:///tmp/none.sock from LOCO_COORDINATOR"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        rc = worker_env(d, good[i].env, "--train-shard x --verbose 1", out, sizeof out);
        CHECK(rc == 1 && strstr(out, good[i].id) && strstr(out, good[i].ep), "%s: exit %d, said: %s", good[i].env[0],
              rc, out);
    }
    loco_test_rmdir(d);
}

/* Three workers, one per launcher, join a coordinator on tcp without --id
 * or --connect; each gets the id its rank says and the run is the
 * simulator's bit for bit. */
LOCO_TEST(cluster_env_launchers_run) {
    char d[64], args[2048], log[256], ep[256] = "", err[2048];
    if (loco_test_net_scratch(d, "/tmp/loco_clu_XXXXXX", "cluster-test-secret-0123456789")) { FAIL("setup"); return; }
    snprintf(args, sizeof args, "train " TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin " RUN
             " --out %s/sim", d, d, d);
    CHECK(loco_test_run(args, err, sizeof err) == 0, "simulator: %s", err);
    snprintf(args, sizeof args, "coordinator " TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin " RUN
             " --listen tcp://127.0.0.1:* --endpoint-file %s/c.ep --key-file %s/c.key --allow-file %s/allow --out %s/net",
             d, d, d, d, d, d);
    snprintf(log, sizeof log, "%s/c.log", d);
    pid_t c = loco_test_start(args, log);
    snprintf(log, sizeof log, "%s/c.ep", d);
    for (int i = 0; i < 200 && loco_test_slurp(log, ep, sizeof ep) <= 0; i++) usleep(50000);
    const char *port = strrchr(ep, ':');
    CHECK(port != NULL, "no endpoint from the coordinator");
    if (!port) {
        kill(c, SIGKILL);
        waitpid(c, NULL, 0);
        loco_test_rmdir(d);
        return;
    }
    static char portv[64], coord[128];
    snprintf(portv, sizeof portv, "LOCO_COORDINATOR_PORT=%s", port + 1);
    snprintf(coord, sizeof coord, "LOCO_COORDINATOR=127.0.0.1:%s", port + 1);
    const char *slurm[] = {"SLURM_PROCID=2", "SLURM_JOB_NODELIST=127.0.0.1", portv, NULL};
    const char *mpi[] = {"OMPI_COMM_WORLD_RANK=0", coord, NULL};
    const char *k8s[] = {"JOB_COMPLETION_INDEX=1", coord, NULL};
    const char *const *envs[3] = {slurm, mpi, k8s};
    const int want[3] = {2, 0, 1};
    pid_t w[3];
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "worker --key-file %s/w.key --server-key %s/c.key.pub --train-shard %s/s.train.bin "
                 "--threads 1 --timeout 60 --verbose 1", d, d, d);
        snprintf(log, sizeof log, "%s/w%d.log", d, i);
        w[i] = start_env(envs[i], args, log);
    }
    CHECK(loco_test_finish(c, 60) == 0, "the coordinator failed");
    for (int i = 0; i < 3; i++) {
        char out[4096], says[64];
        CHECK(loco_test_finish(w[i], 10) == 0, "worker %d failed", i);
        snprintf(log, sizeof log, "%s/w%d.log", d, i);
        snprintf(says, sizeof says, "as worker %d of 3", want[i]);
        CHECK(loco_test_slurp(log, out, sizeof out) > 0 && strstr(out, says), "worker %d is not %s: %s", i, says,
              out);
    }
    char a[256], b[256];
    size_t Pa = 0, Pb = 0;
    snprintf(a, sizeof a, "%s/sim/model.safetensors", d);
    snprintf(b, sizeof b, "%s/net/model.safetensors", d);
    float *pa = loco_test_params_of(a, &Pa), *pb = loco_test_params_of(b, &Pb);
    CHECK(pa && pb && Pa == Pb && memcmp(pa, pb, Pa * sizeof(float)) == 0,
          "the launched run's parameters differ from the simulator's");
    free(pa);
    free(pb);
    loco_test_rmdir(d);
}
