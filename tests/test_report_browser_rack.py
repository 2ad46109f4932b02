"""The rack commands' pages (``-o DIR`` of evaluate, check, compare, catalog show and sourcing build-date) in a real
browser (Debian's Chromium under Playwright), as tests/test_report_browser.py opens the other reports, with its
helpers: small, plotly.js once beside the page, no console error, no request outside the folder, the headline in the
title and every chart drawn; screenshots ``out/screenshots/report-<command>.png``. catalog list's page, made of
tables, is opened by tests/test_report_browser_netbox.py."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from test_report_browser import EXAMPLES, MAX_PAGE_BYTES, open_page
from test_server_web_browser import browser  # noqa: F401 (the fixture: Chromium under Playwright)

pytestmark = pytest.mark.browser

GB200, GB300, CATALINA = (str(EXAMPLES / f"{n}.yaml") for n in ("gb200-nvl72", "gb300-nvl72", "meta-catalina"))
#: (screenshot name, command line without -o, its exit code, what the page's headline says)
PAGES = [
    ("evaluate", ["evaluate", GB200, GB300, CATALINA], 1, "tightest budget THM002 at 129.6% (Meta Catalina IT rack)"),
    ("check", ["check", GB200, CATALINA], 1, "checked against 28 rules: 1 pass every rule that applies; 1 error(s), 4 warning(s)"),
    ("compare", ["compare", GB200, GB300], 0, "Bill of materials 3,130,825 USD → 3,791,425 USD (+21.1%)"),
    ("catalog-show", ["catalog", "show", "nvidia-b200-gb200"], 0, "30,000 USD, lead time 52 weeks, made in TW"),
    (
        "build-date",
        ["sourcing", "build-date", GB200, "--order-date", "2026-12-01", "--racks", "1000", "--scenario",
         str(EXAMPLES / "sourcing-us-power-cabling.yaml")],
        0,
        "first rack 2027-12-14, rack 1,000 2027-12-21",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "argv", "code", "headline"), PAGES, ids=[p[0] for p in PAGES])
def test_rack_pages_open_offline_and_draw(browser, tmp_path, name, argv, code, headline):  # noqa: F811 (the fixture)
    result = CliRunner().invoke(app, [*argv, "-o", str(tmp_path)])
    assert result.exit_code == code, result.stdout + result.stderr
    path = tmp_path / "report.html"
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_size < MAX_PAGE_BYTES
    assert re.findall(r'<script[^>]*src="([^"]+)"', html) == ["plotly.min.js"]
    assert json.dumps(headline)[1:-1] in html  # as plotly writes it into the page (→ as \\u2192)
    outside, errors = open_page(browser, path, f"report-{name}.png", ".plotly-graph-div .main-svg")
    assert outside == [] and errors == []
