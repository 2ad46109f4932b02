"""The site planner: compose layout, fabric, cable plan, power chain, cooling plant and economics.

Like :class:`rackwright.rack.chain.RackChain` does for one rack, :func:`plan_site` runs small pure models in
order and collects their results in one :class:`SitePlan`:

1. rack generations: each design, evaluated once when the site file is loaded (:func:`.schema.load_site`), gives
   its input power, heat to water and air, accelerators, scale-out ports, BOM cost and US share; rack counts follow
   the IT power target and the shares (``round(share · P_target / P_rack)``) or are given;
2. layout (:mod:`.layout`), 3. fabric sizing (:mod:`.fabric`), 4. switch placement and the cable plan
   (:mod:`.cables`), 5. cooling plant hour by hour (:mod:`.cooling`), 6. power chain (:mod:`.power`),
7. economics (:mod:`.economics`), 8. violations (codes ``SITE0xx``, each with a path and a fix). Small
fabrics (≤ ``GRAPH_CHECK_LINKS`` links) are also built as a NetworkX graph (:mod:`.graph`) whose
connectivity, bisection bandwidth and hop count must agree with the closed forms.

Inconsistent inputs become violations (exit 1 in the CLI); unreadable ones raise
:class:`~rackwright.errors.InputError` (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from ..catalog import Catalog, load_catalog
from ..errors import InputError
from ..rack.bom import us_made
from ..rack.evaluation import sound_model
from ..rack.rules import Violation
from ..units import parse_quantity
from . import cables as cab
from .cooling import Ambient, adiabatic_water, cooler_air_inlet, load_ambient, pump_power, trim_share, water_flow
from .economics import CostLine, Economics, yearly_tco
from .fabric import FabricSize, Wiring, rail_counts, size_fabric, wire
from .graph import check_fabric
from .layout import (
    Geometry,
    HallGrid,
    RackLayout,
    SwitchPlacement,
    coordinates,
    hall_extent,
    insert_mda,
    place_racks,
    place_switches,
)
from .power import StageResult, StageSpec, indoor_losses, size_stages, stage_flows, units_for_load
from .schema import LoadedSite, Stage, load_site

HOURS = 8760
FIBRE = "generic-smf-fibre-per-m"  # priced per metre of every optical link
MAX_BREAKOUT = 8  # an 8-lane OSFP port splits into at most 8 links (one per SerDes lane)
CABLE_MEDIA = ("dac", "acc", "aec", "aoc")  # media sold as a whole cable with both ends
GRAPH_CHECK_LINKS = 20_000  # fabrics up to this many links (per plane) are also checked as a NetworkX graph
STEPS = ("racks", "layout", "fabric", "cables", "cooling", "power", "economics")


@dataclass(frozen=True)
class RackGeneration:
    """What the site needs to know of one rack design (SI)."""

    name: str
    design: str
    racks: int
    input_power: float
    heat_to_water: float
    heat_to_air: float
    accelerators: float
    scale_out_ports: int
    port_speed: float  # B/s per NIC port, one direction
    trays: int
    bom_usd: float
    us_share: float
    facility_supply: float  # K, warmest facility water the rack design accepts
    cdu_part: str | None
    cdus_per_rack: float
    cdu_power: float  # W per CDU (its pumps)
    lead_time_weeks: float  # longest lead time of the rack's parts
    architecture: str = "orv3-48v"  # the design's power architecture (orv3-48v, hvdc-800v, ac-pdu)
    own_rectifier: bool = False  # the design brings its own AC → 800 VDC sidecar


@dataclass
class SitePlan:
    """Everything the planner computed; :meth:`summary` is the plan's summary, whose records
    (:func:`rackwright.site.summary.summary_body`) make the body of ``summary.json``."""

    loaded: LoadedSite
    generations: list[RackGeneration]
    layout: RackLayout
    grid: HallGrid
    fabric: FabricSize
    cables: pl.DataFrame
    stages: list[StageResult]
    cooling: dict
    hourly: dict[str, np.ndarray]
    economics: Economics
    tco: dict[str, float]
    violations: list[Violation] = field(default_factory=list)
    switch_positions: dict[str, SwitchPlacement] = field(default_factory=dict)
    rack_xy: tuple[np.ndarray, np.ndarray] | None = None
    graph_check: dict | None = None  # NetworkX figures on small fabrics (None above GRAPH_CHECK_LINKS)

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    def summary(self) -> dict:
        """The plan's figures in display units (MW, km, USD), racks and cables keyed by generation and medium;
        ``summary.json`` is ``document(summary_body(summary()))`` (:mod:`rackwright.site.summary`), records
        instead of those keys."""
        it = float(self.hourly["it_power"].mean())
        facility = float(self.hourly["facility_power"].mean())
        by_media = cab.length_totals(self.cables, "media")  # exact sums: the same plan gives the same bits
        links = {str(r["media"]): r["cables"] for r in by_media}
        length = {str(r["media"]): round(r["length_m"] / 1000, 3) for r in by_media}
        stage = {s.name: s for s in self.stages}
        fabric = self.fabric
        return {
            "site": self.loaded.site.name,
            "racks": {g.name: g.racks for g in self.generations},
            "accelerators": int(sum(g.racks * g.accelerators for g in self.generations)),
            "it_power_mw": round(float(self.hourly["it_peak"]) / 1e6, 3),
            "rack_power_mw": round(sum(g.racks * g.input_power for g in self.generations) / 1e6, 3),
            "facility_power_mw": round(float(self.hourly["facility_peak"].max()) / 1e6, 3),
            "average_facility_power_mw": round(facility / 1e6, 3),
            "pue": round(facility / it, 4),
            "pue_peak_hour": round(float(np.max(self.hourly["facility_power"] / self.hourly["it_power"])), 4),
            "annual_energy_gwh": round(facility * HOURS / 1e9, 3),
            "water_use_m3_per_year": round(float(self.hourly["water_kg_s"].sum()) * 3600 / 1000, 1),
            "wue_l_per_kwh": round(float(self.hourly["water_kg_s"].sum()) * 3600 / (it * HOURS / 1000), 4),
            "halls": self.layout.halls,
            "floor_area_m2": round(self.grid.floor_area, 1),
            "switches": fabric.switches_by_tier,
            "fabric": {
                "switch": self.loaded.site.fabric.switch,
                "tiers": fabric.tiers,
                "radix": fabric.radix,
                "planes": fabric.planes,
                "rails": fabric.rails,
                "pods": fabric.pods,
                "endpoints": fabric.endpoints * fabric.planes,
                "bisection_tb_per_s": round(fabric.bisection_bandwidth / 1e12, 3),
                "max_switch_hops": fabric.max_switch_hops,
                "ports": fabric.ports(),
                "failure_domains": fabric.failure_domains(),
                "graph_check": self.graph_check,
            },
            "links": links,
            "cable_length_km": length,
            "power_chain": {
                st.name: {
                    "part": st.part,
                    "units": st.units,
                    "needed": st.needed,
                    "peak_load_mw": round(st.load / 1e6, 3),
                    "peak_loss_mw": round(st.loss / 1e6, 3),
                }
                for st in self.stages
            },
            "transformers": {"substation": stage["substation"].units, "mv_lv": stage["transformers"].units},
            "switchgear": stage["switchgear"].units,
            "ups": stage["ups"].units if "ups" in stage else 0,
            "distribution": stage["distribution"].units,
            "generators": stage["generators"].units if "generators" in stage else 0,
            "cdus": self.cooling["cdus"],
            "heat_rejection_units": self.cooling["heat_rejection_units"],
            "chillers": self.cooling["chillers"],
            "pumps": self.cooling["pumps"],
            "free_cooling_hours": self.cooling["free_cooling_hours"],
            "capex_usd": {k: round(v) for k, v in self.economics.capex().items()},
            "tco_usd_per_year": {k: round(v) for k, v in self.tco.items()},
            "domestic_share": round(self.economics.domestic_share(), 4),
            "violations": [v.as_dict() for v in self.violations],
        }

    def bom_frame(self) -> pl.DataFrame:
        """The site BOM (``bom.csv``): one line per item with quantity, prices and US share."""
        lines = self.economics.lines
        text = {name: [getattr(line, name) for line in lines] for name in ("category", "item")}
        numbers = {
            name: [float(getattr(line, name)) for line in lines]
            for name in ("quantity", "unit_usd", "extended_usd", "us_share", "lead_time_weeks")
        }
        return pl.DataFrame({**text, **numbers})


def plan_site(
    site: str | Path | LoadedSite, catalog: Catalog | None = None, progress: Callable[[str], None] | None = None
) -> SitePlan:
    """Plan a site end to end (see module docstring); ``progress(step)`` is called after each step.

    ``site`` is a site file, or a site :func:`~.schema.load_site` has loaded (its designs evaluated then, against
    the catalog it was given); ``catalog`` gives the site's own parts (and the designs' parts when ``site`` is a file).
    """
    if catalog is not None and not isinstance(catalog, Catalog):
        raise InputError.single(None, f"catalog is a rackwright Catalog (load_catalog()), not {type(catalog).__name__}")
    if progress is not None and not callable(progress):
        raise InputError.single(None, f"progress is a function of each step's name, not {type(progress).__name__}")
    loaded = site if isinstance(site, LoadedSite) else load_site(site, catalog=catalog)
    catalog = catalog or load_catalog()
    tick = progress or (lambda step: None)
    s = loaded.site
    parts = _resolve_parts(loaded, catalog)
    generations = rack_generations(loaded, catalog)
    tick("racks")
    layout = place_racks(
        np.repeat([g.input_power for g in generations], [g.racks for g in generations]), _geometry(s.layout)
    )
    tick("layout")
    link_speed = parse_quantity(s.fabric.link_speed, "data_rate")
    switch = parts["fabric.switch"]
    radix = int(round(switch.value("switching_capacity") / link_speed))
    ports = np.repeat([g.scale_out_ports for g in generations], [g.racks for g in generations])
    per_rack_rail = rail_counts(ports, s.fabric.rails if s.fabric.rail_optimised else 1)
    fabric = size_fabric(
        per_rack_rail.sum(axis=0), radix, s.fabric.tiers, s.fabric.oversubscription, link_speed, s.fabric.planes
    )
    if radix > switch.value("ports") * MAX_BREAKOUT:
        fabric.fits = False  # SITE002 below: the ports cannot split that far
    tick("fabric")
    violations = _fabric_violations(loaded, fabric, switch, link_speed, generations, parts)
    if fabric.fits:
        layout, cables, placements, grid, rack_xy, wiring = _cable_plan(
            loaded, layout, fabric, per_rack_rail, ports, generations, parts
        )
    else:
        cables, placements, grid, rack_xy, wiring = _no_cables(layout, generations)
    violations += _cable_violations(cables)
    graph = _graph_check(fabric, wiring, violations)
    tick("cables")
    cooling, hourly = _cooling(loaded, parts, generations, layout, fabric, switch, violations)
    tick("cooling")
    stages = _power(loaded, parts, generations, layout, hourly, violations)
    tick("power")
    economics = _economics(loaded, catalog, parts, generations, fabric, switch, cables, stages, cooling)
    tco = yearly_tco(
        economics.capex(),
        float(hourly["facility_power"].sum()) / 1000,
        s.economics.electricity_usd_per_kwh,
        s.economics.depreciation_years_it,
        s.economics.depreciation_years_facility,
        s.economics.maintenance_share,
    )
    tick("economics")
    return SitePlan(
        loaded,
        generations,
        layout,
        grid,
        fabric,
        cables,
        stages,
        cooling,
        hourly,
        economics,
        tco,
        violations,
        placements,
        rack_xy,
        graph,
    )


# -- 1. racks ---------------------------------------------------------------------------------------------------
def rack_generations(loaded: LoadedSite, catalog: Catalog) -> list[RackGeneration]:
    """Count the racks of each design of the mix (evaluated once, by :func:`~.schema.load_site`)."""
    s = loaded.site
    target = parse_quantity(s.target.it_power, "power") if s.target.it_power else None
    generations = []
    for i, (gen, report) in enumerate(zip(s.target.generations, loaded.racks, strict=True)):
        model = sound_model(report, "the site planner")
        design = model.loaded
        f = report.figures
        trays = int(
            sum(item.count for item in model.items if item.part.kind in ("compute_tray", "server") and not item.path)
        )
        cdu = design.design.cooling.cdu
        ports = int(round(f["network.scale_out_ports"]))
        # Target validates the mix: with an IT power target every generation has a share, without it a rack count
        racks = int(round(gen.share * target / f["power.input"])) if target and gen.share else gen.racks or 1
        if ports < 1:
            raise loaded.error(
                f"design {gen.design!r} has no scale-out ports to connect",
                ("target", "generations", i, "design"),
                "give a design with scale-out NICs",
            )
        generations.append(
            RackGeneration(
                report.name,
                str(loaded.folder / gen.design),
                max(racks, 1),
                f["power.input"],
                f["thermal.heat_to_liquid"] + f["thermal.heat_to_rear_door"],
                f["thermal.heat_to_room"],
                f["compute.accelerators"],
                ports,
                f["network.scale_out_bandwidth"] / 2 / ports,
                max(trays, 1),
                f["cost.bom"],
                f["sourcing.domestic_share"],
                f["thermal.facility_supply"],
                cdu.part if cdu else None,
                (cdu.count / cdu.racks_served) if cdu else 0.0,
                catalog.get(cdu.part).value("power", 0.0) if cdu else 0.0,
                f["sourcing.longest_lead_time"],
                design.design.power.architecture,
                design.design.power.sidecar is not None,
            )
        )
    return generations


def _geometry(layout) -> Geometry:
    length = lambda v: parse_quantity(v, "length")  # noqa: E731
    return Geometry(
        parse_quantity(layout.hall_max_it_power, "power"),
        layout.racks_per_row,
        length(layout.rack_pitch),
        length(layout.rack_depth),
        length(layout.cold_aisle),
        length(layout.hot_aisle),
        layout.compute_rows_per_network_row,
        layout.compute_rows_per_cdu_row,
        layout.switches_per_network_rack,
        length(layout.hall_gap),
    )


def _resolve_parts(loaded: LoadedSite, catalog: Catalog) -> dict:
    """Every catalog part the site names, by field path; InputError naming the path on an unknown id or kind."""
    s = loaded.site
    wanted: dict[tuple, tuple[str, tuple[str, ...]]] = {
        ("fabric", "switch"): (s.fabric.switch, ("scale_out_switch",)),
        ("cooling", "heat_rejection", "part"): (s.cooling.heat_rejection.part, ("dry_cooler", "adiabatic_cooler")),
        ("cooling", "pump", "part"): (s.cooling.pump.part, ("pump",)),
    }
    for i, rule in enumerate(s.fabric.media):
        wanted[("fabric", "media", i, "part")] = (rule.part, ("cable", "transceiver"))
    for name in ("substation", "switchgear", "transformers", "ups", "distribution", "generators"):
        stage = getattr(s.power, name)
        if stage is not None:
            kinds = {
                "substation": ("power_transformer",),
                "transformers": ("power_transformer",),
                "switchgear": ("switchgear",),
                "ups": ("ups",),
                "distribution": ("busway", "rectifier"),
                "generators": ("generator",),
            }[name]
            wanted[("power", name, "part")] = (stage.part, kinds)
    if s.cooling.heat_rejection.chiller is not None:
        wanted[("cooling", "heat_rejection", "chiller", "part")] = (s.cooling.heat_rejection.chiller.part, ("chiller",))
    parts, problems = {}, []
    for loc, (part_id, kinds) in wanted.items():
        if part_id not in catalog:
            problems.append(loaded.problem(f"unknown part {part_id!r}", loc, catalog.suggest(part_id)))
            continue
        part = catalog.get(part_id)
        if part.kind not in kinds:
            problems.append(
                loaded.problem(
                    f"part {part_id!r} is a {part.kind}, not a {' or '.join(kinds)}",
                    loc,
                    f"run `rackwright catalog list --kind {kinds[0]}`",
                )
            )
        parts[".".join(str(k) for k in loc)] = part
    if problems:
        raise InputError(loaded.file, problems)
    return parts


# -- 2-4. fabric and cables -----------------------------------------------------------------------------------
def _fabric_violations(loaded, fabric: FabricSize, switch, link_speed, generations, parts) -> list[Violation]:
    s = loaded.site
    found = []
    port_speed = switch.value("port_speed")
    if link_speed > port_speed * (1 + 1e-9):
        found.append(
            Violation(
                "SITE002",
                "error",
                "fabric.link_speed",
                f"link speed {link_speed * 8 / 1e9:g} Gb/s is above the {switch.id} port speed "
                f"{port_speed * 8 / 1e9:g} Gb/s",
                "use a lower link speed or a faster switch",
            )
        )
    for g in generations:
        if link_speed * s.fabric.planes > g.port_speed * (1 + 1e-9):
            found.append(
                Violation(
                    "SITE002",
                    "error",
                    "fabric.link_speed",
                    f"{s.fabric.planes} plane(s) × {link_speed * 8 / 1e9:g} Gb/s exceed the "
                    f"{g.port_speed * 8 / 1e9:g} Gb/s NIC ports of {g.name}",
                    "lower the link speed or the planes to what the NICs carry",
                )
            )
    if fabric.fits and fabric.tiers == 3 and fabric.pods == 1:
        found.append(
            Violation(
                "SITE010",
                "warning",
                "fabric.tiers",
                f"all {fabric.leaves:,} leaves fit in one pod: the {fabric.super_spines:,} "
                "super-spines add cost but no reach",
                "use tiers: 2",
            )
        )
    if fabric.radix > switch.value("ports") * MAX_BREAKOUT:
        found.append(
            Violation(
                "SITE002",
                "error",
                "fabric.link_speed",
                f"{link_speed * 8 / 1e9:g} Gb/s links would split each {port_speed * 8 / 1e9:g} Gb/s "
                f"port of {switch.id} more than {MAX_BREAKOUT} ways (radix {fabric.radix})",
                "use a link speed of at least 1/8 of the switch's port speed",
            )
        )
    elif not fabric.fits:
        found.append(
            Violation(
                "SITE001",
                "error",
                "fabric.switch",
                f"radix {fabric.radix} too small for {fabric.endpoints:,} endpoints in "
                f"{fabric.tiers} tiers: {fabric.limit}",
                "use a higher-radix switch, more tiers, more planes or fewer racks",
            )
        )
    for i in range(len(s.fabric.media)):
        part = parts[f"fabric.media.{i}.part"]
        speed = part.value("speed", 0.0)
        if speed * (1 + 1e-9) < link_speed:
            found.append(
                Violation(
                    "SITE007",
                    "error",
                    f"fabric.media[{i}].part",
                    f"{part.id} runs {speed * 8 / 1e9:g} Gb/s, below the link speed {link_speed * 8 / 1e9:g} Gb/s",
                    "choose a cable or optic at least as fast",
                )
            )
    return found


def _cable_plan(loaded, layout: RackLayout, fabric: FabricSize, per_rack_rail, ports, generations, parts):
    """Wire the fabric, place the switches (the MDA in each hall's middle: the layout returned has its rows) and
    build the per-cable table (all planes)."""
    s = loaded.site
    rack, port, rail, rail_index = _endpoints(ports, per_rack_rail)
    wiring = wire(fabric, rail, rail_index)
    home = np.tile(_switch_homes(layout, fabric, wiring, rack, len(ports)), fabric.planes)
    tiers = np.tile(
        np.repeat(np.arange(1, 4, dtype=np.int8), [fabric.leaves, fabric.spines, fabric.super_spines]), fabric.planes
    )
    layout, placement = insert_mda(layout, place_switches(layout, layout.hall[home], layout.block[home], tiers))
    grid = hall_extent(layout)
    g = layout.geometry
    rx, ry = coordinates(grid, g, layout.hall, layout.row, layout.position)
    sx, sy = coordinates(grid, g, placement.hall, placement.row, placement.rack)
    trays = np.repeat([gen.trays for gen in generations], [gen.racks for gen in generations])
    per_tray = np.maximum(1, -(-ports // trays))
    compute = cab.Ends.compact(
        layout.hall[rack],
        layout.row[rack],
        layout.position[rack],
        port // per_tray[rack],
        port % per_tray[rack],
        rx[rack],
        ry[rack],
    )
    switches = cab.Ends.compact(
        placement.hall, placement.row, placement.rack, placement.slot, np.zeros(len(placement.hall)), sx, sy
    )
    a, b, tier, plane = _link_ends(fabric, wiring, compute, switches)
    length = cab.routed_length(
        a, b, parse_quantity(s.fabric.drop, "length"), parse_quantity(s.fabric.service_loop, "length"), s.fabric.slack
    )
    rule_parts = [parts[f"fabric.media.{i}.part"] for i in range(len(s.fabric.media))]
    choice = cab.choose_media(
        length, [p.value("reach") for p in rule_parts], tier, [tuple(rule.tiers) for rule in s.fabric.media]
    )
    table = cab.cable_table(
        a, b, plane, tier, length, choice, [p.text("media") for p in rule_parts], [p.id for p in rule_parts]
    )
    table = _with_generations(table, layout, generations)
    roles = np.repeat(np.array(["leaf", "spine", "super_spine"]), [fabric.leaves, fabric.spines, fabric.super_spines])
    positions = {
        "hall": placement.hall,
        "row": placement.row,
        "rack": placement.rack,
        "slot": placement.slot,
        "role": np.tile(roles, fabric.planes),
        "x": sx,
        "y": sy,
    }
    return layout, table, positions, grid, (rx, ry), wiring


def _endpoints(ports: np.ndarray, per_rack_rail: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every NIC port: its rack, its port in the rack, its rail and its order within the rail site-wide."""
    rails = per_rack_rail.shape[1]
    rack = np.repeat(np.arange(len(ports)), ports)
    port = np.arange(len(rack)) - np.r_[0, np.cumsum(ports)[:-1]][rack]
    rail = port % rails
    before = np.cumsum(per_rack_rail, axis=0) - per_rack_rail  # endpoints of each rail in earlier racks
    return rack, port, rail, before[rack, rail] + port // rails


def _switch_homes(layout: RackLayout, fabric: FabricSize, wiring: Wiring, rack: np.ndarray, racks: int) -> np.ndarray:
    """The rack whose network row holds each switch of one plane (leaves, spines, super-spines in order).

    A leaf sits in the network row of its first endpoint's rack, a spine in its pod's first leaf's, super-spine
    group ``j`` in the middle network row of hall ``j mod halls`` (the core spread over the halls).
    """
    first_rack = np.full(fabric.leaves, racks, dtype=np.int64)
    np.minimum.at(first_rack, wiring.leaf_of_endpoint, rack)
    pod_rack = np.full(max(fabric.pods, 1), racks, dtype=np.int64)
    np.minimum.at(pod_rack, wiring.leaf_pod, first_rack)
    spine_rack = pod_rack[wiring.spine_pod] if fabric.tiers == 3 else np.full(fabric.spines, racks // 2)
    super_hall = (np.arange(fabric.super_spines) // max(1, fabric.supers_per_group)) % layout.halls
    super_rack = super_hall * layout.racks_per_hall + layout.racks_per_hall // 2
    return np.minimum(np.concatenate([first_rack, spine_rack, super_rack]), racks - 1)


def _link_ends(fabric: FabricSize, wiring: Wiring, compute: cab.Ends, switches: cab.Ends):
    """Both ends, tier and plane of every link: NIC–leaf, leaf–spine, spine–super-spine, plane after plane.

    Switch ``i`` of plane ``p`` is entry ``p·S + i`` of ``switches`` (S switches per plane); a NIC port
    ``n`` carries plane ``p`` on interface ``n·planes + p``.
    """
    per_plane = fabric.leaves + fabric.spines + fabric.super_spines
    spine0, super0 = fabric.leaves, fabric.leaves + fabric.spines
    nics = np.arange(len(compute.hall))
    a_parts, b_parts, tiers = [], [], []
    for plane in range(fabric.planes):
        base = plane * per_plane
        a_parts += [
            compute.take(nics, port=compute.port * fabric.planes + plane),
            switches.take(base + wiring.spine_link_leaf, wiring.spine_link_leaf_port),
        ]
        b_parts += [
            switches.take(base + wiring.leaf_of_endpoint, wiring.leaf_port),
            switches.take(base + spine0 + wiring.spine_link_spine, wiring.spine_link_spine_port),
        ]
        tiers += [np.full(len(nics), 1, np.int8), np.full(len(wiring.spine_link_leaf), 2, np.int8)]
        if fabric.tiers == 3:
            a_parts.append(switches.take(base + spine0 + wiring.super_link_spine, wiring.super_link_spine_port))
            b_parts.append(switches.take(base + super0 + wiring.super_link_super, wiring.super_link_super_port))
            tiers.append(np.full(len(wiring.super_link_spine), 3, np.int8))
    tier = np.concatenate(tiers)
    plane_of_link = np.repeat(np.arange(fabric.planes, dtype=np.int8), len(tier) // fabric.planes)
    return cab.Ends.concat(a_parts), cab.Ends.concat(b_parts), tier, plane_of_link


def _graph_check(fabric: FabricSize, wiring: Wiring | None, violations: list[Violation]) -> dict | None:
    """On small fabrics, the NetworkX figures of the wired graph; a disagreement with the closed forms is SITE009."""
    if wiring is None or sum(fabric.links_by_tier.values()) > GRAPH_CHECK_LINKS:
        return None
    measured = check_fabric(fabric, wiring)
    promised = {
        "connected": True,
        "bisection_bandwidth": fabric.bisection_bandwidth,
        "max_switch_hops": fabric.max_switch_hops,
    }
    wrong = [k for k, v in promised.items() if not np.isclose(float(measured[k]), float(v))]
    if wrong:
        violations.append(
            Violation(
                "SITE009",
                "error",
                "fabric",
                f"the wired fabric graph disagrees with the closed forms on {', '.join(wrong)}: "
                f"graph {measured}, closed form {promised}",
                "report this planner bug",
            )
        )
    return {
        "connected": bool(measured["connected"]),
        "bisection_tb_per_s": round(measured["bisection_bandwidth"] / 1e12, 3),
        "max_switch_hops": int(measured["max_switch_hops"]),
    }


def _no_cables(layout: RackLayout, generations: list[RackGeneration]):
    empty = np.zeros(0, dtype=np.int32)
    grid = hall_extent(layout)
    rx, ry = coordinates(grid, layout.geometry, layout.hall, layout.row, layout.position)
    ends = cab.Ends(*(empty,) * 5, empty.astype(float), empty.astype(float))
    table = cab.cable_table(ends, ends, empty, empty, empty.astype(np.float32), empty.astype(np.int8), [], [])
    return _with_generations(table, layout, generations), {}, grid, (rx, ry), None


def _with_generations(table: pl.DataFrame, layout: RackLayout, generations: list[RackGeneration]) -> pl.DataFrame:
    """The cable table with ``a_generation``: the generation (1-based, in the plan's order of generations) of the
    compute rack at a cable's A end, null where the A end is a switch (tiers above 1). Racks are placed generation
    after generation (:func:`place_racks`), so layout rack ``i`` is of the generation whose cumulative count first
    exceeds ``i``; ``site export-netbox`` reads the column to give each rack its design."""
    of_rack = np.repeat(np.arange(1, len(generations) + 1, dtype=np.int16), [g.racks for g in generations])
    grid = np.zeros(
        (layout.hall.max(initial=0) + 1, layout.row.max(initial=0) + 1, layout.position.max(initial=0) + 1),
        dtype=np.int16,
    )
    grid[layout.hall, layout.row, layout.position] = of_rack
    compute = (table["tier"] == 1).to_numpy()
    at = [table[f"a_{n}"].to_numpy()[compute] - 1 for n in ("hall", "row", "rack")]
    values = np.zeros(table.height, dtype=np.int16)
    values[compute] = grid[at[0], at[1], at[2]]
    return table.with_columns(pl.Series("a_generation", values).replace(0, None))


def _cable_violations(cables: pl.DataFrame) -> list[Violation]:
    """Links no media rule covers (SITE003); NIC links on whole cables although racks carry NIC-end optics (SITE013)."""
    found = []
    orphans = cables.filter(pl.col("media") == cab.NO_MEDIUM)
    if orphans.height:
        found.append(
            Violation(
                "SITE003",
                "error",
                "fabric.media",
                f"{orphans.height:,} links up to {float(orphans['length_m'].to_numpy().max()):,.0f} m are longer "
                "than the reach of every media rule (for their tier)",
                "add an optic with a longer reach (e.g. DR/FR single-mode) or move network rows closer",
            )
        )
    whole = cables.filter((pl.col("tier") == 1) & pl.col("media").cast(pl.Utf8).is_in(list(CABLE_MEDIA)))
    if whole.height:
        found.append(
            Violation(
                "SITE013",
                "warning",
                "fabric.media",
                f"{whole.height:,} NIC links are whole cables ({', '.join(sorted(set(whole['media'].cast(pl.Utf8))))}) "
                "while the racks' BOM already carries a NIC-end optic for each: that optic is paid twice",
                "give the cable rules `tiers: [2, 3]` and let NIC links use the racks' optic",
            )
        )
    return found


# -- 5. cooling -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeatLoads:
    """Site heat and IT power at rated load [W]; ``supply``/``delta_t`` of the facility water [K]."""

    water: float
    air: float
    electrical: float  # distribution/UPS losses indoors
    it_power: float  # racks and switches
    switches: float
    cdu_pumps: float
    supply: float
    delta_t: float

    @property
    def total(self) -> float:
        return self.water + self.air + self.electrical


def _heat_loads(loaded, parts, generations, fabric, switch, violations) -> HeatLoads:
    s = loaded.site
    c = s.cooling
    design_supply = min(g.facility_supply for g in generations)
    supply = parse_quantity(c.facility_supply, "temperature") if c.facility_supply else design_supply
    if supply > design_supply + 1e-6:
        violations.append(
            Violation(
                "SITE006",
                "error",
                "cooling.facility_supply",
                f"facility water at {supply - 273.15:.1f} degC is warmer than the "
                f"{design_supply - 273.15:.1f} degC the rack designs accept",
                "lower cooling.facility_supply to the racks' ASHRAE W class",
            )
        )
    switches = sum(fabric.switches_by_tier.values()) * switch.value("power", 0.0)
    it_power = sum(g.racks * g.input_power for g in generations) + switches
    return HeatLoads(
        sum(g.racks * g.heat_to_water for g in generations),
        sum(g.racks * g.heat_to_air for g in generations) + switches,
        float(indoor_losses(it_power, _efficiencies(s.power, parts))),
        it_power,
        switches,
        sum(np.ceil(g.racks * g.cdus_per_rack) * g.cdu_power for g in generations),
        supply,
        parse_quantity(c.facility_delta_t, "temperature_difference"),
    )


def _plant_hours(loaded, parts, loads: HeatLoads, ambient: Ambient, load_share: float, cop: float) -> dict:
    """Heat, cooler air inlet, trim share and mechanical power per hour at ``load_share`` of rated IT."""
    c = loaded.site.cooling
    cooler, pump = parts["cooling.heat_rejection.part"], parts["cooling.pump.part"]
    approach, effectiveness = cooler.value("approach"), cooler.value("effectiveness", 0.0)
    heat = np.full(ambient.hours, loads.total * load_share)
    wet = ambient.wet_bulb(ambient.dry_bulb + approach > loads.supply) if effectiveness > 0 else None
    air_in = cooler_air_inlet(ambient.dry_bulb, wet, effectiveness, loads.supply, approach)
    trim = trim_share(air_in + approach, loads.supply, loads.delta_t)
    flow = water_flow(heat, loads.supply, loads.delta_t)
    mech = (
        trim * heat / cop
        + np.ceil(heat / cooler.value("capacity")) * cooler.value("fan_power", 0.0)
        + pump_power(flow, pump.value("pressure_rise"), pump.value("hydraulic_efficiency"))
        + (loads.cdu_pumps + c.air_cooling_fan_share * loads.air + c.misc_load_share * loads.it_power) * load_share
    )
    water = adiabatic_water(heat, ambient.dry_bulb, air_in) if effectiveness > 0 else np.zeros(ambient.hours)
    return {"heat": heat, "trim": trim, "mech": mech, "water": water, "flow": flow}


def _cooling(loaded, parts, generations, layout, fabric, switch, violations) -> tuple[dict, dict]:
    """Size the plant at rated load on the hottest hour (redundancy per hall), then run it over the year."""
    s = loaded.site
    c = s.cooling
    ambient = load_ambient(c.ambient, loaded.folder, loaded.file)
    loads = _heat_loads(loaded, parts, generations, fabric, switch, violations)
    chiller = parts.get("cooling.heat_rejection.chiller.part")
    cop = chiller.value("cop") if chiller is not None else np.inf
    peak = _plant_hours(loaded, parts, loads, ambient, 1.0, cop)
    run = _plant_hours(loaded, parts, loads, ambient, s.economics.utilisation, cop)
    cooler, pump = parts["cooling.heat_rejection.part"], parts["cooling.pump.part"]
    halls = int(layout.halls)
    coolers = _installed(
        c.heat_rejection,
        loads.total,
        cooler,
        "cooling.heat_rejection.count",
        f"reject {loads.total / 1e6:,.1f} MW",
        violations,
        halls,
    )
    trim_peak = float((peak["trim"] * peak["heat"]).max())
    chillers = 0
    if trim_peak > 0 and chiller is None:
        hot = int((peak["trim"] > 0).sum())
        violations.append(
            Violation(
                "SITE005",
                "error",
                "cooling.heat_rejection",
                f"{cooler.id} cannot deliver {loads.supply - 273.15:.1f} degC water for {hot:,} h a year (ambient up "
                f"to {ambient.dry_bulb.max() - 273.15:.1f} degC + {cooler.value('approach'):g} K approach)",
                "add a trim chiller (heat_rejection.chiller), use adiabatic coolers or a warmer facility water class",
            )
        )
    elif trim_peak > 0:
        chillers = _installed(
            c.heat_rejection.chiller,
            trim_peak,
            chiller,
            "cooling.heat_rejection.chiller.count",
            f"trim {trim_peak / 1e6:,.1f} MW",
            violations,
            halls,
        )
    pumps = halls * units_for_load(float(peak["flow"].max()) / halls, pump.value("max_flow"), c.pump.redundancy)
    result = {
        "cdus": sum(int(np.ceil(g.racks * g.cdus_per_rack)) for g in generations),
        "heat_rejection_units": coolers,
        "chillers": chillers,
        "pumps": pumps,
        "free_cooling_hours": int((run["trim"] == 0).sum()),
        "supply_k": loads.supply,
        "design_heat_w": loads.total,
        "switch_power_w": loads.switches,
    }
    hourly = {
        "it_power": np.full(ambient.hours, loads.it_power * s.economics.utilisation),
        "mech_power": run["mech"],
        "mech_peak": peak["mech"],
        "water_kg_s": run["water"],
        "ambient_k": ambient.dry_bulb,
        "it_peak": loads.it_power,
    }
    return result, hourly


def _installed(stage, load: float, part, path: str, what: str, violations, blocks: int = 1) -> int:
    """Units needed for ``load`` at the stage's redundancy in each of ``blocks`` halls; a fixed ``count``
    short of it is a violation."""
    needed = blocks * units_for_load(load / blocks, part.value("capacity"), stage.redundancy)
    if stage.count is not None and stage.count < needed:
        violations.append(
            Violation(
                "SITE005",
                "error",
                path,
                f"{stage.count} × {part.id} cannot {what} with {stage.redundancy} ({needed} needed)",
                f"install {needed} units",
            )
        )
    return needed if stage.count is None else stage.count


# -- 6. power -------------------------------------------------------------------------------------------------
def _efficiencies(power, parts) -> dict[str, float]:
    eff = {}
    for name in ("distribution", "ups", "transformers", "switchgear", "substation"):
        stage: Stage | None = getattr(power, name)
        if stage is not None:
            eff[name] = stage.efficiency or parts[f"power.{name}.part"].value("efficiency", 1.0)
    return eff


def _power(loaded, parts, generations, layout, hourly, violations) -> list[StageResult]:
    s = loaded.site
    eff = _efficiencies(s.power, parts)
    flows = stage_flows(hourly["it_power"], hourly["mech_power"], eff)
    hourly["facility_power"] = flows["utility"]
    peak = stage_flows(hourly["it_peak"], hourly["mech_peak"], eff)
    hourly["facility_peak"] = peak["utility"]
    peak_flows = {k: float(np.max(v)) for k, v in peak.items()}
    peak_flows["generators"] = peak_flows["switchgear"]
    compute_rows = int(len(np.unique(layout.hall.astype(np.int64) * 10_000 + layout.row)))
    specs = []
    for name in ("distribution", "ups", "transformers", "switchgear", "substation", "generators"):
        stage: Stage | None = getattr(s.power, name)
        if stage is None:
            continue
        part = parts[f"power.{name}.part"]
        volt_amperes = part.kind in ("power_transformer", "switchgear")
        rating = part.value("capacity") * (s.power.power_factor if volt_amperes else 1.0)
        minimum = compute_rows * (2 if stage.redundancy == "2N" else 1) if name == "distribution" else 0
        blocks = 1 if name == "substation" else layout.halls
        specs.append(
            StageSpec(name, part.id, rating, eff.get(name, 1.0), stage.redundancy, stage.count, minimum, blocks)
        )
    stages = size_stages(specs, peak_flows)
    violations += _distribution_violations(parts["power.distribution.part"], generations)
    substation = parts["power.substation.part"]
    utility = parse_quantity(s.power.utility_voltage, "voltage")
    if substation.value("input_voltage") and abs(substation.value("input_voltage") - utility) > 1e-3 * utility:
        violations.append(
            Violation(
                "SITE008",
                "warning",
                "power.substation.part",
                f"{substation.id} takes {substation.value('input_voltage') / 1e3:g} kV, the utility "
                f"supplies {utility / 1e3:g} kV",
                "choose a substation transformer for the utility voltage",
            )
        )
    for st in stages:
        if st.short:
            violations.append(
                Violation(
                    "SITE004",
                    "error",
                    f"power.{st.name}.count",
                    f"{st.units} × {st.part} cannot carry {st.load / 1e6:,.1f} MW with "
                    f"{getattr(s.power, st.name).redundancy} ({st.needed} needed)",
                    f"install {st.needed} units or lower the load",
                )
            )
    return stages


def _distribution_violations(distribution, generations) -> list[Violation]:
    """800 VDC rectifiers feed 800 VDC racks without their own sidecar; AC busway feeds the others (SITE012)."""
    found = []
    for g in generations:
        dc_rack = g.architecture == "hvdc-800v" and not g.own_rectifier
        if distribution.kind == "rectifier" and not dc_rack:
            found.append(
                Violation(
                    "SITE012",
                    "error",
                    "power.distribution.part",
                    f"{distribution.id} feeds 800 VDC but {g.name} takes "
                    + ("AC into its own 800 VDC sidecar" if g.own_rectifier else g.architecture),
                    "use an AC busway for these racks",
                )
            )
        elif distribution.kind == "busway" and dc_rack:
            found.append(
                Violation(
                    "SITE012",
                    "error",
                    "power.distribution.part",
                    f"{g.name} takes 800 VDC and has no sidecar rectifier, but {distribution.id} is AC",
                    "use an 800 VDC row rectifier (e.g. generic-800vdc-row-rectifier-1mw)",
                )
            )
    return found


# -- 7. economics ---------------------------------------------------------------------------------------------
def _us(part) -> float:
    """US share of a plant part's cost: all or nothing, by the BOM's default rule (where it is assembled)."""
    return float(us_made(part))


def _economics(loaded, catalog, parts, generations, fabric, switch, cables, stages, cooling) -> Economics:
    s = loaded.site
    lines = [
        CostLine("it_racks", f"rack: {g.name}", g.racks, g.bom_usd, g.us_share, g.lead_time_weeks) for g in generations
    ]
    switches = sum(fabric.switches_by_tier.values())
    lines.append(
        CostLine("network", f"switch: {switch.id}", switches, switch.price_usd, _us(switch), switch.lead_time_weeks)
    )
    lines.append(
        CostLine(
            "network",
            "front-end network (share of scale-out switches)",
            s.fabric.front_end_share * switches,
            switch.price_usd,
            _us(switch),
            switch.lead_time_weeks,
        )
    )
    fibre = catalog.get(FIBRE) if FIBRE in catalog else None
    if cables.height:
        for row in cab.length_totals(cables, "part", "tier"):  # sorted groups, exact sums: the same lines each run
            part_id = str(row["part"])
            if part_id == cab.NO_MEDIUM:
                continue
            part = parts[next(k for k, p in parts.items() if k.startswith("fabric.media") and p.id == part_id)]
            modules = modules_per_link(part, fabric.link_speed, row["tier"])
            lines.append(
                CostLine(
                    "cabling",
                    f"{part.kind}: {part.id} (tier {row['tier']})",
                    row["cables"] * modules,
                    part.price_usd,
                    _us(part),
                    part.lead_time_weeks,
                )
            )
            if part.kind == "transceiver" and fibre is not None:
                lines.append(
                    CostLine(
                        "cabling",
                        f"fibre: {fibre.id} (tier {row['tier']}, metres)",
                        row["length_m"],
                        fibre.price_usd,
                        _us(fibre),
                        fibre.lead_time_weeks,
                    )
                )
    for st in stages:
        part = parts[f"power.{st.name}.part"]
        lines.append(
            CostLine("power", f"{st.name}: {part.id}", st.units, part.price_usd, _us(part), part.lead_time_weeks)
        )
    cooler = parts["cooling.heat_rejection.part"]
    lines.append(
        CostLine(
            "cooling",
            f"heat rejection: {cooler.id}",
            cooling["heat_rejection_units"],
            cooler.price_usd,
            _us(cooler),
            cooler.lead_time_weeks,
        )
    )
    if cooling["chillers"]:
        chiller = parts["cooling.heat_rejection.chiller.part"]
        lines.append(
            CostLine(
                "cooling",
                f"chiller: {chiller.id}",
                cooling["chillers"],
                chiller.price_usd,
                _us(chiller),
                chiller.lead_time_weeks,
            )
        )
    pump = parts["cooling.pump.part"]
    lines.append(
        CostLine("cooling", f"pump: {pump.id}", cooling["pumps"], pump.price_usd, _us(pump), pump.lead_time_weeks)
    )
    it_mw = sum(g.racks * g.input_power for g in generations) / 1e6
    lines.append(
        CostLine(
            "building",
            "building, site works and installation (per MW of IT)",
            it_mw,
            s.economics.building_usd_per_mw,
            s.economics.building_domestic_share,
        )
    )
    return Economics(lines)


def modules_per_link(part, link_speed: float, tier: int) -> float:
    """Parts per link: one cable; or optics at both ends (tier 1: the switch end only, the NIC end is in
    the rack's BOM), a faster optic breaking out into several links counting its share."""
    if part.kind != "transceiver":
        return 1.0
    breakout = max(1.0, np.floor(part.value("speed", link_speed) / link_speed + 1e-9))
    return (1.0 if tier == 1 else 2.0) / breakout


__all__ = ["plan_site", "SitePlan", "RackGeneration", "rack_generations", "STEPS"]
