"""Site plans for the programme: each site that names a site file, planned at each power step it uses.

A site's power step is in effect from the quarter it starts in until the quarter before the next step starts (the
last one until the goal date). A step is *used* when racks are deployed at the site by its last quarter; the site is
then planned for the racks deployed there by that quarter: the site file's layout, fabric, power chain, cooling
plant and economics with its ``target`` replaced by those racks (:func:`rackwright.site.planner.plan_site`, on the
racks the programme evaluated once).

**When a step's equipment and capex count** (:func:`_installed`). A step's site equipment (switches, fabric
optics, CDUs, MV/LV transformers, cooling plant) and its build capex are needed, and bought, as the step's racks
arrive, not by its last quarter: in each quarter of the step, the step's plan × the share of its racks the site
holds that quarter (racks there ÷ the step's racks, at most 1), never less than before (what is installed stays).
Pro rata for all of it, though a hall's network and plant are often built whole before its racks land: a step
holds many halls (the 10 GW example's steps hold up to 5,462 racks), which are built hall by hall as the racks
come, and the roadmap's solve counts the site optics and CDUs the same way (per rack deployed,
:func:`site_need`), so the supply check and the solve's supply rows agree quarter by quarter. The programme
knows the equipment by quarter (:func:`site_stock`, :func:`equipment_series`) and checks the optics, CDUs and
transformers by quarter against the supply caps (:func:`site_supply_check`).

**Planning around the site's optics and CDUs** (:func:`site_need`). Before the roadmap solve, each generation is
planned once on each site file that hosts it, alone, with as many accelerators as the largest power step of the
sites that use the file holds of any generation they host (``⌊IT power / rack IT power⌋`` racks × accelerators per
rack; the largest fabric those sites can need): the plan's transceivers and CDUs per rack, less the rack's own
BOM share of a CDU, are the parts a rack of that generation brings with it at those sites (``m_pgs``, the roadmap
MILP's site term of its supply rows, :attr:`rackwright.roadmap.inputs.RackFigures.site_supply_per_rack`). It is a
linear approximation of the site plans: a real step mixes generations, has fewer racks than the reference (a fabric
with fewer tiers and partly filled switches) and rounds CDUs up per generation; :func:`site_need_error` compares it
with each planned step (``difference`` and ``error``). Measured on the 10 GW example with every site on
``examples/site-1gw.yaml`` (2026-12-07): with the example's optics cap the cap binds, the steps are small (143 to
4,944 racks) and the optics need is +1.1 % to +276 % above their plans (0.41 M of the 4.9 M transceivers delivered
held back); with the cap at 2 M a quarter (10.10 GW) −3.9 % to +81 %, 18 of 21 steps within ±4 %. The CDUs differ
by their rounding up, under one CDU per generation and step, which the linear need does not hold back.
:func:`site_need_correction` corrects the need once from the plans where a cap binds (``plan_programme(...,
correct_site_need=True)``).

**A step's power at its design peak** (:func:`site_figures`). The same reference plans give the roadmap each planned
site's facility power per W of rack IT at the design peak (the plan's ``facility_power_mw`` over its racks' IT power;
its own IT power holds the fabric too), the largest of the site's references, so a step carries its facility power /
that ratio of racks, not / the programme file's ``pue`` (an annual figure), and the step's own plan fits the step; and
that reference's annual PUE and build capex beyond the racks per MW of rack IT. Measured on the small example's
Abilene (site-100mw.yaml, 2026-12-07): ratio 1.412 against the file's pue 1.10; its 200 and 450 MW steps' plans drew
256.7 and 577.0 MW at the file's pue, 200.4 and 450.5 MW at the reference ratio (within
:data:`SITE_POWER_TOLERANCE`).

Steps with the same site file and racks per design are planned once (:class:`SiteCache`, keyed by content). The
plans run as tasks (:func:`rackwright.parallel.run_tasks`, local or Ray), each returning a small record (its
summary and the parts it needs beyond the racks, by part id). Given a folder, the tasks write each site's last step
to ``sites/SITE/`` (``summary.json``, ``generations.json``, ``cables.parquet``, ``bom.csv``, as ``site plan``
writes them) and every used step's per-cable plan to ``sites/SITE/cables/step=K/part-0.parquet``: one Parquet
dataset per site, partitioned by power step the Hive way, so ``pandas.read_parquet("sites/SITE/cables")`` reads
all steps with a ``step`` column; no cable plan is held in memory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import ValidationError

from ..catalog import load_catalog
from ..errors import InputError
from ..parallel import run_tasks
from ..roadmap.inputs import SiteFigures
from ..roadmap.schema import quarter_start
from ..roadmap.timeline import months_since, step_first_quarter
from ..site import cables as cab
from ..site.economics import CATEGORIES
from ..site.planner import SitePlan, modules_per_link, plan_site
from ..site.schema import LoadedSite, Site
from ..units import parse_quantity
from ..yamlio import problems_from_validation, read_yaml, to_plain
from .schema import LoadedProgramme

#: The figures of a site plan's summary the programme document carries.
SUMMARY_KEYS = (
    "racks",
    "accelerators",
    "it_power_mw",
    "facility_power_mw",
    "pue",
    "annual_energy_gwh",
    "halls",
    "switches",
    "links",
    "cable_length_km",
    "transformers",
    "cdus",
    "heat_rejection_units",
    "chillers",
    "capex_usd",
)

#: The site plan's capex categories the programme counts as the site's build (:func:`site_capex`): all but the
#: racks, whose BOMs the roadmap counts as they are built. They replace the programme file's build cost per MW of
#: IT (shell and MEP: the building, power chain and cooling plant) and add the fabric beyond the racks (switches,
#: switch-end optics, fibre), which neither the racks' BOMs nor that figure hold.
SITE_CAPEX = tuple(c for c in CATEGORIES if c != "it_racks")

#: Kinds of the site equipment the programme counts by quarter (beyond the racks' own BOMs): scale-out switches
#: (with the front-end network's share), the fabric's transceivers (at tier 1 the switch end only, the NIC end
#: being in the rack's BOM) and whole CDUs.
EQUIPMENT_KINDS = ("scale_out_switch", "transceiver", "cdu")

#: How far a step's site plan may draw above the step's facility power before :func:`binding_site_power` reports
#: it: the plan rounds halls, CDUs and plant units up.
SITE_POWER_TOLERANCE = 0.01

#: Supply kinds the site plans consume beyond the racks' own BOMs: fabric optics and CDUs (whole units per site;
#: the racks' BOMs carry each rack's share of one, which the roadmap already counts).
SITE_KINDS = ("transceiver", "cdu")

#: The plant of a site plan's summary the programme counts by quarter (:func:`equipment_series`): MV/LV
#: transformers (the power chain's ``transformers`` stage), heat rejection units (dry coolers or cooling
#: towers) and chillers, each by its summary figure.
PLANT: dict[str, Callable[[SiteStep], float]] = {
    "transformers": lambda step: step.planned.summary["transformers"]["mv_lv"],
    "heat_rejection_units": lambda step: step.planned.summary["heat_rejection_units"],
    "chillers": lambda step: step.planned.summary["chillers"],
}


def site_parts(plan: SitePlan) -> pl.DataFrame:
    """The site equipment of a plan by catalog part id (``part``, ``kind``, ``quantity``), from the plan's
    structured data rather than its BOM text: the fabric's switches × (1 + the front-end share), the cable plan's
    transceivers per link (:func:`rackwright.site.planner.modules_per_link`, as the planner prices them) and each
    generation's whole CDUs (⌈racks × CDUs per rack⌉, as the cooling plant counts them)."""
    catalog = load_catalog()
    fabric, s = plan.fabric, plan.loaded.site
    switch = catalog.get(s.fabric.switch)
    rows = [(switch.id, switch.kind, float(sum(fabric.switches_by_tier.values())) * (1 + s.fabric.front_end_share))]
    use = plan.cables.group_by("part", "tier").agg(pl.len().alias("n"))
    for part_id, tier, n in use.iter_rows():
        part = catalog.get(part_id) if part_id != cab.NO_MEDIUM else None
        if part is not None and part.kind == "transceiver":
            rows.append((part.id, part.kind, n * modules_per_link(part, fabric.link_speed, tier)))
    rows += [(g.cdu_part, "cdu", float(np.ceil(g.racks * g.cdus_per_rack))) for g in plan.generations if g.cdu_part]
    frame = pl.DataFrame(rows, schema={"part": pl.String, "kind": pl.String, "quantity": pl.Float64}, orient="row")
    return frame.group_by("part", "kind", maintain_order=True).agg(pl.col("quantity").sum())


@dataclass(frozen=True)
class PlannedSite:
    """What the programme keeps of one site plan: its summary's figures and its equipment by part."""

    summary: dict
    parts: dict[str, float]  # part id → quantity (site equipment, :func:`site_parts`)
    kinds: dict[str, str]  # part id → kind
    links: int
    violations: int


def plan_task(task: tuple[LoadedSite, tuple[str, ...], tuple[str, ...], bool]) -> PlannedSite:
    """Plan one site (a task for :func:`rackwright.parallel.run_tasks`): the record; the plan written to each of
    ``folders`` (``summary.json``, ``generations.json``, ``cables.parquet``, ``bom.csv``, and with ``report`` the
    site's ``report.html``) and its per-cable plan to each of ``cable_files`` (written once, then linked)."""
    site, folders, cable_files, report = task
    plan = plan_site(site)
    summary = plan.summary()
    written: Path | None = None
    for folder in folders:
        from ..site.outputs import write_plan_folder

        write_plan_folder(plan, Path(folder), report=report)
        written = Path(folder) / "cables.parquet"
    for name in map(Path, cable_files):
        name.parent.mkdir(parents=True, exist_ok=True)
        name.unlink(missing_ok=True)
        if written is None:
            plan.cables.write_parquet(name)
            written = name
        else:
            _link(written, name)
    parts = site_parts(plan)
    return PlannedSite(
        summary={k: summary[k] for k in SUMMARY_KEYS if k in summary},
        parts=dict(zip(parts["part"], parts["quantity"], strict=True)),
        kinds=dict(zip(parts["part"], parts["kind"], strict=True)),
        links=plan.cables.height,
        violations=len(plan.errors),
    )


def _link(source: Path, name: Path) -> None:
    """``name`` as a hard link to ``source`` (the same cables), or a copy where the file system has none."""
    try:
        os.link(source, name)
    except OSError:
        shutil.copyfile(source, name)


@dataclass(frozen=True)
class SiteStep:
    """One site at one power step it uses: the quarter (index) it is planned for, the racks per generation and the
    plan's record."""

    site: str
    step: int
    quarter: int
    racks: tuple[int, ...]
    planned: PlannedSite


@dataclass
class SiteCache:
    """Site plans by content (site file, its modification time, designs and racks, output folder), kept across
    the plans of a sweep."""

    plans: dict[tuple, PlannedSite] = field(default_factory=dict)


def site_with_racks(loaded: LoadedProgramme, index: int, racks: np.ndarray, root: Any = None) -> LoadedSite:
    """Site ``index``'s site file (or its YAML ``root``, read already) with its target set to ``racks`` (one count
    per generation; zeros left out)."""
    p = loaded.programme
    path = loaded.folder / str(p.sites[index].plan)
    root = site_yaml(loaded, index) if root is None else root
    data = to_plain(root) if isinstance(root, dict) else {}
    keep = np.flatnonzero(racks > 0)
    data["target"] = {"generations": [{"design": _design(loaded, int(i)), "racks": int(racks[i])} for i in keep]}
    try:
        site = Site.model_validate(data)
    except ValidationError as exc:
        raise InputError(str(path), problems_from_validation(exc, root)) from None
    return LoadedSite(site=site, file=str(path), root=root, racks=[loaded.racks[i] for i in keep])


def site_yaml(loaded: LoadedProgramme, index: int) -> Any:
    """The YAML of site ``index``'s site file; :class:`InputError` naming ``sites[index].plan`` when unreadable."""
    name = loaded.programme.sites[index].plan
    try:
        return read_yaml(loaded.folder / str(name))
    except InputError as exc:
        raise loaded.error(
            f"site file {name!r} cannot be used: {exc}",
            ("sites", index, "plan"),
            "give the path of a site file (rackwright site plan), relative to the programme file",
        ) from None


def _design(loaded: LoadedProgramme, i: int) -> str:
    return str((loaded.folder / loaded.programme.generations[i].design).resolve())


def step_quarters(loaded: LoadedProgramme, index: int, quarters: list[str]) -> list[int]:
    """The last quarter (index) of each of site ``index``'s power steps: the quarter before the next step's first,
    the last quarter for the last step; -1 for a step that starts after the goal date or shares its first quarter
    with the next. A step is in effect from the quarter holding its date, as in the roadmap's site power
    (:func:`rackwright.roadmap.timeline.step_first_quarter`)."""
    origin = quarter_start(quarters[0])
    months = [months_since(origin, step.start) for step in loaded.programme.sites[index].power]
    starts = [int(q) for q in step_first_quarter(np.array(months), len(quarters))]
    lasts = [following - 1 for following in starts[1:]] + [len(quarters) - 1]
    return [last if start <= last else -1 for start, last in zip(starts, lasts, strict=True)]


def _content(loaded: LoadedProgramme, index: int, racks: np.ndarray) -> tuple:
    """What a plan of site ``index`` for ``racks`` depends on: its site file (and when it changed), the designs and
    the racks per design."""
    path = loaded.folder / str(loaded.programme.sites[index].plan)
    designs = tuple(_design(loaded, i) for i in range(len(racks)))
    return str(path.resolve()), path.stat().st_mtime, designs, tuple(int(r) for r in racks)


def _plan_all(
    loaded: LoadedProgramme,
    wanted: dict[tuple, tuple[int, np.ndarray, list[str], list[str]]],
    cache: SiteCache,
    backend: str,
    workers: int | None,
    reports: bool = False,
) -> dict[tuple, PlannedSite]:
    """Plan each content of ``wanted`` (content → site index, racks, folders, cable files) not in ``cache`` yet, as
    tasks on ``backend`` (the largest first, so a pool ends together), each folder with the site's report where
    ``reports``; each content's record by content."""
    keys = {
        content: (content, tuple(folders), tuple(cables), reports and bool(folders))
        for content, (_, _, folders, cables) in wanted.items()
    }
    roots: dict[int, Any] = {}
    tasks = {}
    for content, key in keys.items():
        if key not in cache.plans:
            s, racks, folders, cables = wanted[content]
            root = roots[s] if s in roots else roots.setdefault(s, site_yaml(loaded, s))  # read once per site
            tasks[key] = (site_with_racks(loaded, s, racks, root), *key[1:])
    order = sorted(tasks, key=lambda key: -sum(key[0][3]))
    for key, planned in zip(order, run_tasks(plan_task, [tasks[k] for k in order], backend, workers), strict=True):
        cache.plans[key] = planned
    return {content: cache.plans[key] for content, key in keys.items()}


def site_steps(
    loaded: LoadedProgramme,
    deployed: np.ndarray,
    quarters: list[str],
    outdir: Path | None = None,
    cache: SiteCache | None = None,
    backend: str = "local",
    workers: int | None = None,
    reports: bool = False,
) -> list[SiteStep]:
    """A site plan for each site that names a site file at each power step it uses (``deployed``: generations ×
    sites × quarters, cumulative); identical steps planned once, new ones as tasks on ``backend``. With ``outdir``
    each site's last step writes its outputs to ``outdir/sites/SITE`` (with ``reports`` its ``report.html`` too, as
    ``rackwright site plan -o`` writes it) and every step its cables to
    ``outdir/sites/SITE/cables/step=K/part-0.parquet``."""
    cache = cache if cache is not None else SiteCache()
    steps: list[tuple[str, int, int, tuple[int, ...], tuple]] = []
    wanted: dict[tuple, tuple[int, np.ndarray, list[str], list[str]]] = {}
    for s, site in enumerate(loaded.programme.sites):
        if site.plan is None:
            continue
        lasts = step_quarters(loaded, s, quarters)
        for k, q in enumerate(lasts):
            racks = np.round(deployed[:, s, q]).astype(int) if q >= 0 else np.zeros(0, int)
            if not racks.any():
                continue
            content = _content(loaded, s, racks)
            steps.append((site.id, k, q, content[3], content))
            _, _, folders, cables = wanted.setdefault(content, (s, racks, [], []))
            if outdir is not None:
                folder = outdir / "sites" / site.id
                cables.append(str(folder / "cables" / f"step={k}" / "part-0.parquet"))
                if q == max(lasts):
                    folders.append(str(folder))
    planned = _plan_all(loaded, wanted, cache, backend, workers, reports)
    return [SiteStep(site, k, q, racks, planned[content]) for site, k, q, racks, content in steps]


@dataclass(frozen=True)
class Reference:
    """One reference site plan: ``racks`` racks of generation ``generation`` alone on a site file, for the sites
    (indices) that use the file and host the generation."""

    generation: int
    sites: list[int]
    racks: int
    planned: PlannedSite


def reference_plans(
    loaded: LoadedProgramme,
    site_it_w: np.ndarray,
    cache: SiteCache | None = None,
    backend: str = "local",
    workers: int | None = None,
) -> list[Reference]:
    """The reference site plans (planned once, before the roadmap solve): per site file and generation hosted, one
    plan of that generation alone with as many accelerators as the largest power step of the sites that use the
    file holds of any generation they host (``site_it_w``: ``(S,)`` W of IT; the largest fabric those sites can
    need). :func:`site_need` and :func:`site_figures` are read from them."""
    p = loaded.programme
    it_power = np.array([rack.figures["power.input"] for rack in loaded.racks])
    accelerators = np.array([rack.figures["compute.accelerators"] for rack in loaded.racks])
    hosted = np.array([[g.id in site.hosts for g in p.generations] for site in p.sites])  # (S, G)
    most = (np.floor(site_it_w[:, None] / it_power) * accelerators * hosted).max(axis=1)  # (S,) accelerators
    users: dict[tuple[str, int], list[int]] = {}  # (site file, generation) → sites
    for index, site in enumerate(p.sites):
        for hosted_g in np.flatnonzero(hosted[index]) if site.plan is not None else []:
            users.setdefault((str((loaded.folder / str(site.plan)).resolve()), int(hosted_g)), []).append(index)
    wanted: dict[tuple, tuple[int, np.ndarray, list[str], list[str]]] = {}
    references = []
    for (_, g), sites in users.items():
        largest = max(sites, key=lambda s: most[s])
        racks = np.zeros(len(p.generations), int)
        racks[g] = max(1, int(most[largest] // accelerators[g]))
        content = _content(loaded, largest, racks)
        wanted.setdefault(content, (largest, racks, [], []))
        references.append((g, sites, int(racks[g]), content))
    planned = _plan_all(loaded, wanted, cache if cache is not None else SiteCache(), backend, workers)
    return [Reference(g, sites, count, planned[content]) for g, sites, count, content in references]


def site_need(loaded: LoadedProgramme, supply: list, per_rack: np.ndarray, references: list[Reference]) -> np.ndarray:
    """The parts of each supply line of a site kind (:data:`SITE_KINDS`) that a rack of each generation brings with
    it at each planned site beyond its BOM, ``(P, G, S)`` (the linear approximation of the module docstring): each
    reference plan's (:func:`reference_plans`) parts per rack less the BOM's share (``per_rack``, ``(P, G)``) for
    CDUs; 0 at sites without a site file."""
    p = loaded.programme
    need = np.zeros((len(supply), len(p.generations), len(p.sites)))
    for i, kind in site_kinds(supply).items():
        for ref in references:
            own = per_rack[i, ref.generation] if kind == "cdu" else 0.0
            need[i, ref.generation, ref.sites] = max(_quantity(ref.planned, supply[i]) / ref.racks - own, 0.0)
    return need


def reference_figures(ref: Reference, rack_it_w: float) -> tuple[float, float, float]:
    """A reference plan's design-peak facility power per W of its racks' IT power (``racks × rack_it_w``; the
    plan's own IT power holds the fabric too), its annual PUE and its build capex beyond the racks
    (:data:`SITE_CAPEX`) per MW of the racks' IT power."""
    summary = ref.planned.summary
    it_mw = ref.racks * rack_it_w / 1e6
    build = sum(summary["capex_usd"][c] for c in SITE_CAPEX)
    return summary["facility_power_mw"] / it_mw, summary["pue"], build / it_mw


def site_figures(loaded: LoadedProgramme, references: list[Reference], typed: SiteFigures) -> SiteFigures:
    """The sites' figures the roadmap solves with: at a site with a site file, those of its reference plan with the
    largest design-peak facility power per W of rack IT (:func:`reference_figures`), so that the racks the roadmap
    sends there fit a step at its design peak whatever the mix of generations; the programme file's (``typed``)
    elsewhere."""
    rack_it_w = [rack.figures["power.input"] for rack in loaded.racks]
    columns = [a.copy() for a in (typed.facility_per_it, typed.pue, typed.build_usd_per_mw)]
    best: dict[int, tuple[float, float, float]] = {}
    for ref in references:
        figures = reference_figures(ref, rack_it_w[ref.generation])
        for s in ref.sites:
            best[s] = max(best.get(s, figures), figures)
    for s, figures in best.items():
        for column, value in zip(columns, figures, strict=True):
            column[s] = value
    return SiteFigures(*columns)


def site_kinds(supply: list) -> dict[int, str]:
    """The supply lines (by index) of a kind in :data:`SITE_KINDS`, by kind or by the kind of the part they name."""
    catalog = load_catalog()
    kinds = {i: line.kind or (_kind(catalog, line.part) if line.part else None) for i, line in enumerate(supply)}
    return {i: kind for i, kind in kinds.items() if kind in SITE_KINDS}


def _quantity(planned: PlannedSite, line) -> float:
    """A site plan's quantity of what supply ``line`` counts (its part, or parts of its kind)."""
    return sum(q for part, q in planned.parts.items() if part == line.part or planned.kinds[part] == line.kind)


def site_need_error(plan) -> list[dict]:
    """The linear site need (:func:`site_need`, the roadmap's ``m_pgs`` × racks) against each planned step's own
    parts (less the racks' CDU shares), per supply line of a site kind and step: ``linear``, ``planned``,
    ``difference`` (linear − planned, in the line's unit) and ``error`` (linear / planned − 1; positive: the roadmap
    kept more than the plan needs). A CDU line's planned figure is the rounding up alone (under one CDU per
    generation), so read its ``difference``: its relative error is large on a fraction of a CDU. ``plan`` is a
    :class:`rackwright.programme.plan.ProgrammePlan`."""
    st = plan.result.structure
    need = st.figures.site_supply_per_rack
    sites = [site.id for site in plan.loaded.programme.sites]
    rows = []
    for i, kind in site_kinds(st.roadmap.supply).items():
        line = st.roadmap.supply[i]
        for step in plan.sites:
            racks = np.array(step.racks, float)
            own = _quantity(step.planned, line) - (st.figures.supply_per_rack[i] @ racks if kind == "cdu" else 0.0)
            linear = 0.0 if need is None else float(need[i, :, sites.index(step.site)] @ racks)
            rows.append(
                {
                    "supply": line.id,
                    "site": step.site,
                    "power_step": step.step,
                    "racks": int(racks.sum()),
                    "linear": round(linear, 3),
                    "planned": round(float(own), 3),
                    "difference": round(linear - float(own), 3),
                    "error": round(linear / own - 1, 6) if own > 0 else None,
                }
            )
    return rows


def site_need_correction(plan) -> np.ndarray | None:
    """The linear site need (``(P, G, S)``, :func:`site_need`) corrected once from the site plans, or ``None`` when
    there is nothing to correct: for each supply line of a site kind whose cap binds in the roadmap solve and each
    site planned under it, the need scaled by the largest planned / linear ratio of that site's steps
    (:func:`site_need_error`), so that no step's plan needs more than the corrected need × its racks. One pass:
    a re-solve deploys other racks, and its steps may then differ again (the site supply check reports it).
    ``plan`` is a :class:`rackwright.programme.plan.ProgrammePlan`."""
    st = plan.result.structure
    need = st.figures.site_supply_per_rack
    binding = {row["name"] for row in plan.result.binding if row["family"] == "supply"}
    supply = [line.id for line in st.roadmap.supply]
    sites = [site.id for site in plan.loaded.programme.sites]
    ratios: dict[tuple[int, int], float] = {}
    for row in site_need_error(plan):
        if row["supply"] in binding and row["linear"] > 0:
            key = (supply.index(row["supply"]), sites.index(row["site"]))
            ratios[key] = max(ratios.get(key, 0.0), row["planned"] / row["linear"])
    if need is None or all(ratio == 1.0 for ratio in ratios.values()):
        return None
    corrected = need.copy()
    for (i, s), ratio in ratios.items():
        corrected[i, :, s] *= ratio
    return corrected


def final_steps(steps: list[SiteStep]) -> dict[str, SiteStep]:
    """Each planned site's last step (the racks deployed there by the goal date), by site id."""
    last: dict[str, SiteStep] = {}
    for step in steps:
        if step.site not in last or step.quarter > last[step.site].quarter:
            last[step.site] = step
    return last


def site_record(step: SiteStep) -> dict:
    """The programme document's record of one site step."""
    return {
        "site": step.site,
        "power_step": step.step,
        **step.planned.summary,
        "violations": step.planned.violations,
    }


def _installed(
    steps: list[SiteStep], sites: list[str], deployed: np.ndarray, value: Callable[[SiteStep], float]
) -> np.ndarray:
    """``value`` of each site's steps installed by each quarter's end, ``(S, Q)`` (``deployed``: generations ×
    sites × quarters, cumulative): in quarter q the value of the step in force (the step planned for the first
    quarter at or after q) × min(1, racks at the site in q / the step's racks), and never less than in an earlier
    quarter (what is installed stays); after a site's last planned step, that step's value."""
    held = np.round(deployed).sum(axis=0)  # (S, Q) racks, rounded as a step's racks are
    grid = np.zeros(held.shape)
    for step in sorted(steps, key=lambda st: -st.quarter):  # earlier steps overwrite the quarters up to theirs
        s = sites.index(step.site)
        grid[s, : step.quarter + 1] = value(step) * np.minimum(held[s, : step.quarter + 1] / sum(step.racks), 1.0)
    return np.maximum.accumulate(grid, axis=1)


def site_stock(steps: list[SiteStep], sites: list[str], deployed: np.ndarray) -> dict[str, np.ndarray]:
    """Site equipment installed by each quarter's end, ``(S, Q)`` per part id, as the racks arrive
    (:func:`_installed`: the step's parts × the share of its racks at the site that quarter)."""

    def quantity(part: str) -> Callable[[SiteStep], float]:
        return lambda step: step.planned.parts.get(part, 0.0)

    parts = dict.fromkeys(part for step in steps for part in step.planned.parts)
    return {part: _installed(steps, sites, deployed, quantity(part)) for part in parts}


def equipment_series(steps: list[SiteStep], sites: list[str], deployed: np.ndarray) -> dict[str, np.ndarray]:
    """Site equipment by kind (:data:`EQUIPMENT_KINDS`) installed by each quarter's end, summed over sites,
    ``(Q,)``; the links of the sites' cable plans; and the plant of the steps' summaries (:data:`PLANT`), with
    the same timing (:func:`_installed`)."""
    kinds = {part: kind for step in steps for part, kind in step.planned.kinds.items()}
    stock = site_stock(steps, sites, deployed)
    out = {kind: np.zeros(deployed.shape[2]) for kind in EQUIPMENT_KINDS}
    for part, grid in stock.items():
        if kinds[part] in out:
            out[kinds[part]] += grid.sum(axis=0)
    out["links"] = _installed(steps, sites, deployed, lambda st: st.planned.links).sum(axis=0)
    for name, read in PLANT.items():
        out[name] = _installed(steps, sites, deployed, read).sum(axis=0)
    return out


def site_capex(steps: list[SiteStep], sites: list[str], deployed: np.ndarray) -> np.ndarray:
    """The planned sites' build capex by quarter, ``(S, Q)`` USD: a step's site plan capex beyond the racks
    (:data:`SITE_CAPEX`), spent as its racks arrive (:func:`_installed`, as :func:`site_stock` counts its
    equipment), less what was spent before; 0 at sites without a plan."""
    built = _installed(steps, sites, deployed, lambda st: sum(st.planned.summary["capex_usd"][c] for c in SITE_CAPEX))
    return np.diff(built, axis=1, prepend=0.0)


def site_pue(steps: list[SiteStep], sites: list[str], typed: np.ndarray, quarters: int) -> np.ndarray:
    """The PUE in force at each site and quarter, ``(S, Q)``: at a planned site the annual PUE of the site plan of
    the power step in force that quarter (the step planned for the first quarter at or after it: racks there by
    then are there by the step's end); the programme file's (``typed``, ``(S,)``) elsewhere and in quarters no
    planned step covers (no racks there then)."""
    pue = np.repeat(np.asarray(typed, float)[:, None], quarters, axis=1)
    for step in sorted(steps, key=lambda st: -st.quarter):
        pue[sites.index(step.site), : step.quarter + 1] = step.planned.summary["pue"]
    return pue


def _kind(catalog, part: str) -> str | None:
    return catalog.get(part).kind if part in catalog else None


def site_supply_check(plan) -> list[dict]:
    """Each supply line of a kind in :data:`SITE_KINDS` (or naming a part of one), and each transformer line
    (:func:`transformer_lines`), against what the racks and the planned sites need, by quarter: delivered (the
    roadmap's caps after the lead time), the racks' use (built racks × BOM quantity per rack, as the roadmap counts
    it; for a transformer line the racks at sites without a site plan only), the site plans' own (:func:`site_stock`
    and :func:`_installed`, as the racks arrive: transceivers; CDUs as whole units less the racks' shares at those
    sites; the plans' MV/LV transformers), and the margin by quarter; the quarters short. ``plan`` is a
    :class:`rackwright.programme.plan.ProgrammePlan`."""
    st = plan.result.structure
    quarters = st.timeline.quarters
    built = np.zeros((len(plan.racks), len(quarters)))
    np.add.at(built, (st.col_g, st.col_q), st.built * plan.result.schedule.x)
    built = np.cumsum(built, axis=1)
    sites = [site.id for site in plan.loaded.programme.sites]
    stock = site_stock(plan.sites, sites, plan.deployed)
    kinds = {part: kind for step in plan.sites for part, kind in step.planned.kinds.items()}
    planned = np.isin(sites, [step.site for step in plan.sites])
    rows = []
    for p, kind in {**site_kinds(st.roadmap.supply), **transformer_lines(st.roadmap.supply)}.items():
        supply = st.roadmap.supply[p]
        per_rack = st.figures.supply_per_rack[p]
        if kind == "transformer":
            racks_use = per_rack @ plan.deployed[:, ~planned].sum(axis=1)
            own = _installed(plan.sites, sites, plan.deployed, PLANT["transformers"])
        else:
            racks_use = per_rack @ built
            own = sum(
                (grid for part, grid in stock.items() if part == supply.part or kinds[part] == supply.kind),
                np.zeros((len(sites), len(quarters))),
            )
        if kind == "cdu":
            own = own - np.einsum("g,gsq->sq", per_rack, plan.deployed) * planned[:, None]
        rows.append(_check_row(plan, p, kind, racks_use, own))
    return rows


def _check_row(plan, p: int, kind: str, racks_use: np.ndarray, own: np.ndarray) -> dict:
    """One supply line's row of :func:`site_supply_check`: ``racks_use`` ``(Q,)`` and the site plans' ``own``
    ``(S, Q)`` against the deliveries of line ``p``."""
    st = plan.result.structure
    quarters = st.timeline.quarters
    supply = st.roadmap.supply[p]
    delivered = st.timeline.supply_cumulative()[p]
    sites = [site.id for site in plan.loaded.programme.sites]
    need = racks_use + own.sum(axis=0)
    margin = delivered - need
    short = [quarters[q] for q in np.flatnonzero(need > delivered * (1 + 1e-9))]
    return {
        "supply": supply.id,
        "kind": kind,
        "unit": supply.unit,
        "delivered_by_goal_date": round(float(delivered[-1]), 3),
        "racks_use": round(float(racks_use[-1]), 3),
        "site_plans": {site: round(float(own[sites.index(site), -1]), 3) for site in final_steps(plan.sites)},
        "margin": round(float(margin[-1]), 3),
        "enough": not short,
        "delivered_by_quarter": [round(float(v), 3) for v in delivered],
        "margin_by_quarter": [round(float(v), 3) for v in margin],
        "short_quarters": short,
    }


def transformer_lines(supply: list) -> dict[int, str]:
    """The supply lines (by index) counted per MW of IT (``per_it_mw``) whose id or unit names transformers: at a
    site with a site plan its plan's own MV/LV transformers replace the per-MW figure in :func:`site_supply_check`
    (the roadmap's solve still counts the per-MW figure everywhere)."""
    return {
        i: "transformer"
        for i, line in enumerate(supply)
        if line.per_it_mw is not None and "transformer" in f"{line.id} {line.unit}".lower()
    }


def binding_site_supply(rows: list[dict]) -> list[dict]:
    """The site supply check's short supply lines as binding constraints (family ``site-supply``)."""
    return [
        {
            "family": "site-supply",
            "name": row["supply"],
            "quarters": row["short_quarters"],
            "unit": row["unit"],
            "shortfall": round(-min(row["margin_by_quarter"]), 3),
            "message": f"{row['supply']} ({row['kind']}): the racks and the site plans need more than is delivered "
            f"in {row['short_quarters'][0]}–{row['short_quarters'][-1]}",
        }
        for row in rows
        if row["short_quarters"]
    ]


def binding_site_power(loaded: LoadedProgramme, steps: list[SiteStep], quarters: list[str]) -> list[dict]:
    """Each step whose site plan draws more facility power than the step gives (beyond
    :data:`SITE_POWER_TOLERANCE`) as a binding constraint (family ``site-power``, the excess in MW): the roadmap
    bounds a step's racks by its power over the design-peak facility power per W of rack IT of the site's reference
    plan (:func:`site_figures`), a linear approximation of the step's own plan (its halls, CDUs and plant units
    rounded up, its fabric for its own racks)."""
    p = loaded.programme
    rows = []
    for step in steps:
        site = next(s for s in p.sites if s.id == step.site)
        power = site.power[step.step]
        step_mw = parse_quantity(power.facility, "power") / 1e6
        drawn = float(step.planned.summary["facility_power_mw"])
        if drawn > step_mw * (1 + SITE_POWER_TOLERANCE):
            rows.append(
                {
                    "family": "site-power",
                    "name": f"{site.id} step {step.step}",
                    "quarters": [quarters[step.quarter]],
                    "unit": "MW",
                    "shortfall": round(drawn - step_mw, 3),
                    "message": f"{site.id}: the site plan of power step {step.step} ({power.facility} from "
                    f"{power.start}) draws {drawn:,.1f} MW of facility power at its design peak in "
                    f"{quarters[step.quarter]}, more than the site's reference plan gives the roadmap's racks",
                }
            )
    return rows
