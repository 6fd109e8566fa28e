/*
 * libFuzzer target for the agent's checkpoint reader (src/agent/ckpt.c):
 * every input is written to a file and loaded with loco_agent_load.  An error
 * must be one line naming the file and leave no model; a model that loads
 * must hold a valid configuration and finite parameters, its size fitting
 * the file (the reader checks the size before it allocates, and caps one
 * step's activations, so no input can ask for gigabytes).
 *
 * Seeds: LLVMFuzzerInitialize writes two checkpoints of tiny agents (with
 * and without Adam's moments) into each corpus directory on the command line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loco/agent.h"

static void write_seed(const char *dir, const char *name, int obs, int with_opt) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (access(path, F_OK) == 0) return;
    loco_agent_config c = {
        .frame_h = 8, .frame_w = 8, .conv_ch = {2, 2, 2, 2}, .d_model = 4, .mmt_layers = 1, .mmt_heads = 2,
        .vocab_words = 5, .hash_buckets = 3, .word_dim = 4, .str_heads = 2, .max_words = 3, .max_dom = 2,
        .max_fields = 2, .geom_dim = 2, .lstm_hidden = 3, .x_bins = 3, .y_bins = 2, .n_keys = 2, .xemb_dim = 2,
        .obs = obs};
    loco_agent *m;
    if (loco_agent_create(&m, &c, 1, 1, 1, NULL, 0) != LOCO_OK) return;
    loco_agent_ckpt_meta meta = {.step = 3, .seed = 1};
    loco_adamw_config_default(&meta.opt, 10);
    loco_agent_save(path, m, &meta, with_opt, NULL, 0);
    loco_agent_free(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    loco_threads_set(1);
    for (int i = 1; i < *argc; i++) {
        struct stat st;
        const char *a = (*argv)[i];
        if (a[0] == '-' || stat(a, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        write_seed(a, "seed_both_adam.safetensors", LOCO_OBS_BOTH, 1);
        write_seed(a, "seed_dom.safetensors", LOCO_OBS_DOM, 0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/loco_fuzz_agent_%ld.safetensors", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t wrote = fwrite(data, 1, size, f);
    fclose(f);
    if (wrote != size) return 0;
    char msg[512];
    loco_agent *m = NULL;
    loco_agent_ckpt_meta meta;
    int e = loco_agent_load(path, &m, 1, 1, &meta, msg, sizeof msg);
    if (e) {
        if (m || strncmp(msg, path, strlen(path)) != 0 || strchr(msg, '\n')) abort();
        return 0;
    }
    if (loco_agent_config_check(loco_agent_get_config(m), NULL, 0) != LOCO_OK) abort();
    const float *p = loco_agent_params(m);
    size_t np = loco_agent_num_params(m);
    if (size < 4 * np) abort();
    for (size_t j = 0; j < np; j++)
        if (!isfinite(p[j])) abort();
    loco_agent_free(m);
    return 0;
}
