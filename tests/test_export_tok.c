/*
 * Tokenizers and models that travel: a checkpoint carries its tokenizer, a
 * saved tokenizer.json has tokenizer_config.json beside it, `loco tokenizer
 * convert` turns GPT-2's pair into one file, JSON with a NUL is refused, and
 * `loco train --init` starts from a Hugging Face GPT-2 folder, including one
 * laid out as transformers saves it (bfloat16, "transformer." names, mask
 * buffers, lm_head).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "export_util.h"
#include "loco/checkpoint.h"
#include "loco/export.h"
#include "test.h"
#include "util.h"

/* Do t and u encode text to the same ids? */
static int same_ids(const loco_tokenizer *t, const loco_tokenizer *u, const char *text) {
    size_t n = strlen(text);
    int *a = malloc(sizeof(int) * (n + 1)), *b = malloc(sizeof(int) * (n + 1));
    long ka = a ? loco_tokenizer_encode(t, (const uint8_t *)text, n, a, n + 1) : -1;
    long kb = b ? loco_tokenizer_encode(u, (const uint8_t *)text, n, b, n + 1) : -2;
    int same = ka == kb && ka > 0 && !memcmp(a, b, sizeof(int) * (size_t)ka) &&
               loco_tokenizer_vocab_size(t) == loco_tokenizer_vocab_size(u);
    free(a);
    free(b);
    return same;
}

LOCO_TEST(ckpt_carries_tokenizer) {
    enum { V = 300, T = 16 };
    char dir[64] = "", path[200], msg[512] = "", cmd[800], out[4096];
    loco_tokenizer *tok = loco_xt_tokenizer(V), *got = NULL;
    loco_gpt_config cfg = {.max_seq_len = T, .vocab_size = V, .n_layer = 1, .n_head = 2, .channels = 16};
    loco_gpt *m = loco_xt_model(&cfg, 1, T, 2);
    char *text = loco_xt_text(3000, 5);
    if (!tok || !m || !text || !loco_xt_dir(dir, "ctok")) {
        FAIL("setup");
        goto done;
    }
    loco_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    loco_adamw_config_default(&meta.opt, 10);
    snprintf(meta.tokenizer, sizeof meta.tokenizer, "somewhere/else/tokenizer.json");
    meta.tokenizer_json = loco_tokenizer_to_json(tok, NULL);
    snprintf(path, sizeof path, "%s/alone.safetensors", dir);
    CHECK(loco_checkpoint_save(path, m, &meta, 0, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    free((char *)meta.tokenizer_json);
    /* Embedded: found although the recorded path names nothing. */
    CHECK(loco_checkpoint_load_tokenizer(path, &got, msg, sizeof msg) == LOCO_OK && got, "load: %s", msg);
    CHECK(got && same_ids(tok, got, text), "the embedded tokenizer encodes differently");
    loco_tokenizer_free(got);
    got = NULL;
    /* loco sample finds it too, from another working directory. */
    snprintf(cmd, sizeof cmd, "cd / && %s%s sample --checkpoint %s --prompt 'the' --temperature 0 --tokens 4 "
             "--threads 1 2>&1", loco_test_bin()[0] == '/' ? "" : "$OLDPWD/", loco_test_bin(), path);
    CHECK(loco_xt_capture(cmd, out, sizeof out) == 0, "loco sample: %s", out);

    /* Not embedded (a checkpoint of an older loco): the recorded relative
     * path is looked for beside the checkpoint, by its name too. */
    memset(&meta, 0, sizeof meta);
    loco_adamw_config_default(&meta.opt, 10);
    snprintf(meta.tokenizer, sizeof meta.tokenizer, "run/tok/tokenizer.json");
    snprintf(path, sizeof path, "%s/old.safetensors", dir);
    CHECK(loco_checkpoint_save(path, m, &meta, 0, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    CHECK(loco_checkpoint_load_tokenizer(path, &got, msg, sizeof msg) != LOCO_OK && strstr(msg, "tokenizer.json"),
          "a missing tokenizer must fail naming it: %s", msg);
    snprintf(cmd, sizeof cmd, "%s/tokenizer.json", dir);
    CHECK(loco_tokenizer_save(tok, cmd, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(loco_checkpoint_load_tokenizer(path, &got, msg, sizeof msg) == LOCO_OK && got, "beside: %s", msg);
    CHECK(got && same_ids(tok, got, text), "the tokenizer beside the checkpoint encodes differently");
    /* Every saved tokenizer.json has tokenizer_config.json beside it. */
    snprintf(cmd, sizeof cmd, "%s/tokenizer_config.json", dir);
    char *cfgtext = loco_xt_slurp(cmd, NULL);
    cJSON *j = cfgtext ? cJSON_Parse(cfgtext) : NULL;
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(j, "tokenizer_class");
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(j, "eos_token");
    CHECK(cJSON_IsString(cls) && !strcmp(cls->valuestring, "GPT2Tokenizer") && cJSON_IsString(eos) &&
          !strcmp(eos->valuestring, LOCO_TOKENIZER_EOT), "tokenizer_config.json: %s", cfgtext ? cfgtext : "missing");
    cJSON_Delete(j);
    free(cfgtext);
    /* A byte-level checkpoint has no tokenizer, which is no error. */
    memset(&meta, 0, sizeof meta);
    loco_adamw_config_default(&meta.opt, 10);
    CHECK(loco_checkpoint_save(path, m, &meta, 0, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    loco_tokenizer_free(got);
    got = (loco_tokenizer *)1;
    CHECK(loco_checkpoint_load_tokenizer(path, &got, msg, sizeof msg) == LOCO_OK && !got, "bytes: %s", msg);
done:
    if (dir[0]) loco_xt_rmdir(dir);
    free(text);
    loco_tokenizer_free(tok);
    loco_gpt_free(m);
}

/* Writes t's GPT-2 pair, vocab.json and merges.txt, from its tokenizer.json
 * (the vocabulary without the added tokens, the merges one a line). */
static int write_gpt2_pair(const loco_tokenizer *t, const char *vocab, const char *merges) {
    char *json = loco_tokenizer_to_json(t, NULL);
    cJSON *j = json ? cJSON_Parse(json) : NULL;
    cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(model, "vocab");
    cJSON *mg = cJSON_GetObjectItemCaseSensitive(model, "merges");
    cJSON_DeleteItemFromObjectCaseSensitive(v, LOCO_TOKENIZER_EOT);
    char *vt = v ? cJSON_PrintUnformatted(v) : NULL;
    FILE *f = fopen(merges, "w");
    int ok = vt && f && loco_xt_spit(vocab, vt, strlen(vt)) == 0;
    if (f) {
        fprintf(f, "#version: 0.2\n");
        const cJSON *it;
        cJSON_ArrayForEach(it, mg) fprintf(f, "%s\n", it->valuestring);
        ok &= fclose(f) == 0;
    }
    free(vt);
    cJSON_Delete(v);
    cJSON_Delete(j);
    free(json);
    return ok ? 0 : -1;
}

LOCO_TEST(tokenizer_convert_cli) {
    char dir[64] = "", vj[128], mt[128], tj[128], a[600], err[1024], msg[512];
    loco_tokenizer *tok = loco_xt_tokenizer(400), *back = NULL;
    char *text = loco_xt_text(5000, 8);
    if (!tok || !text || !loco_xt_dir(dir, "conv")) {
        FAIL("setup");
        goto done;
    }
    snprintf(vj, sizeof vj, "%s/vocab.json", dir);
    snprintf(mt, sizeof mt, "%s/merges.txt", dir);
    snprintf(tj, sizeof tj, "%s/out/tokenizer.json", dir);
    CHECK(write_gpt2_pair(tok, vj, mt) == 0, "write the GPT-2 pair");
    snprintf(a, sizeof a, "%s/out", dir);
    mkdir(a, 0755);
    snprintf(a, sizeof a, "tokenizer convert --vocab %s --merges %s --out %s", vj, mt, tj);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "loco %s: %s", a, err);
    CHECK(loco_tokenizer_load(&back, tj, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(back && same_ids(tok, back, text), "the converted tokenizer encodes differently");
    snprintf(a, sizeof a, "%s/out/tokenizer_config.json", dir);
    struct stat st;
    CHECK(stat(a, &st) == 0 && S_ISREG(st.st_mode), "no tokenizer_config.json beside the converted file");
    snprintf(a, sizeof a, "tokenizer convert --vocab %s --out %s", vj, tj);
    CHECK(loco_test_run(a, err, sizeof err) == 2 && strstr(err, "--merges"), "missing --merges: %s", err);
    snprintf(a, sizeof a, "tokenizer convert --vocab %s --merges %s/none.txt --out %s", vj, dir, tj);
    CHECK(loco_test_run(a, err, sizeof err) == 1 && strstr(err, "none.txt"), "missing merges file: %s", err);
done:
    if (dir[0]) loco_xt_rmdir(dir);
    free(text);
    loco_tokenizer_free(tok);
    loco_tokenizer_free(back);
}

/* Returns a malloc'd copy of s (length n) with the first `what` replaced by
 * `with` (wn bytes, may hold a NUL); *out_n is the new length. */
static char *splice(const char *s, size_t n, const char *what, const char *with, size_t wn, size_t *out_n) {
    const char *at = strstr(s, what);
    if (!at) return NULL;
    size_t k = (size_t)(at - s), wl = strlen(what);
    char *o = malloc(n - wl + wn + 1);
    memcpy(o, s, k);
    memcpy(o + k, with, wn);
    memcpy(o + k + wn, at + wl, n - k - wl + 1);
    *out_n = n - wl + wn;
    return o;
}

LOCO_TEST(tokenizer_refuses_nul) {
    loco_tokenizer *tok = loco_xt_tokenizer(300), *t = NULL;
    size_t n = 0, m = 0;
    char *json = tok ? loco_tokenizer_to_json(tok, &n) : NULL, msg[512] = "";
    if (!json) {
        FAIL("setup");
        loco_tokenizer_free(tok);
        return;
    }
    /* The first merge, "a b", gets a NUL at its end: cJSON would read "a b"
     * and the file would load as if nothing were there. */
    const char *first = strstr(json, "\"merges\": [\n      \"");
    CHECK(first != NULL, "no merges in the saved file");
    const char *q = first ? strchr(first + 19, '"') : NULL;
    char merge[64];
    snprintf(merge, sizeof merge, "%.*s\"", q ? (int)(q - first - 19) : 0, first ? first + 19 : "");
    char with[72];
    size_t wn = (size_t)snprintf(with, sizeof with, "%s", merge);
    with[wn - 1] = 0;   /* ... ar\0" */
    with[wn] = '"';
    char *raw = splice(json, n, merge, with, wn + 1, &m);
    CHECK(raw && loco_tokenizer_load_json(&t, raw, m, "raw.json", msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, "NUL") && strstr(msg, "raw.json"), "a raw NUL must be refused: %s", msg);
    loco_tokenizer_free(t);
    t = NULL;
    free(raw);
    char esc[72];
    snprintf(esc, sizeof esc, "%.*s\\u0000\"", (int)strlen(merge) - 1, merge);
    raw = splice(json, n, merge, esc, strlen(esc), &m);
    CHECK(raw && loco_tokenizer_load_json(&t, raw, m, "esc.json", msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, "NUL"), "an escaped NUL must be refused: %s", msg);
    loco_tokenizer_free(t);
    t = NULL;
    free(raw);
    /* An escaped backslash followed by "u0000" is text, not a NUL. */
    char added[160];
    snprintf(added, sizeof added, "\"added_tokens\": [\n    {\"id\": 300, \"content\": \"<x\\\\u0000>\", "
             "\"special\": true},");
    raw = splice(json, n, "\"added_tokens\": [", added, strlen(added), &m);
    CHECK(raw && loco_tokenizer_load_json(&t, raw, m, "ok.json", msg, sizeof msg) == LOCO_OK && t &&
          loco_tokenizer_vocab_size(t) == 301, "\\\\u0000 is no NUL: %s", msg);
    loco_tokenizer_free(t);
    free(raw);
    /* Through the command: one line, exit 1. */
    char dir[64], path[128], a[300], err[1024];
    if (loco_xt_dir(dir, "nul")) {
        snprintf(path, sizeof path, "%s/tokenizer.json", dir);
        raw = splice(json, n, merge, with, wn + 1, &m);
        CHECK(raw && loco_xt_spit(path, raw, m) == 0, "write");
        snprintf(a, sizeof a, "tokenizer encode --tokenizer %s --input %s", path, path);
        CHECK(loco_test_run(a, err, sizeof err) == 1 && strstr(err, "NUL") && strchr(err, '\n') == err + strlen(err) - 1,
              "loco %s: %s", a, err);
        free(raw);
        loco_xt_rmdir(dir);
    }
    free(json);
    loco_tokenizer_free(tok);
}

LOCO_TEST(train_init_from_hf) {
    enum { V = 300, T = 32 };
    char dir[64] = "", a[1600], err[2048], msg[512] = "", p[200];
    loco_tokenizer *tok = loco_xt_tokenizer(V);
    loco_gpt_config cfg = {.max_seq_len = T, .vocab_size = V, .n_layer = 2, .n_head = 2, .channels = 32};
    loco_gpt *m = loco_xt_model(&cfg, 2, T, 6), *r = NULL;
    char *text = loco_xt_text(60000, 12);
    if (!tok || !m || !text || !loco_xt_dir(dir, "init")) {
        FAIL("setup");
        goto done;
    }
    snprintf(p, sizeof p, "%s/hf", dir);
    mkdir(p, 0755);
    CHECK(loco_export_hf(p, m, tok, LOCO_EXPORT_F32, msg, sizeof msg) == LOCO_OK, "%s", msg);
    /* Many documents (JSON Lines), for DiLoCo's split. */
    snprintf(p, sizeof p, "%s/text.jsonl", dir);
    FILE *f = fopen(p, "w");
    size_t len = strlen(text);
    for (size_t at = 0; f && at < len; at += 2000) {
        char keep = text[at + 2000 < len ? at + 2000 : len];
        text[at + 2000 < len ? at + 2000 : len] = 0;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "text", text + at);
        char *line = cJSON_PrintUnformatted(o);
        fprintf(f, "%s\n", line);
        cJSON_free(line);
        cJSON_Delete(o);
        text[at + 2000 < len ? at + 2000 : len] = keep;
    }
    CHECK(f && fclose(f) == 0, "write %s", p);
    snprintf(a, sizeof a, "data prepare --input %s --tokenizer %s/hf/tokenizer.json --out %s/s", p, dir, dir);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "loco %s: %s", a, err);
    /* A learning rate of zero leaves the parameters as they started: the
     * run's checkpoint must hold the folder's parameters bit for bit. */
    snprintf(a, sizeof a, "train --init %s/hf --train-shard %s/s.train.bin --val-shard %s/s.val.bin --tokenizer "
             "%s/hf/tokenizer.json --batch 2 --seq-len 16 --steps 2 --lr 0 --warmup 0 --eval-every 0 --threads 1 "
             "--out %s/run", dir, dir, dir, dir, dir);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "loco %s: %s", a, err);
    snprintf(p, sizeof p, "%s/run/model.safetensors", dir);
    CHECK(loco_checkpoint_load(p, &r, 1, T, NULL, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(r && !memcmp(&cfg, loco_gpt_get_config(r), sizeof cfg), "the run's model shape is not the folder's");
    CHECK(r && !memcmp(loco_gpt_params(r), loco_gpt_params(m), loco_gpt_num_params(m) * sizeof(float)),
          "--init did not start from the folder's parameters");
    /* The same warm start for a simulated DiLoCo run. */
    snprintf(a, sizeof a, "train --algo diloco --workers 2 --inner-steps 1 --init %s/hf --train-shard %s/s.train.bin "
             "--val-shard %s/s.val.bin --batch 2 --seq-len 16 --steps 1 --threads 1 --eval-every 0", dir, dir, dir);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "loco %s: %s", a, err);
    snprintf(a, sizeof a, "train --init %s/hf --resume %s --train-shard %s/s.train.bin --val-shard %s/s.val.bin",
             dir, p, dir, dir);
    CHECK(loco_test_run(a, err, sizeof err) == 2 && strstr(err, "--init"), "--init with --resume: %s", err);
    /* A folder loco cannot run is refused with the key that says why. */
    snprintf(p, sizeof p, "%s/hf/config.json", dir);
    char *c = loco_xt_slurp(p, NULL);
    char *g = c ? strstr(c, "gelu_new") : NULL;
    if (g) {
        memcpy(g, "relu    ", 8);
        CHECK(loco_xt_spit(p, c, strlen(c)) == 0, "write");
        snprintf(a, sizeof a, "train --init %s/hf --train-shard %s/s.train.bin --val-shard %s/s.val.bin --steps 1",
                 dir, dir, dir);
        CHECK(loco_test_run(a, err, sizeof err) == 1 && strstr(err, "activation_function"), "relu: %s", err);
    }
    free(c);
done:
    if (dir[0]) loco_xt_rmdir(dir);
    free(text);
    loco_tokenizer_free(tok);
    loco_gpt_free(m);
    loco_gpt_free(r);
}

/* The bfloat16 nearest to x, ties to even (torch's rounding). */
static float bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    u = (u + 0x7fffu + ((u >> 16) & 1)) & 0xffff0000u;
    memcpy(&x, &u, 4);
    return x;
}

LOCO_TEST(hf_import_transformers_layout) {
    enum { V = 300, T = 16 };
    char dir[64] = "", p[200], cmd[800], msg[512] = "";
    loco_tokenizer *tok = loco_xt_tokenizer(V);
    loco_gpt_config cfg = {.max_seq_len = T, .vocab_size = V, .n_layer = 2, .n_head = 2, .channels = 16};
    loco_gpt *m = loco_xt_model(&cfg, 1, T, 8), *r = NULL;
    if (!tok || !m || !loco_xt_dir(dir, "hfin")) {
        FAIL("setup");
        goto done;
    }
    snprintf(p, sizeof p, "%s/hf", dir);
    mkdir(p, 0755);
    CHECK(loco_export_hf(p, m, tok, LOCO_EXPORT_F32, msg, sizeof msg) == LOCO_OK, "%s", msg);
    /* What GPT2LMHeadModel.save_pretrained writes, in bfloat16: the
     * "transformer." prefix, attention-mask buffers and a tied lm_head. */
    snprintf(cmd, sizeof cmd, "%s tests/ref_export.py --as-saved-by-transformers %s/hf %s/hub %s/untied",
             LOCO_TEST_PYTHON, dir, dir, dir);
    fflush(NULL);
    CHECK(system(cmd) == 0, "%s", cmd);
    snprintf(p, sizeof p, "%s/hub", dir);
    CHECK(loco_hf_load(p, &r, 1, T, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (r) {
        const float *a = loco_gpt_params(r), *b = loco_gpt_params(m);
        size_t bad = 0;
        for (size_t i = 0; i < loco_gpt_num_params(m); i++) bad += a[i] != bf16_round(b[i]);
        CHECK(bad == 0, "%zu parameters differ from the bfloat16 rounding of the exported ones", bad);
    }
    loco_gpt_free(r);
    r = NULL;
    snprintf(p, sizeof p, "%s/untied", dir);
    CHECK(loco_hf_load(p, &r, 1, T, msg, sizeof msg) == LOCO_EINVAL && !r && strstr(msg, "lm_head"),
          "an untied LM head must be refused: %s", msg);
done:
    if (dir[0]) loco_xt_rmdir(dir);
    loco_tokenizer_free(tok);
    loco_gpt_free(m);
    loco_gpt_free(r);
}
