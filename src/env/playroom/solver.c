/*
 * The scripted solver: it reads the setter's words (not the prompt), asks
 * "which one ?" when an object is ambiguous, plans with A* (nav.c), grasps,
 * places and answers.  Like a person it is imperfect, at rates drawn from its
 * own seeded stream once per episode:
 *   - 20%: a detour through a random waypoint before the task;
 *   - 4% per step: a hesitation of 1-4 steps;
 *   - 12%: it first goes for a wrong object (same category, else same
 *     colour), notices 3-8 steps after grabbing it, says "oops wrong one",
 *     puts it down and fetches the right one;
 *   - 6%: a wrong answer to a question;
 *   - 3%: it gives up ("sorry i cannot find it").
 * The success rate these give, per family, is measured by `loco playroom run`.
 */
#include <string.h>
#include "env/playroom/internal.h"
#include "env/playroom/vocab.h"

enum { LISTEN, ACT, ANSWER, IDLE };

/* ---------------------------------------------------------------- understanding */

typedef struct { int8_t cat, colour; } phrase;

void loco__pr_parse(const pr_world *w, const uint8_t *tok, int n, pr_intent *in) {
    memset(in, 0, sizeof *in);
    in->family = in->x = in->y = in->f = in->cat = in->colour = in->x_cat = -1;
    phrase obj[4], fur[2];
    int n_obj = 0, n_fur = 0, into = 0;
    uint8_t has[PR_VOCAB_SIZE] = {0};
    for (int i = 0; i < n; i++) {
        int t = tok[i], plural = 0, c = loco__pr_tok_category(t, &plural), k = loco__pr_tok_furniture(t);
        int colour = i > 0 ? loco__pr_tok_colour(tok[i - 1]) : -1;
        if (t < PR_VOCAB_SIZE) has[t] = 1;
        if (c >= 0 && n_obj < 4) obj[n_obj++] = (phrase){(int8_t)c, (int8_t)colour};
        if (k >= 0 && n_fur < 2) fur[n_fur++] = (phrase){(int8_t)k, (int8_t)colour};
        into |= t == T_IN || t == T_INTO || t == T_INSIDE;
    }
    if ((has[T_HOW] && has[T_MANY]) || has[T_COUNT]) in->family = LOCO_PLAYROOM_COUNT;
    else if (has[T_WHERE]) in->family = LOCO_PLAYROOM_WHERE;
    else if (has[T_COLOUR] || has[T_COLOR]) in->family = LOCO_PLAYROOM_COLOUR;
    else if (has[T_THERE] || has[T_SEE]) in->family = LOCO_PLAYROOM_EXISTS;
    else if (has[T_BRING] || has[T_GIVE] || has[T_FETCH] || has[T_GET]) in->family = LOCO_PLAYROOM_BRING;
    else if (has[T_GO] || has[T_WALK] || has[T_HEAD]) in->family = LOCO_PLAYROOM_GO;
    else if (n_obj >= 2 && (has[T_LEFT] || has[T_NEXT] || has[T_BESIDE] || has[T_NEAR] || has[T_BY]))
        in->family = LOCO_PLAYROOM_POSITION, in->relation = has[T_LEFT];
    else if (n_fur >= 1 && n_obj >= 1) in->family = LOCO_PLAYROOM_PUT, in->relation = (int8_t)into;
    else if (n_obj >= 1 && (has[T_LIFT] || has[T_PICK] || has[T_HOLD] || has[T_GRAB] || has[T_RAISE]))
        in->family = LOCO_PLAYROOM_LIFT;
    else return;

    if (in->family == LOCO_PLAYROOM_GO || in->family == LOCO_PLAYROOM_PUT) {
        if (!n_fur) { in->family = -1; return; }
        for (int f = 0; f < w->n_furn && in->f < 0; f++)
            if (w->furn[f].kind == fur[0].cat && (fur[0].colour < 0 || w->furn[f].colour == fur[0].colour))
                in->f = (int8_t)f;
        if (in->family == LOCO_PLAYROOM_GO) return;
    }
    if (!n_obj) { in->family = -1; return; }
    if (in->family == LOCO_PLAYROOM_COUNT) { in->cat = obj[0].cat; return; }
    if (in->family == LOCO_PLAYROOM_EXISTS) { in->cat = obj[0].cat, in->colour = obj[0].colour; return; }
    in->x_cat = obj[0].cat;
    if (obj[0].colour >= 0) in->x = (int8_t)loco__pr_find(w, obj[0].cat, obj[0].colour);
    else if (loco__pr_count(w, obj[0].cat) == 1) {
        for (int i = 0; i < w->n_obj; i++) if (w->obj[i].cat == obj[0].cat) in->x = (int8_t)i;
    } else in->ambiguous = loco__pr_count(w, obj[0].cat) > 1;
    if (in->family == LOCO_PLAYROOM_POSITION && n_obj >= 2 && obj[1].colour >= 0)
        in->y = (int8_t)loco__pr_find(w, obj[1].cat, obj[1].colour);
}

/* ---------------------------------------------------------------- talking */

static void say(pr_solver *s, const uint8_t *t, int n) {
    if (s->pos < s->n_out) return;   /* still typing the last message */
    memcpy(s->out, t, (size_t)n);
    s->out[n] = T_EOM;
    s->n_out = (uint8_t)(n + 1), s->pos = 0;
}
#define SAY(s, ...) do { const uint8_t t_[] = {__VA_ARGS__}; say(s, t_, (int)sizeof t_); } while (0)

static void answer(loco_playroom_env *e) {
    pr_solver *s = &e->solver;
    const pr_world *w = &e->w;
    loco_rng *rng = &e->rng[LOCO_PLAYROOM_SOLVER];
    int k = (int)loco__pr_below(rng, 3), x = s->in.x;
    switch (s->in.family) {
    case LOCO_PLAYROOM_COLOUR: {
        if (x < 0) { SAY(s, T_SORRY, T_I, T_CANT, T_FIND, T_IT); return; }
        int c = w->obj[x].colour;
        if (s->answer_err) c = (c + 1 + (int)loco__pr_below(rng, LOCO_PLAYROOM_N_COLOUR - 1)) % LOCO_PLAYROOM_N_COLOUR;
        uint8_t cw = (uint8_t)loco__pr_tok_colour_word(c);
        if (k == 0) SAY(s, T_IT, T_IS, cw);
        else if (k == 1) SAY(s, cw);
        else SAY(s, T_THE, (uint8_t)loco__pr_tok_category_word(w->obj[x].cat, 0, 0), T_IS, cw);
        return;
    }
    case LOCO_PLAYROOM_COUNT: {
        int n = loco__pr_count(w, s->in.cat);
        if (s->answer_err) n = n == 0 || loco__pr_chance(rng, 50) ? n + 1 : n - 1;
        uint8_t nw = (uint8_t)loco__pr_tok_number_word(n);
        if (n == 0 && k != 1) SAY(s, T_THERE, T_ARE, T_NO, (uint8_t)loco__pr_tok_category_word(s->in.cat, 1, 0));
        else if (k == 0) SAY(s, T_THERE, n == 1 ? T_IS : T_ARE, nw);
        else if (k == 1) SAY(s, nw);
        else SAY(s, T_I, T_SEE, nw);
        return;
    }
    case LOCO_PLAYROOM_EXISTS: {
        int yes = s->in.cat >= 0 && s->in.colour >= 0 && loco__pr_find(w, s->in.cat, s->in.colour) >= 0;
        if (s->answer_err) yes = !yes;
        if (k == 0) SAY(s, yes ? T_YES : T_NO);
        else if (yes) SAY(s, T_YES, T_THERE, T_IS);
        else SAY(s, T_NO, T_THERE, T_IS, T_NOT);
        return;
    }
    case LOCO_PLAYROOM_WHERE: {
        if (x < 0) { SAY(s, T_SORRY, T_I, T_CANT, T_FIND, T_IT); return; }
        const pr_obj *o = &w->obj[x];
        int where = o->where, f = o->holder;
        if (s->answer_err && where != PR_HELD) {   /* the wrong place */
            if (w->n_furn > 1 && (where == PR_ON_FLOOR || loco__pr_chance(rng, 50))) {
                int g = (int)loco__pr_below(rng, w->n_furn);
                if (where == PR_ON_FURN && g == f) g = (g + 1) % w->n_furn;
                where = PR_ON_FURN, f = g;
            } else where = where == PR_ON_FLOOR ? PR_ON_FURN : PR_ON_FLOOR, f = 0;
        }
        if (where == PR_HELD) {
            if (f == LOCO_PLAYROOM_SOLVER) SAY(s, T_I, T_HAVE, T_IT);
            else SAY(s, T_YOU, T_HAVE, T_IT);
        } else if (where == PR_ON_FLOOR) {
            SAY(s, T_IT, T_IS, T_ON, T_THE, T_FLOOR);
        } else {
            const pr_furn *F = &w->furn[f];
            SAY(s, T_IT, T_IS, F->kind >= PR_BOX ? T_IN : T_ON, T_THE, (uint8_t)loco__pr_tok_colour_word(F->colour),
                (uint8_t)loco__pr_tok_furniture_word(F->kind, 0));
        }
        return;
    }
    }
}

/* ---------------------------------------------------------------- acting */

static void start(loco_playroom_env *e) {
    pr_solver *s = &e->solver;
    loco_rng *rng = &e->rng[LOCO_PLAYROOM_SOLVER];
    const pr_world *w = &e->w;
    if (loco__pr_is_question(s->in.family)) {
        s->phase = ANSWER, s->wait = (uint8_t)(2 + loco__pr_below(rng, 5));
        return;
    }
    s->phase = ACT;
    s->target = s->in.x;
    if (loco__pr_chance(rng, 3)) {
        s->gave_up = 1;
        SAY(s, T_SORRY, T_I, T_CANT, T_FIND, T_IT);
        return;
    }
    if (loco__pr_chance(rng, 50)) { if (loco__pr_chance(rng, 50)) SAY(s, T_OK); else SAY(s, T_SURE); }
    if (s->in.x >= 0 && loco__pr_chance(rng, 12)) {   /* a wrong object: same category, else same colour */
        const pr_obj *X = &w->obj[s->in.x];
        int best = -1;
        for (int i = 0; i < w->n_obj; i++)
            if (i != s->in.x && w->obj[i].cat == X->cat) best = i;
        for (int i = 0; i < w->n_obj && best < 0; i++)
            if (i != s->in.x && w->obj[i].colour == X->colour) best = i;
        if (best >= 0 && (s->in.family != LOCO_PLAYROOM_POSITION || best != s->in.y))
            s->target = (int8_t)best, s->notice = (uint8_t)(3 + loco__pr_below(rng, 6));
    }
    if (loco__pr_chance(rng, 20)) {
        int x, y;
        do x = 1 + (int)loco__pr_below(rng, PR_W - 2), y = 1 + (int)loco__pr_below(rng, PR_H - 2);
        while (!loco__pr_walkable(w, x, y));
        s->detour = 1, s->detour_x = (uint8_t)x, s->detour_y = (uint8_t)y;
    }
}

static void stand_beside(const pr_world *w, pr_goal *g, int x, int y, int me) {
    for (int d = 0; d < 4; d++) {
        int nx = x + loco__pr_dx[d], ny = y + loco__pr_dy[d];
        if (loco__pr_walkable(w, nx, ny) || (loco__pr_in(nx, ny) && w->who_at[ny][nx] == me + 1)) g->stand[ny][nx] = 1;
    }
}

/* Cells where X should go for POSITION (and which a wrong object must not take). */
static void position_cells(const loco_playroom_env *e, pr_goal *g) {
    const pr_world *w = &e->w;
    if (e->solver.in.y < 0) return;
    const pr_obj *Y = &w->obj[e->solver.in.y];
    if (Y->where == PR_HELD) return;
    if (e->solver.in.relation) {
        int lx, ly;
        loco__pr_left_cell(w, Y->x, Y->y, &lx, &ly);
        if (loco__pr_placeable(w, lx, ly)) g->face[ly][lx] = 1;
        return;
    }
    for (int d = 0; d < 4; d++) {
        int nx = Y->x + loco__pr_dx[d], ny = Y->y + loco__pr_dy[d];
        if (loco__pr_placeable(w, nx, ny)) g->face[ny][nx] = 1;
    }
}

static int motor(loco_playroom_env *e) {
    pr_solver *s = &e->solver;
    const pr_world *w = &e->w;
    const pr_player *me = &w->pl[LOCO_PLAYROOM_SOLVER];
    pr_goal g;
    memset(&g, 0, sizeof g);
    int a, fam = s->in.family;
    if (s->detour) {
        g.stand[s->detour_y][s->detour_x] = 1;
        a = loco__pr_plan(w, LOCO_PLAYROOM_SOLVER, &g);
        if (a > LOCO_PLAYROOM_NOOP) return a;
        s->detour = 0;
        memset(&g, 0, sizeof g);
    }
    if (me->held != PR_NONE && me->held != s->in.x) {   /* the wrong object */
        if (s->notice) { s->notice--; return LOCO_PLAYROOM_NOOP; }
        if (s->target != s->in.x) { SAY(s, T_OOPS, T_WRONG, T_ONE); s->target = s->in.x; }
        pr_goal keep;
        memset(&keep, 0, sizeof keep);
        if (fam == LOCO_PLAYROOM_POSITION) position_cells(e, &keep);
        for (int y = 0; y < PR_H; y++)
            for (int x = 0; x < PR_W; x++)
                g.face[y][x] = loco__pr_walkable(w, x, y) && !keep.face[y][x] && loco__pr_can_drop(w, x, y);
        a = loco__pr_plan(w, LOCO_PLAYROOM_SOLVER, &g);
        return a == LOCO_PLAYROOM_NOOP ? LOCO_PLAYROOM_RELEASE : a;
    }
    if (fam == LOCO_PLAYROOM_GO) {
        if (s->in.f < 0) return -1;
        const pr_furn *F = &w->furn[s->in.f];
        for (int y = F->y; y < F->y + F->h; y++)
            for (int x = F->x; x < F->x + F->w; x++) stand_beside(w, &g, x, y, LOCO_PLAYROOM_SOLVER);
        return loco__pr_plan(w, LOCO_PLAYROOM_SOLVER, &g);
    }
    if (s->in.x < 0) return -1;
    if (me->held == s->in.x) {
        switch (fam) {
        case LOCO_PLAYROOM_PUT: {
            if (s->in.f < 0) return -1;
            const pr_furn *F = &w->furn[s->in.f];
            for (int y = F->y; y < F->y + F->h; y++)
                for (int x = F->x; x < F->x + F->w; x++) g.face[y][x] = loco__pr_placeable(w, x, y);
            break;
        }
        case LOCO_PLAYROOM_BRING: {
            const pr_player *t = &w->pl[LOCO_PLAYROOM_SETTER];
            stand_beside(w, &g, t->x, t->y, LOCO_PLAYROOM_SOLVER);
            return loco__pr_plan(w, LOCO_PLAYROOM_SOLVER, &g);
        }
        case LOCO_PLAYROOM_POSITION: position_cells(e, &g); break;
        default: return LOCO_PLAYROOM_NOOP;   /* LIFT: holding it is the task */
        }
        a = loco__pr_plan(w, LOCO_PLAYROOM_SOLVER, &g);
        return a == LOCO_PLAYROOM_NOOP ? LOCO_PLAYROOM_RELEASE : a;
    }
    int t = s->target >= 0 ? s->target : s->in.x;
    if (w->obj[t].where == PR_HELD) return -1;   /* the setter has it */
    g.face[w->obj[t].y][w->obj[t].x] = 1;
    a = loco__pr_plan(w, LOCO_PLAYROOM_SOLVER, &g);
    return a == LOCO_PLAYROOM_NOOP ? LOCO_PLAYROOM_GRAB : a;
}

void loco__pr_solver_reset(loco_playroom_env *e) {
    memset(&e->solver, 0, sizeof e->solver);
    e->solver.target = -1;
    e->solver.in.family = -1;
    e->solver.answer_err = (uint8_t)loco__pr_chance(&e->rng[LOCO_PLAYROOM_SOLVER], 6);
}

/* Reads the setter's new messages. */
static void listen(loco_playroom_env *e) {
    pr_solver *s = &e->solver;
    for (; s->seen < e->chat.n_msg; s->seen++) {
        const pr_msg *m = loco__pr_chat_msg(&e->chat, s->seen);
        if (m->speaker != LOCO_PLAYROOM_SETTER || s->phase != LISTEN) continue;
        if (s->asked) {   /* the reply to "which one ?": its colour picks X */
            for (int i = 0; i < m->len && s->in.x < 0; i++) {
                int c = loco__pr_tok_colour(m->tok[i]);
                if (c >= 0) s->in.x = (int8_t)loco__pr_find(&e->w, s->in.x_cat, c);
            }
            if (s->in.x >= 0) start(e);
            else SAY(s, T_HMM, T_QMARK);
            continue;
        }
        loco__pr_parse(&e->w, m->tok, m->len, &s->in);
        if (s->in.family < 0) SAY(s, T_HMM, T_QMARK);
        else if (s->in.ambiguous) { SAY(s, T_WHICH, T_ONE, T_QMARK); s->asked = 1; }
        else start(e);
    }
}

void loco__pr_solver_act(loco_playroom_env *e, int32_t act[2]) {
    pr_solver *s = &e->solver;
    loco_rng *rng = &e->rng[LOCO_PLAYROOM_SOLVER];
    act[0] = LOCO_PLAYROOM_NOOP, act[1] = LOCO_PLAYROOM_SILENT;
    listen(e);
    if (s->wait) s->wait--;
    else if (s->phase == ANSWER) { answer(e); s->phase = IDLE; }
    else if (s->phase == ACT && !s->gave_up) {
        if (loco__pr_chance(rng, 4)) s->wait = (uint8_t)(1 + loco__pr_below(rng, 4));
        else {
            int a = motor(e);
            if (a < 0) {   /* no way there: give up */
                s->gave_up = 1;
                SAY(s, T_SORRY, T_I, T_CANT, T_FIND, T_IT);
            } else act[0] = a;
        }
    }
    if (s->pos < s->n_out) act[1] = s->out[s->pos++];
}
