"""Regression tests of the security review (issue 16): each failed on the code before its fix.

On a demo server (``lab`` and ``mfr``, docs/server.md) with a third organisation ``ext``, on SQLite and PostgreSQL:

1. ``extends`` may not carry a design past its sharing: neither by sharing the child further, nor by pushing an
   ``extends`` into a design others read, nor after the parent's owner narrows its share (the read is capped);
3. status moves and pushes of one design serialize (no approval of an unsigned head, one move out of a status);
4. who must sign is fixed when the review starts (unsharing the partner does not skip its sign-off);
5. envelope views carry no digest of the hidden YAML;
7. identifiers with a NUL, a newline or another control character are a 422, and nothing is stored.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from rackwright.server import services
from rackwright.server.db import transaction

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AIR = (EXAMPLES / "hgx-h100-air.yaml").read_text()
CHILD = "extends: {parent}\nname: {name}\ngeneration: fork\n"


@pytest.fixture
def demo(db_url, live_server):
    """The demo server plus organisation ``ext`` with an engineer, an approver and an admin."""
    server = live_server(db_url)
    with transaction(server.app.state.engine, write=True) as session:
        services.create_organisation(session, "ext", "A third organisation")
        for role in ("engineer", "approver", "admin"):
            services.create_user(session, None, "ext", f"ext-{role}", f"ext-{role}-password", role)
            server.tokens[f"ext-{role}"] = services.operator_token(session, f"ext-{role}")
    return server


def create(client: httpx.Client, name: str, content: str) -> httpx.Response:
    return client.post("/designs", json={"name": name, "content": content})


def share(client: httpx.Client, design: str, org: str, level: str | None) -> httpx.Response:
    if level is None:
        return client.delete(f"/designs/{design}/shares/{org}")
    return client.put(f"/designs/{design}/shares/{org}", json={"level": level})


def push(client: httpx.Client, design: str, content: str) -> httpx.Response:
    head = client.get(f"/designs/{design}").json()["head_revision"]
    return client.post(f"/designs/{design}/revisions", json={"content": content}, headers={"If-Match": head})


def status(client: httpx.Client, design: str, to: str) -> httpx.Response:
    return client.put(f"/designs/{design}/status", json={"status": to})


def reads(client: httpx.Client, design: str) -> dict[str, httpx.Response]:
    """Every route that shows a revision's data."""
    base = f"/designs/{design}"
    return {route: client.get(base + route) for route in (
        "", "/revisions", "/revisions/head", "/revisions/head/content", "/revisions/head/content?resolved=true",
        "/revisions/head/report", "/revisions/head/elevation.svg")}


# --- 1. extends and sharing -----------------------------------------------------------------

def test_a_fork_of_a_shared_design_cannot_be_shared_further(demo):
    """lab forks mfr/gb200-nvl72 (shared with lab in full); sharing the fork with ext would show ext mfr's design."""
    with demo.client("lab-engineer") as lab, demo.client("lab-admin") as admin:
        assert create(lab, "fork", CHILD.format(parent="mfr/gb200-nvl72", name="Fork")).status_code == 201
        for level in ("full", "envelope"):
            refused = share(admin, "lab/fork", "ext", level)
            assert refused.status_code == 409, refused.text
            assert "mfr/gb200-nvl72" in refused.json()["error"] and "ext" in refused.json()["error"]
        assert admin.get("/designs/lab/fork").json()["shares"] == []
    with demo.client("ext-engineer") as ext:
        assert ext.get("/designs/lab/fork").status_code == 404


def test_an_engineer_cannot_push_an_extends_that_widens_a_share(demo):
    """A lab engineer may edit mfr/shared, but extending lab's envelope-only design there would show it to mfr."""
    with demo.client("mfr-engineer") as mfr, demo.client("mfr-admin") as mfr_admin, \
            demo.client("lab-engineer") as lab:
        assert create(mfr, "shared", AIR).status_code == 201
        assert share(mfr_admin, "mfr/shared", "lab", "full").status_code == 200
        refused = push(lab, "mfr/shared", CHILD.format(parent="lab/ethernet-800vdc", name="Widened"))
        assert refused.status_code == 422, refused.text
        assert refused.json()["problems"][0]["path"] == "extends"
        assert "lab/ethernet-800vdc" in refused.json()["error"]
        assert len(mfr.get("/designs/mfr/shared/revisions").json()) == 1  # nothing stored


def test_narrowing_the_parent_share_narrows_every_read_of_the_child(demo):
    """After mfr narrows gb200-nvl72 to envelope, then stops sharing it, lab's fork shows lab no more of it."""
    with demo.client("lab-engineer") as lab, demo.client("mfr-admin") as mfr_admin:
        assert create(lab, "fork", CHILD.format(parent="mfr/gb200-nvl72", name="Fork")).status_code == 201
        assert all(r.status_code == 200 for r in reads(lab, "lab/fork").values())

        assert share(mfr_admin, "mfr/gb200-nvl72", "lab", "envelope").status_code == 200
        envelope = reads(lab, "lab/fork")
        assert {r for r, a in envelope.items() if a.status_code == 404} == {
            "/revisions/head/content", "/revisions/head/content?resolved=true", "/revisions/head/elevation.svg"}
        head = envelope[""].json()["head"]
        assert head["access"] == "envelope" and "content" not in head and "content_hash" not in head
        assert "cost" not in envelope["/revisions/head/report"].json()  # mfr keeps cost confidential
        assert "lineage" not in envelope["/revisions"].json()[0]

        assert share(mfr_admin, "mfr/gb200-nvl72", "lab", None).status_code == 200
        withheld = reads(lab, "lab/fork")
        assert withheld[""].json()["head"]["report"] is None
        assert "mfr/gb200-nvl72" in withheld[""].json()["head"]["withheld"]
        assert {r for r, a in withheld.items() if a.status_code == 404} == set(withheld) - {
            "", "/revisions", "/revisions/head"}
        assert withheld["/revisions/head"].json()["report"] is None
        assert "power" not in withheld[""].text and "generation" not in withheld["/revisions"].json()[0]
        listed = next(d for d in lab.get("/designs").json() if d["name"] == "fork")
        assert listed["title"] is None and listed["generation"] is None  # the head's, which may be its parent's


# --- 3. writes to one design serialize ------------------------------------------------------

def _in_review_and_signed(demo, name: str) -> str:
    """``mfr/NAME`` shared with lab in full, in review, its head signed by both; the head's id."""
    with demo.client("mfr-engineer") as mfr, demo.client("mfr-admin") as admin:
        assert create(mfr, name, AIR).status_code == 201
        assert share(admin, f"mfr/{name}", "lab", "full").status_code == 200
        assert status(mfr, f"mfr/{name}", "in_review").status_code == 200
    for approver in ("mfr-approver", "lab-approver"):
        with demo.client(approver) as client:
            signed = client.post(f"/designs/mfr/{name}/revisions/head/approvals")
            assert signed.status_code == 201
    return signed.json()["revision"]


def _race(*calls) -> list[int]:
    """Run the calls at the same moment; their status codes."""
    barrier, codes = threading.Barrier(len(calls)), [0] * len(calls)

    def run(i, call):
        barrier.wait()
        codes[i] = call().status_code

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return codes


def _held_while(demo, first, second) -> list:
    """Run ``first(session)`` in a write transaction and, while it is open, ``second(session)`` in another one on
    a thread; ``[its result or error]`` once ``first``'s transaction has committed."""
    outcome: list = []

    def run_second():
        try:
            with transaction(demo.app.state.engine, write=True) as session:
                outcome.append(second(session))
        except services.ServiceError as exc:
            outcome.append(exc)

    with transaction(demo.app.state.engine, write=True) as session:
        first(session)
        thread = threading.Thread(target=run_second)
        thread.start()
        thread.join(1.0)
        waited = thread.is_alive()  # on the design's row lock (PostgreSQL) or the write lock (SQLite)
    thread.join(60)
    assert waited, f"the second write did not wait for the first: {outcome}"
    return outcome


def _actor(demo, session, user: str) -> services.Actor:
    return services.authenticate(session, demo.tokens[user])


def test_a_push_waits_for_the_approval_in_flight_and_is_refused(demo):
    """Sign the head, then push while the move to approved is uncommitted: the push must see it approved."""
    head = _in_review_and_signed(demo, "held")
    outcome = _held_while(
        demo, lambda s: services.set_status(s, _actor(demo, s, "mfr-approver"), "mfr", "held", "approved"),
        lambda s: services.push_revision(s, _actor(demo, s, "mfr-engineer"), "mfr", "held",
                                         AIR.replace("name: ", "name: Edited ", 1), "", head))
    assert isinstance(outcome[0], services.Conflict) and "approved" in outcome[0].message
    with demo.client("mfr-engineer") as mfr:
        assert mfr.get("/designs/mfr/held").json()["head_revision"] == head


def test_a_status_move_waits_for_the_push_in_flight_and_is_refused(demo):
    head = _in_review_and_signed(demo, "pushed")
    outcome = _held_while(
        demo, lambda s: services.push_revision(s, _actor(demo, s, "mfr-engineer"), "mfr", "pushed",
                                                 AIR.replace("name: ", "name: Edited ", 1), "", head),
        lambda s: services.set_status(s, _actor(demo, s, "mfr-approver"), "mfr", "pushed", "approved"))
    assert isinstance(outcome[0], services.Conflict) and "lacks approval" in outcome[0].message


def test_two_status_moves_from_one_status_are_one_move(demo):
    _in_review_and_signed(demo, "moved")
    outcome = _held_while(
        demo, lambda s: services.set_status(s, _actor(demo, s, "mfr-approver"), "mfr", "moved", "approved"),
        lambda s: services.set_status(s, _actor(demo, s, "mfr-admin"), "mfr", "moved", "draft"))
    assert isinstance(outcome[0], services.Conflict)
    with demo.client("mfr-admin") as admin:
        moves = [e for e in admin.get("/audit").json() if e["action"] == "design.status"
                 and e["target"] == "design:mfr/moved" and e["detail"]["before"] == "in_review"]
    assert len(moves) == 1, moves


def test_a_push_racing_an_approval_over_http_leaves_no_unsigned_head_approved(demo):
    head = _in_review_and_signed(demo, "race")
    with demo.client("mfr-engineer") as mfr, demo.client("mfr-approver") as approver:
        edit = AIR.replace("name: ", "name: Edited ", 1)
        codes = _race(lambda: mfr.post("/designs/mfr/race/revisions", json={"content": edit},
                                       headers={"If-Match": head}),
                      lambda: status(approver, "mfr/race", "approved"))
        assert codes.count(409) == 1, codes  # the push first (the head then unsigned) or the move first
        state = mfr.get("/designs/mfr/race").json()
        signatures = mfr.get("/designs/mfr/race/revisions/head/approvals").json()
        assert state["status"] != "approved" or signatures["approved"], (codes, state["status"])


# --- 4. the partner's sign-off cannot be skipped -----------------------------------------------

def test_unsharing_the_partner_does_not_skip_its_sign_off(demo):
    with demo.client("mfr-engineer") as mfr, demo.client("mfr-admin") as admin, \
            demo.client("mfr-approver") as approver:
        assert create(mfr, "solo", AIR).status_code == 201
        assert share(admin, "mfr/solo", "lab", "full").status_code == 200
        assert status(mfr, "mfr/solo", "in_review").status_code == 200
        assert approver.post("/designs/mfr/solo/revisions/head/approvals").status_code == 201
        assert share(admin, "mfr/solo", "lab", None).status_code == 200
        refused = status(approver, "mfr/solo", "approved")
        assert refused.status_code == 409 and "lab" in refused.json()["error"]
        state = approver.get("/designs/mfr/solo/revisions/head/approvals").json()
        assert state["participants"] == ["mfr", "lab"] and state["missing"] == ["lab"]
        assert share(admin, "mfr/solo", "lab", "full").status_code == 200
        with demo.client("lab-approver") as lab:
            assert lab.post("/designs/mfr/solo/revisions/head/approvals").status_code == 201
        assert status(approver, "mfr/solo", "approved").status_code == 200


def test_sharing_an_approved_design_sends_it_back_to_review(demo):
    _in_review_and_signed(demo, "signed")
    with demo.client("mfr-approver") as approver, demo.client("mfr-admin") as admin:
        assert status(approver, "mfr/signed", "approved").status_code == 200
        assert share(admin, "mfr/signed", "ext", "envelope").status_code == 200
        assert admin.get("/designs/mfr/signed").json()["status"] == "in_review"
        state = admin.get("/designs/mfr/signed/revisions/head/approvals").json()
        assert state["participants"] == ["mfr", "lab", "ext"] and state["missing"] == ["ext"]
        assert status(approver, "mfr/signed", "approved").status_code == 409


def test_moving_back_to_draft_restarts_the_review_with_who_reads_it_then(demo):
    _in_review_and_signed(demo, "restart")
    with demo.client("mfr-admin") as admin:
        assert share(admin, "mfr/restart", "lab", None).status_code == 200
        assert status(admin, "mfr/restart", "draft").status_code == 200
        assert status(admin, "mfr/restart", "in_review").status_code == 200
        state = admin.get("/designs/mfr/restart/revisions/head/approvals").json()
        assert state["participants"] == ["mfr"] and state["approved"]  # mfr signed the head already
        entries = [e["detail"] for e in admin.get("/audit").json() if e["target"] == "design:mfr/restart"
                   and e["action"] == "design.status" and e["detail"]["after"] == "in_review"]
        assert entries[0]["signers"] == ["mfr"]  # the newest first: who had to sign is in the audit log


# --- 5. no digest of hidden content ------------------------------------------------------------

def test_envelope_views_carry_no_digest_of_the_yaml(demo):
    with demo.client("lab-viewer") as lab:
        head = lab.get("/designs/mfr/gb300-nvl72").json()["head_revision"]
        documents = [lab.get(path).text for path in (
            "/designs/mfr/gb300-nvl72", "/designs/mfr/gb300-nvl72/revisions",
            "/designs/mfr/gb300-nvl72/revisions/head", f"/designs/mfr/gb300-nvl72/diff?before={head}")]
    with demo.client("mfr-viewer") as mfr:
        digest = mfr.get("/designs/mfr/gb300-nvl72/revisions/head").json()["content_hash"]
    assert len(digest) == 64
    assert all("content_hash" not in text and digest not in text for text in documents)


def test_revision_ids_are_salted(demo):
    """The same content, message and parent pushed twice (a stale write refused in between) gives new ids."""
    with demo.client("mfr-engineer") as mfr:
        assert create(mfr, "salted", AIR).status_code == 201
        first = push(mfr, "mfr/salted", AIR.replace("name: ", "name: B ", 1)).json()["id"]
        second = push(mfr, "mfr/salted", AIR.replace("name: ", "name: B ", 1)).json()["id"]
        assert first != second


# --- 7. identifiers ---------------------------------------------------------------------------

BAD_NAMES = ["fork\n", "fork\x00", "fo\x07rk", "Fork", "-fork", "f" * 65, "fork\r", "fork "]


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_bad_identifiers_are_refused_at_the_edge(demo, bad):
    with demo.client("mfr-admin") as admin:
        assert create(admin, bad, AIR).status_code == 422
        assert admin.post("/programmes", json={"slug": bad}).status_code == 422
        assert admin.post("/users", json={"username": bad, "password": "long enough", "role": "viewer"}
                          ).status_code == 422
        assert admin.post("/auth/token", json={"username": bad, "password": "whatever"}).status_code == 422
        assert admin.get(f"/designs/mfr/{quote(bad, safe='')}").status_code == 422
        assert admin.get("/designs/mfr/gb200-nvl72/diff", params={"before": bad}).status_code == 422
        names = [d["name"] for d in admin.get("/designs").json()]
        users = [u["username"] for u in admin.get("/users").json()]
    assert bad not in names and bad not in users


@pytest.mark.parametrize("path", ["/designs/mfr/gb200%00", "/designs/mfr/gb200-nvl72%0A",
                                  "/designs/mfr/gb200-nvl72/revisions/%00",
                                  "/designs/m%00fr/gb200-nvl72/revisions/head/report", "/programmes/mfr/nvl72%0A"])
def test_control_characters_in_a_path_are_a_422(demo, path):
    with demo.client("mfr-admin") as admin:
        assert admin.get(path).status_code == 422


def test_one_line_texts_refuse_line_breaks(demo):
    with demo.client("mfr-admin") as admin:
        answer = admin.post("/programmes", json={"slug": "titled", "title": "Two\nlines"})
        assert answer.status_code == 422 and answer.json()["problems"][0]["path"] == "title"
        assert admin.post("/users", json={"username": "shown", "password": "long enough", "role": "viewer",
                                          "display_name": "Bell\x07"}).status_code == 422
        assert "titled" not in [p["slug"] for p in admin.get("/programmes").json()]


# --- the review workflow: overrides, threads, what envelope viewers are told ------------------------------------

HEAVY = AIR.replace('floor_rating: "1500 kg/m**2"', 'floor_rating: "200 kg/m**2"')  # breaks MEC003 (floor load)


def test_vouching_for_rule_errors_needs_a_reason_that_both_sides_see(demo):
    with demo.client("mfr-engineer") as mfr, demo.client("mfr-admin") as admin, \
            demo.client("mfr-approver") as approver, demo.client("lab-viewer") as lab:
        assert create(mfr, "heavy", HEAVY).status_code == 201
        assert share(admin, "mfr/heavy", "lab", "envelope").status_code == 200
        refused = status(mfr, "mfr/heavy", "in_review")
        assert refused.status_code == 409 and refused.json()["errors"] == ["MEC003"], refused.text
        moved = mfr.put("/designs/mfr/heavy/status", json={"status": "in_review", "reason": "slab is being reinforced"})
        assert moved.status_code == 200, moved.text
        assert approver.post("/designs/mfr/heavy/revisions/head/approvals").status_code == 409
        signed = approver.post("/designs/mfr/heavy/revisions/head/approvals", json={"reason": "accepted with the slab"})
        assert signed.status_code == 201 and signed.json()["signatures"][0]["override"] == "accepted with the slab"
        seen = lab.get("/designs/mfr/heavy").json()["overrides"]
        assert [(o["status"], o["reason"], o["errors"], o["org"]) for o in seen] == [
            ("signed", "accepted with the slab", ["MEC003"], "mfr"),
            ("in_review", "slab is being reinforced", ["MEC003"], "mfr")]
        assert lab.get("/designs/mfr/heavy/revisions/head/approvals").json()["signatures"][0]["override"]


def test_a_clean_revision_needs_no_reason(demo):
    with demo.client("mfr-engineer") as mfr:
        assert create(mfr, "clean", AIR).status_code == 201
        assert status(mfr, "mfr/clean", "in_review").status_code == 200
        assert mfr.get("/designs/mfr/clean").json()["overrides"] == []


def test_envelope_viewers_are_told_what_a_rule_checks_and_how_to_fix_it(demo):
    with demo.client("mfr-engineer") as mfr, demo.client("mfr-admin") as admin, demo.client("lab-viewer") as lab:
        assert create(mfr, "heavy", HEAVY).status_code == 201
        assert share(admin, "mfr/heavy", "lab", "envelope").status_code == 200
        full = mfr.get("/designs/mfr/heavy/revisions/head/report").json()["violations"]
        told = lab.get("/designs/mfr/heavy/revisions/head/report").json()["violations"]
    assert [v["code"] for v in told] == [v["code"] for v in full] == ["MEC003"]
    assert told[0]["description"] == "the floor load exceeds the floor rating"
    assert told[0]["hint"] == full[0]["hint"] and told[0]["hint"]
    assert "message" not in told[0] and "path" not in told[0]


def test_a_thread_is_shared_or_internal_by_choice_and_shows_its_value(demo):
    with demo.client("mfr-engineer") as mfr, demo.client("lab-viewer") as lab_viewer, \
            demo.client("lab-engineer") as lab:
        design = "/designs/mfr/gb300-nvl72"  # shared with lab at envelope level
        undecided = mfr.post(f"{design}/threads", json={"path": "power.input_kw", "body": "check"})
        assert undecided.status_code == 422 and "internal" in undecided.text
        figure = mfr.post(f"{design}/threads", json={"path": "power.input_kw", "body": "check", "internal": False})
        field = mfr.post(f"{design}/threads", json={"path": "slots[0].part", "body": "tray?", "internal": False})
        internal = mfr.post(f"{design}/threads", json={"path": "", "body": "ours", "internal": True})
        assert {figure.status_code, field.status_code, internal.status_code} == {201}
        input_kw = mfr.get(f"{design}/revisions/head/report").json()["power"]["input_kw"]
        assert figure.json()["value"] == input_kw
        resolved = mfr.get(f"{design}/revisions/head/content?resolved=true").text.partition("\n")[2]
        assert field.json()["value"] == json.loads(resolved)["slots"][0]["part"]
        seen = {t["id"]: t for t in lab_viewer.get(f"{design}/threads").json()}
        assert internal.json()["id"] not in seen  # internal threads stay within mfr
        assert seen[figure.json()["id"]]["value"] == input_kw  # a figure lab reads
        assert seen[field.json()["id"]]["value"] is None  # a field of the file, which lab does not read
        assert lab.post(f"{design}/threads/{internal.json()['id']}/comments",
                        json={"body": "resolve", "resolve": True}).status_code == 404
