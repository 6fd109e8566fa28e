/*
 * Export tests: the half conversion, the GGUF file read back field by field,
 * the Hugging Face folder loaded by tests/ref_export.py (GPT-2's forward
 * written out in PyTorch by Hugging Face's names) and by loco's importer,
 * `loco export` on good and bad input (DiPaCo paths included), checkpoints
 * that carry their tokenizer, `loco tokenizer convert`, tokenizer files with
 * a NUL, and `loco train --init` from a Hugging Face folder.  The llama.cpp
 * round trip is in tests/test_export_llama.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "export_util.h"
#include "loco/checkpoint.h"
#include "loco/dipaco.h"
#include "loco/export.h"
#include "test.h"
#include "tok/tok_internal.h"
#include "util.h"

/* ------------------------------------------------------------ half */

LOCO_TEST(export_f16_conversion) {
    /* Every half goes to float and back unchanged (NaNs stay NaNs). */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = loco_f16_to_f32((uint16_t)h);
        uint16_t back = loco_f32_to_f16(f);
        int nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (nan ? !(isnan(f) && (back & 0x7c00) == 0x7c00 && (back & 0x3ff)) : back != h) bad++;
    }
    CHECK(bad == 0, "%d halves do not survive half -> float -> half", bad);
    /* Between two neighbouring positive halves: below the midpoint rounds
     * down, above rounds up, the midpoint itself goes to the even one. */
    int wrong = 0;
    for (uint32_t h = 0; h < 0x7bff; h++) {
        float a = loco_f16_to_f32((uint16_t)h), b = loco_f16_to_f32((uint16_t)(h + 1));
        float mid = (float)(((double)a + b) / 2);   /* exact: halves have 11 bits */
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        wrong += loco_f32_to_f16(mid) != even;
        wrong += loco_f32_to_f16(nextafterf(mid, 0)) != h;
        wrong += loco_f32_to_f16(nextafterf(mid, INFINITY)) != h + 1;
        wrong += loco_f32_to_f16(-mid) != (even | 0x8000);
    }
    CHECK(wrong == 0, "%d roundings differ from round-to-nearest-even", wrong);
    CHECK(loco_f32_to_f16(65519.0f) == 0x7bff && loco_f32_to_f16(65520.0f) == 0x7c00, "overflow threshold");
    CHECK(loco_f32_to_f16(1e-8f) == 0 && loco_f32_to_f16(-INFINITY) == 0xfc00, "underflow and -inf");
}

/* ------------------------------------------------------------ GGUF */

/* A reader of the GGUF file, after the specification, independent of the
 * writer: only the key-values and tensor infos the tests look at. */
typedef struct {
    const uint8_t *p;
    size_t n, at;
    int bad;
} rd;

static uint64_t rd_u(rd *r, int bytes) {
    uint64_t v = 0;
    if (r->at + (size_t)bytes > r->n) {
        r->bad = 1;
        return 0;
    }
    for (int i = 0; i < bytes; i++) v |= (uint64_t)r->p[r->at + i] << (8 * i);
    r->at += (size_t)bytes;
    return v;
}

static const char *rd_str(rd *r, size_t *len) {
    uint64_t n = rd_u(r, 8);
    if (r->bad || n > r->n - r->at) {
        r->bad = 1;
        *len = 0;
        return "";
    }
    const char *s = (const char *)r->p + r->at;
    r->at += n;
    *len = n;
    return s;
}

typedef struct {
    char key[64];
    uint32_t type, etype;
    uint64_t count;
    size_t at;   /* the value (for an array, its first element) */
} gkv;

typedef struct {
    char name[64];
    uint32_t ndim, type;
    uint64_t ne[4], offset;
} gtensor;

typedef struct {
    rd r;
    int nkv, nt;
    gkv kv[64];
    gtensor t[128];
    size_t data;
} gguf;

static void skip_value(rd *r, uint32_t type) {
    size_t len;
    if (type == 8) rd_str(r, &len);
    else if (type == 0 || type == 1 || type == 7) r->at += 1;
    else if (type == 2 || type == 3) r->at += 2;
    else if (type == 4 || type == 5 || type == 6) r->at += 4;
    else if (type == 10 || type == 11 || type == 12) r->at += 8;
    else r->bad = 1;
}

static int gguf_parse(gguf *g, const uint8_t *p, size_t n) {
    memset(g, 0, sizeof *g);
    g->r = (rd){p, n, 0, 0};
    rd *r = &g->r;
    if (n < 24 || memcmp(p, "GGUF", 4)) return -1;
    r->at = 4;
    if (rd_u(r, 4) != 3) return -1;
    uint64_t nt = rd_u(r, 8), nkv = rd_u(r, 8);
    if (nt > 128 || nkv > 64) return -1;
    for (uint64_t i = 0; i < nkv && !r->bad; i++) {
        gkv *k = &g->kv[g->nkv++];
        size_t len;
        const char *s = rd_str(r, &len);
        snprintf(k->key, sizeof k->key, "%.*s", (int)len, s);
        k->type = (uint32_t)rd_u(r, 4);
        if (k->type == 9) {
            k->etype = (uint32_t)rd_u(r, 4);
            k->count = rd_u(r, 8);
            k->at = r->at;
            for (uint64_t j = 0; j < k->count && !r->bad; j++) skip_value(r, k->etype);
        } else {
            k->at = r->at;
            skip_value(r, k->type);
        }
    }
    for (uint64_t i = 0; i < nt && !r->bad; i++) {
        gtensor *t = &g->t[g->nt++];
        size_t len;
        const char *s = rd_str(r, &len);
        snprintf(t->name, sizeof t->name, "%.*s", (int)len, s);
        t->ndim = (uint32_t)rd_u(r, 4);
        if (t->ndim > 4) return -1;
        for (uint32_t d = 0; d < t->ndim; d++) t->ne[d] = rd_u(r, 8);
        t->type = (uint32_t)rd_u(r, 4);
        t->offset = rd_u(r, 8);
    }
    g->data = (r->at + 31) / 32 * 32;   /* general.alignment is absent: 32 */
    return r->bad ? -1 : 0;
}

static const gkv *gguf_kv(const gguf *g, const char *key) {
    for (int i = 0; i < g->nkv; i++)
        if (!strcmp(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}

static uint32_t kv_u32(const gguf *g, const char *key) {
    const gkv *k = gguf_kv(g, key);
    rd r = g->r;
    r.at = k ? k->at : 0;
    return k && k->type == 4 ? (uint32_t)rd_u(&r, 4) : 0xffffffffu;
}

static int kv_is(const gguf *g, const char *key, const char *want) {
    const gkv *k = gguf_kv(g, key);
    if (!k || k->type != 8) return 0;
    rd r = g->r;
    r.at = k->at;
    size_t len;
    const char *s = rd_str(&r, &len);
    return len == strlen(want) && !memcmp(s, want, len);
}

static const gtensor *gguf_tensor(const gguf *g, const char *name) {
    for (int i = 0; i < g->nt; i++)
        if (!strcmp(g->t[i].name, name)) return &g->t[i];
    return NULL;
}

/* Checks tensor name: ne = [cols, rows] (cols 0: a vector of rows), its
 * type, and that its bytes are src (f16: converted) exactly. */
static int check_tensor(const gguf *g, const char *name, const float *src, uint64_t rows, uint64_t cols, int f16) {
    const gtensor *t = gguf_tensor(g, name);
    if (!t) return 0;
    int matrix = cols != 0, half = f16 && matrix;
    uint64_t numel = rows * (cols ? cols : 1), bytes = numel * (half ? 2 : 4);
    if (t->ndim != (matrix ? 2u : 1u) || t->ne[0] != (matrix ? cols : rows) || (matrix && t->ne[1] != rows) ||
        t->type != (half ? 1u : 0u) || t->offset % 32 || g->data + t->offset + bytes > g->r.n)
        return 0;
    const uint8_t *p = g->r.p + g->data + t->offset;
    for (uint64_t i = 0; i < numel; i++) {
        if (half) {
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            if (h != loco_f32_to_f16(src[i])) return 0;
        } else if (memcmp(p + 4 * i, src + i, 4)) {
            return 0;
        }
    }
    return 1;
}

LOCO_TEST(export_gguf_layout) {
    enum { L = 2, C = 32, NH = 4, T = 16, V = 300 };
    char dir[64], path[128], msg[512];
    loco_tokenizer *tok = loco_xt_tokenizer(V);
    loco_gpt_config cfg = {.max_seq_len = T, .vocab_size = V, .n_layer = L, .n_head = NH, .channels = C};
    loco_gpt *m = loco_xt_model(&cfg, 2, T, 3);
    if (!tok || !m || !loco_xt_dir(dir, "gguf")) {
        FAIL("setup");
        loco_tokenizer_free(tok);
        loco_gpt_free(m);
        return;
    }
    for (int f16 = 0; f16 < 2; f16++) {
        snprintf(path, sizeof path, "%s/m%d.gguf", dir, f16);
        int e = loco_export_gguf(path, m, tok, f16 ? LOCO_EXPORT_F16 : LOCO_EXPORT_F32, "tiny", msg, sizeof msg);
        CHECK(e == LOCO_OK, "export: %s", msg);
        size_t n = 0;
        uint8_t *file = (uint8_t *)loco_xt_slurp(path, &n);
        gguf *g = malloc(sizeof *g);
        if (!file || !g || gguf_parse(g, file, n)) {
            FAIL("%s does not parse as GGUF version 3", path);
            free(file);
            free(g);
            continue;
        }
        CHECK(kv_is(g, "general.architecture", "gpt2") && kv_is(g, "general.name", "tiny"), "general.*");
        CHECK(kv_u32(g, "general.file_type") == (uint32_t)f16, "general.file_type");
        CHECK(kv_u32(g, "gpt2.block_count") == L && kv_u32(g, "gpt2.embedding_length") == C &&
              kv_u32(g, "gpt2.attention.head_count") == NH && kv_u32(g, "gpt2.context_length") == T &&
              kv_u32(g, "gpt2.feed_forward_length") == 4 * C, "gpt2.* hyperparameters");
        const gkv *eps = gguf_kv(g, "gpt2.attention.layer_norm_epsilon");
        float e32 = 0;
        if (eps && eps->type == 6) memcpy(&e32, file + eps->at, 4);
        CHECK(e32 == 1e-5f, "layer_norm_epsilon %g", (double)e32);
        CHECK(kv_is(g, "tokenizer.ggml.model", "gpt2") && kv_is(g, "tokenizer.ggml.pre", "gpt-2"),
              "tokenizer model gpt2, pre-tokenizer gpt-2");
        const int eot = loco_tokenizer_eot(tok);
        CHECK((int)kv_u32(g, "tokenizer.ggml.eos_token_id") == eot &&
              (int)kv_u32(g, "tokenizer.ggml.bos_token_id") == eot, "BOS and EOS are <|endoftext|>");
        /* Tokens: each decodes through GPT-2's alphabet to loco's bytes. */
        const gkv *tk = gguf_kv(g, "tokenizer.ggml.tokens"), *ty = gguf_kv(g, "tokenizer.ggml.token_type");
        const gkv *mg = gguf_kv(g, "tokenizer.ggml.merges");
        CHECK(tk && tk->etype == 8 && tk->count == V, "tokens array");
        CHECK(ty && ty->etype == 5 && ty->count == V, "token_type array");
        CHECK(mg && mg->etype == 8 && mg->count == (uint64_t)loco_tokenizer_num_merges(tok), "merges array");
        int tok_bad = 0, type_bad = 0, merge_bad = 0;
        rd r = g->r;
        r.at = tk ? tk->at : r.n;
        for (int id = 0; tk && id < V; id++) {
            size_t len, want;
            const char *s = rd_str(&r, &len);
            const uint8_t *b = loco_tokenizer_token(tok, id, &want);
            uint8_t dec[256];
            long k = id == eot ? -1 : len <= sizeof dec ? loco__alphabet_decode(s, len, dec) : -1;
            if (id == eot ? len != want || memcmp(s, b, len) : k != (long)want || memcmp(dec, b, want)) tok_bad++;
            int32_t tt;
            memcpy(&tt, file + ty->at + 4 * (size_t)id, 4);
            type_bad += tt != (id == eot ? 3 : 1);
        }
        r.at = mg ? mg->at : r.n;
        for (int k = 0; mg && k < loco_tokenizer_num_merges(tok); k++) {
            size_t len, la, lb;
            const char *s = rd_str(&r, &len);
            const char *sp = memchr(s, ' ', len);
            uint8_t a[256], b[256];
            long na = sp ? loco__alphabet_decode(s, (size_t)(sp - s), a) : -1;
            long nb = sp ? loco__alphabet_decode(sp + 1, len - (size_t)(sp - s) - 1, b) : -1;
            const uint8_t *ta = loco_tokenizer_token(tok, tok->merge_a[k], &la);
            const uint8_t *tb = loco_tokenizer_token(tok, tok->merge_b[k], &lb);
            merge_bad += na != (long)la || nb != (long)lb || memcmp(a, ta, la) || memcmp(b, tb, lb);
        }
        CHECK(!tok_bad && !type_bad && !merge_bad, "%d tokens, %d token types, %d merges differ", tok_bad, type_bad,
              merge_bad);
        /* Tensors: names, shapes (ne = [in, out]), types, bytes. */
        CHECK(g->nt == 5 + 12 * L, "%d tensors", g->nt);
        const float *P = loco_gpt_params(m);
        size_t off[LOCO_NUM_PARAM_TENSORS];
        for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) loco_gpt_param_info(m, i, &off[i], NULL, NULL);
        int ok = check_tensor(g, "token_embd.weight", P + off[LOCO_P_WTE], V, C, f16) &&
                 check_tensor(g, "output.weight", P + off[LOCO_P_WTE], V, C, f16) &&
                 check_tensor(g, "position_embd.weight", P + off[LOCO_P_WPE], T, C, f16) &&
                 check_tensor(g, "output_norm.weight", P + off[LOCO_P_LNFW], C, 0, f16) &&
                 check_tensor(g, "output_norm.bias", P + off[LOCO_P_LNFB], C, 0, f16);
        CHECK(ok, "embedding, output or final LayerNorm tensor differs");
        static const struct { const char *name; int p, rows, cols; } blk[] = {
            {"attn_norm.weight", LOCO_P_LN1W, 1, 0}, {"attn_norm.bias", LOCO_P_LN1B, 1, 0},
            {"attn_qkv.weight", LOCO_P_QKVW, 3, 1},  {"attn_qkv.bias", LOCO_P_QKVB, 3, 0},
            {"attn_output.weight", LOCO_P_ATTPROJW, 1, 1}, {"attn_output.bias", LOCO_P_ATTPROJB, 1, 0},
            {"ffn_norm.weight", LOCO_P_LN2W, 1, 0},  {"ffn_norm.bias", LOCO_P_LN2B, 1, 0},
            {"ffn_up.weight", LOCO_P_FCW, 4, 1},     {"ffn_up.bias", LOCO_P_FCB, 4, 0},
            {"ffn_down.weight", LOCO_P_FCPROJW, 1, 4}, {"ffn_down.bias", LOCO_P_FCPROJB, 1, 0},
        };
        for (int l = 0; l < L; l++)
            for (size_t j = 0; j < sizeof blk / sizeof blk[0]; j++) {
                char name[64];
                snprintf(name, sizeof name, "blk.%d.%s", l, blk[j].name);
                uint64_t rows = (uint64_t)blk[j].rows * C, cols = (uint64_t)blk[j].cols * C;
                const float *src = P + off[blk[j].p] + (size_t)l * rows * (cols ? cols : 1);
                CHECK(check_tensor(g, name, src, rows, cols, f16), "tensor %s differs", name);
            }
        printf("  %s: %zu bytes, %d tensors, %d key-values\n", f16 ? "f16" : "f32", n, g->nt, g->nkv);
        free(file);
        free(g);
    }
    loco_xt_rmdir(dir);
    loco_tokenizer_free(tok);
    loco_gpt_free(m);
}

/* ------------------------------------------------------------ Hugging Face */

/* Rounds every weight matrix of m through half precision, as the f16
 * export stores them (vectors stay float32). */
static void round_matrices_f16(loco_gpt *m) {
    float *P = loco_gpt_params(m);
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        size_t off, size;
        int shape[3];
        int nd = loco_gpt_param_info(m, i, &off, &size, shape);
        int stacked = i >= LOCO_P_LN1W && i <= LOCO_P_FCPROJB;
        if (nd - stacked != 2) continue;
        for (size_t j = 0; j < size; j++) P[off + j] = loco_f16_to_f32(loco_f32_to_f16(P[off + j]));
    }
}

LOCO_TEST(export_hf_matches_torch) {
    enum { L = 2, C = 64, NH = 4, T = 32, V = 320, B = 3 };
    char dir[64], hf[128], toks[128], out[128], msg[512];
    loco_tokenizer *tok = loco_xt_tokenizer(V);
    loco_gpt_config cfg = {.max_seq_len = T, .vocab_size = V, .n_layer = L, .n_head = NH, .channels = C};
    loco_gpt *m = loco_xt_model(&cfg, B, T, 5);
    if (!tok || !m || !loco_xt_dir(dir, "hf")) {
        FAIL("setup");
        loco_tokenizer_free(tok);
        loco_gpt_free(m);
        return;
    }
    int buf[2 + B * T];
    loco_rng rng;
    loco_rng_seed(&rng, 9);
    buf[0] = B;
    buf[1] = T;
    for (int i = 0; i < B * T; i++) buf[2 + i] = (int)(loco_rng_u64(&rng) % V);
    snprintf(toks, sizeof toks, "%s/tokens.bin", dir);
    CHECK(loco_xt_spit(toks, buf, sizeof buf) == 0, "write tokens");
    /* Both folders, f32 and f16, in one run of the reference. */
    char cmd[800];
    int k = snprintf(cmd, sizeof cmd, "%s tests/ref_export.py %s", LOCO_TEST_PYTHON, toks);
    for (int f16 = 0; f16 < 2; f16++) {
        snprintf(hf, sizeof hf, "%s/hf%d", dir, f16);
        mkdir(hf, 0755);
        int e = loco_export_hf(hf, m, tok, f16 ? LOCO_EXPORT_F16 : LOCO_EXPORT_F32, msg, sizeof msg);
        CHECK(e == LOCO_OK, "export: %s", msg);
        k += snprintf(cmd + k, sizeof cmd - (size_t)k, " %s %s/logits%d.bin", hf, dir, f16);
    }
    fflush(NULL);
    int st = system(cmd), rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    /* torch is a test dependency (scripts/deps.sh): its absence fails. */
    CHECK(rc == 0, "%s failed (exit status %d%s)", cmd, rc, rc == 3 ? ": no torch; apt-get install python3-torch" : "");
    for (int f16 = 0; f16 < 2; f16++) {
        snprintf(hf, sizeof hf, "%s/hf%d", dir, f16);
        snprintf(out, sizeof out, "%s/logits%d.bin", dir, f16);
        /* The folder's tensors are the model's, rounded for f16. */
        loco_gpt *r = NULL, *ref_m = loco_xt_model(&cfg, B, T, 5);
        int e = loco_hf_load(hf, &r, B, T, msg, sizeof msg);
        CHECK(e == LOCO_OK, "loco_hf_load: %s", msg);
        if (f16 && ref_m) round_matrices_f16(ref_m);
        if (r && ref_m)
            CHECK(!memcmp(loco_gpt_params(r), loco_gpt_params(ref_m), loco_gpt_num_params(m) * sizeof(float)),
                  "the imported parameters differ from the exported ones");
        size_t n = 0;
        float *ref = rc == 0 ? (float *)loco_xt_slurp(out, &n) : NULL;
        if (ref && n == sizeof(float) * B * T * V && ref_m) {
            loco_gpt_forward(ref_m, buf + 2, NULL, B, T);
            double err = loco_test_rel_err(loco_gpt_logits(ref_m), ref, (size_t)B * T * V);
            printf("  %s: logits loco vs PyTorch (float64) on the Hugging Face folder: %.2e of their scale\n",
                   f16 ? "f16" : "f32", err);
            /* loco's float32 forward against a float64 one: ~30 ulps of the scale. */
            CHECK(err < 2e-6, "logits differ: %.3e", err);
        } else if (rc == 0) {
            FAIL("reference wrote %zu bytes", n);
        }
        free(ref);
        loco_gpt_free(r);
        loco_gpt_free(ref_m);
    }
    loco_xt_rmdir(dir);
    loco_tokenizer_free(tok);
    loco_gpt_free(m);
}

/* ------------------------------------------------------------ CLI */

/* A checkpoint with its tokenizer (recorded as tok/tokenizer.json relative
 * to dir, and embedded when embed), in dir/ckpt.safetensors. */
static int make_checkpoint(const char *dir, loco_gpt *m, const loco_tokenizer *tok, int embed, char *msg,
                           size_t msglen) {
    char path[300], tdir[200];
    snprintf(tdir, sizeof tdir, "%s/tok", dir);
    mkdir(tdir, 0755);
    snprintf(path, sizeof path, "%s/tokenizer.json", tdir);
    if (tok && loco_tokenizer_save(tok, path, msg, msglen)) return -1;
    loco_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    loco_adamw_config_default(&meta.opt, 10);
    snprintf(meta.tokenizer, sizeof meta.tokenizer, "%s", tok ? "tok/tokenizer.json" : "");
    char *json = tok && embed ? loco_tokenizer_to_json(tok, NULL) : NULL;
    meta.tokenizer_json = json;
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    int e = loco_checkpoint_save(path, m, &meta, 0, msg, msglen);
    free(json);
    return e ? -1 : 0;
}

/* Runs loco with args; checks the exit status and that stderr is one line
 * holding `has`. */
static void expect_fail(int *loco_test_failed_, const char *args, int status, const char *has) {
    char err[2048];
    int st = loco_test_run(args, err, sizeof err);
    size_t n = strlen(err);
    CHECK(st == status, "loco %s: exit %d, expected %d (%s)", args, st, status, err);
    CHECK(n > 0 && strchr(err, '\n') == err + n - 1 && strstr(err, has), "loco %s: stderr '%s' is not one line "
          "with '%s'", args, err, has);
}
#define EXPECT_FAIL(args, status, has) expect_fail(loco_test_failed_, args, status, has)

LOCO_TEST(export_cli_dipaco_and_bad_input) {
    enum { L = 2, C = 32, NH = 4, T = 16, V = 300 };
    char dir[64] = "", a[1200], msg[512] = "";
    loco_tokenizer *tok = loco_xt_tokenizer(V);
    loco_gpt_config cfg = {.max_seq_len = T, .vocab_size = V, .n_layer = L, .n_head = NH, .channels = C};
    loco_gpt_config bcfg = cfg;
    bcfg.vocab_size = 256;
    loco_gpt *m = loco_xt_model(&cfg, 2, T, 3), *bytes = loco_xt_model(&bcfg, 2, T, 4);
    if (!tok || !m || !bytes || !loco_xt_dir(dir, "xcli") || make_checkpoint(dir, m, tok, 1, msg, sizeof msg)) {
        FAIL("setup: %s", msg);
        goto done;
    }
    /* A DiPaCo model of 2 x 2 paths whose modules differ. */
    loco_dipaco_config dc;
    loco_dipaco_layout lay;
    char dp[128];
    snprintf(dp, sizeof dp, "%s/dp", dir);
    mkdir(dp, 0755);
    CHECK(loco_dipaco_parse("1x2,1x2", &dc, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(loco_dipaco_layout_init(&lay, &cfg, &dc, msg, sizeof msg) == LOCO_OK, "%s", msg);
    float *mods = malloc(lay.total * sizeof(float)), *path = malloc(lay.path_params * sizeof(float));
    loco_dipaco_scatter(&lay, loco_gpt_params(m), mods);
    for (size_t i = 0; i < lay.total; i++) mods[i] += 1e-3f * (float)(i % 7);
    /* Its recorded tokenizer is gone from where it was: found by name beside the directory. */
    CHECK(loco_dipaco_save(dp, &lay, mods, "no-such-dir/tokenizer.json", "", msg, sizeof msg) == LOCO_OK, "%s", msg);
    snprintf(a, sizeof a, "%s/tokenizer.json", dp);
    CHECK(loco_tokenizer_save(tok, a, msg, sizeof msg) == LOCO_OK, "%s", msg);

    snprintf(a, sizeof a, "export --checkpoint %s --format gguf --out %s/x.gguf", dp, dir);
    EXPECT_FAIL(a, 2, "--path");
    snprintf(a, sizeof a, "export --dipaco %s --path 4 --format gguf --out %s/x.gguf", dp, dir);
    EXPECT_FAIL(a, 2, "paths 0..3");
    snprintf(a, sizeof a, "export --checkpoint %s/ckpt.safetensors --path 1 --format gguf --out %s/x.gguf", dir, dir);
    EXPECT_FAIL(a, 2, "--path");
    /* Path 2 as a dense model: its Hugging Face folder holds exactly the
     * parameters loco assembles for path 2 (the tokenizer found beside the
     * DiPaCo directory by its recorded relative name). */
    char err[1024];
    snprintf(a, sizeof a, "export --dipaco %s --path 2 --format hf --out %s/p2", dp, dir);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "loco %s: %s", a, err);
    loco_gpt *r = NULL;
    snprintf(a, sizeof a, "%s/p2", dir);
    CHECK(loco_hf_load(a, &r, 1, 1, msg, sizeof msg) == LOCO_OK, "%s", msg);
    loco_dipaco_gather(&lay, mods, 2, path);
    CHECK(r && !memcmp(loco_gpt_params(r), path, lay.path_params * sizeof(float)), "path 2's parameters differ");
    loco_dipaco_gather(&lay, mods, 1, path);
    CHECK(r && memcmp(loco_gpt_params(r), path, lay.path_params * sizeof(float)), "paths 1 and 2 are the same");
    loco_gpt_free(r);
    snprintf(a, sizeof a, "export --dipaco %s --path 2 --format gguf --out %s/p2.gguf", dp, dir);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "loco %s: %s", a, err);
    free(mods);
    free(path);

    /* Outputs that cannot be written: one line, exit 1, nothing replaced. */
    snprintf(a, sizeof a, "export --checkpoint %s/ckpt.safetensors --format gguf --out %s/no/such/dir/x.gguf", dir,
             dir);
    EXPECT_FAIL(a, 1, "x.gguf");
    snprintf(a, sizeof a, "export --checkpoint %s/ckpt.safetensors --format gguf --out %s/tok", dir, dir);
    EXPECT_FAIL(a, 1, "/tok");
    /* A FIFO of the scratch directory stands for a device: never replaced. */
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    CHECK(mkfifo(fifo, 0644) == 0, "mkfifo");
    snprintf(a, sizeof a, "export --checkpoint %s/ckpt.safetensors --format gguf --out %s", dir, fifo);
    EXPECT_FAIL(a, 1, "not a regular file");
    struct stat st;
    CHECK(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced");
    snprintf(a, sizeof a, "export --checkpoint %s/ckpt.safetensors --format hf --out %s/ckpt.safetensors", dir, dir);
    EXPECT_FAIL(a, 1, "not a directory");
    /* Bad flags and models that have no GPT-2 vocabulary. */
    snprintf(a, sizeof a, "export --checkpoint %s/ckpt.safetensors --format onnx --out %s/x", dir, dir);
    EXPECT_FAIL(a, 2, "gguf or hf");
    snprintf(a, sizeof a, "export --checkpoint %s/ckpt.safetensors --format gguf --dtype q4 --out %s/x", dir, dir);
    EXPECT_FAIL(a, 2, "f32 or f16");
    snprintf(a, sizeof a, "export --checkpoint %s/missing.safetensors --format gguf --out %s/x.gguf", dir, dir);
    EXPECT_FAIL(a, 1, "missing.safetensors");
    char bd[128];
    snprintf(bd, sizeof bd, "%s/bytes", dir);
    mkdir(bd, 0755);
    CHECK(make_checkpoint(bd, bytes, NULL, 0, msg, sizeof msg) == 0, "%s", msg);
    snprintf(a, sizeof a, "export --checkpoint %s/ckpt.safetensors --format gguf --out %s/x.gguf", bd, dir);
    EXPECT_FAIL(a, 2, "byte-level");
done:
    if (dir[0] == '/') loco_xt_rmdir(dir);
    loco_tokenizer_free(tok);
    loco_gpt_free(m);
    loco_gpt_free(bytes);
}
