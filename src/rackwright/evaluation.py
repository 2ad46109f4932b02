"""The Python API: ``evaluate`` one design into a :class:`RackReport`, ``evaluate_batch`` many variants.

>>> import rackwright
>>> report = rackwright.evaluate("examples/gb200-nvl72.yaml")
>>> report["power.it_load_kw"]          # doctest: +SKIP
>>> batch = rackwright.evaluate_batch("examples/gb200-nvl72.yaml",
...     {"parts.accelerator.power": np.linspace(1000, 1400, 1_000_000)})  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from .catalog import Catalog
from .chain import RackChain, split_overrides
from .design import LoadedDesign, load_design
from .errors import InputError
from .figures import FIGURES, flat_display
from .rules import (FIGURE_RULES, LAYOUT_CODES, Violation, all_violations, figure_rule_masks, slot_layout_masks,
                    structural_violations)


@dataclass
class RackReport:
    """Evaluated figures of one design (SI inside; display units in :meth:`to_dict`) and its violations."""

    name: str
    generation: str
    file: str | None
    lineage: list[str]
    figures: dict[str, float]
    violations: list[Violation] = field(default_factory=list)
    extra: dict[str, float | None] = field(default_factory=dict)  # figures of other models, e.g. "delivery.*"

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


def _loaded(design: str | Path | LoadedDesign) -> LoadedDesign:
    return design if isinstance(design, LoadedDesign) else load_design(design)


def evaluate(design: str | Path | LoadedDesign, catalog: Catalog | None = None) -> RackReport:
    """Evaluate one design (a path or a loaded design): figures and design-rule violations."""
    loaded = _loaded(design)
    chain = RackChain(loaded, catalog)
    figures = {k: float(np.asarray(v)) for k, v in chain.run().items()}
    return RackReport(loaded.design.name, loaded.design.generation, loaded.file, loaded.lineage,
                      figures, all_violations(chain.model, figures))


@dataclass
class BatchResult:
    """Figures of many variants (arrays, display units by JSON key) and rule masks."""

    figures: dict[str, np.ndarray]
    broken: dict[str, np.ndarray]
    feasible: np.ndarray
    structural: list[Violation]

    def __len__(self) -> int:
        return int(self.feasible.size)


def evaluate_batch(design: str | Path | LoadedDesign, overrides: Mapping[str, object],
                   catalog: Catalog | None = None) -> BatchResult:
    """Evaluate a design under arrays of overrides (SI values) through the same models as :func:`evaluate`.

    ``overrides`` maps paths (``parts.accelerator.power``, ``slots[compute].count``,
    ``cooling.facility_supply``, ``sourcing.power.origin``) to arrays that broadcast together;
    unknown paths raise :class:`InputError`. Where slot counts vary, the slot-layout rules
    (MEC004, MEC005) become masks in ``broken`` too.
    """
    loaded = _loaded(design)
    chain = RackChain(loaded, catalog)
    arrays = {path: np.asarray(value, dtype=float) for path, value in overrides.items()}
    shape = np.broadcast_shapes(*(a.shape for a in arrays.values())) if arrays else ()
    try:
        raw = chain.run(arrays)
        slot_counts = split_overrides(chain.model, arrays)[2]
    except KeyError as exc:
        raise InputError.single(loaded.file, exc.args[0], "overrides") from None
    figures = {k: np.broadcast_to(v, shape) for k, v in flat_display(raw).items()}
    masks = figure_rule_masks(chain.model, raw)
    structural = structural_violations(chain.model)
    errors = [rule.code for rule in FIGURE_RULES if rule.severity == "error"]
    if slot_counts:  # the slot layout varies with the counts: a mask per variant instead of one verdict
        masks.update(slot_layout_masks(chain.model, slot_counts))
        structural = [v for v in structural if v.code not in LAYOUT_CODES]
        errors += list(LAYOUT_CODES)
    broken = {code: np.broadcast_to(mask, shape) for code, mask in masks.items()}
    feasible = np.ones(shape, dtype=bool) if not any(v.severity == "error" for v in structural) else np.zeros(shape, bool)
    for code in errors:
        feasible = feasible & ~broken[code]
    return BatchResult(figures, broken, feasible, structural)


__all__ = ["RackReport", "BatchResult", "evaluate", "evaluate_batch", "FIGURES"]
