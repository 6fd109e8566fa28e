/* The transport security of `loco coordinator` and `loco worker`: the
 * rules between --security, --secret-file, --key-file, --allow-file and
 * --server-key (declared in the run spec, src/cli/run_spec.c) and the
 * loading of the keys they name (docs/distributed.md, "Security"). */
#ifndef LOCO_CLI_NET_SECURITY_H
#define LOCO_CLI_NET_SECURITY_H

#include <stddef.h>
#include "loco/net.h"
#include "loco/net_security.h"

typedef struct {
    const char *security;     /* "mac", "curve", "both", or NULL: by endpoint */
    const char *secret_file;  /* MAC: the run's shared secret */
    const char *key_file;     /* CURVE: this end's key pair (loco keygen) */
    const char *allow_file;   /* CURVE, coordinator: the workers' public keys */
    const char *server_key;   /* CURVE, worker: the coordinator's public key */
    loco_net_curve_key *allow;/* loaded by net_security_load; freed by net_security_free */
} net_security_args;

/* Checks that the flags given fit the mode the endpoint gets.  Returns 0, or
 * 2 with a one-line reason in msg (usage). */
int net_security_check(const net_security_args *a, int coordinator, const char *endpoint, char *msg,
                       size_t msglen);

/* Loads the secret and the keys the mode needs into key and sec (sec->allow
 * points into a, until net_security_free).  Returns 0, or 1 with a reason
 * in msg. */
int net_security_load(net_security_args *a, int coordinator, const char *endpoint, loco_net_key *key,
                      loco_net_security *sec, char *msg, size_t msglen);
void net_security_free(net_security_args *a);

/* The flags to check when the coordinator does not answer (the wording of
 * a join timeout), for the endpoint's mode. */
const char *net_security_flags_hint(const net_security_args *a, const char *endpoint);

#endif
