"""The review workflow's pages (issue 16) in a real browser: Debian's Chromium driven by Playwright against a live
demo server, with the fixtures and skip rules of test_server_web_browser.py.

Each organisation's engineer and admin signs in, opens the home page (what waits for whom), the top of the
NVL72 GB300 design page (status, sign-off, rule errors and the links to approvals, history and compare, within
the first screen), and the admins the users page (creating a user) and the audit log. Screenshots go to
``out/screenshots/`` (``09-home.png``, ``10-design-at-a-glance.png``, ``11-users.png``, ``12-audit.png``). No
request may leave the server.
"""

from __future__ import annotations

import re

import pytest

from test_server_web_browser import SCREENSHOTS, browser, open_as  # noqa: F401 - browser is a fixture

DESIGN = "/designs/mfr/gb300-nvl72"
VIEWPORT_HEIGHT = 900  # open_as's browser window


@pytest.mark.parametrize("org", ["mfr", "lab"])
def test_engineers_and_admins_walk_the_home_page_the_design_top_users_and_audit(browser, live_server, tmp_path, org):
    server = live_server(f"sqlite:///{tmp_path / 'rackwright.db'}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    for role in ("engineer", "admin"):
        page = open_as(browser, server, f"{org}-{role}", outside)
        walk_home_and_design(page, server, org, role, screenshots=(org, role) == ("mfr", "engineer"))
        if role == "admin":
            walk_users_and_audit(page, org, screenshots=org == "mfr")
        else:
            assert page.get_by_role("link", name="Audit log").count() == 0
        page.context.close()
    assert not outside, outside


def walk_home_and_design(page, server, org: str, role: str, screenshots: bool) -> None:
    page.get_by_role("link", name="Home", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Waiting for {org}"
    waiting = page.get_by_role("region", name=re.compile(f"^Waiting for (your approval|{org}'s review)"))
    assert waiting.get_by_role("link", name="mfr/gb300-nvl72").is_visible()  # nobody has signed its head
    partners = page.get_by_role("region", name=re.compile("designs waiting for a partner"))
    assert partners.get_by_role("link").count() == (1 if org == "mfr" else 0)
    if screenshots:
        page.screenshot(path=SCREENSHOTS / "09-home.png", full_page=True)
    waiting.get_by_role("link", name="mfr/gb300-nvl72").click()
    page.wait_for_url(server.url + DESIGN)
    glance = page.get_by_role("region", name="At a glance")
    expected = {"engineer": f"Waiting for mfr, lab (an approver of {org} signs)",
                "admin": "Waiting for your approval and for " + ("lab" if org == "mfr" else "mfr")}
    assert expected[role] in glance.inner_text()
    for name in ("Approvals", "History", "Compare"):  # reachable from the first screen
        link = glance.get_by_role("navigation").get_by_role("link", name=name, exact=True)
        box = link.bounding_box()
        assert box and box["y"] + box["height"] < VIEWPORT_HEIGHT, name
    if screenshots:
        page.screenshot(path=SCREENSHOTS / "10-design-at-a-glance.png")
    glance.get_by_role("link", name="History", exact=True).click()
    assert page.url.endswith("#history")
    assert page.get_by_role("heading", name="History", exact=True).is_visible()


def walk_users_and_audit(page, org: str, screenshots: bool) -> None:
    page.get_by_role("link", name=f"Users of {org}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Users of {org}"
    page.get_by_label("Username").fill(f"{org}-browser")
    page.get_by_label("Full name (optional)").fill("Made in the browser")
    page.get_by_label("Role").select_option("approver")
    page.get_by_label(re.compile("^Initial password")).fill("browser-password")
    page.get_by_role("button", name="Create the user").click()
    row = page.get_by_role("row", name=re.compile(f"^{org}-browser "))
    assert row.inner_text().split("\t") == [f"{org}-browser", "Made in the browser", "approver"]
    if screenshots:
        page.screenshot(path=SCREENSHOTS / "11-users.png", full_page=True)
    page.get_by_role("link", name="Audit log").click()
    newest = page.get_by_role("table").get_by_role("row").nth(1)  # after the header
    assert "user.create" in newest.inner_text() and f"user:{org}-browser" in newest.inner_text()
    if screenshots:
        page.screenshot(path=SCREENSHOTS / "12-audit.png", full_page=True)
