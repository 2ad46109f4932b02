"""In-network reduction (NVLink SHARP, InfiniBand SHARP) as a system property, against hand calculations."""

import json
from dataclasses import replace

import numpy as np
import pytest

from rackwright.perf.efficiency import profile
from rackwright.perf.search import FIELDS, search
from rackwright.perf.system import SystemSpec, load_system
from rackwright.perf.training import Parallelism, _collective, train_step
from rackwright.perf.workload import load_model
from test_cli import run

#: Ring links at 0.8 of the link, NVLink SHARP at 0.75, InfiniBand (rings and SHARP) at 0.85.
EFF = replace(profile("h100"), scale_up_link=0.8, nvls_link=0.75, scale_out_link=0.85)


def _system(scale_up: bool, scale_out: bool) -> SystemSpec:
    """8 accelerators a domain at 400 GB/s (α 2 µs), 50 GB/s NICs (α 10 µs); 128 accelerators."""
    return SystemSpec.model_validate(
        {
            "name": "hand",
            "accelerator": {
                "name": "x",
                "profile": "h100",
                "peak_flops": {"bf16": 1e15},
                "hbm": 8e10,
                "hbm_bandwidth": 3e12,
            },
            "scale_up": {"size": 8, "bandwidth": 400e9},
            "scale_out": {"bandwidth": 50e9},
            "latency": {"scale_up": 2e-6, "scale_out": 10e-6},
            "in_network_reduction": {"scale_up": scale_up, "scale_out": scale_out},
            "accelerators": 128,
        },
        context={"si": True},
    )


RINGS, SWITCHES = _system(False, False), _system(True, True)


def test_all_reduce_inside_a_domain_by_hand():
    # S = 3.2 GB over n = 8 ranks of one domain.
    # Ring: 2·(n−1) steps of S/(n·B) + α at B = 0.8·400 GB/s = 320 GB/s:
    #   S/(n·B) = 3.2e9 / (8 · 320e9) = 1.25 ms; 2·7·(1.25 ms + 2 µs) = 17.528 ms.
    # NVLink SHARP: each byte once up and once down, one step, at 0.75·400 GB/s = 300 GB/s:
    #   3.2e9 / 300e9 + 2 µs = 10.6667 ms + 0.002 ms = 10.6687 ms (bus-bandwidth factor 1 instead of 2·7/8).
    ring = _collective(1, 8, 3.2e9, RINGS, EFF, passes=2)
    nvls = _collective(1, 8, 3.2e9, SWITCHES, EFF, passes=2)
    assert float(ring) == pytest.approx(17.528e-3, rel=1e-9)
    assert float(nvls) == pytest.approx(3.2e9 / 300e9 + 2e-6, rel=1e-9)


def test_reduce_scatter_gains_only_latency():
    # A reduce-scatter sends (n−1)/n·S on the ring, S through the switch: large ones stay on the ring,
    #   7·(1.25 ms + 2 µs) = 8.764 ms < 10.6687 ms.
    assert float(_collective(1, 8, 3.2e9, SWITCHES, EFF)) == pytest.approx(8.764e-3, rel=1e-9)
    # Small ones are latency-bound: S = 8 kB, ring 7·(8e3/(8·320e9) + 2 µs) = 7·2.003125 µs = 14.021875 µs,
    #   switch 8e3/300e9 + 2 µs = 2.026667 µs (one step instead of seven).
    assert float(_collective(1, 8, 8e3, RINGS, EFF)) == pytest.approx(14.021875e-6, rel=1e-9)
    assert float(_collective(1, 8, 8e3, SWITCHES, EFF)) == pytest.approx(8e3 / 300e9 + 2e-6, rel=1e-9)


def test_all_reduce_across_domains_by_hand():
    # DP over 16 domains, one rank in each (stride 8 = the domain): S = 1.7 GB on the NICs at 0.85·50 = 42.5 GB/s.
    # Ring: 2·15·(1.7e9/(16·42.5e9) + 10 µs) = 30·(2.5 ms + 0.01 ms) = 75.3 ms.
    # InfiniBand SHARP: 1.7e9 / 42.5e9 + 10 µs = 40.01 ms.
    assert float(_collective(8, 16, 1.7e9, RINGS, EFF, passes=2)) == pytest.approx(75.3e-3, rel=1e-9)
    assert float(_collective(8, 16, 1.7e9, SWITCHES, EFF, passes=2)) == pytest.approx(40.01e-3, rel=1e-9)
    # 16 consecutive ranks: 8 in each of 2 domains. The domain's 3.2 GB through NVLink SHARP (10.6687 ms), then
    # the 1/8 shares, 0.4 GB, through InfiniBand SHARP: 0.4e9/42.5e9 + 10 µs = 9.42118 ms.
    both = _collective(1, 16, 3.2e9, SWITCHES, EFF, passes=2)
    assert float(both) == pytest.approx(3.2e9 / 300e9 + 2e-6 + 0.4e9 / 42.5e9 + 10e-6, rel=1e-9)


def test_a_level_without_the_hardware_stays_a_ring():
    only_up, only_out = _system(True, False), _system(False, True)
    ring_across = float(_collective(8, 16, 1.7e9, RINGS, EFF, passes=2))
    assert float(_collective(8, 16, 1.7e9, only_up, EFF, passes=2)) == pytest.approx(ring_across)
    assert float(_collective(1, 8, 3.2e9, only_out, EFF, passes=2)) == pytest.approx(17.528e-3)
    no_nvls = replace(EFF, nvls_link=0.0)  # an accelerator NCCL runs no NVLS on (A100: nvlsEfficiency 0)
    assert float(_collective(1, 8, 3.2e9, SWITCHES, no_nvls, passes=2)) == pytest.approx(17.528e-3)


def test_system_properties_and_run_switch():
    levels = {name: load_system(name).in_network_reduction for name in ("dgx-a100-80gb-hdr", "dgx-h100-ndr")}
    assert (levels["dgx-a100-80gb-hdr"].scale_up, levels["dgx-a100-80gb-hdr"].scale_out) == (False, True)
    assert (levels["dgx-h100-ndr"].scale_up, levels["dgx-h100-ndr"].scale_out) == (True, True)
    for name in ("gb200-nvl72", "gb300-nvl72"):  # NVLS in the rack; the scale-out fabric is not stated
        spec = load_system(name).in_network_reduction
        assert (spec.scale_up, spec.scale_out) == (True, False)
    off = load_system("dgx-h100-ndr").with_in_network_reduction(scale_up=True, scale_out=False)
    assert (off.in_network_reduction.scale_up, off.in_network_reduction.scale_out) == (True, False)
    # A run cannot switch on what the hardware lacks.
    a100 = load_system("dgx-a100-80gb-hdr").with_in_network_reduction(True, True)
    assert a100.in_network_reduction.scale_up is False


def test_tensor_parallel_all_reduce_in_a_step():
    # Llama 3 8B, seq 8,192, micro-batch 1, TP 8 without sequence parallelism on a DGX H100: each TP collective is
    # an all-reduce of S = 8,192 · 4,096 · 2 = 67,108,864 bytes over 8 ranks (the model's profile: ring at
    # 0.80 · 450 = 360 GB/s, NVLS at 0.797 · 450 = 358.65 GB/s, α 2 µs):
    #   ring 14 · (67,108,864 / (8 · 360e9) + 2 µs) = 14 · 25.3017 µs = 354.224 µs;
    #   NVLS 67,108,864 / 358.65e9 + 2 µs = 189.116 µs; the TP time falls to 189.116 / 354.224 = 0.53389.
    model, h100 = load_model("llama3-8b"), load_system("dgx-h100-ndr")
    config = Parallelism(tp=8, pp=1, dp=1, micro_batch=1, sp=False, recompute=0)
    on = train_step(model, h100, config, 8, 8192)["breakdown"]["tp"]
    off = train_step(model, h100.with_in_network_reduction(False, False), config, 8, 8192)["breakdown"]["tp"]
    ring = 14 * (67_108_864 / (8 * 360e9) + 2e-6)
    nvls = 67_108_864 / (0.797 * 450e9) + 2e-6
    assert float(on / off) == pytest.approx(nvls / ring, rel=1e-6)
    assert nvls / ring == pytest.approx(0.53389, abs=1e-5)


def test_search_is_one_array_pass_with_in_network_reduction():
    # The grid on one DGX H100 with NVLS on gives what each configuration gives alone, and NVLS moves some of them
    # (DDP's all-reduce and TP without SP inside the node).
    model, h100 = load_model("llama3-8b"), load_system("dgx-h100-ndr")
    on = search(model, h100, 8, 64, 4096, restrict={"cp": (1,), "micro_batch": (1, 2)})
    off = search(
        model, h100.with_in_network_reduction(False, False), 8, 64, 4096, restrict={"cp": (1,), "micro_batch": (1, 2)}
    )
    assert on.valid == off.valid > 20
    for i in range(on.valid):
        config = Parallelism(**{k: on.configurations[k][i] for k in FIELDS})
        alone = train_step(model, h100.with_accelerators(8), config, 64, 4096, "bf16")
        assert float(alone["step_time_s"]) == pytest.approx(float(on.metrics["step_time_s"][i]), rel=1e-12)
    faster = on.metrics["step_time_s"] < off.metrics["step_time_s"] * (1 - 1e-9)
    assert faster.any()
    assert np.all(on.metrics["step_time_s"] <= off.metrics["step_time_s"] * (1 + 1e-12))


def test_cli_switch():
    # perf train and perf search take --no-in-network-reduction; on a DGX H100 with TP 8 and no SP the TP all-reduces
    # run through NVLink SHARP by default, so turning it off lengthens the step.
    train = ["perf", "train", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--global-batch", "8", "--tp", "8"]
    on = json.loads(run(*train, "--json").stdout)["step_time_s"]
    off = json.loads(run(*train, "--json", "--no-in-network-reduction").stdout)["step_time_s"]
    assert on < off
    search = ["perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--global-batch", "64"]
    result = run(*search, "--restrict", "tp=8", "--restrict", "cp=1", "--json", "--no-in-network-reduction")
    assert result.exit_code == 0
