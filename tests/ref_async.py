#!/usr/bin/python3
"""numpy reference for tests/test_async_rules.c (async_rules_match_numpy).

Usage: ref_async.py IN OUT

IN, written by the C test, holds initial parameters, a sequence of
pseudo-gradients with the staleness s of each, and a few server
configurations.  For each configuration this script weights every
pseudo-gradient by its staleness weight and runs the server's update rule
over the whole sequence, written from the formulas in docs/async.md (eps:
lr, beta: momentum, N: period):
  rule 1, naive:        m = beta*m + g;  theta = theta - eps*(g + beta*m)
  rule 0, sync, and
  rule 2, buffer:       buf = buf + g; once N are buffered:
                        a = buf/N;  m = beta*m + a;  theta = theta - eps*(a + beta*m);  buf = 0
  rule 3, dn:           t += 1;  buf = buf + g
                        if t % N == 0:  m = beta*m + buf/N;  theta = theta - eps*(g/N + beta*m);  buf = 0
                        else:           theta = theta - eps*(g/N)
with the staleness weight 1 (kind 0, constant) or (1 + s)^-power (kind 1,
poly) computed in float64 and rounded to float32.  Everything runs in
numpy float32 (every operation rounded once, no fused multiply-adds), and
once more in float64 from the same float32 inputs and weights, as a
calibration of how far fp32 rounding alone takes either side.

All numbers are native-endian.
  IN:  b"LOCOASY1"; int32 n_cases, pushes, n;
       float32 theta0[n]; float32 g[pushes][n]; int32 s[pushes];
       per case: int32 rule, period, stale_kind; float32 lr, momentum, power
  OUT: b"LOCOASYR";
       per case: float32 weight[pushes]; float32 theta[n], m[n], buf[n];
                 float64 theta64[n]; int32 arrivals, updates, pending
where arrivals, updates and pending are the counters of loco_async_state:
pushes received, times theta changed, and pushes in buf (for dn, t mod N).

Exit status: 0 on success, 3 if numpy cannot be imported, 2 on a bad file.
"""
import struct
import sys

try:
    import numpy as np
except ImportError as e:
    print(f"ref_async.py: cannot import numpy ({e}); "
          "apt-get install python3-numpy", file=sys.stderr)
    sys.exit(3)

SYNC, NAIVE, BUFFER, DN = 0, 1, 2, 3


def weight(kind, power, s):
    """The staleness weight of a pseudo-gradient s updates old, as float32."""
    if kind == 0:
        return np.float32(1.0)
    if kind == 1:
        return np.float32((1.0 + max(s, 0)) ** -float(power))
    raise ValueError(f"unknown staleness kind {kind}")


def run(rule, N, lr, beta, theta0, grads, weights, dtype):
    """Runs one rule over the weighted pushes; returns theta, m, buf and the
    counters.  dtype sets the arithmetic: every scalar is converted to it,
    so numpy never widens a float32 operation."""
    lr, beta, Nf = dtype(lr), dtype(beta), dtype(N)
    theta = theta0.astype(dtype)
    m = np.zeros_like(theta)
    buf = np.zeros_like(theta)
    t = pending = updates = 0
    for g32, w in zip(grads, weights):
        g = g32.astype(dtype) * dtype(w)
        t += 1
        if rule == NAIVE:
            m = beta * m + g
            theta = theta - lr * (g + beta * m)
            updates += 1
        elif rule in (SYNC, BUFFER):
            buf = buf + g
            pending += 1
            if pending == N:
                a = buf / Nf
                m = beta * m + a
                theta = theta - lr * (a + beta * m)
                buf = np.zeros_like(theta)
                pending = 0
                updates += 1
        elif rule == DN:
            buf = buf + g
            pending += 1
            if t % N == 0:
                m = beta * m + buf / Nf
                theta = theta - lr * (g / Nf + beta * m)
                buf = np.zeros_like(theta)
                pending = 0
            else:
                theta = theta - lr * (g / Nf)
            updates += 1
        else:
            raise ValueError(f"unknown rule {rule}")
    return theta, m, buf, (t, updates, pending)


def main(argv):
    if len(argv) != 3:
        print("usage: ref_async.py IN OUT", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        data = f.read()
    if data[:8] != b"LOCOASY1":
        print("ref_async.py: bad magic in input", file=sys.stderr)
        return 2
    pos = 8

    def take(fmt, count):
        nonlocal pos
        size = struct.calcsize(f"={count}{fmt}")
        if pos + size > len(data):
            raise ValueError("input file is truncated")
        out = struct.unpack_from(f"={count}{fmt}", data, pos)
        pos += size
        return out

    def floats(count):
        nonlocal pos
        if pos + 4 * count > len(data):
            raise ValueError("input file is truncated")
        out = np.frombuffer(data, dtype=np.float32, count=count, offset=pos).copy()
        pos += 4 * count
        return out

    try:
        n_cases, pushes, n = take("i", 3)
        theta0 = floats(n)
        grads = [floats(n) for _ in range(pushes)]
        stale = take("i", pushes)
        out = [b"LOCOASYR"]
        for _ in range(n_cases):
            rule, period, kind = take("i", 3)
            # The floats become Python doubles with exactly the C values.
            lr, beta, power = take("f", 3)
            if period < 1:
                raise ValueError(f"period {period} < 1")
            weights = [weight(kind, power, s) for s in stale]
            th, m, buf, counters = run(rule, period, lr, beta, theta0, grads, weights, np.float32)
            th64, _, _, _ = run(rule, period, lr, beta, theta0, grads, weights, np.float64)
            out.append(np.asarray(weights, dtype=np.float32).tobytes())
            for x in (th, m, buf):
                out.append(x.astype(np.float32).tobytes())
            out.append(th64.astype(np.float64).tobytes())
            out.append(struct.pack("=3i", *counters))
    except ValueError as e:
        print(f"ref_async.py: {e}", file=sys.stderr)
        return 2
    if pos != len(data):
        print("ref_async.py: trailing bytes in input", file=sys.stderr)
        return 2
    with open(argv[2], "wb") as f:
        f.write(b"".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
