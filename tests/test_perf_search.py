"""The parallelism search over precision recipes, sharding, uneven stages and MoE folding, against one at a time."""

import itertools

import numpy as np
import pytest

from rackwright.perf.api import search_report
from rackwright.perf.search import FIELDS, search
from rackwright.perf.system import load_system
from rackwright.perf.training import RECOMPUTE, Parallelism, train_step
from rackwright.perf.workload import load_model

H100 = load_system("dgx-h100-ndr")
MIXTRAL = load_model("mixtral-8x7b")


def _hand_grid(accelerators: int, batch: int):
    """Mixtral 8x7B on 64 H100, written out by hand: TP 2/8, PP 1/2, EP 1/8 with ETP = TP or 1, recompute
    none/selective, the five ways of sharding (DDP, ZeRO-1, ZeRO-2, FSDP, HSDP over one 8-GPU node),
    BF16 and FP8 current scaling, both dispatchers with EP; the overlap flags as the search sets them."""
    for tp, pp, ep, etp1, rec, sharding, precision, deepep in itertools.product(
        (2, 8), (1, 2), (1, 8), (False, True), ("none", "selective"), range(5), ("bf16", "fp8-current"), (0, 1)
    ):
        dp = accelerators // (tp * pp)
        etp = 1 if etp1 else tp
        if (tp * dp) % (ep * etp) or batch % dp or (deepep and ep == 1):
            continue
        shard_group = 8 // tp  # DP ranks in one node
        if sharding == 4 and not (shard_group > 1 and dp % shard_group == 0 and dp > shard_group):
            continue
        yield precision, Parallelism(
            tp=tp,
            pp=pp,
            dp=dp,
            micro_batch=1,
            ep=ep,
            etp=etp,
            sp=tp > 1,
            recompute=RECOMPUTE[rec],
            distributed_optimizer=sharding in (1, 2),
            zero2=sharding == 2,
            fsdp=sharding >= 3,
            hsdp_replicas=dp // shard_group if sharding == 4 else 1,
            overlap_param_gather=sharding in (1, 2),
            moe_dispatcher=deepep,
            moe_a2a_overlap=ep > 1,
        )


@pytest.mark.slow
def test_search_is_never_worse_than_the_same_dimensions_one_at_a_time():
    accelerators, batch, seq = 64, 64, 4096
    system = H100.with_accelerators(accelerators)
    best = np.inf
    for precision, cfg in _hand_grid(accelerators, batch):
        r = train_step(MIXTRAL, system, cfg, batch, seq, precision)
        if bool(r["fits"]):
            best = min(best, float(r["step_time_s"]))
    assert np.isfinite(best)
    result = search(MIXTRAL, H100, accelerators, batch, seq, ["bf16", "fp8-current"])
    top = result.order()[0]
    assert float(result.metrics["step_time_s"][top]) <= best * (1 + 1e-12)
    # The search's pick, evaluated on its own, gives the figures the array pass gave.
    pick = result.parallelism(top)
    alone = train_step(
        MIXTRAL,
        system,
        Parallelism(**{k: result.configurations[k][top] for k in FIELDS}),
        batch,
        seq,
        pick["precision"],
    )
    assert float(alone["step_time_s"]) == pytest.approx(float(result.metrics["step_time_s"][top]), rel=1e-12)


def test_several_recipes_are_one_search_each_joined():
    llama = load_model("llama3-8b")
    both = search(llama, H100, 16, 64, 4096, ["bf16", "fp8-current"])
    each = [search(llama, H100, 16, 64, 4096, name) for name in ("bf16", "fp8-current")]
    assert both.valid == sum(r.valid for r in each)
    assert both.evaluated == sum(r.evaluated for r in each)
    fastest = min(float(r.metrics["step_time_s"][r.order()[0]]) for r in each)
    assert float(both.metrics["step_time_s"][both.order()[0]]) == pytest.approx(fastest, rel=1e-12)
    assert both.parallelism(both.order()[0])["precision"] == "fp8-current"  # FP8 GEMMs beat BF16 on H100


def test_grid_crosses_sharding_and_uneven_stages():
    # Llama 3 405B: 126 layers + embedding + loss = 128 = PP 16 x 8, so the first and last stages hold 7 layers.
    result = search(load_model("llama3-405b"), H100, 16384, 2048)
    cfg = result.configurations
    uneven = (cfg["pp"] == 16) & (cfg["vp"] == 1) & (cfg["first_stage_layers"] > 0)
    assert uneven.any() and np.all(cfg["first_stage_layers"][uneven] == 7)
    assert np.all(cfg["last_stage_layers"][uneven] == 7)
    assert cfg["zero2"].any() and np.all(cfg["distributed_optimizer"][cfg["zero2"] > 0] == 1)
    hsdp = cfg["hsdp_replicas"] > 1
    assert hsdp.any() and np.all(cfg["fsdp"][hsdp] == 1)
    # HSDP shards over the DP x CP ranks of one 8-GPU node: replicas x (8 / TP) = DP x CP.
    assert np.all(cfg["hsdp_replicas"][hsdp] * (8 // cfg["tp"][hsdp]) == cfg["dp"][hsdp] * cfg["cp"][hsdp])


def test_precisions_all_searches_what_the_accelerator_supports():
    doc = search_report("llama3-8b", "dgx-h100-ndr", accelerators=16, global_batch=64, seq_len=4096, precisions="all")
    searched = doc["precision"]["searched"]
    assert {"bf16", "fp8-delayed", "fp8-current", "fp8-blockwise"} <= set(searched)
    assert "nvfp4" not in searched and "mxfp8" not in searched  # Hopper: no FP4 peak, no MX block scaling
    assert doc["best"]["precision"] == doc["precision"]["recipe"] != "bf16"


def test_each_row_names_its_sharding():
    result = search(load_model("llama3-8b"), H100, 64, 512, 4096)
    cfg = result.configurations
    expected = {
        "ddp": lambda i: not (cfg["distributed_optimizer"][i] or cfg["fsdp"][i]),
        "zero1": lambda i: cfg["distributed_optimizer"][i] and not cfg["zero2"][i],
        "zero2": lambda i: cfg["zero2"][i] and cfg["distributed_optimizer"][i],
        "fsdp": lambda i: cfg["fsdp"][i] and cfg["hsdp_replicas"][i] == 1,
        "hsdp": lambda i: cfg["fsdp"][i] and cfg["hsdp_replicas"][i] > 1,
    }
    seen = set()
    for i in np.linspace(0, result.valid - 1, 400).astype(int):
        name = result.parallelism(i)["sharding"]
        assert expected[name](i), (name, i)
        seen.add(name)
    assert seen == set(expected)


def test_restrict_keeps_only_the_given_values():
    from rackwright.errors import InputError

    kw = dict(accelerators=64, global_batch=512, seq_len=4096, top=1000)
    doc = search_report("llama3-8b", "dgx-h100-ndr", restrict=["tp=1,2", "sharding=zero1,fsdp"], **kw)
    full = search_report("llama3-8b", "dgx-h100-ndr", **kw)
    assert 0 < doc["configurations_valid"] < full["configurations_valid"]
    assert {row["tp"] for row in doc["top"]} <= {1, 2} and {row["sharding"] for row in doc["top"]} <= {"zero1", "fsdp"}
    # The restricted best is the best of the full search's rows that meet the restriction.
    allowed = [r for r in full["top"] if r["tp"] in (1, 2) and r["sharding"] in ("zero1", "fsdp")]
    assert doc["best"]["step_time_s"] == pytest.approx(min(r["step_time_s"] for r in allowed), rel=1e-12)
    for bad in (["tp=3"], ["sharding=zero9"], ["heads=4"], ["tp"]):
        with pytest.raises(InputError):
            search_report("llama3-8b", "dgx-h100-ndr", restrict=bad, **kw)


def test_tp_overlap_is_set_for_every_tp_above_one():
    # --tp-overlap is the user's stack, not an axis: every TP > 1 row overlaps, TP 1 rows have nothing to overlap;
    # a row re-evaluated alone gives the step time of the array pass; off by default.
    model = load_model("llama3-8b")
    on = search(model, H100, 64, 64, overlap_tp=True)
    assert np.array_equal(on.configurations["overlap_tp"], (on.configurations["tp"] > 1).astype(int))
    assert not search(model, H100, 64, 64).configurations["overlap_tp"].any()
    system = H100.with_accelerators(64)
    picks = np.flatnonzero(on.configurations["tp"] == 8)[:3]
    for i in picks:
        cfg = Parallelism(**{k: on.configurations[k][i] for k in FIELDS})
        alone = train_step(model, system, cfg, 64, model.seq_len, "bf16")
        assert float(alone["step_time_s"]) == pytest.approx(float(on.metrics["step_time_s"][i]), rel=1e-12)
    doc = search_report("llama3-8b", "dgx-h100-ndr", accelerators=64, global_batch=64, tp_overlap=True, top=50)
    assert all(row["overlap_tp"] == (row["tp"] > 1) for row in doc["top"])
