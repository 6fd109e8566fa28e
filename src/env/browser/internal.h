/* The browser backend's internals (src/env/browser/). */
#ifndef LOCO_ENV_BROWSER_INTERNAL_H
#define LOCO_ENV_BROWSER_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "loco/browser.h"

/* obs.c */
void   loco__obs_from_dom(const cJSON *dom, loco_env_obs *o);
void   loco__obs_set_utterance(loco_env_obs *o, const cJSON *u);
/* Fields from [[key, value], ...] or {key: value, ...}; returns their count. */
int    loco__obs_fields(loco_env_obs *o, const cJSON *pairs);
void   loco__css_color(const char *s, uint8_t out[4]);
size_t loco__b64_decode(const char *s, uint8_t *out, size_t cap);
/* A base64 PNG screenshot's top-left 160x210 into rgb (210, 160, 3); 0 or -1. */
int    loco__png_crop(const char *b64, uint8_t *rgb);

/* actions.c: the W3C input sources that perform a, as MiniWoB++'s
 * selenium_actions.py does; *x, *y receive the pointer's page position.
 * NULL when a performs nothing in the browser (NONE) or only a script. */
cJSON *loco__w3c_actions(const loco_env_action *a, const loco_env_obs *obs, float *x, float *y);
/* The W3C key value of a MiniWoB++ key name ("<Enter>" -> U+E006); 0 if none. */
int    loco__w3c_key(const char *name, char *out, int *n_mods, char mods[4][4]);

#endif
