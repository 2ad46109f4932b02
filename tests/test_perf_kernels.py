"""Issue 18, kernel physics: GEMM efficiency by reduction length (fixed per-tile cost, DeepGEMM's H800 table),
Blackwell's attention below Hopper's fraction of peak (FlashAttention-4's asymmetric scaling), overlapped
pipeline sends (overlap_p2p_comm), MoE routing work and load imbalance; hand calculations."""

import json

import pytest

from rackwright.perf.efficiency import BLACKWELL_ATTENTION_RATIO, PROFILES, profile, tile_factor
from rackwright.perf.precision import recipe
from rackwright.perf.system import load_system
from rackwright.perf.training import (
    MOE_LOAD_IMBALANCE,
    Parallelism,
    _gemm_time,
    _layer_times,
    _moe_route,
    _shape_factor,
    train_step,
)
from rackwright.perf.workload import load_model
from test_cli import run

H100 = load_system("dgx-h100-ndr")
B200 = load_system("dgx-b200")
MIXTRAL = load_model("mixtral-8x7b")
GPT3 = load_model("gpt3-175b")
W = 3.35e12 * 0.85  # H100 HBM bandwidth × the memory-bound efficiency


def test_deepgemm_table_follows_k_over_k_plus_k0():
    # DeepGEMM's H800 FP8 GEMMs at M = 4,096 (validation/kernel_figures.md): TFLOP/s / 1,979 against K and the tile
    # factor q of the M × N output (256 × 128 tiles; tests/test_perf_calibration.py fits k0). With k0 = 620 (H100
    # FP8) and a plateau of 0.695 every row but the narrow N = 2,112 one lies within 0.025. N = 4,096, 7,168, 24,576
    # and 32,768 are whole tiles (q = 1); so are the grouped rows' 4,096 and 8,192 per group.
    rows = [(1536, 0.500), (512, 0.298), (16384, 0.686), (7168, 0.659), (2048, 0.518), (7168, 0.655), (2048, 0.555),
            (7168, 0.651), (2048, 0.552)]
    for k, measured in rows:
        assert 0.695 * k / (k + 620) == pytest.approx(measured, abs=0.025), k
    # N = 2,112 pads to 17 · 128 = 2,176 (q = 66/68): 0.695 · 7,168/7,788 · 66/68 = 0.621, above the measured 0.535.
    assert 0.695 * 7168 / (7168 + 620) * 66 / 68 == pytest.approx(0.621, abs=0.001)
    # The fixed cost is clocks, so k0 scales with the dense FLOP per clock per SM: A100 2,048, H100 4,096,
    # B200 8,192 (BF16), i.e. 155, 310 and 620 K-elements in BF16.
    assert [PROFILES[p].gemm_k0 for p in ("a100", "h100", "b200")] == [155.0, 310.0, 620.0]


def test_shape_factor_hand_calculation():
    # Forward K = h and n, input gradients K = n and h, weight gradients K = T: 3 / Σ (K + k0)/K.
    assert float(_shape_factor(4096.0, 4096.0, 4096.0, 600.0)) == pytest.approx(4096 / 4696)
    expected = 3 / ((8192 + 300) / 8192 + (2304 + 300) / 2304 + (1024 + 300) / 1024)
    assert float(_shape_factor(8192.0, 2304.0, 1024.0, 300.0)) == pytest.approx(expected)
    # A GEMM runs at peak × plateau × shape (compute-bound), plus a launch.
    n = 8192.0
    t = _gemm_time(2 * n**3, n, n, n, 1979e12, 3.35e12, profile("h100"), 0.58, 1.0, shape=0.9)
    assert float(t) == pytest.approx(2 * n**3 / (1979e12 * 0.58 * 0.9) + 4e-6)


def test_small_experts_lose_gemm_efficiency():
    # Weight gradients of an expert reduce over its tokens: few tokens per expert, lower efficiency.
    assert float(_shape_factor(4096.0, 14336.0, 256.0, 600.0)) < 0.7 * float(
        _shape_factor(4096.0, 14336.0, 16384.0, 600.0)
    )


def test_blackwell_attention_ratio_hand_calculation():
    # Non-MMA work of a B200 attention tile r = 1.4 MMA-times (FlashAttention-4: 1.25-1.6); Hopper r/2 = 0.7.
    # Perfect overlap: 1/r = 0.714; none: (1 + r/2)/(1 + r) = 1.7/2.4 = 0.708; the smaller, rounded: 0.71.
    assert BLACKWELL_ATTENTION_RATIO == 0.71
    assert profile("b200").attention == pytest.approx(0.45 * 0.71, abs=1e-3)
    assert profile("h100").attention == 0.45
    # B200 takes H100's measured GEMM fraction (0.72 at 8,192³, whole tiles).
    assert profile("b200").gemm == profile("h100").gemm == 0.72
    # Forward exponentials vs MMAs of a 128 × 128 tile at head dim 128 on a B200 SM (16 exp, 8,192 FLOP per clock).
    assert 128 * 128 / 16 == 4 * 128**3 / 8192


def _gpt3(overlap_p2p, vp=6):
    p = Parallelism(tp=4, pp=8, dp=2, micro_batch=2, vp=vp, sp=True, recompute=0, distributed_optimizer=True,
                    overlap_p2p=overlap_p2p)
    return train_step(GPT3, B200.with_accelerators(64), p, 2048, 2048, "fp8")


def test_overlapped_pipeline_sends_hand_calculation():
    # MLPerf's GPT-3 layout on 64 B200: PP 8 over nodes (stride TP·DP = 8): each send of a micro-batch's
    # activations, 2 × 2,048 tokens × 12,288 × 2 bytes / TP 4 (SP), crosses one 400 Gb/s NIC at 0.85, plus 10 µs;
    # 2·VP sends per slot and 2,048 / (2 × 2) = 512 micro-batches.
    plain = _gpt3(False)
    send = 2 * 2048 * 12288 * 2 / 4 / (50e9 * 0.85) + 10e-6
    assert float(plain["breakdown"]["pp_p2p"]) == pytest.approx(512 * 2 * 6 * send)
    # Overlapped (interleaved schedule only), the sends hide behind the slot's compute (far longer).
    assert float(_gpt3(True)["breakdown"]["pp_p2p"]) == 0.0
    assert float(_gpt3(True)["step_time_s"]) < float(plain["step_time_s"])
    # Without interleaving Megatron cannot overlap them: the flag changes nothing.
    assert float(_gpt3(True, vp=1)["step_time_s"]) == pytest.approx(float(_gpt3(False, vp=1)["step_time_s"]))


def test_moe_routing_hand_calculation():
    # Mixtral (k = 2): router read 1, permute 2k = 4, unpermute k + 1 = 3 units of T·h·2 bytes; with 2 local
    # experts (EP 4) the received tokens are sorted by expert and back, 4k = 8 more; 6 launches.
    tokens, h = 4096.0, MIXTRAL.hidden
    eff = profile("h100")
    one = Parallelism(tp=1, pp=1, dp=8, micro_batch=1, ep=8).arrays()
    two = Parallelism(tp=1, pp=1, dp=8, micro_batch=1, ep=4).arrays()
    unit = tokens * h * 2 / W
    assert float(_moe_route(MIXTRAL, one, tokens, 3.35e12, eff)) == pytest.approx(8 * unit + 6 * 4e-6)
    assert float(_moe_route(MIXTRAL, two, tokens, 3.35e12, eff)) == pytest.approx(16 * unit + 6 * 4e-6)


def test_busiest_expert_rank_sets_the_pace():
    # The experts' GEMMs of an EP rank see MOE_LOAD_IMBALANCE (1.125, Switch Transformer's capacity factors
    # 1.0-1.25) times the mean tokens; with all experts on one rank (EP 1) there is nothing to wait for.
    assert MOE_LOAD_IMBALANCE == 1.125
    def expert_gemm(ep):
        c = Parallelism(tp=1, pp=1, dp=8, micro_batch=1, ep=ep).arrays()
        bf16 = recipe("bf16")
        parts = _layer_times(MIXTRAL, H100, c, 4096.0, 4096.0, True, profile("h100"), 989e12, bf16, 989e12, False, 0.0)
        return float(parts["_mlp_gemm"])

    # EP 8: one expert per rank on k·T·ep/E × 1.125 = 9,216 tokens; EP 1: all 8 experts on k·T/E = 1,024 tokens
    # each. Compute-bound at these sizes with k0 = 0, so the GEMM time is FLOPs / (peak · 0.72 · q), 2 launches
    # each. The output shapes (n = 3·14,336/2 = 21,504 = 168 · 128, h = 4,096, T = 9,216 = 36 · 256 or 1,024 =
    # 4 · 256) are whole 256 × 128 tiles: q = 1.
    flops = 2 * 2 * 4096 * MIXTRAL.expert_params
    assert expert_gemm(8) == pytest.approx(1.125 * flops / (989e12 * 0.72) + 2 * 4e-6, rel=1e-3)
    assert expert_gemm(1) == pytest.approx(flops / (989e12 * 0.72) + 8 * 2 * 4e-6, rel=1e-3)


def test_tile_factor_hand_calculation():
    # NVIDIA's tile quantization: the M × N output padded to whole tiles, ⌈M/tm⌉·tm × ⌈N/tn⌉·tn, in the better of
    # 256 × 128 and 128 × 256; no wave term (stream-K fills the last wave).
    h100 = profile("h100")
    # M = N = 4,096: whole tiles either way.
    assert float(tile_factor(4096.0, 4096.0, h100)) == 1.0
    # M = 4,100: 256 on M pads to 17 · 256 = 4,352 (4,100/4,352 = 0.942), 128 on M to 33 · 128 = 4,224
    # (4,100/4,224 = 0.971); N = 4,096 whole either way. The better: 4,100/4,224.
    assert float(tile_factor(4100.0, 4096.0, h100)) == pytest.approx(4100 / 4224)
    # Narrow N = 2,112 (DeepGEMM's slow row): 128 on N pads to 17 · 128 = 2,176 (66/68), 256 on N to 9 · 256 =
    # 2,304 (11/12); the better: 66/68.
    assert float(tile_factor(4096.0, 2112.0, h100)) == pytest.approx(66 / 68)
    # A small expert of 300 tokens: 256 on M pads to 512 (0.586), 128 on M to 384 (0.781); the better: 300/384.
    assert float(tile_factor(300.0, 4096.0, h100)) == pytest.approx(300 / 384)
    # In the block's shape factor: K = h over T × n, K = n over T × h, K = T over h × n (k0 = 0 isolates the tiles):
    # T × 2,112 and h × 2,112 at 66/68, T × h whole.
    assert float(_shape_factor(4096.0, 2112.0, 4096.0, 0.0, h100)) == pytest.approx(3 / (68 / 66 + 1 + 68 / 66))


def test_pp_overlap_option():
    # --pp-overlap hides the interleaved pipeline's sends; without interleaving it is refused (exit 2).
    base = ["perf", "train", "--model", "gpt3-175b", "--system", "dgx-b200", "--accelerators", "64",
            "--global-batch", "2048", "--micro-batch", "2", "--tp", "4", "--pp", "8", "--sp",
            "--distributed-optimizer", "--precision", "fp8", "--json"]
    plain = json.loads(run(*base, "--vp", "6").output)
    overlapped = run(*base, "--vp", "6", "--pp-overlap")
    assert overlapped.exit_code == 0
    doc = json.loads(overlapped.output)
    assert doc["parallelism"]["overlap_p2p"] is True
    assert doc["step_time_s"] < plain["step_time_s"]
    refused = run(*base, "--pp-overlap")
    assert refused.exit_code == 2 and "--pp-overlap" in refused.output and "Traceback" not in refused.output


def test_one_dp_chunk_stays_exposed_and_the_rest_takes_sms():
    # NeMo: DP communication is chunked by Transformer layer and the overlap "exposes only one DP communication
    # chunk". Llama 3 8B on 16 B200 (2 nodes, pure DP, 16 micro-batches): the reduce-scatter and the FP8 all-gather
    # fit behind the last backward and first forward, so what stays exposed is the first stage's tail, the input
    # embedding and one layer: (V·h + layer) / all parameters of the (only) stage.
    model = load_model("llama3-8b")
    p = Parallelism(tp=1, pp=1, dp=16, micro_batch=1, sp=False, recompute=0, distributed_optimizer=True,
                    overlap_param_gather=True, fp8_param_gather=True, fp32_grads=False)
    result = train_step(model, B200.with_accelerators(16), p, 256, 8192, "fp8")
    n, vh = model.total_params, model.vocab * model.hidden
    layer = (n - 2 * vh) / model.layers
    tail = (vh + layer) / n
    up, out = 900e9 * 0.80, 50e9 * 0.85

    def collective(size):  # 8 members per node over NVLink, then 1/8 of it over each NIC between the 2 nodes
        return 7 / 8 * size / up + 7 * 2e-6 + 1 / 2 * size / 8 / out + 10e-6

    reduce = collective(2.0 * n)  # BF16 gradients
    gather = collective(1.0 * (n - 2 * vh) + 2.0 * 2 * vh)  # FP8 layer weights, BF16 embedding and output layer
    # The hidden rest still occupies 20 of B200's 148 SMs while it runs (DeepSeek-V3 §3.2.2's 20 SMs for IB and
    # NVLink): the compute it overlaps loses that share.
    exposed = tail * (reduce + gather) + round(20 / 148, 3) * (1 - tail) * (reduce + gather)
    assert float(result["breakdown"]["dp_exposed"]) == pytest.approx(exposed, rel=1e-6)
    assert [PROFILES[p].comm_sms for p in ("a100", "h100", "b200")] == [0.185, 0.152, 0.135]


def _hsdp(replicas, seq=512):
    model = load_model("llama3-8b")
    p = Parallelism(tp=1, pp=1, dp=64, micro_batch=1, sp=False, recompute=0, fsdp=True, hsdp_replicas=replicas)
    return model, train_step(model, H100.with_accelerators(64), p, 64, seq, "bf16")


def test_hsdp_memory_and_replica_reduce():
    # HSDP (PyTorch FSDP's hybrid sharding): 8 replicas, each sharded over 64 / 8 = 8 ranks (one node).
    model, full = _hsdp(1)
    _, hybrid = _hsdp(8)
    # Memory: the sharded states (18 bytes per parameter with FP32 gradients, BF16) are split 8 ways, not 64; the
    # two gathered layers (2 × layer × 2 bytes) stay.
    n, vh = model.total_params, model.vocab * model.hidden
    gathered = 2 * (n - 2 * vh) / model.layers * 2.0
    states = n * 18.0
    assert float(full["memory"]["weights_and_optimizer"]) == pytest.approx(states / 64 + gathered, rel=1e-6)
    assert float(hybrid["memory"]["weights_and_optimizer"]) == pytest.approx(states / 8 + gathered, rel=1e-6)
    # Time: once per step the 8 replicas (one per node, stride 8) all-reduce their FP32 gradient shards, n·4/8
    # bytes, as 2 flat rings over the NICs, behind the last backward; with 512-token micro-batches it shows.
    # The breakdown's DP share also holds what the per-micro-batch gathers (2, BF16) and reduce-scatter (FP32)
    # inside the node leave exposed: at most all of them, 7/8 of the bytes at 450 GB/s × 0.80 (NVLink 4).
    ring = 7 / 8 * n * 4 / 8 / (50e9 * 0.85) + 7 * 10e-6
    in_node = 7 / 8 * (2 * 2 * n + 4 * n) / (450e9 * 0.80) + 3 * 7 * 2e-6
    exposed = float(hybrid["breakdown"]["dp_exposed"])
    assert 2 * ring - float(hybrid["step_time_s"]) < exposed < 2 * ring + in_node
    # The per-micro-batch gathers and reductions stay inside a node (NVLink): the hybrid step is faster.
    assert float(hybrid["step_time_s"]) < float(full["step_time_s"])


@pytest.mark.parametrize("args, fragment", [
    (["--hsdp-replicas", "2"], "add --fsdp"),
    (["--fsdp", "--hsdp-replicas", "3"], "does not divide DP × CP"),
])
def test_bad_hsdp_exit_2(args, fragment):
    result = run("perf", "train", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "16",
                 "--global-batch", "16", *args)
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_placement_hand_calculation():
    from rackwright.perf.placement import placement

    # Llama 3 405B on 1,152 GB200 (16 NVL72 racks): TP 8, CP 2, DP 9, PP 8, Megatron order TP, CP, DP, PP.
    place = placement(load_system("gb200-nvl72").with_accelerators(1152), tp=8, pp=8, dp=9, cp=2)
    groups = place["groups"]
    assert place["scale_up_domain"] == 72
    assert (groups["tp"]["stride"], groups["tp"]["scale_up_domains"], groups["tp"]["network"]) == (1, 1, "scale-up")
    # CP 2 at stride 8 fills blocks of 16 ranks; 72 is not a multiple of 16, so the groups of ranks 64-79
    # ({64 + r, 72 + r}, r < 8) straddle the boundary at 72: 2 domains.
    assert (groups["cp"]["stride"], groups["cp"]["scale_up_domains"]) == (8, 2)
    # DP: 9 ranks at stride 16 fill blocks of 144 = 2 domains; the group at offset r < 16 holds r, r + 16, ...,
    # r + 128: domains 0 and 1 (the model used to count floor(72 / 16) = 4 a domain, 3 domains).
    assert (groups["dp"]["stride"], groups["dp"]["scale_up_domains"], groups["dp"]["network"]) == (16, 2, "scale-out")
    assert (groups["pp"]["stride"], groups["pp"]["scale_up_domains"]) == (144, 8)  # one stage per 2 racks
    assert place["accelerators_per_rack"] == 72 and groups["pp"]["racks"] == 8 and groups["tp"]["racks"] == 1
    # On 8-GPU nodes TP 8 fills a node and CP 2 already leaves it.
    h100 = placement(H100.with_accelerators(1152), tp=8, pp=8, dp=9, cp=2)["groups"]
    assert h100["tp"]["network"] == "scale-up" and h100["cp"]["scale_up_domains"] == 2
    # Experts: EP 16 at stride ETP 1 spans two 8-GPU nodes, EP 8 one.
    assert placement(H100.with_accelerators(64), tp=1, pp=1, dp=64, ep=16)["groups"]["ep"]["scale_up_domains"] == 2
    assert placement(H100.with_accelerators(64), tp=1, pp=1, dp=64, ep=8)["groups"]["ep"]["network"] == "scale-up"


def _zero(zero2, seq):
    model = load_model("llama3-8b")
    p = Parallelism(tp=1, pp=1, dp=8, micro_batch=1, sp=False, recompute=0, distributed_optimizer=True,
                    zero2=zero2)
    return model, train_step(model, H100.with_accelerators(8), p, 64, seq, "bf16")


def test_zero2_memory_and_per_microbatch_reduction():
    # ZeRO-2 also shards the FP32 gradients over DP 8: 2 + 4/8 + 12/8 bytes per parameter instead of 2 + 4 + 12/8,
    # plus the whole FP32 gradient of the layer in backward until it is reduce-scattered (one of 32 layers).
    model, zero1 = _zero(False, 8192)
    _, zero2 = _zero(True, 8192)
    n = model.total_params
    layer = (n - 2 * model.vocab * model.hidden) / model.layers
    assert float(zero1["memory"]["weights_and_optimizer"]) == pytest.approx(n * (2 + 4 + 12 / 8), rel=1e-6)
    assert float(zero2["memory"]["weights_and_optimizer"]) == pytest.approx(n * (2 + 4 / 8 + 12 / 8) + 4 * layer,
                                                                            rel=1e-6)
    # Every micro-batch reduce-scatters its gradients (7/8 of 4·n bytes at 450 GB/s × 0.80 ≈ 78 ms) behind its own
    # backward: hidden behind an 8K-token backward, but each still takes 20 of 132 SMs (0.152) while it runs, 8 per
    # step; ZeRO-1 reduces once, its embedding-and-first-layer share exposed and the rest hidden at the same cost.
    rs = 7 / 8 * 4 * n / (450e9 * 0.80) + 7 * 2e-6
    vh = model.vocab * model.hidden
    tail = (vh + (n - 2 * vh) / model.layers) / n
    f = 0.152
    extra = 8 * f * rs - (tail * rs + f * (1 - tail) * rs)
    assert float(zero2["step_time_s"]) - float(zero1["step_time_s"]) == pytest.approx(extra, rel=1e-6)
    _, short1 = _zero(False, 512)
    _, short2 = _zero(True, 512)
    extra = float(short2["breakdown"]["dp_exposed"]) - float(short1["breakdown"]["dp_exposed"])
    assert 0.0 < extra < 8 * rs
    assert float(short2["step_time_s"]) > float(short1["step_time_s"])


def test_zero2_needs_the_distributed_optimizer():
    result = run("perf", "train", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "8",
                 "--global-batch", "8", "--zero2")
    assert result.exit_code == 2 and "--distributed-optimizer" in result.output and "Traceback" not in result.output


def test_eager_squared_relu_hand_calculation():
    # NeMo's squared ReLU (torch.pow(relu(x), 2), not fused) runs two kernels that each read and write the MLP's
    # intermediate tensor: 4 element passes forward against a fused GELU's 2. Nemotron-4 15B at TP 1, 4,096 tokens:
    # the activation moves 4 × 4,096 × 24,576 × 2 bytes = 805,306,368 bytes at 3.35 TB/s × 0.85, plus one launch.
    nemotron = load_model("nemotron4-15b")
    assert nemotron.ffn_type == "squared_relu" and nemotron.mlp_params(24576) == 2 * 6144 * 24576
    c = Parallelism(tp=1, pp=1, dp=8, micro_batch=1).arrays()
    parts = _layer_times(nemotron, H100, c, 4096.0, 4096.0, False, profile("h100"), 989e12, recipe("bf16"), 989e12,
                         False, 0.0)
    assert float(parts["_activation"]) == pytest.approx(4 * 4096 * 24576 * 2 / W + 4e-6, rel=1e-9)
    assert float(parts["_activation"]) == pytest.approx(286.8e-6, rel=1e-3)
    gelu = nemotron.model_copy(update={"ffn_type": "gelu"})
    fused = _layer_times(gelu, H100, c, 4096.0, 4096.0, False, profile("h100"), 989e12, recipe("bf16"), 989e12,
                         False, 0.0)
    # The two extra passes show in the layer's element-wise time; GEMMs, parameters and FLOPs stay the same.
    extra = 2 * 4096 * 24576 * 2 / W
    assert float(parts["elementwise"] - fused["elementwise"]) == pytest.approx(extra, rel=1e-9)
    assert float(parts["gemm"]) == float(fused["gemm"]) and gelu.total_params == nemotron.total_params
