/*
 * GPT-2's byte alphabet.  Token files store tokens as text, so GPT-2 writes
 * each byte as a printable Unicode character: the 188 printable bytes
 * ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) stand for themselves and the
 * other 68 bytes (controls, space, DEL, NBSP, soft hyphen) are shifted to
 * U+0100..U+0143 in byte order.  A space is therefore written 'Ġ' (U+0120).
 */
#include <string.h>
#include "tok/tok_internal.h"

/* The table of the rule above, in byte order. */
const uint16_t loco__b2u[256] = {
    /* 0x00-0x20: shifted (0..32 -> 256..288) */
    256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 270, 271,
    272, 273, 274, 275, 276, 277, 278, 279, 280, 281, 282, 283, 284, 285, 286, 287,
    288,
    /* 0x21-0x7e: printable ASCII */
    33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
    53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72,
    73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92,
    93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109,
    110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125,
    126,
    /* 0x7f-0xa0: shifted (127..160 -> 289..322) */
    289, 290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 300, 301, 302, 303, 304,
    305, 306, 307, 308, 309, 310, 311, 312, 313, 314, 315, 316, 317, 318, 319, 320,
    321, 322,
    /* 0xa1-0xac: printable */
    161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172,
    /* 0xad: shifted (soft hyphen -> 323) */
    323,
    /* 0xae-0xff: printable */
    174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189,
    190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205,
    206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221,
    222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237,
    238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253,
    254, 255,
};

/* Returns -1 for a code point outside the alphabet. */
int loco__u2b(uint32_t cp) {
    if (cp >= 256 && cp <= 288) return (int)(cp - 256);
    if (cp >= 289 && cp <= 322) return (int)(cp - 289 + 127);
    if (cp == 323) return 0xad;
    if ((cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174 && cp <= 255))
        return (int)cp;
    return -1;
}

/* Returns -1 on invalid UTF-8 or a character outside the alphabet.  Only one-
 * and two-byte sequences can occur, since the alphabet ends at U+0143. */
long loco__alphabet_decode(const char *s, size_t len, uint8_t *out) {
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    long n = 0;
    while (i < len) {
        uint32_t cp;
        if (p[i] < 0x80) {
            cp = p[i++];
        } else if ((p[i] & 0xe0) == 0xc0 && i + 1 < len && (p[i + 1] & 0xc0) == 0x80) {
            cp = ((uint32_t)(p[i] & 0x1f) << 6) | (p[i + 1] & 0x3f);
            if (cp < 0x80) return -1;   /* overlong */
            i += 2;
        } else {
            return -1;
        }
        int b = loco__u2b(cp);
        if (b < 0) return -1;
        out[n++] = (uint8_t)b;
    }
    return n;
}

/* Writes one code point below U+0800 as UTF-8, escaping '"' and '\' for JSON. */
static void put_cp(FILE *f, unsigned cp, int json) {
    if (cp < 0x80) {
        if (json && (cp == '"' || cp == '\\')) fputc('\\', f);
        fputc((int)cp, f);
    } else {
        fputc((int)(0xc0 | (cp >> 6)), f);
        fputc((int)(0x80 | (cp & 0x3f)), f);
    }
}

/* Cannot fail (write errors are caught by the caller's ferror check). */
void loco__alphabet_write(FILE *f, const uint8_t *p, size_t n, int json) {
    for (size_t i = 0; i < n; i++) put_cp(f, loco__b2u[p[i]], json);
}
