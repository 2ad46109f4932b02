"""``rackwright perf``: the JSON contract and bad input (exit 2, no traceback)."""

import json
from pathlib import Path

import pytest
from test_cli import run

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["perf", "train", "--model", "gpt3-175b", "--system", "dgx-a100-80gb-hdr", "--accelerators", "1024",
         "--global-batch", "1536", "--tp", "8", "--pp", "8", "--vp", "2", "--sp", "--recompute", "selective"]


def test_train_json_contract():
    doc = json.loads(run(*TRAIN, "--train-tokens", "3e11", "--json").stdout)
    for key in ("step_time_s", "tokens_per_s", "tflops_per_accelerator", "mfu", "hfu", "memory_gb_per_accelerator",
                "fits", "breakdown", "train_days", "energy_mwh"):
        assert key in doc
    assert doc["parallelism"]["dp"] == 16 and 0 < doc["mfu"] < doc["hfu"] <= 1
    assert doc["train_days"] == pytest.approx(3e11 / doc["tokens_per_s"] / 86400)


def test_search_json_contract():
    doc = json.loads(run("perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
                         "--global-batch", "512", "--top", "3", "--json").stdout)
    assert {"best", "top", "pareto", "configurations_evaluated", "configurations_valid", "search_time_s"} <= set(doc)
    assert len(doc["top"]) == 3 and doc["best"] == doc["top"][0] and doc["best"]["fits"]
    best = doc["best"]
    assert best["tp"] * best["pp"] * best["dp"] * best["cp"] == 64


def test_infer_json_contract():
    doc = json.loads(run("perf", "infer", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--batch", "16",
                         "--input-tokens", "1024", "--output-tokens", "256", "--json").stdout)
    assert {"ttft_s", "tpot_s", "tokens_per_s_per_accelerator", "tokens_per_s_per_mw", "fits"} <= set(doc)
    assert doc["fits"] and doc["tokens_per_s_per_mw"] > 0


def test_a_rack_design_is_a_system():
    doc = json.loads(run("perf", "train", "--model", "llama3-70b", "--system", ROOT / "examples" / "gb200-nvl72.yaml",
                         "--racks", "2", "--global-batch", "576", "--tp", "8", "--pp", "2", "--json").stdout)
    assert doc["accelerators"] == 144 and doc["parallelism"]["dp"] == 9


@pytest.mark.parametrize("args, fragment", [
    (["--tp", "7"], "does not divide the 96 attention heads"),
    (["--accelerators", "1000"], "not a multiple"),
    (["--global-batch", "1000"], "does not split"),
    (["--recompute", "sometimes"], "unknown recompute"),
])
def test_impossible_parallelism_exits_2(args, fragment):
    base = list(TRAIN)
    for flag, value in zip(args[::2], args[1::2]):
        base[base.index(flag) + 1] = value
    result = run(*base)
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_bad_model_and_system_names_exit_2(tmp_path):
    result = run("perf", "infer", "--model", "llama3-405", "--system", "dgx-h100-ndr", "--batch", "1",
                 "--input-tokens", "1", "--output-tokens", "1")
    assert result.exit_code == 2 and "llama3-405b" in result.output  # did you mean
    bad = tmp_path / "system.yaml"
    bad.write_text("name: x\naccelerator: {name: y, profile: h100, peak_flops: {bf16: '1 kg'}}\n")
    result = run("perf", "infer", "--model", "llama3-8b", "--system", bad, "--batch", "1", "--input-tokens", "1",
                 "--output-tokens", "1")
    assert result.exit_code == 2 and "system.yaml" in result.output


def test_does_not_fit_is_a_result_with_a_reason():
    doc = json.loads(run("perf", "train", "--model", "llama3-405b", "--system", "dgx-h100-ndr", "--accelerators", "64",
                         "--global-batch", "64", "--tp", "8", "--pp", "8", "--json").stdout)
    assert doc["fits"] is False and "GB per accelerator" in doc["reason"]


@pytest.mark.parametrize("args, fragment", [
    (["perf", "infer", "--model", "llama3-8b", "--system", "dgx-a100-80gb-hdr", "--batch", "1", "--input-tokens", "1",
      "--output-tokens", "1", "--precision", "fp8"], "no fp8 peak rate"),
    (["perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--global-batch", "64", "--top", "0"],
     "--top"),
    (TRAIN[:TRAIN.index("--tp") + 1] + ["0"] + TRAIN[TRAIN.index("--tp") + 2:], "--tp"),
    (TRAIN[:TRAIN.index("--global-batch") + 1] + ["48"] + TRAIN[TRAIN.index("--global-batch") + 2:],
     "needs at least PP = 8 micro-batches"),
])
def test_more_bad_input_exits_2(args, fragment):
    result = run(*args)
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_inference_per_rack_needs_a_rack_size():
    on_design = json.loads(run("perf", "infer", "--model", "llama3-70b", "--system", ROOT / "examples" / "gb300-nvl72.yaml",
                               "--batch", "8", "--input-tokens", "512", "--output-tokens", "128", "--json").stdout)
    assert on_design["tokens_per_s_per_rack"] == pytest.approx(72 * on_design["tokens_per_s_per_accelerator"])
    dgx = json.loads(run("perf", "infer", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--batch", "8",
                         "--input-tokens", "512", "--output-tokens", "128", "--json").stdout)
    assert dgx["tokens_per_s_per_rack"] is None
