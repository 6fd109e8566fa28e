/* Opening inputs, checking outputs, atomic writes (src/core/file.h).
 *
 * Inputs: open() on a FIFO blocks until a writer appears, and read() on a
 * device such as /dev/zero never ends, so a path is stat()ed before it is
 * opened and opened with O_NONBLOCK (which makes opening a FIFO return at
 * once), and what was opened is checked again with fstat() in case the path
 * changed in between.
 *
 * Atomic writes: rename() within one directory is atomic, so a reader sees
 * the old file or the new one; fsync() on the file before the rename puts
 * the new contents on disk before the name points at them; fsync() on the
 * directory makes the rename durable.  rename() replaces whatever the name
 * held, a device or a FIFO included, so the target is checked first. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/fail.h"
#include "core/file.h"
#include "loco/loco.h"

/* What a non-regular file is, for messages. */
static const char *kind(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a file";
}

int loco__open_input(const char *path, int *fd, uint64_t *size, char *msg, size_t msglen) {
    *fd = -1;
    if (!path || !*path) return loco__fail(msg, msglen, LOCO_EIO, "an empty path names no file");
    struct stat st;
    if (stat(path, &st) != 0)
        return loco__fail(msg, msglen, LOCO_EIO, LOCO__PATH_FMT ": cannot open: %s", LOCO__PATH_ARG(path),
                          strerror(errno));
    if (!S_ISREG(st.st_mode))
        return loco__fail(msg, msglen, LOCO_EIO, LOCO__PATH_FMT ": not a regular file (%s)", LOCO__PATH_ARG(path),
                          kind(st.st_mode));
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0)
        return loco__fail(msg, msglen, LOCO_EIO, LOCO__PATH_FMT ": cannot open: %s", LOCO__PATH_ARG(path),
                          strerror(errno));
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return loco__fail(msg, msglen, LOCO_EIO, LOCO__PATH_FMT ": not a regular file", LOCO__PATH_ARG(path));
    }
    int fl = fcntl(f, F_GETFL);
    if (fl < 0 || fcntl(f, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        close(f);
        return loco__fail(msg, msglen, LOCO_EIO, LOCO__PATH_FMT ": cannot open: %s", LOCO__PATH_ARG(path),
                          strerror(errno));
    }
    *fd = f;
    if (size) *size = (uint64_t)st.st_size;
    return LOCO_OK;
}

/* Also public (include/loco/file.h). */
FILE *loco_file_open_input(const char *path, char *msg, size_t msglen) {
    int fd;
    if (loco__open_input(path, &fd, NULL, msg, msglen) != LOCO_OK) return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        loco__fail(msg, msglen, LOCO_EIO, LOCO__PATH_FMT ": cannot open: %s", LOCO__PATH_ARG(path),
                   strerror(errno));
        close(fd);
    }
    return f;
}

int loco_file_check_output(const char *path, char *msg, size_t msglen) {
    if (!path || !*path) return loco__fail(msg, msglen, LOCO_EIO, "an empty path names no file");
    struct stat st;
    if (stat(path, &st) != 0) return LOCO_OK;
    if (S_ISREG(st.st_mode)) return LOCO_OK;
    return loco__fail(msg, msglen, LOCO_EIO, LOCO__PATH_FMT ": exists and is not a regular file (%s); not replaced",
                      LOCO__PATH_ARG(path), kind(st.st_mode));
}

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

void loco__clean_stale_tmp(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path) >= (int)sizeof dir)
        return;
    const size_t bl = strlen(base);
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *n = e->d_name;
        if (strncmp(n, base, bl) != 0 || strncmp(n + bl, ".tmp.", 5) != 0) continue;
        char *end;
        errno = 0;
        long pid = strtol(n + bl + 5, &end, 10);
        /* Only "<base>.tmp.<pid>" exactly, of a process that is gone. */
        if (errno || end == n + bl + 5 || *end || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char full[4400];
        if (snprintf(full, sizeof full, "%s/%s", dir, n) < (int)sizeof full) unlink(full);
    }
    closedir(d);
}

int loco__write_atomic(const char *path, const loco__chunk *chunks, int n, char *msg, size_t msglen) {
    return loco__write_atomic_mode(path, chunks, n, 0644, msg, msglen);
}

int loco__write_atomic_mode(const char *path, const loco__chunk *chunks, int n, unsigned mode, char *msg,
                            size_t msglen) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return loco__fail(msg, msglen, LOCO_EIO, LOCO__PATH_FMT ": path too long", LOCO__PATH_ARG(path));
    if (loco_file_check_output(path, msg, msglen) != LOCO_OK) return LOCO_EIO;
    loco__clean_stale_tmp(path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
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

int loco_file_write(const char *path, const void *data, size_t len, char *msg, size_t msglen) {
    loco__chunk c = {data, len};
    return loco__write_atomic(path, &c, 1, msg, msglen);
}
