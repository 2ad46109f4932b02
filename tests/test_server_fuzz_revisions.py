"""Issue 17 at the server: mutated designs pushed as revisions through the revision check.

The mutations are those of tests/test_validity.py (a number negated, NaN, infinite, huge, zero or tiny; a wrong
type; a deleted key; a duplicated slot or link) on the lab's standalone designs. Each push is answered 201 or
422, never 5xx; a value outside its domain is a 422 whose problems name the field; a stored revision reports the
rule errors that ``rackwright check`` finds in the same file, so that a physically impossible design is never
stored with "0 errors".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rackwright
from test_fuzz_commands import HEADER, QUALIFY_FOUND
from test_server_fuzz import _revisions, server  # noqa: F401 - the module's server fixture
from test_validity import BASES, mutated

#: Pushes per run (each is a check on the server and one on this side: about 0.1 s).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 40))  # FUZZ_EXAMPLES=200: a deeper search
STANDALONE = ("ethernet-800vdc.yaml", "hgx-h100-air.yaml", "meta-catalina.yaml", "gb200-nvl72.yaml")
DESIGN = "/designs/lab/fuzz-revisions"
BASES_DIR = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def design(server):  # noqa: F811
    with server.client("lab-engineer") as client:
        content = (BASES_DIR / "ethernet-800vdc.yaml").read_text()
        response = client.post("/designs", json={"name": "fuzz-revisions", "content": content, "programme": "frontier"})
        assert response.status_code == 201, response.text
    return DESIGN


def _local_errors(content: str, tmp_path) -> int | None:
    """Rule errors ``rackwright check`` finds in ``content``; None when it is bad input (exit 2)."""
    path = tmp_path / "local.yaml"
    path.write_text(content)
    try:
        return len(rackwright.evaluate(path).errors)
    except rackwright.InputError:
        return None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_revisions_are_refused_with_the_field_or_stored_with_their_errors(
        server, design, tmp_path, data):  # noqa: F811
    name = data.draw(st.sampled_from(STANDALONE), label="design")
    doc, outside = mutated(BASES[name], data)
    content = json.dumps(doc, allow_nan=True).replace("NaN", ".nan").replace("-Infinity", "-.inf").replace(
        "Infinity", ".inf")  # JSON is YAML, but for its NaN and infinities
    before = _revisions(server)
    with server.client("lab-engineer") as client:
        response = client.post(f"{design}/revisions", json={"content": content, "message": "fuzz"},
                               headers={"If-Match": client.get(design).json()["head_revision"]})
    assert response.status_code in (201, 422), response.text
    assert _revisions(server) == before + (response.status_code == 201)
    local = _local_errors(content, tmp_path)
    if response.status_code == 422:
        problems = response.json()["problems"]
        assert problems and all(p["message"] for p in problems)
        if outside:
            assert any(p["path"] for p in problems), f"refused without its field: {problems}"
        return
    assert not outside, f"stored a design with a value outside its domain: {response.json()}"
    stored = response.json()
    assert local is not None, "the server stored what `rackwright check` refuses"
    assert stored["errors"] == local, (stored["errors"], local)


def test_a_duplicate_id_is_refused_with_its_field(server, design):  # noqa: F811
    doc = BASES["hgx-h100-air.yaml"]
    doc = {**doc, "network": {**doc["network"], "links": doc["network"]["links"] + doc["network"]["links"][:1]}}
    with server.client("lab-engineer") as client:
        response = client.post(f"{design}/revisions", json={"content": json.dumps(doc), "message": "duplicate"},
                               headers={"If-Match": client.get(design).json()["head_revision"]})
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["problems"]] == ["network.links[1].id"]


@pytest.mark.parametrize("case", QUALIFY_FOUND)
def test_qualification_results_outside_their_domain_are_422_naming_the_value(server, case):  # noqa: F811
    """The server's qualification route reads results as `rackwright qualify` does: what the command refuses
    (exit 2) is a 422 naming the value; what it judges (exit 1, a failing rack) is stored."""
    row, code, fragment = QUALIFY_FOUND[case]
    with server.client("mfr-engineer") as client:
        response = client.post("/designs/mfr/gb200-nvl72/revisions/head/qualifications",
                               json={"filename": "results.csv", "content": HEADER + row + "\n"})
    assert response.status_code == (422 if code == 2 else 201), response.text
    if code == 2:
        problem = response.json()["problems"][0]
        assert problem["path"] == "value" and fragment in problem["message"]
    else:
        assert response.json()["summary"]["fail"] == 1
