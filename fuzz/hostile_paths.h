/*
 * Shared by the fuzz targets that read a path: once per process, the reader
 * must refuse a FIFO with no writer, a character device (/dev/zero) and a
 * directory at once, with a one-line message naming the path and saying
 * "not a regular file".  A reader that blocked on the FIFO, or read
 * /dev/zero forever, trips libFuzzer's -timeout; one that accepted any of
 * them aborts here.
 */
#ifndef LOCO_FUZZ_HOSTILE_PATHS_H
#define LOCO_FUZZ_HOSTILE_PATHS_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* load(path, msg, msglen) returns 0 when it accepted path. */
typedef int (*loco_fuzz_loader)(const char *path, char *msg, size_t msglen);

static void loco_fuzz_hostile_paths(loco_fuzz_loader load) {
    static int done;
    if (done) return;
    done = 1;
    char fifo[64];
    snprintf(fifo, sizeof fifo, "/tmp/loco_fuzz_fifo_%ld", (long)getpid());
    unlink(fifo);
    if (mkfifo(fifo, 0600) != 0) abort();
    const char *paths[] = {fifo, "/dev/zero", "/tmp"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char msg[512] = "";
        if (load(paths[i], msg, sizeof msg) == 0 || !strstr(msg, paths[i]) || !strstr(msg, "not a regular file") ||
            strchr(msg, '\n'))
            abort();
    }
    unlink(fifo);
}
#endif
