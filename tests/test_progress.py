"""Progress on stderr for every command that can take seconds (issue 22's CLI conventions): a bar where the work
has steps, a spinner with the elapsed time where it has none (a MILP solve, a parallelism search); never on
stdout, and not under ``--json`` or ``--quiet``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from rackwright.cli import common
from rackwright.cli.app import app

E = str(Path(__file__).resolve().parents[1] / "examples") + "/"


@pytest.fixture
def terminal(monkeypatch):
    """stderr as a terminal (the progress display draws only there): what it received."""
    buffer = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=buffer, force_terminal=True, width=120))
    return buffer


def test_the_spinner_draws_on_stderr_unless_turned_off(terminal, monkeypatch):
    with common.working("solving", True):
        pass
    assert "solving" in terminal.getvalue() and "0:00:00" in terminal.getvalue()  # with the elapsed time
    terminal.truncate(0)
    with common.working("solving", False):  # the command's --json
        pass
    monkeypatch.setattr(common.settings, "quiet", True)
    with common.working("solving", True):
        pass
    assert terminal.getvalue().strip("\x00") == ""


#: Each long command (quick arguments) → the words its progress display shows.
LONG = {
    "roadmap plan": (["roadmap", "plan", E + "roadmap-10gw.yaml"], "planning the roadmap"),
    "roadmap risk": (["roadmap", "risk", E + "roadmap-10gw.yaml", "--samples", "4", "--seed", "1"], "samples"),
    "explore": (["explore", E + "space-gb300-small.yaml", "-o", "OUT", "--no-sensitivity"], "evaluating designs"),
    "site plan": (["site", "plan", E + "site-100mw.yaml", "-o", "OUT", "--no-report"], "planning"),
    "factory simulate": (
        ["factory", "simulate", E + "line-us.yaml", "--design", E + "gb200-nvl72.yaml", "--weeks", "3", "--warmup",
         "1", "--replications", "2", "--seed", "1"],
        "replications",
    ),
    "perf search": (
        ["perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
         "--global-batch", "512", "--top", "2"],
        "searching parallelism configurations",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("command", list(LONG))
def test_long_commands_show_progress_on_stderr_only(terminal, tmp_path, command):
    args, words = LONG[command]
    args = [a.replace("OUT", str(tmp_path / "out")) for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    assert words in terminal.getvalue() and "0:00:0" in terminal.getvalue()  # the display, with the elapsed time
    assert "0:00:0" not in result.stdout  # not on stdout
    terminal.truncate(0)
    terminal.seek(0)
    quiet = CliRunner().invoke(app, ["--quiet", *args])
    as_json = CliRunner().invoke(app, [*args, "--json"])
    assert quiet.exit_code == result.exit_code and as_json.exit_code == result.exit_code
    assert words not in terminal.getvalue()  # neither under --quiet nor under --json
    assert json.loads(as_json.stdout)["command"] == command  # stdout is the document alone
