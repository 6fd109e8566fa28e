#!/usr/bin/python3
"""PyTorch reference for tests/test_route.c (route_kmeans_matches_torch,
route_linear_matches_torch).

Usage: ref_route.py IN OUT

IN starts with a mode.  b"LOCORTK1": Lloyd's algorithm from given centroids,
exactly as src/route/kmeans.c runs it (nearest centroid by squared distance in
float64, ties to the lower index; an empty cluster takes the row farthest from
its own centroid among clusters that keep a row; stop when no label changes
after the first round; centroids = float32(mean of their rows in float64)).
b"LOCORTL1": multinomial logistic regression on standardised features (mean,
population std; 1 where it is 0), W and b from zero, `epochs` steps of
torch.optim.SGD(lr) on cross_entropy + (l2 / 2) |W|^2, in float32 and float64.

All numbers native-endian.
  kmeans IN:  int32 n, d, k, max_iter; float32 X[n*d], init[k*d]
        OUT:  b"LOCORTKR"; float32 C[k*d]; int32 assign[n]; float64 objective; int32 iters
  linear IN:  int32 n, d, P, epochs; float32 l2, lr; float32 X[n*d]; int32 labels[n]
        OUT:  b"LOCORTLR"; float32 W[P*d], b[P]; float64 W64[P*d], b64[P]

Exit status: 0 on success, 3 if torch cannot be imported, 2 on a bad file.
"""
import struct
import sys

try:
    import torch
except ImportError as e:
    print(f"ref_route.py: cannot import torch ({e}); apt-get install python3-torch", file=sys.stderr)
    sys.exit(3)

from ref_io import Reader  # noqa: E402 (after the torch check)


def lloyd(X, C, max_iter):
    n, k = X.shape[0], C.shape[0]
    assign = torch.full((n,), -1, dtype=torch.long)
    iters = max_iter
    for it in range(max_iter):
        D = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)
        # argmin's tie rule is not documented: take the lowest index explicitly.
        mins = D.min(1).values
        new = torch.tensor([int((D[i] == mins[i]).nonzero()[0]) for i in range(n)])
        dist = D[torch.arange(n), new].clone()
        changed = int((new != assign).sum())
        assign = new
        sizes = torch.bincount(assign, minlength=k)
        for c in range(k):
            if sizes[c] > 0:
                continue
            far = -1
            for i in range(n):
                if sizes[assign[i]] > 1 and (far < 0 or dist[i] > dist[far]):
                    far = i
            if far < 0:
                break
            sizes[assign[far]] -= 1
            assign[far] = c
            sizes[c] = 1
            dist[far] = -1.0
            changed += 1
        if changed == 0 and it > 0:
            iters = it + 1
            break
        for c in range(k):
            if sizes[c] > 0:
                C[c] = X[assign == c].mean(0).to(torch.float32).to(torch.float64)
    obj = float(((X - C[assign]) ** 2).sum())
    return C, assign, obj, iters


def linear(X, y, P, epochs, l2, lr, dtype):
    X = X.to(dtype)
    mean, std = X.mean(0), X.std(0, unbiased=False)
    std[std == 0] = 1
    Z = (X - mean) / std
    W = torch.zeros(P, X.shape[1], dtype=dtype, requires_grad=True)
    b = torch.zeros(P, dtype=dtype, requires_grad=True)
    opt = torch.optim.SGD([W, b], lr=lr)
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(Z @ W.T + b, y) + 0.5 * l2 * (W * W).sum()
        loss.backward()
        opt.step()
    return W.detach(), b.detach()


def main(argv):
    if len(argv) != 3:
        print("usage: ref_route.py IN OUT", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    with open(argv[1], "rb") as f:
        data = f.read()
    r = Reader(data)
    r.pos = 8
    out = []
    if data[:8] == b"LOCORTK1":
        n, d, k, max_iter = r.take("i", 4)
        X = r.tensor(n * d).reshape(n, d).to(torch.float64)
        C = r.tensor(k * d).reshape(k, d).to(torch.float64)
        C, assign, obj, iters = lloyd(X, C, max_iter)
        out = [b"LOCORTKR", struct.pack(f"={k * d}f", *C.flatten().tolist()),
               struct.pack(f"={n}i", *assign.tolist()), struct.pack("=di", obj, iters)]
    elif data[:8] == b"LOCORTL1":
        n, d, P, epochs = r.take("i", 4)
        l2, lr = r.take("f", 2)
        X = r.tensor(n * d).reshape(n, d)
        y = torch.tensor(r.take("i", n), dtype=torch.long)
        W32, b32 = linear(X, y, P, epochs, l2, lr, torch.float32)
        W64, b64 = linear(X, y, P, epochs, l2, lr, torch.float64)
        out = [b"LOCORTLR", struct.pack(f"={P * d}f", *W32.flatten().tolist()),
               struct.pack(f"={P}f", *b32.tolist()), struct.pack(f"={P * d}d", *W64.flatten().tolist()),
               struct.pack(f"={P}d", *b64.tolist())]
    else:
        print("ref_route.py: bad magic in input", file=sys.stderr)
        return 2
    if r.pos != len(data):
        print("ref_route.py: trailing bytes in input", file=sys.stderr)
        return 2
    with open(argv[2], "wb") as f:
        f.write(b"".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
