"""Domestic (US) content.

Rule used (documented in docs/models.md): a part counts as US-made when the
country where it is made — for an assembly, where its own final assembly takes
place (its own value excludes the contained parts, which count by their own
origin) — is the US. Share = Σ cost of US-made parts / Σ cost, per category and
in total (formulas.md, "Cost").
"""

from __future__ import annotations

import numpy as np


def domestic_share(us_cost, total_cost):
    """Share of cost made in the US; NaN where the cost is zero."""
    return np.divide(us_cost, total_cost, out=np.full(np.broadcast(us_cost, total_cost).shape, np.nan),
                     where=np.asarray(total_cost) > 0)
