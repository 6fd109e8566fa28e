/*
 * Byte-level BPE tokenizer, compatible with GPT-2 and Hugging Face.
 *
 * Text is first split into pre-tokens by GPT-2's pattern
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * (PCRE2, Unicode properties).  Bytes that are not valid UTF-8 match nothing;
 * each run of them becomes a pre-token of its own, so every byte string is
 * encoded and decodes back exactly.  Each pre-token is then split into bytes
 * and merged by the ranked merge list, exactly as GPT-2's encoder.py does.
 *
 * Vocabulary of a trained tokenizer: ids 0..255 are the bytes, then one id per
 * learned merge, then <|endoftext|>, the document-boundary token, last.
 * Files use GPT-2's byte-to-unicode alphabet, so they load in GPT-2 code and
 * in Hugging Face `tokenizers`.  A tokenizer is immutable once built, so one
 * may be shared by threads.
 */
#ifndef LOCO_TOKENIZER_H
#define LOCO_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct loco_tokenizer loco_tokenizer;

/* The document-boundary token's text. */
#define LOCO_TOKENIZER_EOT "<|endoftext|>"

/* Learns merges from text until the vocabulary (256 bytes + merges + 1
 * special) holds vocab_size tokens.  Returns LOCO_EINVAL if vocab_size < 257,
 * or if the text allows fewer merges than needed (reason in msg), LOCO_ENOMEM
 * if memory runs out. */
int loco_tokenizer_train(loco_tokenizer **out, const uint8_t *text, size_t n,
                         int vocab_size, char *msg, size_t msglen);

/* Loads GPT-2's vocab.json + merges.txt pair.  A vocabulary without
 * <|endoftext|> gets it appended as a new last id.  Returns LOCO_EIO if a file
 * cannot be read, LOCO_EINVAL if one does not parse or is inconsistent (reason
 * in msg, naming the file), LOCO_ENOMEM if memory runs out. */
int loco_tokenizer_load_gpt2(loco_tokenizer **out, const char *vocab_json,
                             const char *merges_txt, char *msg, size_t msglen);

/* Loads a Hugging Face tokenizer.json whose model is byte-level BPE; the
 * added_tokens become special tokens.  Returns LOCO_EIO, LOCO_EINVAL or
 * LOCO_ENOMEM as loco_tokenizer_load_gpt2 does. */
int loco_tokenizer_load_hf(loco_tokenizer **out, const char *tokenizer_json,
                           char *msg, size_t msglen);

/* Loads a tokenizer saved by loco_tokenizer_save (a tokenizer.json); returns
 * what loco_tokenizer_load_hf returns. */
int loco_tokenizer_load(loco_tokenizer **out, const char *path, char *msg, size_t msglen);

/* Loads a tokenizer.json held in memory (len bytes of text); name stands
 * for the file in messages.  A NUL character in the text, raw or escaped,
 * is refused (LOCO_EINVAL), as every other JSON reader refuses or keeps it.
 * Returns LOCO_EINVAL or LOCO_ENOMEM as loco_tokenizer_load_hf does. */
int loco_tokenizer_load_json(loco_tokenizer **out, const char *text, size_t len, const char *name,
                             char *msg, size_t msglen);

/* Loads spec, a tokenizer.json or "vocab.json,merges.txt", as given (from
 * the working directory) and, if a relative name is not found there, from
 * dir/spec and then dir/<file name of spec> (dir may be NULL): a tokenizer
 * recorded by a model is found beside the model after both were moved.
 * Returns what the loaders return, with the reason of the first attempt. */
int loco_tokenizer_load_beside(loco_tokenizer **out, const char *spec, const char *dir, char *msg,
                               size_t msglen);

/* Writes t as a Hugging Face tokenizer.json, atomically (a temporary file in
 * the same directory, fsync, rename), and tokenizer_config.json in the same
 * directory (GPT2Tokenizer, <|endoftext|> as BOS, EOS and UNK), so that
 * transformers and transformers.js load the directory as it is.  Returns
 * LOCO_EIO on a write failure (reason in msg, naming the file), LOCO_ENOMEM
 * if memory runs out. */
int loco_tokenizer_save(const loco_tokenizer *t, const char *path, char *msg, size_t msglen);

/* The tokenizer.json text loco_tokenizer_save writes, in a malloc'd,
 * NUL-terminated buffer of *len bytes (len may be NULL); NULL when memory
 * runs out. */
char *loco_tokenizer_to_json(const loco_tokenizer *t, size_t *len);

/* Number of token ids, special tokens included. */
int loco_tokenizer_vocab_size(const loco_tokenizer *t);

/* Id of <|endoftext|>, the document-boundary token. */
int loco_tokenizer_eot(const loco_tokenizer *t);

/* Number of merges (ranked pairs) in t. */
int loco_tokenizer_num_merges(const loco_tokenizer *t);

/* Encodes n bytes of text into ids.  Special-token text inside `text` is
 * encoded as ordinary text: a document boundary is inserted by the caller as
 * the id loco_tokenizer_eot().  ids may be NULL with cap 0 to only count.
 * Returns the number of ids the text encodes to; if that exceeds cap, only
 * the first cap are written (call again with a larger buffer).  Returns
 * LOCO_EINVAL if t is NULL (or text or ids is NULL with a non-zero size),
 * LOCO_ENOMEM if scratch memory runs out. */
long loco_tokenizer_encode(const loco_tokenizer *t, const uint8_t *text, size_t n,
                           int *ids, size_t cap);

/* Decodes ids into bytes (special tokens become their text).  out may be NULL
 * with cap 0 to only count.  Returns the number of bytes the ids decode to
 * (only the first cap are written), or LOCO_EINVAL if an id is out of range. */
long loco_tokenizer_decode(const loco_tokenizer *t, const int *ids, size_t n,
                           uint8_t *out, size_t cap);

/* The bytes of token id (special tokens: their text) and their count in *len;
 * NULL if id is out of range. */
const uint8_t *loco_tokenizer_token(const loco_tokenizer *t, int id, size_t *len);

void loco_tokenizer_free(loco_tokenizer *t);

#ifdef __cplusplus
}
#endif
#endif
