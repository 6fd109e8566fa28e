/*
 * libFuzzer target for the Hugging Face GPT-2 folder reader (`loco train
 * --init DIR`, loco_hf_load).  Each input is split at the first "\n===\n"
 * (else in the middle) into config.json and model.safetensors, written to
 * a scratch folder and loaded.  A load either fails with one line naming a
 * file of the folder, or gives a model whose configuration is config.json's
 * and whose parameters are all finite.  The header is checked whole before
 * anything is allocated, so a small input cannot make a large model: the
 * configuration is capped by what the safetensors bytes can hold.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loco/export.h"

/* Writes n bytes to path; returns 0 on failure. */
static int put(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char dir[64], cfg[96], st[96];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/loco_fuzz_hf_%ld", (long)getpid());
        mkdir(dir, 0755);
        snprintf(cfg, sizeof cfg, "%s/config.json", dir);
        snprintf(st, sizeof st, "%s/model.safetensors", dir);
    }
    const uint8_t *sep = NULL;
    for (size_t i = 0; i + 5 <= size && !sep; i++)
        if (!memcmp(data + i, "\n===\n", 5)) sep = data + i;
    size_t nc = sep ? (size_t)(sep - data) : size / 2, skip = sep ? 5 : 0;
    if (!put(cfg, data, nc) || !put(st, data + nc + skip, size - nc - skip)) return 0;
    char msg[512] = "";
    loco_gpt_config c;
    int rc_cfg = loco_hf_read_config(dir, &c, msg, sizeof msg);
    if (rc_cfg != LOCO_OK && (!strstr(msg, dir) || strchr(msg, '\n'))) abort();
    loco_gpt *m = NULL;
    /* The largest model a few MB of input could describe stays small:
     * every parameter must be in the file. */
    int rc = loco_hf_load(dir, &m, 1, 1, msg, sizeof msg);
    if (rc != LOCO_OK) {
        if (m || !strstr(msg, dir) || strchr(msg, '\n')) abort();
        return 0;
    }
    if (rc_cfg != LOCO_OK || memcmp(loco_gpt_get_config(m), &c, sizeof c)) abort();
    const float *p = loco_gpt_params(m);
    for (size_t i = 0; i < loco_gpt_num_params(m); i++)
        if (!isfinite(p[i])) abort();
    loco_gpt_free(m);
    return 0;
}
