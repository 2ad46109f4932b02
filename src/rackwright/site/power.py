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

Feeds from the distribution panels to the racks (:func:`hall_feeds`, summary.json ``power_chain.distribution.halls``
and the NetBox export's power feeds): a rack takes an A and a B feed when either side alone can carry it (an N+N
rack design, a network rack whose switches' PSUs are split k+k), else one; each feed is rated for the rack's whole
input power, as under 2N the other side may fail (:func:`feed_amperage`, NEC 240.6(A) ratings at 80 %).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

REDUNDANCY = {"N": (1, 0), "N+1": (1, 1), "N+2": (1, 2), "2N": (2, 0)}

#: A power feed's maximum utilisation [%]: a continuous load may take 80 % of its circuit's rating (NEC 210.19(A),
#: 215.2(A): conductors at 125 % of the continuous load), NetBox's default too.
FEED_UTILISATION = 80
#: Standard ampere ratings of fuses and circuit breakers, NEC 240.6(A); a feed's rating is the next one up.
BREAKER_AMPS = (
    15,
    20,
    25,
    30,
    35,
    40,
    45,
    50,
    60,
    70,
    80,
    90,
    100,
    110,
    125,
    150,
    175,
    200,
    225,
    250,
    300,
    350,
    400,
    450,
    500,
    600,
    700,
    800,
    1000,
    1200,
    1600,
    2000,
    2500,
    3000,
    4000,
    5000,
    6000,
)


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


def feed_amperage(power: float, voltage: float, three_phase: bool, utilisation: float = FEED_UTILISATION) -> int:
    """The rating [A] of a feed that carries ``power`` [W] at ``utilisation`` [%] of what NetBox counts it able to
    supply: NetBox's ``PowerFeed.available_power`` = V · A · u (· √3 three-phase), so A = P / (V · u (· √3)),
    rounded up to the next standard rating of :data:`BREAKER_AMPS` (whole amperes above them)."""
    amps = power / (voltage * utilisation / 100 * (math.sqrt(3) if three_phase else 1.0))
    return next((a for a in BREAKER_AMPS if a >= amps - 1e-9), math.ceil(amps - 1e-9))


def design_feeds(redundancy: str) -> int:
    """Feeds of a compute rack: 2 (A and B) for a design whose power is N+N (either half of its shelves carries the
    rack), else 1."""
    return 2 if redundancy == "N+N" else 1


def psu_feeds(redundancy: str | None) -> int:
    """Feeds of a device by its PSU redundancy: 2 when it is ``k+k`` (either half of the PSUs carries the device,
    so each half can hang on its own side), else 1 (``N+1``, or none given)."""
    counts = (redundancy or "").split("+")
    return 2 if len(counts) == 2 and counts[0].isdigit() and counts[0] == counts[1] else 1


def panels_per_hall(units: int, halls: int) -> int:
    """Distribution panels (busways, row rectifiers) of each hall: the stage's units shared over the halls (the
    planner sizes them per hall), at least one."""
    return max(1, math.ceil(units / max(1, halls)))


def side_panels(names: list, two: bool) -> tuple[list, ...]:
    """The panels of the A side and, when racks take a B feed (``two``), of the B side: the first half of a hall's
    panels (A has the odd one) and the rest; a hall of one panel has both sides on it."""
    if not two:
        return (names,)
    half = math.ceil(len(names) / 2)
    return names[:half], names[half:] or names


@dataclass(frozen=True)
class FeedSupply:
    """What a distribution panel supplies: feed voltage [V], DC (800 VDC row rectifiers) or three-phase AC
    (busway), and a panel's rating [W]."""

    voltage: float
    dc: bool
    rating: float

    @classmethod
    def of(cls, part) -> FeedSupply:
        """Of the distribution stage's catalog part: a rectifier's output voltage, a busway's input voltage."""
        voltage = part.value("output_voltage") or part.value("input_voltage")
        return cls(voltage, part.kind == "rectifier", part.value("capacity"))

    def amperage(self, power: float) -> int:
        return feed_amperage(power, self.voltage, not self.dc)


def hall_feeds(loads: Sequence[tuple[float, int]], panels: int, supply: FeedSupply, redundancy: str) -> dict:
    """The feeds of one hall's racks, ``loads`` = (input power [W], feeds) of each, from its ``panels``.

    Topology as the racks see it: ``2N`` when every rack takes A and B feeds, ``mixed`` when some do, else ``N``
    (one feed each: losing its panel drops the rack, whatever spare panels the distribution stage's ``redundancy``,
    given beside it, adds). Per side (A, and B when any rack takes two): its panels
    (:func:`side_panels`) and their capacity, its feeds by rating (:meth:`FeedSupply.amperage` of each rack's whole
    power), the load it carries alone when the other side fails (all racks it feeds: under 2N each side the whole
    load), the load it carries in normal operation (a two-fed rack's half), and whether its panels carry that
    alone."""
    dual = sum(1 for _, feeds in loads if feeds > 1)
    sides = side_panels(list(range(panels)), dual > 0)
    out: dict = {
        "topology": ("2N" if dual == len(loads) else "mixed") if dual else "N",
        "panel_redundancy": redundancy,
        "racks": len(loads),
        "single_fed_racks": len(loads) - dual,
        "supply": "dc" if supply.dc else "ac three-phase",
        "voltage_v": round(supply.voltage),
        "sides": [],
    }
    for side, on in enumerate(sides):
        fed = [power for power, feeds in loads if feeds > side]
        alone = math.fsum(fed)
        normal = math.fsum(power / feeds for power, feeds in loads if feeds > side)
        capacity = len(on) * supply.rating
        ratings = Counter(supply.amperage(power) for power in fed)
        out["sides"].append(
            {
                "side": "AB"[side],
                "panels": len(on),
                "capacity_mw": round(capacity / 1e6, 3),
                "feeds": len(fed),
                "ratings": [{"amperes": a, "feeds": n} for a, n in sorted(ratings.items())],
                "load_alone_mw": round(alone / 1e6, 3),
                "normal_load_mw": round(normal / 1e6, 3),
                "carries_alone": bool(capacity >= alone),
            }
        )
    return out
