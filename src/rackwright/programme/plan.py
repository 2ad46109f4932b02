"""Plan a programme: every capability composed through its Python API, by quarter.

1. **Factories** — each line's weekly capacity for each generation it builds: the queueing
   bound of the line for the design's work content (:func:`rackwright.roadmap.inputs.line_rate`
   on :func:`rackwright.factory.work_content`, no station busier than ``line_utilisation``),
   times the share of the line this programme gets.
2. **Roadmap** — the roadmap solve (:func:`rackwright.roadmap.plan`) on those capacities: racks
   built, deployed per site and quarter, binding constraints, capex and US content. Its
   ``delivered-training-compute`` objective counts each rack's compute delivered to the programme's own reference
   job (step 3, goodput included: :func:`delivered_figures`); ``training-compute`` counts peak, as the roadmap's.
   Its supply rows also count the fabric optics and CDUs a rack brings with it at a site that names a site
   file (:func:`.sites.site_need`: one reference site plan per site file and generation, a linear
   approximation), so the solve keeps the site
   plans of step 6 under the optics and CDU caps instead of only reporting a shortage. At such a
   site the same reference plans set the site's figures (:func:`.sites.site_figures`): a step
   carries its facility power / the plan's design-peak facility power per W of rack IT (not the
   programme file's ``pue``, an annual figure), so that the step's site plan fits the step at its
   design peak; the plan's build capex per MW prices its racks in a ``cost`` objective.
3. **Delivered training compute** — per generation, the reference workload's best
   configuration on ``workload.accelerators`` accelerators of the rack
   (:func:`rackwright.perf.search.search` on :func:`rackwright.perf.system.system_from_rack`)
   gives tokens/s and model FLOP/s per accelerator; the fleet model gives the goodput of that
   job (:func:`rackwright.fleet.job_report`: interruptions, Daly checkpoints, restarts, spares).
   Delivered = Σ_g Σ_s accelerators deployed_g,s × rate_g(n_s) × goodput_g(n_s), n_s the job size site s allows:
   the workload's, halved until it fits in what the site holds of the generation that quarter
   (:func:`site_job_size`), with its own best configuration and goodput at that size (:func:`site_jobs`,
   :func:`site_rates`); the roadmap's ``delivered-training-compute`` objective weighs each rack by the reference
   job's (a linear objective).
4. **Reliability, sourcing, cost** — failures per year of the deployed fleet (the per-part
   failure rates of :func:`rackwright.fleet.spares_report`), spares per site by quarter for the fleet's repair
   window and availability (:func:`site_spares`, :func:`spares_series`), US content (the roadmap's BOM and
   factory shares), capex, and the yearly energy bill at quarter end:
   Σ_s IT power_s × PUE_s,q × 8,766 h × price_s. Capex is the roadmap's racks' BOM cost as they are built plus
   each site's build: at a site that names a site file, its site plans' capex beyond the racks, each step's
   spent as its racks arrive, pro rata to the share of the step's racks at the site each quarter, less what was
   spent before (:func:`.sites.site_capex`); elsewhere the
   programme file's build cost per MW of IT × the MW deployed (:func:`site_build_change`). PUE_s,q is the annual
   PUE of the site plan of the step in force in quarter q at a planned site (:func:`.sites.site_pue`; its
   reference plan's in quarters no step covers), the programme file's elsewhere; ``inputs.sites`` names each
   site's ``capex_basis`` and ``pue_basis``.
5. **Sourcing** — each generation's earliest build date from its parts' lead times and its
   order date, against its first ship (:func:`first_ship_check`).
6. **Site plans** — each site that names a site file, planned at each power step it uses for the racks
   deployed there by the step's last quarter (:mod:`.sites`): fabric, cables, power chain, cooling plant, PUE;
   switches, optics, CDUs, MV/LV transformers and cooling plant by quarter as the racks arrive, the optics, CDUs
   and transformers checked against the supply caps by quarter, and tariffs on the parts as on the racks.

The reference jobs (one per generation) and the site plans are independent tasks: they run on a local process
pool or on Ray (:func:`rackwright.parallel.run_tasks`, ``backend`` and ``workers``) with the same results, and a
:class:`PlanCache` keeps them by content across the plans of a sweep.

Each generation's design is evaluated once, when the programme file is loaded (the
roadmap's file edge, :func:`rackwright.roadmap.schema.validate_roadmap`), and the
evaluated rack is handed to the line, roadmap, performance and fleet models.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..factory import work_content
from ..fleet import job_report, spares_report
from ..models.reliability import HOURS_PER_YEAR
from ..parallel import run_tasks
from ..perf.api import reference_recipe
from ..perf.reference import REFERENCE_TRAINING_MOE
from ..perf.search import SearchResult, search
from ..perf.system import system_from_rack
from ..perf.workload import ModelSpec, load_model
from ..rack.bom import BomLine, bom_lines
from ..rack.evaluation import Rack
from ..rack.sourcing import apply_scenario, build_dates, load_scenario
from ..rack.sourcing import tariff_bill as bill
from ..roadmap import plan as roadmap_plan
from ..roadmap import plan_document
from ..roadmap.inputs import RackFigures, factory_line, line_rate, rack_figures, site_terms, typed_site_figures
from ..roadmap.plan import PlanResult
from ..roadmap.schema import LoadedRoadmap, quarter_end
from ..roadmap.timeline import build_timeline
from .schema import LoadedProgramme
from .sites import (
    SiteCache,
    SiteStep,
    binding_site_power,
    binding_site_supply,
    equipment_series,
    final_steps,
    reference_plans,
    site_capex,
    site_figures,
    site_need,
    site_need_correction,
    site_pue,
    site_record,
    site_steps,
    site_stock,
    site_supply_check,
)


def factory_capacity(loaded: LoadedProgramme, racks: list[Rack]) -> np.ndarray:
    """Racks/week per generation (rows) and factory (columns): share × the line's queueing bound; 0 where the
    factory does not build the generation."""
    p = loaded.programme
    ids = [g.id for g in p.generations]
    rates = np.zeros((len(ids), len(p.factories)))
    models = [rack.model for rack in racks]
    for j, factory in enumerate(p.factories):
        line = factory_line(loaded, factory.line, j, "programme")
        for generation in factory.builds:
            i = ids.index(generation)
            model = models[i]
            assert model is not None  # the loader keeps sound racks only, each with its resolved design
            rates[i, j] = factory.share * line_rate(line, work_content(model), factory.line_utilisation)
    return rates


def roadmap_with_capacity(loaded: LoadedProgramme, rates: np.ndarray) -> LoadedRoadmap:
    """The programme's roadmap with each factory building at the rates from its line (racks/week)."""
    roadmap = loaded.roadmap
    ids = [g.id for g in roadmap.roadmap.generations]
    factories = [
        f.model_copy(update={"capacity": {g: float(rates[i, j]) for i, g in enumerate(ids) if rates[i, j] > 0}})
        for j, f in enumerate(roadmap.roadmap.factories)
    ]
    return roadmap.model_copy(update={"roadmap": roadmap.roadmap.model_copy(update={"factories": factories})})


@dataclass(frozen=True)
class Training:
    """The reference job on one generation: its best configuration, rates per accelerator and goodput."""

    tokens_per_s_per_accelerator: float
    model_flops_per_s_per_accelerator: float
    mfu: float
    parallelism: dict
    goodput: float
    interruptions_per_day: float
    checkpoint_interval_min: float


def reference_model(loaded: LoadedProgramme) -> ModelSpec:
    """The workload's model, as ``rackwright perf`` knows it: a mixture of experts."""
    name = loaded.programme.workload.model
    try:
        model = load_model(name)
    except InputError as exc:
        raise loaded.error(f"the reference model cannot be used: {exc}", ("workload", "model")) from None
    if not model.experts:
        raise loaded.error(
            f"{name} is a dense model; the reference training workload is a mixture of experts",
            ("workload", "model"),
            "e.g. deepseek-v3 or mixtral-8x22b",
        )
    return model


def job_at(loaded: LoadedProgramme, model: ModelSpec, rack: Rack, size: int) -> Training | None:
    """The fastest configuration of the workload's ``model`` on ``size`` accelerators of the rack (``perf search``'s:
    :func:`rackwright.perf.search.search` on ``⌈size / accelerators per rack⌉`` racks, the workload's global batch,
    sequence and precision: ``reference`` is the shared MoE reference's recipe on the rack,
    :func:`rackwright.perf.api.reference_recipe`) and the goodput the fleet model gives that job
    (:func:`rackwright.fleet.job_report` at ``size``); None when no configuration fits in memory, :class:`InputError`
    when none is valid."""
    w = loaded.programme.workload
    per_rack = rack.figures["compute.accelerators"]
    system = system_from_rack(rack, int(np.ceil(size / per_rack)))
    precision = reference_recipe(system, REFERENCE_TRAINING_MOE) if w.precision == "reference" else w.precision
    found = search(model, system, size, w.global_batch, w.seq_len, precision)
    job = job_report(rack, size, model=w.model, storage_bandwidth=w.storage_bandwidth)
    best = fastest(found)
    if best is None:
        return None
    metric = lambda key: float(np.asarray(found.metrics[key]).ravel()[best])  # noqa: E731
    return Training(
        tokens_per_s_per_accelerator=metric("tokens_per_s") / size,
        model_flops_per_s_per_accelerator=metric("model_flops_per_s_per_accelerator"),
        mfu=metric("mfu"),
        parallelism=found.parallelism(best),
        goodput=float(job["goodput"]),
        interruptions_per_day=float(job["interruptions_per_day"]),
        checkpoint_interval_min=float(job["checkpoint_interval_min"]),
    )


def fastest(found: SearchResult) -> int | None:
    """The fastest configuration that fits, ``found.order()[0]``, without sorting the millions a search finds (a
    sort was 0.35-0.8 s of each of the programme's searches, 2026-12-07): the smallest step time among the fitting
    ones, the first of equal times, NaN only where every time is NaN (a stable sort puts NaN last); None when none
    fits."""
    fits = np.flatnonzero(found.metrics["fits"])
    if fits.size == 0:
        return None
    times = np.asarray(found.metrics["step_time_s"])[fits]
    number = np.flatnonzero(~np.isnan(times))
    return int(fits[number[np.argmin(times[number])]] if number.size else fits[0])


def training(loaded: LoadedProgramme, model: ModelSpec, rack: Rack, index: int) -> Training:
    """The reference job: :func:`job_at` on ``workload.accelerators`` of the rack; a bad-input error naming the
    generation's design, or the job size, when it cannot run."""
    w = loaded.programme.workload
    try:
        run = job_at(loaded, model, rack, w.accelerators)
    except InputError as exc:
        raise loaded.error(
            f"the reference workload cannot run on this generation: {exc}", ("generations", index, "design")
        ) from None
    if run is None:
        raise loaded.error(
            f"no configuration of {w.model} on {w.accelerators:,} accelerators of {rack.name} fits in memory",
            ("workload", "accelerators"),
            "give a larger job or a smaller global batch",
        )
    return run


def training_task(task: tuple[LoadedProgramme, ModelSpec, Rack, int]) -> Training:
    """:func:`training` as one task of :func:`rackwright.parallel.run_tasks`."""
    return training(*task)


def site_job_size(job: int, held: int) -> int:
    """The size of the reference job a site runs on ``held`` accelerators of a generation: the job itself where the
    site holds it, else the job halved as often as needed to fit (its data-parallel degree halved: the global batch
    and the model's parallelism stay valid, as they do not for most other sizes), 0 when no halving (a whole number
    of accelerators) fits."""
    size = job
    while size > held and size % 2 == 0:
        size //= 2
    return size if size <= held else 0


def site_job_task(task: tuple[LoadedProgramme, ModelSpec, Rack, int]) -> Training | str:
    """:func:`job_at` as one task of :func:`rackwright.parallel.run_tasks`: the job, or why it cannot run."""
    loaded, model, rack, size = task
    try:
        run = job_at(loaded, model, rack, size)
    except InputError as exc:
        return str(exc)
    return run if run is not None else f"no configuration on {size:,} accelerators of {rack.name} fits in memory"


def site_job_sizes(loaded: LoadedProgramme, deployed: np.ndarray) -> np.ndarray:
    """The reference job's size at each generation, site and quarter, ``(G, S, Q)`` accelerators
    (:func:`site_job_size` of what the site holds of the generation; 0 where it holds none)."""
    per_rack = np.array([rack.figures["compute.accelerators"] for rack in loaded.racks])
    held = np.round(deployed).astype(np.int64) * per_rack.astype(np.int64)[:, None, None]
    job = loaded.programme.workload.accelerators
    return np.vectorize(lambda n: site_job_size(job, int(n)), otypes=[np.int64])(held)


def site_jobs(
    loaded: LoadedProgramme,
    deployed: np.ndarray,
    runs: list[Training],
    cache: PlanCache | None = None,
    backend: str = "local",
    workers: int | None = None,
) -> dict[tuple[int, int], Training | str]:
    """The reference job at each (generation, size) the sites run (:func:`site_job_sizes`): the reference job's
    run where the size is the workload's, else :func:`job_at` at that size (tasks on ``backend``, kept in ``cache``
    by content), or why it cannot run there."""
    cache = cache if cache is not None else PlanCache()
    sizes = site_job_sizes(loaded, deployed)
    job = loaded.programme.workload.accelerators
    used = np.nonzero(sizes)
    pairs = sorted(set(zip(used[0].tolist(), sizes[used].tolist(), strict=True)))
    keys = {pair: (*_training_key(loaded, pair[0]), pair[1]) for pair in pairs if pair[1] != job}
    model = reference_model(loaded) if keys else None
    new = {key: (loaded, model, loaded.racks[g], n) for (g, n), key in keys.items() if key not in cache.trainings}
    cache.trainings.update(zip(new, run_tasks(site_job_task, list(new.values()), backend, workers), strict=True))
    return {(g, n): runs[g] if n == job else cache.trainings[keys[(g, n)]] for g, n in pairs}


def failures_per_rack_year(loaded: LoadedProgramme, rack: Rack) -> float:
    """Part failures per rack and year (the fleet model's per-part rates; the repair window does not change it)."""
    fleet = loaded.programme.fleet
    doc = spares_report(rack, 1, fleet.repair_days, fleet.availability)
    return float(sum(row["failures_per_year"] for row in doc["parts"]))


def site_spares(
    loaded: LoadedProgramme,
    deployed: np.ndarray,
    cache: dict | None = None,
    backend: str = "local",
    workers: int | None = None,
) -> dict[tuple[int, int], dict]:
    """Spares for each generation and rack count a site holds in some quarter, ``(generation index, racks)`` → the
    fleet's repair window and availability's spares (:func:`rackwright.fleet.spares_report`: a cold-spare pool per
    part, spare scale-up domains, hot spares). The report depends on the design and the count only, so a site whose
    fleet of a generation does not change between quarters (or two sites holding as many racks) share one report,
    each new one a task on ``backend``; ``cache`` keeps them by design file, fleet and count across a sweep's plans."""
    fleet = loaded.programme.fleet
    counts = np.round(deployed).astype(int)
    pairs = sorted({(int(g), int(counts[g, s, q])) for g, s, q in zip(*np.nonzero(counts), strict=True)})
    cache = cache if cache is not None else {}
    keys = {(g, racks): (_design_key(loaded, g), fleet.model_dump_json(), racks) for g, racks in pairs}
    new = {
        key: (loaded.racks[g], racks, fleet.repair_days, fleet.availability)
        for (g, racks), key in keys.items()
        if key not in cache
    }
    docs = run_tasks(spares_task, list(new.values()), backend, workers)
    cache.update({key: _spares_summary(doc) for key, doc in zip(new, docs, strict=True)})
    return {pair: cache[key] for pair, key in keys.items()}


def _spares_summary(doc: dict) -> dict:
    """What the programme keeps of a spares report."""
    return {
        "spare_parts": int(sum(row["spares"] for row in doc["parts"])),
        "spares_cost_usd": round(float(doc["total_spares_cost_usd"])),
        "spare_domains": int(doc["spare_domains"]),
        "hot_spare_accelerators": int(doc["hot_spare_accelerators"]),
    }


def goal_spares(plan: ProgrammePlan) -> list[dict]:
    """Spares per site and generation for the racks deployed there by the goal date, from :func:`site_spares`."""
    p = plan.loaded.programme
    counts = np.round(plan.deployed[:, :, -1]).astype(int)
    return [
        {"site": site.id, "generation": generation.id, "racks": int(n), **plan.spares[(g, int(n))]}
        for s, site in enumerate(p.sites)
        for g, generation in enumerate(p.generations)
        if (n := counts[g, s])
    ]


def spares_series(plan: ProgrammePlan) -> tuple[np.ndarray, np.ndarray]:
    """Spare parts and their cost (USD) per site and quarter, ``(S, Q)`` each: Σ over the generations the site holds
    of :func:`site_spares` for the racks deployed there by the quarter's end."""
    counts = np.round(plan.deployed).astype(int)
    parts, cost = (np.zeros(counts.shape[1:]) for _ in range(2))
    for g, s, q in zip(*np.nonzero(counts), strict=True):
        row = plan.spares[(int(g), int(counts[g, s, q]))]
        parts[s, q] += row["spare_parts"]
        cost[s, q] += row["spares_cost_usd"]
    return parts, cost


def spares_task(task: tuple) -> dict:
    """:func:`rackwright.fleet.spares_report` as one task of :func:`rackwright.parallel.run_tasks`."""
    return spares_report(*task)


def first_ship_check(loaded: LoadedProgramme) -> list[dict]:
    """For each generation with an order date: the earliest date its first rack can be built from its parts' lead
    times (:func:`rackwright.rack.sourcing.build_dates`, as ``rackwright sourcing build-date``) against its first
    ship."""
    sourcing = loaded.programme.sourcing
    rows: list[dict] = []
    if sourcing is None:
        return rows
    for generation, rack in zip(loaded.programme.generations, loaded.racks, strict=True):
        ordered = sourcing.ordered.get(generation.id)
        if ordered is None:
            continue
        assert rack.model is not None  # the loader keeps sound racks only, each with its resolved design
        try:
            doc = build_dates(rack.model, ordered, 1, sourcing.integration_days)
        except InputError as exc:
            raise loaded.error(str(exc), ("sourcing", "ordered", generation.id), "give an earlier order date") from None
        earliest = dt.date.fromisoformat(doc["first_rack_date"])
        rows.append(
            {
                "generation": generation.id,
                "ordered": str(ordered),
                "earliest_first_rack": doc["first_rack_date"],
                "first_ship": str(generation.first_ship),
                "supported": earliest <= generation.first_ship,
                "slack_days": (generation.first_ship - earliest).days,
                "critical_parts": [part["part"] for part in doc["critical_parts"][:3]],
            }
        )
    return rows


def tariff_bill(plan: ProgrammePlan) -> tuple[np.ndarray, np.ndarray] | None:
    """Tariffs paid each quarter (USD, ``(Q,)``) on the racks built and on the site equipment installed, or None
    without a sourcing scenario: each generation's BOM, and each site part (:func:`.sites.site_parts`: switches,
    optics, CDUs) as a BOM line, with the scenario's changes (:func:`rackwright.rack.sourcing.apply_scenario`), the
    tariffs in force on the quarter's last day (:func:`rackwright.rack.sourcing.tariff_bill`) × the racks built, or
    the site parts added (:func:`.sites.site_stock`), that quarter."""
    sourcing = plan.loaded.programme.sourcing
    if sourcing is None or sourcing.scenario is None:
        return None
    try:
        scenario = load_scenario(plan.loaded.folder / sourcing.scenario)
    except InputError as exc:
        raise plan.loaded.error(
            f"sourcing scenario cannot be used: {exc}", ("sourcing", "scenario"), "give a sourcing scenario file"
        ) from None
    st, x = plan.result.structure, np.round(plan.result.schedule.x)
    built = np.zeros((len(plan.racks), len(st.timeline.quarters)))
    keep = st.col_f >= 0
    np.add.at(built, (st.col_g[keep], st.col_q[keep]), x[keep])
    ends = [quarter_end(q) for q in st.timeline.quarters]
    models = [rack.model for rack in plan.racks]
    assert all(models)  # the loader keeps sound racks only, each with its resolved design
    per_rack = np.array(
        [
            [bill(apply_scenario(bom_lines(model, 1), scenario), scenario.tariffs, end) for end in ends]
            for model in models
            if model is not None
        ]
    )  # (G, Q) USD per rack
    return (built * per_rack).sum(axis=0), _site_tariffs(plan, scenario, ends)


def _site_tariffs(plan: ProgrammePlan, scenario, ends: list[dt.date]) -> np.ndarray:
    """Tariffs on the site equipment added each quarter (USD, ``(Q,)``)."""
    from ..catalog import load_catalog

    catalog = load_catalog()
    sites = [site.id for site in plan.loaded.programme.sites]
    added = {
        part: np.diff(grid.sum(axis=0), prepend=0.0)
        for part, grid in site_stock(plan.sites, sites, plan.deployed).items()
    }
    out = np.zeros(len(ends))
    for part, quantity in added.items():
        line = apply_scenario([_part_line(catalog.get(part))], scenario)
        out += quantity * np.array([bill(line, scenario.tariffs, end) for end in ends])
    return out


def _part_line(part) -> BomLine:
    """One unit of a catalog part as a BOM line (top level), for the sourcing scenario's changes and tariffs."""
    return BomLine(
        part=part.id,
        kind=part.kind,
        category=part.category,
        manufacturer=part.manufacturer,
        model=part.model,
        assembly="",
        level=0,
        quantity=1.0,
        unit_usd=part.price_usd,
        extended_usd=part.price_usd,
        made_in=part.origin.manufacture,
        assembled_in=part.origin.assembled_in,
        us_made=part.origin.assembled_in == "US",
        lead_time_weeks=part.lead_time_weeks,
        price_assumed=part.is_assumed("price_usd"),
    )


def deployed_racks(result: PlanResult) -> np.ndarray:
    """Racks deployed (generations × sites × quarters, cumulative to each quarter's end) in the roadmap's schedule."""
    st, x = result.structure, np.round(result.schedule.x)
    shape = (len(st.roadmap.generations), len(st.roadmap.sites), len(st.timeline.quarters))
    cube = np.zeros(shape)
    keep = st.col_s >= 0
    np.add.at(cube, (st.col_g[keep], st.col_s[keep], st.col_q[keep]), x[keep])
    return np.cumsum(cube, axis=2)


def delivered_figures(loaded: LoadedProgramme, roadmap: LoadedRoadmap, runs: list[Training]) -> RackFigures:
    """The roadmap's rack figures with each rack's delivered compute counted as what it delivers to the programme's
    reference job (accelerators × model FLOP/s per accelerator × goodput) instead of ``evaluate``'s MoE reference
    with no failures, so that the ``delivered-training-compute`` objective and the plan's delivered series measure
    the programme's own job; peak stays peak."""
    per_rack = [
        rack.figures["compute.accelerators"] * run.model_flops_per_s_per_accelerator * run.goodput
        for rack, run in zip(roadmap.racks, runs, strict=True)
    ]
    workload = loaded.programme.workload
    job = f"the programme's reference job ({workload.model}, {workload.accelerators:,} accelerators, with goodput)"
    return replace(rack_figures(roadmap, np.array(per_rack)), delivered_on=job)


@dataclass
class ProgrammePlan:
    """Everything the programme document is written from."""

    loaded: LoadedProgramme
    racks: list[Rack]
    capacity: np.ndarray  # (G, F) racks/week
    result: PlanResult
    roadmap_doc: dict
    training: list[Training]
    failures: np.ndarray  # (G,) per rack and year
    deployed: np.ndarray  # (G, S, Q) cumulative racks
    spares: dict  # (generation, racks) → spares for that many racks (:func:`site_spares`)
    sites: list[SiteStep] = field(default_factory=list)  # each planned site at each power step it uses
    jobs: dict = field(default_factory=dict)  # (generation, size) → the job the sites run (:func:`site_jobs`)
    seconds: dict = field(default_factory=dict)


@dataclass
class PlanCache:
    """What a sweep's plans share, by content: each generation's reference job (by design file, workload and
    fleet), the spares reports (by design file, fleet and racks) and the site plans (:class:`.sites.SiteCache`)."""

    trainings: dict = field(default_factory=dict)
    spares: dict = field(default_factory=dict)
    sites: SiteCache = field(default_factory=SiteCache)


def _design_key(loaded: LoadedProgramme, index: int) -> str:
    """Generation ``index``'s design file, resolved."""
    return str((loaded.folder / loaded.programme.generations[index].design).resolve())


def _training_key(loaded: LoadedProgramme, index: int) -> tuple[str, str, str]:
    """What the reference job on generation ``index`` depends on: its design file, the workload and the fleet."""
    p = loaded.programme
    return _design_key(loaded, index), p.workload.model_dump_json(), p.fleet.model_dump_json()


def with_site_need(
    loaded: LoadedProgramme,
    roadmap: LoadedRoadmap,
    figures: RackFigures,
    cache: SiteCache | None = None,
    backend: str = "local",
    workers: int | None = None,
) -> RackFigures:
    """``figures`` with what the reference site plans (:func:`.sites.reference_plans`, sized at each site's largest
    power step over its file ``pue``; planned once and read twice) say of a rack at each planned site: the optics
    and CDUs it brings with it (:func:`.sites.site_need`), which the roadmap's supply rows then count, and the
    site's design-peak facility power per W of rack IT, annual PUE and build cost per MW (:func:`.sites.site_figures`),
    which bound a step's racks and price them."""
    site_it_w = build_timeline(roadmap.roadmap).site_it_w.max(axis=1)
    references = reference_plans(loaded, site_it_w, cache, backend, workers)
    need = site_need(loaded, roadmap.roadmap.supply, figures.supply_per_rack, references)
    sites = site_figures(loaded, references, typed_site_figures(roadmap.roadmap))
    return replace(figures, site_supply_per_rack=need, sites=sites)


#: The stages of :func:`plan_programme`, in order: the ``progress`` callback is called with each as it begins.
STAGES = (
    "factory capacity",
    "reference jobs (performance and goodput)",
    "site optics and CDUs per rack",
    "roadmap solve",
    "reference jobs at the sites' sizes",
    "failures and spares",
    "site plans",
)


def roadmap_on_lines(
    loaded: LoadedProgramme,
    cache: PlanCache | None = None,
    backend: str = "local",
    workers: int | None = None,
    seconds: dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[np.ndarray, list[Training], PlanResult]:
    """Steps 1-3: the lines' capacities, the reference job on each generation (tasks on ``backend``, kept in
    ``cache`` by content) and the roadmap solved on those capacities for delivered compute, its supply rows
    counting the optics and CDUs each rack brings with it at a planned site (:func:`.sites.site_need`, its
    reference plans kept in ``cache``); the seconds of each step go into ``seconds``, and ``progress`` is called
    with each of the first four :data:`STAGES` as it begins."""
    cache = cache if cache is not None else PlanCache()
    seconds = seconds if seconds is not None else {}
    stage = progress or (lambda name: None)
    racks = loaded.racks
    stage(STAGES[0])
    start = time.perf_counter()
    capacity = factory_capacity(loaded, racks)
    seconds["factories"] = time.perf_counter() - start
    stage(STAGES[1])
    start = time.perf_counter()
    model = reference_model(loaded)
    keys = [_training_key(loaded, i) for i in range(len(racks))]
    new = {key: (loaded, model, racks[i], i) for i, key in enumerate(keys) if key not in cache.trainings}
    cache.trainings.update(zip(new, run_tasks(training_task, list(new.values()), backend, workers), strict=True))
    runs = [cache.trainings[key] for key in keys]
    seconds["perf_and_goodput"] = time.perf_counter() - start
    stage(STAGES[2])
    start = time.perf_counter()
    roadmap = roadmap_with_capacity(loaded, capacity)
    figures = with_site_need(loaded, roadmap, delivered_figures(loaded, roadmap, runs), cache.sites, backend, workers)
    seconds["site_need"] = time.perf_counter() - start
    stage(STAGES[3])
    start = time.perf_counter()
    result = roadmap_plan(roadmap, figures)
    seconds["roadmap"] = time.perf_counter() - start
    return capacity, runs, result


def plan_programme(
    loaded: LoadedProgramme,
    cache: PlanCache | None = None,
    outdir: Path | None = None,
    backend: str = "local",
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
    site_reports: bool = False,
    correct_site_need: bool = False,
) -> ProgrammePlan:
    """Compose the capabilities (see the module docstring). ``cache``, when given, keeps each generation's
    reference job and the site plans across plans (a sweep re-plans with the same designs, workload and fleet).
    With ``outdir`` each planned site's last step is written to ``outdir/sites/SITE`` and every step's cables to
    ``outdir/sites/SITE/cables/step=K/`` as it is planned (with ``site_reports`` the last step's ``report.html``
    too: on a 1 GW site it costs about as much as the plan). The
    reference jobs, site plans and spares run as tasks on ``backend`` (``local``: a process pool of ``workers``,
    or this process; ``ray``). ``progress``, when given, is called with each of :data:`STAGES` as it begins.
    With ``correct_site_need`` a first pass is planned without writing; where an optics or CDU cap binds there, the
    roadmap is solved once more on the site need corrected from its site plans
    (:func:`.sites.site_need_correction`), and the steps after the solve run again (and write) on that solve."""
    seconds: dict[str, float] = {}
    cache = cache if cache is not None else PlanCache()
    capacity, runs, result = roadmap_on_lines(loaded, cache, backend, workers, seconds, progress)
    args = (cache, backend, workers, site_reports, seconds)
    if not correct_site_need:
        return _compose(loaded, capacity, runs, result, outdir, progress, *args)
    first = _compose(loaded, capacity, runs, result, None, None, *args)  # unwritten, its stages not reported
    need = site_need_correction(first)
    if need is not None:
        start = time.perf_counter()
        figures = replace(result.structure.figures, site_supply_per_rack=need)
        result = roadmap_plan(roadmap_with_capacity(loaded, capacity), figures)
        seconds["correction_roadmap"] = time.perf_counter() - start
    return _compose(loaded, capacity, runs, result, outdir, progress, *args)


def _compose(
    loaded: LoadedProgramme,
    capacity: np.ndarray,
    runs: list[Training],
    result: PlanResult,
    outdir: Path | None,
    progress: Callable[[str], None] | None,
    cache: PlanCache,
    backend: str,
    workers: int | None,
    site_reports: bool,
    seconds: dict[str, float],
) -> ProgrammePlan:
    """The steps after the roadmap solve (:data:`STAGES` from the sites' job sizes on) and the plan."""
    racks = loaded.racks
    stage = progress or (lambda name: None)
    stage(STAGES[4])
    deployed = deployed_racks(result)
    start = time.perf_counter()
    jobs = site_jobs(loaded, deployed, runs, cache, backend, workers)
    seconds["site_jobs"] = time.perf_counter() - start
    stage(STAGES[5])
    failures = np.array([failures_per_rack_year(loaded, rack) for rack in racks])
    start = time.perf_counter()
    spares = site_spares(loaded, deployed, cache.spares, backend, workers)
    seconds["spares"] = time.perf_counter() - start
    stage(STAGES[6])
    start = time.perf_counter()
    quarters = list(result.structure.timeline.quarters)
    sites = site_steps(loaded, deployed, quarters, outdir, cache.sites, backend, workers, site_reports)
    seconds["site_plans"] = time.perf_counter() - start
    return ProgrammePlan(
        loaded, racks, capacity, result, plan_document(result), runs, failures, deployed, spares, sites, jobs, seconds
    )


def _series(
    name: str, unit: str, values, generation: str | None = None, digits: int = 6, site: str | None = None
) -> dict:
    row: dict[str, object] = {"name": name, "unit": unit}
    if site is not None:
        row["site"] = site
    if generation is not None:
        row["generation"] = generation
    row["values"] = [None if v is None or not np.isfinite(v) else round(float(v), digits) for v in values]
    return row


def series(plan: ProgrammePlan) -> list[dict]:
    """The quarterly series of the programme document (each with its unit; cumulative where a stock)."""
    p = plan.loaded.programme
    per_gen = plan.deployed.sum(axis=1)  # (G, Q) racks
    power_w = np.array([r.figures["power.input"] for r in plan.racks])
    accelerators = per_gen * np.array([r.figures["compute.accelerators"] for r in plan.racks])[:, None]
    per_site = plan.deployed * np.array([r.figures["compute.accelerators"] for r in plan.racks])[:, None, None]
    rate_tokens, rate_flops, goodput = site_rates(plan)
    tokens = (per_site * rate_tokens * goodput).sum(axis=1)  # (G, Q) delivered at each site's job size
    flops = (per_site * rate_flops * goodput).sum(axis=1)
    peak = np.array([r.figures.get(f"compute.peak_flops:{p.goal.precision}", 0.0) for r in plan.racks])
    it_site_w = np.einsum("gsq,g->sq", plan.deployed, power_w)
    price = np.array([s.energy_usd_per_mwh for s in p.sites])
    doc = plan.roadmap_doc
    quarters = doc["quarters"]
    by_quarter = lambda key: [doc[key][q] for q in quarters]  # noqa: E731
    capex = np.array(by_quarter("capex_usd_by_quarter")) + site_build_change(plan)
    terms = site_terms(plan.result.structure.figures, plan.result.structure.roadmap)
    pue = site_pue(plan.sites, [s.id for s in p.sites], terms.pue, len(quarters))
    energy = np.einsum("sq,s,sq->q", pue, price, it_site_w) * HOURS_PER_YEAR / 1e6  # W·h → MWh
    rows = [
        _series("it_power", "GW", power_w @ per_gen / 1e9, digits=9),
        _series("accelerators", "accelerators", accelerators.sum(axis=0), digits=0),
        _series("racks", "racks", per_gen.sum(axis=0), digits=0),
        _series("delivered_training_tokens", "tokens/s", tokens.sum(axis=0), digits=0),
        _series("delivered_training_compute", "EFLOP/s (model FLOPs × goodput)", flops.sum(axis=0) / 1e18),
        _series("peak_compute", f"EFLOP/s (peak {p.goal.precision})", peak @ per_gen / 1e18),
        _series("failures", "part failures/year (fleet deployed)", plan.failures @ per_gen, digits=1),
        _series("us_integrated_share", "share of rack value built in US", by_quarter("domestic_share_by_quarter")),
        _series("us_content_share", "share of rack value (BOM)", by_quarter("bom_us_content_by_quarter")),
        _series("capex", "USD/quarter (racks + site build)", capex, digits=0),
        _series("capex_cumulative", "USD", np.cumsum(capex), digits=0),
        _series("energy_opex", "USD/year (energy at quarter end)", energy, digits=0),
    ]
    tariffs = tariff_bill(plan)
    if tariffs is not None:
        racks_bill, site_bill = tariffs
        rows.append(
            _series(
                "tariff_bill",
                "USD/quarter (tariffs on the racks built and site equipment)",
                racks_bill + site_bill,
                digits=0,
            )
        )
        rows.append(_series("tariff_bill_site_equipment", "USD/quarter (switches, optics, CDUs)", site_bill, digits=0))
    if plan.sites:
        sites = [site.id for site in p.sites]
        equipment = equipment_series(plan.sites, sites, plan.deployed)
        for name, kind, unit in SITE_SERIES:
            rows.append(_series(name, unit, equipment[kind], digits=1))
    for i, g in enumerate(p.generations):
        rows.append(_series("it_power", "GW", power_w[i] * per_gen[i] / 1e9, g.id, digits=9))
        rows.append(_series("delivered_training_tokens", "tokens/s", tokens[i], g.id, digits=0))
    return rows + _spares_rows(plan)


def _spares_rows(plan: ProgrammePlan) -> list[dict]:
    """The spares series: the whole programme's cost, then each site's spare parts and cost (:func:`spares_series`),
    a site that never holds a rack left out."""
    parts, cost = spares_series(plan)
    rows = [_series("spares_cost", "USD (spare pools of every site, racks deployed)", cost.sum(axis=0), digits=0)]
    for s, site in enumerate(plan.loaded.programme.sites):
        if parts[s].any():
            rows.append(_series("site_spare_parts", "spare parts (site pool, racks deployed)", parts[s], site=site.id))
            rows.append(_series("site_spares_cost", "USD (site's spare pool, racks deployed)", cost[s], site=site.id))
    return rows


def site_build_change(plan: ProgrammePlan) -> np.ndarray:
    """What the site plans change in the roadmap's capex by quarter, ``(Q,)`` USD: at each site that names a site
    file, its site plans' capex beyond the racks (:func:`.sites.site_capex`) instead of the roadmap's build cost
    per MW of IT (its reference plan's, :func:`.sites.site_figures`) × the MW deployed there each quarter (the same
    sum as the roadmap document's)."""
    st, x = plan.result.structure, plan.result.schedule.x
    sites = plan.loaded.programme.sites
    planned = np.array([s.plan is not None for s in sites])
    build = site_terms(st.figures, st.roadmap).build_usd_per_mw
    keep = (st.col_s >= 0) & planned[st.col_s]
    quarters = len(st.timeline.quarters)
    typed = np.bincount(st.col_q[keep], weights=(build[st.col_s] * st.power_mw * x)[keep], minlength=quarters)
    return site_capex(plan.sites, [s.id for s in sites], plan.deployed).sum(axis=0) - typed


def basis(site) -> str:
    """Where a site's capex and PUE come from: its site plans where it names a site file, else the programme
    file's ``build_cost_usd_per_mw`` and ``pue``."""
    return "site plan" if site.plan is not None else "programme file"


def site_rates(plan: ProgrammePlan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tokens/s and model FLOP/s per accelerator and goodput of the job each site runs, ``(G, S, Q)`` each: the
    reference job at the size the site allows (:func:`site_job_sizes`), as :func:`site_jobs` found it
    (``plan.jobs``); 0 where the site holds none of the generation or the job cannot run at that size."""
    sizes = site_job_sizes(plan.loaded, plan.deployed)
    tokens, flops, goodput = (np.zeros(sizes.shape) for _ in range(3))
    for g, s, q in zip(*np.nonzero(sizes), strict=True):
        run = plan.jobs[(int(g), int(sizes[g, s, q]))]
        if isinstance(run, Training):
            tokens[g, s, q] = run.tokens_per_s_per_accelerator
            flops[g, s, q] = run.model_flops_per_s_per_accelerator
            goodput[g, s, q] = run.goodput
    return tokens, flops, goodput


#: The site equipment and plant series (planned sites, installed by each quarter's end as the racks arrive,
#: :func:`.sites.equipment_series`): name, kind, unit.
SITE_SERIES = (
    ("site_switches", "scale_out_switch", "switches (planned sites, incl. front-end share)"),
    ("site_transceivers", "transceiver", "transceivers (planned sites' fabric, beyond the racks)"),
    ("site_cdus", "cdu", "CDUs (planned sites, whole units)"),
    ("site_links", "links", "links (planned sites' cable plans)"),
    ("site_transformers", "transformers", "MV/LV transformers (planned sites' power chain)"),
    (
        "site_heat_rejection_units",
        "heat_rejection_units",
        "heat rejection units (planned sites' dry coolers or towers)",
    ),
    ("site_chillers", "chillers", "chillers (planned sites' cooling plant)"),
)


def _first_quarter(quarters: list[str], values, threshold: float) -> str | None:
    """The first quarter whose value reaches ``threshold`` (a small tolerance for rounding), or None."""
    reached = np.flatnonzero(np.asarray(values) >= threshold * (1 - 1e-9))
    return quarters[int(reached[0])] if reached.size else None


def programme_document(plan: ProgrammePlan) -> dict:
    """The JSON document of ``rackwright programme plan`` (see docs/programme.md): records, each figure with its
    unit."""
    p = plan.loaded.programme
    doc = plan.roadmap_doc
    rows = series(plan)
    total = {row["name"]: row["values"] for row in rows if "generation" not in row}
    goal_gw = doc["goal"]["it_power_gw"]
    met = _first_quarter(doc["quarters"], total["it_power"], goal_gw)
    supply_check = site_supply_check(plan)
    headline = [
        {"name": "it_power_by_goal_date", "unit": "GW", "value": total["it_power"][-1]},
        {"name": "goal_met", "unit": "quarter", "value": met},
        {
            "name": "delivered_training_compute_by_goal_date",
            "unit": "EFLOP/s",
            "value": total["delivered_training_compute"][-1],
        },
        {
            "name": "delivered_training_tokens_by_goal_date",
            "unit": "tokens/s",
            "value": total["delivered_training_tokens"][-1],
        },
        {"name": "accelerators_by_goal_date", "unit": "accelerators", "value": total["accelerators"][-1]},
        {"name": "failures_by_goal_date", "unit": "part failures/year", "value": total["failures"][-1]},
        {"name": "capex", "unit": "USD", "value": total["capex_cumulative"][-1]},
        {"name": "energy_opex_by_goal_date", "unit": "USD/year", "value": total["energy_opex"][-1]},
        {"name": "spares_cost_by_goal_date", "unit": "USD", "value": total["spares_cost"][-1]},
        {"name": "us_content_share_by_goal_date", "unit": "share of rack value (BOM)", "value": us_content(plan)},
        {"name": "site_plan_links", "unit": "links (planned sites)", "value": _links(plan)},
        {
            "name": "site_transceivers_by_goal_date",
            "unit": "transceivers",
            "value": total["site_transceivers"][-1] if "site_transceivers" in total else None,
        },
        {
            "name": "tariffs_by_goal_date",
            "unit": "USD (racks built and site equipment)",
            "value": sum(total["tariff_bill"]) if "tariff_bill" in total else None,
        },
    ]
    return {
        "programme": p.name,
        "file": plan.loaded.file,
        "feasible": doc["feasible"],
        "status": doc["status"],
        "goal": doc["goal"],
        "headline": headline,
        "quarters": doc["quarters"],
        "series": rows,
        "generations": [_generation(plan, i) for i in range(len(p.generations))],
        "site_jobs": [_site_job(plan, g, size, run) for (g, size), run in sorted(plan.jobs.items())],
        "factories": [
            {"factory": f.id, "generation": g.id, "racks_per_week": round(float(plan.capacity[i, j]), 3)}
            for j, f in enumerate(p.factories)
            for i, g in enumerate(p.generations)
            if plan.capacity[i, j] > 0
        ],
        "binding_constraints": doc["binding_constraints"]
        + binding_site_supply(supply_check)
        + binding_site_power(plan.loaded, plan.sites, doc["quarters"]),
        "racks": doc["racks"],
        "sites": [site_record(step) for step in final_steps(plan.sites).values()],
        "site_steps": [{**site_record(step), "quarter": doc["quarters"][step.quarter]} for step in plan.sites],
        "first_ship_check": first_ship_check(plan.loaded),
        "site_supply_check": supply_check,
        "timeline": timeline(plan.loaded),
        "spares": goal_spares(plan),
        "inputs": inputs(plan.loaded),
    }


def inputs(loaded: LoadedProgramme) -> dict:
    """What the plan was made from, for the dashboard's opening lines: the programme file, each generation's design
    file, each factory's line file, share and working calendar, each site's plan file, the workload and the fleet."""
    p = loaded.programme
    factories = []
    for j, f in enumerate(p.factories):
        calendar = factory_line(loaded, f.line, j, "programme").calendar
        factories.append(
            {
                "factory": f.id,
                "line": f.line,
                "share": f.share,
                "line_utilisation": f.line_utilisation,
                "shifts_per_day": calendar.shifts_per_day,
                "hours_per_shift": calendar.hours_per_shift,
                "days_per_week": calendar.days_per_week,
                "builds": f.builds,
            }
        )
    return {
        "file": loaded.file,
        "generations": [{"id": g.id, "design": g.design, "first_ship": str(g.first_ship)} for g in p.generations],
        "factories": factories,
        "sites": [{"site": s.id, "plan": s.plan, "capex_basis": basis(s), "pue_basis": basis(s)} for s in p.sites],
        "workload": p.workload.model_dump(exclude={"source", "assumption"}),
        "fleet": p.fleet.model_dump(exclude={"source", "assumption"}),
    }


def timeline(loaded: LoadedProgramme) -> list[dict]:
    """Records for the Gantt chart: generations from first ship to end of builds, sites from their first power,
    factories from their start, each to the goal date unless it ends before."""
    p = loaded.programme
    end = str(p.goal.by)
    rows = [
        {
            "kind": "generation",
            "name": g.id,
            "from": str(g.first_ship),
            "to": str(g.end_of_builds or end),
            "detail": f"design {g.design}",
        }
        for g in p.generations
    ]
    rows += [
        {
            "kind": "site",
            "name": s.id,
            "from": str(s.power[0].start),
            "to": end,
            "detail": "facility power " + ", ".join(f"{step.facility} from {step.start}" for step in s.power),
        }
        for s in p.sites
    ]
    rows += [
        {"kind": "factory", "name": f.id, "from": str(f.start), "to": end, "detail": f"{f.share:g} of {f.line}"}
        for f in p.factories
    ]
    return rows


def us_content(plan: ProgrammePlan) -> float | None:
    """US content of every rack built by the goal date: Σ racks × rack value × BOM US share / Σ racks × rack value
    (the roadmap's ``bom_us_content_by_quarter`` over the whole plan); None when no rack is built."""
    st, x = plan.result.structure, plan.result.schedule.x
    value = st.figures.rack_usd[st.col_g] * st.built * x
    total = float(value.sum())
    return round(float(value @ st.figures.bom_us_share[st.col_g]) / total, 6) if total > 0 else None


def _links(plan: ProgrammePlan) -> int | None:
    """Links of every medium in the site plans (None when no site is planned)."""
    if not plan.sites:
        return None
    return int(sum(step.planned.links for step in final_steps(plan.sites).values()))


def _site_job(plan: ProgrammePlan, g: int, size: int, run: Training | str) -> dict:
    """One job size a site runs on a generation: its rates and goodput, or why it cannot run (then it delivers 0)."""
    row: dict[str, object] = {"generation": plan.loaded.programme.generations[g].id, "accelerators": size}
    if isinstance(run, str):
        return {**row, "runs": False, "reason": run}
    return {
        **row,
        "runs": True,
        "tokens_per_s_per_accelerator": round(run.tokens_per_s_per_accelerator, 3),
        "model_tflops_per_accelerator": round(run.model_flops_per_s_per_accelerator / 1e12, 3),
        "goodput": round(run.goodput, 6),
        "parallelism": run.parallelism,
    }


def _generation(plan: ProgrammePlan, i: int) -> dict:
    g, rack, run = plan.loaded.programme.generations[i], plan.racks[i], plan.training[i]
    return {
        "id": g.id,
        "design": g.design,
        "rack": rack.name,
        "first_ship": str(g.first_ship),
        "accelerators_per_rack": rack.figures["compute.accelerators"],
        "it_power_kw": round(rack.figures["power.input"] / 1e3, 3),
        "tokens_per_s_per_accelerator": round(run.tokens_per_s_per_accelerator, 3),
        "model_tflops_per_accelerator": round(run.model_flops_per_s_per_accelerator / 1e12, 3),
        "mfu": round(run.mfu, 4),
        "parallelism": run.parallelism,
        "goodput": round(run.goodput, 6),
        "job_interruptions_per_day": round(run.interruptions_per_day, 4),
        "checkpoint_interval_min": round(run.checkpoint_interval_min, 2),
        "part_failures_per_rack_year": round(float(plan.failures[i]), 4),
    }
