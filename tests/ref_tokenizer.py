#!/usr/bin/env python3
"""Independent reference for loco's tokenizer: GPT-2's byte-level BPE in pure Python.

    ref_tokenizer.py TOKENIZER_JSON TEXT_FILE   prints the ids of TEXT_FILE, one per line

The BPE loop and the byte alphabet are GPT-2's encoder.py, verbatim in logic. The
pre-tokenizer is GPT-2's pattern

    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+

written out as a hand scanner over Unicode categories (Debian's python3 has no
`regex` module, and `re` has no \\p{L}), with \\s as PCRE2 defines it under UCP:
\\p{Z}, \\h or \\v. Bytes that are not valid UTF-8 are decoded with
surrogateescape; they match no alternative of the pattern, so each run of them is
a pre-token of its own, as in loco. Only the standard library is used.
"""
import json
import sys
import unicodedata

# \h and \v of PCRE2 (pcre2pattern(3)); with UCP, \s is these plus category Z.
H_SPACE = {0x09, 0x20, 0xA0, 0x1680, 0x180E, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000}
V_SPACE = {0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029}
CONTRACTIONS = ("s", "t", "re", "ve", "m", "ll", "d")


def bytes_to_unicode():
    """GPT-2's table: printable bytes stand for themselves, the rest map to 256+."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def invalid(c):
    """A lone surrogate can only come from surrogateescape: an invalid byte."""
    return 0xD800 <= ord(c) <= 0xDFFF


def is_space(c):
    o = ord(c)
    return not invalid(c) and (o in H_SPACE or o in V_SPACE or unicodedata.category(c)[0] == "Z")


def is_letter(c):
    return not invalid(c) and unicodedata.category(c)[0] == "L"


def is_number(c):
    return not invalid(c) and unicodedata.category(c)[0] == "N"


def is_other(c):
    return not invalid(c) and not is_space(c) and not is_letter(c) and not is_number(c)


def match_len(s, i):
    """Length of the pattern's match starting at i (the first alternative that
    matches, as a backtracking engine picks), or 0 if none matches there."""
    n, c = len(s), s[i]
    if invalid(c):
        return 0
    if c == "'":
        for suf in CONTRACTIONS:
            if s.startswith(suf, i + 1):
                return 1 + len(suf)
    for cls in (is_letter, is_number, is_other):
        # " ?X+": with the space first; without it, a space is never X.
        j = i + 1 if c == " " and i + 1 < n and cls(s[i + 1]) else i
        if cls(s[j]):
            k = j
            while k < n and cls(s[k]):
                k += 1
            return k - i
    if is_space(c):
        k = i
        while k < n and is_space(s[k]):
            k += 1
        # \s+(?!\S): the whole run if the end or an invalid byte follows (\S
        # matches neither); else give the last space back to the next token,
        # unless the run is one character, which \s+ then takes whole.
        if k == n or invalid(s[k]) or k - i == 1:
            return k - i
        return k - 1 - i
    raise AssertionError("unreachable: every valid character is in some class")


def pretokenize(s):
    out, i, gap = [], 0, None
    while i < len(s):
        m = match_len(s, i)
        if m == 0:
            gap = i if gap is None else gap
            i += 1
            continue
        if gap is not None:
            out.append(s[gap:i])
            gap = None
        out.append(s[i:i + m])
        i += m
    if gap is not None:
        out.append(s[gap:])
    return out


def get_pairs(word):
    return {(word[i], word[i + 1]) for i in range(len(word) - 1)}


def bpe(token, ranks):
    """GPT-2's encoder.py bpe(): merge the lowest-ranked pair everywhere, repeat."""
    word = tuple(token)
    if len(word) < 2:
        return word
    while True:
        pairs = get_pairs(word)
        bigram = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if bigram not in ranks:
            break
        first, second = bigram
        new_word, i = [], 0
        while i < len(word):
            try:
                j = word.index(first, i)
            except ValueError:
                new_word.extend(word[i:])
                break
            new_word.extend(word[i:j])
            i = j
            if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                new_word.append(first + second)
                i += 2
            else:
                new_word.append(word[i])
                i += 1
        word = tuple(new_word)
        if len(word) == 1:
            break
    return word


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in tok["model"]["merges"]]
    ranks = dict(zip(merges, range(len(merges))))
    b2u = bytes_to_unicode()
    with open(sys.argv[2], "rb") as f:
        text = f.read().decode("utf-8", "surrogateescape")
    out = []
    for piece in pretokenize(text):
        raw = piece.encode("utf-8", "surrogateescape")
        out.extend(vocab[t] for t in bpe("".join(b2u[b] for b in raw), ranks))
    sys.stdout.write("".join(f"{i}\n" for i in out))


if __name__ == "__main__":
    main()
