"""The reference MoE training workload in the delivery figures (perf.api.rack_delivery), against hand arithmetic."""

from pathlib import Path

import numpy as np
import pytest

from rackwright.perf.api import rack_delivery, reference_recipe, reference_training_rate, resolve_system
from rackwright.perf.reference import REFERENCE_TRAINING, REFERENCE_TRAINING_MOE, REFERENCE_TRAININGS
from rackwright.perf.search import search
from rackwright.perf.system import load_system
from rackwright.perf.workload import load_model

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    "system, expected",
    [("dgx-a100-80gb-hdr", "bf16"), ("dgx-h100-ndr", "fp8-blockwise"), ("gb200-nvl72", "mxfp8")],
)
def test_moe_reference_recipe_follows_the_tensor_cores(system, expected):
    # A100: no FP8 peak; H100: FP8, but no block scaling in the tensor core (DeepSeek's blockwise FP8);
    # Blackwell: MXFP8 block scaling in the tensor core.
    assert reference_recipe(load_system(system), REFERENCE_TRAINING_MOE) == expected


@pytest.mark.parametrize(
    "reference, accelerators, expected",
    [
        # MoE: one sequence of 4,096 tokens per accelerator. At the 16,384-accelerator reference job that is
        # 16,384 x 4,096 = 67,108,864 tokens, DeepSeek-V3's 15,360 x 4,096 = 62,914,560 (§4.2) + 6.7 %.
        (REFERENCE_TRAINING_MOE, 16384, 16384),
        (REFERENCE_TRAINING_MOE, 1152, 1152),
        (REFERENCE_TRAINING_MOE, 9216, 9216),
        # Dense: one sequence of 8,192 tokens per 8 accelerators: Llama 3's 2,048 x 8,192 = 16M tokens on 16,384.
        (REFERENCE_TRAINING, 16384, 2048),
        (REFERENCE_TRAINING, 8192, 1024),
        (REFERENCE_TRAINING, 4, 1),  # at least one sequence
    ],
)
def test_reference_batch_rule(reference, accelerators, expected):
    assert reference.global_batch(accelerators) == expected


def test_reference_batch_tokens_near_the_published_step():
    moe_tokens = REFERENCE_TRAINING_MOE.global_batch(16384) * REFERENCE_TRAINING_MOE.seq_len
    assert moe_tokens == 67_108_864 and moe_tokens / (15360 * 4096) == pytest.approx(16 / 15)
    assert REFERENCE_TRAINING.global_batch(16384) * REFERENCE_TRAINING.seq_len == 16 * 2**20  # Llama 3: 16M


def test_programme_workload_defaults_to_the_shared_moe_reference():
    from rackwright.programme.schema import Workload

    workload = Workload(accelerators=1152, assumption="the shared reference")
    assert (workload.model, workload.global_batch) == ("deepseek-v3", 1152)
    assert Workload(accelerators=1152, global_batch=2304, assumption="given").global_batch == 2304


def test_moe_reference_searches_as_deepseek_ran():
    # DeepSeek-V3 §3.2/§3.4: no tensor parallelism, DeepEP all-to-all; micro-batch 1 (assumption).
    result = search(
        load_model("deepseek-v3"),
        load_system("gb200-nvl72"),
        16384,
        16384,
        precision="mxfp8",
        restrict=REFERENCE_TRAINING_MOE.restrict,
    )
    cfg = result.configurations
    assert result.valid > 0 and np.all(cfg["tp"] == 1) and np.all(cfg["micro_batch"] == 1)
    assert np.all(cfg["moe_dispatcher"] == 1) and np.all(cfg["ep"] > 1)
    assert result.order().size > 0


@pytest.mark.slow
def test_moe_delivery_figures_by_hand():
    rack = EXAMPLES / "gb200-nvl72.yaml"
    doc = rack_delivery(rack)
    system = resolve_system(rack, racks=1)
    rate = reference_training_rate(system, REFERENCE_TRAININGS["moe"])
    assert rate is not None and rate["precision"] == "mxfp8"
    per_rack = 72  # GB200 NVL72
    tokens = rate["tokens_per_s"]
    assert doc["training_tokens_per_s_per_rack_deepseek_v3"] == pytest.approx(tokens * per_rack, rel=1e-12)
    # Per MW of rack input power: the rack's tokens/s over its input power.
    rack_mw = system.power_per_accelerator * per_rack / 1e6
    assert doc["training_tokens_per_s_per_mw_deepseek_v3"] == pytest.approx(tokens * per_rack / rack_mw, rel=1e-12)
    # Delivered, not peak: MFU x the 5 PFLOP/s dense FP8 peak of a B200 in GB200 x 72.
    assert doc["training_delivered_pflops_per_rack_deepseek_v3"] == pytest.approx(
        doc["training_mfu_deepseek_v3"] * 5.0 * per_rack, rel=1e-9
    )
    assert 0.05 < doc["training_mfu_deepseek_v3"] < 0.6
    days = 15e12 / (tokens * doc["accelerators_per_100_mw"]) / 86400.0
    assert doc["training_days_deepseek_v3_15t_100_mw"] == pytest.approx(days, rel=1e-12)
    # Per USD of the bill of materials evaluate prints for this rack: USD 3,130,825.
    assert doc["training_tokens_per_s_per_usd_deepseek_v3"] == pytest.approx(tokens * per_rack / 3_130_825, rel=1e-12)
    # The dense reference's figures are still there, unchanged in name.
    assert {"training_days_llama3_405b_15t_100_mw", "training_mfu_llama3_405b"} <= set(doc)


def test_programme_workload_takes_the_reference_recipe():
    """``precision: reference`` runs the programme's job in the shared MoE reference's recipe: MXFP8 on GB300 NVL72,
    the rate ``perf search`` gives for that recipe on the same 1,152 accelerators (16 racks) and batch."""
    from rackwright.perf.api import search_report
    from rackwright.programme import load_programme
    from rackwright.programme.plan import job_at, reference_model

    loaded = load_programme(EXAMPLES / "programme-small.yaml")
    workload = loaded.programme.workload.model_copy(update={"precision": "reference"})
    loaded = loaded.model_copy(update={"programme": loaded.programme.model_copy(update={"workload": workload})})
    run = job_at(loaded, reference_model(loaded), loaded.racks[0], 1152)
    assert run is not None and run.parallelism["precision"] == "mxfp8"
    best = search_report(
        "deepseek-v3", str(EXAMPLES / "gb300-nvl72.yaml"), racks=16, accelerators=1152, global_batch=1152,
        seq_len=4096, precision="mxfp8", top=1,
    )["best"]
    assert run.tokens_per_s_per_accelerator == pytest.approx(best["tokens_per_s"] / 1152, rel=1e-12)
