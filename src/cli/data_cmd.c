/* `loco data prepare`: corpus files in, train/validation token shards out. */
#include <stdio.h>
#include <string.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "loco/shard.h"

/* The two encoders behind loco_data_prepare: bytes as tokens (returns
 * LOCO_ERANGE when ids cannot hold them), or the BPE tokenizer (its count;
 * negative on failure). */
static long encode_bytes(void *ctx, const uint8_t *text, size_t n, int *ids, size_t cap) {
    (void)ctx;
    if (n > cap) return LOCO_ERANGE;
    for (size_t i = 0; i < n; i++) ids[i] = text[i];
    return (long)n;
}

static long encode_bpe(void *ctx, const uint8_t *text, size_t n, int *ids, size_t cap) {
    return loco_tokenizer_encode(ctx, text, n, ids, cap);
}

int loco_cmd_data(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "prepare") != 0) {
        if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
            printf("usage: loco data prepare [flags]  (see loco data prepare --help)\n");
            return 0;
        }
        fprintf(stderr, "loco data: expected 'prepare' (see loco data --help)\n");
        return 2;
    }
    char *inputs_arg = NULL;
    const char *field = NULL, *out = NULL, *tspec = NULL;
    int bytes = 0;
    float val_frac = 0.1f;
    const arg_spec specs[] = {
        {"input", ARG_STR, &inputs_arg, 0, 0, "corpus files, comma-separated (text, .jsonl, .gz)"},
        {"field", ARG_STR, &field, 0, 0, "JSON Lines text field (default: text, for .jsonl inputs)"},
        {"tokenizer", ARG_STR, &tspec, 0, 0, "tokenizer.json, or vocab.json,merges.txt"},
        {"bytes", ARG_INT, &bytes, 0, 1, "1: byte-level tokens (vocabulary 256) instead of a tokenizer"},
        {"val-frac", ARG_FLOAT, &val_frac, 0, 1, "fraction of documents (the last ones) for validation; "
                                                 "0: PREFIX.train.bin alone, 1: PREFIX.val.bin alone"},
        {"out", ARG_STR, &out, 0, 0, "output prefix: writes PREFIX.train.bin and PREFIX.val.bin"},
    };
    char err[512], msg[512];
    int r = args_parse(specs, sizeof specs / sizeof specs[0], argc - 1, argv + 1,
                       "usage: loco data prepare --input FILES (--tokenizer FILE | --bytes 1) --out PREFIX\n\n"
                       "Tokenizes a corpus into train and validation shards.", err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, "loco data prepare: %s\n", err); return 2; }
    if (!inputs_arg || !out) { fprintf(stderr, "loco data prepare: --input and --out are required\n"); return 2; }
    if (!tspec == !bytes) { fprintf(stderr, "loco data prepare: give one of --tokenizer or --bytes 1\n"); return 2; }
    const char *inputs[256];
    int n_in = loco_cli_split_list(inputs_arg, inputs, 256);
    if (n_in <= 0) {
        fprintf(stderr, "loco data prepare: --input must name 1 to 256 files\n");
        return 2;
    }
    loco_tokenizer *t = NULL;
    if (tspec && loco_cli_load_tokenizer(&t, tspec, msg, sizeof msg)) {
        fprintf(stderr, "loco data prepare: %s\n", msg);
        return 1;
    }
    double t0 = loco_cli_now();
    int e = loco_data_prepare(inputs, n_in, field, t ? encode_bpe : encode_bytes, t,
                              t ? loco_tokenizer_vocab_size(t) : 256, t ? loco_tokenizer_eot(t) : -1,
                              val_frac, out, msg, sizeof msg);
    if (e) {
        fprintf(stderr, "loco data prepare: %s\n", msg);
    } else {
        printf("loco data prepare: %.1f s", loco_cli_now() - t0);
        static const char *const split[2] = {"train", "val"};
        for (int k = 0; k < 2; k++) {
            if ((k == 0 && val_frac >= 1) || (k == 1 && val_frac <= 0)) continue;   /* not written */
            loco_shard sh;
            char p[4096];
            snprintf(p, sizeof p, "%s.%s.bin", out, split[k]);
            if (loco_shard_open(&sh, p, 0, 0, msg, sizeof msg) != 0) continue;
            printf("; %s: %llu docs, %llu tokens", p, (unsigned long long)sh.n_docs,
                   (unsigned long long)sh.n_tokens);
            loco_shard_close(&sh);
        }
        printf("\n");
    }
    loco_tokenizer_free(t);
    return e ? 1 : 0;
}
