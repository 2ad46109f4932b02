"""Training step time of a transformer on a system, vectorised over parallelism configurations.

Every argument in :class:`Parallelism` is a NumPy array (or scalar) of the same
shape, so one call evaluates one configuration or every configuration of a
search; model and system are scalars. All quantities are SI (s, FLOP, bytes).

The step is built per layer and micro-batch on one accelerator, then composed:

* **Matrix multiplies** (QKV/output projections, MLP or experts, logits): a roofline
  per GEMM with a launch overhead (:mod:`rackwright.perf.efficiency`), at an efficiency shaped by the reduction
  length K and by the tile quantization of the M × N output;
  backward costs twice the forward (input and weight gradients).
* **Attention core**, flash-attention style (causal: half the full ``4·s²·n·d`` FLOPs
  are computed), backward 2.5× the forward (FlashAttention-2 recomputes inside;
  T. Dao, "FlashAttention-2", 2023); or, for stacks that predate it, materialised:
  the full score GEMMs at GEMM efficiency plus the traffic of the ``b·a·s²`` score
  matrix (written by QKᵀ, read and written by the fused scale-mask-softmax and by
  dropout with its 1-byte mask, read by the context GEMM: 13 bytes per score
  forward, twice that backward; Megatron-LM 2021, Korthikanti et al. 2022 §4).
* **Memory-bound element-wise work** (layer norms, dropout, residuals, activation
  functions) from bytes moved at HBM bandwidth.
* **Tensor/sequence parallelism**: 4 ring collectives (all-gather + reduce-scatter
  around attention and MLP, or 2 all-reduces) of ``T·h·2`` bytes per layer forward
  and again backward: ``(t−1)/t · S / B`` plus ``α`` per ring step (Narayanan et al.
  2021; Korthikanti et al. 2022); overlapped with the GEMMs, the last chunk of each
  forward reduce-scatter and the SMs they hold while hidden (:func:`_tp_exposed`).
* **Context parallelism**: ring attention passes K and V ``cp−1`` times, each transfer behind one step's
  attention, K,V and dK,dV backward with the last dK,dV exposed, and the steps' partial outputs and gradients
  merged at HBM bandwidth (Liu et al. 2023, "Ring Attention"; Transformer Engine's P2P implementation); or
  (``cp_comm_type`` all_gather, Llama 3 §3.3.2) K and V all-gathered, exposed, and dK,dV reduce-scattered
  (:func:`_gathered_attention`). The K and V exchanged are the ones attention reads, for MLA the up-projected ones.
  Local-attention layers run the all-gather (TE's ring refuses a window), each step on the K,V its window sees
  (:func:`_context_parallel`).
* **Expert parallelism**: two all-to-alls (dispatch, combine) per MoE layer forward
  and backward, ``(e−1)/e · T·k·h·2 / B`` (Lepikhin et al. 2021, GShard); DeepEP's per-domain copies, capped by
  node-limited routing (:func:`_remote_domains`); dropless, or with a capacity factor dropping or padding
  (:func:`_moe_load`).
* **Pipeline**: point-to-point activations between stages, and the 1F1B bubble
  ``(p − 1)/(v·m)`` of the interleaved schedule (Narayanan et al. 2021, eq. 1-2).
* **Data parallelism**: gradient all-reduce (or reduce-scatter + all-gather with the
  distributed optimizer, the same volume) ``2·(d−1)/d · 2·P / B``, the routed experts' share over their
  expert-data-parallel group (:func:`_dp_collective`); overlapped with the last micro-batch's backward
  where enabled.
* **In-network reduction** (NVLink SHARP inside a scale-up domain, InfiniBand SHARP across, where the system has
  them and the run leaves them on): a level whose switches reduce moves each byte once up and once down, ``S / B +
  α``, an all-reduce at bus-bandwidth factor 1 instead of ``2·(n−1)/n`` (:func:`_collective`).
* **Loss**: the vocab-parallel cross-entropy over the FP32 logits at HBM bandwidth
  (:data:`CROSS_ENTROPY_BYTES`).
* **Optimizer**: Adam with FP32 master weights reads and writes ~30 bytes per
  parameter at HBM bandwidth, sharded over DP with the distributed optimizer.
* **Precision recipe** (:mod:`rackwright.perf.precision`): the linear layers' GEMMs run at
  the recipe's peak and achieved efficiency (lower for FP8/FP4 than for BF16,
  :mod:`rackwright.perf.efficiency`), the logits and (unless FP8 attention) the attention
  core in BF16; the casts of GEMM inputs and weights are memory-bound kernels at HBM
  bandwidth; low-precision parameters shrink the DP all-gather.

Recompute: ``full`` re-runs the forward of each layer in backward (Chen et al. 2016),
``selective`` only the attention core (Korthikanti et al. 2022).

Groups are laid out TP fastest, then CP, then DP (EP inside DP), then PP, as
Megatron-LM orders them; a group runs on the scale-up network when it fits inside
one scale-up domain, else on the scale-out network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..models import Array
from .efficiency import Efficiency, profile, tile_factor
from .memory import _bit, training_memory
from .placement import span, spread
from .precision import Recipe
from .precision import recipe as get_recipe
from .stages import (
    PP_SCHEDULES,
    average_layer_params,
    dualpipe,
    expert_data_parallel,
    layers_per_stage,
    routed_expert_share,
    stage_layer_counts,
    stage_params,
)

RECOMPUTE = {"none": 0, "selective": 1, "full": 2}
#: Context parallelism's K,V exchange (Megatron-Core ``cp_comm_type``), as codes of ``Parallelism.cp_comm_type``.
CP_COMM_TYPES = {"p2p": 0, "all_gather": 1}
BYTES_ACTIVATION = 2.0  # BF16/FP16 activations and gradients
ADAM_BYTES_PER_PARAM = 30.0  # read FP32 param, m, v, grad (16) + write param, m, v (12) + BF16 copy (2)
#: With BF16 moments (``Parallelism.bf16_moments``): read FP32 param and grad (8), BF16 m and v (4) + write FP32
#: param (4), BF16 m and v (4) + BF16 copy (2): 30 − 2 moments × (read + write) × 2 bytes.
ADAM_BF16_MOMENTS_BYTES_PER_PARAM = 22.0
#: Element-wise bytes moved per layer forward, in units of T·h·2 bytes (T tokens, hidden h):
#: 2 layer norms (read+write: 4), 2 dropouts (read, write, mask: 5), 2 residual adds (2 reads, 1 write: 6),
#: bias and misc (1). The activation function adds ACTIVATION_ELEMENTS[ffn_type]·f elements.
ELEMENTWISE_PER_TOKEN_HIDDEN = 16.0
#: Elements per MLP intermediate element that the activation function reads and writes, forward: a fused GELU
#: reads its input and writes its output (2); SwiGLU reads gate and up and writes one (3). Squared ReLU as NeMo
#: defines it (``nemo/collections/llm/fn/activation.py`` in NeMo 2.2.0, and NeMo 1.x's
#: ``nlp/modules/common/megatron/utils.py``: ``torch.pow(torch.nn.functional.relu(x), 2)``, its ``torch.jit.script``
#: commented out) runs eagerly as two kernels, ReLU then the square, each reading and writing (4); Megatron-LM's own
#: ``megatron/training/activations.py`` fuses it (``@jit_fuser``), as ``gelu``. The backward pass is charged twice the
#: forward, as every element-wise operation (PyTorch's eager backward of the two kernels moves about 10 elements:
#: ``pow_backward``'s copy, scale and product, then ``threshold_backward``).
ACTIVATION_ELEMENTS = {"gelu": 2.0, "swiglu": 3.0, "squared_relu": 4.0}
CAUSAL_FRACTION = 0.5  # share of the full QKᵀ/AV work a causal flash-attention kernel computes
SCORE_BYTES_FORWARD = 13.0  # materialised attention: bytes moved per score element in the forward pass
#: FP8 attention: bytes per cast element of Q, K, V (forward) and dO (backward): read BF16 (2), write FP8 (1) and
#: a transposed FP8 copy or the amax pass (1) (FlashAttention-3 FP8 takes V transposed; cuDNN FP8 attention).
ATTENTION_CAST_BYTES = 4.0
#: MoE load imbalance (an assumption): dropless routing balanced by an auxiliary loss leaves the busiest EP rank with
#: more than the mean share of tokens, and every rank waits for it in the combine. Switch Transformer (Fedus et al.,
#: JMLR 2022, §2.2 and Table 1) trains aux-loss-balanced experts at capacity factors 1.0-1.25, i.e. with expert loads
#: designed to stay within 1.25x the mean; the busiest rank is taken at the middle of that range.
MOE_LOAD_IMBALANCE = 1.125
#: Routing work per MoE layer forward, in units of the rank's token share × hidden × 2 bytes (Megatron-Core's
#: alltoall dispatcher): the router reads its input (1); permute reads and writes k copies (2k); unpermute reads
#: k copies and writes the combined token (k + 1); with more than one local expert the received tokens are
#: sorted by expert and back (4k more). The backward pass moves as much again.
ROUTER_READS = 1.0
#: Bytes moved per logit element by Megatron-Core's fused vocab-parallel cross-entropy (``fused_cross_entropy``,
#: ``cross_entropy_loss_fusion``; the unfused one makes more passes): forward, the BF16 logits read and converted to
#: FP32 with their maximum (2 + 4), shifted and exponentiated with the sum (4 + 4), normalised in place (4 + 4);
#: backward, the softmax read and the gradient written scaled (4 + 4) and cast to BF16 for the output layer's
#: GEMMs (4 + 2). The FP32 copy is what the memory model holds as the logits (4 bytes per element).
CROSS_ENTROPY_BYTES = 36.0
#: Context parallelism (Transformer Engine's ring): bytes per element to merge a step's partial attention output
#: (read its BF16 output, read and write the FP32 running output) or add a step's dQ into the FP32 accumulator;
#: the final cast of the FP32 output to BF16 (read 4, write 2); a step's dK,dV added to the received ones in BF16
#: (read 2 + 2, write 2). TE ``AttnFuncWithCPAndKVP2P``: ``flash_attn_fwd_out_correction``, ``out.to(dtype)``.
CP_MERGE_BYTES = 10.0
CP_CAST_BYTES = 6.0
CP_KV_ADD_BYTES = 6.0
#: All-gather context parallelism (TE ``AttnFuncWithCPAndKVAllGather``, Megatron's sbhd layout, where the per-step
#: K,V slices and Q chunks are views): memory-bound bytes per byte of the gathered BF16 K,V. Forward: the gathered
#: K,V reordered from rank order into sequence order (``index_select``: read, write). Backward: the re-gathered K,V
#: reordered again (2), the full dK,dV zeroed (1), each step's dK,dV added into its K,V range (read both, write: 3
#: per byte of the two steps' ranges, which cover ``1 + 1/(2·cp)`` of the sequence) and dK,dV reordered back into
#: rank order before the reduce-scatter (2). Each step's output (forward) and dQ (backward) is copied into place:
#: read and write, 2 bytes per byte.
CP_GATHER_REORDER_BYTES = 2.0
CP_GATHER_BACKWARD_BYTES = 5.0
CP_GATHER_ADD_BYTES = 3.0
CP_GATHER_COPY_BYTES = 2.0


@dataclass
class Parallelism:
    """Arrays (or scalars) describing configurations; ``recompute`` uses :data:`RECOMPUTE` codes."""

    tp: Array
    pp: Array
    dp: Array
    micro_batch: Array
    vp: Array = 1
    cp: Array = 1
    ep: Array = 1
    etp: Array = 0  # expert tensor parallelism (0: = tp); EP × ETP folded over TP × CP × DP
    sp: Array = True
    recompute: Array = 2
    distributed_optimizer: Array = False
    overlap_dp: Array = True
    overlap_tp: Array = False
    flash_attention: Array = True
    fp8_param_gather: Array = False  # parameters kept in the recipe's low precision (DP all-gather, memory)
    overlap_param_gather: Array = False  # distributed optimizer: all-gather hidden behind the next forward
    recompute_modules: Array = 1  # with recompute "selective": bits of memory.RECOMPUTE_MODULES (core_attn)
    fp32_grads: Array = True  # gradients accumulated and reduced in FP32 (False: in 16 bits, half the bytes)
    first_stage_layers: Array = 0  # layers of the first pipeline stage (0: an even split)
    last_stage_layers: Array = 0  # layers of the last pipeline stage (0: an even split)
    moe_dispatcher: Array = 0  # 0: all-to-all (Megatron alltoall), 1: DeepEP (per-domain de-duplication, FP8)
    moe_a2a_overlap: Array = False  # dispatch/combine hidden behind another micro-batch's compute (DualPipe)
    fsdp: Array = False  # ZeRO-3: weights, gradients and optimizer sharded over DP × CP, gathered per micro-batch
    overlap_p2p: Array = False  # interleaved schedule: stage sends behind compute (overlap_p2p_comm)
    hsdp_replicas: Array = 1  # with fsdp: replicas of the sharded model (HSDP), sharded over DP × CP / r
    zero2: Array = False  # with the distributed optimizer: gradients sharded too, reduced per micro-batch
    cp_comm_type: Array = 0  # CP_COMM_TYPES: 0 the p2p ring (Megatron-Core's default), 1 all-gather (Llama 3)
    moe_capacity_factor: Array = 0.0  # expert capacity / mean load, tokens above it dropped (0: dropless)
    moe_pad_to_capacity: Array = False  # with a capacity factor: every expert's input padded to its capacity
    pp_schedule: Array = PP_SCHEDULES["1f1b"]  # stages.PP_SCHEDULES: 1F1B (interleaved with vp > 1) or DualPipe
    bf16_moments: Array = False  # Adam's momentum and variance in BF16 (precision-aware optimizer), master FP32
    activation_fp8_input_store: Array = False  # the MLP activation's input saved in FP8 (memory.saved_bytes)
    attention_output_e5m6: Array = False  # the attention output saved once in E5M6 (DeepSeek-V3; memory.saved_bytes)

    def arrays(self) -> dict[str, np.ndarray]:
        fields = {k: np.asarray(v) for k, v in self.__dict__.items()}
        shape = np.broadcast_shapes(*(a.shape for a in fields.values()))
        out = {k: np.broadcast_to(v.astype(float, copy=False), shape) for k, v in fields.items()}  # read-only views
        out["etp"] = np.where(out["etp"] > 0, out["etp"], out["tp"])
        return out


def _ring(size, bytes_, bandwidth, latency):
    """Ring all-gather or reduce-scatter time: ``(n−1)/n · S / B + (n−1)·α`` (0 for n = 1, where both terms are)."""
    steps = np.asarray(size) - 1.0
    return steps * (bytes_ / (size * bandwidth) + latency)


def _gemm_time(flops, k, n, tokens, peak, hbm_bw, eff: Efficiency, gemm_eff=None, operand_bytes=2.0, shape=1.0):
    """Roofline of one GEMM (tokens × k) · (k × n), plus a launch overhead.

    The operands are ``operand_bytes`` per value (2 for BF16, 1 for FP8), the output BF16;
    ``gemm_eff`` is the achieved fraction of ``peak`` for large GEMMs (default: the BF16 one) and ``shape``
    the share of it this GEMM's shape reaches (:func:`_shape_factor`).
    """
    bytes_ = operand_bytes * (tokens * k + k * n) + 2.0 * tokens * n
    achieved = (eff.gemm if gemm_eff is None else gemm_eff) * shape
    return np.maximum(flops / (peak * achieved), bytes_ / (hbm_bw * eff.hbm)) + eff.launch_s


def _shape_factor(k_in, k_out, tokens, k0, eff: Efficiency | None = None):
    """Share of the large-GEMM efficiency that a weight block's GEMMs reach over forward and backward.

    A GEMM reducing over ``K`` reaches ``K / (K + k0)`` of the plateau, times the tile quantization of its
    ``M × N`` output, ``q(M, N)`` (:func:`rackwright.perf.efficiency.tile_factor`, with ``eff``'s tile; 1 without
    ``eff``). The block's GEMMs, with equal FLOPs each: forward ``T × k_out`` reducing over ``k_in`` and ``T × k_in``
    over ``k_out``; input gradients the same two pairs; weight gradients ``k_in × k_out`` over the ``tokens`` ``T``.
    The time-weighted factor is ``3 / Σ 1 / (f(K) · q(M, N))``.
    """
    tile = (lambda m, n: 1.0) if eff is None else (lambda m, n: tile_factor(m, n, eff))  # noqa: E731
    inverse = lambda k, m, n: (k + k0) / k / tile(m, n)  # noqa: E731
    return 3.0 / (inverse(k_in, tokens, k_out) + inverse(k_out, tokens, k_in) + inverse(tokens, k_in, k_out))


def _ranks(c):
    """The job's ranks, TP·CP·DP·PP: how many blocks of each group's layout it holds (:mod:`.placement`)."""
    return c["tp"] * c["cp"] * c["dp"] * c["pp"]


def _group_bandwidth(stride, size, system, eff: Efficiency, ranks=None):
    """(bandwidth, latency) of a group: scale-up when every such group of the job's ``ranks`` lies inside one
    scale-up domain (:func:`rackwright.perf.placement.span`)."""
    inside = span(size, stride, system.scale_up.size, ranks) == 1
    bandwidth = np.where(
        inside, system.scale_up.bandwidth * eff.scale_up_link, system.scale_out.bandwidth * eff.scale_out_link
    )
    latency = np.where(inside, system.latency.scale_up, system.latency.scale_out)
    return bandwidth, latency


def _collective(stride, size, bytes_, system, eff: Efficiency, passes=1, ranks=None):
    """A reduce-scatter or all-gather (``passes`` 1), or an all-reduce (``passes`` 2: a reduce-scatter, then an
    all-gather), of ``bytes_`` over a group of ``size`` ranks laid out with ``stride`` among the job's ``ranks``
    [s].

    Inside one scale-up domain it is a ring at scale-up speed. A group that spans domains runs
    hierarchically, as NCCL's rings over the rails do (one ring per NIC; NVLink inside the domain): its
    ``g`` members of a domain first reduce-scatter among themselves over the scale-up network, then each
    exchanges its ``1/g`` share with its peers across the group's ``D`` domains over its own NIC:
    ``ring(g, S, scale-up) + ring(D, S / g, scale-out)``. With one member per domain (stride ≥ domain) this is
    the flat ring at scale-out speed. The groups run in lockstep, so the slowest sets the pace: ``D`` is the most
    domains one of them touches and ``g`` the fewest members a straddling one has in a domain
    (:func:`rackwright.perf.placement.spread`; a 72-GPU domain cuts EP 64 at stride 1 into 8 + 56). An assumption,
    and its reason: the domain with the fewest members paces the cross-domain level, since NCCL takes the channel
    count and inter-node bandwidth at their minimum over the ranks ("make sure tuning is consistent across
    ranks", ``src/init.cc`` after ``allGather3``), so the whole share leaves that domain through its ``g`` NICs;
    the larger domains' rings inside (up to ``⌈U/s⌉`` members) are counted as ``g``'s, a difference of
    ``(1/g − 1/g')·S`` at scale-up speed. An all-reduce runs each level's ring twice (reduce-scatter, the shares'
    all-reduce across domains, all-gather): bus-bandwidth factor ``2·(n−1)/n``.

    **In-network reduction** (:class:`rackwright.perf.system.InNetworkReductionSpec`, per level). The switch
    reduces what the ranks send it and multicasts the result, so each byte crosses a rank's link once up and once
    down, in one step: ``S_l / B_l + α_l`` for the level's bytes ``S_l`` (``S`` inside the domain, ``S / g``
    across domains). That holds for an all-reduce as for a reduce-scatter or an all-gather: the reduction goes
    up and the result comes down on the link's two directions at once (NCCL's tuning model, ``src/graph/tuning.cc``:
    "AllReduce pipelines two operations", twice the NVLS bus bandwidth of its reduce-scatter). So an all-reduce's
    bus-bandwidth factor falls from ``2·(n−1)/n`` to 1; a reduce-scatter or all-gather gains no bandwidth
    (``(n−1)/n`` becomes 1) but its ``n − 1`` latency steps become one. NCCL's tuner picks the faster algorithm
    for each call, so each level takes the smaller of ring and switch. Scale-up: NVLink SHARP at
    ``eff.nvls_link`` of the link (:data:`rackwright.perf.efficiency.NVLS_EFFICIENCY`); scale-out: InfiniBand
    SHARP at the NIC's ``scale_out_link`` (an assumption: streaming aggregation at the line-rate fraction rings
    reach). NVLS frees the SMs of the reduction arithmetic, but its kernels still hold 16 (Hopper) to 24-32
    (Blackwell) CTAs (``src/transport/nvls.cc``), no fewer than :data:`rackwright.perf.efficiency.COMM_SMS`, so
    the SMs an overlapped collective takes are not changed.
    """
    domains, members = spread(size, stride, system.scale_up.size, ranks)
    up = system.scale_up.bandwidth * eff.scale_up_link
    out = system.scale_out.bandwidth * eff.scale_out_link
    intra = passes * _ring(members, bytes_, up, system.latency.scale_up)
    inter = passes * _ring(domains, bytes_ / members, out, system.latency.scale_out)
    switches = in_network_levels(system, eff)
    if switches["scale_up"]:
        nvls = system.scale_up.bandwidth * eff.nvls_link
        intra = np.minimum(intra, _in_network(members, bytes_, nvls, system.latency.scale_up))
    if switches["scale_out"]:
        inter = np.minimum(inter, _in_network(domains, bytes_ / members, out, system.latency.scale_out))
    return intra + inter


def in_network_levels(system, eff: Efficiency | None = None) -> dict[str, bool]:
    """The levels whose switches reduce in a run on ``system`` (what ``perf train``/``search`` report): the
    system's :class:`~rackwright.perf.system.InNetworkReductionSpec`, scale-up only where the accelerator's
    efficiency set has an NVLink SHARP rate (``eff.nvls_link`` > 0; none for A100)."""
    eff = eff or profile(system.accelerator.profile)
    switches = system.in_network_reduction
    return {"scale_up": bool(switches.scale_up and eff.nvls_link > 0), "scale_out": bool(switches.scale_out)}


def _in_network(size, bytes_, bandwidth, latency):
    """A collective reduced in the switch: each byte up the link once and down once, in one step,
    ``S / B + α`` (0 for ``n = 1``)."""
    return np.where(np.asarray(size) > 1, bytes_ / bandwidth + latency, 0.0)


def _weights_time(params, tokens, h, tp, peak, hbm_bw, eff: Efficiency, rec: Recipe | None = None, k0=0.0):
    """A block of ``params`` weights applied to ``tokens`` as two equal GEMMs ``(T × h)·(h × n)``, split by TP.

    Attention is its input and output projections, an MLP or expert its up and down projections; ``k0`` is the
    GEMMs' fixed per-tile cost in K-elements at this precision (:func:`_shape_factor`). Returns the time and the
    elements a low-precision recipe quantizes per pass: the inputs of the two GEMMs forward, ``T·(h + n)`` (and
    as many output gradients backward).
    """
    n = params / (2 * h) / tp
    gemm_eff = None if rec is None else eff.gemm_for(rec.kind)
    operand = 2.0 if rec is None else rec.value_bytes + rec.scale_bytes
    shape = _shape_factor(h, n, tokens, k0, eff)
    time = 2 * _gemm_time(2 * tokens * h * n, h, n, tokens, peak, hbm_bw, eff, gemm_eff, operand, shape)
    return time, tokens * (h + n)


def _layer_times(
    model,
    system,
    c,
    tokens,
    seq,
    moe: bool,
    eff: Efficiency,
    peak,
    rec: Recipe,
    attention_peak,
    attention_fp8: bool,
    k0: float,
):
    """Forward times of one layer and one micro-batch on one accelerator, by component [s].

    ``peak`` is the rate of the linear layers' GEMMs (the recipe's), ``attention_peak`` that of the
    attention core (BF16, or FP8 with ``attention_fp8``); ``k0`` the linear GEMMs' fixed per-tile cost.
    """
    h, tp = model.hidden, c["tp"]
    hbm_bw = system.accelerator.hbm_bandwidth
    block = lambda params, t: _weights_time(params, t, h, tp, peak, hbm_bw, eff, rec, k0)  # noqa: E731
    gemm, quantized = block(model.attention_params_per_layer, tokens)
    attention_gemm, attention_quantized = gemm, quantized
    if moe:
        # Balanced routing (GShard): the EP × ETP group's tokens, ep·etp·T/t per rank's share (T/t after SP), reach
        # each expert k/E of the time; a rank runs its E/ep experts on them with 1/etp of each expert's weights.
        # The busiest EP rank sets the pace (:func:`_moe_load`).
        etp = c["etp"]
        imbalance = _moe_load(c)
        tokens_per_expert = tokens / tp * c["ep"] * etp * model.experts_per_token / model.experts * imbalance
        routed, routed_q = _weights_time(model.expert_params, tokens_per_expert, h, etp, peak, hbm_bw, eff, rec, k0)
        gemm, quantized = gemm + model.experts / c["ep"] * routed, quantized + model.experts / c["ep"] * routed_q
        if model.shared_experts:
            shared, shared_q = block(model.shared_experts * model.expert_params, tokens)
            gemm, quantized = gemm + shared, quantized + shared_q
        ffn_elements = (model.experts_per_token + model.shared_experts) * model.moe_ffn_hidden
    else:
        mlp, mlp_q = block(model.dense_mlp_params_per_layer, tokens)
        gemm, quantized = gemm + mlp, quantized + mlp_q
        ffn_elements = model.ffn_hidden
    full_attention_flops = tokens * model.attention_flops_per_token(seq, windowed=False) / model.layers / tp
    attention_eff = eff.attention_fp8 if attention_fp8 else eff.attention
    scores = tokens * seq * model.heads / tp  # elements of the b·a·s² score matrix on this accelerator
    materialised = (
        full_attention_flops / (attention_peak * eff.gemm)
        + scores * SCORE_BYTES_FORWARD / (hbm_bw * eff.hbm)
        + 4 * eff.launch_s
    )
    # Flash attention skips the blocks outside a local layer's window (a share of the full causal work); a
    # materialised kernel computes the whole masked score matrix.
    flash = lambda share: full_attention_flops * share * CAUSAL_FRACTION / (attention_peak * attention_eff)  # noqa: E731
    attention = np.where(c["flash_attention"] > 0, flash(model.attention_share(seq)) + eff.launch_s, materialised)
    global_attention = np.where(c["flash_attention"] > 0, flash(1.0) + eff.launch_s, materialised)
    activation_factor = ACTIVATION_ELEMENTS[model.ffn_type]
    elementwise_elements = (
        ELEMENTWISE_PER_TOKEN_HIDDEN * h / np.where(c["sp"] > 0, tp, 1) + activation_factor * ffn_elements / tp
    )
    elementwise = tokens * elementwise_elements * BYTES_ACTIVATION / (hbm_bw * eff.hbm) + 6 * eff.launch_s
    # Parts that module-level recompute re-runs: the 2 layer norms (4 of the 16 units of T·h·2 bytes), the
    # activation function, the MLP's (or experts') GEMMs and casts, MLA's up-projections.
    layernorm = (
        tokens * 4.0 * h / np.where(c["sp"] > 0, tp, 1) * BYTES_ACTIVATION / (hbm_bw * eff.hbm) + 2 * eff.launch_s
    )
    activation = tokens * activation_factor * ffn_elements / tp * BYTES_ACTIVATION / (hbm_bw * eff.hbm) + eff.launch_s
    up_share = _mla_up_share(model)
    # Casts of the GEMM inputs (4 per block: 2 GEMMs, forward; the backward casts as many output gradients).
    blocks = 2 + (model.experts / c["ep"] + (1 if model.shared_experts else 0) if moe else 0)
    quantize = (
        (quantized * rec.cast_bytes / (hbm_bw * eff.hbm) + 2 * blocks * eff.launch_s) if rec.low else 0.0 * tokens
    )
    if attention_fp8:
        qkv = (model.heads * model.qk_head_dim + model.kv_heads * (model.qk_head_dim + model.v_dim)) / tp
        quantize = quantize + tokens * qkv * ATTENTION_CAST_BYTES / (hbm_bw * eff.hbm) + eff.launch_s

    activation_bytes = tokens * h * BYTES_ACTIVATION
    # Sequence parallelism: 2 all-gathers and 2 reduce-scatters per pass; without it 2 all-reduces (as many bytes
    # on rings; fewer where the switch reduces, :func:`_collective`).
    tp_comm = np.where(
        c["sp"] > 0,
        4 * _collective(1, tp, activation_bytes, system, eff, ranks=_ranks(c)),
        2 * _collective(1, tp, activation_bytes, system, eff, passes=2, ranks=_ranks(c)),
    )
    cp_forward, cp_backward = _context_parallel(model, system, c, tokens, seq, global_attention, eff)
    ep_comm, route = 0.0, 0.0 * tokens
    if moe:
        ep_comm = _moe_dispatch_combine(model, system, c, tokens / tp, eff, rec) * imbalance
        route = _moe_route(model, c, tokens / tp, hbm_bw, eff)
    cast = rec.cast_bytes / (hbm_bw * eff.hbm) if rec.low else 0.0
    return {
        "gemm": gemm,
        "attention": attention,
        "elementwise": elementwise,
        "quantize": quantize,
        "tp": tp_comm,
        "cp": cp_forward,
        "_cp_backward": cp_backward,
        "ep": ep_comm,
        "route": route,
        "_layernorm": layernorm,
        "_activation": activation,
        "_mlp_gemm": gemm - attention_gemm,
        "_mlp_quantize": (quantized - attention_quantized) * cast,
        "_up_gemm": up_share * attention_gemm,
    }


def _moe_load(c):
    """Tokens the busiest EP rank's experts compute, dispatch and combine, over the mean share.

    Dropless: :data:`MOE_LOAD_IMBALANCE` with experts spread over EP ranks, 1 without EP. With a capacity factor
    ``f`` (Megatron-Core ``--moe-expert-capacity-factor``: each expert takes at most ``f · T·k/E`` of a rank's ``T``
    tokens, the rest dropped before the all-to-all, ``moe_utils.get_capacity``) the busiest rank gets at most ``f``
    times the mean: ``min(imbalance, f)``. Padded to capacity (``--moe-pad-expert-input-to-capacity``) every expert
    computes exactly its capacity and the dispatcher exchanges the padded buffers (``capacity`` rows per expert and
    EP rank, ``token_dispatcher.py``): ``f`` on every rank, with or without EP.
    """
    dropless = np.where(c["ep"] > 1, MOE_LOAD_IMBALANCE, 1.0)
    factor = c["moe_capacity_factor"]
    capped = np.where(factor > 0, np.minimum(dropless, factor), dropless)
    return np.where((factor > 0) & (c["moe_pad_to_capacity"] > 0), factor, capped)


def _ring_attention(model, system, c, tokens, attention, eff: Efficiency):
    """What context parallelism adds to one layer's attention on one rank, forward and backward [s].

    Transformer Engine's ring (``AttnFuncWithCPAndKVP2P``, Megatron-Core's default ``cp_comm_type`` p2p): the rank's
    ``T`` tokens are two load-balanced chunks of the sequence, so each of the ``c`` steps computes ``1/c`` of the
    rank's causal attention (``a = A/c``, ``A`` the forward time without CP's overheads) while the K,V block
    (``K,V bytes = T · attention_kv_bytes_per_token / t``; for MLA the up-projected K and V, as Megatron-Core
    hands them to TE) moves one rank on, at ``τ = K,V bytes / B + α``. Forward:
    the ``c − 1`` transfers each hide behind one step, exposed ``(c − 1) · max(τ − a, 0)``. Backward: each step
    moves K,V and the dK,dV accumulated so far in one batched exchange (``2·K,V bytes / B + α``) behind ``2.5·a``,
    and the last dK,dV travels once more to its owner after the last step (``τ``, exposed). The partial results
    are merged at HBM bandwidth: forward, each step reads its BF16 output and reads and writes the FP32 running
    output rescaled by the log-sum-exp (``10`` bytes per output element), and the final cast to BF16 reads and
    writes it once more (``6``); backward, each step adds its dQ into an FP32 accumulator (``10`` bytes per Q
    element) and its dK,dV into the received BF16 ones (``6`` per K,V element). Zero without CP.
    """
    cp, tp = c["cp"], c["tp"]
    bw, lat = _group_bandwidth(tp, cp, system, eff, _ranks(c))
    kv_bytes = tokens * model.attention_kv_bytes_per_token(BYTES_ACTIVATION) / tp
    step = attention / cp
    transfer = kv_bytes / bw + lat
    hbm = system.accelerator.hbm_bandwidth * eff.hbm
    outputs = tokens * model.heads * model.v_dim / tp
    queries = tokens * model.heads * model.qk_head_dim / tp
    merge_forward = (CP_MERGE_BYTES * cp + CP_CAST_BYTES) * outputs / hbm + cp * eff.launch_s
    merge_backward = cp * (CP_MERGE_BYTES * queries + CP_KV_ADD_BYTES * kv_bytes / BYTES_ACTIVATION) / hbm
    forward = (cp - 1) * np.maximum(transfer - step, 0.0) + merge_forward
    backward = (
        (cp - 1) * np.maximum(2 * kv_bytes / bw + lat - 2.5 * step, 0.0) + transfer + merge_backward + cp * eff.launch_s
    )
    return np.where(cp > 1, forward, 0.0), np.where(cp > 1, backward, 0.0)


def _context_parallel(model, system, c, tokens, seq, attention, eff: Efficiency):
    """What context parallelism adds to one layer's attention on one rank, forward and backward [s], the mean over
    the model's layers.

    A global layer runs the p2p ring (:func:`_ring_attention`, ``attention`` a global layer's forward time) or the
    all-gather (:func:`_gathered_attention`), by ``cp_comm_type``. A local layer (sliding window or chunks) runs
    the all-gather whatever ``cp_comm_type`` says: Transformer Engine's ``attn_forward_func_with_cp`` refuses a
    sliding window with the p2p ring ("does not support sliding window attention", only ``a2a`` and
    ``all_gather``), so Megatron-Core runs such a model with a per-layer ``cp_comm_type`` list. TE's all-gather
    still gathers the whole K,V and reduce-scatters the whole dK,dV; only each step's K,V range shrinks to the
    window (:func:`_local_kv_ranges`). With ``f = L_local / L``: ``global + f · (local − global)``.
    """
    ring = _ring_attention(model, system, c, tokens, attention, eff)
    chosen = c["cp_comm_type"] > 0
    if np.any(chosen):
        gathered = _gathered_attention(model, system, c, tokens, eff)
        ring = np.where(chosen, gathered[0], ring[0]), np.where(chosen, gathered[1], ring[1])
    if not model.local_layers:
        return ring
    local = _gathered_attention(model, system, c, tokens, eff, _local_kv_ranges(model, seq, c["cp"]))
    share = model.local_layers / model.layers
    return ring[0] + share * (local[0] - ring[0]), ring[1] + share * (local[1] - ring[1])


def _local_kv_ranges(model, seq, cp):
    """Share of the sequence the K,V ranges of a local layer's two all-gather steps cover, the mean over CP ranks.

    The sequence is ``2·cp`` chunks of ``C = s / (2·cp)`` tokens, rank ``r`` holding chunks ``r`` and
    ``2·cp − 1 − r``; TE's ``get_kv_seq_info_after_all_gather`` gives chunk ``j``'s step the keys from the first
    one a query of it sees to its end, ``(j + 1)·C − start_j``: sliding window ``w`` (TE's left window ``w − 1``)
    ``start_j = max(0, j·C − w + 1)``, chunked with chunk ``c`` (no TE mask; the same rule assumed)
    ``start_j = ⌊j·C / c⌋ · c``. The mean over ranks is ``Σ_j ((j + 1)·C − start_j) / (cp · s)``; full causal
    (``start_j = 0``) gives the ``1 + 1/(2·cp)`` of :func:`_gathered_attention`.
    """
    cp = np.asarray(cp, dtype=float)[..., None]
    j = np.arange(2 * int(np.max(cp)))
    chunk = seq / (2 * cp)
    w = model.attention_window
    if model.local_attention == "chunked":
        start = np.floor(j * chunk / w) * w
    else:
        start = np.maximum(j * chunk - w + 1, 0.0)
    return np.sum(np.where(j < 2 * cp, (j + 1) * chunk - start, 0.0), axis=-1) / (cp[..., 0] * seq)


def _gathered_attention(model, system, c, tokens, eff: Efficiency, ranges=None):
    """What all-gather context parallelism adds to one layer's attention on one rank, forward and backward [s].

    Llama 3 (Dubey et al. 2024, §3.3.2) and Transformer Engine's ``AttnFuncWithCPAndKVAllGather`` (Megatron-Core
    ``cp_comm_type`` all_gather): the rank all-gathers K and V over its CP group (stride TP), then computes the
    attention of its two load-balanced Q chunks (chunks ``i`` and ``2·cp − 1 − i``) against the K,V they see, in
    two steps whose causal work sums to the rank's share, so the attention time is the one without CP. The
    all-gathers are blocking, "exposed in the critical path" (Llama 3; Megatron-Core: "not async, and cannot be
    overlapped"): forward K and V, each ``ring(cp, cp · bytes)`` (:func:`_collective`, ``bytes`` the rank's K or V,
    ``T · a_kv · d / t`` BF16 values); backward K and V gathered again (the forward saves only its local K,V) and
    dK, dV reduce-scattered as many bytes, twice the forward. Memory-bound: the gathered K,V (``G = cp · K,V
    bytes``) reordered into sequence order forward (``2·G``) and backward (``2·G``), the dK,dV accumulator zeroed
    (``G``), each step's dK,dV added into its range (``3·R·G``, the two ranges covering ``R = 1 + 1/(2·cp)`` of
    the sequence, or ``ranges`` for a local layer, :func:`_local_kv_ranges`) and reordered back (``2·G``), each
    step's output and dQ copied into place (``2`` bytes per output, per query element). Zero without CP.
    """
    cp, tp = c["cp"], c["tp"]
    k_bytes = tokens * model.kv_heads * model.qk_head_dim * BYTES_ACTIVATION / tp
    v_bytes = tokens * model.kv_heads * model.v_dim * BYTES_ACTIVATION / tp
    ranks = _ranks(c)
    gathers = _collective(tp, cp, cp * k_bytes, system, eff, ranks=ranks) + _collective(
        tp, cp, cp * v_bytes, system, eff, ranks=ranks
    )
    gathered = cp * (k_bytes + v_bytes)
    hbm = system.accelerator.hbm_bandwidth * eff.hbm
    outputs = tokens * model.heads * model.v_dim / tp * BYTES_ACTIVATION
    queries = tokens * model.heads * model.qk_head_dim / tp * BYTES_ACTIVATION
    copy_forward = CP_GATHER_REORDER_BYTES * gathered + CP_GATHER_COPY_BYTES * outputs
    ranges = 1 + 1 / (2 * cp) if ranges is None else ranges
    copy_backward = (
        CP_GATHER_BACKWARD_BYTES + CP_GATHER_ADD_BYTES * ranges
    ) * gathered + CP_GATHER_COPY_BYTES * queries
    # Launches: forward the 2 reorders, the second step's attention kernel, 2 output copies; backward 2 zeroings,
    # 4 reorders, the second step's kernel, 2 dQ copies and 4 dK,dV adds.
    forward = gathers + copy_forward / hbm + 5 * eff.launch_s
    backward = 2 * gathers + copy_backward / hbm + 13 * eff.launch_s
    return np.where(cp > 1, forward, 0.0), np.where(cp > 1, backward, 0.0)


def _moe_dispatch_combine(model, system, c, local_tokens, eff: Efficiency, rec: Recipe):
    """Dispatch plus combine of one MoE layer's forward on one rank [s] (Lepikhin et al. 2021; DeepEP).

    Each of the rank's ``local_tokens`` (its sequence-parallel share, ``T/t``) goes to ``k`` experts spread
    uniformly over the ``e`` ranks of its EP group (stride ETP, Megatron-Core's expert rank order). Of the
    ``g`` EP ranks in its scale-up domain, copies for the ``g − 1`` others cross the scale-up network and those
    for the other ``e − g`` ranks the rank's NIC (all-to-all, Megatron ``alltoall``); the slowest rank sets the
    pace, so ``g`` is the fewest members an EP group has in a domain and ``N`` the most domains one touches
    (:func:`rackwright.perf.placement.spread`; EP 64 on 72-GPU domains: 2 domains, 8 + 56 ranks).
    DeepEP (``moe_dispatcher`` 1) sends a token once per destination domain and fans it out over NVLink: the
    NIC carries ``(N − 1)·(1 − (1 − 1/N)^k)`` copies per token over ``N`` domains (:func:`_remote_domains`);
    its dispatch moves FP8 under a low-precision recipe (combine stays BF16). With ETP > 1 the received tokens are
    all-gathered over ETP and reduce-scattered back (rings at the ETP group's speed).
    """
    e, etp, k = c["ep"], c["etp"], model.experts_per_token
    h = model.hidden
    domains, g = spread(e, etp, system.scale_up.size, _ranks(c))
    deepep = c["moe_dispatcher"] > 0
    local_copies = k * (g - 1) / e
    remote_copies = np.where(deepep, _remote_domains(domains, k, model.max_nodes_per_token), k * (e - g) / e)
    dispatch_bytes = np.where(deepep & rec.low, rec.value_bytes + rec.scale_bytes, 2.0) * h * local_tokens
    combine_bytes = 2.0 * h * local_tokens
    up = system.scale_up.bandwidth * eff.scale_up_link
    out = system.scale_out.bandwidth * eff.scale_out_link

    def one_way(b):
        return (
            local_copies * b / up
            + remote_copies * b / out
            + (g - 1) * system.latency.scale_up
            + (domains - 1) * system.latency.scale_out
        )

    a2a = np.where(e > 1, one_way(dispatch_bytes) + one_way(combine_bytes), 0.0)
    received = local_tokens * k * etp * h * 2.0  # tokens an ETP group's rank works on, BF16
    etp_comm = 2 * _collective(1, etp, received, system, eff, ranks=_ranks(c))
    return a2a + etp_comm


def _remote_domains(domains, k, limit):
    """Other scale-up domains a token's ``k`` experts reach, on average: the copies DeepEP sends over the NIC.

    Unlimited, each of the ``N − 1`` other domains holds one of the token's experts with probability
    ``1 − (1 − 1/N)^k``. Node-limited routing (DeepSeek-V3 §2.1.2; ``limit`` = ``max_nodes_per_token``, M) picks
    the ``M`` domains whose experts' top ``k/M`` affinities sum highest and routes only to them, so each holds some
    of the token's experts: ``m = min(M, N)`` domains, the token's own among them with probability ``m/N`` by
    symmetry, at most ``m·(1 − 1/N)`` remote ones. The NVLink fan-out inside each reached domain is not charged
    (DeepSeek-V3 §3.2.2: hidden behind the IB transfer up to 3.2 experts per node, NVLink's 160 GB/s over IB's 50).
    """
    unlimited = (domains - 1) * (1 - (1 - 1 / domains) ** k)
    if limit is None:
        return unlimited
    return np.minimum(unlimited, np.minimum(limit, domains) * (1 - 1 / domains))


def _moe_route(model, c, local_tokens, hbm_bw, eff: Efficiency):
    """Router, permute and unpermute of one MoE layer's forward on one rank [s]: memory-bound kernels moving the
    :data:`ROUTER_READS` and permutation bytes of the rank's ``local_tokens`` at HBM bandwidth, six launches."""
    k = model.experts_per_token
    sort = np.where(model.experts / c["ep"] > 1, 4.0 * k, 0.0)
    units = ROUTER_READS + 2.0 * k + (k + 1.0) + sort
    return local_tokens * model.hidden * BYTES_ACTIVATION * units / (hbm_bw * eff.hbm) + 6 * eff.launch_s


def _mla_up_share(model) -> float:
    """Share of MLA's attention weights in the query and key/value up-projections (0 for MHA/GQA)."""
    if model.attention != "mla":
        return 0.0
    a = model.heads
    up = (model.q_lora_rank * a * model.qk_head_dim if model.q_lora_rank else 0) + model.kv_lora_rank * a * (
        model.qk_nope_head_dim + model.v_head_dim
    )
    return up / model.attention_params_per_layer


def _tp_exposed(tp, gemm, c, eff: Efficiency):
    """Exposed TP/SP communication of one layer's forward and backward pass [s] (``tp``: its 4 collectives, ``gemm``:
    its forward GEMMs).

    Without overlap all of it. With Transformer Engine's userbuffers overlap (``tp_comm_overlap``; the ring-exchange
    method of NeMo's B200 configurations) each all-gather and reduce-scatter is split into ``t`` chunks exchanged
    while the GEMM works on the previous ones: what exceeds the pass's GEMMs is exposed, and in the forward pass
    the last chunk of each of the 2 reduce-scatters (after attention's and the MLP's output GEMMs) leaves after
    its GEMM is done, ``2 · (tp/4) / t``; the backward's reduce-scatters hide behind the weight-gradient GEMMs
    (TE's bulk overlap). While hidden, the collectives' kernels occupy ``comm_sms`` of the SMs, as DP's do
    (the bulk overlaps of NeMo's configurations take 2-32 SMs).
    """
    t = c["tp"]
    last_chunks = np.where(t > 1, tp / (2.0 * t), 0.0)
    forward = np.maximum(tp - gemm, 0.0) + last_chunks + eff.comm_sms * np.minimum(tp, gemm)
    backward = np.maximum(tp - 2 * gemm, 0.0) + eff.comm_sms * np.minimum(tp, 2 * gemm)
    overlap = c["overlap_tp"] > 0
    return np.where(overlap, forward, tp), np.where(overlap, backward, tp)


def _layer_step(parts, c, eff: Efficiency, moe: bool = False):
    """What one layer and micro-batch costs per component over forward, backward and recompute.

    Communication counts only where it is exposed (not hidden behind compute). Selective recompute re-runs
    the forward of its modules in backward (:data:`rackwright.perf.memory.RECOMPUTE_MODULES`): ``core_attn``
    the attention core (Korthikanti et al. 2022), ``layernorm`` the layer norms, ``mlp`` (dense layers) or
    ``moe`` (MoE layers, with its dispatch and combine) the MLP, ``moe_act`` the experts' activation function,
    ``mla_up_proj`` MLA's up-projections. Returns the components, the backward and forward times alone (the
    windows that DP overlap uses) and the weight-gradient GEMMs' time (as long as the forward GEMMs; DualPipe's
    ``W``).
    """
    forwards = 1.0 + (c["recompute"] == RECOMPUTE["full"])  # forward passes, recomputation included
    selective = c["recompute"] == RECOMPUTE["selective"]
    bit = lambda name: selective & _bit(c.get("recompute_modules", 1), name)  # noqa: E731
    mlp = bit("moe") if moe else bit("mlp")
    act = mlp | (bit("moe_act") if moe else False)
    tp_forward, tp_backward = _tp_exposed(parts["tp"], parts["gemm"], c, eff)
    # Dispatch/combine overlapped with another micro-batch's compute (DualPipe's paired forward and backward
    # chunks; Megatron-Core's EP a2a overlap).
    compute = parts["gemm"] + parts["attention"] + parts["elementwise"]
    overlap = (c.get("moe_a2a_overlap", 0.0) > 0) | dualpipe(c)
    parts = {**parts, "ep": np.where(overlap, np.maximum(parts["ep"] - compute, 0.0), parts["ep"])}
    cp_forward, cp_backward = parts["cp"], parts["_cp_backward"]
    totals = {
        "gemm": (forwards + 2.0) * parts["gemm"] + mlp * parts["_mlp_gemm"] + bit("mla_up_proj") * parts["_up_gemm"],
        "attention": (forwards + 2.5 + bit("core_attn")) * parts["attention"],
        "elementwise": (forwards + 2.0) * parts["elementwise"]
        + bit("layernorm") * parts["_layernorm"]
        + act * parts["_activation"],
        "quantize": (forwards + 1.0) * parts["quantize"] + mlp * parts["_mlp_quantize"],
        "tp": forwards * tp_forward + tp_backward,
        "cp": (forwards + bit("core_attn")) * cp_forward + cp_backward,
        "ep": (forwards + 1.0 + (mlp if moe else 0.0)) * parts["ep"],
        "route": (forwards + 1.0 + (mlp if moe else 0.0)) * parts["route"],
    }
    backward = (
        2 * parts["gemm"]
        + 2.5 * parts["attention"]
        + 2 * parts["elementwise"]
        + parts["quantize"]
        + tp_backward
        + cp_backward
        + parts["ep"]
        + parts["route"]
    )
    forward = (
        parts["gemm"]
        + parts["attention"]
        + parts["elementwise"]
        + parts["quantize"]
        + tp_forward
        + cp_forward
        + parts["ep"]
        + parts["route"]
    )
    return totals, backward, forward, parts["gemm"]


def train_step(
    model,
    system,
    parallelism: Parallelism,
    global_batch: int,
    seq_len: int | None = None,
    precision: str = "bf16",
    attention_precision: str = "bf16",
) -> dict[str, np.ndarray]:
    """Step time, throughput, MFU/HFU and memory for each configuration (arrays, SI).

    ``global_batch`` is in sequences; ``seq_len`` defaults to the model's; ``precision`` is a
    recipe of :mod:`rackwright.perf.precision` (or an alias: ``fp8``, ``fp4``) and
    ``attention_precision`` ``bf16`` or ``fp8``. Returns ``step_time_s``, ``tokens_per_s``,
    ``model_flops_per_s_per_accelerator``, ``mfu``, ``hfu`` (of the recipe's GEMM peak),
    ``memory_bytes``, ``fits`` and the breakdown components.
    """
    c = parallelism.arrays()
    rec = get_recipe(precision)
    eff = profile(system.accelerator.profile)
    peaks = system.accelerator.peak_flops
    peak = peaks[rec.gemm]
    high = rec.gemm if not rec.low else "bf16"  # what stays in 16 bits runs at this peak (fp16 for fp16, ...)
    attention_fp8 = attention_precision == "fp8"
    attention_peak = peaks["fp8"] if attention_fp8 else peaks[high]
    seq = float(seq_len or model.seq_len)
    tokens = c["micro_batch"] * seq / c["cp"]
    microbatches = global_batch / (c["dp"] * c["micro_batch"])

    first_layers, middle_layers, last_layers = stage_layer_counts(model, c)
    moe_share = model.moe_layers / model.layers
    # The GEMMs' fixed per-tile cost grows with the tensor-core rate: the profile's BF16 k0 times the peak ratio.
    k0 = eff.gemm_k0 * peak / peaks[high]
    args = (eff, peak, rec, attention_peak, attention_fp8, k0)
    components, layer_backward, layer_forward, layer_wgrad = _layer_step(
        _layer_times(model, system, c, tokens, seq, False, *args), c, eff
    )
    if model.moe_layers:
        moe, moe_backward, moe_forward, moe_wgrad = _layer_step(
            _layer_times(model, system, c, tokens, seq, True, *args), c, eff, True
        )
        components = {k: v * (1 - moe_share) + moe[k] * moe_share for k, v in components.items()}
        layer_backward = layer_backward * (1 - moe_share) + moe_backward * moe_share
        layer_forward = layer_forward * (1 - moe_share) + moe_forward * moe_share
        layer_wgrad = layer_wgrad * (1 - moe_share) + moe_wgrad * moe_share
    layer_time = sum(components.values())

    hbm_bw = system.accelerator.hbm_bandwidth
    heads = 1 + model.mtp_layers  # the output head runs again on each multi-token-prediction depth
    logits = (
        heads
        * 3
        * _gemm_time(
            2 * tokens * model.hidden * model.vocab / c["tp"],
            model.hidden,
            model.vocab / c["tp"],
            tokens,
            peaks[high],
            hbm_bw,
            eff,
            shape=_shape_factor(model.hidden, model.vocab / c["tp"], tokens, eff.gemm_k0, eff),
        )
    )
    # The loss: Megatron-Core's vocab-parallel cross-entropy over each head's FP32 logits, memory-bound.
    logit_elements = heads * tokens * model.vocab / c["tp"]
    logits = logits + logit_elements * CROSS_ENTROPY_BYTES / (hbm_bw * eff.hbm) + heads * 5 * eff.launch_s
    # The slowest stage sets the pace: the last one also computes the logits. DualPipe's rank i runs half the
    # micro-batches through stage i and half through stage p−1−i: its edge ranks average the first and last stages
    # (half the logits each), the others two middle stages.
    others = np.maximum(first_layers, middle_layers)
    last_paces = last_layers * layer_time + logits >= others * layer_time
    edge_layers = (first_layers + last_layers) / 2
    edge_paces = edge_layers * layer_time + logits / 2 >= middle_layers * layer_time
    dual = dualpipe(c)
    stage_layers = np.where(
        dual, np.where(edge_paces, edge_layers, middle_layers), np.where(last_paces, last_layers, others)
    )
    stage_logits = np.where(dual, np.where(edge_paces, logits / 2, 0.0), np.where(last_paces, logits, 0.0))
    bw_pp, lat_pp = _group_bandwidth(c["tp"] * c["cp"] * c["dp"], c["pp"], system, eff, _ranks(c))
    p2p_bytes = tokens * model.hidden * BYTES_ACTIVATION / np.where(c["sp"] > 0, c["tp"], 1)
    p2p = np.where(c["pp"] > 1, 2 * c["vp"] * (p2p_bytes / bw_pp + lat_pp), 0.0)
    # Megatron-Core's overlap_p2p_comm (interleaved schedule only; NeMo turns it on whenever VP > 1): each chunk's
    # send and the next chunk's receive are posted asynchronously and waited for one chunk later, so they run
    # behind the slot's compute and only what exceeds it is exposed. Without it (2021 Megatron-LM's batched
    # blocking send/recv) every transfer is on the critical path.
    # DualPipe overlaps them as it overlaps the all-to-all, inside its paired forward and backward chunks.
    overlapped = ((c["overlap_p2p"] > 0) & (c["vp"] > 1)) | dual
    p2p = np.where(overlapped, np.maximum(p2p - stage_layers * layer_time, 0.0), p2p)
    stage_params = model_stage_params(model, c)
    layer_params = layers_per_stage(model, c) * average_layer_params(model, c) / c["tp"]
    low_params = (c["fp8_param_gather"] > 0) & rec.low
    dp_cp = c["dp"] * c["cp"]
    grad_bytes = np.where(c["fp32_grads"] > 0, 4.0, 2.0) * stage_params  # reduced in their accumulation precision
    param_bytes = np.where(low_params, rec.value_bytes + rec.scale_bytes, 2.0) * layer_params + 2.0 * (
        stage_params - layer_params
    )
    # Routed experts' share of those bytes (layer weights: gathered in the low precision where the rest is).
    expert_params, expert_grad_bytes, expert_param_bytes = 0.0, 0.0, 0.0  # a dense model: none
    if model.moe_layers:
        expert_params = routed_expert_share(model, c) * layer_params
        expert_grad_bytes = grad_bytes * expert_params / stage_params
        expert_param_bytes = np.where(low_params, rec.value_bytes + rec.scale_bytes, 2.0) * expert_params
    edp = expert_data_parallel(c)

    def dp_collective(bytes_, expert_bytes, passes=1):
        """A DP collective of a stage's ``bytes_``: the dense share over DP × CP (stride TP), the routed experts'
        ``expert_bytes`` over their expert-data-parallel group, one after the other (:func:`_dp_collective`)."""
        return _dp_collective(c, bytes_, expert_bytes, edp, system, eff, passes)

    fsdp = c["fsdp"] > 0
    # FSDP (ZeRO-3; Rajbhandari et al. 2020, PyTorch FSDP): every micro-batch all-gathers the stage's parameters
    # for its forward and again for its backward (resharded after forward) and reduce-scatters its gradients,
    # prefetched layer by layer behind that pass's compute; what exceeds the compute lengthens the slot.
    # HSDP (PyTorch FSDP's HYBRID_SHARD, Zhao et al. 2023, VLDB, §3.2): r replicas, each sharded over DP × CP / r
    # consecutive ranks (stride TP), which all-reduce their gradient shards once per step behind the last backward.
    replicas = c["hsdp_replicas"]
    shard = dp_cp / replicas
    ranks = _ranks(c)
    fsdp_gather = _collective(c["tp"], shard, param_bytes, system, eff, ranks=ranks)
    fsdp_reduce = _collective(c["tp"], shard, grad_bytes, system, eff, ranks=ranks)
    stage_forward, stage_backward = stage_layers * layer_forward, stage_layers * layer_backward
    replica_reduce = _collective(c["tp"] * shard, replicas, grad_bytes / shard, system, eff, 2, ranks)
    hsdp_exposed = np.where(fsdp, np.maximum(replica_reduce - stage_backward, 0.0), 0.0)
    fsdp_exposed = np.where(
        fsdp,
        np.maximum(fsdp_gather - stage_forward, 0.0) + np.maximum(fsdp_gather + fsdp_reduce - stage_backward, 0.0),
        0.0,
    )
    # ZeRO-2 (Rajbhandari et al. 2020, P_os+g): no rank keeps the full gradients, so every micro-batch's backward
    # reduce-scatters its gradients into the shards (DeepSpeed stage 2 under gradient accumulation), behind that
    # backward; what exceeds it lengthens the slot.
    zero2 = (c["zero2"] > 0) & (c["distributed_optimizer"] > 0) & ~fsdp
    reduce_scatter = dp_collective(grad_bytes, expert_grad_bytes)
    zero2_exposed = np.where(zero2, np.maximum(reduce_scatter - stage_backward, 0.0), 0.0)
    slot = stage_layers * layer_time + stage_logits + p2p + fsdp_exposed + zero2_exposed
    # DualPipe's bubble (DeepSeek-V3 Technical Report Table 2; the DualPipe README): (p/2 − 1)(F&B + B − 3W), with
    # F&B the paired chunks (the slot: compute-bound, their communication hidden), B a stage's backward and W its
    # weight-gradient GEMMs; 1F1B's is (p − 1)/v slots.
    dual_bubble = (c["pp"] / 2 - 1) * np.maximum(slot + stage_backward - 3 * stage_layers * layer_wgrad, 0.0)
    bubble = np.where(dual, dual_bubble, (c["pp"] - 1) / c["vp"] * slot)
    pipeline = microbatches * slot + bubble

    # Weight casts once per step (TE caches them over the micro-batches): read BF16, write both copies;
    # parameters already in low precision are only transposed. The embedding/output layer stays BF16.
    weight_cast = (
        np.where(low_params, rec.copy_bytes, rec.cast_bytes) * layer_params / (hbm_bw * eff.hbm)
        if rec.low
        else 0.0 * stage_params
    )
    # Gradients are reduced, and the distributed optimizer shards, over DP × CP: the CP ranks of a replica hold
    # the same weights (Megatron-Core's data-parallel group "with context parallel"), stride TP.
    # Without the distributed optimizer the gradients are all-reduced (reduce-scatter + all-gather) in backward;
    # with it they are reduce-scattered in backward and the updated parameters (in their storage precision)
    # all-gathered after the optimizer step, or during the next forward with overlap_param_gather.
    do = c["distributed_optimizer"] > 0
    reduce = np.where(do, reduce_scatter, dp_collective(grad_bytes, expert_grad_bytes, passes=2))
    gather = np.where(do, dp_collective(param_bytes, expert_param_bytes), 0.0)
    chunk_backward = first_layers / c["vp"] * layer_backward
    chunk_forward = first_layers / c["vp"] * layer_forward
    # NeMo: the DP communication is chunked by Transformer layer and the overlap "exposes only one DP communication
    # chunk": on the first stage the input embedding and the first layer, whose gradients are final last and whose
    # parameters are needed first.
    tail = np.minimum((model.vocab * model.hidden + average_layer_params(model, c)) / c["tp"] / stage_params, 1.0)
    reduce_exposed = np.where(
        c["overlap_dp"] > 0, np.maximum(_overlapped_reduce(reduce, chunk_backward, c), tail * reduce), reduce
    )
    gather_exposed = np.where(
        (c["overlap_param_gather"] > 0) & (c["overlap_dp"] > 0),
        np.maximum(_overlapped_gather(gather, chunk_forward, c), tail * gather),
        gather,
    )
    dp_exposed = np.where(fsdp, hsdp_exposed, np.where(zero2, 0.0, reduce_exposed) + gather_exposed)
    # A DP collective hidden behind compute still runs on comm_sms of the SMs (NCCL's thread blocks), so the compute
    # it overlaps loses that share for as long as it runs: comm_sms × the hidden DP time lengthens the step.
    dp_total = np.where(
        fsdp,
        microbatches * (2.0 * fsdp_gather + fsdp_reduce) + replica_reduce,
        np.where(zero2, microbatches * reduce_scatter, reduce) + gather,
    )
    dp_shown = dp_exposed + microbatches * (fsdp_exposed + zero2_exposed)
    dp_exposed = dp_exposed + eff.comm_sms * np.maximum(dp_total - dp_shown, 0.0)
    sharded = (stage_params - expert_params) / dp_cp + expert_params / edp  # the distributed optimizer's shard
    optimizer_params = np.where(fsdp, stage_params / shard, np.where(do, sharded, stage_params))
    adam_bytes = np.where(c["bf16_moments"] > 0, ADAM_BF16_MOMENTS_BYTES_PER_PARAM, ADAM_BYTES_PER_PARAM)
    optimizer = adam_bytes * optimizer_params / (hbm_bw * eff.hbm)

    step = pipeline + dp_exposed + optimizer + weight_cast
    accelerators = ranks
    tokens_per_step = global_batch * seq
    model_flops = 3 * model.forward_flops_per_token(seq) * tokens_per_step
    # logits (main and MTP heads) not recomputed
    layer_forward_flops = model.forward_flops_per_token(seq) - 2.0 * model.hidden * model.vocab * heads
    recompute_flops = (
        np.where(
            c["recompute"] == RECOMPUTE["full"],
            layer_forward_flops,
            np.where(c["recompute"] == RECOMPUTE["selective"], _selective_flops_per_token(model, seq, c), 0.0),
        )
        * tokens_per_step
    )
    per_accelerator = model_flops / step / accelerators
    memory = training_memory(model, system, c, seq, microbatches, rec)
    breakdown = {name: microbatches * stage_layers * value for name, value in components.items()}
    breakdown["quantize"] = breakdown["quantize"] + weight_cast
    breakdown.update(
        logits=microbatches * stage_logits,
        pp_p2p=microbatches * p2p,
        bubble=bubble,
        dp_exposed=dp_exposed + microbatches * (fsdp_exposed + zero2_exposed),
        optimizer=optimizer,
    )
    return {
        "step_time_s": step,
        "tokens_per_s": tokens_per_step / step,
        "model_flops_per_s_per_accelerator": per_accelerator,
        "mfu": per_accelerator / peak,
        "hfu": (model_flops + recompute_flops) / step / accelerators / peak,
        "memory_bytes": memory["total"],
        "fits": memory["total"] <= memory["available"],
        "breakdown": breakdown,
        "memory": memory,
    }


def _dp_collective(c, bytes_, expert_bytes, edp, system, eff: Efficiency, passes=1):
    """One DP reduce-scatter or all-gather (``passes`` 2: all-reduce, :func:`_collective`) of a stage's ``bytes_``
    [s], of which ``expert_bytes`` belong to routed experts.

    The dense share goes over the DP × CP ranks that hold the same weights (stride TP). Each routed expert's
    weights are held by the ranks of its expert-data-parallel group: Megatron-Core folds ETP × EP × EDP over the
    same TP × CP × DP ranks, ETP fastest (Liu et al. 2025, "MoE parallel folding"; Megatron-Core's
    ``expert_data_parallel`` group), so ``EDP = DP·CP·TP / (EP·ETP)`` ranks at stride ``EP·ETP``; with EP across
    scale-up domains that group spans domains with few members in each, and its share crosses the NICs nearly
    whole. The two run one after the other on the communication stream.
    """
    dense = _collective(c["tp"], c["dp"] * c["cp"], bytes_ - expert_bytes, system, eff, passes, _ranks(c))
    if np.ndim(expert_bytes) == 0 and expert_bytes == 0:  # a dense model
        return dense
    expert = _collective(c["ep"] * c["etp"], edp, expert_bytes, system, eff, passes, _ranks(c))
    return dense + np.where(expert_bytes > 0, expert, 0.0)


def _overlapped_reduce(reduce, chunk_backward, c):
    """Exposed time of the gradient reduction overlapped with the backward passes (Megatron-LM overlap_grad_reduce).

    The gradients of a model chunk are final after its last micro-batch's backward; their buckets are reduced
    while that backward runs. On the first pipeline stage (which finishes last) the interleaved schedule's
    cool-down runs the last backward of chunk ``j`` (``j = v−1 … 0``) ``j·p`` chunk-backwards before the end,
    so the reductions of the ``v`` chunks (``reduce / v`` each) queue on the network from the earliest:
    chunk ``j`` starts at ``max(T_j − b_c, previous end)`` and ends at ``max(start + reduce/v, T_j)``, with
    ``T_j = −j·p·b_c`` and ``b_c`` one chunk's backward of one micro-batch. Exposed: the end of chunk 0 past 0.
    Without interleaving (v = 1) this is ``max(reduce − b_c, 0)``, the last micro-batch's backward as window.
    """
    v, p = c["vp"], c["pp"]
    share = reduce / v
    end = np.full(np.shape(reduce), -np.inf)
    for j in range(int(np.max(v)) - 1, -1, -1):
        ready = -j * p * chunk_backward
        start = np.maximum(ready - chunk_backward, end)
        end = np.where(j < v, np.maximum(start + share, ready), end)
    return np.maximum(end, 0.0)


def _overlapped_gather(gather, chunk_forward, c):
    """Exposed time of the parameter all-gather overlapped with the next step's forward (overlap_param_gather).

    The first stage runs the first forward of chunk ``j`` at ``j·p·f_c`` (the interleaved warm-up runs ``p``
    micro-batches of each chunk in turn); the all-gather of chunk ``j``'s parameters (``gather / v`` each, in
    order, bucket by bucket during that forward) must be done by its end: exposed
    ``max_j ((j + 1)·gather/v − j·p·f_c − f_c, 0)`` (``max(gather − f_c, 0)`` without interleaving).
    """
    v, p = c["vp"], c["pp"]
    exposed = np.zeros(np.shape(gather))
    for j in range(int(np.max(v))):
        late = (j + 1) * gather / v - j * p * chunk_forward - chunk_forward
        exposed = np.where(j < v, np.maximum(exposed, late), exposed)
    return exposed


def _selective_flops_per_token(model, seq, c):
    """Forward FLOPs per token that selective recompute re-runs, by module (HFU counts them)."""
    bit = lambda name: _bit(c.get("recompute_modules", 1), name)  # noqa: E731
    flops = bit("core_attn") * model.attention_flops_per_token(seq)
    flops = flops + bit("mlp") * 2.0 * model.dense_mlp_params_per_layer * model.dense_mlp_layers
    flops = (
        flops
        + bit("moe") * 2.0 * (model.experts_per_token + model.shared_experts) * model.expert_params * model.moe_layers
    )
    flops = flops + bit("mla_up_proj") * 2.0 * _mla_up_share(model) * model.attention_params_per_layer * model.layers
    return flops


def model_stage_params(model, c) -> np.ndarray:
    """Parameters held by the accelerator that holds the most: its stage's layers split by TP (experts also by EP),
    plus the embedding or output layer (:func:`stage_params`); with DualPipe its two stages' (DeepSeek's "2×
    parameters": the first and last stages on an edge rank, two middle ones elsewhere)."""
    first = stage_params(model, c, 0)[0]
    middle = np.where(c["pp"] > 2, stage_params(model, c, 1)[0], 0.0)
    last = stage_params(model, c, c["pp"] - 1)[0]
    return np.where(dualpipe(c), np.maximum(first + last, 2 * middle), np.maximum(np.maximum(first, middle), last))
