#!/usr/bin/python3
"""numpy reference for tests/test_dipaco.c (dipaco_merge_matches_numpy).

Usage: ref_dipaco.py IN OUT

Rebuilds DiPaCo's module layout from the GPT configuration and the levels
alone (independently of src/algo/dipaco.c), then takes one round of module
merges with outer Nesterov, for modules given in IN and the paths' trained
parameters given in IN:
    target_m = sum_{p contains m} w_p theta_p|m / sum_{p contains m} w_p
    b_m = mu b_m + (theta_m - target_m);  theta_m -= lr ((theta_m - target_m) + mu b_m)
It also checks the layout: path p's parameters as src/algo/dipaco.c gathered
them must hold, at the places the reference computes, exactly the modules of
p (exit status 4 otherwise).

All numbers are native-endian.
  IN:  b"LOCODPC1"; int32 V, Tmax, L, C, n_levels, shared_base, n_paths, total, path_params;
       int32 layers[n_levels], modules[n_levels]; float32 lr, mu;
       float64 w[n_paths]; float32 modules0[total], state0[total];
       float32 gathered[n_paths][path_params] (the modules0 gathered by C);
       float32 trained[n_paths][path_params]
  OUT: b"LOCODPCR"; float64 modules[total], state[total]
Exit status: 0 on success, 3 if numpy cannot be imported, 2 on a bad file, 4 on a layout mismatch.
"""
import struct
import sys

try:
    import numpy as np
except ImportError as e:
    print(f"ref_dipaco.py: cannot import numpy ({e}); apt-get install python3-numpy", file=sys.stderr)
    sys.exit(3)

STACKED = ['ln1w', 'ln1b', 'qkvw', 'qkvb', 'attprojw', 'attprojb', 'ln2w', 'ln2b', 'fcw', 'fcb', 'fcprojw', 'fcprojb']


def layer_sizes(C):
    return {'ln1w': C, 'ln1b': C, 'qkvw': 3 * C * C, 'qkvb': 3 * C, 'attprojw': C * C, 'attprojb': C,
            'ln2w': C, 'ln2b': C, 'fcw': 4 * C * C, 'fcb': 4 * C, 'fcprojw': 4 * C * C, 'fcprojb': C}


def main():
    data = open(sys.argv[1], 'rb').read()
    if data[:8] != b'LOCODPC1':
        sys.exit(2)
    pos = 8

    def take(fmt, n):
        nonlocal pos
        size = struct.calcsize('=%d%s' % (n, fmt))
        if pos + size > len(data):
            sys.exit(2)
        out = struct.unpack_from('=%d%s' % (n, fmt), data, pos)
        pos += size
        return out

    def arr(dtype, n):
        nonlocal pos
        a = np.frombuffer(data, dtype=dtype, count=n, offset=pos).copy()
        pos += a.nbytes
        return a

    V, Tmax, L, C, nl, shared, P, total, S = take('i', 9)
    layers, mods = take('i', nl), take('i', nl)
    lr, mu = take('f', 2)
    w = arr(np.float64, P)
    modules0, state0 = arr(np.float32, total), arr(np.float32, total)
    gathered = arr(np.float32, P * S).reshape(P, S)
    trained = arr(np.float32, P * S).reshape(P, S)

    # Offsets of the tensors in a path: wte, wpe, the stacked tensors, lnfw, lnfb.
    ls = layer_sizes(C)
    sizes = [('wte', V * C), ('wpe', Tmax * C)] + [(n, L * ls[n]) for n in STACKED] + [('lnfw', C), ('lnfb', C)]
    off, o = {}, 0
    for n, s in sizes:
        off[n] = o
        o += s
    assert o == S
    base_idx = np.concatenate([np.arange(off[n], off[n] + s) for n, s in sizes if n in ('wte', 'wpe', 'lnfw', 'lnfb')])
    level_idx, l0 = [], 0
    for v in range(nl):
        level_idx.append(np.concatenate([np.arange(off[n] + l0 * ls[n], off[n] + (l0 + layers[v]) * ls[n])
                                         for n in STACKED]))
        l0 += layers[v]
    # Modules in order: base(s), then level 0's, level 1's, ...
    n_base = 1 if shared else P
    mod_idx = [base_idx] * n_base
    for v in range(nl):
        mod_idx += [level_idx[v]] * mods[v]
    mod_off = np.cumsum([0] + [len(i) for i in mod_idx])
    assert mod_off[-1] == total

    def path_modules(p):
        out = [0 if shared else p]
        first, rest = n_base, p
        for v in range(nl):
            below = int(np.prod(mods[v + 1:])) if v + 1 < nl else 1
            out.append(first + (p // below) % mods[v])
            first += mods[v]
        return out

    for p in range(P):
        for m in path_modules(p):
            if not np.array_equal(gathered[p][mod_idx[m]], modules0[mod_off[m]:mod_off[m + 1]]):
                print('ref_dipaco.py: path %d does not hold module %d where expected' % (p, m), file=sys.stderr)
                sys.exit(4)

    theta = modules0.astype(np.float64)
    state = state0.astype(np.float64)
    for m in range(len(mod_idx)):
        paths = [p for p in range(P) if m in path_modules(p)]
        ws = sum(w[p] for p in paths)
        target = sum(w[p] * trained[p][mod_idx[m]].astype(np.float64) for p in paths) / ws
        target = target.astype(np.float32).astype(np.float64)
        a, b = mod_off[m], mod_off[m + 1]
        delta = theta[a:b] - target
        state[a:b] = mu * state[a:b] + delta
        theta[a:b] -= lr * (delta + mu * state[a:b])
    with open(sys.argv[2], 'wb') as f:
        f.write(b'LOCODPCR')
        f.write(theta.tobytes())
        f.write(state.tobytes())


if __name__ == '__main__':
    main()
