"""Site power chain: equipment counts by rating and redundancy, and the losses of each stage.

Stages from the rack upwards (each an efficiency ``η``, input ``P_in = P_out / η``; brief formulas.md):

1. distribution to the racks (AC busway or 800 VDC row rectifiers): carries the IT load ``P_it``
   (the racks' input power);
2. UPS (optional): carries the distribution input;
3. MV/LV transformers: carry the UPS input plus the mechanical (cooling) load ``P_mech``, which is fed
   without UPS;
4. MV switchgear, then 5. substation transformers: the whole facility; the substation input is the
   facility power ``P_facility`` drawn from the utility.

Generators back the MV bus: they cover the transformer-stage input.

Counts: ``n = ceil(P / rating)`` units carry the load; redundancy adds spares: ``N`` → n, ``N+1`` → n+1,
``N+2`` → n+2, ``2N`` → 2n. Stages inside the halls (distribution, UPS, MV/LV transformers, switchgear,
generators) keep their redundancy per hall (a block of ``P/halls``), as data-centre power blocks do; the
substation is sized for the site. Transformer and switchgear ratings are in VA and carry ``rating · PF``
watts. Distribution gets at least one feed per compute row (two with 2N).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REDUNDANCY = {"N": (1, 0), "N+1": (1, 1), "N+2": (1, 2), "2N": (2, 0)}


def units_for_load(load: float, rating: float, redundancy: str) -> int:
    """Installed units so that ``load`` [W] is carried with ``redundancy`` (``rating`` [W] per unit)."""
    factor, spares = REDUNDANCY[redundancy]
    needed = int(np.ceil(load / rating - 1e-9)) if load > 0 else 0
    return factor * needed + spares


@dataclass(frozen=True)
class StageSpec:
    """One stage of the chain: its name, part, rating [W usable per unit], efficiency and redundancy."""

    name: str
    part: str
    rating: float
    efficiency: float
    redundancy: str
    fixed_count: int | None = None
    minimum: int = 0
    blocks: int = 1  # independent blocks (halls) that each keep the redundancy


@dataclass(frozen=True)
class StageResult:
    name: str
    part: str
    load: float  # peak power through the stage [W] (its output)
    units: int  # installed
    needed: int  # for the load at the stated redundancy
    loss: float  # peak loss [W]

    @property
    def short(self) -> bool:
        return self.units < self.needed


def stage_flows(it_power, mech_power, efficiencies: dict[str, float]) -> dict[str, np.ndarray]:
    """Output power of each stage [W] (arrays over hours allowed) and the facility input (``utility``)."""
    flows = {"distribution": np.asarray(it_power, dtype=float)}
    ups_in = flows["distribution"] / efficiencies["distribution"]
    if "ups" in efficiencies:
        flows["ups"] = ups_in
        ups_in = ups_in / efficiencies["ups"]
    flows["transformers"] = ups_in + mech_power
    flows["switchgear"] = flows["transformers"] / efficiencies["transformers"]
    flows["substation"] = flows["switchgear"] / efficiencies["switchgear"]
    flows["utility"] = flows["substation"] / efficiencies["substation"]
    return flows


def indoor_losses(it_power, efficiencies: dict[str, float]):
    """Losses of the distribution and UPS stages [W], which heat the building (electrical rooms, rows)."""
    ups_in = np.asarray(it_power, dtype=float) / efficiencies["distribution"]
    if "ups" in efficiencies:
        ups_in = ups_in / efficiencies["ups"]
    return ups_in - it_power


def size_stages(stages: list[StageSpec], peak_flows: dict[str, float]) -> list[StageResult]:
    """Installed and needed units and peak loss of each stage for its peak output."""
    results = []
    for stage in stages:
        load = peak_flows[stage.name]
        needed = max(stage.blocks * units_for_load(load / stage.blocks, stage.rating, stage.redundancy), stage.minimum)
        units = needed if stage.fixed_count is None else stage.fixed_count
        results.append(StageResult(stage.name, stage.part, load, units, needed, load / stage.efficiency - load))
    return results
