/* Shared by the exporters: the tensor name table, a byte buffer, token text
 * in GPT-2's byte alphabet, and the float -> half conversion. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/fail.h"
#include "export/export_internal.h"
#include "tok/tok_internal.h"

/* loco's order (LOCO_P_*).  The names are those of llama.cpp's GPT-2 loader
 * (llama-arch.cpp, LLM_ARCH_GPT2) and of Hugging Face's GPT2Model. */
const loco__export_tensor loco__export_tensors[LOCO_NUM_PARAM_TENSORS] = {
    {LOCO_P_WTE, 0, 0, "token_embd.weight", "wte.weight"},
    {LOCO_P_WPE, 0, 0, "position_embd.weight", "wpe.weight"},
    {LOCO_P_LN1W, 1, 0, "blk.%d.attn_norm.weight", "h.%d.ln_1.weight"},
    {LOCO_P_LN1B, 1, 0, "blk.%d.attn_norm.bias", "h.%d.ln_1.bias"},
    {LOCO_P_QKVW, 1, 1, "blk.%d.attn_qkv.weight", "h.%d.attn.c_attn.weight"},
    {LOCO_P_QKVB, 1, 0, "blk.%d.attn_qkv.bias", "h.%d.attn.c_attn.bias"},
    {LOCO_P_ATTPROJW, 1, 1, "blk.%d.attn_output.weight", "h.%d.attn.c_proj.weight"},
    {LOCO_P_ATTPROJB, 1, 0, "blk.%d.attn_output.bias", "h.%d.attn.c_proj.bias"},
    {LOCO_P_LN2W, 1, 0, "blk.%d.ffn_norm.weight", "h.%d.ln_2.weight"},
    {LOCO_P_LN2B, 1, 0, "blk.%d.ffn_norm.bias", "h.%d.ln_2.bias"},
    {LOCO_P_FCW, 1, 1, "blk.%d.ffn_up.weight", "h.%d.mlp.c_fc.weight"},
    {LOCO_P_FCB, 1, 0, "blk.%d.ffn_up.bias", "h.%d.mlp.c_fc.bias"},
    {LOCO_P_FCPROJW, 1, 1, "blk.%d.ffn_down.weight", "h.%d.mlp.c_proj.weight"},
    {LOCO_P_FCPROJB, 1, 0, "blk.%d.ffn_down.bias", "h.%d.mlp.c_proj.bias"},
    {LOCO_P_LNFW, 0, 0, "output_norm.weight", "ln_f.weight"},
    {LOCO_P_LNFB, 0, 0, "output_norm.bias", "ln_f.bias"},
};

void loco__buf_put(loco__buf *b, const void *data, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

void loco__buf_printf(loco__buf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)k < sizeof small) {
        loco__buf_put(b, small, (size_t)k);
        return;
    }
    char *big = malloc((size_t)k + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    loco__buf_put(b, big, (size_t)k);
    free(big);
}

void loco__buf_json_str(loco__buf *b, const uint8_t *s, size_t n) {
    loco__buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') loco__buf_printf(b, "\\%c", s[i]);
        else if (s[i] < 0x20) loco__buf_printf(b, "\\u%04x", s[i]);
        else loco__buf_put(b, s + i, 1);
    }
    loco__buf_put(b, "\"", 1);
}

void loco__buf_free(loco__buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

void loco__buf_token_text(loco__buf *b, const loco_tokenizer *tok, int id) {
    size_t len;
    const uint8_t *p = loco_tokenizer_token(tok, id, &len);
    if (tok->special[id]) {
        loco__buf_put(b, p, len);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned cp = loco__b2u[p[i]];   /* below U+0800: one or two UTF-8 bytes */
        uint8_t u[2] = {(uint8_t)(0xc0 | (cp >> 6)), (uint8_t)(0x80 | (cp & 0x3f))};
        if (cp < 0x80) loco__buf_put(b, &(uint8_t){(uint8_t)cp}, 1);
        else loco__buf_put(b, u, 2);
    }
}

int loco__export_check(const loco_gpt *model, const loco_tokenizer *tok, char *msg, size_t msglen) {
    if (!model || !tok) return loco__fail(msg, msglen, LOCO_EINVAL, "export needs a model and its tokenizer");
    int V = loco_gpt_get_config(model)->vocab_size;
    if (loco_tokenizer_vocab_size(tok) != V)
        return loco__fail(msg, msglen, LOCO_EINVAL, "the tokenizer has %d tokens, the model's vocabulary %d",
                          loco_tokenizer_vocab_size(tok), V);
    return LOCO_OK;
}

/* Round to nearest, ties to even (after F. Giesen's float_to_half_fast3_rtne).
 * A value too small for a normal half is added to 0.5, whose float ulp 2^-24
 * is the unit of a half subnormal, so that the float adder's own rounding
 * (to nearest, ties to even) keeps exactly the bits a half subnormal holds.
 * A normal one is rebiased and rounded by adding 0xfff plus the lowest kept
 * bit (a tie then goes to the even neighbour).  65520 and above become infinity,
 * as in IEEE arithmetic, and a NaN stays a (quiet) NaN. */
uint16_t loco_f32_to_f16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    const uint32_t sign = u & 0x80000000u;
    u ^= sign;
    uint16_t o;
    if (u >= (uint32_t)(127 + 16) << 23) {   /* |x| >= 65536, Inf or NaN */
        o = u > 0x7f800000u ? 0x7e00 : 0x7c00;
    } else if (u < (uint32_t)113 << 23) {    /* |x| < 2^-14: a half subnormal or zero */
        const uint32_t magic_bits = (uint32_t)((127 - 15) + (23 - 10) + 1) << 23;   /* 0.5 */
        float magic, f;
        memcpy(&magic, &magic_bits, 4);
        memcpy(&f, &u, 4);
        f += magic;
        uint32_t fb;
        memcpy(&fb, &f, 4);
        o = (uint16_t)(fb - magic_bits);
    } else {
        uint32_t odd = (u >> 13) & 1;
        u += ((uint32_t)(15 - 127) << 23) + 0xfff + odd;
        o = (uint16_t)(u >> 13);
    }
    return (uint16_t)(o | sign >> 16);
}

float loco_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
    if (e == 0) {                  /* zero or subnormal: m * 2^-24, exact in float */
        float f = (float)m * 0x1p-24f;
        return sign ? -f : f;
    }
    if (e == 31) u = sign | 0x7f800000u | m << 13;
    else u = sign | (e + 112) << 23 | m << 13;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
