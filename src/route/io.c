/*
 * Routers as JSON files (docs/routing.md):
 *
 *   {"format": "loco-router-1", "kind": "kmeans", "n_paths": 8, "d": 256,
 *    "prefix": 32, "seed": "1", "feature_model": "run/model.safetensors",
 *    "levels": [8], "centroids": [...]}
 *
 * kind random has no levels and no tables; kmeans and product have "levels"
 * (K per level, product = n_paths) and "centroids" (level after level, each
 * K[l] x len[l] row-major, the dimensions cut as loco__router_chunks does);
 * linear has "weights" (n_paths x d), "bias" (n_paths), "mean" and "std" (d).
 * The seed is a decimal string (a JSON number would lose 64-bit values);
 * floats are printed %.9g, which round-trips every finite float exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "route/route_internal.h"
#include "core/fail.h"
#include "core/file.h"

#define MAX_FILE_BYTES ((size_t)1 << 31)

/* ---------------------------------------------------------------- writing */

typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} sbuf;

static void put(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *s, const char *fmt, ...) {
    if (s->oom) return;
    if (!s->buf) {
        s->buf = malloc(4096);
        if (!s->buf) { s->oom = 1; return; }
        s->cap = 4096;
    }
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
        va_end(ap);
        if (n < 0) { s->oom = 1; return; }
        if ((size_t)n < s->cap - s->len) { s->len += (size_t)n; return; }
        size_t cap = (s->cap + (size_t)n + 1) * 2;
        char *g = realloc(s->buf, cap);
        if (!g) { s->oom = 1; return; }
        s->buf = g;
        s->cap = cap;
    }
}

static void put_floats(sbuf *s, const char *key, const float *v, size_t n) {
    put(s, ",\n  \"%s\": [", key);
    for (size_t i = 0; i < n; i++) put(s, "%s%.9g", i ? (i % 8 ? ", " : ",\n    ") : "", (double)v[i]);
    put(s, "]");
}

/* JSON string escaping for the feature-model path. */
static void put_string(sbuf *s, const char *str) {
    put(s, "\"");
    for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
        if (*p == '"' || *p == '\\') put(s, "\\%c", *p);
        else if (*p < 0x20) put(s, "\\u%04x", *p);
        else put(s, "%c", *p);
    }
    put(s, "\"");
}

static int all_finite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

/* fsyncs the directory holding path; filesystems that cannot (EINVAL) pass. */
static int sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0) return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r == 0 || e == EINVAL ? 0 : -1;
}

/* Returns LOCO_EINVAL (NULL arguments, non-finite tables), LOCO_EIO (reason
 * naming path; path untouched) or LOCO_ENOMEM. */
int loco_router_save(const loco_router *r, const char *path, char *msg, size_t msglen) {
    if (!r || !path || !*path) return loco__fail(msg, msglen, LOCO_EINVAL, "router save needs a router and a path");
    sbuf s = {0};
    put(&s, "{\n  \"format\": \"%s\",\n  \"kind\": \"%s\",\n  \"n_paths\": %d,\n  \"d\": %d,\n  \"prefix\": %d,\n"
            "  \"seed\": \"%" PRIu64 "\",\n  \"feature_model\": ", LOCO_ROUTER_FORMAT,
        loco_router_kind_name(r->kind), r->n_paths, r->d, r->prefix, r->seed);
    put_string(&s, loco_router_feature_model(r));
    int finite = 1;
    if (r->kind == LOCO_ROUTER_KMEANS || r->kind == LOCO_ROUTER_PRODUCT) {
        put(&s, ",\n  \"levels\": [");
        for (int l = 0; l < r->n_levels; l++) put(&s, "%s%d", l ? ", " : "", r->K[l]);
        put(&s, "]");
        size_t nc = loco__router_centroid_floats(r);
        finite = all_finite(r->centroids, nc);
        put_floats(&s, "centroids", r->centroids, nc);
    } else if (r->kind == LOCO_ROUTER_LINEAR) {
        size_t P = (size_t)r->n_paths, d = (size_t)r->d;
        finite = all_finite(r->W, P * d) && all_finite(r->b, P) && all_finite(r->mean, d) && all_finite(r->std, d);
        put_floats(&s, "weights", r->W, P * d);
        put_floats(&s, "bias", r->b, P);
        put_floats(&s, "mean", r->mean, d);
        put_floats(&s, "std", r->std, d);
    }
    put(&s, "\n}\n");
    if (s.oom) {
        free(s.buf);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory building the router", path);
    }
    if (!finite) {
        free(s.buf);
        return loco__fail(msg, msglen, LOCO_EINVAL, "%s: the router holds a non-finite value", path);
    }
    size_t tlen = strlen(path) + 32;
    char *tmp = malloc(tlen);
    if (!tmp) {
        free(s.buf);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory", path);
    }
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    if (loco_file_check_output(path, msg, msglen) != LOCO_OK) {
        free(tmp);
        free(s.buf);
        return LOCO_EIO;
    }
    unlink(tmp);
    int err = LOCO_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        err = loco__fail(msg, msglen, LOCO_EIO, "%s: cannot create temporary file %s: %s", path, tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
    } else {
        int bad = fwrite(s.buf, 1, s.len, f) != s.len || fflush(f) || fsync(fd);
        int e = bad ? errno : 0;
        if (fclose(f) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
        if (bad) {
            err = loco__fail(msg, msglen, LOCO_EIO, "%s: cannot write temporary file %s: %s", path, tmp,
                             strerror(e ? e : EIO));
            unlink(tmp);
        } else if (rename(tmp, path) != 0) {
            err = loco__fail(msg, msglen, LOCO_EIO, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
            unlink(tmp);
        } else if (sync_dir(path) != 0) {
            err = loco__fail(msg, msglen, LOCO_EIO, "%s: written, but syncing its directory failed: %s", path,
                             strerror(errno));
        }
    }
    free(tmp);
    free(s.buf);
    return err;
}

/* ---------------------------------------------------------------- reading */

static const char *const known_keys[] = {"format", "kind", "n_paths", "d", "prefix", "seed", "feature_model",
                                         "levels", "centroids", "weights", "bias", "mean", "std"};

/* An integer field in [lo, hi]. */
static int get_int(const cJSON *root, const char *key, long lo, long hi, int *out, const char *name, char *msg,
                   size_t msglen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v) return loco__fail(msg, msglen, LOCO_EINVAL, "%s: missing field \"%s\"", name, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi) ||
        v->valuedouble != floor(v->valuedouble))
        return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"%s\" must be an integer in [%ld, %ld]", name,
                          key, lo, hi);
    *out = (int)v->valuedouble;
    return LOCO_OK;
}

/* A float array of exactly n finite float values, malloc'd into *out. */
static int get_floats(const cJSON *root, const char *key, size_t n, int positive, float **out, const char *name,
                      char *msg, size_t msglen) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!a) return loco__fail(msg, msglen, LOCO_EINVAL, "%s: missing field \"%s\"", name, key);
    if (!cJSON_IsArray(a)) return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"%s\" must be an array", name, key);
    *out = malloc(sizeof(float) * (n ? n : 1));
    if (!*out) return loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory for \"%s\"", name, key);
    size_t i = 0;
    for (const cJSON *v = a->child; v; v = v->next, i++) {
        if (i >= n)
            return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"%s\" has more than %zu values", name, key, n);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > FLT_MAX)
            return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"%s\"[%zu] is not a finite float", name, key, i);
        (*out)[i] = (float)v->valuedouble;
        if (positive && !((*out)[i] > 0))
            return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"%s\"[%zu] must be positive", name, key, i);
    }
    if (i != n)
        return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"%s\" has %zu values, expected %zu", name, key, i, n);
    return LOCO_OK;
}

static int parse_tree(loco_router **out, const cJSON *root, const char *name, char *msg, size_t msglen) {
    if (!cJSON_IsObject(root)) return loco__fail(msg, msglen, LOCO_EINVAL, "%s: not a JSON object", name);
    for (const cJSON *v = root->child; v; v = v->next) {
        int known = 0;
        for (size_t k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++)
            known |= v->string && !strcmp(v->string, known_keys[k]);
        if (!known)
            return loco__fail(msg, msglen, LOCO_EINVAL, "%s: unknown field \"%s\"", name, v->string ? v->string : "");
        for (const cJSON *w = v->next; w; w = w->next)
            if (w->string && !strcmp(w->string, v->string))
                return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"%s\" appears twice", name, v->string);
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, LOCO_ROUTER_FORMAT))
        return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"format\" must be \"%s\"", name, LOCO_ROUTER_FORMAT);
    const cJSON *kind_j = cJSON_GetObjectItemCaseSensitive(root, "kind");
    loco_router_kind kind = LOCO_ROUTER_RANDOM;
    int kind_ok = 0;
    for (int k = LOCO_ROUTER_RANDOM; cJSON_IsString(kind_j) && k <= LOCO_ROUTER_LINEAR; k++)
        if (!strcmp(kind_j->valuestring, loco_router_kind_name((loco_router_kind)k))) {
            kind = (loco_router_kind)k;
            kind_ok = 1;
        }
    if (!kind_ok)
        return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"kind\" must be random, kmeans, product or linear",
                          name);
    int P, d, prefix, err;
    if ((err = get_int(root, "n_paths", 1, LOCO_ROUTER_MAX_PATHS, &P, name, msg, msglen)) ||
        (err = get_int(root, "d", 0, LOCO_ROUTER_MAX_DIM, &d, name, msg, msglen)) ||
        (err = get_int(root, "prefix", 1, LOCO_MAX_SEQ_LEN, &prefix, name, msg, msglen)))
        return err;
    if ((kind == LOCO_ROUTER_RANDOM) != (d == 0))
        return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"d\" must be 0 for a random router and >= 1 "
                          "otherwise", name);
    if ((size_t)P * (size_t)d > LOCO_ROUTER_MAX_FLOATS)
        return loco__fail(msg, msglen, LOCO_EINVAL, "%s: %d paths of dimension %d is too large", name, P, d);
    const cJSON *seed_j = cJSON_GetObjectItemCaseSensitive(root, "seed");
    uint64_t seed = 0;
    {
        const char *sv = cJSON_IsString(seed_j) ? seed_j->valuestring : NULL;
        char *end = NULL;
        errno = 0;
        if (sv && *sv >= '0' && *sv <= '9' && strlen(sv) <= 20) seed = strtoull(sv, &end, 10);
        if (!sv || !end || *end || errno)
            return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"seed\" must be a decimal string of a "
                              "64-bit unsigned integer", name);
    }
    const cJSON *fm = cJSON_GetObjectItemCaseSensitive(root, "feature_model");
    if (!cJSON_IsString(fm) || strlen(fm->valuestring) > 4096)
        return loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"feature_model\" must be a string (up to 4096 "
                          "bytes)", name);
    /* Which tables the kind has: every other one must be absent. */
    const char *tables[] = {"levels", "centroids", "weights", "bias", "mean", "std"};
    int want[6] = {0};
    if (kind == LOCO_ROUTER_KMEANS || kind == LOCO_ROUTER_PRODUCT) want[0] = want[1] = 1;
    if (kind == LOCO_ROUTER_LINEAR) want[2] = want[3] = want[4] = want[5] = 1;
    for (int t = 0; t < 6; t++)
        if (!want[t] && cJSON_GetObjectItemCaseSensitive(root, tables[t]))
            return loco__fail(msg, msglen, LOCO_EINVAL, "%s: a %s router has no field \"%s\"", name,
                              loco_router_kind_name(kind), tables[t]);
    loco_router *r = loco__router_new(kind, P, d, seed);
    if (!r || loco_router_set_feature_model(r, fm->valuestring)) {
        loco_router_free(r);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory", name);
    }
    r->prefix = prefix;
    if (want[0]) {
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(root, "levels");
        int n = cJSON_IsArray(lv) ? cJSON_GetArraySize(lv) : -1;
        int max_levels = kind == LOCO_ROUTER_KMEANS ? 1 : LOCO_ROUTER_MAX_LEVELS;
        if (n < (kind == LOCO_ROUTER_KMEANS ? 1 : 2) || n > max_levels || n > d) {
            err = loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"levels\" must be an array of %s (at most d "
                             "= %d)", name, kind == LOCO_ROUTER_KMEANS ? "one K" : "2 to 8 K's", d);
            goto fail;
        }
        long prod = 1;
        int l = 0;
        for (const cJSON *v = lv->child; v; v = v->next, l++) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 && v->valuedouble <= LOCO_ROUTER_MAX_PATHS) ||
                v->valuedouble != floor(v->valuedouble)) {
                err = loco__fail(msg, msglen, LOCO_EINVAL, "%s: field \"levels\"[%d] must be an integer in [1, "
                                 "%d]", name, l, LOCO_ROUTER_MAX_PATHS);
                goto fail;
            }
            r->K[l] = (int)v->valuedouble;
            prod *= r->K[l];
            if (prod > LOCO_ROUTER_MAX_PATHS) break;
        }
        if (prod != P) {
            err = loco__fail(msg, msglen, LOCO_EINVAL, "%s: the product of \"levels\" is not n_paths = %d", name, P);
            goto fail;
        }
        r->n_levels = n;
        loco__router_chunks(d, n, r->off, r->len);
        if ((err = get_floats(root, "centroids", loco__router_centroid_floats(r), 0, &r->centroids, name, msg,
                              msglen)))
            goto fail;
    }
    if (want[2]) {
        if ((err = get_floats(root, "weights", (size_t)P * d, 0, &r->W, name, msg, msglen)) ||
            (err = get_floats(root, "bias", (size_t)P, 0, &r->b, name, msg, msglen)) ||
            (err = get_floats(root, "mean", (size_t)d, 0, &r->mean, name, msg, msglen)) ||
            (err = get_floats(root, "std", (size_t)d, 1, &r->std, name, msg, msglen)))
            goto fail;
    }
    *out = r;
    return LOCO_OK;
fail:
    loco_router_free(r);
    return err;
}

/* Returns LOCO_EINVAL (reason naming name and the field) or LOCO_ENOMEM. */
int loco_router_parse(loco_router **out, const char *json, size_t n, const char *name, char *msg, size_t msglen) {
    if (!out) return loco__fail(msg, msglen, LOCO_EINVAL, "router: NULL output");
    *out = NULL;
    if (!name) name = "router";
    if (!json) return loco__fail(msg, msglen, LOCO_EINVAL, "%s: NULL text", name);
    if (memchr(json, 0, n)) return loco__fail(msg, msglen, LOCO_EINVAL, "%s: holds a NUL byte", name);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, n, &end, 0);
    while (root && end && end < json + n && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')) end++;
    if (root && end != json + n) {
        cJSON_Delete(root);
        return loco__fail(msg, msglen, LOCO_EINVAL, "%s: trailing bytes after the JSON object", name);
    }
    if (!root) return loco__fail(msg, msglen, LOCO_EINVAL, "%s: not valid JSON (truncated or corrupt)", name);
    int err = parse_tree(out, root, name, msg, msglen);
    cJSON_Delete(root);
    return err;
}

/* Returns LOCO_EIO (unreadable), LOCO_EINVAL (malformed), LOCO_ENOMEM. */
int loco_router_load(loco_router **out, const char *path, char *msg, size_t msglen) {
    if (!out) return loco__fail(msg, msglen, LOCO_EINVAL, "router: NULL output");
    *out = NULL;
    if (!path) return loco__fail(msg, msglen, LOCO_EINVAL, "router: NULL path");
    FILE *f = loco_file_open_input(path, msg, msglen);
    if (!f) return LOCO_EIO;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE_BYTES) {
        fclose(f);
        return loco__fail(msg, msglen, LOCO_EIO, "%s: not a regular file of at most 2 GiB", path);
    }
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len + 1);
    if (!buf) {
        fclose(f);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory for %zu bytes", path, len);
    }
    size_t got = fread(buf, 1, len, f);
    int rerr = ferror(f);
    fclose(f);
    if (got != len || rerr) {
        free(buf);
        return loco__fail(msg, msglen, LOCO_EIO, "%s: read error", path);
    }
    buf[len] = 0;
    int err = loco_router_parse(out, buf, len, path, msg, msglen);
    free(buf);
    return err;
}
