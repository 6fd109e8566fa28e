/*
 * Adaptive compute: the number of workers taking part in each round follows a
 * schedule over the run, as in the DiLoCo paper's compute-pool experiments.
 * A pure function of (schedule, M, round, rounds), shared by every driver.
 */
#include <string.h>
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
