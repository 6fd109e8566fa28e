#!/usr/bin/python3
"""PyTorch reference for `make bench`: one GPT-2 training step, timed.

Run with Debian's /usr/bin/python3 (torch 1.13 from the python3-torch
package).  The model is nanoGPT's model.py (pre-LN blocks, causal
self-attention on the manual masked_fill + softmax path that nanoGPT uses when
scaled_dot_product_attention is missing, as it is in torch 1.13, GELU with the
tanh approximation, tied LM head, biases on, dropout 0), trained as nanoGPT's
train.py trains it: AdamW (lr 6e-4, betas 0.9/0.95, eps 1e-8, weight decay
0.1 on parameters of 2 or more dimensions only), clip_grad_norm_(1.0),
zero_grad(set_to_none=True), cosine learning-rate schedule set per step.

Same command line as build/bench_gpt; prints one line

    torch tok_per_s=<median> step_s=<median> flops_per_step=<F> params=<N> maxrss_mb=<M> ...

where the medians are over the timed steps (warm-up steps excluded) and F
is the model FLOP count of one step (see docs/benchmarks.md).
"""
import math
import os
import sys
import time

USAGE = ("usage: torch_gpt.py --layers L --channels C --heads NH --vocab V "
         "--seq T --batch B --steps S --warmup W --threads N "
         "[--max-seq TMAX (default 1024)] [--seed S]")

INT_FLAGS = {
    "--layers": ("layers", 1), "--channels": ("channels", 1),
    "--heads": ("heads", 1), "--vocab": ("vocab", 1), "--seq": ("seq", 1),
    "--batch": ("batch", 1), "--steps": ("steps", 1), "--warmup": ("warmup", 0),
    "--threads": ("threads", 1), "--max-seq": ("max_seq", 1),
    "--seed": ("seed", 0),
}


def die(msg):
    sys.stderr.write("torch_gpt.py: %s\n" % msg)
    sys.exit(2)


def parse_args(argv):
    a = {"layers": 12, "channels": 768, "heads": 12, "vocab": 50257,
         "seq": 256, "batch": 8, "steps": 5, "warmup": 1, "threads": 2,
         "max_seq": 1024, "seed": 1337}
    i = 0
    while i < len(argv):
        flag = argv[i]
        if flag in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        if flag not in INT_FLAGS:
            die("unknown flag '%s' (%s)" % (flag, USAGE))
        if i + 1 >= len(argv):
            die("flag %s needs a value" % flag)
        name, lo = INT_FLAGS[flag]
        try:
            v = int(argv[i + 1], 10)
        except ValueError:
            die("flag %s: '%s' is not an integer" % (flag, argv[i + 1]))
        if v < lo or v > (1 << 30):
            die("flag %s: %d out of range [%d, 2^30]" % (flag, v, lo))
        a[name] = v
        i += 2
    if a["channels"] % a["heads"] != 0:
        die("--channels %d is not divisible by --heads %d" % (a["channels"], a["heads"]))
    if a["seq"] > a["max_seq"]:
        die("--seq %d exceeds --max-seq %d" % (a["seq"], a["max_seq"]))
    return a


args = parse_args(sys.argv[1:])

# The thread count must be fixed before torch (and the OpenBLAS it loads
# through libblas.so.3) start their pools: OpenBLAS reads the environment
# once, and torch.set_num_threads does not reach it.
os.environ["OMP_NUM_THREADS"] = str(args["threads"])
os.environ["OPENBLAS_NUM_THREADS"] = str(args["threads"])
os.environ["MKL_NUM_THREADS"] = str(args["threads"])

try:
    import torch
    import torch.nn as nn
    from torch.nn import functional as F
except ImportError as e:  # pragma: no cover
    sys.stderr.write("torch_gpt.py: cannot import torch (%s); "
                     "install it with: apt-get install python3-torch\n" % e)
    sys.exit(3)


class LayerNorm(nn.Module):
    def __init__(self, ndim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, C, NH, Tmax):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C, bias=True)
        self.c_proj = nn.Linear(C, C, bias=True)
        self.n_head = NH
        self.n_embd = C
        self.register_buffer("bias", torch.tril(torch.ones(Tmax, Tmax))
                             .view(1, 1, Tmax, Tmax))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C, bias=True)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * C, C, bias=True)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, C, NH, Tmax):
        super().__init__()
        self.ln_1 = LayerNorm(C)
        self.attn = CausalSelfAttention(C, NH, Tmax)
        self.ln_2 = LayerNorm(C)
        self.mlp = MLP(C)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, L, C, NH, V, Tmax):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(V, C),
            wpe=nn.Embedding(Tmax, C),
            h=nn.ModuleList([Block(C, NH, Tmax) for _ in range(L)]),
            ln_f=LayerNorm(C),
        ))
        self.lm_head = nn.Linear(C, V, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * L))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)),
                               targets.view(-1), ignore_index=-1)
        return logits, loss


def model_flops_per_step(L, C, V, B, T):
    """PaLM / nanoGPT estimate: 6*N + 12*L*T*C FLOPs per token, N the matmul
    parameters (12*L*C^2 in the blocks plus V*C for the tied LM head)."""
    n_matmul = 12 * L * C * C + V * C
    return B * T * (6 * n_matmul + 12 * L * T * C)


def maxrss_mb():
    try:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    except Exception:  # pragma: no cover
        return float("nan")


def main():
    L, C, NH, V = args["layers"], args["channels"], args["heads"], args["vocab"]
    T, B, Tmax = args["seq"], args["batch"], args["max_seq"]
    S, W, N = args["steps"], args["warmup"], args["threads"]

    torch.set_num_threads(N)
    torch.manual_seed(args["seed"])
    model = GPT(L, C, NH, V, Tmax)
    model.train()
    params = sum(p.numel() for p in model.parameters())  # tied: counted once

    decay = [p for p in model.parameters() if p.dim() >= 2]
    nodecay = [p for p in model.parameters() if p.dim() < 2]
    lr, min_lr = 6e-4, 6e-5
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95), eps=1e-8)

    g = torch.Generator().manual_seed(args["seed"])
    data = torch.randint(0, V, (B, T + 1), generator=g, dtype=torch.long)
    x = data[:, :T].contiguous()
    y = data[:, 1:].contiguous()

    total = W + S
    times = []
    losses = []
    for step in range(total):
        # cosine schedule from lr to min_lr over all steps, set per step as in
        # nanoGPT's train.py (and as loco_gpt_adamw_step does)
        ratio = step / max(1, total)
        cur_lr = min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)
        t0 = time.perf_counter()
        for pg in opt.param_groups:
            pg["lr"] = cur_lr
        opt.zero_grad(set_to_none=True)
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        lv = loss.item()  # synchronises nothing on CPU, but keeps the loss honest
        t1 = time.perf_counter()
        losses.append(lv)
        if not math.isfinite(lv):
            sys.stderr.write("torch_gpt.py: non-finite loss at step %d\n" % step)
            sys.exit(1)
        if step >= W:
            times.append(t1 - t0)

    times.sort()
    n = len(times)
    med = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    flops = model_flops_per_step(L, C, V, B, T)
    print("torch tok_per_s=%.1f step_s=%.4f flops_per_step=%d params=%d "
          "maxrss_mb=%.0f threads=%d steps=%d warmup=%d loss_first=%.4f loss_last=%.4f "
          "torch_version=%s"
          % (B * T / med, med, flops, params, maxrss_mb(), torch.get_num_threads(),
             S, W, losses[0], losses[-1], torch.__version__))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
