/*
 * Counts heap allocations made by loco's own code.  The test binary is linked
 * with -Wl,--wrap for these functions, so every call from libloco.a (linked
 * statically) comes here first; calls from shared libraries (OpenBLAS, libc's
 * internals) do not, which is the claim being tested: loco allocates nothing
 * inside a training step.
 */
#include <stddef.h>
#include "alloc_count.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);

long loco_test_allocs;

void *__wrap_malloc(size_t n) { loco_test_allocs++; return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t s) { loco_test_allocs++; return __real_calloc(n, s); }
void *__wrap_realloc(void *p, size_t n) { loco_test_allocs++; return __real_realloc(p, n); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) {
    loco_test_allocs++;
    return __real_posix_memalign(p, a, n);
}
