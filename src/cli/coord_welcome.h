/* The run that both coordinators (`loco coordinator`, DiLoCo sync and
 * async, and `--algo dipaco`) describe to their workers in WELCOME, built
 * from the run spec in one place (src/cli/coord_welcome.c). */
#ifndef LOCO_CLI_COORD_WELCOME_H
#define LOCO_CLI_COORD_WELCOME_H

#include <stddef.h>
#include <stdint.h>
#include "cli/run_setup.h"
#include "cli/run_spec.h"
#include "loco/net.h"
#include "loco/outer.h"

/* Loads the run's secret and keys (src/cli/net_security.h) into key and
 * sec, and fills the outer optimizer from the spec.  Returns 0, or 1 with
 * one line in msg. */
int coord_key_outer(run_spec *s, loco_net_key *key, loco_net_security *sec, loco_outer_config *outer, char *msg,
                    size_t msglen);

/* What the spec decides of WELCOME: the model, batch, sequence length, H,
 * steps, the inner optimizer and its schedule, seed, heartbeat and which
 * data the workers must hold. */
void coord_welcome_fill(loco_net_welcome *r, const run_spec *s);

/* Gives WELCOME the documents' assignment to the n shards of ts (a worker
 * or a path each, `what` names them) and the data's fingerprint; *assign
 * (4 bytes a document, malloc'd, the caller frees it) backs r->assign.
 * Each shard must hold seq_len + 1 tokens.  Returns 0, or 1 (out of
 * memory) or 2 (a shard too small) with one line in msg. */
int coord_welcome_assign(loco_net_welcome *r, const train_shards *ts, int n, int seq_len, const char *what,
                         uint8_t **assign, char *msg, size_t msglen);

#endif
