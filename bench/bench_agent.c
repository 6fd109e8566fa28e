/*
 * bench_agent: one behavioural-cloning training step of the agent's small
 * configuration (forward, backward through time, Adam), loco against the
 * same network in PyTorch on CPU (bench/torch_agent.py runs tests/ref_agent.py,
 * the re-implementation the tests check loco against), measured in the same
 * run on the same model and batch, fp32, the same thread count.
 *
 *   build/bench_agent [--obs dom|pixels|both] [--batch B] [--unroll T]
 *                     [--steps S] [--warmup W] [--threads N] [--torch 0|1]
 *
 * The batch is random (tests/agent_fixture.c): n_dom uniform in [0, max_dom],
 * n_fields in [0, max_fields], words per string in [1, max_words].  Prints
 *   loco  samples_per_s=<median> step_s=<median>
 *   torch samples_per_s=<median> step_s=<median>
 *   ratio_vs_torch=<loco / torch>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "loco/agent.h"
/* The batch generator and the reference's file writer, shared with the tests. */
#include "../tests/agent_fixture.c"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *obs = "dom";
    int B = 16, T = 16, steps = 5, warmup = 1, threads = 2, torch = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--obs")) obs = argv[i + 1];
        else if (!strcmp(argv[i], "--batch")) B = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--unroll")) T = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--torch")) torch = atoi(argv[i + 1]);
        else { fprintf(stderr, "bench_agent: unknown flag %s\n", argv[i]); return 2; }
    }
    if (B < 1 || T < 1 || steps < 1 || warmup < 0 || threads < 1) { fprintf(stderr, "bench_agent: bad sizes\n"); return 2; }
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
