"""``rackwright explore``: design-space exploration, Pareto fronts and sensitivity (a thin layer over
:mod:`rackwright.explore`)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import InputError
from .common import (
    EXIT_OK,
    EXIT_RULES,
    MAX_WORKERS,
    detail,
    emit,
    guarded,
    note,
    out,
    output_folder,
    output_option,
    progress_bar,
    show,
    write_document,
)

app = typer.Typer(help="Explore a design space: grid or sampling, feasibility, Pareto front, sensitivity.")

#: Distinct objective points of the front listed in the terminal table (every design is in explore.json and the
#: exports).
SHOWN = 10


@app.command("explore")
@guarded
def explore_command(
    space: Path = typer.Argument(..., help="Space file (YAML): base design, axes, constraints, objectives."),
    output: Path | None = output_option(
        "Folder for results.parquet, explore.json (the --json document) and report.html "
        "(default out/explore/<space name>)."
    ),
    backend: str = typer.Option("local", "--backend", help="Where chunks run: local or ray (optional extra)."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=MAX_WORKERS, help="CPUs of the local Ray cluster (default all)."
    ),
    export: Path | None = typer.Option(
        None,
        "--export-pareto",
        callback=output_folder,
        help="Write each Pareto design as a design YAML that extends the base.",
    ),
    sensitivity: bool = typer.Option(True, "--sensitivity/--no-sensitivity", help="Compute Sobol sensitivity indices."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary and the Pareto designs as JSON."),
):
    """Evaluate every design of a space, keep the feasible Pareto front and rank the axes by influence."""
    from ..explore.backends import BACKENDS
    from ..explore.explorer import explore
    from ..explore.export import export_pareto, write_results
    from ..explore.report import write_report

    if backend not in BACKENDS:  # before the space is loaded and planned
        raise InputError.single(None, f"unknown backend {backend!r}", "--backend", f"one of: {', '.join(BACKENDS)}")
    with progress_bar(not as_json) as bar:
        task = bar.add_task("evaluating designs", total=None)
        result = explore(
            space,
            backend,
            workers,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            sensitivity=sensitivity,
        )
    folder = output or Path("out") / "explore" / space.stem
    paths = write_results(result, folder)
    paths["explore"] = folder / "explore.json"
    paths["report"] = folder / "report.html"
    exported = export_pareto(result, export) if export is not None else []
    write_report(result, paths["report"], exported)  # its table links to the exported design files
    doc = exploration_json(result, paths, exported)
    write_document(paths["explore"], doc)
    detail(f"{result.designs_evaluated:,} designs at {result.evaluations_per_s:,.0f}/s")
    if as_json:
        emit(doc)
    else:
        _print_summary(result, paths, exported)
    raise typer.Exit(EXIT_OK if result.designs_feasible else EXIT_RULES)


def exploration_json(result, paths: dict, exported: list) -> dict:
    """The exploration for tools (``--json`` and ``explore.json``): rules, axes, objectives and sensitivity as
    records, not keys; figures named and in the unit of ``evaluate --json`` (``sourcing.us_content_share``);
    the evaluation rate (not the same from run to run) left out."""
    from ..explore.report import failed_records, front_hypervolume
    from ..report.jsonout import public_figure

    doc = result.to_dict()
    body = {k: v for k, v in doc.items() if k not in ("failed", "pareto", "sensitivity")}
    body["objectives"] = [{**o, "figure": public_figure(o["figure"])[0]} for o in doc["objectives"]]
    pareto = [
        {
            "design": point["design"],
            "axes": [{"axis": a, "value": v} for a, v in point["axes"].items()],
            "objectives": [_figure_value(f, v) for f, v in point["objectives"].items()],
        }
        for point in doc["pareto"]
    ]
    sensitivity = [
        {"objective": public_figure(objective)[0], "axis": axis, **indices}
        for objective, by_axis in (doc["sensitivity"] or {}).items()
        for axis, indices in by_axis.items()
    ]
    return {
        **body,
        "failed": failed_records(result),
        "pareto": pareto,
        "sensitivity": sensitivity,
        "hypervolume": front_hypervolume(result),
        "outputs": {k: str(v) for k, v in paths.items()},
        "exported": [str(p) for p in exported],
    }


def _figure_value(key: str, value) -> dict:
    """An objective's value as a record, named and in the unit of ``evaluate --json``."""
    from ..report.jsonout import public_figure, scaled

    name, factor = public_figure(key)
    return {"figure": name, "value": scaled(value, factor)}


def _print_summary(result, paths: dict, exported: list) -> None:
    from rich.markup import escape

    from ..explore.pareto import REFERENCE
    from ..explore.report import failed_records, front_groups, front_hypervolume, shown_as

    groups = front_groups(result) if len(result.front) else []
    out.print(
        f"[bold]{escape(result.space.spec.name)}[/bold]: {result.designs_evaluated:,} designs evaluated "
        f"({result.evaluations_per_s:,.0f}/s), {result.designs_feasible:,} feasible, "
        f"{len(result.front):,} on the Pareto front"
        + (
            f" as {len(groups):,} distinct objective points; hypervolume {front_hypervolume(result):.1%} of the "
            f"objective box (each objective scaled from its best to its worst feasible value, reference point "
            f"{REFERENCE:g})"
            if groups
            else ""
        )
    )
    failed = [r for r in failed_records(result) if r["count"]]
    if failed:
        out.print(escape("ruled out by: " + "; ".join(f"{r['code']} ({r['name']}) {r['count']:,}" for r in failed)))
    if groups:
        show(_front_table(result, groups))
    for objective, by_axis in (result.sensitivity or {}).items():
        ranked = sorted(by_axis.items(), key=lambda kv: -(kv[1]["total"] or 0.0))
        out.print(
            escape(
                f"{shown_as(result, objective).label} moves most with: "
                + ", ".join(f"{a} (S_T {v['total'] or 0:.2f})" for a, v in ranked[:3])
            )
        )
    if not result.designs_feasible:
        out.print("[red]no design is feasible[/red]: relax the limits or widen the axes")
    for path in paths.values():
        note(f"wrote {path}")
    if exported:
        note(f"wrote {len(exported)} Pareto designs to {exported[0].parent}")


def _front_table(result, groups: list):
    """The de-duplicated front (the grouping of the report's table, :func:`rackwright.explore.report.front_groups`):
    one row per distinct objective point, with the number of designs that reach it, its objectives labelled and
    formatted by the figure table, and the first design's number and axes, one per line (a continuous axis in the
    space file's unit)."""
    from ..explore.report import shown_as
    from ..report.present import format_value
    from ..report.tables import LABEL, NUMBER, Column, FitTable

    objectives = result.space.spec.objectives
    shown = [shown_as(result, o.figure) for o in objectives]
    table = FitTable(
        f"Pareto front: {len(groups):,} distinct objective points for {len(result.front):,} designs"
        + (f" (the first {SHOWN})" if len(groups) > SHOWN else ""),
        [Column("designs", NUMBER)]
        + [Column(f"{f.heading}, {o.goal}", NUMBER) for f, o in zip(shown, objectives, strict=True)]
        + [Column("first design: axes", LABEL)],
    )
    units = {a.name: a.unit for a in result.space.axes if not a.discrete and a.unit}
    for group in groups[:SHOWN]:
        point = result.point(int(result.front[group[0]]))
        axes = [f"{a} = {format_value(v)}" + (f" {units[a]}" if a in units else "") for a, v in point["axes"].items()]
        table.add_row(
            f"{len(group):,}",
            *(f.value(v) for f, v in zip(shown, point["objectives"].values(), strict=True)),
            "\n".join([f"#{point['design']}", *axes]),
        )
    return table
