"""``rackwright sourcing ...``: sourcing what-ifs (substitutions, tariffs, second sources) and build dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape

from ..errors import InputError
from .common import (
    MAX_COUNT,
    emit,
    err,
    guarded,
    in_domain,
    note,
    older_file,
    out,
    output_folder_or_file,
    output_option,
    write_folder,
)

app = typer.Typer(
    help="Sourcing what-ifs: substitutions, tariffs, second sources; earliest build dates.", no_args_is_help=True
)


#: The figures of the sweep table (report.present.WHATIF).
SWEPT = ("usd_per_rack", "us_share", "longest_lead_time_weeks")


def _model(design: Path):
    from ..rack.evaluation import sound_design, sound_model

    return sound_model(sound_design(design), "sourcing")


def _whatif_table(doc: dict):
    """Baseline, what-if and change of each figure, formatted by report.present (a share's change in points)."""
    from ..rack.sourcing import whatif_rows
    from ..report.present import figure_format
    from ..report.tables import NUMBER, Column, FitTable

    title = f"{doc['design']}: baseline vs {doc['scenario']} ({doc['racks']} rack(s), tariffs on {doc['date']})"
    columns = [Column("figure"), Column("unit"), *(Column(h, NUMBER) for h in ("baseline", "what-if", "change"))]
    table = FitTable(escape(title), columns)
    for key, b, a in whatif_rows(doc):
        shown = figure_format(key)
        table.add_row(shown.label, shown.shown_unit, *shown.row([b, a], change=True))
    return table


def _warn(doc: dict, scenario: Path | None) -> None:
    """Print the document's warnings (a scenario entry that matches nothing) on stderr; the exit code stays."""
    for warning in doc["warnings"]:
        err.print(f"[yellow]warning:[/yellow] {escape(f'{scenario}: {warning}')}", highlight=False, soft_wrap=True)


FOLDER_OR_HTML = output_folder_or_file(".html")


@app.command("whatif")
@guarded
def whatif_command(
    design: Path = typer.Argument(..., help="Design YAML file."),
    scenario: Path = typer.Argument(..., help="Sourcing scenario YAML file."),
    racks: int = typer.Option(1, "--racks", min=1, max=MAX_COUNT, help="Racks to price."),
    sweep: str | None = typer.Option(
        None, "--sweep", metavar="FIELD=START:STOP:STEPS", help="Vary one field: FIELD[i].name = START:STOP:STEPS."
    ),
    output: Path | None = output_option(
        "Folder for whatif.json (the --json document) and report.html (plotly), made if missing; "
        "a name ending in .html is still the sweep's page alone (deprecated).",
        callback=FOLDER_OR_HTML,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Baseline vs scenario: cost per rack, tariff bill, US content by category, longest lead time."""
    from ..rack.bom import bom_lines
    from ..rack.sourcing import load_scenario, parse_sweep, sweep_figure, unmatched, whatif, whatif_figure
    from ..rack.sourcing import sweep as run_sweep

    model, plan = _model(design), load_scenario(scenario)
    older = older_file(output, ".html")
    if sweep is None:
        doc = whatif(model, plan, racks)
        _warn(doc, scenario)
        if output is not None and not older:
            files = f"design file {design}, scenario file {scenario}"
            write_folder(output, "whatif", doc, whatif_figure(doc, plan, files))
        emit(doc) if as_json else out.print(_whatif_table(doc))
        return
    try:
        path, values = parse_sweep(sweep)
        rows = run_sweep(model, plan, path, values, racks)
    except ValueError as exc:
        raise InputError.single(None, str(exc), "--sweep") from None
    warnings = unmatched(bom_lines(model, racks), plan)
    _warn({"warnings": warnings}, scenario)
    doc = {"design": model.design.name, "scenario": plan.name, "sweep": path, "rows": rows, "warnings": warnings}
    if older and output is not None:
        from ..report.html import write_html

        write_html(sweep_figure(rows, path, plan, model.design.name), output)  # plotly.js beside the page
        note(f"wrote {output}")
    elif output is not None:
        write_folder(output, "whatif", doc, sweep_figure(rows, path, plan, model.design.name))
    if as_json:
        emit(doc)
        return
    out.print(_sweep_table(rows, path, f"{plan.name}: sweep of {path}"))


def _sweep_table(rows: list[dict], field: str, title: str):
    """One row per value of the swept ``field`` (its format: report.present.SWEEP): the what-if's figures
    (report.present.WHATIF)."""
    from ..report.present import figure_format
    from ..report.tables import NUMBER, Column, FitTable

    swept = figure_format(f"sweep.{field.rpartition('.')[2]}")
    shown = [figure_format(f"whatif.{key}") for key in SWEPT]
    table = FitTable(escape(title), [Column(swept.heading, NUMBER), *(Column(f.heading, NUMBER) for f in shown)])
    values = swept.row([row["value"] for row in rows], distinct=False)
    for value, row in zip(values, rows, strict=True):
        table.add_row(value, *(f.value(row[key]) for f, key in zip(shown, SWEPT, strict=True)))
    return table


@app.command("build-date")
@guarded
def build_date_command(
    design: Path = typer.Argument(..., help="Design YAML file."),
    order_date: str = typer.Option(
        ..., "--order-date", metavar="YYYY-MM-DD", help="Date the parts are ordered (YYYY-MM-DD)."
    ),
    racks: int = typer.Option(1, "--racks", min=1, max=MAX_COUNT, help="Build date of the N-th rack."),
    scenario: Path | None = typer.Option(None, "--scenario", help="Sourcing scenario (lead times, capacities)."),
    integration_days: float = typer.Option(
        14.0,
        "--integration-days",
        callback=in_domain("lead_time", 1 / 7),
        help="Integration and test time after the last part arrives, in days (at most ten years, like a lead time).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    output: Path | None = output_option(
        "Folder for build-date.json (the --json document) and report.html (the critical parts' lead time and "
        "supply, dated), made if missing."
    ),
):
    """Earliest dates the first and the N-th rack can be built from an order date; the critical parts."""
    from ..rack.sourcing import build_dates, load_scenario
    from ..report.present import COUNT, format_value

    try:
        order = date.fromisoformat(order_date)
    except ValueError:
        raise InputError.single(None, f"{order_date!r} is not a date", "--order-date", "write YYYY-MM-DD") from None
    doc = build_dates(_model(design), order, racks, integration_days, load_scenario(scenario) if scenario else None)
    _warn(doc, scenario)
    if output is not None:
        from ..report.rack_pages import build_date_figure

        write_folder(output, "build-date", doc, build_date_figure(doc, str(scenario) if scenario else None))
    if as_json:
        emit(doc)
        return
    out.print(
        f"first rack: [bold]{doc['first_rack_date']}[/bold]   rack {format_value(racks, COUNT)}: "
        f"[bold]{doc['last_rack_date']}[/bold] (order {doc['order_date']}, +{format_value(integration_days)} days "
        "integration and test)"
    )
    out.print(_critical_table(doc["critical_parts"]))


def _critical_table(parts: list[dict]):
    """The critical parts: units (a count, right-aligned), first delivery and the date there are enough."""
    from ..report.present import COUNT, format_value
    from ..report.tables import ID, NUMBER, Column, FitTable

    columns = [Column("part", ID), Column("units", NUMBER), Column("first delivery", ID)]
    table = FitTable("critical parts", [*columns, Column("enough for all racks", ID)])
    for part in parts:
        table.add_row(part["part"], format_value(part["units"], COUNT), part["first_delivery"], part["ready"])
    return table
