/*
 * Saving: a Hugging Face tokenizer.json laid out like GPT-2's on the Hub
 * (BPE model, ByteLevel pre-tokenizer and decoder, merges as "a b" strings,
 * which every `tokenizers` version reads).  The file is written to a
 * temporary name in the same directory, synced and renamed over the target,
 * so a crash leaves either the old file or the new one, never a torn one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tok/tok_internal.h"
#include "core/file.h"

/* Writes a special token's content as a JSON string; cannot fail (errors are
 * caught by ferror). */
static void write_raw_json(FILE *f, const uint8_t *p, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\') fprintf(f, "\\%c", p[i]);
        else if (p[i] < 0x20) fprintf(f, "\\u%04x", p[i]);
        else fputc(p[i], f);
    }
    fputc('"', f);
}

/* Writes a token's JSON string (specials raw, others in the byte alphabet). */
static void write_token(FILE *f, const loco_tokenizer *t, int id) {
    size_t len;
    const uint8_t *p = loco_tokenizer_token(t, id, &len);
    if (t->special[id]) {
        write_raw_json(f, p, len);
        return;
    }
    fputc('"', f);
    loco__alphabet_write(f, p, len, 1);
    fputc('"', f);
}

/* Writes the whole document; write errors show in ferror(f). */
static void write_json(FILE *f, const loco_tokenizer *t) {
    fputs("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
          "  \"added_tokens\": [", f);
    int first = 1;
    for (int id = 0; id < t->n_vocab; id++) {
        if (!t->special[id]) continue;
        fprintf(f, "%s\n    {\"id\": %d, \"content\": ", first ? "" : ",", id);
        write_token(f, t, id);
        fputs(", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
              "\"normalized\": true, \"special\": true}", f);
        first = 0;
    }
    fputs("\n  ],\n  \"normalizer\": null,\n"
          "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
          "\"trim_offsets\": true, \"use_regex\": true},\n"
          "  \"post_processor\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
          "\"trim_offsets\": false, \"use_regex\": true},\n"
          "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
          "\"trim_offsets\": true, \"use_regex\": true},\n"
          "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
          "    \"continuing_subword_prefix\": \"\",\n    \"end_of_word_suffix\": \"\",\n"
          "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"vocab\": {", f);
    for (int id = 0; id < t->n_vocab; id++) {
        fputs(id ? ",\n      " : "\n      ", f);
        write_token(f, t, id);
        fprintf(f, ": %d", id);
    }
    fputs("\n    },\n    \"merges\": [", f);
    for (int r = 0; r < t->n_merges; r++) {
        size_t la, lb;
        const uint8_t *a = loco_tokenizer_token(t, t->merge_a[r], &la);
        const uint8_t *b = loco_tokenizer_token(t, t->merge_b[r], &lb);
        fputs(r ? ",\n      \"" : "\n      \"", f);
        loco__alphabet_write(f, a, la, 1);
        fputc(' ', f);
        loco__alphabet_write(f, b, lb, 1);
        fputc('"', f);
    }
    fputs("\n    ]\n  }\n}\n", f);
}

/* Returns LOCO_EIO (reason naming path in msg) if any step of the write,
 * sync or rename fails; the temporary file is then removed. */
int loco_tokenizer_save(const loco_tokenizer *t, const char *path, char *msg, size_t msglen) {
    if (!t || !path) return LOCO_EINVAL;
    if (loco_file_check_output(path, msg, msglen) != LOCO_OK) return LOCO_EIO;
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp) {
        loco__tok_msg(msg, msglen, path, "out of memory");
        return LOCO_ENOMEM;
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        loco__tok_msg(msg, msglen, path, "cannot create a temporary file beside it: %s", strerror(errno));
        free(tmp);
        return LOCO_EIO;
    }
    /* mkstemp creates the file private (0600); a tokenizer is not secret. */
    if (fchmod(fd, 0644) != 0) { /* not fatal: the file is merely private */ }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
    } else {
        write_json(f, t);
        int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
        bad |= fclose(f) != 0;
        if (!bad && rename(tmp, path) == 0) {
            free(tmp);
            return loco__tok_save_config(path, msg, msglen);
        }
    }
    loco__tok_msg(msg, msglen, path, "write failed: %s", strerror(errno));
    unlink(tmp);
    free(tmp);
    return LOCO_EIO;
}

/* Returns NULL when memory runs out. */
char *loco_tokenizer_to_json(const loco_tokenizer *t, size_t *len) {
    char *text = NULL;
    size_t n = 0;
    FILE *f = t ? open_memstream(&text, &n) : NULL;
    if (!f) return NULL;
    write_json(f, t);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(text);
        return NULL;
    }
    if (len) *len = n;
    return text;
}
