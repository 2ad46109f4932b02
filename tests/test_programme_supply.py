"""The site plans' optics and CDUs against the programme's supply caps, and tariffs by quarter (issue 23), checked
by hand and against the sourcing model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from ruamel.yaml import YAML

from rackwright.programme import load_programme, plan_programme
from rackwright.programme.plan import programme_document
from rackwright.programme.report import dashboard
from rackwright.rack.sourcing import load_scenario, whatif

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "programme-small.yaml"
CAPS = {  # the 10 GW example's optics and CDU lines, capped low enough for the site plans to matter
    "optics": ("transceiver", "26 week", 150_000),
    "cdus": ("cdu", "39 week", 1_200),
}


@pytest.fixture(scope="module")
def planned():
    supply = YAML(typ="safe").load(SMALL.read_text(encoding="utf-8"))["supply"]
    supply += [
        {
            "id": name,
            "kind": kind,
            "ordered": dt.date(2026, 1, 1),
            "lead_time": lead,
            "caps": [{"from": dt.date(2026, 7, 1), "per_quarter": cap}],
            "assumption": "test caps",
        }
        for name, (kind, lead, cap) in CAPS.items()
    ]
    plan = plan_programme(load_programme(SMALL, {"supply": supply}))
    return plan, {row["supply"]: row for row in programme_document(plan)["site_supply_check"]}


def test_optics_are_the_racks_and_the_site_plans_transceivers_against_the_caps(planned):
    plan, rows = planned
    optics = rows["optics"]
    # ordered 2026-01-01 with 26 weeks' lead time: deliveries from the first cap step, six quarters to the goal date
    assert optics["delivered_by_goal_date"] == pytest.approx(6 * 150_000)
    bom = plan.sites["abilene"].bom_frame()
    transceivers = bom.filter(pl.col("item").str.starts_with("transceiver:"))["quantity"].sum()
    assert optics["site_plans"] == {"abilene": pytest.approx(transceivers)}
    need = optics["racks_use"] + transceivers
    assert optics["margin"] == pytest.approx(optics["delivered_by_goal_date"] - need, abs=1e-2)
    # the roadmap keeps the racks' own optics under the cap; the site's fabric optics take it over
    assert optics["racks_use"] <= optics["delivered_by_goal_date"] < need and optics["enough"] is False


def test_site_cdus_are_whole_units_beyond_the_racks_shares(planned):
    plan, rows = planned
    cdus = rows["cdus"]
    site = plan.sites["abilene"]
    racks = plan.deployed[:, 0, -1]
    # the designs' CDU lines: a 1,350 kW CDU serves 8 GB300 racks (0.125 each) or 5 E1 racks (0.2 each)
    shares = racks[0] * 0.125 + racks[1] * 0.2
    assert site.cooling["cdus"] >= shares - 1e-9
    assert cdus["site_plans"]["abilene"] == pytest.approx(site.cooling["cdus"] - shares, abs=1e-3)
    assert cdus["kind"] == "cdu" and cdus["delivered_by_goal_date"] > 0


def test_tariffs_by_quarter_are_sourcing_whatif_per_rack_times_racks_built():
    """With a sourcing scenario, a quarter's tariff bill is the racks built that quarter × the tariff per rack that
    ``sourcing whatif`` gives for the same design and scenario on the quarter's last day (2026Q3: GB300 only)."""
    overrides = {"sourcing.scenario": "sourcing-us-power-cabling.yaml"}
    plan = plan_programme(load_programme(SMALL, overrides))
    doc = programme_document(plan)
    bill = next(s["values"] for s in doc["series"] if s["name"] == "tariff_bill")
    st, x = plan.result.structure, np.round(plan.result.schedule.x)
    first = (st.col_f >= 0) & (st.col_q == 0)
    assert set(st.col_g[first & (x > 0)]) == {0}  # only GB300 racks are built in 2026Q3
    built = x[first].sum()
    scenario = load_scenario(SMALL.parent / "sourcing-us-power-cabling.yaml").model_copy(
        update={"date": dt.date(2026, 9, 30)}
    )
    per_rack = whatif(plan.racks[0].model, scenario)["what_if"]["tariff_usd_per_rack"]
    assert per_rack > 0 and built > 0
    assert bill[0] == pytest.approx(built * per_rack, rel=1e-9)
    total = next(h["value"] for h in doc["headline"] if h["name"] == "tariffs_by_goal_date")
    assert total == pytest.approx(sum(bill))
    tariffs = next(t for t in dashboard(doc).data if t.name == "tariffs")
    assert list(tariffs.y) == pytest.approx([v / 1e9 for v in bill])


def test_no_scenario_no_tariff_figures(planned):
    plan, _ = planned
    doc = programme_document(plan)
    assert next(h["value"] for h in doc["headline"] if h["name"] == "tariffs_by_goal_date") is None
    assert not any(s["name"] == "tariff_bill" for s in doc["series"])


def test_a_missing_scenario_file_exits_2_naming_the_field():
    from typer.testing import CliRunner

    from rackwright.cli.app import app

    argv = ["programme", "whatif", str(SMALL), "--set", "sourcing.scenario=nope.yaml"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert "sourcing.scenario" in result.output and "'nope.yaml'" in result.output and "relative" in result.output
