/*
 * Where a tokenizer lives: tokenizer_config.json beside every saved
 * tokenizer.json (what transformers and transformers.js read first to pick
 * the tokenizer class), and finding a tokenizer recorded by a model after
 * the two were copied elsewhere together.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/file.h"
#include "tok/tok_internal.h"

/* GPT-2's own tokenizer_config.json, less what it says of the Python
 * library: the class, the special token (loco's one, the document
 * boundary), and no prefix space or added BOS, which is how loco encodes. */
static const char config_json[] =
    "{\n"
    "  \"tokenizer_class\": \"GPT2Tokenizer\",\n"
    "  \"bos_token\": \"" LOCO_TOKENIZER_EOT "\",\n"
    "  \"eos_token\": \"" LOCO_TOKENIZER_EOT "\",\n"
    "  \"unk_token\": \"" LOCO_TOKENIZER_EOT "\",\n"
    "  \"add_bos_token\": false,\n"
    "  \"add_prefix_space\": false,\n"
    "  \"clean_up_tokenization_spaces\": false\n"
    "}\n";

/* Returns LOCO_EIO with a reason naming the file. */
int loco__tok_save_config(const char *path, char *msg, size_t msglen) {
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    char *cfg = malloc(dl + sizeof "tokenizer_config.json");
    if (!cfg) {
        loco__tok_msg(msg, msglen, path, "out of memory");
        return LOCO_ENOMEM;
    }
    memcpy(cfg, path, dl);
    strcpy(cfg + dl, "tokenizer_config.json");
    loco__chunk c = {config_json, sizeof config_json - 1};
    int rc = loco__write_atomic(cfg, &c, 1, msg, msglen);
    free(cfg);
    return rc;
}

/* Loads spec as it is: "vocab.json,merges.txt" or a tokenizer.json. */
static int load_spec(loco_tokenizer **out, const char *spec, char *msg, size_t msglen) {
    const char *comma = strchr(spec, ',');
    if (!comma) return loco_tokenizer_load(out, spec, msg, msglen);
    char *vocab = strndup(spec, (size_t)(comma - spec));
    if (!vocab) {
        loco__tok_msg(msg, msglen, spec, "out of memory");
        return LOCO_ENOMEM;
    }
    int rc = loco_tokenizer_load_gpt2(out, vocab, comma + 1, msg, msglen);
    free(vocab);
    return rc;
}

/* Does every file of spec exist (stat succeeds)? */
static int exists(const char *spec) {
    struct stat st;
    const char *comma = strchr(spec, ',');
    if (!comma) return stat(spec, &st) == 0;
    char *vocab = strndup(spec, (size_t)(comma - spec));
    int ok = vocab && stat(vocab, &st) == 0 && stat(comma + 1, &st) == 0;
    free(vocab);
    return ok;
}

/* Writes into buf (cap bytes) spec with every file name prefixed by dir and,
 * if base, stripped of its own directories.  Returns 0, or -1 if it does not
 * fit. */
static int beside(char *buf, size_t cap, const char *spec, const char *dir, int base) {
    size_t n = 0;
    for (const char *item = spec; item;) {
        const char *comma = strchr(item, ',');
        size_t len = comma ? (size_t)(comma - item) : strlen(item);
        const char *name = item;
        if (base)
            for (const char *p = item; p < item + len; p++)
                if (*p == '/') name = p + 1;
        int k = snprintf(buf + n, cap - n, "%s%s/%.*s", n ? "," : "", dir, (int)(len - (size_t)(name - item)), name);
        if (k < 0 || (size_t)k >= cap - n) return -1;
        n += (size_t)k;
        item = comma ? comma + 1 : NULL;
    }
    return 0;
}

int loco_tokenizer_load_beside(loco_tokenizer **out, const char *spec, const char *dir, char *msg,
                               size_t msglen) {
    if (!out || !spec) return LOCO_EINVAL;
    *out = NULL;
    if (exists(spec) || !dir || !*dir || spec[0] == '/') return load_spec(out, spec, msg, msglen);
    char buf[8192];
    for (int base = 0; base < 2; base++)
        if (beside(buf, sizeof buf, spec, dir, base) == 0 && exists(buf)) return load_spec(out, buf, msg, msglen);
    return load_spec(out, spec, msg, msglen);   /* not found anywhere: the reason names spec */
}
