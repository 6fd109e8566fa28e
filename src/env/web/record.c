/*
 * Demonstration files and observation digests.
 *
 * A file holds episodes, each (task, seed, step_ms, actions) plus the 64-bit
 * digest of the observation after every step, so that a replay can be
 * checked bit for bit.  Layout (little-endian; docs/env.md):
 *
 *   "LOCODEMO" u32 version(1) u32 n_episodes
 *   per episode: u8 name_len, name, u64 seed, f32 step_ms, f32 return,
 *                i32 success, u32 n_steps, n_steps x 6 i32 (type x y key field ref),
 *                n_steps x u64 digest
 *   u32 CRC-32 (zlib) of every byte before it
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "core/fail.h"
#include "env/web/web.h"

#define MAGIC "LOCODEMO"
#define VERSION 1u
#define MAX_STEPS 1000000u

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const uint8_t *b = data;
    for (size_t k = 0; k < n; k++) { h ^= b[k]; h *= 0x100000001B3ull; }
    return h;
}

/* Everything the agent sees: strings are NUL-padded by the writers, so the
 * whole arrays hash deterministically; only the first n_elems elements count. */
uint64_t loco_env_obs_digest(const loco_env_obs *o) {
    uint64_t h = 0xCBF29CE484222325ull;
    h = fnv(h, o->utterance, sizeof o->utterance);
    h = fnv(h, &o->n_fields, sizeof o->n_fields);
    h = fnv(h, o->field_key, sizeof o->field_key);
    h = fnv(h, o->field_value, sizeof o->field_value);
    h = fnv(h, &o->n_elems, sizeof o->n_elems);
    int n = o->n_elems < 0 ? 0 : o->n_elems > LOCO_ENV_MAX_ELEMS ? LOCO_ENV_MAX_ELEMS : o->n_elems;
    h = fnv(h, o->elems, (size_t)n * sizeof *o->elems);
    h = fnv(h, &o->prev_action, sizeof o->prev_action);
    h = fnv(h, &o->task, sizeof o->task);
    h = fnv(h, &o->step, sizeof o->step);
    h = fnv(h, &o->time_ms, sizeof o->time_ms);
    h = fnv(h, &o->cursor_x, sizeof o->cursor_x);
    h = fnv(h, &o->cursor_y, sizeof o->cursor_y);
    return fnv(h, &o->seed, sizeof o->seed);
}

static void put(uint8_t **w, const void *v, size_t n) {
    if (*w) { memcpy(*w, v, n); *w += n; }
}

/* Serialises into buf (or only measures when buf is NULL); returns the size. */
static size_t encode(const loco_env_episode *eps, int n, uint8_t *buf) {
    uint8_t *w = buf;
    size_t size = 8 + 4 + 4;
    uint32_t v = VERSION, ne = (uint32_t)n;
    put(&w, MAGIC, 8); put(&w, &v, 4); put(&w, &ne, 4);
    for (int e = 0; e < n; e++) {
        const loco_env_episode *ep = &eps[e];
        uint8_t len = (uint8_t)strnlen(ep->task, sizeof ep->task - 1);
        uint32_t ns = (uint32_t)ep->n_steps;
        put(&w, &len, 1); put(&w, ep->task, len);
        put(&w, &ep->seed, 8); put(&w, &ep->step_ms, 4); put(&w, &ep->ret, 4);
        put(&w, &ep->success, 4); put(&w, &ns, 4);
        for (uint32_t s = 0; s < ns; s++) {
            const loco_env_action *a = &ep->actions[s];
            int32_t f[6] = {a->type, a->x, a->y, a->key, a->field, a->ref};
            put(&w, f, sizeof f);
        }
        put(&w, ep->digests, (size_t)ns * 8);
        size += 1 + len + 8 + 4 + 4 + 4 + 4 + (size_t)ns * (24 + 8);
    }
    if (buf) {
        uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)size);
        memcpy(buf + size, &crc, 4);
    }
    return size + 4;
}

int loco_env_demos_write(const char *path, const loco_env_episode *eps, int n, char *msg, size_t msglen) {
    struct stat st;
    if (!lstat(path, &st) && !S_ISREG(st.st_mode))
        return loco__fail(msg, msglen, LOCO_EIO, "%s exists and is not a regular file", path);
    for (int e = 0; e < n; e++)
        if (eps[e].n_steps < 0 || (uint32_t)eps[e].n_steps > MAX_STEPS)
            return loco__fail(msg, msglen, LOCO_EINVAL, "episode %d: %d steps", e, eps[e].n_steps);
    size_t size = encode(eps, n, NULL);
    uint8_t *buf = malloc(size);
    if (!buf) return loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory (%zu bytes)", size);
    encode(eps, n, buf);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(buf, 1, size, f) == size;
    if (f && fclose(f)) ok = 0;
    free(buf);
    if (!ok || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return loco__fail(msg, msglen, LOCO_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return LOCO_OK;
}

typedef struct { const uint8_t *p; size_t left; } reader;

static int take(reader *r, void *out, size_t n) {
    if (r->left < n) return -1;
    if (out) memcpy(out, r->p, n);
    r->p += n; r->left -= n;
    return 0;
}

/* One pass that validates everything; with eps == NULL it only counts the
 * steps, so that the second pass fills one allocation sized exactly. */
static int walk(const uint8_t *data, size_t len, uint32_t n, loco_env_episode *eps, size_t *steps,
                char *msg, size_t msglen) {
    reader r = {data + 16, len - 20};
    loco_env_action *acts = eps ? (loco_env_action *)(eps + n) : NULL;
    uint64_t *dig = eps ? (uint64_t *)(acts + *steps) : NULL;
    size_t total = 0;
    for (uint32_t e = 0; e < n; e++) {
        uint8_t nl;
        char name[32] = {0};
        loco_env_episode ep;
        memset(&ep, 0, sizeof ep);
        uint32_t ns;
        if (take(&r, &nl, 1) || nl == 0 || nl > 31 || take(&r, name, nl))
            return loco__fail(msg, msglen, LOCO_EIO, "episode %u: bad task name", e);
        if (memchr(name, 0, nl) || loco_env_task_find(name) < 0)
            return loco__fail(msg, msglen, LOCO_EIO, "episode %u: unknown task", e);
        if (take(&r, &ep.seed, 8) || take(&r, &ep.step_ms, 4) || take(&r, &ep.ret, 4) ||
            take(&r, &ep.success, 4) || take(&r, &ns, 4))
            return loco__fail(msg, msglen, LOCO_EIO, "episode %u: truncated header", e);
        if (!(ep.step_ms > 0 && ep.step_ms <= LOCO_ENV_EPISODE_MS) || !(ep.ret >= -1.0f && ep.ret <= 1.0f) ||
            (ep.success != 0 && ep.success != 1) || ns > MAX_STEPS || (size_t)ns * 32 > r.left)
            return loco__fail(msg, msglen, LOCO_EIO, "episode %u: bad values", e);
        for (uint32_t s = 0; s < ns; s++) {
            int32_t f[6] = {0};
            take(&r, f, sizeof f);   /* cannot fail: n_steps * 32 bytes are left */
            loco_env_action a = {f[0], f[1], f[2], f[3], f[4], f[5]};
            if (a.type < 0 || a.type >= LOCO_ENV_NUM_ACTION_TYPES)
                return loco__fail(msg, msglen, LOCO_EIO, "episode %u step %u: bad action type", e, s);
            if (acts) acts[total + s] = a;
        }
        if (dig) take(&r, dig + total, (size_t)ns * 8); else take(&r, NULL, (size_t)ns * 8);
        if (eps) {
            memcpy(ep.task, name, sizeof ep.task);
            ep.n_steps = (int32_t)ns;
            ep.actions = acts + total;
            ep.digests = dig + total;
            eps[e] = ep;
        }
        total += ns;
    }
    if (r.left) return loco__fail(msg, msglen, LOCO_EIO, "%zu trailing bytes", r.left);
    *steps = total;
    return LOCO_OK;
}

int loco_env_demos_parse(const uint8_t *data, size_t len, loco_env_episode **out, int *n_out,
                         char *msg, size_t msglen) {
    *out = NULL; *n_out = 0;
    uint32_t version, n, crc;
    if (len < 20 || memcmp(data, MAGIC, 8))
        return loco__fail(msg, msglen, LOCO_EIO, "not a demonstration file");
    memcpy(&version, data + 8, 4);
    memcpy(&n, data + 12, 4);
    memcpy(&crc, data + len - 4, 4);
    if (version != VERSION) return loco__fail(msg, msglen, LOCO_EIO, "unsupported version %u", version);
    if ((uint32_t)crc32(0L, data, (uInt)(len - 4)) != crc) return loco__fail(msg, msglen, LOCO_EIO, "checksum mismatch");
    if (n > len / 22) return loco__fail(msg, msglen, LOCO_EIO, "bad episode count %u", n);
    size_t steps = 0;
    int err = walk(data, len, n, NULL, &steps, msg, msglen);
    if (err) return err;
    loco_env_episode *eps = malloc((size_t)n * sizeof *eps + steps * (sizeof(loco_env_action) + 8) + 1);
    if (!eps) return loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory");
    err = walk(data, len, n, eps, &steps, msg, msglen);
    if (err) { free(eps); return err; }
    *out = eps; *n_out = (int)n;
    return LOCO_OK;
}

int loco_env_demos_read(const char *path, loco_env_episode **eps, int *n, char *msg, size_t msglen) {
    struct stat st;
    if (stat(path, &st)) return loco__fail(msg, msglen, LOCO_EIO, "cannot open %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return loco__fail(msg, msglen, LOCO_EIO, "%s is not a regular file", path);
    if (st.st_size > (1 << 30)) return loco__fail(msg, msglen, LOCO_EIO, "%s is larger than 1 GiB", path);
    FILE *f = fopen(path, "rb");
    if (!f) return loco__fail(msg, msglen, LOCO_EIO, "cannot open %s: %s", path, strerror(errno));
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    int ok = buf && fread(buf, 1, len, f) == len;
    fclose(f);
    if (!ok) { free(buf); return loco__fail(msg, msglen, LOCO_EIO, "cannot read %s", path); }
    int err = loco_env_demos_parse(buf, len, eps, n, msg, msglen);
    free(buf);
    return err;
}
