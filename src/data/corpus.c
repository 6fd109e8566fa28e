/* Corpus readers: plain text and JSON Lines, either one possibly gzipped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <zlib.h>
#include "loco/corpus.h"
#include "core/file.h"

#define CHUNK ((size_t)1 << 16)   /* bytes asked of zlib per read */

struct loco_corpus {
    gzFile gz;            /* zlib reads plain files transparently, too */
    char *path;
    int jsonl;
    char *text_field, *label_field;
    size_t limit;         /* max bytes in one line (JSONL) or the file (plain) */
    uint8_t *buf;         /* buffered input: unread bytes are buf[beg, end) */
    size_t cap, beg, end;
    int eof, failed, plain_done;
    uint64_t line;        /* lines consumed so far */
    uint64_t doc_line;    /* the line of the current document */
    cJSON *doc;           /* the current JSONL document (owns the text) */
    const char *label;
    char label_num[64];
};

/* Returns 1 if name ends with suffix. */
static int ends_with(const char *name, const char *suffix) {
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcmp(name + n - k, suffix) == 0;
}

/* Returns a malloc'd copy of s (NULL for NULL s or out of memory). */
static char *dup_str(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int loco_corpus_open_fields(loco_corpus **out, const char *path, const char *text_field,
                            const char *label_field, char *msg, size_t msglen) {
    *out = NULL;
    if (!path) {
        snprintf(msg, msglen, "corpus: no file name given");
        return LOCO_EINVAL;
    }
    loco_corpus *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(msg, msglen, "%s: out of memory", path);
        return LOCO_ENOMEM;
    }
    c->jsonl = text_field != NULL || ends_with(path, ".jsonl") || ends_with(path, ".json") ||
               ends_with(path, ".jsonl.gz") || ends_with(path, ".json.gz");
    c->path = dup_str(path);
    c->text_field = dup_str(text_field ? text_field : "text");
    c->label_field = dup_str(label_field);
    c->limit = c->jsonl ? LOCO_CORPUS_MAX_LINE : LOCO_CORPUS_MAX_TEXT;
    c->cap = CHUNK;
    c->buf = malloc(c->cap + 1);
    if (!c->path || !c->text_field || (label_field && !c->label_field) || !c->buf) {
        loco_corpus_close(c);
        snprintf(msg, msglen, "%s: out of memory", path);
        return LOCO_ENOMEM;
    }
    int fd;
    if (loco__open_input(path, &fd, NULL, msg, msglen) != LOCO_OK) {
        loco_corpus_close(c);
        return LOCO_EIO;
    }
    errno = 0;
    c->gz = gzdopen(fd, "rb");
    if (!c->gz) {
        close(fd);
        snprintf(msg, msglen, "%s: cannot open: %s", path,
                 errno ? strerror(errno) : "out of memory");
        loco_corpus_close(c);
        return LOCO_EIO;
    }
    gzbuffer(c->gz, (unsigned)CHUNK);
    *out = c;
    return LOCO_OK;
}

int loco_corpus_open(loco_corpus **out, const char *path, const char *jsonl_field,
                     char *msg, size_t msglen) {
    return loco_corpus_open_fields(out, path, jsonl_field, NULL, msg, msglen);
}

void loco_corpus_set_limit(loco_corpus *c, size_t max_bytes) {
    c->limit = max_bytes ? max_bytes : 1;
}

/* Marks the corpus failed and returns err (the message is already written). */
static int fail(loco_corpus *c, int err) {
    c->failed = err;
    return err;
}

/* Reads more input after buf[end]; returns 0, or LOCO_EIO on a zlib or read
 * error, a truncated gzip stream included. */
static int fill(loco_corpus *c, char *msg, size_t msglen) {
    size_t room = c->cap - c->end;
    if (room > CHUNK) room = CHUNK;
    int got = gzread(c->gz, c->buf + c->end, (unsigned)room);
    int zerr;
    const char *why = gzerror(c->gz, &zerr);
    if (got < 0 || (zerr != Z_OK && zerr != Z_BUF_ERROR)) {
        snprintf(msg, msglen, "%s: read error after %llu lines: %s", c->path,
                 (unsigned long long)c->line, zerr == Z_ERRNO ? strerror(errno) : why);
        return LOCO_EIO;
    }
    if (zerr == Z_BUF_ERROR) {
        /* zlib's name for a gzip stream that ends before its trailer. */
        snprintf(msg, msglen, "%s: truncated gzip file (%s)", c->path, why);
        return LOCO_EIO;
    }
    c->end += (size_t)got;
    if (got == 0) c->eof = 1;
    return 0;
}

/* Makes room after the buffered bytes: moves them to the front, then grows
 * the buffer up to limit + 1 bytes (the line and its newline).  Returns 0,
 * or LOCO_ENOMEM. */
static int make_room(loco_corpus *c, char *msg, size_t msglen) {
    if (c->beg > 0) {
        memmove(c->buf, c->buf + c->beg, c->end - c->beg);
        c->end -= c->beg;
        c->beg = 0;
    }
    if (c->end < c->cap) return 0;
    size_t want = c->cap * 2;
    if (want > c->limit + 1) want = c->limit + 1;
    if (want <= c->cap) return 0;
    uint8_t *grown = realloc(c->buf, want + 1);
    if (!grown) {
        snprintf(msg, msglen, "%s: out of memory reading line %llu (%zu bytes)", c->path,
                 (unsigned long long)c->line + 1, want);
        return LOCO_ENOMEM;
    }
    c->buf = grown;
    c->cap = want;
    return 0;
}

/* Reads the next line (without its newline), NUL-terminated in place.
 * Returns 1 and sets *line, *n; 0 at the end; a negative loco_err. */
static int read_line(loco_corpus *c, char **line, size_t *n, char *msg, size_t msglen) {
    size_t scanned = c->beg;
    for (;;) {
        uint8_t *nl = memchr(c->buf + scanned, '\n', c->end - scanned);
        size_t len = nl ? (size_t)(nl - (c->buf + c->beg)) : c->end - c->beg;
        if (len > c->limit) {
            snprintf(msg, msglen, "%s:%llu: line longer than the limit of %zu bytes", c->path,
                     (unsigned long long)c->line + 1, c->limit);
            return LOCO_EINVAL;
        }
        if (nl || (c->eof && len > 0)) {
            *line = (char *)c->buf + c->beg;
            (*line)[len] = '\0';   /* the buffer has one spare byte past cap */
            *n = len;
            c->beg += len + (nl != NULL);
            c->line++;
            return 1;
        }
        if (c->eof) return 0;
        scanned = c->end;
        size_t old_beg = c->beg;
        int err = make_room(c, msg, msglen);
        if (err) return err;
        scanned -= old_beg - c->beg;
        if (c->end == c->cap) {
            /* Full at limit + 1 bytes with no newline: the line is too long. */
            snprintf(msg, msglen, "%s:%llu: line longer than the limit of %zu bytes", c->path,
                     (unsigned long long)c->line + 1, c->limit);
            return LOCO_EINVAL;
        }
        if ((err = fill(c, msg, msglen))) return err;
    }
}

/* Returns the offset of the first byte that is not part of valid UTF-8 (no
 * overlong forms, surrogates or code points above U+10FFFF), or n. */
static size_t utf8_check(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        if (b < 0x80) { i++; continue; }
        size_t k;
        uint32_t cp, min;
        if ((b & 0xe0) == 0xc0) { k = 1; cp = b & 0x1f; min = 0x80; }
        else if ((b & 0xf0) == 0xe0) { k = 2; cp = b & 0x0f; min = 0x800; }
        else if ((b & 0xf8) == 0xf0) { k = 3; cp = b & 0x07; min = 0x10000; }
        else return i;
        if (n - i <= k) return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return i;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += k + 1;
    }
    return n;
}

/* Reads the whole plain-text file as one document.  Returns 1, 0 for an
 * empty file, or a negative loco_err. */
static int next_plain(loco_corpus *c, const uint8_t **text, size_t *len, char *msg,
                      size_t msglen) {
    if (c->plain_done) return 0;
    while (!c->eof) {
        int err = make_room(c, msg, msglen);
        if (err) return err;
        if (c->end > c->limit) break;
        if ((err = fill(c, msg, msglen))) return err;
    }
    /* The buffer stops growing at limit + 1 bytes, so a longer file shows
     * up here with more than limit bytes read. */
    if (c->end > c->limit) {
        snprintf(msg, msglen, "%s: file longer than the limit of %zu bytes for one "
                 "plain-text document (use JSON Lines)", c->path, c->limit);
        return LOCO_EINVAL;
    }
    c->plain_done = 1;
    c->line = c->doc_line = 1;
    if (c->end == 0) return 0;
    const uint8_t *nul = memchr(c->buf, 0, c->end);
    if (nul) {
        snprintf(msg, msglen, "%s: NUL byte at offset %zu: binary data, not text", c->path,
                 (size_t)(nul - c->buf));
        return LOCO_EINVAL;
    }
    size_t bad = utf8_check(c->buf, c->end);
    if (bad < c->end) {
        snprintf(msg, msglen, "%s: invalid UTF-8 at byte offset %zu: not UTF-8 text", c->path,
                 bad);
        return LOCO_EINVAL;
    }
    *text = c->buf;
    *len = c->end;
    return 1;
}

/* Returns 1 if the n bytes are all JSON whitespace. */
static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* Sets c->label from the current document's label field. */
static void read_label(loco_corpus *c) {
    c->label = NULL;
    if (!c->label_field) return;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->doc, c->label_field);
    if (cJSON_IsString(v)) c->label = v->valuestring;
    else if (cJSON_IsNumber(v)) {
        snprintf(c->label_num, sizeof c->label_num, "%.17g", v->valuedouble);
        c->label = c->label_num;
    } else if (cJSON_IsBool(v)) c->label = cJSON_IsTrue(v) ? "true" : "false";
    else if (cJSON_IsNull(v)) c->label = "null";
}

/* Reads the next JSONL document.  Returns 1, 0 at the end, or a negative loco_err. */
static int next_jsonl(loco_corpus *c, const uint8_t **text, size_t *len, char *msg,
                      size_t msglen) {
    char *line;
    size_t n;
    int r;
    while ((r = read_line(c, &line, &n, msg, msglen)) == 1 && blank(line, n)) {}
    if (r != 1) return r;
    unsigned long long ln = (unsigned long long)c->line;
    if (ln == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
        line += 3;   /* a UTF-8 byte order mark, as some editors write */
        n -= 3;
    }
    if (memchr(line, 0, n)) {
        snprintf(msg, msglen, "%s:%llu: NUL byte in the line: binary data, not JSON", c->path, ln);
        return LOCO_EINVAL;
    }
    c->doc = cJSON_ParseWithOpts(line, NULL, 1);
    if (!cJSON_IsObject(c->doc)) {
        snprintf(msg, msglen, "%s:%llu: not a JSON object", c->path, ln);
        return LOCO_EINVAL;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->doc, c->text_field);
    if (!v) {
        snprintf(msg, msglen, "%s:%llu: no field \"%s\"", c->path, ln, c->text_field);
        return LOCO_EINVAL;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        snprintf(msg, msglen, "%s:%llu: field \"%s\" is not a string", c->path, ln, c->text_field);
        return LOCO_EINVAL;
    }
    read_label(c);
    c->doc_line = c->line;
    *text = (const uint8_t *)v->valuestring;
    *len = strlen(v->valuestring);   /* a \u0000 escape ends the text early */
    return 1;
}

int loco_corpus_next(loco_corpus *c, const uint8_t **text, size_t *len, char *msg,
                     size_t msglen) {
    *text = NULL;
    *len = 0;
    if (c->failed) {
        snprintf(msg, msglen, "%s: reading after an earlier error", c->path);
        return c->failed;
    }
    cJSON_Delete(c->doc);
    c->doc = NULL;
    c->label = NULL;
    int r = c->jsonl ? next_jsonl(c, text, len, msg, msglen)
                     : next_plain(c, text, len, msg, msglen);
    return r < 0 ? fail(c, r) : r;
}

const char *loco_corpus_label(const loco_corpus *c) {
    return c->label;
}

uint64_t loco_corpus_line(const loco_corpus *c) {
    return c->doc_line;
}

void loco_corpus_close(loco_corpus *c) {
    if (!c) return;
    if (c->gz) gzclose(c->gz);
    cJSON_Delete(c->doc);
    free(c->buf);
    free(c->path);
    free(c->text_field);
    free(c->label_field);
    free(c);
}
