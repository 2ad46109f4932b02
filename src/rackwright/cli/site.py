"""``rackwright site ...``: plan a data-centre site from rack generations, export its cable plan."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import typer
from rich.markup import escape

from ..errors import InputError
from .common import (
    EXIT_OK,
    EXIT_RULES,
    WIDE,
    emit,
    err,
    guarded,
    note,
    older_file,
    only_option,
    out,
    output_folder_or_file,
    output_option,
    progress_bar,
    show,
    write_folder,
)

app = typer.Typer(
    help="Plan a site: halls and rows, Ethernet fabric, cable plan, power chain, cooling plant, PUE, capex.",
    no_args_is_help=True,
)


#: ``site plan``'s sections (``--only``) by the figure each starts with; a section runs through the figures of its
#: table (report.present.SITE_TABLE) up to the next one's first.
SECTION_STARTS = {
    "racks": "scale",
    "pue": "energy",
    "halls": "layout",
    "transformers": "power",
    "cdus": "cooling",
    "capex_usd": "cost",
}
SUMMARY_SECTIONS = tuple(SECTION_STARTS.values())


def _summary_table(summary: dict, only: Collection[str] | None = None):
    """The summary's headline figures (report.present.SITE_TABLE) as the report page labels, units and formats
    them (report.present.site_rows), under the name of their section (:data:`SECTION_STARTS`; ``only`` the
    sections named); a figure by tier or category (switches, transformers, capex) one row per entry."""
    from rich.text import Text

    from ..report.present import SITE_TABLE, site_rows
    from ..report.tables import NUMBER, Column, FitTable

    sections: dict[str, list[str]] = {}
    section = SUMMARY_SECTIONS[0]
    for key in SITE_TABLE:
        section = SECTION_STARTS.get(key, section)
        sections.setdefault(section, []).append(key)
    table = FitTable(escape(summary["site"]), [Column("figure"), Column("unit"), Column("value", NUMBER)])
    for section, keys in sections.items():
        rows = site_rows(summary, tuple(keys))
        if rows and (only is None or section in only):
            table.add_row(Text(section, style="bold"), "", "")
            for number, row in enumerate(rows, start=1):
                table.add_row(*row, end_section=number == len(rows))
    return table


@app.command("plan")
@guarded
def plan_command(
    site_file: Path = typer.Argument(..., metavar="SITE", help="Site YAML file."),
    output: Path = output_option(
        "Folder for summary.json, generations.json, cables.parquet, bom.csv, report.html.", required=True
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the plan's summary, the document summary.json holds (docs/json.md)."
    ),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html (floor plan and charts)."),
    overrides: list[str] = typer.Option(
        [],
        "--set",
        metavar="KEY=VALUE",
        help="Override a field of the site file (dotted path, YAML value), repeatable.",
    ),
    only: str | None = only_option(",".join(SUMMARY_SECTIONS)),
):
    """Plan the site: racks into halls, fabric tier by tier, every cable, power chain, cooling plant, PUE, capex.

    Exit 1 when the plan breaks a rule (violations are listed, outputs are still written).
    """
    from ..report.jsonout import plain
    from ..report.tables import table_sections
    from ..site.outputs import write_plan_folder
    from ..site.planner import STEPS, plan_site
    from ..site.schema import load_site

    sections = table_sections(only, SUMMARY_SECTIONS)
    with progress_bar(not as_json) as bar:
        task = bar.add_task("planning", total=len(STEPS) + 1)
        loaded = load_site(site_file, parse_overrides(overrides))
        plan = plan_site(loaded, progress=lambda step: bar.update(task, advance=1, description=step))
        body = write_plan_folder(plan, output, report)
        bar.update(task, advance=1, description="written")
    if as_json:
        emit(body)
    else:
        out.print(_summary_table(plain(body), sections))
        for v in plan.violations:
            err.print(
                f"[bold red]{v.code}[/bold red] {v.path}: {v.message} (fix: {v.hint})", highlight=False, soft_wrap=True
            )
        note(
            f"wrote {output}/summary.json, cables.parquet ({plan.cables.height:,} cables), bom.csv"
            + (", report.html" if report else "")
        )
    raise typer.Exit(EXIT_RULES if plan.errors else EXIT_OK)


def _plan_summary(plan_dir: Path) -> dict:
    """The plan's summary.json as a dict; empty where it cannot be read."""
    import json

    try:
        summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return summary if isinstance(summary, dict) else {}


def _netbox_naming(plan_dir: Path) -> tuple[str | None, int]:
    """From the plan's summary.json: the site's name (NetBox's cable import looks a site up by name; None without a
    readable summary) and the breakout lanes per physical switch port (:func:`rackwright.site.netbox.plan_lanes`)."""
    from ..catalog import load_catalog
    from ..site.netbox import plan_lanes

    summary = _plan_summary(plan_dir)
    try:
        return str(summary["site"]), plan_lanes(summary["fabric"], load_catalog())
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, 1


def parse_overrides(items: list[str]) -> dict[str, object]:
    """``["fabric.tiers=2", ...]`` → ``{"fabric.tiers": 2}`` (values read as YAML scalars)."""
    from ..yamlio import parse_yaml_text, to_plain

    overrides = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise InputError.single(None, f"--set {item!r} is not KEY=VALUE", "--set", "e.g. --set fabric.tiers=2")
        try:
            overrides[key.strip()] = to_plain(parse_yaml_text(text)) if text.strip() else None
        except InputError as exc:
            raise InputError.single(
                None,
                f"{text!r} is not a YAML value: {exc.problems[0].message}",
                f"--set {key.strip()}",
                "a number, true/false, or text in quotes",
            ) from None
    return overrides


FOLDER_OR_CSV = output_folder_or_file(".csv")


def _read_cables(plan_dir: Path):
    """The plan's cables.parquet as a Polars table; bad input (exit 2) where there is none or it is damaged."""
    import polars as pl

    path = plan_dir / "cables.parquet"
    if not path.is_file():
        raise InputError.single(str(path), "no cable plan here", hint="run `rackwright site plan SITE -o OUTDIR` first")
    try:
        return pl.read_parquet(path)
    except Exception as exc:  # polars/arrow raise many kinds for a damaged file
        raise InputError.single(str(path), f"cannot read the cable plan: {exc}", hint="plan the site again") from None


def cables_body(plan_dir: Path, cables) -> dict:
    """``site cables``' document body (docs/json.md): the cables and their length in all and per medium, and per
    tier and medium the cables, total and longest length (exact sums: :func:`rackwright.site.cables.length_totals`)."""
    import math

    from ..site.cables import length_totals

    by_media = length_totals(cables, "media")
    return {
        "plan": str(plan_dir),
        "cables": cables.height,
        "cable_length_km": round(math.fsum(r["length_m"] for r in by_media) / 1000, 3),
        "media": [
            {"media": str(r["media"]), "cables": r["cables"], "cable_length_km": round(r["length_m"] / 1000, 3)}
            for r in by_media
        ],
        "totals": length_totals(cables, "tier", "media"),
    }


def _cables_table(body: dict, *, wide: bool = False):
    """Per tier and medium the cables, their length and the longest, then the total (report.site_pages' formats;
    tiers and media by report.present's names)."""
    from ..report.present import media_label, tier_label
    from ..report.site_pages import CABLES, LENGTH, LONGEST
    from ..report.tables import ID, NUMBER, Column, FitTable

    count, length, longest = CABLES, LENGTH, LONGEST
    table = FitTable(
        escape(f"{count.value(body['cables'])} cables in {body['plan']}"),
        [Column("Tier", ID), Column("Medium", ID), *(Column(f.heading, NUMBER) for f in (count, length, longest))],
        wide=wide,
    )
    for i, r in enumerate(body["totals"]):
        last = i == len(body["totals"]) - 1
        shown = (count.value(r["cables"]), length.value(r["length_m"] / 1000), longest.value(r["longest_m"]))
        table.add_row(tier_label(r["tier"]), media_label(r["media"]), *shown, end_section=last)
    most = max((r["longest_m"] for r in body["totals"]), default=None)
    table.add_row("all", "all", count.value(body["cables"]), length.value(body["cable_length_km"]), longest.value(most))
    return table


@app.command("cables")
@guarded
def cables_command(
    plan_dir: Path = typer.Argument(..., metavar="OUTDIR", help="Folder written by `rackwright site plan`."),
    netbox: bool = typer.Option(False, "--netbox", help="Write the NetBox cable bulk-import CSV."),
    output: Path | None = output_option(
        "Folder for cables.json (what --json prints), report.html and with --netbox netbox-cables.csv, made "
        "if missing (default: the CSV in OUTDIR); a name ending in .csv is still that CSV file (deprecated).",
        callback=FOLDER_OR_CSV,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON, what cables.json holds."),
    wide: bool = WIDE,
):
    """Summarise a planned cable plan by tier and medium; with --netbox, export it for NetBox's cable import."""
    from ..report.site_pages import cables_figure
    from ..site.netbox import netbox_cables

    cables = _read_cables(plan_dir)
    body = cables_body(plan_dir, cables)
    if not as_json:
        show(_cables_table(body, wide=wide))
    older = older_file(output, ".csv")
    if output is not None and not older:
        site = _plan_summary(plan_dir).get("site")
        inputs = [f"Site: {site} (the plan's summary.json)."] if site else []
        write_folder(output, "cables", body, cables_figure(body, inputs))
    if netbox:
        target = output if output is not None and older else (output or plan_dir) / "netbox-cables.csv"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            site, lanes = _netbox_naming(plan_dir)
            netbox_cables(cables, site, lanes).write_csv(target)
        except OSError as exc:
            raise InputError.single(str(target), f"cannot write: {exc}", "-o") from None
        note(f"wrote {target} ({cables.height:,} cables, NetBox cable bulk-import format)")
    if as_json:
        emit(body)


@app.command("export-netbox")
@guarded
def export_netbox_command(
    plan_dir: Path = typer.Argument(..., metavar="PLAN_DIR", help="Folder written by `rackwright site plan`."),
    output: Path = output_option("Folder for the import files.", required=True),
    hall: int = typer.Option(None, "--hall", min=1, help="Export this hall only (cables with both ends in it)."),
):
    """Write the plan as NetBox bulk-import files, numbered in the order to import them: manufacturers, device,
    module and rack types, site, locations (halls), device roles, racks (naming their rack type), devices (rack,
    position, face), modules in the trays' bays, power panels, power feeds, cables and power cables."""
    from ..site.netbox import site_export, write_site_export

    with progress_bar(True) as bar:  # minutes on a 1 GW plan; hidden under --quiet and off a terminal
        task = bar.add_task("exporting to NetBox: reading the plan", total=2)
        export = site_export(plan_dir, hall)
        bar.update(task, advance=1, description="exporting to NetBox: writing the import files")
        try:
            paths = write_site_export(export, output)
        except OSError as exc:
            raise InputError.single(str(output), f"cannot write: {exc}", "-o") from None
        bar.update(task, advance=1)
    counts = export.counts()
    for path in paths:
        note(f"wrote {path} ({counts[path.name]:,})")
