#!/usr/bin/python3
"""Tables and plots of the asynchronous DiLoCo experiments (scripts/async_experiments.sh).

Usage: async_report.py OUT_DIR [PLOT_DIR]

For every heterogeneity level with runs in OUT_DIR/<level>-<method>/, prints a
Markdown table: final validation perplexity (the 16-batch estimate logged at
the end, and `loco eval` on the whole validation file), server updates,
simulated time, and the simulated time each method needs to reach the
synchronous run's final perplexity (first evaluation at or below it).  Writes
SVG plots of perplexity against rounds (pushes / M) and against simulated
seconds to PLOT_DIR (default docs/results) with `loco plot`.
"""
import json
import os
import re
import subprocess
import sys

LEVELS = ["none", "slight", "moderate", "very"]
METHODS = ["sync", "naive", "buffer", "dn", "dn-dylu", "dn-dylu-long", "dn-poly", "dn-lr035"]


def load(path):
    evals, inner = [], 0
    with open(os.path.join(path, "metrics.jsonl")) as f:
        for line in f:
            if line.strip():
                ev = json.loads(line)
                if ev["kind"] == "eval":
                    evals.append(ev)
    full = None
    ev_path = os.path.join(path, "eval.txt")
    if os.path.exists(ev_path):
        m = re.search(r"perplexity ([0-9.]+)", open(ev_path).read())
        full = float(m.group(1)) if m else None
    log = path + ".log"
    if os.path.exists(log):
        m = re.search(r"updates, ([0-9]+) inner steps", open(log).read())
        inner = int(m.group(1)) if m else 0
    return evals, full, inner


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    plots = sys.argv[2] if len(sys.argv) > 2 else "docs/results"
    loco = os.environ.get("LOCO", "./loco")
    for level in LEVELS:
        runs = {m: load(os.path.join(out, level + "-" + m)) for m in METHODS
                if os.path.exists(os.path.join(out, level + "-" + m, "metrics.jsonl"))}
        if not runs:
            continue
        print("\n**%s**\n" % level)
        # A run whose perplexity ends above 10x where the runs started has
        # diverged: it is reported, but left out of the plots, whose scale it
        # would flatten.
        start = min(r[0][0]["ppl"] for r in runs.values())
        diverged = {m for m, r in runs.items() if not r[0][-1]["ppl"] < 10 * start}
        # A target every converging run reaches: the highest of their best
        # perplexities.
        common = max(min(e["ppl"] for e in r[0]) for m, r in runs.items() if m not in diverged)
        t_common = {m: next((e["sim_s"] for e in r[0] if e["ppl"] <= common * (1 + 1e-9)), None)
                    for m, r in runs.items()}
        print("| method | val ppl (16 batches) | val ppl (whole file) | updates | inner steps | simulated time |"
              " time to sync's final ppl | speed-up | time to ppl %.0f | speed-up |" % common)
        print("|---|---|---|---|---|---|---|---|---|---|")
        target = runs["sync"][0][-1]["ppl"] if "sync" in runs else None
        t_sync = runs["sync"][0][-1]["sim_s"] if "sync" in runs else None
        for m, (evals, full, inner) in runs.items():
            last = evals[-1]
            reach = next((e["sim_s"] for e in evals if target and e["ppl"] <= target * (1 + 1e-9)), None)
            ppl = "diverged (%.3g)" % last["ppl"] if m in diverged else "%.2f" % last["ppl"]
            tc, ts = t_common.get(m), t_common.get("sync")
            print("| %s | %s | %s | %d | %d | %.0f s | %s | %s | %s | %s |" % (
                m, ppl, "%.2f" % full if full and m not in diverged else "-", last["updates"], inner, last["sim_s"],
                "%.0f s" % reach if reach else "not reached",
                "%.2fx" % (t_sync / reach) if reach and t_sync else "-",
                "%.0f s" % tc if tc else "not reached", "%.2fx" % (ts / tc) if tc and ts else "-"))
        names = [m for m in runs if m not in diverged]
        logs = [os.path.join(out, level + "-" + m, "metrics.jsonl") for m in names]
        base = [loco, "plot"] + logs + ["--eval-only", "--y", "ppl", "--labels", ",".join(names)]
        subprocess.check_call(base + ["--x", "rounds", "--title", "%s: validation perplexity against rounds "
                                      "(pushes / M)" % level, "--out",
                                      os.path.join(plots, "async_%s_rounds.svg" % level)])
        subprocess.check_call(base + ["--x", "sim_s", "--title", "%s: validation perplexity against simulated "
                                      "seconds" % level, "--out", os.path.join(plots, "async_%s_time.svg" % level)])


if __name__ == "__main__":
    main()
