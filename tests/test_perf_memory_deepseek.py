"""Issue 18, "Memory that agrees with production": the activation stores DeepSeek-V3's report describes (DeepSeek-V3
Technical Report §3.3.3, "Low-Precision Activation"), each checked by hand, and DeepSeek-V3 as the report trained it.

* ``--activation-func-fp8-input-store`` (Megatron-Core's ``activation_func_fp8_input_store``): the SwiGLU's input,
  the gate and up GEMM outputs (``2·F`` values a token), saved in FP8 instead of BF16; the report: "we cache the
  inputs of the SwiGLU operator and recompute its output in the backward pass. These activations are also stored in
  FP8 with our fine-grained quantization method" (1 byte + ``fp8-blockwise``'s FP32 scale per 1×128 tile).
* ``--attention-output-cache e5m6``: "Inputs of the Linear after the attention operator. These activations are also
  used in the backward pass of the attention operator ... We adopt a customized E5M6 data format exclusively for
  these activations": one 12-bit copy (1 sign + 5 exponent + 6 mantissa bits, 1.5 bytes, with the same scales) in
  place of the BF16 output the attention's backward keeps and the FP8 copy the output projection saves.

The report's §3.2.3 mechanisms are options already: RMSNorm recompute is ``--recompute-modules layernorm``, the MLA
up-projections' is ``mla_up_proj``, the MoE SwiGLU output's ``moe_act``; the EMA of the parameters lives in CPU memory
(the model counts no EMA on the GPU) and the MTP module's embedding and output head are the main model's (the model
holds one ``V·h`` on each edge stage and none for the MTP depth).
"""

import json

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.perf.api import train_report
from rackwright.perf.memory import RECOMPUTE_MODULES, activation_bytes_per_layer
from rackwright.perf.precision import RECIPES
from rackwright.perf.workload import load_model

V3 = load_model("deepseek-v3")
BLOCKWISE = RECIPES["fp8-blockwise"]
SEQ = 4096
# DeepSeek-V3's shapes (§4.2, config.json): hidden 7,168, 128 heads of value dimension 128, MLA latents 1,536 (query),
# 512 (key/value) and the 64-wide decoupled RoPE key, 8 of 256 routed experts and 1 shared, each a 2,048-wide SwiGLU;
# the first 3 of 61 layers dense, a SwiGLU of 18,432.
H, HEADS, V_DIM, LATENTS = 7168, 128, 128, 1536 + 512 + 64
F_MOE = (8 + 1) * 2048  # 18,432: the routed and shared experts' intermediate width a token passes through
F_DENSE = 18432
Q = 1 + 4 / 128  # fp8-blockwise: an FP8 value and an FP32 scale per 1×128 tile
# The report's recompute (§3.2.3): all RMSNorms and the MLA up-projections, and the MoE SwiGLU's output (§3.3.3).
MODULES = RECOMPUTE_MODULES["layernorm"] | RECOMPUTE_MODULES["mla_up_proj"] | RECOMPUTE_MODULES["moe_act"]


def _per_token(moe, fp8_input=0, e5m6=0, rec=BLOCKWISE):
    """Bytes a token of one layer saves, TP 1, no CP or SP, selective recompute of MODULES, flash attention."""
    args = (V3, SEQ, 1, 1, 1, 0, 1, 1.0, rec, MODULES, moe, fp8_input, e5m6)
    return float(activation_bytes_per_layer(*args)) / SEQ


# Kept a token by both layer kinds: the two RMSNorm inputs (BF16, 2·2h; their outputs are recomputed), MLA's latents
# (q per value; the up-projected Q, K, V are recomputed).
COMMON = 2 * 2 * H + Q * LATENTS
# The attention output: BF16 for the attention's backward plus the projection's FP8 copy, or one E5M6 copy.
ATTENTION_OUT, ATTENTION_E5M6 = (2 + Q) * HEADS * V_DIM, (1.5 + 4 / 128) * HEADS * V_DIM
# An MoE layer also keeps the 9 FP8 copies of the token its experts take in (8 routed, 1 shared).
EXPERT_INPUTS = Q * 9 * H


def test_moe_layer_by_hand():
    # Gate and up outputs 2·F_MOE in BF16 (4 bytes a pair) or in FP8 (2·Q); the SwiGLU output is recomputed (moe_act).
    assert _per_token(True) == pytest.approx(COMMON + ATTENTION_OUT + EXPERT_INPUTS + 4 * F_MOE, rel=1e-12)
    assert _per_token(True, 1, 1) == pytest.approx(COMMON + ATTENTION_E5M6 + EXPERT_INPUTS + 2 * Q * F_MOE, rel=1e-12)
    assert COMMON + ATTENTION_E5M6 + EXPERT_INPUTS + 2 * Q * F_MOE == pytest.approx(160_482, abs=1e-6)  # was 220,770


def test_each_store_alone():
    before = _per_token(True)
    # FP8 SwiGLU input: (4 − 2·Q)·18,432 = 35,712 bytes a token; E5M6: (2 + Q − 1.5 − 4/128)·16,384 = 24,576.
    assert before - _per_token(True, fp8_input=1) == pytest.approx((4 - 2 * Q) * F_MOE, rel=1e-12)
    assert before - _per_token(True, e5m6=1) == pytest.approx(24_576, rel=1e-12)
    assert (4 - 2 * Q) * F_MOE == pytest.approx(35_712, rel=1e-12)


def test_dense_layer_by_hand():
    # Megatron's option covers every SwiGLU MLP: a dense layer keeps its MLP's gate and up outputs (FP8 with the
    # option) and its SwiGLU output (FP8, the down projection's input: moe_act does not cover a dense MLP).
    dense = COMMON + ATTENTION_E5M6 + 2 * Q * F_DENSE + Q * F_DENSE
    assert _per_token(False, 1, 1) == pytest.approx(dense, rel=1e-12)
    assert dense == pytest.approx(112_962, abs=1e-6)


def test_fp8_input_store_without_scales_under_bf16():
    # Megatron's fused SwiGLU casts its input to E4M3 without scales: 1 byte a value under a BF16 recipe, where the
    # attention output is BF16 alone (no FP8 copy): 2·F·(2 − 1) bytes saved.
    bf16 = RECIPES["bf16"]
    saved = _per_token(True, rec=bf16) - _per_token(True, fp8_input=1, rec=bf16)
    assert saved == pytest.approx(2 * F_MOE, rel=1e-12)


# DeepSeek-V3 as its report describes the run (§3.2, §3.3, §4.2): 2,048 H800 GPUs (dgx-h800, 80 GB), PP 16 with
# DualPipe, EP 64 over 8 nodes, ZeRO-1 data parallelism (DP 128), no TP, FP8 block-wise GEMMs, DeepEP (FP8 dispatch),
# AdamW moments in BF16, the final batch of 15,360 sequences of 4,096 tokens; RMSNorm, MLA up-projection and MoE
# SwiGLU recompute (§3.2.3), the SwiGLU input in FP8 and the attention output in E5M6 (§3.3.3). Not in the report,
# assumed: micro-batch 1 sequence (the least memory) and the stage layout of Megatron-Core's
# account_for_embedding/loss_in_pipeline_split with the MTP depth counted as a layer: 61 + 1 + 2 = 64 = 16 × 4, so
# stage 0 holds the embedding and 3 layers, stages 1-14 4 layers each, stage 15 2 layers, the MTP depth and the head.
# As a command:
#   rackwright perf train --model deepseek-v3 --system dgx-h800 --accelerators 2048 --pp 16 --ep 64
#     --pp-schedule dualpipe --precision fp8-blockwise --moe-dispatcher deepep --distributed-optimizer
#     --optimizer-moments bf16 --global-batch 15360 --first-stage-layers 3 --last-stage-layers 2
#     --recompute selective --recompute-modules layernorm,mla_up_proj,moe_act
#     --activation-func-fp8-input-store --attention-output-cache e5m6
AS_TRAINED = dict(
    accelerators=2048,
    pp=16,
    ep=64,
    pp_schedule="dualpipe",
    precision="fp8-blockwise",
    moe_dispatcher="deepep",
    distributed_optimizer=True,
    optimizer_moments="bf16",
    global_batch=15360,
    first_stage_layers=3,
    last_stage_layers=2,
    recompute="selective",
    recompute_modules="layernorm,mla_up_proj,moe_act",
)
STORES = dict(activation_func_fp8_input_store=True, attention_output_cache="e5m6")
# An average layer on a rank (the model's unit): MLA's 187,105,280 weights, then 3/61 dense MLPs (3·h·18,432) and
# 58/61 MoE MLPs (the shared expert and 256/64 routed ones, 3·h·2,048 each).
ATTENTION = H * 1536 + 1536 * HEADS * 192 + H * (512 + 64) + 512 * HEADS * (128 + 128) + HEADS * V_DIM * H
EXPERT = 3 * H * 2048
ROUTED = 58 / 61 * 4 * EXPERT
LAYER = ATTENTION + 3 / 61 * 3 * H * F_DENSE + 58 / 61 * (EXPERT + 4 * EXPERT)
VH = 129_280 * H
PER_TOKEN = 3 / 61 * 112_962 + 58 / 61 * 160_482  # an average layer's saved bytes a token (above)
USABLE = 80 * 2**30 * 0.95 - 2e9  # H800: 80 GiB less the 5 % and 2 GB reserve, 79.60 GB


def _as_trained(**kw):
    return train_report("deepseek-v3", "dgx-h800", **{**AS_TRAINED, **kw})


def _states(params, layers):
    """BF16 weights 2 + FP32 gradients 4 a parameter; BF16-moment Adam (4 + 2 + 2) over DP 128 for the dense weights
    and over the 2 ranks holding the same experts (2,048 / (16 · 64)); the FP8 copies 2·Q a layer weight."""
    routed = layers / LAYER * ROUTED
    return 6 * params + 8 * ((params - routed) / 128 + routed / 2) + 2 * Q * layers


def test_deepseek_v3_as_trained_fits():
    # A middle rank (stages i and 15 − i, 4 + 4 layers) needs the most: 32.31 GB of weights, gradients, optimizer
    # state and FP8 copies, and DualPipe's PP + 1 = 17 micro-batches of a stage's 4 layers, 44.05 GB.
    gb = _as_trained(**STORES)["memory_breakdown_gb"]
    states = _states(8 * LAYER, 8 * LAYER)
    activations = 17 * 4 * SEQ * PER_TOKEN
    assert gb["weights_and_optimizer"] == pytest.approx(states / 1e9, rel=1e-9)
    assert gb["activations"] == pytest.approx(activations / 1e9, rel=1e-9)
    assert gb["logits"] == 0.0
    assert gb["available"] == pytest.approx(USABLE / 1e9, rel=1e-12)
    # 76.36 GB of 79.60 usable: it fits, with 3.24 GB to spare. The edge ranks (3 + 2 layers, the MTP depth, the
    # embedding, the head and their FP32 logits) need less.
    assert gb["total"] == pytest.approx((states + activations) / 1e9, rel=1e-9)
    assert (USABLE - states - activations) / 1e9 == pytest.approx(3.24, abs=0.005)
    edge = _states(6 * LAYER + 2 * VH, 6 * LAYER) + 17 * 3 * SEQ * PER_TOKEN + 4 * SEQ * 129_280 * 2
    assert edge < states + activations
    assert _as_trained(**STORES)["fits"] is True


def test_without_the_stores_it_does_not_fit():
    # Both stores save 35,712 + 24,576 = 60,288 bytes a token in either layer kind: 17 × 4 × 4,096 × 60,288 =
    # 16.79 GB of the middle rank's activations (93.15 GB without them); the step time does not move (their casts
    # are not timed).
    before, after = _as_trained(), _as_trained(**STORES)
    saved = before["memory_breakdown_gb"]["activations"] - after["memory_breakdown_gb"]["activations"]
    assert saved == pytest.approx(17 * 4 * SEQ * 60_288 / 1e9, rel=1e-9)
    assert before["fits"] is False
    assert after["step_time_s"] == before["step_time_s"]
    assert after["precision"]["attention_output_cache"] == "e5m6"
    assert after["precision"]["activation_func_fp8_input_store"] is True


def test_heavier_edge_stages_do_not_fit():
    # Stages of 3 layers first and last (the MTP depth beside the last's 3): the other 55 layers leave the middle
    # ranks 4 a stage, and the edge rank's 3 + 4 layers with the embedding, the head and the logits need the most:
    # 39.51 + 38.54 + 4.24 = 82.29 GB, 2.68 GB over.
    gb = _as_trained(**STORES, last_stage_layers=3)["memory_breakdown_gb"]
    states = _states(7 * LAYER + 2 * VH, 7 * LAYER)
    activations = 17 * 3.5 * SEQ * PER_TOKEN  # DualPipe: the two stages' average, 3.5 layers
    logits = 4 * SEQ * 129_280 * 2  # FP32, the main head and the MTP depth's
    assert gb["total"] == pytest.approx((states + activations + logits) / 1e9, rel=1e-9)
    assert gb["total"] - gb["available"] == pytest.approx(2.68, abs=0.01)


RUNNER = CliRunner()


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        (["--model", "gpt3-5b", "--activation-func-fp8-input-store"], "--activation-func-fp8-input-store", "SwiGLU"),
        (["--model", "llama3-8b", "--attention-output-cache", "e5m6"], "--attention-output-cache", "FP8 recipe"),
        (["--model", "llama3-8b", "--attention-output-cache", "fp8"], "--attention-output-cache", "bf16, e5m6"),
    ],
)
def test_bad_stores_are_input_errors(args, field, words):
    base = ["perf", "train", "--system", "dgx-h100-ndr", "--global-batch", "8", "--json"]
    result = RUNNER.invoke(app, [*base, *args])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["field"] == field
    assert words in error["message"]
