/* DiLoCo's messages as bytes (include/loco/diloco_msg.h): the one place where
 * a contribution is built, reduced and turned into the outer step's target,
 * for the simulator and the networked engine alike. */
#include <stdio.h>
#include <string.h>
#include "loco/diloco_msg.h"
#include "loco/outer.h"

/* Returns LOCO_EINVAL (reason in msg) for a NULL argument or a codec / keep
 * that loco_codec_bytes refuses. */
int loco_diloco_layout_init(loco_diloco_layout *l, const loco_gpt *m, loco_codec c, float keep, char *msg,
                            size_t msglen) {
    if (!l || !m) {
        if (msg) snprintf(msg, msglen, "no model to lay out");
        return LOCO_EINVAL;
    }
    memset(l, 0, sizeof *l);
    l->P = loco_gpt_num_params(m);
    l->codec = c;
    l->keep = keep;
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        size_t size;
        int shape[3];
        int nd = loco_gpt_param_info(m, i, &l->off[i], &size, shape);
        /* One row per output feature: the last dimension is the row. */
        l->cols[i] = (size_t)shape[nd - 1];
        l->rows[i] = size / l->cols[i];
        l->bytes[i] = loco_codec_bytes(c, l->rows[i], l->cols[i], keep);
        if (l->bytes[i] == 0) {
            if (msg) snprintf(msg, msglen, "codec %s cannot encode tensor %s keeping %g", loco_codec_name(c),
                              loco_gpt_param_name(i), keep);
            return LOCO_EINVAL;
        }
        l->msg_bytes += l->bytes[i];
    }
    return LOCO_OK;
}

int loco_diloco_dense(const loco_diloco_layout *l) {
    return l->codec == LOCO_CODEC_FP32 && l->keep >= 1;
}

/* Returns LOCO_EINVAL for NULL arrays, LOCO_ENONFINITE from the codec. */
int loco_diloco_encode(const loco_diloco_layout *l, const float *theta, float *params, float *ef, float *dec,
                       uint8_t *out) {
    if (!l || !params || !out) return LOCO_EINVAL;
    const size_t P = l->P;
    const int dense = loco_diloco_dense(l);
    if (!dense) {
        if (!theta || (ef && !dec)) return LOCO_EINVAL;
        /* c = delta + e: the pseudo-gradient plus what earlier rounds failed
         * to send. */
        for (size_t j = 0; j < P; j++) params[j] = theta[j] - params[j] + (ef ? ef[j] : 0.0f);
    }
    uint8_t *o = out;
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        int e = loco_codec_encode(l->codec, l->keep, params + l->off[i], l->rows[i], l->cols[i], o, NULL);
        if (!e && ef && !dense)
            e = loco_codec_decode(l->codec, l->keep, o, l->bytes[i], l->rows[i], l->cols[i], dec + l->off[i]);
        if (e) return e;
        o += l->bytes[i];
    }
    /* e = c - dec(enc(c)): what this message does not carry. */
    if (ef && !dense)
        for (size_t j = 0; j < P; j++) ef[j] = params[j] - dec[j];
    return LOCO_OK;
}

/* Returns LOCO_EINVAL for a wrong length or bytes that do not decode. */
/* Returns LOCO_EINVAL for bad arguments or bytes that do not decode. */
int loco_diloco_decode(const loco_diloco_layout *l, const uint8_t *in, size_t len, float *dec) {
    if (!l || !in || !dec || len != l->msg_bytes) return LOCO_EINVAL;
    const uint8_t *p = in;
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        if (loco_codec_decode(l->codec, l->keep, p, l->bytes[i], l->rows[i], l->cols[i], dec + l->off[i]))
            return LOCO_EINVAL;
        p += l->bytes[i];
    }
    return LOCO_OK;
}

int loco_diloco_accumulate(const loco_diloco_layout *l, const uint8_t *in, size_t len, double *sum, float *dec) {
    if (!sum) return LOCO_EINVAL;
    /* Every tensor is decoded before the sum is touched, so a bad message
     * leaves the reduction as it was. */
    int e = loco_diloco_decode(l, in, len, dec);
    if (e) return e;
    for (size_t j = 0; j < l->P; j++) sum[j] += (double)dec[j];
    return LOCO_OK;
}

/* Returns LOCO_EINVAL for bad arguments, LOCO_ENONFINITE for a mean that
 * cannot be encoded. */
int loco_diloco_target(const loco_diloco_layout *l, const double *sum, int k, const float *theta, float *avg,
                       uint8_t *wire, float *target) {
    if (!l || !sum || k < 1 || !target) return LOCO_EINVAL;
    const size_t P = l->P;
    if (loco_diloco_dense(l)) {
        for (size_t j = 0; j < P; j++) target[j] = (float)(sum[j] / k);
        return LOCO_OK;
    }
    if (!theta || !avg || !wire) return LOCO_EINVAL;
    for (size_t j = 0; j < P; j++) avg[j] = (float)(sum[j] / k);
    uint8_t *o = wire;
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        int e = loco_codec_encode(l->codec, l->keep, avg + l->off[i], l->rows[i], l->cols[i], o, NULL);
        if (!e) e = loco_codec_decode(l->codec, l->keep, o, l->bytes[i], l->rows[i], l->cols[i], target + l->off[i]);
        if (e) return LOCO_ENONFINITE;
        o += l->bytes[i];
    }
    /* target = theta - (the mean pseudo-gradient as the download carries it). */
    for (size_t j = 0; j < P; j++) target[j] = theta[j] - target[j];
    return LOCO_OK;
}

/* The pseudo-gradient of a dense contribution is theta minus the
 * parameters it carries; any other contribution is the pseudo-gradient. */
double loco_diloco_norm(const loco_diloco_layout *l, const float *theta, const float *dec) {
    return loco_outer_norm(dec, loco_diloco_dense(l) ? theta : NULL, l->P);
}
