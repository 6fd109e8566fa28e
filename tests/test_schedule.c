/*
 * Tests of the scheduling rules every driver shares (src/algo/schedule.c):
 * the round count and round lengths, the data streams' seeds, and the
 * asynchronous engines' next task, with DyLU sized against the fastest
 * *live* worker.
 */
#include <math.h>
#include <string.h>
#include "loco/async.h"
#include "loco/sim.h"
#include "test.h"

LOCO_TEST(schedule_rounds) {
    CHECK(loco_round_count(10, 3) == 4 && loco_round_count(9, 3) == 3 && loco_round_count(1, 50) == 1,
          "ceil(steps / H)");
    CHECK(loco_round_count(0, 3) == 0 && loco_round_count(10, 0) == 0 && loco_round_count(-4, 2) == 0,
          "no rounds for no steps or H < 1");
    /* Every inner step lies in exactly one round, the rounds in order. */
    const long cases[][2] = {{10, 3}, {9, 3}, {1, 50}, {50, 1}, {101, 20}};
    for (int i = 0; i < 5; i++) {
        const long steps = cases[i][0], H = cases[i][1], R = loco_round_count(steps, H);
        long covered = 0;
        for (long r = 0; r < R; r++) {
            long first = -1, h = loco_round_steps(steps, H, r, &first);
            CHECK(first == covered && h >= 1 && h <= H && (h == H || r == R - 1),
                  "steps=%ld H=%ld round %ld: first %ld h %ld after %ld covered", steps, H, r, first, h, covered);
            covered += h;
        }
        CHECK(covered == steps, "steps=%ld H=%ld: rounds cover %ld", steps, H, covered);
        CHECK(loco_round_steps(steps, H, R, NULL) == 0, "a round past the end is empty");
    }
}

LOCO_TEST(schedule_stream_seed) {
    /* Stream 0 is the plain trainer's seed ^ 0x5eedda7a, and the worker and
     * shard streams are the same function. */
    CHECK(loco_stream_seed(42, 0) == (42ULL ^ 0x5eedda7aULL), "stream 0 is the plain trainer's");
    CHECK(loco_stream_seed(42, 3) == (42ULL ^ 0x5eedda7aULL) + 3, "stream k is offset by k");
    for (int k = 0; k < 4; k++)
        CHECK(loco_sim_worker_seed(7, k) == loco_stream_seed(7, k), "worker %d's seed is stream %d's", k, k);
}

LOCO_TEST(schedule_async_task) {
    long visits[3] = {0, 0, 0}, steps[3] = {0, 0, 0};
    double speed[3] = {0, 0, 0};
    unsigned char live[3] = {1, 1, 1};
    loco_async_queue q = {3, visits, steps, 3, speed, live, 20, 1, 5};
    loco_async_task t;
    /* Unknown speeds: full tasks, shards in order of least visits. */
    for (int i = 0; i < 3; i++) {
        CHECK(loco_async_task_take(&q, i, &t) == LOCO_OK && t.shard == i && t.steps == 20 && t.first_step == 0
              && t.vmax == 0, "task %d: shard %d steps %d first %ld", i, t.shard, t.steps, t.first_step);
    }
    CHECK(visits[0] == 1 && visits[1] == 1 && visits[2] == 1 && steps[0] == 20 && steps[2] == 20,
          "taking a task advances the shard's visits and schedule step");
    /* Speeds 4, 2, 8 steps/s: worker 1 runs floor(20 * 2 / 8) = 5 steps. */
    speed[0] = 4, speed[1] = 2, speed[2] = 8;
    CHECK(loco_async_task_take(&q, 1, &t) == LOCO_OK && t.shard == 0 && t.steps == 5 && t.first_step == 20
          && t.vmax == 8, "DyLU over all live: steps %d vmax %g first %ld", t.steps, t.vmax, t.first_step);
    CHECK(steps[0] == 25 && visits[0] == 2, "the shard's schedule step grows by the task's steps");
    /* Worker 2 (the fastest) dies: worker 0 is now the fastest live one and
     * runs all 20 steps, and worker 1 runs floor(20 * 2 / 4) = 10. */
    live[2] = 0;
    CHECK(loco_async_vmax(&q) == 4, "the fastest live speed is %g, not 4", loco_async_vmax(&q));
    CHECK(loco_async_task_take(&q, 0, &t) == LOCO_OK && t.steps == 20 && t.vmax == 4, "fastest live worker: %d steps",
          t.steps);
    CHECK(loco_async_task_take(&q, 1, &t) == LOCO_OK && t.steps == 10 && t.vmax == 4,
          "a dead worker's speed does not size the live: %d steps, vmax %g", t.steps, t.vmax);
    /* No live mask (a simulator): every worker counts, the dead one too. */
    q.live = NULL;
    CHECK(loco_async_vmax(&q) == 8, "all workers: vmax %g", loco_async_vmax(&q));
    CHECK(loco_async_task_take(&q, 1, &t) == LOCO_OK && t.steps == 5, "all workers: %d steps", t.steps);
    /* DyLU's floor, and DyLU off. */
    speed[1] = 0.1;
    CHECK(loco_async_task_take(&q, 1, &t) == LOCO_OK && t.steps == 5, "the minimum of 5 steps holds: %d", t.steps);
    q.dylu = 0;
    CHECK(loco_async_task_take(&q, 1, &t) == LOCO_OK && t.steps == 20 && t.vmax == 0, "DyLU off: %d steps", t.steps);
    /* Bad queues are refused and change nothing. */
    long before = visits[0] + visits[1] + visits[2];
    CHECK(loco_async_task_take(&q, 3, &t) == LOCO_EINVAL && loco_async_task_take(&q, -1, &t) == LOCO_EINVAL,
          "worker out of range");
    q.n_shards = 0;
    CHECK(loco_async_task_take(&q, 0, &t) == LOCO_EINVAL, "no shards");
    CHECK(visits[0] + visits[1] + visits[2] == before, "a refused task takes nothing");
}
