/*
 * bench_cuda: times loco's full GPT-2 training step on the GPU (zero_grad,
 * forward with targets, backward, AdamW with global-norm clipping), the
 * device twin of bench_gpt.
 *
 *   build-cuda/bench_cuda --layers L --channels C --heads NH --vocab V --seq T
 *                         --batch B --steps S --warmup W [--max-seq TMAX (1024)]
 *                         [--seed SEED] [--tf32 0|1]
 *
 * Runs W untimed warm-up steps, then S timed steps, and prints one line
 *
 *   cuda tok_per_s=<median> step_s=<median> flops_per_step=<F> params=<N> device_mb=<M> tf32=<0|1> ...
 *
 * with F as in bench_gpt (docs/benchmarks.md).  Each step includes copying
 * the batch to the device and the loss and the gradient norm back, as a
 * training run does.  Without a usable device (a plain `make` build, or no
 * GPU) it prints "cuda skip: <reason>" and exits 0.  docs/cuda.md has the
 * benchmark plan against llm.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loco/cuda.h"
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
    "usage: bench_cuda --layers L --channels C --heads NH --vocab V --seq T --batch B --steps S --warmup W "
    "[--max-seq TMAX (default 1024)] [--seed SEED] [--tf32 0|1]";

typedef struct { const char *flag; int *dst; long lo, hi; } int_flag;

/* Model FLOPs of one training step, as bench_gpt counts them. */
static double model_flops_per_step(int L, int C, int V, int B, int T) {
    double n_matmul = 12.0 * L * (double)C * C + (double)V * C;
    return (double)B * T * (6.0 * n_matmul + 12.0 * L * (double)T * C);
}

int main(int argc, char **argv) {
    int L = 12, C = 768, NH = 12, V = 50257, T = 1024, B = 8, S = 10, W = 2;
    int tmax = 1024, seed = 1337, tf32 = 0;
    int_flag flags[] = {
        {"--layers", &L, 1, 1 << 16},   {"--channels", &C, 1, 1 << 20},
        {"--heads", &NH, 1, 1 << 16},   {"--vocab", &V, 1, 1 << 26},
        {"--seq", &T, 1, LOCO_MAX_SEQ_LEN}, {"--batch", &B, 1, 1 << 20},
        {"--steps", &S, 1, 1 << 20},    {"--warmup", &W, 0, 1 << 20},
        {"--max-seq", &tmax, 1, LOCO_MAX_SEQ_LEN}, {"--seed", &seed, 0, 0x7fffffff},
        {"--tf32", &tf32, 0, 1},
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
            fprintf(stderr, "bench_cuda: unknown flag '%s' (%s)\n", argv[i], usage);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_cuda: flag %s needs a value\n", argv[i]);
            return 2;
        }
        const char *s = argv[++i];
        char *end = NULL;
        long v = strtol(s, &end, 10);
        if (!*s || *end || v < flags[f].lo || v > flags[f].hi) {
            fprintf(stderr, "bench_cuda: flag %s needs an integer in [%ld, %ld], got '%s'\n", flags[f].flag,
                    flags[f].lo, flags[f].hi, s);
            return 2;
        }
        *flags[f].dst = (int)v;
    }
    if (T > tmax) {
        fprintf(stderr, "bench_cuda: --seq %d exceeds --max-seq %d\n", T, tmax);
        return 2;
    }
    char msg[512] = "";
    if (loco_cuda_available(msg, sizeof msg) != LOCO_OK) {
        printf("cuda skip: %s\n", msg);
        return 0;
    }
    printf("cuda device: %s\n", msg);

    /* The host model only carries the parameters to the device: capacity 1 x 1. */
    loco_gpt_config cfg = {.max_seq_len = tmax, .vocab_size = V, .n_layer = L, .n_head = NH, .channels = C};
    loco_gpt *host = NULL;
    int err = loco_gpt_create(&host, &cfg, 1, 1, (uint64_t)seed, msg, sizeof msg);
    if (err) {
        fprintf(stderr, "bench_cuda: cannot create model: %s%s%s\n", loco_strerror(err), msg[0] ? ": " : "", msg);
        return 1;
    }
    loco_cuda_gpt *d = NULL;
    err = loco_cuda_gpt_create(&d, host, B, T, msg, sizeof msg);
    if (err) {
        fprintf(stderr, "bench_cuda: cannot create the device model: %s: %s\n", loco_strerror(err), msg);
        loco_gpt_free(host);
        return 1;
    }
    loco_cuda_gpt_set_tf32(d, tf32);

    /* Random tokens in [0, V), fixed seed; targets are the inputs shifted by one. */
    const size_t bt = (size_t)B * T;
    int *data = malloc((size_t)B * (T + 1) * sizeof *data);
    int *tokens = malloc(bt * sizeof *tokens), *targets = malloc(bt * sizeof *targets);
    double *times = malloc((size_t)S * sizeof *times);
    if (!data || !tokens || !targets || !times) {
        fprintf(stderr, "bench_cuda: out of memory\n");
        return 1;
    }
    loco_rng rng;
    loco_rng_seed(&rng, (uint64_t)seed);
    for (size_t i = 0; i < (size_t)B * (T + 1); i++) data[i] = (int)(loco_rng_u64(&rng) % (uint64_t)V);
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
        float norm = 0.0f;
        err = loco_cuda_gpt_zero_grad(d);
        if (!err) err = loco_cuda_gpt_forward(d, tokens, targets, B, T);
        if (!err) err = loco_cuda_gpt_backward(d);
        if (!err) err = loco_cuda_gpt_adamw_step(d, &opt, step, &norm);
        float loss = loco_cuda_gpt_loss(d);
        double dt = now_s() - t0;   /* every call ends synchronised: this is the step's wall time */
        if (err) {
            fprintf(stderr, "bench_cuda: training step %d failed: %s: %s\n", step, loco_strerror(err),
                    loco_cuda_gpt_error(d));
            return 1;
        }
        if (step == 0) loss_first = loss;
        loss_last = loss;
        if (step >= W) times[step - W] = dt;
    }
    qsort(times, (size_t)S, sizeof *times, cmp_double);
    double med = S % 2 ? times[S / 2] : 0.5 * (times[S / 2 - 1] + times[S / 2]);
    printf("cuda tok_per_s=%.1f step_s=%.4f flops_per_step=%.0f params=%zu device_mb=%.0f tf32=%d steps=%d "
           "warmup=%d loss_first=%.4f loss_last=%.4f B=%d T=%d\n",
           (double)bt / med, med, model_flops_per_step(L, C, V, B, T), loco_gpt_num_params(host),
           (double)loco_cuda_gpt_memory_bytes(d) / (1024.0 * 1024.0), tf32, S, W, loss_first, loss_last, B, T);
    loco_cuda_gpt_free(d);
    loco_gpt_free(host);
    free(data); free(tokens); free(targets); free(times);
    return 0;
}
