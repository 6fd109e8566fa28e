/* Where `loco train` gets a starting model (--init: a loco checkpoint or a
 * Hugging Face GPT-2 folder) and the tokenizer text its checkpoints embed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/common.h"
#include "loco/checkpoint.h"
#include "loco/export.h"

int loco_cli_init_config(const char *path, loco_gpt_config *cfg, char *msg, size_t msglen) {
    return loco_hf_is_folder(path) ? loco_hf_read_config(path, cfg, msg, msglen)
                                   : loco_checkpoint_read_config(path, cfg, msg, msglen);
}

int loco_cli_init_load(const char *path, loco_gpt **m, int B, int T, char *msg, size_t msglen) {
    return loco_hf_is_folder(path) ? loco_hf_load(path, m, B, T, msg, msglen)
                                   : loco_checkpoint_load(path, m, B, T, NULL, msg, msglen);
}

int loco_cli_tokenizer_json(const char *ckpt, const char *spec, char **json, char *msg, size_t msglen) {
    loco_tokenizer *t = NULL;
    int e = LOCO_OK;
    *json = NULL;
    if (spec && *spec) e = loco_tokenizer_load_beside(&t, spec, NULL, msg, msglen);
    else if (ckpt) e = loco_checkpoint_load_tokenizer(ckpt, &t, msg, msglen);
    if (e || !t) return e;
    *json = loco_tokenizer_to_json(t, NULL);
    loco_tokenizer_free(t);
    if (!*json) {
        snprintf(msg, msglen, "out of memory for the tokenizer's text");
        return LOCO_ENOMEM;
    }
    return LOCO_OK;
}

int loco_cli_model_tokenizer(loco_tokenizer **t, const char *spec, const char *ckpt, const char *recorded,
                             const char *dir, char *msg, size_t msglen) {
    *t = NULL;
    if (spec) return loco_tokenizer_load_beside(t, spec, NULL, msg, msglen);
    if (ckpt) return loco_checkpoint_load_tokenizer(ckpt, t, msg, msglen);
    if (recorded && *recorded) return loco_tokenizer_load_beside(t, recorded, dir, msg, msglen);
    return LOCO_OK;
}
