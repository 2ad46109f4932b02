"""The reference MoE training workload in the delivery figures (perf.api.rack_delivery), against hand arithmetic."""

from pathlib import Path

import numpy as np
import pytest

from rackwright.perf.api import (
    REFERENCE_TRAINING_MOE,
    REFERENCE_TRAININGS,
    rack_delivery,
    reference_recipe,
    reference_training_rate,
    resolve_system,
)
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


def test_moe_reference_searches_as_deepseek_ran():
    # DeepSeek-V3 §3.2/§3.4: no tensor parallelism, DeepEP all-to-all; micro-batch 1 (assumption).
    result = search(
        load_model("deepseek-v3"),
        load_system("gb200-nvl72"),
        16384,
        15360,
        precision="mxfp8",
        restrict=REFERENCE_TRAINING_MOE["restrict"],
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
    # The dense reference's figures are still there, unchanged in name.
    assert {"training_days_llama3_405b_15t_100_mw", "training_mfu_llama3_405b"} <= set(doc)
