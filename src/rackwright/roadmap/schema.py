"""Roadmap files: the schema of a multi-generation deployment programme, and loading with readable errors.

A roadmap file (YAML) names the goal, the rack generations (each a design file), the
sites, the factories, the supply of critical parts and, optionally, the distributions
of the uncertain inputs for the Monte Carlo risk::

    name: 10 GW programme
    goal: {it_power: "10 GW", start: 2026-07-01, by: 2029-12-31, objective: training-compute}
    generations:
      - {id: gb200, design: gb200-nvl72.yaml, first_ship: 2026-07-01, end_of_builds: 2027-06-30,
         ramp: [0.3, 0.6, 1.0], source: {...}}
    sites:
      - {id: abilene, pue: 1.1, hosts: [gb200, gb300],
         power: [{from: 2026-07-01, facility: "400 MW"}, {from: 2027-01-01, facility: "1.2 GW"}]}
    factories:
      - {id: houston, location: US, start: 2026-07-01, capacity: {gb200: 250, gb300: 250}}
    supply:
      - {id: hbm, figure: compute.hbm_tb, unit: TB, ordered: 2025-07-01, lead_time: "52 weeks",
         caps: [{from: 2026-07-01, per_quarter: 60000}]}
    risk: {qualification_slip: {dist: triangular, min: "0 week", mode: "6 week", max: "26 week"}, ...}

**Power.** A site's ``power`` is *facility* power (what the utility or on-site plant
delivers, MW), in steps from a date on; the IT power it can carry is ``facility / pue``.
The goal is *IT* power: the sum of the deployed racks' input power (``power.input_kw``
of the rack evaluation).

Every generation, site, factory and supply line carries a ``source`` or an
``assumption`` (the project's rule for figures); cross-references (generation ids,
dates in order, a generation no site hosts) are checked after the schema by
:func:`load_roadmap`, which then evaluates each generation's design file once (the roadmap's file edge:
:func:`rackwright.rack.evaluation.sound_design`); the plan works on the evaluated racks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..catalog.schema import Source
from ..catalog.specs import PEAK_FLOPS_KEYS
from ..errors import InputError, Problem
from ..rack.evaluation import Rack, sound_design
from ..units import UnitError, parse_quantity
from ..validity import DOMAINS, Name, require
from ..yamlio import LocatedInput, Strict, problems_from_validation, read_yaml, to_plain

#: The goal's objectives (:func:`rackwright.roadmap.milp.objective`).
Objective = Literal["training-compute", "delivered-training-compute", "cost", "us-share"]
OBJECTIVES: tuple[str, ...] = get_args(Objective)
#: Rack figures a supply line may count per rack (display keys of the rack report, per rack).
SUPPLY_FIGURES = ("compute.accelerators", "compute.hbm_tb", "compute.cpus")
_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


def checked_quantity(value, quantity: str, zero: str | None = None):
    """Validator body: a quantity string in the domain of ``quantity`` (rackwright.validity.DOMAINS); with ``zero``
    (the message, with its fix) it must also be above zero. Used by the roadmap's and the programme's files."""
    try:
        si = require(quantity, parse_quantity(value, DOMAINS[quantity].dimension))
    except UnitError as exc:
        raise ValueError(str(exc)) from None
    if zero is not None and si <= 0:
        raise ValueError(zero)
    return value


class Sourced(Strict):
    """An entry whose figures carry a source or an assumption with its reasoning."""

    source: Source | None = None
    assumption: str | None = Field(default=None, min_length=3)

    @model_validator(mode="after")
    def _provenance(self):
        if self.source is None and self.assumption is None:
            raise ValueError("give a source {title, url} or an assumption (the reasoning) for these figures")
        return self


class Distribution(Strict):
    """An uncertain input: ``fixed`` (``value``), ``uniform`` (``min``, ``max``) or ``triangular``
    (``min``, ``mode``, ``max``).

    Values are strings with units for times (``"6 week"``) and plain numbers for factors.
    """

    dist: Literal["fixed", "uniform", "triangular"]
    value: str | float | None = None
    min: str | float | None = None
    mode: str | float | None = None
    max: str | float | None = None

    @model_validator(mode="after")
    def _complete(self):
        wanted = {"fixed": ("value",), "uniform": ("min", "max"), "triangular": ("min", "mode", "max")}[self.dist]
        given = tuple(k for k in ("value", "min", "mode", "max") if getattr(self, k) is not None)
        if given != wanted:
            raise ValueError(f"a {self.dist} distribution takes {', '.join(wanted)} (got {', '.join(given) or 'none'})")
        return self

    def si(self, dimension: str) -> tuple[float, float, float]:
        """(min, mode, max) in SI; ``UnitError`` when a value is not of ``dimension``."""

        def quantity(value: str | float | None) -> float:
            assert value is not None  # _complete: the distribution's own values are given
            return parse_quantity(value, dimension)

        if self.dist == "fixed":
            v = quantity(self.value)
            return v, v, v
        low, high = quantity(self.min), quantity(self.max)
        mode = quantity(self.mode) if self.dist == "triangular" else (low + high) / 2
        return low, mode, high

    def check(self, dimension: str, low: float, high: float):
        """Validator body: values of ``dimension`` within [low, high] and in order."""
        try:
            a, c, b = self.si(dimension)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        if not (np.isfinite([a, c, b]).all() and low <= a <= c <= b <= high):
            raise ValueError(f"need {low:g} <= min <= mode <= max <= {high:g} (in SI), got {a:g}, {c:g}, {b:g}")
        return self

    def sample(self, rng: np.random.Generator, shape, dimension: str) -> np.ndarray:
        """Draws in SI, vectorised over ``shape``."""
        a, c, b = self.si(dimension)
        if a == b:
            return np.full(shape, a)
        if self.dist == "uniform":
            return rng.uniform(a, b, shape)
        return rng.triangular(a, c, b, shape)


def fixed(value) -> Distribution:
    return Distribution(dist="fixed", value=value)


#: Longest horizon accepted [years].
MAX_YEARS = 50
#: Longest delay accepted for a slip or a delay [s] (10 years: anything longer is a typo).
MAX_DELAY_S = 10 * 365.25 * 86400


class Goal(Strict):
    """IT power deployed by a date, starting at ``start`` (a quarter's first day), and what to optimise."""

    it_power: str
    start: dt.date
    by: dt.date
    objective: Objective = "training-compute"
    precision: str = "bf16_dense"
    min_us_share: float | None = Field(default=None, ge=0, le=1)

    _power = field_validator("it_power")(lambda v: checked_quantity(v, "power"))

    @field_validator("precision")
    @classmethod
    def _precision(cls, value):
        if value not in PEAK_FLOPS_KEYS:
            raise ValueError(f"unknown precision {value!r}; one of {', '.join(PEAK_FLOPS_KEYS)}")
        return value


class Generation(Sourced):
    """A rack generation: its design file, first ship (after qualification), ramp and end of new builds."""

    id: str = Field(pattern=_ID)
    design: str
    first_ship: dt.date
    end_of_builds: dt.date | None = None
    ramp: list[float] = Field(default_factory=lambda: [1.0], min_length=1, max_length=60)
    qualification_slip: Distribution | None = None

    @field_validator("ramp")
    @classmethod
    def _ramp(cls, value):
        if any(not 0 <= v <= 1 for v in value):
            raise ValueError("ramp values are shares of a line's capacity, each between 0 and 1")
        return value

    _slip = field_validator("qualification_slip")(lambda v: v and v.check("time", 0, MAX_DELAY_S))


class PowerStep(Strict):
    """Facility power available at a site from a date on."""

    start: dt.date = Field(alias="from")
    facility: str

    _power = field_validator("facility")(lambda v: checked_quantity(v, "power"))


class Site(Sourced):
    """A site: facility power by date, PUE, the generations it can host, build cost per MW of IT."""

    id: Name = Field(pattern=_ID)
    name: Name = ""
    pue: float = Field(ge=1.0, le=3.0)
    power: list[PowerStep] = Field(min_length=1, max_length=100)
    hosts: list[str] = Field(min_length=1)
    build_cost_usd_per_mw: float = Field(default=0.0, ge=0, le=1e9)
    power_delay: Distribution | None = None

    _delay = field_validator("power_delay")(lambda v: v and v.check("time", 0, MAX_DELAY_S))


class Factory(Sourced):
    """An integration-and-test line: country, start date, racks/week per generation it can build.

    A rate is a number (racks/week) or ``line``: the queueing bound of the factory model's
    line file ``line`` for the generation's design (:func:`rackwright.roadmap.inputs.line_rate`),
    with every station at most ``line_utilisation`` busy.
    """

    id: str = Field(pattern=_ID)
    location: str = Field(pattern=r"^[A-Z]{2}$")
    start: dt.date
    capacity: dict[str, float | Literal["line"]] = Field(min_length=1)
    line: str | None = None
    line_utilisation: float = Field(default=0.85, gt=0, le=1)

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, value):
        from ..factory.line import MAX_RACKS_PER_WEEK

        for generation, rate in value.items():
            if rate != "line" and not 0 < rate <= MAX_RACKS_PER_WEEK:
                raise ValueError(
                    f"{generation}: racks/week must be in (0, {MAX_RACKS_PER_WEEK:,.0f}] or 'line', got {rate!r}"
                )
        return value

    @model_validator(mode="after")
    def _line_given(self):
        if "line" in self.capacity.values() and self.line is None:
            raise ValueError("a capacity of 'line' needs the factory's line file (line: path/to/line.yaml)")
        return self


class CapStep(Strict):
    """A supply cap per quarter from a date on."""

    start: dt.date = Field(alias="from")
    per_quarter: float = Field(ge=0, le=1e12)


class Supply(Sourced):
    """A critical part with capped supply, shared by the generations that use it.

    What one rack needs comes from exactly one of: ``kind`` (BOM quantity of parts of
    that kind), ``part`` (BOM quantity of that catalog part), ``figure`` (a rack figure,
    e.g. ``compute.hbm_tb``) or ``per_it_mw`` (units per MW of IT, for facility
    equipment such as transformers). Deliveries start ``lead_time`` after ``ordered``.
    """

    id: str = Field(pattern=_ID)
    kind: str | None = None
    part: str | None = None
    figure: str | None = None
    per_it_mw: float | None = Field(default=None, gt=0, le=1e6)
    unit: str = "units"
    ordered: dt.date
    lead_time: str
    caps: list[CapStep] = Field(min_length=1, max_length=100)

    _lead = field_validator("lead_time")(lambda v: checked_quantity(v, "time"))

    @field_validator("figure")
    @classmethod
    def _figure(cls, value):
        if value is not None and value not in SUPPLY_FIGURES:
            raise ValueError(f"unknown rack figure {value!r}; one of {', '.join(SUPPLY_FIGURES)}")
        return value

    @model_validator(mode="after")
    def _one_basis(self):
        given = [k for k in ("kind", "part", "figure", "per_it_mw") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "say what one rack needs with exactly one of kind, part, figure or per_it_mw "
                f"(got {', '.join(given) or 'none'})"
            )
        return self


class Risk(Sourced):
    """Distributions of the uncertain inputs (each entry's own distribution, where given, wins)."""

    qualification_slip: Distribution = Field(default_factory=lambda: fixed("0 week"))
    site_power_delay: Distribution = Field(default_factory=lambda: fixed("0 week"))
    lead_time_factor: Distribution = Field(default_factory=lambda: fixed(1.0))
    factory_yield: Distribution = Field(default_factory=lambda: fixed(1.0))

    _times = field_validator("qualification_slip", "site_power_delay")(lambda v: v.check("time", 0, MAX_DELAY_S))
    _factor = field_validator("lead_time_factor")(lambda v: v.check("dimensionless", 0.1, 10.0))
    _yield = field_validator("factory_yield")(lambda v: v.check("dimensionless", 0.01, 1.0))


class Roadmap(Strict):
    """A deployment programme (see the module docstring)."""

    name: Name
    description: str = ""
    sources: list[Source] = Field(default_factory=list)
    goal: Goal
    generations: list[Generation] = Field(min_length=1, max_length=50)
    sites: list[Site] = Field(min_length=1, max_length=500)
    factories: list[Factory] = Field(min_length=1, max_length=100)
    supply: list[Supply] = Field(default_factory=list, max_length=100)
    risk: Risk | None = None


class LoadedRoadmap(LocatedInput, BaseModel):
    """A validated roadmap with its file, folder (design paths are relative to it) and YAML nodes."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    roadmap: Roadmap
    file: str | None = None
    folder: Path = Path(".")
    root: Any = None
    #: The evaluated rack of each generation's design, in the order of ``roadmap.generations``.
    racks: list[Rack] = Field(default_factory=list)


def load_roadmap(path: str | Path) -> LoadedRoadmap:
    """Read and validate a roadmap file; raise :class:`InputError` with field paths on bad input."""
    root = read_yaml(path)
    if not isinstance(root, dict):
        raise InputError.single(
            str(path),
            "a roadmap file is a YAML mapping (name:, goal:, generations:, sites:, factories:)",
            hint="see examples/roadmap-10gw.yaml",
        )
    return validate_roadmap(to_plain(root), str(path), root, Path(path).parent)


def validate_roadmap(data: dict, file: str | None = None, root: Any = None, folder: Path = Path(".")) -> LoadedRoadmap:
    """Validate a roadmap mapping: schema, then ids, references and dates (:func:`reference_problems`); then
    evaluate the generations' designs (paths relative to ``folder``)."""
    try:
        roadmap = Roadmap.model_validate(data)
    except ValidationError as exc:
        raise InputError(file, problems_from_validation(exc, root)) from None
    loaded = LoadedRoadmap(roadmap=roadmap, file=file, folder=folder, root=root)
    problems = reference_problems(loaded)
    if problems:
        raise InputError(file, problems)
    loaded.racks = _racks(loaded)
    return loaded


def with_objective(loaded: LoadedRoadmap, objective: str) -> LoadedRoadmap:
    """``loaded`` with its goal's objective replaced by ``objective`` (``roadmap plan --objective``); InputError for
    one not in :data:`OBJECTIVES`."""
    if objective not in OBJECTIVES:
        raise InputError.single(
            None, f"unknown objective {objective!r}", "--objective", f"one of: {', '.join(OBJECTIVES)}"
        )
    goal = loaded.roadmap.goal.model_copy(update={"objective": objective})
    return loaded.model_copy(update={"roadmap": loaded.roadmap.model_copy(update={"goal": goal})})


def _racks(loaded: LoadedRoadmap) -> list[Rack]:
    """Each generation's design file evaluated (a file named twice, once); a bad design names the field."""
    racks: dict[Path, Rack] = {}
    for i, generation in enumerate(loaded.roadmap.generations):
        path = (loaded.folder / generation.design).resolve()
        if path in racks:
            continue
        try:
            racks[path] = sound_design(path)
        except InputError as exc:
            raise loaded.error(
                f"design {generation.design!r} cannot be used: {exc}",
                ("generations", i, "design"),
                "give the path of a valid design file, relative to the roadmap file",
            ) from None
    return [racks[(loaded.folder / g.design).resolve()] for g in loaded.roadmap.generations]


def _unique(loaded: LoadedRoadmap, family: str, items) -> list[Problem]:
    seen, problems = set(), []
    for i, item in enumerate(items):
        if item.id in seen:
            problems.append(loaded.problem(f"id {item.id!r} appears twice; ids must be unique", (family, i, "id")))
        seen.add(item.id)
    return problems


def _in_order(loaded: LoadedRoadmap, steps, loc: tuple) -> list[Problem]:
    dates = [s.start for s in steps]
    for j in range(1, len(dates)):
        if dates[j] <= dates[j - 1]:
            return [
                loaded.problem(
                    f"dates out of order: {dates[j]} is not after {dates[j - 1]}",
                    loc + (j, "from"),
                    "list the steps in increasing date order",
                )
            ]
    return []


def reference_problems(loaded: LoadedRoadmap) -> list[Problem]:
    """Unique ids, known generation ids, dates in order, every generation hosted and built somewhere."""
    r = loaded.roadmap
    p = loaded.problem
    problems = [
        *_unique(loaded, "generations", r.generations),
        *_unique(loaded, "sites", r.sites),
        *_unique(loaded, "factories", r.factories),
        *_unique(loaded, "supply", r.supply),
    ]
    ids = [g.id for g in r.generations]
    known = f"one of: {', '.join(ids)}"
    goal = r.goal
    if goal.start.day != 1 or goal.start.month not in (1, 4, 7, 10):
        problems.append(
            p(
                f"{goal.start} is not the first day of a quarter",
                ("goal", "start"),
                "use YYYY-01-01, YYYY-04-01, YYYY-07-01 or YYYY-10-01",
            )
        )
    elif goal.by.year - goal.start.year > MAX_YEARS:
        problems.append(
            p(
                f"the horizon {goal.start} to {goal.by} is longer than {MAX_YEARS} years",
                ("goal", "by"),
                "plan a shorter horizon",
            )
        )
    elif quarter_ends(goal.start, goal.by).size == 0:
        problems.append(
            p(
                f"dates out of order: the goal date {goal.by} ends no quarter after the start {goal.start}",
                ("goal", "by"),
                "give a date at least one quarter after goal.start",
            )
        )
    for i, g in enumerate(r.generations):
        if g.end_of_builds is not None and g.end_of_builds <= g.first_ship:
            problems.append(
                p(
                    f"dates out of order: end_of_builds {g.end_of_builds} is not after first_ship {g.first_ship}",
                    ("generations", i, "end_of_builds"),
                    "end builds after first ship",
                )
            )
        if not any(g.id in s.hosts for s in r.sites):
            problems.append(
                p(
                    f"no site can host generation {g.id!r}",
                    ("generations", i, "id"),
                    "add it to the hosts of a site with the power and cooling it needs, or remove it",
                )
            )
        if not any(g.id in f.capacity for f in r.factories):
            problems.append(
                p(
                    f"no factory builds generation {g.id!r}",
                    ("generations", i, "id"),
                    "give a factory a capacity for it",
                )
            )
    for i, s in enumerate(r.sites):
        problems += _in_order(loaded, s.power, ("sites", i, "power"))
        problems += [
            p(f"unknown generation {h!r}", ("sites", i, "hosts", j), known)
            for j, h in enumerate(s.hosts)
            if h not in ids
        ]
    for i, f in enumerate(r.factories):
        problems += [
            p(f"unknown generation {g!r}", ("factories", i, "capacity", g), known) for g in f.capacity if g not in ids
        ]
        if f.start > goal.by:
            problems.append(
                p(
                    f"dates out of order: the factory starts {f.start}, after the goal date {goal.by}",
                    ("factories", i, "start"),
                    "start it before the goal date or remove it",
                )
            )
    for i, supply in enumerate(r.supply):
        problems += _in_order(loaded, supply.caps, ("supply", i, "caps"))
    return problems


def quarter_ends(start: dt.date, by: dt.date) -> np.ndarray:
    """Quarter-end dates (``datetime64[D]``, exclusive: the next quarter's first day) of quarters ending by ``by``."""
    first = np.datetime64(start, "M")
    ends = first + np.arange(3, 3 * 400 + 1, 3)
    ends = ends.astype("datetime64[D]")
    return ends[ends <= np.datetime64(by, "D") + 1]


def quarter_label(month: np.datetime64) -> str:
    """``2027-07`` → ``"2027Q3"``."""
    year, m = int(str(month)[:4]), int(str(month)[5:7])
    return f"{year}Q{(m - 1) // 3 + 1}"


def quarter_start(label: str) -> dt.date:
    """``"2027Q3"`` → 2027-07-01."""
    return dt.date(int(label[:4]), 3 * int(label[5]) - 2, 1)


def quarter_end(label: str) -> dt.date:
    """``"2027Q3"`` → 2027-09-30, the quarter's last day."""
    year, quarter = int(label[:4]), int(label[5])
    return (dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)) - dt.timedelta(days=1)
