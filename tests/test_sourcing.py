"""Sourcing what-ifs and build dates against hand calculations; scenario validation; CLI."""

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rackwright
from rackwright.cli.app import app
from rackwright.errors import InputError
from rackwright.rack.chain import resolve
from rackwright.rack.sourcing import Scenario, build_dates, load_scenario, whatif

ROOT = Path(__file__).resolve().parents[1]
GB200 = resolve(rackwright.load_design(ROOT / "examples" / "gb200-nvl72.yaml"))
runner = CliRunner()


def scenario(**fields):
    return Scenario.model_validate({"name": "t", "date": "2027-01-01", **fields})


def change(parts, **kw):
    return {"parts": parts, "assumption": "test case", **kw}


def test_substitution_price_change_by_hand():
    # 8 MGX power shelves at $2,000 (own value, PSUs excluded) at +15 %: +$2,400 per rack.
    doc = whatif(GB200, scenario(substitutions=[change({"kind": "power_shelf"}, price_change="+15%",
                                                        origin={"manufacture": "US"})]))
    assert doc["delta"]["usd_per_rack"] == pytest.approx(8 * 2000 * 0.15)
    assert doc["what_if"]["us_share_by_category"]["power"] == pytest.approx(8 * 2000 * 1.15 / (8 * 2000 * 1.15 + 48 * 1000 + 5000))


def test_tariff_by_hand_and_by_date():
    # Made in Thailand: 8 shelves × $2,000 + 48 PSUs × $1,000 + 72 NIC-side optics × $700 = $114,400; 10 % tariff.
    doc = whatif(GB200, scenario(tariffs=[{"origin": "TH", "rate": 0.10, "from": "2026-01-01", "assumption": "x"}]))
    assert doc["baseline"]["tariff_usd_per_rack"] == pytest.approx(11_440)
    later = whatif(GB200, scenario(tariffs=[{"origin": "TH", "rate": 0.10, "from": "2028-01-01", "assumption": "x"}]))
    assert later["baseline"]["tariff_usd_per_rack"] == 0


def test_second_source_share_by_hand():
    # 30 % of the 72 optics ($700) from a US source at +20 %: +0.3 · 72 · 700 · 0.2 = +$3,024 per rack.
    doc = whatif(GB200, scenario(second_sources=[change({"id": "nvidia-mms4x00-ns400"}, share=0.3, price_change="+20%",
                                                        origin={"manufacture": "US"})]))
    assert doc["delta"]["usd_per_rack"] == pytest.approx(3024)
    us_optics = 0.3 * 72 * 700 * 1.2
    cabling_total = 50_000 + 72 * 700 + 3024 + 35 * 5
    assert doc["what_if"]["us_share_by_category"]["cabling"] == pytest.approx(us_optics / cabling_total)


def test_build_dates_by_hand():
    # Trays have the longest lead time (52 weeks): 2026-12-01 + 364 days + 14 days of integration = 2027-12-14.
    doc = build_dates(GB200, date(2026, 12, 1), racks=1000)
    assert doc["first_rack_date"] == doc["last_rack_date"] == "2027-12-14"
    assert doc["critical_parts"][0]["part"] in ("nvidia-gb200-compute-tray", "nvidia-b200-gb200")
    # 18,000 trays at 9,000 a week: the last batch comes one week after the first.
    capped = build_dates(GB200, date(2026, 12, 1), 1000, scenario=scenario(
        supply=[{"parts": {"kind": "compute_tray"}, "per_week": 9000, "assumption": "x"}]))
    assert capped["last_rack_date"] == "2027-12-21" and capped["first_rack_date"] == "2027-12-14"


@pytest.mark.parametrize("text, fragment", [
    ("name: x\ndate: 2027-01-01\nsubstitutions:\n  - parts: {kind: psu}\n    price_change: '+5%'\n", "source, or an assumption"),
    ("name: x\ndate: 2027-01-01\nsubstitutions:\n  - parts: {kind: psu}\n    price_change: lots\n    assumption: y\n", "not a change"),
    ("name: x\ndate: 2027-01-01\nsubstitutions:\n  - parts: {category: snacks}\n    assumption: y\n", "category must be"),
    ("name: x\ndate: 2027-01-01\ntariffs:\n  - {origin: CN, rate: -1, from: 2020-01-01}\n", "tariffs[0].rate"),
])
def test_bad_scenarios(tmp_path, text, fragment):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert fragment in str(info.value)


def test_cli(tmp_path):
    design, plan = ROOT / "examples" / "gb200-nvl72.yaml", ROOT / "examples" / "sourcing-us-power-cabling.yaml"
    doc = json.loads(runner.invoke(app, ["sourcing", "whatif", str(design), str(plan), "--json"]).stdout)
    assert {"baseline", "what_if", "delta"} <= set(doc)
    assert doc["what_if"]["us_content_share"] > doc["baseline"]["us_content_share"]
    folder = tmp_path / "sweep"
    result = runner.invoke(app, ["sourcing", "whatif", str(design), str(plan), "--sweep",
                                 "substitutions[0].price_change=0:0.3:4", "-o", str(folder), "--json"])
    rows = json.loads(result.stdout)["rows"]
    assert len(rows) == 4 and np_increasing([r["usd_per_rack"] for r in rows])
    assert "plotly" in (folder / "report.html").read_text()
    assert (folder / "whatif.json").read_text() == result.stdout  # the document --json prints
    html = tmp_path / "sweep.html"  # the older form: the page alone, with a deprecation note
    result = runner.invoke(app, ["sourcing", "whatif", str(design), str(plan), "--sweep",
                                 "substitutions[0].price_change=0:0.3:2", "-o", str(html)])
    assert result.exit_code == 0 and "deprecated" in result.stderr and "plotly" in html.read_text()
    assert runner.invoke(app, ["sourcing", "whatif", str(design), str(plan), "--sweep", "nonsense"]).exit_code == 2
    assert runner.invoke(app, ["sourcing", "build-date", str(design), "--order-date", "soon"]).exit_code == 2


def np_increasing(values):
    return all(b > a for a, b in zip(values, values[1:]))
