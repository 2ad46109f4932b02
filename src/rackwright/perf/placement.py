"""Where the parallel groups of a configuration land: scale-up domains and racks.

Ranks are numbered as Megatron-Core lays them out: TP fastest, then CP, then DP, then PP; the expert groups are
folded over TP × CP × DP (MoE parallel folding), EP ranks at stride ETP. A group of ``size`` ranks at ``stride``
has ``min(size, max(unit // stride, 1))`` members in each block of ``unit`` consecutive ranks (a scale-up domain,
or a rack), so it spans ``ceil(size / members)`` of them. A group inside one scale-up domain runs its collectives
on the scale-up network (NVLink, or the lab's Ethernet scale-up); one that spans domains sends its traffic over
the scale-out network, and one that spans racks leaves the rack. This is the placement the step-time model
assumes (:func:`rackwright.perf.training._group_bandwidth`); the report makes it visible per group, so a rack
generation with a larger scale-up domain (NVL72, NVL144, a 96-accelerator rack) shows which traffic it keeps in.
The functions work on whole numbers or on NumPy integer arrays of configurations alike (the search's grid).
"""

from __future__ import annotations

import numpy as np

#: The parallel groups, in the order of their bits in :func:`crossings`.
GROUPS = ("tp", "cp", "dp", "pp", "ep")


def layout(tp, pp, dp, cp=1, ep=1, etp=None) -> dict:
    """Per group of :data:`GROUPS`, its ``(size, stride)`` in ranks; ``etp`` None or 0 stands for ETP = TP."""
    etp = tp if etp is None else np.where(np.asarray(etp) > 0, etp, tp)
    return {"tp": (tp, 1), "cp": (cp, tp), "dp": (dp, tp * cp), "pp": (pp, tp * cp * dp), "ep": (ep, etp)}


def span(size, stride, unit):
    """Blocks of ``unit`` consecutive ranks that a group of ``size`` ranks at ``stride`` spans."""
    members = np.maximum(np.minimum(size, np.maximum(unit // stride, 1)), 1)
    return -(-size // members)


def crossings(groups: dict, unit):
    """Bit mask of the groups (bit ``i`` for ``GROUPS[i]``) that span more than one block of ``unit`` ranks."""
    mask = 0
    for bit, name in enumerate(GROUPS):
        size, stride = groups[name]
        mask = mask | ((span(size, stride, unit) > 1).astype(int) << bit)
    return mask


def group_names(mask: int) -> list[str]:
    """The groups of a :func:`crossings` mask by name."""
    return [name for bit, name in enumerate(GROUPS) if int(mask) >> bit & 1]


def placement(system, tp: int, pp: int, dp: int, cp: int = 1, ep: int = 1, etp: int | None = None) -> dict:
    """Per group (``tp``, ``cp``, ``dp``, ``pp`` and, with experts, ``ep``): size, stride, the scale-up domains and
    racks it spans and the network its collectives use; racks are counted where the system has a rack size."""
    domain, rack = system.scale_up.size, system.accelerators_per_rack
    groups = {}
    for name, (size, stride) in layout(tp, pp, dp, cp, ep, etp).items():
        if name == "ep" and ep == 1:
            continue
        domains = int(span(size, int(stride), domain))
        groups[name] = {
            "size": size,
            "stride": int(stride),
            "scale_up_domains": domains,
            "racks": int(span(size, int(stride), rack)) if rack else None,
            "network": "scale-up" if domains == 1 else "scale-out",
        }
    return {"scale_up_domain": domain, "accelerators_per_rack": rack, "groups": groups}
