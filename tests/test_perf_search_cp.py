"""The search crosses context parallelism's K,V exchange (``cp_comm_type`` p2p and all_gather) where CP > 1 (issue 18):
the row count by hand, the best against an exhaustive evaluation of both types, and the choice against train_step."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.errors import InputError
from rackwright.perf.api import search_report
from rackwright.perf.search import FIELDS, candidate_grid, search, with_recompute
from rackwright.perf.system import load_system
from rackwright.perf.training import CP_COMM_TYPES, RECOMPUTE, Parallelism, train_step
from rackwright.perf.workload import load_model

H100 = load_system("dgx-h100-ndr")
LLAMA8 = load_model("llama3-8b")  # GQA: 32 query heads, 8 K,V heads
LLAMA70 = load_model("llama3-70b")  # GQA: 64 query heads, 8 K,V heads
P2P, GATHER = CP_COMM_TYPES["p2p"], CP_COMM_TYPES["all_gather"]
# 8 accelerators, TP 1 or 2, CP 1 or 2, no pipeline, micro-batch 1, DDP, no recompute: DP = 8 / (TP·CP) divides the
# global batch of 8 everywhere, so the grid's degrees are (TP, CP) = (1, 1), (2, 1), (1, 2), (2, 2).
SMALL = {"tp": (1, 2), "pp": (1,), "vp": (1,), "cp": (1, 2), "micro_batch": (1,), "sharding": (0,), "recompute": (0,)}


def test_rows_by_hand():
    grid, variants, evaluated = candidate_grid(LLAMA8, 8, 8, 8192, restrict=SMALL)
    assert variants == [(RECOMPUTE["none"], 0)]
    # 2 rows with CP = 1 (p2p alone) + 2 × 2 rows with CP = 2 (p2p and all_gather) = 6
    assert grid["tp"].size == 2 + 2 * 2
    rows = sorted(zip(grid["tp"].tolist(), grid["cp"].tolist(), grid["cp_comm_type"].tolist(), strict=True))
    assert rows == [(1, 1, P2P), (1, 2, P2P), (1, 2, GATHER), (2, 1, P2P), (2, 2, P2P), (2, 2, GATHER)]
    # grid points: TP 2 × (CP 1 + CP 2 × 2 types) × even/uneven stages 2 × schedules 2 (1F1B, DualPipe) = 24
    assert evaluated == 2 * 3 * 2 * 2
    assert search(LLAMA8, H100, 8, 8, 8192, restrict=SMALL).valid == 6
    only = candidate_grid(LLAMA8, 8, 8, 8192, restrict=SMALL, cp_comm_types=(GATHER,))[0]
    assert sorted(zip(only["cp"].tolist(), only["cp_comm_type"].tolist(), strict=True)) == [
        (1, P2P),
        (1, P2P),
        (2, GATHER),
        (2, GATHER),
    ]  # CP = 1 keeps p2p: there is no exchange to choose


def _exhaustive_best(model, accelerators, batch, seq, codes=(P2P, GATHER)) -> float:
    """The fastest fitting step over the whole p2p grid with every recompute variant, each configuration with CP > 1
    through train_step once per exchange type of ``codes`` (no crossing, no pruning)."""
    grid, variants, _ = candidate_grid(model, accelerators, batch, seq, cp_comm_types=(P2P,))
    grid = with_recompute(grid, variants)
    system = H100.with_accelerators(accelerators)
    best = np.inf
    for code in codes:
        rows = np.flatnonzero(grid["cp"] > 1) if code == GATHER else np.arange(grid["tp"].size)
        fields = {k: grid[k][rows] for k in FIELDS} | {"cp_comm_type": np.full(rows.size, code)}
        out = train_step(model, system, Parallelism(**fields), batch, seq)
        best = min(best, float(np.min(out["step_time_s"][out["fits"]], initial=np.inf)))
    return best


def test_best_equals_exhaustive_over_both_types():
    result = search(LLAMA8, H100, 64, 128, 32768)
    best = result.order()[0]
    assert result.metrics["step_time_s"][best] == pytest.approx(_exhaustive_best(LLAMA8, 64, 128, 32768), rel=1e-12)
    # here the crossing decides: the best runs all_gather, faster than any p2p configuration
    assert result.configurations["cp_comm_type"][best] == GATHER
    assert result.metrics["step_time_s"][best] < _exhaustive_best(LLAMA8, 64, 128, 32768, (P2P,))


@pytest.mark.parametrize(
    ("model", "seq", "tp", "cp", "accelerators"),
    [
        (LLAMA8, 32768, 4, 16, 64),  # 16 CP ranks with 8 K,V heads split 4 ways: the all-gather is small
        (LLAMA70, 131072, 8, 8, 64),  # TP 8 leaves one K,V head per rank and the ring hides behind attention
    ],
)
def test_choice_follows_train_step(model, seq, tp, cp, accelerators):
    """At long sequence with GQA the search picks the exchange train_step says is faster for one configuration."""
    dp = accelerators // (tp * cp)
    fixed = {"tp": (tp,), "pp": (1,), "vp": (1,), "cp": (cp,), "micro_batch": (1,), "recompute": (2,)}
    restrict = fixed | {"sharding": (3,)}  # FSDP, full recompute: both fit
    system = H100.with_accelerators(accelerators)
    steps = {
        code: float(
            train_step(
                model,
                system,
                Parallelism(tp=tp, pp=1, dp=dp, cp=cp, micro_batch=1, recompute=2, fsdp=1, cp_comm_type=code),
                2 * dp,
                seq,
            )["step_time_s"]
        )
        for code in (P2P, GATHER)
    }
    result = search(model, H100, accelerators, 2 * dp, seq, restrict=restrict)
    assert result.valid == 2 and result.metrics["fits"].all()
    best = result.order()[0]
    assert result.configurations["cp_comm_type"][best] == min(steps, key=steps.get)
    assert result.metrics["step_time_s"][best] == pytest.approx(min(steps.values()), rel=1e-12)


def test_rows_name_the_exchange_and_the_option_restricts_it():
    args = dict(accelerators=64, global_batch=16, seq_len=32768, top=50)
    restrict = ["tp=4", "pp=1", "cp=1,16", "micro_batch=1", "recompute=full", "sharding=fsdp"]
    doc = search_report("llama3-8b", "dgx-h100-ndr", restrict=restrict, **args)
    seen = {(row["cp"], row["cp_comm_type"]) for row in doc["top"]}
    assert seen == {(1, "p2p"), (16, "p2p"), (16, "all_gather")}
    gathered = search_report("llama3-8b", "dgx-h100-ndr", restrict=restrict, cp_comm_type="all_gather", **args)
    assert {(row["cp"], row["cp_comm_type"]) for row in gathered["top"]} == {(1, "p2p"), (16, "all_gather")}
    with pytest.raises(InputError):
        search_report("llama3-8b", "dgx-h100-ndr", restrict=restrict, cp_comm_type="ring", **args)
    cli = ["perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64"]
    cli += ["--global-batch", "16", "--seq-len", "32768", *(x for r in restrict for x in ("--restrict", r))]
    out = CliRunner().invoke(app, [*cli, "--cp-comm-type", "p2p", "--json"])
    assert out.exit_code == 0, out.output
    assert {row["cp_comm_type"] for row in json.loads(out.stdout)["top"]} == {"p2p"}
    table = CliRunner().invoke(app, [*cli, "--top", "3"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "CP comm" in table.output
    bad = CliRunner().invoke(app, [*cli, "--cp-comm-type", "p2p,ring"])
    assert bad.exit_code == 2
