"""Run an exploration: plan the designs, evaluate them in chunks, keep the feasible Pareto front.

:func:`explore` is the Python API behind ``rackwright explore``; it returns an
:class:`Exploration` whose ``columns`` hold one entry per design (axis values, objective and
limit figures, ``fails.<rule>`` and ``feasible``), the Pareto front of the feasible designs,
the designs each rule or limit ruled out, and the sensitivity indices.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .backends import run_chunks
from .evaluate import check_figures_computable, join_columns, objective_matrix
from .pareto import pareto_mask
from .sample import CHUNK, Chunk, grid_chunks, point_chunks, point_values, unit_samples
from .space import Space, loaded_space

#: Designs a sampling method draws when the space file gives no ``samples``.
DEFAULT_SAMPLES = 4096


@dataclass
class Exploration:
    space: Space
    columns: dict[str, np.ndarray]
    front: np.ndarray  # row positions of the feasible Pareto designs, best first objective first
    seconds: float  # evaluating the designs (the chunks), wall clock
    sensitivity: dict | None = None
    extra: dict = field(default_factory=dict)

    @property
    def designs_evaluated(self) -> int:
        return int(len(self.columns["row"]))

    @property
    def designs_feasible(self) -> int:
        return int(np.count_nonzero(self.columns["feasible"]))

    @property
    def evaluations_per_s(self) -> float:
        return self.designs_evaluated / max(self.seconds, 1e-9)

    def failed(self) -> dict[str, int]:
        """Designs that break each rule or limit (a design may break several)."""
        counts = {
            k[len("fails.") :]: int(np.count_nonzero(v)) for k, v in self.columns.items() if k.startswith("fails.")
        }
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    def point(self, row: int) -> dict:
        """One design: its axis values (labels or display-unit numbers) and objectives."""
        axes = {}
        for axis in self.space.axes:
            shown = axis.display(self.columns[axis.name][row : row + 1])
            axes[axis.name] = shown[0] if axis.discrete else float(shown[0])
        objectives = {o.figure: _plain(self.columns[o.figure][row]) for o in self.space.spec.objectives}
        return {"design": int(self.columns["row"][row]), "axes": axes, "objectives": objectives}

    def pareto(self) -> list[dict]:
        return [self.point(int(i)) for i in self.front]

    def to_dict(self) -> dict:
        """The exploration as plain data (keys as the explorer names them; ``rackwright explore --json`` lists it as
        records with the public figure names). The evaluation rate is left out: it differs from run to run."""
        spec = self.space.spec
        return {
            "space": self.space.file,
            "name": spec.name,
            "base": self.space.base.file,
            "method": spec.sampling.method,
            "axes": [
                {"name": a.name, "path": a.path, "kind": a.kind, "values": a.labels or None, "unit": a.unit or None}
                for a in self.space.axes
            ],
            "objectives": [o.model_dump() for o in spec.objectives],
            "designs_evaluated": self.designs_evaluated,
            "designs_feasible": self.designs_feasible,
            "failed": self.failed(),
            "pareto": self.pareto(),
            "sensitivity": self.sensitivity,
        }


def plan(space: Space, chunk: int = CHUNK) -> list[Chunk]:
    """The chunks of designs the space's sampling method asks for."""
    sampling = space.spec.sampling
    if sampling.method == "grid":
        return grid_chunks(space, chunk)
    if sampling.method == "nsga2":
        from .optimise import nsga2_points

        u = nsga2_points(space)
    else:
        u = unit_samples(sampling.method, sampling.samples or DEFAULT_SAMPLES, len(space.axes), sampling.seed)
    return point_chunks(space, point_values(space, u), chunk)


def explore(
    path: str | Path,
    backend: str = "local",
    workers: int | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
    sensitivity: bool = True,
) -> Exploration:
    """Explore a space file: every planned design evaluated, the feasible Pareto front, sensitivity indices.

    ``progress(done, total)`` is called as chunks finish (designs evaluated so far and in all).
    """
    space = loaded_space(path)
    check_figures_computable(space)
    chunks = plan(space, chunk)
    total = sum(len(c) for c in chunks)
    done = 0

    def advance(designs: int) -> None:
        nonlocal done
        done += designs
        if progress:
            progress(done, total)

    start = time.perf_counter()
    columns = join_columns(run_chunks(space.file, chunks, backend, workers, advance))
    seconds = time.perf_counter() - start
    front = pareto_front(space, columns)
    indices = None
    if sensitivity and space.spec.sensitivity.samples:
        from .sensitivity import sobol_sensitivity

        indices = sobol_sensitivity(space, space.spec.sensitivity.samples, space.spec.sensitivity.seed)
    return Exploration(space, columns, front, seconds, indices)


def pareto_front(space: Space, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Row positions of the feasible non-dominated designs, sorted by the first objective (then row)."""
    feasible = np.flatnonzero(columns["feasible"])
    objectives = objective_matrix(space, {o.figure: columns[o.figure][feasible] for o in space.spec.objectives})
    front = feasible[pareto_mask(objectives)]
    first = objective_matrix(space, {o.figure: columns[o.figure][front] for o in space.spec.objectives})[:, 0]
    return front[np.lexsort((front, first))]


def _plain(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
