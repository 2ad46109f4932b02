"""The report pages of a roadmap (plotly; presentation only): the plan page (``roadmap plan -o``: headline,
inputs, each chart under its heading, the binding constraints as a table) and the risk figure (``roadmap risk
-o``: fan, goal date, tornado)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..report.html import INPUT_LINE_PX, headline_layout
from ..report.present import SHARE, figure_format, format_value, shortfall_text
from .schema import quarter_end, quarter_start

#: Shortfalls of these constraint families add up over the quarters (a site's power, a supply's stock).
CUMULATIVE = ("site", "supply")
#: The columns of a shortfall's row (:func:`shortfall_rows`).
SHORTFALL_COLUMNS = ("quarter", "constraint", "name", "short by", "unit", "detail")


def shortfall_rows(rows: list[dict]) -> list[tuple[str, str, str, str, str, str]]:
    """The elastic programme's shortfalls (``binding_constraints`` of a plan that misses its goal) as the CLI's
    table and the plan page show them: quarter, constraint, name, the amount (report.present.shortfall_text: a
    count whole, rounded up), its unit (``(cumulative)`` where the family's shortfalls add up over the quarters) and,
    where there is no amount (the goal or the solver), why in words."""
    return [
        (
            r.get("quarter") or "–",
            r["family"],
            r["name"],
            shortfall_text(r.get("shortfall"), r["unit"]),
            r["unit"] + (" (cumulative)" if r["family"] in CUMULATIVE else ""),
            r["message"] if r.get("shortfall") is None else "",
        )
        for r in rows
    ]


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


def _build_windows(doc: dict, records: str = "racks", where: str | None = None) -> list[tuple[str, str, str, int]]:
    """(generation, first quarter, last quarter, racks) of each generation that builds racks, in plan order; with
    ``where`` (a factory), of the racks built there (``records`` is ``racks`` or ``racks_by_factory``)."""
    built: dict[str, list] = {}
    for record in doc[records]:
        if record["racks"] > 0 and where in (None, record.get("factory")):
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


def _bar(kind: str, row: str, start: str, end: str, phase: str, text: str) -> dict:
    return {"kind": kind, "row": row, "start": start, "end": end, "phase": phase, "text": text}


def gantt_bars(doc: dict) -> list[dict]:
    """The Gantt's bars, rows grouped by kind (``{kind, row, start, end, phase, text}``, dates as ISO text):
    each generation's ramp (first ship to full rate) and full rate (to its end of builds or the goal date) with
    the plan's build window (first to last quarter with racks built); each site's power steps (a step runs to
    the next one or the goal date); each factory line (a generation a factory has a rate for) over its build
    period with the plan's racks built there."""
    inputs, by = doc["inputs"], doc["inputs"]["by"]
    windows = {g: (first, last, racks) for g, first, last, racks in _build_windows(doc)}
    bars = []
    for g in inputs["generations"]:
        name, end = g["generation"], g["end_of_builds"] or by
        if g["full_rate"] > g["first_ship"]:
            bars.append(_bar("generation", name, g["first_ship"], min(g["full_rate"], end), "ramp", "ramp"))
        bars.append(_bar("generation", name, g["full_rate"], end, "full rate", f"{g['rack_it_power_kw']:,.0f} kW"))
        bars += _built(doc, "generation", name, windows.get(name))
    for site in inputs["sites"]:
        steps = site["power"]
        for step, after in zip(steps, [*(s["from"] for s in steps[1:]), by], strict=True):
            text = f"{step['facility_mw']:,.0f} MW"
            bars.append(_bar("site power", site["site"], step["from"], after, "power step", text))
    for factory in inputs["factories"]:
        built = {
            g: (first, last, racks)
            for g, first, last, racks in _build_windows(doc, "racks_by_factory", factory["factory"])
        }
        for line in factory["lines"]:
            row = f"{factory['factory']} · {line['generation']}"
            text = f"{line['racks_per_week']:g}/wk"
            bars.append(_bar("factory line", row, line["from"], line["to"], "line", text))
            bars += _built(doc, "factory line", row, built.get(line["generation"]))
    return bars


def _built(doc: dict, kind: str, row: str, window: tuple[str, str, int] | None) -> list[dict]:
    if window is None:
        return []
    first, last, racks = window
    end = str(quarter_end(last) + dt.timedelta(days=1))
    return [_bar(kind, row, str(quarter_start(first)), end, "built", f"{racks:,} racks built {first}–{last}")]


#: The Gantt's phases: legend name, colour, bar width and offset (shares of a row: the plan's racks built run
#: under the row's other bar).
PHASES = {
    "ramp": ("ramp (first ship to full rate)", "#9ecae1", 0.6, -0.4),
    "full rate": ("full rate to end of builds (kW: IT power per rack)", "#3182bd", 0.6, -0.4),
    "power step": ("facility power from the date on", "#74c476", 0.6, -0.4),
    "line": ("build period (racks/week)", "#9e9ac8", 0.6, -0.4),
    "built": ("racks built in the plan (first to last quarter)", "#e6550d", 0.22, 0.2),
}


def _gantt_traces(bars: list[dict]) -> list:
    """One horizontal bar trace per phase on a date axis (base: the start, length: the duration in ms), one row
    per bar's ``row``."""
    import plotly.graph_objects as go

    ms = 86400e3
    traces = []
    for phase, (name, colour, width, offset) in PHASES.items():
        mine = [b for b in bars if b["phase"] == phase]
        if not mine:
            continue
        days = [(dt.date.fromisoformat(b["end"]) - dt.date.fromisoformat(b["start"])).days for b in mine]
        traces.append(
            go.Bar(
                base=[b["start"] for b in mine],
                x=[d * ms for d in days],
                y=[b["row"] for b in mine],
                orientation="h",
                name=name,
                width=width,
                offset=offset,
                marker={"color": colour, "line": {"color": "white", "width": 1}},
                text=[b["text"] for b in mine],
                textposition="none" if phase == "built" else "inside",
                textfont={"size": 11},
                constraintext="none",
                insidetextanchor="middle",
                customdata=[[b["start"], b["end"], b["text"]] for b in mine],
                hovertemplate="%{y}: %{customdata[2]}<br>%{customdata[0]} to %{customdata[1]}<extra>"
                + name
                + "</extra>",
            )
        )
    return traces


def _racks_by(doc: dict, records: str, field: str) -> dict[str, list[float]]:
    """Racks built per quarter by site or factory (``records`` is ``racks`` or ``racks_by_factory``)."""
    quarters = doc["quarters"]
    totals: dict[str, list[float]] = {}
    for record in doc[records]:
        series = totals.setdefault(record[field], [0.0] * len(quarters))
        series[quarters.index(record["quarter"])] += record["racks"]
    return totals


def gw_by(doc: dict, records: str, field: str) -> dict[str, list[float]]:
    """IT power deployed by each quarter's end by site or factory [GW, cumulative]: racks × each generation's rack
    IT power (``inputs.generations[].rack_it_power_kw``, the power the plan counts per rack)."""
    kw = {g["generation"]: g["rack_it_power_kw"] for g in doc["inputs"]["generations"]}
    quarters = doc["quarters"]
    totals: dict[str, np.ndarray] = {}
    for record in doc[records]:
        series = totals.setdefault(record[field], np.zeros(len(quarters)))
        series[quarters.index(record["quarter"])] += record["racks"] * kw[record["generation"]] / 1e6
    return {name: np.cumsum(series).tolist() for name, series in totals.items()}


def goal_met(doc: dict) -> str | None:
    """The first quarter whose IT power deployed reaches the goal, or None."""
    goal = doc["goal"]["it_power_gw"]
    return next((q for q in doc["quarters"] if doc["gw_by_quarter"][q] >= goal * (1 - 1e-9)), None)


def plan_headline(doc: dict) -> str:
    """The plan's headline numbers: IT power by the goal date, the quarter the goal is met, racks deployed, the
    training compute deployed (peak and delivered), and how many constraints bind (or fall short)."""
    goal, by = doc["goal"], doc["goal"]["by"]
    last = doc["quarters"][-1]
    compute = ", ".join(f"{format_value(doc[key][last])} EFLOP/s {name}" for key, name in compute_names(doc).items())
    met = goal_met(doc)
    when = f"goal met in {met} (by {quarter_end(met)})" if met else f"goal not met by {by}"
    racks = sum(r["racks"] for r in doc["racks"])
    count = len(doc["binding_constraints"])
    limits = f"{count} binding constraints" if doc["feasible"] else f"{count} shortfalls"
    return (
        f"{format_value(doc['deployed_gw'])} GW of IT power by {by} (goal {goal['it_power_gw']:g} GW); {when}; "
        f"{racks:,} racks deployed; {compute}; {limits}"
    )


def plan_inputs_lines(doc: dict) -> list[str]:
    """The inputs and assumptions behind the plan, one line each: the goal; each generation's dates and rack
    power; the sites' power; each factory's lines; the supply lines."""
    goal, inputs = doc["goal"], doc["inputs"]
    share = (
        f", at least {format_value(goal['min_us_share'], SHARE)} of rack value integrated in the US"
        if goal.get("min_us_share") is not None
        else ""
    )
    lines = [
        f"Goal: {goal['it_power_gw']:g} GW of IT power from {inputs['start']} to {goal['by']}, "
        f"objective {goal['objective']} ({goal['precision']}){share}."
    ]
    for g in inputs["generations"]:
        end = g["end_of_builds"] or "none"
        lines.append(
            f"Generation {g['generation']}: first ship {g['first_ship']}, full rate {g['full_rate']}, "
            f"end of builds {end}; {g['rack_it_power_kw']:,.0f} kW of IT power per rack."
        )
    sites = inputs["sites"]
    facility = sum(_power_by(site["power"], goal["by"], "facility_mw") for site in sites)
    it = sum(_power_by(site["power"], goal["by"], "it_power_mw") for site in sites)
    steps = sum(len(site["power"]) for site in sites)
    lines.append(
        f"Sites ({len(sites)}, {steps} power steps): {format_value(facility / 1e3)} GW of facility power, "
        f"{format_value(it / 1e3)} GW of IT power at their PUEs, by {goal['by']}: "
        + ", ".join(f"{site['site']} {_power_by(site['power'], goal['by'], 'facility_mw'):,.0f} MW" for site in sites)
        + "."
    )
    for f in inputs["factories"]:
        rates = ", ".join(f"{line['generation']} {line['racks_per_week']:g}" for line in f["lines"])
        lines.append(f"Factory {f['factory']} ({f['location']}) from {f['start']}: {rates} racks/week.")
    supply = "; ".join(
        f"{p['supply']} {p['lead_time_weeks']:g} wk lead, up to {max(c['per_quarter'] for c in p['caps']):,.0f} "
        f"{p['unit']}/quarter"
        for p in inputs["supply"]
    )
    if supply:
        lines.append(f"Supply: {supply}.")
    return lines


def _power_by(steps: list[dict], by: str, key: str) -> float:
    """The last power step on or before ``by`` (0 before the first)."""
    return next((step[key] for step in reversed(steps) if step["from"] <= by), 0.0)


#: The plan page's chart height [px], and the Gantts' and the heatmap's: a frame (margins, the legend over the
#: chart) and a height per row. A chart of up to about 20 rows fits an A4 landscape page (report.html.PRINT_STYLE).
CHART_PX = 420
GANTT_PX, GANTT_ROW_PX = 130, 26
HEATMAP_PX, HEATMAP_ROW_PX = 130, 44
#: The margins of every chart of the plan page [px]: room for the axis titles, and on the right for the last
#: quarter's tick label where no legend stands beside the chart.
MARGIN = {"l": 80, "r": 40, "t": 30, "b": 70}
#: The Gantts by the kind of their rows (gantt_bars): the heading and the title of the axis that lists the rows.
GANTTS = {
    "generation": ("Generations: ramp, full rate and racks built", "generation"),
    "site power": ("Site power steps", "site"),
    "factory line": ("Factory lines: build period and racks built", "factory · generation"),
}
#: The names the page colours, by kind: the list of the plan's inputs that gives them in order, and the kind's
#: palette (plotly.colors.qualitative): saturated for generations, muted for sites, a third set for factories. No
#: colour is in two of them (the nearest two of their first 6, 8 and 4 colours lie 58 apart in RGB), so a colour
#: names one thing; a name keeps its colour on every chart.
NAMED = {
    "generation": ("generations", "G10"),
    "site": ("sites", "Antique"),
    "factory": ("factories", "Alphabet"),
}


def name_colours(doc: dict, kind: str) -> dict[str, str]:
    """The colour of each generation, site or factory (``kind``) of the plan, in the order of its inputs, from
    the kind's own palette (:data:`NAMED`, cycled past its end)."""
    from plotly.colors import qualitative

    inputs, name = NAMED[kind]
    palette = getattr(qualitative, name)
    return {entry[kind]: palette[i % len(palette)] for i, entry in enumerate(doc["inputs"][inputs])}


def _chart(traces: list, height: int, x_title: str, y_title: str, quarters: list[str] | None = None):
    """A chart of the plan page: ``height`` px, the page's margins, both axes titled; on ``quarters`` (in plan
    order) where given, half a quarter of room at either end, so that a line's first and last tick labels stand
    inside the chart (at its edges they ran into the y axis's labels, or past the frame: "2029Q")."""
    import plotly.graph_objects as go

    figure = go.Figure(traces)
    figure.update_layout(height=height, margin=MARGIN)
    figure.update_xaxes(title_text=x_title, automargin=True)
    figure.update_yaxes(title_text=y_title, automargin=True)
    if quarters is not None:
        figure.update_xaxes(
            type="category", categoryorder="array", categoryarray=quarters, range=[-0.5, len(quarters) - 0.5]
        )
    return figure


def _gw_by_generation(doc: dict):
    """IT power deployed by generation (stacked areas, GW, cumulative) with the goal line."""
    import plotly.graph_objects as go

    quarters, colours = doc["quarters"], name_colours(doc, "generation")
    traces = [
        go.Scatter(
            x=quarters,
            y=[series[q] for q in quarters],
            name=generation,
            mode="lines",
            stackgroup="gw",
            line={"color": colours.get(generation)},
        )
        for generation, series in doc["gw_by_generation"].items()
    ]
    traces.append(goal_trace(doc["goal"], quarters))
    return _chart(traces, CHART_PX, "quarter", "IT power deployed (GW, cumulative)", quarters)


def compute_names(doc: dict) -> dict[str, str]:
    """The plan's two compute series by their names in words: "peak (<goal precision>)" and "delivered on
    <reference MoE training workload>" (the label of ``roadmap.delivered_eflops``, report.present)."""
    delivered = figure_format("roadmap.delivered_eflops").label
    return {
        "peak_eflops_by_quarter": f"peak ({doc['goal']['precision']})",
        "delivered_eflops_by_quarter": delivered[:1].lower() + delivered[1:],
    }


def _compute(doc: dict):
    """Training compute deployed by quarter (EFLOP/s, cumulative): the racks' peak and what they deliver on the
    reference MoE training workload, one line each."""
    import plotly.graph_objects as go

    quarters = doc["quarters"]
    traces = [
        go.Scatter(x=quarters, y=[doc[key][q] for q in quarters], name=name, mode="lines+markers")
        for key, name in compute_names(doc).items()
    ]
    return _chart(traces, CHART_PX, "quarter", "training compute (EFLOP/s, cumulative)", quarters)


def _gantt(doc: dict, kind: str, bars: list[dict]):
    """The Gantt of one ``kind`` of row on dates over the plan's horizon: its rows in plan order from the top,
    the legend of its phases over it."""
    rows = list(dict.fromkeys(b["row"] for b in bars))
    figure = _chart(_gantt_traces(bars), GANTT_PX + GANTT_ROW_PX * len(rows), "date", GANTTS[kind][1])
    figure.update_xaxes(type="date", range=[doc["inputs"]["start"], doc["inputs"]["by"]])
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=rows, autorange="reversed")
    figure.update_layout(legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"})
    return figure


def _by(doc: dict, kind: str, records: str, verb: str) -> list[tuple[str, object]]:
    """Racks per quarter (stacked bars) and the IT power they carry (stacked areas, GW, cumulative) by site or
    factory (``kind``; ``records`` is ``racks`` or ``racks_by_factory``), one colour per name in both."""
    import plotly.graph_objects as go

    quarters, colours = doc["quarters"], name_colours(doc, kind)
    racks, gw = _racks_by(doc, records, kind), gw_by(doc, records, kind)
    bars = [go.Bar(x=quarters, y=series, name=name, marker_color=colours.get(name)) for name, series in racks.items()]
    areas = [
        go.Scatter(x=quarters, y=gw[name], name=name, mode="lines", stackgroup=kind, line={"color": colours.get(name)})
        for name in racks
    ]
    racks_chart = _chart(bars, CHART_PX, "quarter", f"racks {verb} (per quarter)", quarters)
    racks_chart.update_layout(barmode="stack")
    return [
        (f"Racks {verb} per quarter by {kind}", racks_chart),
        (
            f"IT power {verb} by {kind} (GW, cumulative)",
            _chart(areas, CHART_PX, "quarter", f"IT power {verb} (GW, cumulative)", quarters),
        ),
    ]


def _utilisation(doc: dict):
    """Each factory's line time used per quarter (% of the time available), a heatmap, the first factory on top."""
    import plotly.graph_objects as go

    quarters, utilisation = doc["quarters"], doc["factory_utilisation"]
    heatmap = go.Heatmap(
        x=quarters,
        y=list(utilisation),
        z=[[100 * by_quarter.get(q, 0.0) for q in quarters] for by_quarter in utilisation.values()],
        zmin=0,
        zmax=100,
        colorscale="Blues",
        colorbar={"title": {"text": "used (%)", "side": "right"}},
    )
    height = HEATMAP_PX + HEATMAP_ROW_PX * len(utilisation)
    figure = _chart([heatmap], height, "quarter", "factory", quarters)
    figure.update_yaxes(autorange="reversed")  # the first factory on top, as in the Gantt
    return figure


def _capex(doc: dict):
    """Capex by quarter (bars, US$ billion)."""
    import plotly.graph_objects as go

    quarters, capex = doc["quarters"], doc["capex_usd_by_quarter"]
    bars = go.Bar(x=quarters, y=[capex[q] / 1e9 for q in quarters], name="capex", marker_color="#72b7b2")
    return _chart([bars], CHART_PX, "quarter", "capex (US$ billion)", quarters)


def plan_charts(doc: dict) -> list[tuple[str, object]]:
    """The plan page's charts under their headings, in page order: IT power by generation with the goal line;
    training compute, peak and delivered; a Gantt of generations (ramp, full rate, racks built), one of the sites'
    power steps and one of the factory lines; racks and IT power by site and by factory; factory utilisation; capex
    by quarter."""
    bars = gantt_bars(doc)
    gantts = [
        (heading, _gantt(doc, kind, mine))
        for kind, (heading, _) in GANTTS.items()
        if (mine := [b for b in bars if b["kind"] == kind])
    ]
    return [
        ("IT power deployed by generation (GW, cumulative)", _gw_by_generation(doc)),
        ("Training compute: peak and delivered (EFLOP/s, cumulative)", _compute(doc)),
        *gantts,
        *_by(doc, "site", "racks", "deployed"),
        *_by(doc, "factory", "racks_by_factory", "built"),
        ("Factory utilisation (% of line time)", _utilisation(doc)),
        ("Capex by quarter (US$ billion)", _capex(doc)),
    ]


def constraints_table(doc: dict) -> str:
    """The plan page's last table (HTML): the binding constraints with the quarters each binds in, or where the
    goal is missed the shortfalls as the CLI prints them (:func:`shortfall_rows`)."""
    from ..report.pages import ID, LABEL, NUMBER, table

    rows = doc["binding_constraints"]
    if not doc["feasible"]:
        return table(SHORTFALL_COLUMNS, shortfall_rows(rows), [ID, ID, ID, NUMBER, LABEL, LABEL])
    cells = [(r["family"], r["name"], ", ".join(r.get("quarters", [])), r["message"]) for r in rows]
    return table(("constraint", "name", "quarters", "detail"), cells, [ID, ID])


def plan_page(doc: dict) -> str:
    """The plan's report page (``roadmap plan -o``): its title, headline numbers (:func:`plan_headline`) and
    inputs (:func:`plan_inputs_lines`), then each chart of :func:`plan_charts` under its heading (one plotly.js,
    loaded by the first), then the binding constraints (or shortfalls) as a table."""
    from ..report.html import figure_html
    from ..report.pages import page

    status = "reaches" if doc["feasible"] else f"MISSES (reaches {doc['deployed_gw']:.2f} GW)"
    title = f"{doc['roadmap']}: {status} {doc['goal']['it_power_gw']:g} GW by {doc['goal']['by']}"
    charts = [(heading, figure_html(f, load_plotly=i == 0)) for i, (heading, f) in enumerate(plan_charts(doc))]
    last = "Binding constraints" if doc["feasible"] else "Shortfalls (goal not met)"
    return page(title, plan_headline(doc), plan_inputs_lines(doc), [*charts, (last, constraints_table(doc))])


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


def risk_headline(doc: dict) -> str:
    """The risk's headline numbers: the probability of meeting the goal and the IT power by the goal date."""
    date, goal = doc["gw_by_date"], doc["goal"]
    levels = ", ".join(f"{p.upper()} {format_value(date[p])}" for p in ("p10", "p50", "p90"))
    return (
        f"P(≥ {goal['it_power_gw']:g} GW by {goal['by']}) = {format_value(doc['p_goal'], SHARE)} over "
        f"{doc['samples']:,} samples; IT power by {goal['by']}: {levels} GW (mean {format_value(date['mean'])} GW)"
    )


#: The sampled inputs of a risk run by the name its tornado gives them (rackwright.roadmap.risk), with the field
#: of the roadmap file's ``risk`` section that draws them.
RISK_INPUTS = {
    "qualification slip": "qualification_slip",
    "site power delay": "site_power_delay",
    "lead-time factor": "lead_time_factor",
    "factory yield": "factory_yield",
}


def _distribution(spec) -> str:
    """A distribution as the roadmap file gives it: fixed, uniform min-max, or triangular min / mode / max."""
    if spec.dist == "fixed":
        return f"fixed {spec.value}"
    if spec.dist == "uniform":
        return f"uniform {spec.min} to {spec.max}"
    return f"triangular {spec.min}, {spec.mode}, {spec.max}"


def risk_inputs_lines(doc: dict, risk=None) -> list[str]:
    """The inputs and assumptions behind the risk page, one line each: the goal, samples, seed and method; the
    uncertain inputs drawn per sample (by the tornado's names) and, given the roadmap's ``risk`` section, their
    distributions with its source or assumption; the plan it is compared with."""
    from html import escape

    goal = doc["goal"]
    drawn: dict[str, list[str]] = {kind: [] for kind in RISK_INPUTS}
    for bar in doc.get("tornado", []):
        kind = next((k for k in RISK_INPUTS if bar["input"].startswith(k + " ")), bar["input"])
        drawn.setdefault(kind, []).append(bar["input"][len(kind) + 1 :] or bar["input"])
    lines = [
        f"<b>Inputs.</b> Goal {goal['it_power_gw']:g} GW of IT power by {goal['by']}; {doc['samples']:,} samples, "
        f"seed {doc.get('seed', 'not reported')}; each sample: {doc.get('method', 'the reach programme')}.",
        "Drawn per sample: "
        + ("; ".join(f"{kind} of {', '.join(names)}" for kind, names in drawn.items() if names) or "nothing")
        + ".",
    ]
    if risk is not None:
        shapes = "; ".join(f"{kind}: {_distribution(getattr(risk, field))}" for kind, field in RISK_INPUTS.items())
        basis = (
            f"source: {escape(risk.source.title)}" if risk.source else f"assumption: {escape(risk.assumption or '')}"
        )
        lines.append(
            f"Distributions (triangular: min, mode, max; an entry's own, where the roadmap file gives one, wins): "
            f"{shapes}."
        )
        lines.append(f"Their basis, {basis}")
    plan = "the deterministic plan on the same figures is drawn over the fan" if "plan_gw_by_quarter" in doc else ""
    if plan:
        lines.append(f"Plan: {plan} ({'feasible' if doc.get('plan_feasible') else 'infeasible'}).")
    return lines


def risk_figure(doc: dict, risk=None):
    """The risk page: its headline numbers and inputs (:func:`risk_inputs_lines`; ``risk``, the roadmap's risk
    section, adds the distributions); the fan chart of the IT power deployed by quarter (P10-P90 band, P50) with
    the deterministic plan, when the document has it, and the goal line; the quarter each sample meets the goal
    (its share per quarter, bars, and by each quarter's end, a line); the tornado of the inputs that drive a
    miss."""
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
    inputs = risk_inputs_lines(doc, risk)
    figure.update_layout(
        **headline_layout(f"{doc['roadmap']}: risk of the IT power deployed", risk_headline(doc), inputs),
        height=height + 120 + INPUT_LINE_PX * len(inputs),
        barmode="overlay",
        annotations=[
            *figure.layout.annotations,
            _note(RISK_NOTE, 1, 95),
            _note(GOAL_DATE_NOTE, 2, 115),
            _note(_tornado_note(doc), 3, 60),
        ],
    )
    figure.update_layout(margin={"b": 140})  # the tornado's note under the last chart
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
