#!/bin/sh
# The asynchronous DiLoCo experiments of docs/results/async.md, each re-runnable:
#   scripts/async_experiments.sh LEVEL METHOD     one run, e.g. very dn-dylu
#   scripts/async_experiments.sh LEVEL            the five methods at one level
#   scripts/async_experiments.sh all              every level and method, then the report
#   scripts/async_experiments.sh report           the tables and plots from the runs present
# Levels (seconds per inner step of the 4 workers, docs/async.md):
#   none 1,1,1,1   slight 1,1.1,1.2,1.3   moderate 1,1.4,2,3   very 0.58,0.75,1.51,3.33
# Methods: sync naive buffer dn dn-dylu (and, run by name: dn-dylu-long, 5x the pushes;
# dn-poly, staleness weights (1+s)^-0.5; dn-lr035, outer lr 0.35)
#
# Setting: the C4 sample in ../shared/data, the model and pretrained checkpoint
# of scripts/diloco_experiments.sh (GPT L=2 C=128, BPE 4096), M = 4 workers,
# H = 50, batch 8, as many pushes as 12 synchronous rounds (48).  Writes
# out/async/<level>-<method>/.
set -e
cd "$(dirname "$0")/.."
out=out/async
loco=${LOCO:-./loco}
STEPS=${STEPS:-600}
[ -n "${LOCO:-}" ] || make -s -j"$(nproc)" loco
[ -f out/diloco/pretrain/model.safetensors ] || sh scripts/diloco_experiments.sh prepare
mkdir -p "$out"

run() {
    level=$1 method=$2
    case $method in
    sync) flags="--rule sync" ;;
    naive) flags="--rule naive" ;;
    buffer) flags="--rule buffer" ;;
    dn) flags="--rule dn" ;;
    dn-dylu) flags="--rule dn --dylu 1" ;;
    # The same method given the simulated time synchronous DiLoCo takes at
    # the "very" level (5x the pushes; each shard's schedule spans the run).
    dn-dylu-long) flags="--rule dn --dylu 1 --steps 3000" ;;
    # Two probes of the outer hyperparameters, run by name.
    dn-poly) flags="--rule dn --stale poly" ;;
    dn-lr035) flags="--rule dn --outer-lr 0.35" ;;
    *) echo "async_experiments: unknown method '$method'" >&2; exit 2 ;;
    esac
    echo "== $level $method"
    # A run that diverges (the loss turns non-finite) stops with status 1; its
    # log keeps the curve up to there, and the other runs go on.
    # shellcheck disable=SC2086
    if $loco train --train-shard out/diloco/c4.train.bin --val-shard out/diloco/c4.val.bin \
        --tokenizer out/diloco/tokenizer.json --init out/diloco/pretrain/model.safetensors \
        --seq-len 64 --batch 8 --lr 2e-3 --warmup 50 --eval-every 50 --eval-batches 16 \
        --algo async --workers 4 --inner-steps 50 --hetero "$level" --steps "$STEPS" $flags \
        --out "$out/$level-$method" > "$out/$level-$method.log" 2>&1; then
        tail -1 "$out/$level-$method.log"
        $loco eval --checkpoint "$out/$level-$method/model.safetensors" \
            --val-shard out/diloco/c4.val.bin > "$out/$level-$method/eval.txt"
        cat "$out/$level-$method/eval.txt"
    else
        echo "$level $method: stopped: $(tail -1 "$out/$level-$method.log")"
    fi
}

case ${1:-} in
"") sed -n '2,15p' "$0"; exit 2 ;;
report) /usr/bin/python3 scripts/async_report.py "$out" ;;
all)
    for level in none slight moderate very; do
        for m in sync naive buffer dn dn-dylu; do run "$level" "$m"; done
    done
    /usr/bin/python3 scripts/async_report.py "$out" ;;
*)
    if [ -n "${2:-}" ]; then run "$1" "$2"
    else for m in sync naive buffer dn dn-dylu; do run "$1" "$m"; done; fi ;;
esac
