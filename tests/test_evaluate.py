"""The evaluation chain: hand-checked figures, energy conservation, and the batch path."""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rackwright
from rackwright.rack.design import load_design

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GB200 = load_design(EXAMPLES / "gb200-nvl72.yaml")

REQUIRED_KEYS = [
    "power.it_load_kw", "power.input_kw", "power.conversion_loss_kw", "power.shelf_capacity_kw",
    "power.usable_capacity_kw", "power.busbar_current_a", "power.bbu_ride_through_s",
    "thermal.heat_to_liquid_kw", "thermal.heat_to_air_kw", "thermal.coolant_flow_lpm", "thermal.airflow_cfm",
    "thermal.cdu_utilisation", "mechanical.height_used_u", "mechanical.height_available_u", "mechanical.weight_kg",
    "mechanical.floor_load_kg_m2", "compute.accelerators", "compute.hbm_tb", "compute.hbm_bandwidth_tb_per_s",
    "network.scale_up_domain", "network.scale_up_bandwidth_tb_per_s", "network.scale_out_ports",
    "network.scale_out_bandwidth_tb_per_s", "cabling.length_m", "cost.bom_usd", "cost.usd_per_accelerator",
    "sourcing.domestic_share", "sourcing.longest_lead_time_weeks", "reliability.afr_rack",
    "reliability.failures_per_year",
]


@pytest.mark.parametrize("name", ["gb200-nvl72", "gb300-nvl72", "hgx-h100-air", "ethernet-800vdc"])
def test_examples_close(name):
    report = rackwright.evaluate(EXAMPLES / f"{name}.yaml")
    assert report.errors == []
    flat = report.flat()
    for key in REQUIRED_KEYS:
        assert key in flat
    doc = report.to_dict()
    assert "bf16_dense" in doc["compute"]["peak_pflops"] and "optical" in doc["cabling"]["cables"]
    categories = {"compute", "networking", "cabling", "cooling", "power", "mechanical"}
    assert set(doc["sourcing"]["us_content_share_by_category"]) <= categories


def test_gb200_by_hand():
    r = rackwright.evaluate(GB200)
    # IT load: 18 trays × (4·1200 + 2·300 + 4·25 + 2·150 + 550) + 9 × (2·250 + 200) + 2 · 100
    # + 72 optics · 9 W = 114,300 + 6,300 + 200 + 648 = 121,448 W.
    assert r["power.it_load_kw"] == pytest.approx(121.448, rel=1e-9)
    assert r["power.input_kw"] == pytest.approx(121.448 / 0.975, rel=1e-9)
    # 8 × 33 kW shelves at N+N: 4 × 33 = 132 kW usable.
    assert r["power.shelf_capacity_kw"] == 264 and r["power.usable_capacity_kw"] == 132
    # Busbar: I = P_IT / V = 121,448 W / 50 V.
    assert r["power.busbar_current_a"] == pytest.approx(121448 / 50)
    # Coolant: PG25 at the 36 °C TCS supply + 5 K mean (41 °C), ΔT 10 K.
    from CoolProp.CoolProp import PropsSI
    rho_cp = PropsSI("D", "T", 314.15, "P", 101325, "INCOMP::MPG[0.25]") * PropsSI("C", "T", 314.15, "P", 101325, "INCOMP::MPG[0.25]")
    assert r["thermal.coolant_flow_lpm"] == pytest.approx(r["thermal.heat_to_liquid_kw"] * 1e3 / (rho_cp * 10) * 60000, rel=1e-5)
    assert r["compute.hbm_tb"] == pytest.approx(72 * 0.186)  # usable HBM (issue 20: 186 GB, NVIDIA)
    assert r["network.scale_out_bandwidth_tb_per_s"] == pytest.approx(72 * 0.05 * 2)  # 400G = 50 GB/s, both ways


DESIGNS = [p for p in sorted(EXAMPLES.glob("*.yaml")) if "\nslots:" in p.read_text()]  # not lines or scenarios


def test_energy_is_conserved_in_examples():
    assert len(DESIGNS) >= 5
    for path in DESIGNS:
        f = rackwright.evaluate(path).flat()
        assert f["power.input_kw"] == pytest.approx(f["thermal.heat_to_liquid_kw"] + f["thermal.heat_to_air_kw"], rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(power=st.floats(100, 3000), count=st.integers(0, 10), facility=st.floats(285, 320),
       liquid=st.floats(0, 1))
def test_energy_conservation_property(power, count, facility, liquid):
    batch = rackwright.evaluate_batch(GB200, {
        "parts.accelerator.power": power, "slots[compute-upper].count": count,
        "cooling.facility_supply": facility, "parts.accelerator.liquid_fraction": liquid})
    f = batch.figures
    assert np.allclose(f["power.input_kw"], f["thermal.heat_to_liquid_kw"] + f["thermal.heat_to_air_kw"], rtol=1e-12)
    assert np.all(f["thermal.heat_to_air_kw"] >= -1e-9)


def test_batch_matches_scalar_evaluations():
    powers = np.array([800.0, 1200.0, 1500.0])
    counts = np.array([6.0, 10.0, 12.0])
    batch = rackwright.evaluate_batch(GB200, {"parts.nvidia-b200-gb200.power": powers, "slots[compute-upper].count": counts})
    for i, (power, count) in enumerate(zip(powers, counts)):
        single = rackwright.evaluate_batch(GB200, {"parts.nvidia-b200-gb200.power": power, "slots[compute-upper].count": count})
        for key, values in batch.figures.items():
            assert values[i] == pytest.approx(float(single.figures[key]), rel=1e-12, nan_ok=True), key


def test_batch_without_overrides_equals_evaluate():
    scalar = rackwright.evaluate(GB200).flat()
    batch = rackwright.evaluate_batch(GB200, {})
    for key, value in scalar.items():
        assert float(batch.figures[key]) == pytest.approx(value, nan_ok=True)


def test_monotonic_in_accelerator_power_and_feasibility_flips():
    powers = np.linspace(600, 2400, 50)
    batch = rackwright.evaluate_batch(GB200, {"parts.accelerator.power": powers})
    load = batch.figures["power.it_load_kw"]
    assert np.all(np.diff(load) > 0) and np.all(np.diff(batch.figures["thermal.coolant_flow_lpm"]) > 0)
    # Above the 132 kW usable at N+N the shelves no longer carry the load: PWR001 fires from there on.
    broken = batch.broken["PWR001"]
    assert not broken[0] and broken[-1] and np.all(np.diff(broken.astype(int)) >= 0)
    from rackwright.rack.rules import FIGURE_RULES

    any_error = np.zeros_like(broken)
    for rule in FIGURE_RULES:
        if rule.severity == "error":
            any_error |= batch.broken[rule.code]
    assert np.array_equal(batch.feasible, ~any_error)
    first = powers[np.argmax(broken)]
    # Hand check: the load crosses 132 kW where 72·P + 121,448 − 72·1,200 = 132,000 → P = 1,346.6 W.
    assert powers[np.argmax(broken) - 1] < 1346.6 <= first


def test_warmer_facility_water_breaks_the_cdu_rule():
    batch = rackwright.evaluate_batch(GB200, {"cooling.facility_supply": np.array([300.15, 305.15, 310.15])})
    # The in-row CDU is rated for ≤ 32 °C facility water (THM005).
    assert batch.broken["THM005"].tolist() == [False, False, True]
    assert batch.feasible.tolist() == [True, True, False]


def test_unknown_override_path_is_input_error():
    with pytest.raises(rackwright.InputError, match="unknown override path"):
        rackwright.evaluate_batch(GB200, {"cooling.colour": np.ones(3)})


def test_million_element_batch_runs():
    powers = np.random.default_rng(0).uniform(800, 1600, 1_000_000)
    batch = rackwright.evaluate_batch(GB200, {"parts.accelerator.power": powers})
    assert batch.figures["power.it_load_kw"].shape == (1_000_000,)
    assert not math.isnan(float(batch.figures["thermal.coolant_flow_lpm"].mean()))


@pytest.mark.parametrize("path, message", [
    ("slots[nowhere].count", "no slot 'nowhere'"),
    ("parts.toaster.power", "no part of kind or id 'toaster'"),
    ("parts.accelerator.airflow", "not used by the rack models"),
])
def test_override_paths_are_checked(path, message):
    with pytest.raises(rackwright.InputError, match=message):
        rackwright.evaluate_batch(GB200, {path: np.ones(2)})


def test_ratings_can_be_overridden_in_a_batch():
    # The busbar carries 121,448 W / 50 V = 2,429 A: a 2,000 A rating breaks PWR003, 3,000 A does not.
    batch = rackwright.evaluate_batch(GB200, {"parts.busbar.current_rating": np.array([2000.0, 3000.0])})
    assert batch.broken["PWR003"].tolist() == [True, False]


def test_a_batch_keeps_its_si_figures_beside_the_display_ones():
    batch = rackwright.evaluate_batch(EXAMPLES / "gb300-nvl72.yaml",
                                      {"parts.accelerator.power": np.array([1000.0, 1400.0, -1.0])})
    assert batch.si["power.input"][:2] * 1e-3 == pytest.approx(batch.figures["power.input_kw"][:2])
    assert batch.si["compute.hbm"][0] == pytest.approx(72 * 279e9)  # bytes: 72 B300 at 279 GB usable
    assert np.isnan(batch.si["power.input"][2])  # a row outside the domain is NaN in both
    assert not any(key.startswith("limit.") for key in batch.si)
