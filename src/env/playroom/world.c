/*
 * The room: a grid of LOCO_PLAYROOM_W x _H cells with walls around it,
 * furniture (rectangles that hold one object per cell, on or in them),
 * objects (on the floor, on/in furniture, or held) and two players with a
 * cell and a heading.  Physics is exact: a player moves one cell at a time
 * into a free floor cell (no wall, furniture, object or player), so there is
 * nothing to round and a seed determines everything.
 */
#include <stdlib.h>
#include <string.h>
#include "env/playroom/internal.h"

const int8_t loco__pr_dx[4] = {0, 1, 0, -1};   /* N E S W; y grows southwards */
const int8_t loco__pr_dy[4] = {-1, 0, 1, 0};

int loco__pr_in(int x, int y) { return x >= 0 && y >= 0 && x < PR_W && y < PR_H; }

/* Recomputes the thing bytes of a cell of the symbolic grid. */
static void refresh(pr_world *w, int x, int y) {
    uint8_t *c = w->g[y][x];
    if (w->who_at[y][x]) {
        int p = w->who_at[y][x] - 1;
        c[2] = (uint8_t)(p == LOCO_PLAYROOM_SETTER ? PR_THING_SETTER : PR_THING_SOLVER);
        c[3] = w->pl[p].dir;
    } else if (w->obj_at[y][x]) {
        const pr_obj *o = &w->obj[w->obj_at[y][x] - 1];
        c[2] = (uint8_t)(o->cat + 1);
        c[3] = (uint8_t)(o->colour + 1);
    } else {
        c[2] = c[3] = 0;
    }
}

void loco__pr_front(const pr_world *w, int p, int *x, int *y) {
    *x = w->pl[p].x + loco__pr_dx[w->pl[p].dir];
    *y = w->pl[p].y + loco__pr_dy[w->pl[p].dir];
}

int loco__pr_walkable(const pr_world *w, int x, int y) {
    return loco__pr_in(x, y) && w->g[y][x][0] == PR_FLOOR && !w->obj_at[y][x] && !w->who_at[y][x];
}

int loco__pr_placeable(const pr_world *w, int x, int y) {
    if (!loco__pr_in(x, y) || w->obj_at[y][x] || w->who_at[y][x]) return 0;
    return w->g[y][x][0] == PR_FLOOR || w->furn_at[y][x];
}

void loco__pr_move_player(pr_world *w, int p, int x, int y, int dir) {
    pr_player *pl = &w->pl[p];
    w->who_at[pl->y][pl->x] = 0;
    refresh(w, pl->x, pl->y);
    pl->x = (uint8_t)x, pl->y = (uint8_t)y, pl->dir = (uint8_t)dir;
    w->who_at[y][x] = (uint8_t)(p + 1);
    refresh(w, x, y);
    if (pl->held != PR_NONE) w->obj[pl->held].x = (uint8_t)x, w->obj[pl->held].y = (uint8_t)y;
}

int loco__pr_grab(pr_world *w, int p) {
    int x, y;
    loco__pr_front(w, p, &x, &y);
    if (w->pl[p].held != PR_NONE || !loco__pr_in(x, y) || !w->obj_at[y][x]) return 0;
    int o = w->obj_at[y][x] - 1;
    w->obj_at[y][x] = 0;
    refresh(w, x, y);
    w->obj[o].where = PR_HELD, w->obj[o].holder = (uint8_t)p;
    w->obj[o].x = w->pl[p].x, w->obj[o].y = w->pl[p].y;
    w->pl[p].held = (uint8_t)o;
    return 1;
}

int loco__pr_release(pr_world *w, int p) {
    int x, y, o = w->pl[p].held;
    loco__pr_front(w, p, &x, &y);
    if (o == PR_NONE || !loco__pr_placeable(w, x, y)) return 0;
    if (w->furn_at[y][x]) w->obj[o].where = PR_ON_FURN, w->obj[o].holder = (uint8_t)(w->furn_at[y][x] - 1);
    else w->obj[o].where = PR_ON_FLOOR, w->obj[o].holder = PR_NONE;
    w->obj[o].x = (uint8_t)x, w->obj[o].y = (uint8_t)y;
    w->obj_at[y][x] = (uint8_t)(o + 1);
    w->pl[p].held = PR_NONE;
    refresh(w, x, y);
    return 1;
}

int loco__pr_find(const pr_world *w, int cat, int colour) {
    for (int i = 0; i < w->n_obj; i++)
        if (w->obj[i].cat == cat && w->obj[i].colour == colour) return i;
    return -1;
}

int loco__pr_count(const pr_world *w, int cat) {
    int n = 0;
    for (int i = 0; i < w->n_obj; i++) n += w->obj[i].cat == cat;
    return n;
}

/* ---------------------------------------------------------------- building */

static int free_floor(const pr_world *w, int x, int y) {
    return loco__pr_walkable(w, x, y) && !w->furn_at[y][x];
}

static int has_walkable_side(const pr_world *w, int x, int y) {
    for (int d = 0; d < 4; d++)
        if (loco__pr_walkable(w, x + loco__pr_dx[d], y + loco__pr_dy[d])) return 1;
    return 0;
}

/* The room is usable if every walkable cell is reachable from the solver and
 * every object, every piece of furniture and the setter can be reached from
 * some walkable cell beside them. */
static int usable(const pr_world *w) {
    uint8_t seen[PR_H][PR_W] = {{0}};
    uint8_t stack[PR_H * PR_W][2];
    int top = 0, reached = 0, total = 0;
    const pr_player *s = &w->pl[LOCO_PLAYROOM_SOLVER];
    seen[s->y][s->x] = 1;
    stack[top][0] = s->x, stack[top][1] = s->y, top++;
    while (top) {
        top--;
        int x = stack[top][0], y = stack[top][1];
        reached++;
        for (int d = 0; d < 4; d++) {
            int nx = x + loco__pr_dx[d], ny = y + loco__pr_dy[d];
            if (loco__pr_walkable(w, nx, ny) && !seen[ny][nx]) {
                seen[ny][nx] = 1;
                stack[top][0] = (uint8_t)nx, stack[top][1] = (uint8_t)ny, top++;
            }
        }
    }
    for (int y = 0; y < PR_H; y++)
        for (int x = 0; x < PR_W; x++) total += loco__pr_walkable(w, x, y);
    if (reached != total + 1) return 0;   /* + 1: the solver's own cell */
    for (int i = 0; i < w->n_obj; i++)
        if (w->obj[i].where != PR_HELD && !has_walkable_side(w, w->obj[i].x, w->obj[i].y)) return 0;
    for (int f = 0; f < w->n_furn; f++) {
        int ok = 0;
        for (int y = w->furn[f].y; y < w->furn[f].y + w->furn[f].h; y++)
            for (int x = w->furn[f].x; x < w->furn[f].x + w->furn[f].w; x++) ok |= has_walkable_side(w, x, y);
        if (!ok) return 0;
    }
    const pr_player *t = &w->pl[LOCO_PLAYROOM_SETTER];
    return has_walkable_side(w, t->x, t->y) || (abs(t->x - s->x) + abs(t->y - s->y) == 1);
}

/* 1 if blocking floor cell (x, y) provably keeps a usable room usable: its
 * 4-neighbours are all walkable or wall (so no object, furniture or setter
 * loses a side) and the walkable ones are joined around it, through the
 * diagonal cells between them, so any path through (x, y) can go round. */
static int simple_cell(const pr_world *w, int x, int y) {
    static const int8_t rx[8] = {0, 1, 1, 1, 0, -1, -1, -1}, ry[8] = {-1, -1, 0, 1, 1, 1, 0, -1};
    int pass[8], sides = 0, runs = 0;
    for (int k = 0; k < 8; k++) {
        int nx = x + rx[k], ny = y + ry[k];
        pass[k] = loco__pr_walkable(w, nx, ny) || (loco__pr_in(nx, ny) && w->who_at[ny][nx] == LOCO_PLAYROOM_SOLVER + 1);
        if (!(k & 1) && !pass[k] && w->g[ny][nx][0] != PR_WALL) return 0;
        sides += !(k & 1) && pass[k];
    }
    if (!sides) return 0;
    /* Count the arcs of joined walkable sides: side k joins side k + 2 when
     * both and the diagonal k + 1 are walkable. */
    for (int k = 0; k < 8; k += 2)
        if (pass[k] && !(pass[(k + 6) & 7] && pass[(k + 7) & 7])) runs++;
    return runs == 1 || (runs == 0 && sides == 4);
}

static void place_furniture(pr_world *w, loco_rng *rng) {
    int want = 3 + (int)loco__pr_below(rng, 4);
    for (int tries = 0; tries < 200 && w->n_furn < want; tries++) {
        pr_furn f = {(uint8_t)loco__pr_below(rng, LOCO_PLAYROOM_N_FURNITURE), (uint8_t)loco__pr_below(rng, LOCO_PLAYROOM_N_COLOUR), 0, 0, 1, 1};
        int dup = 0;
        for (int i = 0; i < w->n_furn; i++) dup |= w->furn[i].kind == f.kind && w->furn[i].colour == f.colour;
        if (dup) continue;
        int along = loco__pr_below(rng, 2);   /* orientation */
        if (f.kind == PR_SHELF) f.w = 3, f.h = 1;
        else if (f.kind == PR_TABLE) f.w = 2, f.h = (uint8_t)(1 + loco__pr_below(rng, 2));
        else if (f.kind == PR_BED) f.w = 2, f.h = 3;
        if (along) { uint8_t t = f.w; f.w = f.h; f.h = t; }
        f.x = (uint8_t)(1 + loco__pr_below(rng, PR_W - 1 - f.w));
        f.y = (uint8_t)(1 + loco__pr_below(rng, PR_H - 1 - f.h));
        /* Nothing else within one cell: furniture never encloses floor. */
        int clash = 0;
        for (int y = f.y - 1; y <= f.y + f.h; y++)
            for (int x = f.x - 1; x <= f.x + f.w; x++) clash |= loco__pr_in(x, y) && w->furn_at[y][x];
        if (clash) continue;
        int k = w->n_furn++;
        w->furn[k] = f;
        for (int y = f.y; y < f.y + f.h; y++)
            for (int x = f.x; x < f.x + f.w; x++) {
                w->furn_at[y][x] = (uint8_t)(k + 1);
                w->g[y][x][0] = (uint8_t)(PR_FURN0 + f.kind);
                w->g[y][x][1] = (uint8_t)(f.colour + 1);
            }
    }
}

static void random_free_cell(const pr_world *w, loco_rng *rng, int *x, int *y) {
    do {
        *x = 1 + (int)loco__pr_below(rng, PR_W - 2);
        *y = 1 + (int)loco__pr_below(rng, PR_H - 2);
    } while (!free_floor(w, *x, *y));
}

static void place_objects(pr_world *w, loco_rng *rng, int split) {
    int want = 5 + (int)loco__pr_below(rng, 11);
    for (int tries = 0; tries < 400 && w->n_obj < want; tries++) {
        int cat = (int)loco__pr_below(rng, LOCO_PLAYROOM_N_CATEGORY), colour = (int)loco__pr_below(rng, LOCO_PLAYROOM_N_COLOUR);
        if (loco__pr_find(w, cat, colour) >= 0) continue;
        if (split == LOCO_PLAYROOM_SPLIT_TRAIN && loco_playroom_heldout_object(colour, cat)) continue;
        int x, y;
        if (loco__pr_below(rng, 2)) {   /* on or in a piece of furniture */
            const pr_furn *f = &w->furn[loco__pr_below(rng, w->n_furn)];
            x = f->x + (int)loco__pr_below(rng, f->w), y = f->y + (int)loco__pr_below(rng, f->h);
            if (w->obj_at[y][x]) continue;
        } else {
            random_free_cell(w, rng, &x, &y);
        }
        int k = w->n_obj++;
        w->obj[k] = (pr_obj){(uint8_t)cat, (uint8_t)colour, w->furn_at[y][x] ? PR_ON_FURN : PR_ON_FLOOR,
                             w->furn_at[y][x] ? (uint8_t)(w->furn_at[y][x] - 1) : PR_NONE, (uint8_t)x, (uint8_t)y};
        /* Checking the whole room is the slow path of a reset; most cells
         * pass a local test that implies it. */
        int ok = w->furn_at[y][x] ? has_walkable_side(w, x, y) : simple_cell(w, x, y);
        w->obj_at[y][x] = (uint8_t)(k + 1);
        if (!ok && !usable(w)) {   /* it walled something in: take it back */
            w->obj_at[y][x] = 0;
            w->n_obj--;
            continue;
        }
        refresh(w, x, y);
    }
}

void loco__pr_world_build(pr_world *w, loco_rng *rng, int split) {
    for (;;) {
        memset(w, 0, sizeof *w);
        for (int y = 0; y < PR_H; y++)
            for (int x = 0; x < PR_W; x++)
                if (x == 0 || y == 0 || x == PR_W - 1 || y == PR_H - 1) w->g[y][x][0] = PR_WALL;
        place_furniture(w, rng);
        for (int p = 0; p < 2; p++) {
            int x, y;
            random_free_cell(w, rng, &x, &y);
            w->pl[p] = (pr_player){(uint8_t)x, (uint8_t)y, (uint8_t)loco__pr_below(rng, 4), PR_NONE};
            w->who_at[y][x] = (uint8_t)(p + 1);
            refresh(w, x, y);
        }
        if (!usable(w)) continue;   /* the setter blocks a corridor: draw again */
        place_objects(w, rng, split);
        if (w->n_obj >= 5) return;
    }
}

int loco__pr_can_drop(const pr_world *w, int x, int y) {
    if (!loco__pr_placeable(w, x, y)) return 0;
    if (w->furn_at[y][x]) return 1;   /* furniture cells are never walked on */
    if (simple_cell(w, x, y)) return 1;
    pr_world copy = *w;
    copy.obj_at[y][x] = PR_NONE;      /* any non-zero value blocks the cell */
    return usable(&copy);
}
