/*
 * `loco train --launch local --workers M ...`: a coordinator and M workers as
 * separate processes on this host, talking over a private ipc:// endpoint
 * with a freshly generated secret, or with CURVE (--security curve or
 * both) under throwaway key pairs (src/cli/net_cmd.h).  The processes are
 * the `loco coordinator` and `loco worker` commands of this very binary, so
 * what runs is exactly what would run on several hosts.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli/net_cmd.h"
#include "loco/net.h"
#include "loco/net_security.h"

int loco_cli_wants_launch(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--launch") || !strncmp(argv[i], "--launch=", 9)) return 1;
    return 0;
}

/* The value of flag --name in argv (either "--name V" or "--name=V"), or
 * NULL. */
static const char *flag_value(int argc, char **argv, const char *name) {
    size_t n = strlen(name);
    const char *v = NULL;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) || strncmp(argv[i] + 2, name, n)) continue;
        if (argv[i][2 + n] == '=') v = argv[i] + 3 + n;
        else if (!argv[i][2 + n] && i + 1 < argc) v = argv[++i];
    }
    return v;
}

/* Starts this binary with argv; returns the child's pid, or -1. */
static pid_t spawn(char **args, int quiet) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    if (quiet) {
        FILE *f = freopen("/dev/null", "w", stdout);
        (void)f;
    }
    execv("/proc/self/exe", args);
    fprintf(stderr, "loco train: cannot start %s: %s\n", args[1], strerror(errno));
    _exit(127);
}

/* Writes a random 32-byte secret, hex-encoded, to path with mode 0600.
 * Returns 0 or -1. */
static int make_secret(const char *path) {
    uint8_t raw[32];
    char hex[65];
    if (loco_net_random(raw, sizeof raw)) return -1;
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    FILE *f = fopen(path, "wx");
    if (!f) return -1;
    chmod(path, 0600);
    int ok = fputs(hex, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Writes a throwaway key pair to path and path.pub.  Returns 0 or -1. */
static int make_keypair(const char *path) {
    loco_net_curve_key pub, sec;
    char msg[512];
    int bad = loco_net_curve_keypair(&pub, &sec) || loco_net_keypair_write(path, &pub, &sec, msg, sizeof msg);
    volatile unsigned char *p = sec.k;
    for (size_t i = 0; i < sizeof sec.k; i++) p[i] = 0;
    return bad ? -1 : 0;
}

/* Returns the coordinator's exit status, or 2 for bad usage, 1 if the
 * processes cannot be started. */
int loco_cli_launch(int argc, char **argv) {
    const char *launch = flag_value(argc, argv, "launch");
    if (!launch || strcmp(launch, "local")) {
        fprintf(stderr, "loco train: --launch must be local (got '%s')\n", launch ? launch : "");
        return 2;
    }
    const char *wv = flag_value(argc, argv, "workers");
    char *end = NULL;
    long M = wv ? strtol(wv, &end, 10) : 1;
    if (wv && (*end || end == wv)) M = 0;
    if (M < 1 || M > 256) {
        fprintf(stderr, "loco train: --launch local takes --workers from 1 to 256 (got '%s')\n", wv ? wv : "");
        return 2;
    }
    const char *security = flag_value(argc, argv, "security");
    const int mode = loco_net_sec_resolve(security ? loco_net_sec_parse(security) : LOCO_NET_SEC_DEFAULT, "ipc://");
    if (mode < 0) {
        fprintf(stderr, "loco train: --security must be mac, curve or both (got '%s')\n", security);
        return 2;
    }
    char dir[] = "/tmp/loco_launch_XXXXXX", secret[64], sock[64], endpoint[80], threads[16];
    char ckey[64], cpub[80], wkey[64], wpub[80];
    if (!mkdtemp(dir)) {
        fprintf(stderr, "loco train: cannot create a directory in /tmp: %s\n", strerror(errno));
        return 1;
    }
    snprintf(secret, sizeof secret, "%s/secret", dir);
    snprintf(sock, sizeof sock, "%s/coordinator.sock", dir);
    snprintf(endpoint, sizeof endpoint, "ipc://%s", sock);
    snprintf(ckey, sizeof ckey, "%s/coordinator.key", dir);
    snprintf(cpub, sizeof cpub, "%s.pub", ckey);
    snprintf(wkey, sizeof wkey, "%s/worker.key", dir);
    snprintf(wpub, sizeof wpub, "%s.pub", wkey);
    /* The workers share one key pair: the allow-list is its public key. */
    if (((mode & LOCO_NET_SEC_MAC) && make_secret(secret)) ||
        ((mode & LOCO_NET_SEC_CURVE) && (make_keypair(ckey) || make_keypair(wkey)))) {
        fprintf(stderr, "loco train: cannot write the run's keys in %s\n", dir);
        const char *files[] = {secret, ckey, cpub, wkey, wpub};
        for (int i = 0; i < 5; i++) unlink(files[i]);
        rmdir(dir);
        return 1;
    }
    /* The coordinator gets every flag but --launch. */
    char **cargs = calloc((size_t)argc + 12, sizeof *cargs);
    char **wargs = calloc(32, sizeof *wargs);
    pid_t *pids = calloc((size_t)M + 1, sizeof *pids);
    int status = 1;
    if (!cargs || !wargs || !pids) {
        fprintf(stderr, "loco train: out of memory\n");
        goto done;
    }
    int nc = 0;
    cargs[nc++] = "loco";
    cargs[nc++] = "coordinator";
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--launch")) { i++; continue; }
        if (!strncmp(argv[i], "--launch=", 9)) continue;
        cargs[nc++] = argv[i];
    }
    cargs[nc++] = "--listen";
    cargs[nc++] = endpoint;
    if (mode & LOCO_NET_SEC_MAC) {
        cargs[nc++] = "--secret-file";
        cargs[nc++] = secret;
    }
    if (mode & LOCO_NET_SEC_CURVE) {
        cargs[nc++] = "--key-file";
        cargs[nc++] = ckey;
        cargs[nc++] = "--allow-file";
        cargs[nc++] = wpub;
    }
    /* Workers share the cores: the results do not depend on thread counts. */
    const char *tv = flag_value(argc, argv, "threads");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(threads, sizeof threads, "%ld", tv ? strtol(tv, NULL, 10) : (cores / M > 1 ? cores / M : 1));
    int nw = 0;
    const char *shard = flag_value(argc, argv, "train-shard"), *data = flag_value(argc, argv, "data");
    const char *fixed[] = {"loco", "worker", "--connect", endpoint, "--threads", threads, "--timeout", "600",
                           "--security", loco_net_sec_name(mode)};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) wargs[nw++] = (char *)fixed[i];
    if (mode & LOCO_NET_SEC_MAC) { wargs[nw++] = "--secret-file"; wargs[nw++] = secret; }
    if (mode & LOCO_NET_SEC_CURVE) {
        wargs[nw++] = "--key-file";
        wargs[nw++] = wkey;
        wargs[nw++] = "--server-key";
        wargs[nw++] = cpub;
    }
    if (shard) { wargs[nw++] = "--train-shard"; wargs[nw++] = (char *)shard; }
    if (data) { wargs[nw++] = "--data"; wargs[nw++] = (char *)data; }
    if ((pids[0] = spawn(cargs, 0)) < 0) {
        fprintf(stderr, "loco train: cannot start the coordinator: %s\n", strerror(errno));
        goto done;
    }
    for (long w = 1; w <= M; w++) pids[w] = spawn(wargs, 1);
    /* Until the coordinator ends.  A worker killed by a signal (the OOM
     * killer, an operator's kill -9) is replaced by a new one, which takes
     * its id once the coordinator declares it dead, up to 3 M times; a
     * worker that exits with an error ends the run: it would fail again. */
    int st = 0, coord_st = -1;
    long restarts = 0;
    for (;;) {
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0 && errno == EINTR) continue;
        if (p < 0) break;
        if (p == pids[0]) {
            coord_st = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
            pids[0] = 0;
            break;
        }
        long who = 0;
        for (long w = 1; w <= M; w++)
            if (pids[w] == p) {
                pids[w] = 0;
                who = w;
            }
        if (who && WIFSIGNALED(st) && restarts < 3 * M) {
            restarts++;
            fprintf(stderr, "loco train: a worker was killed by signal %d; starting another (%ld of at most %ld)\n",
                    WTERMSIG(st), restarts, 3 * M);
            pids[who] = spawn(wargs, 1);
            continue;
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "loco train: a worker failed; stopping the run\n");
            kill(pids[0], SIGTERM);
        }
    }
    /* The workers leave on the coordinator's BYE; give them a moment.  A
     * coordinator that failed (a usage error, say) sent none: they are
     * stopped at once rather than after this wait. */
    for (int tries = 0; tries < (coord_st == 0 ? 100 : 0); tries++) {
        int left = 0;
        for (long w = 1; w <= M; w++) {
            if (pids[w] > 0 && waitpid(pids[w], &st, WNOHANG) == pids[w]) pids[w] = 0;
            left += pids[w] > 0;
        }
        if (!left) break;
        usleep(100000);
    }
    for (long w = 1; w <= M; w++)
        if (pids[w] > 0) {
            kill(pids[w], SIGTERM);
            waitpid(pids[w], &st, 0);
        }
    status = coord_st < 0 ? 1 : coord_st;
done:;
    const char *files[] = {secret, ckey, cpub, wkey, wpub, sock};
    for (int i = 0; i < 6; i++) unlink(files[i]);
    rmdir(dir);
    free(cargs);
    free(wargs);
    free(pids);
    return status;
}
