/*
 * loco browser: MiniWoB++ task pages in a real, headless Chromium, behind the
 * observation and action types of loco env (loco/env.h).
 *
 * Each loco_browser owns one chromedriver process and the one Chromium it
 * starts, driven over the W3C WebDriver protocol (libcurl + cJSON).  A page is
 * loaded from a MiniWoB++ checkout and driven as the MiniWoB++ Python package
 * drives it: Math.seedrandom(seed) then core.startEpisodeReal() on reset;
 * core.getUtterance() and core.getDOMInfo() for the observation; the WOB_*
 * globals for the reward; W3C pointer, wheel and key actions for CC-Net's
 * action space; core.elementClick(ref) for element actions.  Fields come from
 * the checkout's own miniwob/fields.py (run by python3), or from the page
 * when core.getUtterance() returns {utterance, fields}.  docs/browser.md.
 *
 * Browsers are independent: several run in parallel from several threads
 * (one thread per browser at a time).  A browser that stops answering
 * (config.timeout_ms) or dies is killed and restarted; the episode it was
 * running ends with truncated = 1 and never counts as a success.
 */
#ifndef LOCO_LOCO_BROWSER_H
#define LOCO_LOCO_BROWSER_H

#include <stddef.h>
#include <stdint.h>
#include "loco/env.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *miniwob_dir;   /* a MiniWoB++ checkout, its miniwob/html, or a folder with miniwob/TASK.html */
    const char *chromium;      /* NULL: /usr/bin/chromium */
    const char *chromedriver;  /* NULL: chromedriver on PATH */
    const char *python;        /* NULL: /usr/bin/python3 (for the checkout's fields.py) */
    int   pixels;              /* 1: take a 160x210 screenshot after every reset and step */
    int   reward;              /* loco_env_reward_kind */
    int   max_steps;           /* truncate after this many steps; <= 0: the page's own 10 s clock only */
    int   timeout_ms;          /* one WebDriver command; <= 0: 20000 */
} loco_browser_config;

typedef struct loco_browser loco_browser;

/* Starts chromedriver and Chromium.  LOCO_ENOTSUP with a line naming the
 * Debian package when either is missing; LOCO_EIO when the browser does not start. */
int  loco_browser_create(loco_browser **out, const loco_browser_config *cfg, char *msg, size_t msglen);
void loco_browser_free(loco_browser *b);

/* Loads task `task` (a page name such as "click-test") when it is not the
 * page already shown, seeds it with `seed` and starts an episode; writes the
 * observation (obs->task is loco_env_task_find(task), or -1) and, with
 * pixels, the 210x160x3 screenshot.  LOCO_EINVAL when the page is missing,
 * LOCO_EIO when the browser failed twice (reason in msg). */
int  loco_browser_reset(loco_browser *b, const char *task, uint64_t seed, loco_env_obs *obs, uint8_t *pixels,
                        char *msg, size_t msglen);

/* Performs one action and writes the next observation, the reward (as
 * config.reward processes it) and whether the episode ended.  After an ending
 * step, call loco_browser_reset.  A browser fault restarts the browser and
 * ends the episode with truncated = 1, reward 0 and success 0 (the call
 * returns LOCO_OK; loco_browser_restarts counts them).  LOCO_ERANGE or
 * LOCO_EINVAL for an invalid action (not performed); LOCO_EINVAL after the
 * episode has ended, until the next reset. */
int  loco_browser_step(loco_browser *b, const loco_env_action *a, loco_env_obs *obs, uint8_t *pixels,
                       float *reward, uint8_t *terminated, uint8_t *truncated, uint8_t *success);

/* Kills every browser this process has running (their process groups);
 * async-signal-safe, for a SIGINT or SIGTERM handler, since the browsers sit
 * in process groups of their own that a terminal's Ctrl-C does not reach. */
void loco_browser_kill_all(void);

/* Times the browser was restarted after a fault. */
int  loco_browser_restarts(const loco_browser *b);
/* The chromedriver's process group (Chromium is in it): for fault tests. */
int  loco_browser_pgid(const loco_browser *b);

/* ------------------------------------------------ observations and actions as text */

/* Parses one observation in the MiniWoB++ Python package's form (a JSON
 * object: "utterance", "fields" as [key, value] pairs, "dom_elements" with
 * the package's names: ref, parent, left, top, width, height (numbers or
 * one-element lists), tag, text, value, id, classes, bg_color and fg_color
 * as RGBA in [0, 1], flags [focused, tampered, targeted, is_leaf]; optional
 * "screenshot", a base64 PNG, and "step"; obs->step is -1 without it).
 * obs->task is set to `task`.  With
 * pixels (210x160x3) a screenshot is decoded into it and *has_pixels set.
 * LOCO_EINVAL with the reason in msg. */
int  loco_browser_obs_from_json(const char *json, size_t len, int task, loco_env_obs *obs, uint8_t *pixels,
                                int *has_pixels, char *msg, size_t msglen);
/* One action as a JSON object: the humphreys22 dictionary for CC-Net's ten
 * types ({"action_type": i, "action_type_name": "CLICK_COORDS", "coords":
 * [x, y], "key": k, "field": f}) or an element action ({"action_type":
 * "CLICK_ELEMENT", "ref": r}).  LOCO_ERANGE when cap is too small. */
int  loco_browser_action_to_json(const loco_env_action *a, char *out, size_t cap);
/* The MiniWoB++ name of an action type ("CLICK_COORDS"), or NULL. */
const char *loco_browser_action_name(int type);
/* Parses "TYPE X Y KEY" (four decimal integers, single spaces, an optional
 * final newline; TYPE one of CC-Net's ten) into *a and validates it. */
int  loco_browser_action_parse(const char *s, size_t n, loco_env_action *a);

/* The path of task's page under dir (LOCO_OK), or LOCO_EIO when none. */
int  loco_browser_page_path(const char *dir, const char *task, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
