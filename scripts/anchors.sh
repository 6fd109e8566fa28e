#!/bin/sh
# The anchor runs of docs/results/README.md, each re-runnable on its own:
#   scripts/anchors.sh shakespeare   nanoGPT's CPU character-level setting on tiny Shakespeare
#   scripts/anchors.sh c4-small      the demo-sized model on the C4 sample
#   scripts/anchors.sh c4-large      a larger model on the C4 sample
# Needs ../shared/data; writes out/anchors/<name>/.
set -e
cd "$(dirname "$0")/.."
data=../shared/data
out=out/anchors
[ -d "$data" ] || { echo "anchors: needs $data" >&2; exit 1; }
make -s -j"$(nproc)" loco
c4_prepare() {
    mkdir -p "$out/c4"
    [ -f "$out/c4/tokenizer.json" ] || ./loco tokenizer train --input "$data/c4/c4_en_train00000_first1000.jsonl" \
        --vocab-size 4096 --out "$out/c4/tokenizer.json"
    [ -f "$out/c4/c4.train.bin" ] || ./loco data prepare --input "$data/c4/c4_en_train00000_first1000.jsonl" \
        --tokenizer "$out/c4/tokenizer.json" --val-frac 0 --out "$out/c4/c4"
    [ -f "$out/c4/c4.val.bin" ] || ./loco data prepare --input "$data/c4/c4_en_validation_olmo1000.jsonl" \
        --tokenizer "$out/c4/tokenizer.json" --val-frac 1 --out "$out/c4/c4"
}
c4_run() {
    name=$1; shift
    c4_prepare
    ./loco train --train-shard "$out/c4/c4.train.bin" \
        --val-shard "$out/c4/c4.val.bin" --tokenizer "$out/c4/tokenizer.json" \
        --eval-every 200 --eval-batches 16 --log-every 100 --out "$out/$name" "$@"
    ./loco eval --checkpoint "$out/$name/model.safetensors" --val-shard "$out/c4/c4.val.bin"
}
case ${1:-} in
shakespeare)
    # nanoGPT: --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000
    # --lr_decay_iters=2000 --dropout=0.0, with train_shakespeare_char.py's lr 1e-3, min_lr 1e-4,
    # beta2 0.99, warmup 100, weight decay 0.1; first 90% of the text trains, the last 10% validates.
    ./loco train --data "$data/tinyshakespeare/input.txt" --layers 4 --heads 4 \
        --channels 128 --seq-len 64 --batch 12 --steps 2000 --lr 1e-3 --min-lr-frac 0.1 --warmup 100 \
        --beta2 0.99 --weight-decay 0.1 --eval-every 500 --eval-batches 50 --log-every 250 \
        --out "$out/shakespeare"
    ./loco eval --checkpoint "$out/shakespeare/model.safetensors" --data "$data/tinyshakespeare/input.txt"
    ;;
c4-small) c4_run c4-small --layers 4 --channels 256 --heads 4 --seq-len 128 --batch 16 --steps 600 --lr 2e-3 --warmup 50 ;;
c4-large) c4_run c4-large --layers 6 --channels 384 --heads 6 --seq-len 128 --batch 16 --steps 800 --lr 1e-3 --warmup 100 ;;
*) echo "usage: scripts/anchors.sh shakespeare|c4-small|c4-large" >&2; exit 2 ;;
esac
