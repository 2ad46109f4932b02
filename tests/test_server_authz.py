"""Authorisation matrix: every API route × every organisation relation × every role, generated.

The routes are enumerated from the application's OpenAPI document (operationId = route name); each must have a rule in
:data:`POLICY` (the access rules of docs/server.md, written out independently of the
services' code), so a new route without a rule fails here. The organisations: ``mfr``
owns the target design, ``lab`` has it shared (at ``full`` in one run, ``envelope`` in the
other), ``ext`` has nothing shared; each has a user of every role; plus anonymous.
Expected: 2xx when allowed, 404 for what the organisation may not see, 403 for what it
sees but may not do, 401 without a token.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from rackwright.server import services
from rackwright.server.db import ROLES, transaction

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hgx-h100-air.yaml"
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
}


def expected_status(route: str, relation: str, role: str | None) -> int:
    needs, least, allowed = POLICY[route]
    if needs == "public" or needs == "credentials" and role is not None:
        return allowed
    if role is None:
        return 401
    if relation == "none" and needs != "any" or relation == "envelope" and needs == "content":
        return 404
    if relation == "envelope" and needs == "editor" or relation != "owner" and needs == "owner":
        return 403
    return allowed if ROLES.index(role) >= ROLES.index(least) else 403


def password(username: str) -> str:
    return f"{username}-password"


@pytest.fixture(params=["full", "envelope"])
def world(request, tmp_path, live_server):
    """Three organisations with a user of each role; ``mfr/target`` shared with ``lab`` at the level under test."""
    server = live_server(f"sqlite:///{tmp_path / 'authz.db'}", demo=False)
    level = request.param
    with transaction(server.app.state.engine, write=True) as session:
        for org in ORGS:
            services.create_organisation(session, org, org.upper())
            for role in ROLES:
                services.create_user(session, None, org, f"{org}-{role}", password(f"{org}-{role}"), role)
        actor = services.sign_in(session, "mfr-admin", password("mfr-admin"))
        tokens = {f"{org}-{role}": services.issue_token(session, services.sign_in(
            session, f"{org}-{role}", password(f"{org}-{role}"))) for org in ORGS for role in ROLES}
        services.create_programme(session, actor, "p")
        services.create_design(session, actor, "target", EXAMPLE.read_text(), "first", "p")
        services.share(session, actor, "mfr", "target", "lab", level)
        thread = services.open_thread(session, actor, "mfr", "target", None, "", "review here")
    server.tokens, server.owner = tokens, actor
    return server, level, thread["id"]


def _restore_share(server, level: str) -> None:
    with transaction(server.app.state.engine, write=True) as session:
        services.share(session, server.owner, "mfr", "target", "lab", level)


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
        "push": {"content": EXAMPLE.read_text().replace("name: ", f"name: v{n} ", 1), "message": f"edit {n}"},
        "qualify": {"filename": "results.csv", "content": RESULTS},
        "status": {"status": "in_review" if design.get("status") == "draft" else "draft"},
        "share": {"level": "full"},
        "set_confidential": {"sections": list(services.CONFIDENTIAL_SECTIONS)},  # the default: nothing changes
        "open_thread": {"path": "power.input_kw", "body": f"comment {n}"},
        "comment": {"body": f"reply {n}"},
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
    server, level, thread_id = world
    actors = [(f"{org}-{role}", level if relation is None else relation, role)
              for org, relation in ORGS.items() for role in ROLES] + [(None, "none", None)]
    counter = itertools.count()
    wrong = []
    clients = {user: server.client(user) for user, _, _ in actors}
    for (method, path, name), (user, relation, role) in itertools.product(api_operations(server.app), actors):
        url, body, query, headers = _request(name, path, server, user, thread_id, counter)
        response = clients[user].request(method, url.removeprefix("/api/v1"), json=body, params=query, headers=headers)
        want = expected_status(name, relation, role)
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
