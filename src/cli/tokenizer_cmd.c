/* `loco tokenizer train|encode|decode`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "loco/corpus.h"
#include "loco/file.h"

/* Reads the documents of every input into one buffer, separated by blank
 * lines, up to max_bytes.  Returns the buffer or NULL with a reason in msg. */
static uint8_t *gather(const char **inputs, int n_inputs, const char *field, size_t max_bytes,
                       size_t *n, char *msg, size_t msglen) {
    size_t cap = 1 << 20;
    uint8_t *buf = malloc(cap);
    *n = 0;
    if (!buf) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    for (int i = 0; buf && i < n_inputs && *n < max_bytes; i++) {
        loco_corpus *c;
        if (loco_corpus_open(&c, inputs[i], field, msg, msglen)) { free(buf); return NULL; }
        const uint8_t *text;
        size_t len;
        int r;
        while ((r = loco_corpus_next(c, &text, &len, msg, msglen)) == 1 && *n < max_bytes) {
            if (len > max_bytes - *n) len = max_bytes - *n;
            while (*n + len + 2 > cap) {
                uint8_t *g = realloc(buf, cap * 2);
                if (!g) { free(buf); loco_corpus_close(c); snprintf(msg, msglen, "out of memory"); return NULL; }
                buf = g;
                cap *= 2;
            }
            memcpy(buf + *n, text, len);
            *n += len;
            buf[(*n)++] = '\n';
            buf[(*n)++] = '\n';
        }
        loco_corpus_close(c);
        if (r < 0) { free(buf); return NULL; }
    }
    if (buf && *n == 0) {
        snprintf(msg, msglen, "%s: no text to train on (empty corpus)", inputs[0]);
        free(buf);
        return NULL;
    }
    return buf;
}

static int cmd_train(int argc, char **argv) {
    char *inputs_arg = NULL;
    const char *field = NULL, *out = NULL;
    int vocab = 4096, max_mb = 64;
    const arg_spec specs[] = {
        {"input", ARG_STR, &inputs_arg, 0, 0, "corpus files, comma-separated (text, .jsonl, .gz)"},
        {"field", ARG_STR, &field, 0, 0, "JSON Lines text field (default: text, for .jsonl inputs)"},
        {"vocab-size", ARG_INT, &vocab, 257, 1 << 20, "vocabulary size: 256 bytes + merges + <|endoftext|>"},
        {"max-mb", ARG_INT, &max_mb, 1, 1 << 16, "train on at most this many MiB of text"},
        {"out", ARG_STR, &out, 0, 0, "tokenizer.json to write (Hugging Face format)"},
    };
    char err[512], msg[512];
    int r = args_parse(specs, sizeof specs / sizeof specs[0], argc, argv,
                       "usage: loco tokenizer train --input FILES --vocab-size N --out FILE\n\n"
                       "Learns byte-level BPE merges.", err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, "loco tokenizer train: %s\n", err); return 2; }
    if (!inputs_arg || !out) { fprintf(stderr, "loco tokenizer train: --input and --out are required\n"); return 2; }
    const char *inputs[256];
    int n_in = loco_cli_split_list(inputs_arg, inputs, 256);
    if (n_in <= 0) {
        fprintf(stderr, "loco tokenizer train: --input must name 1 to 256 files\n");
        return 2;
    }
    size_t n;
    uint8_t *text = gather(inputs, n_in, field, (size_t)max_mb << 20, &n, msg, sizeof msg);
    if (!text) { fprintf(stderr, "loco tokenizer train: %s\n", msg); return 1; }
    double t0 = loco_cli_now();
    loco_tokenizer *t;
    if (loco_tokenizer_train(&t, text, n, vocab, msg, sizeof msg)) {
        fprintf(stderr, "loco tokenizer train: %s\n", msg);
        free(text);
        return 1;
    }
    double dt = loco_cli_now() - t0;
    int e = loco_tokenizer_save(t, out, msg, sizeof msg);
    if (e) fprintf(stderr, "loco tokenizer train: %s\n", msg);
    else printf("loco tokenizer train: %zu bytes, vocabulary %d, %.1f s; wrote %s\n", n,
                loco_tokenizer_vocab_size(t), dt, out);
    loco_tokenizer_free(t);
    free(text);
    return e ? 1 : 0;
}

/* encode and decode read --input (default standard input) and write stdout. */
static int cmd_code(int argc, char **argv, int encode) {
    const char *tspec = NULL, *input = NULL;
    const arg_spec specs[] = {
        {"tokenizer", ARG_STR, &tspec, 0, 0, "tokenizer.json, or vocab.json,merges.txt"},
        {"input", ARG_STR, &input, 0, 0, encode ? "text file (default: standard input)"
                                                : "file of whitespace-separated ids (default: standard input)"},
    };
    const char *name = encode ? "loco tokenizer encode" : "loco tokenizer decode";
    char err[512], msg[512];
    int r = args_parse(specs, 2, argc, argv,
                       encode ? "usage: loco tokenizer encode --tokenizer FILE [--input FILE]\n\nPrints token ids."
                              : "usage: loco tokenizer decode --tokenizer FILE [--input FILE]\n\nWrites the bytes of ids.",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, "%s: %s\n", name, err); return 2; }
    if (!tspec) { fprintf(stderr, "%s: --tokenizer is required\n", name); return 2; }
    loco_tokenizer *t;
    if (loco_cli_load_tokenizer(&t, tspec, msg, sizeof msg)) { fprintf(stderr, "%s: %s\n", name, msg); return 1; }
    FILE *f = input ? loco_file_open_input(input, msg, sizeof msg) : stdin;
    if (!f) {
        fprintf(stderr, "%s: %s\n", name, msg);
        loco_tokenizer_free(t);
        return 1;
    }
    size_t n;
    uint8_t *buf = loco_cli_read_all(f, &n);
    if (input) fclose(f);
    int status = 0;
    if (!buf) {
        fprintf(stderr, "%s: cannot read %s\n", name, input ? input : "standard input");
        status = 1;
    } else if (encode) {
        int *ids = malloc(sizeof(int) * (n + 1));
        long k = ids ? loco_tokenizer_encode(t, buf, n, ids, n + 1) : -1;
        if (k < 0) {
            fprintf(stderr, "%s: cannot encode %s: out of memory\n", name, input ? input : "standard input");
            status = 1;
        }
        for (long i = 0; i < k; i++) printf(i ? " %d" : "%d", ids[i]);
        if (k >= 0) printf("\n");
        free(ids);
    } else {
        uint8_t *grown = realloc(buf, n + 1);
        if (!grown) {
            fprintf(stderr, "%s: out of memory\n", name);
            free(buf);
            loco_tokenizer_free(t);
            return 1;
        }
        buf = grown;
        buf[n] = 0;
        char *p = (char *)buf;
        for (;;) {
            while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
            if (!*p) break;
            char *end;
            errno = 0;
            long id = strtol(p, &end, 10);
            if (end == p || errno || id < 0 || id >= loco_tokenizer_vocab_size(t)) {
                fprintf(stderr, "%s: '%.20s' is not a token id of %s (0..%d)\n", name, p, tspec,
                        loco_tokenizer_vocab_size(t) - 1);
                status = 1;
                break;
            }
            size_t len;
            const uint8_t *b = loco_tokenizer_token(t, (int)id, &len);
            fwrite(b, 1, len, stdout);
            p = end;
        }
    }
    free(buf);
    loco_tokenizer_free(t);
    return status;
}

int loco_cmd_tokenizer(int argc, char **argv) {
    if (argc >= 1 && !strcmp(argv[0], "train")) return cmd_train(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "encode")) return cmd_code(argc - 1, argv + 1, 1);
    if (argc >= 1 && !strcmp(argv[0], "decode")) return cmd_code(argc - 1, argv + 1, 0);
    if (argc >= 1 && !strcmp(argv[0], "convert")) return loco_cli_tokenizer_convert(argc - 1, argv + 1);
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("usage: loco tokenizer train|encode|decode|convert [flags]  (--help on each)\n");
        return 0;
    }
    fprintf(stderr, "loco tokenizer: expected train, encode, decode or convert (see loco tokenizer --help)\n");
    return 2;
}
