#!/usr/bin/python3
"""PyTorch reference for tests/test_optim.c (adamw_matches_torch).

Usage: ref_adamw.py IN OUT

IN, written by the C test, holds a few parameter tensors, their initial
values and a fresh gradient for every step.  This script runs what nanoGPT
runs on them: torch.nn.utils.clip_grad_norm_ over all tensors, then one
torch.optim.AdamW step (the default single-tensor path) with the learning rate
the C side used at that step.  OUT receives the final parameters and moments,
torch's pre-clipping norm at every step, and nanoGPT's get_lr recomputed here,
so that the C test can check its optimizer, its norm and its schedule.

All numbers are native-endian, 4 bytes each.
  IN:  b"LOCOADW1"; int32 n_tensors, steps, warmup_steps, max_steps;
       float32 beta1, beta2, eps, grad_clip, lr, min_lr;
       int32 size[n_tensors]; float32 weight_decay[n_tensors];
       float32 lr_used[steps]; float32 p0[total]; float32 grad[steps][total]
  OUT: b"LOCOADWR"; int32 fused; float32 p[total], m[total], v[total];
       float32 norm[steps]; float32 lr_ref[steps]
where fused is 1 if torch runs its AVX2 or AVX512 kernels, whose add_ and
addcmul_ use fused multiply-adds, and 0 if it runs its plain DEFAULT kernels.

Exit status: 0 on success, 3 if torch cannot be imported, 2 on a bad file.
"""
import math
import struct
import sys

try:
    import torch
except ImportError as e:
    print(f"ref_adamw.py: cannot import torch ({e}); "
          "apt-get install python3-torch", file=sys.stderr)
    sys.exit(3)

from ref_io import Reader, cpu_kernels_fuse  # noqa: E402 (after the torch check)


def get_lr(it, lr, min_lr, warmup, max_steps):
    """nanoGPT's schedule: linear warm-up, then cosine decay to min_lr."""
    if warmup > 0 and it < warmup:
        return lr * (it + 1) / warmup
    if max_steps <= warmup:
        return lr
    if it >= max_steps:
        return min_lr
    decay_ratio = (it - warmup) / (max_steps - warmup)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (lr - min_lr)


def main(argv):
    if len(argv) != 3:
        print("usage: ref_adamw.py IN OUT", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    with open(argv[1], "rb") as f:
        data = f.read()
    if data[:8] != b"LOCOADW1":
        print("ref_adamw.py: bad magic in input", file=sys.stderr)
        return 2
    r = Reader(data)
    r.pos = 8
    n_tensors, steps, warmup, max_steps = r.take("i", 4)
    beta1, beta2, eps, clip, lr_peak, min_lr = r.take("f", 6)
    sizes = r.take("i", n_tensors)
    wds = r.take("f", n_tensors)
    lr_used = r.take("f", steps)
    total = sum(sizes)
    p0 = r.tensor(total)
    grads = [r.tensor(total) for _ in range(steps)]
    if r.pos != len(data):
        print("ref_adamw.py: trailing bytes in input", file=sys.stderr)
        return 2

    # The floats read above become Python doubles with exactly the values the
    # C side holds, so both sides start from the same hyper-parameters.
    params = [torch.nn.Parameter(t.clone()) for t in torch.split(p0, list(sizes))]
    groups = [{"params": [p], "weight_decay": wd} for p, wd in zip(params, wds)]
    opt = torch.optim.AdamW(groups, lr=lr_peak, betas=(beta1, beta2), eps=eps,
                            foreach=False)
    norms = []
    for s in range(steps):
        for p, g in zip(params, torch.split(grads[s], list(sizes))):
            p.grad = g.clone()
        if clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, clip)
        else:
            norm = torch.norm(torch.stack([p.grad.norm() for p in params]))
        norms.append(float(norm))
        for group in opt.param_groups:
            group["lr"] = lr_used[s]
        opt.step()

    lr_ref = [get_lr(s, lr_peak, min_lr, warmup, max_steps) for s in range(steps)]
    with torch.no_grad():
        p = torch.cat([q.detach() for q in params])
        m = torch.cat([opt.state[q]["exp_avg"] for q in params])
        v = torch.cat([opt.state[q]["exp_avg_sq"] for q in params])
    with open(argv[2], "wb") as f:
        f.write(b"LOCOADWR")
        f.write(struct.pack("=i", int(cpu_kernels_fuse())))
        for t in (p, m, v):
            f.write(struct.pack(f"={total}f", *t.tolist()))
        f.write(struct.pack(f"={steps}f", *norms))
        f.write(struct.pack(f"={steps}f", *lr_ref))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
