"""In-network reduction of systems built from rack designs (from their switch parts), its report in perf train and
perf search, and the search's fixed MoE capacity settings, against hand calculations."""

import json

import pytest

from rackwright.perf.api import resolve_system, search_report, train_report
from rackwright.perf.efficiency import profile
from rackwright.perf.training import _collective
from test_cli import run

GB200, ETHERNET, HGX = "examples/gb200-nvl72.yaml", "examples/ethernet-800vdc.yaml", "examples/hgx-h100-air.yaml"


def test_design_systems_take_it_from_their_switches():
    # NVLink 5 switch ASICs (nvlink-sharp) in the NVL72; Tomahawk Ultra (ethernet-inc: not timed) in the lab's E1;
    # the HGX H100 rack has no switch tray, its DGX H100 servers hold the NVSwitches. No design holds a scale-out
    # switch, so no scale-out SHARP.
    levels = {d: resolve_system(d).in_network_reduction for d in (GB200, ETHERNET, HGX)}
    assert (levels[GB200].scale_up, levels[GB200].scale_out) == (True, False)
    assert (levels[ETHERNET].scale_up, levels[ETHERNET].scale_out) == (False, False)
    assert (levels[HGX].scale_up, levels[HGX].scale_out) == (True, False)


def test_dp_all_reduce_on_the_gb200_design_by_hand():
    # DP 8 at stride 8 (TP 8) in the 72-GPU NVLink domain, S = 1 GB of gradients, all-reduce.
    # The design gives 1.8 TB/s NVLink both ways = 900 GB/s per direction, α 2 µs; the b200 profile's rings reach
    # 0.8 of the link, NVLS 0.74 · 23/24 = 0.709 of it (NCCL's nvlsEfficiency on 24 channels less one).
    #   ring: 2·7·(1e9 / (8 · 720e9) + 2 µs) = 14 · 175.6111 µs = 2.458556 ms;
    #   NVLink SHARP: 1e9 / (0.709 · 900e9) + 2 µs = 1.567163 ms + 0.002 ms = 1.569163 ms.
    eff = profile("b200")
    gb200, ethernet = resolve_system(GB200), resolve_system(ETHERNET)
    assert gb200.scale_up.bandwidth == pytest.approx(900e9)
    assert float(_collective(8, 8, 1e9, gb200, eff, passes=2)) == pytest.approx(1e9 / 638.1e9 + 2e-6, rel=1e-9)
    ring = float(_collective(8, 8, 1e9, gb200.with_in_network_reduction(False, False), eff, passes=2))
    assert ring == pytest.approx(14 * (1e9 / (8 * 720e9) + 2e-6), rel=1e-9)
    assert ring == pytest.approx(2.458556e-3, rel=1e-6)
    # The E1's Ethernet scale-up (16 × 400G = 800 GB/s per direction; its xpu profile is the Blackwell set) stays a
    # ring: 14 · (1e9 / (8 · 0.8 · 800e9) + 2 µs) = 14 · 197.3125 µs = 2.762375 ms.
    assert ethernet.scale_up.bandwidth == pytest.approx(800e9)
    assert float(_collective(8, 8, 1e9, ethernet, eff, passes=2)) == pytest.approx(2.762375e-3, rel=1e-9)


def test_train_and_search_report_the_levels_used():
    args = ["--model", "llama3-8b", "--global-batch", "64", "--accelerators", "8", "--json"]
    cases = {
        ("dgx-h100-ndr",): {"scale_up": True, "scale_out": True},
        ("dgx-a100-80gb-hdr",): {"scale_up": False, "scale_out": True},  # second-generation NVSwitch: no NVLS
        (GB200,): {"scale_up": True, "scale_out": False},
        (ETHERNET,): {"scale_up": False, "scale_out": False},
        ("dgx-h100-ndr", "--no-in-network-reduction"): {"scale_up": False, "scale_out": False},
    }
    for (system, *flags), levels in cases.items():
        train = json.loads(run("perf", "train", "--system", system, "--tp", "8", *args, *flags).stdout)
        assert train["in_network_reduction"] == levels, system
    search = run("perf", "search", "--system", GB200, "--restrict", "tp=8", "--restrict", "cp=1", *args)
    assert json.loads(search.stdout)["in_network_reduction"] == {"scale_up": True, "scale_out": False}


#: The search's best row → perf train's arguments (the row's settings, named as train_report names them).
TRAIN_KEYS = (
    "tp", "pp", "vp", "cp", "ep", "etp", "micro_batch", "sp", "recompute", "distributed_optimizer", "zero2", "fsdp",
    "hsdp_replicas", "overlap_param_gather", "overlap_p2p", "overlap_tp", "fp8_param_gather", "moe_dispatcher",
    "moe_a2a_overlap", "first_stage_layers", "last_stage_layers", "cp_comm_type", "precision",
    "moe_capacity_factor", "moe_pad_to_capacity",
)  # fmt: skip


@pytest.mark.parametrize("pad", [False, True])
def test_search_applies_the_capacity_factor_as_perf_train_does(pad):
    # Mixtral 8x7B on 64 H100s, expert capacity 1.0 (padded or not): the search's best configuration takes the
    # step time perf train gives it with the same factor, and the factor changes it (dropless: the busiest rank
    # takes 1.125 mean loads; at capacity 1.0 at most one).
    common = dict(accelerators=64, global_batch=256)
    restrict = ["cp=1", "micro_batch=1"]
    best = search_report(
        "mixtral-8x7b", "dgx-h100-ndr", **common, top=1, restrict=restrict, moe_capacity_factor=1.0,
        moe_pad_to_capacity=pad,
    )["best"]  # fmt: skip
    assert (best["moe_capacity_factor"], best["moe_pad_to_capacity"]) == (1.0, pad)
    config = {k: best[k] for k in TRAIN_KEYS}
    config["recompute_modules"] = ",".join(best["recompute_modules"]) or None
    train = train_report("mixtral-8x7b", "dgx-h100-ndr", **common, **config)
    assert train["step_time_s"] == pytest.approx(best["step_time_s"], rel=1e-12)
    dropless = train_report("mixtral-8x7b", "dgx-h100-ndr", **common, **{**config, "moe_capacity_factor": None,
                                                                         "moe_pad_to_capacity": False})  # fmt: skip
    assert dropless["step_time_s"] != pytest.approx(best["step_time_s"], rel=1e-6)


def test_search_capacity_factor_errors():
    result = run(
        "perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--global-batch", "64",
        "--moe-capacity-factor", "1.0",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "has no experts" in result.output
    result = run(
        "perf", "search", "--model", "mixtral-8x7b", "--system", "dgx-h100-ndr", "--global-batch", "64",
        "--moe-pad-to-capacity",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--moe-capacity-factor" in result.output


def test_the_rule_over_the_parts_of_a_rack():
    # rack_in_network_reduction reads the silicon: a tray holding switch parts defers to them, a rack without
    # scale-up switches to its servers; scale-out needs scale-out switches that all say infiniband-sharp (these
    # parts are stand-ins; tests/test_catalog_infiniband.py mounts the catalog's QM9700 and Q3400).
    from types import SimpleNamespace as Part

    from rackwright.perf.system import rack_in_network_reduction

    def part(kind, reduction=None, contains=()):
        return Part(kind=kind, contains=list(contains), text=lambda name, r=reduction: r)

    def rack(*parts, count=1.0):
        return Part(items=[Part(part=p, in_rack=True, count=count) for p in parts])

    asic, tray = part("scale_up_switch", "nvlink-sharp"), part("scale_up_switch_tray", None, ["asic"])
    quantum, spectrum = part("scale_out_switch", "infiniband-sharp"), part("scale_out_switch")
    assert rack_in_network_reduction(rack(tray, asic, quantum)) == {"scale_up": True, "scale_out": True}
    assert rack_in_network_reduction(rack(tray, asic, quantum, spectrum))["scale_out"] is False  # one Ethernet
    assert rack_in_network_reduction(rack(part("server", "nvlink-sharp")))["scale_up"] is True
    assert rack_in_network_reduction(rack(tray, part("scale_up_switch", "ethernet-inc")))["scale_up"] is False
    assert rack_in_network_reduction(rack(tray, asic, count=0.0)) == {"scale_up": False, "scale_out": False}
