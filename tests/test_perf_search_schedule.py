"""The search's pipeline schedule and optimizer moments (issue 18): DualPipe crossed wherever ``perf train`` accepts
it (an even PP, VP = 1, an even number of micro-batches, at least 2·PP: api._check_dualpipe), BF16 moments only when
a restriction asks for them, both named in each row and restricted by name."""

import json

import pytest

from rackwright.errors import InputError
from rackwright.perf.api import search_report, train_report
from rackwright.perf.search import OPTIMIZER_MOMENTS, candidate_grid, search
from rackwright.perf.stages import PP_SCHEDULES
from rackwright.perf.system import load_system
from rackwright.perf.workload import load_model
from test_cli import run

H100 = load_system("dgx-h100-ndr")
LLAMA8 = load_model("llama3-8b")  # 32 layers, 32 heads
ONE_F_ONE_B, DUALPIPE = PP_SCHEDULES["1f1b"], PP_SCHEDULES["dualpipe"]
FP32, BF16 = OPTIMIZER_MOMENTS.index("fp32"), OPTIMIZER_MOMENTS.index("bf16")
#: Llama 3 8B's parameters, by hand: 32 layers of attention (2 · 4096² for Q and O, 2 · 4096 · 1024 for K and V with
#: 8 K,V heads of 128) and SwiGLU MLP (3 · 4096 · 14336), plus the untied embedding and output layer (2 · 128256 ·
#: 4096); the model counts no norm weights.
LLAMA8_PARAMS = 32 * (2 * 4096**2 + 2 * 4096 * 1024 + 3 * 4096 * 14336) + 2 * 128256 * 4096


def _rows(grid: dict, *names: str) -> set[tuple]:
    return set(zip(*(grid[name].tolist() for name in names), strict=True))


def test_dualpipe_rows_by_hand():
    # 16 accelerators, a global batch of 48, TP = CP = 1, even stages, DDP: PP 1, 2, 4, 8, 16 with DP = 16 / PP.
    # Micro-batches per step 48 / (DP · b) = 3·PP / b: with b = 1, 3·PP ≥ 2·PP and even for every even PP; with
    # b = 2, 1.5·PP < 2·PP. PP 1 (odd) and VP 2 never run DualPipe.
    restrict = {"tp": (1,), "cp": (1,), "vp": (1, 2), "micro_batch": (1, 2), "uneven": (0,), "sharding": (0,)}
    grid = candidate_grid(LLAMA8, 16, 48, 8192, restrict=restrict)[0]
    dual = {k: v[grid["pp_schedule"] == DUALPIPE] for k, v in grid.items()}
    assert _rows(dual, "pp", "vp", "micro_batch") == {(2, 1, 1), (4, 1, 1), (8, 1, 1), (16, 1, 1)}
    # 1F1B keeps every valid point: PP 1 with b = 1 (DP 16 · 2 does not divide 48, VP 2 needs PP > 1), and PP 2..16
    # with b = 1 or 2 and VP 1 or 2 (PP·2 ≤ 32 layers, at least PP micro-batches: 3·PP / b ≥ PP)
    plain = {k: v[grid["pp_schedule"] == ONE_F_ONE_B] for k, v in grid.items()}
    assert _rows(plain, "pp", "vp", "micro_batch") == {(1, 1, 1)} | {
        (p, v, b) for p in (2, 4, 8, 16) for v in (1, 2) for b in (1, 2)
    }


def test_dualpipe_exactly_where_perf_train_accepts_it():
    # A whole default grid (Llama 3 8B on 64 H100, 128 sequences): the DualPipe rows are the 1F1B rows that meet
    # DualPipe's rules, each once.
    grid = candidate_grid(LLAMA8, 64, 128, 8192)[0]
    microbatches = 128 // (grid["dp"] * grid["micro_batch"])
    rules = (grid["pp"] % 2 == 0) & (grid["vp"] == 1) & (microbatches % 2 == 0) & (microbatches >= 2 * grid["pp"])
    dual = grid["pp_schedule"] == DUALPIPE
    assert dual.any() and rules[dual].all()
    names = [k for k in grid if k != "pp_schedule"]
    assert sorted(zip(*(grid[k][dual].tolist() for k in names), strict=True)) == sorted(
        zip(*(grid[k][~dual & rules].tolist() for k in names), strict=True)
    )


def test_bf16_moments_save_four_bytes_a_sharded_parameter():
    # Llama 3 8B on 8 H100, TP = PP = CP = 1, DP 8, micro-batch 1, no recompute: Adam's two moments in BF16 hold
    # 2 + 2 bytes a parameter against 4 + 4, so 4 bytes fewer for each parameter whose optimizer state the GPU
    # keeps: all of them with DDP, an eighth with the distributed optimizer (ZeRO-1 over DP 8).
    restrict = {"tp": (1,), "pp": (1,), "cp": (1,), "micro_batch": (1,), "recompute": (0,), "sharding": (0, 1)}
    result = search(LLAMA8, H100, 8, 8, 8192, restrict=restrict | {"optimizer_moments": (FP32, BF16)})
    assert result.valid == 4
    memory = {
        (row["sharding"], row["optimizer_moments"]): result.metrics["memory_bytes"][i]
        for i, row in enumerate(map(result.parallelism, range(result.valid)))
    }
    assert memory["ddp", "fp32"] - memory["ddp", "bf16"] == pytest.approx(4 * LLAMA8_PARAMS, abs=1)
    assert memory["zero1", "fp32"] - memory["zero1", "bf16"] == pytest.approx(4 * LLAMA8_PARAMS / 8, abs=1)
    # BF16 moments are not searched unless asked for: the same grid by default has the FP32 rows alone
    default = search(LLAMA8, H100, 8, 8, 8192, restrict=restrict)
    assert default.valid == 2
    assert {default.parallelism(i)["optimizer_moments"] for i in range(2)} == {"fp32"}


def test_grid_points_count_each_axis():
    # TP 1 or 2, the rest fixed at one value: 2 TP × 2 stage splits × 2 schedules, twice over with both moments
    restrict = {"tp": (1, 2), "pp": (1,), "vp": (1,), "cp": (1,), "micro_batch": (1,), "sharding": (0,)}
    restrict |= {"recompute": (0,)}
    assert candidate_grid(LLAMA8, 8, 8, 8192, restrict=restrict)[2] == 2 * 2 * 2
    both = restrict | {"optimizer_moments": (FP32, BF16)}
    assert candidate_grid(LLAMA8, 8, 8, 8192, restrict=both)[2] == 2 * 2 * 2 * 2


def _search_json(*options: str) -> dict:
    result = run("perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
                 "--global-batch", "128", "--top", "20", "--json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_restrict_by_name():
    dual = _search_json("--restrict", "pp_schedule=dualpipe")
    assert dual["top"] and {row["pp_schedule"] for row in dual["top"] + dual["pareto"]} == {"dualpipe"}
    assert all(row["pp"] % 2 == 0 and row["vp"] == 1 for row in dual["top"])
    moments = _search_json("--restrict", "optimizer_moments=bf16")
    assert {row["optimizer_moments"] for row in moments["top"]} == {"bf16"}
    plain = _search_json()  # DualPipe searched by default, BF16 moments not
    assert {row["optimizer_moments"] for row in plain["top"] + plain["pareto"]} == {"fp32"}
    assert plain["configurations_evaluated"] * 2 == _search_json("--restrict", "optimizer_moments=fp32,bf16")[
        "configurations_evaluated"
    ]
    # the Python API takes the same names
    doc = search_report("llama3-8b", "dgx-h100-ndr", accelerators=64, global_batch=128, top=1,
                        restrict=["pp_schedule=dualpipe", "optimizer_moments=bf16"])
    assert (doc["best"]["pp_schedule"], doc["best"]["optimizer_moments"]) == ("dualpipe", "bf16")


@pytest.mark.parametrize(
    ("restriction", "message"),
    [
        ("pp_schedule=zb", "one of: 1f1b, dualpipe"),
        ("optimizer_moments=fp16", "one of: fp32, bf16"),
        ("pp_schedule=1", "one of: 1f1b, dualpipe"),
    ],
)
def test_bad_values_exit_2(restriction, message):
    result = run("perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
                 "--global-batch", "128", "--restrict", restriction)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_dualpipe_without_a_valid_configuration_names_its_rules():
    # 64 H100, 64 sequences, no TP or CP: DP = 64 / PP leaves 64 / DP = PP micro-batches (micro-batch 1), under 2·PP
    with pytest.raises(InputError, match="DualPipe has an even PP, VP = 1 and an even number of micro-batches"):
        search(LLAMA8, H100, 64, 64, 8192, restrict={"tp": (1,), "cp": (1,), "pp_schedule": (DUALPIPE,)})
    plain = search(LLAMA8, H100, 64, 64, 8192, restrict={"tp": (1,), "cp": (1,)})  # 1F1B only, no error
    assert not (plain.configurations["pp_schedule"] == DUALPIPE).any()


TRAIN_SETTINGS = ("tp", "pp", "vp", "cp", "ep", "etp", "micro_batch", "sp", "recompute", "distributed_optimizer",
                  "overlap_tp", "overlap_p2p", "pp_schedule", "cp_comm_type", "precision", "fp8_param_gather",
                  "overlap_param_gather", "optimizer_moments", "first_stage_layers", "last_stage_layers",
                  "moe_dispatcher", "moe_a2a_overlap", "fsdp", "hsdp_replicas", "zero2")


@pytest.mark.parametrize(
    ("model", "accelerators", "batch", "restrict", "tp_overlap"),
    [
        ("llama3-8b", 64, 128, ["pp_schedule=dualpipe", "optimizer_moments=fp32,bf16"], False),
        ("mixtral-8x7b", 64, 256, ["tp=8", "optimizer_moments=fp32,bf16"], True),  # DualPipe wins, uneven rows
    ],
)
def test_every_listed_row_reruns_with_train_report(model, accelerators, batch, restrict, tp_overlap):
    # Each of the 20 fastest rows, its settings given to perf train's API, gives the search's step time: the
    # DualPipe rows (even PP, VP 1) and the BF16-moment rows alike.
    doc = search_report(model, "dgx-h100-ndr", accelerators=accelerators, global_batch=batch, top=20,
                        restrict=restrict, tp_overlap=tp_overlap)
    schedules = {row["pp_schedule"] for row in doc["top"]}
    assert "dualpipe" in schedules and {row["optimizer_moments"] for row in doc["top"]} == {"fp32", "bf16"}
    for row in doc["top"]:
        settings = {k: row[k] for k in TRAIN_SETTINGS}
        modules = ",".join(row["recompute_modules"]) if row["recompute"] == "selective" else None
        train = train_report(model, "dgx-h100-ndr", accelerators=accelerators, global_batch=batch,
                             recompute_modules=modules, **settings)
        assert train["step_time_s"] == pytest.approx(row["step_time_s"], rel=1e-12), settings
