"""Domestic (US) content.

Rule used (documented in docs/models.md): a part counts as US-made when the
country where it is made — for an assembly, where its own final assembly takes
place (its own value excludes the contained parts, which count by their own
origin) — is the US. Share = Σ cost of US-made parts / Σ cost, per category and
in total (formulas.md, "Cost").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import Array


def domestic_share(us_cost, total_cost):
    """Share of cost made in the US; NaN where the cost is zero."""
    return np.divide(
        us_cost,
        total_cost,
        out=np.full(np.broadcast(us_cost, total_cost).shape, np.nan),
        where=np.asarray(total_cost) > 0,
    )


@dataclass(frozen=True)
class SourcingInputs:
    us_cost: Array  # cost of the US-made parts [USD]
    cost: Array  # [USD]
    lead_time: Array  # the longest of the parts' lead times [weeks]
    by_category: dict[str, tuple[Array, Array]]  # (US cost, cost) per category present


@dataclass(frozen=True)
class SourcingResult:
    domestic_share: Array  # US-made share of the cost
    longest_lead_time: Array  # [weeks]
    by_category: dict[str, Array]  # US-made share of each category's cost


def sourcing_step(x: SourcingInputs) -> SourcingResult:
    """US content in total and by category, and the longest lead time."""
    return SourcingResult(
        domestic_share=domestic_share(x.us_cost, x.cost),
        longest_lead_time=x.lead_time,
        by_category={c: domestic_share(us, total) for c, (us, total) in x.by_category.items()},
    )
