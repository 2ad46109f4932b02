"""Inference: prefill (time to first token) and decode (time per output token) on one model replica.

A replica spans ``tp`` accelerators of one scale-up domain (tensor parallel).

* **Prefill** is compute-bound: ``2·N_active`` FLOPs per prompt token plus causal
  attention ``2·L·n·d·s²`` per sequence (local layers scaled by their key positions, ``attention_share``),
  at the GEMM (times the GEMMs' shape factor by reduction length and by tile quantization of the output,
  :func:`_prefill_shape`) and attention efficiencies,
  plus two all-reduces of the activations per layer (formulas.md "Inference").
* **Decode** is bandwidth-bound: each step reads the weights it touches (for MoE
  the experts the batch routes to, ``E·(1 − (1 − k/E)^B)`` of them on average)
  and the KV cache of every sequence, ``2·L·h_kv·d_head`` values per token at the mean context of the decode (a
  local-attention layer holds and reads at most its window: the decode's mean of ``min(context, w)``,
  :func:`_decode_layer_tokens`); the
  step takes the larger of that traffic at HBM bandwidth and its FLOPs at peak,
  plus two latency-bound all-reduces per layer (Pope et al. 2022, "Efficiently
  Scaling Transformer Inference"). Its GEMMs are not tile-quantized: with a few rows per step they run as
  narrow-tile or split-K kernels whose time the weight traffic sets.

Throughput counts generated tokens over prefill plus decode of one batch.
"""

from __future__ import annotations

import numpy as np

from .efficiency import profile, tile_factor
from .memory import usable_hbm
from .precision import recipe as get_recipe
from .training import _group_bandwidth, _ring

#: Bytes per weight by the GEMM precision of the recipe (TF32 keeps FP32 weights).
WEIGHT_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp4": 0.5, "tf32": 4.0}


def _weights_read_per_step(model, batch, bytes_per_param):
    """Weight bytes one decode step reads: all dense weights, and the experts the batch routes to."""
    if not model.experts:
        return model.total_params * bytes_per_param
    experts_touched = model.experts * (1.0 - (1.0 - model.experts_per_token / model.experts) ** batch)
    routed = model.moe_layers * model.expert_params * experts_touched
    dense = model.total_params - model.moe_layers * model.experts * model.expert_params
    return (dense + routed) * bytes_per_param


def infer(model, system, batch, input_tokens, output_tokens, tp=None, precision: str = "bf16") -> dict:
    """TTFT, TPOT, throughput per accelerator and per MW, and memory fit for a batch of requests.

    ``precision`` is a recipe (or alias) of :mod:`rackwright.perf.precision`: its GEMM precision sets
    the bytes per weight and KV value and the peak, its GEMM kind the achieved efficiency.
    """
    rec = get_recipe(precision)
    eff = profile(system.accelerator.profile)
    peak = system.accelerator.peak_flops[rec.gemm]
    gemm_eff = eff.gemm_for(rec.kind)
    # Attention reads an FP8 KV cache in FP8 (FP8 flash attention) under a low-precision recipe, else BF16.
    peaks = system.accelerator.peak_flops
    fp8_attention = rec.low and "fp8" in peaks and eff.attention_fp8 > 0
    attention_rate = (
        peaks["fp8"] * eff.attention_fp8
        if fp8_attention
        else peaks[rec.gemm if not rec.low else "bf16"] * eff.attention
    )
    weight_bytes = WEIGHT_BYTES[rec.gemm]
    kv_bytes_per_value = min(weight_bytes, 2.0) if rec.gemm != "fp4" else 1.0
    context = input_tokens + output_tokens
    weights = model.total_params * weight_bytes
    kv = batch * model.kv_cache_bytes(context, kv_bytes_per_value)
    if tp is None:
        tp = _smallest_tp(weights + kv, system)
    tp = np.asarray(tp, dtype=float)
    hbm_bw = system.accelerator.hbm_bandwidth * eff.hbm
    bw, latency = _group_bandwidth(1, tp, system, eff)
    # forward FLOPs per token and context token, all layers attending to it (local layers: attention_share)
    attention_per_token_per_context = model.attention_flops_per_token(1, windowed=False)

    k0 = eff.gemm_k0 * peak / peaks["bf16" if rec.low else rec.gemm]  # the GEMMs' fixed per-tile cost (training)
    shape = _prefill_shape(model, tp, k0, batch * input_tokens, eff)
    prefill_gemm = 2.0 * model.active_params_per_token * batch * input_tokens / (tp * peak * gemm_eff * shape)
    prefill_attention = (
        0.5 * attention_per_token_per_context * input_tokens**2 * model.attention_share(input_tokens) * batch
    ) / (tp * attention_rate)
    prefill_comm = 2 * model.layers * 2 * _ring(tp, batch * input_tokens * model.hidden * 2.0, bw, latency)
    ttft = prefill_gemm + prefill_attention + prefill_comm  # causal attention: half the full count

    layer_tokens = _decode_layer_tokens(model, input_tokens, output_tokens)
    kv_read = batch * (model.kv_cache_bytes_per_token(kv_bytes_per_value) / model.layers * layer_tokens)
    step_bytes = (_weights_read_per_step(model, batch, weight_bytes) + kv_read) / tp
    attention_flops = attention_per_token_per_context / model.layers * layer_tokens * batch
    step_flops = (2.0 * model.active_params_per_token * batch + attention_flops) / tp
    step_comm = 2 * model.layers * 2 * _ring(tp, batch * model.hidden * 2.0, bw, latency)
    tpot = np.maximum(step_bytes / hbm_bw, step_flops / (peak * gemm_eff)) + step_comm + model.layers * eff.launch_s

    tokens_per_s = batch * output_tokens / (ttft + output_tokens * tpot)
    per_accelerator = tokens_per_s / tp
    power = system.power_per_accelerator or system.accelerator.power or np.nan
    return {
        "tp": int(tp) if np.ndim(tp) == 0 else tp,
        "ttft_s": ttft,
        "tpot_s": tpot,
        "tokens_per_s": tokens_per_s,
        "tokens_per_s_per_accelerator": per_accelerator,
        "tokens_per_s_per_rack": per_accelerator * system.accelerators_per_rack
        if system.accelerators_per_rack
        else None,
        "tokens_per_s_per_mw": per_accelerator / (power / 1e6),
        "memory_bytes_per_accelerator": (weights + kv) / tp,
        "fits": (weights + kv) / tp <= usable_hbm(system.accelerator.hbm),
    }


def _decode_layer_tokens(model, input_tokens, output_tokens):
    """Cached tokens all layers read per decode step, the mean over the decode (contexts ``i .. i + o``).

    A global layer reads the mean context ``i + o/2``. A local layer with window ``w`` reads ``min(x, w)`` at
    context ``x``; its mean over ``[i, i + o]`` is ``(F(i + o) − F(i)) / o`` with ``F(x) = ∫₀ˣ min(t, w) dt =
    m·x − m²/2``, ``m = min(x, w)`` (not ``min(i + o/2, w)``, which overstates it when the decode crosses ``w``).
    """
    mean_context = input_tokens + output_tokens / 2.0
    if not model.local_layers:
        return model.cached_layer_tokens(mean_context)
    start, out = np.asarray(input_tokens, dtype=float), np.asarray(output_tokens, dtype=float)
    w = model.attention_window
    area = lambda x: np.minimum(x, w) * x - np.minimum(x, w) ** 2 / 2  # noqa: E731
    decoded = (area(start + out) - area(start)) / np.where(out > 0, out, 1.0)
    local = np.where(out > 0, decoded, np.minimum(start, w))  # no decode: the context the first step reads
    return (model.layers - model.local_layers) * mean_context + model.local_layers * local


def _prefill_shape(model, tp, k0, tokens, eff):
    """Share of the large-GEMM efficiency the prefill's matrix multiplies reach, by their shape.

    As in training (:func:`rackwright.perf.training._shape_factor`), a GEMM reducing over ``K`` reaches
    ``K / (K + k0)`` of the plateau times the tile quantization ``q(M, N)`` of its output
    (:func:`rackwright.perf.efficiency.tile_factor`); prefill runs only the forward GEMMs. A block of ``P``
    weights is two equal GEMMs, ``T × n`` reducing over ``h`` and ``T × h`` over ``n = P / (2h) / t``: the
    attention projections, the dense MLP, the shared experts and the routed experts (``T·k_r/E`` tokens each);
    the output layer is ``T × V/t`` over ``h``. The blocks' factors are combined
    weighted by their FLOPs (a harmonic mean: times add).
    """
    h = model.hidden
    f = lambda k, m, n: k / (k + k0) * tile_factor(m, n, eff)  # noqa: E731

    def block(params, m=tokens):
        n = params / (2.0 * h) / tp
        return 2.0 / (1.0 / f(h, m, n) + 1.0 / f(n, m, h))

    blocks = [(model.layers * model.attention_params_per_layer, block(model.attention_params_per_layer))]
    if model.dense_mlp_layers:
        blocks.append(
            (model.dense_mlp_layers * model.dense_mlp_params_per_layer, block(model.dense_mlp_params_per_layer))
        )
    if model.moe_layers:
        routed = block(model.expert_params, tokens * model.experts_per_token / model.experts)
        blocks.append((model.moe_layers * model.experts_per_token * model.expert_params, routed))
        if model.shared_experts:
            shared = model.moe_layers * model.shared_experts * model.expert_params
            blocks.append((shared, block(model.expert_params)))
    blocks.append((model.vocab * h, f(h, tokens, model.vocab / tp)))
    return sum(w for w, _ in blocks) / sum(w / s for w, s in blocks)


def _smallest_tp(total_bytes: float, system) -> int:
    """The smallest power-of-two TP within the scale-up domain that holds weights and KV cache."""
    tp = 1
    while tp < system.scale_up.size and total_bytes / tp > usable_hbm(system.accelerator.hbm):
        tp *= 2
    return min(tp, system.scale_up.size)
