"""Report pages made of HTML tables, no chart (presentation only): ``netbox push|diff``, ``catalog list`` and
``catalog import-netbox`` with ``-o DIR``.

A page opens with its title and headline numbers, then the inputs that drove them, then its sections (tables,
each cell whole: an id or a number never wraps, a label wraps between words). Numbers come formatted by
:mod:`rackwright.report.present`. A page loads nothing and links nowhere outside itself, and prints (the print
rules every report page carries, :data:`rackwright.report.html.PRINT_STYLE`; folded sections open to print).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from html import escape

from .html import PRINT_STYLE

#: The pages' style: compact tables, numbers right-aligned, ids and numbers on one line.
STYLE = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1400px;color:#222}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:1.4em 0 .4em}"
    "p.headline{font-size:15px;margin:0 0 .6em}ul.inputs{color:#444;font-size:13px;margin:.2em 0}"
    "table{border-collapse:collapse;font-size:13px;margin:.3em 0}"
    "th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}"
    "th{background:#e8eef5}td.n,th.n{text-align:right;white-space:nowrap}td.id{white-space:nowrap}"
    "tr.total td{font-weight:600;background:#f6f6f6}"
    "details{margin:.3em 0}summary{cursor:pointer;font-size:15px;font-weight:600;margin:.5em 0 .2em}"
    "@media print{details>*{display:block}}" + PRINT_STYLE
)
#: Folded sections open before printing, so that the paper holds every row.
OPEN_TO_PRINT = (
    "<script>addEventListener('beforeprint',function(){"
    "document.querySelectorAll('details').forEach(function(d){d.open=true})})</script>"
)
#: A table's column kinds: a label wraps between words, an id stays on one line, a number also aligns right.
LABEL, ID, NUMBER = "label", "id", "number"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    kinds: Sequence[str] = (),
    *,
    total: Sequence[str] | None = None,
) -> str:
    """An HTML table of text cells (escaped here), columns of ``kinds`` (:data:`LABEL` where not given), and a
    ``total`` row in bold under the rest where given."""
    kinds = list(kinds) + [LABEL] * (len(headers) - len(kinds))
    css = [" class='n'" if k == NUMBER else " class='id'" if k == ID else "" for k in kinds]
    aligned = [c if k == NUMBER else "" for k, c in zip(kinds, css, strict=True)]  # a heading over numbers: right
    head = "".join(f"<th{a}>{escape(h)}</th>" for h, a in zip(headers, aligned, strict=True))

    def row(cells: Sequence[str], attribute: str = "") -> str:
        return f"<tr{attribute}>{''.join(f'<td{c}>{escape(v)}</td>' for c, v in zip(css, cells, strict=True))}</tr>"

    body = "".join(row(cells) for cells in rows) + (row(total, " class='total'") if total is not None else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def folded(summary: str, content: str, *, open_: bool, anchor: str = "") -> str:
    """A section under a summary line that a reader opens or folds (open from the start with ``open_``)."""
    ident = f" id='{escape(anchor)}'" if anchor else ""
    return f"<details{ident}{' open' if open_ else ''}><summary>{escape(summary)}</summary>{content}</details>"


def page(
    title: str, headline: str, inputs: Collection[str], sections: Sequence[tuple[str, str]], *, counts: str = ""
) -> str:
    """A whole page: ``title``, the ``headline`` numbers and the table of ``counts`` they add up (HTML, where
    given), the ``inputs`` (a list), then each ``(heading, HTML)`` section."""
    lines = "".join(f"<li>{escape(line)}</li>" for line in inputs)
    body = "".join(f"<h2>{escape(heading)}</h2>{html}" for heading, html in sections)
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{STYLE}</style>"
        f"{OPEN_TO_PRINT}</head><body><h1>{escape(title)}</h1><p class='headline'>{escape(headline)}</p>{counts}"
        f"<h2>Inputs</h2><ul class='inputs'>{lines}</ul>{body}</body></html>\n"
    )
