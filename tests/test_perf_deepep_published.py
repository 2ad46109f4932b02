"""Issue 18, MoE inside and across scale-up domains: the model's DeepEP dispatch and combine against DeepEP's published
normal-kernel bandwidths on H800 (validation/deepep_runs.yaml). Each printed figure is DeepEP's "logical" bandwidth,
its benchmark's counted bytes over the kernel's time; the model's time for the same operation is converted to it."""

from functools import cache
from math import comb
from pathlib import Path

import pytest

from rackwright.perf.efficiency import profile
from rackwright.perf.precision import recipe
from rackwright.perf.system import load_system
from rackwright.perf.training import Parallelism, _moe_dispatch_combine
from rackwright.perf.workload import load_model
from rackwright.yamlio import read_yaml, to_plain

ROOT = Path(__file__).resolve().parents[1]
DOC = to_plain(read_yaml(ROOT / "validation/deepep_runs.yaml"))
CASES = {case["id"]: case for case in DOC["cases"]}
EXPERTS, TOP_K, HIDDEN, NODE_SIZE = 256, 8, 7168, 8


def distinct_nodes(nodes: int, kept: int) -> float:
    """Expected distinct nodes among a token's top-8 experts under DeepEP's benchmark routing (test_internode.py:25-29):
    i.i.d. scores, the ``kept`` nodes (groups) of highest top score, the 8 best experts of those. Walking the scores in
    descending order, the first ``kept`` nodes met are the kept ones and every kept expert above the 8th is one of
    them: at each of the 8 draws a new node is met with probability (its unseen experts) / (experts left)."""
    per_node = EXPERTS // nodes
    seen = {0: 1.0}  # nodes met so far -> probability
    for drawn in range(TOP_K):
        after: dict[int, float] = {}
        for j, p in seen.items():
            new = per_node * (nodes - j) / (EXPERTS - drawn) if j < kept else 0.0
            after[j + 1] = after.get(j + 1, 0.0) + p * new
            after[j] = after.get(j, 0.0) + p * (1 - new)
        seen = after
    return sum(j * p for j, p in seen.items())


def counted_per_token(case: dict) -> float:
    """Rows the benchmark counts for each of a rank's tokens (deepep_runs.yaml header)."""
    if case["counted"] == "rank_received":  # 8 source ranks, each token on the rank with P(one of its 32 experts)
        return NODE_SIZE * (1 - comb(EXPERTS - EXPERTS // case["ep"], TOP_K) / comb(EXPERTS, TOP_K))
    nodes = case["nodes"]
    return distinct_nodes(nodes, min(nodes, 4) if case["version"] == "v1" else nodes)


@cache
def model_times(ep: int, tokens: int) -> tuple[float, float]:
    """The model's FP8 dispatch and BF16 combine of one rank's ``tokens`` [s]: _moe_dispatch_combine under bf16 is
    twice the BF16 one-way time, under fp8-blockwise the FP8 dispatch plus the BF16 combine."""
    model, system, eff = load_model(DOC["model"]), load_system(DOC["system"]), profile("h100")
    # The benchmark's job is its EP group: EP ranks, data-parallel for the attention (no TP, PP or CP).
    c = Parallelism(tp=1, pp=1, dp=ep, micro_batch=1, ep=ep, etp=1, moe_dispatcher=1).arrays()
    bf16 = float(_moe_dispatch_combine(model, system, c, tokens, eff, recipe("bf16")))
    fp8 = float(_moe_dispatch_combine(model, system, c, tokens, eff, recipe("fp8-blockwise")))
    return fp8 - bf16 / 2, bf16 / 2


def predicted_gb_s(case: dict) -> float:
    dispatch, combine = model_times(case["ep"], case["tokens_per_rank"])
    counted_bytes = case["tokens_per_rank"] * counted_per_token(case) * case["bytes_per_token"]
    return counted_bytes / (dispatch if case["operation"] == "dispatch" else combine) / 1e9


def test_cases_are_sourced_and_complete():
    assert DOC["tolerance"] == 0.15 and (DOC["model"], DOC["system"]) == ("deepseek-v3", "dgx-h800")
    # Every V1 normal-kernel row (README.md:19-22 at 3b1045d) and the two SM90 V2 rows (README.md:47-48), both ways.
    rows = {(c["version"], c["ep"], c["operation"]): c["published_gb_s"] for c in CASES.values()}
    assert rows == {
        ("v1", 8, "dispatch"): 153, ("v1", 8, "combine"): 158, ("v1", 16, "dispatch"): 43, ("v1", 16, "combine"): 43,
        ("v1", 32, "dispatch"): 58, ("v1", 32, "combine"): 57, ("v1", 64, "dispatch"): 51, ("v1", 64, "combine"): 50,
        ("v2", 16, "dispatch"): 90, ("v2", 16, "combine"): 81, ("v2", 32, "dispatch"): 61, ("v2", 32, "combine"): 61,
    }  # fmt: skip
    for case in CASES.values():
        assert case["ep"] == NODE_SIZE * case["nodes"] and case["benchmark"]
        assert case["link"] == ("NVLink" if case["nodes"] == 1 else "RDMA")
        assert case["source_line"] in ((19, 20, 21, 22) if case["version"] == "v1" else (47, 48))


def test_bytes_per_token_as_the_benchmarks_count_them():
    # V1: FP8 values and one FP32 scale per 128 (fp8_factor, test_internode.py:170); BF16 combine.
    # V2 adds the received top-k indices (int64) and weights (FP32): count_bytes(recv_x, recv_topk_idx, ...).
    fp8, bf16, topk = HIDDEN * (1 + 4 / 128), HIDDEN * 2, TOP_K * (8 + 4)
    expected = {("v1", "dispatch"): fp8, ("v1", "combine"): bf16}
    expected |= {("v2", "dispatch"): fp8 + topk, ("v2", "combine"): bf16 + TOP_K * 4}
    for case in CASES.values():
        assert case["bytes_per_token"] == expected[case["version"], case["operation"]]


def test_counted_rows_under_the_benchmark_routing():
    # Without a binding node limit the walk is plain sampling of 8 of 256 experts without replacement.
    assert distinct_nodes(2, 2) == pytest.approx(2 * (1 - comb(128, 8) / comb(256, 8)), rel=1e-12)
    assert distinct_nodes(4, 4) == pytest.approx(4 * (1 - comb(192, 8) / comb(256, 8)), rel=1e-12)
    # 4 of 8 nodes kept: all 4 reached unless the 8 draws stay within 3: 4 - 0.017.
    assert 3.98 < distinct_nodes(8, 4) < 4
    for case in CASES.values():
        assert counted_per_token(case) == pytest.approx(case["counted_per_token"], abs=1e-6)


def test_model_times_by_hand():
    # EP 8 in one node: 8 · 7/8 = 7 copies a token over NVLink at 0.80 · 200 GB/s, 7 steps of 2 µs.
    dispatch, combine = model_times(8, 4096)
    assert dispatch == pytest.approx(7 * 4096 * HIDDEN * (1 + 4 / 128) / 160e9 + 7 * 2e-6, rel=1e-9)
    assert combine == pytest.approx(7 * 4096 * HIDDEN * 2 / 160e9 + 7 * 2e-6, rel=1e-9)
    # EP 64 over 8 nodes, at most 4 nodes a token: 4 · 7/8 = 3.5 node copies over the NIC at 0.85 · 50 GB/s and
    # 8 · 7/64 = 0.875 over NVLink, added; 7 NVLink steps of 2 µs and 7 NIC steps of 10 µs.
    dispatch, _ = model_times(64, 4096)
    per_copy = 4096 * HIDDEN * (1 + 4 / 128)
    assert dispatch == pytest.approx(3.5 * per_copy / 42.5e9 + 0.875 * per_copy / 160e9 + 7 * 2e-6 + 7 * 10e-6)


@pytest.mark.parametrize(
    "case_id",
    [
        pytest.param(i, marks=pytest.mark.xfail(strict=True, reason=c["xfail"])) if "xfail" in c else i
        for i, c in CASES.items()
    ],
)
def test_predicted_bandwidth_within_tolerance(case_id):
    case = CASES[case_id]
    published = case["published_gb_s"]
    assert predicted_gb_s(case) == pytest.approx(published, rel=DOC["tolerance"])
