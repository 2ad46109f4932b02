"""Pipeline stages: how many layers and parameters each stage of a configuration holds (arrays over configurations).

Shared by the step-time model (:mod:`.training`: the busiest stage sets the pace) and the memory model
(:mod:`.memory`: the first, middle and last stages are checked).
"""

from __future__ import annotations

import numpy as np


def stage_layer_counts(model, c):
    """Layers of the first, a middle and the last pipeline stage (arrays).

    Without ``first_stage_layers``/``last_stage_layers`` every stage gets ``ceil(L / (p·v)) · v`` (uneven
    splits put the extra on some stages; the busiest sets the pace). The last stage also holds the model's
    ``mtp_layers`` multi-token-prediction layers (counted as average layers; their ``2h·h`` projections are not).
    Given ones are taken as they are
    (Megatron-Core ``--decoder-first/last-pipeline-num-layers``) and the other stages share the rest
    the same way.
    """
    if "_stages" in c:  # computed once per configuration array (train_step and memory ask several times)
        return c["_stages"]
    p, v = c["pp"], c["vp"]
    first_given = np.asarray(c.get("first_stage_layers", 0.0), float)
    last_given = np.asarray(c.get("last_stage_layers", 0.0), float)
    rest_stages = p - (first_given > 0) - (last_given > 0)
    rest_layers = model.layers - first_given - last_given
    even = np.ceil(rest_layers / np.maximum(rest_stages * v, 1)) * v
    # The multi-token-prediction depths (one layer each) run on the last stage, as Megatron-Core places them.
    last = np.where(p == 1, np.where(first_given > 0, first_given, even), np.where(last_given > 0, last_given, even))
    last = last + model.mtp_layers
    first = np.where(p == 1, last, np.where(first_given > 0, first_given, even))
    middle = np.where(p > 2, even, 0.0)
    if isinstance(c, dict):
        c["_stages"] = (first, middle, last)
    return first, middle, last


#: Pipeline schedules, as codes of ``Parallelism.pp_schedule``: Megatron-LM's 1F1B (interleaved with VP > 1), and
#: DeepSeek's DualPipe (DeepSeek-V3 Technical Report §3.2.1; github.com/deepseek-ai/DualPipe README).
PP_SCHEDULES = {"1f1b": 0, "dualpipe": 1}


def dualpipe(c) -> np.ndarray:
    """Which configurations run DualPipe: rank ``i`` holds stages ``i`` and ``p − 1 − i``, feeding half the
    micro-batches from each end of the pipeline."""
    return np.asarray(c.get("pp_schedule", 0.0)) == PP_SCHEDULES["dualpipe"]


def layers_per_stage(model, c):
    """Layers on the busiest accelerator: its pipeline stage's (``ceil(L / (p·v)) · v`` for an even split), or
    with DualPipe its two stages' (the first and last on the edge ranks, two middle ones elsewhere)."""
    first, middle, last = stage_layer_counts(model, c)
    one = np.maximum(np.maximum(first, middle), last)
    return np.where(dualpipe(c), np.maximum(first + last, 2 * middle), one)


def average_layer_params(model, c):
    """Parameters of an average layer on one accelerator, times TP (attention, dense MLP and shared experts split
    by TP; the routed experts by EP × ETP: ``E/ep · expert / etp``)."""
    if "_layer_params" in c:  # computed once per configuration array, as the stage counts
        return c["_layer_params"]
    moe_share = model.moe_layers / model.layers
    dense_layer = model.attention_params_per_layer + model.dense_mlp_params_per_layer
    per_layer_moe = (
        moe_share
        * (
            model.attention_params_per_layer
            + model.shared_experts * model.expert_params
            + model.experts * model.expert_params / c["ep"] * c["tp"] / c.get("etp", c["tp"])
        )
        if model.moe_layers
        else 0.0
    )
    params = dense_layer * (1 - moe_share) + per_layer_moe
    if isinstance(c, dict):
        c["_layer_params"] = params
    return params


def routed_expert_share(model, c):
    """Share of an average layer's parameters on one accelerator that are routed experts (0 for dense models)."""
    if not model.moe_layers:
        return 0.0
    experts = model.moe_layers / model.layers * model.experts / c["ep"] * model.expert_params / c.get("etp", c["tp"])
    return experts / (average_layer_params(model, c) / c["tp"])


def expert_data_parallel(c):
    """Ranks holding the same routed experts: Megatron-Core folds ETP × EP × EDP over TP × CP × DP, so
    ``EDP = DP·CP·TP / (EP·ETP)`` (at stride ``EP·ETP``)."""
    return c["dp"] * c["cp"] * c["tp"] / (c["ep"] * c.get("etp", c["tp"]))


def stage_params(model, c, stage):
    """(all, layers only) parameters on one accelerator of pipeline stage ``stage`` (0 = first), split by TP.

    The first stage holds the input embedding ``V·h``, the last the output layer ``V·h`` (a tied matrix is
    held by both); with one stage both (``V·h`` once when tied).
    """
    first, middle, last = stage_layer_counts(model, c)
    p = c["pp"]
    layers = np.where(stage == 0, first, np.where(stage >= p - 1, last, middle))
    layer_params = layers * average_layer_params(model, c) / c["tp"]
    vh = model.vocab * model.hidden
    embeddings = np.where(
        p == 1, vh * (1 if model.tied_embeddings else 2), np.where((stage == 0) | (stage >= p - 1), vh, 0.0)
    )
    return layer_params + embeddings / c["tp"], layer_params
