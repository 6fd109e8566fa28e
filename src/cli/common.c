/* Helpers shared by the loco subcommands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/common.h"

int loco_cli_load_tokenizer(loco_tokenizer **t, const char *spec, char *msg, size_t msglen) {
    return loco_tokenizer_load_beside(t, spec, NULL, msg, msglen);
}

int loco_cli_split_list(char *list, const char **items, int max) {
    int n = 0;
    for (char *p = strtok(list, ","); p; p = strtok(NULL, ",")) {
        if (n == max) return -1;
        items[n++] = p;
    }
    return n;
}

uint8_t *loco_cli_read_all(FILE *f, size_t *n) {
    size_t cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    *n = 0;
    while (buf) {
        *n += fread(buf + *n, 1, cap - *n, f);
        if (*n < cap) break;
        uint8_t *grown = realloc(buf, cap * 2);
        if (!grown) free(buf);
        buf = grown;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    return buf;
}
