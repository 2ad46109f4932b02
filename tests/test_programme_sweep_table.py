"""``programme whatif --sweep``'s terminal table: a headline figure with no change (the quarter the goal is met)
shows its value at each swept value, not a dash (the audit of issue 23 saw "–" at every value while the JSON
held 2027Q3, 2027Q4 and null)."""

from __future__ import annotations

from rackwright.cli.programme import _sweep_cells


def test_a_figure_without_changes_shows_its_values():
    row = {"name": "goal_met", "unit": "quarter", "base": "2027Q3", "values": ["2027Q4", None], "changes": [None, None]}
    assert _sweep_cells(row) == [("2027Q4", False), (None, False)]


def test_a_number_shows_its_changes():
    row = {"name": "it_power_by_goal_date", "unit": "GW", "base": 0.863, "values": [0.863, 0.724],
           "changes": [0.0, -0.139]}
    assert _sweep_cells(row) == [(0.0, True), (-0.139, True)]
