"""Rich tables for the CLI, built so that they never cut a number or an id.

:class:`FitTable` lays its columns out for the width it is printed at (80 characters when output is piped):
numbers and ids are never wrapped nor truncated, labels wrap between words, and when even that does not fit,
the columns marked as droppable go first, lowest priority first, with a note saying which. With ``wide`` it
drops nothing and prints as wide as it must (print it with ``crop=False``). Figures are formatted by
:mod:`rackwright.report.present`, from the figure table.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from ..errors import InputError
from ..rack.figures import SECTIONS
from .present import SHARE, figure_format, format_value, section_of

#: Column kinds: a label wraps between words; an id or a number is printed whole on one line.
LABEL, ID, NUMBER = "label", "id", "number"
#: The section of the evaluation table that counts rule violations.
RULES_SECTION = "rules"
#: The evaluation table's sections: the figure table's, what the rack delivers, the rule count.
TABLE_SECTIONS = (*SECTIONS, "delivery", RULES_SECTION)

#: A cell formatted the way figures are (kept for rackwright.server.web).
_fmt = format_value


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = LABEL
    drop: int = 0  # 0: always shown; when the table does not fit, the highest ``drop`` goes first

    @property
    def whole(self) -> bool:
        return self.kind != LABEL


def _words(text: Text) -> int:
    return max((len(word) for line in text.plain.splitlines() for word in line.split()), default=0)


def _lines(text: Text) -> int:
    return max((Text(line).cell_len for line in text.plain.splitlines()), default=0)


class FitTable:
    """A table that fits the width it is given without cutting a number or an id (a Rich renderable)."""

    def __init__(self, title: str, columns: Sequence[Column], *, wide: bool = False, hint: str = ""):
        self.title, self.columns, self.wide, self.hint = title, list(columns), wide, hint
        self.rows: list[tuple[list[Text], bool]] = []

    def add_row(self, *cells: str | Text, end_section: bool = False) -> None:
        self.rows.append(([c if isinstance(c, Text) else Text(c) for c in cells], end_section))

    def _column_cells(self, index: int) -> list[Text]:
        return [Text(self.columns[index].header), *(row[index] for row, _ in self.rows)]

    def _range(self, index: int) -> tuple[int, int]:
        """Least and most width of a column's content (padding aside)."""
        header, *cells = self._column_cells(index)
        if self.columns[index].whole:
            width = max(_words(header), *(_lines(c) for c in cells), 1)
            return width, max(width, _lines(header))
        return max(_words(c) for c in (header, *cells)) or 1, max(_lines(c) for c in (header, *cells)) or 1

    def layout(self, width: int) -> tuple[list[int], dict[int, int]]:
        """The columns shown (indices) and their content widths, for ``width`` characters."""
        shown = list(range(len(self.columns)))
        ranges = {i: self._range(i) for i in shown}

        def needed() -> int:
            return sum(ranges[i][0] + 3 for i in shown) + 1  # padding 1 each side, a rule before each, one at the end

        droppable = sorted((c.drop, i) for i, c in enumerate(self.columns) if c.drop)
        while not self.wide and needed() > width and droppable:
            shown.remove(droppable.pop()[1])
        widths = {i: ranges[i][0] for i in shown}
        spare = width - needed()
        # the spare width goes first to the headers of whole columns (an id column's header on one line), then to
        # the column with most room left
        for group in ([i for i in shown if self.columns[i].whole], shown):
            while spare > 0:
                room = [(ranges[i][1] - widths[i], i) for i in group if ranges[i][1] > widths[i]]
                if not room:
                    break
                widths[max(room)[1]] += 1
                spare -= 1
        return shown, widths

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        shown, widths = self.layout(options.max_width)
        table = Table(title=self.title)
        for i in shown:
            column = self.columns[i]
            justify: Literal["left", "right"] = "right" if column.kind == NUMBER else "left"
            header = Text(column.header, justify=justify, no_wrap=False)
            table.add_column(header, width=widths[i], no_wrap=column.whole, justify=justify)
        for cells, end_section in self.rows:
            table.add_row(*(cells[i] for i in shown), end_section=end_section)
        total = sum(widths.values()) + 3 * len(shown) + 1
        yield from console.render(table, options.update_width(max(total, options.max_width)))
        dropped = [c.header.replace("\n", " ") for i, c in enumerate(self.columns) if i not in shown]
        if dropped:
            more = f"; {self.hint}" if self.hint else ""
            yield Text(f"Left out to fit {options.max_width} characters: {', '.join(dropped)}{more}.", style="dim")


WIDE_HINT = "--wide shows them"


def evaluation_table(reports, *, only: Collection[str] | None = None, wide: bool = False) -> FitTable:
    """One row per figure (label, unit, a value per design), in sections; ``only`` the named sections."""
    flats = [r.flat() for r in reports]
    keys = list(dict.fromkeys(k for flat in flats for k in flat))
    sections = list(dict.fromkeys([*(section_of(k) for k in keys), RULES_SECTION]))
    chosen = [s for s in sections if only is None or s in only]
    table = FitTable(
        "Rack evaluation",
        [Column("figure"), Column("unit"), *(Column(f"{r.name}\n({r.generation})", NUMBER) for r in reports)],
        wide=wide,
        hint=WIDE_HINT,
    )
    for section in chosen:
        table.add_row(Text(section, style="bold"), "", *("" for _ in reports))
        rows = [k for k in keys if section_of(k) == section]
        for key in rows:
            shown = figure_format(key)
            unit = "%" if shown.kind == SHARE else shown.unit
            table.add_row(
                shown.label, unit, *(shown.value(flat.get(key)) for flat in flats), end_section=key == rows[-1]
            )
        if section == RULES_SECTION:
            counts = (f"{len(r.errors)}/{len(r.violations) - len(r.errors)}" for r in reports)
            table.add_row("violations (errors/warnings)", "", *counts, end_section=True)
    return table


def table_sections(only: str) -> list[str]:
    """The sections ``--only`` names (comma-separated), checked before any design is evaluated."""
    chosen = [s.strip() for s in only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in TABLE_SECTIONS]
    if unknown or not chosen:
        raise InputError.single(
            None,
            f"no section {', '.join(unknown) or '(none given)'}",
            "--only",
            f"one or more of: {', '.join(TABLE_SECTIONS)}",
        )
    return chosen


def violations_table(report, *, wide: bool = False) -> FitTable:
    """One row per violation: code over severity, path, message then fix (one column, so that it fits 80)."""
    errors = len(report.errors)
    table = FitTable(
        f"{report.name}: {errors} error(s), {len(report.violations) - errors} warning(s)",
        [Column("rule", ID), Column("path", ID), Column("message and fix")],
        wide=wide,
        hint=WIDE_HINT,
    )
    for v in report.violations:
        rule = Text(f"{v.code}\n") + Text(v.severity, style="red" if v.severity == "error" else "yellow")
        table.add_row(rule, v.path, Text(v.message) + Text(f"\nfix: {v.hint}", style="dim"), end_section=True)
    return table


def _field_value(value) -> str:
    """A design field's value as text: lists and mappings written out, not as Python reprs."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_field_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_field_value(v) for v in value)
    return "–" if value is None else format_value(value) if isinstance(value, float) else str(value)


def compare_tables(fields, figures, *, wide: bool = False) -> tuple[FitTable, FitTable]:
    field_table = FitTable("Fields that differ", [Column("field", ID), Column("before"), Column("after")], wide=wide)
    for change in fields:
        field_table.add_row(change.path, _field_value(change.before), _field_value(change.after))
    figure_table = FitTable(
        "Figures that differ",
        [
            Column("figure"),
            Column("unit"),
            Column("before", NUMBER),
            Column("after", NUMBER),
            Column("change", NUMBER),
            Column("relative", NUMBER, drop=1),
        ],
        wide=wide,
        hint=WIDE_HINT,
    )
    for change in figures:
        shown = figure_format(change.key)
        rel = change.relative
        figure_table.add_row(
            shown.label,
            "%" if shown.kind == SHARE else shown.unit,
            shown.value(change.before),
            shown.value(change.after),
            shown.change(change.absolute),
            "–" if rel is None else f"{rel:+.1%}",
        )
    return field_table, figure_table


def catalog_table(parts) -> FitTable:
    table = FitTable(
        f"Catalog ({len(parts)} parts)",
        [
            Column("id", ID),
            Column("kind", ID, drop=3),
            Column("manufacturer", drop=1),
            Column("model", drop=2),
            Column("USD", NUMBER),
            Column("made in", ID, drop=4),
        ],
    )
    for p in parts:
        table.add_row(p.id, p.kind, p.manufacturer, p.model, format_value(p.price_usd, "money"), p.origin.assembled_in)
    return table


def bom_tables(doc: dict, by: str, *, wide: bool = False) -> tuple[FitTable, FitTable]:
    """The exploded lines (indented by assembly level) and the totals by group."""
    lines = FitTable(
        f"Bill of materials: {doc['design']} × {doc['racks']} rack(s)",
        [
            Column("part", ID),
            Column("kind", ID, drop=4),
            Column("qty", NUMBER),
            Column("unit USD", NUMBER),
            Column("extended USD", NUMBER),
            Column("made in", ID, drop=3),
            Column("US", ID, drop=2),
            Column("lead weeks", NUMBER, drop=1),
        ],
        wide=wide,
        hint=WIDE_HINT,
    )
    for line in doc["lines"]:
        lines.add_row(
            "  " * line["level"] + line["part"],
            line["kind"],
            format_value(line["quantity"], "count"),
            format_value(line["unit_usd"], "money") + ("*" if line["price_assumed"] else ""),
            format_value(line["extended_usd"], "money"),
            line["assembled_in"],
            "yes" if line["us_made"] else "",
            format_value(line["lead_time_weeks"], "count"),
        )
    groups = FitTable(
        f"Totals by {by} (US rule: {doc['us_rule']['name']}; * price is an assumption)",
        [Column(by, ID), Column("quantity", NUMBER), Column("cost USD", NUMBER), Column("US share", NUMBER)],
        wide=wide,
    )
    for name, group in doc["totals"].items():
        groups.add_row(
            name,
            format_value(group["quantity"], "count"),
            format_value(group["cost_usd"], "money"),
            format_value(group["us_share"], SHARE),
        )
    groups.add_row("total", "", format_value(doc["total_usd"], "money"), format_value(doc["us_share"], SHARE))
    return lines, groups
