"""The report pages of the rack commands (presentation only): ``evaluate``, ``check``, ``compare``, ``catalog show``
and ``sourcing build-date`` with ``-o DIR`` (``catalog list``'s is in :mod:`rackwright.report.catalog_pages`).

Each page opens with its headline numbers and the inputs that drove them (:func:`headline_layout`), then its
charts and tables, every axis titled with its unit; numbers are formatted by :mod:`rackwright.report.present`, as
the terminal prints them. Source addresses stay in the page's JSON file (``NAME.json``): a page loads nothing and
links nowhere outside its folder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .html import headline_layout
from .present import PART, SHARE, change_cells, figure_format, format_value, part_shown, spec_text

#: The figures of a design that head the evaluate page, in this order (those a design lacks are left out).
HEADLINE_FIGURES = (
    "power.it_load_kw",
    "power.input_kw",
    "thermal.heat_to_liquid_kw",
    "mechanical.weight_kg",
    "mechanical.height_used_u",
    "compute.accelerators",
    "compute.peak_pflops.bf16_dense",
    "cost.bom_usd",
    "sourcing.domestic_share",
    "reliability.failures_per_year",
    "delivery.training_days_llama3_405b_15t_100_mw",
    "delivery.training_tokens_per_s_per_mw_deepseek_v3",
    "delivery.training_tokens_per_s_per_usd_deepseek_v3",
)
#: The budgets of a rack against its ratings, as its design rules compare them: the rule's code, what is used
#: against what, and (used, limit) from the SI figures of the evaluation.
BUDGETS = (
    ("PWR001", "IT load / usable conversion capacity", lambda f: (f["power.it_load"], f["power.usable_capacity"])),
    ("PWR003", "busbar current / rating", lambda f: (f["power.busbar_current"], f["limit.busbar_current"])),
    (
        "THM001",
        "coolant flow / CDU flow share",
        lambda f: (f["thermal.coolant_flow"], f["limit.cdu_max_flow"] * f["limit.cdu_share"]),
    ),
    ("THM002", "heat to liquid / CDU capacity share", lambda f: (f["thermal.cdu_utilisation"], 1.0)),
    ("THM003", "coolant flow / manifold rating", lambda f: (f["thermal.coolant_flow"], f["limit.manifold_max_flow"])),
    ("THM006", "heat to room air / air path", lambda f: (f["thermal.heat_to_room"], f["limit.air_capacity"])),
    (
        "MEC001",
        "rack units used / available",
        lambda f: (f["mechanical.height_used"], f["mechanical.height_available"]),
    ),
    (
        "MEC002",
        "payload / enclosure rating",
        lambda f: (f["mechanical.weight"] - f["limit.enclosure_weight"], f["limit.max_payload"]),
    ),
    ("MEC003", "floor load / floor rating", lambda f: (f["mechanical.floor_load"], f["limit.floor_rating"])),
)
#: The paths the heat of a rack leaves by, and their colours.
HEAT_PATHS = (
    ("thermal.heat_to_liquid_kw", "#4c78a8"),
    ("thermal.heat_to_rear_door_kw", "#72b7b2"),
    ("thermal.heat_to_room_kw", "#f58518"),
)
#: A table chart's row of one line, each further line of a row whose text wraps, its header, the width it is laid
#: out for and one character of its text (plotly's 12 px sans-serif), in pixels: the room a table takes on its page.
ROW_PX, LINE_PX, HEADER_PX, TABLE_PX, CHAR_PX = 22, 15, 30, 1000, 7.0


def _shown(key: str, value) -> str:
    """A figure as the terminal prints it, with its unit: ``121.4 kW``, ``3,130,825 USD``, ``1.0%``."""
    shown = figure_format(key)
    return f"{shown.value(value)} {shown.unit}".rstrip()


def budget_use(figures: dict[str, float]) -> dict[str, float]:
    """Each budget of :data:`BUDGETS` as the share of its limit used (1.0: at the limit), where the design has the
    rating (a rack without a CDU has no CDU budget)."""
    import math
    from collections import defaultdict

    known = defaultdict(lambda: math.nan, figures)
    used = {}
    for code, name, budget in BUDGETS:
        value, limit = (float(x) for x in budget(known))
        if limit > 0 and math.isfinite(value / limit):
            used[f"{code}: {name}"] = value / limit
    return used


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float] | None = None):
    """A plotly table of text cells, left-aligned, header in bold, columns as wide as ``widths`` (ratios; equal by
    default) but never narrower than their longest word (plotly wraps a cell between words only, and would cut an
    id); the trace and the height its rows take once their texts wrap, in pixels."""
    import math

    import plotly.graph_objects as go

    ratios = list(widths or [1.0] * len(headers))
    columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in headers]
    longest = [
        max((len(word) for text in (h, *c) for word in text.split()), default=1)
        for h, c in zip(headers, columns, strict=True)
    ]
    px = [max(TABLE_PX * r / sum(ratios), CHAR_PX * n + 20) for r, n in zip(ratios, longest, strict=True)]
    chars = [max(1, int(TABLE_PX * w / sum(px) / CHAR_PX) - 2) for w in px]
    lines = [max(math.ceil(len(cell) / c) for cell, c in zip(row, chars, strict=True)) for row in rows]
    trace = go.Table(
        columnwidth=px,
        header={"values": [f"<b>{h}</b>" for h in headers], "align": "left", "fill_color": "#e8eef5"},
        cells={"values": columns, "align": "left"},
    )
    return trace, HEADER_PX + ROW_PX + sum(ROW_PX + LINE_PX * (n - 1) for n in lines)  # a row to spare


def _stack(specs: Sequence[tuple[str, str, int]]):
    """Rows of one figure, each ``(kind, title, height in px)`` (kind ``table`` or ``xy``), with room between them
    for titles and tick labels; the figure and its height."""
    from plotly.subplots import make_subplots

    gap = 120
    height = sum(px for *_, px in specs) + gap * (len(specs) - 1)
    figure = make_subplots(
        rows=len(specs),
        cols=1,
        specs=[[{"type": kind}] for kind, *_ in specs],
        row_heights=[px for *_, px in specs],
        vertical_spacing=gap / height if len(specs) > 1 else 0,
        subplot_titles=[title for _, title, _ in specs],
    )
    return figure, height


def _design_lines(reports) -> list[str]:
    return [f"Design {r.name}: {r.file or '(not from a file)'}" + _lineage(r.lineage) for r in reports]


def _lineage(lineage: Sequence[str]) -> str:
    return f" (extends {' → '.join(lineage[:-1])})" if len(lineage) > 1 else ""


CATALOG_LINE = "Catalog: the built-in parts catalog, every figure with its source or assumption (docs/catalog.md)."


# --- evaluate -------------------------------------------------------------------------------------------------


def evaluate_figure(reports, delivery: bool):
    """The evaluate page: each design's headline figures (a table, a column per design), its budgets against their
    ratings (bars, % of the limit, a line at the limit) and where its heat goes (stacked bars, kW)."""
    import plotly.graph_objects as go

    flats = [r.flat() for r in reports]
    keys = [k for k in HEADLINE_FIGURES if any(k in flat for flat in flats)]
    rows = [[figure_format(k).heading, *(figure_format(k).value(flat.get(k)) for flat in flats)] for k in keys]
    counts = (f"{len(r.errors)}/{len(r.violations) - len(r.errors)}" for r in reports)
    rows.append(["Rule violations (errors/warnings)", *counts])
    table, table_px = _table(["figure", *(r.name for r in reports)], rows, [2.0] + [1.0] * len(reports))
    uses = [budget_use(r.figures) for r in reports]
    budgets = [b for b in (f"{code}: {name}" for code, name, _ in BUDGETS) if any(b in use for use in uses)]
    figure, height = _stack(
        [
            ("table", "Headline figures", table_px),
            (
                "xy",
                "Budgets against their ratings (the design rule that checks each)",
                80 + 22 * len(budgets) * len(reports),
            ),
            ("xy", "Where the heat goes", 320),
        ]
    )
    figure.add_trace(table, row=1, col=1)
    for report, use in zip(reports, uses, strict=True):
        figure.add_trace(
            go.Bar(
                y=list(use),
                x=list(use.values()),
                orientation="h",
                name=report.name,
                text=[format_value(v, SHARE) for v in use.values()],
                textposition="outside",
                cliponaxis=False,
            ),
            row=2,
            col=1,
        )
    if budgets:
        limit = {"x": [1.0, 1.0], "y": [budgets[0], budgets[-1]], "mode": "lines", "name": "limit (100%)"}
        figure.add_trace(go.Scatter(**limit, line={"dash": "dash", "color": "#e45756"}), row=2, col=1)
    _heat_paths(figure, reports, flats)
    figure.update_yaxes(
        title_text="budget (rule: used / limit)",
        categoryorder="array",
        categoryarray=budgets,
        autorange="reversed",
        automargin=True,
        row=2,
        col=1,
    )
    top = 1.15 * max([1.0, *(share for use in uses for share in use.values())])  # the limit and the labels in view
    figure.update_xaxes(title_text="share of the limit used (%)", tickformat=".0%", range=[0, top], row=2, col=1)
    figure.update_xaxes(title_text="design", row=3, col=1)
    figure.update_yaxes(title_text="heat (kW)", row=3, col=1)
    inputs = [*_design_lines(reports), CATALOG_LINE]
    if delivery:
        inputs.append(
            "Delivery: Llama 3 405B and DeepSeek-V3 training (delivered, not peak) and Llama 3 70B serving on 100 MW"
            " of rack input power (docs/perf-model.md)."
        )
    title = "Rack evaluation: " + ", ".join(r.name for r in reports)
    figure.update_layout(
        **headline_layout(title, _evaluate_headline(reports, uses), inputs),
        height=height + 200 + 21 * len(inputs),
        barmode="group",
    )
    return figure


def _heat_paths(figure, reports, flats) -> None:
    """Row 3 of the evaluate page: each design's heat by the path it leaves by, stacked by hand (``base``), since
    the page's other bars are grouped."""
    import plotly.graph_objects as go

    below = [0.0 for _ in reports]
    for key, colour in HEAT_PATHS:
        heat = [flat.get(key) or 0.0 for flat in flats]
        figure.add_trace(
            go.Bar(
                x=[r.name for r in reports],
                y=heat,
                base=below,
                offsetgroup="heat",
                name=figure_format(key).label,
                marker_color=colour,
            ),
            row=3,
            col=1,
        )
        below = [b + h for b, h in zip(below, heat, strict=True)]


def _evaluate_headline(reports, uses: list[dict[str, float]]) -> str:
    broken = [r.name for r in reports if r.errors]
    text = f"{len(reports)} design(s), {len(broken)} breaking a rule" + (f" ({', '.join(broken)})" if broken else "")
    for report in reports[:3]:
        flat = report.flat()
        text += (
            f"; {report.name}: {_shown('power.it_load_kw', flat.get('power.it_load_kw'))} IT load, "
            f"{_shown('cost.bom_usd', flat.get('cost.bom_usd'))}"
        )
    tightest = [(share, budget, r.name) for r, use in zip(reports, uses, strict=True) for budget, share in use.items()]
    if tightest:
        share, budget, name = max(tightest)
        text += f"; tightest budget {budget.split(':')[0]} at {format_value(share, SHARE)} ({name})"
    return text


# --- check ----------------------------------------------------------------------------------------------------


def check_figure(reports):
    """The check page: rules passed, broken by severity and not applicable per design (stacked bars), every rule
    with its code, what it checks and each design's result (``n/a`` with the reason where the design lacks what the
    rule checks, :mod:`rackwright.rack.rule_status`), and the violations with their fixes (a table)."""
    import plotly.graph_objects as go

    from ..rack.rule_status import rule_statuses, status_counts
    from ..rack.rules import SUMMARIES
    from .present import rule_counts_text

    names = [r.name for r in reports]
    statuses = [rule_statuses(r) for r in reports]
    rule_rows = [
        [code, SUMMARIES[code], *(_rule_cell(records[i]) for records in statuses)]
        for i, code in enumerate(sorted(SUMMARIES))
    ]
    rules, rules_px = _table(["code", "rule", *names], rule_rows, [1.0, 4.0, *([2.5] * len(names))])
    violations = [[r.name, v.code, v.severity, v.path, v.message, v.hint] for r in reports for v in r.violations]
    broken, broken_px = _table(
        ["design", "code", "severity", "field", "message", "fix"],
        violations or [["(none)", "", "", "", "every design passes every rule that applies", ""]],
        [1.5, 1.0, 1.0, 1.5, 4.0, 4.0],
    )
    figure, height = _stack(
        [
            ("xy", "Rules passed, broken by severity and not applicable", 320),
            ("table", "Rules: code, what each checks, the result per design (n/a: not applicable, why)", rules_px),
            ("table", "Violations", broken_px),
        ]
    )
    for outcome, colour in (("pass", "#54a24b"), ("warning", "#f58518"), ("error", "#e45756"), ("n/a", "#bab0ac")):
        counts = [sum(1 for r in records if _rule_cell(r).partition(":")[0] == outcome) for records in statuses]
        figure.add_trace(go.Bar(x=names, y=counts, name=outcome, marker_color=colour, text=counts), row=1, col=1)
    figure.add_trace(rules, row=2, col=1)
    figure.add_trace(broken, row=3, col=1)
    figure.update_xaxes(title_text="design", row=1, col=1)
    figure.update_yaxes(title_text="rules", row=1, col=1)
    errors = sum(len(r.errors) for r in reports)
    headline = (
        f"{len(reports)} design(s) checked against {len(SUMMARIES)} rules: "
        f"{sum(1 for r in reports if not r.violations)} pass every rule that applies; "
        f"{errors} error(s), {len(violations) - errors} warning(s). "
        + "; ".join(f"{r.name}: {rule_counts_text(status_counts(s))}" for r, s in zip(reports, statuses, strict=True))
    )
    figure.update_layout(
        **headline_layout("Design rules: " + ", ".join(names), headline, [*_design_lines(reports), CATALOG_LINE]),
        height=height + 220 + 21 * len(reports),
        barmode="stack",
    )
    return figure


def _rule_cell(record: dict) -> str:
    """A rule's result in the page's table: ``pass``, the worst severity of a broken rule (``error``,
    ``warning``), or ``n/a: why`` for a rule that does not apply."""
    if record["status"] == "broken":
        return record["severity"]
    return f"n/a: {record['reason']}" if record["status"] == "not_applicable" else "pass"


# --- compare --------------------------------------------------------------------------------------------------


def compare_figure(before, after, fields, figures):
    """The compare page: the relative change of each figure that differs (bars, %), the change of each share
    (bars, percentage points), the figures that differ and the design fields that differ (tables); every number
    as ``rackwright compare`` prints it (report.present.change_cells)."""
    import plotly.graph_objects as go

    cells = {c.key: change_cells(c) for c in figures}
    shares = [c for c in figures if figure_format(c.key).kind == SHARE]
    others = [c for c in figures if figure_format(c.key).kind != SHARE and c.relative is not None]
    figure_table, figure_px = _table(
        ["figure", "unit", "before", "after", "change", "relative"],
        list(cells.values()) or [["(none)", "", "", "", "", ""]],
        [3.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    )
    field_rows = [[c.path, _text(c.before), _text(c.after)] for c in fields] or [["(none)", "", ""]]
    table, table_px = _table(["field", "before", "after"], field_rows, [1.0, 2.0, 2.0])
    figure, height = _stack(
        [
            ("xy", "Relative change of each figure that differs (after vs before)", 120 + 22 * max(len(others), 1)),
            ("xy", "Change of each share, in percentage points", 120 + 22 * max(len(shares), 1)),
            ("table", "Figures that differ", figure_px),
            ("table", "Design fields that differ", table_px),
        ]
    )
    for row, changes, values, texts in (
        (1, others, [c.relative for c in others], [cells[c.key][5] for c in others]),
        (2, shares, [100 * c.absolute for c in shares], [cells[c.key][4] for c in shares]),
    ):
        figure.add_trace(
            go.Bar(
                y=[figure_format(c.key).heading for c in changes],
                x=values,
                orientation="h",
                text=texts,
                textposition="outside",
                cliponaxis=False,
                marker_color=["#4c78a8" if v >= 0 else "#e45756" for v in values],
                showlegend=False,
            ),
            row=row,
            col=1,
        )
    figure.add_trace(figure_table, row=3, col=1)
    figure.add_trace(table, row=4, col=1)
    figure.update_xaxes(title_text="relative change (%)", tickformat="+.0%", row=1, col=1)
    figure.update_xaxes(title_text="change (pp, percentage points)", row=2, col=1)
    for row in (1, 2):
        figure.update_yaxes(title_text="figure (unit)", autorange="reversed", automargin=True, row=row, col=1)
    inputs = [
        *_design_lines([before, after]),
        CATALOG_LINE,
        "Delivery figures on the reference workloads (docs/perf-model.md).",
    ]
    figure.update_layout(
        **headline_layout(f"{before.name} → {after.name}", _compare_headline(fields, cells), inputs),
        height=height + 220 + 21 * len(inputs),
    )
    return figure


def _compare_headline(fields, cells: dict[str, list[str]]) -> str:
    """The fields and figures that differ, with the IT load, BOM cost and weight as the figure table shows them."""
    text = f"{len(fields)} design field(s) and {len(cells)} figure(s) differ"
    for key in (k for k in ("power.it_load_kw", "cost.bom_usd", "mechanical.weight_kg") if k in cells):
        label, unit, before, after, _, relative = cells[key]
        text += f"; {label} {before} {unit} → {after} {unit} ({relative})"
    return text


def _text(value) -> str:
    """A design field's value as text, lists and mappings written out; a source's address is left out (it stays in
    compare.json), so that the page links nowhere outside its folder."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items() if k != "url")
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    return "–" if value is None else format_value(value) if isinstance(value, float) else str(value)


# --- catalog show ---------------------------------------------------------------------------------------------


def part_rows(part) -> list[list[str]]:
    """Each figure of a part: its label, its value as ``catalog show`` prints it (report.present.part_shown:
    ``30,000 USD``, ``52 weeks``, ``5.0%``; a spec by present.spec_text), what it rests on (its source's quality,
    title and date, or the assumption with its reason), and its field as the catalog YAML names it."""
    shown = part_shown(part.model_dump(mode="json"))
    figures = [key for key in PART if shown.get(key) is not None]
    origin = f"made in {part.origin.manufacture}, assembled in {part.origin.assembled_in}"
    rows = [
        *([spec_label(name), spec_text(name, value), name] for name, value in part.specs.items()),
        *([figure_format(f"part.{key}").label, shown[key], key] for key in figures),
        ["Origin", origin, "origin"],
    ]
    basis = {"afr": "reliability", "mtbf_h": "reliability"}
    return [[label, value, _basis(part, basis.get(field, field)), field] for label, value, field in rows]


#: Words of a spec field's name written otherwise in its label.
WORDS = {"hbm": "HBM", "psu": "PSU", "cop": "COP", "flops": "FLOP/s"}


def spec_label(name: str) -> str:
    """A spec field's name in words: ``max_facility_supply`` is "Max facility supply", ``peak_flops`` "Peak
    FLOP/s"."""
    words = " ".join(WORDS.get(w, w) for w in name.split("_"))
    return words[:1].upper() + words[1:]


def _basis(part, name: str) -> str:
    """What a field rests on (catalog/schema.py): its own source, else its assumption, else the part's source."""
    source = part.field_sources.get(name)
    if source is None and name in part.assumptions:
        return f"assumption: {part.assumptions[name]}"
    source = source or part.source
    return f"{source.source_quality}: {source.title} ({source.date})"


def part_figure(part):
    """The catalog show page: every figure of the part with what it rests on (a table), and how many figures rest
    on each quality of source or on an assumption (bars)."""
    import plotly.graph_objects as go

    rows = part_rows(part)
    bases = Counter(row[2].split(":", 1)[0] for row in rows)
    order = [b for b in ("primary", "secondary", "estimate", "assumption") if b in bases]
    table, table_px = _table(["figure", "value", "rests on", "YAML field"], rows, [1.2, 1.5, 4.0, 1.0])
    figure, height = _stack(
        [("table", "Figures and what each rests on", table_px), ("xy", "Figures by what they rest on", 300)]
    )
    figure.add_trace(table, row=1, col=1)
    counts = [bases[b] for b in order]
    figure.add_trace(go.Bar(x=order, y=counts, text=counts, marker_color="#4c78a8"), row=2, col=1)
    figure.update_xaxes(title_text="basis (source quality, or an assumption)", row=2, col=1)
    figure.update_yaxes(title_text="figures", row=2, col=1)
    values = {row[3]: row[1] for row in rows}
    headline = (
        f"{values['price_usd']}, lead time {values['lead_time_weeks']}, "
        f"made in {part.origin.manufacture}; {len(rows)} figures: "
        + ", ".join(f"{bases[b]} on {b + 's' if b == 'assumption' else b + ' sources'}" for b in order)
    )
    inputs = [
        f"Part {part.id} ({part.kind}, {part.category}): {part.manufacturer} {part.model}.",
        "Catalog: the built-in parts catalog; the sources' addresses are in part.json (docs/catalog.md).",
    ]
    figure.update_layout(
        **headline_layout(f"{part.manufacturer} {part.model}", headline, inputs), height=height + 260, showlegend=False
    )
    return figure


# --- sourcing build-date --------------------------------------------------------------------------------------


def build_date_figure(doc: dict, scenario: str | None):
    """The build-date page: each critical part's wait from the order to its first delivery (its lead time) and on
    to enough units for every rack (its supply), as a ladder of dated bars, with the rack dates marked."""
    import plotly.graph_objects as go

    parts = doc["critical_parts"]
    title = "Critical parts: lead time, then supply until enough for every rack"
    figure, height = _stack([("xy", title, 160 + 40 * len(parts))])
    for label, start, end, colour in (
        ("lead time (order → first delivery)", "order", "first_delivery", "#4c78a8"),
        ("supply (first delivery → enough for all racks)", "first_delivery", "ready", "#f58518"),
    ):
        starts = [doc["order_date"] if start == "order" else p[start] for p in parts]
        figure.add_trace(
            go.Bar(
                y=[p["part"] for p in parts],
                x=[_days(s, p[end]) * DAY_MS for s, p in zip(starts, parts, strict=True)],
                base=starts,
                orientation="h",
                name=label,
                marker_color=colour,
                hovertext=[f"{s} → {p[end]}" for s, p in zip(starts, parts, strict=True)],
            )
        )
    for key, text, where in (
        ("first_rack_date", "first rack", "top left"),
        ("last_rack_date", f"rack {doc['racks']:,}", "bottom right"),
    ):
        figure.add_vline(
            x=_days("1970-01-01", doc[key]) * DAY_MS,
            line={"dash": "dash"},
            annotation_text=f"{text} {doc[key]}",
            annotation_position=where,
        )
    figure.update_xaxes(title_text="date", type="date")
    figure.update_yaxes(title_text="part", autorange="reversed", automargin=True)
    headline = (
        f"first rack {doc['first_rack_date']}, rack {doc['racks']:,} {doc['last_rack_date']} "
        f"(order {doc['order_date']}, +{doc['integration_days']:g} days integration and test)"
    )
    inputs = [
        f"Design: {doc['design']}; order date {doc['order_date']}; {doc['racks']:,} rack(s).",
        f"Scenario: {scenario}." if scenario else "Scenario: none (the catalog's lead times, no supply caps).",
        f"Integration and test: {doc['integration_days']:g} days after the last part arrives (an assumption).",
    ]
    figure.update_layout(
        **headline_layout(f"{doc['design']}: earliest build dates", headline, inputs),
        height=height + 220,
        barmode="overlay",
    )
    return figure


#: A day in milliseconds, the unit of a span on plotly's date axis.
DAY_MS = 86_400_000


def _days(start: str, end: str) -> int:
    from datetime import date

    return (date.fromisoformat(end) - date.fromisoformat(start)).days
