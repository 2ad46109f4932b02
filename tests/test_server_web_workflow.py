"""The review workflow's pages (issue 16) with FastAPI's TestClient on a demo SQLite database: the home page's
inbox, the design page at a glance, YAML downloads, programmes, users, the audit log, paged qualification results,
labelled diffs, explicit thread visibility and overrides of rule errors.

Expected values come from the demo data (``rackwright.server.seed``: ``mfr/gb300-nvl72`` in review, signed by
nobody, shared with the lab at envelope level; ``mfr/gb200-nvl72`` shared in full; the lab's designs shared with
the manufacturer at envelope level), from evaluating the example files locally, and from the rules of
docs/server.md.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rackwright.rack.evaluation import evaluate
from rackwright.server import inbox, services
from test_server_web import app, cell, service_view, sign_in  # noqa: F401 - app is a fixture
from test_server_web import test_pages_are_accessible_and_every_post_form_carries_the_token as audit_pages

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GB300 = "/designs/mfr/gb300-nvl72"
ENGINEERS_AND_ADMINS = ("lab-engineer", "lab-admin", "mfr-engineer", "mfr-admin")


def section(page: str, heading_id: str) -> str:
    """The HTML of the ``<section>`` whose heading has id ``heading_id``."""
    return re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', page, re.S).group(0)


def linked_designs(html: str) -> list[str]:
    return re.findall(r'<a href="/designs/(\w+/[\w.-]+)">', html)


def test_home_lists_what_waits_for_each_organisation(app):
    assert TestClient(app, follow_redirects=False).get("/").headers["location"] == "/sign-in"
    mfr_approver = sign_in(app, "mfr-approver").get("/").text
    assert "Waiting for your approval (1)" in mfr_approver
    assert linked_designs(section(mfr_approver, "for-us")) == ["mfr/gb300-nvl72"]
    partners = section(mfr_approver, "for-partners")
    assert linked_designs(partners) == ["mfr/gb300-nvl72"] and "<td>mfr, lab</td>" in partners
    mfr_engineer = sign_in(app, "mfr-engineer").get("/").text
    assert "Waiting for mfr's review (1)" in mfr_engineer and "approval" not in section(mfr_engineer, "for-us")
    lab = sign_in(app, "lab-approver").get("/").text
    assert linked_designs(section(lab, "for-us")) == ["mfr/gb300-nvl72"]  # envelope access: lab signs too
    assert linked_designs(section(lab, "for-partners")) == []  # none of the lab's designs is in review


def test_the_design_page_answers_at_a_glance_before_the_figures(app):
    mfr = sign_in(app, "mfr-approver").get(GB300).text
    glance = section(mfr, "glance")
    assert "Waiting for your approval</strong> and for lab" in glance
    assert all(f'href="#{anchor}"' in glance for anchor in ("approvals", "history", "compare", "violations"))
    order = [mfr.index(f'id="{anchor}"') for anchor in ("glance", "violations", "approvals", "evaluation")]
    assert order == sorted(order)  # status and waiting, the rule errors, sign-off, then the figures
    lab = sign_in(app, "lab-engineer").get(GB300).text
    assert "Waiting for mfr, lab (an approver of lab signs)" in section(lab, "glance")
    assert "every rule passes" in section(lab, "glance")


def test_revision_yaml_downloads_as_permitted(app):
    lab = sign_in(app, "lab-engineer")
    page = lab.get("/designs/mfr/gb200-nvl72").text
    head = service_view(app, "lab-viewer", services.get_design, "mfr", "gb200-nvl72")["head_revision"]
    assert 'href="/designs/mfr/gb200-nvl72/design.yaml">Download its YAML' in page
    assert f'href="/designs/mfr/gb200-nvl72/design.yaml?rev={head}">YAML' in section(page, "history")
    for url in ("/designs/mfr/gb200-nvl72/design.yaml", f"/designs/mfr/gb200-nvl72/design.yaml?rev={head}"):
        answer = lab.get(url)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/yaml")
        assert answer.headers["content-disposition"] == f'attachment; filename="mfr-gb200-nvl72-{head}.yaml"'
        assert answer.text == (EXAMPLES / "gb200-nvl72.yaml").read_text()
    envelope = lab.get(GB300).text
    assert "design.yaml" not in envelope and "not shared" in section(envelope, "history")
    for hidden in (f"{GB300}/design.yaml", "/designs/mfr/hgx-h100-air/design.yaml"):  # envelope only, not shared
        assert lab.get(hidden).status_code == 404, hidden
    assert lab.get(f"{GB300}/design.yaml?rev=nothex").status_code == 422


def test_engineers_create_programmes_and_viewers_cannot(app):
    lab, viewer = sign_in(app, "lab-engineer"), sign_in(app, "lab-viewer")
    assert 'action="/programmes"' in lab.get("/programmes").text
    created = lab.post("/programmes", data={"csrf_token": lab.csrf, "slug": "next-gen", "title": "Next racks"})
    assert created.status_code == 303 and created.headers["location"] == "/programmes/lab/next-gen"
    assert "Next racks" in lab.get("/programmes/lab/next-gen").text
    assert lab.post("/programmes", data={"csrf_token": lab.csrf, "slug": "next-gen"}).status_code == 409
    assert lab.post("/programmes", data={"csrf_token": lab.csrf, "slug": "Bad Name"}).status_code == 422
    assert 'action="/programmes"' not in viewer.get("/programmes").text
    assert viewer.post("/programmes", data={"csrf_token": viewer.csrf, "slug": "by-viewer"}).status_code == 403
    slugs = [p["slug"] for p in service_view(app, "lab-viewer", services.list_programmes)]
    assert "next-gen" in slugs and "by-viewer" not in slugs
    assert "next-gen" not in sign_in(app, "mfr-engineer").get("/programmes").text  # nothing of it is shared


def test_admins_manage_their_organisations_users(app):
    admin = sign_in(app, "lab-admin")
    page = admin.get("/users").text
    assert 'href="/users"' in page and 'href="/audit"' in page  # in the navigation
    assert re.findall(r'<tr id="user-([\w-]+)">', page) == [f"lab-{r}" for r in ("admin", "approver", "engineer",
                                                                                  "viewer")]
    created = admin.post("/users", data={"csrf_token": admin.csrf, "username": "lab-newcomer",
                                         "password": "long-enough", "role": "engineer", "display_name": "New Comer"})
    assert created.status_code == 303 and created.headers["location"] == "/users#user-lab-newcomer"
    row = '<tr id="user-lab-newcomer"><th scope="row">lab-newcomer</th><td>New Comer</td><td>engineer</td>'
    assert row in admin.get("/users").text
    with_role = service_view(app, "lab-admin", services.list_users)
    assert {"username": "lab-newcomer", "display_name": "New Comer", "role": "engineer", "org": "lab"} in with_role
    for refused, status in (({"password": "short", "username": "lab-short"}, 422),
                            ({"password": "long-enough", "username": "lab-newcomer"}, 409),
                            ({"password": "long-enough", "username": "lab-x", "role": "boss"}, 422)):
        answer = admin.post("/users", data={"csrf_token": admin.csrf, "role": "viewer", **refused})
        assert answer.status_code == status, refused
    assert len(service_view(app, "lab-admin", services.list_users)) == 5
    for user in ("lab-viewer", "lab-engineer", "lab-approver"):
        client = sign_in(app, user)
        assert 'href="/users"' not in client.get("/programmes").text
        assert client.get("/users").status_code == 403
        assert client.post("/users", data={"csrf_token": client.csrf, "username": "lab-sneak",
                                           "password": "long-enough", "role": "admin"}).status_code == 403
    assert "lab-sneak" not in [u["username"] for u in service_view(app, "lab-admin", services.list_users)]


def test_admins_read_the_audit_log_newest_first_in_pages(app, monkeypatch):
    mfr = sign_in(app, "mfr-admin")
    entries = service_view(app, "mfr-admin", services.audit_log)
    monkeypatch.setattr(inbox, "AUDIT_PAGE", 3)
    first, second = mfr.get("/audit").text, mfr.get("/audit?page=1").text
    ids = [int(n) for n in re.findall(r'<tr><th scope="row">(\d+)</th>', first + second)]
    assert ids == [e["id"] for e in entries[:6]] and ids == sorted(ids, reverse=True)
    assert 'href="/audit?page=1">Older entries' in first and 'href="/audit">Newer entries' in second
    assert f"<code>{entries[0]['action']}</code>" in first
    assert mfr.get("/audit?page=-1").status_code == 422 and mfr.get("/audit?page=99").status_code == 422
    for user in ("mfr-viewer", "mfr-engineer", "mfr-approver"):
        assert sign_in(app, user).get("/audit").status_code == 403


def test_long_qualification_results_are_paged(app, monkeypatch):
    mfr = sign_in(app, "mfr-engineer")
    results = (EXAMPLES / "qualification-gb200.csv").read_bytes().replace(b",gb200,", b",gb300,")  # its racks
    rows = len(results.decode().strip().splitlines()) - 1
    sent = mfr.post(f"{GB300}/qualifications", data={"csrf_token": mfr.csrf},
                    files={"results": ("results.csv", results, "text/csv")})
    assert sent.status_code == 303, sent.text
    monkeypatch.setattr(inbox, "QUALIFICATION_ROWS", 4)
    qualification = section(mfr.get(GB300).text, "qualification")
    assert len(re.findall(r"<tr><th scope=\"row\">", qualification)) == 4
    link = re.search(r'href="(/designs/mfr/gb300-nvl72/qualifications/\d+\?rev=[0-9a-f]{16})">All (\d+) measurements',
                     qualification)
    assert link and int(link.group(2)) == rows
    full = mfr.get(link.group(1)).text
    assert len(re.findall(r'class="verdict verdict-(?:pass|warn|fail)"', full)) == 3 + rows  # summary and every row
    envelope = sign_in(app, "lab-viewer").get(link.group(1))
    assert envelope.status_code == 200 and "not shared at envelope level" in envelope.text
    assert "<tbody>" not in envelope.text
    assert mfr.get("/designs/mfr/gb300-nvl72/qualifications/999999").status_code == 404


def test_figures_and_diffs_show_labels_units_and_shares_in_percent(app):
    mfr = sign_in(app, "mfr-engineer")
    local = evaluate(EXAMPLES / "gb300-nvl72.yaml")
    page = mfr.get(GB300).text
    # a share in per cent, as report.present shows it, named as evaluate --json and compare --json name it
    shown_share = cell(page, "sourcing.us_content_share")
    assert shown_share.endswith("%"), shown_share
    share = float(shown_share.removesuffix("%"))
    assert abs(share - 100 * local["sourcing.domestic_share"]) <= 0.05  # one decimal: within half its last digit
    assert re.search(r'data-key="sourcing.us_content_share">[^<]*</td>\s*<td>%</td>', page)
    assert "domestic_share" not in page and "hbm_tb" not in page
    diff = mfr.get("/designs/mfr/gb300-nvl72/diff", params={"before": "mfr/gb200-nvl72"}).text
    assert re.search(r'<th scope="row">IT load \(rated\) <span class="unit">kW</span><br>'
                     r"<code>power\.it_load_kw</code>", diff)
    assert "domestic_share" not in diff and "hbm_tb" not in diff  # the names of compare --json, not internal keys
    row = re.search(r'US content \(share of cost\) <span class="unit">%</span><br><code>sourcing\.us_content_share</code>'
                    r"</th><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>", diff)  # gb200 and gb300 differ (~1 %)
    assert all(row.group(i).endswith("%") for i in (1, 2)), row.groups()
    shown = [float(row.group(i).removesuffix("%")) for i in (1, 2)]
    expected = [100 * evaluate(EXAMPLES / f"{name}.yaml")["sourcing.domestic_share"]
                for name in ("gb200-nvl72", "gb300-nvl72")]
    assert all(abs(a - b) <= 0.05 for a, b in zip(shown, expected, strict=True)), (shown, expected)  # 1 decimal


def test_thread_visibility_is_an_explicit_choice_and_threads_show_their_value(app):
    owner, partner = sign_in(app, "mfr-engineer"), sign_in(app, "lab-engineer")
    form = re.search(r'<form[^>]*action="/designs/mfr/gb300-nvl72/threads".*?</form>', owner.get(GB300).text, re.S)
    radios = re.findall(r'<input id="thread-(\w+)" name="internal" value="(\w+)" type="radio" required>', form.group(0))
    assert radios == [("internal", "on"), ("shared", "off")] and "checked" not in form.group(0)
    assert 'name="internal"' not in partner.get(GB300).text  # only the owner may keep a thread internal
    shared = owner.post(f"{GB300}/threads", data={"csrf_token": owner.csrf, "path": "power.input_kw",
                                                  "body": "shared with the lab", "internal": "off"})
    internal = owner.post(f"{GB300}/threads", data={"csrf_token": owner.csrf, "path": "", "body": "mfr only",
                                                    "internal": "on"})
    assert shared.status_code == internal.status_code == 303
    seen = partner.get(GB300).text
    assert "shared with the lab" in seen and "mfr only" not in seen
    thread_id = shared.headers["location"].rpartition("-")[2]
    article = re.search(rf'<article[^>]*id="thread-{thread_id}".*?</article>', seen, re.S).group(0)
    value = re.search(r"Value in the thread's revision: <strong>([^<]*)</strong> kW", article)
    assert value and math.isclose(float(value.group(1).replace(",", "")),
                                  evaluate(EXAMPLES / "gb300-nvl72.yaml")["power.input_kw"], rel_tol=5e-3)


def test_rule_errors_need_an_override_with_a_reason_shown_to_both_sides(app):
    design = "/designs/lab/meta-catalina"  # breaks THM002 (an error)
    lab, mfr = sign_in(app, "lab-approver"), sign_in(app, "mfr-viewer")
    page = lab.get(design).text
    assert "THM002" in section(page, "glance") and 'id="approve-reason"' in page and 'id="move-reason"' in page
    assert lab.post(f"{design}/approvals", data={"csrf_token": lab.csrf}).status_code == 409
    assert lab.post(f"{design}/status", data={"csrf_token": lab.csrf, "status": "in_review"}).status_code == 409
    reason = "Pilot racks only; the CDU is upsized in revision 2"
    assert lab.post(f"{design}/approvals", data={"csrf_token": lab.csrf, "reason": reason}).status_code == 303
    assert lab.post(f"{design}/status", data={"csrf_token": lab.csrf, "status": "in_review",
                                              "reason": reason}).status_code == 303
    envelope = mfr.get(design).text
    approvals = section(envelope, "approvals")
    assert f"overriding its rule errors</strong>: “{reason}”" in approvals
    assert "moving to In review" in approvals and "signing" in approvals
    violations = section(envelope, "violations")
    assert "<th scope=\"col\">What it means</th>" in violations  # the description and hint, not only the code
    assert re.search(r"<th scope=\"row\">THM002</th><td>.*?</td>\s*<td>[^<]+</td><td>[^<]+</td>", violations, re.S)


@pytest.mark.parametrize("user", ENGINEERS_AND_ADMINS)
def test_the_new_pages_are_accessible(app, user):
    paths = ["/", "/programmes", GB300, "/designs/mfr/gb200-nvl72", "/designs/lab/meta-catalina",
             "/designs/mfr/gb300-nvl72/diff?before=mfr/gb200-nvl72"]
    audit_pages(app, user, paths + (["/users", "/audit"] if user.endswith("admin") else []))
