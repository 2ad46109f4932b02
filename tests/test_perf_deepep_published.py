"""Issue 18, MoE inside and across scale-up domains: the model's DeepEP dispatch and combine against DeepEP's published
normal-kernel bandwidths on H800 (validation/deepep_runs.yaml). Each printed figure is DeepEP's "logical" bandwidth,
its benchmark's counted bytes over the kernel's time; the model's time for the same operation is converted to it
(rackwright.perf.deepep_validation, which docs/validation.md prints); these tests check it by hand."""

from math import comb
from pathlib import Path

import pytest

from rackwright.perf.deepep_validation import (
    compare_deepep,
    counted_per_token,
    deepep_runs,
    distinct_nodes,
    model_times,
    predicted_gb_s,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = deepep_runs(ROOT)
CASES = {case["id"]: case for case in DOC["cases"]}
HIDDEN, TOP_K = 7168, 8  # DeepEP's benchmark (test_intranode.py:16, test_internode.py:16)


def times(ep: int, tokens: int) -> tuple[float, float]:
    return model_times(DOC["model"], DOC["system"], ep, tokens)


def test_cases_are_sourced_and_complete():
    assert DOC["tolerance"] == 0.15 and (DOC["model"], DOC["system"]) == ("deepseek-v3", "dgx-h800")
    assert (DOC["hidden"], DOC["experts"], DOC["top_k"]) == (HIDDEN, 256, TOP_K)
    # Every V1 normal-kernel row (README.md:19-22 at 3b1045d) and the two SM90 V2 rows (README.md:47-48), both ways.
    rows = {(c["version"], c["ep"], c["operation"]): c["published_gb_s"] for c in CASES.values()}
    assert rows == {
        ("v1", 8, "dispatch"): 153, ("v1", 8, "combine"): 158, ("v1", 16, "dispatch"): 43, ("v1", 16, "combine"): 43,
        ("v1", 32, "dispatch"): 58, ("v1", 32, "combine"): 57, ("v1", 64, "dispatch"): 51, ("v1", 64, "combine"): 50,
        ("v2", 16, "dispatch"): 90, ("v2", 16, "combine"): 81, ("v2", 32, "dispatch"): 61, ("v2", 32, "combine"): 61,
    }  # fmt: skip
    for case in CASES.values():
        assert case["ep"] == 8 * case["nodes"] and case["benchmark"]
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
    dispatch, combine = times(8, 4096)
    assert dispatch == pytest.approx(7 * 4096 * HIDDEN * (1 + 4 / 128) / 160e9 + 7 * 2e-6, rel=1e-9)
    assert combine == pytest.approx(7 * 4096 * HIDDEN * 2 / 160e9 + 7 * 2e-6, rel=1e-9)
    # EP 64 over 8 nodes, at most 4 nodes a token: 4 · 7/8 = 3.5 node copies over the NIC at 0.85 · 50 GB/s and
    # 8 · 7/64 = 0.875 over NVLink, added; 7 NVLink steps of 2 µs and 7 NIC steps of 10 µs.
    dispatch, _ = times(64, 4096)
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
    assert predicted_gb_s(case, DOC["model"], DOC["system"]) == pytest.approx(published, rel=DOC["tolerance"])


def test_validation_page_lists_every_case():
    # docs/validation.md (current: tests/test_validation.py) has a row per case, with the file's reason where outside.
    page = (ROOT / "docs/validation.md").read_text(encoding="utf-8")
    for case_id, case in CASES.items():
        assert f"| {case_id} |" in page
        if "xfail" in case:
            assert f"- {case_id}: {case['xfail']}" in page
    # The page's verdicts are the strict xfails': within the tolerance exactly where the file names no reason.
    assert {row.case: row.within for row in compare_deepep(ROOT)} == {i: "xfail" not in c for i, c in CASES.items()}
