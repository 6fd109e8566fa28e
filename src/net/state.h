/* The coordinator's durable state (src/net/state.c): what a restarted
 * coordinator needs to go on where it left off.  Internal to src/net. */
#ifndef LOCO_NET_STATE_H
#define LOCO_NET_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "loco/outer.h"

typedef struct {
    uint64_t fingerprint;        /* of the run's configuration: a state resumes only the same run */
    uint64_t P, state_n;         /* floats of theta and of the outer optimizer's state */
    int64_t round, inner_step, outer_steps, joins, deaths, missing, late, rejected;
    double bytes_in, bytes_out, time_s;
    float train_loss;
    float *theta, *ostate;       /* P and state_n floats; borrowed */
    uint32_t extra_n;            /* u64 values after the floats (the asynchronous engine's counters and
                                    data streams); 0 in files written before there were any */
    uint64_t *extra;             /* extra_n values; borrowed */
} loco__coord_state;

/* Writes s to path atomically: a temporary file in the same directory,
 * flushed and fsync'd, renamed over path, and the directory fsync'd.
 * Returns LOCO_EIO (reason naming path in msg) if any of it fails, leaving
 * an earlier file at path intact. */
int loco__state_save(const char *path, const loco__coord_state *s, char *msg, size_t msglen);

/* Reads path into s, whose fingerprint, P, state_n, extra_n, theta, ostate
 * and extra the caller sets to the run's: the file must match them.  Returns LOCO_EIO
 * if it cannot be read, LOCO_EINVAL (reason naming path) if it is
 * truncated, corrupt (checksum), another run's, or holds a non-finite
 * number; theta and ostate are then unspecified. */
int loco__state_load(const char *path, loco__coord_state *s, char *msg, size_t msglen);

/* Checks that a state of s->round rounds and s->inner_step inner steps is
 * one a run of n_rounds rounds of H inner steps (steps in all) can have
 * written between rounds.  Returns LOCO_EINVAL (naming path) if not. */
int loco__state_fits(const loco__coord_state *s, long n_rounds, long H, long steps, const char *path, char *msg,
                     size_t msglen);

/* Opens round `round` of a run of n_rounds rounds of H inner steps (steps
 * in all): *h gets its inner steps and *first the schedule step of the
 * first of them (loco_round_steps).  Returns LOCO_ERANGE (msg says so) if
 * the run is over. */
int loco__round_open(long round, long n_rounds, long steps, int H, long *h, long *first, char *msg, size_t msglen);
/* Closes a round of h inner steps that took `took` seconds: the round and
 * inner step counts move on, and *seconds gets its wall time. */
void loco__round_close(long *round, long *inner_step, double *seconds, long h, double took);

/* Folds the outer optimizer (kind and hyper-parameters, 20 bytes as the
 * wire writes them) into the FNV-1a fingerprint h of a run. */
uint64_t loco__outer_fingerprint(uint64_t h, const loco_outer_config *oc);

#endif
