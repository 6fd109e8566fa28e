/*
 * The GGUF round trip through llama.cpp itself: a small model trained by
 * `loco train` on a BPE tokenizer, copied away from its tokenizer (it
 * carries it), exported by `loco export` in f32 and f16 and run by
 * llama.cpp's own build in the npm package node-llama-cpp
 * (tests/llama_setup.sh installs it once; tests/ref_llama.mjs drives it).
 * On 20 prompts llama.cpp must tokenize the text as loco does, and its
 * greedy continuation of loco's prompt ids must be loco's for 32 steps,
 * with logits within a bound set out below; `loco sample --temperature 0`
 * must print the same continuation.  Skips only when the npm package
 * cannot be installed here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "export_util.h"
#include "loco/checkpoint.h"
#include "test.h"
#include "util.h"

#define N_PROMPTS 20
#define STEPS 32
#define T_MAX 64

static const char *prompts[N_PROMPTS] = {
    "the", "The quick", "ka li st re", "mother, thee", "queen shay vine",
    "doing the thing.\n", "It's the", "we'll see, they're", "about 123 of", "over 4000",
    "caf\xc3\xa9 \xc3\xbc" "ber", "\xe4\xb8\xad\xe6\x96\x87 and", "  two spaces", "pa qu e th",
    "\n", "ou sh ay ne vi do", "re mo pa, re mo", "The end.\nThe", "li li li", "st\xe2\x80\x94 the",
};

/* Appends s, single-quoted for sh, to buf. */
static void sh_quote(char *buf, size_t cap, const char *s) {
    size_t n = strlen(buf);
    if (n < cap - 1) buf[n++] = '\'';
    for (; *s && n + 5 < cap; s++) {
        if (*s == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *s;
        }
    }
    if (n < cap - 1) buf[n++] = '\'';
    buf[n] = 0;
}

/* loco's greedy decoding of every prompt, as loco sample does it: the
 * first largest logit, STEPS times.  ids[p] holds the prompt then the
 * continuation; logits[p] the STEPS rows of V logits. */
typedef struct {
    int n_ids[N_PROMPTS], ids[N_PROMPTS][T_MAX];
    float *logits[N_PROMPTS];
} decoding;

static int loco_greedy(loco_gpt *m, const loco_tokenizer *tok, decoding *d) {
    const int V = loco_gpt_get_config(m)->vocab_size;
    for (int p = 0; p < N_PROMPTS; p++) {
        long n = loco_tokenizer_encode(tok, (const uint8_t *)prompts[p], strlen(prompts[p]), d->ids[p], T_MAX);
        if (n <= 0 || n + STEPS > T_MAX) return -1;
        d->n_ids[p] = (int)n;
        d->logits[p] = malloc(sizeof(float) * STEPS * V);
        if (!d->logits[p]) return -1;
        for (int s = 0; s < STEPS; s++, n++) {
            if (loco_gpt_forward(m, d->ids[p], NULL, 1, (int)n) != LOCO_OK) return -1;
            const float *z = loco_gpt_logits(m) + (size_t)(n - 1) * V;
            memcpy(d->logits[p] + (size_t)s * V, z, sizeof(float) * V);
            int best = 0;
            for (int v = 1; v < V; v++) best = z[v] > z[best] ? v : best;
            d->ids[p][n] = best;
        }
    }
    return 0;
}

/* Compares llama.cpp's answer (out.json) with loco's decoding; prints and
 * returns the figures.  tol: the largest logit difference, relative to the
 * row's largest |logit|, that the comparison allows. */
typedef struct {
    int tokenized_same, greedy_same, tie_divergences, other_divergences;
    double max_rel, min_gap;
} figures;

static int compare(const char *out_json, const decoding *d, int V, figures *f) {
    memset(f, 0, sizeof *f);
    f->min_gap = INFINITY;
    char *text = loco_xt_slurp(out_json, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "prompts");
    if (cJSON_GetArraySize(ps) != N_PROMPTS) {
        cJSON_Delete(j);
        return -1;
    }
    for (int p = 0; p < N_PROMPTS; p++) {
        const cJSON *e = cJSON_GetArrayItem(ps, p);
        const cJSON *tk = cJSON_GetObjectItemCaseSensitive(e, "tokens");
        const cJSON *gr = cJSON_GetObjectItemCaseSensitive(e, "greedy");
        const cJSON *lg = cJSON_GetObjectItemCaseSensitive(e, "logits");
        int same = cJSON_GetArraySize(tk) == d->n_ids[p];
        for (int i = 0; same && i < d->n_ids[p]; i++) same = cJSON_GetArrayItem(tk, i)->valueint == d->ids[p][i];
        f->tokenized_same += same;
        if (cJSON_GetArraySize(gr) != STEPS || cJSON_GetArraySize(lg) != STEPS) {
            cJSON_Delete(j);
            return -1;
        }
        /* Step s sees the same context in both while every earlier token
         * agreed, so its logits are compared up to the first divergence. */
        int s = 0;
        for (; s < STEPS; s++) {
            const float *z = d->logits[p] + (size_t)s * V;
            const cJSON *row = cJSON_GetArrayItem(lg, s);
            if (cJSON_GetArraySize(row) != V) {
                cJSON_Delete(j);
                return -1;
            }
            double scale = 0, diff = 0;
            int v = 0;
            const cJSON *x;
            cJSON_ArrayForEach(x, row) {
                scale = fmax(scale, fabs(z[v]));
                diff = fmax(diff, cJSON_IsNumber(x) ? fabs(x->valuedouble - z[v]) : INFINITY);
                v++;
            }
            f->max_rel = fmax(f->max_rel, diff / scale);
            /* The margin of loco's choice: its top logit over the next. */
            int best = d->ids[p][d->n_ids[p] + s];
            double second = -INFINITY;
            for (int u = 0; u < V; u++) if (u != best) second = fmax(second, z[u]);
            double gap = (z[best] - second) / scale;
            f->min_gap = fmin(f->min_gap, gap);
            if (cJSON_GetArrayItem(gr, s)->valueint != best) {
                /* A divergence is explained only by a near-tie: a margin
                 * below twice the largest difference seen in that row. */
                if (gap <= 2 * diff / scale) f->tie_divergences++;
                else f->other_divergences++;
                break;
            }
        }
        f->greedy_same += s == STEPS;
    }
    cJSON_Delete(j);
    return 0;
}

/* Runs tests/ref_llama.mjs on model; returns its exit status. */
static int run_llama(const char *node_dir, const char *dir, const char *model, const decoding *d, int V,
                     const char *out) {
    cJSON *job = cJSON_CreateObject(), *ps = cJSON_AddArrayToObject(job, "prompts");
    cJSON_AddStringToObject(job, "model", model);
    cJSON_AddNumberToObject(job, "vocab", V);
    cJSON_AddNumberToObject(job, "steps", STEPS);
    for (int p = 0; p < N_PROMPTS; p++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "text", prompts[p]);
        cJSON_AddItemToObject(e, "ids", cJSON_CreateIntArray(d->ids[p], d->n_ids[p]));
        cJSON_AddItemToArray(ps, e);
    }
    char *text = cJSON_PrintUnformatted(job), in[200], cmd[1600], log[4096];
    cJSON_Delete(job);
    snprintf(in, sizeof in, "%s/job.json", dir);
    int bad = !text || loco_xt_spit(in, text, strlen(text));
    free(text);
    if (bad) return -1;
    snprintf(cmd, sizeof cmd, "node tests/ref_llama.mjs %s %s %s 2>&1", node_dir, in, out);
    int st = loco_xt_capture(cmd, log, sizeof log);
    if (st) fprintf(stderr, "  %s:\n%s\n", cmd, log);
    return st;
}

LOCO_TEST(export_gguf_llama_cpp) {
    char node_dir[1024], why[1024], dir[64] = "", a[2400], err[2048], msg[512] = "", p[256];
    int st = loco_xt_capture("sh tests/llama_setup.sh 2>&1", node_dir, sizeof node_dir);
    node_dir[strcspn(node_dir, "\n")] = 0;
    if (st == 3) SKIP("llama.cpp unavailable: %s", node_dir);
    if (st != 0) {
        FAIL("tests/llama_setup.sh failed (%d): %s", st, node_dir);
        return;
    }
    snprintf(why, sizeof why, "%s", node_dir);
    decoding d;
    memset(&d, 0, sizeof d);
    loco_tokenizer *tok = NULL;
    loco_gpt *m = NULL;
    char *text = loco_xt_text(400000, 21);
    if (!text || !loco_xt_dir(dir, "llama")) {
        FAIL("setup");
        goto done;
    }
    /* Documents of JSON Lines for loco data prepare. */
    snprintf(p, sizeof p, "%s/text.jsonl", dir);
    FILE *f = fopen(p, "w");
    for (size_t at = 0, len = strlen(text); f && at < len; at += 4000) {
        size_t end = at + 4000 < len ? at + 4000 : len;
        char keep = text[end];
        text[end] = 0;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "text", text + at);
        char *line = cJSON_PrintUnformatted(o);
        fprintf(f, "%s\n", line);
        cJSON_free(line);
        cJSON_Delete(o);
        text[end] = keep;
    }
    CHECK(f && fclose(f) == 0, "write %s", p);
    snprintf(a, sizeof a, "%s/tok", dir);
    mkdir(a, 0755);
    snprintf(a, sizeof a, "tokenizer train --input %s/text.jsonl --vocab-size 384 --out %s/tok/tokenizer.json", dir,
             dir);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "loco %s: %s", a, err);
    snprintf(a, sizeof a, "data prepare --input %s/text.jsonl --tokenizer %s/tok/tokenizer.json --out %s/s", dir, dir,
             dir);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "loco %s: %s", a, err);
    snprintf(a, sizeof a, "train --train-shard %s/s.train.bin --val-shard %s/s.val.bin --tokenizer %s/tok/tokenizer.json "
             "--layers 2 --channels 64 --heads 4 --seq-len %d --batch 8 --steps 300 --lr 3e-3 --warmup 20 "
             "--eval-every 0 --threads 1 --out %s/run", dir, dir, dir, T_MAX, dir);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "loco %s: %s", a, err);
    /* The checkpoint alone, its tokenizer removed: it carries it. */
    snprintf(a, sizeof a, "mkdir %s/moved && mv %s/run/model.safetensors %s/moved/ && rm -r %s/tok", dir, dir, dir,
             dir);
    CHECK(system(a) == 0, "%s", a);
    char ck[200];
    snprintf(ck, sizeof ck, "%s/moved/model.safetensors", dir);
    CHECK(loco_checkpoint_load_tokenizer(ck, &tok, msg, sizeof msg) == LOCO_OK && tok, "%s", msg);
    CHECK(loco_checkpoint_load(ck, &m, 1, T_MAX, NULL, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (!tok || !m || loco_greedy(m, tok, &d)) {
        FAIL("loco's greedy decoding");
        goto done;
    }
    const int V = loco_gpt_get_config(m)->vocab_size;
    /* loco sample --temperature 0 prints the continuation decoded here. */
    int sample_same = 0;
    for (int q = 0; q < N_PROMPTS; q++) {
        char cmd[1000] = "", out[4096], want[4096];
        snprintf(cmd, sizeof cmd, "%s sample --checkpoint %s --temperature 0 --tokens %d --threads 1 --prompt ",
                 loco_test_bin(), ck, STEPS);
        sh_quote(cmd, sizeof cmd, prompts[q]);
        int rc = loco_xt_capture(cmd, out, sizeof out);
        long k = loco_tokenizer_decode(tok, d.ids[q] + d.n_ids[q], STEPS, (uint8_t *)want, sizeof want - 1);
        size_t pl = strlen(prompts[q]);
        sample_same += rc == 0 && k >= 0 && strlen(out) == pl + (size_t)k + 1 && !memcmp(out, prompts[q], pl) &&
                       !memcmp(out + pl, want, (size_t)k);
    }
    CHECK(sample_same == N_PROMPTS, "loco sample's greedy text matches on %d of %d prompts", sample_same, N_PROMPTS);

    for (int f16 = 0; f16 < 2; f16++) {
        char gg[200], out[200];
        snprintf(gg, sizeof gg, "%s/m%s.gguf", dir, f16 ? "16" : "32");
        snprintf(out, sizeof out, "%s/llama%d.json", dir, f16);
        snprintf(a, sizeof a, "export --checkpoint %s --format gguf --dtype %s --out %s", ck, f16 ? "f16" : "f32", gg);
        CHECK(loco_test_run(a, err, sizeof err) == 0, "loco %s: %s", a, err);
        struct stat sb;
        long size = stat(gg, &sb) == 0 ? (long)sb.st_size : -1;
        if (run_llama(why, dir, gg, &d, V, out) != 0) {
            FAIL("llama.cpp (node-llama-cpp in %s) could not run %s", why, gg);
            continue;
        }
        figures fg;
        if (compare(out, &d, V, &fg)) {
            FAIL("llama.cpp's answer %s is malformed", out);
            continue;
        }
        printf("  %s GGUF (%ld bytes): tokenization %d/%d, greedy %d/%d prompts x %d steps identical "
               "(%d divergences at near-ties, %d others); logits max |llama.cpp - loco| %.2e of the row's scale; "
               "smallest top-2 margin %.2e\n", f16 ? "f16" : "f32", size, fg.tokenized_same, N_PROMPTS,
               fg.greedy_same, N_PROMPTS, STEPS, fg.tie_divergences, fg.other_divergences, fg.max_rel, fg.min_gap);
        CHECK(fg.tokenized_same == N_PROMPTS, "llama.cpp tokenizes %d of %d prompts as loco does", fg.tokenized_same,
              N_PROMPTS);
        CHECK(fg.other_divergences == 0, "%d greedy divergences without a near-tie", fg.other_divergences);
        /* The bounds.  llama.cpp sums in another order and, on the CPU,
         * takes GELU from a table indexed by the half-precision input, so
         * each MLP activation carries a relative error up to 2^-11 = 4.9e-4
         * even in a float32 file (measured: 4.7e-4 of the logits' scale).
         * With f16 weights ggml also rounds the activations it multiplies
         * them with to half precision, 2^-11 more per operand (measured:
         * 6.6e-4).  Each bound is four times its rounding unit. */
        double tol = f16 ? 4e-3 : 2e-3;
        CHECK(fg.max_rel < tol, "logits differ by %.3e of their scale (bound %.0e)", fg.max_rel, tol);
        /* The trained model's smallest top-2 margin (9e-3 of the scale) is
         * twenty times the float32 difference: no near-tie may excuse it. */
        if (!f16) CHECK(fg.greedy_same == N_PROMPTS, "float32: greedy agrees on %d of %d prompts", fg.greedy_same,
                        N_PROMPTS);
    }
done:
    for (int q = 0; q < N_PROMPTS; q++) free(d.logits[q]);
    if (dir[0]) loco_xt_rmdir(dir);
    free(text);
    loco_tokenizer_free(tok);
    loco_gpt_free(m);
}
