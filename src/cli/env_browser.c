/*
 * `loco env run --backend native|browser|both`: the same policy on the
 * native engine, on real pages in headless Chromium (docs/browser.md), or on
 * both in one run for a parity table: success over the same instance seeds,
 * DOM size at reset, steps per second of each backend.  Browsers run in
 * parallel (--envs), one per thread; each owns a slice of the seeds.
 * Steps per second count the time inside step calls only (the action and
 * the next observation), as MiniWoB++'s measured env.step rates do.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/env_cmd.h"
#include "cli/agent_cmd.h"
#include "cli/args.h"
#include "loco/agent.h"
#include "loco/agent_env.h"
#include "loco/browser.h"

#define CMD "loco env run"

typedef struct {
    int episodes, wins, trunc, faults, elems0;
    double steps, secs;
} tally;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int loco__env_wants_backend(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--backend") || !strncmp(argv[i], "--backend=", 10)) return 1;
    return 0;
}

/* The policy: the scripted demonstrator, uniformly random valid actions,
 * or a trained agent (--checkpoint), one per backend runner (thread). */
enum { P_ORACLE, P_RANDOM, P_AGENT };
typedef struct {
    int kind;
    loco_env_demo *demo;
    loco_rng rng;
    loco_agent *m;
    loco_agent_batch_buf bb;
} policy;

static const char *g_ckpt;   /* --checkpoint, read by each runner */

/* Ctrl-C or a kill ends the browsers too, then the process as the signal would. */
static void on_signal(int sig) {
    loco_browser_kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int policy_open(policy *p, int kind, uint64_t seed) {
    memset(p, 0, sizeof *p);
    p->kind = kind;
    loco_rng_seed(&p->rng, seed);
    if (loco_env_demo_create(&p->demo, 1)) return -1;
    if (kind != P_AGENT) return 0;
    char msg[512] = "out of memory";
    if (loco_agent_load(g_ckpt, &p->m, 1, 1, NULL, msg, sizeof msg) ||
        loco_agent_env_check(loco_agent_get_config(p->m), msg, sizeof msg) ||
        loco_agent_batch_buf_alloc(&p->bb, loco_agent_get_config(p->m), 1, 1)) {
        fprintf(stderr, CMD ": %s\n", msg);
        return -1;
    }
    return 0;
}

static void policy_close(policy *p) {
    loco_env_demo_free(p->demo);
    if (p->m) { loco_agent_batch_buf_free(&p->bb); loco_agent_free(p->m); }
}

static void policy_reset(policy *p, uint64_t seed) {
    loco_env_demo_reset(p->demo, 0, seed);   /* the agent's state resets itself at step 0 */
}

static void act(policy *p, const loco_env_obs *o, const uint8_t *frame, loco_env_action *a) {
    if (p->kind == P_ORACLE && o->task >= 0) { loco_env_demo_act(p->demo, 0, o, a); return; }
    if (p->kind != P_AGENT) { loco__env_random_action(&p->rng, o, a); return; }
    char msg[256];
    if (loco__agent_step(p->m, &p->bb, o, frame, NULL, a, msg, sizeof msg)) memset(a, 0, sizeof *a);   /* a no-op */
}

static int run_native(int t, int kind, int episodes, uint64_t seed, int max_steps, int pixels, tally *out) {
    static loco_env_obs obs;
    static uint8_t frame[LOCO_ENV_H * LOCO_ENV_W * 3];
    loco_env_action a;
    float rew;
    uint8_t te, tr, su;
    int32_t er;
    loco_env_buffers b = {&obs, pixels ? frame : NULL, &a, &rew, &te, &tr, &su, &er};
    loco_env_config c = {.num_envs = 1, .task = t, .seed = seed, .max_steps = max_steps, .pixels = pixels};
    loco_env *e;
    policy pol;
    char msg[256];
    if (loco_env_create(&e, &c, &b, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); return 1; }
    if (policy_open(&pol, kind, seed ^ 0x5EEDull)) { policy_close(&pol); loco_env_free(e); return 1; }
    for (int k = 0; k < episodes; k++) {
        loco_env_reset_one(e, 0, seed + (uint64_t)k);
        policy_reset(&pol, (seed + (uint64_t)k) ^ 0xD3A0ull);
        out->elems0 += obs.n_elems;
        for (;;) {
            act(&pol, &obs, pixels ? frame : NULL, &a);
            double t1 = now_s();
            loco_env_step(e);
            out->secs += now_s() - t1;
            out->steps++;
            if (te || tr) break;
        }
        out->episodes++;
        out->wins += su;
        out->trunc += tr;
    }
    policy_close(&pol);
    loco_env_free(e);
    return 0;
}

/* One browser's share of the episodes: k = first, first + stride, ... */
static int run_browser_slice(const loco_browser_config *bc, const char *task, int kind, int first, int stride,
                             int episodes, uint64_t seed, tally *out) {
    loco_browser *b;
    char msg[512];
    int r = loco_browser_create(&b, bc, msg, sizeof msg);
    if (r) { fprintf(stderr, CMD ": %s\n", msg); return 1; }
    loco_env_obs *obs = malloc(sizeof *obs);
    uint8_t *frame = bc->pixels ? malloc(LOCO_ENV_H * LOCO_ENV_W * 3) : NULL;
    policy pol;
    if (!obs || (bc->pixels && !frame) || policy_open(&pol, kind, (seed ^ 0x5EEDull) + (uint64_t)first)) {
        if (obs && (!bc->pixels || frame)) policy_close(&pol);
        free(obs); free(frame); loco_browser_free(b);
        return 1;
    }
    int failed = 0;
    for (int k = first; k < episodes; k += stride) {
        if ((r = loco_browser_reset(b, task, seed + (uint64_t)k, obs, frame, msg, sizeof msg))) {
            fprintf(stderr, CMD ": %s\n", msg);
            failed = 1;
            break;
        }
        policy_reset(&pol, (seed + (uint64_t)k) ^ 0xD3A0ull);
        out->elems0 += obs->n_elems;
        for (;;) {
            loco_env_action a;
            float rw;
            uint8_t te, tr, su;
            act(&pol, obs, frame, &a);
            double t1 = now_s();
            loco_browser_step(b, &a, obs, frame, &rw, &te, &tr, &su);
            out->secs += now_s() - t1;
            out->steps++;
            if (te || tr) { out->wins += su; out->trunc += tr; break; }
        }
        out->episodes++;
    }
    out->faults = loco_browser_restarts(b);
    policy_close(&pol);
    free(obs);
    free(frame);
    loco_browser_free(b);
    return failed;
}

static int run_browser(const loco_browser_config *bc, const char *task, int kind, int episodes, uint64_t seed,
                       int envs, tally *out) {
    tally part[64];
    int fails = 0;
    memset(part, 0, sizeof part);
#pragma omp parallel for num_threads(envs) schedule(static, 1) reduction(+ : fails)
    for (int i = 0; i < envs; i++) fails += run_browser_slice(bc, task, kind, i, envs, episodes, seed, &part[i]);
    /* steps/s: each browser's steps over its time inside step calls, summed
     * over browsers (they run at once); resets and start-up are not counted */
    memset(out, 0, sizeof *out);
    double rate = 0;
    for (int i = 0; i < envs; i++) {
        out->episodes += part[i].episodes; out->wins += part[i].wins; out->trunc += part[i].trunc;
        out->faults += part[i].faults; out->elems0 += part[i].elems0; out->steps += part[i].steps;
        if (part[i].secs > 0) rate += part[i].steps / part[i].secs;
    }
    out->secs = rate > 0 ? out->steps / rate : 0;
    return fails ? 1 : 0;
}

static void row(const char *backend, const char *task, const tally *t) {
    static int header;
    if (!header++)
        printf("%-8s %-22s %11s %7s %14s %6s %7s %8s %6s\n", "backend", "task", "wins", "success", "95% interval",
               "trunc", "elems0", "steps/s", "faults");
    double p = t->episodes ? (double)t->wins / t->episodes : 0, n = t->episodes;
    /* a 95% Wilson interval on the success rate */
    double z = 1.96, den = 1 + z * z / n, mid = (p + z * z / (2 * n)) / den;
    double half = n > 0 ? z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den : 0;
    printf("%-8s %-22s %5d/%-5d %5.1f%% [%5.1f, %5.1f] %6d %7.1f %8.1f %6d\n", backend, task, t->wins, t->episodes,
           100 * p, 100 * (mid - half), 100 * (mid + half), t->trunc, t->episodes ? (double)t->elems0 / t->episodes : 0,
           t->secs > 0 ? t->steps / t->secs : 0, t->faults);
}

int loco__env_run_backend(int argc, char **argv) {
    const char *backend = "native", *task = "click-test", *policy_s = "oracle", *dir = NULL;
    const char *chromium = NULL, *driver = NULL, *ckpt = NULL;
    int episodes = 20, envs = 1, max_steps = 0, timeout_ms = 20000, pixels = 0;
    uint64_t seed = 0;
    arg_spec specs[] = {
        {"backend", ARG_STR, &backend, 0, 0, "native (the C engine), browser (real pages in Chromium) or both"},
        {"task", ARG_STR, &task, 0, 0, "a task name, or all (browser: every task with a page under --miniwob-dir)"},
        {"policy", ARG_STR, &policy_s, 0, 0, "oracle (the scripted demonstrator), random, or agent (--checkpoint)"},
        {"checkpoint", ARG_STR, &ckpt, 0, 0, "a trained agent (loco agent train) for --policy agent"},
        {"episodes", ARG_INT, &episodes, 1, 1e7, "episodes per task (instance seeds seed .. seed+episodes-1)"},
        {"seed", ARG_U64, &seed, 0, 0, "first instance seed"},
        {"miniwob-dir", ARG_STR, &dir, 0, 0, "MiniWoB++ checkout (scripts/fetch_miniwob.sh) for the browser"},
        {"envs", ARG_INT, &envs, 1, 64, "browsers in parallel, one per thread"},
        {"pixels", ARG_INT, &pixels, 0, 1, "1: a 160x210 frame with every observation (a screenshot in the browser)"},
        {"max-steps", ARG_INT, &max_steps, 0, 1e6, "truncate an episode after this many steps (0: the 10 s clock)"},
        {"timeout-ms", ARG_INT, &timeout_ms, 100, 600000, "a browser that does not answer in this long is restarted"},
        {"chromium", ARG_STR, &chromium, 0, 0, "the Chromium binary (default: chromium on PATH)"},
        {"chromedriver", ARG_STR, &driver, 0, 0, "the chromedriver binary (default: chromedriver on PATH)"},
    };
    int r = loco__env_parse(specs, (int)(sizeof specs / sizeof *specs), argc, argv,
                            "usage: " CMD " --backend native|browser|both [flags]\n\n"
                            "Runs a policy on the native engine, on real MiniWoB++ pages in headless Chromium,\n"
                            "or on both over the same instance seeds, and prints success, DOM size and steps/s.");
    if (r) return r == 1 ? 0 : r;
    int nat = !strcmp(backend, "native") || !strcmp(backend, "both");
    int brw = !strcmp(backend, "browser") || !strcmp(backend, "both");
    if (!nat && !brw) { fprintf(stderr, CMD ": --backend must be native, browser or both\n"); return 2; }
    int kind = !strcmp(policy_s, "oracle") ? P_ORACLE : !strcmp(policy_s, "random") ? P_RANDOM
             : !strcmp(policy_s, "agent") ? P_AGENT : -1;
    if (kind < 0) { fprintf(stderr, CMD ": --policy must be oracle, random or agent\n"); return 2; }
    if ((kind == P_AGENT) != (ckpt != NULL)) { fprintf(stderr, CMD ": --policy agent goes with --checkpoint F\n"); return 2; }
    g_ckpt = ckpt;
    if (kind == P_AGENT) {   /* an agent that sees pixels gets frames on both backends */
        loco_agent *m;
        char msg[512];
        if (loco_agent_load(ckpt, &m, 1, 1, NULL, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); return 1; }
        if (loco_agent_get_config(m)->obs & LOCO_OBS_PIXELS) pixels = 1;
        loco_agent_free(m);
    }
    if (brw && !dir) { fprintf(stderr, CMD ": --backend %s needs --miniwob-dir DIR (scripts/fetch_miniwob.sh)\n", backend); return 2; }
    int *ids = malloc(sizeof(int) * (size_t)loco_env_task_count());
    if (!ids) return 1;
    int n = loco__env_tasks_arg(CMD, task, ids);
    if (n < 0) { free(ids); return 2; }
    loco_browser_config bc = {.miniwob_dir = dir, .chromium = chromium, .chromedriver = driver,
                              .max_steps = max_steps, .timeout_ms = timeout_ms, .pixels = pixels};
    if (brw) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
    }
    int failed = 0;
    for (int k = 0; k < n && !failed; k++) {
        const char *name = loco_env_task_name(ids[k]);
        char path[1024];
        if (brw && loco_browser_page_path(dir, name, path, sizeof path)) {
            if (n == 1) { fprintf(stderr, CMD ": no page for '%s' under %s\n", name, dir); failed = 1; }
            continue;   /* "all": a native task without a real page is skipped */
        }
        tally t;
        if (nat) {
            memset(&t, 0, sizeof t);
            failed |= run_native(ids[k], kind, episodes, seed, max_steps, pixels, &t);
            if (!failed) row("native", name, &t);
        }
        if (brw && !failed) {
            failed |= run_browser(&bc, name, kind, episodes, seed, envs, &t);
            if (!failed) row("browser", name, &t);
        }
        fflush(stdout);
    }
    free(ids);
    return failed;
}
