"""Design rules: each broken rule becomes a violation with a stable code, a field path and a fix.

Two families:

* **Figure rules** compare evaluated figures with ratings (shelf capacity,
  busbar current, CDU flow, enclosure payload, ...). They work on NumPy arrays,
  so a batch of designs gets a boolean mask per rule (used for feasibility).
* **Structural rules** look at the design itself (slot overlap, a part of the
  wrong kind in a slot, cable reach) and are checked once per design.

Codes are stable: PWR* power, THM* thermal, MEC* mechanical, NET* network,
DSN* design structure. Severity ``error`` makes ``rackwright check`` exit 1;
``warning`` is reported only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import numpy as np

from ..models import Array
from ..models.mechanical import PITCHES, pitch_name
from ..units import pretty_unit
from .chain import CONVERTER_KINDS, SCALE_OUT_MIN_SPEED, SELV_V, RackModel, design_limits, serves_scale_out
from .design import Slot
from .figures import BY_KEY

#: Kinds that may be mounted in a slot (the others live inside assemblies, or outside the rack).
MOUNTABLE_KINDS = {
    "compute_tray",
    "server",
    "storage",
    "scale_up_switch_tray",
    "scale_out_switch",
    "management_switch",
    "power_shelf",
    "dc_dc",
    "bbu",
    "pdu",
    "cdu",
    "manifold",
    "rear_door_hx",
    "cable",
    "busbar",
    "cold_plate_loop",
}


@dataclass(frozen=True)
class Violation:
    code: str
    severity: str  # "error" or "warning"
    path: str
    message: str
    hint: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FigureRule:
    """``broken(figures, limits)`` → boolean (array); ``message(figures, limits)`` → text for one design."""

    code: str
    severity: str
    path: str
    broken: Callable
    message: Callable
    hint: str


def _show(key: str, value) -> str:
    figure = BY_KEY[key]
    return f"{float(figure.display(value)):,.1f} {pretty_unit(figure.unit)}".rstrip()


def _gt(a, b):
    """``a > b`` where ``b`` is a known rating (NaN ratings never break a rule)."""
    return np.asarray(np.isfinite(b) & (np.asarray(a) > np.asarray(b) * (1 + 1e-9)))


FIGURE_RULES: list[FigureRule] = [
    FigureRule(
        "PWR001",
        "error",
        "power.redundancy",
        lambda f, m: _gt(f["power.it_load"], f["power.usable_capacity"]) & (np.asarray(f["power.shelf_capacity"]) > 0),
        lambda f, m: (
            f"IT load {_show('power.it_load', f['power.it_load'])} exceeds the usable conversion capacity "
            f"{_show('power.usable_capacity', f['power.usable_capacity'])} at {m.redundancy} "
            f"(installed {_show('power.shelf_capacity', f['power.shelf_capacity'])})"
        ),
        "raise slots[<id>].count of the power_shelf or dc_dc slots, choose a part with a higher capacity, or relax "
        "power.redundancy",
    ),
    FigureRule(
        "PWR002",
        "error",
        "slots",
        lambda f, m: (np.asarray(f["power.shelf_capacity"]) <= 0) & (np.asarray(f["power.it_load"]) > 0),
        lambda f, m: "the rack has a load but no power shelves, DC-DC units or PDUs to feed it",
        "add a slot (slots[].part) with a power_shelf, dc_dc or pdu part",
    ),
    FigureRule(
        "PWR003",
        "error",
        "power.busbar",
        lambda f, m: _gt(f["power.busbar_current"], f["limit.busbar_current"]),
        lambda f, m: (
            f"busbar current {_show('power.busbar_current', f['power.busbar_current'])} exceeds its rating "
            f"{f['limit.busbar_current']:,.0f} A"
        ),
        "choose a busbar with a higher current_rating (power.busbar, e.g. hpr-50v-busbar-5000a) or 800 VDC "
        "(power.architecture: hvdc-800v)",
    ),
    FigureRule(
        "THM001",
        "error",
        "cooling.cdu.part",
        lambda f, m: _gt(f["thermal.coolant_flow"], f["limit.cdu_max_flow"] * f["limit.cdu_share"]),
        lambda f, m: (
            f"coolant flow {_show('thermal.coolant_flow', f['thermal.coolant_flow'])} exceeds this rack's share "
            f"of the CDU's maximum flow ({f['limit.cdu_max_flow'] * f['limit.cdu_share'] * 60000:,.0f} L/min)"
        ),
        "raise cooling.coolant_delta_t, lower cooling.cdu.racks_served, or choose a CDU with a higher max_flow "
        "(cooling.cdu.part)",
    ),
    FigureRule(
        "THM002",
        "error",
        "cooling.cdu.part",
        lambda f, m: _gt(f["thermal.cdu_utilisation"], 1.0),
        lambda f, m: (
            f"heat to liquid {_show('thermal.heat_to_liquid', f['thermal.heat_to_liquid'])} exceeds this "
            f"rack's share of the CDU capacity ({f['limit.cdu_capacity'] * f['limit.cdu_share'] / 1000:,.1f} kW)"
        ),
        "lower cooling.cdu.racks_served, raise cooling.cdu.count, or choose a CDU with a higher capacity "
        "(cooling.cdu.part)",
    ),
    FigureRule(
        "THM003",
        "error",
        "cooling.manifold",
        lambda f, m: _gt(f["thermal.coolant_flow"], f["limit.manifold_max_flow"]),
        lambda f, m: (
            f"coolant flow {_show('thermal.coolant_flow', f['thermal.coolant_flow'])} exceeds the manifold's "
            f"rating {f['limit.manifold_max_flow'] * 60000:,.0f} L/min"
        ),
        "raise cooling.coolant_delta_t or choose a manifold with a higher max_flow (cooling.manifold)",
    ),
    FigureRule(
        "THM004",
        "error",
        "cooling.facility_supply",
        lambda f, m: _gt(f["limit.cdu_approach"], np.asarray(f["thermal.tcs_supply"]) - f["thermal.facility_supply"]),
        lambda f, m: (
            f"facility water {_show('thermal.facility_supply', f['thermal.facility_supply'])} leaves an approach of "
            f"{float(f['thermal.tcs_supply'] - f['thermal.facility_supply']):.1f} K to the coolant supply "
            f"{_show('thermal.tcs_supply', f['thermal.tcs_supply'])}; the CDU needs {f['limit.cdu_approach']:.1f} K"
        ),
        "lower cooling.facility_supply (a colder W-class) or raise cooling.tcs_supply",
    ),
    FigureRule(
        "THM005",
        "error",
        "cooling.facility_supply",
        lambda f, m: _gt(f["thermal.facility_supply"], f["limit.cdu_max_facility_supply"]),
        lambda f, m: (
            f"facility water {_show('thermal.facility_supply', f['thermal.facility_supply'])} is warmer than the "
            f"CDU's rated maximum {f['limit.cdu_max_facility_supply'] - 273.15:.1f} °C"
        ),
        "lower cooling.facility_supply to the CDU's max_facility_supply (W32 suits every CDU the catalog rates)",
    ),
    FigureRule(
        "THM006",
        "error",
        "enclosure",
        lambda f, m: _gt(f["thermal.heat_to_room"], f["limit.air_capacity"]),
        lambda f, m: (
            f"heat to room air {_show('thermal.heat_to_room', f['thermal.heat_to_room'])} exceeds the "
            f"enclosure's air capacity {f['limit.air_capacity'] / 1000:,.1f} kW"
        ),
        "move heat to liquid (cooling.liquid_fraction, a rear_door_hx slot) or choose an enclosure with a higher "
        "air_capacity",
    ),
    FigureRule(
        "THM008",
        "error",
        "cooling.facility_supply",
        lambda f, m: _gt(f["thermal.facility_supply"], f["limit.rear_door_max_facility_supply"]),
        lambda f, m: (
            f"facility water {_show('thermal.facility_supply', f['thermal.facility_supply'])} is warmer than the "
            f"rear-door heat exchanger's rated maximum {f['limit.rear_door_max_facility_supply'] - 273.15:.1f} °C"
        ),
        "lower cooling.facility_supply to the rear door's max_facility_supply (chilled water, W17)",
    ),
    FigureRule(
        "THM007",
        "warning",
        "cooling.cdu",
        lambda f, m: (np.asarray(f["thermal.heat_to_liquid"]) > 0) & ~np.isfinite(f["limit.cdu_capacity"]),
        lambda f, m: (
            f"{_show('thermal.heat_to_liquid', f['thermal.heat_to_liquid'])} goes to liquid but no CDU is named"
        ),
        "name the CDU under cooling.cdu.part (e.g. vertiv-coolchip-cdu-1350)",
    ),
    FigureRule(
        "MEC001",
        "error",
        "slots",
        lambda f, m: _gt(f["mechanical.height_used"], f["mechanical.height_available"]),
        lambda f, m: (
            f"slots use {float(f['mechanical.height_used']):.1f} units but the enclosure has "
            f"{float(f['mechanical.height_available']):.0f}"
        ),
        "lower slots[<id>].count, remove slots, or choose an enclosure with a higher usable_height",
    ),
    FigureRule(
        "MEC002",
        "error",
        "enclosure",
        lambda f, m: _gt(np.asarray(f["mechanical.weight"]) - f["limit.enclosure_weight"], f["limit.max_payload"]),
        lambda f, m: (
            f"equipment weighs {float(f['mechanical.weight'] - f['limit.enclosure_weight']):,.0f} kg, over the "
            f"enclosure's payload rating {f['limit.max_payload']:,.0f} kg"
        ),
        "choose an enclosure with a higher max_payload or lighten the rack (slots[<id>].count)",
    ),
    FigureRule(
        "MEC003",
        "error",
        "floor_rating",
        lambda f, m: _gt(f["mechanical.floor_load"], f["limit.floor_rating"]),
        lambda f, m: (
            f"floor load {_show('mechanical.floor_load', f['mechanical.floor_load'])} exceeds the floor rating "
            f"{f['limit.floor_rating']:,.0f} kg/m²"
        ),
        "raise floor_rating (load plates, a slab floor) or lighten the rack (slots[<id>].count)",
    ),
    FigureRule(
        "NET001",
        "error",
        "network.links",
        lambda f, m: (
            _gt(f["limit.scale_up_links"], f["limit.scale_up_switch_ports"])
            & (np.asarray(f["limit.scale_up_switch_ports"]) > 0)
        ),
        lambda f, m: (
            f"accelerators have {float(f['limit.scale_up_links']):,.0f} scale-up links but the scale-up switches "
            f"offer {float(f['limit.scale_up_switch_ports']):,.0f} ports"
        ),
        "raise slots[<id>].count of the scale_up_switch_tray slot or use accelerators with fewer scale_up_links",
    ),
    FigureRule(
        "NET002",
        "warning",
        "network.scale_up",
        lambda f, m: (
            (
                np.asarray(f["limit.scale_up_switch_ports"])
                > np.asarray(f["limit.scale_up_links"]) * f["limit.scale_up_racks"]
            )
            & (np.asarray(f["limit.scale_up_links"]) > 0)
        ),
        lambda f, m: (
            f"scale-up switches offer {float(f['limit.scale_up_switch_ports']):,.0f} ports for "
            f"{float(f['limit.scale_up_links']):,.0f} accelerator links; ports are left unused"
        ),
        "match the scale_up_switch_tray slots[<id>].count to the accelerator links, or set network.scale_up.racks "
        "for a multi-rack domain",
    ),
]


FIGURE_RULES += [
    FigureRule(
        "PWR004",
        "error",
        "slots",
        lambda f, m: np.asarray(f["power.it_load"]) <= 0,
        lambda f, m: "the rack draws no power: no slot holds a part with a load (an empty or zero-power rack)",
        "add a slot (slots[].part) with a compute_tray or server, or raise its slots[<id>].count above 0",
    ),
    FigureRule(
        "PWR005",
        "error",
        "power.architecture",
        lambda f, m: _bus_contradicts_architecture(f["limit.bus_voltage"], m.architecture),
        lambda f, m: (
            f"power.architecture {m.architecture} distributes "
            f"{'above' if m.architecture == 'hvdc-800v' else 'at most'} {SELV_V:g} V, but the bus carries "
            f"{float(f['limit.bus_voltage']):g} V"
        ),
        "match power.busbar to power.architecture: hvdc-800v-busbar for hvdc-800v, hpr-50v-busbar for orv3-48v",
    ),
    FigureRule(
        "PWR006",
        "error",
        "slots",
        lambda f, m: np.logical_or.reduce(
            [_mismatched(v, f["limit.bus_voltage"]) for _, v in _converter_sides(m)] + [np.asarray(False)]
        ),
        lambda f, m: _converter_message(f, m),
        "use converters whose bus side (input_voltage for hvdc-800v and ac-pdu, output_voltage for orv3-48v) matches "
        "the bus, e.g. hvdc-800v-to-50v-dcdc with hvdc-800v-busbar, or change power.architecture",
    ),
    FigureRule(
        "NET004",
        "error",
        "network.links",
        lambda f, m: np.asarray(f["network.scale_out_ports"]) > np.asarray(f["limit.scale_out_media"]),
        lambda f, m: (
            f"the scale-out NICs have {float(f['network.scale_out_ports']):,.0f} ports but only "
            f"{float(f['limit.scale_out_media']):,.0f} transceivers or cables of {SCALE_OUT_MIN_SPEED * 8e-9:g} Gb/s "
            f"or more leave the rack; a port without one carries nothing"
        ),
        "raise network.links[<id>].count of the scale-out transceivers or cables to the scale-out ports, or add a "
        "link (network.links[].part, e.g. nvidia-mms4x00-ns400, with a length) for them",
    ),
    FigureRule(
        "THM009",
        "error",
        "cooling.coolant_delta_t",
        lambda f, m: _gt(np.maximum(f["limit.coolant_return"], f["limit.air_outlet"]), LOOP_MAX_K),
        lambda f, m: (
            f"the coolant returns at {float(f['limit.coolant_return']) - 273.15:.1f} °C and the air leaves at "
            f"{float(f['limit.air_outlet']) - 273.15:.1f} degC; water boils at 100 °C (1 atm), where the "
            f"fluid property tables end"
        ),
        "lower cooling.facility_supply, cooling.tcs_supply, cooling.coolant_delta_t, cooling.air_inlet or "
        "cooling.air_delta_t",
    ),
]

#: The warmest coolant return or exhaust air the models represent: 100 °C, where water boils at 1 atm [K].
LOOP_MAX_K = 373.15
#: Relative deviation of a converter's bus-side voltage from the bus that breaks PWR006 (EN 50160 supply tolerance).
VOLTAGE_TOLERANCE = 0.10


def _bus_contradicts_architecture(bus_voltage, architecture: str):
    """orv3-48v distributes at SELV (≤ 60 V), hvdc-800v above it; ac-pdu's feed is not a DC bus."""
    if architecture == "ac-pdu":
        return np.asarray(False)
    above = np.asarray(bus_voltage) > SELV_V
    return above if architecture == "orv3-48v" else ~above


def _converter_sides(model: RackModel) -> list[tuple[str, float]]:
    """``(part id, voltage)`` of the bus side of each slot-mounted converter that states it: the output for a
    48 V bus (the converters feed it), the input for an 800 VDC bus or an AC feed (it feeds them)."""
    spec = "output_voltage" if model.architecture == "orv3-48v" else "input_voltage"
    parts = {item.part.id: item.part for item in model.items if item.mounted and item.part.kind in CONVERTER_KINDS}
    return [(part_id, voltage) for part_id, part in parts.items() if (voltage := part.value(spec)) is not None]


def _mismatched(voltage: float, bus_voltage):
    return np.abs(voltage - np.asarray(bus_voltage)) > VOLTAGE_TOLERANCE * np.asarray(bus_voltage)


def _converter_message(f, m) -> str:
    part_id, voltage = next((p, v) for p, v in _converter_sides(m) if _mismatched(v, f["limit.bus_voltage"]))
    side = "puts out" if m.architecture == "orv3-48v" else "takes"
    return (
        f"{part_id} {side} {voltage:g} V, but the {m.architecture} bus carries "
        f"{float(f['limit.bus_voltage']):g} V (more than {VOLTAGE_TOLERANCE:.0%} apart)"
    )


def figure_violations(model: RackModel, figures: dict) -> list[Violation]:
    """Violations of the figure rules for one evaluated design."""
    out = []
    for rule in FIGURE_RULES:
        if bool(np.any(rule.broken(figures, model))):
            out.append(Violation(rule.code, rule.severity, rule.path, rule.message(figures, model), rule.hint))
    return out


def figure_rule_masks(model: RackModel, figures: dict) -> dict[str, np.ndarray]:
    """Boolean mask per figure rule over a batch (True where broken)."""
    return {rule.code: np.asarray(rule.broken(figures, model)) for rule in FIGURE_RULES}


#: Fix hints of the structural rules (``{path}``, ``{i}``: the field and the index of the item that breaks it).
HINTS = {
    "DSN001": "use a part of kind {kinds} in {path}",
    "MEC004": "lower slots[{i}].position or slots[{i}].count",
    "MEC005": "move one of the slots (slots[{i}].position)",
    "MEC006": "use an enclosure of the part's pitch in enclosure (orv3-rack-44ou for OU parts, nvidia-mgx-rack-48u "
    "for U parts) or a part sized in the enclosure's units in slots[{i}].part",
    "MEC007": "use a part sized in OU in slots[{i}].part, or an enclosure of EIA units (nvidia-mgx-rack-48u) in "
    "enclosure; otherwise fit and count adapter brackets",
    "NET005": "use a transceiver or cable of at least the NIC port speed in network.links[{i}].part "
    "(e.g. nvidia-mms4x00-ns for 800 Gb/s)",
    "NET003": "use a part with more reach in network.links[{i}].part (an aec, aoc or optical medium) or shorten "
    "network.links[{i}].length",
}


def structural_violations(model: RackModel) -> list[Violation]:
    """Violations found in the design's structure (checked once per design)."""
    return _wrong_kinds(model) + _slot_layout(model) + _unit_pitch(model) + _link_reach(model) + _link_speed(model)


def _wrong_kinds(model: RackModel) -> list[Violation]:
    design, catalog = model.design, model.catalog
    wanted = [
        ("enclosure", design.enclosure, {"enclosure"}),
        ("power.busbar", design.power.busbar, {"busbar"}),
        ("power.sidecar", design.power.sidecar, {"power_sidecar"}),
        ("cooling.cdu.part", design.cooling.cdu.part if design.cooling.cdu else None, {"cdu"}),
        ("cooling.manifold", design.cooling.manifold, {"manifold", "cold_plate_loop"}),
    ]
    wanted += [(f"slots[{i}].part", s.part, MOUNTABLE_KINDS) for i, s in enumerate(design.slots)]
    wanted += [
        (f"network.links[{i}].part", link.part, {"cable", "transceiver"}) for i, link in enumerate(design.network.links)
    ]
    out = []
    for path, part_id, kinds in wanted:
        if part_id is None:
            continue
        part = catalog.get(part_id)
        if part.kind not in kinds:
            out.append(
                Violation(
                    "DSN001",
                    "error",
                    path,
                    f"{part_id} is a {part.kind}, which does not belong here",
                    HINTS["DSN001"].format(kinds=" or ".join(sorted(kinds)), path=path),
                )
            )
    return out


def _slot_spans(model: RackModel, slot_counts: Mapping[str, Array]) -> list[tuple[int, Slot, float, np.ndarray]]:
    """``(index, slot, lowest unit, top unit)`` of each positioned slot; tops are arrays where counts are."""
    pitch = design_limits(model)["unit_pitch"]
    spans = []
    for i, slot in enumerate(model.design.slots):
        count = slot_counts.get(slot.id, slot.count)
        height = model.slot_heights.get(slot.id, 0.0)
        if slot.position is None or height <= 0:
            continue
        spans.append(
            (i, slot, slot.position - 1.0, slot.position - 1 + np.asarray(count, dtype=float) * height / pitch)
        )
    return spans


def _design_slot_counts(model: RackModel) -> dict[str, float]:
    """Slot counts of the design file's own ``slots[<id>].count`` overrides."""
    return {
        path[6:-7]: value
        for path, value in model.base_overrides.items()
        if path.startswith("slots[") and path.endswith("].count")
    }


#: Structural rules that depend on slot counts (checked as masks when a batch overrides counts).
LAYOUT_CODES = ("MEC004", "MEC005")


def slot_layout_masks(model: RackModel, slot_counts: Mapping[str, Array]) -> dict[str, np.ndarray]:
    """MEC004 (a slot above the enclosure) and MEC005 (slots overlap) as masks over slot-count arrays."""
    limits = design_limits(model)
    available = limits["usable_height"] / limits["unit_pitch"]
    spans = _slot_spans(model, {**_design_slot_counts(model), **slot_counts})
    above, overlap = np.asarray(False), np.asarray(False)
    for k, (_, _, low, top) in enumerate(spans):
        if np.isfinite(available):
            above = above | (top > available + 1e-6)
        for _, _, other_low, other_top in spans[:k]:
            overlap = overlap | (
                (low < other_top - 1e-6) & (other_low < top - 1e-6) & (top > low) & (other_top > other_low)
            )
    return {"MEC004": above, "MEC005": overlap}


def _slot_layout(model: RackModel) -> list[Violation]:
    """Slots that overlap each other or stick out above the enclosure (with the design's slot-count overrides)."""
    limits = design_limits(model)
    available = limits["usable_height"] / limits["unit_pitch"]
    counts = _design_slot_counts(model)
    spans = _slot_spans(model, counts)
    out = []
    for k, (i, slot, low, top) in enumerate(spans):
        count = counts.get(slot.id, slot.count)
        if top <= low:
            continue
        if np.isfinite(available) and top > available + 1e-6:
            out.append(
                Violation(
                    "MEC004",
                    "error",
                    f"slots[{i}].position",
                    f"slot {slot.id!r} ({count:g} × {slot.part}) reaches unit {top:.1f}, above the "
                    f"enclosure's {available:.0f} units",
                    HINTS["MEC004"].format(i=i),
                )
            )
        for _, other, other_low, other_top in spans[:k]:
            if other_top > other_low and low < other_top - 1e-6 and other_low < top - 1e-6:
                out.append(
                    Violation(
                        "MEC005",
                        "error",
                        f"slots[{i}].position",
                        f"slot {slot.id!r} (units {slot.position}–{top:.1f}) overlaps slot {other.id!r} "
                        f"(units {other_low + 1:.0f}–{other_top:.1f})",
                        HINTS["MEC005"].format(i=i),
                    )
                )
    return out


def _link_reach(model: RackModel) -> list[Violation]:
    """Links longer than their medium's reach."""
    out = []
    for item in model.items:
        reach = item.part.value("reach")
        if item.link is None or reach is None or item.length <= reach:
            continue
        link = model.design.network.links[item.link]
        out.append(
            Violation(
                "NET003",
                "error",
                f"network.links[{item.link}].length",
                f"link {link.id!r} is {item.length:.2f} m long but {link.part} reaches {reach:.2f} m",
                HINTS["NET003"].format(i=item.link),
            )
        )
    return out


#: A height this close to a whole number of units (relative to one unit) mounts at that pitch.
PITCH_TOLERANCE = 0.02


def _whole_units(height: float, pitch: float) -> bool:
    units = height / pitch
    return abs(units - round(units)) <= PITCH_TOLERANCE and round(units) >= 1


def _unit_pitch(model: RackModel) -> list[Violation]:
    """Slot parts whose height is no whole number of the enclosure's units: an Open Rack sled does not fit 19-inch
    EIA rails (MEC006, error); 19-inch EIA gear in an Open Rack needs adapter brackets (MEC007, warning)."""
    pitch = design_limits(model)["unit_pitch"]
    name = pitch_name(pitch) or f"{pitch * 1000:g} mm unit"
    out = []
    for i, slot in enumerate(model.design.slots):
        height = model.slot_heights.get(slot.id, 0.0)
        if height <= 0 or _whole_units(height, pitch):
            continue
        fits = next((n for n, p in PITCHES.items() if _whole_units(height, p)), None)
        size = f"{height / PITCHES[fits]:.0f} {fits}" if fits else f"{height * 1000:.1f} mm"
        if fits == "U" and name == "OU":
            out.append(
                Violation(
                    "MEC007",
                    "warning",
                    f"slots[{i}].part",
                    f"{slot.part} is {size} (19-inch EIA) high in an Open Rack of 48 mm OU: it mounts "
                    f"only on 19-inch adapter brackets",
                    HINTS["MEC007"].format(i=i),
                )
            )
        else:
            out.append(
                Violation(
                    "MEC006",
                    "error",
                    f"slots[{i}].part",
                    f"{slot.part} is {size} high, {height / pitch:.2f} of the enclosure's {pitch * 1000:g} mm "
                    f"{name} pitch: it does not mount on the enclosure's rails",
                    HINTS["MEC006"].format(i=i),
                )
            )
    return out


def _scale_out_port_speed(model: RackModel) -> float:
    """The fastest scale-out NIC port in the rack [B/s] (0 when there is none)."""
    return max((item.part.value("port_speed", 0.0) for item in model.items if serves_scale_out(item.part)), default=0.0)


def _link_speed(model: RackModel) -> list[Violation]:
    """Scale-out links slower than the NIC ports they serve."""
    port_speed = _scale_out_port_speed(model)
    out = []
    for item in model.items:
        speed = item.part.value("speed", 0.0)
        if item.link is None or not item.leaves_rack or not SCALE_OUT_MIN_SPEED <= speed < port_speed:
            continue
        link = model.design.network.links[item.link]
        out.append(
            Violation(
                "NET005",
                "error",
                f"network.links[{item.link}].part",
                f"link {link.id!r} ({link.part}) runs at {speed * 8e-9:g} Gb/s but the scale-out NIC ports "
                f"run at {port_speed * 8e-9:g} Gb/s: the rack's scale-out bandwidth is cut to "
                f"{speed / port_speed:.0%}",
                HINTS["NET005"].format(i=item.link),
            )
        )
    return out


def all_violations(model: RackModel, figures: dict) -> list[Violation]:
    return structural_violations(model) + figure_violations(model, figures)


#: What each rule checks, in words that name no part: what a reader of a design's envelope is told of a violation
#: (docs/models.md#design-rules gives the same with the fields and ratings involved).
SUMMARIES = {
    "PWR001": "the IT load exceeds the power conversion capacity left after redundancy",
    "PWR002": "the rack has a load but no power shelf, DC-DC unit or PDU",
    "PWR003": "the busbar current exceeds the busbar's rating",
    "PWR004": "the rack draws no power at all",
    "PWR005": "the bus voltage contradicts the power architecture",
    "PWR006": "a converter's bus-side voltage is more than 10 % from the bus or feed voltage",
    "THM001": "the coolant flow exceeds the rack's share of the CDU's flow",
    "THM002": "the heat to liquid exceeds the rack's share of the CDU's capacity",
    "THM003": "the coolant flow exceeds the manifold's rating",
    "THM004": "the facility water leaves the CDU less than its approach temperature",
    "THM005": "the facility water is warmer than the CDU accepts",
    "THM006": "the heat left to room air exceeds what the enclosure's air path removes",
    "THM007": "heat goes to liquid but no CDU is named",
    "THM008": "the facility water is warmer than the rear-door heat exchanger accepts",
    "THM009": "the coolant return or exhaust air is above 100 °C",
    "MEC001": "the slots use more rack units than the enclosure has",
    "MEC002": "the equipment weighs more than the enclosure's payload rating",
    "MEC003": "the floor load exceeds the floor rating",
    "MEC004": "a slot reaches above the enclosure's usable height",
    "MEC005": "two positioned slots overlap",
    "NET001": "the accelerators have more scale-up links than the scale-up switches have ports",
    "NET002": "scale-up switch ports are left unused",
    "NET003": "a link is longer than its cable's or transceiver's reach",
    "NET004": "scale-out NIC ports outnumber the transceivers or cables that leave the rack",
    "NET005": "a scale-out link is slower than the NIC ports it serves",
    "MEC006": "a part's height is not a whole number of the enclosure's mounting units",
    "MEC007": "19-inch EIA equipment in an Open Rack needs adapter brackets",
    "DSN001": "a field names a part of the wrong kind",
}
