/* Internal: the one-line error reporting shared by the library's modules. */
#ifndef LOCO_CORE_FAIL_H
#define LOCO_CORE_FAIL_H

#include <stddef.h>

/* Formats a one-line reason into msg (when msg is not NULL and msglen > 0)
 * and returns code, so that `return loco__fail(msg, msglen, LOCO_EIO, ...)`
 * reports and fails in one statement. */
int loco__fail(char *msg, size_t msglen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
