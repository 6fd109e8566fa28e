/*
 * The scheduling rules every driver shares: which workers take part in a
 * round (adaptive compute, as in the DiLoCo paper's compute-pool
 * experiments), how many rounds a run has and how long each is, the seed of
 * each data stream, and the asynchronous engines' next task (shard, inner
 * steps, first schedule step).  Pure functions: the plain trainer, the
 * simulators and the networked engines call these and nothing else, so that
 * their runs agree bit for bit by construction rather than by parallel
 * copies.
 */
#include <string.h>
#include "loco/async.h"
#include "loco/sim.h"

static const char *const names[] = {"constant", "doubling", "halving", "ramp-up", "ramp-down"};

/* Returns LOCO_EINVAL for a name not in the table. */
int loco_schedule_parse(const char *name, loco_schedule *out) {
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = (loco_schedule)i;
            return LOCO_OK;
        }
    return LOCO_EINVAL;
}

const char *loco_schedule_name(loco_schedule s) {
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

/* The ramps interpolate linearly over the rounds, rounding down:
 *     ramp-up:   k(r) = 1 + floor((M - 1) r / (R - 1))
 *     ramp-down: k(r) = M - floor((M - 1) r / (R - 1))
 * so the first and last rounds have exactly 1 and M workers (or M and 1); a
 * run of a single round uses all M.
 * "First half" means r < R / 2 (for odd R the middle round belongs to the
 * second half). */
int loco_schedule_active(loco_schedule s, int M, long r, long R) {
    if (M <= 1) return 1;
    if (R <= 1) return M;
    int half = M / 2 > 0 ? M / 2 : 1;
    int first_half = 2 * r < R;
    long ramp = (long)(M - 1) * (r < R ? r : R - 1) / (R - 1);
    switch (s) {
    case LOCO_SCHED_DOUBLING:  return first_half ? half : M;
    case LOCO_SCHED_HALVING:   return first_half ? M : half;
    case LOCO_SCHED_RAMP_UP:   return (int)(1 + ramp);
    case LOCO_SCHED_RAMP_DOWN: return (int)(M - ramp);
    default:                   return M;
    }
}

long loco_round_count(long steps, long H) {
    return steps < 1 || H < 1 ? 0 : (steps + H - 1) / H;
}

long loco_round_steps(long steps, long H, long r, long *first) {
    const long f = r * H;
    if (first) *first = f;
    if (H < 1 || r < 0 || f >= steps) return 0;
    return steps - f < H ? steps - f : H;
}

uint64_t loco_stream_seed(uint64_t seed, int k) {
    return (seed ^ 0x5eedda7aULL) + (uint64_t)k;
}

/* Speeds of workers not live are skipped: a worker that died (or left) keeps
 * the speed of its last task in the driver's arrays, and sizing the live
 * workers' tasks against it would make even the fastest live worker run
 * fewer than H steps, to finish with a worker that is no longer there.
 * DyLU's rule is relative to the fastest worker of the pool that is
 * training (Liu et al., "Asynchronous Local-SGD Training for Language
 * Modeling"). */
double loco_async_vmax(const loco_async_queue *q) {
    double vmax = 0;
    for (int i = 0; i < q->n_workers; i++)
        if ((!q->live || q->live[i]) && q->speed[i] > vmax) vmax = q->speed[i];
    return vmax;
}

int loco_async_task_take(loco_async_queue *q, int w, loco_async_task *t) {
    const int shard = loco_least_visited(q->visits, q->n_shards);
    if (shard < 0 || w < 0 || w >= q->n_workers || !q->shard_steps) return LOCO_EINVAL;
    t->shard = shard;
    t->steps = q->H;
    t->vmax = 0;
    if (q->dylu && q->speed[w] > 0) {
        t->vmax = loco_async_vmax(q);
        t->steps = loco_dylu_steps(q->H, q->speed[w], t->vmax, q->dylu_min);
    }
    t->first_step = q->shard_steps[shard];
    q->visits[shard]++;
    q->shard_steps[shard] += t->steps;
    return LOCO_OK;
}
