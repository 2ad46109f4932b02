"""Groups that straddle a scale-up domain or rack boundary (issue 18): scale-up domains of 72, 96 or 144 ranks are
not multiples of a power-of-two group's block of ranks, so in Megatron-Core's rank order (TP fastest, then CP, DP,
PP) some groups cross a boundary. Hand-worked cases, and :func:`placement.spread` against enumerating the ranks."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rackwright.perf.efficiency import profile
from rackwright.perf.placement import layout, placement, span, spread
from rackwright.perf.precision import recipe
from rackwright.perf.system import load_system
from rackwright.perf.training import _collective, _moe_dispatch_combine
from rackwright.perf.workload import load_model

NVL72 = load_system("gb200-nvl72")


@pytest.mark.parametrize(
    "size, stride, unit, ranks, domains, members",
    [
        # EP 64 at stride 1 on 128 ranks: ranks 0-63 in domain 0; ranks 64-127 hold 64-71 in domain 0 and 72-127 in
        # domain 1: 2 domains, 8 + 56 members (the old model: 64 · 1 ≤ 72, one domain).
        (64, 1, 72, 128, 2, 8),
        (64, 1, 72, 64, 1, 64),  # a job of one EP group: ranks 0-63 only
        (8, 1, 72, 4096, 1, 8),  # EP 8: 72 % 8 == 0, every block of 8 inside a domain
        # U = 144, 256 ranks: the block 128-191 holds 128-143 (16) and 144-191 (48).
        (64, 1, 144, 256, 2, 16),
        # TP 8 x CP 2 on 96-rank domains: CP's blocks of 16 divide 96. CP 8 at stride 8 (blocks of 64): ranks 64-127
        # straddle 96, {64 + r + 8k}: 64, 72, 80, 88 below, 96 ... 120 above: 4 + 4.
        (2, 8, 96, 1536, 1, 2),
        (8, 8, 96, 1536, 2, 4),
        # DP 12 at stride 16 (TP 8 x CP 2) on 96: blocks of 192 = 2 domains, the group at r < 16 holds r ... r + 80
        # (6) and r + 96 ... r + 176 (6).
        (12, 16, 96, 1536, 2, 6),
        # DP 9 at stride 16 on 72 (docs' Llama 3 405B on 1,152): blocks of 144 = 2 domains, r ... r + 48 (4 members)
        # and r + 64 ... r + 128 (5): 2 domains, where the old ⌊72/16⌋ = 4 a domain counted 3.
        (9, 16, 72, 1152, 2, 4),
        # PP 9 at stride 32 on 4 racks of 72 (288 ranks): one block, the group at r < 32 holds r + 32k up to
        # r + 256 ≤ 287: racks 0-3, 4 of them (the old ⌈9 / ⌊72/32⌋⌉ = 5 racks of 4); the worst (r = 31) has 31, 63
        # in rack 0 and 255, 287 in rack 3: 2 members.
        (9, 32, 72, 288, 4, 2),
        # Stride ≥ domain: one member a domain.
        (8, 144, 72, 1152, 8, 1),
        # A job holding fewer blocks than a period: 27 ranks at stride 1 on 8-rank domains, 54 ranks: 0-26 touch
        # domains 0-3 and 27-53 domains 3-6, 4 each; a block starting 7 past a boundary (5 domains) never occurs.
        (27, 1, 8, 54, 4, 3),
        # DP 20 at stride 8 on 72 with PP 2 (320 ranks): blocks of 160 start at 0 and 160 (16 past 144). The group
        # at 167 holds 167 ... 319, domains 2-4; the group at 0 holds 0 ... 152, domains 0-2 with only 144 and 152 in
        # domain 2: 3 domains, fewest 2.
        (20, 8, 72, 320, 3, 2),
    ],
)
def test_spread_by_hand(size, stride, unit, ranks, domains, members):
    assert tuple(map(int, spread(size, stride, unit, ranks))) == (domains, members)
    assert int(span(size, stride, unit, ranks)) == domains


def test_arrays_match_scalars():
    cases = np.array([(64, 1, 72, 128), (9, 32, 72, 288), (27, 1, 8, 54), (20, 8, 72, 320), (8, 144, 72, 1152)])
    domains, members = spread(cases[:, 0], cases[:, 1], cases[:, 2], cases[:, 3])
    for row, d, g in zip(cases, domains, members, strict=True):
        assert tuple(map(int, spread(*row))) == (d, g)


def _enumerate(size, stride, unit, ranks):
    """(most domains, fewest members a straddling group has in a domain) by listing every group's ranks."""
    block = size * stride
    shares = []
    for start in range(0, ranks - block + 1, block):
        for r in range(stride):
            domains = [(start + r + k * stride) // unit for k in range(size)]
            shares.append([domains.count(d) for d in set(domains)])
    most = max(len(s) for s in shares)
    straddling = [min(s) for s in shares if len(s) > 1]
    return most, min(straddling) if straddling else size


@settings(max_examples=300, deadline=None)
@given(
    unit=st.sampled_from([8, 72, 96, 144]),
    tp=st.sampled_from([1, 2, 4, 8]),
    cp=st.sampled_from([1, 2, 3, 4]),
    dp=st.integers(1, 24),
    pp=st.sampled_from([1, 2, 3, 4, 6, 8, 9, 16]),
    ep=st.sampled_from([1, 2, 4, 8, 16, 32, 64]),
    etp1=st.booleans(),
    which=st.sampled_from(["tp", "cp", "dp", "pp", "ep", "dp_cp", "edp"]),
)
def test_spread_matches_enumerating_the_ranks(unit, tp, cp, dp, pp, ep, etp1, which):
    ranks = tp * cp * dp * pp
    etp = 1 if etp1 else tp
    assume(ranks <= 4096 and (tp * cp * dp) % (ep * etp) == 0)
    groups = layout(tp, pp, dp, cp, ep, etp) | {"dp_cp": (dp * cp, tp), "edp": (tp * cp * dp // (ep * etp), ep * etp)}
    size, stride = groups[which]
    most, fewest = _enumerate(size, stride, unit, ranks)
    domains, members = map(int, spread(size, stride, unit, ranks))
    assert domains == most <= -(-ranks // unit)
    # A group across three or more domains is counted ⌊U/s⌋ in each middle one: one short where s does not divide
    # U and every middle domain of the slowest groups holds ⌈U/s⌉.
    slack = 1 if domains >= 3 and unit % stride else 0
    assert members <= fewest <= members + slack


def test_placement_reports_what_the_model_uses():
    # EP 64 at ETP 1 on 128 GB200 (two NVL72 racks; TP 1, DP 128): the EP group leaves the domain and the rack.
    groups = placement(NVL72.with_accelerators(128), tp=1, pp=1, dp=128, ep=64, etp=1)["groups"]
    assert (groups["ep"]["scale_up_domains"], groups["ep"]["racks"], groups["ep"]["network"]) == (2, 2, "scale-out")
    # PP 9 over 4 racks of 72 (TP 8, CP 2, DP 2: stride 32): 4 domains and racks, not 5.
    pp = placement(NVL72.with_accelerators(288), tp=8, pp=9, dp=2, cp=2)["groups"]["pp"]
    assert (pp["stride"], pp["scale_up_domains"], pp["racks"]) == (32, 4, 4)


def test_collective_over_an_uneven_split_by_hand():
    # EP 64 at stride 1 on 128 GB200, 1 GB reduce-scatter, rings (no NVLink SHARP): the slowest group splits 8 + 56,
    # so 8 members reduce inside (720 GB/s = 0.8 of 900, α 2 µs) and each sends 1/8 over its NIC (0.85 · 50 GB/s,
    # α 10 µs) to one other domain:
    #   7 · (1e9 / (8 · 720e9) + 2 µs) = 1,229.2778 µs; 1 · (1e9 / 8 / (2 · 42.5e9) + 10 µs) = 1,480.5882 µs.
    # The old model counted it inside one domain: 63 · (1e9 / (64 · 720e9) + 2 µs) = 1,493.1875 µs.
    eff, rings = profile("b200"), NVL72.with_in_network_reduction(False, False)
    assert float(_collective(1, 64, 1e9, rings, eff, ranks=128)) == pytest.approx(2709.8660e-6, rel=1e-7)
    assert float(_collective(1, 64, 1e9, rings, eff, ranks=64)) == pytest.approx(1493.1875e-6, rel=1e-7)


def test_ep_dispatch_over_an_uneven_split_by_hand():
    # DeepSeek-V3 (hidden 7168, 8 experts a token), EP 64 at ETP 1 on 128 GB200, BF16 all-to-all, 4,096 tokens: the
    # ranks with 8 of their EP group in the domain send 8 · 7/64 copies over NVLink (720 GB/s), 8 · 56/64 = 7 over
    # the NIC (42.5 GB/s), 7 · 2 µs + 1 · 10 µs of latency, each way, dispatch and combine: b = 2 · 7168 · 4096.
    model, eff = load_model("deepseek-v3"), profile("b200")
    c = {"ep": 64, "etp": 1, "moe_dispatcher": 0, "tp": 1, "cp": 1, "dp": 128, "pp": 1}
    b = 2 * 7168 * 4096
    expected = 2 * (0.875 * b / 720e9 + 7 * b / 42.5e9 + 7 * 2e-6 + 10e-6)
    assert float(_moe_dispatch_combine(model, NVL72, c, 4096, eff, recipe("bf16"))) == pytest.approx(expected, rel=1e-9)
