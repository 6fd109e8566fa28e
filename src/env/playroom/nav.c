/*
 * A* over the player's pose (x, y, heading): FORWARD, TURN_LEFT and
 * TURN_RIGHT each cost 1.  The heuristic is the Manhattan distance to the
 * nearest goal (to a cell to stand on, or one less to a cell to face), which
 * never overestimates and changes by at most 1 per action, so it is
 * consistent and the first plan found is a shortest one.  Everything lives
 * on the stack: 768 poses.
 */
#include <stdlib.h>
#include <string.h>
#include "env/playroom/internal.h"

#define N_POSE (PR_W * PR_H * 4)

typedef struct { uint16_t f, g, pose; } node;

static void heap_push(node *h, int *n, node v) {
    int i = (*n)++;
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (h[parent].f < v.f || (h[parent].f == v.f && h[parent].g >= v.g)) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = v;
}

static node heap_pop(node *h, int *n) {
    node top = h[0], last = h[--(*n)];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && (h[c + 1].f < h[c].f || (h[c + 1].f == h[c].f && h[c + 1].g > h[c].g))) c++;
        if (last.f < h[c].f || (last.f == h[c].f && last.g >= h[c].g)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

int loco__pr_plan(const pr_world *w, int p, const pr_goal *goal) {
    const pr_player *pl = &w->pl[p];
    /* The heuristic per cell, from the goal cells. */
    uint8_t gx[PR_W * PR_H], gy[PR_W * PR_H], gk[PR_W * PR_H];
    int n_goal = 0;
    for (int y = 0; y < PR_H; y++)
        for (int x = 0; x < PR_W; x++)
            if (goal->stand[y][x] || goal->face[y][x])
                gx[n_goal] = (uint8_t)x, gy[n_goal] = (uint8_t)y, gk[n_goal++] = goal->stand[y][x] ? 0 : 1;
    if (!n_goal) return -1;
    uint8_t hcell[PR_H][PR_W];
    for (int y = 0; y < PR_H; y++)
        for (int x = 0; x < PR_W; x++) {
            int best = 255;
            for (int i = 0; i < n_goal; i++) {
                int d = abs(x - gx[i]) + abs(y - gy[i]) - gk[i];
                if (d < 0) d = 0;
                if (d < best) best = d;
            }
            hcell[y][x] = (uint8_t)best;
        }

    static const uint8_t moves[3] = {LOCO_PLAYROOM_FORWARD, LOCO_PLAYROOM_TURN_LEFT, LOCO_PLAYROOM_TURN_RIGHT};
    uint16_t gbest[N_POSE];
    uint8_t closed[N_POSE], via[N_POSE];   /* via: the move that reached the pose */
    uint16_t from[N_POSE];
    node heap[N_POSE * 3 + 1];
    int n = 0;
    memset(closed, 0, sizeof closed);
    for (int i = 0; i < N_POSE; i++) gbest[i] = UINT16_MAX;
    int start = (pl->y * PR_W + pl->x) * 4 + pl->dir;
    gbest[start] = 0;
    heap_push(heap, &n, (node){hcell[pl->y][pl->x], 0, (uint16_t)start});
    while (n) {
        node cur = heap_pop(heap, &n);
        if (closed[cur.pose]) continue;
        closed[cur.pose] = 1;
        int dir = cur.pose & 3, cell = cur.pose >> 2, x = cell % PR_W, y = cell / PR_W;
        int fx = x + loco__pr_dx[dir], fy = y + loco__pr_dy[dir];
        if (goal->stand[y][x] || (loco__pr_in(fx, fy) && goal->face[fy][fx])) {
            if (cur.pose == start) return LOCO_PLAYROOM_NOOP;
            int pose = cur.pose;
            while (from[pose] != start) pose = from[pose];
            return via[pose];
        }
        for (int m = 0; m < 3; m++) {
            int nx = x, ny = y, nd = dir;
            if (moves[m] == LOCO_PLAYROOM_FORWARD) {
                nx = fx, ny = fy;
                if (!loco__pr_walkable(w, nx, ny)) continue;
            } else {
                nd = (dir + (moves[m] == LOCO_PLAYROOM_TURN_LEFT ? 3 : 1)) & 3;
            }
            int np = (ny * PR_W + nx) * 4 + nd;
            uint16_t g = (uint16_t)(cur.g + 1);
            if (closed[np] || g >= gbest[np]) continue;
            gbest[np] = g, from[np] = (uint16_t)cur.pose, via[np] = moves[m];
            heap_push(heap, &n, (node){(uint16_t)(g + hcell[ny][nx]), g, (uint16_t)np});
        }
    }
    return -1;
}
