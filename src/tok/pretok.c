/*
 * GPT-2's pre-tokenizer: the text is cut at the matches of its pattern.
 * PCRE2_MATCH_INVALID_UTF lets the subject hold any bytes: an invalid UTF-8
 * sequence matches nothing, so matches never contain one.  The bytes between
 * two matches (a run of invalid sequences) become a pre-token of their own,
 * which keeps encoding total and exactly reversible.
 */
#include "tok/tok_internal.h"

static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* Returns NULL if compilation fails (it does not for this fixed pattern with
 * PCRE2 >= 10.34).  JIT is used when the library has it, else the interpreter. */
pcre2_code *loco__pretok_compile(void) {
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)gpt2_pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
                                   &err, &off, NULL);
    if (re) pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

/* Returns fn's first non-zero value, LOCO_ENOMEM if the match data cannot be
 * allocated, LOCO_ERANGE if PCRE2 gives up on the text (a match or JIT stack
 * limit), else 0. */
int loco__pretok_each(const pcre2_code *re, const uint8_t *text, size_t n,
                      loco__pretok_fn fn, void *ctx) {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md) return LOCO_ENOMEM;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    size_t pos = 0;
    int rc = 0;
    while (pos < n && !rc) {
        int m = pcre2_match(re, (PCRE2_SPTR)text, n, pos, 0, md, NULL);
        /* Only "no match" means the rest of the text is one gap; any other
         * failure would silently split the text unlike GPT-2 does. */
        if (m < 0 && m != PCRE2_ERROR_NOMATCH) {
            rc = LOCO_ERANGE;
            break;
        }
        size_t s = m > 0 ? ov[0] : n, e = m > 0 ? ov[1] : n;
        /* Every alternative consumes at least one character, so e > s; a
         * defensive check keeps the loop finite whatever the library does. */
        if (m > 0 && e <= s) s = e = n;
        if (s > pos) rc = fn(text + pos, s - pos, ctx);
        if (!rc && e > s) rc = fn(text + s, e - s, ctx);
        pos = e;
    }
    pcre2_match_data_free(md);
    return rc;
}
