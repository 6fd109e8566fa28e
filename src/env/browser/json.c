/*
 * Observations and actions as text, for harnesses outside loco:
 *
 *  - an observation in the MiniWoB++ Python package's form (a JSON object:
 *    utterance, fields as [key, value] pairs, dom_elements with the package's
 *    field names, an optional base64 PNG screenshot), into loco_env_obs;
 *  - an action as the humphreys22 dictionary (action_type, coords as bins,
 *    key, field) or an element action, as one JSON line;
 *  - the four-integer text form "TYPE X Y KEY" of loco env serve's page.
 *
 * docs/browser.md gives both JSON forms with examples.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env/browser/internal.h"

static const char *const type_names[LOCO_ENV_NUM_ACTION_TYPES] = {
    "NONE", "MOVE_COORDS", "CLICK_COORDS", "DBLCLICK_COORDS", "MOUSEDOWN_COORDS", "MOUSEUP_COORDS",
    "SCROLL_UP_COORDS", "SCROLL_DOWN_COORDS", "PRESS_KEY", "TYPE_FIELD", "CLICK_ELEMENT",
    "FOCUS_ELEMENT_AND_TYPE_FIELD",
};

const char *loco_browser_action_name(int type) {
    return type >= 0 && type < LOCO_ENV_NUM_ACTION_TYPES ? type_names[type] : NULL;
}

/* A number, or a one-element array of one (numpy arrays of shape (1,)). */
static int number(const cJSON *v, double *out) {
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1) v = cJSON_GetArrayItem(v, 0);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return 0;
    *out = v->valuedouble;
    return 1;
}

static int str(const cJSON *v, char *dst, size_t cap) {
    dst[0] = 0;
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsString(v)) return 0;
    size_t n = strlen(v->valuestring);
    if (n >= cap) {   /* cut at a character boundary */
        n = cap - 1;
        while (n > 0 && ((unsigned char)v->valuestring[n] & 0xC0) == 0x80) n--;
    }
    memcpy(dst, v->valuestring, n);
    dst[n] = 0;
    return 1;
}

/* Colours: RGBA floats in [0, 1] (the package's bg_color / fg_color). */
static int color(const cJSON *v, uint8_t out[4]) {
    memset(out, 0, 4);
    if (!v) return 1;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 4) return 0;
    for (int i = 0; i < 4; i++) {
        double c;
        if (!number(cJSON_GetArrayItem(v, i), &c)) return 0;
        out[i] = (uint8_t)(c <= 0 ? 0 : c >= 1 ? 255 : c * 255 + 0.5);
    }
    return 1;
}

static int elem(const cJSON *j, loco_env_elem *e, char *msg, size_t msglen) {
    memset(e, 0, sizeof *e);
    double v[6];
    static const char *const nums[] = {"ref", "parent", "left", "top", "width", "height"};
    for (int i = 0; i < 6; i++) {
        const cJSON *x = cJSON_GetObjectItem(j, nums[i]);
        if (!x && i == 1) { v[i] = 0; continue; }
        if (!number(x, &v[i]) || fabs(v[i]) > 1e6) { snprintf(msg, msglen, "dom_elements: bad or missing '%s'", nums[i]); return 0; }
    }
    if (v[0] != floor(v[0]) || v[1] != floor(v[1])) { snprintf(msg, msglen, "dom_elements: ref and parent are integers"); return 0; }
    e->ref = (int32_t)v[0]; e->parent = (int32_t)v[1];
    e->left = (float)v[2]; e->top = (float)v[3]; e->width = (float)v[4]; e->height = (float)v[5];
    if (!str(cJSON_GetObjectItem(j, "tag"), e->tag, sizeof e->tag) || !str(cJSON_GetObjectItem(j, "id"), e->id, sizeof e->id) ||
        !str(cJSON_GetObjectItem(j, "classes"), e->classes, sizeof e->classes) ||
        !str(cJSON_GetObjectItem(j, "text"), e->text, sizeof e->text)) {
        snprintf(msg, msglen, "dom_elements: tag, id, classes and text are strings");
        return 0;
    }
    const cJSON *val = cJSON_GetObjectItem(j, "value");
    if (cJSON_IsBool(val)) snprintf(e->value, sizeof e->value, "%s", cJSON_IsTrue(val) ? "true" : "false");
    else if (!str(val, e->value, sizeof e->value)) { snprintf(msg, msglen, "dom_elements: bad 'value'"); return 0; }
    /* The package writes str(value or ""): a checked box "True", an unchecked one "". */
    if (!strcmp(e->tag, "INPUT_checkbox") || !strcmp(e->tag, "INPUT_radio"))
        snprintf(e->value, sizeof e->value, "%s", !strcmp(e->value, "True") || !strcmp(e->value, "true") ? "true" : "false");
    if (!color(cJSON_GetObjectItem(j, "bg_color"), e->bg) || !color(cJSON_GetObjectItem(j, "fg_color"), e->fg)) {
        snprintf(msg, msglen, "dom_elements: colours are [r, g, b, a] in [0, 1]");
        return 0;
    }
    const cJSON *fl = cJSON_GetObjectItem(j, "flags");
    if (fl) {
        if (!cJSON_IsArray(fl) || cJSON_GetArraySize(fl) != 4) { snprintf(msg, msglen, "dom_elements: flags are 4 numbers"); return 0; }
        static const uint32_t bit[4] = {LOCO_ENV_FOCUSED, LOCO_ENV_TAMPERED, LOCO_ENV_TARGETED, LOCO_ENV_LEAF};
        for (int i = 0; i < 4; i++) {
            double f;
            const cJSON *x = cJSON_GetArrayItem(fl, i);
            if (cJSON_IsBool(x)) f = cJSON_IsTrue(x);
            else if (!number(x, &f)) { snprintf(msg, msglen, "dom_elements: flags are 4 numbers"); return 0; }
            if (f != 0) e->flags |= bit[i];
        }
    }
    return 1;
}

int loco_browser_obs_from_json(const char *json, size_t len, int task, loco_env_obs *o, uint8_t *pixels, int *has_pixels,
                               char *msg, size_t msglen) {
    memset(o, 0, sizeof *o);
    o->task = task;
    o->step = -1;   /* unknown unless the line says */
    if (has_pixels) *has_pixels = 0;
    cJSON *j = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(j)) { snprintf(msg, msglen, "not a JSON object"); cJSON_Delete(j); return LOCO_EINVAL; }
    int ok = 0;
    const cJSON *u = cJSON_GetObjectItem(j, "utterance"), *f = cJSON_GetObjectItem(j, "fields"),
                *d = cJSON_GetObjectItem(j, "dom_elements"), *s = cJSON_GetObjectItem(j, "screenshot");
    if (!cJSON_IsString(u)) { snprintf(msg, msglen, "'utterance' must be a string"); goto done; }
    str(u, o->utterance, sizeof o->utterance);
    if (f && !cJSON_IsArray(f)) { snprintf(msg, msglen, "'fields' must be a list of [key, value] pairs"); goto done; }
    const cJSON *p;
    cJSON_ArrayForEach(p, f) {
        if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) != 2 || !cJSON_IsString(cJSON_GetArrayItem(p, 0)) ||
            !cJSON_IsString(cJSON_GetArrayItem(p, 1))) {
            snprintf(msg, msglen, "'fields' must be a list of [key, value] pairs");
            goto done;
        }
        if (o->n_fields >= LOCO_ENV_MAX_FIELDS) { snprintf(msg, msglen, "more than %d fields", LOCO_ENV_MAX_FIELDS); goto done; }
        str(cJSON_GetArrayItem(p, 0), o->field_key[o->n_fields], LOCO_ENV_STR);
        str(cJSON_GetArrayItem(p, 1), o->field_value[o->n_fields], LOCO_ENV_STR);
        o->n_fields++;
    }
    if (d && !cJSON_IsArray(d)) { snprintf(msg, msglen, "'dom_elements' must be a list"); goto done; }
    cJSON_ArrayForEach(p, d) {
        if (o->n_elems >= LOCO_ENV_MAX_ELEMS) break;   /* as the native engine: the first 128 */
        if (!cJSON_IsObject(p)) { snprintf(msg, msglen, "dom_elements: each element is an object"); goto done; }
        if (!elem(p, &o->elems[o->n_elems], msg, msglen)) goto done;
        o->n_elems++;
    }
    const cJSON *st = cJSON_GetObjectItem(j, "step");
    double sv;
    if (st && (!number(st, &sv) || sv < 0 || sv > 1e9)) { snprintf(msg, msglen, "'step' must be a count"); goto done; }
    if (st) o->step = (int32_t)sv;
    if (s && !cJSON_IsNull(s)) {
        if (!cJSON_IsString(s)) { snprintf(msg, msglen, "'screenshot' must be a base64 PNG string"); goto done; }
        if (pixels) {
            if (loco__png_crop(s->valuestring, pixels)) { snprintf(msg, msglen, "'screenshot' is not a PNG of at least 160x210"); goto done; }
            if (has_pixels) *has_pixels = 1;
        }
    }
    ok = 1;
done:
    cJSON_Delete(j);
    return ok ? LOCO_OK : LOCO_EINVAL;
}

int loco_browser_action_to_json(const loco_env_action *a, char *out, size_t cap) {
    const char *name = loco_browser_action_name(a->type);
    if (!name) return LOCO_EINVAL;
    int n;
    if (a->type == LOCO_ENV_CLICK_ELEMENT)
        n = snprintf(out, cap, "{\"action_type\": \"%s\", \"ref\": %d}", name, a->ref);
    else if (a->type == LOCO_ENV_FOCUS_ELEMENT_AND_TYPE_FIELD)
        n = snprintf(out, cap, "{\"action_type\": \"%s\", \"ref\": %d, \"field\": %d}", name, a->ref, a->field);
    else   /* the humphreys22 dictionary: action_type is the index into its 10 types */
        n = snprintf(out, cap, "{\"action_type\": %d, \"action_type_name\": \"%s\", \"coords\": [%d, %d], \"key\": %d, \"field\": %d}",
                     a->type, name, a->x, a->y, a->key, a->field);
    return n > 0 && (size_t)n < cap ? LOCO_OK : LOCO_ERANGE;
}

int loco_browser_action_parse(const char *s, size_t n, loco_env_action *a) {
    memset(a, 0, sizeof *a);
    if (n > 0 && s[n - 1] == '\n') n--;
    long v[4];
    size_t i = 0;
    for (int k = 0; k < 4; k++) {
        if (k && (i >= n || s[i++] != ' ')) return LOCO_EINVAL;
        int neg = i < n && s[i] == '-';
        i += (size_t)neg;
        size_t start = i;
        long x = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 6) x = x * 10 + (s[i++] - '0');
        if (i == start || (i < n && s[i] >= '0' && s[i] <= '9')) return LOCO_EINVAL;
        v[k] = neg ? -x : x;
    }
    if (i != n) return LOCO_EINVAL;
    if (v[0] < 0 || v[0] >= LOCO_ENV_NUM_CCNET_TYPES) return LOCO_EINVAL;
    a->type = (int32_t)v[0]; a->x = (int32_t)v[1]; a->y = (int32_t)v[2]; a->key = (int32_t)v[3];
    return loco_env_action_check(a, NULL);
}
