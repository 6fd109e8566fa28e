/* Thread control: one knob for both OpenMP regions and OpenBLAS. */
#include <omp.h>
#include <cblas.h>
#include "loco/loco.h"

/* Returns the number of threads in effect after the call. */
int loco_threads_set(int n) {
    if (n > 0) {
        omp_set_num_threads(n);
        openblas_set_num_threads(n);
    }
    return omp_get_max_threads();
}
