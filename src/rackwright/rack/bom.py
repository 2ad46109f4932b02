"""Bill of materials: the exploded parts of a rack design with cost, origin and lead time, and US content.

The lines are the evaluation chain's line items (:func:`rackwright.rack.chain.resolve`), so
the BOM and ``cost.bom_usd`` of the rack report always agree: every part in slots and
in the assemblies they hold (a compute tray's accelerators, a power shelf's PSUs),
the links' cables and optics, the enclosure, busbar and manifold, and the rack's
share of row-level equipment such as an in-row CDU. An assembly's own price excludes
the parts it contains, which have lines of their own.

US content (domestic share of cost) follows a rule chosen by name (see :data:`US_RULES`):

* ``own-value`` (default; the rule of ``sourcing.domestic_share``): each line's own cost
  counts as US-made when the part is made in the US; an assembly's own value counts
  where its final assembly takes place.
* ``final-assembly``: an assembly finally assembled in the US counts as US-made with
  everything it contains (a substantial-transformation reading of origin).
* ``manufacture``: the country of manufacture only, whatever the final assembly.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import asdict, dataclass

from ..catalog.specs import CATEGORIES
from .chain import RackModel

US_RULES = {
    "own-value": "a line counts as US-made when the part (for an assembly: its own final assembly) is in the US",
    "final-assembly": "an assembly finally assembled in the US counts as US-made with everything it contains",
    "manufacture": "a line counts as US-made when its country of manufacture is the US",
}
GROUPINGS = ("category", "origin", "supplier", "kind")


@dataclass(frozen=True)
class BomLine:
    part: str
    kind: str
    category: str
    manufacturer: str
    model: str
    assembly: str  # the assembly that contains it ("" at the top)
    level: int  # 0 for parts mounted or routed in the rack, 1 inside an assembly, ...
    quantity: float
    unit_usd: float
    extended_usd: float
    made_in: str  # country of manufacture
    assembled_in: str  # country of final assembly (= made_in for components)
    us_made: bool  # under the chosen US-content rule
    lead_time_weeks: float
    price_assumed: bool  # the price is an assumption, not a sourced figure
    # the date (YYYY[-MM[-DD]]) of the source the price cites (:func:`price_date`); None for an assumed price, and
    # where a line is made outside bom_lines (a programme's one-part line, which needs no date)
    price_date: str | None = None


def bom_lines(model: RackModel, racks: int = 1, rule: str = "own-value") -> list[BomLine]:
    """Lines of the exploded BOM for ``racks`` racks, one per part and containing assembly (first-seen order)."""
    if rule not in US_RULES:
        raise ValueError(f"unknown US-content rule {rule!r}; one of {', '.join(US_RULES)}")
    catalog = model.catalog
    lines: dict[tuple, BomLine] = {}
    for item in model.items:
        part = item.part
        key = (part.id, item.path, us_made(part, [catalog.get(p) for p in item.path], rule))
        quantity = item.count * racks * item.share + (lines[key].quantity if key in lines else 0.0)
        lines[key] = BomLine(
            part=part.id,
            kind=part.kind,
            category=part.category,
            manufacturer=part.manufacturer,
            model=part.model,
            assembly=item.path[-1] if item.path else "",
            level=len(item.path),
            quantity=quantity,
            unit_usd=part.price_usd,
            extended_usd=quantity * part.price_usd,
            made_in=part.origin.manufacture,
            assembled_in=part.origin.assembled_in,
            us_made=key[2],
            lead_time_weeks=part.lead_time_weeks,
            price_assumed=part.is_assumed("price_usd"),
            price_date=price_date(part),
        )
    return list(lines.values())


def price_date(part) -> str | None:
    """The date of the source a part's price cites (its ``field_sources.price_usd``), None where the price is one
    of the catalog's assumptions, which carry no date."""
    source = part.field_sources.get("price_usd")
    return source.date if source is not None and not part.is_assumed("price_usd") else None


def prices_as_of(lines: list[BomLine]) -> dict:
    """How current the prices are: the oldest and newest date of the price sources the lines cite (None where no
    line cites a dated price), the parts priced that way, and the parts whose prices are undated assumptions with
    their share of the cost. Dates compare as written (YYYY before YYYY-MM before YYYY-MM-DD of the same year)."""
    dates = sorted({line.price_date for line in lines if line.price_date})
    undated = [line for line in lines if not line.price_date]
    cost = sum(line.extended_usd for line in lines)
    return {
        "oldest": dates[0] if dates else None,
        "newest": dates[-1] if dates else None,
        "dated_parts": sorted({line.part for line in lines if line.price_date}),
        "undated_parts": sorted({line.part for line in undated}),
        "undated_cost_share": sum(line.extended_usd for line in undated) / cost if cost else 0.0,
    }


def us_made(part, assemblies=(), rule: str = "own-value") -> bool:
    """Whether ``part`` (inside ``assemblies``, outermost first) counts as US-made under ``rule`` (:data:`US_RULES`)."""
    if rule == "manufacture":
        return part.origin.manufacture == "US"
    if rule == "final-assembly" and any(a.origin.final_assembly == "US" for a in assemblies):
        return True
    return part.origin.assembled_in == "US"


def totals(lines: list[BomLine], by: str = "category") -> dict[str, dict[str, float]]:
    """Cost, US-made cost, US share and quantity per group (category, origin, supplier or kind)."""
    key = {"category": "category", "origin": "made_in", "supplier": "manufacturer", "kind": "kind"}[by]
    groups: dict[str, dict[str, float]] = defaultdict(lambda: {"cost_usd": 0.0, "us_cost_usd": 0.0, "quantity": 0.0})
    for line in lines:
        group = groups[getattr(line, key)]
        group["cost_usd"] += line.extended_usd
        group["us_cost_usd"] += line.extended_usd if line.us_made else 0.0
        group["quantity"] += line.quantity
    order = CATEGORIES if by == "category" else sorted(groups, key=lambda g: -groups[g]["cost_usd"])
    return {
        g: {**groups[g], "us_share": groups[g]["us_cost_usd"] / groups[g]["cost_usd"] if groups[g]["cost_usd"] else 0.0}
        for g in order
        if g in groups
    }


def content_summary(lines: list[BomLine], racks: int) -> dict:
    """Cost per rack, US content in total and per category (categories with cost), longest lead time."""
    cost = sum(line.extended_usd for line in lines)
    us_cost = sum(line.extended_usd for line in lines if line.us_made)
    return {
        "usd_per_rack": cost / racks,
        "us_share": us_cost / cost if cost else 0.0,
        "us_share_by_category": {c: g["us_share"] for c, g in totals(lines, "category").items() if g["cost_usd"]},
        "longest_lead_time_weeks": max((line.lead_time_weeks for line in lines if line.quantity > 0), default=0.0),
    }


def bom_document(model: RackModel, racks: int = 1, by: str = "category", rule: str = "own-value") -> dict:
    """The ``rackwright bom --json`` document: lines, totals by group, US content by category and total."""
    lines = bom_lines(model, racks, rule)
    return {
        "design": model.design.name,
        "racks": racks,
        "us_rule": {"name": rule, "text": US_RULES[rule]},
        "total_usd": sum(line.extended_usd for line in lines),
        **content_summary(lines, racks),
        "prices_as_of": prices_as_of(lines),
        "totals": totals(lines, by),
        "lines": [asdict(line) for line in lines],
    }


def bom_csv(lines: list[BomLine]) -> str:
    """The lines as CSV (one header row), for spreadsheets and ERP imports."""
    buffer = io.StringIO()
    fields = list(BomLine.__dataclass_fields__)
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow(asdict(line))
    return buffer.getvalue()
