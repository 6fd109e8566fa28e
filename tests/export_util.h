/* Helpers of the export tests (tests/test_export*.c): a small trained
 * tokenizer and model, scratch directories and whole-file reads. */
#ifndef LOCO_TESTS_EXPORT_UTIL_H
#define LOCO_TESTS_EXPORT_UTIL_H
#include <stddef.h>
#include "loco/loco.h"
#include "loco/tokenizer.h"

/* Pseudo-English of n bytes (words from syllables, punctuation, digits,
 * contractions, a little non-ASCII), malloc'd and NUL-terminated. */
char *loco_xt_text(size_t n, uint64_t seed);
/* A byte-level BPE tokenizer of vocabulary V trained on loco_xt_text. */
loco_tokenizer *loco_xt_tokenizer(int V);
/* A model of vocabulary V after a few AdamW steps on random tokens, so that
 * no bias or gain is at its initial value; room for B x T. */
loco_gpt *loco_xt_model(const loco_gpt_config *cfg, int B, int T, uint64_t seed);
/* mkdtemp of /tmp/loco_<tag>_XXXXXX into buf (64 bytes); NULL on failure. */
char *loco_xt_dir(char *buf, const char *tag);
void loco_xt_rmdir(const char *dir);
/* The malloc'd contents of path, NUL-terminated (length in *n), or NULL. */
char *loco_xt_slurp(const char *path, size_t *n);
int loco_xt_spit(const char *path, const void *b, size_t n);
/* Runs a shell command, capturing up to cap - 1 bytes of its stdout;
 * returns its exit status (-1 if it did not exit normally). */
int loco_xt_capture(const char *cmd, char *out, size_t cap);
#endif
