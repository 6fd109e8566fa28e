/*
 * libFuzzer target for the text forms of src/env/browser/json.c: every
 * input goes to loco_browser_obs_from_json (an observation line of `loco
 * agent act`) and to loco_browser_action_parse (a /step body of `loco env
 * serve`).  An accepted observation must hold counts within their bounds and
 * NUL-terminated strings; an accepted action must validate, and its JSON form
 * must parse.
 *
 * Seeds: LLVMFuzzerInitialize writes a typical observation and an action
 * into each corpus directory on the command line.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/browser.h"

static const char seed_obs[] =
    "{\"utterance\": \"Enter \\\"Kasey\\\" into the text field and press Submit.\", \"fields\": [[\"target\", \"Kasey\"]],"
    " \"dom_elements\": [{\"ref\": 1, \"parent\": 0, \"left\": [0.0], \"top\": [0.0], \"width\": [160.0], \"height\": [210.0],"
    " \"tag\": \"BODY\", \"text\": \"\", \"value\": \"\", \"id\": \"\", \"classes\": \"\", \"bg_color\": [1, 1, 1, 1],"
    " \"fg_color\": [0, 0, 0, 1], \"flags\": [0, 0, 0, 0]}, {\"ref\": 2, \"parent\": 1, \"left\": [12.0], \"top\": [64.0],"
    " \"width\": [108.0], \"height\": [21.0], \"tag\": \"INPUT_checkbox\", \"text\": \"\", \"value\": \"True\", \"id\": \"tt\","
    " \"classes\": \"\", \"bg_color\": [1, 1, 1, 1], \"fg_color\": [0, 0, 0, 1], \"flags\": [1, 0, 0, 1]}], \"step\": 3}";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    for (int i = 1; i < *argc; i++) {
        const char *d = (*argv)[i];
        if (d[0] == '-') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/seed_obs.json", d);
        FILE *f = fopen(path, "wb");
        if (f) { fputs(seed_obs, f); fclose(f); }
        snprintf(path, sizeof path, "%s/seed_action.txt", d);
        f = fopen(path, "wb");
        if (f) { fputs("2 10 30 0\n", f); fclose(f); }
    }
    return 0;
}

static void check_str(const char *s, size_t cap) {
    if (!memchr(s, 0, cap)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static loco_env_obs obs;
    static uint8_t pix[LOCO_ENV_H * LOCO_ENV_W * 3];
    char msg[256];
    int has = 0;
    if (loco_browser_obs_from_json((const char *)data, size, 0, &obs, pix, &has, msg, sizeof msg) == LOCO_OK) {
        if (obs.n_fields < 0 || obs.n_fields > LOCO_ENV_MAX_FIELDS || obs.n_elems < 0 || obs.n_elems > LOCO_ENV_MAX_ELEMS)
            abort();
        check_str(obs.utterance, sizeof obs.utterance);
        for (int k = 0; k < obs.n_fields; k++) { check_str(obs.field_key[k], LOCO_ENV_STR); check_str(obs.field_value[k], LOCO_ENV_STR); }
        for (int k = 0; k < obs.n_elems; k++) {
            const loco_env_elem *e = &obs.elems[k];
            check_str(e->tag, sizeof e->tag); check_str(e->id, sizeof e->id); check_str(e->classes, sizeof e->classes);
            check_str(e->text, sizeof e->text); check_str(e->value, sizeof e->value);
        }
    } else if (!memchr(msg, 0, sizeof msg)) {
        abort();
    }
    loco_env_action a;
    if (loco_browser_action_parse((const char *)data, size, &a) == LOCO_OK) {
        if (loco_env_action_check(&a, NULL) != LOCO_OK) abort();
        char out[256];
        if (loco_browser_action_to_json(&a, out, sizeof out) != LOCO_OK) abort();
        cJSON *j = cJSON_Parse(out);
        if (!j || cJSON_GetObjectItem(j, "action_type")->valueint != a.type) abort();
        cJSON_Delete(j);
    }
    return 0;
}
