/*
 * A minimal test harness.  LOCO_TEST(name) { ... } defines a test that
 * registers itself at load time; CHECK fails the test with a message but lets
 * it continue; SKIP ends a test that cannot run here (no GPU, say) without
 * counting it as passed; the runner (tests/main.c) prints one line per test
 * and the closing line "N passed, N failed, N skipped".
 */
#ifndef LOCO_TESTS_TEST_H
#define LOCO_TESTS_TEST_H

#include <stdio.h>

typedef void (*loco_test_fn)(int *failed);
void loco_test_register(const char *name, loco_test_fn fn);

#define LOCO_TEST(name)                                                       \
    static void test_##name(int *loco_test_failed_);                          \
    __attribute__((constructor)) static void register_##name(void) {          \
        loco_test_register(#name, test_##name);                               \
    }                                                                         \
    static void test_##name(int *loco_test_failed_)

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            *loco_test_failed_ = 1;                                           \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, "\n");                                            \
        }                                                                     \
    } while (0)

/* Marks the current test failed with a message (for failures that are not a
 * single condition, such as a missing reference tool). */
#define FAIL(...) CHECK(0, __VA_ARGS__)

/* Records why the current test is skipped (printf-style); see SKIP. */
void loco_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Ends the current test as skipped, with a one-line reason: the runner
 * prints "skip NAME ... reason" and counts it as neither passed nor failed
 * (a test that already failed a CHECK stays failed). */
#define SKIP(...)                                                             \
    do {                                                                      \
        loco_test_skip(__VA_ARGS__);                                          \
        return;                                                               \
    } while (0)

/* The Python interpreter that has Debian's python3-torch. */
#define LOCO_TEST_PYTHON "/usr/bin/python3"

#endif
