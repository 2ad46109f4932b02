"""Site report (presentation only): floor-plan SVG, plotly charts and a self-contained HTML page."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from ..report.html import PRINT_STYLE
from .layout import CDU, MDA, NETWORK, served_by
from .layout import COMPUTE as COMPUTE_ROW
from .planner import SitePlan

WIDTH_PX = 1000.0  # the campus overview is drawn about this wide
#: The campus overview's halls start this far [px] below its top: the title line, then a line for the halls' names,
#: each LABEL_GAP [px] above its hall's outline (inside it, a name would cover the first row's racks).
CAMPUS_TOP = 32
LABEL_GAP = 3
HALL_PX_PER_M = 16.0  # the hall plan's scale
COLOURS = {"leaf": "#e45756", "spine": "#f58518", "super_spine": "#b279a2"}
CDU_COLOUR = "#9ecae9"
#: Rack colour by input power: light for the lightest rack of the site, dark for the heaviest.
KW_LOW, KW_HIGH = (254, 230, 138), (153, 27, 27)
COLD, HOT = "#dbeafe", "#fde2e2"
BUSWAY, TRAY = "#7c3aed", "#4b5563"
TRAY_OFFSET = 0.3  # m, a tray run's centre from the rack edge it follows (drawing only)


def rack_name(hall: int, row: int, rack: int, kind: str = "k") -> str:
    """A rack's name as the cable plan and NetBox give it (0-based indices in): ``h01-r003-k05`` for the fifth
    compute rack of row 3 of hall 1, ``n`` for a network rack."""
    return f"h{hall + 1:02d}-r{row + 1:03d}-{kind}{rack + 1:02d}"


def hall_page_name(hall: int) -> str:
    """The page of a hall's plan beside ``report.html`` (0-based index in): ``hall-01.html``."""
    return f"hall-{hall + 1:02d}.html"


def _rack_xy(plan: SitePlan) -> tuple[np.ndarray, np.ndarray]:
    """Plan coordinates [m] of every compute rack (the planner sets them with every plan)."""
    assert plan.rack_xy is not None
    return plan.rack_xy


def _switch_positions(plan: SitePlan) -> dict[str, np.ndarray]:
    """The switches' hall, row, rack, role and coordinates, one array each (the planner's field annotation says
    SwitchPlacement; the values are these arrays)."""
    return cast(dict[str, np.ndarray], plan.switch_positions)


def _rack_power(plan: SitePlan) -> np.ndarray:
    """Input power [W] of every compute rack, in the layout's order (racks are placed generation by generation)."""
    return np.repeat([g.input_power for g in plan.generations], [g.racks for g in plan.generations])


def _kw_colours(power: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A colour per rack by input power, and the range [kW] the scale spans."""
    low, high = float(power.min()) / 1e3, float(power.max()) / 1e3
    t = (power / 1e3 - low) / (high - low) if high > low else np.full(len(power), 0.5)
    rgb = np.outer(1 - t, KW_LOW) + np.outer(t, KW_HIGH)
    return np.array([f"#{int(r):02x}{int(g):02x}{int(b):02x}" for r, g, b in rgb]), low, high


def _nice_length(metres: float) -> float:
    """A round length (1, 2 or 5 × 10^n m) no longer than ``metres``."""
    power = 10 ** np.floor(np.log10(max(metres, 1e-3)))
    return float(max(m * power for m in (1, 2, 5) if m * power <= metres))


def _scale_bar(x: float, y: float, px_per_m: float, span_m: float) -> str:
    """A scale bar of a round length near ``span_m`` at (x, y), ticks at 0, half and full."""
    length = _nice_length(span_m)
    bar = length * px_per_m
    ticks = "".join(
        f'<line x1="{x + f * bar:.1f}" y1="{y - 4}" x2="{x + f * bar:.1f}" y2="{y + 4}" stroke="#000"/>'
        f'<text x="{x + f * bar:.1f}" y="{y + 15}" text-anchor="middle">{f * length:g}</text>'
        for f in (0, 0.5, 1)
    )
    return (
        f'<rect x="{x:.1f}" y="{y - 2}" width="{bar / 2:.1f}" height="4" fill="#000"/>'
        f'<rect x="{x + bar / 2:.1f}" y="{y - 2}" width="{bar / 2:.1f}" height="4" fill="#fff" stroke="#000"/>'
        f'{ticks}<text x="{x + bar + 8:.1f}" y="{y + 4}">m</text>'
    )


def _kw_legend(x: float, y: float, low: float, high: float, name: str) -> str:
    """The colour scale of rack input power; ``name`` tells the gradients of one page apart."""
    stops = f'<stop offset="0" stop-color="rgb{KW_LOW}"/><stop offset="1" stop-color="rgb{KW_HIGH}"/>'
    return (
        f'<defs><linearGradient id="{name}">{stops}</linearGradient></defs>'
        f'<rect x="{x}" y="{y}" width="120" height="10" fill="url(#{name})" stroke="#999"/>'
        f'<text x="{x}" y="{y + 22}">{low:,.1f} kW</text>'
        f'<text x="{x + 120}" y="{y + 22}" text-anchor="end">{high:,.1f} kW</text>'
        f'<text x="{x + 130}" y="{y + 9}">compute rack input power</text>'
    )


def _tenths(value: int) -> str:
    """A length in tenths of a pixel as SVG path text: ``38`` → ``3.8``, ``-20`` → ``-2``."""
    text = f"{value / 10:.1f}"
    return text[:-2] if text.endswith(".0") else text


def rack_paths(x: np.ndarray, y: np.ndarray, colours: np.ndarray, width: float, depth: float) -> list[str]:
    """Racks centred at (``x``, ``y``) [px], ``width`` × ``depth`` px, as one ``<path>`` per colour (in the order
    the colours first appear) with a closed subpath ``m dx dy h w v d h −w z`` per rack: the same rectangles as one
    ``<rect>`` each at a third of the bytes. Corners are rounded to a tenth of a pixel first and each move is the
    difference of two rounded corners, so no rounding error accumulates along a path."""
    left = np.round((np.asarray(x) - width / 2) * 10).astype(np.int64)
    top = np.round((np.asarray(y) - depth / 2) * 10).astype(np.int64)
    w, d = round(width * 10), round(depth * 10)
    box = f"h{_tenths(w)}v{_tenths(d)}h{_tenths(-w)}z"
    paths = []
    for colour in dict.fromkeys(colours.tolist()):
        mine = np.flatnonzero(colours == colour)
        dx, dy = np.diff(left[mine], prepend=0), np.diff(top[mine], prepend=0)
        moves = "".join(f"m{_tenths(a)} {_tenths(b)}{box}" for a, b in zip(dx.tolist(), dy.tolist(), strict=True))
        paths.append(f'<path fill="{colour}" d="{moves}" class="racks"/>')
    return paths


def floor_plan_svg(plan: SitePlan, max_items: int = 60_000) -> str:
    """Campus overview: the halls with their names, each a link to its plan's page (:func:`hall_page_name`), compute
    racks coloured by input power, CDU rows, network racks by switch tier, a scale bar (racks sampled above
    ``max_items``)."""
    grid = plan.grid
    g = plan.layout.geometry
    SCALE = float(np.clip(WIDTH_PX / (grid.columns * (grid.width + g.hall_gap)), 0.5, 20.0))  # px per metre
    width = max((grid.columns * (grid.width + g.hall_gap)) * SCALE, 600)
    height = float((grid.origin_y + grid.depths).max()) * SCALE + CAMPUS_TOP + 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="10">',
        f'<text x="4" y="14">{html.escape(plan.loaded.site.name)}: {plan.layout.racks:,} racks, '
        f"{plan.layout.halls} halls (compute racks coloured by input power, CDU rows blue, network racks by tier)"
        "</text>",
    ]
    links = [  # over the racks: a click anywhere on a hall opens its plan; its name above it, clear of the rows
        f'<a href="{hall_page_name(h)}"><title>hall {h + 1}: its plan to scale</title>'
        f'<rect x="{x0 * SCALE:.1f}" y="{y0 * SCALE + CAMPUS_TOP:.1f}" width="{grid.width * SCALE:.1f}" '
        f'height="{depth * SCALE:.1f}" fill="#fff" fill-opacity="0" stroke="#333"/>'
        f'<text x="{x0 * SCALE + 2:.1f}" y="{y0 * SCALE + CAMPUS_TOP - LABEL_GAP:.1f}" fill="#1d4ed8" '
        'text-decoration="underline">'
        f"hall {h + 1} (h{h + 1:02d})</text></a>"
        for h, (x0, y0, depth) in enumerate(zip(grid.origin_x, grid.origin_y, grid.depths, strict=True))
    ]
    strip = g.racks_per_row * g.rack_pitch * SCALE
    for x0, y0, pattern in zip(grid.origin_x, grid.origin_y, grid.patterns, strict=True):
        for row in np.flatnonzero(pattern == CDU):
            y = y0 + g.cold_aisle / 2 + row * g.row_pitch
            parts.append(
                f'<rect x="{(x0 + g.cold_aisle) * SCALE:.1f}" y="{y * SCALE + CAMPUS_TOP:.1f}" width="{strip:.1f}" '
                f'height="{g.rack_depth * SCALE:.1f}" fill="{CDU_COLOUR}" opacity="0.6"/>'
            )
    rx, ry = _rack_xy(plan)
    step = max(1, len(rx) // max_items)
    colours, low, high = _kw_colours(_rack_power(plan))
    w, d = g.rack_pitch * SCALE * 0.9, g.rack_depth * SCALE
    parts += rack_paths(rx[::step] * SCALE, ry[::step] * SCALE + CAMPUS_TOP, colours[::step], w, d)
    positions = _switch_positions(plan)
    if positions:  # a network rack for each place switches stand, in the colour of its first switch's tier
        xy = np.round(np.stack([positions["x"], positions["y"]]).astype(float), 1)
        _, first = np.unique(xy, axis=1, return_index=True)
        first.sort()
        role_colours = np.array([COLOURS[str(r)] for r in np.asarray(positions["role"])[first]])
        parts += rack_paths(xy[0, first] * SCALE, xy[1, first] * SCALE + CAMPUS_TOP, role_colours, w, d)
    parts += links
    legend = [("CDU row", CDU_COLOUR)] + [(role.replace("_", "-") + " switches", c) for role, c in COLOURS.items()]
    for i, (label, colour) in enumerate(legend):
        parts.append(
            f'<rect x="{4 + i * 140}" y="{height - 62:.0f}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{18 + i * 140}" y="{height - 53:.0f}">{label}</text>'
        )
    parts.append(_kw_legend(4, height - 40, low, high, "kw-campus"))
    parts.append(_scale_bar(width - 260, height - 30, SCALE, 200 / SCALE))
    parts.append("</svg>")
    return "\n".join(parts)


#: The group the hall plan's racks are drawn in: their labels' size and anchor said once, not per rack.
RACK_GROUP = '<g font-size="6" text-anchor="middle">{}</g>'


def _rack_label(x: float, y: float, text: str, colour: str) -> str:
    """A rack's short name across its depth (rotated: racks are narrower than deep), inside :data:`RACK_GROUP`;
    black (SVG's default fill) unless ``colour`` says otherwise."""
    fill = "" if colour == "#000" else f' fill="{colour}"'
    return f'<text x="{x + 2:.1f}" y="{y:.1f}"{fill} transform="rotate(-90 {x + 2:.1f} {y:.1f})">{text}</text>'


def _dimension(x1: float, y1: float, x2: float, y2: float, text: str) -> str:
    """A dimension line between two points with arrow-like end ticks and its length written beside it."""
    vertical = abs(x2 - x1) < abs(y2 - y1)
    tick = (
        (f"M{x1 - 5:.1f},{y1:.1f}h10M{x2 - 5:.1f},{y2:.1f}h10")
        if vertical
        else (f"M{x1:.1f},{y1 - 5:.1f}v10M{x2:.1f},{y2 - 5:.1f}v10")
    )
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    label = (
        f'<text x="{mx + 6:.1f}" y="{my:.1f}" transform="rotate(90 {mx + 6:.1f} {my:.1f})" text-anchor="middle" '
        f'class="dimension">{text}</text>'
        if vertical
        else f'<text x="{mx:.1f}" y="{my - 4:.1f}" text-anchor="middle" class="dimension">{text}</text>'
    )
    return (
        f'<g stroke="#000"><line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/><path d="{tick}"/></g>{label}'
    )


def _metre_grid(x0: float, y0: float, width_m: float, depth_m: float, px: float) -> str:
    """A 1 m grid over the hall, every 5 m darker and numbered [m] along the top and the left edge."""
    lines = []
    for along_x, span in ((True, width_m), (False, depth_m)):
        for m in range(int(np.floor(span)) + 1):
            x1, y1 = (x0 + m * px, y0) if along_x else (x0, y0 + m * px)
            x2, y2 = (x1, y0 + depth_m * px) if along_x else (x0 + width_m * px, y1)
            major = m % 5 == 0
            lines.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke="{"#c7c7c7" if major else "#ececec"}"/>'
            )
            if major:
                tx, ty, anchor = (x1, y1 - 3, "middle") if along_x else (x1 - 3, y1 + 3, "end")
                lines.append(f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="7" text-anchor="{anchor}">{m}</text>')
    return f'<g class="grid">{"".join(lines)}</g>'


def _cdus_per_cdu_row(plan: SitePlan, hall: int) -> dict[int, int]:
    """CDUs in each CDU row of a hall: ``ceil(Σ cdus_per_rack)`` over the compute racks of the rows it serves
    (``layout.served_by``: the compute rows before it, after it in the mirrored second half)."""
    layout, rows = plan.layout, plan.layout.rows_of(hall)
    per_rack = np.repeat([g.cdus_per_rack for g in plan.generations], [g.racks for g in plan.generations])
    mine = layout.hall == hall
    cdu_row = served_by(rows.pattern, rows.second_half, CDU)[layout.row[mine]]
    return {
        int(r): int(np.ceil(per_rack[mine][cdu_row == r].sum() - 1e-9)) for r in np.flatnonzero(rows.pattern == CDU)
    }


def _feeds_per_row(plan: SitePlan) -> int:
    """Distribution runs (busways or row rectifiers) over each compute row: the power chain's installed units
    shared over the site's compute rows, rounded down (the planner installs at least one, two with 2N, per row; the
    legend gives the site-wide count)."""
    layout = plan.layout
    rows = len(np.unique(layout.hall.astype(np.int64) * 10_000 + layout.row))
    units = next(s.units for s in plan.stages if s.name == "distribution")
    return max(1, units // max(rows, 1))


def _cdu_row(x: float, y: float, length: float, depth: float, cdus: int) -> str:
    """A CDU row drawn as its CDUs side by side (one box each) over the row's length."""
    if cdus <= 0:
        return (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{length:.1f}" height="{depth:.1f}" fill="{CDU_COLOUR}" '
            f'opacity="0.4"/><text x="{x + 4:.1f}" y="{y + depth / 2 + 3:.1f}">no CDUs</text>'
        )
    each = length / cdus
    boxes = "".join(
        f'<rect x="{x + i * each + 0.5:.1f}" y="{y:.1f}" width="{each - 1:.1f}" height="{depth:.1f}" '
        f'fill="{CDU_COLOUR}" stroke="#4a90c2" class="cdu"/>'
        for i in range(cdus)
    )
    return f'{boxes}<text x="{x + 4:.1f}" y="{y + depth / 2 + 3:.1f}">{cdus} CDUs</text>'


def _busways(x: float, y: float, length: float, depth: float, feeds: int) -> str:
    """``feeds`` distribution runs along a compute row over its racks (A, B, ... feeds), kept to the racks' front and
    back edges so that the racks' names stay readable."""
    offsets = [0.1] if feeds == 1 else [0.1 + 0.8 * i / (feeds - 1) for i in range(feeds)]
    return "".join(
        f'<line x1="{x:.1f}" y1="{y + depth * f:.1f}" x2="{x + length:.1f}" y2="{y + depth * f:.1f}" '
        f'stroke="{BUSWAY}" stroke-width="1.5" stroke-dasharray="{"none" if i % 2 == 0 else "5 2"}" class="busway"/>'
        for i, f in enumerate(offsets)
    )


def _tray(x1: float, y1: float, x2: float, y2: float) -> str:
    """An overhead cable tray run (drawn dashed, as overhead items are on plans)."""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{TRAY}" stroke-width="3" '
        'stroke-dasharray="6 3" opacity="0.7" class="tray"/>'
    )


def _network_runs(plan: SitePlan, hall: int) -> dict[int, float]:
    """Along-row extent [m from the row start] of the network racks in each network row of a hall."""
    positions = _switch_positions(plan)
    runs: dict[int, float] = {}
    if positions:
        here = np.asarray(positions["hall"]) == hall
        for row, rack in zip(positions["row"][here], positions["rack"][here], strict=True):
            runs[int(row)] = max(runs.get(int(row), 0.0), (int(rack) + 1) * plan.layout.geometry.rack_pitch)
    return runs


def _hall_legend(x: float, y: float, plan: SitePlan, feeds: int) -> str:
    """What the symbols of the hall plan are, with the distribution part and its redundancy."""
    stage = next(s for s in plan.stages if s.name == "distribution")
    redundancy = plan.loaded.site.power.distribution.redundancy
    items = [
        (f'<rect width="10" height="10" fill="{CDU_COLOUR}" stroke="#4a90c2"/>', "CDU"),
        (
            f'<line x1="0" y1="5" x2="14" y2="5" stroke="{BUSWAY}" stroke-width="1.5"/>',
            f"{stage.part}: {feeds} per compute row ({redundancy}), {stage.units:,} site-wide",
        ),
        (f'<line x1="0" y1="5" x2="14" y2="5" stroke="{TRAY}" stroke-width="3" stroke-dasharray="6 3"/>', "cable tray"),
    ] + [
        (f'<rect width="10" height="10" fill="{c}"/>', role.replace("_", "-") + " switch rack")
        for role, c in COLOURS.items()
    ]
    return "".join(
        f'<g transform="translate({x:.1f} {y + i * 15:.1f})">{symbol}<text x="20" y="9">{html.escape(text)}</text></g>'
        for i, (symbol, text) in enumerate(items)
    )


@dataclass(frozen=True)
class _Frame:
    """Plan metres to hall-plan pixels: the hall's origin [m] at (``left``, ``top``) [px], ``px`` per metre."""

    ox: float
    oy: float
    rack_w: float  # px, a rack's width along the row (its pitch)
    rack_d: float  # px, a rack's depth
    left: float = 110.0  # room for the row names
    top: float = 80.0  # room for the title and the width dimension
    px: float = HALL_PX_PER_M

    def x(self, metres: float) -> float:
        return self.left + (metres - self.ox) * self.px

    def y(self, metres: float) -> float:
        return self.top + (metres - self.oy) * self.px


def _row_y(plan: SitePlan, hall: int, row: int) -> float:
    """Plan coordinate [m] of the front edge of a physical row of a hall."""
    g = plan.layout.geometry
    return float(plan.grid.origin_y[hall]) + g.cold_aisle / 2 + row * g.row_pitch


def _hall_rows(plan: SitePlan, hall: int, f: _Frame) -> tuple[list[str], list[str]]:
    """Aisles, row names and CDU rows (drawn under the racks); the distribution runs over the compute rows and the
    overhead tray grid (drawn over them)."""
    g, layout = plan.layout.geometry, plan.layout
    width = plan.grid.width * f.px
    row_x0, compute_length = f.x(f.ox + g.cold_aisle), g.racks_per_row * g.rack_pitch * f.px
    rd = g.rack_depth * f.px
    feeds, cdus, runs = _feeds_per_row(plan), _cdus_per_cdu_row(plan, hall), _network_runs(plan, hall)
    filled = set(layout.row[layout.hall == hall].tolist())
    parts: list[str] = []
    over: list[str] = []
    trays: list[tuple[float, float]] = []  # (y, length) of each row's tray [px]
    pattern = plan.grid.patterns[hall]
    for r, kind in enumerate(pattern):
        y0 = _row_y(plan, hall, r)
        gap_y, gap = y0 + g.rack_depth, g.row_pitch - g.rack_depth
        if r < len(pattern) - 1:
            hot = r % 2 == 0
            parts.append(
                f'<rect x="{f.left:.1f}" y="{f.y(gap_y):.1f}" width="{width:.1f}" height="{gap * f.px:.1f}" '
                f'fill="{HOT if hot else COLD}" opacity="0.8"/><text x="{f.left + width + 4:.1f}" '
                f'y="{f.y(gap_y + gap / 2) + 3:.1f}" fill="#777">{"hot" if hot else "cold"} aisle</text>'
            )
        name = f"h{hall + 1:02d}-r{r + 1:03d}"
        label = {COMPUTE_ROW: name, CDU: f"{name} CDU", NETWORK: f"{name} net", MDA: f"{name} MDA"}[int(kind)]
        parts.append(f'<text x="4" y="{f.y(y0) + rd / 2 + 3:.1f}">{label}</text>')
        if kind == CDU:
            parts.append(_cdu_row(row_x0, f.y(y0), compute_length, rd, cdus[r]))
        elif kind == COMPUTE_ROW and r in filled:
            over.append(_busways(row_x0, f.y(y0), compute_length, rd, feeds))
            trays.append((f.y(y0 + g.rack_depth + TRAY_OFFSET if r % 2 == 0 else y0 - TRAY_OFFSET), compute_length))
        elif kind in (NETWORK, MDA) and r in runs:
            trays.append((f.y(y0 + g.rack_depth + TRAY_OFFSET if r % 2 == 0 else y0 - TRAY_OFFSET), runs[r] * f.px))
    cross = row_x0 + compute_length + TRAY_OFFSET * f.px  # the tray across the hall, past the compute rows' end
    over += [_tray(row_x0, y, row_x0 + max(length, cross - row_x0), y) for y, length in trays]
    if trays:
        over.append(_tray(cross, min(y for y, _ in trays), cross, max(y for y, _ in trays)))
    return parts, over


def _rack_rect(f: _Frame, x: float, y: float, fill: str, name: str, short: str, ink: str) -> str:
    """A rack at plan centre (x, y) [m] with its full name as tooltip and its short name written across it."""
    w, d = f.rack_w, f.rack_d
    return (
        f'<rect x="{f.x(x) - w / 2 + 0.5:.1f}" y="{f.y(y) - d / 2:.1f}" width="{w - 1:.1f}" height="{d:.1f}" '
        f'fill="{fill}"><title>{name}</title></rect>' + _rack_label(f.x(x), f.y(y), short, ink)
    )


def _network_racks(plan: SitePlan, hall: int, f: _Frame) -> tuple[list[str], list[float]]:
    """The network racks of a hall (one per distinct row and rack the switches fill), coloured by the tier of their
    first switch, and their centres along the row [m]."""
    positions = _switch_positions(plan)
    if not positions:
        return [], []
    parts, xs = [], []
    seen: set[tuple[int, int]] = set()
    for j in np.flatnonzero(np.asarray(positions["hall"]) == hall):
        key = (int(positions["row"][j]), int(positions["rack"][j]))
        if key in seen:
            continue
        seen.add(key)
        x, y = float(positions["x"][j]), float(positions["y"][j])
        xs.append(x)
        colour = COLOURS[str(positions["role"][j])]
        parts.append(_rack_rect(f, x, y, colour, rack_name(hall, *key, kind="n"), f"n{key[1] + 1:02d}", "#fff"))
    return parts, xs


def hall_plan_svg(plan: SitePlan, hall: int = 0) -> str:
    """One hall to scale: a 1 m grid, the hall's width and depth dimensioned in metres, every row named as the
    cable plan names it (``h01-r003``), compute racks by their name's rack part (``k05``) coloured by input power,
    network racks (``n02``) by switch tier, CDU rows with their CDUs, the distribution runs (busways or row
    rectifiers) over each compute row, the overhead cable trays (one along every row over its hot aisle, one across
    the hall past the compute rows' end joining them to the network rows: the cable plan's lengths are Manhattan
    distances along such a tray grid), cold and hot aisles, the extent of what the hall holds, a scale bar and a
    legend."""
    g, grid, layout = plan.layout.geometry, plan.grid, plan.layout
    ox, oy = float(grid.origin_x[hall]), float(grid.origin_y[hall])
    f = _Frame(ox, oy, g.rack_pitch * HALL_PX_PER_M, g.rack_depth * HALL_PX_PER_M)
    depth = float(grid.depths[hall])
    hall_w, hall_d = grid.width * f.px, depth * f.px
    width, height = f.left + hall_w + 420, f.top + hall_d + 70
    mine = np.flatnonzero(layout.hall == hall)
    rx, ry = _rack_xy(plan)
    colours, low, high = _kw_colours(_rack_power(plan))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="9" id="hall-plan-{hall + 1}">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">Hall {hall + 1} (h{hall + 1:02d}): {len(mine):,} '
        f"compute racks, {grid.width:.1f} m × {depth:.1f} m as planned</text>",
        _metre_grid(f.left, f.top, grid.width, depth, f.px),
        f'<rect x="{f.left:.1f}" y="{f.top:.1f}" width="{hall_w:.1f}" height="{hall_d:.1f}" '
        'fill="none" stroke="#333" stroke-width="2"/>',
        _dimension(f.left, f.top - 28, f.left + hall_w, f.top - 28, f"{grid.width:.1f} m"),
        _dimension(f.left + hall_w + 70, f.top, f.left + hall_w + 70, f.top + hall_d, f"{depth:.1f} m"),
    ]
    under, over = _hall_rows(plan, hall, f)
    parts += under
    racks = []
    for i in mine:
        row, position = int(layout.row[i]), int(layout.position[i])
        name, short = rack_name(hall, row, position), f"k{position + 1:02d}"
        racks.append(_rack_rect(f, float(rx[i]), float(ry[i]), str(colours[i]), name, short, "#000"))
    network, network_x = _network_racks(plan, hall, f)
    parts += [RACK_GROUP.format("".join(racks + network)), *over]
    right = max([float(rx[i]) for i in mine] + network_x, default=ox) + g.rack_pitch / 2 + g.cold_aisle
    if right < ox + grid.width - g.rack_pitch:  # the hall as planned is wider than what it holds
        parts.append(
            f'<rect x="{f.left:.1f}" y="{f.top:.1f}" width="{(right - ox) * f.px:.1f}" height="{hall_d:.1f}" '
            'fill="none" stroke="#2563eb" stroke-dasharray="6 4"/>'
            f'<text x="{f.x(right) + 4:.1f}" y="{f.top + 12:.1f}" fill="#2563eb">racks end here: '
            f"{right - ox:.1f} m of the hall's {grid.width:.1f} m</text>"
        )
    base = f.top + hall_d + 30
    parts.append(_scale_bar(f.left, base, f.px, 10.0))
    parts.append(_kw_legend(f.left + 220, base - 8, low, high, f"kw-hall-{hall + 1}"))
    parts.append(_hall_legend(f.left + hall_w + 110, f.top, plan, _feeds_per_row(plan)))
    parts.append("</svg>")
    return "\n".join(parts)


def charts(plan: SitePlan):
    """Hourly PUE against ambient, capex by category, cable length by medium (plotly)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from ..report.present import SITE_ENTRIES

    hourly = plan.hourly
    pue = hourly["facility_power"] / hourly["it_power"]
    summary = plan.summary()
    figure = make_subplots(
        rows=3,
        cols=1,
        vertical_spacing=0.1,
        subplot_titles=(
            f"Hourly PUE (annual {summary['pue']:.3f}) and ambient dry-bulb",
            "Capex by category (USD)",
            "Cable length by medium (km)",
        ),
        specs=[[{"secondary_y": True}], [{}], [{}]],
    )
    # hours 1, 2, ... as x0 and dx, and the 8,760 values in single precision (7 digits: PUE and °C to far below
    # what the chart shows): a third of the page's bytes as doubles with an hour array
    hours = {"x0": 1, "dx": 1}
    figure.add_trace(
        go.Scatter(y=np.asarray(pue, dtype=np.float32), name="PUE", line={"color": "#4c78a8"}, **hours), row=1, col=1
    )
    ambient = np.asarray(hourly["ambient_k"] - 273.15, dtype=np.float32)
    figure.add_trace(
        go.Scatter(y=ambient, name="ambient °C", line={"color": "#e45756", "width": 1}, **hours),
        row=1,
        col=1,
        secondary_y=True,
    )
    capex = summary["capex_usd"]
    figure.add_trace(
        go.Bar(x=[SITE_ENTRIES.get(k, k) for k in capex], y=list(capex.values()), name="capex", marker_color="#72b7b2"),
        row=2,
        col=1,
    )
    length = summary["cable_length_km"]
    figure.add_trace(
        go.Bar(x=list(length), y=list(length.values()), name="cable km", marker_color="#f58518"), row=3, col=1
    )
    figure.update_xaxes(title_text="hour of the year (h)", row=1, col=1)
    figure.update_yaxes(title_text="PUE (–)", row=1, col=1, secondary_y=False)
    figure.update_yaxes(title_text="ambient dry-bulb (°C)", row=1, col=1, secondary_y=True)
    figure.update_xaxes(title_text="capex category", row=2, col=1)
    figure.update_yaxes(title_text="capex (USD)", row=2, col=1)
    figure.update_xaxes(title_text="cable medium (catalog part kind)", row=3, col=1)
    figure.update_yaxes(title_text="cable length (km)", row=3, col=1)
    figure.update_layout(title=plan.loaded.site.name, height=1100, showlegend=False)
    return figure


STYLE = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse}"
    "td{border-bottom:1px solid #ddd;padding:3px 10px;vertical-align:top}td.n{text-align:right;white-space:nowrap}"
    "th{text-align:left;padding:3px 10px;border-bottom:2px solid #999}th.n{text-align:right}"
    ".headline{display:flex;flex-wrap:wrap;gap:.8em 2.5em;margin:1em 0}.headline b{display:block;font-size:1.5em}"
    + PRINT_STYLE  # the print rules every report page shares
)


def _headline(summary: dict) -> str:
    """The figures the page opens with (report.present.site_headline), each its label under its value."""
    from ..report.present import site_headline

    cells = "".join(
        f"<div><b>{html.escape(value)}</b>{html.escape(label)}</div>" for label, value in site_headline(summary)
    )
    return f"<div class='headline'>{cells}</div>"


def _summary_table(summary: dict) -> str:
    """Every figure of the summary (summary.json's keys) labelled, with its unit, as ``site plan`` prints its table
    (report.present.site_rows)."""
    from ..report.present import site_rows

    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(unit)}</td><td class='n'>{html.escape(value)}</td></tr>"
        for label, unit, value in site_rows(summary)
    )
    return f"<table><tr><th>Figure</th><th>Unit</th><th class='n'>Value</th></tr>{rows}</table>"


def _power_chain_table(summary: dict) -> str:
    """summary.json's ``power_chain``: one row per stage, its part, units and peak load and loss
    (report.present.POWER_CHAIN)."""
    from ..report.present import POWER_CHAIN, POWER_STAGES, figure_format

    shown = {key: figure_format(f"power_chain.{key}") for key in POWER_CHAIN}
    number = {key: "" if key == "part" else " class='n'" for key in POWER_CHAIN}
    head = "".join(f"<th{number[key]}>{html.escape(f.heading)}</th>" for key, f in shown.items())
    rows = "".join(
        f"<tr><td>{html.escape(POWER_STAGES.get(name, name))}</td>"
        + "".join(f"<td{number[key]}>{html.escape(f.value(stage.get(key)))}</td>" for key, f in shown.items())
        + "</tr>"
        for name, stage in summary["power_chain"].items()
    )
    return f"<h3>Power chain by stage</h3><table><tr><th>Stage</th>{head}</tr>{rows}</table>"


def _hall_pages(plan: SitePlan, folder: Path) -> list[Path]:
    """``hall-NN.html`` beside ``report.html``: each hall's plan to scale, linked from the campus overview."""
    name = html.escape(plan.loaded.site.name)
    index = " · ".join(f'<a href="{hall_page_name(h)}">hall {h + 1}</a>' for h in range(plan.layout.halls))
    inputs = "".join(f"<p class='inputs'>{html.escape(line)}</p>" for line in inputs_lines(plan)[:2])
    paths = []
    for h in range(plan.layout.halls):
        path = folder / hall_page_name(h)
        path.write_text(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{name}: hall {h + 1}</title>"
            f"<style>{STYLE}</style></head><body><p><a href='report.html'>site report</a> · {index}</p>"
            f"<h1>{name}: hall {h + 1}</h1>{inputs}{HALL_NOTE}{hall_plan_svg(plan, h)}</body></html>",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


HALL_NOTE = (
    "<p>Rows and racks are named as in the cable plan and NetBox (<code>h01-r003-k05</code>: hall 1, row 3, compute "
    "rack 5; <code>n</code> for a network rack). Network racks stand where the planner puts them: leaves in the "
    "network row of their block of compute rows (none longer than a compute row), spines and super-spines in the main "
    "distribution area (MDA) rows in the middle of the hall; the cable lengths are measured between these "
    "positions.</p>"
)


def _diagram_sections(plan: SitePlan) -> str:
    """The fabric by tier and the power one-line (inline SVG), each headed and with its numbers in a sentence."""
    from .diagrams import fabric_svg, fabric_tiers, power_one_line_svg

    tiers = "; ".join(
        f"{t['switches']:,} {t['tier'].replace('_', '-')} switches, {t['links_below']:,} links of {t['gbps']:g} Gb/s "
        "below them"
        for t in fabric_tiers(plan)
    )
    stage = {st.name: st for st in plan.stages}
    chain = ", ".join(
        f"{stage[n].units:,} {n}"
        for n in ("substation", "switchgear", "transformers", "ups", "distribution", "generators")
        if n in stage
    )
    return (
        f"<h2 id='fabric'>Fabric by tier</h2><p>{html.escape(tiers)}.</p>{fabric_svg(plan)}"
        f"<h2 id='power'>Power one-line</h2><p>Installed units: {html.escape(chain)} (stage names as in the site "
        f"file's <code>power</code>).</p>{power_one_line_svg(plan)}"
    )


def _pue_section(plan: SitePlan) -> str:
    """PUE by month and hour: the heatmap (the page's first plotly chart: it loads plotly.js) and its numbers."""
    from ..report.html import figure_html
    from .diagrams import MONTHS, pue_heatmap, pue_month_hour

    table = pue_month_hour(plan)
    worst, best = np.unravel_index(np.argmax(table), table.shape), np.unravel_index(np.argmin(table), table.shape)
    summary = plan.summary()
    return (
        f"<h2 id='pue'>PUE by month and hour</h2><p>Annual PUE {summary['pue']:.3f}; the month-hour means range from "
        f"{table[best]:.3f} ({MONTHS[best[0]]}, {best[1]}:00) to {table[worst]:.3f} ({MONTHS[worst[0]]}, "
        f"{worst[1]}:00); {summary['free_cooling_hours']:,} h a year without trim chillers.</p>"
        f"{figure_html(pue_heatmap(plan))}"
    )


def _stage(name: str, stage) -> str:
    """A power or cooling stage as the site file gives it: part, redundancy, a fixed count or efficiency."""
    extra = "".join(
        f", {label} {value:g}"
        for label, value in (("count", stage.count), ("efficiency", getattr(stage, "efficiency", None)))
        if value
    )
    return f"{name} {stage.part} ({stage.redundancy}{extra})"


def inputs_lines(plan: SitePlan) -> list[str]:
    """The inputs and assumptions behind the site plan, one line each (plain text): the site file and its target;
    the layout; the fabric; the power chain; the cooling plant and the climate the PUE is computed against; the
    economics. The site file's own assumptions and sources follow in :func:`_inputs_section`."""
    site, loaded = plan.loaded.site, plan.loaded
    mix = ", ".join(
        f"{g.design} " + (f"{g.share:.0%} of the power" if g.share is not None else f"{g.racks:,} racks")
        for g in site.target.generations
    )
    built = ", ".join(f"{g.racks:,} {g.name}" for g in plan.generations)
    layout, fabric, power, cooling, money = site.layout, site.fabric, site.power, site.cooling, site.economics
    stages = {
        "substation": power.substation,
        "switchgear": power.switchgear,
        "transformers": power.transformers,
        "UPS": power.ups,
        "distribution": power.distribution,
        "generators": power.generators,
    }
    chain = "; ".join(_stage(name, st) for name, st in stages.items() if st is not None)
    plant = {"pumps": cooling.pump, "trim chillers": cooling.heat_rejection.chiller}
    supply = cooling.facility_supply or "the warmest every rack design accepts"
    return [
        f"Site file {loaded.file or '(in memory)'}: {site.name}"
        + (f", {site.location}" if site.location else "")
        + f". Target {site.target.it_power or 'rack counts'}: {mix}; built: {built} racks.",
        f"Layout: halls of at most {layout.hall_max_it_power} IT, {layout.racks_per_row} racks per row at "
        f"{layout.rack_pitch} pitch, {layout.rack_depth} deep, cold aisle {layout.cold_aisle}, hot aisle "
        f"{layout.hot_aisle}; a CDU row every {layout.compute_rows_per_cdu_row} and a network row every "
        f"{layout.compute_rows_per_network_row} compute rows.",
        f"Fabric: {fabric.switch} switches, {fabric.tiers} tiers at {fabric.link_speed}, "
        f"{'rail-optimised, ' if fabric.rail_optimised else ''}{fabric.rails} rails, {fabric.planes} plane(s), "
        f"oversubscription {' / '.join(f'{o:g}' for o in fabric.oversubscription)}; cable slack "
        f"{fabric.slack:.0%}, drop {fabric.drop}, service loop {fabric.service_loop}.",
        f"Power chain from {power.utility_voltage} at power factor {power.power_factor:g}: {chain}"
        + ("" if power.ups else "; no UPS")
        + ". Each stage's efficiency is its catalog part's unless the site file gives one.",
        f"Cooling and PUE: hourly ambient of the profile {cooling.ambient} (8,760 h) against "
        f"{_stage('heat rejection', cooling.heat_rejection)}; "
        + "; ".join(_stage(name, st) for name, st in plant.items() if st is not None)
        + f"; facility water {supply}, ΔT {cooling.facility_delta_t}; air-cooling fans "
        f"{cooling.air_cooling_fan_share:.0%} and other loads {cooling.misc_load_share:.0%} of IT; IT runs at "
        f"{money.utilisation:.0%} of its rating all year.",
        f"Economics: electricity {money.electricity_usd_per_kwh:g} USD/kWh, building {money.building_usd_per_mw:,.0f} "
        f"USD/MW ({money.building_domestic_share:.0%} US), depreciation {money.depreciation_years_it:g} years (IT) "
        f"and {money.depreciation_years_facility:g} years (facility), maintenance {money.maintenance_share:.0%} a "
        "year.",
    ]


def _inputs_section(plan: SitePlan) -> str:
    """The page's inputs: :func:`inputs_lines`, then the site file's assumptions (each with its reason) and its
    sources (linked)."""
    site = plan.loaded.site
    lines = "".join(f"<li>{html.escape(line)}</li>" for line in inputs_lines(plan))
    assumptions = "".join(
        f"<li><code>{html.escape(key)}</code>: {html.escape(text)}</li>" for key, text in site.assumptions.items()
    )
    sources = "".join(
        f"<li><a href='{html.escape(src.url)}'>{html.escape(src.title)}</a>"
        + (f" ({html.escape(src.date)})" if src.date else "")
        + "</li>"
        for src in site.sources
    )
    return (
        f"<h2 id='inputs'>Inputs and assumptions</h2><ul class='inputs'>{lines}</ul>"
        + (f"<p>The site file's assumptions:</p><ul class='inputs'>{assumptions}</ul>" if assumptions else "")
        + (f"<p>Its sources:</p><ul class='inputs'>{sources}</ul>" if sources else "")
    )


def write_report(plan: SitePlan, folder: Path) -> Path:
    """``report.html``: the headline figures, the violations, the summary table (labelled as ``site plan`` prints
    it) and the power chain by stage, the inputs, the campus overview and hall 1, the fabric by tier and the power
    one-line (inline SVG), PUE by month and hour and the plotly charts (``plotly.min.js`` beside it), and a page per
    hall (``hall-NN.html``) the campus links to."""
    from ..report.folder import write_report_page
    from ..report.html import figure_html, plotly_bundle
    from ..report.jsonout import plain
    from .summary import summary_body

    summary = plain(summary_body(plan.summary()))  # summary.json's names and totals
    violations = (
        "".join(
            f"<li><b>{v.code}</b> {html.escape(v.path)}: {html.escape(v.message)} (fix: {html.escape(v.hint)})</li>"
            for v in plan.violations
        )
        or "<li>none</li>"
    )
    pue = _pue_section(plan)
    chart = figure_html(charts(plan), load_plotly=False)
    plotly_bundle(folder)
    _hall_pages(plan, folder)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(plan.loaded.site.name)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(plan.loaded.site.name)}</h1>{_headline(summary)}"
        f"<h2>Violations</h2><ul>{violations}</ul><h2>Summary</h2>{_summary_table(summary)}"
        f"{_power_chain_table(summary)}{_inputs_section(plan)}<h2>Floor plan</h2>"
        f"{floor_plan_svg(plan)}<p>Each hall opens its own plan to scale (hall-01.html, …).</p>"
        f"<h2 id='hall-1'>Hall 1 to scale</h2>{HALL_NOTE}{hall_plan_svg(plan, 0)}"
        f"{_diagram_sections(plan)}{pue}<h2>Charts</h2>{chart}</body></html>"
    )
    path = folder / "report.html"
    write_report_page(path, page)  # records the command; replacing another command's page warns
    return path
