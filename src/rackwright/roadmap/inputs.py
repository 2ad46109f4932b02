"""Per-generation rack figures for the roadmap, from the rack evaluation and its bill of materials.

For each generation's design: IT power per rack (``power.input_kw``: the power the rack
draws from the facility, i.e. IT power as PUE counts it), accelerators, peak FLOP/s at
the goal's precision, rack cost (``cost.bom_usd``), its BOM US content (``own-value``
rule, :func:`rackwright.rack.bom.content_summary`) and, for every supply line, the quantity
one rack needs (BOM quantity by kind or part, a rack figure, or units per MW of IT).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..factory import load_line, station_loads, work_content
from ..rack.bom import bom_lines, content_summary
from ..rack.evaluation import sound_model
from .schema import LoadedRoadmap


def factory_line(loaded, path: str, index: int, kind: str):
    """The line of factory ``index`` from its file ``path`` (relative to the ``kind`` file ``loaded``: "roadmap" or
    "programme"); a line file that does not load is an error at ``factories[index].line``."""
    try:
        return load_line(loaded.folder / path).line
    except InputError as exc:
        raise loaded.error(
            f"line {path!r} cannot be used: {exc}",
            ("factories", index, "line"),
            f"give the path of a valid line file, relative to the {kind} file",
        ) from None


@dataclass(frozen=True)
class RackFigures:
    """Arrays over generations (SI) and the supply needs per rack (supply lines × generations)."""

    generations: tuple[str, ...]
    it_power_w: np.ndarray
    accelerators: np.ndarray
    peak_flops: np.ndarray  # FLOP/s at the goal's precision
    rack_usd: np.ndarray
    bom_us_share: np.ndarray
    supply_per_rack: np.ndarray  # (supply lines, generations)
    factory_rate: np.ndarray  # (generations, factories) racks/week, 0 where the factory cannot build it
    #: (supply lines, generations, sites): parts a rack of a generation deployed at a site needs there beyond its
    #: own BOM (the site's fabric optics, CDUs); None in a roadmap file, which plans no site.
    site_supply_per_rack: np.ndarray | None = None


def rack_figures(loaded: LoadedRoadmap) -> RackFigures:
    """The figures of every generation's rack (evaluated once, by :func:`~.schema.load_roadmap`); InputError for a
    supply line no design uses."""
    roadmap = loaded.roadmap
    reports = loaded.racks
    models = [sound_model(rack, "the roadmap") for rack in reports]
    boms = [bom_lines(model) for model in models]
    it_power = np.array([r.figures["power.input"] for r in reports])
    precision = f"compute.peak_flops:{roadmap.goal.precision}"
    needs = np.array(
        [
            [
                _per_rack(s, report, lines, it_power_w)
                for report, lines, it_power_w in zip(reports, boms, it_power, strict=True)
            ]
            for s in roadmap.supply
        ]
    )
    for i, supply in enumerate(roadmap.supply):
        if not needs[i].any():
            what = supply.kind or supply.part or supply.figure
            raise loaded.error(
                f"no generation's design uses {what!r}: a supply cap for it constrains nothing",
                ("supply", i, "kind" if supply.kind else "part" if supply.part else "figure"),
                "check the kind or part id against the designs' BOMs (rackwright bom DESIGN) or remove the supply line",
            )
    return RackFigures(
        generations=tuple(g.id for g in roadmap.generations),
        it_power_w=it_power,
        accelerators=np.array([r.figures["compute.accelerators"] for r in reports]),
        peak_flops=np.array([r.figures.get(precision, 0.0) for r in reports]),
        rack_usd=np.array([r.figures["cost.bom"] for r in reports]),
        bom_us_share=np.array([content_summary(lines, 1)["us_share"] for lines in boms]),
        supply_per_rack=needs.reshape(len(roadmap.supply), len(reports)),
        factory_rate=_factory_rates(loaded, models),
    )


def _factory_rates(loaded: LoadedRoadmap, models) -> np.ndarray:
    """Racks/week per generation and factory: the file's numbers, or the line's queueing bound."""
    roadmap = loaded.roadmap
    rates = np.zeros((len(roadmap.generations), len(roadmap.factories)))
    for j, factory in enumerate(roadmap.factories):
        line = None if factory.line is None else factory_line(loaded, factory.line, j, "roadmap")
        for i, generation in enumerate(roadmap.generations):
            rate = factory.capacity.get(generation.id, 0.0)
            rates[i, j] = line_rate(line, work_content(models[i]), factory.line_utilisation) if rate == "line" else rate
    return rates


def line_rate(line, work, utilisation: float) -> float:
    """Racks/week a line can take with no station busier than ``utilisation`` (the queueing bound).

    A station's utilisation grows linearly with the rate (:func:`rackwright.factory.station_loads`:
    ``ρ_i = λ · h_i / (c_i · H_i)`` with h_i busy hours per rack including rework, c_i servers, H_i open
    hours a week), so the bound is ``utilisation / max_i ρ_i(λ = 1)``. Queues grow without limit as ρ → 1:
    a utilisation below 1 (0.85 by default) leaves the headroom a line needs to ship its mean rate.
    """
    busiest = max(load["utilisation"] for load in station_loads(line, work, 1.0))
    return utilisation / busiest


def _per_rack(supply, report, lines, it_power_w: float) -> float:
    if supply.kind is not None:
        return float(sum(line.quantity for line in lines if line.kind == supply.kind))
    if supply.part is not None:
        return float(sum(line.quantity for line in lines if line.part == supply.part))
    if supply.figure is not None:
        return float(report.flat()[supply.figure])
    return supply.per_it_mw * it_power_w / 1e6
