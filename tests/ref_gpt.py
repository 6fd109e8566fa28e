#!/usr/bin/python3
"""PyTorch reference for loco's GPT: reads a model and batches written by
tests/test_gpt_torch.c, recomputes logits, loss, every parameter gradient and
a short AdamW run (clipping + warm-up/cosine schedule) with torch, and writes
the results for the C side to compare.

Usage: ref_gpt.py IN OUT DTYPE   (DTYPE: float32 or float64)
File layouts are documented in tests/test_gpt_torch.c.
"""
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)

NAMES = ["wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
         "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"]


def shapes(L, C, V, Tm):
    return {"wte": (V, C), "wpe": (Tm, C), "ln1w": (L, C), "ln1b": (L, C),
            "qkvw": (L, 3 * C, C), "qkvb": (L, 3 * C), "attprojw": (L, C, C),
            "attprojb": (L, C), "ln2w": (L, C), "ln2b": (L, C),
            "fcw": (L, 4 * C, C), "fcb": (L, 4 * C), "fcprojw": (L, C, 4 * C),
            "fcprojb": (L, C), "lnfw": (C,), "lnfb": (C,)}


def forward(p, idx, tgt, L, NH):
    """Logits (B, T, V) and, when tgt is given, the mean cross-entropy."""
    B, T = idx.shape
    C = p["wte"].shape[1]
    hs = C // NH
    x = p["wte"][idx] + p["wpe"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        h = F.layer_norm(x, (C,), p["ln1w"][l], p["ln1b"][l], 1e-5)
        qkv = F.linear(h, p["qkvw"][l], p["qkvb"][l])
        q, k, v = qkv.split(C, dim=2)
        q = q.view(B, T, NH, hs).transpose(1, 2)
        k = k.view(B, T, NH, hs).transpose(1, 2)
        v = v.view(B, T, NH, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + F.linear(y, p["attprojw"][l], p["attprojb"][l])
        h = F.layer_norm(x, (C,), p["ln2w"][l], p["ln2b"][l], 1e-5)
        h = F.gelu(F.linear(h, p["fcw"][l], p["fcb"][l]), approximate="tanh")
        x = x + F.linear(h, p["fcprojw"][l], p["fcprojb"][l])
    x = F.layer_norm(x, (C,), p["lnfw"], p["lnfb"], 1e-5)
    logits = x @ p["wte"].t()
    if tgt is None:
        return logits, None
    loss = F.cross_entropy(logits.view(-1, logits.size(-1)), tgt.view(-1))
    return logits, loss


def lr_at(step, lr, warmup, max_steps, min_lr):
    """nanoGPT's get_lr, 0-based step."""
    if warmup > 0 and step < warmup:
        return lr * (step + 1) / warmup
    if step >= max_steps:
        return min_lr
    ratio = (step - warmup) / (max_steps - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


def main():
    src, dst, dtype = sys.argv[1], sys.argv[2], getattr(torch, sys.argv[3])
    raw = open(src, "rb").read()
    L, C, NH, V, Tm, B, T, steps, warmup, max_steps = struct.unpack_from("<10i", raw, 0)
    lr, b1, b2, eps, wd, clip, min_lr = struct.unpack_from("<7f", raw, 40)
    off = 40 + 28
    shp = shapes(L, C, V, Tm)
    p = {}
    for n in NAMES:
        cnt = int(np.prod(shp[n]))
        a = np.frombuffer(raw, dtype="<f4", count=cnt, offset=off).reshape(shp[n])
        p[n] = torch.tensor(a, dtype=dtype, requires_grad=True)
        off += 4 * cnt
    nb = B * T
    toks = np.frombuffer(raw, dtype="<i4", count=(steps + 1) * 2 * nb, offset=off)
    toks = torch.tensor(toks.astype(np.int64)).view(steps + 1, 2, B, T)

    out = []
    # 1. logits, loss and gradients on batch 0.
    logits, loss = forward(p, toks[0, 0], toks[0, 1], L, NH)
    loss.backward()
    out.append(logits.detach().to(torch.float32).numpy().ravel())
    out.append(np.array([loss.item()], dtype=np.float32))
    for n in NAMES:
        out.append(p[n].grad.detach().to(torch.float32).numpy().ravel())
        p[n].grad = None

    # 2. `steps` AdamW steps on batches 1..steps; record each step's loss.
    decay = [p[n] for n in NAMES if n in ("wte", "wpe", "qkvw", "attprojw", "fcw", "fcprojw")]
    nodecay = [p[n] for n in NAMES if n not in ("wte", "wpe", "qkvw", "attprojw", "fcw", "fcprojw")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=lr, betas=(b1, b2), eps=eps, foreach=False)
    losses = []
    for s in range(steps):
        _, loss = forward(p, toks[s + 1, 0], toks[s + 1, 1], L, NH)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p[n] for n in NAMES], clip)
        for g in opt.param_groups:
            g["lr"] = lr_at(s, lr, warmup, max_steps, min_lr)
        opt.step()
        losses.append(loss.item())
    out.append(np.array(losses, dtype=np.float32))
    for n in NAMES:
        out.append(p[n].detach().to(torch.float32).numpy().ravel())
    with open(dst, "wb") as f:
        for a in out:
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())


if __name__ == "__main__":
    main()
