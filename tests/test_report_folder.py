"""``-o DIR`` and the report page it holds: each page records the command that wrote it, and a command that
replaces another command's report.html says so on stderr (issue 22: ``roadmap plan -o out/roadmap`` then
``roadmap risk -o out/roadmap`` left the risk page alone in the folder, without a word)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.report.html import with_command, written_by

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
