"""The roadmap's delivered training compute (issue 18): the ``delivered-training-compute`` objective and the
``delivered_eflops_by_quarter`` series beside the peak.

The hand-checkable roadmap: GB200 NVL72 and GB300 NVL72 on one line at 5 racks/week each, sharing its weeks, one
site with power to spare, two quarters (2026Q3 and 2026Q4, 92 days each). The line binds: ⌊5 × 92/7⌋ = 65 racks a
quarter, of either generation. At FP64 the GB200 rack peaks far higher (72 × 40 TFLOP/s = 2.88 PFLOP/s against
the GB300's 72 × 1.39 = 0.10), but on the reference MoE training workload (DeepSeek-V3) the GB300 rack delivers
more (``rackwright evaluate``: 106.5 against 103.4 PFLOP/s): the peak objective builds GB200, the delivered one
GB300. The per-rack figures are read from ``rackwright evaluate --json`` (its ``compute`` and ``delivery``
sections), not from the roadmap's code.
"""

from __future__ import annotations

import json
from typing import get_args

import pytest

from rackwright.cli.roadmap import _plan_tables
from rackwright.roadmap import plan, plan_document
from rackwright.roadmap.schema import OBJECTIVES, Goal
from test_cli import run
from test_roadmap import EXAMPLES, load, small, write

DELIVERED = "training_delivered_pflops_per_rack_deepseek_v3"
#: 2026Q3 and 2026Q4: 92 days each; a quarter's middle is 46 days in, the horizon ends on 2027-01-01.
YEARS_LEFT = {"2026Q3": (92 + 46) / 365.25, "2026Q4": 46 / 365.25}


def small_pair(objective: str) -> dict:
    return small(
        goal="1 MW", facility="100 MW", rate=5, by="2026-12-31", gens=("gb200", "gb300"),
        objective=objective, precision="fp64_dense",
    )


@pytest.fixture(scope="module")
def evaluated() -> dict[str, dict]:
    """``rackwright evaluate --json`` of each generation's design, by generation."""
    docs = {}
    for generation in ("gb200", "gb300"):
        result = run("evaluate", EXAMPLES / f"{generation}-nvl72.yaml", "--json")
        assert result.exit_code == 0, result.output
        docs[generation] = json.loads(result.output)["designs"][0]
    return docs


@pytest.fixture(scope="module")
def plans() -> dict[str, dict]:
    return {
        objective: plan_document(plan(load(small_pair(objective)), mip_gap=0.0))
        for objective in ("training-compute", "delivered-training-compute")
    }


def test_the_two_generations_rank_opposite_on_peak_and_delivered(evaluated):
    peak = {g: doc["compute"]["peak_pflops"]["fp64_dense"] for g, doc in evaluated.items()}
    delivered = {g: doc["delivery"][DELIVERED] for g, doc in evaluated.items()}
    assert peak["gb200"] == pytest.approx(2.88) and peak["gb300"] == pytest.approx(72 * 1.39e-3, rel=1e-2)
    assert delivered["gb300"] > delivered["gb200"] > 100


def _racks(doc: dict) -> dict[str, dict[str, int]]:
    """Racks deployed by generation and quarter (summed over sites)."""
    racks: dict[str, dict[str, int]] = {}
    for r in doc["racks"]:
        by_quarter = racks.setdefault(r["generation"], {})
        by_quarter[r["quarter"]] = by_quarter.get(r["quarter"], 0) + r["racks"]
    return racks


def test_the_delivered_objective_builds_the_other_generation(plans):
    """The line binds (65 racks a quarter of either): peak picks GB200, delivered GB300."""
    assert _racks(plans["training-compute"]) == {"gb200": {"2026Q3": 65, "2026Q4": 65}}
    assert _racks(plans["delivered-training-compute"]) == {"gb300": {"2026Q3": 65, "2026Q4": 65}}


def test_the_delivered_objective_is_delivered_flops_times_years_left_times_racks(plans, evaluated):
    doc = plans["delivered-training-compute"]
    by_hand = sum(
        evaluated[g]["delivery"][DELIVERED] / 1e3 * YEARS_LEFT[q] * n  # PFLOP/s → EFLOP/s
        for g, quarters in _racks(doc).items()
        for q, n in quarters.items()
    )
    objective = doc["objective"]
    assert objective["name"] == "delivered-training-compute" and objective["sense"] == "maximise"
    assert objective["value"] == pytest.approx(by_hand, rel=1e-6)
    assert "delivered" in objective["unit"] and "reference MoE workload (DeepSeek-V3" in objective["unit"]


@pytest.mark.parametrize("objective", ["training-compute", "delivered-training-compute"])
def test_delivered_and_peak_eflops_are_racks_times_the_per_rack_figures(plans, evaluated, objective):
    """Whatever the objective, both series: cumulative racks × per-rack figure, summed over generations."""
    doc = plans[objective]
    racks = _racks(doc)
    for key, figure in (
        ("delivered_eflops_by_quarter", lambda g: evaluated[g]["delivery"][DELIVERED]),
        ("peak_eflops_by_quarter", lambda g: evaluated[g]["compute"]["peak_pflops"]["fp64_dense"]),
    ):
        cumulative = {
            q: sum(n * figure(g) / 1e3 for g, by_q in racks.items() for p, n in by_q.items() if p <= q)
            for q in doc["quarters"]
        }
        assert doc[key] == pytest.approx(cumulative, abs=1e-3), key


def test_the_text_report_names_peak_and_delivered_compute(tmp_path, plans):
    """The quarter table's headings say which is which; at 80 columns both show (the accelerators give way)."""
    quarters, _ = _plan_tables(plans["delivered-training-compute"])
    headers = [column.header for column in quarters.columns]
    assert "Peak compute (EFLOP/s)" in headers and "Delivered on DeepSeek-V3 training (EFLOP/s)" in headers
    result = run("roadmap", "plan", write(tmp_path, small_pair("delivered-training-compute")))
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "Left out to fit 80 characters: Accelerators." in text
    assert "delivered on the reference MoE workload (DeepSeek-V3" in text


def test_a_bad_objective_exits_2_listing_the_choices(tmp_path):
    result = run("roadmap", "plan", write(tmp_path, small_pair("delivered")))
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "goal.objective" in message
    for choice in ("training-compute", "delivered-training-compute", "cost", "us-share"):
        assert f"'{choice}'" in message
    assert "Traceback" not in result.output


def test_objective_option_replaces_the_files_objective(tmp_path, plans):
    """``--objective`` plans the file for another objective: the file asks for peak, the option for delivered."""
    path = write(tmp_path, small_pair("training-compute"))
    result = run("roadmap", "plan", path, "--objective", "delivered-training-compute", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["goal"]["objective"] == doc["objective"]["name"] == "delivered-training-compute"
    assert doc["objective"]["value"] == pytest.approx(plans["delivered-training-compute"]["objective"]["value"])


def test_a_bad_objective_option_exits_2_listing_the_choices(tmp_path):
    result = run("roadmap", "plan", write(tmp_path, small_pair("cost")), "--objective", "delivered", "--json")
    assert result.exit_code == 2
    error = json.loads(result.output)["error"]
    assert error["field"] == "--objective" and error["message"] == "unknown objective 'delivered'"
    assert error["fix"] == "one of: training-compute, delivered-training-compute, cost, us-share"


def test_the_objectives_listed_are_the_goals():
    assert get_args(Goal.model_fields["objective"].annotation) == OBJECTIVES


def test_a_delivered_objective_with_nothing_delivered_is_an_input_error():
    # Every generation delivering 0 (the reference job runs on none of them) leaves the objective nothing to maximise.
    from dataclasses import replace

    from rackwright.errors import InputError
    from rackwright.roadmap.inputs import rack_figures

    loaded = load(small_pair("delivered-training-compute"))
    figures = rack_figures(loaded)
    with pytest.raises(InputError) as caught:
        plan(loaded, replace(figures, delivered_flops=0.0 * figures.delivered_flops))
    assert "no generation delivers anything" in str(caught.value) and "training-compute" in str(caught.value)
