/* The token shard writer: streams documents to a temporary file in the
 * target's directory and renames it into place only once it is complete. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "shard_internal.h"
#include "core/file.h"

#define WBUF ((size_t)1 << 20)

struct loco_shard_writer {
    char *path, *tmp;
    int fd;
    int created;             /* the temporary file exists and is ours to remove */
    int vocab_size, token_bytes;
    int err;                 /* the first error, after which only close/abort */
    uint8_t *buf;            /* bytes not yet written, after the header */
    size_t nbuf;
    uint64_t checksum;       /* FNV-1a of every byte after the header so far */
    uint64_t *offsets;       /* n_docs + 1 token offsets */
    uint64_t n_docs, cap_docs;
};

uint64_t loco_fnv1a64(uint64_t h, const void *data, size_t n) {
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Writes all n bytes at offset off (or at the current position if off < 0);
 * returns 0 or -1 with errno set. */
static int write_all(int fd, const uint8_t *p, size_t n, off_t off) {
    while (n > 0) {
        ssize_t k = off < 0 ? write(fd, p, n) : pwrite(fd, p, n, off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (k == 0) errno = EIO;
            return -1;
        }
        p += k;
        n -= (size_t)k;
        if (off >= 0) off += k;
    }
    return 0;
}

/* Records the writer's first error and returns it. */
static int set_err(loco_shard_writer *w, int err) {
    if (!w->err) w->err = err;
    return err;
}

/* Writes the buffered bytes; returns 0 or LOCO_EIO. */
static int flush(loco_shard_writer *w, char *msg, size_t msglen) {
    if (write_all(w->fd, w->buf, w->nbuf, -1) != 0) {
        snprintf(msg, msglen, "%s: cannot write: %s", w->path, strerror(errno));
        return set_err(w, LOCO_EIO);
    }
    w->nbuf = 0;
    return 0;
}

/* Appends n bytes to the body (checksummed); returns 0 or LOCO_EIO. */
static int put(loco_shard_writer *w, const void *data, size_t n, char *msg, size_t msglen) {
    w->checksum = loco_fnv1a64(w->checksum, data, n);
    const uint8_t *p = data;
    while (n > 0) {
        if (w->nbuf == WBUF && flush(w, msg, msglen)) return w->err;
        size_t k = WBUF - w->nbuf < n ? WBUF - w->nbuf : n;
        memcpy(w->buf + w->nbuf, p, k);
        w->nbuf += k;
        p += k;
        n -= k;
    }
    return 0;
}

/* Stores v little-endian in p[0..nb). */
static void put_le(uint8_t *p, uint64_t v, int nb) {
    for (int i = 0; i < nb; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int loco_shard_writer_open(loco_shard_writer **out, const char *path, int vocab_size,
                           char *msg, size_t msglen) {
    *out = NULL;
    if (vocab_size < 1) {
        snprintf(msg, msglen, "%s: vocabulary size %d must be at least 1", path, vocab_size);
        return LOCO_EINVAL;
    }
    if (loco_file_check_output(path, msg, msglen) != LOCO_OK) return LOCO_EIO;
    loco_shard_writer *w = calloc(1, sizeof *w);
    size_t plen = strlen(path);
    if (w) {
        w->fd = -1;
        w->path = malloc(plen + 1);
        w->tmp = calloc(plen + 48, 1);
        w->buf = malloc(WBUF);
        w->cap_docs = 1024;
        w->offsets = malloc(w->cap_docs * sizeof *w->offsets);
    }
    if (!w || !w->path || !w->tmp || !w->buf || !w->offsets) {
        loco_shard_writer_abort(w);
        snprintf(msg, msglen, "%s: out of memory", path);
        return LOCO_ENOMEM;
    }
    memcpy(w->path, path, plen + 1);
    w->vocab_size = vocab_size;
    w->token_bytes = vocab_size <= 65536 ? 2 : 4;
    w->checksum = LOCO_FNV1A_INIT;
    w->offsets[0] = 0;
    /* A fresh name beside the target (so the final rename stays within one
     * file system); O_EXCL makes it ours alone, mode 0666 honours the umask. */
    static unsigned counter;
    for (int attempt = 0; attempt < 100 && w->fd < 0; attempt++) {
        snprintf(w->tmp, plen + 48, "%s.tmp.%ld.%u", path, (long)getpid(),
                 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (w->fd < 0 && errno != EEXIST) break;
    }
    w->created = w->fd >= 0;
    if (w->fd < 0) {
        snprintf(msg, msglen, "%s: cannot create the output file: %s", path, strerror(errno));
        loco_shard_writer_abort(w);
        return LOCO_EIO;
    }
    /* The header is written last, once the counts are known. */
    uint8_t zero[LOCO_SHARD_HEADER_BYTES] = {0};
    if (write_all(w->fd, zero, sizeof zero, -1) != 0) {
        snprintf(msg, msglen, "%s: cannot write: %s", path, strerror(errno));
        loco_shard_writer_abort(w);
        return LOCO_EIO;
    }
    *out = w;
    return LOCO_OK;
}

int loco_shard_writer_add_doc(loco_shard_writer *w, const int *ids, size_t n, char *msg,
                              size_t msglen) {
    if (w->err) {
        snprintf(msg, msglen, "%s: writing after an earlier error", w->path);
        return w->err;
    }
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= w->vocab_size) {
            snprintf(msg, msglen, "%s: document %llu, token %zu: id %d is outside the "
                     "vocabulary [0, %d)", w->path, (unsigned long long)w->n_docs, i, ids[i],
                     w->vocab_size);
            return set_err(w, LOCO_EINVAL);
        }
    }
    if (w->n_docs + 1 == w->cap_docs) {
        uint64_t *grown = realloc(w->offsets, 2 * w->cap_docs * sizeof *grown);
        if (!grown) {
            snprintf(msg, msglen, "%s: out of memory for %llu documents", w->path,
                     (unsigned long long)w->cap_docs);
            return set_err(w, LOCO_ENOMEM);
        }
        w->offsets = grown;
        w->cap_docs *= 2;
    }
    uint8_t tmp[4096];
    size_t per = sizeof tmp / (size_t)w->token_bytes;
    for (size_t i = 0; i < n; i += per) {
        size_t k = n - i < per ? n - i : per;
        for (size_t j = 0; j < k; j++)
            put_le(tmp + j * w->token_bytes, (uint32_t)ids[i + j], w->token_bytes);
        if (put(w, tmp, k * w->token_bytes, msg, msglen)) return w->err;
    }
    w->offsets[w->n_docs + 1] = w->offsets[w->n_docs] + n;
    w->n_docs++;
    return LOCO_OK;
}

/* Fsyncs the directory holding path, so that the rename itself is durable;
 * returns 0 or -1 (best effort: some file systems refuse it). */
static int sync_dir(const char *path) {
    char *copy = strdup(path);
    if (!copy) return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

int loco__shard_writer_finish(loco_shard_writer *w, char *msg, size_t msglen) {
    if (w->err) {
        snprintf(msg, msglen, "%s: not written: an earlier error", w->path);
        return w->err;
    }
    uint64_t n_tokens = w->offsets[w->n_docs];
    static const uint8_t pad[8] = {0};
    size_t payload_tail = (size_t)((n_tokens * (uint64_t)w->token_bytes) % 8);
    if (payload_tail && put(w, pad, 8 - payload_tail, msg, msglen)) return w->err;
    for (uint64_t d = 0; d <= w->n_docs; d++) {
        uint8_t le[8];
        put_le(le, w->offsets[d], 8);
        if (put(w, le, 8, msg, msglen)) return w->err;
    }
    if (flush(w, msg, msglen)) return w->err;
    uint8_t h[LOCO_SHARD_HEADER_BYTES] = {0};
    memcpy(h, LOCO_SHARD_MAGIC, 8);
    put_le(h + 8, LOCO_SHARD_VERSION, 4);
    put_le(h + 12, (uint64_t)w->vocab_size, 4);
    put_le(h + 16, (uint64_t)w->token_bytes, 4);
    put_le(h + 24, n_tokens, 8);
    put_le(h + 32, w->n_docs, 8);
    put_le(h + 40, w->checksum, 8);
    if (write_all(w->fd, h, sizeof h, 0) != 0 || fsync(w->fd) != 0) {
        snprintf(msg, msglen, "%s: cannot write: %s", w->path, strerror(errno));
        return set_err(w, LOCO_EIO);
    }
    int r = close(w->fd);
    w->fd = -1;
    if (r != 0) {
        snprintf(msg, msglen, "%s: cannot write: %s", w->path, strerror(errno));
        return set_err(w, LOCO_EIO);
    }
    return LOCO_OK;
}

int loco__shard_writer_commit(loco_shard_writer *w, char *msg, size_t msglen) {
    if (rename(w->tmp, w->path) != 0) {
        snprintf(msg, msglen, "%s: cannot rename the finished shard into place: %s", w->path,
                 strerror(errno));
        loco_shard_writer_abort(w);
        return LOCO_EIO;
    }
    sync_dir(w->path);
    w->created = 0;   /* renamed: nothing left to remove */
    loco_shard_writer_abort(w);
    return LOCO_OK;
}

int loco_shard_writer_close(loco_shard_writer *w, char *msg, size_t msglen) {
    int err = loco__shard_writer_finish(w, msg, msglen);
    if (err) {
        loco_shard_writer_abort(w);
        return err;
    }
    return loco__shard_writer_commit(w, msg, msglen);
}

void loco_shard_writer_abort(loco_shard_writer *w) {
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    if (w->created) unlink(w->tmp);
    free(w->tmp);
    free(w->path);
    free(w->buf);
    free(w->offsets);
    free(w);
}
