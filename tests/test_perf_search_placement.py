"""Placement in the search: the groups each configuration sends off the scale-up domain and the rack, and
``--within-scale-up`` (issue 18)."""

import numpy as np
import pytest

from rackwright.errors import InputError
from rackwright.perf.api import search_report
from rackwright.perf.placement import crossings, group_names, layout, placement
from rackwright.perf.search import search
from rackwright.perf.system import load_system
from rackwright.perf.workload import load_model

NVL72 = load_system("gb200-nvl72")
H100 = load_system("dgx-h100-ndr")
MIXTRAL = load_model("mixtral-8x7b")


def test_groups_off_the_domain_by_hand():
    # 1,152 ranks, TP 8, CP 2, DP 9, PP 8, EP 8. Strides: TP 1, CP 8, DP 16, PP 144, EP = ETP.
    # NVL72 (72 ranks a domain and a rack): TP 8 inside (72 = 9 · 8); CP 2 fills blocks of 16 consecutive ranks, and
    # the block of ranks 64-79 straddles the boundary at 72; DP 9 at stride 16 (blocks of 144) spans 2 domains; PP
    # (stride 144) one member a domain, 8 domains; EP at stride ETP 8 fills blocks of 64 ranks, and ranks 64-127
    # straddle 72. 8-GPU nodes: CP (stride 8) already has one member a node; EP at stride 8 spans 8 nodes, at
    # stride 1 (ETP 1) it stays inside.
    groups = layout(8, 8, 9, 2, 8, 8)
    assert group_names(crossings(groups, 72)) == ["cp", "dp", "pp", "ep"]
    assert group_names(crossings(groups, 8)) == ["cp", "dp", "pp", "ep"]
    assert group_names(crossings(layout(8, 8, 9, 2, 8, 1), 8)) == ["cp", "dp", "pp"]
    assert placement(NVL72.with_accelerators(1152), 8, 8, 9, 2, 8, 8)["groups"]["dp"]["scale_up_domains"] == 2


def test_rows_carry_their_crossings_and_a_bigger_domain_keeps_more_inside():
    nvl = search(MIXTRAL, NVL72, 144, 1152)
    # the same configurations laid on 8-GPU domains: never fewer groups off the domain, and some more
    cfg = nvl.configurations
    groups = layout(cfg["tp"], cfg["pp"], cfg["dp"], cfg["cp"], cfg["ep"], cfg["etp"])
    on_nodes = crossings(groups, 8)
    assert np.all(cfg["off_scale_up"] & ~on_nodes == 0) and np.any(on_nodes & ~cfg["off_scale_up"])
    # TP 8, CP 2, DP 9, EP 8 at ETP 1 on two NVL72 racks: CP (ranks 64-79 straddle 72) and DP leave the domain and
    # the rack, EP 8 at stride 1 stays in (by hand as above); on DGX H100 too, and racks are not known.
    pick = np.flatnonzero(
        (cfg["tp"] == 8) & (cfg["cp"] == 2) & (cfg["pp"] == 1) & (cfg["ep"] == 8) & (cfg["etp"] == 1)
    )[0]
    row = nvl.parallelism(pick)
    assert row["dp"] == 9 and row["crosses_scale_up"] == ["cp", "dp"] and row["crosses_rack"] == ["cp", "dp"]
    h100 = search(MIXTRAL, H100, 144, 1152, restrict={"tp": (8,), "cp": (2,), "pp": (1,), "ep": (8,)})
    i = np.flatnonzero(h100.configurations["etp"] == 1)[0]
    assert h100.parallelism(i)["crosses_scale_up"] == ["cp", "dp"] and h100.parallelism(i)["crosses_rack"] is None


def test_within_scale_up_filters_exactly_the_rows_that_keep_those_groups_in():
    kw = dict(accelerators=144, global_batch=1152, top=100_000)
    free = search_report("mixtral-8x7b", "gb200-nvl72", **kw)
    kept = search_report("mixtral-8x7b", "gb200-nvl72", within_scale_up="dp,ep", **kw)
    inside = [r for r in free["top"] if not {"dp", "ep"} & set(r["crosses_scale_up"])]
    assert 0 < len(kept["top"]) == len(inside) < len(free["top"])
    assert kept["best"]["step_time_s"] == pytest.approx(inside[0]["step_time_s"], rel=1e-12)
    # Two NVL72 racks keep the same configurations' TP, CP and EP inside as 8-GPU nodes: in Megatron's order a
    # group filling a power-of-two block of 16 ranks or more has a block across the boundary at 72 (ranks 64-79,
    # 64-95, 64-127), and 72 holds every block of 8 or fewer; 1,792 valid configurations send one of them out.
    # (the same grid on both: no HSDP, whose shards follow the domain, and no recompute, so nothing is skipped)
    same = dict(restrict=["sharding=ddp,zero1,zero2,fsdp", "recompute=none"], within_scale_up="tp,ep,cp", **kw)
    nvl = search_report("mixtral-8x7b", "gb200-nvl72", **same)
    nodes = search_report("mixtral-8x7b", "dgx-h100-ndr", **same)
    every = search_report("mixtral-8x7b", "gb200-nvl72", **{**same, "within_scale_up": None})
    assert 0 < nodes["configurations_valid"] == nvl["configurations_valid"] == every["configurations_valid"] - 1792
    assert kept["scale_up_domain"] == 72 and kept["accelerators_per_rack"] == 72
    with pytest.raises(InputError):
        search_report("mixtral-8x7b", "gb200-nvl72", within_scale_up="tp,heads", **kw)
    # TP·CP ≤ 8·32 = 256 of 1,024 GPUs leaves DP·PP ≥ 4, and the outer of DP and PP above 1 spans all 1,024 ranks:
    # it leaves the 8-GPU node
    with pytest.raises(InputError, match="inside one scale-up domain"):
        search_report("llama3-405b", "dgx-h100-ndr", accelerators=1024, global_batch=1024, within_scale_up="tp,dp,pp")
