/* See out_buf.h. */
#include <stdarg.h>
#include <stdio.h>
#include "cli/out_buf.h"

void loco_cli_buf_add(out_buf *o, const char *fmt, ...) {
    if (o->n + 1 >= o->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
    va_end(ap);
    if (r > 0) o->n = o->n + (size_t)r < o->cap ? o->n + (size_t)r : o->cap - 1;
}
