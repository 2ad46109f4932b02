"""Which designs to evaluate, cut into chunks: the full grid, or samples of the unit hypercube.

Grid: design ``r`` of structural combination ``c`` is row ``c · M + r`` where ``M`` is the size
of the grid of override axes; a chunk is a (combination, row range) pair, and the axis values
of its rows come from ``np.unravel_index`` on that range, so no object per design is made.

Sampling: Latin hypercube or scrambled Sobol points in ``[0, 1)^d`` (``scipy.stats.qmc``;
McKay, Beckman & Conover 1979; Sobol' 1967, Owen scrambling) are mapped onto each axis
(:meth:`~rackwright.explore.space.Axis.value`: equal-width bins for discrete axes, a linear
map for ``uniform`` distributions), grouped by structural combination and chunked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from .space import INDEX, Space

#: Designs per chunk: bounds memory (a few tens of MB of arrays) while keeping NumPy calls long.
CHUNK = 1 << 18


@dataclass(frozen=True)
class Chunk:
    """Rows ``start..stop`` of one combination's grid, or given sampled ``rows`` with their axis ``values``."""

    combination: int
    start: int = 0
    stop: int = 0
    rows: np.ndarray | None = None
    values: dict | None = None

    def __len__(self) -> int:
        return self.stop - self.start if self.rows is None else len(self.rows)


def override_grid_size(space: Space) -> int:
    return math.prod(a.size for a in space.axes if a.kind == "override")


def grid_chunks(space: Space, chunk: int = CHUNK) -> list[Chunk]:
    """The full grid, combination by combination, in chunks of at most ``chunk`` designs."""
    per_combination = override_grid_size(space)
    return [
        Chunk(c, start, min(start + chunk, per_combination))
        for c in range(len(space.combinations))
        for start in range(0, per_combination, chunk)
    ]


def grid_rows(space: Space, chunk: Chunk) -> np.ndarray:
    return chunk.combination * override_grid_size(space) + np.arange(chunk.start, chunk.stop, dtype=np.int64)


def chunk_values(space: Space, chunk: Chunk) -> dict[str, np.ndarray]:
    """Per-axis arrays of a chunk's designs: label indices (discrete axes) or SI values (continuous)."""
    n = len(chunk)
    design = space.design_axes
    combination = np.unravel_index(chunk.combination, [a.size for a in design]) if design else ()
    values = {a.name: np.full(n, int(j), dtype=INDEX) for a, j in zip(design, combination, strict=True)}
    if chunk.values is not None:
        return {**values, **chunk.values}
    numeric = [a for a in space.axes if a.kind == "override"]
    indices = np.unravel_index(np.arange(chunk.start, chunk.stop), [a.size for a in numeric]) if numeric else ()
    values.update({a.name: i.astype(INDEX) for a, i in zip(numeric, indices, strict=True)})
    return values


def unit_samples(method: str, n: int, dimensions: int, seed: int) -> np.ndarray:
    """``n`` points in ``[0, 1)^d``: Latin hypercube or scrambled Sobol (``n`` rounded up to a power of two)."""
    if method == "lhs":
        return qmc.LatinHypercube(d=dimensions, seed=seed).random(n)
    return qmc.Sobol(d=dimensions, scramble=True, seed=seed).random_base2(max(0, math.ceil(math.log2(n))))


def point_values(space: Space, u: np.ndarray) -> dict[str, np.ndarray]:
    """Axis values (indices or SI) of unit-hypercube points, one column of ``u`` per axis."""
    return {axis.name: axis.value(u[:, i]) for i, axis in enumerate(space.axes)}


def point_chunks(space: Space, values: dict[str, np.ndarray], chunk: int = CHUNK) -> list[Chunk]:
    """Sampled designs grouped by structural combination (stable order) and cut into chunks."""
    combination = space.combination_of(values)
    order = np.argsort(combination, kind="stable")
    bounds = np.searchsorted(combination[order], np.arange(len(space.combinations) + 1))
    override = [a.name for a in space.axes if a.kind == "override"]
    chunks = []
    for c in range(len(space.combinations)):
        rows = order[bounds[c] : bounds[c + 1]]
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            chunks.append(Chunk(c, rows=part, values={name: values[name][part] for name in override}))
    return chunks
