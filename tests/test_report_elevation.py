"""The rack elevation: front and rear, every device labelled, free units, totals in the title block.

Expected values come from the design files and published rack layouts, counted by hand: the GB300 NVL72
holds 18 compute trays and 9 NVLink switch trays (NVIDIA), all liquid-cooled; examples/gb300-nvl72.yaml
(through gb200-nvl72.yaml) mounts power shelves at U12-15 and U43-46, compute at U16-23 and U33-42, switches
at U24-32 and management switches at U47-48 of a 48 U rack, so U1-11 are free and 37 U are used.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import rackwright
from rackwright.report.elevation import elevation, elevation_svg

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def svg_of(name: str) -> str:
    rack = rackwright.evaluate(EXAMPLES / name)
    return elevation_svg(rack).as_svg()


def test_gb300_front_labels_every_device_and_marks_the_free_units():
    svg = svg_of("gb300-nvl72.yaml")
    assert "FRONT" in svg and "REAR" in svg
    compute = re.findall(r"compute-(?:lower|upper) \d+/\d+ ·", svg)
    switches = re.findall(r"nvswitch \d+/9 ·", svg)
    assert len(set(compute)) == 18 and len(set(switches)) == 9  # 18 compute trays, 9 NVLink switch trays
    assert "free: U1–11 (11 U)" in svg
    assert "37 U used, 11 U free" in svg  # 48 U - 11 free


def test_gb300_rear_has_busbar_manifold_spine_and_a_quick_disconnect_per_liquid_tray():
    svg = svg_of("gb300-nvl72.yaml")
    assert "busbar:" in svg and "manifold (supply, return):" in svg and "nvlink-spine: 1 ×" in svg
    # 27 liquid-cooled trays (18 compute + 9 switch) × 2 pipes, and the legend's sample
    assert svg.count("<circle") == 27 * 2 + 1


def test_title_block_carries_the_totals_in_display_units():
    svg = svg_of("gb300-nvl72.yaml")
    shown = {
        label: float(re.search(rf"{label} ([\d,.]+) {unit}", svg).group(1).replace(",", ""))
        for label, unit in (
            ("IT load", "kW"),
            ("input", "kW"),
            ("weight", "kg"),
            ("heat to liquid", "kW"),
            ("heat to air", "kW"),
        )
    }
    # every watt entering the rack leaves it as heat, to the liquid or to the air (to the 0.1 kW the block shows)
    assert abs(shown["heat to liquid"] + shown["heat to air"] - shown["input"]) <= 0.15
    assert shown["input"] > shown["IT load"]  # the power shelves' conversion losses


def test_air_cooled_rack_shows_its_rear_door_and_pdus():
    svg = svg_of("hgx-h100-air.yaml")
    assert "rear-door: 1 ×" in svg and "pdus: 4 ×" in svg
    assert "<circle" in svg and svg.count("<circle") == 1  # no manifold, so only the legend's sample
    assert "free: U1–2 (2 U)" in svg  # four 8 U DGX H100 from U3: U3-34 used
    assert "free: U35–42 (8 U)" in svg


def test_kyber_blade_pods_show_every_blade_switch_blade_and_midplane():
    """examples/kyber-nvl576.yaml: 72 vertical compute blades (4 pods × 18, NVIDIA GTC 2025), a DC-DC module on
    each, 24 NVLink switch blades (6 behind each pod) and 4 midplanes, in pods filling the 48 U frame from U1."""
    svg = svg_of("kyber-nvl576.yaml")
    assert {f"pod {k}" for k in range(1, 5)} <= set(re.findall(r"pod \d", svg))
    assert len(set(re.findall(r"compute-blades (\d+)/72<", svg))) == 72
    assert len(set(re.findall(r"blade-power (\d+)/72<", svg))) == 72
    assert len(set(re.findall(r"nvlink-switch-blades (\d+)/24<", svg))) == 24
    assert len(set(re.findall(r"midplanes (\d)/4 ·", svg))) == 4
    assert "48 U used, 0 U free" in svg and "free: U" not in svg  # the pods take the frame: 12 U each
    assert "compute-blades: 72 × Kyber NVL576 vertical compute blade (2 x Rubin Ultra, 2 x Vera) (4 pods × 18)" in svg


def test_kyber_rear_has_800v_busbar_headers_and_a_quick_disconnect_per_liquid_blade():
    svg = svg_of("kyber-nvl576.yaml")
    assert "busbar: Kyber 800 VDC rack busbar" in svg and "manifold (supply, return):" in svg
    # liquid-cooled: compute blades (95 %), their DC-DC modules (80 %) and switch blades (95 %); midplanes not:
    # (72 + 72 + 24) devices × 2 headers, and the legend's sample
    assert svg.count("<circle") == (72 + 72 + 24) * 2 + 1


def test_row_equipment_beside_the_rack():
    svg = svg_of("kyber-nvl576.yaml")
    assert "IN THE ROW" in svg
    assert "power sidecar: 800 VDC HVDC power rack, 1.5 MW" in svg
    assert "CDU, in-row (1 per 3 racks):" in svg
    assert "IN THE ROW" not in svg_of("hgx-h100-air.yaml")  # no sidecar and no in-row CDU


def test_title_block_names_the_design_file_and_its_catalog_parts():
    """Issue 22: the title block says what the drawing rests on: examples/gb300-nvl72.yaml extends
    gb200-nvl72.yaml; its 17 catalog parts (counted by hand from the rack's BOM, ``rackwright bom``) all carry
    estimates; 48 V ORv3 power at N+1 on the HPR busbar; PG25 coolant on W32 facility water through an in-row
    CDU. An air-cooled HGX rack says so instead of naming a coolant."""
    svg = svg_of("gb300-nvl72.yaml")
    assert "design file " in svg and "gb300-nvl72.yaml (extends gb200-nvl72.yaml)" in svg
    assert "17 catalog parts, 17 of them with estimated figures" in svg
    assert "power orv3-48v, N+1, busbar High-power 50 V rack busbar" in svg
    assert "cooling liquid pg25, facility water W32, CDU CoolChip CDU 1350" in svg
    air = svg_of("hgx-h100-air.yaml")
    assert "cooling devices air-cooled" in air and "cooling liquid" not in air


def test_elevation_json_lists_the_slots_free_units_and_totals_of_the_drawing(tmp_path):
    """``elevation --json`` by hand from the layout above: power shelves at U12 and U43 (4 each), compute at U16
    (8) and U33 (10), switches at U24 (9), 1 U each; U1-11 free; 37 U used; the totals are evaluate's, in kW and
    kg. ``-o DIR`` writes the same document as elevation.json beside the drawing."""
    import json

    from typer.testing import CliRunner

    from rackwright.cli.app import app

    result = CliRunner().invoke(app, ["elevation", str(EXAMPLES / "gb300-nvl72.yaml"), "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (tmp_path / "elevation.json").read_text(encoding="utf-8") == result.stdout
    slots = {s["slot"]: (s["position_u"], s["count"], s["height_u"]) for s in doc["slots"]}
    assert slots["power-lower"] == (12, 4, 1) and slots["power-upper"] == (43, 4, 1)
    assert slots["compute-lower"] == (16, 8, 1) and slots["compute-upper"] == (33, 10, 1)
    assert slots["nvswitch"] == (24, 9, 1)
    assert doc["free"] == [{"from_u": 1, "to_u": 11, "units": 11}]
    assert (doc["units"], doc["units_used"], doc["units_free"]) == (48, 37, 11)
    figures = rackwright.evaluate(EXAMPLES / "gb300-nvl72.yaml").figures
    assert doc["it_load_kw"] == figures["power.it_load"] / 1e3 and doc["weight_kg"] == figures["mechanical.weight"]
    assert doc["heat_to_liquid_kw"] + doc["heat_to_air_kw"] == pytest.approx(doc["input_kw"], rel=1e-9)


def test_elevation_json_alone_prints_the_document_and_writes_nothing(tmp_path, monkeypatch):
    """``--json`` needs no ``-o``: the same document on stdout (the U1-11 free of the GB300 layout above) and no file
    written; with neither, exit 2 and a message naming both."""
    import json

    from typer.testing import CliRunner

    from rackwright.cli.app import app

    design = str(EXAMPLES / "gb300-nvl72.yaml")
    monkeypatch.chdir(tmp_path)
    alone = CliRunner().invoke(app, ["elevation", design, "--json"])
    assert alone.exit_code == 0, alone.output
    assert json.loads(alone.stdout)["free"] == [{"from_u": 1, "to_u": 11, "units": 11}]
    assert list(tmp_path.iterdir()) == []
    written = CliRunner().invoke(app, ["elevation", design, "-o", "rack", "--json"])
    assert written.stdout == alone.stdout == (tmp_path / "rack" / "elevation.json").read_text(encoding="utf-8")
    neither = CliRunner().invoke(app, ["elevation", design])
    assert neither.exit_code == 2 and "-o DIR" in neither.stderr and "--json" in neither.stderr


def test_kyber_pods_are_records_with_their_blades_per_pod():
    """The Kyber layout above: 4 pods of 18 compute blades and 6 switch blades each, taking the whole 48 U."""
    summary = elevation(rackwright.evaluate(EXAMPLES / "kyber-nvl576.yaml"))[1]
    pods = {s["slot"]: (s["pods"], s["per_pod"], s["count"], s["height_u"]) for s in summary["slots"] if s["pods"]}
    assert pods["compute-blades"] == (4, 18, 72, None) and pods["nvlink-switch-blades"] == (4, 6, 24, None)
    assert (summary["units_used"], summary["units_free"], summary["free"]) == (48, 0, [])


def test_device_heights_are_whole_where_whole():
    # examples/ethernet-800vdc.yaml: 3 DC/DC shelves of 3 OU at OU1 = 9 OU, beside "12 OU" of compute; the 1 U
    # SN2201 in a 48 mm Open Rack unit is 44.45 / 48 = 0.926 OU, two decimals
    svg = svg_of("ethernet-800vdc.yaml")
    assert "(OU1, 9 OU)" in svg and "9.00 OU" not in svg
    assert "(OU41, 0.93 OU)" in svg


def test_the_row_heading_stands_clear_of_the_legend():
    # "IN THE ROW" in 12 px bold is about 80 px wide; the legend ("categories") starts at least 84 px to its right,
    # also where the row holds one piece of equipment (38 px wide: GB200 NVL72's in-row CDU)
    svg = svg_of("gb200-nvl72.yaml")
    heading = float(re.search(r'<text[^>]* x="([\d.]+)"[^>]*>IN THE ROW<', svg).group(1))
    legend = float(re.search(r'<text[^>]* x="([\d.]+)"[^>]*>categories<', svg).group(1))
    assert legend - heading >= 84
