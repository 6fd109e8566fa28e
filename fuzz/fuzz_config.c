/* libFuzzer target: the --config file parser, with every kind of flag. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "../src/cli/args.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[] = "/tmp/loco_fuzz_config_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) { close(fd); unlink(path); return 0; }
    close(fd);
    int i = 0;
    float f = 0;
    uint64_t u = 0;
    const char *s = NULL;
    const arg_spec specs[] = {
        {"layers", ARG_INT, &i, -1e9, 1e9, ""},
        {"lr", ARG_FLOAT, &f, 0, 10, ""},
        {"seed", ARG_U64, &u, 0, 1.8e19, ""},
        {"data", ARG_STR, &s, 0, 0, ""},
    };
    char err[256];
    args_parse_file(specs, 4, path, err, sizeof err);
    unlink(path);
    args_free_config();
    return 0;
}
