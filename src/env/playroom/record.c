/*
 * The episode file (docs/playroom.md), little-endian:
 *
 *   "LOCOPLAY"  u32 version (1)  u32 n_episodes
 *   n times:    u64 seed, u8 split, u8 family_filter (255 any), u8 family,
 *               u8 success, u8 terminated, 8 prompt bytes (loco_playroom_prompt
 *               in order, 255 for an unused field), u16 max_steps,
 *               u16 n_steps, u64 hash, then n_steps x 4 bytes: setter motor,
 *               setter token, solver motor, solver token
 *   u32 CRC-32 (zlib's) of every byte before it
 *
 * The seed rebuilds the room and the prompt; the actions replay the episode;
 * hash (loco_playroom_env_hash after the last step) checks the replay.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "core/fail.h"
#include "core/file.h"
#include "env/playroom/internal.h"
#include "env/playroom/vocab.h"

#define MAGIC "LOCOPLAY"
#define VERSION 1u
#define HEAD 16
#define EP_HEAD 33
#define MAX_FILE ((uint64_t)1 << 32)

static void put_u16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put_u32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put_u64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static unsigned get_u16(const uint8_t *p) { return p[0] | (unsigned)p[1] << 8; }
static uint32_t get_u32(const uint8_t *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
static uint64_t get_u64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

size_t loco_playroom_file_size(const loco_playroom_episode *eps, int n) {
    size_t s = HEAD + 4;
    for (int i = 0; i < n; i++) s += EP_HEAD + 4 * (size_t)eps[i].n_steps;
    return s;
}

static void prompt_bytes(const loco_playroom_prompt *p, uint8_t *b) {
    b[0] = p->family, b[1] = p->x_cat, b[2] = p->x_colour, b[3] = p->relation;
    b[4] = p->f_kind, b[5] = p->f_colour, b[6] = p->y_cat, b[7] = p->y_colour;
}

size_t loco_playroom_file_encode(const loco_playroom_episode *eps, int n, uint8_t *buf, size_t cap) {
    size_t need = loco_playroom_file_size(eps, n), o = HEAD;
    if (n < 0 || cap < need) return 0;
    memcpy(buf, MAGIC, 8);
    put_u32(buf + 8, VERSION), put_u32(buf + 12, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        const loco_playroom_episode *e = &eps[i];
        put_u64(buf + o, e->seed);
        buf[o + 8] = e->split, buf[o + 9] = e->family_filter, buf[o + 10] = e->family;
        buf[o + 11] = e->success, buf[o + 12] = e->terminated;
        prompt_bytes(&e->prompt, buf + o + 13);
        put_u16(buf + o + 21, e->max_steps), put_u16(buf + o + 23, e->n_steps);
        put_u64(buf + o + 25, e->hash);
        o += EP_HEAD;
        memcpy(buf + o, e->acts, 4 * (size_t)e->n_steps);
        o += 4 * (size_t)e->n_steps;
    }
    put_u32(buf + o, (uint32_t)crc32_z(0L, buf, o));
    return o + 4;
}

/* A prompt field: in [0, n), or 255 where unused. */
static int field_ok(uint8_t v, int n) { return v < n || v == PR_NONE; }

static int prompt_ok(const loco_playroom_prompt *p) {
    return p->family < LOCO_PLAYROOM_N_FAMILY && field_ok(p->x_cat, LOCO_PLAYROOM_N_CATEGORY) &&
           field_ok(p->x_colour, LOCO_PLAYROOM_N_COLOUR) && p->relation <= 1 &&
           field_ok(p->f_kind, LOCO_PLAYROOM_N_FURNITURE) && field_ok(p->f_colour, LOCO_PLAYROOM_N_COLOUR) &&
           field_ok(p->y_cat, LOCO_PLAYROOM_N_CATEGORY) && field_ok(p->y_colour, LOCO_PLAYROOM_N_COLOUR);
}

int loco_playroom_file_decode(const uint8_t *buf, size_t len, loco_playroom_episode *eps, int max, int *n,
                              char *msg, size_t msglen) {
    *n = 0;
    if (len < HEAD + 4 || memcmp(buf, MAGIC, 8))
        return loco__fail(msg, msglen, LOCO_EIO, "not a playroom episode file (no LOCOPLAY header)");
    if (get_u32(buf + 8) != VERSION)
        return loco__fail(msg, msglen, LOCO_EIO, "episode file version %u (this build reads %u)", get_u32(buf + 8), VERSION);
    if (get_u32(buf + len - 4) != (uint32_t)crc32_z(0L, buf, len - 4))
        return loco__fail(msg, msglen, LOCO_EIO, "episode file checksum mismatch (damaged or truncated)");
    uint32_t count = get_u32(buf + 12);
    size_t o = HEAD, end = len - 4;
    for (uint32_t i = 0; i < count; i++) {
        if (end - o < EP_HEAD) return loco__fail(msg, msglen, LOCO_EIO, "episode %u: truncated", i);
        if ((int)i >= max) return loco__fail(msg, msglen, LOCO_ERANGE, "more than %d episodes", max);
        loco_playroom_episode *e = &eps[i];
        memset(e, 0, sizeof *e);
        const uint8_t *b = buf + o, *pb = b + 13;
        e->seed = get_u64(b);
        e->split = b[8], e->family_filter = b[9], e->family = b[10], e->success = b[11], e->terminated = b[12];
        e->prompt = (loco_playroom_prompt){pb[0], pb[1], pb[2], pb[3], pb[4], pb[5], pb[6], pb[7]};
        e->max_steps = (uint16_t)get_u16(b + 21), e->n_steps = (uint16_t)get_u16(b + 23);
        e->hash = get_u64(b + 25);
        if (e->split > LOCO_PLAYROOM_SPLIT_TEST || (e->family_filter >= LOCO_PLAYROOM_N_FAMILY && e->family_filter != 255) ||
            e->family >= LOCO_PLAYROOM_N_FAMILY || e->success > 1 || e->terminated > 1 || !prompt_ok(&e->prompt) ||
            e->prompt.family != e->family || e->max_steps < 1 || e->max_steps > LOCO_PLAYROOM_MAX_STEPS ||
            e->n_steps < 1 || e->n_steps > e->max_steps)
            return loco__fail(msg, msglen, LOCO_EIO, "episode %u: a field is out of range", i);
        o += EP_HEAD;
        if (end - o < 4 * (size_t)e->n_steps) return loco__fail(msg, msglen, LOCO_EIO, "episode %u: truncated actions", i);
        memcpy(e->acts, buf + o, 4 * (size_t)e->n_steps);
        for (int t = 0; t < e->n_steps; t++)
            if (e->acts[t][0] >= LOCO_PLAYROOM_N_MOTOR || e->acts[t][2] >= LOCO_PLAYROOM_N_MOTOR ||
                e->acts[t][1] >= PR_VOCAB_SIZE || e->acts[t][3] >= PR_VOCAB_SIZE)
                return loco__fail(msg, msglen, LOCO_EIO, "episode %u: step %d: an action is out of range", i, t);
        o += 4 * (size_t)e->n_steps;
        *n = (int)i + 1;
    }
    if (o != end) return loco__fail(msg, msglen, LOCO_EIO, "%zu bytes after the last episode", end - o);
    return LOCO_OK;
}

int loco_playroom_file_write(const char *path, const loco_playroom_episode *eps, int n, char *msg, size_t msglen) {
    size_t size = loco_playroom_file_size(eps, n);
    uint8_t *buf = malloc(size);
    if (!buf) return loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory for %zu bytes", size);
    loco_playroom_file_encode(eps, n, buf, size);
    loco__chunk c = {buf, size};
    int err = loco__write_atomic(path, &c, 1, msg, msglen);
    free(buf);
    return err;
}

int loco_playroom_file_read(const char *path, loco_playroom_episode **eps, int *n, char *msg, size_t msglen) {
    int fd;
    uint64_t size;
    *eps = NULL, *n = 0;
    int err = loco__open_input(path, &fd, &size, msg, msglen);
    if (err) return err;
    if (size > MAX_FILE) {
        close(fd);
        return loco__fail(msg, msglen, LOCO_EIO, LOCO__PATH_FMT ": too large for an episode file", LOCO__PATH_ARG(path));
    }
    uint8_t *buf = malloc(size ? size : 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf) return loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory reading " LOCO__PATH_FMT, LOCO__PATH_ARG(path));
    if (got != size) {
        free(buf);
        return loco__fail(msg, msglen, LOCO_EIO, LOCO__PATH_FMT ": read error", LOCO__PATH_ARG(path));
    }
    /* The header's count, bounded by the size (every episode takes at least
     * EP_HEAD + 4 bytes), sizes the array; the decoder checks the rest. */
    uint64_t bound = size / (EP_HEAD + 4) + 1, count = size >= HEAD ? get_u32(buf + 12) : 0;
    int max = (int)(count < bound ? count + 1 : bound);
    *eps = malloc((size_t)max * sizeof **eps);
    if (!*eps) {
        free(buf);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory for the episodes of " LOCO__PATH_FMT, LOCO__PATH_ARG(path));
    }
    char why[256];
    err = loco_playroom_file_decode(buf, size, *eps, max, n, why, sizeof why);
    free(buf);
    if (err) {
        free(*eps);
        *eps = NULL, *n = 0;
        return loco__fail(msg, msglen, err, LOCO__PATH_FMT ": %s", LOCO__PATH_ARG(path), why);
    }
    return LOCO_OK;
}
