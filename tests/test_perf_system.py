"""System specifications: built-ins in SI, systems built from rack designs, and bad input."""

from pathlib import Path

import pytest

from rackwright.errors import InputError
from rackwright.perf.system import SystemSpec, builtin_systems, load_system, system_from_rack
from rackwright.rack.evaluation import sound_design

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# name: (profile, bf16 FLOP/s, HBM B, HBM B/s, scale-up size, scale-up B/s, scale-out B/s)
BUILTINS = {
    "dgx-a100-80gb-hdr": ("a100", 312e12, 80 * 2**30, 2.039e12, 8, 300e9, 25e9),  # "80GB" HBM is 80 GiB
    "dgx-h100-ndr": ("h100", 989e12, 80 * 2**30, 3.35e12, 8, 450e9, 50e9),
    "dgx-h800": ("h100", 989e12, 80 * 2**30, 3.35e12, 8, 200e9, 50e9),  # NVLink 400 GB/s both ways
    "dgx-h200": ("h100", 989e12, 141 * 2**30, 4.8e12, 8, 450e9, 50e9),
    "gb200-nvl72": ("b200", 2.5e15, 186e9, 8e12, 72, 900e9, 50e9),
    "gb300-nvl72": ("b300", 2.5e15, 279e9, 8e12, 72, 900e9, 100e9),
}


def test_builtin_list():
    assert set(BUILTINS) <= set(builtin_systems())


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_si_values(name):
    profile, bf16, hbm, hbm_bw, size, up, out = BUILTINS[name]
    s = load_system(name)
    assert s.accelerator.profile == profile
    assert s.accelerator.peak_flops["bf16"] == pytest.approx(bf16) and s.peak("bf16") == pytest.approx(bf16)
    assert s.accelerator.hbm == pytest.approx(hbm)
    assert s.accelerator.hbm_bandwidth == pytest.approx(hbm_bw)
    assert s.scale_up.size == size and s.accelerators == size
    assert s.scale_up.bandwidth == pytest.approx(up)
    assert s.scale_out.bandwidth == pytest.approx(out)
    assert s.latency.scale_up == pytest.approx(2e-6) and s.latency.scale_out == pytest.approx(10e-6)
    assert s.accelerator.power > 0 and s.power_per_accelerator > s.accelerator.power
    assert s.sources


def test_h100_fp8_and_missing_precision():
    s = load_system("dgx-h100-ndr")
    assert s.peak("fp8") == pytest.approx(1979e12)
    with pytest.raises(ValueError, match="no fp4 rate"):
        s.peak("fp4")


def test_with_accelerators_returns_a_copy():
    s = load_system("dgx-h100-ndr")
    big = s.with_accelerators(16384)
    assert big.accelerators == 16384 and s.accelerators == 8
    assert big.scale_up_domain == 8 and load_system("gb200-nvl72").with_accelerators(8).scale_up_domain == 8
    with pytest.raises(ValueError):
        s.with_accelerators(0)


def test_system_from_gb200_design():
    s = system_from_rack(sound_design(EXAMPLES / "gb200-nvl72.yaml"), racks=2)
    assert s.accelerators == 144
    assert s.scale_up.size == 72
    assert s.scale_out.bandwidth == pytest.approx(50e9)
    assert s.scale_up.bandwidth == pytest.approx(900e9)
    assert s.accelerator.hbm == pytest.approx(186e9)  # the catalog stores usable HBM (issue 20)
    assert s.accelerator.peak_flops["bf16"] == pytest.approx(2.5e15)
    assert s.accelerator.profile == "b200"
    assert 1200 < s.power_per_accelerator < 2500  # rack input power / 72, incl. CPUs, NICs, switches


def test_system_from_h100_design_keeps_node_domain():
    s = system_from_rack(sound_design(EXAMPLES / "hgx-h100-air.yaml"), racks=3)
    assert s.accelerator.profile == "h100" and s.scale_up.size == 8 and s.accelerators == 96
    assert s.scale_up.bandwidth == pytest.approx(450e9) and s.accelerator.peak_flops["bf16"] == pytest.approx(989e12)


def test_system_from_design_rejects_bad_racks():
    with pytest.raises(ValueError):
        system_from_rack(sound_design(EXAMPLES / "gb200-nvl72.yaml"), racks=0)


def test_si_context_accepts_numbers():
    s = SystemSpec.model_validate({"name": "x", "accelerator": {"name": "a", "profile": "xpu",
                                                                 "peak_flops": {"bf16": 1e15}, "hbm": 1e11,
                                                                 "hbm_bandwidth": 4e12},
                                   "scale_up": {"size": 4, "bandwidth": 1e11}, "scale_out": {"bandwidth": 5e10}},
                                  context={"si": True})
    assert s.accelerators == 4 and s.latency.scale_out == 10e-6


# --- bad input ---------------------------------------------------------------------------------

GOOD = """\
name: test
accelerator:
  name: X
  profile: xpu
  peak_flops: {bf16: "1 PFLOP/s"}
  hbm: "100 GB"
  hbm_bandwidth: "4 TB/s"
scale_up: {size: 8, bandwidth: "400 GB/s"}
scale_out: {bandwidth: "400 Gb/s"}
"""


def write(tmp_path, text):
    path = tmp_path / "system.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path) -> InputError:
    with pytest.raises(InputError) as info:
        load_system(str(path))
    return info.value


def test_good_file(tmp_path):
    s = load_system(str(write(tmp_path, GOOD)))
    assert s.scale_out.bandwidth == pytest.approx(50e9) and s.accelerators == 8


def test_bare_number_is_an_error(tmp_path):
    error = error_of(write(tmp_path, GOOD.replace('"100 GB"', "100")))
    problem = error.problems[0]
    assert problem.path == "accelerator.hbm" and "no unit" in problem.message and problem.line == 6


def test_wrong_dimension_and_unknown_precision(tmp_path):
    text = GOOD.replace('"4 TB/s"', '"4 TB"').replace('{bf16: "1 PFLOP/s"}', '{bf16: "1 PFLOP/s", int3: "1 PFLOP/s"}')
    paths = {p.path for p in error_of(write(tmp_path, text)).problems}
    assert "accelerator.hbm_bandwidth" in paths and any(p.startswith("accelerator.peak_flops") for p in paths)


def test_missing_bf16_and_missing_scale_out(tmp_path):
    text = GOOD.replace('{bf16: "1 PFLOP/s"}', '{fp8: "2 PFLOP/s"}').replace('scale_out: {bandwidth: "400 Gb/s"}\n', "")
    problems = {p.path: p.message for p in error_of(write(tmp_path, text)).problems}
    assert "bf16" in problems["accelerator.peak_flops"] and problems["scale_out"] == "required field is missing"


def test_unknown_builtin_system():
    with pytest.raises(InputError) as info:
        load_system("gb200-nvl36")
    assert "did you mean 'gb200-nvl72'?" in str(info.value)


def test_a_designs_peak_overrides_reach_the_system(tmp_path):
    """The perf system's peak is the rack's (overrides applied) per accelerator, not the catalog part's."""
    child = tmp_path / "faster.yaml"
    child.write_text(f"name: faster\ngeneration: x\nextends: {EXAMPLES / 'gb300-nvl72.yaml'}\n"
                     "overrides:\n  parts.nvidia-b300-gb300.peak_flops.bf16_dense: \"3 PFLOP/s\"\n")
    assert system_from_rack(sound_design(child)).peak("bf16") == pytest.approx(3e15)  # catalog B300: 2.5 PFLOP/s
    assert system_from_rack(sound_design(EXAMPLES / "gb300-nvl72.yaml")).peak("bf16") == pytest.approx(2.5e15)


def test_an_evaluated_design_is_not_evaluated_again(monkeypatch):
    """rackwright evaluate's delivery figures take the report it has (the rack), not the path."""
    import rackwright
    from rackwright.perf.api import rack_delivery
    from rackwright.rack import evaluation

    report = rackwright.evaluate(EXAMPLES / "gb300-nvl72.yaml")
    expected = rack_delivery(EXAMPLES / "gb300-nvl72.yaml")
    monkeypatch.setattr(evaluation, "_chain", lambda *a, **k: pytest.fail("the design was resolved again"))
    assert rack_delivery(report) == expected
    assert system_from_rack(report).accelerators == 72


def test_every_catalog_accelerator_names_a_known_efficiency_profile():
    """The accelerator carries its profile (catalog spec perf_profile); the catalog's choices are the model's sets."""
    from rackwright.catalog import SPEC_FIELDS, load_catalog
    from rackwright.perf.efficiency import PROFILES
    from rackwright.perf.system import profile_of

    assert set(SPEC_FIELDS["perf_profile"].choices) == set(PROFILES)
    profiles = {part.id: profile_of(part) for part in load_catalog().by_kind("accelerator")}
    assert profiles["nvidia-h100-sxm5-80gb"] == "h100" and profiles["nvidia-b300-gb300"] == "b300"
    assert all("perf_profile" in part.specs for part in load_catalog().by_kind("accelerator"))
