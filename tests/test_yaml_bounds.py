"""YAML is measured before it is loaded (issue 16 defect 2, issue 17): alias bombs and deep nesting are refused
with a message that names the limit, by every reader (round trip, plain, the CLI, the server), and one document
that takes too long or kills the server's worker is rejected without holding up or failing the others.

Every test here runs under an alarm (:func:`no_hang`): before the limits, these inputs took from 11 s to
minutes, or crashed the worker; a hang fails the test rather than the suite.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from typer.testing import CliRunner

from rackwright import yamlio
from rackwright.cli.app import app as cli
from rackwright.errors import InputError
from rackwright.server import checker
from rackwright.yamlio import parse_yaml_plain, parse_yaml_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
#: Every YAML (and JSON, which is YAML) file shipped: examples, package data (the parts catalog), test data.
SHIPPED = sorted(p for folder in ("examples", "src/rackwright", "tests/data", "validation")
                 for pattern in ("*.yaml", "*.json") for p in (ROOT / folder).rglob(pattern))

#: 7 levels of 9: ``a`` is 9 scalars, ``b`` 9 aliases of ``a`` ... ``g`` expands to 9**7 = 4,782,969 scalars.
BOMB = """\
a: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
"""
DEEP = {levels: "x: " + "[" * levels + "]" * levels + "\n" for levels in (2_000, 50_000)}
READERS = [parse_yaml_text, parse_yaml_plain]


@pytest.fixture(autouse=True)
def no_hang():
    """Fail a test that has not finished in 120 s (a generous liveness limit, not a speed check)."""
    def hung(signum, frame):
        raise TimeoutError("the test hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def refusal(reader, text: str):
    """The single problem of the InputError that ``reader`` raises on ``text``."""
    with pytest.raises(InputError) as caught:
        reader(text)
    [problem] = caught.value.problems
    return problem


@pytest.mark.parametrize("reader", READERS)
def test_an_alias_bomb_is_refused_where_its_expansion_crosses_the_limit(reader):
    # Nodes so far, an alias counting its anchor's nodes: the root mapping 1; line a: key + list + 9 = 11 (a
    # stands for 10); b: 1 + 1 + 9 * 10 (b = 91); c: 1 + 820; d: 1 + 7,381; e: 1 + 66,430; total 74,738.
    # Line f: key, list (74,740), then its first *e adds 66,430: 141,170 > 100,000, at line 6 column 8.
    problem = refusal(reader, BOMB)
    assert "more than 100,000 nodes" in problem.message and "alias bomb" in problem.message
    assert (problem.line, problem.column) == (6, 8)
    assert problem.hint


@pytest.mark.parametrize("levels", sorted(DEEP))
@pytest.mark.parametrize("reader", READERS)
def test_deep_nesting_is_refused_at_the_65th_level(reader, levels):
    problem = refusal(reader, DEEP[levels])
    assert problem.message == "YAML nests deeper than 64 levels" and problem.hint
    assert (problem.line, problem.column) == (1, 3 + 64)  # the root mapping is level 1: the 64th "[" is level 65


@pytest.mark.parametrize("reader", READERS)
def test_more_than_a_thousand_aliases_are_refused_at_the_1001st(reader):
    text = "a: &a x\nb: [" + "*a, " * 1_001 + "]\n"
    problem = refusal(reader, text)
    assert problem.message == "YAML has more than 1,000 aliases (*name)"
    assert (problem.line, problem.column) == (2, 5 + 4 * 1_000)  # "b: [" then 4 characters an alias
    assert parse_yaml_plain("a: &a x\nb: [" + "*a, " * 1_000 + "]\n")["b"] == ["x"] * 1_000


@pytest.mark.parametrize("reader", READERS)
def test_text_longer_than_a_million_characters_is_refused_where_it_crosses(reader):
    problem = refusal(reader, "a: b\n" * 200_001)  # 1,000,005 characters, 5 a line
    assert problem.message == "YAML is longer than 1,000,000 characters"
    assert (problem.line, problem.column) == (200_001, 1)  # character 1,000,001 starts line 200,001


@pytest.mark.parametrize("reader", READERS)
def test_an_alias_inside_its_own_anchor_is_refused(reader):
    problem = refusal(reader, "a: &a [1, *a]\n")
    assert problem.message == "alias *a inside its own anchor &a repeats it without end"
    assert (problem.line, problem.column) == (1, 11)


def test_what_libyaml_refuses_early_is_measured_to_the_end_on_ruamels_parser():
    flow = "k: {a:1}\n"  # ruamel reads a key "a:1"; libyaml stops at the colon
    with pytest.raises(MarkedYAMLError):
        YAML(typ="safe").load(flow)
    assert parse_yaml_text(flow) == {"k": {"a:1": None}}
    for reader in READERS:
        problem = refusal(reader, flow + BOMB)
        assert "alias bomb" in problem.message and (problem.line, problem.column) == (7, 8)  # one line down


def test_syntax_errors_are_still_reported_by_the_loader():
    problem = refusal(parse_yaml_text, "name: [unclosed\n")
    assert problem.message.startswith("YAML syntax error") and problem.line == 2


@settings(max_examples=30, deadline=None)
@given(levels=st.integers(1, 100), flow=st.booleans())
def test_nesting_is_refused_exactly_past_64_levels(levels, flow):
    text = "[" * levels + "]" * levels if flow else "".join("  " * i + "k:\n" for i in range(levels - 1)) + \
        "  " * (levels - 1) + "k: v\n"
    if levels <= 64:
        assert parse_yaml_plain(text) is not None
    else:
        assert refusal(parse_yaml_plain, text).message == "YAML nests deeper than 64 levels"


@settings(max_examples=30, deadline=None)
@given(width=st.integers(1, 9), depth=st.integers(1, 8))
def test_alias_chains_are_refused_exactly_when_they_expand_past_the_limit(width, depth):
    """Level 0 is ``width`` scalars, each next level ``width`` aliases of the one before."""
    names = [f"l{i}" for i in range(depth)]
    text = "".join(f"{name}: &{name} [{', '.join([f'*{names[i - 1]}' if i else 'x'] * width)}]\n"
                   for i, name in enumerate(names))
    size, total = 1 + width, 1 + 1 + 1 + width  # root mapping, key, list of scalars
    for _ in range(depth - 1):
        size = 1 + width * size
        total += 1 + size
    if total <= 100_000:
        assert len(parse_yaml_text(text)) == depth
    else:
        assert "more than 100,000 nodes" in refusal(parse_yaml_text, text).message


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_file_passes_a_quarter_of_each_limit(path, monkeypatch):
    text = path.read_text(encoding="utf-8-sig")
    for limit in ("MAX_CHARS", "MAX_DEPTH", "MAX_NODES", "MAX_ALIASES"):
        monkeypatch.setattr(yamlio, limit, getattr(yamlio, limit) // 4)
    yamlio.check_yaml_bounds(text, str(path))


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_still_parses(example):
    text = (EXAMPLES / example).read_text()
    assert yamlio.to_plain(parse_yaml_text(text, example)) == parse_yaml_plain(text)


# --- the command line --------------------------------------------------------------------------------------

@pytest.mark.parametrize("content, limit", [(BOMB, "more than 100,000 nodes"),
                                            (DEEP[2_000], "nests deeper than 64 levels"),
                                            (DEEP[50_000], "nests deeper than 64 levels")],
                         ids=["bomb", "deep-2000", "deep-50000"])
def test_check_refuses_with_exit_2_and_the_limit(content, limit, tmp_path):
    design = tmp_path / "bad.yaml"
    design.write_text(content)
    result = CliRunner().invoke(cli, ["check", str(design)])
    assert result.exit_code == 2, result.output
    assert limit in result.output and f"{design}:" in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (RecursionError, TimeoutError))


# --- the server --------------------------------------------------------------------------------------------

def test_server_refuses_bombs_while_an_ordinary_push_goes_through(live_server, tmp_path):
    server = live_server(f"sqlite:///{tmp_path / 'rackwright.db'}")
    design = "/designs/lab/ethernet-800vdc"
    answers: dict[str, object] = {}

    def create(name: str, content: str) -> None:
        with server.client("lab-engineer") as lab:
            answers[name] = lab.post("/designs", json={"name": name, "content": content})

    def push() -> None:
        with server.client("lab-engineer") as lab:
            head = lab.get(design).json()
            edited = head["head"]["content"].replace("name: ", "name: Revised ", 1)
            answers["push"] = lab.post(f"{design}/revisions", json={"content": edited, "message": "rename"},
                                       headers={"If-Match": f'"{head["head_revision"]}"'})

    threads = [threading.Thread(target=create, args=("bomb", BOMB)),
               threading.Thread(target=create, args=("deep", DEEP[50_000])),
               threading.Thread(target=push)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(100)
    assert answers["push"].status_code == 201, answers["push"].text
    for name, limit in (("bomb", "more than 100,000 nodes"), ("deep", "nests deeper than 64 levels")):
        assert answers[name].status_code == 422, answers[name].text
        assert any(limit in p["message"] for p in answers[name].json()["problems"]), answers[name].text
    with server.client("lab-engineer") as lab:
        names = {d["name"] for d in lab.get("/designs").json()}
        assert lab.get(design).json()["head"]["name"].startswith("Revised ")
    assert not {"bomb", "deep"} & names


# --- the worker pool ---------------------------------------------------------------------------------------

class Unpickled:
    """An argument that runs ``function(*args)`` in the worker as the worker unpickles it."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def test_a_check_past_the_time_limit_is_rejected_and_the_pool_replaced(monkeypatch):
    checker.start().result(timeout=100)
    gb200 = (EXAMPLES / "gb200-nvl72.yaml").read_text()
    expected = checker.check(gb200, "mfr/gb200-nvl72")
    pool, workers = checker._pool, [p.pid for p in checker._pool._processes.values()]
    monkeypatch.setattr(checker, "CHECK_TIMEOUT_S", 2.0)  # 100x the check of gb200 in a warm worker
    slow = checker.run(gb200, "mfr/gb200-nvl72", Unpickled(time.sleep, 90))  # the worker sleeps 90 s, then checks
    assert slow == checker.Rejected("the design took longer than 2 s to check", slow.problems)
    assert slow.problems[0].path == "content" and slow.problems[0].hint
    assert checker._pool is not pool
    _wait_until_ended(workers)
    assert checker.run(gb200, "mfr/gb200-nvl72") == expected  # the fresh worker's start is not counted


def test_a_document_that_kills_the_worker_twice_is_rejected_and_the_pool_still_works():
    checker.start().result(timeout=100)
    gb200 = (EXAMPLES / "gb200-nvl72.yaml").read_text()
    pool = checker._pool
    fatal = checker.run(gb200, "mfr/gb200-nvl72", Unpickled(os._exit, 1))
    assert isinstance(fatal, checker.Rejected) and "stopped the checker's worker process" in fatal.error
    assert checker._pool is not pool
    assert checker.run(gb200, "mfr/gb200-nvl72") == checker.check(gb200, "mfr/gb200-nvl72")


def _wait_until_ended(pids: list[int]) -> None:
    """Return once none of ``pids`` runs (a zombie, ended but not yet reaped, does not); 60 s at most."""
    deadline = time.monotonic() + 60  # a liveness limit, not a speed check
    while any(_running(pid) for pid in pids):
        assert time.monotonic() < deadline, f"workers {pids} still run"
        time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False
