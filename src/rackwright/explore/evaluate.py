"""Evaluate a chunk of designs: one ``evaluate_batch`` call, objectives, constraints and failed rules.

Every design of a chunk shares its structural combination (one resolved rack), so the
chunk's override axes go through :func:`rackwright.rack.evaluation.evaluate_batch` as arrays.
Besides the evaluation's own figures (JSON keys such as ``power.input_kw``), objectives
and limits may name the explorer's derived figures:

* ``cost.usd_per_pflop.<precision>`` = ``cost.bom_usd / compute.peak_pflops.<precision>``
  — rack bill of materials per PFLOP/s of dense peak compute;
* ``perf.training_tokens_per_s_per_mw`` = ``r · a / P`` — training tokens per second per MW
  of rack input power on the reference workload of :data:`rackwright.perf.api.REFERENCE_TRAINING`
  (Llama 3 405B, a 16,384-accelerator job, global batch 2,048), where ``r`` is the tokens/s
  per accelerator of the fastest parallelism that fits (:func:`rackwright.perf.search.search`,
  a full search per distinct system), ``a`` the accelerators per rack and ``P`` the rack
  input power [MW]. The system is built from the rack figures by
  :func:`rackwright.perf.system.system_from_rack`, as for every rack (per-accelerator peak, HBM,
  bandwidths one direction, scale-up domain); designs that share those figures share one search.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..catalog import load_catalog
from ..errors import InputError
from ..rack.chain import resolve
from ..rack.evaluation import evaluate_batch
from ..rack.rules import FIGURE_RULES, LAYOUT_CODES
from .pareto import distinct_rows
from .sample import Chunk, chunk_values, grid_rows
from .space import PER_PFLOP, TRAINING, Space

#: Codes of the error-severity rules a batch reports masks for (warnings never rule a design out).
ERROR_CODES = {rule.code for rule in FIGURE_RULES if rule.severity == "error"} | set(LAYOUT_CODES)


def figures_used(space: Space) -> list[str]:
    """Objective and limit figures, each once, in the space file's order."""
    keys = [o.figure for o in space.spec.objectives] + [c.figure for c in space.spec.constraints.limits]
    return list(dict.fromkeys(keys))


def limit_column(limit) -> str:
    """``fails.power.input_kw<=150``: the column of designs that break a limit."""
    bounds = [f">={limit.min:g}" if limit.min is not None else "", f"<={limit.max:g}" if limit.max is not None else ""]
    return f"fails.{limit.figure}{''.join(bounds)}"


def check_figures_computable(space: Space) -> None:
    """Raise :class:`InputError` now, not inside a worker, where a figure cannot be computed for some design."""
    if TRAINING in figures_used(space):
        for combination in range(len(space.combinations)):
            _accelerator(space, combination)


def evaluate_chunk(space: Space, chunk: Chunk) -> dict[str, np.ndarray]:
    """Columns of a chunk: ``row``, each axis, each objective/limit figure, ``fails.*`` and ``feasible``."""
    n = len(chunk)
    values = chunk_values(space, chunk)
    overrides = {}
    for axis in space.axes:
        overrides.update(axis.overrides(values[axis.name]))
    loaded = space.combinations[chunk.combination]
    batch = evaluate_batch(loaded, overrides, load_catalog())
    figures = {k: np.broadcast_to(v, (n,)) for k, v in batch.figures.items()}
    rows = grid_rows(space, chunk) if chunk.rows is None else chunk.rows
    columns: dict[str, np.ndarray] = {"row": rows, **values}
    si = {k: np.broadcast_to(v, (n,)) for k, v in batch.si.items()}
    for key in figures_used(space):
        columns[key] = figure_values(key, figures, si, chunk.combination, space)
    fails = {f"fails.{code}": np.broadcast_to(mask, (n,)) for code, mask in batch.broken.items() if code in ERROR_CODES}
    fails.update({f"fails.{v.code}": np.ones(n, dtype=bool) for v in batch.structural if v.severity == "error"})
    feasible = batch.feasible if space.spec.constraints.rules else np.ones(n, dtype=bool)
    for limit in space.spec.constraints.limits:
        value = columns[limit.figure]
        broken = np.zeros(n, dtype=bool)
        if limit.max is not None:
            broken |= ~(value <= limit.max)
        if limit.min is not None:
            broken |= ~(value >= limit.min)
        fails[limit_column(limit)] = broken
        feasible = feasible & ~broken
    columns.update(fails)
    columns["feasible"] = np.broadcast_to(feasible, (n,)).copy()
    return columns


def figure_values(
    key: str, figures: dict[str, np.ndarray], si: dict[str, np.ndarray], combination: int, space: Space
) -> np.ndarray:
    """An evaluation figure (display units), or a derived one (see the module docstring), as a float array; ``si``
    holds the same figures in SI."""
    if key in figures:
        return np.asarray(figures[key], dtype=float)
    if key.startswith(PER_PFLOP):
        peak = np.asarray(figures["compute.peak_pflops." + key[len(PER_PFLOP) :]], dtype=float)
        return np.divide(figures["cost.bom_usd"], peak, out=np.full(peak.shape, np.nan), where=peak > 0)
    if key == TRAINING:
        return training_tokens_per_s_per_mw(si, _accelerator(space, combination))
    raise KeyError(key)


#: The SI rack figures a perf system is built from (:func:`rackwright.perf.system.system_from_rack`), in the
#: order :func:`tokens_per_s_per_accelerator` takes them.
_RACK_SYSTEM_FIGURES = (
    "compute.accelerators",
    "compute.peak_flops:bf16_dense",
    "compute.hbm",
    "compute.hbm_bandwidth",
    "network.scale_up_bandwidth",
    "network.scale_up_domain",
    "network.scale_out_bandwidth",
)


def training_tokens_per_s_per_mw(si: dict, accelerator: str) -> np.ndarray:
    """``r · a / P`` per design from its SI figures, one parallelism search per distinct rack (see the module
    docstring)."""
    racks = np.column_stack([np.asarray(si[key], dtype=float) for key in _RACK_SYSTEM_FIGURES])
    distinct, inverse = distinct_rows(racks)
    rate = np.array([tokens_per_s_per_accelerator(accelerator, *map(float, row)) for row in distinct])
    count = racks[:, 0]
    power_mw = np.asarray(si["power.input"], dtype=float) / 1e6
    return np.divide(rate[inverse] * count, power_mw, out=np.full(count.shape, np.nan), where=power_mw > 0)


def _accelerator(space: Space, combination: int) -> str:
    """Catalog id of the combination's accelerator (one per rack, as perf systems need)."""
    from ..perf.system import rack_accelerator

    cache = space.accelerators
    if combination not in cache:
        model = resolve(space.combinations[combination], load_catalog())
        try:
            cache[combination] = rack_accelerator(model, space.file).id
        except InputError as exc:
            raise InputError.single(space.file, f"{TRAINING}: {exc.problems[0].message}", "objectives") from None
    return cache[combination]


@lru_cache(maxsize=4096)
def tokens_per_s_per_accelerator(part_id: str, *rack: float) -> float:
    """Tokens/s per accelerator of the best fitting configuration on the reference training job (NaN if none fits)
    for a rack of the accelerator ``part_id`` whose SI figures are ``rack`` (in the order of
    :data:`_RACK_SYSTEM_FIGURES`)."""
    from ..perf.api import REFERENCE_TRAINING
    from ..perf.search import search
    from ..perf.system import system_from_rack
    from ..perf.workload import load_model

    if not all(value > 0 for value in rack):
        return math.nan
    job = REFERENCE_TRAINING["job_accelerators"]
    system = system_from_rack(
        load_catalog().get(part_id), dict(zip(_RACK_SYSTEM_FIGURES, rack, strict=True)), part_id
    ).with_accelerators(job)
    result = search(load_model(REFERENCE_TRAINING["model"]), system, job, REFERENCE_TRAINING["global_batch"])
    order = result.order()
    return float(result.metrics["tokens_per_s"][order[0]]) / job if order.size else math.nan


def join_columns(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Chunks' columns end to end, in row order; a rule a chunk had no mask for did not fail there."""
    keys = list(dict.fromkeys(k for part in parts for k in part))
    columns = {}
    for key in keys:
        pieces = [part[key] if key in part else np.zeros(len(part["row"]), dtype=bool) for part in parts]
        columns[key] = np.concatenate(pieces) if pieces else np.empty(0)
    order = np.argsort(columns["row"], kind="stable")
    if np.any(order != np.arange(len(order))):
        columns = {k: v[order] for k, v in columns.items()}
    return columns


def evaluate_points(space: Space, u: np.ndarray) -> dict[str, np.ndarray]:
    """Columns of designs at unit-hypercube points ``u`` (n × axes), in the order of ``u``, in this process."""
    from .sample import point_chunks, point_values

    return join_columns([evaluate_chunk(space, c) for c in point_chunks(space, point_values(space, u))])


def objective_matrix(space: Space, columns: dict[str, np.ndarray]) -> np.ndarray:
    """``(n, k)`` objectives to minimise: ``goal: max`` objectives negated."""
    return np.column_stack([columns[o.figure] * (-1.0 if o.goal == "max" else 1.0) for o in space.spec.objectives])
