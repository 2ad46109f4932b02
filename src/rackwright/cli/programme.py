"""``rackwright programme ...``: the whole programme in one model, from rack generations to GW delivered."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import InputError
from ..parallel import check_backend
from .common import (
    EXIT_OK,
    EXIT_RULES,
    MAX_COUNT,
    MAX_WORKERS,
    WIDE,
    detail,
    emit,
    guarded,
    only_option,
    out,
    output_option,
    progress_bar,
    show,
    write_folder,
)


def _backend_option():
    return typer.Option(
        "local",
        "--backend",
        help="Where the reference jobs, site plans, spares and risk samples run: local or ray (optional extra).",
    )


def _line_band_option():
    return typer.Option(
        0,
        "--line-band",
        min=0,
        max=1000,
        help="Simulate each line this many quarters for its rate band, which then multiplies its factory's yield in "
        "the Monte Carlo (0: none).",
    )


def _correct_site_need_option():
    return typer.Option(
        False,
        "--correct-site-need",
        help="Where an optics or CDU supply cap binds, correct the linear site need from the first pass's site plans "
        "and solve once more (docs/programme.md).",
    )


def _workers_option(default: int):
    return typer.Option(
        default,
        "--workers",
        min=0,
        max=MAX_WORKERS,
        help="Processes of the local backend, or CPUs of a Ray cluster this starts (0 = all cores).",
    )


def _workers(workers: int) -> int:
    import os

    return (os.cpu_count() or 1) if workers == 0 else workers


def _stages(bar, plans: int = 1):
    """The ``progress`` callback of ``plans`` programme plans (rackwright.programme.plan.STAGES each) on ``bar``
    (:func:`.common.progress_bar`): the stage under way and how many are done."""
    import itertools

    from ..programme.plan import STAGES

    task = bar.add_task(STAGES[0], total=len(STAGES) * plans)
    done = itertools.count()
    return lambda stage: bar.update(task, description=stage, completed=next(done))


app = typer.Typer(
    help="Programme: factories, roadmap, site plans, delivered compute, reliability, sourcing and cost by quarter.",
    no_args_is_help=True,
)


#: The columns of the plan's quarter table: figure (report.present's ROADMAP and PROGRAMME) → the programme's series,
#: and the priority of the columns given up where the terminal is narrow (``drop``: the highest first; 0 never).
QUARTER_COLUMNS = {
    "roadmap.it_power_gw": ("it_power", 0),
    "roadmap.accelerators": ("accelerators", 0),
    "programme.delivered_training_compute": ("delivered_training_compute", 0),
    "programme.failures": ("failures", 2),
    "roadmap.us_integrated_share": ("us_integrated_share", 1),
    "roadmap.capex_usd": ("capex", 0),
    "programme.energy_opex": ("energy_opex", 0),
}


#: The plan's tables (``--only``): the quarters, then the reference job on each generation.
PLAN_SECTIONS = ("quarters", "generations")


def _tables(doc: dict, wide: bool = False):
    from rich.markup import escape

    from ..report.present import figure_format
    from ..report.tables import ID, NUMBER, Column, FitTable

    values = {s["name"]: s["values"] for s in doc["series"] if "generation" not in s}
    met = next(h["value"] for h in doc["headline"] if h["name"] == "goal_met")
    goal = doc["goal"]
    verdict = f"meets {goal['it_power_gw']:g} GW in {met}" if met else "[bold red]misses[/bold red] the goal"
    head = FitTable(
        f"{escape(doc['programme'])}: {verdict} (goal by {goal['by']})",
        [
            Column("quarter", ID),
            *(Column(figure_format(key).heading, NUMBER, drop=drop) for key, (_, drop) in QUARTER_COLUMNS.items()),
        ],
        wide=wide,
        hint="--wide shows them; --json lists every series",
    )
    for k, q in enumerate(doc["quarters"]):
        head.add_row(q, *(figure_format(key).value(values[name][k]) for key, (name, _) in QUARTER_COLUMNS.items()))
    gens = FitTable(
        "generations: the reference job on each",
        [Column("generation", ID), *(Column(h, NUMBER) for h in ("tokens/s per acc.", "MFU", "goodput"))]
        + [Column("failures per rack-yr", NUMBER)],
    )
    for g in doc["generations"]:
        gens.add_row(
            g["id"],
            f"{g['tokens_per_s_per_accelerator']:,.0f}",
            f"{g['mfu']:.1%}",
            f"{g['goodput']:.1%}",
            f"{g['part_failures_per_rack_year']:.2f}",
        )
    return head, gens


@app.command("plan")
@guarded
def plan_command(
    programme: Path = typer.Argument(..., metavar="PROGRAMME", help="Programme YAML file (see docs/programme.md)."),
    outdir: Path | None = output_option(
        "Write programme.json, report.html and sites/SITE/ per site plan (summary.json, cables.parquet, bom.csv; "
        "every step's cables in sites/SITE/cables/step=K/part-0.parquet: pd.read_parquet('sites/SITE/cables')).",
        long="--outdir",
    ),
    samples: int = typer.Option(
        0, "--samples", min=0, max=MAX_COUNT, help="Monte Carlo samples for P(goal) and the GW fan (0: none)."
    ),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Root seed of the Monte Carlo (default: fresh)."),
    line_band: int = _line_band_option(),
    backend: str = _backend_option(),
    workers: int = _workers_option(1),
    as_json: bool = typer.Option(False, "--json", help="Print the programme document as JSON."),
    site_reports: bool = typer.Option(
        False,
        "--site-reports",
        help="With -o: also write each planned site's report.html (its last power step, as `site plan -o` writes "
        "it; on a 1 GW site about as long again as its plan).",
    ),
    correct_site_need: bool = _correct_site_need_option(),
    only: str | None = only_option(",".join(PLAN_SECTIONS)),
    wide: bool = WIDE,
):
    """Plan the programme: line capacities, the roadmap on them, delivered compute, failures, spares, US content,
    cost and the first ship against lead times by quarter, and the site plans. Exit 1 when the goal is not
    reached."""
    from ..programme import load_programme, plan_programme
    from ..programme.plan import programme_document
    from ..programme.whatif import line_bands, programme_risk, risk_records, with_risk
    from ..report.tables import table_sections

    sections = table_sections(only, PLAN_SECTIONS)
    check_backend(backend)
    if line_band and not samples:
        raise InputError.single(None, "--line-band widens the Monte Carlo", "--line-band", "give --samples N too")
    if site_reports and outdir is None:
        raise InputError.single(None, "--site-reports writes into the -o folder", "--site-reports", "give -o DIR")
    if outdir is not None:
        outdir.mkdir(parents=True, exist_ok=True)
    loaded = load_programme(programme)
    with progress_bar(not as_json) as bar:
        plan = plan_programme(
            loaded, None, outdir, backend, _workers(workers), _stages(bar), site_reports, correct_site_need
        )
    detail("seconds: " + ", ".join(f"{step} {s:.1f}" for step, s in plan.seconds.items()))
    doc = programme_document(plan)
    if samples:
        bands = line_bands(plan.loaded, line_band, seed) if line_band else None
        raw = programme_risk(
            plan.loaded, samples, seed, _workers(workers), bands=bands, backend=backend, deterministic=plan.result
        )
        doc = with_risk(doc, risk_records(plan.loaded, raw))
    if outdir is not None:
        from ..programme.report import dashboard

        write_folder(outdir, "programme", doc, dashboard(doc))
    if as_json:
        emit(doc)
    else:
        tables = zip(PLAN_SECTIONS, _tables(doc, wide), strict=True)
        show(*(table for name, table in tables if sections is None or name in sections))
        for row in doc["first_ship_check"]:
            if not row["supported"]:
                out.print(
                    f"[yellow]{row['generation']}: first ship {row['first_ship']} is before the earliest first rack "
                    f"{row['earliest_first_rack']} (parts ordered {row['ordered']}; critical: "
                    f"{', '.join(row['critical_parts'])})[/yellow]"
                )
        for row in doc["site_supply_check"]:
            if not row["enough"]:
                out.print(f"[yellow]{_supply_shortfall(row, doc['quarters'])}[/yellow]")
        if "risk" in doc:
            out.print(f"P(goal) = {doc['risk']['p_goal']:.1%} over {doc['risk']['samples']:,} samples")
    raise typer.Exit(EXIT_OK if doc["feasible"] else EXIT_RULES)


def _supply_shortfall(row: dict, quarters: list[str]) -> str:
    """A short supply line in words: the quarters it is short in and its largest shortfall (a line short only
    before the goal date has a positive margin by then, so the goal date's margin would read as a negative need)."""
    from ..report.present import shortfall_text

    margins = dict(zip(quarters, row["margin_by_quarter"], strict=True))
    worst = min(row["short_quarters"], key=margins.__getitem__)
    span = row["short_quarters"][0] + ("" if len(row["short_quarters"]) == 1 else f"–{row['short_quarters'][-1]}")
    most = shortfall_text(-margins[worst], row["unit"])
    return (
        f"supply {row['supply']}: the racks and site plans need more than is delivered in "
        f"{len(row['short_quarters'])} quarter(s), {span}; short by up to {most} {row['unit']} ({worst})"
    )


def _sweep_values(item: str) -> tuple[str, list]:
    """``KEY=V1,V2,...`` → the key and its values, each read as YAML."""
    from .site import parse_overrides

    key, sep, text = item.partition("=")
    values = [v for v in text.split(",") if v.strip()]
    if not sep or not key.strip() or not values:
        raise InputError.single(
            None,
            f"--sweep {item!r} is not KEY=V1,V2,...",
            "--sweep",
            "e.g. --sweep generations.e1.first_ship=2026-10-01,2027-01-01",
        )
    return key.strip(), [parse_overrides([f"{key.strip()}={v}"])[key.strip()] for v in values]


def _sweep_cells(row: dict) -> list[tuple]:
    """A swept headline figure's cells: its change at each value, or its value where a figure has no change (the
    quarter the goal is met: 2027Q3, or – when missed)."""
    if any(change is not None for change in row["changes"]):
        return [(change, True) for change in row["changes"]]
    return [(value, False) for value in row["values"]]


def _headline_row(row: dict, values: list) -> list[str]:
    """A headline figure's label and unit (report.present.headline_format) and ``values`` formatted as the other
    tables show them; each value is ``(number, is_change)``."""
    from ..report.present import headline_format

    shown = headline_format(row["name"], row["unit"])
    cells = [shown.change(v) if change and v is not None else shown.value(v) for v, change in values]
    return [shown.label, shown.shown_unit, *cells]


def _whatif_table(doc: dict, wide: bool = False):
    from rich.markup import escape

    from ..report.tables import LABEL, NUMBER, Column, FitTable

    changes = ", ".join(f"{row['key']}={row['value']}" for row in doc["set"])
    note = (
        f"; P(goal) over {doc['risk']['samples']:,} samples, seed {doc['risk']['seed']} for each"
        if "risk" in doc
        else ""
    )
    if "sweep" in doc:
        sweep = doc["sweep"]
        title = f"what if {sweep['key']} = each value{f' (with {changes})' if changes else ''}: change from the file"
        table = FitTable(
            escape(title + note),
            [
                Column("figure", LABEL),
                Column("unit", LABEL),
                *(Column(str(v), NUMBER) for v in ("base", *sweep["values"])),
            ],
            wide=wide,
            hint="--wide shows them; --json lists them",
        )
        for row in doc["headline"]:
            table.add_row(*_headline_row(row, [(row["base"], False), *_sweep_cells(row)]))
        return table
    table = FitTable(
        escape(f"what if {changes}{note}"),
        [
            Column("figure", LABEL),
            Column("unit", LABEL),
            Column("base", NUMBER),
            Column("what-if", NUMBER, fold=True),
            Column("change", NUMBER),
        ],
        wide=wide,
        hint="--wide shows them; --json lists them",
    )
    for row in doc["headline"]:
        table.add_row(*_headline_row(row, [(row["base"], False), (row["whatif"], False), (row["change"], True)]))
    return table


@app.command("whatif")
@guarded
def whatif_command(
    programme: Path = typer.Argument(..., metavar="PROGRAMME", help="Programme YAML file (see docs/programme.md)."),
    sets: list[str] = typer.Option(
        [],
        "--set",
        metavar="KEY=VALUE",
        help="A field of the file, list items by id (generations.e1.first_ship=2027-04-01); repeatable.",
    ),
    replaces: list[str] = typer.Option(
        [],
        "--replace",
        metavar="GEN=FILE",
        help="Plan generation GEN with another design file (path from here); repeatable.",
    ),
    sweep: str | None = typer.Option(
        None,
        "--sweep",
        metavar="KEY=V1,V2,...",
        help="Re-plan once per value of one field (with any --set/--replace) and give the change of "
        "every headline number per value.",
    ),
    outdir: Path | None = output_option(
        "Folder for whatif.json and report.html (base vs what-if per headline number; with --sweep each "
        "one's change against the value).",
        long="--outdir",
    ),
    samples: int = typer.Option(
        0,
        "--samples",
        min=0,
        max=MAX_COUNT,
        help="Monte Carlo samples for P(goal) of each plan, every plan drawn from the same seed (0: none).",
    ),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Root seed of the Monte Carlo (default: fresh)."),
    backend: str = _backend_option(),
    workers: int = _workers_option(1),
    as_json: bool = typer.Option(False, "--json", help="Print the change in every headline number as JSON."),
    wide: bool = WIDE,
    correct_site_need: bool = _correct_site_need_option(),
):
    """Re-plan the programme with some fields or design files changed, or once per value of one field (--sweep),
    and print the change in every headline number (GW and delivered compute by the goal date, the quarter the goal
    is met, failures, capex, energy, spares, US content, links and optics; P(goal) with --samples, the same seed
    for every plan so that its change is the change's, not the draw's)."""
    from ..programme import load_programme
    from ..programme.whatif import replacements, sweep_document, sweep_documents, whatif_document
    from .site import parse_overrides

    check_backend(backend)
    if not (sets or replaces or sweep):
        raise InputError.single(
            None, "nothing to change", "--set", "give --set KEY=VALUE, --replace GEN=FILE or --sweep"
        )
    base = load_programme(programme)
    overrides = {**parse_overrides(sets), **replacements(base, replaces)}
    key, values = _sweep_values(sweep) if sweep else (None, [])
    # every variant is loaded (and so checked) before any planning
    whatif = load_programme(programme, overrides)
    variants = (
        [whatif] if key is None else [load_programme(programme, {**overrides, key: v}, "--sweep") for v in values]
    )
    with progress_bar(not as_json) as bar:
        progress = _stages(bar, 1 + len(variants))
        base_doc, *docs = sweep_documents(
            [base, *variants], backend, _workers(workers), samples, seed, progress, correct_site_need
        )
    if key is None:
        doc = whatif_document(base_doc, docs[0], overrides)
    else:
        doc = sweep_document(base_doc, docs, key, values, overrides)
    if outdir is not None:
        from ..programme.report import sweep_figure, whatif_figure

        figure = whatif_figure(doc, base_doc) if key is None else sweep_figure(doc, base_doc)
        write_folder(outdir, "whatif", doc, figure)
    if as_json:
        emit(doc)
        return
    show(_whatif_table(doc, wide))


@app.command("risk")
@guarded
def risk_command(
    programme: Path = typer.Argument(..., metavar="PROGRAMME", help="Programme YAML file (see docs/programme.md)."),
    samples: int = typer.Option(1000, "--samples", min=1, max=MAX_COUNT, help="Monte Carlo samples."),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Root seed (default: fresh, reported)."),
    workers: int = _workers_option(1),
    backend: str = _backend_option(),
    line_band: int = _line_band_option(),
    outdir: Path | None = output_option("Folder for risk.json and report.html (the fan chart).", long="--outdir"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    correct_site_need: bool = _correct_site_need_option(),
):
    """Probability of meeting the goal, and P10/P50/P90 of GW by quarter, over the file's risk distributions (the
    roadmap's Monte Carlo on the lines' rates; with --correct-site-need on the corrected solve's figures)."""
    from ..programme import load_programme
    from ..programme.whatif import line_bands, programme_risk, risk_records

    check_backend(backend)
    loaded = load_programme(programme)
    bands = line_bands(loaded, line_band, seed) if line_band else None
    with progress_bar(not as_json) as bar:
        task = bar.add_task("samples", total=samples)
        raw = programme_risk(
            loaded,
            samples,
            seed,
            _workers(workers),
            progress=lambda done: bar.update(task, completed=done),
            bands=bands,
            backend=backend,
            correct_site_need=correct_site_need,
        )
    doc = risk_records(loaded, raw)
    detail(f"{raw['samples']:,} samples in {raw['solve_time_s']:.1f} s")
    if bands is not None:
        doc["line_bands"] = [
            {"factory": f.id, "unit": "shipped / queueing bound", "mean": round(m, 6), "sd": round(sd, 6)}
            for f, (m, sd) in zip(loaded.programme.factories, bands.tolist(), strict=True)
        ]
    if outdir is not None:
        from ..roadmap.report import risk_figure

        write_folder(outdir, "risk", doc, risk_figure(raw))
    if as_json:
        emit(doc)
        return
    date = raw["gw_by_date"]
    for row in doc.get("line_bands", []):
        out.print(f"line band {row['factory']}: {row['mean']:.3f} ± {row['sd']:.3f} of the queueing bound")
    out.print(
        f"{doc['programme']}: P(≥ {doc['goal']['it_power_gw']:g} GW by {doc['goal']['by']}) = {doc['p_goal']:.1%} "
        f"over {doc['samples']:,} samples (seed {doc['seed']}); GW by the date: P10 {date['p10']:.2f}, "
        f"P50 {date['p50']:.2f}, P90 {date['p90']:.2f}"
    )
