/*
 * loco agent: the CC-Net agent on the web tasks (docs/agent.md).
 *   loco agent train  behavioural cloning from a directory of demonstration
 *                     files (written by loco env demos)
 *   loco agent eval   success rate per task on unseen instances
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/agent_cmd.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "loco/agent_env.h"
#include "loco/metrics.h"

/* Evaluation instances are EVAL_SEED_BIT | (seed << 32) + episode, far from
 * the small seeds demonstrations are recorded on (loco env demos counts up
 * from --seed, 0 by default). */
#define EVAL_SEED_BIT (1ULL << 62)

/* Parses --tasks ("all" or a comma list of names) into task indices. */
static int parse_tasks(const char *spec, int *tasks, char *msg, size_t n) {
    int nt = loco_env_task_count(), k = 0;
    if (!spec || !strcmp(spec, "all")) {
        for (int t = 0; t < nt; t++) tasks[k++] = t;
        return k;
    }
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
        int t = loco_env_task_find(p);
        if (t < 0) { snprintf(msg, n, "unknown task '%.64s'", p); return -1; }
        if (k == nt) { snprintf(msg, n, "too many tasks"); return -1; }
        tasks[k++] = t;
    }
    return k;
}

static int config_preset(const char *name, loco_agent_config *c) {
    if (!strcmp(name, "small")) loco_agent_config_small(c);
    else if (!strcmp(name, "paper")) loco_agent_config_paper(c);
    else return -1;
    return 0;
}

static int parse_obs(const char *s) {
    return !strcmp(s, "dom") ? LOCO_OBS_DOM : !strcmp(s, "pixels") ? LOCO_OBS_PIXELS : !strcmp(s, "both") ? LOCO_OBS_BOTH : -1;
}

/* ------------------------------------------------------------------ train */

static int cmd_train(int argc, char **argv) {
    const char *demos = NULL, *out = NULL, *preset = "small", *obs_s = "both", *resume = NULL;
    int B = 16, T = 16, steps = 2000, threads = 0, max_per_task = 0, max_noops = 10, log_every = 10, ckpt_every = 0;
    int stop_after = 0;
    uint64_t seed = 1;
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, steps);
    oc.lr = 1e-3f;
    oc.weight_decay = 0.0f;
    oc.warmup_steps = 100;
    float min_lr_frac = 0.1f;
    /* --bc takes no value: it names the (only) training mode. */
    char *args[256];
    int n = 0, bc = 0;
    for (int i = 0; i < argc && n < 256; i++) {
        if (!strcmp(argv[i], "--bc")) bc = 1;
        else args[n++] = argv[i];
    }
    arg_spec specs[] = {
        {"demos", ARG_STR, &demos, 0, 0, "directory of demonstration files (loco env demos --out DIR/x.demos)"},
        {"out", ARG_STR, &out, 0, 0, "directory for agent.safetensors, metrics.jsonl, loss.svg"},
        {"size", ARG_STR, &preset, 0, 0, "network size: small or paper (docs/agent.md)"},
        {"obs", ARG_STR, &obs_s, 0, 0, "observations: dom, pixels or both"},
        {"batch", ARG_INT, &B, 1, 4096, "sequences per step B"},
        {"unroll", ARG_INT, &T, 1, 4096, "steps per sequence T (backpropagation through time)"},
        {"steps", ARG_INT, &steps, 1, 1e9, "optimizer steps"},
        {"lr", ARG_FLOAT, &oc.lr, 0, 10, "peak learning rate (Adam)"},
        {"warmup", ARG_INT, &oc.warmup_steps, 0, 1e9, "linear warm-up steps"},
        {"min-lr-frac", ARG_FLOAT, &min_lr_frac, 0, 1, "final learning rate as a fraction of --lr (cosine)"},
        {"weight-decay", ARG_FLOAT, &oc.weight_decay, 0, 10, "decoupled weight decay on matrices"},
        {"grad-clip", ARG_FLOAT, &oc.grad_clip, 0, 1e9, "max global gradient norm (0: off)"},
        {"max-per-task", ARG_INT, &max_per_task, 0, 1e9, "demonstrations kept per task (0: all)"},
        {"max-noops", ARG_INT, &max_noops, -1, 1e9, "longest run of no-ops kept (CC-Net: 10; -1: keep all)"},
        {"seed", ARG_U64, &seed, 0, 1.8e19, "seed for initialisation and sampling"},
        {"threads", ARG_INT, &threads, 0, 1024, "threads (0: OMP_NUM_THREADS or all cores)"},
        {"log-every", ARG_INT, &log_every, 1, 1e9, "steps between metrics lines"},
        {"ckpt-every", ARG_INT, &ckpt_every, 0, 1e9, "steps between checkpoints (0: at the end only)"},
        {"stop-after", ARG_INT, &stop_after, 0, 1e9, "stop (and checkpoint) after this step (0: run to --steps)"},
        {"resume", ARG_STR, &resume, 0, 0, "checkpoint of this run to continue from (model, Adam, schedule, sampling)"},
    };
    char msg[512];
    int r = args_parse(specs, (int)(sizeof specs / sizeof specs[0]), n, args,
                       "usage: loco agent train --bc --demos DIR --out DIR [flags]\n\nBehavioural cloning of the "
                       "CC-Net agent on every task at once: tasks are drawn\nuniformly, then demonstrations; failed "
                       "episodes are dropped and runs of no-ops shortened.",
                       msg, sizeof msg);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, "loco agent train: %s\n", msg); return 2; }
    if (!bc || !demos || !out) {
        fprintf(stderr, "loco agent train: --bc, --demos and --out are required\n");
        return 2;
    }
    loco_agent_config cfg;
    if (config_preset(preset, &cfg)) { fprintf(stderr, "loco agent train: --size must be small or paper\n"); return 2; }
    if ((cfg.obs = parse_obs(obs_s)) < 0) { fprintf(stderr, "loco agent train: --obs must be dom, pixels or both\n"); return 2; }
    oc.max_steps = steps;
    oc.min_lr = oc.lr * min_lr_frac;
    loco_threads_set(threads);
    if (loco_cli_mkdir(out, msg, sizeof msg)) { fprintf(stderr, "loco agent train: %s\n", msg); return 1; }

    double t0 = loco_cli_now();
    loco_agent_demos *d;
    loco_agent_demos_stats st;
    if (loco_agent_demos_load(&d, demos, &cfg, max_per_task, max_noops, &st, msg, sizeof msg)) {
        fprintf(stderr, "loco agent train: %s\n", msg);
        return 1;
    }
    printf("demonstrations: %d files, %d episodes, %d kept over %d tasks (%d failed, %d unsupported, %d replays "
           "differ), %ld steps, %ld no-ops cut; loaded in %.1fs\n", st.files, st.episodes, st.kept, st.tasks,
           st.failed, st.unsupported, st.mismatched, st.steps, st.noops_cut, loco_cli_now() - t0);
    loco_agent *m;
    loco_agent_batch_buf bb;
    loco_agent_ckpt_meta meta = {.opt = oc, .seed = seed};
    loco_rng rng;
    loco_rng_seed(&rng, seed ^ 0x9E3779B97F4A7C15ULL);
    int start = 0;
    /* A resumed run takes the model, Adam's moments, the schedule and the
     * sampler's state from the checkpoint, so it continues bit for bit. */
    int e = resume ? loco_agent_load(resume, &m, B, T, &meta, msg, sizeof msg)
                   : loco_agent_create(&m, &cfg, B, T, seed, msg, sizeof msg);
    if (!e && resume) {
        cfg = *loco_agent_get_config(m);
        oc = meta.opt;
        steps = oc.max_steps;
        start = (int)meta.step;
        memcpy(rng.s, meta.rng_state, sizeof rng.s);
        if (!meta.has_optimizer || start > steps) {
            snprintf(msg, sizeof msg, "%s: %s", resume, !meta.has_optimizer ? "holds no optimizer state" : "is past its last step");
            loco_agent_free(m);
            e = LOCO_EINVAL;
        }
    }
    if (e || loco_agent_batch_buf_alloc(&bb, &cfg, B, T)) {
        fprintf(stderr, "loco agent train: %s\n", e ? msg : "out of memory");
        if (!e) loco_agent_free(m);
        loco_agent_demos_free(d);
        return 1;
    }
    printf("agent: %zu parameters, batch %d x %d steps, obs %s%s\n", loco_agent_num_params(m), B, T,
           cfg.obs == LOCO_OBS_DOM ? "dom" : cfg.obs == LOCO_OBS_PIXELS ? "pixels" : "both", resume ? ", resumed" : "");
    char log_path[4200], ckpt_path[4200], svg_path[4200];
    snprintf(log_path, sizeof log_path, "%s/metrics.jsonl", out);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/agent.safetensors", out);
    snprintf(svg_path, sizeof svg_path, "%s/loss.svg", out);
    loco_metrics *log;
    if (resume ? loco_metrics_truncate_after(log_path, start, msg, sizeof msg) ||
                     loco_metrics_open_append(&log, log_path, msg, sizeof msg)
               : loco_metrics_open(&log, log_path, msg, sizeof msg)) {
        fprintf(stderr, "loco agent train: %s\n", msg);
        loco_agent_batch_buf_free(&bb);
        loco_agent_free(m);
        loco_agent_demos_free(d);
        return 1;
    }
    const int tty = isatty(STDOUT_FILENO);
    int rc = 0;
    double t_start = loco_cli_now(), t_last = t_start, loss_acc = 0;
    int n_acc = 0;
    const int last = stop_after && stop_after < steps ? stop_after : steps;
    msg[0] = 0;
    for (int s = start; s < last; s++) {
        loco_agent_demos_sample(d, &rng, &bb);
        float norm = 0;
        if (loco_agent_forward(m, &bb.view, msg, sizeof msg) || (loco_agent_zero_grad(m), loco_agent_backward(m)) ||
            loco_agent_adamw_step(m, &oc, s, &norm)) {
            fprintf(stderr, "\nloco agent train: step %d failed: %s\n", s, msg[0] ? msg : "non-finite gradient");
            rc = 1;
            break;
        }
        loss_acc += loco_agent_loss(m);
        n_acc++;
        if ((s + 1) % log_every == 0 || s + 1 == last) {
            double now = loco_cli_now(), sps = (double)n_acc * B * T / (now - t_last);
            const char *keys[] = {"loss", "lr", "grad_norm", "samples_per_s", "time_s"};
            double vals[] = {loss_acc / n_acc, loco_lr_schedule(&oc, s), norm, sps, now - t_start};
            loco_metrics_log(log, "train", s + 1, keys, vals, 5);
            loco_progress_print(stdout, tty, s + 1, steps, loss_acc / n_acc, sps, (steps - s - 1) * (double)B * T / sps);
            loss_acc = 0;
            n_acc = 0;
            t_last = now;
        }
        if ((ckpt_every && (s + 1) % ckpt_every == 0) || s + 1 == last) {
            meta.step = s + 1;
            memcpy(meta.rng_state, rng.s, sizeof meta.rng_state);
            if (loco_agent_save(ckpt_path, m, &meta, 1, msg, sizeof msg)) {
                fprintf(stderr, "loco agent train: %s\n", msg);
                rc = 1;
                break;
            }
        }
    }
    loco_metrics_close(log);
    if (!rc) {
        const char *logs[] = {log_path};
        if (loco_plot_svg(logs, 1, svg_path, msg, sizeof msg)) fprintf(stderr, "loco agent train: plot: %s\n", msg);
        printf("wrote %s, %s, %s (%.1fs)\n", ckpt_path, log_path, svg_path, loco_cli_now() - t0);
    }
    loco_agent_batch_buf_free(&bb);
    loco_agent_free(m);
    loco_agent_demos_free(d);
    return rc;
}

/* ------------------------------------------------------------------- eval */

/* Runs `episodes` episodes of task on instances EVAL_SEED_BIT | (seed << 32)
 * + i, all at once (one environment and one sequence each), and returns the
 * number of successes; -1 on error. */
static int eval_task(loco_agent *m, int task, int episodes, uint64_t seed, int sample, char *msg, size_t n) {
    const int N = episodes;
    uint64_t *seeds = malloc(N * sizeof *seeds);
    uint8_t *done = calloc(N, 1);
    loco_agent_rollout *r = NULL;
    int ok = -1;
    if (!seeds || !done) { snprintf(msg, n, "out of memory"); goto out; }
    loco_env_config ec = {.num_envs = N, .task = task, .threads = 1};
    if (loco_agent_rollout_create(&r, m, &ec, msg, n)) goto out;
    for (int i = 0; i < N; i++) seeds[i] = EVAL_SEED_BIT | ((seed << 32) + (uint64_t)i);
    loco_agent_rollout_reset(r, seeds);
    const loco_env_buffers *b = loco_agent_rollout_buffers(r);
    loco_rng rng;
    loco_rng_seed(&rng, seed + 7919u * (uint64_t)task);
    int left = N;
    ok = 0;
    for (int step = 0; left > 0 && step < 2000; step++) {
        if (loco_agent_rollout_step(r, sample ? &rng : NULL, msg, n)) { ok = -1; goto out; }
        for (int i = 0; i < N; i++)
            if (!done[i] && (b->terminated[i] || b->truncated[i])) {
                done[i] = 1;
                ok += b->success[i];
                left--;
            }
    }
out:
    loco_agent_rollout_free(r);
    free(seeds);
    free(done);
    return ok;
}

static int cmd_eval(int argc, char **argv) {
    const char *ckpt = NULL, *tasks_s = "all", *out = NULL;
    int episodes = 100, sample = 0, threads = 0;
    uint64_t seed = 1;
    arg_spec specs[] = {
        {"checkpoint", ARG_STR, &ckpt, 0, 0, "agent checkpoint (loco agent train)"},
        {"episodes", ARG_INT, &episodes, 1, 100000, "episodes per task, on instances no demonstration uses"},
        {"tasks", ARG_STR, &tasks_s, 0, 0, "'all' or a comma list of task names"},
        {"sample", ARG_INT, &sample, 0, 1, "1: sample actions from the policy; 0: take the most likely"},
        {"seed", ARG_U64, &seed, 0, 4294967295.0, "evaluation instances and sampling"},
        {"threads", ARG_INT, &threads, 0, 1024, "threads (0: OMP_NUM_THREADS or all cores)"},
        {"out", ARG_STR, &out, 0, 0, "also write the table (Markdown) to this file"},
    };
    char msg[512];
    int r = args_parse(specs, (int)(sizeof specs / sizeof specs[0]), argc, argv,
                       "usage: loco agent eval --checkpoint F [flags]\n\nBinary success per task (the task's own "
                       "predicate) with a 95% Wilson interval.",
                       msg, sizeof msg);
    if (r == 1) return 0;
    if (r < 0 || !ckpt) { fprintf(stderr, "loco agent eval: %s\n", r < 0 ? msg : "--checkpoint is required"); return 2; }
    int tasks[256], nt = parse_tasks(tasks_s, tasks, msg, sizeof msg);
    if (nt < 0) { fprintf(stderr, "loco agent eval: %s\n", msg); return 2; }
    loco_threads_set(threads);
    loco_agent *m;
    if (loco_agent_load(ckpt, &m, episodes, 1, NULL, msg, sizeof msg)) {
        fprintf(stderr, "loco agent eval: %s\n", msg);
        return 1;
    }
    if (loco_agent_env_check(loco_agent_get_config(m), msg, sizeof msg)) {
        fprintf(stderr, "loco agent eval: %s: %s\n", ckpt, msg);
        loco_agent_free(m);
        return 1;
    }
    FILE *md = NULL;
    if (out && !(md = fopen(out, "w"))) { fprintf(stderr, "loco agent eval: %s: cannot write\n", out); loco_agent_free(m); return 1; }
    char line[256];
    snprintf(line, sizeof line, "| task | episodes | success | 95%% interval |\n|---|---:|---:|---|\n");
    fputs(line, stdout);
    if (md) fputs(line, md);
    double sum = 0;
    int rc = 0;
    for (int i = 0; i < nt; i++) {
        int k = eval_task(m, tasks[i], episodes, seed, sample, msg, sizeof msg);
        if (k < 0) { fprintf(stderr, "loco agent eval: %s\n", msg); rc = 1; break; }
        /* Wilson score interval, z = 1.96 */
        double p = (double)k / episodes, z = 1.96, nn = episodes;
        double den = 1 + z * z / nn, mid = (p + z * z / (2 * nn)) / den;
        double half = z * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / den;
        snprintf(line, sizeof line, "| %s | %d | %.3f | [%.3f, %.3f] |\n", loco_env_task_name(tasks[i]), episodes, p,
                 fmax(0, mid - half), fmin(1, mid + half));
        fputs(line, stdout);
        fflush(stdout);
        if (md) fputs(line, md);
        sum += p;
    }
    if (!rc) {
        snprintf(line, sizeof line, "| **mean over %d tasks** | %d | **%.3f** | |\n", nt, episodes * nt, sum / nt);
        fputs(line, stdout);
        if (md) fputs(line, md);
    }
    if (md) fclose(md);
    loco_agent_free(m);
    return rc;
}

int loco_cmd_agent(int argc, char **argv) {
    const char *use = "usage: loco agent train|eval|act [flags]  (loco agent <sub> --help)\n";
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(use, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(argv[0], "eval")) return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(argv[0], "act")) return loco__agent_act(argc - 1, argv + 1);   /* agent_act.c */
    fprintf(stderr, "loco agent: unknown subcommand '%s'\n%s", argv[0], use);
    return 2;
}
