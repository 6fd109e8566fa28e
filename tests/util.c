#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "util.h"

const char *loco_test_bin(void) {
    const char *b = getenv("LOCO_BIN");
#ifdef LOCO_CUDA
    /* A CUDA build (make CUDA=1) keeps its command in build-cuda/. */
    return b && *b ? b : "build-cuda/loco";
#else
    return b && *b ? b : "./loco";
#endif
}

int loco_test_run(const char *args, char *err, size_t errlen) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1 >/dev/null", loco_test_bin(), args);
    FILE *p = popen(cmd, "r");
    if (!p) return -2;
    size_t n = fread(err, 1, errlen - 1, p);
    err[n] = 0;
    while (fgetc(p) != EOF) {}
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int loco_test_same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

double loco_test_rel_err(const float *a, const float *b, size_t n) {
    double num = 0, den = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        num = d > num ? d : num;
        den = fabs(b[i]) > den ? fabs(b[i]) : den;
    }
    return num / den;
}

int loco_test_put(FILE *f, const void *buf, size_t bytes) {
    return fwrite(buf, 1, bytes, f) == bytes ? 0 : -1;
}

int loco_test_python(const char *script, const char *in, const char *out) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char *argv[] = {LOCO_TEST_PYTHON, (char *)script, (char *)in, (char *)out, NULL};
        execv(LOCO_TEST_PYTHON, argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

int loco_test_reference(const char *script, const char *in, const char *out, const char *module, char *why,
                        size_t n) {
    int rc = loco_test_python(script, in, out);
    if (rc == 3) snprintf(why, n, "%s cannot import %s; apt-get install python3-%s", LOCO_TEST_PYTHON, module, module);
    else if (rc != 0) snprintf(why, n, "%s %s failed (exit status %d)", LOCO_TEST_PYTHON, script, rc);
    return rc;
}

loco_split *loco_test_patterned_shards(int K, uint64_t seed, int n_docs, int doc_len, int vocab, uint16_t *toks,
                                       uint64_t *offs) {
    loco_rng r;
    loco_rng_seed(&r, seed);
    for (int i = 0; i < n_docs * doc_len; i++)
        toks[i] = (uint16_t)((i % 5 + (loco_rng_u64(&r) % 3 == 0 ? loco_rng_u64(&r) % (uint64_t)vocab : 0)) %
                             (uint64_t)vocab);
    for (int d = 0; d <= n_docs; d++) offs[d] = (uint64_t)d * (uint64_t)doc_len;
    loco_docs docs = {toks, 2, offs, n_docs};
    int *assign = malloc((size_t)n_docs * sizeof *assign);
    loco_split *s = NULL;
    if (!assign || loco_split_iid(n_docs, K, 7, assign, NULL, 0) ||
        loco_split_create(&s, &docs, assign, K, NULL, 0))
        s = NULL;
    free(assign);
    return s;
}
