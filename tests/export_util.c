#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "export_util.h"

char *loco_xt_text(size_t n, uint64_t seed) {
    static const char *syl[] = {"the", "an", "ing", "er", "o", "ka", "li", "st", "re", "mo",
                                "pa", "qu", "e", "th", "ou", "sh", "ay", "ne", "vi", "do"};
    static const char *extra[] = {"é", "über", "中文", "'s", "'ll", "'re", "—", "°C"};
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    char *buf = malloc(n + 1);
    size_t k = 0;
    while (buf && k + 64 < n) {
        /* Small indices are favoured, so that some words are frequent. */
        int ns = 1 + (int)(loco_rng_u64(&rng) % 3);
        for (int s = 0; s < ns; s++) {
            float u = loco_rng_uniform(&rng);
            const char *x = syl[(int)(u * u * u * 20)];
            memcpy(buf + k, x, strlen(x));
            k += strlen(x);
        }
        uint64_t r = loco_rng_u64(&rng) % 100;
        if (r < 4) k += (size_t)sprintf(buf + k, "%s", extra[loco_rng_u64(&rng) % 8]);
        else if (r < 7) k += (size_t)sprintf(buf + k, " %d", (int)(loco_rng_u64(&rng) % 500));
        else if (r < 13) buf[k++] = ',';
        else if (r < 17) { buf[k++] = '.'; buf[k++] = '\n'; }
        buf[k++] = ' ';
    }
    if (buf) buf[k] = 0;
    return buf;
}

loco_tokenizer *loco_xt_tokenizer(int V) {
    size_t n = 60000;
    char *text = loco_xt_text(n, 11), msg[256];
    loco_tokenizer *t = NULL;
    if (text && loco_tokenizer_train(&t, (const uint8_t *)text, strlen(text), V, msg, sizeof msg) != LOCO_OK)
        fprintf(stderr, "  tokenizer: %s\n", msg);
    free(text);
    return t;
}

loco_gpt *loco_xt_model(const loco_gpt_config *cfg, int B, int T, uint64_t seed) {
    loco_gpt *m = NULL;
    if (loco_gpt_create(&m, cfg, B, T, seed, NULL, 0) != LOCO_OK) return NULL;
    int *tok = malloc(sizeof(int) * B * T), *tgt = malloc(sizeof(int) * B * T);
    loco_rng rng;
    loco_rng_seed(&rng, seed + 1);
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, 5);
    oc.lr = 1e-2f;
    for (int s = 0; tok && tgt && s < 5; s++) {
        for (int i = 0; i < B * T; i++) {
            tok[i] = (int)(loco_rng_u64(&rng) % (uint64_t)cfg->vocab_size);
            tgt[i] = (tok[i] * 5 + 3) % cfg->vocab_size;
        }
        loco_gpt_forward(m, tok, tgt, B, T);
        loco_gpt_zero_grad(m);
        loco_gpt_backward(m);
        loco_gpt_adamw_step(m, &oc, s, NULL);
    }
    free(tok);
    free(tgt);
    return m;
}

char *loco_xt_dir(char *buf, const char *tag) {
    snprintf(buf, 64, "/tmp/loco_%s_XXXXXX", tag);
    return mkdtemp(buf);
}

void loco_xt_rmdir(const char *dir) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "  cannot remove %s\n", dir);
}

char *loco_xt_slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap + 1);
    while (b) {
        len += fread(b + len, 1, cap - len, f);
        if (len < cap) break;
        char *g = realloc(b, 2 * cap + 1);
        if (!g) free(b);
        b = g;
        cap *= 2;
    }
    fclose(f);
    if (b) b[len] = 0;
    if (n) *n = len;
    return b;
}

int loco_xt_spit(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int loco_xt_capture(const char *cmd, char *out, size_t cap) {
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    while (fgetc(p) != EOF) {}
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
