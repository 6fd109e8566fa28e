/* libFuzzer target: the router JSON reader (loco_router_parse), and routing
 * with whatever it accepts. */
#include <stdint.h>
#include <stdlib.h>
#include "loco/route.h"
#include "hostile_paths.h"

static int load_router(const char *path, char *msg, size_t msglen) {
    loco_router *r = NULL;
    int e = loco_router_load(&r, path, msg, msglen);
    loco_router_free(r);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    loco_fuzz_hostile_paths(load_router);
    loco_router *r = NULL;
    char msg[256];
    if (loco_router_parse(&r, (const char *)data, size, "fuzz", msg, sizeof msg) == LOCO_OK) {
        /* A loaded router must route any input without reading out of bounds. */
        int d = loco_router_dim(r), P = loco_router_paths(r);
        float *x = calloc((size_t)d + 1, sizeof(float));
        int tok[4] = {1, 2, 3, 4}, paths[4];
        float scores[4];
        int k = P < 4 ? P : 4;
        if (x && (size_t)P * (size_t)(d + 1) < ((size_t)1 << 22)) loco_router_route(r, x, tok, 4, k, paths, scores);
        free(x);
        loco_router_free(r);
    }
    return 0;
}
