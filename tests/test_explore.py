"""Design-space exploration: Pareto filter, hand-checked objectives, exports, sampling, bad input."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

import rackwright
from rackwright.errors import InputError
from rackwright.explore import explore, load_space
from rackwright.explore.evaluate import evaluate_points, tokens_per_s_per_accelerator
from rackwright.explore.pareto import pareto_mask
from rackwright.rack.bom import bom_lines
from rackwright.rack.chain import resolve
from rackwright.rack.design import load_design
from rackwright.report.jsonout import public_figure
from test_cli import junk, mutate, paths_of, run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SMALL = EXAMPLES / "space-gb300-small.yaml"
yaml = YAML(typ="safe")

TINY = {
    "name": "tiny",
    "base": "gb300-nvl72.yaml",
    "axes": [{"path": "parts.accelerator.power", "values": ["1200 W", "1400 W"]},
             {"path": "slots[compute-upper].count", "values": [8, 10]}],
    "constraints": {"limits": [{"figure": "power.input_kw", "max": 140}]},
    "objectives": [{"figure": "cost.usd_per_pflop.bf16_dense", "goal": "min"},
                   {"figure": "power.input_kw", "goal": "min"}],
    "sensitivity": {"samples": 0},
}


def write_space(folder: Path, doc: dict, name: str = "space.yaml") -> Path:
    """A space file next to copies of the example designs (its ``base`` is relative)."""
    for file in ("gb200-nvl72.yaml", "gb300-nvl72.yaml"):
        (folder / file).write_text((EXAMPLES / file).read_text())
    path = folder / name
    with path.open("w") as handle:
        YAML().dump(doc, handle)
    return path


def brute_force_front(points: np.ndarray) -> np.ndarray:
    """The definition, every pair compared: a row is on the front when no other row is ≤ everywhere and
    < somewhere (rows with NaN take no part)."""
    finite = np.all(np.isfinite(points), axis=1)
    candidates = points[finite]
    keep = finite.copy()
    for start in range(0, len(points), 256):
        rows = points[start:start + 256]
        le = np.all(candidates[None, :, :] <= rows[:, None, :], axis=2)
        lt = np.any(candidates[None, :, :] < rows[:, None, :], axis=2)
        keep[start:start + 256] &= ~np.any(le & lt, axis=1)
    return keep


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(0, 300), k=st.integers(1, 4), levels=st.sampled_from([3, 20, 0]))
def test_pareto_filter_matches_brute_force(seed, n, k, levels):
    rng = np.random.default_rng(seed)
    points = rng.integers(0, levels, (n, k)).astype(float) if levels else rng.random((n, k))  # ties when discrete
    if n:
        points[rng.random(n) < 0.05, 0] = np.nan
    assert np.array_equal(pareto_mask(points), brute_force_front(points))


def test_pareto_filter_across_blocks():
    """More points than one block (4,096): fronts found in earlier blocks must prune later ones."""
    rng = np.random.default_rng(7)
    points = np.vstack([rng.integers(0, 60, (4000, 3)), rng.integers(0, 200, (1000, 3))]).astype(float)
    assert np.array_equal(pareto_mask(points), brute_force_front(points))


def test_small_space_grid_counts_and_hand_checked_objectives():
    result = explore(SMALL, sensitivity=False)
    assert result.designs_evaluated == 4 * 3 * 2 * 2 * 5 * 2  # the product of the axis sizes
    columns = result.columns
    # THM005: the in-row CDU (Vertiv CoolChip 1350) is rated for facility water up to 32 degC (catalog, an
    # ASHRAE W32 assumption); W40, W45 and 48 degC break it, W17 and W32 do not: 3 of 5 values -> 60 % of the designs.
    assert result.failed()["THM005"] == result.designs_evaluated * 3 // 5
    # MEC006: the 800 VDC variant's 3 OU Open Rack DC-DC shelves do not fit the MGX rack's EIA rails: half the designs.
    assert result.failed()["MEC006"] == result.designs_evaluated // 2
    feasible = columns["feasible"]
    assert np.array_equal(feasible, ~columns["fails.THM005"] & ~columns["fails.MEC006"]
                          & ~columns["fails.power.input_kw<=140"])
    # cost per PFLOP by hand: BOM / (accelerators x 2.5 PFLOP/s dense BF16 per B300, catalog) at the base design
    base = rackwright.evaluate(EXAMPLES / "gb300-nvl72.yaml")
    row = _row(result, {"parts.accelerator.power": "1400 W", "slots[compute-upper].count": "10",
                        "power architecture": "orv3-48v", "cooling.fluid": "pg25", "cooling.facility_supply": "W32",
                        "sourcing.power.origin": "catalog"})
    peak_pflops = base.figures["compute.accelerators"] * 2.5
    assert base.figures["compute.accelerators"] == 72
    assert columns["cost.usd_per_pflop.bf16_dense"][row] == pytest.approx(base.figures["cost.bom"] / peak_pflops, rel=1e-3)


def test_us_power_sourcing_matches_the_bill_of_materials_by_hand():
    """US power parts at +15 %: cost rises by 15 % of the power lines; US content = US cost / total cost."""
    result = explore(SMALL, sensitivity=False)
    axes = {"parts.accelerator.power": "1400 W", "slots[compute-upper].count": "10", "power architecture": "orv3-48v",
            "cooling.fluid": "pg25", "cooling.facility_supply": "W32"}
    catalog_row = _row(result, {**axes, "sourcing.power.origin": "catalog"})
    us_row = _row(result, {**axes, "sourcing.power.origin": "US"})
    lines = bom_lines(resolve(load_design(EXAMPLES / "gb300-nvl72.yaml")))  # own-value rule, as domestic_share
    total = sum(line.extended_usd for line in lines)
    power = sum(line.extended_usd for line in lines if line.category == "power")
    us_other = sum(line.extended_usd for line in lines if line.category != "power" and line.us_made)
    peak = 72 * 2.5
    assert result.columns["cost.usd_per_pflop.bf16_dense"][us_row] == pytest.approx((total + 0.15 * power) / peak, rel=1e-9)
    assert result.columns["sourcing.domestic_share"][us_row] == pytest.approx(
        (us_other + 1.15 * power) / (total + 0.15 * power), rel=1e-9)
    assert result.columns["sourcing.domestic_share"][catalog_row] == pytest.approx(us_other / total, rel=1e-9)


def _row(result, labels: dict) -> int:
    """Row position of the design with these axis labels."""
    mask = np.ones(result.designs_evaluated, bool)
    for axis in result.space.axes:
        if axis.name in labels:
            mask &= result.columns[axis.name] == axis.labels.index(labels[axis.name])
    (rows,) = np.nonzero(mask)
    assert len(rows) == 1
    return int(rows[0])


def test_slot_counts_that_overlap_the_next_slot_are_infeasible():
    """GB300: compute-lower starts at U16 (8 x 1U trays end at U23), the NVLink switches start at U24.
    A ninth lower tray overlaps them (MEC005); fewer trays leave a gap and pass."""
    batch = rackwright.evaluate_batch(EXAMPLES / "gb300-nvl72.yaml", {"slots[compute-lower].count": np.array([6.0, 8.0, 9.0])})
    assert batch.broken["MEC005"].tolist() == [False, False, True]
    assert batch.feasible.tolist() == [True, True, False]


def test_exported_pareto_designs_reevaluate_to_their_objectives(tmp_path):
    out = tmp_path / "run"
    result = run("explore", SMALL, "-o", out, "--export-pareto", tmp_path / "pareto", "--json", "--no-sensitivity")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"schema_version", "designs_evaluated", "designs_feasible", "pareto", "failed"} <= set(doc)
    assert (out / "results.parquet").exists()
    page = (out / "report.html").read_text()
    assert all(title in page for title in ("Pareto front", "parcoords", "Feasibility", "THM005"))
    assert (out / "explore.json").read_text() == result.stdout  # the machine file is the --json document
    assert not (out / "pareto.json").exists()
    exported = sorted((tmp_path / "pareto").glob("pareto-*.yaml"))
    assert len(exported) == len(doc["pareto"]) > 0
    for path, point in zip(exported, doc["pareto"]):
        report = rackwright.evaluate(path)
        assert not report.errors and report.lineage[-1] == str(path)
        flat = report.flat()
        flat["cost.usd_per_pflop.bf16_dense"] = flat["cost.bom_usd"] / flat["compute.peak_pflops.bf16_dense"]
        figures = {public_figure(k)[0]: v * public_figure(k)[1] for k, v in flat.items()}  # evaluate --json's names
        for key, value in ((o["figure"], o["value"]) for o in point["objectives"]):
            assert figures[key] == pytest.approx(value, rel=1e-12), (path, key)


def test_results_parquet_has_one_row_per_design(tmp_path):
    import polars as pl

    assert run("explore", write_space(tmp_path, TINY), "-o", tmp_path / "run").exit_code == 0
    frame = pl.read_parquet(tmp_path / "run" / "results.parquet")
    assert frame.height == 4 and frame["design"].to_list() == [0, 1, 2, 3]
    assert frame["parts.accelerator.power"].to_list() == ["1200 W", "1200 W", "1400 W", "1400 W"]
    assert {"feasible", "pareto", "fails.power.input_kw<=140", "fails.PWR001"} <= set(frame.columns)
    # 10 upper trays at 1.4 kW: the base rack, 137.7 kW input (within 140 kW); all four designs are feasible
    assert frame["feasible"].all()


def test_training_throughput_objective_matches_the_perf_model():
    """tokens/s per MW x rack MW x racks in 100 MW x training days = the 15T tokens of the reference workload."""
    from rackwright.perf.api import rack_delivery

    space_doc = {**TINY, "objectives": [{"figure": "perf.training_tokens_per_s_per_mw", "goal": "max"}]}
    space_doc["axes"] = [{"path": "parts.accelerator.power", "values": ["1400 W"]}]
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        space = load_space(write_space(Path(folder), space_doc))
        columns = evaluate_points(space, np.zeros((1, 1)))
    delivery = rack_delivery(EXAMPLES / "gb300-nvl72.yaml")
    rack_mw = rackwright.evaluate(EXAMPLES / "gb300-nvl72.yaml").figures["power.input"] / 1e6
    tokens = (columns["perf.training_tokens_per_s_per_mw"][0] * rack_mw * delivery["racks_per_100_mw"]
              * delivery["training_days_llama3_405b_15t_100_mw"] * 86400.0)
    assert tokens == pytest.approx(15e12, rel=1e-9)
    assert tokens_per_s_per_accelerator.cache_info().currsize >= 1


def test_training_objectives_take_the_moe_reference(tmp_path):
    """``reference: moe`` scores the training figures on DeepSeek-V3 with the per-rack rate of evaluate's delivery
    figures: per MW r · a / P (tokens/s per rack / rack MW), per USD r · a / BOM over the BOM evaluate prints for the
    rack (``Bill of materials``: USD 3,791,425 for the GB300 example, its 1.4 kW accelerators); dense stays the
    default; elsewhere it is refused."""
    from rackwright.perf.api import rack_delivery

    objectives = [{"figure": f"perf.training_tokens_per_s_per_{per}", "goal": "max", "reference": "moe"}
                  for per in ("mw", "usd")]
    space_doc = {**TINY, "objectives": objectives, "axes": [{"path": "parts.accelerator.power", "values": ["1400 W"]}]}
    space = load_space(write_space(tmp_path, space_doc))
    assert space.training_reference == "moe"
    columns = evaluate_points(space, np.zeros((1, 1)))
    delivery = rack_delivery(EXAMPLES / "gb300-nvl72.yaml")
    rack = rackwright.evaluate(EXAMPLES / "gb300-nvl72.yaml")
    per_rack = columns["perf.training_tokens_per_s_per_mw"][0] * rack.figures["power.input"] / 1e6
    assert per_rack == pytest.approx(delivery["training_tokens_per_s_per_rack_deepseek_v3"], rel=1e-9)
    bom = 3_791_425.0
    assert rack.figures["cost.bom"] == bom
    per_usd = columns["perf.training_tokens_per_s_per_usd"][0]
    assert per_usd == pytest.approx(delivery["training_tokens_per_s_per_rack_deepseek_v3"] / bom, rel=1e-9)
    assert per_usd == pytest.approx(delivery["training_tokens_per_s_per_usd_deepseek_v3"], rel=1e-9)
    dense = {**space_doc, "objectives": [{"figure": "perf.training_tokens_per_s_per_usd", "goal": "max"}]}
    assert load_space(write_space(tmp_path, dense, "dense.yaml")).training_reference == "dense"
    wrong = {**space_doc, "objectives": [{"figure": "power.input_kw", "goal": "min", "reference": "moe"}]}
    assert "reference applies" in error_of(tmp_path, wrong)


def test_sampling_methods_and_continuous_axes(tmp_path):
    doc = copy.deepcopy(TINY)
    doc["axes"][0] = {"path": "parts.accelerator.power", "distribution": {"uniform": ["1.0 kW", "1.4 kW"]}}
    doc["sampling"] = {"method": "lhs", "samples": 200, "seed": 3}
    lhs = explore(write_space(tmp_path, doc, "lhs.yaml"), sensitivity=False)
    assert lhs.designs_evaluated == 200
    power = lhs.columns["parts.accelerator.power"]
    assert power.min() >= 1000.0 and power.max() <= 1400.0
    # Latin hypercube: exactly one sample in each of the 200 equal strata of the continuous axis
    assert np.array_equal(np.sort(((power - 1000.0) / 400.0 * 200).astype(int)), np.arange(200))
    again = explore(write_space(tmp_path, doc, "lhs.yaml"), sensitivity=False)
    assert np.array_equal(power, again.columns["parts.accelerator.power"])  # seeded: reproducible
    doc["sampling"] = {"method": "sobol", "samples": 100}
    assert explore(write_space(tmp_path, doc, "sobol.yaml"), sensitivity=False).designs_evaluated == 128  # 2^7


def test_nsga2_returns_a_feasible_nondominated_front(tmp_path):
    doc = copy.deepcopy(TINY)
    doc["axes"][0] = {"path": "parts.accelerator.power", "distribution": {"uniform": ["1.0 kW", "1.4 kW"]}}
    doc["sampling"] = {"method": "nsga2", "population": 8, "generations": 3, "seed": 1}
    result = explore(write_space(tmp_path, doc), sensitivity=False)
    assert result.designs_evaluated == 8 * 3
    front = result.front
    assert len(front) and result.columns["feasible"][front].all()
    objectives = np.column_stack([result.columns[o.figure][front] for o in result.space.spec.objectives])
    assert brute_force_front(objectives).all()


def test_sensitivity_ranks_the_axes():
    result = explore(SMALL)
    indices = result.sensitivity
    # the price per PFLOP does not depend on accelerator power, facility water or coolant (no term in the model)
    for axis in ("parts.accelerator.power", "cooling.facility_supply", "cooling.fluid"):
        assert indices["cost.usd_per_pflop.bf16_dense"][axis]["total"] == pytest.approx(0.0, abs=1e-12)
    share = indices["sourcing.domestic_share"]
    assert max(share, key=lambda a: share[a]["total"]) == "sourcing.power.origin"


def test_local_and_ray_backends_give_identical_results():
    ray = pytest.importorskip("ray")
    local = explore(SMALL, sensitivity=False, chunk=64)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        distributed = explore(SMALL, backend="ray", sensitivity=False, chunk=64)
    finally:
        ray.shutdown()
    assert local.columns.keys() == distributed.columns.keys()
    for key, value in local.columns.items():
        assert np.array_equal(value, distributed.columns[key], equal_nan=True), key
    assert np.array_equal(local.front, distributed.front)


# --- bad input ------------------------------------------------------------------------------------------

def error_of(tmp_path, doc) -> str:
    result = run("explore", write_space(tmp_path, doc), "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_unknown_path_suggests_the_right_one(tmp_path):
    doc = copy.deepcopy(TINY)
    doc["axes"][0]["path"] = "parts.accelerator.powr"
    assert "did you mean parts.accelerator.power" in error_of(tmp_path, doc)
    doc["axes"][0]["path"] = "power.architectur"
    message = error_of(tmp_path, doc)
    assert "axes[0].path" in message and "power.architecture" in message


def test_empty_range_and_unknown_figure(tmp_path):
    doc = copy.deepcopy(TINY)
    doc["axes"][0] = {"path": "parts.accelerator.power", "range": {"start": "1400 W", "stop": "1000 W", "step": "10 W"}}
    assert "empty range" in error_of(tmp_path, doc)
    doc = copy.deepcopy(TINY)
    doc["objectives"][0]["figure"] = "power.input_kW"
    message = error_of(tmp_path, doc)
    assert "objectives[0].figure" in message and "did you mean power.input_kw" in message


def test_more_bad_input(tmp_path):
    doc = copy.deepcopy(TINY)
    doc["axes"][0] = {"path": "parts.accelerator.power", "distribution": {"uniform": ["1 kW", "2 kW"]}}
    assert "cannot be gridded" in error_of(tmp_path, doc)
    doc = copy.deepcopy(TINY)
    doc["axes"][0]["values"] = ["1200 kg"]
    assert "power" in error_of(tmp_path, doc)
    doc = copy.deepcopy(TINY)
    doc["axes"].append({"path": "network.links[scale-out-optics].part", "values": ["no-such-part"]})
    assert "no-such-part" in error_of(tmp_path, doc)
    doc = copy.deepcopy(TINY)
    doc["axes"].append({"path": "slots[compute-lower].part", "values": ["nvidia-gb200-compute-tray"]})
    doc["objectives"] = [{"figure": "perf.training_tokens_per_s_per_mw", "goal": "max"}]
    assert "exactly one accelerator part" in error_of(tmp_path, doc)  # B200 and B300 trays in one rack
    doc = copy.deepcopy(TINY)
    doc["axes"][1]["values"] = [8, 9.5]
    assert "whole numbers" in error_of(tmp_path, doc)
    doc = copy.deepcopy(TINY)
    doc["base"] = "missing.yaml"
    assert "base design" in error_of(tmp_path, doc)
    assert run("explore", write_space(tmp_path, TINY), "--backend", "spark").exit_code == 2
    with pytest.raises(InputError):
        load_space(tmp_path / "nothing-here.yaml")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_space_files_never_crash_the_cli(tmp_path, data):
    mutated = TINY
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(paths_of(mutated))))
        mutated = mutate(mutated, path, data.draw(st.sampled_from(["delete", "replace", "add"])), data.draw(junk))
    result = run("explore", write_space(tmp_path, mutated, "fuzz.yaml"), "-o", tmp_path / "out", "--no-sensitivity")
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.stderr.startswith("error:")


def test_benchmark_runs_on_tiny_inputs(capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_explore", ROOT / "benchmarks" / "bench_explore.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--space", str(SMALL), "--loop", "3", "--training-samples", "64", "--no-ray"])
    assert result["designs_per_s"] > 0 and result["loop_per_s"] > 0 and math.isfinite(result["ratio"])
    assert "ratio" in capsys.readouterr().out


def test_terminal_front_lists_each_objective_point_once(tmp_path):
    """The 24 Pareto designs of the small space are 6 objective points of 4 designs each (pg25 or water, W17 or
    W32 facility water: neither moves cost, US content or input power, and both pass THM005), listed once each
    with their count, the rules that ruled designs out by code and name."""
    result = run("explore", SMALL, "-o", tmp_path / "run", "--no-sensitivity")
    assert result.exit_code == 0, result.output
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in result.stdout.splitlines() if line.startswith("│")]
    points = [row for row in rows if row[0]]  # a point's first line; the axes continue on the lines below
    assert [row[0] for row in points] == ["4"] * 6 and points[0][4] == "#20"  # the first of its 4 designs
    objectives = [tuple(row[1:4]) for row in points]
    assert len(set(objectives)) == len(objectives) == 6  # no two rows alike
    assert "24 on the Pareto front as 6 distinct objective points" in " ".join(result.stdout.split())
    assert "THM005 (the facility water is warmer than the CDU accepts) 288" in " ".join(result.stdout.split())


def test_explore_json_is_the_document_without_timings(tmp_path):
    result = run("explore", SMALL, "-o", tmp_path / "run", "--no-sensitivity")
    doc = json.loads((tmp_path / "run" / "explore.json").read_text())
    assert doc["schema_version"] == 2 and doc["command"] == "explore"
    assert "evaluations_per_s" not in json.dumps(doc) and "/s)" in result.stdout  # the rate: terminal only
    failed = {r["code"]: r for r in doc["failed"]}
    assert failed["THM005"] == {"code": "THM005", "name": "the facility water is warmer than the CDU accepts",
                                "count": 288}  # 3 of 5 facility waters (W40, W45, 48 °C) x 480 / 5
    assert failed["power.input_kw<=140"]["name"] == "limit: Rack input power (kW) ≤ 140"
    assert [o["figure"] for o in doc["objectives"]] == [
        "cost.usd_per_pflop.bf16_dense", "sourcing.us_content_share", "power.input_kw"]  # evaluate --json's names
    assert all(isinstance(axis, dict) and "name" in axis for axis in doc["axes"])


def test_space_files_may_name_figures_as_evaluate_json_does(tmp_path):
    """``sourcing.us_content_share`` and ``compute.hbm_bytes`` (evaluate --json's names) are the figures
    ``sourcing.domestic_share`` and ``compute.hbm_tb``; a limit in bytes is a limit in TB. GB300 HBM is 279 GB
    usable per GPU: 8 upper trays (64 GPUs) give 17.856 TB, under an 18e12-byte minimum; 10 (72) give 20.088 TB."""
    public = {**TINY, "constraints": {"limits": [{"figure": "compute.hbm_bytes", "min": 18e12}]},
              "objectives": [{"figure": "sourcing.us_content_share", "goal": "max"},
                             {"figure": "compute.hbm_bytes", "goal": "max"}]}
    space = load_space(write_space(tmp_path, public))
    assert [o.figure for o in space.spec.objectives] == ["sourcing.domestic_share", "compute.hbm_tb"]
    assert space.spec.constraints.limits[0].figure == "compute.hbm_tb"
    assert space.spec.constraints.limits[0].min == pytest.approx(18.0)
    result = explore(write_space(tmp_path, public), sensitivity=False)
    assert result.columns["feasible"].tolist() == [False, True, False, True]  # upper trays 8, 10, 8, 10
    doc = json.loads(run("explore", write_space(tmp_path, public), "-o", tmp_path / "run", "--json").stdout)
    assert [o["figure"] for o in doc["objectives"]] == ["sourcing.us_content_share", "compute.hbm_bytes"]
    assert doc["pareto"][0]["objectives"][1] == {"figure": "compute.hbm_bytes", "value": 72 * 279e9}
