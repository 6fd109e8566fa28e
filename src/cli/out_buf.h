/* A fixed buffer that printf-style output is appended to, truncating safely
 * (the HTTP servers build their JSON answers in one). */
#ifndef LOCO_CLI_OUT_BUF_H
#define LOCO_CLI_OUT_BUF_H
#include <stddef.h>

typedef struct { char *p; size_t n, cap; } out_buf;

/* Appends; once full, further output is dropped and p stays terminated. */
void loco_cli_buf_add(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
