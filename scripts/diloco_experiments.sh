#!/bin/sh
# The DiLoCo experiments of docs/results/diloco.md, each re-runnable on its own:
#   scripts/diloco_experiments.sh RUN...      one or more of the runs below
#   scripts/diloco_experiments.sh all         every run, then the table and plots
#   scripts/diloco_experiments.sh report      the table and plots from the runs present
# Runs: single ddp h10 h50 h100 h500 noniid drop30 drop50 int8 int8t adaptive
#       ddp-b32 h10-b32 h50-b32 (batch 32 per worker for 250 steps: the same compute)
#
# Setting: the C4 sample in ../shared/data (train on its train file, evaluate on
# its validation file), BPE vocabulary 4096, GPT L=2 C=128 NH=4 T=64.  Every run
# starts from the same checkpoint (300 steps of one worker, `pretrain`) and takes
# STEPS inner steps per worker with batch 8; M = 8 workers.  Writes out/diloco/.
set -e
cd "$(dirname "$0")/.."
data=../shared/data/c4
out=out/diloco
STEPS=${STEPS:-1000}
loco=${LOCO:-./loco}     # LOCO=path runs another build (e.g. a copy, while ./loco is rebuilt)
[ -f "$data/c4_en_train00000_first1000.jsonl" ] || { echo "diloco_experiments: needs $data" >&2; exit 1; }
[ -n "${LOCO:-}" ] || make -s -j"$(nproc)" loco
mkdir -p "$out"

prepare() {
    [ -f "$out/tokenizer.json" ] || $loco tokenizer train --input "$data/c4_en_train00000_first1000.jsonl" \
        --vocab-size 4096 --out "$out/tokenizer.json"
    [ -f "$out/c4.train.bin" ] || $loco data prepare --input "$data/c4_en_train00000_first1000.jsonl" \
        --tokenizer "$out/tokenizer.json" --val-frac 0 --out "$out/c4"
    [ -f "$out/c4.val.bin" ] || $loco data prepare --input "$data/c4_en_validation_olmo1000.jsonl" \
        --tokenizer "$out/tokenizer.json" --val-frac 1 --out "$out/c4"
    [ -f "$out/pretrain/model.safetensors" ] || $loco train --train-shard "$out/c4.train.bin" \
        --val-shard "$out/c4.val.bin" --tokenizer "$out/tokenizer.json" \
        --layers 2 --channels 128 --heads 4 --seq-len 64 --batch 8 --steps 300 --lr 2e-3 --warmup 50 \
        --eval-every 100 --eval-batches 16 --log-every 100 --out "$out/pretrain"
}

# run NAME FLAGS...: one run from the pretrained checkpoint, then its loss on
# the whole validation file.  BATCH, RUN_STEPS and EVAL change the batch per
# worker, the steps and the evaluation period of one run.
run() {
    name=$1; shift
    prepare
    echo "== $name: $*"
    $loco train --train-shard "$out/c4.train.bin" --val-shard "$out/c4.val.bin" \
        --tokenizer "$out/tokenizer.json" --init "$out/pretrain/model.safetensors" \
        --seq-len 64 --batch "${BATCH:-8}" --steps "${RUN_STEPS:-$STEPS}" --lr 2e-3 --warmup 50 \
        --eval-every "${EVAL:-100}" --eval-batches 16 --log-every 100 --out "$out/$name" "$@" | tee "$out/$name.log"
    $loco eval --checkpoint "$out/$name/model.safetensors" --val-shard "$out/c4.val.bin" \
        | tee "$out/$name/eval.txt"
}

one() {
    case $1 in
    single)   run single   --algo ddp --workers 1 ;;
    ddp)      run ddp      --algo ddp --workers 8 ;;
    h10)      run h10      --algo diloco --workers 8 --inner-steps 10 ;;
    h50)      run h50      --algo diloco --workers 8 --inner-steps 50 ;;
    h100)     run h100     --algo diloco --workers 8 --inner-steps 100 ;;
    h500)     run h500     --algo diloco --workers 8 --inner-steps 500 ;;
    noniid)   run noniid   --algo diloco --workers 8 --inner-steps 50 --split kmeans ;;
    drop30)   run drop30   --algo diloco --workers 8 --inner-steps 50 --drop 0.3 ;;
    drop50)   run drop50   --algo diloco --workers 8 --inner-steps 50 --drop 0.5 ;;
    int8)     run int8     --algo diloco --workers 8 --inner-steps 50 --compress int8 ;;
    int8t)    run int8t    --algo diloco --workers 8 --inner-steps 50 --compress int8-tensor ;;
    adaptive) run adaptive --algo diloco --workers 8 --inner-steps 50 --schedule ramp-up ;;
    ddp-b32)  BATCH=32 RUN_STEPS=250 EVAL=25 run ddp-b32 --algo ddp --workers 8 ;;
    h10-b32)  BATCH=32 RUN_STEPS=250 EVAL=25 run h10-b32 --algo diloco --workers 8 --inner-steps 10 ;;
    h50-b32)  BATCH=32 RUN_STEPS=250 EVAL=25 run h50-b32 --algo diloco --workers 8 --inner-steps 50 ;;
    prepare)  prepare ;;
    report)   /usr/bin/python3 scripts/diloco_report.py "$out" ;;
    *) echo "diloco_experiments: unknown run '$1' (see the header of $0)" >&2; exit 2 ;;
    esac
}

[ $# -gt 0 ] || { sed -n '2,12p' "$0"; exit 2; }
if [ "$1" = all ]; then
    set -- single ddp h10 h50 h100 h500 noniid drop30 drop50 int8 int8t adaptive report
fi
for r in "$@"; do one "$r"; done
