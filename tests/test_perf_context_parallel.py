"""Issue 18, context parallelism: the all-gather variant (Llama 3 §3.3.2; Transformer Engine's
AttnFuncWithCPAndKVAllGather, Megatron-Core ``cp_comm_type`` all_gather) and MLA's K,V as Megatron-Core exchanges
them (up-projected, not the latent); hand calculations."""

import json

import pytest

from rackwright.perf.efficiency import profile
from rackwright.perf.memory import training_memory
from rackwright.perf.system import load_system
from rackwright.perf.training import CP_COMM_TYPES, Parallelism, _gathered_attention, _ring_attention, train_step
from rackwright.perf.workload import load_model
from test_cli import run

# 8 GPUs per NVLink domain, 450 GB/s; 400 Gb/s per GPU scale-out, Llama 3's RoCE: no InfiniBand SHARP
H100 = load_system("dgx-h100-ndr").with_in_network_reduction(scale_up=True, scale_out=False)
EFF = profile("h100")  # links at 0.8 (NVLink) and 0.85 (RoCE/IB), HBM at 0.85 of 3.35 TB/s, 4 µs launches
LLAMA8B = load_model("llama3-8b")
LLAMA405B = load_model("llama3-405b")
DSV3 = load_model("deepseek-v3")
HBM = 3.35e12 * 0.85


def _c(cp, tp=1, kind="all_gather"):
    return Parallelism(tp=tp, pp=1, dp=1, micro_batch=1, cp=cp, cp_comm_type=CP_COMM_TYPES[kind]).arrays()


def test_all_gather_inside_one_nvlink_domain_hand_calculation():
    # Llama 3 8B, 16,384-token sequence over CP 4 at TP 1 (4 GPUs of one node): 4,096 tokens per rank.
    # K (and V) per layer on a rank: 4,096 tokens × 8 KV heads × 128 × 2 bytes = 8,388,608 bytes. Each all-gather
    # is a ring of 4 over NVLink: 3 steps of 8,388,608 bytes at 0.8 × 450 GB/s plus 2 µs each.
    k = 4096 * 8 * 128 * 2
    assert k == 8_388_608
    gather = 3 * (k / (0.8 * 450e9) + 2e-6)  # 69.9 µs + 6 µs = 75.9 µs
    gathered = 4 * 2 * k  # the whole sequence's K and V: 67,108,864 bytes
    outputs = queries = 4096 * 32 * 128 * 2  # BF16 bytes of the rank's attention output (and of its Q)
    forward = 2 * gather + (2 * gathered + 2 * outputs) / HBM + 5 * 4e-6
    backward = 4 * gather + ((5 + 3 * (1 + 1 / 8)) * gathered + 2 * queries) / HBM + 13 * 4e-6
    got = _gathered_attention(LLAMA8B, H100, _c(4), 4096.0, EFF)
    assert float(got[0]) == pytest.approx(forward, rel=1e-9)
    assert float(got[1]) == pytest.approx(backward, rel=1e-9)
    assert float(got[0]) == pytest.approx(242.5e-6, rel=1e-3)  # 151.8 µs of all-gathers, 70.7 µs of copies, 20 µs
    # Without CP nothing is added.
    assert [float(x) for x in _gathered_attention(LLAMA8B, H100, _c(1), 16384.0, EFF)] == [0.0, 0.0]


def test_all_gather_across_nodes_is_a_flat_ring_over_the_nics():
    # Llama 3 405B at 128K (the Table 4 row): TP 8 × CP 16, 8,192 tokens per rank. The CP group's stride is 8 (one
    # rank per server), so each all-gather is a ring of 16 over RoCE: 15 steps of the rank's K (8,192 × 1 KV head
    # on a TP rank × 128 × 2 = 2,097,152 bytes) at 0.85 × 50 GB/s plus 10 µs.
    k = 8192 * (8 // 8) * 128 * 2
    gather = 15 * (k / (0.85 * 50e9) + 10e-6)  # 890 µs
    got = _gathered_attention(LLAMA405B, H100, _c(16, tp=8), 8192.0, EFF)
    copies = (2 * 16 * 2 * k + 2 * 8192 * 128 * 128 * 2 / 8) / HBM
    assert float(got[0]) == pytest.approx(2 * gather + copies + 5 * 4e-6, rel=1e-9)
    assert float(got[0]) == pytest.approx(1.871e-3, rel=1e-3)  # 1,780 µs of all-gathers, 70.7 µs copies, 20 µs


def test_all_gather_is_exposed_where_the_ring_hides_its_transfers():
    # Same row, with an attention forward of 7 ms per layer: the ring's per-step transfer (4,194,304 bytes of K,V
    # at 42.5 GB/s + 10 µs = 109 µs) hides behind each 0.44 ms step, so its forward exposes only the merges of the
    # 16 steps' partial outputs ((10·16 + 6) bytes × 16,777,216 output elements at HBM speed, 0.98 ms, 16 launches);
    # the all-gather exposes its collectives (1.78 ms; Llama 3: "exposed in the critical path").
    ring = _ring_attention(LLAMA405B, H100, _c(16, tp=8, kind="p2p"), 8192.0, 7e-3, EFF)
    assert float(ring[0]) == pytest.approx((10 * 16 + 6) * 8192 * 128 * 128 / 8 / HBM + 16 * 4e-6, rel=1e-9)
    gathered = _gathered_attention(LLAMA405B, H100, _c(16, tp=8), 8192.0, EFF)
    assert float(gathered[0]) > float(ring[0]) + 0.8e-3


def test_all_gather_memory_holds_one_layer_of_the_whole_sequence_kv():
    # Peak at the end of a layer's backward: re-gathered K,V, the dK,dV accumulator and its reordered copy, and
    # the two steps' dK,dV over (1 + 1/(2·cp)) of the sequence: (4 + 1/32) × 131,072 tokens × 1 KV head × 256
    # values × 2 bytes = 270,532,608 bytes on a TP-8 rank of Llama 3 405B at 128K.
    gathered = 131072 * 1 * (128 + 128) * 2
    c = Parallelism(tp=8, pp=16, vp=8, dp=8, cp=16, micro_batch=1, sp=True, recompute=0, distributed_optimizer=True,
                    cp_comm_type=CP_COMM_TYPES["all_gather"]).arrays()
    memory = training_memory(LLAMA405B, H100, c, 131072, 16)
    assert float(memory["cp_buffers"]) == pytest.approx((4 + 1 / 32) * gathered)
    assert float(memory["cp_buffers"]) == pytest.approx(270_532_608)
    ring = training_memory(LLAMA405B, H100, {**c, "cp_comm_type": c["cp_comm_type"] * 0}, 131072, 16)
    assert float(memory["total"] - ring["total"]) == pytest.approx(270_532_608 - 67_108_864)


def test_ring_memory_holds_one_layer_of_exchange_buffers():
    # Transformer Engine's AttnFuncWithCPAndKVP2P (v1.13): forward keeps every step's received K,V chunk in
    # p2p_comm_buffers until its loop ends, G = the whole sequence's K,V on a TP rank beyond what it saves; backward
    # alternates two buffers of K,V and dK,dV, 4·G/cp. Llama 3 405B at 128K on a TP-8 rank: G = 131,072 tokens ×
    # 1 KV head × 256 values × 2 bytes = 67,108,864 bytes; at CP 16 the forward's G is the larger, at CP 2 the
    # backward's 4·G/2 = 134,217,728 bytes.
    gathered = 131072 * 1 * (128 + 128) * 2
    assert gathered == 67_108_864
    for cp, expected in ((16, 67_108_864), (2, 134_217_728)):
        c = Parallelism(tp=8, pp=16, vp=8, dp=8, cp=cp, micro_batch=1, sp=True, recompute=0,
                        distributed_optimizer=True).arrays()
        assert float(training_memory(LLAMA405B, H100, c, 131072, 16)["cp_buffers"]) == pytest.approx(expected)
    c = Parallelism(tp=8, pp=16, vp=8, dp=8, cp=1, micro_batch=1, sp=True, recompute=0,
                    distributed_optimizer=True).arrays()
    assert float(training_memory(LLAMA405B, H100, c, 131072, 16)["cp_buffers"]) == 0.0


def test_cp_comm_type_changes_nothing_without_cp():
    base = dict(tp=1, pp=1, dp=8, micro_batch=1, recompute=0, distributed_optimizer=True)
    system = H100.with_accelerators(8)
    p2p = train_step(LLAMA8B, system, Parallelism(**base), 128, 8192)
    gathered = train_step(LLAMA8B, system, Parallelism(cp_comm_type=1, **base), 128, 8192)
    assert float(gathered["step_time_s"]) == float(p2p["step_time_s"])
    assert float(gathered["memory_bytes"]) == float(p2p["memory_bytes"])


def test_mla_exchanges_the_up_projected_keys_and_values():
    # Megatron-Core's MLASelfAttention up-projects K (128 heads × (128 nope + 64 rope)) and V (128 heads × 128)
    # before TE's CP attention, which exchanges what it is given: 128 × 320 × 2 = 81,920 bytes per token and layer,
    # 71× the cached latent ((512 + 64) × 2 = 1,152 bytes).
    assert DSV3.attention_kv_bytes_per_token() == 128 * (192 + 128) * 2 == 81_920
    assert DSV3.kv_cache_bytes_per_token() / DSV3.layers == 1_152
    # For GQA it is one layer's KV cache.
    assert LLAMA8B.attention_kv_bytes_per_token() == LLAMA8B.kv_cache_bytes_per_token() / LLAMA8B.layers == 4096


def test_mla_ring_hand_calculation():
    # DeepSeek-V3, CP 2 at TP 1 in one NVLink domain, 4,096 tokens per rank, attention 10 µs (nothing hidden):
    # K,V per layer on the rank 4,096 × 81,920 = 335,544,320 bytes; forward exposes the one transfer less the step
    # (5 µs) and the merges of 4,096 × 128 × 128 outputs.
    kv = 4096 * 81_920
    tau = kv / (0.8 * 450e9) + 2e-6  # 934 µs
    outputs = 4096 * 128 * 128
    merge_forward = (10 * 2 + 6) * outputs / HBM + 2 * 4e-6
    forward, _ = _ring_attention(DSV3, H100, _c(2, kind="p2p"), 4096.0, 1e-5, EFF)
    assert float(forward) == pytest.approx(tau - 5e-6 + merge_forward, rel=1e-9)
    assert float(forward) > 0.9e-3


def test_mla_all_gather_hand_calculation():
    # DeepSeek-V3 all-gather CP 2: K (4,096 × 128 × 192 × 2 = 201,326,592 bytes) and V (4,096 × 128 × 128 × 2 =
    # 134,217,728 bytes) gathered separately, one NVLink ring step each.
    k, v = 4096 * 128 * 192 * 2, 4096 * 128 * 128 * 2
    gathers = (k / (0.8 * 450e9) + 2e-6) + (v / (0.8 * 450e9) + 2e-6)
    copies = (2 * 2 * (k + v) + 2 * 4096 * 128 * 128 * 2) / HBM
    forward, backward = _gathered_attention(DSV3, H100, _c(2), 4096.0, EFF)
    assert float(forward) == pytest.approx(gathers + copies + 5 * 4e-6, rel=1e-9)
    queries = 4096 * 128 * 192 * 2
    copies_backward = ((5 + 3 * 1.25) * 2 * (k + v) + 2 * queries) / HBM
    assert float(backward) == pytest.approx(2 * gathers + copies_backward + 13 * 4e-6, rel=1e-9)


def test_cp_comm_type_option():
    # perf train --cp-comm-type all_gather: echoed, slower where the ring hid its transfers, one layer's gathered
    # K,V in memory; without CP, or an unknown type, exit 2 with the option named.
    base = ["perf", "train", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--accelerators", "64",
            "--global-batch", "32", "--seq-len", "65536", "--tp", "8", "--pp", "2", "--sp",
            "--distributed-optimizer", "--recompute", "full", "--json"]
    ring = json.loads(run(*base, "--cp", "4").output)
    result = run(*base, "--cp", "4", "--cp-comm-type", "all_gather")
    assert result.exit_code == 0
    gathered = json.loads(result.output)
    assert ring["parallelism"]["cp_comm_type"] == "p2p" and gathered["parallelism"]["cp_comm_type"] == "all_gather"
    assert gathered["step_time_s"] > ring["step_time_s"]
    # (4 + 1/8) × 65,536 tokens × 1 KV head per TP rank × 256 values × 2 bytes
    assert gathered["memory_breakdown_bytes"]["cp_buffers"] == pytest.approx(4.125 * 65536 * 256 * 2)
    for extra, fragment in ((["--cp-comm-type", "all_gather"], "--cp above 1"), (["--cp", "4", "--cp-comm-type",
                                                                                  "ring"], "p2p, all_gather")):
        refused = run(*base, *extra)
        assert refused.exit_code == 2 and fragment in refused.output and "Traceback" not in refused.output
