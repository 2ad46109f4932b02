"""The roadmap plan page: build windows (the Gantt), racks by site and by factory, factory utilisation."""

from __future__ import annotations

import pytest

from rackwright.roadmap.report import _build_windows, _racks_by, goal_date_shares, plan_figure, risk_figure

QUARTERS = ["2027Q1", "2027Q2", "2027Q3", "2027Q4"]
DOC = {
    "roadmap": "hand-made",
    "feasible": True,
    "deployed_gw": 1.0,
    "goal": {"it_power_gw": 1.0, "by": "2027-12-31"},
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
}


def test_build_window_runs_from_first_to_last_quarter_with_racks():
    # a builds 5 in Q1 and 10 in Q2 (the 0 in Q3 is no build); b builds 7 in Q4 only
    assert _build_windows(DOC) == [("a", "2027Q1", "2027Q2", 15), ("b", "2027Q4", "2027Q4", 7)]


def test_racks_by_site_and_factory_sum_the_records_per_quarter():
    assert _racks_by(DOC, "racks", "site") == {"x": [0, 10, 0, 7], "y": [5, 0, 0, 0]}
    assert _racks_by(DOC, "racks_by_factory", "factory") == {"f": [15, 0, 0, 7]}


def test_plan_page_has_the_gantt_the_heatmap_and_titled_axes():
    figure = plan_figure(DOC)
    heatmap = next(t for t in figure.data if t.type == "heatmap")
    assert [list(row) for row in heatmap.z] == [[50.0, 0.0, 0.0, 100.0]]  # % of capacity, 0 where absent
    gantt = [t for t in figure.data if t.type == "scatter" and t.y is not None and set(t.y) <= {"a", "b"}]
    assert [list(t.x) for t in gantt] == [["2027Q1", "2027Q2"], ["2027Q4"]]
    layout = figure.layout.to_plotly_json()
    x_titles = [axis.get("title", {}).get("text") for name, axis in layout.items() if name.startswith("xaxis")]
    assert x_titles.count("quarter") == 6  # every chart but the table
    assert figure.layout.yaxis.title.text == "GW"


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
