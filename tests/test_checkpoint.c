/* Checkpoints: exact round trips, exact resumption of training, clean
 * rejection of corrupted files, failed saves that leave the previous
 * checkpoint intact, and a PyTorch reader (tests/ref_checkpoint.py) that
 * gets loco's logits from the file alone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ckpt/ckpt_internal.h"
#include "loco/checkpoint.h"
#include "loco/data.h"
#include "nn/gpt_internal.h"
#include "test.h"
#include "util.h"

/* A fresh directory for one test's files; the caller removes it with rm_dir. */
static char *make_dir(char *buf) {
    strcpy(buf, "/tmp/loco_ckpt_XXXXXX");
    return mkdtemp(buf);
}

static void rm_dir(const char *dir) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "  cannot remove %s\n", dir);
}

/* Returns the malloc'd contents of path (length in *n), or NULL. */
static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return b;
}

static int spit(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(b, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Runs `steps` training steps from step `first` on the synthetic corpus,
 * drawing batches with rng; stores losses. */
static void train(loco_gpt *m, const loco_bytes_dataset *d, loco_rng *rng, const loco_adamw_config *oc,
                  long first, int steps, float *losses) {
    int B = m->B, T = m->T;
    int *tok = malloc(sizeof(int) * B * T), *tgt = malloc(sizeof(int) * B * T);
    for (int s = 0; s < steps; s++) {
        loco_dataset_batch(d, 0, rng, B, T, tok, tgt);
        loco_gpt_forward(m, tok, tgt, B, T);
        losses[s] = loco_gpt_loss(m);
        loco_gpt_zero_grad(m);
        loco_gpt_backward(m);
        loco_gpt_adamw_step(m, oc, (int)(first + s), NULL);
    }
    free(tok);
    free(tgt);
}

static void fill_meta(loco_checkpoint_meta *meta, long step, const loco_rng *rng, const loco_adamw_config *oc) {
    memset(meta, 0, sizeof *meta);
    meta->step = step;
    memcpy(meta->rng_state, rng->s, sizeof rng->s);
    meta->opt = *oc;
    meta->seed = 18446744073709551557ull;   /* a u64 above INT64_MAX must survive */
    strcpy(meta->tokenizer, "tok/\"quoted\\path\" \xc3\xa9");
}

LOCO_TEST(ckpt_round_trip) {
    char dirb[64], path[128], msg[300];
    if (!make_dir(dirb)) { FAIL("mkdtemp"); return; }
    snprintf(path, sizeof path, "%s/a.safetensors", dirb);
    loco_gpt_config cfg = {.max_seq_len = 16, .vocab_size = 50, .n_layer = 2, .n_head = 2, .channels = 32};
    loco_gpt *m, *r = NULL;
    CHECK(loco_gpt_create(&m, &cfg, 2, 16, 7, NULL, 0) == LOCO_OK, "create");
    loco_bytes_dataset d;
    CHECK(loco_dataset_synthetic(&d, 1 << 14, 1, 0.1) == LOCO_OK, "dataset");
    for (size_t i = 0; i < d.n; i++) d.bytes[i] %= 50;
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, 10);
    oc.lr = 1.2345678e-3f;
    oc.eps = 1.1e-8f;
    oc.warmup_steps = 2;
    loco_rng rng;
    loco_rng_seed(&rng, 11);
    float losses[3];
    train(m, &d, &rng, &oc, 0, 3, losses);
    loco_checkpoint_meta meta, got;
    fill_meta(&meta, 3, &rng, &oc);
    CHECK(loco_checkpoint_save(path, m, &meta, 1, msg, sizeof msg) == LOCO_OK, "save: %s", msg);

    /* The file is safetensors: u64 length, JSON padded with spaces to a
     * multiple of 8, then exactly params + m + v as float32. */
    size_t n = 0;
    unsigned char *b = slurp(path, &n);
    uint64_t hl = 0;
    for (int i = 0; b && n >= 8 && i < 8; i++) hl |= (uint64_t)b[i] << (8 * i);
    CHECK(b && hl % 8 == 0 && n == 8 + hl + 12 * m->num_params, "file size %zu, header %llu", n,
          (unsigned long long)hl);
    CHECK(b && hl > 0 && b[8] == '{', "header does not open with '{'");
    free(b);

    loco_gpt_config rc;
    CHECK(loco_checkpoint_read_config(path, &rc, msg, sizeof msg) == LOCO_OK, "read_config: %s", msg);
    CHECK(memcmp(&rc, &cfg, sizeof cfg) == 0, "read_config returned another config");
    CHECK(loco_checkpoint_load(path, &r, 1, 8, &got, msg, sizeof msg) == LOCO_OK, "load: %s", msg);
    if (r) {
        CHECK(memcmp(&r->cfg, &cfg, sizeof cfg) == 0 && r->B == 1 && r->T == 8, "config or capacity");
        CHECK(memcmp(r->params, m->params, 4 * m->num_params) == 0, "parameters differ");
        CHECK(memcmp(r->opt_state, m->opt_state, 8 * m->num_params) == 0, "AdamW m, v differ");
        CHECK(r->adam_t == 3 && m->adam_t == 3, "adam_t %ld", r->adam_t);
        /* The checkpoint's tensor table agrees with the model's own layout. */
        for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
            loco__ckpt_tensor t;
            int shape[3];
            int nd = loco_gpt_param_info(r, i, NULL, NULL, shape);
            loco__ckpt_tensor_spec(&cfg, i, &t);
            int same = nd == t.ndim;
            for (int k = 0; same && k < nd; k++) same = (uint64_t)shape[k] == t.shape[k];
            CHECK(same, "tensor %s: table shape differs from loco_gpt_param_info", t.name);
        }
    }
    CHECK(got.step == 3 && memcmp(got.rng_state, rng.s, sizeof rng.s) == 0 && got.seed == meta.seed,
          "step, rng or seed differ");
    CHECK(got.opt.lr == oc.lr && got.opt.beta1 == oc.beta1 && got.opt.beta2 == oc.beta2 && got.opt.eps == oc.eps &&
          got.opt.weight_decay == oc.weight_decay && got.opt.grad_clip == oc.grad_clip &&
          got.opt.warmup_steps == oc.warmup_steps && got.opt.max_steps == oc.max_steps &&
          got.opt.min_lr == oc.min_lr, "AdamW configuration differs");
    CHECK(strcmp(got.tokenizer, meta.tokenizer) == 0, "tokenizer '%s'", got.tokenizer);
    CHECK(got.has_optimizer == 1, "has_optimizer");
    loco_gpt_free(r);
    r = NULL;

    /* Without the optimizer: parameters only; AdamW restarts from zero. */
    CHECK(loco_checkpoint_save(path, m, &meta, 0, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    CHECK(loco_checkpoint_load(path, &r, 2, 16, &got, msg, sizeof msg) == LOCO_OK, "load: %s", msg);
    if (r) {
        CHECK(memcmp(r->params, m->params, 4 * m->num_params) == 0, "parameters differ");
        int zero = r->adam_t == 0;
        for (size_t i = 0; i < 2 * r->num_params; i++) zero &= r->opt_state[i] == 0.0f;
        CHECK(zero, "AdamW state not zero without optimizer state");
    }
    CHECK(got.has_optimizer == 0, "has_optimizer set");
    loco_gpt_free(r);

    /* A capacity the stored model cannot take, and NULL arguments. */
    r = NULL;
    CHECK(loco_checkpoint_load(path, &r, 1, 17, NULL, msg, sizeof msg) == LOCO_ECONFIG && !r &&
          strstr(msg, path) && strstr(msg, "max_seq_len"), "T > max_seq_len: '%s'", msg);
    CHECK(loco_checkpoint_load(path, NULL, 1, 1, NULL, msg, sizeof msg) == LOCO_EINVAL, "NULL model_out");
    CHECK(loco_checkpoint_save(path, NULL, &meta, 1, msg, sizeof msg) == LOCO_EINVAL, "NULL model");
    CHECK(loco_checkpoint_save(NULL, m, &meta, 1, msg, sizeof msg) == LOCO_EINVAL, "NULL path");
    memset(meta.tokenizer, 'x', sizeof meta.tokenizer);
    CHECK(loco_checkpoint_save(path, m, &meta, 1, msg, sizeof msg) == LOCO_EINVAL && strstr(msg, "tokenizer"),
          "unterminated tokenizer: '%s'", msg);
    loco_dataset_free(&d);
    loco_gpt_free(m);
    rm_dir(dirb);
}

/* N steps straight equal N/2 + save + load (into a fresh model) + N/2,
 * bitwise: losses, parameters and AdamW state. */
LOCO_TEST(ckpt_resume_exact) {
    enum { N = 8, B = 4, T = 32 };
    char dirb[64], path[128], msg[300];
    if (!make_dir(dirb)) { FAIL("mkdtemp"); return; }
    snprintf(path, sizeof path, "%s/resume.safetensors", dirb);
    loco_gpt_config cfg = {.max_seq_len = 32, .vocab_size = 256, .n_layer = 2, .n_head = 4, .channels = 64};
    loco_bytes_dataset d;
    CHECK(loco_dataset_synthetic(&d, 1 << 16, 5, 0.1) == LOCO_OK, "dataset");
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, N);
    oc.lr = 1e-3f;
    oc.warmup_steps = 3;

    float straight[N], resumed[N];
    loco_gpt *a, *b, *c = NULL;
    loco_rng rng;
    CHECK(loco_gpt_create(&a, &cfg, B, T, 99, NULL, 0) == LOCO_OK, "create");
    loco_rng_seed(&rng, 3);
    train(a, &d, &rng, &oc, 0, N, straight);

    CHECK(loco_gpt_create(&b, &cfg, B, T, 99, NULL, 0) == LOCO_OK, "create");
    loco_rng_seed(&rng, 3);
    train(b, &d, &rng, &oc, 0, N / 2, resumed);
    loco_checkpoint_meta meta, got;
    fill_meta(&meta, N / 2, &rng, &oc);
    CHECK(loco_checkpoint_save(path, b, &meta, 1, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    loco_gpt_free(b);
    loco_rng_seed(&rng, 12345);   /* clobbered: resumption must restore it */
    CHECK(loco_checkpoint_load(path, &c, B, T, &got, msg, sizeof msg) == LOCO_OK, "load: %s", msg);
    if (c) {
        memcpy(rng.s, got.rng_state, sizeof rng.s);
        train(c, &d, &rng, &got.opt, got.step, N - N / 2, resumed + N / 2);
        CHECK(memcmp(straight, resumed, sizeof straight) == 0, "losses differ: step %d %.9g vs %.9g", N - 1,
              straight[N - 1], resumed[N - 1]);
        CHECK(memcmp(a->params, c->params, 4 * a->num_params) == 0, "final parameters differ");
        CHECK(memcmp(a->opt_state, c->opt_state, 8 * a->num_params) == 0, "final AdamW state differs");
        CHECK(a->adam_t == c->adam_t, "adam_t %ld vs %ld", a->adam_t, c->adam_t);
    }
    CHECK(straight[N - 1] < straight[0], "the run does not learn: %.4f -> %.4f", straight[0], straight[N - 1]);
    loco_gpt_free(a);
    loco_gpt_free(c);
    loco_dataset_free(&d);
    rm_dir(dirb);
}

/* ---------------------------------------------------------- corrupted files */

/* A copy of the checkpoint bytes with the first occurrence of `from` in the
 * header replaced by `to`, re-padded, the length updated and the data
 * section unchanged; NULL if `from` is not in the header. */
static unsigned char *edit_header(const unsigned char *f, size_t n, const char *from, const char *to,
                                  size_t *out_n) {
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)f[i] << (8 * i);
    char *h = malloc(hl + 1);
    memcpy(h, f + 8, hl);
    h[hl] = 0;
    char *at = strstr(h, from);
    if (!at) { free(h); return NULL; }
    size_t jl = hl;
    while (jl && h[jl - 1] == ' ') jl--;
    size_t fl = strlen(from), tl = strlen(to);
    size_t nj = jl - fl + tl, nh = (nj + 7) & ~(size_t)7, data = n - 8 - hl;
    unsigned char *o = malloc(8 + nh + data);
    for (int i = 0; i < 8; i++) o[i] = (unsigned char)((uint64_t)nh >> (8 * i));
    size_t pre = (size_t)(at - h);
    memcpy(o + 8, h, pre);
    memcpy(o + 8 + pre, to, tl);
    memcpy(o + 8 + pre + tl, at + fl, jl - pre - fl);
    memset(o + 8 + nj, ' ', nh - nj);
    memcpy(o + 8 + nh, f + 8 + hl, data);
    *out_n = 8 + nh + data;
    free(h);
    return o;
}

/* Writes bytes to path and expects both readers to refuse it with a
 * one-line message naming path and containing word. */
static void expect_rejected(int *loco_test_failed_, const char *what, const char *path, const void *bytes,
                            size_t n, const char *word) {
    char msg[400] = "";
    if (bytes && spit(path, bytes, n) != 0) { FAIL("%s: cannot write %s", what, path); return; }
    loco_gpt *m = (loco_gpt *)1;
    int e = loco_checkpoint_load(path, &m, 1, 4, NULL, msg, sizeof msg);
    CHECK(e != LOCO_OK && m == NULL, "%s: load accepted it (%d)", what, e);
    CHECK(strstr(msg, path) && strstr(msg, word) && !strchr(msg, '\n'),
          "%s: load message '%s' should name the file and '%s'", what, msg, word);
    loco_gpt_config cfg;
    msg[0] = 0;
    e = loco_checkpoint_read_config(path, &cfg, msg, sizeof msg);
    CHECK(e != LOCO_OK && strstr(msg, path) && strstr(msg, word),
          "%s: read_config returned %d, '%s' (want '%s')", what, e, msg, word);
}

LOCO_TEST(ckpt_rejects_corrupt_files) {
    char dirb[64], good[128], bad[128], msg[300];
    if (!make_dir(dirb)) { FAIL("mkdtemp"); return; }
    snprintf(good, sizeof good, "%s/good.safetensors", dirb);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dirb);
    loco_gpt_config cfg = {.max_seq_len = 4, .vocab_size = 11, .n_layer = 1, .n_head = 2, .channels = 8};
    loco_gpt *m;
    CHECK(loco_gpt_create(&m, &cfg, 1, 4, 1, NULL, 0) == LOCO_OK, "create");
    loco_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.step = 4;
    loco_adamw_config_default(&meta.opt, 10);
    CHECK(loco_checkpoint_save(good, m, &meta, 1, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    size_t n = 0;
    unsigned char *f = slurp(good, &n);
    if (!f || n < 100) { FAIL("cannot read back %s", good); loco_gpt_free(m); return; }
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)f[i] << (8 * i);

    /* Truncated anywhere: inside the length, the header, the data. */
    size_t cuts[] = {0, 3, 7, 8, 20, 8 + hl - 1, 8 + hl, 8 + hl + 10, n / 2 + hl / 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu of %zu bytes", cuts[i], n);
        expect_rejected(loco_test_failed_, what, bad, f, cuts[i], "truncated");
    }
    unsigned char *c = malloc(n + 8);
    /* A flipped high bit of the header length, and a length one past the file. */
    memcpy(c, f, n);
    c[7] ^= 0x80;
    expect_rejected(loco_test_failed_, "flipped header length", bad, c, n, "runs past the end");
    memcpy(c, f, n);
    uint64_t past = n - 8 + 1;
    for (int i = 0; i < 8; i++) c[i] = (unsigned char)(past >> (8 * i));
    expect_rejected(loco_test_failed_, "header length beyond the file", bad, c, n, "runs past the end");
    /* A header length 8 short cuts the JSON. */
    memcpy(c, f, n);
    c[0] = (unsigned char)(c[0] - 8);
    if (hl % 256 < 8) c[1]--;
    expect_rejected(loco_test_failed_, "header length too short", bad, c, n, "JSON");
    /* Wrong magic: not starting with '{', or not a safetensors file at all. */
    memcpy(c, f, n);
    c[8] = 'X';
    expect_rejected(loco_test_failed_, "bad magic", bad, c, n, "does not start with '{'");
    const char text[] = "this is a text file, not a checkpoint; it has no header.\n";
    expect_rejected(loco_test_failed_, "text file", bad, text, sizeof text - 1, "runs past the end");
    memcpy(c, f, n);
    memcpy(c, "\x10\0\0\0\0\0\0\0", 8);
    memcpy(c + 8, "{\"wte\": [1, 2, ", 16);
    expect_rejected(loco_test_failed_, "garbage JSON", bad, c, n, "not valid JSON");
    memcpy(c, "\x10\0\0\0\0\0\0\0", 8);
    memcpy(c + 8, "{}  xx          ", 16);
    expect_rejected(loco_test_failed_, "trailing bytes", bad, c, n, "after its JSON");
    memcpy(c + 8, "[1, 2]          ", 16);
    expect_rejected(loco_test_failed_, "array header", bad, c, n, "does not start with '{'");
    memcpy(c + 8, "{\"a\": 1}        ", 16);
    expect_rejected(loco_test_failed_, "no metadata", bad, c, n, "__metadata__");
    free(c);

    /* Edits of the header text. */
    struct { const char *what, *from, *to, *word; } ed[] = {
        {"wrong dtype", "\"F32\"", "\"F16\"", "dtype F16"},
        {"dtype not a string", "\"F32\"", "32", "dtype"},
        {"wrong shape", "\"shape\":[4,8]", "\"shape\":[5,8]", "tensor 'wpe' has shape [5,8]"},
        {"shape of wrong rank", "\"shape\":[4,8]", "\"shape\":[32]", "tensor 'wpe' has shape [32]"},
        {"config not matching the shapes", "\"channels\":\"8\"", "\"channels\":\"16\"", "needs [11, 16]"},
        {"missing tensor", "\"wpe\":{\"dtype\":\"F32\",\"shape\":[4,8],\"data_offsets\":[352,480]},", "",
         "missing tensor 'wpe'"},
        {"unexpected tensor", "\"wpe\":", "\"wpx\":", "unexpected tensor 'wpx'"},
        {"duplicate tensor", "\"wpe\":", "\"wte\":", "duplicate tensor 'wte'"},
        {"overlapping offsets", "[352,480]", "[0,128]", "overlap"},
        {"offsets past the data", "[352,480]", "[352000,352128]", "run past"},
        {"offsets not matching the shape", "[352,480]", "[352,484]", "span 132 bytes"},
        {"negative offset", "[352,480]", "[-4,124]", "data_offsets"},
        {"fractional offset", "[352,480]", "[352.5,480.5]", "data_offsets"},
        {"missing metadata key", "\"step\":", "\"stpe\":", "missing __metadata__ key 'step'"},
        {"metadata value not a number", "\"step\":\"4\"", "\"step\":\"4x\"", "'step'"},
        {"metadata value not a string", "\"step\":\"4\"", "\"step\":4", "'step' is not a string"},
        {"negative step", "\"step\":\"4\"", "\"step\":\"-4\"", "'step'"},
        {"bad rng state", "\"rng_state\":\"0,", "\"rng_state\":\"-1,", "rng_state"},
        {"unsupported format", "loco-1", "loco-9", "loco_format"},
        {"invalid stored config", "\"n_head\":\"2\"", "\"n_head\":\"3\"", "divisible"},
        {"optimizer tensors without optimizer state", "\"optimizer_state\":\"adamw\"",
         "\"optimizer_state\":\"none\"", "unexpected tensor 'adam.m.wte'"},
    };
    for (size_t i = 0; i < sizeof ed / sizeof ed[0]; i++) {
        size_t en;
        unsigned char *e = edit_header(f, n, ed[i].from, ed[i].to, &en);
        if (!e) { FAIL("%s: '%s' not found in the header", ed[i].what, ed[i].from); continue; }
        expect_rejected(loco_test_failed_, ed[i].what, bad, e, en, ed[i].word);
        free(e);
    }
    /* Extra bytes after the last tensor. */
    unsigned char *x = malloc(n + 4);
    memcpy(x, f, n);
    memset(x + n, 0, 4);
    expect_rejected(loco_test_failed_, "extra data", bad, x, n + 4, "tensors end at byte");
    free(x);
    /* Not a file at all. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.safetensors", dirb);
    expect_rejected(loco_test_failed_, "missing file", missing, NULL, 0, "cannot open");
    expect_rejected(loco_test_failed_, "a directory", dirb, NULL, 0, "not a regular file");

    /* Non-finite values in the data (header intact): load refuses them. */
    struct { size_t at; float v; const char *word; } nf[] = {
        {5, NAN, "tensor 'wte' element 5 is nan"},
        {m->num_params - 1, INFINITY, "tensor 'lnfb' element 7 is inf"},
        {2 * m->num_params + 3, -1.0f, "tensor 'adam.v.wte' element 3 is -1"},
    };
    for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++) {
        unsigned char *y = malloc(n);
        memcpy(y, f, n);
        memcpy(y + 8 + hl + 4 * nf[i].at, &nf[i].v, 4);
        loco_gpt *z = NULL;
        msg[0] = 0;
        CHECK(spit(bad, y, n) == 0 && loco_checkpoint_load(bad, &z, 1, 4, NULL, msg, sizeof msg) == LOCO_ENONFINITE &&
              !z && strstr(msg, bad) && strstr(msg, nf[i].word), "non-finite case %zu: '%s'", i, msg);
        free(y);
    }

    /* The untouched file still loads. */
    loco_gpt *r = NULL;
    CHECK(loco_checkpoint_load(good, &r, 1, 4, NULL, msg, sizeof msg) == LOCO_OK, "good file: %s", msg);
    loco_gpt_free(r);
    free(f);
    loco_gpt_free(m);
    rm_dir(dirb);
}

/* ---------------------------------------------------------- failed saves */

/* Counts the entries of dir other than . and ..; -1 on error. */
static int count_entries(const char *dir) {
    char cmd[200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int k = -1;
    if (p && fscanf(p, "%d", &k) != 1) k = -1;
    if (p) pclose(p);
    return k;
}

LOCO_TEST(ckpt_failed_save_keeps_previous) {
    char dirb[64], path[128], msg[300];
    if (!make_dir(dirb)) { FAIL("mkdtemp"); return; }
    snprintf(path, sizeof path, "%s/p.safetensors", dirb);
    loco_gpt_config cfg = {.max_seq_len = 8, .vocab_size = 20, .n_layer = 2, .n_head = 2, .channels = 16};
    loco_gpt *a, *b;
    CHECK(loco_gpt_create(&a, &cfg, 1, 8, 1, NULL, 0) == LOCO_OK, "create");
    CHECK(loco_gpt_create(&b, &cfg, 1, 8, 2, NULL, 0) == LOCO_OK, "create");
    loco_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    CHECK(loco_checkpoint_save(path, a, &meta, 1, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    size_t n0, n1;
    unsigned char *before = slurp(path, &n0);

    /* The disk fills up at various points of the save of b over a's file. */
    long long fail_at[] = {0, 5, 8, 100, (long long)n0 / 2, (long long)n0 - 1};
    for (size_t i = 0; i < sizeof fail_at / sizeof fail_at[0]; i++) {
        loco__ckpt_fail_after_bytes = fail_at[i];
        msg[0] = 0;
        int e = loco_checkpoint_save(path, b, &meta, 1, msg, sizeof msg);
        loco__ckpt_fail_after_bytes = -1;
        CHECK(e == LOCO_EIO && strstr(msg, path) && strstr(msg, "No space"),
              "write failing at byte %lld: %d '%s'", fail_at[i], e, msg);
        unsigned char *after = slurp(path, &n1);
        CHECK(after && before && n1 == n0 && memcmp(before, after, n0) == 0,
              "the previous checkpoint changed after a failed save at byte %lld", fail_at[i]);
        free(after);
        CHECK(count_entries(dirb) == 1, "a temporary file was left behind (failure at byte %lld)", fail_at[i]);
    }
    /* The hook is live: with it off the same save goes through. */
    CHECK(loco_checkpoint_save(path, b, &meta, 1, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    loco_gpt *r = NULL;
    CHECK(loco_checkpoint_load(path, &r, 1, 8, NULL, msg, sizeof msg) == LOCO_OK, "load: %s", msg);
    CHECK(r && memcmp(r->params, b->params, 4 * b->num_params) == 0, "the replacing save did not take");
    loco_gpt_free(r);

    /* Unwritable destinations: a missing directory, a directory in the way. */
    char nodir[160], isdir[160];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/c.safetensors", dirb);
    CHECK(loco_checkpoint_save(nodir, a, &meta, 0, msg, sizeof msg) == LOCO_EIO && strstr(msg, nodir) &&
          strstr(msg, "No such file"), "save into a missing directory: '%s'", msg);
    snprintf(isdir, sizeof isdir, "%s/sub", dirb);
    CHECK(mkdir(isdir, 0755) == 0, "mkdir");
    CHECK(loco_checkpoint_save(isdir, a, &meta, 0, msg, sizeof msg) == LOCO_EIO && strstr(msg, isdir) &&
          strstr(msg, "not a regular file"), "save over a directory: '%s'", msg);
    CHECK(count_entries(dirb) == 2, "a temporary file was left behind by the refused save");
    /* Without root, a read-only directory refuses the temporary file. */
    if (geteuid() != 0) {
        char ro[200];
        snprintf(ro, sizeof ro, "%s/ro.safetensors", isdir);
        chmod(isdir, 0555);
        CHECK(loco_checkpoint_save(ro, a, &meta, 0, msg, sizeof msg) == LOCO_EIO && strstr(msg, ro),
              "save into a read-only directory: '%s'", msg);
        chmod(isdir, 0755);
    }
    free(before);
    loco_gpt_free(a);
    loco_gpt_free(b);
    rm_dir(dirb);
}

/* ---------------------------------------------------------- PyTorch */

LOCO_TEST(ckpt_matches_torch) {
    if (system(LOCO_TEST_PYTHON " -c 'import torch' 2>/dev/null") != 0 ||
        access("tests/ref_checkpoint.py", R_OK) != 0) {
        FAIL("PyTorch reference unavailable: needs %s with torch (apt-get install python3-torch) and "
             "tests/ref_checkpoint.py (run from the repo root)", LOCO_TEST_PYTHON);
        return;
    }
    enum { L = 2, C = 64, NH = 4, T = 32, V = 97, B = 3 };
    char dirb[64], path[128], toks[128], out[128], msg[300];
    if (!make_dir(dirb)) { FAIL("mkdtemp"); return; }
    snprintf(path, sizeof path, "%s/m.safetensors", dirb);
    snprintf(toks, sizeof toks, "%s/tokens.bin", dirb);
    snprintf(out, sizeof out, "%s/logits.bin", dirb);
    loco_gpt_config cfg = {.max_seq_len = T, .vocab_size = V, .n_layer = L, .n_head = NH, .channels = C};
    loco_gpt *m, *r = NULL;
    CHECK(loco_gpt_create(&m, &cfg, B, T, 42, NULL, 0) == LOCO_OK, "create");
    /* A few AdamW steps first, so that biases and gains are not at their
     * initial 0 and 1 and every tensor's placement in the file matters. */
    int buf[2 + B * T], tgt[B * T];
    loco_rng rng;
    loco_rng_seed(&rng, 7);
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, 5);
    oc.lr = 1e-2f;
    int *tok = buf + 2;
    for (int s = 0; s < 5; s++) {
        for (int i = 0; i < B * T; i++) {
            tok[i] = (int)(loco_rng_u64(&rng) % V);
            tgt[i] = (tok[i] * 5 + 3) % V;
        }
        loco_gpt_forward(m, tok, tgt, B, T);
        loco_gpt_zero_grad(m);
        loco_gpt_backward(m);
        loco_gpt_adamw_step(m, &oc, s, NULL);
    }
    loco_checkpoint_meta meta;
    fill_meta(&meta, 5, &rng, &oc);
    CHECK(loco_checkpoint_save(path, m, &meta, 1, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    for (int i = 0; i < B * T; i++) tok[i] = (int)(loco_rng_u64(&rng) % V);
    buf[0] = B;
    buf[1] = T;
    CHECK(spit(toks, buf, sizeof buf) == 0, "write tokens");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s tests/ref_checkpoint.py %s %s %s", LOCO_TEST_PYTHON, path, toks, out);
    CHECK(system(cmd) == 0, "tests/ref_checkpoint.py failed on %s", path);
    size_t n = 0;
    float *ref = (float *)slurp(out, &n);
    CHECK(ref && n == sizeof(float) * B * T * V, "reference wrote %zu bytes", n);
    CHECK(loco_checkpoint_load(path, &r, B, T, NULL, msg, sizeof msg) == LOCO_OK, "load: %s", msg);
    if (ref && n == sizeof(float) * B * T * V && r) {
        loco_gpt_forward(m, tok, NULL, B, T);
        loco_gpt_forward(r, tok, NULL, B, T);
        /* The loaded model is the saved one: identical bits. */
        CHECK(memcmp(loco_gpt_logits(m), loco_gpt_logits(r), sizeof(float) * B * T * V) == 0,
              "logits of the loaded model differ from the saved one's");
        double e = loco_test_rel_err(loco_gpt_logits(m), ref, (size_t)B * T * V);
        printf("  logits loco vs torch from the checkpoint: %.2e\n", e);
        /* Same tolerance as gpt_matches_torch: ~30 fp32 ulps of the scale. */
        CHECK(e < 2e-6, "logits differ from torch's: %.3e", e);
    }
    free(ref);
    loco_gpt_free(r);
    loco_gpt_free(m);
    rm_dir(dirb);
}
