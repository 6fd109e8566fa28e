#!/usr/bin/python3
"""The agent's training step in PyTorch on CPU, for bench/bench_agent.c:
the network of tests/ref_agent.py (the re-implementation the tests check
loco against), fp32, Adam, on the model and batch bench_agent wrote.

Usage: torch_agent.py IN --steps S --warmup W --threads N
Prints one line:  torch samples_per_s=<median> step_s=<median>
"""
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import ref_agent  # noqa: E402


def main():
    path = sys.argv[1]
    opts = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    steps, warmup, threads = int(opts["--steps"]), int(opts["--warmup"]), int(opts["--threads"])
    torch.set_num_threads(threads)
    cfg, names, p, bt = ref_agent.read_input(open(path, "rb").read(), torch.float32)
    B, T = cfg[-2], cfg[-1]
    opt = torch.optim.Adam([p[n] for n in names], lr=1e-4)
    times = []
    for s in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss, _ = ref_agent.forward(cfg, p, bt, torch.float32)
        loss.backward()
        opt.step()
        if s >= warmup:
            times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    print(f"torch samples_per_s={B * T / step:.1f} step_s={step:.4f}")


if __name__ == "__main__":
    main()
