"""HTML figures of a roadmap (plotly; presentation only): GW by generation, capex, bottlenecks, risk fan."""

from __future__ import annotations


def goal_trace(goal: dict, quarters: list[str]):
    """The goal's GW as a dashed line over the quarters (the roadmap's and the programme's GW charts)."""
    import plotly.graph_objects as go

    gw = goal["it_power_gw"]
    return go.Scatter(
        x=quarters,
        y=[gw] * len(quarters),
        name=f"goal {gw:g} GW by {goal['by']}",
        mode="lines",
        line={"dash": "dash", "color": "black"},
    )


def _build_windows(doc: dict) -> list[tuple[str, str, str, int]]:
    """(generation, first quarter, last quarter, racks) of each generation that builds racks, in plan order."""
    built: dict[str, list] = {}
    for record in doc["racks"]:
        if record["racks"] > 0:
            built.setdefault(record["generation"], []).append(record)
    order = {q: i for i, q in enumerate(doc["quarters"])}
    return [
        (
            generation,
            min((r["quarter"] for r in rows), key=order.__getitem__),
            max((r["quarter"] for r in rows), key=order.__getitem__),
            sum(r["racks"] for r in rows),
        )
        for generation, rows in built.items()
    ]


def _racks_by(doc: dict, records: str, field: str) -> dict[str, list[float]]:
    """Racks built per quarter by site or factory (``records`` is ``racks`` or ``racks_by_factory``)."""
    quarters = doc["quarters"]
    totals: dict[str, list[float]] = {}
    for record in doc[records]:
        series = totals.setdefault(record[field], [0.0] * len(quarters))
        series[quarters.index(record["quarter"])] += record["racks"]
    return totals


def plan_figure(doc: dict):
    """The plan on one page: IT GW by generation with the goal line; a Gantt of each generation's build window;
    racks by site and by factory; factory utilisation as a heatmap; capex by quarter; the binding constraints."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    quarters = doc["quarters"]
    figure = make_subplots(
        rows=7,
        cols=1,
        vertical_spacing=0.045,
        row_heights=[0.2, 0.1, 0.13, 0.13, 0.1, 0.1, 0.24],
        specs=[*([{"type": "xy"}] for _ in range(6)), [{"type": "table"}]],
        subplot_titles=(
            "IT power deployed by generation (GW, cumulative)",
            "Build window of each generation (first to last quarter with racks built)",
            "Racks built per quarter by site",
            "Racks built per quarter by factory",
            "Factory utilisation (%)",
            "Capex by quarter (US$ B)",
            "Binding constraints" if doc["feasible"] else "Shortfalls (goal not met)",
        ),
    )
    for generation, series in doc["gw_by_generation"].items():
        figure.add_trace(
            go.Scatter(x=quarters, y=[series[q] for q in quarters], name=generation, mode="lines", stackgroup="gw"),
            row=1,
            col=1,
        )
    goal = doc["goal"]["it_power_gw"]
    figure.add_trace(goal_trace(doc["goal"], quarters), row=1, col=1)
    for generation, first, last, racks in _build_windows(doc):
        span = quarters[quarters.index(first) : quarters.index(last) + 1]
        figure.add_trace(
            go.Scatter(
                x=span,
                y=[generation] * len(span),
                mode="lines+markers",
                line={"width": 14},
                marker={"size": 14, "symbol": "square"},
                name=f"{generation}: {racks:,} racks, {first}–{last}",
                showlegend=False,
                hovertemplate=f"{generation}: {racks:,} racks built {first}–{last}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    for row, (records, field) in ((3, ("racks", "site")), (4, ("racks_by_factory", "factory"))):
        for name, series in _racks_by(doc, records, field).items():
            figure.add_trace(go.Bar(x=quarters, y=series, name=name, legendgroup=field), row=row, col=1)
    utilisation = doc["factory_utilisation"]
    figure.add_trace(
        go.Heatmap(
            x=quarters,
            y=list(utilisation),
            z=[[100 * by_quarter.get(q, 0.0) for q in quarters] for by_quarter in utilisation.values()],
            zmin=0,
            zmax=100,
            colorscale="Blues",
            colorbar={"title": "%", "len": 0.1, "y": 0.36},
        ),
        row=5,
        col=1,
    )
    capex = doc["capex_usd_by_quarter"]
    figure.add_trace(
        go.Bar(
            x=quarters, y=[capex[q] / 1e9 for q in quarters], name="capex", marker_color="#72b7b2", showlegend=False
        ),
        row=6,
        col=1,
    )
    rows = doc["binding_constraints"]
    figure.add_trace(
        go.Table(
            header={"values": ["constraint", "name", "quarters", "detail"]},
            cells={
                "values": [
                    [r["family"] for r in rows],
                    [r["name"] for r in rows],
                    [", ".join(r.get("quarters", [])) for r in rows],
                    [r["message"] for r in rows],
                ]
            },
            columnwidth=[1, 1.2, 2.5, 4],
        ),
        row=7,
        col=1,
    )
    for row, title in ((1, "GW"), (3, "racks"), (4, "racks"), (6, "US$ B")):
        figure.update_yaxes(title_text=title, row=row, col=1)
    for row in range(1, 7):
        figure.update_xaxes(title_text="quarter", categoryorder="array", categoryarray=quarters, row=row, col=1)
    status = "reaches" if doc["feasible"] else f"MISSES (reaches {doc['deployed_gw']:.2f} GW)"
    figure.update_layout(
        title=f"{doc['roadmap']}: {status} {goal:g} GW by {doc['goal']['by']}", height=2200, barmode="stack"
    )
    return figure


#: Why the risk's median may lie above the plan, printed under the fan chart.
RISK_NOTE = (
    "Why the median can lie above the plan: each sample solves the <i>reach</i> programme, as much IT power as"
    "<br>possible by the goal date, while “roadmap plan” meets the goal and then maximises its own"
    "<br>objective, so it need not deploy more than the goal; samples without bad draws end above it."
)


def _plan_trace(doc: dict, quarters: list[str]) -> list:
    """The deterministic plan's IT power by quarter (``plan_gw_by_quarter``), when the risk document has it."""
    import plotly.graph_objects as go

    plan = doc.get("plan_gw_by_quarter")
    if not plan:
        return []
    return [
        go.Scatter(
            x=quarters,
            y=[plan[q] for q in quarters],
            mode="lines",
            name="plan (roadmap plan)",
            line={"color": "#e45756", "width": 2},
        )
    ]


#: Pixel heights of the risk page's charts (fan, goal date) and the gaps under them for their notes.
RISK_ROWS_PX = (520, 300)
RISK_GAPS_PX = (230, 210)


def risk_figure(doc: dict):
    """The risk page: the fan chart of the IT power deployed by quarter (P10-P90 band, P50) with the deterministic
    plan, when the document has it, and the goal line; the quarter each sample meets the goal (its share per
    quarter, bars, and by each quarter's end, a line); the tornado of the inputs that drive a miss."""
    from plotly.subplots import make_subplots

    quarters = list(doc["gw_by_quarter"])
    bars = doc.get("tornado", [])
    rows_px = (*RISK_ROWS_PX, 80 + 24 * max(len(bars), 1))
    height = sum(rows_px) + sum(RISK_GAPS_PX)
    by = doc["goal"]["by"]
    figure = make_subplots(
        rows=3,
        cols=1,
        row_heights=list(rows_px),
        vertical_spacing=max(RISK_GAPS_PX) / height,
        subplot_titles=(
            "IT power deployed by quarter (GW, cumulative): P10-P90 band, P50, plan and goal",
            "Quarter the goal is met (% of samples)",
            f"What drives a miss: IT power by {by} (GW) with each input in its worst and best decile",
        ),
    )
    for trace in _fan_traces(doc, quarters):
        figure.add_trace(trace, row=1, col=1)
    for trace in _goal_date_traces(doc, quarters):
        figure.add_trace(trace, row=2, col=1)
    for trace in _tornado_traces(doc, bars):
        figure.add_trace(trace, row=3, col=1)
    if bars:
        figure.add_vline(x=doc["gw_by_date"]["mean"], line={"dash": "dot", "color": "black"}, row=3, col=1)
    figure.update_xaxes(title_text="quarter", categoryorder="array", categoryarray=quarters, row=1, col=1)
    figure.update_yaxes(title_text="IT power deployed (GW, cumulative)", row=1, col=1)
    figure.update_xaxes(title_text="quarter the goal is first met", tickangle=-45, row=2, col=1)
    figure.update_yaxes(title_text="samples (%)", ticksuffix=" %", rangemode="tozero", row=2, col=1)
    figure.update_xaxes(title_text=f"IT power deployed by {by} (GW)", row=3, col=1)
    figure.update_yaxes(title_text="uncertain input", autorange="reversed", row=3, col=1)  # largest swing on top
    figure.update_layout(
        title=f"{doc['roadmap']}: IT power deployed, {doc['samples']:,} samples "
        f"(P(goal by {by}) = {doc['p_goal']:.0%})",
        height=height + 120,
        barmode="overlay",
        margin={"b": 140},
        annotations=[
            *figure.layout.annotations,
            _note(RISK_NOTE, 1, 95),
            _note(GOAL_DATE_NOTE, 2, 115),
            _note(_tornado_note(doc), 3, 60),
        ],
    )
    return figure


#: Under the goal-date chart: what its bars and line are.
GOAL_DATE_NOTE = (
    "Bars: the share of samples whose IT power first reaches the goal in each quarter (the last bar: not by the"
    "<br>goal date); line: the share that have reached it by each quarter's end, so its last point is P(goal)."
)


def _note(text: str, row: int, below_px: int) -> dict:
    """A left-aligned sentence ``below_px`` pixels under the x axis of chart ``row``."""
    axis = "" if row == 1 else str(row)
    return {
        "text": text,
        "xref": f"x{axis} domain",
        "yref": f"y{axis} domain",
        "x": 0,
        "y": 0,
        "yshift": -below_px,
        "yanchor": "top",
        "showarrow": False,
        "align": "left",
        "xanchor": "left",
        "font": {"size": 12},
    }


def _tornado_note(doc: dict) -> str:
    deciles = max(doc["samples"] // 10, 1)
    return (
        "Each input's bars end at the mean IT power by the goal date over the samples with that input in its worst"
        f"<br>decile (red) and in its best (blue), about {deciles:,} samples each, drawn from the mean over all samples"
        "<br>(dotted line); largest swing on top: the inputs whose bad draws cost the most GW. From the samples"
        "<br>above, no extra solves; with few samples a decile is noisy."
    )


def _fan_traces(doc: dict, quarters: list[str]) -> list:
    """The P10-P90 band, the P50, the plan (when the document has it) and the goal line."""
    import plotly.graph_objects as go

    level = {p: [doc["gw_by_quarter"][q][p] for q in quarters] for p in ("p10", "p50", "p90")}
    goal = doc["goal"]["it_power_gw"]
    return [
        go.Scatter(
            x=quarters + quarters[::-1],
            y=level["p90"] + level["p10"][::-1],
            fill="toself",
            line={"width": 0},
            fillcolor="rgba(76,120,168,0.25)",
            name="P10-P90",
        ),
        go.Scatter(x=quarters, y=level["p50"], mode="lines+markers", name="P50", line={"color": "#4c78a8"}),
        *_plan_trace(doc, quarters),
        go.Scatter(
            x=quarters,
            y=[goal] * len(quarters),
            mode="lines",
            name=f"goal {goal:g} GW",
            line={"dash": "dash", "color": "black"},
        ),
    ]


def goal_date_shares(doc: dict, quarters: list[str]) -> tuple[list[str], list[float]]:
    """The quarters and "not by" the goal date, with the share of samples (%) that first meet the goal in each
    (the steps of ``p_goal_by_quarter``, the share that have met it by each quarter's end)."""
    met = [doc["p_goal_by_quarter"][q] for q in quarters]
    shares = [b - a for a, b in zip([0.0, *met], met, strict=False)]
    return [*quarters, f"not by {doc['goal']['by']}"], [100 * s for s in [*shares, 1 - met[-1]]]


def _goal_date_traces(doc: dict, quarters: list[str]) -> list:
    import plotly.graph_objects as go

    if "p_goal_by_quarter" not in doc:
        return []
    labels, shares = goal_date_shares(doc, quarters)
    return [
        go.Bar(x=labels, y=shares, name="goal first met in the quarter", marker_color="#72b7b2"),
        go.Scatter(
            x=quarters,
            y=[100 * doc["p_goal_by_quarter"][q] for q in quarters],
            mode="lines+markers",
            name="goal met by the quarter's end",
            line={"color": "#54a24b"},
        ),
    ]


def _tornado_traces(doc: dict, bars: list[dict]) -> list:
    """The worst-decile and best-decile bars of each input, from the mean over all samples."""
    import plotly.graph_objects as go

    mean = doc["gw_by_date"]["mean"] if bars else 0.0
    inputs = [b["input"] for b in bars]
    return [
        go.Bar(
            y=inputs,
            x=[b[end] - mean for b in bars],
            base=mean,
            orientation="h",
            name=name,
            marker_color=colour,
            hovertemplate="%{y}: %{customdata:.3f} GW<extra>" + name + "</extra>",
            customdata=[b[end] for b in bars],
        )
        for end, name, colour in (("low", "worst decile", "#e45756"), ("high", "best decile", "#4c78a8"))
    ]
