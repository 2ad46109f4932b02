"""Rack heat balance, coolant and air flow, CDU loading.

Heat to liquid is the cold-plate share of each part's heat, ``Q_liq = Σ P_i · f_liq,i``;
everything else, conversion losses included, goes to air, so heat to liquid plus
heat to air equals the rack's input power (energy is conserved).

Coolant and air flow follow the sensible-heat balance ``V̇ = Q / (ρ · c_p · ΔT)``
with ρ and c_p from CoolProp [1] at the mean loop temperature. To keep one code
path for one design or a million, the properties are tabulated per fluid from
CoolProp on a 0.05 K grid and interpolated (error < 1e-6 relative). The table ships
with the package (``data/rho_cp.npz``, written by ``scripts/make-property-table.py``)
so that evaluating a rack does not import CoolProp (seconds of start-up); a test
recomputes it with the installed CoolProp and compares every point.

References
----------
[1] I. H. Bell et al., "Pure and Pseudo-pure Fluid Thermophysical Property Evaluation
    and the Open-Source Thermophysical Property Library CoolProp", Ind. Eng. Chem. Res.
    53 (2014) 2498–2508.
[2] ASHRAE TC 9.9, "Liquid Cooling Guidelines for Datacom Equipment Centers", 2nd ed. (2014):
    W-classes of facility water supply temperature.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from . import Array

#: 1 m³/s in cubic feet per minute.
CFM_PER_M3_S = 2118.880003
ATMOSPHERE_PA = 101325.0

#: CoolProp fluid names: water, propylene glycol 25 % by mass (incompressible MPG), dry air.
COOLPROP_FLUIDS = {"water": "Water", "pg25": "INCOMP::MPG[0.25]", "air": "Air"}
_GRID_K = np.arange(263.15, 373.15 + 1e-9, 0.05)


PROPERTY_TABLE = Path(__file__).parent / "data" / "rho_cp.npz"


def tabulate_rho_cp(fluid: str) -> np.ndarray:
    """ρ · c_p [J/(m³·K)] of ``fluid`` on the grid, computed with CoolProp [1] at 1 atm."""
    from CoolProp.CoolProp import PropsSI

    name = COOLPROP_FLUIDS[fluid]
    rho = PropsSI("D", "T", _GRID_K, "P", ATMOSPHERE_PA, name)
    cp = PropsSI("C", "T", _GRID_K, "P", ATMOSPHERE_PA, name)
    return np.asarray(rho) * np.asarray(cp)


@cache
def _rho_cp_table(fluid: str) -> np.ndarray:
    with np.load(PROPERTY_TABLE) as tables:
        return tables[fluid]


def volumetric_heat_capacity(fluid: str, temperature):
    """ρ · c_p [J/(m³·K)] of ``fluid`` (water, pg25, air) at ``temperature`` [K], 1 atm (CoolProp [1])."""
    return np.interp(temperature, _GRID_K, _rho_cp_table(fluid))


def coolant_volume_flow(heat, fluid: str, mean_temperature, delta_t):
    """Coolant flow to carry ``heat`` [W] with a rise ``delta_t`` [K]: ``V̇ = Q / (ρ c_p ΔT)`` [m³/s].

    E.g. water at 35 °C, 100 kW, ΔT = 10 K → 2.41 L/s ≈ 144 L/min (formulas.md, Cooling).
    """
    return heat / (volumetric_heat_capacity(fluid, mean_temperature) * delta_t)


def air_volume_flow(heat, inlet_temperature, delta_t):
    """Air flow to carry ``heat`` [W] at an inlet temperature [K] and rise ``delta_t`` [K] [m³/s]."""
    return heat / (volumetric_heat_capacity("air", inlet_temperature + delta_t / 2.0) * delta_t)


def cubic_feet_per_minute(volume_flow):
    """m³/s → CFM."""
    return volume_flow * CFM_PER_M3_S


def cdu_utilisation(heat, capacity, share):
    """Share of a CDU's rated capacity used: ``Q / (C · share)``; ``share`` is this rack's part of the CDU."""
    return heat / (capacity * share)


def required_cdu_approach(tcs_supply, facility_supply):
    """Approach the CDU must achieve: TCS (secondary) supply minus facility water supply [K]."""
    return tcs_supply - facility_supply


# --- the thermal step of the rack chain -------------------------------------------------------------


@dataclass(frozen=True)
class ThermalInputs:
    """The rack's heat and its cooling loop (SI; floats or arrays)."""

    input_power: Array  # all of it becomes heat [W]
    liquid_heat: Array  # Σ P · liquid fraction: the cold plates' share [W]
    rear_door_capacity: Array  # what rear-door heat exchangers take from the exhaust air [W]
    fluid: str  # the secondary loop's coolant: water or pg25
    facility_supply: Array  # facility water at the CDU [K]
    tcs_supply: Array  # the secondary loop's supply [K]
    coolant_delta_t: Array  # its rise through the rack [K]
    air_inlet: Array  # [K]
    air_delta_t: Array  # [K]
    cdu_capacity: Array  # [W] (NaN without a CDU)
    cdu_share: Array  # this rack's share of the CDU


@dataclass(frozen=True)
class ThermalResult:
    heat_to_liquid: Array  # [W]
    heat_to_air: Array  # [W]
    heat_to_rear_door: Array  # [W]
    heat_to_room: Array  # [W]
    liquid_share: Array
    coolant_flow: Array  # [m³/s]
    airflow: Array  # [m³/s]
    tcs_supply: Array  # [K]
    facility_supply: Array  # [K]
    cdu_utilisation: Array


def thermal_step(x: ThermalInputs) -> ThermalResult:
    """Heat balance (liquid share from the cold plates, the rest to air, energy conserved) and the flows that
    carry it, ``V̇ = Q / (ρ · c_p · ΔT)`` at the loop's mean temperature [1]."""
    air = x.input_power - x.liquid_heat
    rear_door = np.minimum(air, x.rear_door_capacity)
    return ThermalResult(
        heat_to_liquid=x.liquid_heat,
        heat_to_air=air,
        heat_to_rear_door=rear_door,
        heat_to_room=air - rear_door,
        liquid_share=x.liquid_heat / np.maximum(x.input_power, 1e-12),
        coolant_flow=coolant_volume_flow(
            x.liquid_heat, x.fluid, x.tcs_supply + x.coolant_delta_t / 2.0, x.coolant_delta_t
        ),
        airflow=air_volume_flow(air, x.air_inlet, x.air_delta_t),
        tcs_supply=x.tcs_supply,
        facility_supply=x.facility_supply,
        cdu_utilisation=cdu_utilisation(x.liquid_heat, x.cdu_capacity, x.cdu_share),
    )
