/*
 * libFuzzer target for the coordinator's state file (src/net/state.c): every
 * input is written to a file and read with loco__state_load, the sizes the
 * caller would pass being taken from the input's own header (capped, so that
 * the reader is explored past its size checks without asking for large
 * buffers).  What loads must keep the loader's promises (finite theta and
 * outer state, counters in range, one-line errors naming the file), and,
 * written again with loco__state_save, must give back the input byte for
 * byte: the format has no slack a reader could misread.
 *
 * Seeds: LLVMFuzzerInitialize writes a valid state file with extras (an
 * asynchronous coordinator's) into each corpus directory on the command line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loco/loco.h"
#include "net/state.h"
#include "net/wire.h"

enum { MAX_FLOATS = 4096, MAX_EXTRA = 256 };

static float theta[MAX_FLOATS], ostate[MAX_FLOATS];
static uint64_t extra[MAX_EXTRA];

static void write_seed(const char *dir) {
    char path[4096], msg[512];
    snprintf(path, sizeof path, "%s/seed_async.state", dir);
    if (access(path, F_OK) == 0) return;
    for (int i = 0; i < 16; i++) theta[i] = 0.25f * (float)i - 1.0f;
    for (int i = 0; i < 32; i++) ostate[i] = 0.125f * (float)i;
    for (int i = 0; i < 21; i++) extra[i] = (uint64_t)i * 977u + 1u;
    loco__coord_state s = {0x1234abcdULL, 16, 32, 10, 40, 8, 3, 1, 2, 0, 5, 1e6, 2e6, 3.5, 2.25f,
                           theta, ostate, 21, extra};
    loco__state_save(path, &s, msg, sizeof msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    for (int i = 1; i < *argc; i++) {
        struct stat st;
        const char *a = (*argv)[i];
        if (a[0] != '-' && stat(a, &st) == 0 && S_ISDIR(st.st_mode)) write_seed(a);
    }
    return 0;
}

/* Aborts unless msg is one line naming path: the promise of every error. */
static void check_msg(const char *msg, const char *path) {
    if (strncmp(msg, path, strlen(path)) != 0 || strchr(msg, '\n')) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64], again[80];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/loco_fuzz_state_%ld", (long)getpid());
        snprintf(again, sizeof again, "%s.again", path);
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t wrote = fwrite(data, 1, size, f);
    fclose(f);
    if (wrote != size) return 0;
    /* The sizes a matching run would have, from the header when there is
     * one; otherwise small defaults (the reader must then refuse). */
    loco__coord_state s;
    memset(&s, 0, sizeof s);
    s.P = 4;
    if (size >= 128) {
        s.fingerprint = loco__get64(data + 8);
        s.P = loco__get64(data + 16);
        s.state_n = loco__get64(data + 24);
        s.extra_n = loco__get32(data + 124);
    }
    if (s.P > MAX_FLOATS || s.state_n > MAX_FLOATS || s.extra_n > MAX_EXTRA) return 0;
    s.theta = theta;
    s.ostate = ostate;
    s.extra = extra;
    char msg[512];
    int e = loco__state_load(path, &s, msg, sizeof msg);
    if (e) {
        if (e != LOCO_EINVAL && e != LOCO_EIO) abort();
        check_msg(msg, path);
        return 0;
    }
    for (uint64_t i = 0; i < s.P; i++)
        if (!isfinite(theta[i])) abort();
    for (uint64_t i = 0; i < s.state_n; i++)
        if (!isfinite(ostate[i])) abort();
    if (s.round < 0 || s.inner_step < 0 || s.outer_steps < 0 || s.outer_steps > s.round) abort();
    /* Round trip: what loaded, saved again, is the input. */
    if (loco__state_save(again, &s, msg, sizeof msg) != LOCO_OK) abort();
    f = fopen(again, "rb");
    if (!f) abort();
    uint8_t *back = malloc(size + 1);
    size_t n = back ? fread(back, 1, size + 1, f) : 0;
    fclose(f);
    if (!back || n != size || memcmp(back, data, size)) abort();
    free(back);
    return 0;
}
