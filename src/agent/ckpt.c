/*
 * Agent checkpoints: one safetensors file (an 8-byte little-endian header
 * length, a JSON header, the tensor bytes).  The header's __metadata__ holds
 * the configuration and the training state, every value a string as the
 * format requires; each parameter tensor is stored under its table name as
 * F32, then (with optimizer state) "adam.m.<name>" and "adam.v.<name>".  The
 * data section is the parameter block, then m, then v, exactly as the model
 * holds them, so saving is three writes and loading three reads.
 *
 * The reader accepts exactly what this configuration writes: every tensor
 * the model has, with its dtype, shape and byte range, and nothing else; the
 * ranges tile the data section and the file ends where it does.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "agent/ccnet_internal.h"
#include "core/file.h"

#define FORMAT "loco-agent-1"
#define MAX_HEADER (64u << 20)

/* The configuration's fields, by name (one table for writer and reader). */
static const struct { const char *key; size_t off; } CFG_KEYS[] = {
#define K(f) {#f, offsetof(loco_agent_config, f)}
    K(frame_h), K(frame_w), {"conv_ch0", offsetof(loco_agent_config, conv_ch[0])},
    {"conv_ch1", offsetof(loco_agent_config, conv_ch[1])}, {"conv_ch2", offsetof(loco_agent_config, conv_ch[2])},
    {"conv_ch3", offsetof(loco_agent_config, conv_ch[3])}, K(d_model), K(mmt_layers), K(mmt_heads),
    K(vocab_words), K(hash_buckets), K(word_dim), K(str_heads), K(max_words), K(max_dom), K(max_fields),
    K(geom_dim), K(lstm_hidden), K(x_bins), K(y_bins), K(n_keys), K(xemb_dim), K(obs),
#undef K
};
#define N_CFG ((int)(sizeof CFG_KEYS / sizeof CFG_KEYS[0]))

static int fail(char *msg, size_t n, int err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *msg, size_t n, int err, const char *path, const char *fmt, ...) {
    if (msg && n) {
        int k = snprintf(msg, n, "%.200s: ", path);
        va_list ap;
        va_start(ap, fmt);
        if (k >= 0 && (size_t)k < n) vsnprintf(msg + k, n - k, fmt, ap);
        va_end(ap);
    }
    return err;
}

static int add_str(cJSON *o, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add_str(cJSON *o, const char *k, const char *fmt, ...) {
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return cJSON_AddStringToObject(o, k, buf) ? 0 : -1;
}

static int add_tensor(cJSON *root, const char *name, const loco__ag_tensor *t, uint64_t begin) {
    cJSON *e = cJSON_AddObjectToObject(root, name);
    if (!e || !cJSON_AddStringToObject(e, "dtype", "F32")) return -1;
    cJSON *sh = cJSON_AddArrayToObject(e, "shape"), *off = cJSON_AddArrayToObject(e, "data_offsets");
    if (!sh || !off) return -1;
    for (int i = 0; i < t->ndim; i++) cJSON_AddItemToArray(sh, cJSON_CreateNumber(t->shape[i]));
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)begin));
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)(begin + 4 * t->numel)));
    return 0;
}

/* Builds the header JSON; NULL when memory runs out. */
static char *build_header(const loco_agent *m, const loco_agent_ckpt_meta *meta, int opt) {
    cJSON *root = cJSON_CreateObject(), *md = root ? cJSON_AddObjectToObject(root, "__metadata__") : NULL;
    int bad = !md || !cJSON_AddStringToObject(md, "loco_format", FORMAT);
    for (int i = 0; !bad && i < N_CFG; i++)
        bad |= add_str(md, CFG_KEYS[i].key, "%d", *(const int *)((const char *)&m->cfg + CFG_KEYS[i].off));
    if (!bad) {
        const loco_adamw_config *o = &meta->opt;
        bad |= add_str(md, "step", "%ld", meta->step);
        for (int i = 0; i < 4; i++) {
            char k[16];
            snprintf(k, sizeof k, "rng%d", i);
            bad |= add_str(md, k, "%" PRIu64, meta->rng_state[i]);
        }
        bad |= add_str(md, "seed", "%" PRIu64, meta->seed);
        bad |= add_str(md, "lr", "%.9g", o->lr) | add_str(md, "beta1", "%.9g", o->beta1) |
               add_str(md, "beta2", "%.9g", o->beta2) | add_str(md, "eps", "%.9g", o->eps) |
               add_str(md, "weight_decay", "%.9g", o->weight_decay) | add_str(md, "grad_clip", "%.9g", o->grad_clip) |
               add_str(md, "warmup_steps", "%d", o->warmup_steps) | add_str(md, "max_steps", "%d", o->max_steps) |
               add_str(md, "min_lr", "%.9g", o->min_lr);
        bad |= add_str(md, "adam_t", "%ld", opt ? m->adam_t : 0L);
        bad |= add_str(md, "has_optimizer", "%d", opt);
    }
    uint64_t np4 = 4 * (uint64_t)m->num_params;
    for (int g = 0; !bad && g < (opt ? 3 : 1); g++)
        for (int i = 0; !bad && i < m->n_tensors; i++) {
            char name[64];
            snprintf(name, sizeof name, "%s%s", g == 0 ? "" : g == 1 ? "adam.m." : "adam.v.", m->tab[i].name);
            bad |= add_tensor(root, name, &m->tab[i], g * np4 + 4 * m->tab[i].offset);
        }
    char *s = bad ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

int loco_agent_save(const char *path, const loco_agent *m, const loco_agent_ckpt_meta *meta, int with_optimizer,
                    char *msg, size_t msglen) {
    if (!path || !m || !meta) return LOCO_EINVAL;
    char *hdr = build_header(m, meta, with_optimizer != 0);
    if (!hdr) return fail(msg, msglen, LOCO_ENOMEM, path, "out of memory building the header");
    /* The header is padded with spaces to a multiple of 8 bytes, so that the
     * tensors start aligned (the format allows trailing whitespace). */
    size_t hl = strlen(hdr), padded = (hl + 7) & ~(size_t)7;
    char *h = realloc(hdr, padded + 1);
    if (!h) { free(hdr); return fail(msg, msglen, LOCO_ENOMEM, path, "out of memory building the header"); }
    memset(h + hl, ' ', padded - hl);
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    size_t nb = m->num_params * sizeof(float);
    loco__chunk ch[5] = {{len8, 8}, {h, padded}, {m->params, nb}, {m->opt_m, nb}, {m->opt_v, nb}};
    int err = loco__write_atomic(path, ch, with_optimizer ? 5 : 3, msg, msglen);
    free(h);
    return err;
}

/* ------------------------------------------------------------------ load */

static const char *md_get(const cJSON *md, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
static int md_long(const cJSON *md, const char *key, long long lo, long long hi, long long *out) {
    const char *s = md_get(md, key);
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}
static int md_u64(const cJSON *md, const char *key, uint64_t *out) {
    const char *s = md_get(md, key);
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}
static int md_float(const cJSON *md, const char *key, float *out) {
    const char *s = md_get(md, key);
    if (!s || !*s) return -1;
    char *end;
    float v = strtof(s, &end);
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int read_at(int fd, void *buf, uint64_t n, uint64_t off) {
    char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n > (1u << 30) ? (1u << 30) : n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (uint64_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Checks that entry `name` is F32 of tensor t's shape at [begin, begin + 4 numel). */
static int check_entry(const cJSON *root, const char *name, const loco__ag_tensor *t, uint64_t begin) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!cJSON_IsObject(e)) return -1;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt) || strcmp(dt->valuestring, "F32") || !cJSON_IsArray(sh) || !cJSON_IsArray(off) ||
        cJSON_GetArraySize(sh) != t->ndim || cJSON_GetArraySize(off) != 2)
        return -1;
    for (int i = 0; i < t->ndim; i++) {
        const cJSON *v = cJSON_GetArrayItem(sh, i);
        if (!cJSON_IsNumber(v) || v->valuedouble != (double)t->shape[i]) return -1;
    }
    const cJSON *b = cJSON_GetArrayItem(off, 0), *en = cJSON_GetArrayItem(off, 1);
    if (!cJSON_IsNumber(b) || !cJSON_IsNumber(en) || b->valuedouble != (double)begin ||
        en->valuedouble != (double)(begin + 4 * t->numel))
        return -1;
    return 0;
}

static int load_fd(int fd, uint64_t size, const char *path, loco_agent **out, int B, int T,
                   loco_agent_ckpt_meta *meta, char *msg, size_t msglen) {
    uint8_t len8[8];
    if (size < 8 || read_at(fd, len8, 8, 0)) return fail(msg, msglen, LOCO_EINVAL, path, "too short for a safetensors header");
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)len8[i] << (8 * i);
    if (hl < 2 || hl > MAX_HEADER || hl > size - 8)
        return fail(msg, msglen, LOCO_EINVAL, path, "header length %" PRIu64 " does not fit the file", hl);
    char *hdr = malloc(hl + 1);
    if (!hdr) return fail(msg, msglen, LOCO_ENOMEM, path, "out of memory reading the header");
    if (read_at(fd, hdr, hl, 8)) { free(hdr); return fail(msg, msglen, LOCO_EIO, path, "cannot read the header"); }
    hdr[hl] = 0;
    cJSON *root = cJSON_ParseWithLength(hdr, hl);
    free(hdr);
    loco_agent *m = NULL;
    int err = LOCO_EINVAL;
    const cJSON *md = root ? cJSON_GetObjectItemCaseSensitive(root, "__metadata__") : NULL;
    const char *fmt = md ? md_get(md, "loco_format") : NULL;
    if (!cJSON_IsObject(root) || !cJSON_IsObject(md) || !fmt || strcmp(fmt, FORMAT)) {
        fail(msg, msglen, err, path, "not a loco agent checkpoint (no JSON header with loco_format \"%s\")", FORMAT);
        goto done;
    }
    loco_agent_config cfg;
    for (int i = 0; i < N_CFG; i++) {
        long long v;
        if (md_long(md, CFG_KEYS[i].key, -(1LL << 31), (1LL << 31) - 1, &v)) {
            fail(msg, msglen, err, path, "metadata key %s is missing or not an integer", CFG_KEYS[i].key);
            goto done;
        }
        *(int *)((char *)&cfg + CFG_KEYS[i].off) = (int)v;
    }
    loco_agent_ckpt_meta mt = {0};
    long long step, adam_t, has_opt, warm, maxs;
    if (md_long(md, "step", 0, 1LL << 62, &step) || md_long(md, "adam_t", 0, 1LL << 62, &adam_t) ||
        md_long(md, "has_optimizer", 0, 1, &has_opt) || md_u64(md, "seed", &mt.seed) ||
        md_u64(md, "rng0", &mt.rng_state[0]) || md_u64(md, "rng1", &mt.rng_state[1]) ||
        md_u64(md, "rng2", &mt.rng_state[2]) || md_u64(md, "rng3", &mt.rng_state[3]) ||
        md_float(md, "lr", &mt.opt.lr) || md_float(md, "beta1", &mt.opt.beta1) ||
        md_float(md, "beta2", &mt.opt.beta2) || md_float(md, "eps", &mt.opt.eps) ||
        md_float(md, "weight_decay", &mt.opt.weight_decay) || md_float(md, "grad_clip", &mt.opt.grad_clip) ||
        md_long(md, "warmup_steps", 0, 1LL << 30, &warm) || md_long(md, "max_steps", 0, 1LL << 30, &maxs) ||
        md_float(md, "min_lr", &mt.opt.min_lr)) {
        fail(msg, msglen, err, path, "the training state in __metadata__ is missing or malformed");
        goto done;
    }
    mt.step = (long)step;
    mt.opt.warmup_steps = (int)warm;
    mt.opt.max_steps = (int)maxs;
    mt.has_optimizer = (int)has_opt;
    char why[200];
    /* The file's size must fit the configuration before anything that size
     * is allocated. */
    if (loco_agent_config_check(&cfg, why, sizeof why)) {
        err = fail(msg, msglen, LOCO_ECONFIG, path, "%s", why);
        goto done;
    }
    size_t np = loco__ag_count_params(&cfg);
    uint64_t want = 8 + hl + (uint64_t)(has_opt ? 3 : 1) * 4 * np;
    if (!np || size != want) {
        fail(msg, msglen, err, path, "%" PRIu64 " bytes, but the configuration needs %" PRIu64, size, want);
        goto done;
    }
    err = loco_agent_create(&m, &cfg, B, T, 0, why, sizeof why);
    if (err) {
        fail(msg, msglen, err, path, "%s", why);
        goto done;
    }
    err = LOCO_EINVAL;
    int groups = has_opt ? 3 : 1;
    uint64_t np4 = 4 * (uint64_t)m->num_params;
    if (cJSON_GetArraySize(root) != 1 + groups * m->n_tensors) {
        fail(msg, msglen, err, path, "%d entries in the header, expected %d", cJSON_GetArraySize(root),
             1 + groups * m->n_tensors);
        goto done;
    }
    for (int g = 0; g < groups; g++)
        for (int i = 0; i < m->n_tensors; i++) {
            char name[64];
            snprintf(name, sizeof name, "%s%s", g == 0 ? "" : g == 1 ? "adam.m." : "adam.v.", m->tab[i].name);
            if (check_entry(root, name, &m->tab[i], g * np4 + 4 * m->tab[i].offset)) {
                fail(msg, msglen, err, path, "tensor %s is missing or has the wrong dtype, shape or range", name);
                goto done;
            }
        }
    if (size != 8 + hl + groups * np4) {
        fail(msg, msglen, err, path, "%" PRIu64 " bytes, expected %" PRIu64, size, 8 + hl + groups * np4);
        goto done;
    }
    float *dst[3] = {m->params, m->opt_m, m->opt_v};
    for (int g = 0; g < groups; g++)
        if (read_at(fd, dst[g], np4, 8 + hl + g * np4)) {
            err = fail(msg, msglen, LOCO_EIO, path, "cannot read the tensor data");
            goto done;
        }
    for (int g = 0; g < groups; g++)
        for (size_t j = 0; j < m->num_params; j++)
            if (!isfinite(dst[g][j]) || (g == 2 && dst[g][j] < 0)) {
                err = fail(msg, msglen, LOCO_ENONFINITE, path, "a stored %s value is not finite%s",
                           g == 0 ? "parameter" : "optimizer", g == 2 ? " or is negative" : "");
                goto done;
            }
    m->adam_t = has_opt ? (long)adam_t : 0;
    if (meta) *meta = mt;
    *out = m;
    m = NULL;
    err = LOCO_OK;
done:
    cJSON_Delete(root);
    loco_agent_free(m);
    return err;
}

int loco_agent_load(const char *path, loco_agent **out, int B, int T, loco_agent_ckpt_meta *meta, char *msg,
                    size_t msglen) {
    if (!out) return LOCO_EINVAL;
    *out = NULL;
    if (!path || !*path) return LOCO_EINVAL;
    struct stat st;
    if (stat(path, &st) != 0) return fail(msg, msglen, LOCO_EIO, path, "cannot open: %s", strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(msg, msglen, LOCO_EIO, path, "not a regular file");
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return fail(msg, msglen, LOCO_EIO, path, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(msg, msglen, LOCO_EIO, path, "not a regular file");
    }
    int err = load_fd(fd, (uint64_t)st.st_size, path, out, B, T, meta, msg, msglen);
    close(fd);
    return err;
}
