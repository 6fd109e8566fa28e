#!/bin/sh
# Tokenizer benchmark: loco's byte-level BPE against Debian's sentencepiece
# (BPE model), same corpus, same vocabulary size, one core, in one run.
#
#   1. both learn a vocabulary of VOCAB tokens from the corpus (spm_train with
#      one thread); training times are printed;
#   2. RUNS interleaved rounds encode the whole corpus to ids, each side as a
#      process pinned to one core that reads the file, encodes line by line
#      and writes the ids as text (spm_encode --output_format=id, and
#      bench_tokenizer encode), so both pay for loading and output alike;
#   3. medians, MB/s and the ratio; also loco's in-memory encode rate
#      (median of RUNS calls on the whole corpus, no output).
#
# Corpus: tiny Shakespeare from ../shared/data if present, else the C4 sample,
# else 4 MB of generated text.  The last line is
#   tokenizer_ratio=<loco MB/s / sentencepiece MB/s>
#
# Knobs: VOCAB (8192), RUNS (5), CORE (0: the core both sides are pinned to),
#        CORPUS (a file to use instead), BUILD (build).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VOCAB=${VOCAB:-8192}
RUNS=${RUNS:-5}
CORE=${CORE:-0}
for tool in spm_train spm_encode taskset; do
    command -v $tool >/dev/null || { echo "tokenizer.sh: $tool missing (apt-get install sentencepiece util-linux)" >&2; exit 1; }
done
make -s BUILD="$BUILD" "$BUILD/bench_tokenizer" >/dev/null
B="$BUILD/bench_tokenizer"
WORK=$(mktemp -d /tmp/loco_bench_tok_XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ -n "${CORPUS:-}" ]; then :
elif [ -f ../shared/data/tinyshakespeare/input.txt ]; then CORPUS=../shared/data/tinyshakespeare/input.txt
elif [ -f ../shared/data/c4/c4_en_train00000_first1000.jsonl ]; then CORPUS=../shared/data/c4/c4_en_train00000_first1000.jsonl
else CORPUS="$WORK/generated.txt"; "$B" gen 4000000 > "$CORPUS"
fi
BYTES=$(wc -c < "$CORPUS")
echo "corpus: $CORPUS ($BYTES bytes), vocabulary $VOCAB, core $CORE, $RUNS rounds"

now() { date +%s.%N; }
t0=$(now)
taskset -c "$CORE" "$B" train "$CORPUS" "$VOCAB" "$WORK/tok.json" >/dev/null
t1=$(now)
taskset -c "$CORE" spm_train --input="$CORPUS" --model_prefix="$WORK/spm" --vocab_size="$VOCAB" \
    --model_type=bpe --num_threads=1 --minloglevel=2 >/dev/null 2>&1
t2=$(now)
printf "train: loco %.3f s, sentencepiece %.3f s\n" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t2 - $t1" | bc -l)"

: > "$WORK/loco.t"; : > "$WORK/spm.t"
r=0
while [ $r -lt "$RUNS" ]; do
    a=$(now); taskset -c "$CORE" "$B" encode "$WORK/tok.json" "$CORPUS" > "$WORK/loco.ids"; b=$(now)
    taskset -c "$CORE" spm_encode --model="$WORK/spm.model" --output_format=id < "$CORPUS" > "$WORK/spm.ids"
    c=$(now)
    echo "$b - $a" | bc -l >> "$WORK/loco.t"
    echo "$c - $b" | bc -l >> "$WORK/spm.t"
    r=$((r + 1))
done
median() { sort -g "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
lt=$(median "$WORK/loco.t"); st=$(median "$WORK/spm.t")
lm=$(echo "$BYTES / $lt / 1000000" | bc -l); sm=$(echo "$BYTES / $st / 1000000" | bc -l)
lids=$(wc -w < "$WORK/loco.ids"); sids=$(wc -w < "$WORK/spm.ids")
mem=$(taskset -c "$CORE" "$B" time "$WORK/tok.json" "$CORPUS" "$RUNS")
printf "encode (process, file to ids): loco %.2f MB/s (%s ids), sentencepiece %.2f MB/s (%s ids)\n" \
    "$lm" "$lids" "$sm" "$sids"
printf "encode (loco in memory, whole corpus): %s MB/s\n" "${mem%% *}"
printf "tokenizer_ratio=%.2f\n" "$(echo "$lm / $sm" | bc -l)"
