"""``rackwright site plan`` and ``site export-netbox`` in the terminal (issue 22): the summary table labels every
figure as the report page does (readable tiers, stages and cost categories, US content in per cent, no
summary.json key), and the NetBox export shows its progress on stderr, not under ``--quiet`` and not on stdout.

A 0.5 MW site of the 100 MW example (tests/test_netbox.py's small site: 4 GB200 NVL72 racks, a two-tier fabric)
plans in seconds.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from rackwright.cli import common
from rackwright.cli.app import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "site-100mw.yaml"
SMALL = ["--set", "target.it_power=0.5 MW", "--set", "fabric.tiers=2", "--set", "name=Small site"]
RAW_KEYS = ("super_spine", "it_racks", "mv_lv", "peak_load_mw", "us_content_share", "capex_usd", "_mw")


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The small site's plan folder and what ``site plan`` printed on stdout (160 columns)."""
    folder = tmp_path_factory.mktemp("small-site")
    result = CliRunner().invoke(app, ["site", "plan", str(EXAMPLE), "-o", str(folder), *SMALL], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    return folder, result.stdout


def test_site_plan_table_labels_every_figure(planned):
    _, text = planned
    for label in ("US content (share of cost)", "Switches: Leaf", "Switches: Spine", "Transformers: MV/LV",
                  "Capex: IT racks", "Capex: Total", "PUE, annual", "IT power (rated)"):
        assert label in text, label
    assert "%" in text.split("US content (share of cost)")[1].splitlines()[0]  # a percentage, not a fraction
    for key in RAW_KEYS:
        assert key not in text, key


def test_site_plan_page_and_table_agree_on_the_labels(planned):
    """The page's summary table holds every label the terminal printed (report.present.site_rows feeds both)."""
    import html

    folder, text = planned
    page = html.unescape((folder / "report.html").read_text(encoding="utf-8"))
    for label in ("US content (share of cost)", "Switches: Leaf", "Transformers: MV/LV", "Capex: Total"):
        assert f"<td>{label}</td>" in page and label in text
    summary = page[page.index("<h2>Summary</h2>") : page.index("<h2 id='inputs'>")]
    for key in RAW_KEYS:
        assert key not in summary, key


@pytest.fixture
def terminal(monkeypatch):
    """stderr as a terminal (the progress display draws only there): what it received."""
    buffer = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=buffer, force_terminal=True, width=120))
    return buffer


def test_export_netbox_shows_progress_on_stderr_only(planned, terminal, tmp_path):
    folder, _ = planned
    result = CliRunner().invoke(app, ["site", "export-netbox", str(folder), "-o", str(tmp_path / "nb")])
    assert result.exit_code == 0, result.output
    assert "exporting to NetBox" in terminal.getvalue() and "0:00:0" in terminal.getvalue()  # with elapsed time
    assert "exporting to NetBox" not in result.stdout
    terminal.truncate(0)
    terminal.seek(0)
    quiet = CliRunner().invoke(app, ["--quiet", "site", "export-netbox", str(folder), "-o", str(tmp_path / "q")])
    assert quiet.exit_code == 0 and "exporting to NetBox" not in terminal.getvalue()


def test_site_cables_names_tiers_and_media(planned):
    """The small site's 4 racks × 72 GPUs: 288 NIC–leaf links (tier 1: ``Leaf``, as the summary names its
    switches), optical; its leaf–spine links (tier 2: ``Spine``) are AOCs. The JSON keeps 1, 2 and ``aoc``."""
    folder, _ = planned
    result = CliRunner().invoke(app, ["site", "cables", str(folder)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    rows = [[c.strip() for c in re.split(r"│", line)[1:-1]] for line in result.stdout.splitlines()]
    assert ["Leaf", "Optical", "288"] in [r[:3] for r in rows]
    assert ["Spine", "AOC"] in [r[:2] for r in rows]
    assert "aoc" not in result.stdout and not any(r and r[0] in ("1", "2") for r in rows)
    doc = json.loads(CliRunner().invoke(app, ["site", "cables", str(folder), "--json"]).stdout)
    assert [(t["tier"], t["media"]) for t in doc["totals"]] == [(1, "optical"), (2, "aoc")]
