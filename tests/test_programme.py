"""The programme (issue 23): the composition checked against the parts it composes.

Each test recomputes a programme figure through the capability's own entry point (the factory's capacity
sizing, ``perf search`` on the design file, the fleet's job and spares reports, the roadmap's document) and
compares; the tolerances are those of the rounding in the programme document.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.factory import capacity_search, first_guess, load_line, work_content
from rackwright.fleet import job_report, spares_report
from rackwright.models.reliability import HOURS_PER_YEAR
from rackwright.perf.api import search_report
from rackwright.programme import load_programme, plan_programme, reach_gw
from rackwright.programme.plan import programme_document, reference_model, roadmap_with_capacity
from rackwright.programme.whatif import programme_risk, risk_records, slipped, whatif_document
from rackwright.rack.evaluation import sound_design
from rackwright.roadmap import plan as roadmap_plan
from rackwright.roadmap.inputs import rack_figures
from rackwright.roadmap.milp import objective
from rackwright.site.planner import plan_site
from rackwright.site.schema import load_site

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "programme-small.yaml"


@pytest.fixture(scope="module")
def loaded():
    return load_programme(SMALL)


@pytest.fixture(scope="module")
def stages():
    """The stages the plan fixture's ``progress`` callback was called with, in order."""
    return []


@pytest.fixture(scope="module")
def plan(loaded, stages):
    return plan_programme(loaded, progress=stages.append)


@pytest.fixture(scope="module")
def doc(plan):
    return programme_document(plan)


def _series(doc: dict, name: str, generation: str | None = None) -> np.ndarray:
    row = next(s for s in doc["series"] if s["name"] == name and s.get("generation") == generation)
    return np.array(row["values"], dtype=float)


def _racks_by_quarter(doc: dict, generation: str, site: str | None = None) -> np.ndarray:
    """Racks of a generation deployed (at a site, or anywhere) by each quarter's end, from the roadmap's records."""
    per_quarter = np.zeros(len(doc["quarters"]))
    for row in doc["racks"]:
        if row["generation"] == generation and site in (None, row["site"]):
            per_quarter[doc["quarters"].index(row["quarter"])] += row["racks"]
    return np.cumsum(per_quarter)


def test_capacity_is_the_rate_at_which_factory_capacity_needs_exactly_the_lines_bays(loaded, plan):
    """The programme's rate / share is the most the line ships with no station above its utilisation cap:
    ``factory capacity``'s sizing (queueing first guess, then simulation) fits within the line's own bays just
    below it and needs more just above it, and the simulated line meets it."""
    factory = loaded.programme.factories[0]
    line = load_line(SMALL.parent / factory.line).line
    bays = np.array([s.servers for s in line.stations])
    for i, generation in enumerate(loaded.programme.generations):
        work = work_content(sound_design(SMALL.parent / generation.design).model)
        rate = plan.capacity[i, 0] / factory.share
        below = np.array(first_guess(line, work, rate * (1 - 1e-6), factory.line_utilisation))
        above = np.array(first_guess(line, work, rate * (1 + 1e-3), factory.line_utilisation))
        assert (below <= bays).all()
        assert (above > bays).any()
    work = work_content(loaded.racks[0].model)
    found = capacity_search(
        line, work, plan.capacity[0, 0] / factory.share * (1 - 1e-6), replications=1, seed=1,
        max_utilisation=factory.line_utilisation, max_iterations=1,
    )
    assert found.met and (np.array(found.servers) <= bays).all()


def test_capacity_scales_with_the_share(loaded, plan):
    """Racks/week per generation: share × the line's bound; a generation the factory does not build gets 0."""
    assert plan.capacity.shape == (2, 1)
    assert plan.capacity[0, 0] == pytest.approx(0.1 * 944.9949, rel=1e-5)  # GB300 NVL72 ≈ GB200 work content
    assert plan.capacity[1, 0] < plan.capacity[0, 0]  # E1: 96 accelerators, more trays and cables a rack


def test_it_power_matches_the_roadmap_document(plan, doc):
    gw = plan.roadmap_doc["gw_by_quarter"]
    assert _series(doc, "it_power") == pytest.approx([gw[q] for q in doc["quarters"]], rel=1e-6)


def _best(loaded, generation, size: int) -> tuple[float, float]:
    """``perf search``'s best tokens/s per accelerator and ``reliability job``'s goodput for the reference workload
    on ``size`` accelerators of the generation's design file (their Python APIs, as the commands call them)."""
    w = loaded.programme.workload
    design = SMALL.parent / generation.design
    rack = sound_design(design)
    best = search_report(
        w.model, str(design), racks=math.ceil(size / rack.figures["compute.accelerators"]), accelerators=size,
        global_batch=w.global_batch, seq_len=w.seq_len, precision=w.precision, top=1,
    )["best"]
    goodput = job_report(rack, size, model=w.model, storage_bandwidth=w.storage_bandwidth)["goodput"]
    return best["tokens_per_s"] / size, goodput


def test_delivered_compute_is_perf_times_goodput(loaded, doc):
    """Per generation: ``perf search`` on the design file gives the tokens/s, the fleet's job report the goodput
    of the job each site allows (the workload's, halved until it fits in the accelerators the site holds that
    quarter); the delivered tokens/s of each quarter is Σ_sites accelerators × tokens/s × goodput at that size."""
    w = loaded.programme.workload
    expected = np.zeros(len(doc["quarters"]))
    for generation in loaded.programme.generations:
        per_rack = sound_design(SMALL.parent / generation.design).figures["compute.accelerators"]
        tokens, goodput = _best(loaded, generation, w.accelerators)
        mine = next(g for g in doc["generations"] if g["id"] == generation.id)
        assert mine["tokens_per_s_per_accelerator"] == pytest.approx(tokens, rel=1e-6)
        assert mine["goodput"] == pytest.approx(goodput, rel=1e-5)
        by_generation = np.zeros(len(doc["quarters"]))
        for site in loaded.programme.sites:
            for k, held in enumerate(_racks_by_quarter(doc, generation.id, site.id) * per_rack):
                size = w.accelerators
                while size > held and size % 2 == 0:
                    size //= 2
                if 0 < size <= held:
                    rate, good = (tokens, goodput) if size == w.accelerators else _best(loaded, generation, size)
                    by_generation[k] += held * rate * good
        assert _series(doc, "delivered_training_tokens", generation.id) == pytest.approx(by_generation, rel=1e-6)
        expected += by_generation
    assert _series(doc, "delivered_training_tokens") == pytest.approx(expected, rel=1e-6)
    assert 0 < expected[-1]


def test_a_site_holding_less_than_the_job_runs_it_halved_to_fit(loaded, plan):
    """A site runs the reference job (1,152 accelerators) halved until it fits in what it holds of the generation:
    3 GB300 racks (216 accelerators) run it on 144 (216 itself cannot split the global batch of 1,152 evenly), one
    E1 rack (96) on 72, a site holding the whole job runs the workload's and one holding none delivers nothing.
    Each site's delivered tokens/s = accelerators held × ``perf search``'s tokens/s per accelerator at that size ×
    ``reliability job``'s goodput at that size."""
    from dataclasses import replace

    from rackwright.programme.plan import series, site_jobs, site_rates, site_spares

    deployed = np.zeros_like(plan.deployed)
    deployed[0, 0, :] = 3
    deployed[0, 1, :] = 100  # 7,200 accelerators: the whole job of 1,152
    deployed[1, 0, 2:] = 1
    jobs, spares = site_jobs(loaded, deployed, plan.training), site_spares(loaded, deployed)
    mine = replace(plan, deployed=deployed, jobs=jobs, spares=spares)
    tokens, _, goodput = site_rates(mine)
    generations = loaded.programme.generations
    by_hand = {(g, s): _best(loaded, generations[g], size) for g, s, size in ((0, 0, 144), (0, 1, 1152), (1, 0, 72))}
    for (g, s), (rate, good) in by_hand.items():
        assert tokens[g, s, -1] == pytest.approx(rate, rel=1e-9) and goodput[g, s, -1] == pytest.approx(good, rel=1e-9)
    assert goodput[0, 0, -1] > goodput[0, 1, -1]  # a smaller job is interrupted less often
    assert not tokens[1, 0, :2].any() and not tokens[1, 1].any() and not goodput[1, 1].any()
    rows = [row for row in series(mine) if row["name"] == "delivered_training_tokens"]
    delivered = {row.get("generation"): row["values"] for row in rows}
    gb300 = 216 * np.prod(by_hand[(0, 0)]) + 7200 * np.prod(by_hand[(0, 1)])
    assert delivered["gb300"][-1] == pytest.approx(gb300, rel=1e-6)
    assert delivered["e1"][-1] == pytest.approx(96 * np.prod(by_hand[(1, 0)]), abs=0.5)  # whole tokens/s
    assert delivered[None][-1] == pytest.approx(gb300 + 96 * np.prod(by_hand[(1, 0)]), rel=1e-6)


def test_a_job_that_cannot_run_at_a_sites_size_delivers_nothing_and_says_why(loaded, plan):
    """Where the reference job finds no configuration at a site's size, the site delivers 0 from that generation
    and the document says why (``site_jobs``)."""
    from dataclasses import replace

    from rackwright.programme.plan import site_job_task, site_jobs, site_rates, site_spares

    reason = site_job_task((loaded, reference_model(loaded), loaded.racks[0], 9))
    assert isinstance(reason, str) and "9 accelerators" in reason
    deployed = np.zeros_like(plan.deployed)
    deployed[0, 0, :] = 3
    jobs = {**site_jobs(loaded, deployed, plan.training), (0, 144): reason}
    mine = replace(plan, deployed=deployed, jobs=jobs, spares=site_spares(loaded, deployed))
    assert not site_rates(mine)[0].any()
    row = next(r for r in programme_document(mine)["site_jobs"] if r["accelerators"] == 144)
    assert row == {"generation": "gb300", "accelerators": 144, "runs": False, "reason": reason}


@pytest.mark.parametrize(
    ("fits", "times", "best"),
    [
        ([1, 1, 1, 1], [3.0, 1.0, 2.0, 1.0], 1),  # equal times: the first
        ([1, 0, 1, 1], [3.0, 0.5, 2.0, 2.0], 2),  # the fastest does not fit
        ([1, 1, 1], [np.nan, 4.0, np.nan], 1),  # NaN after any number
        ([1, 1, 1], [np.inf, np.nan, -np.inf], 2),
        ([0, 1, 1], [1.0, np.nan, np.nan], 1),  # every fitting time NaN: the first fitting
        ([0, 0], [1.0, 2.0], None),  # none fits
    ],
)
def test_fastest_is_the_first_of_the_search_order(fits, times, best):
    """The configuration the programme takes is the first of ``perf search``'s order (fitting, fastest first, a
    stable sort with NaN last), found without sorting: by hand on small results."""
    from rackwright.perf.search import SearchResult
    from rackwright.programme.plan import fastest

    found = SearchResult({}, {"fits": np.array(fits, bool), "step_time_s": np.array(times)}, len(fits), 0.0)
    assert fastest(found) == best
    assert best is None or found.order()[0] == best


@settings(max_examples=50, deadline=None)
@given(job=st.integers(1, 20000), held=st.integers(0, 40000))
def test_a_sites_job_size_is_the_largest_halving_of_the_job_it_holds(job, held):
    from rackwright.programme.plan import site_job_size

    size = site_job_size(job, held)
    halvings = [job // 2**k for k in range(16) if job % 2**k == 0]
    assert size == max([n for n in halvings if n <= held], default=0)


def test_failures_are_the_fleet_models_for_the_racks_deployed(loaded, doc):
    """At the goal date, the fleet's part failures per year equal the spares report's for the racks deployed."""
    total = 0.0
    for generation, rack in zip(loaded.programme.generations, loaded.racks, strict=True):
        racks = int(_racks_by_quarter(doc, generation.id)[-1])
        report = spares_report(rack, racks, 5.0)
        total += sum(row["failures_per_year"] for row in report["parts"])
    assert _series(doc, "failures")[-1] == pytest.approx(total, rel=1e-4)


def test_spares_per_site_are_the_fleet_models(loaded, doc):
    """Each site's spares for a generation are the spares report for the racks the roadmap put there."""
    rows = {(r["site"], r["generation"]): r for r in doc["spares"]}
    assert {("abilene", "gb300"), ("milam", "e1")} <= set(rows)  # milam hosts e1 only
    for (site, generation), row in rows.items():
        racks = int(_racks_by_quarter(doc, generation, site)[-1])
        rack = loaded.racks[[g.id for g in loaded.programme.generations].index(generation)]
        report = spares_report(rack, racks, 5.0, 0.999)
        assert row["racks"] == racks
        assert row["spares_cost_usd"] == pytest.approx(report["total_spares_cost_usd"], abs=0.5)
        assert row["hot_spare_accelerators"] == report["hot_spare_accelerators"] > 0
    total = next(h["value"] for h in doc["headline"] if h["name"] == "spares_cost_by_goal_date")
    assert total == sum(r["spares_cost_usd"] for r in rows.values()) > 0


def _site_series(doc: dict, name: str, site: str) -> np.ndarray:
    row = next(s for s in doc["series"] if s["name"] == name and s.get("site") == site)
    return np.array(row["values"], dtype=float)


def test_spares_by_quarter_are_the_fleet_models_for_each_sites_racks(loaded, doc):
    """Each site's spares in each quarter are the spares reports (Σ over the generations it holds) for the racks
    the roadmap put there by that quarter's end; a quarter whose fleet is that of the quarter before has the same
    spares, the last quarter's are the goal-date records', and the programme's series is the sites' sum."""
    ids = [g.id for g in loaded.programme.generations]
    total, unchanged = np.zeros(len(doc["quarters"])), 0
    for site in loaded.programme.sites:
        held = np.array([_racks_by_quarter(doc, g, site.id) for g in ids])  # (G, Q)
        parts, cost = (np.zeros(len(doc["quarters"])) for _ in range(2))
        for g, q in zip(*np.nonzero(held), strict=True):
            report = spares_report(loaded.racks[g], int(held[g, q]), 5.0, 0.999)
            parts[q] += sum(row["spares"] for row in report["parts"])
            cost[q] += report["total_spares_cost_usd"]
        assert _site_series(doc, "site_spare_parts", site.id) == pytest.approx(parts)
        assert _site_series(doc, "site_spares_cost", site.id) == pytest.approx(cost, abs=0.5 * len(ids))
        same = np.flatnonzero((held[:, 1:] == held[:, :-1]).all(axis=0) & held[:, 1:].any(axis=0)) + 1
        unchanged += same.size
        for q in same:
            assert _site_series(doc, "site_spares_cost", site.id)[q - 1 : q + 1] == pytest.approx([cost[q]] * 2)
        goal = [r for r in doc["spares"] if r["site"] == site.id]
        assert _site_series(doc, "site_spares_cost", site.id)[-1] == sum(r["spares_cost_usd"] for r in goal)
        total += cost
    assert unchanged  # abilene's fleet stops growing in the pilot's last quarters
    assert _series(doc, "spares_cost") == pytest.approx(total, abs=0.5 * len(ids) * len(loaded.programme.sites))
    headline = next(h["value"] for h in doc["headline"] if h["name"] == "spares_cost_by_goal_date")
    assert headline == _series(doc, "spares_cost")[-1]


def test_spares_reports_are_reused_where_the_fleet_does_not_change(loaded, plan):
    """One spares report per generation and rack count a site holds in some quarter, not one per quarter."""
    counts = np.round(plan.deployed).astype(int)
    held = {(g, counts[g, s, q]) for g, s, q in zip(*np.nonzero(counts), strict=True)}
    assert len(plan.spares) == len(held) < np.count_nonzero(counts)


@pytest.fixture(scope="module")
def abilene_steps(loaded, doc):
    """Abilene's site plan at each of its power steps, by hand: ``site plan`` of site-100mw.yaml with the racks the
    roadmap deploys there by the step's last quarter (200 MW from 2026-07-01: 2026Q3-Q4; 500 MW from 2027-01-01:
    2027Q1 to the goal date), as (first quarter, last quarter, summary)."""
    quarters = doc["quarters"]
    steps = []
    for first, last in (("2026Q3", "2026Q4"), ("2027Q1", quarters[-1])):
        q = quarters.index(last)
        racks = {g.id: int(_racks_by_quarter(doc, g.id, "abilene")[q]) for g in loaded.programme.generations}
        target = {"generations": [{"design": g.design, "racks": racks[g.id]} for g in loaded.programme.generations
                                  if racks[g.id]]}
        site = load_site(SMALL.parent / "site-100mw.yaml", overrides={"target": target})
        steps.append((quarters.index(first), q, plan_site(site).summary()))
    return steps


def test_energy_opex_by_hand(loaded, doc, abilene_steps):
    """Yearly energy bill at each quarter's end: Σ_sites IT power × PUE × 8,766 h × price, with Abilene (which names
    a site file) at the annual PUE of its site plan for the power step in force that quarter, and Milam (no site
    file) at the programme file's PUE."""
    p = loaded.programme
    pue = {site.id: np.full(len(doc["quarters"]), site.pue) for site in p.sites}
    for first, last, summary in abilene_steps:
        pue["abilene"][first : last + 1] = summary["pue"]
    assert {s["site"]: (s["pue_basis"], s["capex_basis"]) for s in doc["inputs"]["sites"]} == {
        "abilene": ("site plan", "site plan"),
        "milam": ("programme file", "programme file"),
    }
    bill = np.zeros(len(doc["quarters"]))
    for site in p.sites:
        for generation, rack in zip(p.generations, loaded.racks, strict=True):
            it_w = _racks_by_quarter(doc, generation.id, site.id) * rack.figures["power.input"]
            bill += it_w * pue[site.id] * HOURS_PER_YEAR / 1e6 * site.energy_usd_per_mwh
    assert _series(doc, "energy_opex") == pytest.approx(bill, rel=1e-6)
    assert abilene_steps[0][2]["pue"] != abilene_steps[1][2]["pue"] != 1.10  # the plans' PUEs, not the typed one
    # the small example: ~0.81 GW of IT at PUE ~1.1 and $55/MWh is about $0.43 B a year
    assert 0.3e9 < bill[-1] < 0.6e9


def test_capex_is_racks_plus_site_plans_as_their_racks_arrive_or_build_cost_per_mw(loaded, doc, abilene_steps):
    """Capex by quarter: the racks' BOM cost as built (deployed in the quarter they are built) + at Abilene (it names
    a site file) its site plans' capex beyond the racks (network, cabling, power, cooling, building), each power
    step's spent as its racks arrive: in each quarter of the step its capex × the share of the step's racks at
    Abilene then (at most 1), less what was spent before, + at Milam (no site file) its $11.7 M per MW of IT
    deployed. (The roadmap's own per-MW figure at Abilene, its reference plan's, is replaced, so it does not
    appear.)"""
    quarters = doc["quarters"]
    racks_usd, milam_mw = np.zeros(len(quarters)), np.zeros(len(quarters))
    for generation, rack in zip(loaded.programme.generations, loaded.racks, strict=True):
        racks_usd += np.diff(_racks_by_quarter(doc, generation.id), prepend=0.0) * rack.figures["cost.bom"]
        milam = np.diff(_racks_by_quarter(doc, generation.id, "milam"), prepend=0.0)
        milam_mw += milam * rack.figures["power.input"] / 1e6
    abilene = sum(_racks_by_quarter(doc, g.id, "abilene") for g in loaded.programme.generations)
    spent = np.zeros(len(quarters))
    for first, last, summary in abilene_steps:
        capex = summary["capex_usd"]
        assert capex["it_racks"] > 0 and capex["building"] > 0  # the racks are left out: the roadmap counts them
        built = capex["network"] + capex["cabling"] + capex["power"] + capex["cooling"] + capex["building"]
        for q in range(first, last + 1):
            spent[q] = max(spent[q - 1] if q else 0.0, built * min(1.0, abilene[q] / abilene[last]))
    site_build = np.diff(spent, prepend=0.0)
    expected = racks_usd + 11.7e6 * milam_mw + site_build
    assert _series(doc, "capex") == pytest.approx(expected, rel=1e-6, abs=1.0)
    assert _series(doc, "capex_cumulative")[-1] == pytest.approx(expected.sum(), rel=1e-6)
    # 2026Q3: part of step 0's racks are there, so part of its build is spent, not all of it in 2026Q4
    assert 0 < site_build[0] < spent[abilene_steps[0][1]] and milam_mw.sum() > 0


def test_a_sites_cables_are_site_plans_for_the_racks_sent_there(loaded, doc):
    """The programme's site plan of Abilene equals ``site plan`` of the same site file with the racks the roadmap
    deploys there by the goal date as its target (given with --set target=...)."""
    racks = {g.id: int(_racks_by_quarter(doc, g.id, "abilene")[-1]) for g in loaded.programme.generations}
    target = {"generations": [{"design": g.design, "racks": racks[g.id]} for g in loaded.programme.generations
                              if racks[g.id]]}
    summary = plan_site(load_site(SMALL.parent / "site-100mw.yaml", overrides={"target": target})).summary()
    mine = next(s for s in doc["sites"] if s["site"] == "abilene")
    assert mine["racks"] == summary["racks"] and sum(summary["racks"].values()) == sum(racks.values()) > 0
    assert mine["links"] == summary["links"] and mine["switches"] == summary["switches"]
    assert mine["pue"] == summary["pue"]


def test_first_ship_is_checked_against_sourcing_build_date(loaded, doc):
    """Each generation's earliest first rack is ``rackwright sourcing build-date`` for its design and order date;
    GB300 ordered 52 weeks before its first ship misses it by the 14 days of integration and test."""
    for row in doc["first_ship_check"]:
        design = SMALL.parent / next(g.design for g in loaded.programme.generations if g.id == row["generation"])
        result = CliRunner().invoke(
            app, ["sourcing", "build-date", str(design), "--order-date", row["ordered"], "--json"]
        )
        assert result.exit_code == 0, result.output
        assert row["earliest_first_rack"] == json.loads(result.output)["first_rack_date"]
    gb300 = next(r for r in doc["first_ship_check"] if r["generation"] == "gb300")
    assert gb300["earliest_first_rack"] == "2026-07-14" and not gb300["supported"] and gb300["slack_days"] == -13


def test_document_is_records_with_units(doc):
    assert {"name", "unit", "values"} <= set(doc["series"][0])
    assert all(len(s["values"]) == len(doc["quarters"]) for s in doc["series"])
    assert all(s["unit"] for s in doc["series"]) and all(h["unit"] for h in doc["headline"])
    json.dumps(doc, allow_nan=False)
    gantt = {(r["kind"], r["name"]): (r["from"], r["to"]) for r in doc["timeline"]}
    assert gantt[("generation", "e1")] == ("2026-10-01", "2027-12-31")  # no end of builds: to the goal date
    assert gantt[("site", "milam")] == ("2027-01-01", "2027-12-31") and ("factory", "houston") in gantt


def test_plan_table_shows_each_figure_as_report_present_formats_it(doc):
    """``programme plan``'s quarter table takes its headings and formats from report.present, as the roadmap's and
    every other command's tables do: money in whole USD with separators, shares in per cent to one decimal."""
    import io

    from rich.console import Console

    from rackwright.cli.programme import QUARTER_COLUMNS, _tables

    console = Console(width=300, record=True, file=io.StringIO())
    console.print(_tables(doc)[0])
    text = console.export_text()
    for heading in ("IT power (GW)", "Delivered training compute (EFLOP/s)", "Integrated in US factories (%)",
                    "Capex (USD)", "Energy cost per year (USD)", "Part failures per year", "Accelerators"):
        assert heading in text, heading
    assert len(QUARTER_COLUMNS) == 7
    first = next(line for line in text.splitlines() if "2026Q3" in line)
    assert f"{_series(doc, 'capex')[0]:,.0f}" in first and f"{_series(doc, 'energy_opex')[0]:,.0f}" in first
    assert f"{100 * _series(doc, 'us_integrated_share')[0]:.1f}%" in first
    assert f"{_series(doc, 'accelerators')[0]:,.0f}" in first


def test_the_dashboard_opens_with_its_headline_inputs_and_assumptions(loaded, doc):
    """Under the title: the headline numbers as report.present shows them, then the programme file, each generation
    with its design file, each factory's line file, share and shifts (from the line file), each site and its plan
    file, the workload (model, precision, job size), the goal, and whether a Monte Carlo ran (samples and seed)."""
    from rackwright.factory import load_line
    from rackwright.programme.report import dashboard

    title = dashboard(doc).layout.title.text
    head = {h["name"]: h["value"] for h in doc["headline"]}
    assert f"IT power by the goal date: {head['it_power_by_goal_date']:.3f} GW" in title
    assert f"Capex, cumulative: {head['capex']:,.0f} USD" in title
    p = loaded.programme
    assert "Programme file: " in title and "programme-small.yaml" in title
    for g in p.generations:
        assert f"{g.id} ({g.design}, first ship {g.first_ship})" in title
    for f in p.factories:
        calendar = load_line(SMALL.parent / f.line).line.calendar
        shifts = f"{calendar.shifts_per_day} shifts of {calendar.hours_per_shift}, {calendar.days_per_week} days a week"
        assert f"{f.id}: {f.share:g} of {f.line} ({shifts}" in title
    assert "abilene (site-100mw.yaml)" in title and "milam (no site plan)" in title
    w = p.workload
    assert f"{w.model} in {w.precision} on {w.accelerators:,} accelerators" in title
    assert f"Goal: {doc['goal']['it_power_gw']:g} GW by {doc['goal']['by']}; no Monte Carlo run" in title
    assert doc["inputs"]["file"] == loaded.file


def test_cli_writes_the_json_and_the_dashboard(tmp_path):
    argv = ["programme", "plan", str(SMALL), "-o", str(tmp_path / "p"), "--json", "--samples", "3", "--seed", "1",
            "--site-reports"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "p" / "programme.json").read_text())
    assert doc["feasible"] and doc["quarters"][0] == "2026Q3"
    # no risk section in the small example: every sample reaches what the plan reaches, past the goal
    assert next(h["value"] for h in doc["headline"] if h["name"] == "p_goal") == 1.0
    page = (tmp_path / "p" / "report.html").read_text()
    assert "plotly" in page and "delivered" in page.lower() and "P(goal) 100%" in page
    assert "P(goal) over 3 samples, seed 1" in page  # the dashboard names the Monte Carlo's samples and seed
    assert not (tmp_path / "p" / "sites" / "milam").exists()  # names no site file
    for site in ("abilene",):
        summary = json.loads((tmp_path / "p" / "sites" / site / "summary.json").read_text())
        racks = next(s["racks"] for s in doc["sites"] if s["site"] == site)  # by generation
        assert summary["generations"] == [{"generation": g, "racks": n} for g, n in racks.items()]
        assert (tmp_path / "p" / "sites" / site / "cables.parquet").stat().st_size > 0
        site_page = (tmp_path / "p" / "sites" / site / "report.html").read_text()  # --site-reports
        assert "plotly" in site_page and f"{sum(racks.values()):,}" in site_page
    # every power step's cables: one Parquet dataset per site, partitioned by step (Hive), read with pandas
    cables = pd.read_parquet(tmp_path / "p" / "sites" / "abilene" / "cables")
    steps = {s["power_step"]: sum(s["links"].values()) for s in doc["site_steps"] if s["site"] == "abilene"}
    assert len(steps) == 2 and cables.groupby("step", observed=True).size().to_dict() == steps


def test_each_chart_of_the_dashboard_has_its_own_legend_beside_it(doc):
    from rackwright.programme.report import LEGENDS, dashboard

    figure = dashboard(doc)
    for k, title in enumerate(LEGENDS, start=1):
        name = "legend" if k == 1 else f"legend{k}"
        axis = figure.get_subplot(k, 1).yaxis
        traces = [t for t in figure.data if getattr(t, "yaxis", None) == "y" + axis.plotly_name[5:]]
        assert traces and {t.legend or "legend" for t in traces} == {name}, title  # no trace in another's list
        legend = figure.layout[name]
        assert legend.title.text == title and axis.domain[0] < legend.y <= axis.domain[1] and legend.x > 1
    names = {t.name for t in figure.data if t.type != "table" and (t.legend or "legend") == "legend"}
    assert names == {"gb300", "e1", f"goal {doc['goal']['it_power_gw']:g} GW by {doc['goal']['by']}"}


def test_every_axis_of_the_dashboard_has_a_title(doc):
    from rackwright.programme.report import dashboard

    layout = json.loads(dashboard(doc).to_json())["layout"]
    axes = {key: axis for key, axis in layout.items() if key.startswith(("xaxis", "yaxis"))}
    # eight charts (spares by site since 5c1e1d4, the site plant since the issue 23 audit), an x and a y axis each
    assert len(axes) == 16  # (tables have none)
    assert all(axis.get("title", {}).get("text", "").strip() for axis in axes.values()), sorted(axes)


def test_plan_reports_each_stage_once_in_order(plan, stages):
    from rackwright.programme.plan import STAGES

    assert stages == list(STAGES)


def test_us_content_and_optics_headline_by_hand(plan, doc):
    """US content of the racks built by the goal date: Σ racks × rack value × BOM US share / Σ racks × rack value
    over the roadmap's rack records; the optics are the site plans' transceivers in the last quarter."""
    figures = plan.result.structure.figures
    ids = [g["id"] for g in doc["generations"]]
    racks = np.zeros(len(ids))
    for row in doc["racks"]:
        racks[ids.index(row["generation"])] += row["racks"]
    value = racks * figures.rack_usd
    headline = {h["name"]: h["value"] for h in doc["headline"]}
    share = float(value @ figures.bom_us_share / value.sum())
    assert headline["us_content_share_by_goal_date"] == pytest.approx(share, abs=1e-6)
    assert 0 < share < 1
    assert headline["site_transceivers_by_goal_date"] == _series(doc, "site_transceivers")[-1] > 0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["gb300", "e1"]), weeks=st.integers(min_value=1, max_value=60))
def test_a_slipped_first_ship_never_adds_gw_by_the_goal_date(loaded, which, weeks):
    """What-if: slipping one generation's first ship only removes schedules, so the most IT power reachable by the
    goal date (the roadmap's reach programme, solved to a 0.1 % gap) cannot grow."""
    base = reach_gw(loaded)
    assert reach_gw(slipped(loaded, which, weeks * 7)) <= base * (1 + 1e-3)


def test_whatif_slipping_e1_moves_every_headline_down(doc):
    """Slipping E1 by two quarters misses the goal: less IT power, compute, racks and cost by the goal date."""
    overrides = {"generations.e1.first_ship": "2027-04-01"}
    changed = programme_document(plan_programme(load_programme(SMALL, overrides)))
    rows = {r["name"]: r for r in whatif_document(doc, changed, overrides)["headline"]}
    assert rows["goal_met"]["base"] == "2027Q4" and rows["goal_met"]["whatif"] is None
    for name in ("it_power_by_goal_date", "delivered_training_compute_by_goal_date", "accelerators_by_goal_date",
                 "failures_by_goal_date", "capex"):
        assert rows[name]["change"] < 0, name
    assert rows["site_plan_links"]["base"] > 0 and rows["site_plan_links"]["whatif"] > 0  # Abilene, planned both times
    assert changed["generations"][1]["first_ship"] == "2027-04-01"


def test_set_names_list_items_by_id(tmp_path):
    result = CliRunner().invoke(app, ["programme", "whatif", str(SMALL), "--set", "generations.e9.first_ship=2027"])
    assert result.exit_code == 2
    assert "--set generations.e9.first_ship" in result.output and "no field 'generations.e9'" in result.output


def test_risk_without_a_risk_section_is_the_reach_of_the_plan(loaded, doc):
    """The small example has no risk section: every sample is the plan's reach programme, so P10 = P90 and both are
    the reach's IT power, up to the LP relaxation (less than one rack per build and deploy variable; here < 1 %)."""
    risk_doc = risk_records(loaded, programme_risk(loaded, samples=5, seed=1))
    at_date = {row["name"]: row["value"] for row in risk_doc["by_goal_date"]}
    assert at_date["it_power_p10"] == at_date["it_power_p90"]
    assert at_date["it_power_p50"] == pytest.approx(reach_gw(loaded), rel=1e-2)
    assert risk_doc["p_goal"] == (1.0 if at_date["it_power_p50"] >= 0.8 else 0.0)
    names = [s["name"] for s in risk_doc["series"]]
    assert names == ["it_power_p10", "it_power_p50", "it_power_p90", "it_power_plan"]
    # the deterministic plan beside the fan is the programme plan's IT power (planned for delivered compute)
    assert risk_doc["series"][-1]["values"] == pytest.approx(list(_series(doc, "it_power")), abs=1e-6)
    # nothing is uncertain, so no input swings the outcome: every tornado bar has low == high
    assert all(bar["low"] == bar["high"] for bar in risk_doc["tornado"])


def test_the_roadmap_maximises_delivered_not_peak_compute(loaded, plan, doc):
    """The programme file's ``delivered-training-compute`` objective weighs each rack by what it delivers to the
    programme's reference job (accelerators × model FLOP/s × goodput), and peak stays the catalog's: measured by
    delivered compute, the programme's schedule is at least as good as the schedule the ``training-compute`` (peak)
    objective picks under the same constraints (its site power at the site plans' design peak included; up to the
    0.1 % MIP gap)."""
    st = plan.result.structure
    assert st.roadmap.goal.objective == "delivered-training-compute"
    for i, g in enumerate(doc["generations"]):
        delivered = g["accelerators_per_rack"] * g["model_tflops_per_accelerator"] * 1e12 * g["goodput"]
        assert st.figures.delivered_flops[i] == pytest.approx(delivered, rel=1e-5)
    roadmap = roadmap_with_capacity(loaded, plan.capacity)
    assert np.array_equal(st.figures.peak_flops, rack_figures(roadmap).peak_flops)  # peak is not replaced
    goal = roadmap.roadmap.goal.model_copy(update={"objective": "training-compute"})
    on_peak = roadmap.model_copy(update={"roadmap": roadmap.roadmap.model_copy(update={"goal": goal})})
    peak_plan = roadmap_plan(on_peak, st.figures)
    assert peak_plan.structure.n_cols == st.n_cols
    weights, maximise, _ = objective(st)
    assert maximise
    assert weights @ plan.result.schedule.x >= weights @ peak_plan.schedule.x * (1 - 1e-3)


def test_correct_site_need_option_reaches_the_plan(monkeypatch):
    """``programme plan --correct-site-need`` asks plan_programme for the corrected solve (off without the flag);
    the correction itself is tested in test_programme_supply.py."""
    import rackwright.programme as programme

    asked: list[bool] = []

    class Stop(Exception):
        pass

    def fake_plan(*args):
        asked.append(args[-1])
        raise Stop

    monkeypatch.setattr(programme, "plan_programme", fake_plan)
    for flags in ([], ["--correct-site-need"]):
        result = CliRunner().invoke(app, ["programme", "plan", str(ROOT / "examples/programme-small.yaml"), *flags])
        assert isinstance(result.exception, Stop), result.output
    assert asked == [False, True]
