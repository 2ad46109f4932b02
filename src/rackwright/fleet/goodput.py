"""Checkpointing and training goodput (effective training time ratio, ETTR) of a long job.

Closed forms, vectorised (formulas.md, "Reliability and goodput"):

* checkpoint size ``B = P·b`` for ``P`` parameters at ``b`` bytes each: 14 B for
  mixed-precision Adam (bf16 weights 2 + fp32 master weights 4 + two fp32 moments 8;
  gradients are not saved; ZeRO counts 16 B with them, Rajbhandari et al. SC20);
  write time ``δ = B / storage bandwidth``;
* Young (1974): ``τ = √(2·δ·M)`` (J. W. Young, "A first order approximation to the
  optimum checkpoint interval", CACM 17(9), 1974); e.g. δ = 60 s, M = 3 h → τ = 1138 s;
* Daly (2006), higher order: ``τ = √(2δM)·[1 + ⅓·√(δ/2M) + (1/9)·(δ/2M)] − δ`` for
  ``δ < 2M``, else ``τ = M`` (J. T. Daly, "A higher order estimate of the optimum
  checkpoint interval for restart dumps", FGCS 22(3), 2006);
* first-order lost fraction ``δ/τ + (τ/2 + R)/M`` (R = restart time), goodput = 1 − that;
* exponential failures, no failures during restart: the expected wall time of one
  segment of ``τ`` work plus a checkpoint is ``(M + R)·(e^{(τ+δ)/M} − 1)`` (Daly 2006,
  eq. 7 with the restart outside the exposure), so ``goodput = τ / ((M + R)(e^{(τ+δ)/M} − 1))``.
  The Monte Carlo model (:mod:`rackwright.fleet.montecarlo`) simulates exactly this process.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..units import UnitError, parse_quantity
from ..validity import BYTES_PER_PARAM_RANGE, CHECKPOINT_WRITE_RANGE, DOMAINS, OutOfDomain, argument, require
from .failures import HOURS_PER_DAY, by_category, inventory, job_causes, job_racks, load_failure_modes, mtbi_hours
from .spares import hot_spares_needed, idle_capacity_fraction, target_availability, wait_probability

if TYPE_CHECKING:
    from ..rack.evaluation import Rack

#: Bytes per parameter of a training checkpoint (mixed-precision Adam without gradients, see module docstring).
CHECKPOINT_BYTES_PER_PARAM = 14.0
#: Storage write bandwidth when none is given: Meta's Tectonic sustained 2 TB/s for Llama 3 (Llama 3 paper §3.3.1).
DEFAULT_STORAGE_BANDWIDTH = 2e12


def checkpoint_bytes(params, bytes_per_param=CHECKPOINT_BYTES_PER_PARAM):
    """Bytes of a checkpoint of ``params`` parameters."""
    return np.asarray(params, dtype=float) * np.asarray(bytes_per_param, dtype=float)


def checkpoint_write_time(nbytes, bandwidth):
    """Checkpoint write time ``δ = bytes / bandwidth`` [s] (bandwidth in B/s)."""
    return np.asarray(nbytes, dtype=float) / np.asarray(bandwidth, dtype=float)


def young_interval(delta, mtbi):
    """Young's optimal compute time between checkpoints ``τ = √(2·δ·M)`` (same unit as δ and M)."""
    return np.sqrt(2.0 * np.asarray(delta, dtype=float) * np.asarray(mtbi, dtype=float))


def daly_interval(delta, mtbi):
    """Daly's higher-order optimum ``√(2δM)·[1 + ⅓√(δ/2M) + (δ/2M)/9] − δ`` for δ < 2M, else M."""
    delta = np.asarray(delta, dtype=float)
    mtbi = np.asarray(mtbi, dtype=float)
    x = delta / (2.0 * mtbi)
    tau = np.sqrt(2.0 * delta * mtbi) * (1.0 + np.sqrt(x) / 3.0 + x / 9.0) - delta
    return np.where(delta < 2.0 * mtbi, tau, mtbi)


def lost_fraction(tau, delta, mtbi, restart):
    """First-order expected fraction of wall time lost: ``δ/τ + (τ/2 + R)/M``."""
    tau, delta, mtbi, restart = (np.asarray(v, dtype=float) for v in (tau, delta, mtbi, restart))
    return delta / tau + (tau / 2.0 + restart) / mtbi


def goodput_first_order(tau, delta, mtbi, restart):
    """``1 − lost_fraction``, clipped to [0, 1]."""
    return np.clip(1.0 - lost_fraction(tau, delta, mtbi, restart), 0.0, 1.0)


def goodput_exponential(tau, delta, mtbi, restart):
    """Expected goodput with exponential failures: ``τ / ((M + R)·(e^{(τ+δ)/M} − 1))``."""
    tau, delta, mtbi, restart = (np.asarray(v, dtype=float) for v in (tau, delta, mtbi, restart))
    with np.errstate(over="ignore"):
        return np.where(np.isinf(mtbi), tau / (tau + delta), tau / ((mtbi + restart) * np.expm1((tau + delta) / mtbi)))


def _bandwidth(value) -> float:
    """The checkpoint write bandwidth [B/s]: a data rate in its domain, and above zero (the write divides by it)."""
    try:
        si = require(
            "data_rate", float(value) if isinstance(value, (int, float)) else parse_quantity(str(value), "data_rate")
        )
    except (UnitError, OutOfDomain) as exc:
        raise InputError.single(None, str(exc), "--storage-bandwidth") from None
    if si == 0:
        raise InputError.single(
            None,
            "a checkpoint cannot be written at 0 B/s",
            "--storage-bandwidth",
            'give the storage\'s write bandwidth, e.g. "2 TB/s"',
        )
    return si


def job_report(
    design: Rack,
    accelerators: int,
    *,
    checkpoint_write_s: float | None = None,
    model: str = "llama3-405b",
    storage_bandwidth=DEFAULT_STORAGE_BANDWIDTH,
    bytes_per_param: float = CHECKPOINT_BYTES_PER_PARAM,
    spares: int | None = None,
    availability: float = 0.999,
    oversubscription: float = 1.0,
    modes=None,
) -> dict:
    """Interruptions, checkpoint interval and goodput of a job on ``accelerators`` accelerators of an evaluated rack
    ``design`` (:func:`rackwright.evaluate`).

    ``spares`` hot-spare accelerators stand by for the job (``None``: sized for ``availability``);
    a failure that finds no spare makes the job wait for the failed unit's repair.
    """
    from ..perf.workload import load_model

    accelerators = int(argument("positive_count", accelerators, "--accelerators"))
    spares = None if spares is None else int(argument("count", spares, "--spares"))
    availability = target_availability(availability)
    oversubscription = argument("ratio", oversubscription, "--oversubscription")
    if oversubscription < 1:
        raise InputError.single(
            None,
            f"an oversubscription of {oversubscription:g} is below 1 (non-blocking)",
            "--oversubscription",
            "1 for a non-blocking fabric, more for an oversubscribed one",
        )
    bytes_per_param = argument("data", bytes_per_param, "--bytes-per-param")
    if not BYTES_PER_PARAM_RANGE[0] <= bytes_per_param <= BYTES_PER_PARAM_RANGE[1]:
        raise InputError.single(
            None,
            f"{bytes_per_param:g} checkpoint bytes per parameter is outside "
            f"{BYTES_PER_PARAM_RANGE[0]:g} to {BYTES_PER_PARAM_RANGE[1]:g}",
            "--bytes-per-param",
            "14: bf16 weights, fp32 master weights and Adam moments",
        )
    if checkpoint_write_s is not None:
        checkpoint_write_s = argument("time", checkpoint_write_s, "--checkpoint-write-s")
        if not CHECKPOINT_WRITE_RANGE[0] <= checkpoint_write_s <= CHECKPOINT_WRITE_RANGE[1]:
            raise InputError.single(
                None,
                f"a checkpoint write of {checkpoint_write_s:g} s is outside "
                f"{CHECKPOINT_WRITE_RANGE[0]:g} s to {CHECKPOINT_WRITE_RANGE[1]:g} s",
                "--checkpoint-write-s",
                "seconds to minutes on parallel storage",
            )
    modes = modes or load_failure_modes()
    inv = inventory(design, modes)
    causes = job_causes(inv, accelerators, modes, top_oversubscription=oversubscription)
    rates = np.array([c.per_hour for c in causes])
    total = float(rates.sum())
    mtbi_h = float(mtbi_hours(total))
    if not bytes_per_param > 0:
        raise InputError.single(
            None, f"bytes per parameter must be positive, got {bytes_per_param}", "--bytes-per-param"
        )
    if checkpoint_write_s is None:
        spec = load_model(model)
        nbytes = float(checkpoint_bytes(spec.total_params, bytes_per_param))
        delta_s = nbytes / _bandwidth(storage_bandwidth)  # (a float: a tiny bandwidth gives inf, refused below)
        if DOMAINS["time"].outside(delta_s):
            raise InputError.single(
                None,
                f"a {nbytes / 1e9:,.0f} GB checkpoint of {spec.name} would take "
                f"{delta_s:.3g} s to write at {storage_bandwidth}, more than "
                f"{DOMAINS['time'].high:g} s",
                "--storage-bandwidth",
                'give the storage\'s write bandwidth, e.g. "2 TB/s"',
            )
        checkpoint = {
            "model": spec.name,
            "bytes": nbytes,
            "write_s": delta_s,
            "bytes_per_param": bytes_per_param,
            "storage_bandwidth_gb_per_s": _bandwidth(storage_bandwidth) / 1e9,
        }
    else:
        if not checkpoint_write_s > 0:
            raise InputError.single(
                None, f"checkpoint write time must be positive, got {checkpoint_write_s}", "--checkpoint-write-s"
            )
        delta_s = float(checkpoint_write_s)
        checkpoint = {"model": None, "bytes": None, "write_s": delta_s}
    blast = np.array([c.blast_accelerators for c in causes])
    repair = np.array([c.repair_h for c in causes])
    sizes = np.ceil(blast).astype(int)
    in_repair = rates * repair
    spares_used = hot_spares_needed(sizes, in_repair, availability) if spares is None else int(spares)
    p_wait = wait_probability(spares_used, sizes, in_repair, blast)
    restart = np.array([c.restart_h for c in causes]) + p_wait * repair
    restart_h = float(np.dot(rates, restart) / total) if total > 0 else 0.0
    mtbi_s = mtbi_h * 3600.0
    tau_s = float(daly_interval(delta_s, mtbi_s)) if total > 0 else math.inf
    goodput = float(goodput_exponential(tau_s, delta_s, mtbi_s, restart_h * 3600.0)) if total > 0 else 1.0
    first = float(goodput_first_order(tau_s, delta_s, mtbi_s, restart_h * 3600.0)) if total > 0 else 1.0
    categories = by_category(causes)
    per_day = HOURS_PER_DAY * total
    return _finite(
        {
            "design": inv.name,
            "generation": inv.generation,
            "accelerators": int(accelerators),
            "racks": job_racks(inv, accelerators),  # whole racks the job occupies
            "scale_up_domain": int(round(inv.scale_up_domain)),  # a count of accelerators (docs/json.md)
            "interruptions_per_day": per_day,
            "mtbi_h": mtbi_h,
            "by_cause": {c.kind: c.as_dict() for c in causes},
            "by_category": categories,
            "category_shares": {k: (v / per_day if per_day else 0.0) for k, v in categories.items()},
            "checkpoint": checkpoint,
            "checkpoint_interval_min": tau_s / 60.0,
            "young_interval_min": float(young_interval(delta_s, mtbi_s)) / 60.0 if total > 0 else math.inf,
            "restart_min": restart_h * 60.0,
            "spares": spares_used,
            "wait_probability": float(np.dot(rates, p_wait) / total) if total > 0 else 0.0,
            "goodput": goodput,
            "goodput_first_order": first,
            "lost_hours_per_day": HOURS_PER_DAY * (1.0 - goodput),
            "lost_accelerator_hours_per_day": HOURS_PER_DAY * (1.0 - goodput) * accelerators,
            "idle_capacity_fraction": float(idle_capacity_fraction(rates, blast, repair, accelerators)),
            "llama3_derived_share": float(sum(c.per_hour for c in causes if c.llama3_derived) / total)
            if total
            else 0.0,
        }
    )


def _finite(node):
    """The document with non-finite floats (an infinite MTBI of a job that never fails) as None, for JSON."""
    if isinstance(node, dict):
        return {k: _finite(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_finite(v) for v in node]
    if isinstance(node, float) and not math.isfinite(node):
        return None
    return node


__all__ = [
    "checkpoint_bytes",
    "checkpoint_write_time",
    "young_interval",
    "daly_interval",
    "lost_fraction",
    "goodput_first_order",
    "goodput_exponential",
    "job_report",
    "CHECKPOINT_BYTES_PER_PARAM",
    "DEFAULT_STORAGE_BANDWIDTH",
]
