"""Line files: the schema of a rack integration-and-test line, and loading with readable errors.

A line file (YAML) names a working calendar, an ordered list of stations every rack
passes through, and how racks (their kits of parts) arrive::

    name: US rack line
    calendar: {shifts_per_day: 3, hours_per_shift: "8 h", days_per_week: 6}
    arrival: {racks_per_week: 1000}
    stations:
      - id: cabling
        name: Rack cabling
        level: L11
        resources: 40               # parallel bays / cells
        operators: 40               # optional: a visit also holds one operator
        process_time: {dist: lognormal, mean: "3 min", cv: 0.3}
        per: cable                  # the time above is per cable of the design
        setup: "20 min"             # optional fixed time per rack visit
        yield: 0.98                 # first-pass yield of the station's test
        rework: {to: cabling, time: {dist: exponential, mean: "1 h"}}
        assumption: "..."           # or source: {title, url, date}

Times are strings with units (``"6 h"``, ``"45 min"``), kept as strings here and
converted to hours by :func:`hours` when the simulation reads them.

**Rework routing.** A rack that fails a station's test (probability ``1 - yield``)
is reworked at station ``rework.to`` (this station or an earlier one; default: this
station) for ``rework.time``, holding one of that station's resources. It then goes
through the line again from the station after ``rework.to`` up to and including the
failed one; a rack reworked in place (``to`` = the failed station) repeats that
station. ``rework.to`` after the failing station is refused (it would skip stations),
and so are routings whose loops a rack would, on average, go round more than
:data:`MAX_VISITS` times (they never terminate in practice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..catalog.schema import Source
from ..errors import InputError, Problem
from ..units import UnitError, parse_quantity
from ..validity import Name
from ..yamlio import LocatedInput, Strict, problems_from_validation, read_yaml, to_plain

#: What a station's time can scale with (the design's work content, :mod:`rackwright.factory.dfm`).
PER = ("rack", "tray", "compute_tray", "switch_tray", "cable", "liquid_connection")
#: The most visits of one station a rack may need on average before the routing counts as non-terminating.
MAX_VISITS = 1000.0
#: The largest arrival rate accepted [racks/week]: about 100 times the largest factory quoted.
MAX_RACKS_PER_WEEK = 100_000.0
HOURS_PER_WEEK = 168.0


def hours(text: str) -> float:
    """A time string (``"45 min"``) in hours."""
    return parse_quantity(text, "time") / 3600.0


def _time(minimum: float, strict: bool):
    """Field validator: a time string ≥ ``minimum`` (> when ``strict``)."""

    def check(value):
        if value is None:
            return value
        try:
            h = hours(value)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        if not np.isfinite(h) or (h <= minimum if strict else h < minimum):
            raise ValueError(f"{value!r}: a time must be {'positive' if strict else 'zero or more'}")
        return value

    return check


class Distribution(Strict):
    """A random time: ``fixed``/``exponential`` (``mean``), ``lognormal`` (``mean``, ``cv``) or ``triangular``
    (``min``, ``mode``, ``max``)."""

    dist: Literal["lognormal", "triangular", "exponential", "fixed"]
    mean: str | None = None
    cv: float | None = Field(default=None, ge=0, le=10)
    min: str | None = None
    mode: str | None = None
    max: str | None = None

    _mean = field_validator("mean")(_time(0.0, strict=True))
    _bounds = field_validator("min", "mode")(_time(0.0, strict=False))
    _max = field_validator("max")(_time(0.0, strict=True))

    @model_validator(mode="after")
    def _complete(self):
        if self.dist == "triangular":
            if None in (self.min, self.mode, self.max) or self.mean is not None or self.cv is not None:
                raise ValueError("a triangular time takes min, mode and max (and no mean or cv)")
            low, mode, high = self.triangle()
            if not low <= mode <= high or low >= high:
                raise ValueError(f"need min <= mode <= max and min < max, got {self.min}, {self.mode}, {self.max}")
            return self
        if self.mean is None or any(v is not None for v in (self.min, self.mode, self.max)):
            raise ValueError(f"a {self.dist} time takes a mean (not min/mode/max)")
        if self.dist == "lognormal" and self.cv is None:
            raise ValueError("a lognormal time needs cv (standard deviation / mean), e.g. cv: 0.3")
        if self.dist != "lognormal" and self.cv is not None:
            raise ValueError("cv applies to lognormal times only (exponential has cv 1, fixed 0)")
        return self

    def triangle(self) -> tuple[float, float, float]:
        """(min, mode, max) of a triangular time, in hours."""
        if self.min is None or self.mode is None or self.max is None:
            raise ValueError("a triangular time takes min, mode and max")
        return hours(self.min), hours(self.mode), hours(self.max)

    def mean_hours(self) -> float:
        if self.dist == "triangular":
            return sum(self.triangle()) / 3.0
        if self.mean is None:
            raise ValueError(f"a {self.dist} time takes a mean")
        return hours(self.mean)

    def cv_value(self) -> float:
        """Coefficient of variation (standard deviation / mean)."""
        if self.dist == "fixed":
            return 0.0
        if self.dist == "exponential":
            return 1.0
        if self.dist == "lognormal":
            return float(self.cv or 0.0)  # validated: a lognormal time has its cv
        a, c, b = self.triangle()
        variance = (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0
        return float(np.sqrt(variance) / self.mean_hours())


class Rework(Strict):
    """Where a failed rack is reworked and for how long (see the module docstring)."""

    to: str | None = None
    time: Distribution


class Station(Strict):
    """One step of the line: ``resources`` parallel bays, each visit holding one for the process time."""

    id: Name = Field(min_length=1)
    name: Name = ""
    level: Literal["L10", "L11", "L12"]
    resources: int = Field(ge=1, le=1_000_000)
    operators: int | None = Field(default=None, ge=1, le=1_000_000)
    hours: Literal["shift", "continuous"] = "shift"
    process_time: Distribution
    per: Literal[PER] = "rack"  # type: ignore[valid-type]
    setup: str | None = None
    yield_: float = Field(default=1.0, gt=0, le=1, alias="yield")
    rework: Rework | None = None
    source: Source | list[Source] | None = None
    assumption: str | None = None

    _setup = field_validator("setup")(_time(0.0, strict=False))

    @property
    def servers(self) -> int:
        """Racks served at once: bays, or operators where fewer."""
        return min(self.resources, self.operators) if self.operators else self.resources


class Calendar(Strict):
    """Working hours: ``shifts_per_day`` × ``hours_per_shift`` from midnight, on the first ``days_per_week`` days."""

    shifts_per_day: int = Field(default=3, ge=1, le=24)
    hours_per_shift: str = "8 h"
    days_per_week: int = Field(default=7, ge=1, le=7)

    _shift = field_validator("hours_per_shift")(_time(0.0, strict=True))

    @model_validator(mode="after")
    def _fits_day(self):
        if self.shifts_per_day * hours(self.hours_per_shift) > 24.0 + 1e-9:
            raise ValueError(f"{self.shifts_per_day} shifts of {self.hours_per_shift} exceed 24 h a day")
        return self

    @property
    def hours_per_day(self) -> float:
        return self.shifts_per_day * hours(self.hours_per_shift)

    @property
    def hours_per_week(self) -> float:
        return self.hours_per_day * self.days_per_week


class Arrival(Strict):
    """Racks (kits of parts) entering the line.

    Poisson at ``racks_per_week`` by default. With ``from_supply: true`` kits are
    released evenly at ``racks_per_week`` (the weekly part-availability cap), starting
    after ``start_delay_weeks``, or later where the design's longest part lead time
    exceeds ``parts_ordered_weeks_before`` (parts ordered that many weeks before week 0):
    a late part starves the line.
    """

    racks_per_week: float = Field(gt=0, le=MAX_RACKS_PER_WEEK)
    from_supply: bool = False
    start_delay_weeks: float = Field(default=0.0, ge=0, le=520)
    parts_ordered_weeks_before: float | None = Field(default=None, ge=0, le=520)


class Line(Strict):
    """A rack integration-and-test line (see the module docstring)."""

    name: Name
    description: str = ""
    sources: list[Source] = Field(default_factory=list)
    calendar: Calendar = Field(default_factory=Calendar)
    stations: list[Station] = Field(min_length=1, max_length=200)
    arrival: Arrival


class LoadedLine(LocatedInput, BaseModel):
    """A validated line with its file and YAML nodes (for messages)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    line: Line
    file: str | None = None
    root: Any = None


def load_line(path: str | Path) -> LoadedLine:
    """Read and validate a line file; raise :class:`InputError` with field paths on bad input."""
    root = read_yaml(path)
    if not isinstance(root, dict):
        raise InputError.single(
            str(path),
            "a line file is a YAML mapping (name:, calendar:, stations:, arrival:)",
            hint="see examples/line-us.yaml",
        )
    return validate_line(to_plain(root), str(path), root)


def validate_line(data: dict, file: str | None = None, root: Any = None) -> LoadedLine:
    """Validate a line mapping: schema, unique ids, rework targets and routing termination."""
    try:
        line = Line.model_validate(data)
    except ValidationError as exc:
        raise InputError(file, problems_from_validation(exc, root)) from None
    loaded = LoadedLine(line=line, file=file, root=root)
    problems = _routing_problems(loaded)
    if problems:
        raise InputError(file, problems)
    return loaded


def _routing_problems(loaded: LoadedLine) -> list[Problem]:
    line = loaded.line
    problems: list[Problem] = []
    index: dict[str, int] = {}
    for i, station in enumerate(line.stations):
        if station.id in index:
            problems.append(
                loaded.problem(f"station id {station.id!r} appears twice; ids must be unique", ("stations", i, "id"))
            )
        index.setdefault(station.id, i)
    for i, station in enumerate(line.stations):
        if station.rework is None or station.rework.to is None:
            continue
        target = station.rework.to
        if target not in index:
            problems.append(
                loaded.problem(
                    f"unknown station {target!r}", ("stations", i, "rework", "to"), f"one of: {', '.join(index)}"
                )
            )
        elif index[target] > i:
            problems.append(
                loaded.problem(
                    f"rework goes forward to {target!r}, which would skip the stations in between",
                    ("stations", i, "rework", "to"),
                    f"rework at {station.id!r} itself or at an earlier station",
                )
            )
    if problems:
        return problems
    visits, _ = expected_visits(line)
    for i, v in enumerate(visits):
        if not np.isfinite(v) or v > MAX_VISITS:
            worst = min(range(len(line.stations)), key=lambda j: line.stations[j].yield_)
            problems.append(
                loaded.problem(
                    f"the rework loops never terminate in practice: a rack would visit {line.stations[i].id!r} "
                    f"{'an unbounded number of' if not np.isfinite(v) else f'{v:.3g}'} times on average "
                    f"(more than {MAX_VISITS:g})",
                    ("stations", worst, "rework"),
                    "raise the yields or rework closer to the failing station",
                )
            )
            break
    return problems


def rework_target(line: Line, i: int) -> int:
    """Index of the station where a rack failing station ``i`` is reworked."""
    rework = line.stations[i].rework
    if rework is None or rework.to is None:
        return i
    return next(j for j, s in enumerate(line.stations) if s.id == rework.to)


def resume_after_rework(line: Line, i: int) -> int:
    """Index of the station a rack failing station ``i`` goes to after its rework."""
    target = rework_target(line, i)
    return i if target == i else target + 1


def expected_visits(line: Line) -> tuple[np.ndarray, np.ndarray]:
    """Mean process visits per rack of each station, and mean rework visits hosted by each station.

    Without loops back, a station of first-pass yield ``Y`` is visited ``1/Y`` times;
    loops back multiply the visits of every station they span (an absorbing Markov chain,
    ``v = e₀ + Pᵀv``).
    """
    n = len(line.stations)
    transfer = np.zeros((n, n))
    for i, station in enumerate(line.stations):
        if i + 1 < n:
            transfer[i, i + 1] += station.yield_
        transfer[i, resume_after_rework(line, i)] += 1.0 - station.yield_
    start = np.zeros(n)
    start[0] = 1.0
    try:
        visits = np.linalg.solve(np.eye(n) - transfer.T, start)
    except np.linalg.LinAlgError:
        return np.full(n, np.inf), np.full(n, np.inf)
    if np.any(visits < -1e-9):
        visits = np.full(n, np.inf)
    rework = np.zeros(n)
    for i, station in enumerate(line.stations):
        rework[rework_target(line, i)] += (1.0 - station.yield_) * visits[i]
    return visits, rework
