"""Sourcing what-ifs on a bill of materials, and the earliest date racks can be built.

A scenario file (YAML, validated by :class:`Scenario`) changes where and at what
price parts come from, and adds tariffs:

* ``substitutions``: parts matched by id, kind and/or category get a new origin, a
  price change (``"+12%"`` or a new ``price_usd``), a lead-time change and optionally
  a supplier capacity per week;
* ``second_sources``: a share of the matched parts comes from another source with its
  own origin, price and lead time (the line is split in two);
* ``tariffs``: a rate on the cost of lines made in a country (optionally one
  category), in force between two dates; the scenario's ``date`` says which apply.

:func:`whatif` returns baseline and scenario side by side: cost per rack (tariffs
included), the tariff bill, US content per category and in total, the longest lead time.

Earliest build date (formulas.md "Factory and supply"): a part ordered on the order
date arrives after its lead time, then at its supplier's capacity per week; the
N-th rack can be built when every part has delivered N racks' worth, plus the
integration and test time. The parts that set that date are the critical ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from pydantic import Field, ValidationError, field_validator, model_validator

from ..catalog.schema import Origin, Source
from ..catalog.specs import CATEGORIES
from ..errors import InputError
from ..validity import Name, number_in, require
from ..yamlio import Strict, problems_from_validation, read_yaml, to_plain
from .bom import BomLine, bom_lines, content_summary
from .chain import RackModel

_PERCENT = re.compile(r"^\s*([+-]?\d+(\.\d+)?)\s*%\s*$")


#: The most units of a part a week a supply cap or a substitution's capacity may name: a billion, beyond any
#: supplier (a larger cap is no cap; 1e300 is a typo).
MAX_PER_WEEK = 1e9


class PartMatch(Strict):
    """Which BOM lines a change applies to: every given field must match."""

    id: str | None = None
    kind: str | None = None
    category: str | None = None

    @model_validator(mode="after")
    def _something(self):
        if not (self.id or self.kind or self.category):
            raise ValueError("match parts by id, kind and/or category")
        if self.category and self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
        return self

    def matches(self, line: BomLine) -> bool:
        return all(
            v is None or v == getattr(line, k if k != "id" else "part")
            for k, v in (("id", self.id), ("kind", self.kind), ("category", self.category))
        )

    def describe(self) -> str:
        """``"id=nvidia-gb200, category=compute"``."""
        return ", ".join(
            f"{k}={v}" for k, v in (("id", self.id), ("kind", self.kind), ("category", self.category)) if v
        )


def _relative(value) -> float:
    """``"+12%"`` → 0.12; a number is taken as a fraction."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _PERCENT.match(str(value))
    if not match:
        raise ValueError(f'{value!r} is not a change like "+12%" or "-5%"')
    return float(match.group(1)) / 100.0


class SourceChange(Strict):
    """A new source for matched parts (used by substitutions and second sources)."""

    parts: PartMatch
    origin: Origin | None = None
    price_change: float | str | None = None
    price_usd: float | None = None
    lead_time_change_weeks: float | None = None
    lead_time_weeks: float | None = None
    capacity_per_week: float | None = Field(default=None, gt=0, le=MAX_PER_WEEK)
    source: Source | None = None
    assumption: str | None = None

    _price = field_validator("price_usd")(number_in("price"))
    _lead = field_validator("lead_time_weeks")(number_in("lead_time"))
    _lead_change = field_validator("lead_time_change_weeks")(number_in("lead_time_change"))

    @field_validator("price_change")
    @classmethod
    def _change(cls, value):
        if value is not None:
            require("price_change", _relative(value))
        return value

    @model_validator(mode="after")
    def _provenance(self):
        if self.source is None and not self.assumption:
            raise ValueError("give the change a source, or an assumption with the reason")
        return self

    def apply(self, line: BomLine, quantity: float) -> BomLine:
        unit = self.price_usd if self.price_usd is not None else line.unit_usd * (1 + _relative(self.price_change or 0))
        lead = (
            self.lead_time_weeks
            if self.lead_time_weeks is not None
            else max(0.0, line.lead_time_weeks + (self.lead_time_change_weeks or 0.0))
        )
        made_in = self.origin.manufacture if self.origin else line.made_in
        assembled_in = self.origin.assembled_in if self.origin else line.assembled_in
        return replace(
            line,
            quantity=quantity,
            unit_usd=unit,
            extended_usd=unit * quantity,
            made_in=made_in,
            assembled_in=assembled_in,
            us_made=assembled_in == "US",
            lead_time_weeks=lead,
        )


class SecondSource(SourceChange):
    share: float = Field(gt=0, lt=1)


class Tariff(Strict):
    origin: str
    rate: float
    category: str | None = None
    start: date = Field(alias="from")
    until: date | None = None
    source: Source | None = None
    assumption: str | None = None

    _rate = field_validator("rate")(number_in("tariff"))

    def in_force(self, on: date) -> bool:
        return self.start <= on and (self.until is None or on < self.until)

    def applies(self, line: BomLine, on: date) -> bool:
        return self.in_force(on) and self.covers(line)

    def covers(self, line: BomLine) -> bool:
        """The line is made where the tariff applies (on any date)."""
        return line.made_in == self.origin and self.category in (None, line.category)


class SupplyCap(Strict):
    """A supplier's capacity for matched parts, in units per week (for build dates)."""

    parts: PartMatch
    per_week: float = Field(gt=0, le=MAX_PER_WEEK)
    source: Source | None = None
    assumption: str | None = None


class Scenario(Strict):
    name: Name
    description: str = ""
    date: date
    substitutions: list[SourceChange] = Field(default_factory=list)
    second_sources: list[SecondSource] = Field(default_factory=list)
    tariffs: list[Tariff] = Field(default_factory=list)
    supply: list[SupplyCap] = Field(default_factory=list)

    def capacities(self, lines: list[BomLine]) -> dict[str, float]:
        """Units per week by part id, from supply caps and substitutions' capacities (the tighter wins)."""
        caps: dict[str, float] = {}
        limits = [(s.parts, s.per_week) for s in self.supply]
        limits += [(c.parts, c.capacity_per_week) for c in self.substitutions if c.capacity_per_week]
        for line in lines:
            for match, per_week in limits:
                if match.matches(line):
                    caps[line.part] = min(caps.get(line.part, per_week), per_week)
        return caps


def load_scenario(path) -> Scenario:
    root = read_yaml(path)
    try:
        return Scenario.model_validate(to_plain(root) if isinstance(root, dict) else root)
    except ValidationError as exc:
        raise InputError(str(path), problems_from_validation(exc, root)) from None


def unmatched(lines: list[BomLine], scenario: Scenario) -> list[str]:
    """A warning for each substitution, second source or supply cap that matches no BOM line, and each tariff
    that covers no line, before or after the scenario: the scenario then changes nothing there (a typo?)."""
    changes = [
        (f"{field}[{i}]", item.parts)
        for field in ("substitutions", "second_sources", "supply")
        for i, item in enumerate(getattr(scenario, field))
    ]
    warnings = [
        f"{where} (parts: {match.describe()}) matches no part of the design"
        for where, match in changes
        if not any(match.matches(line) for line in lines)
    ]
    both = lines + apply_scenario(lines, scenario)
    return warnings + [
        f"tariffs[{i}] (origin {t.origin}{f', category {t.category}' if t.category else ''}) "
        "covers no part of the design"
        for i, t in enumerate(scenario.tariffs)
        if not any(t.covers(line) for line in both)
    ]


def apply_scenario(lines: list[BomLine], scenario: Scenario) -> list[BomLine]:
    """The BOM lines with the scenario's substitutions and second sources applied."""
    out = []
    for line in lines:
        for change in scenario.substitutions:
            if change.parts.matches(line):
                line = change.apply(line, line.quantity)
        second = next((s for s in scenario.second_sources if s.parts.matches(line)), None)
        if second is None:
            out.append(line)
        else:
            out.append(
                replace(
                    line,
                    quantity=line.quantity * (1 - second.share),
                    extended_usd=line.extended_usd * (1 - second.share),
                )
            )
            out.append(second.apply(line, line.quantity * second.share))
    return out


def tariff_bill(lines: list[BomLine], tariffs: list[Tariff], on: date) -> float:
    """Σ rate · cost of the lines each tariff in force on ``on`` applies to."""
    return sum(t.rate * line.extended_usd for line in lines for t in tariffs if t.applies(line, on))


def summary(lines: list[BomLine], racks: int, tariffs: Sequence[Tariff] = (), on: date | None = None) -> dict:
    """:func:`rackwright.rack.bom.content_summary` with the tariffs in force on ``on`` added to the cost per rack."""
    tariff = tariff_bill(lines, list(tariffs), on) if on else 0.0
    out = content_summary(lines, racks)
    return {**out, "usd_per_rack": out["usd_per_rack"] + tariff / racks, "tariff_usd_per_rack": tariff / racks}


def whatif(model: RackModel, scenario: Scenario, racks: int = 1) -> dict:
    """Baseline vs scenario for ``racks`` racks (the ``rackwright sourcing whatif`` document)."""
    baseline = bom_lines(model, racks)
    changed = apply_scenario(baseline, scenario)
    before = summary(baseline, racks, scenario.tariffs, scenario.date)
    after = summary(changed, racks, scenario.tariffs, scenario.date)
    delta = {k: after[k] - before[k] for k, v in before.items() if isinstance(v, float)}
    return {
        "design": model.design.name,
        "scenario": scenario.name,
        "racks": racks,
        "date": scenario.date.isoformat(),
        "baseline": before,
        "what_if": after,
        "delta": delta,
        "warnings": unmatched(baseline, scenario),
    }


@dataclass(frozen=True)
class PartAvailability:
    part: str
    needed: float  # units for the N racks
    first_date: date  # first delivery (order date + lead time)
    ready_date: date  # enough delivered for N racks


def part_availability(
    lines: list[BomLine], racks: int, order: date, capacity: dict[str, float] | None = None
) -> list[PartAvailability]:
    """When each part has delivered enough for ``racks`` racks (lines are per rack).

    Deliveries start after the lead time; with a capacity of ``c`` units per week the
    ``n``-th unit arrives ``ceil(n / c)`` weeks later (the first week's batch at the
    lead time itself); without one, everything arrives at the lead time.
    """
    capacity = capacity or {}
    needed: dict[str, float] = {}
    lead: dict[str, float] = {}
    for line in lines:
        needed[line.part] = needed.get(line.part, 0.0) + line.quantity * racks
        lead[line.part] = max(lead.get(line.part, 0.0), line.lead_time_weeks)
    out = []
    for part, units in needed.items():
        first = order + timedelta(weeks=lead[part])
        weeks = max(math.ceil(units / capacity[part]) - 1, 0) if part in capacity else 0
        out.append(PartAvailability(part, units, first, first + timedelta(weeks=weeks)))
    return sorted(out, key=lambda a: a.ready_date, reverse=True)


def build_dates(
    model: RackModel, order: date, racks: int = 1, integration_days: float = 14.0, scenario: Scenario | None = None
) -> dict:
    """Earliest dates the first and the ``racks``-th rack can be built, and the critical parts."""
    lines = bom_lines(model, 1)
    capacity, warnings = {}, unmatched(lines, scenario) if scenario else []
    if scenario:
        lines = apply_scenario(lines, scenario)
        capacity = scenario.capacities(lines)
    try:  # (a date past 9999-12-31, or a delay of more than a billion days, is an OverflowError)
        first = part_availability(lines, 1, order, capacity)
        last = part_availability(lines, racks, order, capacity)
        integration = timedelta(days=integration_days)
        first_rack, last_rack = first[0].ready_date + integration, last[0].ready_date + integration
    except OverflowError:
        raise InputError.single(
            None,
            f"rack {racks:,} ordered on {order.isoformat()} would be built after "
            f"{date.max.isoformat()}, the end of the calendar",
            "--order-date",
            "an earlier order date, fewer racks, or more supply capacity in the scenario",
        ) from None
    return {
        "design": model.design.name,
        "order_date": order.isoformat(),
        "racks": racks,
        "integration_days": integration_days,
        "first_rack_date": first_rack.isoformat(),
        "last_rack_date": last_rack.isoformat(),
        "critical_parts": [
            {
                "part": a.part,
                "units": a.needed,
                "first_delivery": a.first_date.isoformat(),
                "ready": a.ready_date.isoformat(),
            }
            for a in last[:5]
        ],
        "warnings": warnings,
    }


_SWEEP = re.compile(r"^(?P<path>[a-z_]+\[\d+\]\.[a-z_]+)=(?P<start>[-+\d.eE]+):(?P<stop>[-+\d.eE]+):(?P<steps>\d+)$")


#: Most values of one ``--sweep`` (each is a full what-if).
MAX_SWEEP_STEPS = 1000


def parse_sweep(text: str) -> tuple[str, list[float]]:
    """``"substitutions[0].price_change=0:0.3:7"`` → the field path and 7 evenly spaced values."""
    match = _SWEEP.match(text.strip())
    if not match or int(match["steps"]) < 2:
        raise ValueError(
            "write the sweep as FIELD[i].name=start:stop:steps, e.g. substitutions[0].price_change=0:0.3:7"
        )
    start, stop, steps = float(match["start"]), float(match["stop"]), int(match["steps"])
    if steps > MAX_SWEEP_STEPS:
        raise ValueError(f"a sweep has 2 to {MAX_SWEEP_STEPS:,} steps, not {steps:,} (each step is a what-if)")
    return match["path"], [start + (stop - start) * i / (steps - 1) for i in range(steps)]


def sweep(model: RackModel, scenario: Scenario, path: str, values: list[float], racks: int = 1) -> list[dict]:
    """The what-if at each value of one scenario field (e.g. a substitution's price change)."""
    match = re.match(r"^([a-z_]+)\[(\d+)\]\.([a-z_]+)$", path)
    if match is None:
        raise ValueError(f"the scenario has no field {path!r}")
    field, index, name = match.groups()
    items = getattr(scenario, field, None)
    if not isinstance(items, list) or int(index) >= len(items) or name not in type(items[int(index)]).model_fields:
        raise ValueError(f"the scenario has no field {path!r}")
    rows = []
    for value in values:
        data = scenario.model_dump(by_alias=True)
        data[field][int(index)][name] = value
        rows.append({"value": value, **whatif(model, Scenario.model_validate(data), racks)["what_if"]})
    return rows


#: The what-if's own figures (:func:`summary`'s keys), before US content by category (report.present.WHATIF).
WHATIF_FIGURES = ("usd_per_rack", "tariff_usd_per_rack", "us_share", "longest_lead_time_weeks")


def whatif_rows(doc: dict) -> list[tuple[str, float, float]]:
    """The what-if document's figures as ``(display key, baseline, what-if)``: :data:`WHATIF_FIGURES`, then the US
    content of each category the what-if has (0 where the baseline has none), for its table and its page."""
    before, after = doc["baseline"], doc["what_if"]
    rows = [(f"whatif.{key}", before[key], after[key]) for key in WHATIF_FIGURES]
    return rows + [
        (f"whatif.us_share_by_category.{category}", before["us_share_by_category"].get(category, 0.0), share)
        for category, share in after["us_share_by_category"].items()
    ]


def whatif_headline(doc: dict) -> str:
    """The change in each of the what-if's own figures, formatted as its table shows it (a share's in points)."""
    from ..report.present import SHARE, figure_format

    shown = []
    for key, before, after in whatif_rows(doc)[: len(WHATIF_FIGURES)]:
        figure = figure_format(key)
        unit = f" {figure.unit}" if figure.unit and figure.kind != SHARE else ""
        shown.append(
            f"{figure.label}: {figure.value(before)} → {figure.value(after)}{unit} ({figure.change(after - before)})"
        )
    return "; ".join(shown)


def whatif_figure(doc: dict, scenario: Scenario, files: str = ""):
    """Baseline against what-if for each figure (``sourcing whatif -o``; US content by category in one chart),
    under the change in each figure (:func:`whatif_headline`) and the inputs (:func:`inputs_lines`; ``files``: the
    design and scenario files they were read from)."""
    from html import escape

    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from ..report.html import INPUT_LINE_PX, headline_layout
    from ..report.present import SHARE, figure_format

    rows = whatif_rows(doc)
    shown = [figure_format(key) for key, _, _ in rows]
    own = len(WHATIF_FIGURES)
    figure = make_subplots(
        rows=3,
        cols=2,
        specs=[[{}, {}], [{}, {}], [{"colspan": 2}, None]],
        subplot_titles=[f.label for f in shown[:own]] + ["US content by category"],
        vertical_spacing=0.12,
    )
    colours = {"baseline": "#9ecae1", "what-if": "#3182bd"}
    for k, ((_, before, after), fmt) in enumerate(zip(rows[:own], shown[:own], strict=True)):
        at = {"row": k // 2 + 1, "col": k % 2 + 1}
        scale = 100 if fmt.kind == SHARE else 1
        figure.add_trace(
            go.Bar(
                x=list(colours),
                y=[scale * before, scale * after],
                marker_color=list(colours.values()),
                showlegend=False,
            ),
            **at,
        )
        figure.update_yaxes(title_text=fmt.heading, **at)
        figure.update_xaxes(title_text="plan", **at)
    categories = [key.rsplit(".", 1)[1] for key, _, _ in rows[own:]]
    for column, (name, colour) in enumerate(colours.items(), start=1):
        figure.add_trace(
            go.Bar(x=categories, y=[100 * row[column] for row in rows[own:]], name=name, marker_color=colour),
            row=3,
            col=1,
        )
    figure.update_yaxes(title_text="US content (% of the category's cost)", row=3, col=1)
    figure.update_xaxes(title_text="part category", row=3, col=1)
    priced = f"{doc['racks']} rack(s) priced, tariffs on {doc['date']}, every field as in the scenario file"
    racks = f"{escape(files)}; {priced}" if files else priced
    inputs = inputs_lines(scenario, doc["design"], racks)
    figure.update_layout(
        **headline_layout(f"{doc['design']}: baseline vs {doc['scenario']}", whatif_headline(doc), inputs),
        height=900 + INPUT_LINE_PX * len(inputs),
        barmode="group",
    )
    return figure


def sweep_headline(rows: list[dict], path: str) -> str:
    """The sweep's headline numbers: the US content at its first value (the base), its range over the sweep (pp),
    and the largest tariff bill per rack with the value that gives it."""
    from ..report.present import MONEY, SHARE, format_value

    shares = [r["us_share"] for r in rows]
    worst = max(rows, key=lambda r: r["tariff_usd_per_rack"])
    return (
        f"US content {format_value(shares[0], SHARE)} at {path} = {rows[0]['value']:.4g} (base); "
        f"{format_value(min(shares), SHARE)} to {format_value(max(shares), SHARE)} over the sweep "
        f"({100 * (max(shares) - min(shares)):.1f} pp); largest tariff exposure "
        f"{format_value(worst['tariff_usd_per_rack'], MONEY)} USD per rack at {path} = {worst['value']:.4g}"
    )


def _basis(item) -> str:
    """A scenario entry's basis: its source's title (and date), or its assumption."""
    from html import escape

    if item.source is not None:
        return f"source: {escape(item.source.title)}" + (f", {item.source.date}" if item.source.date else "")
    return f"assumption: {escape(item.assumption.rstrip('. '))}" if item.assumption else "no source or assumption"


def sweep_inputs_lines(scenario: Scenario, path: str, rows: list[dict], design: str) -> list[str]:
    """The inputs and assumptions behind the sweep's page (:func:`inputs_lines`), with the swept field."""
    swept = f"{path} swept from {rows[0]['value']:.4g} to {rows[-1]['value']:.4g} in {len(rows)} steps, every other "
    return inputs_lines(scenario, design, swept + "field as in the scenario file")


def inputs_lines(scenario: Scenario, design: str, varied: str) -> list[str]:
    """The inputs and assumptions behind a what-if's page, one line each: the design, the scenario and what of it
    is applied (``varied``); the scenario's changes; each tariff in force on the scenario's date with its basis."""
    from html import escape

    on = scenario.date
    tariffs = [t for t in scenario.tariffs if t.in_force(on)]
    lines = [
        f"<b>Inputs.</b> Design {design}; scenario {scenario.name}"
        + (f" ({escape(scenario.description.strip().rstrip('.'))})" if scenario.description.strip() else "")
        + f"; {varied}.",
        f"Changes: {len(scenario.substitutions)} substitution(s), {len(scenario.second_sources)} second source(s), "
        "each with its source or assumption in the scenario file; prices are the catalog's unit prices with the "
        "scenario's changes; US content counts a line as US-made when it is assembled in the US.",
        f"Tariffs in force on {on.isoformat()} (the scenario's date), on the cost of the lines made in the origin: "
        + ("none" if not tariffs else ""),
    ]
    lines += [
        f"{t.origin} {100 * t.rate:g}%"
        + (f" on {t.category}" if t.category else "")
        + f" from {t.start.isoformat()}"
        + (f" until {t.until.isoformat()}" if t.until else "")
        + f" ({_basis(t)})."
        for t in tariffs
    ]
    return lines


def sweep_figure(rows: list[dict], path: str, scenario: Scenario, design: str):
    """A plotly figure under the sweep's headline numbers (:func:`sweep_headline`) and inputs
    (:func:`sweep_inputs_lines`): cost per rack against US content, one point per swept value."""
    import plotly.graph_objects as go

    from ..report.html import INPUT_LINE_PX, headline_layout

    inputs = sweep_inputs_lines(scenario, path, rows, design)
    figure = go.Figure(
        go.Scatter(
            x=[r["us_share"] * 100 for r in rows],
            y=[r["usd_per_rack"] for r in rows],
            mode="lines+markers",
            text=[f"{path} = {r['value']:.4g}<br>longest lead {r['longest_lead_time_weeks']:.0f} wk" for r in rows],
            hovertemplate="%{text}<br>US content %{x:.1f} %<br>USD per rack %{y:,.0f}<extra></extra>",
        )
    )
    figure.update_layout(
        **headline_layout(
            f"{scenario.name}: cost vs US content as {path} varies",
            sweep_headline(rows, path),
            inputs,
        ),
        height=480 + INPUT_LINE_PX * len(inputs),
        xaxis_title="US content (% of cost)",
        yaxis_title="cost per rack, tariffs included (USD)",
    )
    return figure
