"""The site floor plan: rows and racks named as the cable plan names them, aisles, colour by rack power, scale.

A 20 MW site of GB200 and GB300 NVL72 racks half and half (the site tests' example, made smaller) plans in
seconds and has two rack powers, so the colour scale has two ends.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from rackwright.site.planner import plan_site
from rackwright.site.report import HALL_PX_PER_M, KW_HIGH, KW_LOW, floor_plan_svg, hall_plan_svg
from test_site import ROOT, _site


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    generations = [
        {"design": str(ROOT / "examples" / "gb200-nvl72.yaml"), "share": 0.5},
        {"design": str(ROOT / "examples" / "gb300-nvl72.yaml"), "share": 0.5},
    ]
    return plan_site(_site(folder, **{"target.generations": generations, "target.it_power": "20 MW"}))


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def test_every_compute_rack_of_hall_1_carries_its_cable_plan_name(plan):
    svg = hall_plan_svg(plan, 0)
    named = set(re.findall(r"<title>(h\d\d-r\d{3}-k\d\d)</title>", svg))
    tier1 = plan.cables.filter((pl.col("tier") == 1) & (pl.col("a_hall") == 1))
    expected = {f"h{h:02d}-r{r:03d}-k{k:02d}" for h, r, k in tier1.select("a_hall", "a_row", "a_rack").unique().rows()}
    assert named == expected and len(named) == int(np.sum(plan.layout.hall == 0))


def test_network_racks_and_rows_are_named_like_the_cable_plan(plan):
    svg = hall_plan_svg(plan, 0)
    leaves = plan.cables.filter((pl.col("tier") == 1) & (pl.col("b_hall") == 1))
    expected = {f"h{h:02d}-r{r:03d}-n{k:02d}" for h, r, k in leaves.select("b_hall", "b_row", "b_rack").unique().rows()}
    assert expected <= set(re.findall(r"<title>(h\d\d-r\d{3}-n\d\d)</title>", svg))
    rows = len(plan.grid.pattern)  # the layout's rows and the hall's MDA rows after them
    assert all(f">h01-r{r:03d}" in svg for r in range(1, rows + 1))
    # an aisle between each two rows, hot and cold in turn
    assert svg.count("hot aisle") + svg.count("cold aisle") == rows - 1
    assert abs(svg.count("hot aisle") - svg.count("cold aisle")) <= 1


def test_racks_are_coloured_by_input_power_and_the_plan_has_a_scale(plan):
    svg = hall_plan_svg(plan, 0) + floor_plan_svg(plan)
    assert _hex(KW_LOW) in svg and _hex(KW_HIGH) in svg  # the lighter and the heavier generation
    # a 10 m bar at the hall plan's scale: two halves of 5 m
    assert f'width="{5 * HALL_PX_PER_M:.1f}"' in svg and ">10<" in svg


def test_every_chart_axis_is_titled_with_its_unit(plan):
    from rackwright.site.report import charts

    layout = charts(plan).layout
    axes = [layout[name] for name in layout if name.startswith(("xaxis", "yaxis")) and layout[name] is not None]
    titles = [axis.title.text for axis in axes if axis.title.text]
    # PUE panel: hours, PUE and the ambient on the second y; capex and cable panels: their y in USD and km
    assert {"hour of the year (h)", "PUE (–)", "ambient dry-bulb (°C)", "capex (USD)", "cable length (km)"} <= set(titles)
