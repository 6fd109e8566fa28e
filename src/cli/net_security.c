/* The transport security flags (src/cli/net_security.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/net_security.h"

/* The mode the flags ask for on endpoint, or -1 for an unknown name. */
static int mode_of(const net_security_args *a, const char *endpoint) {
    int m = a->security ? loco_net_sec_parse(a->security) : LOCO_NET_SEC_DEFAULT;
    return m < 0 ? -1 : loco_net_sec_resolve(m, endpoint);
}

int net_security_check(const net_security_args *a, int coordinator, const char *endpoint, char *msg,
                       size_t msglen) {
    const int m = mode_of(a, endpoint);
    const char *curve_file = coordinator ? a->allow_file : a->server_key;
    const char *curve_flag = coordinator ? "--allow-file" : "--server-key";
    const char *why = NULL;
    char b[256];
    if (m < 0) {
        snprintf(b, sizeof b, "--security must be mac, curve or both (got '%.100s')", a->security);
        why = b;
    } else if ((m & LOCO_NET_SEC_MAC) && !a->secret_file) {
        snprintf(b, sizeof b, "--secret-file FILE is required with --security %s%s (docs/distributed.md)",
                 loco_net_sec_name(m), a->security ? "" : " (the default on ipc://)");
        why = b;
    } else if ((m & LOCO_NET_SEC_CURVE) && (!a->key_file || !curve_file)) {
        snprintf(b, sizeof b, "--key-file FILE and %s FILE are required with --security %s%s (loco keygen; "
                 "docs/distributed.md)%s", curve_flag, loco_net_sec_name(m),
                 a->security ? "" : " (the default on tcp://)",
                 a->secret_file && !a->security ? "; --security mac uses --secret-file alone" : "");
        why = b;
    } else if (!(m & LOCO_NET_SEC_MAC) && a->secret_file) {
        snprintf(b, sizeof b, "--secret-file is for --security mac or both; this run uses %s", loco_net_sec_name(m));
        why = b;
    } else if (!(m & LOCO_NET_SEC_CURVE) && (a->key_file || curve_file)) {
        snprintf(b, sizeof b, "--key-file and %s are for --security curve or both; this run uses %s", curve_flag,
                 loco_net_sec_name(m));
        why = b;
    } else if ((m & LOCO_NET_SEC_CURVE) && !loco_net_curve_available()) {
        why = "--security curve: this libzmq has no CURVE (it was built without libsodium)";
    }
    if (!why) return 0;
    snprintf(msg, msglen, "%s", why);
    return 2;
}

int net_security_load(net_security_args *a, int coordinator, const char *endpoint, loco_net_key *key,
                      loco_net_security *sec, char *msg, size_t msglen) {
    memset(sec, 0, sizeof *sec);
    sec->mode = mode_of(a, endpoint);
    if ((sec->mode & LOCO_NET_SEC_MAC) && loco_net_key_load(key, a->secret_file, msg, msglen)) return 1;
    if (!(sec->mode & LOCO_NET_SEC_CURVE)) return 0;
    if (loco_net_keypair_load(a->key_file, &sec->pub, &sec->sec, msg, msglen)) return 1;
    size_t n = 0;
    if (coordinator) {
        if (loco_net_pubkeys_load(a->allow_file, &a->allow, &n, msg, msglen)) return 1;
        sec->allow = a->allow;
        sec->n_allow = n;
        return 0;
    }
    loco_net_curve_key *k = NULL;
    if (loco_net_pubkeys_load(a->server_key, &k, &n, msg, msglen)) return 1;
    if (n != 1) {
        snprintf(msg, msglen, "%.200s: holds %zu public keys; --server-key takes the coordinator's one", a->server_key,
                 n);
        free(k);
        return 1;
    }
    sec->server = k[0];
    free(k);
    return 0;
}

void net_security_free(net_security_args *a) {
    free(a->allow);
    a->allow = NULL;
}

const char *net_security_flags_hint(const net_security_args *a, const char *endpoint) {
    switch (mode_of(a, endpoint)) {
    case LOCO_NET_SEC_MAC: return "check --secret-file and --security";
    case LOCO_NET_SEC_CURVE: return "check --server-key and --security";
    default: return "check --secret-file, --server-key and --security";
    }
}
