#!/bin/bash
# CURVE's cost: the same communication-bound DiLoCo run (3.2 M parameters,
# 2 workers, 8 rounds of one inner step on one sequence, so 414 MB through
# the coordinator) over tcp:// under --security mac and under CURVE; prints
# each process's wall and CPU seconds and the run's time.
#   scripts/bench_curve.sh [LOCO]
set -euo pipefail
loco=$(realpath "${1:-./loco}")
dir=$(mktemp -d /tmp/loco_bench_curve_XXXXXX)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
"$loco" keygen --out c.key >/dev/null
"$loco" keygen --out w.key >/dev/null
head -c 32 /dev/urandom | base64 > secret
chmod 600 secret
run="--layers 4 --channels 256 --heads 4 --seq-len 32 --batch 1 --eval-every 0 --log-every 1000 --eval-batches 1
     --threads 1 --steps 8 --algo diloco --workers 2 --inner-steps 1"
for sec in mac curve; do
    if [ "$sec" = mac ]; then cf="--security mac --secret-file secret"; wf="$cf"
    else cf="--key-file c.key --allow-file w.key.pub"; wf="--key-file w.key --server-key c.key.pub"; fi
    rm -rf ep out
    # shellcheck disable=SC2086
    /usr/bin/time -f "$sec coordinator: wall %e s, user %U s, sys %S s" "$loco" coordinator $run \
        --listen 'tcp://127.0.0.1:*' --endpoint-file ep $cf --out out > "$sec.log" 2> "$sec.err" &
    for _ in $(seq 1 300); do [ -s ep ] && break; sleep 0.1; done
    for w in 0 1; do
        # shellcheck disable=SC2086
        /usr/bin/time -f "$sec worker $w: wall %e s, user %U s, sys %S s" "$loco" worker --connect "$(cat ep)" $wf \
            --threads 1 2>&1 | grep "worker $w:" &
    done
    wait
    grep -h "coordinator: wall" "$sec.err"
    grep -ho "done: .* out;" "$sec.log" | sed "s/^/$sec /"
done
