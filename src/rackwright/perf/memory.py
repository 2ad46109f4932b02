"""Memory per accelerator for training and inference, vectorised over configurations.

Training (bytes):

* **Weights, gradients and Adam states** with mixed precision: 2 (BF16 weights) +
  4 (FP32 gradient accumulation) + 12 (FP32 master weights, momentum, variance) =
  18 bytes per parameter; the distributed optimizer (ZeRO-1) shards the 12 bytes of
  optimizer state over DP × CP (Rajbhandari et al. 2020; formulas.md "16–18 bytes"; Megatron-Core
  shards over the data-parallel group with context parallelism, whose ranks hold the same weights). With BF16
  moments (``bf16_moments``: DeepSeek-V3 Technical Report §3.3.3; Megatron-Core's precision-aware optimizer with
  ``--exp-avg-dtype bf16 --exp-avg-sq-dtype bf16``) the optimizer state is 4 + 2 + 2 = 8 bytes.
* **Activations** per layer and micro-batch, Korthikanti et al. 2022 ("Reducing
  Activation Recomputation in Large Transformer Models", eq. 1-6), 16-bit:
  ``s·b·h·(34 + 5·a·s/h)`` without parallelism; with tensor parallelism ``t`` and
  sequence parallelism everything divides by ``t``, without SP only
  ``10 + 24/t + 5·a·s/(h·t)``; selective recompute drops the ``5·a·s/h`` term; full
  recompute keeps only the layer input ``2·s·b·h`` (divided by ``t`` with SP).
  Context parallelism divides ``s``. With 1F1B the first stage holds ``p``
  micro-batches of its ``L/p`` layers, and the interleaved schedule multiplies that
  by ``1 + (p−1)/(p·v)`` (same paper, §4.2.3); counted chunk by chunk where a lighter first (last) stage has
  only the embedding (the output layer and loss) in its first (last) chunk (Dubey et al. 2024, §3.3.2).
* ZeRO-2 (Llama 3's FSDP: "shards optimizer states and gradients", §3.3.2) shards the gradients as well, less
  the whole gradient of the layer in backward, held until it is reduce-scattered (Zhao et al. 2023).
* The output layer's FP32 logits for one micro-batch (``4·s·b·V/t``).
* All-gather context parallelism (``cp_comm_type`` all_gather; Transformer Engine's
  ``AttnFuncWithCPAndKVAllGather``): one layer's buffers at a time, at their peak at the end of its backward:
  the re-gathered K,V, the full dK,dV accumulator and its reordered copy (``G`` each, ``G = b·s·a_kv·(d_qk +
  d_v)·2/t``, the whole sequence's K,V on a TP rank) and the two steps' dK,dV (``(1 + 1/(2·cp))·G``). The forward
  saves only the local K,V, so nothing more is held per micro-batch.
* Ring (p2p) context parallelism (Transformer Engine's ``AttnFuncWithCPAndKVP2P``, v1.13 ``attention.py``): one
  layer's exchange buffers at a time. Forward, ``p2p_comm_buffers`` keeps each step's received K,V chunk (``G/cp``)
  in a list until the loop ends (the last one is what it saves, counted with the activations) while the projection's
  own K,V (``G/cp``) is still alive: ``G`` beyond the activations. Backward, two buffers of K,V and dK,dV
  (``torch.empty((2, *kv.shape))`` each) alternate between send and receive: ``4·G/cp``. The larger of the two,
  ``G·max(1, 4/cp)``.

Usable HBM: the capacity less 5 % and 2 GB for the framework, CUDA context and
fragmentation (an assumption; PyTorch typically reserves 1-3 GB per device).

Inference: weights (2 bytes per parameter in BF16, 1 in FP8) and the KV cache
``2·L·h_kv·d_head·bytes`` per token (formulas.md), split by tensor parallelism.
"""

from __future__ import annotations

import numpy as np

from ..models import Array
from .stages import dualpipe, expert_data_parallel, routed_expert_share, stage_layer_counts, stage_params

STATE_BYTES = 6.0  # BF16 weights + FP32 gradient accumulation (4 bytes; 2 with 16-bit gradients)
GRADIENT_BYTES = 4.0  # of STATE_BYTES, the FP32 gradients
OPTIMIZER_BYTES = 12.0  # FP32 master weights, Adam momentum and variance
OPTIMIZER_BF16_MOMENTS_BYTES = 8.0  # FP32 master weights, BF16 momentum and variance (4 + 2 + 2)
RESERVED_FRACTION = 0.05
RESERVED_BYTES = 2e9


def usable_hbm(hbm_bytes: float) -> float:
    """HBM left for the model after the framework's reserve [bytes]."""
    return hbm_bytes * (1.0 - RESERVED_FRACTION) - RESERVED_BYTES


#: Module-level recompute (Megatron-Core ``--recompute-modules``), as bits of ``Parallelism.recompute_modules``.
RECOMPUTE_MODULES = {"core_attn": 1, "layernorm": 2, "mlp": 4, "moe_act": 8, "mla_up_proj": 16, "moe": 32}


def _bit(modules, name) -> np.ndarray:
    return (np.asarray(modules).astype(np.int64) & RECOMPUTE_MODULES[name]) > 0


def activation_bytes_per_layer(
    model,
    seq,
    micro_batch,
    tp,
    cp,
    sp,
    recompute,
    c_flash=1.0,
    rec=None,
    modules=1,
    moe: bool = False,
    fp8_act_input=0.0,
    e5m6_out=0.0,
):
    """Activation memory of one layer and micro-batch on one accelerator [bytes].

    Korthikanti et al. 2022's count (eq. 1-6), tensor by tensor, for any attention and MLP shape:
    the tensors the backward pass needs, per token, in bytes (``q_s`` = bytes of a saved GEMM input:
    2, or the low-precision copy's ``q`` under an FP8/FP4 recipe, as TE saves it):

    * divided by TP only with SP: the two layer-norm inputs ``2·2h``; the layer-norm outputs that feed
      GEMMs (QKV input, MLP input) ``q_s·h`` each (an MoE layer's second is the router input, BF16);
      with dropout its two 1-byte masks ``2h``; MLA's compressed latents ``q_s·(r_q + r_kv + d_rope)``;
    * divided by TP: Q, K, V ``2·(a·d_qk + a_kv·(d_qk + d_v))``; the attention output ``2·a·d_v`` (also the
      projection's input; a low-precision recipe adds its ``q_s`` copy); the MLP's first GEMM output
      ``2·f_in·F`` (``f_in`` = 2 for SwiGLU's gate and up, 1 for GELU) and the activation output ``q_s·F``,
      ``F`` = ``ffn_hidden``, or ``(k + E_s)·moe_ffn_hidden`` in an MoE layer, whose expert inputs
      ``q_s·(k + [E_s > 0])·h`` are the dispatched copies of the tokens;
    * materialised attention only: the ``b·a·s²`` scores, ``5·a·s`` bytes per token with dropout
      (softmax output 2, mask 1, dropout output 2), ``2·a·s`` without.

    With multi-head attention, a 4h GELU MLP and dropout this is Korthikanti's ``34 + 5·a·s/h``
    (``10 + 24/t`` without SP). Two stores shrink saved tensors (:func:`saved_bytes`): ``fp8_act_input`` the
    activation's input ``2·f_in·F``, ``e5m6_out`` the attention output and its copy.
    Recompute: ``full`` keeps the layer input ``2h`` (÷ TP with SP);
    ``selective`` drops what its modules (:data:`RECOMPUTE_MODULES`, default ``core_attn``) rebuild:
    ``core_attn`` the scores, ``layernorm`` the layer-norm outputs, ``mlp`` a dense MLP's input and
    internals, ``moe`` an MoE MLP's, ``moe_act`` the experts' activation output, ``mla_up_proj`` MLA's
    up-projected Q, K, V. Flash attention never stores the scores.
    """
    h, a = model.hidden, model.heads
    s = seq / cp
    tokens = s * micro_batch
    q = 2.0 if rec is None or not rec.low else rec.value_bytes + rec.scale_bytes
    selective = np.asarray(recompute) == 1
    drop = lambda name: selective & _bit(modules, name)  # noqa: E731
    mla = model.attention == "mla"
    if moe:
        ffn = (model.experts_per_token + model.shared_experts) * model.moe_ffn_hidden
        mlp_in_sp = 2.0 * h  # the router's input (BF16)
        mlp_in_tp = q * (model.experts_per_token + (1 if model.shared_experts else 0)) * h
        mlp_dropped = drop("moe")
        act_dropped = drop("moe_act") | mlp_dropped
    else:
        ffn = model.ffn_hidden
        mlp_in_sp, mlp_in_tp = q * h, 0.0
        mlp_dropped = drop("mlp")
        act_dropped = mlp_dropped
    f_in = 2.0 if model.ffn_type == "swiglu" else 1.0
    layernorm_dropped = drop("layernorm")
    sp_part = (
        4.0 * h
        + np.where(layernorm_dropped, 0.0, q * h)
        + np.where(layernorm_dropped | mlp_dropped, 0.0, mlp_in_sp)
        + (2.0 * h if model.dropout else 0.0)
    )
    if mla:
        sp_part = sp_part + q * ((model.q_lora_rank or 0) + model.kv_lora_rank + model.qk_rope_head_dim)
    qkv = 2.0 * (a * model.qk_head_dim + model.kv_heads * (model.qk_head_dim + model.v_dim))
    if mla:
        qkv = np.where(drop("mla_up_proj"), 0.0, qkv)
    act_input, attention_output = saved_bytes(rec, fp8_act_input, e5m6_out)
    attention_out = attention_output * a * model.v_dim
    mlp = np.where(mlp_dropped, 0.0, mlp_in_tp + act_input * f_in * ffn) + np.where(act_dropped, 0.0, q * ffn)
    scores = np.where(np.asarray(c_flash) > 0, 0.0, (5.0 if model.dropout else 2.0) * a * s)
    scores = np.where(drop("core_attn"), 0.0, scores)
    tp_part = qkv + attention_out + mlp + scores
    partial = tokens * (sp_part / np.where(np.asarray(sp) > 0, tp, 1.0) + tp_part / tp)
    full = 2.0 * tokens * h / np.where(np.asarray(sp) > 0, tp, 1.0)
    return np.where(np.asarray(recompute) == 2, full, partial)


def saved_bytes(rec, fp8_act_input=0.0, e5m6_out=0.0) -> tuple[np.ndarray, np.ndarray]:
    """Bytes per value of two saved tensors: the MLP activation's input and the attention output.

    * The activation's input (the first GEMM's output): BF16, 2; with ``fp8_act_input`` FP8, 1 byte plus an FP8
      recipe's scales (Megatron-Core's ``activation_func_fp8_input_store``, whose fused SwiGLU casts it to E4M3;
      DeepSeek-V3 Technical Report §3.3.3 caches the MoE SwiGLU's input "in FP8 with our fine-grained quantization
      method": 1 + 4/128 with ``fp8-blockwise``'s 1×128 tiles).
    * The attention output: BF16 for the attention's backward, 2, plus the low-precision copy ``q`` that the output
      projection saves under an FP8/FP4 recipe; with ``e5m6_out`` one copy serves both, in DeepSeek-V3's "customized
      E5M6 data format" (§3.3.3: 1 sign + 5 exponent + 6 mantissa bits = 1.5 bytes) with the recipe's scales.
    """
    low = rec is not None and rec.low
    q = rec.value_bytes + rec.scale_bytes if low else 2.0
    scales = rec.scale_bytes if low and rec.value_bytes == 1.0 else 0.0
    act_input = np.where(np.asarray(fp8_act_input) > 0, 1.0 + scales, 2.0)
    attention_output = np.where(np.asarray(e5m6_out) > 0, 1.5 + scales, 2.0 + (q if low else 0.0))
    return act_input, attention_output


def model_activation_bytes_per_layer(model, seq, c, rec=None):
    """Activation bytes of an average layer: dense and MoE layers in their proportion."""
    args = (
        model,
        seq,
        c["micro_batch"],
        c["tp"],
        c["cp"],
        c["sp"],
        c["recompute"],
        c["flash_attention"],
        rec,
        c.get("recompute_modules", 1),
    )
    stores = {
        "fp8_act_input": c.get("activation_fp8_input_store", 0.0),
        "e5m6_out": c.get("attention_output_e5m6", 0.0),
    }
    dense = activation_bytes_per_layer(*args, **stores)
    if not model.moe_layers:
        return dense
    share = model.moe_layers / model.layers
    return dense * (1 - share) + activation_bytes_per_layer(*args, moe=True, **stores) * share


def in_flight(c, stage, microbatches):
    """Micro-batches whose activations stage ``stage`` (0 = first) holds at its peak, in whole-stage units.

    Megatron-LM's 1F1B: ``p − r`` forward passes before the first backward on stage ``r``; interleaved
    (``v`` chunks): ``2·(p − r − 1) + (v − 1)·p + 1`` chunk passes of ``1/v`` of the stage each (its
    ``get_num_warmup_microbatches`` + 1), at most all ``m·v`` chunks of the step. On the first stage this is
    Korthikanti et al.'s ``p·(1 + (p − 1)/(p·v))`` (§4.2.3).
    """
    p, v = c["pp"], c["vp"]
    chunks = np.where(v > 1, 2.0 * (p - stage - 1) + (v - 1) * p + 1, (p - stage) * v)
    return np.minimum(chunks, microbatches * v) / v


def held_layer_microbatches(c, stage, microbatches, layers, middle):
    """Layer × micro-batch activations stage ``stage`` holds at its peak, counted chunk by chunk.

    Megatron-LM's interleaved schedule runs forward chunk passes in groups of ``p`` micro-batches per chunk
    (``microbatch_group_size_per_vp_stage``; at most ``m``): chunk 0 for micro-batches 1…p, chunk 1 for the same,
    …, then chunk 0 again. Of the :func:`in_flight` passes held, the first chunk's are ``R·g + min(r, g)`` and the
    last chunk's ``R·g + clip(r − (v − 1)·g, 0, g)`` (``R`` whole rounds of ``g·v`` passes, ``r`` left over).
    A first (last) stage lighter than a middle one by at most one chunk of ``k = middle/v`` layers has its
    deficit in its first (last) chunk, which holds the embedding (the output layer and loss) in the other's
    place: Llama 3 (Dubey et al. 2024, §3.3.2: "the first model chunk on the first stage has only the embedding,
    and the last model chunk on the last stage has only output projection and loss calculation"), as
    Megatron-Core's ``account_for_embedding/loss_in_pipeline_split`` lays it out. Otherwise the stage's layers
    are spread evenly over its chunks (``held · layers / v``).
    """
    p, v = c["pp"], c["vp"]
    held = in_flight(c, stage, microbatches) * v
    group = np.minimum(p, microbatches)
    rounds = np.floor(held / (group * v))
    rest = held - rounds * group * v
    first_chunk = rounds * group + np.minimum(rest, group)
    last_chunk = rounds * group + np.clip(rest - (v - 1) * group, 0.0, group)
    chunk = middle / v
    deficit = chunk * v - layers
    edge = np.where(stage == 0, first_chunk, np.where(stage >= p - 1, last_chunk, 0.0))
    lighter = (v > 1) & (p > 2) & (deficit > 0) & (deficit <= chunk)
    return np.where(lighter, held * chunk - edge * deficit, held * layers / v)


def training_memory(model, system, c, seq, microbatches, rec=None) -> dict[str, Array]:
    """Bytes per accelerator by component on the stage that needs the most, its total and what is available.

    The first, second and last pipeline stages are evaluated (the middle stages after the second hold
    fewer micro-batches of the same layers): the first holds the input embedding and the most
    micro-batches, the last the output layer and the FP32 logits (with DualPipe, the ranks' pairs of stages).
    With a low-precision recipe ``rec`` the layers' weights also have their low-precision copies (row- and
    column-wise, :attr:`Recipe.copy_bytes` per parameter), which replace the BF16 weights with ``fp8_param_gather``.
    """
    per_layer = model_activation_bytes_per_layer(model, seq, c, rec)
    logits = 4.0 * seq / c["cp"] * c["micro_batch"] * model.vocab / c["tp"] * (1 + model.mtp_layers)  # MTP heads too
    gathered = c["micro_batch"] * seq * model.attention_kv_bytes_per_token(2.0) / c["tp"]
    all_gather = (4.0 + 1.0 / (2.0 * c["cp"])) * gathered
    ring = np.maximum(1.0, 4.0 / c["cp"]) * gathered  # TE's p2p_comm_buffers: forward G, backward 4·G/cp
    # Local-attention layers run TE's all-gather whatever cp_comm_type says (its p2p ring refuses a window), gathering
    # the whole K,V: a model with any holds the all-gather's buffers at its peak.
    gathers = (np.asarray(c.get("cp_comm_type", 0.0)) > 0) | (model.local_layers > 0)
    cp_buffers = np.where(c["cp"] > 1, np.where(gathers, all_gather, ring), 0.0)
    first, middle, last = stage_layer_counts(model, c)
    inner = np.where(c["pp"] > 2, middle, last)
    stages = []  # (weights and optimizer, activations, logits) of the first, second and last stages
    for stage, layers in ((0, first), (1, inner), (c["pp"] - 1, last)):
        stage = np.minimum(stage, c["pp"] - 1)
        stages.append(
            (
                _stage_states(model, c, stage, layers, rec),
                per_layer * held_layer_microbatches(c, stage, microbatches, layers, middle),
                np.where(stage == c["pp"] - 1, logits, 0.0),
            )
        )
    # DualPipe (DeepSeek-V3 Technical Report Table 2, the DualPipe README): rank i holds stages i and p − 1 − i
    # ("2×" parameters) and p + 1 micro-batches of a stage's activations; the edge ranks hold the first and last
    # stages (and the logits), the others two middle ones (with two stages, both ranks are edges).
    (first_states, _, _), (inner_states, _, _), (last_states, _, _) = stages
    held = np.minimum(c["pp"] + 1, microbatches) * per_layer
    edge = (first_states + last_states, held * (first + last) / 2, logits)
    two_inner = (2 * inner_states, held * inner, 0.0)
    pair = tuple(np.where(c["pp"] > 2, two, one) for two, one in zip(two_inner, edge, strict=True))
    dual = dualpipe(c)
    best: dict[str, np.ndarray] | None = None
    for single, double in zip(stages, (edge, pair, edge), strict=True):
        states, activations, stage_logits = (np.where(dual, d, s) for s, d in zip(single, double, strict=True))
        parts = {
            "weights_and_optimizer": states,
            "activations": activations,
            "logits": stage_logits,
            "cp_buffers": cp_buffers,
            "total": states + activations + stage_logits + cp_buffers,
        }
        worse = True if best is None else parts["total"] > best["total"]
        best = parts if best is None else {k: np.where(worse, v, best[k]) for k, v in parts.items()}
    assert best is not None  # three stages compared
    return {**best, "available": usable_hbm(system.accelerator.hbm)}


def _stage_states(model, c, stage, layers, rec) -> np.ndarray:
    """Bytes of weights, gradients and optimizer state on one accelerator of pipeline stage ``stage`` holding
    ``layers`` layers (see :func:`training_memory`)."""
    sharded = c["distributed_optimizer"] > 0
    params, layer_params = stage_params(model, c, stage)
    grads16 = np.where(c.get("fp32_grads", 1.0) > 0, 0.0, 2.0)  # 16-bit gradients: 2 bytes fewer
    # The distributed optimizer shards the dense weights' state over DP × CP and the routed experts' over their
    # expert-data-parallel group (stages.expert_data_parallel).
    expert_params = routed_expert_share(model, c) * layer_params
    adam = np.where(c.get("bf16_moments", 0.0) > 0, OPTIMIZER_BF16_MOMENTS_BYTES, OPTIMIZER_BYTES)
    optimizer = adam * np.where(
        sharded, (params - expert_params) / (c["dp"] * c["cp"]) + expert_params / expert_data_parallel(c), params
    )
    states = params * (STATE_BYTES - grads16) + optimizer
    # ZeRO-2: the gradients (4 or 2 bytes) sharded over DP × CP as well; the layer whose backward runs holds its
    # whole gradient until it is reduce-scattered into the shard (PyTorch FSDP's unit, Zhao et al. 2023).
    zero2 = (c.get("zero2", 0.0) > 0) & sharded
    grads = GRADIENT_BYTES - grads16
    per_layer_params = np.where(layers > 0, layer_params / np.maximum(layers, 1), 0.0)
    unsharded = params * (1.0 - 1.0 / (c["dp"] * c["cp"])) - per_layer_params
    states = states - np.where(zero2, grads * np.maximum(unsharded, 0.0), 0.0)
    if rec is not None and rec.low:
        low_params = c.get("fp8_param_gather", 0.0) > 0
        states = states + layer_params * np.where(low_params, rec.copy_bytes - 2.0, rec.copy_bytes)
    # FSDP (ZeRO-3) shards all of it over DP × CP (HSDP: over DP × CP / replicas) and holds two layers' gathered
    # weights (the one computing, the one prefetched) in their storage precision.
    fsdp = c.get("fsdp", 0.0) > 0
    gathered = 2.0 * per_layer_params * (2.0 if rec is None or not rec.low else rec.copy_bytes)
    return np.where(
        fsdp,
        (
            params * (STATE_BYTES - grads16 + adam)
            + (layer_params * (rec.copy_bytes if rec is not None and rec.low else 0.0))
        )
        / (c["dp"] * c["cp"] / c.get("hsdp_replicas", 1.0))
        + gathered,
        states,
    )
