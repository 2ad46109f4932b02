"""The report pages of ``catalog list -o DIR`` and ``catalog import-netbox FILE -o DIR`` (HTML tables;
presentation only).

The list page opens with its headline (parts, kinds, price range, sources by quality) and a table of the kinds by
category: parts, price range and median in USD, lead times. The parts follow grouped by kind, each kind folded
under its count (open from the start when the page lists few parts), every id and price whole. The import
page names what was imported (id, kind, and how the kind was found), what NetBox carried over, and what the part
still lacks before it can join the catalog.
"""

from __future__ import annotations

import statistics
from collections import Counter

from .pages import ID, LABEL, NUMBER, folded, page, table
from .present import COUNT, MONEY, format_value
from .rack_pages import CATALOG_LINE

#: A list page with at most this many parts shows every kind open; a longer one folds them under their counts.
OPEN_PARTS = 40


def _usd(value: float) -> str:
    return f"{format_value(value, MONEY)} USD"


def _weeks(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{format_value(low)} weeks" if low == high else f"{format_value(low)}–{format_value(high)} weeks"


def catalog_headline(parts) -> str:
    """``119 parts of 36 kind(s); price 12 to 3,000,000 USD; part sources: 40 primary, 50 secondary, 29 estimate``."""
    qualities = Counter(p.source.source_quality for p in parts)
    prices = [p.price_usd for p in parts]
    text = f"{format_value(len(parts), COUNT)} parts of {len({p.kind for p in parts})} kind(s)"
    if prices:
        text += f"; price {format_value(min(prices), MONEY)} to {format_value(max(prices), MONEY)} USD"
    return text + "; part sources: " + ", ".join(f"{qualities[q]} {q}" for q in ("primary", "secondary", "estimate"))


def catalog_inputs(kind: str | None, quality: str | None) -> list[str]:
    filters = [f"kind {kind}" if kind else "every kind", f"parts with a {quality} source" if quality else "any source"]
    return [CATALOG_LINE, "Filters: " + ", ".join(filters) + "."]


def _by_kind(parts) -> dict[tuple[str, str], list]:
    """The parts by (category, kind), categories and kinds in alphabetical order."""
    groups: dict[tuple[str, str], list] = {}
    for part in sorted(parts, key=lambda p: (p.category, p.kind)):
        groups.setdefault((part.category, part.kind), []).append(part)
    return groups


def _kind_row(category: str, kind: str, parts) -> list[str]:
    prices = [p.price_usd for p in parts]
    return [
        category,
        kind,
        format_value(len(parts), COUNT),
        _usd(min(prices)),
        _usd(statistics.median(prices)),
        _usd(max(prices)),
        _weeks([p.lead_time_weeks for p in parts]),
    ]


def _part_rows(parts, quality: str | None) -> list[list[str]]:
    return [
        [
            p.id,
            p.manufacturer,
            p.model,
            _usd(p.price_usd),
            p.origin.assembled_in,
            format_value(p.lead_time_weeks),
            ", ".join(p.fields_with_quality(quality)) if quality else str(p.source.source_quality),
        ]
        for p in parts
    ]


def catalog_page(parts, kind: str | None, quality: str | None) -> str:
    """The catalog list page: the kinds by category (parts, prices, lead times), then the parts of each kind."""
    groups = _by_kind(parts)
    kinds = table(
        ["category", "kind", "parts", "lowest price", "median price", "highest price", "lead time"],
        [_kind_row(*key, chosen) for key, chosen in groups.items()],
        [LABEL, ID, NUMBER, NUMBER, NUMBER, NUMBER, NUMBER],
    )
    basis = f"fields on {quality} sources" if quality else "source quality"
    headers = ["id", "manufacturer", "model", "price", "assembled in", "lead weeks", basis]
    sections = "".join(
        folded(
            f"{name} ({category}): {format_value(len(chosen), COUNT)} part(s)",
            table(headers, _part_rows(chosen, quality), [ID, LABEL, LABEL, NUMBER, ID, NUMBER, LABEL]),
            open_=len(parts) <= OPEN_PARTS,
            anchor=f"kind-{name}",
        )
        for (category, name), chosen in groups.items()
    )
    note = "" if len(parts) <= OPEN_PARTS else "<p>Each kind opens on a click (all open to print).</p>"
    return page(
        "Parts catalog",
        catalog_headline(parts),
        catalog_inputs(kind, quality),
        [("Kinds", kinds), ("Parts by kind", note + sections)],
    )


def import_page(doc: dict, file: str, kind_found: str) -> str:
    """The import-netbox page: the part as imported and how its kind was found, what NetBox carried over (its
    specs), and each field it lacks before it can join the catalog. ``doc`` is the command's document
    (``{part, missing}``, what ``--json`` prints)."""
    part, missing = doc["part"], doc["missing"]
    imported = table(
        ["id", "kind", "how the kind was found", "manufacturer", "model"],
        [[part["id"], part["kind"], kind_found, part["manufacturer"], part["model"]]],
        [ID, ID],
    )
    specs = table(["field", "value"], [[k, str(v)] for k, v in part["specs"].items()], [ID, LABEL])
    lacking = table(["field to add", "why"], [_missing_row(m) for m in missing], [ID, LABEL])
    headline = (
        f"Imported {part['id']} as {part['kind']} ({kind_found}); {format_value(len(part['specs']), COUNT)} "
        f"figure(s) carried over, {format_value(len(missing), COUNT)} field(s) to add before it can join the catalog"
    )
    return page(
        f"{part['manufacturer']} {part['model']} from NetBox",
        headline,
        [f"Device type file: {file} (NetBox devicetype-library YAML, or NetBox's own export)."],
        [("Carried over from NetBox", specs), ("To add before the part can join the catalog", lacking)],
        counts=imported,
    )


def _missing_row(field: str) -> list[str]:
    """A missing field and why: its own reason where the importer gives one (``airflow (NetBox 'mixed' has ...)``),
    else whether no NetBox device type records it or only this one lacks it."""
    from ..catalog.netbox import ALWAYS_MISSING

    name, _, reason = field.partition(" (")
    if reason:
        return [name, reason.removesuffix(")")]
    return [name, "no NetBox device type records it" if field in ALWAYS_MISSING else "this device type lacks it"]
