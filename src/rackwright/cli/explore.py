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
)

app = typer.Typer(help="Explore a design space: grid or sampling, feasibility, Pareto front, sensitivity.")

#: Pareto designs listed in the terminal table (all of them are in pareto.json and the exports).
SHOWN = 10


@app.command("explore")
@guarded
def explore_command(
    space: Path = typer.Argument(..., help="Space file (YAML): base design, axes, constraints, objectives."),
    output: Path | None = output_option(
        "Folder for results.parquet, pareto.json and report.html (default out/explore/<space name>)."
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
    from ..explore.report import front_hypervolume, write_report

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
    paths["report"] = folder / "report.html"
    exported = export_pareto(result, export) if export is not None else []
    write_report(result, paths["report"], exported)  # its table links to the exported design files
    detail(f"{result.designs_evaluated:,} designs at {result.evaluations_per_s:,.0f}/s")
    if as_json:
        emit(
            {
                **exploration_json(result.to_dict()),
                "hypervolume": front_hypervolume(result),
                "outputs": {k: str(v) for k, v in paths.items()},
                "exported": [str(p) for p in exported],
            }
        )
    else:
        _print_summary(result, paths, exported)
    raise typer.Exit(EXIT_OK if result.designs_feasible else EXIT_RULES)


def exploration_json(doc: dict) -> dict:
    """The exploration for tools: rule codes, axes, objectives and sensitivity as records, not keys; the
    evaluation rate (not the same from run to run) left out."""
    body = {k: v for k, v in doc.items() if k not in ("failed", "pareto", "sensitivity", "evaluations_per_s")}
    pareto = [
        {
            "design": point["design"],
            "axes": [{"axis": a, "value": v} for a, v in point["axes"].items()],
            "objectives": [{"figure": f, "value": v} for f, v in point["objectives"].items()],
        }
        for point in doc["pareto"]
    ]
    sensitivity = [
        {"objective": objective, "axis": axis, **indices}
        for objective, by_axis in (doc["sensitivity"] or {}).items()
        for axis, indices in by_axis.items()
    ]
    failed = [{"rule": rule, "designs": count} for rule, count in doc["failed"].items()]
    return {**body, "failed": failed, "pareto": pareto, "sensitivity": sensitivity}


def _print_summary(result, paths: dict, exported: list) -> None:
    from rich.markup import escape

    from ..explore.pareto import REFERENCE
    from ..explore.report import front_groups, front_hypervolume, shown_as
    from ..report.tables import LABEL, NUMBER, Column, FitTable

    out.print(
        f"[bold]{escape(result.space.spec.name)}[/bold]: {result.designs_evaluated:,} designs evaluated "
        f"({result.evaluations_per_s:,.0f}/s), {result.designs_feasible:,} feasible, "
        f"{len(result.front):,} on the Pareto front"
        + (
            f" as {len(front_groups(result)):,} distinct points; hypervolume {front_hypervolume(result):.1%} of the "
            f"objective box (each objective scaled from its best to its worst feasible value, reference point "
            f"{REFERENCE:g})"
            if len(result.front)
            else ""
        )
    )
    failed = {k: v for k, v in result.failed().items() if v}
    if failed:
        out.print(escape("ruled out by: " + ", ".join(f"{k} {v:,}" for k, v in failed.items())))
    if len(result.front):
        objectives = result.space.spec.objectives
        shown = [shown_as(result, o.figure) for o in objectives]
        table = FitTable(
            f"Pareto designs (first {min(SHOWN, len(result.front))} of {len(result.front):,})",
            [Column("design", NUMBER)]
            + [Column(f"{f.heading}, {o.goal}", NUMBER) for f, o in zip(shown, objectives, strict=True)]
            + [Column("axes", LABEL)],
        )
        for point in result.pareto()[:SHOWN]:
            table.add_row(
                str(point["design"]),
                *(f.value(v) for f, v in zip(shown, point["objectives"].values(), strict=True)),
                "; ".join(f"{k} {v}" for k, v in point["axes"].items()),
            )
        show(table)
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
