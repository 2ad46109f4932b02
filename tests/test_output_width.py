"""Tables never cut a number or an id: every documented command that prints a table, at 80 columns and piped.

Output that is piped or saved is laid out for 80 columns (Rich's default without a terminal). A table that cut
``1,728,000`` to ``1,728,0…`` or folded ``nvidia-gb300-compute-tray`` over two lines would print a wrong figure
or a name nobody can search for. The checks read the printed text only:

* no ellipsis right after a character of a word, number or id (``1,728,0…``, ``nvidia-…``);
* no id split across two lines of a table: the end of one line's cell and the start of the next line's cell,
  in the same column, make a catalog part id, a rule code or a design's generation, or the first ends in ``-``.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from rackwright.catalog import load_catalog
from test_docs import EXAMPLES, ROOT, run_in_process

RACKWRIGHT = Path(sys.executable).parent / "rackwright"
#: Options whose output is a document, not a table.
DOCUMENT_OPTIONS = {"--json", "--csv"}
#: Commands of the collaboration server: they need its database in the state earlier examples left (test_docs).
SERVER_COMMANDS = {"serve", "push", "pull", "server-admin"}
#: Commands whose tables are still built with Rich's defaults in their own modules and cut ids or numbers:
#: (command words, an option the example must have or None) → why; strict, so that each fix is noticed.
KNOWN_CUTS: dict[tuple[tuple[str, ...], str | None], str] = {}

CUT = re.compile(r"[\w.,%/+-]…")
VERTICAL = re.compile(r"[│┃]")


def table_examples():
    for path, number, command, expected in EXAMPLES:
        argv = shlex.split(command)
        if expected == 2 or DOCUMENT_OPTIONS & set(argv) or argv[1] in SERVER_COMMANDS:
            continue
        reasons = [why for (words, option), why in KNOWN_CUTS.items() if _matches(argv, words, option)]
        marks = [pytest.mark.xfail(strict=True, reason=reasons[0])] if reasons else []
        yield pytest.param(argv, id=f"{path.relative_to(ROOT)}:{number}", marks=marks)


def _matches(argv: list[str], words: tuple[str, ...], option: str | None) -> bool:
    return tuple(argv[1 : 1 + len(words)]) == words and (option is None or option in argv)


@functools.cache
def known_ids() -> frozenset[str]:
    """Catalog part ids and the example files' names."""
    ids = set(load_catalog().parts) | {p.stem for p in (ROOT / "examples").glob("*.yaml")}
    return frozenset(ids)


def cells(line: str) -> list[str]:
    """The cells of a table line (its text between vertical rules); [] for a line that is not a table row."""
    parts = VERTICAL.split(line)
    return [p.strip() for p in parts[1:-1]] if len(parts) > 2 else []


#: A table's top border: the line of a cropped table ends on a column junction instead of its corner.
TOP_BORDER = re.compile(r"^\s*[┏┌]")


def problems(text: str) -> list[str]:
    found = [f"cut: {line.strip()}" for line in text.splitlines() if CUT.search(line)]
    found += [
        f"cropped: {line.strip()[:20]}...{line.rstrip()[-3:]}"
        for line in text.splitlines()
        if TOP_BORDER.match(line) and not line.rstrip().endswith(("┓", "┐"))
    ]
    lines = [cells(line) for line in text.splitlines()]
    for above, below in zip(lines, lines[1:], strict=False):
        if not above or len(above) != len(below):
            continue
        for a, b in zip(above, below, strict=True):
            if not a or not b:
                continue
            end, start = a.split()[-1], b.split()[0]
            if end + start in known_ids() or len(end) > 1 and end.endswith("-"):
                found.append(f"split over two lines: {end!r} + {start!r}")
    return found


def test_the_checks_catch_cuts_and_splits():
    assert problems("│ nvidia-… │ 1,728,0… │") == ["cut: │ nvidia-… │ 1,728,0… │"]
    assert problems("│ vertiv-coolchip-cd │\n│ u-1350             │")  # a known id folded mid-word
    assert problems("│ some-new- │\n│ thing     │")  # folded after a hyphen
    assert not problems("│ Heat left to room │\n│ air               │")  # a label wrapped between words
    assert not problems("Left out to fit 80 characters: kind, made in; --wide shows them.")
    assert problems("┏━━━━━━┳━━━━━━┳\n┃ part ┃ cost ┃")  # cropped at the width: no corner, columns lost
    assert not problems("┏━━━━━━┳━━━━━━┓\n┃ part ┃ cost ┃")


@pytest.mark.slow
@pytest.mark.parametrize("argv", list(table_examples()))
def test_tables_fit_80_columns_piped(argv, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    (ROOT / "out").mkdir(exist_ok=True)
    result = run_in_process(argv, monkeypatch)
    assert "Traceback" not in result.stderr, result.stderr
    assert not problems(result.stdout), "\n".join(problems(result.stdout)) + "\n" + result.stdout


@pytest.mark.parametrize(
    "command",
    [
        "bom examples/gb300-nvl72.yaml --racks 8",
        "evaluate examples/hgx-h100-air.yaml examples/gb200-nvl72.yaml examples/gb300-nvl72.yaml",
        "catalog list",
        "compare examples/gb200-nvl72.yaml examples/gb300-nvl72.yaml",
    ],
)
def test_core_tables_fit_80_columns(command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = run_in_process(["rackwright", *shlex.split(command)], monkeypatch)
    assert result.returncode == 0, result.stderr
    assert not problems(result.stdout), "\n".join(problems(result.stdout))


def test_bom_piped_prints_every_extended_cost_whole():
    """A real pipe, no COLUMNS: 8 GB300 NVL72 racks' compute trays cost 144 × 12,000 = 1,728,000 USD."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    result = subprocess.run(
        [str(RACKWRIGHT), "bom", "examples/gb300-nvl72.yaml", "--racks", "8"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "1,728,000" in result.stdout and "21,888,000" in result.stdout  # 576 × 38,000
    assert "nvidia-gb300-compute-tray" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert not problems(result.stdout)


def test_wide_drops_nothing_and_only_picks_sections(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    narrow = run_in_process(["rackwright", "bom", "examples/gb300-nvl72.yaml"], monkeypatch).stdout
    wide = run_in_process(["rackwright", "bom", "examples/gb300-nvl72.yaml", "--wide"], monkeypatch).stdout
    assert "Left out to fit 80 characters: kind, made in" in narrow and "compute_tray" not in narrow
    assert "Left out" not in wide and "compute_tray" in wide  # the kind column, left out at 80 columns
    only = run_in_process(
        ["rackwright", "evaluate", "examples/gb200-nvl72.yaml", "--only", "cost,rules", "--no-delivery"], monkeypatch
    )
    assert "Bill of materials" in only.stdout and "USD" in only.stdout
    assert "IT load" not in only.stdout and "violations" in only.stdout
    bad = run_in_process(["rackwright", "evaluate", "examples/gb200-nvl72.yaml", "--only", "colour"], monkeypatch)
    assert bad.returncode == 2 and "--only" in bad.stderr


def test_rule_violations_fit_80_columns(monkeypatch):
    """Meta Catalina breaks THM002 (see its file's header) and warns MEC007 four times: all in 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    result = run_in_process(["rackwright", "check", "examples/meta-catalina.yaml"], monkeypatch)
    assert result.returncode == 1
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert result.stdout.count("MEC007") == 4 and "THM002" in result.stdout and "fix: lower" in result.stdout
    assert not problems(result.stdout)
