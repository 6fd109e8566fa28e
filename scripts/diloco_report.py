#!/usr/bin/python3
"""Table and plots of the DiLoCo experiments (scripts/diloco_experiments.sh).

Usage: diloco_report.py OUT_DIR [PLOT_DIR]

Reads OUT_DIR/<run>/metrics.jsonl (the training log) and OUT_DIR/<run>/eval.txt
(`loco eval` on the whole validation file) for every run present, prints a
Markdown table, and writes SVG plots of validation perplexity against inner
step and against bytes communicated to PLOT_DIR (default docs/results) with
`loco plot`.
"""
import json
import os
import re
import subprocess
import sys

RUNS = [
    ("single", "1 worker, batch 8 (1/8 of the compute)"),
    ("ddp", "DDP, M=8, gradients averaged every step"),
    ("h10", "DiLoCo M=8, H=10"),
    ("h50", "DiLoCo M=8, H=50"),
    ("h100", "DiLoCo M=8, H=100"),
    ("h500", "DiLoCo M=8, H=500"),
    ("noniid", "DiLoCo H=50, non-i.i.d. (k-means shards)"),
    ("drop30", "DiLoCo H=50, 30% of pseudo-gradients dropped"),
    ("drop50", "DiLoCo H=50, 50% dropped"),
    ("int8", "DiLoCo H=50, int8 pseudo-gradients (per-row scale)"),
    ("int8t", "DiLoCo H=50, int8 pseudo-gradients (per-tensor scale)"),
    ("adaptive", "DiLoCo H=50, ramp-up 1 to 8 workers"),
    ("ddp-b32", "DDP, M=8, batch 32 per worker, 250 steps"),
    ("h10-b32", "DiLoCo M=8, H=10, batch 32, 250 steps"),
    ("h50-b32", "DiLoCo M=8, H=50, batch 32, 250 steps"),
]


def load(out, name):
    """The run's last eval event, totals and full-validation perplexity, or None."""
    path = os.path.join(out, name, "metrics.jsonl")
    if not os.path.exists(path):
        return None
    evals = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                ev = json.loads(line)
                if ev.get("kind") == "eval":
                    evals.append(ev)
    full = None
    ev_path = os.path.join(out, name, "eval.txt")
    if os.path.exists(ev_path):
        m = re.search(r"perplexity ([0-9.]+)", open(ev_path).read())
        full = float(m.group(1)) if m else None
    log = os.path.join(out, name + ".log")
    wall = None
    if os.path.exists(log):
        m = re.search(r"steps per worker in ([0-9.]+) s", open(log).read())
        wall = float(m.group(1)) if m else None
    return {"last": evals[-1], "full_ppl": full, "wall": wall}


def fmt_bytes(b):
    for unit in ["B", "kB", "MB", "GB", "TB"]:
        if b < 1000:
            return "%.3g %s" % (b, unit)
        b /= 1000
    return "%.3g PB" % b


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    plots = sys.argv[2] if len(sys.argv) > 2 else "docs/results"
    res = {name: load(out, name) for name, _ in RUNS}
    ddp = res.get("ddp")
    ddp32 = res.get("ddp-b32")
    print("| run | setting | val ppl (whole file) | vs DDP | bytes sent (up+down) | less than DDP | "
          "simulated time | real time |")
    print("|---|---|---|---|---|---|---|---|")
    for name, desc in RUNS:
        r = res[name]
        if r is None:
            continue
        base = ddp32 if name.endswith("-b32") else ddp
        ppl = r["full_ppl"]
        b = r["last"]["bytes"]
        rel = "%+.2f%%" % (100 * (ppl / base["full_ppl"] - 1)) if base and ppl and base["full_ppl"] else "-"
        red = "%.0fx" % (base["last"]["bytes"] / b) if base and b and name != "single" else "-"
        print("| %s | %s | %s | %s | %s | %s | %.0f s | %s |" % (
            name, desc, "%.2f" % ppl if ppl else "-", rel, fmt_bytes(b) if name != "single" else "-", red,
            r["last"]["sim_s"], "%.0f s" % r["wall"] if r["wall"] else "-"))
    names = [n for n, _ in RUNS if res[n] is not None and not n.endswith("-b32")]
    logs = [os.path.join(out, n, "metrics.jsonl") for n in names]
    loco = os.environ.get("LOCO", "./loco")
    cmd = [loco, "plot"] + logs + ["--eval-only", "--y", "ppl", "--logy", "--labels", ",".join(names)]
    subprocess.check_call(cmd + ["--x", "step", "--title", "Validation perplexity against inner step",
                                  "--out", os.path.join(plots, "diloco_ppl_step.svg")])
    comm = [n for n in names if n != "single"]
    subprocess.check_call([loco, "plot"] + [os.path.join(out, n, "metrics.jsonl") for n in comm] +
                          ["--eval-only", "--y", "ppl", "--logy", "--labels", ",".join(comm), "--x", "bytes",
                           "--logx", "--title", "Validation perplexity against bytes communicated",
                           "--out", os.path.join(plots, "diloco_ppl_bytes.svg")])


if __name__ == "__main__":
    main()
