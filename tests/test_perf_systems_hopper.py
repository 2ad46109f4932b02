"""The Hopper built-ins dgx-h800 (DeepSeek-V3's cluster) and dgx-h200, against their sources and hand calculations."""

import json

import pytest

from rackwright.perf.efficiency import profile
from rackwright.perf.memory import usable_hbm
from rackwright.perf.precision import recipe
from rackwright.perf.system import builtin_systems, load_system
from rackwright.perf.training import _collective, _moe_dispatch_combine
from rackwright.perf.workload import load_model
from test_cli import run

GIB = 2**30
#: DeepSeek-V3 as DeepSeek trained it (report §3.2, §3.2.3, §4.2): PP 16, EP 64 over 8 nodes, ZeRO-1, no TP, FP8
#: block-wise GEMMs, RMSNorm and MLA up-projections recomputed, DeepEP-style dispatch overlapped, batch 15,360.
DEEPSEEK_RUN = (
    "--model", "deepseek-v3", "--accelerators", "2048", "--global-batch", "15360", "--tp", "1", "--pp", "16",
    "--ep", "64", "--distributed-optimizer", "--precision", "fp8-blockwise", "--recompute", "selective",
    "--recompute-modules", "layernorm,mla_up_proj", "--moe-dispatcher", "deepep", "--moe-a2a-overlap",
    "--first-stage-layers", "3", "--last-stage-layers", "3", "--json",
)  # fmt: skip


def _train(*args):
    result = run("perf", "train", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", ["dgx-h800", "dgx-h200"])
def test_listed_and_loaded_with_h100_tensor_cores(name):
    # Both are GH100 with H100 SXM's dense peaks (NVIDIA quotes twice these with sparsity), 8 GPUs on NVSwitch,
    # one 400 Gb/s port per GPU = 50 GB/s each way, 700 W, DGX H100/H200's ~10.2 kW / 8 = 1,275 W all in.
    assert name in builtin_systems()
    s = load_system(name)
    assert s.accelerator.profile == "h100"
    assert s.peak("bf16") == pytest.approx(989e12) and s.peak("fp8") == pytest.approx(1979e12)
    assert s.peak("tf32") == pytest.approx(494e12)
    assert (s.scale_up.size, s.accelerators) == (8, 8)
    assert s.scale_out.bandwidth == pytest.approx(400e9 / 8)
    assert s.accelerator.power == pytest.approx(700.0) and s.power_per_accelerator == pytest.approx(10_200 / 8)
    assert (s.in_network_reduction.scale_up, s.in_network_reduction.scale_out) == (True, True)
    assert len(s.sources) >= 4


def test_h800_nvlink_from_deepseek_and_nvidia():
    h800, h100 = load_system("dgx-h800"), load_system("dgx-h100-ndr")
    # 400 GB/s both directions = 200 GB/s each way; H100's 900 = 450 each way: 2.25 times H800's.
    assert h800.scale_up.bandwidth == pytest.approx(200e9)
    assert h100.scale_up.bandwidth / h800.scale_up.bandwidth == pytest.approx(2.25)
    # DeepSeek-V3 report §3.2.2: NVLink 160 GB/s, "roughly 3.2 times that of IB (50 GB/s)": the h100 profile's ring
    # fraction of NVLink (0.80) gives the 160 GB/s; the report's IB figure is the NIC's line rate.
    eff = profile("h100")
    assert h800.scale_up.bandwidth * eff.scale_up_link == pytest.approx(160e9)
    assert h800.scale_up.bandwidth * eff.scale_up_link / h800.scale_out.bandwidth == pytest.approx(3.2)
    # Same HBM as H100 SXM5 80GB: 80 GiB at 3.35 TB/s.
    assert h800.accelerator.hbm == pytest.approx(80 * GIB) == h100.accelerator.hbm
    assert h800.accelerator.hbm_bandwidth == pytest.approx(3.35e12)


def test_h800_all_reduce_of_1_gb_in_a_node_by_hand():
    h800, eff = load_system("dgx-h800"), profile("h100")
    # Ring: 2 passes of 7 steps, each 1e9 / (8 · 200e9 · 0.80) + 2 µs: 2 · 7/8 · 1e9 / 160e9 + 14 · 2 µs
    # = 10.9375 ms + 28 µs = 10.9655 ms.
    ring = float(_collective(1, 8, 1e9, h800.with_in_network_reduction(False, False), eff, passes=2))
    assert ring == pytest.approx(10.9655e-3, rel=1e-9)
    # NVLink SHARP (on by default): once up and down at 200e9 · 0.85 · 15/16 (NCCL's Hopper nvlsEfficiency on 16
    # channels less one = 0.797 to 3 places): 1e9 / 159.4e9 + 2 µs = 6.27352 ms + 2 µs.
    nvls = float(_collective(1, 8, 1e9, h800, eff, passes=2))
    assert nvls == pytest.approx(1e9 / 159.4e9 + 2e-6, rel=1e-9)
    assert nvls == pytest.approx(6.27552e-3, rel=1e-5)


def test_h800_moe_all_to_all_by_hand():
    # DeepSeek-V3 (hidden 7168, 8 experts a token) on EP 64 over 8 nodes, Megatron's all-to-all in BF16, one rank's
    # 4,096 tokens: each token's 8 copies land on 64 ranks evenly, 8 · 7/64 = 0.875 on the other 7 GPUs of the node
    # over NVLink and 8 · 56/64 = 7 on other nodes over the NIC; bytes per copy-set b = 2 · 7168 · 4096 = 58,720,256.
    # One way: 0.875 · b / (200e9 · 0.80) + 7 · b / (50e9 · 0.85) + 7 · 2 µs + 7 · 10 µs; dispatch and combine twice
    # that: 0.875·b/160e9 = 321.1264 µs, 7·b/42.5e9 = 9,671.5716 µs, + 84 µs, × 2 = 20.153396 ms.
    model, eff, bf16 = load_model("deepseek-v3"), profile("h100"), recipe("bf16")
    c = {"ep": 64, "etp": 1, "moe_dispatcher": 0, "tp": 1, "cp": 1, "dp": 64, "pp": 1}  # one EP group's 64 ranks
    h800 = float(_moe_dispatch_combine(model, load_system("dgx-h800"), c, 4096, eff, bf16))
    b = 2 * 7168 * 4096
    assert h800 == pytest.approx(2 * (0.875 * b / 160e9 + 7 * b / 42.5e9 + 7 * 2e-6 + 7 * 10e-6), rel=1e-9)
    assert h800 == pytest.approx(20.153396e-3, rel=1e-6)
    # On H100 only the NVLink share is faster: 2 · 0.875 · b · (1/160e9 − 1/360e9) = 356.8071 µs less.
    h100 = float(_moe_dispatch_combine(model, load_system("dgx-h100-ndr"), c, 4096, eff, bf16))
    assert h800 - h100 == pytest.approx(2 * 0.875 * b * (1 / 160e9 - 1 / 360e9), rel=1e-9)


def test_h200_memory_from_nvidia():
    h200, h100 = load_system("dgx-h200"), load_system("dgx-h100-ndr")
    # 141 GB HBM3e at 4.8 TB/s (binary, as H100's "80GB"), NVLink 900 GB/s = 450 each way as H100.
    assert h200.accelerator.hbm == pytest.approx(141 * GIB)
    assert h200.accelerator.hbm_bandwidth == pytest.approx(4.8e12)
    assert h200.scale_up.bandwidth == pytest.approx(450e9) == h100.scale_up.bandwidth
    # Usable: less 5 % and 2 GB: 141 GiB → 141.8277 GB, 80 GiB → 79.6044 GB.
    assert usable_hbm(h200.accelerator.hbm) == pytest.approx(141.8277e9, rel=1e-6)
    assert usable_hbm(h100.accelerator.hbm) == pytest.approx(79.6044e9, rel=1e-6)


def test_llama2_13b_on_two_gpus_fits_h200_not_h100():
    # Llama 2 13B without norms: 40 · (4 · 5120² + 3 · 5120 · 13824) + 2 · 32000 · 5120 = 13,015,449,600 parameters;
    # split over TP 2 with 18 bytes each (BF16 weights, FP32 gradients, FP32 master and Adam, no DP to shard):
    # 117.14 GB a GPU, over H100's usable 79.60 GB whatever the activations, under H200's 141.83 GB.
    params = 40 * (4 * 5120**2 + 3 * 5120 * 13824) + 2 * 32000 * 5120
    args = ("--model", "llama2-13b", "--accelerators", "2", "--tp", "2", "--global-batch", "2", "--recompute", "full")
    on = {name: _train("--system", name, *args, "--json") for name in ("dgx-h100-ndr", "dgx-h200")}
    for doc in on.values():
        assert doc["memory_breakdown_bytes"]["weights_and_optimizer"] == pytest.approx(18 * params / 2, rel=1e-6)
    assert on["dgx-h100-ndr"]["fits"] is False and on["dgx-h200"]["fits"] is True
    assert on["dgx-h200"]["memory_breakdown_bytes"]["available"] == pytest.approx(141.8277e9, rel=1e-6)


def test_deepseek_v3_on_its_h800_cluster():
    h800, h100 = (_train("--system", name, *DEEPSEEK_RUN) for name in ("dgx-h800", "dgx-h100-ndr"))
    assert h800["fits"] is True and h800["accelerators"] == 2048
    # EP 64 at stride 1 spans 8 nodes of 8, as the report's "64-way EP spanning 8 nodes".
    ep = h800["placement"]["groups"]["ep"]
    assert (ep["size"], ep["scale_up_domains"], ep["network"]) == (64, 8, "scale-out")
    # The same tensor cores: GEMMs and attention take as long; NVLink at 1/2.25 makes EP's traffic slower.
    assert h800["breakdown"]["gemm_s"] == pytest.approx(h100["breakdown"]["gemm_s"], rel=1e-12)
    assert h800["breakdown"]["attention_s"] == pytest.approx(h100["breakdown"]["attention_s"], rel=1e-12)
    assert h800["breakdown"]["ep_s"] > h100["breakdown"]["ep_s"]
    assert h800["step_time_s"] > h100["step_time_s"]
