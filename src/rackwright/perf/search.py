"""Parallelism search: every valid configuration evaluated in one array pass per precision recipe.

The candidate grid crosses TP, PP, virtual stages, CP, EP and expert TP (folded over TP·CP·DP), micro-batch,
recompute, the distributed optimizer, ZeRO-2, FSDP and HSDP replicas, low-precision parameters, uneven first/last
stages (embedding and loss counted as a layer each), the pipeline schedule (1F1B, and DualPipe where its rules
hold), the optimizer moments (FP32 only unless a restriction asks for BF16: they change the numerics), for MoE
models the dispatcher, and with CP > 1 the CP K,V exchange (``cp_comm_type`` p2p and all_gather; CP = 1 keeps p2p,
which exchanges nothing); DP follows from the accelerator count. A configuration is valid when the degrees divide
the hardware, the heads, the sequence and the batch (Megatron-LM's constraints); pipeline stages may hold unequal
layer counts (the busiest stage sets the pace). The overlap flags that never lengthen a step in the model are set
rather than crossed (param-gather overlap with the distributed optimizer, pipeline-send overlap with interleaving,
all-to-all overlap with EP > 1 or DualPipe).
Recompute crosses none, full and selective with its module sets (:func:`recompute_variants`); a module set is
evaluated only where recompute is needed (:func:`_needed`). Every configuration carries the groups that leave the
scale-up domain and the rack (:mod:`rackwright.perf.placement`), and ``within_scale_up`` keeps only those whose named
groups stay inside one domain. The grid is built with NumPy broadcasting and its valid points go through
:func:`rackwright.perf.training.train_step` as arrays (in cache-sized chunks, :data:`CHUNK`), so a search costs a few
array operations per term, not a Python loop per configuration.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np

from ..errors import InputError
from .memory import RECOMPUTE_MODULES
from .placement import GROUPS, crossings, group_names, layout
from .precision import recipe
from .stages import PP_SCHEDULES
from .training import CP_COMM_TYPES, RECOMPUTE, Parallelism, train_step

POWERS_OF_TWO = (1, 2, 4, 8, 16, 32, 64, 128)
MICRO_BATCHES = (1, 2, 4, 8)
VIRTUAL_STAGES = (1, 2, 3, 4, 6, 8)
#: How weights, gradients and optimizer state are sharded over DP × CP; HSDP shards over the DP × CP ranks of one
#: scale-up domain and replicates across domains (PyTorch's hybrid sharding, typically within a node).
SHARDING = ("ddp", "zero1", "zero2", "fsdp", "hsdp")
#: Adam's moments, as ``perf train --optimizer-moments`` names them; the index is ``Parallelism.bf16_moments``.
OPTIMIZER_MOMENTS = ("fp32", "bf16")
#: Axis values searched unless ``restrict`` names the axis: BF16 moments change the numerics, not only the speed
#: (Megatron-Core's precision-aware optimizer is opt-in), so they are searched only when asked for.
DEFAULT_RESTRICT = {"optimizer_moments": (OPTIMIZER_MOMENTS.index("fp32"),)}
FIELDS = (
    "tp",
    "pp",
    "vp",
    "dp",
    "cp",
    "cp_comm_type",
    "ep",
    "etp",
    "micro_batch",
    "recompute",
    "recompute_modules",
    "distributed_optimizer",
    "sp",
    "fp8_param_gather",
    "overlap_param_gather",
    "overlap_p2p",
    "fsdp",
    "hsdp_replicas",
    "zero2",
    "first_stage_layers",
    "last_stage_layers",
    "moe_dispatcher",
    "moe_a2a_overlap",
    "overlap_tp",
    "pp_schedule",
    "bf16_moments",
)
BOOLEAN_FIELDS = (
    "distributed_optimizer",
    "sp",
    "fp8_param_gather",
    "overlap_param_gather",
    "overlap_p2p",
    "fsdp",
    "zero2",
    "moe_a2a_overlap",
    "overlap_tp",
)
DISPATCHERS = ("alltoall", "deepep")
#: Configurations per train_step call when no pool is given: large enough that the per-call Python overhead
#: is spread thin, small enough that the arrays stay near the CPU caches (best of 2 searches on the shared 2-core
#: machine, issue 18: Llama 3 405B on 16,384 H100 / Mixtral 8x7B on 1,024 H100 took 0.29-0.33 / 2.4-2.6 s in
#: chunks of 4,096, 0.14-0.32 / 1.4-1.7 s in chunks of 16,384; 65,536 is slower again).
CHUNK = 16384


@dataclass
class SearchResult:
    configurations: dict[str, np.ndarray]  # the valid configurations (arrays)
    metrics: dict[str, np.ndarray]  # train_step outputs for them
    evaluated: int  # grid points considered
    seconds: float
    precisions: tuple[str, ...] = field(default=("bf16",))  # configurations["precision"] indexes these
    dominated: int = 0  # selective module sets not evaluated: recompute is not needed there (search._needed)

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
        out: dict = {name: int(self.configurations[name][i]) for name in FIELDS}
        out["recompute"] = next(k for k, v in RECOMPUTE.items() if v == out["recompute"])
        out["recompute_modules"] = [m for m, bit in RECOMPUTE_MODULES.items() if out["recompute_modules"] & bit]
        for name in BOOLEAN_FIELDS:
            out[name] = bool(out[name])
        out["moe_dispatcher"] = DISPATCHERS[out["moe_dispatcher"]]
        out["cp_comm_type"] = next(k for k, v in CP_COMM_TYPES.items() if v == out["cp_comm_type"])
        out["pp_schedule"] = next(k for k, v in PP_SCHEDULES.items() if v == out["pp_schedule"])
        out["optimizer_moments"] = OPTIMIZER_MOMENTS[out.pop("bf16_moments")]
        out["precision"] = self.precisions[int(self.configurations["precision"][i])]
        out["sharding"] = SHARDING[
            3 + (out["hsdp_replicas"] > 1) if out["fsdp"] else 2 if out["zero2"] else int(out["distributed_optimizer"])
        ]
        out["crosses_scale_up"] = group_names(self.configurations["off_scale_up"][i])
        out["crosses_rack"] = (
            group_names(self.configurations["off_rack"][i]) if "off_rack" in self.configurations else None
        )
        return out


def _divisors(n: int, limit: int | None = None) -> list[int]:
    return [d for d in range(1, (limit or n) + 1) if n % d == 0]


def recompute_variants(model, modules: int | None = None) -> list[tuple[int, int]]:
    """The (:data:`RECOMPUTE` code, :data:`RECOMPUTE_MODULES` bit mask) pairs the grid crosses.

    ``none`` and ``full``, and ``selective`` with ``core_attn`` alone (Megatron-Core's default) and with every
    non-empty set of the other modules that ``modules`` allows (default: all but ``moe``, the whole MoE block with
    its dispatch, which a mask can add), pruned to the sets that differ: a module that does nothing for the model is
    left out (``mlp`` without dense layers, ``moe``/``moe_act`` without MoE layers, ``mla_up_proj`` without MLA
    attention), ``core_attn`` is never added to another set (the search's flash attention stores no scores, so it
    would cost its recompute and save nothing), and ``moe`` is never paired with ``moe_act`` (it rebuilds the
    activation too). A dense model without MLA crosses 4 selective variants, Mixtral 4, DeepSeek-V3 16.
    """
    applies = {
        "core_attn": True,
        "layernorm": True,
        "mlp": model.dense_mlp_layers > 0,
        "moe_act": model.moe_layers > 0,
        "mla_up_proj": model.attention == "mla",
        "moe": model.moe_layers > 0,
    }
    allowed = sum(b for m, b in RECOMPUTE_MODULES.items() if m != "moe") if modules is None else int(modules)
    # a module memory.py gains later is not crossed until it is placed in ``applies``
    names = [m for m, bit in RECOMPUTE_MODULES.items() if applies.get(m, False) and allowed & bit]
    if modules is not None and not names:
        raise InputError.single(
            None,
            f"none of the recompute modules given applies to {model.name}",
            "--recompute-modules",
            "name modules the model has (core_attn, layernorm; mlp for dense layers, moe_act for MoE layers)",
        )
    others = [m for m in names if m != "core_attn"]
    sets: list[tuple[str, ...]] = [("core_attn",)] if "core_attn" in names else []
    sets += [
        combo
        for k in range(1, len(others) + 1)
        for combo in itertools.combinations(others, k)
        if not {"moe", "moe_act"} <= set(combo)
    ]
    selective = [(RECOMPUTE["selective"], sum(RECOMPUTE_MODULES[m] for m in combo)) for combo in sets]
    return [(RECOMPUTE["none"], 0), *selective, (RECOMPUTE["full"], 0)]


def candidate_grid(
    model,
    accelerators: int,
    global_batch: int,
    seq_len: int,
    low_precision: bool = False,
    domain: int = 8,
    restrict: dict | None = None,
    overlap_tp: bool = False,
    modules: int | None = None,
    within: Sequence[str] = (),
    rack: int | None = None,
    cp_comm_types: Sequence[int] = tuple(CP_COMM_TYPES.values()),
) -> tuple[dict[str, np.ndarray], list[tuple[int, int]], int]:
    """The valid configurations but for recompute (arrays of equal length), the recompute variants to cross them
    with (:func:`with_recompute`: the whole grid) and the number of grid points considered.

    With a low-precision recipe the grid also crosses low-precision parameters (``fp8_param_gather``)
    on and off (only with the distributed optimizer, whose all-gather it shrinks). ``domain`` is the scale-up
    domain's size, over which HSDP shards. ``restrict`` keeps only the given values of some axes (for example
    ``{"tp": (1,), "micro_batch": (1,)}`` for a workload run that way; ``sharding`` by index of :data:`SHARDING`,
    ``pp_schedule`` by code of :data:`rackwright.perf.stages.PP_SCHEDULES`, ``optimizer_moments`` by index of
    :data:`OPTIMIZER_MOMENTS`); an axis it leaves out keeps :data:`DEFAULT_RESTRICT`'s values where that names it.
    DualPipe is crossed where ``perf train`` accepts it (``api._check_dualpipe``).
    ``overlap_tp`` overlaps the TP collectives with the GEMMs in every configuration with TP > 1 (a property of the
    user's software stack, not crossed: it is not always faster in the model, see ``training._tp_exposed``).
    Recompute crosses :func:`recompute_variants` (``modules``: the bit mask of the modules selective recompute may
    use). ``within`` names groups of :data:`rackwright.perf.placement.GROUPS` that must stay inside one scale-up
    domain. Every configuration carries the bit masks (:func:`rackwright.perf.placement.crossings`) of its groups
    that span scale-up domains (``off_scale_up``) and, with a ``rack`` size, racks (``off_rack``). Configurations
    with CP > 1 are crossed with ``cp_comm_types`` (codes of :data:`rackwright.perf.training.CP_COMM_TYPES`,
    :func:`_with_cp_comm`); those with CP = 1 keep p2p alone.
    """
    tps = [t for t in POWERS_OF_TWO if model.heads % t == 0 and t <= accelerators]
    pps = sorted(
        {p for p in _divisors(model.layers, min(model.layers, accelerators, 128))}
        | {p for p in POWERS_OF_TWO if p <= min(model.layers, accelerators)}
    )
    cps = [c for c in POWERS_OF_TWO if seq_len % (2 * c) == 0 and c <= 32] or [1]
    eps = [e for e in POWERS_OF_TWO if model.experts and model.experts % e == 0] or [1]
    structure = dict(
        tp=tps,
        pp=pps,
        vp=VIRTUAL_STAGES,
        cp=cps,
        ep=eps,
        etp=[0, 1] if model.experts else [0],
        micro_batch=MICRO_BATCHES,
        uneven=[0, 1],
        pp_schedule=list(PP_SCHEDULES.values()),
    )
    restrict = DEFAULT_RESTRICT | (restrict or {})
    keep = restrict.get("recompute")
    variants = [v for v in recompute_variants(model, modules) if keep is None or v[0] in keep]
    if not variants:
        _no_candidate(model, accelerators, "recompute", keep)
    settings = dict(
        sharding=list(range(len(SHARDING))),
        fp8_param_gather=[0, 1] if low_precision else [0],
        moe_dispatcher=[0, 1] if model.experts else [0],
        optimizer_moments=list(range(len(OPTIMIZER_MOMENTS))),
    )
    for axes in (structure, settings):
        for name, keep in restrict.items():
            if name in axes:
                axes[name] = [v for v in axes[name] if v in keep]
                if not axes[name]:
                    _no_candidate(model, accelerators, name, keep)
    cp_points = sum(1 if c == 1 else len(cp_comm_types) for c in structure["cp"])  # the CP x comm type axis
    sizes = [cp_points if name == "cp" else len(v) for name, v in (*structure.items(), *settings.items())]
    evaluated = len(variants) * int(np.prod(sizes))
    # Two passes, each a boolean mask over broadcast (sparse) axes: the degrees first, then the surviving degree
    # combinations (rows) crossed with the settings (columns); only valid configurations become arrays.
    values = [np.asarray(v) for v in structure.values()]
    grid = dict(zip(structure, np.meshgrid(*values, indexing="ij", sparse=True), strict=True))
    model_parallel = grid["tp"] * grid["pp"] * grid["cp"]
    dp = accelerators // model_parallel
    replicas = np.maximum(dp * grid["micro_batch"], 1)
    microbatches = global_batch // replicas
    # DualPipe's own rules, as perf train checks them (api._check_dualpipe)
    dualpipe = (grid["pp"] % 2 == 0) & (grid["vp"] == 1) & (microbatches % 2 == 0) & (microbatches >= 2 * grid["pp"])
    etp = np.where(grid["etp"] > 0, grid["etp"], grid["tp"])
    inside = True
    if within:  # the groups named stay inside one scale-up domain
        off = crossings(layout(grid["tp"], grid["pp"], np.maximum(dp, 1), grid["cp"], grid["ep"], etp), domain)
        inside = (off & sum(1 << GROUPS.index(name) for name in within)) == 0
    index = _valid(
        model,
        accelerators,
        global_batch,
        {  # in order: the first that no candidate left meets is the reason for an empty search
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
            "an interleaved pipeline has at least PP micro-batches per step": microbatches
            >= np.where(grid["vp"] > 1, grid["pp"], 1),
            "DualPipe has an even PP, VP = 1 and an even number of micro-batches per step, at least 2·PP": (
                (grid["pp_schedule"] != PP_SCHEDULES["dualpipe"]) | dualpipe,
                "change --global-batch, or leave pp_schedule (or the pp and vp it needs) out of --restrict",
            ),
            f"uneven stages (embedding and loss as a layer each) need PP > 1 and PP·VP to divide {model.layers} + 2": (
                grid["uneven"] == 0
            )
            | ((grid["pp"] > 1) & ((model.layers + 2) % (grid["pp"] * grid["vp"]) == 0)),
            f"the {', '.join(within)} groups stay inside one scale-up domain of {domain}": (
                inside,
                "keep fewer groups in --within-scale-up, or use a system with a larger scale-up domain",
            ),
        },
        tuple(v.size for v in values),
    )
    rows = {name: v[i] for (name, v), i in zip(zip(structure, values, strict=True), index, strict=True)}
    columns = dict(
        zip(settings, (a.ravel() for a in np.meshgrid(*map(np.asarray, settings.values()), indexing="ij")), strict=True)
    )
    row = {k: v[:, None] for k, v in rows.items()}
    col = {k: v[None, :] for k, v in columns.items()}
    dp_cp = accelerators // (row["tp"] * row["pp"])
    shard_group = max(domain, 1) // row["tp"]  # DP × CP ranks in one scale-up domain (stride TP)
    i, j = _valid(
        model,
        accelerators,
        global_batch,
        {
            "low-precision parameters go with the distributed optimizer or FSDP": (col["fp8_param_gather"] == 0)
            | (col["sharding"] > 0),
            "HSDP: the DP × CP ranks of a scale-up domain divide DP × CP, more than one domain": (col["sharding"] < 4)
            | ((shard_group > 1) & (dp_cp % np.maximum(shard_group, 1) == 0) & (dp_cp > shard_group)),
            "the DeepEP dispatcher needs EP > 1": (col["moe_dispatcher"] == 0) | (row["ep"] > 1),
        },
        (rows["tp"].size, columns["sharding"].size),
    )
    out = {k: v[i] for k, v in rows.items()} | {k: v[j] for k, v in columns.items()}
    out["dp"] = accelerators // (out["tp"] * out["pp"] * out["cp"])
    sharding = out.pop("sharding")
    out["distributed_optimizer"] = ((sharding == 1) | (sharding == 2)).astype(int)
    out["bf16_moments"] = out.pop("optimizer_moments")
    out["zero2"] = (sharding == 2).astype(int)
    out["fsdp"] = (sharding >= 3).astype(int)
    out["hsdp_replicas"] = np.where(
        sharding == 4, out["dp"] * out["cp"] // np.maximum(max(domain, 1) // out["tp"], 1), 1
    )
    out["etp"] = np.where(out["etp"] > 0, out["etp"], out["tp"])  # 0 stood for "= TP"
    out["sp"] = (out["tp"] > 1).astype(int)
    out["overlap_param_gather"] = out["distributed_optimizer"].copy()  # never slower: on with the optimizer
    out["overlap_p2p"] = (out["vp"] > 1).astype(int)  # never slower: on with interleaving, as NeMo sets it
    # never slower in the model: on with EP, and with DualPipe on an MoE model, whose paired chunks hide it (as
    # perf train sets it)
    dual = out["pp_schedule"] == PP_SCHEDULES["dualpipe"]
    out["moe_a2a_overlap"] = ((out["ep"] > 1) | (dual & bool(model.experts))).astype(int)
    out["overlap_tp"] = ((out["tp"] > 1) & overlap_tp).astype(int)  # as the user's stack runs (--tp-overlap)
    # Megatron-Core's account_for_embedding/loss_in_pipeline_split: the first and last stages give a layer's
    # place to the embedding and the loss, (L + 2) / (PP·VP) layers per virtual stage elsewhere.
    stage = out["vp"] * ((model.layers + 2) // (out["pp"] * out["vp"])) - 1
    out["first_stage_layers"] = np.where(out.pop("uneven") > 0, stage, 0)
    out["last_stage_layers"] = out["first_stage_layers"].copy()
    groups = layout(out["tp"], out["pp"], out["dp"], out["cp"], out["ep"], out["etp"])
    out["off_scale_up"] = crossings(groups, domain)
    if rack:
        out["off_rack"] = crossings(groups, rack)
    out = {k: v.astype(np.int32) for k, v in out.items()}  # half the bytes to cross with recompute and copy
    return _with_cp_comm(out, cp_comm_types), variants, evaluated


def _with_cp_comm(grid: dict[str, np.ndarray], types: Sequence[int]) -> dict[str, np.ndarray]:
    """``grid`` with its ``cp_comm_type``: the configurations with CP = 1 once (p2p: no exchange to choose), those
    with CP > 1 once per type of ``types``, type by type (blocks of one type in the grid's order, so an evaluation
    chunk mostly computes one exchange, ``training._context_parallel``)."""
    p2p = CP_COMM_TYPES["p2p"]
    others = [t for t in dict.fromkeys(types) if t != p2p]
    parts = [(grid["cp"] == 1) | (p2p in types)] + [grid["cp"] > 1] * len(others)
    codes = [p2p, *others]
    out = {k: np.concatenate([v[keep] for keep in parts]) for k, v in grid.items()}
    out["cp_comm_type"] = np.repeat(np.asarray(codes, np.int32), [int(keep.sum()) for keep in parts])
    return out


def with_recompute(grid: dict[str, np.ndarray], variants: Sequence[tuple[int, int]]) -> dict[str, np.ndarray]:
    """Every configuration of ``grid`` once per recompute variant, variant by variant (blocks of equal order)."""
    size = grid["tp"].size
    out = {k: np.tile(v, len(variants)) for k, v in grid.items()}
    codes, masks = np.asarray(variants, dtype=int).reshape(-1, 2).T
    out["recompute"] = np.repeat(codes.astype(np.int32), size)
    out["recompute_modules"] = np.repeat(masks.astype(np.int32), size)
    return out


def _no_candidate(model, accelerators: int, name: str, keep) -> NoReturn:
    """:class:`InputError`: the restriction of axis ``name`` to ``keep`` leaves no candidate."""
    raise InputError.single(
        None,
        f"no candidate {name} of {model.name} on {accelerators} accelerators is among {list(keep)}",
        "--restrict",
        "allow other values, or drop the restriction",
    )


def _valid(model, accelerators: int, global_batch: int, constraints: dict, shape: tuple) -> tuple:
    """Indices (``np.nonzero``) of the grid points of ``shape`` that meet every constraint (a mask, or a mask and
    the fix to suggest); :class:`InputError` naming the first constraint that no point left meets."""
    valid = np.ones(shape, bool)
    for reason, constraint in constraints.items():
        mask, hint = constraint if isinstance(constraint, tuple) else (constraint, None)
        mask = np.broadcast_to(mask, shape)
        if valid.any() and not (valid & mask).any():
            raise InputError.single(
                None,
                f"no configuration of {model.name} on {accelerators} accelerators with a "
                f"global batch of {global_batch} meets: {reason}",
                hint=hint or "change --global-batch or --accelerators (or --racks)",
            )
        valid &= mask
    return np.nonzero(valid)


def _evaluate_partition(task) -> dict[str, np.ndarray]:
    """Figures of one partition of the grid (a module-level function so process pools can pickle it)."""
    model, system, partition, global_batch, seq, precision, attention_precision, fixed = task
    metrics = train_step(
        model,
        system,
        Parallelism(**{k: partition[k] for k in FIELDS}, **fixed),
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
    precision: str | Sequence[str] = "bf16",
    partitions: int = 1,
    pool=None,
    attention_precision: str = "bf16",
    restrict: dict | None = None,
    overlap_tp: bool = False,
    recompute_modules: int | None = None,
    within_scale_up: Sequence[str] = (),
    cp_comm_types: Sequence[int] = tuple(CP_COMM_TYPES.values()),
    fixed: dict | None = None,
) -> SearchResult:
    """Evaluate every valid configuration for ``accelerators`` and return them with their figures.

    ``precision`` is a recipe or a list of recipes to search over (one array pass each; the configurations'
    ``precision`` field indexes :attr:`SearchResult.precisions`). Without a pool each grid is evaluated in chunks
    of :data:`CHUNK` configurations. With ``partitions > 1`` and a pool each grid is split into that many chunks
    evaluated by ``pool.map`` (any pool with a ``map``: ``concurrent.futures`` executors, or
    ``ray.util.multiprocessing.Pool`` for a Ray cluster); the chunks are joined in order, so the result equals
    the one-pass search. ``restrict`` narrows axes of the grid and ``overlap_tp`` overlaps TP wherever TP > 1
    (:func:`candidate_grid`), ``recompute_modules`` (a bit mask) limits the modules selective recompute may use
    and ``within_scale_up`` names the groups that must stay inside one scale-up domain. ``cp_comm_types`` (codes of
    :data:`rackwright.perf.training.CP_COMM_TYPES`, default both) are the K,V exchanges crossed where CP > 1.
    ``fixed`` holds :class:`~rackwright.perf.training.Parallelism` settings every configuration shares, not crossed
    (``moe_capacity_factor``, ``moe_pad_to_capacity``: scalars that broadcast over the arrays, so still one pass).
    """
    start = time.perf_counter()
    seq = int(seq_len or model.seq_len)
    precisions = (precision,) if isinstance(precision, str) else tuple(precision)
    system = system.with_accelerators(accelerators)
    grids, evaluated = [], 0
    for code, name in enumerate(precisions):
        grid, variants, count = candidate_grid(
            model,
            accelerators,
            global_batch,
            seq,
            recipe(name).low,
            system.scale_up_domain,
            restrict,
            overlap_tp,
            recompute_modules,
            within_scale_up,
            system.accelerators_per_rack,
            cp_comm_types,
        )
        grid["precision"] = np.full(grid["tp"].size, code)
        sets = [v for v in variants if _module_set(*v)]
        grids.append((grid, [v for v in variants if not _module_set(*v)], sets))
        evaluated += count
    fixed = dict(fixed or {})
    run = lambda parts: _evaluate(  # noqa: E731
        model, system, parts, global_batch, seq, precisions, attention_precision, partitions, pool, fixed
    )
    # First every configuration but with the selective module sets, then with those sets where recompute is needed.
    first = [with_recompute(grid, plain) for grid, plain, _ in grids]
    first_results = run(first)
    fitting = np.concatenate([np.zeros(0, bool), *(np.atleast_1d(r["fits"]) for r in first_results)])
    fits = np.split(fitting, np.cumsum([f["tp"].size for f in first])[:-1])
    needed = [_needed(plain, fit, grid["tp"].size) for (grid, plain, _), fit in zip(grids, fits, strict=True)]
    second = [
        with_recompute({k: v[need] for k, v in grid.items()}, sets)
        for (grid, _, sets), need in zip(grids, needed, strict=True)
    ]
    results = first_results + run(second)
    configurations = {k: np.concatenate([p[k] for p in first + second]) for k in first[0]}
    metrics = {k: np.concatenate([np.atleast_1d(r[k]) for r in results]) for k in results[0]}
    dominated = sum(len(sets) * int((~need).sum()) for (_, _, sets), need in zip(grids, needed, strict=True))
    return SearchResult(configurations, metrics, evaluated, time.perf_counter() - start, precisions, dominated)


def _module_set(code: int, modules: int) -> bool:
    """Whether a recompute variant is selective with a module set other than ``core_attn`` alone."""
    return code == RECOMPUTE["selective"] and modules != RECOMPUTE_MODULES["core_attn"]


def _needed(plain: list[tuple[int, int]], fits: np.ndarray, size: int) -> np.ndarray:
    """Which of ``size`` configurations to evaluate with the module sets, given ``fits`` of them with the ``plain``
    recompute variants (block by block, :func:`with_recompute`).

    A module set only adds recompute time to a configuration and keeps more activations than full recompute (the
    layer input alone), so it can be the fastest that fits only where the configuration does not fit without
    recompute and fits with full recompute (tests/test_perf_search_recompute.py checks both over a whole grid).
    """
    fits = fits.reshape(len(plain), size)
    codes = [code for code, _ in plain]
    need = np.ones(size, bool)
    if RECOMPUTE["none"] in codes:
        need &= ~fits[codes.index(RECOMPUTE["none"])]
    if RECOMPUTE["full"] in codes:
        need &= fits[codes.index(RECOMPUTE["full"])]
    return need


def _evaluate(
    model, system, grids, global_batch, seq, precisions, attention_precision, partitions, pool, fixed
) -> list:
    """train_step's figures of the rows of ``grids`` with the ``fixed`` settings, chunk by chunk in order (none for
    no rows): in chunks of :data:`CHUNK`, or ``partitions`` chunks per grid mapped over ``pool``."""
    tasks = []
    for grid in grids:
        size = grid["tp"].size
        parts = max(1, partitions) if pool is not None else max(1, partitions, -(-size // CHUNK))
        bounds = np.linspace(0, size, parts + 1).round().astype(int)
        name = precisions[int(grid["precision"][0])] if size else None
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if b > a:
                chunk = {k: v[a:b] for k, v in grid.items()}
                tasks.append((model, system, chunk, global_batch, seq, name, attention_precision, fixed))
    return list((pool or _Serial()).map(_evaluate_partition, tasks))


class _Serial:
    """The in-process ``map`` used when no pool is given."""

    @staticmethod
    def map(function, tasks):
        return map(function, tasks)
