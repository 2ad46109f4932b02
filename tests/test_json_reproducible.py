"""The same input gives the same JSON bytes across processes (issue 22: "bit-for-bit reproducible numbers for the
same input").

tests/test_json_shapes.py runs each command twice in one process, where ``set`` and ``dict`` iteration orders of
strings repeat; here each command runs in two fresh interpreters with different ``PYTHONHASHSEED`` values (1 and 2),
so an order that follows string hashes (a set of ids iterated, then a float sum over it) or a sum whose order
depends on the parallel workers' completion would print different bytes. The commands are those whose output
sums over sets, mappings or parallel results: ``evaluate`` (two designs), ``site plan`` (its cable lengths and
power sums; ``-o`` into the run's own folder, relative so the printed paths agree), ``roadmap plan`` (a MILP over
site, factory and supply mappings) and ``explore`` (a parallel evaluation of a small design space); the ``-o``
folders' JSON files are compared too. The two seeds run side by side: 72 s for the four on two cores shared with
other work (22:00 UTC 2026-12-07), 5-10 s a command alone; all four printed the same bytes at once, and so did
compare, bom, site cables, roadmap risk, perf search, reliability spares, catalog list and sourcing whatif
(checked by hand, not here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # eight interpreters, about 70 s

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"

#: name → the command's arguments (paths under ``out/`` are relative to the run's own folder).
COMMANDS = {
    "evaluate": ["evaluate", EX / "gb200-nvl72.yaml", EX / "gb300-nvl72.yaml", "--json"],
    "site plan": ["site", "plan", EX / "site-100mw.yaml", "-o", "out/site", "--json", "--no-report"],
    "roadmap plan": ["roadmap", "plan", EX / "roadmap-10gw.yaml", "--json"],
    "explore": ["explore", EX / "space-gb300-small.yaml", "-o", "out/explore", "--json", "--no-sensitivity"],
}
SEEDS = ("1", "2")


def _start(args: list, folder: Path, seed: str) -> subprocess.Popen:
    folder.mkdir(parents=True)
    env = {**os.environ, "PYTHONHASHSEED": seed, "COLUMNS": "80"}
    return subprocess.Popen(
        [sys.executable, "-m", "rackwright", *map(str, args)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("name", list(COMMANDS))
def test_two_processes_with_other_hash_seeds_print_the_same_bytes(name, tmp_path):
    runs = [_start(COMMANDS[name], tmp_path / f"seed-{seed}", seed) for seed in SEEDS]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr.decode()
        assert stdout.startswith(b"{")  # a JSON document, not an error
    first, second = (stdout for stdout, _ in outputs)
    assert first == second
    written = sorted(p.relative_to(tmp_path / "seed-1") for p in (tmp_path / "seed-1").rglob("*.json"))
    for path in written:  # the -o folder's JSON files too (summary.json, explore.json, ...)
        assert (tmp_path / "seed-1" / path).read_bytes() == (tmp_path / "seed-2" / path).read_bytes(), path
