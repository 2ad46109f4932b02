"""Rack reliability for a series system of parts with constant failure rates.

``λ_rack = Σ n_i · λ_i``; annualised failure rate ``AFR = 1 − exp(−8766 h · λ)``;
expected failures per year ``8766 h · λ`` (formulas.md, "Reliability"; e.g.
M. Rausand and A. Høyland, System Reliability Theory, 2nd ed., Wiley 2004, ch. 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import Array

HOURS_PER_YEAR = 8766.0


def rate_from_afr(afr):
    """Constant failure rate λ [1/h] whose one-year failure probability is ``afr``."""
    return -np.log1p(-np.asarray(afr, dtype=float)) / HOURS_PER_YEAR


def failure_rate(afr=None, mtbf_h=None) -> float:
    """A part's constant failure rate λ [1/h] from its MTBF (``1/MTBF``) or else its AFR."""
    return 1.0 / mtbf_h if mtbf_h else float(rate_from_afr(afr))


def afr_from_rate(rate_per_hour):
    """Annualised failure probability of a system with failure rate λ [1/h]."""
    return -np.expm1(-HOURS_PER_YEAR * rate_per_hour)


def failures_per_year(rate_per_hour):
    """Expected failures (of any part, repaired and counted again) per year."""
    return HOURS_PER_YEAR * rate_per_hour


@dataclass(frozen=True)
class ReliabilityInputs:
    failure_rate: Array  # Σ n_i · λ_i [1/h]


@dataclass(frozen=True)
class ReliabilityResult:
    afr_rack: Array  # probability that some part of the rack fails in a year
    failures_per_year: Array


def reliability_step(x: ReliabilityInputs) -> ReliabilityResult:
    """The rack as a series system of its parts: ``λ = Σ n_i · λ_i``."""
    return ReliabilityResult(
        afr_rack=afr_from_rate(x.failure_rate), failures_per_year=failures_per_year(x.failure_rate)
    )
