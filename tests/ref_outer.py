#!/usr/bin/python3
"""PyTorch reference for tests/test_outer.c (outer_matches_torch).

Usage: ref_outer.py IN OUT

IN, written by the C test, holds a few outer-optimizer configurations, the
initial parameters and a fresh target (the workers' average) for every outer
step.  For each configuration this script runs the optimizer DiLoCo uses as
its outer optimizer, with the pseudo-gradient grad = theta - target:
  kind 0: torch.optim.SGD(lr, momentum=mu, nesterov=True)
  kind 1: torch.optim.SGD(lr, momentum=mu)
  kind 2: torch.optim.Adam(lr, betas=(mu, beta2), eps)
all single-tensor (foreach=False), once in float32 and once in float64.

All numbers are native-endian.
  IN:  b"LOCOOUT1"; int32 n_configs, steps, total;
       per config: int32 kind; float32 lr, mu, beta2, eps;
       float32 theta0[total]; float32 target[steps][total]
  OUT: b"LOCOOUTR"; int32 fused;
       per config: float32 theta[total], s1[total], s2[total];
                   float64 theta64[total]
where s1, s2 are the momentum buffer and zeros for SGD (zeros when torch
keeps no buffer, at momentum 0), exp_avg and exp_avg_sq for Adam, and fused
is 1 if torch runs its AVX2 or AVX512 kernels (fused multiply-adds in add_
and addcmul_), 0 if its DEFAULT ones.

Exit status: 0 on success, 3 if torch cannot be imported, 2 on a bad file.
"""
import struct
import sys

try:
    import torch
except ImportError as e:
    print(f"ref_outer.py: cannot import torch ({e}); "
          "apt-get install python3-torch", file=sys.stderr)
    sys.exit(3)

from ref_io import Reader, cpu_kernels_fuse  # noqa: E402 (after the torch check)


def run(kind, lr, mu, beta2, eps, theta0, targets, dtype):
    """Runs the outer optimizer over the targets; returns theta and state."""
    p = torch.nn.Parameter(theta0.to(dtype).clone())
    if kind == 0:
        opt = torch.optim.SGD([p], lr=lr, momentum=mu, nesterov=True, foreach=False)
    elif kind == 1:
        opt = torch.optim.SGD([p], lr=lr, momentum=mu, foreach=False)
    elif kind == 2:
        opt = torch.optim.Adam([p], lr=lr, betas=(mu, beta2), eps=eps, foreach=False)
    else:
        raise ValueError(f"unknown kind {kind}")
    for target in targets:
        with torch.no_grad():
            # The pseudo-gradient: how far the workers moved, reversed.
            p.grad = p.detach() - target.to(dtype)
        opt.step()
    state = opt.state[p]
    zeros = torch.zeros_like(p.detach())
    if kind == 2:
        s1, s2 = state["exp_avg"], state["exp_avg_sq"]
    else:
        buf = state.get("momentum_buffer")
        s1, s2 = (buf if buf is not None else zeros), zeros
    return p.detach(), s1, s2


def main(argv):
    if len(argv) != 3:
        print("usage: ref_outer.py IN OUT", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    with open(argv[1], "rb") as f:
        data = f.read()
    if data[:8] != b"LOCOOUT1":
        print("ref_outer.py: bad magic in input", file=sys.stderr)
        return 2
    r = Reader(data)
    r.pos = 8
    n_configs, steps, total = r.take("i", 3)
    out = [b"LOCOOUTR", struct.pack("=i", int(cpu_kernels_fuse()))]
    for _ in range(n_configs):
        (kind,) = r.take("i", 1)
        lr, mu, beta2, eps = r.take("f", 4)
        theta0 = r.tensor(total)
        targets = [r.tensor(total) for _ in range(steps)]
        # The floats above become Python doubles with exactly the C values.
        p32, s1, s2 = run(kind, lr, mu, beta2, eps, theta0, targets, torch.float32)
        p64, _, _ = run(kind, lr, mu, beta2, eps, theta0, targets, torch.float64)
        for t in (p32, s1, s2):
            out.append(struct.pack(f"={total}f", *t.tolist()))
        out.append(struct.pack(f"={total}d", *p64.tolist()))
    if r.pos != len(data):
        print("ref_outer.py: trailing bytes in input", file=sys.stderr)
        return 2
    with open(argv[2], "wb") as f:
        f.write(b"".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
