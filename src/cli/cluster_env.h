/*
 * A worker's rank and its coordinator's address from a cluster launcher's
 * environment (Slurm's srun, Open MPI's mpirun, a Kubernetes indexed Job),
 * for `loco worker` started without --id or --connect.
 */
#ifndef LOCO_CLI_CLUSTER_ENV_H
#define LOCO_CLI_CLUSTER_ENV_H

#include <stddef.h>

#define CLUSTER_DEFAULT_PORT 5555   /* the coordinator's port when only a host is known */

typedef struct {
    int id;                  /* the rank, or -1 if no launcher set one */
    const char *id_from;     /* the variable it came from, or NULL */
    char connect[512];       /* the endpoint, or "" if none was found */
    const char *connect_from;
} cluster_env;

/* Reads the environment through get (getenv, or a test's table).  Ranks:
 * SLURM_PROCID, OMPI_COMM_WORLD_RANK, JOB_COMPLETION_INDEX, each a whole
 * number in [0, 1000000]; set together they must agree.  Endpoint:
 * LOCO_COORDINATOR (tcp://HOST:PORT, ipc://PATH, or HOST:PORT or HOST, taken
 * as tcp with LOCO_COORDINATOR_PORT or 5555), else the first host of
 * SLURM_JOB_NODELIST (the node an sbatch script runs on) with that port.
 * Returns 0, or 2 with one line in err. */
int cluster_env_read(cluster_env *out, const char *(*get)(const char *), char *err, size_t errlen);

/* The first host of a Slurm node list ("gpu[03-05,9],cpu1" -> "gpu03").
 * Returns 0, or -1 if the list is malformed or the name does not fit. */
int cluster_first_host(const char *list, char *out, size_t cap);

#endif
