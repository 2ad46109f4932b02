"""Per-generation rack figures for the roadmap, from the rack evaluation and its bill of materials.

For each generation's design: IT power per rack (``power.input_kw``: the power the rack
draws from the facility, i.e. IT power as PUE counts it), accelerators, peak FLOP/s at
the goal's precision, the FLOP/s it delivers on the reference MoE training workload
(``rackwright evaluate``'s delivery figure :data:`DELIVERED_FIGURE`), rack cost
(``cost.bom_usd``), its BOM US content (``own-value`` rule,
:func:`rackwright.rack.bom.content_summary`) and, for every supply line, the quantity
one rack needs (BOM quantity by kind or part, a rack figure, or units per MW of IT).

Per site (:class:`SiteFigures`): the facility power a W of rack IT draws at the design peak (a step's
facility power over it bounds the racks' IT power there), the annual PUE and the build cost per MW of
IT; the roadmap file's ``pue`` (for both ratios) and ``build_cost_usd_per_mw``, unless the programme
sets them from a site plan (:func:`rackwright.programme.sites.site_figures`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..factory import load_line, station_loads, work_content
from ..rack.bom import bom_lines, content_summary
from ..rack.evaluation import Rack, sound_model
from .schema import LoadedRoadmap, Roadmap

#: The flat figure of ``rackwright evaluate --json`` a rack's delivered training compute is read from: model
#: FLOP/s per rack (MFU × the recipe's peak) of the shared MoE reference workload
#: (:data:`rackwright.perf.reference.REFERENCE_TRAINING_MOE`, DeepSeek-V3), in PFLOP/s.
DELIVERED_FIGURE = "delivery.training_delivered_pflops_per_rack_deepseek_v3"
#: What :data:`DELIVERED_FIGURE` is delivered on, in words.
DELIVERED_ON = "the reference MoE workload (DeepSeek-V3 training, rackwright evaluate's delivery figures)"


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
class SiteFigures:
    """Arrays over sites: how a step's facility power bounds the racks' IT power, the energy ratio and the build
    cost."""

    #: Facility power per W of the racks' IT power at the design peak: the IT power a step carries is its
    #: facility power / this.
    facility_per_it: np.ndarray
    pue: np.ndarray  # annual facility energy / IT energy
    build_usd_per_mw: np.ndarray  # site build cost per MW of the racks' IT power


def typed_site_figures(roadmap: Roadmap) -> SiteFigures:
    """The file's figures for every site: ``pue`` as both ratios (a step carries ``facility / pue`` of IT)
    and ``build_cost_usd_per_mw``."""
    pue = np.array([s.pue for s in roadmap.sites], float)
    return SiteFigures(
        facility_per_it=pue,
        pue=pue.copy(),
        build_usd_per_mw=np.array([s.build_cost_usd_per_mw for s in roadmap.sites], float),
    )


@dataclass(frozen=True)
class RackFigures:
    """Arrays over generations (SI) and the supply needs per rack (supply lines × generations)."""

    generations: tuple[str, ...]
    it_power_w: np.ndarray
    accelerators: np.ndarray
    peak_flops: np.ndarray  # FLOP/s at the goal's precision
    delivered_flops: np.ndarray  # FLOP/s delivered on the reference MoE training workload (:func:`delivered_flops`)
    rack_usd: np.ndarray
    bom_us_share: np.ndarray
    supply_per_rack: np.ndarray  # (supply lines, generations)
    factory_rate: np.ndarray  # (generations, factories) racks/week, 0 where the factory cannot build it
    #: (supply lines, generations, sites): parts a rack of a generation deployed at a site needs there beyond its
    #: own BOM (the site's fabric optics, CDUs); None in a roadmap file, which plans no site.
    site_supply_per_rack: np.ndarray | None = None
    #: The sites' power ratios and build cost (:class:`SiteFigures`); None: the file's (:func:`site_terms`).
    sites: SiteFigures | None = None
    #: What ``delivered_flops`` is delivered on, in words (a programme counts its own reference job).
    delivered_on: str = DELIVERED_ON


def site_terms(figures: RackFigures, roadmap: Roadmap) -> SiteFigures:
    """The sites' figures the roadmap solves with: ``figures.sites``, or the file's when it has none."""
    return figures.sites if figures.sites is not None else typed_site_figures(roadmap)


def rack_figures(loaded: LoadedRoadmap, delivered: np.ndarray | None = None) -> RackFigures:
    """The figures of every generation's rack (evaluated once, by :func:`~.schema.load_roadmap`); InputError for a
    supply line no design uses. ``delivered``: FLOP/s per rack on another job than evaluate's MoE reference (a
    programme's own), which is then not computed."""
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
        delivered_flops=np.array([delivered_flops(r) for r in reports]) if delivered is None else delivered,
        rack_usd=np.array([r.figures["cost.bom"] for r in reports]),
        bom_us_share=np.array([content_summary(lines, 1)["us_share"] for lines in boms]),
        supply_per_rack=needs.reshape(len(roadmap.supply), len(reports)),
        factory_rate=_factory_rates(loaded, models),
    )


def delivered_flops(rack: Rack) -> float:
    """FLOP/s one rack delivers on the reference MoE training workload: its evaluate report's flat figure
    :data:`DELIVERED_FIGURE` (:func:`rackwright.perf.api.with_delivery`, kept with the rack), × 10¹⁵. A rack the
    job does not fit on, or whose accelerator the perf model cannot run, has no such figure: it delivers 0."""
    from ..perf.api import with_delivery

    pflops = with_delivery(rack).flat().get(DELIVERED_FIGURE, math.nan)
    return 0.0 if math.isnan(pflops) else pflops * 1e15


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
