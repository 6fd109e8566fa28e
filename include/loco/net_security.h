/*
 * Transport security of the networked engine (docs/distributed.md,
 * "Security").  Two layers, chosen per run:
 *
 *   MAC    every message carries a MAC keyed by the run's shared secret
 *          (include/loco/net.h): authenticated, sent in clear.
 *   CURVE  ZeroMQ's CurveZMQ: the connection itself is encrypted and
 *          authenticated (Curve25519 key exchange, XSalsa20-Poly1305 boxes,
 *          forward secrecy).  The coordinator is the CURVE server with its
 *          own key pair; each worker is a client with its own key pair and
 *          the coordinator's public key; the coordinator accepts only the
 *          worker public keys of its allow-list (a ZAP handler).
 *
 * LOCO_NET_SEC_DEFAULT picks CURVE on tcp:// and MAC on ipc:// (a socket
 * file that only its owner can open).  With CURVE alone, the envelope's MAC
 * is still computed, keyed by the coordinator's public key: it then checks
 * integrity, and CURVE authenticates.
 *
 * Key files are text, one "name = value" line each (docs/distributed.md):
 *   public-key = <40 characters of Z85>      (a .pub file, an allow-list)
 *   secret-key = <40 characters of Z85>      (with its public-key: a key file)
 * plus empty lines and '#' comments.  An allow-list is any number of
 * public-key lines: the workers' .pub files, concatenated.  The parsers
 * refuse everything else (fuzz/fuzz_keyfile.c).
 */
#ifndef LOCO_NET_SECURITY_H
#define LOCO_NET_SECURITY_H

#include <stddef.h>
#include <stdint.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCO_NET_CURVE_BYTES 32     /* a Curve25519 key */
#define LOCO_NET_Z85_BYTES 40       /* the same, in Z85 (without its NUL) */
#define LOCO_NET_ALLOW_MAX 65536    /* public keys an allow-list may hold */
#define LOCO_NET_KEYFILE_MAX ((size_t)4 << 20)  /* bytes a key file or allow-list may have */

/* Bit 0: the MAC of the run's secret; bit 1: CURVE. */
typedef enum {
    LOCO_NET_SEC_DEFAULT = 0,   /* CURVE on tcp://, MAC on ipc:// */
    LOCO_NET_SEC_MAC = 1,
    LOCO_NET_SEC_CURVE = 2,
    LOCO_NET_SEC_BOTH = 3
} loco_net_sec_mode;

typedef struct {
    uint8_t k[LOCO_NET_CURVE_BYTES];
} loco_net_curve_key;

typedef struct {
    int mode;                        /* loco_net_sec_mode */
    loco_net_curve_key pub, sec;     /* our own key pair (CURVE) */
    loco_net_curve_key server;       /* a worker: the coordinator's public key (CURVE) */
    const loco_net_curve_key *allow; /* the coordinator: the worker keys that may connect (borrowed) */
    size_t n_allow;
} loco_net_security;

/* The mode an endpoint gets: mode itself unless it is DEFAULT. */
int loco_net_sec_resolve(int mode, const char *endpoint);
/* "mac", "curve", "both" (or "default"). */
const char *loco_net_sec_name(int mode);
/* Parses "mac", "curve", "both"; returns the mode, or -1. */
int loco_net_sec_parse(const char *s);

/* 1 if this libzmq can do CURVE (it was built with libsodium). */
int loco_net_curve_available(void);

/* A fresh key pair from the operating system's randomness.  Returns
 * LOCO_EIO if libsodium cannot start. */
int loco_net_curve_keypair(loco_net_curve_key *pub, loco_net_curve_key *sec);

/* The Z85 text of a key (LOCO_NET_Z85_BYTES characters and a NUL). */
void loco_net_curve_z85(const loco_net_curve_key *k, char out[LOCO_NET_Z85_BYTES + 1]);

/* Writes a key file's text into out (cap bytes): the public key and, if
 * sec is not NULL, the secret key, each on its line after a comment.
 * Returns the bytes written (no NUL counted), or 0 if cap is too small. */
size_t loco_net_keyfile_format(const loco_net_curve_key *pub, const loco_net_curve_key *sec, char *out,
                               size_t cap);

/* Parses a key file: exactly one public-key and one secret-key line, the
 * public key being the secret key's.  Returns LOCO_OK, or LOCO_EINVAL with
 * "line N: reason" in msg. */
int loco_net_keypair_parse(const char *text, size_t n, loco_net_curve_key *pub, loco_net_curve_key *sec, char *msg,
                           size_t msglen);

/* Parses public keys (a .pub file or an allow-list): at least one
 * public-key line and no secret-key line; at most cap keys, none twice.
 * Returns LOCO_OK with *count keys in keys, sorted (memcmp order), or
 * LOCO_EINVAL with a reason ("line N: ...") in msg. */
int loco_net_pubkeys_parse(const char *text, size_t n, loco_net_curve_key *keys, size_t cap, size_t *count,
                           char *msg, size_t msglen);

/* Writes a key pair: path (the key file, mode 0600) and path.pub (the
 * public key, 0644), each atomically (a temporary file, fsync, rename), a
 * path holding something other than a regular file refused.  Returns
 * LOCO_OK, or LOCO_EIO with a reason naming the path. */
int loco_net_keypair_write(const char *path, const loco_net_curve_key *pub, const loco_net_curve_key *sec, char *msg,
                           size_t msglen);

/* Reads and parses a key file.  A secret key readable by the group or
 * others is refused (as ssh does).  Returns LOCO_EIO (cannot read, or too
 * open), LOCO_EINVAL (malformed), each with a reason naming path. */
int loco_net_keypair_load(const char *path, loco_net_curve_key *pub, loco_net_curve_key *sec, char *msg,
                          size_t msglen);

/* Reads and parses public keys into *keys (malloc'ed, the caller frees).
 * Returns as loco_net_keypair_load, or LOCO_ENOMEM. */
int loco_net_pubkeys_load(const char *path, loco_net_curve_key **keys, size_t *count, char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif
#endif
