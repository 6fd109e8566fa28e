/*
 * `loco agent act`: a policy any harness can drive over a pipe.  One JSON
 * observation per line on stdin, in the MiniWoB++ Python package's form
 * (utterance, fields, dom_elements, optional base64 PNG screenshot, optional
 * step); one JSON action per line on stdout, in the humphreys22 dictionary
 * form, flushed after every line (docs/browser.md).
 *
 * The policy is a trained agent (--checkpoint F: the CC-Net network, its
 * recurrent state carried from line to line and reset when "step" is 0) or
 * the task's scripted demonstrator (--policy oracle --task T).  A line that
 * cannot be read gets {"error": "..."} and the exit status becomes 1; the
 * episode goes on with the next line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"
#include "cli/agent_cmd.h"
#include "loco/agent.h"
#include "loco/agent_env.h"
#include "loco/browser.h"
#include "loco/env.h"

#define CMD "loco agent act"
#define LINE_MAX_BYTES (64u << 20)

typedef struct {
    loco_agent *m;               /* --checkpoint */
    loco_agent_batch_buf bb;
    loco_env_demo *demo;         /* --policy oracle */
    loco_rng rng;
    int sample;
} policy;

int loco__agent_step(loco_agent *m, loco_agent_batch_buf *bb, const loco_env_obs *o, const uint8_t *frame,
                     loco_rng *rng, loco_env_action *a, char *msg, size_t n) {
    if (o->step == 0) loco_agent_reset_state(m);
    loco_agent_encode_obs(loco_agent_get_config(m), o, frame, bb, 0);
    bb->first[0] = o->step == 0;
    bb->valid[0] = 1;
    bb->view.target = NULL;
    int r = loco_agent_forward(m, &bb->view, msg, n);
    if (r) return r;
    loco_agent_carry_state(m);
    loco_agent_action chosen;
    loco_agent_choose(m, 0, rng, &chosen);
    loco_agent_action_to_env(&chosen, a);
    return LOCO_OK;
}

/* The next action for obs; LOCO_OK or an error with msg. */
static int decide(policy *p, const loco_env_obs *o, const uint8_t *pix, loco_env_action *a, char *msg, size_t n) {
    if (p->demo) {
        loco_env_demo_act(p->demo, 0, o, a);
        return LOCO_OK;
    }
    return loco__agent_step(p->m, &p->bb, o, pix, p->sample ? &p->rng : NULL, a, msg, n);
}

int loco__agent_act(int argc, char **argv) {
    const char *ckpt = NULL, *policy_s = NULL, *task_s = NULL;
    int sample = 0;
    uint64_t seed = 0;
    arg_spec specs[] = {
        {"checkpoint", ARG_STR, &ckpt, 0, 0, "a trained agent (loco agent train)"},
        {"policy", ARG_STR, &policy_s, 0, 0, "oracle: the task's scripted demonstrator instead of an agent"},
        {"task", ARG_STR, &task_s, 0, 0, "the task the observations come from (needed by oracle)"},
        {"sample", ARG_INT, &sample, 0, 1, "1: sample the agent's actions; 0: take the most likely"},
        {"seed", ARG_U64, &seed, 0, 0, "seed for sampling and for the demonstrator's variation"},
    };
    char err[512];
    int r = args_parse(specs, (int)(sizeof specs / sizeof *specs), argc, argv,
                       "usage: " CMD " (--checkpoint F | --policy oracle --task T) < observations.jsonl\n\n"
                       "Reads one observation per line in the MiniWoB++ Python package's form and writes one\n"
                       "action per line (the humphreys22 dictionary, or an element action); docs/browser.md.",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, CMD ": %s\n", err); return 2; }
    if (!!ckpt == !!policy_s) { fprintf(stderr, CMD ": give --checkpoint F or --policy oracle (one of them)\n"); return 2; }
    if (policy_s && strcmp(policy_s, "oracle")) { fprintf(stderr, CMD ": --policy must be oracle\n"); return 2; }
    int task = task_s ? loco_env_task_find(task_s) : -1;
    if (task_s && task < 0) { fprintf(stderr, CMD ": unknown task '%s' (see loco env list)\n", task_s); return 2; }
    if (policy_s && task < 0) { fprintf(stderr, CMD ": --policy oracle needs --task T\n"); return 2; }

    policy p = {0};
    p.sample = sample;
    loco_rng_seed(&p.rng, seed);
    char msg[512];
    int pixels = 0;
    if (ckpt) {
        if (loco_agent_load(ckpt, &p.m, 1, 1, NULL, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); return 1; }
        const loco_agent_config *c = loco_agent_get_config(p.m);
        snprintf(msg, sizeof msg, "out of memory");
        if (loco_agent_env_check(c, msg, sizeof msg) || loco_agent_batch_buf_alloc(&p.bb, c, 1, 1)) {
            fprintf(stderr, CMD ": %s\n", msg);
            loco_agent_free(p.m);
            return 1;
        }
        pixels = (c->obs & LOCO_OBS_PIXELS) != 0;
    } else if (loco_env_demo_create(&p.demo, 1)) {
        fprintf(stderr, CMD ": out of memory\n");
        return 1;
    }
    loco_env_obs *obs = calloc(1, sizeof *obs);
    uint8_t *pix = malloc(LOCO_ENV_H * LOCO_ENV_W * 3);
    char *line = NULL;
    size_t cap = 0;
    int bad = 0, steps = 0, episodes = 0;
    loco_env_action prev = {0};
    if (!obs || !pix) { fprintf(stderr, CMD ": out of memory\n"); bad = 1; goto out; }
    for (ssize_t len; (len = getline(&line, &cap, stdin)) >= 0;) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        loco_env_action a;
        int has_pix = 0, ok = (size_t)len <= LINE_MAX_BYTES;
        if (!ok) snprintf(msg, sizeof msg, "line longer than %u bytes", LINE_MAX_BYTES);
        else ok = !loco_browser_obs_from_json(line, (size_t)len, task, obs, pix, &has_pix, msg, sizeof msg);
        if (ok) {
            /* "step" absent: the lines count the steps of one episode */
            if (obs->step < 0) obs->step = steps;
            if (obs->step == 0) {
                memset(&prev, 0, sizeof prev);
                if (p.demo) loco_env_demo_reset(p.demo, 0, seed + (uint64_t)episodes);
                episodes++;
            }
            obs->prev_action = prev;
            if (pixels && !has_pix) { ok = 0; snprintf(msg, sizeof msg, "this agent sees pixels: the line needs a screenshot"); }
        }
        if (ok) ok = !decide(&p, obs, pixels ? pix : NULL, &a, msg, sizeof msg);
        char out[256];
        if (ok && loco_browser_action_to_json(&a, out, sizeof out)) { ok = 0; snprintf(msg, sizeof msg, "no JSON form"); }
        if (ok) {
            puts(out);
            prev = a;
            steps = obs->step + 1;
        } else {
            for (char *c = msg; *c; c++) if (*c == '"' || *c == '\\' || (unsigned char)*c < 32) *c = '\'';
            printf("{\"error\": \"%s\"}\n", msg);
            bad = 1;
        }
        fflush(stdout);
    }
out:
    free(line);
    free(obs);
    free(pix);
    if (p.m) { loco_agent_batch_buf_free(&p.bb); loco_agent_free(p.m); }
    loco_env_demo_free(p.demo);
    return bad;
}
