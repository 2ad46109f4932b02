"""The web UI in a real browser: Debian's Chromium driven by Playwright against a live demo server.

One scenario, two organisations in two browser contexts: the manufacturer signs in, opens
the NVL72 programme board and the GB300 generation, comments on a slot's part and approves;
the lab sees the design at envelope level only (no elevation, no parts), reads the comment
and approves; the manufacturer then moves the design to approved. Screenshots go to
``out/screenshots/`` (git-ignored) as test artefacts. The page may load nothing from outside
the server (every request is checked).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rackwright.server.seed import demo_password

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "out" / "screenshots"
DESIGN = "/designs/mfr/gb300-nvl72"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hgx-h100-air.yaml"


@pytest.fixture
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/test-deps.sh (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_as(browser, server, username: str, outside: list[str]):
    """A page in a fresh browser context, signed in through the sign-in form as ``username``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("request", lambda request: None if request.url.startswith(server.url) else outside.append(request.url))
    page.goto(server.url + "/")
    assert page.url.startswith(server.url + "/sign-in")
    page.keyboard.press("Tab")  # the first stop is the skip link, and it leads to the main content
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(demo_password(username))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/programmes")
    return page


def test_two_organisations_review_and_approve_a_generation_in_the_browser(browser, live_server, tmp_path):
    server = live_server(f"sqlite:///{tmp_path / 'rackwright.db'}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []

    mfr = open_as(browser, server, "mfr-approver", outside)
    mfr.screenshot(path=SCREENSHOTS / "01-programmes.png", full_page=True)
    mfr.get_by_role("link", name="mfr/nvl72").click()
    in_review = mfr.get_by_role("region", name=re.compile("^In review"))
    assert in_review.get_by_role("link", name="mfr/gb300-nvl72").is_visible()
    mfr.screenshot(path=SCREENSHOTS / "02-board.png", full_page=True)
    in_review.get_by_role("link", name="mfr/gb300-nvl72").click()
    assert mfr.get_by_role("heading", level=1).inner_text().endswith("mfr/gb300-nvl72")
    elevation = mfr.get_by_role("img", name=re.compile("Front elevation"))
    assert elevation.evaluate("img => img.complete && img.naturalWidth > 0")  # the SVG loaded

    mfr.get_by_text(re.compile(r"fields of revision 1")).click()  # open the design fields
    mfr.get_by_role("link", name="Comment on slots[compute-lower].part").click()
    assert mfr.get_by_label("Field path or figure key").input_value() == "slots[compute-lower].part"
    mfr.get_by_label("Comment", exact=True).fill("Please confirm the GB300 tray revision for the pilot racks.")
    mfr.get_by_label("Shared: visible to every organisation").check()
    mfr.get_by_role("button", name="Open thread").click()
    thread = mfr.get_by_role("article", name=re.compile(r"On slots\[compute-lower\]\.part"))
    assert "confirm the GB300 tray revision" in thread.inner_text()
    assert mfr.get_by_role("link", name="thread 1 on slots[compute-lower].part", include_hidden=True).count() == 1
    mfr.get_by_role("button", name=re.compile("^Approve revision 1 for mfr")).click()
    assert "Not approved yet: missing lab" in mfr.locator("#approvals ~ p").first.inner_text()
    mfr.screenshot(path=SCREENSHOTS / "03-design-owner.png", full_page=True)

    lab = open_as(browser, server, "lab-approver", outside)
    lab.goto(server.url + DESIGN)
    assert "Envelope only" in lab.get_by_role("note").inner_text()
    assert lab.get_by_role("img").count() == 0  # no elevation: it shows the parts
    assert "nvidia-gb300-compute-tray" not in lab.content()
    assert lab.get_by_role("heading", name="Cost").count() == 0
    assert "confirm the GB300 tray revision" in lab.get_by_role("article").first.inner_text()
    lab.get_by_role("button", name=re.compile("^Approve revision 1 for lab")).click()
    assert "Approved by every participating organisation" in lab.locator("#approvals ~ p").first.inner_text()
    lab.screenshot(path=SCREENSHOTS / "04-design-envelope.png", full_page=True)

    mfr.reload()
    mfr.get_by_label(re.compile("^Move from In review to")).select_option("approved")
    mfr.get_by_role("button", name="Move").click()
    assert mfr.locator("#status-now").inner_text() == "Approved"
    mfr.get_by_role("link", name="mfr/nvl72").first.click()
    approved = mfr.get_by_role("region", name=re.compile("^Approved"))
    assert approved.get_by_role("link", name="mfr/gb300-nvl72").is_visible()
    mfr.screenshot(path=SCREENSHOTS / "05-board-approved.png", full_page=True)
    assert not outside, outside


def test_an_engineer_writes_a_design_in_the_browser_and_signing_out_ends_every_copy(browser, live_server, tmp_path):
    """The lab's engineer creates a design and writes a revision through the forms, then signs out: the
    session cookie saved before, replayed in a fresh browser context, leads back to the sign-in page."""
    server = live_server(f"sqlite:///{tmp_path / 'rackwright.db'}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    lab = open_as(browser, server, "lab-engineer", outside)
    lab.get_by_role("link", name="New design").click()
    lab.get_by_label("Name", exact=True).fill("browser-rack")
    lab.get_by_label("Programme").select_option("frontier")
    lab.get_by_label("Design YAML").fill(EXAMPLE.read_text())
    lab.get_by_label(re.compile("^Message")).fill("first")
    lab.get_by_role("button", name="Create the design").click()
    lab.wait_for_url(server.url + "/designs/lab/browser-rack")
    assert lab.get_by_role("heading", level=1).inner_text() == "DGX H100 air-cooled rack lab/browser-rack"

    lab.get_by_role("link", name="Write a new revision").click()
    content = lab.get_by_label("Design YAML")
    content.fill(content.input_value().replace("name: ", "name: Browser ", 1))
    lab.get_by_label(re.compile("^Message")).fill("rename")
    lab.get_by_role("button", name="Write the revision").click()
    assert lab.get_by_role("heading", level=1).inner_text().startswith("Browser DGX H100")
    history = lab.get_by_role("table", name="Revisions, newest first")
    assert history.get_by_role("row").count() == 3  # a header and two revisions
    lab.screenshot(path=SCREENSHOTS / "06-design-written-in-the-browser.png", full_page=True)

    saved = lab.context.cookies()
    lab.get_by_role("button", name="Sign out").click()
    lab.wait_for_url(server.url + "/sign-in")
    replay = browser.new_context()
    replay.add_cookies(saved)
    copy = replay.new_page()
    copy.goto(server.url + "/designs/lab/browser-rack")
    assert copy.url.startswith(server.url + "/sign-in")
    assert not outside, outside
