#ifndef LOCO_TESTS_UTIL_H
#define LOCO_TESTS_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "loco/split.h"
/* The loco command under test: $LOCO_BIN if set, else ./loco (build-cuda/loco
 * in a CUDA build). */
const char *loco_test_bin(void);
/* Runs "$LOCO_BIN ARGS" (default ./loco) with stdout discarded; returns its exit status (-1 if it
 * died from a signal) and its stderr in err. */
int loco_test_run(const char *args, char *err, size_t errlen);
/* Max |a - b| over max |b|: an error relative to the tensor's scale, which is
 * what fp32 rounding produces (per-element relative error is meaningless for
 * gradient entries that are near zero by cancellation). */
double loco_test_rel_err(const float *a, const float *b, size_t n);
/* Returns 1 if two files exist and have identical bytes. */
int loco_test_same_file(const char *a, const char *b);
/* Writes all of buf; returns 0, or -1 on a write error. */
int loco_test_put(FILE *f, const void *buf, size_t bytes);
/* Runs LOCO_TEST_PYTHON script in out (a PyTorch reference); returns its exit
 * status, or -1 if it could not be started or did not exit normally. */
int loco_test_python(const char *script, const char *in, const char *out);
/* Runs a reference script (see loco_test_python) whose exit status 3 means it
 * cannot import `module`; returns its exit status, and for a non-zero one a
 * one-line reason in why (naming the Debian package for status 3). */
int loco_test_reference(const char *script, const char *in, const char *out, const char *module, char *why,
                        size_t n);
/* K i.i.d. shards of a small patterned corpus: n_docs documents of doc_len
 * tokens below vocab, every fifth token pattern with a third of them
 * replaced at random (rng seeded with seed).  toks (n_docs * doc_len) and
 * offs (n_docs + 1) are the caller's and must outlive the split; NULL on
 * failure. */
loco_split *loco_test_patterned_shards(int K, uint64_t seed, int n_docs, int doc_len, int vocab, uint16_t *toks,
                                       uint64_t *offs);

#endif
