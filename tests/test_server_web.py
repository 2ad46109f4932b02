"""The collaboration server's web UI (HTML pages) with FastAPI's TestClient on a demo SQLite database.

Expected values come from outside the web layer: figures from evaluating the example files
locally (``rackwright.evaluate``; the NVL72 rack holds 72 GPUs, NVIDIA's GB200/GB300 NVL72
product pages), statuses and visibility from the demo data described in
``rackwright.server.seed`` and the rules of docs/server.md, accessibility from WCAG 2.1
(labels for every control, one ``main``, ``lang``, headings in order, alt text).
"""

from __future__ import annotations

import math
import re
import time
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import select, update

from rackwright.rack.compare import figure_changes
from rackwright.rack.design import load_design
from rackwright.rack.evaluation import evaluate
from rackwright.report.present import DELIVERY, figure_format
from rackwright.server import security, services, web
from rackwright.server.app import create_app
from rackwright.server.db import ApiToken, transaction
from rackwright.server.seed import demo_password
from rackwright.server.web import COOKIE

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TEXT = st.characters(blacklist_categories=("Cs",))  # what a browser can send in a form
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app(f"sqlite:///{tmp_path_factory.mktemp('web') / 'rackwright.db'}", demo=True)
    yield app
    app.state.engine.dispose()


def sign_in(app, username: str) -> TestClient:
    """A browser-like client signed in as demo user ``username``; ``client.csrf`` is its form token."""
    client = TestClient(app, follow_redirects=False)
    token = CSRF.search(client.get("/sign-in").text).group(1)
    answer = client.post("/sign-in", data={"csrf_token": token, "username": username,
                                           "password": demo_password(username), "next": "/programmes"})
    assert answer.status_code == 303 and answer.headers["location"] == "/programmes", answer.text
    client.csrf = CSRF.search(client.get("/programmes").text).group(1)
    return client


def service_view(app, username: str, function, *args):
    """What a service function returns to ``username`` (to check what a page did or did not store)."""
    with transaction(app.state.engine) as session:
        return function(session, services.sign_in(session, username, demo_password(username)), *args)


def cell(page: str, key: str) -> str:
    """The text of the figure cell ``data-key=key`` of a design page."""
    return re.search(rf'data-key="{re.escape(key)}">([^<]*)<', page).group(1)


def test_pages_show_the_stored_evaluation_and_the_board(app):
    mfr = sign_in(app, "mfr-engineer")
    page = mfr.get("/designs/mfr/gb200-nvl72")
    assert page.status_code == 200
    local = evaluate(EXAMPLES / "gb200-nvl72.yaml")
    assert cell(page.text, "compute.accelerators") == "72"  # 72 Blackwell GPUs per NVL72 rack (NVIDIA)
    for key in ("power.input_kw", "thermal.coolant_flow_lpm", "mechanical.weight_kg", "cost.bom_usd"):
        shown = float(cell(page.text, key).replace(",", ""))
        assert math.isclose(shown, local[key], rel_tol=5e-3), key  # shown to 3-4 significant figures
    assert "<dt>Shared with</dt><dd>lab (shared in full)</dd>" in page.text  # the owner sees its shares
    assert 'src="/designs/mfr/gb200-nvl72/elevation.svg"' in page.text
    svg = mfr.get("/designs/mfr/gb200-nvl72/elevation.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
    assert "<th scope=\"row\"><code>slots[" in page.text  # field paths to comment on
    board = mfr.get("/programmes/mfr/nvl72").text
    columns = dict(re.findall(r'<h2 id="col-(\w+)">.*?</h2>(.*?)</section>', board, re.S))
    assert "gb200-nvl72" in columns["shipped"] and "gb300-nvl72" in columns["in_review"]
    assert "hgx-h100-air" in columns["draft"]
    listing = mfr.get("/programmes").text
    assert "lab/frontier" in listing and "lab/meta-catalina" in listing


def test_diff_is_side_by_side_and_reuses_compare(app):
    mfr = sign_in(app, "mfr-engineer")
    page = mfr.get("/designs/mfr/gb300-nvl72/diff", params={"before": "mfr/gb200-nvl72"})
    assert page.status_code == 200
    gb200, gb300 = evaluate(EXAMPLES / "gb200-nvl72.yaml"), evaluate(EXAMPLES / "gb300-nvl72.yaml")
    row = re.search(r"<code>power\.it_load_kw</code></th><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>", page.text)
    before, after = (float(x.replace(",", "")) for x in row.groups())
    assert math.isclose(before, gb200["power.it_load_kw"], rel_tol=5e-3)
    assert math.isclose(after, gb300["power.it_load_kw"], rel_tol=5e-3)
    assert "nvidia-gb300-compute-tray" in page.text  # the changed slot part, after column
    assert mfr.get("/designs/mfr/gb300-nvl72/diff").status_code == 422  # nothing to compare with


def cli_compare_rows(before: Path, after: Path) -> dict[str, list[str]]:
    """The rows of ``rackwright compare BEFORE AFTER``'s figure table as it prints them (wide, each row on one line):
    the label and its unit, before, after, change and relative change."""
    from typer.testing import CliRunner

    from rackwright.cli.app import app as cli

    printed = CliRunner().invoke(cli, ["compare", str(before), str(after), "--wide"], env={"COLUMNS": "400"})
    assert printed.exit_code == 0, printed.output
    table = printed.stdout.split("Figures that differ", 1)[1]
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in table.splitlines() if line.startswith("│")]
    return {row[0]: row[1:] for row in rows}


def test_diff_and_design_pages_show_figures_as_the_cli_tables_do(app):
    """Every figure row of the diff page is the row ``rackwright compare`` prints for the same pair, cell for cell
    (report.present.Format.row: one number of decimals per row, the change of the values shown): shares in per
    cent and their changes in percentage points, counts whole."""
    mfr = sign_in(app, "mfr-engineer")
    page = mfr.get("/designs/mfr/gb300-nvl72/diff", params={"before": "mfr/gb200-nvl72"}).text
    changes = figure_changes(evaluate(EXAMPLES / "gb200-nvl72.yaml"), evaluate(EXAMPLES / "gb300-nvl72.yaml"))
    cells = r"\s*<td[^>]*>([^<]*)</td>" * 4
    label = r'<th scope="row">([^<]*?)(?: <span class="unit">([^<]*)</span>)?<br><code>[^<]*</code></th>'
    row = re.compile(label + cells)
    shown = {unescape(m[0]): [unescape(c) for c in (m[1], *m[2:])] for m in row.findall(page)}
    printed = cli_compare_rows(EXAMPLES / "gb200-nvl72.yaml", EXAMPLES / "gb300-nvl72.yaml")
    assert shown == {label: cells for label, cells in printed.items() if label in shown}
    assert len(shown) == len(changes)  # the server stores no delivery figures (the CLI's compare evaluates them)
    assert {label for label, *_ in DELIVERY.values()} == set(printed) - set(shown)
    # Rack AFR 0.999496 -> 0.999594: 99.9594 % would round onto 100.0 % at one decimal, so both take two and the
    # change is 99.96 - 99.95 = +0.01 pp; BOM 3,130,825 -> 3,791,425 USD is +660,600 (+21.1 %).
    assert shown["Rack AFR: chance a part fails in a year"] == ["%", "99.95%", "99.96%", "+0.01 pp", "+0.0%"]
    assert shown["Bill of materials"] == ["USD", "3,130,825", "3,791,425", "+660,600", "+21.1%"]
    assert sum(1 for v in shown.values() if v[3].endswith(" pp")) >= 2  # shares' changes in points
    hbm = re.search(rf"<th[^>]*>HBM <span class=\"unit\">TB</span><br><code>compute.hbm_bytes</code></th>{cells}", page)
    assert hbm.groups()[:2] == ("13.4", "20.1")  # 72 x 186 GB and 72 x 279 GB (the example files' HBM per GPU)
    design = mfr.get("/designs/mfr/gb200-nvl72").text
    local = evaluate(EXAMPLES / "gb200-nvl72.yaml")
    afr = cell(design, "reliability.afr_rack")
    assert afr == figure_format("reliability.afr_rack").value(local["reliability.afr_rack"]) and afr != "100.0%"
    assert cell(design, "compute.accelerators") == figure_format("compute.accelerators").value(72.0) == "72"


def test_sign_in_errors_and_redirects(app):
    client = TestClient(app, follow_redirects=False)
    assert client.get("/programmes").headers["location"] == "/sign-in?next=%2Fprogrammes"
    assert client.get("/designs/mfr/gb200-nvl72/elevation.svg").status_code == 303  # no drawing without a session
    token = CSRF.search(client.get("/sign-in").text).group(1)
    wrong = client.post("/sign-in", data={"csrf_token": token, "username": "lab-admin", "password": "nope"})
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    assert client.get("/programmes").status_code == 303  # still signed out
    no_token = client.post("/sign-in", data={"username": "lab-admin", "password": demo_password("lab-admin")})
    assert no_token.status_code == 403
    away = client.post("/sign-in", data={"csrf_token": token, "username": "lab-admin",
                                         "password": demo_password("lab-admin"), "next": "//evil.example/"})
    assert away.headers["location"] == "/programmes"  # no open redirect
    assert client.get("/programmes").status_code == 200
    for forged in (client.cookies[COOKIE].replace(".", "x.", 1), client.cookies[COOKIE] + "é", "é.é"):
        header = f"{COOKIE}={forged}".encode("latin-1")  # as a browser may send it, not ASCII
        assert TestClient(app, follow_redirects=False).get("/programmes", headers={"cookie": header}).status_code == 303
    signed = sign_in(app, "lab-viewer")
    assert signed.post("/sign-out", data={"csrf_token": signed.csrf}).headers["location"] == "/sign-in"
    assert signed.get("/programmes").status_code == 303


def session_token(app, username: str, lifetime_s: float) -> str:
    """A web-session token of ``username`` as signing in issues it."""
    with transaction(app.state.engine, write=True) as session:
        actor = services.sign_in(session, username, demo_password(username))
        return services.issue_token(session, actor, web.SESSION_TOKEN_LABEL, lifetime_s=lifetime_s)


def test_sessions_expire_and_depend_on_the_key(app, monkeypatch):
    token = session_token(app, "lab-viewer", 60)
    expired = web._encode(web.WebSession(token, "csrf", int(time.time()) - 1))
    current = web._encode(web.WebSession(token, "csrf", int(time.time()) + 60))
    ended = web._encode(web.WebSession(session_token(app, "lab-viewer", -1), "csrf", int(time.time()) + 60))
    for cookie, status in ((expired, 303), (current, 200), (ended, 303)):  # ended: the token expired on the server
        client = TestClient(app, follow_redirects=False, cookies={COOKIE: cookie})
        assert client.get("/programmes").status_code == status
    monkeypatch.setenv(web.SECRET_ENV, "another key")  # a cookie signed with another key is no session
    assert TestClient(app, follow_redirects=False, cookies={COOKIE: current}).get("/programmes").status_code == 303


def test_signing_in_drops_the_users_revoked_and_expired_tokens(app):
    def tokens(username):
        with transaction(app.state.engine) as session:
            return {row.token_hash for row in session.scalars(select(ApiToken).join(ApiToken.user)
                                                                .where(ApiToken.user.has(username=username)))}
    someone_elses, earlier = session_token(app, "mfr-engineer", -1), tokens("mfr-viewer")  # the demo token
    expiring, revoked, live = (session_token(app, "mfr-viewer", s) for s in (60, 60, None))
    with transaction(app.state.engine, write=True) as session:
        services.revoke_token(session, services.authenticate(session, revoked), revoked)
        session.execute(update(ApiToken).where(ApiToken.token_hash == security.token_hash(expiring))
                        .values(expires_at=ApiToken.created_at))  # expired since (as time passing would)
    assert {security.token_hash(t) for t in (expiring, revoked, live)} <= tokens("mfr-viewer")
    newest = session_token(app, "mfr-viewer", 60)
    assert tokens("mfr-viewer") == earlier | {security.token_hash(live), security.token_hash(newest)}
    assert security.token_hash(someone_elses) in tokens("mfr-engineer")  # only the user's own are dropped


def test_sign_out_ends_the_session_on_the_server_for_every_copy_of_the_cookie(app):
    browser = sign_in(app, "lab-engineer")
    saved = browser.cookies[COOKIE]
    token = web._decode(saved).token
    with transaction(app.state.engine) as session:  # the session is an API token, stored hashed, ending with it
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == security.token_hash(token)))
        assert row.label == "web session" and not row.revoked
        lifetime = (row.expires_at.replace(tzinfo=None) - row.created_at.replace(tzinfo=None)).total_seconds()
        assert lifetime == pytest.approx(12 * 3600, abs=5)
    copy = TestClient(app, follow_redirects=False, cookies={COOKIE: saved})
    assert copy.get("/programmes").status_code == 200
    threads = service_view(app, "lab-admin", services.list_threads, "lab", "ethernet-800vdc")

    assert browser.post("/sign-out", data={"csrf_token": browser.csrf}).headers["location"] == "/sign-in"
    for path in ("/programmes", "/designs/lab/ethernet-800vdc", "/designs/lab/ethernet-800vdc/elevation.svg"):
        answer = copy.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in"), path
    refused = copy.post("/designs/lab/ethernet-800vdc/threads",
                        data={"csrf_token": browser.csrf, "path": "", "body": "after signing out"})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/sign-in")
    assert service_view(app, "lab-admin", services.list_threads, "lab", "ethernet-800vdc") == threads
    with transaction(app.state.engine) as session, pytest.raises(services.Unauthorized):
        services.authenticate(session, token)  # and for the API
    assert copy.post("/sign-out", data={"csrf_token": browser.csrf}).headers["location"] == "/sign-in"  # no error


def test_every_form_needs_the_sessions_csrf_token_and_a_refused_post_stores_nothing(app):
    lab, other = sign_in(app, "lab-approver"), sign_in(app, "lab-engineer")
    design = "/designs/lab/ethernet-800vdc"
    threads_before = service_view(app, "lab-admin", services.list_threads, "lab", "ethernet-800vdc")
    posts = [(f"{design}/threads", {"path": "", "body": "a comment"}),
             (f"{design}/approvals", {}),
             (f"{design}/status", {"status": "in_review"}),
             (f"{design}/threads/1/comments", {"body": "a reply", "resolve": "resolve"}),
             (f"{design}/qualifications", {}),
             (f"{design}/confidential", {"sections": ["cost"]}),
             (f"{design}/shares", {"org": "mfr", "level": "full"}),
             (f"{design}/revisions", {"parent": "", "content": "name: x"}),
             ("/designs", {"name": "csrf-test", "content": (EXAMPLES / "hgx-h100-air.yaml").read_text()}),
             ("/sign-out", {})]
    for url, data in posts:
        for token in (None, "wrong", other.csrf):  # absent, forged, another session's
            sent = {**data, **({"csrf_token": token} if token else {})}
            answer = lab.post(url, data=sent)
            assert answer.status_code == 403, (url, token)
            assert "nothing was stored" in answer.text
    assert service_view(app, "lab-admin", services.list_threads, "lab", "ethernet-800vdc") == threads_before
    state = service_view(app, "lab-admin", services.approvals, "lab", "ethernet-800vdc")
    assert state["signatures"] == []
    assert service_view(app, "lab-admin", services.get_design, "lab", "ethernet-800vdc")["status"] == "draft"
    assert service_view(app, "lab-admin", services.list_qualifications, "lab", "ethernet-800vdc") == []
    assert service_view(app, "mfr-viewer", services.get_design, "lab", "ethernet-800vdc")["access"] == "envelope"
    assert len(service_view(app, "lab-admin", services.list_revisions, "lab", "ethernet-800vdc")) == 1
    assert "csrf-test" not in [d["name"] for d in service_view(app, "lab-admin", services.list_designs)]
    assert set(service_view(app, "lab-admin", services.get_design, "lab", "ethernet-800vdc")["confidential"]) == set(
        services.CONFIDENTIAL_SECTIONS)
    assert lab.get("/programmes").status_code == 200  # the refused sign-out did not sign out


def test_envelope_view_shows_the_envelope_and_nothing_confidential(app):
    lab = sign_in(app, "lab-viewer")
    page = lab.get("/designs/mfr/gb300-nvl72")
    assert page.status_code == 200
    assert "Envelope only" in page.text
    keys = set(re.findall(r'data-key="([a-z_]+)\.', page.text))
    assert keys == {"power", "thermal", "mechanical", "network", "cabling"}
    assert math.isclose(float(cell(page.text, "power.input_kw").replace(",", "")),
                        evaluate(EXAMPLES / "gb300-nvl72.yaml")["power.input_kw"], rel_tol=5e-3)
    diff = lab.get("/designs/mfr/gb300-nvl72/diff", params={"before": "mfr/gb200-nvl72"})
    assert diff.status_code == 200 and "not shared at envelope level" in diff.text
    leaked = [p for p in load_design(EXAMPLES / "gb300-nvl72.yaml").design.part_ids() if p in page.text + diff.text]
    assert not leaked
    assert "elevation.svg" not in page.text and "slots[" not in page.text
    assert 'method="post" action="/designs' not in page.text  # a viewer gets no forms to comment or approve
    assert "Shared with" not in page.text  # who else sees it is the owner's business
    assert lab.get("/designs/mfr/gb300-nvl72/elevation.svg").status_code == 404
    board = lab.get("/programmes/mfr/nvl72").text
    assert "gb300-nvl72" in board and "envelope only" in board


def test_owner_admin_chooses_the_confidential_sections_and_the_envelope_page_follows(app):
    owner, partner = sign_in(app, "lab-admin"), sign_in(app, "mfr-viewer")
    design = "/designs/lab/ethernet-800vdc"
    form = re.search(r'<form[^>]*action="/designs/lab/ethernet-800vdc/confidential".*?</form>', owner.get(design).text,
                     re.S).group(0)
    assert set(re.findall(r'value="(\w+)" type="checkbox" checked', form)) == set(services.CONFIDENTIAL_SECTIONS)
    for other in ("lab-approver", "mfr-admin"):  # not an admin of the owner: no form, and a POST is refused
        client = sign_in(app, other)
        assert "/confidential" not in client.get(design).text
        assert client.post(f"{design}/confidential", data={"csrf_token": client.csrf}).status_code == 403
    assert 'data-key="compute.' not in partner.get(design).text

    saved = owner.post(f"{design}/confidential", data={"csrf_token": owner.csrf, "sections": ["cost", "sourcing"]})
    assert saved.status_code == 303 and saved.headers["location"].endswith("#sharing")
    page = partner.get(design).text
    accelerators = evaluate(EXAMPLES / "ethernet-800vdc.yaml")["compute.accelerators"]
    assert cell(page, "compute.accelerators") == f"{accelerators:,.0f}"
    assert 'data-key="cost.' not in page and "and the cost, sourcing figures are not shared" in page

    owner.post(f"{design}/confidential", data={"csrf_token": owner.csrf,
                                                 "sections": list(services.CONFIDENTIAL_SECTIONS)})
    assert 'data-key="compute.' not in partner.get(design).text


def test_an_engineer_creates_a_design_and_writes_a_revision_through_forms(app):
    lab = sign_in(app, "lab-engineer")
    assert 'href="/designs/new"' in lab.get("/programmes").text
    form = lab.get("/designs/new").text
    assert '<option value="frontier">' in form and 'value="nvl72"' not in form  # the organisation's own programmes
    content = (EXAMPLES / "hgx-h100-air.yaml").read_text()
    broken = content.replace("slots:", "slotz:", 1)
    refused = lab.post("/designs", data={"csrf_token": lab.csrf, "name": "web-rack", "programme": "frontier",
                                         "content": broken, "message": "first"})
    assert refused.status_code == 422 and "<code>slotz</code>" in refused.text  # the problem, at its field
    assert str(escape(broken)) in refused.text  # what was typed comes back
    assert "web-rack" not in [d["name"] for d in service_view(app, "lab-viewer", services.list_designs)]

    created = lab.post("/designs", data={"csrf_token": lab.csrf, "name": "web-rack", "programme": "frontier",
                                         "content": content, "message": "first"})
    assert created.status_code == 303 and created.headers["location"] == "/designs/lab/web-rack"
    page = lab.get("/designs/lab/web-rack").text
    shown = float(cell(page, "power.input_kw").replace(",", ""))
    assert math.isclose(shown, evaluate(EXAMPLES / "hgx-h100-air.yaml")["power.input_kw"], rel_tol=5e-3)
    assert 'href="/programmes/lab/frontier"' in page and 'href="/designs/lab/web-rack/edit"' in page

    edit = lab.get("/designs/lab/web-rack/edit").text
    parent = re.search(r'name="parent" value="([0-9a-f]{16})"', edit).group(1)
    assert parent == service_view(app, "lab-viewer", services.get_design, "lab", "web-rack")["head_revision"]
    assert str(escape(content)) in edit
    edited = content.replace("name: ", "name: Web ", 1)
    pushed = lab.post("/designs/lab/web-rack/revisions", data={"csrf_token": lab.csrf, "parent": parent,
                                                               "content": edited, "message": "rename"})
    assert pushed.status_code == 303
    history = service_view(app, "lab-viewer", services.list_revisions, "lab", "web-rack")
    assert [(r["parent"], r["message"], r["name"]) for r in history] == [
        (parent, "rename", "Web DGX H100 air-cooled rack"), (None, "first", "DGX H100 air-cooled rack")]
    stale = lab.post("/designs/lab/web-rack/revisions", data={"csrf_token": lab.csrf, "parent": parent,
                                                              "content": edited.replace("Web", "Late"), "message": "x"})
    assert stale.status_code == 409 and "Late DGX" in stale.text  # refused, and the edit is not lost
    assert f"diff?before={parent}" in stale.text  # a link to what changed since
    assert len(service_view(app, "lab-viewer", services.list_revisions, "lab", "web-rack")) == 2


def test_the_design_pages_history_is_paged(app, monkeypatch):
    lab = sign_in(app, "lab-engineer")
    content = (EXAMPLES / "hgx-h100-air.yaml").read_text()
    assert lab.post("/designs", data={"csrf_token": lab.csrf, "name": "paged-rack", "content": content}).status_code == 303
    parent = service_view(app, "lab-viewer", services.get_design, "lab", "paged-rack")["head_revision"]
    assert lab.post("/designs/lab/paged-rack/revisions", data={"csrf_token": lab.csrf, "parent": parent,
                                                                "content": content + "\n# 2\n"}).status_code == 303
    history = service_view(app, "lab-viewer", services.list_revisions, "lab", "paged-rack")
    assert [r["number"] for r in history] == [2, 1]
    monkeypatch.setattr(services, "HISTORY_PAGE", 1)  # one revision per page
    newest = lab.get("/designs/lab/paged-rack").text
    assert 'href="/designs/lab/paged-rack?before=2#history"' in newest and "Newest revisions" not in newest
    assert f'?rev={history[0]["id"]}"' in newest and f'?rev={history[1]["id"]}"' not in newest
    older = lab.get("/designs/lab/paged-rack?before=2").text
    assert f'?rev={history[1]["id"]}"' in older and "Older revisions" not in older  # revision 1 is the last
    assert 'href="/designs/lab/paged-rack#history">Newest revisions' in older
    assert lab.get("/designs/lab/paged-rack?before=0").status_code == 422


def test_design_forms_follow_the_access_rules(app):
    viewer, lab = sign_in(app, "lab-viewer"), sign_in(app, "lab-engineer")
    assert 'href="/designs/new"' not in viewer.get("/programmes").text
    assert viewer.get("/designs/new").status_code == 403
    assert viewer.post("/designs", data={"csrf_token": viewer.csrf, "name": "x", "content": "name: x"}).status_code == 403
    assert viewer.get("/designs/lab/ethernet-800vdc/edit").status_code == 403
    assert "/edit" not in viewer.get("/designs/lab/ethernet-800vdc").text
    for hidden in ("gb300-nvl72", "hgx-h100-air"):  # envelope only (no YAML to edit), not shared
        assert lab.get(f"/designs/mfr/{hidden}/edit").status_code == 404
    envelope = lab.post("/designs/mfr/gb300-nvl72/revisions",
                        data={"csrf_token": lab.csrf, "parent": "0" * 16, "content": "name: x"})
    assert envelope.status_code == 403
    assert "/edit" not in lab.get("/designs/mfr/gb200-nvl72").text  # shipped: no more revisions
    head = service_view(app, "lab-viewer", services.get_design, "mfr", "gb200-nvl72")["head_revision"]
    shipped = lab.post("/designs/mfr/gb200-nvl72/revisions", data={"csrf_token": lab.csrf, "parent": head,
                                                                   "content": "name: x", "message": ""})
    assert shipped.status_code == 409 and "shipped" in shipped.text
    assert len(service_view(app, "lab-viewer", services.list_revisions, "mfr", "gb200-nvl72")) == 1


def test_owner_admin_shares_and_stops_sharing_through_the_form(app):
    admin, lab = sign_in(app, "mfr-admin"), sign_in(app, "lab-viewer")
    design = "/designs/mfr/hgx-h100-air"
    form = re.search(r'<form[^>]*action="/designs/mfr/hgx-h100-air/shares".*?</form>', admin.get(design).text,
                     re.S).group(0)
    assert re.findall(r'<option value="(\w+)">', form) == ["lab", "envelope", "full", "none"]  # not mfr itself
    assert lab.get(design).status_code == 404
    steps = (("envelope", 200, "Envelope only"), ("full", 200, "elevation.svg"), ("none", 404, ""))
    for level, status, seen in steps:
        answer = admin.post(f"{design}/shares", data={"csrf_token": admin.csrf, "org": "lab", "level": level})
        assert answer.status_code == 303 and answer.headers["location"].endswith("#sharing")
        page = lab.get(design)
        assert page.status_code == status and seen in page.text, level
    assert admin.post(f"{design}/shares", data={"csrf_token": admin.csrf, "org": "lab", "level": "x"}).status_code == 422
    assert admin.post(f"{design}/shares", data={"csrf_token": admin.csrf, "org": "nope", "level": "full"}
                      ).status_code == 404
    approver = sign_in(app, "mfr-approver")
    assert "/shares" not in approver.get(design).text
    assert approver.post(f"{design}/shares", data={"csrf_token": approver.csrf, "org": "lab", "level": "full"}
                         ).status_code == 403
    assert lab.get(design).status_code == 404
    shares = [e["detail"] for e in service_view(app, "mfr-admin", services.audit_log) if e["action"] == "design.share"
              and e["target"] == "design:mfr/hgx-h100-air"]
    assert [d["level"] for d in reversed(shares)] == ["envelope", "full", None]


def test_things_an_organisation_may_not_see_answer_404_and_take_no_writes(app):
    lab = sign_in(app, "lab-admin")
    for path in ("/designs/mfr/hgx-h100-air", "/designs/mfr/hgx-h100-air/elevation.svg",
                 "/designs/mfr/hgx-h100-air/diff?before=mfr/gb200-nvl72", "/designs/mfr/nope",
                 "/programmes/mfr/nope", "/designs/mfr/gb300-nvl72/diff?before=mfr/hgx-h100-air"):
        assert lab.get(path).status_code == 404, path
    for url, data in (("/designs/mfr/hgx-h100-air/threads", {"path": "", "body": "hello"}),
                      ("/designs/mfr/hgx-h100-air/approvals", {}),
                      ("/designs/mfr/hgx-h100-air/status", {"status": "in_review"})):
        assert lab.post(url, data={**data, "csrf_token": lab.csrf}).status_code == 404, url
    assert service_view(app, "mfr-admin", services.list_threads, "mfr", "hgx-h100-air") == []
    assert "hgx-h100-air" not in lab.get("/programmes/mfr/nvl72").text
    assert "hgx-h100-air" not in lab.get("/programmes").text


def test_review_threads_approvals_and_the_workflow(app):
    lab, mfr = sign_in(app, "lab-approver"), sign_in(app, "mfr-approver")
    design = "/designs/lab/meta-catalina"
    path = re.search(r"<code>(slots\[[^\]]+\]\.part)</code>", lab.get(design).text).group(1)
    opened = lab.post(f"{design}/threads", data={"csrf_token": lab.csrf, "path": path, "internal": "off",
                                                 "body": "Is this tray <script>alert(1)</script> final?"})
    assert opened.status_code == 303 and "#thread-" in opened.headers["location"]
    internal = lab.post(f"{design}/threads", data={"csrf_token": lab.csrf, "path": "", "body": "lab only",
                                                   "internal": "on"})
    assert internal.status_code == 303
    page = mfr.get(design).text  # the manufacturer sees the lab's design at envelope level
    assert f"<code>{path}</code>" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "lab only" not in page
    field_thread = mfr.post(f"{design}/threads", data={"csrf_token": mfr.csrf, "path": path, "body": "x",
                                                       "internal": "off"})
    assert field_thread.status_code == 422  # envelope viewers anchor to the figures they see
    figure_thread = mfr.post(f"{design}/threads", data={"csrf_token": mfr.csrf, "path": "power.input_kw",
                                                        "body": "Feed sized for this?", "internal": "off"})
    undecided = mfr.post(f"{design}/threads", data={"csrf_token": mfr.csrf, "path": "power.input_kw", "body": "?"})
    assert undecided.status_code == 422 and "choose who sees the thread" in undecided.text, undecided.text
    assert figure_thread.status_code == 303
    thread_id = int(opened.headers["location"].rpartition("-")[2])
    replied = mfr.post(f"{design}/threads/{thread_id}/comments",
                       data={"csrf_token": mfr.csrf, "body": "Yes, frozen.", "resolve": "resolve"})
    assert replied.status_code == 303
    threads = service_view(app, "lab-viewer", services.list_threads, "lab", "meta-catalina")
    ours = next(t for t in threads if t["id"] == thread_id)
    assert ours["resolved"] and [c["org"] for c in ours["comments"]] == ["lab", "mfr"]

    for client in (lab, mfr):  # meta-catalina breaks THM002: signing it is an override with a reason
        assert client.post(f"{design}/approvals", data={"csrf_token": client.csrf}).status_code == 409
        assert client.post(f"{design}/approvals", data={"csrf_token": client.csrf,
                                                        "reason": "CDU upgrade ordered"}).status_code == 303
    assert mfr.post(f"{design}/approvals", data={"csrf_token": mfr.csrf, "reason": "again"}).status_code == 409
    assert "Approved</strong> by every participating organisation" in lab.get(design).text
    assert mfr.post(f"{design}/status", data={"csrf_token": mfr.csrf, "status": "in_review"}).status_code == 403
    for status in ("in_review", "approved"):
        moved = lab.post(f"{design}/status", data={"csrf_token": lab.csrf, "status": status,
                                                   "reason": "CDU upgrade ordered"})
        assert moved.status_code == 303, moved.text
    board = lab.get("/programmes/lab/frontier").text
    assert "meta-catalina" in re.search(r'id="col-approved">.*?</section>', board, re.S).group(0)
    skipped = lab.post(f"{design}/status", data={"csrf_token": lab.csrf, "status": "shipped"})
    assert skipped.status_code == 409 and "cannot move" in skipped.text


def test_qualification_results_show_pass_warn_fail(app):
    mfr = sign_in(app, "mfr-engineer")
    results = (EXAMPLES / "qualification-gb200.csv").read_bytes()
    rows = len(results.decode().strip().splitlines()) - 1
    sent = mfr.post("/designs/mfr/gb200-nvl72/qualifications", data={"csrf_token": mfr.csrf},
                    files={"results": ("results.csv", results, "text/csv")})
    assert sent.status_code == 303, sent.text
    page = sign_in(app, "lab-viewer").get("/designs/mfr/gb200-nvl72").text  # full access: the rows
    section = re.search(r'id="qualification">.*?</section>', page, re.S).group(0)
    verdicts = re.findall(r'class="verdict verdict-(pass|warn|fail)"', section)
    summary = {v: int(n) for v, n in re.findall(r"</span> (pass|warn|fail)</span>: (\d+)", section)}
    assert sum(summary.values()) == rows and len(verdicts) == 3 + rows  # three summary badges, one per row
    bad = mfr.post("/designs/mfr/gb200-nvl72/qualifications", data={"csrf_token": mfr.csrf},
                   files={"results": ("results.txt", b"x", "text/plain")})
    assert bad.status_code == 422 and "results.txt" in bad.text


class Audit(HTMLParser):
    """Collects what the accessibility checks need from one page."""

    def __init__(self):
        super().__init__()
        self.lang, self.mains, self.headings, self.images = None, 0, [], []
        self.controls, self.labels, self.forms, self.buttons = [], set(), [], []
        self._button = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "main":
            self.mains += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "img":
            self.images.append(a.get("alt"))
        elif tag == "label":
            self.labels.add(a.get("for"))
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append(a.get("id"))
        elif tag == "form":
            self.forms.append({"method": a.get("method"), "csrf": False})
        elif tag == "button":
            self._button = ""
        if tag == "input" and a.get("name") == "csrf_token" and self.forms:
            self.forms[-1]["csrf"] = bool(a.get("value"))

    def handle_data(self, data):
        if self._button is not None:
            self._button += data

    def handle_endtag(self, tag):
        if tag == "button":
            self.buttons.append(self._button.strip())
            self._button = None


@pytest.mark.parametrize("user, paths", [
    ("lab-approver", ["/programmes", "/programmes/mfr/nvl72", "/designs/mfr/gb200-nvl72", "/designs/mfr/gb300-nvl72",
                      "/designs/mfr/gb300-nvl72/diff?before=mfr/gb200-nvl72", "/designs/mfr/nope", "/designs/new",
                      "/designs/lab/ethernet-800vdc/edit"]),
    ("mfr-admin", ["/designs/mfr/hgx-h100-air", "/designs/lab/ethernet-800vdc"]),
    (None, ["/sign-in"]),
])
def test_pages_are_accessible_and_every_post_form_carries_the_token(app, user, paths):
    client = sign_in(app, user) if user else TestClient(app)
    for path in paths:
        page = client.get(path)
        audit = Audit()
        audit.feed(page.text)
        assert audit.lang == "en" and audit.mains == 1, path
        assert audit.headings[0] == 1 and audit.headings.count(1) == 1, path
        assert all(b - a <= 1 for a, b in zip(audit.headings, audit.headings[1:])), (path, audit.headings)
        assert all(alt for alt in audit.images), path
        unlabelled = [c for c in audit.controls if c is None or c not in audit.labels]
        assert not unlabelled, (path, unlabelled)
        assert all(audit.buttons), path
        assert all(f["csrf"] for f in audit.forms if f["method"] == "post"), path
        assert page.headers["content-security-policy"].startswith("default-src 'self'")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.text(TEXT, max_size=60), body=st.text(TEXT, max_size=200), resolve=st.sampled_from(["", "resolve", "x"]),
       status=st.text(TEXT, max_size=20), thread=st.integers(-3, 10**12))
def test_fuzzed_forms_answer_a_page_never_a_server_error(app, path, body, resolve, status, thread):
    lab = sign_in(app, "lab-engineer")
    design = "/designs/lab/ethernet-800vdc"
    answers = [lab.post(f"{design}/threads", data={"csrf_token": lab.csrf, "path": path, "body": body}),
               lab.post(f"{design}/threads/{thread}/comments",
                        data={"csrf_token": lab.csrf, "body": body, "resolve": resolve}),
               lab.post(f"{design}/status", data={"csrf_token": lab.csrf, "status": status}),
               lab.post("/designs", data={"csrf_token": lab.csrf, "name": status, "content": body, "programme": path}),
               lab.post(f"{design}/revisions", data={"csrf_token": lab.csrf, "parent": path, "content": body}),
               lab.post(f"{design}/shares", data={"csrf_token": lab.csrf, "org": status, "level": path}),
               lab.get(design, params={"rev": path[:16], "anchor": path}),
               lab.get(f"{design}/diff", params={"before": path, "after": status})]
    for answer in answers:
        assert answer.status_code in (200, 303, 403, 404, 409, 422, 428), answer.text
        assert answer.status_code == 303 or answer.headers["content-type"].startswith("text/html")
