/*
 * `loco env list | run | demos`: the web tasks from the command line
 * (docs/env.md); render and bench live in env_render.c and env_bench.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/env_cmd.h"

#define CMD "loco env"

int loco__env_parse(const void *specs, int n, int argc, char **argv, const char *head) {
    char err[512];
    int r = args_parse(specs, n, argc, argv, head, err, sizeof err);
    if (r < 0) fprintf(stderr, CMD ": %s\n", err);
    return r < 0 ? 2 : r == 1 ? 1 : 0;
}

int loco__env_tasks_arg(const char *cmd, const char *s, int *ids) {
    if (!strcmp(s, "all")) {
        for (int t = 0; t < loco_env_task_count(); t++) ids[t] = t;
        return loco_env_task_count();
    }
    int t = loco_env_task_find(s);
    if (t < 0) {
        fprintf(stderr, "%s: unknown task '%s' (see loco env list)\n", cmd, s);
        return -1;
    }
    ids[0] = t;
    return 1;
}

void loco__env_random_action(loco_rng *rng, const loco_env_obs *obs, loco_env_action *a) {
    memset(a, 0, sizeof *a);
    a->type = (int32_t)(loco_rng_u64(rng) % LOCO_ENV_NUM_CCNET_TYPES);
    a->x = (int32_t)(loco_rng_u64(rng) % LOCO_ENV_BINS);
    a->y = (int32_t)(loco_rng_u64(rng) % LOCO_ENV_BINS);
    a->key = (int32_t)(loco_rng_u64(rng) % LOCO_ENV_NUM_KEYS);
    a->field = (int32_t)(loco_rng_u64(rng) % (uint64_t)(obs->n_fields + 1));
}

/* ---------------------------------------------------------------- list */

static int cmd_list(int argc, char **argv) {
    int r = loco__env_parse(NULL, 0, argc, argv, "usage: " CMD " list\n\nPrints every task with its instruction and DOM size at seed 0.");
    if (r) return r == 1 ? 0 : r;
    static loco_env_obs obs;
    loco_env_action act;
    float rew;
    uint8_t te, tr, su;
    int32_t er;
    loco_env_buffers b = {&obs, NULL, &act, &rew, &te, &tr, &su, &er};
    printf("%-4s %-28s %5s %6s  %s\n", "id", "task", "elems", "fields", "instruction (seed 0)");
    for (int t = 0; t < loco_env_task_count(); t++) {
        loco_env_config c = {.num_envs = 1, .task = t};
        loco_env *e;
        char msg[256];
        if (loco_env_create(&e, &c, &b, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); return 1; }
        loco_env_reset_one(e, 0, 0);
        printf("%-4d %-28s %5d %6d  %s\n", t, loco_env_task_name(t), obs.n_elems, obs.n_fields, obs.utterance);
        loco_env_free(e);
    }
    return 0;
}

/* ---------------------------------------------------------------- run */

typedef struct { int episodes, wins, timeouts; double ret, steps; } tally;

/* Runs `episodes` episodes of task t with the policy (0 random, 1 oracle)
 * over n envs; seeds are 0..episodes-1 (instance) so runs are comparable. */
static int run_task(int t, int policy, int episodes, uint64_t seed, float step_ms, int reward, tally *out,
                    loco_env_episode *rec, loco_env_action *acts, uint64_t *digs, int max_rec_steps) {
    static loco_env_obs obs;
    loco_env_action act;
    float rew;
    uint8_t te, tr, su;
    int32_t er;
    loco_env_buffers b = {&obs, NULL, &act, &rew, &te, &tr, &su, &er};
    loco_env_config c = {.num_envs = 1, .task = t, .seed = seed, .step_ms = step_ms, .reward = reward};
    loco_env *e;
    loco_env_demo *d;
    char msg[256];
    if (loco_env_create(&e, &c, &b, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); return 1; }
    if (loco_env_demo_create(&d, 1)) { loco_env_free(e); fprintf(stderr, CMD ": out of memory\n"); return 1; }
    loco_rng rng;
    loco_rng_seed(&rng, seed ^ 0x5EEDull);
    memset(out, 0, sizeof *out);
    int used = 0;
    for (int k = 0; k < episodes; k++) {
        uint64_t inst = seed + (uint64_t)k;
        loco_env_reset_one(e, 0, inst);
        loco_env_demo_reset(d, 0, inst ^ 0xD3A0ull);
        int n = 0;
        for (;;) {
            if (policy) loco_env_demo_act(d, 0, &obs, &act);
            else loco__env_random_action(&rng, &obs, &act);
            if (rec && used + n < max_rec_steps) acts[used + n] = act;
            loco_env_step(e);
            if (rec && used + n < max_rec_steps) digs[used + n] = loco_env_obs_digest(&obs);
            n++;
            if (te || tr) break;
        }
        out->episodes++;
        out->wins += su;
        out->timeouts += tr;
        out->ret += rew;
        out->steps += n;
        if (rec) {
            if (used + n > max_rec_steps) { fprintf(stderr, CMD ": too many steps to record\n"); break; }
            loco_env_episode *ep = &rec[k];
            snprintf(ep->task, sizeof ep->task, "%s", loco_env_task_name(t));
            ep->seed = inst; ep->step_ms = step_ms; ep->ret = rew; ep->success = su; ep->n_steps = n;
            ep->actions = acts + used; ep->digests = digs + used;
            used += n;
        }
    }
    loco_env_demo_free(d);
    loco_env_free(e);
    return 0;
}

static int parse_policy(const char *s) {
    if (!strcmp(s, "random")) return 0;
    if (!strcmp(s, "oracle")) return 1;
    fprintf(stderr, CMD ": --policy must be random or oracle, not '%s'\n", s);
    return -1;
}

static int cmd_run(int argc, char **argv) {
    const char *task = "all", *policy_s = "oracle";
    int episodes = 100, reward = 0;
    uint64_t seed = 0;
    float step_ms = 100;
    arg_spec specs[] = {
        {"task", ARG_STR, &task, 0, 0, "a task name, or all"},
        {"policy", ARG_STR, &policy_s, 0, 0, "oracle (the scripted demonstrator) or random (uniform valid actions)"},
        {"episodes", ARG_INT, &episodes, 1, 1e7, "episodes per task (instance seeds seed .. seed+episodes-1)"},
        {"seed", ARG_U64, &seed, 0, 0, "first instance seed"},
        {"step-ms", ARG_FLOAT, &step_ms, 1, 10000, "simulated milliseconds per step"},
        {"reward", ARG_INT, &reward, 0, 2, "0 time-discounted, 1 raw, 2 binary"},
    };
    int r = loco__env_parse(specs, 6, argc, argv, "usage: " CMD " run [flags]\n\nRuns a policy and prints a per-task success table.");
    if (r) return r == 1 ? 0 : r;
    int policy = parse_policy(policy_s), ids[256];
    if (policy < 0) return 2;
    int nt = loco__env_tasks_arg(CMD, task, ids);
    if (nt < 0) return 2;
    printf("%-28s %8s %8s %8s %8s %8s\n", "task", "episodes", "success", "return", "steps", "timeouts");
    tally all = {0};
    for (int k = 0; k < nt; k++) {
        tally tl;
        if (run_task(ids[k], policy, episodes, seed, step_ms, reward, &tl, NULL, NULL, NULL, 0)) return 1;
        printf("%-28s %8d %7.1f%% %8.3f %8.1f %8d\n", loco_env_task_name(ids[k]), tl.episodes,
               100.0 * tl.wins / tl.episodes, tl.ret / tl.episodes, tl.steps / tl.episodes, tl.timeouts);
        fflush(stdout);
        all.episodes += tl.episodes; all.wins += tl.wins; all.ret += tl.ret; all.steps += tl.steps; all.timeouts += tl.timeouts;
    }
    if (nt > 1)
        printf("%-28s %8d %7.1f%% %8.3f %8.1f %8d\n", "all", all.episodes, 100.0 * all.wins / all.episodes,
               all.ret / all.episodes, all.steps / all.episodes, all.timeouts);
    return 0;
}

/* ---------------------------------------------------------------- demos */

/* Replays every episode of a file and compares each observation digest. */
static int check_file(const char *path) {
    loco_env_episode *eps;
    int n;
    char msg[512];
    if (loco_env_demos_read(path, &eps, &n, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); return 1; }
    static loco_env_obs obs;
    loco_env_action act;
    float rew;
    uint8_t te, tr, su;
    int32_t er;
    loco_env_buffers b = {&obs, NULL, &act, &rew, &te, &tr, &su, &er};
    int bad = 0, wins = 0;
    for (int k = 0; k < n; k++) {
        loco_env_config c = {.num_envs = 1, .task = loco_env_task_find(eps[k].task), .step_ms = eps[k].step_ms};
        loco_env *e;
        if (loco_env_create(&e, &c, &b, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); free(eps); return 1; }
        loco_env_reset_one(e, 0, eps[k].seed);
        int same = 1;
        for (int s = 0; s < eps[k].n_steps; s++) {
            act = eps[k].actions[s];
            loco_env_step(e);
            same &= loco_env_obs_digest(&obs) == eps[k].digests[s];
        }
        if (!same) { bad++; fprintf(stderr, CMD ": episode %d (%s seed %llu) does not replay\n", k, eps[k].task,
                                    (unsigned long long)eps[k].seed); }
        wins += eps[k].success;
        loco_env_free(e);
    }
    printf("%s: %d episodes, %d successes, %d replay bit for bit\n", path, n, wins, n - bad);
    free(eps);
    return bad ? 1 : 0;
}

static int cmd_demos(int argc, char **argv) {
    const char *task = "all", *out = "demos.bin", *check = "";
    int episodes = 100;
    uint64_t seed = 0;
    float step_ms = 100;
    arg_spec specs[] = {
        {"task", ARG_STR, &task, 0, 0, "a task name, or all"},
        {"episodes", ARG_INT, &episodes, 1, 100000, "demonstrations per task"},
        {"seed", ARG_U64, &seed, 0, 0, "first instance seed"},
        {"step-ms", ARG_FLOAT, &step_ms, 1, 10000, "simulated milliseconds per step"},
        {"out", ARG_STR, &out, 0, 0, "demonstration file to write (docs/env.md)"},
        {"check", ARG_STR, &check, 0, 0, "instead: replay this file and verify every observation digest"},
    };
    int r = loco__env_parse(specs, 6, argc, argv,
                            "usage: " CMD " demos [flags]\n\nRecords the scripted demonstrator's episodes to a file, or checks one.");
    if (r) return r == 1 ? 0 : r;
    if (check[0]) return check_file(check);
    int ids[256], nt = loco__env_tasks_arg(CMD, task, ids);
    if (nt < 0) return 2;
    int per = episodes, max_steps = per * 120;
    loco_env_episode *eps = calloc((size_t)nt * (size_t)per, sizeof *eps);
    loco_env_action *acts = malloc((size_t)nt * (size_t)max_steps * sizeof *acts);
    uint64_t *digs = malloc((size_t)nt * (size_t)max_steps * sizeof *digs);
    if (!eps || !acts || !digs) { free(eps); free(acts); free(digs); fprintf(stderr, CMD ": out of memory\n"); return 1; }
    int wins = 0;
    for (int k = 0; k < nt; k++) {
        tally tl;
        if (run_task(ids[k], 1, per, seed, step_ms, 0, &tl, eps + (size_t)k * per, acts + (size_t)k * max_steps,
                     digs + (size_t)k * max_steps, max_steps)) { free(eps); free(acts); free(digs); return 1; }
        wins += tl.wins;
    }
    char msg[512];
    int err = loco_env_demos_write(out, eps, nt * per, msg, sizeof msg);
    if (err) fprintf(stderr, CMD ": %s\n", msg);
    else printf("wrote %s: %d episodes of %d tasks, %d successes\n", out, nt * per, nt, wins);
    free(eps); free(acts); free(digs);
    return err ? 1 : 0;
}

/* ---------------------------------------------------------------- dispatch */

static void usage(FILE *f) {
    fprintf(f, "usage: " CMD " <list|run|demos|render|bench> [flags]\n\n"
               "  list    the tasks, their instructions and DOM sizes\n"
               "  run     a policy (oracle or random) over episodes; a per-task success table\n"
               "  demos   record the demonstrator to a file (--out), or replay-check one (--check)\n"
               "  render  one episode as PNG frames and a self-contained HTML replay\n"
               "  bench   steps per second on one thread, DOM only and with pixels\n"
               "  serve   a person plays a task in their browser; episodes recorded (docs/browser.md)\n\n"
               "Run '" CMD " <subcommand> --help' for its flags.\n");
}

int loco_cmd_env(int argc, char **argv) {
    if (argc < 1) { usage(stderr); return 2; }
    if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) { usage(stdout); return 0; }
    if (!strcmp(argv[0], "list")) return cmd_list(argc - 1, argv + 1);
    if (!strcmp(argv[0], "run") && loco__env_wants_backend(argc - 1, argv + 1)) return loco__env_run_backend(argc - 1, argv + 1);
    if (!strcmp(argv[0], "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[0], "serve")) return loco__env_serve(argc - 1, argv + 1);
    if (!strcmp(argv[0], "demos")) return cmd_demos(argc - 1, argv + 1);
    if (!strcmp(argv[0], "render")) return loco__env_render(argc - 1, argv + 1);
    if (!strcmp(argv[0], "bench")) return loco__env_bench(argc - 1, argv + 1);
    fprintf(stderr, CMD ": unknown subcommand '%s' (see " CMD " --help)\n", argv[0]);
    return 2;
}
