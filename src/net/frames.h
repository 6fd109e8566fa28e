/* Receiving one multipart ZeroMQ message, whatever its frame count: the
 * link's sockets and the ZAP handler's.  Internal to src/net. */
#ifndef LOCO_NET_FRAMES_H
#define LOCO_NET_FRAMES_H

#include <zmq.h>

/* Receives every frame of one message from sock into frames[0..max) (the
 * rest are read and dropped), the first with flags (ZMQ_DONTWAIT or 0),
 * adding every frame's size to *bytes (if not NULL).  Returns the count of
 * frames the message had (the first min(count, max) are to be closed by the
 * caller), or -1 on a socket error (zmq_errno), with nothing to close. */
int loco__recv_frames(void *sock, zmq_msg_t *frames, int max, int flags, double *bytes);

#endif
