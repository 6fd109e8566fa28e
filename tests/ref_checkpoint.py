#!/usr/bin/python3
"""Loads a loco checkpoint in PyTorch without the safetensors library (the
header with `json`, the tensors with `torch.frombuffer`), checks the file's
safetensors layout, runs the GPT forward on the given tokens and writes the
logits, for tests/test_checkpoint.c to compare with loco's.

Usage: ref_checkpoint.py CKPT TOKENS OUT
TOKENS: int32 B, int32 T, then B*T int32 tokens.  OUT: logits (B, T, V) float32.
"""
import json
import struct
import sys

import torch

import ref_gpt   # the reference forward, beside this file

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
    """tests/ref_gpt.py's forward on the checkpoint's tensors: per-layer
    tensors are stored as "h.<name>", ref_gpt.py calls them "<name>"."""
    names = {k[2:] if k.startswith("h.") else k: v for k, v in p.items() if not k.startswith("adam.")}
    logits, _ = ref_gpt.forward(names, idx, None, L, NH)
    return logits


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
