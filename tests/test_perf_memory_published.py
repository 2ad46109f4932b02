"""Issue 18: the memory verdict on published configurations that ran (validation/memory_runs.yaml: NeMo v2.2.0's H100
pre-training configurations, the NeMo 25.02 release). Each case runs through rackwright.perf.api.train_report, as
``rackwright perf train ... --json`` does, and must fit; the two that do not are strict xfails with the reason, and
their memory is checked against a hand calculation, tensor by tensor. The reasons are the cases' ``known_miss`` in
the file, which docs/validation.md prints too (rackwright.perf.memory_validation)."""

from functools import cache
from pathlib import Path

import pytest

from rackwright.perf.memory_validation import case_report, compare_memory, memory_runs

ROOT = Path(__file__).resolve().parents[1]
DOC = memory_runs(ROOT)
CASES = {case["id"]: case for case in DOC["cases"]}
MAIN_CSV = "scripts/llm/performance/recommended_model_configs/model_configs_h100.csv"
GB = 1e9


@cache
def report(case_id: str) -> dict:
    return case_report(DOC["defaults"], CASES[case_id])


def memory(case_id: str) -> dict:
    return report(case_id)["memory_breakdown_gb"]


def test_cases_are_sourced_and_follow_the_release_settings():
    assert len(CASES) == len(DOC["cases"]) == 31
    # Every pre-training row of the H100 CSV (lines 8-28; line 1 is the header) is a case, once.
    assert sorted(c["source"]["line"] for c in CASES.values() if c["source"]["path"] == MAIN_CSV) == list(range(8, 29))
    for case in CASES.values():
        s = case["settings"]
        assert case["source"]["repo"] == "NVIDIA/NeMo" and case["source"]["tag"] == "v2.2.0"
        assert s["sp"] == (s["tp"] > 1)  # utils.py:216
        assert s["overlap_p2p"] == (s["pp"] > 1 and s["vp"] > 1)  # megatron_comm_overlap.py:154-159
        assert s["fp8_param_gather"] == (s["precision"] == "fp8")  # bf16_with_fp8_mixed: fp8_params=True
        assert s["sp"] or not s["overlap_tp"]  # TP overlap needs TP > 1 and SP (megatron_comm_overlap.py:142-148)
        assert s["accelerators"] % (s["tp"] * s["pp"] * s["cp"]) == 0


@pytest.mark.parametrize(
    "case_id",
    [
        pytest.param(i, marks=pytest.mark.xfail(strict=True, reason=c["known_miss"])) if "known_miss" in c else i
        for i, c in CASES.items()
    ],
)
def test_published_configuration_fits(case_id):
    doc = report(case_id)
    assert doc["fits"], f"{case_id} ran, but the model needs {doc['memory_gb_per_accelerator']:.1f} GB per GPU"


def test_llama31_405b_at_tp8_pp9_cp2_by_hand():
    # NeMo 2.2.0's H100 Llama 3.1 405B: TP 8, PP 9, CP 2, VP 7, DP 4 on 576 GPUs, FP8 parameters, BF16 gradients.
    # First stage: 14 layers of 2h² + 2h·h_kv + 3hF parameters and the embedding (128,256 × h), over TP 8.
    h, f, hkv = 16384, 53248, 8 * 128
    params = (14 * (2 * h * h + 2 * h * hkv + 3 * h * f) + 128256 * h) / 8
    # Bytes per parameter: FP8 row- and column-wise copies 2 (the embedding: BF16 2), BF16 gradient 2, FP32 master
    # weights and Adam moments 12 sharded over DP × CP = 8.
    states = params * (2 + 2 + 12 / 8)
    # One layer's activations per token on a TP rank (SP on, flash attention, FP8 GEMM inputs saved at 1 byte): the
    # two norm inputs 2h each and the two FP8 norm outputs h each, ÷ TP; Q 2h, K and V 2·2·h_kv, the attention
    # output 2h and its FP8 copy h, SwiGLU's gate and up 2·2F and the FP8 activation output F, ÷ TP.
    per_token = (6 * h + 2 * h + 4 * hkv + 3 * h + 5 * f) / 8
    # 8,192 / CP 2 tokens per micro-batch; 2·(9 − 1) + (7 − 1)·9 + 1 = 71 chunk passes of 2 layers in flight.
    activations = 142 * 4096 * per_token
    m = memory("nemo2502-h100-llama3-405b-fp8-576")
    assert m["weights_and_optimizer"] == pytest.approx(states / GB, rel=1e-3)
    assert m["activations"] == pytest.approx(activations / GB, rel=1e-3)
    assert m["total"] == pytest.approx((states + activations) / GB, abs=0.02)  # + 8 MB of CP ring buffers
    assert m["total"] < m["available"]


def test_nemotron4_340b_fp8_first_stage_by_hand():
    # TP 8, PP 8, VP 12, DP 2 on 128 GPUs: 12 layers per stage of QKV h·(h + 2·8·192), O h², squared-ReLU MLP 2hF,
    # plus the untied embedding (256,000 × h) on the first stage, over TP 8.
    h, f, kv = 18432, 73728, 2 * 8 * 192
    params = (12 * (h * (h + kv) + h * h + 2 * h * f) + 256000 * h) / 8
    # FP8 copies 2 (embedding BF16 2) + BF16 gradient 2 + 12 / DP 2: 10 bytes per parameter.
    states = params * 10
    # Per token: norm inputs 2·2h and FP8 norm outputs 2·h, ÷ TP (SP); Q 2h, K and V 2·kv, attention output 2h + FP8
    # copy h, the MLP's ReLU output 2F (squared ReLU's saved input) and the FP8 FC2 input F, ÷ TP.
    per_token = (6 * h + 2 * h + 2 * kv + 3 * h + 3 * f) / 8
    # 16 micro-batches; 2·7 + 11·8 + 1 = 103 one-layer chunk passes in flight on the first stage.
    activations = 103 * 4096 * per_token
    usable = 80 * 2**30 * 0.95 - 2e9
    m = memory("nemo2502-h100-nemotron4-340b-fp8-128")
    assert m["weights_and_optimizer"] == pytest.approx(states / GB, rel=1e-3)
    assert m["activations"] == pytest.approx(activations / GB, rel=1e-3)
    assert m["available"] == pytest.approx(usable / GB)
    assert (states + activations) / GB == pytest.approx(80.39, abs=0.01) and m["total"] > m["available"]


def test_the_known_misses_are_the_two_nemotron4_340b_fp8_dp2_cases():
    assert [i for i, c in CASES.items() if "known_miss" in c] == [
        "nemo2502-h100-nemotron4-340b-fp8-128",
        "nemo2502-h100-strong-nemotron4-340b-fp8-128",
    ]


def test_validation_page_lists_every_case():
    # docs/validation.md (current: tests/test_validation.py) has a row per case and the known misses' reasons.
    page = (ROOT / "docs/validation.md").read_text(encoding="utf-8")
    for case_id, case in CASES.items():
        assert f"| {case_id} |" in page
        assert ("known_miss" in case) == (f"- {case_id}: " in page)


def test_page_rows_name_the_parallelism_as_the_csv_gives_it():
    # CSV line 11: 576 GPUs, TP 8, PP 9, CP 2, VP 7 -> DP 576 / (8 x 9 x 2) = 4; line 20: 256 GPUs, TP 4, PP 4, CP 8,
    # VP 14, EP 8 -> DP 256 / (4 x 4 x 8) = 2.
    rows = {row.case: row for row in compare_memory(ROOT)}
    assert rows.keys() == CASES.keys()
    assert rows["nemo2502-h100-llama3-405b-fp8-576"].parallelism == "TP8 PP9 CP2 VP7 DP4"
    assert rows["nemo2502-h100-mixtral-8x22b-fp8-256"].parallelism == "TP4 PP4 CP8 VP14 EP8 DP2"
