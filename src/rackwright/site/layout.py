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
  whole rows of ``racks_per_row`` network racks, as many as the fullest full hall needs (a partly filled last
  hall: as many as its own switches need), in the middle of the hall between the two halves (TIA-942-B places the
  MDA centrally to keep the backbone and horizontal runs short):
  :func:`mda_split` picks the row boundary it opens at, the end of the first half wherever that lies within one
  row of the hall's middle, and :func:`insert_mda` renumbers the rows after it once the switches are placed. The
  MDA rows repeat at the row pitch like every row, so each has an aisle of its own on either side;
* the hall is as wide as a row and as deep as its rows, MDA included (:func:`hall_extent`), so the floor area is
  that of what is drawn;
* every hall but the last is full and laid out alike (:class:`HallRows`); a partly filled last hall is laid out for
  the compute rows its racks fill, as a planner would size it: its own halves, CDU and network rows, and an MDA of
  as many rows as its own switches need, so it is as deep as what it holds.
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


@dataclass(frozen=True)
class HallRows:
    """The rows of one kind of hall: their kinds in order, the first row of the mirrored second half and the row
    the MDA's first row is (or, before :func:`insert_mda`, will be)."""

    pattern: np.ndarray
    second_half: int
    mda_at: int

    @staticmethod
    def for_compute_rows(compute_rows: int, geometry: Geometry) -> HallRows:
        """The rows of a hall of ``compute_rows`` compute rows (:func:`hall_pattern`, :func:`mda_split`)."""
        per_cdu, per_network = geometry.compute_rows_per_cdu_row, geometry.compute_rows_per_network_row
        pattern = hall_pattern(compute_rows, per_cdu, per_network)
        return HallRows(pattern, half_start(compute_rows, per_cdu, per_network), mda_split(pattern))

    @property
    def network_rows(self) -> np.ndarray:
        """Physical row index of each network row."""
        return np.flatnonzero(self.pattern == NETWORK)

    def with_mda(self, rows: int) -> HallRows:
        """These rows with ``rows`` MDA rows put in at ``mda_at`` (the second half moving down if it is after)."""
        k = self.mda_at
        pattern = np.r_[self.pattern[:k], np.full(rows, MDA, dtype=np.int8), self.pattern[k:]].astype(np.int8)
        return HallRows(pattern, self.second_half + rows if self.second_half >= k else self.second_half, k)


@dataclass
class RackLayout:
    """Compute racks by position, and the rows of the halls the switches are placed into: ``kinds[0]`` those of a
    full hall, ``kinds[1]`` (when there is one) those of the partly filled last hall."""

    geometry: Geometry
    racks_per_hall: int
    halls: int
    kinds: tuple[HallRows, ...]
    hall: np.ndarray  # per rack
    row: np.ndarray  # physical row index in its hall
    position: np.ndarray  # 0-based position in the row
    block: np.ndarray  # network block (index of the network row serving it) within the hall

    @property
    def racks(self) -> int:
        return len(self.hall)

    @property
    def pattern(self) -> np.ndarray:
        """Row kinds of a full hall."""
        return self.kinds[0].pattern

    @property
    def mda_at(self) -> int:
        return self.kinds[0].mda_at

    @property
    def second_half(self) -> int:
        return self.kinds[0].second_half

    @property
    def network_rows(self) -> np.ndarray:
        """Physical row index of each network row of a full hall."""
        return self.kinds[0].network_rows

    def kind_of(self, hall: np.ndarray) -> np.ndarray:
        """Index into :attr:`kinds` of each hall in ``hall``: 1 for a partly filled last hall, else 0."""
        return (np.asarray(hall) == self.halls - 1).astype(np.int64) * (len(self.kinds) - 1)

    def rows_of(self, hall: int) -> HallRows:
        """The rows of hall ``hall`` (0-based)."""
        return self.kinds[int(self.kind_of(np.array(hall)))]


def place_racks(rack_power: np.ndarray, geometry: Geometry) -> RackLayout:
    """Place racks (in generation order) into halls and rows.

    ``rack_power`` [W] is each rack's input power; a hall holds ``floor(hall_max / max rack power)`` racks
    so that no hall exceeds its maximum IT power whatever the mix. The last hall, when its racks fill fewer compute
    rows than a full hall's, gets rows of its own (:class:`HallRows`) for the compute rows they fill.
    """
    count = len(rack_power)
    per_hall = max(1, int(geometry.hall_max_it_power // max(float(np.max(rack_power)), 1.0)))
    halls = max(1, -(-count // per_hall))
    full_rows = -(-min(per_hall, count) // geometry.racks_per_row)
    last_rows = -(-(count - (halls - 1) * per_hall) // geometry.racks_per_row)
    kinds = tuple(HallRows.for_compute_rows(n, geometry) for n in dict.fromkeys((full_rows, last_rows)))
    index = np.arange(count)
    hall = index // per_hall
    local = index % per_hall
    kind = (hall == halls - 1).astype(np.int64) * (len(kinds) - 1)
    row = np.empty(count, dtype=np.int64)
    block = np.empty(count, dtype=np.int64)
    for k, rows in enumerate(kinds):
        mine = kind == k
        row[mine] = np.flatnonzero(rows.pattern == COMPUTE)[local[mine] // geometry.racks_per_row]
        network_row = served_by(rows.pattern, rows.second_half, NETWORK)[row[mine]]
        block[mine] = np.searchsorted(rows.network_rows, network_row)
    return RackLayout(
        geometry,
        per_hall,
        halls,
        kinds,
        hall.astype(np.int32),
        row.astype(np.int32),
        (local % geometry.racks_per_row).astype(np.int32),
        block.astype(np.int32),
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
    kind = layout.kind_of(hall)
    network_rows = [rows.network_rows for rows in layout.kinds]
    counts = np.array([len(rows) for rows in network_rows])
    block = np.minimum(block, counts[kind] - 1)
    hall64 = hall.astype(np.int64)
    leaf = np.ones(len(hall), dtype=bool) if tier is None else np.asarray(tier) <= 1
    rank = _rank_within(np.where(leaf, hall64 * counts.max() + block, -1))
    in_row = leaf & (rank < per_row)
    mda_rank = _rank_within(np.where(in_row, -1, hall64))
    network_row = np.zeros(len(hall), dtype=np.int64)
    for k, rows in enumerate(network_rows):
        network_row[kind == k] = rows[block[kind == k]]
    base = np.array([len(rows.pattern) for rows in layout.kinds])[kind]
    row = np.where(in_row, network_row, base + mda_rank // per_row)
    place = np.where(in_row, rank, mda_rank % per_row)
    return SwitchPlacement(
        hall.astype(np.int32),
        row.astype(np.int32),
        (place // per_rack).astype(np.int32),
        (place % per_rack).astype(np.int32),
    )


def insert_mda(layout: RackLayout, switches: SwitchPlacement) -> tuple[RackLayout, SwitchPlacement]:
    """The MDA rows :func:`place_switches` numbered after the hall's last row, moved to the hall's ``mda_at``: as
    many MDA rows as the full hall with the most MDA switches needs go in at that boundary (every full hall alike;
    a partly filled last hall as many as its own switches need), and the rows after it, racks' and switches'
    alike, move down by that many. Returns the layout with the MDA rows in its halls' rows and the switches with
    their final rows (call it once, on the layout :func:`place_racks` returned)."""
    base = np.array([len(rows.pattern) for rows in layout.kinds])
    at = np.array([rows.mda_at for rows in layout.kinds])
    kind = layout.kind_of(switches.hall)
    added = np.array(
        [max(0, int(switches.row[kind == k].max(initial=-1)) + 1 - base[k]) for k in range(len(layout.kinds))]
    )

    def moved(row: np.ndarray, k: np.ndarray) -> np.ndarray:
        b, m = base[k], at[k]
        return np.where(row >= b, m + row - b, np.where(row >= m, row + added[k], row)).astype(np.int32)

    kinds = tuple(rows.with_mda(int(n)) for rows, n in zip(layout.kinds, added, strict=True))
    return (
        replace(layout, kinds=kinds, row=moved(layout.row, layout.kind_of(layout.hall))),
        replace(switches, row=moved(switches.row, kind)),
    )


@dataclass(frozen=True)
class HallGrid:
    """Hall size and origins on the site grid [m], and the kinds of each hall's rows as drawn (MDA rows included):
    ``depth`` and ``pattern`` a full hall's, ``depths`` and ``patterns`` each hall's (a partly filled last hall is
    shallower)."""

    width: float
    depth: float
    columns: int
    origin_x: np.ndarray
    origin_y: np.ndarray
    pattern: np.ndarray
    depths: np.ndarray
    patterns: tuple[np.ndarray, ...]

    @property
    def floor_area(self) -> float:
        """Σ width × depth over the halls: the floor that is drawn."""
        return float(self.width * self.depths.sum())


def hall_extent(layout: RackLayout) -> HallGrid:
    """Hall width (a row of ``racks_per_row`` racks plus two end aisles: compute, CDU, network and MDA rows are
    all at most that long), each hall's depth (the rows of its kind's pattern, MDA rows included once
    :func:`insert_mda` has put them in, × row pitch plus a cold aisle) and grid origins: grid rows as deep as the
    deepest hall, and a shallower (partly filled) hall moved down its grid cell by as much as the cell leaves room
    for, up to where its MDA's centre lines up with a full hall's, so that the backbone between the halls' MDAs
    runs straight across."""
    g = layout.geometry
    width = g.racks_per_row * g.rack_pitch + 2 * g.cold_aisle
    rows = np.array([len(k.pattern) for k in layout.kinds])
    depth = rows * g.row_pitch + g.cold_aisle
    mda_centre = np.array([k.mda_at + (k.pattern == MDA).sum() / 2 for k in layout.kinds])  # in rows
    shift = np.clip((mda_centre[0] - mda_centre) * g.row_pitch, 0.0, depth.max() - depth)
    kind = layout.kind_of(np.arange(layout.halls))
    columns = int(np.ceil(np.sqrt(layout.halls)))
    index = np.arange(layout.halls)
    return HallGrid(
        width,
        float(depth[0]),
        columns,
        (index % columns) * (width + g.hall_gap),
        (index // columns) * (float(depth.max()) + g.hall_gap) + shift[kind],
        layout.pattern,
        depth[kind],
        tuple(layout.kinds[k].pattern for k in kind),
    )


def coordinates(
    grid: HallGrid, geometry: Geometry, hall: np.ndarray, row: np.ndarray, position: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Plan coordinates [m] of the centre of the rack at (hall, physical row, position in row)."""
    x = grid.origin_x[hall] + geometry.cold_aisle + (position + 0.5) * geometry.rack_pitch
    y = grid.origin_y[hall] + geometry.cold_aisle / 2 + row * geometry.row_pitch + geometry.rack_depth / 2
    return x, y
