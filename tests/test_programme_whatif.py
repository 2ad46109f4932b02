"""Programme what-ifs (issue 23): --replace a generation's design file, --sweep one field, their bad input, and the
lines' rate bands in the Monte Carlo."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.factory import load_line, simulate, work_content
from rackwright.programme import load_programme
from rackwright.programme.plan import factory_capacity, roadmap_with_capacity
from rackwright.programme.whatif import band_factors, line_bands, programme_risk, replacements, sweep_documents
from rackwright.rack.evaluation import sound_design
from rackwright.roadmap.inputs import line_rate
from rackwright.roadmap.milp import DEFAULT_GAP
from rackwright.roadmap.risk import risk
from report_axes import title_text

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "programme-small.yaml"
E2 = ROOT / "examples" / "ethernet-800vdc-e2.yaml"
RISK = {
    "qualification_slip": {"dist": "triangular", "min": "0 week", "mode": "6 week", "max": "26 week"},
    "site_power_delay": {"dist": "triangular", "min": "0 week", "mode": "8 week", "max": "39 week"},
    "factory_yield": {"dist": "triangular", "min": 0.85, "mode": 0.95, "max": 1.0},
    "assumption": "examples/programme-10gw.yaml's distributions",
}


@pytest.fixture(scope="module")
def loaded():
    return load_programme(SMALL)


def _headline(doc: dict, name: str):
    return next(h["value"] for h in doc["headline"] if h["name"] == name)


def test_replace_plans_the_generation_on_the_other_design(loaded):
    overrides = replacements(loaded, [f"e1={E2}"])
    assert overrides == {"generations.e1.design": str(E2.resolve())}
    whatif = load_programme(SMALL, overrides)
    e2 = sound_design(E2)
    assert whatif.racks[1].name == e2.name != loaded.racks[1].name
    assert whatif.racks[1].figures["compute.accelerators"] == e2.figures["compute.accelerators"]
    assert whatif.racks[0].name == loaded.racks[0].name  # the other generation keeps its design


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["gb300", "e1"]), weeks=st.lists(st.integers(0, 40), min_size=3, max_size=3, unique=True))
def test_a_sweep_of_first_ship_dates_never_adds_gw_at_the_goal_date(loaded, which, weeks):
    """As one generation's first ship slips, the plan's IT power at the goal date never grows. The plan maximises
    delivered compute to the roadmap's MIP gap, not IT power, so "never grows" holds to that gap (seen: +0.016 %,
    one rack, when E1 slips from 2026-10-01 to 2027-01-01)."""
    first = next(g.first_ship for g in loaded.programme.generations if g.id == which)
    dates = [first + dt.timedelta(weeks=w) for w in sorted(weeks)]
    key = f"generations.{which}.first_ship"
    docs = sweep_documents([load_programme(SMALL, {key: d}) for d in dates])
    gw = [_headline(doc, "it_power_by_goal_date") for doc in docs]
    for earlier, later in itertools.pairwise(gw):
        assert later <= earlier * (1 + DEFAULT_GAP)


def test_cli_sweep_writes_the_changes_and_the_chart(tmp_path):
    argv = ["programme", "whatif", str(SMALL), "--sweep", "generations.e1.first_ship=2026-10-01,2027-04-01"]
    result = CliRunner().invoke(app, [*argv, "-o", str(tmp_path / "w"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "w" / "whatif.json").read_text())
    assert doc["sweep"] == {"key": "generations.e1.first_ship", "values": ["2026-10-01", "2027-04-01"]}
    rows = {r["name"]: r for r in doc["headline"]}
    gw = rows["it_power_by_goal_date"]
    assert gw["changes"][0] == 0.0  # the file's own date: no change
    assert gw["changes"][1] == pytest.approx(gw["values"][1] - gw["base"]) and gw["changes"][1] < 0
    assert doc["feasible"] == {"base": True, "sweep": [True, False]}
    page = title_text((tmp_path / "w" / "report.html").read_text())
    assert "generations.e1.first_ship from 2026-10-01 to 2027-04-01 (2 values)" in page
    assert "Programme file: " in page and "What-if: generations.e1.first_ship swept over 2026-10-01, 2027-04-01" in page


def _headline_doc(sweep: bool) -> dict:
    """A what-if document (``programme whatif --json``) with hand-made numbers, a sweep's with two values."""
    rows = [
        ("it_power_by_goal_date", "GW", 0.863, [0.863, 0.724]),
        ("goal_met", "quarter", "2027Q3", ["2027Q3", None]),
        ("capex", "USD", 26_721_172_241, [26_721_172_241, 23_459_054_536]),
        ("us_content_share_by_goal_date", "share of rack value", 0.076, [0.076, 0.061]),
    ]
    doc = {"programme": "pilot", "set": [{"key": "generations.e1.first_ship", "value": "2027-04-01"}]}
    if sweep:
        return {
            **doc,
            "set": [],
            "sweep": {"key": "generations.e1.first_ship", "values": ["2026-10-01", "2027-04-01"]},
            "feasible": {"base": True, "sweep": [True, False]},
            "headline": [
                {
                    "name": name,
                    "unit": unit,
                    "base": base,
                    "values": values,
                    "changes": [v - base if isinstance(base, float | int) else None for v in values],
                }
                for name, unit, base, values in rows
            ],
        }
    return {
        **doc,
        "feasible": {"base": True, "whatif": False},
        "headline": [
            {
                "name": name,
                "unit": unit,
                "base": base,
                "whatif": values[1],
                "change": values[1] - base if isinstance(base, float | int) else None,
            }
            for name, unit, base, values in rows
        ],
    }


#: The base plan's programme document, as far as the pages' input lines read it.
BASE = {
    "goal": {"it_power_gw": 0.8, "by": "2027-12-31"},
    "inputs": {
        "file": "examples/programme-small.yaml",
        "generations": [{"id": "e1", "design": "ethernet-800vdc.yaml", "first_ship": "2026-10-01"}],
        "factories": [],
        "sites": [{"site": "abilene", "plan": "site-100mw.yaml"}],
        "workload": {
            "model": "deepseek-v3",
            "precision": "fp8",
            "accelerators": 1152,
            "global_batch": 1152,
            "seq_len": 4096,
            "storage_bandwidth": "2 TB/s",
        },
        "fleet": {"repair_days": 5.0, "availability": 0.999},
    },
}


def test_whatif_page_opens_with_each_change_as_the_terminal_prints_it():
    """Issue 22: the single what-if's page (``programme whatif -o``): its headline is each figure's base → what-if
    and change (a share's in points), formatted here by hand; the inputs name the file and the change; base vs
    what-if per numeric figure under its label, every axis titled, no raw key in a chart title."""
    from rackwright.programme.report import whatif_figure
    from report_axes import untitled_axes

    figure = whatif_figure(_headline_doc(sweep=False), BASE)
    title = re.sub(r"<[^>]+>", "", figure.layout.title.text.replace("<br>", " "))
    headline = figure.layout.title.text.split("<sup>")[1].split("</sup>")[0]
    assert "IT power by the goal date: 0.863 → 0.724 GW (-0.139)" in headline and "Capex" not in headline
    for text in (
        "IT power by the goal date: 0.863 → 0.724 GW (-0.139)",
        "Goal met in: 2027Q3 → – (–)",
        "Other headline numbers: Capex, cumulative: 26,721,172,241 → 23,459,054,536 USD (-3,262,117,705)",
        "US content of the racks built by the goal date: 7.6% → 6.1% (-1.5 pp)",
        "the what-if misses the goal (the file as it is meets it)",
        "Programme file: examples/programme-small.yaml",
        "What-if: generations.e1.first_ship = 2027-04-01",
    ):
        assert text in title, text
    titles = [a.text for a in figure.layout.annotations]
    assert titles == [
        "IT power by the goal date",
        "Capex, cumulative",
        "US content of the racks built by the goal date",
    ]
    assert untitled_axes(figure) == []
    assert [round(v, 6) for v in figure.data[2].y] == [7.6, 6.1]  # a share in per cent, as the table shows it


def test_sweep_page_has_a_headline_inputs_and_labelled_charts():
    """Issue 22: the sweep page (``programme whatif --sweep -o``) opens with what was swept and the range of GW by
    the goal date and of the quarter the goal is met; its charts are titled by label (report.present), never by
    raw key, a share's change in points."""
    from rackwright.programme.report import sweep_figure
    from rackwright.report.present import HEADLINE
    from report_axes import untitled_axes

    figure = sweep_figure(_headline_doc(sweep=True), BASE)
    title = figure.layout.title.text.replace("<br>", " ")
    assert (
        "generations.e1.first_ship from 2026-10-01 to 2027-04-01 (2 values): IT power by the goal date 0.724 to "
        "0.863 GW (base 0.863); goal met in 2027Q3 to 2027Q3, missed at 1 value(s) (base 2027Q3)"
    ) in title
    assert "Goal: 0.8 GW by 2027-12-31" in title
    titles = [a.text for a in figure.layout.annotations]
    assert titles == [
        "IT power by the goal date, change",
        "Capex, cumulative, change",
        "US content of the racks built by the goal date, change",
    ]
    assert not any(key in text for key in HEADLINE for text in titles)
    assert figure.layout.yaxis3.title.text == "change (pp)" and untitled_axes(figure) == []
    assert [round(v, 6) for v in figure.data[2].y] == [0.0, -1.5]


def test_whatif_writes_its_json_and_page(tmp_path):
    """``programme whatif --set ... -o DIR --json``: whatif.json is what --json prints, and report.html opens with
    the change in GW by the goal date as the table prints it."""
    from rackwright.report.present import headline_format

    argv = ["programme", "whatif", str(SMALL), "--set", "generations.e1.first_ship=2027-04-01"]
    result = CliRunner().invoke(app, [*argv, "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "whatif.json").read_text())
    assert doc == json.loads(result.stdout)
    gw = next(r for r in doc["headline"] if r["name"] == "it_power_by_goal_date")
    shown = headline_format(gw["name"], gw["unit"])
    page = title_text((tmp_path / "report.html").read_text())
    assert f"IT power by the goal date: {gw['base']:.3f} → {gw['whatif']:.3f} GW ({shown.change(gw['change'])})" in page
    assert "Programme file: " in page and "What-if: generations.e1.first_ship = 2027-04-01" in page


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--replace", "e9=examples/ethernet-800vdc-e2.yaml"], ["--replace e9=", "unknown generation 'e9'", "e1"]),
        (["--replace", "e1=examples/nope.yaml"], ["--replace e1=", "not found", "working folder"]),
        (["--replace", "e1"], ["is not GEN=FILE", "--replace e1=examples/ethernet-800vdc-e2.yaml"]),
        (["--sweep", "generations.e1.first_ship"], ["is not KEY=V1,V2", "--sweep"]),
        (["--sweep", "generations.e9.first_ship=2027-01-01"], ["--sweep generations.e9", "no field 'generations.e9'"]),
        (["--sweep", "workload.accelerators=1152,-3"], ["workload.accelerators"]),
        ([], ["nothing to change", "--replace GEN=FILE"]),
    ],
)
def test_bad_whatif_input_exits_2_before_planning(argv, words):
    result = CliRunner().invoke(app, ["programme", "whatif", str(SMALL), *argv])
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output, (word, result.output)


def test_a_unit_line_band_is_the_roadmaps_monte_carlo(loaded):
    """A rate band of exactly 1 (sd 0) leaves every yield as the roadmap drew it: the roadmap's risk, same seed
    (with the 10 GW example's slips, delays and yields, so that the samples differ)."""
    risky = load_programme(SMALL, {"risk": RISK})
    roadmap = roadmap_with_capacity(risky, factory_capacity(risky, risky.racks))
    unit = partial(band_factors, np.array([[1.0, 0.0]]))
    banded, plain = risk(roadmap, 12, seed=3, factory_yield=unit), risk(roadmap, 12, seed=3)
    assert np.array_equal(banded.gw_by_quarter, plain.gw_by_quarter)
    assert np.ptp(plain.gw_by_quarter[:, -1]) > 0  # the samples differ
    assert banded.seed == plain.seed == 3


def test_line_bands_run_in_parallel_with_the_same_result(loaded):
    """The bands are drawn with the roadmap's inputs before the samples are split, so the banded Monte Carlo on two
    processes equals the one on one."""
    risky = load_programme(SMALL, {"risk": RISK})
    bands = np.array([[0.9, 0.1]])
    one = programme_risk(risky, 8, seed=2, workers=1, bands=bands)
    two = programme_risk(risky, 8, seed=2, workers=2, bands=bands)
    assert one["gw_by_quarter"] == two["gw_by_quarter"] and one["p_goal"] == two["p_goal"]


def test_band_factors_are_normal_draws_cut_at_zero():
    """Per factory N(mean, sd) from the stream, negatives cut to 0: the same draws as rng.normal by hand."""
    bands = np.array([[1.0, 0.0], [0.2, 1.0]])
    factors = band_factors(bands, np.random.default_rng(7), 500)
    by_hand = np.random.default_rng(7).normal([1.0, 0.2], [0.0, 1.0], size=(500, 2))
    assert factors.shape == (500, 2)
    assert np.array_equal(factors, np.maximum(by_hand, 0.0))
    assert (factors[:, 0] == 1.0).all() and (factors[:, 1] == 0).any()


def test_a_narrow_line_band_lowers_the_gw(loaded):
    """A line shipping 5 % of its bound binds where site power did: less IT power by the goal date, goal missed."""
    full = programme_risk(loaded, 6, seed=1)
    narrow = programme_risk(loaded, 6, seed=1, bands=np.array([[0.05, 0.0]]))
    assert narrow["gw_by_date"]["p50"] < 0.5 * full["gw_by_date"]["p50"]
    assert full["p_goal"] == 1.0 and narrow["p_goal"] == 0.0


def test_line_band_is_the_factory_simulation_against_the_bound(loaded):
    """The band's mean is the factory simulation's mean racks/week over the queueing bound, averaged over the
    generations the line builds (same seed, line and release rate)."""
    factory = loaded.programme.factories[0]
    line = load_line(SMALL.parent / factory.line).line
    ratios = []
    for rack in loaded.racks:
        work = work_content(rack.model)
        bound = line_rate(line, work, factory.line_utilisation)
        run = simulate(line, work, weeks=15, replications=2, seed=5, warmup_weeks=2, racks_per_week=bound)
        ratios.append(run.summary()["racks_per_week_mean"] / bound)
    band = line_bands(loaded, 2, seed=5)
    assert band.shape == (1, 2)
    assert band[0, 0] == pytest.approx(np.mean(ratios), rel=1e-12)
    assert 0.9 < band[0, 0] < 1.1 and band[0, 1] > 0  # near the bound, and a band, not a point


@pytest.mark.slow
def test_ray_backend_gives_the_local_results(tmp_path):
    """The reference jobs, site plans, spares, a sweep's variants and the risk samples as Ray tasks on a local
    two-CPU instance: the same programme documents and risk samples as the local backend (in this process, and
    on two processes for the risk)."""
    ray = pytest.importorskip("ray")
    risky = load_programme(SMALL, {"risk": RISK})
    variants = [risky, load_programme(SMALL, {"risk": RISK, "generations.e1.first_ship": "2027-01-01"})]
    local = sweep_documents(variants)
    local_risk = programme_risk(risky, 8, seed=3, workers=2)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = sweep_documents(variants, backend="ray", workers=2)
        remote_risk = programme_risk(risky, 8, seed=3, workers=2, backend="ray")
    finally:
        ray.shutdown()
    assert local == remote  # no timings in the documents: the same bytes on every backend
    for doc in (local_risk, remote_risk):
        doc.pop("solve_time_s")
    assert local_risk == remote_risk and local_risk["plan_gw_by_quarter"]


def test_whatif_p_goal_draws_every_plan_from_one_seed():
    """``--samples``: every plan's Monte Carlo shares one seed (drawn fresh here), so two plans of the same programme
    give the same P(goal) and fan, and the what-if names the seed; each plan reports its stages in order."""
    from rackwright.programme.plan import STAGES
    from rackwright.programme.whatif import whatif_document

    risky = load_programme(SMALL, {"risk": RISK})
    slip = {"risk": RISK, "generations.e1.first_ship": "2027-04-01"}
    stages: list[str] = []
    same, again, slipped = sweep_documents(
        [risky, risky, load_programme(SMALL, slip)], samples=12, progress=stages.append
    )
    assert stages == list(STAGES) * 3
    assert same["risk"]["seed"] == again["risk"]["seed"] == slipped["risk"]["seed"]
    assert same["risk"]["series"] == again["risk"]["series"]
    assert np.ptp([s["values"][-1] for s in same["risk"]["series"][:3]]) > 0  # the samples differ: a real draw
    doc = whatif_document(same, slipped, slip)
    rows = {row["name"]: row for row in doc["headline"]}
    assert rows["p_goal"]["base"] == _headline(same, "p_goal") and rows["p_goal"]["whatif"] == _headline(
        slipped, "p_goal"
    )
    assert doc["risk"] == {"samples": 12, "seed": same["risk"]["seed"]}


def test_whatif_table_labels_each_row_and_keeps_the_unit_column_at_80_columns():
    """Every headline row by its label and unit (report.present.headline_format), none cut at 80 columns."""
    from rich.console import Console

    from rackwright.cli.programme import _whatif_table
    from rackwright.report.present import HEADLINE, headline_format

    units = {"it_power_by_goal_date": "GW", "capex": "USD", "us_content_share_by_goal_date": "share of rack value"}
    values = {"capex": (25_989_715_883, 22_727_717_073), "us_content_share_by_goal_date": (0.076, 0.061)}
    headline = [
        {
            "name": name,
            "unit": units.get(name, "quarter"),
            "base": values.get(name, (1.0, 2.0))[0],
            "whatif": values.get(name, (1.0, 2.0))[1],
            "change": None,
        }
        for name in HEADLINE
    ]
    console = Console(width=80, record=True)
    console.print(
        _whatif_table({"set": [{"key": "generations.e1.first_ship", "value": "2027-04-01"}], "headline": headline})
    )
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80 and any("┃ unit " in line for line in lines)
    for row in headline:
        shown = headline_format(row["name"], row["unit"])
        first = shown.label.split()[0]
        assert any(first in line and f" {shown.shown_unit} " in line for line in lines), row["name"]
    assert "US content" in text and "%" in text and "25,989,715,883" in text and "capex" not in text


def _quarters_later(date: dt.date, quarters: int) -> dt.date:
    """``date`` moved by whole quarters (a quarter's first day stays one)."""
    months = date.year * 12 + date.month - 1 + 3 * quarters
    return date.replace(year=months // 12, month=months % 12 + 1)


def _goal_outcome(doc: dict) -> tuple[float, float, float]:
    """The quarter the goal is met (its index; infinity when never), GW at the goal date and P(goal)."""
    met = _headline(doc, "goal_met")
    quarter = doc["quarters"].index(met) if met else np.inf
    return quarter, _headline(doc, "it_power_by_goal_date"), doc["risk"]["p_goal"]


@pytest.fixture(scope="module")
def risky_base():
    """The small programme with the 10 GW example's risk section, planned with P(goal) over 24 samples, seed 5."""
    return sweep_documents([load_programme(SMALL, {"risk": RISK})], samples=24, seed=5)[0]


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["gb300", "e1"]), quarters=st.sampled_from([-1, 1, 2, 3]))
def test_a_slip_never_brings_the_goal_closer_and_moving_earlier_never_pushes_it_away(risky_base, which, quarters):
    """Slipping one generation's first ship by whole quarters never makes the goal date earlier, never raises the
    GW at the goal date (beyond the roadmap's MIP gap: the plan maximises delivered compute, not GW) and never raises
    P(goal) (same seed and samples: the same slips, delays and yields); moving it earlier does the reverse."""
    generation = next(g for g in load_programme(SMALL).programme.generations if g.id == which)
    moved = {"risk": RISK, f"generations.{which}.first_ship": _quarters_later(generation.first_ship, quarters)}
    shifted = sweep_documents([load_programme(SMALL, moved)], samples=24, seed=5)[0]
    earlier, later = (risky_base, shifted) if quarters > 0 else (shifted, risky_base)
    (met_early, gw_early, p_early), (met_late, gw_late, p_late) = _goal_outcome(earlier), _goal_outcome(later)
    assert met_late >= met_early
    assert gw_late <= gw_early * (1 + DEFAULT_GAP)
    assert p_late <= p_early


def test_line_band_option_reaches_the_plans_risk_run(monkeypatch):
    """``programme plan --samples N --line-band R`` simulates the lines' rate bands (R replications, the run's seed)
    and hands them to the same Monte Carlo as ``programme risk --line-band``; without the option, none (the
    default, so the demo's headline stays); --line-band without --samples is bad input (exit 2)."""
    from types import SimpleNamespace

    import rackwright.programme as programme
    import rackwright.programme.plan as plan_module
    import rackwright.programme.whatif as whatif_module

    asked: list = []

    class Stop(Exception):
        pass

    def fake_risk(*args, bands=None, **kwargs):
        asked.append(bands)
        raise Stop

    def fake_plan(loaded, *args):
        return SimpleNamespace(loaded=loaded, result=None, seconds={})

    monkeypatch.setattr(programme, "plan_programme", fake_plan)
    monkeypatch.setattr(plan_module, "programme_document", lambda plan: {})
    monkeypatch.setattr(whatif_module, "line_bands", lambda loaded, n, seed: ("bands", n, seed))
    monkeypatch.setattr(whatif_module, "programme_risk", fake_risk)
    argv = ["programme", "plan", str(SMALL), "--samples", "5", "--seed", "7"]
    for flags in ([], ["--line-band", "3"]):
        result = CliRunner().invoke(app, [*argv, *flags])
        assert isinstance(result.exception, Stop), result.output
    assert asked == [None, ("bands", 3, 7)]
    refused = CliRunner().invoke(app, ["programme", "plan", str(SMALL), "--line-band", "3"])
    assert refused.exit_code == 2 and "--samples" in refused.output
