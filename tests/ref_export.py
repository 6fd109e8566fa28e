#!/usr/bin/python3
"""Loads a Hugging Face GPT-2 folder written by `loco export --format hf` the
way a Hugging Face user's code sees it: config.json for the shape, and
model.safetensors by GPT2Model's tensor names (wte, wpe, h.N.ln_1,
h.N.attn.c_attn with Conv1D's (in, out) weights, ...).  transformers is not
installed here, so the forward pass is GPT2LMHeadModel's written out from
its documented names, in float64; tests/test_export.c compares its logits
with loco's.  Nothing of loco's reference (tests/ref_gpt.py) is reused.

Usage: ref_export.py TOKENS DIR OUT [DIR OUT ...]
TOKENS: int32 B, int32 T, then B*T int32 tokens.  OUT: logits (B, T, V) float32
of the model in DIR (several folders share one start of Python and torch).

       ref_export.py --as-saved-by-transformers DIR TIED_DIR UNTIED_DIR
rewrites DIR's folder as GPT2LMHeadModel.save_pretrained lays it out in
bfloat16: names under "transformer.", the attention-mask buffers
h.N.attn.bias, and lm_head.weight (wte in TIED_DIR, wte + 1 in UNTIED_DIR),
for the importer's test (tests/test_export_tok.c).
Exit status 3: torch cannot be imported.
"""
import json
import math
import os
import struct
import sys

try:
    import torch
except ImportError:
    sys.exit(3)

torch.set_num_threads(1)
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def load_safetensors(path):
    """Returns {name: float64 tensor}, checking the file's layout as the
    safetensors specification states it."""
    raw = bytearray(open(path, "rb").read())
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + n])
    assert n % 8 == 0, "header not padded to 8 bytes"
    meta = header.pop("__metadata__", {})
    assert meta.get("format") == "pt", "transformers refuses a file whose metadata format is not pt"
    spans = sorted(tuple(e["data_offsets"]) for e in header.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(raw) - 8 - n, "data section not covered"
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), "offsets not contiguous"
    out = {}
    for name, e in header.items():
        dt = DTYPES[e["dtype"]]
        b, end = e["data_offsets"]
        size = torch.tensor([], dtype=dt).element_size()
        t = torch.frombuffer(raw, dtype=dt, count=(end - b) // size, offset=8 + n + b)
        out[name] = t.reshape(e["shape"]).to(torch.float64)
    return out


def gelu_new(x):
    """GPT-2's activation (transformers' NewGELUActivation)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def conv1d(x, p, name):
    """transformers' Conv1D: y = x W + b with W stored (in, out)."""
    return x @ p[name + ".weight"] + p[name + ".bias"]


def forward(p, cfg, idx):
    B, T = idx.shape
    C, NH, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    hs = C // NH
    x = p["wte.weight"][idx] + p["wpe.weight"][:T]                  # (B, T, C)
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    for l in range(cfg["n_layer"]):
        h = layer_norm(x, p[f"h.{l}.ln_1.weight"], p[f"h.{l}.ln_1.bias"], eps)
        q, k, v = conv1d(h, p, f"h.{l}.attn.c_attn").split(C, dim=2)  # (B, T, C) each
        q, k, v = (t.view(B, T, NH, hs).transpose(1, 2) for t in (q, k, v))   # (B, NH, T, hs)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)               # (B, NH, T, T)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + conv1d(y, p, f"h.{l}.attn.c_proj")
        h = layer_norm(x, p[f"h.{l}.ln_2.weight"], p[f"h.{l}.ln_2.bias"], eps)
        x = x + conv1d(gelu_new(conv1d(h, p, f"h.{l}.mlp.c_fc")), p, f"h.{l}.mlp.c_proj")
    x = layer_norm(x, p["ln_f.weight"], p["ln_f.bias"], eps)
    return x @ p["wte.weight"].T                                      # (B, T, V): tied LM head


def run(d, idx, out):
    cfg = json.load(open(os.path.join(d, "config.json")))
    assert cfg["model_type"] == "gpt2" and cfg["architectures"] == ["GPT2LMHeadModel"]
    assert cfg["activation_function"] == "gelu_new" and cfg["tie_word_embeddings"] is True
    gen = json.load(open(os.path.join(d, "generation_config.json")))
    assert gen["eos_token_id"] == cfg["eos_token_id"]
    tok = json.load(open(os.path.join(d, "tokenizer.json")))
    ids = set(tok["model"]["vocab"].values()) | {t["id"] for t in tok["added_tokens"]}
    assert ids == set(range(cfg["vocab_size"])), "tokenizer.json's ids are not 0..vocab_size-1"
    tcfg = json.load(open(os.path.join(d, "tokenizer_config.json")))
    assert tcfg["tokenizer_class"] == "GPT2Tokenizer" and tcfg["eos_token"] == "<|endoftext|>"

    p = load_safetensors(os.path.join(d, "model.safetensors"))
    C, L = cfg["n_embd"], cfg["n_layer"]
    want = {"wte.weight": (cfg["vocab_size"], C), "wpe.weight": (cfg["n_positions"], C),
            "ln_f.weight": (C,), "ln_f.bias": (C,)}
    for l in range(L):
        want.update({f"h.{l}.ln_1.weight": (C,), f"h.{l}.ln_1.bias": (C,),
                     f"h.{l}.attn.c_attn.weight": (C, 3 * C), f"h.{l}.attn.c_attn.bias": (3 * C,),
                     f"h.{l}.attn.c_proj.weight": (C, C), f"h.{l}.attn.c_proj.bias": (C,),
                     f"h.{l}.ln_2.weight": (C,), f"h.{l}.ln_2.bias": (C,),
                     f"h.{l}.mlp.c_fc.weight": (C, 4 * C), f"h.{l}.mlp.c_fc.bias": (4 * C,),
                     f"h.{l}.mlp.c_proj.weight": (4 * C, C), f"h.{l}.mlp.c_proj.bias": (C,)})
    got = {k: tuple(v.shape) for k, v in p.items()}
    assert got == want, "tensor names or shapes differ from GPT2Model's: %s" % (set(got.items()) ^ set(want.items()))

    with torch.no_grad():
        logits = forward(p, cfg, idx)
    with open(out, "wb") as f:
        f.write(logits.to(torch.float32).contiguous().numpy().astype("<f4").tobytes())


def save_safetensors(path, tensors):
    """Writes {name: tensor} as safetensors, in the given order."""
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        b = t.contiguous().view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else \
            t.contiguous().numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def as_saved_by_transformers(d, out, untied):
    cfg = json.load(open(os.path.join(d, "config.json")))
    p = load_safetensors(os.path.join(d, "model.safetensors"))
    T = cfg["n_positions"]
    t = {}
    for name, v in p.items():
        t["transformer." + name] = v.to(torch.bfloat16)
        if name.endswith("ln_1.weight"):
            t["transformer." + name.replace("ln_1.weight", "attn.bias")] = torch.tril(torch.ones(T, T)).view(1, 1, T, T)
    t["lm_head.weight"] = (p["wte.weight"] + (1 if untied else 0)).to(torch.bfloat16)
    os.makedirs(out, exist_ok=True)
    save_safetensors(os.path.join(out, "model.safetensors"), t)
    json.dump(cfg, open(os.path.join(out, "config.json"), "w"))


def main():
    if sys.argv[1] == "--as-saved-by-transformers":
        as_saved_by_transformers(sys.argv[2], sys.argv[3], False)
        as_saved_by_transformers(sys.argv[2], sys.argv[4], True)
        return
    raw = open(sys.argv[1], "rb").read()
    B, T = struct.unpack_from("<2i", raw, 0)
    idx = torch.tensor(struct.unpack_from("<%di" % (B * T), raw, 8), dtype=torch.long).view(B, T)
    for d, out in zip(sys.argv[2::2], sys.argv[3::2]):
        run(d, idx, out)


if __name__ == "__main__":
    main()
