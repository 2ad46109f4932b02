"""Bad input: oversized bodies, malformed YAML, unknown parts, injection strings → clear 4xx, nothing stored, no 500.

Three layers: hand-written cases with the answer each must get; hypothesis mutations of a
valid design pushed as revisions (201 or 422, never 5xx); and schemathesis cases generated
from the OpenAPI document for every operation, positive and negative (never 5xx, and the
number of stored revisions grows exactly by the writes answered 201).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from schemathesis.core import NOT_SET
from sqlalchemy import func, select
from tests.conftest import start_server

from rackwright.server.config import MAX_BODY_BYTES
from rackwright.server.db import Revision, transaction

DESIGN = "/designs/lab/ethernet-800vdc"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ethernet-800vdc.yaml"
INJECTIONS = ["../../etc/passwd", "a'; DROP TABLE designs; --", "<script>alert(1)</script>", "", " ", "A" * 65,
              "名前", "x\x00y", "a/b", "{{7*7}}", "%00", "..", "CON"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live, stop = start_server(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    yield live
    stop()


def _revisions(server) -> int:
    with transaction(server.app.state.engine) as session:
        return session.scalar(select(func.count()).select_from(Revision))


def _head(client) -> str:
    return client.get(DESIGN).json()["head_revision"]


def _push(client, content: str, **extra) -> httpx.Response:
    return client.post(f"{DESIGN}/revisions", json={"content": content, "message": "fuzz", **extra},
                       headers={"If-Match": _head(client)})


def _assert_clear_4xx(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    document = response.json()
    assert document["error"] and isinstance(document["problems"], list)
    return document


def test_oversized_bodies_are_refused_before_parsing(server):
    before = _revisions(server)
    big = "x" * (MAX_BODY_BYTES + 1)
    with server.client("lab-engineer") as client:
        _assert_clear_4xx(_push(client, big), 413)
        chunked = client.post(f"{DESIGN}/revisions", content=(big[i:i + 65536].encode() for i in range(0, len(big), 65536)),
                              headers={"If-Match": _head(client), "Content-Type": "application/json"})
        _assert_clear_4xx(chunked, 413)
    assert _revisions(server) == before


@pytest.mark.parametrize(("content", "where"), [
    ("name: [unclosed", "YAML syntax"),
    ("- a\n- list\n", "mapping"),
    ("name: x\n", "required"),
    (EXAMPLE.read_text().replace("part: ", "part: no-such-", 1), "unknown part"),
    (EXAMPLE.read_text() + "\nunknown_field: 1\n", "unknown field"),
    (EXAMPLE.read_text() + "\noverrides: {x: .nan}\n", ""),
    (EXAMPLE.read_text().replace("description:", "description: 2024-01-01\nold_description:", 1), ""),
    (EXAMPLE.read_text() + "\nextends: lab/nowhere\n", "not found"),
    (EXAMPLE.read_text() + "\nextends: mfr/hgx-h100-air\n", "not found"),  # exists, but not shared with lab
    ("x\x00y", "NUL"),
])
def test_bad_designs_get_422_with_problems_and_store_nothing(server, content, where):
    before = _revisions(server)
    with server.client("lab-engineer") as client:
        document = _assert_clear_4xx(_push(client, content), 422)
    text = json.dumps(document)
    assert where in text
    assert _revisions(server) == before


@pytest.mark.parametrize("name", INJECTIONS)
def test_injection_strings_in_names_are_refused(server, name):
    before = _revisions(server)
    with server.client("lab-engineer") as client:
        response = client.post("/designs", json={"name": name, "content": EXAMPLE.read_text()})
        _assert_clear_4xx(response, 422)
        assert name not in [d["name"] for d in client.get("/designs").json()]
    assert _revisions(server) == before


@pytest.mark.parametrize("text", INJECTIONS[:4] + ["\ud800"])
def test_text_is_stored_verbatim_or_refused(server, text):
    """Comments hold any Unicode text verbatim (returned as JSON data, never interpreted); NUL and lone
    surrogates, which no database stores, are refused."""
    with server.client("lab-engineer") as client:
        response = client.post(f"{DESIGN}/threads", content=json.dumps({"path": "", "body": text, "internal": False}),
                               headers={"Content-Type": "application/json"})
        if not text.strip() or "\x00" in text or text == "\ud800":
            _assert_clear_4xx(response, 422)
        else:
            assert response.status_code == 201 and response.json()["comments"][0]["body"] == text


def _mutations() -> st.SearchStrategy:
    """A valid design with one field replaced by an arbitrary JSON value (or one field removed)."""
    yaml = YAML(typ="safe")
    base = yaml.load(EXAMPLE.read_text())
    leaves = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                       st.text(max_size=20), st.sampled_from(["1 kW", "-5 K", "W45", "48 V", "nvidia-gb200-compute-tray"]))
    values = st.recursive(leaves, lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                           st.dictionaries(st.text(max_size=8), kids, max_size=3)),
                          max_leaves=6)

    def paths(node, prefix=()):
        out = [prefix] if prefix else []
        if isinstance(node, dict):
            for key, value in node.items():
                out += paths(value, prefix + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                out += paths(value, prefix + (i,))
        return out

    def mutate(path, value, remove):
        design = copy.deepcopy(base)
        node = design
        for key in path[:-1]:
            node = node[key]
        if remove and isinstance(node, dict):
            node.pop(path[-1])
        else:
            node[path[-1]] = value
        return json.dumps(design)  # JSON is YAML

    return st.builds(mutate, st.sampled_from(paths(base)), values, st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(content=_mutations())
def test_mutated_designs_are_stored_or_refused_never_crash(server, content):
    before = _revisions(server)
    with server.client("lab-engineer") as client:
        response = _push(client, content)
    assert response.status_code in (201, 422), response.text
    assert _revisions(server) == before + (response.status_code == 201)
    if response.status_code == 422:
        assert response.json()["problems"], "a refusal says what is wrong"


def test_generated_requests_for_every_operation_never_crash(server):
    """Schemathesis cases (positive and negative) for all operations of the OpenAPI document."""
    # every operation but signing out, which would end the token the cases are sent with
    schema = schemathesis.openapi.from_dict(server.app.openapi()).exclude(operation_id="revoke_token")
    token = server.tokens["lab-admin"]
    fixed = {"org": "lab", "name": "ethernet-800vdc", "rev": "head", "slug": "frontier", "with_org": "mfr"}
    strategy = st.one_of(*[schema.as_strategy(mode, path_parameters=fixed,
                                              headers={"Authorization": f"Bearer {token}"})
                           for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)])
    written = []
    before = _revisions(server)

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def call(case):
        headers = {k: str(v) for k, v in (case.headers or {}).items()}
        try:
            content = None
            if isinstance(case.body, bytes):
                content = case.body
            elif case.body is not NOT_SET and case.body is not None:
                content, headers["Content-Type"] = json.dumps(case.body), "application/json"
            response = httpx.request(case.method, server.url + case.formatted_path, params=case.query,
                                     headers=headers, content=content, timeout=30)
        except (httpx.InvalidURL, UnicodeEncodeError, TypeError, ValueError):
            return  # not sendable as HTTP (the client refuses it): nothing reached the server
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
        if response.status_code == 201 and case.operation.label.endswith(("/revisions", "/api/v1/designs")):
            written.append(case.formatted_path)

    call()
    assert _revisions(server) == before + len(written)
