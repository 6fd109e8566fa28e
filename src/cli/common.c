/* Helpers shared by the loco subcommands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cli/cli.h"
#include "cli/common.h"

double loco_cli_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Creates dir and any missing parents (like mkdir -p); returns 0, or -1
 * with a reason in msg. */
int loco_cli_mkdir(const char *dir, char *msg, size_t msglen) {
    char path[4096];
    if (!*dir) {
        snprintf(msg, msglen, "--out is empty: give a directory");
        return -1;
    }
    /* Room for the longest name written inside: "/model.safetensors.tmp.PID"
     * and its kin, so that no file name is cut short. */
    if (strlen(dir) > sizeof path - 64) {
        snprintf(msg, msglen, "%.200s...: path too long (%zu bytes; at most %zu)", dir, strlen(dir),
                 sizeof path - 64);
        return -1;
    }
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            snprintf(msg, msglen, "%s: cannot create directory %s: %s", dir, path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        snprintf(msg, msglen, "%s: exists and is not a directory", dir);
        return -1;
    }
    snprintf(msg, msglen, "%s: cannot create directory: %s", dir, strerror(errno));
    return -1;
}

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

/* The network engines' event lines (loco_net_log), one per line on stderr. */
void loco_cli_net_log(void *ctx, const char *line) {
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

void loco_cli_hint(int err, char *msg, size_t msglen) {
    if (err != LOCO_ENONFINITE) return;
    const char *hint = strstr(msg, "outer step") ? "--outer-lr"
                       : strstr(msg, "worker") ? "--lr or --outer-lr" : "--lr";
    size_t n = strlen(msg);
    if (n + 1 < msglen) snprintf(msg + n, msglen - n, "; try a lower %s", hint);
}
