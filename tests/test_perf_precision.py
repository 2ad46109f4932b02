"""Precision recipes (issue 18): per-precision GEMM efficiency, casts at HBM bandwidth, FP8 attention,
low-precision parameter copies in memory and in the DP all-gather; hand calculations."""

import numpy as np
import pytest

from rackwright.errors import InputError
from rackwright.perf.efficiency import FP8_FRACTION_RATIO, PROFILES, profile
from rackwright.perf.inference import infer
from rackwright.perf.precision import RECIPES, check, recipe
from rackwright.perf.system import load_system
from rackwright.perf.training import Parallelism, _gemm_time, _layer_times, model_stage_params, train_step
from rackwright.perf.workload import load_model

H100 = load_system("dgx-h100-ndr")
A100 = load_system("dgx-a100-80gb-hdr")
GB200 = load_system("gb200-nvl72")
LLAMA70 = load_model("llama3-70b")
W = 3.35e12 * 0.85  # H100 HBM bandwidth × the memory-bound efficiency


def cfg(**kw):
    base = dict(tp=4, pp=4, dp=4, micro_batch=1, vp=5, sp=True, recompute=0, distributed_optimizer=True)
    base.update(kw)
    return Parallelism(**base)


def step(precision="bf16", attention="bf16", system=H100, **kw):
    return train_step(LLAMA70, system.with_accelerators(64), cfg(**kw), 128, 8192, precision, attention)


def test_recipes_and_aliases():
    assert recipe("fp8") is RECIPES["fp8-delayed"] and recipe("fp4") is RECIPES["nvfp4"]
    assert {"bf16", "fp8-delayed", "fp8-current", "mxfp8", "fp8-blockwise", "nvfp4"} <= set(RECIPES)
    with pytest.raises(InputError, match="unknown precision 'fp9'"):
        recipe("fp9")
    # Cast bytes: read BF16 (2), write row- and column-wise copies (2·q), plus scales and the amax pass.
    assert RECIPES["fp8-delayed"].cast_bytes == 4.0
    assert RECIPES["fp8-current"].cast_bytes == 6.0
    assert RECIPES["mxfp8"].cast_bytes == pytest.approx(2 + 2 * (1 + 1 / 32))
    assert RECIPES["nvfp4"].cast_bytes == pytest.approx(2 + 2 * (0.5 + 1 / 16) + 2)
    assert RECIPES["bf16"].cast_bytes == 0.0 and not RECIPES["fp16"].low


def test_low_precision_reaches_a_lower_fraction_of_its_higher_peak():
    for name, eff in PROFILES.items():
        if eff.gemm_fp8:
            assert eff.gemm_fp8 < eff.gemm and eff.gemm_fp8_blockwise <= eff.gemm_fp8
            assert eff.attention_fp8 == pytest.approx(eff.attention * FP8_FRACTION_RATIO, abs=1e-3)
        if eff.gemm_fp4:
            assert eff.gemm_fp4 < eff.gemm_fp8
    assert FP8_FRACTION_RATIO == pytest.approx(0.61 / 0.75)  # FlashAttention-3: 1.2 of 1.979 PF vs 740 of 989 TF
    assert profile("h100").gemm_fp8 == 0.58 and profile("h100").gemm_mxfp8 == 0.0  # no MX tensor cores on Hopper


def test_fp8_gemm_roofline_hand_calculation():
    # A large GEMM (8192 × 8192)·(8192 × 8192) in FP8 on H100: compute-bound at 1,979 TFLOP/s × 0.58, plus a launch.
    n = 8192.0
    flops = 2 * n ** 3
    t = _gemm_time(flops, n, n, n, 1979e12, 3.35e12, profile("h100"), 0.58, 1.0)
    assert float(t) == pytest.approx(flops / (1979e12 * 0.58) + 4e-6)
    # A skinny one is memory-bound: FP8 operands (1 byte) and a BF16 output (2 bytes).
    t_small = _gemm_time(2 * 16 * n * n, n, n, 16.0, 1979e12, 3.35e12, profile("h100"), 0.58, 1.0)
    assert float(t_small) == pytest.approx((16 * n + n * n + 2 * 16 * n) / W + 4e-6)


def test_quantize_kernels_hand_calculation():
    # One dense layer of Llama 3 70B, TP 4, 8,192 tokens, fp8-delayed: every linear block is two GEMMs
    # (T × h)·(h × n) with n = params / (2h) / t; the casts of their inputs are T·(h + n) elements per block,
    # 4 bytes each at W, plus one launch per GEMM input (4 per layer forward).
    c = cfg().arrays()
    r = recipe("fp8-delayed")
    parts = _layer_times(LLAMA70, H100, c, 8192.0, 8192.0, False, profile("h100"), 1979e12, r, 989e12, False, 600.0)
    h, t = 8192, 4
    n_attention = LLAMA70.attention_params_per_layer / (2 * h) / t
    n_mlp = LLAMA70.dense_mlp_params_per_layer / (2 * h) / t
    elements = 8192 * ((h + n_attention) + (h + n_mlp))
    assert float(parts["quantize"]) == pytest.approx(elements * 4.0 / W + 4 * 4e-6)
    bf16 = _layer_times(
        LLAMA70, H100, c, 8192.0, 8192.0, False, profile("h100"), 989e12, recipe("bf16"), 989e12, False, 300.0
    )
    assert float(bf16["quantize"]) == 0.0
    # The GEMMs: 2·T·params/t FLOPs per block at the FP8 peak × 0.58 × the block's shape factor (compute-bound at
    # this size), 4 launches. Shape factor with the k0 = 600 passed in: forward K = h and n, input gradients
    # K = n and h, weight gradients K = T: 3 / Σ (K + k0)/K; the outputs T × n and h × n (n = 2,304 = 18 · 128 or
    # 10,752 = 84 · 128) and T × h are whole 256 × 128 tiles, no tile loss.
    def shape(n):
        return 3 / sum((k + 600) / k for k in (h, n, 8192))

    gemm = sum(
        2 * 8192 * params / t / (1979e12 * 0.58 * shape(n))
        for params, n in (
            (LLAMA70.attention_params_per_layer, n_attention),
            (LLAMA70.dense_mlp_params_per_layer, n_mlp),
        )
    )
    assert float(parts["gemm"]) == pytest.approx(gemm + 4 * 4e-6, rel=1e-9)


def test_fp8_end_to_end_is_1_2_to_1_5_times_bf16():
    bf16 = float(step()["step_time_s"])
    for precision in ("fp8-delayed", "fp8-current", "fp8-blockwise"):
        speedup = bf16 / float(step(precision)["step_time_s"])
        assert 1.15 < speedup < 1.5, (precision, speedup)
    best = bf16 / float(step("fp8-delayed", "fp8", fp8_param_gather=True)["step_time_s"])
    assert 1.2 < best < 1.5
    # Not the 1.6-1.9x that a peak-rate swap gives: the GEMMs alone are 2 × 0.58/0.72 = 1.61x faster at large K,
    # less the larger fixed per-tile cost of the faster FP8 tensor cores (k0 620 vs 310 K-elements on H100):
    # Llama 3 70B at TP 4 reduces over K = 8,192 (h), n = 2,304 (QKV/O) or 10,752 (MLP) and T = 8,192 (outputs of
    # whole tiles).
    def time(k0, n):
        return sum((k + k0) / k for k in (8192, n, 8192))

    attention, mlp = LLAMA70.attention_params_per_layer, LLAMA70.dense_mlp_params_per_layer
    n_attention, n_mlp = attention / (2 * 8192) / 4, mlp / (2 * 8192) / 4
    bf16_gemm = (attention * time(310, n_attention) + mlp * time(310, n_mlp)) / 0.72
    fp8_gemm = (attention * time(620, n_attention) + mlp * time(620, n_mlp)) / (2 * 0.58)
    assert float(step()["breakdown"]["gemm"]) / float(step("fp8")["breakdown"]["gemm"]) == pytest.approx(
        bf16_gemm / fp8_gemm, rel=0.01)
    assert bf16_gemm / fp8_gemm < 2 * 0.58 / 0.72


def test_nvfp4_and_mxfp8_on_blackwell():
    times = {p: float(step(p, system=GB200)["step_time_s"]) for p in ("bf16", "mxfp8", "nvfp4")}
    assert times["bf16"] > times["mxfp8"] > times["nvfp4"]
    assert times["bf16"] / times["nvfp4"] < 2.2  # far from the 4x of the peak rates


def test_attention_precision_is_separate():
    bf16, fp8_gemms, fp8_all = step(), step("fp8"), step("fp8", "fp8")
    # The attention core stays BF16 under an FP8 GEMM recipe ...
    assert float(fp8_gemms["breakdown"]["attention"]) == pytest.approx(float(bf16["breakdown"]["attention"]))
    # ... and runs at the FP8 peak × attention_fp8 with --attention-precision fp8 (less the launches).
    ratio = (989e12 * 0.45) / (1979e12 * profile("h100").attention_fp8)
    assert float(fp8_all["breakdown"]["attention"]) < float(bf16["breakdown"]["attention"]) * ratio * 1.02
    assert float(fp8_all["breakdown"]["quantize"]) > float(fp8_gemms["breakdown"]["quantize"])  # Q, K, V casts
    # The logits stay BF16 in every recipe.
    assert float(fp8_all["breakdown"]["logits"]) == pytest.approx(float(bf16["breakdown"]["logits"]))


def test_low_precision_weights_in_memory_and_in_the_dp_all_gather():
    c = cfg().arrays()
    params = float(model_stage_params(LLAMA70, c))
    layer_params = params - LLAMA70.vocab * LLAMA70.hidden / 4
    bf16, fp8, fp8_params = step(), step("fp8"), step("fp8", fp8_param_gather=True)
    # FP8 keeps row- and column-wise FP8 copies (2 bytes per layer parameter) next to the BF16 weights ...
    assert float(fp8["memory"]["weights_and_optimizer"] - bf16["memory"]["weights_and_optimizer"]) == \
        pytest.approx(2.0 * layer_params)
    # ... which replace them with --fp8-param-gather.
    assert float(fp8_params["memory"]["weights_and_optimizer"]) == pytest.approx(
        float(bf16["memory"]["weights_and_optimizer"]))
    # The DP all-gather moves 1 byte per layer parameter instead of 2 (no overlap: the whole time is exposed);
    # the reduce-scatter moves the FP32 gradients (4 bytes).
    exposed = lambda **kw: float(step("fp8", overlap_dp=False, **kw)["breakdown"]["dp_exposed"])  # noqa: E731
    # DP group of stride TP = 4 and size 4 spans two 8-GPU domains, two members in each: a ring of 2 over NVLink,
    # then half the bytes over each GPU's NIC in a ring of 2 (hierarchical).
    ring = lambda size: size / 2 / (450e9 * 0.8) + 2e-6 + size / 4 / (50e9 * 0.85) + 10e-6  # noqa: E731
    assert exposed() == pytest.approx(ring(4 * params) + ring(2 * params))
    assert exposed(fp8_param_gather=True) == pytest.approx(ring(4 * params) + ring(layer_params + 2 * (params - layer_params)))


def test_weight_casts_once_per_step():
    c = cfg().arrays()
    layer_params = float(model_stage_params(LLAMA70, c)) - LLAMA70.vocab * LLAMA70.hidden / 4
    a, b = step("fp8"), step("fp8", fp8_param_gather=True)
    # Casting BF16 weights costs 4 bytes per parameter; transposing FP8 parameters 2.
    assert float(a["breakdown"]["quantize"] - b["breakdown"]["quantize"]) == pytest.approx(2 * layer_params / W)
    assert sum(float(v) for v in a["breakdown"].values()) == pytest.approx(float(a["step_time_s"]), rel=1e-12)


def test_checks_against_the_accelerator():
    assert check(H100, "fp8").name == "fp8-delayed"
    with pytest.raises(InputError, match="block-scaling tensor cores"):
        check(H100, "mxfp8")
    with pytest.raises(InputError, match="no fp8 peak rate"):
        check(A100, "fp8-current")
    with pytest.raises(InputError, match="FP8 attention"):
        check(A100, "bf16", "fp8")
    with pytest.raises(InputError, match="unknown attention precision"):
        check(H100, "bf16", "fp6")
    assert check(GB200, "nvfp4").gemm == "fp4"


def test_inference_takes_recipes_and_aliases():
    fp8 = infer(LLAMA70, H100, 32, 2048, 256, 8, "fp8")
    assert float(fp8["tpot_s"]) == pytest.approx(float(infer(LLAMA70, H100, 32, 2048, 256, 8, "fp8-current")["tpot_s"]))
    tf32 = infer(LLAMA70, A100, 1, 128, 16, 8, "tf32")  # 4 bytes per weight: does not fit 8 × 80 GB ... just about
    assert np.isfinite(float(tf32["tpot_s"]))
