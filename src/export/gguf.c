/*
 * GGUF (version 3), the file llama.cpp loads, for its "gpt2" architecture.
 *
 * Layout (all integers little-endian):
 *   "GGUF", u32 version 3, u64 tensor count, u64 key-value count,
 *   key-values:   string key, u32 type, value (strings are u64 length + bytes;
 *                 arrays are u32 element type, u64 count, elements),
 *   tensor infos: string name, u32 n_dims, u64 ne[n_dims] (ne[0] the
 *                 innermost, i.e. the number of columns), u32 ggml type,
 *                 u64 offset within the data section,
 *   padding to 32 bytes, then the data section, each tensor at a multiple
 *   of 32 bytes.
 *
 * GGUF's matrices are loco's: a (rows, cols) = (out, in) row-major block,
 * which ggml multiplies as y = W x with ne = [in, out].  So every per-layer
 * slice of loco's stacked tensors is written as it is, with no copy in
 * float32.  The LM head is tied to the token embedding in loco; it is
 * written a second time as output.weight, as llama.cpp's own converter does
 * for GPT-2, so that loaders that require the tensor find it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/fail.h"
#include "core/file.h"
#include "export/export_internal.h"
#include "tok/tok_internal.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "GGUF integers are written by copying them; a big-endian host needs byte swapping here"
#endif

enum { GGUF_U32 = 4, GGUF_I32 = 5, GGUF_F32 = 6, GGUF_BOOL = 7, GGUF_STR = 8, GGUF_ARR = 9 };
enum { GGML_F32 = 0, GGML_F16 = 1 };                     /* ggml_type */
enum { TOKEN_NORMAL = 1, TOKEN_CONTROL = 3 };              /* llama_token_type */
#define GGUF_ALIGN 32

typedef struct {
    char name[64];
    int ndim;
    uint64_t ne[2];
    int type;
    const float *src;      /* numel floats in loco's layout */
    size_t numel;
    uint64_t offset;       /* within the data section */
} tensor;

static void put_u32(loco__buf *b, uint32_t v) { loco__buf_put(b, &v, 4); }
static void put_u64(loco__buf *b, uint64_t v) { loco__buf_put(b, &v, 8); }
static void put_str(loco__buf *b, const void *s, size_t n) {
    put_u64(b, n);
    loco__buf_put(b, s, n);
}

/* The key-value section and its count. */
typedef struct {
    loco__buf b;
    uint64_t n;
} kvs;

static void key(kvs *k, const char *name, uint32_t type) {
    put_str(&k->b, name, strlen(name));
    put_u32(&k->b, type);
    k->n++;
}
static void kv_u32(kvs *k, const char *name, uint32_t v) { key(k, name, GGUF_U32); put_u32(&k->b, v); }
static void kv_f32(kvs *k, const char *name, float v) { key(k, name, GGUF_F32); loco__buf_put(&k->b, &v, 4); }
static void kv_bool(kvs *k, const char *name, int v) { key(k, name, GGUF_BOOL); loco__buf_put(&k->b, &(uint8_t){v != 0}, 1); }
static void kv_str(kvs *k, const char *name, const char *v) { key(k, name, GGUF_STR); put_str(&k->b, v, strlen(v)); }

/* tokenizer.ggml.*: the vocabulary in vocab.json's spelling (byte alphabet),
 * token types (specials are CONTROL, as the converter marks added tokens),
 * the merges as "a b" in rank order, and <|endoftext|> as BOS and EOS. */
static void put_tokenizer(kvs *k, const loco_tokenizer *tok) {
    const int V = loco_tokenizer_vocab_size(tok);
    kv_str(k, "tokenizer.ggml.model", "gpt2");
    kv_str(k, "tokenizer.ggml.pre", "gpt-2");
    key(k, "tokenizer.ggml.tokens", GGUF_ARR);
    put_u32(&k->b, GGUF_STR);
    put_u64(&k->b, (uint64_t)V);
    loco__buf text = {0};
    for (int id = 0; id < V; id++) {
        text.n = 0;
        loco__buf_token_text(&text, tok, id);
        put_str(&k->b, text.p, text.n);
    }
    key(k, "tokenizer.ggml.token_type", GGUF_ARR);
    put_u32(&k->b, GGUF_I32);
    put_u64(&k->b, (uint64_t)V);
    for (int id = 0; id < V; id++) {
        int32_t ty = tok->special[id] ? TOKEN_CONTROL : TOKEN_NORMAL;
        loco__buf_put(&k->b, &ty, 4);
    }
    key(k, "tokenizer.ggml.merges", GGUF_ARR);
    put_u32(&k->b, GGUF_STR);
    put_u64(&k->b, (uint64_t)tok->n_merges);
    for (int r = 0; r < tok->n_merges; r++) {
        text.n = 0;
        loco__buf_token_text(&text, tok, tok->merge_a[r]);
        loco__buf_put(&text, " ", 1);
        loco__buf_token_text(&text, tok, tok->merge_b[r]);
        put_str(&k->b, text.p, text.n);
    }
    k->b.oom |= text.oom;
    loco__buf_free(&text);
    kv_u32(k, "tokenizer.ggml.bos_token_id", (uint32_t)loco_tokenizer_eot(tok));
    kv_u32(k, "tokenizer.ggml.eos_token_id", (uint32_t)loco_tokenizer_eot(tok));
    kv_bool(k, "tokenizer.ggml.add_bos_token", 0);
    kv_bool(k, "tokenizer.ggml.add_eos_token", 0);
}

/* Lists the tensors in llama.cpp's order; returns their count. */
static int list_tensors(loco_gpt *m, loco_export_dtype dtype, tensor *t) {
    const loco_gpt_config *c = loco_gpt_get_config(m);
    const float *params = loco_gpt_params(m);
    int n = 0;
    for (int pass = 0; pass < 3; pass++) {   /* embeddings, blocks, final LayerNorm */
        for (int l = 0; l < (pass == 1 ? c->n_layer : 1); l++) {
            for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
                const loco__export_tensor *e = &loco__export_tensors[i];
                int want = i <= LOCO_P_WPE ? 0 : i >= LOCO_P_LNFW ? 2 : 1;
                if (want != pass) continue;
                size_t off, size;
                int shape[3];
                int nd = loco_gpt_param_info(m, i, &off, &size, shape);
                const int *s = e->layer ? shape + 1 : shape;   /* one block's shape */
                int matrix = nd - e->layer == 2;
                tensor *x = &t[n++];
                snprintf(x->name, sizeof x->name, e->gguf, l);
                x->numel = e->layer ? size / (size_t)c->n_layer : size;
                x->src = params + off + (size_t)l * x->numel;
                x->ndim = matrix ? 2 : 1;
                x->ne[0] = (uint64_t)(matrix ? s[1] : s[0]);
                x->ne[1] = matrix ? (uint64_t)s[0] : 1;
                x->type = matrix && dtype == LOCO_EXPORT_F16 ? GGML_F16 : GGML_F32;
            }
        }
    }
    t[n] = t[0];   /* output.weight: the tied LM head */
    snprintf(t[n].name, sizeof t[n].name, "output.weight");
    return n + 1;
}

int loco_export_gguf(const char *path, loco_gpt *m, const loco_tokenizer *tok, loco_export_dtype dtype,
                     const char *name, char *msg, size_t msglen) {
    int err = loco__export_check(m, tok, msg, msglen);
    if (err) return err;
    const loco_gpt_config *c = loco_gpt_get_config(m);
    const int nt_max = 5 + 12 * c->n_layer;
    tensor *t = calloc((size_t)nt_max, sizeof *t);
    loco__chunk *chunks = calloc(2 * (size_t)nt_max + 1, sizeof *chunks);
    uint16_t *half = NULL;
    kvs k = {{0}, 0};
    loco__buf h = {0};
    if (!t || !chunks) goto oom;
    const int nt = list_tensors(m, dtype, t);

    kv_str(&k, "general.architecture", "gpt2");
    kv_str(&k, "general.name", name && *name ? name : "loco");
    kv_u32(&k, "general.file_type", dtype == LOCO_EXPORT_F16 ? 1 : 0);   /* LLAMA_FTYPE_ALL_F32 / MOSTLY_F16 */
    kv_u32(&k, "gpt2.context_length", (uint32_t)c->max_seq_len);
    kv_u32(&k, "gpt2.embedding_length", (uint32_t)c->channels);
    kv_u32(&k, "gpt2.feed_forward_length", 4u * (uint32_t)c->channels);
    kv_u32(&k, "gpt2.block_count", (uint32_t)c->n_layer);
    kv_u32(&k, "gpt2.attention.head_count", (uint32_t)c->n_head);
    kv_f32(&k, "gpt2.attention.layer_norm_epsilon", 1e-5f);   /* src/nn/layers.c */
    put_tokenizer(&k, tok);

    /* Offsets, and one buffer for every half-precision tensor. */
    uint64_t off = 0;
    size_t n_half = 0;
    for (int i = 0; i < nt; i++) {
        t[i].offset = off;
        size_t bytes = t[i].numel * (t[i].type == GGML_F16 ? 2 : 4);
        off = (off + bytes + GGUF_ALIGN - 1) / GGUF_ALIGN * GGUF_ALIGN;
        if (t[i].type == GGML_F16) n_half += t[i].numel;
    }
    if (n_half && !(half = malloc(n_half * sizeof *half))) goto oom;

    loco__buf_put(&h, "GGUF", 4);
    put_u32(&h, 3);
    put_u64(&h, (uint64_t)nt);
    put_u64(&h, k.n);
    loco__buf_put(&h, k.b.p, k.b.n);
    for (int i = 0; i < nt; i++) {
        put_str(&h, t[i].name, strlen(t[i].name));
        put_u32(&h, (uint32_t)t[i].ndim);
        for (int d = 0; d < t[i].ndim; d++) put_u64(&h, t[i].ne[d]);
        put_u32(&h, (uint32_t)t[i].type);
        put_u64(&h, t[i].offset);
    }
    static const uint8_t zeros[GGUF_ALIGN];
    loco__buf_put(&h, zeros, (GGUF_ALIGN - h.n % GGUF_ALIGN) % GGUF_ALIGN);
    if (h.oom || k.b.oom) goto oom;

    int nc = 0;
    chunks[nc++] = (loco__chunk){h.p, h.n};
    uint16_t *hp = half;
    for (int i = 0; i < nt; i++) {
        size_t bytes;
        if (t[i].type == GGML_F16) {
            for (size_t j = 0; j < t[i].numel; j++) hp[j] = loco_f32_to_f16(t[i].src[j]);
            chunks[nc++] = (loco__chunk){hp, bytes = 2 * t[i].numel};
            hp += t[i].numel;
        } else {
            chunks[nc++] = (loco__chunk){t[i].src, bytes = 4 * t[i].numel};
        }
        if (bytes % GGUF_ALIGN) chunks[nc++] = (loco__chunk){zeros, GGUF_ALIGN - bytes % GGUF_ALIGN};
    }
    err = loco__write_atomic(path, chunks, nc, msg, msglen);
    goto done;
oom:
    err = loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory building the GGUF file", path);
done:
    free(t);
    free(chunks);
    free(half);
    loco__buf_free(&k.b);
    loco__buf_free(&h);
    return err;
}
