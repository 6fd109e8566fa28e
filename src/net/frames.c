/* Receiving one multipart ZeroMQ message (src/net/frames.h). */
#include "net/frames.h"

int loco__recv_frames(void *sock, zmq_msg_t *frames, int max, int flags, double *bytes) {
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t f;
        zmq_msg_init(&f);
        if (zmq_msg_recv(&f, sock, n == 0 ? flags : 0) < 0) {
            zmq_msg_close(&f);
            for (int i = 0; i < n && i < max; i++) zmq_msg_close(&frames[i]);
            return -1;
        }
        if (bytes) *bytes += (double)zmq_msg_size(&f);
        more = zmq_msg_more(&f);
        if (n < max) {
            zmq_msg_init(&frames[n]);
            zmq_msg_move(&frames[n], &f);
        }
        zmq_msg_close(&f);
        n++;
    }
    return n;
}
