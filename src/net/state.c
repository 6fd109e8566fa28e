/*
 * The coordinator's durable state (src/net/state.h), in one small binary
 * file, little-endian whatever the host:
 *    0  magic "LOCOCST1"
 *    8  fingerprint, P, state_n                          u64 each
 *   32  round, inner_step, outer_steps, joins, deaths,
 *       missing, late, rejected                          i64 each
 *   96  bytes_in, bytes_out, time_s                      f64 each
 *  120  train_loss                                       f32
 *  124  extra_n                                          u32 (0 before there were extras)
 *  128  theta (P f32), then the outer state (state_n f32), then the extras (extra_n u64)
 *  end  FNV-1a 64 of every byte before it
 * Why atomic: a coordinator killed in the middle of a save must leave the
 * previous state readable, so the file is written under a temporary name,
 * fsync'd, and renamed over the old one (rename is atomic within a
 * directory); the directory is fsync'd so that the rename itself survives a
 * power cut.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "loco/loco.h"
#include "core/file.h"
#include "loco/shard.h"
#include "loco/sim.h"
#include "net/state.h"
#include "net/wire.h"

#define MAGIC "LOCOCST1"
#define FIXED 128

/* Serialises the fixed part of s into out (FIXED bytes). */
static void put_fixed(uint8_t *o, const loco__coord_state *s) {
    memset(o, 0, FIXED);
    memcpy(o, MAGIC, 8);
    loco__put64(o + 8, s->fingerprint);
    loco__put64(o + 16, s->P);
    loco__put64(o + 24, s->state_n);
    const int64_t v[8] = {s->round, s->inner_step, s->outer_steps, s->joins,
                          s->deaths, s->missing, s->late, s->rejected};
    for (int i = 0; i < 8; i++) loco__put64(o + 32 + 8 * i, (uint64_t)v[i]);
    const double d[3] = {s->bytes_in, s->bytes_out, s->time_s};
    for (int i = 0; i < 3; i++) {
        uint64_t u;
        memcpy(&u, &d[i], 8);
        loco__put64(o + 96 + 8 * i, u);
    }
    loco__putf(o + 120, s->train_loss);
    loco__put32(o + 124, s->extra_n);
}

/* Writes n u64 values little-endian, continuing the checksum *h.  Returns
 * 0 or -1. */
static int put_u64s(FILE *f, const uint64_t *x, uint32_t n, uint64_t *h) {
    for (uint32_t i = 0; i < n; i++) {
        uint8_t b[8];
        loco__put64(b, x[i]);
        *h = loco_fnv1a64(*h, b, 8);
        if (fwrite(b, 1, 8, f) != 8) return -1;
    }
    return 0;
}

static int get_u64s(FILE *f, uint64_t *x, uint32_t n, uint64_t *h) {
    for (uint32_t i = 0; i < n; i++) {
        uint8_t b[8];
        if (fread(b, 1, 8, f) != 8) return -1;
        *h = loco_fnv1a64(*h, b, 8);
        x[i] = loco__get64(b);
    }
    return 0;
}

/* Writes n floats little-endian through a fixed buffer (no allocation),
 * continuing the checksum *h.  Returns 0 or -1. */
static int put_floats(FILE *f, const float *x, uint64_t n, uint64_t *h) {
    uint8_t buf[4096];
    for (uint64_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < sizeof buf / 4 && i < n; k++, i++) loco__putf(buf + 4 * k, x[i]);
        *h = loco_fnv1a64(*h, buf, 4 * k);
        if (fwrite(buf, 4, k, f) != k) return -1;
    }
    return 0;
}

static int get_floats(FILE *f, float *x, uint64_t n, uint64_t *h) {
    uint8_t buf[4096];
    for (uint64_t i = 0; i < n;) {
        size_t k = n - i < sizeof buf / 4 ? (size_t)(n - i) : sizeof buf / 4;
        if (fread(buf, 4, k, f) != k) return -1;
        *h = loco_fnv1a64(*h, buf, 4 * k);
        for (size_t j = 0; j < k; j++, i++) x[i] = loco__getf(buf + 4 * j);
    }
    return 0;
}

/* fsyncs the directory holding path; returns 0 or -1.  A filesystem that
 * cannot sync a directory (EINVAL) counts as success. */
static int sync_dir(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    return r == 0 || e == EINVAL ? 0 : -1;
}

/* Returns LOCO_EIO with a reason naming path. */
int loco__state_save(const char *path, const loco__coord_state *s, char *msg, size_t msglen) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (loco_file_check_output(path, msg, msglen) != LOCO_OK) return LOCO_EIO;
    loco__clean_stale_tmp(path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        snprintf(msg, msglen, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        if (fd >= 0) close(fd);
        unlink(tmp);
        return LOCO_EIO;
    }
    uint8_t head[FIXED], tail[8];
    put_fixed(head, s);
    uint64_t h = loco_fnv1a64(LOCO_FNV1A_INIT, head, FIXED);
    int bad = fwrite(head, 1, FIXED, f) != FIXED || put_floats(f, s->theta, s->P, &h) ||
              put_floats(f, s->ostate, s->state_n, &h) || put_u64s(f, s->extra, s->extra_n, &h);
    loco__put64(tail, h);
    bad = bad || fwrite(tail, 1, 8, f) != 8 || fflush(f) || fsync(fd);
    int e = bad ? errno : 0;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad || rename(tmp, path) != 0) {
        snprintf(msg, msglen, "%s: cannot write the coordinator's state: %s", path, strerror(bad ? e : errno));
        unlink(tmp);
        return LOCO_EIO;
    }
    if (sync_dir(path) != 0) {
        snprintf(msg, msglen, "%s: written, but syncing its directory failed: %s", path, strerror(errno));
        return LOCO_EIO;
    }
    return LOCO_OK;
}

static int all_finite(const float *x, uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* Returns LOCO_EIO or LOCO_EINVAL with a reason naming path. */
int loco__state_load(const char *path, loco__coord_state *s, char *msg, size_t msglen) {
    FILE *f = loco_file_open_input(path, msg, msglen);
    if (!f) return LOCO_EIO;
    uint8_t head[FIXED], tail[8];
    const char *why = NULL;
    uint64_t h = 0;
    if (fread(head, 1, FIXED, f) != FIXED || memcmp(head, MAGIC, 8)) why = "not a coordinator state file";
    else if (loco__get64(head + 8) != s->fingerprint)
        why = "the state of another run (its model, data, optimizer or network flags differ)";
    else if (loco__get64(head + 16) != s->P || loco__get64(head + 24) != s->state_n ||
             loco__get32(head + 124) != s->extra_n)
        why = "sizes that do not match the run";
    if (!why) {
        h = loco_fnv1a64(LOCO_FNV1A_INIT, head, FIXED);
        if (get_floats(f, s->theta, s->P, &h) || get_floats(f, s->ostate, s->state_n, &h) ||
            get_u64s(f, s->extra, s->extra_n, &h) || fread(tail, 1, 8, f) != 8 || fgetc(f) != EOF)
            why = "truncated, or longer than its sizes say";
        else if (loco__get64(tail) != h)
            why = "corrupt (checksum mismatch)";
        else if (!all_finite(s->theta, s->P) || !all_finite(s->ostate, s->state_n))
            why = "a parameter that is not finite";
    }
    fclose(f);
    if (why) {
        snprintf(msg, msglen, "%s: %s", path, why);
        return LOCO_EINVAL;
    }
    int64_t *v[8] = {&s->round, &s->inner_step, &s->outer_steps, &s->joins,
                     &s->deaths, &s->missing, &s->late, &s->rejected};
    for (int i = 0; i < 8; i++) *v[i] = (int64_t)loco__get64(head + 32 + 8 * i);
    double *d[3] = {&s->bytes_in, &s->bytes_out, &s->time_s};
    for (int i = 0; i < 3; i++) {
        uint64_t u = loco__get64(head + 96 + 8 * i);
        memcpy(d[i], &u, 8);
    }
    s->train_loss = loco__getf(head + 120);
    if (s->round < 0 || s->inner_step < 0 || s->outer_steps < 0 || s->outer_steps > s->round) {
        snprintf(msg, msglen, "%s: counters out of range", path);
        return LOCO_EINVAL;
    }
    return LOCO_OK;
}

int loco__state_fits(const loco__coord_state *s, long n_rounds, long H, long steps, const char *path, char *msg,
                     size_t msglen) {
    if (s->round >= 0 && s->round <= n_rounds && s->inner_step == (s->round < n_rounds ? s->round * H : steps))
        return LOCO_OK;
    snprintf(msg, msglen, "%s: round %lld does not fit this run of %ld rounds", path, (long long)s->round, n_rounds);
    return LOCO_EINVAL;
}

int loco__round_open(long round, long n_rounds, long steps, int H, long *h, long *first, char *msg, size_t msglen) {
    if (round >= n_rounds) {
        snprintf(msg, msglen, "the run is over (%ld rounds)", n_rounds);
        return LOCO_ERANGE;
    }
    *h = loco_round_steps(steps, H, round, first);
    return LOCO_OK;
}

void loco__round_close(long *round, long *inner_step, double *seconds, long h, double took) {
    ++*round;
    *inner_step += h;
    *seconds = took;
}

uint64_t loco__outer_fingerprint(uint64_t h, const loco_outer_config *oc) {
    uint8_t o[20];
    loco__put32(o, (uint32_t)oc->kind);
    loco__putf(o + 4, oc->lr);
    loco__putf(o + 8, oc->momentum);
    loco__putf(o + 12, oc->beta2);
    loco__putf(o + 16, oc->eps);
    return loco_fnv1a64(h, o, sizeof o);
}
