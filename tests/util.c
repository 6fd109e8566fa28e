#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include "util.h"

int loco_test_run(const char *args, char *err, size_t errlen) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "./loco %s 2>&1 >/dev/null", args);
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
