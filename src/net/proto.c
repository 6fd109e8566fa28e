/* The message envelope of the networked engine (include/loco/net.h): keys,
 * the authenticated header, and HELLO replay protection.  The payloads are
 * in src/net/payload.c. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "loco/net.h"
#include "net/wire.h"
#include "core/file.h"

/* The protocol's type table: every sender and receiver names types by the
 * enum in include/loco/net.h, and everything said about a type (its name in
 * logs and refusals, its payload's size) is read from here. */
#define C LOCO_NET_TO_COORDINATOR
#define W LOCO_NET_TO_WORKER
static const loco_net_type_desc types[] = {
    {LOCO_NET_HELLO, "HELLO", LOCO_NET_HELLO_BYTES, 1, C},
    {LOCO_NET_WELCOME, "WELCOME", LOCO_NET_WELCOME_FIXED, 0, W},
    {LOCO_NET_TASK, "TASK", LOCO_NET_TASK_BYTES, 1, W},
    {LOCO_NET_THETA, "THETA", LOCO_NET_THETA_FIXED, 0, W},
    {LOCO_NET_PUSH, "PUSH", LOCO_NET_PUSH_FIXED, 0, C},
    {LOCO_NET_HEARTBEAT, "HEARTBEAT", LOCO_NET_HEARTBEAT_BYTES, 1, C | W},
    {LOCO_NET_BYE, "BYE", 0, 1, C | W},
    {LOCO_NET_ERROR, "ERROR", LOCO_NET_ERROR_FIXED, 0, C | W},
    {LOCO_NET_ATASK, "ATASK", LOCO_NET_ATASK_BYTES, 1, W},
    {LOCO_NET_OSYNC, "OSYNC", LOCO_NET_OSYNC_FIXED, 0, W},
    {LOCO_NET_DOWN, "DOWN", LOCO_NET_DOWN_FIXED, 0, W},
    {LOCO_NET_DPASK, "DPASK", LOCO_NET_DPASK_BYTES, 1, C},
    {LOCO_NET_DPTASK, "DPTASK", LOCO_NET_DPTASK_FIXED, 0, W},
    {LOCO_NET_DPPUSH, "DPPUSH", LOCO_NET_DPPUSH_FIXED, 0, C},
};
#undef C
#undef W

const loco_net_type_desc *loco_net_types(int *n) {
    if (n) *n = (int)(sizeof types / sizeof types[0]);
    return types;
}

const loco_net_type_desc *loco_net_type_info(int type) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == type) return &types[i];
    return NULL;
}

const char *loco_net_type_name(int type) {
    const loco_net_type_desc *d = loco_net_type_info(type);
    return d ? d->name : "unknown";
}

/* sodium_init is idempotent and thread-safe; returns LOCO_EIO if it fails. */
static int sodium_ready(void) {
    return sodium_init() < 0 ? LOCO_EIO : LOCO_OK;
}

/* Returns LOCO_EINVAL for a short secret, LOCO_EIO if libsodium fails. */
int loco_net_key_from_secret(loco_net_key *key, const uint8_t *secret, size_t n, char *msg, size_t msglen) {
    if (!key || (!secret && n)) return LOCO_EINVAL;
    if (n < LOCO_NET_MIN_SECRET) {
        if (msg) snprintf(msg, msglen, "the secret has %zu bytes, fewer than %d", n, LOCO_NET_MIN_SECRET);
        return LOCO_EINVAL;
    }
    if (sodium_ready()) {
        if (msg) snprintf(msg, msglen, "libsodium cannot start");
        return LOCO_EIO;
    }
    /* A domain-separated hash, so that the same secret used elsewhere does
     * not give the same key, and any length of secret gives 32 bytes. */
    crypto_hash_sha256_state st;
    static const char domain[] = "loco-net-1";
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)domain, sizeof domain - 1);
    crypto_hash_sha256_update(&st, secret, n);
    crypto_hash_sha256_final(&st, key->k);
    sodium_memzero(&st, sizeof st);
    return LOCO_OK;
}

/* Returns LOCO_EIO (cannot read) or LOCO_EINVAL (bad size), naming path. */
int loco_net_key_load(loco_net_key *key, const char *path, char *msg, size_t msglen) {
    uint8_t buf[4097];
    char reason[512];
    FILE *f = loco_file_open_input(path, reason, sizeof reason);
    if (!f) {
        if (msg) snprintf(msg, msglen, "the secret file %s", reason);
        return LOCO_EIO;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        if (msg) snprintf(msg, msglen, "%s: cannot read the secret file", path);
        return LOCO_EIO;
    }
    if (n == sizeof buf) {
        if (msg) snprintf(msg, msglen, "%s: the secret file is longer than 4096 bytes", path);
        return LOCO_EINVAL;
    }
    /* One trailing newline is the editor's, not the secret's. */
    if (n && buf[n - 1] == '\n') n--;
    if (n && buf[n - 1] == '\r') n--;
    char why[128];
    int e = loco_net_key_from_secret(key, buf, n, why, sizeof why);
    sodium_memzero(buf, sizeof buf);
    if (e && msg) snprintf(msg, msglen, "%s: %s", path, why);
    return e;
}

int loco_net_random(void *buf, size_t n) {
    if (sodium_ready()) return LOCO_EIO;
    randombytes_buf(buf, n);
    return LOCO_OK;
}

uint64_t loco_net_wall_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ the MAC
 *
 * Version 3's MAC (docs/protocol.md, "MAC"), in three layers, all keyed by
 * subkeys of the run's key K that BLAKE2b's personalization separates:
 *   1. the payload is cut into chunks of LOCO_NET_MAC_CHUNK bytes (the last
 *      one shorter); chunk i gets Poly1305 under its own one-time key
 *      r_i = BLAKE2b(key K, personal "loco-net3-chunk", LE64(i)), which
 *      makes the chunks independent, so that they are hashed in parallel;
 *   2. the payload digest is BLAKE2b-256(key K, personal "loco-net3-body")
 *      of LE64(payload length) || LE64(chunk size) || the chunk tags in
 *      order;
 *   3. the MAC is BLAKE2b-256(key K, personal "loco-net3-head") of the
 *      header's first 56 bytes || the payload digest.
 * The chunk tags and the digest never leave this file: Poly1305 serves as
 * a universal hash whose outputs only a pseudo-random function (keyed
 * BLAKE2b) ever sees, the classic hash-then-PRF construction.  Everything is
 * a function of the bytes alone (the chunk size is a constant, the tags are
 * combined in index order), so the MAC is the same for any thread count. */

#define LOCO__MAC_BATCH 64   /* chunks hashed per parallel pass: 64 MiB, 1 KiB of tags on the stack */

static const unsigned char pers_chunk[16] = "loco-net3-chunk";
static const unsigned char pers_body[16] = "loco-net3-body";
static const unsigned char pers_head[16] = "loco-net3-head";

_Static_assert(64 <= sizeof(((loco_net_sealer *)0)->state), "loco_net_sealer.state holds the key and the digest");

/* The Poly1305 tag of chunk i (len bytes at p) under its own key. */
static void chunk_tag(const loco_net_key *key, uint64_t i, const uint8_t *p, size_t len,
                      unsigned char tag[crypto_onetimeauth_BYTES]) {
    unsigned char idx[8], ck[crypto_onetimeauth_KEYBYTES];
    loco__put64(idx, i);
    crypto_generichash_blake2b_salt_personal(ck, sizeof ck, idx, sizeof idx, key->k, sizeof key->k, NULL,
                                             pers_chunk);
    crypto_onetimeauth(tag, p, len, ck);
    sodium_memzero(ck, sizeof ck);
}

/* The payload digest of n bytes at p (layers 1 and 2) into d. */
static void payload_digest(const loco_net_key *key, const uint8_t *p, size_t n, unsigned char d[32]) {
    crypto_generichash_blake2b_state st;
    unsigned char lens[16];
    crypto_generichash_blake2b_init_salt_personal(&st, key->k, sizeof key->k, 32, NULL, pers_body);
    loco__put64(lens, n);
    loco__put64(lens + 8, LOCO_NET_MAC_CHUNK);
    crypto_generichash_blake2b_update(&st, lens, sizeof lens);
    const size_t chunks = (n + LOCO_NET_MAC_CHUNK - 1) / LOCO_NET_MAC_CHUNK;
    unsigned char tags[LOCO__MAC_BATCH][crypto_onetimeauth_BYTES];
    for (size_t first = 0; first < chunks; first += LOCO__MAC_BATCH) {
        const long k = (long)(chunks - first < LOCO__MAC_BATCH ? chunks - first : LOCO__MAC_BATCH);
        /* Each tag lands in its own slot; only the order of the update
         * below, fixed, combines them. */
        #pragma omp parallel for schedule(static) if (k > 1)
        for (long j = 0; j < k; j++) {
            const size_t c = first + (size_t)j, at = c * LOCO_NET_MAC_CHUNK;
            const size_t len = n - at < LOCO_NET_MAC_CHUNK ? n - at : LOCO_NET_MAC_CHUNK;
            chunk_tag(key, c, p + at, len, tags[j]);
        }
        crypto_generichash_blake2b_update(&st, &tags[0][0], (size_t)k * crypto_onetimeauth_BYTES);
    }
    crypto_generichash_blake2b_final(&st, d, 32);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(tags, sizeof tags);
}

/* Returns LOCO_EINVAL for NULL arguments, LOCO_EIO if libsodium fails. */
int loco_net_seal_begin(loco_net_sealer *s, const loco_net_key *key, const void *payload, size_t n) {
    if (!s || !key || (!payload && n)) return LOCO_EINVAL;
    if (sodium_ready()) return LOCO_EIO;
    memset(s, 0, sizeof *s);
    /* The key goes with the digest so that seal_header can finish the MAC
     * without being handed it again (its signature predates version 3). */
    memcpy(s->state, key->k, sizeof key->k);
    payload_digest(key, payload, n, s->state + sizeof key->k);
    s->n = n;
    s->checksum = 0;
    return LOCO_OK;
}

/* Writes the 56 bytes of the header that the MAC covers. */
static void put_fields(const loco_net_header *h, uint8_t *o) {
    memcpy(o, "LOCO", 4);
    loco__put16(o + 4, h->version);
    loco__put16(o + 6, h->type);
    loco__put32(o + 8, h->sender);
    loco__put32(o + 12, 0);
    loco__put64(o + 16, h->seq);
    loco__put64(o + 24, h->run_id);
    loco__put64(o + 32, h->session);
    loco__put64(o + 40, h->payload_len);
    loco__put64(o + 48, 0);   /* reserved: the FNV-1a checksum of version 2 */
}

/* The MAC (layer 3) of the header's 56 bytes and the sealer's digest. */
static void finish_mac(const loco_net_sealer *s, const uint8_t *fields, uint8_t *mac) {
    crypto_generichash_blake2b_state st;
    crypto_generichash_blake2b_init_salt_personal(&st, s->state, 32, LOCO_NET_MAC_BYTES, NULL, pers_head);
    crypto_generichash_blake2b_update(&st, fields, 56);
    crypto_generichash_blake2b_update(&st, s->state + 32, 32);
    crypto_generichash_blake2b_final(&st, mac, LOCO_NET_MAC_BYTES);
    sodium_memzero(&st, sizeof st);
}

int loco_net_seal_header(const loco_net_sealer *s, loco_net_header *h, uint8_t *out) {
    if (!s || !h || !out) return LOCO_EINVAL;
    h->version = LOCO_NET_VERSION;
    h->payload_len = s->n;
    h->checksum = 0;
    put_fields(h, out);
    finish_mac(s, out, out + 56);
    return LOCO_OK;
}

/* Fails with a reason: LOCO_ERANGE for an oversized payload, LOCO_EINVAL
 * for anything else. */
int loco_net_open(const loco_net_key *key, const uint8_t *hdr, size_t hdr_len, const uint8_t *payload, size_t n,
                  size_t payload_max, loco_net_header *h, char *msg, size_t msglen) {
    const char *why = NULL;
    char vwhy[96];
    if (!key || !h || (!hdr && hdr_len) || (!payload && n)) why = "no message";
    else if (n > payload_max) {
        if (msg) snprintf(msg, msglen, "payload of %zu bytes exceeds the maximum of %zu", n, payload_max);
        return LOCO_ERANGE;
    } else if (hdr_len >= 6 && memcmp(hdr, "LOCO", 4) == 0 && loco__get16(hdr + 4) != LOCO_NET_VERSION) {
        /* Before the length: a peer of another version may have another
         * header size, and what it needs to hear is the version. */
        snprintf(vwhy, sizeof vwhy, "protocol version %u, but this build speaks version %d: upgrade the older side",
                 (unsigned)loco__get16(hdr + 4), LOCO_NET_VERSION);
        why = vwhy;
    } else if (hdr_len != LOCO_NET_HEADER_BYTES) why = "header of the wrong length";
    else if (memcmp(hdr, "LOCO", 4) != 0) why = "bad magic";
    else if (loco__get64(hdr + 40) != n) why = "payload length does not match the header";
    else if (loco__get32(hdr + 12) != 0 || loco__get64(hdr + 48) != 0) why = "reserved header field is not 0";
    if (!why) {
        loco_net_sealer s;
        uint8_t mac[LOCO_NET_MAC_BYTES];
        if (loco_net_seal_begin(&s, key, payload, n)) why = "libsodium cannot start";
        else {
            finish_mac(&s, hdr, mac);
            /* Constant time: a forger learns nothing from how long it took. */
            if (sodium_memcmp(mac, hdr + 56, sizeof mac) != 0) why = "bad MAC (wrong secret or tampered)";
            sodium_memzero(&s, sizeof s);
        }
    }
    if (why) {
        if (msg) snprintf(msg, msglen, "%s", why);
        return LOCO_EINVAL;
    }
    h->version = loco__get16(hdr + 4);
    h->type = loco__get16(hdr + 6);
    h->sender = loco__get32(hdr + 8);
    h->seq = loco__get64(hdr + 16);
    h->run_id = loco__get64(hdr + 24);
    h->session = loco__get64(hdr + 32);
    h->payload_len = n;
    h->checksum = 0;
    return LOCO_OK;
}

/* Returns LOCO_ERANGE (stale or future timestamp) or LOCO_EINVAL (replay). */
int loco_net_hello_accept(loco_net_nonces *c, const loco_net_hello *h, uint64_t now_ms, uint64_t max_skew_ms) {
    if (!c || !h) return LOCO_EINVAL;
    uint64_t d = h->time_ms > now_ms ? h->time_ms - now_ms : now_ms - h->time_ms;
    if (d > max_skew_ms) return LOCO_ERANGE;
    for (int i = 0; i < c->n; i++)
        if (memcmp(c->nonce[i], h->nonce, LOCO_NET_NONCE_BYTES) == 0) return LOCO_EINVAL;
    memcpy(c->nonce[c->next], h->nonce, LOCO_NET_NONCE_BYTES);
    c->next = (c->next + 1) % LOCO_NET_NONCE_CACHE;
    if (c->n < LOCO_NET_NONCE_CACHE) c->n++;
    return LOCO_OK;
}
