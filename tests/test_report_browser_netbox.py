"""The pages of HTML tables (``-o DIR`` of netbox push|diff, catalog list and catalog import-netbox) in a real
browser (Debian's Chromium under Playwright, with tests/test_report_browser.py's helpers): small, no script file,
no request outside the folder, no console error, the headline and its table drawn; screenshots
``out/screenshots/report-<page>.png``. The NetBox pages come from the stand-in NetBox of
tests/test_netbox_report.py."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from test_netbox import small_plan  # noqa: F401 (the fixture: 4 GB200 NVL72 racks, two tiers)
from test_netbox_report import TOKEN, URL, netbox  # noqa: F401 (the stand-in NetBox)
from test_report_browser import MAX_PAGE_BYTES, open_page
from test_server_web_browser import browser  # noqa: F401 (the fixture: Chromium under Playwright)

pytestmark = pytest.mark.browser


def _open(browser, folder, screenshot: str, headline: str) -> None:  # noqa: F811 (the fixture)
    path = folder / "report.html"
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_size < MAX_PAGE_BYTES and "<script src" not in html and headline in html
    outside, errors = open_page(browser, path, screenshot, "table td")
    assert outside == [] and errors == []


@pytest.mark.parametrize(
    ("command", "headline"),
    [("push", "962 objects created, 6 skipped"), ("diff", "4 differences from NetBox")],
)
def test_netbox_pages_open_offline(browser, netbox, small_plan, tmp_path, command, headline):  # noqa: F811
    argv = ["netbox", command, str(small_plan), "--url", URL, "--token", TOKEN, "-o", str(tmp_path)]
    assert CliRunner().invoke(app, argv).exit_code == 1
    _open(browser, tmp_path, f"report-netbox-{command}.png", headline)


def test_catalog_list_page_opens_offline(browser, tmp_path):  # noqa: F811 (the fixture)
    assert CliRunner().invoke(app, ["catalog", "list", "-o", str(tmp_path)]).exit_code == 0
    _open(browser, tmp_path, "report-catalog-list.png", "parts of")


def test_catalog_import_page_opens_offline(browser, tmp_path):  # noqa: F811 (the fixture)
    runner = CliRunner()
    assert runner.invoke(app, ["catalog", "export-netbox", "nvidia-sn5600", "-o", str(tmp_path / "nb")]).exit_code == 0
    (exported,) = (tmp_path / "nb").rglob("*.yaml")
    assert runner.invoke(app, ["catalog", "import-netbox", str(exported), "-o", str(tmp_path / "page")]).exit_code == 0
    headline = "Imported nvidia-spectrum-4-sn5600-spectrum-x as scale_out_switch (recorded in its comments"
    _open(browser, tmp_path / "page", "report-catalog-import.png", headline)
