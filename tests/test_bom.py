"""Bill of materials: explosion totals by hand, agreement with the rack report, US-content rules, CLI."""

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rackwright
from rackwright.cli.app import app
from rackwright.rack.bom import bom_csv, bom_document, bom_lines, totals
from rackwright.rack.chain import resolve

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GB200 = resolve(rackwright.load_design(EXAMPLES / "gb200-nvl72.yaml"))
CATALINA = resolve(rackwright.load_design(EXAMPLES / "meta-catalina.yaml"))


def test_explosion_counts_and_cost_by_hand():
    lines = {(l.part, l.assembly): l for l in bom_lines(GB200, racks=2)}
    # 2 racks × 18 trays × 4 GPUs; the two compute slots consolidate into one line per part and assembly.
    gpus = lines[("nvidia-b200-gb200", "nvidia-gb200-compute-tray")]
    assert gpus.quantity == 144 and gpus.level == 1 and gpus.extended_usd == 144 * gpus.unit_usd
    assert lines[("orv3-hpr-5.5kw-psu", "nvidia-mgx-33kw-power-shelf")].quantity == 2 * 8 * 6
    assert lines[("vertiv-coolchip-cdu-1350", "")].quantity == pytest.approx(2 / 8)  # in-row CDU shared by 8 racks


def test_bom_total_and_us_share_agree_with_the_rack_report():
    report = rackwright.evaluate(EXAMPLES / "gb200-nvl72.yaml").flat()
    doc = bom_document(GB200)
    assert doc["total_usd"] == pytest.approx(report["cost.bom_usd"], rel=1e-12)
    assert doc["us_share"] == pytest.approx(report["sourcing.domestic_share"], rel=1e-12)
    for category, share in doc["us_share_by_category"].items():
        assert share == pytest.approx(report[f"sourcing.us_content_share_by_category.{category}"], rel=1e-12)
    assert sum(g["cost_usd"] for g in totals(bom_lines(GB200), "supplier").values()) == pytest.approx(doc["total_usd"])


def test_us_content_rules_by_hand():
    # Meta Catalina trays: made in TW, finally assembled in the US; 18 per rack, each holding
    # 2 × B200 ($30,000), 2 × Grace ($4,000), 2 × ConnectX-7 ($1,500) and 1 × BlueField-3 ($2,500).
    tray = CATALINA.catalog.get("meta-catalina-compute-tray")
    contents = 2 * 30_000 + 2 * 4_000 + 2 * 1_500 + 2_500
    def us_cost(rule):
        return sum(l.extended_usd for l in bom_lines(CATALINA, rule=rule) if l.us_made and tray.id in (l.part, l.assembly))
    assert us_cost("own-value") == pytest.approx(18 * tray.price_usd)  # the tray's own value only
    assert us_cost("final-assembly") == pytest.approx(18 * (tray.price_usd + contents))
    assert us_cost("manufacture") == 0.0


def test_csv_round_trip():
    text = bom_csv(bom_lines(GB200))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(bom_lines(GB200)) and float(rows[0]["extended_usd"]) > 0


def test_cli():
    runner = CliRunner()
    result = runner.invoke(app, ["bom", str(EXAMPLES / "gb300-nvl72.yaml"), "--racks", "4", "--by", "origin", "--json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["racks"] == 4 and doc["usd_per_rack"] == pytest.approx(doc["total_usd"] / 4)
    assert runner.invoke(app, ["bom", str(EXAMPLES / "gb300-nvl72.yaml"), "--by", "colour"]).exit_code == 2
    assert runner.invoke(app, ["bom", str(EXAMPLES / "gb300-nvl72.yaml"), "--us-rule", "vibes"]).exit_code == 2
    assert runner.invoke(app, ["bom", str(EXAMPLES / "gb300-nvl72.yaml"), "--racks", "0"]).exit_code == 2


def test_html_report(tmp_path):
    """``-o DIR`` writes bom.json (what --json prints) and the charts as report.html; ``--report FILE`` is gone."""
    design = str(EXAMPLES / "gb200-nvl72.yaml")
    result = CliRunner().invoke(app, ["bom", design, "-o", str(tmp_path / "bom"), "--json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bom" / "bom.json").read_text(encoding="utf-8") == result.stdout
    html = (tmp_path / "bom" / "report.html").read_text()
    assert "plotly" in html and "compute" in html and "made in" in html
    older = CliRunner().invoke(app, ["bom", design, "--report", str(tmp_path / "bom.html")])
    assert older.exit_code == 2 and "--report" in older.output and not (tmp_path / "bom.html").exists()


def test_prices_as_of_by_hand():
    """examples/hgx-h100-air.yaml: the 32 H100s (4 DGX × 8, 25,000 USD each) are the only line whose price cites a
    dated source (fetchlogic.net, 2025); the other 8 parts are undated catalog assumptions, 1,243,800 − 800,000 =
    443,800 USD of the 1,243,800 USD rack (35.7 %). GB200 NVL72's 17 parts are all undated."""
    h100 = resolve(rackwright.load_design(EXAMPLES / "hgx-h100-air.yaml"))
    doc = bom_document(h100)
    prices = doc["prices_as_of"]
    assert doc["total_usd"] == pytest.approx(1_243_800)
    assert prices["oldest"] == prices["newest"] == "2025" and prices["dated_parts"] == ["nvidia-h100-sxm5-80gb"]
    assert len(prices["undated_parts"]) == 8 and "nvidia-dgx-h100" in prices["undated_parts"]
    assert prices["undated_cost_share"] == pytest.approx(443_800 / 1_243_800)
    assert [line["part"] for line in doc["lines"] if line["price_date"]] == ["nvidia-h100-sxm5-80gb"]
    gb200 = bom_document(GB200)["prices_as_of"]
    assert gb200["oldest"] is None and gb200["newest"] is None and gb200["dated_parts"] == []
    assert len(gb200["undated_parts"]) == 17 and gb200["undated_cost_share"] == pytest.approx(1.0)
    footer = CliRunner().invoke(app, ["bom", str(EXAMPLES / "hgx-h100-air.yaml"), "--wide"], env={"COLUMNS": "200"})
    assert footer.exit_code == 0 and "prices as of 2025 (1 of 9 parts cite a dated price; 8 parts, 35.7% of the " \
        "cost, are undated catalog assumptions)" in footer.stdout
