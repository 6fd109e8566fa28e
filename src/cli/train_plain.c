/*
 * `loco train` alone (--algo single, the default): one model, AdamW, a
 * checkpoint every --ckpt-every steps and at the end, and --resume, which
 * continues a run exactly as if it had never stopped (src/cli/train_resume.h).
 * With --device cuda the steps run on the GPU and the host model holds the
 * parameters for checkpoints and the addition prompts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/train_dist.h"
#include "cli/train_resume.h"
#include "loco/checkpoint.h"
#include "loco/cuda.h"
#include "loco/metrics.h"
#include "loco/sim.h"
#include "loco/train.h"

/* loco_cli_eval_loss on the device model: the same windows, the same sum. */
static int eval_loss_cuda(loco_cuda_gpt *d, const loco_source *src, int B, int T, int n_batches, int *tok,
                          int *tgt, float *out) {
    loco_rng rng;
    loco_rng_seed(&rng, LOCO_CLI_EVAL_SEED);
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

/* The plain trainer's flags that a checkpoint records, in s. */
static train_run_flags run_flags_of(run_spec *s) {
    return (train_run_flags){&s->B, &s->T, &s->ckpt_every, &s->eval_every, &s->eval_batches, &s->log_every,
                             &s->data, &s->train_shard, &s->val_shard};
}

int train_plain_resume(run_spec *s, train_resumed *r, char *msg, size_t msglen) {
    /* The model, the optimizer, its schedule, the seed and the data order
     * all come from the checkpoint, so that the resumed run is the run that
     * stopped. */
    memset(r, 0, sizeof *r);
    if (loco_checkpoint_read_meta(s->resume, &s->cfg, &r->stored, msg, msglen) != LOCO_OK) return 1;
    /* The flags left out come back from the checkpoint (--batch, --seq-len, the cadences, the data). */
    const train_run_flags f = run_flags_of(s);
    if (train_resume_restore(s->resume, &r->stored.run, &f, msg, msglen)) return 2;
    if (s->T > s->cfg.max_seq_len) {
        snprintf(msg, msglen, "--seq-len %d exceeds the maximum %d of %s", s->T, s->cfg.max_seq_len, s->resume);
        return 2;
    }
    /* With --device cuda the host model only holds the parameters (and
     * decodes the addition prompts), so it needs a capacity of 1 x T. */
    if (loco_checkpoint_load(s->resume, &r->m, s->cuda ? 1 : s->B, s->T, &r->meta, msg, msglen) != LOCO_OK)
        return 1;
    const loco_checkpoint_meta *meta = &r->meta;
    int st = 0;
    if (s->steps && s->steps != meta->opt.max_steps) {
        snprintf(msg, msglen, "--steps %d differs from the schedule in %s (%d steps); leave --steps out to finish "
                 "that run", s->steps, s->resume, meta->opt.max_steps);
        st = 2;
    } else if (meta->step >= meta->opt.max_steps || (s->stop_after && s->stop_after <= meta->step)) {
        snprintf(msg, msglen, "%s is already at step %ld of %d%s", s->resume, meta->step, meta->opt.max_steps,
                 s->stop_after ? " (or past --stop-after)" : "");
        st = 2;
    }
    if (st) {
        loco_gpt_free(r->m);
        r->m = NULL;
        return st;
    }
    s->steps = meta->opt.max_steps;
    s->seed = meta->seed;
    return 0;
}

int train_plain_run(const run_spec *s, train_resumed *r, loco_source *src) {
    /* The spec's values under the names the loop below reads. */
    loco_gpt_config cfg = s->cfg;
    int B = s->B, T = s->T, ckpt_every = s->ckpt_every, eval_every = s->eval_every;
    int eval_batches = s->eval_batches, log_every = s->log_every;
    const int steps = s->steps, stop_after = s->stop_after, nthreads = s->threads, use_cuda = s->cuda;
    const uint64_t seed = s->seed;
    const char *data = s->data, *train_shard = s->train_shard, *val_shard = s->val_shard, *out = s->out;
    const char *resume = s->resume, *init = s->dist.init, *cuda_name = s->device_name;
    loco_adamw_config oc = s->oc;
    const float min_lr_frac = s->min_lr_frac;
    loco_gpt *m = r->m;
    loco_checkpoint_meta meta = r->meta;
    /* On resume, the tokenizer the checkpoint records, unless given. */
    const char *tokenizer = s->tokenizer ? s->tokenizer : resume && meta.tokenizer[0] ? meta.tokenizer : NULL;
    char msg[512];
    const train_run_flags run_flags = {&B, &T, &ckpt_every, &eval_every, &eval_batches, &log_every,
                                       &data, &train_shard, &val_shard};
    loco_rng rng;
    long start = 0;
    int e = LOCO_OK, status = 0;
    loco_cuda_gpt *dev = NULL;
    loco_metrics *log = NULL;
    int *tok = NULL, *tgt = NULL, *acc_buf = NULL;
    char *tok_json = NULL;
    char ckpt_path[4096] = "", log_path[4096] = "", svg_path[4096] = "";
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
        }
        loco_rng_seed(&rng, loco_stream_seed(seed, 0));
    }
    if (e != LOCO_OK) {
        fprintf(stderr, "loco train: %s\n", msg);
        status = e == LOCO_ECONFIG ? 2 : 1;
        goto done;
    }
    long end = stop_after > 0 && stop_after < steps ? stop_after : steps;
    /* --device cuda: the device model is a copy of m (fresh or resumed);
     * m gets the parameters and AdamW state back before each checkpoint and
     * at the end. */
    if (use_cuda && (e = loco_cuda_gpt_create(&dev, m, B, T, msg, sizeof msg)) != LOCO_OK) {
        fprintf(stderr, "loco train: --device cuda: %s\n", msg);
        status = e == LOCO_ECONFIG ? 2 : 1;
        goto done;
    }

    printf("loco train: data=%s (%llu train / %llu val tokens, vocabulary %d)\n",
           train_shard ? train_shard : data ? data : "embedded addition corpus",
           (unsigned long long)loco_source_tokens(src, 0), (unsigned long long)loco_source_tokens(src, 1),
           src->vocab_size);
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
            status = 1;
            goto done;
        }
    }
    /* On resume, tokenizer may already point at meta.tokenizer itself. */
    if (tokenizer != meta.tokenizer) snprintf(meta.tokenizer, sizeof meta.tokenizer, "%s", tokenizer ? tokenizer : "");
    meta.seed = seed;
    train_resume_record(&meta.run, &run_flags);

    tok = malloc(sizeof(int) * B * T);
    tgt = malloc(sizeof(int) * B * T);
    acc_buf = malloc(sizeof(int) * T);
    if (!tok || !tgt || !acc_buf) {
        fprintf(stderr, "loco train: out of memory for the batch buffers\n");
        status = 1;
        goto done;
    }
    /* The checkpoint embeds the tokenizer, so that it works wherever it is
     * copied (on --resume: the one the resumed checkpoint carries). */
    if (out && loco_cli_tokenizer_json(resume, tokenizer == meta.tokenizer ? NULL : tokenizer, &tok_json, msg,
                                       sizeof msg) != LOCO_OK) {
        fprintf(stderr, "loco train: %s\n", msg);
        status = 1;
        goto done;
    }
    meta.tokenizer_json = tok_json;
    const int tty = isatty(STDOUT_FILENO);
    double t0 = loco_cli_now(), tlog = t0;
    long tokens_since = 0;
    float loss = NAN, vl = NAN;
    for (long step = start; step < end; step++) {
        loco_source_batch(src, 0, &rng, B, T, tok, tgt);
        float norm;
        int se = loco_train_step(m, dev, tok, tgt, B, T, &oc, step, &loss, &norm, msg, sizeof msg);
        if (se == LOCO_ENONFINITE) {
            fprintf(stderr, "loco train: step %ld: loss or gradient is not finite (loss %g, norm %g); "
                    "try a lower --lr\n", step, loss, norm);
            status = 1;
            break;
        }
        if (se != LOCO_OK) {
            fprintf(stderr, "loco train: step %ld: %s\n", step, msg);
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
                vl = loco_cli_eval_loss(m, src, B, T, eval_batches, tok, tgt);
            } else if (eval_loss_cuda(dev, src, B, T, eval_batches, tok, tgt, &vl) != LOCO_OK) {
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
    dev = NULL;
    loco_metrics_close(log);
    log = NULL;
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
done:
    loco_cuda_gpt_free(dev);
    loco_metrics_close(log);
    free(tok);
    free(tgt);
    free(acc_buf);
    free(tok_json);
    loco_gpt_free(m);
    loco_source_close(src);
    return status;
}
