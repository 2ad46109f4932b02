"""The programme dashboard's spares chart (``programme plan -o``'s ``report.html``): each site's spare pool by
quarter, stacked, from programme.json's ``site_spares_cost`` series, and the goal date's spares cost in the
headline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app

SMALL = Path(__file__).resolve().parents[1] / "examples" / "programme-small.yaml"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The small example planned by the CLI: its programme.json and its report.html."""
    out = tmp_path_factory.mktemp("programme")
    result = CliRunner().invoke(app, ["programme", "plan", str(SMALL), "-o", str(out)])
    assert result.exit_code in (0, 1), result.output  # 1: the goal is missed; the page is written either way
    return json.loads((out / "programme.json").read_text()), (out / "report.html").read_text()


def _spares_chart(doc: dict) -> tuple[list, dict]:
    """The dashboard's spares traces (those on the spares chart's y axis) and that axis."""
    from rackwright.programme.report import LEGENDS, dashboard

    figure = dashboard(doc)
    axis = figure.get_subplot(LEGENDS.index("spares by site") + 1, 1).yaxis
    return [t for t in figure.data if getattr(t, "yaxis", None) == "y" + axis.plotly_name[5:]], axis


def test_spares_chart_stacks_each_sites_pool_in_millions(written):
    """One bar series per site holding racks, in the order of programme.json, its heights the site's
    ``site_spares_cost`` in US$ M, each standing on the sum of the sites before it; the stack's top in the last
    quarter is the programme's spares cost by the goal date."""
    doc, _ = written
    sites = [s for s in doc["series"] if s["name"] == "site_spares_cost"]
    assert [s["site"] for s in sites] == ["abilene", "milam"]  # both hold racks in the small example
    traces, axis = _spares_chart(doc)
    assert [t.name for t in traces] == ["abilene", "milam"] and {t.type for t in traces} == {"bar"}
    below = [0.0] * len(doc["quarters"])
    for trace, site in zip(traces, sites, strict=True):
        assert list(trace.x) == doc["quarters"]
        assert list(trace.y) == pytest.approx([v / 1e6 for v in site["values"]])
        assert list(trace.base) == pytest.approx(below)
        below = [b + v / 1e6 for b, v in zip(below, site["values"], strict=True)]
    head = {h["name"]: h["value"] for h in doc["headline"]}
    assert below[-1] == pytest.approx(head["spares_cost_by_goal_date"] / 1e6)
    assert axis.title.text == "spare pool value (US$ M)"


def test_the_page_shows_the_spares_chart_and_its_headline(written):
    """report.html carries the chart's title and the goal date's spares cost in the headline, as report.present
    formats it."""
    from rackwright.report.present import headline_format

    doc, page = written
    row = next(h for h in doc["headline"] if h["name"] == "spares_cost_by_goal_date")
    shown = headline_format(row["name"], row["unit"])
    assert f"{shown.label}: {shown.value(row['value'])} {shown.unit}" in page
    assert "Spares: value of each site&#39;s spare pool" in page or "Spares: value of each site's spare pool" in page


def _chart(figure, legend: str) -> tuple[list, dict]:
    """The traces of the dashboard's chart whose legend is ``legend`` (on its y axis), and that axis."""
    from rackwright.programme.report import LEGENDS

    axis = figure.get_subplot(LEGENDS.index(legend) + 1, 1).yaxis
    return [t for t in figure.data if getattr(t, "yaxis", None) == "y" + axis.plotly_name[5:]], axis


def test_site_plant_chart_is_programme_json_series(written):
    """The site plant chart: one line per plant series of programme.json (MV/LV transformers, CDUs, heat rejection
    units, chillers), its values the series' by quarter, the axis titled with its unit. The small example names no
    transformer or CDU supply line, so nothing is checked beside them here (test_programme_supply has the lines)."""
    from rackwright.programme.report import dashboard

    doc, page = written
    traces, axis = _chart(dashboard(doc), "site plant")
    names = ["site_transformers", "site_cdus", "site_heat_rejection_units", "site_chillers"]
    assert [t.name for t in traces] == ["MV/LV transformers", "CDUs", "heat rejection units", "chillers"]
    for trace, name in zip(traces, names, strict=True):
        values = next(s["values"] for s in doc["series"] if s["name"] == name)
        assert list(trace.x) == doc["quarters"] and list(trace.y) == values
    assert axis.title.text == "units (cumulative)"
    assert "Site plant installed by quarter" in page


def test_first_ship_table_is_the_plans_check_with_late_rows_flagged(written):
    """The first-ship table: one row per generation of programme.json's first_ship_check, its dates those of the
    check. The small example orders GB300's parts 2025-07-01: its first rack 2026-07-14 (lead times + 14 days), 13
    days after its first ship 2026-07-01, flagged late in red; E1's, 2026-04-21, 163 days before 2026-10-01."""
    from rackwright.programme.report import dashboard

    doc, page = written
    table = next(t for t in dashboard(doc).data if t.type == "table" and "first ship" in t.header.values)
    columns = dict(zip(table.header.values, table.cells.values, strict=True))
    check = doc["first_ship_check"]
    assert list(columns["generation"]) == [r["generation"] for r in check] == ["gb300", "e1"]
    assert list(columns["earliest first rack"]) == [r["earliest_first_rack"] for r in check]
    assert list(columns["first ship"]) == [r["first_ship"] for r in check] == ["2026-07-01", "2026-10-01"]
    assert list(columns["earliest first rack"]) == ["2026-07-14", "2026-04-21"]
    assert list(columns["buildable by first ship"]) == ["LATE by 13 days", "yes"]
    assert list(columns["slack (days)"]) == ["-13", "+163"]
    assert list(table.cells.fill.color[0]) == ["#f8d7da", "white"]
    assert "LATE by 13 days" in page


def test_a_plan_without_a_planned_site_has_an_empty_plant_chart(written):
    """A programme whose sites name no site file has no site_* series (the server's stored plans among them): the
    dashboard still draws, its site plant chart empty (it raised StopIteration before)."""
    from rackwright.programme.report import dashboard

    doc, _ = written
    bare = {**doc, "series": [s for s in doc["series"] if not s["name"].startswith("site_")], "site_supply_check": []}
    traces, axis = _chart(dashboard(bare), "site plant")
    assert traces == [] and axis.title.text == "units (cumulative)"
