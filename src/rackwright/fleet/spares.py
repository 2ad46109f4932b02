"""Spare pools: Poisson sizing of cold spares, hot spares for a job, capacity idled by blast radius.

* Cold spares (formulas.md, "Spares"): over a repair (or RMA) window ``T_r`` a pool of
  ``n`` parts of rate ``λ`` sees a Poisson demand of mean ``m = n·λ·T_r``; the pool needs
  the smallest ``k`` with ``P(D ≤ k) ≥ A`` (availability ``A``). E.g. m = 2, A = 0.99 → k = 6
  (P(D ≤ 5) = 0.983, P(D ≤ 6) = 0.995).
* Hot spares for a job: units out of service form an M/G/∞ queue (Palm's theorem: the
  number in service is Poisson with mean ``Λ·T_r`` whatever the repair-time distribution).
  A failure of blast size ``b`` finds a spare among ``S`` spare accelerators when the
  accelerators already out, ``X = Σ_k b_k·Y_k`` with ``Y_k ~ Poisson(Λ_k·T_k)``, satisfy
  ``X + b ≤ S``. ``X`` is compound Poisson; its distribution follows Panjer's recursion
  (H. Panjer, "Recursive evaluation of a family of compound distributions", ASTIN Bulletin
  12, 1981): ``f(0) = e^{−Σλ}``, ``f(s) = (1/s)·Σ_j j·λ_j·f(s − j)``.
* Capacity idled by blast radius (Little's law): mean accelerators idle
  ``L = Σ_k Λ_k·b_k·T_k``; a failed accelerator in a 72-accelerator domain idles 72.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..models.reliability import HOURS_PER_YEAR
from ..validity import AVAILABILITY_RANGE, argument
from .failures import HOURS_PER_DAY, inventory, load_failure_modes, mode_of_part, part_rate

if TYPE_CHECKING:
    from ..rack.evaluation import Rack

#: Above this many expected units out of service, the compound Poisson is replaced by a normal law.
PANJER_LIMIT = 600.0


#: Above this Poisson mean the normal approximation (with continuity correction) is used.
LARGE_MEAN = 1e4


def target_availability(availability) -> float:
    """A target availability in :data:`AVAILABILITY_RANGE`."""
    value = argument("share", availability, "--availability")
    low, high = AVAILABILITY_RANGE
    if not low <= value <= high:
        raise InputError.single(
            None,
            f"availability {value:g} is outside {low:g} to 1 − {1 - high:.0e}",
            "--availability",
            "a probability below 1, e.g. 0.999",
        )
    return value


def _normal_cdf(x):
    return 0.5 * (1.0 + np.vectorize(math.erf, otypes=[float])(np.asarray(x, dtype=float) / math.sqrt(2.0)))


def _normal_quantile(p: float) -> float:
    """Standard normal quantile by bisection on ``erf`` (no SciPy)."""
    low, high = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        if 0.5 * (1.0 + math.erf(mid / math.sqrt(2.0))) < p:
            low = mid
        else:
            high = mid
    return high


def _log_pmf_grid(mean, top: int):
    """``log P(D = j)`` for ``j = 0..top`` and each mean (last axis ``j``); mean 0 gives ``D = 0``."""
    j = np.arange(top + 1, dtype=float)
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.maximum(j[1:], 1.0)))])
    m = np.asarray(mean, dtype=float)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = j * np.log(np.where(m > 0, m, 1.0)) - m - log_fact
    return np.where(m > 0, log_pmf, np.where(j == 0, 0.0, -np.inf))


def _grid_top(mean) -> int:
    """Last count worth summing for the (small) means: beyond ``m + 40√m + 100`` the mass is below 1e-300."""
    small = np.asarray(mean, dtype=float)
    small = small[(small >= 0) & (small <= LARGE_MEAN)]
    return int(np.max(small + 40.0 * np.sqrt(small) + 100.0)) if small.size else 0


def poisson_cdf(k, mean):
    """``P(D ≤ k)`` for ``D ~ Poisson(mean)``, vectorised over ``k`` and ``mean`` (log-space terms, no SciPy).

    Means above :data:`LARGE_MEAN` use the normal approximation with continuity correction.
    """
    k, mean = np.broadcast_arrays(np.floor(np.asarray(k, dtype=float)), np.asarray(mean, dtype=float))
    top = int(min(max(np.max(k), 0.0), _grid_top(mean))) if k.size else 0
    pmf = np.exp(_log_pmf_grid(np.where(mean > LARGE_MEAN, 0.0, mean), top))
    j = np.arange(top + 1)
    cdf = np.where(j <= k[..., None], pmf, 0.0).sum(axis=-1)
    large = mean > LARGE_MEAN
    if np.any(large):
        cdf = np.where(large, _normal_cdf((k + 0.5 - mean) / np.sqrt(np.where(large, mean, 1.0))), cdf)
    cdf = np.clip(np.where(k < 0, 0.0, cdf), 0.0, 1.0)
    return cdf if cdf.shape else float(cdf)


def poisson_quantile(mean, probability):
    """Smallest ``k`` with ``P(D ≤ k) ≥ probability`` for ``D ~ Poisson(mean)``, vectorised over ``mean``."""
    p = float(probability)
    if not 0 < p < 1:
        raise ValueError(f"probability must lie strictly between 0 and 1, got {probability}")
    mean = np.asarray(mean, dtype=float)
    large = mean > LARGE_MEAN
    small = np.where(large, 0.0, mean)
    top = int(np.max(small + 12.0 * np.sqrt(np.maximum(small, 0.0)) + 30.0)) if small.size else 0
    cdf = np.cumsum(np.exp(_log_pmf_grid(small, top)), axis=-1)
    k = np.argmax(cdf >= p - 1e-12, axis=-1)
    if np.any(large):
        z = _normal_quantile(p)
        k = np.where(large, np.ceil(mean + z * np.sqrt(np.where(large, mean, 1.0)) - 0.5), k).astype(int)
    return k if k.shape else int(k)


def _compound_moments(sizes, means):
    sizes = np.asarray(sizes, dtype=int).ravel()
    means = np.asarray(means, dtype=float).ravel()
    keep = (sizes > 0) & (means > 0)
    sizes, means = sizes[keep], means[keep]
    mu = float(np.sum(means * sizes))
    sd = math.sqrt(float(np.sum(means * sizes.astype(float) ** 2)))
    return sizes, means, mu, sd


def compound_poisson_cdf(sizes, means, smax: int):
    """``P(X ≤ s)`` for ``s = 0..smax`` of ``X = Σ sizes_k·Y_k``, ``Y_k ~ Poisson(means_k)`` (Panjer 1981).

    Sizes are whole numbers ≥ 1. When the expected count ``Σ means`` exceeds
    :data:`PANJER_LIMIT` a normal law with the same mean and variance is used. Beyond
    ``μ + 40σ + max size`` the distribution is taken as 1 (not computed).
    """
    sizes, means, mu, sd = _compound_moments(sizes, means)
    smax = int(max(smax, 0))
    if sizes.size == 0:
        return np.ones(smax + 1)
    bound = int(mu + 40.0 * sd + sizes.max() + 100)
    n = min(smax, bound)
    s = np.arange(n + 1)
    total = float(means.sum())
    if total > PANJER_LIMIT:
        cdf = _normal_cdf((s + 0.5 - mu) / sd)
    else:
        lam = np.zeros(int(sizes.max()) + 1)
        np.add.at(lam, sizes, means)
        weights = np.arange(lam.size) * lam  # j·λ_j
        f = np.zeros(n + 1)
        f[0] = math.exp(-total)
        for m in range(1, n + 1):
            j = np.arange(1, min(m, lam.size - 1) + 1)
            f[m] = float(np.dot(weights[j], f[m - j])) / m
        cdf = np.minimum(np.cumsum(f), 1.0)
    if smax > n:
        cdf = np.concatenate([cdf, np.ones(smax - n)])
    return cdf


def _compound_cdf_at(points, sizes, means):
    """``P(X ≤ point)`` at integer points (any size), without building arrays beyond the distribution's reach."""
    points = np.asarray(points, dtype=float)
    sizes_, means_, mu, sd = _compound_moments(sizes, means)
    if sizes_.size == 0:
        return np.where(points >= 0, 1.0, 0.0)
    bound = int(mu + 40.0 * sd + sizes_.max() + 100)
    top = int(min(max(np.max(points), 0.0), bound)) if points.size else 0
    cdf = compound_poisson_cdf(sizes_, means_, top)
    index = np.clip(points, 0, top).astype(int)
    return np.where(points < 0, 0.0, np.where(points > top, 1.0, cdf[index]))


def wait_probability(spares, sizes, means, blast):
    """``P(no spare)`` for a failure of blast ``blast`` (array) given ``spares`` hot-spare accelerators."""
    blast = np.asarray(blast, dtype=float)
    room = float(spares) - np.ceil(blast)
    ok = _compound_cdf_at(room, sizes, means)
    return np.where(blast <= 0, 0.0, 1.0 - ok)


def hot_spares_needed(sizes, means, availability: float) -> int:
    """Smallest number of hot-spare accelerators with ``P(X + b_max ≤ S) ≥ availability``."""
    sizes_, means_, mu, sd = _compound_moments(sizes, means)
    if sizes_.size == 0:
        return 0
    b_max = int(sizes_.max())
    if float(means_.sum()) > PANJER_LIMIT:
        return int(math.ceil(mu + _normal_quantile(availability) * sd - 0.5)) + b_max
    cdf = compound_poisson_cdf(sizes_, means_, int(mu + 40.0 * sd + b_max + 100))
    return int(np.searchsorted(cdf, availability - 1e-12)) + b_max


def idle_capacity_fraction(rates_per_hour, blast, repair_h, accelerators):
    """Mean fraction of ``accelerators`` idled by failed units: ``Σ Λ_k·b_k·T_k / N`` (Little's law)."""
    idle = np.sum(
        np.asarray(rates_per_hour, dtype=float) * np.asarray(blast, dtype=float) * np.asarray(repair_h, dtype=float),
        axis=-1,
    )
    return idle / np.asarray(accelerators, dtype=float)


def spares_report(design: Rack, racks: int, repair_days: float, availability: float = 0.999) -> dict:
    """Cold-spare pool per part for ``racks`` racks of an evaluated rack ``design`` (:func:`rackwright.evaluate`),
    and hot-spare scale-up domains, at ``availability``."""
    from ..rack.evaluation import sound_model

    racks = int(argument("positive_count", racks, "--racks"))
    repair_days = argument("lead_time", repair_days, "--repair-days", 1 / 7)  # at most ten years
    if repair_days == 0:
        raise InputError.single(
            None,
            "a repair takes time: the repair window must be above 0 days",
            "--repair-days",
            "give the repair or RMA turnaround, e.g. 5",
        )
    availability = target_availability(availability)
    modes = load_failure_modes()
    model = sound_model(design, "spares_report")
    window_h = repair_days * HOURS_PER_DAY
    pooled: dict[str, dict] = {}
    for item in model.items:
        part = item.part
        count = item.count * (1.0 if item.in_rack else item.share) * racks
        if count <= 0 or mode_of_part(part, modes) == "none":
            continue
        row = pooled.setdefault(
            part.id,
            {
                "part": part.id,
                "kind": part.kind,
                "installed": 0.0,
                "rate_per_hour": part_rate(part),
                "unit_price_usd": part.price_usd,
            },
        )
        row["installed"] += count
    rows = []
    for row in pooled.values():
        installed = row["installed"]
        failures_per_year = installed * row["rate_per_hour"] * HOURS_PER_YEAR
        mean_demand = installed * row["rate_per_hour"] * window_h
        k = int(poisson_quantile(mean_demand, availability))
        rows.append(
            {
                "part": row["part"],
                "kind": row["kind"],
                "installed": round(installed, 3),
                "failures_per_year": failures_per_year,
                "mean_demand_in_window": mean_demand,
                "spares": k,
                "spare_fraction": k / installed if installed else 0.0,
                "availability_achieved": float(poisson_cdf(k, mean_demand)),
                "spares_cost_usd": k * row["unit_price_usd"],
            }
        )
    rows.sort(key=lambda r: -r["spares_cost_usd"])
    inv = inventory(design, modes)
    accelerators = inv.accelerators_per_rack * racks
    from .failures import job_causes

    causes = [c for c in job_causes(inv, accelerators, modes) if c.blast_accelerators > 0 and c.repair_h > 0]
    domain = max(int(round(inv.scale_up_domain)), 1)
    domain_rate = sum(c.per_hour for c in causes if c.blast_accelerators >= domain)
    domain_repair = (
        sum(c.per_hour * c.repair_h for c in causes if c.blast_accelerators >= domain) / domain_rate
        if domain_rate
        else 0.0
    )
    domain_mean = domain_rate * domain_repair
    spare_domains = int(poisson_quantile(domain_mean, availability))
    sizes = [int(math.ceil(c.blast_accelerators)) for c in causes]
    means = [c.per_hour * c.repair_h for c in causes]
    hot = hot_spares_needed(sizes, means, availability)
    return {
        "design": design.name,
        "generation": design.generation,
        "racks": racks,
        "accelerators": accelerators,
        "repair_days": repair_days,
        "availability": availability,
        "parts": rows,
        "total_spares_cost_usd": sum(r["spares_cost_usd"] for r in rows),
        "scale_up_domain": domain,
        "domain_outages_per_day": domain_rate * HOURS_PER_DAY,
        "mean_domains_out": domain_mean,
        "spare_domains": spare_domains,
        "hot_spare_accelerators": hot,
        "hot_spare_fraction": hot / accelerators,
        "idle_capacity_fraction": float(
            idle_capacity_fraction(
                [c.per_hour for c in causes],
                [c.blast_accelerators for c in causes],
                [c.repair_h for c in causes],
                accelerators,
            )
        )
        if causes
        else 0.0,
    }


__all__ = [
    "poisson_cdf",
    "poisson_quantile",
    "compound_poisson_cdf",
    "wait_probability",
    "hot_spares_needed",
    "idle_capacity_fraction",
    "spares_report",
]
