"""The site report's drawings checked against hand calculations from the site file.

The plan is test_report_site's 20 MW site (the 100 MW example's layout, fabric and power chain): 80 GB200 and 73
GB300 NVL72 racks (153) in one hall, 16 racks a row at 0.6 m pitch, 1.2 m deep racks and 1.2 m aisles, a CDU row
after every 4 compute rows and a network row after every 8; 2N busways, N+1 3 MVA unit substations at PF 0.95.
"""

from __future__ import annotations

import re
import xml.dom.minidom

import numpy as np
import pytest

from rackwright.site.report import HALL_PX_PER_M, floor_plan_svg, hall_page_name, hall_plan_svg, write_report
from test_report_site import plan  # noqa: F401 (the module's 20 MW plan fixture)

PX = HALL_PX_PER_M


def _numbers(pattern: str, text: str) -> list[float]:
    return [float(v) for v in re.findall(pattern, text)]


@pytest.fixture(scope="module")
def hall(plan):  # noqa: F811 (the fixture)
    return hall_plan_svg(plan, 0)


def test_hall_plan_is_well_formed_and_dimensioned_in_metres(plan, hall):  # noqa: F811
    xml.dom.minidom.parseString(hall)
    # 153 racks = 9 full rows + 9 racks: 10 compute rows in two halves of 5, each C C C C U C U N (a CDU row after
    # its 4th and its last compute row, a network row after its last), the second mirrored, N U C U C C C C: 16 rows.
    # A network row holds the leaves of its block at 16 switches a rack: the first (row 8) those of racks 1-80 (leaf i
    # of a rail starts at rack floor(64 i / 18) + 1: i ≤ 22, 23 a rail, 92 = 6 racks), the second (row 11, the
    # mirrored half's first) the other 21 a rail (84, 6 racks); the 192 spines and 128 super-spines go to the MDA:
    # 320 switches = 20 racks, 2 MDA rows of 16, between the halves' network rows (rows 9 and 10: the hall's 18 rows
    # centre at 9, the MDA at 8 + 1).
    # 18 rows at a 1.2 + (1.2 + 1.2) / 2 = 2.4 m pitch, plus half a cold aisle at each end
    depth = 18 * 2.4 + 1.2
    assert len(plan.layout.pattern) == 18 and plan.grid.depth == pytest.approx(depth)
    assert plan.grid.width == pytest.approx(16 * 0.6 + 2 * 1.2)  # no row longer than a compute row
    assert re.findall(r">(h01-r\d{3}) MDA<", hall) == ["h01-r009", "h01-r010"]
    assert re.findall(r">(h01-r\d{3}) net<", hall) == ["h01-r008", "h01-r011"]
    labels = re.findall(r'class="dimension">([\d.]+) m<', hall)
    assert labels == [f"{plan.grid.width:.1f}", f"{depth:.1f}"]
    # each dimension line is its length in metres times the plan's scale
    lines = re.findall(r'<g stroke="#000"><line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/>', hall)
    (ax1, _, ax2, _), (_, by1, _, by2) = ([float(v) for v in line] for line in lines)
    assert ax2 - ax1 == pytest.approx(plan.grid.width * PX, abs=0.1)
    assert by2 - by1 == pytest.approx(depth * PX, abs=0.1)


def test_scale_bar_length_is_metres_times_scale(hall):
    # the hall plan's bar is 10 m: ticks at 0, 5 and 10 m, 16 px a metre apart
    tick = r'<line x1="([\d.]+)" y1="[\d.]+" x2="[\d.]+" y2="[\d.]+" stroke="#000"/><text[^>]*>(\d+)<'
    ticks = re.findall(tick, hall)
    positions = {int(label): float(x) for x, label in ticks}
    assert sorted(positions) == [0, 5, 10]
    assert positions[10] - positions[0] == pytest.approx(10 * PX, abs=0.1)


def test_metre_grid_covers_the_hall(plan, hall):  # noqa: F811
    grid = hall[hall.index('<g class="grid">') : hall.index("</g>", hall.index('<g class="grid">'))]
    # one line a metre across the width and down the depth, both edges included
    assert grid.count("<line") == int(np.floor(plan.grid.width)) + 1 + int(np.floor(plan.grid.depth)) + 1


def test_cdu_rows_hold_the_cdus_of_the_racks_they_serve(hall):
    # 0.125 CDU per rack (one CDU per 8 racks in both designs). First half, C C C C U C U N: its first CDU row (row 5)
    # serves the 4 compute rows before it, 64 racks (8 CDUs), its second (row 7) the fifth row, 16 racks (2). Second
    # half mirrored, N U C U C C C C (rows 11-18, filled in row order with the last 153 - 80 = 73 racks): its first
    # CDU row (row 12) serves the compute row after it (row 13, 16 racks: 2), its second (row 14) the four after it
    # (rows 15-18: 16 + 16 + 16 + 9 = 57 racks, ceil(7.125) = 8)
    assert re.findall(r">(\d+) CDUs<", hall) == ["8", "2", "2", "8"]
    assert hall.count('class="cdu"') == 20


def test_two_busways_over_every_compute_row_with_2n(plan, hall):  # noqa: F811
    # 2N distribution: 20 busways for 10 compute rows, an A and a B feed over each
    assert plan.summary()["distribution"] == 20
    assert hall.count('class="busway"') == 2 * 10
    assert "generic-ac-busway-4000a: 2 per compute row (2N), 20 site-wide" in hall


def test_a_tray_over_every_row_and_one_across_the_hall(plan, hall):  # noqa: F811
    # 10 compute rows, 2 network rows and 2 MDA rows, each with a tray, and the tray across the hall
    assert hall.count('class="tray"') == 10 + 2 + 2 + 1
    # the cross tray joins every row's tray: it spans from the first tray to the last
    trays = re.findall(r'<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"[^>]*class="tray"', hall)
    cross = [t for t in trays if t[0] == t[2]]
    along = [float(t[1]) for t in trays if t[1] == t[3]]
    assert len(cross) == 1 and (float(cross[0][1]), float(cross[0][3])) == (min(along), max(along))


def test_campus_links_every_hall_to_its_page(plan, tmp_path):  # noqa: F811
    campus = floor_plan_svg(plan)
    links = re.findall(r'<a href="([^"]+)">', campus)
    assert links == [hall_page_name(h) for h in range(plan.layout.halls)] == ["hall-01.html"]
    write_report(plan, tmp_path)
    page = (tmp_path / "hall-01.html").read_text(encoding="utf-8")
    assert 'id="hall-plan-1"' in page and "href='report.html'" in page


# -- fabric by tier ------------------------------------------------------------------------------------------------
def test_fabric_diagram_counts_switches_and_links_per_tier(plan):  # noqa: F811
    from rackwright.site.diagrams import fabric_svg

    svg = fabric_svg(plan)
    xml.dom.minidom.parseString(svg)
    # 153 racks × 72 NIC ports = 11,016 endpoints on 4 rails of 2,754; radix 51.2 Tb/s / 400 Gb/s = 128, 64 down and
    # 64 up: ceil(2,754 / 64) = 44 leaves a rail, 176 in all; pods of 64 // 4 = 16 leaves a rail: ceil(44 / 16) = 3
    # pods of 64 spines = 192; 64 super-spine groups of the smallest divisor of 64 ≥ 3 · 64 / 128 = 1.5, i.e. 2: 128
    tiers = re.findall(r'class="tier">([^<]+)<', svg)
    assert tiers == [
        "11,016 NIC ports (endpoints)",
        "176 leaf switches (64 ports down, 64 up)",
        "192 spine switches in 3 pods (64 down, 64 up)",
        "128 super-spine switches (64 groups of 2)",
    ]
    # links below each tier: every endpoint, 64 uplinks of each leaf, 64 of each spine; 400 Gb/s each
    links = re.findall(r'class="links">([^<]+)<', svg)
    assert links == [
        "11,016 links × 400 Gb/s = 4,406.4 Tb/s",
        f"{176 * 64:,} links × 400 Gb/s = {176 * 64 * 0.4:,.1f} Tb/s",
        f"{192 * 64:,} links × 400 Gb/s = {192 * 64 * 0.4:,.1f} Tb/s",
    ]


# -- power one-line ------------------------------------------------------------------------------------------------
def test_one_line_names_each_stage_count_and_rating(plan):  # noqa: F811
    from rackwright.site.diagrams import power_one_line_svg

    svg = power_one_line_svg(plan)
    xml.dom.minidom.parseString(svg)
    stage = {st.name: st for st in plan.stages}
    # N+1 3 MVA unit substations at PF 0.95 carry 2.85 MW each; one hall: ceil(load / 2.85 MW) + 1
    mv_lv = int(np.ceil(stage["transformers"].load / 2.85e6)) + 1
    assert mv_lv == 11
    assert f"{mv_lv} × generic-unit-substation-3mva (3 MVA, 34.5 kV → 480 V), N+1" in svg
    # the substation: ceil(28.4 MW / 95 MW) + 1 = 2 transformers of 100 MVA
    assert "2 × generic-substation-transformer-100mva (100 MVA, 345 kV → 34.5 kV), N+1" in svg
    # 2 MW generators, N+1, on the switchgear's load: ceil(28.4 / 2) + 1 = 16
    assert int(np.ceil(stage["generators"].load / 2e6)) + 1 == 16
    assert "16 × caterpillar-3516-2000ekw (2 MW, 4.16 kV), N+1" in svg
    # 2N busways, two per compute row: 20
    assert "20 × generic-ac-busway-4000a (3 MW, 480 V), 2N" in svg
    # top to bottom in the order of the chain, the racks last
    order = [
        svg.index(t)
        for t in (
            "Utility 345 kV",
            "Substation",
            "MV switchgear",
            "MV/LV",
            "UPS/BBU: none",
            "Distribution",
            "153 racks",
        )
    ]
    assert order == sorted(order)


# -- PUE by month and hour -----------------------------------------------------------------------------------------
def test_pue_heatmap_cells_are_month_hour_means(plan):  # noqa: F811
    from rackwright.site.diagrams import pue_heatmap, pue_month_hour

    table = pue_month_hour(plan)
    assert table.shape == (12, 24)
    pue = plan.hourly["facility_power"] / plan.hourly["it_power"]
    # July 14:00 by hand: January to June are 31 + 28 + 31 + 30 + 31 + 30 = 181 days, July has 31
    july = [pue[(181 + d) * 24 + 14] for d in range(31)]
    assert table[6, 14] == pytest.approx(np.mean(july), rel=1e-12)
    # the cells weighted by their month's days average to the annual PUE (summary.json rounds it to 4 decimals)
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    assert float((table * days[:, None]).sum() / (365 * 24)) == pytest.approx(plan.summary()["pue"], abs=5e-5)
    figure = pue_heatmap(plan)
    assert np.asarray(figure.data[0].z).shape == (12, 24)
    assert figure.layout.xaxis.title.text.startswith("hour of day (h") and figure.layout.yaxis.title.text == "month"


def test_report_page_carries_the_diagrams_in_order(plan, tmp_path):  # noqa: F811
    page = write_report(plan, tmp_path).read_text(encoding="utf-8")
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", page)
    assert headings == [
        "Violations",
        "Summary",
        "Inputs and assumptions",
        "Floor plan",
        "Hall 1 to scale",
        "Fabric by tier",
        "Power one-line",
        "PUE by month and hour",
        "Charts",
    ]
    assert re.findall(r'<script[^>]*src="([^"]+)"', page) == ["plotly.min.js"]
    assert 'id="fabric-diagram"' in page and 'id="power-one-line"' in page
