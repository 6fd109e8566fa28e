/* Process helpers of the tests (tests/proc.h). */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "loco/checkpoint.h"
#include "proc.h"
#include "util.h"

int loco_test_net_scratch(char *d, const char *tmpl, const char *secret) {
    char cmd[1024], err[1024];
    strcpy(d, tmpl);
    if (!mkdtemp(d)) return -1;
    snprintf(cmd, sizeof cmd, "for i in $(seq 1 200); do echo \"{\\\"text\\\": \\\"doc $i: %d $i plus $i\\\"}\"; done "
             "> %s/c.jsonl && printf '%s\\n' > %s/secret", 7, d, secret, d);
    if (system(cmd) != 0) return -1;
    snprintf(cmd, sizeof cmd, "data prepare --input %s/c.jsonl --bytes 1 --val-frac 0.2 --out %s/s", d, d);
    if (loco_test_run(cmd, err, sizeof err) != 0) return -1;
    /* CURVE keys, for tcp:// (where CURVE is the default). */
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "keygen --out %s/%s.key", d, k ? "w" : "c");
        if (loco_test_run(cmd, err, sizeof err) != 0) return -1;
    }
    snprintf(cmd, sizeof cmd, "cp %s/w.key.pub %s/allow", d, d);
    return system(cmd) == 0 ? 0 : -1;
}

const char *loco_test_net_security(char *buf, size_t n, const char *d, const char *endpoint, int coordinator) {
    if (strncmp(endpoint, "tcp://", 6)) snprintf(buf, n, "--secret-file %s/secret", d);
    else if (coordinator) snprintf(buf, n, "--key-file %s/c.key --allow-file %s/allow", d, d);
    else snprintf(buf, n, "--key-file %s/w.key --server-key %s/c.key.pub", d, d);
    return buf;
}

float *loco_test_params_of(const char *path, size_t *P) {
    loco_gpt *m = NULL;
    if (loco_checkpoint_load(path, &m, 1, 16, NULL, NULL, 0) != LOCO_OK) return NULL;
    *P = loco_gpt_num_params(m);
    float *p = malloc(*P * sizeof(float));
    if (p) memcpy(p, loco_gpt_params(m), *P * sizeof(float));
    loco_gpt_free(m);
    return p;
}

int loco_test_same_params(const char *a, const char *b) {
    size_t Pa = 0, Pb = 0;
    float *pa = loco_test_params_of(a, &Pa), *pb = loco_test_params_of(b, &Pb);
    int same = pa && pb && Pa == Pb && memcmp(pa, pb, Pa * sizeof(float)) == 0;
    free(pa);
    free(pb);
    return same;
}

int loco_test_endpoint_of(const char *path, char *ep, size_t n) {
    for (int i = 0; i < 200; i++) {
        if (loco_test_slurp(path, ep, n) > 0) return 0;
        usleep(50000);
    }
    return -1;
}

void loco_test_rmdir(const char *d) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", d);
}

pid_t loco_test_start(const char *args, const char *log) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "exec %s %s > %s 2>&1", loco_test_bin(), args, log);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

int loco_test_ended(pid_t pid) {
    int st;
    if (waitpid(pid, &st, WNOHANG) != pid) return -2;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int loco_test_finish(pid_t pid, double seconds) {
    for (int i = 0; i < seconds * 20; i++) {
        int rc = loco_test_ended(pid);
        if (rc != -2) return rc;
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

long loco_test_slurp(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t k = fread(buf, 1, n - 1, f);
    fclose(f);
    buf[k] = 0;
    return (long)k;
}

pid_t loco_test_child(pid_t parent, const char *word) {
    DIR *proc = opendir("/proc");
    pid_t found = -1;
    for (struct dirent *e; proc && found < 0 && (e = readdir(proc));) {
        char path[300], buf[1024];
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (loco_test_slurp(path, buf, sizeof buf) <= 0) continue;
        const char *rp = strrchr(buf, ')');   /* the command name may hold spaces */
        int ppid = 0;
        char state;
        if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2 || ppid != (int)parent) continue;
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            if (!buf[i]) buf[i] = ' ';
        buf[n] = 0;
        if (strstr(buf, word)) found = (pid_t)strtol(e->d_name, NULL, 10);
    }
    if (proc) closedir(proc);
    return found;
}
