/*
 * The protocol's type table (src/net/proto.c): every message type of every
 * engine is in it once, with a name, and the payload size it states is the
 * size its encoder writes (the fixed part, for a type with a variable part).
 */
#include <string.h>
#include "loco/net.h"
#include "test.h"

/* The bytes the encoder of `type` writes for a message whose variable part
 * is empty; 0 for a type with no payload. */
static size_t encoded(int type, uint8_t *buf, size_t cap) {
    switch (type) {
    case LOCO_NET_HELLO: { loco_net_hello x = {0}; return loco_net_encode_hello(&x, buf, cap); }
    case LOCO_NET_WELCOME: { loco_net_welcome x = {0}; return loco_net_encode_welcome(&x, buf, cap); }
    case LOCO_NET_TASK: { loco_net_task x = {0}; return loco_net_encode_task(&x, buf, cap); }
    case LOCO_NET_THETA: return loco_net_encode_theta_head(1, 0, buf, cap);
    case LOCO_NET_PUSH: { loco_net_push x = {0}; return loco_net_encode_push_head(&x, buf, cap); }
    case LOCO_NET_HEARTBEAT: { loco_net_heartbeat x = {0}; return loco_net_encode_heartbeat(&x, buf, cap); }
    case LOCO_NET_BYE: return 0;
    case LOCO_NET_ERROR: return loco_net_encode_error(0, "", buf, cap);
    case LOCO_NET_ATASK: { loco_net_atask x = {0}; return loco_net_encode_atask(&x, buf, cap); }
    case LOCO_NET_OSYNC: { loco_net_osync x = {0}; return loco_net_encode_osync_head(&x, buf, cap); }
    case LOCO_NET_DOWN: { loco_net_down x = {0}; return loco_net_encode_down_head(&x, buf, cap); }
    case LOCO_NET_DPASK: return loco_net_encode_dpask(0, buf, cap);
    case LOCO_NET_DPTASK: { loco_net_dptask x = {0}; return loco_net_encode_dptask_head(&x, buf, cap); }
    case LOCO_NET_DPPUSH: { loco_net_dppush x = {0}; return loco_net_encode_dppush_head(&x, buf, cap); }
    default: return (size_t)-1;
    }
}

LOCO_TEST(net_type_table) {
    int n = 0;
    const loco_net_type_desc *t = loco_net_types(&n);
    CHECK(n == 14, "the table has %d types, not the protocol's 14", n);
    uint8_t buf[512];
    for (int i = 0; i < n; i++) {
        const loco_net_type_desc *d = &t[i];
        CHECK(d->name && d->name[0] && strcmp(loco_net_type_name(d->type), d->name) == 0 &&
              strcmp(d->name, "unknown") != 0, "type %d has no name of its own", d->type);
        CHECK(loco_net_type_info(d->type) == d, "type %d (%s) is not found by its id", d->type, d->name);
        CHECK(i == 0 || t[i - 1].type < d->type, "type %d (%s) is out of id order", d->type, d->name);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(t[j].name, d->name) != 0, "two types are named %s", d->name);
        CHECK(d->dirs != 0 && (d->dirs & ~(LOCO_NET_TO_COORDINATOR | LOCO_NET_TO_WORKER)) == 0,
              "%s goes nowhere", d->name);
        size_t got = encoded(d->type, buf, sizeof buf);
        CHECK(got == d->fixed, "%s: the table says %u bytes%s, its encoder writes %zu", d->name, d->fixed,
              d->exact ? "" : " before its variable part", got);
        /* A buffer one byte short is refused: the size is the format's. */
        if (d->fixed > 0) CHECK(encoded(d->type, buf, d->fixed - 1) == 0, "%s fits in fewer bytes", d->name);
    }
    const int not_types[] = {0, 12, 19, 23, 0xffff, -1};
    for (int i = 0; i < 6; i++)
        CHECK(loco_net_type_info(not_types[i]) == NULL && strcmp(loco_net_type_name(not_types[i]), "unknown") == 0,
              "%d is not a type", not_types[i]);
}
