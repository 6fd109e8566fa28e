/*
 * From the page to loco_env_obs: core.getDOMInfo()'s nested tree flattened
 * in pre-order (MiniWoB++'s DOMElement.subtree_elements, the root <body>
 * first), CSS colours to RGBA bytes, the four flags; and a PNG screenshot
 * cropped to the 160x210 task.
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env/browser/internal.h"

static void copy_str(char *dst, size_t cap, const cJSON *v) {
    if (cJSON_IsString(v)) snprintf(dst, cap, "%s", v->valuestring);
    else if (cJSON_IsBool(v)) snprintf(dst, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v)) snprintf(dst, cap, "%.17g", v->valuedouble);
    else dst[0] = 0;
    /* a string cut in the middle of a UTF-8 sequence loses the partial character */
    size_t n = strlen(dst);
    if (n == cap - 1) {
        size_t k = n;
        while (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80) k--;
        if (k > 0 && ((unsigned char)dst[k - 1] & 0x80)) {
            unsigned char lead = (unsigned char)dst[k - 1];
            size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            if (n - (k - 1) < need) dst[k - 1] = 0;
        }
    }
}

static float num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsNumber(v) ? (float)v->valuedouble : 0.0f;
}

/* "rgb(r, g, b)" or "rgba(r, g, b, a)" (a in [0, 1]) into RGBA bytes. */
void loco__css_color(const char *s, uint8_t out[4]) {
    float c[4] = {0, 0, 0, 1};
    out[0] = out[1] = out[2] = out[3] = 0;
    if (!s) return;
    const char *p = strchr(s, '(');
    if (!p) return;
    int n = sscanf(p + 1, "%f , %f , %f , %f", &c[0], &c[1], &c[2], &c[3]);
    if (n < 3) return;
    for (int i = 0; i < 3; i++) out[i] = (uint8_t)(c[i] < 0 ? 0 : c[i] > 255 ? 255 : c[i] + 0.5f);
    out[3] = (uint8_t)(c[3] < 0 ? 0 : c[3] > 1 ? 255 : c[3] * 255 + 0.5f);
}

static void walk(const cJSON *node, int parent, loco_env_obs *o, int depth) {
    if (!cJSON_IsObject(node) || depth > 256) return;
    const cJSON *children = cJSON_GetObjectItem(node, "children");
    int ref = (int)num(node, "ref");
    if (o->n_elems < LOCO_ENV_MAX_ELEMS) {
        loco_env_elem *e = &o->elems[o->n_elems++];
        memset(e, 0, sizeof *e);
        e->ref = ref;
        e->parent = parent;
        copy_str(e->tag, sizeof e->tag, cJSON_GetObjectItem(node, "tag"));
        copy_str(e->id, sizeof e->id, cJSON_GetObjectItem(node, "id"));
        copy_str(e->classes, sizeof e->classes, cJSON_GetObjectItem(node, "classes"));
        copy_str(e->text, sizeof e->text, cJSON_GetObjectItem(node, "text"));
        copy_str(e->value, sizeof e->value, cJSON_GetObjectItem(node, "value"));
        e->left = num(node, "left"); e->top = num(node, "top");
        e->width = num(node, "width"); e->height = num(node, "height");
        const cJSON *bg = cJSON_GetObjectItem(node, "bgColor"), *fg = cJSON_GetObjectItem(node, "fgColor");
        loco__css_color(cJSON_IsString(bg) ? bg->valuestring : NULL, e->bg);
        loco__css_color(cJSON_IsString(fg) ? fg->valuestring : NULL, e->fg);
        if (cJSON_IsTrue(cJSON_GetObjectItem(node, "focused"))) e->flags |= LOCO_ENV_FOCUSED;
        if (cJSON_IsTrue(cJSON_GetObjectItem(node, "tampered"))) e->flags |= LOCO_ENV_TAMPERED;
        if (cJSON_IsTrue(cJSON_GetObjectItem(node, "recordingTarget"))) e->flags |= LOCO_ENV_TARGETED;
        if (cJSON_GetArraySize(children) == 0) e->flags |= LOCO_ENV_LEAF;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, children) walk(c, ref, o, depth + 1);
}

void loco__obs_from_dom(const cJSON *dom, loco_env_obs *o) {
    o->n_elems = 0;
    walk(dom, 0, o, 0);
}

void loco__obs_set_utterance(loco_env_obs *o, const cJSON *u) {
    copy_str(o->utterance, sizeof o->utterance, cJSON_IsObject(u) ? cJSON_GetObjectItem(u, "utterance") : u);
}

int loco__obs_fields(loco_env_obs *o, const cJSON *pairs) {
    o->n_fields = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, pairs) {
        if (o->n_fields >= LOCO_ENV_MAX_FIELDS) break;
        const cJSON *k = cJSON_IsArray(p) ? cJSON_GetArrayItem(p, 0) : NULL, *v = k ? cJSON_GetArrayItem(p, 1) : NULL;
        if (!cJSON_IsString(k)) continue;
        copy_str(o->field_key[o->n_fields], LOCO_ENV_STR, k);
        copy_str(o->field_value[o->n_fields], LOCO_ENV_STR, v);
        o->n_fields++;
    }
    if (cJSON_IsObject(pairs))   /* a page's own fields: {"key": "value", ...} */
        cJSON_ArrayForEach(p, pairs) {
            if (o->n_fields >= LOCO_ENV_MAX_FIELDS) break;
            snprintf(o->field_key[o->n_fields], LOCO_ENV_STR, "%s", p->string);
            copy_str(o->field_value[o->n_fields], LOCO_ENV_STR, p);
            o->n_fields++;
        }
    return o->n_fields;
}

static int b64v(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

size_t loco__b64_decode(const char *s, uint8_t *out, size_t cap) {
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = b64v((unsigned char)*s);
        if (v < 0) continue;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < cap) out[n] = (uint8_t)(acc >> bits);
            n++;
        }
    }
    return n;
}

int loco__png_crop(const char *b64, uint8_t *rgb) {
    size_t len = strlen(b64);
    uint8_t *png = malloc(len);
    if (!png) return -1;
    size_t n = loco__b64_decode(b64, png, len);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    int ok = -1;
    if (n <= len && png_image_begin_read_from_memory(&img, png, n)) {
        img.format = PNG_FORMAT_RGB;
        size_t sz = PNG_IMAGE_SIZE(img);
        uint8_t *full = img.width >= LOCO_ENV_W && img.height >= LOCO_ENV_H && sz < (64u << 20) ? malloc(sz) : NULL;
        if (full && png_image_finish_read(&img, NULL, full, 0, NULL)) {
            for (int y = 0; y < LOCO_ENV_H; y++)
                memcpy(rgb + (size_t)y * LOCO_ENV_W * 3, full + (size_t)y * img.width * 3, LOCO_ENV_W * 3);
            ok = 0;
        }
        free(full);
        png_image_free(&img);
    }
    free(png);
    return ok;
}
