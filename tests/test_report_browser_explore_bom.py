"""The explorer's and the BOM's pages and the Kyber rack elevation in a real browser (Debian's Chromium under
Playwright), as tests/test_report_browser.py opens the other reports, with its helpers: no console error, no
request outside the folder, charts drawn; screenshots under ``out/screenshots/``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from test_report_browser import EXAMPLES, MAX_PAGE_BYTES, SCREENSHOTS, open_page
from test_server_web_browser import browser  # noqa: F401 (the fixture: Chromium under Playwright)

pytestmark = pytest.mark.browser


def run(*argv: str) -> None:
    result = CliRunner().invoke(app, list(argv))
    assert result.exit_code == 0, result.stdout + result.stderr


def test_explore_scatter_matrix_and_front_table(browser, tmp_path):  # noqa: F811 (the fixture)
    run("explore", str(EXAMPLES / "space-gb300-small.yaml"), "-o", str(tmp_path), "--no-sensitivity",
        "--export-pareto", str(tmp_path / "pareto"))  # fmt: skip
    page_path = tmp_path / "report.html"
    assert page_path.stat().st_size < MAX_PAGE_BYTES
    outside, errors = open_page(browser, page_path, "report-explore-full.png", ".plotly-graph-div .main-svg")
    assert outside == [] and errors == []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_path.as_uri())
    page.wait_for_selector(".splom, .plotly-graph-div .main-svg")
    charts = page.locator(".plotly-graph-div")
    assert charts.count() == 4  # scatter, scatter matrix, parallel coordinates, feasibility
    matrix = charts.nth(1)
    assert "Scatter matrix" in matrix.inner_text()
    matrix.screenshot(path=SCREENSHOTS / "report-explore-splom.png")
    link = page.locator("#front a").first
    assert link.get_attribute("href").startswith("pareto/pareto-")
    page.close()


def test_bom_cost_pareto_and_lead_time_ladder(browser, tmp_path):  # noqa: F811 (the fixture)
    run("bom", str(EXAMPLES / "gb200-nvl72.yaml"), "-o", str(tmp_path))
    outside, errors = open_page(browser, tmp_path / "report.html", "report-bom-pareto.png", ".plotly-graph-div .main-svg")
    assert outside == [] and errors == []
    assert (SCREENSHOTS / "report-bom-pareto.png").stat().st_size > 0


def test_kyber_elevation_shows_its_blades(browser, tmp_path):  # noqa: F811 (the fixture)
    run("elevation", str(EXAMPLES / "kyber-nvl576.yaml"), "-o", str(tmp_path))
    svg = tmp_path / "elevation.svg"
    outside, errors = open_page(browser, tmp_path / "report.html", "elevation-kyber-nvl576.png", "svg text")
    assert outside == [] and errors == []
    assert "compute-blades 72/72" in svg.read_text() and svg.stat().st_size < MAX_PAGE_BYTES
