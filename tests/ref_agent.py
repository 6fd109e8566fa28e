#!/usr/bin/python3
"""PyTorch re-implementation of loco's CC-Net agent (src/agent/): reads a
model (every parameter tensor by name) and a batch written by
tests/test_agent_torch.c, runs the whole unrolled forward pass (BPTT through
both LSTMs) and the behavioural-cloning loss, differentiates it with
autograd, and writes the results back.

Usage: ref_agent.py IN OUT DTYPE    (DTYPE: float32 or float64)

IN (little-endian): int32 count and that many config ints (frame_h, frame_w,
conv_ch[4], d_model, mmt_layers, mmt_heads, vocab_words, hash_buckets,
word_dim, str_heads, max_words, max_dom, max_fields, geom_dim, lstm_hidden,
x_bins, y_bins, n_keys, xemb_dim, obs, B, T); int32 tensor count, then per
tensor: int32 name length, the name, int32 ndim, int32 shape[4], float32
data; then the batch, each array as int32 n and n numbers: frames (int32),
words, nwords, geom (float32), n_dom, n_fields, first, prev (B,T,5),
target (B,T,5), valid.
OUT: float64 loss, the logits of the 5 heads over time-major rows (type,
x, y, key, field; masked field entries as written by torch: -inf), then the
gradient of every tensor in the input's order; all float64.
"""
import math
import struct
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit(3)

torch.set_num_threads(1)
NTYPES = 10


class R:
    def __init__(self, data):
        self.d, self.p = data, 0

    def i32(self, n):
        v = struct.unpack_from(f"<{n}i", self.d, self.p)
        self.p += 4 * n
        return list(v)

    def f32(self, n):
        v = struct.unpack_from(f"<{n}f", self.d, self.p)
        self.p += 4 * n
        return list(v)

    def arr(self, kind):
        (n,) = self.i32(1)
        return self.i32(n) if kind == "i" else self.f32(n)


def att_dtype(t):
    return t.dtype


def attention(q, k, v, mask, nh):
    """q (G, Tq, C), k and v (G, Tk, C), mask (G, Tk) bool: masked keys get
    probability 0; a query whose keys are all masked outputs 0."""
    G, Tq, C = q.shape
    Tk = k.shape[1]
    hs = C // nh
    q = q.view(G, Tq, nh, hs).transpose(1, 2)
    k = k.view(G, Tk, nh, hs).transpose(1, 2)
    v = v.view(G, Tk, nh, hs).transpose(1, 2)
    s = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
    m = mask[:, None, None, :]
    s = s.masked_fill(~m, -1e30)
    e = torch.exp(s - s.max(dim=-1, keepdim=True).values) * m
    att = e / e.sum(dim=-1, keepdim=True).clamp(min=torch.finfo(att_dtype(s)).tiny)
    return (att @ v).transpose(1, 2).reshape(G, Tq, C)


def block(p, pre, x, mask, nh):
    C = x.shape[-1]
    h = F.layer_norm(x, (C,), p[pre + ".ln1w"], p[pre + ".ln1b"], 1e-5)
    qkv = F.linear(h, p[pre + ".qkvw"], p[pre + ".qkvb"])
    q, k, v = qkv.split(C, dim=-1)
    x = x + F.linear(attention(q, k, v, mask, nh), p[pre + ".projw"], p[pre + ".projb"])
    h = F.layer_norm(x, (C,), p[pre + ".ln2w"], p[pre + ".ln2b"], 1e-5)
    h = F.gelu(F.linear(h, p[pre + ".fcw"], p[pre + ".fcb"]), approximate="tanh")
    return x + F.linear(h, p[pre + ".fcprojw"], p[pre + ".fcprojb"])


def forward(cfg, p, bt, dt):
    (H0, W0, c0, c1, c2, c3, D, L, NH, Vw, Hb, E, SNH, S, ND, NF, G, HID, NX, NY, NK, DX, OBS, B, T) = cfg
    chans = [c0, c1, c2, c3]
    BT = B * T
    use_pix, use_dom = OBS & 2, OBS & 1
    NDs = ND if use_dom else 0
    NS = 1 + NF + NDs
    n_dom = torch.as_tensor(bt["n_dom"]).view(BT) if use_dom else torch.zeros(BT, dtype=torch.long)
    n_fields = torch.as_tensor(bt["n_fields"]).view(BT)

    # pixels
    P = 0
    if use_pix:
        x = torch.as_tensor(bt["frames"], dtype=dt).view(BT, H0, W0, 3).permute(0, 3, 1, 2) / 255.0
        for s in range(4):
            w = lambda n: p[f"trunk.{s}.{n}.w"].permute(0, 3, 1, 2)
            a = F.conv2d(x, w("conv"), p[f"trunk.{s}.conv.b"], stride=2, padding=1)
            r = F.conv2d(F.relu(a), w("resa"), p[f"trunk.{s}.resa.b"], stride=1, padding=1)
            x = a + F.conv2d(F.relu(r), w("resb"), p[f"trunk.{s}.resb.b"], stride=1, padding=1)
        x = F.relu(x).permute(0, 2, 3, 1)                     # (BT, gh, gw, C3)
        P = x.shape[1] * x.shape[2]
        pix = F.linear(x.reshape(BT, P, c3), p["trunk.proj.w"], p["trunk.proj.b"]) + p["trunk.pos"]

    # strings: present ones keep their words, absent ones are all masked
    words = torch.as_tensor(bt["words"]).view(BT, NS, S)
    nwords = torch.as_tensor(bt["nwords"]).view(BT, NS)
    sidx = torch.arange(NS)
    present = (sidx[None, :] == 0) | ((sidx[None, :] >= 1) & (sidx[None, :] <= NF) & (sidx[None, :] - 1 < n_fields[:, None])) \
        | ((sidx[None, :] > NF) & (sidx[None, :] - 1 - NF < n_dom[:, None]))
    nw = torch.where(present, nwords, torch.zeros_like(nwords))
    smask = torch.arange(S)[None, None, :] < nw[:, :, None]              # (BT, NS, S)
    ids = torch.where(smask, words, torch.zeros_like(words))
    kind = torch.where(sidx == 0, 0, torch.where(sidx <= NF, 1, 2))
    x = p["str.word"][ids] + p["str.pos"][None, None] + p["str.kind"][kind][None, :, None]
    x = x.view(BT * NS, S, E)
    sm = smask.view(BT * NS, S)
    x = block(p, "str.block", x, sm, SNH)
    x = F.layer_norm(x, (E,), p["str.lnw"], p["str.lnb"], 1e-5)
    kv = F.linear(x, p["str.kvw"], p["str.kvb"])
    q = p["str.query"].view(1, 1, E).expand(BT * NS, 1, E)
    y = attention(q, kv[..., :E], kv[..., E:], sm, SNH).view(BT, NS, E)
    sv = F.linear(y, p["str.outw"], p["str.outb"])                         # (BT, NS, D)
    if use_dom:
        geom = torch.as_tensor(bt["geom"], dtype=dt).view(BT, ND, G)
        g = F.linear(geom, p["str.geom.w"], p["str.geom.b"])
        sv = torch.cat([sv[:, :1 + NF], sv[:, 1 + NF:] + g], dim=1)

    # multimodal transformer
    toks = [p["mmt.summary"][None].expand(BT, 2, D)]
    if use_pix:
        toks.append(pix)
    toks.append(sv[:, :1])
    toks.append(sv[:, 1 + NF:])
    x = torch.cat(toks, dim=1)                                               # (BT, NTOK, D)
    NTOK = x.shape[1]
    kidx = torch.arange(NTOK)
    dom = kidx[None, :] - 3 - P
    kmask = (dom < 0) | (dom < n_dom[:, None])
    pmask = kmask & (kidx[None, :] >= 2)
    for l in range(L):
        x = block(p, f"mmt.{l}", x, kmask, NH)
    x = F.layer_norm(x, (D,), p["mmt.lnw"], p["mmt.lnb"], 1e-5)
    pm = pmask.to(dt)[..., None]
    pool = (x * pm).sum(1) / pm.sum(1).clamp(min=1)

    # previous action embedding; rows become time-major (t, b)
    prev = torch.as_tensor(bt["prev"]).view(B, T, 5)
    none = prev[..., 0] < 0
    def row(v, n):
        return torch.where(none | (v < 0), torch.full_like(v, n), v)
    pa = (p["core.prev.type"][row(prev[..., 0], NTYPES)] + p["core.prev.x"][row(prev[..., 1], NX)]
          + p["core.prev.y"][row(prev[..., 2], NY)] + p["core.prev.key"][row(prev[..., 3], NK)]
          + p["core.prev.field"][row(prev[..., 4], NF)])                    # (B, T, D)
    cin = torch.cat([x[:, 0], x[:, 1], pool], dim=-1).view(B, T, 3 * D)
    cin = torch.cat([cin, pa], dim=-1)
    x0 = F.linear(cin, p["core.in.w"], p["core.in.b"])                       # (B, T, HID)
    first = torch.as_tensor(bt["first"]).view(B, T) != 0
    u = x0
    for l in range(2):
        h = torch.zeros(B, HID, dtype=dt)
        c = torch.zeros(B, HID, dtype=dt)
        pre_in = F.linear(u, p[f"core.lstm.{l}.wih"], p[f"core.lstm.{l}.b"])
        outs = []
        for t in range(T):
            keep = (~first[:, t]).to(dt)[:, None]
            h, c = h * keep, c * keep
            gates = pre_in[:, t] + h @ p[f"core.lstm.{l}.whh"].t()
            i, f, gg, o = gates.split(HID, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        u = u + torch.stack(outs, dim=1)
    y2 = u.transpose(0, 1).reshape(T * B, HID)                               # time-major

    # heads and loss
    tgt = torch.as_tensor(bt["target"]).view(B, T, 5).transpose(0, 1).reshape(T * B, 5)
    valid = torch.as_tensor(bt["valid"]).view(B, T).t().reshape(T * B) != 0
    nfr = n_fields.view(B, T).t().reshape(T * B)
    typ = tgt[:, 0]
    uses_xy = (typ >= 1) & (typ <= 7)
    xrow = torch.where(valid & uses_xy, tgt[:, 1], torch.full_like(typ, NX))
    lg_type = F.linear(y2, p["head.type.w"], p["head.type.b"])
    lg_x = F.linear(y2, p["head.x.w"], p["head.x.b"])
    lg_y = F.linear(torch.cat([y2, p["head.xemb"][xrow]], dim=1), p["head.y.w"], p["head.y.b"])
    lg_key = F.linear(y2, p["head.key.w"], p["head.key.b"])
    fq = F.linear(y2, p["head.field.q.w"], p["head.field.q.b"])             # (R, D)
    fv = sv[:, 1:1 + NF].view(B, T, NF, D).transpose(0, 1).reshape(T * B, NF, D)
    fk = F.linear(fv, p["head.field.k.w"])
    lg_field = (fk @ fq[:, :, None])[..., 0] / math.sqrt(D)
    fmask = torch.arange(NF)[None, :] < nfr[:, None]
    lg_field = lg_field.masked_fill(~fmask, float("-inf"))

    def nll(lg, t, use):
        lse = torch.logsumexp(lg, dim=1)
        picked = lg.gather(1, t.clamp(min=0)[:, None])[:, 0]
        return torch.where(use, lse - picked, torch.zeros_like(lse)).sum()
    total = nll(lg_type, typ, valid)
    total = total + nll(lg_x, tgt[:, 1], valid & uses_xy) + nll(lg_y, tgt[:, 2], valid & uses_xy)
    total = total + nll(lg_key, tgt[:, 3], valid & (typ == 8))
    total = total + nll(lg_field, tgt[:, 4], valid & (typ == 9))
    loss = total / valid.sum()
    return loss, [lg_type, lg_x, lg_y, lg_key, lg_field]


def read_input(data, dt):
    """The configuration, tensor names, parameters (leaves that require
    grad) and batch of an input file."""
    rd = R(data)
    (n,) = rd.i32(1)
    cfg = rd.i32(n)
    (nt,) = rd.i32(1)
    names, p = [], {}
    for _ in range(nt):
        (ln,) = rd.i32(1)
        name = rd.d[rd.p:rd.p + ln].decode()
        rd.p += ln
        (nd,) = rd.i32(1)
        shape = rd.i32(4)[:nd]
        numel = 1
        for s in shape:
            numel *= s
        p[name] = torch.tensor(rd.f32(numel), dtype=dt).view(shape).requires_grad_()
        names.append(name)
    bt = {}
    for key, kind in [("frames", "i"), ("words", "i"), ("nwords", "i"), ("geom", "f"), ("n_dom", "i"),
                      ("n_fields", "i"), ("first", "i"), ("prev", "i"), ("target", "i"), ("valid", "i")]:
        v = rd.arr(kind)
        bt[key] = torch.tensor(v, dtype=torch.long if kind == "i" else torch.float32)
    return cfg, names, p, bt


def main():
    dt = torch.float64 if sys.argv[3] == "float64" else torch.float32
    cfg, names, p, bt = read_input(open(sys.argv[1], "rb").read(), dt)
    loss, lgs = forward(cfg, p, bt, dt)
    loss.backward()
    with open(sys.argv[2], "wb") as f:
        out = [loss.detach().view(1)] + [lg.detach().reshape(-1) for lg in lgs]
        out += [p[nm].grad.reshape(-1) if p[nm].grad is not None else torch.zeros(p[nm].numel(), dtype=dt)
                for nm in names]
        for o in out:
            f.write(struct.pack(f"<{o.numel()}d", *o.double().tolist()))


if __name__ == "__main__":
    main()
