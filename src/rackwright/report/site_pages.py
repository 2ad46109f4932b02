"""The report page of ``site cables -o DIR`` (plotly; presentation only).

The page opens with the headline the terminal's table adds up to (cables, total length, by medium), formatted
by :mod:`rackwright.report.present` as ``site plan`` shows its links and cable length, then the plan it read,
then the cables and the cable length of each fabric tier stacked by medium, every axis titled with its unit. It
takes the command's document (``site cables --json``, docs/json.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .html import headline_layout
from .present import QUANTITY, Format, figure_format

#: How ``site cables`` shows its figures: the cables (one per link) and their length as ``site plan``'s summary
#: shows its links and cable length (report.present.SITE), the longest cable as a length in metres.
CABLES, LENGTH = figure_format("site.links"), figure_format("site.cable_length_km")
LONGEST = Format("Longest cable", "m", QUANTITY)
#: The fabric's tiers by their number in the cable plan (docs/site.md, Wiring and cables).
TIER_NAMES = {1: "1: NIC–leaf", 2: "2: leaf–spine", 3: "3: spine–super-spine"}


def cables_headline(doc: dict) -> str:
    """``12,345 cables, 678 km; by medium: aoc 1,000 (12.3 km), ...``."""
    count, length = CABLES, LENGTH
    media = ", ".join(
        f"{m['media']} {count.value(m['cables'])} ({length.value(m['cable_length_km'])} {length.unit})"
        for m in doc["media"]
    )
    return f"{count.value(doc['cables'])} cables, {length.value(doc['cable_length_km'])} {length.unit}" + (
        f"; by medium: {media}" if media else ""
    )


def cables_figure(doc: dict, inputs: Sequence[str] = ()):
    """``site cables``' page: the cables (one per link) per fabric tier and their length (km) per tier, both stacked by
    medium (one colour each)."""
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    count, length = CABLES, LENGTH
    tiers = list(dict.fromkeys(r["tier"] for r in doc["totals"]))
    names = [TIER_NAMES.get(t, f"tier {t}") for t in tiers]
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=("Cables (links) per fabric tier, by medium", "Cable length per fabric tier, by medium"),
    )
    for n, m in enumerate(doc["media"]):
        rows = {r["tier"]: r for r in doc["totals"] if r["media"] == m["media"]}
        for column, (key, scale) in enumerate((("cables", 1.0), ("length_m", 1e-3)), start=1):
            values = [rows[t][key] * scale if t in rows else None for t in tiers]
            shown = count if key == "cables" else length
            figure.add_trace(
                go.Bar(
                    x=names,
                    y=values,
                    name=str(m["media"]),
                    legendgroup=str(m["media"]),
                    marker_color=qualitative.Plotly[n % len(qualitative.Plotly)],  # one colour per medium in both
                    showlegend=column == 1,
                    text=[shown.value(v) if v is not None else "" for v in values],
                    textposition="inside",
                ),
                row=1,
                col=column,
            )
    title = f"Cable plan of {doc['plan']}"
    lines = [f"Plan folder: {doc['plan']} (cables.parquet, written by `rackwright site plan`).", *inputs]
    layout = headline_layout(escape(title), escape(cables_headline(doc)), [escape(line) for line in lines])
    figure.update_layout(**layout, height=620, barmode="stack", legend_title_text="medium")
    for column, shown in enumerate((count, length), start=1):
        figure.update_xaxes(title_text="fabric tier (links between)", type="category", row=1, col=column)
        figure.update_yaxes(title_text=shown.heading, row=1, col=column)
    return figure
