/* Helpers for the tests that run loco as separate processes (the network
 * engine's): scratch directories, starting and waiting for commands,
 * reading their logs, and finding a launcher's children. */
#ifndef LOCO_TESTS_PROC_H
#define LOCO_TESTS_PROC_H
#include <stddef.h>
#include <sys/types.h>

/* Makes a scratch directory from tmpl (ending in XXXXXX, copied into d,
 * which must hold it) with a byte-level shard pair d/s.{train,val}.bin of
 * 200 short documents, the secret file d/secret, and CURVE key pairs
 * (loco keygen) d/c.key (the coordinator's) and d/w.key (the workers'),
 * with d/allow allowing d/w.key.  Returns 0 or -1. */
int loco_test_net_scratch(char *d, const char *tmpl, const char *secret);

/* The security flags a coordinator (1) or a worker (0) of scratch
 * directory d needs on endpoint under the default security: the secret on
 * ipc://, the CURVE keys on tcp://.  Written into buf (n bytes), which is
 * returned. */
const char *loco_test_net_security(char *buf, size_t n, const char *d, const char *endpoint, int coordinator);
/* The parameters of a checkpoint (malloc'ed, *P of them), or NULL. */
float *loco_test_params_of(const char *path, size_t *P);
/* 1 if two checkpoints hold the same parameters, bit for bit. */
int loco_test_same_params(const char *a, const char *b);
/* Waits up to 10 s for a coordinator's --endpoint-file at path; 0 with the
 * endpoint in ep, or -1. */
int loco_test_endpoint_of(const char *path, char *ep, size_t n);

/* rm -rf d, saying so on stderr if it fails. */
void loco_test_rmdir(const char *d);
/* Starts "$LOCO_BIN ARGS" with stdout and stderr to log; returns its pid. */
pid_t loco_test_start(const char *args, const char *log);
/* pid's exit status if it has ended (reaping it), -1 if a signal ended it,
 * else -2. */
int loco_test_ended(pid_t pid);
/* Waits up to seconds for pid; returns its exit status, or -1 (and kills
 * it) if it did not exit normally in time. */
int loco_test_finish(pid_t pid, double seconds);
/* Reads a whole small file into buf (NUL-terminated); returns its length or
 * -1. */
long loco_test_slurp(const char *path, char *buf, size_t n);
/* The pid of a child of parent whose command line holds word, or -1. */
pid_t loco_test_child(pid_t parent, const char *word);
#endif
