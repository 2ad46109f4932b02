"""Where the parallel groups of a configuration land: scale-up domains and racks.

Ranks are numbered as Megatron-Core lays them out: TP fastest, then CP, then DP, then PP; the expert groups are
folded over TP × CP × DP (MoE parallel folding), EP ranks at stride ETP. A group of ``n`` ranks at stride ``s``
is one of those that fill a block of ``L = n·s`` consecutive ranks: in block ``q`` the group at offset ``r < s``
holds ranks ``qL + r + k·s``, ``k < n``. A block of ``U`` consecutive ranks is a scale-up domain (or a rack), and
``U`` need not be a multiple of ``L`` (72, 96, 144), so some groups straddle a boundary: :func:`spread` counts,
without enumerating ranks, the most domains a group touches and the fewest members a straddling group has in one
of them. A group inside one scale-up domain runs its collectives on the scale-up network (NVLink, or the lab's
Ethernet scale-up); one that spans domains sends its traffic over the scale-out network, and one that spans racks
leaves the rack. This is the placement the step-time model uses (:func:`rackwright.perf.training._collective`);
the report makes it visible per group, so a rack generation with a larger scale-up domain (NVL72, NVL144, a
96-accelerator rack) shows which traffic it keeps in. The functions work on whole numbers or on NumPy integer
arrays of configurations alike (the search's grid).
"""

from __future__ import annotations

import numpy as np

#: The parallel groups, in the order of their bits in :func:`crossings`.
GROUPS = ("tp", "cp", "dp", "pp", "ep")


def layout(tp, pp, dp, cp=1, ep=1, etp=None) -> dict:
    """Per group of :data:`GROUPS`, its ``(size, stride)`` in ranks; ``etp`` None or 0 stands for ETP = TP."""
    etp = tp if etp is None else np.where(np.asarray(etp) > 0, etp, tp)
    return {"tp": (tp, 1), "cp": (cp, tp), "dp": (dp, tp * cp), "pp": (pp, tp * cp * dp), "ep": (ep, etp)}


def spread(size, stride, unit, ranks=None):
    """``(domains, members)`` of the groups of ``size`` ranks at ``stride`` among a job's ``ranks`` (None: the
    ``size·stride`` ranks of one block of the layout) in blocks of ``unit`` consecutive ranks: the most blocks a
    group touches, and the fewest members a group has in one of its blocks (``size`` where no group straddles).

    For ``s ≥ U`` every member is in a block of its own. Otherwise a group whose first rank is ``ρ`` past a block
    boundary touches ``⌊(ρ + E)/U⌋ + 1`` blocks (``E = (n − 1)·s`` its extent), with ``⌈(U − ρ)/s⌉`` members in
    the first, ``⌊((ρ + E) mod U)/s⌋ + 1`` in the last and at least ``⌊U/s⌋`` in each between (counted as
    ``⌊U/s⌋``: one short where ``s`` does not divide ``U`` and the middle one holds ``⌈U/s⌉``). The offsets ``ρ``
    that occur are ``(q·L mod U) + r`` for ``r < s``; ``q·L mod U`` runs over the multiples of ``gcd(L, U)`` once
    the job holds ``U / gcd(L, U)`` blocks, and over its ``q < N / L`` blocks' own starts when it holds fewer
    (:func:`_largest_start`, :func:`_lowest_at_least`). A grid of configurations holds few distinct groups:
    each is counted once.
    """
    n, s, u = _ints(size, stride, unit)
    arrays = np.broadcast_arrays(n, s, u, n * s if ranks is None else _ints(ranks)[0])
    widths = [int(np.max(a, initial=0)).bit_length() for a in arrays]
    if sum(widths) > 62:  # too large to pack: count each configuration
        return _spread(*arrays)
    key = np.zeros(arrays[0].shape, dtype=np.int64)
    for a, width in zip(arrays, widths, strict=True):
        key = key << width | a
    distinct, inverse = np.unique(key, return_inverse=True)
    shifts = np.cumsum(widths[::-1])[::-1] - widths  # each array's place in the key
    domains, members = _spread(*(distinct >> shift & (1 << w) - 1 for shift, w in zip(shifts, widths, strict=True)))
    return domains[inverse].reshape(key.shape), members[inverse].reshape(key.shape)


def _spread(n, s, u, ranks):
    """:func:`spread` of whole numbers of at least 1."""
    block, reach = n * s, (n - 1) * s
    step = np.gcd(block, u)
    period = u // step  # blocks after which the blocks' starts repeat against the boundaries
    blocks = np.maximum(ranks // block, 1)
    few = np.where((blocks >= period) | (n == 1), 0, blocks)  # a job of fewer blocks than a period: their count
    starts = (block % u, u, step, few)
    top = np.minimum(u - 1, _largest_start(*starts) + s - 1)
    domains = (top + reach) // u + 1
    worst = (domains - 1) * u - reach  # the groups that start at this offset or later touch `domains` blocks
    first = -(-(u - top) // s)
    last = (_lowest_at_least(worst, s, *starts) + reach) % u // s + 1
    fewest = np.minimum(first, last)
    # Three or more blocks: the other straddling groups (one block fewer) end earliest in their last block.
    shorter = (_lowest_at_least(worst - u, s, *starts) + reach) % u // s + 1
    fewest = np.where(domains >= 3, np.minimum(fewest, np.minimum(shorter, u // s)), fewest)
    far = s >= u
    return np.where(far, n, domains), np.where(far, 1, np.where(domains == 1, n, fewest))


def _ints(*values):
    """``values`` as NumPy integers of at least 1."""
    ints = (v if v.dtype.kind in "iu" else np.rint(v).astype(np.int64) for v in map(np.asarray, values))
    return [np.maximum(v, 1).astype(np.int64) for v in ints]


def _starts(offset, u, few):
    """``(q·offset mod u, q < few)`` for ``q`` from 1 up to the most blocks ``few`` of a job that holds more than
    one but fewer than a period (``few`` 0 elsewhere): a pass over the configurations per block."""
    for q in range(1, int(np.max(few, initial=0))):
        yield q * offset % u, q < few


def _largest_start(offset, u, step, few):
    """The largest ``q·L mod U`` over the job's blocks: ``U − gcd(L, U)`` over a whole period."""
    largest = np.where(few > 0, 0, u - step)
    for start, held in _starts(offset, u, few):
        largest = np.where(held, np.maximum(largest, start), largest)
    return largest


def _lowest_at_least(least, s, offset, u, step, few):
    """The smallest offset ``ρ ≥ least`` of a group's first rank past a boundary, ``ρ = (q·L mod U) + r``, ``r < s``
    (one exists: the callers ask only for offsets at most the largest)."""
    whole = np.maximum(least, step * -(-np.maximum(least - s + 1, 0) // step))
    lowest = np.where(few > 0, np.where(s - 1 >= least, np.maximum(least, 0), u), whole)
    for start, held in _starts(offset, u, few):
        lowest = np.where(held & (start + s - 1 >= least), np.minimum(lowest, np.maximum(start, least)), lowest)
    return lowest


def span(size, stride, unit, ranks=None):
    """The most blocks of ``unit`` consecutive ranks that a group of ``size`` ranks at ``stride`` touches
    (:func:`spread`)."""
    return spread(size, stride, unit, ranks)[0]


def crossings(groups: dict, unit):
    """Bit mask of the groups (bit ``i`` for ``GROUPS[i]``) of which one touches more than one block of ``unit``
    ranks; the job's ranks are the PP group's size times its stride."""
    ranks = np.multiply(*groups["pp"])
    mask = 0
    for bit, name in enumerate(GROUPS):
        size, stride = groups[name]
        mask = mask | ((span(size, stride, unit, ranks) > 1).astype(int) << bit)
    return mask


def group_names(mask: int) -> list[str]:
    """The groups of a :func:`crossings` mask by name."""
    return [name for bit, name in enumerate(GROUPS) if int(mask) >> bit & 1]


def placement(system, tp: int, pp: int, dp: int, cp: int = 1, ep: int = 1, etp: int | None = None) -> dict:
    """Per group (``tp``, ``cp``, ``dp``, ``pp`` and, with experts, ``ep``): size, stride, the most scale-up
    domains and racks one of its groups touches (:func:`span`, as the step-time model counts them) and the network
    its collectives use; racks are counted where the system has a rack size."""
    domain, rack = system.scale_up.size, system.accelerators_per_rack
    ranks = tp * cp * dp * pp
    groups = {}
    for name, (size, stride) in layout(tp, pp, dp, cp, ep, etp).items():
        if name == "ep" and ep == 1:
            continue
        domains = int(span(size, int(stride), domain, ranks))
        groups[name] = {
            "size": size,
            "stride": int(stride),
            "scale_up_domains": domains,
            "racks": int(span(size, int(stride), rack, ranks)) if rack else None,
            "network": "scale-up" if domains == 1 else "scale-out",
        }
    return {"scale_up_domain": domain, "accelerators_per_rack": rack, "groups": groups}
