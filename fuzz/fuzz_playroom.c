/*
 * libFuzzer target for the Playroom's episode file reader
 * (loco_playroom_file_decode).  Half of the inputs get a correct CRC-32
 * trailer first (chosen by the first byte), so that the fuzzer explores the
 * parser behind the checksum rather than the checksum alone.  What decodes
 * must encode back to the same bytes (the format has no slack) and replay
 * without crashing: replay may fail, never misbehave.
 *
 * Seeds: LLVMFuzzerInitialize writes a small valid file into each corpus
 * directory on the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "loco/playroom.h"

enum { MAX_EP = 8 };

static loco_playroom_episode eps[MAX_EP];
static loco_playroom_env *env;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    if (loco_playroom_env_create(&env)) abort();
    for (int i = 1; i < *argc; i++) {
        const char *dir = (*argv)[i];
        if (dir[0] == '-') continue;
        char path[4096], msg[256];
        snprintf(path, sizeof path, "%s/seed.bin", dir);
        if (access(path, F_OK) == 0) continue;
        for (int k = 0; k < 3; k++) loco_playroom_play(env, &eps[k], 7u + (unsigned)k, 1, -1, 40);
        loco_playroom_file_write(path, eps, 3, msg, sizeof msg);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1 << 20)) return 0;
    uint8_t *buf = malloc(size - 1 ? size - 1 : 1);
    size_t n = size - 1;
    memcpy(buf, data + 1, n);
    if ((data[0] & 1) && n >= 4) {
        uint32_t c = (uint32_t)crc32_z(0L, buf, n - 4);
        for (int i = 0; i < 4; i++) buf[n - 4 + i] = (uint8_t)(c >> (8 * i));
    }
    int got = 0;
    char msg[256];
    int err = loco_playroom_file_decode(buf, n, eps, MAX_EP, &got, msg, sizeof msg);
    if (err == LOCO_OK) {
        size_t need = loco_playroom_file_size(eps, got);
        uint8_t *again = malloc(need);
        if (need != n || loco_playroom_file_encode(eps, got, again, need) != n || memcmp(again, buf, n)) abort();
        free(again);
        for (int i = 0; i < got; i++) loco_playroom_replay(env, &eps[i], msg, sizeof msg);
    } else if (!memchr(msg, 0, sizeof msg) || strchr(msg, '\n')) {
        abort();   /* errors are one line */
    }
    free(buf);
    return 0;
}
