/*
 * Helpers shared by the GPT-2 and Hugging Face loaders (tok/load.c).  Each
 * writes "<file>: <problem>" into msg when it fails.
 */
#ifndef LOCO_TOK_LOAD_INTERNAL_H
#define LOCO_TOK_LOAD_INTERNAL_H

#include <cjson/cJSON.h>
#include "tok/tok_internal.h"

/* Ids above this are rejected: no real vocabulary comes near it. */
#define LOCO__MAX_VOCAB (1 << 24)

/* The vocabulary being loaded: token texts by id, before decoding. */
typedef struct {
    const char **text;   /* n entries; NULL where no token has that id yet */
    uint8_t *special;
    int n;
} loco__vocab;

/* Reads a whole file into a NUL-terminated buffer.  Returns LOCO_EIO if it
 * cannot be read, is empty or exceeds 1 GiB, LOCO_ENOMEM if memory runs out. */
int loco__read_file(const char *path, char **out, size_t *len, char *msg, size_t msglen);

/* Parses JSON text; returns NULL (reason with the error's byte offset in msg). */
cJSON *loco__parse_json(const char *text, size_t len, const char *path, char *msg, size_t msglen);

/* Gives id idj (a JSON number) to token text; returns LOCO_EINVAL if idj is not
 * an integer in [0, v->n) or the id already has a different text. */
int loco__vocab_set(loco__vocab *v, const cJSON *idj, const char *text, int special,
                    const char *path, const char *where, char *msg, size_t msglen);

/* Returns the largest valid id among the items (the items themselves, or
 * their "id" fields if in_objects), or -1 if there is none. */
int loco__max_id(const cJSON *items, int in_objects);

/* Decodes the vocabulary texts into a new tokenizer with room for max_merges
 * merges; returns LOCO_EINVAL on a missing id or a character outside the byte
 * alphabet, LOCO_ENOMEM if memory runs out. */
int loco__vocab_build(loco_tokenizer **out, const loco__vocab *v, int max_merges,
                      const char *path, char *msg, size_t msglen);

/* Maps the non-special tokens' bytes to ids; returns LOCO_EINVAL if two
 * tokens have the same bytes or a byte has no token, LOCO_ENOMEM. */
int loco__token_map(const loco_tokenizer *t, loco__strmap *m, const char *path,
                    char *msg, size_t msglen);

/* Appends the merge of texts a and b (resolved through m) to t's list;
 * returns LOCO_EINVAL if a side is not a token, LOCO_ENOMEM. */
int loco__add_merge(loco_tokenizer *t, loco__strmap *m, const char *a, size_t la,
                    const char *b, size_t lb, long line, const char *path, char *msg,
                    size_t msglen);

/* Finds the single space of "a b"; returns -1 unless there is exactly one,
 * with text on both sides. */
int loco__split_merge(const char *s, size_t len, size_t *sp);

#endif
