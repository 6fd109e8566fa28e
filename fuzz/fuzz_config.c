/* libFuzzer target: the --config file parser, with every kind of flag. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "../src/cli/args.c"
#include "hostile_paths.h"

static int i_;
static float f_;
static uint64_t u_;
static const char *s_;
static const arg_spec specs_[] = {
    {"layers", ARG_INT, &i_, -1e9, 1e9, ""},
    {"lr", ARG_FLOAT, &f_, 0, 10, ""},
    {"seed", ARG_U64, &u_, 0, 1.8e19, ""},
    {"data", ARG_STR, &s_, 0, 0, ""},
};

static int load_config(const char *path, char *msg, size_t msglen) {
    int e = args_parse_file(specs_, 4, path, msg, msglen);
    args_free_config();
    return e;
}

/* Parses data written to a scratch file, after prefix; returns the parser's
 * result. */
static int parse_as_file(const char *prefix, const uint8_t *data, size_t size) {
    char path[] = "/tmp/loco_fuzz_config_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -2;
    size_t np = strlen(prefix);
    if (write(fd, prefix, np) != (ssize_t)np || write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return -2;
    }
    close(fd);
    char err[256];
    int rc = args_parse_file(specs_, 4, path, err, sizeof err);
    unlink(path);
    args_free_config();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    loco_fuzz_hostile_paths(load_config);
    int plain = parse_as_file("", data, size);
    /* A UTF-8 byte order mark in front changes nothing (unless the input
     * starts with one itself: then the second is text). */
    int bom = parse_as_file("\xEF\xBB\xBF", data, size);
    if (plain != -2 && bom != -2 && plain != bom && !(size >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))) abort();
    return 0;
}
