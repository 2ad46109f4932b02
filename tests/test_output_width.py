"""Tables never cut a number or an id: every documented command that prints a table, at 80 columns and piped.

Output that is piped or saved is laid out for 80 columns (Rich's default without a terminal). A table that cut
``1,728,000`` to ``1,728,0…`` or folded ``nvidia-gb300-compute-tray`` over two lines would print a wrong figure
or a name nobody can search for. The checks read the printed text only:

* no ellipsis right after a character of a word, number or id (``1,728,0…``, ``nvidia-…``);
* no id split across two lines of a table: the end of one line's cell and the start of the next line's cell,
  in the same column, make a catalog part id, a rule code or a design's generation, or the first ends in ``-``;
* no line longer than 80 characters, except a line that holds a URL (folding it would break copying it), a
  ``wrote`` note (it lists paths to copy), the output of ``--wide`` (wide on purpose) and the commands listed in
  :data:`KNOWN_WIDE`.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from rackwright.catalog import load_catalog
from test_cli_inputs import COMMANDS
from test_docs import EXAMPLES, ROOT, run_in_process

RACKWRIGHT = Path(sys.executable).parent / "rackwright"
#: Options whose output is a document, not a table.
DOCUMENT_OPTIONS = {"--json", "--csv"}
#: Commands of the collaboration server: they need its database in the state earlier examples left (test_docs);
#: test_output_width_server.py runs each of them against a live demo server instead.
SERVER_COMMANDS = {"serve", "push", "pull", "server-admin"}
#: Commands whose tables are still built with Rich's defaults in their own modules and cut ids or numbers:
#: (command words, an option the example must have or None) → why; strict, so that each fix is noticed.
KNOWN_CUTS: dict[tuple[tuple[str, ...], str | None], str] = {}

#: Commands whose output is still wider than 80 columns, as KNOWN_CUTS → why; strict too: the test fails once
#: such an example fits, so that the entry goes.
KNOWN_WIDE: dict[tuple[tuple[str, ...], str | None], str] = {}
#: Lines that may pass 80 characters: a URL (folded, it could no longer be copied) and the notes on files written.
WIDE_LINE = re.compile(r"://|^wrote ")

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
    if "--wide" in argv:
        return
    wide = too_wide(result.stdout)
    known = [why for (words, option), why in KNOWN_WIDE.items() if _matches(argv, words, option)]
    assert bool(wide) == bool(known), "\n".join(wide) or f"fits 80 columns now: remove it from KNOWN_WIDE ({known})"


#: typer's names of Python types in help (``<bool>``, ``<list[Path]>``, ``<int range>``) and its braces round an
#: argument in usage lines (``{designs}``): help names values by metavars (``DESIGN...``, ``N``, ``PATH``).
TYPE_NAMES = re.compile(r"<(?:bool|str|int|float|path|file|list\[\w+\])(?: range)?>|\{\w+\}")
#: Where a word of help wider than its column may break (as report.tables folds one): after one of these, or before
#: a ``-``. Anywhere else (``delivery,ru`` over ``les``) the word is broken.
BREAK_AFTER = "/.;:,?&=_"
#: Between the two pieces of a broken word: the rest of the line, the next line's other columns, spaces.
GAP = r"(?: *│\n│[^\n]*? )?"


def broken_words(text: str, help_text: str) -> list[str]:
    """The words of ``help_text`` that ``text`` (a help page) does not show whole: on one line, or broken over
    lines of their column only where :data:`BREAK_AFTER` allows."""
    def pattern(word: str) -> str:
        return "".join((GAP if c == "-" and i else "") + re.escape(c) + (GAP if c in BREAK_AFTER else "")
                       for i, c in enumerate(word))

    words = help_text.replace("\b", " ").replace("\\[", "[").split()
    return [word for word in dict.fromkeys(words) if not re.search(pattern(word), text)]


def test_the_word_check_allows_breaks_after_a_comma_or_slash_only():
    page = "│ --only  Show only (power,thermal,...,delivery,ru │\n│         les).                          │"
    sections = "(power,thermal,...,delivery,rules)."
    assert broken_words(page, f"Show only {sections}") == [sections]
    page = "│ --db  Database: postgresql://USER@HOST:PORT/ │\n│ --no-x        DB; a bare path. │"
    assert broken_words(page, "Database: postgresql://USER@HOST:PORT/DB; a bare path.") == []
    assert broken_words("│ step=K/part-0.parquet │\n│  x  part-0. │\n│ parquet │", "part-0.parquet") == []


def test_a_long_word_breaks_after_a_separator_or_before_a_hyphen():
    """report.words.break_offsets, which the tables and cli.common's help both fold words with: pieces of at most
    10 characters, cut after the last ``/``, ``:`` or ``.`` past half the width, before a ``-``, else at the width."""
    from rackwright.report.words import break_offsets

    assert break_offsets("https://example.com/a/b", 10) == [8, 16]  # https:// | example. | com/a/b
    assert break_offsets("abcdefgh-ijklmnop", 10) == [8]  # abcdefgh | -ijklmnop
    assert break_offsets("ab/" + "c" * 22, 10) == [10, 20]  # a cut at 3 would leave 22: at the width
    assert break_offsets("short", 10) == []


@pytest.mark.parametrize("words", COMMANDS, ids=lambda p: " ".join(p) or "rackwright")
def test_help_fits_80_columns_piped(words, monkeypatch):
    """``--help`` of every command and group (test_cli_inputs walks the tree): no option name, value list or word
    cut short or broken (typer's help tables cut them with an ellipsis by default; cli.common._fit_help_tables
    folds only a word wider than its column, after a ``,`` or ``/``), and values named by metavars, not types."""
    monkeypatch.setenv("COLUMNS", "80")
    result = run_in_process(["rackwright", *words, "--help"], monkeypatch)
    assert result.returncode == 0, result.stderr
    assert not problems(result.stdout) and not too_wide(result.stdout), result.stdout
    command = COMMANDS[words]
    help_text = " ".join([command.help or "", *(getattr(p, "help", None) or "" for p in command.params)])
    assert not broken_words(result.stdout, help_text), result.stdout
    assert not TYPE_NAMES.findall(result.stdout), result.stdout


def test_help_keeps_long_option_names_whole(monkeypatch):
    """The longest option names of perf train whole on one line at 80 columns (they printed as
    ``--distributed-optim…``); evaluate's list of sections wraps between its names (it printed ``delivery,ru`` over
    ``les``)."""
    monkeypatch.setenv("COLUMNS", "80")
    train = run_in_process(["rackwright", "perf", "train", "--help"], monkeypatch).stdout
    for name in ("--distributed-optimizer", "--moe-capacity-factor", "--attention-precision"):
        assert re.search(rf"│ +{name} ", train), name
    sections = run_in_process(["rackwright", "evaluate", "--help"], monkeypatch).stdout
    assert "rules)." in sections and not broken_words(sections, "(power, thermal, ..., delivery, rules).")


@pytest.mark.parametrize(("words", "usage", "rows"), [
    (["evaluate"], "evaluate [OPTIONS] DESIGN...", [r"\* +DESIGN\.\.\. +Design", r"--json +Print",
                                                               r"--only +SECTION,\.\.\. +Show", r"-o +DIR +Folder"]),
    (["compare"], "compare [OPTIONS] BEFORE AFTER", [r"\* +BEFORE +The reference", r"\* +AFTER +The"]),
    (["qualify"], "qualify [OPTIONS] DESIGN RESULTS", [r"\* +RESULTS "]),
    (["factory", "simulate"], "factory simulate [OPTIONS] LINE", [r"--design +PATH ", r"--weeks +N ",
                                                                            r"--warmup +NUMBER "]),
])
def test_help_names_values_by_metavars(words, usage, rows, monkeypatch):
    """Arguments by the parameter's name in capitals (several designs: ``DESIGN...``), in the usage line too;
    flags by nothing; options by what they take (``N``, ``NUMBER``, ``PATH``, ``DIR``, ``SECTION,...``)."""
    monkeypatch.setenv("COLUMNS", "80")
    page = run_in_process(["rackwright", *words, "--help"], monkeypatch).stdout
    usage_line = re.compile(rf"Usage: \S+ {re.escape(usage)}\s*$", re.MULTILINE)  # after the program's name
    assert usage_line.search(page), page
    for row in rows:
        assert re.search(row, page), row
    missing = run_in_process(["rackwright", *words], monkeypatch)  # a missing argument: the usage line again
    assert missing.returncode == 2 and usage_line.search(missing.stderr), missing.stderr


def test_user_list_fits_80_columns_with_long_slugs(tmp_path, monkeypatch):
    """An organisation slug and a username print whole at 80 columns (they folded as ``acme-inte|rnational``): the
    slug in the title of its organisation's table."""
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("WIDTH_PASSWORD", "width-password-1")
    db = ["--db", f"sqlite:///{tmp_path / 'server.db'}"]
    admin = ["rackwright", "server-admin"]
    org = run_in_process([*admin, "org", "add", "acme-international", "--name", "Acme", *db], monkeypatch)
    assert org.returncode == 0, org.stderr
    for user, name in (("jane.doe-engineering", "Jane Doe, Senior Thermal Engineer"), ("bob", "")):
        added = [*admin, "user", "add", user, "--org", "acme-international", "--role", "engineer"]
        added += ["--password-env", "WIDTH_PASSWORD", "--display-name", name, *db]
        assert run_in_process(added, monkeypatch).returncode == 0
    listed = run_in_process([*admin, "user", "list", *db], monkeypatch)
    assert listed.returncode == 0, listed.stderr
    assert not problems(listed.stdout) and not too_wide(listed.stdout), listed.stdout
    rows = [cells(line) for line in listed.stdout.splitlines() if cells(line)]
    assert "acme-international: 2 user(s)" in listed.stdout  # one table per organisation, named in its title
    assert ["jane.doe-engineering", "engineer"] in [row[:2] for row in rows]


def too_wide(text: str, width: int = 80) -> list[str]:
    """The lines of ``text`` longer than ``width`` that are not one of the known exceptions (:data:`WIDE_LINE`)."""
    return [f"{len(line)}: {line}" for line in text.splitlines() if len(line) > width and not WIDE_LINE.search(line)]


def test_the_width_check_allows_urls_and_notes_only():
    assert too_wide("x" * 81) == [f"81: {'x' * 81}"]
    assert not too_wide("x" * 80)
    assert not too_wide("  url: https://docs.nvidia.com/" + "x" * 80)
    assert not too_wide("wrote out/site/summary.json, " + "x" * 80)


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


def _render(table, width: int = 80) -> str:
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(table, crop=False)
    return console.export_text()


def test_a_long_value_folds_but_numbers_and_ids_stay_whole():
    """compare's per-design values: a URL longer than the table is wide folds (after a `/`, or before a `-`); the
    part id and the number beside it print whole; the last column prints below its neighbour, with a note."""
    from rackwright.report.tables import ID, Column, FitTable

    url = "https://docs.nvidia.com/base-command-manager/product-manuals/nvidia-mission-control/nvlinkinfo"
    table = FitTable("t", [Column("field", ID), Column("before"), Column("after", fold=True)], hint="--wide shows them")
    table.add_row("network.links[scale-out-optics].part", "nvidia-gb300-compute-tray 1,728,000", f"url: {url}")
    text = _render(table)
    assert not too_wide(text.replace("://", "")), text  # the URL too: it folds
    assert "network.links[scale-out-optics].part" in text and "nvidia-gb300-compute-tray 1,728,000" in text
    pieces = [cell for line in text.splitlines() for cell in cells(line)[1:2] if cell]
    assert "".join(pieces).replace("after: url: ", "").endswith(url)  # folded whole: nothing lost
    assert "Printed to fit 80 characters: after below before; --wide shows them." in text
    assert not problems(text)
    table.wide = True
    wide = _render(table)
    assert "Printed to fit" not in wide and url in wide


def test_wide_and_only_on_the_commands_whose_tables_give_way(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    narrow = run_in_process(["rackwright", "catalog", "list"], monkeypatch)
    wide = run_in_process(["rackwright", "catalog", "list", "--wide"], monkeypatch)
    assert "Left out to fit 80 characters" in narrow.stdout and "--wide shows them" in narrow.stdout
    assert wide.returncode == 0 and "Left out" not in wide.stdout and "power_shelf" in wide.stdout
    compare = ["rackwright", "compare", "examples/gb200-nvl72.yaml", "examples/gb300-nvl72.yaml"]
    fields = run_in_process([*compare, "--only", "fields"], monkeypatch).stdout
    assert "Fields that differ" in fields and "Figures that differ" not in fields
    power = run_in_process([*compare, "--only", "power"], monkeypatch).stdout
    assert "Fields that differ" not in power and "IT load" in power and "Heat to liquid" not in power
    bad = run_in_process([*compare, "--only", "colour"], monkeypatch)
    assert bad.returncode == 2 and "--only" in bad.stderr and "fields" in bad.stderr
    totals = run_in_process(["rackwright", "bom", "examples/gb300-nvl72.yaml", "--only", "totals"], monkeypatch)
    assert "Totals by category" in totals.stdout and "Bill of materials" not in totals.stdout


def test_catalog_show_folds_its_long_texts_to_80_columns(monkeypatch):
    """Every line fits but those holding a URL; --wide keeps each text on one line."""
    monkeypatch.setenv("COLUMNS", "80")
    shown = run_in_process(["rackwright", "catalog", "show", "vertiv-coolchip-cdu-1350"], monkeypatch).stdout
    wide = run_in_process(["rackwright", "catalog", "show", "vertiv-coolchip-cdu-1350", "--wide"], monkeypatch).stdout
    assert not too_wide(shown), shown
    assert too_wide(wide) and len(wide.splitlines()) < len(shown.splitlines())
    assert YAML(typ="safe").load(shown) == YAML(typ="safe").load(wide)  # folded, not changed


def test_spares_wide_brings_back_the_columns_left_out(monkeypatch):
    """reliability spares at 80 columns leaves out kind, demand in window and spare % with a note; --wide prints
    them; the target availability 0.999 prints as 99.9% in the title."""
    monkeypatch.setenv("COLUMNS", "80")
    spares = ["rackwright", "reliability", "spares", "--design", "examples/gb200-nvl72.yaml", "--racks", "228"]
    narrow = run_in_process([*spares, "--repair-days", "14"], monkeypatch).stdout
    wide = run_in_process([*spares, "--repair-days", "14", "--wide"], monkeypatch).stdout
    assert "Left out to fit 80 characters: kind, demand in window, spare %; --wide shows" in narrow
    assert "availability 99.9%" in narrow and "0.999" not in narrow
    assert "Left out" not in wide and "demand in window" in wide and "accelerator" in wide
    assert not problems(narrow) and not too_wide(narrow) and not problems(wide)


@pytest.mark.slow  # (plans the small programme twice: ~20 s)
def test_programme_plan_wide_brings_back_the_quarter_columns(monkeypatch):
    """programme plan at 80 columns leaves out the failures and US-integrated columns with a note that names
    --wide; --wide prints them."""
    monkeypatch.setenv("COLUMNS", "80")
    plan = ["rackwright", "programme", "plan", "examples/programme-small.yaml"]
    ran = run_in_process(plan, monkeypatch)
    assert ran.returncode == 0, ran.stderr
    narrow = " ".join(ran.stdout.split())
    wide = run_in_process([*plan, "--wide"], monkeypatch).stdout
    left_out = narrow[narrow.index("Left out to fit 80 characters"):]
    assert "Part failures per year" in left_out and "--wide shows them" in left_out
    assert "Left out" not in wide and "Part failures per year" in wide and "Integrated in US factories" in wide


def test_help_imports_neither_numpy_nor_the_tables():
    """``rackwright --help`` folds its long words with report.words, not report.tables: importing the tables
    brought report.present, the catalog and numpy into every --help (0.37 s against 0.25 s in
    benchmarks/bench_startup.py)."""
    import subprocess
    import sys

    code = "import sys; from rackwright.cli.app import main; sys.argv = ['rackwright', '--help']\ntry: main()\n" \
           "except SystemExit: pass\nprint(sorted(m for m in ('numpy', 'rackwright.report.tables') if m in sys.modules))"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip().splitlines()[-1] == "[]"
