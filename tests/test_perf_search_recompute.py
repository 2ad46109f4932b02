"""The search's selective-recompute module sets: which sets it crosses, the sets it leaves out where recompute is
not needed, and the rows that name them (issue 18)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.errors import InputError
from rackwright.perf.api import search_report
from rackwright.perf.memory import RECOMPUTE_MODULES
from rackwright.perf.search import FIELDS, candidate_grid, recompute_variants, search, with_recompute
from rackwright.perf.system import load_system
from rackwright.perf.training import RECOMPUTE, Parallelism, train_step
from rackwright.perf.workload import load_model

H100 = load_system("dgx-h100-ndr")
LLAMA70 = load_model("llama3-70b")


def _sets(model, modules=None) -> list[set]:
    return [
        {m for m, bit in RECOMPUTE_MODULES.items() if mask & bit}
        for code, mask in recompute_variants(model, modules)
        if code == RECOMPUTE["selective"]
    ]


def test_sets_follow_the_model():
    # Written out by hand: core_attn alone, then every non-empty set of the modules the model has (core_attn never
    # added: flash attention stores no scores; moe only on request, never with moe_act).
    dense = [{"core_attn"}, {"layernorm"}, {"mlp"}, {"layernorm", "mlp"}]
    assert _sets(LLAMA70) == dense
    mixtral = load_model("mixtral-8x7b")  # every layer MoE: no dense MLP, no MLA
    assert _sets(mixtral) == [{"core_attn"}, {"layernorm"}, {"moe_act"}, {"layernorm", "moe_act"}]
    with_moe = sum(RECOMPUTE_MODULES.values())
    assert _sets(mixtral, with_moe) == [
        {"core_attn"},
        {"layernorm"},
        {"moe_act"},
        {"moe"},
        {"layernorm", "moe_act"},
        {"layernorm", "moe"},
    ]
    deepseek = _sets(load_model("deepseek-v3"))  # dense first layers, MoE and MLA: 1 + 2^4 - 1 sets
    assert len(deepseek) == 16 and {"layernorm", "mlp", "moe_act", "mla_up_proj"} in deepseek
    assert recompute_variants(LLAMA70)[0] == (RECOMPUTE["none"], 0)
    assert recompute_variants(LLAMA70)[-1] == (RECOMPUTE["full"], 0)
    assert _sets(LLAMA70, RECOMPUTE_MODULES["core_attn"]) == [{"core_attn"}]  # the grid before module sets
    with pytest.raises(InputError):
        recompute_variants(mixtral, RECOMPUTE_MODULES["mlp"])  # no dense layer for mlp to rebuild


def _exhaustive(model, accelerators, batch):
    """Every configuration of the grid through train_step, module sets included (no pruning)."""
    grid, variants, _ = candidate_grid(model, accelerators, batch, model.seq_len)
    grid = with_recompute(grid, variants)
    system = H100.with_accelerators(accelerators)
    return grid, train_step(model, system, Parallelism(**{k: grid[k] for k in FIELDS}), batch)


def test_module_sets_never_beat_no_recompute_nor_undercut_full_recompute():
    # The rule that lets the search skip a module set where the configuration fits without recompute (or does not
    # fit with full recompute), checked on a whole grid: every set is at least as slow as its configuration without
    # recompute and needs at least the memory of full recompute.
    grid, metrics = _exhaustive(LLAMA70, 32, 64)
    blocks = len(recompute_variants(LLAMA70))
    time = metrics["step_time_s"].reshape(blocks, -1)
    memory = metrics["memory_bytes"].reshape(blocks, -1)
    codes = grid["recompute"].reshape(blocks, -1)[:, 0]
    none, full = list(codes).index(RECOMPUTE["none"]), list(codes).index(RECOMPUTE["full"])
    assert np.all(time >= time[none] * (1 - 1e-12))
    assert np.all(memory >= memory[full] * (1 - 1e-12))


def test_search_finds_the_exhaustive_best_and_a_module_set_wins_where_memory_is_tight():
    # Llama 3 70B on 32 H100 with 64 sequences: the fastest configuration that fits recomputes the layer norms only,
    # faster than anything the grid of core_attn alone offers.
    grid, metrics = _exhaustive(LLAMA70, 32, 64)
    best = float(metrics["step_time_s"][metrics["fits"]].min())
    result = search(LLAMA70, H100, 32, 64)
    top = result.order()[0]
    assert float(result.metrics["step_time_s"][top]) == pytest.approx(best, rel=1e-12)
    row = result.parallelism(top)
    assert row["recompute"] == "selective" and row["recompute_modules"] == ["layernorm"]
    assert result.dominated > 0 and result.valid + result.dominated == grid["tp"].size
    old = search(LLAMA70, H100, 32, 64, recompute_modules=RECOMPUTE_MODULES["core_attn"])
    assert float(old.metrics["step_time_s"][old.order()[0]]) > best
    # The pick evaluated on its own gives the array pass's step time.
    alone = train_step(
        LLAMA70, H100.with_accelerators(32), Parallelism(**{k: result.configurations[k][top] for k in FIELDS}), 64
    )
    assert float(alone["step_time_s"]) == pytest.approx(float(result.metrics["step_time_s"][top]), rel=1e-12)


def test_rows_name_their_modules_and_the_option_restricts_them():
    kw = dict(accelerators=32, global_batch=64, top=200)
    doc = search_report("llama3-70b", "dgx-h100-ndr", **kw)
    named = {tuple(r["recompute_modules"]) for r in doc["top"] if r["recompute"] == "selective"}
    assert ("layernorm",) in named
    assert all(r["recompute_modules"] == [] for r in doc["top"] if r["recompute"] != "selective")
    only = search_report("llama3-70b", "dgx-h100-ndr", recompute_modules="mlp", **kw)
    assert {tuple(r["recompute_modules"]) for r in only["top"] if r["recompute"] == "selective"} <= {("mlp",)}
    for bad in ("moe_act", "nothing", ""):
        with pytest.raises(InputError):
            search_report("llama3-70b", "dgx-h100-ndr", recompute_modules=bad, **kw)


def test_cli_shows_the_modules():
    runner = CliRunner()
    args = ["perf", "search", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--accelerators", "32"]
    args += ["--global-batch", "64", "--top", "3"]
    table = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "selective (layernorm)" in table.stdout
    doc = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert doc["best"]["recompute_modules"] == ["layernorm"]


def test_only_module_sets_are_all_evaluated():
    # With selective recompute alone and no core_attn there is no plain variant to skip against: every set is evaluated.
    doc = search_report(
        "llama3-8b",
        "dgx-h100-ndr",
        accelerators=16,
        global_batch=64,
        restrict=["recompute=selective"],
        recompute_modules="mlp,layernorm",
        top=10_000,
    )
    assert doc["configurations_dominated"] == 0 and doc["configurations_fitting"] > 0
    assert {tuple(r["recompute_modules"]) for r in doc["top"]} == {("layernorm",), ("mlp",), ("layernorm", "mlp")}
