"""Hand checks behind the breakdown analysis of the validation misses (issue 18; docs/perf-model.md "Validation and
limits", validation/kernel_figures.md "Step-time breakdown of the validation rows").

The analysis reads each row's predicted step as shares of ``train_step``'s breakdown, so the components must add up
to the step; and it explains Llama 3 405B's 8K rows by the FP32 gradient reduce-scatter that ZeRO-2 runs every
micro-batch, whose size is checked here by hand.
"""

from pathlib import Path

import pytest

from rackwright.perf.efficiency import profile
from rackwright.perf.system import load_system
from rackwright.perf.training import Parallelism, _collective, model_stage_params
from rackwright.perf.validation import RUNS_FILE, predict_run
from rackwright.perf.workload import load_model
from rackwright.yamlio import read_yaml, to_plain

ROOT = Path(__file__).resolve().parents[1]


def test_breakdown_components_add_up_to_the_step_of_every_validation_row():
    """step = micro-batches × slot + bubble + exposed DP + optimizer + weight casts, and the breakdown splits exactly
    that (the casts inside ``quantize``, ZeRO-2's and FSDP's per-micro-batch exposure inside ``dp_exposed``)."""
    runs = to_plain(read_yaml(ROOT / RUNS_FILE))["runs"]
    for run in runs:
        result = predict_run(run)
        total = sum(float(v) for v in result["breakdown"].values())
        assert total == pytest.approx(float(result["step_time_s"]), rel=1e-9), run["id"]


def test_llama3_405b_stage_gradients_by_hand():
    """The pacing (middle) stage of Llama 3 405B at TP 8, PP 16, VP 8 with 7 + 14 × 8 + 7 layers holds 8 layers.

    Per layer (h = 16,384, 128 heads of 128, 8 KV heads, SwiGLU f = 53,248): Q and O 2·h² = 536,870,912, K and V
    2·h·8·128 = 33,554,432, together 570,425,344; the MLP 3·h·f = 2,617,245,696; so 3,187,671,040 per layer, and
    8 layers split over TP 8 leave 3,187,671,040 parameters on a GPU.
    """
    attention = 2 * 16384**2 + 2 * 16384 * 8 * 128
    mlp = 3 * 16384 * 53248
    assert attention == 570_425_344 and mlp == 2_617_245_696
    c = Parallelism(tp=8, pp=16, dp=64, micro_batch=1, vp=8, first_stage_layers=7, last_stage_layers=7).arrays()
    assert float(model_stage_params(load_model("llama3-405b"), c)) == pytest.approx(8 * (attention + mlp) / 8)


@pytest.mark.parametrize(
    ("dp", "expected_s"),
    [
        # 63 × (12,750,684,160 / 64 B / (50e9 × 0.85) B/s + 10 µs) = 63 × (4.6877515 ms + 0.01 ms) = 0.29595834 s
        (64, 63 * (12_750_684_160 / 64 / 42.5e9 + 10e-6)),
        # 127 × (12,750,684,160 / 128 / 42.5e9 + 10 µs) = 127 × (2.3438757 ms + 0.01 ms) = 0.29894222 s
        (128, 127 * (12_750_684_160 / 128 / 42.5e9 + 10e-6)),
    ],
)
def test_llama3_zero2_reduce_scatter_per_micro_batch_by_hand(dp, expected_s):
    """ZeRO-2's FP32 gradient reduce-scatter of one micro-batch on Llama 3 405B's 8K rows (§3.3.2: FSDP shards the
    gradients, reduced in FP32): 4 bytes × 3,187,671,040 = 12,750,684,160 bytes over DP ranks at stride TP × CP = 8,
    one per 8-GPU server, so a flat ring over the 400 Gb/s NIC (50 GB/s at H100's ring fraction 0.85, 10 µs per
    step; RoCE: no switch reduction). About 0.296-0.299 s per micro-batch, 9.5 s (32 micro-batches) and 4.8 s (16)
    per step: as long as a whole micro-batch's compute on the stage, which is why the rows hinge on when the
    reduce-scatter may run.
    """
    accelerators = 8 * 16 * dp
    system = (
        load_system("dgx-h100-ndr")
        .with_accelerators(accelerators)
        .with_in_network_reduction(scale_up=True, scale_out=False)
    )
    eff = profile(system.accelerator.profile)
    got = _collective(8, dp, 4.0 * 3_187_671_040, system, eff, ranks=accelerators)
    assert float(got) == pytest.approx(expected_s, rel=1e-9)
    assert expected_s == pytest.approx({64: 0.29595834, 128: 0.29894222}[dp], rel=1e-7)


def _run(run_id):
    return next(r for r in to_plain(read_yaml(ROOT / RUNS_FILE))["runs"] if r["id"] == run_id)


@pytest.mark.parametrize(("run_id", "micro_batches"), [("llama3-405b-8192", 32), ("llama3-405b-16384", 16)])
def test_llama3_asynchronous_pipeline_sends_by_hand(run_id, micro_batches):
    """Llama 3 §3.3.2: "we adopt asynchronous point-to-point communication in PP" (the rows' ``overlap_p2p``).

    Blocking, each micro-batch sends and receives 2·V = 16 activations of T·h·2 / TP = 8,192 × 16,384 × 2 / 8 =
    33,554,432 bytes (sequence parallel) between servers (the PP group's stride TP·CP·DP crosses them), at
    50 GB/s × 0.85 and 10 µs each: 16 × (33,554,432 / 42.5e9 + 10e-6) = 16 × 0.799516047 ms = 12.79225675 ms, so
    32 × that = 0.409352216 s (16 × = 0.204676108 s) a step. Posted asynchronously they run behind a slot of about
    0.3 s of compute and none is exposed.
    """
    per_micro_batch = 16 * (33_554_432 / 42.5e9 + 10e-6)
    assert per_micro_batch == pytest.approx(0.01279225675, rel=1e-9)
    run = _run(run_id)
    assert run["overlap_p2p"] is True
    assert float(predict_run(run)["breakdown"]["pp_p2p"]) == 0.0
    blocking = predict_run({**run, "overlap_p2p": False})["breakdown"]["pp_p2p"]
    assert float(blocking) == pytest.approx(micro_batches * per_micro_batch, rel=1e-9)
