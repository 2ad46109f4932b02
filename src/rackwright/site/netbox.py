"""The cable plan in NetBox's bulk-import CSV format (DCIM → Cables → Import).

Columns follow NetBox's cable import form: ``side_a_site, side_a_device, side_a_type, side_a_name,
side_b_site, side_b_device, side_b_type, side_b_name, type, status, label, length, length_unit`` (the site
columns, when a site slug is given, tell same-named devices of different sites apart). Device names are built from the plan's
positions (``h01-r003-k05-t02`` for compute tray 2 of rack 5 in row 3 of hall 1, ``h01-r009-n02-s07`` for
switch 7 of network rack 2); interface names are ``nicN`` on trays and ``swpN`` on switches. Cable types map
the medium: DAC → ``dac-passive``, ACC/AEC → ``dac-active``, AOC → ``aoc``, optics → ``smf``.
Built with Polars string expressions, one pass over the table.
"""

from __future__ import annotations

import polars as pl

CABLE_TYPES = {"dac": "dac-passive", "acc": "dac-active", "aec": "dac-active", "aoc": "aoc", "optical": "smf",
               "utp": "cat6", "backplane": "dac-passive", "none": ""}


def _device(prefix: str, compute: pl.Expr) -> pl.Expr:
    hall, row, rack, slot = (pl.col(f"{prefix}_{n}").cast(pl.Utf8) for n in ("hall", "row", "rack", "slot"))
    base = pl.concat_str([pl.lit("h"), hall.str.zfill(2), pl.lit("-r"), row.str.zfill(3)])
    return pl.when(compute).then(pl.concat_str([base, pl.lit("-k"), rack.str.zfill(2), pl.lit("-t"), slot.str.zfill(2)])) \
        .otherwise(pl.concat_str([base, pl.lit("-n"), rack.str.zfill(2), pl.lit("-s"), slot.str.zfill(2)]))


def site_slug(name: str) -> str:
    """NetBox-style slug of a site name (lower case, letters, digits and hyphens)."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "site"


def netbox_cables(cables: pl.DataFrame, site: str | None = None) -> pl.DataFrame:
    """NetBox cable-import rows for the plan (tier 1 A ends are compute trays, all other ends switches)."""
    compute_a = pl.col("tier") == 1
    frame = cables.select(
        _device("a", compute_a).alias("side_a_device"),
        pl.lit("dcim.interface").alias("side_a_type"),
        pl.when(compute_a).then(pl.concat_str([pl.lit("nic"), pl.col("a_port").cast(pl.Utf8)]))
        .otherwise(pl.concat_str([pl.lit("swp"), pl.col("a_port").cast(pl.Utf8)])).alias("side_a_name"),
        _device("b", pl.lit(False)).alias("side_b_device"),
        pl.lit("dcim.interface").alias("side_b_type"),
        pl.concat_str([pl.lit("swp"), pl.col("b_port").cast(pl.Utf8)]).alias("side_b_name"),
        pl.col("media").cast(pl.Utf8).replace_strict(CABLE_TYPES, default="").alias("type"),
        pl.lit("planned").alias("status"),
        pl.concat_str([pl.lit("C"), pl.col("id").cast(pl.Utf8).str.zfill(7)]).alias("label"),
        pl.col("length_m").round(1).alias("length"),
        pl.lit("m").alias("length_unit"),
    )
    if site is None:
        return frame
    return frame.with_columns(pl.lit(site).alias("side_a_site"), pl.lit(site).alias("side_b_site")).select(
        "side_a_site", "side_a_device", "side_a_type", "side_a_name", "side_b_site", "side_b_device", "side_b_type",
        "side_b_name", "type", "status", "label", "length", "length_unit")
