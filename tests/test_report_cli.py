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
from report_axes import untitled_axes

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


def test_factory_page_states_the_line_run_and_yields_behind_it():
    """Issue 22: the factory page opens with the inputs of the run: examples/line-us.yaml's calendar (3 shifts of
    8 h, 6 days a week), kit rate (1,000 racks/week), station yields (burn-in 0.95, leak test 0.97), and the run's
    weeks, replications and seed; every axis titled."""
    from rackwright.factory.dfm import work_content
    from rackwright.factory.line import load_line
    from rackwright.factory.simulate import simulate
    from rackwright.rack.evaluation import sound_design, sound_model
    from rackwright.report.html import factory_figure

    work = work_content(sound_model(sound_design(ROOT / "examples/gb200-nvl72.yaml"), "the factory"))
    result = simulate(load_line(ROOT / "examples/line-us.yaml").line, work, 3, 2, seed=7)
    figure = factory_figure(result, "line-us — gb200-nvl72.yaml")
    title = figure.layout.title.text.replace("<br>", " ")
    assert "3 shifts of 8 h, 6 days a week" in title and "1,000 racks/week" in title
    assert "3 weeks per replication" in title and "2 replications, seed 7" in title
    assert "burn-in 95.0%" in title and "leak-test 97.0%" in title
    assert "37 trays (18 compute), 108 cables, 56 liquid connections" in title  # the line file's header comment
    assert untitled_axes(figure) == []


def test_reliability_page_states_the_job_rates_and_checkpoint_behind_it():
    """Issue 22: the reliability page names the job (16,384 accelerators: ⌈16,384 / 72⌉ = 228 GB300 NVL72 racks),
    where the failure rates come from, and the checkpoint: Llama 3 405B's 405.9e9 parameters at 14 bytes each are
    5.68 TB, 2.84 s at 2 TB/s; every axis titled."""
    from rackwright.fleet.goodput import job_report
    from rackwright.rack.evaluation import sound_design
    from rackwright.report.html import reliability_figure

    job = job_report(sound_design(ROOT / "examples/gb300-nvl72.yaml"), 16_384)
    figure = reliability_figure({"GB300 NVL72": ([1_024, 131_072], [0.95, 0.8])}, job)
    title = figure.layout.title.text.replace("<br>", " ")
    assert "Job of 16,384 accelerators on GB300 NVL72" in title and "228 racks" in title
    assert "Llama 3 Table 5" in title and "catalog AFR or MTBF" in title
    assert "Llama 3 405B at 14 bytes per parameter, 5.68 TB written at 2,000 GB/s: 2.84 s" in title
    assert "Daly 2006" in title and "1,024 to 131,072 accelerators" in title
    assert untitled_axes(figure) == []
