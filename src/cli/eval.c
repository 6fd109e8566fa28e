/*
 * `loco eval`: validation loss, perplexity and bits per byte of a checkpoint,
 * over consecutive windows of the validation split (every token is scored
 * once, with as much context as the window gives it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "loco/checkpoint.h"
#include "cli/eval_docs.h"
#include "loco/source.h"

int loco_cmd_eval(int argc, char **argv) {
    const char *ckpt = NULL, *val_shard = NULL, *data = NULL, *tokenizer = NULL;
    int B = 8, T = 0, threads = 0;
    long max_tokens = 0;
    int max_tok_i = 0;
    eval_docs_args ed = {0};
    ed.prefix = 32;
    int per_doc = 0;
    const arg_spec specs[] = {
        {"checkpoint", ARG_STR, &ckpt, 0, 0, "model checkpoint (.safetensors) to evaluate"},
        {"val-shard", ARG_STR, &val_shard, 0, 0, "token shard to evaluate on"},
        {"data", ARG_STR, &data, 0, 0, "text file (byte-level models): its last 10% is evaluated"},
        {"tokenizer", ARG_STR, &tokenizer, 0, 0, "tokenizer, for bits per byte (default: the checkpoint's)"},
        {"batch", ARG_INT, &B, 1, 4096, "sequences per forward pass"},
        {"seq-len", ARG_INT, &T, 0, LOCO_MAX_SEQ_LEN, "window length (0: the model's max_seq_len)"},
        {"max-tokens", ARG_INT, &max_tok_i, 0, 2e9, "score at most this many tokens (0: all)"},
        {"threads", ARG_INT, &threads, 0, 1024, "threads (0: OMP_NUM_THREADS or all cores)"},
        {"per-doc", ARG_INT, &per_doc, 0, 1, "1: score each document after its first --prefix tokens"},
        {"dipaco", ARG_STR, &ed.dipaco, 0, 0, "a DiPaCo model directory: route each document, run one path"},
        {"router", ARG_STR, &ed.router, 0, 0, "DiPaCo: the router file (default: the one the model names)"},
        {"prefix", ARG_INT, &ed.prefix, 1, 4096, "per-doc / DiPaCo: routing tokens, not scored (default 32)"},
        {"block", ARG_INT, &ed.block, 0, LOCO_MAX_SEQ_LEN, "per-doc / DiPaCo: targets per block (0: --seq-len)"},
        {"reroute", ARG_INT, &ed.reroute, 0, 1, "DiPaCo: 1 = choose the path again for every block"},
        {"max-docs", ARG_INT, &ed.max_docs, 0, 2e9, "per-doc / DiPaCo: score at most this many documents"},
    };
    char err[512], msg[512];
    int r = args_parse(specs, sizeof specs / sizeof specs[0], argc, argv,
                       "usage: loco eval --checkpoint FILE (--val-shard FILE | --data FILE) [flags]\n"
                       "       loco eval (--checkpoint FILE --per-doc 1 | --dipaco DIR) --val-shard FILE [flags]\n\n"
                       "Prints validation loss, perplexity and bits per byte.", err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, "loco eval: %s\n", err); return 2; }
    if (ed.dipaco || per_doc) {
        if (!ed.dipaco == !ckpt || !val_shard) {
            fprintf(stderr, "loco eval: --per-doc needs --checkpoint and --dipaco replaces it; both need "
                    "--val-shard\n");
            return 2;
        }
        loco_threads_set(threads);
        ed.checkpoint = ckpt;
        ed.val_shard = val_shard;
        ed.B = B;
        ed.T = T;
        return loco_cli_eval_docs(&ed);
    }
    if (!ckpt) { fprintf(stderr, "loco eval: --checkpoint is required\n"); return 2; }
    if (!val_shard == !data) { fprintf(stderr, "loco eval: give one of --val-shard or --data\n"); return 2; }
    max_tokens = max_tok_i;
    loco_threads_set(threads);

    loco_gpt_config cfg;
    if (loco_checkpoint_read_config(ckpt, &cfg, msg, sizeof msg)) { fprintf(stderr, "loco eval: %s\n", msg); return 1; }
    if (T == 0 || T > cfg.max_seq_len) T = cfg.max_seq_len;
    loco_source src;
    if (val_shard) {
        /* A shard alone: opened as both splits, only split 1 is read. */
        if (loco_source_open_shards(&src, val_shard, val_shard, 2, msg, sizeof msg)) {
            fprintf(stderr, "loco eval: %s\n", msg);
            return 1;
        }
    } else {
        loco_bytes_dataset d;
        if (loco_dataset_load(&d, data, 0.1, 2, msg, sizeof msg)) { fprintf(stderr, "loco eval: %s\n", msg); return 1; }
        loco_source_from_bytes(&src, &d);
    }
    if (src.vocab_size != cfg.vocab_size) {
        fprintf(stderr, "loco eval: %s has vocabulary %d but %s has %d\n", ckpt, cfg.vocab_size,
                val_shard ? val_shard : data, src.vocab_size);
        loco_source_close(&src);
        return 1;
    }
    loco_checkpoint_meta meta;
    loco_gpt *m;
    if (loco_checkpoint_load(ckpt, &m, B, T, &meta, msg, sizeof msg)) {
        fprintf(stderr, "loco eval: %s\n", msg);
        loco_source_close(&src);
        return 1;
    }
    loco_tokenizer *tok = NULL;
    const char *tspec = tokenizer ? tokenizer : (meta.tokenizer[0] ? meta.tokenizer : NULL);
    if (tspec && src.vocab_size != 256 &&
        loco_cli_model_tokenizer(&tok, tokenizer, ckpt, NULL, NULL, msg, sizeof msg)) {
        fprintf(stderr, "loco eval: %s\n", msg);
        loco_gpt_free(m);
        loco_source_close(&src);
        return 1;
    }
    if (tok && loco_tokenizer_vocab_size(tok) != cfg.vocab_size) {
        fprintf(stderr, "loco eval: tokenizer %s has vocabulary %d, the model %d\n", tspec,
                loco_tokenizer_vocab_size(tok), cfg.vocab_size);
        loco_tokenizer_free(tok);
        loco_gpt_free(m);
        loco_source_close(&src);
        return 1;
    }

    uint64_t n = loco_source_tokens(&src, 1);
    if (max_tokens > 0 && (uint64_t)max_tokens + 1 < n) n = (uint64_t)max_tokens + 1;
    int *in = malloc(sizeof(int) * (size_t)B * (T + 1)), *x = malloc(sizeof(int) * (size_t)B * T);
    int *y = malloc(sizeof(int) * (size_t)B * T);
    if (!in || !x || !y) {
        fprintf(stderr, "loco eval: out of memory for %d windows of %d tokens\n", B, T);
        free(in); free(x); free(y);
        loco_tokenizer_free(tok);
        loco_gpt_free(m);
        loco_source_close(&src);
        return 1;
    }
    double nats = 0, bytes = 0;
    uint64_t scored = 0;
    double t0 = loco_cli_now();
    for (uint64_t pos = 0; pos + 1 < n;) {
        /* Up to B windows of up to T targets each, consecutive. */
        int b = 0, len = 0;
        while (b < B && pos + 1 < n) {
            uint64_t left = n - 1 - pos;
            int l = left < (uint64_t)T ? (int)left : T;
            if (b > 0 && l != len) break;   /* a short tail goes in a batch of its own */
            len = l;
            loco_source_read(&src, 1, pos, (size_t)len + 1, in + (size_t)b * (T + 1));
            for (int t = 0; t < len; t++) {
                x[b * len + t] = in[(size_t)b * (T + 1) + t];
                y[b * len + t] = in[(size_t)b * (T + 1) + t + 1];
            }
            pos += (uint64_t)len;
            b++;
        }
        if (loco_gpt_forward(m, x, y, b, len) != LOCO_OK) {
            fprintf(stderr, "loco eval: %s holds a token outside the model's vocabulary\n",
                    val_shard ? val_shard : data);
            free(in); free(x); free(y);
            loco_tokenizer_free(tok);
            loco_gpt_free(m);
            loco_source_close(&src);
            return 1;
        }
        nats += (double)loco_gpt_loss(m) * b * len;
        scored += (uint64_t)b * len;
        /* Bits per byte count the bytes of the text itself: a document
         * boundary token stands for no text. */
        for (int i = 0; i < b * len; i++) {
            size_t l = 1;
            if (tok) {
                if (y[i] == loco_tokenizer_eot(tok)) l = 0;
                else loco_tokenizer_token(tok, y[i], &l);
            }
            bytes += (double)l;
        }
    }
    if (scored == 0) {
        fprintf(stderr, "loco eval: %s holds no token to score\n", val_shard ? val_shard : data);
        free(in); free(x); free(y);
        loco_tokenizer_free(tok);
        loco_gpt_free(m);
        loco_source_close(&src);
        return 1;
    }
    double loss = nats / (double)scored;
    printf("loco eval: %s on %s: %llu tokens in %.1f s\n", ckpt, val_shard ? val_shard : data,
           (unsigned long long)scored, loco_cli_now() - t0);
    printf("val_loss %.4f  perplexity %.3f", loss, exp(loss));
    if ((tok || src.vocab_size == 256) && bytes > 0) printf("  bits_per_byte %.4f\n", nats / bytes / log(2.0));
    else printf("  bits_per_byte n/a (give --tokenizer)\n");
    free(in); free(x); free(y);
    loco_tokenizer_free(tok);
    loco_gpt_free(m);
    loco_source_close(&src);
    return 0;
}
