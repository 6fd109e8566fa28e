/*
 * Theta on its way to the workers: the THETA message, and the compressed
 * download of synchronous DiLoCo (include/loco/net.h, DOWN and OSYNC).  With a lossy codec the simulator already forms the
 * outer step's target from the mean pseudo-gradient as a download would
 * carry it (loco_diloco_target), so a worker that holds the previous theta
 * and the outer optimizer's state can take the same outer step itself from
 * those few bytes and reach the coordinator's theta bit for bit.  The
 * coordinator tracks, per worker, the version it holds; a worker that
 * joined, came back or missed a round gets the full theta and the outer
 * state instead.
 */
#include <stdio.h>
#include <string.h>
#include "net/net_coord.h"

int loco__coord_theta(loco_coord *c, uint64_t version, zmq_msg_t *theta, loco_net_sealer *s, char *msg,
                      size_t msglen) {
    const size_t n = loco_net_theta_bytes(c->P);
    if (zmq_msg_init_size(theta, n)) {
        snprintf(msg, msglen, "out of memory for theta's message");
        return LOCO_ENOMEM;
    }
    uint8_t *d = zmq_msg_data(theta);
    loco_net_encode_theta_head(version, c->P, d, LOCO_NET_THETA_FIXED);
    loco_codec_encode(LOCO_CODEC_FP32, 1.0f, c->theta, 1, c->P, d + LOCO_NET_THETA_FIXED, NULL);
    if (loco_net_seal_begin(s, &c->ss.link.key, d, n) != LOCO_OK) {
        zmq_msg_close(theta);
        snprintf(msg, msglen, "libsodium cannot start");
        return LOCO_EIO;
    }
    return LOCO_OK;
}

int loco__coord_send_theta(loco_coord *c, int w, const loco_net_sealer *s, zmq_msg_t *theta) {
    slot *sl = &c->slots[w];
    const long v = c->st.outer_steps;
    if (loco_diloco_dense(&c->lay)) {
        c->st.downloads_full++;
        return loco__session_send_sealed(&c->ss, w, LOCO_NET_THETA, s, theta);
    }
    if (sl->holds == v) return LOCO_OK;
    int e;
    if (sl->holds == v - 1 && c->down_version == v) {
        loco_net_down d = {(uint64_t)v, (uint64_t)(v - 1), c->lay.msg_bytes, NULL};
        uint8_t head[LOCO_NET_DOWN_FIXED];
        loco_net_encode_down_head(&d, head, sizeof head);
        e = loco__session_send(&c->ss, w, LOCO_NET_DOWN, head, sizeof head, c->wire, c->lay.msg_bytes);
        if (!e) c->st.downloads_delta++;
    } else {
        const loco_outer_config *o = &c->c.outer;
        loco_net_osync x = {(uint64_t)v, (uint32_t)o->kind, o->lr, o->momentum, o->beta2, o->eps,
                            c->state_n, NULL};
        uint8_t head[LOCO_NET_OSYNC_FIXED];
        loco_net_encode_osync_head(&x, head, sizeof head);
        /* Little-endian fp32 whatever the host, as THETA's parameters. */
        if (c->state_n) loco_codec_encode(LOCO_CODEC_FP32, 1.0f, c->ostate, 1, c->state_n, c->obuf, NULL);
        e = loco__session_send_sealed(&c->ss, w, LOCO_NET_THETA, s, theta);
        if (!e) e = loco__session_send(&c->ss, w, LOCO_NET_OSYNC, head, sizeof head, c->obuf, 4 * c->state_n);
        if (!e) c->st.downloads_full++;
    }
    if (!e) sl->holds = v;
    return e;
}
