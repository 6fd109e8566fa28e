/*
 * Internals of the byte-level BPE tokenizer: its representation, two small
 * open-addressing hash maps, GPT-2's byte alphabet and the pre-tokenizer.
 */
#ifndef LOCO_TOK_INTERNAL_H
#define LOCO_TOK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "loco/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* ------------------------------------------------------------ hash maps */

/* uint64 key -> uint64 value; the key ~0 is reserved for empty slots. */
typedef struct {
    uint64_t *keys, *vals;
    size_t cap, n;   /* cap is a power of two, kept at most half full */
} loco__u64map;

int loco__u64map_init(loco__u64map *m, size_t expected);
void loco__u64map_free(loco__u64map *m);
/* Inserts or overwrites key; returns LOCO_ENOMEM if growing fails. */
int loco__u64map_put(loco__u64map *m, uint64_t key, uint64_t val);
/* Returns a pointer to key's value, or NULL if key is absent. */
uint64_t *loco__u64map_get(const loco__u64map *m, uint64_t key);

/* Byte string -> int; the strings are not copied: they must outlive the map. */
typedef struct {
    const uint8_t **keys;
    uint32_t *lens;
    int *vals;
    uint64_t *hashes;
    size_t cap, n;
} loco__strmap;

int loco__strmap_init(loco__strmap *m, size_t expected);
void loco__strmap_free(loco__strmap *m);
/* Inserts key -> val unless present; *existing (if not NULL) receives the
 * value already there or -1.  Returns LOCO_ENOMEM if growing fails. */
int loco__strmap_put(loco__strmap *m, const uint8_t *key, size_t len, int val, int *existing);
/* Returns key's value, or -1 if absent. */
int loco__strmap_get(const loco__strmap *m, const uint8_t *key, size_t len);
uint64_t loco__hash_bytes(const uint8_t *p, size_t n);

/* ------------------------------------------------------------ tokenizer */

struct loco_tokenizer {
    int n_vocab;
    uint32_t *tok_off;     /* n_vocab + 1 offsets into tok_bytes */
    uint8_t *tok_bytes;    /* every token's raw bytes, concatenated */
    uint8_t *special;      /* n_vocab flags: special tokens are never produced by merges */
    int eot;
    int byte_id[256];      /* the id of each single-byte token */
    int n_merges;
    int *merge_a, *merge_b;  /* the merges, by rank */
    loco__u64map merges;   /* (a << 32 | b) -> (rank << 32 | merged id) */
    loco__strmap tok_map;  /* non-special token bytes -> id */
    pcre2_code *re;        /* GPT-2's pre-tokenization pattern, JIT-compiled */
};

/* Allocates an empty tokenizer with n_vocab tokens of total_bytes bytes
 * (offsets and flags zeroed) and room for max_merges merges; returns NULL if
 * memory runs out. */
loco_tokenizer *loco__tok_alloc(int n_vocab, size_t total_bytes, int max_merges);

/* Completes a tokenizer whose tokens (tok_off, tok_bytes, special) and merge
 * list are filled: builds the maps, checks that every byte has a token, that
 * non-special tokens are distinct and that each merge's result is a token,
 * finds or appends <|endoftext|> and compiles the pattern.  `name` names the
 * file in messages.  Returns LOCO_EINVAL (reason in msg) or LOCO_ENOMEM; t is
 * freed on failure. */
int loco__tok_finish(loco_tokenizer **out, loco_tokenizer *t, const char *name,
                     char *msg, size_t msglen);

/* ------------------------------------------------------------ byte alphabet */

/* GPT-2's bytes_to_unicode(): byte b is written as code point loco__b2u[b]
 * (the printable bytes as themselves, the rest shifted to 256..323). */
extern const uint16_t loco__b2u[256];
/* Returns the byte written as code point cp, or -1 if cp is not in the alphabet. */
int loco__u2b(uint32_t cp);
/* Decodes a UTF-8 string of the byte alphabet into bytes (out needs len
 * bytes); returns the byte count, or -1 on a character outside the alphabet
 * or invalid UTF-8. */
long loco__alphabet_decode(const char *s, size_t len, uint8_t *out);
/* Writes the alphabet form of n bytes to f (JSON-escaped if json is set). */
void loco__alphabet_write(FILE *f, const uint8_t *p, size_t n, int json);

/* ------------------------------------------------------------ pre-tokenizer */

/* Compiles GPT-2's pattern (UTF, UCP, invalid UTF-8 allowed; JIT when
 * available); returns NULL on failure. */
pcre2_code *loco__pretok_compile(void);

/* Calls fn(start, len, ctx) for each pre-token of text in order; pre-tokens
 * cover the text exactly.  Stops and returns fn's value if it is non-zero;
 * returns LOCO_ENOMEM if match data cannot be allocated, else 0. */
typedef int (*loco__pretok_fn)(const uint8_t *p, size_t len, void *ctx);
int loco__pretok_each(const pcre2_code *re, const uint8_t *text, size_t n,
                      loco__pretok_fn fn, void *ctx);

/* BPE of one pre-token into ids (at most len of them, written to ids);
 * returns the count or LOCO_ENOMEM. */
long loco__bpe_word(const loco_tokenizer *t, const uint8_t *p, size_t len, int *ids);

/* Writes tokenizer_config.json (atomically) in the directory of the
 * tokenizer.json at path.  Returns LOCO_EIO with a reason naming it. */
int loco__tok_save_config(const char *path, char *msg, size_t msglen);

/* Writes "name: reason" into msg (if not NULL). */
void loco__tok_msg(char *msg, size_t msglen, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
