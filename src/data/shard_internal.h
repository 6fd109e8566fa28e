/* Internal: the shard writer's close split in two, so that loco_data_prepare
 * can finish both of its shards before either is renamed into place. */
#ifndef LOCO_DATA_SHARD_INTERNAL_H
#define LOCO_DATA_SHARD_INTERNAL_H

#include "loco/shard.h"

/* Writes the offsets table and header and fsyncs the temporary file; returns
 * LOCO_EIO or the writer's earlier error (then only abort is left). */
int loco__shard_writer_finish(loco_shard_writer *w, char *msg, size_t msglen);

/* Renames the finished temporary file onto the path and frees w; returns
 * LOCO_EIO (the temporary file removed). */
int loco__shard_writer_commit(loco_shard_writer *w, char *msg, size_t msglen);

#endif
