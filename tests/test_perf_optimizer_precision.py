"""Issue 18, Adam's moments in BF16 (``--optimizer-moments bf16``): DeepSeek-V3 Technical Report §3.3.3 ("Low-precision
optimizer states": the AdamW first and second moments in BF16, the master weights and gradients in FP32) and
Megatron-Core's precision-aware optimizer (``--use-precision-aware-optimizer --exp-avg-dtype bf16 --exp-avg-sq-dtype
bf16``). The optimizer state falls from 4 + 4 + 4 = 12 to 4 + 2 + 2 = 8 bytes a parameter, sharded as before, and the
optimizer step moves 22 bytes a parameter instead of 30 (each moment read and written at 2 bytes, not 4)."""

import json

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.errors import InputError
from rackwright.perf.api import train_report
from rackwright.perf.efficiency import profile
from rackwright.perf.system import load_system
from rackwright.perf.training import RECOMPUTE, Parallelism, train_step
from rackwright.perf.workload import load_model

H100 = load_system("dgx-h100-ndr")
RUNNER = CliRunner()
H = 4096
# Llama 3 8B as the model counts it (layer norms left out): 32 layers of Q and O (h²), K and V (h·1024 each) and a
# SwiGLU MLP (3·h·14,336), plus the untied embedding and output layer (128,256 × h each).
LLAMA8B_PARAMS = 32 * (2 * H * H + 2 * H * 1024 + 3 * H * 14336) + 2 * 128256 * H  # 8,029,995,008


def _step(model="llama3-8b", dp=8, global_batch=64, **kw):
    memory, times = {}, {}
    for moments in (False, True):
        c = Parallelism(tp=1, pp=1, dp=dp, micro_batch=1, recompute=RECOMPUTE["full"], bf16_moments=moments, **kw)
        result = train_step(load_model(model), H100.with_accelerators(dp), c, global_batch=global_batch)
        memory[moments] = float(result["memory"]["weights_and_optimizer"])
        times[moments] = (float(result["breakdown"]["optimizer"]), float(result["step_time_s"]))
    return memory, times


def test_distributed_optimizer_saves_four_bytes_a_parameter_over_dp():
    # Llama 3 8B on 8 H100 (DP 8), ZeRO-1: each GPU holds 12 (FP32) or 8 (BF16 moments) bytes of optimizer state for
    # an eighth of the parameters, so it saves 4 × 8,029,995,008 / 8 = 4,014,997,504 bytes.
    memory, _ = _step(distributed_optimizer=True)
    assert LLAMA8B_PARAMS == 8_029_995_008
    assert memory[False] - memory[True] == pytest.approx(4 * LLAMA8B_PARAMS / 8, rel=1e-12)
    # 2 + 4 + 12/8 = 7.5 bytes a parameter before, 2 + 4 + 8/8 = 7 after.
    assert memory[False] == pytest.approx(7.5 * LLAMA8B_PARAMS, rel=1e-12)
    assert memory[True] == pytest.approx(7.0 * LLAMA8B_PARAMS, rel=1e-12)


def test_without_sharding_every_gpu_saves_four_bytes_a_parameter():
    memory, _ = _step()  # plain DDP: the whole optimizer state on every GPU
    assert memory[False] - memory[True] == pytest.approx(4 * LLAMA8B_PARAMS, rel=1e-12)
    assert memory[True] == pytest.approx((2 + 4 + 8) * LLAMA8B_PARAMS, rel=1e-12)


def test_fsdp_shards_the_smaller_state():
    # FSDP: weights, gradients and optimizer state all over DP × CP = 8, plus two gathered layers (unchanged).
    memory, _ = _step(fsdp=True)
    assert memory[False] - memory[True] == pytest.approx(4 * LLAMA8B_PARAMS / 8, rel=1e-12)


def test_expert_state_is_sharded_over_expert_data_parallel():
    # Mixtral 8x7B on 64 GPUs at EP 8: a GPU holds one expert a layer (32 × 3 · h · 14,336 = 5,637,144,576 weights),
    # its optimizer state over EDP = 8, and the dense rest (32 × (2h² + 2·h·1,024) attention weights plus the
    # 32,000 × h embedding and output layer: 1,604,321,280) over DP = 64.
    experts = 32 * 3 * H * 14336
    dense = 32 * (2 * H * H + 2 * H * 1024) + 2 * 32000 * H
    memory, _ = _step(model="mixtral-8x7b", dp=64, global_batch=64, ep=8, distributed_optimizer=True)
    assert memory[False] - memory[True] == pytest.approx(4 * (dense / 64 + experts / 8), rel=1e-12)


def test_optimizer_step_moves_22_bytes_a_parameter_instead_of_30():
    # FP32 moments: read parameter, momentum, variance, gradient (16), write parameter, momentum, variance (12), write
    # the BF16 copy (2): 30. BF16 moments: 4 + 2 + 2 + 4 read, 4 + 2 + 2 written, 2 copied: 22. Over an eighth of
    # Llama 3 8B's parameters at the h100 profile's share of 3.35 TB/s.
    _, times = _step(distributed_optimizer=True)
    bandwidth = 3.35e12 * profile("h100").hbm
    assert times[False][0] == pytest.approx(30 * LLAMA8B_PARAMS / 8 / bandwidth, rel=1e-12)
    assert times[True][0] == pytest.approx(22 * LLAMA8B_PARAMS / 8 / bandwidth, rel=1e-12)
    # Nothing else in the step changes.
    assert times[False][1] - times[True][1] == pytest.approx(8 * LLAMA8B_PARAMS / 8 / bandwidth, rel=1e-9)


BASE = ["perf", "train", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "8"]
BASE += ["--global-batch", "64", "--distributed-optimizer", "--json"]


def test_cli_echoes_the_moments_and_defaults_to_fp32():
    docs = {}
    for extra in ([], ["--optimizer-moments", "bf16"]):
        result = RUNNER.invoke(app, [*BASE, *extra])
        assert result.exit_code == 0, result.output
        docs[tuple(extra)] = json.loads(result.stdout)
    fp32, bf16 = docs[()], docs[("--optimizer-moments", "bf16")]
    assert fp32["parallelism"]["optimizer_moments"] == "fp32"
    assert bf16["parallelism"]["optimizer_moments"] == "bf16"
    saved = (
        fp32["memory_breakdown_bytes"]["weights_and_optimizer"]
        - bf16["memory_breakdown_bytes"]["weights_and_optimizer"]
    )
    assert saved == pytest.approx(4 * LLAMA8B_PARAMS / 8, rel=1e-9)


@pytest.mark.parametrize("value", ["fp16", "fp8", "BF16", ""])
def test_unknown_moments_are_an_input_error(value):
    result = RUNNER.invoke(app, [*BASE, "--optimizer-moments", value])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["field"] == "--optimizer-moments"
    assert "fp32, bf16" in error["message"]


def test_api_rejects_a_non_string():
    with pytest.raises(InputError):
        train_report("llama3-8b", "dgx-h100-ndr", accelerators=8, global_batch=64, optimizer_moments=16)
