/* Token sources: one sampling interface over bytes and token shards. */
#include <stdio.h>
#include <string.h>
#include "loco/source.h"

int loco_source_open_shards(loco_source *s, const char *train_path, const char *val_path,
                            uint64_t min_tokens, char *msg, size_t msglen) {
    memset(s, 0, sizeof *s);
    s->is_shards = 1;
    int e = loco_shard_open(&s->train, train_path, 0, 1, msg, msglen);
    if (e) return e;
    e = loco_shard_open(&s->val, val_path, 0, 1, msg, msglen);
    if (e) {
        loco_shard_close(&s->train);
        return e;
    }
    /* Neither shard is the wrong one alone: they disagree. */
    if (s->val.vocab_size != s->train.vocab_size) {
        snprintf(msg, msglen, "%.200s has vocabulary %d but %.200s has %d: the two shards were made with different "
                 "tokenizers", train_path, s->train.vocab_size, val_path, s->val.vocab_size);
        loco_source_close(s);
        return LOCO_EINVAL;
    }
    s->vocab_size = s->train.vocab_size;
    const char *small = s->train.n_tokens < min_tokens ? train_path
                      : s->val.n_tokens < min_tokens ? val_path : NULL;
    if (small) {
        snprintf(msg, msglen, "%s: %llu tokens is too few: a window needs %llu (seq_len + 1)", small,
                 (unsigned long long)(small == train_path ? s->train.n_tokens : s->val.n_tokens),
                 (unsigned long long)min_tokens);
        loco_source_close(s);
        return LOCO_EINVAL;
    }
    return LOCO_OK;
}

void loco_source_from_bytes(loco_source *s, loco_bytes_dataset *d) {
    memset(s, 0, sizeof *s);
    s->bytes = *d;
    s->vocab_size = 256;
    memset(d, 0, sizeof *d);
}

void loco_source_close(loco_source *s) {
    if (s->is_shards) {
        loco_shard_close(&s->train);
        loco_shard_close(&s->val);
    } else {
        loco_dataset_free(&s->bytes);
    }
    memset(s, 0, sizeof *s);
}

uint64_t loco_source_tokens(const loco_source *s, int split) {
    if (s->is_shards) return split ? s->val.n_tokens : s->train.n_tokens;
    return split ? s->bytes.n - s->bytes.n_train : s->bytes.n_train;
}

void loco_source_read(const loco_source *s, int split, uint64_t start, size_t n, int *out) {
    if (s->is_shards) {
        loco_shard_read(split ? &s->val : &s->train, start, n, out);
        return;
    }
    const uint8_t *p = s->bytes.bytes + (split ? s->bytes.n_train : 0) + start;
    for (size_t i = 0; i < n; i++) out[i] = p[i];
}

void loco_source_batch(const loco_source *s, int split, loco_rng *rng, int B, int T,
                       int *tokens, int *targets) {
    uint64_t span = loco_source_tokens(s, split) - (uint64_t)T;   /* window starts */
    for (int b = 0; b < B; b++) {
        uint64_t start = loco_rng_u64(rng) % span;
        /* Read T + 1 tokens: the window into tokens[b], shifted into targets[b]. */
        loco_source_read(s, split, start, (size_t)T, tokens + (size_t)b * T);
        loco_source_read(s, split, start + 1, (size_t)T, targets + (size_t)b * T);
    }
}
