"""The server's revision checker: the same answers on a thread and in its worker process, and a pool
whose worker dies is replaced."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rackwright.rack.evaluation import evaluate
from rackwright.server import checker

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _gb200() -> str:
    return (EXAMPLES / "gb200-nvl72.yaml").read_text()


def test_checked_revision_carries_the_evaluation_of_the_file():
    result = checker.check(_gb200(), "mfr/gb200-nvl72")
    assert isinstance(result, checker.Checked)
    report = evaluate(EXAMPLES / "gb200-nvl72.yaml")
    assert result.name == report.name and result.lineage == ["mfr/gb200-nvl72"]
    assert result.figures["power.input"] == pytest.approx(report.figures["power.input"], rel=1e-12)
    assert [v["code"] for v in result.violations] == [v.code for v in report.violations]


def test_extends_asks_for_its_base_then_merges_onto_it():
    child = "extends: gb200-nvl72\nname: GB200 variant\n"
    assert checker.check(child, "mfr/variant") == checker.NeedsBase("gb200-nvl72")
    base = checker.check(_gb200(), "mfr/gb200-nvl72")
    result = checker.check(child, "mfr/variant", (base.resolved, ["mfr/gb200-nvl72@0123"]))
    assert isinstance(result, checker.Checked)
    assert result.name == "GB200 variant" and result.lineage == ["mfr/gb200-nvl72@0123", "mfr/variant"]
    assert result.figures["power.input"] == pytest.approx(base.figures["power.input"], rel=1e-12)


@pytest.mark.parametrize("content, where", [("name: [unclosed\n", 2), ("name: x\nslots: 3\n", 2)])
def test_rejected_content_says_where(content, where):
    result = checker.check(content, "lab/bad")
    assert isinstance(result, checker.Rejected) and result.problems
    assert any(p.line == where for p in result.problems), result.problems


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_the_fast_parse_answers_every_example_as_the_round_trip_does(example):
    content = (EXAMPLES / example).read_text()
    slow, fast = checker._check(content, example, None, fast=False), _fast_outcome(content, example)
    assert checker.check(content, example) == slow
    assert fast == slow if isinstance(slow, (checker.Checked, checker.NeedsBase)) else fast is None


#: Where a scalar goes in examples/gb200-nvl72.yaml: (the text there, the same with %s for the scalar).
PLACES = {"name": ("name: GB200 NVL72", "name: %s"), "generation": ("generation: gb200", "generation: %s"),
          "count": ("count: 4,", "count: %s,"), "position": ("position: 12}", "position: %s}"),
          "part": ("part: nvidia-mgx-33kw-power-shelf,", "part: %s,")}


#: YAML scalars that YAML 1.1 (PyYAML, libyaml's default) and 1.2 (ruamel) read differently, and other oddities
SCALARS = ["yes", "No", "on", "off", "1e3", "1.5e-3", "0x1F", "0o17", "010", "1_000", "1:20", ".inf", "-.nan",
           "2026-01-01", "~", "null", "'8'", '"8"', "8", "8.0", "+8", "[8]", "{a: 8}", "!!str 8", "!!float 8",
           "!custom 8", "&a 8", "*a", "|\n  8"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(PLACES)),
       scalar=st.sampled_from(SCALARS))
def test_whenever_the_fast_parse_accepts_it_agrees_with_the_round_trip(field, scalar):
    """The fast path may give up (then the round trip answers), but never answer differently."""
    content = _with_scalar(_gb200(), field, scalar)
    fast = _fast_outcome(content)
    slow = checker._check(content, "x", None, fast=False)
    assert checker.check(content, "x") == (fast if fast is not None else slow)
    assert fast is None or fast == slow


def test_what_the_fast_parse_refuses_is_reported_with_its_line():
    duplicate = _gb200() + "\nname: again\n"
    result = checker.check(duplicate, "x")
    assert isinstance(result, checker.Rejected) and "duplicate" in result.error.lower() + str(result.problems).lower()
    broken = _gb200().replace("slots:", "slots: [", 1)
    result = checker.check(broken, "x")
    assert isinstance(result, checker.Rejected) and result.problems[0].line is not None
    wrong = _gb200().replace("slots:", "slotz:", 1)
    result = checker.check(wrong, "x")
    line = next(i for i, text in enumerate(wrong.splitlines(), 1) if text.startswith("slotz:"))
    assert isinstance(result, checker.Rejected) and line in [p.line for p in result.problems]


def _fast_outcome(content: str, label: str = "x"):
    """What the fast path answers, None where ``checker.check`` would ask the round trip."""
    try:
        outcome = checker._check(content, label, None, fast=True)
    except Exception:  # noqa: BLE001 - as checker.check treats it
        return None
    return outcome if isinstance(outcome, (checker.Checked, checker.NeedsBase)) else None


def _with_scalar(content: str, field: str, scalar: str) -> str:
    """``content`` with the YAML text ``scalar`` at the first place of ``field`` (:data:`PLACES`)."""
    text, template = PLACES[field]
    assert text in content
    return content.replace(text, template % scalar, 1)


def test_worker_process_answers_as_the_thread_and_survives_a_killed_worker():
    checker.start().result(timeout=120)
    in_worker = checker.run(_gb200(), "mfr/gb200-nvl72")
    assert in_worker == checker.check(_gb200(), "mfr/gb200-nvl72")
    pool = checker._pool
    for pid in list(pool._processes):  # what the kernel's out-of-memory killer would do
        os.kill(pid, signal.SIGKILL)
    assert checker.run(_gb200(), "mfr/gb200-nvl72") == in_worker
    assert checker._pool is not pool  # replaced


def test_worker_exits_with_its_server_process():
    """A server killed outright (kill -9, or a crash) leaves no orphaned worker behind."""
    script = ("import os; from rackwright.server import checker; checker.start().result(timeout=120); "
              "print(*checker._pool._processes, flush=True); os._exit(0)")
    server = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=True)
    workers = [int(pid) for pid in server.stdout.split()]
    assert workers
    deadline = time.monotonic() + 60  # a liveness limit, not a speed check: the worker looks once a second
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, f"orphaned workers {workers}"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_prepared_revision_goes_stale_like_any_other(tmp_path):
    """Checked ahead of its write transaction, a revision whose base head moved meanwhile is refused (409)
    and nothing is stored; a fresh one stores what was prepared."""
    from rackwright.server import services
    from rackwright.server.app import create_app
    from rackwright.server.db import transaction

    app = create_app(f"sqlite:///{tmp_path / 'rackwright.db'}", demo=True)
    token = app.state.demo_tokens["lab-engineer"]

    def as_engineer(function, *args, write=False):
        with transaction(app.state.engine, write) as session:
            return function(session, services.authenticate(session, token), *args)

    design = as_engineer(services.get_design, "lab", "ethernet-800vdc")
    head, content = design["head_revision"], design["head"]["content"] + "\n# edit\n"
    prepared = as_engineer(services.prepare_revision, "lab", "ethernet-800vdc", content, head)
    other = as_engineer(services.push_revision, "lab", "ethernet-800vdc", content + "# other\n", "other", head,
                        write=True)
    with pytest.raises(services.Conflict):
        as_engineer(services.push_revision, "lab", "ethernet-800vdc", content, "mine", head, prepared, write=True)
    assert [r["id"] for r in as_engineer(services.list_revisions, "lab", "ethernet-800vdc")][0] == other["id"]
    fresh = as_engineer(services.prepare_revision, "lab", "ethernet-800vdc", content, other["id"])
    stored = as_engineer(services.push_revision, "lab", "ethernet-800vdc", content, "mine", other["id"], fresh,
                         write=True)
    assert stored["name"] == fresh.checked.name
    assert stored["errors"] == sum(v["severity"] == "error" for v in fresh.checked.violations)
    assert stored["parent"] == other["id"] and stored["content"] == content
    app.state.engine.dispose()
