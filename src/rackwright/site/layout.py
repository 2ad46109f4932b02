"""Floor layout: racks into rows and halls, network and CDU rows between them, halls on a grid.

Every rack and switch gets a position as arrays (no Python object per rack): hall, physical row,
position in the row and plan coordinates ``x`` (along the row) and ``y`` (across rows) in metres.

Geometry (a common hot/cold-aisle arrangement, e.g. Uptime/ASHRAE practice):

* a row is ``racks_per_row`` racks at ``rack_pitch`` with an end aisle (``cold_aisle`` wide) at each end;
* rows repeat at the row pitch ``rack_depth + (cold_aisle + hot_aisle) / 2`` (aisles shared by two rows);
* a hall's compute rows are split into two halves (the first the larger by at most one row), each laid out alone:
  after every ``compute_rows_per_cdu_row`` compute rows of the half comes a CDU row, after every
  ``compute_rows_per_network_row`` (and after the half's last) a network row; the second half is mirrored (its
  rows in reverse order), so that both halves' last network rows face the MDA between them;
* a hall holds as many racks as fit under its maximum IT power; halls sit on a near-square grid
  ``hall_gap`` apart.

Network racks follow the distribution areas of ANSI/TIA-942-B (Telecommunications Infrastructure Standard for
Data Centers, 2017: a main distribution area, MDA, holds the core; horizontal distribution areas, HDA, serve the
equipment distribution areas, EDA, of the racks; a hierarchical star between them) and the "network row" of
one block of server rows (D. Alger, *Build the Best Data Center Facility for Your Business*, Cisco Press 2005,
ch. 7, Cabling Hierarchy):

* the compute rows are the EDA; each network row is the HDA of the block of compute rows before it (after it in the
  mirrored second half, :func:`served_by`) and holds the
  leaves whose first endpoint is in that block, at most ``racks_per_row`` network racks (no longer than a
  compute row);
* spines and super-spines (tier 2 and 3), and leaves a full network row has no room for, go to the hall's MDA:
  whole rows of ``racks_per_row`` network racks, as many as the largest hall needs, in the middle of the hall
  between the two halves (TIA-942-B places the MDA centrally to keep the backbone and horizontal runs short):
  :func:`mda_split` picks the row boundary it opens at, the end of the first half wherever that lies within one
  row of the hall's middle, and :func:`insert_mda` renumbers the rows after it once the switches are placed. The
  MDA rows repeat at the row pitch like every row, so each has an aisle of its own on either side;
* the hall is as wide as a row and as deep as its rows, MDA included (:func:`hall_extent`), so the floor area is
  that of what is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

COMPUTE, CDU, NETWORK, MDA = 0, 1, 2, 3


@dataclass(frozen=True)
class Geometry:
    """Layout parameters in SI (m, W)."""

    hall_max_it_power: float
    racks_per_row: int
    rack_pitch: float
    rack_depth: float
    cold_aisle: float
    hot_aisle: float
    compute_rows_per_network_row: int
    compute_rows_per_cdu_row: int
    switches_per_network_rack: int
    hall_gap: float

    @property
    def row_pitch(self) -> float:
        return self.rack_depth + (self.cold_aisle + self.hot_aisle) / 2


def row_pattern(compute_rows: int, per_cdu: int, per_network: int) -> np.ndarray:
    """Kinds of the physical rows of one run of compute rows, in order (``COMPUTE``, ``CDU``, ``NETWORK``)."""
    kinds = []
    for c in range(compute_rows):
        kinds.append(COMPUTE)
        last = c == compute_rows - 1
        if (c + 1) % per_cdu == 0 or (last and (c + 1) % per_cdu):
            kinds.append(CDU)
        if (c + 1) % per_network == 0 or (last and (c + 1) % per_network):
            kinds.append(NETWORK)
    return np.array(kinds, dtype=np.int8)


def hall_pattern(compute_rows: int, per_cdu: int, per_network: int) -> np.ndarray:
    """Kinds of a hall's rows: its compute rows in two halves of ``ceil(n/2)`` and ``floor(n/2)``, each a
    :func:`row_pattern` of its own, the second mirrored (rows in reverse order), so that the first half ends and
    the second begins with a network row and the MDA can stand between the two."""
    first = -(-compute_rows // 2)
    return np.r_[
        row_pattern(first, per_cdu, per_network), row_pattern(compute_rows - first, per_cdu, per_network)[::-1]
    ].astype(np.int8)


def half_start(compute_rows: int, per_cdu: int, per_network: int) -> int:
    """The first row of the (mirrored) second half in :func:`hall_pattern`: the first half's row count."""
    return len(row_pattern(-(-compute_rows // 2), per_cdu, per_network))


def served_by(pattern: np.ndarray, second_half: int, kind: int) -> np.ndarray:
    """For each row of a hall, the row of ``kind`` (``CDU`` or ``NETWORK``) that serves it: in the first half (rows
    before ``second_half``) the next such row at or after it, in the mirrored second half the last one at or
    before it (as :func:`row_pattern` groups the rows, read backwards there); -1 where there is none."""
    rows = np.flatnonzero(pattern == kind)
    index = np.arange(len(pattern))
    nxt = np.searchsorted(rows, index, side="left")
    prev = np.searchsorted(rows, index, side="right") - 1
    after = np.where(nxt < len(rows), rows[np.minimum(nxt, len(rows) - 1)], -1)
    before = np.where(prev >= 0, rows[np.maximum(prev, 0)], -1)
    return np.where(index < second_half, after, before)


def mda_split(pattern: np.ndarray) -> int:
    """The row boundary (0 … ``len(pattern)``) the MDA opens at: the one within one row of the middle
    (``|2k − n| ≤ 2``; the MDA's centre is then within one row pitch of the hall's, whatever its size, since
    MDA rows at ``k … k+m−1`` centre at ``k + m/2`` and the hall's ``n + m`` rows at ``(n + m)/2``) that follows a
    network row, else a CDU row, else a compute row; nearer the middle first, then the earlier."""
    n = len(pattern)
    after = {NETWORK: 0, CDU: 1, COMPUTE: 2}
    candidates = [k for k in range(n + 1) if abs(2 * k - n) <= 2]
    return min(candidates, key=lambda k: (after[int(pattern[k - 1])] if k else 0, abs(2 * k - n), k))


@dataclass
class RackLayout:
    """Compute racks by position, and the hall pattern the switches are placed into."""

    geometry: Geometry
    racks_per_hall: int
    halls: int
    pattern: np.ndarray  # row kinds of a full hall
    hall: np.ndarray  # per rack
    row: np.ndarray  # physical row index in its hall
    position: np.ndarray  # 0-based position in the row
    block: np.ndarray  # network block (index of the network row serving it) within the hall
    mda_at: int = 0  # the row the MDA's first row is (or, before :func:`insert_mda`, will be)
    second_half: int = 0  # the first row of the mirrored second half (after :func:`insert_mda`, MDA rows counted)

    @property
    def racks(self) -> int:
        return len(self.hall)

    @property
    def network_rows(self) -> np.ndarray:
        """Physical row index of each network row of a hall."""
        return np.flatnonzero(self.pattern == NETWORK)


def place_racks(rack_power: np.ndarray, geometry: Geometry) -> RackLayout:
    """Place racks (in generation order) into halls and rows.

    ``rack_power`` [W] is each rack's input power; a hall holds ``floor(hall_max / max rack power)`` racks
    so that no hall exceeds its maximum IT power whatever the mix.
    """
    count = len(rack_power)
    per_hall = max(1, int(geometry.hall_max_it_power // max(float(np.max(rack_power)), 1.0)))
    halls = max(1, -(-count // per_hall))
    rows_per_hall = -(-min(per_hall, count) // geometry.racks_per_row)
    per_network = geometry.compute_rows_per_network_row
    pattern = hall_pattern(rows_per_hall, geometry.compute_rows_per_cdu_row, per_network)
    second_half = half_start(rows_per_hall, geometry.compute_rows_per_cdu_row, per_network)
    compute_rows = np.flatnonzero(pattern == COMPUTE)
    index = np.arange(count)
    local = index % per_hall
    row = compute_rows[local // geometry.racks_per_row]
    network_row = served_by(pattern, second_half, NETWORK)[row]
    return RackLayout(
        geometry,
        per_hall,
        halls,
        pattern,
        (index // per_hall).astype(np.int32),
        row.astype(np.int32),
        (local % geometry.racks_per_row).astype(np.int32),
        np.searchsorted(np.flatnonzero(pattern == NETWORK), network_row).astype(np.int32),
        mda_split(pattern),
        second_half,
    )


@dataclass
class SwitchPlacement:
    """Switch positions: hall, physical (network) row, network rack in the row and slot in the rack."""

    hall: np.ndarray
    row: np.ndarray
    rack: np.ndarray
    slot: np.ndarray


def _rank_within(key: np.ndarray) -> np.ndarray:
    """Each entry's order (0, 1, ...) among the entries of the same key, in index order (a stable sort)."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(key)]))
    rank = np.empty_like(key)
    rank[order] = np.arange(len(key)) - run_start
    return rank


def place_switches(
    layout: RackLayout, hall: np.ndarray, block: np.ndarray, tier: np.ndarray | None = None
) -> SwitchPlacement:
    """Fill the network rows and the MDA: switch ``i`` belongs to network row ``block[i]`` of ``hall[i]``.

    Leaves (``tier`` 1, or every switch when ``tier`` is not given) fill their block's network row in index order,
    ``switches_per_network_rack`` a rack, at most ``racks_per_row`` racks; spines, super-spines and the leaves a
    full row has no room for fill the hall's MDA rows in index order, rack after rack and row after row of
    ``racks_per_row`` racks. The MDA rows are numbered after the hall's last row here (``len(pattern)``, ...);
    :func:`insert_mda` moves them to the hall's middle.
    """
    g = layout.geometry
    per_rack = g.switches_per_network_rack
    per_row = per_rack * g.racks_per_row
    network_rows = layout.network_rows
    block = np.minimum(block, len(network_rows) - 1)
    hall64 = hall.astype(np.int64)
    leaf = np.ones(len(hall), dtype=bool) if tier is None else np.asarray(tier) <= 1
    rank = _rank_within(np.where(leaf, hall64 * len(network_rows) + block, -1))
    in_row = leaf & (rank < per_row)
    mda_rank = _rank_within(np.where(in_row, -1, hall64))
    row = np.where(in_row, network_rows[block], len(layout.pattern) + mda_rank // per_row)
    place = np.where(in_row, rank, mda_rank % per_row)
    return SwitchPlacement(
        hall.astype(np.int32),
        row.astype(np.int32),
        (place // per_rack).astype(np.int32),
        (place % per_rack).astype(np.int32),
    )


def insert_mda(layout: RackLayout, switches: SwitchPlacement) -> tuple[RackLayout, SwitchPlacement]:
    """The MDA rows :func:`place_switches` numbered after the hall's last row, moved to row ``layout.mda_at``: as
    many MDA rows as the hall with the most MDA switches needs go in at that boundary (every hall alike), and the
    rows after it, racks' and switches' alike, move down by that many. Returns the layout with the MDA rows in its
    pattern and the switches with their final rows (call it once, on the layout :func:`place_racks` returned)."""
    base, k = len(layout.pattern), layout.mda_at
    mda_rows = max(0, int(switches.row.max(initial=-1)) + 1 - base)

    def moved(row: np.ndarray) -> np.ndarray:
        return np.where(row >= base, k + row - base, np.where(row >= k, row + mda_rows, row)).astype(np.int32)

    pattern = np.r_[layout.pattern[:k], np.full(mda_rows, MDA, dtype=np.int8), layout.pattern[k:]].astype(np.int8)
    second_half = layout.second_half + mda_rows if layout.second_half >= k else layout.second_half
    return (
        replace(layout, pattern=pattern, row=moved(layout.row), second_half=second_half),
        replace(switches, row=moved(switches.row)),
    )


@dataclass(frozen=True)
class HallGrid:
    """Hall size and origins on the site grid [m], and the kinds of a hall's rows as drawn (MDA rows included)."""

    width: float
    depth: float
    columns: int
    origin_x: np.ndarray
    origin_y: np.ndarray
    pattern: np.ndarray

    @property
    def floor_area(self) -> float:
        return self.width * self.depth * len(self.origin_x)


def hall_extent(layout: RackLayout) -> HallGrid:
    """Hall width (a row of ``racks_per_row`` racks plus two end aisles: compute, CDU, network and MDA rows are
    all at most that long), depth (the rows of the layout's pattern, MDA rows included once :func:`insert_mda` has
    put them in, × row pitch plus a cold aisle) and grid origins; every hall has the same rows."""
    g = layout.geometry
    width = g.racks_per_row * g.rack_pitch + 2 * g.cold_aisle
    depth = len(layout.pattern) * g.row_pitch + g.cold_aisle
    columns = int(np.ceil(np.sqrt(layout.halls)))
    index = np.arange(layout.halls)
    return HallGrid(
        width,
        depth,
        columns,
        (index % columns) * (width + g.hall_gap),
        (index // columns) * (depth + g.hall_gap),
        layout.pattern,
    )


def coordinates(
    grid: HallGrid, geometry: Geometry, hall: np.ndarray, row: np.ndarray, position: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Plan coordinates [m] of the centre of the rack at (hall, physical row, position in row)."""
    x = grid.origin_x[hall] + geometry.cold_aisle + (position + 0.5) * geometry.rack_pitch
    y = grid.origin_y[hall] + geometry.cold_aisle / 2 + row * geometry.row_pitch + geometry.rack_depth / 2
    return x, y
