"""``-o DIR`` and the report page it holds: each page records the command that wrote it, and a command that
replaces another command's report.html says so on stderr (issue 22: ``roadmap plan -o out/roadmap`` then
``roadmap risk -o out/roadmap`` left the risk page alone in the folder, without a word)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.report.folder import with_command, written_by

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BOM = ["bom", str(EXAMPLES / "gb200-nvl72.yaml")]
JOB = ["reliability", "job", "--design", str(EXAMPLES / "gb200-nvl72.yaml"), "--accelerators", "72"]
WARNING = "use a separate -o folder to keep both"


def test_a_page_records_the_command_that_wrote_it(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(with_command("<!DOCTYPE html><html><HEAD lang='en'><title>t</title></HEAD></html>", "a & b"))
    assert page.read_text().startswith(
        '<!DOCTYPE html><html><HEAD lang=\'en\'><meta name="rackwright-command" content="a &amp; b"><title>'
    )
    assert written_by(page) == "a & b"
    page.write_text("<html><head></head></html>")  # a page of an older rackwright, or of another tool
    assert written_by(page) is None and written_by(tmp_path / "missing.html") is None


def test_a_second_command_into_one_folder_warns_that_it_replaces_the_report(tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, [*BOM, "-o", str(tmp_path)]).exit_code == 0
    assert written_by(tmp_path / "report.html") == "bom"
    result = runner.invoke(app, [*JOB, "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if WARNING in line]
    assert lines == [
        f"warning: {tmp_path / 'report.html'}, the report of `rackwright bom`, is replaced by that of "
        f"`rackwright reliability job`; {WARNING}"
    ]
    assert written_by(tmp_path / "report.html") == "reliability job"
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["bom.json", "job.json"]  # the documents both stay


def test_no_warning_under_quiet(tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, [*BOM, "-o", str(tmp_path)]).exit_code == 0
    result = runner.invoke(app, ["--quiet", *JOB, "-o", str(tmp_path)])
    assert result.exit_code == 0 and WARNING not in result.stderr
    assert written_by(tmp_path / "report.html") == "reliability job"


def test_no_warning_when_a_command_rewrites_its_own_folder(tmp_path):
    runner = CliRunner()
    for racks in ("1", "2"):
        result = runner.invoke(app, [*BOM, "--racks", racks, "-o", str(tmp_path)])
        assert result.exit_code == 0 and WARNING not in result.stderr


#: A space of 4 designs (examples/gb300-nvl72.yaml, two GPU powers by two tray counts), quick to explore.
TINY_SPACE = {
    "name": "tiny",
    "base": str(EXAMPLES / "gb300-nvl72.yaml"),
    "axes": [
        {"path": "parts.accelerator.power", "values": ["1200 W", "1400 W"]},
        {"path": "slots[compute-upper].count", "values": [8, 10]},
    ],
    "objectives": [
        {"figure": "cost.usd_per_pflop.bf16_dense", "goal": "min"},
        {"figure": "power.input_kw", "goal": "min"},
    ],
    "sensitivity": {"samples": 0},
}


def _space(folder: Path) -> str:
    path = folder / "space.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML().dump(TINY_SPACE, handle)
    return str(path)


#: The commands whose report page is not written by write_folder (the command each page records) and their arguments
#: for a folder (explore's write_report, site plan's report page, elevation's drawing page, sourcing whatif --sweep's
#: older -o FILE.html).
WRITERS = [
    ("explore", lambda tmp, out: ["explore", _space(tmp), "--no-sensitivity", "-o", str(out)]),
    ("site plan", lambda tmp, out: ["site", "plan", str(EXAMPLES / "site-100mw.yaml"), "-o", str(out)]),
    ("elevation", lambda tmp, out: ["elevation", str(EXAMPLES / "gb200-nvl72.yaml"), "-o", str(out)]),
    (
        "sourcing whatif",
        lambda tmp, out: [
            "sourcing", "whatif", str(EXAMPLES / "gb200-nvl72.yaml"), str(EXAMPLES / "sourcing-us-power-cabling.yaml"),
            "--sweep", "substitutions[0].price_change=0:0.2:2", "-o", str(out / "report.html"),
        ],
    ),
]


@pytest.mark.parametrize(("command", "argv"), WRITERS, ids=[w[0] for w in WRITERS])
def test_every_report_page_records_its_command_and_warns_when_it_replaces_another(tmp_path, command, argv):
    """explore -o, site plan -o, elevation -o and sourcing whatif --sweep -o FILE.html into a folder that holds
    bom's report: one warning naming both commands, and the page then records the new one; run again, no warning."""
    runner, out = CliRunner(), tmp_path / "out"
    assert runner.invoke(app, [*BOM, "-o", str(out)]).exit_code == 0
    result = runner.invoke(app, argv(tmp_path, out))
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if WARNING in line] == [
        f"warning: {out / 'report.html'}, the report of `rackwright bom`, is replaced by that of "
        f"`rackwright {command}`; {WARNING}"
    ]
    assert written_by(out / "report.html") == command
    again = runner.invoke(app, argv(tmp_path, out))
    assert again.exit_code == 0 and WARNING not in again.stderr
