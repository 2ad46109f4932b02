"""Rich tables for the CLI."""

from __future__ import annotations

import math

from rich.markup import escape
from rich.table import Table

from ..rack.figures import FIGURES


def _fmt(value) -> str:
    """A cell: numbers to 3-4 significant figures, text escaped so Rich prints brackets as written."""
    if isinstance(value, str):
        return escape(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-2):
            return f"{value:,.4g}" if abs(value) < 1e-2 else f"{value:,.0f}"
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def _label(key: str) -> str:
    for figure in FIGURES:
        prefix = f"{figure.section}.{figure.json}"
        if key == prefix:
            return escape(f"{figure.label}" + (f" [{figure.unit}]" if figure.unit else ""))
        if key.startswith(prefix + "."):
            return escape(f"{figure.label}: {key[len(prefix) + 1 :]}" + (f" [{figure.unit}]" if figure.unit else ""))
    return key


def evaluation_table(reports) -> Table:
    """One row per figure, one column per design."""
    table = Table(title="Rack evaluation", show_lines=False)
    table.add_column("section", style="dim")
    table.add_column("figure")
    for report in reports:
        table.add_column(escape(f"{report.name}\n({report.generation})"), justify="right")
    flats = [r.flat() for r in reports]
    keys = list(dict.fromkeys(k for flat in flats for k in flat))
    section = None
    for key in keys:
        this = key.split(".", 1)[0]
        table.add_row(this if this != section else "", _label(key), *(_fmt(flat.get(key)) for flat in flats))
        section = this
    table.add_row(
        "rules",
        "violations (errors/warnings)",
        *(f"{len(r.errors)}/{len(r.violations) - len(r.errors)}" for r in reports),
    )
    return table


def violations_table(report) -> Table:
    table = Table(
        title=f"{report.name}: {len(report.errors)} error(s), {len(report.violations) - len(report.errors)} warning(s)"
    )
    for column in ("code", "severity", "path", "message", "fix"):
        table.add_column(column, overflow="fold")
    for v in report.violations:
        style = "red" if v.severity == "error" else "yellow"
        table.add_row(v.code, f"[{style}]{v.severity}[/{style}]", escape(v.path), escape(v.message), escape(v.hint))
    return table


def compare_tables(lineages, fields, figures) -> tuple[Table, Table]:
    field_table = Table(title="Fields that differ")
    for column in ("field", "before", "after"):
        field_table.add_column(column, overflow="fold")
    for change in fields:
        field_table.add_row(escape(change.path), _fmt(change.before), _fmt(change.after))
    figure_table = Table(title="Figures that differ")
    for column in ("figure", "before", "after", "change", "relative"):
        figure_table.add_column(column, justify="right" if column != "figure" else "left")
    for change in figures:
        rel = change.relative
        figure_table.add_row(
            _label(change.key),
            _fmt(change.before),
            _fmt(change.after),
            _fmt(change.absolute),
            "–" if rel is None else f"{rel:+.1%}",
        )
    return field_table, figure_table


def catalog_table(parts) -> Table:
    table = Table(title=f"Catalog ({len(parts)} parts)")
    for column in ("id", "kind", "manufacturer", "model", "USD", "made in"):
        table.add_column(column, overflow="fold")
    for p in parts:
        table.add_row(
            p.id, p.kind, escape(p.manufacturer), escape(p.model), f"{p.price_usd:,.0f}", p.origin.assembled_in
        )
    return table


def bom_tables(doc: dict, by: str) -> tuple[Table, Table]:
    """The exploded lines (indented by assembly level) and the totals by group."""
    lines = Table(title=f"Bill of materials: {escape(doc['design'])} × {doc['racks']} rack(s)")
    for column in ("part", "kind", "qty", "unit USD", "extended USD", "assembled in", "US", "lead (wk)"):
        lines.add_column(column, justify="left" if column in ("part", "kind") else "right")
    for line in doc["lines"]:
        lines.add_row(
            "  " * line["level"] + escape(line["part"]),
            line["kind"],
            _fmt(line["quantity"]),
            f"{line['unit_usd']:,.0f}" + ("*" if line["price_assumed"] else ""),
            f"{line['extended_usd']:,.0f}",
            line["assembled_in"],
            "yes" if line["us_made"] else "",
            _fmt(line["lead_time_weeks"]),
        )
    groups = Table(title=f"Totals by {by} (US rule: {doc['us_rule']['name']}; * price is an assumption)")
    for column in (by, "quantity", "cost USD", "US share"):
        groups.add_column(column, justify="left" if column == by else "right")
    for name, group in doc["totals"].items():
        groups.add_row(escape(name), _fmt(group["quantity"]), f"{group['cost_usd']:,.0f}", f"{group['us_share']:.1%}")
    groups.add_row("total", "", f"{doc['total_usd']:,.0f}", f"{doc['us_share']:.1%}")
    return lines, groups
