/* `loco train --algo dipaco`'s discriminative routing (src/cli/train_dipaco_em.c). */
#ifndef LOCO_CLI_TRAIN_DIPACO_H
#define LOCO_CLI_TRAIN_DIPACO_H

#include <stddef.h>
#include "cli/train_dist.h"
#include "loco/dipaco.h"

/* Re-routes the training documents of ts by the paths' losses and a linear
 * router fit to them (one EM step), installs the new shards in sim and ts,
 * and saves the router as OUT/router_disc.json (its path into new_router; ""
 * without out).  router_path is the router the run started with (its feature
 * model and prefix are reused).  Returns 0, or 1 (2 for bad usage) with a
 * reason in msg. */
int train_dipaco_em(loco_dipaco_sim *sim, train_shards *ts, const char *router_path, const char *out,
                    char *new_router, size_t new_router_len, char *msg, size_t msglen);

/* Routes the training documents of src to P paths with the router at path,
 * each to its topk best (overlapping shards when topk > 1)
 * (src/cli/train_dipaco.c); fills ts as train_shards_open does.  Returns 0,
 * 2 (bad usage) or 1, with a reason in msg. */
int train_dipaco_route_shards(train_shards *ts, const char *path, int P, int topk, const loco_source *src,
                              char *msg, size_t msglen);

#endif
