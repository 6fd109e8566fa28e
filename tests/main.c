/*
 * The test runner.  With no arguments it runs every registered test; with
 * arguments it runs the tests whose names contain any of them.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "test.h"

#define LOCO_MAX_TESTS 4096
static struct { const char *name; loco_test_fn fn; } tests[LOCO_MAX_TESTS];
static int n_tests;

void loco_test_register(const char *name, loco_test_fn fn) {
    if (n_tests == LOCO_MAX_TESTS) {
        fprintf(stderr, "too many tests (max %d)\n", LOCO_MAX_TESTS);
        abort();
    }
    tests[n_tests].name = name;
    tests[n_tests].fn = fn;
    n_tests++;
}

/* The reason the running test was skipped; empty while it was not. */
static char skip_reason[512];

void loco_test_skip(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(skip_reason, sizeof skip_reason, fmt, ap);
    va_end(ap);
    if (!skip_reason[0]) snprintf(skip_reason, sizeof skip_reason, "skipped");
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    /* Constructors run in link order; sort so the order is stable. */
    qsort(tests, n_tests, sizeof tests[0], by_name);
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < n_tests; i++) {
        int selected = argc < 2;
        for (int a = 1; a < argc; a++) selected |= strstr(tests[i].name, argv[a]) != NULL;
        if (!selected) continue;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int f = 0;
        skip_reason[0] = 0;
        tests[i].fn(&f);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
        if (!f && skip_reason[0]) {
            printf("skip %-40s %7.2fs  %s\n", tests[i].name, s, skip_reason);
            skipped++;
        } else {
            printf("%s %-40s %7.2fs\n", f ? "FAIL" : "ok  ", tests[i].name, s);
            if (f) failed++; else passed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
