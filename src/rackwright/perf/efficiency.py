"""Achievable-efficiency parameters, one set per accelerator type (never per run).

A kernel's time follows a roofline with a launch overhead:
``t = max(FLOPs / (peak · gemm), bytes / (HBM bandwidth · hbm)) + launch``, so small
matrix multiplies lose efficiency through the overhead and the memory roof, and
large ones approach ``gemm``. Collectives move data at ``link`` times the link
bandwidth (the bus-bandwidth fraction NCCL-style rings reach).

The values are engineering estimates from public measurements, documented in
``docs/perf-model.md``: dense BF16/FP16 GEMM reaches ~75-80 % of peak on A100 and
~70-75 % on H100 (NVIDIA cuBLAS and MLPerf-class kernels; Calculon's efficiency
tables, Isaev et al. SC23, use similar plateaus); FlashAttention-2 reaches ~50-70 %
of peak on A100 and ~35-50 % on H100 for the forward pass (Dao 2023, Fig. 4-6);
STREAM-like HBM traffic reaches ~80-90 % of the nominal bandwidth; NCCL ring
all-reduce bus bandwidth reaches ~80 % of NVLink and ~85-90 % of InfiniBand
line rate (NCCL tests). Blackwell and the lab's accelerator reuse the H100 set
until measurements exist (an assumption, stated in the docs).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Efficiency:
    gemm: float  # fraction of dense peak a large GEMM reaches
    attention: float  # fraction of dense peak of flash-attention (forward)
    hbm: float  # fraction of HBM bandwidth memory-bound kernels reach
    scale_up_link: float  # fraction of scale-up bandwidth a ring collective reaches
    scale_out_link: float  # fraction of scale-out bandwidth a ring collective reaches
    launch_s: float  # per-kernel launch/synchronisation overhead [s]


PROFILES: dict[str, Efficiency] = {
    "a100": Efficiency(gemm=0.78, attention=0.55, hbm=0.85, scale_up_link=0.80, scale_out_link=0.85, launch_s=4e-6),
    "h100": Efficiency(gemm=0.72, attention=0.45, hbm=0.85, scale_up_link=0.80, scale_out_link=0.85, launch_s=4e-6),
}
for _name in ("b200", "b300", "xpu"):
    PROFILES[_name] = PROFILES["h100"]


def profile(name: str) -> Efficiency:
    """The efficiency set of an accelerator type (``a100``, ``h100``, ``b200``, ``b300``, ``xpu``)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"no efficiency profile {name!r}; known: {', '.join(PROFILES)}") from None
