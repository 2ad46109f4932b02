"""The BOM page: headline numbers, the cost Pareto and the lead-time ladder.

Hand-checked against examples/gb200-nvl72.yaml's bill of materials (`rackwright bom`): the largest line is the
72 B200 packages at an assumed 30,000 USD each, 2,160,000 USD per rack, of a 3,130,825 USD rack (69.0 %), and the
longest lead time is the compute tray's and the B200's 52 weeks; the only US-made part is the Vertiv CDU.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.report.html import bom_figure, cost_pareto, lead_time_ladder
from report_axes import untitled_axes

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def doc():
    result = CliRunner().invoke(app, ["bom", str(EXAMPLES / "gb200-nvl72.yaml"), "--racks", "2", "--json"])
    assert result.exit_code == 0, result.stdout
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def figure():
    from rackwright.rack.bom import bom_document
    from rackwright.rack.evaluation import sound_design, sound_model

    model = sound_model(sound_design(EXAMPLES / "gb200-nvl72.yaml"), "the bill of materials")
    return bom_figure(bom_document(model, 2))


def test_cost_pareto_starts_with_the_largest_line_and_ends_at_100_percent(doc, figure):
    traces = {t.name: t for t in figure.data}
    bars, line = traces["extended cost"], traces["cumulative share"]
    assert bars.x[0] == "nvidia-b200-gb200"
    assert bars.y[0] == pytest.approx(2 * 72 * 30_000)  # two racks of 72 packages at 30,000 USD
    assert bars.y[0] == max(line_["extended_usd"] for line_ in doc["lines"])
    assert list(bars.y) == sorted(bars.y, reverse=True)
    assert line.y[0] == pytest.approx(2_160_000 / 3_130_825, abs=1e-9)
    assert line.y[-1] == pytest.approx(1.0, abs=1e-12)
    assert all(b >= a for a, b in zip(line.y, line.y[1:], strict=False))


def test_cost_pareto_sums_a_part_on_several_lines():
    lines = [
        {"part": "a", "extended_usd": 30.0},
        {"part": "b", "extended_usd": 50.0},
        {"part": "a", "extended_usd": 40.0},
    ]
    parts, costs, cumulative = cost_pareto(lines)
    assert parts == ["a", "b"] and costs.tolist() == [70.0, 50.0]
    assert cumulative.tolist() == pytest.approx([70 / 120, 1.0])


def test_lead_time_ladder_tops_out_at_the_boms_longest_lead_time(doc, figure):
    ladder = lead_time_ladder(doc["lines"])
    assert ladder[0]["weeks"] == doc["longest_lead_time_weeks"] == 52
    assert {p["part"] for p in ladder if p["weeks"] == 52} == {"nvidia-gb200-compute-tray", "nvidia-b200-gb200"}
    assert [p["part"] for p in ladder if p["us_made"]] == ["vertiv-coolchip-cdu-1350"]
    bars = [t for t in figure.data if t.orientation == "h"]
    weeks = {part: w for t in bars for part, w in zip(t.y, t.x, strict=True)}
    assert max(weeks.values()) == doc["longest_lead_time_weeks"]
    assert len(weeks) == len({line["part"] for line in doc["lines"]})  # every part once
    cooling = next(t for t in bars if t.name == "cooling")
    hatched = [p for p, shape in zip(cooling.y, cooling.marker.pattern.shape, strict=True) if shape]
    assert hatched == ["vertiv-coolchip-cdu-1350"]  # US-made: hatched


def test_bom_page_keeps_its_headline_and_titles_every_axis(figure):
    title = figure.layout.title.text
    assert "6,261,650 USD per rack" not in title and "3,130,825 USD per rack, US content 1.0%" in title
    assert "longest lead time 52 weeks" in title
    # 2,160,000 (69.0 %) + 180,000 + 144,000 = 79.3 %; the next 108,000 takes it to 82.8 %: four parts make 80 %
    assert re.search(r"4 of 17 parts make 80% of the cost", title)
    layout = figure.layout
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2", "yaxis3", "xaxis3", "yaxis4"):
        assert layout[axis].title.text, axis
    assert layout.yaxis3.tickformat == ".0%"  # the cumulative share on the Pareto's right axis


def test_sourcing_sweep_page_shares_the_folders_plotly_bundle(tmp_path):
    """``sourcing whatif --sweep -o`` writes its page as the other reports do: plotly.js once, beside it."""
    page = tmp_path / "report.html"
    argv = ["sourcing", "whatif", str(EXAMPLES / "gb200-nvl72.yaml"), str(EXAMPLES / "sourcing-us-power-cabling.yaml")]
    result = CliRunner().invoke(app, [*argv, "--sweep", "substitutions[0].price_change=0:0.3:4", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.stdout
    html = page.read_text(encoding="utf-8")
    assert re.findall(r'<script[^>]*src="([^"]+)"', html) == ["plotly.min.js"]
    assert page.stat().st_size < 1_000_000 and (tmp_path / "plotly.min.js").stat().st_size > 3_000_000


def test_bom_page_states_its_inputs_and_assumptions(figure):
    """Issue 22: the page says what drove its numbers: the design, the rack count, the US-content rule with its
    meaning (rackwright.rack.bom.US_RULES), and the price basis: in examples/gb200-nvl72.yaml every one of the 17
    parts' prices is a catalog estimate (``price_usd`` under ``assumptions``), so all of its cost is estimated."""
    title = figure.layout.title.text.replace("<br>", " ")
    assert "Design GB200 NVL72, 2 rack(s)" in title
    assert "US-content rule own-value: a line counts as US-made when the part" in title
    assert "before tariffs" in title and "17 of 17 parts, 100.0% of the cost, are priced by estimate" in title
    assert "Lead times: the catalog's lead time of each part" in title
    assert "prices as of: no dated price; all 17 parts are priced by undated catalog assumptions" in title
    assert figure.layout.margin.t > 110  # the title block makes room for the input lines above the charts
    assert untitled_axes(figure) == []


def test_bom_page_dates_its_prices():
    """examples/hgx-h100-air.yaml: the H100's price cites a 2025 source, the other 8 parts' prices are undated
    estimates; the headline says so and the inputs name the undated parts."""
    from rackwright.rack.bom import bom_document
    from rackwright.rack.evaluation import sound_design, sound_model

    model = sound_model(sound_design(EXAMPLES / "hgx-h100-air.yaml"), "the bill of materials")
    title = bom_figure(bom_document(model)).layout.title.text.replace("<br>", " ")
    assert "prices as of 2025 (1 of 9 parts cite a dated price; 8 parts, 35.7% of the cost" in title
    assert re.search(r"Undated: ac-rack-pdu-415v-60a, eia-42u-600x1200, .*nvidia-mms4x00-ns400\.", title)
