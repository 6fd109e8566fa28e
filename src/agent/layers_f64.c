/* The agent's layers in double precision, for the finite-difference tests:
 * the same source as the float training path (layers.c). */
#define LOCO_REAL_DOUBLE
#include "agent/layers.c"
