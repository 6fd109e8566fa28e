/* Writing a checkpoint: header JSON built with cJSON, then the tensors'
 * bytes, into a temporary file that replaces the target only once it is
 * complete and on disk.
 *
 * Why each step: rename() within one directory is atomic, so a reader sees
 * either the old file or the new one, never a mixture.  fsync() on the file
 * before the rename makes sure the new contents are on disk before the name
 * points at them (otherwise a crash can leave the name on an empty file);
 * fsync() on the directory afterwards makes the rename itself durable. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ckpt/ckpt_internal.h"
#include "core/file.h"
#include "nn/gpt_internal.h"

/* Builds the padded header text: a JSON object with __metadata__ and one
 * entry per tensor, padded with spaces to a multiple of 8 bytes so that the
 * data section (at 8 + length) is 8-byte aligned, as safetensors does.
 * Returns NULL when memory runs out. */
static char *build_header(const loco_gpt *m, const loco_checkpoint_meta *meta, int nt,
                          uint64_t *len_out) {
    cJSON *root = cJSON_CreateObject();
    cJSON *md = loco__ckpt_meta_encode(&m->cfg, meta, nt > LOCO_NUM_PARAM_TENSORS, m->adam_t);
    if (!root || !md) {
        cJSON_Delete(root);
        cJSON_Delete(md);
        return NULL;
    }
    cJSON_AddItemToObject(root, "__metadata__", md);
    uint64_t off = 0;
    int ok = 1;
    for (int k = 0; k < nt && ok; k++) {
        loco__ckpt_tensor t;
        loco__ckpt_tensor_spec(&m->cfg, k, &t);
        /* Integers are written as raw text: cJSON holds numbers as doubles
         * and could print a large offset in exponent notation. */
        char shape[80], offs[64];
        int n = snprintf(shape, sizeof shape, "[%" PRIu64, t.shape[0]);
        for (int d = 1; d < t.ndim; d++) n += snprintf(shape + n, sizeof shape - n, ",%" PRIu64, t.shape[d]);
        snprintf(shape + n, sizeof shape - n, "]");
        snprintf(offs, sizeof offs, "[%" PRIu64 ",%" PRIu64 "]", off, off + 4 * t.numel);
        off += 4 * t.numel;
        cJSON *e = cJSON_CreateObject();
        ok = e && cJSON_AddStringToObject(e, "dtype", "F32") && cJSON_AddRawToObject(e, "shape", shape) &&
             cJSON_AddRawToObject(e, "data_offsets", offs);
        if (e) cJSON_AddItemToObject(root, t.name, e);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) return NULL;
    size_t n = strlen(text), padded = (n + 7) & ~(size_t)7;
    char *out = malloc(padded);
    if (out) {
        memcpy(out, text, n);
        memset(out + n, ' ', padded - n);
        *len_out = padded;
    }
    cJSON_free(text);
    return out;
}

/* Writes n bytes, honouring the test hook; returns 0, or -1 with errno set. */
static int put(FILE *f, const void *p, size_t n, long long *written) {
    long long lim = loco__ckpt_fail_after_bytes;
    if (lim >= 0 && *written + (long long)n > lim) {
        fwrite(p, 1, lim > *written ? (size_t)(lim - *written) : 0, f);
        *written = lim;
        errno = ENOSPC;
        return -1;
    }
    if (fwrite(p, 1, n, f) != n) return -1;
    *written += (long long)n;
    return 0;
}

/* Writes header and tensors to f; returns 0, or -1 with errno set. */
static int write_body(FILE *f, const loco_gpt *m, const char *header, uint64_t hlen, int nt) {
    long long written = 0;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hlen >> (8 * i));   /* little-endian u64 */
    if (put(f, len8, 8, &written) || put(f, header, hlen, &written)) return -1;
    for (int k = 0; k < nt; k++) {
        loco__ckpt_tensor t;
        loco__ckpt_tensor_spec(&m->cfg, k, &t);
        if (put(f, loco__ckpt_data(m, &t), 4 * t.numel, &written)) return -1;
    }
    return 0;
}

/* fsyncs the directory holding path; returns 0, or -1 with errno set.
 * Filesystems that cannot sync a directory (EINVAL) count as success. */
static int sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0) return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r == 0 || e == EINVAL ? 0 : -1;
}

/* Returns LOCO_EIO naming path (and leaving it untouched) when the file
 * cannot be written, LOCO_EINVAL for bad arguments, LOCO_ENOMEM. */
int loco_checkpoint_save(const char *path, loco_gpt *m, const loco_checkpoint_meta *meta,
                         int with_optimizer, char *msg, size_t msglen) {
    if (!path || !*path || !m || !meta)
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "checkpoint save needs a path, a model and meta");
    if (!memchr(meta->tokenizer, 0, sizeof meta->tokenizer))
        return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "meta.tokenizer is not NUL-terminated");
    int nt = with_optimizer ? LOCO__CKPT_MAX_TENSORS : LOCO_NUM_PARAM_TENSORS;
    for (int k = 0; k < LOCO_NUM_PARAM_TENSORS; k++) {
        loco__ckpt_tensor t;   /* guards against the model's layout drifting from the table */
        loco__ckpt_tensor_spec(&m->cfg, k, &t);
        if (m->sizes[k] != t.numel)
            return loco__ckpt_fail(msg, msglen, LOCO_EINVAL, path, "model tensor %s has %zu floats, the "
                                   "checkpoint table expects %" PRIu64, t.name, m->sizes[k], t.numel);
    }
    uint64_t hlen = 0;
    char *header = build_header(m, meta, nt, &hlen);
    size_t tlen = strlen(path) + 32;
    char *tmp = malloc(tlen);
    if (!header || !tmp) {
        free(header);
        free(tmp);
        return loco__ckpt_fail(msg, msglen, LOCO_ENOMEM, path, "out of memory building the checkpoint header");
    }
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    if (loco_file_check_output(path, msg, msglen) != LOCO_OK) {
        free(header);
        free(tmp);
        return LOCO_EIO;
    }
    /* Earlier runs killed mid-save left "<path>.tmp.<pid>" behind. */
    loco__clean_stale_tmp(path);

    int err = LOCO_OK;
    /* O_EXCL: never follow or reuse something already at the temporary
     * name (a stale file from a killed run is removed first, a symlink is
     * not followed). */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        err = loco__ckpt_fail(msg, msglen, LOCO_EIO, path, "cannot create temporary file %s: %s", tmp,
                              strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
    } else {
        int bad = write_body(f, m, header, hlen, nt) || fflush(f) || fsync(fd);
        int e = bad ? errno : 0;
        if (fclose(f) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
        if (bad) {
            err = loco__ckpt_fail(msg, msglen, LOCO_EIO, path, "cannot write temporary file %s: %s", tmp,
                                  strerror(e ? e : EIO));
            unlink(tmp);
        } else if (rename(tmp, path) != 0) {
            err = loco__ckpt_fail(msg, msglen, LOCO_EIO, path, "cannot rename %s over it: %s", tmp,
                                  strerror(errno));
            unlink(tmp);
        } else if (sync_dir(path) != 0) {
            err = loco__ckpt_fail(msg, msglen, LOCO_EIO, path, "written, but syncing its directory failed: %s",
                                  strerror(errno));
        }
    }
    free(header);
    free(tmp);
    return err;
}
