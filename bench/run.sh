#!/bin/sh
# `make bench`: loco against PyTorch 1.13 on CPU, measured in one run.
#
#   1. sgemm peak of the BLAS loco links (build/bench_sgemm);
#   2. REPS interleaved rounds of full training steps (forward, backward,
#      AdamW), same shapes, same thread count, fp32:
#          loco small, torch small, loco 124M, torch 124M
#      each run reporting the median step time over its timed steps
#      (warm-up steps excluded);
#   3. medians over the rounds, a table, and as the very last line
#          ratio_vs_torch=<small-config loco tok/s / torch tok/s> mfu=<124M MFU>
#
# Environment knobs (see docs/benchmarks.md):
#   LOCO_BENCH_THREADS (2)   threads for both sides
#   LOCO_BENCH_REPS    (3)   interleaved rounds
#   LOCO_BENCH_QUICK   (0)   1: small config only, few steps (smoke test)
#   LOCO_BENCH_PYTHON  (/usr/bin/python3)  the python that has torch 1.13
#   LOCO_BENCH_SMALL_STEPS / _SMALL_WARMUP / _BIG_STEPS / _BIG_WARMUP
#   BUILD              (build)  where bench_gpt and bench_sgemm were built
#   LOCO_BENCH_BASELINE (unset) another build's bench_gpt (say, of the last
#                      commit) run in the same rounds right after loco's, so
#                      that a change is measured against it in one run; the
#                      summary then adds its ratio, MFU and loco/baseline
set -u

BUILD=${BUILD:-build}
THREADS=${LOCO_BENCH_THREADS:-2}
QUICK=${LOCO_BENCH_QUICK:-0}
BASELINE=${LOCO_BENCH_BASELINE:-}
PYTHON=${LOCO_BENCH_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
TORCH_PY="$HERE/torch_gpt.py"

if [ "$QUICK" = 1 ]; then
    REPS=${LOCO_BENCH_REPS:-1}
    SMALL_STEPS=${LOCO_BENCH_SMALL_STEPS:-3}
    SMALL_WARMUP=${LOCO_BENCH_SMALL_WARMUP:-1}
    SGEMM_FLAGS="--quick --reps 3"
else
    REPS=${LOCO_BENCH_REPS:-3}
    SMALL_STEPS=${LOCO_BENCH_SMALL_STEPS:-8}
    SMALL_WARMUP=${LOCO_BENCH_SMALL_WARMUP:-2}
    SGEMM_FLAGS="--reps 5"
fi
BIG_STEPS=${LOCO_BENCH_BIG_STEPS:-3}
BIG_WARMUP=${LOCO_BENCH_BIG_WARMUP:-1}

# name:L:C:NH ; both with V=50257, B=8, T=256, max_seq_len=1024
SMALL_CFG="small 4 256 4"
BIG_CFG="124M 12 768 12"
V=50257 B=8 T=256 TMAX=1024

die() { echo "bench: $*" >&2; exit 1; }

for v in "$THREADS" "$REPS" "$SMALL_STEPS" "$SMALL_WARMUP" "$BIG_STEPS" "$BIG_WARMUP"; do
    case $v in ''|*[!0-9]*) die "bench knobs must be non-negative integers (got '$v')";; esac
done
if [ "$THREADS" -lt 1 ] || [ "$REPS" -lt 1 ] || [ "$SMALL_STEPS" -lt 1 ] || [ "$BIG_STEPS" -lt 1 ]; then
    die "LOCO_BENCH_THREADS, _REPS and _*_STEPS must be >= 1"
fi

[ -x "$BUILD/bench_gpt" ] || die "$BUILD/bench_gpt not built (run 'make bench')"
[ -x "$BUILD/bench_sgemm" ] || die "$BUILD/bench_sgemm not built (run 'make bench')"
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || die "LOCO_BENCH_BASELINE=$BASELINE is not an executable bench_gpt"
if ! TORCH_VERSION=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null); then
    echo "bench: PyTorch is not importable from $PYTHON; the comparison needs it." >&2
    echo "bench: install it with: apt-get install python3-torch  (Debian 12: torch 1.13)" >&2
    exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/loco-bench.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
RES="$TMP/results"    # lines: side config tok_per_s step_s flops params maxrss_mb
: > "$RES"

echo "== loco bench: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(uname -n)"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') logical cpus"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OMP_NUM_THREADS=${OMP_NUM_THREADS:-<unset>} threads=$THREADS reps=$REPS quick=$QUICK torch=$TORCH_VERSION"
echo "shapes: B=$B T=$T V=$V max_seq_len=$TMAX fp32; small=L4 C256 NH4, 124M=L12 C768 NH12"
if [ "$QUICK" = 1 ]; then
    echo "steps per run: small ${SMALL_WARMUP} warm-up + ${SMALL_STEPS} timed (quick mode: no 124M runs)"
else
    echo "steps per run: small ${SMALL_WARMUP} warm-up + ${SMALL_STEPS} timed, 124M ${BIG_WARMUP} warm-up + ${BIG_STEPS} timed (medians; warm-up excluded)"
fi

# ---------------------------------------------------------------- sgemm peak
echo "== sgemm (OpenBLAS as linked by loco, $THREADS threads)"
# shellcheck disable=SC2086
"$BUILD/bench_sgemm" --threads "$THREADS" $SGEMM_FLAGS > "$TMP/sgemm" 2> "$TMP/sgemm.err" || {
    cat "$TMP/sgemm" "$TMP/sgemm.err" >&2; die "bench_sgemm failed"; }
cat "$TMP/sgemm"
PEAK=$(sed -n 's/^sgemm threads=[0-9]* peak_gflops=\([0-9.]*\)$/\1/p' "$TMP/sgemm")
[ -n "$PEAK" ] || die "bench_sgemm printed no peak_gflops line"
PEAK_BEFORE=$PEAK

# field NAME LINE: the value of NAME=... in a bench output line
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# one_run SIDE NAME L C NH STEPS WARMUP ROUND
one_run() {
    side=$1 name=$2 l=$3 c=$4 nh=$5 steps=$6 warm=$7 round=$8
    set -- --layers "$l" --channels "$c" --heads "$nh" --vocab "$V" --seq "$T" \
           --batch "$B" --steps "$steps" --warmup "$warm" --threads "$THREADS" --max-seq "$TMAX"
    prefix=$side
    if [ "$side" = loco ]; then
        "$BUILD/bench_gpt" "$@" > "$TMP/out" 2> "$TMP/err"
    elif [ "$side" = base ]; then
        "$BASELINE" "$@" > "$TMP/out" 2> "$TMP/err"
        prefix=loco
    else
        "$PYTHON" "$TORCH_PY" "$@" > "$TMP/out" 2> "$TMP/err"
    fi
    rc=$?
    line=$(grep "^$prefix tok_per_s=" "$TMP/out" | tail -n 1)
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        cat "$TMP/out" "$TMP/err" >&2
        die "$side $name run failed (exit $rc)"
    fi
    echo "round $round $name: $line"
    echo "$side $name $(field tok_per_s "$line") $(field step_s "$line") $(field flops_per_step "$line") $(field params "$line") $(field maxrss_mb "$line")" >> "$RES"
}

echo "== interleaved training steps ($REPS rounds: loco small,$([ -z "$BASELINE" ] || echo " baseline small,") torch small$([ "$QUICK" = 1 ] || echo ", loco 124M,$([ -z "$BASELINE" ] || echo " baseline 124M,") torch 124M"))"
r=1
while [ "$r" -le "$REPS" ]; do
    # shellcheck disable=SC2086
    set -- $SMALL_CFG
    one_run loco "$1" "$2" "$3" "$4" "$SMALL_STEPS" "$SMALL_WARMUP" "$r"
    [ -z "$BASELINE" ] || one_run base "$1" "$2" "$3" "$4" "$SMALL_STEPS" "$SMALL_WARMUP" "$r"
    one_run torch "$1" "$2" "$3" "$4" "$SMALL_STEPS" "$SMALL_WARMUP" "$r"
    if [ "$QUICK" != 1 ]; then
        # shellcheck disable=SC2086
        set -- $BIG_CFG
        one_run loco "$1" "$2" "$3" "$4" "$BIG_STEPS" "$BIG_WARMUP" "$r"
        [ -z "$BASELINE" ] || one_run base "$1" "$2" "$3" "$4" "$BIG_STEPS" "$BIG_WARMUP" "$r"
        one_run torch "$1" "$2" "$3" "$4" "$BIG_STEPS" "$BIG_WARMUP" "$r"
    fi
    r=$((r + 1))
done

# ---------------------------------------------------------------- sgemm again
# The peak is measured again after the training runs and the larger of the two
# is used, so that a disturbance during one measurement cannot inflate MFU.
if [ "$QUICK" != 1 ]; then
    echo "== sgemm peak again, after the training runs"
    "$BUILD/bench_sgemm" --threads "$THREADS" --peak-only --reps 5 > "$TMP/sgemm2" 2> "$TMP/sgemm.err" || {
        cat "$TMP/sgemm2" "$TMP/sgemm.err" >&2; die "bench_sgemm failed"; }
    grep '^sgemm shape=' "$TMP/sgemm2"
    PEAK_AFTER=$(sed -n 's/^sgemm threads=[0-9]* peak_gflops=\([0-9.]*\)$/\1/p' "$TMP/sgemm2")
    [ -n "$PEAK_AFTER" ] || die "bench_sgemm printed no peak_gflops line"
    PEAK=$(awk -v a="$PEAK_BEFORE" -v b="$PEAK_AFTER" 'BEGIN { print (b > a ? b : a) }')
    echo "sgemm peak_gflops before=$PEAK_BEFORE after=$PEAK_AFTER used=$PEAK"
fi

# ---------------------------------------------------------------- summary
# median SIDE CONFIG COLUMN (3 tok/s, 4 step_s, 5 flops, 6 params, 7 rss)
median() {
    awk -v s="$1" -v c="$2" -v k="$3" '$1 == s && $2 == c { print $k }' "$RES" | sort -g |
        awk '{ a[NR] = $1 } END { if (NR == 0) print "nan";
              else if (NR % 2) printf "%.15g\n", a[(NR + 1) / 2];
              else printf "%.15g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

CONFIGS=small
[ "$QUICK" = 1 ] || CONFIGS="small 124M"

echo "== summary (medians over $REPS rounds; sgemm peak ${PEAK} GFLOP/s)"
printf '%-6s %10s %10s %12s %12s %7s %10s %10s %7s %9s %9s\n' config params \
    GFLOP/step "loco tok/s" "torch tok/s" ratio "loco GF/s" "torch GF/s" "MFU" "loco MiB" "torch MiB"
for cfg in $CONFIGS; do
    lp=$(median loco "$cfg" 6) tp=$(median torch "$cfg" 6)
    if [ "$lp" != "$tp" ]; then
        die "parameter counts differ for $cfg (loco $lp, torch $tp): the two sides do not train the same model"
    fi
    lt=$(median loco "$cfg" 3) tt=$(median torch "$cfg" 3)
    ls=$(median loco "$cfg" 4) ts=$(median torch "$cfg" 4)
    fl=$(median loco "$cfg" 5)
    lm=$(median loco "$cfg" 7) tm=$(median torch "$cfg" 7)
    awk -v cfg="$cfg" -v p="$lp" -v f="$fl" -v lt="$lt" -v tt="$tt" -v ls="$ls" -v ts="$ts" \
        -v peak="$PEAK" -v lm="$lm" -v tm="$tm" 'BEGIN {
        lg = f / ls / 1e9; tg = f / ts / 1e9
        printf "%-6s %10d %10.1f %12.1f %12.1f %7.3f %10.1f %10.1f %7.3f %9.0f %9.0f\n",
               cfg, p, f / 1e9, lt, tt, lt / tt, lg, tg, lg / peak, lm, tm }'
    awk -v cfg="$cfg" -v f="$fl" -v lt="$lt" -v tt="$tt" -v ls="$ls" -v peak="$PEAK" \
        'BEGIN { printf "RATIO %s %.4f\nMFU %s %.4f\n", cfg, lt / tt, cfg, f / ls / 1e9 / peak }' \
        >> "$TMP/summary"
done

if [ -n "$BASELINE" ]; then
    echo "== baseline $BASELINE (medians over the same rounds)"
    for cfg in $CONFIGS; do
        bt=$(median base "$cfg" 3) bs=$(median base "$cfg" 4) bf=$(median base "$cfg" 5)
        lt=$(median loco "$cfg" 3) tt=$(median torch "$cfg" 3)
        awk -v cfg="$cfg" -v bt="$bt" -v bs="$bs" -v f="$bf" -v lt="$lt" -v tt="$tt" -v peak="$PEAK" 'BEGIN {
            printf "baseline %-6s tok/s=%.1f ratio_vs_torch=%.4f mfu=%.4f  loco/baseline=%.4f\n",
                   cfg, bt, bt / tt, f / bs / 1e9 / peak, lt / bt }'
    done
fi

RATIO_SMALL=$(sed -n 's/^RATIO small //p' "$TMP/summary")
MFU_SMALL=$(sed -n 's/^MFU small //p' "$TMP/summary")
echo "ratio_small (L4 C256, loco tok/s / torch tok/s) = $RATIO_SMALL"
if [ "$QUICK" = 1 ]; then
    MFU=$MFU_SMALL
    echo "quick mode: no 124M run; the mfu below is the small config's (not comparable to the 124M target)"
else
    RATIO_BIG=$(sed -n 's/^RATIO 124M //p' "$TMP/summary")
    MFU=$(sed -n 's/^MFU 124M //p' "$TMP/summary")
    echo "ratio_124M  (L12 C768, loco tok/s / torch tok/s) = $RATIO_BIG"
    echo "mfu_small   (L4 C256, loco GFLOP/s / sgemm peak) = $MFU_SMALL"
    echo "mfu_124M    (L12 C768, loco GFLOP/s / sgemm peak) = $MFU"
fi
if [ "$QUICK" = 1 ]; then
    echo "ratio_vs_torch is the small (L4 C256) config's ratio; mfu is the small config's (quick mode)"
else
    echo "ratio_vs_torch is the small (L4 C256) config's ratio; mfu is the 124M config's (see docs/benchmarks.md)"
fi
awk -v m="$MFU" 'BEGIN { if (m > 1) print "WARNING: MFU above 1: the sgemm peak was measured while the machine was busy, or the FLOP count is wrong" }'
echo "ratio_vs_torch=$RATIO_SMALL mfu=$MFU"
