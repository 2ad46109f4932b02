"""``rackwright explore`` on a space of one axis (issue 18): it ran into an IndexError in the Sobol sensitivity.

With one axis ``E[Y | X] = Y``, so the first and total indices are ``Var(Y) / Var(Y) = 1`` for an objective that
varies with the axis and 0 for one that does not; a space with no axis is an input error (exit 2).
"""

from __future__ import annotations

import json

import pytest

from test_cli import run
from test_explore import write_space

POWER = {"path": "parts.accelerator.power", "values": ["1200 W", "1400 W"]}
ONE_AXIS = {
    "name": "one-axis",
    "base": "gb300-nvl72.yaml",
    "axes": [POWER],
    "objectives": [{"figure": "cost.usd_per_pflop.bf16_dense", "goal": "min"},
                   {"figure": "power.input_kw", "goal": "min"}],
    "sensitivity": {"samples": 8},
}


def explore_json(tmp_path, doc: dict) -> dict:
    result = run("explore", write_space(tmp_path, doc), "-o", tmp_path / "out", "--json")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return json.loads(result.output)


def indices(doc: dict) -> dict:
    return {(r["objective"], r["axis"]): (r["first"], r["total"]) for r in doc["sensitivity"]}


def test_one_axis_explains_all_the_variance(tmp_path):
    """Rack input power rises with the accelerator power (the two designs differ), so S = S_T = 1; the BOM cost
    per peak PFLOP/s does not (no part's price or the catalog's peak FLOP/s depends on the power), so 0."""
    doc = explore_json(tmp_path, ONE_AXIS)
    assert doc["designs_evaluated"] == 2
    assert indices(doc) == {("power.input_kw", "parts.accelerator.power"): (1.0, 1.0),
                            ("cost.usd_per_pflop.bf16_dense", "parts.accelerator.power"): (0.0, 0.0)}
    # 1200 W draws less at the same cost: the front is that one design
    assert [p["axes"] for p in doc["pareto"]] == [[{"axis": "parts.accelerator.power", "value": "1200 W"}]]


def test_one_axis_terminal_summary(tmp_path):
    result = run("explore", write_space(tmp_path, ONE_AXIS), "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Rack input power moves most with: parts.accelerator.power (S_T 1.00)" in " ".join(result.output.split())


@pytest.mark.parametrize("reference", ["dense", "moe"])
def test_one_axis_training_objective(tmp_path, reference):
    """The training figure, either reference workload: one axis runs and gets an index for it."""
    objective = {"figure": "perf.training_tokens_per_s_per_mw", "goal": "max", "reference": reference}
    doc = explore_json(tmp_path, {**ONE_AXIS, "objectives": [objective]})
    ((first, total),) = indices(doc).values()
    assert first == total and first in (0.0, 1.0)


def test_one_continuous_axis(tmp_path):
    """A sampled continuous axis: the input power varies over 1.0-1.4 kW, so 1; the cost does not, so 0."""
    axis = {"path": "parts.accelerator.power", "distribution": {"uniform": ["1.0 kW", "1.4 kW"]}}
    space = {**ONE_AXIS, "axes": [axis], "sampling": {"method": "lhs", "samples": 16, "seed": 1}}
    doc = explore_json(tmp_path, space)
    assert doc["designs_evaluated"] == 16
    assert indices(doc)[("power.input_kw", "parts.accelerator.power")] == (1.0, 1.0)
    assert indices(doc)[("cost.usd_per_pflop.bf16_dense", "parts.accelerator.power")] == (0.0, 0.0)


def test_one_value_runs_one_design(tmp_path):
    """An axis of one value pins it: one design, and no objective moves (indices 0)."""
    doc = explore_json(tmp_path, {**ONE_AXIS, "axes": [{**POWER, "values": ["1400 W"]}]})
    assert doc["designs_evaluated"] == 1
    assert set(indices(doc).values()) == {(0.0, 0.0)}


@pytest.mark.parametrize("axes", [[], None])
def test_no_axis_is_an_input_error(tmp_path, axes):
    doc = {k: v for k, v in ONE_AXIS.items() if k != "axes"} | ({} if axes is None else {"axes": axes})
    result = run("explore", write_space(tmp_path, doc), "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "axes" in result.output and "Traceback" not in result.output
