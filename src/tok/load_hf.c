/*
 * Hugging Face tokenizer.json with a byte-level BPE model, such as GPT-2's
 * and RoBERTa's, or the file loco_tokenizer_save writes.  The pipeline must
 * be the one loco implements (no normalizer, the ByteLevel pre-tokenizer with
 * GPT-2's pattern and no prefix space, plain merges); anything else would
 * encode differently from `tokenizers`, so it is refused with the reason.
 */
#include <stdlib.h>
#include <string.h>
#include "tok/load_internal.h"

/* Returns the string member `key` of object o, or NULL. */
static const char *str_member(const cJSON *o, const char *key) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* Returns 1 if o's boolean member `key` is true. */
static int is_true(const cJSON *o, const char *key) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Returns LOCO_EINVAL naming the first part of the pipeline loco does not
 * implement, else LOCO_OK. */
static int check_pipeline(const cJSON *j, const cJSON *model, const char *path,
                          char *msg, size_t msglen) {
    const char *type = str_member(model, "type");
    if (type && strcmp(type, "BPE")) {
        loco__tok_msg(msg, msglen, path, "model.type is \"%.40s\", not \"BPE\"", type);
        return LOCO_EINVAL;
    }
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(j, "normalizer");
    if (norm && !cJSON_IsNull(norm)) {
        loco__tok_msg(msg, msglen, path, "has a normalizer; only byte-level BPE without one is supported");
        return LOCO_EINVAL;
    }
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(j, "pre_tokenizer");
    const char *ptype = str_member(pre, "type");
    if (!ptype || strcmp(ptype, "ByteLevel")) {
        loco__tok_msg(msg, msglen, path, "pre_tokenizer is %s%.40s%s, not ByteLevel",
                      ptype ? "\"" : "", ptype ? ptype : "missing", ptype ? "\"" : "");
        return LOCO_EINVAL;
    }
    const cJSON *use_regex = cJSON_GetObjectItemCaseSensitive(pre, "use_regex");
    if (is_true(pre, "add_prefix_space") || cJSON_IsFalse(use_regex)) {
        loco__tok_msg(msg, msglen, path,
                      "ByteLevel pre_tokenizer needs add_prefix_space false and use_regex true");
        return LOCO_EINVAL;
    }
    const char *pfx = str_member(model, "continuing_subword_prefix");
    const char *sfx = str_member(model, "end_of_word_suffix");
    if ((pfx && *pfx) || (sfx && *sfx) || is_true(model, "ignore_merges")) {
        loco__tok_msg(msg, msglen, path,
                      "model uses a subword prefix, word suffix or ignore_merges, which loco lacks");
        return LOCO_EINVAL;
    }
    return LOCO_OK;
}

/* Reads one merge, a string "a b" or a pair ["a", "b"]; returns 0, or -1 if
 * it is neither. */
static int merge_sides(const cJSON *it, const char **a, size_t *la, const char **b, size_t *lb) {
    if (cJSON_IsString(it)) {
        size_t len = strlen(it->valuestring), sp;
        if (loco__split_merge(it->valuestring, len, &sp)) return -1;
        *a = it->valuestring; *la = sp;
        *b = it->valuestring + sp + 1; *lb = len - sp - 1;
        return 0;
    }
    const cJSON *x = cJSON_GetArrayItem(it, 0), *y = cJSON_GetArrayItem(it, 1);
    if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 2 || !cJSON_IsString(x) || !cJSON_IsString(y))
        return -1;
    *a = x->valuestring; *la = strlen(x->valuestring);
    *b = y->valuestring; *lb = strlen(y->valuestring);
    return 0;
}

/* Returns LOCO_EINVAL or LOCO_ENOMEM with the reason (naming path) in msg. */
int loco_tokenizer_load_json(loco_tokenizer **out, const char *text, size_t len, const char *path,
                             char *msg, size_t msglen) {
    if (!out || !text) return LOCO_EINVAL;
    *out = NULL;
    if (!path) path = "tokenizer.json";
    cJSON *j = NULL;
    loco__vocab v = {0};
    loco_tokenizer *t = NULL;
    loco__strmap m = {0};
    int rc = LOCO_EINVAL;
    if (!(j = loco__parse_json(text, len, path, msg, msglen))) goto done;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    const cJSON *vj = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *mj = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(j, "added_tokens");
    if (!cJSON_IsObject(j) || !cJSON_IsObject(model)) {
        loco__tok_msg(msg, msglen, path, "no \"model\" object: not a tokenizer.json");
        goto done;
    }
    if (!cJSON_IsObject(vj) || !vj->child || !cJSON_IsArray(mj)) {
        loco__tok_msg(msg, msglen, path, "model.vocab must be a non-empty object and model.merges an array");
        goto done;
    }
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added)) {
        loco__tok_msg(msg, msglen, path, "added_tokens must be an array");
        goto done;
    }
    if ((rc = check_pipeline(j, model, path, msg, msglen))) goto done;
    int n1 = loco__max_id(vj, 0), n2 = cJSON_IsArray(added) ? loco__max_id(added, 1) : -1;
    v.n = (n1 > n2 ? n1 : n2) + 1;
    v.text = calloc((size_t)v.n + 1, sizeof *v.text);
    v.special = calloc((size_t)v.n + 1, 1);
    if (!v.text || !v.special) goto oom;
    const cJSON *it;
    cJSON_ArrayForEach(it, vj) {
        rc = loco__vocab_set(&v, it, it->string ? it->string : "", 0, path, "model.vocab", msg, msglen);
        if (rc) goto done;
    }
    /* Added tokens are special: encoding never produces them from text, and
     * decoding writes their content as it is. */
    if (cJSON_IsArray(added)) cJSON_ArrayForEach(it, added) {
        const char *content = str_member(it, "content");
        if (!content) {
            loco__tok_msg(msg, msglen, path, "an added_tokens entry has no string \"content\"");
            rc = LOCO_EINVAL;
            goto done;
        }
        rc = loco__vocab_set(&v, cJSON_GetObjectItemCaseSensitive(it, "id"), content, 1, path,
                             "added_tokens", msg, msglen);
        if (rc) goto done;
    }
    if ((rc = loco__vocab_build(&t, &v, cJSON_GetArraySize(mj) + 1, path, msg, msglen))) goto done;
    if ((rc = loco__token_map(t, &m, path, msg, msglen))) goto done;
    long k = 0;
    cJSON_ArrayForEach(it, mj) {
        const char *a, *b;
        size_t la, lb;
        k++;
        if (merge_sides(it, &a, &la, &b, &lb)) {
            loco__tok_msg(msg, msglen, path, "merge %ld is not \"a b\" or [\"a\", \"b\"]", k);
            rc = LOCO_EINVAL;
            goto done;
        }
        if ((rc = loco__add_merge(t, &m, a, la, b, lb, k, path, msg, msglen))) goto done;
    }
    rc = loco__tok_finish(out, t, path, msg, msglen);
    t = NULL;
    goto done;
oom:
    rc = LOCO_ENOMEM;
    loco__tok_msg(msg, msglen, path, "out of memory");
done:
    loco_tokenizer_free(t);
    loco__strmap_free(&m);
    free(v.text); free(v.special);
    cJSON_Delete(j);
    return rc;
}

/* Returns LOCO_EIO, LOCO_EINVAL or LOCO_ENOMEM with the reason in msg. */
int loco_tokenizer_load_hf(loco_tokenizer **out, const char *path, char *msg, size_t msglen) {
    if (!out || !path) return LOCO_EINVAL;
    *out = NULL;
    char *text = NULL;
    size_t len;
    int rc = loco__read_file(path, &text, &len, msg, msglen);
    if (!rc) rc = loco_tokenizer_load_json(out, text, len, path, msg, msglen);
    free(text);
    return rc;
}

/* Returns what loco_tokenizer_load_hf returns: loco's format is tokenizer.json. */
int loco_tokenizer_load(loco_tokenizer **out, const char *path, char *msg, size_t msglen) {
    return loco_tokenizer_load_hf(out, path, msg, msglen);
}
