"""``rackwright factory ...``: simulate a rack integration-and-test line (SimPy) and size it for a weekly target."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from ..errors import InputError
from .common import (
    EXIT_OK,
    EXIT_RULES,
    MAX_WORKERS,
    WIDE,
    emit,
    guarded,
    only_option,
    out,
    output_option,
    progress_bar,
    show,
    write_folder,
)

app = typer.Typer(
    help="Simulate a rack integration-and-test line (SimPy) and size it for a weekly target.", no_args_is_help=True
)

_TARGET = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(?:/\s*(week|wk|w|day|d)\s*)?$")
_PER_WEEK = {None: 1.0, "week": 1.0, "wk": 1.0, "w": 1.0, "day": 7.0, "d": 7.0}


def parse_target(text: str) -> float:
    """``"1000/week"``, ``"150/day"`` or ``"1000"`` (per week) → racks per week."""
    match = _TARGET.match(text)
    if not match or float(match.group(1)) <= 0:
        raise InputError.single(
            None,
            f"cannot read {text!r} as a rate",
            "--target",
            'write racks per week or per day, e.g. "1000/week" or "150/day"',
        )
    value = float(match.group(1)) * _PER_WEEK[match.group(2)]
    from ..factory.line import MAX_RACKS_PER_WEEK

    if value > MAX_RACKS_PER_WEEK:
        raise InputError.single(
            None,
            f"{text!r} is more than {MAX_RACKS_PER_WEEK:,.0f} racks/week",
            "--target",
            "use a realistic factory rate",
        )
    return value


def _load(line_path: Path, design: Path):
    from ..factory.dfm import work_content
    from ..factory.line import load_line
    from ..rack.evaluation import sound_design, sound_model

    line = load_line(line_path).line
    work = work_content(sound_model(sound_design(design), "the factory"))
    return line, work


def _check_window(weeks: float, warmup: float) -> None:
    if not 0 <= warmup < weeks:
        raise InputError.single(
            None,
            f"the warm-up ({warmup:g} weeks) must be shorter than the run ({weeks:g} weeks)",
            "--warmup",
            "use a smaller --warmup or a larger --weeks",
        )


def _stations_as_records(doc: dict) -> dict:
    """A line document with its stations as records (``station``: the line file's id), in the line's order."""
    from ..report.jsonout import records

    return {**doc, "stations": records(doc["stations"], "station")}


#: ``factory simulate``'s sections (``--only``): the run's figures, one row per station.
SIMULATE_SECTIONS = ("summary", "stations")
#: The summary's figures in the order printed: keys of report.present.FACTORY (the cycle time's under cycle_time_h).
SUMMARY_KEYS = (
    "racks_per_week_mean",
    "racks_per_week_p05",
    "racks_per_week_p95",
    "mean",
    "p50",
    "p90",
    "wip_mean",
    "bottleneck",
    "replications",
    "weeks",
    "warmup_weeks",
    "supply_delay_weeks",
    "seed",
)
#: The stations' columns: key of report.present.FACTORY, header, drop order (0: always shown).
STATION_COLUMNS = (
    ("servers", "bays", 0),
    ("utilisation", "util.", 0),
    ("utilisation_queueing", "ρ theory", 2),
    ("mean_queue", "queue", 3),
    ("mean_wait_h", "wait", 0),
    ("visits_per_rack", "visits", 4),
    ("rework_count", "fails mean", 1),
)
#: The station columns whose values all show the same decimals (report.present.row_places): shares, counts and
#: visits (1.00 beside 1.03, not 1); queues and waits span orders of magnitude, so each keeps 3 significant figures
#: (3.05 h beside 0.0427 h, not 3.0500).
SAME_DECIMALS = ("servers", "utilisation", "utilisation_queueing", "visits_per_rack", "rework_count")


def _summary_table(doc: dict, title: str, wide: bool = False):
    """The run's figures with their labels, units and formats (report.present.FACTORY)."""
    from ..report.present import FACTORY, format_value
    from ..report.tables import figures_table

    figures = {**doc, **doc["cycle_time_h"]}
    keys = [k for k in SUMMARY_KEYS if k != "supply_delay_weeks" or doc.get(k)]
    rows = ((FACTORY[k][0], format_value(figures[k], FACTORY[k][2]), FACTORY[k][1]) for k in keys)
    return figures_table(title, rows, wide)


def _stations_table(doc: dict, wide: bool = False):
    """One row per station in the line's order, the bottleneck in red; low-priority columns give way to fit."""
    from rich.text import Text

    from ..report.present import FACTORY, Format
    from ..report.tables import ID, NUMBER, WIDE_HINT, Column, FitTable

    columns = [Column("station", ID)]
    for key, header, drop in STATION_COLUMNS:
        unit = FACTORY[key][1]
        shown = "" if unit == "racks" else unit  # a queue is in racks, as the title says; shares carry their %
        columns.append(Column(f"{header} {shown}".strip(), NUMBER, drop))
    title = f"stations (queue in racks; fails: mean of {doc['replications']:,} replications)"
    table = FitTable(title, columns, wide=wide, hint=WIDE_HINT)
    stations = doc["stations"]
    cells = [
        Format(*FACTORY[key]).row([s[key] for s in stations.values()], distinct=False)
        if key in SAME_DECIMALS
        else [Format(*FACTORY[key]).value(s[key]) for s in stations.values()]
        for key, _, _ in STATION_COLUMNS
    ]
    for sid, *row in zip(stations, *cells, strict=True):
        table.add_row(Text(sid, style="bold red" if sid == doc["bottleneck"] else ""), *row)
    return table


@app.command("simulate")
@guarded
def simulate_command(
    line_file: Path = typer.Argument(..., metavar="LINE", help="Line YAML file (stations, calendar, arrivals)."),
    design: Path = typer.Option(..., "--design", help="Design YAML file whose racks the line builds."),
    weeks: int = typer.Option(52, "--weeks", min=1, max=520, help="Simulated weeks per replication."),
    replications: int = typer.Option(20, "--replications", min=1, max=1000, help="Independent replications."),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Root seed (default: fresh, reported)."),
    warmup: float = typer.Option(
        0.0, "--warmup", min=0, max=520, help="Weeks discarded at the start (line filling up)."
    ),
    workers: int = typer.Option(
        1, "--workers", min=0, max=MAX_WORKERS, help="Processes for replications (0 = all cores)."
    ),
    output: Path | None = output_option("Folder for simulate.json and report.html (plotly)."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    only: str | None = only_option("summary,stations"),
    wide: bool = WIDE,
):
    """Simulate racks through the line: output per week (mean, 90 % interval), cycle time, WIP, utilisation, queues."""
    from ..factory.simulate import simulate
    from ..report.tables import table_sections

    sections = table_sections(only, SIMULATE_SECTIONS)
    _check_window(weeks, warmup)
    line, work = _load(line_file, design)
    with progress_bar(not as_json) as bar:
        task = bar.add_task("replications", total=replications)
        result = simulate(
            line,
            work,
            weeks,
            replications,
            seed,
            warmup,
            workers,
            progress=lambda done: bar.update(task, completed=done),
        )
    doc = result.summary()
    if output is not None:
        from ..report.html import factory_figure

        figure = factory_figure(result, f"{line.name} — {design.name}")
        write_folder(output, "simulate", _stations_as_records(doc), figure)
    if as_json:
        emit(_stations_as_records(doc))
        return
    tables = {
        "summary": _summary_table(doc, f"{line.name} — {design.name}", wide),
        "stations": _stations_table(doc, wide),
    }
    show(*(table for name, table in tables.items() if sections is None or name in sections))


@app.command("capacity")
@guarded
def capacity_command(
    line_file: Path = typer.Argument(..., metavar="LINE", help="Line YAML file (stations, calendar, arrivals)."),
    design: Path = typer.Option(..., "--design", help="Design YAML file whose racks the line builds."),
    target: str = typer.Option(
        ..., "--target", metavar="N/PERIOD", help='Racks to ship, e.g. "1000/week" or "150/day".'
    ),
    weeks: int | None = typer.Option(
        None, "--weeks", min=1, max=520, help="Simulated weeks per replication (default: warm-up + 6)."
    ),
    warmup: float | None = typer.Option(
        None, "--warmup", min=0, max=520, help="Weeks discarded at the start (default: twice the raw cycle time)."
    ),
    replications: int = typer.Option(3, "--replications", min=1, max=1000, help="Replications per candidate."),
    seed: int = typer.Option(0, "--seed", min=0, help="Root seed (the same for every candidate)."),
    tolerance: float = typer.Option(
        0.01, "--tolerance", min=0, max=0.5, help="Accept a mean output of target × (1 − tolerance)."
    ),
    max_utilisation: float = typer.Option(
        1.0, "--max-utilisation", min=0.05, max=1.0, help="Utilisation cap of the queueing first guess (headroom)."
    ),
    max_iterations: int = typer.Option(50, "--max-iterations", min=1, max=1000, help="Simulations at most."),
    workers: int = typer.Option(
        1, "--workers", min=0, max=MAX_WORKERS, help="Processes for replications (0 = all cores)."
    ),
    output: Path | None = output_option(
        "Folder for capacity.json and report.html (weekly capacity and utilisation per station, bays)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Smallest bay counts per station that ship the target: queueing first guess, then grow the bottleneck.

    Exit 1 when the target is not met within --max-iterations.
    """
    from rich.table import Table

    from ..factory.simulate import auto_warmup, capacity_search

    rate = parse_target(target)
    line, work = _load(line_file, design)
    warmup_weeks = auto_warmup(line, work) if warmup is None else warmup
    run_weeks = warmup_weeks + 6 if weeks is None else float(weeks)
    _check_window(run_weeks, warmup_weeks)
    with progress_bar(not as_json) as bar:
        task = bar.add_task("capacity search", total=max_iterations)
        found = capacity_search(
            line,
            work,
            rate,
            run_weeks,
            warmup_weeks,
            replications,
            seed,
            tolerance,
            max_utilisation,
            max_iterations=max_iterations,
            workers=workers,
            progress=lambda i, achieved: bar.update(task, completed=i, description=f"{achieved:,.0f} racks/week"),
        )
    doc = found.summary()
    if output is not None:
        from ..report.ops_pages import capacity_figure

        inputs = [
            f"Line file {line_file}; design {design}; tolerance {tolerance:g}, utilisation cap {max_utilisation:g}."
        ]
        write_folder(output, "capacity", _stations_as_records(doc), capacity_figure(doc, inputs))
    if as_json:
        emit(_stations_as_records(doc))
    else:
        from ..report.ops_pages import capacity_headline
        from ..report.present import SHARE, format_value

        table = Table(title=f"{line.name} — {design.name}: {capacity_headline(doc)}")
        table.add_column("station", no_wrap=True)
        for name in ("bays", "operators", "first guess", "line file", "util."):
            table.add_column(name, justify="right", no_wrap=True)
        for sid, s in doc["stations"].items():
            table.add_row(
                sid,
                str(s["resources"]),
                "—" if s["operators"] is None else str(s["operators"]),
                str(s["first_guess"]),
                str(s["line_file"]),
                format_value(s["utilisation"], SHARE),
                style="bold red" if sid == doc["bottleneck"] else None,
            )
        out.print(table)
    raise typer.Exit(EXIT_OK if found.met else EXIT_RULES)
