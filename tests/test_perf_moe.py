"""Issue 18, mixture of experts: dispatch/combine per rank after SP, per-domain de-duplication (DeepEP),
FP8 dispatch, overlap with compute, expert tensor parallelism and parallel folding (EP × ETP over TP × CP × DP)."""

import numpy as np
import pytest

from rackwright.perf.efficiency import profile
from rackwright.perf.precision import recipe
from rackwright.perf.system import load_system
from rackwright.perf.training import Parallelism, _moe_dispatch_combine, model_stage_params, train_step
from rackwright.perf.workload import load_model
from test_cli import run

H100 = load_system("dgx-h100-ndr")
MIXTRAL = load_model("mixtral-8x7b")
DSV3 = load_model("deepseek-v3")
EFF = profile("h100")
UP, OUT = 450e9 * 0.80, 50e9 * 0.85


def c(**kw):
    base = dict(tp=1, pp=1, dp=8, micro_batch=1, ep=8, etp=0)
    base.update(kw)
    return Parallelism(**base).arrays()


def test_dispatch_inside_one_domain_hand_calculation():
    # Mixtral (k = 2) with EP 8 inside one 8-GPU node, 4,096 local tokens of h = 4,096 in BF16: each token's 2
    # copies go to uniformly chosen EP ranks, 7/8 of them to another GPU over NVLink; dispatch and combine alike.
    t = float(_moe_dispatch_combine(MIXTRAL, H100, c(), 4096.0, EFF, recipe("bf16")))
    one_way = 2 * 7 / 8 * 4096 * 4096 * 2 / UP + 7 * 2e-6
    assert t == pytest.approx(2 * one_way)


def test_dispatch_moves_the_sequence_parallel_share():
    # With TP 4 and SP a rank dispatches its T/4 tokens, not the whole micro-batch (ETP 1, EP 8 inside a node).
    from rackwright.perf.training import _layer_times

    cfg = c(tp=4, dp=2, ep=8, etp=1, sp=True)
    parts = _layer_times(MIXTRAL, H100, cfg, 4096.0, 4096.0, True, EFF, 989e12, recipe("bf16"), 989e12, False, 300.0)
    expected = _moe_dispatch_combine(MIXTRAL, H100, cfg, 4096.0 / 4, EFF, recipe("bf16"))
    # The busiest EP rank receives 1.125 times the mean (MOE_LOAD_IMBALANCE) and every rank waits for it.
    assert float(parts["ep"]) == pytest.approx(1.125 * float(expected))
    whole = float(_moe_dispatch_combine(MIXTRAL, H100, cfg, 4096.0, EFF, recipe("bf16")))
    latency = 2 * 7 * 2e-6  # dispatch and combine, 7 NVLink steps each
    assert float(expected) - latency == pytest.approx((whole - latency) / 4)


def test_deepep_deduplicates_per_domain_and_dispatches_fp8():
    # DeepSeek-V3's architecture (k = 8) without its node limit over EP 64 = 8 nodes of 8: all-to-all sends
    # 8 · 56/64 = 7 copies per token over the NIC; DeepEP one per destination node,
    # (N − 1)·(1 − (1 − 1/N)^k) = 7 · (1 − (7/8)^8) ≈ 4.59.
    tokens, h = 4096.0, DSV3.hidden
    model = DSV3.model_copy(update={"max_nodes_per_token": None})
    plain = float(_moe_dispatch_combine(model, H100, c(ep=64, dp=64), tokens, EFF, recipe("bf16")))
    deepep = float(_moe_dispatch_combine(model, H100, c(ep=64, dp=64, moe_dispatcher=1), tokens, EFF, recipe("bf16")))
    lat = 7 * 2e-6 + 7 * 10e-6
    per_copy = tokens * h * 2.0
    assert plain == pytest.approx(2 * (8 * 7 / 64 * per_copy / UP + 8 * 56 / 64 * per_copy / OUT + lat))
    remote = 7 * (1 - (7 / 8) ** 8)
    assert deepep == pytest.approx(2 * (8 * 7 / 64 * per_copy / UP + remote * per_copy / OUT + lat))
    fp8 = float(_moe_dispatch_combine(model, H100, c(ep=64, dp=64, moe_dispatcher=1), tokens, EFF, recipe("fp8")))
    # FP8 dispatch (1 byte per value), BF16 combine (2 bytes): 1.5 times half the BF16 traffic.
    assert fp8 == pytest.approx((8 * 7 / 64 * per_copy / UP + remote * per_copy / OUT) * 1.5 + 2 * lat)


def test_node_limited_routing_caps_the_copies_across_nics():
    # DeepSeek-V3 §2.1.2/§3.2.2: each token goes to experts on at most M = 4 nodes. EP 64 over 8 nodes of 8, k = 8.
    # Unlimited, DeepEP sends 7 · (1 − (7/8)^8) ≈ 4.59 copies per token over the NIC; limited, the 4 chosen nodes
    # include the token's own with probability 4/8, so 4 · (1 − 1/8) = 3.5 copies. All-to-all without
    # de-duplication sends each of the 8 copies on its own, 8 · 56/64 = 7 over the NIC, with or without the limit.
    from rackwright.perf.training import _remote_domains

    assert DSV3.max_nodes_per_token == 4
    assert float(_remote_domains(8.0, 8, None)) == pytest.approx(7 * (1 - (7 / 8) ** 8))
    assert float(_remote_domains(8.0, 8, 4)) == pytest.approx(3.5)
    # A limit of at least the domains the token could reach changes nothing; one domain sends nothing remote.
    assert float(_remote_domains(8.0, 8, 8)) == pytest.approx(7 * (1 - (7 / 8) ** 8))
    assert float(_remote_domains(1.0, 8, 4)) == 0.0
    tokens, h = 4096.0, DSV3.hidden
    per_copy = tokens * h * 2.0
    lat = 7 * 2e-6 + 7 * 10e-6
    limited = float(_moe_dispatch_combine(DSV3, H100, c(ep=64, dp=64, moe_dispatcher=1), tokens, EFF, recipe("bf16")))
    assert limited == pytest.approx(2 * (8 * 7 / 64 * per_copy / UP + 3.5 * per_copy / OUT + lat))
    plain = float(_moe_dispatch_combine(DSV3, H100, c(ep=64, dp=64), tokens, EFF, recipe("bf16")))
    assert plain == pytest.approx(2 * (8 * 7 / 64 * per_copy / UP + 7 * per_copy / OUT + lat))


def test_node_limit_needs_experts():
    from pydantic import ValidationError

    from rackwright.perf.workload import ModelSpec

    dense = load_model("llama3-8b").model_dump()
    with pytest.raises(ValidationError, match="needs experts"):
        ModelSpec.model_validate({**dense, "max_nodes_per_token": 4})


@pytest.mark.parametrize("ep, factor, pad, load", [
    (8, 0.0, False, 1.125),  # dropless: the busiest EP rank carries MOE_LOAD_IMBALANCE times the mean
    (8, 1.0, False, 1.0),  # dropped above capacity 1.0 × mean: min(1.125, 1.0)
    (8, 2.0, False, 1.125),  # a capacity above the busiest load drops nothing: min(1.125, 2.0)
    (8, 1.0, True, 1.0),  # padded: every expert computes exactly its capacity, 1.0 × mean
    (8, 1.25, True, 1.25),  # padded above the mean: every rank computes and exchanges 1.25 × mean
    (1, 1.5, True, 1.5),  # padding costs even without EP: each expert computes 1.5 × its mean tokens
    (1, 1.5, False, 1.0),  # without EP the rank's experts see the mean in total
])
def test_capacity_factor_sets_the_busiest_rank_load(ep, factor, pad, load):
    # Megatron-Core: capacity = T·k·f / E per expert (moe_utils.get_capacity), drops before the all-to-all,
    # --moe-pad-expert-input-to-capacity exchanges and computes the padded buffers.
    from rackwright.perf.training import _layer_times, _moe_load

    cfg = c(ep=ep, moe_capacity_factor=factor, moe_pad_to_capacity=pad)
    assert float(_moe_load(cfg)) == pytest.approx(load)
    parts = _layer_times(MIXTRAL, H100, cfg, 4096.0, 4096.0, True, EFF, 989e12, recipe("bf16"), 989e12, False, 300.0)
    assert float(parts["ep"]) == pytest.approx(load * float(_moe_dispatch_combine(MIXTRAL, H100, cfg, 4096.0, EFF,
                                                                                     recipe("bf16"))))


def test_padded_capacity_computes_the_padded_tokens():
    # Mixtral at EP 8 (one expert per rank): the expert GEMMs' FLOPs follow the tokens, so the padded capacity
    # 1.0 × mean computes 1/1.125 of the dropless busiest rank's expert FLOPs; at a large T the GEMMs are compute-bound
    # and the expert time scales nearly so.
    from rackwright.perf.training import _layer_times

    args = (EFF, 989e12, recipe("bf16"), 989e12, False, 0.0)
    dropless = _layer_times(MIXTRAL, H100, c(), 65536.0, 4096.0, True, *args)
    padded = _layer_times(MIXTRAL, H100, c(moe_capacity_factor=1.0, moe_pad_to_capacity=True), 65536.0, 4096.0,
                          True, *args)
    ratio = float(padded["_mlp_gemm"]) / float(dropless["_mlp_gemm"])
    assert ratio == pytest.approx(1 / 1.125, rel=0.01)


def test_capacity_factor_in_the_cli():
    base = ["perf", "train", "--model", "mixtral-8x7b", "--system", "dgx-h100-ndr", "--accelerators", "16",
            "--global-batch", "32", "--ep", "8", "--seq-len", "4096", "--json"]
    dropless = run(*base)
    padded = run(*base, "--moe-capacity-factor", "1.0", "--moe-pad-to-capacity")
    assert dropless.exit_code == 0 and padded.exit_code == 0
    assert '"moe_capacity_factor": null' in dropless.stdout and '"moe_capacity_factor": 1.0' in padded.stdout
    assert '"moe_pad_to_capacity": true' in padded.stdout
    # Every rank computes the mean load (1.0) instead of waiting for the busiest (1.125): a shorter step.
    import json

    assert json.loads(padded.stdout)["step_time_s"] < json.loads(dropless.stdout)["step_time_s"]


def test_a2a_overlap_hides_dispatch_behind_compute():
    sys = H100.with_accelerators(64)
    base = dict(tp=1, pp=1, dp=64, micro_batch=1, ep=64)
    plain = train_step(DSV3.with_seq_len(4096), sys, Parallelism(**base), 64)
    hidden = train_step(DSV3.with_seq_len(4096), sys, Parallelism(**base, moe_a2a_overlap=True), 64)
    assert float(hidden["breakdown"]["ep"]) < float(plain["breakdown"]["ep"])


def test_expert_tensor_parallel_folding():
    # Experts split by EP × ETP (not TP): with TP 4, EP 8 and ETP 1 a rank holds E/8 whole experts.
    folded = c(tp=4, dp=8, ep=8, etp=1)
    plain = c(tp=4, dp=8, ep=8, etp=0)  # ETP = TP = 4
    experts = MIXTRAL.moe_layers * MIXTRAL.experts * MIXTRAL.expert_params
    diff = float(model_stage_params(MIXTRAL, folded) - model_stage_params(MIXTRAL, plain))
    assert diff == pytest.approx(experts / 8 * (1 - 1 / 4))


def test_folding_is_expressible_in_the_cli():
    # Mixtral 8x7B on 32 GPUs with TP 4 and EP 8: DP = 8, EP × ETP = 8 × 1 divides TP × CP × DP = 32.
    ok = run("perf", "train", "--model", "mixtral-8x7b", "--system", "dgx-h100-ndr", "--accelerators", "32",
             "--global-batch", "64", "--tp", "4", "--ep", "8", "--etp", "1", "--sp", "--seq-len", "4096",
             "--moe-dispatcher", "deepep", "--moe-a2a-overlap", "--json")
    assert ok.exit_code == 0 and '"etp": 1' in ok.stdout
    bad = run("perf", "train", "--model", "mixtral-8x7b", "--system", "dgx-h100-ndr", "--accelerators", "16",
              "--global-batch", "64", "--tp", "4", "--ep", "8", "--seq-len", "4096")
    assert bad.exit_code == 2 and "EP × ETP = 8 × 4 must divide" in bad.output


@pytest.mark.parametrize("args, fragment", [
    (["--moe-dispatcher", "nccl"], "unknown MoE dispatcher"),
    (["--model", "llama3-8b", "--moe-a2a-overlap"], "no experts"),
    (["--model", "llama3-8b", "--etp", "2"], "needs an MoE model"),
    (["--model", "llama3-8b", "--moe-capacity-factor", "1.0"], "no experts to drop tokens at"),
    (["--moe-pad-to-capacity"], "pads to the expert capacity"),
    (["--moe-capacity-factor", "0"], "must be above 0"),
    (["--moe-capacity-factor", "-1"], "must be above 0"),
    (["--moe-capacity-factor", "nan"], "must be above 0"),
])
def test_bad_moe_options_exit_2(args, fragment):
    base = ["perf", "train", "--model", "mixtral-8x7b", "--system", "dgx-h100-ndr", "--accelerators", "8",
            "--global-batch", "8", "--seq-len", "4096"]
    if "--model" in args:
        base[base.index("--model") + 1] = args[args.index("--model") + 1]
        args = [a for i, a in enumerate(args) if a != "--model" and (i == 0 or args[i - 1] != "--model")]
    result = run(*base, *args)
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_search_explores_expert_tensor_parallelism():
    from rackwright.perf.search import search

    result = search(MIXTRAL, load_system("gb200-nvl72"), 144, 1152, 4096)
    cfg = result.configurations
    assert set(np.unique(cfg["etp"])) >= {1} and np.any(cfg["etp"] != cfg["tp"])
    assert np.all((cfg["tp"] * cfg["cp"] * cfg["dp"]) % (cfg["ep"] * cfg["etp"]) == 0)


def test_expert_gradients_go_over_the_expert_data_parallel_group():
    # Mixtral 8x7B (expert 3 x 4,096 x 14,336 = 176,160,768; attention 41,943,040 per layer) at TP 1, EP 8 on 64 H100:
    # one expert per GPU and layer, so experts are 176,160,768 / (41,943,040 + 176,160,768) of its layer weights.
    from rackwright.perf.stages import expert_data_parallel, routed_expert_share
    from rackwright.perf.training import _dp_collective

    cfg = c(dp=64)
    assert float(routed_expert_share(MIXTRAL, cfg)) == pytest.approx(176_160_768 / 218_103_808)
    # Megatron-Core folds ETP x EP x EDP over TP x CP x DP: the 8 GPUs holding an expert are 8 apart, one per node.
    assert float(expert_data_parallel(cfg)) == 8
    system = H100.with_accelerators(64)
    dense, experts = 1e9, 4e9
    # The dense bytes: 8 members per node reduce-scatter over NVLink, then 1/8 each over the NICs between 8 nodes;
    # the experts' bytes: a flat ring of 8 over the NICs, 10 µs per step.
    expected = (
        7 / 8 * dense / UP + 7 * 2e-6 + 7 / 8 * dense / 8 / OUT + 7 * 10e-6 + 7 / 8 * experts / OUT + 7 * 10e-6
    )
    assert float(_dp_collective(cfg, dense + experts, experts, 8.0, system, EFF)) == pytest.approx(expected)
    # A dense model has no expert share, and with EP 1 the expert group is DP itself.
    assert routed_expert_share(load_model("llama3-8b"), cfg) == 0.0
    assert float(expert_data_parallel(c(dp=64, ep=1))) == 64


def test_distributed_optimizer_shards_expert_state_over_expert_dp():
    # With the distributed optimizer the experts' optimizer state is split over EDP = 8, not DP = 64: on one stage
    # of Mixtral 8x7B at EP 8, 32 x 176,160,768 expert weights per GPU, the rest of its weights over 64.
    from rackwright.perf.memory import OPTIMIZER_BYTES, STATE_BYTES, training_memory
    from rackwright.perf.stages import stage_params

    system = H100.with_accelerators(64)
    cfg = Parallelism(tp=1, pp=1, dp=64, ep=8, micro_batch=1, recompute=2, distributed_optimizer=True).arrays()
    params = float(stage_params(MIXTRAL, cfg, 0)[0])
    experts = 32 * 176_160_768
    expected = params * STATE_BYTES + OPTIMIZER_BYTES * ((params - experts) / 64 + experts / 8)
    memory = training_memory(MIXTRAL, system, cfg, 4096, 1.0)
    assert float(memory["weights_and_optimizer"]) == pytest.approx(expected)
