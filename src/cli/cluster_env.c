/*
 * `loco worker` under a cluster launcher (src/cli/cluster_env.h).
 *
 * Each launcher numbers the processes it starts: Slurm's srun sets
 * SLURM_PROCID, Open MPI's mpirun OMPI_COMM_WORLD_RANK, and a Kubernetes Job
 * with completionMode: Indexed JOB_COMPLETION_INDEX, all from 0.  The worker
 * asks for that number as its id (= its data shard), so that a restarted
 * process takes back its own shard.  None of them knows where the
 * coordinator listens, so LOCO_COORDINATOR says it; under Slurm the default
 * is the first node of the allocation, where an sbatch script runs (and
 * where docs/distributed.md's script starts the coordinator).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cluster_env.h"
#include "loco/net.h"

/* A whole number in [lo, hi] and nothing else; returns 0 or -1. */
static int whole(const char *s, long lo, long hi, long *out) {
    if (!s || !*s) return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cluster_first_host(const char *list, char *out, size_t cap) {
    if (!list || !cap) return -1;
    size_t n = strcspn(list, ",[");
    if (n == 0 || n >= cap) return -1;
    memcpy(out, list, n);
    out[n] = 0;
    if (list[n] != '[') return 0;
    /* A bracketed range: the first item's first number, leading zeros kept
     * ("node[01-04]" -> "node01"). */
    const char *r = list + n + 1;
    size_t k = strspn(r, "0123456789");
    if (k == 0 || (r[k] != '-' && r[k] != ',' && r[k] != ']') || !strchr(r + k, ']') || n + k >= cap) return -1;
    memcpy(out + n, r, k);
    out[n + k] = 0;
    return 0;
}

static const char *const rank_vars[] = {"SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "JOB_COMPLETION_INDEX"};

int cluster_env_read(cluster_env *o, const char *(*get)(const char *), char *err, size_t errlen) {
    memset(o, 0, sizeof *o);
    o->id = -1;
    for (size_t i = 0; i < sizeof rank_vars / sizeof rank_vars[0]; i++) {
        const char *v = get(rank_vars[i]);
        long r;
        if (!v) continue;
        if (whole(v, 0, 1000000, &r)) {
            snprintf(err, errlen, "%s='%.40s' is not a rank (a whole number in [0, 1000000])", rank_vars[i], v);
            return 2;
        }
        if (o->id >= 0 && r != o->id) {
            snprintf(err, errlen, "%s=%d and %s=%ld disagree on this worker's rank (give --id)", o->id_from, o->id,
                     rank_vars[i], r);
            return 2;
        }
        if (o->id < 0) {
            o->id = (int)r;
            o->id_from = rank_vars[i];
        }
    }
    long port = CLUSTER_DEFAULT_PORT;
    const char *pv = get("LOCO_COORDINATOR_PORT");
    if (pv && whole(pv, 1, 65535, &port)) {
        snprintf(err, errlen, "LOCO_COORDINATOR_PORT='%.40s' is not a port in [1, 65535]", pv);
        return 2;
    }
    const char *ep = get("LOCO_COORDINATOR");
    char host[256];
    if (ep && *ep) {
        o->connect_from = "LOCO_COORDINATOR";
        if (strstr(ep, "://")) snprintf(o->connect, sizeof o->connect, "%s", ep);
        else if (strchr(ep, ':')) snprintf(o->connect, sizeof o->connect, "tcp://%s", ep);
        else snprintf(o->connect, sizeof o->connect, "tcp://%s:%ld", ep, port);
    } else if ((ep = get("SLURM_JOB_NODELIST")) != NULL && o->id_from && strcmp(o->id_from, "SLURM_PROCID") == 0) {
        if (cluster_first_host(ep, host, sizeof host)) {
            snprintf(err, errlen, "SLURM_JOB_NODELIST='%.60s' has no first host to read (set LOCO_COORDINATOR)", ep);
            return 2;
        }
        o->connect_from = "SLURM_JOB_NODELIST";
        snprintf(o->connect, sizeof o->connect, "tcp://%s:%ld", host, port);
    }
    char why[320];
    if (o->connect[0] && loco_net_endpoint_check(o->connect, 0, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", o->connect_from, why);
        return 2;
    }
    return 0;
}
