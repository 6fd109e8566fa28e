/*
 * libFuzzer target for the corpus readers: every input is written to a file
 * and read as JSON Lines (with a label field), as plain text, and, when it
 * starts with the gzip magic, through zlib.  A small line limit makes the
 * too-long-line path reachable; errors must name the file on one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/corpus.h"
#include "hostile_paths.h"

static int load_corpus(const char *path, char *msg, size_t msglen) {
    loco_corpus *c = NULL;
    int e = loco_corpus_open(&c, path, NULL, msg, msglen);
    if (!e) loco_corpus_close(c);
    return e;
}

/* Reads every document of path in the given layout; aborts if an error
 * message does not name the file or a document breaks the reader's promises. */
static void read_all(const char *path, const char *field, size_t limit) {
    loco_corpus *c;
    char msg[256];
    if (loco_corpus_open_fields(&c, path, field, "label", msg, sizeof msg) != 0) abort();
    loco_corpus_set_limit(c, limit);
    const uint8_t *t;
    size_t n;
    int r;
    volatile unsigned sum = 0;
    while ((r = loco_corpus_next(c, &t, &n, msg, sizeof msg)) == 1) {
        for (size_t i = 0; i < n; i++) sum += t[i];
        const char *label = loco_corpus_label(c);
        if (label) sum += (unsigned)strlen(label);
    }
    if (r < 0 && (!strstr(msg, path) || strchr(msg, '\n'))) abort();
    loco_corpus_close(c);
}

static char jl[64], txt[64];

/* Removes this process's scratch files when the fuzzer exits. */
static void remove_files(void) {
    unlink(jl);
    unlink(txt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    loco_fuzz_hostile_paths(load_corpus);
    if (!jl[0]) {
        atexit(remove_files);
        snprintf(jl, sizeof jl, "/tmp/loco_fuzz_corpus_%ld.jsonl", (long)getpid());
        snprintf(txt, sizeof txt, "/tmp/loco_fuzz_corpus_%ld.txt", (long)getpid());
    }
    const char *paths[2] = {jl, txt};
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(paths[k], "wb");
        if (!f) return 0;
        size_t wrote = fwrite(data, 1, size, f);
        fclose(f);
        if (wrote != size) return 0;
    }
    read_all(jl, NULL, 1000);
    read_all(jl, "body", 1u << 20);
    read_all(txt, NULL, 1000);
    return 0;
}
