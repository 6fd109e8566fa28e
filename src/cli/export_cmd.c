/*
 * `loco export`: a checkpoint (or one path of a DiPaCo model) as a GGUF file
 * for llama.cpp or a Hugging Face GPT-2 folder (src/export/,
 * docs/checkpoints.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "loco/checkpoint.h"
#include "loco/dipaco.h"
#include "loco/export.h"

/* Is path a DiPaCo model directory (it holds dipaco.json)? */
static int is_dipaco(const char *path) {
    char f[4200];
    struct stat st;
    snprintf(f, sizeof f, "%s/dipaco.json", path);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && stat(f, &st) == 0;
}

/* Loads the dense model to export: the checkpoint, or path K of the DiPaCo
 * directory, with its tokenizer (tspec overrides the recorded one).
 * Returns 0, 1 (runtime) or 2 (usage) with a reason in msg. */
static int load_model(const char *src, int path_k, const char *tspec, loco_gpt **m, loco_tokenizer **tok,
                      char *msg, size_t msglen) {
    char recorded[256] = "", dir[4200] = ".";
    *m = NULL;
    *tok = NULL;
    if (is_dipaco(src)) {
        loco_dipaco_layout lay;
        if (loco_dipaco_load_layout(src, &lay, recorded, NULL, msg, msglen)) return 1;
        if (path_k < 0) {
            snprintf(msg, msglen, "%s is a DiPaCo model of %d paths: give --path K (0..%d) to export one", src,
                     lay.n_paths, lay.n_paths - 1);
            return 2;
        }
        if (path_k >= lay.n_paths) {
            snprintf(msg, msglen, "--path %d: %s has paths 0..%d", path_k, src, lay.n_paths - 1);
            return 2;
        }
        if (loco_gpt_create(m, &lay.g, 1, 1, 0, msg, msglen) ||
            loco_dipaco_load_path(src, &lay, path_k, loco_gpt_params(*m), msg, msglen))
            return 1;
        snprintf(dir, sizeof dir, "%s", src);
        if (!tspec && recorded[0] && loco_tokenizer_load_beside(tok, recorded, dir, msg, msglen)) return 1;
    } else {
        if (path_k >= 0) {
            snprintf(msg, msglen, "--path applies to a DiPaCo model directory; %s is not one", src);
            return 2;
        }
        /* No forward pass runs: room for one token is enough. */
        if (loco_checkpoint_load(src, m, 1, 1, NULL, msg, msglen)) return 1;
        if (!tspec && loco_checkpoint_load_tokenizer(src, tok, msg, msglen)) return 1;
    }
    if (tspec && loco_tokenizer_load_beside(tok, tspec, NULL, msg, msglen)) return 1;
    if (!*tok) {
        snprintf(msg, msglen, "%s is a byte-level model (it records no tokenizer): GGUF and Hugging Face GPT-2 "
                 "need a BPE vocabulary; give --tokenizer if it has one", src);
        return 2;
    }
    return 0;
}

int loco_cmd_export(int argc, char **argv) {
    const char *ckpt = NULL, *dipaco = NULL, *format = NULL, *out = NULL, *dtype_s = "f32", *tspec = NULL;
    const char *name = NULL;
    int path_k = -1;
    const arg_spec specs[] = {
        {"checkpoint", ARG_STR, &ckpt, 0, 0, "model checkpoint (.safetensors), or a DiPaCo model directory"},
        {"dipaco", ARG_STR, &dipaco, 0, 0, "a DiPaCo model directory (as --checkpoint)"},
        {"path", ARG_INT, &path_k, 0, 1e6, "DiPaCo: the path to export as a dense model"},
        {"format", ARG_STR, &format, 0, 0, "gguf (llama.cpp) or hf (Hugging Face GPT-2 folder)"},
        {"out", ARG_STR, &out, 0, 0, "the .gguf file, or the folder for hf"},
        {"dtype", ARG_STR, &dtype_s, 0, 0, "f32 or f16 (weight matrices; vectors stay f32)"},
        {"tokenizer", ARG_STR, &tspec, 0, 0, "tokenizer (default: the checkpoint's)"},
        {"name", ARG_STR, &name, 0, 0, "GGUF general.name (default: loco)"},
    };
    char err[512], msg[1024];
    int r = args_parse(specs, sizeof specs / sizeof specs[0], argc, argv,
                       "usage: loco export --checkpoint FILE|DIR [--path K] --format gguf|hf --out PATH [flags]\n\n"
                       "Writes a model as GPT-2 for llama.cpp (GGUF) or Hugging Face (config.json,\n"
                       "model.safetensors, tokenizer.json); docs/checkpoints.md.", err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, "loco export: %s\n", err); return 2; }
    if (!ckpt == !dipaco) { fprintf(stderr, "loco export: give one of --checkpoint or --dipaco\n"); return 2; }
    if (!format || !out) { fprintf(stderr, "loco export: --format and --out are required\n"); return 2; }
    const int gguf = !strcmp(format, "gguf");
    if (!gguf && strcmp(format, "hf")) {
        fprintf(stderr, "loco export: --format must be gguf or hf (got '%s')\n", format);
        return 2;
    }
    const int f16 = !strcmp(dtype_s, "f16");
    if (!f16 && strcmp(dtype_s, "f32")) {
        fprintf(stderr, "loco export: --dtype must be f32 or f16 (got '%s')\n", dtype_s);
        return 2;
    }
    const char *src = ckpt ? ckpt : dipaco;
    if (dipaco && !is_dipaco(dipaco)) {
        fprintf(stderr, "loco export: %s is not a DiPaCo model directory (no dipaco.json)\n", dipaco);
        return 2;
    }
    loco_gpt *m;
    loco_tokenizer *tok;
    int st = load_model(src, path_k, tspec, &m, &tok, msg, sizeof msg);
    if (!st && !gguf && loco_cli_mkdir(out, msg, sizeof msg)) st = 1;
    const loco_export_dtype dt = f16 ? LOCO_EXPORT_F16 : LOCO_EXPORT_F32;
    if (!st) {
        int e = gguf ? loco_export_gguf(out, m, tok, dt, name, msg, sizeof msg)
                     : loco_export_hf(out, m, tok, dt, msg, sizeof msg);
        if (e) st = e == LOCO_EINVAL ? 2 : 1;
    }
    if (st) {
        fprintf(stderr, "loco export: %s\n", msg);
    } else {
        const loco_gpt_config *c = loco_gpt_get_config(m);
        struct stat sb;
        char file[4200];
        snprintf(file, sizeof file, gguf ? "%s" : "%s/model.safetensors", out);
        printf("loco export: wrote %s (%s, GPT-2 L=%d C=%d NH=%d V=%d T=%d, %s, %.2f MB)\n", file,
               gguf ? "GGUF" : "Hugging Face", c->n_layer, c->channels, c->n_head, c->vocab_size, c->max_seq_len,
               dtype_s, stat(file, &sb) == 0 ? sb.st_size / 1e6 : 0.0);
    }
    loco_tokenizer_free(tok);
    loco_gpt_free(m);
    return st;
}
