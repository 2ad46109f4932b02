"""The floor layout (rackwright.site.layout) against hand placements: network rows no longer than a compute row,
spines and super-spines in the hall's MDA rows in the middle of the hall, and the hall's extent from the rows it holds.

A small hall by hand: 4 racks a row at 0.6 m pitch, 1.2 m deep racks, 1.2 m aisles (row pitch 1.2 + 1.2 = 2.4 m),
a CDU row after every 2 compute rows, a network row after every 2, 2 switches a network rack, 12 racks a hall.
Its 3 compute rows split into halves of 2 and 1: ``C C U N`` and ``C U N`` mirrored, ``N U C``; the MDA opens between
the two network rows (row 4).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rackwright.site.layout import (
    CDU,
    COMPUTE,
    MDA,
    NETWORK,
    Geometry,
    coordinates,
    hall_extent,
    hall_pattern,
    insert_mda,
    mda_split,
    place_racks,
    place_switches,
    row_pattern,
    served_by,
)

C, U, N = COMPUTE, CDU, NETWORK


def _geometry(racks_per_row: int = 4, per_network: int = 2, per_cdu: int = 2, per_rack: int = 2) -> Geometry:
    return Geometry(12.0, racks_per_row, 0.6, 1.2, 1.2, 1.2, per_network, per_cdu, per_rack, 10.0)


@pytest.fixture
def layout():
    # 20 racks of 1 W under a 12 W hall: 12 racks a hall, 2 halls; 3 compute rows a hall
    return place_racks(np.ones(20), _geometry())


def test_row_pattern_by_hand():
    # 3 compute rows: a CDU and a network row after the second, and after the last
    assert row_pattern(3, 2, 2).tolist() == [C, C, U, N, C, U, N]
    assert row_pattern(4, 4, 2).tolist() == [C, C, N, C, C, U, N]


def test_hall_pattern_is_two_halves_and_the_mda_opens_between_them_by_hand():
    # 26 compute rows, a CDU row every 4, a network row every 8 (the 100 MW example's hall): halves of 13 rows, each
    # 13 C + ceil(13/4) = 4 U + ceil(13/8) = 2 N = 19 rows, the second in reverse order (its network row first); the
    # MDA at row 19, between the first half's last network row and the second half's first
    half = [C, C, C, C, U, C, C, C, C, U, N, C, C, C, C, U, C, U, N]
    assert hall_pattern(26, 4, 8).tolist() == half + half[::-1]
    assert mda_split(hall_pattern(26, 4, 8)) == 19
    # 3 compute rows in halves of 2 and 1: C C U N | N U C (C U N mirrored); n = 7, the boundaries within a row of
    # the middle are k = 3 (after a CDU row) and k = 4 (after a network row): 4
    assert hall_pattern(3, 2, 2).tolist() == [C, C, U, N, N, U, C] and mda_split(hall_pattern(3, 2, 2)) == 4
    # a row each: 3 compute rows give C U N C U N | N U C (n = 9); the halves' boundary (k = 6) is 1.5 rows off
    # the middle, so the MDA opens at k = 5 (after a CDU row; k = 4 follows a compute row)
    assert mda_split(hall_pattern(3, 1, 1)) == 5


def test_racks_fill_rows_and_blocks(layout):
    assert (layout.racks_per_hall, layout.halls) == (12, 2)
    assert layout.pattern.tolist() == [C, C, U, N, N, U, C] and layout.network_rows.tolist() == [3, 4]
    # rack 9 is the second rack of hall 0's third compute row (physical row 6, the mirrored half's last), served by
    # the second network row (row 4, before it)
    assert (layout.hall[9], layout.row[9], layout.position[9], layout.block[9]) == (0, 6, 1, 1)
    assert (layout.hall[12], layout.row[12], layout.position[12]) == (1, 0, 0)
    assert (layout.mda_at, layout.second_half) == (4, 4)


def test_served_by_reads_the_mirrored_half_backwards():
    # C C U N | N U C (second half from row 4): rows 0 and 1 by the CDU row 2 and network row 3 after them, row 6 by
    # the CDU row 5 and network row 4 before it
    pattern = hall_pattern(3, 2, 2)
    assert served_by(pattern, 4, CDU)[[0, 1, 6]].tolist() == [2, 2, 5]
    assert served_by(pattern, 4, NETWORK)[[0, 1, 6]].tolist() == [3, 3, 4]


def test_blocks_follow_the_halves():
    # 10 compute rows of 1 rack, a network row every 4, a CDU row every 2: halves of 5 and 5, each C C U C C U N C U N
    # (10 rows); the first half's blocks 0 (its compute rows 1-4) and 1 (its fifth), network rows 6 and 9; the second
    # half mirrored, N U C N U C C U C C (rows 10-19): network row 10 serves the compute row after it (12, the half's
    # lone fifth row, block 2) and network row 13 the four after it (15, 16, 18, 19: block 3); racks fill the compute
    # rows in row order
    layout = place_racks(np.ones(10), Geometry(12.0, 1, 0.6, 1.2, 1.2, 1.2, 4, 2, 2, 10.0))
    assert layout.network_rows.tolist() == [6, 9, 10, 13]
    assert layout.row.tolist() == [0, 1, 3, 4, 7, 12, 15, 16, 18, 19]
    assert layout.block.tolist() == [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]


def _switches():
    """10 leaves of hall 0's first block, 3 of its second, 5 spines homed in its first block, 1 super-spine in hall
    1, in the planner's order (leaves, spines, super-spines)."""
    hall = np.array([0] * 10 + [0] * 3 + [0] * 5 + [1])
    block = np.array([0] * 10 + [1] * 3 + [0] * 5 + [0])
    tier = np.array([1] * 13 + [2] * 5 + [3])
    return hall, block, tier


def test_leaves_fill_their_network_row_and_the_rest_goes_to_the_mda(layout):
    hall, block, tier = _switches()
    s = place_switches(layout, hall, block, tier)
    # a network row holds 4 racks × 2 switches = 8: leaves 0-7 in row 3, racks 1-4 (0-based 0-3)
    assert s.row[:8].tolist() == [3] * 8 and s.rack[:8].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert s.slot[:8].tolist() == [0, 1] * 4
    # the second block's 3 leaves in row 4 (the mirrored half's network row)
    assert s.row[10:13].tolist() == [4] * 3 and s.rack[10:13].tolist() == [0, 0, 1]
    # hall 0's MDA (numbered row 7, after its 7 rows, until insert_mda moves it): leaves 8 and 9 (no room in row 3),
    # then the 5 spines, in index order
    mda = [8, 9, 13, 14, 15, 16, 17]
    assert s.row[mda].tolist() == [7] * 7
    assert s.rack[mda].tolist() == [0, 0, 1, 1, 2, 2, 3] and s.slot[mda].tolist() == [0, 1, 0, 1, 0, 1, 0]
    # hall 1 (its 8 racks fill 2 compute rows: C U N | N U C, 6 rows) has rows of its own; its super-spine opens
    # its MDA, numbered row 6
    assert (s.hall[18], s.row[18], s.rack[18], s.slot[18]) == (1, 6, 0, 0)


def test_without_tiers_every_switch_tries_its_network_row_first(layout):
    hall, block, _ = _switches()
    s = place_switches(layout, hall, block)
    # hall 0 block 0: 10 leaves + 5 spines = 15 switches, 8 in row 3, the last 7 (2 leaves, 5 spines) in the MDA
    assert (s.row[[0, 7]] == 3).all() and (s.row[[8, 9, 13, 17]] == 7).all()
    assert s.rack[17] == 3 and s.slot[17] == 0


def test_mda_moves_to_the_middle_and_the_rows_after_it_down(layout):
    hall, block, tier = _switches()
    new, s = insert_mda(layout, place_switches(layout, hall, block, tier))
    # one MDA row at row 4 (layout.mda_at): C C U N | MDA | N U C, between the two network rows; the second network
    # row moves from 4 to 5, the second half from row 4 to 5
    assert new.pattern.tolist() == [C, C, U, N, MDA, N, U, C] and new.network_rows.tolist() == [3, 5]
    assert new.second_half == 5
    assert s.row[[8, 9, 13, 17]].tolist() == [4] * 4 and s.row[:8].tolist() == [3] * 8
    # hall 1's MDA row at its own middle, row 3 (C U N | MDA | N U C: after its first network row)
    assert new.kinds[1].pattern.tolist() == [C, U, N, MDA, N, U, C] and s.row[18] == 3
    assert s.row[10:13].tolist() == [5] * 3
    # racks of compute rows 0 and 1 stay; the third compute row (was row 6) is row 7 now
    assert new.row[[0, 4, 8, 9]].tolist() == [0, 1, 7, 7]
    # hall 1: racks 12-15 in its first compute row (row 0), 16-19 in its mirrored half's (row 5, row 6 after its MDA)
    assert (new.row[12], new.row[20 - 1]) == (0, 6)
    assert (new.position == layout.position).all() and (new.block == layout.block).all()


def test_hall_extent_and_mda_rack_coordinates_by_hand(layout):
    hall, block, tier = _switches()
    new, s = insert_mda(layout, place_switches(layout, hall, block, tier))
    grid = hall_extent(new)
    # hall 0: 7 rows and 1 MDA row at 2.4 m plus a 1.2 m cold aisle, 8 × 2.4 + 1.2 = 20.4 m; 4 racks at 0.6 m plus
    # two 1.2 m end aisles, 4.8 m. Hall 1, partly filled (8 racks, 2 compute rows), C U N | MDA | N U C:
    # 7 × 2.4 + 1.2 = 18.0 m
    assert grid.pattern.tolist() == [C, C, U, N, MDA, N, U, C]
    assert grid.depth == pytest.approx(8 * 2.4 + 1.2)
    assert grid.width == pytest.approx(4 * 0.6 + 2 * 1.2)
    assert grid.patterns[1].tolist() == [C, U, N, MDA, N, U, C]
    assert grid.depths.tolist() == pytest.approx([20.4, 18.0])
    # 2 halls on a 2-column grid 10 m apart; the floor drawn: 4.8 × (20.4 + 18.0) = 184.32 m². Hall 1 moves down its
    # grid cell until its MDA's centre (row 3 + 1/2) lines up with hall 0's (row 4 + 1/2): 1 row, 2.4 m, just the
    # 20.4 − 18.0 m its cell leaves
    assert grid.origin_x.tolist() == pytest.approx([0.0, 4.8 + 10.0])
    assert grid.origin_y.tolist() == pytest.approx([0.0, 2.4])
    assert grid.floor_area == pytest.approx(184.32)
    # the fourth MDA rack of hall 0 (row 4): x = 1.2 + 3.5 × 0.6, y = 0.6 + 4 × 2.4 + 0.6, the hall's middle
    # (20.4 / 2 = 10.2 m) to within the half row the 8 rows allow
    x, y = coordinates(grid, new.geometry, s.hall[17:18], s.row[17:18], s.rack[17:18])
    assert (float(x[0]), float(y[0])) == pytest.approx((3.3, 10.8))
    # a rack of the last compute row (rack 9: row 7 now): y = 0.6 + 7 × 2.4 + 0.6
    x, y = coordinates(grid, new.geometry, new.hall[9:10], new.row[9:10], new.position[9:10])
    assert (float(x[0]), float(y[0])) == pytest.approx((1.2 + 1.5 * 0.6, 18.0))


def test_mda_grows_by_whole_rows_and_every_full_hall_is_as_deep_as_the_deepest():
    # 36 racks: 3 full halls of 12. 17 spines in hall 0: 8 a row, numbered rows 7, 8 and 9, moved to rows 4, 5 and 6
    # of every hall, each 10 × 2.4 + 1.2 = 25.2 m deep
    layout = place_racks(np.ones(36), _geometry())
    s = place_switches(layout, np.zeros(17, dtype=int), np.zeros(17, dtype=int), np.full(17, 2))
    assert s.row.tolist() == [7] * 8 + [8] * 8 + [9] and s.rack[-1] == 0
    new, s = insert_mda(layout, s)
    assert s.row.tolist() == [4] * 8 + [5] * 8 + [6]
    grid = hall_extent(new)
    assert grid.pattern.tolist() == [C, C, U, N, MDA, MDA, MDA, N, U, C] and grid.depth == pytest.approx(10 * 2.4 + 1.2)
    assert grid.depths.tolist() == pytest.approx([25.2] * 3) and len(new.kinds) == 1
    assert grid.origin_y.tolist() == [0.0, 0.0, 25.2 + 10.0]  # a 2-column grid, its rows 25.2 m deep and 10 m apart


def test_the_partly_filled_last_hall_is_laid_out_for_the_rows_it_fills():
    # 30 racks: 2 full halls of 12 (3 compute rows: C C U N | N U C, 7 rows) and a last hall of 6 (2 compute rows,
    # 4 + 2 racks: C U N | N U C, 6 rows): its compute rows 0 and 5, its network rows 2 and 3 beside them, served
    # each by the network row on its side. A leaf of each of its blocks and 9 spines (8 a network row, so 2 MDA
    # rows: the full halls have none, and stay 7 × 2.4 + 1.2 = 18.0 m deep)
    layout = place_racks(np.ones(30), _geometry())
    assert [k.pattern.tolist() for k in layout.kinds] == [[C, C, U, N, N, U, C], [C, U, N, N, U, C]]
    last = np.arange(24, 30)
    assert layout.row[last].tolist() == [0, 0, 0, 0, 5, 5] and layout.block[last].tolist() == [0, 0, 0, 0, 1, 1]
    hall = np.full(11, 2)
    s = place_switches(layout, hall, np.r_[0, 1, np.zeros(9, dtype=int)], np.r_[1, 1, np.full(9, 2)])
    assert s.row.tolist() == [2, 3] + [6] * 8 + [7]  # MDA rows numbered after its 6 rows
    new, s = insert_mda(layout, s)
    # its MDA between its network rows (mda_split: n = 6, k = 3 follows a network row): C U N | M M | N U C
    assert new.rows_of(2).pattern.tolist() == [C, U, N, MDA, MDA, N, U, C]
    assert new.rows_of(0).pattern.tolist() == [C, C, U, N, N, U, C]
    assert s.row.tolist() == [2, 5] + [3] * 8 + [4] and new.row[last].tolist() == [0, 0, 0, 0, 7, 7]
    grid = hall_extent(new)
    # drawn 8 rows deep: 8 × 2.4 + 1.2 = 20.4 m; floor 4.8 m wide × (18.0 + 18.0 + 20.4) m = 270.72 m²
    assert grid.depths.tolist() == pytest.approx([18.0, 18.0, 20.4])
    assert grid.floor_area == pytest.approx(4.8 * (18.0 + 18.0 + 20.4))
    # the third hall starts the grid's second row, as deep as the deepest hall (20.4 m) + 10 m below
    assert grid.origin_y.tolist() == pytest.approx([0.0, 0.0, 30.4])


def test_no_switches_no_mda(layout):
    empty = np.zeros(0, dtype=np.int32)
    new, _ = insert_mda(layout, place_switches(layout, empty, empty, empty))
    grid = hall_extent(new)
    assert grid.pattern.tolist() == layout.pattern.tolist() and grid.depth == pytest.approx(7 * 2.4 + 1.2)
    assert (new.row == layout.row).all()


@settings(max_examples=60, deadline=None)
@given(
    racks=st.integers(1, 300),
    racks_per_row=st.integers(1, 12),
    per_network=st.integers(1, 5),
    per_rack=st.integers(1, 8),
    switches=st.integers(0, 400),
    seed=st.integers(0, 2**16),
)
def test_placement_is_a_floor_plan(racks, racks_per_row, per_network, per_rack, switches, seed):
    """Whatever the counts: one switch a slot, no network row longer than a compute row, spines and super-spines
    only in MDA rows, leaves in their own hall's network rows or its MDA; every hall as many compute rows as its
    racks fill (full halls alike, with as many MDA rows as the fullest needs; a partly filled last hall its own);
    once the MDA is in the hall's middle, compute racks only in compute rows, every rack inside its hall, no two
    overlapping, and the MDA's centre within one row pitch of the hall's."""
    rng = np.random.default_rng(seed)
    geometry = Geometry(40.0, racks_per_row, 0.6, 1.2, 1.2, 1.2, per_network, 3, per_rack, 5.0)
    layout = place_racks(np.ones(racks), geometry)
    home = rng.integers(0, racks, switches)
    tier = rng.integers(1, 4, switches)
    s = place_switches(layout, layout.hall[home], layout.block[home], tier)
    keys = np.stack([s.hall, s.row, s.rack, s.slot])
    assert np.unique(keys, axis=1).shape[1] == switches
    assert (s.rack < racks_per_row).all() and (s.slot < per_rack).all() and (s.hall == layout.hall[home]).all()
    before = [layout.rows_of(h).pattern for h in range(layout.halls)]
    base = np.array([len(p) for p in before])[s.hall]
    assert (s.row[tier > 1] >= base[tier > 1]).all()
    in_row = s.row < base
    assert all(before[h][r] == NETWORK for h, r in zip(s.hall[in_row], s.row[in_row], strict=True))
    assert (tier[in_row] == 1).all()
    new, s = insert_mda(layout, s)
    grid = hall_extent(new)
    rows_a_hall = -(-min(racks, layout.racks_per_hall) // racks_per_row)
    for h in range(layout.halls):
        pattern = grid.patterns[h]
        filled = -(-int((layout.hall == h).sum()) // racks_per_row)
        assert (pattern == COMPUTE).sum() == (filled if h == layout.halls - 1 else rows_a_hall)
        alike = layout.kind_of(s.hall) == layout.kind_of(np.array(h))  # full halls, or the partly filled last one
        assert (pattern == MDA).sum() == max([0] + (keys[1][alike] + 1 - len(before[h])).tolist())
        assert grid.depths[h] == pytest.approx(len(pattern) * 2.4 + 1.2)
        mda = np.flatnonzero(pattern == MDA)
        if len(mda):  # the MDA's centre within one row pitch (2.4 m) of the hall's
            mda_centre = (mda[0] + mda[-1] + 1) / 2 * 2.4 + 0.6  # rows from a half cold aisle (0.6 m) in
            assert abs(mda_centre - grid.depths[h] / 2) <= 2.4 + 1e-9
    assert grid.width == pytest.approx(racks_per_row * 0.6 + 2.4)
    drawn = lambda hall, row: np.array([grid.patterns[h][r] for h, r in zip(hall, row, strict=True)])  # noqa: E731
    assert (drawn(new.hall, new.row) == COMPUTE).all() and (drawn(s.hall[tier > 1], s.row[tier > 1]) == MDA).all()
    assert (drawn(s.hall[in_row], s.row[in_row]) == NETWORK).all()
    _racks_lie_inside_their_hall_and_never_overlap(new, grid, s)


def _racks_lie_inside_their_hall_and_never_overlap(layout, grid, s):
    """Every compute and network rack's footprint (pitch × depth about its centre) inside its hall's rectangle
    (origin, width × depth) and no two footprints overlapping (pairwise, from the coordinates alone)."""
    g = layout.geometry
    network = np.unique(np.stack([s.hall, s.row, s.rack]), axis=1)
    hall = np.r_[layout.hall, network[0]]
    x, y = coordinates(grid, g, hall, np.r_[layout.row, network[1]], np.r_[layout.position, network[2]])
    x0, y0 = grid.origin_x[hall], grid.origin_y[hall]
    eps = 1e-9
    assert (x - g.rack_pitch / 2 >= x0 - eps).all() and (x + g.rack_pitch / 2 <= x0 + grid.width + eps).all()
    assert (y - g.rack_depth / 2 >= y0 - eps).all() and (y + g.rack_depth / 2 <= y0 + grid.depths[hall] + eps).all()
    dx, dy = np.abs(x[:, None] - x[None, :]), np.abs(y[:, None] - y[None, :])
    overlap = (dx < g.rack_pitch - 1e-6) & (dy < g.rack_depth - 1e-6)
    assert overlap.sum() == len(x)  # each rack with itself only
