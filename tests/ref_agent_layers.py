#!/usr/bin/python3
"""PyTorch reference for the agent's layers (src/agent/layers.c): reads one
layer case written by tests/test_agent_layers.c, computes its forward with
torch in float64 and the gradient of L = sum(out * R) by autograd, and writes
the output and the input gradients back.

Usage: ref_agent_layers.py IN OUT
IN: int32 layer id, int32 k, k int32 parameters, int32 m, then m tensors,
each int32 n and n float64.  OUT: tensors in the same encoding (the outputs,
then the gradients, in the order the C test documents per layer).
"""
import struct
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit(3)

torch.set_num_threads(1)


def read(path):
    data = open(path, "rb").read()
    pos = 0

    def i32(n):
        nonlocal pos
        v = struct.unpack_from(f"<{n}i", data, pos)
        pos += 4 * n
        return v
    layer, k = i32(2)
    params = i32(k)
    (m,) = i32(1)
    ts = []
    for _ in range(m):
        (n,) = i32(1)
        ts.append(torch.tensor(struct.unpack_from(f"<{n}d", data, pos), dtype=torch.float64))
        pos += 8 * n
    return layer, params, ts


def conv(p, t):
    N, H, W, C, OC, K, S, P = p
    x = t[0].view(N, H, W, C).permute(0, 3, 1, 2).requires_grad_()
    w = t[1].view(OC, K, K, C).permute(0, 3, 1, 2).requires_grad_()
    b = t[2].requires_grad_()
    out = F.conv2d(x, w, b, stride=S, padding=P).permute(0, 2, 3, 1)
    (out * t[3].view(out.shape)).sum().backward()
    return [out, x.grad.permute(0, 2, 3, 1), w.grad.permute(0, 2, 3, 1), b.grad]


def attention(p, t):
    B, Tq, Tk, C, NH, ldq, ldk = p
    hs = C // NH
    qb = t[0].view(B, Tq, ldq).requires_grad_()
    kvb = t[1].view(B, Tk, ldk).requires_grad_()
    mask = t[2].view(B, Tk) != 0
    q = qb[:, :, :C].view(B, Tq, NH, hs).transpose(1, 2)
    k = kvb[:, :, :C].view(B, Tk, NH, hs).transpose(1, 2)
    v = kvb[:, :, C:2 * C].view(B, Tk, NH, hs).transpose(1, 2)
    s = (q @ k.transpose(-2, -1)) / hs ** 0.5
    s = s.masked_fill(~mask[:, None, None, :], float("-inf"))
    att = torch.softmax(s, dim=-1)
    att = torch.nan_to_num(att, nan=0.0)    # a query with every key masked gets 0
    out = (att @ v).transpose(1, 2).reshape(B, Tq, C)
    (out * t[3].view(out.shape)).sum().backward()
    return [out, qb.grad, kvb.grad]


def lstm_cell(p, t):
    B, H = p
    pre = t[0].view(B, 4 * H).requires_grad_()
    cp = t[1].view(B, H).requires_grad_()
    i, f, g, o = pre.split(H, dim=1)
    c = torch.sigmoid(f) * cp + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    r = t[2]
    ((h * r[:B * H].view(B, H)).sum() + (c * r[B * H:].view(B, H)).sum()).backward()
    return [h, c, pre.grad, cp.grad]


def embed(p, t):
    N, V, C = p
    idx = t[0].long()
    tab = t[1].view(V, C).requires_grad_()
    out = tab[idx]
    (out * t[2].view(N, C)).sum().backward()
    return [out, tab.grad]


def pool(p, t):
    B, T, C = p
    x = t[0].view(B, T, C).requires_grad_()
    mask = t[1].view(B, T, 1)
    n = mask.sum(1)
    out = (x * mask).sum(1) / n.clamp(min=1)
    (out * t[2].view(B, C)).sum().backward()
    return [out, x.grad]


def xent(p, t):
    N, V = p
    z = t[0].view(N, V).requires_grad_()
    tgt = t[1].long()
    nv = t[2].long()
    losses = []
    for i in range(N):
        if tgt[i] < 0:
            losses.append(z[i, 0] * 0)
        else:
            losses.append(torch.logsumexp(z[i, :nv[i]], 0) - z[i, tgt[i]])
    loss = torch.stack(losses)
    (loss * t[3]).sum().backward()
    return [loss, z.grad]


def main():
    layer, params, ts = read(sys.argv[1])
    fn = [conv, attention, lstm_cell, embed, pool, xent][layer]
    outs = fn(params, ts)
    with open(sys.argv[2], "wb") as f:
        for o in outs:
            o = o.detach().contiguous().view(-1)
            f.write(struct.pack("<i", o.numel()))
            f.write(struct.pack(f"<{o.numel()}d", *o.tolist()))


if __name__ == "__main__":
    main()
