"""Programme plans in the collaboration server: a programme file planned on stored design revisions.

The world: the demo's ``mfr`` owns plan ``mfr/pilot`` (examples/programme-small.yaml, its generations naming
``gb300-nvl72`` of mfr and ``lab/ethernet-800vdc``, with the example line file), granted to ``lab`` to write and
to ``ext`` to read; ``far`` is granted nothing. Both partners read both designs in full (``gb300-nvl72`` extends
``gb200-nvl72``, shared with both too). Expected statuses follow docs/server.md's rules for designs, written out
here independently of the services: 2xx when allowed, 404 for a plan not granted, 403 for a visible one the
user may not change, 401 without a token. The dashboard must equal ``rackwright programme plan`` of the same
files (the CLI's Python API, run here on the example files), and the stale mark must name the revisions.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rackwright.report.present import HEADLINE, headline_format
from rackwright.server import planner, services
from rackwright.server.app import create_app
from rackwright.server.db import ROLES, transaction
from rackwright.server.seed import demo_password

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PROGRAMME = (
    (EXAMPLES / "programme-small.yaml")
    .read_text()
    .replace("design: ethernet-800vdc.yaml", "design: lab/ethernet-800vdc")
    .replace("    plan: site-100mw.yaml", "    # plan: site-100mw.yaml")
)  # no site plan: the plan takes seconds less
SITE = PROGRAMME.replace("    # plan: site-100mw.yaml", "    plan: s.yaml")
LINE = (EXAMPLES / "line-us.yaml").read_text()
FILES = {"line-us.yaml": LINE, "sourcing-tariffs-2025.yaml": (EXAMPLES / "sourcing-tariffs-2025.yaml").read_text()}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: relation of each organisation to mfr/pilot
RELATIONS = {"mfr": "owner", "lab": "write", "ext": "read", "far": "none"}


def _password(username: str) -> str:
    return demo_password(username)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """The demo (on SQLite, or on a throwaway PostgreSQL: marked ``postgres``) with two more organisations (a user
    of every role each), the designs shared in full with the partners, and mfr/pilot planned and granted."""
    url = (
        f"sqlite:///{tmp_path_factory.mktemp('plans') / 'rackwright.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_cluster").create_database()
    )
    app = create_app(url, demo=True)
    with TestClient(app) as client:
        with transaction(app.state.engine, write=True) as session:
            for org in ("ext", "far"):
                services.create_organisation(session, org, org.upper())
                for role in ROLES:
                    services.create_user(session, None, org, f"{org}-{role}", _password(f"{org}-{role}"), role)
            tokens = {
                f"{org}-{role}": services.issue_token(
                    session, services.sign_in(session, f"{org}-{role}", _password(f"{org}-{role}"))
                )
                for org in RELATIONS
                for role in ROLES
            }
            mfr, lab = (services.sign_in(session, f"{o}-admin", _password(f"{o}-admin")) for o in ("mfr", "lab"))
            for partner in ("lab", "ext"):
                services.share(session, mfr, "mfr", "gb200-nvl72", partner, "full")
                services.share(session, mfr, "mfr", "gb300-nvl72", partner, "full")
                services.share(session, lab, "lab", "ethernet-800vdc", partner if partner != "lab" else "mfr", "full")
        api = _api(client, tokens["mfr-engineer"])
        created = api.post("/plans", json={"name": "pilot", "content": PROGRAMME, "files": FILES})
        assert created.status_code == 201, created.text
        admin = _api(client, tokens["mfr-admin"])
        for org, level in (("lab", "write"), ("ext", "read")):
            assert admin.put(f"/plans/mfr/pilot/shares/{org}", json={"level": level}).status_code == 200
        yield app, client, tokens, created.json()
    app.state.engine.dispose()


def _api(client: TestClient, token: str | None):
    """Calls to /api/v1 as the holder of ``token`` (None: anonymous)."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}

    class Api:
        def __getattr__(self, method):
            return lambda path, headers=(), **kw: client.request(
                method.upper(), "/api/v1" + path, headers={**auth, **dict(headers)}, **kw
            )

    return Api()


def _expected(operation: str, org: str | None, role: str | None) -> int:
    """Status of ``operation`` on mfr/pilot for ``role`` of ``org`` (docs/server.md, programme plans)."""
    if org is None:
        return 401
    relation = RELATIONS[org]
    least = {"plan": "viewer", "plans": "viewer", "replan": "engineer", "share_plan": "admin", "page": "viewer"}
    if operation == "plans":
        return 200
    if relation == "none":
        return 404
    if operation == "replan" and relation == "read" or operation == "share_plan" and relation != "owner":
        return 403
    return 200 if ROLES.index(role) >= ROLES.index(least[operation]) else 403


def test_the_plan_is_the_cli_plan_of_the_same_files(world):
    """The stored document is what `rackwright programme plan` computes for the same programme and files."""
    from rackwright.programme import load_programme, plan_programme
    from rackwright.programme.plan import programme_document

    _, client, tokens, created = world
    # as served: no site file (since the roadmap fits a planned site's steps at its site plan's design peak, the
    # site file moves every number, not only the site's own)
    unplanned = load_programme(EXAMPLES / "programme-small.yaml", {"sites.abilene.plan": None})
    local = programme_document(plan_programme(unplanned))
    served = created["document"]
    by_name = {h["name"]: h["value"] for h in served["headline"]}
    for h in local["headline"]:
        # the example plans a site (its links and optics, and since e77d30e its capex and energy at the plan's
        # PUE, the tariffs on its equipment); the served file names no site file, so those stay on the programme
        # file's basis
        site = ("site_plan_links", "site_transceivers_by_goal_date", "capex", "energy_opex_by_goal_date")
        if h["name"] not in (*site, "tariffs_by_goal_date"):
            number = isinstance(h["value"], float)
            assert by_name[h["name"]] == (pytest.approx(h["value"], rel=1e-9) if number else h["value"]), h["name"]
    # named as `programme plan --json` names it (docs/json.md), not as the planner's document does
    assert served["goal"]["min_us_content_share"] == local["goal"]["min_us_share"] and "min_us_share" not in served["goal"]
    bills = {s["name"]: sum(s["values"]) for s in local["series"] if s["name"].startswith("tariff_bill")}
    assert by_name["tariffs_by_goal_date"] == bills["tariff_bill"] - bills["tariff_bill_site_equipment"] > 0
    assert [p["generation"] for p in created["pins"]] == ["gb300", "e1"]
    assert [(p["org"], p["design"], p["number"]) for p in created["pins"]] == [
        ("mfr", "gb300-nvl72", 1),
        ("lab", "ethernet-800vdc", 1),
    ]
    assert created["stale"] == [] and created["withheld"] is None


def test_access_matrix_of_the_reads(world):
    """plans, plan (API), the page and its dashboard.json: every relation and role, and anonymous."""
    _, client, tokens, _ = world
    wrong = []
    for org, role in [*itertools.product(RELATIONS, ROLES), (None, None)]:
        token = tokens[f"{org}-{role}"] if org else None
        api = _api(client, token)
        listed = api.get("/plans")
        if listed.status_code != _expected("plans", org, role):
            wrong.append(f"plans as {org}-{role}: {listed.status_code}")
        elif org is not None:
            names = [f"{p['org']}/{p['name']}" for p in listed.json()]
            assert ("mfr/pilot" in names) == (RELATIONS[org] != "none"), (org, names)
        answer = api.get("/plans/mfr/pilot")
        if answer.status_code != _expected("plan", org, role):
            wrong.append(f"plan as {org}-{role}: {answer.status_code} {answer.text[:100]}")
        elif answer.status_code == 200:
            assert answer.json()["access"] == RELATIONS[org]
            assert answer.json()["document"] is not None
            assert answer.json()["can_replan"] == (RELATIONS[org] in ("owner", "write") and ROLES.index(role) >= 1)
        if org is not None:
            browser = _browser(client.app, f"{org}-{role}", tokens)
            for path in ("/plans/mfr/pilot", "/plans/mfr/pilot/dashboard.json"):
                page = browser.get(path)
                if page.status_code != _expected("page", org, role):
                    wrong.append(f"page {path} as {org}-{role}: {page.status_code}")
    assert not wrong, "\n".join(wrong)
    anonymous = TestClient(client.app, follow_redirects=False)
    assert anonymous.get("/plans/mfr/pilot").status_code == 303  # to the sign-in page
    assert anonymous.get("/plans/mfr/pilot/dashboard.json").status_code == 303


def test_access_matrix_of_the_writes_that_do_not_plan(world):
    """share_plan, replan and upload, refused before anything is planned: every relation and role, and anonymous."""
    _, client, tokens, _ = world
    wrong = []
    for org, role in [*itertools.product(RELATIONS, ROLES), (None, None)]:
        api = _api(client, tokens[f"{org}-{role}"] if org else None)
        want = _expected("share_plan", org, role)
        answer = api.put("/plans/mfr/pilot/shares/ext", json={"level": "read"})  # no change
        if answer.status_code != want:
            wrong.append(f"share_plan as {org}-{role}: {answer.status_code}, expected {want}")
        want = _expected("replan", org, role)
        if want != 200:  # the allowed ones plan: test_stale_then_replanned
            answer = api.post("/plans/mfr/pilot/replan")
            if answer.status_code != want:
                wrong.append(f"replan as {org}-{role}: {answer.status_code}, expected {want}")
        # an upload naming a design only lab reads in full: engineers get past the role check to the refusal (422)
        want = 401 if org is None else 403 if ROLES.index(role) < 1 else 201 if org == "lab" else 422
        if want == 201:
            continue  # lab would plan it (an upload that plans: the fixture's)
        body = {
            "name": f"p-{org}-{role}".lower(),
            "content": PROGRAMME.replace("lab/ethernet-800vdc", "lab/meta-catalina"),
        }
        answer = api.post("/plans", json={**body, "files": FILES})
        if answer.status_code != want:
            wrong.append(f"create_plan as {org}-{role}: {answer.status_code}, expected {want}: {answer.text[:120]}")
        elif want == 422:
            assert "generations[1].design" in [p["path"] for p in answer.json()["problems"]], answer.text
    assert not wrong, "\n".join(wrong)


def _browser(app, username: str, tokens: dict) -> TestClient:
    """A browser signed in as ``username``; ``.csrf`` holds its form token."""
    client = TestClient(app, follow_redirects=False)
    token = CSRF.search(client.get("/sign-in").text).group(1)
    answer = client.post(
        "/sign-in",
        data={"csrf_token": token, "username": username, "password": _password(username), "next": "/plans"},
    )
    assert answer.status_code == 303, answer.text
    client.csrf = CSRF.search(client.get("/plans").text).group(1)
    return client


def test_the_page_draws_the_dashboard_without_inline_scripts(world):
    app, client, tokens, _ = world
    browser = _browser(app, "ext-viewer", tokens)
    page = browser.get("/plans/mfr/pilot")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy
        and "unsafe-eval" not in policy
        and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    )
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="/static/' in attributes and not body.strip() for attributes, body in scripts)
    for attributes, _ in scripts:
        src = re.search(r'src="([^"]+)"', attributes).group(1)
        assert browser.get(src).status_code == 200, src
    figure = browser.get("/plans/mfr/pilot/dashboard.json")
    assert figure.headers["content-type"].startswith("application/json")
    assert any(t.get("name") == "gb300" for t in figure.json()["data"])  # the GW trace of each generation
    assert "Re-plan" not in page.text  # ext reads only
    assert "Re-plan" in _browser(app, "lab-engineer", tokens).get("/plans/mfr/pilot").text


def test_the_headline_is_labelled_and_formatted_as_report_present_gives_it(world):
    """Each headline figure with its label, value and unit from report.present (no raw name, money with thousands
    separators, counts whole), the strings the CLI tables use."""
    app, _, tokens, created = world
    page = _browser(app, "mfr-viewer", tokens).get("/plans/mfr/pilot").text
    shown = {}
    for h in created["document"]["headline"]:
        assert h["name"] in HEADLINE, f"{h['name']}: give it a label and a format in report.present.HEADLINE"
        expected = headline_format(h["name"], h["unit"])
        row = rf'<th scope="row">([^<]*)</th><td class="num" data-key="{h["name"]}">([^<]*)</td><td>([^<]*)</td>'
        shown[h["name"]] = re.search(row, page).groups()
        assert shown[h["name"]] == (expected.label, expected.value(h["value"]), expected.shown_unit), h["name"]
    assert shown["capex"][0] == "Capex, cumulative" and re.fullmatch(r"\d{1,3}(,\d{3})+", shown["capex"][1])
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", shown["accelerators_by_goal_date"][1])  # whole, not 7056.0
    assert ">it_power_by_goal_date<" not in page and "it power by goal date" not in page


def test_the_dashboard_is_withheld_from_who_does_not_read_every_design_in_full(world):
    app, client, tokens, _ = world
    with transaction(app.state.engine, write=True) as session:
        lab = services.sign_in(session, "lab-admin", _password("lab-admin"))
        services.share(session, lab, "lab", "ethernet-800vdc", "ext", "envelope")
    try:
        view = _api(client, tokens["ext-viewer"]).get("/plans/mfr/pilot").json()
        assert view["document"] is None and view["pins"] is None and view["stale"] is None
        assert "lab/ethernet-800vdc@" in view["withheld"]
        browser = _browser(app, "ext-viewer", tokens)
        assert browser.get("/plans/mfr/pilot/dashboard.json").status_code == 404
        page = browser.get("/plans/mfr/pilot").text
        assert "Withheld." in page and "<script" not in page
        assert _api(client, tokens["lab-viewer"]).get("/plans/mfr/pilot").json()["document"] is not None
    finally:
        with transaction(app.state.engine, write=True) as session:
            services.share(session, lab, "lab", "ethernet-800vdc", "ext", "full")


def test_stale_then_replanned_by_either_organisation(world):
    """A new revision of a design marks the plan stale (API and page); a re-plan by the owner's engineer, then by
    the partner granted write (through the form), pins the heads and clears it."""
    app, client, tokens, created = world
    lab = _api(client, tokens["lab-engineer"])
    design = lab.get("/designs/lab/ethernet-800vdc").json()
    content = (EXAMPLES / "ethernet-800vdc.yaml").read_text() + "\n# a second revision\n"
    pushed = lab.post(
        "/designs/lab/ethernet-800vdc/revisions",
        json={"content": content, "message": "second"},
        headers={"If-Match": design["head_revision"]},
    )
    assert pushed.status_code == 201, pushed.text
    view = _api(client, tokens["ext-viewer"]).get("/plans/mfr/pilot").json()
    assert [s["message"] for s in view["stale"]] == [
        "design lab/ethernet-800vdc has revision 2 newer than the planned 1"
    ]
    page = _browser(app, "mfr-viewer", tokens).get("/plans/mfr/pilot").text
    assert "Stale:" in page and "design lab/ethernet-800vdc has revision 2 newer than the planned 1" in page

    replanned = _api(client, tokens["mfr-engineer"]).post("/plans/mfr/pilot/replan")
    assert replanned.status_code == 200, replanned.text
    assert replanned.json()["stale"] == [] and replanned.json()["planned_by"] == "mfr-engineer"
    assert replanned.json()["pins"][1]["number"] == 2 and replanned.json()["pins"][1]["revision"] == pushed.json()["id"]
    assert replanned.json()["document"]["headline"] == created["document"]["headline"]  # a comment changes nothing

    design = lab.get("/designs/lab/ethernet-800vdc").json()
    lab.post(
        "/designs/lab/ethernet-800vdc/revisions",
        json={"content": content + "# third\n", "message": "third"},
        headers={"If-Match": design["head_revision"]},
    )
    browser = _browser(app, "lab-engineer", tokens)
    assert "revision 3 newer than the planned 2" in browser.get("/plans/mfr/pilot").text
    assert browser.post("/plans/mfr/pilot/replan", data={}).status_code == 403  # no CSRF token: nothing planned
    answer = browser.post("/plans/mfr/pilot/replan", data={"csrf_token": browser.csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/plans/mfr/pilot"
    view = _api(client, tokens["mfr-viewer"]).get("/plans/mfr/pilot").json()
    assert view["stale"] == [] and view["planned_by"] == "lab-engineer" and view["pins"][1]["number"] == 3
    actions = [e["action"] for e in _api(client, tokens["lab-admin"]).get("/audit").json()]
    assert "plan.replan" in actions  # the partner's re-plan is in its own organisation's log


BAD = [
    ("name: [unclosed", {}, "", "YAML syntax error"),
    (PROGRAMME.replace("line: line-us.yaml", "line: ../../../etc/passwd"), FILES, "factories[0].line", "not uploaded"),
    (PROGRAMME, {}, "factories[0].line", "not uploaded"),
    (PROGRAMME.replace("lab/ethernet-800vdc", "lab/nothing"), FILES, "generations[1].design", "not found"),
    (
        PROGRAMME.replace("lab/ethernet-800vdc", "lab/ethernet-800vdc@0123456789abcdef"),
        FILES,
        "generations[1].design",
        "pins the head",
    ),
    ("name: x\n", FILES, "generations", "no generations"),
    ("a:\n" + "".join("  " * i + f"  b{i}:\n" for i in range(80)), FILES, "", "nests deeper than 64"),
    (PROGRAMME, {"../line-us.yaml": LINE}, "files", "not a file name"),
    (PROGRAMME, {f"f{i}.yaml": "x: 1\n" for i in range(17)}, "body.files", "at most 16"),
    ("generations: [x, {design: 5}, {design: a/b/c}]\n", FILES, "generations[2].design", "not found"),
    (SITE, {**FILES, "s.yaml": "cooling: {ambient: ../../etc/passwd}\n"}, "sites[0].plan", "ambient profile"),
    (SITE, {**FILES, "s.yaml": "cooling: [unclosed\n"}, "sites[0].plan", "YAML syntax error"),
]


@pytest.mark.parametrize(
    ("content", "files", "path", "message"),
    BAD,
    ids=[
        "syntax",
        "traversal",
        "line-missing",
        "no-design",
        "pinned-rev",
        "no-generations",
        "too-deep",
        "file-name",
        "too-many-files",
        "odd-generations",
        "ambient-outside",
        "site-syntax",
    ],
)
def test_bad_programme_files_are_refused_with_where_and_why(world, content, files, path, message):
    _, client, tokens, _ = world
    answer = _api(client, tokens["mfr-engineer"]).post(
        "/plans", json={"name": "bad", "content": content, "files": files}
    )
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert any(p["path"] == path for p in body["problems"]), body
    assert message in json.dumps(body), body
    assert answer.json()["problems"][0]["message"]


def test_size_bounds(world):
    _, client, tokens, _ = world
    api = _api(client, tokens["mfr-engineer"])
    big = "# " + "x" * services.MAX_CONTENT + "\n" + PROGRAMME
    assert api.post("/plans", json={"name": "big", "content": big, "files": FILES}).status_code == 422
    huge = {"name": "huge", "content": PROGRAMME, "files": {"line-us.yaml": "#" * (2 * 1024 * 1024)}}
    assert api.post("/plans", json=huge).status_code == 413
    assert api.get("/plans/mfr/big").status_code == 404


def test_a_programme_the_planner_refuses_and_one_past_the_time_limit(world, monkeypatch):
    """Errors found in the worker come back with their field path; a plan past PLAN_TIMEOUT_S is refused."""
    _, client, tokens, _ = world
    api = _api(client, tokens["mfr-engineer"])
    unknown = PROGRAMME.replace("model: deepseek-v3", "model: no-such-model")
    answer = api.post("/plans", json={"name": "unknown-model", "content": unknown, "files": FILES})
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["path"] == "workload.model"
    assert "rackwright-plan-" not in answer.text  # no path of the worker's folder
    monkeypatch.setattr(planner, "PLAN_TIMEOUT_S", 0.01)
    answer = api.post("/plans", json={"name": "slow", "content": PROGRAMME, "files": FILES})
    assert answer.status_code == 422 and "longer than" in answer.json()["error"]
    assert api.get("/plans/mfr/slow").status_code == 404 and api.get("/plans/mfr/unknown-model").status_code == 404


def test_upload_through_the_form(world):
    """The form refuses a programme with its problems (nothing stored) and a name already taken (409)."""
    app, _, tokens, _ = world
    browser = _browser(app, "mfr-engineer", tokens)
    files = [("programme", ("pilot.yaml", PROGRAMME.encode(), "application/yaml"))]
    answer = browser.post("/plans", data={"csrf_token": browser.csrf, "name": "pilot"}, files=files)
    assert answer.status_code == 409 and "exists" in answer.text
    answer = browser.post("/plans", data={"csrf_token": browser.csrf, "name": "form"}, files=files)
    assert answer.status_code == 422 and "factories[0].line" in answer.text and "was not uploaded" in answer.text
    assert browser.post("/plans", data={"name": "form"}, files=files).status_code == 403  # no CSRF token
    assert "Upload a programme" not in _browser(app, "mfr-viewer", tokens).get("/plans").text


@pytest.fixture
def browser():
    """Debian's Chromium under Playwright (as tests/test_server_web_browser.py)."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.is_file():
        pytest.skip(f"{chromium} is missing: run scripts/test-deps.sh (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def test_the_dashboard_draws_in_a_browser_under_the_pages_policy(browser, live_server, tmp_path):
    """The plan's page in Chromium: plotly draws the dashboard with no policy violation and nothing loaded from
    outside the server; the stale mark appears after a new revision and the Re-plan button clears it."""
    server = live_server(f"sqlite:///{tmp_path / 'browser.db'}")
    with transaction(server.app.state.engine, write=True) as session:
        lab = services.sign_in(session, "lab-admin", _password("lab-admin"))
        services.share(session, lab, "lab", "ethernet-800vdc", "mfr", "full")
    with server.client("mfr-engineer") as api:
        created = api.post("/plans", json={"name": "pilot", "content": PROGRAMME, "files": FILES})
        assert created.status_code == 201, created.text
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems, outside = [], []
    # a policy violation is reported on the console ("Refused to load ...", "Applying inline style violates the
    # following Content Security Policy directive ..."); a script error as a page error (the browser's own
    # favicon.ico request, a 404, is neither)
    violation = re.compile(r"Refused|Content Security Policy")
    page.on("console", lambda message: problems.append(message.text) if violation.search(message.text) else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: None if request.url.startswith(server.url) else outside.append(request.url))
    page.goto(server.url + "/sign-in")
    page.get_by_label("Username").fill("mfr-engineer")
    page.get_by_label("Password").fill(_password("mfr-engineer"))
    page.get_by_role("button", name="Sign in").click()
    page.goto(server.url + "/plans/mfr/pilot")
    page.wait_for_selector("#dashboard .main-svg", timeout=30_000)
    assert page.locator("#dashboard .trace").count() > 0
    screenshots = Path(__file__).resolve().parents[1] / "out" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / "13-programme-plan.png"), full_page=True)
    with server.client("lab-engineer") as api:
        head = api.get("/designs/lab/ethernet-800vdc").json()["head_revision"]
        content = (EXAMPLES / "ethernet-800vdc.yaml").read_text() + "\n# a second revision\n"
        pushed = api.post(
            "/designs/lab/ethernet-800vdc/revisions", json={"content": content}, headers={"If-Match": head}
        )
        assert pushed.status_code == 201, pushed.text
    page.reload()
    assert "design lab/ethernet-800vdc has revision 2 newer than the planned 1" in page.locator("#stale").inner_text()
    page.get_by_role("button", name="Re-plan on the designs' heads").click()
    page.wait_for_url(server.url + "/plans/mfr/pilot", timeout=120_000)
    page.wait_for_selector("#dashboard .main-svg", timeout=30_000)
    assert page.locator("#stale").count() == 0
    assert not outside, outside
    assert not problems, problems
