/* The Playroom's world, prompts and scripted people: every instruction's
 * predicate checked against the symbolic observation, every question's judge
 * against right and wrong answers typed token by token, the scripted solver's
 * success per family (below 100%, above 80%), the setter's language as the
 * solver's parser reads it, and the egocentric view's geometry. */
#include <stdlib.h>
#include <string.h>
#include "env/playroom/internal.h"
#include "loco/playroom.h"
#include "test.h"

#define GRID(o, x, y, k) ((o)[LOCO_PLAYROOM_OBS_GRID + ((y) * LOCO_PLAYROOM_W + (x)) * 4 + (k)])

static int tok(const char *w) { return loco_playroom_token_id(w); }

/* Finds the object (cat, colour) in the solver's observation: its cell, or
 * held: 1 by the solver (self), 2 by the setter.  Returns 0 if absent. */
static int find(const uint8_t *o, int cat, int colour, int *x, int *y, int *held) {
    const uint8_t *s = o + LOCO_PLAYROOM_OBS_SELF;
    *held = 0;
    if (s[3] == cat + 1 && s[4] == colour + 1) { *x = s[0], *y = s[1], *held = 1; return 1; }
    if (s[8] == cat + 1 && s[9] == colour + 1) { *x = s[5], *y = s[6], *held = 2; return 1; }
    for (int j = 0; j < LOCO_PLAYROOM_H; j++)
        for (int i = 0; i < LOCO_PLAYROOM_W; i++)
            if (GRID(o, i, j, 2) == cat + 1 && GRID(o, i, j, 3) == colour + 1) { *x = i, *y = j; return 1; }
    return 0;
}

static const int dx[4] = {0, 1, 0, -1}, dy[4] = {-1, 0, 1, 0};

/* The instruction's meaning, re-derived from the observation alone. */
static int holds(const uint8_t *o, const loco_playroom_prompt *p) {
    const uint8_t *s = o + LOCO_PLAYROOM_OBS_SELF;
    int x, y, h, x2, y2, h2;
    switch (p->family) {
    case LOCO_PLAYROOM_LIFT: return find(o, p->x_cat, p->x_colour, &x, &y, &h) && h == 1;
    case LOCO_PLAYROOM_BRING:
        return find(o, p->x_cat, p->x_colour, &x, &y, &h) && h == 1 && abs(s[0] - s[5]) + abs(s[1] - s[6]) == 1;
    case LOCO_PLAYROOM_PUT:
        return find(o, p->x_cat, p->x_colour, &x, &y, &h) && !h && GRID(o, x, y, 0) == 2 + p->f_kind &&
               GRID(o, x, y, 1) == p->f_colour + 1;
    case LOCO_PLAYROOM_GO:
        for (int d = 0; d < 4; d++) {
            int i = s[0] + dx[d], j = s[1] + dy[d];
            if (GRID(o, i, j, 0) == 2 + p->f_kind && GRID(o, i, j, 1) == p->f_colour + 1) return 1;
        }
        return 0;
    case LOCO_PLAYROOM_POSITION:
        if (!find(o, p->x_cat, p->x_colour, &x, &y, &h) || !find(o, p->y_cat, p->y_colour, &x2, &y2, &h2) || h || h2)
            return 0;
        if (p->relation == 0) return abs(x - x2) + abs(y - y2) == 1;
        /* Left of Y as the setter (the solver's "other") faces: heading - 1. */
        return x == x2 + dx[(s[7] + 3) & 3] && y == y2 + dy[(s[7] + 3) & 3];
    }
    return -1;
}

LOCO_TEST(playroom_instruction_predicates) {
    loco_playroom_env *e;
    static loco_playroom_episode ep;
    uint8_t o[LOCO_PLAYROOM_OBS_BYTES];
    CHECK(loco_playroom_env_create(&e) == LOCO_OK, "create");
    for (int f = LOCO_PLAYROOM_LIFT; f <= LOCO_PLAYROOM_POSITION; f++) {
        int wins = 0;
        for (uint64_t seed = 0; seed < 40; seed++) {
            loco_playroom_env_reset(e, seed, LOCO_PLAYROOM_SPLIT_ALL, f, 300);
            loco_playroom_env_observe(e, LOCO_PLAYROOM_SOLVER, o);
            CHECK(!holds(o, &e->prompt) && !loco__pr_achieved(&e->w, &e->prompt), "%s seed %d: holds at the start",
                  loco_playroom_family_name(f), (int)seed);
            loco_playroom_play(e, &ep, seed, LOCO_PLAYROOM_SPLIT_ALL, f, 300);
            loco_playroom_env_observe(e, LOCO_PLAYROOM_SOLVER, o);
            CHECK(ep.success == holds(o, &ep.prompt), "%s seed %d: success %d but the observation says %d",
                  loco_playroom_family_name(f), (int)seed, ep.success, holds(o, &ep.prompt));
            CHECK(ep.terminated == ep.success, "an instruction ends only by success");
            wins += ep.success;
        }
        CHECK(wins >= 30, "%s: only %d of 40 solved", loco_playroom_family_name(f), wins);
    }
    /* A predicate met before the setter has spoken does not count. */
    loco_playroom_env_reset(e, 3, LOCO_PLAYROOM_SPLIT_ALL, LOCO_PLAYROOM_GO, 300);
    int fi = loco__pr_prompt_f(&e->w, &e->prompt), placed = 0;
    const pr_furn *F = &e->w.furn[fi];
    for (int y = F->y - 1; y <= F->y + F->h && !placed; y++)
        for (int x = F->x - 1; x <= F->x + F->w && !placed; x++)
            if (loco__pr_walkable(&e->w, x, y) && (x >= F->x && x < F->x + F->w) != (y >= F->y && y < F->y + F->h))
                loco__pr_move_player(&e->w, LOCO_PLAYROOM_SOLVER, x, y, 0), placed = 1;
    CHECK(placed && loco__pr_achieved(&e->w, &e->prompt), "the solver stands beside F");
    int term = 0, trunc = 0, t = 0;
    for (; t < 60 && !term; t++) {
        int32_t a[2][2] = {{0, 0}, {0, 0}};
        loco_playroom_env_scripted(e, LOCO_PLAYROOM_SETTER, a[0]);
        float r = loco_playroom_env_step(e, (const int32_t (*)[2])a, &term, &trunc);
        CHECK(term == (e->asked_at != 0), "step %d: ends exactly when GO has been said", t);
        if (term) CHECK(r == 1.0f, "reward");
    }
    CHECK(term, "GO said while standing there succeeds");
    loco_playroom_env_free(e);
}

/* Types the words (then end-of-message) as the solver; returns the last
 * reward, or -1 for a word outside the vocabulary. */
static float answer(loco_playroom_env *e, const char *words, int *term) {
    char buf[256];
    int trunc;
    float r = 0;
    snprintf(buf, sizeof buf, "%s", words);
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
        int32_t a[2][2] = {{0, 0}, {0, tok(w)}};
        if (tok(w) <= 0) return -1.0f;   /* not a word of the vocabulary */
        r = loco_playroom_env_step(e, (const int32_t (*)[2])a, term, &trunc);
    }
    int32_t a[2][2] = {{0, 0}, {0, LOCO_PLAYROOM_EOM}};
    return loco_playroom_env_step(e, (const int32_t (*)[2])a, term, &trunc) + 0 * r;
}

/* Resets and lets the scripted setter ask its question. */
static void ask(loco_playroom_env *e, uint64_t seed, int family) {
    loco_playroom_env_reset(e, seed, LOCO_PLAYROOM_SPLIT_ALL, family, 300);
    int term, trunc;
    for (int t = 0; t < 40 && !e->asked_at; t++) {
        int32_t a[2][2] = {{0, 0}, {0, 0}};
        loco_playroom_env_scripted(e, LOCO_PLAYROOM_SETTER, a[0]);
        loco_playroom_env_step(e, (const int32_t (*)[2])a, &term, &trunc);
    }
}

static const char *colour(int c) { return loco_playroom_colour_name(c); }

LOCO_TEST(playroom_question_judges) {
    loco_playroom_env *e;
    uint8_t o[LOCO_PLAYROOM_OBS_BYTES];
    char right[128], wrong[128];
    CHECK(loco_playroom_env_create(&e) == LOCO_OK, "create");
    for (int f = LOCO_PLAYROOM_COLOUR; f <= LOCO_PLAYROOM_WHERE; f++)
        for (uint64_t seed = 0; seed < 25; seed++) {
            ask(e, seed, f);
            CHECK(e->asked_at, "%s seed %d: the setter asked", loco_playroom_family_name(f), (int)seed);
            loco_playroom_env_observe(e, LOCO_PLAYROOM_SOLVER, o);
            const loco_playroom_prompt *p = &e->prompt;
            int x = 0, y = 0, h = 0, n = 0, c = -1;
            if (f == LOCO_PLAYROOM_COLOUR) {
                for (int k = 0; k < LOCO_PLAYROOM_N_COLOUR; k++)
                    if (find(o, p->x_cat, k, &x, &y, &h)) c = k, n++;
                CHECK(n == 1, "one object of the category");
                snprintf(right, sizeof right, "it is %s", colour(c));
                snprintf(wrong, sizeof wrong, seed % 2 ? "it is %s" : "%s and %s", colour((c + 1) % 10), colour(c));
            } else if (f == LOCO_PLAYROOM_COUNT) {
                for (int k = 0; k < LOCO_PLAYROOM_N_COLOUR; k++) n += find(o, p->x_cat, k, &x, &y, &h);
                const char *num[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"};
                snprintf(right, sizeof right, n == 0 && seed % 2 ? "there are no %s" : "there are %s",
                         n == 0 && seed % 2 ? "cars" : num[n]);
                snprintf(wrong, sizeof wrong, "i see %s", num[n + 1]);
            } else if (f == LOCO_PLAYROOM_EXISTS) {
                int there = find(o, p->x_cat, p->x_colour, &x, &y, &h);
                snprintf(right, sizeof right, there ? "yes there is" : "no");
                snprintf(wrong, sizeof wrong, seed % 3 == 0 ? "yes no" : there ? "no" : "yes");
            } else {
                CHECK(find(o, p->x_cat, p->x_colour, &x, &y, &h) && !h, "X is in the room");
                int t = GRID(o, x, y, 0);
                if (t == 0) {
                    snprintf(right, sizeof right, "it is on the floor");
                    snprintf(wrong, sizeof wrong, "it is on the %s", seed % 2 ? "table" : "bed");
                } else {
                    int kind = t - 2, fc = GRID(o, x, y, 1) - 1;
                    snprintf(right, sizeof right, "it is %s the %s %s", kind >= 3 ? "in" : "on", colour(fc),
                             loco_playroom_furniture_name(kind));
                    snprintf(wrong, sizeof wrong, seed % 2 ? "it is on the floor" : "it is on the %s %s", colour(fc),
                             loco_playroom_furniture_name((kind + 1) % 5));
                }
            }
            int term = 0;
            /* A question back is not an answer. */
            CHECK(answer(e, "which one ?", &term) == 0.0f && !term, "a clarification ends the episode");
            float r = answer(e, right, &term);
            CHECK(term && r == 1.0f, "%s seed %d: '%s' judged wrong", loco_playroom_family_name(f), (int)seed, right);
            ask(e, seed, f);
            r = answer(e, wrong, &term);
            CHECK(term && r == 0.0f, "%s seed %d: '%s' judged right", loco_playroom_family_name(f), (int)seed, wrong);
        }
    loco_playroom_env_free(e);
}

LOCO_TEST(playroom_scripted_solver_success) {
    loco_playroom_env *e;
    static loco_playroom_episode ep;
    CHECK(loco_playroom_env_create(&e) == LOCO_OK, "create");
    int total = 0, all = 0;
    for (int f = 0; f < LOCO_PLAYROOM_N_FAMILY; f++) {
        int ok = 0, n = 200;
        for (int i = 0; i < n; i++) {
            loco_playroom_play(e, &ep, 1000u * (unsigned)f + (unsigned)i, LOCO_PLAYROOM_SPLIT_TRAIN, f, 300);
            ok += ep.success;
        }
        /* People are good at this but not perfect. */
        CHECK(ok > n * 85 / 100 && ok < n, "%s: %d/%d", loco_playroom_family_name(f), ok, n);
        total += ok, all += n;
    }
    CHECK(total < all, "the scripted solver never fails");
    loco_playroom_env_free(e);
}

LOCO_TEST(playroom_setter_language) {
    loco_playroom_env *e;
    static loco_playroom_episode ep;
    CHECK(loco_playroom_env_create(&e) == LOCO_OK, "create");
    int vague = 0, asked = 0, oops = 0, forms[LOCO_PLAYROOM_N_FAMILY][8] = {{0}};
    uint32_t first[LOCO_PLAYROOM_N_FAMILY][64] = {{0}};
    for (int i = 0; i < 900; i++) {
        loco_playroom_play(e, &ep, 77000u + (unsigned)i, LOCO_PLAYROOM_SPLIT_ALL, -1, 300);
        const pr_msg *m = NULL;
        for (uint32_t k = 0; k < e->chat.n_msg && !m; k++)
            if (loco__pr_chat_msg(&e->chat, k)->speaker == LOCO_PLAYROOM_SETTER) m = loco__pr_chat_msg(&e->chat, k);
        CHECK(m != NULL, "episode %d: the setter said nothing", i);
        if (!m) continue;
        pr_intent in;
        loco__pr_parse(&e->w, m->tok, m->len, &in);
        int f = ep.family;
        CHECK(in.family == f, "episode %d: '%s' read as family %d", i, loco_playroom_family_name(f), in.family);
        if (in.ambiguous) vague++;
        else if (f != LOCO_PLAYROOM_GO && f != LOCO_PLAYROOM_COUNT && f != LOCO_PLAYROOM_EXISTS)
            CHECK(in.x == loco__pr_prompt_x(&e->w, &ep.prompt), "episode %d: X misread", i);
        if (f == LOCO_PLAYROOM_PUT || f == LOCO_PLAYROOM_GO)
            CHECK(in.f == loco__pr_prompt_f(&e->w, &ep.prompt), "episode %d: F misread", i);
        /* Distinct utterance shapes: a hash of the non-content words. */
        uint32_t h = 2166136261u;
        for (int k = 0; k < m->len; k++)
            if (loco__pr_tok_category(m->tok[k], NULL) < 0 && loco__pr_tok_colour(m->tok[k]) < 0 &&
                loco__pr_tok_furniture(m->tok[k]) < 0)
                h = (h ^ m->tok[k]) * 16777619u;
        for (int k = 0; k < 64; k++) {
            if (first[f][k] == h) break;
            if (!first[f][k]) { first[f][k] = h; forms[f][0]++; break; }
        }
        for (uint32_t k = 0; k < e->chat.n_msg; k++) {
            const pr_msg *r = loco__pr_chat_msg(&e->chat, k);
            for (int j = 0; j < r->len; j++) {
                asked += r->tok[j] == tok("which");
                oops += r->tok[j] == tok("oops");
            }
        }
    }
    for (int f = 0; f < LOCO_PLAYROOM_N_FAMILY; f++)
        CHECK(forms[f][0] >= 3, "%s: only %d ways of saying it", loco_playroom_family_name(f), forms[f][0]);
    CHECK(vague > 0 && asked == vague, "vague requests %d, questions back %d", vague, asked);
    CHECK(oops > 0, "the solver never corrected a wrong object");
    loco_playroom_env_free(e);
}

/* The egocentric view is the room turned with the player: the cell ahead,
 * and the one to its left, look as they do in the whole-room map. */
LOCO_TEST(playroom_egocentric_view) {
    loco_playroom_env *e;
    static uint8_t view[LOCO_PLAYROOM_VIEW_W * LOCO_PLAYROOM_VIEW_H], map[LOCO_PLAYROOM_MAP_W * LOCO_PLAYROOM_MAP_H];
    CHECK(loco_playroom_env_create(&e) == LOCO_OK, "create");
    for (uint64_t seed = 0; seed < 10; seed++) {
        loco_playroom_env_reset(e, seed, LOCO_PLAYROOM_SPLIT_ALL, -1, 100);
        for (int turn = 0; turn < 4; turn++) {
            const pr_player *p = &e->w.pl[LOCO_PLAYROOM_SOLVER];
            loco_playroom_env_render(e, LOCO_PLAYROOM_SOLVER, view);
            loco_playroom_env_render(e, LOCO_PLAYROOM_NOBODY, map);
            int cells[2][4] = {{6, 7, p->x + dx[p->dir], p->y + dy[p->dir]},
                               {5, 8, p->x + dx[(p->dir + 3) & 3], p->y + dy[(p->dir + 3) & 3]}};
            for (int k = 0; k < 2; k++) {
                int same = 1, c = cells[k][0], r = cells[k][1], x = cells[k][2], y = cells[k][3];
                if (e->w.who_at[y][x]) continue;   /* players' glyphs turn with the viewer */
                for (int i = 0; i < 8; i++)
                    same &= !memcmp(view + (r * 8 + i) * LOCO_PLAYROOM_VIEW_W + c * 8,
                                    map + (y * 8 + i) * LOCO_PLAYROOM_MAP_W + x * 8, 8);
                CHECK(same, "seed %d heading %d: view cell (%d, %d) is not world cell (%d, %d)", (int)seed, p->dir, c, r, x, y);
            }
            int32_t a[2][2] = {{0, 0}, {LOCO_PLAYROOM_TURN_RIGHT, 0}};
            int term, trunc;
            loco_playroom_env_step(e, (const int32_t (*)[2])a, &term, &trunc);
        }
    }
    loco_playroom_env_free(e);
}
