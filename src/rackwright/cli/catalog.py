"""``rackwright catalog ...``: list and show parts, NetBox device-type export and import."""

from __future__ import annotations

import io
from pathlib import Path

import typer
from ruamel.yaml import YAML

from ..errors import InputError
from .common import WIDE, emit, guarded, note, out, output_option, show, write_folder

app = typer.Typer(
    help="Browse the parts catalog; exchange parts with the NetBox devicetype-library.", no_args_is_help=True
)


def _part(part_id: str):
    from ..catalog import load_catalog

    catalog = load_catalog()
    try:
        return catalog.get(part_id)
    except KeyError as exc:
        raise InputError.single(None, str(exc).strip("\"'"), "ID") from None


@app.command("list")
@guarded
def list_command(
    kind: str | None = typer.Option(None, "--kind", help="Only parts of this kind (e.g. accelerator)."),
    source_quality: str | None = typer.Option(
        None,
        "--source-quality",
        help="Only parts with a source of this quality (primary, secondary, estimate), with what rests on it.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the parts as JSON."),
    wide: bool = WIDE,
    output: Path | None = output_option(
        "Folder for catalog.json (the --json document) and report.html (the kinds with their parts and price "
        "ranges, then the parts grouped by kind), made if missing."
    ),
):
    """List catalog parts (id, kind, manufacturer, model, price, country of manufacture)."""
    from ..catalog import load_catalog
    from ..catalog.schema import SOURCE_QUALITIES
    from ..catalog.specs import KINDS
    from ..report.tables import catalog_table

    if kind is not None and kind not in KINDS:
        raise InputError.single(None, f"unknown kind {kind!r}", "--kind", f"one of: {', '.join(KINDS)}")
    if source_quality is not None and source_quality not in SOURCE_QUALITIES:
        raise InputError.single(
            None,
            f"unknown source quality {source_quality!r}",
            "--source-quality",
            f"one of: {', '.join(SOURCE_QUALITIES)}",
        )
    parts = [p for p in load_catalog() if kind is None or p.kind == kind]
    if source_quality is not None:
        parts = [p for p in parts if p.fields_with_quality(source_quality)]
    doc = {"parts": [p.model_dump(mode="json") for p in parts]}
    if output is not None:
        from ..report.catalog_pages import catalog_page

        write_folder(output, "catalog", doc, catalog_page(parts, kind, source_quality))
    if as_json:
        emit(doc)
    elif source_quality is not None:
        show(_quality_table(parts, source_quality, wide))
    else:
        show(catalog_table(parts, wide=wide))


def _quality_table(parts, quality: str, wide: bool):
    """Parts with a source of ``quality``: the field that rests on it (``specs``: the part's own source) and the
    source's title."""
    from ..report.tables import ID, LABEL, Column, FitTable

    table = FitTable(
        f"Parts with {quality} sources ({len(parts)} parts)",
        [Column("id", ID), Column("kind", ID, drop=1), Column("field", ID, fold=True), Column("source", LABEL)],
        wide=wide,
        hint="--wide shows them; --json lists every source",
    )
    for part in parts:
        for label, source in part.sources:
            if source.source_quality == quality:
                field = "specs" if label == "source" else label.split(".", 1)[1]
                table.add_row(part.id, part.kind, field, source.title)
    return table


@app.command("show")
@guarded
def show_command(
    part_id: str = typer.Argument(..., metavar="ID", help="Part id, e.g. nvidia-b200-gb200."),
    as_json: bool = typer.Option(False, "--json", help="Print the part as JSON."),
    wide: bool = typer.Option(False, "--wide", help="Keep each long text on one line (by default it folds to fit)."),
    output: Path | None = output_option(
        "Folder for part.json (the --json document) and report.html (each figure and what it rests on), "
        "made if missing."
    ),
):
    """Show one part with its specifications, provenance and assumptions (YAML, folded to the terminal's width)."""
    import sys

    from ..report.present import part_shown

    part = _part(part_id)
    doc = {"part": part.model_dump(mode="json")}
    if output is not None:
        from ..report.rack_pages import part_figure

        write_folder(output, "part", doc, part_figure(part))
    if as_json:
        emit(doc)
        return
    shown = part_shown(part.model_dump(mode="json", exclude_defaults=True))
    sys.stdout.write(_folded_yaml(shown, None if wide else out.width))


def _folded_yaml(data, width: int | None) -> str:
    """``data`` as YAML with its long texts folded to ``width`` (None: one line each). ruamel folds at the first
    space past the width it is given, so that width shrinks until every line fits; a line with a URL longer than
    the rest of the line stays whole, as does every word (a number, an id)."""
    yaml = YAML()
    yaml.default_flow_style = False
    for best in range(width, width // 2, -2) if width else [1 << 20]:
        yaml.width = best
        stream = io.StringIO()
        yaml.dump(data, stream)
        text = stream.getvalue()
        if width is None or all(len(line) <= width or "://" in line for line in text.splitlines()):
            break
    return text


@app.command("export-netbox")
@guarded
def export_netbox_command(
    part_id: str = typer.Argument(..., metavar="ID", help="Part id to export."),
    output: Path = output_option("Directory to write <Manufacturer>/<slug>.yaml into.", required=True),
):
    """Write a part as a NetBox devicetype-library YAML file."""
    from ..catalog.netbox import write_devicetype

    try:
        path = write_devicetype(_part(part_id), output)
    except OSError as exc:
        raise InputError.single(str(output), f"cannot write: {exc}") from None
    note(f"wrote {path}")


@app.command("import-netbox")
@guarded
def import_netbox_command(
    file: Path = typer.Argument(..., help="A devicetype-library YAML file."),
    as_json: bool = typer.Option(False, "--json", help="Print the part mapping and missing fields as JSON."),
    output: Path | None = output_option(
        "Folder for import.json (the --json document) and report.html (the part, how its kind was found, what "
        "NetBox carried over and what it still lacks), made if missing."
    ),
):
    """Read a NetBox device type into a catalog part; list the fields NetBox lacks."""
    import sys

    from ..catalog.netbox import from_devicetype, kind_from_comments
    from ..yamlio import read_yaml, to_plain

    devicetype = to_plain(read_yaml(file))
    part, missing = from_devicetype(devicetype, str(file))
    doc = {"part": part, "missing": missing}
    if output is not None:
        from ..report.catalog_pages import import_page

        recorded = kind_from_comments(devicetype.get("comments"))
        found = "recorded in its comments by export-netbox" if recorded else "guessed from its components; check it"
        write_folder(output, "import", doc, import_page(doc, str(file), found))
    if as_json:
        emit(doc)
        return
    YAML().dump({"family": "imported", "parts": [part]}, sys.stdout)
    if missing:
        out.print("[yellow]missing (add before the part can join the catalog):[/yellow] " + ", ".join(missing))
