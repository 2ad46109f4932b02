"""Site files: the schema of a data-centre site (target, layout, fabric, power chain, cooling, economics).

A site file is YAML validated by :class:`Site` (strict: unknown fields are errors). Quantities are
strings with units (``"1 GW"``, ``"0.6 m"``, ``"32 degC"``) and become SI floats only in
:mod:`rackwright.site.planner`. Design files and the ambient profile are paths relative to the site
file. :func:`load_site` raises :class:`~rackwright.errors.InputError` naming the file, the field path
(``fabric.switch``) and the fix. It is the site's file edge: each design file it names is evaluated there, once
(:func:`rackwright.rack.evaluation.sound_design`), and the planner works on the evaluated racks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..catalog import Catalog
from ..catalog.schema import Source
from ..errors import InputError
from ..rack.evaluation import Rack, sound_design
from ..units import UnitError, parse_quantity
from ..validity import DOMAINS, Name, require
from ..yamlio import LocatedInput, Strict, problems_from_validation, read_yaml, to_plain

Redundancy = Literal["N", "N+1", "N+2", "2N"]
Tier = Literal[1, 2, 3]
ALL_TIERS: tuple[Tier, ...] = (1, 2, 3)


class Generation(Strict):
    """One rack generation of the mix: a design file and its share of the racks (or a fixed count)."""

    design: str = Field(min_length=1)
    share: float | None = Field(default=None, gt=0, le=1)
    racks: int | None = Field(default=None, ge=1, le=1_000_000)


class Target(Strict):
    """What to build: an IT power (the racks' input power, shared by ``share``) or rack counts per generation."""

    it_power: str | None = None
    generations: list[Generation] = Field(min_length=1, max_length=16)

    @field_validator("it_power", mode="before")
    @classmethod
    def _power(cls, value):
        return value if value is None else _positive(value, "power")

    @model_validator(mode="after")
    def _mix(self):
        shares = [g.share for g in self.generations]
        counts = [g.racks for g in self.generations]
        if self.it_power is not None:
            if any(s is None for s in shares) or any(c is not None for c in counts):
                raise ValueError("with it_power, give every generation a share (and no racks)")
            total = sum(s or 0.0 for s in shares)  # every share is given (checked above)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"generation shares add up to {total:g}, not 1")
        elif any(c is None for c in counts) or any(s is not None for s in shares):
            raise ValueError("without it_power, give every generation a rack count (racks:) and no share")
        return self


class Layout(Strict):
    """Halls of rows of racks; network rows and CDU rows interleave the compute rows."""

    hall_max_it_power: str = "50 MW"
    racks_per_row: int = Field(default=16, ge=1, le=200)
    rack_pitch: str = "0.6 m"
    rack_depth: str = "1.2 m"
    cold_aisle: str = "1.2 m"
    hot_aisle: str = "1.2 m"
    compute_rows_per_network_row: int = Field(default=8, ge=1, le=200)
    compute_rows_per_cdu_row: int = Field(default=4, ge=1, le=200)
    switches_per_network_rack: int = Field(default=16, ge=1, le=64)
    hall_gap: str = "20 m"

    _lengths = field_validator("rack_pitch", "rack_depth", "cold_aisle", "hot_aisle", "hall_gap", mode="before")(
        classmethod(lambda cls, v: _positive(v, "length"))
    )
    _hall = field_validator("hall_max_it_power", mode="before")(classmethod(lambda cls, v: _positive(v, "power")))


class MediaRule(Strict):
    """A cable or pluggable optic from the catalog for the links of some tiers (1 = NIC–leaf, 2 = leaf–spine,
    3 = spine–super-spine); the planner picks the first rule that applies and whose reach covers a link."""

    part: str
    tiers: list[Tier] = Field(default_factory=lambda: list(ALL_TIERS), min_length=1, max_length=3)


class Fabric(Strict):
    """The scale-out Ethernet fabric (rail-optimised or not, 2 or 3 tiers, planes) and its cabling rules."""

    switch: str
    link_speed: str = "400 Gb/s"
    tiers: Literal[2, 3] = 3
    rail_optimised: bool = True
    rails: int = Field(default=4, ge=1, le=64)
    oversubscription: list[float] = Field(default_factory=lambda: [1.0, 1.0], min_length=1, max_length=2)
    planes: int = Field(default=1, ge=1, le=8)
    front_end_share: float = Field(default=0.1, ge=0, le=1)
    media: list[MediaRule] = Field(min_length=1, max_length=16)
    drop: str = "2 m"
    slack: float = Field(default=0.1, ge=0, le=1)
    service_loop: str = "1 m"

    _speed = field_validator("link_speed", mode="before")(classmethod(lambda cls, v: _positive(v, "data_rate")))
    _lengths = field_validator("drop", "service_loop", mode="before")(
        classmethod(lambda cls, v: _positive(v, "length"))
    )

    @field_validator("oversubscription")
    @classmethod
    def _ratios(cls, value):
        if any(not 1.0 <= r <= 16.0 for r in value):
            raise ValueError("oversubscription ratios (downlink:uplink bandwidth) are between 1 and 16")
        return value


class Stage(Strict):
    """One power-chain stage: a catalog part, its redundancy and optionally a fixed installed count."""

    part: str
    redundancy: Redundancy = "N+1"
    count: int | None = Field(default=None, ge=0, le=10_000_000)
    efficiency: float | None = Field(default=None, gt=0.5, le=1)


class PowerChain(Strict):
    """Utility to rack: substation, MV switchgear, MV/LV transformers, UPS (or none), distribution; generators."""

    utility_voltage: str = "345 kV"
    power_factor: float = Field(default=0.95, gt=0.5, le=1)
    substation: Stage
    switchgear: Stage
    transformers: Stage
    ups: Stage | None = None
    distribution: Stage
    generators: Stage | None = None

    _voltage = field_validator("utility_voltage", mode="before")(classmethod(lambda cls, v: _positive(v, "voltage")))


class HeatRejection(Strict):
    """Outdoor heat rejection (dry or adiabatic coolers) and, optionally, trim chillers for hot hours."""

    part: str
    redundancy: Redundancy = "N+1"
    count: int | None = Field(default=None, ge=0, le=10_000_000)
    chiller: Stage | None = None


class Cooling(Strict):
    """Cooling plant: facility water, heat rejection, pumps and the climate (CDUs come with the racks' designs)."""

    facility_supply: str | None = None
    facility_delta_t: str = "10 K"
    heat_rejection: HeatRejection
    pump: Stage
    air_cooling_fan_share: float = Field(default=0.03, ge=0, le=0.5)
    ambient: str = Field(min_length=1)
    misc_load_share: float = Field(default=0.01, ge=0, le=0.5)

    _temps = field_validator("facility_supply", mode="before")(
        classmethod(lambda cls, v: None if v is None else _kelvin(v))
    )
    _delta = field_validator("facility_delta_t", mode="before")(
        classmethod(lambda cls, v: _positive(v, "temperature_difference"))
    )


class Economics(Strict):
    """Electricity price, building cost, depreciation, maintenance and utilisation (all assumptions of the user)."""

    electricity_usd_per_kwh: float = Field(gt=0, le=2)
    building_usd_per_mw: float = Field(ge=0, le=1e9)
    building_domestic_share: float = Field(default=1.0, ge=0, le=1)
    depreciation_years_it: float = Field(default=5, gt=0, le=50)
    depreciation_years_facility: float = Field(default=20, gt=0, le=60)
    maintenance_share: float = Field(default=0.02, ge=0, le=0.5)
    utilisation: float = Field(default=0.8, gt=0, le=1)


class Site(Strict):
    """A data-centre site: name, target rack mix, layout, fabric, power chain, cooling and economics."""

    name: Name = Field(min_length=1)
    description: str = ""
    location: str = ""
    sources: list[Source] = Field(default_factory=list)
    assumptions: dict[str, str] = Field(default_factory=dict)
    target: Target
    layout: Layout = Field(default_factory=Layout)
    fabric: Fabric
    power: PowerChain
    cooling: Cooling
    economics: Economics


class LoadedSite(LocatedInput, BaseModel):
    """A validated site with its file (for messages and relative paths)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    site: Site
    file: str | None = None
    root: object = None
    #: The evaluated rack of each generation's design, in the order of ``site.target.generations``.
    racks: list[Rack] = Field(default_factory=list)

    @property
    def folder(self) -> Path:
        return Path(self.file).parent if self.file else Path(".")


def load_site(
    path: str | Path, overrides: dict[str, object] | None = None, catalog: Catalog | None = None
) -> LoadedSite:
    """Read and validate a site file and evaluate its designs; :class:`InputError` (file, field path, fix) on bad
    input, or for a design that breaks its own rules.

    ``overrides`` maps dotted paths (``fabric.tiers``, ``target.generations.0.share``) to values that
    replace the file's before validation (the CLI's ``--set KEY=VALUE``). The designs are resolved against
    ``catalog`` (default: the built-in one).
    """
    if not isinstance(path, (str, Path)):
        raise InputError.single(
            None, f"a site is a file path, not {type(path).__name__}", hint='e.g. load_site("examples/site-100mw.yaml")'
        )
    if overrides is not None and (not isinstance(overrides, dict) or not all(isinstance(k, str) for k in overrides)):
        raise InputError.single(
            str(path), "overrides map dotted field paths to values", "overrides", 'e.g. {"fabric.tiers": 2}'
        )
    root = read_yaml(path)
    if not isinstance(root, dict):
        raise InputError.single(
            str(path),
            "a site file is a YAML mapping (name:, target:, fabric:, power: ...)",
            hint="see examples/site-100mw.yaml",
        )
    data = to_plain(root)
    for key, value in (overrides or {}).items():
        apply_override(data, key, value, str(path))
    try:
        site = Site.model_validate(data)
    except ValidationError as exc:
        raise InputError(str(path), problems_from_validation(exc, root)) from None
    loaded = LoadedSite(site=site, file=str(path), root=root)
    loaded.racks = _racks(loaded, catalog)
    return loaded


def _racks(loaded: LoadedSite, catalog: Catalog | None) -> list[Rack]:
    """Each generation's design file evaluated (a file named twice, once); a missing file names the field."""
    racks: dict[Path, Rack] = {}
    for i, gen in enumerate(loaded.site.target.generations):
        path = loaded.folder / gen.design
        if not path.is_file():
            raise loaded.error(
                f"design file {gen.design!r} not found (looked at {path})",
                ("target", "generations", i, "design"),
                "give a design path relative to the site file",
            )
        if path.resolve() not in racks:
            racks[path.resolve()] = sound_design(path, catalog)
    return [racks[(loaded.folder / gen.design).resolve()] for gen in loaded.site.target.generations]


def apply_override(data: dict, key: str, value: object, file: str | None = None) -> None:
    """Set ``data`` at the dotted path ``key`` (list items by index); InputError when the path does not exist."""
    node = data
    parts = key.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            index = int(part)
        elif isinstance(node, dict) and (part in node or last):
            index = part
        else:
            raise InputError.single(
                file,
                f"--set {key}: no field {'.'.join(parts[: depth + 1])!r} in the site file",
                key,
                "use a dotted path of an existing field, e.g. fabric.tiers=2",
            )
        if last:
            node[index] = value
        else:
            node = node[index]


def _si(value, quantity: str) -> float:
    """The SI value of a quantity string, in the domain of ``quantity`` (rackwright.validity.DOMAINS)."""
    try:
        return require(quantity, parse_quantity(value, DOMAINS[quantity].dimension))
    except UnitError as exc:
        raise ValueError(str(exc)) from None


def _positive(value, quantity: str):
    if _si(value, quantity) <= 0:
        raise ValueError(f"must be above zero, got {value!r}")
    return value


def _kelvin(value):
    if not 273.15 <= _si(value, "temperature") <= 373.15:
        raise ValueError(f"{value!r} is outside 0-100 degC")
    return value
