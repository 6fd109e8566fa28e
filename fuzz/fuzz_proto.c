/*
 * libFuzzer target for the networked engine's protocol (include/loco/net.h)
 * and DiLoCo's contributions (include/loco/diloco_msg.h): arbitrary bytes are
 * opened as a header + payload, then the payload is sealed with the right key
 * (so that the checks behind the MAC are reachable) and fed to every payload
 * decoder (DiPaCo's too) and, as a contribution, to the server's decode-and-add.  Whatever
 * decodes must re-encode to the same bytes and keep its promises (ranges,
 * finiteness); a sealed message with any one byte changed must be refused;
 * nothing may read outside the input (ASan, UBSan).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "loco/diloco_msg.h"
#include "loco/net.h"

static loco_net_key key;
static loco_gpt *model;
static loco_diloco_layout lay[5];
static double *sum;
static float *dec;
static uint8_t *buf;

static void setup(void) {
    static const char secret[] = "fuzzing-secret-0123456789";
    loco_net_key_from_secret(&key, (const uint8_t *)secret, sizeof secret - 1, NULL, 0);
    const loco_gpt_config g = {4, 7, 1, 1, 4};
    if (loco_gpt_create(&model, &g, 1, 4, 1, NULL, 0)) abort();
    for (int c = 0; c < 5; c++)
        if (loco_diloco_layout_init(&lay[c], model, (loco_codec)c, c == 4 ? 0.5f : 1.0f, NULL, 0)) abort();
    sum = calloc(lay[0].P, sizeof *sum);
    dec = calloc(lay[0].P, sizeof *dec);
    buf = malloc(1 << 20);
    if (!sum || !dec || !buf) abort();
}

/* Every decoder on p; whatever decodes is checked and re-encoded. */
static void decode_all(const uint8_t *p, size_t n) {
    loco_net_hello he;
    if (loco_net_decode_hello(p, n, &he) == LOCO_OK && (loco_net_encode_hello(&he, buf, 1 << 20) != n ||
                                                         memcmp(buf, p, n)))
        abort();
    loco_net_task t;
    if (loco_net_decode_task(p, n, &t) == LOCO_OK &&
        (t.inner_steps < 1 || loco_net_encode_task(&t, buf, 1 << 20) != n || memcmp(buf, p, n)))
        abort();
    loco_net_theta th;
    if (loco_net_decode_theta(p, n, &th) == LOCO_OK && LOCO_NET_THETA_FIXED + 4 * th.n_params != n) abort();
    loco_net_push pu;
    if (loco_net_decode_push(p, n, &pu) == LOCO_OK) {
        for (uint32_t i = 0; i < pu.n_losses; i++) {
            float f;
            memcpy(&f, pu.losses + 4 * (size_t)i, 4);
            if (!isfinite(f)) abort();
        }
        if (n <= (1 << 20) && (loco_net_encode_push(&pu, buf, 1 << 20) != n || memcmp(buf, p, n))) abort();
        for (int c = 0; c < 5; c++)
            if (loco_diloco_accumulate(&lay[c], pu.contrib, (size_t)pu.contrib_len, sum, dec) == LOCO_OK)
                for (size_t j = 0; j < lay[c].P; j++)
                    if (!isfinite(dec[j])) abort();
        memset(sum, 0, lay[0].P * sizeof *sum);
    }
    loco_net_heartbeat hb;
    if (loco_net_decode_heartbeat(p, n, &hb) == LOCO_OK && n != LOCO_NET_HEARTBEAT_BYTES) abort();
    loco_net_error er;
    if (loco_net_decode_error(p, n, &er) == LOCO_OK) {
        for (const char *s = er.text; *s; s++)
            if (*s < 0x20 || *s > 0x7e) abort();
        if (loco_net_encode_error(er.code, er.text, buf, 1 << 20) != n || memcmp(buf, p, n)) abort();
    }
    loco_net_atask at;
    if (loco_net_decode_atask(p, n, &at) == LOCO_OK &&
        (at.inner_steps < 1 || loco_net_encode_atask(&at, buf, 1 << 20) != n || memcmp(buf, p, n)))
        abort();
    loco_net_osync os;
    if (loco_net_decode_osync(p, n, &os) == LOCO_OK) {
        if (os.kind > 2 || !isfinite(os.lr) || LOCO_NET_OSYNC_FIXED + 4 * os.n_state != n) abort();
        if (loco_net_encode_osync_head(&os, buf, 1 << 20) != LOCO_NET_OSYNC_FIXED ||
            memcmp(buf, p, LOCO_NET_OSYNC_FIXED))
            abort();
    }
    loco_net_down dn;
    if (loco_net_decode_down(p, n, &dn) == LOCO_OK) {
        if (dn.base + 1 != dn.version || LOCO_NET_DOWN_FIXED + dn.bytes != n) abort();
        if (loco_net_encode_down_head(&dn, buf, 1 << 20) != LOCO_NET_DOWN_FIXED || memcmp(buf, p, LOCO_NET_DOWN_FIXED))
            abort();
    }
    uint64_t done;
    if (loco_net_decode_dpask(p, n, &done) == LOCO_OK &&
        (loco_net_encode_dpask(done, buf, 1 << 20) != n || memcmp(buf, p, n)))
        abort();
    loco_net_dptask dt;
    if (loco_net_decode_dptask(p, n, &dt) == LOCO_OK) {
        if (!dt.lease || dt.inner_steps < 1 || LOCO_NET_DPTASK_FIXED + 4 * dt.n_params != n) abort();
        if (loco_net_encode_dptask_head(&dt, buf, 1 << 20) != LOCO_NET_DPTASK_FIXED ||
            memcmp(buf, p, LOCO_NET_DPTASK_FIXED))
            abort();
    }
    loco_net_dppush dp;
    if (loco_net_decode_dppush(p, n, &dp) == LOCO_OK) {
        if (!dp.lease || !dp.n_losses || loco_net_dppush_bytes(dp.n_losses, dp.n_params) != n) abort();
        size_t k = LOCO_NET_DPPUSH_FIXED + 4 * (size_t)dp.n_losses;
        if (loco_net_encode_dppush_head(&dp, buf, 1 << 20) != k || memcmp(buf, p, k)) abort();
    }
    loco_net_welcome w;
    if (loco_net_decode_welcome(p, n, &w) == LOCO_OK) {
        /* A DiPaCo worker's id is a slot, not one of the `workers` shards. */
        if (w.run_kind > LOCO_NET_RUN_DIPACO || (w.run_kind == LOCO_NET_RUN_DILOCO && w.worker_id >= w.workers) ||
            loco_gpt_config_check(&w.model, NULL, 0) != LOCO_OK)
            abort();
        for (uint64_t d = 0; d < w.n_assign; d++)
            if (w.assign[4 * d] + (w.assign[4 * d + 1] << 8) + ((uint32_t)w.assign[4 * d + 2] << 16) +
                    ((uint32_t)w.assign[4 * d + 3] << 24) >= w.workers)
                abort();
        if (n <= (1 << 20) && (loco_net_encode_welcome(&w, buf, 1 << 20) != n || memcmp(buf, p, n))) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!model) setup();
    /* As a message off the wire: the first 88 bytes are the header. */
    size_t hn = size < LOCO_NET_HEADER_BYTES ? size : LOCO_NET_HEADER_BYTES;
    loco_net_header h;
    char msg[256];
    if (loco_net_open(&key, data, hn, data + hn, size - hn, 1 << 16, &h, msg, sizeof msg) == LOCO_OK)
        abort();   /* a random MAC that verifies: impossible in practice */
    if (strchr(msg, '\n')) abort();
    /* The payload sealed properly must open, and then reach the decoders. */
    uint8_t hdr[LOCO_NET_HEADER_BYTES];
    loco_net_sealer s;
    loco_net_header out = {0};
    out.type = LOCO_NET_PUSH;
    if (loco_net_seal_begin(&s, &key, data, size) || loco_net_seal_header(&s, &out, hdr)) abort();
    if (loco_net_open(&key, hdr, sizeof hdr, data, size, size, &h, msg, sizeof msg) != LOCO_OK ||
        h.payload_len != size)
        abort();
    /* Any one byte of header or payload changed, at a place and to a value
     * the input picks, must be refused. */
    if (size >= 2) {
        const size_t at = ((size_t)data[0] << 8 | data[1]) % (sizeof hdr + size);
        uint8_t *copy = malloc(size);
        if (!copy) abort();
        memcpy(copy, data, size);
        uint8_t *x = at < sizeof hdr ? hdr + at : copy + (at - sizeof hdr);
        *x ^= (uint8_t)(data[size - 1] | 1);
        if (loco_net_open(&key, hdr, sizeof hdr, copy, size, size, &h, msg, sizeof msg) == LOCO_OK) abort();
        *x ^= (uint8_t)(data[size - 1] | 1);
        free(copy);
    }
    decode_all(data, size);
    return 0;
}
