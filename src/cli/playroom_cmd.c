/*
 * `loco playroom list | run | record | replay | render | bench`: the
 * Playroom from the command line (docs/playroom.md).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/playroom_cmd.h"
#include "loco/loco.h"
#include "loco/playroom.h"

#define CMD "loco playroom"

static int parse_split(const char *s) {
    if (!strcmp(s, "all")) return LOCO_PLAYROOM_SPLIT_ALL;
    if (!strcmp(s, "train")) return LOCO_PLAYROOM_SPLIT_TRAIN;
    if (!strcmp(s, "test")) return LOCO_PLAYROOM_SPLIT_TEST;
    return -1;
}

/* "any" or a family name; -2 if neither. */
static int parse_family(const char *s) {
    if (!strcmp(s, "any")) return -1;
    int f = loco_playroom_family_parse(s);
    return f >= 0 ? f : -2;
}

int loco__playroom_choice(const char *split_s, const char *family_s, int *split, int *family) {
    *split = parse_split(split_s), *family = parse_family(family_s);
    if (*split < 0) { fprintf(stderr, CMD ": --split must be train, test or all, not '%s'\n", split_s); return 2; }
    if (*family == -2) {
        fprintf(stderr, CMD ": --family must be any or one of lift put go bring position colour count exists where, not '%s'\n",
                family_s);
        return 2;
    }
    if (*split == LOCO_PLAYROOM_SPLIT_TEST && *family == LOCO_PLAYROOM_GO) {
        fprintf(stderr, CMD ": the test split has no go prompts (go names no object)\n");
        return 2;
    }
    return 0;
}

static int parse(const arg_spec *specs, int n, int argc, char **argv, const char *head) {
    char err[512];
    int r = args_parse(specs, n, argc, argv, head, err, sizeof err);
    if (r < 0) fprintf(stderr, CMD ": %s\n", err);
    return r < 0 ? 2 : r == 1 ? 1 : 0;
}

/* ---------------------------------------------------------------- list */

static int cmd_list(int argc, char **argv) {
    int r = parse(NULL, 0, argc, argv, "usage: " CMD " list\n\nPrints the prompt families, the things in the room and the held-out set.");
    if (r) return r == 1 ? 0 : r;
    printf("families:");
    for (int f = 0; f < LOCO_PLAYROOM_N_FAMILY; f++) printf(" %s", loco_playroom_family_name(f));
    printf("\ncategories:");
    for (int c = 0; c < LOCO_PLAYROOM_N_CATEGORY; c++) printf(" %s", loco_playroom_category_name(c));
    printf("\ncolours:");
    for (int c = 0; c < LOCO_PLAYROOM_N_COLOUR; c++) printf(" %s", loco_playroom_colour_name(c));
    printf("\nfurniture:");
    for (int k = 0; k < LOCO_PLAYROOM_N_FURNITURE; k++) printf(" %s", loco_playroom_furniture_name(k));
    printf("\nmotor actions: noop forward backward turn_left turn_right grab release\n");
    printf("vocabulary: %d tokens (0 silent, 1 end of message)\n", loco_playroom_vocab_size());
    printf("held-out objects (never in the train split):");
    for (int c = 0; c < LOCO_PLAYROOM_N_COLOUR; c++)
        for (int k = 0; k < LOCO_PLAYROOM_N_CATEGORY; k++)
            if (loco_playroom_heldout_object(c, k))
                printf(" %s-%s", loco_playroom_colour_name(c), loco_playroom_category_name(k));
    printf("\nheld-out prompts (never in the train split):");
    for (int f = 0; f < LOCO_PLAYROOM_N_FAMILY; f++)
        for (int k = 0; k < LOCO_PLAYROOM_N_CATEGORY; k++)
            if (loco_playroom_heldout_prompt(f, k))
                printf(" %s-%s", loco_playroom_family_name(f), loco_playroom_category_name(k));
    printf("\nobservation: %d bytes symbolic, %dx%d RGB egocentric view\n", LOCO_PLAYROOM_OBS_BYTES,
           LOCO_PLAYROOM_VIEW_W, LOCO_PLAYROOM_VIEW_H);
    return 0;
}

/* ---------------------------------------------------------------- run and record */

typedef struct {
    int episodes, max_steps, threads;
    uint64_t seed;
    const char *split, *family, *out;
} play_args;

/* Plays episodes seed, seed + 1, ... with both seats scripted, in parallel;
 * eps (n entries) receives them.  Returns 0 or 1 (printed). */
static int play_all(const play_args *a, int split, int family, loco_playroom_episode *eps) {
    int threads = a->threads > 0 ? a->threads : 1, failed = 0, done = 0;
    double t0 = loco_cli_now();
#pragma omp parallel num_threads(threads)
    {
        loco_playroom_env *e = NULL;
        if (loco_playroom_env_create(&e)) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 16)
        for (int i = 0; i < a->episodes; i++) {
            if (!e) continue;
            loco_playroom_play(e, &eps[i], a->seed + (uint64_t)i, split, family, a->max_steps);
            int d;
#pragma omp atomic capture
            d = ++done;
            if (omp_get_thread_num() == 0 && a->episodes >= 2000 && d % 500 < threads)
                fprintf(stderr, "\r  %d/%d episodes (%.0f/s)", d, a->episodes, d / (loco_cli_now() - t0 + 1e-9));
        }
        loco_playroom_env_free(e);
    }
    if (a->episodes >= 2000) fprintf(stderr, "\n");
    if (failed) fprintf(stderr, CMD ": out of memory\n");
    return failed;
}

static void play_specs(play_args *a, arg_spec *s, int *n, int with_out) {
    *a = (play_args){1000, 200, 1, 1, "train", "any", NULL};
    arg_spec base[] = {
        {"episodes", ARG_INT, &a->episodes, 1, 10000000, "number of episodes"},
        {"seed", ARG_U64, &a->seed, 0, 0, "first episode's seed (episode i uses seed + i)"},
        {"split", ARG_STR, &a->split, 0, 0, "train (no held-out combination), test (only those) or all"},
        {"family", ARG_STR, &a->family, 0, 0, "any, or one family: lift put go bring position colour count exists where"},
        {"max-steps", ARG_INT, &a->max_steps, 1, LOCO_PLAYROOM_MAX_STEPS, "truncation"},
        {"threads", ARG_INT, &a->threads, 1, 1024, "threads over episodes"},
        {"out", ARG_STR, &a->out, 0, 0, "the episode file to write"},
    };
    *n = with_out ? 7 : 6;
    memcpy(s, base, sizeof base);
}

/* The Wilson score interval of k successes in n at 95% (z = 1.96):
 * (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n). */
static void wilson(long k, long n, double *lo, double *hi) {
    double z = 1.96, p = (double)k / (double)n, d = 1.0 + z * z / (double)n;
    double c = p + z * z / (2.0 * (double)n);
    double h = z * sqrt(p * (1.0 - p) / (double)n + z * z / (4.0 * (double)n * (double)n));
    *lo = (c - h) / d, *hi = (c + h) / d;
}

static int cmd_run(int argc, char **argv) {
    play_args a;
    arg_spec specs[8];
    int ns, split, family;
    play_specs(&a, specs, &ns, 0);
    int r = parse(specs, ns, argc, argv,
                  "usage: " CMD " run [--episodes N] [--seed S] [--split train|test|all] [--family F]\n\n"
                  "Plays episodes with the scripted setter and solver and prints the solver's success\n"
                  "rate per prompt family.");
    if (r) return r == 1 ? 0 : r;
    if ((r = loco__playroom_choice(a.split, a.family, &split, &family))) return r;
    loco_playroom_episode *eps = malloc((size_t)a.episodes * sizeof *eps);
    if (!eps) { fprintf(stderr, CMD ": out of memory for %d episodes\n", a.episodes); return 1; }
    double t0 = loco_cli_now();
    if (play_all(&a, split, family, eps)) { free(eps); return 1; }
    double secs = loco_cli_now() - t0;
    long n[LOCO_PLAYROOM_N_FAMILY] = {0}, ok[LOCO_PLAYROOM_N_FAMILY] = {0}, steps[LOCO_PLAYROOM_N_FAMILY] = {0};
    long all_ok = 0, all_steps = 0;
    for (int i = 0; i < a.episodes; i++) {
        int f = eps[i].family;
        n[f]++, ok[f] += eps[i].success, steps[f] += eps[i].n_steps;
        all_ok += eps[i].success, all_steps += eps[i].n_steps;
    }
    printf("%-10s %9s %9s %17s %10s\n", "family", "episodes", "success", "95% interval", "mean steps");
    for (int f = 0; f <= LOCO_PLAYROOM_N_FAMILY; f++) {
        int all = f == LOCO_PLAYROOM_N_FAMILY;
        long k = all ? all_ok : ok[f], m = all ? a.episodes : n[f], st = all ? all_steps : steps[f];
        if (!m) continue;
        double lo, hi;
        wilson(k, m, &lo, &hi);
        printf("%-10s %9ld %8.1f%%   [%5.1f%%, %5.1f%%] %10.1f\n", all ? "all" : loco_playroom_family_name(f), m,
               100.0 * k / m, 100.0 * lo, 100.0 * hi, (double)st / m);
    }
    printf("(%d episodes, %ld steps in %.2f s, seeds %llu..%llu, split %s)\n", a.episodes, all_steps, secs,
           (unsigned long long)a.seed, (unsigned long long)(a.seed + (uint64_t)a.episodes - 1), a.split);
    free(eps);
    return 0;
}

static int cmd_record(int argc, char **argv) {
    play_args a;
    arg_spec specs[8];
    int ns, split, family;
    play_specs(&a, specs, &ns, 1);
    int r = parse(specs, ns, argc, argv,
                  "usage: " CMD " record --out FILE [--episodes N] [--seed S] [--split train|test|all] [--family F]\n\n"
                  "Records scripted setter-solver episodes into an episode file (docs/playroom.md),\n"
                  "by default from the train split, which holds out the held-out combinations.");
    if (r) return r == 1 ? 0 : r;
    if ((r = loco__playroom_choice(a.split, a.family, &split, &family))) return r;
    if (!a.out) { fprintf(stderr, CMD ": record needs --out FILE\n"); return 2; }
    loco_playroom_episode *eps = malloc((size_t)a.episodes * sizeof *eps);
    if (!eps) { fprintf(stderr, CMD ": out of memory for %d episodes\n", a.episodes); return 1; }
    if (play_all(&a, split, family, eps)) { free(eps); return 1; }
    char msg[512];
    if (loco_playroom_file_write(a.out, eps, a.episodes, msg, sizeof msg)) {
        fprintf(stderr, CMD ": %s\n", msg);
        free(eps);
        return 1;
    }
    long ok = 0;
    for (int i = 0; i < a.episodes; i++) ok += eps[i].success;
    printf("recorded %d episodes (%.1f%% successes) to %s (%zu bytes)\n", a.episodes, 100.0 * ok / a.episodes, a.out,
           loco_playroom_file_size(eps, a.episodes));
    free(eps);
    return 0;
}

static int cmd_replay(int argc, char **argv) {
    const char *in = NULL;
    arg_spec specs[] = {{"in", ARG_STR, &in, 0, 0, "the episode file"}};
    int r = parse(specs, 1, argc, argv,
                  "usage: " CMD " replay --in FILE\n\n"
                  "Checks an episode file: its checksum, then every episode replayed from its seed and\n"
                  "actions must reach the recorded outcome and final state bit for bit.");
    if (r) return r == 1 ? 0 : r;
    if (!in) { fprintf(stderr, CMD ": replay needs --in FILE\n"); return 2; }
    loco_playroom_episode *eps;
    int n;
    char msg[512];
    if (loco_playroom_file_read(in, &eps, &n, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); return 1; }
    loco_playroom_env *e;
    if (loco_playroom_env_create(&e)) { free(eps); fprintf(stderr, CMD ": out of memory\n"); return 1; }
    for (int i = 0; i < n; i++)
        if (loco_playroom_replay(e, &eps[i], msg, sizeof msg)) {
            fprintf(stderr, CMD ": %s: episode %d: %s\n", in, i, msg);
            loco_playroom_env_free(e), free(eps);
            return 1;
        }
    printf("%s: %d episodes replayed bit for bit\n", in, n);
    loco_playroom_env_free(e), free(eps);
    return 0;
}

/* ---------------------------------------------------------------- bench */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Steps per second of one env on one thread, the solver's seat played by
 * uniform random actions (PufferLib's convention), the median of 5 runs, by
 * the wall clock and by the thread's CPU time (*cpu), which a machine shared
 * with other jobs does not deflate. */
static double bench_one(int pixels, long steps, uint64_t seed, double *cpu) {
    static uint8_t obs[LOCO_PLAYROOM_OBS_BYTES], px[LOCO_PLAYROOM_PIXEL_BYTES];
    int32_t act[2];
    float rew;
    uint8_t term, trunc;
    loco_playroom_buffers b = {pixels ? NULL : obs, pixels ? px : NULL, act, &rew, &term, &trunc};
    loco_playroom_config cfg;
    loco_playroom_config_default(&cfg);
    cfg.seed = seed;
    loco_playroom_vec *v;
    char msg[256];
    if (loco_playroom_vec_create(&v, &cfg, &b, msg, sizeof msg)) return -1;
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    int vocab = loco_playroom_vocab_size();
    double runs[5], cpus[5];
    for (int k = 0; k < 5; k++) {
        double t0 = loco_cli_now(), c0 = cpu_now();
        for (long s = 0; s < steps; s++) {
            uint64_t u = loco_rng_u64(&rng);
            act[0] = (int32_t)(u % LOCO_PLAYROOM_N_MOTOR), act[1] = (int32_t)((u >> 32) % (uint64_t)vocab);
            loco_playroom_vec_step(v);
        }
        runs[k] = (double)steps / (loco_cli_now() - t0);
        cpus[k] = (double)steps / (cpu_now() - c0);
    }
    loco_playroom_vec_free(v);
    qsort(runs, 5, sizeof *runs, cmp_double);
    qsort(cpus, 5, sizeof *cpus, cmp_double);
    *cpu = cpus[2];
    return runs[2];
}

static int cmd_bench(int argc, char **argv) {
    int steps = 2000000, pixel_steps = 200000;
    uint64_t seed = 1;
    arg_spec specs[] = {
        {"steps", ARG_INT, &steps, 1000, 1e9, "steps per run, symbolic observations"},
        {"pixel-steps", ARG_INT, &pixel_steps, 100, 1e9, "steps per run, egocentric view"},
        {"seed", ARG_U64, &seed, 0, 0, "seed"},
    };
    int r = parse(specs, 3, argc, argv,
                  "usage: " CMD " bench [--steps N] [--pixel-steps N]\n\n"
                  "Steps per second of one room on one thread (random solver actions, the scripted\n"
                  "setter, auto-reset), the median of 5 runs, with symbolic observations and with the\n"
                  "96x72 egocentric view.  Goals: 1,000,000 and 50,000.");
    if (r) return r == 1 ? 0 : r;
    double sym_cpu, pix_cpu, sym = bench_one(0, steps, seed, &sym_cpu), pix = bench_one(1, pixel_steps, seed, &pix_cpu);
    if (sym < 0 || pix < 0) { fprintf(stderr, CMD ": out of memory\n"); return 1; }
    printf("symbolic:   %12.0f steps/s wall, %12.0f per CPU second (median of 5 x %d steps; goal 1,000,000)\n", sym,
           sym_cpu, steps);
    printf("egocentric: %12.0f steps/s wall, %12.0f per CPU second (median of 5 x %d steps; goal 50,000)\n", pix,
           pix_cpu, pixel_steps);
    return 0;
}

/* ---------------------------------------------------------------- dispatch */

static void usage(void) {
    printf("usage: " CMD " <command> [flags]\n\n"
               "  list     prompt families, things in the room, the held-out set\n"
               "  run      play scripted episodes; success rate per prompt family\n"
               "  record   record scripted episodes to an episode file\n"
               "  replay   check an episode file replays bit for bit\n"
               "  render   an HTML replay of an episode: the room, the solver's view, the chat\n"
               "  bench    steps per second, symbolic and egocentric observations\n"
               "  serve    a person plays the setter or the solver in a browser; episodes recorded\n\n"
               "Run '" CMD " <command> --help' for its flags; docs/playroom.md describes the world.\n");
}

int loco_cmd_playroom(int argc, char **argv) {
    if (argc < 1) {
        fprintf(stderr, CMD ": which command? list, run, record, replay, render, bench or serve (see " CMD " --help)\n");
        return 2;
    }
    const char *c = argv[0];
    if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) { usage(); return 0; }
    if (!strcmp(c, "list")) return cmd_list(argc - 1, argv + 1);
    if (!strcmp(c, "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(c, "record")) return cmd_record(argc - 1, argv + 1);
    if (!strcmp(c, "replay")) return cmd_replay(argc - 1, argv + 1);
    if (!strcmp(c, "render")) return loco_cmd_playroom_render(argc - 1, argv + 1);
    if (!strcmp(c, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(c, "serve")) return loco_cmd_playroom_serve(argc - 1, argv + 1);
    fprintf(stderr, CMD ": unknown command '%s' (see " CMD " --help)\n", c);
    return 2;
}
