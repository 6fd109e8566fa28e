#!/bin/sh
# The DiPaCo experiments of docs/results/dipaco.md, each re-runnable on its own:
#   scripts/dipaco_experiments.sh RUN...     one or more of the runs below
#   scripts/dipaco_experiments.sh all        every run, then the report
#   scripts/dipaco_experiments.sh report     the table and plot from the runs present
# Runs: dense-s dense-4s dense-16s (dense models of about S, 4S and 16S parameters, lr 2e-3),
#       dense-4s-lr1e-3 dense-16s-lr5e-4 (the larger models with lower learning rates)
#       kmeans random product (16 DiPaCo paths of size S, routed by flat k-means,
#       a random hash, or product k-means 4x4), disc (discriminative routing),
#       dense-s-x16 (dense S for 16x the steps: the
#       compute of 16 paths), dense-s-1200 dense-4s-1200 dense-16s-1200 (dense models for 2 STEPS),
#       kmeans-warm random-warm disc-warm (DiPaCo for STEPS more steps from dense-s: 2 STEPS in all),
#       kmeans-sfeat-warm (as kmeans-warm, routed by k-means on dense-s's own features),
#       dense-s-warm (dense S for STEPS more steps from dense-s, with the same fresh warm-up and
#       cosine as the warm DiPaCo runs: DiLoCo with 1 worker, H=1, outer SGD lr 1, which is plain
#       training bit for bit)
#
# Setting: a mix of ../shared/data's corpora cut into documents (scripts/dipaco_corpus.py:
# C4, WikiText-2, Brown, State of the Union, Moby-Dick, Shakespeare, TinyStories), the C4
# BPE vocabulary of 4096 (trained on the C4 sample), T=64, batch 8, STEPS steps for every
# model and every path.  S is GPT L=2 C=128 (0.93 M parameters); DiPaCo has two levels of
# one block with 4 modules each (16 paths) and a shared base.  Routing features: the mean
# final hidden state over each document's first 32 tokens of a small dense model (L=2 C=64,
# 300 steps).  Every model is scored by `loco eval --per-doc`/`--dipaco` on the held-out
# documents, after the 32 routing tokens of each.  Writes out/dipaco/.
set -e
cd "$(dirname "$0")/.."
data=../shared/data
out=out/dipaco
STEPS=${STEPS:-600}
H=${H:-50}
loco=${LOCO:-./loco}
[ -d "$data/c4" ] || { echo "dipaco_experiments: needs $data" >&2; exit 1; }
[ -n "${LOCO:-}" ] || make -s -j"$(nproc)" loco
mkdir -p "$out"
common="--seq-len 64 --batch 8 --steps $STEPS --lr 2e-3 --warmup 50 --log-every 50"

prepare() {
    [ -f "$out/mix_train.jsonl" ] || /usr/bin/python3 scripts/dipaco_corpus.py "$data" "$out"
    [ -f "$out/tokenizer.json" ] || $loco tokenizer train --input "$data/c4/c4_en_train00000_first1000.jsonl" \
        --vocab-size 4096 --out "$out/tokenizer.json"
    [ -f "$out/mix.train.bin" ] || $loco data prepare --input "$out/mix_train.jsonl" \
        --tokenizer "$out/tokenizer.json" --val-frac 0 --out "$out/mix"
    [ -f "$out/mix.val.bin" ] || $loco data prepare --input "$out/mix_val.jsonl" \
        --tokenizer "$out/tokenizer.json" --val-frac 1 --out "$out/mix"
    [ -f "$out/features/model.safetensors" ] || $loco train --train-shard "$out/mix.train.bin" \
        --val-shard "$out/mix.val.bin" --tokenizer "$out/tokenizer.json" --layers 2 --channels 64 --heads 4 \
        --seq-len 64 --batch 8 --steps 300 --lr 2e-3 --warmup 50 --eval-every 300 --out "$out/features"
    for r in kmeans:--paths\ 16 random:--paths\ 16 product:--levels\ 4,4; do
        m=${r%%:*}
        [ -f "$out/router_$m.json" ] || $loco route fit --feature-model "$out/features/model.safetensors" \
            --train-shard "$out/mix.train.bin" --method "$m" ${r#*:} --out "$out/router_$m.json"
    done
}

# dense NAME FLAGS...: one dense model, then its per-document score.
dense() {
    name=$1; shift
    prepare
    echo "== $name: $*"
    $loco train --train-shard "$out/mix.train.bin" --val-shard "$out/mix.val.bin" \
        --tokenizer "$out/tokenizer.json" $common --eval-every "$STEPS" --out "$out/$name" "$@" | tee "$out/$name.log"
    $loco eval --checkpoint "$out/$name/model.safetensors" --val-shard "$out/mix.val.bin" --per-doc 1 \
        | tee "$out/$name/eval.txt"
}

# dipaco NAME ROUTER FLAGS...: 16 paths of size S routed by ROUTER, scored once
# routed by the prefix and once re-routed every 64 tokens.
dipaco() {
    name=$1; router=$2; shift 2
    prepare
    echo "== $name: router $router $*"
    $loco train --train-shard "$out/mix.train.bin" --val-shard "$out/mix.val.bin" \
        --tokenizer "$out/tokenizer.json" $common --layers 2 --channels 128 --heads 4 \
        --algo dipaco --modules 1x4,1x4 --inner-steps "$H" --router "$out/router_$router.json" \
        --out "$out/$name" "$@" | tee "$out/$name.log"
    $loco eval --dipaco "$out/$name" --val-shard "$out/mix.val.bin" | tee "$out/$name/eval.txt"
    $loco eval --dipaco "$out/$name" --val-shard "$out/mix.val.bin" --reroute 1 --block 64 \
        | tee "$out/$name/eval_reroute.txt"
}

one() {
    case $1 in
    dense-s)   dense dense-s --layers 2 --channels 128 --heads 4 ;;
    dense-4s)  dense dense-4s --layers 4 --channels 256 --heads 4 ;;
    dense-16s) dense dense-16s --layers 8 --channels 384 --heads 6 ;;
    dense-4s-lr1e-3)  dense dense-4s-lr1e-3 --layers 4 --channels 256 --heads 4 --lr 1e-3 ;;
    dense-16s-lr5e-4) dense dense-16s-lr5e-4 --layers 8 --channels 384 --heads 6 --lr 5e-4 ;;
    kmeans)    dipaco kmeans kmeans ;;
    random)    dipaco random random ;;
    product)   dipaco product product ;;
    disc)      dipaco disc kmeans --em-round $((STEPS / H / 2)) ;;
    dense-s-x16)  dense dense-s-x16 --layers 2 --channels 128 --heads 4 --steps $((16 * STEPS)) ;;
    dense-s-1200) dense dense-s-1200 --layers 2 --channels 128 --heads 4 --steps $((2 * STEPS)) ;;
    dense-4s-1200) dense dense-4s-1200 --layers 4 --channels 256 --heads 4 --lr 1e-3 --steps $((2 * STEPS)) ;;
    dense-16s-1200) dense dense-16s-1200 --layers 8 --channels 384 --heads 6 --lr 5e-4 --steps $((2 * STEPS)) ;;
    kmeans-sfeat-warm)
        [ -f "$out/router_kmeans_sfeat.json" ] || $loco route fit --feature-model "$out/dense-s/model.safetensors" \
            --train-shard "$out/mix.train.bin" --method kmeans --paths 16 --out "$out/router_kmeans_sfeat.json"
        dipaco kmeans-sfeat-warm kmeans_sfeat --init "$out/dense-s/model.safetensors" ;;
    dense-s-warm) dense dense-s-warm --layers 2 --channels 128 --heads 4 --init "$out/dense-s/model.safetensors" \
        --algo diloco --workers 1 --inner-steps 1 --outer-opt sgd --outer-lr 1 --outer-momentum 0 ;;
    kmeans-warm) dipaco kmeans-warm kmeans --init "$out/dense-s/model.safetensors" ;;
    random-warm) dipaco random-warm random --init "$out/dense-s/model.safetensors" ;;
    disc-warm)   dipaco disc-warm kmeans --init "$out/dense-s/model.safetensors" --em-round $((STEPS / H / 2)) ;;
    prepare)   prepare ;;
    report)    /usr/bin/python3 scripts/dipaco_report.py "$out" ;;
    *) echo "dipaco_experiments: unknown run '$1' (see the header of $0)" >&2; exit 2 ;;
    esac
}

[ $# -gt 0 ] || { sed -n '2,21p' "$0"; exit 2; }
if [ "$1" = all ]; then
    set -- dense-s dense-4s dense-16s dense-4s-lr1e-3 dense-16s-lr5e-4 kmeans random disc \
        dense-s-x16 dense-s-1200 dense-4s-1200 dense-16s-1200 dense-s-warm kmeans-warm random-warm disc-warm kmeans-sfeat-warm report
fi
for r in "$@"; do one "$r"; done
