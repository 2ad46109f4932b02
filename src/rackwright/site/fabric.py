"""Scale-out fabric sizing: rail-optimised (or plain) 2- or 3-tier Clos, closed forms over arrays.

A switch of capacity ``C`` run at link speed ``s`` has radix ``k = C / s`` ports. At a tier with
oversubscription ``o`` (downlink : uplink bandwidth) a switch uses ``d = floor(k·o/(1+o))`` ports down and
``u = k − d`` up (``k/2`` each when non-blocking).

* Leaves: a rail-optimised fabric connects NIC port ``j`` of every rack (rail ``j mod R``) to the leaves
  of that rail (NVIDIA DGX SuperPOD reference architectures); rail ``r`` with ``n_r`` endpoints needs
  ``ceil(n_r / d1)`` leaves.
* 2 tiers: every leaf has one uplink bundle to each of ``S`` spines, ``S`` the smallest divisor of ``u1``
  with ``S·k ≥ L·u1`` (parallel links when the fabric is small); at most ``k`` leaves.
* 3 tiers: a pod holds ``m = d2 // R`` leaves of each rail (``R·m ≤ d2``) and ``u1`` spines, one link
  from each leaf to each spine; super-spines form ``u1`` groups (spine ``j`` of every pod goes to group
  ``j``), each of ``G`` switches, ``G`` the smallest divisor of ``u2`` with ``G·k ≥ pods·u2``; at most ``k``
  pods. For a full non-blocking fabric this is the k-ary fat tree: ``k³/4`` endpoints with ``5k²/4``
  switches (Al-Fares et al., SIGCOMM 2008) and, for k = 64, R = 8, the leaf/spine/core counts of
  NVIDIA's DGX SuperPOD B200 table (128/128/64 switches for 4,096 GPUs).
* Bisection bandwidth across the cut between the first and second half of the pods (of the leaves in
  2 tiers): the narrowest of the endpoints, leaf uplinks and pod uplinks on either side, ``N·s/2`` for a
  full non-blocking fabric.
* Hop count: at most ``2·t − 1`` switches on a path, ``t`` the tiers a path must climb.

Multi-plane fabrics repeat the whole fabric per plane (each NIC port split into ``planes`` links).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def port_split(radix: int, ratio: float) -> tuple[int, int]:
    """Down and up ports of a switch with ``radix`` ports at oversubscription ``ratio`` (down:up)."""
    down = int(np.floor(radix * ratio / (1.0 + ratio) + 1e-9))
    return down, radix - down


def smallest_divisor_at_least(n: int, minimum: float) -> int:
    """The smallest divisor of ``n`` that is ≥ ``minimum`` (``n`` itself at most)."""
    for d in range(max(1, int(np.ceil(minimum - 1e-9))), n + 1):
        if n % d == 0:
            return d
    return n


@dataclass
class FabricSize:
    """Switch and link counts of one plane, and the fabric's figures (see module docstring)."""

    endpoints: int
    radix: int
    tiers: int
    rails: int
    link_speed: float  # B/s
    planes: int
    leaf_down: int
    leaf_up: int
    spine_down: int
    spine_up: int
    leaves: int
    pods: int
    leaves_per_rail_per_pod: int
    spines: int
    super_groups: int
    supers_per_group: int
    fits: bool  # the radix can build this fabric
    limit: str = ""  # why it does not fit
    per_rail: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def super_spines(self) -> int:
        return self.super_groups * self.supers_per_group

    @property
    def links_by_tier(self) -> dict[str, int]:
        """Links per plane: endpoint–leaf, leaf–spine, spine–super-spine."""
        links = {"leaf": self.endpoints, "spine": self.leaves * self.leaf_up}
        if self.tiers == 3:
            links["super_spine"] = self.spines * self.spine_up
        return links

    @property
    def switches_by_tier(self) -> dict[str, int]:
        """Switches of all planes per tier."""
        tiers = {"leaf": self.leaves, "spine": self.spines}
        if self.tiers == 3:
            tiers["super_spine"] = self.super_spines
        return {k: v * self.planes for k, v in tiers.items()}

    def endpoints_per_leaf(self) -> tuple[np.ndarray, np.ndarray]:
        """Endpoints on each leaf and the leaf's pod, in the leaves' wiring order ((pod,) rail, leaf)."""
        d1, rails = max(1, self.leaf_down), len(self.per_rail)
        width = self.leaves_per_rail_per_pod
        pods = self.pods if self.tiers == 3 else 1
        pod, rail, within = np.meshgrid(np.arange(pods), np.arange(rails), np.arange(width), indexing="ij")
        index = pod * width + within if self.tiers == 3 else within
        count = np.clip(self.per_rail[rail] - index * d1, 0, d1).ravel()
        keep = count > 0
        return count[keep], pod.ravel()[keep]

    @property
    def bisection_bandwidth(self) -> float:
        """B/s across the cut between the first and second half of the pods (of the leaves), all planes.

        The cut carries ``s · min(E_A, E_B, u1·L_A, u1·L_B, u1·u2·P_A, u1·u2·P_B)``: endpoints, leaf
        uplinks and pod uplinks on either side (E, L, P = endpoints, leaves, pods of a half). For a full
        non-blocking fat tree this is ``N·s/2``.
        """
        per_leaf, pod = self.endpoints_per_leaf()
        if len(per_leaf) <= 1:
            cut = self.endpoints // 2
        elif self.tiers == 3 and self.pods > 1:
            first = pod < self.pods // 2
            pods_a = self.pods // 2
            cut = min(
                per_leaf[first].sum(),
                per_leaf[~first].sum(),
                self.leaf_up * first.sum(),
                self.leaf_up * (~first).sum(),
                self.leaf_up * self.spine_up * pods_a,
                self.leaf_up * self.spine_up * (self.pods - pods_a),
            )
        else:
            first = np.arange(len(per_leaf)) < len(per_leaf) // 2
            cut = min(
                per_leaf[first].sum(), per_leaf[~first].sum(), self.leaf_up * first.sum(), self.leaf_up * (~first).sum()
            )
        return self.planes * self.link_speed * float(cut)

    @property
    def max_switch_hops(self) -> int:
        """Switches on the longest shortest path between two endpoints."""
        climbs = 3 if self.tiers == 3 and self.pods > 1 else (2 if self.leaves > 1 else 1)
        return 2 * climbs - 1

    def ports(self) -> dict[str, dict[str, int]]:
        """Ports per tier (all planes): total, used, spare."""
        used = {
            "leaf": self.endpoints + self.leaves * self.leaf_up,
            "spine": 2 * self.leaves * self.leaf_up
            if self.tiers == 2
            else self.leaves * self.leaf_up + self.spines * self.spine_up,
        }
        if self.tiers == 3:
            used["super_spine"] = self.spines * self.spine_up
        return {
            tier: {
                "total": n * self.radix,
                "used": used[tier] * self.planes,
                "spare": n * self.radix - used[tier] * self.planes,
            }
            for tier, n in self.switches_by_tier.items()
        }

    def failure_domains(self) -> dict[str, dict[str, float]]:
        """What one switch failure takes: endpoints cut off (leaf), share of uplink bandwidth lost above."""
        domains = {
            "leaf": {"endpoints_disconnected": float(min(self.leaf_down, self.endpoints))},
            "spine": {"uplink_bandwidth_share_lost": 1.0 / max(1, self.spines if self.tiers == 2 else self.leaf_up)},
        }
        if self.tiers == 3:
            domains["super_spine"] = {"core_bandwidth_share_lost": 1.0 / max(1, self.super_spines)}
        return domains


def rail_counts(ports_per_rack: np.ndarray, rails: int) -> np.ndarray:
    """Endpoints of each rail in each rack (racks × rails): ports ``j`` with ``j mod R = r``."""
    r = np.arange(rails)
    return np.maximum(0, (ports_per_rack[:, None] - r[None, :] + rails - 1) // rails)


def size_fabric(
    per_rail: np.ndarray, radix: int, tiers: int, ratios: list[float], link_speed: float, planes: int = 1
) -> FabricSize:
    """Closed-form switch counts for ``per_rail[r]`` endpoints on rail ``r`` (see module docstring)."""
    rails = len(per_rail)
    endpoints = int(per_rail.sum())
    d1, u1 = port_split(radix, ratios[0])
    d2, u2 = port_split(radix, ratios[1] if len(ratios) > 1 else 1.0) if tiers == 3 else (radix, 0)
    leaves_per_rail = -(-per_rail // max(d1, 1))
    leaves = int(leaves_per_rail.sum())
    fits, limit = d1 >= 1 and u1 >= 1, "" if d1 >= 1 and u1 >= 1 else "no ports left for uplinks"
    if tiers == 2:
        spines = smallest_divisor_at_least(u1, leaves * u1 / radix) if u1 else 0
        pods, m, groups, per_group = 1, int(leaves_per_rail.max(initial=0)), 0, 0
        if fits and leaves > radix:
            fits, limit = False, f"{leaves} leaves exceed the {radix} ports of a 2-tier spine"
    else:
        m = max(1, d2 // rails)
        pods = int(-(-leaves_per_rail.max(initial=0) // m))
        spines = pods * u1
        groups = u1
        per_group = smallest_divisor_at_least(u2, pods * u2 / radix) if u2 else 0
        if fits and rails * m > d2:
            fits, limit = False, f"{rails} rails need {rails} spine down-ports per pod but a spine has {d2}"
        elif fits and pods > radix:
            fits, limit = False, f"{pods} pods exceed the {radix} ports of a super-spine"
    return FabricSize(
        endpoints,
        radix,
        tiers,
        rails,
        link_speed,
        planes,
        d1,
        u1,
        d2,
        u2,
        leaves,
        pods,
        m,
        spines,
        groups,
        per_group,
        fits,
        limit,
        np.asarray(per_rail, dtype=np.int64),
    )


@dataclass
class Wiring:
    """Per-plane link ends as arrays: which switch and port each link lands on (one entry per link)."""

    leaf_of_endpoint: np.ndarray
    leaf_port: np.ndarray
    spine_link_leaf: np.ndarray
    spine_link_leaf_port: np.ndarray
    spine_link_spine: np.ndarray
    spine_link_spine_port: np.ndarray
    super_link_spine: np.ndarray
    super_link_spine_port: np.ndarray
    super_link_super: np.ndarray
    super_link_super_port: np.ndarray
    leaf_pod: np.ndarray  # pod of each leaf
    spine_pod: np.ndarray


def wire(size: FabricSize, endpoint_rail: np.ndarray, endpoint_rail_index: np.ndarray) -> Wiring:
    """Assign every link end to a switch port (vectorised; see module docstring for the pattern).

    ``endpoint_rail[e]`` and ``endpoint_rail_index[e]`` (the endpoint's order within its rail, site-wide)
    place endpoint ``e`` on leaf ``(pod, rail, i)`` with ``i = index // d1 mod m`` at port ``index mod d1``.
    """
    R, m, d1 = size.rails, max(1, size.leaves_per_rail_per_pod), max(1, size.leaf_down)
    leaf_in_rail = endpoint_rail_index // d1
    pod = leaf_in_rail // m if size.tiers == 3 else np.zeros_like(leaf_in_rail)
    within = leaf_in_rail % m if size.tiers == 3 else leaf_in_rail
    width = m if size.tiers == 3 else int(leaf_in_rail.max(initial=0)) + 1
    sparse = (pod * R + endpoint_rail) * width + within
    used = np.zeros(int(sparse.max(initial=-1)) + 1, dtype=bool)
    used[sparse] = True
    dense = np.cumsum(used) - 1
    leaf = dense[sparse]
    leaves = int(used.sum())
    # each leaf: its pod and its position among the pod's leaves (for the spine port)
    leaf_pod = np.zeros(leaves, dtype=np.int64)
    leaf_pos = np.zeros(leaves, dtype=np.int64)
    leaf_pod[leaf] = pod
    leaf_pos[leaf] = endpoint_rail * width + within if size.tiers == 3 else leaf
    u1 = size.leaf_up
    up_leaf = np.repeat(np.arange(leaves), u1)
    j = np.tile(np.arange(u1), leaves)
    if size.tiers == 2:
        S = max(1, size.spines)
        spine, spine_port = j % S, leaf_pos[up_leaf] * (u1 // S) + j // S
        spine_pod = np.zeros(S, dtype=np.int64)
        empty = np.zeros(0, dtype=np.int64)
        super_ends = (empty, empty, empty, empty)
    else:
        spine = leaf_pod[up_leaf] * u1 + j
        spine_port = leaf_pos[up_leaf]
        spine_pod = np.repeat(np.arange(size.pods), u1)
        u2, G = size.spine_up, max(1, size.supers_per_group)
        s_up = np.repeat(np.arange(size.spines), u2)
        q = np.tile(np.arange(u2), size.spines)
        group = s_up % u1
        super_ends = (s_up, q + size.spine_down, group * G + q % G, spine_pod[s_up] * (u2 // G) + q // G)
    return Wiring(
        leaf, endpoint_rail_index % d1, up_leaf, j + size.leaf_down, spine, spine_port, *super_ends, leaf_pod, spine_pod
    )
