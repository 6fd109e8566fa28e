#ifndef LOCO_TESTS_ALLOC_COUNT_H
#define LOCO_TESTS_ALLOC_COUNT_H
/* Number of malloc/calloc/realloc/posix_memalign calls made so far by code
 * linked statically into the test binary (see alloc_count.c). */
extern long loco_test_allocs;
#endif
