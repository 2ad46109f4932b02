"""The explorer's report: the Pareto chart draws designs with the same objectives once with their count, axes
labelled; the front's hypervolume (hand-calculated rectangles and boxes, the textbook 2-D sweep, a Monte Carlo
estimate), the scatter matrix, rule names with their codes, and the front's table linked to the exported files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.explore.evaluate import objective_matrix
from rackwright.explore.explorer import explore
from rackwright.explore.export import export_pareto
from rackwright.explore.pareto import REFERENCE, hypervolume, normalised_hypervolume, tied_groups
from rackwright.explore.report import (
    feasibility_bars,
    front_hypervolume,
    front_table,
    parallel_coordinates,
    pareto_scatter,
    scatter_matrix,
    shown_as,
    tick_format,
    write_report,
)
from rackwright.report.present import MONEY, QUANTITY, SHARE, Format

SPACE = Path(__file__).resolve().parents[1] / "examples" / "space-gb300-small.yaml"


@pytest.fixture(scope="module")
def exploration():
    return explore(SPACE, "local", 1, sensitivity=False)


def test_tied_designs_are_one_point_with_their_count(exploration):
    objectives = [p["objectives"] for p in exploration.pareto()]
    distinct = {tuple(o.values()) for o in objectives}
    front = pareto_scatter(exploration).data[1]
    assert len(front.x) == len(distinct)
    counts = [int(text.split(" design(s)")[0].replace(",", "")) for text in front.text]
    assert sum(counts) == len(objectives)  # every Pareto design is in one group
    # the hover names objectives as the axes do (the figure table), not by their keys: GB300 base, 0.8 % US content
    assert "US content (share of cost) (%): 0.8%" in front.text[0] and "domestic_share" not in front.text[0]


def test_axes_carry_labels_and_units_from_the_figure_table(exploration):
    layout = pareto_scatter(exploration).layout
    objectives = [o.figure for o in exploration.space.spec.objectives]
    assert objectives[1] == "sourcing.domestic_share"  # the space file's second objective, on the y axis
    assert layout.yaxis.title.text == "US content (share of cost) (%)"
    assert layout.yaxis.tickformat == ".1~%"  # the share is drawn in % (0.5 %, 3 %, 20 %)
    assert layout.xaxis.title.text and layout.xaxis.tickformat is None


def test_parallel_coordinates_axes_read_as_the_figure_table_writes_them(exploration):
    # plotly wrote each axis's range ends raw ("21.06347k", "115.553"); each continuous axis now carries a tick format
    # whose range ends read as the CLI's table row of them (present's Format.row): money whole with thousands
    # separators (21,063 USD per PFLOP/s), a share in % to 1 decimal (0.8 %), kW to 1 decimal (91.6 and 115.6)
    dimensions = parallel_coordinates(exploration).data[0].dimensions
    objectives = [o.figure for o in exploration.space.spec.objectives]
    shown = {d.label: d for d in dimensions}
    for key in objectives:
        dimension = next(d for label, d in shown.items() if label.startswith(shown_as(exploration, key).heading))
        values = np.asarray(dimension.values, dtype=float)
        ends = [float(values.min()), float(values.max())]
        assert [format(v, dimension.tickformat) for v in ends] == shown_as(exploration, key).row(ends)
    assert [d.tickformat for d in dimensions if d.tickvals is None] == [",.0f", ".1%", ",.1f"]
    assert all(d.ticktext for d in dimensions if d.tickvals is not None)  # the discrete axes name their values


def test_tick_format_by_hand():
    money, share, power = Format("cost", "USD", MONEY), Format("US content", "", SHARE), Format("power", "kW", QUANTITY)
    assert format(21063.47, tick_format(money, [21063.47, 21884.1])) == "21,063"  # money: whole dollars
    assert format(0.00824, tick_format(share, [0.00824, 0.0361])) == "0.8%"
    # 115.553 and 91.635 kW: 3-4 significant figures, 1 decimal above 10 (present's _significant): 115.6, 91.6
    assert tick_format(power, [91.635, 115.553]) == ",.1f" and format(115.553, ",.1f") == "115.6"
    assert tick_format(power, [1.5e-5, 2e-5]) == ".3g"  # present writes these in exponent form


# --- hypervolume, scatter matrix, rule names and the front's table (issue 22) ---------------------------------


def test_hypervolume_of_two_points_is_the_union_of_their_rectangles():
    # (1, 3) and (2, 1) against (4, 4): 3 × 1 + 2 × 3 - the shared 2 × 1 = 7
    assert hypervolume(np.array([[1.0, 3.0], [2.0, 1.0]]), [4.0, 4.0]) == pytest.approx(7.0, rel=1e-12)
    # a point beyond the reference in one objective adds nothing
    assert hypervolume(np.array([[1.0, 3.0], [2.0, 1.0], [5.0, 0.0]]), [4.0, 4.0]) == pytest.approx(7.0, rel=1e-12)
    assert hypervolume(np.array([[5.0, 5.0]]), [4.0, 4.0]) == 0.0


def test_hypervolume_in_three_objectives_by_hand():
    # boxes 1 × 1 × 0.5 and 1 × 0.5 × 1 share 1 × 0.5 × 0.5: 0.5 + 0.5 - 0.25
    points = np.array([[0.0, 0.0, 0.5], [0.0, 0.5, 0.0]])
    assert hypervolume(points, 1.0) == pytest.approx(0.75, rel=1e-12)


def test_normalised_hypervolume_by_hand():
    # feasible designs span 0..1 in both objectives already; the front (0, 1), (1, 0) against 1.1:
    # 1.1 × 0.1 twice less the shared 0.1 × 0.1, over the box 1.1²
    feasible = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert normalised_hypervolume(feasible[:2], feasible) == pytest.approx(0.21 / 1.21, rel=1e-12)
    # the same in other units (× 1000 and + 5): scaling leaves the share unchanged
    assert normalised_hypervolume(feasible[:2] * 1000 + 5, feasible * 1000 + 5) == pytest.approx(0.21 / 1.21)


def sweep_2d(points: np.ndarray, reference: np.ndarray) -> float:
    """The textbook 2-D hypervolume: sort by the first objective, add the strip each new best second value adds."""
    total, best_y = 0.0, reference[1]
    for x, y in sorted(map(tuple, points)):
        if x < reference[0] and y < best_y:
            total += (reference[0] - x) * (best_y - y)
            best_y = y
    return total


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=30))
@settings(max_examples=60, deadline=None)
def test_hypervolume_matches_the_2d_sweep(points):
    array = np.array(points, dtype=float)
    reference = np.array([15.0, 18.0])
    assert hypervolume(array, reference) == pytest.approx(sweep_2d(array, reference), abs=1e-9)


def test_an_empty_front_has_no_groups():
    # no feasible design (a limit nothing meets): no rows, so no groups rather than an IndexError
    assert tied_groups(np.empty((0, 2))) == []


def test_tied_groups_in_order_of_first_row():
    points = np.array([[1, 2], [0, 1], [1, 2], [0, 1], [3, 3]])
    assert [g.tolist() for g in tied_groups(points)] == [[0, 2], [1, 3], [4]]


def test_front_hypervolume_agrees_with_monte_carlo(exploration):
    """An independent estimate: the share of uniform points in the box [0, 1.1]³ that a front design dominates."""
    space, columns = exploration.space, exploration.columns
    keys = [o.figure for o in space.spec.objectives]
    feasible = objective_matrix(space, {k: columns[k][columns["feasible"]] for k in keys})
    front = objective_matrix(space, {k: columns[k][exploration.front] for k in keys})
    best, worst = feasible.min(axis=0), feasible.max(axis=0)
    scaled = (front - best) / np.where(worst > best, worst - best, 1.0)
    samples = np.random.default_rng(22).uniform(0.0, REFERENCE, size=(200_000, len(keys)))
    dominated = np.zeros(len(samples), dtype=bool)
    for point in scaled:
        dominated |= np.all(samples >= point, axis=1)
    share = dominated.mean()
    sigma = np.sqrt(share * (1 - share) / len(samples))
    assert 0.0 < front_hypervolume(exploration) < 1.0
    assert abs(front_hypervolume(exploration) - share) < 5 * sigma


def test_scatter_matrix_has_every_objective_labelled_and_the_distinct_front(exploration):
    figure = scatter_matrix(exploration)
    background, front = figure.data
    labels = [d.label for d in front.dimensions]
    assert labels == [
        "BOM cost per peak PFLOP/s, BF16 dense (USD per PFLOP/s)",
        "US content (share of cost) (%)",
        "Rack input power (kW)",
    ]
    distinct = {tuple(p["objectives"].values()) for p in exploration.pareto()}
    assert len(front.dimensions[0].values) == len(distinct)
    assert figure.layout.yaxis2.title.text == "US content (share of cost) (%)"  # the share's axis, in %
    assert figure.layout.yaxis2.tickformat == ".1~%"
    assert len(background.dimensions[0].values) == exploration.designs_feasible - len(exploration.front)


def test_feasibility_bars_name_each_rule_with_its_code(exploration):
    bars = feasibility_bars(exploration).data[0]
    # the small space: hot facility water breaks the CDU (THM005) and the OU DC-DC shelf in EIA rails MEC006
    assert "THM005: the facility water is warmer than the CDU accepts" in bars.y
    assert "MEC006: a part's height is not a whole number of the enclosure's mounting units" in bars.y
    assert list(bars.x) == sorted(bars.x, reverse=True) and min(bars.x) > 0


def test_front_table_groups_ties_and_links_each_exported_file(exploration, tmp_path):
    files = export_pareto(exploration, tmp_path / "designs")
    html = front_table(exploration, tmp_path, files)
    rows = re.findall(r"<tr><td class='n'>([\d,]+)</td><td class='n'>([\d,]+)</td>", html)
    distinct = {tuple(p["objectives"].values()) for p in exploration.pareto()}
    assert len(rows) == len(distinct)
    assert sum(int(count) for _, count in rows) == len(exploration.front)
    links = re.findall(r"href='([^']+)'", html)
    assert sorted(links) == sorted(f"designs/{f.name}" for f in files)  # each file once, relative to the page
    assert all((tmp_path / link).is_file() for link in links)
    assert "href" not in front_table(exploration, tmp_path)  # nothing exported: no links


@pytest.mark.slow
def test_explore_command_links_the_report_to_the_exported_designs(tmp_path):
    argv = ["explore", str(SPACE), "-o", str(tmp_path / "run"), "--export-pareto", str(tmp_path / "pareto")]
    result = CliRunner().invoke(app, [*argv, "--no-sensitivity"])
    assert result.exit_code == 0, result.stdout + result.stderr
    page = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    links = re.findall(r"href='([^']+)'", page)
    assert len(links) == len(list((tmp_path / "pareto").glob("pareto-*.yaml"))) > 0
    assert all((tmp_path / "run" / link).resolve().is_file() for link in links)
    assert "Hypervolume" in page and "Scatter matrix" in page


def test_write_report_opens_with_the_headline(exploration, tmp_path):
    write_report(exploration, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    headline = re.search(r"<p class='headline'>([^<]+)</p>", page).group(1)
    assert f"{exploration.designs_evaluated:,} designs evaluated" in headline
    assert f"Hypervolume {front_hypervolume(exploration):.1%}" in headline


# --- one table of labels for the terminal and the page; the front's hypervolume in both (issue 22) ----------------


def test_the_explorers_figures_are_labelled_in_the_one_table():
    """The derived figures' keys are the explorer's, and their labels come from report.present (no second table)."""
    from rackwright.explore import space as explore_space
    from rackwright.report import present

    assert (present.PER_PFLOP, present.TRAINING) == (explore_space.PER_PFLOP, explore_space.TRAINING)
    cost = present.figure_format("cost.usd_per_pflop.fp8_dense")
    assert (cost.heading, cost.value(21063.4)) == ("BOM cost per peak PFLOP/s, FP8 dense (USD per PFLOP/s)", "21,063")


@pytest.mark.parametrize(
    "reference, model, other", [("dense", "Llama 3 405B", "DeepSeek"), ("moe", "DeepSeek-V3", "Llama")]
)
def test_the_training_objective_names_its_reference_workload(tmp_path, reference, model, other):
    from types import SimpleNamespace

    from rackwright.explore import load_space
    from rackwright.explore.report import shown_as
    from test_explore import TINY, write_space

    objective = {"figure": "perf.training_tokens_per_s_per_mw", "goal": "max", "reference": reference}
    space = load_space(write_space(tmp_path, {**TINY, "objectives": [objective]}))
    label = shown_as(SimpleNamespace(space=space), objective["figure"]).heading
    assert model in label and other not in label and label.endswith("(tokens/s per MW)")


def test_the_terminal_and_json_carry_the_page_labels_and_hypervolume(exploration, tmp_path):
    """The CLI's Pareto table heads each objective with the page's label; --json and the summary give the
    front's hypervolume, the page's number (the grid is deterministic: the same exploration)."""
    import json

    args = ["explore", str(SPACE), "-o", str(tmp_path / "run"), "--no-sensitivity"]
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 0, text.output
    volume = front_hypervolume(exploration)
    assert f"hypervolume {volume:.1%}" in " ".join(text.stdout.split())
    rows = [line.split("┃") for line in text.stdout.split("┏")[1].split("┡")[0].splitlines()[1:]]
    headings = [" ".join(r[i].strip() for r in rows if r[i].strip()) for i in range(1, len(rows[0]) - 1)]
    assert headings[0] == "designs"  # one row per distinct objective point, with its count
    assert headings[1:4] == [
        "BOM cost per peak PFLOP/s, BF16 dense (USD per PFLOP/s), min",  # the page's labels (scatter matrix above)
        "US content (share of cost) (%), max",
        "Rack input power (kW), min",
    ]
    doc = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert doc["hypervolume"] == pytest.approx(volume, rel=1e-12) and 0 < doc["hypervolume"] < 1


def test_the_page_states_the_space_sampling_axes_and_constraints(exploration, tmp_path):
    """Issue 22: after the headline, the page names what drove it, as examples/space-gb300-small.yaml gives it: the
    space file and base design, the grid sampling (480 designs: 4 powers × 3 tray counts × 2 power architectures
    × 2 fluids × 5 facility waters × 2 origins), each axis with its values and the US axis's price change and
    assumption, the power limit, and that this run computed no sensitivity; every chart axis is titled."""
    import html

    from rackwright.explore.report import sensitivity_bars
    from report_axes import untitled_axes

    write_report(exploration, tmp_path / "report.html")
    page = html.unescape((tmp_path / "report.html").read_text(encoding="utf-8"))
    inputs = page[page.index("<h2 id='inputs'>") : page.index("<div class='chart'>")]
    assert page.index("<p class='headline'>") < page.index("<h2 id='inputs'>")
    assert f"Space file {SPACE}: GB300 NVL72 small space" in inputs
    assert "base design gb300-nvl72.yaml (GB300 NVL72)" in inputs
    assert "Sampling: grid: every combination of the axes' values; 480 designs evaluated" in inputs
    assert "Axis parts.accelerator.power: 1100 W to 1400 W in steps of 100 W" in inputs
    assert "variants orv3-48v, hvdc-800v" in inputs and "W17, W32, W40, W45, 48 °C" in inputs
    assert "degC" not in page
    assert "price change US +15%; assumption: US final assembly of power parts" in inputs
    assert "Constraints: the design rules (errors) must pass; limit: Rack input power (kW) ≤ 140." in inputs
    assert "Sensitivity: not computed for this run." in inputs
    for figure in (pareto_scatter(exploration), scatter_matrix(exploration), feasibility_bars(exploration)):
        assert untitled_axes(figure) == [], figure.layout.title.text
    indices = {"cost": {axis.name: {"total": 0.5} for axis in exploration.space.axes}}
    tiny = type(exploration)(**{**exploration.__dict__, "sensitivity": indices})
    assert untitled_axes(sensitivity_bars(tiny)) == []
