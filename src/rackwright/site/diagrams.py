"""Site diagrams (presentation only): the scale-out fabric by tier, the power one-line and PUE by month and hour.

Every number drawn is the plan's: switch and link counts from :class:`~.fabric.FabricSize`, units, peak loads and
losses of each power stage from :func:`~.power.size_stages`, hourly facility and IT power from the cooling and
power runs. Ratings and voltages of the power parts come from the catalog the CLI plans with (the built-in one).
"""

from __future__ import annotations

import html

import numpy as np

from ..catalog import Catalog, load_catalog
from .planner import SitePlan

#: Days of the months of a typical (non-leap) year: TMY profiles are 8,760 hours from 1 January 00:00.
MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TIER_NAMES = {"leaf": "leaf", "spine": "spine", "super_spine": "super-spine"}
TIER_COLOURS = {"leaf": "#e45756", "spine": "#f58518", "super_spine": "#b279a2", "nic": "#4c78a8"}
ICONS = 12  # switch icons drawn per tier at most
FEED_HALLS = 3  # halls whose A and B feeds the power one-line lists (a line per side, beside distribution and racks)
FEED_BOX_WIDTH = 480  # px: the feeds' lines at 10 px (the SVG widens to fit it)
SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" ' + (
    'font-family="sans-serif" font-size="11" id="{id}">'
)


# -- fabric ------------------------------------------------------------------------------------------------------
def _icon_xs(count: int, left: float, right: float) -> list[float]:
    """Centres of the icons drawn for ``count`` items across [left, right] (at most :data:`ICONS`)."""
    shown = min(count, ICONS)
    return [left + (right - left) * (i + 0.5) / shown for i in range(shown)]


def _tier_row(y: float, count: int, colour: str, label: str, left: float, right: float) -> str:
    """A tier's band: up to :data:`ICONS` switch icons (an ellipsis where there are more) and its label."""
    xs = _icon_xs(count, left, right)
    icons = "".join(
        f'<rect x="{x - 14:.1f}" y="{y - 8:.1f}" width="28" height="16" rx="3" fill="{colour}"/>' for x in xs
    )
    more = (
        f'<text x="{(xs[-2] + xs[-1]) / 2:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-weight="bold">…</text>'
        if count > ICONS
        else ""
    )
    return (
        f'{icons}{more}<text x="{right + 16:.1f}" y="{y + 4:.1f}" font-weight="bold" class="tier">'
        f"{html.escape(label)}</text>"
    )


def _link_band(y_low: float, y_high: float, low: int, high: int, label: str, left: float, right: float) -> str:
    """The links between two tiers: every drawn icon of the lower tier to every drawn icon of the upper, labelled."""
    lines = "".join(
        f'<line x1="{a:.1f}" y1="{y_low - 8:.1f}" x2="{b:.1f}" y2="{y_high + 8:.1f}" stroke="#9ca3af" '
        'stroke-width="0.6"/>'
        for a in _icon_xs(low, left, right)
        for b in _icon_xs(high, left, right)
    )
    mid = (y_low + y_high) / 2
    return f'{lines}<text x="{right + 16:.1f}" y="{mid + 4:.1f}" class="links">{html.escape(label)}</text>'


def _gbps(link_speed: float) -> float:
    """A link speed [B/s one way] in Gb/s."""
    return link_speed * 8 / 1e9


def fabric_tiers(plan: SitePlan) -> list[dict]:
    """Each tier from the NICs up: switches (all planes), the links below it (all planes) and their speed [Gb/s]."""
    fabric = plan.fabric
    links = {tier: n * fabric.planes for tier, n in fabric.links_by_tier.items()}
    switches = fabric.switches_by_tier
    return [
        {"tier": tier, "switches": switches[tier], "links_below": links[tier], "gbps": _gbps(fabric.link_speed)}
        for tier in ("leaf", "spine", "super_spine")
        if tier in switches
    ]


def _tier_label(plan: SitePlan, tier: str, switches: int) -> str:
    fabric = plan.fabric
    text = f"{switches:,} {TIER_NAMES[tier]} switches"
    if tier == "leaf":
        return f"{text} ({fabric.leaf_down} ports down, {fabric.leaf_up} up)"
    if tier == "spine" and fabric.tiers == 3:
        return f"{text} in {fabric.pods} pods ({fabric.spine_down} down, {fabric.spine_up} up)"
    if tier == "super_spine":
        return f"{text} ({fabric.super_groups} groups of {fabric.supers_per_group})"
    return text


def fabric_svg(plan: SitePlan) -> str:
    """The scale-out fabric by tier, NICs at the bottom: switch counts, ports and the links between tiers with their
    count, speed and total bandwidth."""
    fabric, site = plan.fabric, plan.loaded.site.fabric
    tiers = fabric_tiers(plan)
    left, right, gap = 20.0, 520.0, 110.0
    height = 70 + gap * len(tiers) + 50
    ys = [height - 40 - gap * i for i in range(len(tiers) + 1)]  # NICs, leaf, spine, (super-spine)
    endpoints = fabric.endpoints * fabric.planes
    rails = f"rail-optimised, {fabric.rails} rails" if site.rail_optimised else "not rail-optimised"
    parts = [
        SVG_HEAD.format(w=1000, h=f"{height:.0f}", id="fabric-diagram"),
        f'<text x="4" y="18" font-size="14" font-weight="bold">Scale-out fabric: {fabric.tiers} tiers, {rails}, '
        f"{fabric.planes} plane{'s' if fabric.planes > 1 else ''}, {html.escape(site.switch)} (radix {fabric.radix} "
        f"at {_gbps(fabric.link_speed):g} Gb/s)</text>",
        _tier_row(ys[0], endpoints, TIER_COLOURS["nic"], f"{endpoints:,} NIC ports (endpoints)", left, right),
    ]
    below = endpoints
    for i, t in enumerate(tiers):
        total = t["links_below"] * t["gbps"] / 1e3
        label = f"{t['links_below']:,} links × {t['gbps']:g} Gb/s = {total:,.1f} Tb/s"
        parts.append(_link_band(ys[i], ys[i + 1], below, t["switches"], label, left, right))
        parts.append(
            _tier_row(
                ys[i + 1],
                t["switches"],
                TIER_COLOURS[t["tier"]],
                _tier_label(plan, t["tier"], t["switches"]),
                left,
                right,
            )
        )
        below = t["switches"]
    parts.append(
        f'<text x="4" y="{height - 8:.0f}" fill="#555">Bisection {fabric.bisection_bandwidth / 1e12:,.1f} TB/s '
        f"({fabric.bisection_bandwidth * 8 / 1e12:,.0f} Tb/s); "
        f"at most {fabric.max_switch_hops} switch hops; icons stand for the switches (at most {ICONS} per tier drawn)."
        "</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


# -- power one-line ----------------------------------------------------------------------------------------------
#: The chain from the utility down, as the power stages are named in the site file (generators beside switchgear).
CHAIN = ("substation", "switchgear", "transformers", "ups", "distribution")
STAGE_TITLES = {
    "substation": "Substation transformers",
    "switchgear": "MV switchgear",
    "transformers": "MV/LV transformers (unit substations)",
    "ups": "UPS",
    "distribution": "Distribution to the racks",
    "generators": "Generators",
}


def _rating(part_id: str, catalog: Catalog) -> str:
    """A power part's rating as the catalog gives it: MVA for transformers and switchgear, MW otherwise, with its
    voltages (empty where the catalog lacks the part)."""
    if part_id not in catalog:
        return ""
    part = catalog.get(part_id)
    capacity = part.value("capacity")
    unit = "MVA" if part.kind in ("power_transformer", "switchgear") else "MW"
    volts = [v for v in (part.value("input_voltage"), part.value("output_voltage")) if v]
    voltage = " → ".join(f"{v / 1e3:g} kV" if v >= 1e3 else f"{v:g} V" for v in volts)
    rating = f"{capacity / 1e6:g} {unit}" if capacity else ""
    return ", ".join(x for x in (rating, voltage) if x)


def stage_lines(plan: SitePlan, catalog: Catalog | None = None) -> dict[str, tuple[str, str]]:
    """Each power stage's title and detail: ``units × part (rating), redundancy; peak load, peak loss`` (ratings
    from ``catalog``, the built-in one by default, as ``rackwright site plan`` plans with)."""
    catalog = catalog or load_catalog()
    power = plan.loaded.site.power
    lines = {}
    for st in plan.stages:
        rating = _rating(st.part, catalog)
        redundancy = getattr(power, st.name).redundancy
        detail = (
            f"{st.units:,} × {st.part}" + (f" ({rating})" if rating else "") + f", {redundancy}; "
            f"peak {st.load / 1e6:,.1f} MW through, loss {st.loss / 1e6:,.2f} MW"
        )
        lines[st.name] = (STAGE_TITLES[st.name], detail)
    return lines


def _box(x: float, y: float, width: float, title: str, detail: str, colour: str = "#f3f4f6") -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="44" rx="4" fill="{colour}" stroke="#374151"/>'
        f'<text x="{x + 10:.1f}" y="{y + 17:.1f}" font-weight="bold">{html.escape(title)}</text>'
        f'<text x="{x + 10:.1f}" y="{y + 34:.1f}" class="detail">{html.escape(detail)}</text>'
    )


def _arrow(x: float, y1: float, y2: float) -> str:
    return (
        f'<line x1="{x:.1f}" y1="{y1:.1f}" x2="{x:.1f}" y2="{y2 - 6:.1f}" stroke="#111" stroke-width="2"/>'
        f'<path d="M{x - 5:.1f},{y2 - 8:.1f}L{x:.1f},{y2:.1f}L{x + 5:.1f},{y2 - 8:.1f}Z" fill="#111"/>'
    )


def _chain(plan: SitePlan, lines: dict[str, tuple[str, str]]) -> list[tuple[str, tuple[str, str]]]:
    """The boxes of the main line, top to bottom: utility, the stages of :data:`CHAIN` (UPS/BBU said to be absent
    where the site has none), the racks."""
    summary, power = plan.summary(), plan.loaded.site.power
    utility = (
        f"Utility {power.utility_voltage}",
        f"facility peak {summary['facility_power_mw']:,.1f} MW, power factor {power.power_factor:g}",
    )
    stages = [(name, lines[name]) for name in CHAIN if name in lines]
    if "ups" not in lines:
        stages.insert(-1, ("ups", ("UPS/BBU: none in the site's power chain", "no power.ups stage in the site file")))
    racks = (
        f"{sum(g.racks for g in plan.generations):,} racks",
        f"{summary['rack_power_mw']:,.1f} MW rated input, IT peak {summary['it_power_mw']:,.1f} MW (with the switches)",
    )
    return [("utility", utility), *stages, ("racks", racks)]


def _generators(plan: SitePlan, lines: dict[str, tuple[str, str]], x: float, y: float) -> str:
    """The generators beside the switchgear box (its right edge at ``x``, its top at ``y``), tied to the MV bus."""
    generators = next((st for st in plan.stages if st.name == "generators"), None)
    if generators is None:
        return ""
    title, detail = lines["generators"]
    return _box(x + 60, y - 50, 300, title, detail.split("; ")[0], "#dcfce7") + (
        f'<path d="M{x + 210:.1f},{y - 6:.1f}V{y + 22:.1f}H{x:.1f}" fill="none" stroke="#111" stroke-width="2"/>'
        f'<text x="{x + 70:.1f}" y="{y + 36:.1f}" font-size="10">backs the MV bus, sized for its '
        f"{generators.load / 1e6:,.1f} MW peak</text>"
    )


def _cooling_feed(plan: SitePlan, x: float, y: float) -> str:
    """The cooling plant fed from the MV/LV transformers (box's right edge at ``x``, top at ``y``) without UPS."""
    mech = float(plan.hourly["mech_peak"].max()) / 1e6
    return _box(x + 60, y + 50, 300, "Cooling plant (no UPS)", f"mechanical peak {mech:,.1f} MW", "#e0f2fe") + (
        f'<path d="M{x:.1f},{y + 30:.1f}H{x + 30:.1f}V{y + 72:.1f}H{x + 60:.1f}" fill="none" stroke="#111" '
        'stroke-width="2"/>'
    )


def feed_lines(halls: list[dict], shown: int = FEED_HALLS) -> list[str]:
    """One line per side of each of the first ``shown`` halls of summary.json's ``power_chain.distribution.halls``
    (:func:`~.summary.distribution_halls`): ``Hall 1 (2N) A: 26 panels, 521 feeds (441 × 200 A, ...), 56.8 MW
    alone``, and how many halls are left out."""
    lines = [
        f"Hall {hall['hall']} ({hall['topology']}) {side['side']}: {side['panels']:,} panels, {side['feeds']:,} feeds ("
        + ", ".join(f"{r['feeds']:,} × {r['amperes']:,} A" for r in sorted(side["ratings"], key=lambda r: -r["feeds"]))
        + f"), {side['load_alone_mw']:,.1f} MW alone"
        for hall in halls[:shown]
        for side in hall["sides"]
    ]
    return lines + ([f"… {len(halls) - shown} more halls in summary.json"] if len(halls) > shown else [])


def _feeds(plan: SitePlan, x: float, y: float) -> str:
    """The A and B feeds of each hall beside the distribution box (its right edge at ``x``, its top at ``y``)."""
    from .summary import distribution_halls

    lines = feed_lines(distribution_halls(plan))
    if not lines:
        return ""
    height = 26 + 14 * len(lines)
    text = "".join(
        f'<text x="{x + 70:.1f}" y="{y + 34 + 14 * k:.1f}" class="detail" font-size="10">{html.escape(line)}</text>'
        for k, line in enumerate(lines)
    )
    return (
        f'<rect x="{x + 60:.1f}" y="{y:.1f}" width="{FEED_BOX_WIDTH}" height="{height}" rx="4" fill="#ede9fe" '
        f'stroke="#374151"/><text x="{x + 70:.1f}" y="{y + 17:.1f}" font-weight="bold">A and B feeds to the racks '
        f"(each feed rated for its whole rack)</text>{text}"
        f'<line x1="{x:.1f}" y1="{y + 22:.1f}" x2="{x + 60:.1f}" y2="{y + 22:.1f}" stroke="#111" stroke-width="2"/>'
    )


def power_one_line_svg(plan: SitePlan, catalog: Catalog | None = None) -> str:
    """The power chain as a one-line diagram, utility at the top and racks at the bottom: each stage's installed
    units, part, rating, redundancy, peak load and loss, the generators on the MV bus, the cooling plant fed from
    the MV/LV transformers without UPS, the A and B feeds of each hall beside the distribution, and the racks."""
    lines = stage_lines(plan, catalog)
    chain = _chain(plan, lines)
    x, width, step = 30.0, 600.0, 70.0
    height = 40 + step * len(chain) + 20
    ys = {name: 40 + step * i for i, (name, _) in enumerate(chain)}
    parts = [
        SVG_HEAD.format(w=700 + FEED_BOX_WIDTH, h=f"{height:.0f}", id="power-one-line"),
        f'<text x="4" y="18" font-size="14" font-weight="bold">Power one-line: {html.escape(plan.loaded.site.name)}'
        "</text>",
    ]
    for i, (name, (title, detail)) in enumerate(chain):
        parts.append(_box(x, ys[name], width, title, detail, "#fef3c7" if name in ("utility", "racks") else "#f3f4f6"))
        if i:
            parts.append(_arrow(x + 40, ys[chain[i - 1][0]] + 44, ys[name]))
    parts.append(_generators(plan, lines, x + width, ys["switchgear"]))
    parts.append(_cooling_feed(plan, x + width, ys["transformers"]))
    parts.append(_feeds(plan, x + width, ys["distribution"]))
    parts.append("</svg>")
    return "\n".join(parts)


# -- PUE by month and hour ---------------------------------------------------------------------------------------
def pue_month_hour(plan: SitePlan) -> np.ndarray:
    """PUE of each month (12 rows) at each hour of the day (24 columns): the hourly facility over IT power,
    averaged over the days of the month at that hour (hour ``h`` of the 8,760-hour year is hour ``h mod 24`` of
    day ``h // 24``, months of :data:`MONTH_DAYS`).

    The plan runs IT at a constant share of its rating all year, so the hourly PUEs average to the annual PUE
    (facility energy over IT energy), and so do the cells weighted by the days of their month.
    """
    hourly = plan.hourly
    pue = np.asarray(hourly["facility_power"] / hourly["it_power"], dtype=float)
    hour = np.arange(len(pue))
    month = np.searchsorted(np.cumsum(MONTH_DAYS), hour // 24, side="right")
    table = np.zeros((12, 24))
    np.add.at(table, (month, hour % 24), pue)
    return table / MONTH_DAYS[:, None]


def pue_heatmap(plan: SitePlan):
    """PUE as a month × hour-of-day heatmap (plotly), the annual and the worst hour's PUE in its title."""
    import plotly.graph_objects as go

    table = pue_month_hour(plan)
    summary = plan.summary()
    figure = go.Figure(
        go.Heatmap(
            z=table,
            x=list(range(24)),
            y=list(MONTHS),
            colorscale="YlOrRd",
            colorbar={"title": {"text": "PUE (–)"}},
            hovertemplate="%{y}, %{x}:00 h: PUE %{z:.3f}<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"PUE by month and hour of day (annual {summary['pue']:.3f}, worst hour {summary['pue_peak_hour']:.3f}; "
        f"ambient {html.escape(plan.loaded.site.cooling.ambient)})",
        height=480,
    )
    figure.update_xaxes(title_text="hour of day (h, the ambient profile's local time)", dtick=2)
    figure.update_yaxes(title_text="month", autorange="reversed")
    return figure
