/*
 * Files: the one way loco opens a path it reads and checks a path it is
 * about to replace, so that every command treats a FIFO, a device or a
 * directory given where a file belongs the same way: one line naming the
 * path, never a hang and never a device replaced by a regular file.
 */
#ifndef LOCO_FILE_H
#define LOCO_FILE_H
#include <stddef.h>
#include <stdio.h>
#ifdef __cplusplus
extern "C" {
#endif

/* Opens path for reading ("rb") without ever blocking on it: it is checked
 * with stat() first and opened with O_NONBLOCK (then switched back to
 * blocking reads), so that a FIFO with no writer, a device, a socket or a
 * directory is refused with "PATH: not a regular file (a FIFO)" instead of
 * hanging or reading forever.  Returns NULL with a one-line reason naming
 * path on any failure. */
FILE *loco_file_open_input(const char *path, char *msg, size_t msglen);

/* May a new regular file be written at path (by rename or by appending)?
 * LOCO_OK if nothing is there or a regular file is (links followed);
 * LOCO_EIO with "PATH: exists and is not a regular file (a FIFO); not
 * replaced" for anything else (a device such as /dev/null, a FIFO, a
 * directory, a socket), which an atomic rename would otherwise replace. */
int loco_file_check_output(const char *path, char *msg, size_t msglen);

/* Writes len bytes to path atomically: a temporary file beside it, fsync,
 * rename over path, fsync of the directory; refuses (as
 * loco_file_check_output) a path holding something other than a regular
 * file.  Returns LOCO_OK, or LOCO_EIO with a reason naming path and any
 * earlier file at path left as it was. */
int loco_file_write(const char *path, const void *data, size_t len, char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif
#endif
