"""Rich tables for the CLI, built so that they never cut a number or an id.

:class:`FitTable` lays its columns out for the width it is printed at (80 characters when output is piped):
numbers and ids are never wrapped nor truncated, labels wrap between words, and when even that does not fit,
the columns marked as droppable go first, lowest priority first, then the columns marked as foldable print
below their left neighbour's cells, then the long URLs and paths in labels fold over lines (after a ``/`` or
before a ``-`` where they can), with a note saying what gave way. With ``wide`` nothing gives way and the table
prints as wide as it must (print it with ``crop=False``). Figures are formatted by
:mod:`rackwright.report.present`, from the figure table.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from ..errors import InputError
from ..rack.figures import SECTIONS
from .present import SHARE, change_cells, figure_format, format_value, section_of
from .words import break_offsets

#: Column kinds: a label wraps between words; an id or a number is printed whole on one line.
LABEL, ID, NUMBER = "label", "id", "number"
#: The section of the evaluation table that counts rule violations.
RULES_SECTION = "rules"
#: The evaluation table's sections: the figure table's, what the rack delivers, the rule count.
TABLE_SECTIONS = (*SECTIONS, "delivery", RULES_SECTION)
#: compare's sections: the fields that differ, then the figures that differ by the evaluation table's sections.
COMPARE_SECTIONS = ("fields", *SECTIONS, "delivery")
#: bom's sections: the exploded lines, the totals by group.
BOM_SECTIONS = ("lines", "totals")

#: A cell formatted the way figures are (kept for rackwright.server.web).
_fmt = format_value


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = LABEL
    drop: int = 0  # 0: always shown; when the table does not fit, the highest ``drop`` goes first
    fold: bool = False  # when the table still does not fit: its cells print below those of the column to its left

    @property
    def whole(self) -> bool:
        return self.kind != LABEL


#: A word of a label that may fold over lines when nothing else fits: a URL or a path (never a number or an id).
FOLDABLE = re.compile(r"\S*/\S*")
#: The narrowest a label column folds to.
FOLD_MIN = 12


def _words(text: Text, foldable: bool = False) -> int:
    """The longest word of ``text``; with ``foldable``, leaving out the words that may fold (URLs, paths)."""
    words = (word for line in text.plain.splitlines() for word in line.split())
    return max((len(w) for w in words if not (foldable and FOLDABLE.fullmatch(w))), default=0)


def fold_words(text: Text, width: int) -> Text:
    """``text`` with each URL or path longer than ``width`` broken over lines (its styles kept)."""
    offsets = [
        match.start() + offset
        for match in re.finditer(r"\S+", text.plain)
        if len(match.group()) > width and FOLDABLE.fullmatch(match.group())
        for offset in break_offsets(match.group(), width)
    ]
    return Text("\n").join(text.divide(offsets)) if offsets else text


def _stack(upper: Text, lower: Text, header: str) -> Text:
    """A folded column's cell below its neighbour's, marked with the column's header."""
    if not lower.plain:
        return upper
    return Text.assemble(upper, "\n", Text(f"{header}: ", style="dim"), lower)


def _lines(text: Text) -> int:
    return max((Text(line).cell_len for line in text.plain.splitlines()), default=0)


class FitTable:
    """A table that fits the width it is given without cutting a number or an id (a Rich renderable)."""

    def __init__(self, title: str, columns: Sequence[Column], *, wide: bool = False, hint: str = ""):
        self.title, self.columns, self.wide, self.hint = title, list(columns), wide, hint
        self.rows: list[tuple[list[Text], bool]] = []

    def add_row(self, *cells: str | Text, end_section: bool = False) -> None:
        self.rows.append(([c if isinstance(c, Text) else Text(c) for c in cells], end_section))

    def _cells(self, index: int, below: Sequence[int] = ()) -> list[Text]:
        """A column's cells, with those of the columns folded ``below`` it printed under each."""
        cells = [row[index] for row, _ in self.rows]
        for other in below:
            cells = [
                _stack(cell, row[other], self.columns[other].header)
                for cell, (row, _) in zip(cells, self.rows, strict=True)
            ]
        return cells

    def _range(self, index: int, below: Sequence[int] = ()) -> tuple[int, int, int]:
        """Least and most width of a column's content (padding aside), and the least it folds to."""
        header, cells = Text(self.columns[index].header), self._cells(index, below)
        if self.columns[index].whole:
            width = max(_words(header), *(_lines(c) for c in cells), 1)
            return width, max(width, _lines(header)), width
        least = max(_words(c) for c in (header, *cells)) or 1
        folded = max(_words(c, foldable=True) for c in (header, *cells))
        return least, max(_lines(c) for c in (header, *cells)) or 1, min(least, max(folded, FOLD_MIN))

    def layout(self, width: int) -> tuple[list[int], dict[int, int], dict[int, list[int]]]:
        """The columns shown (indices), their content widths and the columns folded below each, for ``width``."""
        shown = list(range(len(self.columns)))
        below: dict[int, list[int]] = {i: [] for i in shown}
        ranges = {i: self._range(i) for i in shown}

        def needed() -> int:
            return sum(widths[i] + 3 for i in shown) + 1  # padding 1 each side, a rule before each, one at the end

        # with wide, a number's or an id's header prints on one line too (its range's most)
        widths = {i: ranges[i][1 if self.wide and self.columns[i].whole else 0] for i in shown}
        droppable = sorted((c.drop, i) for i, c in enumerate(self.columns) if c.drop)
        while not self.wide and needed() > width and droppable:
            shown.remove(droppable.pop()[1])
        foldable = [i for i in shown if self.columns[i].fold and shown.index(i)]
        while not self.wide and needed() > width and foldable:
            column = foldable.pop()
            host = shown[shown.index(column) - 1]
            shown.remove(column)
            below[host] += [column, *below.pop(column)]
            ranges[host] = self._range(host, below[host])
            widths[host] = ranges[host][0]
        while not self.wide and needed() > width:  # the widest label that can fold gives a character
            room = [(widths[i] - ranges[i][2], i) for i in shown if widths[i] > ranges[i][2]]
            if not room:
                break
            widths[max(room)[1]] -= 1
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
        return shown, {i: widths[i] for i in shown}, {i: below[i] for i in shown if below[i]}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        shown, widths, below = self.layout(options.max_width)
        table = Table(title=self.title)
        columns = []
        for i in shown:
            column = self.columns[i]
            justify: Literal["left", "right"] = "right" if column.kind == NUMBER else "left"
            header = Text(column.header, justify=justify, no_wrap=False)
            table.add_column(header, width=widths[i], no_wrap=column.whole, justify=justify)
            cells = self._cells(i, below.get(i, ()))
            columns.append(cells if column.whole else [fold_words(c, widths[i]) for c in cells])
        for row, (_, end_section) in zip(zip(*columns, strict=True), self.rows, strict=True):
            table.add_row(*row, end_section=end_section)
        total = sum(widths.values()) + 3 * len(shown) + 1
        yield from console.render(table, options.update_width(max(total, options.max_width)))
        yield from self._notes(options.max_width, shown, below)

    def _notes(self, width: int, shown: list[int], below: dict[int, list[int]]) -> RenderResult:
        """What gave way to fit ``width``: the columns left out, those printed below another."""
        header = [_one_line(c.header) for c in self.columns]
        more = f"; {self.hint}" if self.hint else ""
        dropped = [
            header[i] for i in range(len(self.columns)) if i not in shown and not any(i in b for b in below.values())
        ]
        if dropped:
            yield Text(f"Left out to fit {width} characters: {', '.join(dropped)}{more}.", style="dim")
        folded = [f"{', '.join(header[j] for j in b)} below {header[i]}" for i, b in below.items()]
        if folded:
            yield Text(f"Printed to fit {width} characters: {'; '.join(folded)}{more}.", style="dim")


def _one_line(header: str) -> str:
    """A column header on one line, for a note: its lines joined by a space, a word that a hyphen and a break split
    (``micro- batch``, ``micro-\\nbatch``) joined whole."""
    return re.sub(r"(?<=\w)- +(?=\w)", "-", header.replace("\n", " "))


WIDE_HINT = "--wide shows them"


def figures_table(
    title: str, rows: Iterable[tuple[str, str, str]], wide: bool = False, headers: tuple[str, str] = ("figure", "value")
) -> FitTable:
    """A result's headline figures, one ``(label, value as shown, unit)`` row each (labels wrap; ``wide``: each on
    one line), as ``perf``, ``factory simulate`` and ``reliability job`` print them; ``headers`` of the label and
    value columns."""
    figure = Column(headers[0], ID if wide else LABEL)
    table = FitTable(title, [figure, Column(headers[1], NUMBER), Column("unit", ID)], wide=wide)
    for row in rows:
        table.add_row(*row)
    return table


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
            table.add_row(
                shown.label,
                shown.shown_unit,
                *shown.row([flat.get(key) for flat in flats]),
                end_section=key == rows[-1],
            )
        if section == RULES_SECTION:
            counts = (f"{len(r.errors)}/{len(r.violations) - len(r.errors)}" for r in reports)
            table.add_row("violations (errors/warnings)", "", *counts, end_section=True)
    return table


def table_sections(only: str | None, sections: Sequence[str] = TABLE_SECTIONS) -> list[str] | None:
    """The ``sections`` that ``--only`` names (comma-separated; None: all), checked before any design is read."""
    if only is None:
        return None
    chosen = [s.strip() for s in only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in sections]
    if unknown or not chosen:
        raise InputError.single(
            None,
            f"no section {', '.join(unknown) or '(none given)'}",
            "--only",
            f"one or more of: {', '.join(sections)}",
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


def compare_tables(fields, figures, *, only: Collection[str] | None = None, wide: bool = False) -> list[FitTable]:
    """The fields that differ and the figures that differ; ``only`` the named sections (:data:`COMPARE_SECTIONS`)."""
    field_table = FitTable(
        "Fields that differ",
        [Column("field", ID), Column("before"), Column("after", fold=True)],
        wide=wide,
        hint=WIDE_HINT,
    )
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
    for change in (c for c in figures if only is None or section_of(c.key) in only):
        figure_table.add_row(*change_cells(change))
    wanted = (True, True) if only is None else ("fields" in only, any(s != "fields" for s in only))
    return [table for table, shown in zip((field_table, figure_table), wanted, strict=True) if shown]


def catalog_table(parts, *, wide: bool = False) -> FitTable:
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
        wide=wide,
        hint=WIDE_HINT,
    )
    for p in parts:
        table.add_row(p.id, p.kind, p.manufacturer, p.model, format_value(p.price_usd, "money"), p.origin.assembled_in)
    return table


def bom_tables(doc: dict, by: str, *, only: Collection[str] | None = None, wide: bool = False) -> list[FitTable]:
    """The exploded lines (indented by assembly level) and the totals by group; ``only`` the named sections
    (:data:`BOM_SECTIONS`)."""
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
        [Column(by), Column("quantity", NUMBER), Column("cost USD", NUMBER), Column("US share", NUMBER)],
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
    return [t for name, t in zip(BOM_SECTIONS, (lines, groups), strict=True) if only is None or name in only]
