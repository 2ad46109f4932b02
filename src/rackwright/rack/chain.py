"""RackChain: compose the pure models into a rack evaluation (in the style of pvlib's ModelChain).

Three steps, the same for one design or a million variants:

1. **Resolve** the design against the catalog into *line items* (every part in
   the rack after exploding assemblies, with counts and SI attributes) and
   *parameters* (design-level SI scalars such as the facility water temperature).
2. **Aggregate** the line items into rack sums (``Σ count · attribute``). Items
   that no override touches are summed once into scalars; only overridden items
   are re-summed over the override arrays, so a batch costs a few array
   operations per figure, not a Python loop per design.
3. **Model**: the functions of :mod:`rackwright.models` turn sums and
   parameters into the report's figures (see :mod:`rackwright.rack.figures`).

Overrides (``evaluate_batch`` and a design's ``overrides:``) name a path:

* ``parts.<kind or part id>.<spec>`` — a spec of every matching part, e.g.
  ``parts.accelerator.power`` or ``parts.nvidia-b200-gb200.power``;
* ``slots[<slot id>].count`` — the number of units in a slot;
* a design parameter, e.g. ``cooling.facility_supply`` (see :data:`PARAMETERS`);
* ``sourcing.<category, kind or part id>.origin`` — where the matching parts are
  assembled (``US`` counts as domestic, any other country as imported, ``catalog`` as the
  catalog says; 1.0/0.0/NaN in batches), and ``sourcing.<...>.price_change`` — a relative price change such as
  ``"+15%"`` (the premium of a US source; 0.15 in batches).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import reduce
from typing import Any

import numpy as np

from ..catalog import Catalog, Part, load_catalog
from ..catalog.specs import CATEGORIES, PEAK_FLOPS_KEYS, SPEC_FIELDS
from ..errors import InputError, Problem
from ..models import Array, cabling, cost, mechanical, network, power, reliability, sourcing, thermal
from ..units import UnitError, parse_quantity
from ..validity import DOMAINS, OutOfDomain, require
from .design import W_CLASSES, LoadedDesign

CONVERTER_KINDS = ("power_shelf", "dc_dc", "pdu")
#: Safety extra-low voltage (IEC 61140, DC): a rack bus at or below it is the converters' output (48/50 V ORv3),
#: one above it their input (800 VDC) [V].
SELV_V = 60.0
#: Nominal distribution voltage by architecture when the busbar part gives none [V].
DEFAULT_BUS_VOLTAGE = {"orv3-48v": 48.0, "hvdc-800v": 800.0, "ac-pdu": 415.0}
#: Slowest link that counts as scale-out medium: AI scale-out fabrics run 100-800 Gb/s per port, management and
#: console links 1-10 Gb/s (IEEE 802.3 Ethernet rates) [B/s, 100 Gb/s].
SCALE_OUT_MIN_SPEED = 100e9 / 8
#: Coolant density for the mass of coolant held in the rack [kg/m³] (water ≈ 994, PG25 ≈ 1,020 at 35 °C).
COOLANT_DENSITY = {"water": 994.0, "pg25": 1020.0}

#: Design parameters that models read (overridable by path), with their quantity (a key of
#: :data:`rackwright.validity.DOMAINS`, which gives the dimension and the domain of validity).
PARAMETERS: dict[str, str] = {
    "cooling.facility_supply": "temperature",
    "cooling.tcs_supply": "temperature",
    "cooling.coolant_delta_t": "temperature_difference",
    "cooling.air_inlet": "temperature",
    "cooling.air_delta_t": "temperature_difference",
    "power.power_factor": "power_factor",
    "power.feed_voltage": "voltage",
    "floor_rating": "area_density",
    "network.scale_up.racks": "positive_count",
}

OVERRIDE_HINT = (
    "use parts.<kind|id>.<spec>, slots[<id>].count, sourcing.<category|kind|id>.origin|price_change "
    'or a design parameter, with a value like "1300 W"'
)
_SLOT_PATH = re.compile(r"^slots\[([^\]]+)\]\.count$")
_PART_PATH = re.compile(r"^parts\.([^.]+)\.([a-z_]+(?:\.[a-z0-9_]+)?)$")
_SOURCING_PATH = re.compile(r"^sourcing\.([^.]+)\.(origin|price_change)$")
#: Sourcing override names → the line-item attribute they set.
SOURCING_ATTRIBUTES = {"origin": "us_origin", "price_change": "price_change"}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PERCENT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*%\s*$")


@dataclass
class LineItem:
    """One part in the rack: ``per_slot_unit`` of it in each unit of ``slot`` (or ``count`` in all)."""

    part: Part
    per_slot_unit: float
    slot: str | None
    slot_count: float
    length: float = 0.0  # links: cable length [m]
    share: float = 1.0  # shared equipment (an in-row CDU): this rack's share of its cost
    mounted: bool = False  # occupies rack height (a slot's top-level part)
    in_rack: bool = True  # False for row-level equipment that only adds its cost share
    liquid_fraction: float | None = None  # the design's override of the part's liquid fraction
    path: tuple[str, ...] = ()  # ids of the assemblies that contain this part, outermost first
    link: int | None = None  # index in network.links for cables and transceivers
    leaves_rack: bool = False  # links: given a length rather than routed between two of the rack's slots

    @property
    def count(self) -> float:
        return self.per_slot_unit * self.slot_count


#: Ratings the rules compare with: name → (role of the part that carries it, spec, default).
#: Roles: the design's enclosure, busbar, CDU, manifold, and its rear doors (the strictest applies).
LIMITS: dict[str, tuple[str, str, float]] = {
    "unit_pitch": ("enclosure", "unit_pitch", mechanical.PITCHES["U"]),
    "usable_height": ("enclosure", "usable_height", np.nan),
    "air_capacity": ("enclosure", "air_capacity", np.nan),
    "max_payload": ("enclosure", "max_payload", np.nan),
    "enclosure_weight": ("enclosure", "weight", 0.0),
    "width": ("enclosure", "width", 0.6),
    "depth": ("enclosure", "depth", 1.2),
    "busbar_current": ("busbar", "current_rating", np.nan),
    "busbar_voltage": ("busbar", "output_voltage", np.nan),
    "cdu_capacity": ("cdu", "capacity", np.nan),
    "cdu_approach": ("cdu", "approach", np.nan),
    "cdu_max_flow": ("cdu", "max_flow", np.nan),
    "cdu_max_facility_supply": ("cdu", "max_facility_supply", np.nan),
    "manifold_max_flow": ("manifold", "max_flow", np.nan),
    "rear_door_max_facility_supply": ("rear_door", "max_facility_supply", np.nan),
}
#: CDU approach assumed when the design names no CDU [K] (typical liquid-to-liquid CDU, 3-5 K).
DEFAULT_CDU_APPROACH_K = 3.0
#: Specs of line items read as they are, 0 where a part lacks them.
PLAIN_SPECS = (
    "hbm",
    "hbm_bandwidth",
    "scale_up_bandwidth",
    "scale_up_links",
    "ports",
    "port_speed",
    "energy",
    "efficiency",
    "capacity",
)
#: Specs of line items that the models read (and so may be overridden).
ITEM_SPECS = {"power", "liquid_fraction", "weight", "coolant_volume", "height", *PLAIN_SPECS}


@dataclass
class RackModel:
    """A design resolved against the catalog: line items, parameters and limits."""

    loaded: LoadedDesign
    catalog: Catalog
    items: list[LineItem]
    params: dict[str, float]
    limit_parts: dict[str, list[Part]]
    fluid: str
    architecture: str
    redundancy: str
    slot_heights: dict[str, float] = field(default_factory=dict)
    base_overrides: dict[str, float] = field(default_factory=dict)  # the design file's overrides, SI

    @property
    def design(self):
        return self.loaded.design


# --- step 1: resolve -----------------------------------------------------------------


def resolve(loaded: LoadedDesign, catalog: Catalog | None = None) -> RackModel:
    """Resolve a loaded design against the catalog; unknown parts raise :class:`InputError`."""
    catalog = catalog or load_catalog()
    design = loaded.design
    problems: list[Problem] = []

    def get(part_id: str, *loc) -> Part | None:
        if part_id in catalog:
            return catalog.get(part_id)
        problems.append(loaded.problem(f"unknown part {part_id!r}", loc, catalog.suggest(part_id)))
        return None

    items: list[LineItem] = []
    slot_heights: dict[str, float] = {}
    for i, slot in enumerate(design.slots):
        part = get(slot.part, "slots", i, "part")
        if part is None:
            continue
        slot_heights[slot.id] = part.value("height", 0.0)
        for child, per_unit, path in catalog.explode(part.id):
            items.append(LineItem(child, per_unit, slot.id, float(slot.count), mounted=not path, path=path))
    enclosure = get(design.enclosure, "enclosure")
    pitch = enclosure.value("unit_pitch", mechanical.PITCHES["U"]) if enclosure else mechanical.PITCHES["U"]
    for i, link in enumerate(design.network.links):
        part = get(link.part, "network", "links", i, "part")
        for end in ("from_slot", "to_slot"):
            if getattr(link, end) is not None and getattr(link, end) not in slot_heights:
                problems.append(
                    loaded.problem(
                        f"no slot {getattr(link, end)!r} to route to",
                        ("network", "links", i, end),
                        f"one of: {', '.join(slot_heights)}",
                    )
                )
        if part is not None and not problems:
            items.append(
                LineItem(
                    part,
                    1.0,
                    None,
                    float(link.count),
                    link=i,
                    leaves_rack=link.from_slot is None,
                    length=_link_length(link, design, slot_heights, pitch),
                )
            )
    busbar = get(design.power.busbar, "power", "busbar") if design.power.busbar else None
    cdu = get(design.cooling.cdu.part, "cooling", "cdu", "part") if design.cooling.cdu else None
    manifold = get(design.cooling.manifold, "cooling", "manifold") if design.cooling.manifold else None
    if design.power.sidecar:
        get(design.power.sidecar, "power", "sidecar")
    if problems:
        raise InputError(loaded.file, problems)

    for part in (enclosure, busbar, manifold):
        if part is not None:
            items.extend(LineItem(child, n, None, 1.0, path=path) for child, n, path in catalog.explode(part.id))
    cdu_spec = design.cooling.cdu
    if cdu is not None and cdu_spec is not None and cdu_spec.placement == "in-row":
        share = cdu_spec.count / cdu_spec.racks_served
        items.extend(
            LineItem(child, n, None, 1.0, share=share, in_rack=False, path=path)
            for child, n, path in catalog.explode(cdu.id)
        )
    _apply_liquid_fractions(items, design.cooling.liquid_fraction)

    rated: dict[str, list[Part | None]] = {
        "enclosure": [enclosure],
        "busbar": [busbar],
        "cdu": [cdu],
        "manifold": [manifold],
        "rear_door": [i.part for i in items if i.part.kind == "rear_door_hx"],
    }
    limit_parts = {role: [p for p in parts if p is not None] for role, parts in rated.items()}
    model = RackModel(
        loaded,
        catalog,
        items,
        _parameters(loaded),
        limit_parts,
        design.cooling.fluid,
        design.power.architecture,
        design.power.redundancy,
        slot_heights,
    )
    model.base_overrides = _design_overrides(loaded)
    return model


def _link_length(link, design, slot_heights, pitch) -> float:
    """A link's given length, or its route between the centres of two slots [m]."""
    if link.length is not None:
        return parse_quantity(link.length, "length")
    z = {s.id: _slot_centre(s, slot_heights[s.id], pitch) for s in design.slots if s.id in slot_heights}
    return float(cabling.routed_length(z[link.from_slot], z[link.to_slot]))


def _slot_centre(slot, part_height: float, pitch: float) -> float:
    """Height [m] of a slot's centre above the rack floor; position 1 is the lowest mounting unit."""
    if slot.position is None:
        return 0.0
    return (slot.position - 1) * pitch + slot.count * part_height / 2.0


def _apply_liquid_fractions(items: list[LineItem], fractions: Mapping[str, float]) -> None:
    """Design-level liquid fractions (by kind or part id) replace the catalog's."""
    for item in items:
        for selector in (item.part.kind, item.part.id):
            if selector in fractions:
                item.liquid_fraction = fractions[selector]


def facility_supply_temperature(value: str) -> float:
    """An ASHRAE W-class (its warmest supply) or a temperature, in K."""
    if value in W_CLASSES:
        return W_CLASSES[value] + 273.15
    return parse_quantity(value, "temperature")


def _parameters(loaded: LoadedDesign) -> dict[str, float]:
    """The design's own parameters in SI (the TCS supply only where the design sets it)."""
    design = loaded.design
    cooling = design.cooling
    feed = design.power.feed_voltage
    params = {
        "cooling.facility_supply": facility_supply_temperature(cooling.facility_supply),
        "cooling.coolant_delta_t": parse_quantity(cooling.coolant_delta_t, "temperature_difference"),
        "cooling.air_inlet": parse_quantity(cooling.air_inlet, "temperature"),
        "cooling.air_delta_t": parse_quantity(cooling.air_delta_t, "temperature_difference"),
        "cooling.cdu_share": cooling.cdu.count / cooling.cdu.racks_served if cooling.cdu else 1.0,
        "power.power_factor": design.power.power_factor,
        "power.feed_voltage": parse_quantity(feed, "voltage")
        if feed
        else DEFAULT_BUS_VOLTAGE[design.power.architecture],
        "floor_rating": parse_quantity(design.floor_rating, "area_density"),
        "network.scale_up.racks": float(design.network.scale_up.racks),
    }
    if cooling.tcs_supply:
        params["cooling.tcs_supply"] = parse_quantity(cooling.tcs_supply, "temperature")
    return params


def _design_overrides(loaded: LoadedDesign) -> dict[str, float]:
    """The design file's ``overrides:`` (unit strings) as SI values by path."""
    parsed = {}
    for path, value in loaded.design.overrides.items():
        try:
            parsed[path] = parse_override(path, value)
        except (UnitError, KeyError, ValueError) as exc:
            hint = exc.why if isinstance(exc, OutOfDomain) else OVERRIDE_HINT
            raise InputError(loaded.file, [loaded.problem(exc.args[0], ("overrides", path), hint)]) from None
    return parsed


def override_quantity(path: str) -> str | None:
    """The quantity of an override path's values: a key of :data:`rackwright.validity.DOMAINS`.

    ``None`` when the path is not an override path at all; ``KeyError`` for a part path
    naming an unknown spec, ``ValueError`` for a text spec.
    """
    if path in PARAMETERS:
        return PARAMETERS[path]
    if _SLOT_PATH.match(path):
        return "count"
    if sourcing_match := _SOURCING_PATH.match(path):
        return sourcing_match.group(2)
    match = _PART_PATH.match(path)
    if not match:
        return None
    spec = match.group(2).split(".")[0]
    if spec not in SPEC_FIELDS:
        raise KeyError(f"unknown spec {spec!r} in {path!r}")
    if SPEC_FIELDS[spec].dimension == "text":
        raise ValueError(f"{path!r} is a text spec and cannot be overridden with a number")
    return SPEC_FIELDS[spec].quantity


def override_dimension(path: str) -> str | None:
    """The dimension an override path's values are read in (``"power"``, ``"dimensionless"``, ``"origin"``, ...)."""
    quantity = override_quantity(path)
    return None if quantity is None else DOMAINS[quantity].dimension


def parse_override(path: str, value) -> float:
    """An override value (unit string or number) as SI, checked against the path's dimension and domain."""
    quantity = override_quantity(path)
    if quantity is None:
        raise KeyError(f"unknown override path {path!r}")
    dimension = DOMAINS[quantity].dimension
    if path == "cooling.facility_supply" and isinstance(value, str):
        return require(quantity, facility_supply_temperature(value))
    if dimension in ("origin", "price_change"):
        return require(quantity, _sourcing_value(dimension, value))
    return require(quantity, parse_quantity(value, dimension))


def _sourcing_value(name: str, value) -> float:
    """``origin``: a country code → 1.0 for US, 0.0 for imported, ``catalog`` → NaN (the catalog's origin);
    ``price_change``: ``"+15%"`` → 0.15."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "origin":
        if number and (value in (0, 1) or np.isnan(value)):
            return float(value)
        if value == "catalog":
            return float("nan")
        if isinstance(value, str) and _COUNTRY.match(value):
            return 1.0 if value == "US" else 0.0
        raise ValueError(f"origin {value!r} is not a two-letter country code such as US, TW, MX, or catalog")
    if number:
        return float(value)
    match = _PERCENT.match(str(value))
    if not match:
        raise ValueError(f'price change {value!r} is not a change like "+15%" or a fraction like 0.15')
    return float(match.group(1)) / 100.0


# --- step 2: aggregate -----------------------------------------------------------------


@dataclass
class RackSums:
    """Rack sums ``Σ count · contribution`` over the line items, the inputs of the model steps (SI; floats, or
    arrays of a batch's shape where an override touches the items summed)."""

    # power
    it_load: Array = 0.0  # rated power of the in-rack parts [W]
    converters: Array = 0.0  # slot-mounted power shelves, DC-DC units and PDUs
    converter_capacity: Array = 0.0  # their output capacity [W]
    converter_capacity_efficiency: Array = 0.0  # Σ capacity · efficiency [W]
    bbu_energy: Array = 0.0  # stored battery energy [J]
    bbu_energy_efficiency: Array = 0.0  # Σ energy · discharge efficiency [J]
    # thermal
    liquid_heat: Array = 0.0  # Σ power · liquid fraction [W]
    rear_door_capacity: Array = 0.0  # [W]
    # mechanical
    height: Array = 0.0  # of the mounted parts [m]
    weight: Array = 0.0  # coolant included [kg]
    # compute and network
    accelerators: Array = 0.0
    cpus: Array = 0.0
    hbm: Array = 0.0  # [B]
    hbm_bandwidth: Array = 0.0  # [B/s]
    peak_flops: dict[str, Array] = field(default_factory=dict)  # [FLOP/s] by precision key
    scale_up_bandwidth: Array = 0.0  # both directions [B/s]
    scale_up_links: Array = 0.0
    scale_up_switch_ports: Array = 0.0
    scale_out_ports: Array = 0.0
    scale_out_rate: Array = 0.0  # Σ ports · port speed, one direction [B/s]
    front_end_ports: Array = 0.0
    # cabling
    cable_length: Array = 0.0  # [m]
    cables: dict[str, Array] = field(default_factory=dict)  # cables and transceivers by medium
    scale_out_media: Array = 0.0  # links that leave the rack at scale-out speed
    # cost, sourcing and reliability (cost counts the row equipment's shares too)
    cost: Array = 0.0  # [USD]
    cost_us: Array = 0.0  # of the US-made parts [USD]
    cost_by_category: dict[str, Array] = field(default_factory=dict)  # [USD]
    cost_us_by_category: dict[str, Array] = field(default_factory=dict)  # [USD]
    lead_time: float = 0.0  # the longest of the parts present [weeks]
    failure_rate: Array = 0.0  # [1/h]


def _unit_attributes(
    item: LineItem, catalog: Catalog, overrides: Mapping[str, Mapping[str, Array]]
) -> dict[str, Array]:
    """SI attributes of one unit of the item by spec name (arrays where an override gives arrays)."""
    part = item.part
    attrs: dict[str, Array] = {
        "power": part.value("power", 0.0),
        "liquid_fraction": part.value("liquid_fraction", 0.0) if item.liquid_fraction is None else item.liquid_fraction,
        "weight": part.value("weight", 0.0),
        "price": part.price_usd,
        "failure_rate": reliability.failure_rate(part.afr, part.mtbf_h),
        "coolant_volume": part.value("coolant_volume", 0.0),
        "height": part.value("height", 0.0),
        "us_origin": 1.0 if part.origin.assembled_in == "US" else 0.0,
        "price_change": 0.0,
    }
    for key, rate in part.peak_flops.items():
        attrs[f"peak_flops.{key}"] = rate
    for name in PLAIN_SPECS:
        attrs[name] = part.value(name, 0.0)
    if part.kind in CONVERTER_KINDS:
        attrs["capacity"], attrs["efficiency"] = _converter_rating(part, catalog)
    for selector in (part.category, part.kind, part.id):  # the most specific selector wins
        for spec, value in overrides.get(selector, {}).items():
            # an origin of NaN ("catalog") keeps the catalog's origin
            attrs[spec] = np.where(np.isnan(value), attrs[spec], value) if spec == "us_origin" else value
    return attrs


def _converter_rating(part: Part, catalog: Catalog) -> tuple[float, float]:
    """Output capacity [W] and efficiency of a shelf/DC-DC/PDU: its own specs, else its PSUs'."""
    psus = [(catalog.get(c.part), c.count) for c in part.contains if catalog.get(c.part).kind == "psu"]
    capacity = part.value("capacity") or sum(p.value("capacity", 0.0) * n for p, n in psus)
    efficiency = part.value("efficiency") or (psus[0][0].value("efficiency", 1.0) if psus else 1.0)
    return capacity, efficiency


def serves_scale_out(part: Part) -> bool:
    """A NIC or DPU whose ports serve the scale-out fabric (its ``fabric`` spec: scale-out by default for a NIC,
    front-end for a DPU)."""
    default = "scale-out" if part.kind == "nic" else "front-end"
    return part.kind in ("nic", "dpu") and part.text("fabric", default) == "scale-out"


def _add_item(sums: RackSums, item: LineItem, a: Mapping[str, Array], n: Array, fluid: str) -> None:
    """Add ``n`` units of the item, with unit attributes ``a``, to the rack sums."""
    part = item.part
    kind = part.kind
    price = a["price"] * (1.0 + a["price_change"]) * item.share
    sums.cost = _plus(sums.cost, n * price)
    sums.cost_us = _plus(sums.cost_us, n * (price * a["us_origin"]))
    _plus_at(sums.cost_by_category, part.category, n * price)
    _plus_at(sums.cost_us_by_category, part.category, n * (price * a["us_origin"]))
    if not item.in_rack:
        return
    sums.it_load = _plus(sums.it_load, n * a["power"])
    sums.liquid_heat = _plus(sums.liquid_heat, n * (a["power"] * a["liquid_fraction"]))
    sums.weight = _plus(sums.weight, n * (a["weight"] + a["coolant_volume"] * COOLANT_DENSITY[fluid]))
    sums.failure_rate = _plus(sums.failure_rate, n * a["failure_rate"])
    if item.mounted:
        sums.height = _plus(sums.height, n * a["height"])
    if kind == "accelerator":
        sums.accelerators = _plus(sums.accelerators, n * 1.0)
        sums.hbm = _plus(sums.hbm, n * a["hbm"])
        sums.hbm_bandwidth = _plus(sums.hbm_bandwidth, n * a["hbm_bandwidth"])
        sums.scale_up_bandwidth = _plus(sums.scale_up_bandwidth, n * a["scale_up_bandwidth"])
        sums.scale_up_links = _plus(sums.scale_up_links, n * a["scale_up_links"])
        for name, rate in a.items():
            if name.startswith("peak_flops."):
                _plus_at(sums.peak_flops, name.split(".", 1)[1], n * rate)
    elif kind == "cpu":
        sums.cpus = _plus(sums.cpus, n * 1.0)
    elif kind in ("nic", "dpu"):
        if serves_scale_out(part):
            sums.scale_out_ports = _plus(sums.scale_out_ports, n * a["ports"])
            sums.scale_out_rate = _plus(sums.scale_out_rate, n * (a["ports"] * a["port_speed"]))
        else:
            sums.front_end_ports = _plus(sums.front_end_ports, n * a["ports"])
    elif kind == "scale_up_switch_tray":
        sums.scale_up_switch_ports = _plus(sums.scale_up_switch_ports, n * a["ports"])
    elif kind == "rear_door_hx":
        sums.rear_door_capacity = _plus(sums.rear_door_capacity, n * a["capacity"])
    elif kind in CONVERTER_KINDS and not item.path:
        sums.converters = _plus(sums.converters, n * 1.0)
        sums.converter_capacity = _plus(sums.converter_capacity, n * a["capacity"])
        sums.converter_capacity_efficiency = _plus(
            sums.converter_capacity_efficiency, n * (a["capacity"] * a["efficiency"])
        )
    elif kind == "bbu":
        sums.bbu_energy = _plus(sums.bbu_energy, n * a["energy"])
        sums.bbu_energy_efficiency = _plus(sums.bbu_energy_efficiency, n * (a["energy"] * (a["efficiency"] or 1.0)))
    if item.link is not None:
        _plus_at(sums.cables, part.text("media", kind), n * 1.0)
        sums.cable_length = _plus(sums.cable_length, n * (item.length if kind == "cable" else 0.0))
        scale_out = item.leaves_rack and part.value("speed", 0.0) >= SCALE_OUT_MIN_SPEED
        sums.scale_out_media = _plus(sums.scale_out_media, n * (1.0 if scale_out else 0.0))


def aggregate(
    model: RackModel, part_overrides: Mapping[str, Mapping[str, Array]], slot_counts: Mapping[str, Array]
) -> RackSums:
    """Rack sums ``Σ count · contribution`` over line items; overridden items are summed as arrays."""
    sums = RackSums()
    for item in model.items:
        selectors = (item.part.category, item.part.kind, item.part.id)
        slot_count = slot_counts.get(item.slot) if item.slot is not None else None
        touched = slot_count is not None or any(s in part_overrides for s in selectors)
        attrs = _unit_attributes(item, model.catalog, part_overrides if touched else {})
        count = item.count if slot_count is None else item.per_slot_unit * slot_count
        _add_item(sums, item, attrs, count, model.fluid)
        if item.count > 0:
            sums.lead_time = max(sums.lead_time, item.part.lead_time_weeks)
    return sums


def _plus(total: Array, term: Array) -> Array:
    """``total + term``: the term itself while the total is the sum's initial 0.0, then in place once the total
    is an array of the batch's shape (a fresh product owned by its sum: one allocation per sum)."""
    if isinstance(total, np.ndarray):
        if total.dtype.kind == "f" and np.shape(term) in ((), total.shape):
            return np.add(total, term, out=total)
        return total + term
    return term if total == 0.0 else total + term


def _plus_at(sums: dict[str, Array], key: str, term: Array) -> None:
    """``sums[key] += term`` (the term itself for a new key)."""
    sums[key] = _plus(sums[key], term) if key in sums else term


def effective_limits(model: RackModel, part_overrides: Mapping[str, Mapping[str, Array]]) -> dict[str, Array]:
    """Ratings of the design's enclosure, busbar, CDU, manifold and rear doors, with overrides applied."""
    limits: dict[str, Array] = {}
    for name, (role, spec, default) in LIMITS.items():
        values: list[Array] = []
        for part in model.limit_parts[role]:
            value: Array = part.value(spec, default)
            for selector in (part.kind, part.id):
                value = part_overrides.get(selector, {}).get(spec, value)
            values.append(value)
        limits[name] = reduce(np.minimum, values) if len(values) > 1 else values[0] if values else default
    return limits


def design_limits(model: RackModel) -> dict[str, float]:
    """The ratings of the design as it is (no batch overrides), one float each."""
    return {name: float(value) for name, value in effective_limits(model, {}).items()}


# --- step 3: models --------------------------------------------------------------------

#: The model steps, by the figure section each one fills: a function from its typed inputs to its typed result
#: (:mod:`rackwright.models`). ``RackChain(..., steps={"thermal": my_thermal_step})`` swaps one for a run.
STEPS: dict[str, Callable[[Any], Any]] = {
    "power": power.power_step,
    "thermal": thermal.thermal_step,
    "mechanical": mechanical.mechanical_step,
    "network": network.network_step,
    "cabling": cabling.cabling_step,
    "cost": cost.cost_step,
    "sourcing": sourcing.sourcing_step,
    "reliability": reliability.reliability_step,
}


@dataclass(frozen=True)
class ModelSteps:
    """The steps one chain runs (:data:`STEPS`, some perhaps swapped), each typed by its inputs and result."""

    power: Callable[[power.PowerInputs], power.PowerResult]
    thermal: Callable[[thermal.ThermalInputs], thermal.ThermalResult]
    mechanical: Callable[[mechanical.MechanicalInputs], mechanical.MechanicalResult]
    network: Callable[[network.NetworkInputs], network.NetworkResult]
    cabling: Callable[[cabling.CablingInputs], cabling.CablingResult]
    cost: Callable[[cost.CostInputs], cost.CostResult]
    sourcing: Callable[[sourcing.SourcingInputs], sourcing.SourcingResult]
    reliability: Callable[[reliability.ReliabilityInputs], reliability.ReliabilityResult]


def figures_of(section: str, result: Any) -> dict[str, Array]:
    """A step's typed result as figures: ``section.field``, and ``section.field:key`` for each key of a mapping."""
    out: dict[str, Array] = {}
    for f in fields(result):
        value = getattr(result, f.name)
        if isinstance(value, dict):
            out.update({f"{section}.{f.name}:{key}": v for key, v in value.items()})
        else:
            out[f"{section}.{f.name}"] = value
    return out


def _bus_voltage(model: RackModel, params: Mapping[str, Array], limits: Mapping[str, Array]) -> Array:
    """The rack bus: the AC feed's line voltage, the busbar's voltage, else the architecture's nominal one [V]."""
    if model.architecture == "ac-pdu":
        return params["power.feed_voltage"]
    return np.where(
        np.isfinite(limits["busbar_voltage"]), limits["busbar_voltage"], DEFAULT_BUS_VOLTAGE[model.architecture]
    )


def run_models(
    model: RackModel,
    sums: RackSums,
    params: Mapping[str, Array],
    limits: Mapping[str, Array],
    steps: ModelSteps | None = None,
) -> dict[str, Array]:
    """Figures (SI) from rack sums, parameters and ratings: each step of ``steps`` (the built-in :data:`STEPS`
    by default) on its typed inputs, in order (thermal takes the power step's input power).

    The ratings and the parameters the rules need are returned too, as ``limit.*`` entries.
    """
    steps = steps or ModelSteps(**STEPS)
    bus_voltage = _bus_voltage(model, params, limits)
    powered = steps.power(
        power.PowerInputs(
            it_load=sums.it_load,
            converters=sums.converters,
            capacity=sums.converter_capacity,
            capacity_efficiency=sums.converter_capacity_efficiency,
            bbu_energy=sums.bbu_energy,
            bbu_energy_efficiency=sums.bbu_energy_efficiency,
            redundancy=model.redundancy,
            bus_voltage=bus_voltage,
            # a bus above SELV (60 V) sits upstream of the in-rack converters and carries their input
            bus_carries_input=np.asarray(bus_voltage) > SELV_V,
            three_phase=model.architecture == "ac-pdu",
            power_factor=params["power.power_factor"],
        )
    )
    approach = np.where(np.isfinite(limits["cdu_approach"]), limits["cdu_approach"], DEFAULT_CDU_APPROACH_K)
    cooled = steps.thermal(
        thermal.ThermalInputs(
            input_power=powered.input,
            liquid_heat=sums.liquid_heat,
            rear_door_capacity=sums.rear_door_capacity,
            fluid=model.fluid,
            facility_supply=params["cooling.facility_supply"],
            tcs_supply=params.get("cooling.tcs_supply", params["cooling.facility_supply"] + approach),
            coolant_delta_t=params["cooling.coolant_delta_t"],
            air_inlet=params["cooling.air_inlet"],
            air_delta_t=params["cooling.air_delta_t"],
            cdu_capacity=limits["cdu_capacity"],
            cdu_share=params["cooling.cdu_share"],
        )
    )
    domain = model.design.network.scale_up.domain
    results = {
        "power": powered,
        "thermal": cooled,
        "mechanical": steps.mechanical(
            mechanical.MechanicalInputs(
                height=sums.height,
                weight=sums.weight,
                unit_pitch=limits["unit_pitch"],
                usable_height=limits["usable_height"],
                width=limits["width"],
                depth=limits["depth"],
            )
        ),
        "network": steps.network(
            network.NetworkInputs(
                accelerators=sums.accelerators,
                scale_up_racks=params["network.scale_up.racks"],
                scale_up_domain=np.nan if domain is None else float(domain),
                scale_up_bandwidth=sums.scale_up_bandwidth,
                scale_out_ports=sums.scale_out_ports,
                scale_out_rate=sums.scale_out_rate,
                front_end_ports=sums.front_end_ports,
            )
        ),
        "cabling": steps.cabling(cabling.CablingInputs(length=sums.cable_length, cables=sums.cables)),
        "cost": steps.cost(cost.CostInputs(bom=sums.cost, accelerators=sums.accelerators)),
        "sourcing": steps.sourcing(
            sourcing.SourcingInputs(
                us_cost=sums.cost_us,
                cost=sums.cost,
                lead_time=sums.lead_time,
                by_category={
                    category: (sums.cost_us_by_category[category], sums.cost_by_category[category])
                    for category in CATEGORIES
                    if category in sums.cost_by_category
                },
            )
        ),
        "reliability": steps.reliability(reliability.ReliabilityInputs(failure_rate=sums.failure_rate)),
    }
    figures: dict[str, Array] = {
        "compute.accelerators": sums.accelerators,
        "compute.cpus": sums.cpus,
        "compute.hbm": sums.hbm,
        "compute.hbm_bandwidth": sums.hbm_bandwidth,
    }
    figures.update(
        {f"compute.peak_flops:{key}": sums.peak_flops[key] for key in PEAK_FLOPS_KEYS if key in sums.peak_flops}
    )
    for section, result in results.items():
        figures.update(figures_of(section, result))
    # what the rules compare with
    figures.update({f"limit.{name}": value for name, value in limits.items()})
    figures.update(
        {
            "limit.floor_rating": params["floor_rating"],
            "limit.cdu_share": params["cooling.cdu_share"],
            "limit.scale_up_racks": params["network.scale_up.racks"],
            "limit.scale_up_links": sums.scale_up_links,
            "limit.scale_up_switch_ports": sums.scale_up_switch_ports,
            "limit.scale_out_media": sums.scale_out_media,
            "limit.bus_voltage": bus_voltage,
            "limit.coolant_return": cooled.tcs_supply + params["cooling.coolant_delta_t"],
            "limit.air_outlet": params["cooling.air_inlet"] + params["cooling.air_delta_t"],
        }
    )
    return figures


# --- the chain -------------------------------------------------------------------------


def split_overrides(
    model: RackModel, overrides: Mapping[str, Array]
) -> tuple[dict[str, Array], dict[str, dict[str, Array]], dict[str, Array]]:
    """Parameters, part overrides (selector → spec → value) and slot counts; unknown paths raise ``KeyError``."""
    params: dict[str, Array] = dict(model.params)
    parts: dict[str, dict[str, Array]] = {}
    slots: dict[str, Array] = {}
    in_design = [i.part for i in model.items] + [p for ps in model.limit_parts.values() for p in ps]
    selectors = {p.kind for p in in_design} | {p.id for p in in_design}
    slot_ids = {slot.id for slot in model.design.slots}
    limit_specs = {spec for _, spec, _ in LIMITS.values()}
    for path, value in overrides.items():
        if path in PARAMETERS:
            params[path] = value
        elif m := _SLOT_PATH.match(path):
            if m.group(1) not in slot_ids:
                raise KeyError(f"{path!r}: no slot {m.group(1)!r} in the design (slots: {', '.join(sorted(slot_ids))})")
            slots[m.group(1)] = value
        elif m := _PART_PATH.match(path):
            selector, spec = m.groups()
            if selector not in selectors:
                raise KeyError(f"{path!r}: no part of kind or id {selector!r} in the design")
            if spec not in ITEM_SPECS | limit_specs and not spec.startswith("peak_flops."):
                raise KeyError(f"{path!r}: spec {spec!r} is not used by the rack models")
            parts.setdefault(selector, {})[spec] = value
        elif m := _SOURCING_PATH.match(path):
            selector, name = m.groups()
            if selector not in selectors | {p.category for p in in_design}:
                raise KeyError(f"{path!r}: no part of category, kind or id {selector!r} in the design")
            parts.setdefault(selector, {})[SOURCING_ATTRIBUTES[name]] = value
        else:
            raise KeyError(
                f"unknown override path {path!r}; use parts.<kind|id>.<spec>, slots[<id>].count, "
                f"sourcing.<category|kind|id>.origin|price_change or one of {', '.join(PARAMETERS)}"
            )
    return params, parts, slots


class RackChain:
    """Evaluate one rack design, or a batch of variants of it, through the same models."""

    def __init__(
        self,
        loaded: LoadedDesign,
        catalog: Catalog | None = None,
        steps: Mapping[str, Callable[[Any], Any]] | None = None,
    ):
        unknown = sorted(set(steps or {}) - set(STEPS))
        if unknown or not all(callable(step) for step in (steps or {}).values()):
            raise InputError.single(
                None,
                f"steps maps step names to functions; unknown or not callable: {', '.join(unknown) or 'a value'}",
                "steps",
                f"names: {', '.join(STEPS)}",
            )
        self.steps = ModelSteps(**{**STEPS, **(steps or {})})
        self.model = resolve(loaded, catalog)
        for path, value in self.model.base_overrides.items():
            try:
                split_overrides(self.model, {path: value})
            except KeyError as exc:
                raise InputError(
                    loaded.file, [loaded.problem(exc.args[0], ("overrides", path), OVERRIDE_HINT)]
                ) from None

    def run(self, overrides: Mapping[str, Array] | None = None) -> dict[str, Array]:
        """Figures (SI) for the design with its own overrides plus ``overrides`` (SI scalars or arrays)."""
        merged = {**self.model.base_overrides, **(overrides or {})}
        params, part_overrides, slot_counts = split_overrides(self.model, merged)
        sums = aggregate(self.model, part_overrides, slot_counts)
        return run_models(self.model, sums, params, effective_limits(self.model, part_overrides), self.steps)
