"""The programme's site plans at the roadmap's power steps (issue 23): a step is in effect from the quarter that holds
its date, in the roadmap's site rows and in the programme's site plans alike (one rule,
:func:`rackwright.roadmap.timeline.step_first_quarter`), and at a site with a site file the roadmap fits the racks into
a step at the site plan's design peak (facility power / the reference plan's peak facility per W of rack IT), with the
plan's annual PUE and build capex per MW; checked by hand on the small example's Abilene."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rackwright.programme import load_programme, plan_programme
from rackwright.programme.sites import PlannedSite, Reference, binding_site_power, site_figures, step_quarters
from rackwright.roadmap.inputs import site_terms, typed_site_figures
from rackwright.roadmap.milp import objective
from rackwright.roadmap.plan import plan_document
from rackwright.roadmap.timeline import build_timeline
from rackwright.site.planner import plan_site
from rackwright.site.schema import load_site

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "programme-small.yaml"
PUE = 1.10
STEPS_MW = (200.0, 450.0)  # Abilene: 200 MW from the programme start, 450 MW from 2027-01-01 (2027Q1's first day)
OVERRIDES = {
    "sites.abilene.pue": PUE,
    "sites.abilene.power": [
        {"from": dt.date(2026, 7, 1), "facility": f"{STEPS_MW[0]:.0f} MW"},
        {"from": dt.date(2027, 1, 1), "facility": f"{STEPS_MW[1]:.0f} MW"},
    ],
}


@pytest.fixture(scope="module")
def planned():
    return plan_programme(load_programme(SMALL, OVERRIDES))


def test_a_step_dated_on_a_quarters_first_day_is_planned_from_that_quarter(planned):
    """The 450 MW step starts on 2027-01-01, so the 200 MW step runs to the end of 2026Q4 (index 1) and the 450 MW
    one from 2027Q1 (index 2) to the goal's last quarter; the roadmap's site power agrees: the racks deployed at
    Abilene by the end of 2026Q4 draw at most 200 MW / k of IT, k the site's design-peak facility per W of rack IT
    (before the step fix it counted the 450 MW step in 2026Q4 and sent 2,221 GB300 racks, 305.9 MW of IT, there)."""
    quarters = list(planned.result.structure.timeline.quarters)
    assert quarters[1:3] == ["2026Q4", "2027Q1"]
    assert step_quarters(planned.loaded, 0, quarters) == [1, len(quarters) - 1]
    k = site_terms(planned.result.structure.figures, planned.result.structure.roadmap).facility_per_it[0]
    rack_w = np.array([rack.figures["power.input"] for rack in planned.loaded.racks])
    it_mw = rack_w @ planned.deployed[:, 0, :] / 1e6  # IT deployed at Abilene by each quarter's end
    assert it_mw[1] <= STEPS_MW[0] / k * (1 + 1e-9)
    assert it_mw[-1] <= STEPS_MW[1] / k * (1 + 1e-9)
    steps = {s.step: s for s in planned.sites if s.site == "abilene"}
    assert steps[0].quarter == 1 and steps[0].racks == tuple(np.round(planned.deployed[:, 0, 1]).astype(int))


def test_each_steps_site_plan_fits_the_steps_facility_power(planned):
    """Each planned step draws no more facility power than the step gives (1 % tolerance): the roadmap bounded the
    racks by the step's MW / the reference plan's design-peak facility per W of rack IT (before: / the programme
    file's annual pue 1.10, and the plans drew 256.7 and 577.0 MW on these 200 and 450 MW steps)."""
    steps = [s for s in planned.sites if s.site == "abilene"]
    assert [s.step for s in steps] == [0, 1]
    for step in steps:
        assert step.planned.summary["facility_power_mw"] <= STEPS_MW[step.step] * 1.01


def _reference(loaded, g: int, racks: int) -> Reference:
    """A reference plan of ``racks`` racks of generation ``g`` at Abilene (site index 0) with hand-made figures."""
    capex = {"it_racks": 4.0e9, "network": 2.0e8, "cabling": 0.5e8, "power": 4.0e8, "cooling": 3.0e8, "building": 0.5e8}
    summary = {"facility_power_mw": 137.0, "pue": 1.09, "capex_usd": capex}
    return Reference(g, [0], racks, PlannedSite(summary, {}, {}, 0, 0))


def test_a_steps_it_limit_is_its_mw_over_the_plans_peak_facility_per_it_by_hand():
    """A reference plan of 1,000 racks of 100 kW (100 MW of rack IT) drawing 137 MW at its design peak, annual PUE
    1.09, $1.0 B beyond the racks (network 0.2, cabling 0.05, power 0.4, cooling 0.3, building 0.05): k = 137 / 100
    = 1.37, so Abilene's 200 MW step carries 200 / 1.37 = 145.985 MW of racks and its 450 MW step 328.467 MW; the
    energy ratio is the plan's 1.09 and the build cost $1.0 B / 100 MW = $10 M per MW. Milam (no site file) keeps the
    programme file's: 500 MW / 1.10 = 454.545 MW, PUE 1.10, $11.7 M per MW."""
    loaded = load_programme(SMALL, OVERRIDES)
    stub = SimpleNamespace(racks=[SimpleNamespace(figures={"power.input": 100e3})] * 2)
    roadmap = loaded.roadmap.roadmap
    sites = site_figures(stub, [_reference(loaded, 0, 1000)], typed_site_figures(roadmap))
    assert sites.facility_per_it == pytest.approx([1.37, 1.10])
    assert sites.pue == pytest.approx([1.09, 1.10])
    assert sites.build_usd_per_mw == pytest.approx([10.0e6, 11.7e6])
    it_w = build_timeline(roadmap, sites.facility_per_it).site_it_w
    assert it_w[0, :2] / 1e6 == pytest.approx([145.985401, 328.467153])
    assert it_w[1, 0] / 1e6 == pytest.approx(454.545455)


def test_the_largest_peak_ratio_of_a_sites_references_sets_its_figures_by_hand():
    """Two references at Abilene: GB300-like racks at 137 MW / 100 MW = 1.37 and E1-like ones at 137 MW / (800 ×
    100 kW) = 1.7125; the larger sets the site's figures (any mix then fits the step): 200 / 1.7125 = 116.788 MW,
    PUE 1.09, $1.0 B / 80 MW = $12.5 M per MW."""
    loaded = load_programme(SMALL, OVERRIDES)
    stub = SimpleNamespace(racks=[SimpleNamespace(figures={"power.input": 100e3})] * 2)
    references = [_reference(loaded, 0, 1000), _reference(loaded, 1, 800)]
    sites = site_figures(stub, references, typed_site_figures(loaded.roadmap.roadmap))
    assert sites.facility_per_it[0] == pytest.approx(1.7125)
    assert sites.build_usd_per_mw[0] == pytest.approx(12.5e6)
    assert STEPS_MW[0] / sites.facility_per_it[0] == pytest.approx(116.788321)


def _reference_plans(plan):
    """Abilene's reference plans by hand: ``site plan`` of its site file with one generation alone, as many
    accelerators as its largest step (450 MW) over the programme file's pue (1.10) holds of GB300 or E1."""
    racks = {r.figures["compute.accelerators"]: r.figures["power.input"] for r in plan.racks}
    most = max((STEPS_MW[1] * 1e6 / PUE // power) * accelerators for accelerators, power in racks.items())
    for g, generation in enumerate(plan.loaded.programme.generations):
        count = int(most // plan.racks[g].figures["compute.accelerators"])
        target = {"generations": [{"design": generation.design, "racks": count}]}
        site = plan_site(load_site(SMALL.parent / "site-100mw.yaml", overrides={"target": target}))
        yield site.summary(), count * plan.racks[g].figures["power.input"] / 1e6


def test_the_roadmap_solves_with_the_reference_plans_peak_ratio_pue_and_capex(planned):
    """The small example's Abilene: k = the larger of the two reference plans' design-peak facility MW / their racks'
    IT MW (``site plan`` of site-100mw.yaml, by hand), and the same plan's annual PUE and capex beyond the racks per
    MW of rack IT; the roadmap's site row bound is step MW / k, its inputs show that plan's PUE, its ``cost``
    objective and capex price Abilene's racks at the plan's $/MW and Milam's at the file's $11.7 M."""
    st = planned.result.structure
    figures = [
        (s["facility_power_mw"] / it, s["pue"], sum(v for c, v in s["capex_usd"].items() if c != "it_racks") / it)
        for s, it in _reference_plans(planned)
    ]
    k, pue, build = max(figures)
    terms = site_terms(st.figures, st.roadmap)
    assert terms.facility_per_it[0] == pytest.approx(k, rel=1e-3) and k > 1.3  # the summary rounds MW to 3 places
    assert terms.pue[0] == pytest.approx(pue) and terms.build_usd_per_mw[0] == pytest.approx(build, rel=1e-3)
    assert terms.pue[1] == PUE and terms.build_usd_per_mw[1] == 11.7e6
    assert st.timeline.site_it_w[0, :2] == pytest.approx(np.array(STEPS_MW) * 1e6 / terms.facility_per_it[0])
    doc = plan_document(planned.result)
    abilene = doc["inputs"]["sites"][0]
    assert abilene["pue"] == pytest.approx(pue) and abilene["power"][0]["it_power_mw"] == pytest.approx(
        STEPS_MW[0] / terms.facility_per_it[0], abs=1e-6
    )
    deploy = np.flatnonzero(st.col_s >= 0)
    per_mw = np.where(st.col_s[deploy] == 0, terms.build_usd_per_mw[0], 11.7e6)
    racks_usd = st.figures.rack_usd[st.col_g] * st.built
    cost_objective = st.roadmap.model_copy(update={"goal": st.roadmap.goal.model_copy(update={"objective": "cost"})})
    cost, _, _ = objective(replace(st, roadmap=cost_objective))
    assert cost[deploy] == pytest.approx(per_mw * st.power_mw[deploy] / 1e6)
    x = planned.result.schedule.x
    capex = racks_usd @ x + (per_mw * st.power_mw[deploy]) @ x[deploy]
    assert sum(doc["capex_usd_by_quarter"].values()) == pytest.approx(capex, abs=len(doc["quarters"]))


def test_a_steps_site_plan_over_the_steps_power_is_reported_as_binding(planned):
    """With the step fitted at its design peak, no ``site-power`` row on the planned steps; a programme whose steps
    are 1.01 % below their plans' draws (facility / 1.0101) gets one row per step in its last quarter with the excess
    (facility − step MW), one 0.99 % above none."""
    quarters = list(planned.result.structure.timeline.quarters)
    steps = sorted((s for s in planned.sites if s.site == "abilene"), key=lambda s: s.step)
    drawn = [s.planned.summary["facility_power_mw"] for s in steps]
    assert binding_site_power(planned.loaded, planned.sites, quarters) == []

    def powered(factor: float):
        power = [
            {"from": step["from"], "facility": f"{d * factor:.4f} MW"}
            for step, d in zip(OVERRIDES["sites.abilene.power"], drawn, strict=True)
        ]
        return load_programme(SMALL, {**OVERRIDES, "sites.abilene.power": power})

    rows = binding_site_power(powered(1 / 1.0101), steps, quarters)
    assert [(r["family"], r["name"], r["quarters"], r["unit"]) for r in rows] == [
        ("site-power", "abilene step 0", ["2026Q4"], "MW"),
        ("site-power", "abilene step 1", ["2027Q4"], "MW"),
    ]
    assert [r["shortfall"] for r in rows] == pytest.approx([d - d / 1.0101 for d in drawn], abs=2e-3)
    assert binding_site_power(powered(1 / 1.0099), steps, quarters) == []


def test_programme_json_lists_a_step_whose_plan_overdraws_it(planned):
    """programme.json's binding constraints carry binding_site_power's rows (family site-power), so the dashboard
    and `programme plan` show the overdrawn steps: here none, each step's plan within 1 % of its MW."""
    from rackwright.programme.plan import programme_document

    rows = [b for b in programme_document(planned)["binding_constraints"] if b["family"] == "site-power"]
    assert rows == [] == [s for s in planned.sites if s.planned.summary["facility_power_mw"] > STEPS_MW[s.step] * 1.01]
