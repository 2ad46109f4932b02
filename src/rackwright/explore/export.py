"""Write Pareto designs back as design files that ``extends`` the space's base design.

Each file holds only what differs from the base: the design patches of its structural
axes (merged as ``extends`` merges them) and one ``overrides:`` entry per override axis —
the axis's own label where it reads back to the same value (``"1200 W"``, ``W32``, ``US``),
else the exact SI value. ``rackwright evaluate`` on an exported file therefore gives the
objectives the explorer reported for that design.
"""

from __future__ import annotations

import os
from pathlib import Path

from ruamel.yaml import YAML

from ..design import deep_merge
from ..errors import InputError
from .explorer import Exploration
from .space import export_value


def pareto_document(exploration: Exploration, row: int, base_file: Path, directory: Path) -> dict:
    """The design mapping of the design at row position ``row``."""
    space = exploration.space
    point = exploration.point(row)
    document: dict = {
        "name": f"{space.base.design.name} / {space.spec.name} #{point['design']}",
        "extends": os.path.relpath(base_file.resolve(), directory.resolve()),
        "description": "Pareto design of " + ", ".join(f"{k}={v}" for k, v in point["axes"].items()),
    }
    overrides: dict = {}
    for axis in space.axes:
        value = exploration.columns[axis.name][row]
        if axis.kind == "design":
            document = deep_merge(document, axis.fragments[int(value)])
            continue
        for path, si in axis.overrides(value).items():
            label = axis.labels[int(value)] if axis.discrete and path == axis.path else None
            dimension = axis.dimension if path == axis.path else "price_change"
            overrides[path] = export_value(path, dimension, float(si), label)
    if overrides:
        document["overrides"] = overrides
    return document


def export_pareto(exploration: Exploration, directory: Path) -> list[Path]:
    """One design file per Pareto design, ``pareto-001.yaml`` … in front order."""
    base_file = Path(exploration.space.base.file)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        yaml = YAML()  # round-trip dumper: keys in the order written
        written = []
        for k, row in enumerate(exploration.front, start=1):
            path = directory / f"pareto-{k:03d}.yaml"
            with path.open("w", encoding="utf-8") as handle:
                yaml.dump(pareto_document(exploration, int(row), base_file, directory), handle)
            written.append(path)
    except OSError as exc:
        raise InputError.single(str(directory), f"cannot write: {exc}", "--export-pareto") from None
    return written
