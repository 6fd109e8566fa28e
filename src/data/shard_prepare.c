/* `loco data prepare`: corpus files in, train and validation token shards out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/corpus.h"
#include "shard_internal.h"

/* Counts the non-empty documents of one input into *count; returns a
 * loco_err (reason in msg).  Reading everything once before writing anything
 * means a malformed line fails the run before any output exists, and gives
 * the document count the validation split is cut from. */
static int count_docs(const char *path, const char *field, uint64_t *count, char *msg,
                      size_t msglen) {
    loco_corpus *c;
    int err = loco_corpus_open(&c, path, field, msg, msglen);
    if (err) return err;
    const uint8_t *text;
    size_t len;
    int r;
    while ((r = loco_corpus_next(c, &text, &len, msg, msglen)) == 1) *count += len > 0;
    loco_corpus_close(c);
    return r < 0 ? r : LOCO_OK;
}

/* The state of one run: the two writers and the token buffer. */
typedef struct {
    loco_encode_fn enc;
    void *enc_ctx;
    int eot_id;
    int *ids;
    size_t cap;
    loco_shard_writer *train, *val;
} prep;

/* Encodes one document into p->ids (plus the end-of-text id) and returns
 * the number of ids, or a negative loco_err (reason in msg). */
static long encode(prep *p, const char *path, uint64_t line, const uint8_t *text, size_t n,
                   char *msg, size_t msglen) {
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t want = attempt ? 0 : n + 2;
        if (p->cap < want) {
            int *grown = realloc(p->ids, want * sizeof *grown);
            if (!grown) {
                snprintf(msg, msglen, "%s:%llu: out of memory for %zu token ids", path,
                         (unsigned long long)line, want);
                return LOCO_ENOMEM;
            }
            p->ids = grown;
            p->cap = want;
        }
        long r = p->enc(p->enc_ctx, text, n, p->ids, p->cap - 1);
        if (r < 0) {
            snprintf(msg, msglen, "%s:%llu: the tokenizer failed: %s", path,
                     (unsigned long long)line, loco_strerror((int)r));
            return r;
        }
        if ((size_t)r <= p->cap - 1) {
            if (p->eot_id >= 0) p->ids[r++] = p->eot_id;
            return r;
        }
        /* The tokenizer needs more room than one id per byte: grow once. */
        int *grown = realloc(p->ids, ((size_t)r + 1) * sizeof *grown);
        if (!grown) {
            snprintf(msg, msglen, "%s:%llu: out of memory for %ld token ids", path,
                     (unsigned long long)line, r);
            return LOCO_ENOMEM;
        }
        p->ids = grown;
        p->cap = (size_t)r + 1;
    }
    snprintf(msg, msglen, "%s:%llu: the tokenizer asked for more room twice", path,
             (unsigned long long)line);
    return LOCO_EINVAL;
}

/* Writes every document of the inputs: documents [0, n_train) to the train
 * shard, the rest to validation; a single document (n_docs == 1) is cut at
 * the token fraction 1 - val_fraction.  Returns a loco_err. */
static int write_docs(prep *p, const char *const *inputs, int n_inputs, const char *field,
                      uint64_t n_docs, uint64_t n_train, double val_fraction, char *msg,
                      size_t msglen) {
    uint64_t k = 0;
    for (int f = 0; f < n_inputs; f++) {
        loco_corpus *c;
        int err = loco_corpus_open(&c, inputs[f], field, msg, msglen);
        if (err) return err;
        const uint8_t *text;
        size_t len;
        int r;
        while ((r = loco_corpus_next(c, &text, &len, msg, msglen)) == 1) {
            if (len == 0) continue;
            long n = encode(p, inputs[f], loco_corpus_line(c), text, len, msg, msglen);
            if (n < 0) { r = (int)n; break; }
            size_t cut = (size_t)n;
            if (n_docs == 1 && val_fraction > 0) {
                cut = (size_t)n - (size_t)((double)n * val_fraction);
                if (cut == (size_t)n && n > 1) cut = (size_t)n - 1;
            } else if (k >= n_train) {
                cut = 0;
            }
            if (cut > 0 &&
                (r = loco_shard_writer_add_doc(p->train, p->ids, cut, msg, msglen)) != 0)
                break;
            if (cut < (size_t)n &&
                (r = loco_shard_writer_add_doc(p->val, p->ids + cut, (size_t)n - cut, msg,
                                               msglen)) != 0)
                break;
            k++;
        }
        loco_corpus_close(c);
        if (r < 0) return r;
    }
    return LOCO_OK;
}

/* Checks the arguments; returns LOCO_EINVAL with the reason in msg. */
static int check_args(const char *const *inputs, int n_inputs, loco_encode_fn enc,
                      int vocab_size, int eot_id, double val_fraction, const char *out_prefix,
                      char *msg, size_t msglen) {
    const char *why = NULL;
    if (!inputs || n_inputs < 1) why = "no input files";
    else if (!enc) why = "no tokenizer";
    else if (!out_prefix || !*out_prefix) why = "no output prefix";
    else if (vocab_size < 1) why = "the vocabulary size must be at least 1";
    else if (eot_id < -1 || eot_id >= vocab_size) why = "the end-of-text id is outside the vocabulary";
    else if (!(val_fraction >= 0 && val_fraction <= 1)) why = "the validation fraction must be in [0, 1]";
    if (!why) return LOCO_OK;
    snprintf(msg, msglen, "data prepare: %s", why);
    return LOCO_EINVAL;
}

/* Counts the documents of all inputs and picks how many validate; returns a
 * loco_err (LOCO_EINVAL for an empty corpus). */
static int plan(const char *const *inputs, int n_inputs, const char *field, double val_fraction,
                uint64_t *n_docs, uint64_t *n_val, char *msg, size_t msglen) {
    *n_docs = 0;
    for (int f = 0; f < n_inputs; f++) {
        int err = count_docs(inputs[f], field, n_docs, msg, msglen);
        if (err) return err;
    }
    if (*n_docs == 0) {
        if (n_inputs == 1) snprintf(msg, msglen, "%s: no documents: the corpus is empty", inputs[0]);
        else snprintf(msg, msglen, "%s and %d more: no documents: the corpus is empty", inputs[0],
                      n_inputs - 1);
        return LOCO_EINVAL;
    }
    /* round(val_fraction * n_docs), at least 1 when asked for any, never all
     * (unless all were asked for: a fraction of 1 writes a validation shard
     * alone). */
    *n_val = (uint64_t)(val_fraction * (double)*n_docs + 0.5);
    if (val_fraction > 0 && *n_val == 0) *n_val = 1;
    if (val_fraction < 1 && *n_val >= *n_docs) *n_val = *n_docs - 1;
    if (val_fraction >= 1) *n_val = *n_docs;
    return LOCO_OK;
}

int loco_data_prepare(const char *const *inputs, int n_inputs, const char *jsonl_field,
                      loco_encode_fn enc, void *enc_ctx, int vocab_size, int eot_id,
                      double val_fraction, const char *out_prefix, char *msg, size_t msglen) {
    int err = check_args(inputs, n_inputs, enc, vocab_size, eot_id, val_fraction, out_prefix,
                         msg, msglen);
    if (err) return err;
    size_t plen = strlen(out_prefix);
    char *train_path = malloc(plen + 16), *val_path = malloc(plen + 16);
    prep p = {enc, enc_ctx, eot_id, NULL, 0, NULL, NULL};
    uint64_t n_docs, n_val;
    if (!train_path || !val_path) {
        snprintf(msg, msglen, "%s: out of memory", out_prefix);
        err = LOCO_ENOMEM;
        goto done;
    }
    snprintf(train_path, plen + 16, "%s.train.bin", out_prefix);
    snprintf(val_path, plen + 16, "%s.val.bin", out_prefix);
    /* A fraction of 0 writes the train shard alone and 1 the validation shard
     * alone, so that a shard's name says what it holds.  The outputs are
     * opened first so that an unwritable path fails at once, before a pass
     * over the corpus. */
    const int want_train = val_fraction < 1, want_val = val_fraction > 0;
    if ((want_train && (err = loco_shard_writer_open(&p.train, train_path, vocab_size, msg, msglen))) ||
        (want_val && (err = loco_shard_writer_open(&p.val, val_path, vocab_size, msg, msglen))) ||
        (err = plan(inputs, n_inputs, jsonl_field, val_fraction, &n_docs, &n_val, msg,
                    msglen)) ||
        (err = write_docs(&p, inputs, n_inputs, jsonl_field, n_docs, n_docs - n_val,
                          val_fraction, msg, msglen)) ||
        (want_train && (err = loco__shard_writer_finish(p.train, msg, msglen))) ||
        (want_val && (err = loco__shard_writer_finish(p.val, msg, msglen))))
        goto done;
    /* The shards are complete on disk; only the renames are left. */
    if (want_train) err = loco__shard_writer_commit(p.train, msg, msglen);
    p.train = NULL;
    if (!err && want_val && (err = loco__shard_writer_commit(p.val, msg, msglen)) != 0 && want_train)
        remove(train_path);   /* rather neither shard than a train shard alone */
    p.val = NULL;
done:
    loco_shard_writer_abort(p.train);
    loco_shard_writer_abort(p.val);
    free(p.ids);
    free(train_path);
    free(val_path);
    return err;
}
