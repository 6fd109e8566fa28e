/*
 * CC-Net's actions as W3C WebDriver input sources, as MiniWoB++'s
 * selenium_actions.py performs them: a pointer move to the bin's pixel
 * (truncated to whole pixels, as Selenium does) then press/release; a wheel
 * scroll of 50 px over 150 ms; a key (with its modifiers) down then up; a
 * field typed one character at a time.
 */
#include <stdio.h>
#include <string.h>
#include "env/browser/internal.h"

#define SCROLL_PX 50   /* miniwob DEFAULT_SCROLL_AMOUNT */
#define SCROLL_MS 150  /* miniwob DEFAULT_SCROLL_TIME */

/* W3C key codes of the special keys in the 104-key list (WebDriver spec, table of normalised keys). */
static const struct { const char *name; unsigned code; } special[] = {
    {"<Enter>", 0xE006}, {"<PageUp>", 0xE00E}, {"<PageDown>", 0xE00F}, {"<Backspace>", 0xE003},
    {"<Delete>", 0xE017}, {"<Tab>", 0xE004}, {"<Space>", 0xE00D}, {"<ArrowUp>", 0xE013},
    {"<ArrowRight>", 0xE014}, {"<ArrowDown>", 0xE015}, {"<ArrowLeft>", 0xE012},
    {"<Numpad0>", 0xE01A}, {"<Numpad1>", 0xE01B}, {"<Numpad2>", 0xE01C}, {"<Numpad3>", 0xE01D},
    {"<Numpad4>", 0xE01E}, {"<Numpad5>", 0xE01F}, {"<Numpad6>", 0xE020}, {"<Numpad7>", 0xE021},
    {"<Numpad8>", 0xE022}, {"<Numpad9>", 0xE023}, {"<NumpadAdd>", 0xE025}, {"<NumpadMultiply>", 0xE024},
    {"<NumpadSubtract>", 0xE027}, {"<NumpadDivide>", 0xE029}, {"<NumpadDecimal>", 0xE028},
    {"<NumpadEnter>", 0xE007},
};

static int utf8(unsigned c, char *out) {
    if (c < 0x80) { out[0] = (char)c; out[1] = 0; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | c >> 6); out[1] = (char)(0x80 | (c & 63)); out[2] = 0; return 2; }
    out[0] = (char)(0xE0 | c >> 12); out[1] = (char)(0x80 | (c >> 6 & 63)); out[2] = (char)(0x80 | (c & 63)); out[3] = 0;
    return 3;
}

int loco__w3c_key(const char *name, char *out, int *n_mods, char mods[4][4]) {
    *n_mods = 0;
    for (;;) {   /* modifier prefixes C- S- A- M- */
        unsigned m = !strncmp(name, "C-", 2) ? 0xE009 : !strncmp(name, "S-", 2) ? 0xE008
                   : !strncmp(name, "A-", 2) ? 0xE00A : !strncmp(name, "M-", 2) ? 0xE03D : 0;
        if (!m || !name[2] || *n_mods >= 4) break;
        utf8(m, mods[(*n_mods)++]);
        name += 2;
    }
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        if (!strcmp(name, special[i].name)) { utf8(special[i].code, out); return 1; }
    if (strlen(name) != 1) return 0;
    out[0] = name[0]; out[1] = 0;
    return 1;
}

static cJSON *source(cJSON *list, const char *type, const char *id) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", type);
    cJSON_AddStringToObject(s, "id", id);
    if (!strcmp(type, "pointer")) cJSON_AddStringToObject(cJSON_AddObjectToObject(s, "parameters"), "pointerType", "mouse");
    cJSON_AddItemToArray(list, s);
    return cJSON_AddArrayToObject(s, "actions");
}

static void step(cJSON *acts, const char *type, const char *key, double v) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", type);
    if (key) cJSON_AddNumberToObject(a, key, v);
    cJSON_AddItemToArray(acts, a);
}

static void key_step(cJSON *acts, const char *type, const char *value) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", type);
    cJSON_AddStringToObject(a, "value", value);
    cJSON_AddItemToArray(acts, a);
}

/* Types a UTF-8 string character by character (execute_type_text). */
static void type_text(cJSON *list, const char *s) {
    cJSON *k = source(list, "key", "keyboard");
    while (*s) {
        int n = 1;
        unsigned char c = (unsigned char)*s;
        if (c >= 0xF0) n = 4; else if (c >= 0xE0) n = 3; else if (c >= 0xC0) n = 2;
        char ch[5] = {0};
        for (int i = 0; i < n && s[i]; i++) ch[i] = s[i];
        key_step(k, "keyDown", ch);
        key_step(k, "keyUp", ch);
        s += strlen(ch);
    }
}

cJSON *loco__w3c_actions(const loco_env_action *a, const loco_env_obs *obs, float *x, float *y) {
    cJSON *list = cJSON_CreateArray();
    int t = a->type;
    if (t >= LOCO_ENV_MOVE_COORDS && t <= LOCO_ENV_SCROLL_DOWN_COORDS) {
        *x = loco_env_bin_x(a->x);
        *y = loco_env_bin_y(a->y);
        int px = (int)*x, py = (int)*y;
        if (t == LOCO_ENV_SCROLL_UP_COORDS || t == LOCO_ENV_SCROLL_DOWN_COORDS) {
            cJSON *w = source(list, "wheel", "wheel");
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "type", "scroll");
            cJSON_AddStringToObject(s, "origin", "viewport");
            cJSON_AddNumberToObject(s, "x", px);
            cJSON_AddNumberToObject(s, "y", py);
            cJSON_AddNumberToObject(s, "deltaX", 0);
            cJSON_AddNumberToObject(s, "deltaY", t == LOCO_ENV_SCROLL_UP_COORDS ? -SCROLL_PX : SCROLL_PX);
            cJSON_AddNumberToObject(s, "duration", SCROLL_MS);
            cJSON_AddItemToArray(w, s);
            return list;
        }
        cJSON *p = source(list, "pointer", "mouse");
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "type", "pointerMove");
        cJSON_AddStringToObject(m, "origin", "viewport");
        cJSON_AddNumberToObject(m, "x", px);
        cJSON_AddNumberToObject(m, "y", py);
        cJSON_AddNumberToObject(m, "duration", 0);
        cJSON_AddItemToArray(p, m);
        int clicks = t == LOCO_ENV_CLICK_COORDS ? 1 : t == LOCO_ENV_DBLCLICK_COORDS ? 2 : 0;
        for (int c = 0; c < clicks; c++) {
            step(p, "pointerDown", "button", 0);
            step(p, "pointerUp", "button", 0);
        }
        if (t == LOCO_ENV_MOUSEDOWN_COORDS) step(p, "pointerDown", "button", 0);
        if (t == LOCO_ENV_MOUSEUP_COORDS) step(p, "pointerUp", "button", 0);
        return list;
    }
    if (t == LOCO_ENV_PRESS_KEY) {
        char key[8], mods[4][4];
        int nm;
        if (!loco__w3c_key(loco_env_key_name(a->key), key, &nm, mods)) { cJSON_Delete(list); return NULL; }
        cJSON *k = source(list, "key", "keyboard");
        for (int i = 0; i < nm; i++) key_step(k, "keyDown", mods[i]);
        key_step(k, "keyDown", key);
        key_step(k, "keyUp", key);
        for (int i = nm - 1; i >= 0; i--) key_step(k, "keyUp", mods[i]);
        return list;
    }
    if (t == LOCO_ENV_TYPE_FIELD || t == LOCO_ENV_FOCUS_ELEMENT_AND_TYPE_FIELD) {
        /* an index at or past the number of fields types "" (MiniWoB++) */
        if (obs && a->field >= 0 && a->field < obs->n_fields && obs->field_value[a->field][0])
            type_text(list, obs->field_value[a->field]);
        else { cJSON_Delete(list); return NULL; }
        return list;
    }
    cJSON_Delete(list);
    return NULL;
}
