/*
 * The shared pieces of `loco train` and `loco coordinator` between a checked
 * run spec and a driver's loop (src/cli/run_setup.h): opening the data,
 * the model's shape, the shards of many workers, the warm start, the
 * metrics log and the saved global model, written once here for every
 * algorithm and both commands.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/run_setup.h"
#include "cli/train_resume.h"
#include "loco/checkpoint.h"
#include "loco/data.h"
#include "loco/file.h"
#include "loco/metrics.h"

train_common run_common(const run_spec *s) {
    train_common c = {s->cfg, s->B, s->T, s->steps, s->eval_every, s->eval_batches, s->log_every, s->threads,
                      s->seed, s->oc, s->out, s->tokenizer,
                      s->train_shard ? s->train_shard : s->data ? s->data : "embedded addition corpus", s->cuda};
    c.oc.max_steps = s->steps;
    c.oc.min_lr = s->oc.lr * s->min_lr_frac;
    return c;
}

/* Opens --train-shard/--val-shard, --data, or the embedded corpus.
 * Returns 0, or 1 with a reason in msg. */
static int open_data(const run_spec *s, loco_source *src, char *msg, size_t msglen) {
    if (s->train_shard)
        return loco_source_open_shards(src, s->train_shard, s->val_shard, (uint64_t)s->T + 1, msg, msglen) ? 1 : 0;
    loco_bytes_dataset d;
    if (s->data) {
        if (loco_dataset_load(&d, s->data, 0.1, (size_t)s->T + 1, msg, msglen) != LOCO_OK) return 1;
    } else if (loco_dataset_synthetic(&d, 1 << 20, s->seed, 0.1) != LOCO_OK) {
        snprintf(msg, msglen, "cannot build the default corpus");
        return 1;
    }
    loco_source_from_bytes(src, &d);
    return 0;
}

int run_prepare(run_spec *s, int resumed, loco_source *src, char *msg, size_t msglen) {
    const char *init = s->dist.init;
    if (!resumed) {
        if (!s->steps) s->steps = 3000;
        /* A warm start takes its model shape from the checkpoint. */
        const loco_gpt_config asked = s->cfg;
        if (init && loco_cli_init_config(init, &s->cfg, msg, msglen) != LOCO_OK) return 1;
        if (init && train_init_check_shape(init, &s->cfg, &asked, msg, msglen)) return 2;
        if (s->cfg.max_seq_len == 0) s->cfg.max_seq_len = s->T;
    }
    if (s->T > LOCO_MAX_SEQ_LEN || s->T > s->cfg.max_seq_len) {
        snprintf(msg, msglen, "--seq-len %d exceeds the maximum %d", s->T,
                 s->T > LOCO_MAX_SEQ_LEN ? LOCO_MAX_SEQ_LEN : s->cfg.max_seq_len);
        return 2;
    }
    const size_t room = sizeof ((loco_checkpoint_meta *)0)->tokenizer;
    if (s->tokenizer && strlen(s->tokenizer) >= room) {
        snprintf(msg, msglen, "--tokenizer path is longer than %zu bytes", room - 1);
        return 2;
    }
    s->threads = loco_threads_set(s->threads);
    if (open_data(s, src, msg, msglen)) return 1;
    int st = 0;
    if (!resumed && !init) s->cfg.vocab_size = src->vocab_size;
    if (s->cfg.vocab_size != src->vocab_size) {
        snprintf(msg, msglen, "%s has vocabulary %d but the data has %d", resumed ? s->resume : init,
                 s->cfg.vocab_size, src->vocab_size);
        st = 1;
    } else if (loco_gpt_config_check(&s->cfg, msg, msglen) != LOCO_OK) {
        st = 2;
    } else if ((st = train_check_tokenizer(s->tokenizer, resumed ? s->resume : NULL, src->vocab_size, msg,
                                           msglen)) != 0) {
    } else if (s->out && loco_cli_mkdir(s->out, msg, msglen)) {
        st = 1;
    }
    if (st) loco_source_close(src);
    return st;
}

/* Every evaluation of a run draws the same windows (a fixed seed). */
float loco_cli_eval_loss(loco_gpt *m, const loco_source *src, int B, int T, int n_batches,
                         int *tok, int *tgt) {
    loco_rng rng;
    loco_rng_seed(&rng, LOCO_CLI_EVAL_SEED);
    double s = 0;
    for (int i = 0; i < n_batches; i++) {
        loco_source_batch(src, 1, &rng, B, T, tok, tgt);
        loco_gpt_forward(m, tok, tgt, B, T);
        s += loco_gpt_loss(m);
    }
    return (float)(s / n_batches);
}

/* Reads one label per line (documents in shard order).  Returns a malloc'd
 * array of n_docs strings in one block, or NULL with a reason in msg. */
static char **read_labels(const char *path, int n_docs, char *msg, size_t msglen) {
    FILE *f = loco_file_open_input(path, msg, msglen);
    if (!f) return NULL;
    size_t n;
    uint8_t *text = loco_cli_read_all(f, &n);
    fclose(f);
    char **lab = text ? malloc(sizeof(char *) * (size_t)n_docs + n + 1) : NULL;
    if (!lab) {
        free(text);
        snprintf(msg, msglen, "%s: cannot read labels", path);
        return NULL;
    }
    char *buf = (char *)(lab + n_docs);
    memcpy(buf, text, n);
    buf[n] = 0;
    free(text);
    int k = 0;
    for (char *p = buf, *nl; *p && k <= n_docs; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (k < n_docs) lab[k] = p;
        k++;
        if (!nl) break;
    }
    if (k != n_docs) {
        snprintf(msg, msglen, "%s: %d labels for %d training documents", path, k, n_docs);
        free(lab);
        return NULL;
    }
    return lab;
}

int train_shards_open(train_shards *ts, const train_dist_args *d, int M, const loco_source *src, uint64_t seed,
                      char *msg, size_t msglen) {
    memset(ts, 0, sizeof *ts);
    loco_docs *docs = &ts->docs;
    if (src->is_shards) {
        *docs = (loco_docs){src->train.tokens, src->train.token_bytes, src->train.doc_offsets,
                            (int)src->train.n_docs};
    } else {
        size_t n = src->bytes.n_train, chunk = 1024, nd = (n + chunk - 1) / chunk;
        ts->ids = malloc(n * sizeof *ts->ids);
        ts->offsets = malloc((nd + 1) * sizeof *ts->offsets);
        if (!ts->ids || !ts->offsets) {
            snprintf(msg, msglen, "out of memory for the documents");
            return 1;
        }
        for (size_t i = 0; i < n; i++) ts->ids[i] = src->bytes.bytes[i];
        for (size_t k = 0; k <= nd; k++) ts->offsets[k] = k * chunk < n ? k * chunk : n;
        *docs = (loco_docs){ts->ids, 2, ts->offsets, (int)nd};
    }
    int e;
    int *assign = malloc(sizeof(int) * (size_t)docs->n_docs);
    if (!assign) {
        snprintf(msg, msglen, "out of memory for the split");
        return 1;
    }
    if (!strcmp(d->split, "iid")) {
        e = loco_split_iid_tokens(docs, M, seed, assign, msg, msglen);
    } else if (!strcmp(d->split, "kmeans")) {
        e = loco_split_kmeans(docs, M, seed, 1 << 16, 30, assign, NULL, msg, msglen);
    } else if (!strcmp(d->split, "label")) {
        char **labels = d->labels ? read_labels(d->labels, docs->n_docs, msg, msglen) : NULL;
        if (!d->labels) snprintf(msg, msglen, "--split label needs --labels FILE");
        e = labels ? loco_split_by_label((const char *const *)labels, docs->n_docs, M, assign, NULL, msg, msglen)
                   : LOCO_EINVAL;
        free(labels);
    } else {
        snprintf(msg, msglen, "--split must be iid, kmeans or label (got '%s')", d->split);
        e = LOCO_EINVAL;
    }
    if (e == LOCO_OK) e = loco_split_create(&ts->split, docs, assign, M, msg, msglen);
    free(assign);
    return e == LOCO_OK ? 0 : e == LOCO_EINVAL ? 2 : 1;
}

void train_shards_close(train_shards *ts) {
    loco_split_free(ts->split);
    free(ts->ids);
    free(ts->offsets);
    memset(ts, 0, sizeof *ts);
}

const char *train_fmt_bytes(double b, char *buf, size_t n) {
    const char *u[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int i = 0;
    while (b >= 1000 && i < 5) { b /= 1000; i++; }
    snprintf(buf, n, i ? "%.2f %s" : "%.0f %s", b, u[i]);
    return buf;
}

int train_load_init(const char *path, const train_common *c, float **out, char *msg, size_t msglen) {
    loco_gpt *w = NULL;
    *out = NULL;
    if (loco_cli_init_load(path, &w, 1, 1, msg, msglen) != LOCO_OK) return 1;
    size_t P = loco_gpt_num_params(w);
    *out = malloc(P * sizeof(float));
    if (*out) memcpy(*out, loco_gpt_params(w), P * sizeof(float));
    loco_gpt_free(w);
    if (!*out) snprintf(msg, msglen, "out of memory for the parameters of %s", path);
    return *out ? 0 : 1;
}

int train_open_log(const char *out, loco_metrics **log, char *msg, size_t msglen) {
    *log = NULL;
    if (!out) return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", out);
    return loco_metrics_open(log, path, msg, msglen) == LOCO_OK ? 0 : 1;
}

int train_save_global(const char *out, const char *who, loco_gpt *m, long step, const loco_adamw_config *oc,
                      uint64_t seed, const char *tokenizer, loco_metrics **log, char *msg, size_t msglen) {
    if (!out) return 0;
    char ckpt[4096], logp[4096], svg[4096];
    snprintf(ckpt, sizeof ckpt, "%s/model.safetensors", out);
    snprintf(logp, sizeof logp, "%s/metrics.jsonl", out);
    snprintf(svg, sizeof svg, "%s/loss.svg", out);
    loco_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.step = step;
    meta.opt = *oc;
    meta.seed = seed;
    snprintf(meta.tokenizer, sizeof meta.tokenizer, "%s", tokenizer ? tokenizer : "");
    char *tok_json = NULL;   /* embedded, so that the checkpoint works wherever it is copied */
    if (loco_cli_tokenizer_json(NULL, tokenizer, &tok_json, msg, msglen) != LOCO_OK) return 1;
    meta.tokenizer_json = tok_json;
    /* The global model alone: the workers' AdamW states and the server's
     * outer state do not fit one model's checkpoint. */
    int e = loco_checkpoint_save(ckpt, m, &meta, 0, msg, msglen);
    free(tok_json);
    if (e != LOCO_OK) return 1;
    loco_metrics_close(*log);
    *log = NULL;
    const char *logs[] = {logp};
    char pmsg[512];
    if (loco_plot_svg(logs, 1, svg, pmsg, sizeof pmsg) != LOCO_OK)
        fprintf(stderr, "%s: warning: no plot: %s\n", who, pmsg);
    return 0;
}

