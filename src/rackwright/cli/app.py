"""The ``rackwright`` command line: a thin layer over the Python API.

Exit codes: 0 ok, 1 a design breaks a rule, 2 bad input or usage. Every
:class:`~rackwright.errors.InputError` becomes one readable message on stderr
and exit 2; no traceback reaches the user.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from ..errors import InputError
from . import catalog as catalog_cli
from . import explore as explore_cli
from . import factory as factory_cli
from . import netbox as netbox_cli
from . import perf as perf_cli
from . import programme as programme_cli
from . import reliability as reliability_cli
from . import roadmap as roadmap_cli
from . import server as server_cli
from . import site as site_cli
from . import sourcing as sourcing_cli
from .common import (
    EXIT_OK,
    EXIT_RULES,
    MAX_COUNT,
    WIDE,
    JsonUsageErrors,
    configure,
    emit,
    guarded,
    name_commands,
    note,
    older_file,
    only_option,
    out,
    output_folder_or_file,
    output_option,
    show,
    write_document,
    write_folder,
)

if TYPE_CHECKING:
    from ..rack.evaluation import Rack

app = typer.Typer(
    help="Co-design, evaluate and plan AI data-centre rack generations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=JsonUsageErrors,
)
#: The panels of ``rackwright --help``, in the order they are shown (command groups follow the commands).
PANELS = RACK, PLANNING, BUILD, SERVER, ROLLOUT = (
    "Rack design",
    "Performance, sourcing and exploration",
    "Factory and fleet",
    "Collaboration server",
    "Sites and roll-out",
)
app.add_typer(catalog_cli.app, name="catalog", rich_help_panel=RACK)
app.add_typer(perf_cli.app, name="perf", rich_help_panel=PLANNING)
app.add_typer(sourcing_cli.app, name="sourcing", rich_help_panel=PLANNING)
app.add_typer(factory_cli.app, name="factory", rich_help_panel=BUILD)
app.add_typer(reliability_cli.app, name="reliability", rich_help_panel=BUILD)
# the name; same command as `reliability qualify`
app.command("qualify", rich_help_panel=BUILD)(reliability_cli.qualify_command)
app.add_typer(site_cli.app, name="site", rich_help_panel=ROLLOUT)
app.add_typer(roadmap_cli.app, name="roadmap", rich_help_panel=ROLLOUT)
app.add_typer(programme_cli.app, name="programme", rich_help_panel=ROLLOUT)
app.add_typer(netbox_cli.app, name="netbox", rich_help_panel=ROLLOUT)
app.add_typer(server_cli.admin_app, name="server-admin", rich_help_panel=SERVER)
# Top-level commands defined in their own modules: `explore` (explore_cli) and `serve`/`push`/`pull` (server_cli).
for commands, panel in ((explore_cli.app.registered_commands, PLANNING), (server_cli.app.registered_commands, SERVER)):
    for command in commands:
        command.rich_help_panel = panel
    app.registered_commands.extend(commands)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"rackwright {version('rackwright')}", highlight=False)
        raise typer.Exit(EXIT_OK)


@app.callback()
def options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only errors and the result: no notes on files written, no progress."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also print how the result was reached (seeds, solve times) on stderr."
    ),
    no_color: bool = typer.Option(False, "--no-color", help="No colour in the output (also when NO_COLOR is set)."),
):
    """Co-design, evaluate and plan AI data-centre rack generations."""
    configure(quiet=quiet, no_color=no_color, verbose=verbose)


def plain_help(group: typer.Typer, done: set[int]) -> None:
    """Help texts are plain text: escape what Rich would read as markup ("[s]", "FIELD[i].name"), once each."""
    subs = [g.typer_instance for g in group.registered_groups if g.typer_instance is not None]
    for info in (group.info, *(sub.info for sub in subs)):
        if isinstance(info.help, str) and id(info) not in done:
            info.help = escape(info.help)
            done.add(id(info))
    for command in group.registered_commands:
        if command.callback is None:
            continue
        if id(command) not in done:
            command.help = escape(command.help or inspect.getdoc(command.callback) or "")
            done.add(id(command))
        for parameter in inspect.signature(command.callback).parameters.values():
            if isinstance(parameter.default, typer.models.ParameterInfo) and id(parameter.default) not in done:
                parameter.default.help = parameter.default.help and escape(parameter.default.help)
                done.add(id(parameter.default))
    for sub in subs:
        plain_help(sub, done)


def _with_delivery(report: Rack) -> Rack:
    """Add what the generation delivers on the reference workloads (rackwright.perf.api.with_delivery)."""
    from ..perf.api import with_delivery

    return with_delivery(report)


def _exit_for(reports: list[Rack]) -> None:
    raise typer.Exit(EXIT_RULES if any(r.errors for r in reports) else EXIT_OK)


@app.command("evaluate", rich_help_panel=RACK)
@guarded
def evaluate_command(
    designs: list[Path] = typer.Argument(..., help="Design YAML files; several are shown side by side."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON: one record per design."),
    delivery: bool = typer.Option(
        True,
        "--delivery/--no-delivery",
        help="Add training days and inference tokens/s per MW on the reference workloads.",
    ),
    only: str | None = only_option("power,thermal,...,delivery,rules"),
    wide: bool = WIDE,
    output: Path | None = output_option(
        "Folder for evaluate.json (the --json document) and report.html (headline figures, budgets against "
        "their ratings, heat paths), made if missing."
    ),
):
    """Evaluate designs: power, cooling, space, weight, network, cabling, compute, cost, US content, reliability."""
    from ..rack.evaluation import evaluate
    from ..report.tables import evaluation_table, table_sections, violations_table

    sections = table_sections(only)
    reports = [evaluate(path) for path in designs]
    if delivery:
        reports = [_with_delivery(report) for report in reports]
    doc = {"designs": [r.to_dict() for r in reports]}
    if output is not None:
        from ..report.rack_pages import evaluate_figure

        write_folder(output, "evaluate", doc, evaluate_figure(reports, delivery))
    if as_json:
        emit(doc)
    else:
        show(evaluation_table(reports, only=sections, wide=wide))
        for report in reports:
            if report.violations:
                show(violations_table(report, wide=wide))
    _exit_for(reports)


@app.command("check", rich_help_panel=RACK)
@guarded
def check_command(
    designs: list[Path] = typer.Argument(..., help="Design YAML files to check against the design rules."),
    as_json: bool = typer.Option(False, "--json", help="Print violations as JSON."),
    wide: bool = WIDE,
    output: Path | None = output_option(
        "Folder for check.json (the --json document) and report.html (rules passed and broken by severity, "
        "every rule's result, the violations), made if missing."
    ),
):
    """Check designs against the design rules; exit 1 if any rule is broken with severity error."""
    from ..rack.evaluation import evaluate
    from ..rack.rule_status import rule_statuses, status_counts
    from ..report.present import rule_counts_text
    from ..report.tables import violations_table

    reports = [evaluate(path) for path in designs]
    statuses = [rule_statuses(r) for r in reports]
    doc = {
        "designs": [
            {
                "file": r.file,
                "name": r.name,
                "violations": [v.as_dict() for v in r.violations],
                "rule_counts": status_counts(rules),
                "rules": rules,
            }
            for r, rules in zip(reports, statuses, strict=True)
        ]
    }
    if output is not None:
        from ..report.rack_pages import check_figure

        write_folder(output, "check", doc, check_figure(reports))
    if as_json:
        emit(doc)
    else:
        for report, rules in zip(reports, statuses, strict=True):
            counts = rule_counts_text(status_counts(rules))
            if report.violations:
                show(violations_table(report, wide=wide))
                out.print(f"{escape(str(report.file))}: {escape(report.name)}: rules {counts}", highlight=False)
            else:
                out.print(
                    f"[green]✓[/green] {escape(str(report.file))}: {escape(report.name)} passes all rules that "
                    f"apply ({counts})",
                    highlight=False,
                )
            absent = [r["code"] for r in rules if r["status"] == "not_applicable"]
            if absent:
                out.print(f"  not applicable: {', '.join(absent)} (--json or -o DIR give the reasons)", highlight=False)
    _exit_for(reports)


@app.command("compare", rich_help_panel=RACK)
@guarded
def compare_command(
    before: Path = typer.Argument(..., help="The reference design."),
    after: Path = typer.Argument(..., help="The design to compare with it."),
    as_json: bool = typer.Option(False, "--json", help="Print the differences as JSON."),
    only: str | None = only_option("fields,power,thermal,...,delivery"),
    wide: bool = WIDE,
    output: Path | None = output_option(
        "Folder for compare.json (the --json document) and report.html (relative change of each figure, "
        "shares in points, the fields that differ), made if missing."
    ),
):
    """Show the fields and evaluated figures that differ between two designs, and their lineage."""
    from ..rack.compare import field_changes, figure_changes
    from ..rack.design import load_design
    from ..rack.evaluation import evaluate
    from ..report.tables import COMPARE_SECTIONS, compare_tables, table_sections

    sections = table_sections(only, COMPARE_SECTIONS)
    da, db = load_design(before), load_design(after)
    ra, rb = _with_delivery(evaluate(da)), _with_delivery(evaluate(db))
    fields = field_changes(da.raw, db.raw)
    figures = figure_changes(ra, rb)
    doc = {
        "before": {"file": ra.file, "name": ra.name, "lineage": ra.lineage},
        "after": {"file": rb.file, "name": rb.name, "lineage": rb.lineage},
        "fields": [{"path": c.path, "before": c.before, "after": c.after} for c in fields],
        "figures": [c.record() for c in figures],
    }
    if output is not None:
        from ..report.rack_pages import compare_figure

        write_folder(output, "compare", doc, compare_figure(ra, rb, fields, figures))
    if as_json:
        emit(doc)
        return
    for report in (ra, rb):
        out.print(f"[bold]{report.name}[/bold]: " + " → ".join(report.lineage))
    show(*compare_tables(fields, figures, only=sections, wide=wide))


FOLDER_OR_SVG = output_folder_or_file(".svg")


@app.command("elevation", rich_help_panel=RACK)
@guarded
def elevation_command(
    design: Path = typer.Argument(..., help="Design YAML file."),
    output: Path | None = output_option(
        "Folder for elevation.svg, elevation.json (what --json prints) and report.html (the drawing in a "
        "page), made if missing; a name ending in .svg writes only that drawing (deprecated).",
        callback=FOLDER_OR_SVG,
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the slots with their unit positions, free units and totals as JSON."
    ),
):
    """Draw the rack's front and rear elevation as SVG: every device to scale and labelled, free units, busbar,
    manifolds and spine at the rear, totals in the title block. Give -o DIR for the drawing, --json for its data,
    or both."""
    from ..rack.evaluation import evaluate
    from ..report.elevation import elevation

    if output is None and not as_json:
        raise InputError.single(
            None, "no output asked for", hint="give -o DIR for the drawing and its page, --json for its data, or both"
        )
    rack = evaluate(design)
    drawing, summary = elevation(rack)
    if output is not None:
        _write_elevation(output, drawing.as_svg(), summary, f"{rack.name}: rack elevation, front and rear")
    if as_json:
        emit(summary)


def _write_elevation(output: Path, svg: str, summary: dict, title: str) -> None:
    """``elevation -o``: the drawing, its data and its page into the folder ``output`` (or, in the older form
    ``-o FILE.svg``, the drawing alone)."""
    from ..report.html import write_drawing_page

    older = older_file(output, ".svg")
    try:
        (output.parent if older else output).mkdir(parents=True, exist_ok=True)
        (output if older else output / "elevation.svg").write_text(svg, encoding="utf-8")
        if not older:
            write_document(output / "elevation.json", summary)
            write_drawing_page(svg, title, output / "report.html")
    except OSError as exc:
        raise InputError.single(str(output), f"cannot write: {exc}", "-o") from None
    written = ("elevation.svg", "elevation.json", "report.html")
    note(f"wrote {output}" if older else "wrote " + ", ".join(str(output / name) for name in written))


@app.command("bom", rich_help_panel=RACK)
@guarded
def bom_command(
    design: Path = typer.Argument(..., help="Design YAML file."),
    racks: int = typer.Option(1, "--racks", min=1, max=MAX_COUNT, help="Racks to build (quantities and totals scale)."),
    by: str = typer.Option("category", "--by", help="Group totals by category, origin, supplier or kind."),
    us_rule: str = typer.Option(
        "own-value", "--us-rule", help="US-content rule: own-value, final-assembly or manufacture."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print lines, totals and US content as JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the exploded lines as CSV."),
    only: str | None = only_option("lines,totals"),
    wide: bool = WIDE,
    output: Path | None = output_option("Folder for bom.json and report.html (cost charts), made if missing."),
):
    """Exploded bill of materials: quantities, unit and extended cost, origin, lead time, totals, US content."""
    from ..rack.bom import GROUPINGS, US_RULES, bom_csv, bom_document, bom_lines
    from ..rack.evaluation import sound_design, sound_model
    from ..report.tables import BOM_SECTIONS, bom_tables, table_sections

    if by not in GROUPINGS:
        raise InputError.single(None, f"cannot group by {by!r}", "--by", f"one of: {', '.join(GROUPINGS)}")
    if us_rule not in US_RULES:
        raise InputError.single(
            None, f"unknown US-content rule {us_rule!r}", "--us-rule", f"one of: {', '.join(US_RULES)}"
        )
    sections = table_sections(only, BOM_SECTIONS)
    model = sound_model(sound_design(design), "the bill of materials")
    if as_csv:
        sys.stdout.write(bom_csv(bom_lines(model, racks, us_rule)))
        return
    doc = bom_document(model, racks, by, us_rule)
    if output is not None:
        from ..report.html import bom_figure

        write_folder(output, "bom", _bom_json(doc, by), bom_figure(doc))
    if as_json:
        emit(_bom_json(doc, by))
        return
    from ..report.present import prices_as_of_text

    show(*bom_tables(doc, by, only=sections, wide=wide))
    out.print(prices_as_of_text(doc["prices_as_of"]), highlight=False)


def _bom_json(doc: dict, by: str) -> dict:
    """The BOM for tools: totals as records whose ``group`` is the value of ``--by``."""
    from ..report.jsonout import records

    return {**doc, "by": by, "totals": records(doc["totals"], "group")}


app.registered_commands.sort(key=lambda command: PANELS.index(command.rich_help_panel))
plain_help(app, set())  # after every command is registered
name_commands(app)


def main() -> None:
    """Console entry point: run the app with exit code 2 for usage errors."""
    app()


if __name__ == "__main__":
    main()
