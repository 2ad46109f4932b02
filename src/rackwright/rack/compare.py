"""Compare two designs: the fields that differ and the evaluated figures that change.

Field paths use the same notation as error messages; keyed lists are compared
item by item (``slots[compute].part``), so reordering slots is not a change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import KEYED_LISTS
from .evaluation import Rack


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: object
    after: object


@dataclass(frozen=True)
class FigureChange:
    key: str
    before: float
    after: float

    @property
    def absolute(self) -> float:
        return self.after - self.before

    @property
    def relative(self) -> float | None:
        return None if self.before == 0 else self.absolute / abs(self.before)

    def record(self) -> dict:
        """The change as ``compare --json`` and the server's diff list it: the figure named and in the unit of
        ``evaluate --json`` (``compute.hbm_bytes``, not the figure table's ``compute.hbm_tb``), the relative change
        without a unit; None where a value is not finite (an air-cooled rack's CDU utilisation)."""
        from ..report.jsonout import public_figure, scaled

        name, factor = public_figure(self.key)
        before, after, absolute = (scaled(_finite(v), factor) for v in (self.before, self.after, self.absolute))
        return {
            "figure": name,
            "before": before,
            "after": after,
            "absolute": absolute,
            "relative": _finite(self.relative),
        }


def _finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else value


def flatten(data, path: tuple = ()) -> dict[str, object]:
    """Leaf values of a design mapping by field path; keyed lists by their item ids."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            out.update(flatten(value, path + (key,)))
        return out
    key = KEYED_LISTS.get(path)
    name = _path_text(path)
    if isinstance(data, list) and key and all(isinstance(x, dict) and key in x for x in data):
        out = {}
        for item in data:
            for sub, value in flatten({k: v for k, v in item.items() if k != key}).items():
                out[f"{name}[{item[key]}].{sub}"] = value
        return out
    return {name: data}


def _path_text(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def field_changes(a: dict, b: dict) -> list[FieldChange]:
    """Fields that differ between two merged design mappings (``extends`` itself excluded)."""
    fa = {k: v for k, v in flatten(a).items() if k != "extends"}
    fb = {k: v for k, v in flatten(b).items() if k != "extends"}
    return [FieldChange(k, fa.get(k), fb.get(k)) for k in sorted(fa.keys() | fb.keys()) if fa.get(k) != fb.get(k)]


def figure_changes(a: Rack, b: Rack, rtol: float = 1e-9) -> list[FigureChange]:
    """Evaluated figures (display units) that differ beyond ``rtol``."""
    fa, fb = a.flat(), b.flat()
    changes = []
    for key in dict.fromkeys([*fa, *fb]):
        before, after = fa.get(key, 0.0), fb.get(key, 0.0)
        if np.isnan(before) and np.isnan(after):
            continue
        if not np.isclose(before, after, rtol=rtol, atol=1e-12):
            changes.append(FigureChange(key, before, after))
    return changes
