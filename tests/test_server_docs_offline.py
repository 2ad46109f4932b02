"""The API documentation pages (/docs: Swagger UI, /redoc: ReDoc) work on an air-gapped host.

Their JavaScript, CSS and favicon come from the installed package (fastapi-offline), not a CDN, and
ReDoc loads no Google fonts: each page names no URL outside the server, every asset it names answers from
the server, none of the docs routes is in the OpenAPI document, and in Chromium, with every request off
loopback blocked, both pages render the API's operations (screenshots in ``out/screenshots/``).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from test_server_web_browser import SCREENSHOTS, browser  # noqa: F401 (the Chromium fixture)

PAGES = ["/docs", "/redoc"]
ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture
def server(live_server, tmp_path):
    return live_server(f"sqlite:///{tmp_path / 'rackwright.db'}", demo=False)


def assets(html: str) -> list[str]:
    """The paths of what a page's ``script src`` and ``link href`` elements load."""
    return re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("page", PAGES)
def test_a_docs_page_names_no_url_outside_the_server(server, page):
    html = httpx.get(server.url + page).text
    outside = [url for url in re.findall(r"https?://[^\s\"'<>]+", html) if not url.startswith(server.url + "/")]
    assert not outside


@pytest.mark.parametrize(("page", "kinds"), [("/docs", {".js", ".css", ".png"}), ("/redoc", {".js", ".png"})])
def test_every_asset_of_a_docs_page_is_served_by_the_server(server, page, kinds):
    named = assets(httpx.get(server.url + page).text)
    assert {path[path.rfind("."):] for path in named} == kinds
    for path in named:
        response = httpx.get(urljoin(server.url + page, path))
        assert response.status_code == 200, path
        assert ASSET_TYPES[path[path.rfind("."):]] in response.headers["content-type"], path
        assert len(response.content) > 1000, path


def test_the_openapi_document_lists_no_docs_route(server):
    paths = httpx.get(server.url + "/openapi.json").json()["paths"]
    served = {urlsplit(path).path for page in PAGES for path in assets(httpx.get(server.url + page).text)}
    assert "/api/v1/designs" in paths
    assert not (set(PAGES) | {"/docs/oauth2-redirect"} | served) & set(paths)


def open_offline(browser, server, page: str, blocked: list[str]):  # noqa: F811 (the fixture)
    """``page`` in a fresh context that aborts every request whose host is not loopback (into ``blocked``)."""
    tab = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

    def only_loopback(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            return route.continue_()
        blocked.append(route.request.url)
        return route.abort()

    tab.route("**/*", only_loopback)
    tab.goto(server.url + page)
    return tab


def test_swagger_ui_renders_with_nothing_reachable_off_loopback(browser, server):  # noqa: F811 (the fixture)
    blocked: list[str] = []
    tab = open_offline(browser, server, "/docs", blocked)
    tab.locator('.opblock-summary-path[data-path="/api/v1/designs"]').first.wait_for()
    assert tab.locator(".opblock").count() >= 20  # one block per operation
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=SCREENSHOTS / "07-api-docs-offline.png")
    assert not blocked


def test_redoc_renders_with_nothing_reachable_off_loopback(browser, server):  # noqa: F811 (the fixture)
    blocked: list[str] = []
    tab = open_offline(browser, server, "/redoc", blocked)
    tab.get_by_role("heading", name=re.compile("^rackwright collaboration server")).wait_for()
    tab.get_by_text("/api/v1/designs", exact=True).first.wait_for(state="attached")
    expect(tab.get_by_role("img", name="redocly logo")).to_have_count(0)  # dropped when it failed to load
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=SCREENSHOTS / "08-redoc-offline.png")
    assert not blocked  # the page's Content-Security-Policy keeps the browser from asking for the logo
