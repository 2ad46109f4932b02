"""The per-cable plan: both ends of every scale-out link, its routed length and its medium, as one table.

Columns (one row per cable, built from arrays, never one Python object per cable):
``id, plane, tier`` (1 = NIC–leaf, 2 = leaf–spine, 3 = spine–super-spine), ``a_hall, a_row, a_rack,
a_slot, a_port`` and the same for ``b_`` (1-based; a compute end's slot is its compute tray, a switch end's
rack is the network rack in the row and its slot the switch in that rack), ``length_m``, ``media`` and
``part``.

Length (routed along overhead trays, e.g. TIA-942 / BICSI 002 practice):
``L = (|x_a − x_b| + |y_a − y_b| + 2·drop + service_loop) · (1 + slack)`` — the Manhattan distance between
the rack centres plus a vertical drop at each end, a service loop and a slack share.

Medium: the first media rule (catalog cable or optic, in the site file's order) that applies to the link's
tier and whose ``reach`` covers the length; links no rule covers get ``none`` (a violation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

NO_MEDIUM = "none"


@dataclass(frozen=True)
class Ends:
    """Positions of one end of many links (0-based indices, coordinates in m)."""

    hall: np.ndarray
    row: np.ndarray
    rack: np.ndarray
    slot: np.ndarray
    port: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @staticmethod
    def compact(hall, row, rack, slot, port, x, y) -> Ends:
        """Ends with 32-bit positions and coordinates (half the memory traffic of the defaults)."""
        hall, row, rack, slot, port = (np.asarray(a, dtype=np.int32) for a in (hall, row, rack, slot, port))
        return Ends(hall, row, rack, slot, port, np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32))

    def take(self, index: np.ndarray, port: np.ndarray | None = None) -> Ends:
        return Ends(
            self.hall[index],
            self.row[index],
            self.rack[index],
            self.slot[index],
            self.port[index] if port is None else port.astype(np.int32),
            self.x[index],
            self.y[index],
        )

    @staticmethod
    def concat(parts: list[Ends]) -> Ends:
        return Ends(*(np.concatenate([getattr(p, f) for p in parts]) for f in Ends.__dataclass_fields__))


def routed_length(a: Ends, b: Ends, drop: float, service_loop: float, slack: float) -> np.ndarray:
    """Cable length [m]: Manhattan distance along trays, two drops and a service loop, plus slack."""
    return ((np.abs(a.x - b.x) + np.abs(a.y - b.y) + 2.0 * drop + service_loop) * (1.0 + slack)).astype(np.float32)


def choose_media(
    length: np.ndarray,
    reaches: list[float],
    tier: np.ndarray | None = None,
    rule_tiers: list[tuple[int, ...]] | None = None,
) -> np.ndarray:
    """Index of the first rule whose reach covers each length and that applies to the link's tier (−1: none)."""
    choice = np.full(len(length), -1, dtype=np.int8)
    for index, reach in enumerate(reaches):
        fits = (choice < 0) & (length <= reach)
        if tier is not None and rule_tiers is not None:
            fits &= np.isin(tier, rule_tiers[index])
        choice[fits] = index
    return choice


def cable_table(
    a: Ends,
    b: Ends,
    plane: np.ndarray,
    tier: np.ndarray,
    length: np.ndarray,
    choice: np.ndarray,
    media: list[str],
    parts: list[str],
) -> pl.DataFrame:
    """The cable plan as a Polars table (categorical media and part; 1-based positions)."""
    part_names = list(dict.fromkeys(parts + [NO_MEDIUM]))
    media_names = list(dict.fromkeys(media + [NO_MEDIUM]))
    part_codes = np.array([part_names.index(p) for p in parts] + [part_names.index(NO_MEDIUM)], dtype=np.uint32)
    media_codes = np.array([media_names.index(m) for m in media] + [media_names.index(NO_MEDIUM)], dtype=np.uint32)
    columns = {
        "id": np.arange(1, len(length) + 1, dtype=np.int64),
        "plane": (plane + 1).astype(np.int8),
        "tier": tier.astype(np.int8),
    }
    for prefix, end in (("a", a), ("b", b)):
        for name in ("hall", "row", "rack", "slot", "port"):
            columns[f"{prefix}_{name}"] = (getattr(end, name) + 1).astype(np.int32)
    columns["length_m"] = length
    frame = pl.DataFrame(columns)
    return frame.with_columns(
        _enum("media", media_names, media_codes[choice]), _enum("part", part_names, part_codes[choice])
    )


def _enum(name: str, names: list[str], codes: np.ndarray) -> pl.Series:
    """Integer codes → a Polars Enum column (no Python string per row)."""
    return pl.Series(name, names, dtype=pl.Enum(names)).gather(pl.Series(codes)).alias(name)


def length_totals(cables: pl.DataFrame, *by: str) -> list[dict]:
    """Cables, total and longest length [m] per group of the columns ``by``, groups in sorted order.

    Each total is ``math.fsum`` of the group's lengths: exactly rounded, so the same bits whatever order the
    lengths come in (a polars group-by sum adds them in the order its threads finish, and two runs of the same
    plan differed in the last digits).
    """
    groups = cables.partition_by(*by, as_dict=True)
    totals = []
    for key in sorted(groups):
        lengths = groups[key]["length_m"].to_numpy()
        totals.append(
            {
                **dict(zip(by, key, strict=True)),
                "cables": len(lengths),
                "length_m": math.fsum(lengths.tolist()),
                "longest_m": float(lengths.max()),
            }
        )
    return totals
