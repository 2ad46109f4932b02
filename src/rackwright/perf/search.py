"""Parallelism search: every valid configuration evaluated in one array pass.

The candidate grid crosses TP, PP, virtual stages, CP, EP, micro-batch, recompute
and the distributed optimizer; DP follows from the accelerator count. A
configuration is valid when the degrees divide the hardware, the heads, the
sequence and the batch (Megatron-LM's constraints); pipeline stages may hold
unequal layer counts (the busiest stage sets the pace). The grid is built
with NumPy broadcasting and passed to :func:`rackwright.perf.training.train_step`
once, so a search costs a few array operations per term, not a Python loop per
configuration.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .precision import recipe
from .training import RECOMPUTE, Parallelism, train_step

POWERS_OF_TWO = (1, 2, 4, 8, 16, 32, 64, 128)
MICRO_BATCHES = (1, 2, 4, 8)
VIRTUAL_STAGES = (1, 2, 3, 4, 6, 8)
FIELDS = (
    "tp",
    "pp",
    "vp",
    "dp",
    "cp",
    "ep",
    "etp",
    "micro_batch",
    "recompute",
    "distributed_optimizer",
    "sp",
    "fp8_param_gather",
    "overlap_param_gather",
    "overlap_p2p",
    "fsdp",
)
BOOLEAN_FIELDS = ("distributed_optimizer", "sp", "fp8_param_gather", "overlap_param_gather", "overlap_p2p", "fsdp")


@dataclass
class SearchResult:
    configurations: dict[str, np.ndarray]  # the valid configurations (arrays)
    metrics: dict[str, np.ndarray]  # train_step outputs for them
    evaluated: int  # grid points considered
    seconds: float

    @property
    def valid(self) -> int:
        return int(self.metrics["step_time_s"].size)

    def order(self) -> np.ndarray:
        """Indices of the configurations that fit, fastest first."""
        fits = np.flatnonzero(self.metrics["fits"])
        return fits[np.argsort(self.metrics["step_time_s"][fits], kind="stable")]

    def pareto(self) -> np.ndarray:
        """Indices on the front of step time vs memory (no other fitting configuration is better in both)."""
        front, best_memory = [], np.inf
        for i in self.order():
            if self.metrics["memory_bytes"][i] < best_memory:
                front.append(i)
                best_memory = self.metrics["memory_bytes"][i]
        return np.asarray(front, dtype=int)

    def parallelism(self, i: int) -> dict:
        """The degrees and settings of configuration ``i`` as plain values."""
        out = {name: int(self.configurations[name][i]) for name in FIELDS}
        out["recompute"] = next(k for k, v in RECOMPUTE.items() if v == out["recompute"])
        for name in BOOLEAN_FIELDS:
            out[name] = bool(out[name])
        return out


def _divisors(n: int, limit: int | None = None) -> list[int]:
    return [d for d in range(1, (limit or n) + 1) if n % d == 0]


def candidate_grid(
    model, accelerators: int, global_batch: int, seq_len: int, low_precision: bool = False
) -> tuple[dict[str, np.ndarray], int]:
    """All candidate configurations and the mask-filtered valid ones (arrays of equal length).

    With a low-precision recipe the grid also crosses low-precision parameters (``fp8_param_gather``)
    on and off (only with the distributed optimizer, whose all-gather it shrinks).
    """
    tps = [t for t in POWERS_OF_TWO if model.heads % t == 0 and t <= accelerators]
    pps = sorted(
        {p for p in _divisors(model.layers, min(model.layers, accelerators, 128))}
        | {p for p in POWERS_OF_TWO if p <= min(model.layers, accelerators)}
    )
    cps = [c for c in POWERS_OF_TWO if seq_len % (2 * c) == 0 and c <= 32] or [1]
    eps = [e for e in POWERS_OF_TWO if model.experts and model.experts % e == 0] or [1]
    axes = dict(
        tp=tps,
        pp=pps,
        vp=VIRTUAL_STAGES,
        cp=cps,
        ep=eps,
        etp=[0, 1] if model.experts else [0],
        micro_batch=MICRO_BATCHES,
        recompute=list(RECOMPUTE.values()),
        distributed_optimizer=[0, 1],
        fsdp=[0, 1],
        fp8_param_gather=[0, 1] if low_precision else [0],
    )
    values = {name: np.asarray(v) for name, v in axes.items()}
    # Sparse (broadcasting) axes: the constraints are full-size boolean masks, but only the valid configurations
    # are materialised as arrays (np.nonzero of the mask indexes each axis).
    grid = dict(zip(axes, np.meshgrid(*values.values(), indexing="ij", sparse=True), strict=True))
    shape = tuple(len(v) for v in values.values())
    evaluated = int(np.prod(shape))
    model_parallel = grid["tp"] * grid["pp"] * grid["cp"]
    dp = accelerators // model_parallel
    replicas = np.maximum(dp * grid["micro_batch"], 1)
    etp = np.where(grid["etp"] > 0, grid["etp"], grid["tp"])
    constraints = {  # in order: the first that no candidate left meets is the reason for an empty search
        f"TP·PP·CP (TP a power of two dividing the {model.heads} heads) divides the {accelerators} accelerators": (
            accelerators % model_parallel == 0
        )
        & (dp >= 1),
        "EP × ETP divides TP·CP·DP (ETP = TP or 1)": ((grid["tp"] * grid["cp"] * dp) % (grid["ep"] * etp) == 0)
        & ((grid["etp"] == 0) | (grid["tp"] > 1)),  # ETP = 1 is a choice of its own only when TP > 1
        f"DP × micro-batch (micro-batch in {', '.join(map(str, MICRO_BATCHES))}) divides the global batch of "
        f"{global_batch}": global_batch % replicas == 0,
        f"interleaving (VP > 1) needs PP > 1 and PP·VP ≤ {model.layers} layers": (grid["vp"] == 1)
        | ((grid["pp"] > 1) & (grid["pp"] * grid["vp"] <= model.layers)),
        "an interleaved pipeline has at least PP micro-batches per step": (global_batch // replicas)
        >= np.where(grid["vp"] > 1, grid["pp"], 1),
        "low-precision parameters go with the distributed optimizer or FSDP": (grid["fp8_param_gather"] == 0)
        | (grid["distributed_optimizer"] > 0)
        | (grid["fsdp"] > 0),
        "FSDP shards the optimizer itself": (grid["fsdp"] == 0) | (grid["distributed_optimizer"] == 0),
    }
    valid = np.ones(shape, bool)
    for reason, mask in constraints.items():
        mask = np.broadcast_to(mask, shape)
        if valid.any() and not (valid & mask).any():
            raise InputError.single(
                None,
                f"no configuration of {model.name} on {accelerators} accelerators with a "
                f"global batch of {global_batch} meets: {reason}",
                hint="change --global-batch or --accelerators (or --racks)",
            )
        valid &= mask
    index = np.nonzero(valid)
    out = {name: values[name][i] for name, i in zip(axes, index, strict=True)}
    out["dp"] = accelerators // (out["tp"] * out["pp"] * out["cp"])
    out["etp"] = np.where(out["etp"] > 0, out["etp"], out["tp"])  # 0 stood for "= TP"
    out["sp"] = (out["tp"] > 1).astype(int)
    out["overlap_param_gather"] = out["distributed_optimizer"].copy()  # never slower: on with the optimizer
    out["overlap_p2p"] = (out["vp"] > 1).astype(int)  # never slower: on with interleaving, as NeMo sets it
    return out, evaluated


def _evaluate_partition(task) -> dict[str, np.ndarray]:
    """Figures of one partition of the grid (a module-level function so process pools can pickle it)."""
    model, system, partition, global_batch, seq, precision, attention_precision = task
    metrics = train_step(
        model,
        system,
        Parallelism(**{k: partition[k] for k in FIELDS}),
        global_batch,
        seq,
        precision,
        attention_precision,
    )
    return {k: v for k, v in metrics.items() if not isinstance(v, dict)}


def search(
    model,
    system,
    accelerators: int,
    global_batch: int,
    seq_len: int | None = None,
    precision: str = "bf16",
    partitions: int = 1,
    pool=None,
    attention_precision: str = "bf16",
) -> SearchResult:
    """Evaluate every valid configuration for ``accelerators`` and return them with their figures.

    With ``partitions > 1`` the grid is split into that many chunks evaluated by ``pool.map``
    (any pool with a ``map``: ``concurrent.futures`` executors, or ``ray.util.multiprocessing.Pool``
    for a Ray cluster); the chunks are joined in order, so the result equals the one-pass search.
    """
    start = time.perf_counter()
    seq = int(seq_len or model.seq_len)
    grid, evaluated = candidate_grid(model, accelerators, global_batch, seq, recipe(precision).low)
    system = system.with_accelerators(accelerators)
    bounds = np.linspace(0, grid["tp"].size, max(1, partitions) + 1).round().astype(int)
    chunks = [{k: v[a:b] for k, v in grid.items()} for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    tasks = [(model, system, chunk, global_batch, seq, precision, attention_precision) for chunk in chunks]
    results = list((pool or _Serial()).map(_evaluate_partition, tasks))
    metrics = {k: np.concatenate([np.atleast_1d(r[k]) for r in results]) for k in results[0]}
    return SearchResult(grid, metrics, evaluated, time.perf_counter() - start)


class _Serial:
    """The in-process ``map`` used when no pool is given."""

    @staticmethod
    def map(function, tasks):
        return map(function, tasks)
