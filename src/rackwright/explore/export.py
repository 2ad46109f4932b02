"""Write an exploration's results: ``results.parquet`` and the Pareto designs as
design files that ``extends`` the space's base design.

``results.parquet`` has one row per design: ``design`` (its index in the space), each axis
(its label, or its value in the unit of the space file for continuous axes), each objective
and limit figure (display units of the figure key), ``fails.<rule>`` per rule or limit,
``feasible`` and ``pareto``.

Each file holds only what differs from the base: the design patches of its structural
axes (merged as ``extends`` merges them) and one ``overrides:`` entry per override axis —
the axis's own label where it reads back to the same value (``"1200 W"``, ``W32``, ``US``),
else the exact SI value. ``rackwright evaluate`` on an exported file therefore gives the
objectives the explorer reported for that design.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from ruamel.yaml import YAML

from ..errors import InputError
from ..rack.design import deep_merge
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
    assert exploration.space.base.file is not None  # load_space reads the base design from its file
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


def results_frame(exploration: Exploration):
    """The results table as a polars DataFrame (labels gathered in Rust: no Python object per design)."""
    import polars as pl

    columns = exploration.columns
    series = [pl.Series("design", columns["row"])]
    for axis in exploration.space.axes:
        values = columns[axis.name]
        if axis.discrete:
            series.append(pl.Series(axis.name, axis.labels, dtype=pl.Enum(axis.labels)).gather(values))
        else:
            series.append(pl.Series(axis.name, np.asarray(axis.display(values), dtype=float)))
    skip = {"row", *(a.name for a in exploration.space.axes)}
    series += [pl.Series(key, value) for key, value in columns.items() if key not in skip]
    on_front = np.zeros(exploration.designs_evaluated, dtype=bool)
    on_front[exploration.front] = True
    series.append(pl.Series("pareto", on_front))
    return pl.DataFrame(series)


def write_results(exploration: Exploration, directory: Path) -> dict[str, Path]:
    """``results.parquet`` under ``directory`` (the command writes ``explore.json``, its ``--json`` document,
    beside it)."""
    paths = {"results": directory / "results.parquet"}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        results_frame(exploration).write_parquet(paths["results"])
    except OSError as exc:
        raise InputError.single(str(directory), f"cannot write: {exc}", "--output") from None
    return paths
