/*
 * One room: reset from a seed, a step of both players, the episode's end,
 * observations, the state hash, and playing or replaying a whole episode.
 *
 * An episode ends (terminated) when an instruction's predicate holds after
 * the setter has spoken, or when the solver sends its first message after a
 * question that is not itself a question back (a message with "?" or
 * "which"); the answer is then judged.  It is truncated at max_steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/fail.h"
#include "env/playroom/internal.h"
#include "env/playroom/vocab.h"

int loco_playroom_env_create(loco_playroom_env **out) {
    *out = calloc(1, sizeof **out);
    return *out ? LOCO_OK : LOCO_ENOMEM;
}

void loco_playroom_env_free(loco_playroom_env *e) { free(e); }

int loco_playroom_env_reset(loco_playroom_env *e, uint64_t seed, int split, int family, int max_steps) {
    if (split < LOCO_PLAYROOM_SPLIT_ALL || split > LOCO_PLAYROOM_SPLIT_TEST) return LOCO_EINVAL;
    if (family < -1 || family >= LOCO_PLAYROOM_N_FAMILY) return LOCO_EINVAL;
    if (max_steps < 1 || max_steps > LOCO_PLAYROOM_MAX_STEPS) return LOCO_EINVAL;
    /* GO names no object, so no GO prompt can hold out a combination. */
    if (split == LOCO_PLAYROOM_SPLIT_TEST && family == LOCO_PLAYROOM_GO) return LOCO_EINVAL;
    memset(e, 0, sizeof *e);
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    /* The family first, so that families are equally likely even though
     * some rooms have no prompt of some family (then another room is built). */
    int fam = family;
    if (fam < 0) {
        do fam = (int)loco__pr_below(&rng, LOCO_PLAYROOM_N_FAMILY);
        while (split == LOCO_PLAYROOM_SPLIT_TEST && fam == LOCO_PLAYROOM_GO);
    }
    do loco__pr_world_build(&e->w, &rng, split);
    while (!loco__pr_prompt_draw(&e->w, &rng, split, fam, &e->prompt));
    loco_rng_seed(&e->rng[LOCO_PLAYROOM_SETTER], seed ^ 0x5e77e75e77e75e77ULL);
    loco_rng_seed(&e->rng[LOCO_PLAYROOM_SOLVER], seed ^ 0x501fe7501fe7501fULL);
    e->seed = seed, e->split = split, e->family_filter = family, e->max_steps = max_steps;
    loco__pr_setter_reset(e);
    loco__pr_solver_reset(e);
    return LOCO_OK;
}

void loco_playroom_env_scripted(loco_playroom_env *e, int seat, int32_t act[2]) {
    if (seat == LOCO_PLAYROOM_SETTER) loco__pr_setter_act(e, act);
    else loco__pr_solver_act(e, act);
}

static int is_clarification(const pr_msg *m) {
    for (int i = 0; i < m->len; i++)
        if (m->tok[i] == T_QMARK || m->tok[i] == T_WHICH) return 1;
    return 0;
}

float loco_playroom_env_step(loco_playroom_env *e, const int32_t acts[2][2], int *terminated, int *truncated) {
    if (e->done) {
        *terminated = e->terminated, *truncated = e->truncated;
        return 0.0f;
    }
    for (int p = 0; p < 2; p++) loco__pr_apply_motor(&e->w, p, acts[p][0]);
    if (loco__pr_say(&e->chat, LOCO_PLAYROOM_SETTER, acts[0][1]) && !e->asked_at) e->asked_at = e->chat.n_msg;
    int answered = loco__pr_say(&e->chat, LOCO_PLAYROOM_SOLVER, acts[1][1]);
    e->steps++;
    if (e->asked_at) {
        if (loco__pr_is_question(e->prompt.family)) {
            const pr_msg *m = loco__pr_chat_msg(&e->chat, e->chat.n_msg - 1);
            if (answered && !is_clarification(m)) {
                e->terminated = 1;
                e->success = loco__pr_judge(&e->w, &e->prompt, m->tok, m->len);
            }
        } else if (loco__pr_achieved(&e->w, &e->prompt)) {
            e->terminated = e->success = 1;
        }
    }
    if (!e->terminated && e->steps >= e->max_steps) e->truncated = 1;
    e->done = e->terminated || e->truncated;
    *terminated = e->terminated, *truncated = e->truncated;
    return e->success ? 1.0f : 0.0f;
}

const loco_playroom_prompt *loco_playroom_env_prompt(const loco_playroom_env *e) { return &e->prompt; }
int loco_playroom_env_steps(const loco_playroom_env *e) { return e->steps; }
int loco_playroom_env_success(const loco_playroom_env *e) { return e->success; }

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t fnv_u32(uint64_t h, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return fnv(h, b, 4);
}

/* pr_world, pr_msg and loco_playroom_prompt hold only bytes, so their memory
 * is their serialisation (no padding). */
uint64_t loco_playroom_env_hash(const loco_playroom_env *e) {
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, &e->w, sizeof e->w);
    h = fnv(h, e->chat.msg, sizeof e->chat.msg);
    h = fnv(h, e->chat.pending, sizeof e->chat.pending);
    h = fnv_u32(h, e->chat.n_msg);
    h = fnv(h, &e->prompt, sizeof e->prompt);
    h = fnv_u32(h, (uint32_t)e->steps);
    return fnv_u32(h, (uint32_t)(e->success | e->terminated << 1 | e->truncated << 2));
}

void loco_playroom_env_observe(const loco_playroom_env *e, int seat, uint8_t *obs) {
    const pr_world *w = &e->w;
    memcpy(obs + LOCO_PLAYROOM_OBS_GRID, w->g, sizeof w->g);
    uint8_t *s = obs + LOCO_PLAYROOM_OBS_SELF;
    for (int i = 0; i < 2; i++) {
        const pr_player *p = &w->pl[i == 0 ? seat : 1 - seat];
        s[5 * i + 0] = p->x, s[5 * i + 1] = p->y, s[5 * i + 2] = p->dir;
        s[5 * i + 3] = p->held == PR_NONE ? 0 : (uint8_t)(w->obj[p->held].cat + 1);
        s[5 * i + 4] = p->held == PR_NONE ? 0 : (uint8_t)(w->obj[p->held].colour + 1);
    }
    int setter = seat == LOCO_PLAYROOM_SETTER;
    s[10] = (uint8_t)seat;
    s[11] = setter ? (uint8_t)(e->prompt.family + 1) : 0;
    s[12] = (uint8_t)e->steps, s[13] = (uint8_t)(e->steps >> 8), s[14] = s[15] = 0;
    uint8_t *p = obs + LOCO_PLAYROOM_OBS_PROMPT;
    if (setter) {
        const loco_playroom_prompt *q = &e->prompt;
        const uint8_t v[8] = {q->family, q->x_cat, q->x_colour, q->relation, q->f_kind, q->f_colour, q->y_cat,
                              q->y_colour};
        p[0] = (uint8_t)(v[0] + 1);
        p[3] = (uint8_t)(v[3] + 1);
        for (int i = 1; i < 8; i++)
            if (i != 3) p[i] = v[i] == PR_NONE ? 0 : (uint8_t)(v[i] + 1);
    } else {
        memset(p, 0, 8);
    }
    memcpy(obs + LOCO_PLAYROOM_OBS_CHAT, e->chat.last, 32);
    memcpy(obs + LOCO_PLAYROOM_OBS_SPEAKER, e->chat.last_who, 32);
}

void loco_playroom_env_chat(const loco_playroom_env *e, char *out, size_t n) {
    size_t used = 0;
    if (n) out[0] = 0;
    uint32_t first = e->chat.n_msg > PR_CHAT_MSGS ? e->chat.n_msg - PR_CHAT_MSGS : 0;
    for (uint32_t k = first; k < e->chat.n_msg && used + 1 < n; k++) {
        const pr_msg *m = loco__pr_chat_msg(&e->chat, k);
        int r = snprintf(out + used, n - used, "%s:", m->speaker == LOCO_PLAYROOM_SETTER ? "setter" : "solver");
        for (int i = 0; r >= 0 && used + (size_t)r < n && i < m->len; i++) {
            used += (size_t)r;
            r = snprintf(out + used, n - used, " %s", loco_playroom_token_name(m->tok[i]));
        }
        if (r < 0 || used + (size_t)r >= n) break;
        used += (size_t)r;
        r = snprintf(out + used, n - used, "\n");
        if (r < 0 || used + (size_t)r >= n) break;
        used += (size_t)r;
    }
}

/* ---------------------------------------------------------------- whole episodes */

int loco_playroom_play(loco_playroom_env *e, loco_playroom_episode *ep, uint64_t seed, int split, int family,
                       int max_steps) {
    int err = loco_playroom_env_reset(e, seed, split, family, max_steps);
    if (err) return err;
    memset(ep, 0, sizeof *ep);
    int term = 0, trunc = 0;
    while (!term && !trunc) {
        int32_t acts[2][2];
        loco_playroom_env_scripted(e, LOCO_PLAYROOM_SETTER, acts[0]);
        loco_playroom_env_scripted(e, LOCO_PLAYROOM_SOLVER, acts[1]);
        uint8_t *a = ep->acts[e->steps];
        a[0] = (uint8_t)acts[0][0], a[1] = (uint8_t)acts[0][1], a[2] = (uint8_t)acts[1][0], a[3] = (uint8_t)acts[1][1];
        loco_playroom_env_step(e, (const int32_t (*)[2])acts, &term, &trunc);
    }
    ep->seed = seed, ep->split = (uint8_t)split, ep->family_filter = (uint8_t)(family < 0 ? 255 : family);
    ep->family = e->prompt.family, ep->prompt = e->prompt;
    ep->success = (uint8_t)e->success, ep->terminated = (uint8_t)term;
    ep->max_steps = (uint16_t)max_steps, ep->n_steps = (uint16_t)e->steps;
    ep->hash = loco_playroom_env_hash(e);
    return LOCO_OK;
}

int loco_playroom_replay(loco_playroom_env *e, const loco_playroom_episode *ep, char *msg, size_t msglen) {
    int family = ep->family_filter == 255 ? -1 : ep->family_filter;
    if (loco_playroom_env_reset(e, ep->seed, ep->split, family, ep->max_steps))
        return loco__fail(msg, msglen, LOCO_ERANGE, "episode settings are invalid");
    if (memcmp(&e->prompt, &ep->prompt, sizeof ep->prompt))
        return loco__fail(msg, msglen, LOCO_ERANGE, "the seed gives another prompt");
    int term = 0, trunc = 0;
    for (int t = 0; t < ep->n_steps; t++) {
        if (term || trunc) return loco__fail(msg, msglen, LOCO_ERANGE, "the episode ends early, at step %d", t);
        const uint8_t *a = ep->acts[t];
        const int32_t acts[2][2] = {{a[0], a[1]}, {a[2], a[3]}};
        loco_playroom_env_step(e, acts, &term, &trunc);
    }
    if (!term && !trunc) return loco__fail(msg, msglen, LOCO_ERANGE, "the episode has not ended after its steps");
    if (e->success != ep->success || term != ep->terminated)
        return loco__fail(msg, msglen, LOCO_ERANGE, "the outcome differs");
    if (loco_playroom_env_hash(e) != ep->hash) return loco__fail(msg, msglen, LOCO_ERANGE, "the final state differs");
    return LOCO_OK;
}
