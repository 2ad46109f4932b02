"""HTML figures of a roadmap (plotly; presentation only): GW by generation, capex, bottlenecks, risk fan."""

from __future__ import annotations


def plan_figure(doc: dict):
    """Stacked area of IT GW by generation with the goal line, capex by quarter, and the bottleneck table."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    quarters = doc["quarters"]
    figure = make_subplots(
        rows=3,
        cols=1,
        vertical_spacing=0.08,
        row_heights=[0.45, 0.2, 0.35],
        specs=[[{"type": "xy"}], [{"type": "xy"}], [{"type": "table"}]],
        subplot_titles=(
            "IT power deployed by generation (GW, cumulative)",
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
    figure.add_trace(
        go.Scatter(
            x=quarters,
            y=[goal] * len(quarters),
            name=f"goal {goal:g} GW by {doc['goal']['by']}",
            mode="lines",
            line={"dash": "dash", "color": "black"},
        ),
        row=1,
        col=1,
    )
    capex = doc["capex_usd_by_quarter"]
    figure.add_trace(
        go.Bar(
            x=quarters, y=[capex[q] / 1e9 for q in quarters], name="capex", marker_color="#72b7b2", showlegend=False
        ),
        row=2,
        col=1,
    )
    rows = doc["binding_constraints"]
    figure.add_trace(
        go.Table(
            header={"values": ["constraint", "name", "detail"]},
            cells={"values": [[r["family"] for r in rows], [r["name"] for r in rows], [r["message"] for r in rows]]},
        ),
        row=3,
        col=1,
    )
    status = "reaches" if doc["feasible"] else f"MISSES (reaches {doc['deployed_gw']:.2f} GW)"
    figure.update_layout(title=f"{doc['roadmap']}: {status} {goal:g} GW by {doc['goal']['by']}", height=1200)
    return figure


def risk_figure(doc: dict):
    """Fan chart of the IT power deployed by quarter (P10-P90 band, P50) with the goal line."""
    import plotly.graph_objects as go

    quarters = list(doc["gw_by_quarter"])
    level = {p: [doc["gw_by_quarter"][q][p] for q in quarters] for p in ("p10", "p50", "p90")}
    goal = doc["goal"]["it_power_gw"]
    figure = go.Figure(
        [
            go.Scatter(
                x=quarters + quarters[::-1],
                y=level["p90"] + level["p10"][::-1],
                fill="toself",
                line={"width": 0},
                fillcolor="rgba(76,120,168,0.25)",
                name="P10-P90",
            ),
            go.Scatter(x=quarters, y=level["p50"], mode="lines+markers", name="P50", line={"color": "#4c78a8"}),
            go.Scatter(
                x=quarters,
                y=[goal] * len(quarters),
                mode="lines",
                name=f"goal {goal:g} GW",
                line={"dash": "dash", "color": "black"},
            ),
        ]
    )
    figure.update_layout(
        title=f"{doc['roadmap']}: IT power deployed, {doc['samples']:,} samples "
        f"(P(goal by {doc['goal']['by']}) = {doc['p_goal']:.0%})",
        yaxis_title="GW (cumulative)",
    )
    return figure
