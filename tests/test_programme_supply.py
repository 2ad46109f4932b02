"""The site plans' optics and CDUs against the programme's supply caps, and tariffs by quarter (issue 23), checked
by hand and against the sourcing model."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.programme import load_programme, plan_programme
from rackwright.programme.plan import (
    STAGES,
    PlanCache,
    factory_capacity,
    programme_document,
    roadmap_on_lines,
    roadmap_with_capacity,
)
from rackwright.programme.report import dashboard
from rackwright.programme.sites import (
    binding_site_supply,
    site_need_correction,
    site_need_error,
    site_steps,
    step_quarters,
)
from rackwright.programme.whatif import programme_risk, reach_gw
from rackwright.rack.bom import bom_lines
from rackwright.rack.sourcing import load_scenario, whatif
from rackwright.roadmap import plan_document
from rackwright.roadmap.inputs import rack_figures
from rackwright.roadmap.plan import prepare
from rackwright.roadmap.schema import quarter_end
from rackwright.site.planner import plan_site
from rackwright.site.schema import load_site

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "programme-small.yaml"
CAPS = {  # the 10 GW example's optics and CDU lines, capped low enough for the site plans to matter
    "optics": ("transceiver", "26 week", 150_000),
    "cdus": ("cdu", "39 week", 1_200),
}

TRANSFORMERS = {  # the 10 GW example's transformer line (0.4 per MW of IT), its cap high enough not to bind
    "id": "transformers",
    "per_it_mw": 0.4,
    "unit": "transformers",
    "ordered": dt.date(2024, 1, 1),
    "lead_time": "128 week",
    "caps": [{"from": dt.date(2026, 7, 1), "per_quarter": 5_000}],
    "assumption": "test cap",
}


def _capped_supply() -> list[dict]:
    """The small example's supply lines with the optics and CDU lines of :data:`CAPS`."""
    supply = YAML(typ="safe").load(SMALL.read_text(encoding="utf-8"))["supply"]
    return (
        supply
        + [
            {
                "id": name,
                "kind": kind,
                "ordered": dt.date(2026, 1, 1),
                "lead_time": lead,
                "caps": [{"from": dt.date(2026, 7, 1), "per_quarter": cap}],
                "assumption": "test caps",
            }
            for name, (kind, lead, cap) in CAPS.items()
        ]
        + [TRANSFORMERS]
    )


@pytest.fixture(scope="module")
def planned():
    plan = plan_programme(load_programme(SMALL, {"supply": _capped_supply()}))
    return plan, {row["supply"]: row for row in programme_document(plan)["site_supply_check"]}


@pytest.fixture(scope="module")
def corrected_plan(planned):
    """The capped small example planned with the one-pass correction of the site need, and the stages it
    reported."""
    stages: list[str] = []
    return plan_programme(planned[0].loaded, correct_site_need=True, progress=stages.append), stages


def _site_plan_at(plan, step):
    """``site plan`` of Abilene's site file with the racks the programme deployed there at a step as its target."""
    designs = [g.design for g in plan.loaded.programme.generations]
    target = {"generations": [{"design": d, "racks": r} for d, r in zip(designs, step.racks, strict=True) if r]}
    return plan_site(load_site(SMALL.parent / "site-100mw.yaml", overrides={"target": target}))


def _transceivers(site) -> float:
    """The transceivers of a site plan's BOM, read from its text lines (``transceiver: PART (tier N)``)."""
    bom = site.bom_frame()
    return bom.filter(pl.col("item").str.starts_with("transceiver:"))["quantity"].sum()


def test_abilene_is_planned_at_each_power_step_it_uses(planned):
    """Abilene's two power steps (from 2026-07-01 and 2027-01-01): planned for the racks deployed there by 2026Q4
    and by the goal date (2027Q4), each the roadmap's racks at that quarter."""
    plan, _ = planned
    steps = [s for s in plan.sites if s.site == "abilene"]
    quarters = plan.result.structure.timeline.quarters
    assert [(s.step, quarters[s.quarter]) for s in steps] == [(0, "2026Q4"), (1, "2027Q4")]
    for step in steps:
        assert step.racks == tuple(np.round(plan.deployed[:, 0, step.quarter]).astype(int))
    assert sum(steps[0].racks) < sum(steps[1].racks)


def _as_racks_arrive(plan, per_step: list[float]) -> np.ndarray:
    """By hand: Abilene's figure by quarter when each step's figure (``per_step``, in step order) is installed as
    its racks arrive: in each quarter of the step (2026Q3-Q4 for step 0, 2027Q1-Q4 for step 1), the step's figure
    × min(1, racks at Abilene that quarter / the step's racks), never less than the quarter before."""
    racks = np.round(plan.deployed[:, 0, :]).sum(axis=0)
    steps = [s for s in plan.sites if s.site == "abilene"]
    out, first = np.zeros(len(racks)), 0
    for step, value in zip(steps, per_step, strict=True):
        for q in range(first, step.quarter + 1):
            out[q] = max(out[q - 1] if q else 0.0, value * min(1.0, racks[q] / sum(step.racks)))
        first = step.quarter + 1
    return out


def test_site_optics_by_quarter_are_site_plans_as_the_racks_arrive(planned):
    """The programme's site transceivers in a quarter are ``site plan``'s BOM transceivers for the racks of the step
    in force × the share of that step's racks at Abilene that quarter (optics go in with the racks); at a step's
    own quarter the whole plan; switches, CDUs, links, MV/LV transformers and cooling plant likewise."""
    plan, _ = planned
    doc = programme_document(plan)
    series = {s["name"]: s["values"] for s in doc["series"] if "generation" not in s}
    steps = [s for s in plan.sites if s.site == "abilene"]
    sites = [_site_plan_at(plan, step) for step in steps]
    summaries = [site.summary() for site in sites]
    racks = np.round(plan.deployed[:, 0, :]).sum(axis=0)
    assert 0 < racks[0] < sum(steps[0].racks)  # 2026Q3: part of step 0's racks are there, so part of its optics
    expected = _as_racks_arrive(plan, [_transceivers(site) for site in sites])
    assert series["site_transceivers"] == pytest.approx(expected, abs=0.1)
    share = racks[0] / sum(steps[0].racks)
    assert series["site_transceivers"][0] == pytest.approx(_transceivers(sites[0]) * share, abs=0.1)
    for step, site, summary in zip(steps, sites, summaries, strict=True):
        switches = sum(summary["switches"].values()) * (1 + site.loaded.site.fabric.front_end_share)
        assert series["site_switches"][step.quarter] == pytest.approx(switches, abs=0.1)
        assert series["site_cdus"][step.quarter] == pytest.approx(summary["cdus"])
        assert series["site_links"][step.quarter] == pytest.approx(sum(summary["links"].values()))
    for name, read in (
        ("site_transformers", lambda m: m["transformers"]["mv_lv"]),
        ("site_heat_rejection_units", lambda m: m["heat_rejection_units"]),
        ("site_chillers", lambda m: m["chillers"]),
    ):
        assert series[name] == pytest.approx(_as_racks_arrive(plan, [read(m) for m in summaries]), abs=0.1)
    assert summaries[-1]["transformers"]["mv_lv"] > 0 and series["site_transformers"][-1] > 0
    assert np.all(np.diff(series["site_transceivers"]) >= 0)


def test_optics_spare_in_a_quarter_is_cap_less_need_by_hand(planned):
    """2026Q4 (step 0's last quarter): delivered 2 × 150,000 (ordered 2026-01-01, 26 weeks: deliveries from the
    first cap step, 2026Q3) less the racks' own transceivers (BOM lines of kind transceiver × racks built by then)
    and step 0's site plan's transceivers (all its racks are there)."""
    plan, rows = planned
    q = 1
    step = next(s for s in plan.sites if s.site == "abilene" and s.step == 0)
    assert step.quarter == q
    per_rack = [
        sum(line.quantity for line in bom_lines(rack.model, 1) if line.kind == "transceiver") for rack in plan.racks
    ]
    racks = np.round(plan.deployed[:, :, q]).sum(axis=1)
    need = float(np.dot(per_rack, racks)) + _transceivers(_site_plan_at(plan, step))
    assert rows["optics"]["margin_by_quarter"][q] == pytest.approx(2 * 150_000 - need, abs=1.0)


def test_optics_are_the_racks_and_the_site_plans_transceivers_against_the_caps(planned):
    plan, rows = planned
    optics = rows["optics"]
    # ordered 2026-01-01 with 26 weeks' lead time: deliveries from the first cap step, six quarters to the goal date
    assert optics["delivered_by_goal_date"] == pytest.approx(6 * 150_000)
    last = max((s for s in plan.sites if s.site == "abilene"), key=lambda s: s.quarter)
    transceivers = _transceivers(_site_plan_at(plan, last))
    assert optics["site_plans"] == {"abilene": pytest.approx(transceivers)}
    need = optics["racks_use"] + transceivers
    assert optics["margin"] == pytest.approx(optics["delivered_by_goal_date"] - need, abs=1e-2)
    # the roadmap plans around the site's fabric optics: the racks' and the site plans' fit under the cap, and
    # the optics line is the roadmap's own binding supply constraint (the goal is out of reach), not a shortage
    assert need <= optics["delivered_by_goal_date"] and optics["enough"] and not optics["short_quarters"]
    binding = programme_document(plan)["binding_constraints"]
    assert any(b["family"] == "supply" and b["name"] == "optics" for b in binding)
    assert not any(b["family"] == "site-supply" and b["name"] == "optics" for b in binding)
    # CDUs counted as the racks arrive carry a share of the plan's rounding up (under one CDU per generation),
    # which the linear need does not hold back: a shortfall, where the CDU row binds, is under that
    cdus = next((b for b in binding if b["family"] == "site-supply" and b["name"] == "cdus"), None)
    assert cdus is None or cdus["shortfall"] < len(plan.racks)


def test_transformers_are_the_site_plans_own_where_a_site_has_one(planned):
    """The transformer line (0.4 per MW of IT) by hand in 2027Q2: delivered 4 × 5,000 (ordered 2024-01-01, 128
    weeks: deliveries from 2026Q3); Milam (no site file) needs 0.4 × the MW of IT of its racks, Abilene its site
    plan's own MV/LV units, the step in force (step 1, 2027Q1-Q4) × the share of its racks there that quarter."""
    plan, rows = planned
    row = rows["transformers"]
    assert row["kind"] == "transformer"
    q = 3
    power_w = np.array([rack.figures["power.input"] for rack in plan.racks])
    milam = 0.4 * float(power_w @ plan.deployed[:, 1, q]) / 1e6
    step = next(s for s in plan.sites if s.site == "abilene" and s.step == 1)
    units = _site_plan_at(plan, step).summary()["transformers"]["mv_lv"]
    abilene = max(
        units * np.round(plan.deployed[:, 0, q]).sum() / sum(step.racks),
        next(s for s in plan.sites if s.site == "abilene" and s.step == 0).planned.summary["transformers"]["mv_lv"],
    )
    assert milam > 0 and units > 0
    assert row["margin_by_quarter"][q] == pytest.approx(4 * 5_000 - milam - abilene, abs=1e-2)
    assert row["site_plans"] == {"abilene": pytest.approx(units)}
    # the site plan's own count, not 0.4 per MW: site-100mw.yaml's units per MW of the racks' IT power
    abilene_mw = float(power_w @ plan.deployed[:, 0, -1]) / 1e6
    assert units / abilene_mw != pytest.approx(0.4, rel=0.05)


def test_dashboard_charts_the_transformer_and_cdu_lines_beside_the_site_plant(planned):
    """The dashboard's site plant chart carries, for the transformer and CDU lines, their deliveries by quarter
    (transformers by hand: 5,000 a quarter from 2026Q3, cumulative) and the need of the racks and site plans
    (delivered less the check's margin), as programme.json's site_supply_check holds them; not the optics line."""
    from rackwright.programme.report import LEGENDS

    plan, rows = planned
    doc = programme_document(plan)
    figure = dashboard(doc)
    axis = figure.get_subplot(LEGENDS.index("site plant") + 1, 1).yaxis
    traces = {t.name: t for t in figure.data if getattr(t, "yaxis", None) == "y" + axis.plotly_name[5:]}
    assert rows["transformers"]["delivered_by_quarter"] == [5_000.0 * (q + 1) for q in range(len(doc["quarters"]))]
    for line in ("transformers", "cdus"):
        row = rows[line]
        assert list(traces[f"{line} delivered"].y) == row["delivered_by_quarter"]
        need = [d - m for d, m in zip(row["delivered_by_quarter"], row["margin_by_quarter"], strict=True)]
        assert list(traces[f"{line} needed"].y) == pytest.approx(need)
    assert "optics delivered" not in traces


def test_short_site_supply_is_reported_by_quarter_as_binding():
    """A check row with quarters short (margin below 0) is a binding constraint of family site-supply, its
    shortfall the largest deficit; rows with enough are not."""
    short = {
        "supply": "optics",
        "kind": "transceiver",
        "unit": "transceivers",
        "margin_by_quarter": [5.0, -2.5, -7.0, 1.0],
        "short_quarters": ["2027Q1", "2027Q2"],
    }
    enough = {**short, "supply": "cdus", "margin_by_quarter": [1.0] * 4, "short_quarters": []}
    (binding,) = binding_site_supply([short, enough])
    assert binding["family"] == "site-supply" and binding["name"] == "optics"
    assert binding["quarters"] == ["2027Q1", "2027Q2"] and binding["shortfall"] == 7.0


def _reference(plan, g: int = 0):
    """Abilene's reference plan for generation ``g`` (``site plan`` of its site file with that generation's racks
    alone, as many accelerators as the largest power step, 500 MW / PUE 1.1, holds of GB300 or E1) and its racks."""
    it_w = 500e6 / 1.1
    racks = {r.figures["compute.accelerators"]: r.figures["power.input"] for r in plan.racks}
    most = max((it_w // power) * accelerators for accelerators, power in racks.items())
    count = int(most // plan.racks[g].figures["compute.accelerators"])
    target = {"generations": [{"design": plan.loaded.programme.generations[g].design, "racks": count}]}
    return plan_site(load_site(SMALL.parent / "site-100mw.yaml", overrides={"target": target})), count


def test_site_need_error_is_the_reference_ratio_times_racks_against_site_plan_by_hand(planned):
    """Each of Abilene's steps (GB300 and E1): the linear optics = Σ over generations of the generation's reference
    plan's transceivers per rack × the step's racks, the planned optics = ``site plan``'s transceivers for those
    racks; the planned CDUs = the plan's whole CDUs less the racks' shares (a 1,350 kW CDU serves 8 GB300 or 5 E1
    racks), under one per generation; the linear CDUs each reference's rounding up per rack × racks."""
    plan, _ = planned
    optics_per_rack, cdus_per_rack, shares = [], [], (1 / 8, 1 / 5)
    for g in (0, 1):
        reference, count = _reference(plan, g)
        optics_per_rack.append(_transceivers(reference) / count)
        cdus_per_rack.append(max(reference.cooling["cdus"] / count - shares[g], 0.0))  # the rounding up, per rack
    rows = {(r["supply"], r["power_step"]): r for r in site_need_error(plan) if r["site"] == "abilene"}
    for step in (s for s in plan.sites if s.site == "abilene"):
        site, racks = _site_plan_at(plan, step), np.array(step.racks)
        optics, cdus = rows["optics", step.step], rows["cdus", step.step]
        assert optics["linear"] == pytest.approx(np.dot(optics_per_rack, racks), abs=1e-3)
        assert optics["planned"] == pytest.approx(_transceivers(site), abs=1e-3)
        assert optics["difference"] == pytest.approx(np.dot(optics_per_rack, racks) - _transceivers(site), abs=2e-3)
        assert cdus["planned"] == pytest.approx(site.cooling["cdus"] - np.dot(shares, racks), abs=1e-3)
        assert cdus["linear"] == pytest.approx(np.dot(cdus_per_rack, racks), abs=1e-3)
        assert 0 <= cdus["planned"] < np.count_nonzero(racks) and abs(cdus["difference"]) < np.count_nonzero(racks)


def test_the_corrected_site_need_is_the_largest_planned_to_linear_ratio_where_the_cap_binds(planned, corrected_plan):
    """With the optics and CDU caps binding, Abilene's need of each is scaled by the largest of its steps' planned /
    linear (the optics' under 1: the reference fabric is larger than its steps'), Milam's (no site file) and the
    other lines left; so no step's plan needs more than the corrected need × its racks; re-solved on it, the plan
    deploys no fewer racks by the goal date (the optics row looser, up to the 0.1 % MIP gap)."""
    plan, _ = planned
    st = plan.result.structure
    supply = [line.id for line in st.roadmap.supply]
    assert {"optics", "cdus"} <= {row["name"] for row in plan.result.binding if row["family"] == "supply"}
    need, corrected = st.figures.site_supply_per_rack, site_need_correction(plan)
    for line in ("optics", "cdus"):
        rows = [r for r in site_need_error(plan) if r["supply"] == line and r["site"] == "abilene"]
        ratio = max(r["planned"] / r["linear"] for r in rows)
        i = supply.index(line)
        assert corrected[i, :, 0] == pytest.approx(need[i, :, 0] * ratio, rel=1e-12)
        assert all(r["linear"] * ratio >= r["planned"] * (1 - 1e-9) for r in rows)
        if line == "optics":
            assert 0.5 < ratio < 1
    others = [i for i, line in enumerate(supply) if line not in ("optics", "cdus")]
    assert np.array_equal(corrected[others], need[others]) and not corrected[:, :, 1].any()
    again, stages = corrected_plan
    assert np.array_equal(again.result.structure.figures.site_supply_per_rack, corrected)
    assert stages == list(STAGES)  # the first pass's stages not reported again
    assert again.deployed[:, :, -1].sum() >= plan.deployed[:, :, -1].sum() * (1 - 1e-3)


def test_whatif_with_the_correction_is_the_corrected_plan_of_the_changed_file(planned, corrected_plan):
    """``programme whatif --set supply=… --correct-site-need`` plans the changed file with the one-pass correction:
    every headline figure of its what-if is the one of ``plan_programme(changed, correct_site_need=True)``, which
    the plan on the linear need alone does not give (the corrected solve deploys more racks)."""
    value = json.dumps(_capped_supply(), default=str)
    args = ["programme", "whatif", str(SMALL), "--set", f"supply={value}", "--correct-site-need", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    whatif = {row["name"]: row["whatif"] for row in json.loads(result.output)["headline"]}
    headline = lambda plan: {h["name"]: h["value"] for h in programme_document(plan)["headline"]}  # noqa: E731
    assert whatif == headline(corrected_plan[0])
    assert whatif["accelerators_by_goal_date"] > headline(planned[0])["accelerators_by_goal_date"]


def test_risk_with_the_correction_draws_on_the_corrected_solve(planned, corrected_plan):
    """``programme_risk(..., correct_site_need=True)`` plans the deterministic plan with the correction (its GW by
    quarter the corrected plan's) and the ``programme risk`` command passes its option to it."""
    loaded = planned[0].loaded
    doc = programme_risk(loaded, 4, 1, correct_site_need=True)
    power = programme_document(corrected_plan[0])["series"]
    gw = next(row["values"] for row in power if row["name"] == "it_power" and "generation" not in row)
    assert list(doc["plan_gw_by_quarter"].values()) == pytest.approx(gw, rel=1e-9, abs=1e-9)
    assert gw != next(
        row["values"]
        for row in programme_document(planned[0])["series"]
        if row["name"] == "it_power" and "generation" not in row
    )


def test_risk_passes_the_correct_site_need_option(monkeypatch):
    import rackwright.programme.whatif as whatif

    asked: list[bool] = []

    class Stop(Exception):
        pass

    def fake_risk(*args, **kwargs):
        asked.append(kwargs["correct_site_need"])
        raise Stop

    monkeypatch.setattr(whatif, "programme_risk", fake_risk)
    for flags in ([], ["--correct-site-need"]):
        result = CliRunner().invoke(app, ["programme", "risk", str(SMALL), "--samples", "2", *flags])
        assert isinstance(result.exception, Stop), result.output
    assert asked == [False, True]


def test_no_correction_without_a_binding_site_supply_cap(planned):
    plan, _ = planned
    others = [row for row in plan.result.binding if row["family"] != "supply"]
    assert site_need_correction(replace(plan, result=replace(plan.result, binding=others))) is None


def test_site_need_is_the_reference_plans_optics_per_rack(planned):
    """The roadmap's site term for optics at Abilene: ``site plan`` of its site file with GB300 racks alone, as
    many accelerators as the largest power step (500 MW / PUE 1.1) holds of GB300 or E1, its transceivers per
    rack; nothing at Milam (no site file) and nothing beyond the racks' own CDU share when the CDUs divide evenly."""
    plan, _ = planned
    st = plan.result.structure
    need = st.figures.site_supply_per_rack
    supply = [line.id for line in st.roadmap.supply]
    reference, gb300 = _reference(plan, 0)
    assert need[supply.index("optics"), 0, 0] == pytest.approx(_transceivers(reference) / gb300, rel=1e-9)
    assert not need[:, :, 1].any()  # milam
    assert need[supply.index("accelerators")].sum() == 0  # not a site kind
    cdus = reference.cooling["cdus"] / gb300 - 0.125  # a 1,350 kW CDU serves 8 GB300 racks
    assert need[supply.index("cdus"), 0, 0] == pytest.approx(max(cdus, 0.0), abs=1e-12)


def test_the_linear_site_need_is_within_its_stated_error_of_the_steps(planned):
    """On the small example the linear optics need (reference ratio × racks) covers each planned step's
    transceivers (the reference is the largest fabric the site can need: its steps have flatter fabrics), and the
    CDUs differ by less than one per generation (their rounding up)."""
    plan, _ = planned
    rows = site_need_error(plan)
    optics = [r for r in rows if r["supply"] == "optics"]
    assert len(optics) == len([s for s in plan.sites]) and all(r["linear"] >= r["planned"] for r in optics)
    for row in (r for r in rows if r["supply"] == "cdus"):
        assert abs(row["linear"] - row["planned"]) < len(plan.racks)


def test_site_cdus_are_whole_units_beyond_the_racks_shares(planned):
    plan, rows = planned
    cdus = rows["cdus"]
    last = max((s for s in plan.sites if s.site == "abilene"), key=lambda s: s.quarter)
    site = _site_plan_at(plan, last)
    racks = plan.deployed[:, 0, -1]
    # the designs' CDU lines: a 1,350 kW CDU serves 8 GB300 racks (0.125 each) or 5 E1 racks (0.2 each)
    shares = racks[0] * 0.125 + racks[1] * 0.2
    assert site.cooling["cdus"] >= shares - 1e-9
    assert cdus["site_plans"]["abilene"] == pytest.approx(site.cooling["cdus"] - shares, abs=1e-3)
    assert cdus["kind"] == "cdu" and cdus["delivered_by_goal_date"] > 0


def test_tariffs_by_quarter_are_sourcing_whatif_per_rack_times_racks_built():
    """With a sourcing scenario, a quarter's tariff bill is the racks built that quarter × the tariff per rack that
    ``sourcing whatif`` gives for the same design and scenario on the quarter's last day (2026Q3: GB300 only)."""
    overrides = {"sourcing.scenario": "sourcing-us-power-cabling.yaml"}
    plan = plan_programme(load_programme(SMALL, overrides))
    doc = programme_document(plan)
    bill = next(s["values"] for s in doc["series"] if s["name"] == "tariff_bill")
    st, x = plan.result.structure, np.round(plan.result.schedule.x)
    first = (st.col_f >= 0) & (st.col_q == 0)
    assert set(st.col_g[first & (x > 0)]) == {0}  # only GB300 racks are built in 2026Q3
    built = x[first].sum()
    scenario = load_scenario(SMALL.parent / "sourcing-us-power-cabling.yaml").model_copy(
        update={"date": dt.date(2026, 9, 30)}
    )
    per_rack = whatif(plan.racks[0].model, scenario)["what_if"]["tariff_usd_per_rack"]
    assert per_rack > 0 and built > 0
    site = next(s["values"] for s in doc["series"] if s["name"] == "tariff_bill_site_equipment")
    assert bill[0] - site[0] == pytest.approx(built * per_rack, rel=1e-9)
    total = next(h["value"] for h in doc["headline"] if h["name"] == "tariffs_by_goal_date")
    assert total == pytest.approx(sum(bill))
    tariffs = next(t for t in dashboard(doc).data if t.name == "tariffs")
    assert list(tariffs.y) == pytest.approx([v / 1e9 for v in bill])


def test_no_scenario_no_tariff_figures(planned):
    plan, _ = planned
    programme = plan.loaded.programme
    sourcing = programme.sourcing.model_copy(update={"scenario": None})
    loaded = plan.loaded.model_copy(update={"programme": programme.model_copy(update={"sourcing": sourcing})})
    doc = programme_document(replace(plan, loaded=loaded))
    assert next(h["value"] for h in doc["headline"] if h["name"] == "tariffs_by_goal_date") is None
    assert not any(s["name"] == "tariff_bill" for s in doc["series"])


def test_a_missing_scenario_file_exits_2_naming_the_field():
    from typer.testing import CliRunner

    from rackwright.cli.app import app

    argv = ["programme", "whatif", str(SMALL), "--set", "sourcing.scenario=nope.yaml"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert "sourcing.scenario" in result.output and "'nope.yaml'" in result.output and "relative" in result.output


def test_site_equipment_pays_the_tariffs_in_force_when_it_is_installed():
    """Tariffs on the site equipment by hand: Abilene's first step (2026Q3-Q4) installs switches made in Taiwan
    (nvidia-sn5600, networking: 20 % from 2025-08-07 in the scenario), transceivers the scenario moves to US plants
    (cabling) and US-made CDUs (vertiv-coolchip-cdu-1350) as its racks arrive: only the switches pay, 20 % of
    $60,000 each, in 2026Q3 on the share of the step's racks there then, in 2026Q4 on the rest."""
    plan = plan_programme(load_programme(SMALL, {"sourcing.scenario": "sourcing-us-power-cabling.yaml"}))
    doc = programme_document(plan)
    series = {s["name"]: s["values"] for s in doc["series"] if "generation" not in s}
    first = next(s for s in plan.sites if s.site == "abilene" and s.step == 0)
    site = _site_plan_at(plan, first)
    switches = sum(site.summary()["switches"].values()) * (1 + site.loaded.site.fabric.front_end_share)
    share = np.round(plan.deployed[:, 0, 0]).sum() / sum(first.racks)
    assert first.quarter == 1 and 0 < share < 1
    assert series["tariff_bill_site_equipment"][0] == pytest.approx(switches * share * 60_000 * 0.20, abs=1)
    assert series["tariff_bill_site_equipment"][1] == pytest.approx(switches * (1 - share) * 60_000 * 0.20, abs=1)
    racks_only = np.array(series["tariff_bill"]) - np.array(series["tariff_bill_site_equipment"])
    assert racks_only[first.quarter] > 0  # the racks built that quarter pay too


@pytest.fixture(scope="module")
def cache():
    return PlanCache()


def _optics(cap: int) -> dict:
    """An optics supply line capped at ``cap`` transceivers a quarter, ordered 2026-01-01 with 26 weeks' lead."""
    return {
        "id": "optics",
        "kind": "transceiver",
        "ordered": dt.date(2026, 1, 1),
        "lead_time": "26 week",
        "caps": [{"from": dt.date(2026, 7, 1), "per_quarter": cap}],
        "assumption": "test cap",
    }


def _goal_met(cap: int, cache) -> int:
    """The quarter (index; one past the last when never) the small programme meets its goal with an optics line
    capped at ``cap`` transceivers a quarter."""
    supply = YAML(typ="safe").load(SMALL.read_text(encoding="utf-8"))["supply"] + [_optics(cap)]
    doc = plan_document(roadmap_on_lines(load_programme(SMALL, {"supply": supply}), cache)[2])
    gw = [doc["gw_by_quarter"][q] for q in doc["quarters"]]
    return next((q for q, v in enumerate(gw) if v >= doc["goal"]["it_power_gw"] * (1 - 1e-9)), len(gw))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cap=st.integers(min_value=20_000, max_value=400_000), cut=st.floats(min_value=0.3, max_value=0.95))
def test_a_tighter_optics_cap_never_brings_the_goal_earlier(cache, cap, cut):
    """Tightening the optics line's cap only removes schedules: the quarter the goal is met never comes earlier."""
    assert _goal_met(int(cap * cut), cache) >= _goal_met(cap, cache)


def test_a_power_steps_last_quarter_is_the_one_before_the_next_steps_first():
    """Quarters 2026Q3..2027Q4: a step from 2026-07-01 followed by one from 2026-11-15 (in 2026Q4) ends in 2026Q3;
    that one, followed by one from 2027-01-01, ends in 2026Q4; the last runs to the goal date; a step after the
    goal date (2028-01-01) is never used."""
    power = [
        {"from": dt.date(2026, 7, 1), "facility": "100 MW"},
        {"from": dt.date(2026, 11, 15), "facility": "200 MW"},
        {"from": dt.date(2027, 1, 1), "facility": "450 MW"},
        {"from": dt.date(2028, 1, 1), "facility": "500 MW"},
    ]
    loaded = load_programme(SMALL, {"sites.abilene.power": power})
    quarters = ["2026Q3", "2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4"]
    assert step_quarters(loaded, 0, quarters) == [0, 1, 5, -1]
    assert quarter_end("2026Q4") == dt.date(2026, 12, 31) and quarter_end("2027Q1") == dt.date(2027, 3, 31)


def _one_generation(cap: int) -> dict:
    """Overrides of the small programme: GB300 alone at Abilene (planned with its site file), its optics capped at
    ``cap`` transceivers a quarter."""
    data = YAML(typ="safe").load(SMALL.read_text(encoding="utf-8"))
    return {
        "generations": data["generations"][:1],
        "sites": [{**data["sites"][0], "hosts": ["gb300"]}],
        "factories": [{**data["factories"][0], "builds": ["gb300"]}],
        "sourcing": {**data["sourcing"], "ordered": {"gb300": data["sourcing"]["ordered"]["gb300"]}},
        "supply": [*data["supply"], _optics(cap)],
    }


def _racks_by_quarter(cap: int, cache) -> np.ndarray:
    """GB300 racks deployed by each quarter's end in the one-generation programme with optics capped at ``cap``."""
    result = roadmap_on_lines(load_programme(SMALL, _one_generation(cap)), cache)[2]
    st = result.structure
    by_quarter = np.bincount(st.col_q, st.deployed * np.round(result.schedule.x), minlength=len(st.timeline.quarters))
    return np.cumsum(by_quarter)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cap=st.integers(min_value=60_000, max_value=400_000), cut=st.floats(min_value=0.3, max_value=0.95))
def test_a_smaller_optics_cap_never_gives_more_racks_by_any_quarter(cache, cap, cut):
    """One generation at one planned site: its racks need their own optics and the site's fabric optics, both under
    the cap, so a smaller cap only removes schedules and the earliest schedule of the smaller cap has no more racks
    by any quarter (up to the roadmap's 0.1 % MIP gap of the racks by the goal date)."""
    tight, loose = _racks_by_quarter(int(cap * cut), cache), _racks_by_quarter(cap, cache)
    assert np.all(tight <= loose + 1e-3 * loose[-1])


def test_a_cut_optics_cap_shifts_racks_later_instead_of_a_shortage():
    """Cutting the one-generation programme's optics cap to a third: fewer racks by some quarter. With the loose
    cap the site plans of the racks deployed fit under the cap at every quarter; with the cut cap the roadmap's
    optics row binds and the site plans' optics, counted as the racks arrive, may exceed it by the linear need's
    error (:func:`site_need_error`: the step's plan above its linear need), never by more."""
    plans = {cap: plan_programme(load_programme(SMALL, _one_generation(cap))) for cap in (450_000, 150_000)}
    tight, loose = (plans[cap].deployed.sum(axis=(0, 1)) for cap in (150_000, 450_000))
    assert np.any(tight < loose) and np.all(tight <= loose + 1e-3 * loose[-1])
    # out of reach with the cut cap, so the plan is the reach programme's, which reach_gw solves the same way
    rack_gw = plans[150_000].racks[0].figures["power.input"] / 1e9
    assert not plans[150_000].result.feasible
    assert reach_gw(plans[150_000].loaded) == pytest.approx(tight[-1] * rack_gw, rel=1e-3)
    for cap, plan in plans.items():
        doc = programme_document(plan)
        optics = next(row for row in doc["site_supply_check"] if row["supply"] == "optics")
        under = max(-r["difference"] for r in site_need_error(plan) if r["supply"] == "optics")
        if cap == 450_000:
            assert optics["enough"] and min(optics["margin_by_quarter"]) >= 0
            assert not any(b["family"] == "site-supply" for b in doc["binding_constraints"])
        assert -min(optics["margin_by_quarter"]) <= max(under, 0.0) + 1.0


def test_identical_steps_are_planned_once_and_each_writes_its_cables(tmp_path):
    """Abilene with the same racks at both power steps: one site plan, whose cables are written for both steps (the
    two partitions of the site's dataset hold the same cables)."""
    loaded = load_programme(SMALL)
    quarters = ["2026Q3", "2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4"]
    deployed = np.zeros((2, 2, len(quarters)))
    deployed[0, 0, :] = 40  # 40 GB300 racks at Abilene from the start
    steps = site_steps(loaded, deployed, quarters, tmp_path, workers=1)
    assert [(s.site, s.step) for s in steps] == [("abilene", 0), ("abilene", 1)]
    assert steps[0].planned is steps[1].planned
    folder = tmp_path / "sites" / "abilene"
    first, second = (pl.read_parquet(folder / "cables" / f"step={k}" / "part-0.parquet") for k in (0, 1))
    assert first.height == steps[0].planned.links > 0 and first.equals(second)
    assert pl.read_parquet(folder / "cables.parquet").equals(second)  # the last step's plan folder


def test_the_milp_supply_rows_count_the_site_term_on_deployed_racks():
    """A supply row (line p, quarter q) is Σ n_pg × racks built by q plus Σ m_pgs × racks deployed at site s by q:
    checked on a random schedule against sums over the columns by hand; a roadmap without the site term keeps the
    racks' own term only."""
    loaded = load_programme(SMALL, {"supply": [*YAML(typ="safe").load(SMALL.read_text())["supply"], _optics(1)]})
    roadmap = roadmap_with_capacity(loaded, factory_capacity(loaded, loaded.racks))
    figures = rack_figures(roadmap)
    p = [line.id for line in roadmap.roadmap.supply].index("optics")
    site = np.zeros((len(figures.supply_per_rack), 2, 2))
    site[p, 0, 0], site[p, 1, 1] = 7.0, 3.0  # GB300 at Abilene, E1 at Milam
    x = np.random.default_rng(1).integers(0, 50, size=prepare(roadmap, figures).n_cols).astype(float)
    for term in (site, None):
        st = prepare(roadmap, replace(figures, site_supply_per_rack=term))
        rows = st.matrix @ x
        quarters = len(st.timeline.quarters)
        for q in range(quarters):
            by_q = st.col_q <= q
            own = (figures.supply_per_rack[p, st.col_g] * st.built * x)[by_q].sum()
            extra = 0.0 if term is None else (term[p, st.col_g, st.col_s] * st.deployed * x)[by_q].sum()
            assert rows[st.families["supply"].start + p * quarters + q] == pytest.approx(own + extra)
        assert term is None or extra > 0


def test_a_supply_line_short_before_the_goal_date_is_worded_by_its_short_quarters():
    # the 10 GW example's transformers: short in 2027Q3-2028Q1 by up to 6 units, with units to spare by the goal
    # date; the warning printed "need -6,939,936 ... more" from the goal date's (positive) margin. By hand: the
    # margins -5.2, -0.4 and +3 at 2027Q3/Q4 and 2028Q1 are short in two quarters, worst 2027Q3 by ceil(5.2) = 6
    from rackwright.cli.programme import _supply_shortfall

    quarters = ["2027Q2", "2027Q3", "2027Q4", "2028Q1"]
    row = {"supply": "mv-transformers", "unit": "transformers", "margin_by_quarter": [2.0, -5.2, -0.4, 3.0],
           "short_quarters": ["2027Q3", "2027Q4"]}
    text = _supply_shortfall(row, quarters)
    assert text == ("supply mv-transformers: the racks and site plans need more than is delivered in 2 quarter(s), "
                    "2027Q3–2027Q4; short by up to 6 transformers (2027Q3)")
    assert "-" not in text.replace("mv-transformers", "")
