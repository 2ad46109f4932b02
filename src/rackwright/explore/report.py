"""The exploration's HTML report (plotly, self-contained): Pareto scatter, parallel coordinates,
feasibility by rule and sensitivity bars. Presentation only: it reads an :class:`Exploration`."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..report.present import SHARE, figure_format
from .explorer import Exploration

#: Feasible designs off the front drawn in the scatter (a uniform sample keeps the page small).
BACKGROUND_POINTS = 4000


def axis_style(key: str) -> dict:
    """A chart axis of a figure: its label and unit from the figure table; a share drawn in %."""
    shown = figure_format(key)
    return {"title": {"text": shown.heading}} | ({"tickformat": ".0%"} if shown.kind == SHARE else {})


def pareto_scatter(exploration: Exploration):
    """First two objectives, coloured by the third; designs with the same objectives drawn once, sized and
    hovered with how many they are; grey: a sample of the other feasible designs."""
    import plotly.graph_objects as go

    objectives = [o.figure for o in exploration.space.spec.objectives]
    x_key, y_key = objectives[0], objectives[1 % len(objectives)]
    columns, front = exploration.columns, exploration.front
    others = np.setdiff1d(np.flatnonzero(columns["feasible"]), front)
    if len(others) > BACKGROUND_POINTS:
        others = others[np.linspace(0, len(others) - 1, BACKGROUND_POINTS).astype(int)]
    values = np.column_stack([columns[key][front] for key in objectives])
    _, first, counts = np.unique(values, axis=0, return_index=True, return_counts=True)
    order = np.sort(first)  # front order, one design per distinct objective vector
    ties = dict(zip(first, counts, strict=True))
    pareto = exploration.pareto()
    hover = [
        f"{ties[i]:,} design(s) with these objectives; the first:<br>"
        + "<br>".join(f"{k}: {v}" for k, v in {**pareto[i]["axes"], **pareto[i]["objectives"]}.items())
        for i in order
    ]
    shown = front[order]
    marker: dict = {"size": [8 + 3 * np.log2(ties[i]) for i in order]}
    if len(objectives) > 2:
        marker.update(
            color=columns[objectives[2]][shown],
            colorscale="Viridis",
            showscale=True,
            colorbar={"title": figure_format(objectives[2]).heading},
        )
    figure = go.Figure(
        [
            go.Scattergl(
                x=columns[x_key][others],
                y=columns[y_key][others],
                mode="markers",
                name="feasible",
                marker={"color": "lightgrey", "size": 4},
                hoverinfo="skip",
            ),
            go.Scatter(
                x=columns[x_key][shown],
                y=columns[y_key][shown],
                mode="markers",
                name="Pareto front (size: designs tied)",
                marker=marker,
                text=hover,
                hovertemplate="%{text}<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        title=f"Pareto front: {len(order):,} distinct objective points for {len(front):,} designs "
        f"(ties grouped), of {exploration.designs_feasible:,} feasible designs",
        xaxis=axis_style(x_key),
        yaxis=axis_style(y_key),
    )
    return figure


def parallel_coordinates(exploration: Exploration):
    """The Pareto designs across every axis and objective."""
    import plotly.graph_objects as go

    columns, front = exploration.columns, exploration.front
    dimensions = []
    for axis in exploration.space.axes:
        values = columns[axis.name][front]
        if axis.discrete:
            dimensions.append(
                {
                    "label": axis.name,
                    "values": values,
                    "tickvals": list(range(axis.size)),
                    "ticktext": axis.labels,
                    "range": [0, max(axis.size - 1, 1)],
                }
            )
        else:
            dimensions.append({"label": axis.name, "values": axis.display(values)})
    for objective in exploration.space.spec.objectives:
        dimensions.append(
            {"label": f"{objective.figure} ({objective.goal})", "values": columns[objective.figure][front]}
        )
    first = columns[exploration.space.spec.objectives[0].figure][front]
    figure = go.Figure(go.Parcoords(dimensions=dimensions, line={"color": first, "colorscale": "Viridis"}))
    figure.update_layout(title="Pareto designs: axes and objectives")
    return figure


def feasibility_bars(exploration: Exploration):
    """Designs each rule or limit rules out (a design may break several)."""
    import plotly.graph_objects as go

    failed = {k: v for k, v in exploration.failed().items() if v}
    figure = go.Figure(go.Bar(x=list(failed), y=list(failed.values()), marker_color="#e45756"))
    figure.update_layout(
        title=f"Feasibility: {exploration.designs_feasible:,} of {exploration.designs_evaluated:,} "
        "designs pass; designs failing each rule or limit",
        yaxis_title="designs",
    )
    return figure


def sensitivity_bars(exploration: Exploration):
    """Total Sobol index of each axis, per objective."""
    import plotly.graph_objects as go

    indices = exploration.sensitivity or {}
    axes = [a.name for a in exploration.space.axes]
    figure = go.Figure(
        [
            go.Bar(name=objective, x=axes, y=[(by_axis[a]["total"] or 0.0) for a in axes])
            for objective, by_axis in indices.items()
        ]
    )
    figure.update_layout(
        barmode="group",
        title="Sensitivity: total Sobol index of each axis per objective",
        yaxis_title="total-effect index S_T",
    )
    return figure


def write_report(exploration: Exploration, path: Path) -> None:
    """One HTML page with the four charts; plotly.js is ``plotly.min.js`` beside it."""
    from ..report.html import figure_html, plotly_bundle

    figures = [pareto_scatter(exploration), parallel_coordinates(exploration), feasibility_bars(exploration)]
    if exploration.sensitivity:
        figures.append(sensitivity_bars(exploration))
    parts = [figure_html(f, load_plotly=i == 0) for i, f in enumerate(figures)]
    title = escape(exploration.space.spec.name)
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<h1>{title}</h1>" + "".join(parts) + "</body></html>"
    )
    try:
        plotly_bundle(path.parent)
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InputError.single(str(path), f"cannot write: {exc}") from None
