/*
 * Prompt families: drawing a feasible prompt for a room, the exact success
 * predicate of each instruction, and the judge of each question's answer.
 *
 *   LIFT X        the solver holds X
 *   PUT X on/in F X rests on/in a cell of furniture F (on for shelves, tables
 *                 and beds; in for boxes and baskets)
 *   GO F          the solver stands on a cell beside (4-neighbour) a cell of F
 *   BRING X       the solver holds X and stands beside the setter
 *   POSITION      X next to Y: neither held, their cells 4-neighbours;
 *                 X left of Y: neither held, X on the cell to Y's left as the
 *                 setter faces (Y's cell plus the setter's left vector)
 *   COLOUR X      the answer names X's colour and no other colour
 *   COUNT C       the answer names one number, the number of C in the room
 *                 ("no"/"zero" for none)
 *   EXISTS X      the answer says yes or no (not both), rightly
 *   WHERE X       the answer names where X is: its furniture's kind (and its
 *                 colour when the room has two of that kind), "floor", "i/me/
 *                 my" when the solver holds it, "you/your" when the setter does
 */
#include <stdio.h>
#include <stdlib.h>
#include "env/playroom/internal.h"
#include "env/playroom/vocab.h"

int loco__pr_is_question(int family) { return family >= LOCO_PLAYROOM_COLOUR; }

int loco__pr_prompt_x(const pr_world *w, const loco_playroom_prompt *p) {
    return loco__pr_find(w, p->x_cat, p->x_colour);
}
int loco__pr_prompt_y(const pr_world *w, const loco_playroom_prompt *p) {
    return loco__pr_find(w, p->y_cat, p->y_colour);
}
int loco__pr_prompt_f(const pr_world *w, const loco_playroom_prompt *p) {
    for (int f = 0; f < w->n_furn; f++)
        if (w->furn[f].kind == p->f_kind && w->furn[f].colour == p->f_colour) return f;
    return -1;
}

void loco__pr_left_cell(const pr_world *w, int yx, int yy, int *x, int *y) {
    int left = (w->pl[LOCO_PLAYROOM_SETTER].dir + 3) & 3;
    *x = yx + loco__pr_dx[left], *y = yy + loco__pr_dy[left];
}

static int beside_furniture(const pr_world *w, int px, int py, int f) {
    const pr_furn *F = &w->furn[f];
    for (int d = 0; d < 4; d++) {
        int x = px + loco__pr_dx[d], y = py + loco__pr_dy[d];
        if (x >= F->x && x < F->x + F->w && y >= F->y && y < F->y + F->h) return 1;
    }
    return 0;
}

int loco__pr_achieved(const pr_world *w, const loco_playroom_prompt *p) {
    const pr_player *s = &w->pl[LOCO_PLAYROOM_SOLVER], *t = &w->pl[LOCO_PLAYROOM_SETTER];
    int x = loco__pr_prompt_x(w, p), f = loco__pr_prompt_f(w, p), y;
    switch (p->family) {
    case LOCO_PLAYROOM_LIFT: return x >= 0 && s->held == x;
    case LOCO_PLAYROOM_PUT:
        return x >= 0 && f >= 0 && w->obj[x].where == PR_ON_FURN && w->obj[x].holder == f;
    case LOCO_PLAYROOM_GO: return f >= 0 && beside_furniture(w, s->x, s->y, f);
    case LOCO_PLAYROOM_BRING: return x >= 0 && s->held == x && abs(s->x - t->x) + abs(s->y - t->y) == 1;
    case LOCO_PLAYROOM_POSITION: {
        y = loco__pr_prompt_y(w, p);
        if (x < 0 || y < 0 || w->obj[x].where == PR_HELD || w->obj[y].where == PR_HELD) return 0;
        const pr_obj *X = &w->obj[x], *Y = &w->obj[y];
        if (p->relation == 0) return abs(X->x - Y->x) + abs(X->y - Y->y) == 1;
        int lx, ly;
        loco__pr_left_cell(w, Y->x, Y->y, &lx, &ly);
        return X->x == lx && X->y == ly;
    }
    default: return 0;
    }
}

/* ---------------------------------------------------------------- judging answers */

int loco__pr_judge(const pr_world *w, const loco_playroom_prompt *p, const uint8_t *tok, int n) {
    int colours = 0, numbers = 0, n_numbers = 0, furn = 0, yes = 0, no = 0, floor = 0, self = 0, you = 0;
    for (int i = 0; i < n; i++) {
        int c = loco__pr_tok_colour(tok[i]), k = loco__pr_tok_furniture(tok[i]), m = loco__pr_tok_number(tok[i]);
        if (c >= 0) colours |= 1 << c;
        if (k >= 0) furn |= 1 << k;
        if (m >= 0 && !(numbers & (1 << m))) numbers |= 1 << m, n_numbers++;
        yes |= tok[i] == T_YES, no |= tok[i] == T_NO, floor |= tok[i] == T_FLOOR;
        self |= tok[i] == T_I || tok[i] == T_ME || tok[i] == T_MY;
        you |= tok[i] == T_YOU || tok[i] == T_YOUR;
    }
    int x = loco__pr_prompt_x(w, p);
    switch (p->family) {
    case LOCO_PLAYROOM_COLOUR: return x >= 0 && colours == 1 << w->obj[x].colour;
    case LOCO_PLAYROOM_COUNT: {
        int count = loco__pr_count(w, p->x_cat);
        if (n_numbers == 0) return count == 0 && no;
        return n_numbers == 1 && numbers == 1 << count;
    }
    case LOCO_PLAYROOM_EXISTS: return yes != no && yes == (x >= 0);
    case LOCO_PLAYROOM_WHERE: {
        if (x < 0) return 0;
        const pr_obj *o = &w->obj[x];
        if (o->where == PR_HELD)
            return o->holder == LOCO_PLAYROOM_SOLVER ? self && !furn && !floor : you && !furn && !floor;
        if (o->where == PR_ON_FLOOR) return floor && !furn;
        const pr_furn *F = &w->furn[o->holder];
        int same_kind = 0;
        for (int f = 0; f < w->n_furn; f++) same_kind += w->furn[f].kind == F->kind;
        return furn == 1 << F->kind && !floor && (same_kind == 1 || (colours & (1 << F->colour)));
    }
    default: return 0;
    }
}

/* ---------------------------------------------------------------- drawing prompts */

/* 1 if the prompt names a held-out combination. */
static int touches_heldout(const loco_playroom_prompt *p) {
    int f = p->family;
    if (f == LOCO_PLAYROOM_GO) return 0;
    if (f != LOCO_PLAYROOM_COUNT && loco_playroom_heldout_object(p->x_colour, p->x_cat)) return 1;
    if (f == LOCO_PLAYROOM_POSITION &&
        (loco_playroom_heldout_object(p->y_colour, p->y_cat) || loco_playroom_heldout_prompt(f, p->y_cat)))
        return 1;
    return loco_playroom_heldout_prompt(f, p->x_cat);
}

/* 1 if an object can be put at (x, y) and the solver can reach it. */
static int drop_cell(const pr_world *w, int x, int y) {
    if (!loco__pr_in(x, y) || w->obj_at[y][x] || w->g[y][x][0] == PR_WALL) return 0;
    if (w->who_at[y][x] == LOCO_PLAYROOM_SETTER + 1) return 0;
    if (w->g[y][x][0] != PR_FLOOR && !w->furn_at[y][x]) return 0;
    for (int d = 0; d < 4; d++) {
        int nx = x + loco__pr_dx[d], ny = y + loco__pr_dy[d];
        if (loco__pr_walkable(w, nx, ny) || w->who_at[ny][nx] == LOCO_PLAYROOM_SOLVER + 1) return 1;
    }
    return 0;
}

static int feasible(const pr_world *w, const loco_playroom_prompt *p) {
    int x = loco__pr_prompt_x(w, p), f = loco__pr_prompt_f(w, p), y = loco__pr_prompt_y(w, p);
    switch (p->family) {
    case LOCO_PLAYROOM_PUT: {
        if (w->obj[x].where == PR_ON_FURN && w->obj[x].holder == f) return 0;
        const pr_furn *F = &w->furn[f];
        for (int cy = F->y; cy < F->y + F->h; cy++)
            for (int cx = F->x; cx < F->x + F->w; cx++)
                if (drop_cell(w, cx, cy)) return 1;
        return 0;
    }
    case LOCO_PLAYROOM_GO: return !loco__pr_achieved(w, p);
    case LOCO_PLAYROOM_POSITION: {
        if (x == y || loco__pr_achieved(w, p)) return 0;
        const pr_obj *Y = &w->obj[y];
        if (p->relation == 1) {
            int lx, ly;
            loco__pr_left_cell(w, Y->x, Y->y, &lx, &ly);
            return drop_cell(w, lx, ly);
        }
        for (int d = 0; d < 4; d++)
            if (drop_cell(w, Y->x + loco__pr_dx[d], Y->y + loco__pr_dy[d])) return 1;
        return 0;
    }
    case LOCO_PLAYROOM_COLOUR: return loco__pr_count(w, p->x_cat) == 1;
    default: return 1;
    }
}

/* Tries one prompt of the family; returns 1 if it is feasible and fits the split. */
static int try_prompt(const pr_world *w, loco_rng *rng, int split, int family, loco_playroom_prompt *p) {
    const pr_obj *X = &w->obj[loco__pr_below(rng, w->n_obj)], *Y = &w->obj[loco__pr_below(rng, w->n_obj)];
    const pr_furn *F = &w->furn[loco__pr_below(rng, w->n_furn)];
    *p = (loco_playroom_prompt){(uint8_t)family, X->cat, X->colour, 0, PR_NONE, PR_NONE, PR_NONE, PR_NONE};
    switch (family) {
    case LOCO_PLAYROOM_PUT:
        p->f_kind = F->kind, p->f_colour = F->colour, p->relation = F->kind >= PR_BOX;
        break;
    case LOCO_PLAYROOM_GO:
        p->x_cat = p->x_colour = PR_NONE;
        p->f_kind = F->kind, p->f_colour = F->colour;
        break;
    case LOCO_PLAYROOM_POSITION:
        p->y_cat = Y->cat, p->y_colour = Y->colour, p->relation = (uint8_t)loco__pr_below(rng, 2);
        break;
    case LOCO_PLAYROOM_COUNT:
        p->x_cat = (uint8_t)loco__pr_below(rng, LOCO_PLAYROOM_N_CATEGORY), p->x_colour = PR_NONE;
        break;
    case LOCO_PLAYROOM_EXISTS:
        if (loco__pr_below(rng, 2)) {   /* ask about something absent (maybe) */
            p->x_cat = (uint8_t)loco__pr_below(rng, LOCO_PLAYROOM_N_CATEGORY);
            p->x_colour = (uint8_t)loco__pr_below(rng, LOCO_PLAYROOM_N_COLOUR);
        }
        break;
    default: break;
    }
    if (!feasible(w, p)) return 0;
    int held = touches_heldout(p);
    if (split == LOCO_PLAYROOM_SPLIT_TRAIN && held) return 0;
    if (split == LOCO_PLAYROOM_SPLIT_TEST && !held) return 0;
    return 1;
}

/* Returns 1 with a prompt of the family, or 0 if this room has none (the
 * caller then builds another room). */
int loco__pr_prompt_draw(const pr_world *w, loco_rng *rng, int split, int family, loco_playroom_prompt *p) {
    for (int tries = 0; tries < 64; tries++)
        if (try_prompt(w, rng, split, family, p)) return 1;
    return 0;
}

void loco_playroom_prompt_text(const loco_playroom_prompt *p, char *out, size_t n) {
    const char *fam = loco_playroom_family_name(p->family);
    const char *xc = loco_playroom_colour_name(p->x_colour), *xk = loco_playroom_category_name(p->x_cat);
    const char *fc = loco_playroom_colour_name(p->f_colour), *fk = loco_playroom_furniture_name(p->f_kind);
    const char *yc = loco_playroom_colour_name(p->y_colour), *yk = loco_playroom_category_name(p->y_cat);
    if (!fam) { snprintf(out, n, "?"); return; }
    switch (p->family) {
    case LOCO_PLAYROOM_PUT:
        snprintf(out, n, "put(%s %s, %s, %s %s)", xc, xk, p->relation ? "in" : "on", fc, fk); break;
    case LOCO_PLAYROOM_GO: snprintf(out, n, "go(%s %s)", fc, fk); break;
    case LOCO_PLAYROOM_POSITION:
        snprintf(out, n, "position(%s %s, %s, %s %s)", xc, xk, p->relation ? "left of" : "next to", yc, yk); break;
    case LOCO_PLAYROOM_COUNT: snprintf(out, n, "count(%s)", xk); break;
    default: snprintf(out, n, "%s(%s %s)", fam, xc, xk); break;
    }
}
