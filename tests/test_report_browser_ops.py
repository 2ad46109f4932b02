"""The pages of ``-o DIR`` of perf train|search|infer, factory capacity, reliability spares and qualify in a real
browser (Debian's Chromium under Playwright, with tests/test_report_browser.py's helpers): small, no request
outside the folder, no console error, charts drawn, the headline in the title; screenshots
``out/screenshots/report-<command>.png``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from test_report_browser import MAX_PAGE_BYTES, open_page
from test_report_ops_pages import COMMANDS
from test_server_web_browser import browser  # noqa: F401 (the fixture: Chromium under Playwright)

pytestmark = pytest.mark.browser

#: What each page's headline says first (its numbers are checked in tests/test_report_ops_pages.py).
HEADLINES = {
    "train": "s per step,",
    "search": "fastest TP",
    "infer": "time to first token",
    "capacity": "meets 100 racks",
    "spares": "spares cost:",
    "qualify": "9 pass, 1 warn, 1 fail",
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_ops_pages_draw_offline(browser, tmp_path, name):  # noqa: F811 (the fixture)
    words, args, code = COMMANDS[name]
    result = CliRunner().invoke(app, [*words, *args, "-o", str(tmp_path)])
    assert result.exit_code == code, result.stdout + result.stderr
    page = tmp_path / "report.html"
    assert page.stat().st_size < MAX_PAGE_BYTES
    assert HEADLINES[name] in page.read_text(encoding="utf-8")
    screenshot = f"report-{'-'.join(words)}.png"
    outside, errors = open_page(browser, page, screenshot, ".plotly-graph-div .main-svg")
    assert outside == [] and errors == []
