/* Atomic file writes (src/core/file.h).  Why each step: rename() within one
 * directory is atomic, so a reader sees the old file or the new one; fsync()
 * on the file before the rename puts the new contents on disk before the
 * name points at them; fsync() on the directory makes the rename durable. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "core/file.h"
#include "loco/loco.h"

/* fsyncs the directory holding path; returns 0 or -1.  A filesystem that
 * cannot sync a directory (EINVAL) counts as success. */
static int sync_parent(const char *path) {
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

int loco__write_atomic(const char *path, const loco__chunk *chunks, int n, char *msg, size_t msglen) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(msg, msglen, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        return LOCO_EIO;
    }
    int bad = 0;
    for (int i = 0; i < n && !bad; i++) {
        const char *p = chunks[i].data;
        for (size_t left = chunks[i].len; left > 0 && !bad;) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) bad = 1;
            else {
                p += w;
                left -= (size_t)w;
            }
        }
    }
    bad = bad || fsync(fd) != 0;
    int e = errno;
    bad = close(fd) != 0 || bad;
    if (bad || rename(tmp, path) != 0) {
        if (!bad) e = errno;
        snprintf(msg, msglen, "%s: cannot write: %s", path, strerror(e));
        unlink(tmp);
        return LOCO_EIO;
    }
    if (sync_parent(path) != 0) {
        snprintf(msg, msglen, "%s: cannot sync its directory: %s", path, strerror(errno));
        return LOCO_EIO;
    }
    return LOCO_OK;
}
