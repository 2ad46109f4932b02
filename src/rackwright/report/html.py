"""HTML reports with plotly charts (presentation only): factory runs, bills of materials, fleet reliability.

Every page of an output folder loads one ``plotly.min.js`` beside it (:func:`plotly_bundle`), instead of
4.6 MB of plotly.js inlined in each page; a folder opens offline. Every page prints: :data:`PRINT_STYLE` and
:data:`PRINT_SCRIPT`, here only, go into each page this module writes (:func:`write_html`) or whose charts it
draws (:func:`figure_html`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .folder import write_report_page
from .present import MONEY, SHARE, cause_label, format_value, prices_as_of_text

#: Pixels a page's title block takes (the title and its headline line), and each line of inputs under them; the
#: characters an input line holds before it wraps.
TITLE_PX, INPUT_LINE_PX, INPUT_LINE_CHARS = 110, 21, 150


def headline_layout(title: str, headline: str, inputs: Sequence[str] = ()) -> dict:
    """Layout keys of a page that opens with its headline numbers (one line, small, under the title) and, where
    given, the inputs and assumptions that drove them (grey, each wrapped at :data:`INPUT_LINE_CHARS`) before its
    charts: ``title``, and with inputs a top margin that holds them all. Used by every page with a headline."""
    import textwrap

    text = f"{title}<br><sup>{headline}</sup>"
    if not inputs:
        return {"title": text}
    lines = [wrapped for line in inputs for wrapped in textwrap.wrap(line, INPUT_LINE_CHARS, break_on_hyphens=False)]
    grey = "".join(f"<br><span style='font-size:12px;color:#444'>{line}</span>" for line in lines)
    return {
        "title": {"text": text + grey, "x": 0.01, "xanchor": "left", "y": 1, "yanchor": "top", "pad": {"t": 24}},
        "margin": {"t": TITLE_PX + INPUT_LINE_PX * len(lines)},
    }


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
    inputs = factory_inputs_lines(result)
    figure.update_layout(**headline_layout(title, headline, inputs), height=1000 + INPUT_LINE_PX * len(inputs))
    figure.update_layout(showlegend=False)
    figure.update_xaxes(title_text="week", row=1, col=1)
    figure.update_yaxes(title_text="racks shipped per week", row=1, col=1)
    figure.update_xaxes(title_text="station", row=2, col=1)
    figure.update_yaxes(title_text="utilisation (%)", range=[0, 1.05], tickformat=".0%", row=2, col=1)
    figure.update_xaxes(title_text="cycle time (h)", row=3, col=1)
    figure.update_yaxes(title_text="racks", row=3, col=1)
    return figure


def factory_inputs_lines(result) -> list[str]:
    """The inputs and assumptions behind a factory run, one line each: the line's calendar and kit arrivals; the
    run (weeks, warm-up, replications, seed, supply delay); the stations' yields; the rack's work content."""
    plan, line = result.plan, result.plan.line
    calendar, arrival, work = line.calendar, line.arrival, plan.work
    rate = plan.racks_per_week or arrival.racks_per_week
    released = "evenly" if plan.even_arrivals else "as the line file's arrival process"
    yields = [f"{s.id} {format_value(s.yield_, SHARE)}" for s in line.stations if s.yield_ < 1]
    sourced = sum(1 for s in line.stations if s.source is not None)
    return [
        f"<b>Inputs.</b> Line {line.name}: {len(line.stations)} stations; {calendar.shifts_per_day} shifts of "
        f"{calendar.hours_per_shift}, {calendar.days_per_week} days a week; kits released at "
        f"{format_value(rate)} racks/week ({released}).",
        f"Run: {format_value(plan.weeks)} weeks per replication, warm-up {format_value(plan.warmup_weeks)} weeks "
        f"(discarded), {len(result.replications)} replications, seed {result.seed}; supply delay "
        f"{format_value(plan.supply_delay_weeks)} weeks.",
        "First-pass yields: " + (", ".join(yields) or "every station 100%") + f"; {sourced} of "
        f"{len(line.stations)} stations cite a source, the others rest on the line file's assumptions.",
        f"Work per rack (from the design): {format_value(work.trays)} trays ({format_value(work.compute_trays)} "
        f"compute), {format_value(work.cables)} cables, {format_value(work.liquid_connections)} liquid connections; "
        f"longest lead time {format_value(work.longest_lead_time_weeks)} weeks"
        + (f" ({work.longest_lead_part})." if work.longest_lead_part else "."),
    ]


def cost_pareto(lines: list[dict]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Parts by extended cost, largest first (lines of one part summed), and the cumulative share of the total
    after each: the "vital few" that make most of a bill of materials (Juran's Pareto principle)."""
    cost: dict[str, float] = {}
    for line in lines:
        cost[line["part"]] = cost.get(line["part"], 0.0) + line["extended_usd"]
    ranked = sorted(cost.items(), key=lambda kv: (-kv[1], kv[0]))
    values = np.array([v for _, v in ranked], dtype=float)
    total = values.sum()
    return [k for k, _ in ranked], values, np.cumsum(values) / total if total else np.zeros_like(values)


def lead_time_ladder(lines: list[dict]) -> list[dict]:
    """Parts by lead time, longest first (a part on several lines once, at its longest): part, weeks, category,
    whether US-made."""
    parts: dict[str, dict] = {}
    for line in lines:
        if line["quantity"] <= 0:
            continue
        seen = parts.get(line["part"])
        if seen is None or line["lead_time_weeks"] > seen["weeks"]:
            parts[line["part"]] = {
                "part": line["part"],
                "weeks": float(line["lead_time_weeks"]),
                "category": line["category"],
                "us_made": bool(line["us_made"]),
            }
    return sorted(parts.values(), key=lambda p: (-p["weeks"], p["part"]))


#: Parts that make this share of a BOM's cost are named in its headline.
VITAL_SHARE = 0.8


def bom_figure(doc: dict):
    """The BOM page's charts under its headline numbers: cost per rack by category, split by country of
    manufacture (stacked bars); the cost Pareto (parts by extended cost, bars, and the cumulative share, a line);
    the lead-time ladder (parts by lead time, coloured by category, US-made parts hatched)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from .elevation import COLOURS  # the part categories' colours, as in the rack elevation

    lines, racks = doc["lines"], doc["racks"]
    parts, costs, cumulative = cost_pareto(lines)
    ladder = lead_time_ladder(lines)
    rows_px = [320, 380, 60 + 26 * len(ladder)]  # the charts' heights, and the gaps under them for the labels
    gaps_px = [110, 190]
    height = sum(rows_px) + sum(gaps_px)
    figure = make_subplots(
        rows=3,
        cols=1,
        vertical_spacing=max(gaps_px) / height,
        row_heights=rows_px,
        specs=[[{}], [{"secondary_y": True}], [{}]],
        subplot_titles=(
            "Cost per rack by category and country of manufacture",
            f"Cost Pareto: parts by extended cost for {racks:,} rack(s), cumulative share of the total",
            "Lead-time ladder: parts by lead time (hatched: US-made)",
        ),
    )
    _cost_by_origin(figure, doc)
    figure.add_trace(go.Bar(x=parts, y=costs, name="extended cost", marker_color="#4c78a8"), row=2, col=1)
    figure.add_trace(
        go.Scatter(x=parts, y=cumulative, mode="lines+markers", name="cumulative share", line={"color": "#e45756"}),
        row=2,
        col=1,
        secondary_y=True,
    )
    for category in dict.fromkeys(p["category"] for p in ladder):
        rows = [p for p in ladder if p["category"] == category]
        figure.add_trace(
            go.Bar(
                x=[p["weeks"] for p in rows],
                y=[p["part"] for p in rows],
                orientation="h",
                name=category,
                legendgroup="ladder",
                marker={
                    "color": COLOURS.get(category, "#9d9d9d"),
                    "pattern": {"shape": ["/" if p["us_made"] else "" for p in rows]},
                },
                text=[f"{p['weeks']:g} wk" + (" · US" if p["us_made"] else "") for p in rows],
                textposition="outside",
            ),
            row=3,
            col=1,
        )
    vital = int(np.searchsorted(cumulative, VITAL_SHARE - 1e-12) + 1)
    headline = (
        f"{format_value(doc['usd_per_rack'], MONEY)} USD per rack, US content {format_value(doc['us_share'], SHARE)} "
        f"(rule {doc['us_rule']['name']}); {vital} of {len(parts)} parts make {VITAL_SHARE:.0%} of the cost; "
        f"longest lead time {format_value(doc['longest_lead_time_weeks'])} weeks"
        + (f" ({ladder[0]['part']})" if ladder else "")
        + f"; {prices_as_of_text(doc['prices_as_of'])}"
    )
    inputs = bom_inputs_lines(doc)
    figure.update_layout(
        **headline_layout(f"{doc['design']}: bill of materials", headline, inputs),
        height=height + 160 + INPUT_LINE_PX * len(inputs),
        barmode="stack",
        legend_title="made in / category",
    )
    figure.update_xaxes(title_text="category", row=1, col=1)
    figure.update_yaxes(title_text="cost per rack (USD)", row=1, col=1)
    figure.update_xaxes(title_text="part", tickangle=-35, row=2, col=1)
    figure.update_yaxes(title_text=f"extended cost, {racks:,} rack(s) (USD)", row=2, col=1)
    figure.update_yaxes(
        title_text="cumulative share of cost (%)",
        tickformat=".0%",
        range=[0, 1.05],
        tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
        showgrid=False,
        row=2,
        col=1,
        secondary_y=True,
    )
    figure.update_xaxes(title_text="lead time (weeks)", row=3, col=1)
    figure.update_yaxes(
        title_text="part",
        autorange="reversed",  # the longest lead time on top
        categoryorder="array",
        categoryarray=[p["part"] for p in ladder],
        row=3,
        col=1,
    )
    return figure


def bom_inputs_lines(doc: dict) -> list[str]:
    """The inputs and assumptions behind a BOM page, one line each: the design and rack count; the US-content rule;
    the price basis (catalog unit prices, which estimated); the lead times' basis."""
    lines = doc["lines"]
    parts = {line["part"] for line in lines}
    assumed = {line["part"] for line in lines if line["price_assumed"]}
    assumed_cost = sum(line["extended_usd"] for line in lines if line["price_assumed"])
    share = assumed_cost / doc["total_usd"] if doc["total_usd"] else 0.0
    rule, prices = doc["us_rule"], doc["prices_as_of"]
    return [
        f"<b>Inputs.</b> Design {doc['design']}, {doc['racks']:,} rack(s); US-content rule {rule['name']}: "
        f"{rule['text']}.",
        f"Prices: the catalog's unit prices in USD, before tariffs (sourcing whatif adds them); {len(assumed)} of "
        f"{len(parts)} parts, {format_value(share, SHARE)} of the cost, are priced by estimate (the catalog's "
        "assumptions)"
        + ("; the others cite a source." if len(assumed) < len(parts) else ".")
        + (
            f" Undated: {', '.join(prices['undated_parts'])}."
            if prices["dated_parts"] and prices["undated_parts"]
            else ""
        ),
        "Lead times: the catalog's lead time of each part, weeks from order to delivery, with no supplier capacity "
        "limit (sourcing build-date models supplier capacity).",
    ]


def _cost_by_origin(figure, doc: dict) -> None:
    """Cost per rack by category, one stacked bar trace per country of manufacture (row 1 of the BOM figure)."""
    import plotly.graph_objects as go

    cost: dict[str, dict[str, float]] = {}
    for line in doc["lines"]:
        cost.setdefault(line["made_in"], {}).setdefault(line["category"], 0.0)
        cost[line["made_in"]][line["category"]] += line["extended_usd"] / doc["racks"]
    categories = list(doc["us_share_by_category"])
    for origin, by in sorted(cost.items(), key=lambda kv: -sum(kv[1].values())):
        figure.add_trace(
            go.Bar(name=origin, x=categories, y=[by.get(c, 0.0) for c in categories], legendgroup="origin"),
            row=1,
            col=1,
        )


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


#: Printed chart width in CSS pixels: an A4 landscape page less its margins (273 mm at 96 px per inch is 1032 px).
PRINT_WIDTH_PX = 1000

#: ``@media print`` rules shared by every report page: white paper, A4 landscape, nothing fixed or sticky, the
#: chart toolbar hidden, a page break before each chart section after the first (``h2``, ``div.chart``), no
#: chart split over two pages, charts and drawings no wider than the page, and each link's address printed.
PRINT_STYLE = (
    "@media print{@page{size:A4 landscape;margin:12mm}"
    "html,body{background:#fff!important;color:#000!important}body{margin:0!important;max-width:none!important}"
    "[style*='position:fixed'],[style*='position: fixed'],[style*='position:sticky'],[style*='position: sticky']"
    "{position:static!important}.modebar-container,.plotly-notifier{display:none!important}"
    "h2:not(:first-of-type),.chart+.chart{break-before:page;page-break-before:always}"
    "div.chart,.js-plotly-plot,table,body>svg{break-inside:avoid;page-break-inside:avoid}"
    ".js-plotly-plot,.plot-container,.svg-container{max-width:100%!important}"
    "img,svg:not(.main-svg){max-width:100%!important;height:auto}"
    "a[href]:not([href^='#']):not([href^='javascript:'])::after{content:' (' attr(href) ')';font-size:85%;"
    "word-break:break-all}}"
)
#: Before printing, each plotly chart is laid out at :data:`PRINT_WIDTH_PX` (a chart draws at its on-screen pixel
#: width, which CSS cannot scale); after, at its former width. Once per page however many charts carry it.
PRINT_SCRIPT = (
    "(function(){if(window.rwPrint)return;window.rwPrint=1;"
    "function each(f){if(window.Plotly)document.querySelectorAll('.js-plotly-plot').forEach(f)}"
    "addEventListener('beforeprint',function(){each(function(g){g.rwWidth=g.layout.width||null;"
    f"Plotly.relayout(g,{{width:{PRINT_WIDTH_PX}}})}})}});"
    "addEventListener('afterprint',function(){each(function(g){Plotly.relayout(g,{width:g.rwWidth})})})})();"
)
#: The print rules as they go into a page's head (or before its first chart).
PRINT_HEAD = f"<style>{PRINT_STYLE}</style><script>{PRINT_SCRIPT}</script>"


def figure_html(figure, *, load_plotly: bool = True) -> str:
    """A chart as an HTML block (``div.chart``) for a page whose folder holds :func:`plotly_bundle`; the page's
    first chart loads plotly.js (``load_plotly``) and carries the print rules (:data:`PRINT_HEAD`), the others
    use them."""
    chart = figure.to_html(full_html=False, include_plotlyjs="directory" if load_plotly else False)
    return f"<div class='chart'>{PRINT_HEAD if load_plotly else ''}{chart}</div>"


def figure_page(figure) -> str:
    """A page with one chart, loading plotly.js from ``plotly.min.js`` beside it, with the print rules in its head."""
    page = figure.to_html(full_html=True, include_plotlyjs="directory")
    return page.replace("<head>", f"<head>{PRINT_HEAD}", 1)


def write_html(figure, path: Path) -> None:
    """Write :func:`figure_page` of a chart (through :func:`rackwright.report.folder.write_report_page`: it records
    the command), and ``plotly.min.js`` beside it (written once per folder)."""
    plotly_bundle(path.parent)
    write_report_page(path, figure_page(figure))


def loads_plotly(page: str) -> bool:
    """Whether a page loads the folder's ``plotly.min.js`` (:func:`figure_page`, :func:`figure_html`)."""
    return f'src="{PLOTLY_BUNDLE}"' in page


def write_drawing_page(svg: str, title: str, path: Path) -> None:
    """Write a page with one drawing (an SVG document, shown inline, no script) under ``title``, with the print
    rules in its head (:func:`rackwright.report.folder.write_report_page`)."""
    from html import escape

    drawing = svg[svg.index("<svg") :]  # without the XML declaration, which has no place inside a page
    head = f"<meta charset='utf-8'><title>{escape(title)}</title><style>{PRINT_STYLE}</style>"
    body = f"<h1 style='font:600 18px sans-serif'>{escape(title)}</h1>{drawing}"
    write_report_page(path, f"<!DOCTYPE html>\n<html><head>{head}</head><body>{body}</body></html>\n")


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
            x=[cause_label(k) for k, _ in causes],
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
    inputs = reliability_inputs_lines(curves, job)
    figure.update_layout(
        height=900 + INPUT_LINE_PX * len(inputs), **headline_layout("Fleet reliability", headline, inputs)
    )
    return figure


#: The bases of a failure rate (rackwright.fleet.failures.Basis) as the reliability page names them.
RATE_BASES = {
    "catalog": "the parts' catalog AFR or MTBF",
    "llama3": "Llama 3 Table 5 (Dubey et al. 2024)",
    "independent": "independent field studies",
    "assumption": "assumptions",
}


def reliability_inputs_lines(curves: dict[str, tuple], job: dict) -> list[str]:
    """The inputs and assumptions behind the reliability page, one line each: the job; where the failure rates
    come from (share of the interruptions by basis); the checkpoint and its interval; the spares; the curves."""
    total = job["interruptions_per_day"] or 1.0
    bases: dict[str, float] = {}
    for cause in job["by_cause"].values():
        bases[cause["basis"]] = bases.get(cause["basis"], 0.0) + cause["interruptions_per_day"] / total
    rates = "; ".join(
        f"{RATE_BASES.get(b, b)} {format_value(v, SHARE)}" for b, v in sorted(bases.items(), key=lambda kv: -kv[1])
    )
    checkpoint = job["checkpoint"]
    written = (
        f"{checkpoint['model']} at {format_value(checkpoint['bytes_per_param'])} bytes per parameter, "
        f"{format_value(checkpoint['bytes'] / 1e12)} TB written at "
        f"{format_value(checkpoint['storage_bandwidth_gb_per_s'])} GB/s"
        if checkpoint["model"]
        else "write time given (--checkpoint-write-s)"
    )
    sizes = np.concatenate([np.asarray(s, dtype=float) for s, _ in curves.values()]) if curves else np.zeros(1)
    return [
        f"<b>Inputs.</b> Job of {job['accelerators']:,} accelerators on {job['design']} ({job['generation']}): "
        f"{job['racks']:,} racks, scale-up domain {job['scale_up_domain']:,}.",
        f"Failure rates, share of the interruptions by basis: {rates}; "
        f"{format_value(job['llama3_derived_share'], SHARE)} of them rest on Llama 3's figures (directly or "
        "through the catalog).",
        f"Checkpoint: {written}: {format_value(checkpoint['write_s'])} s; interval "
        f"{format_value(job['checkpoint_interval_min'])} min (Daly 2006 optimum); mean restart "
        f"{format_value(job['restart_min'])} min, a wait for a spare included; {job['spares']:,} hot spares.",
        f"Goodput curves: {', '.join(curves)} at {format_value(float(sizes.min()))} to "
        f"{format_value(float(sizes.max()))} accelerators, the same checkpoint, hot spares sized for the availability "
        "target at each size.",
    ]
