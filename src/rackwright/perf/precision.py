"""Precision recipes: which precision each operation of a training step runs in, and what it costs.

A recipe (``--precision``) sets the precision of the linear layers' GEMMs (QKV, output
projection, MLP, experts: forward, input-gradient and weight-gradient GEMMs), the achieved
GEMM efficiency of that precision (per accelerator profile, :mod:`rackwright.perf.efficiency`),
and the memory-bound quantization work it adds. What stays in BF16 in every recipe, as in
NVIDIA Transformer Engine (TE) and Megatron-Core: the embedding and output (logits) layers,
layer norms, the router, the optimizer (FP32 master weights) and, unless
``--attention-precision fp8``, the attention core. TP/SP, CP and EP traffic stays BF16.

Quantization costs (HBM traffic per element, at the memory-bound efficiency):

* every input of a low-precision GEMM is quantized: forward the activations entering
  each linear layer, backward the output gradients; each cast reads BF16 (2 bytes) and
  writes a row-wise and a column-wise (transposed) low-precision copy, because Hopper's
  FP8 tensor cores take only the "TN" layout and the weight-gradient GEMM needs the
  transpose (TE's fused cast-transpose; MXFP8/NVFP4 scale along the other axis for it):
  ``2 + 2·q`` bytes for ``q`` bytes per value, plus the scales (one per 32 values for MXFP8,
  per 16 for NVFP4, per 128 for block-wise FP8);
* delayed scaling (TE ``DelayedScaling``) takes the scale from the amax history, computed
  inside the cast kernel; current scaling (``Float8CurrentScaling``) and NVFP4's per-tensor
  second-level scale need the amax before the cast: one more read of the input (2 bytes);
* weights are cast once per step (TE caches the low-precision weights across the
  micro-batches of a step), ``2 + 2·q`` bytes per parameter of the stage; with
  ``--fp8-param-gather`` (Megatron's ``--fp8-param-gather``) the parameters are kept in the
  low precision, the data-parallel all-gather moves ``q`` bytes per parameter instead of 2 and
  only the transpose is made (``2·q`` bytes).

Memory: the low-precision copy of the weights (row- and column-wise, ``2·q`` per parameter)
is held next to the BF16 weights; with ``--fp8-param-gather`` it replaces them. GEMM
inputs saved for the backward pass are the low-precision copies (:mod:`rackwright.perf.memory`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InputError

#: The accelerator precisions a system rates (its ``peak_flops`` keys).
Precision = Literal["bf16", "fp16", "fp8", "fp4", "tf32"]


@dataclass(frozen=True)
class Recipe:
    name: str
    gemm: Precision  # the peak_flops key the linear layers' GEMMs run at
    kind: str  # the efficiency kind (Efficiency.gemm_for): bf16, fp8, fp8_blockwise, mxfp8, fp4
    value_bytes: float  # bytes per value of the GEMM operands (q)
    scale_bytes: float = 0.0  # bytes of scale per value (block scales)
    amax_pass: bool = False  # current scaling: an extra read of the input for the amax before the cast
    description: str = ""

    @property
    def low(self) -> bool:
        """Whether the GEMMs run below 16 bits (so casts, low-precision copies and FP8 options apply)."""
        return self.value_bytes < 2.0

    @property
    def cast_bytes(self) -> float:
        """HBM bytes per quantized activation or gradient element: read BF16, write row- and column-wise."""
        if not self.low:
            return 0.0
        return 2.0 + 2.0 * (self.value_bytes + self.scale_bytes) + (2.0 if self.amax_pass else 0.0)

    @property
    def copy_bytes(self) -> float:
        """Bytes per parameter of the low-precision weight copies (row- and column-wise)."""
        return 2.0 * (self.value_bytes + self.scale_bytes) if self.low else 0.0


#: The recipes (Transformer Engine 2.x recipe classes in brackets).
RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("bf16", "bf16", "bf16", 2.0, description="BF16 mixed precision"),
        Recipe("fp16", "fp16", "bf16", 2.0, description="FP16 mixed precision with loss scaling"),
        Recipe("tf32", "tf32", "bf16", 2.0, description="TF32 GEMMs (FP32 storage is not modelled)"),
        Recipe(
            "fp8-delayed",
            "fp8",
            "fp8",
            1.0,
            description="FP8 (E4M3 forward, E5M2 gradients), per-tensor delayed scaling [DelayedScaling]",
        ),
        Recipe(
            "fp8-current",
            "fp8",
            "fp8",
            1.0,
            amax_pass=True,
            description="FP8, per-tensor current scaling [Float8CurrentScaling]",
        ),
        Recipe(
            "mxfp8",
            "fp8",
            "mxfp8",
            1.0,
            scale_bytes=1.0 / 32,
            description="MXFP8: E8M0 scale per 32 values, Blackwell tensor cores [MXFP8BlockScaling]",
        ),
        Recipe(
            "fp8-blockwise",
            "fp8",
            "fp8_blockwise",
            1.0,
            scale_bytes=4.0 / 128,
            description="FP8 with 1x128 activation and 128x128 weight blocks, DeepSeek-V3 §3.3 [Float8BlockScaling]",
        ),
        Recipe(
            "nvfp4",
            "fp4",
            "fp4",
            0.5,
            scale_bytes=1.0 / 16,
            amax_pass=True,
            description="NVFP4: E4M3 scale per 16 values and a per-tensor FP32 scale [NVFP4BlockScaling]",
        ),
    )
}
#: Names that worked before recipes existed: fp8 is TE's default recipe, fp4 is NVFP4.
ALIASES = {"fp8": "fp8-delayed", "fp4": "nvfp4"}
ATTENTION_PRECISIONS = ("bf16", "fp8")


def names() -> list[str]:
    """Recipe names and aliases, for messages and ``--help``."""
    return [*RECIPES, *ALIASES]


def recipe(name: str) -> Recipe:
    """The recipe of ``name`` (or an alias); :class:`InputError` for an unknown one."""
    key = ALIASES.get(name, name) if isinstance(name, str) else None
    if key not in RECIPES:
        raise InputError.single(None, f"unknown precision {name!r}", "--precision", f"one of: {', '.join(names())}")
    return RECIPES[key]


def check(system, name: str, attention: str = "bf16") -> Recipe:
    """The recipe, checked against the accelerator: its peak rate and the tensor-core support it needs."""
    from .efficiency import profile

    r = recipe(name)
    peaks = system.accelerator.peak_flops
    if r.gemm not in peaks:
        raise InputError.single(
            None,
            f"{system.accelerator.name} has no {r.gemm} peak rate (needed by {r.name})",
            "--precision",
            f"one of the precisions it has: {', '.join(peaks)}",
        )
    if not profile(system.accelerator.profile).gemm_for(r.kind):
        raise InputError.single(
            None,
            f"{r.name} needs block-scaling tensor cores that {system.accelerator.name} "
            f"(profile {system.accelerator.profile}) lacks",
            "--precision",
            "use fp8-delayed, fp8-current or fp8-blockwise on Hopper",
        )
    if attention not in ATTENTION_PRECISIONS:
        raise InputError.single(
            None, f"unknown attention precision {attention!r}", "--attention-precision", "bf16 or fp8"
        )
    if attention == "fp8" and "fp8" not in peaks:
        raise InputError.single(
            None, f"{system.accelerator.name} has no fp8 peak rate for FP8 attention", "--attention-precision", "bf16"
        )
    return r
