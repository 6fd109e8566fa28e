/* The checkpoint's tensor table (names and shapes derived from the model
 * configuration) and the one-line error formatter. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ckpt/ckpt_internal.h"
#include "core/file.h"
#include "nn/gpt_internal.h"

long long loco__ckpt_fail_after_bytes = -1;

/* Per-layer tensors (stacked over layers, shape (L, ...)) carry an "h."
 * prefix, after GPT-2's "h.<layer>." but with the layer as the first axis. */
static int is_stacked(int i) { return i >= LOCO_P_LN1W && i <= LOCO_P_FCPROJB; }

/* Returns -1 when k is not a tensor index. */
int loco__ckpt_tensor_spec(const loco_gpt_config *cfg, int k, loco__ckpt_tensor *t) {
    if (k < 0 || k >= LOCO__CKPT_MAX_TENSORS) return -1;
    static const char *prefix[3] = {"", "adam.m.", "adam.v."};
    const uint64_t C = (uint64_t)cfg->channels, V = (uint64_t)cfg->vocab_size;
    const uint64_t Tm = (uint64_t)cfg->max_seq_len, L = (uint64_t)cfg->n_layer;
    /* (rows, cols) per layer, cols 0 for a vector; the layout of src/nn/gpt.c. */
    const uint64_t rows[LOCO_NUM_PARAM_TENSORS] = {V, Tm, C, C, 3 * C, 3 * C, C, C, C, C,
                                                   4 * C, 4 * C, C, C, C, C};
    const uint64_t cols[LOCO_NUM_PARAM_TENSORS] = {C, C, 0, 0, C, 0, C, 0, 0, 0, C, 0, 4 * C, 0, 0, 0};
    int i = k % LOCO_NUM_PARAM_TENSORS;
    memset(t, 0, sizeof *t);
    t->group = k / LOCO_NUM_PARAM_TENSORS;
    t->param = i;
    snprintf(t->name, sizeof t->name, "%s%s%s", prefix[t->group], is_stacked(i) ? "h." : "",
             loco_gpt_param_name(i));
    if (is_stacked(i)) t->shape[t->ndim++] = L;
    t->shape[t->ndim++] = rows[i];
    if (cols[i]) t->shape[t->ndim++] = cols[i];
    t->numel = 1;
    for (int d = 0; d < t->ndim; d++) t->numel *= t->shape[d];
    return 0;
}

/* Never fails: t comes from loco__ckpt_tensor_spec for m's configuration. */
float *loco__ckpt_data(const loco_gpt *m, const loco__ckpt_tensor *t) {
    float *block = t->group == LOCO__CKPT_GROUP_PARAM ? m->params
                   : t->group == LOCO__CKPT_GROUP_M   ? m->opt_state
                                                      : m->opt_state + m->num_params;
    return block + m->offsets[t->param];
}

/* Returns err (the reason, prefixed by path, goes into msg). */
int loco__ckpt_fail(char *msg, size_t msglen, int err, const char *path, const char *fmt, ...) {
    if (!msg || !msglen) return err;
    /* A long path is cut (LOCO__PATH_FMT) so that the reason still fits. */
    int n = snprintf(msg, msglen, LOCO__PATH_FMT ": ", LOCO__PATH_ARG(path ? path : "(null)"));
    if (n >= 0 && (size_t)n < msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + n, msglen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    /* Names and values quoted from a corrupted file may hold any byte. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return err;
}
