"""The roadmap plan page: headline numbers and inputs, the Gantt (generations, site power steps, factory lines),
racks and GW by site and by factory, factory utilisation; the risk page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.roadmap.report import (
    _build_windows,
    _racks_by,
    constraints_table,
    gantt_bars,
    goal_date_shares,
    gw_by,
    name_colours,
    plan_charts,
    plan_headline,
    plan_page,
    risk_figure,
)

ROOT = Path(__file__).resolve().parents[1]

QUARTERS = ["2027Q1", "2027Q2", "2027Q3", "2027Q4"]
DOC = {
    "roadmap": "hand-made",
    "feasible": True,
    "deployed_gw": 1.0,
    "goal": {"it_power_gw": 1.0, "by": "2027-12-31", "objective": "cost", "precision": "bf16_dense"},
    "quarters": QUARTERS,
    "gw_by_generation": {"a": dict.fromkeys(QUARTERS, 0.5), "b": dict.fromkeys(QUARTERS, 0.5)},
    "racks": [
        {"generation": "a", "site": "x", "quarter": "2027Q2", "racks": 10},
        {"generation": "a", "site": "y", "quarter": "2027Q1", "racks": 5},
        {"generation": "a", "site": "x", "quarter": "2027Q3", "racks": 0},
        {"generation": "b", "site": "x", "quarter": "2027Q4", "racks": 7},
    ],
    "racks_by_factory": [
        {"generation": "a", "factory": "f", "quarter": "2027Q1", "racks": 15},
        {"generation": "b", "factory": "f", "quarter": "2027Q4", "racks": 7},
    ],
    "factory_utilisation": {"f": {"2027Q1": 0.5, "2027Q4": 1.0}},
    "capex_usd_by_quarter": dict.fromkeys(QUARTERS, 1e9),
    "binding_constraints": [{"family": "site", "name": "x", "quarters": ["2027Q2"], "message": "site x binds"}],
    "gw_by_quarter": dict(zip(QUARTERS, [0.5, 0.8, 1.0, 1.0], strict=True)),
    "peak_eflops_by_quarter": dict(zip(QUARTERS, [1.0, 2.0, 3.0, 3.0], strict=True)),
    "delivered_eflops_by_quarter": dict(zip(QUARTERS, [0.5, 1.0, 1.5, 1.5], strict=True)),
    "inputs": {
        "start": "2027-01-01",
        "by": "2027-12-31",
        "generations": [
            {
                "generation": "a",
                "first_ship": "2027-01-01",
                "full_rate": "2027-03-01",
                "end_of_builds": "2027-09-30",
                "rack_it_power_kw": 100.0,
            },
            {
                "generation": "b",
                "first_ship": "2027-10-01",
                "full_rate": "2027-10-01",
                "end_of_builds": None,
                "rack_it_power_kw": 200.0,
            },
        ],
        "sites": [
            {"site": "x", "pue": 1.25, "power": [{"from": "2027-01-01", "facility_mw": 5.0, "it_power_mw": 4.0}]},
            {"site": "y", "pue": 1.0, "power": [{"from": "2027-01-01", "facility_mw": 1.0, "it_power_mw": 1.0}]},
        ],
        "factories": [
            {
                "factory": "f",
                "location": "US",
                "start": "2027-01-01",
                "lines": [
                    {"generation": "a", "racks_per_week": 2.0, "from": "2027-01-01", "to": "2027-09-30"},
                    {"generation": "b", "racks_per_week": 1.0, "from": "2027-10-01", "to": "2027-12-31"},
                ],
            }
        ],
        "supply": [],
    },
}


def test_build_window_runs_from_first_to_last_quarter_with_racks():
    # a builds 5 in Q1 and 10 in Q2 (the 0 in Q3 is no build); b builds 7 in Q4 only
    assert _build_windows(DOC) == [("a", "2027Q1", "2027Q2", 15), ("b", "2027Q4", "2027Q4", 7)]


def test_racks_by_site_and_factory_sum_the_records_per_quarter():
    assert _racks_by(DOC, "racks", "site") == {"x": [0, 10, 0, 7], "y": [5, 0, 0, 0]}
    assert _racks_by(DOC, "racks_by_factory", "factory") == {"f": [15, 0, 0, 7]}


def test_gw_by_site_and_factory_is_racks_times_rack_power_cumulated():
    """a: 100 kW per rack, b: 200 kW. Site x: 10 a in Q2 (1 MW), 7 b in Q4 (1.4 MW); y: 5 a in Q1 (0.5 MW);
    factory f: 15 a in Q1 (1.5 MW), 7 b in Q4 (1.4 MW)."""
    assert gw_by(DOC, "racks", "site") == {
        "x": pytest.approx([0.0, 0.001, 0.001, 0.0024]),
        "y": pytest.approx([0.0005] * 4),
    }
    assert gw_by(DOC, "racks_by_factory", "factory") == {"f": pytest.approx([0.0015, 0.0015, 0.0015, 0.0029])}


def test_gantt_has_the_ramp_the_power_steps_and_the_lines_with_the_racks_built():
    bars = {(b["kind"], b["row"], b["phase"]): (b["start"], b["end"]) for b in gantt_bars(DOC)}
    assert bars == {
        ("generation", "a", "ramp"): ("2027-01-01", "2027-03-01"),
        ("generation", "a", "full rate"): ("2027-03-01", "2027-09-30"),
        ("generation", "a", "built"): ("2027-01-01", "2027-07-01"),  # Q1 to the end of Q2
        ("generation", "b", "full rate"): ("2027-10-01", "2027-12-31"),  # no ramp: full rate at first ship
        ("generation", "b", "built"): ("2027-10-01", "2028-01-01"),
        ("site power", "x", "power step"): ("2027-01-01", "2027-12-31"),
        ("site power", "y", "power step"): ("2027-01-01", "2027-12-31"),
        ("factory line", "f · a", "line"): ("2027-01-01", "2027-09-30"),
        ("factory line", "f · a", "built"): ("2027-01-01", "2027-04-01"),  # 15 racks in Q1 at f
        ("factory line", "f · b", "line"): ("2027-10-01", "2027-12-31"),
        ("factory line", "f · b", "built"): ("2027-10-01", "2028-01-01"),
    }


def _axis_titles(figure) -> dict[str, str]:
    layout = figure.layout.to_plotly_json()
    return {name: axis.get("title", {}).get("text") for name, axis in layout.items() if name[:5] in ("xaxis", "yaxis")}


#: Axes whose values are names or times, not quantities: their title says what they list.
CATEGORY_TITLES = {"quarter", "date", "factory", "generation", "site", "factory · generation"}


def assert_every_axis_titled_with_its_unit(figure) -> None:
    titles = _axis_titles(figure)
    assert titles and all(titles.values()), titles
    assert all(t in CATEGORY_TITLES or ("(" in t and t.endswith(")")) for t in titles.values()), titles


#: The plan page's headings, in page order (DOC has a generation, a site power and a factory line Gantt).
HEADINGS = [
    "IT power deployed by generation (GW, cumulative)",
    "Training compute: peak and delivered (EFLOP/s, cumulative)",
    "Generations: ramp, full rate and racks built",
    "Site power steps",
    "Factory lines: build period and racks built",
    "Racks deployed per quarter by site",
    "IT power deployed by site (GW, cumulative)",
    "Racks built per quarter by factory",
    "IT power built by factory (GW, cumulative)",
    "Factory utilisation (% of line time)",
    "Capex by quarter (US$ billion)",
]


def test_plan_page_is_one_chart_per_heading_each_axis_titled():
    """Issue 22 audit: the page was one 3,669 px figure of subplots whose axis titles ran into the next subplot's
    title. Now each chart is a figure of its own under its heading, every axis titled, the quarters in plan order,
    each chart short enough for an A4 landscape page (703 px less its heading)."""
    charts = dict(plan_charts(DOC))
    assert list(charts) == HEADINGS
    for heading, figure in charts.items():
        assert_every_axis_titled_with_its_unit(figure)
        assert figure.layout.height <= 640, heading
        assert figure.layout.xaxis.title.text == (
            "date" if "ramp" in heading or "steps" in heading or "lines" in heading else "quarter"
        ), heading
        if figure.layout.xaxis.title.text == "quarter":
            assert list(figure.layout.xaxis.categoryarray) == QUARTERS, heading
    assert charts[HEADINGS[0]].layout.yaxis.title.text == "IT power deployed (GW, cumulative)"
    assert charts[HEADINGS[-1]].layout.yaxis.title.text == "capex (US$ billion)"
    assert [t.y for t in charts[HEADINGS[-1]].data] == [(1.0, 1.0, 1.0, 1.0)]  # 1e9 USD a quarter


def test_plan_page_draws_and_states_peak_and_delivered_compute_each_named():
    """Issue 18: peak and delivered compute side by side, each named (peak at the goal's precision, delivered on
    the reference MoE workload), in the chart and the headline (DOC's last quarter: 3 and 1.5 EFLOP/s)."""
    chart = dict(plan_charts(DOC))["Training compute: peak and delivered (EFLOP/s, cumulative)"]
    assert {t.name: t.y for t in chart.data} == {
        "peak (bf16_dense)": (1.0, 2.0, 3.0, 3.0),
        "delivered on DeepSeek-V3 training": (0.5, 1.0, 1.5, 1.5),
    }
    assert "3 EFLOP/s peak (bf16_dense), 1.50 EFLOP/s delivered on DeepSeek-V3 training" in plan_headline(DOC)


def test_plan_heatmap_is_each_factorys_line_time_used():
    heatmap = dict(plan_charts(DOC))["Factory utilisation (% of line time)"].data[0]
    assert [list(row) for row in heatmap.z] == [[50.0, 0.0, 0.0, 100.0]]  # % of capacity, 0 where absent
    assert list(heatmap.y) == ["f"] and heatmap.colorbar.title.text == "used (%)"


def test_generations_sites_and_factories_have_their_own_colours_kept_across_charts():
    """Issue 22 audit: one colour (#636EFA) named gb200, abilene and houston. A name keeps its colour in both
    charts of its kind, and no colour names two kinds."""
    charts = dict(plan_charts(DOC))
    colours = {kind: name_colours(DOC, kind) for kind in ("generation", "site", "factory")}
    assert list(colours["generation"]) == ["a", "b"] and list(colours["site"]) == ["x", "y"]
    assert list(colours["factory"]) == ["f"]
    drawn = {kind: set(c.values()) for kind, c in colours.items()}
    assert len(drawn["generation"] | drawn["site"] | drawn["factory"]) == 5  # five names, five colours
    gw = {t.name: t.line.color for t in charts[HEADINGS[0]].data if t.stackgroup}
    assert gw == colours["generation"]
    for kind, racks, power in (("site", HEADINGS[5], HEADINGS[6]), ("factory", HEADINGS[7], HEADINGS[8])):
        assert {t.name: t.marker.color for t in charts[racks].data} == colours[kind]
        assert {t.name: t.line.color for t in charts[power].data} == colours[kind]


def _cells(html: str, tag: str) -> list[str]:
    return re.findall(f"<{tag}[^>]*>([^<]*)</{tag}>", html)


def test_plan_page_is_html_with_the_charts_under_their_headings_and_the_constraints_table():
    page = plan_page(DOC)
    assert re.findall("<h2>([^<]*)</h2>", page) == ["Inputs", *HEADINGS, "Binding constraints"]
    assert page.count("class='chart'") == len(HEADINGS)
    assert re.findall(r'<script[^>]*src="([^"]+)"', page) == ["plotly.min.js"]  # loaded once, by the first chart
    assert "<li>Goal: 1 GW of IT power from 2027-01-01 to 2027-12-31, objective cost (bf16_dense).</li>" in page
    assert _cells(constraints_table(DOC), "th") == ["constraint", "name", "quarters", "detail"]
    assert _cells(constraints_table(DOC), "td") == ["site", "x", "2027Q2", "site x binds"]


RISK_DOC = {
    "roadmap": "hand-made",
    "samples": 20,
    "goal": {"it_power_gw": 1.0, "by": "2027-12-31"},
    "p_goal": 0.75,
    "gw_by_date": {"p10": 0.5, "p50": 1.2, "p90": 1.2, "mean": 1.0},
    "gw_by_quarter": {q: {"p10": 0.5, "p50": 1.0, "p90": 1.2} for q in QUARTERS},
    "p_goal_by_quarter": dict(zip(QUARTERS, [0.0, 0.25, 0.25, 0.75], strict=True)),
    "tornado": [
        {"input": "qualification slip a", "low": 0.4, "high": 1.2, "unit": "GW"},
        {"input": "factory yield f", "low": 0.9, "high": 1.1, "unit": "GW"},
    ],
}


def _notes(figure) -> list[str]:
    return [a.text for a in figure.layout.annotations]


def test_risk_page_says_why_its_median_can_exceed_the_plan():
    figure = risk_figure(RISK_DOC)
    assert any("reach" in text and "roadmap plan" in text for text in _notes(figure))
    assert figure.layout.xaxis.title.text == "quarter" and "GW" in figure.layout.yaxis.title.text


def test_risk_page_overlays_the_deterministic_plan():
    """With ``plan_gw_by_quarter`` in the risk document the page draws the plan over the fan, quarter by quarter;
    without it, no plan line."""
    doc = RISK_DOC
    assert not [t for t in risk_figure(doc).data if t.name.startswith("plan")]
    plan = dict(zip(QUARTERS, [0.1, 0.4, 0.8, 1.0], strict=True))
    line = next(t for t in risk_figure({**doc, "plan_gw_by_quarter": plan}).data if t.name.startswith("plan"))
    assert list(line.x) == QUARTERS and list(line.y) == [0.1, 0.4, 0.8, 1.0]


def test_risk_page_shows_the_quarter_the_goal_is_met():
    """Met by each quarter's end: 0, 25, 25, 75 % → first met in the quarter: 0, 25, 0, 50 %, and 25 % not by the
    goal date (the shares add up to all samples)."""
    labels, shares = goal_date_shares(RISK_DOC, QUARTERS)
    assert labels == [*QUARTERS, "not by 2027-12-31"]
    assert shares == pytest.approx([0.0, 25.0, 0.0, 50.0, 25.0]) and sum(shares) == pytest.approx(100.0)
    figure = risk_figure(RISK_DOC)
    bars = next(t for t in figure.data if t.type == "bar" and t.xaxis == "x2")
    assert list(bars.y) == pytest.approx(shares)
    assert figure.layout.yaxis2.title.text == "samples (%)"


def test_risk_page_draws_the_tornado_from_the_mean():
    """Each input's worst-decile bar runs from the mean (1.0 GW) to its low, its best to its high, the largest
    swing on top; the axis is titled in GW and a sentence under the chart says what it shows."""
    figure = risk_figure(RISK_DOC)
    worst, best = (next(t for t in figure.data if t.name == name) for name in ("worst decile", "best decile"))
    assert list(worst.y) == list(best.y) == ["qualification slip a", "factory yield f"]
    assert worst.base == best.base == 1.0 and worst.orientation == "h"
    assert list(worst.x) == pytest.approx([-0.6, -0.1]) and list(best.x) == pytest.approx([0.2, 0.1])
    assert figure.layout.yaxis3.autorange == "reversed"  # the first record, the largest swing, on top
    assert "(GW)" in figure.layout.xaxis3.title.text
    assert any("worst" in text and "best" in text and "mean over all samples" in text for text in _notes(figure))


@pytest.fixture(scope="module")
def plan_10gw(tmp_path_factory):
    """``roadmap plan examples/roadmap-10gw.yaml -o OUT``: plan.json and report.html."""
    out = tmp_path_factory.mktemp("roadmap")
    result = CliRunner().invoke(app, ["roadmap", "plan", str(ROOT / "examples" / "roadmap-10gw.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text()), (out / "report.html").read_text()


def test_plan_page_opens_with_the_headline_numbers_of_plan_json(plan_10gw):
    """The headline's numbers are plan.json's, formatted here by hand: IT power at the goal date (the last
    quarter's, three significant figures), the first quarter at or over the goal, the racks deployed (the sum of
    the site records) and the binding constraints counted; the inputs block names the goal and its dates."""
    doc, page = plan_10gw
    goal, quarters = doc["goal"], doc["quarters"]
    last = quarters[-1]["it_power_gw"]
    met = next(q["quarter"] for q in quarters if q["it_power_gw"] >= goal["it_power_gw"])
    racks = sum(r["racks"] for r in doc["racks"])
    binding = len(doc["binding_constraints"])
    assert doc["feasible"] and last == doc["deployed_gw"]
    expected = [
        f"{last:.3g} GW of IT power by 2029-12-31 (goal 10 GW)",
        f"goal met in {met} (by",
        f"{racks:,} racks deployed",
        f"{binding} binding constraints",
        "Goal: 10 GW of IT power from 2026-07-01 to 2029-12-31",
        "Factory lordstown-plant (US) from 2027-04-01",
    ]
    assert all(text in page for text in expected), [text for text in expected if text not in page]


def test_plan_gantt_has_a_row_per_generation_site_and_factory_line_of_the_yaml(plan_10gw):
    """examples/roadmap-10gw.yaml, counted by hand: 6 generations (gb200, gb300, vr, kyber, e1, e2; gb200's ramp
    is [1.0], so 5 ramps); 8 sites with 2+3+3+3+3+3+2+2 = 21 power steps; factory lines (capacities): houston 6,
    guadalajara 5, lordstown-plant 5 = 16. Rows: 6 + 8 + 16 = 30."""
    from rackwright.roadmap import load_roadmap, plan, plan_document

    doc = plan_document(plan(load_roadmap(ROOT / "examples" / "roadmap-10gw.yaml")))
    bars = gantt_bars(doc)
    count = lambda phase: sum(b["phase"] == phase for b in bars)  # noqa: E731
    assert (count("ramp"), count("full rate"), count("power step"), count("line")) == (5, 6, 21, 16)
    rows = {(b["kind"], b["row"]) for b in bars}
    assert len(rows) == 30 and len({r for k, r in rows if k == "site power"}) == 8
    gb300 = next(g for g in doc["inputs"]["generations"] if g["generation"] == "gb300")
    assert (gb300["first_ship"], gb300["full_rate"]) == ("2026-07-01", "2026-09-01")  # ramp [0.6, 0.8, 1.0]
    charts = dict(plan_charts(doc))
    for figure in charts.values():
        assert_every_axis_titled_with_its_unit(figure)
    gantts = [charts[h] for h in ("Generations: ramp, full rate and racks built", "Site power steps")]
    gantts.append(charts["Factory lines: build period and racks built"])
    assert [len(f.layout.yaxis.categoryarray) for f in gantts] == [6, 8, 16]
    assert sum(len(t.base) for f in gantts for t in f.data) == len(bars)
    assert max(f.layout.height for f in gantts) == 130 + 26 * 16  # 546 px: one A4 landscape page


def test_risk_page_states_its_inputs_and_axis_titles():
    """Issue 22: the risk page opens with P(goal) and the IT power by the date (RISK_DOC: 75 %, P10 0.5, P50 1.2,
    P90 1.2 GW), then its inputs: the goal, samples and seed, the inputs drawn per sample by the tornado's names;
    every axis titled."""
    from report_axes import untitled_axes

    figure = risk_figure({**RISK_DOC, "seed": 11})
    title = figure.layout.title.text.replace("<br>", " ")
    assert "= 75.0% over 20 samples; IT power by 2027-12-31: P10 0.500, P50 1.20, P90 1.20 GW" in title
    assert "Goal 1 GW of IT power by 2027-12-31; 20 samples, seed 11" in title
    assert "Drawn per sample: qualification slip of a; factory yield of f." in title
    assert "Distributions" not in title  # none without the roadmap's risk section
    assert figure.layout.margin.t > 110 and untitled_axes(figure) == []


def test_roadmap_risk_page_gives_the_distributions_of_the_roadmap_file(tmp_path):
    """``roadmap risk -o`` passes the roadmap's risk section: examples/roadmap-10gw.yaml draws qualification slips
    from a triangular 0, 6, 26 weeks and factory yields from 0.85, 0.95, 1.0, an assumption it explains."""
    args = ["roadmap", "risk", str(ROOT / "examples" / "roadmap-10gw.yaml"), "--samples", "4", "--seed", "3"]
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    from report_axes import title_text

    page = title_text((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert "4 samples, seed 3" in page
    assert "qualification slip: triangular 0 week, 6 week, 26 week" in page
    assert "factory yield: triangular 0.85, 0.95, 1.0" in page
    assert "Their basis, assumption: Slips: GB200" in page


@pytest.mark.parametrize(
    ("shortfall", "unit", "shown"),
    [
        (1.2e6, "transceivers", "1,200,000"),  # was 1,200,000 only by chance of the figure format's 1e5 rule
        (1234567.0, "CDUs", "1,234,567"),
        (4360.503, "accelerators", "4,361"),  # 0.5 of an accelerator cannot be bought: rounded up
        (29.1, "racks", "30"),
        (12.0000000001, "transformers", "12"),  # the solver's rounding of a whole number stays whole
        (3.0, "units", "3"),  # pint reads "units" as micro-nits; a count all the same
        (2.9143, "line-weeks", "2.91"),  # line time is measured: the figure format
        (3.456, "TB", "3.46"),
        (None, "", "–"),
    ],
)
def test_a_shortfall_in_a_count_prints_whole_with_separators(shortfall, unit, shown):
    from rackwright.report.present import shortfall_text

    assert shortfall_text(shortfall, unit) == shown


def test_supply_shortfall_in_accelerators_is_whole_in_the_table_and_on_the_page(tmp_path):
    """The goal of 20 MW needs 20 MW / 124.56 kW × 72 = 11,560.5 accelerators against a cap of 7,200: short by
    4,360.5, printed 4,361 (whole, rounded up) at COLUMNS=80 and in the plan page's shortfalls table."""
    from test_roadmap import GB200_W, load, small, write

    from rackwright.roadmap import plan, plan_document

    needed = 20e6 / GB200_W * 72 - 7200
    assert 4360 < needed < 4361
    data = small(goal="20 MW", facility="100 MW", caps=7200)
    result = CliRunner().invoke(app, ["roadmap", "plan", str(write(tmp_path, data)), "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["binding_constraints"][0]["shortfall"] == pytest.approx(
        needed, rel=1e-6
    )  # the JSON keeps the LP's amount
    result = CliRunner().invoke(app, ["roadmap", "plan", str(write(tmp_path, data))], env={"COLUMNS": "80"})
    assert result.exit_code == 1, result.output
    rows = {tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in result.stdout.splitlines()}
    assert ("2026Q3", "supply", "gpus", "4,361", "accelerators (cumulative)") in rows
    assert max(len(line) for line in result.stdout.splitlines() if line[:1] in "┏┃┡│└") <= 80
    doc = plan_document(plan(load(data)))
    table = constraints_table(doc)
    assert _cells(table, "th") == ["quarter", "constraint", "name", "short by", "unit", "detail"]
    assert _cells(table, "td")[:6] == ["2026Q3", "supply", "gpus", "4,361", "accelerators (cumulative)", ""]
    assert "<h2>Shortfalls (goal not met)</h2>" in plan_page(doc)
