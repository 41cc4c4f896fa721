"""What this CPU can do for int8 inference, read from /proc/cpuinfo.

onnxruntime's int8 matmuls on x86 multiply unsigned activations by signed weights. With
VNNI (AVX-512 VNNI or AVX-VNNI) one instruction sums the products in 32 bits; without it
(AVX2 alone, AVX-512 without VNNI) `vpmaddubsw` first adds pairs of products into 16 bits,
which saturate, so the same int8 model is less exact there. The export picks its
quantisation from this (index.onnx.quantize), and benchmarks record it beside every number.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: The flags that decide int8 speed and exactness, in the order they are reported.
SIMD_FLAGS = ("avx512_vnni", "avx512f", "avx_vnni", "avx2")
PROC_CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class CpuInfo:
    model: str
    #: The SIMD_FLAGS this CPU has.
    flags: tuple[str, ...]
    #: x86 (the saturation question only arises there).
    x86: bool

    @property
    def vnni(self) -> bool:
        return "avx512_vnni" in self.flags or "avx_vnni" in self.flags

    @property
    def int8_saturates(self) -> bool:
        """Whether u8 x s8 products are summed through saturating 16-bit pairs."""
        return self.x86 and not self.vnni

    @property
    def simd(self) -> str:
        """A short human label: "AVX-512 VNNI", "AVX2 only", ..."""
        if "avx512_vnni" in self.flags:
            return "AVX-512 VNNI"
        if "avx512f" in self.flags:
            return "AVX-512 without VNNI"
        if "avx2" in self.flags:
            return "AVX2 with AVX-VNNI" if "avx_vnni" in self.flags else "AVX2 only"
        return "no AVX2" if self.x86 else platform.machine() or "unknown"

    def as_dict(self) -> dict[str, object]:
        return {"model": self.model, "simd": self.simd, "flags": list(self.flags)}


def read_cpu(cpuinfo: Path = PROC_CPUINFO) -> CpuInfo:
    """This machine's CPU (or the one `cpuinfo` describes); unknown fields stay empty."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        lines = []
    fields: dict[str, str] = {}
    for line in lines:  # one block per core, all alike: the first one counts
        name, colon, value = line.partition(":")
        if colon:
            fields.setdefault(name.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    machine = platform.machine().lower()
    x86 = bool(flags & {"sse2", "avx2"}) or machine in {"x86_64", "amd64", "i686", "i386"}
    return CpuInfo(
        model=fields.get("model name") or platform.processor() or "unknown",
        flags=tuple(f for f in SIMD_FLAGS if f in flags),
        x86=x86,
    )


@lru_cache(maxsize=1)
def this_cpu() -> CpuInfo:
    return read_cpu()
