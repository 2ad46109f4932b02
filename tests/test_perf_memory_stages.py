"""Issue 18, memory on published configurations that ran: activations held chunk by chunk on uneven pipeline stages
(Llama 3 §3.3.2, Megatron-LM's interleaved schedule) and ZeRO-2-like gradient sharding (Llama 3's FSDP); hand
calculations term by term."""

import pytest

from rackwright.perf.memory import held_layer_microbatches, in_flight, training_memory, usable_hbm
from rackwright.perf.system import load_system
from rackwright.perf.training import Parallelism, stage_layer_counts
from rackwright.perf.workload import load_model

L405 = load_model("llama3-405b")
H100 = load_system("dgx-h100-ndr")
H, F, HKV, T, S = 16384, 53248, 8 * 128, 8, 8192
# One layer's parameters by hand: Q and O h·h each, K and V h·h_kv each, SwiGLU 3·h·F (norms: 2h, negligible).
LAYER = 2 * H * H + 2 * H * HKV + 3 * H * F
# One layer's activations for one 8,192-token micro-batch at TP 8 with SP, flash attention, no recompute (bytes):
# 31.75·h/t per token (tests/test_perf_memory_dp.py, term by term).
ACT = S * 31.75 * H / T


def llama3(**kw):
    base = dict(tp=8, pp=16, dp=128, micro_batch=1, vp=8, sp=True, recompute=0, distributed_optimizer=True,
                first_stage_layers=7, last_stage_layers=7)
    base.update(kw)
    return Parallelism(**base).arrays()


def held(c, m):
    first, middle, last = stage_layer_counts(L405, c)
    return [float(held_layer_microbatches(c, r, m, n, middle)) for r, n in ((0, first), (1, middle), (15, last))]


def test_llama3_stages_hold_their_chunks_activations():
    # 7 + 14 × 8 + 7 layers in chunks of one layer; the first chunk of stage 0 holds only the embedding, the last
    # chunk of stage 15 only the output layer and loss (§3.3.2). Forward passes go in groups of p = 16 per chunk.
    # M = 32: stage 0 holds 2·15 + 7·16 + 1 = 143 passes, of which 16 + 15 on its empty first chunk: 112 layers'.
    # Stage 1: 2·14 + 7·16 + 1 = 141 passes of one layer. Stage 15: 7·16 + 1 = 113 passes, one on its empty chunk.
    assert held(llama3(dp=64), 32) == [112, 141, 112]
    # M = 16 = p: every stage runs all 16 × 8 forward passes before its first backward (chunk 0 empty on stage 0).
    assert held(llama3(), 16) == [112, 128, 112]
    # The spread-even count would give stage 0 17.875 × 7 = 125.1 and stage 15 14.125 × 7 = 98.9.
    c = llama3(dp=64)
    assert float(in_flight(c, 0, 32)) * 7 == pytest.approx(125.125)


def test_nemo_layout_embedding_shares_the_first_chunk():
    # NeMo's llama31_405b (account_for_embedding/loss_in_pipeline_split): PP 8 × VP 8, 15 + 6 × 16 + 15 layers in
    # chunks of two; the first chunk holds the embedding and one layer. M = 32, groups of 8: stage 0 holds
    # 2·7 + 7·8 + 1 = 71 passes, 8 + 7 of them on the first chunk: 71·2 − 15 = 127 layer-micro-batches.
    c = Parallelism(tp=8, pp=8, dp=2, micro_batch=1, vp=8, first_stage_layers=15, last_stage_layers=15).arrays()
    first, middle, last = stage_layer_counts(L405, c)
    assert float(held_layer_microbatches(c, 0, 32, first, middle)) == 71 * 2 - 15
    assert float(held_layer_microbatches(c, 7, 32, last, middle)) == 57 * 2 - 1  # 7·8 + 1 passes, one on the loss
    # Even stages: the chunk count is the stage count (in_flight × layers).
    even = Parallelism(tp=8, pp=8, dp=2, micro_batch=1, vp=4).arrays()
    _, middle, _ = stage_layer_counts(L405, even)
    assert float(held_layer_microbatches(even, 0, 32, middle, middle)) == float(in_flight(even, 0, 32) * middle)


def test_llama3_405b_16k_gpus_memory_term_by_term():
    # Table 4's 16,384-GPU row: TP 8, PP 16 (V 8), DP 128, M = 16. Stage 1 (8 layers) needs the most.
    p = 8 * LAYER / T  # parameters on one GPU
    weights = 2 * p  # BF16, not resharded after forward
    optimizer = 12 * p / 128  # FP32 master weights and Adam moments, sharded over DP
    gradients = 4 * p / 128 + 4 * LAYER / T  # FP32, sharded; the layer in backward holds its whole gradient
    activations = 128 * ACT  # 16 micro-batches × 8 layers
    total = weights + optimizer + gradients + activations
    mem = training_memory(L405, H100, llama3(zero2=True), S, 16)
    assert float(mem["weights_and_optimizer"]) == pytest.approx(weights + optimizer + gradients, rel=1e-4)
    assert float(mem["activations"]) == pytest.approx(activations)
    assert float(mem["total"]) == pytest.approx(total, rel=1e-4)
    assert total / 1e9 == pytest.approx(76.55, abs=0.01)
    assert total < usable_hbm(H100.accelerator.hbm)  # it ran
    # Without the gradient sharding the FP32 gradients of the whole stage stay: 4·p − 4·p/128 − 4·LAYER/t more.
    plain = training_memory(L405, H100, llama3(), S, 16)
    assert float(plain["total"] - mem["total"]) == pytest.approx(4 * p - 4 * p / 128 - 4 * LAYER / T, rel=1e-4)
    assert float(plain["total"]) > usable_hbm(H100.accelerator.hbm)
