"""Authorisation matrix: every API route × every organisation relation × every role, generated.

The routes are enumerated from the application's OpenAPI document (operationId = route name); each must have a rule in
:data:`POLICY` (the access rules of docs/server.md, written out independently of the
services' code), so a new route without a rule fails here. The organisations: ``mfr``
owns the target design, which ``extends`` mfr's ``base``; ``lab`` has the target shared (at ``full`` or
``envelope``) and the base shared in full when the target was written, which mfr may then have narrowed
(re-shared at envelope level, or unshared: lab then reads the target no further than its base); ``ext``
has nothing shared; each has a user of every role; plus anonymous. Expected: 2xx when allowed, 404 for
what the organisation may not see, 403 for what it sees but may not do, 401 without a token; and where the
base was narrowed, the refusals of a read capped by it and of writes that would widen it again.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import select

from rackwright.server import services
from rackwright.server.db import ROLES, Design, DesignShare, Organisation, transaction

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hgx-h100-air.yaml"
CHILD = "extends: base\nname: Target v{n}\n"  # every revision of the target extends mfr/base
RESULTS = "rack_id,generation,test,metric,value,unit,timestamp\nR01,h100,soak,power_at_load,10.4,kW,2026-03-02T09:10:00Z\n"
ORGS = {"mfr": "owner", "lab": None, "ext": "none"}  # lab's relation is the share level under test

# route name -> (what the organisation needs, least role, status when allowed)
#   public: anyone; credentials: anyone with a password (anonymous tries a wrong one: 401);
#   any: any signed-in user; visible: the design (or programme) is visible; content: full access;
#   editor: full access, envelope sees but may not write (403); owner: the owner organisation.
POLICY = {
    "health": ("public", None, 200), "sign_in": ("credentials", None, 200),
    "revoke_token": ("any", "viewer", 200),
    "me": ("any", "viewer", 200), "organisations": ("any", "viewer", 200), "users": ("any", "viewer", 200),
    "create_user": ("any", "admin", 201), "programmes": ("any", "viewer", 200),
    "create_programme": ("any", "engineer", 201), "programme": ("visible", "viewer", 200),
    "designs": ("any", "viewer", 200), "create_design": ("any", "engineer", 201),
    "design": ("visible", "viewer", 200), "revisions": ("visible", "viewer", 200),
    "revision": ("visible", "viewer", 200), "report": ("visible", "viewer", 200),
    "diff": ("visible", "viewer", 200), "approvals": ("visible", "viewer", 200),
    "threads": ("visible", "viewer", 200), "qualifications": ("visible", "viewer", 200),
    "content": ("content", "viewer", 200), "elevation": ("content", "viewer", 200),
    "push": ("editor", "engineer", 201), "qualify": ("editor", "engineer", 201),
    "status": ("owner", "engineer", 200), "share": ("owner", "admin", 200), "unshare": ("owner", "admin", 200),
    "set_confidential": ("owner", "admin", 200),
    "open_thread": ("visible", "engineer", 201), "comment": ("visible", "engineer", 201),
    "approve": ("visible", "approver", 201), "audit": ("any", "admin", 200),
    # programme plans (tests/test_server_programme.py has their matrix over granted organisations): this world has
    # none, so a plan's routes answer 404 to everyone signed in; an upload naming no design is refused after the
    # role check (422)
    "plans": ("any", "viewer", 200), "create_plan": ("any", "engineer", 422),
    "plan": ("ungranted", "viewer", 404), "replan": ("ungranted", "viewer", 404),
    "share_plan": ("ungranted", "viewer", 404),
}


def expected_status(route: str, relation: str, role: str | None, reads: str = "full", narrowed: bool = False) -> int:
    """The status of ``route`` for ``role`` of an organisation with ``relation`` to the target (owner, full,
    envelope, none), which reads its head at level ``reads`` (its relation, capped by its level on the base);
    ``narrowed``: the base's share was narrowed below the target's."""
    needs, least, allowed = POLICY[route]
    if needs == "public" or needs == "credentials" and role is not None:
        return allowed
    if role is None:
        return 401
    if needs == "ungranted":
        return allowed
    if relation == "none" and needs != "any" or reads not in ("owner", "full") and needs == "content":
        return 404
    if relation == "envelope" and needs == "editor" or relation != "owner" and needs == "owner":
        return 403
    if ROLES.index(role) < ROLES.index(least):
        return 403
    return CAPPED.get((route, reads), WIDENING.get(route, allowed) if narrowed else allowed)


#: Reads capped by the base: (route, the level the head is read at) -> status.
CAPPED = {("report", "none"): 404, ("diff", "none"): 404, ("qualify", "envelope"): 404, ("qualify", "none"): 404,
          ("open_thread", "none"): 422}  # the figure the thread is anchored on is withheld: no such anchor
#: Writes refused once the base is narrowed: a push that extends it again (lab reads the target, not the base,
#: at its level), and sharing the target with lab in full.
WIDENING = {"push": 422, "share": 409}
#: (lab's share of the target, lab's level on its base when narrowed below that, or None)
WORLDS = [("full", None), ("envelope", None), ("full", "envelope"), ("full", "none"), ("envelope", "none")]


def password(username: str) -> str:
    return f"{username}-password"


@pytest.fixture(params=WORLDS, ids=lambda w: f"{w[0]}-base-{w[1] or 'full'}")
def world(request, tmp_path, live_server):
    """Three organisations with a user of each role; ``mfr/target`` (extending ``mfr/base``) shared with ``lab``
    at the level under test, the base shared with lab in full and then narrowed as the test says."""
    server = live_server(f"sqlite:///{tmp_path / 'authz.db'}", demo=False)
    level, narrowed = request.param
    with transaction(server.app.state.engine, write=True) as session:
        for org in ORGS:
            services.create_organisation(session, org, org.upper())
            for role in ROLES:
                services.create_user(session, None, org, f"{org}-{role}", password(f"{org}-{role}"), role)
        actor = services.sign_in(session, "mfr-admin", password("mfr-admin"))
        tokens = {f"{org}-{role}": services.issue_token(session, services.sign_in(
            session, f"{org}-{role}", password(f"{org}-{role}"))) for org in ORGS for role in ROLES}
        services.create_programme(session, actor, "p")
        services.create_design(session, actor, "base", EXAMPLE.read_text(), "first", "p")
        services.share(session, actor, "mfr", "base", "lab", "full")
        services.create_design(session, actor, "target", CHILD.format(n=0), "first", "p")
        services.share(session, actor, "mfr", "target", "lab", level)
        if narrowed:
            services.share(session, actor, "mfr", "base", "lab", None if narrowed == "none" else narrowed)
        thread = services.open_thread(session, actor, "mfr", "target", None, "", "review here", internal=False)
    server.tokens, server.owner = tokens, actor
    return server, (level, narrowed), thread["id"]


def _restore_share(server, level: str) -> None:
    """Share the target with lab at ``level`` again, as the world started (directly: once the base is narrowed,
    the server refuses it, rightly)."""
    with transaction(server.app.state.engine, write=True) as session:
        ids = dict(session.execute(select(Organisation.slug, Organisation.id)).all())
        target = session.scalar(select(Design).where(Design.org_id == ids["mfr"], Design.slug == "target"))
        session.merge(DesignShare(design_id=target.id, org_id=ids["lab"], level=level))


def _new_token(server, user: str) -> str:
    with transaction(server.app.state.engine, write=True) as session:
        return services.issue_token(session, services.sign_in(session, user, password(user)))


def _head(server) -> dict:
    with transaction(server.app.state.engine) as session:
        return services.get_design(session, server.owner, "mfr", "target")


def api_operations(app) -> list[tuple[str, str, str]]:
    """``(method, path template, operationId)`` of every API operation the application serves."""
    return [(method.upper(), path, operation["operationId"]) for path, item in app.openapi()["paths"].items()
            if path.startswith("/api/v1") for method, operation in item.items()]


def _request(name: str, path: str, server, user: str | None, thread_id: int, counter: itertools.count):
    """URL, JSON body, query and headers of a valid request to operation ``name`` as ``user``."""
    n = next(counter)
    design = _head(server) if name in ("push", "diff", "status") else {}
    params = {"org": "mfr", "name": "target", "rev": "head", "slug": "p", "with_org": "lab", "thread_id": thread_id}
    url = path.format(**{k: v for k, v in params.items() if "{" + k + "}" in path})
    bodies = {
        "sign_in": {"username": user or "mfr-admin", "password": password(user) if user else "wrong"},
        "create_user": {"username": f"new-{n}", "password": "long-enough", "role": "viewer"},
        "create_programme": {"slug": f"prog-{n}"},
        "create_design": {"name": f"design-{n}", "content": EXAMPLE.read_text()},
        "push": {"content": CHILD.format(n=n), "message": f"edit {n}"},
        "qualify": {"filename": "results.csv", "content": RESULTS},
        "status": {"status": "in_review" if design.get("status") == "draft" else "draft"},
        "share": {"level": "full"},
        "set_confidential": {"sections": list(services.CONFIDENTIAL_SECTIONS)},  # the default: nothing changes
        "open_thread": {"path": "power.input_kw", "body": f"comment {n}", "internal": False},
        "comment": {"body": f"reply {n}"},
        "create_plan": {"name": f"plan-{n}", "content": "generations: [{id: g, design: nothing}]\n"},
        "share_plan": {"level": "read"},
    }
    query = {"before": design["head_revision"]} if name == "diff" else None
    headers = {"If-Match": design["head_revision"]} if name == "push" else {}
    return url, bodies.get(name), query, headers


def test_every_route_has_a_rule(world):
    server, _, _ = world
    names = [name for _, _, name in api_operations(server.app)]
    assert len(names) == len(set(names)), "operation ids are unique"
    assert set(names) == set(POLICY), "give every API route an access rule (and drop rules of removed routes)"


def test_authorisation_matrix(world):
    server, (level, narrowed), thread_id = world
    actors = [(f"{org}-{role}", level if relation is None else relation, role)
              for org, relation in ORGS.items() for role in ROLES] + [(None, "none", None)]
    reads = {"owner": "full", level: narrowed or level, "none": "none"}  # the level each relation reads the head at
    counter = itertools.count()
    wrong = []
    clients = {user: server.client(user) for user, _, _ in actors}
    for (method, path, name), (user, relation, role) in itertools.product(api_operations(server.app), actors):
        url, body, query, headers = _request(name, path, server, user, thread_id, counter)
        response = clients[user].request(method, url.removeprefix("/api/v1"), json=body, params=query, headers=headers)
        want = expected_status(name, relation, role, reads[relation], narrowed is not None)
        if response.status_code != want:
            wrong.append(f"{method} {url} as {user} ({relation}): {response.status_code}, expected {want}: "
                         f"{response.text[:160]}")
        if name in ("share", "unshare"):
            _restore_share(server, level)
        if name == "revoke_token" and user:  # signed out: give the user a new token for the next operations
            server.tokens[user] = _new_token(server, user)
            clients[user].headers["Authorization"] = f"Bearer {server.tokens[user]}"
    for client in clients.values():
        client.close()
    assert not wrong, "\n".join(wrong)
