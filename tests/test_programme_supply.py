"""The site plans' optics and CDUs against the programme's supply caps (issue 23), checked by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from ruamel.yaml import YAML

from rackwright.programme import load_programme, plan_programme
from rackwright.programme.plan import programme_document

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
