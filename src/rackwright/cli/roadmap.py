"""``rackwright roadmap ...``: multi-generation, multi-site deployment roadmap (MILP) and its risk (Monte Carlo)."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import (
    EXIT_OK,
    EXIT_RULES,
    MAX_COUNT,
    MAX_WORKERS,
    detail,
    emit,
    guarded,
    only_option,
    out,
    output_option,
    progress_bar,
    working,
    write_folder,
)

app = typer.Typer(
    help="Roadmap to a GW target: MILP schedule over generations, sites, factories and supply; Monte Carlo risk.",
    no_args_is_help=True,
)

ROADMAP = typer.Argument(
    ..., metavar="ROADMAP", help="Roadmap YAML file (goal, generations, sites, factories, supply)."
)
OUTDIR = output_option(
    "Folder for the JSON document (plan.json or risk.json) and report.html (plotly), made if missing.", long="--outdir"
)


#: The plan's per-quarter series → their names in the quarter records (the others lose ``_by_quarter``).
PLAN_SERIES = {
    "gw_by_quarter": "it_power_gw",
    "accelerators_by_quarter": "accelerators",
    "peak_eflops_by_quarter": "peak_eflops",
    "capex_usd_by_quarter": "capex_usd",
    "domestic_share_by_quarter": "us_integrated_share",
    "bom_us_content_by_quarter": "us_content_share",
}


def plan_json(doc: dict) -> dict:
    """The plan document for tools: one record per quarter, per generation and quarter, per factory and quarter;
    the solve time (not the same from run to run) left out."""
    from ..report.jsonout import by_quarter, quarter_records

    quarters = doc["quarters"]
    rest, rows = quarter_records(doc, quarters, PLAN_SERIES)
    left_out = ("quarters", "gw_by_generation", "factory_utilisation", "solve_time_s")
    return {
        **{k: v for k, v in rest.items() if k not in left_out},
        "quarters": rows,
        "generations": [
            {"generation": g, **row}
            for g, gw in doc["gw_by_generation"].items()
            for row in by_quarter(quarters, it_power_gw=gw)
        ],
        "factory_utilisation": [
            {"factory": f, **row}
            for f, share in doc["factory_utilisation"].items()
            for row in by_quarter(quarters, utilisation=share)
        ],
    }


def risk_json(doc: dict) -> dict:
    """The risk document for tools: one record per quarter with the GW percentiles (``it_power_gw_p10`` ...) and
    every other per-quarter series (``plan_gw_by_quarter`` → ``plan_gw``); the solve time left out."""
    from ..report.jsonout import quarter_records

    rest, rows = quarter_records(doc, list(doc["gw_by_quarter"]), PLAN_SERIES)
    return {**{k: v for k, v in rest.items() if k != "solve_time_s"}, "quarters": rows}


#: The columns of the plan's quarter table: figure (report.present.ROADMAP) → the plan's series.
QUARTER_COLUMNS = {
    "it_power_gw": "gw_by_quarter",
    "accelerators": "accelerators_by_quarter",
    "peak_eflops": "peak_eflops_by_quarter",
    "delivered_eflops": "delivered_eflops_by_quarter",
    "capex_usd": "capex_usd_by_quarter",
    "us_integrated_share": "domestic_share_by_quarter",
}
#: The quarter table's columns that give way first where it does not fit (report.tables.Column.drop): the
#: accelerators, a count the racks records and ``--json`` keep, so that peak and delivered compute both show.
QUARTER_DROP = {"accelerators": 1}


def _binding_table(doc: dict):
    """The constraints that bind (each with the quarters it binds in), or where the goal is missed the shortfalls
    of the elastic programme, one per quarter and constraint with its amount (report.present's format; counts
    whole, rounded up) and unit (roadmap.report.shortfall_rows, as the plan page shows them)."""
    from ..report.tables import ID, LABEL, NUMBER, Column, FitTable
    from ..roadmap.report import SHORTFALL_COLUMNS, shortfall_rows

    rows = doc["binding_constraints"]
    if doc["feasible"]:
        table = FitTable("binding constraints", [Column("constraint", ID), Column("binds")])
        for r in rows:
            table.add_row(r["family"], r["message"])
        return table
    shown = shortfall_rows(rows)
    width = len(SHORTFALL_COLUMNS) - (not any(row[-1] for row in shown))  # a detail: the goal or the solver, why
    kinds = (ID, ID, ID, NUMBER, LABEL, LABEL)
    columns = [Column(h, k) for h, k in zip(SHORTFALL_COLUMNS, kinds, strict=True)]
    table = FitTable("why not: shortfalls (elastic programme)", columns[:width])
    for row in shown:
        table.add_row(*row[:width])
    return table


#: The plan's tables (``--only``): the quarters, then the binding constraints (the shortfalls where the goal is missed).
PLAN_SECTIONS = ("quarters", "constraints")


def _plan_tables(doc: dict):
    from rich.markup import escape

    from ..report.present import figure_format
    from ..report.tables import ID, NUMBER, Column, FitTable

    goal = doc["goal"]
    verdict = "reaches" if doc["feasible"] else "[bold red]does not reach[/bold red]"
    head = FitTable(
        f"{escape(doc['roadmap'])}: {verdict} {goal['it_power_gw']:g} GW by {goal['by']}",
        [
            Column("quarter", ID),
            *(
                Column(figure_format(f"roadmap.{key}").heading, NUMBER, drop=QUARTER_DROP.get(key, 0))
                for key in QUARTER_COLUMNS
            ),
        ],
    )
    for q in doc["quarters"]:
        shown = (figure_format(f"roadmap.{key}").value(doc[series][q]) for key, series in QUARTER_COLUMNS.items())
        head.add_row(q, *shown)
    return head, _binding_table(doc)


@app.command("plan")
@guarded
def plan_command(
    roadmap: Path = ROADMAP,
    outdir: Path | None = OUTDIR,
    gap: float | None = typer.Option(
        None, "--gap", min=0.0, max=0.1, help="Relative MIP gap accepted (default 0.001 = 0.1 %)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    only: str | None = only_option(",".join(PLAN_SECTIONS)),
    plan_for: str | None = typer.Option(
        None,
        "--objective",
        help="Plan for this objective instead of the file's goal.objective: training-compute (peak), "
        "delivered-training-compute (on the reference MoE workload), cost or us-share.",
    ),
):
    """Schedule racks by generation, factory, site and quarter (MILP, HiGHS) to the goal.

    Exit 0 when the goal is met, 1 when it is not (the shortfalls say which constraints bind), 2 on bad input.
    """
    from ..report.present import format_value
    from ..report.tables import table_sections
    from ..roadmap import load_roadmap, plan, plan_document
    from ..roadmap.milp import DEFAULT_GAP
    from ..roadmap.report import plan_page
    from ..roadmap.schema import with_objective

    sections = table_sections(only, PLAN_SECTIONS)
    loaded = load_roadmap(roadmap)
    if plan_for is not None:
        loaded = with_objective(loaded, plan_for)
    with working("planning the roadmap (MILP)", not as_json):
        result = plan(loaded, mip_gap=DEFAULT_GAP if gap is None else gap)
        doc = plan_document(result)
    if outdir is not None:
        write_folder(outdir, "plan", plan_json(doc), plan_page(doc))
    detail(f"solved in {doc['solve_time_s']:.2f} s")
    if as_json:
        emit(plan_json(doc))
    else:
        for name, table in zip(PLAN_SECTIONS, _plan_tables(doc), strict=True):
            if sections is None or name in sections:
                out.print(table)
        if doc["objective"]:
            objective = doc["objective"]
            out.print(
                f"objective ({objective['sense']}): {format_value(objective['value'])} {objective['unit']}; "
                f"solved in {doc['solve_time_s']:.2f} s"
            )
    raise typer.Exit(EXIT_OK if doc["feasible"] else EXIT_RULES)


@app.command("risk")
@guarded
def risk_command(
    roadmap: Path = ROADMAP,
    samples: int = typer.Option(1000, "--samples", min=1, max=MAX_COUNT, help="Monte Carlo samples."),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Root seed (default: fresh, reported)."),
    workers: int = typer.Option(1, "--workers", min=0, max=MAX_WORKERS, help="Processes (0 = all cores)."),
    outdir: Path | None = OUTDIR,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Probability of meeting the goal and P10/P50/P90 of GW by the date, over the file's risk distributions."""
    from ..roadmap import load_roadmap
    from ..roadmap.report import risk_figure
    from ..roadmap.risk import risk

    loaded = load_roadmap(roadmap)
    with progress_bar(not as_json) as bar:
        task = bar.add_task("samples", total=samples)
        result = risk(loaded, samples, seed, workers, progress=lambda done: bar.update(task, completed=done))
    doc = result.document()
    if outdir is not None:
        write_folder(outdir, "risk", risk_json(doc), risk_figure(doc, loaded.roadmap.risk))
    detail(f"{doc['samples']:,} samples in {doc['solve_time_s']:.1f} s on {doc['workers']} process(es)")
    if as_json:
        emit(risk_json(doc))
        return
    out.print(_risk_lines(doc))


def _risk_lines(doc: dict) -> str:
    """P(goal) and the percentiles of GW by the goal date, formatted by report.present."""
    from ..report.present import figure_format

    date, goal = doc["gw_by_date"], doc["goal"]
    p_goal, gw = figure_format("roadmap.p_goal"), figure_format("roadmap.gw_by_date")
    percentiles = ", ".join(f"{name.upper()} {gw.value(date[name])}" for name in ("p10", "p50", "p90"))
    return (
        f"{doc['roadmap']}: P(≥ {goal['it_power_gw']:g} GW by {goal['by']}) = {p_goal.value(doc['p_goal'])} "
        f"over {doc['samples']:,} samples (seed {doc['seed']})\n"
        f"{gw.label} ({gw.unit}): {percentiles} (mean {gw.value(date['mean'])}); "
        f"{doc['solve_time_s']:.1f} s on {doc['workers']} process(es)"
    )
