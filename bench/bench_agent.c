/*
 * bench_agent: one behavioural-cloning training step of the agent's small
 * configuration (forward, backward through time, Adam), loco against the
 * same network in PyTorch on CPU (bench/torch_agent.py runs tests/ref_agent.py,
 * the re-implementation the tests check loco against), measured in the same
 * run on the same model and batch, fp32, the same thread count.
 *
 *   build/bench_agent [--obs dom|pixels|both] [--batch B] [--unroll T]
 *                     [--steps S] [--warmup W] [--threads N] [--torch 0|1]
 *   build/bench_agent --act N [--obs O] [--steps S] [--warmup W] [--threads N]
 *
 * The batch is random (tests/agent_fixture.c): n_dom uniform in [0, max_dom],
 * n_fields in [0, max_fields], words per string in [1, max_words].  Prints
 *   loco  samples_per_s=<median> step_s=<median>
 *   torch samples_per_s=<median> step_s=<median>
 *   ratio_vs_torch=<loco / torch>
 *
 * With --act N it measures acting instead: N environments of the web tasks
 * (environment i runs task i mod the task count, so every task is in the
 * mix) stepped by the policy as `loco agent eval` steps them (encode, one
 * forward pass of N sequences of one step, choose, step the environments;
 * loco_agent_rollout), S timed steps after W untimed ones.  The network is
 * freshly initialised: its actions are as costly to run as a trained
 * agent's, and episodes end by the task's clock or its predicate and
 * restart automatically.  Prints
 *   act agent_steps_per_s=<N x S / wall-clock> per_cpu_s=<N x S / CPU seconds>
 *       policy_s=<share of the wall-clock> env_s=<share>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "loco/agent.h"
#include "loco/agent_env.h"
#include "loco/env.h"
/* The batch generator and the reference's file writer, shared with the tests. */
#include "../tests/agent_fixture.c"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
/* CPU time of the whole process (every thread): on a shared machine, work per
 * core-second is the figure that does not depend on the other jobs. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int act_bench(const char *obs, int N, int steps, int warmup, int threads) {
    loco_agent_config c;
    loco_agent_config_small(&c);
    c.obs = !strcmp(obs, "pixels") ? LOCO_OBS_PIXELS : !strcmp(obs, "both") ? LOCO_OBS_BOTH : LOCO_OBS_DOM;
    loco_threads_set(threads);
    loco_agent *m;
    loco_agent_rollout *r;
    char msg[256];
    if (loco_agent_create(&m, &c, N, 1, 1, msg, sizeof msg)) { fprintf(stderr, "bench_agent: %s\n", msg); return 1; }
    int *task = malloc(N * sizeof *task);
    for (int i = 0; i < N; i++) task[i] = i % loco_env_task_count();
    loco_env_config ec = {.num_envs = N, .task_ids = task, .seed = 1, .threads = threads};
    if (loco_agent_rollout_create(&r, m, &ec, msg, sizeof msg)) { fprintf(stderr, "bench_agent: %s\n", msg); return 1; }
    loco_agent_rollout_reset(r, NULL);
    double pol = 0, env = 0, cpu = 0;
    for (int s = 0; s < warmup + steps; s++) {
        if (s == warmup) cpu = cpu_s();
        double t0 = now_s();
        if (loco_agent_rollout_act(r, NULL, msg, sizeof msg)) { fprintf(stderr, "bench_agent: %s\n", msg); return 1; }
        double t1 = now_s();
        loco_env_step(loco_agent_rollout_env(r));
        double t2 = now_s();
        if (s >= warmup) { pol += t1 - t0; env += t2 - t1; }
    }
    cpu = cpu_s() - cpu;
    printf("act agent_steps_per_s=%.1f per_cpu_s=%.1f policy_s=%.3f env_s=%.3f envs=%d steps=%d obs=%s threads=%d "
           "tasks=%d\n", (double)N * steps / (pol + env), (double)N * steps / cpu, pol / (pol + env), env / (pol + env),
           N, steps, obs, threads,
           N < loco_env_task_count() ? N : loco_env_task_count());
    loco_agent_rollout_free(r);
    loco_agent_free(m);
    free(task);
    return 0;
}

int main(int argc, char **argv) {
    const char *obs = "dom";
    int B = 16, T = 16, steps = 5, warmup = 1, threads = 2, torch = 1, act = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--obs")) obs = argv[i + 1];
        else if (!strcmp(argv[i], "--batch")) B = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--unroll")) T = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--torch")) torch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--act")) act = atoi(argv[i + 1]);
        else { fprintf(stderr, "bench_agent: unknown flag %s\n", argv[i]); return 2; }
    }
    if (B < 1 || T < 1 || steps < 1 || warmup < 0 || threads < 1 || act < 0) {
        fprintf(stderr, "bench_agent: bad sizes\n");
        return 2;
    }
    if (act) return act_bench(obs, act, steps, warmup, threads);
    loco_agent_config c;
    loco_agent_config_small(&c);
    c.obs = !strcmp(obs, "pixels") ? LOCO_OBS_PIXELS : !strcmp(obs, "both") ? LOCO_OBS_BOTH : LOCO_OBS_DOM;
    loco_threads_set(threads);
    loco_agent *m;
    char msg[256];
    if (loco_agent_create(&m, &c, B, T, 1, msg, sizeof msg)) { fprintf(stderr, "bench_agent: %s\n", msg); return 1; }
    agent_fixture f;
    agent_fixture_batch(&f, &c, B, T, 7);
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, 1000);
    oc.lr = 1e-4f;
    oc.weight_decay = 0;
    oc.grad_clip = 0;
    double *ts = malloc(steps * sizeof *ts);
    for (int s = 0; s < warmup + steps; s++) {
        double t0 = now_s();
        if (loco_agent_forward(m, &f.b, msg, sizeof msg)) { fprintf(stderr, "bench_agent: %s\n", msg); return 1; }
        loco_agent_zero_grad(m);
        loco_agent_backward(m);
        loco_agent_adamw_step(m, &oc, s, NULL);
        if (s >= warmup) ts[s - warmup] = now_s() - t0;
    }
    qsort(ts, steps, sizeof *ts, cmp);
    double loco_step = ts[steps / 2];
    printf("loco  samples_per_s=%.1f step_s=%.4f params=%zu batch=%dx%d obs=%s threads=%d\n", B * T / loco_step,
           loco_step, loco_agent_num_params(m), B, T, obs, threads);
    fflush(stdout);
    int rc = 0;
    if (torch) {
        char in[] = "/tmp/loco_bench_agent_XXXXXX";
        int fd = mkstemp(in);
        close(fd);
        agent_fixture_write(in, m, &f);
        char cmd[1024];
        const char *py = getenv("LOCO_BENCH_PYTHON") ? getenv("LOCO_BENCH_PYTHON") : "/usr/bin/python3";
        snprintf(cmd, sizeof cmd, "%s bench/torch_agent.py %s --steps %d --warmup %d --threads %d", py, in, steps,
                 warmup, threads);
        FILE *p = popen(cmd, "r");
        char line[512] = "";
        double tsps = 0;
        while (p && fgets(line, sizeof line, p)) {
            fputs(line, stdout);
            char *q = strstr(line, "samples_per_s=");
            if (q) tsps = atof(q + 14);
        }
        rc = p ? pclose(p) : -1;
        unlink(in);
        if (rc == 0 && tsps > 0) printf("ratio_vs_torch=%.2f\n", B * T / loco_step / tsps);
        else fprintf(stderr, "bench_agent: the PyTorch side failed (%s)\n", cmd);
    }
    free(ts);
    agent_fixture_free(&f);
    loco_agent_free(m);
    return rc != 0;
}
