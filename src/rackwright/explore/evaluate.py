"""Evaluate a chunk of designs: one ``evaluate_batch`` call, objectives, constraints and failed rules.

Every design of a chunk shares its structural combination (one resolved rack), so the
chunk's override axes go through :func:`rackwright.rack.evaluation.evaluate_batch` as arrays.
Besides the evaluation's own figures (JSON keys such as ``power.input_kw``), objectives
and limits may name the explorer's derived figures:

* ``cost.usd_per_pflop.<precision>`` = ``cost.bom_usd / compute.peak_pflops.<precision>``
  — rack bill of materials per PFLOP/s of dense peak compute;
* ``perf.training_tokens_per_s_per_mw`` = ``r · a / P`` — training tokens per second per MW
  of rack input power on the reference workload of :data:`rackwright.perf.reference.REFERENCE_TRAINING`
  (Llama 3 405B, a 16,384-accelerator job, global batch 2,048), where ``r`` is the tokens/s
  per accelerator of the fastest parallelism that fits (:func:`rackwright.perf.search.search`,
  a full search per distinct system), ``a`` the accelerators per rack and ``P`` the rack
  input power [MW]; ``perf.training_tokens_per_s_per_usd`` = ``r · a / cost.bom_usd``, per USD of the
  rack's bill of materials. An objective's ``reference: moe`` takes the MoE workload instead
  (:data:`rackwright.perf.reference.REFERENCE_TRAINING_MOE`, DeepSeek-V3 with 16,384 sequences, searched as
  DeepSeek ran it), the one of ``rackwright evaluate``'s ``delivery.*_deepseek_v3`` figures. The system
  of each variant (:meth:`rackwright.rack.evaluation.Rack.variant` of the
  batch's resolved design and the variant's SI figures) is built by :func:`rackwright.perf.system.system_from_rack`,
  as for every rack (per-accelerator peak, HBM, bandwidths one direction, scale-up domain); designs that share
  those figures share one search.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..catalog import load_catalog
from ..errors import InputError
from ..rack.chain import RackModel, resolve
from ..rack.evaluation import Rack, evaluate_batch
from ..rack.rules import FIGURE_RULES, LAYOUT_CODES
from .pareto import distinct_rows
from .sample import Chunk, chunk_values, grid_rows
from .space import PER_PFLOP, TRAINING, TRAINING_FIGURES, Space

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
    from ..perf.system import rack_accelerator

    for figure in (f for f in TRAINING_FIGURES if f in figures_used(space)):
        for combination in space.combinations:
            try:
                rack_accelerator(resolve(combination, load_catalog()), space.file)
            except InputError as exc:
                raise InputError.single(space.file, f"{figure}: {exc.problems[0].message}", "objectives") from None


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
        columns[key] = figure_values(key, figures, si, batch.model, space.training_reference)
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
    key: str,
    figures: dict[str, np.ndarray],
    si: dict[str, np.ndarray],
    model: RackModel | None,
    reference: str = "dense",
) -> np.ndarray:
    """An evaluation figure (display units), or a derived one (see the module docstring), as a float array; ``si``
    holds the same figures in SI, ``model`` the batch's resolved design (:attr:`BatchResult.model`), ``reference``
    the training figures' workload (a key of :data:`rackwright.perf.reference.REFERENCE_TRAININGS`)."""
    if key in figures:
        return np.asarray(figures[key], dtype=float)
    if key.startswith(PER_PFLOP):
        peak = np.asarray(figures["compute.peak_pflops." + key[len(PER_PFLOP) :]], dtype=float)
        return np.divide(figures["cost.bom_usd"], peak, out=np.full(peak.shape, np.nan), where=peak > 0)
    if key in TRAINING_FIGURES and model is not None:
        per_rack = training_tokens_per_s_per_rack(si, model, reference)
        divisor = np.asarray(si["power.input"], dtype=float) / 1e6 if key == TRAINING else figures["cost.bom_usd"]
        divisor = np.asarray(divisor, dtype=float)
        return np.divide(per_rack, divisor, out=np.full(per_rack.shape, np.nan), where=divisor > 0)
    raise KeyError(key)


#: The SI rack figures the reference training rate depends on (through
#: :func:`rackwright.perf.system.system_from_rack`): a variant's rack carries these alone, so that designs that
#: differ in other figures (the input power) share one system and one search.
_RACK_SYSTEM_FIGURES = (
    "compute.accelerators",
    "compute.peak_flops:bf16_dense",
    "compute.hbm",
    "compute.hbm_bandwidth",
    "network.scale_up_bandwidth",
    "network.scale_up_domain",
    "network.scale_out_bandwidth",
)


def training_tokens_per_s_per_rack(si: dict, model: RackModel, reference: str = "dense") -> np.ndarray:
    """``r · a`` per design from its SI figures and the resolved design ``model``, one parallelism search per
    distinct system on the ``reference`` training workload (see the module docstring)."""
    from ..perf.reference import REFERENCE_TRAININGS
    from ..perf.system import CATALOG_PRECISIONS, system_from_rack

    # The other dense peaks pick a low-precision reference's recipe (the MoE reference trains in FP8).
    peaks = tuple(f"compute.peak_flops:{p}" for p in CATALOG_PRECISIONS if f"compute.peak_flops:{p}" in si)
    keys = _RACK_SYSTEM_FIGURES + tuple(k for k in peaks if k not in _RACK_SYSTEM_FIGURES)
    racks = np.column_stack([np.asarray(si[key], dtype=float) for key in keys])
    distinct, inverse = distinct_rows(racks)
    job = REFERENCE_TRAININGS[reference].accelerators
    required = len(_RACK_SYSTEM_FIGURES)
    rate = np.array(
        [
            tokens_per_s_per_accelerator(
                system_from_rack(Rack.variant(model, {k: float(v) for k, v in zip(keys, row, strict=True) if v > 0}))
                .with_accelerators(job)
                .model_dump_json(),
                reference,
            )
            if (row[:required] > 0).all()
            else math.nan
            for row in distinct
        ]
    )
    return rate[inverse] * racks[:, 0]


@lru_cache(maxsize=4096)
def tokens_per_s_per_accelerator(system: str, reference: str = "dense") -> float:
    """Tokens/s per accelerator of the best fitting configuration on the ``reference`` training job (NaN if none
    fits; :func:`rackwright.perf.api.reference_training_rate`, the reference's recipe and search restrictions) on
    the system whose JSON document is ``system`` (a :class:`~rackwright.perf.system.SystemSpec` of the job's
    accelerators, as text so that the designs with one system share one search)."""
    from ..perf.api import reference_training_rate
    from ..perf.reference import REFERENCE_TRAININGS
    from ..perf.system import SystemSpec

    spec = SystemSpec.model_validate_json(system, context={"si": True})
    rate = reference_training_rate(spec, REFERENCE_TRAININGS[reference])
    return rate["tokens_per_s"] if rate is not None else math.nan


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
