"""Design files: the schema of a rack generation, ``extends`` resolution and loading.

A design is a YAML file validated by :class:`Design`. A new generation usually
``extends`` the previous one (a path relative to the file) and overrides a few
fields: mappings are deep-merged, and lists of keyed items (``slots`` by ``id``,
``network.links`` by ``id``) are merged item by item; an item with
``remove: true`` drops the inherited item of that id.

Units are strings (``"45 degC"``, ``"10 K"``) here and become SI floats only
when the evaluation chain reads them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..catalog.schema import Source
from ..errors import InputError, Problem
from ..units import UnitError, parse_quantity
from ..validity import DOMAINS, Name, number_in, require
from ..yamlio import Strict, field_path, leaf_location, location, problems_from_validation, read_yaml, to_plain

#: Lists merged by item key when a design extends another.
KEYED_LISTS = {("slots",): "id", ("network", "links"): "id"}

#: ASHRAE TC 9.9 liquid-cooling classes: the number is the warmest facility water supply
#: [°C]; W+ is "above 45 °C", taken here as 50 °C (assumption, stated in docs).
W_CLASSES = {"W17": 17.0, "W27": 27.0, "W32": 32.0, "W40": 40.0, "W45": 45.0, "W+": 50.0}


def _quantity_validator(quantity: str):
    """A unit string of ``quantity`` (see :data:`rackwright.validity.DOMAINS`) whose value lies in its domain."""

    def check(value):
        if value is None:
            return value
        try:
            si = parse_quantity(value, DOMAINS[quantity].dimension)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        require(quantity, si)
        return value

    return check


class Slot(Strict):
    """Parts mounted in the rack: ``count`` units of ``part`` stacked from ``position``.

    ``position`` is the lowest mounting unit (1 = bottom, in U or OU of the
    enclosure); parts without a position are 0U/rear-mounted (busbars, manifolds,
    cable cartridges, 0U PDUs). A positioned part that takes no height is a vertical
    blade (Kyber-class racks): the elevation seats such slots in pods from that unit,
    one pod per midplane; they take no units in the mechanical model.
    """

    id: Name
    part: str
    count: int = 1
    position: int | None = None
    _count = field_validator("count")(number_in("count"))
    _position = field_validator("position")(number_in("positive_count"))


class PowerSpec(Strict):
    architecture: Literal["orv3-48v", "hvdc-800v", "ac-pdu"]
    redundancy: Literal["N", "N+1", "N+2", "N+N"] = "N+1"
    busbar: str | None = None
    sidecar: str | None = None
    feed_voltage: str | None = None
    power_factor: float = 0.99
    _check_voltage = field_validator("feed_voltage")(_quantity_validator("voltage"))
    _power_factor = field_validator("power_factor")(number_in("power_factor"))


class CduSpec(Strict):
    """The CDU(s) cooling this rack: ``count`` units shared by ``racks_served`` racks.

    An in-rack CDU is also listed in ``slots`` (it takes rack height); an in-row CDU
    adds only this rack's share of its cost.
    """

    part: str
    placement: Literal["in-rack", "in-row"] = "in-row"
    count: int = 1
    racks_served: int = 1
    _counts = field_validator("count", "racks_served")(number_in("positive_count"))


class CoolingSpec(Strict):
    fluid: Literal["water", "pg25"] = "pg25"
    facility_supply: str = "W32"
    tcs_supply: str | None = None
    coolant_delta_t: str = "10 K"
    air_inlet: str = "25 degC"
    air_delta_t: str = "15 K"
    cdu: CduSpec | None = None
    manifold: str | None = None
    liquid_fraction: dict[str, float] = Field(default_factory=dict)

    _t = field_validator("tcs_supply", "air_inlet")(_quantity_validator("temperature"))
    _dt = field_validator("coolant_delta_t", "air_delta_t")(_quantity_validator("temperature_difference"))

    @field_validator("facility_supply")
    @classmethod
    def _facility(cls, value):
        if value not in W_CLASSES:
            try:
                require("temperature", parse_quantity(value, "temperature"))
            except UnitError:
                raise ValueError(
                    f'{value!r} is neither an ASHRAE class ({", ".join(W_CLASSES)}) nor a temperature like "32 degC"'
                ) from None
        return value

    @field_validator("liquid_fraction")
    @classmethod
    def _fractions(cls, value):
        for key, fraction in value.items():
            if DOMAINS["share"].problem(fraction):
                raise ValueError(f"liquid_fraction[{key}] = {fraction} must lie between 0 and 1")
        return value


class ScaleUp(Strict):
    """Scale-up domain: ``domain`` accelerators (default: those of ``racks`` racks like this one)."""

    domain: int | None = None
    racks: int = 1
    _counts = field_validator("domain", "racks")(number_in("positive_count"))


class Link(Strict):
    """``count`` cables or transceivers of ``part``; length given, or routed between two slots."""

    id: Name
    part: str
    count: int
    length: str | None = None
    from_slot: str | None = None
    to_slot: str | None = None
    _len = field_validator("length")(_quantity_validator("length"))
    _count = field_validator("count")(number_in("count"))

    @model_validator(mode="after")
    def _length_or_route(self):
        if self.length is None and not (self.from_slot and self.to_slot):
            raise ValueError("give a length, or from_slot and to_slot to route the link")
        return self


class NetworkSpec(Strict):
    scale_up: ScaleUp = Field(default_factory=ScaleUp)
    links: list[Link] = Field(default_factory=list)


class Design(Strict):
    """A rack generation (see module docstring)."""

    name: Name
    generation: Name
    description: str = ""
    extends: str | None = None
    sources: list[Source] = Field(default_factory=list)
    enclosure: str
    floor_rating: str = "1500 kg/m**2"
    power: PowerSpec
    cooling: CoolingSpec = Field(default_factory=CoolingSpec)
    slots: list[Slot]
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    overrides: dict[str, str | float] = Field(default_factory=dict)

    _floor = field_validator("floor_rating")(_quantity_validator("area_density"))

    def part_ids(self) -> set[str]:
        """Every catalog part id the design names: slots, links, enclosure, CDU, manifold, busbar, sidecar."""
        ids = {slot.part for slot in self.slots} | {link.part for link in self.network.links} | {self.enclosure}
        ids |= {x for x in (self.power.busbar, self.power.sidecar, self.cooling.manifold) if x}
        if self.cooling.cdu:
            ids.add(self.cooling.cdu.part)
        return ids


class LoadedDesign(BaseModel):
    """A validated design with where it came from (for messages and lineage)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    design: Design
    file: str | None = None
    lineage: list[str] = Field(default_factory=list)
    raw: dict = Field(default_factory=dict)
    root: Any = None  # the leaf file's YAML nodes, for line numbers

    def problem(self, message: str, loc: tuple, hint: str = "") -> Problem:
        """A problem at ``loc`` of the merged design, with the leaf file's line where it has one."""
        where = leaf_location(self.raw, self.root, loc) if len(self.lineage) > 1 else loc
        line, column = location(self.root, where) if self.root is not None else (None, None)
        return Problem(message, field_path(loc), hint, line, column)


def deep_merge(base: Any, override: Any, path: tuple = ()) -> Any:
    """Merge ``override`` onto ``base``: mappings recursively, keyed lists by key, the rest replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value, path + (key,)) if key in base else value
        return merged
    key = KEYED_LISTS.get(path)
    if key and isinstance(base, list) and isinstance(override, list):
        return _merge_keyed(base, override, key, path)
    return copy.deepcopy(override)


def _merge_keyed(base: list, override: list, key: str, path: tuple) -> list:
    if not all(isinstance(item, dict) and isinstance(item.get(key), str) for item in base + override):
        return copy.deepcopy(override)  # malformed: validation reports it against the child's own items
    merged = {item[key]: item for item in base}
    order = list(merged)
    own, duplicates = set(), []  # the child's own ids: one item may override an inherited one, not two
    for item in override:
        name = item[key]
        if item.get("remove") is True:
            merged.pop(name, None)
            order = [n for n in order if n != name]
            own.discard(name)
            continue
        if name in own:
            duplicates.append(deep_merge(merged.get(name, {}), item, path + ("*",)))  # refused by validation
            continue
        own.add(name)
        if name in merged:
            merged[name] = deep_merge(merged[name], item, path + ("*",))
        else:
            merged[name] = item
            order.append(name)
    return [merged[n] for n in order] + duplicates


def resolve_raw(path: str | Path, _chain: tuple[Path, ...] = ()) -> tuple[dict, list[str], Any]:
    """Read a design file and its ``extends`` ancestors; return merged mapping, lineage, root node."""
    path = Path(path)
    resolved = path.resolve()
    if resolved in _chain:
        cycle = " -> ".join(str(p) for p in _chain + (resolved,))
        raise InputError.single(str(path), f"extends cycle: {cycle}", "extends", "remove the cycle")
    root = read_yaml(path)
    if not isinstance(root, dict):
        raise InputError.single(
            str(path),
            "a design file is a YAML mapping (name:, generation:, slots: ...)",
            hint="see examples/gb200-nvl72.yaml",
        )
    data = to_plain(root)
    parent = data.get("extends")
    if parent is None:
        return data, [str(path)], root
    if not isinstance(parent, str):
        raise InputError.single(str(path), "extends must be a relative file path", "extends")
    parent_path = path.parent / parent
    if not parent_path.exists():
        raise InputError.single(
            str(path),
            f"parent design {parent!r} not found (looked at {parent_path})",
            "extends",
            "fix the relative path",
        )
    base, lineage, _ = resolve_raw(parent_path, _chain + (resolved,))
    base.pop("extends", None)
    return deep_merge(base, data), lineage + [str(path)], root


def load_design(path: str | Path) -> LoadedDesign:
    """Load and validate a design file, resolving ``extends``; raise :class:`InputError` on bad input."""
    if not isinstance(path, (str, Path)):
        raise InputError.single(
            None,
            f"a design is a file path or a LoadedDesign, not {type(path).__name__}",
            hint='e.g. rackwright.evaluate("examples/gb200-nvl72.yaml")',
        )
    data, lineage, root = resolve_raw(path)
    return validate_design(data, str(path), lineage, root)


def validate_design(
    data: dict, file: str | None = None, lineage: list[str] | None = None, root: Any = None
) -> LoadedDesign:
    """Validate a merged design mapping (e.g. from the server or a notebook); slot and link ids must be unique."""
    lineage = lineage or []
    merged = data if len(lineage) > 1 else None
    duplicates = _duplicate_ids(data)
    if duplicates:
        error = ValidationError.from_exception_data("Design", duplicates)
        raise InputError(file, problems_from_validation(error, root, merged=merged))
    try:
        design = Design.model_validate(data)
    except ValidationError as exc:
        raise InputError(file, problems_from_validation(exc, root, merged=merged)) from None
    return LoadedDesign(design=design, file=file, lineage=lineage, raw=data, root=root)


def _duplicate_ids(data) -> list:
    """A validation error at ``slots[i].id`` or ``network.links[i].id`` for each id used before in its list: ids are
    unique per list, checked here before the schema because a model-level check could name only the list."""
    errors = []
    for path in (("slots",), ("network", "links")):
        items = data
        for key in path:
            items = items.get(key) if isinstance(items, dict) else None
        seen: dict[str, int] = {}
        for i, item in enumerate(items if isinstance(items, list) else []):
            ident = item.get("id") if isinstance(item, dict) else None
            if not isinstance(ident, str):
                continue
            if ident in seen:
                message = PydanticCustomError(
                    "duplicate_id",
                    "id '{id}' is taken by item {first}; ids must be unique",
                    {"id": ident, "first": seen[ident]},
                )
                errors.append({"type": message, "loc": (*path, i, "id"), "input": ident})
            seen.setdefault(ident, i)
    return errors


def design_problem(file: str | None, path: str, message: str, hint: str = "") -> InputError:
    return InputError(file, [Problem(message, path, hint)])
