"""Rack cost figures. The bill of materials is summed by the chain (Σ count · unit price)."""

from __future__ import annotations

import numpy as np


def cost_per_unit(total_cost, units):
    """Cost per accelerator (or any unit count); NaN where there are none."""
    units = np.asarray(units, dtype=float)
    return np.divide(total_cost, units, out=np.full(np.broadcast(total_cost, units).shape, np.nan), where=units > 0)
