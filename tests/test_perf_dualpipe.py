"""Issue 18, DeepSeek's DualPipe schedule (DeepSeek-V3 Technical Report §3.2.1 and Table 2; the deepseek-ai/DualPipe
README): bubble ``(PP/2 − 1)(F&B + B − 3W)`` against 1F1B's ``(PP − 1)(F + B)``, two stages' parameters and ``PP + 1``
micro-batches of activations per rank against 1F1B's ``PP``, the embedding and the output head on the same rank, the
all-to-all hidden in the paired chunks; and the schedule's own requirements as input errors."""

import json

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.perf.system import load_system
from rackwright.perf.training import RECOMPUTE, Parallelism, train_step
from rackwright.perf.workload import load_model

H100 = load_system("dgx-h100-ndr")
LLAMA8B = load_model("llama3-8b")  # 32 layers, untied embedding and output layer
MICROBATCHES = 8


def _step(schedule, pp=4, model=LLAMA8B, **kw):
    c = Parallelism(tp=1, pp=pp, dp=1, micro_batch=1, recompute=RECOMPUTE["none"], pp_schedule=schedule, **kw)
    result = train_step(model, H100, c, global_batch=MICROBATCHES)
    return {k: float(v) for k, v in result["breakdown"].items()}, {
        k: float(v) for k, v in result["memory"].items()
    }


def test_bubble_is_dualpipes_formula():
    # Llama 3 8B over PP 4 (8 layers a stage), BF16, no TP/CP/DP, no recompute. Per micro-batch, from the step's own
    # terms: a slot F&B = F + B (the compute of a forward and a backward chunk, their sends hidden), B = 2/3 of the
    # GEMMs (input and weight gradients), 2.5/3.5 of the attention (backward 2.5× the forward), 2/3 of the
    # element-wise work, W = 1/3 of the GEMMs (the weight gradients take as long as the forward GEMMs).
    b, _ = _step(1)
    m = MICROBATCHES
    slot = (b["gemm"] + b["attention"] + b["elementwise"] + b["logits"] + b["pp_p2p"]) / m
    backward = (2 / 3 * b["gemm"] + 2.5 / 3.5 * b["attention"] + 2 / 3 * b["elementwise"]) / m
    weights = b["gemm"] / 3 / m
    assert b["bubble"] == pytest.approx((4 / 2 - 1) * (slot + backward - 3 * weights), rel=1e-9)
    # The same configuration under 1F1B: (PP − 1) slots, with the sends exposed (no interleaving to overlap them).
    o, _ = _step(0)
    one_slot = (o["gemm"] + o["attention"] + o["elementwise"] + o["logits"] + o["pp_p2p"]) / m
    assert o["bubble"] == pytest.approx(3 * one_slot, rel=1e-9)
    assert b["pp_p2p"] == 0.0 < o["pp_p2p"]


def test_edge_ranks_share_the_output_head():
    # 1F1B: the last stage (8 layers + the output layer and loss) paces the pipeline and computes every logit. DualPipe:
    # ranks 0 and 3 each hold stages 0 and 3 and run half the micro-batches through each, so half the logits each.
    dual, _ = _step(1)
    single, _ = _step(0)
    assert dual["logits"] == pytest.approx(single["logits"] / 2, rel=1e-12)
    assert dual["gemm"] == pytest.approx(single["gemm"], rel=1e-12)  # 8 layers a stage either way


def test_two_stages_of_parameters_and_pp_plus_one_microbatches():
    # Table 2: parameters 2× and activations PP + 1 against PP. The first and last stages of Llama 3 8B over PP 4
    # hold 8 layers and the embedding or the output layer each (the same size: 128,256 × 4,096 each), so an edge rank
    # holds twice the states of 1F1B's first stage; 1F1B's first stage holds PP = 4 micro-batches of its 8 layers,
    # DualPipe's edge rank 5 of its stages' average 8.
    _, dual = _step(1)
    _, single = _step(0)
    assert dual["weights_and_optimizer"] == pytest.approx(2 * single["weights_and_optimizer"], rel=1e-12)
    assert dual["activations"] == pytest.approx(single["activations"] * 5 / 4, rel=1e-12)


def test_moe_all_to_all_hidden_in_the_paired_chunks():
    # Mixtral 8x7B, EP 8 over PP 2 × DP 8: DualPipe hides dispatch and combine behind the paired chunk as
    # --moe-a2a-overlap does, and `perf train` reports the overlap it implies.
    mixtral = load_model("mixtral-8x7b")
    kw = dict(tp=1, pp=2, dp=8, micro_batch=1, ep=8, recompute=RECOMPUTE["none"])
    step = lambda **more: train_step(mixtral, H100, Parallelism(**kw, **more), global_batch=64)  # noqa: E731
    exposed = float(step()["breakdown"]["ep"])
    overlapped = float(step(moe_a2a_overlap=True)["breakdown"]["ep"])
    dual = float(step(pp_schedule=1)["breakdown"]["ep"])
    assert exposed > overlapped
    assert dual == pytest.approx(overlapped, rel=1e-12)


RUNNER = CliRunner()
BASE = ["perf", "train", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--tp", "2"]


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        (["--accelerators", "6", "--pp", "3", "--global-batch", "6"], "--pp-schedule", "even number of pipeline"),
        (["--accelerators", "8", "--pp", "4", "--vp", "2", "--global-batch", "16"], "--vp", "two stages per rank"),
        (["--accelerators", "8", "--pp", "4", "--global-batch", "6"], "--global-batch", "at least 2 × PP = 8, not 6"),
        (["--accelerators", "4", "--pp", "2", "--global-batch", "5"], "--global-batch", "an even number of micro"),
        (["--accelerators", "8", "--pp", "2", "--global-batch", "8", "--pp-schedule", "zb"], "--pp-schedule", "one of"),
    ],
)
def test_dualpipe_requirements_are_input_errors(options, field, words):
    args = [*BASE, *options]
    if "--pp-schedule" not in options:
        args += ["--pp-schedule", "dualpipe"]
    result = RUNNER.invoke(app, [*args, "--json"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["field"] == field
    assert words in error["message"]


def test_cli_reports_the_schedule():
    args = ["--accelerators", "8", "--pp", "4", "--global-batch", "8", "--pp-schedule", "dualpipe", "--json"]
    result = RUNNER.invoke(app, [*BASE, *args])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["parallelism"]["pp_schedule"] == "dualpipe"
    assert doc["parallelism"]["moe_a2a_overlap"] is False  # a dense model: nothing to dispatch
