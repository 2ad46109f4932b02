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
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..catalog import Catalog, Part, load_catalog
from ..catalog.specs import CATEGORIES, PEAK_FLOPS_KEYS, SPEC_FIELDS
from ..errors import InputError, Problem
from ..models import cabling, cost, mechanical, network, power, reliability, sourcing, thermal
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
    if cdu is not None and design.cooling.cdu.placement == "in-row":
        share = design.cooling.cdu.count / design.cooling.cdu.racks_served
        items.extend(
            LineItem(child, n, None, 1.0, share=share, in_rack=False, path=path)
            for child, n, path in catalog.explode(cdu.id)
        )
    _apply_liquid_fractions(items, design.cooling.liquid_fraction)

    limit_parts = {
        "enclosure": [enclosure],
        "busbar": [busbar],
        "cdu": [cdu],
        "manifold": [manifold],
        "rear_door": [i.part for i in items if i.part.kind == "rear_door_hx"],
    }
    limit_parts = {role: [p for p in parts if p is not None] for role, parts in limit_parts.items()}
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


def _unit_attributes(item: LineItem, catalog: Catalog, overrides: Mapping[str, object]) -> dict[str, object]:
    """SI attributes of one unit of the item (arrays where an override gives arrays)."""
    part = item.part
    attrs: dict[str, object] = {
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


def _contributions(item: LineItem, attrs: dict, fluid: str) -> dict[str, object]:
    """What one unit of the item adds to each rack sum."""
    part = item.part
    kind = part.kind
    price = attrs["price"] * (1.0 + attrs["price_change"]) * item.share
    us = attrs["us_origin"]
    out = {
        "cost": price,
        "cost_us": price * us,
        f"cost.{part.category}": price,
        f"cost_us.{part.category}": price * us,
    }
    if not item.in_rack:
        return out
    out.update(
        {
            "it_load": attrs["power"],
            "liquid_heat": attrs["power"] * attrs["liquid_fraction"],
            "weight": attrs["weight"] + attrs["coolant_volume"] * COOLANT_DENSITY[fluid],
            "failure_rate": attrs["failure_rate"],
        }
    )
    if item.mounted:
        out["height"] = attrs["height"]
    if kind == "accelerator":
        out.update(
            accelerators=1.0,
            hbm=attrs["hbm"],
            hbm_bandwidth=attrs["hbm_bandwidth"],
            scale_up_bandwidth=attrs["scale_up_bandwidth"],
            scale_up_links=attrs["scale_up_links"],
        )
        out.update({k: v for k, v in attrs.items() if k.startswith("peak_flops.")})
    elif kind == "cpu":
        out["cpus"] = 1.0
    elif kind in ("nic", "dpu"):
        if serves_scale_out(part):
            out.update(scale_out_ports=attrs["ports"], scale_out_rate=attrs["ports"] * attrs["port_speed"])
        else:
            out["front_end_ports"] = attrs["ports"]
    elif kind == "scale_up_switch_tray":
        out["scale_up_switch_ports"] = attrs["ports"]
    elif kind == "rear_door_hx":
        out["rear_door_capacity"] = attrs["capacity"]
    elif kind in CONVERTER_KINDS and not item.path:
        out.update(
            converters=1.0,
            converter_capacity=attrs["capacity"],
            converter_capacity_efficiency=attrs["capacity"] * attrs["efficiency"],
        )
    elif kind == "bbu":
        out.update(bbu_energy=attrs["energy"], bbu_energy_efficiency=attrs["energy"] * (attrs["efficiency"] or 1.0))
    if item.link is not None:
        media = part.text("media", kind)
        out[f"cables:{media}"] = 1.0
        out["cable_length"] = item.length if kind == "cable" else 0.0
        out["scale_out_media"] = 1.0 if item.leaves_rack and part.value("speed", 0.0) >= SCALE_OUT_MIN_SPEED else 0.0
    return out


def aggregate(
    model: RackModel, part_overrides: Mapping[str, dict], slot_counts: Mapping[str, object]
) -> dict[str, object]:
    """Rack sums ``Σ count · contribution`` over line items; overridden items are summed as arrays."""
    sums: dict[str, object] = {"lead_time": 0.0}
    for item in model.items:
        selectors = (item.part.category, item.part.kind, item.part.id)
        touched = item.slot in slot_counts or any(s in part_overrides for s in selectors)
        attrs = _unit_attributes(item, model.catalog, part_overrides if touched else {})
        count = item.per_slot_unit * slot_counts[item.slot] if item.slot in slot_counts else item.count
        for key, value in _contributions(item, attrs, model.fluid).items():
            _accumulate(sums, key, count * value)
        if item.count > 0:
            sums["lead_time"] = max(sums["lead_time"], item.part.lead_time_weeks)
    return sums


def _accumulate(sums: dict[str, object], key: str, term) -> None:
    """``sums[key] += term``, in place once the sum is an array of the batch's shape (one allocation per sum)."""
    current = sums.get(key)
    if current is None:
        sums[key] = term
    elif isinstance(current, np.ndarray) and current.dtype.kind == "f" and np.shape(term) in ((), current.shape):
        np.add(current, term, out=current)  # current is a fresh product owned by this sum
    else:
        sums[key] = current + term


def effective_limits(model: RackModel, part_overrides: Mapping[str, dict]) -> dict[str, object]:
    """Ratings of the design's enclosure, busbar, CDU, manifold and rear doors, with overrides applied."""
    limits = {}
    for name, (role, spec, default) in LIMITS.items():
        values = []
        for part in model.limit_parts[role]:
            value = part.value(spec, default)
            for selector in (part.kind, part.id):
                value = part_overrides.get(selector, {}).get(spec, value)
            values.append(value)
        limits[name] = np.minimum.reduce(values) if len(values) > 1 else values[0] if values else default
    return limits


# --- step 3: models --------------------------------------------------------------------

#: The model steps, by the figure section each one fills: a function from its typed inputs to its typed result
#: (:mod:`rackwright.models`). ``RackChain(..., steps={"thermal": my_thermal_step})`` swaps one for a run.
STEPS = {
    "power": power.power_step,
    "thermal": thermal.thermal_step,
    "mechanical": mechanical.mechanical_step,
    "network": network.network_step,
    "cabling": cabling.cabling_step,
    "cost": cost.cost_step,
    "sourcing": sourcing.sourcing_step,
    "reliability": reliability.reliability_step,
}


def figures_of(section: str, result) -> dict[str, object]:
    """A step's typed result as figures: ``section.field``, and ``section.field:key`` for each key of a mapping."""
    out: dict[str, object] = {}
    for name in result.__dataclass_fields__:
        value = getattr(result, name)
        if isinstance(value, dict):
            out.update({f"{section}.{name}:{key}": v for key, v in value.items()})
        else:
            out[f"{section}.{name}"] = value
    return out


def _bus_voltage(model: RackModel, params: Mapping[str, object], limits: Mapping[str, object]):
    """The rack bus: the AC feed's line voltage, the busbar's voltage, else the architecture's nominal one [V]."""
    if model.architecture == "ac-pdu":
        return params["power.feed_voltage"]
    return np.where(
        np.isfinite(limits["busbar_voltage"]), limits["busbar_voltage"], DEFAULT_BUS_VOLTAGE[model.architecture]
    )


def run_models(
    model: RackModel,
    sums: Mapping[str, object],
    params: Mapping[str, object],
    limits: Mapping[str, object],
    steps: Mapping[str, object] = STEPS,
) -> dict[str, object]:
    """Figures (SI) from rack sums, parameters and ratings: each step of ``steps`` on its typed inputs, in order
    (thermal takes the power step's input power).

    The ratings and the parameters the rules need are returned too, as ``limit.*`` entries.
    """
    s = lambda key: sums.get(key, 0.0)  # noqa: E731 - a short accessor keeps the inputs readable
    bus_voltage = _bus_voltage(model, params, limits)
    powered = steps["power"](
        power.PowerInputs(
            it_load=s("it_load"),
            converters=s("converters"),
            capacity=s("converter_capacity"),
            capacity_efficiency=s("converter_capacity_efficiency"),
            bbu_energy=s("bbu_energy"),
            bbu_energy_efficiency=s("bbu_energy_efficiency"),
            redundancy=model.redundancy,
            bus_voltage=bus_voltage,
            # a bus above SELV (60 V) sits upstream of the in-rack converters and carries their input
            bus_carries_input=np.asarray(bus_voltage) > SELV_V,
            three_phase=model.architecture == "ac-pdu",
            power_factor=params["power.power_factor"],
        )
    )
    approach = np.where(np.isfinite(limits["cdu_approach"]), limits["cdu_approach"], DEFAULT_CDU_APPROACH_K)
    cooled = steps["thermal"](
        thermal.ThermalInputs(
            input_power=powered.input,
            liquid_heat=s("liquid_heat"),
            rear_door_capacity=s("rear_door_capacity"),
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
    accelerators = s("accelerators")
    domain = model.design.network.scale_up.domain
    results = {
        "power": powered,
        "thermal": cooled,
        "mechanical": steps["mechanical"](
            mechanical.MechanicalInputs(
                height=s("height"),
                weight=s("weight"),
                unit_pitch=limits["unit_pitch"],
                usable_height=limits["usable_height"],
                width=limits["width"],
                depth=limits["depth"],
            )
        ),
        "network": steps["network"](
            network.NetworkInputs(
                accelerators=accelerators,
                scale_up_racks=params["network.scale_up.racks"],
                scale_up_domain=np.nan if domain is None else float(domain),
                scale_up_bandwidth=s("scale_up_bandwidth"),
                scale_out_ports=s("scale_out_ports"),
                scale_out_rate=s("scale_out_rate"),
                front_end_ports=s("front_end_ports"),
            )
        ),
        "cabling": steps["cabling"](
            s("cable_length"), {key.split(":", 1)[1]: value for key, value in sums.items() if key.startswith("cables:")}
        ),
        "cost": steps["cost"](s("cost"), accelerators),
        "sourcing": steps["sourcing"](
            s("cost_us"),
            s("cost"),
            s("lead_time"),
            {
                category: (s(f"cost_us.{category}"), sums[f"cost.{category}"])
                for category in CATEGORIES
                if f"cost.{category}" in sums
            },
        ),
        "reliability": steps["reliability"](s("failure_rate")),
    }
    figures: dict[str, object] = {
        "compute.accelerators": accelerators,
        "compute.cpus": s("cpus"),
        "compute.hbm": s("hbm"),
        "compute.hbm_bandwidth": s("hbm_bandwidth"),
    }
    figures.update(
        {
            f"compute.peak_flops:{key}": sums[f"peak_flops.{key}"]
            for key in PEAK_FLOPS_KEYS
            if f"peak_flops.{key}" in sums
        }
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
            "limit.scale_up_links": s("scale_up_links"),
            "limit.scale_up_switch_ports": s("scale_up_switch_ports"),
            "limit.scale_out_media": s("scale_out_media"),
            "limit.bus_voltage": bus_voltage,
            "limit.coolant_return": cooled.tcs_supply + params["cooling.coolant_delta_t"],
            "limit.air_outlet": params["cooling.air_inlet"] + params["cooling.air_delta_t"],
        }
    )
    return figures


# --- the chain -------------------------------------------------------------------------


def split_overrides(model: RackModel, overrides: Mapping[str, object]) -> tuple[dict, dict, dict]:
    """Parameters, part overrides (selector → spec → value) and slot counts; unknown paths raise ``KeyError``."""
    params, parts, slots = dict(model.params), {}, {}
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

    def __init__(self, loaded: LoadedDesign, catalog: Catalog | None = None, steps: Mapping[str, object] | None = None):
        unknown = sorted(set(steps or {}) - set(STEPS))
        if unknown or not all(callable(step) for step in (steps or {}).values()):
            raise InputError.single(
                None,
                f"steps maps step names to functions; unknown or not callable: {', '.join(unknown) or 'a value'}",
                "steps",
                f"names: {', '.join(STEPS)}",
            )
        self.steps = {**STEPS, **(steps or {})}
        self.model = resolve(loaded, catalog)
        for path, value in self.model.base_overrides.items():
            try:
                split_overrides(self.model, {path: value})
            except KeyError as exc:
                raise InputError(
                    loaded.file, [loaded.problem(exc.args[0], ("overrides", path), OVERRIDE_HINT)]
                ) from None

    def run(self, overrides: Mapping[str, object] | None = None) -> dict[str, object]:
        """Figures (SI) for the design with its own overrides plus ``overrides`` (SI scalars or arrays)."""
        merged = {**self.model.base_overrides, **(overrides or {})}
        params, part_overrides, slot_counts = split_overrides(self.model, merged)
        sums = aggregate(self.model, part_overrides, slot_counts)
        return run_models(self.model, sums, params, effective_limits(self.model, part_overrides), self.steps)
