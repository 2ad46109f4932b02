"""Site report (presentation only): floor-plan SVG, plotly charts and a self-contained HTML page."""

from __future__ import annotations

import html
from pathlib import Path
from typing import cast

import numpy as np

from .layout import CDU, NETWORK
from .layout import COMPUTE as COMPUTE_ROW
from .planner import SitePlan

WIDTH_PX = 1000.0  # the campus overview is drawn about this wide
HALL_PX_PER_M = 16.0  # the hall plan's scale
COLOURS = {"leaf": "#e45756", "spine": "#f58518", "super_spine": "#b279a2"}
CDU_COLOUR = "#9ecae9"
#: Rack colour by input power: light for the lightest rack of the site, dark for the heaviest.
KW_LOW, KW_HIGH = (254, 230, 138), (153, 27, 27)
COLD, HOT = "#dbeafe", "#fde2e2"


def rack_name(hall: int, row: int, rack: int, kind: str = "k") -> str:
    """A rack's name as the cable plan and NetBox give it (0-based indices in): ``h01-r003-k05`` for the fifth
    compute rack of row 3 of hall 1, ``n`` for a network rack."""
    return f"h{hall + 1:02d}-r{row + 1:03d}-{kind}{rack + 1:02d}"


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


def floor_plan_svg(plan: SitePlan, max_items: int = 60_000) -> str:
    """Campus overview: the halls with their names, compute racks coloured by input power, CDU rows, network racks
    by switch tier, a scale bar (racks sampled above ``max_items``)."""
    grid = plan.grid
    g = plan.layout.geometry
    SCALE = float(np.clip(WIDTH_PX / (grid.columns * (grid.width + g.hall_gap)), 0.5, 20.0))  # px per metre
    width = max((grid.columns * (grid.width + g.hall_gap)) * SCALE, 600)
    rows = int(np.ceil(len(grid.origin_x) / grid.columns))
    height = rows * (grid.depth + g.hall_gap) * SCALE + 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="10">',
        f'<text x="4" y="14">{html.escape(plan.loaded.site.name)}: {plan.layout.racks:,} racks, '
        f"{plan.layout.halls} halls (compute racks coloured by input power, CDU rows blue, network racks by tier)"
        "</text>",
    ]
    for h, (x0, y0) in enumerate(zip(grid.origin_x, grid.origin_y, strict=True)):
        parts.append(
            f'<rect x="{x0 * SCALE:.1f}" y="{y0 * SCALE + 20:.1f}" width="{grid.width * SCALE:.1f}" '
            f'height="{grid.depth * SCALE:.1f}" fill="none" stroke="#333"/>'
            f'<text x="{x0 * SCALE + 2:.1f}" y="{y0 * SCALE + 30:.1f}">hall {h + 1} (h{h + 1:02d})</text>'
        )
    cdu_rows = np.flatnonzero(plan.layout.pattern == CDU)
    strip = g.racks_per_row * g.rack_pitch * SCALE
    for x0, y0 in zip(grid.origin_x, grid.origin_y, strict=True):
        for row in cdu_rows:
            y = y0 + g.cold_aisle / 2 + row * g.row_pitch
            parts.append(
                f'<rect x="{(x0 + g.cold_aisle) * SCALE:.1f}" y="{y * SCALE + 20:.1f}" width="{strip:.1f}" '
                f'height="{g.rack_depth * SCALE:.1f}" fill="{CDU_COLOUR}" opacity="0.6"/>'
            )
    rx, ry = _rack_xy(plan)
    step = max(1, len(rx) // max_items)
    colours, low, high = _kw_colours(_rack_power(plan))
    w, d = g.rack_pitch * SCALE * 0.9, g.rack_depth * SCALE
    for x, y, colour in zip(rx[::step], ry[::step], colours[::step], strict=True):
        parts.append(
            f'<rect x="{(x * SCALE - w / 2):.1f}" y="{(y * SCALE - d / 2 + 20):.1f}" width="{w:.1f}" '
            f'height="{d:.1f}" fill="{colour}"/>'
        )
    positions = _switch_positions(plan)
    if positions:
        seen = set()
        for x, y, role in zip(positions["x"], positions["y"], positions["role"], strict=True):
            key = (round(float(x), 1), round(float(y), 1))
            if key in seen:
                continue
            seen.add(key)
            parts.append(
                f'<rect x="{(x * SCALE - w / 2):.1f}" y="{(y * SCALE - d / 2 + 20):.1f}" width="{w:.1f}" '
                f'height="{d:.1f}" fill="{COLOURS[str(role)]}"/>'
            )
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


def _rack_label(x: float, y: float, text: str, colour: str) -> str:
    """A rack's short name across its depth (rotated: racks are narrower than deep)."""
    return (
        f'<text x="{x + 2:.1f}" y="{y:.1f}" font-size="6" text-anchor="middle" fill="{colour}" '
        f'transform="rotate(-90 {x + 2:.1f} {y:.1f})">{text}</text>'
    )


def hall_plan_svg(plan: SitePlan, hall: int = 0) -> str:
    """One hall to scale: every row named as the cable plan names it (``h01-r003``), compute racks by their
    name's rack part (``k05``) coloured by input power, network racks (``n02``) by switch tier, CDU rows, cold
    and hot aisles, the hall's outline as planned and the extent of what it holds, and a scale bar."""
    g, grid, layout = plan.layout.geometry, plan.grid, plan.layout
    px = HALL_PX_PER_M
    left, top = 110.0, 50.0  # room for the row names and the title
    ox, oy = float(grid.origin_x[hall]), float(grid.origin_y[hall])

    def X(x: float) -> float:
        return left + (x - ox) * px

    def Y(y: float) -> float:
        return top + (y - oy) * px

    width, height = left + grid.width * px + 300, top + grid.depth * px + 90
    mine = np.flatnonzero(layout.hall == hall)
    rx, ry = _rack_xy(plan)
    colours, low, high = _kw_colours(_rack_power(plan))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="9">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">Hall {hall + 1} (h{hall + 1:02d}): {len(mine):,} '
        f"compute racks, {grid.width:.1f} m × {grid.depth:.1f} m as planned</text>",
        f'<rect x="{X(ox):.1f}" y="{Y(oy):.1f}" width="{grid.width * px:.1f}" height="{grid.depth * px:.1f}" '
        'fill="none" stroke="#333" stroke-width="2"/>',
    ]
    rw, rd = g.rack_pitch * px, g.rack_depth * px
    row_x0 = ox + g.cold_aisle
    for r, kind in enumerate(layout.pattern):
        y0 = oy + g.cold_aisle / 2 + r * g.row_pitch
        gap_y, gap = y0 + g.rack_depth, g.row_pitch - g.rack_depth
        if r < len(layout.pattern) - 1:
            hot = r % 2 == 0
            parts.append(
                f'<rect x="{X(ox):.1f}" y="{Y(gap_y):.1f}" width="{grid.width * px:.1f}" height="{gap * px:.1f}" '
                f'fill="{HOT if hot else COLD}"/><text x="{X(ox) + grid.width * px + 4:.1f}" '
                f'y="{Y(gap_y + gap / 2) + 3:.1f}" fill="#777">{"hot" if hot else "cold"} aisle</text>'
            )
        name = f"h{hall + 1:02d}-r{r + 1:03d}"
        label = {COMPUTE_ROW: name, CDU: f"{name} CDU", NETWORK: f"{name} net"}[int(kind)]
        parts.append(f'<text x="4" y="{Y(y0) + rd / 2 + 3:.1f}">{label}</text>')
        if kind == CDU:
            parts.append(
                f'<rect x="{X(row_x0):.1f}" y="{Y(y0):.1f}" width="{g.racks_per_row * rw:.1f}" height="{rd:.1f}" '
                f'fill="{CDU_COLOUR}"/><text x="{X(row_x0) + 4:.1f}" y="{Y(y0) + rd / 2 + 3:.1f}">CDUs</text>'
            )
    for i in mine:
        x, y = float(rx[i]), float(ry[i])
        parts.append(
            f'<rect x="{X(x) - rw / 2 + 0.5:.1f}" y="{Y(y) - rd / 2:.1f}" width="{rw - 1:.1f}" height="{rd:.1f}" '
            f'fill="{colours[i]}"><title>{rack_name(hall, int(layout.row[i]), int(layout.position[i]))}</title></rect>'
            + _rack_label(X(x), Y(y), f"k{int(layout.position[i]) + 1:02d}", "#000")
        )
    extent_x = [float(rx[i]) for i in mine]
    positions = _switch_positions(plan)
    if positions:
        here = np.flatnonzero(np.asarray(positions["hall"]) == hall)
        seen: set[tuple[int, int]] = set()
        for j in here:
            key = (int(positions["row"][j]), int(positions["rack"][j]))
            if key in seen:
                continue
            seen.add(key)
            x, y = float(positions["x"][j]), float(positions["y"][j])
            extent_x.append(x)
            parts.append(
                f'<rect x="{X(x) - rw / 2 + 0.5:.1f}" y="{Y(y) - rd / 2:.1f}" width="{rw - 1:.1f}" height="{rd:.1f}" '
                f'fill="{COLOURS[str(positions["role"][j])]}"><title>{rack_name(hall, *key, kind="n")}</title></rect>'
                + _rack_label(X(x), Y(y), f"n{key[1] + 1:02d}", "#fff")
            )
    right = max(extent_x, default=ox) + g.rack_pitch / 2 + g.cold_aisle
    if right < ox + grid.width - g.rack_pitch:  # the hall as planned is wider than what it holds
        parts.append(
            f'<rect x="{X(ox):.1f}" y="{Y(oy):.1f}" width="{(right - ox) * px:.1f}" height="{grid.depth * px:.1f}" '
            'fill="none" stroke="#2563eb" stroke-dasharray="6 4"/>'
            f'<text x="{X(right) + 4:.1f}" y="{Y(oy) + 12:.1f}" fill="#2563eb">racks end here: '
            f"{right - ox:.1f} m of the hall's {grid.width:.1f} m</text>"
        )
    base = top + grid.depth * px + 30
    parts.append(_scale_bar(left, base, px, 10.0))
    parts.append(_kw_legend(left + 220, base - 8, low, high, f"kw-hall-{hall + 1}"))
    parts.append("</svg>")
    return "\n".join(parts)


def charts(plan: SitePlan):
    """Hourly PUE against ambient, capex by category, cable length by medium (plotly)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

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
    hours = np.arange(1, len(pue) + 1)
    figure.add_trace(go.Scatter(x=hours, y=pue, name="PUE", line={"color": "#4c78a8"}), row=1, col=1)
    figure.add_trace(
        go.Scatter(x=hours, y=hourly["ambient_k"] - 273.15, name="ambient °C", line={"color": "#e45756", "width": 1}),
        row=1,
        col=1,
        secondary_y=True,
    )
    capex = summary["capex_usd"]
    figure.add_trace(go.Bar(x=list(capex), y=list(capex.values()), name="capex", marker_color="#72b7b2"), row=2, col=1)
    length = summary["cable_length_km"]
    figure.add_trace(
        go.Bar(x=list(length), y=list(length.values()), name="cable km", marker_color="#f58518"), row=3, col=1
    )
    figure.update_layout(title=plan.loaded.site.name, height=1100, showlegend=False)
    return figure


STYLE = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse}"
    "td{border-bottom:1px solid #ddd;padding:3px 10px;vertical-align:top}td.n{text-align:right;white-space:nowrap}"
)
#: Units of the summary's keys, by the key's ending (summary.json writes the unit into the name).
SUMMARY_UNITS = (
    ("_usd_per_year", "USD/year"),
    ("_m3_per_year", "m³/year"),
    ("_l_per_kwh", "L/kWh"),
    ("_usd", "USD"),
    ("_gwh", "GWh"),
    ("_mw", "MW"),
    ("_km", "km"),
    ("_m2", "m²"),
    ("_share", "%"),
)


def _summary_row(key: str, value) -> str:
    """A row of the summary table: the key as a label with its unit, numbers formatted as the CLI tables are,
    a mapping as one line per entry (not a Python dict)."""
    from ..report.present import MONEY, QUANTITY, SHARE, format_value

    unit = next((u for ending, u in SUMMARY_UNITS if key.endswith(ending)), "")
    kind = SHARE if unit == "%" else MONEY if "USD" in unit else QUANTITY
    ending = next((e for e, u in SUMMARY_UNITS if u == unit and u != "%"), "")
    label = key.removesuffix(ending).replace("_", " ")

    def cell(v) -> str:
        if isinstance(v, dict):
            return "<br>".join(f"{html.escape(str(k))}: {cell(x)}" for k, x in v.items())
        return html.escape(format_value(v, kind) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))

    return f"<tr><td>{html.escape(label)}</td><td>{html.escape(unit)}</td><td class='n'>{cell(value)}</td></tr>"


def write_report(plan: SitePlan, folder: Path) -> Path:
    """``report.html``: summary table, floor plan (inline SVG) and the plotly charts (``plotly.min.js`` beside it)."""
    from ..report.html import figure_html, plotly_bundle

    summary = plan.summary()
    rows = "".join(_summary_row(k, v) for k, v in summary.items() if k not in ("fabric", "violations"))
    violations = (
        "".join(
            f"<li><b>{v.code}</b> {html.escape(v.path)}: {html.escape(v.message)} (fix: {html.escape(v.hint)})</li>"
            for v in plan.violations
        )
        or "<li>none</li>"
    )
    chart = figure_html(charts(plan))
    plotly_bundle(folder)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(plan.loaded.site.name)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(plan.loaded.site.name)}</h1><h2>Violations</h2>"
        f"<ul>{violations}</ul><h2>Summary</h2><table>{rows}</table><h2>Floor plan</h2>"
        f"{floor_plan_svg(plan)}<h2>Hall 1 to scale</h2><p>Rows and racks are named as in the cable plan and NetBox "
        "(<code>h01-r003-k05</code>: hall 1, row 3, compute rack 5; <code>n</code> for a network rack); the other "
        f"halls are laid out alike.</p>{hall_plan_svg(plan, 0)}<h2>Charts</h2>{chart}</body></html>"
    )
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
