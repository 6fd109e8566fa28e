/* Little-endian reads and writes, byte by byte, so that the bytes on the
 * wire do not depend on the host.  Internal to src/net. */
#ifndef LOCO_NET_WIRE_H
#define LOCO_NET_WIRE_H

#include <stdint.h>
#include <string.h>

static inline void loco__put16(uint8_t *o, uint16_t v) {
    o[0] = (uint8_t)v;
    o[1] = (uint8_t)(v >> 8);
}
static inline void loco__put32(uint8_t *o, uint32_t v) {
    for (int i = 0; i < 4; i++) o[i] = (uint8_t)(v >> (8 * i));
}
static inline void loco__put64(uint8_t *o, uint64_t v) {
    for (int i = 0; i < 8; i++) o[i] = (uint8_t)(v >> (8 * i));
}
static inline void loco__putf(uint8_t *o, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    loco__put32(o, u);
}
static inline uint16_t loco__get16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t loco__get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t loco__get64(const uint8_t *p) {
    return (uint64_t)loco__get32(p) | (uint64_t)loco__get32(p + 4) << 32;
}
static inline float loco__getf(const uint8_t *p) {
    uint32_t u = loco__get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

#endif
