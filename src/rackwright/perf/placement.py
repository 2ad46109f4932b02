"""Where the parallel groups of a configuration land: scale-up domains and racks.

Ranks are numbered as Megatron-Core lays them out: TP fastest, then CP, then DP, then PP; the expert groups are
folded over TP × CP × DP (MoE parallel folding), EP ranks at stride ETP. A group of ``size`` ranks at ``stride``
has ``min(size, max(unit // stride, 1))`` members in each block of ``unit`` consecutive ranks (a scale-up domain,
or a rack), so it spans ``ceil(size / members)`` of them. A group inside one scale-up domain runs its collectives
on the scale-up network (NVLink, or the lab's Ethernet scale-up); one that spans domains sends its traffic over
the scale-out network, and one that spans racks leaves the rack. This is the placement the step-time model
assumes (:func:`rackwright.perf.training._group_bandwidth`); the report makes it visible per group, so a rack
generation with a larger scale-up domain (NVL72, NVL144, a 96-accelerator rack) shows which traffic it keeps in.
"""

from __future__ import annotations

import math


def _span(size: int, stride: int, unit: int) -> int:
    """Blocks of ``unit`` consecutive ranks that a group of ``size`` ranks at ``stride`` spans."""
    members = min(size, max(unit // stride, 1))
    return math.ceil(size / members)


def placement(system, tp: int, pp: int, dp: int, cp: int = 1, ep: int = 1, etp: int | None = None) -> dict:
    """Per group (``tp``, ``cp``, ``dp``, ``pp`` and, with experts, ``ep``): size, stride, the scale-up domains and
    racks it spans and the network its collectives use; racks are counted where the system has a rack size."""
    etp = etp or tp
    strides = {"tp": (tp, 1), "cp": (cp, tp), "dp": (dp, tp * cp), "pp": (pp, tp * cp * dp)}
    if ep > 1:
        strides["ep"] = (ep, etp)
    domain, rack = system.scale_up.size, system.accelerators_per_rack
    groups = {}
    for name, (size, stride) in strides.items():
        domains = _span(size, stride, domain)
        groups[name] = {
            "size": size,
            "stride": stride,
            "scale_up_domains": domains,
            "racks": _span(size, stride, rack) if rack else None,
            "network": "scale-up" if domains == 1 else "scale-out",
        }
    return {"scale_up_domain": domain, "accelerators_per_rack": rack, "groups": groups}
