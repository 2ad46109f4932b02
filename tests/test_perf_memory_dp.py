"""Issue 18, data parallelism and memory: overlapped gradient reduce-scatter and parameter all-gather,
DP × CP sharding, gradient precision, the activation count by tensor, in-flight micro-batches per stage,
uneven first/last stages, module-level recompute; hand calculations and published configurations."""

import json

import numpy as np
import pytest

from rackwright.perf.memory import RECOMPUTE_MODULES, activation_bytes_per_layer, in_flight, usable_hbm
from rackwright.perf.precision import recipe
from rackwright.perf.system import load_system
from rackwright.perf.training import (
    Parallelism,
    _overlapped_gather,
    _overlapped_reduce,
    layers_per_stage,
    stage_layer_counts,
    train_step,
)
from rackwright.perf.workload import load_model
from test_cli import run

H100 = load_system("dgx-h100-ndr")
L405 = load_model("llama3-405b")
L70 = load_model("llama3-70b")
M = RECOMPUTE_MODULES


def arrays(**kw):
    base = dict(tp=8, pp=16, dp=8, micro_batch=1, vp=1, cp=1, sp=True, recompute=0, distributed_optimizer=True)
    base.update(kw)
    return Parallelism(**base).arrays()


# --- the activation count ---------------------------------------------------------------------------------------

def test_activations_gqa_swiglu_hand_calculation():
    # Llama 3 405B, s = 8192, b = 1, TP 8 with SP, flash attention, no dropout; per token (bytes):
    # layer-norm inputs 2·2h, their outputs feeding QKV and the MLP 2h + 2h (all ÷ t with SP);
    # Q 2·a·d, K and V 2·2·a_kv·d, attention output 2·a·d, MLP first GEMM output 2·2F (gate and up), activation 2F.
    h, hkv, F, t, s = 16384, 8 * 128, 53248, 8, 8192
    per_token = (4 * h + 2 * h + 2 * h) / t + (2 * h + 4 * hkv + 2 * h + 4 * F + 2 * F) / t
    assert float(activation_bytes_per_layer(L405, s, 1, t, 1, 1, 0, 1.0)) == pytest.approx(s * per_token)
    assert per_token * t / h == pytest.approx(31.75)  # vs Korthikanti's 34 for MHA with a 4h GELU MLP and dropout
    # FP8 saves the GEMM inputs as FP8: the QKV and MLP inputs, the activation output, a copy of the attention output.
    fp8 = (4 * h + h + h) / t + (2 * h + 4 * hkv + 2 * h + h + 4 * F + F) / t
    assert float(activation_bytes_per_layer(L405, s, 1, t, 1, 1, 0, 1.0, recipe("fp8"))) == pytest.approx(s * fp8)


def test_recompute_modules_drop_what_they_rebuild():
    h, hkv, F, t, s = 16384, 1024, 53248, 8, 8192
    args = (L405, s, 1, t, 1, 1, 1, 1.0, None)
    none = float(activation_bytes_per_layer(L405, s, 1, t, 1, 1, 0, 1.0))
    assert float(activation_bytes_per_layer(*args, M["core_attn"])) == pytest.approx(none)  # flash: nothing to drop
    assert none - float(activation_bytes_per_layer(*args, M["layernorm"])) == pytest.approx(s * 4 * h / t)
    assert none - float(activation_bytes_per_layer(*args, M["mlp"])) == pytest.approx(s * (2 * h + 6 * F) / t)
    both = M["layernorm"] | M["mlp"]
    assert none - float(activation_bytes_per_layer(*args, both)) == pytest.approx(s * (4 * h + 6 * F) / t)


def test_recompute_modules_cost_time_and_count_in_hfu():
    def step(modules):
        return train_step(L70, H100.with_accelerators(64), Parallelism(tp=4, pp=4, dp=4, micro_batch=1, vp=5,
                                                                        recompute=1, recompute_modules=modules), 128)
    attn, mlp = step(M["core_attn"]), step(M["core_attn"] | M["mlp"])
    assert float(mlp["step_time_s"]) > float(attn["step_time_s"])
    assert float(mlp["memory"]["activations"]) < float(attn["memory"]["activations"])
    assert float(mlp["mfu"]) < float(mlp["hfu"])
    # HFU adds the MLP forward, 2·(3·h·F) FLOPs per token and layer, to the re-run attention.
    extra = 2 * L70.dense_mlp_params_per_layer * L70.layers * 128 * 8192
    hw = lambda r: float(r["hfu"]) * float(r["step_time_s"]) * 64 * 989e12  # noqa: E731
    assert hw(mlp) - hw(attn) == pytest.approx(extra, rel=1e-9)


# --- pipeline stages ------------------------------------------------------------------------------------------------

def test_in_flight_micro_batches_per_stage():
    # Megatron-LM warm-up: 2·(p − r − 1) + (v − 1)·p forward chunks, + 1, of 1/v of the stage each.
    c = arrays(pp=16, vp=8)
    assert float(in_flight(c, 0, 32)) == pytest.approx((2 * 15 + 7 * 16 + 1) / 8)  # = 16·(1 + 15/128)
    assert float(in_flight(c, 0, 32)) == pytest.approx(16 * (1 + 15 / 128))  # Korthikanti §4.2.3
    assert float(in_flight(c, 1, 32)) == pytest.approx((2 * 14 + 7 * 16 + 1) / 8)
    assert float(in_flight(c, 15, 32)) == pytest.approx((7 * 16 + 1) / 8)
    # With m = p micro-batches the warm-up is the whole step: all m·v chunk passes, i.e. m stages' worth.
    assert float(in_flight(c, 0, 16)) == 16
    plain = arrays(pp=4, vp=1)
    assert [float(in_flight(plain, r, 16)) for r in range(4)] == [4, 3, 2, 1]
    assert float(in_flight(plain, 0, 2)) == 2  # at most the step's micro-batches


def test_uneven_first_and_last_stages():
    # Llama 3 (§3.3.2): one layer fewer on the first and last of 16 stages: 7 + 14 × 8 + 7 = 126.
    c = arrays(pp=16, vp=8, first_stage_layers=7, last_stage_layers=7)
    first, middle, last = (float(x) for x in stage_layer_counts(L405, c))
    assert (first, middle, last) == (7, 8, 7)
    assert float(layers_per_stage(L405, c)) == 8
    # Even split as before: ceil(126 / 128)·8 = 8 on every stage.
    assert [float(x) for x in stage_layer_counts(L405, arrays(pp=16, vp=8))] == [8, 8, 8]
    # A lighter last stage absorbs the logits: the slot is the slower of the middle stage and the last + logits.
    sys = H100.with_accelerators(1024)
    even = train_step(L405, sys, Parallelism(tp=8, pp=8, dp=16, micro_batch=1, vp=1), 256)
    light = train_step(L405, sys, Parallelism(tp=8, pp=8, dp=16, micro_batch=1, vp=1, first_stage_layers=15,
                                              last_stage_layers=15), 256)
    assert float(light["step_time_s"]) < float(even["step_time_s"])
    assert float(light["breakdown"]["logits"]) == 0.0  # the 16-layer middle stage paces, not the last
    assert float(light["memory_bytes"]) <= float(even["memory_bytes"])


# --- data parallelism -----------------------------------------------------------------------------------------------

def test_overlapped_reduce_hand_calculation():
    # v = 2 chunks, p = 4, one chunk's backward b_c = 1 s, reduce-scatter 5 s (2.5 s per chunk). Chunk 1's last
    # backward ends at −4 (its reduction runs −5 … −2.5), chunk 0's at 0 (runs −1 … 1.5): exposed 1.5 s.
    c = {"vp": np.array([2.0, 1.0]), "pp": np.array([4.0, 4.0])}
    exposed = _overlapped_reduce(np.array([5.0, 5.0]), np.array([1.0, 1.0]), c)
    assert exposed.tolist() == pytest.approx([1.5, 4.0])  # without interleaving: 5 − 1 (the last backward)
    # The old model hid it behind the last micro-batch's backward only (2 chunks = 2 s): 3 s exposed.
    assert float(_overlapped_reduce(np.array(0.5), np.array(1.0), {"vp": np.array(2.0), "pp": np.array(4.0)})) == 0


def test_overlapped_gather_hand_calculation():
    # Chunk j's parameters (3 s each of 6 s) must be gathered by the end of its first forward (j·p·f_c + f_c):
    # chunk 0: 3 − 1 = 2 s late; chunk 1: 6 − 4 − 1 = 1 s. Exposed 2 s; without interleaving 6 − 1 = 5 s.
    c = {"vp": np.array([2.0, 1.0]), "pp": np.array([4.0, 4.0])}
    assert _overlapped_gather(np.array([6.0, 6.0]), np.array([1.0, 1.0]), c).tolist() == pytest.approx([2.0, 5.0])


def test_param_gather_overlap_and_gradient_precision():
    sys = H100.with_accelerators(1024)

    def step(**kw):
        return train_step(L70, sys, Parallelism(tp=8, pp=4, dp=32, micro_batch=1, vp=5, distributed_optimizer=True,
                                                **kw), 256)
    plain, overlapped = step(), step(overlap_param_gather=True)
    assert float(overlapped["breakdown"]["dp_exposed"]) < float(plain["breakdown"]["dp_exposed"])
    fp32, bf16 = step(overlap_dp=False), step(overlap_dp=False, fp32_grads=False)
    params = float(fp32["memory"]["weights_and_optimizer"] - bf16["memory"]["weights_and_optimizer"]) / 2.0
    assert params > 0  # 2 bytes fewer per parameter with 16-bit gradients
    # DP 32 of stride TP 8: one member per 8-GPU domain, a flat ring over the NICs.
    bw, n = 50e9 * 0.85, 32
    ring = lambda size: (n - 1) / n * size / bw + (n - 1) * 10e-6  # noqa: E731
    assert float(fp32["breakdown"]["dp_exposed"] - bf16["breakdown"]["dp_exposed"]) == pytest.approx(
        ring(4 * params) - ring(2 * params), rel=1e-6)


def test_context_parallel_ranks_reduce_gradients_and_shard_the_optimizer():
    # CP ranks hold the same weights: gradients are reduced and the optimizer sharded over DP × CP.
    sys = H100.with_accelerators(128)
    cp2 = train_step(L70, sys, Parallelism(tp=8, pp=8, dp=1, cp=2, micro_batch=1, distributed_optimizer=True,
                                           overlap_dp=False), 16)
    assert float(cp2["breakdown"]["dp_exposed"]) > 0
    cp1 = train_step(L70, sys.with_accelerators(64), Parallelism(tp=8, pp=8, dp=1, cp=1, micro_batch=1,
                                                                  distributed_optimizer=True, overlap_dp=False), 16)
    assert float(cp1["breakdown"]["dp_exposed"]) == 0


# --- memory verdicts ------------------------------------------------------------------------------------------------

def test_hbm_is_binary():
    assert H100.accelerator.hbm == 80 * 2**30 and usable_hbm(H100.accelerator.hbm) == pytest.approx(79.6e9, rel=1e-3)


def test_llama31_405b_tp8_pp8_cp2_fits_on_80_gb():
    # The NeMo-style Llama 3.1 405B layout on H100 80 GB (TP 8, PP 8 with 8 virtual stages, CP 2, 8K tokens,
    # FP8, distributed optimizer with FP8 parameters and overlapped all-gather, the embedding and loss counted as
    # a layer each in the pipeline split: 15 + 6 × 16 + 15 = 126): it fits; in BF16 with FP32 gradients it does not.
    doc = json.loads(run("perf", "train", "--model", "llama3-405b", "--system", "dgx-h100-ndr", "--accelerators",
                         "1024", "--global-batch", "512", "--tp", "8", "--pp", "8", "--vp", "8", "--cp", "2", "--sp",
                         "--distributed-optimizer", "--overlap-param-gather", "--first-stage-layers", "15",
                         "--last-stage-layers", "15", "--precision", "fp8", "--fp8-param-gather", "--json").stdout)
    assert doc["fits"] and doc["memory_bytes_per_accelerator"] < 79.6e9


@pytest.mark.parametrize("args, fragment", [
    (["--first-stage-layers", "7"], "need pipeline parallelism"),
    (["--pp", "2", "--first-stage-layers", "30", "--last-stage-layers", "30"], "add up to 80"),
    (["--pp", "4", "--first-stage-layers", "40", "--last-stage-layers", "39"], "at least one layer"),
    (["--recompute-modules", "mlp"], "add --recompute selective"),
    (["--recompute", "selective", "--recompute-modules", "mlp,attention"], "unknown recompute module"),
    (["--recompute", "selective", "--recompute-modules", "moe_act"], "no MoE layers"),
    (["--recompute", "selective", "--recompute-modules", "mla_up_proj"], "no multi-head latent attention"),
    (["--overlap-param-gather"], "--distributed-optimizer"),
    (["--grad-precision", "fp16"], "unknown gradient precision"),
    (["--first-stage-layers", "-1"], "--first-stage-layers"),
])
def test_bad_stage_recompute_and_dp_options_exit_2(args, fragment):
    result = run("perf", "train", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--accelerators", "64",
                 "--global-batch", "64", "--tp", "8", *args)
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_hierarchical_collective_hand_calculation():
    from rackwright.perf.efficiency import profile
    from rackwright.perf.training import _collective

    eff = profile("h100")
    up, out = 450e9 * 0.80, 50e9 * 0.85
    S = 8e9
    # Inside one 8-GPU domain: a ring at NVLink speed.
    assert float(_collective(1, 8, S, H100, eff)) == pytest.approx(7 / 8 * S / up + 7 * 2e-6)
    # 64 ranks of stride 1 over 8 domains: ring of 8 over NVLink, then 1/8 of the bytes over each GPU's NIC.
    assert float(_collective(1, 64, S, H100, eff)) == pytest.approx(7 / 8 * S / up + 7 * 2e-6
                                                                    + 7 / 8 * S / 8 / out + 7 * 10e-6)
    # Stride 8 (one member per domain): the flat ring at scale-out speed.
    assert float(_collective(8, 16, S, H100, eff)) == pytest.approx(15 / 16 * S / out + 15 * 10e-6)
    # Stride 4: 2 members per domain.
    assert float(_collective(4, 8, S, H100, eff)) == pytest.approx(1 / 2 * S / up + 2e-6 + 3 / 4 * S / 2 / out
                                                                   + 3 * 10e-6)


def test_fsdp_shards_everything_and_gathers_every_micro_batch():
    sys = H100.with_accelerators(512)
    kw = dict(tp=8, pp=4, dp=16, micro_batch=1, vp=1)
    zero1 = train_step(L70, sys, Parallelism(**kw, distributed_optimizer=True), 256)
    fsdp = train_step(L70, sys, Parallelism(**kw, fsdp=True), 256)
    c = arrays(**kw, fsdp=True)
    first, _, _ = stage_layer_counts(L70, c)
    from rackwright.perf.training import stage_params
    params, layer_params = (float(x) for x in stage_params(L70, c, 0))
    # Weights (2), FP32 gradients (4) and Adam (12) over DP × CP = 16, plus two gathered layers in BF16.
    expected = params * 18 / 16 + 2 * 2 * layer_params / float(first)
    # (first and last stage hold as many parameters: 20 layers and one V·h matrix each)
    assert float(fsdp["memory"]["weights_and_optimizer"]) == pytest.approx(expected)
    assert float(fsdp["memory"]["weights_and_optimizer"]) < float(zero1["memory"]["weights_and_optimizer"]) / 3
    # Each micro-batch gathers the weights twice and reduce-scatters the gradients: slower than ZeRO-1 here.
    assert float(fsdp["step_time_s"]) > float(zero1["step_time_s"])
    assert float(fsdp["breakdown"]["dp_exposed"]) > 0


def test_fsdp_options_exit_2():
    base = ["perf", "train", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--accelerators", "64",
            "--global-batch", "64", "--tp", "8"]
    bad = run(*base, "--fsdp", "--distributed-optimizer")
    assert bad.exit_code == 2 and "--fsdp shards the optimizer itself" in bad.output
    ok = run(*base, "--fsdp", "--precision", "fp8", "--fp8-param-gather", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["parallelism"]["fsdp"] is True
