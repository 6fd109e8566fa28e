/*
 * `loco keygen --out FILE [--force 1]`: a CURVE key pair for a coordinator
 * or a worker (docs/distributed.md, "Security").  FILE gets the key pair,
 * readable by its owner only; FILE.pub the public key, to give to the other
 * end: a worker's to the coordinator's allow-list, the coordinator's to
 * every worker (--server-key).
 */
#include <stdio.h>
#include <sys/stat.h>
#include "cli/args.h"
#include "cli/net_cmd.h"
#include "loco/file.h"
#include "loco/net_security.h"

/* 1 if something is at path (a dangling link too). */
static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

int loco_cmd_keygen(int argc, char **argv) {
    const char *out = NULL;
    int force = 0;
    const arg_spec specs[] = {
        {"out", ARG_STR, &out, 0, 0, "the key file to write (its public key goes to FILE.pub)"},
        {"force", ARG_INT, &force, 0, 1, "1: replace an existing key pair (its old key stops working)"},
    };
    char err[512];
    int r = args_parse(specs, (int)(sizeof specs / sizeof specs[0]), argc, argv,
                       "usage: loco keygen --out FILE [--force 1]\n\n"
                       "Writes a CURVE key pair for `loco coordinator` or `loco worker` (--key-file): FILE\n"
                       "(mode 0600; keep it on its host) and FILE.pub, its public key.  A worker's .pub goes\n"
                       "into the coordinator's --allow-file, the coordinator's into every worker's\n"
                       "--server-key (docs/distributed.md, \"Security\").",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0 || !out || !*out) {
        fprintf(stderr, "loco keygen: %s\n", r < 0 ? err : "--out FILE is required");
        args_free_config();
        return 2;
    }
    char pub_path[4200], msg[600];
    if (snprintf(pub_path, sizeof pub_path, "%s.pub", out) >= (int)sizeof pub_path) {
        fprintf(stderr, "loco keygen: --out is too long\n");
        args_free_config();
        return 2;
    }
    int status = 0;
    /* A key pair in use is not replaced by accident: the workers or the
     * coordinator holding its public key would be locked out. */
    if (loco_file_check_output(out, msg, sizeof msg) || loco_file_check_output(pub_path, msg, sizeof msg)) {
        fprintf(stderr, "loco keygen: %s\n", msg);
        status = 1;
    } else if (!force && (exists(out) || exists(pub_path))) {
        fprintf(stderr, "loco keygen: %.200s exists; not replaced (--force 1 replaces it)\n",
                exists(out) ? out : pub_path);
        status = 1;
    } else {
        loco_net_curve_key pub, sec;
        if (loco_net_curve_keypair(&pub, &sec) != LOCO_OK) {
            fprintf(stderr, "loco keygen: cannot generate a key pair (libsodium)\n");
            status = 1;
        } else if (loco_net_keypair_write(out, &pub, &sec, msg, sizeof msg) != LOCO_OK) {
            fprintf(stderr, "loco keygen: %s\n", msg);
            status = 1;
        } else {
            char z[LOCO_NET_Z85_BYTES + 1];
            loco_net_curve_z85(&pub, z);
            printf("%s\n", z);
        }
        /* The secret key leaves no copy in this process. */
        volatile unsigned char *p = sec.k;
        for (size_t i = 0; i < sizeof sec.k; i++) p[i] = 0;
    }
    args_free_config();
    return status;
}
