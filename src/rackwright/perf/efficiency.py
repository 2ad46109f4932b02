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
line rate (NCCL tests). Blackwell and the lab's accelerator reuse the H100 GEMM plateaus (an assumption). No
allowed source prints an absolute B200 GEMM rate or its sustained clock: NVIDIA's CUTLASS 3.8 SM100 chart gives
91-98 % of the peak "@ power" (the peak at the power-limited clock, which it does not print), FlashAttention-4 71 %
of the data-sheet peak for attention. Nor do the validation rows show one per-accelerator factor: the NeMo 25.02
B200 rows would need their GEMMs 5-30 % slower, MLPerf v4.1's B200 run 9 % faster, on the same hardware
(``validation/kernel_figures.md``, "Blackwell (B200) GEMM").

The GEMM figures (0.78 A100, 0.72 H100, and the FP8/FP4 ones below) are fractions *measured* at a benchmark shape,
which the sources do not print: taken as M = N = K = 8,192 (:data:`BENCHMARK_GEMM`, the large square GEMM of vendor
charts; an assumption). The model applies the tile factor ``q(M, N)`` (below) to every GEMM it times, so each
profile's plateau is the measured fraction over ``q(8,192, 8,192)`` (:func:`_tile_free`): 8,192 is a whole number of
256 × 128 tiles either way, ``q = 1``, and the measured fractions stand as they are.

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

So, at the benchmark shape, ``gemm_fp8`` = ``0.72 × 0.81`` rounded to 0.58 on H100 (within 0.58-0.68 of the two
sources); block-scaled FP8 on Hopper pays the promotion of partial sums to CUDA-core FP32
every 128 K-elements (DeepSeek-V3 report §3.3.2) and gets 0.55; MXFP8 on Blackwell applies
its block scales inside the tensor core, so it is taken equal to per-tensor FP8; NVFP4
applies the same ratio once more (``0.58 × 0.81 ≈ 0.47``, an assumption until a kernel
benchmark of an allowed source exists). FP8 attention (FlashAttention-3 FP8 forward,
cuDNN FP8 backward) runs at ``attention × 0.81`` of the FP8 peak.

**Blackwell's attention is not MMA-bound (asymmetric scaling).** A B200 SM does twice a Hopper SM's
tensor-core work per clock (dense BF16 8,192 vs 4,096 FLOP/clk/SM: 2.25 PFLOP/s over 148 SMs, 989 TFLOP/s over
132, both at ~1.8-1.9 GHz) but keeps Hopper's exponential units (MUFU, 16 exp/clk/SM) and shared-memory bandwidth
(128 B/clk/SM). FlashAttention-4's authors (Zadouri, Hoehnerbach, Shah, Liu, Thakkar, Dao, "FlashAttention-4:
Algorithm and Kernel Pipelining Co-Design for Asymmetric Hardware Scaling", 2026; Together AI blog
"FlashAttention-4") find by roofline that on B200 the softmax exponentials (forward) and shared-memory traffic
(backward) take 25-60 % longer than the MMAs of a tile. Check for the forward at head dim 128 and a 128 × 128
tile: MMA ``4·128·128·128 / 8,192 = 1,024`` clocks, exponentials ``128·128 / 16 = 1,024`` clocks (already equal
before the max, scale and conversion work). Take the non-MMA work as ``r = 1.4`` B200 MMA-times per tile (the
middle of 1.25-1.6); on Hopper the same work is ``r/2 = 0.7`` of its MMA time, so Hopper kernels stay MMA-bound.
A kernel built for that balance (NeMo 25.02's cuDNN attention; FA4's redesign came later) reaches on B200
``1/r = 0.71`` of its Hopper fraction of peak if it overlaps the two perfectly, and
``(1 + r/2)/(1 + r) = 0.71`` if it overlaps nothing: :data:`BLACKWELL_ATTENTION_RATIO` either way. B300 doubles the
exponential rate but not the shared-memory bandwidth that bounds the backward (2.5 of the 3.5 units of attention
time); it keeps the B200 ratio (an assumption). FP8 attention on Blackwell takes the same ratio (an assumption).

**GEMM shape: the reduction length K.** Each output tile of a GEMM streams K through the tensor cores after a
fixed cost (filling the pipeline from HBM, converting and storing the output tile), so a GEMM reaches
``gemm × K / (K + k0)`` of the peak: ``gemm`` is the large-K plateau and ``k0`` the fixed cost in K-elements.
DeepGEMM's published H800 FP8 table (M = 4,096, K from 512 to 16,384, dense and contiguous grouped GEMMs; see
``validation/kernel_figures.md``) follows ``a × K / (K + k0) × q(M, N)`` (each row's M and N; DeepGEMM sizes its
blocks to fill the SMs, so the same tile-only factor) with ``k0 = 622.5``, ``a = 0.695`` at H100's FP8 rate (least
squares over its ten M = 4,096 rows, refitted by ``tests/test_perf_calibration.py``; within ±0.025 of each row but
the narrow N = 2,112 one, 0.086 below the curve): ``k0 = 620``. The fixed cost is clocks of memory latency and
shared-memory traffic, which do not grow with the tensor-core rate, so ``k0`` scales with the dense FLOP per clock
per SM (an assumption): A100 BF16 2,048 → 155, H100 BF16 4,096 → 310 (FP8: 620), B200 BF16 8,192 → 620 (FP8 1,240,
FP4 2,480).
:data:`Efficiency.gemm_k0` is the BF16 value; low precision scales it by the peak ratio. The weight-gradient GEMMs
reduce over the tokens of a micro-batch (or of an expert), so small micro-batches and small experts lose
efficiency there too.

**GEMM shape: tile quantization by M and N.** A GEMM's ``M × N`` output is cut into ``tm × tn`` tiles, one thread
block (CTA) each; the partial last tile of each row and column computes a whole tile, so the tensor cores do useful
work for ``q = M·N / (⌈M/tm⌉·tm · ⌈N/tn⌉·tn)`` of the time (tile quantization: NVIDIA, "Matrix Multiplication
Background User's Guide", docs.nvidia.com/deeplearning/performance/dl-performance-matrix-multiplication, with a
256 × 128 tile on A100). It matters for small MoE experts (M = the tokens per expert) and odd shapes. Tile per
architecture: A100 256 × 128 (that guide); Hopper 256 × 128 (CUTLASS's ``examples/57_hopper_grouped_gemm``, the
cooperative warp-specialized FP8 kernel, ``TileShape`` 256 × 128 × 128; taken for BF16 too, an assumption);
Blackwell's 2-SM tcgen05 MMA computes 256 × 256 over a pair of SMs, 256 × 128 per SM (an assumption: the same
per-SM tile). The library picks the orientation (256 × 128 or 128 × 256) that wastes less (an assumption: cuBLAS's
heuristics choose among both). A grouped GEMM (MoE experts) pads each group's output alike, so its factor is one
group's.

The guide's second loss, wave quantization (the idle SMs of a last partial wave of tiles), is not charged: the
libraries the validated runs use schedule the last wave with Stream-K (Osama, Merrill, Cecka, Garland, Lumsden,
"Stream-K: Work-centric Parallel Decomposition for Dense Matrix-Matrix Multiplication on the GPU", PPoPP 2023,
NVIDIA: "near-perfect utilization ... regardless of how efficiently the output tiling quantizes across the
underlying processing elements"; cuBLAS, and CUTLASS's SM90 ``PersistentTileSchedulerSm90StreamK``), and DeepGEMM
chooses "unaligned block sizes" (its README) to fill the SMs. No scheduler removes the padding of a partial tile.
Not modelled yet: the overhead of stream-K's fix-up (the partial sums of a split tile written and reduced) and the
tail-wave loss of data-parallel schedulers where a library runs one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

#: FlashAttention-3 (Shah et al. 2024): FP8 forward 61 % of the FP8 peak vs FP16 forward 75 % of its peak.
FP8_FRACTION_RATIO = 0.61 / 0.75
#: A GEMM's output tile per SM (CTA): NVIDIA's matrix-multiplication guide (A100), CUTLASS's Hopper grouped GEMM.
GEMM_TILE = (256.0, 128.0)
#: SMs per GPU (NVIDIA): A100 108, H100 SXM 132, B200 148.
SMS = {"a100": 108.0, "h100": 132.0, "b200": 148.0}


@dataclass(frozen=True)
class Efficiency:
    gemm: float  # fraction of dense peak a large BF16/FP16 GEMM reaches without tile loss
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
    gemm_k0: float = 0.0  # fixed per-tile cost of a BF16 GEMM in K-elements (shape factor K / (K + k0))
    comm_sms: float = 0.0  # share of the SMs an overlapped NCCL collective occupies (COMM_SMS of the GPU's SMs)
    nvls_link: float = 0.0  # fraction of scale-up bandwidth an NVLink SHARP collective reaches (0: no NVLS)
    tile_m: float = GEMM_TILE[0]  # a GEMM's output tile, either orientation (:func:`tile_factor`)
    tile_n: float = GEMM_TILE[1]

    def gemm_for(self, kind: str) -> float:
        """The GEMM efficiency of a precision recipe's GEMM kind (``bf16``, ``fp8``, ``fp8_blockwise``, ...)."""
        return self.gemm if kind in ("bf16", "fp16", "tf32") else getattr(self, f"gemm_{kind}")


def tile_factor(m, n, eff: Efficiency):
    """Share of a GEMM's ``m × n`` output tiles that is useful work: ``m·n / (⌈m/tm⌉·tm · ⌈n/tn⌉·tn)``, in the
    better of the tile's two orientations (NVIDIA's tile quantization; the same for each group of a grouped GEMM)."""

    def useful(tm, tn):
        return m * n / (np.ceil(m / tm) * tm * np.ceil(n / tn) * tn)

    return np.maximum(useful(eff.tile_m, eff.tile_n), useful(eff.tile_n, eff.tile_m))


#: DeepGEMM's H800 FP8 table, least squares with the tile factor (``tests/test_perf_calibration.py``): k0 ≈ 620
#: K-elements at 8,192 dense FLOP/clk/SM; scaled by each GPU's BF16 rate per SM.
GEMM_K0_H100_FP8 = 620.0
#: The shape behind the measured GEMM plateaus below, M = N = K = 8,192: the large square GEMM of vendor charts (an
#: assumption; the sources give ranges of fractions, not shapes).
BENCHMARK_GEMM = 8192.0
_PLATEAUS = ("gemm", "gemm_fp8", "gemm_fp8_blockwise", "gemm_mxfp8", "gemm_fp4")


def _tile_free(measured: Efficiency) -> Efficiency:
    """A profile whose GEMM plateaus were measured at :data:`BENCHMARK_GEMM`, restated free of that shape's tile loss
    (``measured / q``, :func:`tile_factor`; 1 at 8,192), the model applying ``q`` per GEMM."""
    q = float(tile_factor(BENCHMARK_GEMM, BENCHMARK_GEMM, measured))
    return replace(measured, **{name: getattr(measured, name) / q for name in _PLATEAUS})


#: SMs a communication kernel needs to saturate NVLink and InfiniBand: DeepSeek-V3 report §3.2.2 ("only 20 SMs are
#: sufficient to fully utilize the bandwidths of IB and NVLink", for its all-to-all); taken for NCCL's DP
#: collectives too (an assumption: NCCL runs one thread block per channel, 16-32 channels over InfiniBand).
#: While such a collective overlaps compute, the compute runs on the other SMs (:data:`SMS`).
COMM_SMS = 20.0
#: NCCL's model of NVLink SHARP (``src/graph/tuning.cc``, ``nvlsEfficiency``: Hopper 0.85, Blackwell 0.74; Volta and
#: Ampere 0, no NVLS) on its NVLS channels less one (``(nCh - 1) / nCh``; ``src/transport/nvls.cc``: 16 channels on
#: Hopper, 24 on Blackwell in one NVLink domain): the fraction of the scale-up bandwidth an NVLS collective reaches.
NVLS_EFFICIENCY = {"h100": 0.85, "b200": 0.74}
NVLS_CHANNELS = {"h100": 16.0, "b200": 24.0}


def _nvls_link(arch: str) -> float:
    """NCCL's NVLS bandwidth fraction for an architecture: ``nvlsEfficiency · (nCh − 1) / nCh``."""
    return round(NVLS_EFFICIENCY[arch] * (NVLS_CHANNELS[arch] - 1) / NVLS_CHANNELS[arch], 3)


#: A100 and H100 as measured (at :data:`BENCHMARK_GEMM`); Blackwell starts from H100's.
_A100_MEASURED = Efficiency(
    gemm=0.78,
    attention=0.55,
    hbm=0.85,
    scale_up_link=0.80,
    scale_out_link=0.85,
    launch_s=4e-6,
    gemm_k0=GEMM_K0_H100_FP8 / 4,
    comm_sms=round(COMM_SMS / SMS["a100"], 3),
)
_H100_MEASURED = Efficiency(
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
    gemm_k0=GEMM_K0_H100_FP8 / 2,
    comm_sms=round(COMM_SMS / SMS["h100"], 3),
    nvls_link=_nvls_link("h100"),
)
#: Non-MMA (exponential, shared-memory) work of a B200 attention tile in units of its MMA time (FlashAttention-4's
#: roofline: 1.25-1.6; the middle). Hopper does the same work per SM and clock at half the MMA rate: ``r/2``.
BLACKWELL_ATTENTION_NON_MMA = 1.4
#: B200 attention's fraction of peak over Hopper's, the same for perfect and for no overlap of MMA and softmax.
BLACKWELL_ATTENTION_RATIO = round(
    min(1.0 / BLACKWELL_ATTENTION_NON_MMA, (1 + BLACKWELL_ATTENTION_NON_MMA / 2) / (1 + BLACKWELL_ATTENTION_NON_MMA)),
    2,
)
#: Blackwell: the H100 GEMM set (an assumption), plus MXFP8 in the tensor core (= per-tensor FP8) and NVFP4;
#: attention at :data:`BLACKWELL_ATTENTION_RATIO` of Hopper's fraction.
_A100, _H100 = _tile_free(_A100_MEASURED), _tile_free(_H100_MEASURED)
_BLACKWELL_MEASURED = replace(
    _H100_MEASURED,
    gemm_mxfp8=_H100_MEASURED.gemm_fp8,
    gemm_fp4=round(_H100_MEASURED.gemm_fp8 * FP8_FRACTION_RATIO, 2),
    attention=round(_H100.attention * BLACKWELL_ATTENTION_RATIO, 3),
    attention_fp8=round(_H100.attention_fp8 * BLACKWELL_ATTENTION_RATIO, 3),
    gemm_k0=GEMM_K0_H100_FP8,
    comm_sms=round(COMM_SMS / SMS["b200"], 3),
    nvls_link=_nvls_link("b200"),
)
_BLACKWELL = _tile_free(_BLACKWELL_MEASURED)

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
