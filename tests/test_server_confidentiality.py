"""Property: for random sequences of create / extends / share / unshare / push by random users of three
organisations, nobody reads any byte of a design beyond what its owner granted them, through any route.

Every design's YAML carries a secret of its own, twice: in a comment (which only its file shows) and in its
``description`` (which its children inherit when they set none, so that their merged content, elevation and
fields would show it). The oracle is the owners' grants alone, as the test tracks them: an organisation may
read design X's secret only if it owns X or X is shared with it in full *now*. The server's own rules (extends
refused, reads capped) are not modelled: whatever they let through must keep within the grants.

Each sequence starts from one design per organisation, each shared in full with the next organisation (lab ->
mfr -> ext -> lab), so that a few random steps reach the states that matter: a child of a design read in full,
then that design narrowed, or the child shared on. After every step each organisation reads every design and
its merged file; after the sequence, every route of the API and the pages (and diffs between all designs).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rackwright.server import services
from rackwright.server.app import create_app
from rackwright.server.db import transaction

ORGS = ("lab", "mfr", "ext")
BASE = (Path(__file__).resolve().parents[1] / "examples" / "hgx-h100-air.yaml").read_text()
SECRET = re.compile(r"secret-[a-z]+-\d+")
ROUTES = ("", "/revisions", "/revisions/head", "/revisions/head/content", "/revisions/head/content?resolved=true",
          "/revisions/head/report", "/revisions/head/elevation.svg", "/threads", "/revisions/head/approvals",
          "/revisions/head/qualifications")
PAGES = ("", "/elevation.svg", "/edit")
QUICK_ROUTES = ("", "/revisions/head/content?resolved=true")

index = st.integers(0, 30)  # of a design, modulo how many there are
parent = st.none() | index
CREATE = st.tuples(st.just("create"), st.sampled_from(ORGS), parent, st.booleans())
PUSH = st.tuples(st.just("push"), st.sampled_from(ORGS), index, parent, st.booleans())
SHARE = st.tuples(st.just("share"), index, st.sampled_from(ORGS), st.sampled_from(["full", "envelope", None]))
ACTIONS = st.lists(st.one_of(CREATE, PUSH, SHARE), min_size=1, max_size=8)


def content(secret: str, parent: str | None, describe: bool) -> str:
    """A design's YAML: the example rack, or a child of ``parent``; its secret in a comment and, with
    ``describe`` (always for a root), in its description."""
    body = BASE.replace("description: ", f"description: {secret} ", 1) if parent is None else \
        f"extends: {parent}\nname: Child {secret[-3:]}\ngeneration: fork\n" + \
        (f"description: {secret}\n" if describe else "")
    return f"# {secret}\n{body}"


class Collaboration:
    """A fresh server with three organisations (an engineer and an admin each), their starting designs, and the
    grants as the owners made them."""

    def __init__(self):
        self.folder = tempfile.TemporaryDirectory(prefix="rackwright-confidentiality-")
        app = create_app(f"sqlite:///{self.folder.name}/server.db")
        self.client = TestClient(app, base_url="http://localhost")
        self.tokens: dict[str, str] = {}
        with transaction(app.state.engine, write=True) as session:
            for org in ORGS:
                services.create_organisation(session, org, org.upper())
                for role in ("engineer", "admin"):
                    username = f"{org}-{role}"
                    services.create_user(session, None, org, username, f"{username}-password", role)
                    self.tokens[username] = services.operator_token(session, username)
        self.browsers = {org: self.signed_in(app, f"{org}-engineer") for org in ORGS}
        self.designs: dict[str, str] = {}  # "org/name" -> its secret
        self.shares: dict[tuple[str, str], str] = {}  # (design, org) -> level, as the owners granted
        for org, partner in zip(ORGS, ORGS[1:] + ORGS[:1]):
            self.create(org, None, True)
            self.share(f"{org}/d{len(self.designs)}", partner, "full")

    @staticmethod
    def signed_in(app, username: str) -> TestClient:
        """A browser signed in through the sign-in form."""
        browser = TestClient(app, base_url="http://localhost", follow_redirects=False)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/sign-in").text).group(1)
        answer = browser.post("/sign-in", data={"csrf_token": csrf, "username": username,
                                                "password": f"{username}-password", "next": "/programmes"})
        assert answer.status_code == 303, answer.text
        return browser

    def close(self):
        for client in (self.client, *self.browsers.values()):
            client.close()
        self.folder.cleanup()

    def call(self, user: str, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.tokens[user]}", **kwargs.pop("headers", {})}
        return self.client.request(method, "/api/v1" + path, headers=headers, **kwargs)

    def design(self, i: int | None) -> str | None:
        return None if i is None else sorted(self.designs)[i % len(self.designs)]

    def create(self, org: str, parent: str | None, describe: bool) -> None:
        name = f"d{len(self.designs) + 1}"
        secret = f"secret-{org}-{len(self.designs) + 1}"
        answer = self.call(f"{org}-engineer", "POST", "/designs", json={
            "name": name, "content": content(secret, parent, describe)})
        assert answer.status_code in (201, 422), answer.text
        event(f"create {'with' if parent else 'without'} extends: {answer.status_code}")
        if answer.status_code == 201:
            self.designs[f"{org}/{name}"] = secret

    def push(self, org: str, design: str, parent: str | None, describe: bool) -> None:
        head = self.call(f"{org}-engineer", "GET", f"/designs/{design}")
        if head.status_code != 200:
            return
        answer = self.call(f"{org}-engineer", "POST", f"/designs/{design}/revisions",
                           json={"content": content(self.designs[design], parent, describe)},
                           headers={"If-Match": head.json()["head_revision"]})
        assert answer.status_code in (201, 403, 422), answer.text
        event(f"push {'with' if parent else 'without'} extends: {answer.status_code}")

    def share(self, design: str, org: str, level: str | None) -> None:
        owner = design.split("/")[0]
        if org == owner:
            return
        path = f"/designs/{design}/shares/{org}"
        answer = self.call(f"{owner}-admin", "DELETE", path) if level is None else \
            self.call(f"{owner}-admin", "PUT", path, json={"level": level})
        assert answer.status_code in (200, 409), answer.text
        event(f"share {level}: {answer.status_code}")
        if answer.status_code == 200 and level is None:
            self.shares.pop((design, org), None)
        elif answer.status_code == 200:
            self.shares[(design, org)] = level

    def act(self, action: tuple) -> None:
        kind, *args = action
        if kind == "create":
            org, parent, describe = args
            self.create(org, self.design(parent), describe)
        elif kind == "push":
            org, design, parent, describe = args
            self.push(org, self.design(design), self.design(parent), describe)
        else:
            design, org, level = args
            self.share(self.design(design), org, level)

    def granted(self, org: str) -> set[str]:
        """The secrets ``org`` may read: those of the designs it owns or is granted in full."""
        return {secret for design, secret in self.designs.items()
                if design.split("/")[0] == org or self.shares.get((design, org)) == "full"}

    def check_reads(self, routes: tuple[str, ...], pages: tuple[str, ...] = (), diffs: bool = False) -> None:
        for org in ORGS:
            allowed = self.granted(org)
            answers = [self.call(f"{org}-engineer", "GET", "/designs"), self.call(f"{org}-engineer", "GET",
                                                                                  "/programmes")]
            for design in self.designs:
                answers += [self.call(f"{org}-engineer", "GET", f"/designs/{design}{route}") for route in routes]
                answers += [self.browsers[org].get(f"/designs/{design}{page}") for page in pages]
                answers += [self.call(f"{org}-engineer", "GET", f"/designs/{design}/diff", params={"before": other})
                            for other in self.designs if diffs]
            for answer in answers:
                assert answer.status_code < 500, answer.text
                leaked = set(SECRET.findall(answer.text)) - allowed
                assert not leaked, f"{org} read {leaked} at {answer.request.url}"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_nobody_reads_a_design_beyond_its_grants(actions):
    world = Collaboration()
    try:
        for action in actions:
            world.act(action)
            world.check_reads(QUICK_ROUTES)
        world.check_reads(ROUTES, PAGES, diffs=True)
    finally:
        world.close()
