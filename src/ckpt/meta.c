/* The checkpoint's __metadata__: safetensors allows only string values, so
 * every number is a decimal string.  Floats are written with 9 significant
 * digits, which round-trip any float exactly (FLT_DECIMAL_DIG), so a resumed
 * run sees bit-identical hyperparameters. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ckpt/ckpt_internal.h"

/* Adds key: string; returns 0, or -1 when memory runs out. */
/* These add a string entry to the metadata object; each returns -1 when
 * cJSON is out of memory, else 0.  safetensors metadata values must be
 * strings, so numbers are written in decimal (floats with 9 significant
 * digits, which read back to the same float). */
static int add(cJSON *o, const char *key, const char *val) {
    return cJSON_AddStringToObject(o, key, val) ? 0 : -1;
}

static int add_long(cJSON *o, const char *key, long long v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    return add(o, key, b);
}

static int add_float(cJSON *o, const char *key, float v) {
    char b[48];
    snprintf(b, sizeof b, "%.9g", (double)v);
    return add(o, key, b);
}

/* The "run.*" keys: the numbers of a recorded run, the paths it used. */
static const char *const run_int_keys[] = {"run.batch", "run.seq_len", "run.ckpt_every", "run.eval_every",
                                           "run.eval_batches", "run.log_every"};
static int *run_int(loco_checkpoint_run *r, int i) {
    int *f[] = {&r->batch, &r->seq_len, &r->ckpt_every, &r->eval_every, &r->eval_batches, &r->log_every};
    return f[i];
}
static const char *const run_str_keys[] = {"run.data", "run.train_shard", "run.val_shard"};
static char *run_str(loco_checkpoint_run *r, int i) {
    char *f[] = {r->data, r->train_shard, r->val_shard};
    return f[i];
}
#define RUN_INTS 6
#define RUN_STRS 3

static int encode_run(cJSON *o, const loco_checkpoint_run *run) {
    loco_checkpoint_run r = *run;
    int bad = 0;
    /* batch > 0 marks a recorded run; then every number is written, zeros
     * (--ckpt-every 0, --eval-every 0) included. */
    for (int i = 0; i < RUN_INTS && r.batch > 0; i++) bad |= add_long(o, run_int_keys[i], *run_int(&r, i));
    for (int i = 0; i < RUN_STRS; i++) {
        char *s = run_str(&r, i);
        s[sizeof r.data - 1] = 0;
        if (*s) bad |= add(o, run_str_keys[i], s);
    }
    return bad;
}

/* Returns NULL when memory runs out. */
cJSON *loco__ckpt_meta_encode(const loco_gpt_config *cfg, const loco_checkpoint_meta *meta,
                              int with_optimizer, long adam_t) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const loco_adamw_config *a = &meta->opt;
    char rng[100];
    snprintf(rng, sizeof rng, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, meta->rng_state[0],
             meta->rng_state[1], meta->rng_state[2], meta->rng_state[3]);
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, meta->seed);
    int bad = add(o, "loco_format", LOCO_CHECKPOINT_FORMAT) |
              add_long(o, "n_layer", cfg->n_layer) | add_long(o, "n_head", cfg->n_head) |
              add_long(o, "channels", cfg->channels) | add_long(o, "vocab_size", cfg->vocab_size) |
              add_long(o, "max_seq_len", cfg->max_seq_len) | add_long(o, "step", meta->step) |
              add(o, "rng_state", rng) | add(o, "seed", seed) | add(o, "tokenizer", meta->tokenizer) |
              add_float(o, "adamw.lr", a->lr) | add_float(o, "adamw.beta1", a->beta1) |
              add_float(o, "adamw.beta2", a->beta2) | add_float(o, "adamw.eps", a->eps) |
              add_float(o, "adamw.weight_decay", a->weight_decay) |
              add_float(o, "adamw.grad_clip", a->grad_clip) |
              add_long(o, "adamw.warmup_steps", a->warmup_steps) |
              add_long(o, "adamw.max_steps", a->max_steps) | add_float(o, "adamw.min_lr", a->min_lr) |
              add(o, "optimizer_state", with_optimizer ? "adamw" : "none");
    if (with_optimizer) bad |= add_long(o, "adam_t", adam_t);
    if (meta->tokenizer_json) bad |= add(o, "tokenizer.json", meta->tokenizer_json);
    bad |= encode_run(o, &meta->run);
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Decoding context: the object, and where to report a bad key. */
typedef struct {
    const cJSON *md;
    const char *path;
    char *msg;
    size_t msglen;
} dec;

/* Returns the string value of key, or NULL after reporting it missing or
 * not a string. */
static const char *get(const dec *d, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d->md, key);
    if (!v) {
        loco__ckpt_fail(d->msg, d->msglen, LOCO_EINVAL, d->path, "missing __metadata__ key '%s'", key);
        return NULL;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        loco__ckpt_fail(d->msg, d->msglen, LOCO_EINVAL, d->path, "__metadata__ key '%s' is not a string", key);
        return NULL;
    }
    return v->valuestring;
}

/* Returns -1 (reported) unless key holds a decimal integer in [lo, hi]. */
static int get_long(const dec *d, const char *key, long long lo, long long hi, long long *out) {
    const char *s = get(d, key);
    if (!s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        loco__ckpt_fail(d->msg, d->msglen, LOCO_EINVAL, d->path,
                        "__metadata__ key '%s' = '%.40s' is not an integer in [%lld, %lld]", key, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* Reads an int key in [lo, INT_MAX]; returns -1 (reported) if it is
 * missing or malformed. */
static int get_int(const dec *d, const char *key, int lo, int *out) {
    long long v;
    if (get_long(d, key, lo, INT_MAX, &v)) return -1;
    *out = (int)v;
    return 0;
}

/* Parses one unsigned 64-bit decimal at s (digits only: strtoull would
 * accept a sign); returns the end, or NULL. */
static const char *parse_u64(const char *s, uint64_t *out) {
    if (*s < '0' || *s > '9') return NULL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return NULL;
    *out = v;
    return end;
}

/* Reads a float key; returns -1 (reported) if it is missing or not a
 * number. */
static int get_float(const dec *d, const char *key, float *out) {
    const char *s = get(d, key);
    if (!s) return -1;
    char *end;
    float v = strtof(s, &end);
    if (end == s || *end) {
        loco__ckpt_fail(d->msg, d->msglen, LOCO_EINVAL, d->path,
                        "__metadata__ key '%s' = '%.40s' is not a number", key, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Returns LOCO_EINVAL (reported) for a missing or malformed key,
 * LOCO_ECONFIG for a configuration that describes no model. */
int loco__ckpt_meta_decode(const cJSON *md, const char *path, loco_gpt_config *cfg,
                           loco_checkpoint_meta *meta, long *adam_t, char *msg, size_t msglen) {
    dec d = {md, path, msg, msglen};
    memset(meta, 0, sizeof *meta);
    *adam_t = 0;
    const char *fmt = get(&d, "loco_format");
    if (!fmt) return LOCO_EINVAL;
    if (strcmp(fmt, LOCO_CHECKPOINT_FORMAT) != 0)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "unsupported loco_format '%.40s' (expected '%s')",
                               fmt, LOCO_CHECKPOINT_FORMAT);
    /* Sizes are read as any int so that loco_gpt_config_check names the field. */
    if (get_int(&d, "n_layer", INT_MIN, &cfg->n_layer) || get_int(&d, "n_head", INT_MIN, &cfg->n_head) ||
        get_int(&d, "channels", INT_MIN, &cfg->channels) ||
        get_int(&d, "vocab_size", INT_MIN, &cfg->vocab_size) ||
        get_int(&d, "max_seq_len", INT_MIN, &cfg->max_seq_len))
        return LOCO_EINVAL;
    char why[160];
    if (loco_gpt_config_check(cfg, why, sizeof why) != LOCO_OK)
        return loco__ckpt_fail(msg, msglen, LOCO_ECONFIG, path, "stored configuration is invalid: %s", why);

    long long step, t = 0;
    loco_adamw_config *a = &meta->opt;
    if (get_long(&d, "step", 0, LONG_MAX, &step) || get_float(&d, "adamw.lr", &a->lr) ||
        get_float(&d, "adamw.beta1", &a->beta1) || get_float(&d, "adamw.beta2", &a->beta2) ||
        get_float(&d, "adamw.eps", &a->eps) || get_float(&d, "adamw.weight_decay", &a->weight_decay) ||
        get_float(&d, "adamw.grad_clip", &a->grad_clip) ||
        get_int(&d, "adamw.warmup_steps", INT_MIN, &a->warmup_steps) ||
        get_int(&d, "adamw.max_steps", INT_MIN, &a->max_steps) || get_float(&d, "adamw.min_lr", &a->min_lr))
        return LOCO_EINVAL;
    meta->step = (long)step;
    /* A resumed run uses these as they are, so they must describe an
     * optimizer that can take a step: finite, non-negative rates, betas in
     * [0, 1) (1 would divide by 1 - beta^t = 0), as torch requires. */
    const struct { const char *key; float v; float lo, hi; int lo_open, hi_open; } r[] = {
        {"adamw.lr", a->lr, 0, 1e9f, 0, 0},           {"adamw.beta1", a->beta1, 0, 1, 0, 1},
        {"adamw.beta2", a->beta2, 0, 1, 0, 1},        {"adamw.eps", a->eps, 0, 1e9f, 0, 0},
        {"adamw.weight_decay", a->weight_decay, 0, 1e9f, 0, 0},
        {"adamw.grad_clip", a->grad_clip, 0, 1e30f, 0, 0}, {"adamw.min_lr", a->min_lr, 0, 1e9f, 0, 0},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        float v = r[i].v;
        if (!isfinite(v) || v < r[i].lo || v > r[i].hi || (r[i].lo_open && v == r[i].lo) ||
            (r[i].hi_open && v == r[i].hi))
            return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "__metadata__ key '%s' = %g is out of range",
                                   r[i].key, (double)v);
    }
    if (a->warmup_steps < 0 || a->max_steps < 0)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path,
                               "__metadata__ keys 'adamw.warmup_steps' and 'adamw.max_steps' must be >= 0");

    const char *s = get(&d, "rng_state");
    if (!s) return LOCO_EINVAL;
    for (int i = 0; i < 4; i++) {
        s = parse_u64(s, &meta->rng_state[i]);
        if (!s || *s != (i < 3 ? ',' : 0))
            return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path,
                                   "__metadata__ key 'rng_state' is not four comma-separated unsigned integers");
        s++;
    }
    s = get(&d, "seed");
    if (!s) return LOCO_EINVAL;
    const char *e = parse_u64(s, &meta->seed);
    if (!e || *e)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "__metadata__ key 'seed' = '%.40s' is not an "
                               "unsigned integer", s);
    s = get(&d, "tokenizer");
    if (!s) return LOCO_EINVAL;
    if (strlen(s) >= sizeof meta->tokenizer)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "__metadata__ key 'tokenizer' is longer than %zu bytes",
                               sizeof meta->tokenizer - 1);
    strcpy(meta->tokenizer, s);

    s = get(&d, "optimizer_state");
    if (!s) return LOCO_EINVAL;
    if (strcmp(s, "adamw") == 0) meta->has_optimizer = 1;
    else if (strcmp(s, "none") != 0)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path,
                               "__metadata__ key 'optimizer_state' = '%.40s' is neither 'adamw' nor 'none'", s);
    if (meta->has_optimizer && get_long(&d, "adam_t", 0, LONG_MAX, &t)) return LOCO_EINVAL;
    *adam_t = (long)t;
    /* The run's shape: optional (older checkpoints lack it), checked when
     * present. */
    for (int i = 0; i < RUN_INTS; i++)
        if (cJSON_GetObjectItemCaseSensitive(md, run_int_keys[i]) &&
            get_int(&d, run_int_keys[i], i < 2 ? 1 : 0, run_int(&meta->run, i)))
            return LOCO_EINVAL;
    for (int i = 0; i < RUN_STRS; i++) {
        if (!cJSON_GetObjectItemCaseSensitive(md, run_str_keys[i])) continue;
        const char *v = get(&d, run_str_keys[i]);
        if (!v) return LOCO_EINVAL;
        if (strlen(v) >= sizeof meta->run.data)
            return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "__metadata__ key '%s' is longer than %zu bytes",
                                   run_str_keys[i], sizeof meta->run.data - 1);
        strcpy(run_str(&meta->run, i), v);
    }
    return LOCO_OK;
}
