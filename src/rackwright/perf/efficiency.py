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

**Low precision reaches a lower fraction of its (higher) peak than BF16 of its own.**
Physics: an FP8 tensor core does twice the FLOPs per cycle on the same shared-memory
and register bandwidth per operand byte, the same epilogue (a BF16/FP32 output tile) and
the same power envelope, so the fixed per-tile costs weigh twice as much and the clock
sags under the higher tensor-core power; FP4 halves the time per FLOP again. Sources
(kernel authors' published benchmarks on H100/H800, 1,979 TFLOP/s dense FP8):

* FlashAttention-3 (Shah et al. 2024, arXiv 2407.08608, §4): FP16 forward up to
  740 TFLOP/s = 75 % of the 989 TFLOP/s peak, FP8 forward "close to 1.2 PFLOP/s" =
  61 % of the 1,979 TFLOP/s peak: the FP8/BF16 ratio of achieved fractions is
  ``0.61 / 0.75 = 0.81`` (:data:`FP8_FRACTION_RATIO`).
* DeepGEMM (DeepSeek, README at release, 2025-02): "1350+ FP8 TFLOPS" on Hopper with
  1×128/128×128 block scaling and CUDA-core promotion, i.e. at most 68 % of peak for its
  best shapes, against 72 % here for BF16 of its peak.

So ``gemm_fp8`` = ``gemm × 0.81`` rounded to 0.58 on H100 (within 0.58-0.68 of the two
sources); block-scaled FP8 on Hopper pays the promotion of partial sums to CUDA-core FP32
every 128 K-elements (DeepSeek-V3 report §3.3.2) and gets 0.55; MXFP8 on Blackwell applies
its block scales inside the tensor core, so it is taken equal to per-tensor FP8; NVFP4
applies the same ratio once more (``0.58 × 0.81 ≈ 0.47``, an assumption until a kernel
benchmark of an allowed source exists). FP8 attention (FlashAttention-3 FP8 forward,
cuDNN FP8 backward) runs at ``attention × 0.81`` of the FP8 peak.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: FlashAttention-3 (Shah et al. 2024): FP8 forward 61 % of the FP8 peak vs FP16 forward 75 % of its peak.
FP8_FRACTION_RATIO = 0.61 / 0.75


@dataclass(frozen=True)
class Efficiency:
    gemm: float  # fraction of dense peak a large BF16/FP16 GEMM reaches
    attention: float  # fraction of dense peak of flash-attention (forward), BF16
    hbm: float  # fraction of HBM bandwidth memory-bound kernels reach
    scale_up_link: float  # fraction of scale-up bandwidth a ring collective reaches
    scale_out_link: float  # fraction of scale-out bandwidth a ring collective reaches
    launch_s: float  # per-kernel launch/synchronisation overhead [s]
    gemm_fp8: float = 0.0  # per-tensor scaled FP8 GEMM, of the FP8 dense peak (0: no FP8)
    gemm_fp8_blockwise: float = 0.0  # 1×128 / 128×128 block-scaled FP8 GEMM, of the FP8 peak
    gemm_mxfp8: float = 0.0  # MXFP8 (32-element blocks, E8M0 scales in the tensor core), of the FP8 peak
    gemm_fp4: float = 0.0  # NVFP4 (16-element blocks), of the FP4 dense peak
    attention_fp8: float = 0.0  # FP8 flash attention, of the FP8 dense peak

    def gemm_for(self, kind: str) -> float:
        """The GEMM efficiency of a precision recipe's GEMM kind (``bf16``, ``fp8``, ``fp8_blockwise``, ...)."""
        return self.gemm if kind in ("bf16", "fp16", "tf32") else getattr(self, f"gemm_{kind}")


_A100 = Efficiency(gemm=0.78, attention=0.55, hbm=0.85, scale_up_link=0.80, scale_out_link=0.85, launch_s=4e-6)
_H100 = Efficiency(
    gemm=0.72,
    attention=0.45,
    hbm=0.85,
    scale_up_link=0.80,
    scale_out_link=0.85,
    launch_s=4e-6,
    gemm_fp8=0.58,
    gemm_fp8_blockwise=0.55,
    gemm_mxfp8=0.0,
    gemm_fp4=0.0,
    attention_fp8=round(0.45 * FP8_FRACTION_RATIO, 3),
)
#: Blackwell: the H100 set (an assumption), plus MXFP8 in the tensor core (= per-tensor FP8) and NVFP4.
_BLACKWELL = replace(_H100, gemm_mxfp8=_H100.gemm_fp8, gemm_fp4=round(_H100.gemm_fp8 * FP8_FRACTION_RATIO, 2))

PROFILES: dict[str, Efficiency] = {
    "a100": _A100,
    "h100": _H100,
    "b200": _BLACKWELL,
    "b300": _BLACKWELL,
    "xpu": _BLACKWELL,
}


def profile(name: str) -> Efficiency:
    """The efficiency set of an accelerator type (``a100``, ``h100``, ``b200``, ``b300``, ``xpu``)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"no efficiency profile {name!r}; known: {', '.join(PROFILES)}") from None
