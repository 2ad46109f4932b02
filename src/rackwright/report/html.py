"""HTML reports with plotly charts (presentation only): factory runs, bills of materials, fleet reliability.

Every page of an output folder loads one ``plotly.min.js`` beside it (:func:`plotly_bundle`), instead of
4.6 MB of plotly.js inlined in each page; a folder opens offline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .present import MONEY, SHARE, format_value


def factory_figure(result, title: str):
    """Weekly output with its 5-95 % band across replications, station utilisation, cycle-time histogram."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    weekly = np.array([r.weekly for r in result.replications])  # replications × weeks
    weeks = np.arange(1, weekly.shape[1] + 1)
    low, mean, high = np.percentile(weekly, 5, axis=0), weekly.mean(axis=0), np.percentile(weekly, 95, axis=0)
    stations = [s.id for s in result.plan.line.stations]
    utilisation = np.mean([r.utilisation for r in result.replications], axis=0)
    cycle_hours = np.concatenate([r.cycle_times for r in result.replications])  # the simulation clock is in hours
    figure = make_subplots(
        rows=3,
        cols=1,
        vertical_spacing=0.1,
        subplot_titles=("Racks shipped per week (mean, 5-95 % band)", "Station utilisation", "Cycle time (hours)"),
    )
    figure.add_trace(
        go.Scatter(
            x=np.r_[weeks, weeks[::-1]],
            y=np.r_[high, low[::-1]],
            fill="toself",
            line={"width": 0},
            fillcolor="rgba(76,120,168,0.25)",
            name="5-95 %",
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(x=weeks, y=mean, mode="lines+markers", name="mean", line={"color": "#4c78a8"}), row=1, col=1
    )
    figure.add_trace(go.Bar(x=stations, y=utilisation, name="utilisation", marker_color="#e45756"), row=2, col=1)
    figure.add_trace(go.Histogram(x=cycle_hours, nbinsx=40, name="cycle time", marker_color="#72b7b2"), row=3, col=1)
    busiest = int(np.argmax(utilisation))
    headline = (
        f"{format_value(float(mean.mean()))} racks shipped per week (mean over weeks and replications); "
        f"busiest station {stations[busiest]} at {format_value(float(utilisation[busiest]), SHARE)}; "
        f"median cycle time {format_value(float(np.median(cycle_hours)))} h"
    )
    figure.update_layout(title=f"{title}<br><sup>{headline}</sup>", height=1000, showlegend=False)
    figure.update_xaxes(title_text="week", row=1, col=1)
    figure.update_yaxes(title_text="racks shipped per week", row=1, col=1)
    figure.update_xaxes(title_text="station", row=2, col=1)
    figure.update_yaxes(title_text="utilisation (%)", range=[0, 1.05], tickformat=".0%", row=2, col=1)
    figure.update_xaxes(title_text="cycle time (h)", row=3, col=1)
    figure.update_yaxes(title_text="racks", row=3, col=1)
    return figure


def bom_figure(doc: dict):
    """BOM cost by category, split by country of manufacture (stacked bars)."""
    import plotly.graph_objects as go

    cost: dict[str, dict[str, float]] = {}
    for line in doc["lines"]:
        cost.setdefault(line["made_in"], {}).setdefault(line["category"], 0.0)
        cost[line["made_in"]][line["category"]] += line["extended_usd"] / doc["racks"]
    categories = list(doc["us_share_by_category"])
    figure = go.Figure(
        [
            go.Bar(name=origin, x=categories, y=[by.get(c, 0.0) for c in categories])
            for origin, by in sorted(cost.items(), key=lambda kv: -sum(kv[1].values()))
        ]
    )
    figure.update_layout(
        barmode="stack",
        title=f"{doc['design']}: cost per rack by category and country of manufacture "
        f"({format_value(doc['usd_per_rack'], MONEY)} USD per rack, US content {format_value(doc['us_share'], SHARE)}, "
        f"rule {doc['us_rule']['name']})",
        xaxis_title="category",
        yaxis_title="cost per rack (USD)",
        legend_title="made in",
    )
    return figure


#: plotly.js, written once per output folder beside the pages that load it.
PLOTLY_BUNDLE = "plotly.min.js"


def plotly_bundle(folder: Path) -> Path:
    """``folder/plotly.min.js``, the plotly.js the pages of the folder load (no network needed to view them),
    written where it is missing or another plotly version's."""
    from plotly.offline import get_plotlyjs

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PLOTLY_BUNDLE
    bundle = get_plotlyjs().encode("utf-8")
    if not path.is_file() or path.stat().st_size != len(bundle) or path.read_bytes() != bundle:
        path.write_bytes(bundle)
    return path


def figure_html(figure, *, load_plotly: bool = True) -> str:
    """A chart as an HTML fragment for a page whose folder holds :func:`plotly_bundle`; the page's first chart
    loads plotly.js (``load_plotly``), the others use it."""
    return figure.to_html(full_html=False, include_plotlyjs="directory" if load_plotly else False)


def write_html(figure, path: Path) -> None:
    """Write a page with one chart, loading plotly.js from ``plotly.min.js`` beside it (written once per folder)."""
    plotly_bundle(path.parent)
    figure.write_html(str(path), include_plotlyjs="directory")


def reliability_figure(curves: dict[str, tuple], job: dict):
    """Goodput against job size for each generation, and the job's interruptions per day by cause."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.15,
        subplot_titles=(
            "Goodput vs job size",
            f"Interruptions per day by cause ({job['accelerators']:,} accelerators, {job['design']})",
        ),
    )
    for name, (sizes, goodput) in curves.items():
        figure.add_trace(go.Scatter(x=sizes, y=goodput, mode="lines+markers", name=name), row=1, col=1)
    causes = sorted(job["by_cause"].items(), key=lambda kv: -kv[1]["interruptions_per_day"])
    figure.add_trace(
        go.Bar(
            x=[k for k, _ in causes],
            y=[c["interruptions_per_day"] for _, c in causes],
            name="interruptions/day",
            marker_color="#e45756",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    figure.update_xaxes(type="log", title_text="accelerators in the job", row=1, col=1)
    figure.update_yaxes(title_text="goodput (%)", tickformat=".0%", row=1, col=1)
    figure.update_xaxes(title_text="cause", row=2, col=1)
    figure.update_yaxes(title_text="interruptions per day", row=2, col=1)
    headline = (
        f"{job['design']}, {job['accelerators']:,} accelerators: goodput {format_value(job['goodput'], SHARE)}, "
        f"{format_value(job['interruptions_per_day'])} interruptions per day (one every "
        f"{format_value(job['mtbi_h'])} h), checkpoint every {format_value(job['checkpoint_interval_min'])} min"
    )
    figure.update_layout(height=900, title=f"Fleet reliability<br><sup>{headline}</sup>")
    return figure
