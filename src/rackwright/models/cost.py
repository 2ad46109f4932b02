"""Rack cost figures. The bill of materials is summed by the chain (Σ count · unit price)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import Array


def cost_per_unit(total_cost, units):
    """Cost per accelerator (or any unit count); NaN where there are none."""
    units = np.asarray(units, dtype=float)
    return np.divide(total_cost, units, out=np.full(np.broadcast(total_cost, units).shape, np.nan), where=units > 0)


@dataclass(frozen=True)
class CostInputs:
    bom: Array  # Σ count · unit price (shares of row equipment included) [USD]
    accelerators: Array


@dataclass(frozen=True)
class CostResult:
    bom: Array  # Σ count · unit price (shares of row equipment included) [USD]
    per_accelerator: Array  # [USD], NaN without accelerators


def cost_step(x: CostInputs) -> CostResult:
    """Bill of materials and its cost per accelerator."""
    return CostResult(bom=x.bom, per_accelerator=cost_per_unit(x.bom, x.accelerators))
