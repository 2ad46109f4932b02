"""The options every command takes: --version, --quiet, --no-color (and NO_COLOR), and the --help panels."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from rackwright.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
RACKWRIGHT = Path(sys.executable).parent / "rackwright"
#: An SGR sequence that sets a foreground colour (30-37, 90-97, 38;5;n, 38;2;r;g;b); bold alone is not colour.
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;[0-9;]*)?m")
runner = CliRunner()


def test_version_is_the_package_version():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"rackwright {version}"


def test_quiet_leaves_out_the_note_but_writes_the_file(tmp_path):
    design = str(ROOT / "examples/gb300-nvl72.yaml")
    loud = runner.invoke(app, ["elevation", design, "-o", str(tmp_path / "a")])
    quiet = runner.invoke(app, ["-q", "elevation", design, "-o", str(tmp_path / "b")])
    assert loud.exit_code == quiet.exit_code == 0
    assert "wrote" in loud.stdout and quiet.stdout == ""
    assert (tmp_path / "b" / "elevation.svg").stat().st_size > 1000 and (tmp_path / "b" / "report.html").exists()
    errors = runner.invoke(app, ["-q", "check", str(ROOT / "examples/no-such.yaml")])
    assert errors.exit_code == 2 and "no-such.yaml" in errors.stderr  # errors still show


def _check(*options: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")} | {"FORCE_COLOR": "1"} | env
    result = subprocess.run(
        [str(RACKWRIGHT), *options, "check", "examples/gb200-nvl72.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_no_color_and_NO_COLOR_take_the_colour_out():
    assert COLOUR.search(_check())  # the green tick, when colour is forced
    assert not COLOUR.search(_check("--no-color"))
    assert not COLOUR.search(_check(NO_COLOR="1"))


def _panel(help_text: str, title: str) -> str:
    return help_text.split(f"╭─ {title} ", 1)[1].split("╰", 1)[0]


def test_help_groups_the_commands_in_panels():
    text = runner.invoke(app, ["--help"], env={"COLUMNS": "120"}).stdout
    expected = {
        "Rack design": {"evaluate", "check", "compare", "elevation", "bom", "catalog"},
        "Performance, sourcing and exploration": {"perf", "sourcing", "explore"},
        "Factory and fleet": {"factory", "reliability", "qualify"},
        "Collaboration server": {"serve", "push", "pull", "server-admin"},
        "Sites and roll-out": {"site", "roadmap", "programme", "netbox"},
    }
    for title, commands in expected.items():
        shown = {line.split()[1] for line in _panel(text, title).splitlines()[1:] if line.split()[1:]}
        assert commands <= shown, (title, shown)
