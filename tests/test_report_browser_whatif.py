"""The single what-ifs' pages (``sourcing whatif DESIGN SCENARIO -o DIR`` and ``programme whatif PROGRAMME --set ...
-o DIR``, issue 22) in a real browser (Debian's Chromium under Playwright), as tests/test_report_browser.py opens
the other reports, with its helpers: small, plotly.js once beside the page, no console error, no request outside
the folder, the change in a headline figure in the title and every chart drawn; screenshots
``out/screenshots/report-sourcing-whatif.png`` and ``report-programme-whatif.png``."""

from __future__ import annotations

import pytest

from test_report_browser import EXAMPLES
from test_report_browser_rack import test_rack_pages_open_offline_and_draw as open_and_check
from test_server_web_browser import browser  # noqa: F401 (the fixture: Chromium under Playwright)

pytestmark = pytest.mark.browser

#: (screenshot name, command line without -o, what the page's headline says)
PAGES = [
    (
        "sourcing-whatif",
        ["sourcing", "whatif", str(EXAMPLES / "gb200-nvl72.yaml"), str(EXAMPLES / "sourcing-us-power-cabling.yaml")],
        "US content (share of cost): 1.0% → 7.5% (+6.5 pp)",
    ),
    (
        "programme-whatif",
        ["programme", "whatif", str(EXAMPLES / "programme-small.yaml"), "--set",
         "generations.e1.first_ship=2027-04-01"],
        "IT power by the goal date: 0.808 → 0.669 GW (-0.139)",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "argv", "headline"), PAGES, ids=[p[0] for p in PAGES])
def test_whatif_pages_open_offline_and_draw(browser, tmp_path, name, argv, headline):  # noqa: F811 (the fixture)
    """The rack pages' checks (tests/test_report_browser_rack.py), exit 0."""
    open_and_check(browser, tmp_path, name, argv, 0, headline)
