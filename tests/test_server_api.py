"""The collaboration server's JSON API against SQLite and PostgreSQL (live uvicorn on loopback).

Expected figures come from evaluating the example files locally with ``rackwright.evaluate``
(the server must store exactly what the evaluation chain computes), and approvals,
statuses and visibility from the rules written in docs/server.md.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from typer.testing import CliRunner

from rackwright.cli.app import app as cli
from rackwright.rack.design import load_design
from rackwright.rack.evaluation import evaluate
from rackwright.report.jsonout import SCHEMA_VERSION
from rackwright.server import services
from rackwright.server.db import Base, make_engine, transaction

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(params=["sqlite", "postgresql"])
def demo(request, tmp_path_factory, live_server):
    """A demo server (two organisations, the example designs) on a fresh database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'rackwright.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database()
    return live_server(url)


def cli_json(*argv: str) -> dict:
    """A command's ``--json`` document, run in this process from the checkout (paths relative to it)."""
    result = CliRunner().invoke(cli, [*argv, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_demo_revisions_store_the_local_evaluation(demo, monkeypatch):
    """Every seeded revision carries the figures `rackwright evaluate --json` prints for the example file, by the
    same names and in the same units (docs/json.md: `us_content_share`, HBM in bytes)."""
    monkeypatch.chdir(ROOT)
    with demo.client("mfr-viewer") as mfr:
        for name in ("gb200-nvl72", "gb300-nvl72"):
            report = mfr.get(f"/designs/mfr/{name}/revisions/head/report").json()
            local = cli_json("evaluate", f"examples/{name}.yaml", "--no-delivery")["designs"][0]
            for section in ("power", "thermal", "cost", "compute", "sourcing"):
                assert list(report[section]) == list(local[section]), (name, section)
                for key, value in local[section].items():
                    if isinstance(value, float):
                        assert math.isclose(report[section][key], value, rel_tol=1e-9), (name, section, key)
        gb300 = mfr.get("/designs/mfr/gb300-nvl72/revisions/head/report").json()
        assert gb300["compute"]["hbm_bytes"] == 72 * 279e9  # 72 GPUs of 279 GB usable HBM (the catalog's GB300)
        assert "hbm_tb" not in gb300["compute"] and "domestic_share" not in gb300["sourcing"]
        assert 0 < gb300["sourcing"]["us_content_share"] < 1
        history = mfr.get("/designs/mfr/gb300-nvl72/revisions").json()
        assert [r["number"] for r in history] == [1]
        assert history[0]["lineage"][0].startswith("mfr/gb200-nvl72@")  # extends resolved on the server


def test_envelope_sharing_shows_the_envelope_and_nothing_else(demo):
    """The lab sees gb300-nvl72 (shared at envelope level) without parts, prices, origins or content."""
    secret_parts = load_design(EXAMPLES / "gb300-nvl72.yaml").design.part_ids()
    with demo.client("lab-admin") as lab:
        responses = [lab.get(path) for path in (
            "/designs", "/designs/mfr/gb300-nvl72", "/designs/mfr/gb300-nvl72/revisions",
            "/designs/mfr/gb300-nvl72/revisions/head", "/designs/mfr/gb300-nvl72/revisions/head/report",
            "/designs/mfr/gb300-nvl72/revisions/head/approvals", "/designs/mfr/gb300-nvl72/threads",
            "/designs/mfr/gb300-nvl72/diff?before=mfr/gb200-nvl72", "/programmes", "/audit")]
        assert all(r.status_code == 200 for r in responses), [(r.url, r.status_code) for r in responses]
        body = " ".join(r.text for r in responses)
        leaked = [part for part in secret_parts if part in body]
        assert not leaked
        report = responses[4].json()
        assert {"power", "thermal", "mechanical", "network", "cabling"} <= report.keys()
        assert not {"cost", "compute", "sourcing", "reliability"} & report.keys()
        assert report["power"]["input_kw"] == pytest.approx(evaluate(EXAMPLES / "gb300-nvl72.yaml")["power.input_kw"])
        for hidden in ("content", "elevation.svg"):
            assert lab.get(f"/designs/mfr/gb300-nvl72/revisions/head/{hidden}").status_code == 404
        # not shared at all: indistinguishable from a design that does not exist
        unshared, absent = lab.get("/designs/mfr/hgx-h100-air"), lab.get("/designs/mfr/no-such-design")
        assert unshared.status_code == absent.status_code == 404
        assert unshared.json()["error"].replace("hgx-h100-air", "X") == absent.json()["error"].replace("no-such-design", "X")
    with demo.client("lab-viewer") as lab:  # a full share shows everything
        assert "nvidia-gb200-compute-tray" in lab.get("/designs/mfr/gb200-nvl72/revisions/head/content").text
        assert "cost" in lab.get("/designs/mfr/gb200-nvl72/revisions/head/report").json()


def test_owner_admin_changes_confidentiality_and_envelope_reports_follow_at_once(demo):
    """Sections the owner stops hiding appear in the envelope viewer's very next report (the cached report
    document is filtered when read), and hide again when the owner says so; only the owner's admins decide."""
    design = "/designs/mfr/gb300-nvl72"
    local = evaluate(EXAMPLES / "gb300-nvl72.yaml")
    with demo.client("mfr-admin") as owner, demo.client("lab-viewer") as lab, \
            demo.client("mfr-approver") as approver, demo.client("lab-admin") as lab_admin:
        before = lab.get(f"{design}/revisions/head/report").json()  # the report document is cached from here on
        assert "cost" not in before and "compute" not in before
        changed = owner.put(f"{design}/confidential", json={"sections": ["cost", "sourcing"]})
        assert changed.status_code == 200 and changed.json()["confidential"] == ["cost", "sourcing"]
        after = lab.get(f"{design}/revisions/head/report").json()
        assert after["hidden_sections"] == ["cost", "sourcing"] and "cost" not in after and "sourcing" not in after
        assert after["compute"]["accelerators"] == local["compute.accelerators"] == 72  # NVIDIA: 72 GPUs per NVL72
        assert lab.get(design).json()["confidential"] is None  # what the owner hides is the owner's business
        assert "compute" in lab.get(f"{design}/revisions/head").json()["report"]
        assert lab_admin.post(f"{design}/threads", json={"path": "compute.accelerators", "body": "72?",
                                                         "internal": False}).status_code == 201

        for client, sections, status in ((approver, [], 403), (lab_admin, [], 403), (owner, ["envelope"], 422),
                                         (owner, ["power"], 422)):
            assert client.put(f"{design}/confidential", json={"sections": sections}).status_code == status
        unshared = lab_admin.put("/designs/mfr/hgx-h100-air/confidential", json={"sections": []})
        assert unshared.status_code == 404  # a design not shared with the organisation
        assert lab.get(f"{design}/revisions/head/report").json()["hidden_sections"] == ["cost", "sourcing"]

        restored = owner.put(f"{design}/confidential", json={"sections": list(services.CONFIDENTIAL_SECTIONS)})
        assert restored.status_code == 200
        assert not {"compute", "cost"} & lab.get(f"{design}/revisions/head/report").json().keys()
        entries = [e for e in owner.get("/audit").json() if e["action"] == "design.confidential"]
        assert [e["detail"]["after"] for e in entries] == [sorted(services.CONFIDENTIAL_SECTIONS), ["cost", "sourcing"]]


def test_review_approval_and_status_workflow(demo):
    """Threads on field paths, internal threads, approval by every participating organisation, then the workflow."""
    with demo.client("mfr-engineer") as mfr, demo.client("lab-engineer") as lab, \
            demo.client("lab-approver") as lab_approver, demo.client("mfr-approver") as mfr_approver:
        design = "/designs/mfr/gb300-nvl72"
        thread = mfr.post(f"{design}/threads", json={"path": "slots[0].part", "body": "check the tray", "internal": False}).json()
        mfr.post(f"{design}/threads", json={"path": "", "body": "margin is thin", "internal": True})
        assert lab.post(f"{design}/threads", json={"path": "slots[0].part", "body": "x", "internal": False}).status_code == 422
        shared = lab.post(f"{design}/threads", json={"path": "power.input_kw", "body": "<b>142 kW?</b>'; DROP TABLE",
                                                       "internal": False})
        assert shared.status_code == 201
        assert len(lab.get(f"{design}/threads").json()) == 2  # the internal thread stays with mfr
        assert len(mfr.get(f"{design}/threads").json()) == 3
        reply = mfr.post(f"{design}/threads/{thread['id']}/comments", json={"body": "done", "resolve": True}).json()
        assert reply["resolved"] and [c["body"] for c in reply["comments"]] == ["check the tray", "done"]
        assert lab.get(f"{design}/threads").json()[1]["comments"][0]["body"] == "<b>142 kW?</b>'; DROP TABLE"

        assert mfr_approver.put(f"{design}/status", json={"status": "approved"}).status_code == 409
        state = mfr_approver.post(f"{design}/revisions/head/approvals").json()
        assert state["missing"] == ["lab"] and not state["approved"]
        assert mfr_approver.put(f"{design}/status", json={"status": "approved"}).status_code == 409
        assert lab_approver.post(f"{design}/revisions/head/approvals").json()["approved"]
        for status in ("approved", "frozen"):
            assert mfr_approver.put(f"{design}/status", json={"status": status}).json()["status"] == status
        assert mfr_approver.put(f"{design}/status", json={"status": "draft"}).status_code == 409
        head = mfr.get(design).json()["head_revision"]
        frozen = mfr.post(f"{design}/revisions", json={"content": "name: x"}, headers={"If-Match": head})
        assert frozen.status_code == 409 and "frozen" in frozen.json()["error"]
    with demo.client("mfr-admin") as admin:
        actions = [e["action"] for e in admin.get("/audit").json()]
        assert actions[:4] == ["design.status", "design.status", "revision.approve", "revision.approve"]


def test_history_is_paged_newest_first_with_next_links(demo):
    """Pages of ``limit`` revisions numbered below ``before``; a full page links the next; bad bounds are 422."""
    with demo.client("lab-engineer") as lab, demo.client("mfr-viewer") as envelope:
        design = "/designs/lab/meta-catalina"
        page = lab.get(design).json()
        content, head = page["head"]["content"], page["head_revision"]
        for n in range(3):
            written = lab.post(f"{design}/revisions", json={"content": content + f"\n# page {n}\n"},
                               headers={"If-Match": head})
            assert written.status_code == 201, written.text
            head = written.json()["id"]
        whole = [r["number"] for r in lab.get(f"{design}/revisions").json()]
        assert whole == list(range(len(whole), 0, -1)) and len(whole) >= 4
        seen, url = [], f"{design}/revisions?limit=2"
        while url:
            answer = lab.get(url)
            assert answer.status_code == 200 and len(answer.json()) <= 2
            seen += [r["number"] for r in answer.json()]
            url = answer.links.get("next", {}).get("url")
        assert seen == whole  # every revision once, in order, and no link after the last
        assert [r["number"] for r in lab.get(f"{design}/revisions", params={"before": 3}).json()] == [2, 1]
        assert lab.get(f"{design}/revisions", params={"before": 1}).json() == []
        shared = envelope.get(f"{design}/revisions", params={"limit": 1})  # shared at envelope level (seed)
        assert [r["number"] for r in shared.json()] == whole[:1] and "lineage" not in shared.json()[0]
        assert shared.links["next"]["url"].endswith(f"before={whole[0]}&limit=1")
        for bad in ({"limit": 0}, {"limit": 1001}, {"before": 0}, {"before": "x"}, {"limit": 2**70}):
            assert lab.get(f"{design}/revisions", params=bad).status_code == 422, bad


def test_revisions_history_diff_and_qualification(demo):
    """A new revision moves the head; history keeps both; diff reuses compare; qualification is stored."""
    with demo.client("lab-engineer") as lab, demo.client("lab-admin") as admin:
        design = "/designs/lab/ethernet-800vdc"
        first = lab.get(design).json()
        content = first["head"]["content"]
        edited = content.replace("name: ", "name: Revised ", 1)
        pushed = lab.post(f"{design}/revisions", json={"content": edited, "message": "rename"},
                          headers={"If-Match": f'"{first["head_revision"]}"'})
        assert pushed.status_code == 201 and pushed.headers["ETag"] == f'"{pushed.json()["id"]}"'
        history = lab.get(f"{design}/revisions").json()
        assert [r["id"] for r in history] == [pushed.json()["id"], first["head_revision"]]
        assert history[0]["parent"] == first["head_revision"]
        diff = lab.get(f"{design}/diff", params={"before": first["head_revision"]}).json()
        assert [f["path"] for f in diff["fields"]] == ["name"] and diff["figures"] == []
        old = lab.get(f"{design}/revisions/{first['head_revision']}/content").text
        assert old == content  # revisions are immutable

        results = (EXAMPLES / "qualification-gb200.csv").read_text()
        wrong = lab.post(f"{design}/revisions/head/qualifications", json={"filename": "r.csv", "content": results})
        assert wrong.status_code == 422  # results of gb200 racks do not qualify the e1 generation
        actions = [e["action"] for e in admin.get("/audit").json()]
        assert actions[0] == "revision.create" and "qualification.create" not in actions
    with demo.client("mfr-engineer") as mfr, demo.client("lab-viewer") as lab:
        stored = mfr.post("/designs/mfr/gb200-nvl72/revisions/head/qualifications",
                          json={"filename": "results.csv", "content": (EXAMPLES / "qualification-gb200.csv").read_text()})
        assert stored.status_code == 201
        assert sum(stored.json()["summary"].values()) == len((EXAMPLES / "qualification-gb200.csv").read_text()
                                                             .strip().splitlines()) - 1
        shown = lab.get("/designs/mfr/gb200-nvl72/revisions/head/qualifications").json()
        assert shown[0]["summary"] == stored.json()["summary"] and "result" in shown[0]


def test_diff_names_figures_as_compare_json_does(demo, monkeypatch):
    """The diff API lists the figures as `rackwright compare --json` does for the same two designs: public names
    (`sourcing.us_content_share`, `compute.hbm_bytes`, never the figure table's keys), the same values and units."""
    monkeypatch.chdir(ROOT)
    compared = cli_json("compare", "examples/gb200-nvl72.yaml", "examples/gb300-nvl72.yaml")
    with demo.client("mfr-engineer") as mfr:
        diff = mfr.get("/designs/mfr/gb300-nvl72/diff", params={"before": "mfr/gb200-nvl72"}).json()
    served = {f["figure"]: f for f in diff["figures"]}
    local = {f["figure"]: f for f in compared["figures"]}
    assert {"sourcing.us_content_share", "compute.hbm_bytes"} <= set(served)
    assert not {"sourcing.domestic_share", "compute.hbm_tb"} & set(served)
    assert set(served) == {name for name in local if not name.startswith("delivery.")}  # the server stores no delivery
    for name, change in served.items():
        for key in ("before", "after", "absolute", "relative"):
            assert change[key] == pytest.approx(local[name][key], rel=1e-9), (name, key)
    hbm = served["compute.hbm_bytes"]
    assert (hbm["before"], hbm["after"]) == (72 * 186e9, 72 * 279e9)  # GB200 186 GB, GB300 279 GB usable per GPU


def test_threads_on_figures_take_the_public_name(demo):
    """A thread anchored on a figure by its older key (`compute.hbm_tb`) is stored under the name the report gives it
    (`compute.hbm_bytes`), with its value in bytes: 72 GPUs x 279 GB."""
    with demo.client("mfr-engineer") as mfr:
        design = "/designs/mfr/gb300-nvl72"
        for path in ("compute.hbm_tb", "compute.hbm_bytes"):
            thread = mfr.post(f"{design}/threads", json={"path": path, "body": "HBM?", "internal": True}).json()
            assert (thread["path"], thread["value"]) == ("compute.hbm_bytes", 72 * 279e9)


def test_push_and_pull_from_the_command_line(demo, tmp_path, monkeypatch):
    """`rackwright push` creates and extends designs on the server; `pull --resolved` gives a loadable design."""
    monkeypatch.setenv("RACKWRIGHT_TOKEN", demo.tokens["lab-engineer"])
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    server = ["--server", demo.url]
    for file in ("gb200-nvl72.yaml", "gb300-nvl72.yaml"):
        result = runner.invoke(cli, ["push", str(EXAMPLES / file), *server, "-m", "import", "--json"])
        assert result.exit_code == 0, result.output
        pushed = json.loads(result.stdout)  # docs/json.md's shape: the stored revision under one object
        assert list(pushed) == ["schema_version", "command", "revision"] and pushed["command"] == "push"
        assert pushed["revision"]["errors"] == 0, pushed
    again = runner.invoke(cli, ["push", str(EXAMPLES / "gb300-nvl72.yaml"), *server, "--parent", "0000000000000000"])
    assert again.exit_code == 2 and "409" in again.output
    result = runner.invoke(cli, ["pull", "gb300-nvl72", *server, "-o", "out/gb300.yaml", "--resolved", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"schema_version": SCHEMA_VERSION, "command": "pull",
                                         "design": "lab/gb300-nvl72", "revision": pushed["revision"]["id"],
                                         "file": "out/gb300.yaml"}
    pulled = evaluate(tmp_path / "out" / "gb300.yaml")
    assert pulled["power.input_kw"] == pytest.approx(evaluate(EXAMPLES / "gb300-nvl72.yaml")["power.input_kw"])
    result = runner.invoke(cli, ["pull", "mfr/gb300-nvl72", *server, "-o", "out/secret.yaml"])
    assert result.exit_code == 2 and "404" in result.output and not (tmp_path / "out" / "secret.yaml").exists()


def test_tokens_come_from_passwords_and_can_be_revoked(demo):
    with demo.client(None) as anonymous:
        wrong = anonymous.post("/auth/token", json={"username": "lab-viewer", "password": "lab-viewer-dem0"})
        unknown = anonymous.post("/auth/token", json={"username": "nobody", "password": "lab-viewer-demo"})
        assert wrong.status_code == unknown.status_code == 401 and wrong.json() == unknown.json()
        token = anonymous.post("/auth/token", json={"username": "lab-viewer", "password": "lab-viewer-demo"}).json()
        assert token["org"] == "lab" and token["role"] == "viewer"
        headers = {"Authorization": f"Bearer {token['token']}"}
        assert anonymous.get("/me", headers=headers).json()["username"] == "lab-viewer"
        assert anonymous.delete("/auth/token", headers=headers).status_code == 200
        refused = anonymous.get("/me", headers=headers)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
        with transaction(demo.app.state.engine, write=True) as session:  # tokens that expire (web sessions)
            actor = services.sign_in(session, "lab-viewer", "lab-viewer-demo")
            current, ended = (services.issue_token(session, actor, "web session", lifetime_s=s) for s in (60, -1))
        for token, status in ((current, 200), (ended, 401)):
            assert anonymous.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == status


def test_schema_is_migrated_and_history_is_append_only(db_url):
    """Alembic's schema equals the models, and the database itself refuses edits of revisions and audit entries."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from rackwright.server.app import create_app

    app = create_app(db_url, demo=True)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        for statement in ("UPDATE revisions SET message = 'rewritten'", "DELETE FROM revisions",
                          "UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(Exception, match="append-only"):
                with engine.begin() as connection:
                    connection.execute(text(statement))
    finally:
        engine.dispose()
        app.state.engine.dispose()


def test_sqlite_is_crash_safe_and_writers_queue(tmp_path):
    """WAL with synchronous=FULL (a committed write is on disk), and write transactions take the lock first."""
    from sqlalchemy import event

    from rackwright.server.db import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'pragma.db'}")
    upgrade(engine)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: statements.append(statement))
    with transaction(engine, write=True) as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    with transaction(engine) as session:
        session.execute(text("SELECT 1"))
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN"]
    engine.dispose()


@pytest.mark.parametrize("db", ["ftp://example.org/x", "sqlite://", "sqlite:///:memory:", "postgresql+psycopg://a@b:x/c",
                                "postgresql+psycopg://nobody@127.0.0.1:9/none", "/no/such/dir/server.db"])
def test_serve_refuses_unusable_databases_with_one_message(db, tmp_path):
    from rackwright.server.throwaway_pg import free_port

    result = CliRunner().invoke(cli, ["serve", "--db", db, "--port", str(free_port())])
    assert result.exit_code == 2 and "--db" in result.output and "Traceback" not in result.output


def test_demo_needs_the_examples(tmp_path):
    from rackwright.errors import InputError
    from rackwright.server.db import upgrade
    from rackwright.server.seed import seed_demo

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    with pytest.raises(InputError, match="example designs"):
        seed_demo(engine, tmp_path / "no-examples")
    engine.dispose()


def test_client_problems_are_input_errors(tmp_path, monkeypatch):
    """No token, no server, a non-HTTP URL, an unreachable or foreign server: one InputError each."""
    import httpx

    from rackwright.errors import InputError
    from rackwright.server.client import ServerClient

    monkeypatch.delenv("RACKWRIGHT_TOKEN", raising=False)
    monkeypatch.delenv("RACKWRIGHT_SERVER", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for server, token, message in ((None, "t", "no server"), ("ftp://x", "t", "not an http"),
                                   ("http://127.0.0.1:9", None, "no API token")):
        with pytest.raises(InputError, match=message):
            ServerClient(server, token)
    (tmp_path / ".rackwright.toml").write_text('server = "http://127.0.0.1:9"\ntoken = "from-file"\n')
    client = ServerClient(None)
    assert client.http.headers["Authorization"] == "Bearer from-file"
    with pytest.raises(InputError, match="cannot reach"):
        client.me()
    client.http = httpx.Client(base_url="http://127.0.0.1:9/api/v1",
                               transport=httpx.MockTransport(lambda request: httpx.Response(200, text="<html>")))
    with pytest.raises(InputError, match="without a JSON object"):
        client.me()
    (tmp_path / ".rackwright.toml").write_text("token = [1")
    with pytest.raises(InputError, match="client config"):
        ServerClient(None)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ref=st.text(max_size=40), name=st.one_of(st.none(), st.text(max_size=20)))
def test_push_and_pull_arguments_never_crash(ref, name, monkeypatch):
    """Any design reference or name: exit 2 with one message (the server here is unreachable), no traceback."""
    monkeypatch.setenv("RACKWRIGHT_TOKEN", "t")
    runner, server = CliRunner(), ["--server", "http://127.0.0.1:9"]
    pulled = runner.invoke(cli, ["pull", ref, *server, "-o", "out/fuzz.yaml"])
    pushed = runner.invoke(cli, ["push", str(EXAMPLES / "gb200-nvl72.yaml"), *server, *(["--name", name] if name else [])])
    for result in (pulled, pushed):
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
