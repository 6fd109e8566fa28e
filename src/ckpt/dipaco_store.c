/*
 * DiPaCo's files (include/loco/dipaco.h): DIR/dipaco.json describes the
 * structure, and each module lives in its own safetensors file holding one
 * F32 tensor "module" of shape (n) with metadata naming it.  A path is built
 * by reading only its modules' files: the base and one module per level.
 *
 * Every file is written atomically (src/core/file.c) and every read is
 * validated before a float is used: header length, JSON, format, name,
 * shape against the layout, byte range against the file size, and finite
 * values.  See docs/dipaco.md for the format.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/file.h"
#include "loco/dipaco.h"

#define MODULE_FORMAT "loco-dipaco-module-1"
#define LAYOUT_FORMAT "loco-dipaco-1"
#define MAX_HEADER 65536

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "module files are written by copying floats; a big-endian host needs byte swapping here"
#endif

void loco_dipaco_module_name(const loco_dipaco_layout *l, int m, char *buf, size_t buflen) {
    int v = loco_dipaco_module_level(l, m);
    if (v < 0 && l->d.shared_base) snprintf(buf, buflen, "base");
    else if (v < 0) snprintf(buf, buflen, "base_path%d", m);
    else snprintf(buf, buflen, "level%d_module%d", v, m - l->first[v]);
}

static void module_path(const char *dir, const loco_dipaco_layout *l, int m, char *buf, size_t buflen) {
    char name[64];
    loco_dipaco_module_name(l, m, name, sizeof name);
    snprintf(buf, buflen, "%s/%s.safetensors", dir, name);
}

/* Returns LOCO_EIO or LOCO_ENOMEM with a reason. */
static int save_module(const char *path, const char *name, const float *x, size_t n, char *msg, size_t msglen) {
    char header[512];
    int hl = snprintf(header, sizeof header,
                      "{\"__metadata__\":{\"loco_format\":\"%s\",\"name\":\"%s\"},"
                      "\"module\":{\"dtype\":\"F32\",\"shape\":[%zu],\"data_offsets\":[0,%zu]}}",
                      MODULE_FORMAT, name, n, n * sizeof(float));
    /* safetensors pads the header with spaces to a multiple of 8 bytes. */
    while (hl % 8) header[hl++] = ' ';
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    loco__chunk c[3] = {{len, 8}, {header, (size_t)hl}, {x, n * sizeof(float)}};
    return loco__write_atomic(path, c, 3, msg, msglen);
}

/* Returns LOCO_EIO (reason naming the file that failed). */
int loco_dipaco_save(const char *dir, const loco_dipaco_layout *l, const float *modules, const char *tokenizer,
                     const char *router, char *msg, size_t msglen) {
    char path[4200], name[64];
    for (int m = 0; m < l->n_modules; m++) {
        module_path(dir, l, m, path, sizeof path);
        loco_dipaco_module_name(l, m, name, sizeof name);
        int e = save_module(path, name, modules + loco_dipaco_module_offset(l, m), loco_dipaco_module_size(l, m),
                            msg, msglen);
        if (e) return e;
    }
    cJSON *j = cJSON_CreateObject(), *cfg = cJSON_AddObjectToObject(j, "config");
    cJSON_AddStringToObject(j, "format", LAYOUT_FORMAT);
    cJSON_AddNumberToObject(cfg, "max_seq_len", l->g.max_seq_len);
    cJSON_AddNumberToObject(cfg, "vocab_size", l->g.vocab_size);
    cJSON_AddNumberToObject(cfg, "n_layer", l->g.n_layer);
    cJSON_AddNumberToObject(cfg, "n_head", l->g.n_head);
    cJSON_AddNumberToObject(cfg, "channels", l->g.channels);
    cJSON *lv = cJSON_AddArrayToObject(j, "levels");
    for (int v = 0; v < l->d.n_levels; v++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "layers", l->d.layers[v]);
        cJSON_AddNumberToObject(o, "modules", l->d.modules[v]);
        cJSON_AddItemToArray(lv, o);
    }
    cJSON_AddBoolToObject(j, "shared_base", l->d.shared_base);
    cJSON_AddNumberToObject(j, "paths", l->n_paths);
    cJSON_AddStringToObject(j, "tokenizer", tokenizer ? tokenizer : "");
    cJSON_AddStringToObject(j, "router", router ? router : "");
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) {
        snprintf(msg, msglen, "%s: out of memory", dir);
        return LOCO_ENOMEM;
    }
    snprintf(path, sizeof path, "%s/dipaco.json", dir);
    loco__chunk c[2] = {{text, strlen(text)}, {"\n", 1}};
    int e = loco__write_atomic(path, c, 2, msg, msglen);
    free(text);
    return e;
}

/* Reads a whole small file (at most cap bytes) into a NUL-terminated buffer
 * the caller frees; NULL on failure, with a reason. */
static char *read_small(const char *path, size_t cap, char *msg, size_t msglen) {
    FILE *f = loco_file_open_input(path, msg, msglen);
    if (!f) return NULL;
    char *buf = malloc(cap + 1);
    size_t n = buf ? fread(buf, 1, cap + 1, f) : 0;
    fclose(f);
    if (!buf || n > cap) {
        snprintf(msg, msglen, "%s: %s", path, buf ? "too large" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

static int get_int(const cJSON *o, const char *key, int lo, int hi, int *out) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x) || x->valuedouble != (double)(int)x->valuedouble || x->valuedouble < lo ||
        x->valuedouble > hi)
        return -1;
    *out = (int)x->valuedouble;
    return 0;
}

static int get_str(const cJSON *o, const char *key, char *out) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(x) || strlen(x->valuestring) >= 256) return -1;
    if (out) snprintf(out, 256, "%s", x->valuestring);
    return 0;
}

/* Returns LOCO_EIO or LOCO_EINVAL with a reason naming the file. */
int loco_dipaco_load_layout(const char *dir, loco_dipaco_layout *l, char *tokenizer, char *router,
                            char *msg, size_t msglen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/dipaco.json", dir);
    char *text = read_small(path, MAX_HEADER, msg, msglen);
    if (!text) return LOCO_EIO;
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(j, "levels");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "format");
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(j, "shared_base");
    loco_gpt_config g;
    loco_dipaco_config d;
    memset(&d, 0, sizeof d);
    int n_paths = 0;
    const char *why = NULL;
    if (!j) why = "not JSON";
    else if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, LAYOUT_FORMAT) != 0)
        why = "format is not " LAYOUT_FORMAT;
    else if (!cJSON_IsObject(cfg) || get_int(cfg, "max_seq_len", 1, LOCO_MAX_SEQ_LEN, &g.max_seq_len) ||
             get_int(cfg, "vocab_size", 1, 1 << 30, &g.vocab_size) || get_int(cfg, "n_layer", 1, 1 << 16, &g.n_layer) ||
             get_int(cfg, "n_head", 1, 1 << 16, &g.n_head) || get_int(cfg, "channels", 1, 1 << 20, &g.channels))
        why = "config is missing or malformed";
    else if (!cJSON_IsArray(lv) || cJSON_GetArraySize(lv) < 1 || cJSON_GetArraySize(lv) > LOCO_DIPACO_MAX_LEVELS)
        why = "levels is missing or malformed";
    else if (!cJSON_IsBool(sb)) why = "shared_base is missing";
    else if (get_str(j, "tokenizer", tokenizer) || get_str(j, "router", router))
        why = "tokenizer or router is missing or too long";
    else if (get_int(j, "paths", 1, LOCO_DIPACO_MAX_PATHS, &n_paths))
        why = "paths is missing or not a whole number of paths";
    if (!why) {
        d.n_levels = cJSON_GetArraySize(lv);
        d.shared_base = cJSON_IsTrue(sb);
        for (int v = 0; v < d.n_levels && !why; v++) {
            const cJSON *o = cJSON_GetArrayItem(lv, v);
            if (!cJSON_IsObject(o) || get_int(o, "layers", 1, 1 << 16, &d.layers[v]) ||
                get_int(o, "modules", 1, LOCO_DIPACO_MAX_PATHS, &d.modules[v]))
                why = "a level is malformed";
        }
    }
    cJSON_Delete(j);
    if (why) {
        snprintf(msg, msglen, "%s: %s", path, why);
        return LOCO_EINVAL;
    }
    char reason[256];
    if (loco_dipaco_layout_init(l, &g, &d, reason, sizeof reason) != LOCO_OK) {
        snprintf(msg, msglen, "%s: %s", path, reason);
        return LOCO_EINVAL;
    }
    /* The count is derived from the levels; a file that says otherwise was
     * edited or damaged. */
    if (n_paths != l->n_paths) {
        snprintf(msg, msglen, "%s: paths is %d but its levels make %d", path, n_paths, l->n_paths);
        return LOCO_EINVAL;
    }
    return LOCO_OK;
}

/* Reads module m into out (its size in floats).  Returns LOCO_EIO or
 * LOCO_EINVAL with a reason naming the file. */
static int load_module(const char *dir, const loco_dipaco_layout *l, int m, float *out, char *msg, size_t msglen) {
    char path[4200], name[64], want[64];
    module_path(dir, l, m, path, sizeof path);
    loco_dipaco_module_name(l, m, want, sizeof want);
    size_t n = loco_dipaco_module_size(l, m);
    FILE *f = loco_file_open_input(path, msg, msglen);
    if (!f) return LOCO_EIO;
    uint8_t len[8];
    uint64_t hl = 0;
    char *header = NULL;
    const char *why = NULL;
    cJSON *j = NULL;
    if (fread(len, 1, 8, f) != 8) why = "truncated header";
    for (int i = 0; i < 8 && !why; i++) hl |= (uint64_t)len[i] << (8 * i);
    if (!why && (hl < 2 || hl > MAX_HEADER)) why = "bad header length";
    if (!why && !(header = malloc(hl + 1))) why = "out of memory";
    if (!why && fread(header, 1, hl, f) != hl) why = "truncated header";
    if (!why) {
        header[hl] = 0;
        j = cJSON_Parse(header);
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(j, "__metadata__");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "module");
        const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(md, "loco_format");
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
        if (!j) why = "header is not JSON";
        else if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, MODULE_FORMAT) != 0)
            why = "not a " MODULE_FORMAT " file";
        else if (get_str(md, "name", name) || strcmp(name, want) != 0) why = "holds another module";
        else if (!cJSON_IsString(dt) || strcmp(dt->valuestring, "F32") != 0) why = "dtype is not F32";
        else if (!cJSON_IsArray(sh) || cJSON_GetArraySize(sh) != 1 || !cJSON_IsNumber(sh->child) ||
                 sh->child->valuedouble != (double)n)
            why = "shape does not match the layout";
        else if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || !cJSON_IsNumber(of->child) ||
                 of->child->valuedouble != 0 || !cJSON_IsNumber(of->child->next) ||
                 of->child->next->valuedouble != (double)(n * sizeof(float)))
            why = "data_offsets do not match the shape";
    }
    if (!why && fread(out, sizeof(float), n, f) != n) why = "truncated data";
    if (!why && fgetc(f) != EOF) why = "trailing bytes after the data";
    for (size_t i = 0; i < n && !why; i++)
        if (!isfinite(out[i])) why = "holds a non-finite value";
    cJSON_Delete(j);
    free(header);
    fclose(f);
    if (why) {
        snprintf(msg, msglen, "%s: %s", path, why);
        return LOCO_EINVAL;
    }
    return LOCO_OK;
}

/* Returns LOCO_EIO, LOCO_EINVAL or LOCO_ENOMEM with a reason naming the file. */
int loco_dipaco_load_path(const char *dir, const loco_dipaco_layout *l, int p, float *path, char *msg,
                          size_t msglen) {
    if (p < 0 || p >= l->n_paths) {
        snprintf(msg, msglen, "%s: path %d is not in [0, %d)", dir, p, l->n_paths);
        return LOCO_EINVAL;
    }
    size_t biggest = l->base_size;
    for (int v = 0; v < l->d.n_levels; v++)
        if (l->level_size[v] > biggest) biggest = l->level_size[v];
    float *buf = malloc(biggest * sizeof(float));
    if (!buf) {
        snprintf(msg, msglen, "%s: out of memory", dir);
        return LOCO_ENOMEM;
    }
    int e = LOCO_OK;
    for (int v = -1; v < l->d.n_levels && !e; v++) {
        int m = loco_dipaco_module(l, p, v);
        if ((e = load_module(dir, l, m, buf, msg, msglen)) != LOCO_OK) break;
        for (int s = 0; s < l->n_seg[v + 1]; s++) {
            const loco_dipaco_segment *g = &l->seg[v + 1][s];
            memcpy(path + g->path_off, buf + g->mod_off, g->len * sizeof(float));
        }
    }
    free(buf);
    return e;
}
