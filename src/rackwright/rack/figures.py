"""The figures a rack evaluation reports: one table drives JSON keys, tables and comparisons.

Inside, figures are SI (W, m³/s, kg, B/s, FLOP/s); each entry says how it is
shown: the JSON key carries the display unit in its name (``it_load_kw``).
Mapped figures (peak FLOP/s by precision, cables by media, US share by
category) are reported as a nested object under their JSON key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ..units import from_si

#: One rack's figures are floats, a batch's are arrays: the display values are of the same kind.
Value = TypeVar("Value", float, np.ndarray)


@dataclass(frozen=True)
class Figure:
    key: str  # internal key, "section.name"
    json: str  # JSON key within the section, unit in the name
    unit: str  # display unit ("" for counts and shares)
    dimension: str  # units.DIMENSIONS key, or "count"/"share"
    label: str
    mapped: bool = False  # a mapping of sub-keys (e.g. precision → value)

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    def display(self, value: Value) -> Value:
        """SI value (float or array) in the display unit."""
        if self.dimension in ("count", "share", "dimensionless"):
            return value
        return from_si(value, self.unit, self.dimension)


FIGURES: list[Figure] = [
    Figure("power.it_load", "it_load_kw", "kW", "power", "IT load (rated)"),
    Figure("power.input", "input_kw", "kW", "power", "Rack input power"),
    Figure("power.conversion_loss", "conversion_loss_kw", "kW", "power", "Conversion loss"),
    Figure("power.shelf_capacity", "shelf_capacity_kw", "kW", "power", "Installed conversion capacity"),
    Figure("power.usable_capacity", "usable_capacity_kw", "kW", "power", "Usable capacity after redundancy"),
    Figure("power.efficiency", "efficiency", "", "share", "In-rack conversion efficiency"),
    Figure("power.busbar_current", "busbar_current_a", "A", "current", "Busbar / feed current"),
    Figure("power.bbu_ride_through", "bbu_ride_through_s", "s", "time", "BBU ride-through"),
    Figure("thermal.heat_to_liquid", "heat_to_liquid_kw", "kW", "power", "Heat to liquid"),
    Figure("thermal.heat_to_air", "heat_to_air_kw", "kW", "power", "Heat to air"),
    Figure("thermal.heat_to_rear_door", "heat_to_rear_door_kw", "kW", "power", "Air heat taken by rear-door HX"),
    Figure("thermal.heat_to_room", "heat_to_room_kw", "kW", "power", "Heat left to room air"),
    Figure("thermal.liquid_share", "liquid_share", "", "share", "Share of heat to liquid"),
    Figure("thermal.coolant_flow", "coolant_flow_lpm", "L/min", "volume_flow", "Coolant flow"),
    Figure("thermal.airflow", "airflow_cfm", "cfm", "volume_flow", "Airflow"),
    Figure("thermal.tcs_supply", "tcs_supply_c", "degC", "temperature", "Coolant (TCS) supply"),
    Figure("thermal.facility_supply", "facility_supply_c", "degC", "temperature", "Facility water supply"),
    Figure("thermal.cdu_utilisation", "cdu_utilisation", "", "share", "CDU utilisation"),
    Figure("mechanical.height_used", "height_used_u", "", "count", "Height used (U/OU)"),
    Figure("mechanical.height_available", "height_available_u", "", "count", "Height available (U/OU)"),
    Figure("mechanical.weight", "weight_kg", "kg", "mass", "Weight"),
    Figure("mechanical.floor_load", "floor_load_kg_m2", "kg/m**2", "area_density", "Floor load"),
    Figure("compute.accelerators", "accelerators", "", "count", "Accelerators"),
    Figure("compute.cpus", "cpus", "", "count", "CPUs"),
    Figure("compute.peak_flops", "peak_pflops", "PFLOP/s", "compute_rate", "Peak PFLOP/s", mapped=True),
    Figure("compute.hbm", "hbm_tb", "TB", "data", "HBM"),
    Figure("compute.hbm_bandwidth", "hbm_bandwidth_tb_per_s", "TB/s", "data_rate", "HBM bandwidth"),
    Figure("network.scale_up_domain", "scale_up_domain", "", "count", "Scale-up domain"),
    Figure(
        "network.scale_up_bandwidth",
        "scale_up_bandwidth_tb_per_s",
        "TB/s",
        "data_rate",
        "Scale-up bandwidth (both directions)",
    ),
    Figure("network.scale_out_ports", "scale_out_ports", "", "count", "Scale-out ports"),
    Figure(
        "network.scale_out_bandwidth",
        "scale_out_bandwidth_tb_per_s",
        "TB/s",
        "data_rate",
        "Scale-out bandwidth (both directions)",
    ),
    Figure("network.front_end_ports", "front_end_ports", "", "count", "Front-end (DPU) ports"),
    Figure("cabling.cables", "cables", "", "count", "Cables by media", mapped=True),
    Figure("cabling.length", "length_m", "m", "length", "Cable length"),
    Figure("cost.bom", "bom_usd", "", "count", "Bill of materials (USD)"),
    Figure("cost.per_accelerator", "usd_per_accelerator", "", "count", "USD per accelerator"),
    Figure("sourcing.domestic_share", "domestic_share", "", "share", "US content (share of cost)"),
    Figure("sourcing.longest_lead_time", "longest_lead_time_weeks", "", "count", "Longest lead time (weeks)"),
    # its public name as it stands: a plain ``by_category`` could not be renamed (reliability's is another quantity)
    Figure("sourcing.by_category", "us_content_share_by_category", "", "share", "US content by category", mapped=True),
    # a probability, not a rate: 1 − exp(−failures per year); near 1 for a big rack, shown to the digit that
    # keeps it off 100 % (report.present)
    Figure("reliability.afr_rack", "afr_rack", "", "share", "Rack AFR: chance a part fails in a year"),
    Figure("reliability.failures_per_year", "failures_per_year", "", "count", "Part failures per year"),
]

BY_KEY = {f.key: f for f in FIGURES}
SECTIONS = tuple(dict.fromkeys(f.section for f in FIGURES))


def flat_display(figures: Mapping[str, Value]) -> dict[str, Value]:
    """``{"power.it_load_kw": 132.0, "compute.peak_pflops.bf16_dense": 180.0, ...}`` in display units."""
    out: dict[str, Value] = {}
    for figure in FIGURES:
        if figure.mapped:
            keys = [k for k in figures if k.startswith(figure.key + ":")]
        else:
            keys = [figure.key] if figure.key in figures else []
        for key in keys:
            sub = key.partition(":")[2]
            out[f"{figure.section}.{figure.json}" + (f".{sub}" if sub else "")] = figure.display(figures[key])
    return out
