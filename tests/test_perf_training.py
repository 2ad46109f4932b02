"""The training, memory, search and inference models against hand calculations and properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rackwright.perf.inference import infer
from rackwright.perf.memory import activation_bytes_per_layer, training_memory, usable_hbm
from rackwright.perf.search import search
from rackwright.perf.system import load_system
from rackwright.perf.training import Parallelism, layers_per_stage, model_stage_params, train_step
from rackwright.perf.workload import load_model

GPT3 = load_model("gpt3-175b")
A100 = load_system("dgx-a100-80gb-hdr")
H100 = load_system("dgx-h100-ndr")


def config(**kw):
    base = dict(tp=8, pp=8, dp=16, micro_batch=1, vp=1, sp=True, recompute=1, distributed_optimizer=True)
    base.update(kw)
    return Parallelism(**base)


def test_breakdown_adds_up_to_the_step():
    r = train_step(GPT3, A100.with_accelerators(1024), config(), 1536)
    assert sum(float(v) for v in r["breakdown"].values()) == pytest.approx(float(r["step_time_s"]), rel=1e-12)


@pytest.mark.parametrize("pp, vp, dp", [(4, 1, 32), (8, 1, 16), (8, 2, 16), (16, 4, 8)])
def test_pipeline_bubble_is_p_minus_1_over_v_m(pp, vp, dp):
    # Narayanan et al. 2021: bubble fraction (p − 1)/(v·m) of the ideal pipelined time.
    r = train_step(GPT3, A100.with_accelerators(8 * pp * dp), config(pp=pp, vp=vp, dp=dp), 1536)
    b = r["breakdown"]
    m = 1536 / dp
    ideal = float(r["step_time_s"]) - float(b["bubble"]) - float(b["dp_exposed"]) - float(b["optimizer"])
    assert float(b["bubble"]) / ideal == pytest.approx((pp - 1) / (vp * m), rel=1e-9)


def test_activation_memory_korthikanti_hand_calculation():
    # GPT-3 175B, s = 2048, b = 1, h = 12288, a = 96, t = 8 (Korthikanti et al. 2022, eq. 1-6):
    s, b, h, a, t = 2048, 1, 12288, 96, 8
    none_no_sp = s * b * h * (10 + 24 / t + 5 * a * s / (h * t))
    assert activation_bytes_per_layer(GPT3, s, b, t, 1, 0, 0, 0.0) == pytest.approx(none_no_sp)
    assert activation_bytes_per_layer(GPT3, s, b, t, 1, 1, 1, 0.0) == pytest.approx(34 * s * b * h / t)  # SP + selective
    assert activation_bytes_per_layer(GPT3, s, b, t, 1, 1, 2, 0.0) == pytest.approx(2 * s * b * h / t)  # full
    # Flash attention never stores the scores: the 5as/h term is gone even without recompute.
    assert activation_bytes_per_layer(GPT3, s, b, t, 1, 1, 0, 1.0) == pytest.approx(34 * s * b * h / t)


def test_weights_and_optimizer_bytes():
    c = config(pp=8, tp=8, dp=16).arrays()
    params = model_stage_params(GPT3, c)
    # 96 layers / 8 stages = 12 layers of 12·h² + V·h embeddings (+ learned positions are a lookup), over TP 8.
    expected = (12 * (4 * 12288**2 + 2 * 12288 * 49152) + 51200 * 12288) / 8
    assert float(params) == pytest.approx(expected, rel=1e-9)
    memory = training_memory(GPT3, A100, c, 2048, 96)
    assert float(memory["weights_and_optimizer"]) == pytest.approx(expected * (6 + 12 / 16))
    c_plain = config(pp=8, tp=8, dp=16, distributed_optimizer=False).arrays()
    assert float(training_memory(GPT3, A100, c_plain, 2048, 96)["weights_and_optimizer"]) == pytest.approx(expected * 18)
    assert usable_hbm(80e9) == pytest.approx(80e9 * 0.95 - 2e9)


def test_uneven_pipeline_stages_take_the_busiest():
    model = load_model("llama3-405b")  # 126 layers
    assert float(layers_per_stage(model, {"pp": np.array(16.0), "vp": np.array(1.0)})) == 8
    assert float(layers_per_stage(model, {"pp": np.array(16.0), "vp": np.array(8.0)})) == 8


def test_mfu_and_hfu_counting():
    r = train_step(GPT3, A100.with_accelerators(1024), config(recompute=2), 1536)
    tokens = 1536 * 2048
    model_flops = 3 * GPT3.forward_flops_per_token(2048) * tokens
    assert float(r["mfu"]) == pytest.approx(model_flops / float(r["step_time_s"]) / 1024 / 312e12)
    # Full recompute adds one forward pass of the layers (not of the logits) to the hardware FLOPs.
    recomputed = (GPT3.forward_flops_per_token(2048) - 2 * 12288 * 51200) * tokens
    assert float(r["hfu"]) == pytest.approx((model_flops + recomputed) / float(r["step_time_s"]) / 1024 / 312e12)


@settings(max_examples=40, deadline=None)
@given(factor=st.floats(1.0, 8.0), which=st.sampled_from(["scale_up", "scale_out"]),
       tp=st.sampled_from([2, 4, 8]), pp=st.sampled_from([1, 2, 4, 8]), recompute=st.sampled_from([0, 1, 2]))
def test_more_bandwidth_never_slows_a_step(factor, which, tp, pp, recompute):
    system = A100.with_accelerators(1024)
    faster = system.model_copy(deep=True)
    link = getattr(faster, which)
    link.bandwidth = link.bandwidth * factor
    cfg = config(tp=tp, pp=pp, dp=1024 // (tp * pp), recompute=recompute)
    slow = float(train_step(GPT3, system, cfg, 2048)["step_time_s"])
    fast = float(train_step(GPT3, faster, cfg, 2048)["step_time_s"])
    assert fast <= slow * (1 + 1e-12)


def test_vectorised_equals_one_at_a_time():
    tps, pps = np.array([4, 8, 8]), np.array([16, 8, 16])
    batch = train_step(GPT3, A100.with_accelerators(1024), config(tp=tps, pp=pps, dp=1024 // (tps * pps)), 1536)
    for i in range(3):
        one = train_step(GPT3, A100.with_accelerators(1024), config(tp=tps[i], pp=pps[i], dp=1024 // (tps[i] * pps[i])), 1536)
        assert float(batch["step_time_s"][i]) == pytest.approx(float(one["step_time_s"]), rel=1e-12)


def test_search_returns_valid_fitting_fastest_and_a_pareto_front():
    result = search(GPT3, A100, 1024, 1536)
    cfg = result.configurations
    assert np.all(cfg["tp"] * cfg["pp"] * cfg["dp"] * cfg["cp"] == 1024)
    assert np.all(1536 % (cfg["dp"] * cfg["micro_batch"]) == 0) and np.all(96 % cfg["tp"] == 0)
    order = result.order()
    assert result.metrics["fits"][order].all()
    assert np.all(np.diff(result.metrics["step_time_s"][order]) >= 0)
    front = result.pareto()
    times, memory = result.metrics["step_time_s"][front], result.metrics["memory_bytes"][front]
    assert np.all(np.diff(times) >= 0) and np.all(np.diff(memory) < 0)
    # Nothing that fits beats a front point in both time and memory.
    fits = result.metrics["fits"]
    for t, m in zip(times, memory):
        assert not np.any(fits & (result.metrics["step_time_s"] < t) & (result.metrics["memory_bytes"] < m))
    # The search space contains Megatron's own choice (TP 8, PP 8 ...): the best is at least as fast.
    megatron = float(train_step(GPT3, A100.with_accelerators(1024), config(dp=16, vp=2, recompute=1), 1536)["step_time_s"])
    assert result.metrics["step_time_s"][order[0]] <= megatron


def test_decode_is_bandwidth_bound_hand_calculation():
    # Llama 3 70B, BF16, TP 8 on H100, batch 1. Per output token:
    #   weights: 2 bytes × 70.55B params / 8 GPUs at 3.35 TB/s × 0.85 HBM efficiency ≈ 6.19 ms;
    #   two all-reduces per layer, each a reduce-scatter + all-gather of 7 latency-bound ring steps
    #   at 2 µs: 80 layers × 2 × 2 × 7 × 2 µs = 4.48 ms; kernel launches 80 × 4 µs = 0.32 ms;
    #   the KV cache (192 tokens × 327,680 B / 8) adds ~3 µs.
    model = load_model("llama3-70b")
    r = infer(model, H100, batch=1, input_tokens=128, output_tokens=128, tp=8)
    expected = 2 * model.total_params / 8 / (3.35e12 * 0.85) + 80 * 2 * 2 * 7 * 2e-6 + 80 * 4e-6
    assert float(r["tpot_s"]) == pytest.approx(expected, rel=0.01)
    assert bool(r["fits"])


def test_kv_cache_eventually_does_not_fit_and_batch_raises_throughput():
    model = load_model("llama3-70b")
    small = infer(model, H100, batch=8, input_tokens=2048, output_tokens=512, tp=8)
    large = infer(model, H100, batch=64, input_tokens=2048, output_tokens=512, tp=8)
    assert float(large["tokens_per_s_per_accelerator"]) > float(small["tokens_per_s_per_accelerator"])
    huge = infer(model, H100, batch=4096, input_tokens=32768, output_tokens=1024, tp=8)
    assert not bool(huge["fits"])


def test_moe_decode_reads_only_routed_experts_at_batch_one():
    model = load_model("mixtral-8x7b")
    one = infer(model, H100, batch=1, input_tokens=64, output_tokens=64, tp=8)
    dense_equivalent = 2 * model.total_params / 8 / (3.35e12 * 0.85)
    assert float(one["tpot_s"]) < dense_equivalent  # 2 of 8 experts touched per layer


def test_partitioned_search_on_a_process_pool_equals_one_pass():
    from concurrent.futures import ProcessPoolExecutor

    one = search(GPT3, A100, 1024, 1536)
    with ProcessPoolExecutor(max_workers=2) as pool:
        split = search(GPT3, A100, 1024, 1536, partitions=4, pool=pool)
    for key in ("step_time_s", "memory_bytes", "mfu"):
        assert np.array_equal(one.metrics[key], split.metrics[key])
    assert np.array_equal(one.order(), split.order())
