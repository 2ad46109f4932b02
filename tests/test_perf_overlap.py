"""Issue 18, the cost of overlap: context parallelism's ring attention as Transformer Engine runs it (per-step
transfers behind per-step attention, dK,dV backward, the last dK,dV exposed, the merges of partial results) and
TP communication overlapped with the GEMMs (the last chunk of each forward reduce-scatter, the collectives' SMs);
hand calculations."""

import numpy as np
import pytest

from rackwright.perf.efficiency import profile
from rackwright.perf.system import load_system
from rackwright.perf.training import Parallelism, _ring_attention, _tp_exposed, train_step
from rackwright.perf.workload import load_model

H100 = load_system("dgx-h100-ndr")
LLAMA8B = load_model("llama3-8b")
EFF = profile("h100")


def _cp(cp, tp=1):
    return Parallelism(tp=tp, pp=1, dp=1, micro_batch=1, cp=cp).arrays()


def test_ring_attention_hand_calculation():
    # Llama 3 8B, 8,192-token sequence over CP 2 on one 8-GPU H100 node: 4,096 tokens per rank. K,V per layer:
    # 8 KV heads × 128 × (K and V) × 2 bytes × 4,096 tokens = 16,777,216 bytes, over NVLink at 0.8 × 450 GB/s plus
    # the scale-up latency. Outputs and queries: 4,096 × 32 heads × 128 = 16,777,216 elements each.
    kv, elements = 16_777_216.0, 16_777_216.0
    link = H100.scale_up.bandwidth * 0.8
    tau = kv / link + H100.latency.scale_up
    hbm = H100.accelerator.hbm_bandwidth * 0.85
    merge_forward = (10 * 2 + 6) * elements / hbm + 2 * EFF.launch_s
    merge_backward = 2 * (10 * elements + 6 * kv / 2) / hbm + 2 * EFF.launch_s
    # Attention of 1 ms forward: each step's 0.5 ms hides the transfer (forward) and K,V + dK,dV (backward).
    forward, backward = _ring_attention(LLAMA8B, H100, _cp(2), 4096.0, 1e-3, EFF)
    assert float(forward) == pytest.approx(merge_forward)
    assert float(backward) == pytest.approx(tau + merge_backward)
    # Attention of 10 µs: the step (5 µs) no longer hides the transfers; the excess is exposed per step.
    forward, backward = _ring_attention(LLAMA8B, H100, _cp(2), 4096.0, 1e-5, EFF)
    assert float(forward) == pytest.approx(tau - 5e-6 + merge_forward)
    assert float(backward) == pytest.approx((2 * kv / link + H100.latency.scale_up - 2.5 * 5e-6) + tau + merge_backward)
    # Without CP nothing is added.
    assert _ring_attention(LLAMA8B, H100, _cp(1), 8192.0, 1e-3, EFF) == (0.0, 0.0)


def test_context_parallelism_is_not_free():
    # The same 8 GPUs as DP 8 or as DP 4 × CP 2 at 8,192 tokens: the CP ranks do the same attention FLOPs between
    # them (balanced causal chunks), so CP's step is longer by its merges and exposed transfers, no more.
    base = dict(tp=1, pp=1, micro_batch=1, recompute=0, distributed_optimizer=True)
    dp8 = train_step(LLAMA8B, H100.with_accelerators(8), Parallelism(dp=8, **base), 128, 8192)
    cp2 = train_step(LLAMA8B, H100.with_accelerators(8), Parallelism(dp=4, cp=2, **base), 128, 8192)
    assert float(dp8["breakdown"]["cp"]) == 0.0
    assert float(cp2["breakdown"]["cp"]) > 0.0
    assert float(cp2["step_time_s"]) > float(dp8["step_time_s"])
    assert np.isclose(float(cp2["breakdown"]["attention"]), float(dp8["breakdown"]["attention"]), rtol=0.02)


def test_tp_overlap_hand_calculation():
    # TP 4, the layer's 4 collectives take 1 ms. H100: hidden collectives hold 20 of the 132 SMs (0.152).
    sms = EFF.comm_sms
    assert sms == pytest.approx(20 / 132, abs=1e-3)
    on = Parallelism(tp=4, pp=1, dp=1, micro_batch=1, overlap_tp=True).arrays()
    off = Parallelism(tp=4, pp=1, dp=1, micro_batch=1, overlap_tp=False).arrays()
    # GEMMs of 4 ms: all hidden but the last of 4 chunks of the 2 forward reduce-scatters (each 1/4 of 1 ms).
    forward, backward = _tp_exposed(1e-3, 4e-3, on, EFF)
    assert float(forward) == pytest.approx(2 * 0.25e-3 / 4 + sms * 1e-3)
    assert float(backward) == pytest.approx(sms * 1e-3)
    # GEMMs of 0.5 ms: the forward exposes the 0.5 ms they cannot hide; the backward's 1 ms of GEMMs hides it all.
    forward, backward = _tp_exposed(1e-3, 0.5e-3, on, EFF)
    assert float(forward) == pytest.approx(0.5e-3 + 0.125e-3 + sms * 0.5e-3)
    assert float(backward) == pytest.approx(sms * 1e-3)
    # Without overlap every collective is on the critical path, forward and backward.
    assert tuple(map(float, _tp_exposed(1e-3, 4e-3, off, EFF))) == (1e-3, 1e-3)


def test_cross_entropy_hand_calculation():
    # Llama 3 8B (h 4,096, V 128,256) on one H100 stage, 8,192 tokens per micro-batch, one micro-batch: the output
    # layer's 3 GEMMs (BF16) plus the fused vocab-parallel cross-entropy, 36 bytes per FP32 logit, and 5 launches.
    from rackwright.perf.training import CROSS_ENTROPY_BYTES, _gemm_time, _shape_factor

    assert CROSS_ENTROPY_BYTES == 6 + 8 + 8 + 8 + 6
    h, v, t = 4096.0, 128_256.0, 8192.0
    # Shape: K = h over the T × V logits, K = V over T × h, K = T over h × V, k0 = 310 (H100 BF16); every output is
    # whole 256 × 128 tiles (T = 32 · 256, h = 16 · 256, V = 1,002 · 128), so no tile loss.
    k0 = 310.0
    assert EFF.gemm_k0 == k0
    shape = 3 / ((h + k0) / h + (v + k0) / v + (t + k0) / t)
    assert float(_shape_factor(h, v, t, k0, EFF)) == pytest.approx(shape)
    gemm = _gemm_time(2 * t * h * v, h, v, t, 989e12, 3.35e12, EFF, shape=shape)
    loss = t * v * 36.0 / (3.35e12 * 0.85) + 5 * EFF.launch_s
    result = train_step(LLAMA8B, H100.with_accelerators(8), Parallelism(tp=1, pp=1, dp=8, micro_batch=1), 8, 8192)
    assert float(result["breakdown"]["logits"]) == pytest.approx(3 * float(gemm) + loss)


def test_prefill_shape_factor_hand_calculation():
    # Llama 3 8B at TP 8, k0 = 310 (H100 BF16): each layer's attention (41,943,040 weights) is two GEMMs reducing
    # over h = 4,096 and n = 41,943,040 / 8,192 / 8 = 640; its MLP (176,160,768) over 4,096 and 2,688; the output
    # layer (128,256 x 4,096) over 4,096. Times add: the factor is the FLOP-weighted harmonic mean. Each GEMM also
    # runs at the tile quantization of its T × N output (T = 4,096 prompt tokens, 256 × 128 tiles): T × 640
    # (5 · 128), T × 2,688 (21 · 128) and T × h are whole tiles; the logits T × 16,032 pad N to 126 · 128 = 16,128
    # (or 63 · 256, the same), q = 16,032/16,128.
    from rackwright.perf.inference import _prefill_shape, infer

    f = lambda k: k / (k + 310.0)  # noqa: E731
    attention, mlp, logits = 32 * 41_943_040, 32 * 176_160_768, 128_256 * 4096
    blocks = [
        (attention, 2 / (1 / f(4096) + 1 / f(640))),
        (mlp, 2 / (1 / f(4096) + 1 / f(2688))),
        (logits, f(4096) * 16_032 / 16_128),
    ]
    expected = sum(w for w, _ in blocks) / sum(w / s for w, s in blocks)
    assert float(_prefill_shape(LLAMA8B, 8.0, 310.0, 4096.0, EFF)) == pytest.approx(expected)
    # The prefill's GEMM time is the old roofline divided by it: more time to first token at TP 8 than at TP 1
    # per FLOP, as the split weights reduce over fewer elements and fill fewer tiles.
    tp1 = float(_prefill_shape(LLAMA8B, 1.0, 310.0, 4096.0, EFF))
    assert float(_prefill_shape(LLAMA8B, 8.0, 310.0, 4096.0, EFF)) < tp1 < 1.0
    # The plateau: 0.72 measured at 8,192³ (whole tiles).
    r = infer(LLAMA8B, H100, batch=1, input_tokens=4096, output_tokens=1, tp=1)
    gemm = 2 * LLAMA8B.active_params_per_token * 4096 / (989e12 * 0.72 * tp1)
    attention_core = 0.5 * LLAMA8B.attention_flops_per_token(1) * 4096**2 / (989e12 * 0.45)
    assert float(r["ttft_s"]) == pytest.approx(gemm + attention_core)
