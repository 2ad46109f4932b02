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
from rackwright.site.report import (
    CAMPUS_TOP,
    HALL_PX_PER_M,
    KW_HIGH,
    KW_LOW,
    floor_plan_svg,
    hall_plan_svg,
    rack_paths,
)
from report_axes import untitled_axes
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
    # each written across it (its rack part, k05), in the one group that sets the labels' size and anchor
    group = svg[svg.index('<g font-size="6" text-anchor="middle">') :]
    labels = re.findall(r'transform="rotate\(-90 [\d.]+ [\d.]+\)">(k\d\d)<', group)
    assert sorted(labels) == sorted(name[-3:] for name in named)


def test_network_racks_and_rows_are_named_like_the_cable_plan(plan):
    svg = hall_plan_svg(plan, 0)
    leaves = plan.cables.filter((pl.col("tier") == 1) & (pl.col("b_hall") == 1))
    expected = {f"h{h:02d}-r{r:03d}-n{k:02d}" for h, r, k in leaves.select("b_hall", "b_row", "b_rack").unique().rows()}
    assert expected <= set(re.findall(r"<title>(h\d\d-r\d{3}-n\d\d)</title>", svg))
    rows = len(plan.grid.pattern)  # the layout's rows, the hall's MDA rows in the middle included
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
    expected = {"hour of the year (h)", "PUE (–)", "ambient dry-bulb (°C)", "capex (USD)", "cable length (km)"}
    assert expected <= set(titles)
    assert untitled_axes(charts(plan)) == []


def test_pue_heatmap_axes_are_titled(plan):
    from rackwright.site.diagrams import pue_heatmap

    figure = pue_heatmap(plan)
    assert untitled_axes(figure) == [] and figure.data[0].colorbar.title.text == "PUE (–)"


def test_site_report_states_the_inputs_and_assumptions_behind_the_plan(plan, tmp_path):
    """Issue 22: after the summary, the page names the site file, the generation mix, the layout, the fabric,
    the power chain, the climate the PUE is computed against and the economics, as examples/site-100mw.yaml gives
    them (the fixture's copy: 20 MW, GB200 and GB300 half and half), then the file's assumptions and sources; the
    hall pages repeat the site file and the layout."""
    import html as markup

    from rackwright.site.report import write_report

    page = markup.unescape(write_report(plan, tmp_path).read_text(encoding="utf-8"))
    inputs = page[page.index("<h2 id='inputs'>") : page.index("<h2>Floor plan</h2>")]
    assert page.index("<h2>Summary</h2>") < page.index("<h2 id='inputs'>")  # headline numbers first
    assert f"Site file {plan.loaded.file}" in inputs and "Target 20 MW" in inputs
    assert "gb200-nvl72.yaml 50% of the power" in inputs and "gb300-nvl72.yaml 50% of the power" in inputs
    assert "16 racks per row at 0.6 m pitch" in inputs and "nvidia-sn5600 switches, 3 tiers at 400 Gb/s" in inputs
    assert "from 345 kV at power factor 0.95" in inputs and "distribution generic-ac-busway-4000a (2N)" in inputs
    assert "no UPS" in inputs and "hourly ambient of the profile greensboro-nc-tmy3 (8,760 h)" in inputs
    assert "IT runs at 80% of its rating all year" in inputs and "electricity 0.08 USD/kWh" in inputs
    assert "<code>economics.utilisation</code>: Average IT load 80 % of rated" in inputs
    assert "Cushman & Wakefield, Data Center Development Cost Guide 2025" in inputs
    hall = markup.unescape((tmp_path / "hall-01.html").read_text(encoding="utf-8"))
    assert f"Site file {plan.loaded.file}" in hall and "16 racks per row at 0.6 m pitch" in hall


def test_rack_paths_by_hand():
    # racks 3.4 × 7.6 px centred at (10, 5) and (13.8, 5) in one colour, (20, 50) in another: top-left corners
    # (8.3, 1.2), (12.1, 1.2) and (18.3, 46.2); each subpath moves from the previous one's start
    x, y, colours = np.array([10.0, 13.8, 20.0]), np.array([5.0, 5.0, 50.0]), np.array(["#aa", "#aa", "#bb"])
    paths = rack_paths(x, y, colours, 3.4, 7.6)
    assert paths == [
        '<path fill="#aa" d="m8.3 1.2h3.4v7.6h-3.4zm3.8 0h3.4v7.6h-3.4z" class="racks"/>',
        '<path fill="#bb" d="m18.3 46.2h3.4v7.6h-3.4z" class="racks"/>',
    ]


def _corners(svg: str) -> dict[str, np.ndarray]:
    """Top-left corners [px] of the racks of each racks path: the running sums of its moves."""
    corners = {}
    for colour, d in re.findall(r'<path fill="([^"]+)" d="([^"]+)" class="racks"/>', svg):
        moves = np.array(re.findall(r"m(-?[\d.]+) (-?[\d.]+)h", d), dtype=float)
        corners[colour] = np.cumsum(moves, axis=0)
    return corners


def test_campus_draws_every_rack_where_the_plan_puts_it(plan):
    # one hall, one grid column: 1000 px / (12 m + 20 m gap) = 31.25 px/m, clipped to 20; racks 0.9 × 0.6 m × 20 =
    # 10.8 px wide and 1.2 m × 20 = 24 px deep, CAMPUS_TOP px below the top (the title and the halls' names)
    corners = _corners(floor_plan_svg(plan))
    rx, ry = plan.rack_xy
    compute = np.concatenate([corners[c] for c in (_hex(KW_LOW), _hex(KW_HIGH))])
    expected = np.stack([rx * 20 - 5.4, ry * 20 + CAMPUS_TOP - 12], axis=1)
    assert len(compute) == plan.layout.racks
    order = np.lexsort(compute.round(1).T[::-1]), np.lexsort(expected.round(1).T[::-1])  # by x, then y
    assert compute[order[0]] == pytest.approx(expected[order[1]], abs=0.051)  # a tenth of a pixel, rounded
    # a network rack wherever switches stand, none twice
    positions = plan.switch_positions
    racks = {(round(float(x), 1), round(float(y), 1)) for x, y in zip(positions["x"], positions["y"], strict=True)}
    network = np.concatenate([v for k, v in corners.items() if k not in (_hex(KW_LOW), _hex(KW_HIGH))])
    assert len(network) == len(racks) == len({tuple(c) for c in network.round(1).tolist()})


def test_campus_hall_names_stand_above_the_halls_clear_of_the_first_row(plan):
    """Each hall's name (a link to its page) has its baseline above the hall's outline, so no glyph covers a rack:
    the fixture's one hall starts at CAMPUS_TOP px, its first row's racks at (1.2 − 0.6) m × 20 = 12 px below."""
    svg = floor_plan_svg(plan)
    label = float(re.search(r'<text x="[\d.]+" y="([\d.]+)"[^>]*>hall 1 \(h01\)</text>', svg).group(1))
    outline = float(re.search(r'<a href="[^"]+"><title>hall 1[^<]*</title><rect x="[\d.]+" y="([\d.]+)"', svg).group(1))
    first_row = min(c[:, 1].min() for k, c in _corners(svg).items() if k in (_hex(KW_LOW), _hex(KW_HIGH)))
    assert label < outline == CAMPUS_TOP <= first_row
    assert label >= 14 + 10  # a line of 10 px type below the title's baseline (14 px)


def test_hourly_chart_is_every_hour_in_single_precision(plan):
    from rackwright.site.report import charts

    pue, ambient = charts(plan).data[:2]
    hourly = plan.hourly
    assert (pue.x0, pue.dx, ambient.x0, ambient.dx) == (1, 1, 1, 1) and pue.x is None
    assert np.asarray(pue.y).dtype == np.float32 and len(pue.y) == 8760
    # single precision: 2^-24 relative, about 6e-8, far below the chart's 3 decimals of PUE and 0.1 degC
    assert np.asarray(pue.y) == pytest.approx(hourly["facility_power"] / hourly["it_power"], rel=1e-7)
    assert np.asarray(ambient.y) == pytest.approx(hourly["ambient_k"] - 273.15, abs=1e-4)


def test_site_report_opens_with_its_headline_labelled_as_the_terminal_prints_it(plan, tmp_path):
    """Issue 22: the page opens with IT power, racks, PUE, capex, US content and the cables, then the summary table
    labelled and formatted as ``site plan`` prints it (report.present.site_rows: readable tiers and categories, US
    content in per cent), and the power chain by stage; no summary.json key shows as a label."""
    import html as markup

    from rackwright.site.report import write_report

    summary = plan.summary()
    page = markup.unescape(write_report(plan, tmp_path).read_text(encoding="utf-8"))
    headline = page[page.index("<div class='headline'>") : page.index("<h2>Violations</h2>")]
    assert page.index("<div class='headline'>") < page.index("<svg")  # the numbers come first
    racks = sum(summary["racks"].values())
    assert f"<b>{racks:,}</b>Racks" in headline
    assert f"<b>{summary['domestic_share']:.1%}</b>US content (share of cost)" in headline  # 0.2339 → 23.4%
    capex = sum(summary["capex_usd"].values())
    assert f"<b>{capex:,} USD</b>Capex, total" in headline
    assert f"<b>{sum(summary['links'].values()):,}</b>Links" in headline
    for words in ("PUE, annual", "IT power (rated)", "Cable length"):
        assert words in headline
    table = page[page.index("<h2>Summary</h2>") : page.index("<h2 id='inputs'>")]
    assert "<td>Switches: Super-spine</td>" in table and "<td>Transformers: MV/LV</td>" in table
    assert f"<td>Capex: IT racks</td><td>USD</td><td class='n'>{summary['capex_usd']['it_racks']:,}</td>" in table
    assert "<td>WUE (water per kWh of IT energy)</td><td>L/kWh</td>" in table
    assert "<td>Transformers (MV/LV)</td><td>generic-unit-substation-3mva</td>" in table  # the power chain
    for key in ("super_spine", "it_racks", "mv_lv", "peak_load_mw", "domestic", "pue_peak_hour", "_usd", "{"):
        assert key not in table, key
