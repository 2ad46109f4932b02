"""``--only SECTION,...`` of roadmap plan, site plan and programme plan (issue 22: every command whose terminal
output has several tables or sections offers it): a name it does not know exits 2 before any work, listing the
names it knows; a name it knows prints that table or section and no other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.cli.site import SECTION_STARTS
from rackwright.report.present import SITE_TABLE

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()

#: Each command, its file, and the names its --only knows.
COMMANDS = {
    "roadmap plan": (["roadmap", "plan", EXAMPLES / "tutorial-roadmap.yaml"], "quarters, constraints"),
    "site plan": (["site", "plan", EXAMPLES / "site-100mw.yaml", "--no-report"], "scale, energy, layout, power, "
                                                                                  "cooling, cost"),
    "programme plan": (["programme", "plan", EXAMPLES / "programme-small.yaml"], "quarters, generations"),
}


def run(*args, columns: int = 80):
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns)})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_section_exits_2_and_lists_the_known_ones(command, tmp_path):
    args, known = COMMANDS[command]
    out = tmp_path / "out"
    result = run(*args, "-o", out, "--only", f"{known.split(', ')[0]},colour")  # one known, one not
    assert result.exit_code == 2 and result.stdout == ""
    assert "no section colour" in result.stderr and f"one or more of: {known}" in result.stderr
    assert not out.exists()  # checked before any work
    doc = json.loads(run(*args, "-o", out, "--only", "colour", "--json").stdout)
    assert doc["command"] == command and doc["error"]["field"] == "--only"
    assert doc["error"]["fix"] == f"one or more of: {known}"


def test_roadmap_plan_only_constraints_prints_the_constraints_table_alone():
    args, _ = COMMANDS["roadmap plan"]
    whole = run(*args)
    constraints = run(*args, "--only", "constraints")
    quarters = run(*args, "--only", "quarters")
    assert whole.exit_code == constraints.exit_code == quarters.exit_code == 0, whole.output
    assert "binding constraints" in whole.stdout and "reaches 0.3 GW" in whole.stdout
    assert "binding constraints" in constraints.stdout and "reaches" not in constraints.stdout
    assert "2026Q3  │" not in constraints.stdout  # no quarter row
    assert "reaches 0.3 GW" in quarters.stdout and "binding constraints" not in quarters.stdout
    assert "objective (maximise)" in constraints.stdout and "objective (maximise)" in quarters.stdout  # a line


def test_site_plan_only_cost_prints_the_cost_rows_alone(tmp_path):
    args, _ = COMMANDS["site plan"]
    result = run(*args, "-o", tmp_path / "site", "--only", "cost", columns=120)
    assert result.exit_code == 0, result.output
    labels = [line.split("│")[1].strip() for line in result.stdout.splitlines() if line.startswith("│")]
    categories = ["IT racks", "Network", "Cabling", "Power", "Cooling", "Building", "Total"]
    assert labels == ["cost", *(f"Capex: {c}" for c in categories), "US content (share of cost)"]


def test_site_plan_sections_start_at_figures_of_its_table():
    """Each section of site plan's table starts at a figure the table shows, the first at its first figure, so
    that every figure falls in a section and no section is empty."""
    assert list(SECTION_STARTS)[0] == SITE_TABLE[0] and set(SECTION_STARTS) <= set(SITE_TABLE)
    starts = [SITE_TABLE.index(key) for key in SECTION_STARTS]
    assert starts == sorted(starts)


def test_programme_plan_only_generations_prints_the_generations_table_alone():
    args, _ = COMMANDS["programme plan"]
    result = run(*args, "--only", "generations")
    assert result.exit_code == 0, result.output
    assert "generations: the reference job on each" in result.stdout and "tokens/s per acc." in result.stdout
    assert "meets 0.8 GW" not in result.stdout and "Accelerators" not in result.stdout  # the quarters table's
