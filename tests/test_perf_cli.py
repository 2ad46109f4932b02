"""``rackwright perf``: the JSON contract and bad input (exit 2, no traceback)."""

import json
import re
from pathlib import Path

import pytest

from test_cli import run
from test_present_commands import page_text

from rackwright.report.present import format_value

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["perf", "train", "--model", "gpt3-175b", "--system", "dgx-a100-80gb-hdr", "--accelerators", "1024",
         "--global-batch", "1536", "--tp", "8", "--pp", "8", "--vp", "2", "--sp", "--recompute", "selective"]


def test_train_json_contract():
    doc = json.loads(run(*TRAIN, "--train-tokens", "3e11", "--json").stdout)
    assert list(doc)[:2] == ["schema_version", "command"] and doc["command"] == "perf train"
    for key in ("step_time_s", "tokens_per_s", "tflops_per_accelerator", "mfu", "hfu", "memory_bytes_per_accelerator",
                "fits", "breakdown", "memory_breakdown_bytes", "train_days", "energy_mwh"):
        assert key in doc
    assert doc["parallelism"]["dp"] == 16 and 0 < doc["mfu"] < doc["hfu"] <= 1
    assert doc["train_days"] == pytest.approx(3e11 / doc["tokens_per_s"] / 86400)


def test_search_json_contract():
    doc = json.loads(run("perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
                         "--global-batch", "512", "--top", "3", "--json").stdout)
    assert {"best", "top", "pareto", "configurations_evaluated", "configurations_valid"} <= set(doc)
    assert "search_time_s" not in doc  # a run-time measurement: --verbose prints it on stderr
    assert doc["command"] == "perf search" and len(doc["top"]) == 3
    assert doc["best"] == doc["top"][0] and doc["best"]["fits"]
    best = doc["best"]
    assert best["tp"] * best["pp"] * best["dp"] * best["cp"] == 64


def test_infer_json_contract():
    doc = json.loads(run("perf", "infer", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--batch", "16",
                         "--input-tokens", "1024", "--output-tokens", "256", "--json").stdout)
    assert doc["command"] == "perf infer"
    assert {"ttft_s", "tpot_s", "tokens_per_s_per_accelerator", "tokens_per_s_per_mw", "fits"} <= set(doc)
    assert doc["fits"] and doc["tokens_per_s_per_mw"] > 0


def test_memory_is_in_bytes():
    """One name and unit per quantity (docs/json.md): the H100's HBM is 80 GiB = 85,899,345,920 bytes (binary, as
    test_perf_memory_dp.test_hbm_is_binary), usable 79.6 GB; the memory per accelerator is the breakdown's total."""
    search = json.loads(run("perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators",
                            "64", "--global-batch", "512", "--top", "2", "--json").stdout)
    assert search["hbm_bytes_per_accelerator"] == 80 * 2**30
    assert search["least_memory_bytes_per_accelerator"] <= search["best"]["memory_bytes_per_accelerator"] < 80 * 2**30
    train = json.loads(run(*H100_70B, "--json").stdout)
    breakdown = train["memory_breakdown_bytes"]
    assert breakdown["available"] == pytest.approx(79.6e9, rel=1e-3)
    assert train["memory_bytes_per_accelerator"] == pytest.approx(breakdown["total"], rel=1e-12)
    assert not [k for k in (*train, *search["best"]) if k.endswith("_gb")]


def test_search_shows_its_time_only_under_verbose():
    args = ["perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
            "--global-batch", "512", "--top", "1", "--json"]
    assert "searched in" not in run(*args).output
    assert "searched in" in run("--verbose", *args).stderr


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


H100_70B = ["perf", "train", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--accelerators", "64",
            "--global-batch", "128", "--tp", "4", "--pp", "4", "--sp", "--distributed-optimizer"]


def test_precision_recipe_is_echoed_and_fp8_is_an_alias():
    doc = json.loads(run(*H100_70B, "--precision", "fp8", "--attention-precision", "fp8", "--fp8-param-gather",
                         "--json").stdout)
    # The echo also names the two activation stores, here at their defaults (BF16 SwiGLU input, BF16 attention output).
    assert doc["precision"] == {"recipe": "fp8-delayed", "attention": "fp8", "fp8_param_gather": True,
                                "activation_func_fp8_input_store": False, "attention_output_cache": "bf16"}
    assert doc["breakdown"]["quantize_s"] > 0
    bf16 = json.loads(run(*H100_70B, "--json").stdout)
    assert 1.2 < bf16["step_time_s"] / doc["step_time_s"] < 1.5
    search = json.loads(run("perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
                            "--global-batch", "512", "--top", "2", "--precision", "fp8-current", "--json").stdout)
    assert search["precision"]["recipe"] == "fp8-current" and "fp8_param_gather" in search["best"]


@pytest.mark.parametrize("args, fragment", [
    (["--precision", "fp9"], "unknown precision 'fp9'"),
    (["--precision", "mxfp8"], "block-scaling tensor cores"),
    (["--precision", "nvfp4"], "no fp4 peak rate"),
    (["--attention-precision", "fp4"], "unknown attention precision"),
    (["--fp8-param-gather"], "has none"),
])
def test_bad_precision_exits_2(args, fragment):
    result = run(*H100_70B, *args)
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_fp8_param_gather_needs_the_distributed_optimizer():
    args = [a for a in H100_70B if a != "--distributed-optimizer"]
    result = run(*args, "--precision", "fp8", "--fp8-param-gather")
    assert result.exit_code == 2 and "--distributed-optimizer" in result.output


def test_fp8_attention_on_a100_exits_2():
    result = run("perf", "train", "--model", "gpt3-175b", "--system", "dgx-a100-80gb-hdr", "--accelerators", "1024",
                 "--global-batch", "1536", "--tp", "8", "--pp", "8", "--attention-precision", "fp8")
    assert result.exit_code == 2 and "no fp8 peak rate" in result.output


def test_search_rows_carry_every_figure_of_the_table(tmp_path):
    """The JSON rows hold what the table shows (issue 22: the table lacked tokens/s): the first row's tokens/s and
    its memory, printed in GB in the table and in bytes in the JSON. The table formats them as report.present does
    and as the search's page shows them (issue 22: MFU was 0.6581 in the table and 65.8 % on the page; the format
    changed on purpose: shares are per cent everywhere)."""
    from rackwright.report.present import format_value

    args = ["perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
            "--global-batch", "512", "--top", "1"]
    row = json.loads(run(*args, "--json").stdout)["top"][0]
    table = run(*args).stdout
    assert {"tp", "pp", "vp", "dp", "cp", "ep", "micro_batch", "recompute", "sharding", "precision", "step_time_s",
            "tokens_per_s", "mfu", "memory_bytes_per_accelerator"} <= set(row)
    mfu = format_value(row["mfu"], "share")
    assert mfu.endswith("%") and f"{100 * row['mfu']:.1f}%" == mfu
    first = next(line for line in table.splitlines() if "│" in line)
    cells = [c.strip() for c in first.split("│")[1:-1]]
    gb = format_value(row["memory_bytes_per_accelerator"] / 1e9)  # GB per accelerator
    assert cells[-4:] == [format_value(row["step_time_s"]), f"{row['tokens_per_s']:,.0f}", mfu, gb]
    run(*args, "-o", str(tmp_path))
    page = page_text(tmp_path)
    assert f"{cells[-3]} tokens/s, step {cells[-4]} s, MFU {mfu}, {gb} GB per accelerator" in page


#: perf train's step-time terms: the JSON's key (docs/perf-model.md, outputs) and the label the table and the page
#: show (report.present.STEP_TERMS).
STEP_LABELS = {"gemm_s": "Matrix multiplications (GEMM)", "pp_p2p_s": "Pipeline sends (p2p)",
               "dp_exposed_s": "Exposed data-parallel collectives", "elementwise_s": "Element-wise kernels",
               "ep_s": "Exposed expert-parallel dispatch and combine"}
RAW_TERMS = re.compile(r"\b(gemm|pp_p2p|dp_exposed|elementwise)\b")


@pytest.mark.parametrize("columns", [60, 80])
def test_train_step_terms_are_labelled_and_wrap_to_the_terminal(columns, tmp_path):
    """Issue 22: the step-time breakdown's rows read as labels, not as the JSON's keys, in the table and on the -o
    page; the labels wrap so the table fits 60 and 80 columns, the numbers whole; the JSON keeps the keys."""
    from typer.testing import CliRunner

    from rackwright.cli.app import app

    result = CliRunner().invoke(app, [*TRAIN, "-o", str(tmp_path)], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if not line.startswith("wrote ")]
    assert max(map(len, lines)) <= columns and not RAW_TERMS.search("\n".join(lines))
    doc = json.loads((tmp_path / "train.json").read_text())
    assert {"gemm_s", "pp_p2p_s", "dp_exposed_s", "optimizer_s"} <= set(doc["breakdown"])
    rows = {}
    for line in lines[next(i for i, line in enumerate(lines) if "step time breakdown" in line):]:
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 3 and cells[1]:
            rows[cells[0]] = cells[1]
    assert rows["Pipeline sends (p2p)"] == format_value(doc["breakdown"]["pp_p2p_s"])
    assert rows["Matrix multiplications (GEMM)"] == format_value(doc["breakdown"]["gemm_s"])
    wrapped = "Exposed expert-parallel dispatch and combine" not in result.stdout
    assert wrapped == (columns == 60) and "Exposed expert-parallel dispatch" in result.stdout  # over 2 lines at 60
    page = page_text(tmp_path)
    assert all(label in page for label in STEP_LABELS.values())
    assert not RAW_TERMS.search(re.sub(r'"[a-z_]+":', "", page.split("<body>")[-1]))
