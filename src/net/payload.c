/* The payloads of the networked engine's messages (include/loco/net.h,
 * docs/protocol.md): fixed layouts of little-endian fields, written with
 * shifts and read back with every field range-checked and the length
 * matched exactly. */
#include <math.h>
#include <string.h>
#include "loco/net.h"
#include "loco/shard.h"
#include "net/wire.h"

/* A cursor over a payload being written or read; `ok` drops to 0 on the
 * first access past the end, after which nothing more is read or written. */
typedef struct {
    uint8_t *w;
    const uint8_t *r;
    size_t n, at;
    int ok;
} cur;

static uint8_t *wspace(cur *c, size_t k) {
    if (!c->ok || c->n - c->at < k) {
        c->ok = 0;
        return NULL;
    }
    uint8_t *p = c->w + c->at;
    c->at += k;
    return p;
}
static const uint8_t *rspace(cur *c, size_t k) {
    if (!c->ok || c->n - c->at < k) {
        c->ok = 0;
        return NULL;
    }
    const uint8_t *p = c->r + c->at;
    c->at += k;
    return p;
}
static void w32(cur *c, uint32_t v) {
    uint8_t *p = wspace(c, 4);
    if (p) loco__put32(p, v);
}
static void w64(cur *c, uint64_t v) {
    uint8_t *p = wspace(c, 8);
    if (p) loco__put64(p, v);
}
static void wf(cur *c, float v) {
    uint8_t *p = wspace(c, 4);
    if (p) loco__putf(p, v);
}
static void wbytes(cur *c, const void *src, size_t k) {
    uint8_t *p = wspace(c, k);
    if (p && k) memcpy(p, src, k);
}
static uint32_t r32(cur *c) {
    const uint8_t *p = rspace(c, 4);
    return p ? loco__get32(p) : 0;
}
static uint64_t r64(cur *c) {
    const uint8_t *p = rspace(c, 8);
    return p ? loco__get64(p) : 0;
}
static float rf(cur *c) {
    const uint8_t *p = rspace(c, 4);
    return p ? loco__getf(p) : 0.0f;
}

static cur writer(uint8_t *out, size_t cap) {
    return (cur){out, NULL, out ? cap : 0, 0, 1};
}
static cur reader(const uint8_t *p, size_t n) {
    return (cur){NULL, p, p ? n : 0, 0, 1};
}
/* Bytes written, or 0 if anything did not fit. */
static size_t written(const cur *c) {
    return c->ok ? c->at : 0;
}
/* LOCO_OK if the reader consumed exactly all of its bytes. */
static int done(const cur *c) {
    return c->ok && c->at == c->n ? LOCO_OK : LOCO_EINVAL;
}

/* ---------------------------------------------------------------- sizes */

size_t loco_net_welcome_bytes(uint64_t n_assign) {
    return n_assign > (SIZE_MAX - LOCO_NET_WELCOME_FIXED) / 4 ? 0 : LOCO_NET_WELCOME_FIXED + 4 * (size_t)n_assign;
}
size_t loco_net_theta_bytes(uint64_t n_params) {
    return n_params > (SIZE_MAX - LOCO_NET_THETA_FIXED) / 4 ? 0 : LOCO_NET_THETA_FIXED + 4 * (size_t)n_params;
}
size_t loco_net_push_bytes(uint32_t n_losses, uint64_t contrib_len) {
    size_t fixed = LOCO_NET_PUSH_FIXED + 4 * (size_t)n_losses;
    return contrib_len > SIZE_MAX - fixed ? 0 : fixed + (size_t)contrib_len;
}
size_t loco_net_error_bytes(const char *text) {
    size_t n = text ? strlen(text) : 0;
    return LOCO_NET_ERROR_FIXED + (n > LOCO_NET_MAX_TEXT ? LOCO_NET_MAX_TEXT : n);
}

/* ---------------------------------------------------------------- HELLO */

size_t loco_net_encode_hello(const loco_net_hello *x, uint8_t *out, size_t cap) {
    if (!x) return 0;
    cur c = writer(out, cap);
    wbytes(&c, x->nonce, LOCO_NET_NONCE_BYTES);
    w64(&c, x->time_ms);
    w32(&c, x->want_id);
    w32(&c, 0);
    return written(&c);
}

/* Returns LOCO_EINVAL for a wrong length or a reserved field other than 0. */
int loco_net_decode_hello(const uint8_t *p, size_t n, loco_net_hello *x) {
    cur c = reader(p, n);
    const uint8_t *nonce = rspace(&c, LOCO_NET_NONCE_BYTES);
    if (nonce) memcpy(x->nonce, nonce, LOCO_NET_NONCE_BYTES);
    x->time_ms = r64(&c);
    x->want_id = r32(&c);
    uint32_t reserved = r32(&c);
    return done(&c) == LOCO_OK && reserved == 0 ? LOCO_OK : LOCO_EINVAL;
}

/* ---------------------------------------------------------------- WELCOME */

size_t loco_net_encode_welcome(const loco_net_welcome *x, uint8_t *out, size_t cap) {
    if (!x || (!x->assign && x->n_assign)) return 0;
    cur c = writer(out, cap);
    w32(&c, x->worker_id);
    w32(&c, x->workers);
    wbytes(&c, x->nonce, LOCO_NET_NONCE_BYTES);
    w32(&c, (uint32_t)x->model.max_seq_len);
    w32(&c, (uint32_t)x->model.vocab_size);
    w32(&c, (uint32_t)x->model.n_layer);
    w32(&c, (uint32_t)x->model.n_head);
    w32(&c, (uint32_t)x->model.channels);
    w32(&c, (uint32_t)x->batch);
    w32(&c, (uint32_t)x->seq_len);
    w32(&c, (uint32_t)x->inner_steps);
    w64(&c, (uint64_t)x->steps);
    const loco_adamw_config *a = &x->inner;
    wf(&c, a->lr);
    wf(&c, a->beta1);
    wf(&c, a->beta2);
    wf(&c, a->eps);
    wf(&c, a->weight_decay);
    wf(&c, a->grad_clip);
    wf(&c, a->min_lr);
    w32(&c, (uint32_t)a->warmup_steps);
    w32(&c, (uint32_t)a->max_steps);
    w32(&c, (uint32_t)x->codec);
    wf(&c, x->keep);
    w32(&c, (uint32_t)x->error_feedback);
    w64(&c, x->seed);
    w32(&c, x->heartbeat_ms);
    w32(&c, x->data_kind);
    w64(&c, x->data_docs);
    w64(&c, x->data_tokens);
    w64(&c, x->data_fingerprint);
    w64(&c, x->n_assign);
    w32(&c, x->ckpt_every);
    w32(&c, x->run_kind);
    if (c.ok && x->n_assign > (c.n - c.at) / 4) c.ok = 0;
    wbytes(&c, x->assign, c.ok ? 4 * (size_t)x->n_assign : 0);
    return written(&c);
}

/* The run's bytes of a WELCOME: the workers (4 bytes at 4), and everything
 * from LOCO_NET_WELCOME_AT_RUN on; the id and the nonce are the worker's. */
int loco_net_welcome_same_run(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    if (!a || !b || na != nb || na < LOCO_NET_WELCOME_FIXED) return 0;
    return memcmp(a + LOCO_NET_WELCOME_AT_WORKERS, b + LOCO_NET_WELCOME_AT_WORKERS, 4) == 0 &&
           memcmp(a + LOCO_NET_WELCOME_AT_RUN, b + LOCO_NET_WELCOME_AT_RUN, na - LOCO_NET_WELCOME_AT_RUN) == 0;
}

uint64_t loco_net_welcome_identity(uint64_t h, const uint8_t *p, size_t n) {
    if (!p || n < LOCO_NET_WELCOME_FIXED) return h;
    h = loco_fnv1a64(h, p + LOCO_NET_WELCOME_AT_WORKERS, 4);
    return loco_fnv1a64(h, p + LOCO_NET_WELCOME_AT_RUN, n - LOCO_NET_WELCOME_AT_RUN);
}

static int finite_nonneg(float f) {
    return isfinite(f) && f >= 0;
}

/* Returns LOCO_EINVAL for a wrong length, a model configuration that
 * loco_gpt_config_check refuses, sizes that are not positive, optimizer
 * values out of range, an unknown codec, data kind or keep outside (0, 1],
 * or an assignment naming a worker >= workers. */
int loco_net_decode_welcome(const uint8_t *p, size_t n, loco_net_welcome *x) {
    cur c = reader(p, n);
    memset(x, 0, sizeof *x);
    x->worker_id = r32(&c);
    x->workers = r32(&c);
    const uint8_t *nonce = rspace(&c, LOCO_NET_NONCE_BYTES);
    if (nonce) memcpy(x->nonce, nonce, LOCO_NET_NONCE_BYTES);
    x->model.max_seq_len = (int)r32(&c);
    x->model.vocab_size = (int)r32(&c);
    x->model.n_layer = (int)r32(&c);
    x->model.n_head = (int)r32(&c);
    x->model.channels = (int)r32(&c);
    x->batch = (int32_t)r32(&c);
    x->seq_len = (int32_t)r32(&c);
    x->inner_steps = (int32_t)r32(&c);
    x->steps = (int64_t)r64(&c);
    loco_adamw_config *a = &x->inner;
    a->lr = rf(&c);
    a->beta1 = rf(&c);
    a->beta2 = rf(&c);
    a->eps = rf(&c);
    a->weight_decay = rf(&c);
    a->grad_clip = rf(&c);
    a->min_lr = rf(&c);
    a->warmup_steps = (int)r32(&c);
    a->max_steps = (int)r32(&c);
    uint32_t codec = r32(&c);
    x->codec = (loco_codec)(codec <= LOCO_CODEC_INT8_ROW ? codec : 0);
    x->keep = rf(&c);
    x->error_feedback = (int32_t)r32(&c);
    x->seed = r64(&c);
    x->heartbeat_ms = r32(&c);
    x->data_kind = r32(&c);
    x->data_docs = r64(&c);
    x->data_tokens = r64(&c);
    x->data_fingerprint = r64(&c);
    x->n_assign = r64(&c);
    x->ckpt_every = r32(&c);
    x->run_kind = r32(&c);
    if (x->run_kind > LOCO_NET_RUN_DIPACO) return LOCO_EINVAL;
    if (!c.ok || x->n_assign > (c.n - c.at) / 4) return LOCO_EINVAL;
    x->assign = rspace(&c, 4 * (size_t)x->n_assign);
    if (done(&c) != LOCO_OK) return LOCO_EINVAL;
    /* A DiPaCo worker's id is its slot, not a shard: there may be more
     * workers than paths. */
    if (x->workers < 1 || x->workers > (1u << 20) ||
        x->worker_id >= (x->run_kind == LOCO_NET_RUN_DIPACO ? (1u << 20) : x->workers))
        return LOCO_EINVAL;
    if (loco_gpt_config_check(&x->model, NULL, 0) != LOCO_OK) return LOCO_EINVAL;
    if (x->batch < 1 || x->seq_len < 1 || x->seq_len > x->model.max_seq_len || x->inner_steps < 1 ||
        x->steps < 1 || x->steps > (1LL << 31))
        return LOCO_EINVAL;
    if (!finite_nonneg(a->lr) || !finite_nonneg(a->beta1) || a->beta1 >= 1 || !finite_nonneg(a->beta2) ||
        a->beta2 >= 1 || !(a->eps > 0) || !isfinite(a->eps) || !finite_nonneg(a->weight_decay) ||
        !finite_nonneg(a->grad_clip) || !finite_nonneg(a->min_lr) || a->warmup_steps < 0 || a->max_steps < 1)
        return LOCO_EINVAL;
    if (codec > LOCO_CODEC_INT8_ROW || !(x->keep > 0 && x->keep <= 1) || (x->error_feedback != 0 && x->error_feedback != 1))
        return LOCO_EINVAL;
    if (x->heartbeat_ms < 1 || x->heartbeat_ms > 3600000u || x->data_kind > LOCO_NET_DATA_SHARDS ||
        x->n_assign != x->data_docs || x->n_assign < x->workers)
        return LOCO_EINVAL;
    for (uint64_t d = 0; d < x->n_assign; d++)
        if (loco__get32(x->assign + 4 * d) >= x->workers) return LOCO_EINVAL;
    return LOCO_OK;
}

/* ---------------------------------------------------------------- TASK */

size_t loco_net_encode_task(const loco_net_task *x, uint8_t *out, size_t cap) {
    if (!x) return 0;
    cur c = writer(out, cap);
    w64(&c, x->round);
    w64(&c, x->version);
    w32(&c, x->shard);
    w32(&c, x->inner_steps);
    w64(&c, x->first_step);
    return written(&c);
}

/* Returns LOCO_EINVAL for a wrong length or no inner steps. */
int loco_net_decode_task(const uint8_t *p, size_t n, loco_net_task *x) {
    cur c = reader(p, n);
    x->round = r64(&c);
    x->version = r64(&c);
    x->shard = r32(&c);
    x->inner_steps = r32(&c);
    x->first_step = r64(&c);
    return done(&c) == LOCO_OK && x->inner_steps >= 1 && x->inner_steps <= (1u << 30) ? LOCO_OK : LOCO_EINVAL;
}

/* ---------------------------------------------------------------- THETA */

size_t loco_net_encode_theta_head(uint64_t version, uint64_t n_params, uint8_t *out, size_t cap) {
    cur c = writer(out, cap);
    w64(&c, version);
    w64(&c, n_params);
    return written(&c);
}

/* Returns LOCO_EINVAL unless n is exactly the header plus n_params floats.
 * The values themselves are checked by whoever decodes them (fp32 codec). */
int loco_net_decode_theta(const uint8_t *p, size_t n, loco_net_theta *x) {
    cur c = reader(p, n);
    x->version = r64(&c);
    x->n_params = r64(&c);
    if (!c.ok || x->n_params == 0 || x->n_params > (c.n - c.at) / 4) return LOCO_EINVAL;
    x->params = rspace(&c, 4 * (size_t)x->n_params);
    return done(&c);
}

/* ---------------------------------------------------------------- PUSH */

size_t loco_net_encode_push_head(const loco_net_push *x, uint8_t *out, size_t cap) {
    if (!x || (!x->losses && x->n_losses)) return 0;
    cur c = writer(out, cap);
    w64(&c, x->round);
    w64(&c, x->base_version);
    w32(&c, x->shard);
    w32(&c, x->n_losses);
    w64(&c, x->contrib_len);
    wbytes(&c, x->losses, 4 * (size_t)x->n_losses);
    return written(&c);
}

size_t loco_net_encode_push(const loco_net_push *x, uint8_t *out, size_t cap) {
    if (!x || (!x->contrib && x->contrib_len)) return 0;
    size_t n = loco_net_encode_push_head(x, out, cap);
    if (!n || x->contrib_len > cap - n) return 0;
    if (x->contrib_len) memcpy(out + n, x->contrib, (size_t)x->contrib_len);
    return n + (size_t)x->contrib_len;
}

/* Returns LOCO_EINVAL for a wrong length, no losses, or a loss that is not
 * finite.  The contribution's bytes are checked when it is decoded
 * (loco_diloco_accumulate). */
int loco_net_decode_push(const uint8_t *p, size_t n, loco_net_push *x) {
    cur c = reader(p, n);
    x->round = r64(&c);
    x->base_version = r64(&c);
    x->shard = r32(&c);
    x->n_losses = r32(&c);
    x->contrib_len = r64(&c);
    if (!c.ok || x->n_losses == 0 || x->n_losses > (c.n - c.at) / 4) return LOCO_EINVAL;
    x->losses = rspace(&c, 4 * (size_t)x->n_losses);
    if (!c.ok || x->contrib_len != c.n - c.at) return LOCO_EINVAL;
    x->contrib = rspace(&c, (size_t)x->contrib_len);
    if (done(&c) != LOCO_OK) return LOCO_EINVAL;
    for (uint32_t i = 0; i < x->n_losses; i++)
        if (!isfinite(loco__getf(x->losses + 4 * (size_t)i))) return LOCO_EINVAL;
    return LOCO_OK;
}

/* ---------------------------------------------------------------- HEARTBEAT */

size_t loco_net_encode_heartbeat(const loco_net_heartbeat *x, uint8_t *out, size_t cap) {
    if (!x) return 0;
    cur c = writer(out, cap);
    w64(&c, x->round);
    w64(&c, x->steps_done);
    return written(&c);
}

/* Returns LOCO_EINVAL for a wrong length. */
int loco_net_decode_heartbeat(const uint8_t *p, size_t n, loco_net_heartbeat *x) {
    cur c = reader(p, n);
    x->round = r64(&c);
    x->steps_done = r64(&c);
    return done(&c);
}

/* ---------------------------------------------------------------- ERROR */

size_t loco_net_encode_error(uint32_t code, const char *text, uint8_t *out, size_t cap) {
    size_t len = text ? strlen(text) : 0;
    if (len > LOCO_NET_MAX_TEXT) len = LOCO_NET_MAX_TEXT;
    cur c = writer(out, cap);
    w32(&c, code);
    w32(&c, (uint32_t)len);
    uint8_t *t = wspace(&c, len);
    for (size_t i = 0; t && i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        t[i] = ch >= 0x20 && ch < 0x7f ? ch : '?';
    }
    return written(&c);
}

/* Returns LOCO_EINVAL for a wrong length, text over LOCO_NET_MAX_TEXT bytes
 * or a byte outside printable ASCII (it would end up in a log line). */
int loco_net_decode_error(const uint8_t *p, size_t n, loco_net_error *x) {
    cur c = reader(p, n);
    x->code = r32(&c);
    uint32_t len = r32(&c);
    if (!c.ok || len > LOCO_NET_MAX_TEXT) return LOCO_EINVAL;
    const uint8_t *t = rspace(&c, len);
    if (done(&c) != LOCO_OK) return LOCO_EINVAL;
    for (uint32_t i = 0; i < len; i++) {
        if (t[i] < 0x20 || t[i] >= 0x7f) return LOCO_EINVAL;
        x->text[i] = (char)t[i];
    }
    x->text[len] = 0;
    return LOCO_OK;
}
