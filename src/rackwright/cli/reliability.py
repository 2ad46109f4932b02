"""``rackwright reliability ...``: job interruptions and goodput, spare pools, qualification of early racks."""

from __future__ import annotations

import functools
from pathlib import Path

import typer

from ..validity import AVAILABILITY_RANGE, BYTES_PER_PARAM_RANGE, CHECKPOINT_WRITE_RANGE
from .common import (
    EXIT_OK,
    EXIT_RULES,
    MAX_COUNT,
    WIDE,
    emit,
    guarded,
    only_option,
    out,
    output_option,
    show,
    write_folder,
)

app = typer.Typer(
    help="Fleet reliability: job interruptions, checkpointing and goodput, spare pools, qualification.",
    no_args_is_help=True,
)


@app.command("job")
@guarded
def job_command(
    design: Path = typer.Option(..., "--design", help="Rack design YAML file the job runs on."),
    accelerators: int = typer.Option(..., "--accelerators", min=1, max=MAX_COUNT, help="Accelerators in the job."),
    checkpoint_write_s: float | None = typer.Option(
        None,
        "--checkpoint-write-s",
        min=CHECKPOINT_WRITE_RANGE[0],
        max=CHECKPOINT_WRITE_RANGE[1],
        help="Checkpoint write time [s] (default: from --model and --storage-bandwidth).",
    ),
    spares: int | None = typer.Option(
        None,
        "--spares",
        min=0,
        max=MAX_COUNT,
        help="Hot-spare accelerators for the job (default: sized for --availability).",
    ),
    model: str = typer.Option("llama3-405b", "--model", help="Model whose training state is checkpointed."),
    storage_bandwidth: str = typer.Option(
        "2 TB/s", "--storage-bandwidth", metavar="RATE", help="Checkpoint write bandwidth."
    ),
    bytes_per_param: float = typer.Option(
        14.0,
        "--bytes-per-param",
        min=BYTES_PER_PARAM_RANGE[0],
        max=BYTES_PER_PARAM_RANGE[1],
        help="Checkpoint bytes per parameter (14: bf16 weights, fp32 master, Adam moments).",
    ),
    oversubscription: float = typer.Option(
        1.0,
        "--oversubscription",
        min=1,
        max=100,
        help="Top-tier oversubscription of the scale-out fabric (1 = non-blocking).",
    ),
    availability: float = typer.Option(
        0.999,
        "--availability",
        min=AVAILABILITY_RANGE[0],
        max=AVAILABILITY_RANGE[1],
        help="Target for sizing the default hot spares (between 0 and 1).",
    ),
    output: Path | None = output_option(
        "Folder for job.json (what --json prints) and report.html (goodput vs job size per design), made if missing."
    ),
    also: list[Path] = typer.Option(
        [],
        "--also",
        help="Another design (generation) to run the same job on: its tables, its record in --json, its curve "
        "in the report (repeatable).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    only: str | None = only_option("causes,summary"),
    wide: bool = WIDE,
):
    """Interruptions per day by cause, MTBI, optimal checkpoint interval and goodput of a training job, on the
    design and on each --also design."""
    from ..fleet.goodput import job_report
    from ..rack.evaluation import sound_design
    from ..report.tables import table_sections

    sections = table_sections(only, JOB_SECTIONS)
    racks = [sound_design(path) for path in (design, *also)]
    job = functools.partial(
        job_report,
        checkpoint_write_s=checkpoint_write_s,
        model=model,
        storage_bandwidth=storage_bandwidth,
        bytes_per_param=bytes_per_param,
        availability=availability,
        oversubscription=oversubscription,
    )
    docs = [job(rack, accelerators, spares=spares) for rack in racks]
    body = {"designs": [_job_json(doc) for doc in docs]}
    if output is not None:
        write_folder(output, "job", body, _goodput_figure(racks, docs[0], job))
    if as_json:
        emit(body)
        return
    tables = {"causes": [_causes_table(doc, wide) for doc in docs], "summary": [_job_summary_table(docs, wide)]}
    show(*(table for name, shown in tables.items() if sections is None or name in sections for table in shown))


def _goodput_figure(racks: list, doc: dict, job):
    """The job's page: goodput against job size (1,024 to four times the job, at least 131,072 accelerators) for
    each design, ``job`` (job_report with the command's options) at each size with its spares sized for the
    availability, and ``doc``'s interruptions by cause."""
    import numpy as np

    from ..report.html import reliability_figure

    sizes = np.unique(np.geomspace(1024, max(4 * doc["accelerators"], 131072), 12).round(-3).astype(int))
    curves = {}
    for rack in racks:
        docs = [job(rack, int(n)) for n in sizes]
        curves[docs[0]["design"]] = (sizes, [d["goodput"] for d in docs])
    return reliability_figure(curves, doc)


#: ``reliability job``'s sections (``--only``): the interruptions by cause, the job's figures.
JOB_SECTIONS = ("causes", "summary")
#: The job's figures in the order printed: keys of report.present.RELIABILITY (the write time under checkpoint).
JOB_KEYS = (
    "interruptions_per_day",
    "mtbi_h",
    "write_s",
    "checkpoint_interval_min",
    "restart_min",
    "spares",
    "goodput",
    "lost_hours_per_day",
    "idle_capacity_fraction",
)


def _causes_table(doc: dict, wide: bool = False):
    """The interruptions per day by cause, most first, with each cause's share and the basis of its rate."""
    from ..report.present import COUNT, RELIABILITY, Format, basis_label, category_label, cause_label, format_value
    from ..report.tables import LABEL, NUMBER, WIDE_HINT, Column, FitTable

    table = FitTable(
        f"{doc['design']}: job of {format_value(doc['accelerators'], COUNT)} accelerators "
        f"({format_value(doc['racks'], COUNT)} racks, scale-up domain {format_value(doc['scale_up_domain'], COUNT)})",
        [
            Column("cause", LABEL),
            Column("category", LABEL, drop=2),
            Column("units", NUMBER, drop=1),
            Column("per day", NUMBER),
            Column("share", NUMBER),
            Column("basis", LABEL, drop=3),
        ],
        wide=wide,
        hint=WIDE_HINT,
    )
    total = doc["interruptions_per_day"] or 1.0
    causes = sorted(doc["by_cause"].items(), key=lambda kv: -kv[1]["interruptions_per_day"])
    # one format a column: as many decimals as its least value needs (0.00236 and 6.07919 per day; 0.01%, 53.31%)
    per_day = [c["interruptions_per_day"] for _, c in causes]
    rates = Format(*RELIABILITY["interruptions_per_day"]).row(per_day, distinct=False)
    shares = Format(*RELIABILITY["share"]).row([rate / total for rate in per_day], distinct=False)
    for (kind, cause), rate, share in zip(causes, rates, shares, strict=True):
        table.add_row(
            cause_label(kind),
            category_label(cause["category"]),
            format_value(cause["units"], RELIABILITY["units"][2]),
            rate,
            share,
            basis_label(cause["basis"], cause["llama3_derived"]),
        )
    return table


def _job_summary_table(docs: list[dict], wide: bool = False):
    """The job's figures with their labels, units and formats (report.present.RELIABILITY), as its page shows them:
    a column of values per design, named as the design."""
    from ..report.present import RELIABILITY, format_value
    from ..report.tables import ID, LABEL, NUMBER, WIDE_HINT, Column, FitTable

    values = [Column(doc["design"], NUMBER) for doc in docs]
    table = FitTable(
        "the job", [Column("figure", ID if wide else LABEL), *values, Column("unit", ID)], wide=wide, hint=WIDE_HINT
    )
    figures = [{**doc, "write_s": doc["checkpoint"]["write_s"]} for doc in docs]
    for key in JOB_KEYS:
        label, unit, kind = RELIABILITY[key]
        table.add_row(label, *(format_value(f[key], kind) for f in figures), unit)
    return table


@app.command("spares")
@guarded
def spares_command(
    design: Path = typer.Option(..., "--design", help="Rack design YAML file."),
    racks: int = typer.Option(..., "--racks", min=1, max=MAX_COUNT, help="Racks in the fleet."),
    repair_days: float = typer.Option(
        ..., "--repair-days", min=1e-3, max=3650, help="Repair / RMA turnaround of a failed part [days]."
    ),
    availability: float = typer.Option(
        0.999,
        "--availability",
        min=AVAILABILITY_RANGE[0],
        max=AVAILABILITY_RANGE[1],
        help="Probability that the pool covers the demand of one repair window.",
    ),
    output: Path | None = output_option(
        "Folder for spares.json and report.html (spares per part, stock-out chance vs the target)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    wide: bool = WIDE,
):
    """Spare parts per part (Poisson over the repair window), spare scale-up domains and hot spares."""
    from ..fleet.spares import spares_report
    from ..rack.evaluation import sound_design

    doc = spares_report(sound_design(design), racks, repair_days, availability)
    if output is not None:
        from ..report.ops_pages import spares_figure

        write_folder(output, "spares", doc, spares_figure(doc, [f"Design file {design}."]))
    if as_json:
        emit(doc)
        return
    from ..report.ops_pages import spares_headline
    from ..report.present import SHARE, format_value
    from ..report.tables import ID, NUMBER, WIDE_HINT, Column, FitTable

    target = format_value(availability, SHARE)
    table = FitTable(
        f"{doc['design']}: spares for {racks:,} racks, {repair_days:g}-day repair, availability {target}",
        [
            Column("part", ID),
            Column("kind", ID, drop=1),
            Column("installed", NUMBER),
            Column("failures /yr", NUMBER),
            Column("demand in window", NUMBER, drop=2),
            Column("spares", NUMBER),
            Column("spare %", NUMBER, drop=3),
            Column("cost USD", NUMBER),
        ],
        wide=wide,
        hint=WIDE_HINT,
    )
    for row in doc["parts"]:
        table.add_row(
            row["part"],
            row["kind"],
            f"{row['installed']:,.0f}",
            f"{row['failures_per_year']:.2f}",
            f"{row['mean_demand_in_window']:.3f}",
            f"{row['spares']}",
            f"{row['spare_fraction']:.2%}",
            f"{row['spares_cost_usd']:,.0f}",
        )
    show(table)
    out.print(spares_headline(doc), highlight=False)


def _job_json(doc: dict) -> dict:
    """The job report with its causes and categories as records (``cause``, ``category``), not keys."""
    from ..report.jsonout import records

    body = {k: v for k, v in doc.items() if k not in ("by_cause", "by_category", "category_shares")}
    categories = [
        {"category": c, "interruptions_per_day": rate, "share": doc["category_shares"][c]}
        for c, rate in doc["by_category"].items()
    ]
    return {**body, "causes": records(doc["by_cause"], "cause"), "categories": categories}


def _verdict_style(verdict: str) -> str:
    return {"pass": "green", "warn": "yellow", "fail": "bold red"}[verdict]


@app.command("qualify")
@guarded
def qualify_command(
    design: Path = typer.Argument(..., help="Rack design YAML file the racks were built to."),
    results: Path = typer.Argument(
        ..., help="Measured results: CSV or JSON with rack_id, generation, test, metric, value, unit, timestamp."
    ),
    racks: str | None = typer.Option(
        None,
        "--racks",
        metavar="ID,...",
        help="Comma-separated rack ids under qualification (others are unknown racks).",
    ),
    output: Path | None = output_option(
        "Folder for qualify.json and report.html (measured vs expected per metric, by verdict)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the verdicts as JSON."),
    wide: bool = WIDE,
):
    """Check measured results of early racks against the models: pass / warn / fail, calibration hints."""
    from ..fleet.qualify import qualify
    from ..rack.evaluation import sound_design

    known = [r.strip() for r in racks.split(",") if r.strip()] if racks else None
    doc = qualify(sound_design(design), results, known)
    if output is not None:
        from ..report.ops_pages import qualify_figure

        write_folder(output, "qualify", doc, qualify_figure(doc, [f"Design file {design}."]))
    if as_json:
        emit(doc)
    else:
        from ..report.ops_pages import qualify_summary

        show(_qualify_table(doc, results, wide))
        out.print(qualify_summary(doc))
        for hint in doc["calibration"]:
            out.print(f"calibration: {hint}", highlight=False)
    raise typer.Exit(EXIT_RULES if doc["summary"]["fail"] else EXIT_OK)


def _qualify_table(doc: dict, results: Path, wide: bool):
    """One row per measurement: rack, metric, measured and expected in the metric's unit, the deviation with the
    verdict beside it (one column, so that the table fits 80 characters)."""
    from rich.text import Text

    from ..report.ops_pages import deviation_text
    from ..report.present import QUALIFY
    from ..report.tables import ID, NUMBER, WIDE_HINT, Column, FitTable
    from ..units import pretty_unit

    table = FitTable(
        f"{doc['design']} ({doc['generation']}): {results}",
        [
            Column("row", NUMBER, drop=1),
            Column("rack", ID),
            Column("metric", ID),
            Column("measured", NUMBER),
            Column("expected", NUMBER),
            Column("unit", ID, fold=True),
            Column("deviation, verdict", ID),
        ],
        wide=wide,
        hint=WIDE_HINT,
    )
    pad = max((len(deviation_text(row)) for row in doc["measurements"]), default=0)  # the verdicts one above another
    for row in doc["measurements"]:
        verdict = Text(row["verdict"], style=_verdict_style(row["verdict"]))
        table.add_row(
            str(row["row"]),
            row["rack_id"],
            QUALIFY.get(row["metric"], row["metric"]),
            f"{row['measured']:.4g}",
            f"{row['expected']:.4g}",
            pretty_unit(row["unit"]),
            Text.assemble(deviation_text(row).rjust(pad), " ", verdict),
        )
    return table
