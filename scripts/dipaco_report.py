#!/usr/bin/python3
"""Table and plot of the DiPaCo experiments (scripts/dipaco_experiments.sh).

Usage: dipaco_report.py OUT_DIR [PLOT_DIR]

Reads OUT_DIR/<run>/eval.txt (and eval_reroute.txt for DiPaCo runs), the
training logs OUT_DIR/<run>.log and OUT_DIR/<run>/metrics.jsonl, prints a
Markdown table and writes the training-loss curves to PLOT_DIR (default
docs/results) with `loco plot`.
"""
import os
import re
import subprocess
import sys

RUNS = [
    ("dense-s", "dense S: L=2 C=128"),
    ("dense-4s", "dense about 4S: L=4 C=256"),
    ("dense-16s", "dense about 16S: L=8 C=384"),
    ("dense-4s-lr1e-3", "dense about 4S, lr 1e-3"),
    ("dense-16s-lr5e-4", "dense about 16S, lr 5e-4"),
    ("random", "DiPaCo 16 paths of S, random routing"),
    ("kmeans", "DiPaCo 16 paths of S, k-means routing"),
    ("disc", "DiPaCo 16 paths of S, k-means then discriminative routing"),
    ("kmeans-h20", "DiPaCo 16 paths of S, k-means routing, H=20"),
    ("dense-s-x16", "dense S for 16x the steps (the compute of 16 paths)"),
    ("dense-s-1200", "dense S, 2x the steps"),
    ("dense-4s-1200", "dense about 4S, lr 1e-3, 2x the steps"),
    ("kmeans-warm", "DiPaCo from dense S: 600 + 600 steps, k-means"),
    ("disc-warm", "DiPaCo from dense S: 600 + 600 steps, discriminative"),
]


def grab(path, pattern, cast=float):
    if not os.path.exists(path):
        return None
    m = re.search(pattern, open(path).read())
    return cast(m.group(1)) if m else None


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
    print("| run | setting | val ppl | re-routed every 64 | params per token | params in all | sent (up+down) | "
          "train time |")
    print("|---|---|---|---|---|---|---|---|")
    base = None
    present = []
    for name, desc in RUNS:
        ev = os.path.join(out, name, "eval.txt")
        ppl = grab(ev, r"val_ppl ([0-9.]+)")
        if ppl is None:
            continue
        present.append(name)
        log = os.path.join(out, name + ".log")
        touched = grab(ev, r"parameters per token: ([0-9]+)", int)
        total = grab(log, r"all modules ([0-9]+)", int) or touched
        rer = grab(os.path.join(out, name, "eval_reroute.txt"), r"val_ppl ([0-9.]+)")
        up = grab(log, r"sent ([0-9.]+ [kMGT]?B) up")
        down = grab(log, r"up \+ ([0-9.]+ [kMGT]?B) down", str)
        wall = grab(log, r"in ([0-9.]+) s;")
        if name == "dense-s":
            base = ppl
        rel = " (%+.1f%%)" % (100 * (ppl / base - 1)) if base and name != "dense-s" else ""
        sent = "%s + %s" % (grab(log, r"sent ([0-9.]+ [kMGT]?B) up", str), down) if down else "-"
        print("| %s | %s | %.2f%s | %s | %.2f M | %.2f M | %s | %s |" % (
            name, desc, ppl, rel, "%.2f" % rer if rer else "-", touched / 1e6, total / 1e6, sent,
            "%.0f s" % wall if wall else "-"))
    loco = os.environ.get("LOCO", "./loco")
    # The runs of STEPS steps from scratch in one plot; the dense models
    # with more steps are in the table only (their x axis would hide the rest).
    longer = ("dense-s-x16", "dense-s-1200", "dense-4s-1200", "kmeans-warm", "disc-warm")
    short = [n for n in present if n not in longer]
    if short:
        subprocess.check_call([loco, "plot"] + [os.path.join(out, n, "metrics.jsonl") for n in short] +
                              ["--y", "loss", "--x", "step", "--labels", ",".join(short), "--title",
                               "Training loss against steps (DiPaCo: mean over paths, each on its shard)",
                               "--out", os.path.join(plots, "dipaco_train_loss.svg")])


if __name__ == "__main__":
    main()
