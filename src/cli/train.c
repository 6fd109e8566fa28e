/*
 * `loco train`: trains a GPT on bytes, either the embedded default corpus (a
 * synthetic addition task that a small model learns in a minute) or a text
 * file given with --data, and reports validation loss as it goes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "loco/data.h"
#include "loco/loco.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Mean validation loss over n_batches batches drawn with a fixed seed, so that
 * every evaluation of a run sees the same windows. */
static float eval_loss(loco_gpt *m, const loco_bytes_dataset *d, int B, int T,
                       int n_batches, int *tok, int *tgt) {
    loco_rng rng;
    loco_rng_seed(&rng, 12345);
    double s = 0;
    for (int i = 0; i < n_batches; i++) {
        loco_dataset_batch(d, 1, &rng, B, T, tok, tgt);
        loco_gpt_forward(m, tok, tgt, B, T);
        s += loco_gpt_loss(m);
    }
    return (float)(s / n_batches);
}

/* Greedy decoding of "a+b=" prompts from the validation split: the fraction
 * of sums the model completes correctly. */
static float addition_accuracy(loco_gpt *m, int T, int n, int *tok) {
    loco_rng rng;
    loco_rng_seed(&rng, 777);
    const int V = loco_gpt_get_config(m)->vocab_size;
    int correct = 0;
    for (int i = 0; i < n; i++) {
        int a = (int)(loco_rng_u64(&rng) % 100), b = (int)(loco_rng_u64(&rng) % 100);
        char buf[64];
        int len = snprintf(buf, sizeof buf, "\n%d+%d=", a, b);
        for (int k = 0; k < len; k++) tok[k] = (unsigned char)buf[k];
        char ans[8];
        int na = 0;
        while (na < 7 && len < T) {
            loco_gpt_forward(m, tok, NULL, 1, len);
            const float *z = loco_gpt_logits(m) + (size_t)(len - 1) * V;
            int best = 0;
            for (int v = 1; v < V; v++) best = z[v] > z[best] ? v : best;
            if (best == '\n') break;
            ans[na++] = (char)best;
            tok[len++] = best;
        }
        ans[na] = 0;
        char want[8];
        snprintf(want, sizeof want, "%d", a + b);
        correct += strcmp(ans, want) == 0;
    }
    return (float)correct / n;
}

int loco_cmd_train(int argc, char **argv) {
    loco_gpt_config cfg = {.max_seq_len = 0, .vocab_size = 256, .n_layer = 4, .n_head = 4, .channels = 128};
    int B = 16, T = 64, steps = 3000, threads = 0, eval_every = 500, log_every = 100, eval_batches = 8;
    uint64_t seed = 1337;
    const char *data = NULL;
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, 0);
    oc.lr = 2e-3f;
    oc.min_lr = 0;
    oc.warmup_steps = 50;
    float min_lr_frac = 0.1f;
    const arg_spec specs[] = {
        {"data", ARG_STR, &data, 0, 0, "text file to train on, byte level (default: embedded addition corpus)"},
        {"layers", ARG_INT, &cfg.n_layer, -1e9, 1e9, "number of transformer blocks L"},
        {"channels", ARG_INT, &cfg.channels, -1e9, 1e9, "embedding width C"},
        {"heads", ARG_INT, &cfg.n_head, -1e9, 1e9, "attention heads NH (must divide C)"},
        {"seq-len", ARG_INT, &T, -1e9, 1e9, "sequence length T"},
        {"max-seq-len", ARG_INT, &cfg.max_seq_len, -1e9, 1e9, "position embeddings (0: = seq-len)"},
        {"batch", ARG_INT, &B, -1e9, 1e9, "sequences per step B"},
        {"steps", ARG_INT, &steps, 1, 1e9, "training steps"},
        {"lr", ARG_FLOAT, &oc.lr, 0, 10, "peak learning rate"},
        {"min-lr-frac", ARG_FLOAT, &min_lr_frac, 0, 1, "final learning rate as a fraction of --lr"},
        {"warmup", ARG_INT, &oc.warmup_steps, 0, 1e9, "linear warm-up steps"},
        {"weight-decay", ARG_FLOAT, &oc.weight_decay, 0, 10, "AdamW decoupled weight decay (matrices only)"},
        {"beta1", ARG_FLOAT, &oc.beta1, 0, 0.999999, "AdamW beta1"},
        {"beta2", ARG_FLOAT, &oc.beta2, 0, 0.999999, "AdamW beta2"},
        {"grad-clip", ARG_FLOAT, &oc.grad_clip, 0, 1e9, "max global gradient norm (0: off)"},
        {"seed", ARG_U64, &seed, 0, 1.8e19, "seed for initialisation and data order"},
        {"threads", ARG_INT, &threads, 0, 1024, "threads (0: OMP_NUM_THREADS or all cores)"},
        {"eval-every", ARG_INT, &eval_every, 0, 1e9, "steps between validation evaluations (0: end only)"},
        {"eval-batches", ARG_INT, &eval_batches, 1, 1e6, "batches per validation evaluation"},
        {"log-every", ARG_INT, &log_every, 1, 1e9, "steps between progress lines"},
    };
    const int ns = sizeof specs / sizeof specs[0];
    char err[256];
    int r = args_parse(specs, ns, argc, argv,
                       "usage: loco train [flags]\n\nTrains a GPT-2 style model on bytes (vocabulary 256).",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) {
        fprintf(stderr, "loco train: %s\n", err);
        return 2;
    }
    if (cfg.max_seq_len == 0) cfg.max_seq_len = T;
    oc.max_steps = steps;
    oc.min_lr = oc.lr * min_lr_frac;
    if (T <= 0) {
        fprintf(stderr, "loco train: --seq-len must be positive (got %d)\n", T);
        return 2;
    }
    if (T > LOCO_MAX_SEQ_LEN || T > cfg.max_seq_len) {
        fprintf(stderr, "loco train: --seq-len %d exceeds the maximum %d\n", T,
                T > LOCO_MAX_SEQ_LEN ? LOCO_MAX_SEQ_LEN : cfg.max_seq_len);
        return 2;
    }
    if (B <= 0) {
        fprintf(stderr, "loco train: --batch must be positive (got %d)\n", B);
        return 2;
    }
    char msg[256];
    if (loco_gpt_config_check(&cfg, msg, sizeof msg) != LOCO_OK) {
        fprintf(stderr, "loco train: %s\n", msg);
        return 2;
    }

    loco_bytes_dataset d;
    if (data) {
        if (loco_dataset_load(&d, data, 0.1, (size_t)T + 1, msg, sizeof msg) != LOCO_OK) {
            fprintf(stderr, "loco train: %s\n", msg);
            return 1;
        }
    } else if (loco_dataset_synthetic(&d, 1 << 20, seed, 0.1) != LOCO_OK) {
        fprintf(stderr, "loco train: cannot build the default corpus\n");
        return 1;
    }

    int nthreads = loco_threads_set(threads);
    loco_gpt *m;
    int e = loco_gpt_create(&m, &cfg, B, T, seed, msg, sizeof msg);
    if (e != LOCO_OK) {
        fprintf(stderr, "loco train: %s\n", msg);
        loco_dataset_free(&d);
        return e == LOCO_ENOMEM ? 1 : 2;
    }
    printf("loco train: data=%s (%zu train / %zu val bytes)\n", data ? data : "embedded addition corpus",
           d.n_train, d.n - d.n_train);
    printf("  model  L=%d C=%d NH=%d V=%d max_seq_len=%d params=%zu (%.2f M)\n", cfg.n_layer,
           cfg.channels, cfg.n_head, cfg.vocab_size, cfg.max_seq_len, loco_gpt_num_params(m),
           loco_gpt_num_params(m) / 1e6);
    printf("  train  B=%d T=%d steps=%d seed=%llu threads=%d\n", B, T, steps,
           (unsigned long long)seed, nthreads);
    printf("  adamw  lr=%g min_lr=%g warmup=%d betas=(%g, %g) eps=%g weight_decay=%g grad_clip=%g\n",
           oc.lr, oc.min_lr, oc.warmup_steps, oc.beta1, oc.beta2, oc.eps, oc.weight_decay, oc.grad_clip);
    printf("  memory %.1f MiB in 4 blocks (parameters, gradients, AdamW state, activations)\n",
           loco_gpt_memory_bytes(m) / 1048576.0);
    fflush(stdout);

    int *tok = malloc(sizeof(int) * B * T), *tgt = malloc(sizeof(int) * B * T);
    loco_rng rng;
    loco_rng_seed(&rng, seed ^ 0x5eedda7aULL);
    double t0 = now_s(), tlog = t0;
    int status = 0;
    for (int step = 0; step < steps; step++) {
        loco_dataset_batch(&d, 0, &rng, B, T, tok, tgt);
        loco_gpt_forward(m, tok, tgt, B, T);
        float loss = loco_gpt_loss(m);
        loco_gpt_zero_grad(m);
        loco_gpt_backward(m);
        float norm;
        if (loco_gpt_adamw_step(m, &oc, step, &norm) != LOCO_OK || !isfinite(loss)) {
            fprintf(stderr, "loco train: step %d: loss or gradient is not finite (loss %g, norm %g); "
                    "try a lower --lr\n", step, loss, norm);
            status = 1;
            break;
        }
        if ((step + 1) % log_every == 0 || step == 0 || step + 1 == steps) {
            double t = now_s();
            int n = step == 0 ? 1 : ((step + 1) % log_every == 0 ? log_every : (step + 1) % log_every);
            printf("step %5d/%d  loss %.4f  lr %.2e  norm %.3f  %.0f tok/s\n", step + 1, steps, loss,
                   loco_lr_schedule(&oc, step), norm, (double)n * B * T / (t - tlog));
            fflush(stdout);
            tlog = t;
        }
        if ((eval_every && (step + 1) % eval_every == 0) || step + 1 == steps) {
            float vl = eval_loss(m, &d, B, T, eval_batches, tok, tgt);
            printf("step %5d/%d  val_loss %.4f  val_ppl %.3f\n", step + 1, steps, vl, expf(vl));
            fflush(stdout);
        }
    }
    double wall = now_s() - t0;
    if (!status && !data) {
        float acc = addition_accuracy(m, T, 100, tok);
        printf("addition accuracy (greedy, 100 unseen prompts): %.0f%%\n", 100 * acc);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("done in %.1f s; peak resident memory %.1f MiB\n", wall, ru.ru_maxrss / 1024.0);
    free(tok);
    free(tgt);
    loco_gpt_free(m);
    loco_dataset_free(&d);
    return status;
}
