/* The token shard reader: maps a shard and checks everything the header
 * claims against the file itself before handing out a pointer into it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loco/shard.h"
#include "core/file.h"

/* Reads a little-endian unsigned integer of nb bytes. */
static uint64_t get_le(const uint8_t *p, int nb) {
    uint64_t v = 0;
    for (int i = nb - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Checks the mapped file's header and structure and fills s; returns
 * LOCO_EINVAL with the reason in msg. */
static int check(loco_shard *s, const char *path, const uint8_t *m, uint64_t size,
                 int expected_vocab, int verify, char *msg, size_t msglen) {
    const uint64_t H = LOCO_SHARD_HEADER_BYTES;   /* size >= H: checked by the caller */
    if (memcmp(m, LOCO_SHARD_MAGIC, 8) != 0) {
        snprintf(msg, msglen, "%s: not a loco token shard (wrong magic)", path);
        return LOCO_EINVAL;
    }
    uint64_t version = get_le(m + 8, 4), vocab = get_le(m + 12, 4), tb = get_le(m + 16, 4);
    uint64_t flags = get_le(m + 20, 4), n_tokens = get_le(m + 24, 8), n_docs = get_le(m + 32, 8);
    if (version != LOCO_SHARD_VERSION) {
        snprintf(msg, msglen, "%s: shard version %llu is not supported (this build reads %d)",
                 path, (unsigned long long)version, LOCO_SHARD_VERSION);
        return LOCO_EINVAL;
    }
    if (vocab < 1 || vocab > 0x7fffffff) {
        snprintf(msg, msglen, "%s: bad vocabulary size %llu in the header", path,
                 (unsigned long long)vocab);
        return LOCO_EINVAL;
    }
    if (!(tb == 4 || (tb == 2 && vocab <= 65536))) {
        snprintf(msg, msglen, "%s: bad token width %llu bytes for vocabulary size %llu", path,
                 (unsigned long long)tb, (unsigned long long)vocab);
        return LOCO_EINVAL;
    }
    int reserved_ok = flags == 0;
    for (uint64_t i = 48; i < H; i++) reserved_ok &= m[i] == 0;
    if (!reserved_ok) {
        snprintf(msg, msglen, "%s: unknown flags or non-zero reserved header bytes", path);
        return LOCO_EINVAL;
    }
    if (expected_vocab > 0 && vocab != (uint64_t)expected_vocab) {
        snprintf(msg, msglen, "%s: shard vocabulary size %llu does not match the expected %d",
                 path, (unsigned long long)vocab, expected_vocab);
        return LOCO_EINVAL;
    }
    /* Sizes are compared by division, so no product can overflow: the token
     * payload must fit in the file before it is multiplied out. */
    uint64_t body = size - H;
    if (n_tokens > body / tb) {
        snprintf(msg, msglen, "%s: header claims %llu tokens but the file holds only %llu "
                 "bytes after the header: truncated or corrupted", path, (unsigned long long)n_tokens,
                 (unsigned long long)body);
        return LOCO_EINVAL;
    }
    uint64_t payload = n_tokens * tb, padded = (payload + 7) / 8 * 8;
    uint64_t table = padded <= body ? body - padded : 0;
    if (padded > body || table % 8 != 0 || table / 8 == 0 || n_docs != table / 8 - 1) {
        snprintf(msg, msglen, "%s: file length %llu does not match the header (%llu tokens, "
                 "%llu documents): truncated or corrupted", path, (unsigned long long)size,
                 (unsigned long long)n_tokens, (unsigned long long)n_docs);
        return LOCO_EINVAL;
    }
    for (uint64_t i = H + payload; i < H + padded; i++) {
        if (m[i] != 0) {
            snprintf(msg, msglen, "%s: non-zero padding after the tokens", path);
            return LOCO_EINVAL;
        }
    }
    const uint64_t *off = (const uint64_t *)(m + H + padded);
    uint64_t prev = 0;
    for (uint64_t d = 0; d <= n_docs; d++) {
        if (off[d] < prev || off[d] > n_tokens || (d == 0 && off[d] != 0) ||
            (d == n_docs && off[d] != n_tokens)) {
            snprintf(msg, msglen, "%s: document offset %llu is %llu: offsets must start at 0, "
                     "never decrease, and end at %llu tokens", path, (unsigned long long)d,
                     (unsigned long long)off[d], (unsigned long long)n_tokens);
            return LOCO_EINVAL;
        }
        prev = off[d];
    }
    s->vocab_size = (int)vocab;
    s->token_bytes = (int)tb;
    s->n_tokens = n_tokens;
    s->n_docs = n_docs;
    s->checksum = get_le(m + 40, 8);
    s->tokens = m + H;
    s->doc_offsets = off;
    if (!verify) return LOCO_OK;
    uint64_t sum = loco_fnv1a64(LOCO_FNV1A_INIT, m + H, (size_t)body);
    if (sum != s->checksum) {
        snprintf(msg, msglen, "%s: checksum mismatch (header %016llx, data %016llx): corrupted",
                 path, (unsigned long long)s->checksum, (unsigned long long)sum);
        return LOCO_EINVAL;
    }
    for (uint64_t i = 0; i < n_tokens; i++) {
        if (loco_shard_token(s, i) >= vocab) {
            snprintf(msg, msglen, "%s: token %llu is %u, outside the vocabulary [0, %llu)", path,
                     (unsigned long long)i, loco_shard_token(s, i), (unsigned long long)vocab);
            return LOCO_EINVAL;
        }
    }
    return LOCO_OK;
}

int loco_shard_open(loco_shard *s, const char *path, int expected_vocab, int verify_checksum,
                    char *msg, size_t msglen) {
    memset(s, 0, sizeof *s);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    snprintf(msg, msglen, "%s: token shards are read in place, on little-endian hosts only", path);
    return LOCO_EINVAL;
#endif
    int fd;
    if (loco__open_input(path, &fd, NULL, msg, msglen) != LOCO_OK) return LOCO_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(msg, msglen, "%s: not a regular file", path);
        close(fd);
        return LOCO_EIO;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < LOCO_SHARD_HEADER_BYTES) {
        /* Too short to map a header from (an empty file cannot be mapped at all). */
        snprintf(msg, msglen, "%s: truncated: %llu bytes, shorter than the %d-byte shard header",
                 path, (unsigned long long)size, LOCO_SHARD_HEADER_BYTES);
        close(fd);
        return LOCO_EINVAL;
    }
    void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (m == MAP_FAILED) {
        snprintf(msg, msglen, "%s: cannot map: %s", path, strerror(map_errno));
        return LOCO_EIO;
    }
    int err = check(s, path, m, size, expected_vocab, verify_checksum, msg, msglen);
    if (err) {
        munmap(m, (size_t)size);
        memset(s, 0, sizeof *s);
        return err;
    }
    s->map_ = m;
    s->map_len_ = (size_t)size;
    return LOCO_OK;
}

void loco_shard_close(loco_shard *s) {
    if (s->map_) munmap(s->map_, s->map_len_);
    memset(s, 0, sizeof *s);
}

void loco_shard_read(const loco_shard *s, uint64_t start, size_t n, int *out) {
    if (s->token_bytes == 2) {
        const uint16_t *t = (const uint16_t *)s->tokens + start;
        for (size_t i = 0; i < n; i++) out[i] = t[i];
    } else {
        const uint32_t *t = (const uint32_t *)s->tokens + start;
        for (size_t i = 0; i < n; i++) out[i] = (int)t[i];
    }
}
