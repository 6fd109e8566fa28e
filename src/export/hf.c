/*
 * Hugging Face's GPT-2 folder: config.json (GPT2Config), model.safetensors
 * with GPT2Model's tensor names, generation_config.json, and the tokenizer
 * (tokenizer.json and tokenizer_config.json).
 *
 * Hugging Face's GPT-2 uses Conv1D for its four projections, which stores
 * the weight as (in, out) and computes y = x W + b; loco stores (out, in) as
 * torch.nn.functional.linear takes it.  So c_attn, c_proj, c_fc and
 * mlp.c_proj are the transposes of loco's per-layer slices; the other
 * tensors are copied as they are, one per block for the stacked ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/fail.h"
#include "core/file.h"
#include "export/export_internal.h"

/* config.json: GPT2Config's fields for loco's architecture (no dropout,
 * tanh GELU, tied embeddings, LayerNorm epsilon 1e-5). */
static int write_config(const char *dir, const loco_gpt_config *c, int eot, loco_export_dtype dtype, char *msg,
                        size_t msglen) {
    char path[4200], text[1400], gen[256];
    int n = snprintf(text, sizeof text,
                     "{\n  \"architectures\": [\"GPT2LMHeadModel\"],\n  \"model_type\": \"gpt2\",\n"
                     "  \"activation_function\": \"gelu_new\",\n  \"n_layer\": %d,\n  \"n_head\": %d,\n"
                     "  \"n_embd\": %d,\n  \"n_inner\": null,\n  \"n_positions\": %d,\n  \"n_ctx\": %d,\n"
                     "  \"vocab_size\": %d,\n  \"layer_norm_epsilon\": 1e-05,\n  \"bos_token_id\": %d,\n"
                     "  \"eos_token_id\": %d,\n  \"tie_word_embeddings\": true,\n  \"scale_attn_weights\": true,\n"
                     "  \"attn_pdrop\": 0.0,\n  \"embd_pdrop\": 0.0,\n  \"resid_pdrop\": 0.0,\n"
                     "  \"summary_first_dropout\": 0.0,\n  \"initializer_range\": 0.02,\n"
                     "  \"torch_dtype\": \"%s\"\n}\n",
                     c->n_layer, c->n_head, c->channels, c->max_seq_len, c->max_seq_len, c->vocab_size, eot, eot,
                     dtype == LOCO_EXPORT_F16 ? "float16" : "float32");
    snprintf(path, sizeof path, "%s/config.json", dir);
    loco__chunk ch = {text, (size_t)n};
    int err = loco__write_atomic(path, &ch, 1, msg, msglen);
    if (err) return err;
    n = snprintf(gen, sizeof gen, "{\n  \"bos_token_id\": %d,\n  \"eos_token_id\": %d\n}\n", eot, eot);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    ch = (loco__chunk){gen, (size_t)n};
    return loco__write_atomic(path, &ch, 1, msg, msglen);
}

/* One tensor of the file: where its floats are in loco, and its shape as
 * Hugging Face has it. */
typedef struct {
    char name[64];
    const float *src;   /* rows x cols floats, loco's (out, in) for a Conv1D weight */
    int rows, cols;     /* loco's shape; cols 0 for a vector */
    int conv1d, half;
    size_t out_off;     /* byte offset of its converted copy in the scratch buffer, if converted */
} entry;

static int write_safetensors(const char *dir, loco_gpt *m, loco_export_dtype dtype, char *msg, size_t msglen) {
    const loco_gpt_config *c = loco_gpt_get_config(m);
    const float *params = loco_gpt_params(m);
    const int ne = 4 + 12 * c->n_layer;
    entry *e = calloc((size_t)ne, sizeof *e);
    loco__chunk *ch = calloc((size_t)ne + 2, sizeof *ch);
    loco__buf h = {0};
    uint8_t *scratch = NULL;
    int n = 0, err;
    if (!e || !ch) goto oom;
    size_t scratch_bytes = 0;
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        const loco__export_tensor *t = &loco__export_tensors[i];
        size_t off, size;
        int shape[3];
        int nd = loco_gpt_param_info(m, i, &off, &size, shape);
        const int *s = t->layer ? shape + 1 : shape;
        for (int l = 0; l < (t->layer ? c->n_layer : 1); l++) {
            entry *x = &e[n++];
            snprintf(x->name, sizeof x->name, t->hf, l);
            x->rows = s[0];
            x->cols = nd - t->layer == 2 ? s[1] : 0;
            size_t numel = (size_t)x->rows * (size_t)(x->cols ? x->cols : 1);
            x->src = params + off + (size_t)l * numel;
            x->conv1d = t->conv1d;
            x->half = x->cols && dtype == LOCO_EXPORT_F16;
            if (x->conv1d || x->half) {
                x->out_off = scratch_bytes;
                scratch_bytes += numel * (x->half ? 2 : 4);
            }
        }
    }
    if (scratch_bytes && !(scratch = malloc(scratch_bytes))) goto oom;

    /* The header: shapes and byte ranges in file order, then the data. */
    loco__buf_printf(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
    size_t pos = 0;
    for (int k = 0; k < n; k++) {
        entry *x = &e[k];
        size_t numel = (size_t)x->rows * (size_t)(x->cols ? x->cols : 1), bytes = numel * (x->half ? 2 : 4);
        if (x->cols)
            loco__buf_printf(&h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}", x->name,
                             x->half ? "F16" : "F32", x->conv1d ? x->cols : x->rows, x->conv1d ? x->rows : x->cols,
                             pos, pos + bytes);
        else
            loco__buf_printf(&h, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}", x->name,
                             x->rows, pos, pos + bytes);
        pos += bytes;
        if (!x->conv1d && !x->half) {
            ch[k + 2] = (loco__chunk){x->src, bytes};
            continue;
        }
        /* out[j][i] = src[i][j] for a Conv1D weight, else out = src. */
        uint8_t *dst = scratch + x->out_off;
        for (int i = 0; i < x->rows; i++)
            for (int j = 0; j < x->cols; j++) {
                float v = x->src[(size_t)i * x->cols + j];
                size_t at = x->conv1d ? (size_t)j * x->rows + i : (size_t)i * x->cols + j;
                if (x->half) ((uint16_t *)dst)[at] = loco_f32_to_f16(v);
                else ((float *)dst)[at] = v;
            }
        ch[k + 2] = (loco__chunk){dst, bytes};
    }
    loco__buf_printf(&h, "}");
    while (h.n % 8) loco__buf_put(&h, " ", 1);   /* safetensors pads the header to 8 bytes */
    if (h.oom) goto oom;
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.n >> (8 * i));
    ch[0] = (loco__chunk){len8, 8};
    ch[1] = (loco__chunk){h.p, h.n};
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    err = loco__write_atomic(path, ch, n + 2, msg, msglen);
    goto done;
oom:
    err = loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory building model.safetensors", dir);
done:
    free(e);
    free(ch);
    free(scratch);
    loco__buf_free(&h);
    return err;
}

int loco_export_hf(const char *dir, loco_gpt *m, const loco_tokenizer *tok, loco_export_dtype dtype, char *msg,
                   size_t msglen) {
    int err = loco__export_check(m, tok, msg, msglen);
    if (err) return err;
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if ((err = write_safetensors(dir, m, dtype, msg, msglen)) ||
        (err = write_config(dir, loco_gpt_get_config(m), loco_tokenizer_eot(tok), dtype, msg, msglen)) ||
        (err = loco_tokenizer_save(tok, path, msg, msglen)))
        return err;
    return LOCO_OK;
}
