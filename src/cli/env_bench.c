/*
 * `loco env bench`: environment steps per second on one thread, as fast-
 * environment suites report it (one env, uniformly random valid actions,
 * auto-reset, a wall-clock window, the median of several windows), for DOM
 * observations alone and with a rendered frame every step.  Beside steps per
 * wall-clock second it reports steps per second of the thread's own CPU
 * time, which is the per-core figure on a host shared with other work.
 */
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/env_cmd.h"
#include "loco/browser.h"

#define CMD "loco env bench"

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Steps per wall-clock second of task t over `seconds`, pixels on or off,
 * and (in *per_cpu) per second of this thread's CPU time; -1 on error. */
static double window(int t, int pixels, double seconds, uint64_t seed, double *per_cpu) {
    static loco_env_obs obs;
    static uint8_t frame[LOCO_ENV_H * LOCO_ENV_W * 3];
    loco_env_action act;
    float rew;
    uint8_t te, tr, su;
    int32_t er;
    loco_env_buffers b = {&obs, pixels ? frame : NULL, &act, &rew, &te, &tr, &su, &er};
    loco_env_config c = {.num_envs = 1, .task = t, .seed = seed, .pixels = pixels};
    loco_env *e;
    char msg[256];
    if (loco_env_create(&e, &c, &b, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); return -1; }
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    loco_env_reset(e, NULL);
    long steps = 0;
    double t0 = loco_cli_now(), now = t0, c0 = cpu_now();
    while (now - t0 < seconds) {
        for (int k = 0; k < 256; k++) {   /* read the clock every 256 steps */
            loco__env_random_action(&rng, &obs, &act);
            loco_env_step(e);
        }
        steps += 256;
        now = loco_cli_now();
    }
    *per_cpu = (double)steps / (cpu_now() - c0);
    loco_env_free(e);
    return (double)steps / (now - t0);
}

/* Steps per wall-clock second of task t in Chromium (the MiniWoB++ page
 * protocol, pages from dir), with the same random valid actions, auto-reset
 * by hand; the median of `repeats` windows.  0 when the page loop cannot run
 * here (the reason in why), -1 on a failure mid-run. */
static double browser_rate(const char *dir, int t, double seconds, int repeats, char *why, size_t n) {
    char page[4096];
    if (loco_browser_page_path(dir, loco_env_task_name(t), page, sizeof page) != 0) {
        snprintf(why, n, "no page for %s under %s", loco_env_task_name(t), dir);
        return 0;
    }
    loco_browser_config bc = {.miniwob_dir = dir};
    loco_browser *b;
    if (loco_browser_create(&b, &bc, why, n) != LOCO_OK) return 0;
    static loco_env_obs obs;
    loco_env_action act;
    float rew;
    uint8_t te, tr, su;
    loco_rng rng;
    loco_rng_seed(&rng, 1);
    double rate[101];
    uint64_t seed = 1000;
    int err = loco_browser_reset(b, loco_env_task_name(t), seed++, &obs, NULL, why, n);
    for (int q = 0; q < repeats && !err; q++) {
        long steps = 0;
        double t0 = loco_cli_now(), now = t0;
        while (!err && now - t0 < seconds) {
            loco__env_random_action(&rng, &obs, &act);
            if (loco_browser_step(b, &act, &obs, NULL, &rew, &te, &tr, &su) == LOCO_OK) steps++;
            if (te || tr) err = loco_browser_reset(b, loco_env_task_name(t), seed++, &obs, NULL, why, n);
            now = loco_cli_now();
        }
        rate[q] = (double)steps / (now - t0);
    }
    loco_browser_free(b);
    if (err) return -1;
    qsort(rate, (size_t)repeats, sizeof rate[0], cmp);
    return rate[repeats / 2];
}

int loco__env_bench(int argc, char **argv) {
    const char *task = "all", *miniwob = NULL;
    float seconds = 1;
    int repeats = 5, pixels = 2;
    arg_spec specs[] = {
        {"task", ARG_STR, &task, 0, 0, "a task name, or all"},
        {"seconds", ARG_FLOAT, &seconds, 0.01, 600, "length of one timed window (the usual protocol is 10)"},
        {"repeats", ARG_INT, &repeats, 1, 101, "windows per measurement; the median is reported"},
        {"pixels", ARG_INT, &pixels, 0, 2, "0 DOM only, 1 with a frame every step, 2 both"},
        {"miniwob-dir", ARG_STR, &miniwob, 0, 0, "MiniWoB++ pages (a checkout, or tests/data/miniwob_like): also "
                                                 "time the first task's page loop in Chromium, and the ratio"},
    };
    int r = loco__env_parse(specs, 5, argc, argv, "usage: " CMD " [flags]\n\nSteps per second on one thread, random valid actions.");
    if (r) return r == 1 ? 0 : r;
    int ids[256], nt = loco__env_tasks_arg(CMD, task, ids);
    if (nt < 0) return 2;
    printf("%-28s %12s %12s %12s %12s   (one thread, random valid actions, median of %d x %.2fs)\n", "task",
           "DOM wall/s", "DOM cpu/s", "pixel wall/s", "pixel cpu/s", repeats, seconds);
    double *w = malloc((size_t)repeats * sizeof *w), *wc = malloc((size_t)repeats * sizeof *wc);
    double sum[4] = {0, 0, 0, 0}, lo[4] = {1e30, 1e30, 1e30, 1e30};
    if (!w || !wc) { free(w); free(wc); fprintf(stderr, CMD ": out of memory\n"); return 1; }
    for (int k = 0; k < nt; k++) {
        double med[4] = {0, 0, 0, 0};
        for (int px = 0; px < 2; px++) {
            if ((pixels == 0 && px) || (pixels == 1 && !px)) continue;
            for (int q = 0; q < repeats; q++) {
                w[q] = window(ids[k], px, seconds, 1000 + (uint64_t)q, &wc[q]);
                if (w[q] < 0) { free(w); free(wc); return 1; }
            }
            qsort(w, (size_t)repeats, sizeof *w, cmp);
            qsort(wc, (size_t)repeats, sizeof *wc, cmp);
            med[2 * px] = w[repeats / 2];
            med[2 * px + 1] = wc[repeats / 2];
        }
        for (int m = 0; m < 4; m++) { sum[m] += med[m]; if (med[m] < lo[m]) lo[m] = med[m]; }
        printf("%-28s %12.0f %12.0f %12.0f %12.0f\n", loco_env_task_name(ids[k]), med[0], med[1], med[2], med[3]);
        fflush(stdout);
    }
    if (nt > 1) {
        printf("%-28s %12.0f %12.0f %12.0f %12.0f\n", "mean over tasks", sum[0] / nt, sum[1] / nt, sum[2] / nt, sum[3] / nt);
        printf("%-28s %12.0f %12.0f %12.0f %12.0f\n", "slowest task", lo[0], lo[1], lo[2], lo[3]);
    }
    free(w); free(wc);
    if (!miniwob) {
        printf("Chromium MiniWoB++ page loop: not measured (give --miniwob-dir; docs/env.md gives the 45-50 steps/s "
               "reference)\n");
        return 0;
    }
    /* The same task's native rate, measured again right beside the page loop
     * so that the ratio compares one moment of the machine. */
    double cpu, native = window(ids[0], 0, seconds, 1000, &cpu);
    char why[512] = "";
    double page = browser_rate(miniwob, ids[0], seconds < 2 ? 2 : seconds, repeats, why, sizeof why);
    if (page <= 0) {
        fprintf(stderr, CMD ": Chromium page loop: %s\n", why);
        return 1;
    }
    printf("%s: native %.0f steps/s, Chromium page loop %.1f steps/s (median of %d x %.0fs): native / Chromium = %.0f\n",
           loco_env_task_name(ids[0]), native, page, repeats, seconds < 2 ? 2.0 : (double)seconds, native / page);
    return 0;
}
