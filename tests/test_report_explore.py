"""The explorer's Pareto chart: designs with the same objectives drawn once with their count, axes labelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from rackwright.explore.explorer import explore
from rackwright.explore.report import pareto_scatter

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


def test_axes_carry_labels_and_units_from_the_figure_table(exploration):
    layout = pareto_scatter(exploration).layout
    objectives = [o.figure for o in exploration.space.spec.objectives]
    assert objectives[1] == "sourcing.domestic_share"  # the space file's second objective, on the y axis
    assert layout.yaxis.title.text == "US content (share of cost) (%)"
    assert layout.yaxis.tickformat == ".0%"  # the share is drawn in %
    assert layout.xaxis.title.text and layout.xaxis.tickformat is None
