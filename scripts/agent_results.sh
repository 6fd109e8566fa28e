#!/bin/sh
# The behavioural-cloning measurements of docs/results/agents.md, one row at a time.
#
#   scripts/agent_results.sh ROW
#
# Every row records what it needs (demonstrations of every task, written by
# `loco env demos`), trains, evaluates on 100 unseen instances per task and
# prints the evaluation table.  A row whose evaluation file exists only prints
# it.  Data, checkpoints and logs go under $LOCO_AGENT_DATA (default
# ./agentdata), never into the repository.  Each training run uses one thread
# ($THREADS), so that two rows can run side by side on two cores.
#
# Rows:
#   demos            record 1000 demonstrations of every task (seeds 0-999)
#   main             one agent over every task: 1000 demonstrations per task,
#                    --obs dom, $MAIN_STEPS steps of 16 x 16 (default 2500)
#   demos-N          the six subset tasks at once, N demonstrations per task
#                    (N = 10, 30, 100, 300, 1000): the curve of success against demonstrations
#   single-TASK      TASK alone, 100 demonstrations (multi-task against single-task)
#   obs-OBS          the six subset tasks, 100 demonstrations per task, --obs OBS
#                    (dom, pixels or both), $OBS_STEPS steps (default 100: a pixel step
#                    costs about seven DOM steps)
#   seed-S           demos-100 again with --seed S (the spread between runs)
#   steps-K          demos-1000 trained K steps instead of $SUB_STEPS
#   subset           every subset row above, one after another
#   report           the page's tables from the rows measured so far (scripts/agent_report.py)
#   plots            the page's SVG plots (loco plot) from the rows measured so far
# The subset rows train $SUB_STEPS steps (default 400) of 16 sequences x 16 steps.
set -eu

ROW=${1:?usage: scripts/agent_results.sh ROW (demos main demos-N single-TASK obs-OBS seed-S steps-K subset report plots)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOCO=${LOCO:-$ROOT/loco}
DATA=${LOCO_AGENT_DATA:-$ROOT/agentdata}
THREADS=${THREADS:-1}
MAIN_STEPS=${MAIN_STEPS:-2500}
SUB_STEPS=${SUB_STEPS:-400}
OBS_STEPS=${OBS_STEPS:-100}
SUBSET="click-test enter-text login-user click-button click-checkboxes click-tab-2"
EPISODES=${EPISODES:-100}

[ -x "$LOCO" ] || { echo "agent_results.sh: $LOCO not found (run make)" >&2; exit 1; }
mkdir -p "$DATA"

# The functions share the script's variables (POSIX sh has no locals): their
# loops use "task", a name no row uses.
demos() {   # record every task's demonstrations once
    mkdir -p "$DATA/demos"
    for task in $("$LOCO" env list | awk 'NR > 1 { print $2 }'); do
        [ -s "$DATA/demos/$task.demos" ] ||
            "$LOCO" env demos --task "$task" --episodes 1000 --out "$DATA/demos/$task.demos" >/dev/null
    done
}

subset_dir() {  # $1: directory to fill with links to the subset's demonstration files
    mkdir -p "$1"
    for task in $SUBSET; do ln -sf "$DATA/demos/$task.demos" "$1/$task.demos"; done
}

# run NAME DEMOS_DIR EVAL_TASKS TRAIN_FLAGS...: train, evaluate, print the table
run() {
    name=$1 dir=$2 tasks=$3
    shift 3
    out="$DATA/runs/$name"
    if [ ! -s "$out/eval.md" ]; then
        mkdir -p "$out"
        # two copies of this script may share the rows (one per core): a row is taken by one of them
        if ! mkdir "$out/lock" 2>/dev/null; then echo "## $name: being measured by another process"; return 0; fi
        trap 'rmdir "$out/lock"' EXIT
        if [ ! -s "$out/agent.safetensors" ] || ! grep -q '"done"' "$out/state" 2>/dev/null; then
            "$LOCO" agent train --bc --demos "$dir" --out "$out" --threads "$THREADS" "$@" > "$out/train.log"
            times > "$out/cpu.txt"   # second line: user and system CPU time of the training (and earlier rows)
            echo '"done"' > "$out/state"
        fi
        "$LOCO" agent eval --checkpoint "$out/agent.safetensors" --episodes "$EPISODES" --tasks "$tasks" \
            --threads "$THREADS" --out "$out/eval.md.tmp" > "$out/eval.log"
        mv "$out/eval.md.tmp" "$out/eval.md"
    fi
    echo "## $name"
    cat "$out/eval.md"
}

sub_flags="--batch 16 --unroll 16 --steps $SUB_STEPS --lr 1e-3 --warmup 30 --log-every 10"
comma=$(echo $SUBSET | tr ' ' ',')

case "$ROW" in
demos) demos; ls "$DATA/demos" | wc -l ;;
main)
    demos
    run main "$DATA/demos" all --obs dom --batch 16 --unroll 16 --steps "$MAIN_STEPS" --lr 1e-3 --warmup 100 \
        --max-per-task 1000 --ckpt-every 250 --log-every 25 ;;
demos-*)
    n=${ROW#demos-}
    demos; subset_dir "$DATA/subset"
    run "$ROW" "$DATA/subset" "$comma" --obs dom $sub_flags --max-per-task "$n" ;;
single-*)
    t=${ROW#single-}
    demos; mkdir -p "$DATA/single-$t"; ln -sf "$DATA/demos/$t.demos" "$DATA/single-$t/$t.demos"
    run "$ROW" "$DATA/single-$t" "$t" --obs dom $sub_flags --max-per-task 100 ;;
obs-*)
    o=${ROW#obs-}
    demos; subset_dir "$DATA/subset"
    run "$ROW" "$DATA/subset" "$comma" --obs "$o" $sub_flags --max-per-task 100 --steps "$OBS_STEPS" ;;
seed-*)
    demos; subset_dir "$DATA/subset"
    run "$ROW" "$DATA/subset" "$comma" --obs dom $sub_flags --max-per-task 100 --seed "${ROW#seed-}" ;;
steps-*)
    demos; subset_dir "$DATA/subset"
    run "$ROW" "$DATA/subset" "$comma" --obs dom $sub_flags --max-per-task 1000 --steps "${ROW#steps-}" ;;
subset)
    for r in demos-10 demos-30 demos-100 demos-300 demos-1000; do "$0" "$r"; done
    for t in $SUBSET; do "$0" "single-$t"; done
    for o in dom pixels both; do "$0" "obs-$o"; done
    for r in seed-2 seed-3 steps-1200; do "$0" "$r"; done ;;
report) python3 "$ROOT/scripts/agent_report.py" "$DATA" ;;
plots)
    R="$DATA/runs" P="$DATA/plots" D="${PLOT_OUT:-$ROOT/docs/results}"
    python3 "$ROOT/scripts/agent_report.py" "$DATA" "$P" > /dev/null
    [ -s "$R/main/metrics.jsonl" ] && "$LOCO" plot "$R/main/metrics.jsonl" --out "$D/agents_main_loss.svg" \
        --labels "65 tasks" --title "BC loss per step, small config, --obs dom, 65 tasks, 1000 demos each"
    "$LOCO" plot $(for t in $SUBSET mean; do echo "$P/curve_$t.jsonl"; done) --out "$D/agents_demos_curve.svg" \
        --x demos --y success --eval-only --logx --labels "$comma,mean" \
        --title "Success against demonstrations per task ($SUB_STEPS steps, 6 tasks at once)"
    "$LOCO" plot "$R/obs-dom/metrics.jsonl" "$R/obs-pixels/metrics.jsonl" "$R/obs-both/metrics.jsonl" \
        --out "$D/agents_obs_loss.svg" --labels dom,pixels,both \
        --title "BC loss per step by observations (6 tasks, 100 demos each)" ;;
*) echo "agent_results.sh: unknown row '$ROW'" >&2; exit 2 ;;
esac
