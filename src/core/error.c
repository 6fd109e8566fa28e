/* The one table of error messages, generated from LOCO_ERRNO_MAP. */
#include <stdarg.h>
#include <stdio.h>
#include "core/fail.h"
#include "loco/loco.h"

/* Returns the message for err, or "unknown error" for a code not in the table. */
const char *loco_strerror(int err) {
    switch (err) {
#define LOCO__ERR_CASE(name, code, msg) case code: return msg;
        LOCO_ERRNO_MAP(LOCO__ERR_CASE)
#undef LOCO__ERR_CASE
    }
    return "unknown error";
}

int loco__fail(char *msg, size_t msglen, int code, const char *fmt, ...) {
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return code;
}
