#!/usr/bin/env python3
"""Tables of docs/results/agents.md from the evaluations of scripts/agent_results.sh.

    scripts/agent_report.py DATA [PLOTDIR]

Reads DATA/runs/<row>/eval.md (the tables `loco agent eval` writes) and prints,
in Markdown: success against demonstrations per task (rows demos-N), the
demonstrations each task needs for 90% and 99% success (BabyAI's protocol: the
smallest count whose success reaches it, "> max" if none does), multi-task
against single-task (demos-100 and single-TASK), the observation ablation
(obs-dom, obs-pixels, obs-both), and the spread between seeds (seed-S) and
the effect of longer training (steps-K).  With PLOTDIR it also writes one metrics log
per task of success against demonstrations (PLOTDIR/curve_<task>.jsonl), which
`loco plot --x demos --y success` draws.
"""
import json
import os
import re
import sys

SUBSET = ["click-test", "enter-text", "login-user", "click-button", "click-checkboxes", "click-tab-2"]
DEMOS = [10, 30, 100, 300, 1000]


def read_eval(path):
    """{task: (success, lo, hi)} and the mean, or None if the file is absent."""
    if not os.path.exists(path):
        return None
    rows = {}
    for line in open(path):
        m = re.match(r"\| ([a-z0-9-]+) \| (\d+) \| ([0-9.]+) \| \[([0-9.]+), ([0-9.]+)\] \|", line)
        if m:
            rows[m.group(1)] = (float(m.group(3)), float(m.group(4)), float(m.group(5)))
    return rows


def cell(r, t):
    return "%.2f" % r[t][0] if r and t in r else "-"


def mean(r, tasks):
    v = [r[t][0] for t in tasks if r and t in r]
    return "%.3f" % (sum(v) / len(v)) if r and len(v) == len(tasks) else "-"


def main():
    data = sys.argv[1]
    plotdir = sys.argv[2] if len(sys.argv) > 2 else None
    ev = lambda row: read_eval(os.path.join(data, "runs", row, "eval.md"))

    curve = {n: ev("demos-%d" % n) for n in DEMOS}
    have = [n for n in DEMOS if curve[n]]
    print("### Success against demonstrations per task\n")
    print("| task | " + " | ".join("%d demos" % n for n in have) + " | demos for 90% | demos for 99% |")
    print("|---|" + "---:|" * len(have) + "---:|---:|")
    for t in SUBSET:
        need = []
        for goal in (0.9, 0.99):
            hit = [n for n in have if curve[n][t][0] >= goal]
            need.append(str(hit[0]) if hit else "> %d" % have[-1] if have else "-")
        print("| %s | %s | %s |" % (t, " | ".join(cell(curve[n], t) for n in have), " | ".join(need)))
    print("| **mean** | %s | | |\n" % " | ".join("**%s**" % mean(curve[n], SUBSET) for n in have))

    multi = curve[100]
    single = {t: ev("single-" + t) for t in SUBSET}
    print("### Multi-task against single-task, 100 demonstrations per task\n")
    print("| task | multi-task (6 tasks, one network) | 95% interval | single-task (one network per task) | 95% interval |")
    print("|---|---:|---|---:|---|")
    for t in SUBSET:
        s = single[t]
        iv = lambda r: "[%.2f, %.2f]" % r[t][1:] if r and t in r else "-"
        print("| %s | %s | %s | %s | %s |" % (t, cell(multi, t), iv(multi), cell(s, t), iv(s)))
    sm = [single[t][t][0] for t in SUBSET if single[t] and t in single[t]]
    print("| **mean** | **%s** | | **%s** | |\n" % (mean(multi, SUBSET),
                                                    "%.3f" % (sum(sm) / len(sm)) if len(sm) == len(SUBSET) else "-"))

    obs = {o: ev("obs-" + o) for o in ("dom", "pixels", "both")}
    print("### Observations, 100 demonstrations per task, equal steps\n")
    print("| task | --obs dom | --obs pixels | --obs both |")
    print("|---|---:|---:|---:|")
    for t in SUBSET:
        print("| %s | %s |" % (t, " | ".join(cell(obs[o], t) for o in obs)))
    print("| **mean** | %s |" % " | ".join("**%s**" % mean(obs[o], SUBSET) for o in obs))

    runs = [("demos-100 (seed 1)", ev("demos-100"))] + [("seed %d" % k, ev("seed-%d" % k)) for k in (2, 3)]
    runs += [("1000 demos, %d steps" % 400, curve[1000]), ("1000 demos, 1200 steps", ev("steps-1200"))]
    print("\n### Spread between runs and longer training\n")
    print("| task | " + " | ".join(n for n, _ in runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for t in SUBSET:
        print("| %s | %s |" % (t, " | ".join(cell(r, t) for _, r in runs)))
    print("| **mean** | %s |" % " | ".join("**%s**" % mean(r, SUBSET) for _, r in runs))

    if plotdir:
        os.makedirs(plotdir, exist_ok=True)
        for t in SUBSET + ["mean"]:
            with open(os.path.join(plotdir, "curve_%s.jsonl" % t), "w") as f:
                for i, n in enumerate(have):
                    r = curve[n]
                    p = sum(r[u][0] for u in SUBSET) / len(SUBSET) if t == "mean" else r[t][0]
                    f.write(json.dumps({"kind": "eval", "step": i, "demos": n, "success": p}) + "\n")


if __name__ == "__main__":
    main()
