/* Internal: writing a file atomically from a few buffers. */
#ifndef LOCO_CORE_FILE_H
#define LOCO_CORE_FILE_H

#include <stddef.h>

typedef struct {
    const void *data;
    size_t len;
} loco__chunk;

/* Writes the n chunks, in order, to "<path>.tmp.<pid>", flushes and fsyncs
 * it, renames it over path and fsyncs the directory, so that a reader (or a
 * crash) sees the old file or the new one, never a mixture.  Returns LOCO_EIO
 * with a reason naming path, having removed the temporary file and left any
 * earlier file at path as it was. */
int loco__write_atomic(const char *path, const loco__chunk *chunks, int n, char *msg, size_t msglen);

#endif
