"""Fabric closed forms against hand calculations, a published fabric and the NetworkX graph."""

import numpy as np
import pytest

from rackwright.site.fabric import port_split, size_fabric, wire
from rackwright.site.graph import check_fabric


@pytest.mark.parametrize("k", [4, 8, 16, 64])
def test_k_ary_fat_tree(k):
    # Al-Fares et al. 2008: k³/4 hosts, k²/2 edge + k²/2 aggregation + k²/4 core = 5k²/4 switches.
    size = size_fabric(np.array([k ** 3 // 4]), k, 3, [1, 1], 1.0)
    assert size.switches_by_tier == {"leaf": k * k // 2, "spine": k * k // 2, "super_spine": k * k // 4}
    assert size.fits and size.max_switch_hops == 5
    assert size.bisection_bandwidth == pytest.approx(k ** 3 / 8)  # N·s/2


def test_two_tier_leaf_spine():
    # k²/2 endpoints in two tiers: k leaves, k/2 spines.
    size = size_fabric(np.array([32]), 8, 2, [1, 1], 1.0)
    assert size.switches_by_tier == {"leaf": 8, "spine": 4} and size.max_switch_hops == 3


@pytest.mark.parametrize(("gpus", "tiers", "published"), [
    (512, 2, {"leaf": 16, "spine": 8}), (1024, 2, {"leaf": 32, "spine": 16}), (2048, 2, {"leaf": 64, "spine": 32}),
    (4096, 3, {"leaf": 128, "spine": 128, "super_spine": 64}),
    (8192, 3, {"leaf": 256, "spine": 256, "super_spine": 128}),
    (16384, 3, {"leaf": 512, "spine": 512, "super_spine": 256})])
def test_dgx_superpod_b200_switch_counts(gpus, tiers, published):
    # NVIDIA DGX SuperPOD B200 RA, "Larger DGX SuperPOD component counts": rail-optimised, 8 rails,
    # 64-port 400G switches; exact counts.
    size = size_fabric(np.full(8, gpus // 8), 64, tiers, [1, 1], 50e9)
    assert size.switches_by_tier == published
    assert all(v == gpus for v in size.links_by_tier.values())  # node-leaf, leaf-spine, spine-core cables


def test_oversubscription_split():
    assert port_split(64, 1.0) == (32, 32)
    assert port_split(64, 3.0) == (48, 16)


def test_radix_too_small():
    size = size_fabric(np.array([10_000]), 16, 3, [1, 1], 1.0)  # k³/4 = 1024 endpoints at most
    assert not size.fits and "pods" in size.limit


@pytest.mark.parametrize(("k", "tiers", "rails", "endpoints", "ratios"), [
    (4, 3, 1, 16, [1, 1]), (8, 3, 4, 128, [1, 1]), (8, 2, 1, 32, [1, 1]), (8, 3, 1, 128, [3, 1]),
    (8, 2, 2, 20, [1, 1]), (8, 3, 2, 100, [1, 1]), (8, 3, 2, 100, [1, 3]), (8, 2, 4, 36, [3, 1])])
def test_graph_agrees_with_closed_forms(k, tiers, rails, endpoints, ratios):
    size = size_fabric(np.full(rails, endpoints // rails), k, tiers, ratios, 1.0)
    rail = np.tile(np.arange(rails), endpoints // rails)
    index = np.repeat(np.arange(endpoints // rails), rails)
    measured = check_fabric(size, wire(size, rail, index))
    assert measured["connected"]
    assert measured["bisection_bandwidth"] == pytest.approx(size.bisection_bandwidth)
    assert measured["max_switch_hops"] == size.max_switch_hops


def test_every_switch_port_used_once():
    size = size_fabric(np.full(4, 32), 8, 3, [1, 1], 1.0)
    w = wire(size, np.tile(np.arange(4), 32), np.repeat(np.arange(32), 4))
    ends = np.concatenate([w.leaf_of_endpoint * 8 + w.leaf_port, w.spine_link_leaf * 8 + w.spine_link_leaf_port])
    assert len(np.unique(ends)) == len(ends)
    spine_ends = np.concatenate([w.spine_link_spine * 8 + w.spine_link_spine_port,
                                 w.super_link_spine * 8 + w.super_link_spine_port])
    assert len(np.unique(spine_ends)) == len(spine_ends)


def test_media_rules_by_tier():
    from rackwright.site.cables import choose_media

    length = np.array([5.0, 5.0, 50.0])
    tier = np.array([1, 2, 2])
    # rule 0 (copper, 7 m) only between switches; rule 1 (optics, 100 m) everywhere
    assert list(choose_media(length, [7.0, 100.0], tier, [(2, 3), (1, 2, 3)])) == [1, 0, 1]


def test_small_site_graph_check_in_plan(tmp_path):
    import yaml

    from rackwright.site.planner import plan_site

    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    data = yaml.safe_load((root / "examples" / "site-100mw.yaml").read_text())
    data["target"] = {"generations": [{"design": str(root / "examples" / "gb200-nvl72.yaml"), "racks": 40}]}
    data["fabric"]["tiers"] = 2
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(data))
    plan = plan_site(tmp_path / "small.yaml")
    check = plan.summary()["fabric"]["graph_check"]
    assert check == {"connected": True, "bisection_tb_per_s": round(plan.fabric.bisection_bandwidth / 1e12, 3),
                     "max_switch_hops": 3}
    assert not plan.violations
