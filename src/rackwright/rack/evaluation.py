"""The Python API: ``evaluate`` one design into a :class:`Rack`, ``evaluate_batch`` many variants.

>>> import rackwright
>>> report = rackwright.evaluate("examples/gb200-nvl72.yaml")
>>> report["power.it_load_kw"]          # doctest: +SKIP
>>> batch = rackwright.evaluate_batch("examples/gb200-nvl72.yaml",
...     {"parts.accelerator.power": np.linspace(1000, 1400, 1_000_000)})  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..catalog import Catalog
from ..errors import InputError, Problem
from ..units import UnitError
from ..validity import DOMAINS, Domain, OutOfDomain
from .chain import RackChain, RackModel, override_quantity, parse_override, split_overrides
from .design import LoadedDesign, load_design
from .figures import FIGURES, flat_display
from .rules import (
    FIGURE_RULES,
    LAYOUT_CODES,
    Violation,
    all_violations,
    figure_rule_masks,
    slot_layout_masks,
    structural_violations,
)


@dataclass
class Rack:
    """Evaluated figures of one design (SI inside; display units in :meth:`to_dict`) and its violations."""

    name: str
    generation: str
    file: str | None
    lineage: list[str]
    figures: dict[str, float]
    violations: list[Violation] = field(default_factory=list)
    extra: dict[str, float | None] = field(default_factory=dict)  # figures of other models, e.g. "delivery.*"
    #: The design resolved against the catalog (line items, parameters, ratings), for the models downstream
    #: (the perf system of the rack, its delivery figures) so that they need not load and evaluate it again.
    model: RackModel | None = field(default=None, repr=False, compare=False)

    @classmethod
    def variant(cls, model: RackModel, figures: dict[str, float]) -> Rack:
        """A rack of the resolved design ``model`` with the SI ``figures`` of one variant of a batch
        (:attr:`BatchResult.si`); its violations are not evaluated (the batch's masks hold them)."""
        loaded = model.loaded
        return cls(loaded.design.name, loaded.design.generation, loaded.file, loaded.lineage, figures, model=model)

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    def flat(self) -> dict[str, float]:
        """Display-unit figures by dotted JSON key (``"power.it_load_kw"``)."""
        flat = {k: float(v) for k, v in flat_display(self.figures).items()}
        flat.update({k: float("nan") if v is None else float(v) for k, v in self.extra.items()})
        return flat

    def __getitem__(self, key: str) -> float:
        return self.flat()[key]

    def to_dict(self) -> dict:
        """The JSON document of ``rackwright evaluate --json``."""
        out: dict = {"name": self.name, "generation": self.generation, "file": self.file, "lineage": self.lineage}
        for key, value in self.flat().items():
            node = out
            section, name, *sub = key.split(".")
            node = node.setdefault(section, {})
            if sub:
                node = node.setdefault(name, {})
                name = sub[0]
            node[name] = None if not np.isfinite(value) else round(value, 6)
        out["violations"] = [v.as_dict() for v in self.violations]
        return out


def _chain(design: str | Path | LoadedDesign, catalog: Catalog | None, steps: Mapping | None = None) -> RackChain:
    """The design (a path or a loaded design) resolved against the catalog; anything else is an InputError."""
    if catalog is not None and not isinstance(catalog, Catalog):
        raise InputError.single(None, f"catalog is a rackwright Catalog (load_catalog()), not {type(catalog).__name__}")
    return RackChain(design if isinstance(design, LoadedDesign) else load_design(design), catalog, steps)


def evaluate(
    design: str | Path | LoadedDesign, catalog: Catalog | None = None, steps: Mapping[str, Callable] | None = None
) -> Rack:
    """Evaluate one design (a path or a loaded design): figures and design-rule violations.

    ``steps`` swaps model steps of the chain by name (``{"thermal": my_thermal_step}``; see
    :data:`rackwright.rack.chain.STEPS`): a function from the step's inputs dataclass to its result dataclass.
    """
    return _report(_chain(design, catalog, steps))


def _report(chain: RackChain) -> Rack:
    loaded = chain.model.loaded
    figures = {k: float(np.asarray(v)) for k, v in chain.run().items()}
    return Rack(
        loaded.design.name,
        loaded.design.generation,
        loaded.file,
        loaded.lineage,
        figures,
        all_violations(chain.model, figures),
        model=chain.model,
    )


def sound_design(design: str | Path | LoadedDesign, catalog: Catalog | None = None) -> Rack:
    """The one turning of a design file (or a loaded design) into the evaluated :class:`Rack` the models downstream
    plan with (site, roadmap, explore, fleet, perf, factory, BOM, sourcing). Only the file edges call it: the CLI,
    the server, and the loaders of the files that name design files (site, roadmap, space, published figures);
    the models take the :class:`Rack` and check it with :func:`sound_model`.

    A design that breaks an error rule raises :class:`InputError` listing the design's own errors
    (exit 2): nothing is planned on a rack that ``rackwright check`` refuses.
    """
    rack = _report(_chain(design, catalog))
    sound_model(rack, "sound_design")
    return rack


def sound_model(rack: Rack, use: str) -> RackModel:
    """The resolved design of ``rack`` if it is fit to plan with: an evaluated :class:`Rack` breaking no error rule.
    Anything else, a design path included, is an :class:`InputError` naming ``use`` (the model refusing it): the
    models take a rack evaluated once at the file edge (:func:`sound_design`), never a path to load again."""
    if not isinstance(rack, Rack) or rack.model is None:
        what = "a Rack without its resolved design" if isinstance(rack, Rack) else type(rack).__name__
        raise InputError.single(
            None,
            f"{use} takes an evaluated rack, not {what}",
            hint="evaluate the design file first: rackwright.evaluate(path), or rack.evaluation.sound_design(path)",
        )
    if rack.errors:
        file = rack.file or "the design"
        raise InputError(
            rack.file,
            [
                Problem(
                    f"{rack.name} breaks {len(rack.errors)} of its design rules, so nothing can be planned with it",
                    hint=f"run `rackwright check {file}`",
                )
            ]
            + [Problem(f"{v.code} {v.message}", v.path, v.hint) for v in rack.errors],
        )
    return rack.model


#: The most variants one evaluate_batch call takes: its figures (about 80, in SI and display units, 8 bytes each)
#: take ~1.3 kB a variant, so 4 million stay within a few GB (the explorer sends 262,144 at a time).
MAX_BATCH = 4_000_000
BYTES_PER_VARIANT = 1300


@dataclass
class BatchResult:
    """Figures of many variants and rule masks: ``figures`` in display units by JSON key (``power.input_kw``),
    ``si`` the same figures in SI by figure key (``power.input``), for models downstream."""

    figures: dict[str, np.ndarray]
    si: dict[str, np.ndarray]
    broken: dict[str, np.ndarray]
    feasible: np.ndarray
    structural: list[Violation]
    invalid: dict[str, np.ndarray] = field(default_factory=dict)  # override path → rows outside its domain
    reasons: dict[str, str] = field(default_factory=dict)  # override path → the domain those rows leave
    #: The design resolved against the catalog, for the models downstream (:meth:`Rack.variant`).
    model: RackModel | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.feasible.size)


def evaluate_batch(
    design: str | Path | LoadedDesign,
    overrides: Mapping[str, object],
    catalog: Catalog | None = None,
    steps: Mapping[str, Callable] | None = None,
) -> BatchResult:
    """Evaluate a design under arrays of overrides (SI values) through the same models as :func:`evaluate`.

    ``overrides`` maps paths (``parts.accelerator.power``, ``slots[compute].count``,
    ``cooling.facility_supply``, ``sourcing.power.origin``) to arrays that broadcast together,
    or to one design-file value with its unit (``"32 degC"``); unknown paths raise :class:`InputError`.
    Where slot counts vary, the slot-layout rules (MEC004, MEC005) become masks in ``broken`` too.
    Rows with a value outside its path's domain of validity (:data:`rackwright.validity.DOMAINS`)
    are infeasible, their figures NaN: ``invalid[path]`` marks them and ``reasons[path]`` says why.
    A temperature that can only be Celsius (it lies in the domain only as °C) raises :class:`InputError`.
    ``steps`` swaps model steps as in :func:`evaluate`.
    """
    chain = _chain(design, catalog, steps)
    file = chain.model.loaded.file
    arrays = _override_arrays(overrides, file)
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
        split_overrides(chain.model, arrays)
    except (KeyError, ValueError) as exc:
        raise InputError.single(file, exc.args[0], "overrides") from None
    variants = math.prod(shape)
    if variants > MAX_BATCH:
        raise InputError.single(
            file,
            f"a batch of {variants:,} variants is more than the {MAX_BATCH:,} one call evaluates "
            f"(each takes ~{BYTES_PER_VARIANT / 1e3:.0f} kB of figures)",
            "overrides",
            "evaluate it in chunks, as the explorer does",
        )
    invalid, arrays = _screen(arrays, file)
    raw = chain.run(arrays)
    slot_counts = split_overrides(chain.model, arrays)[2]
    bad = functools.reduce(np.logical_or, invalid.values(), np.zeros(shape, bool))
    si = {
        k: np.where(bad, np.nan, v) if bad.any() else np.broadcast_to(v, shape)
        for k, v in raw.items()
        if not k.startswith("limit.")
    }
    figures = flat_display(si)
    masks = figure_rule_masks(chain.model, raw)
    structural = structural_violations(chain.model)
    errors = [rule.code for rule in FIGURE_RULES if rule.severity == "error"]
    if slot_counts:  # the slot layout varies with the counts: a mask per variant instead of one verdict
        masks.update(slot_layout_masks(chain.model, slot_counts))
        structural = [v for v in structural if v.code not in LAYOUT_CODES]
        errors += list(LAYOUT_CODES)
    broken = {code: np.broadcast_to(mask, shape) for code, mask in masks.items()}
    feasible = (
        np.ones(shape, dtype=bool) if not any(v.severity == "error" for v in structural) else np.zeros(shape, bool)
    )
    for code in errors:
        feasible = feasible & ~broken[code]
    return BatchResult(
        figures,
        si,
        broken,
        feasible & ~bad,
        structural,
        {path: np.broadcast_to(mask, shape) for path, mask in invalid.items()},
        {path: f"{path} must be {_domain(path).describe()} ({_domain(path).why})" for path in invalid},
        chain.model,
    )


def _override_arrays(overrides: Mapping[str, object], file: str | None) -> dict[str, np.ndarray]:
    """SI arrays by path: numbers and arrays as given, a unit string read like a design file's override."""
    if not isinstance(overrides, Mapping):
        raise InputError.single(
            file,
            f"overrides is a mapping of path → SI values, not {type(overrides).__name__}",
            "overrides",
            'e.g. {"parts.accelerator.power": np.linspace(1000, 1400, 5)}',
        )
    arrays = {}
    for path, value in overrides.items():
        try:
            if not isinstance(path, str):
                raise ValueError(f"an override path is text, not {path!r}")
            arrays[path] = np.asarray(parse_override(path, value) if isinstance(value, str) else value, dtype=float)
        except (KeyError, ValueError, TypeError, UnitError) as exc:
            hint = (
                exc.why
                if isinstance(exc, OutOfDomain)
                else "give SI numbers or arrays of them, or one value with its unit"
            )
            raise InputError.single(file, f"{path}: {exc.args[0] if exc.args else exc}", "overrides", hint) from None
    return arrays


def _domain(path: str) -> Domain:
    """The domain of an override path's values (a path split_overrides accepted, so it has a quantity)."""
    quantity = override_quantity(path)
    assert quantity is not None
    return DOMAINS[quantity]


def _screen(arrays: dict[str, np.ndarray], file: str | None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Rows outside each path's domain (path → mask), and the arrays with those values moved into the domain,
    so that the models run without a warning on them (their figures are then discarded)."""
    invalid, clean = {}, {}
    for path, values in arrays.items():
        domain = _domain(path)
        if domain.dimension == "temperature":
            _refuse_celsius(path, values, domain, file)
        mask = domain.outside(values)
        if mask.any():
            invalid[path] = mask
        clean[path] = domain.clamp(values) if mask.any() else values
    return invalid, clean


def _refuse_celsius(path: str, values: np.ndarray, domain: Domain, file: str | None) -> None:
    """Temperatures are kelvin: a value that lies in the domain only when read as °C is a unit mistake."""
    celsius = domain.outside(values) & ~domain.outside(values + 273.15)
    if celsius.any():
        value = float(values[celsius].flat[0]) if values.ndim else float(values)
        raise InputError.single(
            file,
            f"{value:g} is a temperature in °C, but the SI API takes kelvin",
            path,
            f'pass 273.15 + {value:g}, or the string "{value:g} degC"',
        )


__all__ = ["Rack", "BatchResult", "evaluate", "evaluate_batch", "sound_design", "sound_model", "FIGURES"]
