#!/usr/bin/python3
"""Loads a loco checkpoint in PyTorch without the safetensors library (the
header with `json`, the tensors with `torch.frombuffer`), checks the file's
safetensors layout, runs the GPT forward on the given tokens and writes the
logits, for tests/test_checkpoint.c to compare with loco's.

Usage: ref_checkpoint.py CKPT TOKENS OUT
TOKENS: int32 B, int32 T, then B*T int32 tokens.  OUT: logits (B, T, V) float32.
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def load(path):
    """Returns (tensors by name, metadata) of a safetensors file."""
    raw = bytearray(open(path, "rb").read())   # writable: frombuffer warns on bytes
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + n])
    text = raw[8:8 + n].decode()
    assert n % 8 == 0 and text.startswith("{") and text.rstrip(" ").endswith("}"), "header padding"
    meta = header.pop("__metadata__")
    assert all(isinstance(v, str) for v in meta.values()), "metadata values must be strings"
    data = 8 + n
    spans = sorted(tuple(e["data_offsets"]) for e in header.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(raw) - data, "data section not covered"
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), "offsets not contiguous"
    tensors = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", name
        b, end = e["data_offsets"]
        t = torch.frombuffer(raw, dtype=torch.float32, count=(end - b) // 4, offset=data + b)
        tensors[name] = t.reshape(e["shape"])
    return tensors, meta


def forward(p, idx, L, NH):
    """tests/ref_gpt.py's forward, with loco's checkpoint names, no loss."""
    B, T = idx.shape
    C = p["wte"].shape[1]
    hs = C // NH
    x = p["wte"][idx] + p["wpe"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        h = F.layer_norm(x, (C,), p["h.ln1w"][l], p["h.ln1b"][l], 1e-5)
        qkv = F.linear(h, p["h.qkvw"][l], p["h.qkvb"][l])
        q, k, v = qkv.split(C, dim=2)
        q = q.view(B, T, NH, hs).transpose(1, 2)
        k = k.view(B, T, NH, hs).transpose(1, 2)
        v = v.view(B, T, NH, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + F.linear(y, p["h.attprojw"][l], p["h.attprojb"][l])
        h = F.layer_norm(x, (C,), p["h.ln2w"][l], p["h.ln2b"][l], 1e-5)
        h = F.gelu(F.linear(h, p["h.fcw"][l], p["h.fcb"][l]), approximate="tanh")
        x = x + F.linear(h, p["h.fcprojw"][l], p["h.fcprojb"][l])
    x = F.layer_norm(x, (C,), p["lnfw"], p["lnfb"], 1e-5)
    return x @ p["wte"].t()


def main():
    ckpt, tok_path, out = sys.argv[1:4]
    p, meta = load(ckpt)
    assert meta["loco_format"] == "loco-1"
    L, NH = int(meta["n_layer"]), int(meta["n_head"])
    assert p["wte"].shape == (int(meta["vocab_size"]), int(meta["channels"]))
    if meta["optimizer_state"] == "adamw":
        assert all(p["adam.v." + k].min() >= 0 for k in list(p) if not k.startswith("adam."))
    raw = open(tok_path, "rb").read()
    B, T = struct.unpack_from("<2i", raw, 0)
    idx = torch.tensor(struct.unpack_from("<%di" % (B * T), raw, 8), dtype=torch.long).view(B, T)
    with torch.no_grad():
        logits = forward(p, idx, L, NH)
    with open(out, "wb") as f:
        f.write(logits.contiguous().numpy().astype("<f4").tobytes())


if __name__ == "__main__":
    main()
