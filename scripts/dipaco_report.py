#!/usr/bin/python3
"""Table and plot of the DiPaCo experiments (scripts/dipaco_experiments.sh).

Usage: dipaco_report.py OUT_DIR [PLOT_DIR]

Reads OUT_DIR/<run>/eval.txt (and eval_reroute.txt for DiPaCo runs), the
training logs OUT_DIR/<run>.log and OUT_DIR/<run>/metrics.jsonl, prints a
Markdown table and writes the training-loss curves to PLOT_DIR (default
docs/results) with `loco plot`.
"""
import collections
import json
import math
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
    ("dense-s-x16", "dense S for 16x the steps (the compute of 16 paths)"),
    ("dense-s-1200", "dense S, 2x the steps"),
    ("dense-4s-1200", "dense about 4S, lr 1e-3, 2x the steps"),
    ("dense-16s-1200", "dense about 16S, lr 5e-4, 2x the steps"),
    ("dense-s-warm", "dense S from dense S: 600 + 600 steps, the warm DiPaCo runs' schedule"),
    ("kmeans-warm", "DiPaCo from dense S: 600 + 600 steps, k-means"),
    ("random-warm", "DiPaCo from dense S: 600 + 600 steps, random routing"),
    ("disc-warm", "DiPaCo from dense S: 600 + 600 steps, discriminative"),
    ("kmeans-sfeat-warm", "DiPaCo from dense S: 600 + 600 steps, k-means on dense S's features"),
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


GROUPS = [
    ("From scratch: every model and every path trains 600 steps", "dense-s",
     ["dense-s", "dense-4s", "dense-16s", "dense-4s-lr1e-3", "dense-16s-lr5e-4", "random", "kmeans", "disc",
      "dense-s-x16"]),
    ("1200 steps for every model and every path: dense models from scratch or continued from dense S, "
     "DiPaCo from dense S at step 600", "dense-s-1200",
     ["dense-s-1200", "dense-4s-1200", "dense-16s-1200", "dense-s-warm", "random-warm", "kmeans-warm", "disc-warm",
      "kmeans-sfeat-warm"]),
]


def nmi(a, b):
    """Normalised mutual information sqrt-normalised: I(a; b) / sqrt(H(a) H(b))."""
    n = len(a)
    ca, cb, cab = collections.Counter(a), collections.Counter(b), collections.Counter(zip(a, b))
    h = lambda c: -sum(v / n * math.log(v / n) for v in c.values())
    i = sum(v / n * math.log(v * n / (ca[x] * cb[y])) for (x, y), v in cab.items())
    return i / math.sqrt(h(ca) * h(cb)) if h(ca) > 0 and h(cb) > 0 else 0.0


def routing_vs_sources(out, loco):
    """How much each router's paths say about a document's source corpus,
    on the training and validation documents: NMI(source, path), and the
    share of each source's validation documents in its most common path."""
    rows = []
    for router in ["random", "kmeans", "kmeans_sfeat"]:
        rpath = os.path.join(out, "router_%s.json" % router)
        if not os.path.exists(rpath):
            continue
        cells = []
        for split, shard in [("train", "mix.train.bin"), ("val", "mix.val.bin")]:
            src = [json.loads(l)["source"] for l in open(os.path.join(out, "mix_%s.jsonl" % split))]
            tmp = os.path.join(out, "assign_%s_%s.txt" % (router, split))
            subprocess.check_call([loco, "route", "assign", "--router", rpath, "--train-shard",
                                   os.path.join(out, shard), "--out", tmp], stdout=subprocess.DEVNULL)
            paths = [int(l.split()[0]) for l in open(tmp) if l.strip()]
            cells.append(nmi(src, paths))
            if split == "val":
                by = collections.defaultdict(collections.Counter)
                for s_, p_ in zip(src, paths):
                    by[s_][p_] += 1
                top = {s_: c.most_common(1)[0][1] / sum(c.values()) for s_, c in by.items()}
        rows.append((router, cells[0], cells[1], top))
    if not rows:
        return
    sources = sorted(rows[0][3])
    print("\nRouting against the source corpora\n")
    print("| router | NMI(source, path), train | NMI, val | " + " | ".join(
        "%s: top path" % s_ for s_ in sources) + " |")
    print("|---|---|---|" + "---|" * len(sources))
    for router, nt, nv, top in rows:
        print("| %s | %.3f | %.3f | %s |" % (router, nt, nv, " | ".join("%.0f%%" % (100 * top[s_])
                                                                        for s_ in sources)))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    plots = sys.argv[2] if len(sys.argv) > 2 else "docs/results"
    desc = dict(RUNS)
    present = []
    for title, base_name, names in GROUPS:
        print("\n%s\n" % title)
        print("| run | setting | val ppl | vs %s | re-routed every 64 | params per token | params in all | "
              "sent (up+down) | train time |" % base_name)
        print("|---|---|---|---|---|---|---|---|---|")
        base = grab(os.path.join(out, base_name, "eval.txt"), r"val_ppl ([0-9.]+)")
        for name in names:
            ev = os.path.join(out, name, "eval.txt")
            ppl = grab(ev, r"val_ppl ([0-9.]+)")
            if ppl is None:
                continue
            present.append(name)
            log = os.path.join(out, name + ".log")
            touched = grab(ev, r"parameters per token: ([0-9]+)", int)
            total = grab(log, r"all modules ([0-9]+)", int) or touched
            rer = grab(os.path.join(out, name, "eval_reroute.txt"), r"val_ppl ([0-9.]+)")
            down = grab(log, r"up \+ ([0-9.]+ [kMGT]?B) down", str)
            wall = grab(log, r"done: [^\n]* in ([0-9.]+) s[;( ]")
            rel = "%+.1f%%" % (100 * (ppl / base - 1)) if base and name != base_name else "-"
            # dense-s-warm runs as DiLoCo with one worker, which counts bytes no one sends.
            sent = "%s + %s" % (grab(log, r"sent ([0-9.]+ [kMGT]?B) up", str), down) \
                if down and not name.startswith("dense") else "-"
            print("| %s | %s | %.2f | %s | %s | %.2f M | %.2f M | %s | %s |" % (
                name, desc[name], ppl, rel, "%.2f" % rer if rer else "-", touched / 1e6, total / 1e6, sent,
                "%.0f s" % wall if wall else "-"))
    loco = os.environ.get("LOCO", "./loco")
    routing_vs_sources(out, loco)
    # The runs of STEPS steps from scratch in one plot; the dense models
    # with more steps are in the table only (their x axis would hide the rest).
    longer = ("dense-s-warm", "dense-s-x16", "dense-s-1200", "dense-4s-1200", "dense-16s-1200", "kmeans-warm", "random-warm", "disc-warm", "kmeans-sfeat-warm")
    short = [n for n in present if n not in longer]
    if short:
        subprocess.check_call([loco, "plot"] + [os.path.join(out, n, "metrics.jsonl") for n in short] +
                              ["--y", "loss", "--x", "step", "--labels", ",".join(short), "--title",
                               "Training loss against steps (DiPaCo: mean over paths, each on its shard)",
                               "--out", os.path.join(plots, "dipaco_train_loss.svg")], stdout=sys.stderr)
    # The runs continued from dense S for the same 600 steps, against each other.
    warm = [n for n in ("dense-s-warm", "random-warm", "kmeans-warm", "disc-warm", "kmeans-sfeat-warm")
            if n in present]
    if warm:
        subprocess.check_call([loco, "plot"] + [os.path.join(out, n, "metrics.jsonl") for n in warm] +
                              ["--y", "loss", "--x", "step", "--labels", ",".join(warm), "--title",
                               "Training loss, 600 steps from dense S at step 600",
                               "--out", os.path.join(plots, "dipaco_warm_loss.svg")], stdout=sys.stderr)


if __name__ == "__main__":
    main()
