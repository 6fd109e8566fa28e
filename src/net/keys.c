/* CURVE key files (include/loco/net_security.h): Z85, the text format, its
 * strict parser, and loading.  The parser sees files an operator copied
 * between hosts (fuzz/fuzz_keyfile.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "core/file.h"
#include "loco/net_security.h"
#include "net/curve.h"

/* ZeroMQ's Z85 (rfc.zeromq.org/spec/32): 4 bytes, big-endian, as 5 digits
 * base 85 over this alphabet. */
static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

void loco_net_curve_z85(const loco_net_curve_key *k, char out[LOCO_NET_Z85_BYTES + 1]) {
    for (int i = 0; i < LOCO_NET_CURVE_BYTES / 4; i++) {
        uint32_t v = (uint32_t)k->k[4 * i] << 24 | (uint32_t)k->k[4 * i + 1] << 16 | (uint32_t)k->k[4 * i + 2] << 8 |
                     k->k[4 * i + 3];
        for (int j = 4; j >= 0; j--) {
            out[5 * i + j] = z85[v % 85];
            v /= 85;
        }
    }
    out[LOCO_NET_Z85_BYTES] = 0;
}

/* Decodes exactly LOCO_NET_Z85_BYTES characters; -1 for a character
 * outside the alphabet or a group above 2^32 - 1 (no two texts give one
 * key). */
static int z85_decode(const char *s, loco_net_curve_key *k) {
    for (int i = 0; i < LOCO_NET_CURVE_BYTES / 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 5; j++) {
            const char *p = s[5 * i + j] ? strchr(z85, s[5 * i + j]) : NULL;
            if (!p) return -1;
            v = v * 85 + (uint64_t)(p - z85);
        }
        if (v > 0xffffffffu) return -1;
        for (int j = 0; j < 4; j++) k->k[4 * i + j] = (uint8_t)(v >> (24 - 8 * j));
    }
    return 0;
}

size_t loco_net_keyfile_format(const loco_net_curve_key *pub, const loco_net_curve_key *sec, char *out,
                               size_t cap) {
    char p[LOCO_NET_Z85_BYTES + 1], s[LOCO_NET_Z85_BYTES + 1];
    loco_net_curve_z85(pub, p);
    int n;
    if (sec) {
        loco_net_curve_z85(sec, s);
        n = snprintf(out, cap, "# loco CURVE key pair (loco keygen): keep this file secret\n"
                     "public-key = %s\nsecret-key = %s\n", p, s);
        sodium_memzero(s, sizeof s);
    } else {
        n = snprintf(out, cap, "# loco CURVE public key (loco keygen)\npublic-key = %s\n", p);
    }
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ------------------------------------------------------------ parsing */

int loco__curve_key_cmp(const void *a, const void *b) {
    return memcmp(((const loco_net_curve_key *)a)->k, ((const loco_net_curve_key *)b)->k, LOCO_NET_CURVE_BYTES);
}

static int fail(char *msg, size_t msglen, size_t line, const char *fmt, ...) {
    if (msg && msglen) {
        int k = snprintf(msg, msglen, "line %zu: ", line);
        va_list ap;
        va_start(ap, fmt);
        if (k >= 0 && (size_t)k < msglen) vsnprintf(msg + k, msglen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return LOCO_EINVAL;
}

/* Scans the lines of text: each is empty, a '#' comment, or
 * "public-key = KEY" / "secret-key = KEY".  Public keys go to pubs (at most
 * cap), a secret key to *sec (at most one; NULL: refused). */
static int scan(const char *text, size_t n, loco_net_curve_key *pubs, size_t cap, size_t *n_pub,
                loco_net_curve_key *sec, int *n_sec, char *msg, size_t msglen) {
    static const char *names[2] = {"public-key = ", "secret-key = "};
    const size_t name_len = 13;
    *n_pub = 0;
    *n_sec = 0;
    if (!text && n) return fail(msg, msglen, 0, "no text");
    if (n > LOCO_NET_KEYFILE_MAX) return fail(msg, msglen, 0, "longer than %zu bytes", LOCO_NET_KEYFILE_MAX);
    size_t line = 0;
    for (size_t at = 0; at < n;) {
        line++;
        const char *s = text + at, *nl = memchr(s, '\n', n - at);
        size_t len = nl ? (size_t)(nl - s) : n - at;
        at += len + (nl != NULL);
        if (len == 0 || s[0] == '#') {
            for (size_t i = 0; i < len; i++)
                if (s[i] == 0 || s[i] == '\r') return fail(msg, msglen, line, "a NUL or carriage return");
            continue;
        }
        int which = -1;
        for (int w = 0; w < 2; w++)
            if (len >= name_len && !memcmp(s, names[w], name_len)) which = w;
        if (which < 0) return fail(msg, msglen, line, "expected \"public-key = KEY\" or \"secret-key = KEY\"");
        if (len != name_len + LOCO_NET_Z85_BYTES)
            return fail(msg, msglen, line, "a key is %d characters of Z85 (this one has %zu)", LOCO_NET_Z85_BYTES,
                        len - name_len);
        char z[LOCO_NET_Z85_BYTES + 1];
        memcpy(z, s + name_len, LOCO_NET_Z85_BYTES);
        z[LOCO_NET_Z85_BYTES] = 0;
        loco_net_curve_key k;
        int bad = z85_decode(z, &k);
        sodium_memzero(z, sizeof z);
        if (bad) return fail(msg, msglen, line, "not a Z85 key");
        if (which == 1) {
            if (!sec) return fail(msg, msglen, line, "a secret key where only public keys belong");
            if (++*n_sec > 1) return fail(msg, msglen, line, "a second secret key");
            *sec = k;
            sodium_memzero(&k, sizeof k);
            continue;
        }
        if (*n_pub >= cap)
            return fail(msg, msglen, line, cap == 1 ? "a second public key" : "more than %zu public keys", cap);
        pubs[(*n_pub)++] = k;
    }
    return LOCO_OK;
}

int loco_net_keypair_parse(const char *text, size_t n, loco_net_curve_key *pub, loco_net_curve_key *sec, char *msg,
                           size_t msglen) {
    size_t n_pub;
    int n_sec;
    int e = scan(text, n, pub, 1, &n_pub, sec, &n_sec, msg, msglen);
    if (e) return e;
    if (n_pub != 1 || n_sec != 1) {
        snprintf(msg, msglen, "a key file holds one public-key and one secret-key line (loco keygen)");
        return LOCO_EINVAL;
    }
    /* The public key is a function of the secret one: a mismatch is a
     * file pasted together from two pairs. */
    uint8_t derived[crypto_scalarmult_BYTES];
    if (sodium_init() < 0 || crypto_scalarmult_base(derived, sec->k) != 0 ||
        sodium_memcmp(derived, pub->k, sizeof derived) != 0) {
        snprintf(msg, msglen, "the public key is not the secret key's");
        return LOCO_EINVAL;
    }
    return LOCO_OK;
}

int loco_net_pubkeys_parse(const char *text, size_t n, loco_net_curve_key *keys, size_t cap, size_t *count,
                           char *msg, size_t msglen) {
    int n_sec;
    int e = scan(text, n, keys, cap, count, NULL, &n_sec, msg, msglen);
    if (e) return e;
    if (*count == 0) {
        snprintf(msg, msglen, "no \"public-key = KEY\" line");
        return LOCO_EINVAL;
    }
    /* Sorted, for the ZAP handler's binary search (src/net/curve.c); a key
     * given twice is a pasting mistake worth a word. */
    qsort(keys, *count, sizeof *keys, loco__curve_key_cmp);
    for (size_t i = 1; i < *count; i++)
        if (!loco__curve_key_cmp(&keys[i - 1], &keys[i])) {
            char z[LOCO_NET_Z85_BYTES + 1];
            loco_net_curve_z85(&keys[i], z);
            snprintf(msg, msglen, "public key %s is there twice", z);
            *count = 0;
            return LOCO_EINVAL;
        }
    return LOCO_OK;
}

/* ------------------------------------------------------------ loading */

/* Reads path whole into a malloc'ed buffer; *mode gets its permission
 * bits. */
static int slurp(const char *path, unsigned *mode, char **out, size_t *n, char *msg, size_t msglen) {
    int fd;
    uint64_t size;
    char why[512];
    if (loco__open_input(path, &fd, &size, why, sizeof why)) {
        snprintf(msg, msglen, "%s", why);
        return LOCO_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        snprintf(msg, msglen, LOCO__PATH_FMT ": cannot stat it", LOCO__PATH_ARG(path));
        return LOCO_EIO;
    }
    *mode = (unsigned)st.st_mode & 07777;
    if (size > LOCO_NET_KEYFILE_MAX) {
        close(fd);
        snprintf(msg, msglen, LOCO__PATH_FMT ": longer than %zu bytes", LOCO__PATH_ARG(path), LOCO_NET_KEYFILE_MAX);
        return LOCO_EINVAL;
    }
    char *buf = malloc((size_t)size + 1);
    if (!buf) {
        close(fd);
        return LOCO_ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, (size_t)size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(buf);
        snprintf(msg, msglen, LOCO__PATH_FMT ": cannot read it", LOCO__PATH_ARG(path));
        return LOCO_EIO;
    }
    *out = buf;
    *n = got;
    return LOCO_OK;
}

int loco_net_keypair_load(const char *path, loco_net_curve_key *pub, loco_net_curve_key *sec, char *msg,
                          size_t msglen) {
    char *t = NULL, why[160];
    size_t n = 0;
    unsigned mode = 0;
    int e = slurp(path, &mode, &t, &n, msg, msglen);
    if (e) return e;
    e = loco_net_keypair_parse(t, n, pub, sec, why, sizeof why);
    sodium_memzero(t, n);
    free(t);
    if (e) {
        snprintf(msg, msglen, LOCO__PATH_FMT ": %s", LOCO__PATH_ARG(path), why);
        return e;
    }
    /* Checked once the file is known to be a key file, so that a .pub
     * given by mistake is named as such. */
    if (mode & 077) {
        sodium_memzero(sec, sizeof *sec);
        snprintf(msg, msglen, LOCO__PATH_FMT ": a secret key must not be readable by others (chmod 600 it)",
                 LOCO__PATH_ARG(path));
        return LOCO_EIO;
    }
    return LOCO_OK;
}

int loco_net_pubkeys_load(const char *path, loco_net_curve_key **keys, size_t *count, char *msg, size_t msglen) {
    char *t = NULL, why[160];
    size_t n = 0;
    unsigned mode;
    *keys = NULL;
    *count = 0;
    int e = slurp(path, &mode, &t, &n, msg, msglen);
    if (e) return e;
    /* Each key takes a line of 54 bytes at least. */
    size_t cap = n / 54 + 1;
    if (cap > LOCO_NET_ALLOW_MAX) cap = LOCO_NET_ALLOW_MAX;
    loco_net_curve_key *k = malloc(cap * sizeof *k);
    if (!k) {
        free(t);
        return LOCO_ENOMEM;
    }
    e = loco_net_pubkeys_parse(t, n, k, cap, count, why, sizeof why);
    free(t);
    if (e) {
        free(k);
        *count = 0;
        snprintf(msg, msglen, LOCO__PATH_FMT ": %s", LOCO__PATH_ARG(path), why);
        return e;
    }
    *keys = k;
    return LOCO_OK;
}

/* ------------------------------------------------------------ generation */

/* CurveZMQ's keys are crypto_box's: a random Curve25519 scalar and its
 * multiple of the base point, as zmq_curve_keypair makes them. */
int loco_net_curve_keypair(loco_net_curve_key *pub, loco_net_curve_key *sec) {
    _Static_assert(crypto_box_PUBLICKEYBYTES == LOCO_NET_CURVE_BYTES, "CURVE keys are crypto_box keys");
    _Static_assert(crypto_box_SECRETKEYBYTES == LOCO_NET_CURVE_BYTES, "CURVE keys are crypto_box keys");
    if (sodium_init() < 0) return LOCO_EIO;
    return crypto_box_keypair(pub->k, sec->k) == 0 ? LOCO_OK : LOCO_EIO;
}

/* ------------------------------------------------------------ writing */

int loco_net_keypair_write(const char *path, const loco_net_curve_key *pub, const loco_net_curve_key *sec, char *msg,
                           size_t msglen) {
    char text[512], pub_path[4200];
    if (snprintf(pub_path, sizeof pub_path, "%s.pub", path) >= (int)sizeof pub_path) {
        snprintf(msg, msglen, LOCO__PATH_FMT ": path too long", LOCO__PATH_ARG(path));
        return LOCO_EIO;
    }
    /* The .pub is checked before anything is written, so that a refusal
     * leaves no half pair behind. */
    if (loco_file_check_output(pub_path, msg, msglen) != LOCO_OK) return LOCO_EIO;
    size_t n = loco_net_keyfile_format(pub, sec, text, sizeof text);
    loco__chunk c = {text, n};
    int e = loco__write_atomic_mode(path, &c, 1, 0600, msg, msglen);
    sodium_memzero(text, sizeof text);
    if (e) return e;
    c.len = loco_net_keyfile_format(pub, NULL, text, sizeof text);
    return loco__write_atomic_mode(pub_path, &c, 1, 0644, msg, msglen);
}
