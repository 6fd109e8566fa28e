/*
 * The wire protocol (include/loco/net.h) and DiLoCo's messages as bytes
 * (include/loco/diloco_msg.h): every payload round-trips, every byte of a
 * sealed message is covered by its MAC (in every chunk of a multi-chunk
 * payload, for any thread count), a peer of another protocol version hears
 * so, every truncation and every wrong length is refused, and HELLO replays
 * are caught.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "loco/diloco_msg.h"
#include "loco/net.h"
#include "test.h"

static void key_of(loco_net_key *k, const char *secret) {
    loco_net_key_from_secret(k, (const uint8_t *)secret, strlen(secret), NULL, 0);
}

/* Seals payload p (n bytes) as a message of type `type` into hdr. */
static void seal(const loco_net_key *k, int type, const uint8_t *p, size_t n, uint8_t *hdr) {
    loco_net_sealer s;
    loco_net_seal_begin(&s, k, p, n);
    loco_net_header h = {0};
    h.type = (uint16_t)type;
    h.sender = 3;
    h.seq = 77;
    h.run_id = 0x1234;
    h.session = 0x99;
    loco_net_seal_header(&s, &h, hdr);
}

LOCO_TEST(net_envelope_authenticates_every_byte) {
    loco_net_key k, other;
    char msg[256];
    CHECK(loco_net_key_from_secret(&k, (const uint8_t *)"short", 5, msg, sizeof msg) == LOCO_EINVAL,
          "a 5-byte secret was accepted");
    key_of(&k, "0123456789abcdef-the-secret");
    key_of(&other, "0123456789abcdef-the-secreT");
    uint8_t p[40], hdr[LOCO_NET_HEADER_BYTES];
    for (int i = 0; i < 40; i++) p[i] = (uint8_t)(i * 7);
    seal(&k, LOCO_NET_HEARTBEAT, p, sizeof p, hdr);
    loco_net_header h;
    CHECK(loco_net_open(&k, hdr, sizeof hdr, p, sizeof p, 1000, &h, msg, sizeof msg) == LOCO_OK, "open: %s", msg);
    CHECK(h.type == LOCO_NET_HEARTBEAT && h.sender == 3 && h.seq == 77 && h.run_id == 0x1234 &&
          h.session == 0x99 && h.payload_len == 40, "header fields");
    CHECK(loco_net_open(&other, hdr, sizeof hdr, p, sizeof p, 1000, &h, msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, "MAC"), "another secret opened it: %s", msg);
    CHECK(loco_net_open(&k, hdr, sizeof hdr, p, sizeof p, 39, &h, msg, sizeof msg) == LOCO_ERANGE,
          "oversized payload accepted");
    CHECK(loco_net_open(&k, hdr, 50, p, sizeof p, 1000, &h, msg, sizeof msg) == LOCO_EINVAL, "truncated header");
    CHECK(loco_net_open(&k, hdr, sizeof hdr, p, 39, 1000, &h, msg, sizeof msg) == LOCO_EINVAL, "truncated payload");
    /* Every bit of header and payload matters. */
    int missed = 0;
    for (size_t i = 0; i < sizeof hdr + sizeof p; i++)
        for (int b = 0; b < 8; b++) {
            uint8_t *x = i < sizeof hdr ? hdr + i : p + (i - sizeof hdr);
            *x ^= (uint8_t)(1 << b);
            missed += loco_net_open(&k, hdr, sizeof hdr, p, sizeof p, 1000, &h, NULL, 0) == LOCO_OK;
            *x ^= (uint8_t)(1 << b);
        }
    CHECK(missed == 0, "%d single-bit flips were accepted", missed);
    /* An empty payload is fine. */
    seal(&k, LOCO_NET_BYE, NULL, 0, hdr);
    CHECK(loco_net_open(&k, hdr, sizeof hdr, NULL, 0, 0, &h, msg, sizeof msg) == LOCO_OK, "empty: %s", msg);
}

LOCO_TEST(net_mac_covers_every_chunk) {
    /* Two full chunks and a partial third: the MAC is a tree over the
     * chunks, so each one, the boundaries and the order must all count. */
    loco_net_key k, other;
    key_of(&k, "0123456789abcdef-the-secret");
    key_of(&other, "0123456789abcdef-the-secreT");
    const size_t C = LOCO_NET_MAC_CHUNK, n = 2 * C + 1234;
    uint8_t *p = malloc(n), hdr[LOCO_NET_HEADER_BYTES], hdr1[LOCO_NET_HEADER_BYTES];
    CHECK(p != NULL, "out of memory");
    if (!p) return;
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 2654435761u >> 13);
    char msg[256];
    loco_net_header h;
    /* The same MAC on one thread as on several (the tags combine in a
     * fixed order). */
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    seal(&k, LOCO_NET_PUSH, p, n, hdr1);
    omp_set_num_threads(3);
    seal(&k, LOCO_NET_PUSH, p, n, hdr);
    omp_set_num_threads(threads);
    CHECK(memcmp(hdr, hdr1, sizeof hdr) == 0, "the MAC depends on the thread count");
    CHECK(loco_net_open(&k, hdr, sizeof hdr, p, n, n, &h, msg, sizeof msg) == LOCO_OK, "open: %s", msg);
    CHECK(loco_net_open(&other, hdr, sizeof hdr, p, n, n, &h, msg, sizeof msg) == LOCO_EINVAL && strstr(msg, "MAC"),
          "another secret opened it: %s", msg);
    /* One flipped byte anywhere, chunk boundaries included, is refused. */
    const size_t at[] = {0, 1, C / 2, C - 1, C, C + 1, 2 * C - 1, 2 * C, 2 * C + 617, n - 1};
    int missed = 0;
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        p[at[i]] ^= 0x40;
        missed += loco_net_open(&k, hdr, sizeof hdr, p, n, n, &h, NULL, 0) == LOCO_OK;
        p[at[i]] ^= 0x40;
    }
    CHECK(missed == 0, "%d flipped payload bytes were accepted", missed);
    for (size_t i = 0; i < sizeof hdr; i++) {
        hdr[i] ^= 0x01;
        missed += loco_net_open(&k, hdr, sizeof hdr, p, n, n, &h, NULL, 0) == LOCO_OK;
        hdr[i] ^= 0x01;
    }
    CHECK(missed == 0, "%d flipped header bytes were accepted", missed);
    /* Two chunks swapped: the same tags in another order. */
    uint8_t *q = malloc(n);
    CHECK(q != NULL, "out of memory");
    if (q) {
        memcpy(q, p + C, C);
        memcpy(q + C, p, C);
        memcpy(q + 2 * C, p + 2 * C, n - 2 * C);
        CHECK(loco_net_open(&k, hdr, sizeof hdr, q, n, n, &h, NULL, 0) == LOCO_EINVAL, "swapped chunks accepted");
        /* The payload cut at a chunk boundary, with the length field fixed
         * up, is still refused by the MAC. */
        uint8_t cut[LOCO_NET_HEADER_BYTES];
        memcpy(cut, hdr, sizeof cut);
        for (int b = 0; b < 8; b++) cut[40 + b] = (uint8_t)((uint64_t)(2 * C) >> (8 * b));
        CHECK(loco_net_open(&k, cut, sizeof cut, p, 2 * C, n, &h, msg, sizeof msg) == LOCO_EINVAL &&
              strstr(msg, "MAC"), "a payload cut at a chunk boundary was accepted: %s", msg);
        free(q);
    }
    free(p);
}

LOCO_TEST(net_version_mismatch_is_named) {
    /* A version 2 peer (88-byte header, FNV-1a at offset 48) and a
     * hypothetical later one with a longer header both hear the version. */
    loco_net_key k;
    key_of(&k, "0123456789abcdef-the-secret");
    uint8_t p[8] = {1, 2, 3, 4, 5, 6, 7, 8}, hdr[LOCO_NET_HEADER_BYTES + 8] = {0};
    seal(&k, LOCO_NET_HEARTBEAT, p, sizeof p, hdr);
    char msg[256];
    loco_net_header h;
    hdr[4] = 2;
    CHECK(loco_net_open(&k, hdr, LOCO_NET_HEADER_BYTES, p, sizeof p, 100, &h, msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, "protocol version 2") && strstr(msg, "speaks version 3"), "version 2: '%s'", msg);
    hdr[4] = 4;
    CHECK(loco_net_open(&k, hdr, sizeof hdr, p, sizeof p, 100, &h, msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, "protocol version 4"), "version 4, longer header: '%s'", msg);
    hdr[4] = 3;
    CHECK(loco_net_open(&k, hdr, LOCO_NET_HEADER_BYTES, p, sizeof p, 100, &h, msg, sizeof msg) == LOCO_OK,
          "version 3: '%s'", msg);
    hdr[50] = 1;   /* the reserved word that was version 2's checksum */
    CHECK(loco_net_open(&k, hdr, LOCO_NET_HEADER_BYTES, p, sizeof p, 100, &h, msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, "reserved"), "a non-zero reserved word: '%s'", msg);
}

LOCO_TEST(net_payloads_round_trip_and_refuse_bad_lengths) {
    uint8_t buf[1024];
    /* HELLO */
    loco_net_hello he = {{1, 2, 3}, 123456789, 5}, he2;
    size_t n = loco_net_encode_hello(&he, buf, sizeof buf);
    CHECK(n == LOCO_NET_HELLO_BYTES && loco_net_decode_hello(buf, n, &he2) == LOCO_OK &&
          !memcmp(&he.nonce, &he2.nonce, 16) && he2.time_ms == he.time_ms && he2.want_id == 5, "hello");
    /* TASK */
    loco_net_task t = {9, 8, 2, 50, 450}, t2;
    n = loco_net_encode_task(&t, buf, sizeof buf);
    CHECK(n == LOCO_NET_TASK_BYTES && loco_net_decode_task(buf, n, &t2) == LOCO_OK && !memcmp(&t, &t2, sizeof t),
          "task");
    for (size_t k = 0; k < n; k++) CHECK(loco_net_decode_task(buf, k, &t2) != LOCO_OK, "task cut to %zu", k);
    /* PUSH: losses and contribution */
    float losses[3] = {2.5f, 2.25f, 2.0f};
    uint8_t lb[12], contrib[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    memcpy(lb, losses, sizeof lb);   /* the tests run on little-endian hosts */
    loco_net_push pu = {4, 3, 1, 3, lb, sizeof contrib, contrib}, pu2;
    n = loco_net_encode_push(&pu, buf, sizeof buf);
    CHECK(n == loco_net_push_bytes(3, 10) && loco_net_decode_push(buf, n, &pu2) == LOCO_OK && pu2.round == 4 &&
          pu2.n_losses == 3 && pu2.contrib_len == 10 && !memcmp(pu2.contrib, contrib, 10), "push");
    int accepted = 0;
    for (size_t k = 0; k < n; k++) accepted += loco_net_decode_push(buf, k, &pu2) == LOCO_OK;
    CHECK(accepted == 0, "%d truncated pushes accepted", accepted);
    float nan = NAN;
    memcpy(buf + LOCO_NET_PUSH_FIXED + 4, &nan, 4);
    CHECK(loco_net_decode_push(buf, n, &pu2) == LOCO_EINVAL, "a NaN loss accepted");
    /* ERROR: printable text only */
    loco_net_error er;
    n = loco_net_encode_error(5, "no\nway", buf, sizeof buf);
    CHECK(loco_net_decode_error(buf, n, &er) == LOCO_OK && !strcmp(er.text, "no?way"), "error text '%s'", er.text);
    buf[9] = 7;
    CHECK(loco_net_decode_error(buf, n, &er) == LOCO_EINVAL, "a control character accepted");
    /* WELCOME: a valid one, then bad fields */
    uint8_t assign[4 * 4] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    loco_net_welcome w = {0}, w2;
    w.worker_id = 1;
    w.workers = 2;
    w.model = (loco_gpt_config){16, 50, 2, 2, 16};
    w.batch = 2;
    w.seq_len = 16;
    w.inner_steps = 3;
    w.steps = 9;
    loco_adamw_config_default(&w.inner, 9);
    w.codec = LOCO_CODEC_INT8_ROW;
    w.keep = 0.5f;
    w.error_feedback = 1;
    w.seed = 42;
    w.heartbeat_ms = 1000;
    w.data_kind = LOCO_NET_DATA_SHARDS;
    w.data_docs = w.n_assign = 4;
    w.assign = assign;
    w.ckpt_every = 5;
    n = loco_net_encode_welcome(&w, buf, sizeof buf);
    CHECK(n == loco_net_welcome_bytes(4) && loco_net_decode_welcome(buf, n, &w2) == LOCO_OK &&
          w2.model.channels == 16 && w2.keep == 0.5f && w2.codec == LOCO_CODEC_INT8_ROW && w2.seed == 42 &&
          w2.ckpt_every == 5 && n == 168 + 16, "welcome");
    buf[164] = 2;   /* the run kind after ckpt_every: 0 DiLoCo, 1 DiPaCo, nothing else */
    CHECK(loco_net_decode_welcome(buf, n, &w2) == LOCO_EINVAL, "an unknown run kind accepted");
    buf[164] = 1;
    CHECK(loco_net_decode_welcome(buf, n, &w2) == LOCO_OK && w2.run_kind == LOCO_NET_RUN_DIPACO, "a DiPaCo run");
    buf[164] = 0;
    accepted = 0;
    for (size_t k = 0; k < n; k++) accepted += loco_net_decode_welcome(buf, k, &w2) == LOCO_OK;
    CHECK(accepted == 0, "%d truncated welcomes accepted", accepted);
    buf[n - 4] = 2;   /* document 3 assigned to worker 2 of 2 */
    CHECK(loco_net_decode_welcome(buf, n, &w2) == LOCO_EINVAL, "an assignment out of range accepted");
    w.model.n_head = 3;   /* 16 channels do not split into 3 heads */
    n = loco_net_encode_welcome(&w, buf, sizeof buf);
    CHECK(loco_net_decode_welcome(buf, n, &w2) == LOCO_EINVAL, "a bad model accepted");
}

LOCO_TEST(net_hello_replay_and_skew) {
    static loco_net_nonces c;   /* 16 kB: not on the stack */
    memset(&c, 0, sizeof c);
    loco_net_hello h = {{7}, 1000000, LOCO_NET_ANON};
    CHECK(loco_net_hello_accept(&c, &h, 1000500, 60000) == LOCO_OK, "fresh hello refused");
    CHECK(loco_net_hello_accept(&c, &h, 1000600, 60000) == LOCO_EINVAL, "replayed hello accepted");
    h.nonce[0] = 8;
    CHECK(loco_net_hello_accept(&c, &h, 1000000 + 60001, 60000) == LOCO_ERANGE, "stale hello accepted");
    CHECK(loco_net_hello_accept(&c, &h, 1000000 - 60001, 60000) == LOCO_ERANGE, "future hello accepted");
    CHECK(loco_net_hello_accept(&c, &h, 1000000, 60000) == LOCO_OK, "second fresh hello refused");
}

LOCO_TEST(net_diloco_msg_bytes) {
    /* A dense fp32 contribution is the parameters, little-endian, in
     * tensor order; the server's sum of two of them is exact in double; a
     * message of the wrong length or with a NaN leaves the sum alone. */
    const loco_gpt_config g = {8, 11, 1, 2, 8};
    loco_gpt *m = NULL;
    CHECK(loco_gpt_create(&m, &g, 1, 8, 3, NULL, 0) == LOCO_OK, "model");
    if (!m) return;
    loco_diloco_layout l;
    char msg[256];
    CHECK(loco_diloco_layout_init(&l, m, LOCO_CODEC_FP32, 1.0f, msg, sizeof msg) == LOCO_OK, "%s", msg);
    const size_t P = l.P;
    CHECK(l.msg_bytes == 4 * P && loco_diloco_dense(&l), "dense size %zu for %zu params", l.msg_bytes, P);
    float *p = loco_gpt_params(m), *dec = malloc(P * sizeof(float)), *target = malloc(P * sizeof(float));
    uint8_t *wire = malloc(l.msg_bytes);
    double *sum = calloc(P, sizeof(double));
    CHECK(loco_diloco_encode(&l, NULL, p, NULL, NULL, wire) == LOCO_OK && memcmp(wire, p, 4 * P) == 0,
          "dense bytes are not the parameters");
    CHECK(loco_diloco_accumulate(&l, wire, l.msg_bytes, sum, dec) == LOCO_OK &&
          loco_diloco_accumulate(&l, wire, l.msg_bytes, sum, dec) == LOCO_OK, "accumulate");
    CHECK(loco_diloco_accumulate(&l, wire, l.msg_bytes - 1, sum, dec) == LOCO_EINVAL, "short message accepted");
    float nan = NAN;
    memcpy(wire + 4 * (P / 2), &nan, 4);
    CHECK(loco_diloco_accumulate(&l, wire, l.msg_bytes, sum, dec) == LOCO_EINVAL, "NaN accepted");
    CHECK(loco_diloco_target(&l, sum, 2, p, NULL, NULL, target) == LOCO_OK &&
          memcmp(target, p, P * sizeof(float)) == 0, "the mean of two copies is not the copy");
    free(dec);
    free(target);
    free(wire);
    free(sum);
    loco_gpt_free(m);
}
