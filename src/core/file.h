/* Internal: the one way the library opens an input path and checks an
 * output path, and writing a file atomically from a few buffers. */
#ifndef LOCO_CORE_FILE_H
#define LOCO_CORE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "loco/file.h"

/* Paths in messages: at most this many bytes of a path are quoted, so that
 * the reason after it always fits in a caller's message buffer. */
#define LOCO__PATH_SHOWN 200
#define LOCO__PATH_FMT "%.200s%s"
#define LOCO__PATH_ARG(p) (p), strlen(p) > LOCO__PATH_SHOWN ? "..." : ""

/* Opens path for reading, never blocking on it: it is checked with stat()
 * first and opened with O_NONBLOCK (then switched back to blocking reads),
 * so that a FIFO with no writer, a device, a socket or a directory is
 * refused with "PATH: not a regular file (a FIFO)" instead of hanging or
 * reading forever.  Returns LOCO_OK with *fd open (O_CLOEXEC) and *size set
 * (size may be NULL), or LOCO_EIO with a one-line reason naming path. */
int loco__open_input(const char *path, int *fd, uint64_t *size, char *msg, size_t msglen);

/* Removes the temporary files "<path>.tmp.<pid>" that writers killed
 * before their rename left beside path (a kill -9 mid-save): those whose
 * pid names no running process.  Best effort; never fails. */
void loco__clean_stale_tmp(const char *path);

typedef struct {
    const void *data;
    size_t len;
} loco__chunk;

/* Writes the n chunks, in order, to "<path>.tmp.<pid>", flushes and fsyncs
 * it, renames it over path and fsyncs the directory, so that a reader (or a
 * crash) sees the old file or the new one, never a mixture.  Refuses
 * (loco_file_check_output) a path that holds something other than a regular
 * file.  Returns LOCO_EIO with a reason naming path, having removed the
 * temporary file and left any earlier file at path as it was. */
int loco__write_atomic(const char *path, const loco__chunk *chunks, int n, char *msg, size_t msglen);

/* The same, the file created with permissions mode (less the umask) from
 * its first byte: 0600 for a secret, which is never readable by others,
 * not even before a chmod. */
int loco__write_atomic_mode(const char *path, const loco__chunk *chunks, int n, unsigned mode, char *msg,
                            size_t msglen);

#endif
