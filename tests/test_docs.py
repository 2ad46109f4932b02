"""The documentation runs: every ``console`` example in README.md and docs/*.md, and CLI coverage.

A runnable example is a line ``$ rackwright ...`` inside a fenced block whose info
string is ``console``. It runs through the CLI in this process (``rackwright serve`` in a process of its own). The expected exit code, when not 0, ends the line as
``  # exit 1`` (or 2). Commands run from the repository root and may write only
under ``out/``. Blocks with another info string (``text``, ``sh``, ``python``,
``yaml``) are shown, not run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from rackwright.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CLI_DOC = ROOT / "docs" / "cli.md"
# The CLI reference: docs/cli.md and, for the larger command groups, one page each (docs/cli-site.md, ...).
CLI_DOCS = [CLI_DOC, *sorted((ROOT / "docs").glob("cli-*.md"))]
RACKWRIGHT = Path(sys.executable).parent / "rackwright"
#: The variable the examples' `server-admin ... --password-env` reads (docs/cli-server.md says so).
DOCS_PASSWORD_ENV = "RACKWRIGHT_DOCS_PASSWORD"
EXIT_NOTE = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^\s`]*)")


def console_commands(path: Path) -> list[tuple[int, str, int]]:
    """``(line number, command, expected exit code)`` for each ``$ `` line of the file's console blocks."""
    commands = []
    fence, info = None, ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = FENCE.match(line)
        if fence is None and match:
            fence, info = match.group(1), match.group(2).lower()
            continue
        if fence is not None and line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
            fence, info = None, ""
            continue
        if fence is not None and info == "console" and line.lstrip().startswith("$ "):
            command = line.lstrip()[2:]
            note = EXIT_NOTE.search(command)
            expected = int(note.group(1)) if note else 0
            commands.append((number, command[: note.start()] if note else command, expected))
    return commands


EXAMPLES = [(path, number, command, expected)
            for path in DOC_FILES if path.exists()
            for number, command, expected in console_commands(path)]


def test_docs_have_examples():
    assert CLI_DOC.exists(), "docs/cli.md is missing"
    assert any(path == CLI_DOC for path, *_ in EXAMPLES), "docs/cli.md has no runnable console examples"
    assert {1, 2} <= {expected for *_, expected in EXAMPLES}, "examples should show exit codes 1 and 2 too"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_in_process(argv: list[str], monkeypatch) -> Ran:
    """The command through the CLI's own entry in this process: what a shell runs, without a second of
    interpreter start-up per example. An exception that escapes the CLI is reported as the traceback a user
    would see."""
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, argv[1:], catch_exceptions=True)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(traceback.format_exception(result.exception))
    return Ran(result.exit_code, result.stdout, stderr)


def run_in_subprocess(argv: list[str]) -> Ran:
    result = subprocess.run([str(RACKWRIGHT), *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, DOCS_PASSWORD_ENV: "docs-example-password"})
    return Ran(result.returncode, result.stdout, result.stderr)


#: Commands run as a process of their own: a server (should an example ever start one, a timeout stops it).
OWN_PROCESS = {"serve"}


@pytest.mark.parametrize(
    ("path", "number", "command", "expected"),
    EXAMPLES,
    ids=[f"{path.relative_to(ROOT)}:{number}" for path, number, *_ in EXAMPLES],
)
def test_console_example(path: Path, number: int, command: str, expected: int, monkeypatch):
    argv = shlex.split(command)
    for flag, value in zip(argv, argv[1:]):
        if flag in ("-o", "--output"):
            assert value.startswith("out/"), f"{path.name}:{number}: examples may write only under out/, not {value}"
    (ROOT / "out").mkdir(exist_ok=True)
    monkeypatch.setenv(DOCS_PASSWORD_ENV, "docs-example-password")
    result = run_in_subprocess(argv) if argv[1:2] and argv[1] in OWN_PROCESS else run_in_process(argv, monkeypatch)
    where = f"{path.relative_to(ROOT)}:{number}: `{command}`"
    assert "Traceback" not in result.stderr, f"{where} raised:\n{result.stderr}"
    assert result.returncode == expected, (
        f"{where} exited {result.returncode}, the docs say {expected}\n"
        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )


def _command_paths(command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command of a Click group, as name paths (``("catalog", "list")``)."""
    paths = []
    for name, sub in getattr(command, "commands", {}).items():
        paths.append(prefix + (name,))
        paths.extend(_command_paths(sub, prefix + (name,)))
    return paths


COMMAND_PATHS = _command_paths(typer.main.get_command(app))


def test_cli_has_commands():
    assert ("evaluate",) in COMMAND_PATHS and ("catalog", "list") in COMMAND_PATHS


@pytest.mark.parametrize("command_path", COMMAND_PATHS, ids=[" ".join(p) for p in COMMAND_PATHS])
def test_every_command_is_documented(command_path: tuple[str, ...]):
    documented = [shlex.split(command)[1:] for path, _, command, _ in EXAMPLES
                  if path in CLI_DOCS and command.split()[:1] == ["rackwright"]]
    assert any(tuple(argv[: len(command_path)]) == command_path for argv in documented), (
        f"`rackwright {' '.join(command_path)}` has no runnable example in docs/cli.md or docs/cli-*.md"
    )
