"""The programme dashboard (plotly; presentation only): GW and delivered compute against the goal, US content,
capex and energy, fleet failures, the sites' spare pools, the generations' figures and the roadmap's binding
constraints."""

from __future__ import annotations

from html import escape

from ..report.html import TITLE_PX, headline_layout
from ..report.present import SHARE, headline_format
from ..roadmap.report import goal_trace

#: The title of each chart's own legend, by row of the dashboard (the tables below have none).
LEGENDS = ("IT power", "timeline", "compute", "US content", "US$ B", "failures", "spares by site", "site plant")
#: The titles of each chart's axes (x, y) with their units, by row of the dashboard.
AXES = (
    ("quarter", "IT power (GW, cumulative)"),
    ("date", "generation, site or line"),
    ("quarter", "compute (EFLOP/s)"),
    ("quarter", "share of rack value (%)"),
    ("quarter", "US$ B (per quarter; energy per year)"),
    ("quarter", "part failures/year"),
    ("quarter", "spare pool value (US$ M)"),
    ("quarter", "units (cumulative)"),
)

#: The site plant series charted by quarter (planned sites' units installed, :data:`.plan.SITE_SERIES`): name,
#: label and colour.
PLANT = (
    ("site_transformers", "MV/LV transformers", "#e45756"),
    ("site_cdus", "CDUs", "#4c78a8"),
    ("site_heat_rejection_units", "heat rejection units", "#54a24b"),
    ("site_chillers", "chillers", "#b279a2"),
)
#: The site supply check's kinds charted beside the plant (delivered, and needed by the racks and the site plans),
#: each in the colour of its plant series.
PLANT_SUPPLY = {"transformer": "site_transformers", "cdu": "site_cdus"}


def _values(doc: dict, name: str, generation: str | None = None) -> list:
    return next(s["values"] for s in doc["series"] if s["name"] == name and s.get("generation") == generation)


def dashboard(doc: dict):
    """One page of the programme document ``doc`` (:func:`rackwright.programme.plan.programme_document`)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    quarters = doc["quarters"]
    figure = make_subplots(
        rows=11,
        cols=1,
        vertical_spacing=0.025,
        row_heights=[0.15, 0.1, 0.12, 0.075, 0.085, 0.075, 0.075, 0.1, 0.06, 0.095, 0.15],
        specs=[[{"type": "xy"}]] * 8 + [[{"type": "table"}]] * 3,
        subplot_titles=(
            "IT power deployed by generation (GW, cumulative) against the goal",
            "Generations (first ship to end of builds), sites (from first power) and lines (from their start)",
            "Delivered training compute (EFLOP/s: model FLOPs × goodput of the reference job) and peak",
            "US content (share of rack value)",
            "Capex and tariffs by quarter (US$ B) and yearly energy bill at quarter end (US$ B/year)",
            "Part failures per year in the deployed fleet",
            "Spares: value of each site's spare pool for the racks deployed by the quarter's end (US$ M)",
            "Site plant installed by quarter's end (planned sites) and the supply it is checked against (units)",
            "Generations: the reference job on each",
            "First ship: each generation's earliest first rack from its parts' lead times (sourcing build-date)",
            "Binding constraints of the roadmap" if doc["feasible"] else "Shortfalls (goal not met)",
        ),
    )
    for g in doc["generations"]:
        figure.add_trace(
            go.Scatter(x=quarters, y=_values(doc, "it_power", g["id"]), name=g["id"], stackgroup="gw", mode="lines"),
            row=1,
            col=1,
        )
    goal = doc["goal"]["it_power_gw"]
    figure.add_trace(goal_trace(doc["goal"], quarters), row=1, col=1)
    if "risk" in doc:
        band = {row["name"]: row["values"] for row in doc["risk"]["series"]}
        figure.add_trace(
            go.Scatter(
                x=quarters + quarters[::-1],
                y=band["it_power_p90"] + band["it_power_p10"][::-1],
                fill="toself",
                line={"width": 0},
                fillcolor="rgba(0,0,0,0.12)",
                name=f"P10-P90 over {doc['risk']['samples']:,} samples",
            ),
            row=1,
            col=1,
        )
    _gantt(figure, doc["timeline"], row=2)
    for name, label, dash in (("delivered_training_compute", "delivered", None), ("peak_compute", "peak", "dot")):
        figure.add_trace(
            go.Scatter(x=quarters, y=_values(doc, name), name=label, mode="lines+markers", line={"dash": dash}),
            row=3,
            col=1,
        )
    for name, label in (("us_integrated_share", "built in US factories"), ("us_content_share", "BOM US content")):
        figure.add_trace(go.Scatter(x=quarters, y=_values(doc, name), name=label, mode="lines+markers"), row=4, col=1)
    billions = lambda name: [None if v is None else v / 1e9 for v in _values(doc, name)]  # noqa: E731
    figure.add_trace(go.Bar(x=quarters, y=billions("capex"), name="capex", marker_color="#72b7b2"), row=5, col=1)
    figure.add_trace(go.Scatter(x=quarters, y=billions("energy_opex"), name="energy $/year"), row=5, col=1)
    if any(s["name"] == "tariff_bill" for s in doc["series"]):
        figure.add_trace(go.Bar(x=quarters, y=billions("tariff_bill"), name="tariffs", marker_color="#e45756"), 5, 1)
    figure.add_trace(
        go.Bar(x=quarters, y=_values(doc, "failures"), name="failures/year", marker_color="#e45756"), row=6, col=1
    )
    _site_spares(figure, doc, row=7)
    _site_plant(figure, doc, row=8)
    _legend_per_chart(figure, LEGENDS)
    for row, (x_title, y_title) in enumerate(AXES, start=1):
        figure.update_xaxes(title_text=x_title, row=row, col=1)
        figure.update_yaxes(title_text=y_title, row=row, col=1)
    figure.update_yaxes(tickformat=".0%", row=4, col=1)
    gens = doc["generations"]
    columns = {
        "generation": [g["id"] for g in gens],
        "tokens/s per accelerator": [f"{g['tokens_per_s_per_accelerator']:,.0f}" for g in gens],
        "MFU": [f"{g['mfu']:.1%}" for g in gens],
        "goodput": [f"{g['goodput']:.1%}" for g in gens],
        "failures/rack-year": [f"{g['part_failures_per_rack_year']:.2f}" for g in gens],
        "IT kW/rack": [f"{g['it_power_kw']:,.0f}" for g in gens],
    }
    figure.add_trace(go.Table(header={"values": list(columns)}, cells={"values": list(columns.values())}), row=9, col=1)
    figure.add_trace(first_ship_table(doc.get("first_ship_check", [])), row=10, col=1)
    binding = doc["binding_constraints"]
    figure.add_trace(
        go.Table(
            header={"values": ["constraint", "name", "detail"]},
            cells={
                "values": [
                    [b["family"] for b in binding],
                    [b["name"] for b in binding],
                    [b["message"] for b in binding],
                ]
            },
        ),
        row=11,
        col=1,
    )
    met = next(h["value"] for h in doc["headline"] if h["name"] == "goal_met")
    verdict = f"meets {goal:g} GW in {met}" if met else f"MISSES {goal:g} GW by {doc['goal']['by']}"
    if "risk" in doc:
        verdict += f"; P(goal) {doc['risk']['p_goal']:.0%}"
    layout = headline_layout(
        escape(f"{doc['programme']}: {verdict}"),
        "<br>".join(escape(line) for line in headline_lines(doc)),
        [escape(x) for x in input_lines(doc)],
    )
    opening = layout.get("margin", {"t": TITLE_PX})["t"] - TITLE_PX  # the input lines' height, wrapped
    figure.update_layout(**layout, height=3900 + opening, barmode="overlay")
    return figure


#: The headline figures the dashboard opens with, under its title, in two lines (one line of all seven is wider
#: than a 1280-px page): what the programme deploys, then what it costs and how much of it is made in the US.
HEADLINE_FIGURES = (
    ("it_power_by_goal_date", "delivered_training_compute_by_goal_date", "accelerators_by_goal_date"),
    ("capex", "energy_opex_by_goal_date", "spares_cost_by_goal_date", "us_content_share_by_goal_date"),
)


def headline_lines(doc: dict) -> list[str]:
    """The headline numbers, one line per group of :data:`HEADLINE_FIGURES`, each labelled and formatted by
    report.present (``headline_format``)."""
    rows = {row["name"]: row for row in doc["headline"]}
    lines = []
    for names in HEADLINE_FIGURES:
        shown = []
        for name in (n for n in names if n in rows):
            figure = headline_format(name, rows[name]["unit"])
            value = figure.value(rows[name]["value"])
            shown.append(f"{figure.label}: {value}{' ' + figure.unit if figure.unit else ''}")
        lines.append("; ".join(shown))
    return lines


def input_lines(doc: dict) -> list[str]:
    """The inputs and assumptions the plan was made from (the document's ``inputs``), one line each: the programme
    file, the generations' design files, the factories' lines and calendars, the sites, the workload, the goal and
    the Monte Carlo's samples and seed."""
    given = doc.get("inputs")
    if given is None:  # a document stored before it carried its inputs
        return []
    gens = ", ".join(f"{g['id']} ({g['design']}, first ship {g['first_ship']})" for g in given["generations"])
    lines = ", ".join(
        f"{f['factory']}: {f['share']:g} of {f['line']} ({f['shifts_per_day']} shifts of {f['hours_per_shift']}, "
        f"{f['days_per_week']} days a week; stations at most {f['line_utilisation']:.0%} busy), builds "
        + " ".join(f["builds"])
        for f in given["factories"]
    )
    sites = ", ".join(f"{s['site']} ({s['plan'] or 'no site plan'})" for s in given["sites"])
    w, fleet, goal = given["workload"], given["fleet"], doc["goal"]
    risk = doc.get("risk")
    seq = f"{w['seq_len']:,}" if w["seq_len"] else "the model's"
    return [
        f"Programme file: {given['file'] or '(not from a file)'}",
        f"Generations: {gens}",
        f"Factories: {lines}",
        f"Sites: {sites}",
        f"Workload: {w['model']} in {_recipe(w['precision'])} on {w['accelerators']:,} accelerators, global batch "
        f"{w['global_batch']:,} of {seq} tokens, checkpoints at {w['storage_bandwidth']}; "
        f"fleet: repairs in {fleet['repair_days']:g} days, availability {fleet['availability']:.1%}",
        f"Goal: {goal['it_power_gw']:g} GW by {goal['by']}; "
        + (f"P(goal) over {risk['samples']:,} samples, seed {risk['seed']}" if risk else "no Monte Carlo run"),
    ]


def _recipe(precision: str) -> str:
    """The workload's precision as the inputs line names it (``reference``: the shared MoE reference's recipe)."""
    return "the MoE reference's recipe" if precision == "reference" else precision


def _legend_per_chart(figure, titles: tuple[str, ...]) -> None:
    """Give the chart in each row ``k`` its own legend (plotly's ``legend``, ``legend2``, ...: ``titles[k - 1]``
    over the names of that chart's traces), beside the chart's top, instead of one list for the whole page."""
    for k, title in enumerate(titles, start=1):
        axis = figure.get_subplot(k, 1)
        anchor = "y" + axis.yaxis.plotly_name.removeprefix("yaxis")  # the traces' reference: "y", "y2", ...
        legend = "legend" if k == 1 else f"legend{k}"
        figure.update_traces(legend=legend, selector={"yaxis": anchor})
        figure.update_layout(
            {
                legend: {
                    "title": {"text": title},
                    "x": 1.01,
                    "xanchor": "left",
                    "y": axis.yaxis.domain[1],
                    "yanchor": "top",
                }
            }
        )


def _site_spares(figure, doc: dict, row: int) -> None:
    """Each site's spare pool value by quarter (the ``site_spares_cost`` series, US$ M), stacked: each site's bars
    stand on the sites before it (the page's bars overlay, so the base is given)."""
    import plotly.graph_objects as go

    base = [0.0] * len(doc["quarters"])
    for s in (s for s in doc["series"] if s["name"] == "site_spares_cost"):
        millions = [v / 1e6 for v in s["values"]]
        figure.add_trace(go.Bar(x=doc["quarters"], y=millions, base=base, name=s["site"]), row=row, col=1)
        base = [b + v for b, v in zip(base, millions, strict=True)]


def _site_plant(figure, doc: dict, row: int) -> None:
    """The planned sites' plant by quarter (:data:`PLANT`, whole sites' units installed as their racks arrive; none
    without a planned site), and for each supply line the site supply check holds of a kind in
    :data:`PLANT_SUPPLY` its deliveries (cumulative, dashed) and what the racks and the site plans need of it
    (delivered less the margin, dotted)."""
    import plotly.graph_objects as go

    colours = {name: colour for name, _, colour in PLANT}
    present = {s["name"] for s in doc["series"]}  # none without a planned site
    for name, label, colour in (row for row in PLANT if row[0] in present):
        line = {"color": colour}
        figure.add_trace(go.Scatter(x=doc["quarters"], y=_values(doc, name), name=label, line=line), row, 1)
    for check in (c for c in doc.get("site_supply_check", []) if c["kind"] in PLANT_SUPPLY):
        delivered = check["delivered_by_quarter"]
        need = [d - m for d, m in zip(delivered, check["margin_by_quarter"], strict=True)]
        colour = colours[PLANT_SUPPLY[check["kind"]]]
        for values, what, dash in ((delivered, "delivered", "dash"), (need, "needed", "dot")):
            line = {"dash": dash, "color": colour}
            figure.add_trace(
                go.Scatter(x=doc["quarters"], y=values, name=f"{check['supply']} {what}", line=line), row, 1
            )


#: The first-ship table's columns: heading, and the cell of a row of the plan's ``first_ship_check``.
FIRST_SHIP_COLUMNS = (
    ("generation", lambda r: r["generation"]),
    ("parts ordered", lambda r: r["ordered"]),
    ("earliest first rack", lambda r: r["earliest_first_rack"]),
    ("first ship", lambda r: r["first_ship"]),
    ("slack (days)", lambda r: f"{r['slack_days']:+,}"),
    ("buildable by first ship", lambda r: "yes" if r["supported"] else f"LATE by {-r['slack_days']:,} days"),
    ("critical parts", lambda r: ", ".join(r["critical_parts"])),
)


def first_ship_table(rows: list[dict]):
    """Each generation's earliest first rack (the plan's ``first_ship_check``) against its first ship, a late one's
    row in red."""
    import plotly.graph_objects as go

    fill = ["#f8d7da" if not r["supported"] else "white" for r in rows]
    return go.Table(
        columnwidth=[0.9, 1, 1, 1, 0.7, 1.1, 4.2],  # the critical parts' names are long
        header={"values": [heading for heading, _ in FIRST_SHIP_COLUMNS]},
        cells={
            "values": [[cell(r) for r in rows] for _, cell in FIRST_SHIP_COLUMNS],
            "fill_color": [fill] * len(FIRST_SHIP_COLUMNS),
        },
    )


def _gantt(figure, rows: list[dict], row: int) -> None:
    """Horizontal bars from each record's ``from`` to its ``to`` date, coloured by kind."""
    import datetime as dt

    import plotly.graph_objects as go

    kinds = {"generation": ("generations", "#4c78a8"), "site": ("sites", "#f58518"), "factory": ("lines", "#54a24b")}
    for kind, (label, colour) in kinds.items():
        mine = [r for r in rows if r["kind"] == kind]
        start = [dt.date.fromisoformat(r["from"]) for r in mine]
        days = [(dt.date.fromisoformat(r["to"]) - a).days * 86_400_000 for r, a in zip(mine, start, strict=True)]
        figure.add_trace(
            go.Bar(
                x=days,
                y=[f"{kind} {r['name']}" for r in mine],
                base=[str(a) for a in start],
                orientation="h",
                name=label,
                marker_color=colour,
                hovertext=[r["detail"] for r in mine],
            ),
            row=row,
            col=1,
        )
    figure.update_xaxes(type="date", row=row, col=1)


def _numeric(row: dict, keys: tuple[str, ...]) -> bool:
    """Whether a what-if headline row holds a number under each key (``goal_met`` is a quarter, or none)."""
    return all(
        all(isinstance(v, (int, float)) for v in (row[k] if isinstance(row[k], list) else [row[k]])) for k in keys
    )


def _grid(charts: int) -> dict:
    """Two charts a row; an odd last one spans the row (no empty axes)."""
    lines = (charts + 1) // 2
    last = [{"colspan": 2}, None] if charts % 2 else [{}, {}]
    return {"rows": lines, "cols": 2, "specs": [[{}, {}]] * (lines - 1) + [last]}


def _plotted(value: float, kind: str) -> float:
    """A value on a chart's axis: a share in per cent, as the tables show it."""
    return 100 * value if kind == SHARE else value


def changes_line(doc: dict) -> str:
    """What the what-if changed (``--set`` and ``--replace``; with ``--sweep`` the swept field and its values)."""
    given = ", ".join(f"{row['key']} = {row['value']}" for row in doc["set"])
    sweep = doc.get("sweep")
    swept = f"{sweep['key']} swept over {', '.join(sweep['values'])}" if sweep else ""
    return "What-if: " + "; ".join(x for x in (given, swept) if x) + "; every other field as in the programme file."


#: The what-if page's headline figures, under its title; the other headline numbers' changes follow in its inputs.
WHATIF_HEADLINE = (
    "it_power_by_goal_date",
    "goal_met",
    "delivered_training_compute_by_goal_date",
    "us_content_share_by_goal_date",
)


def whatif_changes(doc: dict, names: tuple[str, ...] = (), other: bool = False) -> str:
    """The change in the headline numbers named (with ``other``: in those not named), each labelled and formatted
    as the terminal's what-if table shows it: base → what-if (change; a share's in percentage points)."""
    shown = []
    for row in doc["headline"]:
        if (row["name"] in names) == other:
            continue
        figure = headline_format(row["name"], row["unit"])
        numbers = row["change"] is not None
        unit = f" {figure.shown_unit}" if figure.shown_unit and figure.kind != SHARE and numbers else ""
        change = figure.change(row["change"]) if numbers else "–"
        shown.append(f"{figure.label}: {figure.value(row['base'])} → {figure.value(row['whatif'])}{unit} ({change})")
    return "; ".join(shown)


def whatif_figure(doc: dict, base: dict):
    """Base against what-if for each numeric headline figure, one chart each (``programme whatif -o``), under the
    change in the :data:`WHATIF_HEADLINE` figures, the fields changed, the change in the other headline numbers
    and the inputs of the base plan (``base``, its programme document)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = [r for r in doc["headline"] if _numeric(r, ("base", "whatif"))]
    shown = [headline_format(r["name"], r["unit"]) for r in rows]
    cols, lines = 2, (len(rows) + 1) // 2
    figure = make_subplots(**_grid(len(rows)), subplot_titles=[f.label for f in shown], vertical_spacing=0.08)
    for k, (row, fmt) in enumerate(zip(rows, shown, strict=True)):
        at = {"row": k // cols + 1, "col": k % cols + 1}
        values = [_plotted(row["base"], fmt.kind), _plotted(row["whatif"], fmt.kind)]
        figure.add_trace(
            go.Bar(x=["base", "what-if"], y=values, marker_color=["#9ecae1", "#3182bd"], showlegend=False), **at
        )
        figure.update_yaxes(title_text=fmt.shown_unit or fmt.label.lower(), **at)
        figure.update_xaxes(title_text="plan", **at)
    met = {k: "meets" if v else "misses" for k, v in doc["feasible"].items()}
    others = f"Other headline numbers: {whatif_changes(doc, WHATIF_HEADLINE, other=True)}"
    inputs = [escape(x) for x in (changes_line(doc), others, *input_lines(base))]
    layout = headline_layout(
        escape(f"{doc['programme']}: the what-if {met['whatif']} the goal (the file as it is {met['base']} it)"),
        escape(whatif_changes(doc, WHATIF_HEADLINE)),
        inputs,
    )
    opening = layout.get("margin", {"t": TITLE_PX})["t"] - TITLE_PX
    figure.update_layout(**layout, height=240 * lines + 160 + opening)
    return figure


def sweep_headline(doc: dict) -> str:
    """What was swept, and the range of the quarter the goal is met in and of the GW by the goal date over it."""
    rows = {r["name"]: r for r in doc["headline"]}
    sweep, gw, met = doc["sweep"], rows["it_power_by_goal_date"], rows["goal_met"]
    figure = headline_format(gw["name"], gw["unit"])
    quarters = sorted(str(q) for q in met["values"] if q)
    missed = sum(1 for q in met["values"] if not q)
    reached = f"{quarters[0]} to {quarters[-1]}" if quarters else "never"
    return (
        f"{sweep['key']} from {sweep['values'][0]} to {sweep['values'][-1]} ({len(sweep['values'])} values): "
        f"{figure.label} {figure.value(min(gw['values']))} to {figure.value(max(gw['values']))} {figure.unit} "
        f"(base {figure.value(gw['base'])}); goal met in {reached}"
        + (f", missed at {missed} value(s)" if missed else "")
        + f" (base {met['base'] or 'missed'})"
    )


def sweep_figure(doc: dict, base: dict):
    """The change of each numeric headline figure against the swept value (``programme whatif --sweep -o``), under
    the sweep's headline (:func:`sweep_headline`) and the base plan's inputs (``base``) with the fields changed."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = [r for r in doc["headline"] if _numeric(r, ("changes",))]
    shown = [headline_format(r["name"], r["unit"]) for r in rows]
    values = doc["sweep"]["values"]
    cols, lines = 2, (len(rows) + 1) // 2
    figure = make_subplots(**_grid(len(rows)), subplot_titles=[f"{f.label}, change" for f in shown])
    for k, (row, fmt) in enumerate(zip(rows, shown, strict=True)):
        at = {"row": k // cols + 1, "col": k % cols + 1}
        changes = [_plotted(c, fmt.kind) for c in row["changes"]]
        figure.add_trace(go.Scatter(x=values, y=changes, mode="lines+markers", name=fmt.label, showlegend=False), **at)
        unit = "pp" if fmt.kind == SHARE else fmt.shown_unit
        figure.update_yaxes(title_text=f"change ({unit})" if unit else "change", **at)
    figure.update_xaxes(type="category", title_text=doc["sweep"]["key"])
    inputs = [escape(x) for x in (*input_lines(base), changes_line(doc))]
    layout = headline_layout(
        escape(f"{doc['programme']}: what if {doc['sweep']['key']} = each value (change from the file as it is)"),
        escape(sweep_headline(doc)),
        inputs,
    )
    opening = layout.get("margin", {"t": TITLE_PX})["t"] - TITLE_PX
    figure.update_layout(**layout, height=260 * lines + opening)
    return figure
