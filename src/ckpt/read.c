/* Reading a checkpoint.  The header is validated completely before any
 * tensor data is read or any model memory is allocated, and every tensor's
 * byte range must lie inside the file: the data section has to hold
 * 4 * (number of parameters) bytes for the stored configuration, so a small
 * or corrupted file can never make the loader allocate a large model. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ckpt/ckpt_internal.h"
#include "core/file.h"
#include "nn/gpt_internal.h"

#define MAX_HEADER_BYTES (100u << 20)   /* safetensors' own limit */

typedef struct {
    int fd;
    uint64_t data_start, data_size;          /* data section: bytes [8 + N, file end) */
    loco_gpt_config cfg;
    loco_checkpoint_meta meta;
    long adam_t;
    int nt;                                  /* tensors expected: 16, or 48 with AdamW */
    loco__ckpt_tensor spec[LOCO__CKPT_MAX_TENSORS];
    uint64_t begin[LOCO__CKPT_MAX_TENSORS];  /* each tensor's offset in the data section */
    char *tok_json;                          /* the embedded tokenizer.json (malloc'd), or NULL */
} header;

/* Reads exactly n bytes at off; returns 0, or -1 (errno 0 for end of file). */
static int pread_all(int fd, void *buf, uint64_t n, uint64_t off) {
    char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n > (1u << 30) ? (1u << 30) : (size_t)n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = 0;
            return -1;
        }
        p += r;
        off += (uint64_t)r;
        n -= (uint64_t)r;
    }
    return 0;
}

/* A JSON number that is a whole number in [0, max]; returns 0 and stores it,
 * else -1.  The range check comes first: casting an out-of-range double to
 * an integer is undefined. */
static int json_u64(const cJSON *v, uint64_t max, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= (double)max && d <= 9007199254740992.0)) return -1;
    uint64_t u = (uint64_t)d;
    if ((double)u != d) return -1;
    *out = u;
    return 0;
}

/* Checks one header entry against its expected tensor t; stores its offset.
 * Returns LOCO_EINVAL (reported) for a wrong dtype, shape or byte range. */
static int check_entry(const header *h, const cJSON *e, const loco__ckpt_tensor *t, uint64_t *begin,
                       const char *path, char *msg, size_t msglen) {
    if (!cJSON_IsObject(e))
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "tensor '%s' is not a JSON object", t->name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(dt) || strcmp(dt->valuestring, "F32") != 0)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "tensor '%s' has dtype %.20s, expected F32",
                               t->name, cJSON_IsString(dt) ? dt->valuestring : "(none)");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    int ok = cJSON_IsArray(sh) && cJSON_GetArraySize(sh) == t->ndim;
    for (int d = 0; ok && d < t->ndim; d++) {
        uint64_t v;
        ok = json_u64(cJSON_GetArrayItem(sh, d), UINT64_MAX, &v) == 0 && v == t->shape[d];
    }
    if (!ok) {
        char want[80];
        int n = snprintf(want, sizeof want, "[%" PRIu64, t->shape[0]);
        for (int d = 1; d < t->ndim; d++) n += snprintf(want + n, sizeof want - n, ", %" PRIu64, t->shape[d]);
        snprintf(want + n, sizeof want - n, "]");
        char *got = sh ? cJSON_PrintUnformatted(sh) : NULL;
        loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "tensor '%s' has shape %.60s, but the stored config "
                        "(n_layer=%d, channels=%d, vocab_size=%d, max_seq_len=%d) needs %s", t->name,
                        got ? got : "(none)", h->cfg.n_layer, h->cfg.channels, h->cfg.vocab_size,
                        h->cfg.max_seq_len, want);
        cJSON_free(got);
        return LOCO_EINVAL;
    }
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    uint64_t b, end;
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || json_u64(cJSON_GetArrayItem(of, 0), UINT64_MAX, &b) ||
        json_u64(cJSON_GetArrayItem(of, 1), UINT64_MAX, &end) || end < b)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path,
                               "tensor '%s' has no valid data_offsets [begin, end]", t->name);
    if (end > h->data_size)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "tensor '%s' data_offsets [%" PRIu64 ", %" PRIu64
                               "] run past the %" PRIu64 "-byte data section (truncated file?)", t->name, b, end,
                               h->data_size);
    if (end - b != 4 * t->numel)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "tensor '%s' data_offsets span %" PRIu64
                               " bytes, its shape needs %" PRIu64, t->name, end - b, 4 * t->numel);
    *begin = b;
    return LOCO_OK;
}

/* Requires the tensors' byte ranges to tile the data section exactly: no
 * overlap, no gap, nothing left over.  Returns LOCO_EINVAL (reported). */
static int check_tiling(const header *h, const char *path, char *msg, size_t msglen) {
    int order[LOCO__CKPT_MAX_TENSORS];
    for (int k = 0; k < h->nt; k++) {   /* insertion sort by begin: at most 48 */
        int j = k;
        while (j > 0 && h->begin[order[j - 1]] > h->begin[k]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    uint64_t pos = 0;
    for (int j = 0; j < h->nt; j++) {
        int k = order[j];
        if (h->begin[k] < pos)
            return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "tensors '%s' and '%s' overlap in the data section",
                                   h->spec[order[j - 1]].name, h->spec[k].name);
        if (h->begin[k] > pos)
            return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "%" PRIu64 " unused bytes before tensor '%s'",
                                   h->begin[k] - pos, h->spec[k].name);
        pos += 4 * h->spec[k].numel;
    }
    if (pos != h->data_size)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "tensors end at byte %" PRIu64 " of a %" PRIu64
                               "-byte data section", pos, h->data_size);
    return LOCO_OK;
}

/* Validates the parsed header object.  Returns a loco_err (reported). */
static int check_json(header *h, const cJSON *root, const char *path, char *msg, size_t msglen) {
    if (!cJSON_IsObject(root))
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "header is not a JSON object");
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    if (!cJSON_IsObject(md))
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "header has no __metadata__ object");
    int err = loco__ckpt_meta_decode(md, path, &h->cfg, &h->meta, &h->adam_t, msg, msglen);
    if (err) return err;
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(md, "tokenizer.json");
    if (tj && !cJSON_IsString(tj))
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "__metadata__ key 'tokenizer.json' is not a string");
    if (tj && !(h->tok_json = strdup(tj->valuestring)))
        return loco__ckpt_fail(msg, msglen, LOCO_ENOMEM, path, "out of memory");
    h->nt = h->meta.has_optimizer ? LOCO__CKPT_MAX_TENSORS : LOCO_NUM_PARAM_TENSORS;
    for (int k = 0; k < h->nt; k++) loco__ckpt_tensor_spec(&h->cfg, k, &h->spec[k]);
    char seen[LOCO__CKPT_MAX_TENSORS] = {0};
    int n_meta = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        const char *name = e->string ? e->string : "";
        if (strcmp(name, "__metadata__") == 0) {
            if (++n_meta > 1) return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "duplicate __metadata__");
            continue;
        }
        int k = 0;
        while (k < h->nt && strcmp(h->spec[k].name, name) != 0) k++;
        if (k == h->nt)
            return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "unexpected tensor '%.60s'%s", name,
                                   strncmp(name, "adam.", 5) == 0 ? " (optimizer_state is 'none')" : "");
        if (seen[k]) return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "duplicate tensor '%s'", name);
        seen[k] = 1;
        err = check_entry(h, e, &h->spec[k], &h->begin[k], path, msg, msglen);
        if (err) return err;
    }
    for (int k = 0; k < h->nt; k++)
        if (!seen[k]) return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "missing tensor '%s'", h->spec[k].name);
    return check_tiling(h, path, msg, msglen);
}

/* Opens path and validates its whole header; on success h->fd is open and
 * the caller closes it.  Returns a loco_err (reported, fd closed). */
static int read_header(const char *path, header *h, char *msg, size_t msglen) {
    memset(h, 0, sizeof *h);
    h->fd = -1;
    if (!path) return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "no checkpoint path given");
    int fd;
    if (loco__open_input(path, &fd, NULL, msg, msglen) != LOCO_OK) return LOCO_EIO;
    struct stat st;
    int err = LOCO_OK;
    unsigned char len8[8];
    uint64_t size = 0, n = 0;
    char *text = NULL;
    cJSON *root = NULL;
    if (fstat(fd, &st) != 0) {
        err = loco__ckpt_fail(msg, msglen, LOCO_EIO, path, "cannot stat: %s", strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        err = loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "not a regular file");
        goto done;
    }
    size = (uint64_t)st.st_size;
    if (size < 8) {
        err = loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "file is %" PRIu64 " bytes, too short for the "
                              "8-byte safetensors header length (truncated?)", size);
        goto done;
    }
    if (pread_all(fd, len8, 8, 0)) {
        err = loco__ckpt_fail(msg, msglen, LOCO_EIO, path, "cannot read: %s", strerror(errno ? errno : EIO));
        goto done;
    }
    for (int i = 0; i < 8; i++) n |= (uint64_t)len8[i] << (8 * i);
    if (n > size - 8) {
        err = loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "header length %" PRIu64 " runs past the end of "
                              "the %" PRIu64 "-byte file: truncated, or not a safetensors file", n, size);
        goto done;
    }
    if (n > MAX_HEADER_BYTES || n < 2) {
        err = loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "header length %" PRIu64 " is outside [2, %u]: "
                              "not a safetensors file", n, MAX_HEADER_BYTES);
        goto done;
    }
    text = malloc(n + 1);
    if (!text) {
        err = loco__ckpt_fail(msg, msglen, LOCO_ENOMEM, path, "out of memory reading the header");
        goto done;
    }
    if (pread_all(fd, text, n, 8)) {
        err = loco__ckpt_fail(msg, msglen, LOCO_EIO, path, "cannot read the header: %s",
                              strerror(errno ? errno : EIO));
        goto done;
    }
    text[n] = 0;
    /* safetensors has no magic number; its header always opens with '{'. */
    if (text[0] != '{') {
        err = loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "not a safetensors file: the header does not "
                              "start with '{' (bad magic or header length)");
        goto done;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (!root) {
        err = loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "header is not valid JSON");
        goto done;
    }
    for (const char *p = end; p < text + n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            err = loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "header has bytes after its JSON object "
                                  "(at offset %ld)", (long)(p - text) + 8);
            goto done;
        }
    h->data_start = 8 + n;
    h->data_size = size - 8 - n;
    err = check_json(h, root, path, msg, msglen);
done:
    cJSON_Delete(root);
    free(text);
    if (err) {
        close(fd);
        free(h->tok_json);
        h->tok_json = NULL;
    } else {
        h->fd = fd;
    }
    return err;
}

/* Returns a loco_err, reported with the path. */
int loco_checkpoint_read_config(const char *path, loco_gpt_config *cfg, char *msg, size_t msglen) {
    return loco_checkpoint_read_meta(path, cfg, NULL, msg, msglen);
}

int loco_checkpoint_read_meta(const char *path, loco_gpt_config *cfg, loco_checkpoint_meta *meta, char *msg,
                              size_t msglen) {
    header *h = malloc(sizeof *h);
    if (!h) return loco__ckpt_fail(msg, msglen, LOCO_ENOMEM, path, "out of memory");
    int err = read_header(path, h, msg, msglen);
    if (!err) {
        close(h->fd);
        free(h->tok_json);
        if (cfg) *cfg = h->cfg;
        if (meta) *meta = h->meta;
    }
    free(h);
    return err;
}

/* Returns a loco_err with a reason naming the file; *out NULL for bytes. */
int loco_checkpoint_load_tokenizer(const char *path, loco_tokenizer **out, char *msg, size_t msglen) {
    if (!out) return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "out is NULL");
    *out = NULL;
    header *h = malloc(sizeof *h);
    if (!h) return loco__ckpt_fail(msg, msglen, LOCO_ENOMEM, path, "out of memory");
    int err = read_header(path, h, msg, msglen);
    if (err) {
        free(h);
        return err;
    }
    close(h->fd);
    if (h->tok_json) {
        char name[300];
        snprintf(name, sizeof name, "%.250s[tokenizer.json]", path);
        err = loco_tokenizer_load_json(out, h->tok_json, strlen(h->tok_json), name, msg, msglen);
    } else if (h->meta.tokenizer[0]) {
        /* The checkpoint's directory: a relative tokenizer path is also
         * looked for there. */
        char dir[4096];
        const char *slash = strrchr(path, '/');
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
        err = loco_tokenizer_load_beside(out, h->meta.tokenizer, dir, msg, msglen);
    }
    free(h->tok_json);
    free(h);
    return err;
}

/* Training never stores a NaN or Inf (loco_gpt_adamw_step refuses a
 * non-finite gradient), and AdamW's v is a running mean of squares, so such
 * values mean corruption, caught here rather than as a NaN loss later.
 * Returns LOCO_ENONFINITE naming the first bad tensor and element. */
static int check_values(const loco_gpt *m, int has_opt, const char *path, char *msg, size_t msglen) {
    for (int k = 0; k < (has_opt ? LOCO__CKPT_MAX_TENSORS : LOCO_NUM_PARAM_TENSORS); k++) {
        loco__ckpt_tensor t;
        loco__ckpt_tensor_spec(&m->cfg, k, &t);
        const float *x = loco__ckpt_data(m, &t);
        int nonneg = t.group == LOCO__CKPT_GROUP_V;
        for (uint64_t j = 0; j < t.numel; j++)
            if (!isfinite(x[j]) || (nonneg && x[j] < 0))
                return loco__ckpt_fail(msg, msglen, LOCO_ENONFINITE, path, "tensor '%s' element %" PRIu64
                                       " is %g, not a %s number", t.name, j, (double)x[j],
                                       nonneg ? "finite non-negative" : "finite");
    }
    return LOCO_OK;
}

/* Returns a loco_err, reported with the path; *model_out is NULL then. */
int loco_checkpoint_load(const char *path, loco_gpt **model_out, int B, int T,
                         loco_checkpoint_meta *meta_out, char *msg, size_t msglen) {
    if (!model_out) return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "model_out is NULL");
    *model_out = NULL;
    header *h = malloc(sizeof *h);
    if (!h) return loco__ckpt_fail(msg, msglen, LOCO_ENOMEM, path, "out of memory");
    int err = read_header(path, h, msg, msglen);
    if (err) {
        free(h);
        return err;
    }
    loco_gpt *m = NULL;
    char why[200] = "";
    err = loco_gpt_create(&m, &h->cfg, B, T, h->meta.seed, why, sizeof why);
    if (err) loco__ckpt_fail(msg, msglen, err, path, "cannot create the stored model: %s", why);
    for (int k = 0; !err && k < h->nt; k++) {
        const loco__ckpt_tensor *t = &h->spec[k];
        if (m->sizes[t->param] != t->numel)   /* the model's layout drifted from the table */
            err = loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "model tensor %s has %zu floats, the "
                                  "checkpoint table expects %" PRIu64, t->name, m->sizes[t->param], t->numel);
        else if (pread_all(h->fd, loco__ckpt_data(m, t), 4 * t->numel, h->data_start + h->begin[k]))
            err = loco__ckpt_fail(msg, msglen, LOCO_EIO, path, "cannot read tensor '%s': %s", t->name,
                                  errno ? strerror(errno) : "file shrank while reading");
    }
    close(h->fd);
    free(h->tok_json);
    if (!err) err = check_values(m, h->meta.has_optimizer, path, msg, msglen);
    if (err) {
        loco_gpt_free(m);
    } else {
        m->adam_t = h->adam_t;
        *model_out = m;
        if (meta_out) *meta_out = h->meta;
    }
    free(h);
    return err;
}
