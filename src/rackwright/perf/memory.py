"""Memory per accelerator for training and inference, vectorised over configurations.

Training (bytes):

* **Weights, gradients and Adam states** with mixed precision: 2 (BF16 weights) +
  4 (FP32 gradient accumulation) + 12 (FP32 master weights, momentum, variance) =
  18 bytes per parameter; the distributed optimizer (ZeRO-1) shards the 12 bytes of
  optimizer state over DP (Rajbhandari et al. 2020; formulas.md "16–18 bytes").
* **Activations** per layer and micro-batch, Korthikanti et al. 2022 ("Reducing
  Activation Recomputation in Large Transformer Models", eq. 1-6), 16-bit:
  ``s·b·h·(34 + 5·a·s/h)`` without parallelism; with tensor parallelism ``t`` and
  sequence parallelism everything divides by ``t``, without SP only
  ``10 + 24/t + 5·a·s/(h·t)``; selective recompute drops the ``5·a·s/h`` term; full
  recompute keeps only the layer input ``2·s·b·h`` (divided by ``t`` with SP).
  Context parallelism divides ``s``. With 1F1B the first stage holds ``p``
  micro-batches of its ``L/p`` layers, and the interleaved schedule multiplies that
  by ``1 + (p−1)/(p·v)`` (same paper, §4.2.3).
* The output layer's FP32 logits for one micro-batch (``4·s·b·V/t``).

Usable HBM: the capacity less 5 % and 2 GB for the framework, CUDA context and
fragmentation (an assumption; PyTorch typically reserves 1-3 GB per device).

Inference: weights (2 bytes per parameter in BF16, 1 in FP8) and the KV cache
``2·L·h_kv·d_head·bytes`` per token (formulas.md), split by tensor parallelism.
"""

from __future__ import annotations

import numpy as np

STATE_BYTES = 6.0  # BF16 weights + FP32 gradient accumulation
OPTIMIZER_BYTES = 12.0  # FP32 master weights, Adam momentum and variance
RESERVED_FRACTION = 0.05
RESERVED_BYTES = 2e9


def usable_hbm(hbm_bytes: float) -> float:
    """HBM left for the model after the framework's reserve [bytes]."""
    return hbm_bytes * (1.0 - RESERVED_FRACTION) - RESERVED_BYTES


def activation_bytes_per_layer(model, seq, micro_batch, tp, cp, sp, recompute, c_flash=1.0):
    """Korthikanti et al. 2022 activation memory of one layer and micro-batch on one accelerator [bytes].

    Flash attention never stores the ``b·a·s²`` scores, so it drops the ``5·a·s/h`` term
    as selective recompute does.
    """
    s = seq / cp
    sbh = s * micro_batch * model.hidden
    attention_term = np.where(c_flash > 0, 0.0, 5.0 * model.heads * s / model.hidden)
    with_sp = sbh * (34.0 + attention_term) / tp
    without_sp = sbh * (10.0 + 24.0 / tp + attention_term / tp)
    selective_sp = sbh * 34.0 / tp
    selective = sbh * (10.0 + 24.0 / tp)
    full = 2.0 * sbh / np.where(sp > 0, tp, 1.0)
    none = np.where(sp > 0, with_sp, without_sp)
    partial = np.where(sp > 0, selective_sp, selective)
    return np.where(recompute == 2, full, np.where(recompute == 1, partial, none))


def training_memory(model, system, c, seq, microbatches, rec=None) -> dict[str, np.ndarray]:
    """Bytes per accelerator by component, the total and what is available.

    With a low-precision recipe ``rec`` the layers' weights also have their low-precision copies
    (row- and column-wise, :attr:`Recipe.copy_bytes` per parameter), which replace the BF16 weights
    with ``fp8_param_gather``; the embedding and output layer stay BF16.
    """
    from .training import layers_per_stage, model_stage_params

    params = model_stage_params(model, c)
    states = params * (STATE_BYTES + OPTIMIZER_BYTES / np.where(c["distributed_optimizer"] > 0, c["dp"], 1.0))
    if rec is not None and rec.low:
        layer_params = params - model.vocab * model.hidden / c["tp"]
        low_params = c.get("fp8_param_gather", 0.0) > 0
        states = states + layer_params * np.where(low_params, rec.copy_bytes - 2.0, rec.copy_bytes)
    stage_layers = layers_per_stage(model, c)
    in_flight = np.minimum(c["pp"], microbatches)
    interleave = np.where(c["vp"] > 1, 1.0 + (c["pp"] - 1) / (c["pp"] * c["vp"]), 1.0)
    per_layer = activation_bytes_per_layer(model, seq, c["micro_batch"], c["tp"], c["cp"], c["sp"], c["recompute"],
                                           c["flash_attention"])
    activations = per_layer * stage_layers * in_flight * interleave
    logits = 4.0 * seq / c["cp"] * c["micro_batch"] * model.vocab / c["tp"]
    total = states + activations + logits
    return {"weights_and_optimizer": states, "activations": activations, "logits": logits, "total": total,
            "available": usable_hbm(system.accelerator.hbm)}
