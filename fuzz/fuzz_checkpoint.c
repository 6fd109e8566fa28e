/*
 * libFuzzer target for the checkpoint reader: every input is written to a
 * file, read with loco_checkpoint_read_config and loaded with
 * loco_checkpoint_load; a model that loads runs one forward pass, so any
 * header the checks let through must describe memory that really exists
 * (ASan and UBSan watch every access).  The loader only allocates a model
 * whose parameters the file actually holds, so inputs cannot ask for
 * gigabytes.
 *
 * Seeds: the corpus directory is gitignored, so LLVMFuzzerInitialize writes
 * two valid checkpoints of tiny models (one with AdamW state) into each
 * corpus directory given on the command line, with the current writer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loco/checkpoint.h"
#include "hostile_paths.h"

static int load_ckpt(const char *path, char *msg, size_t msglen) {
    return loco_checkpoint_read_config(path, NULL, msg, msglen);
}

/* Saves a tiny model to dir/name unless it exists. */
static void write_seed(const char *dir, const char *name, loco_gpt_config cfg, int with_opt) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (access(path, F_OK) == 0) return;
    loco_gpt *m;
    if (loco_gpt_create(&m, &cfg, 1, 1, 1, NULL, 0) != LOCO_OK) return;
    loco_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.step = 3;
    loco_adamw_config_default(&meta.opt, 10);
    strcpy(meta.tokenizer, "bytes");
    loco_checkpoint_save(path, m, &meta, with_opt, NULL, 0);
    loco_gpt_free(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    loco_threads_set(1);
    for (int i = 1; i < *argc; i++) {
        struct stat st;
        const char *a = (*argv)[i];
        if (a[0] == '-' || stat(a, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        write_seed(a, "seed_adamw.safetensors", (loco_gpt_config){3, 5, 1, 2, 4}, 1);
        write_seed(a, "seed_params.safetensors", (loco_gpt_config){2, 3, 2, 1, 2}, 0);
    }
    return 0;
}

/* Aborts unless msg is one line naming path: the promise of every error. */
static void check_msg(const char *msg, const char *path) {
    if (strncmp(msg, path, strlen(path)) != 0 || strchr(msg, '\n')) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    loco_fuzz_hostile_paths(load_ckpt);
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/loco_fuzz_ckpt_%ld.safetensors", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t wrote = fwrite(data, 1, size, f);
    fclose(f);
    if (wrote != size) return 0;
    char msg[512];
    loco_gpt_config cfg;
    int e1 = loco_checkpoint_read_config(path, &cfg, msg, sizeof msg);
    if (e1) check_msg(msg, path);
    loco_gpt *m = NULL;
    loco_checkpoint_meta meta;
    int e2 = loco_checkpoint_load(path, &m, 1, 1, &meta, msg, sizeof msg);
    if (e2) {
        check_msg(msg, path);
        if (m) abort();
        /* The two readers validate the same header, so they must agree;
         * only load reads (and checks) the values, and allocates. */
        if (!e1 && e2 != LOCO_ENOMEM && e2 != LOCO_ENONFINITE) abort();
        return 0;
    }
    if (e1 || memcmp(&cfg, loco_gpt_get_config(m), sizeof cfg) != 0) abort();
    if (!memchr(meta.tokenizer, 0, sizeof meta.tokenizer)) abort();
    /* The loader promises finite parameters.  The forward pass runs only on
     * moderate ones: this target is about the file reader, and huge weights
     * overflow activations to Inf and NaN, which is the model's business. */
    const float *p = loco_gpt_params(m);
    size_t np = loco_gpt_num_params(m), j = 0;
    for (; j < np && p[j] >= -100.0f && p[j] <= 100.0f; j++) {
        if (!isfinite(p[j])) abort();
    }
    int tok = 0;
    if (j == np) {
        if (loco_gpt_forward(m, &tok, &tok, 1, 1) != LOCO_OK) abort();
        volatile float loss = loco_gpt_loss(m);
        (void)loss;
    }
    loco_gpt_free(m);
    return 0;
}
