"""Shared by the PyTorch reference scripts: reading the binary files the C
tests write, and asking torch which CPU kernels it runs.  Import it after
torch has been imported (the scripts exit with status 3 when it cannot be)."""
import struct

import torch


class Reader:
    """Reads native-endian numbers and float32 tensors from a byte string,
    raising ValueError when the file ends early."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt, count):
        size = struct.calcsize(f"={count}{fmt}")
        if self.pos + size > len(self.data):
            raise ValueError("input file is truncated")
        out = struct.unpack_from(f"={count}{fmt}", self.data, self.pos)
        self.pos += size
        return out

    def tensor(self, count):
        size = 4 * count
        if self.pos + size > len(self.data):
            raise ValueError("input file is truncated")
        buf = bytearray(self.data[self.pos:self.pos + size])
        self.pos += size
        return torch.frombuffer(buf, dtype=torch.float32).clone()


def cpu_kernels_fuse():
    """Whether torch dispatched to its vectorized AVX2/AVX512 kernels, whose
    add_ and addcmul_ use fused multiply-adds; torch 1.13 reports its
    run-time choice only in this text."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return "AVX2" in line or "AVX512" in line
    return False
