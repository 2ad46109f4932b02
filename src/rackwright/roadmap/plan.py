"""Plan a roadmap: solve the MILP, diagnose an unreachable goal, and summarise the schedule by quarter.

When the goal is reachable, the plan is the optimum of the goal's objective and the
binding constraints are the rows with a shadow price in its LP relaxation (see
:func:`binding_rows`). When it is not, two more
solves tell why and how far the programme gets: the elastic programme (:mod:`.milp`)
gives each short constraint and its shortfall, and the *reach* programme (maximise IT
power deployed, every constraint kept) gives the schedule that is reported.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..report.present import shortfall_text
from ..units import parse_quantity
from .inputs import RackFigures, SiteFigures, rack_figures, site_terms
from .milp import (
    DEFAULT_GAP,
    FAMILIES,
    Solution,
    Structure,
    build_structure,
    make_highs,
    objective,
    parse_goal_mw,
    programme,
    row_bounds,
    solve,
)
from .schema import LoadedRoadmap, Roadmap
from .timeline import build_timeline


@dataclass
class PlanResult:
    structure: Structure
    schedule: Solution  # the plan (feasible) or the reach programme's schedule (infeasible)
    feasible: bool
    binding: list[dict]
    solve_time_s: float


def prepare(loaded: LoadedRoadmap, figures: RackFigures | None = None) -> Structure:
    """Rack figures (evaluated designs), the timeline and the programme's structure."""
    figures = figures or rack_figures(loaded)
    if loaded.roadmap.goal.objective == "delivered-training-compute" and not figures.delivered_flops.any():
        raise loaded.error(
            f"no generation delivers anything on {figures.delivered_on}: the delivered objective has nothing to "
            "maximise",
            ("goal", "objective"),
            "use training-compute (peak), or generations the reference job runs on (rackwright evaluate DESIGN "
            "shows each design's delivery figures)",
        )
    timeline = build_timeline(loaded.roadmap, site_terms(figures, loaded.roadmap).facility_per_it)
    return build_structure(loaded.roadmap, figures, timeline)


def plan(loaded: LoadedRoadmap, figures: RackFigures | None = None, mip_gap: float = DEFAULT_GAP) -> PlanResult:
    """Solve the roadmap; when infeasible, diagnose with slacks and report the best reachable schedule."""
    st = prepare(loaded, figures)
    first = solve(st, mode="plan", mip_gap=mip_gap)
    if first.optimal:
        return PlanResult(st, first, True, binding_rows(st), first.seconds)
    if first.status not in (
        "Infeasible",
        "Primal infeasible or unbounded",
    ):  # e.g. the time limit with no plan found: not a proof of infeasibility
        return PlanResult(
            st,
            first,
            False,
            [
                {
                    "family": "solver",
                    "name": "HiGHS",
                    "quarter": None,
                    "shortfall": None,
                    "unit": "",
                    "message": f"no plan found: HiGHS stopped with {first.status!r}",
                }
            ],
            first.seconds,
        )
    elastic = solve(st, mode="elastic", mip_gap=mip_gap)
    reach = solve(st, mode="reach", mip_gap=mip_gap)
    return PlanResult(st, reach, False, shortfalls(st, elastic), first.seconds + elastic.seconds + reach.seconds)


def _entity_names(st: Structure, family: str) -> list[str]:
    r = st.roadmap
    if family == "site":
        return [s.id for s in r.sites]
    if family == "factory":
        return [f.id for f in r.factories]
    if family == "ramp":
        return [f"{r.generations[g].id} at {r.factories[f].id}" for g, f in zip(st.pair_g, st.pair_f, strict=True)]
    return [s.id for s in r.supply]


def _unit(st: Structure, family: str, entity: int) -> str:
    return st.roadmap.supply[entity].unit if family == "supply" else st.families[family].unit


_WHAT = {"site": "site {} power", "factory": "factory {} line time", "ramp": "ramp of {}", "supply": "supply of {}"}


def shortfalls(st: Structure, elastic: Solution) -> list[dict]:
    """Non-zero slacks of the elastic programme: ``{family, name, quarter, shortfall, unit, message}``."""
    found = []
    if elastic.slack is None or not elastic.optimal:
        return [
            {
                "family": "goal",
                "name": "goal",
                "quarter": st.timeline.quarters[-1],
                "shortfall": None,
                "unit": "",
                "message": f"no combination of extra capacity meets the goal (elastic programme: {elastic.status})",
            }
        ]
    tolerance = 1e-6 * max(1.0, float(elastic.slack.max(initial=0.0)))
    for family in FAMILIES:
        fam = st.families[family]
        names = _entity_names(st, family)
        slack = elastic.slack[fam.rows]
        for i in np.flatnonzero(slack > tolerance):
            name, q = names[fam.entity[i]], st.timeline.quarters[fam.quarter[i]]
            unit = _unit(st, family, fam.entity[i])
            amount = shortfall_text(float(slack[i]), unit)
            found.append(
                {
                    "family": family,
                    "name": name,
                    "quarter": q,
                    "shortfall": float(slack[i]),
                    "unit": unit,
                    "message": f"{q}: {_WHAT[family].format(name)} short by {amount} {unit}"
                    + (" (cumulative)" if family in ("site", "supply") else ""),
                }
            )
    return found


def binding_rows(st: Structure) -> list[dict]:
    """Constraints with a non-zero shadow price in the plan's LP relaxation, grouped by entity:
    ``{family, name, quarters, unit, shadow_price, message}`` (families site, factory, ramp, supply, goal,
    us-share).

    The shadow price (dual value) of a row is the objective gained per unit of extra capacity in the
    relaxation (racks continuous): a row binds when relaxing it would improve the plan. Rows whose
    capacity is zero (a site not yet powered, a generation not yet shipping) are left out. Integer racks
    leave crumbs of capacity unused (less than a rack per row, or the MIP gap's worth), so the MILP's own
    slack cannot tell a full site from one that only looks full.
    """
    lower, upper = row_bounds(st)
    spec = programme(st, "plan", lower, integer=False)
    h = make_highs(spec, lower, upper)
    h.run()
    dual = np.abs(np.asarray(h.getSolution().row_dual))
    binds = (dual > 1e-9 * max(1.0, dual.max(initial=0.0))) & (upper != 0)  # not: capacity not there at all
    found = []
    for family in FAMILIES:
        fam = st.families[family]
        rows = np.arange(fam.rows.start, fam.rows.stop)
        names = _entity_names(st, family)
        for entity in np.unique(fam.entity[binds[rows]]):
            mine = rows[binds[rows] & (fam.entity == entity)]
            quarters = [st.timeline.quarters[q] for q in fam.quarter[mine - fam.start]]
            name = names[entity]
            found.append(
                {
                    "family": family,
                    "name": name,
                    "quarters": quarters,
                    "unit": _unit(st, family, entity),
                    "shadow_price": float(dual[mine].max()),
                    "message": f"{_WHAT[family].format(name)} binds in {_span(quarters)}",
                }
            )
    last = [st.timeline.quarters[-1]]
    for row, family, text in (
        (st.goal_row, "goal", "the goal binds: the objective would gain from a lower goal"),
        (st.us_row, "us-share", "the minimum US share binds: US lines limit the racks built abroad"),
    ):
        if row is not None and binds[row]:
            found.append(
                {
                    "family": family,
                    "name": family,
                    "quarters": last,
                    "unit": "",
                    "shadow_price": float(dual[row]),
                    "message": text,
                }
            )
    return found


def _span(quarters: list[str]) -> str:
    if len(quarters) <= 3:
        return ", ".join(quarters)
    return f"{len(quarters)} quarters from {quarters[0]} to {quarters[-1]}"


def _by_quarter(labels, values, digits: int = 9) -> dict:
    return {q: round(float(v), digits) for q, v in zip(labels, values, strict=True)}


def plan_document(result: PlanResult) -> dict:
    """The JSON document of ``rackwright roadmap plan`` (see docs/cli-roadmap.md)."""
    st, x = result.structure, result.schedule.x
    r, fig, t = st.roadmap, st.figures, st.timeline
    Q, G = len(t.quarters), len(r.generations)
    per_q = lambda weights: np.bincount(st.col_q, weights=weights * x, minlength=Q)  # noqa: E731
    #: EFLOP/s deployed by each quarter's end, from FLOP/s per rack by generation
    eflops = lambda flops: _by_quarter(t.quarters, np.cumsum(per_q(flops[st.col_g] * st.deployed)) / 1e18, 3)  # noqa: E731
    power = st.power_mw
    by_gen = np.zeros((G, Q))
    np.add.at(by_gen, (st.col_g, st.col_q), power * x)
    rack_usd = fig.rack_usd[st.col_g] * st.built
    value = per_q(rack_usd)
    build = site_terms(fig, r).build_usd_per_mw[st.col_s]
    us_value = per_q(rack_usd * st.us_factory[st.col_f])
    bom_us = per_q(rack_usd * fig.bom_us_share[st.col_g])
    _, upper = row_bounds(st)
    fam = st.families["factory"]
    use = np.divide(
        result.schedule.row_activity[fam.rows],
        upper[fam.rows],
        out=np.zeros(len(fam.entity)),
        where=upper[fam.rows] > 0,
    )
    goal_mw = parse_goal_mw(r)
    deployed = float((power * x).sum())
    cost, maximise, unit = objective(st)
    doc = {
        "roadmap": r.name,
        "feasible": result.feasible,
        "goal": {
            "it_power_gw": goal_mw / 1e3,
            "by": str(r.goal.by),
            "objective": r.goal.objective,
            "precision": r.goal.precision,
            "min_us_share": r.goal.min_us_share,
        },
        "objective": (
            {
                "name": r.goal.objective,
                "value": round(float(cost @ x), 6),
                "unit": unit,
                "sense": "maximise" if maximise else "minimise",
            }
            if result.feasible
            else None
        ),
        "status": result.schedule.status,
        "deployed_gw": round(deployed / 1e3, 9),
        "shortfall_gw": round(max(goal_mw - deployed, 0.0) / 1e3, 9),
        "quarters": list(t.quarters),
        "gw_by_quarter": _by_quarter(t.quarters, np.cumsum(per_q(power)) / 1e3),
        "gw_by_generation": {
            g.id: _by_quarter(t.quarters, np.cumsum(by_gen[i]) / 1e3) for i, g in enumerate(r.generations)
        },
        "accelerators_by_quarter": _by_quarter(
            t.quarters, np.cumsum(per_q(fig.accelerators[st.col_g] * st.deployed)), 0
        ),
        "peak_eflops_by_quarter": eflops(fig.peak_flops),
        "delivered_eflops_by_quarter": eflops(fig.delivered_flops),
        "racks": _racks(st, x, st.col_s, [s.id for s in r.sites], "site"),
        "racks_by_factory": _racks(st, x, st.col_f, [f.id for f in r.factories], "factory"),
        "binding_constraints": result.binding,
        "capex_usd_by_quarter": _by_quarter(t.quarters, value + per_q(build * power), 0),
        "domestic_share_by_quarter": _shares(t.quarters, us_value, value),
        "bom_us_content_by_quarter": _shares(t.quarters, bom_us, value),
        "factory_utilisation": {
            f.id: _by_quarter(t.quarters, use[fam.entity == i], 4) for i, f in enumerate(r.factories)
        },
        "inputs": plan_inputs(r, fig.it_power_w, st.rate, site_terms(fig, r)),
        "solve_time_s": round(result.solve_time_s, 4),
    }
    return doc


def ramp_months(ramp: list[float]) -> int:
    """Months from first ship to full rate in the ramp model of :mod:`.timeline` (``ramp[k]`` in the k-th month
    after first ship, the last value held): the first k from which every value is the last one."""
    k = len(ramp) - 1
    while k > 0 and ramp[k - 1] == ramp[-1]:
        k -= 1
    return k


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` ``months`` calendar months later (the day clamped to the month's last)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def plan_inputs(r: Roadmap, it_power_w: np.ndarray, rate: np.ndarray, sites: SiteFigures) -> dict:
    """What the plan was given, for the report's inputs block and its Gantt: the horizon; each generation's first
    ship, full rate (:func:`ramp_months`), end of builds and rack IT power; each site's annual PUE and power steps
    (facility, and the racks' IT power it carries at the site's ``sites.facility_per_it``);
    each factory line (a generation a factory has a rate for: racks/week and its build period, from the later of
    the factory's start and first ship to the end of builds or the goal date); each supply line's lead time and
    caps."""
    by = r.goal.by
    return {
        "start": str(r.goal.start),
        "by": str(by),
        "generations": [
            {
                "generation": g.id,
                "first_ship": str(g.first_ship),
                "full_rate": str(add_months(g.first_ship, ramp_months(g.ramp))),
                "end_of_builds": None if g.end_of_builds is None else str(g.end_of_builds),
                "rack_it_power_kw": round(float(it_power_w[i]) / 1e3, 6),
            }
            for i, g in enumerate(r.generations)
        ],
        "sites": [
            {
                "site": s.id,
                "pue": round(float(pue), 6),
                "power": [
                    {
                        "from": str(p.start),
                        "facility_mw": parse_quantity(p.facility, "power") / 1e6,
                        "it_power_mw": round(parse_quantity(p.facility, "power") / 1e6 / ratio, 6),
                    }
                    for p in s.power
                ],
            }
            for s, pue, ratio in zip(r.sites, sites.pue, sites.facility_per_it, strict=True)
        ],
        "factories": [
            {
                "factory": f.id,
                "location": f.location,
                "start": str(f.start),
                "lines": [
                    {
                        "generation": g.id,
                        "racks_per_week": round(float(rate[i, j]), 6),
                        "from": str(max(f.start, g.first_ship)),
                        "to": str(min(g.end_of_builds or by, by)),
                    }
                    for i, g in enumerate(r.generations)
                    if rate[i, j] > 0
                ],
            }
            for j, f in enumerate(r.factories)
        ],
        "supply": [
            {
                "supply": p.id,
                "unit": p.unit,
                "ordered": str(p.ordered),
                "lead_time_weeks": round(parse_quantity(p.lead_time, "time") / (7 * 86400), 6),
                "caps": [{"from": str(c.start), "per_quarter": c.per_quarter} for c in p.caps],
            }
            for p in r.supply
        ],
    }


def _shares(quarters, part, whole) -> dict:
    return {q: (round(float(p / w), 6) if w > 0 else None) for q, p, w in zip(quarters, part, whole, strict=True)}


def _racks(st: Structure, x: np.ndarray, where: np.ndarray, names: list[str], key: str) -> list[dict]:
    """Non-zero racks by generation × (site or factory) × quarter."""
    G, Q = len(st.roadmap.generations), len(st.timeline.quarters)
    cube = np.zeros((G, len(names), Q))
    keep = where >= 0
    np.add.at(cube, (st.col_g[keep], where[keep], st.col_q[keep]), x[keep])
    return [
        {
            "generation": st.roadmap.generations[g].id,
            key: names[s],
            "quarter": st.timeline.quarters[q],
            "racks": int(round(cube[g, s, q])),
        }
        for g, s, q in zip(*np.nonzero(cube > 0.5), strict=True)
    ]
