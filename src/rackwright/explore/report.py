"""The exploration's HTML report (plotly; ``plotly.min.js`` beside it): the front's headline numbers and
hypervolume, the Pareto scatter, a scatter matrix of three or more objectives, parallel coordinates, feasibility
by rule (code and name), sensitivity bars and a table of the de-duplicated front linked to the exported design
files. Presentation only: it reads an :class:`Exploration`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape
from pathlib import Path
from urllib.parse import quote

import numpy as np

from ..errors import InputError
from ..rack.rules import SUMMARIES
from ..report.present import SHARE, Format, figure_format, row_places
from ..units import pretty_unit
from .evaluate import limit_column, objective_matrix
from .explorer import Exploration
from .pareto import REFERENCE, normalised_hypervolume, tied_groups

#: Feasible designs off the front drawn in the scatter (a uniform sample keeps the page small).
BACKGROUND_POINTS = 4000


def shown_as(exploration: Exploration, key: str) -> Format:
    """How a figure of the exploration is shown: the one table of labels, units and formats
    (:func:`rackwright.report.present.figure_format`, the CLI's too), the training figure named by the workload of
    the space's reference (``objectives[i].reference``)."""
    return figure_format(key, exploration.space.training_reference)


def axis_style(exploration: Exploration, key: str) -> dict:
    """A chart axis of a figure: its label and unit from the figure table; a share drawn in %."""
    shown = shown_as(exploration, key)
    return {"title": {"text": shown.heading}} | ({"tickformat": ".1~%"} if shown.kind == SHARE else {})


def objective_keys(exploration: Exploration) -> list[str]:
    return [o.figure for o in exploration.space.spec.objectives]


def front_groups(exploration: Exploration) -> list[np.ndarray]:
    """Positions in ``exploration.front`` grouped by equal objectives (objective-equivalent designs), groups in
    front order."""
    front = exploration.front
    return tied_groups(np.column_stack([exploration.columns[k][front] for k in objective_keys(exploration)]))


def front_hypervolume(exploration: Exploration) -> float:
    """The front's normalised hypervolume (:func:`rackwright.explore.pareto.normalised_hypervolume`) among the
    feasible designs; 0 where none is feasible."""
    space, columns = exploration.space, exploration.columns
    feasible = np.flatnonzero(columns["feasible"])
    if not len(feasible) or not len(exploration.front):
        return 0.0
    keys = objective_keys(exploration)
    matrix = objective_matrix(space, {k: columns[k][feasible] for k in keys})
    front = objective_matrix(space, {k: columns[k][exploration.front] for k in keys})
    return normalised_hypervolume(front, matrix)


def _background(exploration: Exploration) -> np.ndarray:
    """A uniform sample of the feasible designs off the front (at most :data:`BACKGROUND_POINTS`)."""
    others = np.setdiff1d(np.flatnonzero(exploration.columns["feasible"]), exploration.front)
    if len(others) > BACKGROUND_POINTS:
        others = others[np.linspace(0, len(others) - 1, BACKGROUND_POINTS).astype(int)]
    return others


def _tie_hover(exploration: Exploration, groups: list[np.ndarray]) -> list[str]:
    """Hover text of each group: how many designs, and the first one's axes and objectives (labelled and formatted
    by the figure table)."""
    hover = []
    for group in groups:
        point = exploration.point(int(exploration.front[group[0]]))
        objectives = [(shown_as(exploration, k), v) for k, v in point["objectives"].items()]
        hover.append(
            f"{len(group):,} design(s) with these objectives; the first, #{point['design']}:<br>"
            + "<br>".join(
                [f"{k}: {v}" for k, v in point["axes"].items()] + [f"{f.heading}: {f.value(v)}" for f, v in objectives]
            )
        )
    return hover


def pareto_scatter(exploration: Exploration):
    """First two objectives, coloured by the third; designs with the same objectives drawn once, sized and
    hovered with how many they are; grey: a sample of the other feasible designs."""
    import plotly.graph_objects as go

    objectives = objective_keys(exploration)
    x_key, y_key = objectives[0], objectives[1 % len(objectives)]
    columns, front = exploration.columns, exploration.front
    others = _background(exploration)
    groups = front_groups(exploration)
    shown = front[[int(g[0]) for g in groups]]  # one design per distinct objective vector
    marker: dict = {"size": [8 + 3 * np.log2(len(g)) for g in groups]}
    if len(objectives) > 2:
        marker.update(
            color=columns[objectives[2]][shown],
            colorscale="Viridis",
            showscale=True,
            colorbar={"title": shown_as(exploration, objectives[2]).heading},
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
                text=_tie_hover(exploration, groups),
                hovertemplate="%{text}<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        title=f"Pareto front: {len(groups):,} distinct objective points for {len(front):,} designs "
        f"(ties grouped), of {exploration.designs_feasible:,} feasible designs",
        xaxis=axis_style(exploration, x_key),
        yaxis=axis_style(exploration, y_key),
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},  # clear of the colour bar
    )
    return figure


def scatter_matrix(exploration: Exploration):
    """Every pair of three or more objectives (plotly splom): the de-duplicated front over a grey sample of the
    other feasible designs; each axis labelled with its figure and unit (shares in %)."""
    import plotly.graph_objects as go

    objectives = objective_keys(exploration)
    columns = exploration.columns
    groups = front_groups(exploration)
    shown = exploration.front[[int(g[0]) for g in groups]]
    others = _background(exploration)
    labels = [shown_as(exploration, k).heading for k in objectives]

    def dimensions(rows: np.ndarray) -> list[dict]:
        return [{"label": label, "values": columns[k][rows]} for label, k in zip(labels, objectives, strict=True)]

    figure = go.Figure(
        [
            go.Splom(
                dimensions=dimensions(others),
                name="feasible",
                marker={"color": "lightgrey", "size": 3},
                hoverinfo="skip",
                diagonal_visible=False,
                showupperhalf=False,
            ),
            go.Splom(
                dimensions=dimensions(shown),
                name="Pareto front (distinct points)",
                marker={"color": "#e45756", "size": 7, "line": {"width": 0.5, "color": "white"}},
                text=_tie_hover(exploration, groups),
                hovertemplate="%{text}<extra></extra>",
                diagonal_visible=False,
                showupperhalf=False,
            ),
        ]
    )
    axes = {}
    for i, key in enumerate(objectives, start=1):
        style = axis_style(exploration, key)
        suffix = "" if i == 1 else str(i)
        axes[f"xaxis{suffix}"] = style
        axes[f"yaxis{suffix}"] = style
    size = 260 * len(objectives)
    figure.update_layout(
        title=f"Scatter matrix of the {len(objectives)} objectives: {len(groups):,} distinct Pareto points",
        height=size + 120,
        width=size + 200,
        **axes,
    )
    return figure


def tick_format(shown: Format, values) -> str:
    """The tick format of a parallel-coordinates axis of a figure (d3's, which is Python's format spec for these):
    as many decimals as the figure table gives the row of its range ends (:func:`rackwright.report.present.row_places`,
    so the ends read as in the CLI's tables, not plotly's ``21.06347k``), thousands separated; a share in %;
    3 significant figures where the table writes an end in exponent form."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    places = row_places([float(finite.min()), float(finite.max())] if len(finite) else [], shown.kind)
    if places is None:
        return ".3g"
    return f".{places}%" if shown.kind == SHARE else f",.{places}f"


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
                    "ticktext": [_pretty(label) for label in axis.labels],
                    "range": [0, max(axis.size - 1, 1)],
                }
            )
        else:
            shown = axis.display(values)
            ticks = tick_format(shown_as(exploration, axis.name), shown)
            dimensions.append({"label": axis.name, "values": shown, "tickformat": ticks})
    for objective in exploration.space.spec.objectives:
        shown_objective, values = shown_as(exploration, objective.figure), columns[objective.figure][front]
        dimensions.append(
            {
                "label": f"{shown_objective.heading}, {objective.goal}",
                "values": values,
                "tickformat": tick_format(shown_objective, values),
            }
        )
    first = columns[exploration.space.spec.objectives[0].figure][front]
    figure = go.Figure(
        go.Parcoords(dimensions=dimensions, line={"color": first, "colorscale": "Viridis"}, labelangle=-20)
    )
    figure.update_layout(title="Pareto designs: axes and objectives", margin={"t": 190})
    return figure


def rule_names(exploration: Exploration) -> dict[str, str]:
    """Each rule code or limit of the ``fails.*`` columns with its name: ``THM005: the facility water is warmer
    than the CDU accepts``, ``limit: Input power (kW) ≤ 140``."""
    names = {code: f"{code}: {summary}" for code, summary in SUMMARIES.items()}
    for limit in exploration.space.spec.constraints.limits:
        bounds = [
            f"≥ {limit.min:g}" if limit.min is not None else "",
            f"≤ {limit.max:g}" if limit.max is not None else "",
        ]
        names[limit_column(limit)[len("fails.") :]] = (
            f"limit: {shown_as(exploration, limit.figure).heading} {' and '.join(b for b in bounds if b)}"
        )
    return names


def failed_records(exploration: Exploration) -> list[dict]:
    """The designs each rule or limit rules out, most first, as records: ``code`` (a rule code, or the limit's
    ``fails.*`` column less ``fails.``), ``name`` (the rule's summary; a limit as ``limit: Rack input power (kW)
    ≤ 140``) and ``count``."""
    names = rule_names(exploration)
    return [
        {"code": code, "name": names.get(code, code).removeprefix(f"{code}: "), "count": count}
        for code, count in exploration.failed().items()
    ]


def feasibility_bars(exploration: Exploration):
    """Designs each rule or limit rules out (a design may break several), by code and name."""
    import plotly.graph_objects as go

    failed = {k: v for k, v in exploration.failed().items() if v}
    names = rule_names(exploration)
    labels = [names.get(k, k) for k in failed]
    figure = go.Figure(go.Bar(y=labels, x=list(failed.values()), orientation="h", marker_color="#e45756"))
    figure.update_layout(
        title=f"Feasibility: {exploration.designs_feasible:,} of {exploration.designs_evaluated:,} "
        "designs pass; designs failing each rule or limit",
        xaxis_title="designs ruled out",
        yaxis={"title": {"text": "rule or limit"}, "autorange": "reversed", "automargin": True},
        height=200 + 40 * len(labels),
    )
    return figure


def sensitivity_bars(exploration: Exploration):
    """Total Sobol index of each axis, per objective."""
    import plotly.graph_objects as go

    indices = exploration.sensitivity or {}
    axes = [a.name for a in exploration.space.axes]
    figure = go.Figure(
        [
            go.Bar(name=shown_as(exploration, objective).label, x=axes, y=[(by_axis[a]["total"] or 0.0) for a in axes])
            for objective, by_axis in indices.items()
        ]
    )
    figure.update_layout(
        barmode="group",
        title="Sensitivity: total Sobol index of each axis per objective",
        xaxis_title="axis of the space",
        yaxis_title="total-effect index S_T (–)",
    )
    return figure


#: The page's style: readable tables (printing follows report.html.PRINT_STYLE, which every report page carries).
STYLE = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1400px}"
    "table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top}"
    "th{background:#f2f2f2}td.n{text-align:right;white-space:nowrap}"
)


def headline(exploration: Exploration) -> str:
    """The page's opening numbers: designs evaluated, feasible, on the front, distinct points, hypervolume."""
    groups = front_groups(exploration)
    goals = ", ".join(f"{shown_as(exploration, o.figure).heading}, {o.goal}" for o in exploration.space.spec.objectives)
    return (
        f"{exploration.designs_evaluated:,} designs evaluated, {exploration.designs_feasible:,} feasible, "
        f"{len(exploration.front):,} on the Pareto front as {len(groups):,} distinct objective points. "
        f"Hypervolume {front_hypervolume(exploration):.1%} of the objective box (each objective scaled from its "
        f"best to its worst feasible value, reference point {REFERENCE:g}). Objectives: {goals}."
    )


def _pretty(value) -> str:
    """A value of the space file as the page shows it: a quantity's unit as pint writes it (``48 °C``, not
    ``48 degC``); anything else as written."""
    number, _, unit = str(value).partition(" ")
    return f"{number} {pretty_unit(unit)}" if unit else number


def _axis_values(spec) -> str:
    """An axis as the space file gives its values: a list, a range, a distribution or named variants."""
    if spec.values is not None:
        return ", ".join(_pretty(v) for v in spec.values)
    if spec.range is not None:
        start, stop, step = (_pretty(v) for v in (spec.range.start, spec.range.stop, spec.range.step))
        return f"{start} to {stop} in steps of {step}"
    if spec.distribution is not None:
        low, high = (_pretty(v) for v in spec.distribution.uniform)
        return f"uniform from {low} to {high}"
    return "variants " + ", ".join(spec.variants or {})


def _sampling(exploration: Exploration) -> str:
    sampling = exploration.space.spec.sampling
    if sampling.method == "grid":
        return "grid: every combination of the axes' values"
    if sampling.method == "nsga2":
        return f"NSGA-II, population {sampling.population}, {sampling.generations} generations, seed {sampling.seed}"
    return f"{sampling.method}, {sampling.samples or 'default'} samples, seed {sampling.seed}"


def inputs_lines(exploration: Exploration) -> list[str]:
    """The inputs and assumptions behind the page, one line each (plain text): the space file and its base design;
    the sampling (method, samples, seed); each axis with its values, price changes and assumption; the constraints;
    the sensitivity analysis."""
    space = exploration.space
    spec = space.spec
    lines = [
        f"Space file {space.file}: {spec.name}; base design {spec.base} ({space.base.design.name}).",
        f"Sampling: {_sampling(exploration)}; {exploration.designs_evaluated:,} designs evaluated.",
    ]
    for axis, given in zip(space.axes, spec.axes, strict=True):
        prices = ", ".join(f"{k} {v}" for k, v in given.price_change.items())
        lines.append(
            f"Axis {axis.name}"
            + (f" ({given.path})" if given.path and given.path != axis.name else "")
            + f": {_axis_values(given)}"
            + (f"; price change {prices}" if prices else "")
            + (f"; assumption: {given.assumption}" if given.assumption else "")
            + "."
        )
    names = rule_names(exploration)
    limits = [text for key, text in names.items() if text.startswith("limit: ")]
    rules = "the design rules (errors) must pass" if spec.constraints.rules else "the design rules are not applied"
    lines.append(f"Constraints: {rules}" + "".join(f"; {limit}" for limit in limits) + ".")
    sensitivity = spec.sensitivity
    lines.append(
        f"Sensitivity: total Sobol indices from {sensitivity.samples} base points, seed {sensitivity.seed}."
        if exploration.sensitivity
        else "Sensitivity: not computed for this run."
    )
    return lines


def _file_links(files: list[Path], folder: Path) -> str:
    """Links to design files, relative to the page's folder; more than three fold under a summary."""
    links = " ".join(
        f"<a href='{quote(Path(os.path.relpath(f.resolve(), folder.resolve())).as_posix())}'>{escape(f.name)}</a>"
        for f in files
    )
    return links if len(files) <= 3 else f"<details><summary>{len(files):,} files</summary>{links}</details>"


def front_table(exploration: Exploration, folder: Path, exported: Sequence[Path] = ()) -> str:
    """The de-duplicated front as an HTML table: one row per distinct objective point with the number of designs
    that reach it, its objectives (formatted by the figure table), the first design's axes and, where the designs
    were exported (``exported[k]`` is front position ``k``), links to their files."""
    objectives = exploration.space.spec.objectives
    shown = [shown_as(exploration, o.figure) for o in objectives]
    head = ["point", "designs"] + [f"{f.heading}, {o.goal}" for f, o in zip(shown, objectives, strict=True)]
    head += ["first design: axes"] + (["design files"] if exported else [])
    rows = []
    for k, group in enumerate(front_groups(exploration), start=1):
        point = exploration.point(int(exploration.front[group[0]]))
        cells = [f"<td class='n'>{k:,}</td>", f"<td class='n'>{len(group):,}</td>"]
        cells += [
            f"<td class='n'>{escape(f.value(v))}</td>" for f, v in zip(shown, point["objectives"].values(), strict=True)
        ]
        cells.append(
            f"<td>#{point['design']}: " + escape("; ".join(f"{a} {v}" for a, v in point["axes"].items())) + "</td>"
        )
        if exported:
            cells.append(f"<td>{_file_links([exported[int(i)] for i in group], folder)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table id='front'><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def write_report(exploration: Exploration, path: Path, exported: Sequence[Path] = ()) -> None:
    """One HTML page: headline numbers, the charts and the front's table (linked to ``exported``, the files of
    :func:`rackwright.explore.export.export_pareto`, where given); plotly.js is ``plotly.min.js`` beside it."""
    from ..report.folder import write_report_page
    from ..report.html import figure_html, plotly_bundle

    figures = [pareto_scatter(exploration)]
    if len(exploration.space.spec.objectives) >= 3:
        figures.append(scatter_matrix(exploration))
    figures += [parallel_coordinates(exploration), feasibility_bars(exploration)]
    if exploration.sensitivity:
        figures.append(sensitivity_bars(exploration))
    parts = [figure_html(f, load_plotly=i == 0) for i, f in enumerate(figures)]
    inputs = "".join(f"<li>{escape(line)}</li>" for line in inputs_lines(exploration))
    title = escape(exploration.space.spec.name)
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>{STYLE}</style></head>"
        f"<body><h1>{title}</h1><p class='headline'>{escape(headline(exploration))}</p>"
        f"<h2 id='inputs'>Inputs and assumptions</h2><ul class='inputs'>{inputs}</ul>"
        + "".join(parts)
        + "<h2>The Pareto front, designs with equal objectives grouped</h2>"
        + front_table(exploration, path.parent, exported)
        + "</body></html>"
    )
    try:
        plotly_bundle(path.parent)
        write_report_page(path, page)  # records the command; replacing another command's page warns
    except OSError as exc:
        raise InputError.single(str(path), f"cannot write: {exc}") from None
