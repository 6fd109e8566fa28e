/*
 * Token shards: a binary file of token ids and document boundaries, read by
 * mmap.  The byte layout (docs/shards.md), all little-endian:
 *
 *   0  magic "LOCOTOK\0"      8 bytes
 *   8  version (1)            u32
 *  12  vocab_size             u32, 1 .. 2^31-1
 *  16  token_bytes            u32, 2 (uint16, only when vocab_size <= 65536) or 4
 *  20  flags                  u32, 0
 *  24  n_tokens               u64
 *  32  n_docs                 u64
 *  40  checksum               u64, 64-bit FNV-1a of every byte after the header
 *  48  reserved               16 zero bytes
 *  64  tokens                 n_tokens * token_bytes, zero-padded to a multiple of 8
 *   .. doc offsets            (n_docs + 1) u64: document d is tokens [off[d], off[d+1])
 *
 * The file length must be exactly what the header implies.
 */
#ifndef LOCO_SHARD_H
#define LOCO_SHARD_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCO_SHARD_MAGIC "LOCOTOK"   /* 8 bytes with its NUL */
#define LOCO_SHARD_VERSION 1
#define LOCO_SHARD_HEADER_BYTES 64

/* ---------------------------------------------------------------- writing */

typedef struct loco_shard_writer loco_shard_writer;

/* Starts a shard at path: tokens go to a temporary file in the same
 * directory, renamed onto path only by a successful close, so an existing
 * file at path is never damaged by a failed write.  Returns LOCO_EINVAL for a
 * vocab_size outside [1, 2^31-1], LOCO_EIO if the temporary file cannot be
 * created (the reason names path), LOCO_ENOMEM. */
int loco_shard_writer_open(loco_shard_writer **w, const char *path, int vocab_size,
                           char *msg, size_t msglen);

/* Appends one document of n token ids.  Returns LOCO_EINVAL (nothing written)
 * if an id is outside [0, vocab_size), LOCO_EIO on a write error, LOCO_ENOMEM;
 * after an error the writer only accepts close or abort. */
int loco_shard_writer_add_doc(loco_shard_writer *w, const int *ids, size_t n,
                              char *msg, size_t msglen);

/* Writes the offsets table and header, fsyncs, and renames the temporary
 * file onto path; frees w in every case.  Returns LOCO_EIO (the temporary
 * file removed, path untouched) or the writer's earlier error. */
int loco_shard_writer_close(loco_shard_writer *w, char *msg, size_t msglen);

/* Discards the shard: removes the temporary file and frees w (NULL is fine). */
void loco_shard_writer_abort(loco_shard_writer *w);

/* ---------------------------------------------------------------- reading */

typedef struct {
    int vocab_size;
    int token_bytes;              /* 2 or 4 */
    uint64_t n_tokens, n_docs;
    uint64_t checksum;            /* as stored in the header */
    const void *tokens;           /* n_tokens little-endian uint16 or uint32 */
    const uint64_t *doc_offsets;  /* n_docs + 1 entries, [0] = 0, [n_docs] = n_tokens */
    void *map_;                   /* mmap bookkeeping */
    size_t map_len_;
} loco_shard;

/* Maps a shard and checks its header against the file length (magic,
 * version, token width, counts, with no overflow) and its document offsets
 * (0 first, non-decreasing, n_tokens last).  With verify_checksum it also
 * checks the checksum and that every token is below vocab_size (one pass
 * over the file).  expected_vocab > 0 must equal the shard's vocab_size.
 * Returns LOCO_EIO (cannot open or map), LOCO_EINVAL (a malformed or
 * mismatched shard: msg names the file and the field), and leaves *s zeroed. */
int loco_shard_open(loco_shard *s, const char *path, int expected_vocab,
                    int verify_checksum, char *msg, size_t msglen);

/* Unmaps the shard (a zeroed or already closed shard is fine). */
void loco_shard_close(loco_shard *s);

/* Token i (i < n_tokens). */
static inline uint32_t loco_shard_token(const loco_shard *s, uint64_t i) {
    return s->token_bytes == 2 ? ((const uint16_t *)s->tokens)[i]
                               : ((const uint32_t *)s->tokens)[i];
}

/* Copies tokens [start, start + n) as ints; the range must lie in the shard. */
void loco_shard_read(const loco_shard *s, uint64_t start, size_t n, int *out);

/* 64-bit FNV-1a of n bytes continuing from h (start from LOCO_FNV1A_INIT). */
#define LOCO_FNV1A_INIT 0xcbf29ce484222325ULL
uint64_t loco_fnv1a64(uint64_t h, const void *data, size_t n);

/* ---------------------------------------------------------------- prepare */

/* A tokenizer as a callback: encodes n bytes of text into at most cap ids and
 * returns how many ids the text needs.  A return above cap means ids was too
 * small (its contents are then unspecified) and the caller retries with that
 * capacity; a negative return is a loco_err. */
typedef long (*loco_encode_fn)(void *ctx, const uint8_t *text, size_t n, int *ids,
                               size_t cap);

/* `loco data prepare`: reads every document of the inputs (see corpus.h;
 * jsonl_field as in loco_corpus_open), encodes it, appends eot_id (if >= 0)
 * after it, and writes <out_prefix>.train.bin and <out_prefix>.val.bin.  The
 * validation shard gets the last round(val_fraction * documents) documents
 * (at least one when val_fraction > 0, never all); a corpus of one document
 * is cut inside it instead, its last val_fraction of tokens going to
 * validation.  Empty documents are skipped.  val_fraction in [0, 1]: 0 writes
 * the train shard alone, 1 the validation shard alone (every document), and
 * any other file at those paths is left as it is.  Both shards appear only if
 * both were written.
 * Returns LOCO_EINVAL (an empty corpus, a malformed input, a token id outside
 * the vocabulary, bad arguments), LOCO_EIO (unreadable input, unwritable
 * output), LOCO_ENOMEM, or the encoder's error; msg names the file. */
int loco_data_prepare(const char *const *inputs, int n_inputs, const char *jsonl_field,
                      loco_encode_fn enc, void *enc_ctx, int vocab_size, int eot_id,
                      double val_fraction, const char *out_prefix, char *msg,
                      size_t msglen);

#ifdef __cplusplus
}
#endif
#endif
