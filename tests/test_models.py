"""The pure models against hand calculations and published formulas (tolerances stated)."""

import math
from pathlib import Path

import numpy as np
import pytest
from CoolProp.CoolProp import PropsSI

from rackwright.models import cabling, mechanical, network, power, reliability, sourcing, thermal


def test_busbar_current_132kw_at_48v():
    # formulas.md: I = P / V; 132 kW / 48 V = 2,750 A exactly.
    assert power.dc_current(132e3, 48.0) == pytest.approx(2750.0)


def test_three_phase_line_current():
    # 40.8 kW (four DGX H100 at 10.2 kW) on 415 V, PF 0.99: 40800 / (1.732 · 415 · 0.99) = 57.33 A.
    assert power.three_phase_line_current(40.8e3, 415.0, 0.99) == pytest.approx(57.33, abs=0.01)


@pytest.mark.parametrize("scheme, installed, usable_units", [
    ("N", 8, 8), ("N+1", 8, 7), ("N+2", 8, 6), ("N+N", 8, 4), ("N+N", 7, 4), ("N+1", 0, 0),
])
def test_redundancy(scheme, installed, usable_units):
    assert power.usable_capacity(installed, 33e3, scheme) == pytest.approx(usable_units * 33e3)


def test_conversion_and_ride_through():
    assert power.conversion_input_power(97.5e3, 0.975) == pytest.approx(100e3)
    # 1.2 kWh at 95 % into 18 kW: 4.32e6 J · 0.95 / 18e3 W = 228 s.
    assert power.ride_through_time(1.2 * 3.6e6, 0.95, 18e3) == pytest.approx(228.0)
    assert power.ride_through_time(0.0, 1.0, 0.0) == 0.0


def test_coolant_flow_water_hand_calculation():
    # formulas.md: water at 35 °C, 100 kW, ΔT 10 K → 2.41 L/s ≈ 144 L/min (ρ≈994, c_p≈4.18 kJ/kgK).
    flow = thermal.coolant_volume_flow(100e3, "water", 308.15, 10.0)
    assert flow * 1000 == pytest.approx(2.41, rel=0.005)
    assert flow * 60000 == pytest.approx(144.0, rel=0.005)
    # Rule of thumb 1.5 L/min/kW at ΔT≈10 K is a conservative round-up of 1.44.
    assert 1.3 < flow * 60000 / 100 < 1.5


@pytest.mark.parametrize("fluid", ["water", "pg25", "air"])
@pytest.mark.parametrize("temperature", [283.15, 300.0, 318.15, 333.33])
def test_property_table_matches_coolprop(fluid, temperature):
    name = thermal.COOLPROP_FLUIDS[fluid]
    direct = PropsSI("D", "T", temperature, "P", 101325.0, name) * PropsSI("C", "T", temperature, "P", 101325.0, name)
    assert thermal.volumetric_heat_capacity(fluid, temperature) == pytest.approx(direct, rel=1e-5)


@pytest.mark.parametrize("fluid", ["water", "pg25", "air"])
def test_shipped_property_table_is_coolprops(fluid):
    """The table the package ships equals CoolProp's values at every grid point (else: scripts/make-property-table.py)."""
    assert np.array_equal(thermal._rho_cp_table(fluid), thermal.tabulate_rho_cp(fluid))


def test_pg25_needs_more_flow_than_water():
    # Glycol lowers ρ·c_p, so the same heat needs more flow (about 3-4 % for PG25).
    water = thermal.coolant_volume_flow(100e3, "water", 308.15, 10.0)
    glycol = thermal.coolant_volume_flow(100e3, "pg25", 308.15, 10.0)
    assert 1.02 < glycol / water < 1.08


def test_airflow_hand_calculation():
    # formulas.md: ρ_air≈1.16 kg/m³ at 30 °C, c_p≈1.006 kJ/kgK; 10 kW at ΔT 15 K (inlet 22.5 → mean 30 °C):
    # 10000 / (1.16 · 1006 · 15) = 0.5713 m³/s = 1,211 CFM; CoolProp gives ρ within 0.5 % of 1.16.
    flow = thermal.air_volume_flow(10e3, 295.65, 15.0)
    assert flow == pytest.approx(0.5713, rel=0.01)
    assert thermal.cubic_feet_per_minute(flow) == pytest.approx(1211, rel=0.01)


def test_models_take_arrays():
    heats = np.array([50e3, 100e3, 150e3])
    flows = thermal.coolant_volume_flow(heats, "water", np.array([308.15, 308.15, 308.15]), 10.0)
    assert np.allclose(flows / flows[0], [1, 2, 3])
    assert power.usable_capacity(np.array([2, 4, 8]), 33e3, "N+N").tolist() == [33e3, 66e3, 132e3]


def test_reliability():
    # AFR = 1 − exp(−8766 · λ); λ from a 4 % AFR and back.
    rate = reliability.rate_from_afr(0.04)
    assert rate == pytest.approx(-math.log(0.96) / 8766)
    assert reliability.afr_from_rate(rate) == pytest.approx(0.04)
    # Series system of 72 parts at MTBF 1e6 h: 72 / 1e6 per hour → 0.631 failures per year.
    assert reliability.failures_per_year(72 / 1e6) == pytest.approx(0.631, rel=1e-3)


def test_mechanical_network_cabling_sourcing():
    assert mechanical.mounting_units(48 * 0.04445, 0.04445) == pytest.approx(48)
    assert mechanical.floor_load(1360.0, 0.6, 1.2) == pytest.approx(1888.9, rel=1e-4)
    # 72 ports of 800 Gb/s (100 GB/s), both directions: 14.4 TB/s.
    assert network.both_directions(72 * 100e9) == pytest.approx(14.4e12)  # 72 × 800G ports
    assert network.scale_up_domain(36, 2) == 72
    # A link from 0.5 m to 1.7 m: 1.2 m vertical + 2 · 0.3 m drops + 0.3 m slack = 2.1 m.
    assert cabling.routed_length(0.5, 1.7) == pytest.approx(2.1)
    assert sourcing.domestic_share(25.0, 100.0) == pytest.approx(0.25)
    assert np.isnan(sourcing.domestic_share(0.0, 0.0))


# --- the chain's steps -------------------------------------------------------------------------------------

def test_a_step_of_the_chain_can_be_swapped():
    """A user's thermal step (here: a coolant with twice water's ρ·c_p) replaces the built-in one for a run; the
    other steps, and the built-in chain afterwards, are unchanged."""
    import dataclasses

    import rackwright
    from rackwright.rack.chain import STEPS

    design = Path(__file__).resolve().parents[1] / "examples" / "gb300-nvl72.yaml"

    def denser_coolant(inputs):
        result = STEPS["thermal"](inputs)
        return dataclasses.replace(result, coolant_flow=result.coolant_flow / 2.0)

    base = rackwright.evaluate(design)
    swapped = rackwright.evaluate(design, steps={"thermal": denser_coolant})
    assert swapped.figures["thermal.coolant_flow"] == pytest.approx(base.figures["thermal.coolant_flow"] / 2)
    assert swapped.figures["power.input"] == base.figures["power.input"]
    assert rackwright.evaluate(design).figures["thermal.coolant_flow"] == base.figures["thermal.coolant_flow"]
    batch = rackwright.evaluate_batch(design, {"parts.accelerator.power": np.array([1000.0, 1400.0])},
                                      steps={"thermal": denser_coolant})
    single = base.figures["thermal.coolant_flow"] * 60e3 / 2  # L/min
    assert batch.figures["thermal.coolant_flow_lpm"][1] == pytest.approx(single)  # 1,400 W: the design's own
    with pytest.raises(rackwright.InputError, match="thermals"):
        rackwright.evaluate(design, steps={"thermals": denser_coolant})


def test_power_step_by_hand():
    """Eight 33 kW shelves at 97.5 % on a 50 V bus, N+1, 132 kW of IT load, a 0.87 kWh battery at 95 %."""
    x = power.PowerInputs(it_load=132e3, converters=8.0, capacity=8 * 33e3, capacity_efficiency=8 * 33e3 * 0.975,
                          bbu_energy=0.87 * 3.6e6, bbu_energy_efficiency=0.87 * 3.6e6 * 0.95, redundancy="N+1",
                          bus_voltage=50.0, bus_carries_input=False, three_phase=False, power_factor=1.0)
    result = power.power_step(x)
    assert result.input == pytest.approx(132e3 / 0.975)  # 135.4 kW
    assert result.usable_capacity == pytest.approx(7 * 33e3)
    assert result.busbar_current == pytest.approx(132e3 / 50.0)  # the converters feed the bus: 2,640 A
    assert result.bbu_ride_through == pytest.approx(0.87 * 3.6e6 * 0.95 / 132e3)  # 22.5 s
