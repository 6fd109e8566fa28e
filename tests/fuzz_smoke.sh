#!/bin/sh
# Builds every libFuzzer target (clang, ASan + UBSan) and runs each briefly
# from an empty corpus; any crash, leak or sanitizer report fails.  `make fuzz`
# runs them for real (10 minutes each by default).
#   tests/fuzz_smoke.sh [SECONDS]
set -e
cd "$(dirname "$0")/.."
secs=${1:-5}
build=${BUILD:-build}
command -v clang >/dev/null || { echo "fuzz_smoke: clang not found (apt-get install clang libclang-rt-14-dev libomp-14-dev)" >&2; exit 1; }
targets=$(ls fuzz/fuzz_*.c | sed 's#fuzz/\(.*\)\.c#'"$build"'/fuzz/\1#')
# shellcheck disable=SC2086
# The parent make's jobserver is not ours to use.
MAKEFLAGS= make -s BUILD="$build" $targets >/dev/null
for t in $targets; do
    dir=$(mktemp -d)
    # -timeout: an input that hangs (a reader blocked on a FIFO) fails in
    # seconds, not after libFuzzer's default 20 minutes.
    if ! "$t" -max_total_time="$secs" -timeout=20 -print_final_stats=1 "$dir" > "$dir.log" 2>&1; then
        echo "fuzz_smoke: $(basename "$t") failed:" >&2
        grep -E "ERROR|SUMMARY|runtime error" "$dir.log" | head -5 >&2
        rm -rf "$dir" "$dir.log"
        exit 1
    fi
    runs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$dir.log" | grep -o "[0-9]*$")
    echo "  $(basename "$t"): $runs executions in ${secs}s, no crash"
    rm -rf "$dir" "$dir.log"
done
