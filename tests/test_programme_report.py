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
