"""Multi-token prediction and shared experts (DeepSeek-V3) against hand calculations of FLOPs and memory."""

import pytest

from rackwright.perf.memory import training_memory
from rackwright.perf.stages import stage_layer_counts, stage_params
from rackwright.perf.system import load_system
from rackwright.perf.training import Parallelism, train_step
from rackwright.perf.workload import load_model

V3 = load_model("deepseek-v3")  # mtp_layers: 1 (DeepSeek-V3 §4.2)
NO_MTP = V3.model_copy(update={"mtp_layers": 0})
NO_SHARED = V3.model_copy(update={"shared_experts": 0})
H, V, F = 7168, 129280, 2048  # hidden, vocabulary, expert intermediate size (§4.2, config.json)
EXPERT = 3 * H * F  # SwiGLU: gate, up and down = 44,040,192
# MLA by hand: q down 7168x1536, q up 1536 x 128 heads x (128 + 64), kv down 7168 x (512 + 64),
# kv up 512 x 128 x (128 + 128), output 128 x 128 x 7168.
ATTENTION = H * 1536 + 1536 * 128 * 192 + H * 576 + 512 * 128 * 256 + 128 * 128 * H  # 187,105,280
ACTIVE_MLP = (8 + 1) * EXPERT + H * 256  # 8 routed + 1 shared expert, router 7168 x 256


def test_deepseek_v3_layer_sizes_by_hand():
    assert V3.expert_params == EXPERT == 44_040_192
    assert V3.attention_params_per_layer == ATTENTION == 187_105_280
    assert V3.moe_layer_active_params == ACTIVE_MLP
    assert V3.mtp_layers == 1


def test_mtp_forward_flops_by_hand():
    # One MTP depth per token: 2 x (projection 2h.h + attention + active MoE MLP + the shared head V.h)
    # + its attention core 2.s.a.(d_qk + d_v) at s = 4,096, a = 128, d_qk = 192, d_v = 128.
    matmul = 2 * H * H + ATTENTION + ACTIVE_MLP + V * H
    core = 2 * 4096 * 128 * (192 + 128)
    expected = 2 * matmul + core
    assert expected == 3_565_027_328
    assert V3.mtp_forward_flops_per_token() == pytest.approx(expected, rel=1e-12)
    assert V3.forward_flops_per_token() - NO_MTP.forward_flops_per_token() == pytest.approx(expected, rel=1e-12)
    assert NO_MTP.mtp_forward_flops_per_token() == 0.0


def test_mtp_module_size_against_the_released_checkpoint():
    # DeepSeek-V3's model card: 14B of MTP module weights, which store their own copies of the embedding and head
    # (2 x V.h); the module's layer: 2h.h + attention + 256 routed and 1 shared expert + router.
    layer = 2 * H * H + ATTENTION + 257 * EXPERT + H * 256
    assert V3.mtp_layer_params == layer
    assert layer + 2 * V * H == pytest.approx(14e9, rel=0.05)
    assert V3.total_params == NO_MTP.total_params  # the published 671B leaves the module out


def test_shared_expert_flops_by_hand():
    # The shared expert runs on every token of the 58 MoE layers and of the MTP layer: 2 x expert FLOPs each.
    difference = V3.forward_flops_per_token() - NO_SHARED.forward_flops_per_token()
    assert difference == pytest.approx(2 * EXPERT * (58 + 1), rel=1e-12)


def _config(**kw):
    base = dict(tp=1, pp=2, dp=4, cp=1, ep=8, micro_batch=1, vp=1, sp=False, recompute=0, distributed_optimizer=True)
    base.update(kw)
    return Parallelism(**base).arrays()


def test_mtp_layer_on_the_last_stage_and_its_logits_in_memory():
    c = _config()
    first, _, last = stage_layer_counts(V3, c)
    assert (float(first), float(last)) == (31.0, 32.0)  # ceil(61 / 2) = 31, + the MTP layer on the last stage
    system = load_system("dgx-h100-ndr").with_accelerators(8)
    logits = float(training_memory(V3, system, _config(pp=1), 4096, 64)["logits"])
    # FP32 logits of the main and the MTP head: 2 x 4 bytes x 4,096 tokens x V.
    assert logits == pytest.approx(2 * 4 * 4096 * V, rel=1e-12)


def test_shared_expert_memory_is_not_split_by_ep():
    # One stage (PP 1) holds 61 + 1 layers; the model counts each as the average layer, whose MoE share (58/61)
    # carries the shared expert whole on every EP rank: 62 x 58/61 x 44,040,192 more parameters per accelerator.
    c = _config(pp=1)
    diff = float(stage_params(V3, c, 0)[1]) - float(stage_params(NO_SHARED, _config(pp=1), 0)[1])
    assert diff == pytest.approx(62 * 58 / 61 * EXPERT, rel=1e-12)


def test_mtp_lengthens_the_step():
    system = load_system("dgx-h100-ndr").with_accelerators(64)
    cfg = Parallelism(tp=1, pp=4, dp=16, ep=8, micro_batch=1, sp=False, recompute=0, distributed_optimizer=True)
    with_mtp, without = (float(train_step(m, system, cfg, 256, 4096, "fp8-blockwise")["step_time_s"]) for m in (V3, NO_MTP))
    # The last stage holds 16 + 1 layers and two heads: it paces the pipeline, at least 1/16 more layer time.
    assert with_mtp > without * (1 + 1 / 17)
