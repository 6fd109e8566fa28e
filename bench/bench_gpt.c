/*
 * bench_gpt: times loco's full GPT-2 training step (zero_grad, forward with
 * targets, backward, AdamW with global-norm clipping) on random tokens.
 *
 *   build/bench_gpt --layers L --channels C --heads NH --vocab V --seq T
 *                   --batch B --steps S --warmup W --threads N
 *                   [--max-seq TMAX (default 1024)] [--seed SEED]
 *
 * Runs W untimed warm-up steps, then S timed steps, and prints one line
 *
 *   loco tok_per_s=<median> step_s=<median> flops_per_step=<F> params=<N> maxrss_mb=<M> ...
 *
 * tok_per_s = B*T / step_s, both from the median step time over the S timed
 * steps.  F is the model FLOP count of one step (PaLM / nanoGPT convention,
 * see docs/benchmarks.md):  B*T * (6*(12*L*C^2 + V*C) + 12*L*T*C).
 * bench/torch_gpt.py prints the same line for PyTorch, starting with `torch`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "loco/loco.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *usage =
    "usage: bench_gpt --layers L --channels C --heads NH --vocab V --seq T "
    "--batch B --steps S --warmup W --threads N [--max-seq TMAX (default 1024)] [--seed SEED]";

typedef struct { const char *flag; int *dst; long lo, hi; } int_flag;

/* Model FLOPs of one training step: 6 FLOPs per matmul parameter per token
 * (2 forward, 4 backward), with N = 12*L*C^2 block weights + V*C for the tied
 * LM head, plus 12*L*T*C per token for the attention scores and mixing. */
static double model_flops_per_step(int L, int C, int V, int B, int T) {
    double n_matmul = 12.0 * L * (double)C * C + (double)V * C;
    return (double)B * T * (6.0 * n_matmul + 12.0 * L * (double)T * C);
}

int main(int argc, char **argv) {
    int L = 12, C = 768, NH = 12, V = 50257, T = 256, B = 8, S = 5, W = 1;
    int threads = 2, tmax = 1024, seed = 1337;
    int_flag flags[] = {
        {"--layers", &L, 1, 1 << 16},   {"--channels", &C, 1, 1 << 20},
        {"--heads", &NH, 1, 1 << 16},   {"--vocab", &V, 1, 1 << 30},
        {"--seq", &T, 1, LOCO_MAX_SEQ_LEN}, {"--batch", &B, 1, 1 << 20},
        {"--steps", &S, 1, 1 << 20},    {"--warmup", &W, 0, 1 << 20},
        {"--threads", &threads, 1, 4096}, {"--max-seq", &tmax, 1, LOCO_MAX_SEQ_LEN},
        {"--seed", &seed, 0, 0x7fffffff},
    };
    const int nflags = (int)(sizeof flags / sizeof flags[0]);

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("%s\n", usage);
            return 0;
        }
        int f = 0;
        while (f < nflags && strcmp(argv[i], flags[f].flag)) f++;
        if (f == nflags) {
            fprintf(stderr, "bench_gpt: unknown flag '%s' (%s)\n", argv[i], usage);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_gpt: flag %s needs a value\n", argv[i]);
            return 2;
        }
        const char *s = argv[++i];
        char *end = NULL;
        long v = strtol(s, &end, 10);
        if (!*s || *end || v < flags[f].lo || v > flags[f].hi) {
            fprintf(stderr, "bench_gpt: flag %s needs an integer in [%ld, %ld], got '%s'\n",
                    flags[f].flag, flags[f].lo, flags[f].hi, s);
            return 2;
        }
        *flags[f].dst = (int)v;
    }
    if (T > tmax) {
        fprintf(stderr, "bench_gpt: --seq %d exceeds --max-seq %d\n", T, tmax);
        return 2;
    }

    int nthr = loco_threads_set(threads);

    loco_gpt_config cfg = { .max_seq_len = tmax, .vocab_size = V, .n_layer = L,
                            .n_head = NH, .channels = C };
    char msg[256] = "";
    loco_gpt *model = NULL;
    int err = loco_gpt_create(&model, &cfg, B, T, (uint64_t)seed, msg, sizeof msg);
    if (err) {
        fprintf(stderr, "bench_gpt: cannot create model: %s%s%s\n", loco_strerror(err),
                msg[0] ? ": " : "", msg);
        return 1;
    }

    /* Random tokens in [0, V), fixed seed; targets are the inputs shifted by one. */
    size_t bt = (size_t)B * T;
    int *data = malloc(((size_t)B * (T + 1)) * sizeof *data);
    int *tokens = malloc(bt * sizeof *tokens), *targets = malloc(bt * sizeof *targets);
    double *times = malloc((size_t)S * sizeof *times);
    if (!data || !tokens || !targets || !times) {
        fprintf(stderr, "bench_gpt: out of memory\n");
        return 1;
    }
    loco_rng rng;
    loco_rng_seed(&rng, (uint64_t)seed);
    for (size_t i = 0; i < (size_t)B * (T + 1); i++)
        data[i] = (int)(loco_rng_u64(&rng) % (uint64_t)V);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            tokens[(size_t)b * T + t] = data[(size_t)b * (T + 1) + t];
            targets[(size_t)b * T + t] = data[(size_t)b * (T + 1) + t + 1];
        }

    loco_adamw_config opt;
    loco_adamw_config_default(&opt, W + S);

    float loss_first = 0.0f, loss_last = 0.0f;
    for (int step = 0; step < W + S; step++) {
        double t0 = now_s();
        loco_gpt_zero_grad(model);
        err = loco_gpt_forward(model, tokens, targets, B, T);
        if (!err) err = loco_gpt_backward(model);
        float norm = 0.0f;
        if (!err) err = loco_gpt_adamw_step(model, &opt, step, &norm);
        float loss = loco_gpt_loss(model);
        double dt = now_s() - t0;
        if (err) {
            fprintf(stderr, "bench_gpt: training step %d failed: %s\n", step, loco_strerror(err));
            return 1;
        }
        if (step == 0) loss_first = loss;
        loss_last = loss;
        if (step >= W) times[step - W] = dt;
    }

    qsort(times, (size_t)S, sizeof *times, cmp_double);
    double med = S % 2 ? times[S / 2] : 0.5 * (times[S / 2 - 1] + times[S / 2]);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);   /* ru_maxrss is in KiB on Linux */
    printf("loco tok_per_s=%.1f step_s=%.4f flops_per_step=%.0f params=%zu "
           "maxrss_mb=%.0f threads=%d steps=%d warmup=%d loss_first=%.4f loss_last=%.4f "
           "model_mb=%.0f\n",
           (double)bt / med, med, model_flops_per_step(L, C, V, B, T),
           loco_gpt_num_params(model), (double)ru.ru_maxrss / 1024.0, nthr, S, W,
           loss_first, loss_last, (double)loco_gpt_memory_bytes(model) / (1024.0 * 1024.0));

    loco_gpt_free(model);
    free(data); free(tokens); free(targets); free(times);
    return 0;
}
