/*
 * libFuzzer target for CURVE key files and allow-lists
 * (include/loco/net_security.h): arbitrary bytes are parsed as a key file
 * and as public keys.  What parses must keep its promises: a key file's
 * public key is its secret key's, an allow-list is sorted without
 * duplicates, and formatting what was parsed and parsing it again gives the
 * same keys; nothing may read outside the input (ASan, UBSan).  The loaders
 * refuse a FIFO, a device and a directory (hostile_paths.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "loco/net_security.h"
#include "hostile_paths.h"

static int load_keypair(const char *path, char *msg, size_t msglen) {
    loco_net_curve_key p, s;
    return loco_net_keypair_load(path, &p, &s, msg, msglen);
}

static int load_pubkeys(const char *path, char *msg, size_t msglen) {
    loco_net_curve_key *k = NULL;
    size_t n = 0;
    int e = loco_net_pubkeys_load(path, &k, &n, msg, msglen);
    free(k);
    return e;
}

/* Both loaders; "accepted" (0) if either accepted path or did not say
 * why it refused. */
static int load_both(const char *path, char *msg, size_t msglen) {
    if (load_keypair(path, msg, msglen) == 0 || !strstr(msg, "not a regular file")) return 0;
    return load_pubkeys(path, msg, msglen);
}

/* Parses t as a key file: what parses is a matching pair that formats and
 * parses again to itself; a refusal says why. */
static void keypair_case(const char *t, size_t size) {
    char msg[256], text[512];
    loco_net_curve_key pub, sec, p2, s2;
    msg[0] = 0;
    if (loco_net_keypair_parse(t, size, &pub, &sec, msg, sizeof msg) == LOCO_OK) {
        uint8_t d[32];
        if (crypto_scalarmult_base(d, sec.k) != 0 || memcmp(d, pub.k, 32)) abort();
        size_t n = loco_net_keyfile_format(&pub, &sec, text, sizeof text);
        if (!n || loco_net_keypair_parse(text, n, &p2, &s2, msg, sizeof msg) != LOCO_OK ||
            memcmp(p2.k, pub.k, 32) || memcmp(s2.k, sec.k, 32))
            abort();
    } else if (!memchr(msg, 0, sizeof msg) || !msg[0]) {
        abort();   /* a refusal always says why */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    loco_fuzz_hostile_paths(load_both);
    const char *t = (const char *)data;
    char msg[256], text[512];
    loco_net_curve_key p2;
    keypair_case(t, size);
    /* A valid key file with bytes of it replaced as the input says (two
     * bytes of position, one of value, repeated): most of these stay close
     * enough to the format to reach the pair check. */
    static loco_net_curve_key vp, vs;
    static char valid[512];
    static size_t nvalid;
    if (!nvalid) {
        if (loco_net_curve_keypair(&vp, &vs)) abort();
        nvalid = loco_net_keyfile_format(&vp, &vs, valid, sizeof valid);
    }
    char mutated[512];
    memcpy(mutated, valid, nvalid);
    for (size_t i = 0; i + 3 <= size && i < 48; i += 3)
        mutated[(data[i] | data[i + 1] << 8) % nvalid] = (char)data[i + 2];
    keypair_case(mutated, nvalid);
    enum { CAP = 64 };
    static loco_net_curve_key keys[CAP];
    size_t count = 0;
    if (loco_net_pubkeys_parse(t, size, keys, CAP, &count, msg, sizeof msg) == LOCO_OK) {
        if (count < 1 || count > CAP) abort();
        for (size_t i = 1; i < count; i++)
            if (memcmp(keys[i - 1].k, keys[i].k, 32) >= 0) abort();
        size_t n = loco_net_keyfile_format(&keys[0], NULL, text, sizeof text), c2 = 0;
        if (!n || loco_net_pubkeys_parse(text, n, &p2, 1, &c2, msg, sizeof msg) != LOCO_OK || c2 != 1 ||
            memcmp(p2.k, keys[0].k, 32))
            abort();
    }
    return 0;
}
