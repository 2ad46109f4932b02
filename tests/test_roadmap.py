"""The roadmap optimiser: small roadmaps solved by hand, infeasibility diagnosis, monotonicity, risk, bad input.

Hand calculations use the rack figures of the evaluated designs as inputs (the GB200 NVL72
rack draws ``power.input`` ≈ 124.56 kW and peaks at 180 PFLOP/s BF16 dense: 72 × 2.5 PFLOP/s);
the quantities under test are the optimiser's racks, shortfalls and objective.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rackwright.errors import InputError
from rackwright.rack.evaluation import evaluate
from rackwright.roadmap import load_roadmap, plan, plan_document
from rackwright.roadmap.inputs import rack_figures
from rackwright.roadmap.risk import risk, tornado
from rackwright.roadmap.schema import validate_roadmap
from rackwright.roadmap.timeline import build_timeline, step_first_quarter
from test_cli import run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXAMPLE = EXAMPLES / "roadmap-10gw.yaml"
WHY = {"assumption": "test figures"}
Q3_2026_WEEKS = 92 / 7  # 2026-07-01 .. 2026-09-30
GB200_W = evaluate(EXAMPLES / "gb200-nvl72.yaml").figures["power.input"]


def small(goal="7.5 MW", facility="10 MW", pue=1.25, rate=100, caps=None, by="2026-09-30", gens=("gb200",),
          **goal_extra) -> dict:
    """One site, one factory, one quarter (2026Q3) unless told otherwise."""
    designs = {"gb200": "gb200-nvl72.yaml", "gb300": "gb300-nvl72.yaml"}
    data = {
        "name": "small",
        "goal": {"it_power": goal, "start": "2026-07-01", "by": by, **goal_extra},
        "generations": [{"id": g, "design": designs[g], "first_ship": "2026-07-01", **WHY} for g in gens],
        "sites": [{"id": "a", "pue": pue, "hosts": list(gens), "power": [{"from": "2026-07-01", "facility": facility}],
                   **WHY}],
        "factories": [{"id": "f", "location": "US", "start": "2026-07-01", "capacity": {g: rate for g in gens},
                       **WHY}],
    }
    if caps is not None:
        data["supply"] = [{"id": "gpus", "kind": "accelerator", "unit": "accelerators", "ordered": "2025-01-01",
                           "lead_time": "4 week", "caps": [{"from": "2026-07-01", "per_quarter": caps}], **WHY}]
    return data


def load(data: dict):
    return validate_roadmap(copy.deepcopy(data), "test.yaml", folder=EXAMPLES)


def write(tmp: Path, data: dict) -> Path:
    data = copy.deepcopy(data)
    for g in data.get("generations", []) if isinstance(data.get("generations"), list) else []:
        if isinstance(g, dict) and isinstance(g.get("design"), str):
            g["design"] = str(EXAMPLES / g["design"])
    path = tmp / "roadmap.yaml"
    path.write_text(json.dumps(data, indent=1))  # JSON is YAML
    return path


# --- solved by hand ------------------------------------------------------------------------

def test_site_power_binds_integer_racks():
    """10 MW facility at PUE 1.25 = 8 MW of IT: ⌊8 MW / 124.56 kW⌋ = 64 racks, well under the line's 1,314."""
    result = plan(load(small()), mip_gap=0.0)
    doc = plan_document(result)
    racks = int(8e6 // GB200_W)
    assert racks == 64
    assert doc["feasible"] and sum(r["racks"] for r in doc["racks"]) == racks
    assert doc["gw_by_quarter"]["2026Q3"] == pytest.approx(racks * GB200_W / 1e9, rel=1e-6)
    assert doc["accelerators_by_quarter"]["2026Q3"] == racks * 72
    # compute delivered: 64 racks × 0.18 EFLOP/s × (46 days from the quarter's middle to its end) / 365.25
    assert doc["objective"]["value"] == pytest.approx(racks * 0.18 * 46 / 365.25, rel=1e-6)
    assert [b["family"] for b in doc["binding_constraints"]] == ["site"]
    assert doc["domestic_share_by_quarter"]["2026Q3"] == 1.0  # the only factory is in the US
    assert doc["factory_utilisation"]["f"]["2026Q3"] == pytest.approx(racks / (100 * Q3_2026_WEEKS), rel=1e-4)


def test_supply_binds_when_accelerators_are_short():
    """7,200 accelerators in the quarter = 100 racks of 72; site and line have room for more."""
    doc = plan_document(plan(load(small(goal="12 MW", facility="100 MW", caps=7200)), mip_gap=0.0))
    assert doc["feasible"] and sum(r["racks"] for r in doc["racks"]) == 100
    assert [b["family"] for b in doc["binding_constraints"]] == ["supply"]


def test_infeasible_goal_names_the_factory_and_its_shortfall():
    """10 racks/week × 13.14 weeks = 131 racks = 16.3 MW < 20 MW. The goal needs 20 MW / 124.56 kW = 160.6
    racks, i.e. 16.06 line-weeks: the line is short by 16.06 − 13.14 = 2.91 line-weeks."""
    result = plan(load(small(goal="20 MW", facility="100 MW", rate=10)))
    doc = plan_document(result)
    assert not doc["feasible"] and doc["objective"] is None
    short = {b["family"]: b for b in doc["binding_constraints"]}
    assert set(short) == {"factory", "ramp"}  # one generation at full ramp: its ramp row equals the line's
    needed = 20e6 / GB200_W
    assert short["factory"]["shortfall"] == pytest.approx(needed / 10 - Q3_2026_WEEKS, rel=1e-6)
    assert short["ramp"]["shortfall"] == pytest.approx(needed - 10 * Q3_2026_WEEKS, rel=1e-6)
    assert "2026Q3: factory f line time short by 2.91" in short["factory"]["message"]
    assert short["ramp"]["message"] == "2026Q3: ramp of gb200 at f short by 30 racks"  # ⌈29.1⌉: whole racks
    # the schedule shown is the most the constraints allow: ⌊131.4⌋ racks
    assert sum(r["racks"] for r in doc["racks"]) == 131
    assert doc["shortfall_gw"] == pytest.approx((20e6 - 131 * GB200_W) / 1e9, rel=1e-6)


def test_infeasible_supply_shortfall():
    """The goal needs 160.6 racks × 72 = 11,560 accelerators against a cap of 7,200."""
    doc = plan_document(plan(load(small(goal="20 MW", facility="100 MW", caps=7200))))
    (row,) = doc["binding_constraints"]
    assert row["family"] == "supply" and row["unit"] == "accelerators"
    assert row["shortfall"] == pytest.approx(20e6 / GB200_W * 72 - 7200, rel=1e-6)


def test_cost_objective_fills_the_cheaper_site_with_just_enough_racks():
    """Goal 5 MW: ⌈5 MW / 124.56 kW⌉ = 41 racks, all at the site that costs $10M/MW rather than $20M/MW;
    capex = 41 × (rack BOM + $10M/MW × 124.56 kW)."""
    data = small(goal="5 MW", facility="10 MW", pue=1.0, objective="cost")
    data["sites"].append(copy.deepcopy(data["sites"][0]) | {"id": "b", "build_cost_usd_per_mw": 20e6})
    data["sites"][0]["build_cost_usd_per_mw"] = 10e6
    doc = plan_document(plan(load(data), mip_gap=0.0))
    racks = int(np.ceil(5e6 / GB200_W))
    assert racks == 41
    assert doc["racks"] == [{"generation": "gb200", "site": "a", "quarter": "2026Q3", "racks": racks}]
    rack_usd = evaluate(EXAMPLES / "gb200-nvl72.yaml").figures["cost.bom"]
    expected = racks * (rack_usd + 10e6 * GB200_W / 1e6)
    assert doc["objective"]["value"] == pytest.approx(expected / 1e6, rel=1e-9)
    assert doc["capex_usd_by_quarter"]["2026Q3"] == pytest.approx(expected, rel=1e-9)


def two_factories(**goal_extra) -> dict:
    data = small(goal="1 MW", facility="100 MW", rate=5, **goal_extra)
    data["factories"].append({"id": "mx", "location": "MX", "start": "2026-07-01", "capacity": {"gb200": 100},
                              **WHY})
    return data


def test_minimum_us_share_limits_racks_built_abroad():
    """US line 5 racks/week × 13.14 weeks = 65 racks; a 50 % US share lets Mexico build as many: 130 racks."""
    doc = plan_document(plan(load(two_factories(min_us_share=0.5)), mip_gap=0.0))
    built = {r["factory"]: r["racks"] for r in doc["racks_by_factory"]}
    assert built == {"f": 65, "mx": 65}
    assert doc["domestic_share_by_quarter"]["2026Q3"] == pytest.approx(0.5)
    assert "us-share" in [b["family"] for b in doc["binding_constraints"]]


def test_us_share_objective_fills_the_us_line():
    doc = plan_document(plan(load(two_factories(objective="us-share")), mip_gap=0.0))
    built = {r["factory"]: r["racks"] for r in doc["racks_by_factory"]}
    assert built["f"] == 65


def test_factory_rate_from_a_line_file(tmp_path):
    """A one-station line, 3 bays around the clock, 1 h per rack (fixed): 3 × 168 = 504 racks/week at full
    utilisation, 0.85 × 504 = 428.4 at the default headroom; a shift station (8 h × 5 days) gets 40/168 of it."""
    line = {"name": "one bay type", "arrival": {"racks_per_week": 100},
            "calendar": {"shifts_per_day": 1, "hours_per_shift": "8 h", "days_per_week": 5},
            "stations": [{"id": "test", "level": "L11", "resources": 3, "hours": "continuous",
                          "process_time": {"dist": "fixed", "mean": "1 h"}}]}
    (tmp_path / "line.yaml").write_text(json.dumps(line))
    data = small()
    data["factories"][0].update(capacity={"gb200": "line"}, line=str(tmp_path / "line.yaml"))
    assert rack_figures(load(data)).factory_rate[0, 0] == pytest.approx(0.85 * 3 * 168)
    data["factories"][0]["line_utilisation"] = 1.0
    line["stations"][0]["hours"] = "shift"
    (tmp_path / "line.yaml").write_text(json.dumps(line))
    assert rack_figures(load(data)).factory_rate[0, 0] == pytest.approx(3 * 40)
    del data["factories"][0]["line"]
    assert "needs the factory's line file" in bad(data)


def test_cli_plan_exit_codes_and_report(tmp_path):
    ok = run("roadmap", "plan", write(tmp_path, small()), "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["feasible"] is True
    bad = run("roadmap", "plan", write(tmp_path, small(goal="20 MW", facility="100 MW", rate=10)),
                 "-o", tmp_path / "out")
    assert bad.exit_code == 1 and "short by" in bad.stdout
    page = (tmp_path / "out" / "report.html").read_text()
    assert "plotly" in page and "IT power deployed by generation" in page and "Shortfalls" in page
    assert json.loads((tmp_path / "out" / "plan.json").read_text())["feasible"] is False


# --- timeline by hand ---------------------------------------------------------------------

def test_timeline_ramp_slip_and_power_steps():
    data = small(by="2026-12-31")
    data["generations"][0].update(first_ship="2026-08-01", ramp=[0.5, 1.0], end_of_builds="2026-12-01")
    data["sites"][0]["power"] = [{"from": "2026-07-01", "facility": "10 MW"},
                                 {"from": "2026-11-15", "facility": "20 MW"}]
    t = build_timeline(load(data).roadmap)
    assert t.quarters == ("2026Q3", "2026Q4")
    # months Jul..Dec: 0, 0.5, 1, 1, 1, 0 (December starts on end_of_builds)
    assert t.ramp_factor() == pytest.approx(np.array([[0.5, 2 / 3]]))
    # one month of slip: Jul..Dec = 0, 0, 0.5, 1, 1, 0
    assert t.ramp_factor(np.array([1.0])) == pytest.approx(np.array([[1 / 6, 2 / 3]]))
    # IT power in each quarter (PUE 1.25); a 2-month delay moves the 20 MW step past December
    assert t.site_it_power() == pytest.approx(np.array([[8e6, 16e6]]))
    assert t.site_it_power(np.array([2.0])) == pytest.approx(np.array([[8e6, 8e6]]))


def test_a_step_on_a_quarters_first_day_serves_that_quarter_not_the_one_before():
    """Steps of 10 MW from 2026-07-01 and 20 MW from 2027-01-01 (the first day of 2027Q1), PUE 1.25: 8, 8 and
    16 MW of IT in 2026Q3, 2026Q4 and 2027Q1 (racks deployed during 2026Q4 run before the 20 MW arrive), so
    ⌊8 MW / 124.56 kW⌋ = 64 racks by the end of 2026Q4 and ⌊16 MW / 124.56 kW⌋ = 128 by the end of 2027Q1.
    Months since the start: 6.0 (2027-01-01) is in quarter 2 ([6, 9)); 5.99 in quarter 1; before the start in
    quarter 0; after the grid (or never, inf) the number of quarters."""
    assert step_first_quarter(np.array([-1.0, 0.0, 5.99, 6.0, 8.99, 9.0, np.inf]), 3) == pytest.approx(
        [0, 0, 1, 2, 2, 3, 3]
    )
    data = small(goal="5 MW", by="2027-03-31")
    data["sites"][0]["power"] = [{"from": "2026-07-01", "facility": "10 MW"},
                                 {"from": "2027-01-01", "facility": "20 MW"}]
    t = build_timeline(load(data).roadmap)
    assert t.site_it_power() == pytest.approx(np.array([[8e6, 8e6, 16e6]]))
    doc = plan_document(plan(load(data), mip_gap=0.0))
    assert int(8e6 // GB200_W) == 64 and int(16e6 // GB200_W) == 128
    assert [doc["accelerators_by_quarter"][q] for q in ("2026Q3", "2026Q4", "2027Q1")] == [64 * 72, 64 * 72,
                                                                                          128 * 72]
    assert doc["gw_by_quarter"]["2026Q4"] == pytest.approx(64 * GB200_W / 1e9, rel=1e-6)

# --- relaxing a binding constraint never lowers the objective -----------------------------

BASE = small(goal="5 MW", facility="12 MW", rate=20, caps=9000, by="2026-12-31", gens=("gb200", "gb300"))
BASE_FIGURES = rack_figures(load(BASE))
BASE_OBJECTIVE = plan_document(plan(load(BASE), BASE_FIGURES, mip_gap=0.0))["objective"]["value"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(power=st.floats(1.0, 3.0), rate=st.floats(1.0, 3.0), caps=st.floats(1.0, 3.0),
       which=st.sets(st.sampled_from(["power", "rate", "caps"]), min_size=1))
def test_relaxing_constraints_never_lowers_the_objective(power, rate, caps, which):
    data = copy.deepcopy(BASE)
    if "power" in which:
        data["sites"][0]["power"][0]["facility"] = f"{12 * power} MW"
    if "rate" in which:
        data["factories"][0]["capacity"] = {"gb200": 20 * rate, "gb300": 20 * rate}
    if "caps" in which:
        data["supply"][0]["caps"][0]["per_quarter"] = 9000 * caps
    doc = plan_document(plan(load(data), BASE_FIGURES, mip_gap=0.0))
    assert doc["feasible"]
    assert doc["objective"]["value"] >= BASE_OBJECTIVE * (1 - 1e-9)


# --- risk ---------------------------------------------------------------------------------

def test_risk_is_reproducible_with_a_seed_and_independent_of_workers():
    loaded = load(small(by="2026-12-31") | {"risk": {"qualification_slip": {"dist": "uniform", "min": "0 week",
                                                                                   "max": "20 week"}, **WHY}})
    one = risk(loaded, 20, seed=7).document()
    two = risk(loaded, 20, seed=7, workers=2).document()
    other = risk(loaded, 20, seed=8).document()
    for doc in (one, two, other):
        doc.pop("solve_time_s")
        doc.pop("workers")
    assert one == two and one["seed"] == 7
    assert one["gw_by_quarter"] != other["gw_by_quarter"]


def test_risk_without_uncertainty_is_the_plan():
    """Fixed inputs: every sample reaches the 64 racks of the site-power case (LP: 8 MW exactly)."""
    doc = risk(load(small()), 20, seed=0).document()
    assert doc["p_goal"] == 1.0
    assert doc["gw_by_date"]["p10"] == doc["gw_by_date"]["p90"] == pytest.approx(0.008, rel=1e-9)


def test_risk_fixed_slip_past_the_goal_date_misses_it():
    """A 13-week slip moves first ship past the end of 2026Q3: nothing ships, P(goal) = 0."""
    data = small() | {"risk": {"qualification_slip": {"dist": "fixed", "value": "14 week"}, **WHY}}
    doc = risk(load(data), 20, seed=0).document()
    assert doc["p_goal"] == 0.0 and doc["gw_by_date"]["p90"] == 0.0


def test_risk_reports_the_deterministic_plan_beside_the_samples():
    """The risk document carries ``roadmap plan``'s IT power by quarter (the same file, solved on its own), so the
    risk page can draw it over the fan; the site-power case: 64 racks by 2026Q3, below the LP samples' 8 MW."""
    loaded = load(small())
    doc = risk(loaded, 5, seed=0).document()
    planned = plan_document(plan(loaded))
    assert doc["plan_gw_by_quarter"] == pytest.approx(planned["gw_by_quarter"], rel=1e-9, abs=1e-12)
    assert doc["plan_feasible"] is planned["feasible"] is True
    assert doc["plan_gw_by_quarter"]["2026Q3"] == pytest.approx(64 * GB200_W / 1e9, abs=1e-9)  # 9 decimals
    assert doc["plan_gw_by_quarter"]["2026Q3"] <= doc["gw_by_date"]["p50"]


def test_tornado_gives_the_whole_swing_to_the_one_input_that_drives_the_outcome():
    """Ten samples by hand: the outcome is 10 - slip (GW); the slip's worst decile (at or past its 90th percentile,
    8.1) is the slip of 9 alone, 1 GW, its best (at or under 0.9) the slip of 0, 10 GW; a constant delay has every
    sample in both deciles (the mean, 5.5 GW): no swing. A yield is worse when lower: 0.50 → 5 GW, 0.95 → 9.5 GW."""
    slip = np.arange(10.0)
    records = tornado([("delay", np.full(10, 3.0), True), ("slip", slip, True)], 10 - slip, "GW")
    assert records == [
        {"input": "slip", "low": 1.0, "high": 10.0, "unit": "GW"},
        {"input": "delay", "low": 5.5, "high": 5.5, "unit": "GW"},
    ]
    share = np.linspace(0.5, 0.95, 10)
    assert tornado([("yield", share, False)], 10 * share, "GW") == [
        {"input": "yield", "low": pytest.approx(5.0), "high": pytest.approx(9.5), "unit": "GW"}
    ]


def test_risk_document_has_the_tornado_and_the_goal_date():
    """One record per sampled input (each generation, site, supply line and factory); only the slip varies, so
    every other input has no swing, and a slip in its worst decile reaches less than one in its best. The share of
    samples that have met the goal by each quarter's end never falls and ends at P(goal)."""
    loaded = load(small() | {"risk": {"qualification_slip": {"dist": "uniform", "min": "0 week", "max": "20 week"},
                                      **WHY}})
    doc = risk(loaded, 40, seed=2).document()
    r = loaded.roadmap
    names = {f"qualification slip {g.id}" for g in r.generations} | {f"site power delay {s.id}" for s in r.sites}
    names |= {f"lead-time factor {s.id}" for s in r.supply} | {f"factory yield {f.id}" for f in r.factories}
    assert {row["input"] for row in doc["tornado"]} == names and len(doc["tornado"]) == len(names)
    slips = [row for row in doc["tornado"] if row["input"].startswith("qualification slip")]
    assert doc["tornado"][: len(slips)] == slips and all(row["low"] < row["high"] for row in slips)
    assert all(row["low"] == row["high"] and row["unit"] == "GW" for row in doc["tornado"][len(slips) :])
    met = list(doc["p_goal_by_quarter"].values())
    assert met == sorted(met) and met[-1] == doc["p_goal"]


@pytest.mark.slow
def test_risk_on_ray_equals_the_local_process_pool():
    """The same chunks, solved as Ray tasks on a local two-CPU Ray instance: the same GW in every sample."""
    ray = pytest.importorskip("ray")
    loaded = load(small(by="2026-12-31") | {"risk": {"qualification_slip": {"dist": "uniform", "min": "0 week",
                                                                                   "max": "20 week"}, **WHY}})
    local = risk(loaded, 16, seed=4, workers=2)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = risk(loaded, 16, seed=4, workers=2, backend="ray")
    finally:
        ray.shutdown()
    assert np.array_equal(local.gw_by_quarter, remote.gw_by_quarter)


def test_cli_risk(tmp_path):
    result = run("roadmap", "risk", write(tmp_path, small()), "--samples", "20", "--seed", "3", "--json",
                    "-o", tmp_path / "out")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["samples"] == 20 and doc["p_goal"] == 1.0 and set(doc["gw_by_date"]) == {"p10", "p50", "p90", "mean"}
    page = (tmp_path / "out" / "report.html").read_text()
    assert "P10-P90" in page and "plan (roadmap plan)" in page
    assert all(row["plan_gw"] > 0 for row in doc["quarters"])  # the deterministic plan, quarter by quarter
    assert doc["quarters"][-1]["p_goal"] == doc["p_goal"]  # the goal date's distribution, as its running share
    assert doc["tornado"] and all(set(row) == {"input", "low", "high", "unit"} for row in doc["tornado"])


# --- bad input ----------------------------------------------------------------------------

def bad(data: dict) -> str:
    with pytest.raises(InputError) as info:
        rack_figures(load(data))
    return str(info.value)


def test_dates_out_of_order():
    data = small()
    data["generations"][0]["end_of_builds"] = "2026-06-01"
    assert "generations[0].end_of_builds: dates out of order" in bad(data)
    data = small()
    data["sites"][0]["power"].append({"from": "2026-01-01", "facility": "20 MW"})
    assert "sites[0].power[1].from: dates out of order" in bad(data)
    assert "not the first day of a quarter" in bad(small() | {"goal": small()["goal"] | {"start": "2026-08-01"}})
    assert "ends no quarter" in bad(small(by="2026-08-01"))


def test_generation_no_site_hosts():
    data = small(gens=("gb200", "gb300"))
    data["sites"][0]["hosts"] = ["gb200"]
    assert "generations[1].id: no site can host generation 'gb300'" in bad(data)
    data["sites"][0]["hosts"] = ["gb200", "h100"]
    assert "sites[0].hosts[1]: unknown generation 'h100'" in bad(data)


def test_supply_for_a_part_no_design_uses():
    data = small(caps=100)
    data["supply"][0]["kind"] = "tpu"
    assert "supply[0].kind: no generation's design uses 'tpu'" in bad(data)


def test_figures_need_a_source_or_an_assumption():
    data = small()
    del data["factories"][0]["assumption"]
    assert "factories[0]" in bad(data) and "source" in bad(data)


def test_cli_bad_input_exits_2(tmp_path):
    data = small()
    data["generations"][0]["ramp"] = [1.5]
    result = run("roadmap", "plan", write(tmp_path, data))
    assert result.exit_code == 2 and "generations[0].ramp" in result.stderr
    assert run("roadmap", "risk", tmp_path / "none.yaml").exit_code == 2


BAD_VALUES = st.sampled_from([None, 0, -1, "abc", "5 kg", [], {}, "2026-13-01", 1e30, "10 GW", "x" * 3])
PATHS = [("goal", "it_power"), ("goal", "start"), ("goal", "by"), ("goal", "objective"), ("goal", "min_us_share"),
         ("generations", 0, "ramp"), ("generations", 0, "design"), ("generations", 0, "first_ship"),
         ("sites", 0, "pue"), ("sites", 0, "power"), ("sites", 0, "power", 0, "facility"), ("sites", 0, "hosts"),
         ("factories", 0, "capacity"), ("factories", 0, "location"), ("supply", 0, "caps"),
         ("supply", 0, "lead_time"), ("supply", 0, "kind"), ("risk",), ("name",), ("unknown",)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), BAD_VALUES), max_size=2))
def test_fuzzed_roadmaps_exit_cleanly(mutations):
    data = small(caps=10_000)
    for path, value in mutations:
        node = data
        for key in path[:-1]:
            node = node[key] if isinstance(node, (dict, list)) and (
                key in node if isinstance(node, dict) else key < len(node)) else None
            if node is None:
                break
        if isinstance(node, dict):
            node[path[-1]] = value
        elif isinstance(node, list) and path[-1] < len(node):
            node[path[-1]] = value
    with tempfile.TemporaryDirectory() as tmp:
        result = run("roadmap", "plan", write(Path(tmp), data), "--json")
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == 2:  # bad input under --json: the error document on stdout (docs/json.md)
        assert "Traceback" not in result.output and json.loads(result.stdout)["error"]["message"]


def test_example_roadmap_is_complete():
    """The shipped example: 4+ generations over 2026-2029, 8+ sites, 3+ factories, 14 quarters."""
    roadmap = load_roadmap(EXAMPLE).roadmap
    assert len(roadmap.generations) >= 4 and len(roadmap.sites) >= 8 and len(roadmap.factories) >= 3
    assert len(build_timeline(roadmap).quarters) == 14


def test_benchmark_runs_on_a_tiny_roadmap(tmp_path, capsys):
    """benchmarks/bench_roadmap.py end to end on the one-quarter roadmap (timings printed, never asserted)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_roadmap", ROOT / "benchmarks" / "bench_roadmap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--roadmap", str(write(tmp_path, small())), "--samples", "4", "--serial", "2",
                          "--workers", "1", "--repeat", "1"])
    assert result["solve_s"] > 0 and result["parallel_per_s"] > 0
    assert "ratio baseline/rounded start" in capsys.readouterr().out


def test_cli_shortfalls_table_gives_amounts_in_the_figure_format(tmp_path):
    """The infeasible case above at the terminal: one row per quarter and constraint with its shortfall in
    report.present's format (3-4 significant figures) and its unit in a column of its own: the line 16.06 − 13.14
    = 2.91 line-weeks short, the ramp 160.57 − 10 × 13.143 = 29.1 racks, printed whole and rounded up: 30 racks
    (0.1 of a rack cannot be built)."""
    result = run("roadmap", "plan", write(tmp_path, small(goal="20 MW", facility="100 MW", rate=10)))
    assert result.exit_code == 1
    rows = {tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in result.stdout.splitlines()}
    assert ("2026Q3", "factory", "f", "2.91", "line-weeks") in rows
    assert ("2026Q3", "ramp", "gb200 at f", "30", "racks") in rows
