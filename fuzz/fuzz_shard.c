/*
 * libFuzzer target for the token shard reader: every input is written to a
 * file and opened as a shard, with and without verification; whatever opens
 * is then read end to end, so any header the checks let through must describe
 * memory that really is in the mapping (ASan and UBSan watch every access).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/shard.h"
#include "hostile_paths.h"

static int load_shard(const char *path, char *msg, size_t msglen) {
    loco_shard s;
    int e = loco_shard_open(&s, path, 0, 1, msg, msglen);
    if (!e) loco_shard_close(&s);
    return e;
}

/* Reads every token and offset of an opened shard; returns their sum so the
 * reads cannot be optimised away. */
static uint64_t read_all(const loco_shard *s) {
    uint64_t sum = 0;
    for (uint64_t i = 0; i < s->n_tokens; i++) sum += loco_shard_token(s, i);
    for (uint64_t d = 0; d <= s->n_docs; d++) sum += s->doc_offsets[d];
    int buf[64];
    size_t n = s->n_tokens < 64 ? (size_t)s->n_tokens : 64;
    loco_shard_read(s, s->n_tokens - n, n, buf);
    for (size_t i = 0; i < n; i++) sum += (uint64_t)buf[i];
    return sum;
}

/* Opens the file at path as a shard, with and without verification, and
 * reads whatever opens; aborts on a broken promise. */
static void open_and_read(const char *path) {
    char msg[256];
    for (int verify = 0; verify <= 1; verify++) {
        loco_shard s;
        int err = loco_shard_open(&s, path, 0, verify, msg, sizeof msg);
        if (err == 0) {
            volatile uint64_t sum = read_all(&s);
            (void)sum;
            if (verify) {
                /* Verification promises every token is inside the vocabulary. */
                for (uint64_t i = 0; i < s.n_tokens; i++)
                    if (loco_shard_token(&s, i) >= (uint32_t)s.vocab_size) abort();
            }
            loco_shard_close(&s);
        } else if (!strstr(msg, path) || strchr(msg, '\n')) {
            abort();   /* every error names the file, on one line */
        }
    }
}

/* Writes n bytes to path; returns 0 on success. */
static int spit(const char *path, const uint8_t *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t wrote = fwrite(data, 1, n, f);
    return (fclose(f) != 0 || wrote != n) ? -1 : 0;
}

static char path[64];

/* Removes this process's scratch file when the fuzzer exits. */
static void remove_file(void) {
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    loco_fuzz_hostile_paths(load_shard);
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/loco_fuzz_shard_%ld.bin", (long)getpid());
        atexit(remove_file);
    }
    if (spit(path, data, size) != 0) return 0;
    open_and_read(path);
    /* Again with the checksum made right, so that the checks behind it (the
     * vocabulary of every token) are reachable too. */
    if (size < LOCO_SHARD_HEADER_BYTES) return 0;
    uint8_t *copy = malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    uint64_t h = loco_fnv1a64(LOCO_FNV1A_INIT, copy + 64, size - 64);
    for (int i = 0; i < 8; i++) copy[40 + i] = (uint8_t)(h >> (8 * i));
    if (spit(path, copy, size) == 0) open_and_read(path);
    free(copy);
    return 0;
}
