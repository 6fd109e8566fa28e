/* Little-endian reads and writes, byte by byte, so that the bytes on the
 * wire do not depend on the host.  Internal to src/net. */
#ifndef LOCO_NET_WIRE_H
#define LOCO_NET_WIRE_H

#include <stddef.h>
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

/* A fixed message head described as data: each row is one field's width
 * on the wire and its place in the C struct, in wire order.  One packer
 * and one unpacker serve every head described this way, so a message's
 * byte layout is its table, written once (the offsets in include/loco/net.h
 * are the running sums of the widths). */
typedef struct {
    char kind;          /* '4' uint32_t, '8' uint64_t, 'f' float, '0' a reserved zero uint32 */
    uint16_t off;       /* offsetof the field in its struct ('0': unused) */
} loco__field;

#define LOCO__U32(T, f) {'4', (uint16_t)offsetof(T, f)}
#define LOCO__U64(T, f) {'8', (uint16_t)offsetof(T, f)}
#define LOCO__F32(T, f) {'f', (uint16_t)offsetof(T, f)}
#define LOCO__ZERO      {'0', 0}

/* Writes the n fields of struct x to out; returns the bytes written. */
static inline size_t loco__pack(const loco__field *t, int n, const void *x, uint8_t *out) {
    const uint8_t *b = (const uint8_t *)x;
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        uint32_t u32 = 0;
        uint64_t u64;
        switch (t[i].kind) {
        case '8': memcpy(&u64, b + t[i].off, 8); loco__put64(out + at, u64); at += 8; break;
        case '0': loco__put32(out + at, 0); at += 4; break;
        default: memcpy(&u32, b + t[i].off, 4); loco__put32(out + at, u32); at += 4; break;  /* '4', 'f' */
        }
    }
    return at;
}

/* Reads the n fields from p into struct x; returns 0 if a reserved word is
 * not zero, 1 otherwise.  The caller has checked that p holds the head. */
static inline int loco__unpack(const loco__field *t, int n, const uint8_t *p, void *x) {
    uint8_t *b = (uint8_t *)x;
    size_t at = 0;
    int ok = 1;
    for (int i = 0; i < n; i++) {
        if (t[i].kind == '8') {
            uint64_t u64 = loco__get64(p + at);
            memcpy(b + t[i].off, &u64, 8);
            at += 8;
            continue;
        }
        uint32_t u32 = loco__get32(p + at);
        if (t[i].kind == '0') ok &= u32 == 0;
        else memcpy(b + t[i].off, &u32, 4);
        at += 4;
    }
    return ok;
}

/* The message heads (src/net/heads.c) and their numbers of fields. */
#define LOCO__ATASK_HEAD_FIELDS 9
#define LOCO__OSYNC_HEAD_FIELDS 8
#define LOCO__DOWN_HEAD_FIELDS 3
#define LOCO__DPTASK_HEAD_FIELDS 8
#define LOCO__DPPUSH_HEAD_FIELDS 5
extern const loco__field loco__atask_head[LOCO__ATASK_HEAD_FIELDS];
extern const loco__field loco__osync_head[LOCO__OSYNC_HEAD_FIELDS];
extern const loco__field loco__down_head[LOCO__DOWN_HEAD_FIELDS];
extern const loco__field loco__dptask_head[LOCO__DPTASK_HEAD_FIELDS];
extern const loco__field loco__dppush_head[LOCO__DPPUSH_HEAD_FIELDS];

#endif
