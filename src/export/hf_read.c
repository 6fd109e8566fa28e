/*
 * Reading a Hugging Face GPT-2 folder into a loco model (`loco train
 * --init DIR`): config.json gives the shape, model.safetensors the tensors
 * by GPT2Model's names, with the "transformer." prefix GPT2LMHeadModel's
 * save_pretrained adds or without it, in F32, F16 or BF16.  Conv1D weights
 * are transposed back to loco's (out, in).  The attention masks older files
 * carry (attn.bias, attn.masked_bias) are buffers, not parameters, and are
 * skipped; an lm_head.weight must equal wte (loco ties them).  Any other
 * tensor is refused rather than dropped, and the header is checked whole
 * (names, dtypes, shapes, byte ranges inside the file) before a tensor is
 * read.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ckpt/ckpt_internal.h"
#include "core/fail.h"
#include "core/file.h"
#include "export/export_internal.h"

#define MAX_CONFIG_BYTES (1u << 20)
#define MAX_HEADER_BYTES (100u << 20)   /* safetensors' own limit */

int loco_hf_is_folder(const char *dir) {
    struct stat st;
    char f[4200];
    if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    snprintf(f, sizeof f, "%s/config.json", dir);
    if (stat(f, &st) != 0) return 0;
    snprintf(f, sizeof f, "%s/model.safetensors", dir);
    return stat(f, &st) == 0;
}

/* Reads exactly n bytes at off; returns 0 or -1. */
static int pread_all(int fd, void *buf, size_t n, uint64_t off) {
    char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return 0;
}

/* Opens path (loco__open_input: a regular file, never blocking) if it holds
 * at most max bytes (max 0: any); returns the descriptor and its size, or
 * -1 with a reason. */
static int open_regular(const char *path, uint64_t max, uint64_t *size, char *msg, size_t msglen) {
    int fd;
    if (loco__open_input(path, &fd, size, msg, msglen) != LOCO_OK) return -1;
    if (max && *size > max) {
        close(fd);
        return loco__fail(msg, msglen, -1, "%s: larger than %llu bytes", path, (unsigned long long)max);
    }
    return fd;
}

/* An integer member in [lo, hi]; -1 (reported) otherwise. */
static int get_int(const cJSON *o, const char *key, int lo, int hi, int *out, const char *path, char *msg,
                   size_t msglen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1e300;
    if (!(d >= lo && d <= hi) || d != (int)d)
        return loco__fail(msg, msglen, -1, "%s: \"%s\" is missing or not an integer in [%d, %d]", path, key, lo, hi);
    *out = (int)d;
    return 0;
}

int loco_hf_read_config(const char *dir, loco_gpt_config *cfg, char *msg, size_t msglen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    uint64_t size;
    int fd = open_regular(path, MAX_CONFIG_BYTES, &size, msg, msglen);
    if (fd < 0) return LOCO_EIO;
    char *text = malloc(size + 1);
    int rd = text ? pread_all(fd, text, size, 0) : -1;
    close(fd);
    if (rd) {
        free(text);
        return loco__fail(msg, msglen, text ? LOCO_EIO : LOCO_ENOMEM, "%s: cannot read", path);
    }
    text[size] = 0;
    cJSON *j = memchr(text, 0, size) ? NULL : cJSON_ParseWithLength(text, size);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return loco__fail(msg, msglen, LOCO_EINVAL, "%s: not a JSON object", path);
    }
    int err = LOCO_EINVAL, inner = 0;
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(j, "activation_function");
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(j, "layer_norm_epsilon");
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(j, "tie_word_embeddings");
    const cJSON *ni = cJSON_GetObjectItemCaseSensitive(j, "n_inner");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "model_type");
    memset(cfg, 0, sizeof *cfg);
    if (get_int(j, "n_layer", 1, 1 << 20, &cfg->n_layer, path, msg, msglen) ||
        get_int(j, "n_head", 1, 1 << 20, &cfg->n_head, path, msg, msglen) ||
        get_int(j, "n_embd", 1, 1 << 20, &cfg->channels, path, msg, msglen) ||
        get_int(j, "vocab_size", 1, 1 << 24, &cfg->vocab_size, path, msg, msglen) ||
        get_int(j, "n_positions", 1, LOCO_MAX_SEQ_LEN, &cfg->max_seq_len, path, msg, msglen))
        goto done;
    /* loco's GPT-2: tanh GELU, LayerNorm epsilon 1e-5, tied LM head, MLP 4C. */
    if (mt && (!cJSON_IsString(mt) || strcmp(mt->valuestring, "gpt2"))) {
        loco__fail(msg, msglen, err, "%s: model_type is not \"gpt2\"", path);
    } else if (act && (!cJSON_IsString(act) || (strcmp(act->valuestring, "gelu_new") &&
                                                strcmp(act->valuestring, "gelu_pytorch_tanh")))) {
        loco__fail(msg, msglen, err, "%s: activation_function must be gelu_new (tanh GELU), as loco computes", path);
    } else if (eps && (!cJSON_IsNumber(eps) || fabs(eps->valuedouble - 1e-5) > 1e-12)) {
        loco__fail(msg, msglen, err, "%s: layer_norm_epsilon must be 1e-5, as loco computes", path);
    } else if (tie && !cJSON_IsTrue(tie)) {
        loco__fail(msg, msglen, err, "%s: tie_word_embeddings is false; loco ties the LM head to wte", path);
    } else if (ni && !cJSON_IsNull(ni) &&
               (get_int(j, "n_inner", 1, 1 << 30, &inner, path, msg, msglen) || inner != 4 * cfg->channels)) {
        loco__fail(msg, msglen, err, "%s: n_inner must be null or 4 * n_embd", path);
    } else {
        char why[200];
        err = loco_gpt_config_check(cfg, why, sizeof why);
        if (err) loco__fail(msg, msglen, err, "%s: %s", path, why);
    }
done:
    cJSON_Delete(j);
    return err;
}

enum { DT_F32, DT_F16, DT_BF16 };

/* A header entry matched to loco's tensor k (loco__export_tensors index),
 * layer l. */
typedef struct {
    int k, l, dt;
    uint64_t begin, end;
} found;

/* Reads every tensor of the validated header into m. */
static int read_tensors(int fd, uint64_t data_start, const found *f, int nf, loco_gpt *m, const char *path,
                        char *msg, size_t msglen) {
    float *params = loco_gpt_params(m);
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (int q = 0; q < nf; q++) {
        const loco__export_tensor *t = &loco__export_tensors[f[q].k];
        size_t off, size, bytes = f[q].end - f[q].begin;
        int shape[3];
        int nd = loco_gpt_param_info(m, t->param, &off, &size, shape);
        const int *s = t->layer ? shape + 1 : shape;
        const size_t rows = (size_t)s[0], cols = nd - t->layer == 2 ? (size_t)s[1] : 1;
        float *dst = params + off + (size_t)f[q].l * rows * cols;
        if (bytes > cap) {
            free(buf);
            if (!(buf = malloc(cap = bytes))) return loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory", path);
        }
        if (pread_all(fd, buf, bytes, data_start + f[q].begin)) {
            free(buf);
            return loco__fail(msg, msglen, LOCO_EIO, "%s: cannot read a tensor (truncated?)", path);
        }
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++) {
                /* A Conv1D weight is stored (in, out) = (cols, rows) of loco's. */
                size_t at = t->conv1d ? j * rows + i : i * cols + j;
                float v;
                if (f[q].dt == DT_F32) {
                    memcpy(&v, buf + 4 * at, 4);
                } else {
                    uint16_t hv;
                    memcpy(&hv, buf + 2 * at, 2);
                    uint32_t u = (uint32_t)hv << 16;
                    if (f[q].dt == DT_F16) v = loco_f16_to_f32(hv);
                    else memcpy(&v, &u, 4);
                }
                if (!isfinite(v)) {
                    free(buf);
                    return loco__fail(msg, msglen, LOCO_ENONFINITE, "%s: tensor '%s' (layer %d) holds %g", path,
                                      t->hf, f[q].l, (double)v);
                }
                dst[i * cols + j] = v;
            }
    }
    free(buf);
    return LOCO_OK;
}

/* Matches name (without "transformer.") to a tensor of the table; returns
 * its index and layer in *l, -1 if none. */
static int match(const char *name, int n_layer, int *l) {
    for (int k = 0; k < LOCO_NUM_PARAM_TENSORS; k++) {
        const loco__export_tensor *t = &loco__export_tensors[k];
        for (int i = 0; i < (t->layer ? n_layer : 1); i++) {
            char want[64];
            snprintf(want, sizeof want, t->hf, i);
            if (!strcmp(want, name)) {
                *l = i;
                return k;
            }
        }
    }
    return -1;
}

/* Is name a buffer GPT-2 files may carry that is no parameter? */
static int skippable(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && strncmp(name, "h.", 2) == 0 && (!strcmp(dot, ".bias") || !strcmp(dot, ".masked_bias")) &&
           dot - name >= 5 && !strncmp(dot - 5, ".attn", 5);
}

int loco_hf_load(const char *dir, loco_gpt **out, int B, int T, char *msg, size_t msglen) {
    *out = NULL;
    loco_gpt_config cfg;
    int err = loco_hf_read_config(dir, &cfg, msg, msglen);
    if (err) return err;
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    uint64_t size, n = 0;
    int fd = open_regular(path, 0, &size, msg, msglen);
    if (fd < 0) return LOCO_EIO;
    uint8_t len8[8];
    char *text = NULL;
    cJSON *root = NULL;
    found *f = NULL;
    loco_gpt *m = NULL;
    const int nexp = 4 + 12 * cfg.n_layer;
    if (size < 8 || pread_all(fd, len8, 8, 0)) {
        err = loco__fail(msg, msglen, LOCO_EINVAL, "%s: too short for a safetensors file", path);
        goto done;
    }
    for (int i = 0; i < 8; i++) n |= (uint64_t)len8[i] << (8 * i);
    if (n < 2 || n > MAX_HEADER_BYTES || n > size - 8) {
        err = loco__fail(msg, msglen, LOCO_EINVAL, "%s: header length %llu does not fit the file", path,
                         (unsigned long long)n);
        goto done;
    }
    if (!(text = malloc(n + 1)) || !(f = calloc((size_t)nexp, sizeof *f))) {
        err = loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (pread_all(fd, text, n, 8)) {
        err = loco__fail(msg, msglen, LOCO_EIO, "%s: cannot read the header", path);
        goto done;
    }
    root = memchr(text, 0, n) ? NULL : cJSON_ParseWithLength(text, n);
    if (!cJSON_IsObject(root)) {
        err = loco__fail(msg, msglen, LOCO_EINVAL, "%s: the header is not a JSON object", path);
        goto done;
    }
    const uint64_t data = 8 + n, dsize = size - 8 - n;
    int nf = 0, lm_head = 0;
    uint64_t lm_begin = 0;
    int lm_dt = 0;
    err = LOCO_EINVAL;
    for (const cJSON *e = root->child; e; e = e->next) {
        const char *name = e->string ? e->string : "";
        if (!strcmp(name, "__metadata__")) continue;
        if (!strncmp(name, "transformer.", 12)) name += 12;
        if (skippable(name)) continue;
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        const char *dts = cJSON_IsString(dt) ? dt->valuestring : "";
        int d = !strcmp(dts, "F32") ? DT_F32 : !strcmp(dts, "F16") ? DT_F16 : !strcmp(dts, "BF16") ? DT_BF16 : -1;
        int l = 0, k = !strcmp(name, "lm_head.weight") ? LOCO_P_WTE : match(name, cfg.n_layer, &l);
        if (k < 0) {
            loco__fail(msg, msglen, err, "%s: tensor '%.80s' is not part of loco's GPT-2", path, name);
            goto done;
        }
        if (d < 0) {
            loco__fail(msg, msglen, err, "%s: tensor '%s' has dtype %.16s (F32, F16 or BF16 expected)", path, name, dts);
            goto done;
        }
        /* The expected shape: the checkpoint's (one block of it), which is
         * loco's, transposed for a Conv1D weight. */
        const loco__export_tensor *t = &loco__export_tensors[k];
        loco__ckpt_tensor spec;
        loco__ckpt_tensor_spec(&cfg, t->param, &spec);
        const uint64_t *s = spec.shape + t->layer;
        const int nd = spec.ndim - t->layer;
        uint64_t want[2] = {t->conv1d ? s[1] : s[0], nd == 2 ? (t->conv1d ? s[0] : s[1]) : 1};
        int ok = cJSON_GetArraySize(sh) == nd;
        for (int i = 0; ok && i < nd; i++) ok = cJSON_GetArrayItem(sh, i)->valuedouble == (double)want[i];
        double b = cJSON_GetArraySize(of) == 2 ? cJSON_GetArrayItem(of, 0)->valuedouble : -1;
        double en = cJSON_GetArraySize(of) == 2 ? cJSON_GetArrayItem(of, 1)->valuedouble : -1;
        uint64_t bytes = want[0] * want[1] * (d == DT_F32 ? 4 : 2);
        if (!ok) {
            loco__fail(msg, msglen, err, "%s: tensor '%s' has the wrong shape for config.json", path, name);
            goto done;
        }
        if (!(b >= 0 && en >= b && en <= (double)dsize && b == (uint64_t)b && en - b == (double)bytes)) {
            loco__fail(msg, msglen, err, "%s: tensor '%s' has data_offsets outside the file or of the wrong size",
                       path, name);
            goto done;
        }
        if (!strcmp(name, "lm_head.weight")) {
            lm_head = 1;
            lm_begin = (uint64_t)b;
            lm_dt = d;
            continue;
        }
        for (int q = 0; q < nf; q++)
            if (f[q].k == k && f[q].l == l) {
                loco__fail(msg, msglen, err, "%s: tensor '%s' appears twice", path, name);
                goto done;
            }
        f[nf++] = (found){k, l, d, (uint64_t)b, (uint64_t)en};
    }
    if (nf != nexp) {
        loco__fail(msg, msglen, err, "%s: holds %d of the %d tensors of a %d-layer GPT-2", path, nf, nexp, cfg.n_layer);
        goto done;
    }
    char why[200];
    if ((err = loco_gpt_create(&m, &cfg, B, T, 0, why, sizeof why))) {
        loco__fail(msg, msglen, err, "%s: %s", dir, why);
        goto done;
    }
    if ((err = read_tensors(fd, data, f, nf, m, path, msg, msglen))) goto done;
    if (lm_head) {
        /* loco ties the LM head to wte: an untied head cannot be loaded. */
        found h = {LOCO_P_WTE, 0, lm_dt, lm_begin, 0};
        const size_t nw = (size_t)cfg.vocab_size * cfg.channels;
        h.end = lm_begin + nw * (lm_dt == DT_F32 ? 4 : 2);
        loco_gpt *hm = NULL;
        err = loco_gpt_create(&hm, &cfg, 1, 1, 0, why, sizeof why);
        if (!err) err = read_tensors(fd, data, &h, 1, hm, path, msg, msglen);
        if (!err && memcmp(loco_gpt_params(hm), loco_gpt_params(m), nw * sizeof(float)))
            err = loco__fail(msg, msglen, LOCO_EINVAL, "%s: lm_head.weight differs from wte; loco ties them", path);
        else if (err == LOCO_ECONFIG || err == LOCO_ENOMEM)
            loco__fail(msg, msglen, err, "%s: %s", dir, why);
        loco_gpt_free(hm);
        if (err) goto done;
    }
    *out = m;
    m = NULL;
    err = LOCO_OK;
done:
    loco_gpt_free(m);
    cJSON_Delete(root);
    free(text);
    free(f);
    close(fd);
    return err;
}
