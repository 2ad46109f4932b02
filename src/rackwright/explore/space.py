"""Space files: a base design, the axes to vary, constraints and objectives (see docs/explore.md).

An axis is one of two kinds:

* an **override axis** names a path of the batch path (``parts.accelerator.power``,
  ``slots[compute-upper].count``, ``cooling.facility_supply``, ``sourcing.power.origin``;
  see :mod:`rackwright.rack.chain`): its values become SI arrays, evaluated together;
* a **design axis** changes the rack's structure (``power.architecture``, the part of a
  link or slot, or named ``variants`` that each patch the base design like a design that
  ``extends`` it): each combination of design-axis values is its own resolved rack.

Values are a list (``values``), an inclusive range (``range: {start, stop, step}``) or,
for sampling methods, a continuous ``distribution: {uniform: [low, high]}``.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from ..catalog import load_catalog
from ..errors import InputError
from ..rack.chain import ITEM_SPECS, PARAMETERS, RackChain, override_dimension, parse_override, split_overrides
from ..rack.design import LoadedDesign, deep_merge, validate_design
from ..rack.evaluation import evaluate_batch, sound_design, sound_model
from ..units import DIMENSIONS, UnitError, from_si, parse_quantity
from ..validity import Name
from ..yamlio import LocatedInput, Strict, location, problems_from_validation, read_yaml, to_plain

#: Most structural combinations (products of design-axis values) a space may have; each is resolved once.
MAX_COMBINATIONS = 4096
#: Most designs one exploration evaluates (its results table holds ~100 bytes per design in memory).
MAX_DESIGNS = 20_000_000
_NUMBER_AND_UNIT = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*(.*)$")
_KEYED = re.compile(r"^([a-z_]+)\[([^\]]+)\]$")
#: Integer type of the label index of a discrete axis in results (an axis has at most 10 million values).
INDEX = np.int32
#: Design lists whose items are addressed by id in a path, as ``extends`` merges them.
KEYED_PATHS = {"slots": ("slots",), "links": ("network", "links")}

Scalar = str | float | int


class RangeSpec(Strict):
    """Inclusive ``start``..``stop`` in steps of ``step`` (quantities with units, or numbers for counts)."""

    start: Scalar
    stop: Scalar
    step: Scalar


class DistributionSpec(Strict):
    """A continuous distribution for sampling methods: ``uniform: [low, high]``."""

    uniform: tuple[Scalar, Scalar]


class AxisSpec(Strict):
    """One axis: a ``path`` (or a ``name`` for variants) and exactly one way to give its values."""

    path: str | None = None
    name: Name | None = None
    values: list[Scalar] | None = Field(default=None, min_length=1)
    range: RangeSpec | None = None
    distribution: DistributionSpec | None = None
    variants: dict[str, dict] | None = Field(default=None, min_length=1)
    price_change: dict[str, Scalar] = Field(default_factory=dict)
    assumption: str | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        given = [k for k in ("values", "range", "distribution", "variants") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of values, range, distribution or variants")
        if self.variants is None and not self.path:
            raise ValueError("an axis needs a path (or variants with a name)")
        if self.variants is not None and not (self.name or self.path):
            raise ValueError("name the variants axis (name: power architecture)")
        return self


class LimitSpec(Strict):
    """A bound on an evaluated figure (display units of its key, e.g. ``power.input_kw``)."""

    figure: str
    max: float | None = None
    min: float | None = None

    @model_validator(mode="after")
    def _bound(self):
        if self.max is None and self.min is None:
            raise ValueError("give max, min or both")
        return self


class ConstraintsSpec(Strict):
    rules: bool = True  # the design rules (severity error) must pass
    limits: list[LimitSpec] = Field(default_factory=list)


class ObjectiveSpec(Strict):
    figure: str
    goal: Literal["min", "max"]
    #: The training workload of the training figures (``perf.training_tokens_per_s_per_mw`` and ``_per_usd``, a
    #: key of :data:`rackwright.perf.reference.REFERENCE_TRAININGS`): dense Llama 3 405B or MoE DeepSeek-V3.
    reference: Literal["dense", "moe"] = "dense"

    @model_validator(mode="after")
    def _reference_on_training(self):
        if self.reference != "dense" and self.figure not in TRAINING_FIGURES:
            raise ValueError(
                f"reference applies to the figures {' and '.join(TRAINING_FIGURES)} only, not {self.figure}"
            )
        return self


class SamplingSpec(Strict):
    """``grid`` (every combination), ``lhs`` / ``sobol`` (``samples`` points) or ``nsga2`` (optimisation)."""

    method: Literal["grid", "lhs", "sobol", "nsga2"] = "grid"
    samples: int | None = Field(default=None, ge=1, le=MAX_DESIGNS)
    seed: int = Field(default=0, ge=0)
    population: int = Field(default=64, ge=4, le=10_000)
    generations: int = Field(default=30, ge=1, le=1_000)


class SensitivitySpec(Strict):
    """Sobol indices from ``samples`` base points (a power of two; 0 turns the analysis off)."""

    samples: int = Field(default=256, ge=0, le=65536)
    seed: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _power_of_two(self):
        if self.samples and self.samples & (self.samples - 1):
            raise ValueError(f"samples must be a power of two (e.g. 256, 1024), not {self.samples}")
        return self


class SpaceFile(Strict):
    name: Name
    description: str = ""
    base: str
    sampling: SamplingSpec = Field(default_factory=SamplingSpec)
    axes: list[AxisSpec] = Field(min_length=1)
    constraints: ConstraintsSpec = Field(default_factory=ConstraintsSpec)
    objectives: list[ObjectiveSpec] = Field(min_length=1)
    sensitivity: SensitivitySpec = Field(default_factory=SensitivitySpec)


@dataclass
class Axis:
    """A compiled axis: labels of its discrete values, their SI values or design fragments, or a continuous span."""

    name: str
    path: str | None
    kind: str  # "override" or "design"
    labels: list[str] = field(default_factory=list)  # empty for a continuous axis
    si: np.ndarray | None = None  # override axes: SI value per label
    low: float = math.nan  # continuous axes: SI bounds
    high: float = math.nan
    unit: str = ""  # display unit of continuous values
    dimension: str = "dimensionless"
    fragments: list[dict] = field(default_factory=list)  # design axes: the design patch per label
    paired: dict[str, np.ndarray] = field(default_factory=dict)  # extra override path → SI value per label

    @property
    def discrete(self) -> bool:
        return bool(self.labels)

    @property
    def size(self) -> int:
        return len(self.labels)

    def value(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval samples onto the axis: label indices (discrete) or SI values (continuous)."""
        if self.discrete:
            return np.minimum((np.asarray(u) * self.size).astype(INDEX), self.size - 1)
        return self.low + np.asarray(u) * (self.high - self.low)

    def overrides(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """Override arrays (SI) for label indices or continuous values of this axis."""
        if self.kind != "override":
            return {}
        assert self.path is not None  # an override axis has a path
        if not self.discrete:
            return {self.path: values}
        assert self.si is not None  # a discrete override axis has an SI value per label
        return {self.path: self.si[values], **{path: table[values] for path, table in self.paired.items()}}

    def display(self, values: np.ndarray):
        """Labels (discrete) or values in the display unit (continuous), for tables and exports."""
        if self.discrete:
            return [self.labels[int(i)] for i in values]
        return from_si(np.asarray(values, dtype=float), self.unit, self.dimension) if self.unit else values


@dataclass
class Space:
    """A loaded space: base design, compiled axes, one resolved rack per structural combination."""

    file: str
    spec: SpaceFile
    base: LoadedDesign
    axes: list[Axis]
    combinations: list[LoadedDesign]

    @property
    def training_reference(self) -> str:
        """The reference training workload of the training figures: the first objective on one names it."""
        return next((o.reference for o in self.spec.objectives if o.figure in TRAINING_FIGURES), "dense")

    @property
    def design_axes(self) -> list[Axis]:
        return [a for a in self.axes if a.kind == "design"]

    def combination_of(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Index of the structural combination of each point (C order over the design axes)."""
        design = self.design_axes
        if not design:
            return np.zeros(len(next(iter(values.values()))), dtype=np.int64)
        return np.ravel_multi_index([values[a.name] for a in design], [a.size for a in design])


# --- loading -----------------------------------------------------------------------------


def load_space(path: str | Path) -> Space:
    """Read, validate and compile a space file; every problem is an :class:`InputError` naming the field."""
    path = Path(path)
    root = read_yaml(path)
    if not isinstance(root, dict):
        raise InputError.single(
            str(path),
            "a space file is a YAML mapping (name:, base:, axes:, objectives:)",
            hint="see examples/space-gb300-small.yaml",
        )
    try:
        spec = SpaceFile.model_validate(to_plain(root))
    except ValidationError as exc:
        raise InputError(str(path), problems_from_validation(exc, root)) from None
    file = str(path)
    base_path = path.parent / spec.base
    if not base_path.exists():
        raise InputError.single(
            file,
            f"base design {spec.base!r} not found (looked at {base_path})",
            "base",
            "give the design file's path relative to the space file",
            *location(root, ("base",)),
        )
    base = sound_model(sound_design(base_path, load_catalog()), "the explorer").loaded
    chain = RackChain(base, load_catalog())
    where = _Where(file, root)
    axes = [_compile_axis(i, a, spec.sampling.method, chain, base, where) for i, a in enumerate(spec.axes)]
    names = [a.name for a in axes]
    for i, (name, axis) in enumerate(zip(names, axes, strict=True)):
        if name in names[:i]:
            raise where.error(f"axis {name!r} appears twice", ("axes", i))
        if len(set(axis.labels)) != len(axis.labels):
            raise where.error(f"axis {name!r} repeats a value", ("axes", i), "give each value once")
    if spec.sampling.method == "grid" and math.prod(a.size for a in axes) > MAX_DESIGNS:
        raise where.error(
            f"the grid has {math.prod(a.size for a in axes):,} designs (at most {MAX_DESIGNS:,})",
            ("axes",),
            "use coarser ranges, or sampling.method lhs, sobol or nsga2",
        )
    if spec.sampling.method == "nsga2" and spec.sampling.population * spec.sampling.generations > MAX_DESIGNS:
        raise where.error(f"population x generations exceeds {MAX_DESIGNS:,} designs", ("sampling",))
    combinations = _combinations(base, axes, where)
    spec = _check_figures(spec, available_figures(combinations[0]), where)
    return Space(file, spec, base, axes, combinations)


@lru_cache(maxsize=16)
def cached_space(path: str, mtime: float) -> Space:
    """:func:`load_space`, once per process and file version (workers of a backend call this)."""
    return load_space(path)


def loaded_space(path: str | Path) -> Space:
    """The space file loaded through the per-process cache that backends' workers use too."""
    path = Path(path)
    if not path.is_file():
        return load_space(path)  # the reader's own "file not found" / "is a directory" errors
    return cached_space(str(path), path.stat().st_mtime)


@dataclass
class _Where(LocatedInput):
    """The space file and its YAML nodes: problems at a field path, with line and column."""

    file: str
    root: object


def _compile_axis(i: int, spec: AxisSpec, method: str, chain: RackChain, base: LoadedDesign, where: _Where) -> Axis:
    loc = ("axes", i)
    if spec.variants is not None:
        name = spec.name or spec.path or ""  # AxisSpec: a variants axis has a name or a path
        return Axis(name, spec.path, "design", list(spec.variants), fragments=[v or {} for v in spec.variants.values()])
    path = spec.path
    assert path is not None  # AxisSpec: every axis but a variants axis has a path
    try:
        dimension = override_dimension(path)
    except (KeyError, ValueError) as exc:
        raise where.error(f"{exc.args[0]}{_did_you_mean(path, base)}", loc + ("path",)) from None
    name = spec.name or path
    if dimension is None:
        return _design_path_axis(i, spec, path, name, base, where)
    try:
        split_overrides(chain.model, {path: 0.0})
    except KeyError as exc:
        raise where.error(f"{exc.args[0]}{_did_you_mean(path, base)}", loc + ("path",)) from None
    counts = path.startswith("slots[")
    if spec.distribution is not None:
        if counts:
            raise where.error("a slot count is a whole number: give values or a range", loc + ("distribution",))
        if method == "grid":
            raise where.error(
                "a distribution cannot be gridded",
                loc + ("distribution",),
                "give values or a range with a step, or use sampling.method lhs/sobol",
            )
        low, high = (
            _quantity(v, dimension, path, loc + ("distribution", "uniform"), where) for v in spec.distribution.uniform
        )
        if not high > low:
            raise where.error("empty distribution: high must exceed low", loc + ("distribution",))
        return Axis(
            name, path, "override", low=low, high=high, unit=_unit_of(spec.distribution.uniform[0]), dimension=dimension
        )
    if spec.range is not None:
        si, labels = _range_values(spec.range, dimension, path, loc + ("range",), where)
    else:
        values = spec.values or []  # AxisSpec: exactly one of values, range, distribution, variants
        si = np.array([_quantity(v, dimension, path, loc + ("values", j), where) for j, v in enumerate(values)])
        labels = [str(v) for v in values]
    if counts and np.any((si < 0) | (si % 1 != 0)):
        raise where.error("slot counts are whole numbers >= 0", loc, "use values like [6, 8, 10] or a step of 1")
    axis = Axis(name, path, "override", labels, si, dimension=dimension)
    if spec.price_change:
        axis.paired = _price_changes(spec, path, labels, loc, where)
    return axis


def _quantity(value, dimension: str, path: str, loc: tuple, where: _Where) -> float:
    """One value of an override path in SI (``path`` empty: a plain quantity of ``dimension``)."""
    try:
        return parse_override(path, value) if path else parse_quantity(value, dimension)
    except (UnitError, KeyError, ValueError) as exc:
        raise where.error(str(exc.args[0]), loc) from None


def _range_values(
    spec: RangeSpec, dimension: str, path: str, loc: tuple, where: _Where
) -> tuple[np.ndarray, list[str]]:
    """The inclusive range's SI values and labels in the unit of ``start``."""
    if dimension == "origin":
        raise where.error("an origin axis takes values (country codes), not a range", loc)
    start = _quantity(spec.start, dimension, path, loc + ("start",), where)
    stop = _quantity(spec.stop, dimension, path, loc + ("stop",), where)
    step_dimension = "temperature_difference" if dimension == "temperature" else dimension
    step = _quantity(spec.step, step_dimension, path if step_dimension == dimension else "", loc + ("step",), where)
    if not (step > 0 and stop >= start):
        raise where.error(
            f"empty range: start {spec.start} to stop {spec.stop} in steps of {spec.step}",
            loc,
            "give start <= stop and a positive step",
        )
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > 10_000_000:
        raise where.error(f"the range has {count:,} values", loc, "use a coarser step")
    si = start + step * np.arange(count)
    unit = _unit_of(spec.start)
    shown = from_si(si, unit, dimension) if unit else si
    labels = [f"{v:.6g} {unit}".strip() for v in shown]
    if len(set(labels)) < len(labels):  # a step finer than six digits: full precision
        labels = [f"{v!r} {unit}".strip() for v in shown.tolist()]
    return si, labels


def _unit_of(value) -> str:
    """The unit text of a quantity like ``"1000 W"`` (empty for numbers and counts)."""
    if not isinstance(value, str):
        return ""
    match = _NUMBER_AND_UNIT.match(value)
    return match.group(1).strip() if match else ""


def _price_changes(spec: AxisSpec, path: str, labels: list[str], loc: tuple, where: _Where) -> dict[str, np.ndarray]:
    """``price_change: {US: "+15%"}`` on a sourcing origin axis ``path`` → a paired price-change override per label."""
    if not (path.startswith("sourcing.") and path.endswith(".origin")):
        raise where.error("price_change applies to sourcing.<...>.origin axes", loc + ("price_change",))
    unknown = [k for k in spec.price_change if k not in labels]
    if unknown:
        raise where.error(
            f"price_change names {unknown[0]!r}, which is not one of the axis values",
            loc + ("price_change",),
            f"one of: {', '.join(labels)}",
        )
    target = path[: -len(".origin")] + ".price_change"
    changes = np.array(
        [
            _quantity(spec.price_change.get(label, 0.0), "price_change", target, loc + ("price_change", label), where)
            for label in labels
        ]
    )
    return {target: changes}


def _design_path_axis(i: int, spec: AxisSpec, path: str, name: str, base: LoadedDesign, where: _Where) -> Axis:
    """A design field ``path`` set to each value: ``power.architecture``, ``network.links[scale-out].part``."""
    loc = ("axes", i)
    known = design_paths(base)
    if path not in known:
        raise where.error(
            f"unknown parameter path {path!r}{_did_you_mean(path, base)}",
            loc + ("path",),
            "use an override path (parts.<kind>.<spec>, slots[<id>].count, sourcing.<category>.origin, "
            "a design parameter) or a field of the design",
        )
    if spec.values is None:
        raise where.error(
            f"{path!r} is a design field: give its values as a list",
            loc,
            "ranges and distributions apply to numeric override paths",
        )
    return Axis(name, path, "design", [str(v) for v in spec.values], fragments=[fragment(path, v) for v in spec.values])


def fragment(path: str, value) -> dict:
    """The design patch that sets ``path`` to ``value``:
    ``slots[x].part`` → ``{"slots": [{"id": "x", "part": ...}]}``."""
    keys = path.split(".")
    out: dict = {}
    node = out
    for k, key in enumerate(keys):
        last = k == len(keys) - 1
        match = _KEYED.match(key)
        if match:
            item = {"id": match.group(2)}
            node[match.group(1)] = [item]
            node = item
            continue
        if last:
            node[key] = value
        else:
            node = node.setdefault(key, {})
    return out


def design_paths(base: LoadedDesign) -> set[str]:
    """Every field path of the base design (keyed list items by id), for design axes and suggestions."""
    paths: set[str] = set()

    def walk(node, prefix: str):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else key)
        elif isinstance(node, list) and prefix.rsplit(".", 1)[-1] in KEYED_PATHS:
            for item in node:
                walk(item, f"{prefix}[{item['id']}]")
        else:
            paths.add(prefix)

    walk(base.design.model_dump(), "")
    return {p for p in paths if not p.startswith(("sources", "overrides", "name", "description", "extends"))}


def override_paths(base: LoadedDesign) -> set[str]:
    """Override paths that apply to the base design (for "did you mean")."""
    model = RackChain(base, load_catalog()).model
    parts = [i.part for i in model.items]
    out = set(PARAMETERS) | {f"slots[{s.id}].count" for s in base.design.slots}
    out |= {f"parts.{p.kind}.{spec}" for p in parts for spec in ITEM_SPECS}
    out |= {
        f"sourcing.{sel}.{name}" for p in parts for sel in (p.category, p.kind) for name in ("origin", "price_change")
    }
    return out


def _did_you_mean(path: str, base: LoadedDesign) -> str:
    hint = difflib.get_close_matches(path, sorted(override_paths(base) | design_paths(base)), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(hint)}?)" if hint else ""


def _combinations(base: LoadedDesign, axes: list[Axis], where: _Where) -> list[LoadedDesign]:
    """One validated design per combination of design-axis values (C order)."""
    design = [(i, a) for i, a in enumerate(axes) if a.kind == "design"]
    count = math.prod(a.size for _, a in design)
    if count > MAX_COMBINATIONS:
        raise where.error(
            f"the design axes make {count:,} structural combinations (at most {MAX_COMBINATIONS:,})",
            ("axes",),
            "vary fewer design fields, or use override paths",
        )
    out = []
    for combo in np.ndindex(*[a.size for _, a in design]):
        raw = base.raw
        for (_, axis), j in zip(design, combo, strict=True):
            raw = deep_merge(raw, axis.fragments[j])
        try:
            loaded = validate_design(raw, base.file, base.lineage)
            RackChain(loaded, load_catalog())
        except InputError as exc:
            values = ", ".join(f"{axis.name}={axis.labels[j]}" for (_, axis), j in zip(design, combo, strict=True))
            raise InputError(
                where.file,
                [
                    where.problem(
                        f"the design with {values} is not valid: {p.render(exc.file)}",
                        ("axes", design[0][0]) if design else ("axes",),
                    )
                    for p in exc.problems
                ],
            ) from None
        out.append(loaded)
    return out


#: The explorer's derived figures (computed in :mod:`rackwright.explore.evaluate`): BOM per PFLOP/s by precision,
#: training tokens/s per MW of rack input power and per USD of the rack's BOM on the reference workload.
PER_PFLOP = "cost.usd_per_pflop."
TRAINING = "perf.training_tokens_per_s_per_mw"
TRAINING_USD = "perf.training_tokens_per_s_per_usd"
TRAINING_FIGURES = (TRAINING, TRAINING_USD)


def derived_figure_keys(keys: list[str]) -> list[str]:
    """The explorer's figures that can be computed from the evaluation's keys."""
    precisions = [k.rsplit(".", 1)[1] for k in keys if k.startswith("compute.peak_pflops.")]
    return [PER_PFLOP + p for p in precisions] + list(TRAINING_FIGURES)


def available_figures(loaded: LoadedDesign) -> list[str]:
    """Figure keys objectives and limits may name: the evaluation's JSON keys plus the explorer's derived ones."""
    keys = list(evaluate_batch(loaded, {}, load_catalog()).figures)
    return keys + derived_figure_keys(keys)


def _check_figures(spec: SpaceFile, keys: list[str], where: _Where) -> SpaceFile:
    """``spec`` with each objective and limit on a figure key; a figure may also be named as ``evaluate --json``
    names it (``sourcing.us_content_share`` for ``sourcing.domestic_share``, ``compute.hbm_bytes`` for
    ``compute.hbm_tb``, a limit's bounds then in bytes), the key its JSON name comes from taking its place."""
    from ..report.jsonout import public_figure

    public = {name: (key, factor) for key in keys for name, factor in [public_figure(key)] if name != key}
    objectives = [o.model_copy(update={"figure": public.get(o.figure, (o.figure,))[0]}) for o in spec.objectives]
    limits = []
    for limit in spec.constraints.limits:
        key, factor = public.get(limit.figure, (limit.figure, 1.0))
        bounds = {k: getattr(limit, k) / factor for k in ("min", "max") if getattr(limit, k) is not None}
        limits.append(limit.model_copy(update={"figure": key, **bounds}))
    named: list[tuple[tuple, str]] = [(("objectives", i, "figure"), o.figure) for i, o in enumerate(objectives)]
    named += [(("constraints", "limits", i, "figure"), c.figure) for i, c in enumerate(limits)]
    problems = []
    for loc, figure in named:
        if figure not in keys:
            hint = difflib.get_close_matches(figure, [*keys, *public], n=3, cutoff=0.5)
            problems.append(
                where.problem(
                    f"unknown figure {figure!r}",
                    loc,
                    f"did you mean {' or '.join(hint)}?" if hint else "see rackwright evaluate --json",
                )
            )
    if problems:
        raise InputError(where.file, problems)
    constraints = spec.constraints.model_copy(update={"limits": limits})
    return spec.model_copy(update={"objectives": objectives, "constraints": constraints})


def export_value(path: str, dimension: str, si: float, label: str | None = None) -> object:
    """An override as a design's ``overrides:`` writes it: the axis's own label where it reads back to the
    same SI value (``"1200 W"``, ``W32``, ``US``, ``catalog``; a count as a number), else the exact SI value
    with its SI unit."""
    if label is not None:
        try:
            same = np.array_equal(parse_override(path, label), si, equal_nan=True)
        except (UnitError, KeyError, ValueError):
            same = False
        if same:
            return _number(label) if dimension == "dimensionless" and _number(label) is not None else label
    unit = DIMENSIONS.get(dimension, "")
    return float(si) if not unit else f"{float(si)!r} {unit}"


def _number(text: str) -> int | float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value
