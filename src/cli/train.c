/*
 * `loco train`: trains a GPT on a token source, either bytes (a text file with
 * --data, or by default an embedded addition corpus that a small model learns
 * in minutes) or token shards from `loco data prepare`.  With --out DIR it
 * writes DIR/model.safetensors (atomically, every --ckpt-every steps and at
 * the end), DIR/metrics.jsonl and DIR/loss.svg; --resume continues a run from
 * its checkpoint exactly as if it had never stopped.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/net_cmd.h"
#include "cli/train_dist.h"
#include "cli/train_resume.h"
#include "loco/checkpoint.h"
#include "loco/cuda.h"
#include "loco/data.h"
#include "loco/loco.h"
#include "loco/metrics.h"
#include "loco/sim.h"
#include "loco/source.h"

double loco_cli_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Every evaluation of a run draws the same windows (a fixed seed). */
float loco_cli_eval_loss(loco_gpt *m, const loco_source *src, int B, int T, int n_batches,
                         int *tok, int *tgt) {
    loco_rng rng;
    loco_rng_seed(&rng, 12345);
    double s = 0;
    for (int i = 0; i < n_batches; i++) {
        loco_source_batch(src, 1, &rng, B, T, tok, tgt);
        loco_gpt_forward(m, tok, tgt, B, T);
        s += loco_gpt_loss(m);
    }
    return (float)(s / n_batches);
}

/* loco_cli_eval_loss on the device model: the same windows, the same sum. */
static int eval_loss_cuda(loco_cuda_gpt *d, const loco_source *src, int B, int T, int n_batches, int *tok,
                          int *tgt, float *out) {
    loco_rng rng;
    loco_rng_seed(&rng, 12345);
    double s = 0;
    for (int i = 0; i < n_batches; i++) {
        loco_source_batch(src, 1, &rng, B, T, tok, tgt);
        int e = loco_cuda_gpt_forward(d, tok, tgt, B, T);
        if (e != LOCO_OK) return e;
        s += loco_cuda_gpt_loss(d);
    }
    *out = (float)(s / n_batches);
    return LOCO_OK;
}

/* One training step on the device: the CPU loop's forward, zero_grad,
 * backward and AdamW step.  Returns the first failure. */
static int step_cuda(loco_cuda_gpt *d, const int *tok, const int *tgt, int B, int T, const loco_adamw_config *oc,
                     int step, float *loss, float *norm) {
    int e = loco_cuda_gpt_forward(d, tok, tgt, B, T);
    if (e != LOCO_OK) return e;
    *loss = loco_cuda_gpt_loss(d);
    if ((e = loco_cuda_gpt_zero_grad(d)) != LOCO_OK || (e = loco_cuda_gpt_backward(d)) != LOCO_OK) return e;
    return loco_cuda_gpt_adamw_step(d, oc, step, norm);
}

/* Greedy decoding of "a+b=" prompts: the fraction of sums the model
 * completes correctly (the embedded corpus only).  tok holds T ints; T must
 * be at least 16 so that a prompt and its answer fit. */
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

/* Creates dir and any missing parents (like mkdir -p); returns 0, or -1
 * with a reason in msg. */
int loco_cli_mkdir(const char *dir, char *msg, size_t msglen) {
    char path[4096];
    if (!*dir) {
        snprintf(msg, msglen, "--out is empty: give a directory");
        return -1;
    }
    /* Room for the longest name written inside: "/model.safetensors.tmp.PID"
     * and its kin, so that no file name is cut short. */
    if (strlen(dir) > sizeof path - 64) {
        snprintf(msg, msglen, "%.200s...: path too long (%zu bytes; at most %zu)", dir, strlen(dir),
                 sizeof path - 64);
        return -1;
    }
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            snprintf(msg, msglen, "%s: cannot create directory %s: %s", dir, path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        snprintf(msg, msglen, "%s: exists and is not a directory", dir);
        return -1;
    }
    snprintf(msg, msglen, "%s: cannot create directory: %s", dir, strerror(errno));
    return -1;
}

int loco_cmd_train(int argc, char **argv) {
    /* --launch local: a coordinator and --workers worker processes (src/cli/launch.c). */
    if (loco_cli_wants_launch(argc, argv)) return loco_cli_launch(argc, argv);
    loco_gpt_config cfg = {.max_seq_len = 0, .vocab_size = 256, .n_layer = 4, .n_head = 4, .channels = 128};
    int B = 16, T = 64, steps = 0, threads = 0, eval_every = 500, log_every = 100, eval_batches = 8;
    int ckpt_every = 0, stop_after = 0;
    uint64_t seed = 1337;
    const char *data = NULL, *train_shard = NULL, *val_shard = NULL, *out = NULL, *resume = NULL;
    const char *tokenizer = NULL, *device = "cpu";
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, 0);
    oc.lr = 2e-3f;
    oc.warmup_steps = 50;
    float min_lr_frac = 0.1f;
    train_dist_args dist;
    train_dist_defaults(&dist);
    const arg_spec base[] = {
        {"data", ARG_STR, &data, 0, 0, "text file to train on, byte level (default: embedded addition corpus)"},
        {"train-shard", ARG_STR, &train_shard, 0, 0, "token shard to train on (from loco data prepare)"},
        {"val-shard", ARG_STR, &val_shard, 0, 0, "token shard to validate on (with --train-shard)"},
        {"tokenizer", ARG_STR, &tokenizer, 0, 0, "tokenizer of the shards, recorded in the checkpoint"},
        {"out", ARG_STR, &out, 0, 0, "directory for model.safetensors, metrics.jsonl, loss.svg"},
        {"resume", ARG_STR, &resume, 0, 0, "checkpoint to continue from (model, optimizer, data order)"},
        {"ckpt-every", ARG_INT, &ckpt_every, 0, 1e9, "steps between checkpoints (0: at the end only)"},
        {"stop-after", ARG_INT, &stop_after, 0, 1e9, "stop (and checkpoint) after this step (0: run to --steps)"},
        {"layers", ARG_INT, &cfg.n_layer, -1e9, 1e9, "number of transformer blocks L"},
        {"channels", ARG_INT, &cfg.channels, -1e9, 1e9, "embedding width C"},
        {"heads", ARG_INT, &cfg.n_head, -1e9, 1e9, "attention heads NH (must divide C)"},
        {"seq-len", ARG_INT, &T, -1e9, 1e9, "sequence length T"},
        {"max-seq-len", ARG_INT, &cfg.max_seq_len, -1e9, 1e9, "position embeddings (0: = seq-len)"},
        {"batch", ARG_INT, &B, -1e9, 1e9, "sequences per step B"},
        {"steps", ARG_INT, &steps, 1, 1e9, "training steps (default 3000; on --resume, the checkpoint's)"},
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
        {"device", ARG_STR, &device, 0, 0, "cpu, or cuda: train on the GPU, alone or as the workers of --algo diloco, async or dipaco "
         "(a make CUDA=1 build; docs/cuda.md)"},
    };
    arg_spec specs[sizeof base / sizeof base[0] + 48];
    memcpy(specs, base, sizeof base);
    const int ns = (int)(sizeof base / sizeof base[0]) + train_dist_specs(&dist, specs + sizeof base / sizeof base[0]);
    char err[512];
    int r = args_parse(specs, ns, argc, argv,
                       "usage: loco train [flags]\n\nTrains a GPT-2 style model on bytes or token shards, alone or as\n"
                       "M simulated workers (--algo ddp|diloco|async|dipaco; docs/diloco.md, docs/async.md, docs/dipaco.md).\n"
                       "With --launch local --workers M, as a coordinator and M worker processes\n"
                       "on this host (docs/distributed.md).",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) {
        fprintf(stderr, "loco train: %s\n", err);
        return 2;
    }
    if ((train_shard != NULL) != (val_shard != NULL)) {
        fprintf(stderr, "loco train: --train-shard and --val-shard go together\n");
        return 2;
    }
    if (data && train_shard) {
        fprintf(stderr, "loco train: give either --data or --train-shard/--val-shard, not both\n");
        return 2;
    }
    if (T <= 0) {
        fprintf(stderr, "loco train: --seq-len must be positive (got %d)\n", T);
        return 2;
    }
    if (B <= 0) {
        fprintf(stderr, "loco train: --batch must be positive (got %d)\n", B);
        return 2;
    }
    int distributed = dist.algo && strcmp(dist.algo, "single") != 0;
    /* --init: a warm start, here for a single run, in train_dist for the others. */
    const char *init = dist.init;
    if (!distributed) dist.init = NULL;
    if (init && resume) {
        fprintf(stderr, "loco train: --init starts a new run; --resume continues one: give one of them\n");
        return 2;
    }
    if (!distributed && train_dist_requested(&dist)) {
        fprintf(stderr, "loco train: --workers, --inner-steps, --outer-*, --split, --compress, --prune, "
                "--drop, --schedule, the async and the dipaco flags need --algo ddp, diloco, async or dipaco\n");
        return 2;
    }
    if (distributed && (resume || stop_after || ckpt_every)) {
        fprintf(stderr, "loco train: --resume, --stop-after and --ckpt-every are not supported with --algo %s "
                "(a simulated run saves its global model at the end)\n", dist.algo);
        return 2;
    }
    /* --device: checked before anything is loaded or trained. */
    const int use_cuda = strcmp(device, "cuda") == 0;
    if (!use_cuda && strcmp(device, "cpu") != 0) {
        fprintf(stderr, "loco train: --device must be cpu or cuda (got '%s')\n", device);
        return 2;
    }
    char cuda_name[512] = "";
    if (use_cuda) {
        int ce = loco_cuda_available(cuda_name, sizeof cuda_name);
        if (ce != LOCO_OK) {
            fprintf(stderr, "loco train: --device cuda: %s\n", cuda_name);
            return ce == LOCO_ENOTSUP ? 2 : 1;
        }
    }
    /* DDP's workers share one replica and sum their gradients on the host
     * every step, which the device model does not do (docs/cuda.md). */
    if (use_cuda && distributed && !strcmp(dist.algo, "ddp")) {
        fprintf(stderr, "loco train: --device cuda runs the workers of --algo diloco, async and dipaco; "
                "--algo ddp runs on the CPU only\n");
        return 2;
    }
    char msg[512];
    loco_checkpoint_meta meta, stored;
    memset(&meta, 0, sizeof meta);
    const train_run_flags run_flags = {&B, &T, &ckpt_every, &eval_every, &eval_batches, &log_every,
                                       &data, &train_shard, &val_shard};
    loco_gpt *m = NULL;
    int nthreads = loco_threads_set(threads);
    if (resume) {
        /* The model, the optimizer, its schedule, the seed and the data
         * order all come from the checkpoint, so that the resumed run is the
         * run that stopped. */
        if (loco_checkpoint_read_meta(resume, &cfg, &stored, msg, sizeof msg) != LOCO_OK) {
            fprintf(stderr, "loco train: %s\n", msg);
            return 1;
        }
        /* The flags left out come back from the checkpoint (--batch, --seq-len, the cadences, the data). */
        if (train_resume_restore(resume, &stored.run, &run_flags, msg, sizeof msg)) {
            fprintf(stderr, "loco train: %s\n", msg);
            return 2;
        }
        if (T > cfg.max_seq_len) {
            fprintf(stderr, "loco train: --seq-len %d exceeds the maximum %d of %s\n", T, cfg.max_seq_len, resume);
            return 2;
        }
        /* With --device cuda the host model only holds the parameters (and
         * decodes the addition prompts), so it needs a capacity of 1 x T. */
        int e = loco_checkpoint_load(resume, &m, use_cuda ? 1 : B, T, &meta, msg, sizeof msg);
        if (e != LOCO_OK) {
            fprintf(stderr, "loco train: %s\n", msg);
            return 1;
        }
        if (steps && steps != meta.opt.max_steps) {
            fprintf(stderr, "loco train: --steps %d differs from the schedule in %s (%d steps); "
                    "leave --steps out to finish that run\n", steps, resume, meta.opt.max_steps);
            loco_gpt_free(m);
            return 2;
        }
        steps = meta.opt.max_steps;
        seed = meta.seed;
        if (meta.step >= steps || (stop_after && stop_after <= meta.step)) {
            fprintf(stderr, "loco train: %s is already at step %ld of %d%s\n", resume, meta.step, steps,
                    stop_after ? " (or past --stop-after)" : "");
            loco_gpt_free(m);
            return 2;
        }
        if (!tokenizer && meta.tokenizer[0]) tokenizer = meta.tokenizer;
    } else {
        if (!steps) steps = 3000;
        /* A warm start takes its model shape from the checkpoint. */
        const loco_gpt_config asked = cfg;
        if (init && loco_cli_init_config(init, &cfg, msg, sizeof msg) != LOCO_OK) {
            fprintf(stderr, "loco train: %s\n", msg);
            return 1;
        }
        if (init && train_init_check_shape(init, &cfg, &asked, msg, sizeof msg)) {
            fprintf(stderr, "loco train: %s\n", msg);
            return 2;
        }
        if (cfg.max_seq_len == 0) cfg.max_seq_len = T;
    }
    if (T > LOCO_MAX_SEQ_LEN || T > cfg.max_seq_len) {
        fprintf(stderr, "loco train: --seq-len %d exceeds the maximum %d\n", T,
                T > LOCO_MAX_SEQ_LEN ? LOCO_MAX_SEQ_LEN : cfg.max_seq_len);
        loco_gpt_free(m);
        return 2;
    }
    if (tokenizer && strlen(tokenizer) >= sizeof meta.tokenizer) {
        fprintf(stderr, "loco train: --tokenizer path is longer than %zu bytes\n", sizeof meta.tokenizer - 1);
        loco_gpt_free(m);
        return 2;
    }

    loco_source src;
    if (train_shard) {
        if (loco_source_open_shards(&src, train_shard, val_shard, (uint64_t)T + 1, msg, sizeof msg)) {
            fprintf(stderr, "loco train: %s\n", msg);
            loco_gpt_free(m);
            return 1;
        }
    } else {
        loco_bytes_dataset d;
        if (data) {
            if (loco_dataset_load(&d, data, 0.1, (size_t)T + 1, msg, sizeof msg) != LOCO_OK) {
                fprintf(stderr, "loco train: %s\n", msg);
                loco_gpt_free(m);
                return 1;
            }
        } else if (loco_dataset_synthetic(&d, 1 << 20, seed, 0.1) != LOCO_OK) {
            fprintf(stderr, "loco train: cannot build the default corpus\n");
            loco_gpt_free(m);
            return 1;
        }
        loco_source_from_bytes(&src, &d);
    }
    if (!resume && !init) cfg.vocab_size = src.vocab_size;
    if (cfg.vocab_size != src.vocab_size) {
        fprintf(stderr, "loco train: %s has vocabulary %d but the data has %d\n", resume ? resume : init,
                cfg.vocab_size, src.vocab_size);
        loco_source_close(&src);
        loco_gpt_free(m);
        return 1;
    }
    if (loco_gpt_config_check(&cfg, msg, sizeof msg) != LOCO_OK) {
        fprintf(stderr, "loco train: %s\n", msg);
        loco_source_close(&src);
        return 2;
    }
    int te = train_check_tokenizer(tokenizer == meta.tokenizer ? NULL : tokenizer, resume, src.vocab_size, msg,
                                   sizeof msg);
    if (te) {
        fprintf(stderr, "loco train: %s\n", msg);
        loco_source_close(&src);
        loco_gpt_free(m);
        return te;
    }
    if (out && loco_cli_mkdir(out, msg, sizeof msg)) {
        fprintf(stderr, "loco train: %s\n", msg);
        loco_source_close(&src);
        loco_gpt_free(m);
        return 1;
    }

    if (distributed) {
        train_common tc = {cfg, B, T, steps, eval_every, eval_batches, log_every, nthreads, seed, oc,
                           out, tokenizer, train_shard ? train_shard : data ? data : "embedded addition corpus",
                           use_cuda};
        tc.oc.max_steps = steps;
        tc.oc.min_lr = oc.lr * min_lr_frac;
        /* Only the workers' inner steps move to the device: evaluation, the
         * outer steps and every message stay on the host. */
        if (use_cuda) printf("loco train: --device cuda: %s (the workers' inner steps)\n", cuda_name);
        int st = train_dist_run(&dist, &tc, &src);
        loco_source_close(&src);
        return st;
    }
    loco_rng rng;
    long start = 0;
    int e = LOCO_OK;
    if (resume) {
        oc = meta.opt;
        start = meta.step;
        memcpy(rng.s, meta.rng_state, sizeof rng.s);
    } else {
        oc.max_steps = steps;
        oc.min_lr = oc.lr * min_lr_frac;
        e = loco_gpt_create(&m, &cfg, use_cuda ? 1 : B, T, seed, msg, sizeof msg);
        if (e == LOCO_OK && init) {
            loco_gpt *w = NULL;
            e = loco_cli_init_load(init, &w, 1, 1, msg, sizeof msg);
            if (e == LOCO_OK) memcpy(loco_gpt_params(m), loco_gpt_params(w), loco_gpt_num_params(m) * sizeof(float));
            loco_gpt_free(w);
            if (e != LOCO_OK) {
                loco_gpt_free(m);
                m = NULL;
            }
        }
        loco_rng_seed(&rng, loco_stream_seed(seed, 0));
    }
    if (e != LOCO_OK) {
        fprintf(stderr, "loco train: %s\n", msg);
        loco_source_close(&src);
        return e == LOCO_ECONFIG ? 2 : 1;
    }
    long end = stop_after > 0 && stop_after < steps ? stop_after : steps;
    /* --device cuda: the device model is a copy of m (fresh or resumed);
     * m gets the parameters and AdamW state back before each checkpoint and
     * at the end. */
    loco_cuda_gpt *dev = NULL;
    if (use_cuda && (e = loco_cuda_gpt_create(&dev, m, B, T, msg, sizeof msg)) != LOCO_OK) {
        fprintf(stderr, "loco train: --device cuda: %s\n", msg);
        loco_source_close(&src);
        loco_gpt_free(m);
        return e == LOCO_ECONFIG ? 2 : 1;
    }

    printf("loco train: data=%s (%llu train / %llu val tokens, vocabulary %d)\n",
           train_shard ? train_shard : data ? data : "embedded addition corpus",
           (unsigned long long)loco_source_tokens(&src, 0), (unsigned long long)loco_source_tokens(&src, 1),
           src.vocab_size);
    printf("  model  L=%d C=%d NH=%d V=%d max_seq_len=%d params=%zu (%.2f M)%s%s\n", cfg.n_layer,
           cfg.channels, cfg.n_head, cfg.vocab_size, cfg.max_seq_len, loco_gpt_num_params(m),
           loco_gpt_num_params(m) / 1e6, resume ? " resumed from " : "", resume ? resume : "");
    printf("  train  B=%d T=%d steps=%ld..%ld of %d seed=%llu threads=%d\n", B, T, start, end, steps,
           (unsigned long long)seed, nthreads);
    printf("  adamw  lr=%g min_lr=%g warmup=%d betas=(%g, %g) eps=%g weight_decay=%g grad_clip=%g\n",
           oc.lr, oc.min_lr, oc.warmup_steps, oc.beta1, oc.beta2, oc.eps, oc.weight_decay, oc.grad_clip);
    printf("  memory %.1f MiB in 4 blocks (parameters, gradients, AdamW state, activations)\n",
           loco_gpt_memory_bytes(m) / 1048576.0);
    if (dev)
        printf("  device cuda: %s; %.1f MiB on the device in 4 blocks\n", cuda_name,
               loco_cuda_gpt_memory_bytes(dev) / 1048576.0);
    if (out) printf("  output %s/{model.safetensors,metrics.jsonl,loss.svg}\n", out);
    fflush(stdout);

    char ckpt_path[4096] = "", log_path[4096] = "", svg_path[4096] = "";
    loco_metrics *log = NULL;
    if (out) {
        snprintf(ckpt_path, sizeof ckpt_path, "%s/model.safetensors", out);
        /* A fresh run into the directory of an earlier one replaces its
         * model and log: said, not done silently (--resume continues it). */
        struct stat earlier;
        if (!resume && stat(ckpt_path, &earlier) == 0 && S_ISREG(earlier.st_mode))
            fprintf(stderr, "loco train: warning: %s holds an earlier run; this run replaces its model and log "
                    "(--resume %s continues it instead)\n", out, ckpt_path);
        snprintf(log_path, sizeof log_path, "%s/metrics.jsonl", out);
        snprintf(svg_path, sizeof svg_path, "%s/loss.svg", out);
        e = resume ? loco_metrics_truncate_after(log_path, start, msg, sizeof msg) : LOCO_OK;
        if (e == LOCO_OK)
            e = resume ? loco_metrics_open_append(&log, log_path, msg, sizeof msg)
                       : loco_metrics_open(&log, log_path, msg, sizeof msg);
        if (e) {
            fprintf(stderr, "loco train: %s\n", msg);
            loco_cuda_gpt_free(dev);
            loco_gpt_free(m);
            loco_source_close(&src);
            return 1;
        }
    }
    /* On resume, tokenizer may already point at meta.tokenizer itself. */
    if (tokenizer != meta.tokenizer) snprintf(meta.tokenizer, sizeof meta.tokenizer, "%s", tokenizer ? tokenizer : "");
    meta.seed = seed;
    train_resume_record(&meta.run, &run_flags);

    int *tok = malloc(sizeof(int) * B * T), *tgt = malloc(sizeof(int) * B * T);
    int *acc_buf = malloc(sizeof(int) * T);
    if (!tok || !tgt || !acc_buf) {
        fprintf(stderr, "loco train: out of memory for the batch buffers\n");
        free(tok); free(tgt); free(acc_buf);
        loco_metrics_close(log);
        loco_cuda_gpt_free(dev);
        loco_gpt_free(m);
        loco_source_close(&src);
        return 1;
    }
    /* The checkpoint embeds the tokenizer, so that it works wherever it is
     * copied (on --resume: the one the resumed checkpoint carries). */
    char *tok_json = NULL;
    if (out && loco_cli_tokenizer_json(resume, tokenizer == meta.tokenizer ? NULL : tokenizer, &tok_json, msg,
                                       sizeof msg) != LOCO_OK) {
        fprintf(stderr, "loco train: %s\n", msg);
        free(tok); free(tgt); free(acc_buf);
        loco_metrics_close(log);
        loco_cuda_gpt_free(dev);
        loco_gpt_free(m);
        loco_source_close(&src);
        return 1;
    }
    meta.tokenizer_json = tok_json;
    const int tty = isatty(STDOUT_FILENO);
    double t0 = loco_cli_now(), tlog = t0;
    long tokens_since = 0;
    int status = 0;
    float loss = NAN, vl = NAN;
    for (long step = start; step < end; step++) {
        loco_source_batch(&src, 0, &rng, B, T, tok, tgt);
        float norm;
        int se;
        if (dev) {
            se = step_cuda(dev, tok, tgt, B, T, &oc, (int)step, &loss, &norm);
            if (se != LOCO_OK && se != LOCO_ENONFINITE) {
                fprintf(stderr, "loco train: step %ld: --device cuda: %s\n", step, loco_cuda_gpt_error(dev));
                status = 1;
                break;
            }
        } else {
            loco_gpt_forward(m, tok, tgt, B, T);
            loss = loco_gpt_loss(m);
            loco_gpt_zero_grad(m);
            loco_gpt_backward(m);
            se = loco_gpt_adamw_step(m, &oc, (int)step, &norm);
        }
        if (se != LOCO_OK || !isfinite(loss)) {
            fprintf(stderr, "loco train: step %ld: loss or gradient is not finite (loss %g, norm %g); "
                    "try a lower --lr\n", step, loss, norm);
            status = 1;
            break;
        }
        tokens_since += (long)B * T;
        double t = loco_cli_now();
        if ((step + 1) % log_every == 0 || step == start || step + 1 == end) {
            double tps = tokens_since / (t - tlog);
            loco_progress_print(stdout, tty, step + 1, steps, loss, tps, (steps - step - 1) * (double)B * T / tps);
            if (log) {
                const char *k[] = {"loss", "lr", "grad_norm", "tok_per_s", "time_s"};
                double v[] = {loss, loco_lr_schedule(&oc, (int)step), norm, tps, t - t0};
                loco_metrics_log(log, "train", step + 1, k, v, 5);
            }
            tlog = t;
            tokens_since = 0;
        }
        if ((eval_every && (step + 1) % eval_every == 0) || step + 1 == end) {
            if (!dev) {
                vl = loco_cli_eval_loss(m, &src, B, T, eval_batches, tok, tgt);
            } else if (eval_loss_cuda(dev, &src, B, T, eval_batches, tok, tgt, &vl) != LOCO_OK) {
                fprintf(stderr, "loco train: evaluation: --device cuda: %s\n", loco_cuda_gpt_error(dev));
                status = 1;
                break;
            }
            if (tty) printf("\n");
            printf("step %5ld/%d  val_loss %.4f  val_ppl %.3f\n", step + 1, steps, vl, expf(vl));
            fflush(stdout);
            if (log) {
                const char *k[] = {"loss", "ppl"};
                double v[] = {vl, exp(vl)};
                loco_metrics_log(log, "eval", step + 1, k, v, 2);
            }
        }
        if (out && ((ckpt_every && (step + 1) % ckpt_every == 0) || step + 1 == end)) {
            meta.step = step + 1;
            meta.opt = oc;
            memcpy(meta.rng_state, rng.s, sizeof rng.s);
            if (dev && loco_cuda_gpt_to_host(dev, m) != LOCO_OK) {
                fprintf(stderr, "loco train: checkpoint: --device cuda: %s\n", loco_cuda_gpt_error(dev));
                status = 1;
                break;
            }
            if (loco_checkpoint_save(ckpt_path, m, &meta, 1, msg, sizeof msg) != LOCO_OK) {
                fprintf(stderr, "loco train: %s\n", msg);
                status = 1;
                break;
            }
        }
    }
    double wall = loco_cli_now() - t0;
    /* The host model gets the trained parameters (for the accuracy below). */
    if (dev && !status && loco_cuda_gpt_to_host(dev, m) != LOCO_OK) {
        fprintf(stderr, "loco train: --device cuda: %s\n", loco_cuda_gpt_error(dev));
        status = 1;
    }
    loco_cuda_gpt_free(dev);
    loco_metrics_close(log);
    if (!status && out) {
        const char *logs[] = {log_path};
        if (loco_plot_svg(logs, 1, svg_path, msg, sizeof msg) != LOCO_OK)
            fprintf(stderr, "loco train: warning: no plot: %s\n", msg);
    }
    if (!status && !data && !train_shard && T >= 16 && B * T >= 16) {
        float acc = addition_accuracy(m, T, 100, acc_buf);
        printf("addition accuracy (greedy, 100 unseen prompts): %.0f%%\n", 100 * acc);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (!status)
        printf("done: %ld steps in %.1f s; val_loss %.4f, val_ppl %.3f; peak resident memory %.1f MiB%s%s\n",
               end - start, wall, vl, exp(vl), ru.ru_maxrss / 1024.0, out ? "; wrote " : "", out ? out : "");
    free(tok);
    free(tgt);
    free(acc_buf);
    free(tok_json);
    loco_gpt_free(m);
    loco_source_close(&src);
    return status;
}
