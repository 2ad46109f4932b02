"""Site report (presentation only): floor-plan SVG, plotly charts and a self-contained HTML page."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from .layout import CDU
from .planner import SitePlan

WIDTH_PX = 1000.0  # the floor plan is drawn about this wide
COLOURS = {"leaf": "#e45756", "spine": "#f58518", "super_spine": "#b279a2"}
CDU_COLOUR = "#9ecae9"


def floor_plan_svg(plan: SitePlan, max_items: int = 60_000) -> str:
    """Plan view of the halls: CDU rows, compute racks by generation, network racks by switch tier (racks
    sampled above ``max_items``)."""
    grid = plan.grid
    g = plan.layout.geometry
    SCALE = float(np.clip(WIDTH_PX / (grid.columns * (grid.width + g.hall_gap)), 0.5, 20.0))  # px per metre
    width = max((grid.columns * (grid.width + g.hall_gap)) * SCALE, 600)
    rows = int(np.ceil(len(grid.origin_x) / grid.columns))
    height = rows * (grid.depth + g.hall_gap) * SCALE + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="10">',
        f'<text x="4" y="14">{html.escape(plan.loaded.site.name)}: {plan.layout.racks:,} racks, '
        f"{plan.layout.halls} halls (compute racks grey by generation, CDU rows blue, network racks by tier)</text>",
    ]
    for h, (x0, y0) in enumerate(zip(grid.origin_x, grid.origin_y, strict=True)):
        parts.append(
            f'<rect x="{x0 * SCALE:.1f}" y="{y0 * SCALE + 20:.1f}" width="{grid.width * SCALE:.1f}" '
            f'height="{grid.depth * SCALE:.1f}" fill="none" stroke="#333"/>'
            f'<text x="{x0 * SCALE + 2:.1f}" y="{y0 * SCALE + 30:.1f}">hall {h + 1}</text>'
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
    rx, ry = plan.rack_xy
    step = max(1, len(rx) // max_items)
    generation = np.repeat(np.arange(len(plan.generations)), [gen.racks for gen in plan.generations])
    shades = ["#9e9e9e", "#616161", "#bdbdbd", "#424242"]
    w, d = g.rack_pitch * SCALE * 0.9, g.rack_depth * SCALE
    for x, y, gen in zip(rx[::step], ry[::step], generation[::step], strict=True):
        parts.append(
            f'<rect x="{(x * SCALE - w / 2):.1f}" y="{(y * SCALE - d / 2 + 20):.1f}" width="{w:.1f}" '
            f'height="{d:.1f}" fill="{shades[gen % len(shades)]}"/>'
        )
    positions = plan.switch_positions
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
    legend = [("compute rack", shades[0]), ("CDU row", CDU_COLOUR)] + [
        (role.replace("_", "-") + " switches", colour) for role, colour in COLOURS.items()
    ]
    for i, (label, colour) in enumerate(legend):
        parts.append(
            f'<rect x="{4 + i * 140}" y="{height - 12:.0f}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{18 + i * 140}" y="{height - 3:.0f}">{label}</text>'
        )
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


def write_report(plan: SitePlan, folder: Path) -> Path:
    """``report.html``: summary table, floor plan (inline SVG) and the plotly charts (``plotly.min.js`` beside it)."""
    from ..report.html import figure_html, plotly_bundle

    summary = plan.summary()
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in summary.items()
        if k not in ("fabric", "violations")
    )
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
        f"</head><body><h1>{html.escape(plan.loaded.site.name)}</h1><h2>Violations</h2><ul>{violations}</ul>"
        f"<h2>Summary</h2><table border='1' cellpadding='3'>{rows}</table><h2>Floor plan</h2>"
        f"{floor_plan_svg(plan)}<h2>Charts</h2>{chart}</body></html>"
    )
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
