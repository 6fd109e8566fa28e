/*
 * The test runner.  With no arguments it runs every registered test; with
 * arguments it runs the tests whose names contain any of them.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "test.h"

#define LOCO_MAX_TESTS 256
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

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    /* Constructors run in link order; sort so the order is stable. */
    qsort(tests, n_tests, sizeof tests[0], by_name);
    int passed = 0, failed = 0;
    for (int i = 0; i < n_tests; i++) {
        int selected = argc < 2;
        for (int a = 1; a < argc; a++) selected |= strstr(tests[i].name, argv[a]) != NULL;
        if (!selected) continue;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int f = 0;
        tests[i].fn(&f);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
        printf("%s %-40s %7.2fs\n", f ? "FAIL" : "ok  ", tests[i].name, s);
        fflush(stdout);
        if (f) failed++; else passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
