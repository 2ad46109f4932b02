"""Each design rule fires on a design built to break it, with its path, numbers and a fix."""

from pathlib import Path

import pytest

import rackwright

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

CASES = {
    "PWR001": ("slots:\n  - {id: power-lower, count: 1}\n  - {id: power-upper, count: 1}\n", "power.redundancy",
               "exceeds the usable conversion capacity 33.0 kW"),
    "PWR002": ("slots:\n  - {id: power-lower, remove: true}\n  - {id: power-upper, remove: true}\n", "slots", "no power shelves"),
    "PWR003": ("power:\n  busbar: orv3-48v-busbar\n", "power.busbar", "exceeds its rating 1,000 A"),
    "THM001": ("cooling:\n  cdu: {racks_served: 20}\n", "cooling.cdu.part", "maximum flow (100 L/min)"),
    "THM002": ("cooling:\n  cdu: {racks_served: 20}\n", "cooling.cdu.part", "CDU capacity (67.5 kW)"),
    "THM003": ("cooling:\n  manifold: orv3-rack-manifold\n", "cooling.manifold", "rating 150 L/min"),
    "THM004": ('cooling:\n  tcs_supply: "33 degC"\n', "cooling.facility_supply", "approach of 1.0 K"),
    "THM005": ("cooling:\n  facility_supply: W40\n", "cooling.facility_supply", "rated maximum 32.0 °C"),
    "THM006": ("cooling:\n  liquid_fraction: {accelerator: 0.5}\n", "enclosure", "air capacity 30.0 kW"),
    "MEC001": ("slots:\n  - {id: extra, part: nvidia-sn5600, count: 6}\n", "slots", "the enclosure has 48"),
    "MEC002": ('overrides:\n  parts.compute_tray.weight: "90 kg"\n', "enclosure", "payload rating 1,500 kg"),
    "MEC003": ('floor_rating: "1200 kg/m**2"\n', "floor_rating", "exceeds the floor rating 1,200"),
    "MEC004": ("slots:\n  - {id: mgmt, count: 4}\n", "slots[5].position", "above the enclosure's 48 units"),
    "MEC005": ("slots:\n  - {id: mgmt, position: 45}\n", "slots[5].position", "overlaps slot 'power-upper'"),
    "NET001": ("slots:\n  - {id: nvswitch, count: 4}\n", "network.links", "offer 576 ports"),
    "NET003": ("network:\n  links:\n    - {id: mgmt-cabling, length: \"150 m\"}\n", "network.links[1].length",
               "reaches 100.00 m"),
    "DSN001": ("slots:\n  - {id: mgmt, part: nvidia-b200-gb200}\n", "slots[5].part", "is a accelerator"),
}


def broken_design(tmp_path, body):
    (tmp_path / "gb200-nvl72.yaml").write_text((EXAMPLES / "gb200-nvl72.yaml").read_text())
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\ngeneration: x\nextends: gb200-nvl72.yaml\n" + body)
    return path


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fires_with_path_numbers_and_fix(tmp_path, code):
    body, path, fragment = CASES[code]
    report = rackwright.evaluate(broken_design(tmp_path, body))
    matches = [v for v in report.violations if v.code == code]
    assert matches, f"{code} did not fire; got {[v.code for v in report.violations]}"
    violation = matches[0]
    assert violation.path == path
    assert fragment in violation.message
    assert violation.hint and violation.severity == "error"


def test_clean_example_has_no_violations():
    assert rackwright.evaluate(EXAMPLES / "gb200-nvl72.yaml").violations == []


def test_unused_scale_up_ports_warn_but_do_not_fail(tmp_path):
    report = rackwright.evaluate(broken_design(tmp_path, "slots:\n  - {id: nvswitch, count: 12, position: 24}\n"
                                                          "  - {id: compute-upper, position: 36}\n"
                                                          "  - {id: power-upper, position: 46, count: 1}\n"
                                                          "  - {id: mgmt, remove: true}\n"
                                                          "power:\n  redundancy: N\n"
                                                          "network:\n  links:\n    - {id: mgmt-cabling, remove: true}\n"))
    codes = {v.code: v.severity for v in report.violations}
    assert codes.get("NET002") == "warning" and not report.errors


def test_a_rule_that_does_not_apply_reads_not_applicable(tmp_path):
    """examples/hgx-h100-air.yaml is air-cooled (a rear door on chilled water, no CDU, no manifold, PDUs and no
    busbar): the CDU flow rule THM001 is not applicable, with the reason; on GB200 NVL72 (an in-row CDU) it passes,
    and with the CDU shared by 20 racks instead of 8 it is broken. The rear-door rule THM008 is the other way round."""
    from rackwright.rack.rule_status import rule_statuses, status_counts

    def status(path):
        return {r["code"]: r for r in rule_statuses(rackwright.evaluate(path))}

    air, liquid = status(EXAMPLES / "hgx-h100-air.yaml"), status(EXAMPLES / "gb200-nvl72.yaml")
    assert air["THM001"] == {"code": "THM001", "status": "not_applicable", "severity": None,
                             "reason": "the design names no CDU (cooling.cdu)"}
    assert {c for c, r in air.items() if r["status"] == "not_applicable"} >= {
        "THM001", "THM002", "THM003", "THM004", "THM005", "THM007", "PWR003", "PWR005"}
    assert liquid["THM001"]["status"] == "pass" and liquid["THM008"]["status"] == "not_applicable"
    assert air["THM008"]["status"] == "pass"
    broken = status(broken_design(tmp_path, CASES["THM001"][0]))["THM001"]
    assert broken["status"] == "broken" and broken["severity"] == "error" and broken["reason"] is None
    assert status_counts(list(air.values())) == {"pass": 16, "broken": 0, "not_applicable": 12}


@pytest.mark.parametrize("code", sorted(CASES))
def test_a_broken_rule_reads_broken_not_not_applicable(tmp_path, code):
    from rackwright.rack.rule_status import rule_statuses

    record = next(r for r in rule_statuses(rackwright.evaluate(broken_design(tmp_path, CASES[code][0])))
                  if r["code"] == code)
    assert record["status"] == "broken" and record["severity"] == "error"


def test_check_prints_and_writes_each_rules_status():
    import json

    from typer.testing import CliRunner

    from rackwright.cli.app import app

    runner = CliRunner()
    doc = json.loads(runner.invoke(app, ["check", str(EXAMPLES / "hgx-h100-air.yaml"), "--json"]).stdout)
    design = doc["designs"][0]
    assert design["rule_counts"] == {"pass": 16, "broken": 0, "not_applicable": 12}
    assert {r["code"]: r["status"] for r in design["rules"]}["THM001"] == "not_applicable"
    text = runner.invoke(app, ["check", str(EXAMPLES / "hgx-h100-air.yaml")], env={"COLUMNS": "200"}).stdout
    assert "passes all rules that apply (16 passed, 0 broken, 12 not applicable)" in text
    assert "not applicable: MEC005, MEC007, NET001, NET002, PWR003, PWR005, THM001" in text
