/*
 * Corpus readers: iterate the documents of a text file.
 *
 * Two layouts are understood.  Plain text: the whole file is one document.
 * JSON Lines (the C4 layout): one JSON object per line, the document being
 * one string field of it ("text" by default); an optional second field is a
 * label (Brown's "category", C4's "url", a year), for splits by label.
 * Either layout may be gzip-compressed; gzip is detected by its magic bytes
 * (1f 8b), not by the name, and decompressed on the fly with zlib.
 *
 * Every read is bounded: a JSONL line longer than LOCO_CORPUS_MAX_LINE or a
 * plain-text file longer than LOCO_CORPUS_MAX_TEXT is an error, never an
 * unbounded allocation.  Errors name the file (and line) and the problem.
 */
#ifndef LOCO_CORPUS_H
#define LOCO_CORPUS_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCO_CORPUS_MAX_LINE ((size_t)64 << 20)   /* bytes in one JSONL line */
#define LOCO_CORPUS_MAX_TEXT ((size_t)256 << 20)  /* bytes in one plain-text file */

typedef struct loco_corpus loco_corpus;

/* Opens a corpus file.  jsonl_field names the text field of a JSON Lines
 * file; NULL means JSONL with field "text" if the path ends in .jsonl, .json,
 * .jsonl.gz or .json.gz, and plain text otherwise.  Returns LOCO_EIO if the
 * file cannot be opened, LOCO_ENOMEM; the reason, naming the file, is in msg. */
int loco_corpus_open(loco_corpus **out, const char *path, const char *jsonl_field,
                     char *msg, size_t msglen);

/* As loco_corpus_open, and also reads label_field (may be NULL) of each JSONL
 * document, for loco_corpus_label.  text_field NULL picks the layout by name
 * as above.  Returns the same errors as loco_corpus_open. */
int loco_corpus_open_fields(loco_corpus **out, const char *path, const char *text_field,
                            const char *label_field, char *msg, size_t msglen);

/* Lowers (or raises) the byte limit on one JSONL line or one plain-text file
 * before the first loco_corpus_next; mainly for tests. */
void loco_corpus_set_limit(loco_corpus *c, size_t max_bytes);

/* Reads the next document: returns 1 and sets *text and *len (valid until the
 * next call or close), 0 at the end of the file.  Blank JSONL lines are
 * skipped; an empty plain-text file has no documents.  On failure returns
 * LOCO_EINVAL (a line that is not a JSON object, a missing or non-string
 * field, a NUL byte or invalid UTF-8 in plain text, a line or file over the
 * limit), LOCO_EIO (a read or gzip error, a truncated gzip stream) or
 * LOCO_ENOMEM, with "file:line: problem" in msg; the corpus then stays failed. */
int loco_corpus_next(loco_corpus *c, const uint8_t **text, size_t *len,
                     char *msg, size_t msglen);

/* The label of the current document as a string (a JSON number is printed,
 * true/false/null spelled out), or NULL when no label field was asked for or
 * the document lacks it.  Valid until the next call to loco_corpus_next. */
const char *loco_corpus_label(const loco_corpus *c);

/* The 1-based line number of the current document (1 for plain text). */
uint64_t loco_corpus_line(const loco_corpus *c);

void loco_corpus_close(loco_corpus *c);

#ifdef __cplusplus
}
#endif
#endif
