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

:func:`site_export` lists what the cables attach to, as NetBox bulk-import rows in dependency order (:data:`FILES`):
device, module and rack types, the site, its halls as locations, racks (``h01-r003-k05`` compute, ``h01-r009-n02``
network, the floor plan's names, with the enclosure's rack type), devices (trays and switches, named as in the cable
CSV, with their device type and role), the modules in the trays' bays, and the power chain's distribution stage as
power panels with a primary feed per rack and a redundant one for N+N racks (:func:`power_rows`), cabled to the
rack's power shelves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..catalog.netbox import (
    FED_KINDS,
    RACK_UNIT_M,
    bay_modules,
    slug,
    to_devicetype,
    to_moduletype,
    to_racktype,
    u_height,
)
from ..catalog.schema import Part
from .power import FEED_UTILISATION, FeedSupply, design_feeds, panels_per_hall, psu_feeds, side_panels

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


# -- the whole site as NetBox objects ---------------------------------------------------------------------------------
#: Device roles of switches by the tier whose cables end on their B side (leaves take tier 1 from the trays).
SWITCH_ROLES = {1: "Leaf switch", 2: "Spine switch", 3: "Core switch"}
#: The kinds the planner counts as a rack's compute trays (the A ends of tier 1, numbered t01... in the design's
#: slot order).
TRAY_KINDS = ("compute_tray", "server")
#: Height of a network rack in NetBox (its default, 42 U), raised when its switches need more; the plan names no
#: enclosure for network racks.
NETWORK_RACK_U = 42
#: The bulk-import files in the order NetBox needs them (each names only objects of the files before it).
FILES = (
    "01-manufacturers.csv",
    "02-device-types.yaml",
    "03-module-types.yaml",
    "04-rack-types.yaml",
    "05-sites.csv",
    "06-locations.csv",
    "07-device-roles.csv",
    "08-racks.csv",
    "09-devices.csv",
    "10-modules.csv",
    "11-power-panels.csv",
    "12-power-feeds.csv",
    "13-cables.csv",
    "14-power-cables.csv",
)
#: NetBox's import view (``dcim:<name>_bulk_import``) and REST endpoint for each file.
IMPORTS = {
    "01-manufacturers.csv": ("manufacturer", "manufacturers"),
    "02-device-types.yaml": ("devicetype", "device-types"),
    "03-module-types.yaml": ("moduletype", "module-types"),
    "04-rack-types.yaml": ("racktype", "rack-types"),
    "05-sites.csv": ("site", "sites"),
    "06-locations.csv": ("location", "locations"),
    "07-device-roles.csv": ("devicerole", "device-roles"),
    "08-racks.csv": ("rack", "racks"),
    "09-devices.csv": ("device", "devices"),
    "10-modules.csv": ("module", "modules"),
    "11-power-panels.csv": ("powerpanel", "power-panels"),
    "12-power-feeds.csv": ("powerfeed", "power-feeds"),
    "13-cables.csv": ("cable", "cables"),
    "14-power-cables.csv": ("cable", "cables"),
}
_ROLE_COLORS = {"Compute tray": "4caf50", "Leaf switch": "2196f3", "Spine switch": "3f51b5", "Core switch": "673ab7"}
_RACK_WIDTH_IN = {"eia-19": 19, "orv3-21": 21}


@dataclass(frozen=True)
class Mount:
    """One device of a compute rack: its name after the rack's (``t01``, ``power-lower-1``), part and lowest U."""

    name: str
    part: Part
    position: float | int | None  # None: in the rack, not at a unit (an Open Rack enclosure, or no slot position)


@dataclass(frozen=True)
class RackModel:
    """What one rack design puts into NetBox: the rack's height and width and the devices it holds."""

    name: str
    u_height: int
    width: int
    mounts: tuple[Mount, ...]
    rack_type: dict | None = (
        None  # the enclosure as a NetBox rack type (:func:`~rackwright.catalog.netbox.to_racktype`)
    )
    input_power: float = 0.0  # the design's input power [W] (``power.input``), what its power feed carries
    feeds: int = 1  # power feeds: 2 (A and B) when the design's power is N+N, each side able to carry the rack


@dataclass(frozen=True)
class Fed:
    """What a rack's power feeds carry and end on: the rack's power [W], its feeds (1, or 2 for A and B) and the
    (device, power port) of every power shelf or PDU it holds, in the design's slot order."""

    power: float
    feeds: int = 1
    inputs: tuple[tuple[str, str], ...] = ()

    def end(self, side: int) -> tuple[str, str] | None:
        """Where feed ``side`` (0: A, 1: B) is cabled: the first shelf of that side's share of the shelves (with two
        feeds the first half is A's, the second B's, as an N+N design's lower and upper shelves), or None."""
        share = math.ceil(len(self.inputs) / self.feeds)
        ends = self.inputs[side * share : (side + 1) * share]
        return ends[0] if ends else None


@dataclass
class SiteExport:
    """A site plan as NetBox objects: device types (devicetype-library documents) and import rows by file."""

    site: str
    lanes: int
    device_types: list[dict]
    rows: dict[str, list[dict]] = field(default_factory=dict)  # by file name of :data:`FILES`, cables included
    module_types: list[dict] = field(default_factory=list)
    rack_types: list[dict] = field(default_factory=list)

    def documents(self, name: str) -> list[dict]:
        """The devicetype-library documents of a YAML file of :data:`FILES`."""
        return {"02": self.device_types, "03": self.module_types, "04": self.rack_types}[name[:2]]

    def counts(self) -> dict[str, int]:
        return {name: len(self.documents(name) if name.endswith(".yaml") else self.rows[name]) for name in FILES}


def role_of(kind: str) -> str:
    """NetBox device role of a part kind: ``Compute tray``, ``Power shelf``, ``Scale up switch tray``..."""
    return "Compute tray" if kind in TRAY_KINDS else kind.replace("_", " ").capitalize()


def rack_model(design_path: str | Path, catalog) -> RackModel:
    """The devices of a rack design at their units (EIA enclosures; an Open Rack's OU positions have no NetBox
    unit, its devices are in the rack without a position), the enclosure's height in whole U, width and rack type,
    and the design's input power (evaluated)."""
    from ..models.mechanical import pitch_name
    from ..rack.design import load_design
    from ..rack.evaluation import evaluate

    loaded = load_design(design_path)
    design = loaded.design
    enclosure = catalog.get(design.enclosure)
    eia = pitch_name(enclosure.value("unit_pitch", RACK_UNIT_M)) == "U"
    usable = enclosure.value("usable_height") or enclosure.value("height")
    mounts, trays = [], 0
    for slot in design.slots:
        part = catalog.get(slot.part)
        height = u_height(part.value("height"))
        tray = part.kind in TRAY_KINDS
        if not tray and (slot.position is None or not height):
            continue  # 0U and rear-mounted parts: not devices at a unit
        for k in range(slot.count):
            trays += tray
            at = slot.position + k * height if eia and slot.position is not None else None
            mounts.append(Mount(f"t{trays:02d}" if tray else f"{slot.id}-{k + 1}", part, at))
    units = int(usable / RACK_UNIT_M + 1e-6) if usable else NETWORK_RACK_U
    width = _RACK_WIDTH_IN.get(enclosure.text("rack_standard", "eia-19"), 19)
    power = evaluate(loaded, catalog).figures["power.input"]
    return RackModel(
        design.name, units, width, tuple(mounts), to_racktype(enclosure), power, design_feeds(design.power.redundancy)
    )


def plan_lanes(fabric: dict, catalog) -> int:
    """Breakout lanes per physical switch port: the plan's radix over the switch's ports (a 64-port SN5600 run
    at radix 128 has 2)."""
    ports = catalog.get(fabric["switch"]).value("ports") or fabric["radix"]
    return max(1, int(fabric["radix"]) // int(ports))


def read_plan(plan_dir: Path) -> tuple[dict, list[dict], pl.DataFrame]:
    """``summary.json``, ``generations.json`` and ``cables.parquet`` of a plan folder; InputError naming the file
    that is missing or unreadable."""
    import json

    from ..errors import InputError

    def _json(name: str):
        path = plan_dir / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError.single(
                str(path), f"cannot read the plan: {exc}", hint="run `rackwright site plan SITE -o OUTDIR` first"
            ) from None

    summary, generations = _json("summary.json"), _json("generations.json")
    path = plan_dir / "cables.parquet"
    try:
        cables = pl.read_parquet(path)
    except Exception as exc:  # polars/arrow raise many kinds for a missing or damaged file
        raise InputError.single(str(path), f"cannot read the cable plan: {exc}", hint="plan the site again") from None
    return summary, generations, cables


def _switch_ends(cables: pl.DataFrame) -> pl.DataFrame:
    """One row per switch: hall, row, rack, slot and the lowest tier whose cables end on its B side."""
    a = cables.filter(pl.col("tier") > 1).select(
        *(pl.col(f"a_{n}").alias(n) for n in ("hall", "row", "rack", "slot")), pl.lit(None, pl.Int8).alias("tier")
    )
    b = cables.select(*(pl.col(f"b_{n}").alias(n) for n in ("hall", "row", "rack", "slot")), pl.col("tier"))
    ends = pl.concat([a, b.with_columns(pl.col("tier").cast(pl.Int8))])
    return ends.group_by("hall", "row", "rack", "slot").agg(pl.col("tier").min()).sort("hall", "row", "rack", "slot")


def _compute_racks(cables: pl.DataFrame) -> list[tuple[int, int, int, int]]:
    """(hall, row, rack, generation) of every compute rack (the A ends of tier 1), by hall, row and rack; the
    generation (1-based) is the one the planner recorded for the rack (``a_generation``)."""
    racks = cables.filter(pl.col("tier") == 1).select("a_hall", "a_row", "a_rack", "a_generation").unique()
    return [tuple(r) for r in racks.sort("a_hall", "a_row", "a_rack").iter_rows()]


def hall_loads(cables: pl.DataFrame, generations: list[tuple[float, int]], switch: Part) -> dict[int, list]:
    """(input power [W], feeds) of every rack of each hall as :func:`site_export` feeds it: a compute rack its
    generation's (``generations``, in the order of the cable plan's 1-based ``a_generation``), a network rack its
    switches' power and :func:`~.power.psu_feeds` of their PSU redundancy."""
    loads: dict[int, list] = {}
    for hall, _, _, generation in _compute_racks(cables):
        loads.setdefault(hall, []).append(generations[generation - 1])
    feeds = psu_feeds(switch.text("psu_redundancy"))
    for (hall, _, _), group in _switch_ends(cables).group_by("hall", "row", "rack", maintain_order=True):
        loads.setdefault(int(hall), []).append((group.height * switch.value("power", 0.0), feeds))
    return dict(sorted(loads.items()))


def _rack_name(hall: int, row: int, kind: str, rack: int) -> str:
    return f"h{hall:02d}-r{row:03d}-{kind}{rack:02d}"


def site_export(plan_dir: Path, hall: int | None = None, catalog=None) -> SiteExport:
    """The plan in ``plan_dir`` (``rackwright site plan``) as NetBox objects, or its hall ``hall`` only.

    Compute racks take the rack design of the generation the planner recorded for them (the cable plan's
    ``a_generation``, an entry of ``generations.json``) with every device the design mounts at a unit (Open Rack
    devices without a unit); network racks hold the
    plan's switches, stacked from U1, as the breakout type (:func:`rackwright.catalog.netbox.to_devicetype` with
    :func:`plan_lanes`). Cables are :func:`netbox_cables`; with ``hall``, those with both ends in it.
    """
    from ..catalog import load_catalog
    from ..errors import InputError

    catalog = catalog or load_catalog()
    summary, generations, cables = read_plan(plan_dir)
    site, lanes = str(summary["site"]), plan_lanes(summary["fabric"], catalog)
    models = [rack_model(g["design"], catalog) for g in generations]
    if "a_generation" not in cables.columns:
        raise InputError.single(
            str(plan_dir / "cables.parquet"),
            "the cable plan does not say which generation each rack is (a plan of an older rackwright)",
            hint="plan the site again",
        )
    compute = _compute_racks(cables)
    unknown = sorted({r[3] for r in compute if not (r[3] and 1 <= r[3] <= len(models))}, key=str)
    if unknown:
        raise InputError.single(
            str(plan_dir / "generations.json"),
            f"the cable plan names generation(s) {unknown}, generations.json has {len(models)}",
            hint="plan the site again: the files are from different runs",
        )
    ends = _switch_ends(cables)  # every switch, where it stands, before the cables are cut to one hall
    if hall is not None:
        if hall not in {r[0] for r in compute}:
            raise InputError.single(None, f"the plan has no hall {hall}", "--hall", "halls are numbered from 1")
        ends = ends.filter(pl.col("hall") == hall)
        cables = cables.filter((pl.col("a_hall") == hall) & (pl.col("b_hall") == hall))
    switch = catalog.get(summary["fabric"]["switch"])
    switch_feeds = psu_feeds(switch.text("psu_redundancy"))
    switch_type = _sided(to_devicetype(switch, catalog, lanes), switch_feeds)
    export = SiteExport(site, lanes, [])
    types = {(switch_type["manufacturer"], switch_type["model"]): switch_type}
    module_types: dict[tuple[str, str], dict] = {}
    rack_types: dict[tuple[str, str], dict] = {}
    racks, devices, modules = [], [], []
    fed: dict[str, Fed] = {}
    for h, row, number, generation in compute:
        if hall is not None and h != hall:
            continue
        model = models[generation - 1]
        rack = _rack_name(h, row, "k", number)
        racks.append(_rack_row(site, h, rack, model.u_height, model.width, model.name, model.rack_type))
        if model.rack_type:
            rack_types.setdefault((model.rack_type["manufacturer"], model.rack_type["model"]), model.rack_type)
        inputs = []
        for mount in model.mounts:
            key = (mount.part.manufacturer[:100], mount.part.model[:100])
            doc = types.setdefault(key, to_devicetype(mount.part, catalog))
            name = f"{rack}-{mount.name}"
            devices.append(_device_row(site, h, rack, name, role_of(mount.part.kind), doc, mount.position))
            for bay, held in bay_modules(mount.part, catalog):
                module = module_types.setdefault((held.manufacturer[:100], held.model[:100]), to_moduletype(held))
                modules.append({"device": name, "module_bay": bay["name"], "module_type": module["model"]})
            if mount.part.kind in FED_KINDS and doc.get("power-ports"):
                inputs.append((name, doc["power-ports"][0]["name"]))
        fed[rack] = Fed(model.input_power, model.feeds, tuple(inputs))
    switch_u = u_height(switch.value("height")) or 1
    for (h, row, number), group in ends.group_by("hall", "row", "rack", maintain_order=True):
        rack = _rack_name(int(h), int(row), "n", int(number))
        units = max(NETWORK_RACK_U, math.ceil(max(group["slot"].to_list()) * switch_u))
        racks.append(_rack_row(site, int(h), rack, units, 19, "network rack", None))
        names = [f"{rack}-s{slot:02d}" for slot in group["slot"]]
        psus = _psu_inputs(names, switch_type, switch_feeds)
        fed[rack] = Fed(group.height * switch.value("power", 0.0), switch_feeds, psus)
        for name, (slot, tier) in zip(names, group.select("slot", "tier").iter_rows(), strict=True):
            devices.append(
                _device_row(
                    site, int(h), rack, name, SWITCH_ROLES.get(tier, "Switch"), switch_type, 1 + (slot - 1) * switch_u
                )
            )
    export.device_types = list(types.values())
    export.module_types = list(module_types.values())
    export.rack_types = list(rack_types.values())
    halls = sorted({r["location"] for r in racks})
    roles = sorted({d["role"] for d in devices})
    makers = {t["manufacturer"] for t in [*export.device_types, *export.module_types, *export.rack_types]}
    panels, feeds, power_cables = power_rows(site, racks, fed, summary, catalog)
    export.rows = {
        "01-manufacturers.csv": [{"name": m, "slug": slug(m, "")} for m in sorted(makers)],
        "02-device-types.yaml": [],
        "03-module-types.yaml": [],
        "04-rack-types.yaml": [],
        "05-sites.csv": [{"name": site, "slug": site_slug(site), "status": "planned"}],
        "06-locations.csv": [{"site": site, "name": loc, "slug": site_slug(loc), "status": "planned"} for loc in halls],
        "07-device-roles.csv": [
            {"name": r, "slug": site_slug(r), "color": _ROLE_COLORS.get(r, "9e9e9e")} for r in roles
        ],
        "08-racks.csv": racks,
        "09-devices.csv": devices,
        # the tray's type carries the NIC and DPU ports the cables land on (nic1...): the modules add none
        "10-modules.csv": [{**m, "status": "planned", "replicate_components": "false"} for m in modules],
        "11-power-panels.csv": panels,
        "12-power-feeds.csv": feeds,
        "13-cables.csv": netbox_cables(cables, site, lanes).to_dicts(),
        "14-power-cables.csv": power_cables,
    }
    return export


def _sided(doc: dict, feeds: int) -> dict:
    """A switch type whose PSUs hang on two feeds (:func:`~.power.psu_feeds`): the first half of its power ports
    described ``A feed``, the rest ``B feed``."""
    ports = doc.get("power-ports") or []
    if feeds < 2 or len(ports) < 2:
        return doc
    half = len(ports) // 2
    return {**doc, "power-ports": [{**p, "description": f"{'AB'[k >= half]} feed"} for k, p in enumerate(ports)]}


def _psu_inputs(switches: list[str], doc: dict, feeds: int) -> tuple[tuple[str, str], ...]:
    """(switch, power port) of every PSU of a network rack's ``switches``, the A side's (each switch's first half
    of its ports, or all with one feed) before the B side's, so that :meth:`Fed.end` cables the A feed to the first
    switch's first PSU and the B feed to its first B-side PSU."""
    ports = [p["name"] for p in doc.get("power-ports") or []]
    half = len(ports) // 2 if feeds > 1 and len(ports) > 1 else len(ports)
    return tuple((s, p) for side in (ports[:half], ports[half:]) for s in switches for p in side)


def power_rows(site: str, racks: list[dict], fed: dict[str, Fed], summary: dict, catalog) -> tuple[list, list, list]:
    """Power panels, feeds and power cables of the plan's distribution stage (``summary.json`` ``power_chain``).

    Each hall gets its share of the stage's units (the planner sizes them per hall) as power panels
    ``h01-busway-01`` (``-rectifier-`` for 800 VDC row rectifiers). Every rack gets a primary feed ``<rack>-feed-a``
    and, when it takes two (:class:`Fed`: an N+N design, a network rack of switches whose PSUs are split k+k), a
    redundant feed ``<rack>-feed-b``: in a hall with such racks the first half of its panels is the A side, the rest
    the B side (:func:`~.power.side_panels`), and each side's feeds go to its panels in floor order (racks split
    evenly over them). A feed is AC three-phase at the busway's voltage, or DC at the rectifier's output, rated by
    :func:`~.power.feed_amperage` for the rack's whole input power (a network rack: its switches'), as a 2N feed
    carries the rack alone when the other side fails. A feed with an end (:meth:`Fed.end`) gets a power cable to that
    device's input (label the feed's name): NetBox cables a feed to one power port.
    """
    stage = summary.get("power_chain", {}).get("distribution")
    if not stage or not racks:
        return [], [], []
    part = catalog.get(stage["part"])
    supply = FeedSupply.of(part)
    per_hall = panels_per_hall(stage["units"], int(summary.get("halls", 1)))
    panels, feeds, cables = [], [], []
    for location in sorted({r["location"] for r in racks}):
        number = int(location.split()[-1])
        here = sorted(r["name"] for r in racks if r["location"] == location)
        names = [f"h{number:02d}-{part.kind}-{k + 1:02d}" for k in range(per_hall)]
        sides = side_panels(names, max(fed[rack].feeds for rack in here) > 1)
        for name in names:
            label = "".join(f", {'AB'[k]} side" for k, on in enumerate(sides) if name in on and len(on) < per_hall)
            panels.append({"site": site, "location": location, "name": name, "description": part.model[:180] + label})
        for side, side_names in enumerate(sides):
            taking = [rack for rack in here if fed[rack].feeds > side]
            for i, rack in enumerate(taking):
                panel = side_names[i * len(side_names) // len(taking)]
                feeds.append(_feed_row(site, location, panel, rack, side, fed[rack], supply))
                end = fed[rack].end(side)
                if end is not None:
                    cables.append(_power_cable(site, panel, feeds[-1]["name"], *end))
    return panels, feeds, cables


def _feed_row(site: str, location: str, panel: str, rack: str, side: int, fed: Fed, supply: FeedSupply) -> dict:
    """A power-feeds.csv row: the rack's A (``primary``) or B (``redundant``) feed, rated for the whole rack."""
    alone = ", carries the rack alone if the other side fails" if fed.feeds > 1 else ""
    return {
        "site": site,
        "power_panel": panel,
        "location": location,
        "rack": rack,
        "name": f"{rack}-feed-{'ab'[side]}",
        "status": "planned",
        "type": ("primary", "redundant")[side],
        "supply": "dc" if supply.dc else "ac",
        "phase": "single-phase" if supply.dc else "three-phase",
        "voltage": round(supply.voltage),
        "amperage": supply.amperage(fed.power),
        "max_utilization": FEED_UTILISATION,
        "description": f"{fed.power / 1000:.1f} kW{alone}",
    }


def _power_cable(site: str, panel: str, feed: str, device: str, port: str) -> dict:
    return {
        "side_a_site": site,
        "side_a_power_panel": panel,
        "side_a_type": "dcim.powerfeed",
        "side_a_name": feed,
        "side_b_site": site,
        "side_b_device": device,
        "side_b_type": "dcim.powerport",
        "side_b_name": port,
        "type": "power",
        "status": "planned",
        "label": feed,
    }


def _rack_row(site: str, hall: int, name: str, units: int, width: int, description: str, rack_type) -> dict:
    """A racks.csv row; ``rack_type`` is the rack type's document (None: a rack of no type)."""
    return {
        "site": site,
        "location": f"Hall {hall}",
        "name": name,
        "status": "planned",
        "rack_type": rack_type["model"] if rack_type else "",
        "width": width,
        "u_height": units,
        "description": description,
    }


def _device_row(site, hall, rack, name, role, doc, position) -> dict:
    return {
        "name": name,
        "role": role,
        "manufacturer": doc["manufacturer"],
        "device_type": doc["model"],
        "site": site,
        "location": f"Hall {hall}",
        "rack": rack,
        "position": "" if position is None else position,
        "face": "" if position is None else "front",
        "status": "planned",
    }


def write_site_export(export: SiteExport, folder: Path) -> list[Path]:
    """The bulk-import files of :data:`FILES` in ``folder``: CSV (NetBox's import columns) and the device types
    as one multi-document YAML file (the devicetype-library format, which NetBox's device-type import reads)."""
    import csv

    from ruamel.yaml import YAML
    from ruamel.yaml.scalarstring import LiteralScalarString

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in FILES:
        path = folder / name
        if name.endswith(".yaml"):
            yaml = YAML()
            yaml.explicit_start = True
            yaml.indent(mapping=2, sequence=4, offset=2)
            docs = [{**d, "comments": LiteralScalarString(d["comments"] + "\n")} for d in export.documents(name)]
            with path.open("w", encoding="utf-8") as handle:
                yaml.dump_all(docs, handle)
        else:
            rows = export.rows[name]
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["name"])
                writer.writeheader()
                writer.writerows(rows)
        paths.append(path)
    return paths
