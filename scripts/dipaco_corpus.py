#!/usr/bin/python3
"""Builds the mixed corpus of the DiPaCo experiments (docs/results/dipaco.md).

The C4 sample alone holds 1000 training documents, too few to give 16 paths
shards they do not repeat many times over; so its documents are mixed with
the other corpora of ../shared/data, cut into documents of at most MAX_WORDS
words: C4 train, WikiText-2 train (one document per article), Brown (per
text), State of the Union (per address), Moby-Dick (per chapter), tiny
Shakespeare (per 40 speeches) and TinyStories (per story).  The pieces are
shuffled with a fixed seed; the last VAL_FRAC of them are the validation
documents.  Writes OUT/mix_train.jsonl and OUT/mix_val.jsonl with fields
text and source.  Usage: dipaco_corpus.py DATA_DIR OUT_DIR
"""
import json
import os
import random
import re
import sys

MAX_WORDS = 1500
VAL_FRAC = 0.04


def pieces(text):
    words = text.split(' ')
    for i in range(0, len(words), MAX_WORDS):
        piece = ' '.join(words[i:i + MAX_WORDS]).strip()
        if len(piece.split()) >= 40:
            yield piece


def main():
    data, out = sys.argv[1], sys.argv[2]
    docs = []

    def add(source, text):
        for p in pieces(text):
            docs.append({'text': p, 'source': source})

    for line in open(os.path.join(data, 'c4/c4_en_train00000_first1000.jsonl'), encoding='utf-8'):
        add('c4', json.loads(line)['text'])
    wiki = open(os.path.join(data, 'wikitext2/wiki.train.tokens.reconstructed'), encoding='utf-8').read()
    for art in re.split(r'\n \= (?=[^=].*[^=] \= \n)', wiki):
        add('wikitext', art)
    for line in open(os.path.join(data, 'brown/brown_untagged.jsonl'), encoding='utf-8'):
        add('brown', json.loads(line)['text'])
    for line in open(os.path.join(data, 'sotu/sotu.jsonl'), encoding='utf-8'):
        add('sotu', json.loads(line)['text'])
    moby = open(os.path.join(data, 'moby_dick/moby_dick.txt'), encoding='utf-8').read()
    for ch in re.split(r'\nCHAPTER \d+', moby):
        add('moby_dick', ch)
    shakes = open(os.path.join(data, 'tinyshakespeare/input.txt'), encoding='utf-8').read().split('\n\n')
    for i in range(0, len(shakes), 40):
        add('shakespeare', '\n\n'.join(shakes[i:i + 40]))
    stories = open(os.path.join(data, 'tinystories/tinystories_v1_validation_head.txt'), encoding='utf-8').read()
    for s in re.split(r'\n\s*\n(?=Once|One|There|Lily|Tom|Ben|Sara|Tim)', stories):
        add('tinystories', s)
    random.Random(20261125).shuffle(docs)
    n_val = int(round(VAL_FRAC * len(docs)))
    os.makedirs(out, exist_ok=True)
    for name, part in (('mix_train.jsonl', docs[:-n_val]), ('mix_val.jsonl', docs[-n_val:])):
        with open(os.path.join(out, name), 'w', encoding='utf-8') as f:
            for d in part:
                f.write(json.dumps(d) + '\n')
    counts = {}
    for d in docs:
        counts[d['source']] = counts.get(d['source'], 0) + 1
    print('dipaco_corpus: %d documents (%d validation): %s' % (len(docs), n_val, counts))


if __name__ == '__main__':
    main()
