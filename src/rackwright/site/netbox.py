"""The cable plan in NetBox's bulk-import CSV format (DCIM → Cables → Import).

Columns follow NetBox's cable import form: ``side_a_site, side_a_device, side_a_type, side_a_name,
side_b_site, side_b_device, side_b_type, side_b_name, type, status, label, length, length_unit`` (the site
columns, when a site is given, tell same-named devices of different sites apart; NetBox's form looks the
site up by its *name*, ``CableImportForm.side_a_site`` has ``to_field_name='name'``, so the columns hold the
name, never the slug). Device names are built from the plan's
positions (``h01-r003-k05-t02`` for compute tray 2 of rack 5 in row 3 of hall 1, ``h01-r009-n02-s07`` for
switch 7 of network rack 2); interface names are ``nicN`` on trays and ``swpN`` on switches. Cable types map
the medium: DAC → ``dac-passive``, ACC/AEC → ``dac-active``, AOC → ``aoc``, optics → ``smf``.
Built with Polars string expressions, one pass over the table.

:func:`netbox_objects` lists what the cables attach to, as NetBox bulk-import rows in dependency order: the
site, its halls as locations, racks (``h01-r003-k05`` compute, ``h01-r009-n02`` network, the floor plan's
names) and devices (trays and switches, named as in the cable CSV, with their device type and role).
"""

from __future__ import annotations

import polars as pl

CABLE_TYPES = {
    "dac": "dac-passive",
    "acc": "dac-active",
    "aec": "dac-active",
    "aoc": "aoc",
    "optical": "smf",
    "utp": "cat6",
    "backplane": "dac-passive",
    "none": "",
}


def _device(prefix: str, compute: pl.Expr) -> pl.Expr:
    hall, row, rack, slot = (
        pl.col(f"{prefix}_{n}" if prefix else n).cast(pl.Utf8) for n in ("hall", "row", "rack", "slot")
    )
    base = pl.concat_str([pl.lit("h"), hall.str.zfill(2), pl.lit("-r"), row.str.zfill(3)])
    tray = pl.concat_str([base, pl.lit("-k"), rack.str.zfill(2), pl.lit("-t"), slot.str.zfill(2)])
    return (
        pl.when(compute)
        .then(tray)
        .otherwise(pl.concat_str([base, pl.lit("-n"), rack.str.zfill(2), pl.lit("-s"), slot.str.zfill(2)]))
    )


def site_slug(name: str) -> str:
    """NetBox-style slug of a site name (lower case, letters, digits and hyphens)."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "site"


def switch_port(port: pl.Expr, lanes: int = 1) -> pl.Expr:
    """The interface name of the plan's switch port ``port`` (1-based): ``swpN``, or with ``lanes`` > 1 (the plan
    runs each physical port as that many breakout lanes, e.g. a 64 x 800G switch as 128 x 400G) the lane
    ``swp<physical>s<lane>`` (plan port 3 at 2 lanes: ``swp2s0``), the breakout names of Cumulus/NVIDIA switches."""
    if lanes <= 1:
        return pl.concat_str([pl.lit("swp"), port.cast(pl.Utf8)])
    zero = port.cast(pl.Int64) - 1
    return pl.concat_str([pl.lit("swp"), (zero // lanes + 1).cast(pl.Utf8), pl.lit("s"), (zero % lanes).cast(pl.Utf8)])


def netbox_cables(cables: pl.DataFrame, site: str | None = None, lanes: int = 1) -> pl.DataFrame:
    """NetBox cable-import rows for the plan (tier 1 A ends are compute trays, all other ends switches).

    ``site`` is the site's name as NetBox knows it (the plan's ``summary.json`` ``site``), which NetBox's
    cable import looks up by name; None leaves the site columns out. ``lanes``: breakout lanes per physical
    switch port (:func:`switch_port`); 1 names the plan's ports ``swp1``... as they are numbered.
    """
    compute_a = pl.col("tier") == 1
    frame = cables.select(
        _device("a", compute_a).alias("side_a_device"),
        pl.lit("dcim.interface").alias("side_a_type"),
        pl.when(compute_a)
        .then(pl.concat_str([pl.lit("nic"), pl.col("a_port").cast(pl.Utf8)]))
        .otherwise(switch_port(pl.col("a_port"), lanes))
        .alias("side_a_name"),
        _device("b", pl.lit(False)).alias("side_b_device"),
        pl.lit("dcim.interface").alias("side_b_type"),
        switch_port(pl.col("b_port"), lanes).alias("side_b_name"),
        pl.col("media").cast(pl.Utf8).replace_strict(CABLE_TYPES, default="").alias("type"),
        pl.lit("planned").alias("status"),
        pl.concat_str([pl.lit("C"), pl.col("id").cast(pl.Utf8).str.zfill(7)]).alias("label"),
        # from Float64: a Float32 length prints 32.599998, more decimals than NetBox's cable length takes
        pl.col("length_m").cast(pl.Float64).round(1).alias("length"),
        pl.lit("m").alias("length_unit"),
    )
    if site is None:
        return frame
    return frame.with_columns(pl.lit(site).alias("side_a_site"), pl.lit(site).alias("side_b_site")).select(
        "side_a_site",
        "side_a_device",
        "side_a_type",
        "side_a_name",
        "side_b_site",
        "side_b_device",
        "side_b_type",
        "side_b_name",
        "type",
        "status",
        "label",
        "length",
        "length_unit",
    )


#: Device roles by the tier whose cables end on a switch's B side (leaves take tier 1 from the trays).
SWITCH_ROLES = {1: "Leaf switch", 2: "Spine switch", 3: "Core switch"}
TRAY_ROLE = "Compute tray"


def _ends(cables: pl.DataFrame) -> pl.DataFrame:
    """One row per device end: hall, row, rack, slot, whether it is a compute tray, the tier it serves as B end."""
    a = cables.select(
        *(pl.col(f"a_{n}").alias(n) for n in ("hall", "row", "rack", "slot")),
        (pl.col("tier") == 1).alias("compute"),
        pl.lit(None, pl.Int8).alias("b_tier"),
    )
    b = cables.select(
        *(pl.col(f"b_{n}").alias(n) for n in ("hall", "row", "rack", "slot")),
        pl.lit(False).alias("compute"),
        pl.col("tier").cast(pl.Int8).alias("b_tier"),
    )
    return pl.concat([a, b]).group_by("hall", "row", "rack", "slot", "compute").agg(pl.col("b_tier").min())


def netbox_objects(
    cables: pl.DataFrame,
    site: str,
    compute_type: tuple[str, str],
    switch_type: tuple[str, str],
    lanes: int = 1,
    switch_ports: int = 0,
    lane_type: str = "other",
) -> dict[str, list[dict]]:
    """NetBox bulk-import rows for everything the ``cables`` attach to, in dependency order.

    ``site`` is the site's name; ``compute_type`` and ``switch_type`` are ``(manufacturer, model)`` of the
    device types the trays and switches are (``rackwright.catalog.netbox.to_devicetype`` of the design's
    compute tray and the fabric's switch). Returns ``{"sites", "locations", "racks", "devices"}``, each a list
    of rows whose keys are the columns of NetBox's import form for that object (site, location, rack and
    device type by name; the device type's manufacturer alongside). Devices carry their rack but no
    position: the plan numbers trays and switches within a rack, not rack units.

    With ``lanes`` > 1 the switches' ``switch_ports`` physical ports are broken out: ``"interfaces"`` lists,
    per switch, ``lanes`` interfaces of NetBox type ``lane_type`` for each physical port (``swp1s0`` and
    ``swp1s1``, described "lane 0 of swp1"), the names :func:`netbox_cables` gives the plan's ports at the same
    ``lanes``. They are separate physical interfaces, not children of ``swp1``: NetBox 4.7 lets only virtual
    interfaces and channel subinterfaces have a parent, and a channel subinterface mirrors its parent's one
    cable, while each lane of a breakout cable ends on a different tray.
    """
    ends = _ends(cables).sort("hall", "row", "rack", "compute", "slot")
    devices_frame = ends.with_columns(_device("", pl.col("compute")).alias("name"))
    halls = sorted(set(ends["hall"].to_list()))
    locations = [{"site": site, "name": f"Hall {h}", "slug": f"h{h:02d}", "status": "planned"} for h in halls]
    racks, devices = {}, []
    for row in devices_frame.iter_rows(named=True):
        rack = row["name"].rsplit("-", 1)[0]
        racks.setdefault(rack, {"site": site, "location": f"Hall {row['hall']}", "name": rack, "status": "planned"})
        manufacturer, model = compute_type if row["compute"] else switch_type
        role = TRAY_ROLE if row["compute"] else SWITCH_ROLES.get(row["b_tier"], "Switch")
        devices.append(
            {
                "name": row["name"],
                "role": role,
                "manufacturer": manufacturer,
                "device_type": model,
                "site": site,
                "location": f"Hall {row['hall']}",
                "rack": rack,
                "status": "planned",
            }
        )
    interfaces = []
    if lanes > 1:
        for device in devices:
            if device["role"] != TRAY_ROLE:
                interfaces += [
                    {
                        "device": device["name"],
                        "name": f"swp{port}s{lane}",
                        "type": lane_type,
                        "description": f"lane {lane} of swp{port}",
                    }
                    for port in range(1, switch_ports + 1)
                    for lane in range(lanes)
                ]
    return {
        "sites": [{"name": site, "slug": site_slug(site), "status": "planned"}],
        "locations": locations,
        "racks": list(racks.values()),
        "devices": devices,
        "interfaces": interfaces,
    }
